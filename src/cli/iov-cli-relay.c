/* iov-cli-relay.c
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

#define G_LOG_DOMAIN "iovista-relay"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iov-cli.h"
#include "iov-cli-relay.h"
#include "iov-relay-client.h"
#include "iov-relay-server.h"

/* iovista-cli relay --listen 127.0.0.1:7878 --vm NAME,qmp=ADDRESS[,trace=SOURCE] …
 *
 * A foreground process: logs go to stderr (journald picks them up as is),
 * and two lines on stdout say where it listens and where the token is. */

static char *
new_token (GError **error)
{
  guint8 bytes[32];
  gsize got = 0;

  while (got < sizeof bytes)
    {
      ssize_t n = getrandom (bytes + got, sizeof bytes - got, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("Cannot make a random token: %s"), g_strerror (saved));
          return NULL;
        }
      got += n;
    }
  {
    GString *hex = g_string_sized_new (2 * sizeof bytes + 1);

    for (gsize i = 0; i < sizeof bytes; i++)
      g_string_append_printf (hex, "%02x", bytes[i]);
    memset (bytes, 0, sizeof bytes);
    return g_string_free (hex, FALSE);
  }
}

/* Reads the token from @path, or creates the file (mode 0600) with a new
 * random token when it does not exist. */
static char *
load_or_create_token (const char  *path,
                      gboolean    *created,
                      GError     **error)
{
  g_autofree char *contents = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *token = NULL;
  g_autofree char *line = NULL;
  GStatBuf st;

  *created = FALSE;
  if (g_stat (path, &st) == 0)
    {
      if (!S_ISREG (st.st_mode))
        {
          g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_CONFIG,
                       _("The token file %s is not a regular file"), path);
          return NULL;
        }
      if ((st.st_mode & 077) != 0)
        g_warning ("the token file %s can be read by other users (mode %04o); chmod 600 it",
                   path, (guint) (st.st_mode & 07777));
      if (!g_file_get_contents (path, &contents, NULL, error))
        return NULL;
      g_strstrip (contents);
      if (strlen (contents) < 16)
        {
          g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_CONFIG,
                       _("The token in %s is shorter than 16 characters"), path);
          return NULL;
        }
      return g_steal_pointer (&contents);
    }

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot create %s: %s"), dir, g_strerror (saved));
      return NULL;
    }
  token = new_token (error);
  if (token == NULL)
    return NULL;
  line = g_strconcat (token, "\n", NULL);
  if (!g_file_set_contents_full (path, line, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    return NULL;
  *created = TRUE;
  return g_steal_pointer (&token);
}

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

int
iov_cli_relay (int    argc,
               char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(IovRelayServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *token_file = NULL;
  g_autofree char *tls_cert = NULL;
  g_autofree char *tls_key = NULL;
  g_autofree char *token = NULL;
  g_autofree char *url = NULL;
  g_auto(GStrv) vms = NULL;
  gboolean insecure = FALSE, created = FALSE;
  int max_clients = 0, max_message = 0, rate = 0, poll_ms = 0, max_connections = 0, idle_timeout = 0;
  gint64 client_queue = 0;
  IovRelayLimits limits = { 0 };
  guint sigint_id, sigterm_id;
  const GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen, N_("Address to listen on (default 127.0.0.1:7878; port 0 picks one)"), N_("ADDRESS:PORT") },
    { "vm", 0, 0, G_OPTION_ARG_STRING_ARRAY, &vms, N_("A VM to serve (repeatable)"), N_("NAME,qmp=ADDRESS[,trace=SOURCE]") },
    { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &token_file, N_("Bearer token file; created (mode 0600) when missing (default $XDG_RUNTIME_DIR/iovista/relay.token)"), N_("FILE") },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert, N_("Serve HTTPS with this PEM certificate"), N_("FILE") },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, N_("The certificate's PEM private key"), N_("FILE") },
    { "insecure", 0, 0, G_OPTION_ARG_NONE, &insecure, N_("Allow a non-loopback address without TLS"), NULL },
    { "max-clients", 0, 0, G_OPTION_ARG_INT, &max_clients, N_("WebSocket clients at most (default 64)"), N_("N") },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &max_connections, N_("TCP connections at most (default 256)"), N_("N") },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle_timeout, N_("Close connections silent this long (default 60)"), N_("SECONDS") },
    { "max-message", 0, 0, G_OPTION_ARG_INT, &max_message, N_("Largest client message or request body (default 65536)"), N_("BYTES") },
    { "client-queue", 0, 0, G_OPTION_ARG_INT64, &client_queue, N_("Bytes queued per client before messages are dropped (default 4 MiB)"), N_("BYTES") },
    { "rate", 0, 0, G_OPTION_ARG_INT, &rate, N_("Requests per second per remote host (default 50)"), N_("N") },
    { "poll-interval", 0, 0, G_OPTION_ARG_INT, &poll_ms, N_("Snapshot polling while clients watch (default 2000)"), N_("MS") },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
    _("Serve local VMs to remote Iovista windows over HTTP and WebSocket.\n\n"
      "Every request needs “Authorization: Bearer TOKEN”. Endpoints: GET /api/v1/vms,\n"
      "GET /api/v1/vms/NAME/snapshot, GET /api/v1/vms/NAME/events (WebSocket),\n"
      "GET and POST /api/v1/vms/NAME/trace. See docs/relay.md."));
  if (!iov_cli_parse_options (context, "relay", &argc, &argv))
    return IOV_CLI_EXIT_USAGE;
  if (argc > 1)
    return iov_cli_usage_error ("relay", _("unexpected argument “%s”"), argv[1]);
  if (vms == NULL || vms[0] == NULL)
    return iov_cli_usage_error ("relay", _("give at least one --vm NAME,qmp=ADDRESS[,trace=SOURCE]"));
  if ((tls_cert == NULL) != (tls_key == NULL))
    return iov_cli_usage_error ("relay", _("--tls-cert and --tls-key go together"));
  if (max_clients < 0 || max_message < 0 || client_queue < 0 || rate < 0 || poll_ms < 0 ||
      max_connections < 0 || idle_timeout < 0 ||
      (max_message > 0 && max_message < 1024) || (poll_ms > 0 && poll_ms < 50))
    return iov_cli_usage_error ("relay", _("limits must be positive (--max-message ≥ 1024, --poll-interval ≥ 50)"));

  if (token_file == NULL)
    token_file = g_build_filename (g_get_user_runtime_dir (), "iovista", "relay.token", NULL);
  token = load_or_create_token (token_file, &created, &error);
  if (token == NULL)
    return iov_cli_usage_error ("relay", "%s", error->message);

  server = iov_relay_server_new (token);
  limits.max_clients = max_clients;
  limits.max_message_bytes = max_message;
  limits.client_queue_bytes = client_queue;
  limits.requests_per_second = rate;
  limits.poll_interval_ms = poll_ms;
  limits.max_connections = max_connections;
  limits.idle_timeout_s = idle_timeout;
  iov_relay_server_set_limits (server, &limits);

  if (tls_cert != NULL && !iov_relay_server_set_tls_files (server, tls_cert, tls_key, &error))
    return iov_cli_usage_error ("relay", "%s", error->message);
  for (guint i = 0; vms[i]; i++)
    if (!iov_relay_server_add_vm (server, vms[i], &error))
      return iov_cli_usage_error ("relay", "%s", error->message);
  if (!iov_relay_server_listen (server, listen ? listen : "127.0.0.1:7878", insecure, &error))
    {
      if (error->domain == IOV_RELAY_ERROR)
        return iov_cli_usage_error ("relay", "%s", error->message);
      g_printerr ("iovista-cli relay: %s\n", error->message);
      return IOV_CLI_EXIT_FAILURE;
    }

  url = iov_relay_server_get_url (server);
  g_print (_("listening on %s\n"), url);
  g_print (created ? _("token file (new): %s\n") : _("token file: %s\n"), token_file);
  fflush (stdout);
  g_message ("relay listening on %s for %u VM(s); token in %s", url, g_strv_length (vms), token_file);

  loop = g_main_loop_new (NULL, FALSE);
  sigint_id = g_unix_signal_add (SIGINT, on_signal, loop);
  sigterm_id = g_unix_signal_add (SIGTERM, on_signal, loop);
  g_main_loop_run (loop);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  g_message ("relay stopping");
  iov_relay_server_stop (server);
  return IOV_CLI_EXIT_OK;
}

