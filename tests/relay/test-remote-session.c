/* test-remote-session.c — IovRemoteSession against a real relay and QEMU
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

/* The built `iovista-cli relay` on 127.0.0.1 in front of a real
 * qemu-system-x86_64 (TCG, q35 + intel-iommu) for the QMP side, with a trace
 * source that is a UNIX socket this test writes QEMU 7.2 log lines into.
 * Exits 77 only when QEMU is not installed. */

#include "config.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "iov-relay-client.h"
#include "iov-remote-session.h"
#include "iov-trace-document.h"
#include "iov-trace-events.h"
#include "iov-trace-json.h"
#include "iov-trace-parser.h"
#include "iov-vm-source.h"

typedef struct
{
  char        *tmp;
  char        *token_file;
  char        *qmp_path;
  char        *qmp2_path; /* QEMU's second QMP socket, for a local IovVmSource */
  GSubprocess *qemu;
  GSubprocess *relay;
  char        *url;       /* http://127.0.0.1:PORT */
  char        *token;
} Env;

static Env env;

static GSubprocess *
start_relay (const char *listen,
             const char *trace_path,
             char      **url)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  g_autofree char *vm = g_strdup_printf ("vm1,qmp=unix:%s,trace=unix:%s", env.qmp_path, trace_path);
  g_autofree char *stderr_path = g_build_filename (env.tmp, "relay.stderr", NULL);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  GSubprocess *relay;

  g_subprocess_launcher_set_stderr_file_path (launcher, stderr_path);
  relay = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("IOVISTA_CLI"), "relay", "--listen", listen,
                                       "--token-file", env.token_file, "--vm", vm, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (relay));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "listening on http://127.0.0.1:"));
  if (url)
    *url = g_strdup (line + strlen ("listening on "));
  return relay;
}

static gboolean
tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop until @cond holds or @timeout_ms passed. */
#define WAIT_UNTIL(cond, timeout_ms)                                          \
  G_STMT_START {                                                              \
    gint64 deadline_ = g_get_monotonic_time () + (timeout_ms) * 1000;         \
    guint tick_ = g_timeout_add (10, tick_cb, NULL);                          \
    while (!(cond) && g_get_monotonic_time () < deadline_)                    \
      g_main_context_iteration (NULL, TRUE);                                  \
    g_source_remove (tick_);                                                  \
  } G_STMT_END

static IovRemoteSession *
new_session (const char *token)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *vm_url = g_strconcat (env.url, "/vm1", NULL);
  g_autoptr(IovRelayClient) client = iov_relay_client_new (vm_url, token, &error);

  g_assert_no_error (error);
  return iov_remote_session_new (client);
}

/* Event lines of a real QEMU 7.2 trace, as the relay will pass them on
 * (it sends events only). */
static GPtrArray *
fixture_lines (IovTraceCatalog *catalog)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "trace", "qemu-7.2",
                                                 "guest-intel-strict", "trace.excerpt.log", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *events = g_ptr_array_new_with_free_func (g_free);

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      IovTraceLine line;
      gsize len = strlen (lines[i]);

      if (len > 0 && lines[i][len - 1] == '\r')
        lines[i][--len] = '\0';
      if (iov_trace_parse_line (catalog, lines[i], len, &line) == IOV_TRACE_LINE_EVENT &&
          line.prefix == IOV_TRACE_PREFIX_TID)
        g_ptr_array_add (events, g_strdup (lines[i]));
    }
  return events;
}

static void
write_lines (GSocket   *sock,
             GPtrArray *lines,
             guint      from,
             guint      to)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  gsize off = 0;

  for (guint i = from; i < to; i++)
    {
      g_string_append (text, g_ptr_array_index (lines, i));
      g_string_append_c (text, '\n');
    }
  while (off < text->len)
    {
      gssize n = g_socket_send (sock, text->str + off, text->len - off, NULL, &error);

      g_assert_no_error (error);
      off += n;
    }
}

static guint64
received (IovRemoteSession *session)
{
  IovRemoteSessionCounters c;

  iov_remote_session_get_counters (session, &c);
  return c.events_received;
}

