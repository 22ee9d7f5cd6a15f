/* iov-relay-server-ws.c
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

#define G_LOG_DOMAIN "iov-relay"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "iov-relay-server-private.h"
#include "iov-snapshot.h"

/* The events WebSocket (GET …/events): its clients, what each has queued,
 * and the messages they get — hello, snapshots, state, drops, and the
 * answers to their own messages.  The "events" messages come from the
 * VM's trace pump (-vm.c) through _iov_relay_vm_broadcast(). */

#define DROPS_SLACK_BYTES (64 * 1024)

/* ---- clients ------------------------------------------------------------ */

static gsize
frame_size (gsize payload)
{
  return payload + 2 + (payload > 65535 ? 8 : payload > 125 ? 2 : 0);
}

static gint64
client_queued (RelayClient *client)
{
  return (gint64) client->bytes_sent - (gint64) client->counters->bytes_written;
}

/* Hands @text to libsoup unless this client's queue would exceed the
 * limit; @force lets small control messages through a little above it. */
static gboolean
client_send (RelayClient *client,
             GBytes      *text,
             guint        n_events,
             gboolean     force)
{
  IovRelayServer *server = client->vm->server;
  gsize size = frame_size (g_bytes_get_size (text));
  gint64 limit = (gint64) server->limits.client_queue_bytes + (force ? DROPS_SLACK_BYTES : 0);

  if (client->conn == NULL ||
      soup_websocket_connection_get_state (client->conn) != SOUP_WEBSOCKET_STATE_OPEN)
    return FALSE;
  if (client_queued (client) + (gint64) size > limit)
    {
      client->dropped_messages++;
      client->dropped_events += n_events;
      return FALSE;
    }
  soup_websocket_connection_send_message (client->conn, SOUP_WEBSOCKET_DATA_TEXT, text);
  client->bytes_sent += size;
  client->sent_messages++;
  return TRUE;
}

static void
client_send_string (RelayClient *client,
                    GString     *out,
                    gboolean     force)
{
  g_autoptr(GBytes) bytes = g_bytes_new (out->str, out->len);

  client_send (client, bytes, 0, force);
}

/* This client's counters for a "drops" or "stats" message; they count as
 * reported from now on. */
static void
client_take_drops (RelayClient   *client,
                   IovRelayDrops *drops)
{
  RelayVm *vm = client->vm;
  guint64 source = vm->reader ? iov_trace_reader_get_dropped_lines (vm->reader) : 0;

  drops->dropped_messages = client->dropped_messages;
  drops->dropped_events = client->dropped_events;
  drops->source_dropped_lines = source;
  drops->sent_messages = client->sent_messages;
  drops->queued_bytes = (guint64) MAX (client_queued (client), 0);
  drops->invalid_messages = client->invalid_messages;
  client->reported_messages = client->dropped_messages;
  client->reported_events = client->dropped_events;
  client->reported_source = source;
}

static void
client_send_error (RelayClient *client,
                   const char  *message)
{
  g_autoptr(GString) out = g_string_new (NULL);

  iov_relay_append_error (out, message);
  client_send_string (client, out, TRUE);
}

static void
append_snapshot (GString     *out,
                 IovSnapshot *snapshot,
                 GPtrArray   *changes)
{
  g_autofree char *text = iov_snapshot_to_string (snapshot, FALSE, FALSE);

  iov_relay_append_snapshot (out, text, changes);
}

static void
client_send_hello (RelayClient *client)
{
  RelayVm *vm = client->vm;
  g_autoptr(GString) out = g_string_new (NULL);
  IovRelayHello hello = {
    .version = IOV_RELAY_PROTOCOL_VERSION,
    .relay = PACKAGE_NAME " " PACKAGE_VERSION,
    .vm = vm->name,
    .state = _iov_relay_vm_state_name (vm),
    .qemu = iov_qmp_client_get_version (vm->qmp),
    .trace = vm->reader != NULL,
    .queue_bytes = vm->server->limits.client_queue_bytes,
    .max_message_bytes = vm->server->limits.max_message_bytes,
    .seq = vm->seq,
  };

  iov_relay_append_hello (out, &hello);
  client_send_string (client, out, TRUE);

  if (iov_session_get_snapshot (vm->session) != NULL)
    {
      g_string_truncate (out, 0);
      append_snapshot (out, iov_session_get_snapshot (vm->session), NULL);
      client_send_string (client, out, TRUE);
    }
}

static void
client_free (RelayClient *client)
{
  client->counters->over_limit = NULL;
  g_clear_object (&client->conn);
  g_clear_pointer (&client->counters, g_rc_box_release);
  g_free (client->peer);
  g_free (client);
}

