/* test-session.c
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
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "iov-session.h"

/* A fake QMP server (a thread on a listening unix socket, as in test-qmp.c)
 * answers what the snapshot collector asks with QEMU 7.2 data from
 * tests/data: query-pci of the intel-strict guest, and the info mtree -f
 * captured before (phase 0) or after (phase 1) the guest enabled DMA
 * remapping. The main thread flips the phase, asks for an event or drops
 * the connection through atomics. */

typedef struct
{
  int        listen_fd;
  char      *path;
  GThread   *thread;
  char      *greeting;
  char      *query_pci;      /* the "return" value, as JSON */
  char      *mtree[2];       /* JSON strings */
  int        phase;          /* atomic */
  int        send_event;     /* atomic */
  int        drop;           /* atomic */
  int        reset;          /* atomic: close with a command unread (ECONNRESET) */
  int        quit;           /* atomic */
  int        n_connections;  /* atomic */
  int        n_mtree;        /* atomic: info mtree -f answered */
  GMutex     lock;
  GPtrArray *received;       /* every command line, char * */
} Server;

static char *
load (const char *dir,
      const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", dir, name, NULL);
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

static char *
to_json (JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();

  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}

static char *
json_string (const char *text)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_VALUE);

  json_node_set_string (node, text);
  return to_json (node);
}

static void
srv_puts (int         fd,
          const char *text)
{
  gsize len = strlen (text);

  while (len > 0)
    {
      ssize_t n = write (fd, text, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      text += n;
      len -= n;
    }
}

static char *
answer (Server     *s,
        const char *line,
        gint64     *id)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *obj, *args;
  const char *cmd, *path, *prop;

  g_assert_true (json_parser_load_from_data (parser, line, -1, NULL));
  obj = json_node_get_object (json_parser_get_root (parser));
  *id = json_object_get_int_member_with_default (obj, "id", -1);
  cmd = json_object_get_string_member (obj, "execute");
  args = json_object_has_member (obj, "arguments") ? json_object_get_object_member (obj, "arguments") : NULL;
  path = args ? json_object_get_string_member_with_default (args, "path", "") : "";
  prop = args ? json_object_get_string_member_with_default (args, "property", "") : "";

  if (g_str_equal (cmd, "qmp_capabilities"))
    return g_strdup ("{}");
  if (g_str_equal (cmd, "query-pci"))
    return g_strdup (s->query_pci);
  if (g_str_equal (cmd, "human-monitor-command") &&
      g_str_equal (json_object_get_string_member (args, "command-line"), "info mtree -f"))
    {
      g_atomic_int_inc (&s->n_mtree);
      return g_strdup (s->mtree[g_atomic_int_get (&s->phase) ? 1 : 0]);
    }
  if (g_str_equal (cmd, "x-query-virtio"))
    return g_strdup ("[]");
  if (g_str_equal (cmd, "qom-list"))
    return g_strdup (g_str_equal (path, "/machine/peripheral-anon")
                     ? "[{\"name\": \"device[0]\", \"type\": \"child<intel-iommu>\"},"
                       " {\"name\": \"device[1]\", \"type\": \"child<virtio-net-pci>\"},"
                       " {\"name\": \"device[2]\", \"type\": \"child<virtio-rng-pci>\"}]"
                     : "[]");
  if (g_str_equal (cmd, "qom-get") && g_str_has_prefix (path, "/machine/peripheral-anon/device["))
    {
      gboolean endpoint = !g_str_has_suffix (path, "[0]");

      if (endpoint && g_str_equal (prop, "addr"))
        return g_strdup (g_str_has_suffix (path, "[1]") ? "8" : "16");
      if (endpoint && g_str_equal (prop, "parent_bus"))
        return g_strdup ("\"/machine/q35/pcie.0\"");
      if (endpoint && g_str_equal (prop, "iommu_platform"))
        return g_strdup ("true");
      if (!endpoint && g_str_equal (prop, "caching-mode"))
        return g_strdup ("true");
    }
  return NULL; /* an error reply */
}

