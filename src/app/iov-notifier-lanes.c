/* iov-notifier-lanes.c
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

#include <glib/gi18n.h>

#include "iov-axis.h"
#include "iov-drawing-private.h"
#include "iov-notifier-lanes.h"

#define SOURCE_HEIGHT   34.0
#define LANE_TOP        (SOURCE_HEIGHT + 8.0)
#define LANE_HEIGHT     46.0
#define LANE_SPACING    4.0
#define ABORT_HEIGHT    64.0
#define BAR_INSET       8.0
#define STEP_USEC       (280 * G_TIME_SPAN_MILLISECOND)

typedef struct
{
  char    *name;
  char    *owner;
  guint64  start;
  guint64  end;
  guint    flags;
} Lane;

/* An outcome, resolved to a lane index: no pointers kept. */
typedef struct
{
  int      lane;       /* -1: no single notifier */
  int      event;      /* -1: none */
  guint    source;     /* index in the outcomes given to set_step */
  guint8   result;
  guint8   type;
  guint8   cropped;
  guint8   observed;   /* seen in QEMU's trace, not only inferred */
  guint64  iova;
  guint64  addr_mask;
} Outcome;

struct _IovNotifierLanes
{
  GtkWidget   parent_instance;

  GArray     *lanes;      /* Lane */
  GArray     *events;     /* IovTlbEvent */
  GArray     *outcomes;   /* Outcome */
  char       *abort_message;
  int         abort_lane; /* -1: none or no single lane */
  gboolean    aborted;

  GArray     *counts;     /* IovDeliveryCount per lane, or empty */
  char       *caption;

  GArray     *bounds;     /* guint64 */
  IovAxis    *axis;
  IovPalette  palette;

  /* Animation: 0 the IOMMU emits, k ≥ 1 lane k-1 is visited. */
  guint       tick_id;
  gint64      anim_start;
  double      progress;
  double      speed;
};

G_DEFINE_FINAL_TYPE (IovNotifierLanes, iov_notifier_lanes, GTK_TYPE_WIDGET)

static void
lane_clear (Lane *lane)
{
  g_clear_pointer (&lane->name, g_free);
  g_clear_pointer (&lane->owner, g_free);
}

static double
axis_width_for (int width)
{
  return MAX (width - IOV_GUTTER_WIDTH - IOV_AXIS_END_MARGIN, 100.0);
}

static IovAxis *
get_axis (IovNotifierLanes *self)
{
  double width = axis_width_for (gtk_widget_get_width (GTK_WIDGET (self)));

  if (self->axis != NULL && iov_axis_get_width (self->axis) != width)
    g_clear_pointer (&self->axis, iov_axis_unref);
  if (self->axis == NULL)
    self->axis = iov_axis_new ((const guint64 *) (gpointer) self->bounds->data, self->bounds->len,
                               width, IOV_MIN_SEGMENT_WIDTH);
  return self->axis;
}

static double
lane_y (guint lane)
{
  return LANE_TOP + lane * (LANE_HEIGHT + LANE_SPACING);
}

static double
lanes_bottom (IovNotifierLanes *self)
{
  return lane_y (MAX (self->lanes->len, 1)) - LANE_SPACING;
}

/* [x0, x1) of [iova, iova + mask]; a wrapping range is drawn to the end. */
static void
range_x (IovAxis *axis,
         guint64  iova,
         guint64  addr_mask,
         double  *x0,
         double  *x1)
{
  guint64 last = iova + addr_mask;

  if (last < iova)
    last = G_MAXUINT64;
  *x0 = IOV_GUTTER_WIDTH + iov_axis_value_to_x (axis, iova);
  *x1 = IOV_GUTTER_WIDTH + iov_axis_end_to_x (axis, last);
  if (*x1 - *x0 < 3)
    *x1 = *x0 + 3;
}

static char *
format_range (guint64 iova,
              guint64 addr_mask)
{
  guint64 last = iova + addr_mask;

  if (last < iova)
    last = G_MAXUINT64;
  return g_strdup_printf ("0x%" G_GINT64_MODIFIER "x – 0x%" G_GINT64_MODIFIER "x", iova, last);
}

static const char *
flag_word (guint type)
{
  return _iov_type_label (type);
}

