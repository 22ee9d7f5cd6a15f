/* iov-remote-session.c
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

#define G_LOG_DOMAIN "iov-remote-session"

#include "config.h"

#include <glib/gi18n.h>
#include <libsoup/soup.h>
#include <string.h>

#include "iov-relay-protocol.h"
#include "iov-remote-session.h"
#include "iov-snapshot.h"
#include "iov-trace-json.h"

#define RETRY_FIRST_MS 500
#define RETRY_MAX_MS   10000

/* One "events" message, rendered. */
typedef struct
{
  GBytes *text;
  guint   n_events;
} Batch;

/* A message on its way to the worker, or a parsed one on its way back to
 * the owner's thread.  @gen is the connection it came from: anything from
 * an older connection is dropped. */
typedef struct
{
  guint     gen;
  GBytes   *bytes;
  JsonNode *node;
} Item;

struct _IovRemoteSession
{
  GObject                parent_instance;

  IovRelayClient        *client;
  IovRemoteSessionState  state;
  GError                *error;
  JsonNode              *snapshot;
  char                  *qemu_version;
  char                  *vm_state;
  gboolean               has_trace;

  GObject               *conn;          /* SoupWebsocketConnection */
  char                  *close_reason;  /* from the connection's "error" */
  GCancellable          *cancellable;   /* the attempt under way */
  guint                  retry_id;
  guint                  retry_ms;

  GThreadPool           *pool;          /* one thread: messages stay in order */
  GSource               *wake;          /* the owner's side of the control queue */

  /* The worker's own. */
  guint                  worker_gen;
  gboolean               have_seq;
  guint64                next_seq;
  guint64                seen_dropped_messages;
  guint64                seen_dropped_events;
  GString               *render;

  /* Under mutex. */
  GMutex                 mutex;
  guint                  gen;
  IovTraceCatalog       *catalog;
  GQueue                 batches;
  gsize                  queued_bytes;
  gsize                  queue_limit;
  GQueue                 control;       /* Item with node */
  IovRemoteSessionCounters counters;
};

G_DEFINE_FINAL_TYPE (IovRemoteSession, iov_remote_session, G_TYPE_OBJECT)
G_DEFINE_ENUM_TYPE (IovRemoteSessionState, iov_remote_session_state,
  G_DEFINE_ENUM_VALUE (IOV_REMOTE_SESSION_STOPPED, "stopped"),
  G_DEFINE_ENUM_VALUE (IOV_REMOTE_SESSION_CONNECTING, "connecting"),
  G_DEFINE_ENUM_VALUE (IOV_REMOTE_SESSION_LIVE, "live"),
  G_DEFINE_ENUM_VALUE (IOV_REMOTE_SESSION_DISCONNECTED, "disconnected"),
  G_DEFINE_ENUM_VALUE (IOV_REMOTE_SESSION_FAILED, "failed"))

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_STATE,
  PROP_ERROR,
  PROP_SNAPSHOT,
  PROP_QEMU_VERSION,
  PROP_VM_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void connect_now (IovRemoteSession *self);

static void
item_free (gpointer data)
{
  Item *item = data;

  g_clear_pointer (&item->bytes, g_bytes_unref);
  g_clear_pointer (&item->node, json_node_unref);
  g_free (item);
}

static void
batch_free (Batch *batch)
{
  g_bytes_unref (batch->text);
  g_free (batch);
}

const char *
iov_remote_session_state_to_string (IovRemoteSessionState state)
{
  switch (state)
    {
    case IOV_REMOTE_SESSION_STOPPED: return "stopped";
    case IOV_REMOTE_SESSION_CONNECTING: return "connecting";
    case IOV_REMOTE_SESSION_LIVE: return "live";
    case IOV_REMOTE_SESSION_DISCONNECTED: return "disconnected";
    case IOV_REMOTE_SESSION_FAILED: return "failed";
    default: return "unknown";
    }
}

/* ---- the worker thread --------------------------------------------------- */

static gint64
member_int (JsonObject *object,
            const char *name,
            gint64      fallback)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return fallback;
  return json_node_get_int (node);
}

