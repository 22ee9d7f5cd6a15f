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
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <unistd.h>

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

static char *
data_file (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "scenarios", name, NULL);
}

static JsonObject *
parse_object (JsonParser *parser,
              const char *text)
{
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_node_get_object (json_parser_get_root (parser));
}

static void
test_what_if_example (void)
{
  g_autofree char *path = data_file ("issue-example.json");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root;
  JsonArray *outcomes;
  int status = run_cli (NULL, &out, &err, "what-if", path, NULL);

  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "");
  root = parse_object (parser, out);
  g_assert_cmpstr (json_object_get_string_member (root, "profile"), ==, "qemu-6.0");
  g_assert_cmpint (json_object_get_int_member (root, "aborted_at"), ==, 0);
  outcomes = json_object_get_array_member (json_array_get_object_element (json_object_get_array_member (root, "steps"), 0),
                                           "outcomes");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (outcomes, 0), "addr_mask"), ==,
                   "0xffffffff010fffff");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (outcomes, 1), "result"), ==, "abort");
}

static void
test_what_if_profiles (void)
{
  g_autofree char *path = data_file ("issue-example.json");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root;
  JsonArray *runs, *diffs;
  int status;

  /* One --profile overrides the scenario's own. */
  status = run_cli (NULL, &out, &err, "what-if", path, "--profile", "qemu-10.2", NULL);
  g_assert_cmpint (status, ==, 0);
  root = parse_object (parser, out);
  g_assert_cmpstr (json_object_get_string_member (root, "profile"), ==, "qemu-10.2");
  g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (root, "aborted_at")));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* One invalid profile alone is an error (no deviotlb-unmap in 5.0). */
  status = run_cli (NULL, &out, &err, "what-if", path, "--profile", "qemu-5.0", NULL);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, "notifiers[1].flags"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* In a comparison it is a run with an error, and the exit status is 0. */
  status = run_cli (NULL, &out, &err, "what-if", path, "--compare", NULL);
  g_assert_cmpint (status, ==, 0);
  root = parse_object (parser, out);
  runs = json_object_get_array_member (root, "runs");
  /* every row of the release table: 5.0 … 11.1 and debian-7.2 */
  g_assert_cmpuint (json_array_get_length (runs), ==, 21);
  g_assert_true (json_object_has_member (json_array_get_object_element (runs, 0), "error"));
  diffs = json_object_get_array_member (root, "differences");
  g_assert_cmpuint (json_array_get_length (diffs), ==, 2);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (diffs, 1), "step"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (json_array_get_object_element (diffs, 1),
                                                                                  "profiles"), "qemu-6.0"), ==, "not_run");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = run_cli (NULL, &out, &err, "what-if", path, "-p", "qemu-6.0", "-p", "qemu-10.2", NULL);
  g_assert_cmpint (status, ==, 0);
  root = parse_object (parser, out);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "runs")), ==, 2);
}

static void
test_what_if_builtin (void)
{
  static const char *names[] = {
    "2020-deviotlb-crash", "two-flatranges", "vfio-caching-mode", "vhost-double-unmap", "virtio-iommu-split",
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonObject *root;
      JsonArray *steps;
      int status = run_cli (NULL, &out, &err, "what-if", "--builtin", names[i], NULL);

      g_assert_cmpint (status, ==, 0);
      root = parse_object (parser, out);
      steps = json_object_get_array_member (root, "steps");
      g_assert_cmpuint (json_array_get_length (steps), >, 0);
      /* Topology steps explain themselves and list registrations. */
      g_assert_true (json_object_has_member (json_array_get_object_element (steps, 0), "explain"));
      g_assert_true (json_object_has_member (json_array_get_object_element (steps, 0), "registrations"));
    }
}

static void
check_what_if_error (const char *file,
                     const char *suffix)
{
  g_autofree char *path = data_file (file);
  g_autofree char *expect = g_strconcat (path, suffix, NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = run_cli (NULL, &out, &err, "what-if", path, NULL);

  g_assert_cmpint (status, ==, 2);
  g_assert_cmpstr (out, ==, "");
  if (!g_str_has_prefix (err, expect))
    g_error ("stderr “%s” does not start with “%s”", err, expect);
  g_assert_cmpint (count_lines (err), ==, 1);
}

static void
test_what_if_errors (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  check_what_if_error ("syntax-error.json", ":2:13: ");
  check_what_if_error ("bad-value.json", ": steps[3].addr: expected a hex string");
  check_what_if_error ("no-profile.json", ": no profile");
  check_what_if_error ("does-not-exist.json", ": ");

  status = run_cli (NULL, &out, &err, "what-if", "x.json", "--profile", "qemu-4.2", NULL);
  g_assert_cmpint (status, ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  status = run_cli (NULL, &out, &err, "what-if", NULL);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, "missing the scenario file"));
}

