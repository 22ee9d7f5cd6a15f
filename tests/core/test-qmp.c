/* test-qmp.c
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

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "iov-qmp-client.h"

/* A fake QMP server runs a script in a thread on one end of a socketpair
 * (blocking I/O, real QEMU bytes from tests/data/qmp), the client under
 * test runs on the main loop on the other end. */

typedef struct _Fixture Fixture;
typedef void (*ServerScript) (Fixture *f, int fd);

struct _Fixture
{
  int            server_fd;
  GThread       *thread;
  ServerScript   script;
  IovQmpClient  *client;
  GPtrArray     *received;   /* every line the server read: char * */
  GMutex         lock;
  GPtrArray     *log;        /* what the client saw, in order */
  gboolean       done;
  char          *greeting;
};

static char *
data_file (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "qmp", name, NULL);
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

/* ---- server side (thread) ---- */

static void
srv_write (int         fd,
           const char *data,
           gsize       len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return; /* client went away */
      data += n;
      len -= n;
    }
}

static void
srv_puts (int         fd,
          const char *text)
{
  srv_write (fd, text, strlen (text));
}

static char *
srv_read_line (Fixture *f,
               int      fd)
{
  GString *s = g_string_new (NULL);
  char c;

  for (;;)
    {
      ssize_t n = read (fd, &c, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_string_free (s, TRUE);
          return NULL;
        }
      if (c == '\n')
        break;
      g_string_append_c (s, c);
    }
  g_mutex_lock (&f->lock);
  g_ptr_array_add (f->received, g_strdup (s->str));
  g_mutex_unlock (&f->lock);
  return g_string_free (s, FALSE);
}

/* Reads one command and returns its id and name. */
static gint64
srv_read_command (Fixture  *f,
                  int       fd,
                  char    **name)
{
  g_autofree char *line = srv_read_line (f, fd);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *obj;

  g_assert_nonnull (line);
  g_assert_true (g_str_has_suffix (line, "\r"));
  g_assert_true (json_parser_load_from_data (parser, line, -1, NULL));
  obj = json_node_get_object (json_parser_get_root (parser));
  if (name)
    *name = g_strdup (json_object_get_string_member (obj, "execute"));
  return json_object_get_int_member (obj, "id");
}

static void
srv_reply (int         fd,
           gint64      id,
           const char *value)
{
  g_autofree char *line = g_strdup_printf ("{\"return\": %s, \"id\": %" G_GINT64_FORMAT "}\r\n", value, id);
  srv_puts (fd, line);
}

/* greeting + qmp_capabilities, as QEMU 7.2 does */
static void
srv_handshake (Fixture *f,
               int      fd)
{
  g_autofree char *name = NULL;
  gint64 id;

  srv_puts (fd, f->greeting);
  id = srv_read_command (f, fd, &name);
  g_assert_cmpstr (name, ==, "qmp_capabilities");
  srv_reply (fd, id, "{}");
}

static gpointer
server_thread (gpointer data)
{
  Fixture *f = data;

  f->script (f, f->server_fd);
  shutdown (f->server_fd, SHUT_RDWR);
  close (f->server_fd);
  return NULL;
}

/* ---- client side ---- */

static void
on_event (IovQmpClient *client,
          const char   *name,
          JsonNode     *data,
          gint64        timestamp_us,
          Fixture      *f)
{
  g_ptr_array_add (f->log, g_strdup_printf ("event %s %" G_GINT64_FORMAT, name, timestamp_us));
}

static void
on_disconnected (IovQmpClient *client,
                 GError       *error,
                 Fixture      *f)
{
  g_ptr_array_add (f->log, g_strdup_printf ("disconnected %s", error->message));
}

static void
fixture_start (Fixture      *f,
               ServerScript  script)
{
  int fds[2];
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), ==, 0);
  socket = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  connection = g_socket_connection_factory_create_connection (socket);

  f->server_fd = fds[1];
  f->script = script;
  f->received = g_ptr_array_new_with_free_func (g_free);
  f->log = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&f->lock);
  f->greeting = data_file ("greeting.jsonl");
  f->client = iov_qmp_client_new_for_stream (G_IO_STREAM (connection));
  g_signal_connect (f->client, "event", G_CALLBACK (on_event), f);
  g_signal_connect (f->client, "disconnected", G_CALLBACK (on_disconnected), f);
  f->thread = g_thread_new ("fake-qmp", server_thread, f);
}

