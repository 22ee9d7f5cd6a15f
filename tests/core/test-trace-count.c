/* test-trace-count.c — `iovista-cli trace --stats` against an independent count
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
#include <string.h>

/* Every trace log of the shared fixtures (copied under tests/data/trace),
 * plus the synthetic edge cases.  Each is counted by tests/trace/count-trace.py
 * (regular expressions, written separately) and by iovista-cli; the two JSON
 * objects must be identical.  The guest traces are also checked against the
 * lab's own event-counts.tsv. */
static const char *fixtures[] = {
  "qemu-7.2/guest-amd/trace.log.xz",
  "qemu-7.2/guest-intel-rootport/trace.log.xz",
  "qemu-7.2/guest-intel-strict/trace.log.xz",
  "qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.log.xz",
  "qemu-7.2/guest-amd/trace.excerpt.log",
  "qemu-7.2/guest-intel-rootport/trace.excerpt.log",
  "qemu-7.2/guest-intel-strict/trace.excerpt.log",
  "qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.excerpt.log",
  "qemu-7.2/trace-format-variants/D-option-no-msg-timestamp.log",
  "qemu-7.2/trace-format-variants/file-option-msg-timestamp-on.log",
  "qemu-7.2/trace-format-variants/file-option-no-msg-timestamp.log",
  "qemu-7.2/trace-format-variants/stderr-msg-timestamp-on.log",
  "qemu-7.2/trace-format-variants/stderr-no-msg-timestamp.log",
  "qemu-7.2/fifo-reattach/first-reader.log",
  "qemu-7.2/fifo-reattach/second-reader.log",
  "qemu-7.2/qmp-session-intel/trace-during-session.log",
  "edge-cases.log",
};

static char *
run_capture (const char * const *argv)
{
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  g_autofree char *err = NULL;

  proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (proc))
    g_error ("%s failed: %s", argv[0], err);
  return out;
}

/* A plain copy of @name (decompressed with xz -dc when it ends in .xz). */
static char *
plain_fixture (const char *name,
               const char *tmpdir)
{
  g_autofree char *src = g_test_build_filename (G_TEST_DIST, "data", "trace", name, NULL);
  g_autofree char *base = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  char *dst;

  if (!g_str_has_suffix (name, ".xz"))
    return g_steal_pointer (&src);
  base = g_strdelimit (g_strndup (name, strlen (name) - 3), "/", '_');
  dst = g_build_filename (tmpdir, base, NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_stdout_file_path (launcher, dst);
  proc = g_subprocess_launcher_spawn (launcher, &error, "xz", "-dc", src, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_check (proc, NULL, &error);
  g_assert_no_error (error);
  return dst;
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static void
check_invariants (JsonObject *stats)
{
  JsonObject *by_name = json_object_get_object_member (stats, "by_name");
  g_autoptr(GList) members = json_object_get_members (by_name);
  gint64 sum = 0;

  g_assert_cmpint (json_object_get_int_member (stats, "lines"), ==,
                   json_object_get_int_member (stats, "events") +
                   json_object_get_int_member (stats, "other") +
                   json_object_get_int_member (stats, "malformed"));
  for (GList *l = members; l; l = l->next)
    sum += json_object_get_int_member (by_name, l->data);
  g_assert_cmpint (sum, ==, json_object_get_int_member (stats, "events"));
  g_assert_cmpint (json_object_get_int_member (stats, "dropped"), ==, 0);
}

/* The lab's analyze.py wrote event-counts.tsv next to each guest trace. */
static void
check_event_counts_tsv (const char *name,
                        JsonObject *stats)
{
  g_autofree char *dir = g_path_get_dirname (name);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "trace", dir, "event-counts.tsv", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  JsonObject *by_name = json_object_get_object_member (stats, "by_name");
  guint n = 0;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto(GStrv) cols = g_strsplit (lines[i], "\t", 2);

      if (cols[0] == NULL || cols[1] == NULL)
        continue;
      g_assert_true (json_object_has_member (by_name, cols[0]));
      g_assert_cmpint (json_object_get_int_member (by_name, cols[0]), ==, g_ascii_strtoll (cols[1], NULL, 10));
      n++;
    }
  g_assert_cmpuint (n, ==, json_object_get_size (by_name));
}

static void
test_count (gconstpointer data)
{
  const char *name = data;
  const char *cli = g_getenv ("IOVISTA_CLI");
  g_autofree char *python = g_find_program_in_path ("python3");
  g_autofree char *xz = g_find_program_in_path ("xz");
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "trace", "count-trace.py", NULL);
  g_autofree char *events = g_test_build_filename (G_TEST_DIST, "data", "trace", "qemu-7.2", "trace-events",
                                                   "trace-events-all.txt", NULL);
  g_autofree char *tmpdir = NULL;
  g_autofree char *plain = NULL;
  g_autofree char *expected_text = NULL;
  g_autofree char *actual_text = NULL;
  g_autoptr(JsonNode) expected = NULL;
  g_autoptr(JsonNode) actual = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (cli);
  if (python == NULL || (xz == NULL && g_str_has_suffix (name, ".xz")))
    {
      g_test_skip ("python3 or xz is not installed");
      return;
    }
  tmpdir = g_dir_make_tmp ("iov-trace-count-XXXXXX", &error);
  g_assert_no_error (error);
  plain = plain_fixture (name, tmpdir);

  {
    const char *argv[] = { python, script, "--trace-events", events, plain, NULL };
    expected_text = run_capture (argv);
  }
  {
    const char *argv[] = { cli, "trace", "--stats", "--trace-events", events, plain, NULL };
    actual_text = run_capture (argv);
  }
  expected = parse_json (expected_text);
  actual = parse_json (actual_text);
  /* the IOTLB traffic (issue L) has its own independent count: test-traffic */
  json_object_remove_member (json_node_get_object (actual), "traffic");
  if (!json_node_equal (expected, actual))
    g_error ("%s:\n independent: %s\n iovista-cli: %s", name, expected_text, actual_text);
  check_invariants (json_node_get_object (actual));
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (actual), "lines"), >, 0);
  if (g_str_has_suffix (name, "trace.log.xz"))
    check_event_counts_tsv (name, json_node_get_object (actual));

  if (g_str_has_suffix (name, ".xz"))
    g_unlink (plain);
  g_rmdir (tmpdir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (fixtures); i++)
    {
      g_autofree char *path = g_strdup_printf ("/trace/count/%s", fixtures[i]);

      g_test_add_data_func (path, fixtures[i], test_count);
    }
  return g_test_run ();
}
