/* test-delivery-log.c — deliveries joined to the store's events
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

#include "../test-xz.h"

#include <gio/gio.h>
#include <string.h>

#include "iov-delivery-log.h"
#include "iov-event-store.h"
#include "iov-trace-parser.h"

static IovDelivery
delivery (guint64            line,
          const IovNotifier *notifier,
          IovResult          result,
          guint              type)
{
  IovDelivery d = { 0, };

  d.line = line;
  d.notifier = notifier;
  d.device = "00:02.0";
  d.outcome.result = result;
  d.outcome.type = type;
  return d;
}

static void
test_join (void)
{
  g_autoptr(IovDeliveryLog) log = iov_delivery_log_new ();
  g_autoptr(IovNotifier) a = iov_notifier_new ("a", "vhost", 0, 0xfedfffff, IOV_NOTIFIER_UNMAP);
  g_autoptr(IovNotifier) b = iov_notifier_new ("b", "vfio", 0xfef00000, G_MAXUINT64, IOV_NOTIFIER_IOTLB_EVENTS);
  IovDelivery batch[3];
  guint64 first, end, ev;
  g_autoptr(GArray) counts = NULL;
  const IovDeliveryCount *ca, *cb;

  /* Lines 10, 20, 30, … are events 0, 1, 2, …: other lines are not events. */
  for (guint i = 0; i < 100; i++)
    iov_delivery_log_note_event (log, 10 * (i + 1), i);

  batch[0] = delivery (30, a, IOV_RESULT_DELIVERED, IOV_NOTIFIER_UNMAP);
  batch[1] = delivery (30, b, IOV_RESULT_SKIPPED_RANGE, 0);
  batch[2] = delivery (50, a, IOV_RESULT_DELIVERED, IOV_NOTIFIER_UNMAP);
  g_assert_cmpuint (iov_delivery_log_add (log, batch, 3, NULL), ==, 3);
  /* settled late: belongs between the two events above */
  batch[0] = delivery (40, b, IOV_RESULT_DELIVERED, IOV_NOTIFIER_MAP);
  batch[0].outcome.cropped = 1;
  batch[0].kind = IOV_DELIVERY_OBSERVED;
  g_assert_cmpuint (iov_delivery_log_add (log, batch, 1, &ev), ==, 1);
  g_assert_cmpuint (ev, ==, 3);
  /* a line that was never an event finds none */
  batch[0] = delivery (35, a, IOV_RESULT_ABORT, 0);
  g_assert_cmpuint (iov_delivery_log_add (log, batch, 1, NULL), ==, 0);
  g_assert_cmpuint (iov_delivery_log_get_n (log), ==, 5);

  g_assert_cmpuint (iov_delivery_log_get (log, 0, &ev)->line, ==, 30);
  g_assert_cmpuint (ev, ==, 2);
  g_assert_cmpuint (iov_delivery_log_get (log, 2, &ev)->line, ==, 40);
  g_assert_cmpuint (ev, ==, 3);
  g_assert_cmpuint (iov_delivery_log_get (log, 3, &ev)->line, ==, 50);
  g_assert_cmpuint (ev, ==, 4);
  g_assert_cmpuint (iov_delivery_log_get (log, 4, &ev)->line, ==, 35);
  g_assert_cmpuint (ev, ==, IOV_DELIVERY_LOG_NO_EVENT);
  g_assert_null (iov_delivery_log_get (log, 5, NULL));

  iov_delivery_log_find (log, 2, 3, &first, &end);
  g_assert_cmpuint (first, ==, 0);
  g_assert_cmpuint (end, ==, 2);
  iov_delivery_log_find (log, 3, 100, &first, &end);
  g_assert_cmpuint (first, ==, 2);
  g_assert_cmpuint (end, ==, 4);
  iov_delivery_log_find (log, 0, 2, &first, &end);
  g_assert_cmpuint (first, ==, end);

  counts = iov_delivery_log_count (log, NULL, 0, 4);
  g_assert_cmpuint (counts->len, ==, 2);
  ca = &g_array_index (counts, IovDeliveryCount, 0);
  cb = &g_array_index (counts, IovDeliveryCount, 1);
  g_assert_true (ca->notifier == a);
  g_assert_cmpuint (ca->events, ==, 2);
  g_assert_cmpuint (ca->by_type[1], ==, 2);
  g_assert_true (cb->notifier == b);
  g_assert_cmpuint (cb->events, ==, 2);
  g_assert_cmpuint (cb->skipped_range, ==, 1);
  g_assert_cmpuint (cb->by_type[0], ==, 1);
  g_assert_cmpuint (cb->cropped, ==, 1);
  g_assert_cmpuint (cb->observed, ==, 1);
  g_clear_pointer (&counts, g_array_unref);

  counts = iov_delivery_log_count (log, "00:03.0", 0, 5);
  g_assert_cmpuint (counts->len, ==, 0);

  g_assert_cmpstr (iov_delivery_outcome_word (iov_delivery_log_get (log, 2, NULL)), ==, "cropped");
  g_assert_cmpstr (iov_delivery_outcome_word (iov_delivery_log_get (log, 1, NULL)), ==, "skipped-range");

  iov_delivery_log_clear (log);
  g_assert_cmpuint (iov_delivery_log_get_n (log), ==, 0);
}

