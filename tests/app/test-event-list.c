/* test-event-list.c — the event list, inspector and timeline selection on a real capture
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
#include <stdio.h>
#include <string.h>

#include "iov-application.h"
#include "iov-event-list.h"
#include "iov-live-view.h"
#include "iov-notifier-lanes.h"
#include "iov-recording.h"
#include "iov-window.h"
#include "test-app-util.h"
#include "../test-xz.h"

/* The columns, as the list numbers them. */
enum { COL_TIME, COL_SOURCE, COL_EVENT, COL_IOVA, COL_SIZE, COL_NOTIFIER, COL_OUTCOME };

static void
wait_for_rows (IovLiveView *view,
               guint        min_rows)
{
  IovEventList *list = iov_live_view_get_event_list (view);
  gint64 deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;

  while ((iov_event_list_get_n_rows (list) < min_rows || iov_event_list_is_searching (list)) &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
}

static void
search (IovEventList *list,
        const char   *query)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;

  iov_event_list_set_query (list, query);
  while (iov_event_list_is_searching (list) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  g_assert_false (iov_event_list_is_searching (list));
}

static guint
count_lines (const char *text,
             const char *needle,
             const char *also)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], needle) != NULL && (also == NULL || strstr (lines[i], also) != NULL))
      n++;
  return n;
}

/* QEMU's time stamp of the first or last line, in ns. */
static guint64
line_ts (const char *text,
         gboolean    last)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = g_strv_length (lines);
  const char *line = NULL;
  guint64 sec, usec;

  for (guint i = 0; i < n; i++)
    {
      const char *l = lines[last ? n - 1 - i : i];

      if (strchr (l, '@') != NULL)
        {
          line = l;
          break;
        }
    }
  g_assert_nonnull (line);
  g_assert_cmpint (sscanf (strchr (line, '@') + 1, "%" G_GUINT64_FORMAT ".%" G_GUINT64_FORMAT, &sec, &usec), ==, 2);
  return sec * G_GUINT64_CONSTANT (1000000000) + usec * 1000;
}

static IovWindow *
open_window (IovApplication *app,
             const char     *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  IovWindow *window;

  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = IOV_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_true (iov_window_open_file (window, file, &error));
  g_assert_no_error (error);
  return window;
}

