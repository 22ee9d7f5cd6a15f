/* iov-cli-export.c — iovista-cli export
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
#include "iov-export.h"
#include "iov-painter.h"
#include "iov-recording.h"
#include "iov-trace-document.h"
#include "iov-what-if.h"

static gboolean
write_text (const char  *path,
            GString     *text,
            GError     **error)
{
  if (g_strcmp0 (path, "-") == 0)
    {
      fwrite (text->str, 1, text->len, stdout);
      return TRUE;
    }
  return g_file_set_contents (path, text->str, text->len, error);
}

/* Is @path a trace (a recording, or QEMU's log) rather than a scenario
 * (a JSON object)? */
static gboolean
is_trace (const char *path)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileInputStream) in = NULL;
  char buf[256];
  gssize n;

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return FALSE;
  if (iov_recording_is_recording (path))
    return TRUE;
  file = g_file_new_for_path (path);
  in = g_file_read (file, NULL, NULL);
  if (in == NULL || (n = g_input_stream_read (G_INPUT_STREAM (in), buf, sizeof buf, NULL, NULL)) <= 0)
    return FALSE;
  for (gssize i = 0; i < n; i++)
    if (!g_ascii_isspace (buf[i]))
      return buf[i] != '{';
  return FALSE;
}

/* A trace's IOTLB traffic (issue L): read whole, with the recording's
 * snapshot or @infer's, which ties vhost's lines to their device. */
static int
export_trace (const char *path,
              const char *infer,
              const char *format,
              const char *output)
{
  g_autoptr(IovRecording) recording = NULL;
  g_autoptr(IovTraceCatalog) catalog = NULL;
  g_autoptr(IovTraceDocument) doc = NULL;
  g_autoptr(JsonNode) snapshot = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;

  if (!g_str_equal (format, "perfetto") && !g_str_equal (format, "csv"))
    return iov_cli_usage_error ("export", _("a trace exports its IOTLB traffic as perfetto or csv, not “%s”"),
                                format);
  if (iov_recording_is_recording (path))
    {
      recording = iov_recording_load (path, &error);
      if (recording == NULL)
        return iov_cli_usage_error ("export", "%s", error->message);
      if (recording->cut != NULL)
        g_printerr ("iovista-cli export: %s\n", recording->cut);
      if (recording->snapshots->len > 0)
        snapshot = json_node_copy (g_ptr_array_index (recording->snapshots, recording->snapshots->len - 1));
    }
  else if (!g_file_get_contents (path, &text, &len, &error))
    return iov_cli_usage_error ("export", "%s", error->message);
  if (infer != NULL)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();

      if (!json_parser_load_from_file (parser, infer, &error))
        return iov_cli_usage_error ("export", "%s: %s", infer, error->message);
      g_clear_pointer (&snapshot, json_node_unref);
      snapshot = json_node_copy (json_parser_get_root (parser));
    }

  catalog = iov_trace_catalog_new_default (NULL, &error);
  if (catalog == NULL)
    return iov_cli_usage_error ("export", "%s", error->message);
  doc = iov_trace_document_new (g_steal_pointer (&catalog), 0);
  if (snapshot != NULL && !iov_trace_document_set_snapshot (doc, snapshot, &error))
    return iov_cli_usage_error ("export", "%s: %s", infer ? infer : path, error->message);
  if (recording != NULL)
    iov_trace_document_feed (doc, recording->trace->str, recording->trace->len, 0);
  else
    iov_trace_document_feed (doc, text, len, 0);
  iov_trace_document_finish (doc);

  /* the window's Export… of an opened trace writes the same bytes */
  if (!iov_export_document_traffic (doc, format, out, &error))
    {
      g_printerr ("iovista-cli export: %s: %s\n", path, error->message);
      return IOV_CLI_EXIT_USAGE;
    }
  if (!write_text (output, out, &error))
    {
      g_printerr ("iovista-cli export: %s\n", error->message);
      return IOV_CLI_EXIT_FAILURE;
    }
  return IOV_CLI_EXIT_OK;
}

