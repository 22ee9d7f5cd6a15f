/* test-app-util.h — render real widgets under Xvfb
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

static inline void
app_test_wait_for_draw (GtkWidget *widget)
{
  /* gtk_test_widget_wait_for_draw waits for one frame; layout of a fresh
   * window can take a couple, so spin a little more after it. */
  gtk_test_widget_wait_for_draw (widget);
  for (guint i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
}

/* Renders @widget into a texture with its own renderer. */
static inline GdkTexture *
app_test_render (GtkWidget *widget)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  int w = gtk_widget_get_width (widget);
  int h = gtk_widget_get_height (widget);

  g_assert_cmpint (w, >, 0);
  g_assert_cmpint (h, >, 0);
  gdk_paintable_snapshot (paintable, snapshot, w, h);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
  return gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
}

/* Number of distinct colours in the texture: 1 means blank. */
static inline guint
app_test_count_colours (GdkTexture *texture,
                        guint       stop_at)
{
  int w = gdk_texture_get_width (texture);
  int h = gdk_texture_get_height (texture);
  g_autofree guint32 *pixels = g_new (guint32, (gsize) w * h);
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);

  gdk_texture_download (texture, (guchar *) pixels, (gsize) w * 4);
  for (gsize i = 0; i < (gsize) w * h; i++)
    {
      g_hash_table_add (seen, GUINT_TO_POINTER (pixels[i]));
      if (g_hash_table_size (seen) >= stop_at)
        break;
    }
  return g_hash_table_size (seen);
}

/* The colour (0xAARRGGBB) at a pixel. */
static inline guint32
app_test_pixel (GdkTexture *texture,
                int         x,
                int         y)
{
  int w = gdk_texture_get_width (texture);
  int h = gdk_texture_get_height (texture);
  g_autofree guint32 *pixels = g_new (guint32, (gsize) w * h);

  g_assert_cmpint (x, <, w);
  g_assert_cmpint (y, <, h);
  gdk_texture_download (texture, (guchar *) pixels, (gsize) w * 4);
  return pixels[(gsize) y * w + x];
}
