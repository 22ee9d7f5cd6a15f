/* iov-timeline-draw.c — IovTimeline's drawing: the axis and the density rows
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

#define G_LOG_DOMAIN "iov-timeline"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "iov-timeline-private.h"

/* ---- drawing ------------------------------------------------------------- */

static guint64
nice_step (guint64 span)
{
  guint64 step = 1;

  /* about six ticks: 1, 2, 5 × 10ⁿ ns */
  while (step * 6 < span)
    {
      if (step * 2 * 6 >= span)
        return step * 2;
      if (step * 5 * 6 >= span)
        return step * 5;
      step *= 10;
    }
  return step;
}

static char *
format_time (guint64 t,
             guint64 step)
{
  if (step >= G_GUINT64_CONSTANT (1000000000))
    /* Translators: a time on the timeline's axis, in seconds */
    return g_strdup_printf (_("%.0f s"), t / 1e9);
  if (step >= 1000000)
    /* Translators: a time on the timeline's axis, in seconds */
    return g_strdup_printf (_("%.3f s"), t / 1e9);
  if (step >= 1000)
    /* Translators: a time on the timeline's axis, in seconds */
    return g_strdup_printf (_("%.6f s"), t / 1e9);
  /* Translators: a time on the timeline's axis, in seconds */
  return g_strdup_printf (_("%.9f s"), t / 1e9);
}

static void
draw_axis (IovTimeline *self,
           GtkSnapshot *snapshot,
           double       px,
           double       pw)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GdkRGBA line = _iov_rgba_alpha (&self->palette.fg, 0.25);
  guint64 step = nice_step (self->t1 - self->t0);
  guint64 origin = 0, t;
  double height = gtk_widget_get_height (widget);
  IovEventRecord first;

  /* Seconds since the trace's first event, as the event list counts them:
   * QEMU's clock reads 1795459770 s, which tells nobody anything. */
  if (!self->absolute_axis && self->store != NULL && iov_event_store_get (self->store, 0, &first))
    origin = first.ts_ns;
  if (self->t0 >= origin)
    t = origin + (self->t0 - origin + step - 1) / step * step;
  else
    t = origin - (origin - self->t0) / step * step;

  _iov_draw_rect (snapshot, px, AXIS_HEIGHT - 1, pw, 1, &line);
  for (; t < self->t1; t += step)
    {
      double x = _iov_timeline_x_at_time (self, t);
      g_autofree char *magnitude = format_time (t >= origin ? t - origin : origin - t, step);
      g_autofree char *text = g_strconcat (t >= origin ? "" : "−", magnitude, NULL);
      g_autoptr(PangoLayout) layout = _iov_layout_new (widget, text, 0.8, FALSE);

      _iov_draw_rect (snapshot, floor (x), AXIS_HEIGHT - 5, 1, height - AXIS_HEIGHT + 5, &line);
      _iov_draw_layout (snapshot, layout, floor (x) + 3, 2, &self->palette.fg);
    }
}

void
_iov_timeline_snapshot (GtkWidget   *widget,
                       GtkSnapshot *snapshot)
{
  IovTimeline *self = IOV_TIMELINE (widget);
  double px, pw;
  guint n_bins;

  iov_timeline_get_plot_area (self, &px, &pw);
  n_bins = (guint) floor (pw);

  for (guint k = 0; k < N_KINDS; k++)
    {
      g_autoptr(PangoLayout) layout = _iov_layout_new (widget, _iov_timeline_kind_label (k), 0.85, FALSE);
      int lw, lh;

      pango_layout_get_pixel_size (layout, &lw, &lh);
      _iov_draw_layout (snapshot, layout, MAX (8, IOV_GUTTER_WIDTH - 12 - lw),
                        AXIS_HEIGHT + k * (ROW_HEIGHT + ROW_GAP) + (ROW_HEIGHT - lh) / 2,
                        &self->palette.fg);
    }

  if (self->store == NULL || n_bins == 0)
    return;
  _iov_timeline_update_kinds (self);
  _iov_timeline_apply_follow (self);
  if (!self->has_range)
    return;

  draw_axis (self, snapshot, px, pw);
  _iov_timeline_update_bins (self, n_bins);

  for (guint k = 0; k < N_KINDS; k++)
    {
      const IovEventBin *bins = self->bins[k];
      const GdkRGBA *color = _iov_timeline_kind_color (self, k);
      double y = AXIS_HEIGHT + k * (ROW_HEIGHT + ROW_GAP);
      guint64 max = 0;
      double log_max;

      for (guint i = 0; i < n_bins; i++)
        max = MAX (max, bins[i].count);
      if (max == 0)
        continue;
      log_max = log1p ((double) max);

      /* one node per pixel column with events: height by log density */
      for (guint i = 0; i < n_bins; i++)
        {
          double h;

          if (bins[i].count == 0)
            continue;
          h = MAX (2.0, round (ROW_HEIGHT * log1p ((double) bins[i].count) / log_max));
          gtk_snapshot_append_color (snapshot, color,
                                     &GRAPHENE_RECT_INIT (px + i, y + ROW_HEIGHT - h, 1, h));
        }
    }

  if (self->has_selection && self->sel1 > self->t0 && self->sel0 < self->t1)
    {
      double x0 = MAX (px, _iov_timeline_x_at_time (self, self->sel0));
      double x1 = MIN (px + pw, _iov_timeline_x_at_time (self, self->sel1));
      GdkRGBA tint = _iov_rgba_alpha (&self->palette.accent_bg, 0.25);

      _iov_draw_rect (snapshot, x0, AXIS_HEIGHT, MAX (1, x1 - x0),
                      N_KINDS * (ROW_HEIGHT + ROW_GAP), &tint);
      _iov_draw_outline (snapshot, x0, AXIS_HEIGHT, MAX (1, x1 - x0),
                         N_KINDS * (ROW_HEIGHT + ROW_GAP), 1, &self->palette.accent_bg);
    }

  /* the cursor: a line through the rows with a handle on the axis, to
   * grab and drag */
  if (self->has_cursor && self->cursor >= self->t0 && self->cursor < self->t1)
    {
      double x = round (_iov_timeline_x_at_time (self, self->cursor));

      _iov_draw_rect (snapshot, x - 1, AXIS_HEIGHT - 8, 2, 8 + N_KINDS * (ROW_HEIGHT + ROW_GAP),
                      &self->palette.accent_bg);
      _iov_draw_rect (snapshot, x - 4, AXIS_HEIGHT - 10, 8, 6, &self->palette.accent_bg);
    }
}

void
_iov_timeline_measure (GtkWidget      *widget,
                      GtkOrientation  orientation,
                      int             for_size,
                      int            *minimum,
                      int            *natural,
                      int            *minimum_baseline,
                      int            *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = *natural = IOV_GUTTER_WIDTH + IOV_AXIS_END_MARGIN + 100;
  else
    *minimum = *natural = AXIS_HEIGHT + N_KINDS * (ROW_HEIGHT + ROW_GAP) + 4;
}