static void
fixture_join (Fixture *f)
{
  g_clear_object (&f->client);
  g_thread_join (f->thread);
  f->thread = NULL;
}

static void
fixture_stop (Fixture *f)
{
  if (f->thread)
    fixture_join (f);
  g_ptr_array_unref (f->received);
  g_ptr_array_unref (f->log);
  g_mutex_clear (&f->lock);
  g_free (f->greeting);
}

static void
set_result (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (*slot == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  return *slot;
}

static gboolean
connect_sync (Fixture  *f,
              GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  iov_qmp_client_connect_async (f->client, NULL, set_result, &result);
  return iov_qmp_client_connect_finish (f->client, wait_for (&result), error);
}

static JsonNode *
execute_sync (Fixture     *f,
              const char  *command,
              JsonNode    *args,
              GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  JsonNode *reply;

  iov_qmp_client_execute_async (f->client, command, args, NULL, set_result, &result);
  reply = iov_qmp_client_execute_finish (f->client, wait_for (&result), error);
  g_ptr_array_add (f->log, g_strdup_printf ("reply %s", command));
  return reply;
}

static JsonNode *
hmp_args (const char *line)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "command-line");
  json_builder_add_string_value (b, line);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ---- tests ---- */

static void
script_greeting (Fixture *f,
                 int      fd)
{
  g_autofree char *pci = data_file ("query-pci.jsonl");
  g_autofree char *name = NULL;
  gint64 id;

  srv_handshake (f, fd);
  id = srv_read_command (f, fd, &name);
  g_assert_cmpstr (name, ==, "query-pci");
  /* the captured reply, with the id put back the way QEMU places it */
  g_strchomp (pci);
  g_assert_true (g_str_has_suffix (pci, "}"));
  pci[strlen (pci) - 1] = '\0';
  {
    g_autofree char *line = g_strdup_printf ("%s, \"id\": %" G_GINT64_FORMAT "}\r\n", pci, id);
    srv_puts (fd, line);
  }
  g_free (srv_read_line (f, fd)); /* wait for the client to close */
}

static void
test_greeting (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = NULL;
  guint major, minor, micro;

  fixture_start (&f, script_greeting);
  g_assert_cmpint (iov_qmp_client_get_state (f.client), ==, IOV_QMP_STATE_DISCONNECTED);
  g_assert_true (connect_sync (&f, &error));
  g_assert_no_error (error);
  g_assert_cmpint (iov_qmp_client_get_state (f.client), ==, IOV_QMP_STATE_CONNECTED);
  g_assert_cmpstr (iov_qmp_client_get_version (f.client), ==, "7.2.22");
  g_assert_cmpstr (iov_qmp_client_get_package (f.client), ==, "Debian 1:7.2+dfsg-7+deb12u18+b3");
  iov_qmp_client_get_version_numbers (f.client, &major, &minor, &micro);
  g_assert_cmpuint (major * 10000 + minor * 100 + micro, ==, 70222);
  g_assert_true (iov_qmp_client_version_at_least (f.client, 7, 2, 5));
  g_assert_false (iov_qmp_client_version_at_least (f.client, 8, 1, 0));

  reply = execute_sync (&f, "query-pci", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (reply));
  g_assert_cmpuint (json_array_get_length (json_node_get_array (reply)), ==, 1);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_array_get_object_element (json_node_get_array (reply), 0), "devices")), ==, 6);

  iov_qmp_client_close (f.client);
  fixture_stop (&f);
}

static void
script_partial (Fixture *f,
                int      fd)
{
  g_autofree char *name = NULL;
  g_autofree char *reply = NULL;
  gint64 id;

  /* the greeting one byte at a time, the reply in 3-byte pieces */
  for (const char *p = f->greeting; *p; p++)
    {
      srv_write (fd, p, 1);
      if ((p - f->greeting) % 16 == 0)
        g_usleep (200);
    }
  id = srv_read_command (f, fd, NULL);
  srv_reply (fd, id, "{}");
  id = srv_read_command (f, fd, &name);
  reply = g_strdup_printf ("{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}, \"id\": %" G_GINT64_FORMAT "}\r\n", id);
  for (gsize i = 0; i < strlen (reply); i += 3)
    {
      srv_write (fd, reply + i, MIN (3, strlen (reply) - i));
      g_usleep (300);
    }
  g_free (srv_read_line (f, fd));
}

