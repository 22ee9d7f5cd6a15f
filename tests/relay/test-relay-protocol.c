/* test-relay-protocol.c — the relay's message kinds, written and read back
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

/* No server, no socket: iov-relay-protocol's writers and readers alone.
 * The writers' bytes are pinned (docs/relay.md, and bench/bench-relay.c
 * matches a prefix), every kind survives writer → reader, and bad input
 * gives a GError naming the member and the message kind. */

#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "iov-relay-protocol.h"
#include "iov-trace-json.h"

static GPtrArray *
some_changes (void)
{
  GPtrArray *changes = g_ptr_array_new_with_free_func ((GDestroyNotify) iov_snapshot_change_free);
  IovSnapshotChange *on = g_new0 (IovSnapshotChange, 1);
  IovSnapshotChange *ranges = g_new0 (IovSnapshotChange, 1);

  on->kind = IOV_SNAPSHOT_CHANGE_REMAPPING_ON;
  on->device = g_strdup ("00:02.0");
  on->n_ranges = 3;
  on->message = g_strdup ("00:02.0 switched to DMA remapping: 3 ranges");
  ranges->kind = IOV_SNAPSHOT_CHANGE_RANGES;
  ranges->device = g_strdup ("\"odd\" \\ name\n");
  ranges->n_ranges = 0;
  ranges->message = g_strdup ("Gerät: “Bereiche”");
  g_ptr_array_add (changes, on);
  g_ptr_array_add (changes, ranges);
  return changes;
}

/* Parses what a writer wrote, which must succeed. */
static void
read_back (GString         *out,
           IovRelayMessage *message)
{
  g_autoptr(GError) error = NULL;

  g_test_message ("%s", out->str);
  g_assert_true (iov_relay_parse_message (out->str, out->len, message, &error));
  g_assert_no_error (error);
}

/* ---- the bytes on the wire ------------------------------------------------ */

