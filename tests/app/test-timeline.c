/* test-timeline.c
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

#include <adwaita.h>
#include <glib/gstdio.h>

#include "iov-drawing-private.h"
#include "iov-event-store.h"
#include "iov-live-view.h"
#include "iov-recording.h"
#include "iov-timeline.h"
#include "test-app-util.h"

#define SECOND G_GUINT64_CONSTANT (1000000000)
/* iov-timeline.c's layout: the axis, then one row per kind */
#define AXIS_HEIGHT 22
#define ROW_STRIDE  22

typedef struct
{
  IovTraceCatalog *catalog;
  IovEventStore   *store;
  GtkWidget       *window;
  IovTimeline     *timeline;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->catalog = iov_trace_catalog_new_builtin ();
  f->store = iov_event_store_new (f->catalog);
  f->window = gtk_window_new ();
  f->timeline = IOV_TIMELINE (iov_timeline_new ());
  gtk_window_set_default_size (GTK_WINDOW (f->window), 800, 200);
  gtk_window_set_child (GTK_WINDOW (f->window), GTK_WIDGET (f->timeline));
  iov_timeline_set_store (f->timeline, f->store, f->catalog);
  gtk_window_present (GTK_WINDOW (f->window));
  app_test_wait_for_draw (f->window);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  gtk_window_destroy (GTK_WINDOW (f->window));
  iov_event_store_free (f->store);
  iov_trace_catalog_free (f->catalog);
}

/* The first event id whose name matches @pattern. */
static guint
event_matching (IovTraceCatalog *catalog,
                const char      *pattern)
{
  for (guint id = 0; id < iov_trace_catalog_get_n_events (catalog); id++)
    if (g_pattern_match_simple (pattern, iov_trace_catalog_get_name (catalog, id)))
      return id;
  g_assert_not_reached ();
}

static void
redraw (Fixture *f)
{
  gtk_widget_queue_draw (GTK_WIDGET (f->timeline));
  app_test_wait_for_draw (f->window);
}

static guint32 *
download (GdkTexture *texture)
{
  int w = gdk_texture_get_width (texture);
  int h = gdk_texture_get_height (texture);
  guint32 *pixels = g_new (guint32, (gsize) w * h);

  gdk_texture_download (texture, (guchar *) pixels, (gsize) w * 4);
  return pixels;
}

static void
test_renders (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GdkTexture) empty = NULL;
  g_autoptr(GdkTexture) full = NULL;
  guint id = event_matching (f->catalog, "*translat*");

  empty = app_test_render (GTK_WIDGET (f->timeline));
  /* labels only */
  g_assert_cmpuint (app_test_count_colours (empty, 2), ==, 2);

  for (guint i = 0; i < 10000; i++)
    iov_event_store_append_raw (f->store, i * (SECOND / 10000), id, "", 0);
  iov_timeline_events_appended (f->timeline);
  redraw (f);
  full = app_test_render (GTK_WIDGET (f->timeline));
  g_assert_cmpuint (app_test_count_colours (full, 8), >=, 4);
  /* translations, invalidations, map notifiers, notifier evidence, faults, other */
  g_assert_cmpuint (iov_timeline_get_n_kinds (f->timeline), ==, 6);
}

/* Events only in [0.2 s, 0.4 s) of a 0–2 s range: the columns that differ
 * from an empty store's picture are those, in the translations' row, and
 * the right half stays background. */
static void
test_bins_from_store (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(IovEventStore) empty_store = iov_event_store_new (f->catalog);
  g_autoptr(GdkTexture) before = NULL;
  g_autoptr(GdkTexture) after = NULL;
  g_autofree guint32 *a = NULL;
  g_autofree guint32 *b = NULL;
  guint id = event_matching (f->catalog, "*translat*");
  double px, pw;
  int w, h, lit_min = G_MAXINT, lit_max = -1, lit = 0;

  /* the axis and its grid must not depend on the data here */
  iov_timeline_set_absolute_axis (f->timeline, TRUE);
  /* an empty store first, with the same range */
  iov_timeline_set_store (f->timeline, empty_store, f->catalog);
  iov_timeline_set_range (f->timeline, 0, 2 * SECOND);
  redraw (f);
  before = app_test_render (GTK_WIDGET (f->timeline));

  for (guint i = 0; i < 20000; i++)
    iov_event_store_append_raw (f->store, SECOND / 5 + i * (SECOND / 5 / 20000), id, "", 0);
  iov_timeline_set_store (f->timeline, f->store, f->catalog);
  iov_timeline_set_range (f->timeline, 0, 2 * SECOND);
  g_assert_false (iov_timeline_get_follow_live (f->timeline));
  redraw (f);
  after = app_test_render (GTK_WIDGET (f->timeline));

  w = gdk_texture_get_width (after);
  h = gdk_texture_get_height (after);
  g_assert_cmpint (gdk_texture_get_width (before), ==, w);
  a = download (before);
  b = download (after);
  iov_timeline_get_plot_area (f->timeline, &px, &pw);

  for (int x = 0; x < w; x++)
    {
      gboolean column_lit = FALSE;

      for (int y = 0; y < h; y++)
        if (a[(gsize) y * w + x] != b[(gsize) y * w + x])
          {
            /* only in the translations' row */
            g_assert_cmpint (y, >=, AXIS_HEIGHT);
            g_assert_cmpint (y, <, AXIS_HEIGHT + ROW_STRIDE);
            column_lit = TRUE;
          }
      if (column_lit)
        {
          lit++;
          lit_min = MIN (lit_min, x);
          lit_max = MAX (lit_max, x);
        }
    }
  g_test_message ("lit columns %d in [%d, %d], plot %.0f+%.0f", lit, lit_min, lit_max, px, pw);
  g_assert_cmpint (lit_min, >=, (int) floor (px + pw * 0.1) - 1);
  g_assert_cmpint (lit_max, <=, (int) ceil (px + pw * 0.2) + 1);
  g_assert_cmpint (lit, >=, (int) (pw * 0.1 * 0.9));
  /* the right half is background */
  g_assert_cmpint (lit_max, <, (int) (px + pw / 2));
}

