/* iov-notifier-lanes-draw.c — IovNotifierLanes' drawing: the source, the lanes, the abort
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

#define G_LOG_DOMAIN "iov-notifier-lanes"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "iov-notifier-lanes-private.h"

static void
snapshot_source (IovNotifierLanes *self,
                 GtkSnapshot      *snapshot,
                 IovAxis          *axis)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GdkRGBA dim = _iov_rgba_alpha (&self->palette.fg, 0.6);
  g_autoptr(PangoLayout) title = _iov_layout_new (widget, _("IOMMU emits"), 0.85, TRUE);
  double pulse = self->progress < 1 ? 1 - self->progress : 0;
  int tw, th;

  pango_layout_get_pixel_size (title, &tw, &th);
  _iov_draw_layout (snapshot, title, 8, (SOURCE_HEIGHT - th) / 2, &self->palette.fg);

  if (self->events->len == 0)
    {
      g_autoptr(PangoLayout) none = _iov_layout_new (widget, _("no events in this step"), 0.85, FALSE);
      int w, h;

      pango_layout_get_pixel_size (none, &w, &h);
      _iov_draw_layout (snapshot, none, IOV_GUTTER_WIDTH + 4, (SOURCE_HEIGHT - h) / 2, &dim);
      return;
    }

  for (guint i = 0; i < self->events->len; i++)
    {
      const IovTlbEvent *e = &g_array_index (self->events, IovTlbEvent, i);
      const GdkRGBA *color = _iov_palette_for_type (&self->palette, e->type);
      GdkRGBA fill = _iov_rgba_alpha (color, 0.3 + 0.4 * pulse);
      double x0, x1;

      _iov_notifier_lanes_range_x (axis, e->iova, e->addr_mask, &x0, &x1);
      _iov_draw_rect (snapshot, x0, 4, x1 - x0, SOURCE_HEIGHT - 8, &fill);
      _iov_draw_outline (snapshot, x0, 4, x1 - x0, SOURCE_HEIGHT - 8, 1.5, color);
    }

  /* One label for the step's events: their kind and range, or a count. */
  {
    const IovTlbEvent *e = &g_array_index (self->events, IovTlbEvent, 0);
    g_autofree char *text = NULL;
    g_autoptr(PangoLayout) l = NULL;
    double x0, x1;
    int w, h;

    if (self->caption != NULL)
      text = g_strdup (self->caption);
    else if (self->events->len == 1)
      {
        g_autofree char *range = _iov_notifier_lanes_format_range (e->iova, e->addr_mask);

        text = g_strdup_printf ("%s %s  %s", _iov_type_glyph (e->type), _iov_notifier_lanes_flag_word (e->type), range);
      }
    else
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s %u event", "%s %u events", self->events->len),
                              _iov_type_glyph (e->type), self->events->len);
    l = _iov_layout_new (widget, text, 0.8, TRUE);
    pango_layout_get_pixel_size (l, &w, &h);
    _iov_notifier_lanes_range_x (axis, e->iova, e->addr_mask, &x0, &x1);
    x0 = CLAMP (x0 + 6, IOV_GUTTER_WIDTH + 4, gtk_widget_get_width (widget) - w - 4);
    _iov_draw_layout (snapshot, l, x0, (SOURCE_HEIGHT - h) / 2, &self->palette.fg);
  }
}