static void
test_writers_exact (void)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GPtrArray) changes = some_changes ();
  IovRelayHello hello = { IOV_RELAY_PROTOCOL_VERSION, "iovista 0.1.0", "vm1", "connected", "7.2.22",
                          TRUE, 4194304, 65536, 7 };
  IovRelayDrops drops = { 1, 2, 3, 4, 5, 6 };
  IovRelayState state = { "disconnected", "disconnected", NULL, "Connection refused" };
  IovRelayPong pong = { -42, 1795459774259880000 };
  IovRelayClientMessage ping = { IOV_RELAY_CLIENT_PING, 9 };
  IovRelayClientMessage stats = { IOV_RELAY_CLIENT_STATS, 0 };

  iov_relay_append_hello (out, &hello);
  g_assert_cmpstr (out->str, ==,
                   "{\"v\":1,\"type\":\"hello\",\"version\":1,\"relay\":\"iovista 0.1.0\",\"vm\":\"vm1\","
                   "\"state\":\"connected\",\"qemu\":\"7.2.22\",\"trace\":true,\"queue_bytes\":4194304,"
                   "\"max_message_bytes\":65536,\"seq\":7}");
  g_string_truncate (out, 0);
  hello.qemu = NULL;
  hello.trace = FALSE;
  iov_relay_append_hello (out, &hello);
  g_assert_nonnull (strstr (out->str, ",\"qemu\":null,\"trace\":false,"));

  g_string_truncate (out, 0);
  iov_relay_append_snapshot (out, "{\"iommu\":null}", changes);
  g_assert_cmpstr (out->str, ==,
                   "{\"v\":1,\"type\":\"snapshot\",\"changes\":[{\"kind\":\"remapping-on\",\"device\":\"00:02.0\","
                   "\"ranges\":3,\"message\":\"00:02.0 switched to DMA remapping: 3 ranges\"},{\"kind\":\"ranges\","
                   "\"device\":\"\\\"odd\\\" \\\\ name\\n\",\"ranges\":0,\"message\":\"Gerät: “Bereiche”\"}],"
                   "\"snapshot\":{\"iommu\":null}}");
  g_string_truncate (out, 0);
  iov_relay_append_snapshot (out, "{}", NULL);
  g_assert_cmpstr (out->str, ==, "{\"v\":1,\"type\":\"snapshot\",\"changes\":[],\"snapshot\":{}}");

  g_string_truncate (out, 0);
  iov_relay_append_events_begin (out, 12, 34);
  iov_relay_append_events_end (out);
  /* bench/bench-relay.c recognises events messages by this prefix */
  g_assert_cmpstr (out->str, ==, "{\"v\":1,\"type\":\"events\",\"seq\":12,\"source_dropped_lines\":34,\"events\":[]}");

  g_string_truncate (out, 0);
  iov_relay_append_drops (out, &drops);
  g_assert_cmpstr (out->str, ==,
                   "{\"v\":1,\"type\":\"drops\",\"dropped_messages\":1,\"dropped_events\":2,\"source_dropped_lines\":3,"
                   "\"sent_messages\":4,\"queued_bytes\":5,\"invalid_messages\":6}");
  g_string_truncate (out, 0);
  iov_relay_append_stats (out, &drops);
  g_assert_true (g_str_has_prefix (out->str, "{\"v\":1,\"type\":\"stats\",\"dropped_messages\":1,"));

  g_string_truncate (out, 0);
  iov_relay_append_state (out, &state);
  g_assert_cmpstr (out->str, ==,
                   "{\"v\":1,\"type\":\"state\",\"state\":\"disconnected\",\"session\":\"disconnected\","
                   "\"qemu\":null,\"error\":\"Connection refused\"}");
  g_string_truncate (out, 0);
  state.state = "connected";
  state.session = "live";
  state.qemu = "7.2.22";
  state.error = NULL;
  iov_relay_append_state (out, &state);
  g_assert_cmpstr (out->str, ==,
                   "{\"v\":1,\"type\":\"state\",\"state\":\"connected\",\"session\":\"live\",\"qemu\":\"7.2.22\"}");

  g_string_truncate (out, 0);
  iov_relay_append_pong (out, &pong);
  g_assert_cmpstr (out->str, ==, "{\"v\":1,\"type\":\"pong\",\"id\":-42,\"time_ns\":1795459774259880000}");

  g_string_truncate (out, 0);
  iov_relay_append_error (out, "Message is not JSON: \"x\"");
  g_assert_cmpstr (out->str, ==, "{\"v\":1,\"type\":\"error\",\"error\":\"Message is not JSON: \\\"x\\\"\"}");

  g_string_truncate (out, 0);
  iov_relay_append_client_message (out, &ping);
  g_assert_cmpstr (out->str, ==, "{\"v\":1,\"type\":\"ping\",\"id\":9}");
  g_string_truncate (out, 0);
  iov_relay_append_client_message (out, &stats);
  g_assert_cmpstr (out->str, ==, "{\"v\":1,\"type\":\"stats\"}");

  g_string_truncate (out, 0);
  iov_relay_append_http_error (out, 404, "No such VM");
  g_assert_cmpstr (out->str, ==, "{\"v\": 1, \"status\": 404, \"error\": \"No such VM\"}\n");
}

/* ---- writer → reader ----------------------------------------------------- */

static void
test_round_trip_hello (void)
{
  g_autoptr(GString) out = g_string_new (NULL);
  IovRelayHello hello = { IOV_RELAY_PROTOCOL_VERSION, "iovista 0.1.0", "vm-2.x_y", "connecting", NULL,
                          TRUE, G_MAXINT64, 1, 0 };
  IovRelayHello other = { IOV_RELAY_PROTOCOL_VERSION + 1, NULL, NULL, NULL, NULL, FALSE, 0, 0, 0 };

  for (guint round = 0; round < 2; round++)
    {
      g_auto(IovRelayMessage) message = { 0 };
      const IovRelayHello *h = &message.u.hello;

      g_string_truncate (out, 0);
      iov_relay_append_hello (out, &hello);
      read_back (out, &message);
      g_assert_cmpint (message.type, ==, IOV_RELAY_MESSAGE_HELLO);
      g_assert_cmpint (h->version, ==, hello.version);
      g_assert_cmpstr (h->relay, ==, hello.relay);
      g_assert_cmpstr (h->vm, ==, hello.vm);
      g_assert_cmpstr (h->state, ==, hello.state);
      g_assert_cmpstr (h->qemu, ==, hello.qemu);
      g_assert_cmpint (h->trace, ==, hello.trace);
      g_assert_cmpuint (h->queue_bytes, ==, hello.queue_bytes);
      g_assert_cmpuint (h->max_message_bytes, ==, hello.max_message_bytes);
      g_assert_cmpuint (h->seq, ==, hello.seq);

      hello.qemu = "10.1.0";
      hello.trace = FALSE;
      hello.seq = 123456789;
    }

  /* A relay of another version: its version, and nothing else is checked. */
  {
    g_auto(IovRelayMessage) message = { 0 };

    g_string_truncate (out, 0);
    iov_relay_append_hello (out, &other);
    read_back (out, &message);
    g_assert_cmpint (message.type, ==, IOV_RELAY_MESSAGE_HELLO);
    g_assert_cmpint (message.u.hello.version, ==, IOV_RELAY_PROTOCOL_VERSION + 1);
  }
  {
    static const char v2[] = "{\"v\": 2, \"type\": \"hello\", \"version\": 2, \"features\": [\"x\"]}";
    g_auto(IovRelayMessage) message = { 0 };

    g_assert_true (iov_relay_parse_message (v2, strlen (v2), &message, NULL));
    g_assert_cmpint (message.u.hello.version, ==, 2);
    g_assert_null (message.u.hello.vm);
  }
}

