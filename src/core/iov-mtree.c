/* iov-mtree.c
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

#define G_LOG_DOMAIN "iov-mtree"

#include "config.h"

#include <string.h>

#include "iov-mtree.h"

/* Parser for QEMU's `info mtree -f` (softmmu/memory.c, mtree_print_flatview).
 * It never fails: lines it does not understand are kept verbatim and
 * counted, so a newer QEMU degrades to "some lines unknown". */

static const char *accel_names[] = { "KVM", "HVF", "WHPX", "NVMM", "HAX", "Xen", "TCG" };

static void
space_free (gpointer data)
{
  IovMtreeSpace *space = data;

  g_free (space->name);
  g_free (space->root);
  g_free (space->alias);
  g_free (space);
}

void
iov_mtree_range_clear (IovMtreeRange *range)
{
  g_clear_pointer (&range->kind, g_free);
  g_clear_pointer (&range->region, g_free);
  g_clear_pointer (&range->accel, g_free);
  g_clear_pointer (&range->owner, g_free);
  g_clear_pointer (&range->parent, g_free);
}

static void
flat_view_free (gpointer data)
{
  IovMtreeFlatView *view = data;

  g_ptr_array_unref (view->spaces);
  g_free (view->root_region);
  g_array_unref (view->ranges);
  g_free (view);
}

static IovMtreeFlatView *
flat_view_new (int number)
{
  IovMtreeFlatView *view = g_new0 (IovMtreeFlatView, 1);

  view->number = number;
  view->spaces = g_ptr_array_new_with_free_func (space_free);
  view->ranges = g_array_new (FALSE, TRUE, sizeof (IovMtreeRange));
  g_array_set_clear_func (view->ranges, (GDestroyNotify) iov_mtree_range_clear);
  view->rendered = TRUE;
  return view;
}

void
iov_mtree_free (IovMtree *mtree)
{
  if (mtree == NULL)
    return;
  g_ptr_array_unref (mtree->flat_views);
  g_ptr_array_unref (mtree->unknown_lines);
  g_free (mtree);
}

guint
iov_mtree_get_n_unknown (const IovMtree *mtree)
{
  g_return_val_if_fail (mtree != NULL, 0);
  return mtree->unknown_lines->len;
}

/* Skips indentation and tree glyphs ("│ ├─ └─", "|-", "`-", "+-") that a
 * future QEMU might print in front of the content. */
static const char *
skip_prefix (const char *p)
{
  for (;;)
    {
      if (*p == ' ' || *p == '\t' || *p == '|' || *p == '`' || *p == '+' || *p == '-')
        p++;
      else if ((guchar) p[0] == 0xe2 && ((guchar) p[1] == 0x94 || (guchar) p[1] == 0x95) && p[2] != '\0')
        p += 3; /* U+2500..U+257F box drawing */
      else
        return p;
    }
}

static gboolean
read_hex (const char **pp,
          guint64     *value)
{
  const char *p = *pp;
  guint64 v = 0;
  int n = 0;

  while (g_ascii_isxdigit (*p))
    {
      if (n == 16)
        return FALSE;
      v = (v << 4) | (guint64) g_ascii_xdigit_value (*p);
      p++;
      n++;
    }
  if (n == 0)
    return FALSE;
  *pp = p;
  *value = v;
  return TRUE;
}

static gboolean
all_hex (const char *p)
{
  if (*p == '\0')
    return FALSE;
  for (; *p; p++)
    if (!g_ascii_isxdigit (*p))
      return FALSE;
  return TRUE;
}

static void
take_suffix (char        *rest,
             const char  *marker,
             char       **out)
{
  char *found = strstr (rest, marker);
  const char *o;

  if (found == NULL)
    return;
  o = found + strlen (marker);
  if (*o == '{' && g_str_has_suffix (o, "}"))
    *out = g_strndup (o + 1, strlen (o) - 2);
  else
    *out = g_strdup (o);
  *found = '\0';
  g_strchomp (rest);
}

