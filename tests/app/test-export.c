/* test-export.c — Export… writes each format from the window
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

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "iov-application.h"
#include "iov-recording.h"
#include "iov-window.h"
#include "test-app-util.h"
#include "../test-xz.h"

static char *
export_to (IovWindow  *window,
           const char *dir,
           const char *name,
           gsize      *length)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_assert_true (iov_window_export (window, file, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, length, &error));
  g_assert_no_error (error);
  g_unlink (path);
  return contents;
}

static void
test_export_formats (void)
{
  g_autoptr(IovApplication) app = iov_application_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("iovista-export-XXXXXX", &error);
  IovWindow *window;
  IovPlayer *player;
  gsize length;

  g_assert_no_error (error);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = IOV_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  player = iov_window_get_player (window);
  iov_player_set_playing (player, FALSE);
  g_assert_true (iov_player_set_profile (player, "qemu-6.0"));
  iov_player_set_position (player, 2);
  app_test_wait_for_draw (GTK_WIDGET (window));

  /* Perfetto, under 6.0: parses, has events and a flow from the flush to
   * the cropped deliveries. */
  {
    g_autofree char *json = export_to (window, dir, "run.json", &length);
    g_autoptr(JsonParser) parser = json_parser_new ();
    JsonArray *events;
    gboolean flow = FALSE;

    g_assert_true (json_parser_load_from_data (parser, json, length, &error));
    g_assert_no_error (error);
    events = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "traceEvents");
    g_assert_nonnull (events);
    g_assert_cmpuint (json_array_get_length (events), >, 2);
    for (guint i = 0; i < json_array_get_length (events); i++)
      flow |= g_strcmp0 (json_object_get_string_member_with_default (json_array_get_object_element (events, i),
                                                                     "ph", ""), "s") == 0;
    g_assert_true (flow);
  }

  /* CSV, under 5.0: the header row, then the abort at step 3 (index 2). */
  g_assert_true (iov_player_set_profile (player, "qemu-5.0"));
  {
    g_autofree char *csv = export_to (window, dir, "run.csv", &length);
    g_auto(GStrv) lines = g_strsplit (csv, "\n", -1);

    g_assert_cmpuint (g_strv_length (lines), >=, 2);
    g_assert_true (g_str_has_prefix (lines[0], "profile,step,op,event,"));
    g_assert_true (g_str_has_prefix (lines[1], "qemu-5.0,2,device-iotlb-invalidate,"));
    g_assert_nonnull (strstr (lines[1], ",abort,"));
  }

  /* Pictures of the step on screen. */
  {
    g_autofree char *svg = export_to (window, dir, "step.svg", &length);

    g_assert_cmpuint (length, >, 1000);
    g_assert_true (g_str_has_prefix (svg, "<?xml"));
    g_assert_nonnull (strstr (svg, "<svg"));
    g_assert_nonnull (strstr (svg, "</svg>"));
  }
  {
    g_autofree char *png = export_to (window, dir, "step.png", &length);

    g_assert_cmpuint (length, >, 1000);
    g_assert_cmpmem (png, 8, "\x89PNG\r\n\x1a\n", 8);
  }
  {
    g_autofree char *pdf = export_to (window, dir, "step.pdf", &length);

    g_assert_cmpuint (length, >, 1000);
    g_assert_true (g_str_has_prefix (pdf, "%PDF-"));
  }

  /* An unknown kind of file is refused, and nothing is written. */
  {
    g_autofree char *path = g_build_filename (dir, "step.txt", NULL);
    g_autoptr(GFile) file = g_file_new_for_path (path);

    g_assert_false (iov_window_export (window, file, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
    g_clear_error (&error);
    g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  }

  /* Ctrl+E's action opens the save dialog (closed with the window). */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.export", NULL));

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* @input through `iovista-cli export INPUT -f @format`, as bytes. */
static GBytes *
cli_export (const char *input,
            const char *format,
            const char *dir)
{
  g_autofree char *out = g_build_filename (dir, "cli.out", NULL);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, g_getenv ("IOVISTA_CLI"), "export", input, "-f", format,
                           "-o", out, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait_check (proc, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (out, &contents, &length, &error));
  g_assert_no_error (error);
  g_unlink (out);
  return g_bytes_new_take (g_steal_pointer (&contents), length);
}

/* Opens @path in @window's live view and waits until it is read; the
 * export before that says so instead of writing half a trace. */
static void
open_trace (IovWindow  *window,
            const char *path,
            const char *dir)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autofree char *early = g_build_filename (dir, "early.csv", NULL);
  g_autoptr(GFile) early_file = g_file_new_for_path (early);
  g_autoptr(GError) error = NULL;
  IovLiveView *live = iov_window_get_live_view (window);
  gint64 deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;

  g_assert_true (iov_window_open_file (window, file, &error));
  g_assert_no_error (error);
  g_assert_false (iov_window_export (window, early_file, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_clear_error (&error);
  g_assert_false (g_file_test (early, G_FILE_TEST_EXISTS));
  while (iov_live_view_get_document (live) == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (iov_live_view_get_document (live));
  g_assert_cmpstr (iov_live_view_get_source_path (live), ==, path);
}

/* The window's Export… of an opened recording and of a plain trace log
 * (issue L): the IOTLB traffic as Perfetto counter tracks and as CSV, the
 * same bytes as `iovista-cli export` writes for the same file. */
static void
test_export_trace (void)
{
  g_autoptr(IovApplication) app = iov_application_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("iovista-export-XXXXXX", &error);
  g_autofree char *trace = test_read_xz_trace ("qemu-versions/7.2/vhu-cm-on-strict.log.xz");
  g_autofree char *log_path = NULL;
  g_autofree char *recording_path = NULL;
  g_autofree char *snapshot_path = g_test_build_filename (G_TEST_DIST, "data", "snapshots",
                                                          "vhost-user-intel-ats.json", NULL);
  g_autoptr(GBytes) recording_csv = NULL;
  IovWindow *window;

  g_assert_no_error (error);
  if (trace == NULL)
    {
      g_test_skip ("xz is not installed");
      g_rmdir (dir);
      return;
    }
  log_path = g_build_filename (dir, "vhu.log", NULL);
  recording_path = g_build_filename (dir, "vhu.iovista", NULL);
  g_assert_true (g_file_set_contents (log_path, trace, -1, &error));
  g_assert_no_error (error);
  {
    g_autoptr(IovRecordingWriter) writer = iov_recording_writer_new (recording_path, "fifo:/tmp/x", &error);
    g_autofree char *snapshot_text = NULL;
    g_autoptr(JsonNode) snapshot = NULL;

    g_assert_no_error (error);
    g_assert_true (g_file_get_contents (snapshot_path, &snapshot_text, NULL, &error));
    snapshot = json_from_string (snapshot_text, &error);
    g_assert_no_error (error);
    g_assert_true (iov_recording_writer_snapshot (writer, snapshot, 0, &error));
    g_assert_true (iov_recording_writer_trace (writer, trace, strlen (trace), &error));
    g_assert_true (iov_recording_writer_close (writer, &error));
    g_assert_no_error (error);
  }

  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = IOV_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  iov_player_set_playing (iov_window_get_player (window), FALSE);

  for (guint f = 0; f < 2; f++)
    {
      const char *input = f == 0 ? recording_path : log_path;

      open_trace (window, input, dir);
      app_test_wait_for_draw (GTK_WIDGET (window));
      for (guint k = 0; k < 2; k++)
        {
          const char *format = k == 0 ? "csv" : "perfetto";
          g_autoptr(GBytes) want = cli_export (input, format, dir);
          gsize length = 0;
          g_autofree char *got = export_to (window, dir, k == 0 ? "traffic.csv" : "traffic.json", &length);
          g_autoptr(GBytes) got_bytes = g_bytes_new (got, length);

          g_test_message ("%s as %s: %" G_GSIZE_FORMAT " bytes", input, format, length);
          g_assert_cmpuint (length, >, 200);
          g_assert_true (g_bytes_equal (got_bytes, want));
          /* the recording's snapshot ties the vhost traffic to 01:00.0:
           * without it, the same trace's CSV differs */
          if (k == 0 && f == 0)
            recording_csv = g_bytes_ref (got_bytes);
          else if (k == 0)
            g_assert_false (g_bytes_equal (got_bytes, recording_csv));
        }
      /* a picture of a trace is not on offer */
      {
        g_autofree char *path = g_build_filename (dir, "trace.png", NULL);
        g_autoptr(GFile) file = g_file_new_for_path (path);

        g_assert_false (iov_window_export (window, file, NULL, &error));
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
        g_clear_error (&error);
        g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
      }
      /* Ctrl+E's action opens the save dialog on the trace's formats */
      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.export", NULL));
    }

  /* back on a scenario, Export… writes the model's formats again */
  g_assert_true (iov_window_open_builtin (window, "2020-deviotlb-crash", &error));
  g_assert_no_error (error);
  {
    gsize length = 0;
    g_autofree char *csv = export_to (window, dir, "run.csv", &length);

    g_assert_true (g_str_has_prefix (csv, "profile,step,op,event,"));
  }

  gtk_window_destroy (GTK_WINDOW (window));
  g_unlink (log_path);
  g_unlink (recording_path);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/app/export/formats", test_export_formats);
  g_test_add_func ("/app/export/trace-traffic", test_export_trace);
  return g_test_run ();
}
