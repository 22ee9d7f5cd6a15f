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

#include "iov-remote-session-private.h"

#define RETRY_FIRST_MS 500
#define RETRY_MAX_MS   10000

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
  g_queue_clear_full (&self->control, _iov_remote_session_item_free);
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

static void
take_hello (IovRemoteSession    *self,
            const IovRelayHello *hello)
{
  if (hello->version != IOV_RELAY_PROTOCOL_VERSION)
    {
      g_autoptr(GError) error = NULL;

      error = g_error_new (IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                           _("The relay at %s speaks protocol version %d, this Iovista version %d"),
                           iov_relay_client_get_base_url (self->client), (int) hello->version,
                           IOV_RELAY_PROTOCOL_VERSION);
      failed (self, error);
      return;
    }
  self->has_trace = hello->trace;
  g_mutex_lock (&self->mutex);
  self->counters.connections++;
  g_mutex_unlock (&self->mutex);
  self->retry_ms = RETRY_FIRST_MS;
  set_qemu (self, hello->state, hello->qemu);
  set_error (self, NULL);
  set_state (self, IOV_REMOTE_SESSION_LIVE);
}

static void
take_snapshot (IovRemoteSession       *self,
               const IovRelaySnapshot *message)
{
  if (self->snapshot != NULL && json_node_equal (self->snapshot, message->snapshot))
    return;
  g_clear_pointer (&self->snapshot, json_node_unref);
  self->snapshot = json_node_copy (message->snapshot);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SNAPSHOT]);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0, message->changes);
}

static gboolean
control_cb (gpointer user_data)
{
  IovRemoteSession *self = user_data;

  for (;;)
    {
      g_autoptr(IovRelayMessage) message = NULL;
      g_autoptr(GError) error = NULL;
      Item *item;

      g_mutex_lock (&self->mutex);
      item = g_queue_pop_head (&self->control);
      if (item != NULL && item->gen != self->gen)
        g_clear_pointer (&item, _iov_remote_session_item_free);
      g_mutex_unlock (&self->mutex);
      if (item == NULL)
        break;
      message = g_steal_pointer (&item->message);
      error = g_steal_pointer (&item->error);
      _iov_remote_session_item_free (item);

      if (error != NULL)
        {
          g_autoptr(GError) hello_error = NULL;

          hello_error = g_error_new (IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                                     _("The relay at %s sent a hello this Iovista cannot read: %s"),
                                     iov_relay_client_get_base_url (self->client), error->message);
          failed (self, hello_error);
        }
      else if (message->type == IOV_RELAY_MESSAGE_HELLO)
        take_hello (self, &message->u.hello);
      else if (self->state != IOV_REMOTE_SESSION_LIVE)
        continue;  /* nothing counts before the hello */
      else if (message->type == IOV_RELAY_MESSAGE_SNAPSHOT)
        take_snapshot (self, &message->u.snapshot);
      else if (message->type == IOV_RELAY_MESSAGE_STATE)
        set_qemu (self, message->u.state.state, message->u.state.qemu);
      else if (message->type == IOV_RELAY_MESSAGE_ERROR)
        g_debug ("the relay says: %s", message->u.error);
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

  g_queue_clear_full (&self->batches, (GDestroyNotify) _iov_remote_session_batch_free);
  g_queue_clear_full (&self->control, _iov_remote_session_item_free);
  g_clear_pointer (&self->catalog, iov_trace_catalog_free);
  g_clear_pointer (&self->snapshot, json_node_unref);
  g_clear_error (&self->error);
  g_free (self->qemu_version);
  g_free (self->vm_state);
  g_string_free (self->render, TRUE);
  g_array_unref (self->render_lines);
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
  self->render_lines = g_array_new (FALSE, FALSE, sizeof (IovTraceJsonLine));
  /* Our own catalogue, from the same source as the app's (QEMU's
   * trace-events-all, else the built-in one): the worker reads it while
   * the app's event store may intern names into the app's. */
  self->catalog = iov_trace_catalog_new_default (NULL, NULL);
  self->pool = g_thread_pool_new_full (_iov_remote_session_worker, self, _iov_remote_session_item_free, 1, FALSE, NULL);
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
