/* iov-relay-server.c
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
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "iov-qmp-client.h"
#include "iov-relay-server.h"
#include "iov-trace-control.h"
#include "iov-relay-stream.h"
#include "iov-session.h"
#include "iov-snapshot.h"
#include "iov-trace-events.h"
#include "iov-trace-parser.h"
#include "iov-trace-reader.h"

/* An HTTP + WebSocket server in front of local VMs.  Each VM has one
 * IovSession (its QMP client sends the allow-listed read-only commands,
 * plus trace-event-set-state on an explicit POST; the session polls,
 * reconnects and says what changed) and optionally one trace reader.
 * Trace lines are decoded once and the same JSON batch goes to every
 * client.
 *
 * Slow clients: we know how many bytes we handed libsoup for a client and,
 * through a counting stream under the WebSocket connection, how many it has
 * written to the socket.  The difference is that client's queue; a message
 * that would make it exceed the limit is dropped and counted, and the
 * counts are reported in the client's own stream.  Nothing ever waits for a
 * client, so QEMU and the other clients never notice a slow one. */

#define MAX_EVENTS_PER_MESSAGE 2000
#define MAX_MESSAGE_TEXT       (256 * 1024)
#define TRACE_QUEUE_BYTES      (16u * 1024 * 1024)
#define DROPS_SLACK_BYTES      (64 * 1024)
#define STATUS_TOO_MANY_REQUESTS 429   /* not named by libsoup 3.2 */

typedef struct _RelayVm RelayVm;

typedef struct
{
  RelayVm                 *vm;
  SoupWebsocketConnection *conn;
  IovRelayCounters        *counters;
  char                    *peer;
  guint64                  bytes_sent;
  guint64                  sent_messages;
  guint64                  dropped_messages;
  guint64                  dropped_events;
  guint64                  reported_messages;
  guint64                  reported_events;
  guint64                  reported_source;
  guint64                  invalid_messages;
} RelayClient;

typedef struct
{
  SoupServerMessage *msg;
  gboolean           raw;
  gboolean           pretty;
} WaitingSnapshot;

struct _RelayVm
{
  IovRelayServer   *server;
  char             *name;
  char             *qmp_address;
  char             *trace_spec;
  IovSession       *session;
  IovQmpClient     *qmp;              /* the session's */
  IovTraceReader   *reader;
  gboolean          collecting;       /* a fresh snapshot for GET …/snapshot */
  GPtrArray        *waiting;          /* WaitingSnapshot */
  GList            *clients;          /* RelayClient */
  guint             pump_id;
  guint64           seq;
  guint64           events_sent;
  gboolean          live;             /* last state told to clients and the log */
  gboolean          told_down;
};

struct _IovRelayServer
{
  GObject          parent_instance;

  char            *token;
  IovRelayLimits   limits;
  SoupServer      *soup;
  GTlsCertificate *certificate;
  GPtrArray       *vms;             /* RelayVm */
  GHashTable      *buckets;         /* remote host → RateBucket */
  IovTraceCatalog *catalog;
  GCancellable    *cancellable;
  guint            n_clients;
  GSocketService  *service;
  GPtrArray       *connections;     /* GWeakRef to each accepted GSocket */
  guint            drops_id;
  gboolean         started;
  char            *url;
};

typedef struct
{
  double tokens;
  gint64 last_us;
} RateBucket;

G_DEFINE_FINAL_TYPE (IovRelayServer, iov_relay_server, G_TYPE_OBJECT)

/* ---- trace presets ------------------------------------------------------ */

/* The presets and the noisy events are the core's (iov-trace-control). */

/* ---- helpers ------------------------------------------------------------ */

static void
weak_ref_free (GWeakRef *ref)
{
  g_weak_ref_clear (ref);
  g_free (ref);
}

static void
respond_json (SoupServerMessage *msg,
              guint              status,
              const char        *text)
{
  soup_server_message_set_status (msg, status,
                                  status == STATUS_TOO_MANY_REQUESTS ? "Too Many Requests" : NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, text, strlen (text));
}

static void
respond_error (SoupServerMessage *msg,
               guint              status,
               const char        *message)
{
  g_autoptr(GString) out = g_string_new (NULL);

  g_string_append_printf (out, "{\"v\": %d, \"status\": %u, \"error\": ", IOV_RELAY_PROTOCOL_VERSION, status);
  iov_json_append_string (out, message, strlen (message));
  g_string_append (out, "}\n");
  respond_json (msg, status, out->str);
}

static char *
node_to_string (JsonNode *node,
                gboolean  pretty)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();

  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, pretty);
  json_generator_set_indent (gen, 2);
  return json_generator_to_data (gen, NULL);
}

static const char *
state_name (IovQmpState state)
{
  switch (state)
    {
    case IOV_QMP_STATE_CONNECTED: return "connected";
    case IOV_QMP_STATE_CONNECTING: return "connecting";
    case IOV_QMP_STATE_DISCONNECTED:
    default: return "disconnected";
    }
}

static gsize
frame_size (gsize payload)
{
  return payload + 2 + (payload > 65535 ? 8 : payload > 125 ? 2 : 0);
}

static gboolean
query_flag (GHashTable *query,
            const char *name,
            gboolean    fallback)
{
  const char *v = query ? g_hash_table_lookup (query, name) : NULL;

  if (v == NULL)
    return fallback;
  return g_str_equal (v, "1") || g_str_equal (v, "true") || g_str_equal (v, "yes") || *v == '\0';
}

/* ---- clients ------------------------------------------------------------ */

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

static void
append_drops (GString     *out,
              RelayClient *client,
              const char  *type)
{
  RelayVm *vm = client->vm;
  guint64 source = vm->reader ? iov_trace_reader_get_dropped_lines (vm->reader) : 0;

  g_string_append_printf (out,
                          "{\"v\":%d,\"type\":\"%s\",\"dropped_messages\":%" G_GUINT64_FORMAT
                          ",\"dropped_events\":%" G_GUINT64_FORMAT ",\"source_dropped_lines\":%" G_GUINT64_FORMAT
                          ",\"sent_messages\":%" G_GUINT64_FORMAT ",\"queued_bytes\":%" G_GINT64_FORMAT
                          ",\"invalid_messages\":%" G_GUINT64_FORMAT "}",
                          IOV_RELAY_PROTOCOL_VERSION, type, client->dropped_messages, client->dropped_events,
                          source, client->sent_messages, MAX (client_queued (client), 0),
                          client->invalid_messages);
  client->reported_messages = client->dropped_messages;
  client->reported_events = client->dropped_events;
  client->reported_source = source;
}