/* The one-line text of a lane's outcome. */
static char *
outcome_text (IovNotifierLanes *self,
              const Outcome    *o)
{
  const IovTlbEvent *e = o->event >= 0 ? &g_array_index (self->events, IovTlbEvent, o->event) : NULL;

  switch (o->result)
    {
    case IOV_RESULT_DELIVERED:
      if (o->cropped)
        {
          g_autofree char *range = format_range (o->iova, o->addr_mask);

          /* Translators: %s %s are a glyph and QEMU's flag name, then a range */
          return g_strdup_printf (_("%s %s delivered, cropped to %s"), _iov_type_glyph (o->type),
                                  flag_word (o->type), range);
        }
      return g_strdup_printf (_("%s %s delivered"), _iov_type_glyph (o->type), flag_word (o->type));
    case IOV_RESULT_SKIPPED_RANGE:
      return g_strdup (_("skipped: outside the notifier’s range"));
    case IOV_RESULT_SKIPPED_FLAGS:
      return g_strdup_printf (_("skipped: the notifier does not listen for %s"),
                              e != NULL ? flag_word (e->type) : "?");
    case IOV_RESULT_ABORT:
      return g_strdup (_("✖ assertion fails: QEMU stops here"));
    default:
      return g_strdup ("");
    }
}

static char *count_text (const IovDeliveryCount *c);

static void
update_accessible (IovNotifierLanes *self)
{
  GString *s = g_string_new (NULL);

  if (self->caption != NULL)
    g_string_append (s, self->caption);
  else
    g_string_append_printf (s, g_dngettext (GETTEXT_PACKAGE, "%u event", "%u events", self->events->len),
                            self->events->len);
  for (guint i = 0; i < self->lanes->len; i++)
    {
      const Lane *lane = &g_array_index (self->lanes, Lane, i);

      g_string_append_printf (s, ". ");
      g_string_append_printf (s, _("Lane %u, %s %s"), i + 1, lane->owner ? lane->owner : "", lane->name);
      if (i < self->counts->len)
        {
          g_autofree char *text = count_text (&g_array_index (self->counts, IovDeliveryCount, i));

          if (text != NULL)
            g_string_append_printf (s, "; %s", text);
          continue;
        }
      for (guint k = 0; k < self->outcomes->len; k++)
        {
          const Outcome *o = &g_array_index (self->outcomes, Outcome, k);

          if (o->lane == (int) i)
            {
              g_autofree char *text = outcome_text (self, o);

              g_string_append_printf (s, "; %s", text);
            }
        }
    }
  if (self->aborted && self->abort_message != NULL)
    g_string_append_printf (s, ". %s %s", _("QEMU stops here:"), self->abort_message);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, s->str,
                                  -1);
  g_string_free (s, TRUE);
}

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

      range_x (axis, e->iova, e->addr_mask, &x0, &x1);
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
        g_autofree char *range = format_range (e->iova, e->addr_mask);

        text = g_strdup_printf ("%s %s  %s", _iov_type_glyph (e->type), flag_word (e->type), range);
      }
    else
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s %u event", "%s %u events", self->events->len),
                              _iov_type_glyph (e->type), self->events->len);
    l = _iov_layout_new (widget, text, 0.8, TRUE);
    pango_layout_get_pixel_size (l, &w, &h);
    range_x (axis, e->iova, e->addr_mask, &x0, &x1);
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

            range_x (axis, e->iova, e->addr_mask, &x0, &x1);
            _iov_draw_rect (snapshot, x0, by - 4, x1 - x0, bh + 8, &ghost);
            _iov_draw_dotted (snapshot, x0, by - 4, x1 - x0, bh + 8, &ghost_line);
          }
        range_x (axis, o->iova, o->addr_mask, &x0, &x1);
        _iov_draw_rect (snapshot, x0, by, x1 - x0, bh, &fill);
        _iov_draw_outline (snapshot, x0, by, x1 - x0, bh, 2, color);
      }
      break;

    case IOV_RESULT_SKIPPED_RANGE:
      {
        GdkRGBA line = _iov_rgba_alpha (&self->palette.fg, 0.35);

        range_x (axis, e->iova, e->addr_mask, &x0, &x1);
        _iov_draw_dotted (snapshot, x0, by + 3, x1 - x0, bh - 6, &line);
      }
      break;

    case IOV_RESULT_SKIPPED_FLAGS:
      {
        GdkRGBA fill = _iov_rgba_alpha (&self->palette.fg, 0.10);
        GdkRGBA line = _iov_rgba_alpha (&self->palette.fg, 0.25);

        range_x (axis, e->iova, e->addr_mask, &x0, &x1);
        _iov_draw_rect (snapshot, x0, by + 3, x1 - x0, bh - 6, &fill);
        _iov_draw_outline (snapshot, x0, by + 3, x1 - x0, bh - 6, 1, &line);
      }
      break;

    case IOV_RESULT_ABORT:
      range_x (axis, e->iova, e->addr_mask, &x0, &x1);
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
static char *
count_text (const IovDeliveryCount *c)
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
      text = count_text (&g_array_index (self->counts, IovDeliveryCount, lane));
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
    text = outcome_text (self, first);
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
      double y = lane_y (i);
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
      range_x (axis, lane->start, lane->end - lane->start, &lx0, &lx1);
      _iov_draw_rect (snapshot, lx0, y, lx1 - lx0, LANE_HEIGHT, &listen);

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
  double top = lanes_bottom (self) + 8;
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