static void
changed_cb (IovRemoteSession *session,
            GPtrArray        *changes,
            guint            *n_changed)
{
  g_assert_nonnull (changes);
  (*n_changed)++;
}

static void
test_stream (void)
{
  g_autoptr(IovRemoteSession) session = new_session (env.token);
  g_autoptr(IovTraceCatalog) catalog = iov_trace_catalog_new_default (NULL, NULL);
  g_autoptr(GPtrArray) lines = fixture_lines (catalog);
  g_autofree char *trace_path = g_build_filename (env.tmp, "trace.sock", NULL);
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new (trace_path);
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) got = g_string_new (NULL);
  g_autoptr(GString) want = g_string_new (NULL);
  g_autoptr(GArray) parsed = g_array_new (FALSE, FALSE, sizeof (IovTraceLine));
  g_autoptr(GPtrArray) batches = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  IovRemoteSessionCounters c;
  guint n_changed = 0, half, popped = 0;

  g_assert_cmpuint (lines->len, >, 100);
  g_signal_connect (session, "changed", G_CALLBACK (changed_cb), &n_changed);

  g_assert_cmpint (iov_remote_session_get_state (session), ==, IOV_REMOTE_SESSION_STOPPED);
  iov_remote_session_start (session);
  g_assert_cmpint (iov_remote_session_get_state (session), ==, IOV_REMOTE_SESSION_CONNECTING);

  /* the snapshot arrives (once QEMU's firmware is up the relay has one) */
  WAIT_UNTIL (iov_remote_session_get_snapshot (session) != NULL, 30000);
  g_assert_cmpint (iov_remote_session_get_state (session), ==, IOV_REMOTE_SESSION_LIVE);
  g_assert_nonnull (iov_remote_session_get_snapshot (session));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (iov_remote_session_get_snapshot (session)));
  g_assert_true (json_object_has_member (json_node_get_object (iov_remote_session_get_snapshot (session)),
                                         "address_spaces") ||
                 json_object_get_size (json_node_get_object (iov_remote_session_get_snapshot (session))) > 0);
  g_assert_cmpuint (n_changed, >=, 1);
  g_assert_true (iov_remote_session_has_trace (session));
  g_assert_nonnull (iov_remote_session_get_qemu_version (session));
  g_assert_cmpstr (iov_remote_session_get_vm_state (session), ==, "connected");
  g_assert_null (iov_remote_session_get_error (session));

  /* QEMU's writer: the relay's trace socket */
  sock = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_connect (sock, addr, NULL, &error));
  g_assert_no_error (error);

  /* in two parts, popping in between like the app's tick */
  half = lines->len / 2;
  write_lines (sock, lines, 0, half);
  WAIT_UNTIL (received (session) >= half, 20000);
  write_lines (sock, lines, half, lines->len);
  for (;;)
    {
      g_autoptr(GArray) events = NULL;
      GBytes *batch;

      WAIT_UNTIL (received (session) >= lines->len, 20000);
      batch = iov_remote_session_pop_events (session, &events);
      if (batch == NULL)
        break;
      g_ptr_array_add (batches, batch);
      g_assert_cmpuint (events->len, >, 0);
      popped += events->len;
      /* each event as the line QEMU printed: the prefix from its fields */
      for (guint i = 0; i < events->len; i++)
        {
          IovTraceLine line;

          iov_trace_json_line_get (&g_array_index (events, IovTraceJsonLine, i), g_bytes_get_data (batch, NULL),
                                   &line);
          g_assert_cmpint (line.kind, ==, IOV_TRACE_LINE_EVENT);
          g_string_append_printf (got, "%u@%" G_GUINT64_FORMAT ".%06u:%.*s %.*s\n", line.tid, line.sec, line.usec,
                                  (int) line.name_len, line.name, (int) line.args_len, line.args);
          g_array_append_val (parsed, line);
        }
    }
  iov_remote_session_get_counters (session, &c);
  g_assert_cmpuint (c.events_received, ==, lines->len);
  g_assert_cmpuint (popped, ==, lines->len);
  g_assert_cmpuint (c.events_dropped, ==, 0);
  g_assert_cmpuint (c.events_approx, ==, 0);
  g_assert_cmpuint (c.messages_lost, ==, 0);
  g_assert_cmpuint (c.relay_dropped_messages, ==, 0);
  g_assert_cmpuint (c.relay_dropped_events, ==, 0);
  g_assert_cmpuint (c.source_dropped_lines, ==, 0);
  g_assert_cmpuint (c.invalid_messages, ==, 0);
  g_assert_cmpuint (c.connections, ==, 1);

  /* byte for byte, prefix included; and every field is what the parser
   * reads from the line QEMU printed */
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (want, "%s\n", (char *) g_ptr_array_index (lines, i));
  g_assert_cmpuint (got->len, ==, want->len);
  g_assert_cmpuint (parsed->len, ==, lines->len);
  for (guint i = 0; i < lines->len; i++)
    {
      const char *w = g_ptr_array_index (lines, i);
      IovTraceLine a = g_array_index (parsed, IovTraceLine, i), b;

      g_assert_cmpint (iov_trace_parse_line (catalog, w, strlen (w), &b), ==, IOV_TRACE_LINE_EVENT);
      g_assert_cmpint (a.prefix, ==, b.prefix);
      g_assert_cmpint (a.has_ts, ==, b.has_ts);
      g_assert_cmpint (a.has_tid, ==, b.has_tid);
      g_assert_cmpuint (a.sec, ==, b.sec);
      g_assert_cmpuint (a.usec, ==, b.usec);
      g_assert_cmpint (a.event_id, ==, b.event_id);
      g_assert_cmpmem (a.name, a.name_len, b.name, b.name_len);
      g_assert_cmpmem (a.args, a.args_len, b.args, b.args_len);
      g_assert_cmpuint (a.ts_ns, ==, b.ts_ns);
      g_assert_cmpuint (a.tid, ==, b.tid);
    }
  g_assert_cmpstr (got->str, ==, want->str);

  /* a consumer that falls behind: batches beyond the limit are dropped and
   * counted, never waited for */
  iov_remote_session_set_queue_limit (session, 1);
  for (guint round = 0; round < 4; round++)
    {
      guint64 before = received (session);

      write_lines (sock, lines, 0, lines->len);
      WAIT_UNTIL (received (session) >= before + lines->len, 20000);
    }
  iov_remote_session_get_counters (session, &c);
  g_assert_cmpuint (c.events_received, ==, 5 * lines->len);
  popped = 0;
  for (;;)
    {
      g_autoptr(GBytes) batch = NULL;
      g_autoptr(GArray) events = NULL;

      batch = iov_remote_session_pop_events (session, &events);
      if (batch == NULL)
        break;
      popped += events->len;
    }
  g_test_message ("behind: %u popped, %" G_GUINT64_FORMAT " dropped", popped, c.events_dropped);
  g_assert_cmpuint (c.events_dropped, >, 0);
  g_assert_cmpuint (popped + c.events_dropped, ==, 4 * lines->len);

  iov_remote_session_stop (session);
  g_assert_cmpint (iov_remote_session_get_state (session), ==, IOV_REMOTE_SESSION_STOPPED);
  g_assert_nonnull (iov_remote_session_get_snapshot (session));
}

