/* test-mtree.c
 *
 * Copyright 2026 The Iovista authors
 *
 * This program is free software: you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "iov-mtree.h"

static char *
load (const char *name,
      gsize      *length)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "mtree", name, NULL);
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, length, &error);
  g_assert_no_error (error);
  return text;
}

static IovMtree *
parse_file (const char *name)
{
  gsize length;
  g_autofree char *text = load (name, &length);

  return iov_mtree_parse (text, length);
}

static const IovMtreeFlatView *
find_view (const IovMtree *m,
           const char     *as_name,
           const char     *root,
           guint           nth)
{
  for (guint i = 0; i < m->flat_views->len; i++)
    {
      const IovMtreeFlatView *v = g_ptr_array_index (m->flat_views, i);

      for (guint j = 0; j < v->spaces->len; j++)
        {
          const IovMtreeSpace *s = g_ptr_array_index (v->spaces, j);

          if (g_str_equal (s->name, as_name) && g_str_equal (s->root, root))
            {
              if (nth == 0)
                return v;
              nth--;
              break;
            }
        }
    }
  return NULL;
}

static const IovMtreeRange *
range_at (const IovMtreeFlatView *v,
          guint                   i)
{
  g_assert_cmpuint (i, <, v->ranges->len);
  return &g_array_index (v->ranges, IovMtreeRange, i);
}

/* Independent line classification with regular expressions, to check the
 * parser's counts on every fixture. */
typedef struct
{
  guint views;
  guint spaces;
  guint ranges;
  guint other;
} Counts;

static Counts
count_with_regex (const char *text)
{
  g_autoptr(GRegex) view_re = g_regex_new ("^FlatView #[0-9]+\r?$", 0, 0, NULL);
  g_autoptr(GRegex) as_re = g_regex_new ("^ AS \".*\", root: .+\r?$", 0, 0, NULL);
  g_autoptr(GRegex) range_re = g_regex_new ("^  [0-9a-f]{16}-[0-9a-f]{16} \\(prio -?[0-9]+, [a-z/-]+\\): .+\r?$", 0, 0, NULL);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  Counts c = { 0 };

  for (guint i = 0; lines[i]; i++)
    {
      const char *l = lines[i];

      if (l[0] == '\0' || g_str_equal (l, "\r"))
        continue;
      if (g_regex_match (view_re, l, 0, NULL))
        c.views++;
      else if (g_regex_match (as_re, l, 0, NULL))
        c.spaces++;
      else if (g_regex_match (range_re, l, 0, NULL))
        c.ranges++;
      else if (g_str_has_prefix (l, " Root memory region: ") || g_str_has_prefix (l, "  No rendered FlatView"))
        ;
      else
        c.other++;
    }
  return c;
}

static void
test_every_fixture (void)
{
  g_autofree char *dir_path = g_test_build_filename (G_TEST_DIST, "data", "mtree", NULL);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  guint n_files = 0, n_flat = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)))
    {
      gsize length;
      g_autofree char *text = load (name, &length);
      g_autoptr(IovMtree) m = iov_mtree_parse (text, length);
      Counts c = count_with_regex (text);
      guint spaces = 0, ranges = 0;
      gboolean flat = strstr (name, "mtree-f") != NULL;

      g_test_message ("%s: %u views, %u unknown", name, m->flat_views->len, iov_mtree_get_n_unknown (m));
      n_files++;
      g_assert_true (strstr (text, "\r\n") != NULL); /* the fixtures keep QEMU's CRLF */

      for (guint i = 0; i < m->flat_views->len; i++)
        {
          const IovMtreeFlatView *v = g_ptr_array_index (m->flat_views, i);

          spaces += v->spaces->len;
          ranges += v->ranges->len;
          g_assert_cmpint (v->rendered, ==, v->ranges->len > 0);
          for (guint j = 0; j < v->ranges->len; j++)
            {
              const IovMtreeRange *r = range_at (v, j);

              g_assert_cmpuint (r->start, <=, r->end);
              if (j > 0)
                g_assert_cmpuint (range_at (v, j - 1)->end, <, r->start);
              g_assert_nonnull (r->region);
              g_assert_null (strchr (r->region, '@'));
              if (strstr (name, "-f-o"))
                g_assert_true ((r->owner != NULL) != (r->parent != NULL));
              else
                g_assert_true (r->owner == NULL && r->parent == NULL);
            }
        }

      if (flat)
        {
          n_flat++;
          g_assert_cmpuint (m->flat_views->len, ==, c.views);
          g_assert_cmpuint (spaces, ==, c.spaces);
          g_assert_cmpuint (ranges, ==, c.ranges);
          g_assert_cmpuint (iov_mtree_get_n_unknown (m), ==, c.other);
          g_assert_cmpuint (m->flat_views->len, >, 0);
          if (!strstr (name, "-f-d"))
            g_assert_cmpuint (iov_mtree_get_n_unknown (m), ==, 0);
          else
            g_assert_cmpuint (iov_mtree_get_n_unknown (m), >, 0); /* the dispatch tree */
        }
      else
        {
          /* tree view (`info mtree`): not a flat view, every line kept */
          g_assert_cmpuint (m->flat_views->len, ==, 0);
          g_assert_cmpuint (iov_mtree_get_n_unknown (m), ==, c.views + c.spaces + c.ranges + c.other);
          g_assert_cmpuint (iov_mtree_get_n_unknown (m), >, 10);
        }
    }
  g_assert_cmpuint (n_files, ==, 40);
  g_assert_cmpuint (n_flat, ==, 27);
}

