/* test-event-query.c — the event list's search language, without a display
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

#include "iov-event-query.h"
#include "iov-explain.h"
#include "iov-trace-document.h"
#include "iov-trace-parser.h"
#include "../test-xz.h"

/* The capture tests/app/test-event-list.c opens, and its VM's notifiers */
#define CAPTURE_TRACE    "qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.log.xz"
#define CAPTURE_SNAPSHOT "virtio-iommu-vhost-user.json"

/* ---- parsing ------------------------------------------------------------ */

static IovEventQuery *
parse_ok (const char *text)
{
  g_autoptr(GError) error = NULL;
  IovEventQuery *query = iov_event_query_new (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (query);
  return query;
}

static void
test_parse_terms (void)
{
  g_autoptr(IovEventQuery) q = parse_ok ("  EVENT:Notify_Unmap\tdevice:00:02.0 notifier:VHOST outcome:observed "
                                         "Virt_Start=0x0 iova: 00:03.0 ");
  const char * const *words = iov_event_query_get_words (q);

  g_assert_false (iov_event_query_is_empty (q));
  /* lower-cased: every term matches whatever the case */
  g_assert_cmpstr (iov_event_query_get_event (q), ==, "notify_unmap");
  g_assert_cmpstr (iov_event_query_get_device (q), ==, "00:02.0");
  g_assert_cmpstr (iov_event_query_get_notifier (q), ==, "vhost");
  g_assert_cmpstr (iov_event_query_get_outcome (q), ==, "observed");
  g_assert_true (iov_event_query_uses_deliveries (q));
  /* "iova:" is printed by QEMU (vhost-vdpa), not a key: a word */
  g_assert_cmpuint (g_strv_length ((char **) words), ==, 3);
  g_assert_cmpstr (words[0], ==, "virt_start=0x0");
  g_assert_cmpstr (words[1], ==, "iova:");
  g_assert_cmpstr (words[2], ==, "00:03.0");
}

static void
test_parse_empty (void)
{
  const char *const empties[] = { NULL, "", "   \t ", "event:", "event: outcome: notifier: device:" };

  for (guint i = 0; i < G_N_ELEMENTS (empties); i++)
    {
      g_autoptr(IovEventQuery) q = parse_ok (empties[i]);

      g_assert_true (iov_event_query_is_empty (q));
      g_assert_null (iov_event_query_get_event (q));
      g_assert_null (iov_event_query_get_outcome (q));
      g_assert_null (iov_event_query_get_words (q)[0]);
      g_assert_false (iov_event_query_uses_deliveries (q));
    }
  /* only event: and words: deliveries joining late change nothing */
  {
    g_autoptr(IovEventQuery) q = parse_ok ("event:unmap 0x1000");

    g_assert_false (iov_event_query_is_empty (q));
    g_assert_false (iov_event_query_uses_deliveries (q));
  }
}

static void
test_parse_bad (void)
{
  static const struct { const char *text; const char *term; } bad[] = {
    { "outcome:delivred", "outcome:delivred" },
    { "event:unmap outcome:ABORTED", "outcome:aborted" },
    { "event:map event:unmap", "event:unmap" },
    { "device:00:02.0 x device:00:03.0", "device:00:03.0" },
    { "notifier:vhost notifier:vfio", "notifier:vfio" },
    { "outcome:abort outcome:observed", "outcome:observed" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(IovEventQuery) q = iov_event_query_new (bad[i].text, &error);

      g_assert_null (q);
      g_assert_error (error, IOV_ERROR, IOV_ERROR_INVALID);
      /* the message names the term, as typed but lower-cased */
      g_assert_nonnull (strstr (error->message, bad[i].term));
    }

  /* any part of an outcome word is one: the search narrows as one types */
  {
    const char *const prefixes[] = { "outcome:d", "outcome:skipped", "outcome:range", "outcome:flags",
                                     "outcome:abo", "outcome:obs", "outcome:inferred", "outcome:-" };

    for (guint i = 0; i < G_N_ELEMENTS (prefixes); i++)
      {
        g_autoptr(IovEventQuery) q = parse_ok (prefixes[i]);

        g_assert_nonnull (iov_event_query_get_outcome (q));
      }
  }
}

/* ---- matching, on a store made by hand ---------------------------------- */

typedef struct
{
  IovTraceCatalog *catalog;
  IovEventStore   *store;
  IovDeliveryLog  *log;
  IovNotifier     *vhost;
  IovNotifier     *vfio;
  IovNotifier     *other;
} Fixture;

static void
add_delivery (Fixture           *f,
              guint64            line,
              const IovNotifier *notifier,
              const char        *device,
              IovResult          result,
              gboolean           cropped,
              IovDeliveryKind    kind)
{
  IovDelivery d = { 0, };

  d.line = line;
  d.notifier = notifier;
  d.device = device;
  d.kind = kind;
  d.outcome.result = result;
  d.outcome.cropped = cropped;
  d.outcome.type = IOV_NOTIFIER_UNMAP;
  g_assert_cmpuint (iov_delivery_log_add (f->log, &d, 1, NULL), ==, 1);
}

/* Events 0…3, as lines 1…4:
 *  0 notify_unmap 0x1000: vhost (00:02.0) delivered and observed, vfio (01:00.0) skipped (range)
 *  1 vhost_user_write: no delivery
 *  2 notify_unmap 0x2000: 00:03.0's notifier got it cropped (inferred)
 *  3 notify_map 0x3000: vhost skipped (flags), and QEMU aborts on vfio */
static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  static const char *const lines[] = {
    "1@1.000001:virtio_iommu_notify_unmap mr=virtio-iommu-memory-region-2-16 virt_start=0x1000 virt_end=0x1fff",
    "1@1.000002:vhost_user_write req:22 flags:0x9",
    "1@1.000003:virtio_iommu_notify_unmap mr=virtio-iommu-memory-region-3-24 virt_start=0x2000 virt_end=0x2fff",
    "1@1.000004:virtio_iommu_notify_map mr=virtio-iommu-memory-region-2-16 virt_start=0x3000 virt_end=0x3fff "
      "phys_start=0x7000 flags=3",
  };

  f->catalog = iov_trace_catalog_new_builtin ();
  f->store = iov_event_store_new (f->catalog);
  f->log = iov_delivery_log_new ();
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      IovTraceLine line;

      g_assert_cmpint (iov_trace_parse_line (f->catalog, lines[i], strlen (lines[i]), &line), ==,
                       IOV_TRACE_LINE_EVENT);
      iov_delivery_log_note_event (f->log, i + 1, iov_event_store_append_line (f->store, &line, 0));
    }
  f->vhost = iov_notifier_new ("00:02.0.vhost.1", "vhost", 0, G_MAXUINT64, IOV_NOTIFIER_UNMAP);
  f->vfio = iov_notifier_new ("01:00.0.vfio", "vfio", 0xfef00000, G_MAXUINT64, IOV_NOTIFIER_IOTLB_EVENTS);
  f->other = iov_notifier_new ("00:03.0.vhost.0", "vhost", 0, 0x27ff, IOV_NOTIFIER_UNMAP);
  add_delivery (f, 1, f->vhost, "00:02.0", IOV_RESULT_DELIVERED, FALSE, IOV_DELIVERY_OBSERVED);
  add_delivery (f, 1, f->vfio, "01:00.0", IOV_RESULT_SKIPPED_RANGE, FALSE, IOV_DELIVERY_INFERRED);
  add_delivery (f, 3, f->other, "00:03.0", IOV_RESULT_DELIVERED, TRUE, IOV_DELIVERY_INFERRED);
  add_delivery (f, 4, f->vhost, "00:02.0", IOV_RESULT_SKIPPED_FLAGS, FALSE, IOV_DELIVERY_INFERRED);
  add_delivery (f, 4, f->vfio, "01:00.0", IOV_RESULT_ABORT, FALSE, IOV_DELIVERY_INFERRED);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  iov_notifier_free (f->vhost);
  iov_notifier_free (f->vfio);
  iov_notifier_free (f->other);
  iov_delivery_log_free (f->log);
  iov_event_store_free (f->store);
  iov_trace_catalog_free (f->catalog);
}

