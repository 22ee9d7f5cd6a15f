/* test-remote.c — the live view and the connect dialog through a real relay
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
#include <signal.h>
#include <sys/prctl.h>

#include "iov-connect-dialog.h"
#include "iov-live-view.h"
#include "test-app-util.h"
#include "test-qemu-util.h"
#include "../test-xz.h"

#include <gio/gunixsocketaddress.h>
#include <string.h>

#define TOKEN "iovista-test-remote-token-0123456789abcdef"

typedef struct
{
  char        *dir;
  char        *sock;
  char        *sock2;     /* a second QMP socket, for the TLS relay */
  char        *sock3;     /* a third, for the relay's second VM */
  char        *trace;     /* that VM's trace socket, the relay listens */
  char        *token_file;
  GSubprocess *qemu;
  GSubprocess *relay;
  char        *url;       /* http://127.0.0.1:PORT */
} Remote;

static Remote remote;

/* What the test starts dies with it, even when an assertion aborts it. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static GSubprocess *
spawn (GSubprocessFlags     flags,
       const char * const  *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);
  g_autoptr(GError) error = NULL;
  GSubprocess *proc;

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return proc;
}

static void
remote_stop (void)
{
  if (remote.relay != NULL)
    {
      g_subprocess_send_signal (remote.relay, SIGTERM);
      g_subprocess_wait (remote.relay, NULL, NULL);
    }
  if (remote.qemu != NULL)
    {
      g_subprocess_force_exit (remote.qemu);
      g_subprocess_wait (remote.qemu, NULL, NULL);
    }
  g_clear_object (&remote.relay);
  g_clear_object (&remote.qemu);
  if (remote.sock != NULL)
    g_unlink (remote.sock);
  if (remote.sock2 != NULL)
    g_unlink (remote.sock2);
  if (remote.sock3 != NULL)
    g_unlink (remote.sock3);
  if (remote.trace != NULL)
    g_unlink (remote.trace);
  if (remote.token_file != NULL)
    g_unlink (remote.token_file);
  if (remote.dir != NULL)
    g_rmdir (remote.dir);
  g_clear_pointer (&remote.sock, g_free);
  g_clear_pointer (&remote.sock2, g_free);
  g_clear_pointer (&remote.sock3, g_free);
  g_clear_pointer (&remote.trace, g_free);
  g_clear_pointer (&remote.token_file, g_free);
  g_clear_pointer (&remote.dir, g_free);
  g_clear_pointer (&remote.url, g_free);
}

static void
remote_start (const char *qemu)
{
  const char *cli = g_getenv ("IOVISTA_CLI");
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *qmp = NULL;
  g_autofree char *vm = NULL;
  g_autofree char *line = NULL;

  g_assert_nonnull (cli);
  remote.dir = g_dir_make_tmp ("iovista-remote-XXXXXX", &error);
  g_assert_no_error (error);
  remote.sock = g_build_filename (remote.dir, "qmp.sock", NULL);
  remote.sock2 = g_build_filename (remote.dir, "qmp2.sock", NULL);
  remote.sock3 = g_build_filename (remote.dir, "qmp3.sock", NULL);
  remote.trace = g_build_filename (remote.dir, "trace.sock", NULL);
  remote.token_file = g_build_filename (remote.dir, "relay.token", NULL);
  g_assert_true (g_file_set_contents_full (remote.token_file, TOKEN "\n", -1, G_FILE_SET_CONTENTS_NONE,
                                           0600, &error));
  g_assert_no_error (error);

  qmp = g_strdup_printf ("unix:%s,server=on,wait=off", remote.sock);
  {
    g_autofree char *qmp2 = g_strdup_printf ("unix:%s,server=on,wait=off", remote.sock2);
    g_autofree char *qmp3 = g_strdup_printf ("unix:%s,server=on,wait=off", remote.sock3);
    const char *argv[] = { qemu, "-M", "q35", "-accel", "tcg", "-nodefaults", "-device", "intel-iommu",
                           "-qmp", qmp, "-qmp", qmp2, "-qmp", qmp3, "-S", "-display", "none", NULL };

    remote.qemu = spawn (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, argv);
  }

  /* Port 0: the relay says which one it got. */
  vm = g_strdup_printf ("vm1,qmp=unix:%s", remote.sock);
  {
    g_autofree char *vm2 = g_strdup_printf ("vm2,qmp=unix:%s,trace=unix:%s", remote.sock3, remote.trace);
    const char *argv[] = { cli, "relay", "--listen", "127.0.0.1:0", "--vm", vm, "--vm", vm2,
                           "--token-file", remote.token_file, NULL };

    remote.relay = spawn (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, argv);
  }
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (remote.relay));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "listening on http://127.0.0.1:"));
  remote.url = g_strdup (line + strlen ("listening on "));
}

static gboolean
status_has (GtkWidget  *view,
            const char *needle)
{
  const char *status = iov_live_view_get_status (IOV_LIVE_VIEW (view));

  return status != NULL && strstr (status, needle) != NULL;
}