static void
client_send_error (RelayClient *client,
                   const char  *message)
{
  g_autoptr(GString) out = g_string_new (NULL);

  g_string_append_printf (out, "{\"v\":%d,\"type\":\"error\",\"error\":", IOV_RELAY_PROTOCOL_VERSION);
  iov_json_append_string (out, message, strlen (message));
  g_string_append_c (out, '}');
  client_send_string (client, out, TRUE);
}

static void
append_snapshot_message (GString     *out,
                         IovSnapshot *snapshot,
                         GPtrArray   *changes)
{
  g_autofree char *text = iov_snapshot_to_string (snapshot, FALSE, FALSE);

  g_string_append_printf (out, "{\"v\":%d,\"type\":\"snapshot\",\"changes\":[", IOV_RELAY_PROTOCOL_VERSION);
  for (guint i = 0; changes && i < changes->len; i++)
    {
      const IovSnapshotChange *c = g_ptr_array_index (changes, i);
      const char *kind = iov_snapshot_change_kind_to_string (c->kind);

      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append (out, "{\"kind\":");
      iov_json_append_string (out, kind, strlen (kind));
      g_string_append (out, ",\"device\":");
      iov_json_append_string (out, c->device, strlen (c->device));
      g_string_append_printf (out, ",\"ranges\":%u,\"message\":", c->n_ranges);
      iov_json_append_string (out, c->message, strlen (c->message));
      g_string_append_c (out, '}');
    }
  g_string_append (out, "],\"snapshot\":");
  g_string_append (out, text);
  g_string_append_c (out, '}');
}

static void
client_send_hello (RelayClient *client)
{
  RelayVm *vm = client->vm;
  g_autoptr(GString) out = g_string_new (NULL);
  const char *version = iov_qmp_client_get_version (vm->qmp);

  g_string_append_printf (out, "{\"v\":%d,\"type\":\"hello\",\"version\":%d,\"relay\":\"%s %s\",\"vm\":",
                          IOV_RELAY_PROTOCOL_VERSION, IOV_RELAY_PROTOCOL_VERSION,
                          PACKAGE_NAME, PACKAGE_VERSION);
  iov_json_append_string (out, vm->name, strlen (vm->name));
  g_string_append_printf (out, ",\"state\":\"%s\",\"qemu\":", state_name (iov_qmp_client_get_state (vm->qmp)));
  if (version)
    iov_json_append_string (out, version, strlen (version));
  else
    g_string_append (out, "null");
  g_string_append_printf (out, ",\"trace\":%s,\"queue_bytes\":%" G_GSIZE_FORMAT
                          ",\"max_message_bytes\":%u,\"seq\":%" G_GUINT64_FORMAT "}",
                          vm->reader ? "true" : "false", vm->server->limits.client_queue_bytes,
                          vm->server->limits.max_message_bytes, vm->seq);
  client_send_string (client, out, TRUE);

  if (iov_session_get_snapshot (vm->session) != NULL)
    {
      g_string_truncate (out, 0);
      append_snapshot_message (out, iov_session_get_snapshot (vm->session), NULL);
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
      g_string_append_printf (out, "{\"v\":%d,\"type\":\"pong\",\"id\":%" G_GINT64_FORMAT
                              ",\"time_ns\":%" G_GINT64_FORMAT "}",
                              IOV_RELAY_PROTOCOL_VERSION, parsed.id, g_get_real_time () * 1000);
      client_send_string (client, out, TRUE);
      break;
    case IOV_RELAY_CLIENT_SNAPSHOT:
      if (iov_session_get_snapshot (client->vm->session))
        {
          append_snapshot_message (out, iov_session_get_snapshot (client->vm->session), NULL);
          client_send_string (client, out, TRUE);
        }
      iov_session_refresh (client->vm->session);
      break;
    case IOV_RELAY_CLIENT_STATS:
    default:
      append_drops (out, client, "stats");
      client_send_string (client, out, TRUE);
      break;
    }
}

typedef struct
{
  SoupWebsocketConnection *conn;
} CloseTooBig;

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

/* ---- broadcasting ------------------------------------------------------- */

static void
broadcast (RelayVm *vm,
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

static void
broadcast_state (RelayVm    *vm,
                 const char *error_message)
{
  g_autoptr(GString) out = g_string_new (NULL);
  const char *version = iov_qmp_client_get_version (vm->qmp);

  g_string_append_printf (out, "{\"v\":%d,\"type\":\"state\",\"state\":\"%s\",\"session\":\"%s\",\"qemu\":",
                          IOV_RELAY_PROTOCOL_VERSION, state_name (iov_qmp_client_get_state (vm->qmp)),
                          iov_session_state_to_string (iov_session_get_state (vm->session)));
  if (version)
    iov_json_append_string (out, version, strlen (version));
  else
    g_string_append (out, "null");
  if (error_message)
    {
      g_string_append (out, ",\"error\":");
      iov_json_append_string (out, error_message, strlen (error_message));
    }
  g_string_append_c (out, '}');
  for (GList *l = vm->clients; l; l = l->next)
    client_send_string (l->data, out, TRUE);
}

static gboolean
drops_cb (gpointer user_data)
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

              append_drops (out, client, "drops");
              client_send_string (client, out, TRUE);
            }
        }
    }
  return G_SOURCE_CONTINUE;
}

/* ---- snapshots ---------------------------------------------------------- */

static const char *
vm_error (RelayVm *vm)
{
  const GError *error = iov_session_get_error (vm->session);

  return error ? error->message : NULL;
}

static void
answer_waiting (RelayVm     *vm,
                guint        status,
                const char  *error_message,
                IovSnapshot *snapshot)
{
  g_autoptr(GPtrArray) waiting = g_steal_pointer (&vm->waiting);

  vm->waiting = g_ptr_array_new ();
  for (guint i = 0; i < waiting->len; i++)
    {
      WaitingSnapshot *w = g_ptr_array_index (waiting, i);

      if (status == SOUP_STATUS_OK)
        {
          g_autofree char *text = iov_snapshot_to_string (snapshot, w->raw, w->pretty);
          g_autofree char *line = g_strconcat (text, "\n", NULL);

          respond_json (w->msg, SOUP_STATUS_OK, line);
        }
      else
        respond_error (w->msg, status, error_message);
      soup_server_message_unpause (w->msg);
      g_object_unref (w->msg);
      g_free (w);
    }
}

static void fetch_snapshot (RelayVm *vm);

