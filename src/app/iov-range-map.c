/* iov-range-map.c
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

G_DEFINE_FINAL_TYPE (IovRangeMap, iov_range_map, GTK_TYPE_WIDGET)

static void
range_clear (Range *r)
{
  g_clear_pointer (&r->name, g_free);
}

static void
notifier_clear (Notifier *n)
{
  g_clear_pointer (&n->name, g_free);
  g_clear_pointer (&n->owner, g_free);
}

static const char *
role_name (IovRangeRole role)
{
  switch (role)
    {
    case IOV_RANGE_ROLE_IOMMU:
      return _("IOMMU region");
    case IOV_RANGE_ROLE_INTERRUPT:
      return _("interrupt window");
    case IOV_RANGE_ROLE_PASSTHROUGH:
      return _("pass-through");
    case IOV_RANGE_ROLE_RAM:
      return _("RAM");
    case IOV_RANGE_ROLE_ROM:
      return _("ROM");
    case IOV_RANGE_ROLE_IO:
      return _("I/O");
    default:
      return "";
    }
}

static char *
format_range (guint64 start,
              guint64 end)
{
  g_autofree char *size = NULL;

  if (start == 0 && end == G_MAXUINT64)
    size = g_strdup ("16 EiB");
  else
    size = g_format_size_full (end - start + 1, G_FORMAT_SIZE_IEC_UNITS);
  return g_strdup_printf ("0x%" G_GINT64_MODIFIER "x – 0x%" G_GINT64_MODIFIER "x (%s)", start, end, size);
}

static char *
format_flags (guint flags)
{
  GString *s = g_string_new (NULL);
  static const guint order[] = { IOV_NOTIFIER_MAP, IOV_NOTIFIER_UNMAP, IOV_NOTIFIER_DEVIOTLB_UNMAP };

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    if (flags & order[i])
      g_string_append_printf (s, "%s%s %s", s->len ? ", " : "", _iov_type_glyph (order[i]),
                              _iov_type_label (order[i]));
  if (s->len == 0)
    g_string_append (s, _("no flags"));
  return g_string_free (s, FALSE);
}

/* The event's range, [iova, iova + addr_mask] with 64-bit wrap-around:
 * returns FALSE when it wraps, with the lower piece in @wrap_end. */
static gboolean
event_range (const IovTlbEvent *e,
             guint64           *end,
             guint64           *wrap_end)
{
  guint64 last = e->iova + e->addr_mask;

  if (last < e->iova)
    {
      *end = G_MAXUINT64;
      *wrap_end = last;
      return FALSE;
    }
  *end = last;
  return TRUE;
}

static void
update_accessible (IovRangeMap *self)
{
  GString *s = g_string_new (NULL);

  if (self->title != NULL)
    g_string_append_printf (s, "%s. ", self->title);
  g_string_append_printf (s, g_dngettext (GETTEXT_PACKAGE, "%u range", "%u ranges", self->ranges->len),
                          self->ranges->len);
  g_string_append (s, ": ");
  for (guint i = 0; i < self->ranges->len; i++)
    {
      const Range *r = &g_array_index (self->ranges, Range, i);
      g_autofree char *range = format_range (r->start, r->end);

      g_string_append_printf (s, "%s%s, %s, %s", i ? "; " : "", r->name ? r->name : "",
                              role_name (r->role), range);
    }
  g_string_append (s, ". ");
  g_string_append_printf (s, g_dngettext (GETTEXT_PACKAGE, "%u notifier", "%u notifiers", self->notifiers->len),
                          self->notifiers->len);
  for (guint i = 0; i < self->notifiers->len; i++)
    {
      const Notifier *n = &g_array_index (self->notifiers, Notifier, i);
      g_autofree char *range = format_range (n->start, n->end);
      g_autofree char *flags = format_flags (n->flags);

      g_string_append_printf (s, "%s%s (%s), %s, %s", i ? "; " : ": ", n->name, n->owner ? n->owner : "",
                              range, flags);
    }
  g_string_append (s, ".");

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, s->str,
                                  -1);
  g_string_free (s, TRUE);
}