static void
test_trace_infer (void)
{
  g_autofree char *xz_path = g_test_build_filename (G_TEST_DIST, "data", "trace", "qemu-7.2",
                                                    "guest-virtio-iommu-vhost-user-nomsi", "trace.log.xz", NULL);
  g_autofree char *snapshot = g_test_build_filename (G_TEST_DIST, "data", "snapshots",
                                                     "virtio-iommu-vhost-user.json", NULL);
  g_autofree char *xz = g_find_program_in_path ("xz");
  g_autofree char *log = NULL;
  g_autofree char *text = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GSubprocess) proc = NULL;
  JsonObject *root, *inf, *per;
  int fd;

  if (xz == NULL)
    {
      g_test_skip ("xz is not installed");
      return;
    }
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, xz, "-dc", xz_path, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &text, NULL, &error);
  g_assert_no_error (error);
  fd = g_file_open_tmp ("iovista-infer-XXXXXX.log", &log, &error);
  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (log, text, -1, NULL));

  g_assert_cmpint (run_cli (NULL, &out, &err, "trace", log, "--infer", snapshot, NULL), ==, 0);
  root = parse_object (parser, out);
  /* The counts stay exactly as without --infer. */
  g_assert_cmpint (json_object_get_int_member (root, "lines"), ==, 18065);
  inf = json_object_get_object_member (root, "inference");
  g_assert_nonnull (inf);
  g_assert_cmpstr (json_object_get_string_member (inf, "profile"), ==, "debian-7.2");
  /* Every virtio_iommu_notify_unmap reaches the vhost-user backend, and
   * each is followed by its VHOST_USER_IOTLB_MSG. */
  g_assert_cmpint (json_object_get_int_member (inf, "deliveries"), ==, 748);
  g_assert_cmpint (json_object_get_int_member (inf, "observed"), ==, 748);
  per = json_object_get_object_member (json_object_get_object_member (inf, "notifiers"), "00:02.0.vhost.1");
  g_assert_cmpint (json_object_get_int_member (per, "delivered"), ==, 748);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (inf, "findings")), ==, 0);

  /* Saved as a recording, it reads back the same, snapshot included. */
  {
    g_autofree char *rec = g_strconcat (log, ".iovista", NULL);
    g_autofree char *out2 = NULL;
    g_autofree char *out3 = NULL;

    g_clear_pointer (&err, g_free);
    g_assert_cmpint (run_cli (NULL, &out2, &err, "trace", log, "--infer", snapshot, "--record", rec, NULL), ==, 0);
    g_assert_cmpstr (out2, ==, out);
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (run_cli (NULL, &out3, &err, "trace", rec, NULL), ==, 0);
    g_assert_cmpstr (out3, ==, out);
    g_unlink (rec);
  }

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (NULL, &out, &err, "trace", log, "--infer", "/nonexistent.json", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "/nonexistent.json"));
  g_unlink (log);
}

/* Invalid snapshots (issue M): exit 2 and a message that names the file
 * and the JSON path of what is wrong, never a signal (run_cli() checks the
 * process exited).  The first two crashed `trace --infer` once: SIGSEGV
 * (sscanf on NULL) and a signed overflow; a fuzzer found both. */
static void
test_trace_infer_invalid (void)
{
  static const struct { const char *file, *message; } cases[] = {
    { "regression-version-true.json", "qemu.version: expected a string, found true" },
    { "regression-version-overflow.json",
      "qemu.version: \"72222222222222.2.22\" is not MAJOR.MINOR[.MICRO] with each part from 0 to 65535" },
    { "bad-hex.json", "address_spaces[0].notifiers[0].start: \"0xZZ\" is not a hex number" },
  };
  static const char trace[] =
    "1@1796403255.518268:vtd_inv_desc invalidate desc type device high 0x7ffffffffffff001 low 0x10000000003\n";

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "fuzz", "corpus", "snapshot", cases[i].file, NULL);
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;

      g_assert_cmpint (run_cli (trace, &out, &err, "trace", "-", "--infer", path, NULL), ==, 2);
      g_assert_cmpstr (out, ==, "");
      g_assert_nonnull (strstr (err, path));
      g_assert_nonnull (strstr (err, cases[i].message));
    }
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
  g_test_add_func ("/cli/what-if/example", test_what_if_example);
  g_test_add_func ("/cli/what-if/profiles", test_what_if_profiles);
  g_test_add_func ("/cli/what-if/builtin", test_what_if_builtin);
  g_test_add_func ("/cli/what-if/errors", test_what_if_errors);
  g_test_add_func ("/cli/trace/infer", test_trace_infer);
  g_test_add_func ("/cli/trace/infer-invalid", test_trace_infer_invalid);
  return g_test_run ();
}