static void
snapshot_outcome (IovNotifierLanes *self,
                  GtkSnapshot      *snapshot,
                  IovAxis          *axis,
                  const Outcome    *o,
                  double            y)
{
  const IovTlbEvent *e = o->event >= 0 ? &g_array_index (self->events, IovTlbEvent, o->event) : NULL;
  double by = y + BAR_INSET;
  double bh = LANE_HEIGHT - 2 * BAR_INSET;
  double x0, x1;

  if (e == NULL)
    return;

  switch (o->result)
    {
    case IOV_RESULT_DELIVERED:
      {
        const GdkRGBA *color = _iov_palette_for_type (&self->palette, o->type);
        /* Inferred (the model's prediction): outlined on a light tint;
         * observed in QEMU's trace: filled. */
        GdkRGBA fill = _iov_rgba_alpha (color, o->observed ? 0.75 : 0.30);

        if (o->cropped)
          {
            /* The ghost of what the IOMMU sent, then what QEMU passed on. */
            GdkRGBA ghost = _iov_rgba_alpha (color, 0.10);
            GdkRGBA ghost_line = _iov_rgba_alpha (color, 0.55);

            _iov_notifier_lanes_range_x (axis, e->iova, e->addr_mask, &x0, &x1);
            _iov_draw_rect (snapshot, x0, by - 4, x1 - x0, bh + 8, &ghost);
            _iov_draw_dotted (snapshot, x0, by - 4, x1 - x0, bh + 8, &ghost_line);
          }
        _iov_notifier_lanes_range_x (axis, o->iova, o->addr_mask, &x0, &x1);
        _iov_draw_rect (snapshot, x0, by, x1 - x0, bh, &fill);
        _iov_draw_outline (snapshot, x0, by, x1 - x0, bh, 2, color);
      }
      break;

    case IOV_RESULT_SKIPPED_RANGE:
      {
        GdkRGBA line = _iov_rgba_alpha (&self->palette.fg, 0.35);

        _iov_notifier_lanes_range_x (axis, e->iova, e->addr_mask, &x0, &x1);
        _iov_draw_dotted (snapshot, x0, by + 3, x1 - x0, bh - 6, &line);
      }
      break;

    case IOV_RESULT_SKIPPED_FLAGS:
      {
        GdkRGBA fill = _iov_rgba_alpha (&self->palette.fg, 0.10);
        GdkRGBA line = _iov_rgba_alpha (&self->palette.fg, 0.25);

        _iov_notifier_lanes_range_x (axis, e->iova, e->addr_mask, &x0, &x1);
        _iov_draw_rect (snapshot, x0, by + 3, x1 - x0, bh - 6, &fill);
        _iov_draw_outline (snapshot, x0, by + 3, x1 - x0, bh - 6, 1, &line);
      }
      break;

    case IOV_RESULT_ABORT:
      _iov_notifier_lanes_range_x (axis, e->iova, e->addr_mask, &x0, &x1);
      _iov_draw_outline (snapshot, x0, by - 2, x1 - x0, bh + 4, 3, &self->palette.error_bg);
      break;

    default:
      break;
    }
}

static void
sep (GString *s)
{
  if (s->len > 0)
    g_string_append (s, " · ");
}

/* "▼ 12 000 UNMAP · 40 cropped · 3 skipped · 11 990 observed" */
char *
_iov_notifier_lanes_count_text (const IovDeliveryCount *c)
{
  static const guint types[] = { IOV_NOTIFIER_MAP, IOV_NOTIFIER_UNMAP, IOV_NOTIFIER_DEVIOTLB_UNMAP };
  GString *s = g_string_new (NULL);
  guint64 skipped = c->skipped_range + c->skipped_flags;

  for (guint t = 0; t < G_N_ELEMENTS (types); t++)
    if (c->by_type[t] > 0)
      {
        sep (s);
        g_string_append_printf (s, "%s %" G_GUINT64_FORMAT " %s",
                                _iov_type_glyph (types[t]), c->by_type[t], _iov_type_label (types[t]));
      }
  if (c->cropped > 0)
    {
      g_autofree char *n = g_strdup_printf ("%" G_GUINT64_FORMAT, c->cropped);

      /* Translators: %s is a count */
      sep (s);
      g_string_append_printf (s, _("%s cropped"), n);
    }
  if (skipped > 0)
    {
      g_autofree char *n = g_strdup_printf ("%" G_GUINT64_FORMAT, skipped);

      sep (s);
      /* Translators: %s is a count */
      g_string_append_printf (s, _("%s skipped"), n);
    }
  if (c->aborted > 0)
    {
      sep (s);
      g_string_append (s, _("✖ QEMU stops here"));
    }
  if (c->observed > 0)
    {
      g_autofree char *n = g_strdup_printf ("%" G_GUINT64_FORMAT, c->observed);

      sep (s);
      /* Translators: %s is a count of deliveries seen in the trace */
      g_string_append_printf (s, _("%s observed"), n);
    }
  if (s->len == 0)
    {
      g_string_free (s, TRUE);
      return NULL;
    }
  return g_string_free (s, FALSE);
}