static void
test_wrong_token (void)
{
  g_autoptr(IovRemoteSession) session = new_session ("not-the-token");

  iov_remote_session_start (session);
  WAIT_UNTIL (iov_remote_session_get_state (session) == IOV_REMOTE_SESSION_FAILED, 10000);
  g_assert_cmpint (iov_remote_session_get_state (session), ==, IOV_REMOTE_SESSION_FAILED);
  g_assert_error (iov_remote_session_get_error (session), IOV_RELAY_ERROR, IOV_RELAY_ERROR_UNAUTHORIZED);
  g_assert_null (iov_remote_session_get_snapshot (session));
  /* terminal: no retry */
  WAIT_UNTIL (FALSE, 1500);
  g_assert_cmpint (iov_remote_session_get_state (session), ==, IOV_REMOTE_SESSION_FAILED);
}

/* ---- IovVmSource: one object whichever way the VM comes ----------------- */

static void
refreshed_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  int *done = user_data;
  g_autoptr(GError) error = NULL;

  *done = iov_vm_source_refresh_finish (IOV_VM_SOURCE (object), result, &error) ? 1 : -1;
  g_assert_no_error (error);
}

static void
state_cb (IovVmSource *source,
          GParamSpec  *pspec,
          GArray      *states)
{
  int state = iov_vm_source_get_state (source);

  if (states->len == 0 || g_array_index (states, int, states->len - 1) != state)
    g_array_append_val (states, state);
}