static void
fetched_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  RelayVm *vm = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(IovSnapshot) snapshot = iov_snapshot_collect_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the relay is stopping: vm may be gone */
  vm->collecting = FALSE;
  if (snapshot == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("Cannot collect a snapshot of %s: %s"),
                                                  vm->name, error->message);

      answer_waiting (vm, SOUP_STATUS_BAD_GATEWAY, message, NULL);
      return;
    }
  answer_waiting (vm, SOUP_STATUS_OK, NULL, snapshot);
}

/* GET …/snapshot answers with a snapshot taken for the request (requests
 * arriving meanwhile share it), the text `iovista-cli snapshot` prints. */
static void
fetch_snapshot (RelayVm *vm)
{
  if (vm->collecting)
    return;
  if (iov_qmp_client_get_state (vm->qmp) != IOV_QMP_STATE_CONNECTED)
    {
      g_autofree char *message = g_strdup_printf (_("QEMU of %s is not connected (%s)"), vm->name,
                                                  vm_error (vm) ? vm_error (vm) : vm->qmp_address);

      answer_waiting (vm, SOUP_STATUS_SERVICE_UNAVAILABLE, message, NULL);
      return;
    }
  vm->collecting = TRUE;
  iov_snapshot_collect_async (vm->qmp, vm->server->cancellable, fetched_cb, vm);
}

static void
on_session_changed (IovSession *session,
                    GPtrArray  *changes,
                    RelayVm    *vm)
{
  g_autoptr(GString) out = NULL;

  if (vm->clients == NULL)
    return;
  out = g_string_new (NULL);
  append_snapshot_message (out, iov_session_get_snapshot (session), changes);
  for (GList *l = vm->clients; l; l = l->next)
    client_send_string (l->data, out, TRUE);
}

/* Clients and the log hear about going live and about losing QEMU, not
 * about every reconnection attempt in between. */
static void
on_session_state (IovSession *session,
                  GParamSpec *pspec,
                  RelayVm    *vm)
{
  IovSessionState state = iov_session_get_state (session);

  if (state == IOV_SESSION_STATE_LIVE && !vm->live)
    {
      vm->live = TRUE;
      vm->told_down = FALSE;
      g_message ("%s: watching QEMU %s at %s", vm->name, iov_qmp_client_get_version (vm->qmp), vm->qmp_address);
      broadcast_state (vm, NULL);
    }
  else if (state == IOV_SESSION_STATE_DISCONNECTED && (vm->live || !vm->told_down))
    {
      vm->live = FALSE;
      vm->told_down = TRUE;
      g_message ("%s: no QEMU at %s: %s; retrying", vm->name, vm->qmp_address,
                 vm_error (vm) ? vm_error (vm) : "?");
      broadcast_state (vm, vm_error (vm));
    }
}

/* ---- trace events ------------------------------------------------------- */

typedef struct
{
  RelayVm *vm;
  GString *out;
  guint    n_events;
  gint64   arrival_ns;
} Pump;

static void
pump_flush (Pump *pump)
{
  RelayVm *vm = pump->vm;

  if (pump->n_events == 0)
    return;
  g_string_append (pump->out, "]}");
  broadcast (vm, pump->out, pump->n_events);
  vm->events_sent += pump->n_events;
  pump->n_events = 0;
  g_string_truncate (pump->out, 0);
}

static void
pump_line (const char *text,
           gsize       len,
           gboolean    cut,
           gpointer    user_data)
{
  Pump *pump = user_data;
  RelayVm *vm = pump->vm;
  IovTraceLine line;

  if (iov_trace_parse_line (vm->server->catalog, text, len, &line) != IOV_TRACE_LINE_EVENT)
    return;
  if (pump->n_events == 0)
    g_string_append_printf (pump->out,
                            "{\"v\":%d,\"type\":\"events\",\"seq\":%" G_GUINT64_FORMAT
                            ",\"source_dropped_lines\":%" G_GUINT64_FORMAT ",\"events\":[",
                            IOV_RELAY_PROTOCOL_VERSION, ++vm->seq,
                            iov_trace_reader_get_dropped_lines (vm->reader));
  else
    g_string_append_c (pump->out, ',');
  iov_relay_append_event (pump->out, vm->server->catalog, &line, pump->arrival_ns);
  pump->n_events++;
  if (pump->n_events >= MAX_EVENTS_PER_MESSAGE || pump->out->len >= MAX_MESSAGE_TEXT)
    pump_flush (pump);
}

static gboolean
pump_cb (gpointer user_data)
{
  RelayVm *vm = user_data;
  Pump pump = { vm, NULL, 0, g_get_real_time () * 1000 };
  gint64 deadline = g_get_monotonic_time () + 20 * G_TIME_SPAN_MILLISECOND;

  pump.out = g_string_sized_new (64 * 1024);
  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr(GBytes) batch = iov_trace_reader_pop (vm->reader, 0);
      gsize len;
      const char *data;

      if (batch == NULL)
        break;
      /* Without listeners the lines are only counted by the reader. */
      if (vm->clients == NULL)
        continue;
      data = g_bytes_get_data (batch, &len);
      iov_trace_split_lines (data, len, pump_line, &pump);
    }
  pump_flush (&pump);
  g_string_free (pump.out, TRUE);
  return G_SOURCE_CONTINUE;
}

/* ---- trace control ------------------------------------------------------ */

typedef struct
{
  RelayVm           *vm;
  SoupServerMessage *msg;
  guint              pending;
  GHashTable        *states;   /* event → gboolean */
  GPtrArray         *errors;
  gboolean           post;
  const IovTracePreset *preset;
  gboolean           enable;
} TraceOp;

static void
trace_op_free (TraceOp *op)
{
  g_object_unref (op->msg);
  g_hash_table_unref (op->states);
  g_ptr_array_unref (op->errors);
  g_free (op);
}

static void trace_query (TraceOp *op);

/* The relay is stopping: answer without touching the VM, which is gone. */
static gboolean
trace_op_cancelled (TraceOp *op,
                    GError  *error)
{
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return FALSE;
  if (--op->pending == 0)
    {
      respond_error (op->msg, SOUP_STATUS_SERVICE_UNAVAILABLE, _("The relay is stopping"));
      soup_server_message_unpause (op->msg);
      trace_op_free (op);
    }
  return TRUE;
}