static void
test_partial_lines (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = NULL;

  fixture_start (&f, script_partial);
  g_assert_true (connect_sync (&f, &error));
  reply = execute_sync (&f, "query-status", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (reply), "status"), ==, "running");
  iov_qmp_client_close (f.client);
  fixture_stop (&f);
}

static char *
big_text (void)
{
  GString *s = g_string_new (NULL);

  /* 300 KB of HMP text with CRLFs, as info mtree returns it */
  for (guint i = 0; s->len < 300 * 1024; i++)
    g_string_append_printf (s, "  %016x-%016x (prio 0, i/o): region-%u\r\n", i * 0x1000, i * 0x1000 + 0xfff, i);
  return g_string_free (s, FALSE);
}

static void
script_big (Fixture *f,
            int      fd)
{
  g_autofree char *text = big_text ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_VALUE);
  g_autofree char *escaped = NULL;
  gint64 id;

  srv_handshake (f, fd);
  id = srv_read_command (f, fd, NULL);
  json_node_set_string (node, text);
  escaped = json_to_string (node, FALSE);
  g_assert_cmpuint (strlen (escaped), >, 300 * 1024);
  srv_reply (fd, id, escaped);
  g_free (srv_read_line (f, fd));
}

static void
test_big_reply (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(JsonNode) args = hmp_args ("info mtree -f");
  g_autofree char *expected = big_text ();

  fixture_start (&f, script_big);
  g_assert_true (connect_sync (&f, &error));
  reply = execute_sync (&f, "human-monitor-command", args, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (json_node_get_string (reply)), ==, strlen (expected));
  g_assert_cmpstr (json_node_get_string (reply), ==, expected);
  iov_qmp_client_close (f.client);
  fixture_stop (&f);
}

static void
script_events (Fixture *f,
               int      fd)
{
  g_autofree char *stop = data_file ("stop.jsonl");
  g_auto(GStrv) lines = g_strsplit (stop, "\n", -1);
  g_autofree char *name = NULL;
  gint64 id;

  srv_handshake (f, fd);
  id = srv_read_command (f, fd, &name);
  /* the captured STOP event arrives before the reply */
  srv_puts (fd, lines[0]);
  srv_puts (fd, "\n");
  srv_reply (fd, id, "{}");
  g_free (srv_read_line (f, fd));
}

static void
test_events_before_reply (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = NULL;

  fixture_start (&f, script_events);
  g_assert_true (connect_sync (&f, &error));
  /* query-status stands in for the "stop" of the capture: Iovista never sends stop */
  reply = execute_sync (&f, "query-status", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f.log->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (f.log, 0), ==, "event STOP 1795459658479025");
  g_assert_cmpstr (g_ptr_array_index (f.log, 1), ==, "reply query-status");
  iov_qmp_client_close (f.client);
  fixture_stop (&f);
}

static void
script_errors (Fixture *f,
               int      fd)
{
  g_autofree char *nf = data_file ("error-command-not-found.jsonl");
  g_autofree char *parse = data_file ("error-json-parse.jsonl");
  g_autofree char *fixed = NULL;
  gint64 id;

  srv_handshake (f, fd);
  /* 1: GenericError with id last */
  id = srv_read_command (f, fd, NULL);
  {
    g_autofree char *line = g_strdup_printf ("{\"error\": {\"class\": \"GenericError\", \"desc\": \"Property 'mch.netdev' not found\"}, \"id\": %" G_GINT64_FORMAT "}\r\n", id);
    srv_puts (fd, line);
  }
  /* 2: CommandNotFound with id first, as captured (id 42 replaced) */
  id = srv_read_command (f, fd, NULL);
  {
    g_autofree char *idstr = g_strdup_printf ("\"id\": %" G_GINT64_FORMAT ",", id);
    GString *s = g_string_new (nf);
    g_string_replace (s, "\"id\": 42,", idstr, 1);
    fixed = g_string_free (s, FALSE);
    srv_puts (fd, fixed);
  }
  /* 3: an error without id refers to the oldest command in flight */
  srv_read_command (f, fd, NULL);
  srv_puts (fd, parse);
  g_free (srv_read_line (f, fd));
}

