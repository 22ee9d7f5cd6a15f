/* fuzz-qmp-stream.c — libFuzzer harness for the QMP byte stream
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

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "fuzz-util.h"
#include "iov-qmp-client.h"
#include "iov-snapshot.h"
#include "iov-snapshot-info.h"

/* The client on one end of a socketpair, the input written to the other
 * end as QEMU would send it.  The first byte is the size of the writes
 * in units of 8 bytes (0: all at once), so a line arrives split over
 * several reads or several lines in one; the second says what the client does once connected:
 * even, a few commands (replies without an id answer the oldest, as QEMU's
 * do); odd, a whole snapshot collection (iov_snapshot_collect_async).  The
 * rest is the stream, then the socket is closed.
 *
 * What must hold: every callback comes exactly once, with a result or a
 * GError; the client writes only allowed commands, one JSON object a line;
 * the end of the stream leaves it disconnected; a snapshot it collects is
 * one the snapshot reader takes and writes back the same. */

#define MAX_ITERATIONS 100000

typedef struct
{
  IovQmpClient *client;
  gboolean      collect;
  guint         n_connect;
  gboolean      connected;
  guint         n_commands;
  guint         n_replies;
  guint         n_collect;
  guint         n_collecting;
  guint         n_events;
  GString      *sent;
} Run;

static const struct { const char *command, *args; } commands[] = {
  { "query-version", NULL },
  { "query-pci", NULL },
  { "qom-list", "{\"path\": \"/machine/peripheral-anon\"}" },
  { "human-monitor-command", "{\"command-line\": \"info mtree -f\"}" },
  { "query-status", NULL },
};

static void
check_error (const GError *error)
{
  fuzz_assert_error (error);
  g_assert_true (error->domain == IOV_QMP_ERROR || error->domain == G_IO_ERROR);
}

static void
on_event (IovQmpClient *client,
          const char   *name,
          JsonNode     *data,
          gint64        us,
          Run          *run)
{
  g_assert_nonnull (name);
  g_assert_true (us >= -1);
  run->n_events++;
}

static void
command_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = iov_qmp_client_execute_finish (IOV_QMP_CLIENT (source), result, &error);

  g_assert_true ((reply == NULL) != (error == NULL));
  if (reply == NULL)
    check_error (error);
  run->n_replies++;
}

static void
collect_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(IovSnapshot) snapshot = iov_snapshot_collect_finish (result, &error);

  run->n_collect++;
  if (snapshot == NULL)
    {
      check_error (error);
      return;
    }
  g_assert_no_error (error);
  {
    g_autoptr(JsonNode) written = iov_snapshot_to_json (snapshot, TRUE);
    g_autoptr(IovSnapshotInfo) info = iov_snapshot_info_new_from_json (written, &error);
    g_autoptr(JsonNode) again = NULL;

    /* whatever QEMU answered, what the collector writes is a snapshot
     * the reader takes (issue M: a peer's bad answers are left out and
     * said, never written) */
    if (info == NULL)
      g_error ("the snapshot reader refuses what the collector wrote: %s", error->message);
    again = iov_snapshot_info_to_json (info);
    fuzz_assert_json_equal (written, again);
  }
}

static void
connect_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(GError) error = NULL;

  run->n_connect++;
  g_assert_cmpuint (run->n_connect, ==, 1);
  if (!iov_qmp_client_connect_finish (run->client, result, &error))
    {
      check_error (error);
      return;
    }
  run->connected = TRUE;
  g_assert_nonnull (iov_qmp_client_get_version (run->client));
  g_assert_nonnull (iov_qmp_client_get_package (run->client));
  if (iov_qmp_client_get_state (run->client) != IOV_QMP_STATE_CONNECTED)
    return; /* the stream ended in the same read */
  if (run->collect)
    {
      run->n_collecting++;
      iov_snapshot_collect_async (run->client, NULL, collect_cb, run);
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autoptr(JsonNode) args = commands[i].args ? json_from_string (commands[i].args, NULL) : NULL;

      run->n_commands++;
      iov_qmp_client_execute_async (run->client, commands[i].command, args, NULL, command_cb, run);
    }
}

/* Runs the client until nothing is left to do, keeping what it wrote. */
static void
settle (Run *run,
        int  fd)
{
  char buf[4096];
  gssize n;

  for (guint i = 0; i < MAX_ITERATIONS; i++)
    {
      gboolean busy = g_main_context_iteration (NULL, FALSE);

      while ((n = recv (fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
        {
          g_string_append_len (run->sent, buf, n);
          busy = TRUE;
        }
      if (!busy)
        return;
    }
  g_error ("the client is still busy after %d main loop iterations", MAX_ITERATIONS);
}

/* Every line the client wrote is a JSON object with an allowed command. */
static void
check_sent (const GString *sent)
{
  const char *p = sent->str, *end = sent->str + sent->len;

  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;
      JsonObject *obj;

      g_assert_nonnull (nl);
      g_assert_true (nl > p && nl[-1] == '\r');
      g_assert_true (json_parser_load_from_data (parser, p, nl - 1 - p, &error));
      g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
      obj = json_node_get_object (json_parser_get_root (parser));
      if (!iov_qmp_command_is_allowed (json_object_get_string_member_with_default (obj, "execute", NULL),
                                       json_object_get_member (obj, "arguments"), &error))
        g_error ("the client sent a command it must not: %s", error->message);
      p = nl + 1;
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  Run run = { 0 };
  gsize chunk, off;
  int fds[2];

  fuzz_init ();
  if (size < 2)
    return 0;
  chunk = data[0] ? data[0] * 8u : size;
  run.collect = data[1] & 1;
  data += 2;
  size -= 2;
  if (fuzz_json_lines_have_second_value ((const char *) data, size))
    return 0;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  socket = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  connection = g_socket_connection_factory_create_connection (socket);
  run.client = iov_qmp_client_new_for_stream (G_IO_STREAM (connection));
  run.sent = g_string_new (NULL);
  g_signal_connect (run.client, "event", G_CALLBACK (on_event), &run);
  iov_qmp_client_connect_async (run.client, NULL, connect_cb, &run);
  settle (&run, fds[1]);

  for (off = 0; off < size; off += chunk)
    {
      gsize len = MIN (chunk, size - off);
      gssize n = send (fds[1], data + off, len, MSG_NOSIGNAL);

      /* the client may have hung up on what it read so far */
      if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
        break;
      g_assert_cmpint (n, ==, (gssize) len);
      settle (&run, fds[1]);
    }
  /* QEMU goes away */
  shutdown (fds[1], SHUT_WR);
  settle (&run, fds[1]);

  g_assert_cmpuint (run.n_connect, ==, 1);
  g_assert_cmpuint (run.n_replies, ==, run.n_commands);
  g_assert_cmpuint (run.n_collect, ==, run.n_collecting);
  g_assert_cmpint (iov_qmp_client_get_state (run.client), ==, IOV_QMP_STATE_DISCONNECTED);
  check_sent (run.sent);

  iov_qmp_client_close (run.client);
  settle (&run, fds[1]);
  g_object_unref (run.client);
  g_string_free (run.sent, TRUE);
  close (fds[1]);
  return 0;
}
