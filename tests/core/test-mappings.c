/* test-mappings.c — IOVA mappings at an instant, on real captures (issue L)
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

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "iov-trace-document.h"
#include "test-traffic-util.h"
#include "../cli/test-cli-util.h"

/* The mappings the index gives at an instant equal a replay, written here,
 * of the map and unmap lines of the raw text up to that instant: QEMU's
 * rules (hw/virtio/virtio-iommu.c) for virtio-iommu, its IOVA tree's for
 * VT-d's page walks (QEMU 5.2). */

typedef struct
{
  char    domain[24];
  guint64 start, end, phys;
  guint   flags;
  guint   refs;      /* VT-d: address spaces that walked it */
} Range;

typedef struct
{
  GArray     *ranges;   /* Range */
  GHashTable *freed;    /* domain label → itself */
} Replay;

static void
replay_init (Replay *r)
{
  r->ranges = g_array_new (FALSE, FALSE, sizeof (Range));
  r->freed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
replay_clear (Replay *r)
{
  g_array_unref (r->ranges);
  g_hash_table_unref (r->freed);
}

static void
replay_map (Replay     *r,
            const char *domain,
            guint64     start,
            guint64     end,
            guint64     phys,
            guint       flags)
{
  Range m = { "", start, end, phys, flags, 1 };

  if (g_hash_table_contains (r->freed, domain))
    return;
  for (guint i = 0; i < r->ranges->len; i++)
    {
      Range *o = &g_array_index (r->ranges, Range, i);

      if (g_str_equal (o->domain, domain) && o->start <= end && start <= o->end)
        {
          /* VT-d (domain "0x…"): another device of the domain walked the
           * same page */
          if (g_str_has_prefix (domain, "0x") && o->start == start && o->end == end && o->phys == phys &&
              o->flags == flags)
            o->refs++;
          return;   /* else refused */
        }
    }
  g_strlcpy (m.domain, domain, sizeof m.domain);
  g_array_append_val (r->ranges, m);
}

/* Removes the ranges of @domain inside [start, end] (@inside) or that
 * overlap it; asserts that virtio-iommu's never overlap it in part. */
static void
replay_unmap (Replay     *r,
              const char *domain,
              guint64     start,
              guint64     end,
              gboolean    inside)
{
  for (guint i = r->ranges->len; i-- > 0;)
    {
      const Range *o = &g_array_index (r->ranges, Range, i);

      if (!g_str_equal (o->domain, domain) || o->end < start || o->start > end)
        continue;
      if (inside)
        g_assert_true (o->start >= start && o->end <= end);
      if (inside || --g_array_index (r->ranges, Range, i).refs == 0)
        g_array_remove_index (r->ranges, i);
    }
}

static void
replay_free_domain (Replay     *r,
                    const char *domain)
{
  replay_unmap (r, domain, 0, G_MAXUINT64, TRUE);
  g_hash_table_add (r->freed, g_strdup (domain));
}

/* One raw line; its time in @ts_ns, FALSE for lines without one. */
static gboolean
replay_line (Replay     *r,
             const char *line,
             guint64    *ts_ns)
{
  unsigned tid, usec, dom, flags;
  unsigned long long sec, s, e, p, mask;
  int n = 0, perm;
  char label[24];
  const char *body;

  if (sscanf (line, "%u@%llu.%u:%n", &tid, &sec, &usec, &n) != 3 || n == 0)
    return FALSE;
  *ts_ns = sec * 1000000000ull + usec * 1000ull;
  body = line + n;
  if (sscanf (body, "virtio_iommu_map domain=%u virt_start=0x%llx virt_end=0x%llx phys_start=0x%llx flags=%u",
              &dom, &s, &e, &p, &flags) == 5)
    {
      g_snprintf (label, sizeof label, "%u", dom);
      replay_map (r, label, s, e, p, flags);
    }
  else if (sscanf (body, "virtio_iommu_unmap domain=%u virt_start=0x%llx virt_end=0x%llx", &dom, &s, &e) == 3)
    {
      g_snprintf (label, sizeof label, "%u", dom);
      replay_unmap (r, label, s, e, TRUE);
    }
  else if (sscanf (body, "virtio_iommu_put_domain Free domain=%u", &dom) == 1)
    {
      g_snprintf (label, sizeof label, "%u", dom);
      replay_free_domain (r, label);
    }
  else if (sscanf (body, "virtio_iommu_attach domain=%u", &dom) == 1 ||
           sscanf (body, "virtio_iommu_get_domain Alloc domain=%u", &dom) == 1)
    {
      g_snprintf (label, sizeof label, "%u", dom);
      g_hash_table_remove (r->freed, label);
    }
  else if (g_str_has_prefix (body, "virtio_iommu_device_reset"))
    {
      g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_free);

      for (guint i = 0; i < r->ranges->len; i++)
        g_ptr_array_add (all, g_strdup (g_array_index (r->ranges, Range, i).domain));
      for (guint i = 0; i < all->len; i++)
        replay_free_domain (r, g_ptr_array_index (all, i));
    }
  else if (sscanf (body, "vtd_page_walk_one domain %23s iova 0x%llx -> gpa 0x%llx mask 0x%llx perm %d",
                   label, &s, &p, &mask, &perm) == 5)
    {
      if (perm != 0)
        replay_map (r, label, s, s + mask, p, (guint) perm);
      else
        replay_unmap (r, label, s, s + mask, FALSE);
    }
  return TRUE;
}