/* @doc read the lines of @text, and counted every event as a document
 * fed @text itself does. */
static void
assert_same_counts (IovTraceDocument *doc,
                    const char       *text)
{
  g_autoptr(IovTraceCatalog) catalog = iov_trace_catalog_new_default (NULL, NULL);
  g_autoptr(IovTraceDocument) ref = iov_trace_document_new (g_steal_pointer (&catalog), 0);
  const IovTraceStats *a = iov_trace_document_get_stats (doc), *b;

  iov_trace_document_feed (ref, text, strlen (text), 0);
  b = iov_trace_document_get_stats (ref);
  g_assert_cmpuint (a->lines, ==, b->lines);
  g_assert_cmpuint (a->events, ==, b->events);
  g_assert_cmpuint (a->events, >, 100);
  g_assert_cmpuint (a->other + a->malformed, ==, b->other + b->malformed);
  g_assert_cmpuint (a->first_sec, ==, b->first_sec);
  g_assert_cmpuint (a->last_usec, ==, b->last_usec);
  for (guint i = 0; i < MAX (a->by_id->len, b->by_id->len); i++)
    g_assert_cmpuint (i < a->by_id->len ? g_array_index (a->by_id, guint64, i) : 0, ==,
                      i < b->by_id->len ? g_array_index (b->by_id, guint64, i) : 0);
}

static const char *
snapshot_version (JsonNode *snapshot)
{
  return json_object_get_string_member (json_object_get_object_member (json_node_get_object (snapshot), "qemu"),
                                        "version");
}

/* The same QEMU straight over its second QMP socket, with a local trace
 * file of real 7.2 lines: the snapshot, the trace byte for byte, and the
 * end of a plain file. */
