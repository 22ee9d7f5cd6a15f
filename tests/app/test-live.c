/* test-live.c — the live view, from a fixture snapshot, a recording and a real QEMU
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

#include "iov-application.h"
#include "iov-live-view.h"
#include "iov-recording.h"
#include "iov-window.h"
#include "test-app-util.h"
#include "test-qemu-util.h"

/* test-live-fixture.c */
JsonNode *test_live_fixture_snapshot (void);

static gboolean
strv_has_prefix (GStrv       strv,
                 const char *prefix)
{
  for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
    if (g_str_has_prefix (strv[i], prefix))
      return TRUE;
  return FALSE;
}

static void
test_snapshot (void)
{
  g_autoptr(JsonNode) snapshot = test_live_fixture_snapshot ();
  g_autoptr(GdkTexture) texture = NULL;
  g_auto(GStrv) rows = NULL;
  g_auto(GStrv) shown = NULL;
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = iov_live_view_new ();

  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 600);
  gtk_window_set_child (GTK_WINDOW (window), view);
  iov_live_view_show_snapshot (IOV_LIVE_VIEW (view), snapshot);
  gtk_window_present (GTK_WINDOW (window));
  app_test_wait_for_draw (window);

  /* Every device behind the IOMMU gets a row, with its type. */
  rows = iov_live_view_dup_rows (IOV_LIVE_VIEW (view), FALSE);
  for (guint i = 0; rows[i] != NULL; i++)
    g_test_message ("row %s", rows[i]);
  g_assert_true (g_strv_contains ((const char * const *) rows, "00:01.0 virtio-net-pci"));
  g_assert_true (g_strv_contains ((const char * const *) rows, "00:02.0 virtio-rng-pci"));
  g_assert_true (strv_has_prefix (rows, "00:1f.2"));
  g_assert_cmpuint (g_strv_length (rows), >=, 4);

  /* The filter narrows it down. */
  iov_live_view_set_filter (IOV_LIVE_VIEW (view), "RNG");
  app_test_wait_for_draw (window);
  shown = iov_live_view_dup_rows (IOV_LIVE_VIEW (view), TRUE);
  g_assert_cmpuint (g_strv_length (shown), ==, 1);
  g_assert_cmpstr (shown[0], ==, "00:02.0 virtio-rng-pci");
  iov_live_view_set_filter (IOV_LIVE_VIEW (view), "");
  app_test_wait_for_draw (window);

  texture = app_test_render (view);
  g_assert_cmpuint (app_test_count_colours (texture, 64), >=, 16);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
wait_until_loaded (IovLiveView *view,
                   guint64      min_deliveries)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;

  while (iov_live_view_get_n_deliveries (view) < min_deliveries && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
}