static void
wait_status (GtkWidget  *view,
             const char *needle,
             guint       seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_TIME_SPAN_SECOND;

  while (!status_has (view, needle) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_test_message ("status: %s", iov_live_view_get_status (IOV_LIVE_VIEW (view)));
}

static void
test_live_view (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = g_strconcat (remote.url, "/vm1", NULL);
  g_autofree char *via = g_strconcat ("via relay ", address, NULL);
  g_auto(GStrv) rows = NULL;
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = iov_live_view_new ();

  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));

  iov_live_view_set_token (IOV_LIVE_VIEW (view), TOKEN);
  g_assert_true (iov_live_view_connect (IOV_LIVE_VIEW (view), address, NULL, &error));
  g_assert_no_error (error);
  wait_status (view, via, 60);
  g_assert_true (g_str_has_prefix (iov_live_view_get_status (IOV_LIVE_VIEW (view)), "Live · QEMU "));
  g_assert_true (status_has (view, via));
  rows = iov_live_view_dup_rows (IOV_LIVE_VIEW (view), FALSE);
  g_assert_cmpuint (g_strv_length (rows), >=, 1);
  g_test_message ("first device: %s", rows[0]);

  /* The same relay with a wrong token: 401, said in place. */
  iov_live_view_set_token (IOV_LIVE_VIEW (view), "not-the-token");
  g_assert_true (iov_live_view_connect (IOV_LIVE_VIEW (view), address, NULL, &error));
  g_assert_no_error (error);
  wait_status (view, "the relay refused the token", 30);
  g_assert_true (status_has (view, "the relay refused the token"));

  gtk_window_destroy (GTK_WINDOW (window));
}

static guint
event_rows (GtkWidget *view)
{
  return iov_event_list_get_n_rows (iov_live_view_get_event_list (IOV_LIVE_VIEW (view)));
}

/* Two windows watch two VMs of one relay; the trace written to the second
 * VM's trace socket reaches that window's event list, timeline and
 * inference through the relay's events stream, and only that window. */
static void
test_two_windows_trace (void)
{
  g_autofree char *trace = test_read_xz_trace ("qemu-7.2/guest-intel-strict/trace.log.xz");
  g_autofree char *address1 = g_strconcat (remote.url, "/vm1", NULL);
  g_autofree char *address2 = g_strconcat (remote.url, "/vm2", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSocketAddress) sa = NULL;
  g_autoptr(GString) written = g_string_new (NULL);
  GtkWidget *windows[2], *views[2];
  guint n_events = 0;
  gint64 deadline;

  if (trace == NULL)
    {
      g_test_skip ("xz is not installed");
      return;
    }
  /* The first 3000 lines: QEMU's own prefix and arguments, as printed. */
  {
    g_auto(GStrv) lines = g_strsplit (trace, "\n", 3001);

    for (guint i = 0; i < 3000 && lines[i] != NULL; i++)
      if (strchr (lines[i], '@') != NULL)
        {
          g_string_append_printf (written, "%s\n", lines[i]);
          n_events++;
        }
  }

  for (guint i = 0; i < 2; i++)
    {
      windows[i] = gtk_window_new ();
      views[i] = iov_live_view_new ();
      gtk_window_set_default_size (GTK_WINDOW (windows[i]), 1200, 800);
      gtk_window_set_child (GTK_WINDOW (windows[i]), views[i]);
      gtk_window_present (GTK_WINDOW (windows[i]));
      iov_live_view_set_token (IOV_LIVE_VIEW (views[i]), TOKEN);
      /* the second window asks the relay to turn a trace preset on */
      iov_live_view_set_trace_preset (IOV_LIVE_VIEW (views[i]), i ? "vtd-invalidations" : NULL);
      g_assert_true (iov_live_view_connect (IOV_LIVE_VIEW (views[i]), i ? address2 : address1, NULL, &error));
      g_assert_no_error (error);
    }
  wait_status (views[0], "via relay ", 60);
  wait_status (views[1], "via relay ", 60);
  g_assert_true (status_has (views[0], address1));
  g_assert_true (status_has (views[1], address2));

  /* QEMU itself says the preset is on: asked on a QMP socket of its own */
  {
    g_autofree char *check_address = g_strconcat ("unix:", remote.sock2, NULL);

    g_assert_true (qemu_test_wait_trace_state (check_address, "vtd_inv_desc", TRUE, 60));
  }

  sa = g_unix_socket_address_new (remote.trace);
  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (sa), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                            written->str, written->len, NULL, NULL, &error));
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  while (event_rows (views[1]) < n_events && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_test_message ("window 2: %u of %u events", event_rows (views[1]), n_events);
  g_assert_cmpuint (event_rows (views[1]), ==, n_events);
  g_assert_cmpuint (event_rows (views[0]), ==, 0);
  g_assert_cmpuint (iov_event_store_get_n_events (iov_timeline_get_store (iov_live_view_get_timeline (IOV_LIVE_VIEW (views[1])))),
                    ==, n_events);

  /* The first event arrived as QEMU printed it. */
  {
    IovEventList *list = iov_live_view_get_event_list (IOV_LIVE_VIEW (views[1]));
    g_autofree char *inspector = NULL;

    iov_event_list_select_row (list, 1);
    inspector = iov_event_list_dup_inspector_text (list);
    g_assert_nonnull (strstr (inspector, "\nvtd_switch_address_space Device 00:00.0 switching address space (iommu enabled=0)\n"));
  }
  if (g_getenv ("IOVISTA_TEST_SCREENSHOT"))
    {
      g_autoptr(GdkTexture) texture = NULL;

      app_test_wait_for_draw (windows[1]);
      texture = app_test_render (windows[1]);
      gdk_texture_save_to_png (texture, g_getenv ("IOVISTA_TEST_SCREENSHOT"));
    }
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  gtk_window_destroy (GTK_WINDOW (windows[0]));
  gtk_window_destroy (GTK_WINDOW (windows[1]));
}