static const char *
member_string (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* "drops", "stats" and "events" carry the relay's counters for this
 * connection; they start again at 0 with each connection, so the totals
 * add what changed. */
static void
take_relay_counters (IovRemoteSession *self,
                     JsonObject       *object)
{
  gint64 messages = member_int (object, "dropped_messages", -1);
  gint64 events = member_int (object, "dropped_events", -1);
  gint64 source = member_int (object, "source_dropped_lines", -1);

  g_mutex_lock (&self->mutex);
  if (messages >= 0 && (guint64) messages > self->seen_dropped_messages)
    {
      self->counters.relay_dropped_messages += messages - self->seen_dropped_messages;
      self->seen_dropped_messages = messages;
    }
  if (events >= 0 && (guint64) events > self->seen_dropped_events)
    {
      self->counters.relay_dropped_events += events - self->seen_dropped_events;
      self->seen_dropped_events = events;
    }
  if (source >= 0)
    self->counters.source_dropped_lines = source;
  g_mutex_unlock (&self->mutex);
}

static void
take_events (IovRemoteSession *self,
             JsonObject       *object)
{
  JsonNode *events_node = json_object_get_member (object, "events");
  gint64 seq = member_int (object, "seq", -1);
  JsonArray *events;
  guint n, n_events = 0, n_approx = 0, n_bad = 0;
  g_autoptr(GBytes) text = NULL;

  if (events_node == NULL || !JSON_NODE_HOLDS_ARRAY (events_node) || seq < 0)
    {
      g_mutex_lock (&self->mutex);
      self->counters.invalid_messages++;
      g_mutex_unlock (&self->mutex);
      return;
    }

  events = json_node_get_array (events_node);
  n = json_array_get_length (events);
  g_string_truncate (self->render, 0);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (events, i);
      IovTraceJsonRender how;

      if (!JSON_NODE_HOLDS_OBJECT (node) ||
          !iov_trace_json_render_line (self->catalog, json_node_get_object (node), self->render, &how))
        {
          n_bad++;
          continue;
        }
      n_events++;
      if (how == IOV_TRACE_JSON_APPROX)
        n_approx++;
    }
  if (n_events > 0)
    text = g_bytes_new (self->render->str, self->render->len);

  take_relay_counters (self, object);
  g_mutex_lock (&self->mutex);
  if (self->have_seq && (guint64) seq > self->next_seq)
    self->counters.messages_lost += (guint64) seq - self->next_seq;
  self->next_seq = (guint64) seq + 1;
  self->have_seq = TRUE;
  self->counters.events_received += n_events;
  self->counters.events_approx += n_approx;
  self->counters.invalid_messages += n_bad;
  if (text != NULL)
    {
      gsize len = g_bytes_get_size (text);

      /* Never wait for the consumer: a batch that does not fit is dropped
       * and counted, like the trace reader does for QEMU's writer. */
      if (self->batches.length > 0 && self->queued_bytes + len > self->queue_limit)
        self->counters.events_dropped += n_events;
      else
        {
          Batch *batch = g_new0 (Batch, 1);

          batch->text = g_steal_pointer (&text);
          batch->n_events = n_events;
          g_queue_push_tail (&self->batches, batch);
          self->queued_bytes += len;
        }
    }
  g_mutex_unlock (&self->mutex);
}

static void
worker_cb (gpointer data,
           gpointer user_data)
{
  Item *item = data;
  IovRemoteSession *self = user_data;
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonObject *object;
  const char *type;
  gsize len;
  const char *text = g_bytes_get_data (item->bytes, &len);
  guint gen;

  g_mutex_lock (&self->mutex);
  gen = self->gen;
  g_mutex_unlock (&self->mutex);
  if (item->gen != gen)
    goto out;
  if (item->gen != self->worker_gen)
    {
      self->worker_gen = item->gen;
      self->have_seq = FALSE;
      self->seen_dropped_messages = self->seen_dropped_events = 0;
    }

  if (!json_parser_load_from_data (parser, text, (gssize) len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)) ||
      (type = member_string (object = json_node_get_object (json_parser_get_root (parser)), "type")) == NULL)
    {
      g_mutex_lock (&self->mutex);
      self->counters.invalid_messages++;
      g_mutex_unlock (&self->mutex);
      goto out;
    }

  if (g_str_equal (type, "events"))
    {
      take_events (self, object);
      goto out;
    }
  if (g_str_equal (type, "drops") || g_str_equal (type, "stats"))
    {
      take_relay_counters (self, object);
      goto out;
    }
  if (g_str_equal (type, "hello"))
    {
      gint64 seq = member_int (object, "seq", -1);

      /* The first events message after the hello is seq + 1. */
      self->have_seq = seq >= 0;
      self->next_seq = (guint64) seq + 1;
    }
  if (g_str_equal (type, "pong"))
    goto out;

  /* hello, snapshot, state, error: the owner's business */
  item->node = json_parser_steal_root (parser);
  g_clear_pointer (&item->bytes, g_bytes_unref);
  g_mutex_lock (&self->mutex);
  g_queue_push_tail (&self->control, g_steal_pointer (&item));
  g_mutex_unlock (&self->mutex);
  g_source_set_ready_time (self->wake, 0);