/* A FlatView's signature: its spaces and ranges, without the unstable
 * FlatView number. */
static char *
view_signature (const IovMtreeFlatView *v)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < v->spaces->len; i++)
    {
      const IovMtreeSpace *sp = g_ptr_array_index (v->spaces, i);
      g_string_append_printf (s, "%s|%s;", sp->name, sp->root);
    }
  g_string_append_printf (s, "root=%s;", v->root_region ? v->root_region : "-");
  for (guint i = 0; i < v->ranges->len; i++)
    {
      const IovMtreeRange *r = range_at (v, i);
      g_string_append_printf (s, "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x,%d,%s,%s,%" G_GINT64_MODIFIER "x;",
                              r->start, r->end, r->priority, r->kind, r->region, r->offset);
    }
  return g_string_free (s, FALSE);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

static GPtrArray *
signatures (const IovMtree *m)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < m->flat_views->len; i++)
    g_ptr_array_add (out, view_signature (g_ptr_array_index (m->flat_views, i)));
  g_ptr_array_sort (out, compare_strings);
  return out;
}

static void
test_owner_variant_same_ranges (void)
{
  static const char *runs[] = { "amd", "intel-rootport", "intel-strict", "virtio-iommu-vhost-user-nomsi" };
  static const char *moments[] = { "0-start", "1-modules", "2-traffic" };

  for (guint i = 0; i < G_N_ELEMENTS (runs); i++)
    for (guint j = 0; j < G_N_ELEMENTS (moments); j++)
      {
        g_autofree char *f = g_strdup_printf ("%s-mtree-%s-mtree-f.txt", runs[i], moments[j]);
        g_autofree char *fo = g_strdup_printf ("%s-mtree-%s-mtree-f-o.txt", runs[i], moments[j]);
        g_autoptr(IovMtree) a = parse_file (f);
        g_autoptr(IovMtree) b = parse_file (fo);
        g_autoptr(GPtrArray) sa = signatures (a);
        g_autoptr(GPtrArray) sb = signatures (b);

        g_assert_cmpuint (sa->len, ==, sb->len);
        for (guint k = 0; k < sa->len; k++)
          g_assert_cmpstr (g_ptr_array_index (sa, k), ==, g_ptr_array_index (sb, k));
      }
}

static void
check_dmar_split (const IovMtreeFlatView *v,
                  const char             *dmar)
{
  g_autoptr(GArray) notifiers = NULL;
  const IovMtreeRange *r;

  g_assert_nonnull (v);
  g_assert_cmpstr (v->root_region, ==, dmar);
  g_assert_cmpuint (v->ranges->len, ==, 3);
  g_assert_true (iov_mtree_flat_view_has_iommu (v));

  r = range_at (v, 0);
  g_assert_cmphex (r->start, ==, 0);
  g_assert_cmphex (r->end, ==, 0xfedfffff);
  g_assert_cmpstr (r->region, ==, dmar);
  g_assert_cmpstr (r->kind, ==, "i/o");
  g_assert_false (r->has_offset);
  g_assert_cmpint (r->role, ==, IOV_RANGE_ROLE_IOMMU);

  r = range_at (v, 1);
  g_assert_cmphex (r->start, ==, 0xfee00000);
  g_assert_cmphex (r->end, ==, 0xfeefffff);
  g_assert_cmpint (r->priority, ==, 1);
  g_assert_cmpstr (r->region, ==, "vtd-ir");
  g_assert_cmpint (r->role, ==, IOV_RANGE_ROLE_INTERRUPT);

  r = range_at (v, 2);
  g_assert_cmphex (r->start, ==, 0xfef00000);
  g_assert_cmphex (r->end, ==, G_MAXUINT64);
  g_assert_true (r->has_offset);
  g_assert_cmphex (r->offset, ==, 0xfef00000);
  g_assert_cmpint (r->role, ==, IOV_RANGE_ROLE_IOMMU);

  notifiers = iov_mtree_flat_view_notifier_ranges (v);
  g_assert_cmpuint (notifiers->len, ==, 2);
  g_assert_cmphex (g_array_index (notifiers, IovMtreeNotifierRange, 0).start, ==, 0);
  g_assert_cmphex (g_array_index (notifiers, IovMtreeNotifierRange, 0).end, ==, 0xfedfffff);
  g_assert_cmphex (g_array_index (notifiers, IovMtreeNotifierRange, 1).start, ==, 0xfef00000);
  g_assert_cmphex (g_array_index (notifiers, IovMtreeNotifierRange, 1).end, ==, G_MAXUINT64);
  g_assert_cmpstr (g_array_index (notifiers, IovMtreeNotifierRange, 1).region, ==, dmar);
}