static void
snapshot_lane_text (IovNotifierLanes *self,
                    GtkSnapshot      *snapshot,
                    guint             lane,
                    double            y,
                    const GdkRGBA    *color)
{
  GtkWidget *widget = GTK_WIDGET (self);
  g_autofree char *text = NULL;
  g_autoptr(PangoLayout) layout = NULL;
  const Outcome *first = NULL;
  guint n = 0, delivered = 0, cropped = 0, skipped = 0;
  int w, h;

  if (lane < self->counts->len)
    {
      text = _iov_notifier_lanes_count_text (&g_array_index (self->counts, IovDeliveryCount, lane));
      if (text == NULL)
        return;
      goto draw;
    }

  for (guint k = 0; k < self->outcomes->len; k++)
    {
      const Outcome *o = &g_array_index (self->outcomes, Outcome, k);

      if (o->lane != (int) lane)
        continue;
      if (first == NULL || o->result == IOV_RESULT_ABORT)
        first = o;
      n++;
      delivered += o->result == IOV_RESULT_DELIVERED;
      cropped += o->result == IOV_RESULT_DELIVERED && o->cropped;
      skipped += o->result == IOV_RESULT_SKIPPED_RANGE || o->result == IOV_RESULT_SKIPPED_FLAGS;
    }
  if (first == NULL)
    return;

  if (n == 1 || first->result == IOV_RESULT_ABORT)
    text = _iov_notifier_lanes_outcome_text (self, first);
  else
    text = g_strdup_printf (_("%s %u delivered (%u cropped), %u skipped"),
                            _iov_type_glyph (first->type), delivered, cropped, skipped);

draw:
  layout = _iov_layout_new (widget, text, 0.8, first != NULL && first->result == IOV_RESULT_ABORT);
  /* Narrow columns (Compare Versions) shorten the label rather than let
   * it run past the lane. */
  {
    double avail = gtk_widget_get_width (widget) - IOV_AXIS_END_MARGIN - IOV_GUTTER_WIDTH - 24;

    if (avail > 40)
      {
        pango_layout_set_width (layout, (int) (avail * PANGO_SCALE));
        pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
      }
  }
  pango_layout_get_pixel_size (layout, &w, &h);

  /* Over the lane's right end, on a plate of the widget's own background
   * so it reads over any bar. */
  {
    double x = gtk_widget_get_width (widget) - IOV_AXIS_END_MARGIN - w - 10;
    double ty = y + (LANE_HEIGHT - h) / 2;
    GtkStyleContext *context = gtk_widget_get_style_context (widget);
    GdkRGBA plate;

    if (!gtk_style_context_lookup_color (context, "view_bg_color", &plate))
      gdk_rgba_parse (&plate, "#ffffff");
    plate.alpha = 0.85;
    x = MAX (x, IOV_GUTTER_WIDTH + 4);
    {
      GskRoundedRect r;

      gsk_rounded_rect_init_from_rect (&r, &GRAPHENE_RECT_INIT (x - 5, ty - 2, w + 10, h + 4), 4);
      gtk_snapshot_push_rounded_clip (snapshot, &r);
      gtk_snapshot_append_color (snapshot, &plate, &r.bounds);
      gtk_snapshot_pop (snapshot);
    }
    _iov_draw_layout (snapshot, layout, x, ty, color);
  }
}

