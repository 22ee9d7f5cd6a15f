/* test-traffic.c — IOTLB traffic per device on real captures (issue L)
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
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "iov-trace-document.h"
#include "iov-traffic-explain.h"
#include "test-traffic-util.h"
#include "../cli/test-cli-util.h"

/* The live vhost-user runs of QEMU 7.2.22, 10.0.2 and 11.1.3 and the
 * virtio-iommu run, read through IovTraceDocument; every figure is checked
 * against the test's own reading of the raw text below, which knows
 * nothing of the core's parser. */

#define SID_01_00_0 0x100

/* ---- the test's own reading of the raw text ------------------------------ */

typedef struct
{
  guint   tid;          /* 0 without "TID@" */
  guint64 ts_ns;
  char   *body;         /* "name args" */
} Raw;

/* "TID@SEC.USEC:name args" or "YYYY-MM-DDTHH:MM:SS.UUUUUUZ name args" */
static gboolean
raw_parse (char *line,
           Raw  *out)
{
  unsigned tid, usec;
  unsigned long long sec;
  int y, mo, d, h, mi, s, n = 0;

  if (sscanf (line, "%u@%llu.%u:%n", &tid, &sec, &usec, &n) == 3 && n > 0)
    {
      out->tid = tid;
      out->ts_ns = sec * 1000000000ull + usec * 1000ull;
      out->body = line + n;
      return TRUE;
    }
  n = 0;
  if (sscanf (line, "%4d-%2d-%2dT%2d:%2d:%2d.%6uZ %n", &y, &mo, &d, &h, &mi, &s, &usec, &n) == 7 && n > 0)
    {
      g_autoptr(GDateTime) dt = g_date_time_new_utc (y, mo, d, h, mi, s);

      out->tid = 0;
      out->ts_ns = (guint64) g_date_time_to_unix (dt) * 1000000000ull + usec * 1000ull;
      out->body = line + n;
      return TRUE;
    }
  return FALSE;
}

enum { DEV, PAGE, DOMAIN, GLOBAL, MISSES, MESSAGES, N_KINDS };

typedef struct
{
  guint64 n[N_KINDS];
  GArray *ts[N_KINDS];
  GArray *round_trips;
} Expected;

static void
expected_init (Expected *e)
{
  memset (e, 0, sizeof *e);
  for (guint i = 0; i < N_KINDS; i++)
    e->ts[i] = g_array_new (FALSE, FALSE, sizeof (guint64));
  e->round_trips = g_array_new (FALSE, FALSE, sizeof (guint64));
}

static void
expected_clear (Expected *e)
{
  for (guint i = 0; i < N_KINDS; i++)
    g_array_unref (e->ts[i]);
  g_array_unref (e->round_trips);
}

static void
note (Expected *e,
      guint     kind,
      guint64   ts)
{
  e->n[kind]++;
  g_array_append_val (e->ts[kind], ts);
}

/* What belongs to the device of SID @sid, when it is the VM's only vhost
 * device: its device-IOTLB invalidations; the IOTLB invalidations of the
 * domain its context entry or its IOTLB entries name at that moment (a
 * global one once it has a domain); every vhost miss (step 1) and every
 * req:22 message; the round trip from a miss to the next req:22 written by
 * the same thread. */
static void
count_raw (const char *text,
           guint       sid,
           Expected   *e)
{
  g_auto(GStrv) lines = test_split_lines (text);
  g_autoptr(GHashTable) open_miss = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  gint64 domain = -1;   /* of @sid */

  for (guint i = 0; lines[i] != NULL; i++)
    {
      Raw r;
      unsigned long long hi, lo, x;
      unsigned a, b, dom;
      guint64 *miss;

      if (!raw_parse (lines[i], &r))
        continue;
      if (sscanf (r.body, "vtd_iotlb_page_update IOTLB page update sid 0x%x iova 0x%llx slpte 0x%llx domain 0x%x",
                  &a, &x, &hi, &dom) == 4 && a == sid)
        domain = dom;
      else if (sscanf (r.body, "vtd_iotlb_cc_update IOTLB context update bus 0x%x devfn 0x%x high 0x%llx",
                       &a, &b, &hi) == 3 && ((a << 8) | b) == sid)
        domain = (hi >> 8) & 0xffff;
      else if (sscanf (r.body, "vtd_inv_desc invalidate desc type device high 0x%llx low 0x%llx", &hi, &lo) == 2)
        {
          if (((lo >> 32) & 0xffff) == sid)
            note (e, DEV, r.ts_ns);
        }
      else if (sscanf (r.body, "vtd_inv_desc invalidate desc type iotlb high 0x%llx low 0x%llx", &hi, &lo) == 2)
        {
          guint g = (lo >> 4) & 3;

          if (domain >= 0 && g == 1)
            note (e, GLOBAL, r.ts_ns);
          else if (domain >= 0 && (gint64) ((lo >> 16) & 0xffff) == domain && (g == 2 || g == 3))
            note (e, g == 2 ? DOMAIN : PAGE, r.ts_ns);
        }
      else if (g_str_has_prefix (r.body, "vhost_iotlb_miss ") && g_str_has_suffix (r.body, " step 1"))
        {
          note (e, MISSES, r.ts_ns);
          miss = g_new (guint64, 1);
          *miss = r.ts_ns;
          g_hash_table_insert (open_miss, GUINT_TO_POINTER (r.tid), miss);
        }
      else if (g_str_has_prefix (r.body, "vhost_iotlb_miss "))
        g_hash_table_remove (open_miss, GUINT_TO_POINTER (r.tid));
      else if (g_str_has_prefix (r.body, "vhost_user_write req:22 "))
        {
          note (e, MESSAGES, r.ts_ns);
          miss = g_hash_table_lookup (open_miss, GUINT_TO_POINTER (r.tid));
          if (miss != NULL)
            {
              guint64 rt = r.ts_ns - *miss;

              g_array_append_val (e->round_trips, rt);
              g_hash_table_remove (open_miss, GUINT_TO_POINTER (r.tid));
            }
        }
    }
}