void
_iov_range_map_recompute_bounds (IovRangeMap *self)
{
  guint64 lo = G_MAXUINT64, hi = 0;

  g_array_set_size (self->bounds, 0);
  iov_axis_bounds_add (self->bounds, 0);
  for (guint i = 0; i < self->ranges->len; i++)
    {
      const Range *r = &g_array_index (self->ranges, Range, i);

      iov_axis_bounds_add_range (self->bounds, r->start, r->end);
    }
  for (guint i = 0; i < self->notifiers->len; i++)
    {
      const Notifier *n = &g_array_index (self->notifiers, Notifier, i);

      iov_axis_bounds_add_range (self->bounds, n->start, n->end);
    }
  /* the mappings' extent gets a segment of its own: pages near 4 GiB
   * would all fall in one pixel of the 0–4 GiB segment */
  if (_iov_range_map_mappings_extent (self, &lo, &hi))
    iov_axis_bounds_add_range (self->bounds, lo, hi);
  iov_axis_bounds_add (self->bounds, G_GUINT64_CONSTANT (1) << 32);
  if (self->aw_bits > 0 && self->aw_bits < 64)
    iov_axis_bounds_add (self->bounds, G_GUINT64_CONSTANT (1) << self->aw_bits);

  g_clear_pointer (&self->axis, iov_axis_unref);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  update_accessible (self);
}

static double
axis_width_for (int width)
{
  return MAX (width - IOV_GUTTER_WIDTH - IOV_AXIS_END_MARGIN, 100.0);
}

IovAxis *
_iov_range_map_get_axis (IovRangeMap *self)
{
  double width = axis_width_for (gtk_widget_get_width (GTK_WIDGET (self)));

  if (self->axis != NULL && iov_axis_get_width (self->axis) != width)
    g_clear_pointer (&self->axis, iov_axis_unref);
  if (self->axis == NULL)
    self->axis = iov_axis_new ((const guint64 *) (gpointer) self->bounds->data, self->bounds->len,
                               width, IOV_MIN_SEGMENT_WIDTH);
  return self->axis;
}

static void
snapshot_labels (IovRangeMap *self,
                 GtkSnapshot *snapshot,
                 IovAxis     *axis)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GdkRGBA dim = _iov_rgba_alpha (&self->palette.fg, 0.6);
  GdkRGBA tick = _iov_rgba_alpha (&self->palette.fg, 0.35);
  double right[2] = { -G_MAXDOUBLE, -G_MAXDOUBLE };
  guint n = self->bounds->len;

  /* Boundaries, then the end of the axis: 2^64. */
  for (guint i = 0; i <= n; i++)
    {
      gboolean is_end = i == n;
      guint64 value = is_end ? 0 : g_array_index (self->bounds, guint64, i);
      double x = IOV_GUTTER_WIDTH + (is_end ? iov_axis_get_width (axis) : iov_axis_value_to_x (axis, value));
      g_autofree char *hex = iov_axis_format_bound (value, is_end);
      g_autofree char *size = iov_axis_format_size (value, is_end);
      g_autoptr(PangoLayout) l1 = _iov_layout_new (widget, hex, 0.8, FALSE);
      g_autoptr(PangoLayout) l2 = _iov_layout_new (widget, size, 0.72, FALSE);
      int w1, h1, w2, h2;
      double w, lx, ly;
      int level;

      pango_layout_get_pixel_size (l1, &w1, &h1);
      pango_layout_get_pixel_size (l2, &w2, &h2);
      w = MAX (w1, w2);
      /* Centred on the boundary, kept inside the widget. */
      lx = CLAMP (x - w / 2, IOV_GUTTER_WIDTH - 8, gtk_widget_get_width (widget) - w - 2);
      if (lx >= right[0] + 6)
        level = 0;
      else if (lx >= right[1] + 6)
        level = 1;
      else
        continue;
      right[level] = lx + w;
      ly = level == 0 ? LABEL_LEVEL_HEIGHT + 2 : 2;

      _iov_draw_rect (snapshot, x - 0.5, ly + h1 + h2, 1, BAR_Y - (ly + h1 + h2), &tick);
      _iov_draw_layout (snapshot, l1, lx + (w - w1) / 2, ly, &self->palette.fg);
      _iov_draw_layout (snapshot, l2, lx + (w - w2) / 2, ly + h1, &dim);
    }
}

