/* fuzz-relay-message.c — libFuzzer harness for the relay's messages, both ways
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

/* The input is what a WebSocket client sends the relay, and what a relay
 * sends its clients.  Both readers must accept or refuse it with an error,
 * never crash; an accepted message has a known type, and what the reader
 * read, written again by the kind's writer, reads back the same.  The same
 * bytes go through the JSON string escaper used for everything the relay
 * sends, whose output must be valid JSON that decodes back to the input
 * when the input was UTF-8; and through the token comparison. */

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Writes @message with its kind's writer and reads it back into @again. */
static void
rewrite (const IovRelayMessage *message,
         IovRelayMessage       *again)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *snapshot = NULL;

  switch (message->type)
    {
    case IOV_RELAY_MESSAGE_HELLO:
      iov_relay_append_hello (out, &message->u.hello);
      break;
    case IOV_RELAY_MESSAGE_SNAPSHOT:
      snapshot = json_to_string (message->u.snapshot.snapshot, FALSE);
      iov_relay_append_snapshot (out, snapshot, message->u.snapshot.changes);
      break;
    case IOV_RELAY_MESSAGE_EVENTS:
      /* the events themselves are written from trace lines, not JSON */
      iov_relay_append_events_begin (out, message->u.events.seq, message->u.events.source_dropped_lines);
      iov_relay_append_events_end (out);
      break;
    case IOV_RELAY_MESSAGE_DROPS:
      iov_relay_append_drops (out, &message->u.drops);
      break;
    case IOV_RELAY_MESSAGE_STATS:
      iov_relay_append_stats (out, &message->u.drops);
      break;
    case IOV_RELAY_MESSAGE_STATE:
      iov_relay_append_state (out, &message->u.state);
      break;
    case IOV_RELAY_MESSAGE_PONG:
      iov_relay_append_pong (out, &message->u.pong);
      break;
    case IOV_RELAY_MESSAGE_ERROR:
      iov_relay_append_error (out, message->u.error);
      break;
    case IOV_RELAY_MESSAGE_UNKNOWN:
    default:
      g_assert_not_reached ();
    }
  g_assert (iov_relay_parse_message (out->str, out->len, again, NULL));
  g_assert_cmpint (again->type, ==, message->type);
}

static void
check_relay_message (const uint8_t *data,
                     size_t         size)
{
  g_auto(IovRelayMessage) message = { 0 };
  g_auto(IovRelayMessage) again = { 0 };
  g_autoptr(GError) error = NULL;
  const IovRelayMessage *a = &message, *b = &again;

  if (!iov_relay_parse_message ((const char *) data, size, &message, &error))
    {
      g_assert (error != NULL && error->domain == IOV_RELAY_ERROR && error->message[0] != '\0');
      g_assert (message.root == NULL);
      return;
    }
  g_assert (message.type != IOV_RELAY_MESSAGE_UNKNOWN && message.root != NULL);
  if (message.type == IOV_RELAY_MESSAGE_HELLO && message.u.hello.version != IOV_RELAY_PROTOCOL_VERSION)
    return;  /* another version's hello is read no further */

  rewrite (&message, &again);
  switch (message.type)
    {
    case IOV_RELAY_MESSAGE_HELLO:
      g_assert_cmpstr (a->u.hello.relay, ==, b->u.hello.relay);
      g_assert_cmpstr (a->u.hello.vm, ==, b->u.hello.vm);
      g_assert_cmpstr (a->u.hello.state, ==, b->u.hello.state);
      g_assert_cmpstr (a->u.hello.qemu, ==, b->u.hello.qemu);
      g_assert (a->u.hello.trace == b->u.hello.trace && a->u.hello.seq == b->u.hello.seq &&
                a->u.hello.queue_bytes == b->u.hello.queue_bytes &&
                a->u.hello.max_message_bytes == b->u.hello.max_message_bytes);
      break;
    case IOV_RELAY_MESSAGE_SNAPSHOT:
      g_assert_cmpuint (a->u.snapshot.changes->len, ==, b->u.snapshot.changes->len);
      for (guint i = 0; i < a->u.snapshot.changes->len; i++)
        {
          const IovSnapshotChange *x = g_ptr_array_index (a->u.snapshot.changes, i);
          const IovSnapshotChange *y = g_ptr_array_index (b->u.snapshot.changes, i);

          g_assert (x->kind == y->kind && x->n_ranges == y->n_ranges);
          g_assert_cmpstr (x->device, ==, y->device);
          g_assert_cmpstr (x->message, ==, y->message);
        }
      break;
    case IOV_RELAY_MESSAGE_EVENTS:
      g_assert (a->u.events.seq == b->u.events.seq &&
                a->u.events.source_dropped_lines == b->u.events.source_dropped_lines);
      break;
    case IOV_RELAY_MESSAGE_DROPS:
    case IOV_RELAY_MESSAGE_STATS:
      g_assert (memcmp (&a->u.drops, &b->u.drops, sizeof a->u.drops) == 0);
      break;
    case IOV_RELAY_MESSAGE_STATE:
      g_assert_cmpstr (a->u.state.state, ==, b->u.state.state);
      g_assert_cmpstr (a->u.state.session, ==, b->u.state.session);
      g_assert_cmpstr (a->u.state.qemu, ==, b->u.state.qemu);
      g_assert_cmpstr (a->u.state.error, ==, b->u.state.error);
      break;
    case IOV_RELAY_MESSAGE_PONG:
      g_assert (a->u.pong.id == b->u.pong.id && a->u.pong.time_ns == b->u.pong.time_ns);
      break;
    case IOV_RELAY_MESSAGE_ERROR:
      g_assert_cmpstr (a->u.error, ==, b->u.error);
      break;
    case IOV_RELAY_MESSAGE_UNKNOWN:
    default:
      g_assert_not_reached ();
    }
}

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
    {
      IovRelayClientMessage again;

      g_assert (msg.type == IOV_RELAY_CLIENT_PING || msg.type == IOV_RELAY_CLIENT_SNAPSHOT ||
                msg.type == IOV_RELAY_CLIENT_STATS);
      iov_relay_append_client_message (out, &msg);
      g_assert (iov_relay_parse_client_message (out->str, out->len, &again, NULL));
      g_assert (again.type == msg.type && again.id == msg.id);
      g_string_truncate (out, 0);
    }
  else
    g_assert (error != NULL && error->domain == IOV_RELAY_ERROR && error->message[0] != '\0');
  check_relay_message (data, size);

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