static int
compare_ranges (gconstpointer a,
                gconstpointer b)
{
  const Range *x = a, *y = b;
  guint64 dx = g_ascii_strtoull (x->domain, NULL, 0), dy = g_ascii_strtoull (y->domain, NULL, 0);

  if (dx != dy)
    return dx < dy ? -1 : 1;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  return 0;
}

static void
assert_same (IovMappings *index,
             GArray      *got,
             GArray      *ranges)
{
  g_autoptr(GArray) want = g_array_copy (ranges);

  g_array_sort (want, compare_ranges);
  g_assert_cmpuint (got->len, ==, want->len);
  for (guint i = 0; i < got->len; i++)
    {
      const IovMapping *m = &g_array_index (got, IovMapping, i);
      const Range *w = &g_array_index (want, Range, i);

      g_assert_cmpstr (iov_mappings_get_domain_label (index, m->domain), ==, w->domain);
      g_assert_cmpuint (m->start, ==, w->start);
      g_assert_cmpuint (m->end, ==, w->end);
      g_assert_cmpuint (m->phys, ==, w->phys);
      g_assert_cmpuint (m->flags, ==, w->flags);
    }
}

static int
compare_whole (gconstpointer a,
               gconstpointer b)
{
  const Range *x = a, *y = b;
  int c = compare_ranges (a, b);

  if (c != 0)
    return c;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  if (x->phys != y->phys)
    return x->phys < y->phys ? -1 : 1;
  return x->flags < y->flags ? -1 : x->flags > y->flags;
}

/* @a minus @b */
static GArray *
minus (GArray *a,
       GArray *b)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (Range));
  g_autoptr(GArray) x = g_array_copy (a);
  g_autoptr(GArray) y = g_array_copy (b);
  guint j = 0;

  g_array_sort (x, compare_whole);
  g_array_sort (y, compare_whole);
  for (guint i = 0; i < x->len; i++)
    {
      while (j < y->len && compare_whole (&g_array_index (y, Range, j), &g_array_index (x, Range, i)) < 0)
        j++;
      if (j == y->len || compare_whole (&g_array_index (y, Range, j), &g_array_index (x, Range, i)) != 0)
        g_array_append_val (out, g_array_index (x, Range, i));
    }
  return out;
}

/* Replays @trace to each of @instants (absolute ns, sorted) and compares
 * the index's answer there, and the diff between consecutive instants.
 * Returns the number of ranges seen at the instants. */
static guint64
check_instants (const char  *trace,
                IovMappings *index,
                GArray      *instants)
{
  g_auto(GStrv) lines = test_split_lines (trace);
  g_autoptr(GPtrArray) states = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  guint64 seen = 0, last = 0;
  Replay r;
  guint li = 0;

  replay_init (&r);
  for (guint k = 0; k < instants->len; k++)
    {
      guint64 t = g_array_index (instants, guint64, k);
      g_autoptr(GArray) got = NULL;

      for (; lines[li] != NULL; li++)
        {
          unsigned long long sec;
          unsigned usec;
          guint64 ts;

          /* map and unmap lines come in time order (one thread serves
           * virtio-iommu's queue, and QEMU's walks): the first one past
           * the instant ends it */
          if ((strstr (lines[li], ":virtio_iommu_") || strstr (lines[li], ":vtd_page_walk_one ")) &&
              sscanf (lines[li], "%*u@%llu.%u:", &sec, &usec) == 2)
            {
              ts = sec * 1000000000ull + usec * 1000ull;
              g_assert_cmpuint (ts, >=, last);
              last = ts;
              if (ts > t)
                break;
            }
          replay_line (&r, lines[li], &ts);
        }
      got = iov_mappings_at (index, t);
      assert_same (index, got, r.ranges);
      seen += got->len;
      g_ptr_array_add (states, g_array_copy (r.ranges));

      if (k > 0)
        {
          g_autoptr(GArray) added = NULL;
          g_autoptr(GArray) removed = NULL;
          g_autoptr(GArray) want_added = minus (r.ranges, g_ptr_array_index (states, k - 1));
          g_autoptr(GArray) want_removed = minus (g_ptr_array_index (states, k - 1), r.ranges);

          iov_mappings_diff (index, g_array_index (instants, guint64, k - 1), t, &added, &removed);
          assert_same (index, added, want_added);
          assert_same (index, removed, want_removed);
        }
      /* and from the first instant, backwards too: long spans, which the
       * index answers from both ends rather than from the changes */
      if (k > 0)
        {
          g_autoptr(GArray) added = NULL;
          g_autoptr(GArray) removed = NULL;
          g_autoptr(GArray) want_added = minus (r.ranges, g_ptr_array_index (states, 0));
          g_autoptr(GArray) want_removed = minus (g_ptr_array_index (states, 0), r.ranges);

          iov_mappings_diff (index, t, g_array_index (instants, guint64, 0), &removed, &added);
          assert_same (index, added, want_added);
          assert_same (index, removed, want_removed);
        }
    }
  replay_clear (&r);
  return seen;
}

