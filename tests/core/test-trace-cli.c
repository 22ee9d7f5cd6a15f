/* test-trace-cli.c — iovista-cli trace: options, --events, stdin
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

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "../cli/test-cli-util.h"

static char *
fixture (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "trace", name, NULL);
}

static char *
events_all (void)
{
  return g_test_build_filename (G_TEST_DIST, "data", "trace", "qemu-7.2", "trace-events",
                                "trace-events-all.txt", NULL);
}

static void
assert_usage_error (const char *what,
                    ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *arg;
  va_list ap;

  g_ptr_array_add (args, (gpointer) g_getenv ("IOVISTA_CLI"));
  g_ptr_array_add (args, (gpointer) "trace");
  va_start (ap, what);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  proc = g_subprocess_newv ((const char * const *) args->pdata,
                            G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("%s: %s", what, err);
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 2);
  g_assert_cmpstr (out, ==, "");
  g_assert_cmpuint (count_lines (err), ==, 1);
  g_assert_true (g_str_has_prefix (err, "iovista-cli trace: "));
}

static void
test_usage (void)
{
  g_autofree char *f = fixture ("edge-cases.log");

  assert_usage_error ("no source", NULL);
  assert_usage_error ("unknown option", "--frobnicate", f, NULL);
  assert_usage_error ("two sources", f, f, NULL);
  assert_usage_error ("both modes", "--stats", "--events", f, NULL);
  assert_usage_error ("missing file", "/nonexistent/trace.log", NULL);
  assert_usage_error ("bad trace-events", "--trace-events", "/nonexistent/te", f, NULL);
  assert_usage_error ("empty unix path", "unix:", NULL);
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
test_events (void)
{
  g_autofree char *f = fixture ("edge-cases.log");
  g_autofree char *te = events_all ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(JsonNode) first = NULL;
  g_autoptr(JsonNode) iso = NULL;
  g_autoptr(JsonNode) plain = NULL;
  g_autoptr(JsonNode) unknown = NULL;
  JsonObject *o, *args;
  guint n = 0;

  g_assert_cmpint (run_cli (NULL, &out, &err, "trace", "--events", "--trace-events", te, f, NULL), ==, 0);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] && *lines[i]; i++)
    {
      g_autoptr(JsonNode) node = parse_json (lines[i]);
      g_autoptr(GList) members = json_object_get_members (json_node_get_object (node));

      /* ts_ns, tid, name, args (+ raw when the text does not decode) */
      g_assert_cmpuint (g_list_length (members), >=, 4);
      g_assert_cmpstr (members->data, ==, "ts_ns");
      g_assert_cmpstr (members->next->data, ==, "tid");
      g_assert_cmpstr (members->next->next->data, ==, "name");
      g_assert_cmpstr (members->next->next->next->data, ==, "args");
      n++;
    }
  g_assert_cmpuint (n, ==, 9);  /* the events of --stats */

  g_assert_cmpstr (lines[2], ==,
                   "{\"ts_ns\": 1795459774259880000, \"tid\": 13726, \"name\": \"vtd_inv_desc\", \"args\": "
                   "{\"type\": \"device\", \"hi\": \"0x7ffffffffffff001\", \"lo\": \"0x1000000003\"}}");
  first = parse_json (lines[0]);
  o = json_node_get_object (first);
  g_assert_cmpint (json_object_get_int_member (o, "tid"), ==, 13726);
  g_assert_cmpstr (json_object_get_string_member (o, "name"), ==, "vtd_dmar_enable");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "args"), "en"), ==, "1");

  /* Unprefixed lines from a file: ts_ns and tid are null. */
  plain = parse_json (lines[4]);
  o = json_node_get_object (plain);
  g_assert_true (json_object_get_null_member (o, "ts_ns"));
  g_assert_true (json_object_get_null_member (o, "tid"));
  g_assert_cmpstr (json_object_get_string_member (o, "name"), ==, "vtd_switch_address_space");
  args = json_object_get_object_member (o, "args");
  g_assert_cmpstr (json_object_get_string_member (args, "bus"), ==, "00");
  g_assert_cmpstr (json_object_get_string_member (args, "slot"), ==, "02");

  /* ISO-8601 prefix: a time, no thread. */
  iso = parse_json (lines[5]);
  o = json_node_get_object (iso);
  g_assert_cmpint (json_object_get_int_member (o, "ts_ns"), ==, G_GINT64_CONSTANT (1753123408089797000));
  g_assert_true (json_object_get_null_member (o, "tid"));
  args = json_object_get_object_member (o, "args");
  g_assert_cmpstr (json_object_get_string_member (args, "domain"), ==, "0x3");
  g_assert_cmpstr (json_object_get_string_member (args, "addr"), ==, "0xfffaa000");
  g_assert_cmpstr (json_object_get_string_member (args, "mask"), ==, "0x0");

  /* An event not in the catalogue keeps its raw text. */
  unknown = parse_json (lines[7]);
  o = json_node_get_object (unknown);
  g_assert_cmpstr (json_object_get_string_member (o, "name"), ==, "my_private_event");
  g_assert_cmpuint (json_object_get_size (json_object_get_object_member (o, "args")), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (o, "raw"), ==, "some text");
}

