/* fuzz-scenario.c — libFuzzer harness for scenario JSON and its runs
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

#include <stdint.h>
#include <string.h>

#include "fuzz-util.h"
#include "iov-export.h"
#include "iov-scenario.h"
#include "iov-scenario-private.h"
#include "iov-system.h"
#include "iov-what-if.h"

/* The input is a scenario file (`iovista-cli what-if FILE`). Either it is
 * refused with a GError that names the file (and the JSON path), or it
 * runs under every release profile, as `what-if --compare` does: each
 * profile gives a run or a GError, never both; a run's steps all have a
 * result, an abort stops it; and what is printed about the runs (the
 * what-if JSON, and on one profile the Perfetto JSON and CSV) is JSON that
 * parses, lines that end. */

/* Parsing what a 4 MiB vfio mapping prints (10 MB, page by page) takes a
 * minute under ASan: larger output is only checked to be one object. */
#define MAX_PARSED (1024 * 1024)

static void
assert_json (const GString *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  if (text->len > MAX_PARSED)
    {
      /* the exports end their object with a newline */
      gsize end = text->len - (text->str[text->len - 1] == '\n');

      g_assert_true (end > 1 && text->str[0] == '{' && text->str[end - 1] == '}');
      return;
    }
  if (!json_parser_load_from_data (parser, text->str, text->len, &error))
    g_error ("not JSON (%s): %.*s", error->message, (int) MIN (text->len, 400), text->str);
}

static void
check_run (const IovScenario *scenario,
           const IovRun      *run,
           gboolean           export)
{
  g_autoptr(GString) out = g_string_new (NULL);

  g_assert_cmpuint (run->steps->len, ==, scenario->steps->len);
  g_assert_cmpint (run->aborted_at, <, (int) run->steps->len);
  for (guint i = 0; i < run->steps->len; i++)
    {
      const IovStepResult *step = iov_run_get_step (run, i);

      g_assert_nonnull (step);
      if (run->aborted_at >= 0 && (int) i > run->aborted_at)
        g_assert_true (step->not_run);
    }
  for (int i = -1; i < (int) MIN (run->steps->len, 4); i++)
    g_ptr_array_unref (iov_run_spaces_at (run, i));

  /* the what-if JSON has every run; the exports are checked on one */
  if (!export)
    return;
  iov_export_perfetto (run, out);
  assert_json (out);
  g_string_truncate (out, 0);
  iov_export_csv (run, out);
  g_assert_true (out->len > 0 && out->str[out->len - 1] == '\n');
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(IovScenario) scenario = NULL;
  g_autoptr(IovScenario) tree = NULL;
  g_autoptr(GError) tree_error = NULL;
  g_autoptr(IovWhatIf) what_if = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *text = g_strndup ((const char *) data, size);
  const IovProfile **profiles;
  guint n_profiles;

  fuzz_init ();
  if (fuzz_json_has_second_value (text, size))
    return 0;
  scenario = iov_scenario_new_from_data (text, size, "fuzz.json", &error);
  /* the streaming reader and json-glib's tree agree, errors included */
  tree = iov_scenario_new_from_data_tree (text, size, "fuzz.json", &tree_error);
  g_assert_true ((scenario == NULL) == (tree == NULL));
  if (scenario == NULL)
    {
      fuzz_assert_error (error);
      g_assert_true (g_str_has_prefix (error->message, "fuzz.json"));
      g_assert_cmpstr (error->message, ==, tree_error->message);
      return 0;
    }
  g_assert_no_error (error);
  g_assert_true (iov_scenario_equal (scenario, tree));

  profiles = iov_profile_list (&n_profiles);
  what_if = iov_what_if_new (scenario, profiles, n_profiles);
  g_assert_cmpuint (what_if->runs->len, ==, n_profiles);
  for (guint i = 0; i < what_if->runs->len; i++)
    {
      IovWhatIfRun *r = g_ptr_array_index (what_if->runs, i);

      g_assert_true (r->profile == profiles[i]);
      g_assert_true ((r->run == NULL) != (r->error == NULL));
      if (r->error != NULL)
        fuzz_assert_error (r->error);
      else
        check_run (scenario, r->run, i == size % n_profiles);
    }
  g_array_unref (iov_what_if_differences (what_if));
  iov_what_if_write_json (what_if, out);
  assert_json (out);
  return 0;
}
