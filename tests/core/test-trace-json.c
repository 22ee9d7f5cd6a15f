/* test-trace-json.c — decoded events as JSON back into QEMU's log lines
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

#include <string.h>

#include "iov-trace-events.h"
#include "iov-trace-json.h"
#include "iov-trace-parser.h"
#include "../test-xz.h"

static IovTraceCatalog *
fixture_catalog (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "trace", "qemu-7.2", "trace-events",
                                                 "trace-events-all.txt", NULL);
  g_autoptr(GError) error = NULL;
  IovTraceCatalog *cat = iov_trace_catalog_new_from_file (path, &error);

  g_assert_no_error (error);
  return cat;
}

/* The object the relay and `iovista-cli trace --events` write for @line
 * (iov_relay_append_event(), which src/core cannot link). */
static JsonObject *
event_object (IovTraceCatalog    *cat,
              const IovTraceLine *line)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  IovTraceArg args[IOV_TRACE_MAX_ARGS];
  guint n = 0;
  g_autofree char *name = g_strndup (line->name, line->name_len);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ts_ns");
  if (line->has_ts)
    json_builder_add_int_value (b, line->ts_ns);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "tid");
  if (line->has_tid)
    json_builder_add_int_value (b, line->tid);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "args");
  json_builder_begin_object (b);
  if (line->event_id >= 0 && iov_trace_catalog_decode (cat, line->event_id, line->args, line->args_len, args, &n))
    {
      for (guint i = 0; i < n; i++)
        {
          g_autofree char *text = g_strndup (args[i].text, args[i].len);

          json_builder_set_member_name (b, args[i].name);
          json_builder_add_string_value (b, text);
        }
      json_builder_end_object (b);
    }
  else
    {
      g_autofree char *raw = g_strndup (line->args, line->args_len);

      json_builder_end_object (b);
      json_builder_set_member_name (b, "raw");
      json_builder_add_string_value (b, raw);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_object_ref (json_node_get_object (root));
}

/* One event line as the relay sends it comes back byte for byte, and
 * without the text round trip gives what the parser read, field by field.
 * Returns how it was rendered. */
static IovTraceJsonRender
check_line (IovTraceCatalog *cat,
            char            *text)
{
  g_autoptr(JsonObject) event = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) body = g_string_new ("x");
  IovTraceLine line, again, direct;
  IovTraceJsonRender how, how2;
  IovTraceJsonLine jl;
  gsize len = strlen (text);

  if (len > 0 && text[len - 1] == '\r')
    text[--len] = '\0';
  if (iov_trace_parse_line (cat, text, len, &line) != IOV_TRACE_LINE_EVENT)
    return IOV_TRACE_JSON_APPROX;
  event = event_object (cat, &line);
  g_assert_true (iov_trace_json_render_line (cat, event, out, &how));
  g_assert_cmpint (out->str[out->len - 1], ==, '\n');
  g_string_truncate (out, out->len - 1);
  g_assert_cmpint (how, !=, IOV_TRACE_JSON_APPROX);
  if (line.prefix != IOV_TRACE_PREFIX_NONE)
    g_assert_cmpstr (out->str, ==, text);
  else
    g_assert_cmpstr (out->str, ==, line.name);   /* without a prefix: "name args" */
  g_assert_cmpint (iov_trace_parse_line (cat, out->str, out->len, &again), ==, IOV_TRACE_LINE_EVENT);
  g_assert_cmpint (again.event_id, ==, line.event_id);
  g_assert_cmpmem (again.args, again.args_len, line.args, line.args_len);

  g_assert_true (iov_trace_json_append_line (cat, event, body, &jl, &how2));
  g_assert_cmpint (how2, ==, how);
  iov_trace_json_line_get (&jl, body->str, &direct);
  g_assert_cmpint (direct.kind, ==, line.kind);
  g_assert_cmpint (direct.prefix, ==, line.prefix);
  g_assert_cmpint (direct.has_ts, ==, line.has_ts);
  g_assert_cmpint (direct.has_tid, ==, line.has_tid);
  g_assert_cmpuint (direct.tid, ==, line.tid);
  g_assert_cmpuint (direct.sec, ==, line.sec);
  g_assert_cmpuint (direct.usec, ==, line.usec);
  g_assert_cmpuint (direct.ts_ns, ==, line.ts_ns);
  g_assert_cmpint (direct.event_id, ==, line.event_id);
  g_assert_cmpmem (direct.name, direct.name_len, line.name, line.name_len);
  g_assert_cmpmem (direct.args, direct.args_len, line.args, line.args_len);
  return how;
}

