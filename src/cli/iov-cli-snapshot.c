/* iov-cli-snapshot.c
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

#define G_LOG_DOMAIN "iovista-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <stdio.h>

#include "iov-cli.h"
#include "iov-cli-relay.h"
#include "iov-qmp-client.h"
#include "iov-relay-client.h"
#include "iov-session.h"
#include "iov-snapshot.h"

/* iovista-cli snapshot ADDRESS [--watch SECONDS] [--raw]
 *
 * One JSON object on stdout; with --watch, an IovSession polls and prints
 * one JSON line per change until interrupted, with what changed per device
 * ("00:02.0 switched to DMA remapping: 3 ranges") and the connection's ups
 * and downs on stderr. Exit 3 when QEMU cannot be reached at first. */

typedef struct
{
  GMainLoop    *loop;
  IovQmpClient *client;
  IovSession   *session;
  gboolean      raw;
  int           status;
  gboolean      was_live;
  gboolean      down;
} Snap;

static void
collected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Snap *s = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(IovSnapshot) snapshot = iov_snapshot_collect_finish (result, &error);
  g_autofree char *text = NULL;

  if (snapshot == NULL)
    {
      g_printerr ("iovista-cli snapshot: %s\n", error->message);
      s->status = iov_qmp_error_is_lost (error) ? IOV_CLI_EXIT_UNREACHABLE : IOV_CLI_EXIT_FAILURE;
      g_main_loop_quit (s->loop);
      return;
    }

  text = iov_snapshot_to_string (snapshot, s->raw, TRUE);
  g_print ("%s\n", text);
  s->status = IOV_CLI_EXIT_OK;
  g_main_loop_quit (s->loop);
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Snap *s = user_data;
  g_autoptr(GError) error = NULL;

  if (!iov_qmp_client_connect_finish (s->client, result, &error))
    {
      g_printerr ("iovista-cli snapshot: %s\n", error->message);
      s->status = IOV_CLI_EXIT_UNREACHABLE;
      g_main_loop_quit (s->loop);
      return;
    }
  iov_snapshot_collect_async (s->client, NULL, collected_cb, s);
}

static void
on_changed (IovSession *session,
            GPtrArray  *changes,
            Snap       *s)
{
  g_autofree char *text = iov_snapshot_to_string (iov_session_get_snapshot (session), s->raw, FALSE);

  for (guint i = 0; i < changes->len; i++)
    {
      const IovSnapshotChange *change = g_ptr_array_index (changes, i);

      g_printerr ("iovista-cli snapshot: %s\n", change->message);
    }
  g_print ("%s\n", text);
  fflush (stdout);
}

static void
on_state (IovSession *session,
          GParamSpec *pspec,
          Snap       *s)
{
  IovSessionState state = iov_session_get_state (session);
  const GError *error = iov_session_get_error (session);

  if (state == IOV_SESSION_STATE_DISCONNECTED && error != NULL && !s->was_live)
    {
      /* never reached: say why and stop, as without --watch */
      g_printerr ("iovista-cli snapshot: %s\n", error->message);
      s->status = IOV_CLI_EXIT_UNREACHABLE;
      g_main_loop_quit (s->loop);
    }
  else if (state == IOV_SESSION_STATE_DISCONNECTED && error != NULL && !s->down)
    {
      /* once per outage: the retries' "cannot connect" would repeat every second */
      g_printerr ("iovista-cli snapshot: %s; %s\n", error->message, _("reconnecting"));
      s->down = TRUE;
    }
  else if (state == IOV_SESSION_STATE_LIVE && s->down)
    {
      g_printerr ("iovista-cli snapshot: %s\n", _("connected"));
      s->down = FALSE;
    }
  if (state == IOV_SESSION_STATE_LIVE)
    s->was_live = TRUE;
}

static gboolean
on_signal (gpointer user_data)
{
  Snap *s = user_data;

  s->status = IOV_CLI_EXIT_OK;
  g_main_loop_quit (s->loop);
  return G_SOURCE_CONTINUE;
}

int
iov_cli_snapshot (int    argc,
                  char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("ADDRESS"));
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(IovQmpClient) client = NULL;
  g_autoptr(IovSession) session = NULL;
  double watch = 0;
  gboolean raw = FALSE;
  g_autofree char *token_file = NULL;
  Snap s = { 0 };
  guint sigint_id, sigterm_id;
  const GOptionEntry entries[] = {
    { "watch", 'w', 0, G_OPTION_ARG_DOUBLE, &watch, N_("Poll every SECONDS and print one JSON line per change"), N_("SECONDS") },
    { "raw", 0, 0, G_OPTION_ARG_NONE, &raw, N_("Add the info mtree -f text as \"mtree\""), NULL },
    { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &token_file, N_("Token for a relay URL (default: $IOVISTA_TOKEN)"), N_("FILE") },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
                                _("Print a running QEMU's IOMMU, PCI devices and address spaces as JSON.\n"
                                  "ADDRESS is unix:PATH, a path, or tcp:HOST:PORT of a QMP socket\n"
                                  "(QEMU started with -qmp unix:PATH,server=on,wait=off),\n"
                                  "or http(s)://HOST:PORT/VM of an iovista-cli relay."));
  if (!iov_cli_parse_options (context, "snapshot", &argc, &argv))
    return IOV_CLI_EXIT_USAGE;
  if (argc < 2)
    return iov_cli_usage_error ("snapshot", _("missing ADDRESS (unix:PATH, a path, or tcp:HOST:PORT)"));
  if (argc > 2)
    return iov_cli_usage_error ("snapshot", _("unexpected argument “%s”"), argv[2]);
  if (watch < 0 || watch > 86400 || (watch > 0 && watch < 0.05))
    return iov_cli_usage_error ("snapshot", _("--watch takes SECONDS between 0.05 and 86400"));

  if (iov_relay_is_url (argv[1]))
    return iov_cli_relay_snapshot (argv[1], token_file, watch, raw);

  loop = g_main_loop_new (NULL, FALSE);
  s.loop = loop;
  s.raw = raw;
  s.status = IOV_CLI_EXIT_FAILURE;

  if (watch > 0)
    {
      session = iov_session_new (argv[1], &error);
      if (session == NULL)
        return iov_cli_usage_error ("snapshot", "%s", error->message);
      s.session = session;
      iov_session_set_interval (session, (guint) (watch * 1000));
      g_signal_connect (session, "changed", G_CALLBACK (on_changed), &s);
      g_signal_connect (session, "notify::state", G_CALLBACK (on_state), &s);
    }
  else
    {
      client = iov_qmp_client_new (argv[1], &error);
      if (client == NULL)
        return iov_cli_usage_error ("snapshot", "%s", error->message);
      s.client = client;
    }

  sigint_id = g_unix_signal_add (SIGINT, on_signal, &s);
  sigterm_id = g_unix_signal_add (SIGTERM, on_signal, &s);

  if (session)
    iov_session_start (session);
  else
    iov_qmp_client_connect_async (client, NULL, connected_cb, &s);
  g_main_loop_run (loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  if (session)
    {
      g_signal_handlers_disconnect_by_data (session, &s);
      iov_session_stop (session);
    }
  else
    iov_qmp_client_close (client);
  return s.status;
}