/* The events of @store that @text matches: how many, the first in
 * @first, all as "0 2 …" in @list. */
static guint64
search (IovEventStore   *store,
        IovTraceCatalog *catalog,
        IovDeliveryLog  *log,
        const char      *text,
        guint64         *first,
        GString         *list)
{
  g_autoptr(IovEventQuery) q = parse_ok (text);
  guint64 n_events = iov_event_store_get_n_events (store);
  guint64 n = 0;

  iov_event_query_set_sources (q, store, catalog, log);
  for (guint64 i = 0; i < n_events; i++)
    {
      if (!iov_event_query_match (q, i))
        continue;
      if (n++ == 0 && first != NULL)
        *first = i;
      if (list != NULL)
        g_string_append_printf (list, "%s%" G_GUINT64_FORMAT, list->len ? " " : "", i);
    }
  /* out of range: no event */
  g_assert_false (iov_event_query_match (q, n_events));
  return n;
}

static char *
matches (Fixture        *f,
         IovDeliveryLog *log,
         const char     *text)
{
  GString *list = g_string_new (NULL);

  search (f->store, f->catalog, log, text, NULL, list);
  return g_string_free (list, FALSE);
}

static void
assert_matches (Fixture        *f,
                IovDeliveryLog *log,
                const char     *const (*cases)[2],
                gsize           n_cases)
{
  for (gsize i = 0; i < n_cases; i++)
    {
      g_autofree char *got = matches (f, log, cases[i][0]);

      if (g_strcmp0 (got, cases[i][1]) != 0)
        g_error ("“%s” matched “%s”, not “%s”", cases[i][0], got, cases[i][1]);
    }
}

