/* test-compare.c
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

#include "iov-compare.h"
#include "iov-trace-parser.h"
#include "../test-xz.h"
#include "iov-compare-run.h"

/* Real traces replayed under every release (issue K). The lazy guest of
 * QEMU 7.2.22 flushes its whole device IOTLB: releases before 6.0 abort at
 * the first such flush (memory_region_notify_one's containment assertion,
 * softmmu/memory.c), 6.0 and later crop it to both vhost notifiers. The
 * strict guest's 4 KiB flushes make no release differ. */

static JsonNode *
snapshot (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "snapshots", "vhost-user-intel-ats.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static JsonNode *
replay (const char        *rel,
        const IovProfile **profiles,
        guint              n_profiles,
        guint64           *first_full_flush)
{
  g_autofree char *trace = test_read_xz_trace (rel);
  g_autoptr(IovTraceCatalog) catalog = iov_trace_catalog_new_builtin ();
  g_autoptr(JsonNode) snap = snapshot ();
  g_autoptr(IovCompare) compare = NULL;
  g_autoptr(GError) error = NULL;
  const char *p, *end;
  guint64 lineno = 0;

  if (trace == NULL)
    return NULL;
  compare = iov_compare_new (snap, profiles, n_profiles, &error);
  g_assert_no_error (error);
  *first_full_flush = 0;
  for (p = trace, end = trace + strlen (trace); p < end;)
    {
      const char *nl = memchr (p, '\n', end - p);
      gsize n = nl ? (gsize) (nl - p) : (gsize) (end - p);
      IovTraceLine line;

      lineno++;
      /* the test's own reading of the text: where the first full flush is */
      if (*first_full_flush == 0 && g_strstr_len (p, n, "type device high 0x7ffffffffffff001 "))
        *first_full_flush = lineno;
      if (iov_trace_parse_line (catalog, p, n, &line) == IOV_TRACE_LINE_EVENT)
        {
          g_autofree char *name = g_strndup (line.name, line.name_len);

          iov_compare_feed (compare, line.ts_ns, lineno, name, line.args, line.args_len);
        }
      p += n + 1;
    }
  iov_compare_finish (compare);
  return iov_compare_to_json (compare);
}

static void
test_lazy (void)
{
  guint64 flush = 0;
  g_autoptr(JsonNode) out = replay ("qemu-versions/7.2/vhu-cm-off-lazy.log.xz", NULL, 0, &flush);
  JsonObject *profiles;
  g_autoptr(GList) ids = NULL;
  guint n_abort = 0, n_crop = 0;

  if (out == NULL)
    {
      g_test_skip ("xz is not installed");
      return;
    }
  g_assert_cmpuint (flush, >, 0);
  profiles = json_object_get_object_member (json_node_get_object (out), "profiles");
  ids = json_object_get_members (profiles);
  for (GList *l = ids; l; l = l->next)
    {
      const IovProfile *profile = iov_profile_lookup (l->data);
      JsonObject *run = json_object_get_object_member (profiles, l->data);
      JsonNode *abort = json_object_get_member (run, "abort");
      JsonObject *notifiers = json_object_get_object_member (run, "notifiers");
      g_autoptr(GList) names = json_object_get_members (notifiers);

      g_assert_nonnull (profile);
      g_test_message ("%s: abort %s, %" G_GINT64_FORMAT " deliveries", (char *) l->data,
                      JSON_NODE_HOLDS_NULL (abort) ? "none" : "yes", json_object_get_int_member (run, "deliveries"));
      if (profile->era == IOV_ERA_5_0)
        {
          JsonObject *a = json_node_get_object (abort);

          /* QEMU stops at the first full-range flush */
          g_assert_cmpint (json_object_get_int_member (a, "line"), ==, flush);
          g_assert_nonnull (strstr (json_object_get_string_member (a, "message"),
                                    "memory_region_notify_one: Assertion `entry->iova >= notifier->start && "
                                    "entry_end <= notifier->end' failed."));
          g_assert_cmpint (json_object_get_int_member (run, "deliveries"), ==, 0);
          n_abort++;
        }
      else
        {
          /* every full flush cropped to both sections */
          g_assert_true (JSON_NODE_HOLDS_NULL (abort));
          g_assert_cmpint (json_object_get_int_member (run, "cropped"), ==, json_object_get_int_member (run, "deliveries"));
          g_assert_cmpuint (g_list_length (names), ==, 2);
          for (GList *n = names; n; n = n->next)
            {
              JsonObject *o = json_object_get_object_member (notifiers, n->data);

              g_assert_cmpint (json_object_get_int_member (o, "cropped"), ==, 15);
              g_assert_cmpstr (json_object_get_string_member (o, "flags"), ==, "deviotlb-unmap");
              g_assert_cmpstr (json_object_get_string_member (o, "flags_source"), ==, "profile");
            }
          n_crop++;
        }
    }
  g_assert_cmpuint (n_abort, >, 0);
  g_assert_cmpuint (n_crop, >, 0);
  /* the first divergence is that flush; the later ones are absent for the
   * releases that aborted, so they do not differ any more */
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (out), "n_divergences"), ==, 1);
  {
    JsonArray *div = json_object_get_array_member (json_node_get_object (out), "divergences");
    JsonObject *first = json_array_get_object_element (div, 0);

    g_assert_cmpint (json_object_get_int_member (first, "line"), ==, flush);
  }
}