static void
trace_answer (TraceOp *op)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GList) names = NULL;
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;
  guint n_presets;
  const IovTracePreset *presets = iov_trace_presets (&n_presets);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, IOV_RELAY_PROTOCOL_VERSION);
  json_builder_set_member_name (b, "vm");
  json_builder_add_string_value (b, op->vm->name);
  json_builder_set_member_name (b, "presets");
  json_builder_begin_array (b);
  for (guint i = 0; i < n_presets; i++)
    {
      GHashTableIter iter;
      gpointer key, value;
      guint n = 0, on = 0;

      g_hash_table_iter_init (&iter, op->states);
      while (g_hash_table_iter_next (&iter, &key, &value))
        if (iov_trace_preset_matches (&presets[i], key))
          {
            n++;
            on += GPOINTER_TO_INT (value) ? 1 : 0;
          }
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, presets[i].name);
      json_builder_set_member_name (b, "title");
      json_builder_add_string_value (b, _(presets[i].title));
      json_builder_set_member_name (b, "patterns");
      json_builder_begin_array (b);
      for (guint p = 0; presets[i].patterns[p]; p++)
        json_builder_add_string_value (b, presets[i].patterns[p]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "events");
      json_builder_add_int_value (b, n);
      json_builder_set_member_name (b, "enabled_events");
      json_builder_add_int_value (b, on);
      json_builder_set_member_name (b, "enabled");
      json_builder_add_boolean_value (b, n > 0 && on == n);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "enabled_events");
  json_builder_begin_array (b);
  names = g_hash_table_get_keys (op->states);
  names = g_list_sort (names, (GCompareFunc) g_strcmp0);
  for (GList *l = names; l; l = l->next)
    if (GPOINTER_TO_INT (g_hash_table_lookup (op->states, l->data)))
      json_builder_add_string_value (b, l->data);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "errors");
  json_builder_begin_array (b);
  for (guint i = 0; i < op->errors->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (op->errors, i));
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  text = node_to_string (root, TRUE);
  line = g_strconcat (text, "\n", NULL);
  respond_json (op->msg, SOUP_STATUS_OK, line);
  soup_server_message_unpause (op->msg);
  trace_op_free (op);
}

static void
trace_get_state_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  TraceOp *op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = iov_qmp_client_execute_finish (IOV_QMP_CLIENT (source), result, &error);

  if (reply == NULL && trace_op_cancelled (op, error))
    return;
  if (reply == NULL)
    g_ptr_array_add (op->errors, g_strdup (error->message));
  else if (JSON_NODE_HOLDS_ARRAY (reply))
    {
      JsonArray *array = json_node_get_array (reply);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonObject *o = json_array_get_object_element (array, i);
          const char *name = o ? json_object_get_string_member_with_default (o, "name", NULL) : NULL;
          const char *state = o ? json_object_get_string_member_with_default (o, "state", NULL) : NULL;

          if (name && state && !g_str_equal (state, "unavailable"))
            g_hash_table_replace (op->states, g_strdup (name),
                                  GINT_TO_POINTER (g_str_equal (state, "enabled")));
        }
    }
  if (--op->pending == 0)
    trace_answer (op);
}

static void
trace_query (TraceOp *op)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint n_presets;
  const IovTracePreset *presets = iov_trace_presets (&n_presets);

  op->pending = 1;
  for (guint i = 0; i < n_presets; i++)
    for (guint p = 0; presets[i].patterns[p]; p++)
      {
        g_autoptr(JsonBuilder) b = NULL;
        g_autoptr(JsonNode) args = NULL;

        if (!g_hash_table_add (seen, (gpointer) presets[i].patterns[p]))
          continue;
        b = json_builder_new ();
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "name");
        json_builder_add_string_value (b, presets[i].patterns[p]);
        json_builder_end_object (b);
        args = json_builder_get_root (b);
        op->pending++;
        iov_qmp_client_execute_async (op->vm->qmp, "trace-event-get-state", args,
                                      op->vm->server->cancellable, trace_get_state_cb, op);
      }
  if (--op->pending == 0)
    trace_answer (op);
}

static void
trace_applied_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  TraceOp *op = user_data;
  g_autoptr(GError) error = NULL;

  if (!iov_trace_preset_apply_finish (IOV_QMP_CLIENT (source), result, &error))
    {
      if (trace_op_cancelled (op, error))
        return;
      g_ptr_array_add (op->errors, g_strdup (error->message));
    }
  trace_query (op);
}

static void
trace_set (TraceOp *op)
{
  g_message ("%s: trace preset %s %s", op->vm->name, op->preset->name, op->enable ? "on" : "off");
  iov_trace_preset_apply_async (op->vm->qmp, op->preset, op->enable, op->vm->server->cancellable,
                                trace_applied_cb, op);
}

static gboolean
parse_trace_request (SoupServerMessage  *msg,
                     const IovTracePreset **preset,
                     gboolean           *enable,
                     GError            **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local_error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  JsonNode *root, *node;
  JsonObject *object;

  if (len == 0 || !g_utf8_validate_len (data, len, NULL) ||
      !json_parser_load_from_data (parser, data, (gssize) len, &local_error))
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("The request body is not JSON: %s"),
                   local_error ? local_error->message : _("empty or not UTF-8"));
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("The request body must be a JSON object: {\"preset\": NAME, \"enable\": true}"));
      return FALSE;
    }
  object = json_node_get_object (root);
  node = json_object_get_member (object, "preset");
  *preset = (node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
            ? iov_trace_preset_find (json_node_get_string (node)) : NULL;
  if (*preset == NULL)
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("Unknown or missing “preset”: use vtd-invalidations, notifier-traffic or everything-iommu"));
      return FALSE;
    }
  node = json_object_get_member (object, "enable");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("“enable” must be true or false"));
      return FALSE;
    }
  *enable = json_node_get_boolean (node);
  return TRUE;
}

/* ---- HTTP --------------------------------------------------------------- */

static RelayVm *
find_vm (IovRelayServer *self,
         const char     *name,
         gsize           len)
{
  for (guint i = 0; i < self->vms->len; i++)
    {
      RelayVm *vm = g_ptr_array_index (self->vms, i);

      if (strlen (vm->name) == len && strncmp (vm->name, name, len) == 0)
        return vm;
    }
  return NULL;
}

static gboolean
rate_allow (IovRelayServer *self,
            const char     *host)
{
  RateBucket *bucket;
  gint64 now = g_get_monotonic_time ();
  double rate = self->limits.requests_per_second;
  double burst = 2 * rate;

  if (host == NULL)
    host = "?";
  bucket = g_hash_table_lookup (self->buckets, host);
  if (bucket == NULL)
    {
      /* Forget idle hosts so the table stays small. */
      if (g_hash_table_size (self->buckets) > 4096)
        g_hash_table_remove_all (self->buckets);
      bucket = g_new0 (RateBucket, 1);
      bucket->tokens = burst;
      bucket->last_us = now;
      g_hash_table_insert (self->buckets, g_strdup (host), bucket);
    }
  bucket->tokens = MIN (burst, bucket->tokens + (now - bucket->last_us) / 1e6 * rate);
  bucket->last_us = now;
  if (bucket->tokens < 1.0)
    return FALSE;
  bucket->tokens -= 1.0;
  return TRUE;
}