static void
snapshot_lanes (IovNotifierLanes *self,
                GtkSnapshot      *snapshot,
                IovAxis          *axis)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GdkRGBA dim = _iov_rgba_alpha (&self->palette.fg, 0.6);
  GdkRGBA track = _iov_rgba_alpha (&self->palette.fg, 0.05);
  GdkRGBA listen = _iov_rgba_alpha (&self->palette.accent_bg, 0.12);
  double aw = iov_axis_get_width (axis);

  if (self->lanes->len == 0)
    {
      g_autoptr(PangoLayout) l = _iov_layout_new (widget, _("No notifiers registered: nobody hears the IOMMU"),
                                                  0.85, FALSE);

      _iov_draw_rect (snapshot, IOV_GUTTER_WIDTH, LANE_TOP, aw, LANE_HEIGHT, &track);
      _iov_draw_layout (snapshot, l, IOV_GUTTER_WIDTH + 8, LANE_TOP + 12, &dim);
      return;
    }

  for (guint i = 0; i < self->lanes->len; i++)
    {
      const Lane *lane = &g_array_index (self->lanes, Lane, i);
      double y = _iov_notifier_lanes_lane_y (i);
      gboolean visited = self->progress >= i + 1;
      gboolean unreached = self->aborted && self->abort_lane >= 0 && (int) i > self->abort_lane;
      g_autofree char *order = g_strdup_printf ("%u", i + 1);
      g_autoptr(PangoLayout) ol = _iov_layout_new (widget, order, 0.8, TRUE);
      g_autoptr(PangoLayout) owner = _iov_layout_new (widget, lane->owner ? lane->owner : _("notifier"), 0.85, TRUE);
      g_autoptr(PangoLayout) name = _iov_layout_new (widget, lane->name, 0.75, FALSE);
      static const guint flag_order[] = { IOV_NOTIFIER_MAP, IOV_NOTIFIER_UNMAP, IOV_NOTIFIER_DEVIOTLB_UNMAP };
      GString *flags = g_string_new (NULL);
      double lx0, lx1;
      int w, h, ow, oh;

      /* Gutter: dispatch order, owner, name and flags. */
      {
        GskRoundedRect r;
        GdkRGBA circle = _iov_rgba_alpha (&self->palette.fg, 0.12);

        gsk_rounded_rect_init_from_rect (&r, &GRAPHENE_RECT_INIT (8, y + (LANE_HEIGHT - 20) / 2, 20, 20), 10);
        gtk_snapshot_push_rounded_clip (snapshot, &r);
        gtk_snapshot_append_color (snapshot, &circle, &r.bounds);
        gtk_snapshot_pop (snapshot);
        pango_layout_get_pixel_size (ol, &w, &h);
        _iov_draw_layout (snapshot, ol, 18 - w / 2.0, y + (LANE_HEIGHT - h) / 2, &self->palette.fg);
      }
      pango_layout_get_pixel_size (owner, &ow, &oh);
      _iov_draw_layout (snapshot, owner, 36, y + 3, &self->palette.fg);
      pango_layout_set_width (name, (int) ((IOV_GUTTER_WIDTH - 36 - ow - 12) * PANGO_SCALE));
      pango_layout_set_ellipsize (name, PANGO_ELLIPSIZE_MIDDLE);
      _iov_draw_layout (snapshot, name, 36 + ow + 6, y + 4, &dim);
      for (guint k = 0; k < G_N_ELEMENTS (flag_order); k++)
        if (lane->flags & flag_order[k])
          g_string_append_printf (flags, "%s%s %s", flags->len ? "  " : "", _iov_type_glyph (flag_order[k]),
                                  _iov_type_label (flag_order[k]));
      {
        g_autoptr(PangoLayout) fl = _iov_layout_new (widget, flags->str, 0.7, FALSE);

        _iov_draw_layout (snapshot, fl, 36, y + 4 + oh, &dim);
      }
      g_string_free (flags, TRUE);

      /* The lane and the part of the axis the notifier listens on. */
      _iov_draw_rect (snapshot, IOV_GUTTER_WIDTH, y, aw, LANE_HEIGHT, &track);
      _iov_notifier_lanes_range_x (axis, lane->start, lane->end - lane->start, &lx0, &lx1);
      _iov_draw_rect (snapshot, lx0, y, lx1 - lx0, LANE_HEIGHT, &listen);

      /* Compare Versions: what every release did with this event, on the
       * lane's right, beside what this QEMU did */
      {
        const char *releases = g_hash_table_lookup (self->releases, lane->name);

        if (releases != NULL)
          {
            g_autoptr(PangoLayout) rl = _iov_layout_new (widget, releases, 0.75, TRUE);
            gboolean aborts = strstr (releases, "abort") != NULL;
            GdkRGBA pill = _iov_rgba_alpha (aborts ? &self->palette.error_bg : &self->palette.fg, aborts ? 0.85 : 0.10);
            const GdkRGBA *ink = aborts ? &self->palette.error_fg : &self->palette.fg;
            int rw, rh;

            pango_layout_set_width (rl, (int) (MAX (40, aw * 0.6) * PANGO_SCALE));
            pango_layout_set_ellipsize (rl, PANGO_ELLIPSIZE_START);
            pango_layout_get_pixel_size (rl, &rw, &rh);
            _iov_draw_rect (snapshot, IOV_GUTTER_WIDTH + aw - rw - 12, y + LANE_HEIGHT - rh - 4, rw + 8, rh + 2, &pill);
            _iov_draw_layout (snapshot, rl, IOV_GUTTER_WIDTH + aw - rw - 8, y + LANE_HEIGHT - rh - 3, ink);
          }
      }

      if (!visited)
        continue;

      if (unreached)
        {
          GdkRGBA tint = _iov_rgba_alpha (&self->palette.error_bg, 0.08);
          g_autoptr(PangoLayout) l = _iov_layout_new (widget, _("not reached: QEMU stopped before this notifier"),
                                                      0.8, FALSE);

          _iov_draw_rect (snapshot, IOV_GUTTER_WIDTH, y, aw, LANE_HEIGHT, &tint);
          pango_layout_get_pixel_size (l, &w, &h);
          _iov_draw_layout (snapshot, l, IOV_GUTTER_WIDTH + 8, y + (LANE_HEIGHT - h) / 2, &dim);
          continue;
        }

      if (self->aborted && (int) i == self->abort_lane)
        {
          GdkRGBA band = _iov_rgba_alpha (&self->palette.error_bg, 0.9);

          _iov_draw_rect (snapshot, IOV_GUTTER_WIDTH, y + 4, aw, LANE_HEIGHT - 8, &band);
        }

      for (guint k = 0; k < self->outcomes->len; k++)
        {
          const Outcome *o = &g_array_index (self->outcomes, Outcome, k);

          if (o->lane == (int) i)
            snapshot_outcome (self, snapshot, axis, o, y);
        }

      if (self->aborted && (int) i == self->abort_lane)
        {
          g_autoptr(PangoLayout) l = _iov_layout_new (widget, _("✖ QEMU stops here"), 0.9, TRUE);

          pango_layout_get_pixel_size (l, &w, &h);
          _iov_draw_layout (snapshot, l, IOV_GUTTER_WIDTH + 10, y + (LANE_HEIGHT - h) / 2, &self->palette.error_fg);
        }
      else
        snapshot_lane_text (self, snapshot, i, y, &self->palette.fg);
    }
}

