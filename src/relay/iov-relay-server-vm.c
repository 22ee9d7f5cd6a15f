/* iov-relay-server-vm.c
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
#include <string.h>

#include "iov-relay-server-private.h"
#include "iov-snapshot.h"
#include "iov-trace-parser.h"

/* One VM behind the relay: its QMP session (which polls, reconnects and
 * says what changed), the snapshots GET …/snapshot waits for, and its trace
 * reader, whose lines are decoded once into "events" messages for every
 * client. */

#define MAX_EVENTS_PER_MESSAGE 2000
#define MAX_MESSAGE_TEXT       (256 * 1024)
#define TRACE_QUEUE_BYTES      (16u * 1024 * 1024)

typedef struct
{
  SoupServerMessage *msg;
  gboolean           raw;
  gboolean           pretty;
} WaitingSnapshot;

/* The QMP client's state, as the API and the messages name it. */
const char *
_iov_relay_vm_state_name (RelayVm *vm)
{
  switch (iov_qmp_client_get_state (vm->qmp))
    {
    case IOV_QMP_STATE_CONNECTED: return "connected";
    case IOV_QMP_STATE_CONNECTING: return "connecting";
    case IOV_QMP_STATE_DISCONNECTED:
    default: return "disconnected";
    }
}

const char *
_iov_relay_vm_error (RelayVm *vm)
{
  const GError *error = iov_session_get_error (vm->session);

  return error ? error->message : NULL;
}

/* Why a request that needs QEMU cannot be served now. */
char *
_iov_relay_vm_not_connected (RelayVm *vm)
{
  return g_strdup_printf (_("QEMU of %s is not connected (%s)"), vm->name,
                          _iov_relay_vm_error (vm) ? _iov_relay_vm_error (vm) : vm->qmp_address);
}

/* ---- snapshots ---------------------------------------------------------- */

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

          _iov_relay_respond_json (w->msg, SOUP_STATUS_OK, line);
        }
      else
        _iov_relay_respond_error (w->msg, status, error_message);
      soup_server_message_unpause (w->msg);
      g_object_unref (w->msg);
      g_free (w);
    }
}

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

static void
fetch_snapshot (RelayVm *vm)
{
  if (vm->collecting)
    return;
  if (iov_qmp_client_get_state (vm->qmp) != IOV_QMP_STATE_CONNECTED)
    {
      g_autofree char *message = _iov_relay_vm_not_connected (vm);

      answer_waiting (vm, SOUP_STATUS_SERVICE_UNAVAILABLE, message, NULL);
      return;
    }
  vm->collecting = TRUE;
  iov_snapshot_collect_async (vm->qmp, vm->server->cancellable, fetched_cb, vm);
}

/* GET …/snapshot answers with a snapshot taken for the request (requests
 * arriving meanwhile share it), the text `iovista-cli snapshot` prints. */
void
_iov_relay_vm_get_snapshot (RelayVm           *vm,
                            SoupServerMessage *msg,
                            gboolean           raw,
                            gboolean           pretty)
{
  WaitingSnapshot *w = g_new0 (WaitingSnapshot, 1);

  w->msg = g_object_ref (msg);
  w->raw = raw;
  w->pretty = pretty;
  g_ptr_array_add (vm->waiting, w);
  soup_server_message_pause (msg);
  fetch_snapshot (vm);
}

static void
on_session_changed (IovSession *session,
                    GPtrArray  *changes,
                    RelayVm    *vm)
{
  _iov_relay_vm_broadcast_snapshot (vm, changes);
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
      _iov_relay_vm_broadcast_state (vm, NULL);
    }
  else if (state == IOV_SESSION_STATE_DISCONNECTED && (vm->live || !vm->told_down))
    {
      vm->live = FALSE;
      vm->told_down = TRUE;
      g_message ("%s: no QEMU at %s: %s; retrying", vm->name, vm->qmp_address,
                 _iov_relay_vm_error (vm) ? _iov_relay_vm_error (vm) : "?");
      _iov_relay_vm_broadcast_state (vm, _iov_relay_vm_error (vm));
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
  iov_relay_append_events_end (pump->out);
  _iov_relay_vm_broadcast (vm, pump->out, pump->n_events);
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
    iov_relay_append_events_begin (pump->out, ++vm->seq, iov_trace_reader_get_dropped_lines (vm->reader));
  iov_relay_append_events_item (pump->out, pump->n_events, vm->server->catalog, &line, pump->arrival_ns);
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

/* ---- lifecycle ---------------------------------------------------------- */

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
  if (_iov_relay_server_find_vm (self, parts[0], strlen (parts[0])))
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

/* Once the server listens: QMP connects, the session polls and the trace
 * pump runs. */
void
_iov_relay_vm_start (RelayVm *vm)
{
  IovRelayServer *server = vm->server;

  g_signal_connect (vm->session, "changed", G_CALLBACK (on_session_changed), vm);
  g_signal_connect (vm->session, "notify::state", G_CALLBACK (on_session_state), vm);
  iov_session_set_interval (vm->session, server->limits.poll_interval_ms);
  iov_session_start (vm->session);
  if (vm->reader)
    vm->pump_id = g_timeout_add (server->limits.batch_interval_ms, pump_cb, vm);
}

void
_iov_relay_vm_free (RelayVm *vm)
{
  _iov_relay_vm_drop_clients (vm);
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