typedef struct
{
  GIOStream *io;
  GBytes    *data;
} Rejection;

static void
rejection_closed_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Rejection *r = user_data;

  g_io_stream_close_finish (G_IO_STREAM (source), result, NULL);
  g_object_unref (r->io);
  g_bytes_unref (r->data);
  g_free (r);
}

static void
rejection_written_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  Rejection *r = user_data;

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  g_io_stream_close_async (r->io, G_PRIORITY_DEFAULT, NULL, rejection_closed_cb, r);
}

/* Refuses a request before its body is read.  libsoup would read (and
 * keep) the whole body before sending any answer, so when one is announced
 * we take the connection over, answer and close it. */
static void
reject (SoupServerMessage *msg,
        guint              status,
        const char        *reason,
        const char        *message,
        const char        *extra_header)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);
  g_autoptr(GString) body = NULL;
  GString *out;
  Rejection *r;

  if (encoding == SOUP_ENCODING_NONE ||
      (encoding == SOUP_ENCODING_CONTENT_LENGTH && soup_message_headers_get_content_length (headers) == 0))
    {
      if (extra_header)
        {
          g_auto(GStrv) kv = g_strsplit (extra_header, ": ", 2);

          soup_message_headers_replace (soup_server_message_get_response_headers (msg), kv[0], kv[1]);
        }
      respond_error (msg, status, message);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
      return;
    }

  body = g_string_new (NULL);
  g_string_append_printf (body, "{\"v\": %d, \"status\": %u, \"error\": ", IOV_RELAY_PROTOCOL_VERSION, status);
  iov_json_append_string (body, message, strlen (message));
  g_string_append (body, "}\n");
  out = g_string_new (NULL);
  g_string_append_printf (out, "HTTP/1.1 %u %s\r\nServer: %s-relay/%s\r\nContent-Type: application/json\r\n"
                          "Content-Length: %" G_GSIZE_FORMAT "\r\nConnection: close\r\n%s%s\r\n%s",
                          status, reason, PACKAGE_NAME, PACKAGE_VERSION, body->len,
                          extra_header ? extra_header : "", extra_header ? "\r\n" : "", body->str);
  r = g_new0 (Rejection, 1);
  r->io = soup_server_message_steal_connection (msg);
  r->data = g_string_free_to_bytes (out);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (r->io),
                                   g_bytes_get_data (r->data, NULL), g_bytes_get_size (r->data),
                                   G_PRIORITY_DEFAULT, NULL, rejection_written_cb, r);
}

/* Before the body is read: rate, token, size. */
static void
early_handler (SoupServer        *soup,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  IovRelayServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *host = soup_server_message_get_remote_host (msg);
  const char *auth = soup_message_headers_get_one (headers, "Authorization");
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);

  if (!rate_allow (self, host))
    {
      g_message ("%s %s from %s: 429, over %.0f requests per second",
                 soup_server_message_get_method (msg), path, host, self->limits.requests_per_second);
      reject (msg, STATUS_TOO_MANY_REQUESTS, "Too Many Requests",
              _("Too many requests; retry in a second"), "Retry-After: 1");
      return;
    }
  if (auth == NULL || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0 ||
      !iov_relay_token_equal (auth + 7, self->token))
    {
      g_message ("%s %s from %s: 401, %s", soup_server_message_get_method (msg), path, host,
                 auth ? "wrong token" : "no token");
      reject (msg, SOUP_STATUS_UNAUTHORIZED, "Unauthorized",
              auth ? _("Wrong token") : _("Missing “Authorization: Bearer TOKEN” header"),
              "WWW-Authenticate: Bearer realm=\"iovista-relay\"");
      return;
    }
  if (encoding == SOUP_ENCODING_CHUNKED || encoding == SOUP_ENCODING_EOF ||
      (encoding == SOUP_ENCODING_CONTENT_LENGTH &&
       soup_message_headers_get_content_length (headers) > self->limits.max_message_bytes))
    {
      g_message ("%s %s from %s: 413", soup_server_message_get_method (msg), path, host);
      reject (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "Payload Too Large",
              _("Request body too large or without a length"), NULL);
      return;
    }
}

static void
handle_list (IovRelayServer    *self,
             SoupServerMessage *msg)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, IOV_RELAY_PROTOCOL_VERSION);
  json_builder_set_member_name (b, "relay");
  json_builder_add_string_value (b, PACKAGE_NAME " " PACKAGE_VERSION);
  json_builder_set_member_name (b, "vms");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->vms->len; i++)
    {
      RelayVm *vm = g_ptr_array_index (self->vms, i);
      const char *version = iov_qmp_client_get_version (vm->qmp);
      const char *package = iov_qmp_client_get_package (vm->qmp);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, vm->name);
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, state_name (iov_qmp_client_get_state (vm->qmp)));
      json_builder_set_member_name (b, "session");
      json_builder_add_string_value (b, iov_session_state_to_string (iov_session_get_state (vm->session)));
      json_builder_set_member_name (b, "qemu");
      if (version)
        json_builder_add_string_value (b, version);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "package");
      if (package)
        json_builder_add_string_value (b, package);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "qmp");
      json_builder_add_string_value (b, vm->qmp_address);
      json_builder_set_member_name (b, "trace");
      if (vm->trace_spec)
        json_builder_add_string_value (b, vm->trace_spec);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "trace_dropped_lines");
      json_builder_add_int_value (b, vm->reader ? iov_trace_reader_get_dropped_lines (vm->reader) : 0);
      json_builder_set_member_name (b, "events_sent");
      json_builder_add_int_value (b, vm->events_sent);
      json_builder_set_member_name (b, "clients");
      json_builder_add_int_value (b, g_list_length (vm->clients));
      json_builder_set_member_name (b, "error");
      if (vm_error (vm) != NULL)
        json_builder_add_string_value (b, vm_error (vm));
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  text = node_to_string (root, TRUE);
  line = g_strconcat (text, "\n", NULL);
  respond_json (msg, SOUP_STATUS_OK, line);
}