out:
  if (item != NULL)
    item_free (item);
}

/* ---- state --------------------------------------------------------------- */

static void
set_state (IovRemoteSession      *self,
           IovRemoteSessionState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
set_error (IovRemoteSession *self,
           const GError     *error)
{
  if (self->error == NULL && error == NULL)
    return;
  g_clear_error (&self->error);
  if (error != NULL)
    self->error = g_error_copy (error);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

static gboolean
replace_str (char       **slot,
             const char  *value)
{
  if (g_strcmp0 (*slot, value) == 0)
    return FALSE;
  g_free (*slot);
  *slot = g_strdup (value);
  return TRUE;
}

static void
set_qemu (IovRemoteSession *self,
          const char       *vm_state,
          const char       *qemu_version)
{
  if (replace_str (&self->vm_state, vm_state))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VM_STATE]);
  if (replace_str (&self->qemu_version, qemu_version))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QEMU_VERSION]);
}

/* A new connection number: whatever the worker still has from the old one
 * is dropped, and so is the old connection's unread control queue. */
static void
next_generation (IovRemoteSession *self)
{
  g_mutex_lock (&self->mutex);
  self->gen++;
  g_queue_clear_full (&self->control, item_free);
  g_mutex_unlock (&self->mutex);
}

static void
drop_connection (IovRemoteSession *self)
{
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  if (self->conn != NULL)
    {
      SoupWebsocketConnection *conn = SOUP_WEBSOCKET_CONNECTION (self->conn);

      g_signal_handlers_disconnect_by_data (conn, self);
      if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_clear_object (&self->conn);
    }
  g_clear_pointer (&self->close_reason, g_free);
  next_generation (self);
}

static gboolean
retry_cb (gpointer user_data)
{
  IovRemoteSession *self = user_data;

  self->retry_id = 0;
  connect_now (self);
  return G_SOURCE_REMOVE;
}

/* Not terminal: say why, and try again a little later each time. */
static void
disconnected (IovRemoteSession *self,
              const GError     *error)
{
  g_debug ("%s: %s; again in %u ms", iov_relay_client_get_vm (self->client), error->message, self->retry_ms);
  drop_connection (self);
  set_error (self, error);
  set_state (self, IOV_REMOTE_SESSION_DISCONNECTED);
  self->retry_id = g_timeout_add (self->retry_ms, retry_cb, self);
  self->retry_ms = MIN (self->retry_ms * 2, RETRY_MAX_MS);
}

static void
failed (IovRemoteSession *self,
        const GError     *error)
{
  drop_connection (self);
  set_error (self, error);
  set_state (self, IOV_REMOTE_SESSION_FAILED);
}

/* ---- the owner's side of the messages ------------------------------------ */

static GPtrArray *
changes_from_json (JsonNode *node)
{
  GPtrArray *changes = g_ptr_array_new_with_free_func ((GDestroyNotify) iov_snapshot_change_free);
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return changes;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      JsonObject *o;
      const char *kind, *device, *message;
      IovSnapshotChange *change;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      o = json_node_get_object (element);
      kind = member_string (o, "kind");
      device = member_string (o, "device");
      message = member_string (o, "message");
      if (kind == NULL || device == NULL || message == NULL)
        continue;
      change = g_new0 (IovSnapshotChange, 1);
      change->kind = IOV_SNAPSHOT_CHANGE_RANGES;
      for (int k = IOV_SNAPSHOT_CHANGE_REMAPPING_ON; k <= IOV_SNAPSHOT_CHANGE_RANGES; k++)
        if (g_str_equal (kind, iov_snapshot_change_kind_to_string (k)))
          change->kind = k;
      change->device = g_strdup (device);
      change->n_ranges = (guint) CLAMP (member_int (o, "ranges", 0), 0, G_MAXUINT);
      /* The relay's wording, in the relay's language. */
      change->message = g_strdup (message);
      g_ptr_array_add (changes, change);
    }
  return changes;
}

