/* main.c

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
#include <locale.h>
#include <stdio.h>
#include <stdarg.h>

#include "iov-cli.h"
#include "iov-scenario.h"

static int iov_cli_version (int argc, char **argv);

static const IovCliCommand commands[] = {
  { "what-if",  N_("Run a scenario through the model under one or more QEMU versions"), iov_cli_what_if },
  { "snapshot", N_("Print a running QEMU's IOMMU address spaces as JSON"), iov_cli_snapshot },
  { "trace",    N_("Read QEMU trace output: counts, decoded events, notifier flows"), iov_cli_trace },
  { "export",   N_("Export a scenario, recording or trace to Perfetto, CSV, SVG, PNG or PDF"), iov_cli_export },
  { "relay",    N_("Serve local VMs to remote Iovista windows over HTTP and WebSocket"), iov_cli_relay },
  { "version",  N_("Print the version"), iov_cli_version },
};

gboolean
iov_cli_parse_options (GOptionContext   *context,
                       const char       *name,
                       int              *argc,
                       char           ***argv)
{
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      iov_cli_usage_error (name, "%s", error->message);
      return FALSE;
    }
  return TRUE;
}

int
iov_cli_usage_error (const char *name,
                     const char *format,
                     ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);

  if (name)
    g_printerr ("iovista-cli %s: %s\n", name, msg);
  else
    g_printerr ("iovista-cli: %s\n", msg);
  return IOV_CLI_EXIT_USAGE;
}

int
iov_cli_not_yet (const char *name,
                 const char *issue)
{
  return iov_cli_usage_error (name, _("not yet available (planned in issue %s)"), issue);
}

IovScenario *
iov_cli_load_scenario (const char  *name,
                       const char  *builtin,
                       int          argc,
                       char       **argv)
{
  g_autoptr(GError) error = NULL;
  IovScenario *scenario;

  if (builtin != NULL)
    {
      if (argc > 1)
        {
          iov_cli_usage_error (name, _("give either a scenario file or --builtin, not both"));
          return NULL;
        }
      scenario = iov_scenario_new_from_resource (builtin, &error);
      if (scenario == NULL)
        iov_cli_usage_error (name, _("no built-in scenario “%s” (see iovista-cli what-if --list)"), builtin);
      return scenario;
    }

  if (argc < 2)
    {
      iov_cli_usage_error (name, _("missing the scenario file (see --help)"));
      return NULL;
    }
  if (argc > 2)
    {
      iov_cli_usage_error (name, _("unexpected argument “%s”"), argv[2]);
      return NULL;
    }
  scenario = iov_scenario_new_from_file (argv[1], &error);
  if (scenario == NULL)
    g_printerr ("%s\n", error->message);  /* already FILE: where: what */
  return scenario;
}

static int
iov_cli_version (int    argc,
                 char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);

  g_option_context_set_summary (context, _("Print the version of iovista-cli."));
  if (!iov_cli_parse_options (context, "version", &argc, &argv))
    return IOV_CLI_EXIT_USAGE;
  if (argc > 1)
    return iov_cli_usage_error ("version", _("unexpected argument “%s”"), argv[1]);

  g_print ("iovista-cli %s\n", PACKAGE_VERSION);
  return IOV_CLI_EXIT_OK;
}

static void
print_usage (FILE *stream)
{
  fprintf (stream, "%s\n\n%s\n", _("Usage: iovista-cli SUBCOMMAND [OPTION…]"), _("Subcommands:"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (stream, "  %-10s %s\n", commands[i].name, _(commands[i].summary));
  fprintf (stream, "\n%s\n", _("Run “iovista-cli SUBCOMMAND --help” for the options of one subcommand."));
}

int
main (int    argc,
      char **argv)
{
  const char *name;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("iovista-cli");

  if (argc < 2)
    {
      print_usage (stderr);
      return IOV_CLI_EXIT_USAGE;
    }

  name = argv[1];

  if (g_str_equal (name, "--help") || g_str_equal (name, "-h") || g_str_equal (name, "help"))
    {
      print_usage (stdout);
      return IOV_CLI_EXIT_OK;
    }
  if (g_str_equal (name, "--version"))
    return iov_cli_version (1, argv);

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (g_str_equal (name, commands[i].name))
        {
          /* Subcommands see "iovista-cli NAME" as their argv[0] so that
           * GOption's --help names them. */
          g_autofree char *prgname = g_strdup_printf ("iovista-cli %s", name);

          g_set_prgname (prgname);
          argv[1] = argv[0];
          return commands[i].run (argc - 1, argv + 1);
        }
    }

  if (name[0] == '-')
    return iov_cli_usage_error (NULL, _("unknown option “%s”; a subcommand comes first (try --help)"), name);
  return iov_cli_usage_error (NULL, _("unknown subcommand “%s” (try --help)"), name);
}