/* Most times in any window [t, t + 1 s), by brute force over each start. */
static guint64
peak (GArray *ts)
{
  guint64 best = 0;

  g_array_sort (ts, test_compare_u64);
  for (guint i = 0; i < ts->len; i++)
    {
      guint64 n = 0;

      for (guint j = i; j < ts->len && g_array_index (ts, guint64, j) < g_array_index (ts, guint64, i) + 1000000000ull;
           j++)
        n++;
      best = MAX (best, n);
    }
  return best;
}

/* The p-th percentile by nearest rank: the ⌈p/100 · n⌉-th smallest. */
static guint64
rank (GArray *sorted,
      double  p)
{
  guint k = (guint) ceil (p / 100.0 * sorted->len);

  return g_array_index (sorted, guint64, MAX (k, 1) - 1);
}

static void
assert_figures (const IovTrafficFigures *f,
                Expected                *e)
{
  static const IovTrafficCount order[N_KINDS] = {
    IOV_TRAFFIC_DEVICE_INVALIDATIONS, IOV_TRAFFIC_PAGE_INVALIDATIONS, IOV_TRAFFIC_DOMAIN_INVALIDATIONS,
    IOV_TRAFFIC_GLOBAL_INVALIDATIONS, IOV_TRAFFIC_IOTLB_MISSES, IOV_TRAFFIC_IOTLB_MESSAGES,
  };

  for (guint k = 0; k < N_KINDS; k++)
    {
      g_test_message ("%s: %" G_GUINT64_FORMAT " (peak %" G_GUINT64_FORMAT "/s)", iov_traffic_count_name (order[k]),
                      f->counts[order[k]], f->peak_per_s[order[k]]);
      g_assert_cmpuint (f->counts[order[k]], ==, e->n[k]);
      g_assert_cmpuint (f->peak_per_s[order[k]], ==, peak (e->ts[k]));
    }
  g_array_sort (e->round_trips, test_compare_u64);
  g_assert_cmpuint (f->n_round_trips, ==, e->round_trips->len);
  if (e->round_trips->len > 0)
    {
      g_test_message ("round trips: p50 %" G_GUINT64_FORMAT " µs, p99 %" G_GUINT64_FORMAT " µs, max %"
                      G_GUINT64_FORMAT " µs", f->round_trip_p50_ns / 1000, f->round_trip_p99_ns / 1000,
                      f->round_trip_max_ns / 1000);
      g_assert_cmpuint (f->round_trip_p50_ns, ==, rank (e->round_trips, 50));
      g_assert_cmpuint (f->round_trip_p99_ns, ==, rank (e->round_trips, 99));
      g_assert_cmpuint (f->round_trip_max_ns, ==, g_array_index (e->round_trips, guint64, e->round_trips->len - 1));
    }
}

/* ---- the vhost-user captures --------------------------------------------- */

/* @rel read by a document (with @snapshot) and counted by the test for
 * the device of @sid; NULL when xz is missing. */
static IovTraceDocument *
read_and_count (const char *rel,
                const char *snapshot,
                guint       sid,
                char      **trace,
                Expected   *e)
{
  *trace = test_capture (rel);
  if (*trace == NULL)
    return NULL;
  expected_init (e);
  count_raw (*trace, sid, e);
  return test_read_document (*trace, snapshot);
}

/* Every figure of 01:00.0, the only vhost device of the snapshot, equals
 * the raw count; nothing of vhost is unattributed. A strict guest sends one
 * IOTLB message per device invalidation and per miss; a lazy one flushes
 * the whole space, which vhost's two notifiers (either side of the MSI
 * window) each answer. */
static void
test_vhost_user_capture (gconstpointer data)
{
  const char *rel = data;
  g_autofree char *trace = NULL;
  g_autoptr(IovTraceDocument) doc = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  IovTrafficFigures f, none;
  Expected e;

  doc = read_and_count (rel, "vhost-user-intel-ats.json", SID_01_00_0, &trace, &e);
  if (doc == NULL)
    return;

  devices = iov_traffic_get_devices (iov_trace_document_get_traffic (doc));
  g_assert_cmpstr (g_ptr_array_index (devices, 0), ==, "01:00.0");
  iov_traffic_get_figures (iov_trace_document_get_traffic (doc), "01:00.0", &f);
  assert_figures (&f, &e);
  g_assert_cmpuint (f.counts[IOV_TRAFFIC_IOTLB_MISSES], >, 0);
  if (strstr (rel, "strict") != NULL)
    g_assert_cmpuint (f.counts[IOV_TRAFFIC_IOTLB_MESSAGES], ==,
                      f.counts[IOV_TRAFFIC_DEVICE_INVALIDATIONS] + f.counts[IOV_TRAFFIC_IOTLB_MISSES]);
  else
    g_assert_cmpuint (f.counts[IOV_TRAFFIC_IOTLB_MESSAGES], ==,
                      2 * f.counts[IOV_TRAFFIC_DEVICE_INVALIDATIONS] + f.counts[IOV_TRAFFIC_IOTLB_MISSES]);

  iov_traffic_get_figures (iov_trace_document_get_traffic (doc), NULL, &none);
  g_assert_cmpuint (none.counts[IOV_TRAFFIC_DEVICE_INVALIDATIONS], ==, 0);
  g_assert_cmpuint (none.counts[IOV_TRAFFIC_IOTLB_MISSES], ==, 0);
  g_assert_cmpuint (none.counts[IOV_TRAFFIC_IOTLB_MESSAGES], ==, 0);
  expected_clear (&e);
}