static void
serve (Server *s,
       int     fd)
{
  GString *buf = g_string_new (NULL);

  srv_puts (fd, s->greeting);
  while (!g_atomic_int_get (&s->quit))
    {
      struct pollfd p = { fd, POLLIN, 0 };
      char chunk[4096];
      ssize_t n;
      char *nl;

      if (g_atomic_int_compare_and_exchange (&s->drop, 1, 0))
        break;
      if (g_atomic_int_compare_and_exchange (&s->send_event, 1, 0))
        srv_puts (fd, "{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 1}, "
                      "\"event\": \"DEVICE_DELETED\", \"data\": {\"path\": \"/machine/peripheral-anon/device[3]\"}}\r\n");
      if (poll (&p, 1, 10) <= 0)
        continue;
      if (g_atomic_int_compare_and_exchange (&s->reset, 1, 0))
        break; /* closing with unread input makes the kernel reset the peer */
      n = read (fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      g_string_append_len (buf, chunk, n);
      while ((nl = strchr (buf->str, '\n')) != NULL)
        {
          g_autofree char *line = g_strndup (buf->str, nl - buf->str);
          g_autofree char *value = NULL;
          g_autofree char *reply = NULL;
          gint64 id;

          g_string_erase (buf, 0, nl - buf->str + 1);
          g_mutex_lock (&s->lock);
          g_ptr_array_add (s->received, g_strdup (line));
          g_mutex_unlock (&s->lock);
          value = answer (s, line, &id);
          if (value)
            reply = g_strdup_printf ("{\"return\": %s, \"id\": %" G_GINT64_FORMAT "}\r\n", value, id);
          else
            reply = g_strdup_printf ("{\"id\": %" G_GINT64_FORMAT ", \"error\": {\"class\": \"GenericError\", "
                                     "\"desc\": \"Property not found\"}}\r\n", id);
          srv_puts (fd, reply);
        }
    }
  g_string_free (buf, TRUE);
  shutdown (fd, SHUT_RDWR);
  close (fd);
}

static gpointer
server_thread (gpointer data)
{
  Server *s = data;

  while (!g_atomic_int_get (&s->quit))
    {
      struct pollfd p = { s->listen_fd, POLLIN, 0 };
      int fd;

      if (poll (&p, 1, 10) <= 0)
        continue;
      fd = accept (s->listen_fd, NULL, NULL);
      if (fd < 0)
        continue;
      g_atomic_int_set (&s->drop, 0);
      g_atomic_int_set (&s->reset, 0);
      g_atomic_int_inc (&s->n_connections);
      serve (s, fd);
    }
  return NULL;
}

static void
server_start (Server     *s,
              const char *path)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  g_autofree char *pci_line = load ("qmp", "intel-strict-query-pci.jsonl");
  g_autofree char *m0 = load ("mtree", "intel-strict-mtree-0-start-mtree-f.txt");
  g_autofree char *m1 = load ("mtree", "intel-strict-mtree-1-modules-mtree-f.txt");
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(GStrv) greeting_lines = NULL;
  g_autofree char *greeting = load ("qmp", "greeting.jsonl");

  g_assert_true (json_parser_load_from_data (parser, pci_line, -1, NULL));
  s->query_pci = to_json (json_object_get_member (json_node_get_object (json_parser_get_root (parser)), "return"));
  s->mtree[0] = json_string (m0);
  s->mtree[1] = json_string (m1);
  greeting_lines = g_strsplit (greeting, "\n", 2);
  s->greeting = g_strdup_printf ("%s\n", g_strchomp (greeting_lines[0]));
  s->received = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&s->lock);
  s->path = g_strdup (path);

  g_assert_cmpuint (strlen (path), <, sizeof sun.sun_path);
  strcpy (sun.sun_path, path);
  s->listen_fd = socket (AF_UNIX, SOCK_STREAM, 0);
  g_assert_cmpint (bind (s->listen_fd, (struct sockaddr *) &sun, sizeof sun), ==, 0);
  g_assert_cmpint (listen (s->listen_fd, 4), ==, 0);
  s->thread = g_thread_new ("fake-qmp", server_thread, s);
}

static void
server_stop (Server *s)
{
  g_atomic_int_set (&s->quit, 1);
  g_thread_join (s->thread);
  close (s->listen_fd);
  g_unlink (s->path);
  g_free (s->path);
  g_free (s->greeting);
  g_free (s->query_pci);
  g_free (s->mtree[0]);
  g_free (s->mtree[1]);
  g_ptr_array_unref (s->received);
  g_mutex_clear (&s->lock);
}

/* ---- client side ---- */