static void
snapshot_ranges (IovRangeMap *self,
                 GtkSnapshot *snapshot,
                 IovAxis     *axis,
                 GArray      *ranges)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GdkRGBA trough = _iov_rgba_alpha (&self->palette.fg, 0.06);

  for (guint i = 0; i < ranges->len; i++)
    {
      const Range *r = &g_array_index (ranges, Range, i);
      double x0 = IOV_GUTTER_WIDTH + iov_axis_value_to_x (axis, r->start);
      double x1 = IOV_GUTTER_WIDTH + iov_axis_end_to_x (axis, r->end);
      double w = MAX (x1 - x0, 2.0);
      GdkRGBA fill, text;

      switch (r->role)
        {
        case IOV_RANGE_ROLE_IOMMU:
          fill = self->palette.accent_bg;
          text = self->palette.accent_fg;
          break;
        case IOV_RANGE_ROLE_INTERRUPT:
          fill = self->palette.warning_bg;
          text = self->palette.warning_fg;
          break;
        case IOV_RANGE_ROLE_RAM:
        case IOV_RANGE_ROLE_ROM:
          fill = _iov_rgba_alpha (&self->palette.accent_bg, 0.45);
          text = self->palette.fg;
          break;
        case IOV_RANGE_ROLE_IO:
        case IOV_RANGE_ROLE_PASSTHROUGH:
        default:
          fill = _iov_rgba_alpha (&self->palette.fg, 0.22);
          text = self->palette.fg;
          break;
        }

      _iov_draw_rect (snapshot, x0, BAR_Y, w, BAR_HEIGHT, &fill);
      if (r->role == IOV_RANGE_ROLE_INTERRUPT)
        {
          GdkRGBA hatch = _iov_rgba_alpha (&self->palette.warning_fg, 0.35);

          _iov_draw_hatch (snapshot, x0, BAR_Y, w, BAR_HEIGHT, &hatch);
        }

      /* A line between neighbours, so adjacent ranges stay two shapes. */
      if (i > 0)
        _iov_draw_rect (snapshot, x0, BAR_Y, 1, BAR_HEIGHT, &trough);

      if (r->name != NULL && w > 24)
        {
          g_autoptr(PangoLayout) name = _iov_layout_new (widget, r->name, 0.85, TRUE);
          g_autoptr(PangoLayout) role = _iov_layout_new (widget, role_name (r->role), 0.72, FALSE);
          GdkRGBA dim = _iov_rgba_alpha (&text, 0.8);
          int nw, nh, rw, rh;

          pango_layout_set_width (name, (int) ((w - 8) * PANGO_SCALE));
          pango_layout_set_ellipsize (name, PANGO_ELLIPSIZE_END);
          pango_layout_set_width (role, (int) ((w - 8) * PANGO_SCALE));
          pango_layout_set_ellipsize (role, PANGO_ELLIPSIZE_END);
          pango_layout_get_pixel_size (name, &nw, &nh);
          pango_layout_get_pixel_size (role, &rw, &rh);
          gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (x0, BAR_Y, w, BAR_HEIGHT));
          _iov_draw_layout (snapshot, name, x0 + 5, BAR_Y + (BAR_HEIGHT - nh - rh) / 2, &text);
          _iov_draw_layout (snapshot, role, x0 + 5, BAR_Y + (BAR_HEIGHT - nh - rh) / 2 + nh, &dim);
          gtk_snapshot_pop (snapshot);
        }
    }
}