/* Without a snapshot the SID still names the device of an invalidation and
 * of the messages that answer it, but the misses name a vhost pointer
 * only: they and their answers are unattributed, and a note says why. */
static void
test_without_snapshot (void)
{
  g_autofree char *trace = NULL;
  g_autoptr(IovTraceDocument) doc = NULL;
  g_autoptr(GPtrArray) notes = NULL;
  IovTrafficFigures f, none;
  gboolean said = FALSE;
  Expected e;

  doc = read_and_count ("qemu-versions/7.2/vhu-cm-on-strict.log.xz", NULL, SID_01_00_0, &trace, &e);
  if (doc == NULL)
    return;
  iov_traffic_get_figures (iov_trace_document_get_traffic (doc), "01:00.0", &f);
  iov_traffic_get_figures (iov_trace_document_get_traffic (doc), NULL, &none);

  g_assert_cmpuint (f.counts[IOV_TRAFFIC_DEVICE_INVALIDATIONS], ==, e.n[DEV]);
  g_assert_cmpuint (f.counts[IOV_TRAFFIC_PAGE_INVALIDATIONS], ==, e.n[PAGE]);
  g_assert_cmpuint (f.counts[IOV_TRAFFIC_IOTLB_MISSES], ==, 0);
  g_assert_cmpuint (f.counts[IOV_TRAFFIC_IOTLB_MESSAGES], ==, e.n[DEV]);
  g_assert_cmpuint (none.counts[IOV_TRAFFIC_IOTLB_MISSES], ==, e.n[MISSES]);
  g_assert_cmpuint (none.counts[IOV_TRAFFIC_IOTLB_MESSAGES], ==, e.n[MISSES]);
  g_assert_cmpuint (none.n_round_trips, ==, e.round_trips->len);

  notes = iov_traffic_get_notes (iov_trace_document_get_traffic (doc));
  for (guint i = 0; i < notes->len; i++)
    said |= strstr (g_ptr_array_index (notes, i), "vhost device 0x5638e68c8240 (virtio-net)") != NULL;
  g_assert_true (said);
  expected_clear (&e);
}

/* virtio-iommu: the misses of 00:02.0 (the snapshot's only vhost device),
 * and messages that answer either a miss or an unmap of the domain its
 * endpoint (16 = 00:02.0) is attached to. */
static void
test_virtio_iommu (void)
{
  g_autofree char *trace = NULL;
  g_autoptr(IovTraceDocument) doc = NULL;
  g_autoptr(IovTraceDocument) bare = NULL;
  IovTrafficFigures f, none;
  guint64 unmap_answers = 0;
  Expected e;

  doc = read_and_count ("qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.log.xz", "virtio-iommu-vhost-user.json",
                        0x10, &trace, &e);
  if (doc == NULL)
    return;
  iov_traffic_get_figures (iov_trace_document_get_traffic (doc), "00:02.0", &f);
  assert_figures (&f, &e);
  g_assert_cmpuint (f.counts[IOV_TRAFFIC_IOTLB_MISSES], ==, 777);
  g_assert_cmpuint (f.counts[IOV_TRAFFIC_IOTLB_MESSAGES], ==, 1525);

  /* without the snapshot: the unmaps' answers are still 00:02.0's
   * (virtio_iommu_notify_unmap, one per message) */
  {
    g_auto(GStrv) lines = test_split_lines (trace);

    for (guint i = 0; lines[i] != NULL; i++)
      unmap_answers += strstr (lines[i], ":virtio_iommu_notify_unmap ") != NULL;
  }
  bare = test_read_document (trace, NULL);
  iov_traffic_get_figures (iov_trace_document_get_traffic (bare), "00:02.0", &f);
  iov_traffic_get_figures (iov_trace_document_get_traffic (bare), NULL, &none);
  g_assert_cmpuint (f.counts[IOV_TRAFFIC_IOTLB_MESSAGES], ==, unmap_answers);
  g_assert_cmpuint (none.counts[IOV_TRAFFIC_IOTLB_MESSAGES], ==, e.n[MESSAGES] - unmap_answers);
  g_assert_cmpuint (none.counts[IOV_TRAFFIC_IOTLB_MISSES], ==, e.n[MISSES]);
  expected_clear (&e);
}

/* ---- the rate tracks' bins ----------------------------------------------- */

/* Bins @ts (unsorted) the way the window's rate tracks ask for them:
 * bin ⌊(t − t0) · n / (t1 − t0)⌋ of [t0, t1), in plain integers (these
 * spans times these bin counts stay far below 2⁶⁴). */
static void
bin_raw (GArray  *ts,
         guint64  t0,
         guint64  t1,
         guint    n_bins,
         guint64 *bins)
{
  for (guint i = 0; i < ts->len; i++)
    {
      guint64 t = g_array_index (ts, guint64, i);

      g_assert_cmpuint ((t1 - t0) * n_bins / n_bins, ==, t1 - t0);   /* no overflow */
      if (t >= t0 && t < t1)
        bins[(t - t0) * n_bins / (t1 - t0)]++;
    }
}

static void
assert_bins (IovTraffic *traffic,
             const char *device,
             guint       mask,
             GArray    **expected,   /* per count, times */
             guint64     t0,
             guint64     t1,
             guint       n_bins)
{
  g_autofree guint64 *want = g_new0 (guint64, n_bins);
  g_autofree guint64 *got = g_new0 (guint64, n_bins);
  guint64 total = 0;

  for (guint k = 0; k < IOV_TRAFFIC_N_COUNTS; k++)
    if (mask & IOV_TRAFFIC_MASK (k))
      bin_raw (expected[k], t0, t1, n_bins, want);
  iov_traffic_bin (traffic, device, mask, t0, t1, n_bins, got);
  for (guint b = 0; b < n_bins; b++)
    {
      if (got[b] != want[b])
        g_error ("%s, mask 0x%x, [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT ") in %u bins: bin %u has %"
                 G_GUINT64_FORMAT ", the raw trace %" G_GUINT64_FORMAT, device ? device : "unattributed", mask, t0, t1,
                 n_bins, b, got[b], want[b]);
      total += got[b];
    }
  g_test_message ("%s, mask 0x%x, %u bins: %" G_GUINT64_FORMAT " lines", device ? device : "unattributed", mask,
                  n_bins, total);
}