/* The instants to look at: seconds from the first event, and the time of
 * every @every-th map or unmap line and a microsecond before it. */
static GArray *
instants_of (const char    *trace,
             const double  *seconds,
             guint          n_seconds,
             guint          every,
             guint64       *origin)
{
  g_auto(GStrv) lines = test_split_lines (trace);
  GArray *out = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint n = 0;

  *origin = 0;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      unsigned long long sec;
      unsigned usec;
      guint64 ts;

      if (sscanf (lines[i], "%*u@%llu.%u:", &sec, &usec) != 2)
        continue;
      ts = sec * 1000000000ull + usec * 1000ull;
      if (*origin == 0)
        *origin = ts;
      if ((strstr (lines[i], ":virtio_iommu_map ") || strstr (lines[i], ":virtio_iommu_unmap ") ||
           strstr (lines[i], ":vtd_page_walk_one ")) && n++ % every == 0)
        {
          guint64 before = ts - 1000;

          g_array_append_val (out, ts);
          g_array_append_val (out, before);
        }
    }
  for (guint i = 0; i < n_seconds; i++)
    {
      guint64 t = *origin + (guint64) (seconds[i] * 1e9);

      g_array_append_val (out, t);
    }
  g_array_sort (out, test_compare_u64);
  return out;
}

/* virtio-iommu with vhost-user: 1,064 maps and 818 unmaps over ~22 s; the
 * guest's reset at the end frees every domain. */
static void
test_virtio_iommu_capture (void)
{
  static const double seconds[] = { 0, 5, 6, 6.25, 6.5, 7, 8, 10, 12.5, 15, 20, 21.9, 22.04, 22.05, 30 };
  g_autofree char *trace = test_capture ("qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.log.xz");
  g_autoptr(IovTraceDocument) doc = NULL;
  g_autoptr(GArray) instants = NULL;
  g_autoptr(GArray) at_end = NULL;
  IovMappings *index;
  guint64 origin, seen;

  if (trace == NULL)
    return;
  doc = test_read_document (trace, NULL);
  index = iov_trace_document_get_mappings (doc);
  g_assert_cmpuint (iov_mappings_get_n_events (index), ==, 1064 + 818);
  instants = instants_of (trace, seconds, G_N_ELEMENTS (seconds), 37, &origin);
  g_assert_cmpuint (origin, ==, iov_trace_document_get_stats (doc)->first_sec * 1000000000ull +
                                iov_trace_document_get_stats (doc)->first_usec * 1000ull);
  seen = check_instants (trace, index, instants);
  g_test_message ("%u instants, %" G_GUINT64_FORMAT " ranges compared", instants->len, seen);
  g_assert_cmpuint (seen, >, 1000);
  /* after the reset, nothing */
  at_end = iov_mappings_at (index, G_MAXUINT64);
  g_assert_cmpuint (at_end->len, ==, 0);
}

/* Which domain each endpoint is in, at the time of every attach, detach,
 * put_domain or reset line and a microsecond before it, as the test reads
 * those lines itself: 16 (00:02.0), 24 and 0 attach at boot, the reset
 * frees all. */