/* Lines that left the ring (more than 16384 events ago) find no event. */
static void
test_ring (void)
{
  g_autoptr(IovDeliveryLog) log = iov_delivery_log_new ();
  IovDelivery d[2] = { delivery (1, NULL, IOV_RESULT_DELIVERED, IOV_NOTIFIER_UNMAP),
                       delivery (19000, NULL, IOV_RESULT_DELIVERED, IOV_NOTIFIER_UNMAP) };
  guint64 ev;

  for (guint i = 0; i < 20000; i++)
    iov_delivery_log_note_event (log, i + 1, i);
  g_assert_cmpuint (iov_delivery_log_add (log, d, 2, NULL), ==, 1);
  g_assert_nonnull (iov_delivery_log_get (log, 0, &ev));
  g_assert_cmpuint (ev, ==, 18999);
}

/* A real capture through the store, the inference and the log, as the
 * app feeds them: every delivery lands on the store event of its line. */
static void
test_capture (void)
{
  g_autofree char *snap_path = g_test_build_filename (G_TEST_DIST, "data", "snapshots",
                                                      "virtio-iommu-vhost-user.json", NULL);
  g_autofree char *trace = test_read_xz_trace ("qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.log.xz");
  g_autoptr(IovTraceCatalog) catalog = iov_trace_catalog_new_builtin ();
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(IovInference) inf = NULL;
  g_autoptr(IovEventStore) store = NULL;
  g_autoptr(IovDeliveryLog) log = iov_delivery_log_new ();
  g_autoptr(GArray) d = g_array_new (FALSE, FALSE, sizeof (IovDelivery));
  g_autoptr(GArray) counts = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GHashTable) line_names = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  guint64 found = 0, unmaps = 0;

  if (trace == NULL)
    {
      g_test_skip ("xz is not installed");
      return;
    }
  json_parser_load_from_file (parser, snap_path, &error);
  g_assert_no_error (error);
  inf = iov_inference_new_from_snapshot (json_parser_get_root (parser), NULL, &error);
  g_assert_no_error (error);
  store = iov_event_store_new (catalog);

  lines = test_lines_of (trace);
  for (guint i = 0; lines[i]; i++)
    {
      IovTraceLine line;
      guint64 index;
      g_autofree char *name = NULL;

      if (iov_trace_parse_line (catalog, lines[i], strlen (lines[i]), &line) != IOV_TRACE_LINE_EVENT)
        continue;
      name = g_strndup (line.name, line.name_len);
      index = iov_event_store_append_line (store, &line, 0);
      iov_delivery_log_note_event (log, i + 1, index);
      g_hash_table_insert (line_names, GSIZE_TO_POINTER (index), g_strdup (name));
      g_array_set_size (d, 0);
      iov_inference_feed (inf, line.ts_ns, i + 1, name, line.args, line.args_len, d);
      found += iov_delivery_log_add (log, (IovDelivery *) (gpointer) d->data, d->len, NULL);
      unmaps += d->len;
    }
  g_array_set_size (d, 0);
  iov_inference_finish (inf, d);
  found += iov_delivery_log_add (log, (IovDelivery *) (gpointer) d->data, d->len, NULL);
  unmaps += d->len;

  g_assert_cmpuint (unmaps, >, 0);
  g_assert_cmpuint (found, ==, unmaps);
  g_assert_cmpuint (iov_delivery_log_get_n (log), ==, unmaps);
  for (guint64 i = 0; i < iov_delivery_log_get_n (log); i++)
    {
      guint64 ev, prev = 0;
      const IovDelivery *del = iov_delivery_log_get (log, i, &ev);
      IovEventRecord rec;

      g_assert_true (iov_event_store_get (store, ev, &rec));
      /* the producer event of a virtio-iommu UNMAP */
      g_assert_cmpstr (g_hash_table_lookup (line_names, GSIZE_TO_POINTER (ev)), ==, "virtio_iommu_notify_unmap");
      g_assert_cmpuint (rec.ts_ns, ==, del->ts_ns);
      if (i > 0)
        iov_delivery_log_get (log, i - 1, &prev);
      g_assert_cmpuint (prev, <=, ev);
    }

  counts = iov_delivery_log_count (log, "00:02.0", 0, iov_delivery_log_get_n (log));
  g_assert_cmpuint (counts->len, ==, 1);
  g_assert_cmpuint (g_array_index (counts, IovDeliveryCount, 0).by_type[1], ==, unmaps);
  g_assert_cmpuint (g_array_index (counts, IovDeliveryCount, 0).observed, ==, unmaps);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/delivery-log/join", test_join);
  g_test_add_func ("/delivery-log/ring", test_ring);
  g_test_add_func ("/delivery-log/capture", test_capture);
  return g_test_run ();
}