static void
test_intel_dmar_enable (void)
{
  g_autoptr(IovMtree) before = parse_file ("intel-strict-mtree-0-start-mtree-f.txt");
  g_autoptr(IovMtree) after = parse_file ("intel-strict-mtree-1-modules-mtree-f.txt");
  const IovMtreeFlatView *v;
  gboolean saw_ir = FALSE;

  /* Before: one shared FlatView rooted at vtd-nodmar for every vtd-root. */
  v = find_view (before, "vtd-root", "vtd-01.0", 0);
  g_assert_nonnull (v);
  g_assert_true (v == find_view (before, "vtd-root", "vtd-02.0", 0));
  g_assert_true (v == find_view (before, "vtd-root", "vtd-1f.3", 0));
  g_assert_cmpstr (v->root_region, ==, "vtd-nodmar");
  g_assert_false (iov_mtree_flat_view_has_iommu (v));
  for (guint i = 0; i < v->ranges->len; i++)
    {
      const IovMtreeRange *r = range_at (v, i);

      if (g_str_equal (r->region, "vtd-ir"))
        {
          saw_ir = TRUE;
          g_assert_cmpint (r->role, ==, IOV_RANGE_ROLE_INTERRUPT);
          g_assert_cmphex (r->start, ==, 0xfee00000);
        }
      else
        g_assert_cmpint (r->role, ==, IOV_RANGE_ROLE_PASSTHROUGH);
    }
  g_assert_true (saw_ir);
  /* bus mastering is still off: the bus-master AS renders nothing */
  g_assert_false (find_view (before, "virtio-net-pci", "bus master container", 0)->rendered);

  /* After: each device has its own FlatView split by the IR window, and the
   * bus-master AS shares it. */
  v = find_view (after, "vtd-root", "vtd-01.0", 0);
  check_dmar_split (v, "vtd-01.0-dmar");
  g_assert_true (v == find_view (after, "virtio-net-pci", "bus master container", 0));
  g_assert_cmpuint (v->spaces->len, ==, 2);
  g_assert_cmpstr (((IovMtreeSpace *) g_ptr_array_index (v->spaces, 0))->name, ==, "virtio-net-pci");
  check_dmar_split (find_view (after, "vtd-root", "vtd-02.0", 0), "vtd-02.0-dmar");

  /* The memory view is classified by kind. */
  v = find_view (after, "memory", "system", 0);
  g_assert_nonnull (v);
  g_assert_cmpint (range_at (v, 0)->role, ==, IOV_RANGE_ROLE_RAM);
  g_assert_cmpint (range_at (v, 1)->role, ==, IOV_RANGE_ROLE_ROM);
  g_assert_cmphex (range_at (v, 1)->offset, ==, 0xc3000);
  g_assert_false (iov_mtree_flat_view_has_iommu (v));
}

static void
test_rootport_same_names (void)
{
  g_autoptr(IovMtree) m = parse_file ("intel-rootport-mtree-1-modules-mtree-f.txt");
  const IovMtreeFlatView *v[3];

  for (guint i = 0; i < 3; i++)
    {
      v[i] = find_view (m, "vtd-root", "vtd-00.0", i);
      check_dmar_split (v[i], "vtd-00.0-dmar");
    }
  g_assert_null (find_view (m, "vtd-root", "vtd-00.0", 3));
  g_assert_true (v[0] != v[1] && v[1] != v[2] && v[0] != v[2]);
  /* exactly two of them carry a bus-master AS (virtio-net and rng). */
  g_assert_nonnull (find_view (m, "virtio-net-pci", "bus master container", 0));
  g_assert_nonnull (find_view (m, "virtio-rng-pci", "bus master container", 0));
  g_assert_true (find_view (m, "virtio-net-pci", "bus master container", 0) !=
                 find_view (m, "virtio-rng-pci", "bus master container", 0));
}