static void
snapshot_bar (IovRangeMap *self,
              GtkSnapshot *snapshot,
              IovAxis     *axis)
{
  GdkRGBA trough = _iov_rgba_alpha (&self->palette.fg, 0.06);

  _iov_draw_rect (snapshot, IOV_GUTTER_WIDTH, BAR_Y, iov_axis_get_width (axis), BAR_HEIGHT, &trough);

  /* When the layout changes (the guest turns DMA remapping on or off),
   * the new ranges fade in over the old ones. */
  if (self->morph < 1 && self->old_ranges->len > 0)
    {
      snapshot_ranges (self, snapshot, axis, self->old_ranges);
      gtk_snapshot_push_opacity (snapshot, self->morph);
      snapshot_ranges (self, snapshot, axis, self->ranges);
      gtk_snapshot_pop (snapshot);
    }
  else
    snapshot_ranges (self, snapshot, axis, self->ranges);
}

static void
snapshot_notifiers (IovRangeMap *self,
                    GtkSnapshot *snapshot,
                    IovAxis     *axis)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GdkRGBA dim = _iov_rgba_alpha (&self->palette.fg, 0.6);
  GdkRGBA bar = _iov_rgba_alpha (&self->palette.accent_bg, 0.28);
  GdkRGBA border = _iov_rgba_alpha (&self->palette.accent_bg, 0.9);

  if (self->notifiers->len == 0)
    {
      g_autoptr(PangoLayout) l = _iov_layout_new (widget, _("No notifiers registered"), 0.85, FALSE);

      _iov_draw_layout (snapshot, l, IOV_GUTTER_WIDTH + 4, ROW_TOP + 4, &dim);
      return;
    }

  for (guint i = 0; i < self->notifiers->len; i++)
    {
      const Notifier *n = &g_array_index (self->notifiers, Notifier, i);
      double y = ROW_TOP + i * (ROW_HEIGHT + ROW_SPACING);
      double x0 = IOV_GUTTER_WIDTH + iov_axis_value_to_x (axis, n->start);
      double x1 = IOV_GUTTER_WIDTH + iov_axis_end_to_x (axis, n->end);
      double w = MAX (x1 - x0, 2.0);
      g_autoptr(PangoLayout) owner = _iov_layout_new (widget, n->owner ? n->owner : _("notifier"), 0.85, TRUE);
      g_autoptr(PangoLayout) name = _iov_layout_new (widget, n->name, 0.8, FALSE);
      static const guint order[] = { IOV_NOTIFIER_MAP, IOV_NOTIFIER_UNMAP, IOV_NOTIFIER_DEVIOTLB_UNMAP };
      int ow, oh, nw, nh;
      double bx;

      pango_layout_get_pixel_size (owner, &ow, &oh);
      pango_layout_get_pixel_size (name, &nw, &nh);
      pango_layout_set_width (name, (int) ((IOV_GUTTER_WIDTH - ow - 24) * PANGO_SCALE));
      pango_layout_set_ellipsize (name, PANGO_ELLIPSIZE_MIDDLE);
      _iov_draw_layout (snapshot, owner, 8, y + (ROW_HEIGHT - oh) / 2, &self->palette.fg);
      _iov_draw_layout (snapshot, name, 8 + ow + 6, y + (ROW_HEIGHT - nh) / 2, &dim);

      _iov_draw_rect (snapshot, x0, y, w, ROW_HEIGHT, &bar);
      _iov_draw_outline (snapshot, x0, y, w, ROW_HEIGHT, 1, &border);

      /* Badges inside the bar when they fit, else just after it. */
      bx = x0 + 4;
      if (w < 90)
        bx = x1 + 4;
      for (guint k = 0; k < G_N_ELEMENTS (order); k++)
        if (n->flags & order[k])
          bx += _iov_draw_badge (snapshot, widget, &self->palette, order[k], bx, y + 4) + 4;
    }
}