static void
test_endpoint_domains (void)
{
  static const guint32 endpoints[] = { 16, 24, 0, 8 };
  g_autofree char *trace = test_capture ("qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.log.xz");
  g_auto(GStrv) lines = NULL;
  g_autoptr(IovTraceDocument) doc = NULL;
  g_autoptr(GHashTable) in = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  IovMappings *index;
  guint n_checked = 0, n_in = 0;

  if (trace == NULL)
    return;
  doc = test_read_document (trace, NULL);
  index = iov_trace_document_get_mappings (doc);
  lines = test_split_lines (trace);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      unsigned tid, usec, dom, ep;
      unsigned long long sec;
      int n = 0;
      const char *body;
      guint64 ts;

      if (sscanf (lines[i], "%u@%llu.%u:%n", &tid, &sec, &usec, &n) != 3 || n == 0)
        continue;
      body = lines[i] + n;
      ts = sec * 1000000000ull + usec * 1000ull;
      /* before the line: as the lines before left it */
      for (guint k = 0; k < G_N_ELEMENTS (endpoints) && g_str_has_prefix (body, "virtio_iommu_"); k++)
        {
          const char *want = g_hash_table_lookup (in, GUINT_TO_POINTER (endpoints[k] + 1));
          guint32 domain;
          gboolean has = iov_mappings_domain_of_endpoint (index, endpoints[k], ts - 1000, &domain);

          if (want == NULL)
            g_assert_false (has);
          else
            {
              g_assert_true (has);
              g_assert_cmpstr (iov_mappings_get_domain_label (index, domain), ==, want);
              n_in++;
            }
          n_checked++;
        }
      if (sscanf (body, "virtio_iommu_attach domain=%u endpoint=%u", &dom, &ep) == 2)
        g_hash_table_insert (in, GUINT_TO_POINTER (ep + 1), g_strdup_printf ("%u", dom));
      else if (sscanf (body, "virtio_iommu_detach domain=%u endpoint=%u", &dom, &ep) == 2)
        g_hash_table_remove (in, GUINT_TO_POINTER (ep + 1));
      else if (sscanf (body, "virtio_iommu_put_domain Free domain=%u", &dom) == 1)
        {
          g_autofree char *label = g_strdup_printf ("%u", dom);
          GHashTableIter iter;
          gpointer value;

          g_hash_table_iter_init (&iter, in);
          while (g_hash_table_iter_next (&iter, NULL, &value))
            if (g_str_equal (value, label))
              g_hash_table_iter_remove (&iter);
        }
      else if (g_str_has_prefix (body, "virtio_iommu_device_reset"))
        g_hash_table_remove_all (in);
    }
  g_test_message ("%u checks, %u of them in a domain", n_checked, n_in);
  g_assert_cmpuint (n_in, >, 1000);
  g_assert_cmpuint (n_checked, >, n_in);
  /* at the end: in none */
  g_assert_false (iov_mappings_domain_of_endpoint (index, 16, G_MAXUINT64, NULL));
}

/* QEMU 5.2 walks the guest's tables for vhost's MAP notifier: 12,288
 * vtd_page_walk_one lines, the same 4,096 pages of domain 0x5 walked for
 * each of its three devices (00:1f.0, .2, .3). */
static void
test_vtd_walk_capture (void)
{
  static const double seconds[] = { 0, 3.1, 3.2, 10 };
  g_autofree char *trace = test_capture ("qemu-versions/5.2/vhu-cm-on-strict.log.xz");
  g_autoptr(IovTraceDocument) doc = NULL;
  g_autoptr(GArray) instants = NULL;
  g_autoptr(GArray) at_end = NULL;
  guint64 origin;

  if (trace == NULL)
    return;
  doc = test_read_document (trace, NULL);
  instants = instants_of (trace, seconds, G_N_ELEMENTS (seconds), 1500, &origin);
  check_instants (trace, iov_trace_document_get_mappings (doc), instants);
  at_end = iov_mappings_at (iov_trace_document_get_mappings (doc), G_MAXUINT64);
  g_assert_cmpuint (at_end->len, ==, 4096);
  g_assert_cmpstr (iov_mappings_get_domain_label (iov_trace_document_get_mappings (doc),
                                                  g_array_index (at_end, IovMapping, 0).domain), ==, "0x5");
}

static void
feed_line (const IovTraceLine *line,
           gpointer            index)
{
  iov_mappings_feed (index, line);
}

static IovMappings *
feed_text (const char *text)
{
  IovMappings *index = iov_mappings_new ();

  test_each_line (text, feed_line, index);
  return index;
}

static guint
n_at (IovMappings *index,
      guint64      sec)
{
  g_autoptr(GArray) at = iov_mappings_at (index, sec * 1000000000ull);

  return at->len;
}