/* The rate tracks' bins of a real capture equal the test's own binning of
 * the raw lines: for the device (its invalidations, misses and messages),
 * and for all devices (every counted line once), over the whole trace in
 * many lines per bin (edges found by search), zoomed in to a second (each
 * line to its bin), and in bins of a width that divides nothing evenly. */
static void
test_bins (void)
{
  g_autofree char *trace = NULL;
  g_autoptr(IovTraceDocument) doc = NULL;
  g_autoptr(GArray) all_inv = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr(GArray) all_miss = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr(GArray) all_msg = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr(GArray) empty = g_array_new (FALSE, FALSE, sizeof (guint64));
  IovTraffic *traffic;
  GArray *mine[IOV_TRAFFIC_N_COUNTS], *all[IOV_TRAFFIC_N_COUNTS];
  guint64 first = G_MAXUINT64, last = 0, peak_t = 0;
  Expected e;

  doc = read_and_count ("qemu-versions/7.2/vhu-cm-on-strict.log.xz", "vhost-user-intel-ats.json", SID_01_00_0,
                        &trace, &e);
  if (doc == NULL)
    return;
  traffic = iov_trace_document_get_traffic (doc);

  /* every device: each counted line once */
  {
    g_auto(GStrv) lines = test_split_lines (trace);

    for (guint i = 0; lines[i] != NULL; i++)
      {
        unsigned long long hi, lo;
        Raw r;

        if (!raw_parse (lines[i], &r))
          continue;
        first = MIN (first, r.ts_ns);
        last = MAX (last, r.ts_ns);
        if (sscanf (r.body, "vtd_inv_desc invalidate desc type device high 0x%llx low 0x%llx", &hi, &lo) == 2 ||
            (sscanf (r.body, "vtd_inv_desc invalidate desc type iotlb high 0x%llx low 0x%llx", &hi, &lo) == 2 &&
             ((lo >> 4) & 3) != 0))
          g_array_append_val (all_inv, r.ts_ns);
        else if (g_str_has_prefix (r.body, "vhost_iotlb_miss ") && g_str_has_suffix (r.body, " step 1"))
          g_array_append_val (all_miss, r.ts_ns);
        else if (g_str_has_prefix (r.body, "vhost_user_write req:22 "))
          g_array_append_val (all_msg, r.ts_ns);
      }
  }
  g_assert_cmpuint (all_miss->len, ==, e.n[MISSES]);
  g_assert_cmpuint (all_inv->len, >, e.n[DEV] + e.n[PAGE]);   /* and 02:00.0's, and the unattributed */

  mine[IOV_TRAFFIC_DEVICE_INVALIDATIONS] = e.ts[DEV];
  mine[IOV_TRAFFIC_PAGE_INVALIDATIONS] = e.ts[PAGE];
  mine[IOV_TRAFFIC_DOMAIN_INVALIDATIONS] = e.ts[DOMAIN];
  mine[IOV_TRAFFIC_GLOBAL_INVALIDATIONS] = e.ts[GLOBAL];
  mine[IOV_TRAFFIC_IOTLB_MISSES] = e.ts[MISSES];
  mine[IOV_TRAFFIC_IOTLB_MESSAGES] = e.ts[MESSAGES];
  all[IOV_TRAFFIC_DEVICE_INVALIDATIONS] = all_inv;   /* the mask below takes the four together */
  all[IOV_TRAFFIC_PAGE_INVALIDATIONS] = empty;
  all[IOV_TRAFFIC_DOMAIN_INVALIDATIONS] = empty;
  all[IOV_TRAFFIC_GLOBAL_INVALIDATIONS] = empty;
  all[IOV_TRAFFIC_IOTLB_MISSES] = all_miss;
  all[IOV_TRAFFIC_IOTLB_MESSAGES] = all_msg;

  /* the second with the most misses */
  g_array_sort (e.ts[MISSES], test_compare_u64);
  for (guint i = 0, j = 0, best = 0; i < e.ts[MISSES]->len; i++)
    {
      while (g_array_index (e.ts[MISSES], guint64, i) - g_array_index (e.ts[MISSES], guint64, j) >= 1000000000ull)
        j++;
      if (i - j + 1 > best)
        best = i - j + 1, peak_t = g_array_index (e.ts[MISSES], guint64, j);
    }

  {
    const struct { guint64 t0, t1; guint n; } grids[] = {
      { first, last + 1, 50 },                       /* about 30 lines a bin */
      { first, last + 1, 1597 },
      { peak_t - 1, peak_t + 999999999, 1600 },      /* a second, in pixels */
      { first + 1234567, first + 7654321987ull, 333 },
    };
    const guint masks[] = {
      IOV_TRAFFIC_MASK (IOV_TRAFFIC_IOTLB_MISSES), IOV_TRAFFIC_MASK (IOV_TRAFFIC_IOTLB_MESSAGES),
      IOV_TRAFFIC_INVALIDATIONS_MASK,
    };

    for (guint gi = 0; gi < G_N_ELEMENTS (grids); gi++)
      for (guint mi = 0; mi < G_N_ELEMENTS (masks); mi++)
        {
          assert_bins (traffic, "01:00.0", masks[mi], mine, grids[gi].t0, grids[gi].t1, grids[gi].n);
          assert_bins (traffic, IOV_TRAFFIC_EVERY_DEVICE, masks[mi], all, grids[gi].t0, grids[gi].t1, grids[gi].n);
        }

    /* a bin edge exactly on a line's time, many lines a bin and few:
     * the line opens the bin, it does not close the one before */
    for (guint i = 0; i < e.ts[MISSES]->len; i += e.ts[MISSES]->len / 7)
      {
        guint64 m = g_array_index (e.ts[MISSES], guint64, i);

        for (guint mi = 0; mi < G_N_ELEMENTS (masks); mi++)
          {
            assert_bins (traffic, "01:00.0", masks[mi], mine, first, first + 8 * (m - first), 8);
            assert_bins (traffic, IOV_TRAFFIC_EVERY_DEVICE, masks[mi], all, m - 3000, m + 3000, 2);
            assert_bins (traffic, IOV_TRAFFIC_EVERY_DEVICE, masks[mi], all, first, m + (m - first), 2);
          }
      }
  }

  /* the whole trace in one bin is every line */
  {
    guint64 one;

    iov_traffic_bin (traffic, IOV_TRAFFIC_EVERY_DEVICE, IOV_TRAFFIC_INVALIDATIONS_MASK, first, last + 1, 1, &one);
    g_assert_cmpuint (one, ==, all_inv->len);
    iov_traffic_bin (traffic, "01:00.0", IOV_TRAFFIC_MASK (IOV_TRAFFIC_IOTLB_MESSAGES), first, last + 1, 1, &one);
    g_assert_cmpuint (one, ==, e.n[MESSAGES]);
  }
  expected_clear (&e);
}

