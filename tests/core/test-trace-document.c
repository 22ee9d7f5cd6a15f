/* test-trace-document.c
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

#include "iov-trace-document.h"
#include "../test-xz.h"

/* The pipeline without a display (issue J): a real vhost-user capture of
 * QEMU 7.2.22 read through IovTraceDocument as the window reads it (events
 * stored, deliveries joined to them), and the wait for a live topology. */

static JsonNode *
load_snapshot (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "snapshots", name, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

/* Every delivery of the lazy run joins its store event although vhost's
 * flags were decided ~11,000 lines after vhost started (the inference held
 * those lines back); the counts are those of iovista-cli trace --stats. */
static void
test_real_capture_joined (void)
{
  g_autofree char *trace = test_read_xz_trace ("qemu-versions/7.2/vhu-cm-off-lazy.log.xz");
  g_autoptr(JsonNode) snapshot = load_snapshot ("vhost-user-intel-ats.json");
  g_autoptr(IovTraceDocument) doc = NULL;
  g_autoptr(GError) error = NULL;
  IovDeliveryLog *log;
  guint64 n_events, first_joined, n_deliveries, lines = 0, joined = 0, delivered = 0;

  if (trace == NULL)
    {
      g_test_skip ("xz is not installed");
      return;
    }
  for (const char *p = trace; *p; p++)
    lines += *p == '\n';
  doc = iov_trace_document_new (iov_trace_catalog_new_builtin (), IOV_TRACE_DOCUMENT_KEEP_EVENTS);
  g_assert_true (iov_trace_document_set_snapshot (doc, snapshot, &error));
  g_assert_no_error (error);
  iov_trace_document_feed (doc, trace, strlen (trace), 0);
  iov_trace_document_finish (doc);

  g_assert_cmpuint (iov_trace_document_get_n_lines (doc), ==, lines);
  g_assert_cmpuint (iov_event_store_get_n_events (iov_trace_document_get_store (doc)), ==,
                    iov_trace_document_get_stats (doc)->events);
  iov_trace_document_take_news (doc, &n_events, &first_joined, &n_deliveries);
  g_assert_cmpuint (n_events, ==, iov_trace_document_get_stats (doc)->events);
  g_assert_cmpuint (first_joined, !=, IOV_DELIVERY_LOG_NO_EVENT);

  log = iov_trace_document_get_log (doc);
  g_assert_cmpuint (iov_delivery_log_get_n (log), ==, n_deliveries);
  for (guint64 i = 0; i < iov_delivery_log_get_n (log); i++)
    {
      guint64 event;
      const IovDelivery *d = iov_delivery_log_get (log, i, &event);

      joined += event != IOV_DELIVERY_LOG_NO_EVENT;
      delivered += d->outcome.result == IOV_RESULT_DELIVERED;
    }
  g_assert_cmpuint (joined, ==, iov_delivery_log_get_n (log));
  /* 15 full flushes cropped to both sections, each observed (req:22) */
  g_assert_cmpuint (delivered, ==, 30);
  g_assert_cmpuint (iov_trace_document_get_n_delivered (doc), ==, 30);
  g_assert_cmpuint (iov_trace_document_get_n_observed (doc), ==, 30);
}

static void
count_signal (IovTraceDocument *doc,
              guint64           line,
              GArray           *lines)
{
  g_array_append_val (lines, line);
}

/* Following a live VM: nothing is inferred before the first snapshot, and
 * after a topology event the lines wait for the topology of that moment:
 * the notifiers the new snapshot brings count from the event's line. */
static void
test_follow_topology (void)
{
  static const char before[] =
    "1@1.000001:vtd_inv_desc invalidate desc type device high 0x7ffffffffffff001 low 0x10000000003\n"
    "1@1.000002:vtd_switch_address_space Device 01:00.0 switching address space (iommu enabled=1)\n"
    "1@1.000003:vhost_dev_start 0x1:virtio-net vrings:0\n"
    "1@1.000004:vtd_inv_desc invalidate desc type device high 0x7ffffffffffff001 low 0x10000000003\n"
    "1@1.000005:vhost_user_write req:22 flags:0x9\n"
    "1@1.000006:vhost_user_write req:22 flags:0x9\n";
  g_autoptr(JsonNode) empty = load_snapshot ("vhost-user-intel-ats.json");
  g_autoptr(JsonNode) full = load_snapshot ("vhost-user-intel-ats.json");
  g_autoptr(IovTraceDocument) doc = iov_trace_document_new (iov_trace_catalog_new_builtin (),
                                                             IOV_TRACE_DOCUMENT_KEEP_DELIVERIES);
  g_autoptr(GArray) signalled = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr(GError) error = NULL;
  gsize first_len = strchr (before, '\n') - before + 1;
  GPtrArray *notifiers;
  JsonArray *spaces;

  /* the VM before DMA remapping: no notifiers yet */
  spaces = json_object_get_array_member (json_node_get_object (empty), "address_spaces");
  json_array_remove_element (spaces, 0);

  iov_trace_document_set_follow_topology (doc, TRUE);
  g_signal_connect (doc, "topology-changed", G_CALLBACK (count_signal), signalled);
  iov_trace_document_feed (doc, before, first_len, 0);   /* the first line */
  g_assert_null (iov_trace_document_get_inference (doc));
  g_assert_true (iov_trace_document_set_snapshot (doc, empty, &error));
  g_assert_no_error (error);
  iov_trace_document_feed (doc, before + first_len, strlen (before) - first_len, 0);
  /* switch and vhost start: both asked for the topology */
  g_assert_cmpuint (signalled->len, ==, 2);
  g_assert_cmpuint (g_array_index (signalled, guint64, 0), ==, 2);
  g_assert_cmpuint (g_array_index (signalled, guint64, 1), ==, 3);
  g_assert_cmpuint (iov_trace_document_get_deliveries (doc)->len, ==, 0);

  g_assert_true (iov_trace_document_set_snapshot (doc, full, &error));
  g_assert_no_error (error);
  iov_trace_document_finish (doc);

  notifiers = iov_inference_get_notifiers (iov_trace_document_get_inference (doc));
  g_assert_cmpuint (notifiers->len, ==, 2);
  for (guint i = 0; i < notifiers->len; i++)
    {
      const IovInferenceNotifier *n = g_ptr_array_index (notifiers, i);

      /* learnt at the switch (line 2), registered when vhost started (3) */
      g_assert_cmpuint (n->from_line, ==, 3);
      g_assert_cmpstr (n->flags_source, ==, "trace");
    }
  /* line 1's flush came before any notifier: nothing; line 4's reached
   * both sections, each confirmed by an IOTLB message */
  g_assert_cmpuint (iov_trace_document_get_n_delivered (doc), ==, 2);
  g_assert_cmpuint (iov_trace_document_get_n_observed (doc), ==, 2);
  g_assert_cmpuint (iov_inference_get_n_unexplained (iov_trace_document_get_inference (doc)), ==, 0);
}

static void
loaded (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  IovTraceDocument **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = iov_trace_document_load_finish (result, &error);
  g_assert_no_error (error);
}

static void
test_load_async (void)
{
  g_autofree char *trace = test_read_xz_trace ("qemu-versions/11.1/vhu-cm-off-lazy.log.xz");
  g_autoptr(JsonNode) snapshot = load_snapshot ("vhost-user-intel-ats.json");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(IovTraceDocument) doc = NULL;

  if (trace == NULL)
    {
      g_test_skip ("xz is not installed");
      return;
    }
  json_object_set_string_member (json_object_get_object_member (json_node_get_object (snapshot), "qemu"),
                                 "version", "11.1.3");
  bytes = g_bytes_new (trace, strlen (trace));
  iov_trace_document_load_async (NULL, bytes, snapshot, NULL, loaded, &doc);
  while (doc == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (iov_trace_document_get_store (doc));
  g_assert_cmpuint (iov_trace_document_get_n_delivered (doc), ==, 30);
  g_assert_cmpuint (iov_trace_document_get_n_observed (doc), ==, 30);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/trace-document/real-capture-joined", test_real_capture_joined);
  g_test_add_func ("/trace-document/follow-topology", test_follow_topology);
  g_test_add_func ("/trace-document/load-async", test_load_async);
  return g_test_run ();
}