static void
handle_events (IovRelayServer    *self,
               RelayVm           *vm,
               SoupServerMessage *msg)
{
  g_autoptr(GError) error = NULL;

  if (!soup_websocket_server_check_handshake (msg, NULL, NULL, NULL, &error))
    {
      g_autofree char *message = g_strdup_printf (_("Not a WebSocket handshake: %s"), error->message);

      respond_error (msg, SOUP_STATUS_BAD_REQUEST, message);
      return;
    }
  if (self->n_clients >= self->limits.max_clients)
    {
      g_message ("%s: refusing client %s: %u clients already", vm->name,
                 soup_server_message_get_remote_host (msg), self->n_clients);
      respond_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, _("Too many clients"));
      return;
    }
  if (!soup_websocket_server_process_handshake (msg, NULL, NULL, NULL, NULL))
    return;
  g_signal_connect (msg, "wrote-informational", G_CALLBACK (on_wrote_upgrade), vm);
}

static void
server_handler (SoupServer        *soup,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  IovRelayServer *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  const char *prefix = "/api/v1/vms";
  const char *rest, *slash;
  RelayVm *vm;

  g_debug ("%s %s from %s", method, path, soup_server_message_get_remote_host (msg));

  if (!g_str_has_prefix (path, prefix))
    {
      respond_error (msg, SOUP_STATUS_NOT_FOUND, _("No such resource; the API is under /api/v1/vms"));
      return;
    }
  rest = path + strlen (prefix);
  if (*rest == '\0' || g_str_equal (rest, "/"))
    {
      if (!g_str_equal (method, "GET"))
        {
          respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, _("Only GET is allowed here"));
          return;
        }
      handle_list (self, msg);
      return;
    }
  if (*rest != '/')
    {
      respond_error (msg, SOUP_STATUS_NOT_FOUND, _("No such resource"));
      return;
    }
  rest++;
  slash = strchr (rest, '/');
  vm = find_vm (self, rest, slash ? (gsize) (slash - rest) : strlen (rest));
  if (vm == NULL)
    {
      respond_error (msg, SOUP_STATUS_NOT_FOUND, _("No such VM"));
      return;
    }
  rest = slash ? slash + 1 : "";

  if (g_str_equal (rest, "snapshot"))
    {
      WaitingSnapshot *w;

      if (!g_str_equal (method, "GET"))
        {
          respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, _("Only GET is allowed here"));
          return;
        }
      w = g_new0 (WaitingSnapshot, 1);
      w->msg = g_object_ref (msg);
      w->raw = query_flag (query, "raw", FALSE);
      w->pretty = query_flag (query, "pretty", TRUE);
      g_ptr_array_add (vm->waiting, w);
      soup_server_message_pause (msg);
      fetch_snapshot (vm);
    }
  else if (g_str_equal (rest, "events"))
    {
      if (!g_str_equal (method, "GET"))
        {
          respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, _("Only GET is allowed here"));
          return;
        }
      handle_events (self, vm, msg);
    }
  else if (g_str_equal (rest, "trace"))
    {
      TraceOp *op;
      g_autoptr(GError) error = NULL;
      const IovTracePreset *preset = NULL;
      gboolean enable = FALSE, post = g_str_equal (method, "POST");

      if (!post && !g_str_equal (method, "GET"))
        {
          respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, _("Only GET and POST are allowed here"));
          return;
        }
      if (post && !parse_trace_request (msg, &preset, &enable, &error))
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, error->message);
          return;
        }
      if (iov_qmp_client_get_state (vm->qmp) != IOV_QMP_STATE_CONNECTED)
        {
          g_autofree char *message = g_strdup_printf (_("QEMU of %s is not connected (%s)"), vm->name,
                                                      vm_error (vm) ? vm_error (vm) : vm->qmp_address);

          respond_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, message);
          return;
        }
      op = g_new0 (TraceOp, 1);
      op->vm = vm;
      op->msg = g_object_ref (msg);
      op->states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      op->errors = g_ptr_array_new_with_free_func (g_free);
      op->post = post;
      op->preset = preset;
      op->enable = enable;
      soup_server_message_pause (msg);
      if (post)
        trace_set (op);
      else
        trace_query (op);
    }
  else
    respond_error (msg, SOUP_STATUS_NOT_FOUND, _("No such resource; use snapshot, events or trace"));
}

/* ---- object ------------------------------------------------------------- */

static void
relay_vm_free (RelayVm *vm)
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
  g_clear_handle_id (&vm->pump_id, g_source_remove);
  if (vm->waiting)
    answer_waiting (vm, SOUP_STATUS_SERVICE_UNAVAILABLE, _("The relay is stopping"), NULL);
  g_clear_pointer (&vm->waiting, g_ptr_array_unref);
  if (vm->reader)
    iov_trace_reader_stop (vm->reader);
  g_clear_pointer (&vm->reader, iov_trace_reader_free);
  if (vm->session)
    {
      g_signal_handlers_disconnect_by_data (vm->session, vm);
      iov_session_stop (vm->session);
    }
  vm->qmp = NULL;
  g_clear_object (&vm->session);
  g_free (vm->name);
  g_free (vm->qmp_address);
  g_free (vm->trace_spec);
  g_free (vm);
}

static void
iov_relay_server_dispose (GObject *object)
{
  IovRelayServer *self = IOV_RELAY_SERVER (object);

  iov_relay_server_stop (self);
  g_clear_object (&self->certificate);
  G_OBJECT_CLASS (iov_relay_server_parent_class)->dispose (object);
}

static void
iov_relay_server_finalize (GObject *object)
{
  IovRelayServer *self = IOV_RELAY_SERVER (object);

  if (self->token)
    memset (self->token, 0, strlen (self->token));
  g_free (self->token);
  g_free (self->url);
  g_clear_pointer (&self->vms, g_ptr_array_unref);
  g_clear_pointer (&self->buckets, g_hash_table_unref);
  g_clear_pointer (&self->connections, g_ptr_array_unref);
  g_clear_pointer (&self->catalog, iov_trace_catalog_free);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (iov_relay_server_parent_class)->finalize (object);
}

static void
iov_relay_server_class_init (IovRelayServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = iov_relay_server_dispose;
  object_class->finalize = iov_relay_server_finalize;
}

static void
iov_relay_server_init (IovRelayServer *self)
{
  self->vms = g_ptr_array_new_with_free_func ((GDestroyNotify) relay_vm_free);
  self->buckets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->connections = g_ptr_array_new_with_free_func ((GDestroyNotify) weak_ref_free);
  self->cancellable = g_cancellable_new ();
  iov_relay_server_set_limits (self, NULL);
}

/**
 * iov_relay_server_new:
 * @token: the bearer token every request must present
 */
IovRelayServer *
iov_relay_server_new (const char *token)
{
  IovRelayServer *self;

  g_return_val_if_fail (token != NULL && *token != '\0', NULL);

  self = g_object_new (IOV_TYPE_RELAY_SERVER, NULL);
  self->token = g_strdup (token);
  return self;
}