static void
snapshot_invalidations (IovRangeMap *self,
                        GtkSnapshot *snapshot,
                        IovAxis     *axis)
{
  double bottom = ROW_TOP + MAX (self->notifiers->len, 1) * (ROW_HEIGHT + ROW_SPACING) - ROW_SPACING;
  double emphasis = 0.3 + 0.7 * self->flash;

  for (guint i = 0; i < self->events->len; i++)
    {
      const IovTlbEvent *e = &g_array_index (self->events, IovTlbEvent, i);
      const GdkRGBA *color = _iov_palette_for_type (&self->palette, e->type);
      GdkRGBA fill = _iov_rgba_alpha (color, 0.35 * emphasis);
      GdkRGBA column = _iov_rgba_alpha (color, 0.10 * emphasis);
      guint64 end, wrap_end;
      guint64 pieces[2][2];
      guint n_pieces = 1;

      pieces[0][0] = e->iova;
      if (!event_range (e, &end, &wrap_end))
        {
          pieces[1][0] = 0;
          pieces[1][1] = wrap_end;
          n_pieces = 2;
        }
      pieces[0][1] = end;

      for (guint p = 0; p < n_pieces; p++)
        {
          double x0 = IOV_GUTTER_WIDTH + iov_axis_value_to_x (axis, pieces[p][0]);
          double x1 = IOV_GUTTER_WIDTH + iov_axis_end_to_x (axis, pieces[p][1]);
          double w = MAX (x1 - x0, 2.0);

          _iov_draw_rect (snapshot, x0, BAR_Y + BAR_HEIGHT, w, bottom - BAR_Y - BAR_HEIGHT, &column);
          _iov_draw_rect (snapshot, x0, BAR_Y - 4, w, BAR_HEIGHT + 8, &fill);
          _iov_draw_outline (snapshot, x0, BAR_Y - 4, w, BAR_HEIGHT + 8, 2, color);
        }
    }
}

static void
iov_range_map_snapshot (GtkWidget   *widget,
                        GtkSnapshot *snapshot)
{
  IovRangeMap *self = IOV_RANGE_MAP (widget);
  IovAxis *axis = _iov_range_map_get_axis (self);
  GdkRGBA dim = _iov_rgba_alpha (&self->palette.fg, 0.6);

  if (self->title != NULL)
    {
      g_autoptr(PangoLayout) title = _iov_layout_new (widget, self->title, 0.9, TRUE);
      int tw, th;

      pango_layout_set_width (title, (int) ((IOV_GUTTER_WIDTH - 16) * PANGO_SCALE));
      pango_layout_set_ellipsize (title, PANGO_ELLIPSIZE_END);
      pango_layout_get_pixel_size (title, &tw, &th);
      _iov_draw_layout (snapshot, title, 8, BAR_Y + 4, &self->palette.fg);
      if (self->subtitle != NULL)
        {
          g_autoptr(PangoLayout) sub = _iov_layout_new (widget, self->subtitle, 0.8, FALSE);

          pango_layout_set_width (sub, (int) ((IOV_GUTTER_WIDTH - 16) * PANGO_SCALE));
          pango_layout_set_ellipsize (sub, PANGO_ELLIPSIZE_END);
          _iov_draw_layout (snapshot, sub, 8, BAR_Y + 4 + th, &dim);
        }
    }

  snapshot_labels (self, snapshot, axis);
  snapshot_bar (self, snapshot, axis);
  snapshot_notifiers (self, snapshot, axis);
  _iov_range_map_snapshot_mappings (self, snapshot, axis);
  snapshot_invalidations (self, snapshot, axis);
}

static void
iov_range_map_measure (GtkWidget      *widget,
                       GtkOrientation  orientation,
                       int             for_size,
                       int            *minimum,
                       int            *natural,
                       int            *minimum_baseline,
                       int            *natural_baseline)
{
  IovRangeMap *self = IOV_RANGE_MAP (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = (int) (IOV_GUTTER_WIDTH + IOV_AXIS_END_MARGIN + 6 * IOV_MIN_SEGMENT_WIDTH);
      *natural = *minimum + 400;
    }
  else
    {
      guint rows = MAX (self->notifiers->len, 1);

      *minimum = *natural = (int) (ROW_TOP + rows * (ROW_HEIGHT + ROW_SPACING) - ROW_SPACING + BOTTOM_PADDING);
    }
}

static void
iov_range_map_size_allocate (GtkWidget *widget,
                             int        width,
                             int        height,
                             int        baseline)
{
  IovRangeMap *self = IOV_RANGE_MAP (widget);

  g_clear_pointer (&self->axis, iov_axis_unref);
}

