/* iov-relay-server-http.c
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
#include <string.h>

#include "iov-relay-server-private.h"

/* The REST API (docs/relay.md, "HTTP API"): routes under /api/v1/vms and
 * the JSON answers.  Requests get here only past the early handler in
 * -access.c; the events WebSocket is -ws.c's, the trace presets -trace.c's. */

void
_iov_relay_respond_json (SoupServerMessage *msg,
                         guint              status,
                         const char        *text)
{
  soup_server_message_set_status (msg, status,
                                  status == STATUS_TOO_MANY_REQUESTS ? "Too Many Requests" : NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, text, strlen (text));
}

/* 200 with @root, pretty-printed and ended by a newline for curl users. */
void
_iov_relay_respond_node (SoupServerMessage *msg,
                         JsonNode          *root)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;

  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  text = json_generator_to_data (gen, NULL);
  line = g_strconcat (text, "\n", NULL);
  _iov_relay_respond_json (msg, SOUP_STATUS_OK, line);
}

void
_iov_relay_respond_error (SoupServerMessage *msg,
                          guint              status,
                          const char        *message)
{
  g_autoptr(GString) out = g_string_new (NULL);

  iov_relay_append_http_error (out, status, message);
  _iov_relay_respond_json (msg, status, out->str);
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

RelayVm *
_iov_relay_server_find_vm (IovRelayServer *self,
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

static void
handle_list (IovRelayServer    *self,
             SoupServerMessage *msg)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

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
      json_builder_add_string_value (b, _iov_relay_vm_state_name (vm));
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
      if (_iov_relay_vm_error (vm) != NULL)
        json_builder_add_string_value (b, _iov_relay_vm_error (vm));
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  _iov_relay_respond_node (msg, root);
}

/* Whether @msg is a GET (or a POST, with @post_too); answers 405 when it
 * is not, so that each route needs only one line for its methods. */
static gboolean
check_method (SoupServerMessage *msg,
              gboolean           post_too)
{
  const char *method = soup_server_message_get_method (msg);

  if (g_str_equal (method, "GET") || (post_too && g_str_equal (method, "POST")))
    return TRUE;
  _iov_relay_respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
                            post_too ? _("Only GET and POST are allowed here") : _("Only GET is allowed here"));
  return FALSE;
}

void
_iov_relay_server_handler (SoupServer        *soup,
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
      _iov_relay_respond_error (msg, SOUP_STATUS_NOT_FOUND, _("No such resource; the API is under /api/v1/vms"));
      return;
    }
  rest = path + strlen (prefix);
  if (*rest == '\0' || g_str_equal (rest, "/"))
    {
      if (check_method (msg, FALSE))
        handle_list (self, msg);
      return;
    }
  if (*rest != '/')
    {
      _iov_relay_respond_error (msg, SOUP_STATUS_NOT_FOUND, _("No such resource"));
      return;
    }
  rest++;
  slash = strchr (rest, '/');
  vm = _iov_relay_server_find_vm (self, rest, slash ? (gsize) (slash - rest) : strlen (rest));
  if (vm == NULL)
    {
      _iov_relay_respond_error (msg, SOUP_STATUS_NOT_FOUND, _("No such VM"));
      return;
    }
  rest = slash ? slash + 1 : "";

  if (g_str_equal (rest, "snapshot"))
    {
      if (check_method (msg, FALSE))
        _iov_relay_vm_get_snapshot (vm, msg, query_flag (query, "raw", FALSE), query_flag (query, "pretty", TRUE));
    }
  else if (g_str_equal (rest, "events"))
    {
      if (check_method (msg, FALSE))
        _iov_relay_vm_handle_events (vm, msg);
    }
  else if (g_str_equal (rest, "trace"))
    {
      if (check_method (msg, TRUE))
        _iov_relay_vm_handle_trace (vm, msg, g_str_equal (method, "POST"));
    }
  else
    _iov_relay_respond_error (msg, SOUP_STATUS_NOT_FOUND, _("No such resource; use snapshot, events or trace"));
}
