/* test-cli.c
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

#include <gio/gio.h>

#include "test-cli-util.h"

static void
test_help (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = run_cli (NULL, &out, &err, "--help", NULL);

  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "what-if"));
  g_assert_nonnull (strstr (out, "snapshot"));
  g_assert_nonnull (strstr (out, "relay"));
}

static void
test_subcommand_help (void)
{
  static const char *names[] = { "what-if", "snapshot", "trace", "export", "relay", "version" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      int status = run_cli (NULL, &out, &err, names[i], "--help", NULL);
      g_autofree char *expect = g_strdup_printf ("iovista-cli %s", names[i]);

      g_assert_cmpint (status, ==, 0);
      g_assert_nonnull (strstr (out, expect));
    }
}

static void
test_unknown_subcommand (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = run_cli (NULL, &out, &err, "frobnicate", NULL);

  g_assert_cmpint (status, ==, 2);
  g_assert_cmpstr (out, ==, "");
  /* One line, naming what was wrong. */
  g_assert_nonnull (strstr (err, "frobnicate"));
  g_assert_cmpint (count_lines (err), ==, 1);
}

static void
test_no_subcommand (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = run_cli (NULL, &out, &err, NULL);

  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, "Usage"));
}

static void
test_bad_option (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = run_cli (NULL, &out, &err, "version", "--no-such-option", NULL);

  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, "--no-such-option"));
  g_assert_cmpint (count_lines (err), ==, 1);
}

static void
test_version (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = run_cli (NULL, &out, &err, "version", NULL);

  g_assert_cmpint (status, ==, 0);
  g_assert_true (g_str_has_prefix (out, "iovista-cli " PACKAGE_VERSION "\n"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/help", test_help);
  g_test_add_func ("/cli/subcommand-help", test_subcommand_help);
  g_test_add_func ("/cli/unknown-subcommand", test_unknown_subcommand);
  g_test_add_func ("/cli/no-subcommand", test_no_subcommand);
  g_test_add_func ("/cli/bad-option", test_bad_option);
  g_test_add_func ("/cli/version", test_version);
  return g_test_run ();
}
