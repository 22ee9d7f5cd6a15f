/* test-relay-client.c — the relay's protocol helpers and its client library
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

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "iov-relay-client.h"
#include "iov-relay-protocol.h"

/* ---- protocol ------------------------------------------------------------ */

static void
test_token (void)
{
  g_assert_true (iov_relay_token_equal ("0123456789abcdef", "0123456789abcdef"));
  g_assert_false (iov_relay_token_equal ("0123456789abcde", "0123456789abcdef"));
  g_assert_false (iov_relay_token_equal ("0123456789abcdef0", "0123456789abcdef"));
  g_assert_false (iov_relay_token_equal ("1123456789abcdef", "0123456789abcdef"));
  g_assert_false (iov_relay_token_equal ("0123456789abcdeF", "0123456789abcdef"));
  g_assert_false (iov_relay_token_equal ("", "0123456789abcdef"));
  g_assert_false (iov_relay_token_equal (NULL, "0123456789abcdef"));
  g_assert_false (iov_relay_token_equal ("", ""));
}

static void
test_parse (void)
{
  static const struct {
    const char *text;
    gboolean    ok;
    int         type;
    gint64      id;
  } cases[] = {
    { "{\"type\": \"ping\", \"id\": 42}", TRUE, IOV_RELAY_CLIENT_PING, 42 },
    { "{\"v\": 1, \"type\": \"snapshot\"}", TRUE, IOV_RELAY_CLIENT_SNAPSHOT, 0 },
    { "{\"type\": \"stats\", \"extra\": [1, 2]}", TRUE, IOV_RELAY_CLIENT_STATS, 0 },
    { "{\"type\": \"ping\", \"v\": 2}", FALSE, 0, 0 },
    { "{\"type\": \"ping\", \"v\": \"1\"}", FALSE, 0, 0 },
    { "{\"type\": \"ping\", \"id\": \"x\"}", FALSE, 0, 0 },
    { "{\"type\": \"ping\", \"id\": 1.5}", FALSE, 0, 0 },
    { "{\"type\": \"quit\"}", FALSE, 0, 0 },
    { "{\"type\": 3}", FALSE, 0, 0 },
    { "{}", FALSE, 0, 0 },
    { "[\"ping\"]", FALSE, 0, 0 },
    { "\"ping\"", FALSE, 0, 0 },
    { "{this is not json", FALSE, 0, 0 },
    { "", FALSE, 0, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      IovRelayClientMessage msg;
      gboolean ok = iov_relay_parse_client_message (cases[i].text, strlen (cases[i].text), &msg, &error);

      g_test_message ("%s", cases[i].text);
      g_assert_cmpint (ok, ==, cases[i].ok);
      if (ok)
        {
          g_assert_no_error (error);
          g_assert_cmpint (msg.type, ==, cases[i].type);
          g_assert_cmpint (msg.id, ==, cases[i].id);
        }
      else
        g_assert_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE);
    }

  {
    /* not NUL-terminated, invalid UTF-8, too long */
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autofree char *big = g_strnfill (IOV_RELAY_MAX_CLIENT_MESSAGE + 1, ' ');
    IovRelayClientMessage msg;
    const char ping[] = "{\"type\":\"ping\"}garbage";

    g_assert_true (iov_relay_parse_client_message (ping, 15, &msg, NULL));
    g_assert_false (iov_relay_parse_client_message ("{\"type\":\"\xff\"}", 12, &msg, &e1));
    g_assert_error (e1, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE);
    g_assert_false (iov_relay_parse_client_message (big, strlen (big), &msg, &e2));
    g_assert_error (e2, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE);
  }
}

static void
test_json_string (void)
{
  static const char input[] = "a\"b\\c\n\t\x01 \xc3\xa9 \xff end";
  g_autoptr(GString) out = g_string_new ("[");
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *array;

  iov_json_append_string (out, input, sizeof input - 1);
  g_string_append_c (out, ']');
  g_assert_true (g_utf8_validate (out->str, out->len, NULL));
  g_assert_true (json_parser_load_from_data (parser, out->str, out->len, &error));
  g_assert_no_error (error);
  array = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpstr (json_array_get_string_element (array, 0), ==, "a\"b\\c\n\t\x01 \xc3\xa9 \xef\xbf\xbd end");
}