gboolean
iov_mtree_parse_range_line (const char    *line,
                            IovMtreeRange *range)
{
  const char *p;
  const char *kind_end;
  char *end_ptr = NULL;
  gint64 prio;
  g_autofree char *rest = NULL;
  char *at;
  char *last_space;
  IovMtreeRange r = { 0 };

  g_return_val_if_fail (line != NULL, FALSE);
  g_return_val_if_fail (range != NULL, FALSE);

  p = skip_prefix (line);
  if (!read_hex (&p, &r.start) || *p++ != '-')
    return FALSE;
  if (!read_hex (&p, &r.end))
    return FALSE;
  if (!g_str_has_prefix (p, " (prio "))
    return FALSE;
  p += strlen (" (prio ");
  prio = g_ascii_strtoll (p, &end_ptr, 10);
  if (end_ptr == p || prio < G_MININT || prio > G_MAXINT)
    return FALSE;
  p = end_ptr;
  if (!g_str_has_prefix (p, ", "))
    return FALSE;
  p += 2;
  kind_end = strchr (p, ')');
  if (kind_end == NULL || kind_end == p || !g_str_has_prefix (kind_end, "):"))
    return FALSE;
  if (r.end < r.start)
    return FALSE;

  r.priority = (int) prio;
  r.kind = g_strndup (p, kind_end - p);
  p = kind_end + 2;
  while (*p == ' ')
    p++;

  rest = g_strdup (p);
  g_strchomp (rest);

  /* -o: " owner:{dev id=…}" / " owner:{dev path=…}" / " owner:{obj path=…}",
   * or " parent:{obj path=…}" for a region without an owner. */
  take_suffix (rest, " owner:", &r.owner);
  take_suffix (rest, " parent:", &r.parent);

  /* Accelerator suffix, only when it is a known accelerator name. */
  last_space = strrchr (rest, ' ');
  if (last_space != NULL)
    {
      for (guint i = 0; i < G_N_ELEMENTS (accel_names); i++)
        if (g_str_equal (last_space + 1, accel_names[i]))
          {
            r.accel = g_strdup (accel_names[i]);
            *last_space = '\0';
            g_strchomp (rest);
            break;
          }
    }

  at = g_strrstr (rest, " @");
  if (at != NULL && all_hex (at + 2))
    {
      const char *h = at + 2;

      if (read_hex (&h, &r.offset) && *h == '\0')
        {
          /* A region ends within 2^64: QEMU never prints an offset that
           * puts the range past it.  Not a range line, then (it is kept
           * with the lines not understood), rather than a notifier that
           * ends below its start. */
          if (r.offset > G_MAXUINT64 - (r.end - r.start))
            {
              iov_mtree_range_clear (&r);
              return FALSE;
            }
          r.has_offset = TRUE;
          *at = '\0';
          g_strchomp (rest);
        }
    }

  r.region = g_steal_pointer (&rest);
  r.role = IOV_RANGE_ROLE_IO;
  *range = r;
  return TRUE;
}

static gboolean
parse_space_line (const char    *content,
                  IovMtreeSpace *out)
{
  const char *p = content + strlen ("AS \"");
  const char *q = strstr (p, "\", root: ");
  const char *root;
  const char *alias;

  if (q == NULL)
    return FALSE;
  out->name = g_strndup (p, q - p);
  root = q + strlen ("\", root: ");
  alias = g_strrstr (root, ", alias ");
  if (alias != NULL)
    {
      out->root = g_strndup (root, alias - root);
      out->alias = g_strdup (alias + strlen (", alias "));
    }
  else
    {
      out->root = g_strdup (root);
      out->alias = NULL;
    }
  g_strchomp (out->root);
  return TRUE;
}

gboolean
iov_mtree_region_is_interrupt (const char *region)
{
  static const char *names[] = { "vtd-ir", "vtd-no-ir", "amdvi-ir", "amd_iommu_ir" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (region, names[i]) == 0)
      return TRUE;
  return FALSE;
}

gboolean
iov_mtree_region_is_iommu (const char *region)
{
  if (region == NULL)
    return FALSE;
  if (g_str_has_prefix (region, "vtd-") && g_str_has_suffix (region, "-dmar"))
    return TRUE;
  if (g_str_equal (region, "amd_iommu"))
    return TRUE;
  if (g_str_has_prefix (region, "virtio-iommu-memory-region-"))
    return TRUE;
  if (g_str_has_prefix (region, "smmuv3-iommu-memory-region-"))
    return TRUE;
  return FALSE;
}

static gboolean
root_is_nodmar (const char *root_region)
{
  /* "vtd-nodmar" (VT-d, DMA remapping off); AMD-Vi in newer QEMUs calls
   * its pass-through container "amdvi-nodma". */
  return root_region != NULL &&
         (strstr (root_region, "nodmar") != NULL || strstr (root_region, "nodma") != NULL);
}