static void
on_client_closed (SoupWebsocketConnection *conn,
                  RelayClient             *client)
{
  RelayVm *vm = client->vm;

  g_message ("%s: client %s left (close code %u, %" G_GUINT64_FORMAT " messages sent, %"
             G_GUINT64_FORMAT " dropped)",
             vm->name, client->peer, soup_websocket_connection_get_close_code (conn),
             client->sent_messages, client->dropped_messages);
  g_signal_handlers_disconnect_by_data (conn, client);
  vm->clients = g_list_remove (vm->clients, client);
  vm->server->n_clients--;
  client_free (client);
}

static void
on_client_error (SoupWebsocketConnection *conn,
                 GError                  *error,
                 RelayClient             *client)
{
  g_message ("%s: client %s: %s", client->vm->name, client->peer, error->message);
}

static void
on_client_message (SoupWebsocketConnection *conn,
                   gint                     type,
                   GBytes                  *message,
                   RelayClient             *client)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  IovRelayClientMessage parsed;
  gsize len;
  const char *data = g_bytes_get_data (message, &len);

  client->counters->read_mark = client->counters->bytes_read;

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      client->invalid_messages++;
      client_send_error (client, _("Binary messages are not understood; send JSON text"));
      return;
    }
  if (!iov_relay_parse_client_message (data, len, &parsed, &error))
    {
      client->invalid_messages++;
      client_send_error (client, error->message);
      return;
    }
  switch (parsed.type)
    {
    case IOV_RELAY_CLIENT_PING:
      {
        IovRelayPong pong = { parsed.id, g_get_real_time () * 1000 };

        iov_relay_append_pong (out, &pong);
        client_send_string (client, out, TRUE);
      }
      break;
    case IOV_RELAY_CLIENT_SNAPSHOT:
      if (iov_session_get_snapshot (client->vm->session))
        {
          append_snapshot (out, iov_session_get_snapshot (client->vm->session), NULL);
          client_send_string (client, out, TRUE);
        }
      iov_session_refresh (client->vm->session);
      break;
    case IOV_RELAY_CLIENT_STATS:
    default:
      {
        IovRelayDrops stats;

        client_take_drops (client, &stats);
        iov_relay_append_stats (out, &stats);
        client_send_string (client, out, TRUE);
      }
      break;
    }
}

static gboolean
close_too_big_cb (gpointer user_data)
{
  SoupWebsocketConnection *conn = user_data;

  if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_TOO_BIG,
                                     _("Message too big for this relay"));
  return G_SOURCE_REMOVE;
}

/* Called from inside the read of the counting stream, once, when a client
 * has sent more than the message limit without completing a message (large
 * or endlessly fragmented frames): reading stops and the close follows. */
static void
on_read_over_limit (gpointer user_data)
{
  RelayClient *client = user_data;

  g_message ("%s: client %s sent more than %u bytes without completing a message; closing",
             client->vm->name, client->peer, client->vm->server->limits.max_message_bytes);
  g_idle_add_full (G_PRIORITY_DEFAULT, close_too_big_cb, g_object_ref (client->conn), g_object_unref);
}

static void
on_wrote_upgrade (SoupServerMessage *msg,
                  RelayVm           *vm)
{
  IovRelayServer *server = vm->server;
  g_autoptr(GIOStream) base = NULL;
  g_autoptr(GIOStream) wrapped = NULL;
  RelayClient *client;
  GUri *uri = soup_server_message_get_uri (msg);
  const char *origin;

  g_signal_handlers_disconnect_by_func (msg, on_wrote_upgrade, vm);

  client = g_new0 (RelayClient, 1);
  client->vm = vm;
  client->peer = g_strdup (soup_server_message_get_remote_host (msg));
  client->counters = g_rc_box_new0 (IovRelayCounters);
  client->counters->read_limit = server->limits.max_message_bytes + 1024;
  client->counters->over_limit = on_read_over_limit;
  client->counters->over_limit_data = client;

  origin = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Origin");
  base = soup_server_message_steal_connection (msg);
  wrapped = iov_relay_stream_new (base, client->counters);
  client->conn = soup_websocket_connection_new (wrapped, uri, SOUP_WEBSOCKET_CONNECTION_SERVER,
                                                origin, NULL, NULL);
  /* libsoup 3.2 drops the connection without a close frame when a frame
   * header announces more than its limit; the counting stream enforces ours
   * instead and closes with 1009 "too big", which a client can report. */
  soup_websocket_connection_set_max_incoming_payload_size (client->conn, 0);
  soup_websocket_connection_set_keepalive_interval (client->conn, server->limits.keepalive_s);

  g_signal_connect (client->conn, "message", G_CALLBACK (on_client_message), client);
  g_signal_connect (client->conn, "closed", G_CALLBACK (on_client_closed), client);
  g_signal_connect (client->conn, "error", G_CALLBACK (on_client_error), client);

  vm->clients = g_list_append (vm->clients, client);
  server->n_clients++;
  g_message ("%s: client %s watching (%u clients)", vm->name, client->peer, server->n_clients);

  client_send_hello (client);
  iov_session_refresh (vm->session);
}

