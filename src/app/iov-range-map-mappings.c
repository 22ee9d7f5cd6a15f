/* iov-range-map-mappings.c — a device's IOVA mappings on the map (issue L)
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

#define G_LOG_DOMAIN "iov-range-map"

#include "config.h"

#include <glib/gi18n.h>

#include "iov-range-map-private.h"

gboolean
_iov_range_map_mappings_extent (IovRangeMap *self,
                                guint64     *lo,
                                guint64     *hi)
{
  *lo = G_MAXUINT64;
  *hi = 0;
  for (guint i = 0; i < self->mapped->len; i++)
    {
      const IovRangeMapMark *mark = &g_array_index (self->mapped, IovRangeMapMark, i);

      *lo = MIN (*lo, mark->m.start);
      *hi = MAX (*hi, mark->m.end);
    }
  return self->mapped->len > 0;
}

/* The mappings as marks along the bottom of the bar: mapped light, added
 * green, removed outlined red; each at least 2 px wide. */
void
_iov_range_map_snapshot_mappings (IovRangeMap *self,
                                  GtkSnapshot *snapshot,
                                  IovAxis     *axis)
{
  GdkRGBA mapped = _iov_rgba_alpha (&self->palette.accent_fg, 0.85);

  for (guint i = 0; i < self->mapped->len; i++)
    {
      const IovRangeMapMark *mark = &g_array_index (self->mapped, IovRangeMapMark, i);
      const IovMapping *m = &mark->m;
      double x0 = IOV_GUTTER_WIDTH + iov_axis_value_to_x (axis, m->start);
      double x1 = IOV_GUTTER_WIDTH + iov_axis_end_to_x (axis, m->end);
      double w = MAX (x1 - x0, 2.0), y = BAR_Y + BAR_HEIGHT - 10;

      if (mark->kind == IOV_RANGE_MAP_REMOVED)
        _iov_draw_outline (snapshot, x0, y - 2, w, 10, 1, &self->palette.unmap);
      else
        _iov_draw_rect (snapshot, x0, y, w, 6, mark->kind == IOV_RANGE_MAP_ADDED ? &self->palette.map : &mapped);
    }
}

/* The mappings at @address, for the tooltip: what the marks under the
 * pointer stand for. */
void
_iov_range_map_describe_mappings (IovRangeMap *self,
                                  guint64      address,
                                  GString     *out)
{
  for (guint i = 0; i < self->mapped->len; i++)
    {
      const IovRangeMapMark *mark = &g_array_index (self->mapped, IovRangeMapMark, i);
      const char *what;

      if (address < mark->m.start || address > mark->m.end)
        continue;
      what = mark->kind == IOV_RANGE_MAP_ADDED ? _("Mapped over the selection")
           : mark->kind == IOV_RANGE_MAP_REMOVED ? _("Unmapped over the selection")
           : _("Mapped");
      {
        g_autofree char *start = g_strdup_printf ("0x%" G_GINT64_MODIFIER "x", mark->m.start);
        g_autofree char *end = g_strdup_printf ("0x%" G_GINT64_MODIFIER "x", mark->m.end);
        g_autofree char *phys = g_strdup_printf ("0x%" G_GINT64_MODIFIER "x", mark->m.phys);

        g_string_append_c (out, '\n');
        /* Translators: a mapping under the pointer on the address map:
         * what happened to it, its IOVA range, the guest-physical address
         * it maps to and its flags as QEMU's trace prints them */
        g_string_append_printf (out, _("%s: %s–%s → %s, flags %u"), what, start, end, phys, mark->m.flags);
      }
    }
}

static void
add_marks (IovRangeMap *self,
           GArray      *mappings,
           IovRangeMapMarkKind kind)
{
  for (guint i = 0; mappings != NULL && i < mappings->len; i++)
    {
      const IovMapping *m = &g_array_index (mappings, IovMapping, i);
      IovRangeMapMark mark = { *m, kind };

      g_array_append_val (self->mapped, mark);
    }
}

void
iov_range_map_set_mappings (IovRangeMap *self,
                            GArray      *mapped,
                            GArray      *added,
                            GArray      *removed)
{
  g_return_if_fail (IOV_IS_RANGE_MAP (self));

  g_array_set_size (self->mapped, 0);
  add_marks (self, mapped, IOV_RANGE_MAP_MAPPED);
  add_marks (self, added, IOV_RANGE_MAP_ADDED);
  add_marks (self, removed, IOV_RANGE_MAP_REMOVED);
  _iov_range_map_recompute_bounds (self);
}

guint
iov_range_map_get_n_mappings (IovRangeMap *self,
                              guint       *n_added,
                              guint       *n_removed)
{
  guint n[3] = { 0, 0, 0 };

  g_return_val_if_fail (IOV_IS_RANGE_MAP (self), 0);

  for (guint i = 0; i < self->mapped->len; i++)
    n[g_array_index (self->mapped, IovRangeMapMark, i).kind]++;
  if (n_added != NULL)
    *n_added = n[IOV_RANGE_MAP_ADDED];
  if (n_removed != NULL)
    *n_removed = n[IOV_RANGE_MAP_REMOVED];
  return n[IOV_RANGE_MAP_MAPPED];
}

GArray *
iov_range_map_dup_mappings (IovRangeMap         *self,
                            IovRangeMapMarkKind  kind)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (IovMapping));

  g_return_val_if_fail (IOV_IS_RANGE_MAP (self), out);

  for (guint i = 0; i < self->mapped->len; i++)
    if (g_array_index (self->mapped, IovRangeMapMark, i).kind == kind)
      g_array_append_val (out, g_array_index (self->mapped, IovRangeMapMark, i).m);
  return out;
}