static void
test_follow (Fixture       *f,
             gconstpointer  data)
{
  guint id = event_matching (f->catalog, "*inv*");
  guint64 t0, t1, u0, u1;

  for (guint i = 0; i < 1000; i++)
    iov_event_store_append_raw (f->store, i * (SECOND / 100), id, "", 0);
  iov_timeline_events_appended (f->timeline);
  redraw (f);
  g_assert_true (iov_timeline_get_follow_live (f->timeline));
  iov_timeline_get_range (f->timeline, &t0, &t1);
  g_assert_cmpuint (t1, >, 999 * (SECOND / 100));

  /* new events move the range while following */
  for (guint i = 1000; i < 2000; i++)
    iov_event_store_append_raw (f->store, i * (SECOND / 100), id, "", 0);
  iov_timeline_events_appended (f->timeline);
  redraw (f);
  iov_timeline_get_range (f->timeline, &u0, &u1);
  g_assert_cmpuint (u1, >, 1999 * (SECOND / 100));
  g_assert_cmpuint (u1 - u0, ==, t1 - t0);

  /* scrolling back stops following: new events leave the range alone */
  iov_timeline_pan (f->timeline, -0.5);
  g_assert_false (iov_timeline_get_follow_live (f->timeline));
  iov_timeline_get_range (f->timeline, &t0, &t1);
  for (guint i = 2000; i < 3000; i++)
    iov_event_store_append_raw (f->store, i * (SECOND / 100), id, "", 0);
  iov_timeline_events_appended (f->timeline);
  redraw (f);
  iov_timeline_get_range (f->timeline, &u0, &u1);
  g_assert_cmpuint (u0, ==, t0);
  g_assert_cmpuint (u1, ==, t1);

  /* End follows again */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->timeline), "timeline.follow-live", NULL));
  iov_timeline_get_range (f->timeline, &u0, &u1);
  g_assert_true (iov_timeline_get_follow_live (f->timeline));
  g_assert_cmpuint (u1, >, 2999 * (SECOND / 100));

  /* zoom: + halves… by ZOOM_STEP, − undoes it */
  iov_timeline_get_range (f->timeline, &t0, &t1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->timeline), "timeline.zoom-in", NULL));
  iov_timeline_get_range (f->timeline, &u0, &u1);
  g_assert_cmpuint (u1 - u0, <, t1 - t0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->timeline), "timeline.zoom-out", NULL));
  iov_timeline_get_range (f->timeline, &u0, &u1);
  g_assert_cmpfloat (ABS ((double) (u1 - u0) - (double) (t1 - t0)), <, (t1 - t0) * 1e-6);
}

/* Following live input bins only the new events each frame; the picture
 * must be the one a fresh timeline binning everything draws. */
static void
test_incremental (Fixture       *f,
                  gconstpointer  data)
{
  GtkWidget *window = gtk_window_new ();
  IovTimeline *fresh = IOV_TIMELINE (iov_timeline_new ());
  g_autoptr(GdkTexture) a = NULL;
  g_autoptr(GdkTexture) b = NULL;
  g_autofree guint32 *pa = NULL;
  g_autofree guint32 *pb = NULL;
  guint ids[] = { event_matching (f->catalog, "*translat*"), event_matching (f->catalog, "*inv*"),
                  event_matching (f->catalog, "*fault*") };
  guint64 ts = 0, t0, t1;
  int w, h;

  /* 12 s first, so the 10 s range moves by a few bins per frame */
  for (guint i = 0; i < 12000; i++, ts += 997 * 1000)
    iov_event_store_append_raw (f->store, ts, ids[i % 3], "", 0);
  for (guint frame = 0; frame < 30; frame++)
    {
      for (guint i = 0; i < 200; i++, ts += 997 * 1000)
        iov_event_store_append_raw (f->store, ts, ids[(i * 7 + frame) % 3], "", 0);
      iov_timeline_events_appended (f->timeline);
      redraw (f);
    }
  g_assert_true (iov_timeline_get_follow_live (f->timeline));
  a = app_test_render (GTK_WIDGET (f->timeline));
  iov_timeline_get_range (f->timeline, &t0, &t1);

  gtk_window_set_default_size (GTK_WINDOW (window), 800, 200);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (fresh));
  iov_timeline_set_store (fresh, f->store, f->catalog);
  iov_timeline_set_range (fresh, t0, t1);
  gtk_window_present (GTK_WINDOW (window));
  app_test_wait_for_draw (window);
  b = app_test_render (GTK_WIDGET (fresh));

  w = gdk_texture_get_width (a);
  h = gdk_texture_get_height (a);
  g_assert_cmpint (gdk_texture_get_width (b), ==, w);
  g_assert_cmpint (gdk_texture_get_height (b), ==, h);
  pa = download (a);
  pb = download (b);
  g_assert_cmpmem (pa, (gsize) w * h * 4, pb, (gsize) w * h * 4);
  gtk_window_destroy (GTK_WINDOW (window));
}