static void
test_error_replies (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  JsonNode *reply;

  fixture_start (&f, script_errors);
  g_assert_true (connect_sync (&f, &error));

  reply = execute_sync (&f, "qom-get", NULL, &error);
  g_assert_null (reply);
  g_assert_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_GENERIC_ERROR);
  g_assert_cmpstr (error->message, ==, "GenericError: Property 'mch.netdev' not found");
  g_clear_error (&error);

  reply = execute_sync (&f, "query-no-such-command", NULL, &error);
  g_assert_null (reply);
  g_assert_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_COMMAND_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "CommandNotFound: The command no-such-command has not been found");
  g_clear_error (&error);

  reply = execute_sync (&f, "query-status", NULL, &error);
  g_assert_null (reply);
  g_assert_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_GENERIC_ERROR);
  g_assert_true (strstr (error->message, "JSON parse error") != NULL);

  iov_qmp_client_close (f.client);
  fixture_stop (&f);
}

static void
script_garbage (Fixture *f,
                int      fd)
{
  gint64 id;

  srv_handshake (f, fd);
  id = srv_read_command (f, fd, NULL);
  srv_puts (fd, "this is not json\r\n[1, 2, 3]\r\n{\"neither\": \"reply nor event\"}\r\n{\"return\": {}, \"id\": 999999}\r\n\r\n");
  srv_reply (fd, id, "{\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \"package\": \"x\"}");
  g_free (srv_read_line (f, fd));
}

static void
test_garbage (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = NULL;

  fixture_start (&f, script_garbage);
  g_assert_true (connect_sync (&f, &error));
  reply = execute_sync (&f, "query-version", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (reply), "package"), ==, "x");
  g_assert_cmpuint (iov_qmp_client_get_n_garbage (f.client), ==, 4);
  g_assert_cmpint (iov_qmp_client_get_state (f.client), ==, IOV_QMP_STATE_CONNECTED);
  iov_qmp_client_close (f.client);
  fixture_stop (&f);
}

static void
script_not_qmp (Fixture *f,
                int      fd)
{
  srv_puts (fd, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
  g_free (srv_read_line (f, fd));
}

static void
test_not_qmp (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;

  fixture_start (&f, script_not_qmp);
  g_assert_false (connect_sync (&f, &error));
  g_assert_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_QMP);
  g_assert_true (strstr (error->message, "is not a QMP socket") != NULL);
  g_assert_true (strstr (error->message, "SSH-2.0") != NULL);
  g_assert_cmpint (iov_qmp_client_get_state (f.client), ==, IOV_QMP_STATE_DISCONNECTED);
  fixture_stop (&f);
}

static void
script_eof_mid_reply (Fixture *f,
                      int      fd)
{
  srv_handshake (f, fd);
  srv_read_command (f, fd, NULL);
  srv_puts (fd, "{\"return\": [{\"bus\": 0, \"devices\": [{\"irq_pin\": 0,");
  /* returning closes the socket: an assertion abort in QEMU looks like this */
}

static void
test_eof_mid_reply (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  JsonNode *reply;

  fixture_start (&f, script_eof_mid_reply);
  g_assert_true (connect_sync (&f, &error));
  reply = execute_sync (&f, "query-pci", NULL, &error);
  g_assert_null (reply);
  g_assert_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_CLOSED);
  g_assert_true (strstr (error->message, "while running “query-pci”") != NULL);
  g_assert_cmpint (iov_qmp_client_get_state (f.client), ==, IOV_QMP_STATE_DISCONNECTED);
  g_assert_cmpuint (f.log->len, ==, 2);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (f.log, 0), "disconnected QEMU at stream closed the connection"));
  g_clear_error (&error);

  reply = execute_sync (&f, "query-pci", NULL, &error);
  g_assert_null (reply);
  g_assert_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_CONNECTED);
  fixture_stop (&f);
}

/* A peer that answers slowly but steadily is waited for; one that stops
 * answering (events and garbage are not answers) is given up, naming the
 * command it left unanswered. */