static void
take_hello (IovRemoteSession *self,
            JsonObject       *hello)
{
  gint64 version = member_int (hello, "version", -1);
  JsonNode *trace = json_object_get_member (hello, "trace");

  if (version != IOV_RELAY_PROTOCOL_VERSION)
    {
      g_autoptr(GError) error = NULL;

      error = g_error_new (IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                           _("The relay at %s speaks protocol version %d, this Iovista version %d"),
                           iov_relay_client_get_base_url (self->client), (int) version,
                           IOV_RELAY_PROTOCOL_VERSION);
      failed (self, error);
      return;
    }
  self->has_trace = trace != NULL && JSON_NODE_HOLDS_VALUE (trace) &&
                    json_node_get_value_type (trace) == G_TYPE_BOOLEAN && json_node_get_boolean (trace);
  g_mutex_lock (&self->mutex);
  self->counters.connections++;
  g_mutex_unlock (&self->mutex);
  self->retry_ms = RETRY_FIRST_MS;
  set_qemu (self, member_string (hello, "state"), member_string (hello, "qemu"));
  set_error (self, NULL);
  set_state (self, IOV_REMOTE_SESSION_LIVE);
}

static void
take_snapshot (IovRemoteSession *self,
               JsonObject       *message)
{
  JsonNode *snapshot = json_object_get_member (message, "snapshot");
  g_autoptr(GPtrArray) changes = NULL;

  if (snapshot == NULL || !JSON_NODE_HOLDS_OBJECT (snapshot))
    return;
  if (self->snapshot != NULL && json_node_equal (self->snapshot, snapshot))
    return;
  g_clear_pointer (&self->snapshot, json_node_unref);
  self->snapshot = json_node_copy (snapshot);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SNAPSHOT]);
  changes = changes_from_json (json_object_get_member (message, "changes"));
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0, changes);
}

static gboolean
control_cb (gpointer user_data)
{
  IovRemoteSession *self = user_data;

  for (;;)
    {
      g_autoptr(JsonNode) node = NULL;
      JsonObject *object;
      const char *type;
      Item *item;

      g_mutex_lock (&self->mutex);
      item = g_queue_pop_head (&self->control);
      if (item != NULL && item->gen != self->gen)
        g_clear_pointer (&item, item_free);
      g_mutex_unlock (&self->mutex);
      if (item == NULL)
        break;
      node = g_steal_pointer (&item->node);
      item_free (item);

      object = json_node_get_object (node);
      type = member_string (object, "type");
      if (g_str_equal (type, "hello"))
        take_hello (self, object);
      else if (self->state != IOV_REMOTE_SESSION_LIVE)
        continue;  /* nothing counts before the hello */
      else if (g_str_equal (type, "snapshot"))
        take_snapshot (self, object);
      else if (g_str_equal (type, "state"))
        set_qemu (self, member_string (object, "state"), member_string (object, "qemu"));
      else if (g_str_equal (type, "error"))
        g_debug ("the relay says: %s", member_string (object, "error"));
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
wake_dispatch (GSource     *source,
               GSourceFunc  callback,
               gpointer     user_data)
{
  g_source_set_ready_time (source, -1);
  return callback (user_data);
}

static GSourceFuncs wake_funcs = { NULL, NULL, wake_dispatch, NULL, NULL, NULL };

/* ---- the connection ------------------------------------------------------ */

static void
message_cb (SoupWebsocketConnection *conn,
            int                      type,
            GBytes                  *message,
            IovRemoteSession        *self)
{
  Item *item;

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      g_mutex_lock (&self->mutex);
      self->counters.invalid_messages++;
      g_mutex_unlock (&self->mutex);
      return;
    }
  item = g_new0 (Item, 1);
  g_mutex_lock (&self->mutex);
  item->gen = self->gen;
  g_mutex_unlock (&self->mutex);
  item->bytes = g_bytes_ref (message);
  g_thread_pool_push (self->pool, item, NULL);
}

static void
error_cb (SoupWebsocketConnection *conn,
          GError                  *error,
          IovRemoteSession        *self)
{
  g_free (self->close_reason);
  self->close_reason = g_strdup (error->message);
}

static void
closed_cb (SoupWebsocketConnection *conn,
           IovRemoteSession        *self)
{
  g_autoptr(GError) error = NULL;
  const char *data = soup_websocket_connection_get_close_data (conn);
  const char *why = self->close_reason ? self->close_reason : data && *data ? data : NULL;

  if (why != NULL)
    error = g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                         _("The relay at %s closed the connection: %s"),
                         iov_relay_client_get_base_url (self->client), why);
  else
    /* no close frame: the relay died or the network went away */
    error = g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                         _("The connection to the relay at %s was lost"),
                         iov_relay_client_get_base_url (self->client));
  disconnected (self, error);
}