JsonNode *test_live_fixture_snapshot (void);

static IovTimeline *
find_timeline (GtkWidget *widget)
{
  if (IOV_IS_TIMELINE (widget))
    return IOV_TIMELINE (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      IovTimeline *found = find_timeline (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The live view stores every decoded event of a recording for its
 * timeline, and shows it. */
static void
test_live_view (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("iovista-test-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GFile) file = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(JsonNode) snapshot = test_live_fixture_snapshot ();
  g_autoptr(IovRecordingWriter) writer = NULL;
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = iov_live_view_new ();
  IovTimeline *timeline;
  IovEventStore *store = NULL;
  gint64 deadline;

  g_assert_no_error (error);
  for (guint i = 0; i < 500; i++)
    g_string_append_printf (log, "24958@1795460549.%06u:vtd_inv_desc invalidate desc type device "
                            "high 0x7ffffffffffff001 low 0x1000000003\n", i * 1000);
  path = g_build_filename (dir, "run.iovista", NULL);
  writer = iov_recording_writer_new (path, "fifo:/tmp/x", &error);
  g_assert_no_error (error);
  g_assert_true (iov_recording_writer_snapshot (writer, snapshot, 1795460549000000000ull, &error));
  g_assert_true (iov_recording_writer_trace (writer, log->str, log->len, &error));
  g_assert_true (iov_recording_writer_close (writer, &error));
  g_assert_no_error (error);

  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 800);
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  timeline = find_timeline (view);
  g_assert_nonnull (timeline);

  file = g_file_new_for_path (path);
  g_assert_true (iov_live_view_open_file (IOV_LIVE_VIEW (view), file, &error));
  g_assert_no_error (error);
  deadline = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
  while (g_get_monotonic_time () < deadline &&
         ((store = iov_timeline_get_store (timeline)) == NULL || iov_event_store_get_n_events (store) < 500))
    g_main_context_iteration (NULL, FALSE);
  g_assert_nonnull (store);
  g_assert_cmpuint (iov_event_store_get_n_events (store), ==, 500);

  app_test_wait_for_draw (window);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (timeline)));
  texture = app_test_render (GTK_WIDGET (timeline));
  /* labels, axis and the invalidations' density */
  g_assert_cmpuint (app_test_count_colours (texture, 8), >=, 4);
  gtk_window_destroy (GTK_WINDOW (window));
  g_unlink (path);
  g_rmdir (dir);
}

static void
selection_cb (IovTimeline *timeline,
              guint       *n)
{
  (*n)++;
}

static void
test_selection (Fixture       *f,
                gconstpointer  data)
{
  guint n = 0;
  guint64 s0, s1;
  gboolean has;

  g_signal_connect (f->timeline, "selection-changed", G_CALLBACK (selection_cb), &n);
  g_assert_false (iov_timeline_get_selection (f->timeline, NULL, NULL));
  iov_timeline_set_selection (f->timeline, SECOND, 2 * SECOND);
  g_assert_cmpuint (n, ==, 1);
  g_object_get (f->timeline, "has-selection", &has, "selection-start", &s0, "selection-end", &s1, NULL);
  g_assert_true (has);
  g_assert_cmpuint (s0, ==, SECOND);
  g_assert_cmpuint (s1, ==, 2 * SECOND);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->timeline), "timeline.clear-selection", NULL));
  g_assert_cmpuint (n, ==, 2);
  g_assert_false (iov_timeline_get_selection (f->timeline, NULL, NULL));
}

int
main (int    argc,
      char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add ("/app/timeline/renders", Fixture, NULL, fixture_setup, test_renders, fixture_teardown);
  g_test_add ("/app/timeline/bins-from-store", Fixture, NULL, fixture_setup, test_bins_from_store, fixture_teardown);
  g_test_add ("/app/timeline/follow", Fixture, NULL, fixture_setup, test_follow, fixture_teardown);
  g_test_add ("/app/timeline/incremental", Fixture, NULL, fixture_setup, test_incremental, fixture_teardown);
  g_test_add ("/app/timeline/selection", Fixture, NULL, fixture_setup, test_selection, fixture_teardown);
  g_test_add_func ("/app/timeline/live-view", test_live_view);
  return g_test_run ();
}