/* ---- snapshot through a relay ------------------------------------------- */

typedef struct
{
  GMainLoop      *loop;
  IovRelayClient *client;
  gboolean        raw;
  gboolean        watch;
  guint           interval_ms;
  int             status;
  char           *last;
  guint           poll_id;
  gboolean        down;      /* said "reconnecting" for this outage */
} RelaySnap;

static void relay_poll (RelaySnap *s);

static gboolean
relay_poll_cb (gpointer user_data)
{
  RelaySnap *s = user_data;

  s->poll_id = 0;
  relay_poll (s);
  return G_SOURCE_REMOVE;
}

static void
relay_snapshot_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  RelaySnap *s = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = iov_relay_client_get_snapshot_finish (s->client, result, &error);

  if (text == NULL)
    {
      gboolean unreachable = error->domain != IOV_RELAY_ERROR ||
                             error->code == IOV_RELAY_ERROR_UNAVAILABLE;

      if (!s->watch || error->domain == IOV_RELAY_ERROR)
        {
          if (!s->watch || !unreachable)
            {
              g_printerr ("iovista-cli snapshot: %s\n", error->message);
              s->status = unreachable ? IOV_CLI_EXIT_UNREACHABLE : IOV_CLI_EXIT_FAILURE;
              g_main_loop_quit (s->loop);
              return;
            }
        }
      /* once per outage, as the local --watch: not at every poll */
      if (!s->down)
        g_printerr ("iovista-cli snapshot: %s; %s\n", error->message, _("reconnecting"));
      s->down = TRUE;
      s->poll_id = g_timeout_add (s->interval_ms, relay_poll_cb, s);
      return;
    }

  if (!s->watch)
    {
      fputs (text, stdout);
      s->status = IOV_CLI_EXIT_OK;
      g_main_loop_quit (s->loop);
      return;
    }
  if (s->down)
    {
      g_printerr ("iovista-cli snapshot: %s\n", _("connected"));
      s->down = FALSE;
    }
  if (g_strcmp0 (text, s->last) != 0)
    {
      fputs (text, stdout);
      fflush (stdout);
      g_free (s->last);
      s->last = g_steal_pointer (&text);
    }
  s->poll_id = g_timeout_add (s->interval_ms, relay_poll_cb, s);
}