typedef struct
{
  IovRemoteSession *self;
  GCancellable     *cancellable;
} Attempt;

static void
attempt_free (Attempt *attempt)
{
  g_object_unref (attempt->self);
  g_object_unref (attempt->cancellable);
  g_free (attempt);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Attempt, attempt_free)

/* The WebSocket handshake's TLS error has no fingerprint: a plain request
 * to the same relay gets IovRelayClient's wording, fingerprint included. */
static void
tls_detail_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(Attempt) attempt = user_data;
  IovRemoteSession *self = attempt->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) vms = iov_relay_client_list_vms_finish (IOV_RELAY_CLIENT (source), result, &error);

  if (g_cancellable_is_cancelled (attempt->cancellable))
    return;
  if (error == NULL || !g_error_matches (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_TLS))
    {
      g_clear_error (&error);
      error = g_error_new (IOV_RELAY_ERROR, IOV_RELAY_ERROR_TLS, "%s", self->close_reason);
    }
  failed (self, error);
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(Attempt) attempt = user_data;
  IovRemoteSession *self = attempt->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) conn = iov_relay_client_connect_events_finish (IOV_RELAY_CLIENT (source), result, &error);

  if (g_cancellable_is_cancelled (attempt->cancellable))
    return;  /* stopped, or a newer attempt: @conn closes as it goes */

  if (conn == NULL)
    {
      if (g_error_matches (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_UNAUTHORIZED) ||
          g_error_matches (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_TLS) ||
          g_error_matches (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_URL))
        failed (self, error);
      else if (error->domain == G_TLS_ERROR)
        {
          g_free (self->close_reason);
          self->close_reason = g_strdup (error->message);
          GCancellable *cancellable = attempt->cancellable;

          iov_relay_client_list_vms_async (self->client, cancellable, tls_detail_cb,
                                           g_steal_pointer (&attempt));
        }
      else
        disconnected (self, error);
      return;
    }

  g_clear_object (&self->cancellable);
  self->conn = g_steal_pointer (&conn);
  g_signal_connect (self->conn, "message", G_CALLBACK (message_cb), self);
  g_signal_connect (self->conn, "error", G_CALLBACK (error_cb), self);
  g_signal_connect (self->conn, "closed", G_CALLBACK (closed_cb), self);
}

static void
connect_now (IovRemoteSession *self)
{
  Attempt *attempt;

  drop_connection (self);
  self->cancellable = g_cancellable_new ();
  attempt = g_new0 (Attempt, 1);
  attempt->self = g_object_ref (self);
  attempt->cancellable = g_object_ref (self->cancellable);
  iov_relay_client_connect_events_async (self->client, self->cancellable, connected_cb, attempt);
}

/* ---- GObject -------------------------------------------------------------- */

static void
iov_remote_session_dispose (GObject *object)
{
  IovRemoteSession *self = IOV_REMOTE_SESSION (object);

  drop_connection (self);
  /* Waits for the message being rendered; those still queued are freed. */
  if (self->pool != NULL)
    g_thread_pool_free (g_steal_pointer (&self->pool), TRUE, TRUE);
  if (self->wake != NULL)
    {
      g_source_destroy (self->wake);
      g_clear_pointer (&self->wake, g_source_unref);
    }
  g_clear_object (&self->client);
  G_OBJECT_CLASS (iov_remote_session_parent_class)->dispose (object);
}

