/* iov-drawing-private.h — colours and shapes shared by the map and lanes
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

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* The map and the lanes share one horizontal layout, so a range lines up
 * with the notifiers and deliveries under it: a gutter for names on the
 * left, then the axis. */
#define IOV_GUTTER_WIDTH      200.0
#define IOV_AXIS_END_MARGIN   28.0
#define IOV_MIN_SEGMENT_WIDTH 44.0

/* Theme colours, looked up in css_changed: never fixed colours for text. */
typedef struct
{
  GdkRGBA fg;
  GdkRGBA accent_bg;
  GdkRGBA accent_fg;
  GdkRGBA warning_bg;
  GdkRGBA warning_fg;
  GdkRGBA error_bg;
  GdkRGBA error_fg;
  GdkRGBA map;         /* success green */
  GdkRGBA unmap;       /* error red */
  GdkRGBA deviotlb;    /* purple */
} IovPalette;

void           _iov_palette_load        (IovPalette        *palette,
                                         GtkWidget         *widget);
const GdkRGBA *_iov_palette_for_type    (const IovPalette  *palette,
                                         guint              type);
GdkRGBA        _iov_rgba_alpha          (const GdkRGBA     *color,
                                         double             alpha);

/* ▲ MAP, ▼ UNMAP, ◆ DEVIOTLB: the shape tells the kind without colour. */
const char    *_iov_type_glyph          (guint              type);
const char    *_iov_type_label          (guint              type);

PangoLayout   *_iov_layout_new          (GtkWidget         *widget,
                                         const char        *text,
                                         double             scale,
                                         gboolean           bold);
/* Draws @layout with its top-left corner at (x, y). */
void           _iov_draw_layout         (GtkSnapshot       *snapshot,
                                         PangoLayout       *layout,
                                         double             x,
                                         double             y,
                                         const GdkRGBA     *color);
void           _iov_draw_rect           (GtkSnapshot       *snapshot,
                                         double             x,
                                         double             y,
                                         double             width,
                                         double             height,
                                         const GdkRGBA     *color);
void           _iov_draw_outline        (GtkSnapshot       *snapshot,
                                         double             x,
                                         double             y,
                                         double             width,
                                         double             height,
                                         double             line,
                                         const GdkRGBA     *color);
void           _iov_draw_hatch          (GtkSnapshot       *snapshot,
                                         double             x,
                                         double             y,
                                         double             width,
                                         double             height,
                                         const GdkRGBA     *color);
void           _iov_draw_dotted         (GtkSnapshot       *snapshot,
                                         double             x,
                                         double             y,
                                         double             width,
                                         double             height,
                                         const GdkRGBA     *color);
/* A flag badge, "▼ UNMAP" on a tint of its colour; returns its width. */
double         _iov_draw_badge          (GtkSnapshot       *snapshot,
                                         GtkWidget         *widget,
                                         const IovPalette  *palette,
                                         guint              type,
                                         double             x,
                                         double             y);

G_END_DECLS