static void
iov_notifier_lanes_snapshot (GtkWidget   *widget,
                             GtkSnapshot *snapshot)
{
  IovNotifierLanes *self = IOV_NOTIFIER_LANES (widget);
  IovAxis *axis = get_axis (self);

  snapshot_source (self, snapshot, axis);
  snapshot_lanes (self, snapshot, axis);
  snapshot_abort (self, snapshot, axis);
}

static void
iov_notifier_lanes_measure (GtkWidget      *widget,
                            GtkOrientation  orientation,
                            int             for_size,
                            int            *minimum,
                            int            *natural,
                            int            *minimum_baseline,
                            int            *natural_baseline)
{
  IovNotifierLanes *self = IOV_NOTIFIER_LANES (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = (int) (IOV_GUTTER_WIDTH + IOV_AXIS_END_MARGIN + 6 * IOV_MIN_SEGMENT_WIDTH);
      *natural = *minimum + 400;
    }
  else
    {
      double h = lanes_bottom (self) + 6;

      if (self->aborted)
        h += 8 + ABORT_HEIGHT;
      *minimum = *natural = (int) h;
    }
}

static void
iov_notifier_lanes_size_allocate (GtkWidget *widget,
                                  int        width,
                                  int        height,
                                  int        baseline)
{
  g_clear_pointer (&IOV_NOTIFIER_LANES (widget)->axis, iov_axis_unref);
}

static void
iov_notifier_lanes_css_changed (GtkWidget         *widget,
                                GtkCssStyleChange *change)
{
  IovNotifierLanes *self = IOV_NOTIFIER_LANES (widget);

  GTK_WIDGET_CLASS (iov_notifier_lanes_parent_class)->css_changed (widget, change);
  _iov_palette_load (&self->palette, widget);
  gtk_widget_queue_draw (widget);
}

/* A wrapping label: QEMU's assertion texts are long. */
static void
set_tooltip_text (GtkTooltip *tooltip,
                  const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 70);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_tooltip_set_custom (tooltip, label);
}

static gboolean
iov_notifier_lanes_query_tooltip (GtkWidget  *widget,
                                  int         x,
                                  int         y,
                                  gboolean    keyboard,
                                  GtkTooltip *tooltip)
{
  IovNotifierLanes *self = IOV_NOTIFIER_LANES (widget);
  GString *s;
  guint lane;

  if (keyboard || y < LANE_TOP)
    return FALSE;
  lane = (guint) ((y - LANE_TOP) / (LANE_HEIGHT + LANE_SPACING));
  if (lane >= self->lanes->len)
    {
      if (self->aborted && self->abort_message != NULL)
        {
          set_tooltip_text (tooltip, self->abort_message);
          return TRUE;
        }
      return FALSE;
    }

  s = g_string_new (NULL);
  {
    const Lane *l = &g_array_index (self->lanes, Lane, lane);
    g_autofree char *range = format_range (l->start, l->end - l->start);

    /* Translators: "Notifier 2 of 3 in QEMU's dispatch order" */
    g_string_append_printf (s, _("Notifier %u of %u in QEMU’s dispatch order"), lane + 1, self->lanes->len);
    g_string_append_printf (s, "\n%s %s\n%s", l->owner ? l->owner : "", l->name, range);
  }
  for (guint k = 0; k < self->outcomes->len; k++)
    {
      const Outcome *o = &g_array_index (self->outcomes, Outcome, k);

      if (o->lane == (int) lane)
        {
          g_autofree char *text = outcome_text (self, o);

          g_string_append_printf (s, "\n• %s", text);
        }
    }
  set_tooltip_text (tooltip, s->str);
  g_string_free (s, TRUE);
  return TRUE;
}

