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
#include "iov-snapshot.h"

/* iovista-cli snapshot ADDRESS [--watch SECONDS] [--raw]
 *
 * One JSON object on stdout; with --watch, one JSON line per change until
 * interrupted. Exit 3 when QEMU cannot be reached. */

typedef struct
{
  GMainLoop    *loop;
  IovQmpClient *client;
  gboolean      raw;
  gboolean      watch;
  guint         interval_ms;
  int           status;
  char         *last;
  guint         poll_id;
  gboolean      busy;
} Snap;

static void poll_once (Snap *s);

static gboolean
poll_cb (gpointer user_data)
{
  Snap *s = user_data;

  s->poll_id = 0;
  poll_once (s);
  return G_SOURCE_REMOVE;
}

static void
schedule (Snap *s)
{
  if (s->poll_id == 0)
    s->poll_id = g_timeout_add (s->interval_ms, poll_cb, s);
}

static void
collected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Snap *s = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(IovSnapshot) snapshot = iov_snapshot_collect_finish (result, &error);

  s->busy = FALSE;
  if (snapshot == NULL)
    {
      if (!s->watch)
        {
          g_printerr ("iovista-cli snapshot: %s\n", error->message);
          s->status = (error->domain == IOV_QMP_ERROR &&
                       (error->code == IOV_QMP_ERROR_CLOSED || error->code == IOV_QMP_ERROR_NOT_CONNECTED))
                      ? IOV_CLI_EXIT_UNREACHABLE : IOV_CLI_EXIT_FAILURE;
          g_main_loop_quit (s->loop);
        }
      else
        schedule (s); /* the client reconnects; keep the last snapshot */
      return;
    }

  if (!s->watch)
    {
      g_autofree char *text = iov_snapshot_to_string (snapshot, s->raw, TRUE);

      g_print ("%s\n", text);
      s->status = IOV_CLI_EXIT_OK;
      g_main_loop_quit (s->loop);
      return;
    }
  else
    {
      g_autofree char *text = iov_snapshot_to_string (snapshot, s->raw, FALSE);

      if (g_strcmp0 (text, s->last) != 0)
        {
          g_print ("%s\n", text);
          fflush (stdout);
          g_free (s->last);
          s->last = g_steal_pointer (&text);
        }
      schedule (s);
    }
}

static void
poll_once (Snap *s)
{
  if (s->busy)
    return;
  if (iov_qmp_client_get_state (s->client) != IOV_QMP_STATE_CONNECTED)
    {
      schedule (s);
      return;
    }
  s->busy = TRUE;
  iov_snapshot_collect_async (s->client, NULL, collected_cb, s);
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
  if (s->watch)
    iov_qmp_client_set_auto_reconnect (s->client, TRUE);
  poll_once (s);
}

static void
on_disconnected (IovQmpClient *client,
                 GError       *error,
                 Snap         *s)
{
  g_printerr ("iovista-cli snapshot: %s; %s\n", error->message,
              s->watch ? _("reconnecting") : _("giving up"));
}

static void
on_reconnected (IovQmpClient *client,
                Snap         *s)
{
  if (s->watch)
    {
      g_printerr ("iovista-cli snapshot: %s\n", _("connected"));
      poll_once (s);
    }
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

  client = iov_qmp_client_new (argv[1], &error);
  if (client == NULL)
    return iov_cli_usage_error ("snapshot", "%s", error->message);

  loop = g_main_loop_new (NULL, FALSE);
  s.loop = loop;
  s.client = client;
  s.raw = raw;
  s.watch = watch > 0;
  s.interval_ms = (guint) (watch * 1000);
  s.status = IOV_CLI_EXIT_FAILURE;

  g_signal_connect (client, "disconnected", G_CALLBACK (on_disconnected), &s);
  g_signal_connect (client, "connected", G_CALLBACK (on_reconnected), &s);
  sigint_id = g_unix_signal_add (SIGINT, on_signal, &s);
  sigterm_id = g_unix_signal_add (SIGTERM, on_signal, &s);

  iov_qmp_client_connect_async (client, NULL, connected_cb, &s);
  g_main_loop_run (loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  g_clear_handle_id (&s.poll_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (client, &s);
  iov_qmp_client_close (client);
  g_free (s.last);
  return s.status;
}