void
iov_relay_server_set_limits (IovRelayServer       *self,
                             const IovRelayLimits *limits)
{
  IovRelayLimits l = { 0 };

  g_return_if_fail (IOV_IS_RELAY_SERVER (self));

  if (limits)
    l = *limits;
  if (l.max_clients == 0)
    l.max_clients = IOV_RELAY_DEFAULT_MAX_CLIENTS;
  if (l.max_message_bytes == 0)
    l.max_message_bytes = IOV_RELAY_DEFAULT_MAX_MESSAGE_BYTES;
  if (l.client_queue_bytes == 0)
    l.client_queue_bytes = IOV_RELAY_DEFAULT_CLIENT_QUEUE_BYTES;
  if (l.requests_per_second <= 0)
    l.requests_per_second = IOV_RELAY_DEFAULT_REQUESTS_PER_SEC;
  if (l.poll_interval_ms == 0)
    l.poll_interval_ms = IOV_RELAY_DEFAULT_POLL_INTERVAL_MS;
  if (l.batch_interval_ms == 0)
    l.batch_interval_ms = IOV_RELAY_DEFAULT_BATCH_INTERVAL_MS;
  if (l.max_connections == 0)
    l.max_connections = IOV_RELAY_DEFAULT_MAX_CONNECTIONS;
  if (l.idle_timeout_s == 0)
    l.idle_timeout_s = IOV_RELAY_DEFAULT_IDLE_TIMEOUT_S;
  /* keepalive pings must come well within the idle timeout */
  l.keepalive_s = MAX (1, l.idle_timeout_s / 3);
  self->limits = l;
}

static gboolean
vm_name_is_valid (const char *name)
{
  if (name == NULL || *name == '\0' || strlen (name) > 64)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

/**
 * iov_relay_server_add_vm:
 * @spec: "NAME,qmp=ADDRESS[,trace=SOURCE]"
 *
 * Checks the spec, creates the QMP client and starts the trace reader (a
 * FIFO or a listening socket is created now, so QEMU can be started
 * against it).  QMP connects when the server listens.
 */
gboolean
iov_relay_server_add_vm (IovRelayServer  *self,
                         const char      *spec,
                         GError         **error)
{
  g_auto(GStrv) parts = NULL;
  g_autofree char *qmp = NULL;
  g_autofree char *trace = NULL;
  g_autoptr(IovSession) session = NULL;
  g_autoptr(IovTraceReader) reader = NULL;
  RelayVm *vm;

  g_return_val_if_fail (IOV_IS_RELAY_SERVER (self), FALSE);
  g_return_val_if_fail (spec != NULL, FALSE);

  parts = g_strsplit (spec, ",", -1);
  if (!vm_name_is_valid (parts[0]))
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_CONFIG,
                   _("“%s”: a VM needs a NAME of letters, digits, “-”, “_” or “.”: NAME,qmp=ADDRESS[,trace=SOURCE]"),
                   spec);
      return FALSE;
    }
  if (find_vm (self, parts[0], strlen (parts[0])))
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_CONFIG,
                   _("VM “%s” is given twice"), parts[0]);
      return FALSE;
    }
  for (guint i = 1; parts[i]; i++)
    {
      if (g_str_has_prefix (parts[i], "qmp=") && qmp == NULL)
        qmp = g_strdup (parts[i] + 4);
      else if (g_str_has_prefix (parts[i], "trace=") && trace == NULL)
        trace = g_strdup (parts[i] + 6);
      else
        {
          g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_CONFIG,
                       _("“%s”: unexpected “%s”; use NAME,qmp=ADDRESS[,trace=SOURCE]"), spec, parts[i]);
          return FALSE;
        }
    }
  if (qmp == NULL || *qmp == '\0')
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_CONFIG,
                   _("“%s”: missing qmp=ADDRESS (unix:PATH or tcp:HOST:PORT)"), spec);
      return FALSE;
    }
  session = iov_session_new (qmp, error);
  if (session == NULL)
    return FALSE;
  if (trace != NULL)
    {
      if (g_str_equal (trace, "-"))
        {
          g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_CONFIG,
                       _("The relay cannot read a trace from stdin; use a FILE, fifo:PATH or unix:PATH"));
          return FALSE;
        }
      reader = iov_trace_reader_new (trace, IOV_TRACE_READER_FOLLOW, error);
      if (reader == NULL)
        return FALSE;
      iov_trace_reader_set_queue_limit (reader, TRACE_QUEUE_BYTES);
      if (!iov_trace_reader_start (reader, error))
        return FALSE;
      if (self->catalog == NULL)
        {
          self->catalog = iov_trace_catalog_new_default (NULL, error);
          if (self->catalog == NULL)
            return FALSE;
        }
    }

  vm = g_new0 (RelayVm, 1);
  vm->server = self;
  vm->name = g_strdup (parts[0]);
  vm->qmp_address = g_strdup (iov_session_get_address (session));
  vm->trace_spec = g_steal_pointer (&trace);
  vm->session = g_steal_pointer (&session);
  vm->qmp = iov_session_get_client (vm->session);
  vm->reader = g_steal_pointer (&reader);
  vm->waiting = g_ptr_array_new ();
  g_ptr_array_add (self->vms, vm);
  if (vm->reader)
    g_message ("%s: reading the trace from %s; QEMU: %s", vm->name, vm->trace_spec,
               iov_trace_reader_get_qemu_hint (vm->reader));
  return TRUE;
}

gboolean
iov_relay_server_set_tls_files (IovRelayServer  *self,
                                const char      *cert_file,
                                const char      *key_file,
                                GError         **error)
{
  g_autoptr(GTlsCertificate) cert = NULL;

  g_return_val_if_fail (IOV_IS_RELAY_SERVER (self), FALSE);

  if (cert_file == NULL || key_file == NULL)
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_CONFIG,
                   _("TLS needs both --tls-cert and --tls-key"));
      return FALSE;
    }
  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_CONFIG,
                   _("This GLib has no TLS backend; install glib-networking"));
      return FALSE;
    }
  cert = g_tls_certificate_new_from_files (cert_file, key_file, error);
  if (cert == NULL)
    return FALSE;
  g_set_object (&self->certificate, cert);
  return TRUE;
}

/**
 * iov_relay_parse_listen:
 * @listen: "HOST:PORT" or "[IPv6]:PORT"; HOST is an address or "localhost"
 */
