/* iov-relay-protocol.c
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

#include "iov-relay-protocol.h"
#include "iov-types.h"

G_DEFINE_QUARK (iov-relay-error-quark, iov_relay_error)

/**
 * iov_relay_parse_client_message:
 *
 * Parses what a WebSocket client sent: one JSON object with a "type"
 * ("ping", "snapshot" or "stats"), an optional integer "id" and an optional
 * "v" that must be IOV_RELAY_PROTOCOL_VERSION.  Never trusts @data: it need
 * not be NUL-terminated or valid UTF-8.
 */
gboolean
iov_relay_parse_client_message (const char             *data,
                                gsize                   len,
                                IovRelayClientMessage  *out,
                                GError                **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonObject *object;
  JsonNode *root, *node;
  const char *type;

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  memset (out, 0, sizeof *out);

  if (len > IOV_RELAY_MAX_CLIENT_MESSAGE)
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("Message of %zu bytes is longer than %d bytes"),
                   len, IOV_RELAY_MAX_CLIENT_MESSAGE);
      return FALSE;
    }
  if (len == 0 || !g_utf8_validate_len (data, len, NULL))
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("Message is empty or not UTF-8 text"));
      return FALSE;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local_error))
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("Message is not JSON: %s"), local_error->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("Message is not a JSON object"));
      return FALSE;
    }
  object = json_node_get_object (root);

  node = json_object_get_member (object, "v");
  if (node != NULL &&
      (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64 ||
       json_node_get_int (node) != IOV_RELAY_PROTOCOL_VERSION))
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("Unsupported protocol version: this relay speaks version %d"),
                   IOV_RELAY_PROTOCOL_VERSION);
      return FALSE;
    }

  node = json_object_get_member (object, "id");
  if (node != NULL)
    {
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
        {
          g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                       _("“id” must be an integer"));
          return FALSE;
        }
      out->id = json_node_get_int (node);
    }

  node = json_object_get_member (object, "type");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("Message has no string “type”"));
      return FALSE;
    }
  type = json_node_get_string (node);
  if (g_str_equal (type, "ping"))
    out->type = IOV_RELAY_CLIENT_PING;
  else if (g_str_equal (type, "snapshot"))
    out->type = IOV_RELAY_CLIENT_SNAPSHOT;
  else if (g_str_equal (type, "stats"))
    out->type = IOV_RELAY_CLIENT_STATS;
  else
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("Unknown message type “%s” (expected ping, snapshot or stats)"), type);
      return FALSE;
    }
  return TRUE;
}

void
iov_relay_append_event (GString            *out,
                        IovTraceCatalog    *catalog,
                        const IovTraceLine *line,
                        gint64              arrival_ns)
{
  IovTraceArg args[IOV_TRACE_MAX_ARGS];
  guint n_args = 0;

  g_string_append (out, "{\"ts_ns\":");
  if (line->has_ts)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT, line->ts_ns);
  else
    g_string_append_printf (out, "%" G_GINT64_FORMAT, arrival_ns);
  g_string_append (out, ",\"tid\":");
  if (line->has_tid)
    g_string_append_printf (out, "%u", line->tid);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\"name\":");
  iov_json_append_string (out, line->name, line->name_len);
  g_string_append (out, ",\"args\":{");
  if (line->event_id >= 0 &&
      iov_trace_catalog_decode (catalog, line->event_id, line->args, line->args_len, args, &n_args))
    {
      for (guint i = 0; i < n_args; i++)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          iov_json_append_string (out, args[i].name, strlen (args[i].name));
          g_string_append_c (out, ':');
          iov_json_append_string (out, args[i].text, args[i].len);
        }
      g_string_append (out, "}}");
    }
  else
    {
      g_string_append (out, "},\"raw\":");
      iov_json_append_string (out, line->args, line->args_len);
      g_string_append_c (out, '}');
    }
}

/**
 * iov_relay_token_equal:
 *
 * Compares in time that depends only on the expected token's length, so
 * that response times say nothing about how much of a guess was right.
 */
gboolean
iov_relay_token_equal (const char *presented,
                       const char *expected)
{
  gsize plen, elen;
  guint diff;

  if (presented == NULL || expected == NULL)
    return FALSE;
  plen = strlen (presented);
  elen = strlen (expected);
  diff = plen != elen;
  for (gsize i = 0; i < elen; i++)
    diff |= (guchar) expected[i] ^ (guchar) (i < plen ? presented[i] : 0);
  return elen > 0 && diff == 0;
}
