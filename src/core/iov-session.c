/* iov-session.c
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

#define G_LOG_DOMAIN "iov-session"

#include "config.h"

#include "iov-session.h"

/* A live link to one QEMU: owns the IovQmpClient for an address, takes a
 * snapshot when connected, on every QMP event and every interval, and
 * emits ::changed with what iov_snapshot_diff_changes() says when the
 * snapshot differs from the last one. While QEMU is away the last snapshot
 * stays, the state says disconnected and why, and the session reconnects
 * (100 ms, doubling to 1 s). */

#define RECONNECT_FIRST_MS 100
#define RECONNECT_MAX_MS   1000

struct _IovSession
{
  GObject          parent_instance;

  IovQmpClient    *client;
  GCancellable    *cancellable;     /* NULL while stopped */

  IovSessionState  state;
  GError          *error;
  IovSnapshot     *snapshot;
  char            *snapshot_text;   /* JSON of snapshot, to tell changes */

  guint            interval_ms;
  guint            poll_id;
  guint            reconnect_id;
  guint            reconnect_delay_ms;
  gboolean         connecting;
  gboolean         collecting;
  gboolean         again;           /* a refresh was asked for while collecting */
};

enum {
  PROP_0,
  PROP_ADDRESS,
  PROP_STATE,
  PROP_ERROR,
  PROP_SNAPSHOT,
  PROP_INTERVAL,
  N_PROPS
};

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (IovSession, iov_session, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void start_connect (IovSession *self);

/* ---- state -------------------------------------------------------------- */

static void
set_state (IovSession      *self,
           IovSessionState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
set_error (IovSession   *self,
           const GError *error)
{
  if (error == NULL && self->error == NULL)
    return;
  g_clear_error (&self->error);
  if (error)
    self->error = g_error_copy (error);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

static void
stop_polling (IovSession *self)
{
  g_clear_handle_id (&self->poll_id, g_source_remove);
}

static gboolean
poll_cb (gpointer user_data)
{
  IovSession *self = user_data;

  self->poll_id = 0;
  iov_session_refresh (self);
  return G_SOURCE_REMOVE;
}

/* The interval runs from the end of one snapshot to the start of the next,
 * so a slow QEMU is not kept busy answering back to back. */
static void
schedule_poll (IovSession *self)
{
  stop_polling (self);
  if (self->cancellable != NULL && iov_qmp_client_get_state (self->client) == IOV_QMP_STATE_CONNECTED)
    self->poll_id = g_timeout_add (self->interval_ms, poll_cb, self);
}

static gboolean
reconnect_cb (gpointer user_data)
{
  IovSession *self = user_data;

  self->reconnect_id = 0;
  start_connect (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_reconnect (IovSession *self)
{
  if (self->cancellable == NULL || self->reconnect_id != 0 || self->connecting)
    return;
  self->reconnect_id = g_timeout_add (self->reconnect_delay_ms, reconnect_cb, self);
  self->reconnect_delay_ms = MIN (self->reconnect_delay_ms * 2, RECONNECT_MAX_MS);
}

static void
lost (IovSession   *self,
      const GError *error)
{
  stop_polling (self);
  set_error (self, error);
  set_state (self, IOV_SESSION_STATE_DISCONNECTED);
  schedule_reconnect (self);
}

/* ---- snapshots ---------------------------------------------------------- */

static void
collect_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  IovSession *self;
  g_autoptr(GError) error = NULL;
  g_autoptr(IovSnapshot) snapshot = iov_snapshot_collect_finish (result, &error);
  g_autoptr(GPtrArray) changes = NULL;
  g_autofree char *text = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* stopped or disposed: user_data may be gone */

  self = IOV_SESSION (user_data);
  self->collecting = FALSE;

  if (snapshot == NULL)
    {
      /* a lost connection is reported by ::disconnected; anything else
       * (a command QEMU refused) is the reason, and the next poll retries */
      if (iov_qmp_client_get_state (self->client) == IOV_QMP_STATE_CONNECTED)
        {
          set_error (self, error);
          schedule_poll (self);
        }
      return;
    }

  text = iov_snapshot_to_string (snapshot, FALSE, FALSE);
  set_error (self, NULL);
  set_state (self, IOV_SESSION_STATE_LIVE);

  if (g_strcmp0 (text, self->snapshot_text) != 0)
    {
      changes = iov_snapshot_diff_changes (self->snapshot, snapshot);
      g_set_object (&self->snapshot, snapshot);
      g_free (self->snapshot_text);
      self->snapshot_text = g_steal_pointer (&text);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SNAPSHOT]);
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0, changes);
    }

  if (self->again)
    {
      self->again = FALSE;
      iov_session_refresh (self);
    }
  else
    schedule_poll (self);
}

/**
 * iov_session_refresh:
 *
 * Takes a snapshot now (or right after the one being taken), when connected.
 */
void
iov_session_refresh (IovSession *self)
{
  g_return_if_fail (IOV_IS_SESSION (self));

  if (self->cancellable == NULL || iov_qmp_client_get_state (self->client) != IOV_QMP_STATE_CONNECTED)
    return;
  if (self->collecting)
    {
      self->again = TRUE;
      return;
    }
  stop_polling (self);
  self->collecting = TRUE;
  iov_snapshot_collect_async (self->client, self->cancellable, collect_cb, self);
}

/* ---- the client ----------------------------------------------------------- */

static void
connect_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  IovSession *self;
  g_autoptr(GError) error = NULL;

  if (iov_qmp_client_connect_finish (IOV_QMP_CLIENT (source), result, &error))
    return; /* on_client_connected did the rest */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = IOV_SESSION (user_data);
  self->connecting = FALSE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PENDING))
    return; /* an earlier attempt is still under way */
  lost (self, error);
}