static void
test_recording (void)
{
  static const char trace[] =
    "24958@1795460549.154428:vtd_inv_desc invalidate desc type device high 0x7ffffffffffff001 low 0x1000000003";
  g_autoptr(IovApplication) app = iov_application_new ();
  g_autoptr(JsonNode) snapshot = test_live_fixture_snapshot ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("iovista-test-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autoptr(IovRecordingWriter) writer = NULL;
  g_autoptr(GFile) file = NULL;
  g_auto(GStrv) rows = NULL;
  IovWindow *window;
  IovLiveView *view;

  g_assert_no_error (error);
  path = g_build_filename (dir, "run.iovista", NULL);
  writer = iov_recording_writer_new (path, "fifo:/tmp/x", &error);
  g_assert_no_error (error);
  g_assert_true (iov_recording_writer_snapshot (writer, snapshot, 1795460549000000000ull, &error));
  g_assert_true (iov_recording_writer_trace (writer, trace, strlen (trace), &error));
  g_assert_true (iov_recording_writer_close (writer, &error));
  g_assert_no_error (error);
  g_assert_true (iov_recording_is_recording (path));

  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = IOV_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  view = iov_window_get_live_view (window);

  file = g_file_new_for_path (path);
  g_assert_true (iov_window_open_file (window, file, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (iov_live_view_get_status (view), ==, "Recording · run.iovista");
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (view)) || !gtk_widget_get_realized (GTK_WIDGET (window)));
  app_test_wait_for_draw (GTK_WIDGET (window));
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (view)));

  /* The recorded snapshot fills the sidebar; the device-IOTLB flush of
   * 00:02.0 reaches its two vhost notifiers. */
  rows = iov_live_view_dup_rows (view, FALSE);
  g_assert_true (g_strv_contains ((const char * const *) rows, "00:02.0 virtio-rng-pci"));
  wait_until_loaded (view, 2);
  g_assert_cmpuint (iov_live_view_get_n_deliveries (view), ==, 2);
  app_test_wait_for_draw (GTK_WIDGET (window));
  if (g_getenv ("IOVISTA_TEST_SCREENSHOT"))
    {
      g_autoptr(GdkTexture) texture = app_test_render (GTK_WIDGET (window));

      gdk_texture_save_to_png (texture, g_getenv ("IOVISTA_TEST_SCREENSHOT"));
    }

  g_unlink (path);
  g_rmdir (dir);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_qemu (void)
{
  g_autofree char *qemu = g_find_program_in_path ("qemu-system-x86_64");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *sock = NULL;
  g_autofree char *qmp = NULL;
  g_autofree char *sock2 = NULL;
  g_autofree char *qmp2 = NULL;
  g_autofree char *address = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  GtkWidget *window;
  GtkWidget *view;
  gint64 deadline;

  if (qemu == NULL)
    {
      g_test_skip ("qemu-system-x86_64 is not installed");
      return;
    }
  dir = g_dir_make_tmp ("iovista-live-XXXXXX", &error);
  g_assert_no_error (error);
  sock = g_build_filename (dir, "qmp.sock", NULL);
  sock2 = g_build_filename (dir, "check.sock", NULL);
  qmp = g_strdup_printf ("unix:%s,server=on,wait=off", sock);
  qmp2 = g_strdup_printf ("unix:%s,server=on,wait=off", sock2);
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                           qemu, "-M", "q35", "-accel", "tcg", "-nodefaults", "-display", "none",
                           "-device", "intel-iommu", "-qmp", qmp, "-qmp", qmp2, "-S", NULL);
  g_assert_no_error (error);

  window = gtk_window_new ();
  view = iov_live_view_new ();
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  address = g_strconcat ("unix:", sock, NULL);
  /* as the connect dialog's "Trace events" row does */
  iov_live_view_set_trace_preset (IOV_LIVE_VIEW (view), "vtd-invalidations");
  g_assert_true (iov_live_view_connect (IOV_LIVE_VIEW (view), address, NULL, &error));
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  while (!g_str_has_prefix (iov_live_view_get_status (IOV_LIVE_VIEW (view)), "Live · QEMU ") &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_test_message ("status: %s", iov_live_view_get_status (IOV_LIVE_VIEW (view)));
  g_assert_true (g_str_has_prefix (iov_live_view_get_status (IOV_LIVE_VIEW (view)), "Live · QEMU 7.2"));
  g_assert_true (g_str_has_suffix (iov_live_view_get_status (IOV_LIVE_VIEW (view)), address));
  {
    g_auto(GStrv) rows = iov_live_view_dup_rows (IOV_LIVE_VIEW (view), FALSE);

    g_assert_cmpuint (g_strv_length (rows), >=, 1);
  }

  /* The preset reached QEMU: asked through its other QMP socket. */
  {
    g_autofree char *address2 = g_strconcat ("unix:", sock2, NULL);

    g_assert_true (qemu_test_wait_trace_state (address2, "vtd_inv_desc", TRUE, 60));
    g_assert_true (qemu_test_wait_trace_state (address2, "vtd_dmar_translate", FALSE, 60));
  }

  /* QEMU goes away: the view says so and keeps the last snapshot. */
  g_subprocess_force_exit (proc);
  g_subprocess_wait (proc, NULL, NULL);
  deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  while (!g_str_has_prefix (iov_live_view_get_status (IOV_LIVE_VIEW (view)), "QEMU went away") &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_test_message ("status: %s", iov_live_view_get_status (IOV_LIVE_VIEW (view)));
  g_assert_true (g_str_has_prefix (iov_live_view_get_status (IOV_LIVE_VIEW (view)), "QEMU went away — reconnecting…"));

  gtk_window_destroy (GTK_WINDOW (window));
  g_unlink (sock);
  g_unlink (sock2);
  g_rmdir (dir);
}

static const char *
live_status (GtkWidget *view)
{
  return iov_live_view_get_status (IOV_LIVE_VIEW (view));
}

/* Iterates the main loop until @view's status starts with @prefix or
 * @seconds pass; returns the monotonic time it did, or 0. */
static gint64
wait_status (GtkWidget  *view,
             const char *prefix,
             guint       seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_TIME_SPAN_SECOND;

  while (!g_str_has_prefix (live_status (view), prefix) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  return g_str_has_prefix (live_status (view), prefix) ? g_get_monotonic_time () : 0;
}

static GSubprocess *
start_qemu (const char *qemu,
            const char *qmp,
            const char *qmp2)
{
  g_autoptr(GError) error = NULL;
  GSubprocess *proc;

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                           qemu, "-M", "q35", "-accel", "tcg", "-nodefaults", "-display", "none",
                           "-device", "intel-iommu", "-qmp", qmp, "-qmp", qmp2, "-S", NULL);
  g_assert_no_error (error);
  return proc;
}

/* When QEMU's QMP socket of the test's own answers with a greeting:
 * QEMU is up and can be reached, whatever the view does. */
static gint64
wait_qemu_ready (const char *address)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IovQmpClient) check = iov_qmp_client_new (address, &error);
  gint64 deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;

  g_assert_no_error (error);
  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr(GAsyncResult) result = NULL;

      iov_qmp_client_connect_async (check, NULL, qemu_test_store_result, &result);
      while (result == NULL)
        g_main_context_iteration (NULL, TRUE);
      if (iov_qmp_client_connect_finish (check, result, NULL))
        {
          gint64 now = g_get_monotonic_time ();

          iov_qmp_client_close (check);
          return now;
        }
      g_usleep (5000);
    }
  return 0;
}