/* A relay behind a self-signed certificate: the view shows its fingerprint
 * and trusts it only when asked to. */
static void
test_untrusted_certificate (void)
{
  const char *cli = g_getenv ("IOVISTA_CLI");
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  g_autofree char *cert = g_build_filename (remote.dir, "cert.pem", NULL);
  g_autofree char *key = g_build_filename (remote.dir, "key.pem", NULL);
  g_autofree char *vm = g_strdup_printf ("vm1,qmp=unix:%s", remote.sock2);
  g_autoptr(GSubprocess) relay = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *address = NULL;
  GtkWidget *window, *view;

  g_assert_nonnull (openssl);   /* a test package: build-aux/deps.sh */
  {
    const char *argv[] = { openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                           "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", NULL };
    g_autoptr(GSubprocess) gen = spawn (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, argv);

    g_assert_true (g_subprocess_wait_check (gen, NULL, &error));
    g_assert_no_error (error);
  }
  {
    const char *argv[] = { cli, "relay", "--listen", "127.0.0.1:0", "--vm", vm, "--token-file", remote.token_file,
                           "--tls-cert", cert, "--tls-key", key, NULL };

    relay = spawn (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, argv);
  }
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (relay));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "listening on https://127.0.0.1:"));
  address = g_strconcat (line + strlen ("listening on "), "/vm1", NULL);

  window = gtk_window_new ();
  view = iov_live_view_new ();
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  iov_live_view_set_token (IOV_LIVE_VIEW (view), TOKEN);
  g_assert_true (iov_live_view_connect (IOV_LIVE_VIEW (view), address, NULL, &error));
  g_assert_no_error (error);
  wait_status (view, "not trusted", 30);
  g_assert_true (status_has (view, "not trusted"));

  /* The user compares the fingerprint and chooses to trust it. */
  g_assert_true (gtk_widget_activate_action (view, "live.trust-certificate", NULL));
  wait_status (view, "via relay https://", 60);
  g_assert_true (status_has (view, "via relay https://"));

  gtk_window_destroy (GTK_WINDOW (window));
  g_subprocess_send_signal (relay, SIGTERM);
  g_subprocess_wait (relay, NULL, NULL);
  g_unlink (cert);
  g_unlink (key);
}

static void
test_dialog (void)
{
  IovConnectDialog *dialog = iov_connect_dialog_new (NULL, NULL);
  g_autofree char *expected = g_strconcat (remote.url, "/vm1", NULL);
  GListModel *vms;
  gint64 deadline;

  /* the trace presets are offered, none chosen by default */
  g_assert_null (iov_connect_dialog_get_trace_preset (dialog));
  iov_connect_dialog_set_trace_preset (dialog, "notifier-traffic");
  g_assert_cmpstr (iov_connect_dialog_get_trace_preset (dialog), ==, "notifier-traffic");
  iov_connect_dialog_set_trace_preset (dialog, NULL);

  iov_connect_dialog_set_relay (dialog, remote.url, TOKEN);
  g_assert_cmpstr (iov_connect_dialog_get_token (dialog), ==, TOKEN);
  iov_connect_dialog_list_vms (dialog);
  vms = iov_connect_dialog_get_vms (dialog);
  deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  while (g_list_model_get_n_items (vms) == 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (g_list_model_get_n_items (vms), ==, 2);
  g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (vms), 0), ==, "vm1");
  g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (vms), 1), ==, "vm2");
  g_assert_cmpstr (iov_connect_dialog_get_address (dialog), ==, expected);
  gtk_window_destroy (GTK_WINDOW (dialog));
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *qemu = g_find_program_in_path ("qemu-system-x86_64");
  int ret;

  if (qemu == NULL)
    {
      g_printerr ("qemu-system-x86_64 is not installed: skipped\n");
      return 77;
    }

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  remote_start (qemu);
  g_test_add_func ("/remote/live-view", test_live_view);
  g_test_add_func ("/remote/dialog", test_dialog);
  g_test_add_func ("/remote/two-windows-trace", test_two_windows_trace);
  g_test_add_func ("/remote/untrusted-certificate", test_untrusted_certificate);
  ret = g_test_run ();
  remote_stop ();
  return ret;
}
