/* iov-relay-server-trace.c
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

#include "iov-relay-server-private.h"
#include "iov-trace-control.h"

/* GET and POST …/trace: which of the core's trace presets (iov-trace-control)
 * QEMU has on, asked with trace-event-get-state, and switching one with
 * trace-event-set-state — the only state the relay changes in QEMU. */

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
      _iov_relay_respond_error (op->msg, SOUP_STATUS_SERVICE_UNAVAILABLE, _("The relay is stopping"));
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
  _iov_relay_respond_node (op->msg, root);
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

/* The body of a POST: {"preset": NAME, "enable": true|false}. */
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

void
_iov_relay_vm_handle_trace (RelayVm           *vm,
                            SoupServerMessage *msg,
                            gboolean           post)
{
  TraceOp *op;
  g_autoptr(GError) error = NULL;
  const IovTracePreset *preset = NULL;
  gboolean enable = FALSE;

  if (post && !parse_trace_request (msg, &preset, &enable, &error))
    {
      _iov_relay_respond_error (msg, SOUP_STATUS_BAD_REQUEST, error->message);
      return;
    }
  if (iov_qmp_client_get_state (vm->qmp) != IOV_QMP_STATE_CONNECTED)
    {
      g_autofree char *message = _iov_relay_vm_not_connected (vm);

      _iov_relay_respond_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, message);
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
