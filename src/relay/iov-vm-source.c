/* iov-vm-source.c — a live VM, from a local QMP session or a relay
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

#define G_LOG_DOMAIN "iov-vm-source"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "iov-json.h"
#include "iov-relay-client.h"
#include "iov-relay-protocol.h"
#include "iov-remote-session.h"
#include "iov-session.h"
#include "iov-snapshot.h"
#include "iov-trace-json.h"
#include "iov-vm-source.h"

/* What a local trace may hold while the view is busy: beyond it the
 * reader drops and counts lines rather than block QEMU's writer. */
#define READER_QUEUE (8u * 1024 * 1024)

struct _IovVmSource
{
  GObject           parent_instance;

  IovVmSourceKind   kind;
  char             *address;
  gboolean          started;

  /* QMP */
  IovSession       *session;
  char             *trace_source;
  IovTraceReader   *reader;

  /* relay */
  IovRelayClient   *relay;
  IovRemoteSession *remote;

  JsonNode         *snapshot;
};

G_DEFINE_FINAL_TYPE (IovVmSource, iov_vm_source, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  PROP_ERROR,
  PROP_SNAPSHOT,
  N_PROPS
};

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* ---- following the session ---------------------------------------------- */

static void
set_snapshot (IovVmSource *self,
              JsonNode    *snapshot)
{
  if (snapshot == NULL || (self->snapshot != NULL && json_node_equal (self->snapshot, snapshot)))
    return;
  g_clear_pointer (&self->snapshot, json_node_unref);
  self->snapshot = json_node_copy (snapshot);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SNAPSHOT]);
}

static void
session_snapshot_cb (IovVmSource *self,
                     GParamSpec  *pspec,
                     GObject     *session)
{
  if (IOV_IS_SESSION (session))
    {
      IovSnapshot *snapshot = iov_session_get_snapshot (IOV_SESSION (session));
      g_autoptr(JsonNode) json = snapshot ? iov_snapshot_to_json (snapshot, FALSE) : NULL;

      set_snapshot (self, json);
    }
  else
    set_snapshot (self, iov_remote_session_get_snapshot (IOV_REMOTE_SESSION (session)));
}

static void
session_state_cb (IovVmSource *self,
                  GParamSpec  *pspec,
                  GObject     *session)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
session_error_cb (IovVmSource *self,
                  GParamSpec  *pspec,
                  GObject     *session)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

static void
session_changed_cb (IovVmSource *self,
                    GPtrArray   *changes,
                    GObject     *session)
{
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0, changes);
}