static void
script_stall (Fixture *f,
              int      fd)
{
  gint64 ids[4];

  srv_handshake (f, fd);
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    ids[i] = srv_read_command (f, fd, NULL);
  /* 4 × 200 ms: longer than the timeout in all, never between two replies */
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_usleep (200 * 1000);
      srv_reply (fd, ids[i], "{}");
    }
  srv_read_command (f, fd, NULL);
  for (guint i = 0; i < 10; i++)
    {
      srv_puts (fd, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"RESUME\"}\r\nnot json\r\n");
      g_usleep (100 * 1000);
    }
  srv_puts (fd, "{\"return\": [{\"bus\": 0, \"devices\": [{\"irq_pin\": 0,");
  /* then nothing: wait for the client to hang up */
  g_free (srv_read_line (f, fd));
}

static void
test_reply_timeout (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  GAsyncResult *results[4] = { NULL };
  g_autoptr(JsonNode) reply = NULL;
  gint64 t0;
  double took;

  fixture_start (&f, script_stall);
  g_assert_true (connect_sync (&f, &error));
  iov_qmp_client_set_reply_timeout (f.client, 300);
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    iov_qmp_client_execute_async (f.client, "query-status", NULL, NULL, set_result, &results[i]);
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      g_autoptr(JsonNode) r = iov_qmp_client_execute_finish (f.client, wait_for (&results[i]), &error);

      g_assert_no_error (error);
      g_assert_nonnull (r);
      g_clear_object (&results[i]);
    }

  t0 = g_get_monotonic_time ();
  reply = execute_sync (&f, "query-pci", NULL, &error);
  took = (g_get_monotonic_time () - t0) / 1e6;
  g_test_message ("gave up after %.3f s: %s", took, error ? error->message : "(no error)");
  g_assert_null (reply);
  g_assert_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_TIMED_OUT);
  g_assert_true (iov_qmp_error_is_lost (error));
  g_assert_true (strstr (error->message, "did not answer “query-pci” within 1 s") != NULL);
  g_assert_true (strstr (error->message, "but sent what is not QMP (lines: ") != NULL);
  /* events and garbage came every 100 ms for 1 s: had they counted as
   * progress, the client would have waited 1.3 s */
  g_assert_cmpfloat (took, >=, 0.3);
  g_assert_cmpfloat (took, <, 1.0);
  g_assert_cmpint (iov_qmp_client_get_state (f.client), ==, IOV_QMP_STATE_DISCONNECTED);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (f.log, f.log->len - 2), "disconnected stream did not answer"));
  fixture_stop (&f);
}

static void
script_allow_list (Fixture *f,
                   int      fd)
{
  gint64 id;

  srv_handshake (f, fd);
  for (guint i = 0; i < 2; i++)
    {
      id = srv_read_command (f, fd, NULL);
      srv_reply (fd, id, "\"ok\"");
    }
  g_free (srv_read_line (f, fd));
}

static void
test_allow_list_client (void)
{
  static const char *refused[] = { "quit", "stop", "system_reset", "device_del", "qom-set", "cont", "migrate",
                                   "x-exit-preconfig", "human-monitor-command" };
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) ok1 = NULL;
  g_autoptr(JsonNode) ok2 = NULL;
  g_autoptr(JsonNode) mtree = hmp_args ("info mtree -f -o");
  g_autoptr(JsonNode) pci = hmp_args ("info  pci");

  fixture_start (&f, script_allow_list);
  g_assert_true (connect_sync (&f, &error));
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(JsonNode) args = hmp_args ("quit");
      JsonNode *reply = execute_sync (&f, refused[i], args, &error);

      g_assert_null (reply);
      g_assert_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_ALLOWED);
      g_clear_error (&error);
    }
  ok1 = execute_sync (&f, "human-monitor-command", mtree, &error);
  g_assert_no_error (error);
  ok2 = execute_sync (&f, "human-monitor-command", pci, &error);
  g_assert_no_error (error);
  iov_qmp_client_close (f.client);
  fixture_join (&f);

  /* the server saw the negotiation and the two allowed commands, nothing else */
  g_assert_cmpuint (f.received->len, ==, 3);
  g_assert_true (strstr (g_ptr_array_index (f.received, 0), "\"qmp_capabilities\"") != NULL);
  g_assert_true (strstr (g_ptr_array_index (f.received, 1), "\"info mtree -f -o\"") != NULL);
  g_assert_true (strstr (g_ptr_array_index (f.received, 2), "\"info  pci\"") != NULL);
  for (guint i = 0; i < f.received->len; i++)
    g_assert_null (strstr (g_ptr_array_index (f.received, i), "quit"));
  fixture_stop (&f);
}