static void
test_round_trip_snapshot (void)
{
  static const char snapshot_json[] = "{\"qemu\":{\"version\":\"7.2.22\"},\"devices\":[{\"bdf\":\"00:02.0\"}]}";
  g_autoptr(GPtrArray) changes = some_changes ();
  g_autoptr(JsonNode) expected = json_from_string (snapshot_json, NULL);

  for (guint round = 0; round < 2; round++)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      g_auto(IovRelayMessage) message = { 0 };
      GPtrArray *got;

      iov_relay_append_snapshot (out, snapshot_json, round == 0 ? changes : NULL);
      read_back (out, &message);
      g_assert_cmpint (message.type, ==, IOV_RELAY_MESSAGE_SNAPSHOT);
      g_assert_true (json_node_equal (message.u.snapshot.snapshot, expected));
      got = message.u.snapshot.changes;
      g_assert_nonnull (got);
      g_assert_cmpuint (got->len, ==, round == 0 ? changes->len : 0);
      for (guint i = 0; i < got->len; i++)
        {
          const IovSnapshotChange *a = g_ptr_array_index (changes, i);
          const IovSnapshotChange *b = g_ptr_array_index (got, i);

          g_assert_cmpint (a->kind, ==, b->kind);
          g_assert_cmpstr (a->device, ==, b->device);
          g_assert_cmpuint (a->n_ranges, ==, b->n_ranges);
          g_assert_cmpstr (a->message, ==, b->message);
        }
    }
}

/* Real QEMU lines, written as the relay writes them and read back, render
 * the lines QEMU printed (the remote session's path). */
static void
test_round_trip_events (void)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "data", "trace", "qemu-7.2", NULL);
  g_autofree char *events_path = g_build_filename (dir, "trace-events", "trace-events-all.txt", NULL);
  g_autofree char *path = g_build_filename (dir, "guest-intel-strict", "trace.excerpt.log", NULL);
  g_autoptr(IovTraceCatalog) cat = iov_trace_catalog_new_from_file (events_path, NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) rendered = g_string_new (NULL);
  g_autoptr(GString) expected = g_string_new (NULL);
  g_auto(IovRelayMessage) message = { 0 };
  guint n = 0;

  g_assert_nonnull (cat);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  iov_relay_append_events_begin (out, 41, 2);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      IovTraceLine line;

      if (iov_trace_parse_line (cat, lines[i], strlen (lines[i]), &line) != IOV_TRACE_LINE_EVENT ||
          line.prefix != IOV_TRACE_PREFIX_TID)
        continue;
      iov_relay_append_events_item (out, n++, cat, &line, 0);
      g_string_append_printf (expected, "%s\n", lines[i]);
    }
  iov_relay_append_events_end (out);
  g_assert_cmpuint (n, >, 1000);

  g_assert_true (iov_relay_parse_message (out->str, out->len, &message, NULL));
  g_assert_cmpint (message.type, ==, IOV_RELAY_MESSAGE_EVENTS);
  g_assert_cmpuint (message.u.events.seq, ==, 41);
  g_assert_cmpuint (message.u.events.source_dropped_lines, ==, 2);
  g_assert_cmpuint (json_array_get_length (message.u.events.events), ==, n);
  for (guint i = 0; i < n; i++)
    {
      JsonObject *event = json_array_get_object_element (message.u.events.events, i);
      IovTraceJsonRender how;

      g_assert_true (iov_trace_json_render_line (cat, event, rendered, &how));
      g_assert_cmpint (how, !=, IOV_TRACE_JSON_APPROX);
    }
  g_assert_cmpstr (rendered->str, ==, expected->str);
}

