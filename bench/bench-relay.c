/* bench-relay.c — N WebSocket clients watching one relayed VM at M events/s
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

#define G_LOG_DOMAIN "bench-relay"
#define _GNU_SOURCE 1  /* memmem */

#include "config.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Starts `iovista-cli relay` on 127.0.0.1 with one VM whose trace source is
 * a UNIX socket this program writes QEMU trace lines into, stamped with the
 * wall clock at writing time.  N well-behaved clients read the events
 * stream; for each we count events, sequence gaps and the drop counters
 * the relay reports, and every event's latency (arrival - its timestamp).
 * The relay's CPU time comes from /proc.  Loopback only; bounded in time.
 * The VM's QMP socket does not exist: QMP is not what is measured. */

typedef struct
{
  SoupWebsocketConnection *conn;
  guint64                  events;
  guint64                  messages;
  guint64                  last_seq;
  guint64                  seq_gaps;
  guint64                  dropped_events;   /* from the relay's drops messages */
  guint64                  source_dropped;
  gboolean                 hello;
} Client;

static GMainLoop *loop;
static Client    *clients;
static int        n_clients = 50;
static int        rate = 10000;
static int        seconds = 10;
static guint      n_hello;
static guint      n_connected;
static GArray    *latencies_us;   /* guint32, all clients' events */
static GSocket   *writer;
static guint64    written;
static gint64     write_start_us;
static guint      write_id;
static gboolean   failed;

static guint64
cpu_ticks (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *text = NULL;
  const char *p;
  guint64 utime = 0, stime = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  p = strrchr (text, ')');
  if (p == NULL)
    return 0;
  /* fields after the command: state is 3, utime 14, stime 15 */
  if (sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
              &utime, &stime) != 2)
    return 0;
  return utime + stime;
}

static void
on_message (SoupWebsocketConnection *conn,
            gint                     type,
            GBytes                  *message,
            Client                  *client)
{
  gsize len;
  const char *data = g_bytes_get_data (message, &len);
  gint64 now_ns = g_get_real_time () * 1000;
  const char *p, *end = data + len;

  client->messages++;
  if (!client->hello)
    {
      client->hello = TRUE;
      n_hello++;
      if (n_hello == (guint) n_clients)
        g_main_loop_quit (loop);
      return;
    }
  if (len > 30 && memcmp (data, "{\"v\":1,\"type\":\"events\",\"seq\":", 29) == 0)
    {
      guint64 seq = g_ascii_strtoull (data + 29, NULL, 10);

      if (client->last_seq != 0 && seq != client->last_seq + 1)
        client->seq_gaps += seq - client->last_seq - 1;
      client->last_seq = seq;
      for (p = data; (p = memmem (p, end - p, "{\"ts_ns\":", 9)) != NULL; p += 9)
        {
          guint64 ts = g_ascii_strtoull (p + 9, NULL, 10);
          gint64 lat_us = (now_ns - (gint64) ts) / 1000;
          guint32 v = (guint32) CLAMP (lat_us, 0, G_MAXUINT32);

          g_array_append_val (latencies_us, v);
          client->events++;
        }
    }
  else if (memmem (data, len, "\"type\":\"drops\"", 14) != NULL)
    {
      const char *d = memmem (data, len, "\"dropped_events\":", 17);
      const char *s = memmem (data, len, "\"source_dropped_lines\":", 23);

      if (d)
        client->dropped_events = g_ascii_strtoull (d + 17, NULL, 10);
      if (s)
        client->source_dropped = g_ascii_strtoull (s + 23, NULL, 10);
    }
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Client *client = user_data;
  g_autoptr(GError) error = NULL;

  client->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (client->conn == NULL)
    {
      g_printerr ("bench-relay: client %d: %s\n", (int) (client - clients), error->message);
      failed = TRUE;
      g_main_loop_quit (loop);
      return;
    }
  soup_websocket_connection_set_max_incoming_payload_size (client->conn, 0);
  g_signal_connect (client->conn, "message", G_CALLBACK (on_message), client);
  n_connected++;
}

/* GLib 2.74 has no g_socket_send_all */
static gboolean
send_all (GSocket     *socket,
          const char  *data,
          gsize        len,
          GError     **error)
{
  while (len > 0)
    {
      gssize n = g_socket_send (socket, data, len, NULL, error);

      if (n < 0)
        return FALSE;
      data += n;
      len -= n;
    }
  return TRUE;
}