static void
start_connect (IovSession *self)
{
  if (self->cancellable == NULL || self->connecting ||
      iov_qmp_client_get_state (self->client) == IOV_QMP_STATE_CONNECTED)
    return;
  self->connecting = TRUE;
  set_state (self, IOV_SESSION_STATE_CONNECTING);
  iov_qmp_client_connect_async (self->client, self->cancellable, connect_cb, self);
}

static void
on_client_connected (IovSession   *self,
                     IovQmpClient *client)
{
  if (self->cancellable == NULL)
    return;
  self->connecting = FALSE;
  self->reconnect_delay_ms = RECONNECT_FIRST_MS;
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  set_state (self, IOV_SESSION_STATE_CONNECTING); /* until the first snapshot */
  iov_session_refresh (self);
}

static void
on_client_disconnected (IovSession   *self,
                        GError       *error,
                        IovQmpClient *client)
{
  if (self->cancellable == NULL)
    return;
  self->collecting = FALSE;
  self->again = FALSE;
  lost (self, error);
}

static void
on_client_event (IovSession   *self,
                 const char   *name,
                 JsonNode     *data,
                 gint64        timestamp_us,
                 IovQmpClient *client)
{
  g_debug ("QMP event %s: refreshing", name);
  iov_session_refresh (self);
}

/* ---- object ------------------------------------------------------------- */

static void
iov_session_dispose (GObject *object)
{
  IovSession *self = IOV_SESSION (object);

  iov_session_stop (self);
  if (self->client)
    {
      g_signal_handlers_disconnect_by_data (self->client, self);
      iov_qmp_client_close (self->client);
    }
  g_clear_object (&self->client);
  g_clear_object (&self->snapshot);

  G_OBJECT_CLASS (iov_session_parent_class)->dispose (object);
}

static void
iov_session_finalize (GObject *object)
{
  IovSession *self = IOV_SESSION (object);

  g_clear_error (&self->error);
  g_free (self->snapshot_text);

  G_OBJECT_CLASS (iov_session_parent_class)->finalize (object);
}