static void
test_match_terms (Fixture       *f,
                  gconstpointer  data)
{
  static const char *const cases[][2] = {
    /* event: part of the name, whatever the case */
    { "event:notify_unmap", "0 2" },
    { "event:VHOST_USER", "1" },
    { "event:notify", "0 2 3" },
    { "event:translate", "" },

    /* device: a delivery's device, else the arguments as printed */
    { "device:00:02.0", "0 3" },
    { "device:01:00", "0 3" },
    { "device:00:03", "2" },
    { "device:region-3", "2" },
    { "device:flags:0x9", "1" },

    /* notifier: a name or an owner */
    { "notifier:vhost", "0 2 3" },
    { "notifier:vfio", "0 3" },
    { "notifier:00:03.0", "2" },
    { "notifier:VHOST.1", "0 3" },

    /* outcome: each word, and the evidence */
    { "outcome:delivered", "0" },
    { "outcome:cropped", "2" },
    { "outcome:skipped", "0 3" },
    { "outcome:skipped-range", "0" },
    { "outcome:flags", "3" },
    { "outcome:abort", "3" },
    { "outcome:observed", "0" },
    { "outcome:inferred", "0 2 3" },

    /* words: the name or the arguments as printed, each of them */
    { "virt_start=0x1000", "0" },
    { "unmap", "0 2" },
    { "unmap 0x2fff", "2" },
    { "REQ:22", "1" },
    { "unmap req:22", "" },
    { "", "0 1 2 3" },
  };

  assert_matches (f, f->log, cases, G_N_ELEMENTS (cases));
}

static void
test_match_combined (Fixture       *f,
                     gconstpointer  data)
{
  static const char *const cases[][2] = {
    /* every term holds */
    { "event:unmap device:00:02.0", "0" },
    { "event:map notifier:vhost outcome:skipped", "0 3" },
    { "event:notify_map outcome:abort notifier:vfio 0x3000", "3" },
    { "event:unmap outcome:cropped device:00:02.0", "" },
    /* notifier: and outcome: may hold for different deliveries of an event */
    { "notifier:vfio outcome:observed", "0" },
    { "notifier:00:03 outcome:observed", "" },
    { "device:00:02.0 outcome:abort", "3" },
    { "event:vhost_user device:00:02.0", "" },
  };

  assert_matches (f, f->log, cases, G_N_ELEMENTS (cases));
}

/* Without a model nothing was delivered: the terms on deliveries match no
 * event, except device: in the arguments. */
static void
test_match_no_log (Fixture       *f,
                   gconstpointer  data)
{
  static const char *const cases[][2] = {
    { "event:unmap", "0 2" },
    { "outcome:delivered", "" },
    { "outcome:inferred", "" },
    { "notifier:vhost", "" },
    { "device:00:02.0", "" },
    { "device:region-2", "0 3" },
    { "0x3000", "3" },
  };

  assert_matches (f, NULL, cases, G_N_ELEMENTS (cases));
}

/* A query learns each event's name once per catalogue: new sources, or
 * none, are not matched with what it learnt of the last ones. */
static void
test_match_sources (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(IovEventQuery) q = parse_ok ("event:notify_unmap");
  g_autoptr(IovTraceCatalog) catalog = iov_trace_catalog_new_builtin ();
  g_autoptr(IovEventStore) store = iov_event_store_new (catalog);
  IovTraceLine line;
  const char *text = "1@2.000000:vhost_user_write req:22 flags:0x9";

  g_assert_false (iov_event_query_match (q, 0));
  iov_event_query_set_sources (q, f->store, f->catalog, f->log);
  g_assert_true (iov_event_query_match (q, 0));
  g_assert_cmpint (iov_trace_parse_line (catalog, text, strlen (text), &line), ==, IOV_TRACE_LINE_EVENT);
  iov_event_store_append_line (store, &line, 0);
  iov_event_query_set_sources (q, store, catalog, NULL);
  g_assert_false (iov_event_query_match (q, 0));
  iov_event_query_set_sources (q, NULL, NULL, NULL);
  g_assert_false (iov_event_query_match (q, 0));
}