static gboolean
write_cb (gpointer user_data)
{
  gint64 now = g_get_real_time ();
  guint64 due = (guint64) ((g_get_monotonic_time () - write_start_us) / 1e6 * rate);
  g_autoptr(GString) out = NULL;
  g_autoptr(GError) error = NULL;

  if (due <= written)
    return G_SOURCE_CONTINUE;
  out = g_string_sized_new ((due - written) * 110);
  for (; written < due; written++)
    g_string_append_printf (out, "13726@%" G_GINT64_FORMAT ".%06d:vtd_inv_desc_iotlb_pages iotlb invalidate "
                            "domain 0x3 addr 0x%" G_GINT64_MODIFIER "x mask 0x0\n",
                            now / G_USEC_PER_SEC, (int) (now % G_USEC_PER_SEC), (gint64) (written & 0xfffff) << 12);
  if (!send_all (writer, out->str, out->len, &error))
    {
      g_printerr ("bench-relay: trace writer: %s\n", error->message);
      failed = TRUE;
      g_main_loop_quit (loop);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}


static gboolean
quit_cb (gpointer user_data)
{
  guint *id = user_data;

  *id = 0;
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static int
compare_u32 (gconstpointer a,
             gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

static void
run_for (guint ms)
{
  guint id = 0;

  id = g_timeout_add (ms, quit_cb, &id);
  g_main_loop_run (loop);
  g_clear_handle_id (&id, g_source_remove);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("IOVISTA-CLI");
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) relay = NULL;
  g_autoptr(GDataInputStream) relay_out = NULL;
  g_autoptr(SoupSession) session = NULL;
  g_autoptr(GSocketAddress) trace_addr = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *trace_path = NULL;
  g_autofree char *token_file = NULL;
  g_autofree char *vm_spec = NULL;
  g_autofree char *line = NULL;
  g_autofree char *token = NULL;
  g_autofree char *auth = NULL;
  const char *url;
  guint64 ticks0, ticks1, events_total = 0, gaps = 0, dropped = 0, source_dropped = 0, lost_worst = 0;
  gint64 t0, t1;
  double relay_cpu, self_cpu0, self_cpu1;
  long hz = sysconf (_SC_CLK_TCK);
  const GOptionEntry entries[] = {
    { "clients", 'c', 0, G_OPTION_ARG_INT, &n_clients, "WebSocket clients (default 50)", "N" },
    { "rate", 'r', 0, G_OPTION_ARG_INT, &rate, "Trace events per second (default 10000)", "N" },
    { "seconds", 's', 0, G_OPTION_ARG_INT, &seconds, "How long to write (default 10)", "S" },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 2 ||
      n_clients < 1 || n_clients > 200 || rate < 1 || rate > 200000 || seconds < 1 || seconds > 60)
    {
      g_printerr ("usage: bench-relay [--clients N≤200] [--rate N≤200000] [--seconds S≤60] IOVISTA-CLI\n");
      return 2;
    }

  loop = g_main_loop_new (NULL, FALSE);
  latencies_us = g_array_sized_new (FALSE, FALSE, sizeof (guint32), (gsize) n_clients * rate * seconds);
  tmp = g_dir_make_tmp ("iovista-bench-relay-XXXXXX", &error);
  g_assert_no_error (error);
  trace_path = g_build_filename (tmp, "trace.sock", NULL);
  token_file = g_build_filename (tmp, "token", NULL);
  vm_spec = g_strdup_printf ("bench,qmp=unix:%s/absent.qmp,trace=unix:%s", tmp, trace_path);

  relay = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                            argv[1], "relay", "--listen", "127.0.0.1:0", "--token-file", token_file,
                            "--vm", vm_spec, "--max-clients", "256", "--rate", "1000", NULL);
  if (relay == NULL)
    {
      g_printerr ("bench-relay: %s\n", error->message);
      return 1;
    }
  relay_out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (relay));
  line = g_data_input_stream_read_line (relay_out, NULL, NULL, &error);
  if (line == NULL || !g_str_has_prefix (line, "listening on "))
    {
      g_printerr ("bench-relay: the relay did not start\n");
      return 1;
    }
  url = line + strlen ("listening on ");
  if (!g_file_get_contents (token_file, &token, NULL, &error))
    g_error ("%s", error->message);
  g_strstrip (token);
  auth = g_strconcat ("Bearer ", token, NULL);

  /* the trace source */
  trace_addr = g_unix_socket_address_new (trace_path);
  writer = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &error);
  g_assert_no_error (error);
  if (!g_socket_connect (writer, trace_addr, NULL, &error))
    g_error ("trace socket: %s", error->message);

  /* the clients */
  session = soup_session_new_with_options ("max-conns", 512, "max-conns-per-host", 512, NULL);
  clients = g_new0 (Client, n_clients);
  for (int i = 0; i < n_clients; i++)
    {
      g_autofree char *ws_url = g_strdup_printf ("%s/api/v1/vms/bench/events", url);
      SoupMessage *msg = soup_message_new ("GET", ws_url);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
      soup_session_websocket_connect_async (session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                            connected_cb, &clients[i]);
      g_object_unref (msg);
    }
  run_for (20000);
  if (failed || n_hello != (guint) n_clients)
    {
      g_printerr ("bench-relay: only %u of %d clients got their hello\n", n_hello, n_clients);
      g_subprocess_send_signal (relay, SIGTERM);
      return 1;
    }

  /* write for the given time, then let the last batches arrive */
  ticks0 = cpu_ticks (atoi (g_subprocess_get_identifier (relay)));
  self_cpu0 = (double) clock () / CLOCKS_PER_SEC;
  t0 = g_get_monotonic_time ();
  write_start_us = t0;
  write_id = g_timeout_add (5, write_cb, NULL);
  run_for (seconds * 1000);
  g_clear_handle_id (&write_id, g_source_remove);
  run_for (1500);
  t1 = g_get_monotonic_time ();
  ticks1 = cpu_ticks (atoi (g_subprocess_get_identifier (relay)));
  self_cpu1 = (double) clock () / CLOCKS_PER_SEC;
  relay_cpu = (double) (ticks1 - ticks0) / hz;

  for (int i = 0; i < n_clients; i++)
    {
      Client *c = &clients[i];
      guint64 lost = written > c->events ? written - c->events : 0;

      events_total += c->events;
      gaps += c->seq_gaps;
      dropped += c->dropped_events;
      source_dropped = MAX (source_dropped, c->source_dropped);
      lost_worst = MAX (lost_worst, lost);
    }
  g_array_sort (latencies_us, compare_u32);

  {
    guint n = latencies_us->len;
    double p50 = n ? g_array_index (latencies_us, guint32, n / 2) / 1000.0 : 0;
    double p99 = n ? g_array_index (latencies_us, guint32, (guint) (n * 0.99)) / 1000.0 : 0;
    double pmax = n ? g_array_index (latencies_us, guint32, n - 1) / 1000.0 : 0;
    double wall = (t1 - t0) / 1e6;

    g_print ("relay bench (loopback, %d clients, %d events/s for %d s; 1.5 s drain)\n", n_clients, rate, seconds);
    g_print ("  events written                 %" G_GUINT64_FORMAT "\n", written);
    g_print ("  events received, all clients   %" G_GUINT64_FORMAT " (expected %" G_GUINT64_FORMAT ")\n",
             events_total, written * n_clients);
    g_print ("  lost by the worst client       %" G_GUINT64_FORMAT "\n", lost_worst);
    g_print ("  sequence gaps / dropped (relay-reported) / source drops   %" G_GUINT64_FORMAT " / %"
             G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT "\n", gaps, dropped, source_dropped);
    g_print ("  latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", p50, p99, pmax);
    g_print ("  relay CPU %.2f s in %.1f s wall = %.0f%% of one core; bench clients %.0f%%\n",
             relay_cpu, wall, 100 * relay_cpu / wall, 100 * (self_cpu1 - self_cpu0) / wall);
    g_print ("{\"clients\": %d, \"rate\": %d, \"seconds\": %d, \"written\": %" G_GUINT64_FORMAT
             ", \"received\": %" G_GUINT64_FORMAT ", \"lost_worst_client\": %" G_GUINT64_FORMAT
             ", \"seq_gaps\": %" G_GUINT64_FORMAT ", \"latency_p50_ms\": %.2f, \"latency_p99_ms\": %.2f"
             ", \"relay_cpu_percent\": %.1f}\n",
             n_clients, rate, seconds, written, events_total, lost_worst, gaps, p50, p99,
             100 * relay_cpu / wall);
  }

  for (int i = 0; i < n_clients; i++)
    if (clients[i].conn)
      {
        g_signal_handlers_disconnect_by_data (clients[i].conn, &clients[i]);
        g_object_unref (clients[i].conn);
      }
  g_socket_close (writer, NULL);
  g_object_unref (writer);
  g_subprocess_send_signal (relay, SIGTERM);
  g_subprocess_wait (relay, NULL, NULL);
  {
    g_autofree char *sock_path = g_build_filename (tmp, "trace.sock", NULL);

    g_unlink (sock_path);
    g_unlink (token_file);
    g_rmdir (tmp);
  }
  g_array_free (latencies_us, TRUE);
  g_free (clients);
  g_main_loop_unref (loop);
  return failed || lost_worst > 0 ? 1 : 0;
}