IovRangeRole
iov_mtree_classify (const char *region,
                    const char *kind,
                    const char *root_region)
{
  const char *k = kind ? kind : "";

  if (g_str_has_prefix (k, "nv-"))
    k += 3;

  if (iov_mtree_region_is_interrupt (region))
    return IOV_RANGE_ROLE_INTERRUPT;
  if (iov_mtree_region_is_iommu (region))
    return IOV_RANGE_ROLE_IOMMU;
  if (root_is_nodmar (root_region))
    return IOV_RANGE_ROLE_PASSTHROUGH;
  if (g_str_equal (k, "ram") || g_str_equal (k, "ramd"))
    return IOV_RANGE_ROLE_RAM;
  if (g_str_equal (k, "rom") || g_str_equal (k, "romd"))
    return IOV_RANGE_ROLE_ROM;
  return IOV_RANGE_ROLE_IO;
}

const char *
iov_range_role_to_string (IovRangeRole role)
{
  switch (role)
    {
    case IOV_RANGE_ROLE_IO: return "io";
    case IOV_RANGE_ROLE_RAM: return "ram";
    case IOV_RANGE_ROLE_ROM: return "rom";
    case IOV_RANGE_ROLE_IOMMU: return "iommu";
    case IOV_RANGE_ROLE_INTERRUPT: return "interrupt";
    case IOV_RANGE_ROLE_PASSTHROUGH: return "passthrough";
    default: return "io";
    }
}

IovMtree *
iov_mtree_parse (const char *text,
                 gssize      length)
{
  g_autoptr(IovMtree) mtree = g_new0 (IovMtree, 1);
  IovMtreeFlatView *view = NULL;
  const char *p;
  const char *end;

  g_return_val_if_fail (text != NULL || length == 0, NULL);

  mtree->flat_views = g_ptr_array_new_with_free_func (flat_view_free);
  mtree->unknown_lines = g_ptr_array_new_with_free_func (g_free);

  if (length < 0)
    length = text ? (gssize) strlen (text) : 0;
  p = text;
  end = text + length;

  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *line_end = nl ? nl : end;
      g_autofree char *line = NULL;
      const char *content;
      IovMtreeRange range;

      if (line_end > p && line_end[-1] == '\r')
        line = g_strndup (p, line_end - 1 - p);
      else
        line = g_strndup (p, line_end - p);
      p = nl ? nl + 1 : end;
      mtree->n_lines++;

      content = skip_prefix (line);
      if (*content == '\0')
        continue;

      if (g_str_has_prefix (content, "FlatView #"))
        {
          gint64 n = g_ascii_strtoll (content + strlen ("FlatView #"), NULL, 10);

          view = flat_view_new ((int) CLAMP (n, G_MININT, G_MAXINT));
          g_ptr_array_add (mtree->flat_views, view);
          continue;
        }

      if (view != NULL && g_str_has_prefix (content, "AS \""))
        {
          IovMtreeSpace space = { 0 };

          if (parse_space_line (content, &space))
            {
              g_ptr_array_add (view->spaces, g_memdup2 (&space, sizeof space));
              continue;
            }
        }
      else if (view != NULL && g_str_has_prefix (content, "Root memory region: "))
        {
          const char *root = content + strlen ("Root memory region: ");

          g_clear_pointer (&view->root_region, g_free);
          if (!g_str_equal (root, "(none)"))
            view->root_region = g_strdup (root);
          continue;
        }
      else if (view != NULL && g_str_equal (content, "No rendered FlatView"))
        {
          view->rendered = FALSE;
          continue;
        }
      else if (view != NULL && iov_mtree_parse_range_line (line, &range))
        {
          range.role = iov_mtree_classify (range.region, range.kind, view->root_region);
          g_array_append_val (view->ranges, range);
          continue;
        }

      g_ptr_array_add (mtree->unknown_lines, g_steal_pointer (&line));
    }

  return g_steal_pointer (&mtree);
}

gboolean
iov_mtree_flat_view_has_iommu (const IovMtreeFlatView *view)
{
  g_return_val_if_fail (view != NULL, FALSE);

  for (guint i = 0; i < view->ranges->len; i++)
    if (g_array_index (view->ranges, IovMtreeRange, i).role == IOV_RANGE_ROLE_IOMMU)
      return TRUE;
  return FALSE;
}

GArray *
iov_mtree_flat_view_notifier_ranges (const IovMtreeFlatView *view)
{
  GArray *out;

  g_return_val_if_fail (view != NULL, NULL);

  out = g_array_new (FALSE, TRUE, sizeof (IovMtreeNotifierRange));
  for (guint i = 0; i < view->ranges->len; i++)
    {
      const IovMtreeRange *r = &g_array_index (view->ranges, IovMtreeRange, i);
      IovMtreeNotifierRange n;

      if (r->role != IOV_RANGE_ROLE_IOMMU)
        continue;
      n.start = r->has_offset ? r->offset : 0;
      n.end = n.start + (r->end - r->start);
      n.region = r->region;
      g_array_append_val (out, n);
    }
  return out;
}