/* Every event line of real QEMU 7.2 traces, in each prefix QEMU prints,
 * comes back byte for byte. */
static void
test_fixtures (void)
{
  static const char *files[][2] = {
    { "guest-amd", "trace.excerpt.log" },
    { "guest-intel-rootport", "trace.excerpt.log" },
    { "guest-intel-strict", "trace.excerpt.log" },
    { "guest-virtio-iommu-vhost-user-nomsi", "trace.excerpt.log" },
    { "qmp-session-intel", "trace-during-session.log" },
    { "trace-format-variants", "file-option-msg-timestamp-on.log" },
    { "trace-format-variants", "file-option-no-msg-timestamp.log" },
    { "trace-format-variants", "D-option-no-msg-timestamp.log" },
  };
  g_autoptr(IovTraceCatalog) cat = fixture_catalog ();
  guint n_exact = 0, n_raw = 0;

  for (guint f = 0; f < G_N_ELEMENTS (files); f++)
    {
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "trace", "qemu-7.2", files[f][0],
                                                     files[f][1], NULL);
      g_autofree char *text = NULL;
      g_auto(GStrv) lines = NULL;

      g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
      lines = g_strsplit (text, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        switch (check_line (cat, lines[i]))
          {
          case IOV_TRACE_JSON_EXACT:
            n_exact++;
            break;
          case IOV_TRACE_JSON_RAW:
            n_raw++;
            break;
          case IOV_TRACE_JSON_APPROX:
          default:
            break;
          }
    }
  g_test_message ("%u exact, %u raw", n_exact, n_raw);
  g_assert_cmpuint (n_exact, >, 1000);
}

/* QEMU 10.1+ prints an ISO time and no thread: a real 11.1 capture. */
static void
test_iso_prefix (void)
{
  g_autofree char *text = test_read_xz_trace ("qemu-versions/11.1/vhu-cm-on-strict.log.xz");
  g_autoptr(IovTraceCatalog) cat = fixture_catalog ();
  g_auto(GStrv) lines = NULL;
  guint n = 0;

  if (text == NULL)
    {
      g_test_skip ("xz is not installed");
      return;
    }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      IovTraceLine line;

      if (iov_trace_parse_line (cat, lines[i], strlen (lines[i]), &line) == IOV_TRACE_LINE_EVENT &&
          line.prefix == IOV_TRACE_PREFIX_ISO)
        n++;
      check_line (cat, lines[i]);
    }
  g_test_message ("%u lines with the ISO prefix", n);
  g_assert_cmpuint (n, >, 1000);
}