typedef struct
{
  GPtrArray *changes;   /* GPtrArray of IovSnapshotChange, one per ::changed */
  GPtrArray *states;    /* "STATE" or "disconnected: MESSAGE", one per notify::state */
  gboolean   snapshot_kept;
} Log;

static void
on_changed (IovSession *session,
            GPtrArray  *changes,
            Log        *log)
{
  g_assert_nonnull (iov_session_get_snapshot (session));
  for (guint i = 0; i < changes->len; i++)
    g_test_message ("change: %s", ((IovSnapshotChange *) g_ptr_array_index (changes, i))->message);
  g_ptr_array_add (log->changes, g_ptr_array_ref (changes));
}

static void
on_state (IovSession *session,
          GParamSpec *pspec,
          Log        *log)
{
  IovSessionState state = iov_session_get_state (session);
  const GError *error = iov_session_get_error (session);

  if (state == IOV_SESSION_STATE_DISCONNECTED)
    {
      g_ptr_array_add (log->states, g_strdup_printf ("disconnected: %s", error ? error->message : "(no reason)"));
      if (log->changes->len > 0)
        log->snapshot_kept = iov_session_get_snapshot (session) != NULL;
    }
  else
    g_ptr_array_add (log->states, g_strdup (iov_session_state_to_string (state)));
}

static void
log_init (Log        *log,
          IovSession *session)
{
  log->changes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  log->states = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (session, "changed", G_CALLBACK (on_changed), log);
  g_signal_connect (session, "notify::state", G_CALLBACK (on_state), log);
}

static void
log_clear (Log        *log,
           IovSession *session)
{
  g_signal_handlers_disconnect_by_data (session, log);
  g_ptr_array_unref (log->changes);
  g_ptr_array_unref (log->states);
}

typedef gboolean (*Cond) (gpointer data);

