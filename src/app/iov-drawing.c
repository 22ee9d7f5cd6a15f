/* iov-drawing.c
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

#define G_LOG_DOMAIN "iov-drawing"

#include "config.h"

#include "iov-drawing-private.h"
#include "iov-types.h"

static void
lookup (GtkStyleContext *context,
        const char      *name,
        const char      *fallback,
        GdkRGBA         *color)
{
  if (!gtk_style_context_lookup_color (context, name, color))
    gdk_rgba_parse (color, fallback);
}

void
_iov_palette_load (IovPalette *palette,
                   GtkWidget  *widget)
{
  GtkStyleContext *context = gtk_widget_get_style_context (widget);

  gtk_style_context_get_color (context, &palette->fg);
  lookup (context, "accent_bg_color", "#3584e4", &palette->accent_bg);
  lookup (context, "accent_fg_color", "#ffffff", &palette->accent_fg);
  lookup (context, "warning_bg_color", "#e5a50a", &palette->warning_bg);
  lookup (context, "warning_fg_color", "rgba(0,0,0,0.8)", &palette->warning_fg);
  lookup (context, "error_bg_color", "#e01b24", &palette->error_bg);
  lookup (context, "error_fg_color", "#ffffff", &palette->error_fg);
  lookup (context, "success_color", "#1b8553", &palette->map);
  lookup (context, "error_color", "#c01c28", &palette->unmap);
  /* style.css / style-dark.css define it from the palette's purples. */
  lookup (context, "iov_deviotlb_color", "#9141ac", &palette->deviotlb);
}

const GdkRGBA *
_iov_palette_for_type (const IovPalette *palette,
                       guint             type)
{
  switch (type)
    {
    case IOV_NOTIFIER_MAP:
      return &palette->map;
    case IOV_NOTIFIER_UNMAP:
      return &palette->unmap;
    case IOV_NOTIFIER_DEVIOTLB_UNMAP:
      return &palette->deviotlb;
    default:
      return &palette->fg;
    }
}

GdkRGBA
_iov_rgba_alpha (const GdkRGBA *color,
                 double         alpha)
{
  GdkRGBA c = *color;

  c.alpha *= alpha;
  return c;
}

const char *
_iov_type_glyph (guint type)
{
  switch (type)
    {
    case IOV_NOTIFIER_MAP:
      return "▲";
    case IOV_NOTIFIER_UNMAP:
      return "▼";
    case IOV_NOTIFIER_DEVIOTLB_UNMAP:
      return "◆";
    default:
      return "•";
    }
}

const char *
_iov_type_label (guint type)
{
  /* QEMU's flag names: not translated. */
  switch (type)
    {
    case IOV_NOTIFIER_MAP:
      return "MAP";
    case IOV_NOTIFIER_UNMAP:
      return "UNMAP";
    case IOV_NOTIFIER_DEVIOTLB_UNMAP:
      return "DEVIOTLB";
    default:
      return "?";
    }
}

PangoLayout *
_iov_layout_new (GtkWidget  *widget,
                 const char *text,
                 double      scale,
                 gboolean    bold)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, text);
  PangoAttrList *attrs = pango_attr_list_new ();

  if (scale != 1.0)
    pango_attr_list_insert (attrs, pango_attr_scale_new (scale));
  if (bold)
    pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum=1"));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
  return layout;
}

void
_iov_draw_layout (GtkSnapshot   *snapshot,
                  PangoLayout   *layout,
                  double         x,
                  double         y,
                  const GdkRGBA *color)
{
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x, y));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

void
_iov_draw_rect (GtkSnapshot   *snapshot,
                double         x,
                double         y,
                double         width,
                double         height,
                const GdkRGBA *color)
{
  gtk_snapshot_append_color (snapshot, color, &GRAPHENE_RECT_INIT (x, y, width, height));
}

void
_iov_draw_outline (GtkSnapshot   *snapshot,
                   double         x,
                   double         y,
                   double         width,
                   double         height,
                   double         line,
                   const GdkRGBA *color)
{
  GskRoundedRect r;
  const float widths[4] = { line, line, line, line };
  const GdkRGBA colors[4] = { *color, *color, *color, *color };

  gsk_rounded_rect_init_from_rect (&r, &GRAPHENE_RECT_INIT (x, y, width, height), 0);
  gtk_snapshot_append_border (snapshot, &r, widths, colors);
}

void
_iov_draw_hatch (GtkSnapshot   *snapshot,
                 double         x,
                 double         y,
                 double         width,
                 double         height,
                 const GdkRGBA *color)
{
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (x, y, width, height));

  cairo_rectangle (cr, x, y, width, height);
  cairo_clip (cr);
  gdk_cairo_set_source_rgba (cr, color);
  cairo_set_line_width (cr, 2);
  for (double d = -height; d < width; d += 8)
    {
      cairo_move_to (cr, x + d, y + height);
      cairo_line_to (cr, x + d + height, y);
    }
  cairo_stroke (cr);
  cairo_destroy (cr);
}

void
_iov_draw_dotted (GtkSnapshot   *snapshot,
                  double         x,
                  double         y,
                  double         width,
                  double         height,
                  const GdkRGBA *color)
{
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (x - 1, y - 1, width + 2, height + 2));
  const double dash[] = { 2, 3 };

  gdk_cairo_set_source_rgba (cr, color);
  cairo_set_line_width (cr, 1.5);
  cairo_set_dash (cr, dash, G_N_ELEMENTS (dash), 0);
  cairo_rectangle (cr, x + 0.75, y + 0.75, MAX (width - 1.5, 0.5), MAX (height - 1.5, 0.5));
  cairo_stroke (cr);
  cairo_destroy (cr);
}

double
_iov_draw_badge (GtkSnapshot      *snapshot,
                 GtkWidget        *widget,
                 const IovPalette *palette,
                 guint             type,
                 double            x,
                 double            y)
{
  g_autofree char *text = g_strdup_printf ("%s %s", _iov_type_glyph (type), _iov_type_label (type));
  g_autoptr(PangoLayout) layout = _iov_layout_new (widget, text, 0.75, TRUE);
  const GdkRGBA *color = _iov_palette_for_type (palette, type);
  GdkRGBA tint = _iov_rgba_alpha (color, 0.22);
  GskRoundedRect r;
  const float widths[4] = { 1, 1, 1, 1 };
  const GdkRGBA colors[4] = { *color, *color, *color, *color };
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  gsk_rounded_rect_init_from_rect (&r, &GRAPHENE_RECT_INIT (x, y, w + 10, h + 2), 4);
  gtk_snapshot_push_rounded_clip (snapshot, &r);
  gtk_snapshot_append_color (snapshot, &tint, &r.bounds);
  gtk_snapshot_pop (snapshot);
  gtk_snapshot_append_border (snapshot, &r, widths, colors);
  _iov_draw_layout (snapshot, layout, x + 5, y + 1, &palette->fg);
  return w + 10;
}