static void
snapshot_abort (IovNotifierLanes *self,
                GtkSnapshot      *snapshot,
                IovAxis          *axis)
{
  GtkWidget *widget = GTK_WIDGET (self);
  double top = _iov_notifier_lanes_bottom (self) + 8;
  double aw = iov_axis_get_width (axis);
  GdkRGBA across = _iov_rgba_alpha (&self->palette.error_bg, 0.10);
  g_autofree char *text = NULL;
  g_autoptr(PangoLayout) title = NULL;
  g_autoptr(PangoLayout) message = NULL;
  int tw, th, mw, mh;

  if (!self->aborted || self->progress < self->lanes->len + 1)
    return;

  /* A red band across every lane: nothing after this happens. */
  _iov_draw_rect (snapshot, 0, LANE_TOP - 4, gtk_widget_get_width (widget), top - LANE_TOP, &across);
  {
    GskRoundedRect r;

    gsk_rounded_rect_init_from_rect (&r, &GRAPHENE_RECT_INIT (8, top, IOV_GUTTER_WIDTH + aw - 8, ABORT_HEIGHT), 8);
    gtk_snapshot_push_rounded_clip (snapshot, &r);
    gtk_snapshot_append_color (snapshot, &self->palette.error_bg, &r.bounds);
    gtk_snapshot_pop (snapshot);
  }

  title = _iov_layout_new (widget, _("✖ QEMU stops here"), 0.95, TRUE);
  pango_layout_get_pixel_size (title, &tw, &th);
  _iov_draw_layout (snapshot, title, 20, top + 8, &self->palette.error_fg);

  message = _iov_layout_new (widget, self->abort_message ? self->abort_message : "", 0.8, FALSE);
  pango_layout_set_width (message, (int) ((IOV_GUTTER_WIDTH + aw - 32) * PANGO_SCALE));
  pango_layout_set_wrap (message, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_height (message, -2);
  pango_layout_set_ellipsize (message, PANGO_ELLIPSIZE_END);
  pango_layout_get_pixel_size (message, &mw, &mh);
  _iov_draw_layout (snapshot, message, 20, top + 10 + th, &self->palette.error_fg);
}

void
_iov_notifier_lanes_snapshot (GtkWidget   *widget,
                             GtkSnapshot *snapshot)
{
  IovNotifierLanes *self = IOV_NOTIFIER_LANES (widget);
  IovAxis *axis = _iov_notifier_lanes_get_axis (self);

  snapshot_source (self, snapshot, axis);
  snapshot_lanes (self, snapshot, axis);
  snapshot_abort (self, snapshot, axis);
}