gboolean
iov_relay_parse_listen (const char    *listen,
                        GInetAddress **address,
                        guint16       *port,
                        GError       **error)
{
  const char *colon;
  g_autofree char *host = NULL;
  guint64 p = 0;
  GInetAddress *addr;

  g_return_val_if_fail (listen != NULL, FALSE);

  colon = strrchr (listen, ':');
  if (colon == NULL || colon == listen ||
      !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &p, NULL))
    goto bad;
  host = g_strndup (listen, colon - listen);
  if (host[0] == '[' && host[strlen (host) - 1] == ']')
    {
      char *inner = g_strndup (host + 1, strlen (host) - 2);

      g_free (host);
      host = inner;
    }
  if (g_str_equal (host, "localhost"))
    addr = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  else
    addr = g_inet_address_new_from_string (host);
  if (addr == NULL)
    goto bad;
  *address = addr;
  *port = (guint16) p;
  return TRUE;

bad:
  g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_CONFIG,
               _("“%s” is not a listening address: use ADDRESS:PORT, e.g. 127.0.0.1:7878 or [::1]:7878"),
               listen);
  return FALSE;
}

/* ---- connections -------------------------------------------------------- */

/* Drops connections that are gone or closed; returns how many remain. */
static guint
prune_connections (IovRelayServer *self)
{
  for (guint i = self->connections->len; i > 0; i--)
    {
      g_autoptr(GSocket) socket = g_weak_ref_get (g_ptr_array_index (self->connections, i - 1));

      if (socket == NULL || g_socket_is_closed (socket))
        g_ptr_array_remove_index_fast (self->connections, i - 1);
    }
  return self->connections->len;
}

/* We accept connections ourselves, not libsoup's listener, to bound how
 * many there are and how long one may stay silent (slowloris, fd
 * exhaustion); then libsoup serves them.  WebSocket clients stay within
 * the idle timeout by answering the relay's keepalive pings. */
static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source_object,
             IovRelayServer    *self)
{
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address (connection, NULL);
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  GSocket *socket = g_socket_connection_get_socket (connection);
  GWeakRef *ref;

  if (prune_connections (self) >= self->limits.max_connections)
    {
      g_autofree char *peer = NULL;

      if (G_IS_INET_SOCKET_ADDRESS (remote))
        peer = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
      g_message ("refusing a connection from %s: %u connections open", peer ? peer : "?",
                 self->connections->len);
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return TRUE;
    }
  g_socket_set_timeout (socket, self->limits.idle_timeout_s);

  if (self->certificate)
    {
      stream = g_tls_server_connection_new (G_IO_STREAM (connection), self->certificate, &error);
      if (stream == NULL)
        {
          g_message ("TLS: %s", error->message);
          g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
          return TRUE;
        }
    }
  else
    stream = g_object_ref (G_IO_STREAM (connection));

  if (!soup_server_accept_iostream (self->soup, stream, local, remote, &error))
    {
      g_message ("cannot serve a connection: %s", error->message);
      g_io_stream_close (stream, NULL, NULL);
      return TRUE;
    }
  ref = g_new0 (GWeakRef, 1);
  g_weak_ref_init (ref, socket);
  g_ptr_array_add (self->connections, ref);
  return TRUE;
}

gboolean
iov_relay_server_listen (IovRelayServer  *self,
                         const char      *listen,
                         gboolean         insecure,
                         GError         **error)
{
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(GSocketAddress) sockaddr = NULL;
  g_autoptr(GSocketAddress) effective = NULL;
  guint16 port = 0;
  gboolean loopback;

  g_return_val_if_fail (IOV_IS_RELAY_SERVER (self), FALSE);
  g_return_val_if_fail (self->soup == NULL, FALSE);

  if (!iov_relay_parse_listen (listen, &address, &port, error))
    return FALSE;
  loopback = g_inet_address_get_is_loopback (address);
  if (!loopback && self->certificate == NULL)
    {
      if (!insecure)
        {
          g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_CONFIG,
                       _("%s is not a loopback address: serving it needs --tls-cert and --tls-key "
                         "(or --insecure to send tokens and data in clear text)"), listen);
          return FALSE;
        }
      g_warning ("listening on %s without TLS (--insecure): the token and all data cross the network in clear text",
                 listen);
    }

  self->soup = soup_server_new ("server-header", PACKAGE_NAME "-relay/" PACKAGE_VERSION, NULL);
  soup_server_add_early_handler (self->soup, NULL, early_handler, self, NULL);
  soup_server_add_handler (self->soup, NULL, server_handler, self, NULL);

  sockaddr = g_inet_socket_address_new (address, port);
  self->service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), sockaddr, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &effective, error))
    {
      g_clear_object (&self->service);
      g_clear_object (&self->soup);
      return FALSE;
    }
  g_signal_connect (self->service, "incoming", G_CALLBACK (on_incoming), self);
  g_socket_service_start (self->service);

  {
    g_autofree char *host = g_inet_address_to_string (address);
    gboolean v6 = g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6;

    self->url = g_strdup_printf ("%s://%s%s%s:%u", self->certificate ? "https" : "http",
                                 v6 ? "[" : "", host, v6 ? "]" : "",
                                 g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));
  }

  for (guint i = 0; i < self->vms->len; i++)
    {
      RelayVm *vm = g_ptr_array_index (self->vms, i);

      g_signal_connect (vm->session, "changed", G_CALLBACK (on_session_changed), vm);
      g_signal_connect (vm->session, "notify::state", G_CALLBACK (on_session_state), vm);
      iov_session_set_interval (vm->session, self->limits.poll_interval_ms);
      iov_session_start (vm->session);
      if (vm->reader)
        vm->pump_id = g_timeout_add (self->limits.batch_interval_ms, pump_cb, vm);
    }
  self->drops_id = g_timeout_add_seconds (1, drops_cb, self);
  self->started = TRUE;
  return TRUE;
}

/**
 * iov_relay_server_get_url:
 *
 * Returns: (transfer full) (nullable): "http://127.0.0.1:PORT" with the
 *   port really bound, once listening.
 */
char *
iov_relay_server_get_url (IovRelayServer *self)
{
  g_return_val_if_fail (IOV_IS_RELAY_SERVER (self), NULL);

  return g_strdup (self->url);
}

void
iov_relay_server_stop (IovRelayServer *self)
{
  g_return_if_fail (IOV_IS_RELAY_SERVER (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->drops_id, g_source_remove);
  if (self->service)
    {
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
      g_signal_handlers_disconnect_by_data (self->service, self);
    }
  g_clear_object (&self->service);
  if (self->vms)
    g_ptr_array_set_size (self->vms, 0);
  if (self->soup)
    soup_server_disconnect (self->soup);
  g_clear_object (&self->soup);
}