static void
follow_session (IovVmSource *self,
                gpointer     session)
{
  g_signal_connect_object (session, "notify::state", G_CALLBACK (session_state_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (session, "notify::error", G_CALLBACK (session_error_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (session, "notify::snapshot", G_CALLBACK (session_snapshot_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (session, "changed", G_CALLBACK (session_changed_cb), self, G_CONNECT_SWAPPED);
}

/* ---- life ---------------------------------------------------------------- */

IovVmSource *
iov_vm_source_new (const char  *address,
                   const char  *trace_source,
                   const char  *token,
                   GError     **error)
{
  g_autoptr(IovVmSource) self = NULL;

  g_return_val_if_fail (address != NULL, NULL);

  if (trace_source != NULL && trace_source[0] == '\0')
    trace_source = NULL;
  self = g_object_new (IOV_TYPE_VM_SOURCE, NULL);
  self->address = g_strdup (address);
  if (iov_relay_is_url (address))
    {
      g_autofree char *tok = NULL;

      if (trace_source != NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       _("A VM behind a relay has its trace at the relay: give the relay --vm NAME,trace=SOURCE"));
          return NULL;
        }
      if (token != NULL && token[0] != '\0')
        tok = g_strstrip (g_strdup (token));
      else if ((tok = iov_relay_read_token (NULL, error)) == NULL)
        return NULL;
      self->kind = IOV_VM_SOURCE_RELAY;
      /* The client trusts IOVISTA_TLS_CA itself. */
      if ((self->relay = iov_relay_client_new (address, tok, error)) == NULL)
        return NULL;
      self->remote = iov_remote_session_new (self->relay);
      follow_session (self, self->remote);
    }
  else
    {
      self->kind = IOV_VM_SOURCE_QMP;
      if ((self->session = iov_session_new (address, error)) == NULL)
        return NULL;
      self->trace_source = g_strdup (trace_source);
      follow_session (self, self->session);
    }
  return g_steal_pointer (&self);
}

gboolean
iov_vm_source_start (IovVmSource  *self,
                     GError      **error)
{
  g_return_val_if_fail (IOV_IS_VM_SOURCE (self), FALSE);

  if (self->started)
    return TRUE;
  if (self->trace_source != NULL && self->reader == NULL)
    {
      g_autoptr(IovTraceReader) reader = iov_trace_reader_new (self->trace_source, IOV_TRACE_READER_FOLLOW, error);

      if (reader == NULL)
        return FALSE;
      iov_trace_reader_set_queue_limit (reader, READER_QUEUE);
      if (!iov_trace_reader_start (reader, error))
        return FALSE;
      self->reader = g_steal_pointer (&reader);
    }
  self->started = TRUE;
  if (self->session != NULL)
    iov_session_start (self->session);
  else
    iov_remote_session_start (self->remote);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  return TRUE;
}

void
iov_vm_source_stop (IovVmSource *self)
{
  g_return_if_fail (IOV_IS_VM_SOURCE (self));

  if (!self->started)
    return;
  self->started = FALSE;
  if (self->session != NULL)
    iov_session_stop (self->session);
  if (self->remote != NULL)
    iov_remote_session_stop (self->remote);
  if (self->reader != NULL)
    iov_trace_reader_stop (self->reader);
  g_clear_pointer (&self->reader, iov_trace_reader_free);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
iov_vm_source_retry (IovVmSource *self)
{
  g_return_if_fail (IOV_IS_VM_SOURCE (self));

  if (!self->started)
    return;
  /* The remote session starts again from FAILED; a QMP session's next
   * attempt would wait for its back-off. */
  if (self->session != NULL)
    {
      iov_session_stop (self->session);
      iov_session_start (self->session);
    }
  else
    iov_remote_session_start (self->remote);
}

IovVmSourceKind
iov_vm_source_get_kind (IovVmSource *self)
{
  g_return_val_if_fail (IOV_IS_VM_SOURCE (self), IOV_VM_SOURCE_QMP);
  return self->kind;
}

const char *
iov_vm_source_get_address (IovVmSource *self)
{
  g_return_val_if_fail (IOV_IS_VM_SOURCE (self), NULL);
  return self->address;
}

IovVmSourceState
iov_vm_source_get_state (IovVmSource *self)
{
  g_return_val_if_fail (IOV_IS_VM_SOURCE (self), IOV_VM_SOURCE_STOPPED);

  if (!self->started)
    return IOV_VM_SOURCE_STOPPED;
  if (self->session != NULL)
    switch (iov_session_get_state (self->session))
      {
      case IOV_SESSION_STATE_CONNECTING:
        return IOV_VM_SOURCE_CONNECTING;
      case IOV_SESSION_STATE_LIVE:
        return IOV_VM_SOURCE_LIVE;
      case IOV_SESSION_STATE_DISCONNECTED:
      default:
        return IOV_VM_SOURCE_DISCONNECTED;
      }
  switch (iov_remote_session_get_state (self->remote))
    {
    case IOV_REMOTE_SESSION_CONNECTING:
      return IOV_VM_SOURCE_CONNECTING;
    case IOV_REMOTE_SESSION_LIVE:
      return IOV_VM_SOURCE_LIVE;
    case IOV_REMOTE_SESSION_DISCONNECTED:
      return IOV_VM_SOURCE_DISCONNECTED;
    case IOV_REMOTE_SESSION_FAILED:
      return IOV_VM_SOURCE_FAILED;
    case IOV_REMOTE_SESSION_STOPPED:
    default:
      return IOV_VM_SOURCE_STOPPED;
    }
}

const GError *
iov_vm_source_get_error (IovVmSource *self)
{
  g_return_val_if_fail (IOV_IS_VM_SOURCE (self), NULL);

  if (self->session != NULL)
    return iov_session_get_error (self->session);
  return iov_remote_session_get_error (self->remote);
}

JsonNode *
iov_vm_source_get_snapshot (IovVmSource *self)
{
  g_return_val_if_fail (IOV_IS_VM_SOURCE (self), NULL);
  return self->snapshot;
}

const char *
iov_vm_source_get_qemu_version (IovVmSource *self)
{
  JsonObject *qemu;

  g_return_val_if_fail (IOV_IS_VM_SOURCE (self), NULL);

  if (self->remote != NULL && iov_remote_session_get_qemu_version (self->remote) != NULL)
    return iov_remote_session_get_qemu_version (self->remote);
  /* a relay's snapshot is a peer's JSON: read by type */
  if (self->snapshot == NULL || !JSON_NODE_HOLDS_OBJECT (self->snapshot))
    return NULL;
  qemu = iov_json_object (json_node_get_object (self->snapshot), "qemu");
  return iov_json_string (qemu, "version", NULL);
}

/* ---- asking ---------------------------------------------------------------- */

static void
relay_snapshot_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  IovVmSource *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = iov_relay_client_get_snapshot_finish (IOV_RELAY_CLIENT (source), result, &error);
  g_autoptr(JsonParser) parser = NULL;

  if (text == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, -1, &error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_task_return_new_error (task, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                               _("The relay sent a snapshot that is not JSON: %s"),
                               error ? error->message : _("not an object"));
      return;
    }
  set_snapshot (self, json_parser_get_root (parser));
  g_task_return_boolean (task, TRUE);
}

void
iov_vm_source_refresh_async (IovVmSource         *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (IOV_IS_VM_SOURCE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, iov_vm_source_refresh_async);
  if (self->session != NULL)
    {
      /* The snapshot comes through "notify::snapshot" as always. */
      iov_session_refresh (self->session);
      g_task_return_boolean (task, TRUE);
      return;
    }
  iov_relay_client_get_snapshot_async (self->relay, FALSE, FALSE, cancellable, relay_snapshot_cb,
                                       g_steal_pointer (&task));
}

gboolean
iov_vm_source_refresh_finish (IovVmSource   *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
iov_vm_source_trust_certificate (IovVmSource *self,
                                 const char  *sha256)
{
  g_return_if_fail (IOV_IS_VM_SOURCE (self));

  if (self->relay == NULL || sha256 == NULL)
    return;
  iov_relay_client_trust_certificate (self->relay, sha256);
  if (self->started)
    iov_remote_session_start (self->remote);
}

static void
preset_applied_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;
  gboolean done;

  if (IOV_IS_RELAY_CLIENT (source))
    done = (answer = iov_relay_client_set_trace_preset_finish (IOV_RELAY_CLIENT (source), result, &error)) != NULL;
  else
    done = iov_trace_preset_apply_finish (IOV_QMP_CLIENT (source), result, &error);
  if (!done)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

void
iov_vm_source_set_trace_preset_async (IovVmSource          *self,
                                      const IovTracePreset *preset,
                                      gboolean              enable,
                                      GCancellable         *cancellable,
                                      GAsyncReadyCallback   callback,
                                      gpointer              user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (IOV_IS_VM_SOURCE (self));
  g_return_if_fail (preset != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, iov_vm_source_set_trace_preset_async);
  /* through the relay, which owns the VM's QMP connection */
  if (self->relay != NULL)
    iov_relay_client_set_trace_preset_async (self->relay, preset->name, enable, cancellable, preset_applied_cb,
                                             g_steal_pointer (&task));
  else
    iov_trace_preset_apply_async (iov_session_get_client (self->session), preset, enable, cancellable,
                                  preset_applied_cb, g_steal_pointer (&task));
}

gboolean
iov_vm_source_set_trace_preset_finish (IovVmSource   *self,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- the trace ------------------------------------------------------------ */

gboolean
iov_vm_source_has_trace (IovVmSource *self)
{
  g_return_val_if_fail (IOV_IS_VM_SOURCE (self), FALSE);

  if (self->remote != NULL)
    return iov_remote_session_has_trace (self->remote);
  return self->reader != NULL;
}

gboolean
iov_vm_source_feed (IovVmSource      *self,
                    IovTraceDocument *doc,
                    guint64           arrival_ns)
{
  g_autoptr(GBytes) batch = NULL;
  g_autoptr(GArray) lines = NULL;
  const char *data;
  gsize len;

  g_return_val_if_fail (IOV_IS_VM_SOURCE (self), FALSE);
  g_return_val_if_fail (IOV_IS_TRACE_DOCUMENT (doc), FALSE);

  if (self->remote != NULL)
    batch = iov_remote_session_pop_events (self->remote, &lines);
  else if (self->reader != NULL)
    batch = iov_trace_reader_pop (self->reader, 0);
  if (batch == NULL)
    return FALSE;
  data = g_bytes_get_data (batch, &len);
  if (lines == NULL)
    {
      iov_trace_document_feed (doc, data, len, arrival_ns);
      return TRUE;
    }
  for (guint i = 0; i < lines->len; i++)
    {
      IovTraceLine line;

      iov_trace_json_line_get (&g_array_index (lines, IovTraceJsonLine, i), data, &line);
      iov_trace_document_feed_parsed (doc, &line, arrival_ns);
    }
  return TRUE;
}

guint64
iov_vm_source_get_dropped (IovVmSource *self)
{
  g_return_val_if_fail (IOV_IS_VM_SOURCE (self), 0);

  if (self->remote != NULL)
    {
      IovRemoteSessionCounters c;

      /* lost here, at the relay for this client, or by the relay's reader */
      iov_remote_session_get_counters (self->remote, &c);
      return c.events_dropped + c.relay_dropped_events + c.source_dropped_lines;
    }
  return self->reader ? iov_trace_reader_get_dropped_lines (self->reader) : 0;
}

gboolean
iov_vm_source_trace_ended (IovVmSource  *self,
                           GError      **error)
{
  g_return_val_if_fail (IOV_IS_VM_SOURCE (self), FALSE);

  if (self->reader == NULL || !iov_trace_reader_is_done (self->reader) || iov_trace_reader_is_live (self->reader))
    return FALSE;
  iov_trace_reader_get_error (self->reader, error);
  return TRUE;
}

IovTraceReader *
iov_vm_source_get_reader (IovVmSource *self)
{
  g_return_val_if_fail (IOV_IS_VM_SOURCE (self), NULL);
  return self->reader;
}

gboolean
iov_vm_source_follows_topology (IovVmSource *self)
{
  g_return_val_if_fail (IOV_IS_VM_SOURCE (self), FALSE);
  return self->session != NULL;
}

/* ---- GObject --------------------------------------------------------------- */

static void
iov_vm_source_dispose (GObject *object)
{
  IovVmSource *self = IOV_VM_SOURCE (object);

  iov_vm_source_stop (self);
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  if (self->remote != NULL)
    g_signal_handlers_disconnect_by_data (self->remote, self);
  g_clear_object (&self->session);
  g_clear_object (&self->remote);
  g_clear_object (&self->relay);

  G_OBJECT_CLASS (iov_vm_source_parent_class)->dispose (object);
}

static void
iov_vm_source_finalize (GObject *object)
{
  IovVmSource *self = IOV_VM_SOURCE (object);

  g_free (self->address);
  g_free (self->trace_source);
  g_clear_pointer (&self->snapshot, json_node_unref);

  G_OBJECT_CLASS (iov_vm_source_parent_class)->finalize (object);
}

static void
iov_vm_source_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  IovVmSource *self = IOV_VM_SOURCE (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_int (value, iov_vm_source_get_state (self));
      break;
    case PROP_ERROR:
      g_value_set_boxed (value, iov_vm_source_get_error (self));
      break;
    case PROP_SNAPSHOT:
      g_value_set_boxed (value, self->snapshot);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
iov_vm_source_class_init (IovVmSourceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = iov_vm_source_dispose;
  object_class->finalize = iov_vm_source_finalize;
  object_class->get_property = iov_vm_source_get_property;

  /* An IovVmSourceState. */
  properties[PROP_STATE] =
    g_param_spec_int ("state", NULL, NULL, IOV_VM_SOURCE_STOPPED, IOV_VM_SOURCE_FAILED, IOV_VM_SOURCE_STOPPED,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL, G_TYPE_ERROR,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SNAPSHOT] =
    g_param_spec_boxed ("snapshot", NULL, NULL, JSON_TYPE_NODE,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_PTR_ARRAY);
}

static void
iov_vm_source_init (IovVmSource *self)
{
}