static void
relay_poll (RelaySnap *s)
{
  iov_relay_client_get_snapshot_async (s->client, s->raw, !s->watch, NULL, relay_snapshot_cb, s);
}

static gboolean
relay_on_signal (gpointer user_data)
{
  RelaySnap *s = user_data;

  s->status = IOV_CLI_EXIT_OK;
  g_main_loop_quit (s->loop);
  return G_SOURCE_CONTINUE;
}

int
iov_cli_relay_snapshot (const char *url,
                        const char *token_file,
                        double      watch,
                        gboolean    raw)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IovRelayClient) client = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree char *token = NULL;
  RelaySnap s = { 0 };
  guint sigint_id, sigterm_id;

  token = iov_relay_read_token (token_file, &error);
  if (token == NULL)
    return iov_cli_usage_error ("snapshot", "%s", error->message);
  client = iov_relay_client_new (url, token, &error);
  if (client == NULL)
    return iov_cli_usage_error ("snapshot", "%s", error->message);

  loop = g_main_loop_new (NULL, FALSE);
  s.loop = loop;
  s.client = client;
  s.raw = raw;
  s.watch = watch > 0;
  s.interval_ms = s.watch ? (guint) (watch * 1000) : 0;
  s.status = IOV_CLI_EXIT_FAILURE;

  sigint_id = g_unix_signal_add (SIGINT, relay_on_signal, &s);
  sigterm_id = g_unix_signal_add (SIGTERM, relay_on_signal, &s);
  relay_poll (&s);
  g_main_loop_run (loop);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  g_clear_handle_id (&s.poll_id, g_source_remove);
  g_free (s.last);
  return s.status;
}

/* ---- a snapshot for trace --qmp ------------------------------------------ */

typedef struct
{
  GMainLoop *loop;
  char      *text;
  GError    *error;
} RelayFetch;

static void
relay_fetched_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  RelayFetch *f = user_data;

  f->text = iov_relay_client_get_snapshot_finish (IOV_RELAY_CLIENT (source), result, &f->error);
  g_main_loop_quit (f->loop);
}

JsonNode *
iov_cli_relay_fetch_snapshot (const char  *url,
                              const char  *token_file,
                              GError     **error)
{
  g_autoptr(IovRelayClient) client = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autofree char *token = NULL;
  RelayFetch f = { 0 };

  token = iov_relay_read_token (token_file, error);
  if (token == NULL)
    return NULL;
  client = iov_relay_client_new (url, token, error);
  if (client == NULL)
    return NULL;
  loop = g_main_loop_new (NULL, FALSE);
  f.loop = loop;
  iov_relay_client_get_snapshot_async (client, FALSE, FALSE, NULL, relay_fetched_cb, &f);
  g_main_loop_run (loop);
  if (f.text == NULL)
    {
      g_propagate_error (error, f.error);
      return NULL;
    }
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, f.text, -1, error))
    {
      g_free (f.text);
      return NULL;
    }
  g_free (f.text);
  return json_node_copy (json_parser_get_root (parser));
}