static void
test_amd (void)
{
  g_autoptr(IovMtree) m = parse_file ("amd-mtree-0-start-mtree-f.txt");
  const IovMtreeFlatView *v = find_view (m, "amd_iommu_devfn_16", "amdvi_root", 0);
  g_autoptr(GArray) n = NULL;

  g_assert_nonnull (v);
  g_assert_cmpuint (v->ranges->len, ==, 3);
  g_assert_cmpint (range_at (v, 0)->role, ==, IOV_RANGE_ROLE_IOMMU);
  g_assert_cmpint (range_at (v, 0)->priority, ==, 1);
  g_assert_cmpint (range_at (v, 1)->role, ==, IOV_RANGE_ROLE_INTERRUPT);
  g_assert_cmpint (range_at (v, 1)->priority, ==, 64);
  g_assert_cmpstr (range_at (v, 1)->region, ==, "amd_iommu_ir");
  n = iov_mtree_flat_view_notifier_ranges (v);
  g_assert_cmpuint (n->len, ==, 2);

  v = find_view (m, "mch", "bus master container", 0);
  g_assert_nonnull (v);
  g_assert_false (v->rendered);
  g_assert_null (v->root_region);
  g_assert_cmpuint (v->ranges->len, ==, 0);
}

static void
test_virtio_iommu (void)
{
  g_autoptr(IovMtree) m = parse_file ("virtio-iommu-vhost-user-nomsi-mtree-1-modules-mtree-f.txt");
  const IovMtreeFlatView *v = find_view (m, "virtio-iommu-device", "virtio-iommu-memory-region-2-16", 0);
  g_autoptr(GArray) n = NULL;

  g_assert_nonnull (v);
  g_assert_cmpuint (v->ranges->len, ==, 1);
  g_assert_cmphex (range_at (v, 0)->start, ==, 0);
  g_assert_cmphex (range_at (v, 0)->end, ==, G_MAXUINT64);
  g_assert_cmpint (range_at (v, 0)->role, ==, IOV_RANGE_ROLE_IOMMU);
  n = iov_mtree_flat_view_notifier_ranges (v);
  g_assert_cmpuint (n->len, ==, 1);
  g_assert_cmphex (g_array_index (n, IovMtreeNotifierRange, 0).end, ==, G_MAXUINT64);

  /* bypassed endpoints share the system FlatView */
  g_assert_true (find_view (m, "virtio-iommu-device", "virtio-iommu-memory-region-1-8", 0) ==
                 find_view (m, "memory", "system", 0));
}