static void
test_recording (void)
{
  g_autofree char *trace = test_read_xz_trace ("qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.log.xz");
  g_autofree char *snap_path = g_test_build_filename (G_TEST_DIST, "data", "snapshots",
                                                      "virtio-iommu-vhost-user.json", NULL);
  g_autoptr(IovApplication) app = iov_application_new ();
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autoptr(IovRecordingWriter) writer = NULL;
  g_autofree char *inspector = NULL;
  g_autofree char *cell = NULL;
  IovWindow *window;
  IovLiveView *view;
  IovEventList *list;
  guint n_lines, n_unmaps, n_rows;
  guint64 first_ev;

  if (trace == NULL)
    {
      g_test_skip ("xz is not installed");
      return;
    }
  n_lines = count_lines (trace, "@", NULL);
  n_unmaps = count_lines (trace, ":virtio_iommu_notify_unmap ", NULL);
  g_assert_cmpuint (n_unmaps, >, 8);

  json_parser_load_from_file (parser, snap_path, &error);
  g_assert_no_error (error);
  dir = g_dir_make_tmp ("iovista-test-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "vhost-user.iovista", NULL);
  writer = iov_recording_writer_new (path, "fifo:/tmp/x", &error);
  g_assert_no_error (error);
  g_assert_true (iov_recording_writer_snapshot (writer, json_parser_get_root (parser), 1795461140000000000ull, &error));
  g_assert_true (iov_recording_writer_trace (writer, trace, strlen (trace), &error));
  g_assert_true (iov_recording_writer_close (writer, &error));

  if (g_getenv ("IOVISTA_TEST_SCREENSHOT"))
    {
      /* the size of the screenshots in data/screenshots */
      g_autoptr(GSettings) settings = g_settings_new ("io.github.iovista.Iovista");

      g_settings_set_int (settings, "window-width", 1400);
      g_settings_set_int (settings, "window-height", 900);
    }
  window = open_window (app, path);
  view = iov_window_get_live_view (window);
  list = iov_live_view_get_event_list (view);
  app_test_wait_for_draw (GTK_WIDGET (window));
  wait_for_rows (view, n_lines);
  /* every event of the capture is a row */
  g_assert_cmpuint (iov_event_list_get_n_rows (list), ==, n_lines);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (list)));

  /* By event name: exactly the capture's UNMAP notifications. */
  search (list, "event:virtio_iommu_notify_unmap");
  g_assert_cmpuint (iov_event_list_get_n_rows (list), ==, n_unmaps);
  cell = iov_event_list_dup_cell_text (list, 0, COL_EVENT);
  g_assert_cmpstr (cell, ==, "virtio_iommu_notify_unmap");
  g_clear_pointer (&cell, g_free);

  /* By outcome and notifier: every one reached vhost and was observed
   * (a VHOST_USER_IOTLB_MSG followed it), as test-inference counts. */
  search (list, "notifier:vhost outcome:observed");
  g_assert_cmpuint (iov_event_list_get_n_rows (list), ==, n_unmaps);
  search (list, "outcome:skipped");
  g_assert_cmpuint (iov_event_list_get_n_rows (list), ==, 0);
  search (list, "device:00:02.0 event:unmap");
  g_assert_cmpuint (iov_event_list_get_n_rows (list), ==, n_unmaps);

  /* Free words match the arguments as printed. */
  search (list, "event:notify_unmap virt_start=0x0");
  n_rows = iov_event_list_get_n_rows (list);
  g_assert_cmpuint (n_rows, ==, count_lines (trace, ":virtio_iommu_notify_unmap ", "virt_start=0x0 "));

  /* The inspector: decoded fields, the line, the model's word. */
  search (list, "event:virtio_iommu_notify_unmap");
  cell = iov_event_list_dup_cell_text (list, 0, COL_NOTIFIER);
  g_assert_cmpstr (cell, ==, "00:02.0.vhost.1");
  g_clear_pointer (&cell, g_free);
  cell = iov_event_list_dup_cell_text (list, 0, COL_OUTCOME);
  g_assert_cmpstr (cell, ==, "delivered");
  g_clear_pointer (&cell, g_free);
  cell = iov_event_list_dup_cell_text (list, 0, COL_SOURCE);
  g_assert_cmpstr (cell, ==, "virtio-iommu · 00:02.0");
  g_clear_pointer (&cell, g_free);
  iov_event_list_select_row (list, 0);
  inspector = iov_event_list_dup_inspector_text (list);
  g_assert_nonnull (inspector);
  /* the lanes play exactly the selected event (its power-of-two blocks) */
  {
    guint64 index = iov_event_list_get_row_event (list, 0);
    g_autofree char *iova = iov_event_list_dup_cell_text (list, 0, COL_IOVA);

    g_assert_cmpuint (index, !=, G_MAXUINT64);
    g_assert_cmpuint (iov_notifier_lanes_get_n_lanes (IOV_NOTIFIER_LANES (iov_live_view_get_lanes (view))), ==, 1);
    g_assert_cmpuint (iov_notifier_lanes_get_n_events (IOV_NOTIFIER_LANES (iov_live_view_get_lanes (view))), >=, 1);
    g_assert_false (iov_notifier_lanes_is_counting (IOV_NOTIFIER_LANES (iov_live_view_get_lanes (view))));
    g_assert_true (g_str_has_prefix (iova, "0x"));
  }
  g_assert_nonnull (strstr (inspector, "virtio_iommu_notify_unmap\n"));
  g_assert_nonnull (strstr (inspector, "virt_start = 0x"));
  g_assert_nonnull (strstr (inspector, "\nvirtio_iommu_notify_unmap mr=virtio-iommu-memory-region-"));
  g_assert_nonnull (strstr (inspector, "00:02.0.vhost.1 got UNMAP ["));
  g_assert_nonnull (strstr (inspector, "observed in the trace"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (list), "event-list.show-in-map", NULL));
  app_test_wait_for_draw (GTK_WIDGET (window));

  /* The timeline's selection narrows the list to its events, and the
   * lanes count them: hundreds of events cannot be drawn one by one. */
  first_ev = iov_event_list_get_row_event (list, 0);
  g_assert_cmpuint (first_ev, !=, G_MAXUINT64);
  {
    IovTimeline *timeline = iov_live_view_get_timeline (view);
    guint64 start, end;

    start = line_ts (trace, FALSE);
    end = line_ts (trace, TRUE);
    g_assert_cmpuint (start, <, end);
    iov_timeline_set_selection (timeline, start, end);
    search (list, "event:virtio_iommu_notify_unmap");
    g_assert_cmpuint (iov_event_list_get_n_rows (list), ==, n_unmaps);
    g_assert_true (iov_notifier_lanes_is_counting (IOV_NOTIFIER_LANES (iov_live_view_get_lanes (view))));

    /* A selection before the first UNMAP holds none of them. */
    iov_timeline_set_selection (timeline, start, start);
    search (list, "event:virtio_iommu_notify_unmap");
    g_assert_cmpuint (iov_event_list_get_n_rows (list), <, n_unmaps);
    g_assert_false (iov_notifier_lanes_is_counting (IOV_NOTIFIER_LANES (iov_live_view_get_lanes (view))));

    iov_timeline_clear_selection (timeline);
    search (list, "");
    g_assert_cmpuint (iov_event_list_get_n_rows (list), ==, n_lines);
  }

  if (g_getenv ("IOVISTA_TEST_SCREENSHOT"))
    {
      g_autoptr(GdkTexture) texture = NULL;

      search (list, "event:virtio_iommu_notify_unmap");
      iov_event_list_select_row (list, 3);
      g_assert_nonnull (iov_event_list_dup_inspector_text (list));
      iov_notifier_lanes_finish_animation (IOV_NOTIFIER_LANES (iov_live_view_get_lanes (view)));
      app_test_wait_for_draw (GTK_WIDGET (window));
      g_assert_nonnull (iov_event_list_dup_inspector_text (list));
      texture = app_test_render (GTK_WIDGET (window));
      gdk_texture_save_to_png (texture, g_getenv ("IOVISTA_TEST_SCREENSHOT"));
    }

  g_unlink (path);
  g_rmdir (dir);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* A plain trace log has no snapshot: no map, but the timeline and the
 * list still show its events. */