static IovTraffic *feed_text (const char *text,
                              const char *snapshot_json);

/* Lines out of time order (two threads) still land in their bins. */
static void
test_bins_out_of_order (void)
{
  static const char trace[] =
    "7@10.300000:vhost_iotlb_miss 0xa step 1\n"
    "8@10.100000:vhost_iotlb_miss 0xa step 1\n"
    "7@10.900000:vhost_iotlb_miss 0xa step 1\n"
    "8@10.000000:vhost_iotlb_miss 0xa step 1\n";
  g_autoptr(IovTraffic) traffic = feed_text (trace, NULL);
  guint64 bins[4];

  iov_traffic_bin (traffic, IOV_TRAFFIC_EVERY_DEVICE, IOV_TRAFFIC_MASK (IOV_TRAFFIC_IOTLB_MISSES),
                   10000000000ull, 11000000000ull, 4, bins);
  g_assert_cmpuint (bins[0], ==, 2);
  g_assert_cmpuint (bins[1], ==, 1);
  g_assert_cmpuint (bins[2], ==, 0);
  g_assert_cmpuint (bins[3], ==, 1);
  /* no snapshot: the vhost pointer's misses are unattributed */
  iov_traffic_bin (traffic, NULL, IOV_TRAFFIC_MASK (IOV_TRAFFIC_IOTLB_MISSES), 10000000000ull, 11000000000ull, 4,
                   bins);
  g_assert_cmpuint (bins[0] + bins[1] + bins[2] + bins[3], ==, 4);
}

/* ---- the Traffic panel's words ------------------------------------------- */

static char *
joined (GPtrArray *sentences)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < sentences->len; i++)
    g_string_append_printf (out, "%s%s", i ? "\n" : "", (char *) g_ptr_array_index (sentences, i));
  return g_string_free (out, FALSE);
}

/* A number as the sentences group it (the locale's way). */
static char *
grouped (guint64 n)
{
  return g_strdup_printf ("%'" G_GUINT64_FORMAT, n);
}

static gboolean
claims_mode (const char *text)
{
  return strstr (text, "strict") != NULL || strstr (text, "lazy") != NULL;
}

/* A strict guest's vhost-user capture: the sentences carry the test's own
 * counts and round trips, one message per miss and per device
 * invalidation, and the advice on the guest's mode (misses follow device
 * invalidations one for one), with its warning. */
static void
test_describe_strict (void)
{
  g_autofree char *trace = NULL;
  g_autoptr(IovTraceDocument) doc = NULL;
  g_autoptr(GPtrArray) said = NULL;
  g_autoptr(GPtrArray) advice = NULL;
  g_autofree char *text = NULL;
  g_autofree char *tips = NULL;
  g_autofree char *misses = NULL;
  g_autofree char *expect = NULL;
  g_autofree char *inv = NULL;
  Expected e;

  doc = read_and_count ("qemu-versions/7.2/vhu-cm-on-strict.log.xz", "vhost-user-intel-ats.json", SID_01_00_0,
                        &trace, &e);
  if (doc == NULL)
    return;
  said = iov_traffic_describe (iov_trace_document_get_traffic (doc), "01:00.0");
  advice = iov_traffic_advise (iov_trace_document_get_traffic (doc), "01:00.0");
  text = joined (said);
  tips = joined (advice);
  g_test_message ("%s\n%s", text, tips);

  g_array_sort (e.round_trips, test_compare_u64);
  misses = grouped (e.n[MISSES]);
  expect = g_strdup_printf ("%s IOTLB misses, median round trip %" G_GUINT64_FORMAT " µs (99th percentile %"
                            G_GUINT64_FORMAT " µs, longest %" G_GUINT64_FORMAT " µs)", misses,
                            rank (e.round_trips, 50) / 1000, rank (e.round_trips, 99) / 1000,
                            g_array_index (e.round_trips, guint64, e.round_trips->len - 1) / 1000);
  g_assert_nonnull (strstr (text, expect));
  inv = grouped (e.n[DEV] + e.n[PAGE] + e.n[DOMAIN] + e.n[GLOBAL]);
  g_free (expect);
  expect = g_strdup_printf ("%s invalidations reached it (", inv);
  g_assert_nonnull (strstr (text, expect));
  /* the raw trace: as many messages as misses and device invalidations */
  g_assert_cmpuint (e.n[MESSAGES], ==, e.n[MISSES] + e.n[DEV]);
  g_assert_nonnull (strstr (text, "one per miss and one per device invalidation"));
  g_assert_nonnull (strstr (tips, "iommu.strict=1"));
  g_assert_nonnull (strstr (tips, "DPDK 22.11 stalled"));
  expected_clear (&e);
}