static void
test_vm_source_qmp (void)
{
  g_autoptr(IovTraceCatalog) catalog = iov_trace_catalog_new_default (NULL, NULL);
  g_autoptr(GPtrArray) lines = fixture_lines (catalog);
  g_autofree char *trace = g_build_filename (env.tmp, "local-trace.log", NULL);
  g_autofree char *address = g_strconcat ("unix:", env.qmp2_path, NULL);
  g_autoptr(GString) want = g_string_new (NULL);
  g_autoptr(IovTraceDocument) doc = iov_trace_document_new (iov_trace_catalog_new_default (NULL, NULL),
                                                            IOV_TRACE_DOCUMENT_KEEP_EVENTS);
  g_autoptr(GArray) states = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(IovVmSource) source = NULL;
  g_autoptr(GError) error = NULL;
  int refreshed = 0;

  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (want, "%s\n", (const char *) g_ptr_array_index (lines, i));
  g_assert_true (g_file_set_contents (trace, want->str, want->len, &error));

  source = iov_vm_source_new (address, trace, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (iov_vm_source_get_kind (source), ==, IOV_VM_SOURCE_QMP);
  g_assert_cmpint (iov_vm_source_get_state (source), ==, IOV_VM_SOURCE_STOPPED);
  g_assert_true (iov_vm_source_follows_topology (source));
  g_signal_connect (source, "notify::state", G_CALLBACK (state_cb), states);
  g_assert_true (iov_vm_source_start (source, &error));
  g_assert_no_error (error);
  g_assert_true (iov_vm_source_has_trace (source));
  g_assert_nonnull (iov_vm_source_get_reader (source));

  WAIT_UNTIL (iov_vm_source_get_state (source) == IOV_VM_SOURCE_LIVE && iov_vm_source_get_snapshot (source), 30000);
  g_assert_cmpint (iov_vm_source_get_state (source), ==, IOV_VM_SOURCE_LIVE);
  g_assert_nonnull (iov_vm_source_get_snapshot (source));
  g_assert_cmpstr (iov_vm_source_get_qemu_version (source), ==, snapshot_version (iov_vm_source_get_snapshot (source)));
  g_assert_null (iov_vm_source_get_error (source));
  /* it went through CONNECTING to LIVE, told by notify::state */
  g_assert_cmpuint (states->len, >=, 2);
  g_assert_cmpint (g_array_index (states, int, states->len - 1), ==, IOV_VM_SOURCE_LIVE);

  iov_vm_source_refresh_async (source, NULL, refreshed_cb, &refreshed);
  WAIT_UNTIL (refreshed != 0, 10000);
  g_assert_cmpint (refreshed, ==, 1);

  /* the trace, every line into the document as the same text read here
   * gives; a live VM's trace file is followed as QEMU appends to it, so
   * its end is not the end */
  WAIT_UNTIL (({ while (iov_vm_source_feed (source, doc, 0)) ;
                 iov_trace_document_get_n_lines (doc) >= lines->len; }), 10000);
  assert_same_counts (doc, want->str);
  WAIT_UNTIL (FALSE, 300);
  g_assert_false (iov_vm_source_trace_ended (source, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (iov_vm_source_get_dropped (source), ==, 0);

  iov_vm_source_stop (source);
  g_assert_cmpint (iov_vm_source_get_state (source), ==, IOV_VM_SOURCE_STOPPED);
  g_assert_null (iov_vm_source_get_reader (source));
  g_unlink (trace);
}

/* Through the relay: the hello's version is the snapshot's, the relay
 * reads a trace for this VM, F5 asks the relay over HTTP. */
static void
test_vm_source_relay (void)
{
  g_autofree char *address = g_strconcat (env.url, "/vm1", NULL);
  g_autoptr(IovVmSource) source = NULL;
  g_autoptr(GError) error = NULL;
  int refreshed = 0;

  /* a relay reads its VM's trace itself */
  g_assert_null (iov_vm_source_new (address, "/tmp/trace.log", env.token, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  source = iov_vm_source_new (address, NULL, env.token, &error);
  g_assert_no_error (error);
  g_assert_cmpint (iov_vm_source_get_kind (source), ==, IOV_VM_SOURCE_RELAY);
  g_assert_false (iov_vm_source_follows_topology (source));
  g_assert_true (iov_vm_source_start (source, &error));
  WAIT_UNTIL (iov_vm_source_get_state (source) == IOV_VM_SOURCE_LIVE && iov_vm_source_get_snapshot (source), 30000);
  g_assert_cmpint (iov_vm_source_get_state (source), ==, IOV_VM_SOURCE_LIVE);
  g_assert_nonnull (iov_vm_source_get_snapshot (source));
  g_assert_cmpstr (iov_vm_source_get_qemu_version (source), ==, snapshot_version (iov_vm_source_get_snapshot (source)));
  g_assert_true (iov_vm_source_has_trace (source));
  g_assert_null (iov_vm_source_get_reader (source));
  g_assert_false (iov_vm_source_trace_ended (source, NULL));

  iov_vm_source_refresh_async (source, NULL, refreshed_cb, &refreshed);
  WAIT_UNTIL (refreshed != 0, 10000);
  g_assert_cmpint (refreshed, ==, 1);
  g_assert_nonnull (iov_vm_source_get_snapshot (source));

  /* QEMU's lines through the relay's trace socket reach the document as
   * the same lines read locally would */
  {
    g_autoptr(IovTraceCatalog) catalog = iov_trace_catalog_new_default (NULL, NULL);
    g_autoptr(GPtrArray) lines = fixture_lines (catalog);
    g_autoptr(IovTraceDocument) doc = iov_trace_document_new (iov_trace_catalog_new_default (NULL, NULL),
                                                            IOV_TRACE_DOCUMENT_KEEP_EVENTS);
    g_autofree char *trace_path = g_build_filename (env.tmp, "trace.sock", NULL);
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new (trace_path);
    g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &error);
    g_autoptr(GString) want = g_string_new (NULL);

    g_assert_no_error (error);
    g_assert_true (g_socket_connect (sock, addr, NULL, &error));
    g_assert_no_error (error);
    for (guint i = 0; i < lines->len; i++)
      g_string_append_printf (want, "%s\n", (const char *) g_ptr_array_index (lines, i));
    write_lines (sock, lines, 0, lines->len);
    WAIT_UNTIL (({ while (iov_vm_source_feed (source, doc, 0)) ;
                   iov_trace_document_get_n_lines (doc) >= lines->len; }), 20000);
    assert_same_counts (doc, want->str);
    g_assert_cmpuint (iov_vm_source_get_dropped (source), ==, 0);
  }
}

/* A refused token is FAILED, with the relay's reason, and stays so. */
static void
test_vm_source_refused (void)
{
  g_autofree char *address = g_strconcat (env.url, "/vm1", NULL);
  g_autoptr(IovVmSource) source = iov_vm_source_new (address, NULL, "not-the-token", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (source);
  g_assert_true (iov_vm_source_start (source, &error));
  WAIT_UNTIL (iov_vm_source_get_state (source) == IOV_VM_SOURCE_FAILED, 10000);
  g_assert_cmpint (iov_vm_source_get_state (source), ==, IOV_VM_SOURCE_FAILED);
  g_assert_error (iov_vm_source_get_error (source), IOV_RELAY_ERROR, IOV_RELAY_ERROR_UNAUTHORIZED);
  g_assert_null (iov_vm_source_get_snapshot (source));
}

static void
test_relay_restart (void)
{
  g_autoptr(IovRemoteSession) session = new_session (env.token);
  g_autofree char *listen = g_strdup (env.url + strlen ("http://"));
  g_autofree char *trace2 = g_build_filename (env.tmp, "trace2.sock", NULL);
  IovRemoteSessionCounters c;
  const GError *error;

  iov_remote_session_start (session);
  WAIT_UNTIL (iov_remote_session_get_state (session) == IOV_REMOTE_SESSION_LIVE &&
              iov_remote_session_get_snapshot (session) != NULL, 30000);
  g_assert_cmpint (iov_remote_session_get_state (session), ==, IOV_REMOTE_SESSION_LIVE);

  g_subprocess_send_signal (env.relay, SIGKILL);
  g_assert_true (g_subprocess_wait (env.relay, NULL, NULL));
  g_clear_object (&env.relay);
  WAIT_UNTIL (iov_remote_session_get_state (session) == IOV_REMOTE_SESSION_DISCONNECTED, 10000);
  g_assert_cmpint (iov_remote_session_get_state (session), ==, IOV_REMOTE_SESSION_DISCONNECTED);
  error = iov_remote_session_get_error (session);
  g_assert_nonnull (error);
  g_test_message ("disconnected: %s", error->message);
  /* it keeps trying while the relay is away */
  WAIT_UNTIL (FALSE, 1200);
  g_assert_cmpint (iov_remote_session_get_state (session), ==, IOV_REMOTE_SESSION_DISCONNECTED);
  g_assert_nonnull (iov_remote_session_get_snapshot (session));

  env.relay = start_relay (listen, trace2, NULL);
  WAIT_UNTIL (iov_remote_session_get_state (session) == IOV_REMOTE_SESSION_LIVE, 20000);
  g_assert_cmpint (iov_remote_session_get_state (session), ==, IOV_REMOTE_SESSION_LIVE);
  g_assert_null (iov_remote_session_get_error (session));
  iov_remote_session_get_counters (session, &c);
  g_assert_cmpuint (c.connections, ==, 2);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *qemu = g_find_program_in_path ("qemu-system-x86_64");
  g_autoptr(GError) error = NULL;
  g_autofree char *qmp_arg = NULL;
  g_autofree char *qmp2_arg = NULL;
  g_autofree char *trace_path = NULL;
  g_autofree char *qemu_stderr = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  if (qemu == NULL)
    {
      g_print ("1..0 # SKIP qemu-system-x86_64 is not installed (Debian package qemu-system-x86)\n");
      return 77;
    }
  if (g_getenv ("IOVISTA_CLI") == NULL)
    {
      g_printerr ("IOVISTA_CLI is not set to the built iovista-cli\n");
      return 99;
    }

  env.tmp = g_dir_make_tmp ("iovista-remote-session-XXXXXX", &error);
  g_assert_no_error (error);
  env.token_file = g_build_filename (env.tmp, "relay.token", NULL);
  env.qmp_path = g_build_filename (env.tmp, "relay.qmp", NULL);
  trace_path = g_build_filename (env.tmp, "trace.sock", NULL);
  env.qmp2_path = g_build_filename (env.tmp, "local.qmp", NULL);
  qmp_arg = g_strdup_printf ("unix:%s,server=on,wait=off", env.qmp_path);
  qmp2_arg = g_strdup_printf ("unix:%s,server=on,wait=off", env.qmp2_path);
  qemu_stderr = g_build_filename (env.tmp, "qemu.stderr", NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_set_stderr_file_path (launcher, qemu_stderr);
  env.qemu = g_subprocess_launcher_spawn (launcher, &error, qemu, "-accel", "tcg", "-nodefaults",
                                          "-machine", "q35", "-m", "128", "-display", "none", "-vga", "none",
                                          "-monitor", "none", "-serial", "none", "-parallel", "none",
                                          "-device", "intel-iommu,caching-mode=on",
                                          "-qmp", qmp_arg, "-qmp", qmp2_arg, NULL);
  g_assert_no_error (error);
  /* QEMU creates the QMP socket; the relay retries until it is there */
  env.relay = start_relay ("127.0.0.1:0", trace_path, &env.url);
  g_assert_true (g_file_get_contents (env.token_file, &env.token, NULL, &error));
  g_strstrip (env.token);

  g_test_add_func ("/relay/remote-session/stream", test_stream);
  g_test_add_func ("/relay/remote-session/wrong-token", test_wrong_token);
  g_test_add_func ("/relay/remote-session/vm-source-qmp", test_vm_source_qmp);
  g_test_add_func ("/relay/remote-session/vm-source-relay", test_vm_source_relay);
  g_test_add_func ("/relay/remote-session/vm-source-refused", test_vm_source_refused);
  g_test_add_func ("/relay/remote-session/relay-restart", test_relay_restart);
  status = g_test_run ();

  if (env.relay != NULL)
    {
      g_subprocess_send_signal (env.relay, SIGTERM);
      g_subprocess_wait (env.relay, NULL, NULL);
    }
  g_subprocess_force_exit (env.qemu);
  g_subprocess_wait (env.qemu, NULL, NULL);
  g_clear_object (&env.relay);
  g_clear_object (&env.qemu);
  {
    g_autoptr(GFile) dir = g_file_new_for_path (env.tmp);
    g_autoptr(GFileEnumerator) e = g_file_enumerate_children (dir, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                                              G_FILE_QUERY_INFO_NONE, NULL, NULL);
    GFileInfo *info;

    while (e != NULL && (info = g_file_enumerator_next_file (e, NULL, NULL)) != NULL)
      {
        g_autofree char *path = g_build_filename (env.tmp, g_file_info_get_name (info), NULL);

        g_unlink (path);
        g_object_unref (info);
      }
    g_rmdir (env.tmp);
  }
  g_free (env.tmp);
  g_free (env.token_file);
  g_free (env.qmp_path);
  g_free (env.qmp2_path);
  g_free (env.url);
  g_free (env.token);
  return status;
}