/* QEMU's refusals and the unmap that covers a mapping in part. */
static void
test_rules (void)
{
  static const char trace[] =
    "1@1.000000:virtio_iommu_map domain=1 virt_start=0x1000 virt_end=0x2fff phys_start=0xa000 flags=3\n"
    "1@2.000000:virtio_iommu_map domain=1 virt_start=0x2000 virt_end=0x3fff phys_start=0xb000 flags=3\n"  /* overlaps */
    "1@3.000000:virtio_iommu_map domain=1 virt_start=0x4000 virt_end=0x4fff phys_start=0xc000 flags=1\n"
    "1@4.000000:virtio_iommu_unmap domain=1 virt_start=0x0 virt_end=0x1fff\n"                             /* in part */
    "1@5.000000:virtio_iommu_unmap domain=1 virt_start=0x3000 virt_end=0x4fff\n"
    "1@5.000000:virtio_iommu_unmap_done domain=1 virt_start=0x4000 virt_end=0x4fff\n"
    "1@6.000000:virtio_iommu_put_domain Free domain=1\n"
    "1@7.000000:virtio_iommu_map domain=1 virt_start=0x1000 virt_end=0x1fff phys_start=0xa000 flags=3\n"  /* freed */
    "1@8.000000:virtio_iommu_attach domain=1 endpoint=8\n"
    "1@9.000000:virtio_iommu_map domain=1 virt_start=0x1000 virt_end=0x1fff phys_start=0xa000 flags=3\n"
    "1@10.000000:vtd_page_walk_one domain 0x2 iova 0x0 -> gpa 0x0 mask 0xfff perm 3\n"
    "1@10.000000:vtd_page_walk_one domain 0x2 iova 0x1000 -> gpa 0x1000 mask 0xfff perm 3\n"
    "1@11.000000:vtd_page_walk_one domain 0x2 iova 0x0 -> gpa 0x0 mask 0x1fffff perm 0\n"                 /* overlaps both */
    "1@12.000000:virtio_iommu_device_reset reset!\n";
  g_autoptr(IovMappings) index = feed_text (trace);
  g_autoptr(GPtrArray) notes = iov_mappings_get_notes (index);
  g_autoptr(GArray) at = iov_mappings_at (index, 3 * 1000000000ull);
  g_autoptr(GArray) added = NULL;
  g_autoptr(GArray) removed = NULL;

  g_assert_cmpuint (at->len, ==, 2);
  g_assert_cmpuint (g_array_index (at, IovMapping, 1).flags, ==, 1);
  g_assert_cmpuint (n_at (index, 4), ==, 2);     /* the partial unmap: QEMU stops, nothing done says otherwise */
  g_assert_cmpuint (n_at (index, 5), ==, 1);
  g_assert_cmpuint (n_at (index, 6), ==, 0);
  g_assert_cmpuint (n_at (index, 7), ==, 0);
  g_assert_cmpuint (n_at (index, 9), ==, 1);
  g_assert_cmpuint (n_at (index, 10), ==, 3);
  g_assert_cmpuint (n_at (index, 11), ==, 1);
  g_assert_cmpuint (n_at (index, 12), ==, 0);
  g_assert_cmpuint (n_at (index, 0), ==, 0);

  iov_mappings_diff (index, 3 * 1000000000ull, 9 * 1000000000ull, &added, &removed);
  g_assert_cmpuint (added->len, ==, 1);
  g_assert_cmpuint (g_array_index (added, IovMapping, 0).end, ==, 0x1fff);
  g_assert_cmpuint (removed->len, ==, 2);
  /* refused maps and the partial unmap are said, and what VT-d's walks
   * say of domains */
  g_assert_cmpuint (notes->len, ==, 3);
  g_assert_nonnull (strstr (g_ptr_array_index (notes, 2), "QEMU 5.2 prints the number in decimal"));
}

/* Many changes: checkpoints, and a query replays only a tail. A random
 * walk of maps and unmaps in four domains against the replay. */
static void
test_checkpoints (void)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (16);
  g_autoptr(IovTraceDocument) doc = NULL;
  g_autoptr(GArray) instants = NULL;
  guint64 origin;

  /* mappings never cross a 4-page block, unmaps cover whole blocks: no
   * unmap cuts a mapping */
  for (guint i = 0; i < 30000; i++)
    {
      guint dom = g_rand_int_range (rand, 0, 4);
      guint64 block = g_rand_int_range (rand, 0, 1000);
      guint64 first = g_rand_int_range (rand, 0, 4);
      guint64 pages = g_rand_int_range (rand, 1, 5 - first);

      g_string_append_printf (text, "7@%u.%06u:", 100 + i / 1000, (i % 1000) * 1000);
      if (g_rand_int_range (rand, 0, 3) < 2)
        g_string_append_printf (text, "virtio_iommu_map domain=%u virt_start=0x%" G_GINT64_MODIFIER "x virt_end=0x%"
                                G_GINT64_MODIFIER "x phys_start=0x%" G_GINT64_MODIFIER "x flags=%u\n", dom,
                                (block * 4 + first) << 12, ((block * 4 + first + pages) << 12) - 1,
                                (guint64) g_rand_int (rand) << 12, g_rand_int_range (rand, 1, 4));
      else
        g_string_append_printf (text, "virtio_iommu_unmap domain=%u virt_start=0x%" G_GINT64_MODIFIER "x virt_end=0x%"
                                G_GINT64_MODIFIER "x\n", dom, (block * 4) << 12,
                                ((block + g_rand_int_range (rand, 1, 3)) * 4 << 12) - 1);
    }
  doc = test_read_document (text->str, NULL);
  instants = instants_of (text->str, NULL, 0, 997, &origin);
  check_instants (text->str, iov_trace_document_get_mappings (doc), instants);
}

