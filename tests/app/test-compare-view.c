/* test-compare-view.c
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
#include <string.h>

#include "iov-compare-marks.h"
#include "iov-compare-panel.h"
#include "iov-compare-run.h"
#include "iov-event-list.h"
#include "iov-event-store.h"
#include "iov-live-view.h"
#include "iov-notifier-lanes.h"
#include "iov-recording.h"
#include "iov-timeline.h"
#include "test-app-util.h"
#include "../test-xz.h"

/* Compare Versions in the window (issue K), on the real trace of a lazy
 * guest under QEMU 7.2.22: the releases before 6.0 would abort at its
 * first full-range device-IOTLB flush. What the window shows is checked
 * against what the core computes from the same text. */

static JsonNode *
load_snapshot (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "snapshots", "vhost-user-intel-ats.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static void
selected_cb (IovEventList *list,
             guint64       index,
             guint64      *selected)
{
  *selected = index;
}

static void
spin_until (gboolean (*done) (gpointer), gpointer data, guint seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_TIME_SPAN_SECOND;

  while (!done (data) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
}

typedef struct
{
  IovLiveView *view;
  guint64      n_events;
} Wait;

static gboolean
loaded (gpointer data)
{
  Wait *w = data;
  IovEventStore *store = iov_timeline_get_store (iov_live_view_get_timeline (w->view));

  return store != NULL && iov_event_store_get_n_events (store) >= w->n_events;
}

/* A live view in a window as a user sees it. */
static GtkWidget *
present_view (GtkWidget **window)
{
  GtkWidget *view = iov_live_view_new ();

  *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (*window), 1280, 900);
  gtk_window_set_child (GTK_WINDOW (*window), view);
  gtk_window_present (GTK_WINDOW (*window));
  return view;
}

static gboolean
compared (gpointer data)
{
  Wait *w = data;

  return !iov_live_view_is_comparing (w->view) &&
         iov_compare_panel_get_run (IOV_COMPARE_PANEL (iov_live_view_get_compare_panel (w->view))) != NULL;
}

/* A real capture opened in a window, as a plain log or as a recording
 * with its snapshot, read and compared (a plain log with the snapshot
 * named, as the user does), beside what the core says of the same text. */
typedef struct
{
  char          *text;
  JsonNode      *snapshot;
  IovCompareRun *expected;
  char          *dir;
  char          *path;
  GtkWidget     *window;
  GtkWidget     *view;
} Opened;

static gboolean
open_compared (Opened     *o,
               const char *capture,
               gboolean    recording)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  Wait w;

  memset (o, 0, sizeof *o);
  if ((o->text = test_read_xz_trace (capture)) == NULL)
    {
      g_test_skip ("xz is not installed");
      return FALSE;
    }
  o->snapshot = load_snapshot ();
  o->expected = iov_compare_run_text (o->snapshot, o->text, strlen (o->text), &error);
  g_assert_no_error (error);
  o->dir = g_dir_make_tmp ("iovista-test-XXXXXX", &error);
  g_assert_no_error (error);
  o->path = g_build_filename (o->dir, recording ? "trace.iovista" : "trace.log", NULL);
  if (recording)
    {
      g_autoptr(IovRecordingWriter) writer = iov_recording_writer_new (o->path, "fifo:/tmp/x", &error);

      g_assert_no_error (error);
      g_assert_true (iov_recording_writer_snapshot (writer, o->snapshot, 0, &error));
      g_assert_true (iov_recording_writer_trace (writer, o->text, strlen (o->text), &error));
      g_assert_true (iov_recording_writer_close (writer, &error));
    }
  else
    g_assert_true (g_file_set_contents (o->path, o->text, -1, &error));
  g_assert_no_error (error);

  o->view = present_view (&o->window);
  file = g_file_new_for_path (o->path);
  g_assert_true (iov_live_view_open_file (IOV_LIVE_VIEW (o->view), file, &error));
  g_assert_no_error (error);
  w.view = IOV_LIVE_VIEW (o->view);
  w.n_events = o->expected->event_lines->len;
  spin_until (loaded, &w, 60);
  g_assert_true (loaded (&w));
  /* a recording has its snapshot; a plain trace asks, the user names one */
  if (recording)
    g_assert_true (gtk_widget_activate_action (o->view, "live.compare-versions", NULL));
  else
    iov_live_view_compare_versions (IOV_LIVE_VIEW (o->view), o->snapshot);
  spin_until (compared, &w, 120);
  g_assert_true (compared (&w));
  return TRUE;
}