static void
iov_range_map_css_changed (GtkWidget         *widget,
                           GtkCssStyleChange *change)
{
  IovRangeMap *self = IOV_RANGE_MAP (widget);

  GTK_WIDGET_CLASS (iov_range_map_parent_class)->css_changed (widget, change);
  _iov_palette_load (&self->palette, widget);
  gtk_widget_queue_draw (widget);
}

static gboolean
iov_range_map_query_tooltip (GtkWidget  *widget,
                             int         x,
                             int         y,
                             gboolean    keyboard,
                             GtkTooltip *tooltip)
{
  IovRangeMap *self = IOV_RANGE_MAP (widget);
  IovAxis *axis = _iov_range_map_get_axis (self);
  GString *s = g_string_new (NULL);
  guint64 value;

  if (keyboard || x < IOV_GUTTER_WIDTH || x > IOV_GUTTER_WIDTH + iov_axis_get_width (axis))
    {
      g_string_free (s, TRUE);
      return FALSE;
    }

  value = iov_axis_x_to_value (axis, x - IOV_GUTTER_WIDTH);
  {
    g_autofree char *hex = iov_axis_format_bound (value, FALSE);

    /* Translators: %s is an address such as 0xfee00000 */
    g_string_append_printf (s, _("Address %s"), hex);
  }

  if (y >= BAR_Y - 4 && y < BAR_Y + BAR_HEIGHT + 4)
    {
      _iov_range_map_describe_mappings (self, value, s);
      for (guint i = 0; i < self->ranges->len; i++)
        {
          const Range *r = &g_array_index (self->ranges, Range, i);

          if (value >= r->start && value <= r->end)
            {
              g_autofree char *range = format_range (r->start, r->end);

              g_string_append_printf (s, "\n%s — %s\n%s", r->name ? r->name : "", role_name (r->role), range);
            }
        }
    }
  else if (y >= ROW_TOP)
    {
      guint row = (guint) ((y - ROW_TOP) / (ROW_HEIGHT + ROW_SPACING));

      if (row < self->notifiers->len)
        {
          const Notifier *n = &g_array_index (self->notifiers, Notifier, row);
          g_autofree char *range = format_range (n->start, n->end);
          g_autofree char *flags = format_flags (n->flags);

          g_string_append_printf (s, "\n%s %s\n%s\n%s", n->owner ? n->owner : "", n->name, range, flags);
        }
    }

  g_string_append (s, "\n\n");
  g_string_append (s, _("The axis is not to scale: it is cut at every range and notifier boundary, at 4 GiB "
                        "and at 2^aw-bits. Each segment's width grows with the logarithm of its size, and "
                        "addresses are linear inside a segment, so a 1 MiB window stays visible next to "
                        "the 16 EiB of a 64-bit space."));
  {
    /* A label of our own: a plain text tooltip would not wrap the
     * explanation. */
    GtkWidget *label = gtk_label_new (s->str);

    gtk_label_set_wrap (GTK_LABEL (label), TRUE);
    gtk_label_set_max_width_chars (GTK_LABEL (label), 60);
    gtk_label_set_xalign (GTK_LABEL (label), 0);
    gtk_tooltip_set_custom (tooltip, label);
  }
  g_string_free (s, TRUE);
  return TRUE;
}