/* A lazy guest: two messages per device invalidation, a handful of misses
 * and no claim on the guest's mode from so few. */
static void
test_describe_lazy (void)
{
  g_autofree char *trace = NULL;
  g_autoptr(IovTraceDocument) doc = NULL;
  g_autoptr(GPtrArray) said = NULL;
  g_autoptr(GPtrArray) advice = NULL;
  g_autofree char *text = NULL;
  g_autofree char *tips = NULL;
  Expected e;

  doc = read_and_count ("qemu-versions/7.2/vhu-cm-off-lazy.log.xz", "vhost-user-intel-ats.json", SID_01_00_0, &trace,
                        &e);
  if (doc == NULL)
    return;
  said = iov_traffic_describe (iov_trace_document_get_traffic (doc), "01:00.0");
  advice = iov_traffic_advise (iov_trace_document_get_traffic (doc), "01:00.0");
  text = joined (said);
  tips = joined (advice);
  g_test_message ("%s\n%s", text, tips);
  g_assert_cmpuint (e.n[MESSAGES], ==, e.n[MISSES] + 2 * e.n[DEV]);
  g_assert_nonnull (strstr (text, "one per miss and two per device invalidation"));
  g_assert_false (claims_mode (text));
  g_assert_false (claims_mode (tips));
  expected_clear (&e);
}

/* A trace without misses (the intel-strict guest, no vhost backend): the
 * invalidations are said, and nothing on the guest's mode, though the
 * guest ran in strict mode; no advice at all. */
static void
test_describe_no_misses (void)
{
  g_autofree char *trace = test_capture ("qemu-7.2/guest-intel-strict/trace.log.xz");
  g_autoptr(IovTraceDocument) doc = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  guint64 page = 0;

  if (trace == NULL)
    return;
  {
    g_auto(GStrv) lines = test_split_lines (trace);

    for (guint i = 0; lines[i] != NULL; i++)
      g_assert_null (strstr (lines[i], "vhost_iotlb_miss"));
  }
  doc = test_read_document (trace, NULL);
  devices = iov_traffic_get_devices (iov_trace_document_get_traffic (doc));
  g_assert_cmpuint (devices->len, >, 0);
  for (guint i = 0; i < devices->len; i++)
    {
      g_autoptr(GPtrArray) said = iov_traffic_describe (iov_trace_document_get_traffic (doc),
                                                        g_ptr_array_index (devices, i));
      g_autoptr(GPtrArray) advice = iov_traffic_advise (iov_trace_document_get_traffic (doc),
                                                        g_ptr_array_index (devices, i));
      g_autofree char *text = joined (said);
      IovTrafficFigures f;

      g_test_message ("%s: %s", (char *) g_ptr_array_index (devices, i), text);
      iov_traffic_get_figures (iov_trace_document_get_traffic (doc), g_ptr_array_index (devices, i), &f);
      page += f.counts[IOV_TRAFFIC_PAGE_INVALIDATIONS];
      g_assert_nonnull (strstr (text, "invalidation"));
      g_assert_false (claims_mode (text));
      g_assert_cmpuint (advice->len, ==, 0);
    }
  g_assert_cmpuint (page, >, 0);
}

/* virtio-iommu: the messages that answer no miss pass on the unmaps, as
 * many as the trace's virtio_iommu_notify_unmap lines. */
static void
test_describe_virtio_iommu (void)
{
  g_autofree char *trace = NULL;
  g_autoptr(IovTraceDocument) doc = NULL;
  g_autoptr(GPtrArray) said = NULL;
  g_autofree char *text = NULL;
  g_autofree char *expect = NULL;
  g_autofree char *n = NULL;
  g_autofree char *answers = NULL;
  g_autofree char *rest = NULL;
  guint64 unmaps = 0;
  Expected e;

  doc = read_and_count ("qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.log.xz", "virtio-iommu-vhost-user.json",
                        0x10, &trace, &e);
  if (doc == NULL)
    return;
  {
    g_auto(GStrv) lines = test_split_lines (trace);

    for (guint i = 0; lines[i] != NULL; i++)
      unmaps += strstr (lines[i], ":virtio_iommu_notify_unmap ") != NULL;
  }
  said = iov_traffic_describe (iov_trace_document_get_traffic (doc), "00:02.0");
  text = joined (said);
  g_test_message ("%s", text);
  n = grouped (e.n[MESSAGES]);
  answers = grouped (e.round_trips->len);
  rest = grouped (unmaps);
  g_assert_cmpuint (e.n[MESSAGES], ==, e.round_trips->len + unmaps);
  expect = g_strdup_printf ("%s IOTLB messages to the vhost backend: %s answer misses, %s pass on invalidations or "
                            "unmaps.", n, answers, rest);
  g_assert_nonnull (strstr (text, expect));
  expected_clear (&e);
}

/* ---- attribution rules on small traces ----------------------------------- */

static void
feed_line (const IovTraceLine *line,
           gpointer            traffic)
{
  iov_traffic_feed (traffic, line);
}

static IovTraffic *
feed_text (const char *text,
           const char *snapshot_json)
{
  IovTraffic *traffic = iov_traffic_new ();

  if (snapshot_json != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(IovSnapshotInfo) info = iov_snapshot_info_new_from_data (snapshot_json, -1, &error);

      g_assert_no_error (error);
      iov_traffic_add_snapshot (traffic, info);
    }
  test_each_line (text, feed_line, traffic);
  return traffic;
}