static gboolean
wait_for (Cond     cond,
          gpointer data,
          guint    timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  while (!cond (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

static void
spin (guint ms)
{
  gint64 until = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < until)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static gboolean
is_live (gpointer session)
{
  return iov_session_get_state (session) == IOV_SESSION_STATE_LIVE;
}

static gboolean
is_disconnected_with_reason (gpointer session)
{
  return iov_session_get_state (session) == IOV_SESSION_STATE_DISCONNECTED && iov_session_get_error (session) != NULL;
}

static gboolean
has_two_changes (gpointer log)
{
  return ((Log *) log)->changes->len >= 2;
}

static gboolean
has_three_connections (gpointer server)
{
  return g_atomic_int_get (&((Server *) server)->n_connections) >= 3;
}

static char *
socket_path (const char *dir)
{
  return g_build_filename (dir, "qmp.sock", NULL);
}

/* the ::changed after the switch says what the guest did, structured */
static void
assert_switch (GPtrArray *changes)
{
  const IovSnapshotChange *rng = NULL;

  for (guint i = 0; i < changes->len; i++)
    {
      const IovSnapshotChange *c = g_ptr_array_index (changes, i);

      if (g_str_equal (c->device, "00:02.0"))
        rng = c;
      g_assert_cmpint (c->kind, ==, IOV_SNAPSHOT_CHANGE_REMAPPING_ON);
    }
  g_assert_nonnull (rng);
  g_assert_cmpint (rng->kind, ==, IOV_SNAPSHOT_CHANGE_REMAPPING_ON);
  g_assert_cmpuint (rng->n_ranges, ==, 3);
  g_assert_cmpstr (rng->message, ==, "00:02.0 switched to DMA remapping: 3 ranges");
  g_assert_cmpstr (iov_snapshot_change_kind_to_string (rng->kind), ==, "remapping-on");
}

static void
test_defaults (void)
{
  g_autoptr(IovSession) session = iov_session_new ("unix:/nonexistent/iovista.qmp", NULL);
  g_autoptr(GError) error = NULL;
  IovSession *bad;

  g_assert_nonnull (session);
  g_assert_cmpint (iov_session_get_state (session), ==, IOV_SESSION_STATE_DISCONNECTED);
  g_assert_cmpuint (iov_session_get_interval (session), ==, 500);
  g_assert_null (iov_session_get_snapshot (session));
  g_assert_null (iov_session_get_error (session));
  g_assert_cmpstr (iov_session_get_address (session), ==, "unix:/nonexistent/iovista.qmp");
  iov_session_set_interval (session, 10);
  g_assert_cmpuint (iov_session_get_interval (session), ==, IOV_SESSION_MIN_INTERVAL_MS);

  bad = iov_session_new ("tcp:host:0", &error);
  g_assert_null (bad);
  g_assert_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_BAD_ADDRESS);
}

static void
test_switch (void)
{
  g_autofree char *dir = g_dir_make_tmp ("iovista-session-XXXXXX", NULL);
  g_autofree char *path = socket_path (dir);
  g_autofree char *address = g_strconcat ("unix:", path, NULL);
  g_autoptr(IovSession) session = NULL;
  Server s = { 0 };
  Log log = { 0 };
  IovSnapshot *first;
  guint n_mtree;

  server_start (&s, path);
  session = iov_session_new (address, NULL);
  log_init (&log, session);
  iov_session_set_interval (session, 50);
  iov_session_start (session);

  g_assert_true (wait_for (is_live, session, 5000));
  g_assert_cmpuint (log.changes->len, ==, 1);
  g_assert_cmpuint (((GPtrArray *) g_ptr_array_index (log.changes, 0))->len, ==, 0); /* the first snapshot */
  first = iov_session_get_snapshot (session);
  g_assert_nonnull (first);

  /* polling an unchanged QEMU: no ::changed */
  n_mtree = g_atomic_int_get (&s.n_mtree);
  spin (300);
  g_assert_cmpuint (g_atomic_int_get (&s.n_mtree), >=, n_mtree + 2);
  g_assert_cmpuint (log.changes->len, ==, 1);
  g_assert_true (iov_session_get_snapshot (session) == first);

  /* the guest enables DMA remapping */
  g_atomic_int_set (&s.phase, 1);
  g_assert_true (wait_for (has_two_changes, &log, 5000));
  assert_switch (g_ptr_array_index (log.changes, 1));
  g_assert_true (iov_session_get_snapshot (session) != first);
  spin (200);
  g_assert_cmpuint (log.changes->len, ==, 2);

  g_assert_cmpstr (g_ptr_array_index (log.states, 0), ==, "connecting");
  g_assert_cmpstr (g_ptr_array_index (log.states, 1), ==, "live");
  g_assert_cmpuint (log.states->len, ==, 2);

  iov_session_stop (session);
  g_assert_cmpint (iov_session_get_state (session), ==, IOV_SESSION_STATE_DISCONNECTED);
  g_assert_nonnull (iov_session_get_snapshot (session));
  log_clear (&log, session);
  g_clear_object (&session);

  /* every command the session sent is on the read-only allow-list */
  for (guint i = 0; i < s.received->len; i++)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonObject *o;
      g_autoptr(GError) error = NULL;

      g_assert_true (json_parser_load_from_data (parser, g_ptr_array_index (s.received, i), -1, NULL));
      o = json_node_get_object (json_parser_get_root (parser));
      iov_qmp_command_is_allowed (json_object_get_string_member (o, "execute"),
                                  json_object_get_member (o, "arguments"), &error);
      g_assert_no_error (error);
    }
  server_stop (&s);
  g_rmdir (dir);
}

static void
test_event_refresh (void)
{
  g_autofree char *dir = g_dir_make_tmp ("iovista-session-XXXXXX", NULL);
  g_autofree char *path = socket_path (dir);
  g_autoptr(IovSession) session = NULL;
  Server s = { 0 };
  Log log = { 0 };
  gint64 t0;

  server_start (&s, path);
  session = iov_session_new (path, NULL);
  log_init (&log, session);
  iov_session_set_interval (session, 600000); /* no polling within the test */
  iov_session_start (session);
  g_assert_true (wait_for (is_live, session, 5000));
  g_assert_cmpuint (log.changes->len, ==, 1);

  g_atomic_int_set (&s.phase, 1);
  spin (300);
  g_assert_cmpuint (log.changes->len, ==, 1); /* not seen without an event or a poll */

  t0 = g_get_monotonic_time ();
  g_atomic_int_set (&s.send_event, 1);
  g_assert_true (wait_for (has_two_changes, &log, 5000));
  g_test_message ("refreshed %.0f ms after the event", (g_get_monotonic_time () - t0) / 1000.0);
  assert_switch (g_ptr_array_index (log.changes, 1));

  log_clear (&log, session);
  g_clear_object (&session);
  server_stop (&s);
  g_rmdir (dir);
}

static void
test_disconnect (void)
{
  g_autofree char *dir = g_dir_make_tmp ("iovista-session-XXXXXX", NULL);
  g_autofree char *path = socket_path (dir);
  g_autoptr(IovSession) session = NULL;
  Server s = { 0 };
  Log log = { 0 };
  IovSnapshot *first;
  gboolean saw_reason = FALSE;
  guint n_states;

  server_start (&s, path);
  session = iov_session_new (path, NULL);
  log_init (&log, session);
  iov_session_set_interval (session, 50);
  iov_session_start (session);
  g_assert_true (wait_for (is_live, session, 5000));
  first = iov_session_get_snapshot (session);

  /* QEMU goes away (the server drops the connection) and comes back: the
   * session says why, keeps the snapshot, reconnects and is live again */
  g_atomic_int_set (&s.phase, 1);
  g_atomic_int_set (&s.drop, 1);
  g_assert_true (wait_for (has_two_changes, &log, 5000));
  g_assert_true (wait_for (is_live, session, 5000));
  g_assert_cmpint (g_atomic_int_get (&s.n_connections), ==, 2);
  for (guint i = 0; i < log.states->len; i++)
    {
      const char *st = g_ptr_array_index (log.states, i);

      g_test_message ("state: %s", st);
      if (g_str_has_prefix (st, "disconnected: ") && strstr (st, "closed the connection") != NULL)
        saw_reason = TRUE;
    }
  g_assert_true (saw_reason);
  g_assert_true (log.snapshot_kept);
  g_assert_true (iov_session_get_snapshot (session) != first);
  /* the diff spans the reconnection: the new QEMU has DMA remapping on */
  assert_switch (g_ptr_array_index (log.changes, 1));
  g_assert_null (iov_session_get_error (session));

  /* QEMU killed with a command unread: the socket is reset, not closed,
   * and the reason reads the same */
  n_states = log.states->len;
  g_atomic_int_set (&s.reset, 1);
  g_assert_true (wait_for (has_three_connections, &s, 5000));
  g_assert_true (wait_for (is_live, session, 5000));
  saw_reason = FALSE;
  for (guint i = n_states; i < log.states->len; i++)
    {
      const char *st = g_ptr_array_index (log.states, i);

      g_test_message ("state: %s", st);
      if (g_str_has_prefix (st, "disconnected: ") && strstr (st, "closed the connection (it exited or crashed)") != NULL)
        saw_reason = TRUE;
    }
  g_assert_true (saw_reason);
  g_assert_cmpuint (log.changes->len, ==, 2); /* the same QEMU state: nothing changed */

  log_clear (&log, session);
  g_clear_object (&session);
  server_stop (&s);
  g_rmdir (dir);
}

static void
test_unreachable (void)
{
  g_autofree char *dir = g_dir_make_tmp ("iovista-session-XXXXXX", NULL);
  g_autofree char *path = socket_path (dir);
  g_autoptr(IovSession) session = iov_session_new (path, NULL);
  const GError *error;
  Server s = { 0 };

  /* nothing listens yet: disconnected, with the fix in the reason */
  iov_session_start (session);
  g_assert_true (wait_for (is_disconnected_with_reason, session, 5000));
  error = iov_session_get_error (session);
  g_assert_error ((GError *) error, IOV_QMP_ERROR, IOV_QMP_ERROR_CONNECT);
  g_assert_nonnull (strstr (error->message, "cannot connect to"));
  g_assert_null (iov_session_get_snapshot (session));

  /* QEMU starts: the session keeps trying and goes live */
  server_start (&s, path);
  g_assert_true (wait_for (is_live, session, 5000));
  g_assert_nonnull (iov_session_get_snapshot (session));
  g_assert_null (iov_session_get_error (session));

  g_clear_object (&session);
  server_stop (&s);
  g_rmdir (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/session/defaults", test_defaults);
  g_test_add_func ("/session/switch", test_switch);
  g_test_add_func ("/session/event-refresh", test_event_refresh);
  g_test_add_func ("/session/disconnect", test_disconnect);
  g_test_add_func ("/session/unreachable", test_unreachable);

  return g_test_run ();
}