static void
test_strict_no_divergence (void)
{
  const IovProfile *profiles[] = {
    iov_profile_lookup ("debian-7.2"), iov_profile_lookup ("qemu-8.1"), iov_profile_lookup ("qemu-10.2"),
  };
  guint64 flush = 0;
  g_autoptr(JsonNode) out = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (profiles); i++)
    g_assert_nonnull (profiles[i]);
  out = replay ("qemu-versions/7.2/vhu-cm-on-strict.log.xz", profiles, G_N_ELEMENTS (profiles), &flush);
  if (out == NULL)
    {
      g_test_skip ("xz is not installed");
      return;
    }
  g_assert_cmpuint (flush, ==, 0);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (out), "n_divergences"), ==, 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (out), "divergences")),
                    ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (profiles); i++)
    {
      JsonObject *run = json_object_get_object_member (json_object_get_object_member (json_node_get_object (out),
                                                                                      "profiles"), profiles[i]->id);

      /* 757 device-IOTLB invalidations of 4 KiB, each reaching the upper section */
      g_assert_cmpint (json_object_get_int_member (run, "deliveries"), ==, 757);
    }
}

static char *
to_text (JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();

  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}

/* A document's stored events replayed a slice at a time (what the window
 * does on a live VM) give what the whole text gives, line numbers
 * included: QEMU's own messages between the events are lines too. */
static void
test_replay_document (void)
{
  g_autofree char *raw = test_read_xz_trace ("qemu-versions/7.2/vhu-cm-off-lazy.log.xz");
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(JsonNode) snap = snapshot ();
  g_autoptr(IovCompareRun) whole = NULL;
  g_autoptr(IovCompareRun) sliced = NULL;
  g_autoptr(IovCompareReplay) replay_ = NULL;
  g_autoptr(IovTraceDocument) doc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_auto(GStrv) lines = NULL;
  guint n_steps = 0, n_other = 0;

  if (raw == NULL)
    return;
  lines = g_strsplit (raw, "\n", -1);
  g_string_append (text, "qemu-system-x86_64: -device intel-iommu: a message before the trace\n\n");
  for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++)
    {
      g_string_append_printf (text, "%s\n", lines[i]);
      if (i % 997 == 0)
        {
          g_string_append (text, "qemu-system-x86_64: warning: between the events\n");
          n_other++;
        }
    }
  g_assert_cmpuint (n_other, >, 10);

  whole = iov_compare_run_text (snap, text->str, text->len, &error);
  g_assert_no_error (error);

  doc = iov_trace_document_new (iov_trace_catalog_new_builtin (), IOV_TRACE_DOCUMENT_KEEP_EVENTS);
  iov_trace_document_feed (doc, text->str, text->len, 0);
  replay_ = iov_compare_replay_new (snap, doc, &error);
  g_assert_no_error (error);
  while (!iov_compare_replay_step (replay_, 5000))
    n_steps++;
  g_assert_cmpuint (n_steps, >, 2);
  sliced = iov_compare_replay_finish (replay_);

  g_assert_cmpuint (sliced->event_lines->len, ==, whole->event_lines->len);
  for (guint i = 0; i < whole->event_lines->len; i++)
    g_assert_cmpuint (g_array_index (sliced->event_lines, guint64, i), ==,
                      g_array_index (whole->event_lines, guint64, i));
  g_assert_cmpuint (sliced->divergence_lines->len, ==, whole->divergence_lines->len);
  g_assert_cmpmem (sliced->divergence_lines->data, sliced->divergence_lines->len * sizeof (guint64),
                   whole->divergence_lines->data, whole->divergence_lines->len * sizeof (guint64));
  a = to_text (whole->result);
  b = to_text (sliced->result);
  g_assert_cmpstr (a, ==, b);
  /* and it says something: the lazy guest's releases differ */
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (sliced->result), "n_divergences"), >, 0);
}

/* Every divergence's line is kept for a view to mark, though the JSON
 * carries the outcomes of the first 1,000 only: the strict 7.2 capture has
 * more than that under every release. */
static void
test_every_divergence (void)
{
  g_autofree char *text = test_read_xz_trace ("qemu-versions/7.2/vhu-cm-on-strict.log.xz");
  g_autoptr(JsonNode) snap = snapshot ();
  g_autoptr(IovCompareRun) run = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *divergences;
  guint64 n;

  if (text == NULL)
    return;
  run = iov_compare_run_text (snap, text, strlen (text), &error);
  g_assert_no_error (error);
  root = json_node_get_object (run->result);
  n = (guint64) json_object_get_int_member (root, "n_divergences");
  divergences = json_object_get_array_member (root, "divergences");
  g_test_message ("%" G_GUINT64_FORMAT " divergences", n);
  g_assert_cmpuint (n, >, 1000);
  g_assert_cmpuint (json_array_get_length (divergences), ==, 1000);
  g_assert_cmpuint (run->divergence_lines->len, ==, n);
  for (guint i = 0; i < run->divergence_lines->len; i++)
    {
      guint64 line = g_array_index (run->divergence_lines, guint64, i);

      if (i > 0)
        g_assert_cmpuint (line, >, g_array_index (run->divergence_lines, guint64, i - 1));
      if (i < 1000)
        g_assert_cmpuint (line, ==, (guint64) json_object_get_int_member (json_array_get_object_element (divergences, i),
                                                                           "line"));
      /* each is an event's line */
      g_assert_cmpuint (iov_compare_run_event_of_line (run, line), !=, G_MAXUINT64);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/compare/lazy-7.2", test_lazy);
  g_test_add_func ("/compare/strict-no-divergence", test_strict_no_divergence);
  g_test_add_func ("/compare/replay-document", test_replay_document);
  g_test_add_func ("/compare/every-divergence", test_every_divergence);
  return g_test_run ();
}
