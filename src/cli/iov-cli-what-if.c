/* iov-cli-what-if.c — iovista-cli what-if
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
#include <stdio.h>

#include "iov-cli.h"
#include "iov-what-if.h"

static void
print_builtin (void)
{
  g_auto(GStrv) names = iov_scenario_list_builtin ();

  for (guint i = 0; names[i]; i++)
    {
      g_autoptr(IovScenario) sc = iov_scenario_new_from_resource (names[i], NULL);

      g_print ("%-24s %s\n", names[i], sc && sc->summary ? sc->summary : "");
    }
}

int
iov_cli_what_if (int    argc,
                 char **argv)
{
  g_auto(GStrv) profile_ids = NULL;
  g_autofree char *builtin = NULL;
  gboolean compare = FALSE;
  gboolean list = FALSE;
  gboolean list_profiles = FALSE;
  const GOptionEntry entries[] = {
    { "profile", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &profile_ids,
      N_("Run under this QEMU profile (repeat to compare several)"), N_("PROFILE") },
    { "compare", 'c', 0, G_OPTION_ARG_NONE, &compare,
      N_("Run under every profile and list the differences"), NULL },
    { "builtin", 'b', 0, G_OPTION_ARG_STRING, &builtin,
      N_("Use a built-in scenario instead of FILE"), N_("NAME") },
    { "list", 0, 0, G_OPTION_ARG_NONE, &list, N_("List the built-in scenarios"), NULL },
    { "list-profiles", 0, 0, G_OPTION_ARG_NONE, &list_profiles, N_("List the QEMU profiles"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("FILE"));
  g_autoptr(IovScenario) scenario = NULL;
  g_autoptr(GPtrArray) profiles = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) out = g_string_new (NULL);

  g_option_context_set_summary (context,
    _("Run a scenario (JSON, see data/scenarios/README.md) through Iovista's model of QEMU's\n"
      "IOMMU notifiers and print what each notifier receives, as JSON.\n"
      "Exit status: 0 when the model ran (a predicted abort is a result), 2 on invalid input."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!iov_cli_parse_options (context, "what-if", &argc, &argv))
    return IOV_CLI_EXIT_USAGE;

  if (list_profiles)
    {
      g_autofree char *table = iov_profile_table ();

      fputs (table, stdout);
      return IOV_CLI_EXIT_OK;
    }
  if (list)
    {
      print_builtin ();
      return IOV_CLI_EXIT_OK;
    }

  scenario = iov_cli_load_scenario ("what-if", builtin, argc, argv);
  if (scenario == NULL)
    return IOV_CLI_EXIT_USAGE;

  for (guint i = 0; profile_ids != NULL && profile_ids[i] != NULL; i++)
    {
      const IovProfile *p = iov_profile_lookup (profile_ids[i]);

      if (p == NULL)
        return iov_cli_usage_error ("what-if", _("unknown profile “%s” (see --list-profiles)"), profile_ids[i]);
      g_ptr_array_add (profiles, (gpointer) p);
    }

  if (compare && profiles->len == 0)
    {
      guint n;
      const IovProfile **all = iov_profile_list (&n);

      for (guint i = 0; i < n; i++)
        g_ptr_array_add (profiles, (gpointer) all[i]);
    }

  if (compare || profiles->len > 1)
    {
      g_autoptr(IovWhatIf) what_if = iov_what_if_new (scenario, (const IovProfile **) profiles->pdata,
                                                      profiles->len);

      iov_what_if_write_json (what_if, out);
    }
  else
    {
      const IovProfile *profile = profiles->len == 1 ? g_ptr_array_index (profiles, 0)
                                                     : iov_profile_lookup (scenario->profile);
      g_autoptr(IovRun) run = NULL;

      if (profile == NULL)
        {
          g_printerr (_("%s: no profile: add \"profile\" to the scenario or pass --profile\n"), scenario->filename);
          return IOV_CLI_EXIT_USAGE;
        }
      run = iov_run_scenario (scenario, profile, &error);
      if (run == NULL)
        {
          g_printerr ("%s\n", error->message);
          return IOV_CLI_EXIT_USAGE;
        }
      iov_run_write_json (run, out);
    }

  g_string_append_c (out, '\n');
  fwrite (out->str, 1, out->len, stdout);
  return IOV_CLI_EXIT_OK;
}