static void
test_plain_log (void)
{
  g_autofree char *trace = test_read_xz_trace ("qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.log.xz");
  g_autoptr(IovApplication) app = iov_application_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *inspector = NULL;
  IovWindow *window;
  IovLiveView *view;
  IovEventList *list;
  guint n_lines;

  if (trace == NULL)
    {
      g_test_skip ("xz is not installed");
      return;
    }
  n_lines = count_lines (trace, "@", NULL);
  dir = g_dir_make_tmp ("iovista-test-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "trace.log", NULL);
  g_file_set_contents (path, trace, -1, &error);
  g_assert_no_error (error);

  window = open_window (app, path);
  view = iov_window_get_live_view (window);
  list = iov_live_view_get_event_list (view);
  app_test_wait_for_draw (GTK_WIDGET (window));
  wait_for_rows (view, n_lines);
  g_assert_cmpuint (iov_event_list_get_n_rows (list), ==, n_lines);
  app_test_wait_for_draw (GTK_WIDGET (window));
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (list)));
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (iov_live_view_get_timeline (view))));

  search (list, "event:virtio_iommu_notify_unmap");
  iov_event_list_select_row (list, 0);
  inspector = iov_event_list_dup_inspector_text (list);
  g_assert_nonnull (strstr (inspector, "No model"));
  /* without deliveries the IOVA comes from the printed arguments */
  {
    g_autofree char *iova = iov_event_list_dup_cell_text (list, 0, COL_IOVA);

    g_assert_true (g_str_has_prefix (iova, "0x"));
  }

  /* Search text that is no query (tests/core/test-event-query.c has why)
   * shows no rows rather than every event; clearing it shows them again. */
  search (list, "outcome:nonsense");
  g_assert_cmpuint (iov_event_list_get_n_rows (list), ==, 0);
  g_assert_cmpuint (iov_event_list_get_row_event (list, 0), ==, G_MAXUINT64);
  search (list, "");
  g_assert_cmpuint (iov_event_list_get_n_rows (list), ==, n_lines);

  g_unlink (path);
  g_rmdir (dir);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/event-list/recording", test_recording);
  g_test_add_func ("/event-list/plain-log", test_plain_log);
  return g_test_run ();
}