static gboolean
anim_tick_cb (GtkWidget     *widget,
              GdkFrameClock *clock,
              gpointer       user_data)
{
  IovNotifierLanes *self = IOV_NOTIFIER_LANES (widget);
  gint64 now = gdk_frame_clock_get_frame_time (clock);
  double end = self->lanes->len + 1;

  if (self->anim_start == 0)
    self->anim_start = now;
  self->progress = (double) (now - self->anim_start) * self->speed / STEP_USEC;
  gtk_widget_queue_draw (widget);
  if (self->progress >= end)
    {
      self->progress = end;
      self->tick_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
stop_animation (IovNotifierLanes *self)
{
  if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
}

static void
iov_notifier_lanes_dispose (GObject *object)
{
  stop_animation (IOV_NOTIFIER_LANES (object));
  G_OBJECT_CLASS (iov_notifier_lanes_parent_class)->dispose (object);
}

static void
iov_notifier_lanes_finalize (GObject *object)
{
  IovNotifierLanes *self = IOV_NOTIFIER_LANES (object);

  g_clear_pointer (&self->lanes, g_array_unref);
  g_clear_pointer (&self->events, g_array_unref);
  g_clear_pointer (&self->outcomes, g_array_unref);
  g_clear_pointer (&self->bounds, g_array_unref);
  g_clear_pointer (&self->axis, iov_axis_unref);
  g_clear_pointer (&self->abort_message, g_free);
  g_clear_pointer (&self->counts, g_array_unref);
  g_clear_pointer (&self->caption, g_free);

  G_OBJECT_CLASS (iov_notifier_lanes_parent_class)->finalize (object);
}

static void
iov_notifier_lanes_class_init (IovNotifierLanesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = iov_notifier_lanes_dispose;
  object_class->finalize = iov_notifier_lanes_finalize;

  widget_class->snapshot = iov_notifier_lanes_snapshot;
  widget_class->measure = iov_notifier_lanes_measure;
  widget_class->size_allocate = iov_notifier_lanes_size_allocate;
  widget_class->css_changed = iov_notifier_lanes_css_changed;
  widget_class->query_tooltip = iov_notifier_lanes_query_tooltip;

  gtk_widget_class_set_css_name (widget_class, "iovnotifierlanes");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
iov_notifier_lanes_init (IovNotifierLanes *self)
{
  self->lanes = g_array_new (FALSE, TRUE, sizeof (Lane));
  g_array_set_clear_func (self->lanes, (GDestroyNotify) lane_clear);
  self->events = g_array_new (FALSE, FALSE, sizeof (IovTlbEvent));
  self->outcomes = g_array_new (FALSE, FALSE, sizeof (Outcome));
  self->counts = g_array_new (FALSE, TRUE, sizeof (IovDeliveryCount));
  self->bounds = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_array_append_val (self->bounds, (guint64) { 0 });
  self->abort_lane = -1;
  self->progress = 1;
  self->speed = 1;

  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Notifier lanes"),
                                  -1);
  _iov_palette_load (&self->palette, GTK_WIDGET (self));
}

GtkWidget *
iov_notifier_lanes_new (void)
{
  return g_object_new (IOV_TYPE_NOTIFIER_LANES, NULL);
}

void
iov_notifier_lanes_set_bounds (IovNotifierLanes *self,
                               GArray           *bounds)
{
  g_return_if_fail (IOV_IS_NOTIFIER_LANES (self));
  g_return_if_fail (bounds != NULL);

  g_array_set_size (self->bounds, 0);
  g_array_append_vals (self->bounds, bounds->data, bounds->len);
  g_clear_pointer (&self->axis, iov_axis_unref);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
iov_notifier_lanes_set_step (IovNotifierLanes          *self,
                             const IovNotifier * const *notifiers,
                             guint                      n_notifiers,
                             const IovTlbEvent         *events,
                             guint                      n_events,
                             const IovOutcome          *outcomes,
                             guint                      n_outcomes,
                             const char                *abort_message)
{
  g_return_if_fail (IOV_IS_NOTIFIER_LANES (self));
  g_return_if_fail (notifiers != NULL || n_notifiers == 0);
  g_return_if_fail (events != NULL || n_events == 0);
  g_return_if_fail (outcomes != NULL || n_outcomes == 0);

  g_array_set_size (self->lanes, 0);
  for (guint i = 0; i < n_notifiers; i++)
    {
      Lane lane = { g_strdup (notifiers[i]->name), g_strdup (notifiers[i]->owner),
                    notifiers[i]->start, notifiers[i]->end, notifiers[i]->flags };

      g_array_append_val (self->lanes, lane);
    }

  g_array_set_size (self->events, 0);
  if (n_events > 0)
    g_array_append_vals (self->events, events, n_events);

  g_array_set_size (self->outcomes, 0);
  self->aborted = abort_message != NULL;
  self->abort_lane = -1;
  for (guint k = 0; k < n_outcomes; k++)
    {
      const IovOutcome *src = &outcomes[k];
      Outcome o = { -1, src->event, k, src->result, src->type, src->cropped, FALSE, src->iova, src->addr_mask };

      for (guint i = 0; i < n_notifiers; i++)
        if (notifiers[i] == src->notifier)
          o.lane = (int) i;
      if (o.event >= (int) n_events)
        o.event = -1;
      if (src->notifier != NULL && o.lane < 0)
        continue;
      if (src->result == IOV_RESULT_ABORT)
        {
          self->aborted = TRUE;
          self->abort_lane = o.lane;
        }
      g_array_append_val (self->outcomes, o);
    }

  g_free (self->abort_message);
  self->abort_message = g_strdup (abort_message);
  g_array_set_size (self->counts, 0);
  g_clear_pointer (&self->caption, g_free);

  stop_animation (self);
  self->anim_start = 0;
  if (gtk_widget_get_mapped (GTK_WIDGET (self)) &&
      (n_events > 0 || self->aborted))
    {
      gboolean animate = TRUE;

      g_object_get (gtk_widget_get_settings (GTK_WIDGET (self)), "gtk-enable-animations", &animate, NULL);
      if (animate)
        {
          self->progress = 0;
          self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), anim_tick_cb, NULL, NULL);
        }
      else
        self->progress = n_notifiers + 1;
    }
  else
    self->progress = n_notifiers + 1;

  update_accessible (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
iov_notifier_lanes_finish_animation (IovNotifierLanes *self)
{
  g_return_if_fail (IOV_IS_NOTIFIER_LANES (self));

  stop_animation (self);
  self->progress = self->lanes->len + 1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
iov_notifier_lanes_set_observed (IovNotifierLanes *self,
                                 const guint8     *observed,
                                 guint             n_outcomes)
{
  g_return_if_fail (IOV_IS_NOTIFIER_LANES (self));
  g_return_if_fail (observed != NULL || n_outcomes == 0);

  for (guint k = 0; k < self->outcomes->len; k++)
    {
      Outcome *o = &g_array_index (self->outcomes, Outcome, k);

      o->observed = o->source < n_outcomes && observed[o->source];
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
iov_notifier_lanes_set_speed (IovNotifierLanes *self,
                              double            speed)
{
  g_return_if_fail (IOV_IS_NOTIFIER_LANES (self));
  g_return_if_fail (speed > 0);

  self->speed = speed;
}

void
iov_notifier_lanes_set_counts (IovNotifierLanes       *self,
                               const char             *caption,
                               const IovDeliveryCount *counts,
                               guint                   n_counts)
{
  g_return_if_fail (IOV_IS_NOTIFIER_LANES (self));
  g_return_if_fail (counts != NULL || n_counts == 0);

  /* Counts replace the animation: the totals are the news. */
  stop_animation (self);
  self->progress = self->lanes->len + 1;
  g_free (self->caption);
  self->caption = g_strdup (caption);
  g_array_set_size (self->counts, 0);
  g_array_set_size (self->counts, self->lanes->len);
  for (guint i = 0; i < self->lanes->len; i++)
    {
      const Lane *lane = &g_array_index (self->lanes, Lane, i);

      for (guint k = 0; k < n_counts; k++)
        if (counts[k].notifier != NULL && g_strcmp0 (counts[k].notifier->name, lane->name) == 0)
          {
            g_array_index (self->counts, IovDeliveryCount, i) = counts[k];
            g_array_index (self->counts, IovDeliveryCount, i).notifier = NULL;  /* not kept */
          }
    }
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
iov_notifier_lanes_is_counting (IovNotifierLanes *self)
{
  g_return_val_if_fail (IOV_IS_NOTIFIER_LANES (self), FALSE);
  return self->counts->len > 0;
}

guint
iov_notifier_lanes_get_n_events (IovNotifierLanes *self)
{
  g_return_val_if_fail (IOV_IS_NOTIFIER_LANES (self), 0);
  return self->events->len;
}

guint
iov_notifier_lanes_get_n_lanes (IovNotifierLanes *self)
{
  g_return_val_if_fail (IOV_IS_NOTIFIER_LANES (self), 0);
  return self->lanes->len;
}