static gboolean
flash_tick_cb (GtkWidget     *widget,
               GdkFrameClock *clock,
               gpointer       user_data)
{
  IovRangeMap *self = IOV_RANGE_MAP (widget);
  gint64 now = gdk_frame_clock_get_frame_time (clock);

  if (self->flash_start == 0)
    self->flash_start = now;
  self->flash = 1.0 - (double) (now - self->flash_start) / FLASH_USEC;
  gtk_widget_queue_draw (widget);
  if (self->flash <= 0)
    {
      self->flash = 0;
      self->flash_tick_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
morph_tick_cb (GtkWidget     *widget,
               GdkFrameClock *clock,
               gpointer       user_data)
{
  IovRangeMap *self = IOV_RANGE_MAP (widget);
  gint64 now = gdk_frame_clock_get_frame_time (clock);
  double t;

  if (self->morph_start == 0)
    self->morph_start = now;
  t = MIN ((double) (now - self->morph_start) / MORPH_USEC, 1.0);
  self->morph = t * t * (3 - 2 * t);
  gtk_widget_queue_draw (widget);
  if (t >= 1)
    {
      self->morph = 1;
      self->morph_tick_id = 0;
      g_array_set_size (self->old_ranges, 0);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
iov_range_map_dispose (GObject *object)
{
  IovRangeMap *self = IOV_RANGE_MAP (object);

  if (self->morph_tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->morph_tick_id);
      self->morph_tick_id = 0;
    }

  if (self->flash_tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->flash_tick_id);
      self->flash_tick_id = 0;
    }

  G_OBJECT_CLASS (iov_range_map_parent_class)->dispose (object);
}

static void
iov_range_map_finalize (GObject *object)
{
  IovRangeMap *self = IOV_RANGE_MAP (object);

  g_clear_pointer (&self->title, g_free);
  g_clear_pointer (&self->subtitle, g_free);
  g_clear_pointer (&self->ranges, g_array_unref);
  g_clear_pointer (&self->old_ranges, g_array_unref);
  g_clear_pointer (&self->notifiers, g_array_unref);
  g_clear_pointer (&self->events, g_array_unref);
  g_clear_pointer (&self->mapped, g_array_unref);
  g_clear_pointer (&self->bounds, g_array_unref);
  g_clear_pointer (&self->axis, iov_axis_unref);

  G_OBJECT_CLASS (iov_range_map_parent_class)->finalize (object);
}

static void
iov_range_map_class_init (IovRangeMapClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = iov_range_map_dispose;
  object_class->finalize = iov_range_map_finalize;

  widget_class->snapshot = iov_range_map_snapshot;
  widget_class->measure = iov_range_map_measure;
  widget_class->size_allocate = iov_range_map_size_allocate;
  widget_class->css_changed = iov_range_map_css_changed;
  widget_class->query_tooltip = iov_range_map_query_tooltip;

  gtk_widget_class_set_css_name (widget_class, "iovrangemap");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
iov_range_map_init (IovRangeMap *self)
{
  self->ranges = g_array_new (FALSE, TRUE, sizeof (Range));
  g_array_set_clear_func (self->ranges, (GDestroyNotify) range_clear);
  self->old_ranges = g_array_new (FALSE, TRUE, sizeof (Range));
  g_array_set_clear_func (self->old_ranges, (GDestroyNotify) range_clear);
  self->morph = 1;
  self->notifiers = g_array_new (FALSE, TRUE, sizeof (Notifier));
  self->mapped = g_array_new (FALSE, FALSE, sizeof (IovRangeMapMark));
  g_array_set_clear_func (self->notifiers, (GDestroyNotify) notifier_clear);
  self->events = g_array_new (FALSE, FALSE, sizeof (IovTlbEvent));
  self->bounds = g_array_new (FALSE, FALSE, sizeof (guint64));

  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Address-space map"),
                                  -1);
  _iov_palette_load (&self->palette, GTK_WIDGET (self));
  _iov_range_map_recompute_bounds (self);
}

GtkWidget *
iov_range_map_new (void)
{
  return g_object_new (IOV_TYPE_RANGE_MAP, NULL);
}

void
iov_range_map_set_title (IovRangeMap *self,
                         const char  *title,
                         const char  *subtitle)
{
  g_return_if_fail (IOV_IS_RANGE_MAP (self));

  g_free (self->title);
  self->title = g_strdup (title);
  g_free (self->subtitle);
  self->subtitle = g_strdup (subtitle);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
iov_range_map_set_ranges (IovRangeMap       *self,
                          const IovMapRange *ranges,
                          guint              n_ranges)
{
  gboolean same = TRUE;
  GArray *old;

  g_return_if_fail (IOV_IS_RANGE_MAP (self));
  g_return_if_fail (ranges != NULL || n_ranges == 0);

  if (n_ranges != self->ranges->len)
    same = FALSE;
  for (guint i = 0; same && i < n_ranges; i++)
    {
      const Range *r = &g_array_index (self->ranges, Range, i);

      same = r->start == ranges[i].start && r->end == ranges[i].end && r->role == ranges[i].role &&
             g_strcmp0 (r->name, ranges[i].name) == 0;
    }
  if (same)
    return;

  /* Keep what is on screen to fade from. */
  old = self->old_ranges;
  self->old_ranges = self->ranges;
  self->ranges = old;
  g_array_set_size (self->ranges, 0);
  for (guint i = 0; i < n_ranges; i++)
    {
      Range r = { ranges[i].start, ranges[i].end, ranges[i].role, g_strdup (ranges[i].name) };

      g_array_append_val (self->ranges, r);
    }

  if (self->morph_tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->morph_tick_id);
      self->morph_tick_id = 0;
    }
  self->morph = 1;
  if (self->old_ranges->len > 0 && gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      gboolean animate = TRUE;

      g_object_get (gtk_widget_get_settings (GTK_WIDGET (self)), "gtk-enable-animations", &animate, NULL);
      if (animate)
        {
          self->morph = 0;
          self->morph_start = 0;
          self->morph_tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), morph_tick_cb, NULL, NULL);
        }
    }
  if (self->morph_tick_id == 0)
    g_array_set_size (self->old_ranges, 0);
  _iov_range_map_recompute_bounds (self);
}