/* GET …/events: checks the handshake and the number of clients; the
 * client exists once the upgrade is written. */
void
_iov_relay_vm_handle_events (RelayVm           *vm,
                             SoupServerMessage *msg)
{
  IovRelayServer *self = vm->server;
  g_autoptr(GError) error = NULL;

  if (!soup_websocket_server_check_handshake (msg, NULL, NULL, NULL, &error))
    {
      g_autofree char *message = g_strdup_printf (_("Not a WebSocket handshake: %s"), error->message);

      _iov_relay_respond_error (msg, SOUP_STATUS_BAD_REQUEST, message);
      return;
    }
  if (self->n_clients >= self->limits.max_clients)
    {
      g_message ("%s: refusing client %s: %u clients already", vm->name,
                 soup_server_message_get_remote_host (msg), self->n_clients);
      _iov_relay_respond_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, _("Too many clients"));
      return;
    }
  if (!soup_websocket_server_process_handshake (msg, NULL, NULL, NULL, NULL))
    return;
  g_signal_connect (msg, "wrote-informational", G_CALLBACK (on_wrote_upgrade), vm);
}

/* The relay is stopping: every client of @vm is told so and forgotten. */
void
_iov_relay_vm_drop_clients (RelayVm *vm)
{
  while (vm->clients)
    {
      RelayClient *client = vm->clients->data;

      g_signal_handlers_disconnect_by_data (client->conn, client);
      vm->clients = g_list_delete_link (vm->clients, vm->clients);
      if (soup_websocket_connection_get_state (client->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (client->conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
      client_free (client);
    }
}

/* ---- broadcasting ------------------------------------------------------- */

/* An "events" message: dropped for the clients it does not fit. */
void
_iov_relay_vm_broadcast (RelayVm *vm,
                         GString *out,
                         guint    n_events)
{
  g_autoptr(GBytes) bytes = NULL;

  if (vm->clients == NULL)
    return;
  bytes = g_bytes_new (out->str, out->len);
  for (GList *l = vm->clients; l; l = l->next)
    client_send (l->data, bytes, n_events, FALSE);
}

void
_iov_relay_vm_broadcast_snapshot (RelayVm   *vm,
                                  GPtrArray *changes)
{
  g_autoptr(GString) out = NULL;

  if (vm->clients == NULL)
    return;
  out = g_string_new (NULL);
  append_snapshot (out, iov_session_get_snapshot (vm->session), changes);
  for (GList *l = vm->clients; l; l = l->next)
    client_send_string (l->data, out, TRUE);
}

void
_iov_relay_vm_broadcast_state (RelayVm    *vm,
                               const char *error_message)
{
  g_autoptr(GString) out = g_string_new (NULL);
  IovRelayState state = {
    .state = _iov_relay_vm_state_name (vm),
    .session = iov_session_state_to_string (iov_session_get_state (vm->session)),
    .qemu = iov_qmp_client_get_version (vm->qmp),
    .error = error_message,
  };

  iov_relay_append_state (out, &state);
  for (GList *l = vm->clients; l; l = l->next)
    client_send_string (l->data, out, TRUE);
}

/* Once a second: a "drops" message for each client that lost something
 * since it was last told, or whose VM's trace reader dropped lines. */
gboolean
_iov_relay_server_drops_cb (gpointer user_data)
{
  IovRelayServer *self = user_data;

  for (guint i = 0; i < self->vms->len; i++)
    {
      RelayVm *vm = g_ptr_array_index (self->vms, i);
      guint64 source = vm->reader ? iov_trace_reader_get_dropped_lines (vm->reader) : 0;

      for (GList *l = vm->clients; l; l = l->next)
        {
          RelayClient *client = l->data;

          if (client->dropped_messages != client->reported_messages || source != client->reported_source)
            {
              g_autoptr(GString) out = g_string_new (NULL);
              IovRelayDrops drops;

              client_take_drops (client, &drops);
              iov_relay_append_drops (out, &drops);
              client_send_string (client, out, TRUE);
            }
        }
    }
  return G_SOURCE_CONTINUE;
}