static void
iov_session_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  IovSession *self = IOV_SESSION (object);

  switch (prop_id)
    {
    case PROP_ADDRESS:
      g_value_set_string (value, iov_session_get_address (self));
      break;
    case PROP_STATE:
      g_value_set_uint (value, self->state);
      break;
    case PROP_ERROR:
      g_value_set_boxed (value, self->error);
      break;
    case PROP_SNAPSHOT:
      g_value_set_object (value, self->snapshot);
      break;
    case PROP_INTERVAL:
      g_value_set_uint (value, self->interval_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
iov_session_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  IovSession *self = IOV_SESSION (object);

  switch (prop_id)
    {
    case PROP_INTERVAL:
      iov_session_set_interval (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
iov_session_class_init (IovSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = iov_session_dispose;
  object_class->finalize = iov_session_finalize;
  object_class->get_property = iov_session_get_property;
  object_class->set_property = iov_session_set_property;

  properties[PROP_ADDRESS] =
    g_param_spec_string ("address", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /* an IovSessionState */
  properties[PROP_STATE] =
    g_param_spec_uint ("state", NULL, NULL,
                       IOV_SESSION_STATE_DISCONNECTED, IOV_SESSION_STATE_LIVE, IOV_SESSION_STATE_DISCONNECTED,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /* why the last connection attempt, connection or snapshot failed; NULL
   * again once a snapshot succeeds */
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL, G_TYPE_ERROR,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /* the last snapshot taken; kept while disconnected */
  properties[PROP_SNAPSHOT] =
    g_param_spec_object ("snapshot", NULL, NULL, IOV_TYPE_SNAPSHOT,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_INTERVAL] =
    g_param_spec_uint ("interval", NULL, NULL,
                       IOV_SESSION_MIN_INTERVAL_MS, G_MAXUINT, IOV_SESSION_DEFAULT_INTERVAL_MS,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * IovSession::changed:
   * @changes: (element-type IovSnapshotChange): per-device changes from the
   *   previous snapshot; empty for the first one, or when only views no
   *   single device owns changed
   *
   * Emitted after the snapshot property changed to a snapshot that differs
   * from the previous one.
   */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_PTR_ARRAY);
}

static void
iov_session_init (IovSession *self)
{
  self->interval_ms = IOV_SESSION_DEFAULT_INTERVAL_MS;
  self->reconnect_delay_ms = RECONNECT_FIRST_MS;
}

/**
 * iov_session_new:
 * @address: unix:PATH, a path, or tcp:HOST:PORT of a QMP socket
 *
 * Returns: (transfer full): a stopped session, or %NULL when @address
 *   cannot be parsed
 */
IovSession *
iov_session_new (const char  *address,
                 GError     **error)
{
  g_autoptr(IovSession) self = NULL;
  IovQmpClient *client;

  g_return_val_if_fail (address != NULL, NULL);

  client = iov_qmp_client_new (address, error);
  if (client == NULL)
    return NULL;

  self = g_object_new (IOV_TYPE_SESSION, NULL);
  self->client = client;
  g_signal_connect_swapped (client, "connected", G_CALLBACK (on_client_connected), self);
  g_signal_connect_swapped (client, "disconnected", G_CALLBACK (on_client_disconnected), self);
  g_signal_connect_swapped (client, "event", G_CALLBACK (on_client_event), self);
  return g_steal_pointer (&self);
}

/**
 * iov_session_start:
 *
 * Connects, and keeps reconnecting until iov_session_stop().
 */
void
iov_session_start (IovSession *self)
{
  g_return_if_fail (IOV_IS_SESSION (self));

  if (self->cancellable != NULL)
    return;
  self->cancellable = g_cancellable_new ();
  self->reconnect_delay_ms = RECONNECT_FIRST_MS;
  if (iov_qmp_client_get_state (self->client) == IOV_QMP_STATE_CONNECTED)
    on_client_connected (self, self->client);
  else
    start_connect (self);
}

/**
 * iov_session_stop:
 *
 * Stops polling and reconnecting; the connection, if any, stays open and
 * the last snapshot stays.
 */
void
iov_session_stop (IovSession *self)
{
  g_return_if_fail (IOV_IS_SESSION (self));

  if (self->cancellable == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  stop_polling (self);
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  self->connecting = FALSE;
  self->collecting = FALSE;
  self->again = FALSE;
  set_state (self, IOV_SESSION_STATE_DISCONNECTED);
}

const char *
iov_session_get_address (IovSession *self)
{
  g_return_val_if_fail (IOV_IS_SESSION (self), NULL);
  return self->client ? iov_qmp_client_get_address (self->client) : NULL;
}

/**
 * iov_session_get_client:
 *
 * Returns: (transfer none): the session's QMP client
 */
IovQmpClient *
iov_session_get_client (IovSession *self)
{
  g_return_val_if_fail (IOV_IS_SESSION (self), NULL);
  return self->client;
}

IovSessionState
iov_session_get_state (IovSession *self)
{
  g_return_val_if_fail (IOV_IS_SESSION (self), IOV_SESSION_STATE_DISCONNECTED);
  return self->state;
}

const char *
iov_session_state_to_string (IovSessionState state)
{
  switch (state)
    {
    case IOV_SESSION_STATE_CONNECTING:
      return "connecting";
    case IOV_SESSION_STATE_LIVE:
      return "live";
    case IOV_SESSION_STATE_DISCONNECTED:
    default:
      return "disconnected";
    }
}

/**
 * iov_session_get_error:
 *
 * Returns: (nullable) (transfer none): why the last attempt to connect,
 *   stay connected or take a snapshot failed; %NULL after a success
 */
const GError *
iov_session_get_error (IovSession *self)
{
  g_return_val_if_fail (IOV_IS_SESSION (self), NULL);
  return self->error;
}

/**
 * iov_session_get_snapshot:
 *
 * Returns: (nullable) (transfer none): the last snapshot taken
 */
IovSnapshot *
iov_session_get_snapshot (IovSession *self)
{
  g_return_val_if_fail (IOV_IS_SESSION (self), NULL);
  return self->snapshot;
}

guint
iov_session_get_interval (IovSession *self)
{
  g_return_val_if_fail (IOV_IS_SESSION (self), 0);
  return self->interval_ms;
}

void
iov_session_set_interval (IovSession *self,
                          guint       interval_ms)
{
  g_return_if_fail (IOV_IS_SESSION (self));

  interval_ms = MAX (interval_ms, IOV_SESSION_MIN_INTERVAL_MS);
  if (self->interval_ms == interval_ms)
    return;
  self->interval_ms = interval_ms;
  if (self->poll_id != 0)
    schedule_poll (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INTERVAL]);
}