/* QEMU SIGKILLed and started again on the same socket (issue M): the view
 * says what happened, keeps the last snapshot, and is live again on its
 * own, within its 1 s retry cap of QEMU being reachable. */
static void
test_qemu_comes_back (void)
{
  g_autofree char *qemu = g_find_program_in_path ("qemu-system-x86_64");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *sock = NULL;
  g_autofree char *qmp = NULL;
  g_autofree char *sock2 = NULL;
  g_autofree char *qmp2 = NULL;
  g_autofree char *address = NULL;
  g_autofree char *address2 = NULL;
  g_autofree char *gone = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GSubprocess) again = NULL;
  GtkWidget *window;
  GtkWidget *view;
  gint64 t_kill, t_said, t_start, t_ready, t_live;
  guint rows_before;

  if (qemu == NULL)
    {
      g_test_skip ("qemu-system-x86_64 is not installed");
      return;
    }
  dir = g_dir_make_tmp ("iovista-live-XXXXXX", &error);
  g_assert_no_error (error);
  sock = g_build_filename (dir, "qmp.sock", NULL);
  sock2 = g_build_filename (dir, "check.sock", NULL);
  qmp = g_strdup_printf ("unix:%s,server=on,wait=off", sock);
  qmp2 = g_strdup_printf ("unix:%s,server=on,wait=off", sock2);
  address = g_strconcat ("unix:", sock, NULL);
  address2 = g_strconcat ("unix:", sock2, NULL);
  proc = start_qemu (qemu, qmp, qmp2);

  window = gtk_window_new ();
  view = iov_live_view_new ();
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (iov_live_view_connect (IOV_LIVE_VIEW (view), address, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (wait_status (view, "Live · QEMU 7.2", 30), !=, 0);
  {
    g_auto(GStrv) rows = iov_live_view_dup_rows (IOV_LIVE_VIEW (view), FALSE);

    rows_before = g_strv_length (rows);
    g_assert_cmpuint (rows_before, >=, 1);
  }

  /* SIGKILL: the view says QEMU went away, why, and that it reconnects */
  t_kill = g_get_monotonic_time ();
  g_subprocess_force_exit (proc);
  g_subprocess_wait (proc, NULL, NULL);
  t_said = wait_status (view, "QEMU went away — reconnecting…", 10);
  g_assert_cmpint (t_said, !=, 0);
  gone = g_strdup (live_status (view));
  g_test_message ("%.0f ms after SIGKILL: %s", (t_said - t_kill) / 1e3, gone);
  g_assert_true (strstr (gone, "closed the connection (it exited or crashed)") != NULL);

  /* Away long enough for the retries to back off to their cap */
  {
    gint64 until = g_get_monotonic_time () + 3 * G_TIME_SPAN_SECOND;

    while (g_get_monotonic_time () < until)
      g_main_context_iteration (NULL, FALSE), g_usleep (2000);
  }
  /* the retries' "cannot connect" does not hide what happened */
  g_test_message ("after 3 s away: %s", live_status (view));
  g_assert_cmpstr (live_status (view), ==, gone);
  {
    g_auto(GStrv) rows = iov_live_view_dup_rows (IOV_LIVE_VIEW (view), FALSE);

    /* the last snapshot stays on screen meanwhile */
    g_assert_cmpuint (g_strv_length (rows), ==, rows_before);
  }

  /* QEMU comes back on the same socket: live again, by itself */
  t_start = g_get_monotonic_time ();
  again = start_qemu (qemu, qmp, qmp2);
  t_ready = wait_qemu_ready (address2);
  g_assert_cmpint (t_ready, !=, 0);
  t_live = wait_status (view, "Live · QEMU 7.2", 20);
  g_test_message ("QEMU started again: reachable after %.0f ms, the view live again %.0f ms after that "
                  "(%.0f ms after the start): %s",
                  (t_ready - t_start) / 1e3, (t_live - t_ready) / 1e3, (t_live - t_start) / 1e3, live_status (view));
  g_assert_cmpint (t_live, !=, 0);
  /* one retry interval (capped at 1 s) and a snapshot: well under 3 s */
  g_assert_cmpint (t_live - t_ready, <, 3 * G_TIME_SPAN_SECOND);

  g_subprocess_force_exit (again);
  g_subprocess_wait (again, NULL, NULL);
  gtk_window_destroy (GTK_WINDOW (window));
  g_unlink (sock);
  g_unlink (sock2);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/live/snapshot", test_snapshot);
  g_test_add_func ("/live/recording", test_recording);
  g_test_add_func ("/live/qemu", test_qemu);
  g_test_add_func ("/live/qemu-comes-back", test_qemu_comes_back);
  return g_test_run ();
}