static void
opened_clear (Opened *o)
{
  if (o->window != NULL)
    gtk_window_destroy (GTK_WINDOW (o->window));
  if (o->path != NULL)
    g_unlink (o->path);
  if (o->dir != NULL)
    g_rmdir (o->dir);
  g_free (o->text);
  g_clear_pointer (&o->snapshot, json_node_unref);
  g_clear_pointer (&o->expected, iov_compare_run_free);
  g_free (o->dir);
  g_free (o->path);
}

static void
next_difference (GtkWidget *view)
{
  g_assert_true (gtk_widget_activate_action (view, "live.next-difference", NULL));
  for (guint i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
}

static void
test_lazy (void)
{
  Opened o;
  g_autofree char *expected_headline = NULL;
  g_autofree char *headline = NULL;
  g_autofree char *grid = NULL;
  GtkWidget *window, *view, *panel, *marks;
  JsonArray *divergences;
  guint64 first_line, first_event, selected = G_MAXUINT64;
  gboolean any_x = FALSE;

  if (!open_compared (&o, "qemu-versions/7.2/vhu-cm-off-lazy.log.xz", FALSE))
    return;
  window = o.window;
  view = o.view;
  /* what the core says of this text: the first divergence and its event */
  divergences = json_object_get_array_member (json_node_get_object (o.expected->result), "divergences");
  g_assert_cmpuint (json_array_get_length (divergences), >, 0);
  first_line = (guint64) json_object_get_int_member (json_array_get_object_element (divergences, 0), "line");
  first_event = iov_compare_run_event_of_line (o.expected, first_line);
  g_assert_cmpuint (first_event, !=, G_MAXUINT64);
  expected_headline = iov_compare_headline (o.expected->result, first_line);
  g_assert_nonnull (expected_headline);

  panel = iov_live_view_get_compare_panel (IOV_LIVE_VIEW (view));
  marks = iov_live_view_get_compare_marks (IOV_LIVE_VIEW (view));
  g_assert_true (gtk_widget_get_visible (panel));

  /* a mark where releases differ and one where 5.x would abort: the same
   * flush, on the timeline */
  g_assert_cmpuint (iov_compare_marks_get_n_marks (IOV_COMPARE_MARKS (marks)), ==, 2);
  app_test_wait_for_draw (window);
  for (guint i = 0; i < iov_compare_marks_get_n_marks (IOV_COMPARE_MARKS (marks)); i++)
    {
      double x;

      if (iov_compare_marks_get_mark_x (IOV_COMPARE_MARKS (marks), i, &x))
        {
          any_x = TRUE;
          g_assert_cmpfloat (x, >=, 0);
          g_assert_cmpfloat (x, <=, gtk_widget_get_width (GTK_WIDGET (iov_live_view_get_timeline (IOV_LIVE_VIEW (view)))));
        }
    }
  g_assert_true (any_x);

  /* Next Difference selects the divergent event in the list */
  g_signal_connect (iov_live_view_get_event_list (IOV_LIVE_VIEW (view)), "event-selected",
                    G_CALLBACK (selected_cb), &selected);
  next_difference (view);
  g_assert_cmpuint (selected, ==, first_event);

  /* and the panel says what each release did there, in the words */
  headline = iov_compare_panel_dup_headline (IOV_COMPARE_PANEL (panel));
  g_test_message ("%s", headline);
  g_assert_cmpstr (headline, ==, expected_headline);
  g_assert_true (g_str_has_prefix (headline, "QEMU 5."));
  g_assert_nonnull (strstr (headline, "would have aborted here (memory.c:1959 …)"));
  g_assert_nonnull (strstr (headline, "6.0–10.1 crop it for DEVIOTLB notifiers"));
  g_assert_nonnull (strstr (headline, "10.2+ crop always"));
  grid = iov_compare_panel_dup_grid_text (IOV_COMPARE_PANEL (panel));
  g_test_message ("%s", grid);
  /* and what the replay cannot know, each assumption of the core's */
  {
    JsonArray *assumed = json_object_get_array_member (json_node_get_object (o.expected->result), "assumptions");
    g_autofree char *shown = iov_compare_panel_dup_assumptions (IOV_COMPARE_PANEL (panel));

    g_assert_cmpuint (json_array_get_length (assumed), >, 0);
    for (guint i = 0; i < json_array_get_length (assumed); i++)
      g_assert_nonnull (strstr (shown, json_array_get_string_element (assumed, i)));
  }
  /* the releases that abort, and those that crop for both vhost notifiers */
  g_assert_nonnull (strstr (grid, "abort"));
  g_assert_nonnull (strstr (grid, "\n6.0+\tcropped\tcropped\n"));
  g_assert_true (g_str_has_prefix (grid, "Releases\t01:00.0.vhost.1\t01:00.0.vhost.2\n"));

  /* only one difference: the next one is the same again */
  next_difference (view);
  g_assert_cmpuint (selected, ==, first_event);

  app_test_wait_for_draw (window);
  if (g_getenv ("IOV_TEST_SCREENSHOT") != NULL)
    {
      g_autoptr(GdkTexture) texture = app_test_render (window);

      gdk_texture_save_to_png (texture, g_getenv ("IOV_TEST_SCREENSHOT"));
    }
  /* to look at it as a user: IOV_TEST_HOLD=SECONDS keeps it on screen */
  if (g_getenv ("IOV_TEST_HOLD") != NULL)
    {
      gint64 until = g_get_monotonic_time () + g_ascii_strtoll (g_getenv ("IOV_TEST_HOLD"), NULL, 10) * G_TIME_SPAN_SECOND;

      while (g_get_monotonic_time () < until)
        g_main_context_iteration (NULL, FALSE);
    }
  opened_clear (&o);
}

/* A recording carries its snapshot: the lanes show the notifiers, and
 * beside each one, for the selected divergence, every release's outcome. */
static void
test_lanes (void)
{
  Opened o;
  g_autofree char *grid = NULL;
  g_auto(GStrv) rows = NULL;
  IovNotifierLanes *lanes;
  guint n_abort = 0;

  if (!open_compared (&o, "qemu-versions/7.2/vhu-cm-off-lazy.log.xz", TRUE))
    return;
  next_difference (o.view);

  /* the test's own merge of the panel's grid, per notifier: rows of
   * releases whose word for it is the same become one range */
  grid = iov_compare_panel_dup_grid_text (IOV_COMPARE_PANEL (iov_live_view_get_compare_panel (IOV_LIVE_VIEW (o.view))));
  rows = g_strsplit (grid, "\n", -1);
  lanes = IOV_NOTIFIER_LANES (iov_live_view_get_lanes (IOV_LIVE_VIEW (o.view)));
  g_assert_cmpuint (iov_notifier_lanes_get_n_lanes (lanes), ==, 2);
  for (guint lane = 0; lane < 2; lane++)
    {
      const char *releases = iov_notifier_lanes_get_releases (lanes, lane);
      g_autoptr(GString) want = g_string_new (NULL);
      g_autofree char *word = NULL;
      g_autofree char *from = NULL;
      g_autofree char *to = NULL;

      for (guint r = 1; rows[r] != NULL && rows[r][0] != '\0'; r++)
        {
          g_auto(GStrv) cells = g_strsplit (rows[r], "\t", -1);
          g_auto(GStrv) range = g_strsplit (cells[0], "–", 2);
          const char *lo = range[0], *hi = range[1] ? range[1] : range[0];

          if (word != NULL && g_str_equal (word, cells[lane + 1]))
            {
              g_free (to);
              to = g_strdup (hi);
              continue;
            }
          if (word != NULL)
            g_string_append_printf (want, "%s%s%s%s %s", want->len ? " · " : "", from,
                                    g_str_equal (from, to) ? "" : "–", g_str_equal (from, to) ? "" : to, word);
          g_free (word);
          g_free (from);
          g_free (to);
          word = g_strdup (cells[lane + 1]);
          from = g_strdup (lo);
          to = g_strdup (hi);
        }
      g_string_append_printf (want, "%s%s%s%s %s", want->len ? " · " : "", from,
                              g_str_equal (from, to) ? "" : "–", g_str_equal (from, to) ? "" : to, word);
      g_test_message ("lane %u: %s", lane, releases);
      g_assert_cmpstr (releases, ==, want->str);
      g_assert_true (g_str_has_suffix (releases, " · 6.0+ cropped"));
      n_abort += strstr (releases, "abort") != NULL;
    }
  /* 5.x stops at one of them */
  g_assert_cmpuint (n_abort, ==, 1);
  app_test_wait_for_draw (o.window);
  if (g_getenv ("IOV_TEST_SCREENSHOT") != NULL)
    {
      g_autoptr(GdkTexture) texture = app_test_render (o.window);

      gdk_texture_save_to_png (texture, g_getenv ("IOV_TEST_SCREENSHOT"));
    }
  opened_clear (&o);
}

/* More than 1,000 differences: every one is marked on the timeline, and
 * Next Difference goes past the 1,000th; there the panel says that the
 * outcomes are kept for the first 1,000 only. */
static void
test_many (void)
{
  Opened o;
  g_autofree char *headline = NULL;
  GtkWidget *view, *panel;
  IovCompareRun *expected;
  guint64 n, beyond;

  if (!open_compared (&o, "qemu-versions/7.2/vhu-cm-on-strict.log.xz", FALSE))
    return;
  view = o.view;
  expected = o.expected;
  n = expected->divergence_lines->len;
  g_assert_cmpuint (n, >, 1000);

  /* no release aborts on this trace: a mark per divergence */
  g_assert_cmpuint (iov_compare_marks_get_n_marks (IOV_COMPARE_MARKS (iov_live_view_get_compare_marks (IOV_LIVE_VIEW (view)))),
                    ==, n);
  panel = iov_live_view_get_compare_panel (IOV_LIVE_VIEW (view));
  beyond = iov_compare_run_event_of_line (expected, g_array_index (expected->divergence_lines, guint64, 1200));
  iov_compare_panel_show_event (IOV_COMPARE_PANEL (panel), beyond);
  headline = iov_compare_panel_dup_headline (IOV_COMPARE_PANEL (panel));
  g_assert_cmpstr (headline, ==, "The releases differ on this event; what each did is kept for the first 1,000 "
                                 "differences of the trace only");
  g_assert_cmpuint (iov_compare_panel_next_difference (IOV_COMPARE_PANEL (panel), beyond), ==,
                    iov_compare_run_event_of_line (expected, g_array_index (expected->divergence_lines, guint64, 1201)));
  opened_clear (&o);
}

static gboolean
live_at (gpointer data)
{
  return g_str_has_prefix (iov_live_view_get_status (data) ? iov_live_view_get_status (data) : "", "Live");
}

/* A live VM: a real QEMU over QMP, its trace a file that QEMU's log
 * backend wrote (the lazy guest's).  Compare Versions replays what the
 * document stored, in slices, without a file to read again, and says
 * what the core says of the same text. */
static void
test_live (void)
{
  g_autofree char *qemu = g_find_program_in_path ("qemu-system-x86_64");
  g_autofree char *text = test_read_xz_trace ("qemu-versions/7.2/vhu-cm-off-lazy.log.xz");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) snapshot = NULL;
  g_autoptr(IovCompareRun) expected = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *sock = NULL;
  g_autofree char *qmp = NULL;
  g_autofree char *address = NULL;
  g_autofree char *expected_headline = NULL;
  g_autofree char *headline = NULL;
  g_autofree char *grid = NULL;
  GtkWidget *window, *view, *panel, *marks;
  JsonArray *divergences;
  guint64 first_line;
  Wait w;

  if (qemu == NULL || text == NULL)
    {
      g_test_skip (qemu == NULL ? "qemu-system-x86_64 is not installed" : "xz is not installed");
      return;
    }
  snapshot = load_snapshot ();
  expected = iov_compare_run_text (snapshot, text, strlen (text), &error);
  g_assert_no_error (error);
  divergences = json_object_get_array_member (json_node_get_object (expected->result), "divergences");
  first_line = (guint64) json_object_get_int_member (json_array_get_object_element (divergences, 0), "line");
  expected_headline = iov_compare_headline (expected->result, first_line);

  dir = g_dir_make_tmp ("iovista-test-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "trace.log", NULL);
  g_assert_true (g_file_set_contents (path, text, -1, &error));
  sock = g_build_filename (dir, "qmp.sock", NULL);
  qmp = g_strdup_printf ("unix:%s,server=on,wait=off", sock);
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                           qemu, "-M", "q35", "-accel", "tcg", "-nodefaults", "-display", "none",
                           "-device", "intel-iommu", "-qmp", qmp, "-S", NULL);
  g_assert_no_error (error);

  view = present_view (&window);
  address = g_strconcat ("unix:", sock, NULL);
  g_assert_true (iov_live_view_connect (IOV_LIVE_VIEW (view), address, path, &error));
  g_assert_no_error (error);
  spin_until (live_at, view, 60);
  g_assert_true (live_at (view));
  w.view = IOV_LIVE_VIEW (view);
  w.n_events = expected->event_lines->len;
  spin_until (loaded, &w, 60);
  g_assert_true (loaded (&w));

  iov_live_view_compare_versions (IOV_LIVE_VIEW (view), snapshot);
  g_assert_true (iov_live_view_is_comparing (IOV_LIVE_VIEW (view)));
  spin_until (compared, &w, 120);
  g_assert_true (compared (&w));
  panel = iov_live_view_get_compare_panel (IOV_LIVE_VIEW (view));
  marks = iov_live_view_get_compare_marks (IOV_LIVE_VIEW (view));
  g_assert_cmpuint (iov_compare_marks_get_n_marks (IOV_COMPARE_MARKS (marks)), ==, 2);
  headline = iov_compare_panel_dup_headline (IOV_COMPARE_PANEL (panel));
  g_test_message ("live: %s", headline);
  g_assert_cmpstr (headline, ==, expected_headline);
  grid = iov_compare_panel_dup_grid_text (IOV_COMPARE_PANEL (panel));
  g_assert_nonnull (strstr (grid, "\n6.0+\tcropped\tcropped\n"));
  /* QEMU kept running all along */
  g_assert_true (live_at (view));

  gtk_window_destroy (GTK_WINDOW (window));
  g_subprocess_force_exit (proc);
  g_subprocess_wait (proc, NULL, NULL);
  g_unlink (path);
  g_unlink (sock);
  g_rmdir (dir);
}

int
main (int    argc,
      char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/app/compare/lazy-7.2", test_lazy);
  g_test_add_func ("/app/compare/live", test_live);
  g_test_add_func ("/app/compare/lanes", test_lanes);
  g_test_add_func ("/app/compare/many", test_many);
  return g_test_run ();
}