static void
test_allow_list_table (void)
{
  static const struct { const char *command; const char *hmp; gboolean allowed; } cases[] = {
    { "qmp_capabilities", NULL, TRUE },
    { "query-pci", NULL, TRUE },
    { "query-version", NULL, TRUE },
    { "x-query-virtio", NULL, FALSE },     /* issue H: not needed, never proven */
    { "x-query-virtio-status", NULL, TRUE }, /* then the release's policy decides */
    { "qom-list", NULL, TRUE },
    { "qom-get", NULL, TRUE },
    { "device-list-properties", NULL, TRUE },
    { "trace-event-get-state", NULL, TRUE },
    { "trace-event-set-state", NULL, TRUE },
    { "human-monitor-command", "info mtree", TRUE },
    { "human-monitor-command", "info mtree -f", TRUE },
    { "human-monitor-command", "info mtree -f -o -d -D", TRUE },
    { "human-monitor-command", "info pci", TRUE },
    { "human-monitor-command", "info qtree", TRUE },
    { "human-monitor-command", "info network", TRUE },
    { "human-monitor-command", "info network n0", FALSE },
    { "human-monitor-command", "info mtree -f; quit", FALSE },
    { "human-monitor-command", "info mtree -x", FALSE },
    { "human-monitor-command", "info registers", FALSE },
    { "human-monitor-command", "info pci extra", FALSE },
    { "human-monitor-command", "quit", FALSE },
    { "human-monitor-command", "system_reset", FALSE },
    { "human-monitor-command", "", FALSE },
    { "human-monitor-command", NULL, FALSE },
    { "query-", NULL, FALSE },
    { "query-pci\"", NULL, FALSE },
    { "x-query-ramblock", NULL, FALSE },
    { "qom-set", NULL, FALSE },
    { "quit", NULL, FALSE },
    { "stop", NULL, FALSE },
    { "cont", NULL, FALSE },
    { "device_add", NULL, FALSE },
    { "", NULL, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) args = cases[i].hmp ? hmp_args (cases[i].hmp) : NULL;
      g_autoptr(GError) error = NULL;
      gboolean ok = iov_qmp_command_is_allowed (cases[i].command, args, &error);

      g_test_message ("%s %s", cases[i].command, cases[i].hmp ? cases[i].hmp : "");
      g_assert_cmpint (ok, ==, cases[i].allowed);
      if (!ok)
        g_assert_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_ALLOWED);
    }
}

static void
test_connect_refused (void)
{
  g_autofree char *dir = g_dir_make_tmp ("iov-qmp-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "missing.qmp", NULL);
  g_autofree char *address = g_strconcat ("unix:", path, NULL);
  g_autofree char *expected = g_strdup_printf ("cannot connect to %s: ", address);
  g_autofree char *hint = g_strdup_printf ("start QEMU with -qmp %s,server=on,wait=off", address);
  g_autoptr(IovQmpClient) client = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  client = iov_qmp_client_new (path, &error); /* a bare path */
  g_assert_no_error (error);
  g_assert_cmpstr (iov_qmp_client_get_address (client), ==, address);
  iov_qmp_client_connect_async (client, NULL, set_result, &result);
  g_assert_false (iov_qmp_client_connect_finish (client, wait_for (&result), &error));
  g_assert_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_CONNECT);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, expected));
  g_assert_true (g_str_has_suffix (error->message, hint));
  g_rmdir (dir);
}

static void
test_addresses (void)
{
  static const struct { const char *in; const char *display; } good[] = {
    { "unix:/run/x.qmp", "unix:/run/x.qmp" },
    { "/run/x.qmp", "unix:/run/x.qmp" },
    { "relative.qmp", "unix:relative.qmp" },
    { "tcp:localhost:4444", "tcp:localhost:4444" },
    { "tcp:[::1]:4444", "tcp:[::1]:4444" },
  };
  static const char *bad[] = { "tcp:localhost", "tcp:host:0", "tcp:host:99999", "tcp::4444", "unix:", "", "ftp:x" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *display = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocketConnectable) c = iov_qmp_parse_address (good[i].in, &display, &error);

      g_assert_no_error (error);
      g_assert_nonnull (c);
      g_assert_cmpstr (display, ==, good[i].display);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocketConnectable) c = iov_qmp_parse_address (bad[i], NULL, &error);

      g_assert_null (c);
      g_assert_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_BAD_ADDRESS);
    }
}