/* Two vhost devices: vhost_dev_start's name picks the one of that type;
 * a message that answers nothing known stays unattributed (no single
 * vhost device to give it to); lines of two threads interleave. */
static void
test_two_vhost_devices (void)
{
  static const char snapshot[] =
    "{\"devices\": [{\"bdf\": \"01:00.0\", \"type\": \"virtio-net-pci\", \"vhost\": true},"
    "               {\"bdf\": \"02:00.0\", \"type\": \"vhost-user-blk-pci\", \"vhost\": true},"
    "               {\"bdf\": \"03:00.0\", \"type\": \"e1000e\", \"vhost\": false}],"
    " \"qemu\": {\"version\": \"7.2.22\"}, \"address_spaces\": []}";
  static const char trace[] =
    "1@10.000000:vhost_dev_start 0xa:virtio-net vrings:0\n"
    "1@10.000001:vhost_dev_start 0xb:vhost-user-blk vrings:0\n"
    "7@10.100000:vhost_iotlb_miss 0xa step 1\n"
    "8@10.100001:vhost_iotlb_miss 0xb step 1\n"
    "8@10.100011:vhost_user_write req:22 flags:0x9\n"      /* 0xb's, 10 µs */
    "7@10.100040:vhost_user_write req:22 flags:0x9\n"      /* 0xa's, 40 µs */
    "7@10.100041:vhost_iotlb_miss 0xa step 2\n"
    "8@10.100042:vhost_iotlb_miss 0xb step 2\n"
    "7@10.200000:vhost_user_write req:22 flags:0x9\n"      /* answers nothing */
    "7@10.300000:vhost_user_read req:22 flags:0x9\n"       /* a reply: not counted */
    "9@10.400000:vtd_inv_desc invalidate desc type device high 0x1000 low 0x20000000003\n"
    "9@10.400001:vhost_user_write req:22 (IOTLB_MSG) flags:0x9\n"
    "9@10.400002:vtd_inv_desc invalidate desc type wait high 0x0 low 0x5\n"
    "9@10.400003:vhost_user_write req:22 flags:0x9\n";    /* answers nothing */
  g_autoptr(IovTraffic) traffic = feed_text (trace, snapshot);
  g_autoptr(GPtrArray) devices = iov_traffic_get_devices (traffic);
  IovTrafficFigures net, blk, none;

  g_assert_cmpuint (devices->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (devices, 0), ==, "01:00.0");
  g_assert_cmpstr (g_ptr_array_index (devices, 1), ==, "02:00.0");
  iov_traffic_get_figures (traffic, "01:00.0", &net);
  iov_traffic_get_figures (traffic, "02:00.0", &blk);
  iov_traffic_get_figures (traffic, NULL, &none);
  g_assert_cmpuint (net.counts[IOV_TRAFFIC_IOTLB_MISSES], ==, 1);
  g_assert_cmpuint (net.counts[IOV_TRAFFIC_IOTLB_MESSAGES], ==, 1);
  g_assert_cmpuint (net.round_trip_max_ns, ==, 40000);
  g_assert_cmpuint (blk.counts[IOV_TRAFFIC_IOTLB_MISSES], ==, 1);
  g_assert_cmpuint (blk.counts[IOV_TRAFFIC_DEVICE_INVALIDATIONS], ==, 1);
  g_assert_cmpuint (blk.counts[IOV_TRAFFIC_IOTLB_MESSAGES], ==, 2);
  g_assert_cmpuint (blk.round_trip_p50_ns, ==, 10000);
  g_assert_cmpuint (none.counts[IOV_TRAFFIC_IOTLB_MESSAGES], ==, 2);
  g_assert_cmpuint (none.counts[IOV_TRAFFIC_IOTLB_MISSES], ==, 0);
}

/* VT-d domains: learnt from the context entry and from IOTLB entries; a
 * domain shared by two devices counts for both (its messages then answer
 * no single device); a global invalidation reaches every device with a
 * domain; one before any domain is known is unattributed. Peaks count the
 * most in any one-second window, not per calendar second. */
static void
test_domains_and_peaks (void)
{
  static const char trace[] =
    "1@1.000000:vtd_inv_desc invalidate desc type iotlb high 0x0 low 0x12\n"             /* global: nobody yet */
    "1@1.100000:vtd_iotlb_cc_update IOTLB context update bus 0x1 devfn 0x0 high 0x601 low 0x0 gen 0 -> gen 1\n"
    "1@1.200000:vtd_iotlb_page_update IOTLB page update sid 0x200 iova 0x1000 slpte 0x3 domain 0x6\n"
    "1@1.600000:vtd_inv_desc invalidate desc type iotlb high 0x1000 low 0x60032\n"       /* page, domain 6 */
    "1@1.900000:vtd_inv_desc invalidate desc type iotlb high 0x0 low 0x60022\n"          /* domain 6 */
    "1@2.100000:vtd_inv_desc invalidate desc type iotlb high 0x1000 low 0x70032\n"       /* page, domain 7 */
    "1@2.200000:vtd_inv_desc invalidate desc type iotlb high 0x0 low 0x12\n"             /* global */
    "1@2.500000:vtd_inv_desc invalidate desc type iotlb high 0x1000 low 0x60032\n";      /* page, domain 6 */
  g_autoptr(IovTraffic) traffic = feed_text (trace, NULL);
  IovTrafficFigures a, b, none;

  iov_traffic_get_figures (traffic, "01:00.0", &a);
  iov_traffic_get_figures (traffic, "02:00.0", &b);
  iov_traffic_get_figures (traffic, NULL, &none);
  for (guint i = 0; i < 2; i++)
    {
      const IovTrafficFigures *f = i == 0 ? &a : &b;

      g_assert_cmpuint (f->counts[IOV_TRAFFIC_PAGE_INVALIDATIONS], ==, 2);
      g_assert_cmpuint (f->counts[IOV_TRAFFIC_DOMAIN_INVALIDATIONS], ==, 1);
      g_assert_cmpuint (f->counts[IOV_TRAFFIC_GLOBAL_INVALIDATIONS], ==, 1);
      /* 1.6 and 2.5 lie within one second; per calendar second it would be 1 */
      g_assert_cmpuint (f->peak_per_s[IOV_TRAFFIC_PAGE_INVALIDATIONS], ==, 2);
    }
  g_assert_cmpuint (none.counts[IOV_TRAFFIC_GLOBAL_INVALIDATIONS], ==, 1);
  g_assert_cmpuint (none.counts[IOV_TRAFFIC_PAGE_INVALIDATIONS], ==, 1);

  /* the rate track: per half second from 1.5 s, 1.6 and 2.5 in bins 0 and 2 */
  {
    guint64 bins[4];

    iov_traffic_get_rate (traffic, "01:00.0", IOV_TRAFFIC_PAGE_INVALIDATIONS, 1500000000, 500000000, 4, bins);
    g_assert_cmpuint (bins[0], ==, 1);
    g_assert_cmpuint (bins[1], ==, 0);
    g_assert_cmpuint (bins[2], ==, 1);
    g_assert_cmpuint (bins[3], ==, 0);
  }
}