static void
iov_remote_session_finalize (GObject *object)
{
  IovRemoteSession *self = IOV_REMOTE_SESSION (object);

  g_queue_clear_full (&self->batches, (GDestroyNotify) batch_free);
  g_queue_clear_full (&self->control, item_free);
  g_clear_pointer (&self->catalog, iov_trace_catalog_free);
  g_clear_pointer (&self->snapshot, json_node_unref);
  g_clear_error (&self->error);
  g_free (self->qemu_version);
  g_free (self->vm_state);
  g_string_free (self->render, TRUE);
  g_mutex_clear (&self->mutex);
  G_OBJECT_CLASS (iov_remote_session_parent_class)->finalize (object);
}

static void
iov_remote_session_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  IovRemoteSession *self = IOV_REMOTE_SESSION (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_ERROR:
      g_value_set_boxed (value, self->error);
      break;
    case PROP_SNAPSHOT:
      g_value_set_boxed (value, self->snapshot);
      break;
    case PROP_QEMU_VERSION:
      g_value_set_string (value, self->qemu_version);
      break;
    case PROP_VM_STATE:
      g_value_set_string (value, self->vm_state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
iov_remote_session_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  IovRemoteSession *self = IOV_REMOTE_SESSION (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
iov_remote_session_class_init (IovRemoteSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = iov_remote_session_dispose;
  object_class->finalize = iov_remote_session_finalize;
  object_class->get_property = iov_remote_session_get_property;
  object_class->set_property = iov_remote_session_set_property;

  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL, IOV_TYPE_RELAY_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, IOV_TYPE_REMOTE_SESSION_STATE, IOV_REMOTE_SESSION_STOPPED,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL, G_TYPE_ERROR,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* The object `iovista-cli snapshot` prints (without "mtree"). */
  properties[PROP_SNAPSHOT] =
    g_param_spec_boxed ("snapshot", NULL, NULL, JSON_TYPE_NODE,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* QEMU's version as the relay knows it, NULL while it has no QEMU. */
  properties[PROP_QEMU_VERSION] =
    g_param_spec_string ("qemu-version", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* The relay's QMP state for the VM: "connected", "connecting", "disconnected". */
  properties[PROP_VM_STATE] =
    g_param_spec_string ("vm-state", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * IovRemoteSession::changed:
   * @changes: (element-type IovSnapshotChange): what changed, as the relay
   *   describes it; empty for the first snapshot
   *
   * Emitted after the snapshot property changed, like IovSession::changed.
   */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_PTR_ARRAY);
}

static void
iov_remote_session_init (IovRemoteSession *self)
{
  g_mutex_init (&self->mutex);
  g_queue_init (&self->batches);
  g_queue_init (&self->control);
  self->queue_limit = IOV_REMOTE_SESSION_DEFAULT_QUEUE_BYTES;
  self->retry_ms = RETRY_FIRST_MS;
  self->render = g_string_sized_new (256 * 1024);
  /* Our own catalogue, from the same source as the app's (QEMU's
   * trace-events-all, else the built-in one): the worker reads it while
   * the app's event store may intern names into the app's. */
  self->catalog = iov_trace_catalog_new_default (NULL, NULL);
  self->pool = g_thread_pool_new_full (worker_cb, self, item_free, 1, FALSE, NULL);
  self->wake = g_source_new (&wake_funcs, sizeof (GSource));
  g_source_set_static_name (self->wake, "[iovista] remote session");
  g_source_set_callback (self->wake, control_cb, self, NULL);
  g_source_attach (self->wake, g_main_context_get_thread_default ());
}

/* ---- API ------------------------------------------------------------------ */

/**
 * iov_remote_session_new:
 * @client: the relay and VM to watch
 *
 * Returns: (transfer full): a stopped session
 */
IovRemoteSession *
iov_remote_session_new (IovRelayClient *client)
{
  g_return_val_if_fail (IOV_IS_RELAY_CLIENT (client), NULL);

  return g_object_new (IOV_TYPE_REMOTE_SESSION, "client", client, NULL);
}

/**
 * iov_remote_session_start:
 *
 * Connects (again, when stopped or failed) to the relay's events stream.
 */
void
iov_remote_session_start (IovRemoteSession *self)
{
  g_return_if_fail (IOV_IS_REMOTE_SESSION (self));

  if (self->state == IOV_REMOTE_SESSION_LIVE || self->state == IOV_REMOTE_SESSION_CONNECTING)
    return;
  self->retry_ms = RETRY_FIRST_MS;
  set_error (self, NULL);
  set_state (self, IOV_REMOTE_SESSION_CONNECTING);
  connect_now (self);
}

/**
 * iov_remote_session_stop:
 *
 * Closes the stream.  The snapshot, counters and lines not yet popped stay.
 */
void
iov_remote_session_stop (IovRemoteSession *self)
{
  g_return_if_fail (IOV_IS_REMOTE_SESSION (self));

  drop_connection (self);
  set_state (self, IOV_REMOTE_SESSION_STOPPED);
}

IovRelayClient *
iov_remote_session_get_client (IovRemoteSession *self)
{
  g_return_val_if_fail (IOV_IS_REMOTE_SESSION (self), NULL);
  return self->client;
}

IovRemoteSessionState
iov_remote_session_get_state (IovRemoteSession *self)
{
  g_return_val_if_fail (IOV_IS_REMOTE_SESSION (self), IOV_REMOTE_SESSION_STOPPED);
  return self->state;
}

/**
 * iov_remote_session_get_error:
 *
 * Returns: (nullable): why the session is disconnected or failed
 */
const GError *
iov_remote_session_get_error (IovRemoteSession *self)
{
  g_return_val_if_fail (IOV_IS_REMOTE_SESSION (self), NULL);
  return self->error;
}

/**
 * iov_remote_session_get_snapshot:
 *
 * Returns: (nullable) (transfer none): the latest snapshot, kept when the
 *   connection goes away
 */
JsonNode *
iov_remote_session_get_snapshot (IovRemoteSession *self)
{
  g_return_val_if_fail (IOV_IS_REMOTE_SESSION (self), NULL);
  return self->snapshot;
}

const char *
iov_remote_session_get_qemu_version (IovRemoteSession *self)
{
  g_return_val_if_fail (IOV_IS_REMOTE_SESSION (self), NULL);
  return self->qemu_version;
}

const char *
iov_remote_session_get_vm_state (IovRemoteSession *self)
{
  g_return_val_if_fail (IOV_IS_REMOTE_SESSION (self), NULL);
  return self->vm_state;
}

/* Whether the relay has a trace source for the VM (from its "hello"). */
gboolean
iov_remote_session_has_trace (IovRemoteSession *self)
{
  g_return_val_if_fail (IOV_IS_REMOTE_SESSION (self), FALSE);
  return self->has_trace;
}

/**
 * iov_remote_session_set_queue_limit:
 *
 * Bytes of rendered lines that may wait for iov_remote_session_pop_lines()
 * (IOV_REMOTE_SESSION_DEFAULT_QUEUE_BYTES); beyond it batches are dropped
 * and counted in events_dropped.
 */
void
iov_remote_session_set_queue_limit (IovRemoteSession *self,
                                    gsize             bytes)
{
  g_return_if_fail (IOV_IS_REMOTE_SESSION (self));

  g_mutex_lock (&self->mutex);
  self->queue_limit = bytes;
  g_mutex_unlock (&self->mutex);
}

/**
 * iov_remote_session_pop_lines:
 * @n_events: (out) (optional): events (lines) in the batch
 *
 * Takes the oldest batch of lines, without waiting: newline-terminated
 * QEMU log lines for iov_trace_split_lines() and iov_trace_parse_line().
 * Any thread.
 *
 * Returns: (transfer full) (nullable): the batch, NULL when none waits
 */
GBytes *
iov_remote_session_pop_lines (IovRemoteSession *self,
                              guint            *n_events)
{
  Batch *batch;
  GBytes *text = NULL;

  g_return_val_if_fail (IOV_IS_REMOTE_SESSION (self), NULL);

  g_mutex_lock (&self->mutex);
  batch = g_queue_pop_head (&self->batches);
  if (batch != NULL)
    self->queued_bytes -= g_bytes_get_size (batch->text);
  g_mutex_unlock (&self->mutex);
  if (n_events)
    *n_events = batch ? batch->n_events : 0;
  if (batch != NULL)
    {
      text = g_steal_pointer (&batch->text);
      g_free (batch);
    }
  return text;
}

/* Any thread. */
void
iov_remote_session_get_counters (IovRemoteSession         *self,
                                 IovRemoteSessionCounters *counters)
{
  g_return_if_fail (IOV_IS_REMOTE_SESSION (self));
  g_return_if_fail (counters != NULL);

  g_mutex_lock (&self->mutex);
  *counters = self->counters;
  g_mutex_unlock (&self->mutex);
}