static void
test_round_trip_counters (void)
{
  IovRelayDrops drops = { 0, G_MAXINT64, 7, 1, 65536, 3 };

  for (guint stats = 0; stats < 2; stats++)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      g_auto(IovRelayMessage) message = { 0 };

      if (stats)
        iov_relay_append_stats (out, &drops);
      else
        iov_relay_append_drops (out, &drops);
      read_back (out, &message);
      g_assert_cmpint (message.type, ==, stats ? IOV_RELAY_MESSAGE_STATS : IOV_RELAY_MESSAGE_DROPS);
      g_assert_cmpmem (&message.u.drops, sizeof drops, &drops, sizeof drops);
    }
}

/* Writes with @write_, reads back into @msg_, which must be of @kind_. */
#define ROUND_TRIP(msg_, kind_, write_, ...) \
  G_STMT_START { \
    g_autoptr(GString) out_ = g_string_new (NULL); \
    write_ (out_, __VA_ARGS__); \
    read_back (out_, (msg_)); \
    g_assert_cmpint ((msg_)->type, ==, (kind_)); \
  } G_STMT_END

static void
test_round_trip_small (void)
{
  const IovRelayState states[] = {
    { "connected", "live", "7.2.22", NULL },
    { "disconnected", "disconnected", NULL, "No such file or directory" },
  };
  const IovRelayPong pongs[] = { { 0, 0 }, { G_MININT64, G_MAXINT64 } };
  const char *errors[] = { "", "Unknown message type “quit” (expected ping, snapshot or stats)" };

  for (guint i = 0; i < G_N_ELEMENTS (states); i++)
    {
      g_auto(IovRelayMessage) m = { 0 };

      ROUND_TRIP (&m, IOV_RELAY_MESSAGE_STATE, iov_relay_append_state, &states[i]);
      g_assert_cmpstr (m.u.state.state, ==, states[i].state);
      g_assert_cmpstr (m.u.state.session, ==, states[i].session);
      g_assert_cmpstr (m.u.state.qemu, ==, states[i].qemu);
      g_assert_cmpstr (m.u.state.error, ==, states[i].error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (pongs); i++)
    {
      g_auto(IovRelayMessage) m = { 0 };

      ROUND_TRIP (&m, IOV_RELAY_MESSAGE_PONG, iov_relay_append_pong, &pongs[i]);
      g_assert_true (m.u.pong.id == pongs[i].id && m.u.pong.time_ns == pongs[i].time_ns);
    }
  for (guint i = 0; i < G_N_ELEMENTS (errors); i++)
    {
      g_auto(IovRelayMessage) m = { 0 };

      ROUND_TRIP (&m, IOV_RELAY_MESSAGE_ERROR, iov_relay_append_error, errors[i]);
      g_assert_cmpstr (m.u.error, ==, errors[i]);
    }
}

static void
test_round_trip_client (void)
{
  const IovRelayClientMessage messages[] = {
    { IOV_RELAY_CLIENT_PING, 42 },
    { IOV_RELAY_CLIENT_PING, 0 },
    { IOV_RELAY_CLIENT_PING, G_MININT64 },
    { IOV_RELAY_CLIENT_SNAPSHOT, 0 },
    { IOV_RELAY_CLIENT_STATS, 7 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      g_autoptr(GError) error = NULL;
      IovRelayClientMessage got;

      iov_relay_append_client_message (out, &messages[i]);
      g_assert_true (iov_relay_parse_client_message (out->str, out->len, &got, &error));
      g_assert_no_error (error);
      g_assert_cmpint (got.type, ==, messages[i].type);
      g_assert_cmpint (got.id, ==, messages[i].id);
    }
}

/* ---- bad input ------------------------------------------------------------- */

static void
test_bad_input (void)
{
  static const struct {
    const char          *json;
    IovRelayMessageType  type;     /* what the reader knew when it stopped */
    const char          *member;   /* named in the error, quoted; NULL: no member */
  } cases[] = {
    /* not a message at all */
    { "", IOV_RELAY_MESSAGE_UNKNOWN, NULL },
    { "{\"type\":", IOV_RELAY_MESSAGE_UNKNOWN, NULL },
    { "[{\"type\": \"hello\"}]", IOV_RELAY_MESSAGE_UNKNOWN, NULL },
    { "{\"type\": 1}", IOV_RELAY_MESSAGE_UNKNOWN, "type" },
    { "{\"v\": 1}", IOV_RELAY_MESSAGE_UNKNOWN, "type" },
    { "{\"type\": \"ping\"}", IOV_RELAY_MESSAGE_UNKNOWN, "ping" },
    /* hello */
    { "{\"type\": \"hello\"}", IOV_RELAY_MESSAGE_HELLO, "version" },
    { "{\"type\": \"hello\", \"version\": \"1\"}", IOV_RELAY_MESSAGE_HELLO, "version" },
    { "{\"type\": \"hello\", \"version\": 1.0}", IOV_RELAY_MESSAGE_HELLO, "version" },
    { "{\"type\": \"hello\", \"version\": 1, \"relay\": \"r\", \"vm\": 5}", IOV_RELAY_MESSAGE_HELLO, "vm" },
    { "{\"type\": \"hello\", \"version\": 1, \"relay\": \"r\", \"vm\": \"a\", \"state\": \"s\", \"qemu\": null, "
      "\"trace\": 1}", IOV_RELAY_MESSAGE_HELLO, "trace" },
    { "{\"type\": \"hello\", \"version\": 1, \"relay\": \"r\", \"vm\": \"a\", \"state\": \"s\", \"qemu\": [], "
      "\"trace\": true}", IOV_RELAY_MESSAGE_HELLO, "qemu" },
    { "{\"type\": \"hello\", \"version\": 1, \"relay\": \"r\", \"vm\": \"a\", \"state\": \"s\", \"qemu\": null, "
      "\"trace\": true, \"queue_bytes\": 1, \"max_message_bytes\": 1, \"seq\": -1}", IOV_RELAY_MESSAGE_HELLO, "seq" },
    { "{\"v\": 2, \"type\": \"hello\", \"version\": 1, \"relay\": \"r\", \"vm\": \"a\", \"state\": \"s\", "
      "\"qemu\": null, \"trace\": true, \"queue_bytes\": 1, \"max_message_bytes\": 1, \"seq\": 0}",
      IOV_RELAY_MESSAGE_HELLO, NULL },
    /* snapshot */
    { "{\"type\": \"snapshot\", \"snapshot\": {}}", IOV_RELAY_MESSAGE_SNAPSHOT, "changes" },
    { "{\"type\": \"snapshot\", \"changes\": {}, \"snapshot\": {}}", IOV_RELAY_MESSAGE_SNAPSHOT, "changes" },
    { "{\"type\": \"snapshot\", \"changes\": []}", IOV_RELAY_MESSAGE_SNAPSHOT, "snapshot" },
    { "{\"type\": \"snapshot\", \"changes\": [], \"snapshot\": \"{}\"}", IOV_RELAY_MESSAGE_SNAPSHOT, "snapshot" },
    { "{\"type\": \"snapshot\", \"changes\": [3], \"snapshot\": {}}", IOV_RELAY_MESSAGE_SNAPSHOT, "changes[0]" },
    { "{\"type\": \"snapshot\", \"changes\": [{\"kind\": \"ranges\", \"device\": \"d\", \"ranges\": 1, "
      "\"message\": \"m\"}, {\"kind\": \"exploded\", \"device\": \"d\", \"ranges\": 1, \"message\": \"m\"}], "
      "\"snapshot\": {}}", IOV_RELAY_MESSAGE_SNAPSHOT, "changes[1].kind" },
    { "{\"type\": \"snapshot\", \"changes\": [{\"kind\": \"ranges\", \"device\": \"d\", \"ranges\": \"1\", "
      "\"message\": \"m\"}], \"snapshot\": {}}", IOV_RELAY_MESSAGE_SNAPSHOT, "changes[0].ranges" },
    { "{\"type\": \"snapshot\", \"changes\": [{\"kind\": \"ranges\", \"ranges\": 1, \"message\": \"m\"}], "
      "\"snapshot\": {}}", IOV_RELAY_MESSAGE_SNAPSHOT, "changes[0].device" },
    /* events */
    { "{\"type\": \"events\", \"source_dropped_lines\": 0, \"events\": []}", IOV_RELAY_MESSAGE_EVENTS, "seq" },
    { "{\"type\": \"events\", \"seq\": -3, \"source_dropped_lines\": 0, \"events\": []}",
      IOV_RELAY_MESSAGE_EVENTS, "seq" },
    { "{\"type\": \"events\", \"seq\": 1, \"source_dropped_lines\": null, \"events\": []}",
      IOV_RELAY_MESSAGE_EVENTS, "source_dropped_lines" },
    { "{\"type\": \"events\", \"seq\": 1, \"source_dropped_lines\": 0, \"events\": {}}",
      IOV_RELAY_MESSAGE_EVENTS, "events" },
    /* drops, stats */
    { "{\"type\": \"drops\", \"dropped_messages\": 0, \"dropped_events\": 0, \"source_dropped_lines\": 0, "
      "\"sent_messages\": 0, \"queued_bytes\": 0}", IOV_RELAY_MESSAGE_DROPS, "invalid_messages" },
    { "{\"type\": \"stats\", \"dropped_messages\": true}", IOV_RELAY_MESSAGE_STATS, "dropped_messages" },
    { "{\"v\": \"1\", \"type\": \"stats\"}", IOV_RELAY_MESSAGE_STATS, NULL },
    /* state, pong, error */
    { "{\"type\": \"state\", \"state\": \"connected\", \"session\": \"live\"}", IOV_RELAY_MESSAGE_STATE, "qemu" },
    { "{\"type\": \"state\", \"state\": \"connected\", \"session\": 0, \"qemu\": null}",
      IOV_RELAY_MESSAGE_STATE, "session" },
    { "{\"type\": \"state\", \"state\": \"c\", \"session\": \"s\", \"qemu\": null, \"error\": null}",
      IOV_RELAY_MESSAGE_STATE, "error" },
    { "{\"type\": \"pong\", \"id\": \"1\", \"time_ns\": 0}", IOV_RELAY_MESSAGE_PONG, "id" },
    { "{\"type\": \"pong\", \"id\": 1}", IOV_RELAY_MESSAGE_PONG, "time_ns" },
    { "{\"type\": \"error\"}", IOV_RELAY_MESSAGE_ERROR, "error" },
    { "{\"type\": \"error\", \"error\": {\"why\": 1}}", IOV_RELAY_MESSAGE_ERROR, "error" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(IovRelayMessage) message = { 0 };
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", cases[i].json);
      g_assert_false (iov_relay_parse_message (cases[i].json, strlen (cases[i].json), &message, &error));
      g_assert_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE);
      g_test_message ("→ %s", error->message);
      g_assert_cmpint (message.type, ==, cases[i].type);
      g_assert_null (message.root);
      if (cases[i].type != IOV_RELAY_MESSAGE_UNKNOWN)
        {
          /* which message kind … */
          g_autofree char *kind = g_strdup_printf ("“%s”", iov_relay_message_type_to_string (cases[i].type));

          g_assert_nonnull (strstr (error->message, kind));
        }
      if (cases[i].member != NULL)
        {
          /* … and which member */
          g_autofree char *member = g_strdup_printf ("“%s”", cases[i].member);

          g_assert_nonnull (strstr (error->message, member));
        }
    }

  /* not NUL-terminated, and invalid UTF-8 */
  {
    static const char pong[] = "{\"type\":\"pong\",\"id\":1,\"time_ns\":2}garbage";
    g_auto(IovRelayMessage) message = { 0 };
    g_autoptr(GError) error = NULL;

    g_assert_true (iov_relay_parse_message (pong, strlen (pong) - 7, &message, NULL));
    iov_relay_message_clear (&message);
    g_assert_false (iov_relay_parse_message ("{\"type\":\"\xff\"}", 12, &message, &error));
    g_assert_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/relay/protocol/writers-exact", test_writers_exact);
  g_test_add_func ("/relay/protocol/round-trip/hello", test_round_trip_hello);
  g_test_add_func ("/relay/protocol/round-trip/snapshot", test_round_trip_snapshot);
  g_test_add_func ("/relay/protocol/round-trip/events", test_round_trip_events);
  g_test_add_func ("/relay/protocol/round-trip/drops-stats", test_round_trip_counters);
  g_test_add_func ("/relay/protocol/round-trip/state-pong-error", test_round_trip_small);
  g_test_add_func ("/relay/protocol/round-trip/client", test_round_trip_client);
  g_test_add_func ("/relay/protocol/bad-input", test_bad_input);
  return g_test_run ();
}