/* ---- the CLI ------------------------------------------------------------- */

/* --stats keeps its keys in their order and adds "traffic" after
 * "inference", with the figures of the core. */
static void
test_cli_stats (void)
{
  g_autofree char *snapshot = g_test_build_filename (G_TEST_DIST, "data", "snapshots", "vhost-user-intel-ats.json",
                                                     NULL);
  g_autofree char *trace = test_capture ("qemu-versions/7.2/vhu-cm-on-strict.log.xz");
  g_autofree char *plain = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GList) members = NULL;
  g_autoptr(IovTraceDocument) doc = NULL;
  static const char *keys[] = { "lines", "events", "other", "malformed", "dropped", "first_ts", "last_ts",
                                "by_name", "inference", "traffic" };
  JsonObject *root, *traffic, *device, *rt;
  IovTrafficFigures f;
  guint i = 0;

  if (trace == NULL)
    return;
  plain = test_plain_copy (trace);

  g_assert_cmpint (run_cli (NULL, &out, &err, "trace", "--stats", "--infer", snapshot, plain, NULL), ==, 0);
  g_unlink (plain);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  members = json_object_get_members (root);
  for (GList *l = members; l != NULL; l = l->next)
    if (i < G_N_ELEMENTS (keys) && g_str_equal (l->data, keys[i]))
      i++;
  g_assert_cmpuint (i, ==, G_N_ELEMENTS (keys));
  g_assert_cmpstr (g_list_last (members)->data, ==, "traffic");

  doc = test_read_document (trace, "vhost-user-intel-ats.json");
  iov_traffic_get_figures (iov_trace_document_get_traffic (doc), "01:00.0", &f);
  traffic = json_object_get_object_member (root, "traffic");
  device = json_object_get_object_member (json_object_get_object_member (traffic, "devices"), "01:00.0");
  for (guint k = 0; k < IOV_TRAFFIC_N_COUNTS; k++)
    {
      g_assert_cmpint (json_object_get_int_member (device, iov_traffic_count_name (k)), ==, f.counts[k]);
      g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (device, "peak_per_s"),
                                                   iov_traffic_count_name (k)), ==, f.peak_per_s[k]);
    }
  rt = json_object_get_object_member (device, "miss_round_trip_us");
  g_assert_cmpint (json_object_get_int_member (rt, "p50"), ==, f.round_trip_p50_ns / 1000);
  g_assert_cmpint (json_object_get_int_member (rt, "p99"), ==, f.round_trip_p99_ns / 1000);
  g_assert_cmpint (json_object_get_int_member (rt, "max"), ==, f.round_trip_max_ns / 1000);
  g_assert_true (json_object_has_member (json_object_get_object_member (traffic, "unattributed"), "iotlb_misses"));
  g_assert_nonnull (json_object_get_array_member (traffic, "notes"));
}

int
main (int   argc,
      char *argv[])
{
  static const char *captures[] = {
    "qemu-versions/7.2/vhu-cm-on-strict.log.xz", "qemu-versions/7.2/vhu-cm-off-strict.log.xz",
    "qemu-versions/7.2/vhu-cm-off-lazy.log.xz", "qemu-versions/10.0/vhu-cm-on-strict.log.xz",
    "qemu-versions/10.0/vhu-cm-off-lazy.log.xz", "qemu-versions/11.1/vhu-cm-on-strict.log.xz",
    "qemu-versions/11.1/vhu-cm-off-lazy.log.xz",
  };

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (captures); i++)
    {
      g_autofree char *name = g_strdup_printf ("/traffic/capture/%s", captures[i]);

      g_test_add_data_func (name, captures[i], test_vhost_user_capture);
    }
  g_test_add_func ("/traffic/without-snapshot", test_without_snapshot);
  g_test_add_func ("/traffic/virtio-iommu", test_virtio_iommu);
  g_test_add_func ("/traffic/two-vhost-devices", test_two_vhost_devices);
  g_test_add_func ("/traffic/domains-and-peaks", test_domains_and_peaks);
  g_test_add_func ("/traffic/cli-stats", test_cli_stats);
  g_test_add_func ("/traffic/bins", test_bins);
  g_test_add_func ("/traffic/describe/strict", test_describe_strict);
  g_test_add_func ("/traffic/describe/lazy", test_describe_lazy);
  g_test_add_func ("/traffic/describe/no-misses", test_describe_no_misses);
  g_test_add_func ("/traffic/describe/virtio-iommu", test_describe_virtio_iommu);
  g_test_add_func ("/traffic/bins-out-of-order", test_bins_out_of_order);
  return g_test_run ();
}