static JsonObject *
parse_object (const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (json_parser_load_from_data (parser, json, -1, &error));
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static void
test_cases (void)
{
  static const struct {
    const char         *json;
    const char         *line;   /* NULL: refused */
    IovTraceJsonRender  how;
  } cases[] = {
    /* the example of docs/relay.md */
    { "{\"ts_ns\": 1795459774259880000, \"tid\": 13726, \"name\": \"vtd_inv_desc_iotlb_pages\", "
      "\"args\": {\"domain\": \"0x3\", \"addr\": \"0xfffaa000\", \"mask\": \"0x0\"}}",
      "13726@1795459774.259880:vtd_inv_desc_iotlb_pages iotlb invalidate domain 0x3 addr 0xfffaa000 mask 0x0\n",
      IOV_TRACE_JSON_EXACT },
    /* members in another order, spellings render() would not make */
    { "{\"ts_ns\": 5000001000, \"tid\": 1, \"name\": \"vtd_inv_desc_iotlb_pages\", "
      "\"args\": {\"mask\": \"0X00\", \"addr\": \"0xFFFAA000\", \"domain\": \"0x03\"}}",
      "1@5.000001:vtd_inv_desc_iotlb_pages iotlb invalidate domain 0x03 addr 0xFFFAA000 mask 0X00\n",
      IOV_TRACE_JSON_EXACT },
    /* no tid: QEMU 10.1's ISO prefix; no time either: no prefix */
    { "{\"ts_ns\": 1753123408089797000, \"tid\": null, \"name\": \"vtd_inv_desc_iotlb_pages\", "
      "\"args\": {\"domain\": \"0x3\", \"addr\": \"0xfffaa000\", \"mask\": \"0x0\"}}",
      "2025-07-21T18:43:28.089797Z vtd_inv_desc_iotlb_pages iotlb invalidate domain 0x3 addr 0xfffaa000 mask 0x0\n",
      IOV_TRACE_JSON_EXACT },
    { "{\"ts_ns\": null, \"tid\": null, \"name\": \"vtd_inv_qi_fetch\", \"args\": {}}",
      "vtd_inv_qi_fetch \n", IOV_TRACE_JSON_EXACT },
    /* raw text, with a newline that must not split the line */
    { "{\"ts_ns\": 0, \"tid\": 7, \"name\": \"vtd_inv_desc_iotlb_pages\", \"args\": {}, \"raw\": \"odd\\ntext\"}",
      "7@0.000000:vtd_inv_desc_iotlb_pages odd text\n", IOV_TRACE_JSON_RAW },
    /* the relay's catalogue knows arguments ours does not */
    { "{\"ts_ns\": 2000000, \"tid\": 7, \"name\": \"vtd_inv_desc_iotlb_pages\", "
      "\"args\": {\"domain\": \"0x3\", \"addr\": \"0xfffaa000\", \"mask\": \"0x0\", \"ih\": \"1\"}}",
      "7@0.002000:vtd_inv_desc_iotlb_pages domain=0x3 addr=0xfffaa000 mask=0x0 ih=1\n", IOV_TRACE_JSON_APPROX },
    { "{\"ts_ns\": 2000000, \"tid\": 7, \"name\": \"made_up_event\", \"args\": {\"n\": 3}}",
      "7@0.002000:made_up_event n=3\n", IOV_TRACE_JSON_APPROX },
    { "{\"ts_ns\": 1, \"tid\": 1, \"name\": \"bad name\", \"args\": {}}", NULL, 0 },
    { "{\"ts_ns\": 1, \"tid\": 1, \"args\": {}}", NULL, 0 },
    { "{\"ts_ns\": 1, \"tid\": 1, \"name\": 3}", NULL, 0 },
  };
  g_autoptr(IovTraceCatalog) cat = fixture_catalog ();

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonObject) event = parse_object (cases[i].json);
      g_autoptr(GString) out = g_string_new ("previous\nline\n");
      IovTraceJsonRender how = 99;
      gboolean ok;

      g_test_message ("%s", cases[i].json);
      ok = iov_trace_json_render_line (cat, event, out, &how);
      if (cases[i].line == NULL)
        {
          g_assert_false (ok);
          g_assert_cmpstr (out->str, ==, "previous\nline\n");
          continue;
        }
      g_assert_true (ok);
      g_assert_true (g_str_has_prefix (out->str, "previous\nline\n"));
      g_assert_cmpstr (out->str + strlen ("previous\nline\n"), ==, cases[i].line);
      g_assert_cmpint (how, ==, cases[i].how);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/trace/json/fixtures", test_fixtures);
  g_test_add_func ("/trace/json/iso-prefix", test_iso_prefix);
  g_test_add_func ("/trace/json/cases", test_cases);
  return g_test_run ();
}
