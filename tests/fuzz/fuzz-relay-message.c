/* fuzz-relay-message.c — libFuzzer harness for the relay's client messages
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

#include "config.h"

#include <json-glib/json-glib.h>
#include <stdint.h>
#include <string.h>

#include "iov-relay-protocol.h"
#include "iov-types.h"

/* The input is what a WebSocket client sends the relay.  The parser must
 * accept or refuse it with an error, never crash; an accepted message has
 * a known type.  The same bytes go through the JSON string escaper used
 * for everything the relay sends, whose output must be valid JSON that
 * decodes back to the input when the input was UTF-8; and through the
 * token comparison. */

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  IovRelayClientMessage msg;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *text = g_strndup ((const char *) data, size);

  if (iov_relay_parse_client_message ((const char *) data, size, &msg, &error))
    g_assert (msg.type == IOV_RELAY_CLIENT_PING || msg.type == IOV_RELAY_CLIENT_SNAPSHOT ||
              msg.type == IOV_RELAY_CLIENT_STATS);
  else
    g_assert (error != NULL && error->domain == IOV_RELAY_ERROR && error->message[0] != '\0');

  iov_json_append_string (out, (const char *) data, size);
  g_assert (g_utf8_validate (out->str, out->len, NULL));
  g_string_prepend_c (out, '[');
  g_string_append_c (out, ']');
  g_assert (json_parser_load_from_data (parser, out->str, out->len, NULL));
  if (memchr (data, 0, size) == NULL && g_utf8_validate ((const char *) data, size, NULL))
    {
      JsonArray *array = json_node_get_array (json_parser_get_root (parser));

      g_assert_cmpstr (json_array_get_string_element (array, 0), ==, text);
    }

  g_assert (iov_relay_token_equal (text, text) == (text[0] != '\0'));
  g_assert (!iov_relay_token_equal (text, "0123456789abcdef") || g_str_equal (text, "0123456789abcdef"));
  return 0;
}