static void
test_stdin (void)
{
  g_autofree char *te = events_all ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_auto(GStrv) lines = NULL;
  JsonObject *o;
  gint64 now_ns = g_get_real_time () * 1000;

  g_assert_cmpint (run_cli ("vtd_context_cache_reset \r\nnoise\n1@2.000003:vtd_dmar_enable enable 1",
                            &out, &err, "trace", "--trace-events", te, "-", NULL), ==, 0);
  node = parse_json (out);
  o = json_node_get_object (node);
  g_assert_cmpint (json_object_get_int_member (o, "lines"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (o, "events"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (o, "other"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (o, "first_ts"), ==, "2.000003");
  g_assert_cmpstr (json_object_get_string_member (o, "last_ts"), ==, "2.000003");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* From a pipe, unprefixed lines get their arrival time. */
  g_assert_cmpint (run_cli ("vtd_context_cache_reset \n", &out, &err, "trace", "--events", "--trace-events", te, "-", NULL), ==, 0);
  lines = g_strsplit (out, "\n", -1);
  g_clear_pointer (&node, json_node_unref);
  node = parse_json (lines[0]);
  o = json_node_get_object (node);
  g_assert_cmpint (json_object_get_int_member (o, "ts_ns"), >=, now_ns);
  g_assert_true (json_object_get_null_member (o, "tid"));
}

/* Without --trace-events, the default catalogue (QEMU's file if installed,
 * else the built-in table) still knows the IOMMU events. */
static void
test_default_catalogue (void)
{
  g_autofree char *f = fixture ("qemu-7.2/trace-format-variants/D-option-no-msg-timestamp.log");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *o;

  g_assert_cmpint (run_cli (NULL, &out, &err, "trace", "--stats", f, NULL), ==, 0);
  node = parse_json (out);
  o = json_node_get_object (node);
  g_assert_cmpint (json_object_get_int_member (o, "lines"), ==, 16);
  g_assert_cmpint (json_object_get_int_member (o, "events"), ==, 16);
  g_assert_true (json_object_get_null_member (o, "first_ts"));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (o, "by_name"),
                                               "vtd_switch_address_space"), ==, 12);
}

/* A line over 1 MiB is one line, cut, and said so on stderr. */
static void
test_long_line (void)
{
  g_autofree char *te = events_all ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("iov-trace-cli-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "long.log", NULL);
  g_autoptr(GString) text = g_string_new ("1@2.000003:vtd_dmar_enable enable 1\n1@2.000004:vtd_inv_desc ");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *o;

  for (guint i = 0; i < 300000; i++)
    g_string_append (text, "junk");
  g_string_append (text, "\nvtd_context_cache_reset \n");
  g_assert_true (g_file_set_contents (path, text->str, text->len, NULL));
  g_assert_cmpint (run_cli (NULL, &out, &err, "trace", "--trace-events", te, path, NULL), ==, 0);
  node = parse_json (out);
  o = json_node_get_object (node);
  g_assert_cmpint (json_object_get_int_member (o, "lines"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (o, "events"), ==, 3);
  g_assert_nonnull (strstr (err, "1 lines longer than 1 MiB were cut"));
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/trace/cli/usage", test_usage);
  g_test_add_func ("/trace/cli/events", test_events);
  g_test_add_func ("/trace/cli/stdin", test_stdin);
  g_test_add_func ("/trace/cli/default-catalogue", test_default_catalogue);
  g_test_add_func ("/trace/cli/long-line", test_long_line);
  return g_test_run ();
}