int
iov_cli_export (int    argc,
                char **argv)
{
  g_autofree char *format = NULL;
  g_autofree char *output = NULL;
  g_autofree char *profile_id = NULL;
  g_autofree char *builtin = NULL;
  g_autofree char *infer = NULL;
  int step = -2;
  const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format,
      N_("perfetto, csv, svg, png or pdf"), N_("FORMAT") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Write to FILE (- for standard output)"), N_("FILE") },
    { "profile", 'p', 0, G_OPTION_ARG_STRING, &profile_id, N_("Model profile (default: the scenario's)"), N_("PROFILE") },
    { "step", 's', 0, G_OPTION_ARG_INT, &step,
      N_("Picture formats: draw after this step (1-based; default: where QEMU aborts, else the last)"), N_("N") },
    { "builtin", 'b', 0, G_OPTION_ARG_STRING, &builtin, N_("Use a built-in scenario instead of INPUT"), N_("NAME") },
    { "infer", 0, 0, G_OPTION_ARG_FILENAME, &infer,
      N_("A trace: the VM's snapshot, which ties vhost's lines to their device"), N_("SNAPSHOT") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("INPUT"));
  g_autoptr(IovScenario) scenario = NULL;
  g_autoptr(IovRun) run = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  const IovProfile *profile;
  gboolean picture;

  g_option_context_set_summary (context,
    _("Export a model run of a scenario (JSON) to Perfetto JSON, CSV, or an SVG, PNG or PDF picture\n"
      "of the address-space map and notifier lanes.\n"
      "A recording or a QEMU trace log as INPUT exports its IOTLB traffic per device and per second:\n"
      "Perfetto counter tracks, or a CSV table."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!iov_cli_parse_options (context, "export", &argc, &argv))
    return IOV_CLI_EXIT_USAGE;

  if (format == NULL)
    return iov_cli_usage_error ("export", _("missing --format (perfetto, csv, svg, png or pdf)"));
  picture = g_str_equal (format, "svg") || g_str_equal (format, "png") || g_str_equal (format, "pdf");
  if (!picture && !g_str_equal (format, "perfetto") && !g_str_equal (format, "csv"))
    return iov_cli_usage_error ("export", _("unknown format “%s” (perfetto, csv, svg, png or pdf)"), format);
  if (output == NULL)
    return iov_cli_usage_error ("export", _("missing -o FILE"));
  if (picture && g_str_equal (output, "-"))
    return iov_cli_usage_error ("export", _("pictures need a file name, not -"));

  if (builtin == NULL && argc >= 2 && is_trace (argv[1]))
    return export_trace (argv[1], infer, format, output);
  if (infer != NULL)
    return iov_cli_usage_error ("export", _("--infer goes with a trace or a recording"));

  scenario = iov_cli_load_scenario ("export", builtin, argc, argv);
  if (scenario == NULL)
    return IOV_CLI_EXIT_USAGE;

  profile = iov_profile_lookup (profile_id ? profile_id : scenario->profile);
  if (profile == NULL)
    {
      if (profile_id != NULL)
        return iov_cli_usage_error ("export", _("unknown profile “%s”"), profile_id);
      g_printerr (_("%s: no profile: add \"profile\" to the scenario or pass --profile\n"), scenario->filename);
      return IOV_CLI_EXIT_USAGE;
    }

  run = iov_run_scenario (scenario, profile, &error);
  if (run == NULL)
    {
      g_printerr ("%s\n", error->message);
      return IOV_CLI_EXIT_USAGE;
    }

  if (picture)
    {
      int index;

      if (step == -2)
        index = run->aborted_at >= 0 ? run->aborted_at : (int) run->steps->len - 1;
      else if (step < 0 || step > (int) run->steps->len)
        return iov_cli_usage_error ("export", _("--step must be from 0 to %u"), run->steps->len);
      else
        index = step - 1;

      if (!iov_painter_export (scenario, run, index, format, output, &error))
        {
          g_printerr ("iovista-cli export: %s\n", error->message);
          return IOV_CLI_EXIT_FAILURE;
        }
      return IOV_CLI_EXIT_OK;
    }

  if (g_str_equal (format, "perfetto"))
    iov_export_perfetto (run, out);
  else
    iov_export_csv (run, out);

  if (!write_text (output, out, &error))
    {
      g_printerr ("iovista-cli export: %s\n", error->message);
      return IOV_CLI_EXIT_FAILURE;
    }
  return IOV_CLI_EXIT_OK;
}