/* Reconnect: a listening server that greets, then drops the client; the
 * client comes back by itself. */
typedef struct
{
  int      listen_fd;
  guint    n_accepts;
  Fixture  f;
} ReconnectServer;

static gpointer
reconnect_server_thread (gpointer data)
{
  ReconnectServer *rs = data;

  for (guint i = 0; i < rs->n_accepts; i++)
    {
      int fd = accept (rs->listen_fd, NULL, NULL);

      g_assert_cmpint (fd, >=, 0);
      srv_handshake (&rs->f, fd);
      if (i + 1 < rs->n_accepts)
        g_usleep (50 * 1000);
      else
        g_free (srv_read_line (&rs->f, fd)); /* stay until the client closes */
      shutdown (fd, SHUT_RDWR);
      close (fd);
    }
  return NULL;
}

static void
on_connected (IovQmpClient *client,
              guint        *count)
{
  (*count)++;
}

static void
on_disconnected_count (IovQmpClient *client,
                       GError       *error,
                       guint        *count)
{
  g_assert_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_CLOSED);
  (*count)++;
}

static void
test_reconnect (void)
{
  g_autofree char *dir = g_dir_make_tmp ("iov-qmp-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "vm.qmp", NULL);
  g_autoptr(IovQmpClient) client = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  ReconnectServer rs = { 0 };
  GThread *thread;
  guint connected = 0, disconnected = 0;
  gint64 start, deadline;

  g_strlcpy (sun.sun_path, path, sizeof sun.sun_path);
  rs.listen_fd = socket (AF_UNIX, SOCK_STREAM, 0);
  g_assert_cmpint (bind (rs.listen_fd, (struct sockaddr *) &sun, sizeof sun), ==, 0);
  g_assert_cmpint (listen (rs.listen_fd, 4), ==, 0);
  rs.n_accepts = 3;
  rs.f.received = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&rs.f.lock);
  rs.f.greeting = data_file ("greeting.jsonl");
  thread = g_thread_new ("fake-qmp-listener", reconnect_server_thread, &rs);

  client = iov_qmp_client_new (path, &error);
  g_assert_no_error (error);
  g_signal_connect (client, "connected", G_CALLBACK (on_connected), &connected);
  g_signal_connect (client, "disconnected", G_CALLBACK (on_disconnected_count), &disconnected);
  iov_qmp_client_set_auto_reconnect (client, TRUE);
  start = g_get_monotonic_time ();
  iov_qmp_client_connect_async (client, NULL, set_result, &result);
  g_assert_true (iov_qmp_client_connect_finish (client, wait_for (&result), &error));

  deadline = start + 2 * G_USEC_PER_SEC;
  while (connected < 3 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (connected, ==, 3);
  g_assert_cmpuint (disconnected, ==, 2);
  g_assert_cmpint (iov_qmp_client_get_state (client), ==, IOV_QMP_STATE_CONNECTED);

  iov_qmp_client_close (client);
  g_thread_join (thread);
  close (rs.listen_fd);
  g_unlink (path);
  g_rmdir (dir);
  g_ptr_array_unref (rs.f.received);
  g_mutex_clear (&rs.f.lock);
  g_free (rs.f.greeting);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/qmp/client/greeting", test_greeting);
  g_test_add_func ("/qmp/client/partial-lines", test_partial_lines);
  g_test_add_func ("/qmp/client/300k-reply", test_big_reply);
  g_test_add_func ("/qmp/client/events-before-reply", test_events_before_reply);
  g_test_add_func ("/qmp/client/error-replies", test_error_replies);
  g_test_add_func ("/qmp/client/garbage", test_garbage);
  g_test_add_func ("/qmp/client/not-qmp", test_not_qmp);
  g_test_add_func ("/qmp/client/eof-mid-reply", test_eof_mid_reply);
  g_test_add_func ("/qmp/client/reply-timeout", test_reply_timeout);
  g_test_add_func ("/qmp/client/allow-list", test_allow_list_client);
  g_test_add_func ("/qmp/allow-list", test_allow_list_table);
  g_test_add_func ("/qmp/client/connect-refused", test_connect_refused);
  g_test_add_func ("/qmp/addresses", test_addresses);
  g_test_add_func ("/qmp/client/reconnect", test_reconnect);

  return g_test_run ();
}