static void
test_variants (void)
{
  const char *text =
    "AS \"orphan\", root: x\n"
    "FlatView #0\n"
    " AS \"memory\", root: system\n"
    " AS \"cpu-memory-0\", root: my alias, alias system\n"
    " Root memory region: system\n"
    "  0000000000000000-000000000009ffff (prio 0, ram): pc.ram KVM\n"
    "  00000000000a0000-00000000000bffff (prio -1, nv-ram): nvdimm @0000000000001000 KVM owner:{obj path=/objects/mem}\n"
    "  00000000000c0000-00000000000c0fff (prio 0, romd): bus master container\n"
    "  00000000000c1000-00000000000c1fff (prio 0, ramd): vfio-region @00000000000000ff\n"
    "  something a future QEMU prints\n"
    "\n"
    "FlatView #1\r\n"
    "│ AS \"vtd-root\", root: vtd-03.0\r\n"
    "│ Root memory region: vtd-03.0-dmar\r\n"
    "├─ 0000000000000000-ffffffffffffffff (prio 0, i/o): vtd-03.0-dmar\r\n"
    "└─ 00000000fee00000-00000000feefffff (prio 2, i/o): vtd-no-ir\r\n"
    "  0000-zzzz (prio 0, i/o): broken";
  g_autoptr(IovMtree) m = iov_mtree_parse (text, -1);
  const IovMtreeFlatView *v;
  const IovMtreeSpace *s;

  g_assert_cmpuint (m->flat_views->len, ==, 2);
  v = g_ptr_array_index (m->flat_views, 0);
  g_assert_cmpuint (v->spaces->len, ==, 2);
  s = g_ptr_array_index (v->spaces, 1);
  g_assert_cmpstr (s->root, ==, "my alias");
  g_assert_cmpstr (s->alias, ==, "system");
  g_assert_cmpuint (v->ranges->len, ==, 4);
  g_assert_cmpstr (range_at (v, 0)->accel, ==, "KVM");
  g_assert_cmpstr (range_at (v, 0)->region, ==, "pc.ram");
  g_assert_cmpint (range_at (v, 0)->role, ==, IOV_RANGE_ROLE_RAM);
  g_assert_cmpint (range_at (v, 1)->priority, ==, -1);
  g_assert_cmpstr (range_at (v, 1)->region, ==, "nvdimm");
  g_assert_cmphex (range_at (v, 1)->offset, ==, 0x1000);
  g_assert_cmpstr (range_at (v, 1)->owner, ==, "obj path=/objects/mem");
  g_assert_cmpint (range_at (v, 1)->role, ==, IOV_RANGE_ROLE_RAM);
  g_assert_cmpstr (range_at (v, 2)->region, ==, "bus master container");
  g_assert_cmpint (range_at (v, 2)->role, ==, IOV_RANGE_ROLE_ROM);
  g_assert_cmphex (range_at (v, 3)->offset, ==, 0xff);

  v = g_ptr_array_index (m->flat_views, 1);
  g_assert_cmpuint (v->spaces->len, ==, 1);
  g_assert_cmpstr (v->root_region, ==, "vtd-03.0-dmar");
  g_assert_cmpuint (v->ranges->len, ==, 2);
  g_assert_cmpint (range_at (v, 0)->role, ==, IOV_RANGE_ROLE_IOMMU);
  g_assert_cmpint (range_at (v, 1)->role, ==, IOV_RANGE_ROLE_INTERRUPT);

  g_assert_cmpuint (iov_mtree_get_n_unknown (m), ==, 3);
  g_assert_cmpstr (g_ptr_array_index (m->unknown_lines, 0), ==, "AS \"orphan\", root: x");
  g_assert_cmpstr (g_ptr_array_index (m->unknown_lines, 1), ==, "  something a future QEMU prints");
  g_assert_cmpstr (g_ptr_array_index (m->unknown_lines, 2), ==, "  0000-zzzz (prio 0, i/o): broken");
}

static void
test_empty_and_garbage (void)
{
  g_autoptr(IovMtree) empty = iov_mtree_parse ("", 0);
  g_autoptr(IovMtree) garbage = iov_mtree_parse ("\x01\x02 not mtree\n\xff\xfe\n(prio 0, i/o):\n", -1);

  g_assert_cmpuint (empty->flat_views->len, ==, 0);
  g_assert_cmpuint (iov_mtree_get_n_unknown (empty), ==, 0);
  g_assert_cmpuint (garbage->flat_views->len, ==, 0);
  g_assert_cmpuint (iov_mtree_get_n_unknown (garbage), ==, 3);
}

static void
test_classify (void)
{
  g_assert_cmpint (iov_mtree_classify ("vtd-1f.2-dmar", "i/o", "vtd-1f.2-dmar"), ==, IOV_RANGE_ROLE_IOMMU);
  g_assert_cmpint (iov_mtree_classify ("smmuv3-iommu-memory-region-0-8", "i/o", NULL), ==, IOV_RANGE_ROLE_IOMMU);
  g_assert_cmpint (iov_mtree_classify ("amdvi-ir", "i/o", NULL), ==, IOV_RANGE_ROLE_INTERRUPT);
  g_assert_cmpint (iov_mtree_classify ("pc.ram", "ram", "vtd-nodmar"), ==, IOV_RANGE_ROLE_PASSTHROUGH);
  g_assert_cmpint (iov_mtree_classify ("pc.bios", "rom", "system"), ==, IOV_RANGE_ROLE_ROM);
  g_assert_cmpint (iov_mtree_classify ("apic-msi", "i/o", "system"), ==, IOV_RANGE_ROLE_IO);
  g_assert_cmpstr (iov_range_role_to_string (IOV_RANGE_ROLE_PASSTHROUGH), ==, "passthrough");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mtree/fixtures/every-file", test_every_fixture);
  g_test_add_func ("/mtree/fixtures/owner-variant", test_owner_variant_same_ranges);
  g_test_add_func ("/mtree/fixtures/intel-dmar-enable", test_intel_dmar_enable);
  g_test_add_func ("/mtree/fixtures/rootport-same-names", test_rootport_same_names);
  g_test_add_func ("/mtree/fixtures/amd", test_amd);
  g_test_add_func ("/mtree/fixtures/virtio-iommu", test_virtio_iommu);
  g_test_add_func ("/mtree/variants", test_variants);
  g_test_add_func ("/mtree/empty-and-garbage", test_empty_and_garbage);
  g_test_add_func ("/mtree/classify", test_classify);

  return g_test_run ();
}