/* ---- a real capture, through the trace document ------------------------ */

static guint
count_lines (const char *text,
             const char *needle,
             const char *also)
{
  guint n = 0;

  for (const char *l = text; l != NULL && *l != '\0';)
    {
      const char *nl = strchr (l, '\n');
      g_autofree char *line = nl ? g_strndup (l, nl - l) : g_strdup (l);

      n += strstr (line, needle) != NULL && (also == NULL || strstr (line, also) != NULL);
      l = nl ? nl + 1 : NULL;
    }
  return n;
}

static guint64
count_matches (IovTraceDocument *doc,
               const char       *text,
               guint64          *first)
{
  return search (iov_trace_document_get_store (doc), iov_trace_document_get_catalog (doc),
                 iov_trace_document_get_log (doc), text, first, NULL);
}

/* What tests/app/test-event-list.c searches in the window, without one:
 * virtio-iommu's UNMAPs of a vhost-user capture of QEMU 7.2, each reaching
 * vhost and observed (a VHOST_USER_IOTLB_MSG followed it). */
static void
test_capture (void)
{
  g_autofree char *trace = test_read_xz_trace (CAPTURE_TRACE);
  g_autofree char *snap_path = g_test_build_filename (G_TEST_DIST, "data", "snapshots", CAPTURE_SNAPSHOT, NULL);
  g_autofree char *snap_text = NULL;
  g_autoptr(JsonNode) snapshot = NULL;
  g_autoptr(IovTraceDocument) doc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *explain = NULL;
  guint n_lines, n_unmaps;
  guint64 first = G_MAXUINT64;

  if (trace == NULL)
    {
      g_test_skip ("xz is not installed");
      return;
    }
  g_assert_true (g_file_get_contents (snap_path, &snap_text, NULL, &error));
  snapshot = json_from_string (snap_text, &error);
  g_assert_no_error (error);
  doc = iov_trace_document_new (iov_trace_catalog_new_builtin (), IOV_TRACE_DOCUMENT_KEEP_EVENTS);
  g_assert_true (iov_trace_document_set_snapshot (doc, snapshot, &error));
  g_assert_no_error (error);
  iov_trace_document_feed (doc, trace, strlen (trace), 0);
  iov_trace_document_finish (doc);

  /* every event, and the capture's UNMAP notifications */
  n_lines = count_lines (trace, "@", NULL);
  n_unmaps = count_lines (trace, ":virtio_iommu_notify_unmap ", NULL);
  g_assert_cmpuint (n_unmaps, >, 8);
  g_assert_cmpuint (count_matches (doc, "", NULL), ==, n_lines);

  g_assert_cmpuint (count_matches (doc, "event:virtio_iommu_notify_unmap", &first), ==, n_unmaps);
  g_assert_cmpuint (count_matches (doc, "notifier:vhost outcome:observed", NULL), ==, n_unmaps);
  g_assert_cmpuint (count_matches (doc, "outcome:skipped", NULL), ==, 0);
  g_assert_cmpuint (count_matches (doc, "device:00:02.0 event:unmap", NULL), ==, n_unmaps);
  g_assert_cmpuint (count_matches (doc, "event:notify_unmap virt_start=0x0", NULL), ==,
                    count_lines (trace, ":virtio_iommu_notify_unmap ", "virt_start=0x0 "));

  /* the inspector's sentence for the first UNMAP */
  explain = iov_explain_event (iov_trace_document_get_log (doc), first,
                               iov_inference_get_profile (iov_trace_document_get_inference (doc)));
  g_assert_true (g_str_has_prefix (explain, "As "));
  g_assert_nonnull (strstr (explain, " dispatches it:\n"));
  g_assert_nonnull (strstr (explain, "\n• 00:02.0.vhost.1 got UNMAP [0x"));
  g_assert_nonnull (strstr (explain, "(observed in the trace)"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/event-query/parse/terms", test_parse_terms);
  g_test_add_func ("/event-query/parse/empty", test_parse_empty);
  g_test_add_func ("/event-query/parse/bad", test_parse_bad);
  g_test_add ("/event-query/match/terms", Fixture, NULL, fixture_setup, test_match_terms, fixture_teardown);
  g_test_add ("/event-query/match/combined", Fixture, NULL, fixture_setup, test_match_combined, fixture_teardown);
  g_test_add ("/event-query/match/no-log", Fixture, NULL, fixture_setup, test_match_no_log, fixture_teardown);
  g_test_add ("/event-query/match/sources", Fixture, NULL, fixture_setup, test_match_sources, fixture_teardown);
  g_test_add_func ("/event-query/capture", test_capture);
  return g_test_run ();
}