static void
test_url (void)
{
  static const char *bad[] = {
    "http://127.0.0.1:7878", "http://127.0.0.1:7878/", "http://127.0.0.1:7878/a/b",
    "http://127.0.0.1:7878/vm1?x=1", "ftp://127.0.0.1/vm1", "unix:/tmp/x", "http://u:p@127.0.0.1:1/vm",
  };
  g_autoptr(IovRelayClient) client = NULL;
  g_autoptr(IovRelayClient) v6 = NULL;
  g_autoptr(GError) error = NULL;

  client = iov_relay_client_new ("https://127.0.0.1:7878/vm1", "t", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (iov_relay_client_get_base_url (client), ==, "https://127.0.0.1:7878");
  g_assert_cmpstr (iov_relay_client_get_vm (client), ==, "vm1");
  v6 = iov_relay_client_new ("http://[::1]:7878/vm-2", "t", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (iov_relay_client_get_base_url (v6), ==, "http://[::1]:7878");
  g_assert_cmpstr (iov_relay_client_get_vm (v6), ==, "vm-2");
  g_assert_true (iov_relay_is_url ("HTTP://x/y"));
  g_assert_false (iov_relay_is_url ("unix:/x"));

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) e = NULL;
      g_autoptr(IovRelayClient) c = iov_relay_client_new (bad[i], "t", &e);

      g_test_message ("%s", bad[i]);
      g_assert_null (c);
      g_assert_error (e, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_URL);
    }
}

/* ---- against a real relay ------------------------------------------------ */

typedef struct
{
  char        *tmp;
  GSubprocess *relay;
  char        *url;
  char        *token;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  const char *cli = g_getenv ("IOVISTA_CLI");
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  g_autofree char *token_file = NULL;
  g_autofree char *vm = NULL;

  if (cli == NULL)
    {
      g_test_skip ("IOVISTA_CLI is not set");
      return;
    }
  f->tmp = g_dir_make_tmp ("iovista-relay-client-XXXXXX", &error);
  g_assert_no_error (error);
  token_file = g_build_filename (f->tmp, "token", NULL);
  vm = g_strdup_printf ("vm1,qmp=unix:%s/absent.qmp", f->tmp);
  f->relay = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                               cli, "relay", "--listen", "127.0.0.1:0", "--token-file", token_file,
                               "--vm", vm, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->relay));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (line, "listening on http://127.0.0.1:"));
  f->url = g_strdup (line + strlen ("listening on "));
  g_assert_true (g_file_get_contents (token_file, &f->token, NULL, &error));
  g_strstrip (f->token);
  g_unlink (token_file);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  if (f->relay)
    {
      g_subprocess_send_signal (f->relay, SIGTERM);
      g_assert_true (g_subprocess_wait (f->relay, NULL, NULL));
      g_assert_true (g_subprocess_get_if_exited (f->relay));
      g_assert_cmpint (g_subprocess_get_exit_status (f->relay), ==, 0);
    }
  g_clear_object (&f->relay);
  if (f->tmp)
    g_rmdir (f->tmp);
  g_free (f->tmp);
  g_free (f->url);
  g_free (f->token);
}

static void
result_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static IovRelayClient *
client_for (Fixture    *f,
            const char *vm,
            const char *token)
{
  g_autofree char *url = g_strdup_printf ("%s/%s", f->url, vm);
  g_autoptr(GError) error = NULL;
  IovRelayClient *client = iov_relay_client_new (url, token, &error);

  g_assert_no_error (error);
  return client;
}

static void
test_live_list (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(IovRelayClient) client = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *vm;

  if (f->relay == NULL)
    return;
  client = client_for (f, "vm1", f->token);
  iov_relay_client_list_vms_async (client, NULL, result_cb, &result);
  root = iov_relay_client_list_vms_finish (client, wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (root), "v"), ==, 1);
  vm = json_array_get_object_element (json_object_get_array_member (json_node_get_object (root), "vms"), 0);
  g_assert_cmpstr (json_object_get_string_member (vm, "name"), ==, "vm1");
  g_assert_cmpstr (json_object_get_string_member (vm, "state"), !=, "connected");
}