/* ---- the CLI ------------------------------------------------------------- */

static JsonObject *
parse_object (JsonParser *parser,
              const char *text)
{
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

static void
assert_json_ranges (JsonObject  *domains,
                    IovMappings *index,
                    GArray      *want)
{
  guint n = 0;
  char hex[32];

  for (guint i = 0; i < want->len; i++)
    {
      const IovMapping *m = &g_array_index (want, IovMapping, i);
      JsonArray *list = json_object_get_array_member (domains, iov_mappings_get_domain_label (index, m->domain));
      JsonObject *o;

      n = i > 0 && m->domain == g_array_index (want, IovMapping, i - 1).domain ? n + 1 : 0;
      o = json_array_get_object_element (list, n);
      g_snprintf (hex, sizeof hex, "0x%" G_GINT64_MODIFIER "x", m->start);
      g_assert_cmpstr (json_object_get_string_member (o, "start"), ==, hex);
      g_snprintf (hex, sizeof hex, "0x%" G_GINT64_MODIFIER "x", m->end);
      g_assert_cmpstr (json_object_get_string_member (o, "end"), ==, hex);
      g_snprintf (hex, sizeof hex, "0x%" G_GINT64_MODIFIER "x", m->phys);
      g_assert_cmpstr (json_object_get_string_member (o, "phys"), ==, hex);
      g_assert_cmpint (json_object_get_int_member (o, "flags"), ==, m->flags);
      g_assert_cmpuint (json_object_get_size (o), ==, 4);
    }
}

static void
test_cli (void)
{
  g_autofree char *trace = test_capture ("qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.log.xz");
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(IovTraceDocument) doc = NULL;
  g_autoptr(GArray) at = NULL;
  g_autoptr(GArray) added = NULL;
  g_autoptr(GArray) removed = NULL;
  IovMappings *index;
  JsonObject *root;
  guint64 origin;

  if (trace == NULL)
    return;
  path = test_plain_copy (trace);
  doc = test_read_document (trace, NULL);
  index = iov_trace_document_get_mappings (doc);
  origin = iov_trace_document_get_stats (doc)->first_sec * 1000000000ull +
           iov_trace_document_get_stats (doc)->first_usec * 1000ull;

  g_assert_cmpint (run_cli (NULL, &out, &err, "trace", "--mappings-at", "10", path, NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
  root = parse_object (parser, out);
  g_assert_cmpuint (json_object_get_size (root), ==, 1);
  at = iov_mappings_at (index, origin + 10000000000ull);
  g_assert_cmpuint (at->len, >, 200);
  assert_json_ranges (json_object_get_object_member (root, "domains"), index, at);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* the source first, the two times after */
  g_assert_cmpint (run_cli (NULL, &out, &err, "trace", path, "--mappings-diff", "6.5", "15", NULL), ==, 0);
  root = parse_object (parser, out);
  iov_mappings_diff (index, origin + 6500000000ull, origin + 15000000000ull, &added, &removed);
  g_assert_cmpuint (added->len + removed->len, >, 0);
  assert_json_ranges (json_object_get_object_member (root, "added"), index, added);
  assert_json_ranges (json_object_get_object_member (root, "removed"), index, removed);
  g_assert_cmpuint (json_object_get_size (root), ==, 2);

  for (guint i = 0; i < 5; i++)
    {
      int status;

      g_clear_pointer (&out, g_free);
      g_clear_pointer (&err, g_free);
      switch (i)
        {
        case 0: status = run_cli (NULL, &out, &err, "trace", "--mappings-at", "-1", path, NULL); break;
        case 1: status = run_cli (NULL, &out, &err, "trace", "--mappings-at", "soon", path, NULL); break;
        case 2: status = run_cli (NULL, &out, &err, "trace", path, "--mappings-diff", "1", NULL); break;
        case 3: status = run_cli (NULL, &out, &err, "trace", "--stats", "--mappings-at", "1", path, NULL); break;
        default:
          status = run_cli (NULL, &out, &err, "trace", "--mappings-at", "1", "--mappings-diff=1", "2", path, NULL);
          break;
        }
      g_test_message ("%s", err);
      g_assert_cmpint (status, ==, 2);
      g_assert_cmpstr (out, ==, "");
      g_assert_true (g_str_has_prefix (err, "iovista-cli trace: "));
    }
  g_unlink (path);
}

/* A VT-d trace without page walks: empty, and said on stderr. */
static void
test_cli_no_events (void)
{
  g_autofree char *trace = test_capture ("qemu-versions/7.2/vhu-cm-off-lazy.log.xz");
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  if (trace == NULL)
    return;
  path = test_plain_copy (trace);
  g_assert_cmpint (run_cli (NULL, &out, &err, "trace", "--mappings-at", "3", path, NULL), ==, 0);
  g_unlink (path);
  g_assert_cmpstr (out, ==, "{\"domains\": {}}\n");
  g_assert_nonnull (strstr (err, "no map or unmap events"));
}

/* VT-d (issue L): which device a walk reads, on the real 5.2 capture. The
 * test's witness is QEMU's own "context invalidate device D" line (the
 * index reads the descriptor's source-id instead): a walk that follows it,
 * D's address-space switch and nothing else on that thread names D's
 * domain; a device only ever walked with nothing mapped (01:00.0, the
 * vhost device) is in a domain the trace does not name. */
static void
test_vtd_devices (void)
{
  g_autofree char *trace = test_capture ("qemu-versions/5.2/vhu-cm-on-strict.log.xz");
  g_autoptr(IovTraceDocument) doc = NULL;
  g_auto(GStrv) lines = NULL;
  IovMappings *index;
  guint n_named = 0;

  if (trace == NULL)
    return;
  doc = test_read_document (trace, NULL);
  index = iov_trace_document_get_mappings (doc);
  lines = test_split_lines (trace);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      unsigned bus, dev, fn, sbus, sdev, sfn;
      guint32 sid, domain = 0;
      const char *cc = strstr (lines[i], ":vtd_inv_desc_cc_device context invalidate device ");
      const char *sw = lines[i + 1] ? strstr (lines[i + 1], ":vtd_switch_address_space Device ") : NULL;
      guint j;

      if (cc == NULL || sw == NULL ||
          sscanf (cc, ":vtd_inv_desc_cc_device context invalidate device %x:%x.%x", &bus, &dev, &fn) != 3 ||
          sscanf (sw, ":vtd_switch_address_space Device %x:%x.%x", &sbus, &sdev, &sfn) != 3 ||
          bus != sbus || dev != sdev || fn != sfn)
        continue;
      sid = bus << 8 | dev << 3 | fn;
      /* the walk's lines, up to its first mapping */
      for (j = i + 2; lines[j] != NULL && strstr (lines[j], ":vtd_page_walk") != NULL &&
                      strstr (lines[j], ":vtd_page_walk_one domain ") == NULL; j++)
        ;
      if (lines[j] != NULL && strstr (lines[j], ":vtd_page_walk_one domain ") != NULL)
        {
          unsigned long long sec;
          unsigned usec;
          char label[16];

          g_assert_cmpint (sscanf (lines[j], "%*u@%llu.%u:vtd_page_walk_one domain %15s", &sec, &usec, label), ==, 3);
          g_assert_cmpint (iov_mappings_endpoint_at (index, sid, sec * 1000000000ull + usec * 1000ull, &domain), ==,
                           IOV_MAPPINGS_ENDPOINT_IN_DOMAIN);
          g_assert_cmpstr (iov_mappings_get_domain_label (index, domain), ==, label);
          n_named++;
        }
    }
  g_test_message ("%u walks name their device's domain", n_named);
  g_assert_cmpuint (n_named, >, 0);
  /* 00:1f.0 is named, 01:00.0 never */
  g_assert_cmpint (iov_mappings_endpoint_at (index, 0xf8, G_MAXUINT64, NULL), ==, IOV_MAPPINGS_ENDPOINT_IN_DOMAIN);
  g_assert_cmpint (iov_mappings_endpoint_at (index, 0x100, G_MAXUINT64, NULL), ==, IOV_MAPPINGS_ENDPOINT_UNKNOWN);
}

/* What must not name a device: a walk after a global context
 * invalidation (QEMU switches every device, then walks those with
 * notifiers: the last switch is not the walked device), a line of the
 * same thread between the switch and the walk, a switch the
 * invalidation's function mask does not cover; what does: the mask's
 * other functions, another thread's lines between, and vfio's replay. */
static void
test_vtd_device_rules (void)
{
  static const char trace[] =
    /* global: no device */
    "1@10.000001:vtd_inv_desc invalidate desc type context-cache high 0x0 low 0x11\n"
    "1@10.000002:vtd_switch_address_space Device 01:00.0 switching address space (iommu enabled=1)\n"
    "1@10.000003:vtd_page_walk_one domain 0x3 iova 0x1000 -> gpa 0x5000 mask 0xfff perm 3\n"
    /* device-selective 02:00.0, but something else between: no device */
    "1@11.000001:vtd_inv_desc invalidate desc type context-cache high 0x0 low 0x20000000031\n"
    "1@11.000002:vtd_switch_address_space Device 02:00.0 switching address space (iommu enabled=1)\n"
    "1@11.000003:vtd_iotlb_cc_hit bus 0x2 devfn 0x0 high 0x0 low 0x0 gen 0\n"
    "1@11.000004:vtd_page_walk_one domain 0x4 iova 0x1000 -> gpa 0x5000 mask 0xfff perm 3\n"
    /* device-selective 03:00.0, function mask 2 (bits 2:1 ignored): 03:00.2
     * too, not 03:00.1; another thread's line does not interrupt */
    "1@12.000001:vtd_inv_desc invalidate desc type context-cache high 0x0 low 0x2030000000031\n"
    "1@12.000002:vtd_switch_address_space Device 03:00.0 switching address space (iommu enabled=1)\n"
    "2@12.000003:vhost_iotlb_miss vhost 0x1 step 1\n"
    "1@12.000004:vtd_page_walk_level walk (base=0x1000, level=3) iova range 0x0 - 0x8000000000\n"
    "1@12.000005:vtd_page_walk_one domain 0x7 iova 0x2000 -> gpa 0x6000 mask 0xfff perm 3\n"
    "1@12.000006:vtd_switch_address_space Device 03:00.2 switching address space (iommu enabled=1)\n"
    "1@12.000007:vtd_page_walk_one domain 0x8 iova 0x2000 -> gpa 0x6000 mask 0xfff perm 3\n"
    "1@12.000008:vtd_switch_address_space Device 03:00.1 switching address space (iommu enabled=1)\n"
    "1@12.000009:vtd_page_walk_one domain 0x9 iova 0x2000 -> gpa 0x6000 mask 0xfff perm 3\n"
    /* vfio's replay of 04:00.0 */
    "1@13.000001:vtd_replay_ce_valid replay: replay valid context device 04:00.00 domain 0xa hi 0x2 lo 0x1003\n"
    "1@13.000002:vtd_page_walk_one domain 0xa iova 0x3000 -> gpa 0x7000 mask 0xfff perm 1\n"
    /* 03:00.0 invalidated again, walked with nothing to map: unknown again */
    "1@14.000001:vtd_inv_desc invalidate desc type context-cache high 0x0 low 0x30000000031\n"
    "1@14.000002:vtd_switch_address_space Device 03:00.0 switching address space (iommu enabled=0)\n"
    "1@14.000003:vtd_page_walk_one_skip_unmap iova 0x0 mask 0x3fffffff\n";
  g_autoptr(IovMappings) index = feed_text (trace);
  guint32 domain;

  g_assert_cmpint (iov_mappings_endpoint_at (index, 0x100, G_MAXUINT64, NULL), ==, IOV_MAPPINGS_ENDPOINT_UNKNOWN);
  g_assert_cmpint (iov_mappings_endpoint_at (index, 0x200, G_MAXUINT64, NULL), ==, IOV_MAPPINGS_ENDPOINT_UNKNOWN);
  g_assert_cmpint (iov_mappings_endpoint_at (index, 0x300, 13000000000ull, &domain), ==,
                   IOV_MAPPINGS_ENDPOINT_IN_DOMAIN);
  g_assert_cmpstr (iov_mappings_get_domain_label (index, domain), ==, "0x7");
  g_assert_cmpint (iov_mappings_endpoint_at (index, 0x302, G_MAXUINT64, &domain), ==, IOV_MAPPINGS_ENDPOINT_IN_DOMAIN);
  g_assert_cmpstr (iov_mappings_get_domain_label (index, domain), ==, "0x8");
  g_assert_cmpint (iov_mappings_endpoint_at (index, 0x301, G_MAXUINT64, NULL), ==, IOV_MAPPINGS_ENDPOINT_UNKNOWN);
  g_assert_cmpint (iov_mappings_endpoint_at (index, 0x400, G_MAXUINT64, &domain), ==, IOV_MAPPINGS_ENDPOINT_IN_DOMAIN);
  g_assert_cmpstr (iov_mappings_get_domain_label (index, domain), ==, "0xa");
  g_assert_cmpint (iov_mappings_endpoint_at (index, 0x400, 12000000000ull, NULL), ==, IOV_MAPPINGS_ENDPOINT_UNKNOWN);
  g_assert_cmpint (iov_mappings_endpoint_at (index, 0x300, G_MAXUINT64, NULL), ==, IOV_MAPPINGS_ENDPOINT_UNKNOWN);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mappings/virtio-iommu-capture", test_virtio_iommu_capture);
  g_test_add_func ("/mappings/vtd-walk-capture", test_vtd_walk_capture);
  g_test_add_func ("/mappings/vtd-devices", test_vtd_devices);
  g_test_add_func ("/mappings/vtd-device-rules", test_vtd_device_rules);
  g_test_add_func ("/mappings/endpoint-domains", test_endpoint_domains);
  g_test_add_func ("/mappings/rules", test_rules);
  g_test_add_func ("/mappings/checkpoints", test_checkpoints);
  g_test_add_func ("/mappings/cli", test_cli);
  g_test_add_func ("/mappings/cli-no-events", test_cli_no_events);
  return g_test_run ();
}