void
iov_range_map_set_aw_bits (IovRangeMap *self,
                           guint        aw_bits)
{
  g_return_if_fail (IOV_IS_RANGE_MAP (self));

  if (self->aw_bits == aw_bits)
    return;
  self->aw_bits = aw_bits;
  _iov_range_map_recompute_bounds (self);
}

void
iov_range_map_set_notifiers (IovRangeMap               *self,
                             const IovNotifier * const *notifiers,
                             guint                      n_notifiers)
{
  g_return_if_fail (IOV_IS_RANGE_MAP (self));
  g_return_if_fail (notifiers != NULL || n_notifiers == 0);

  g_array_set_size (self->notifiers, 0);
  for (guint i = 0; i < n_notifiers; i++)
    {
      const IovNotifier *src = notifiers[i];
      Notifier n = { g_strdup (src->name), g_strdup (src->owner), src->start, src->end, src->flags };

      g_array_append_val (self->notifiers, n);
    }
  _iov_range_map_recompute_bounds (self);
}

void
iov_range_map_set_invalidations (IovRangeMap       *self,
                                 const IovTlbEvent *events,
                                 guint              n_events)
{
  g_return_if_fail (IOV_IS_RANGE_MAP (self));
  g_return_if_fail (events != NULL || n_events == 0);

  g_array_set_size (self->events, 0);
  if (n_events > 0)
    g_array_append_vals (self->events, events, n_events);

  self->flash = n_events > 0 ? 1.0 : 0.0;
  self->flash_start = 0;
  if (n_events > 0 && self->flash_tick_id == 0 && gtk_widget_get_mapped (GTK_WIDGET (self)))
    self->flash_tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), flash_tick_cb, NULL, NULL);
  else if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    self->flash = 0;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

GArray *
iov_range_map_get_bounds (IovRangeMap *self)
{
  g_return_val_if_fail (IOV_IS_RANGE_MAP (self), NULL);
  return self->bounds;
}

void
iov_range_map_get_bar_area (IovRangeMap     *self,
                            graphene_rect_t *area)
{
  g_return_if_fail (IOV_IS_RANGE_MAP (self));
  g_return_if_fail (area != NULL);

  graphene_rect_init (area, IOV_GUTTER_WIDTH, BAR_Y,
                      axis_width_for (gtk_widget_get_width (GTK_WIDGET (self))), BAR_HEIGHT);
}

guint
iov_range_map_get_n_notifiers (IovRangeMap *self)
{
  g_return_val_if_fail (IOV_IS_RANGE_MAP (self), 0);
  return self->notifiers->len;
}