static void
test_live_errors (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(IovRelayClient) good = NULL;
  g_autoptr(IovRelayClient) wrong = NULL;
  g_autoptr(IovRelayClient) missing = NULL;
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  g_autoptr(GAsyncResult) r3 = NULL;
  g_autoptr(GError) e1 = NULL;
  g_autoptr(GError) e2 = NULL;
  g_autoptr(GError) e3 = NULL;
  g_autofree char *s1 = NULL;
  g_autofree char *s2 = NULL;
  g_autofree char *s3 = NULL;

  if (f->relay == NULL)
    return;
  good = client_for (f, "vm1", f->token);
  wrong = client_for (f, "vm1", "not-the-token");
  missing = client_for (f, "vm9", f->token);
  iov_relay_client_get_snapshot_async (good, FALSE, TRUE, NULL, result_cb, &r1);
  iov_relay_client_get_snapshot_async (wrong, FALSE, TRUE, NULL, result_cb, &r2);
  iov_relay_client_get_snapshot_async (missing, FALSE, TRUE, NULL, result_cb, &r3);
  s1 = iov_relay_client_get_snapshot_finish (good, wait_result (&r1), &e1);
  s2 = iov_relay_client_get_snapshot_finish (wrong, wait_result (&r2), &e2);
  s3 = iov_relay_client_get_snapshot_finish (missing, wait_result (&r3), &e3);
  g_assert_error (e1, IOV_RELAY_ERROR, IOV_RELAY_ERROR_UNAVAILABLE);  /* no QEMU behind it */
  g_assert_nonnull (strstr (e1->message, "not connected"));
  g_assert_error (e2, IOV_RELAY_ERROR, IOV_RELAY_ERROR_UNAUTHORIZED);
  g_assert_error (e3, IOV_RELAY_ERROR, IOV_RELAY_ERROR_NOT_FOUND);
  g_assert_null (s1);
  g_assert_null (s2);
  g_assert_null (s3);
}

static void
on_message (SoupWebsocketConnection *conn,
            gint                     type,
            GBytes                  *message,
            gpointer                 user_data)
{
  char **first = user_data;

  if (*first == NULL)
    *first = g_strndup (g_bytes_get_data (message, NULL), g_bytes_get_size (message));
}

static void
test_live_events (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(IovRelayClient) client = NULL;
  g_autoptr(IovRelayClient) wrong = NULL;
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) e2 = NULL;
  g_autoptr(GObject) conn = NULL;
  g_autoptr(GObject) refused = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *first = NULL;
  JsonObject *hello;

  if (f->relay == NULL)
    return;
  client = client_for (f, "vm1", f->token);
  iov_relay_client_connect_events_async (client, NULL, result_cb, &r1);
  conn = iov_relay_client_connect_events_finish (client, wait_result (&r1), &error);
  g_assert_no_error (error);
  g_assert_true (SOUP_IS_WEBSOCKET_CONNECTION (conn));
  g_signal_connect (conn, "message", G_CALLBACK (on_message), &first);
  while (first == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (json_parser_load_from_data (parser, first, -1, &error));
  hello = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (hello, "type"), ==, "hello");
  g_assert_cmpint (json_object_get_int_member (hello, "version"), ==, IOV_RELAY_PROTOCOL_VERSION);
  g_assert_cmpstr (json_object_get_string_member (hello, "vm"), ==, "vm1");
  soup_websocket_connection_close (SOUP_WEBSOCKET_CONNECTION (conn), SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  while (soup_websocket_connection_get_state (SOUP_WEBSOCKET_CONNECTION (conn)) != SOUP_WEBSOCKET_STATE_CLOSED)
    g_main_context_iteration (NULL, TRUE);

  wrong = client_for (f, "vm1", "not-the-token");
  iov_relay_client_connect_events_async (wrong, NULL, result_cb, &r2);
  refused = iov_relay_client_connect_events_finish (wrong, wait_result (&r2), &e2);
  g_assert_null (refused);
  g_assert_error (e2, IOV_RELAY_ERROR, IOV_RELAY_ERROR_UNAUTHORIZED);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/relay/protocol/token", test_token);
  g_test_add_func ("/relay/protocol/parse", test_parse);
  g_test_add_func ("/relay/protocol/json-string", test_json_string);
  g_test_add_func ("/relay/client/url", test_url);
  g_test_add ("/relay/client/list", Fixture, NULL, fixture_set_up, test_live_list, fixture_tear_down);
  g_test_add ("/relay/client/errors", Fixture, NULL, fixture_set_up, test_live_errors, fixture_tear_down);
  g_test_add ("/relay/client/events", Fixture, NULL, fixture_set_up, test_live_events, fixture_tear_down);

  return g_test_run ();
}
