/* test-traffic-window.c — the rate tracks and the Traffic panel on real
 * captures, in a real window (issue L)
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

#include <adwaita.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "iov-event-store.h"
#include "iov-live-view.h"
#include "iov-range-map.h"
#include "iov-rate-tracks.h"
#include "iov-recording.h"
#include "iov-timeline.h"
#include "iov-traffic-panel.h"
#include "test-app-util.h"
#include "../test-xz.h"

/* A capture and its snapshot are written as a recording and opened in the
 * live view, as a user opens one. What the rate tracks drew and what the
 * panel says are checked against the test's own reading of the raw lines,
 * which knows nothing of the core's parser. */

enum { MISSES, INVALIDATIONS, MESSAGES, N_TRACKS };

typedef struct
{
  GArray  *ts[N_TRACKS];   /* guint64 */
  GArray  *round_trips;    /* guint64 ns: a miss to its thread's next req:22 */
  guint64  n_lines;
} Raw;

static void
raw_read (const char *text,
          Raw        *raw)
{
  g_auto(GStrv) lines = test_lines_of (text);
  g_autoptr(GHashTable) open_miss = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);

  memset (raw, 0, sizeof *raw);
  for (guint k = 0; k < N_TRACKS; k++)
    raw->ts[k] = g_array_new (FALSE, FALSE, sizeof (guint64));
  raw->round_trips = g_array_new (FALSE, FALSE, sizeof (guint64));
  for (guint i = 0; lines[i] != NULL; i++)
    {
      unsigned tid, usec;
      unsigned long long sec, hi, lo;
      const char *body;
      guint64 ts, *miss;
      int n = 0;

      if (lines[i][0] != '\0')
        raw->n_lines++;
      if (sscanf (lines[i], "%u@%llu.%u:%n", &tid, &sec, &usec, &n) != 3 || n == 0)
        continue;
      body = lines[i] + n;
      ts = sec * 1000000000ull + usec * 1000ull;
      if (sscanf (body, "vtd_inv_desc invalidate desc type device high 0x%llx low 0x%llx", &hi, &lo) == 2 ||
          (sscanf (body, "vtd_inv_desc invalidate desc type iotlb high 0x%llx low 0x%llx", &hi, &lo) == 2 &&
           ((lo >> 4) & 3) != 0))
        g_array_append_val (raw->ts[INVALIDATIONS], ts);
      else if (g_str_has_prefix (body, "vhost_iotlb_miss ") && g_str_has_suffix (body, " step 1"))
        {
          g_array_append_val (raw->ts[MISSES], ts);
          miss = g_new (guint64, 1);
          *miss = ts;
          g_hash_table_insert (open_miss, GUINT_TO_POINTER (tid), miss);
        }
      else if (g_str_has_prefix (body, "vhost_iotlb_miss "))
        g_hash_table_remove (open_miss, GUINT_TO_POINTER (tid));
      else if (g_str_has_prefix (body, "vhost_user_write req:22 "))
        {
          g_array_append_val (raw->ts[MESSAGES], ts);
          if ((miss = g_hash_table_lookup (open_miss, GUINT_TO_POINTER (tid))) != NULL)
            {
              guint64 rt = ts - *miss;

              g_array_append_val (raw->round_trips, rt);
              g_hash_table_remove (open_miss, GUINT_TO_POINTER (tid));
            }
        }
    }
}

static void
raw_clear (Raw *raw)
{
  for (guint k = 0; k < N_TRACKS; k++)
    g_array_unref (raw->ts[k]);
  g_array_unref (raw->round_trips);
}

static int
compare_u64 (gconstpointer a,
             gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return x < y ? -1 : x > y;
}

static GtkWidget *
find_type (GtkWidget *widget,
           GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_type (child, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

typedef struct
{
  GtkWidget       *window;
  IovTimeline     *timeline;
  IovRateTracks   *tracks;
  IovTrafficPanel *panel;
  char            *path;
  char            *dir;
} View;

/* @capture (tests/data/trace/…) with tests/data/snapshots/@snapshot, as a
 * recording opened in a live view; FALSE (skipped) without xz. */
static gboolean
view_open (View       *v,
           const char *capture,
           const char *snapshot_name,
           Raw        *raw)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *trace = test_read_xz_trace (capture);
  g_autofree char *snapshot_path = g_path_is_absolute (snapshot_name)
                                    ? g_strdup (snapshot_name)
                                    : g_test_build_filename (G_TEST_DIST, "data", "snapshots", snapshot_name, NULL);
  g_autofree char *snapshot_text = NULL;
  g_autoptr(JsonNode) snapshot = NULL;
  g_autoptr(IovRecordingWriter) writer = NULL;
  g_autoptr(GFile) file = NULL;
  GtkWidget *view = iov_live_view_new ();
  IovEventStore *store = NULL;
  gint64 deadline;

  memset (v, 0, sizeof *v);
  if (trace == NULL)
    {
      g_object_ref_sink (view);
      g_object_unref (view);
      g_test_skip ("xz is not installed");
      return FALSE;
    }
  raw_read (trace, raw);
  g_file_get_contents (snapshot_path, &snapshot_text, NULL, &error);
  g_assert_no_error (error);
  snapshot = json_from_string (snapshot_text, &error);
  g_assert_no_error (error);

  v->dir = g_dir_make_tmp ("iovista-test-XXXXXX", &error);
  g_assert_no_error (error);
  v->path = g_build_filename (v->dir, "run.iovista", NULL);
  writer = iov_recording_writer_new (v->path, "fifo:/tmp/x", &error);
  g_assert_no_error (error);
  g_assert_true (iov_recording_writer_snapshot (writer, snapshot, g_array_index (raw->ts[MISSES], guint64, 0), &error));
  g_assert_true (iov_recording_writer_trace (writer, trace, strlen (trace), &error));
  g_assert_true (iov_recording_writer_close (writer, &error));
  g_assert_no_error (error);

  v->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (v->window), 1400, 900);
  gtk_window_set_child (GTK_WINDOW (v->window), view);
  gtk_window_present (GTK_WINDOW (v->window));
  v->timeline = IOV_TIMELINE (find_type (view, IOV_TYPE_TIMELINE));
  v->tracks = IOV_RATE_TRACKS (find_type (view, IOV_TYPE_RATE_TRACKS));
  v->panel = IOV_TRAFFIC_PANEL (find_type (view, IOV_TYPE_TRAFFIC_PANEL));
  g_assert_nonnull (v->timeline);
  g_assert_nonnull (v->tracks);
  g_assert_nonnull (v->panel);

  file = g_file_new_for_path (v->path);
  g_assert_true (iov_live_view_open_file (IOV_LIVE_VIEW (view), file, &error));
  g_assert_no_error (error);
  deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
  while (g_get_monotonic_time () < deadline &&
         ((store = iov_timeline_get_store (v->timeline)) == NULL || iov_event_store_get_n_events (store) < raw->n_lines))
    g_main_context_iteration (NULL, FALSE);
  g_assert_nonnull (store);
  g_assert_cmpuint (iov_event_store_get_n_events (store), ==, raw->n_lines);
  app_test_wait_for_draw (v->window);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (v->tracks)));
  return TRUE;
}

static void
view_close (View *v)
{
  if (v->window != NULL)
    gtk_window_destroy (GTK_WINDOW (v->window));
  if (v->path != NULL)
    g_unlink (v->path);
  if (v->dir != NULL)
    g_rmdir (v->dir);
  g_free (v->path);
  g_free (v->dir);
}

/* Every bin the tracks drew holds the raw lines of its time, the bins are
 * on the timeline's range, and the highest bar's rate is the most lines
 * the test finds in any window of the same second on that grid. */
static void
assert_tracks (View *v,
               Raw  *raw,
               guint tracks_mask)
{
  guint64 t0, t1;

  iov_timeline_get_range (v->timeline, &t0, &t1);
  for (guint k = 0; k < N_TRACKS; k++)
    {
      guint n_bins = 0, window = 0, n_bars = 0;
      guint64 g0 = 0, bin_ns = 0, in_bins = 0, in_range = 0, best = 0;
      const guint64 *bins = iov_rate_tracks_get_bins (v->tracks, k, &n_bins, &g0, &bin_ns, &window);
      const double *rates = iov_rate_tracks_get_rates (v->tracks, k, &n_bars);
      g_autofree guint64 *want = NULL;
      double max = 0;

      if ((tracks_mask & (1u << k)) == 0)
        continue;
      g_assert_nonnull (bins);
      g_assert_cmpuint (n_bins, >, 0);
      /* the grid covers the range in view, in bins of 0.1 s to a second */
      g_assert_cmpuint (g0, <=, t0);
      g_assert_cmpuint (g0 + n_bins * bin_ns, >=, t1);
      /* and no more than it, a second around it and a bin */
      g_assert_cmpuint (n_bins * bin_ns, <=, (t1 - t0) + window * bin_ns + bin_ns);
      g_assert_cmpuint (bin_ns * window, ==, 1000000000ull);
      want = g_new0 (guint64, n_bins);
      for (guint i = 0; i < raw->ts[k]->len; i++)
        {
          guint64 t = g_array_index (raw->ts[k], guint64, i);

          if (t >= g0 && t < g0 + n_bins * bin_ns)
            want[(t - g0) / bin_ns]++;
          in_range += t >= t0 && t < t1;
        }
      for (guint b = 0; b < n_bins; b++)
        {
          if (bins[b] != want[b])
            g_error ("track %u, bin %u of %u: %" G_GUINT64_FORMAT " drawn, %" G_GUINT64_FORMAT " in the raw trace", k,
                     b, n_bins, bins[b], want[b]);
          in_bins += bins[b];
        }
      g_assert_cmpuint (in_bins, >=, in_range);
      g_assert_cmpuint (in_range, >, 0);
      /* the highest bar: the most raw lines in a second of the grid */
      for (guint i = 0; i + window <= n_bins; i++)
        {
          guint64 n = 0;

          for (guint i2 = 0; i2 < raw->ts[k]->len; i2++)
            {
              guint64 t = g_array_index (raw->ts[k], guint64, i2);

              n += t >= g0 + i * bin_ns && t < g0 + (i + window) * bin_ns;
            }
          best = MAX (best, n);
        }
      g_assert_cmpuint (n_bars, ==, n_bins + 1 - window);
      for (guint i = 0; i < n_bars; i++)
        max = MAX (max, rates[i]);
      g_test_message ("track %u: %u bins of %" G_GUINT64_FORMAT " ms, %" G_GUINT64_FORMAT " lines, up to %.0f/s", k,
                      n_bins, bin_ns / 1000000, in_bins, max);
      g_assert_cmpfloat (max, ==, (double) best);
    }
}

static char *
grouped (guint64 n)
{
  return g_strdup_printf ("%'" G_GUINT64_FORMAT, n);
}

/* The strict guest's vhost-user capture: no device has an address space in
 * its snapshot, so nothing is selected and the tracks show every counted
 * line; the panel says 01:00.0's misses and their median round trip, one
 * message per miss and per device invalidation, and the advice. */
static void
test_vhost_user (void)
{
  View v;
  Raw raw;
  g_autofree char *text = NULL;
  g_autofree char *misses = NULL;
  g_autofree char *expect = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  if (!view_open (&v, "qemu-versions/7.2/vhu-cm-on-strict.log.xz", "vhost-user-intel-ats.json", &raw))
    return;
  /* The snapshot names 01:00.0 only through its notifiers (no memory
   * tree): the sidebar lists it all the same, and selects it.  Every miss
   * and IOTLB message of the trace is its own; the invalidations of the
   * other device's domain are not, so they are checked on every device. */
  {
    GtkWidget *view = gtk_window_get_child (GTK_WINDOW (v.window));
    g_auto(GStrv) rows = iov_live_view_dup_rows (IOV_LIVE_VIEW (view), FALSE);

    g_assert_cmpuint (g_strv_length (rows), ==, 1);
    g_assert_cmpstr (rows[0], ==, "01:00.0 virtio-net-pci");
    assert_tracks (&v, &raw, (1u << MISSES) | (1u << MESSAGES));
    iov_rate_tracks_set_device (v.tracks, NULL);
    app_test_wait_for_draw (v.window);
  }
  assert_tracks (&v, &raw, 0x7);

  text = iov_traffic_panel_get_text (v.panel);
  g_test_message ("%s", text);
  g_array_sort (raw.round_trips, compare_u64);
  misses = grouped (raw.ts[MISSES]->len);
  expect = g_strdup_printf ("%s IOTLB misses, median round trip %" G_GUINT64_FORMAT " µs", misses,
                            g_array_index (raw.round_trips, guint64, (raw.round_trips->len + 1) / 2 - 1) / 1000);
  g_assert_nonnull (strstr (text, "01:00.0\n"));
  g_assert_nonnull (strstr (text, expect));
  g_assert_nonnull (strstr (text, "one per miss and one per device invalidation"));
  g_assert_nonnull (strstr (text, "iommu.strict=1"));

  /* the tracks are drawn: their labels and three colours of bars */
  texture = app_test_render (GTK_WIDGET (v.tracks));
  g_assert_cmpuint (app_test_count_colours (texture, 16), >=, 6);

  /* zoomed into the busiest second, the bins follow */
  {
    guint64 t0, t1, mid = g_array_index (raw.ts[MISSES], guint64, raw.ts[MISSES]->len / 2);

    guint n_before = 0, n_after = 0;
    gint64 deadline = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;

    g_assert_nonnull (iov_rate_tracks_get_bins (v.tracks, IOV_RATE_TRACK_MISSES, &n_before, NULL, NULL, NULL));
    iov_timeline_set_range (v.timeline, mid - 1500000000ull, mid + 1500000000ull);
    /* the tracks follow the timeline's range by themselves */
    while (g_get_monotonic_time () < deadline &&
           iov_rate_tracks_get_bins (v.tracks, IOV_RATE_TRACK_MISSES, &n_after, NULL, NULL, NULL) && n_after == n_before)
      g_main_context_iteration (NULL, FALSE);
    g_assert_cmpuint (n_after, !=, n_before);
    iov_timeline_get_range (v.timeline, &t0, &t1);
    g_assert_cmpuint (t1 - t0, ==, 3000000000ull);
    assert_tracks (&v, &raw, 0x7);
  }
  view_close (&v);
  raw_clear (&raw);
}

/* virtio-iommu: 00:02.0, the device with notifiers, is selected; its
 * misses and messages are every one of the trace's, its invalidations
 * (VT-d's) none, and the panel says the messages that answer no miss pass
 * on the unmaps. */
static void
test_virtio_iommu (void)
{
  View v;
  Raw raw;
  g_autofree char *text = NULL;
  g_autofree char *expect = NULL;
  g_autofree char *misses = NULL;

  if (!view_open (&v, "qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.log.xz", "virtio-iommu-vhost-user.json",
                  &raw))
    return;
  assert_tracks (&v, &raw, (1u << MISSES) | (1u << MESSAGES));
  g_assert_cmpuint (raw.ts[INVALIDATIONS]->len, ==, 0);

  text = iov_traffic_panel_get_text (v.panel);
  g_test_message ("%s", text);
  g_assert_true (g_str_has_prefix (text, "IOTLB Traffic\n00:02.0\n"));
  misses = grouped (raw.ts[MISSES]->len);
  expect = g_strdup_printf ("%s IOTLB misses", misses);
  g_assert_nonnull (strstr (text, expect));
  g_assert_nonnull (strstr (text, "pass on invalidations or unmaps"));
  g_assert_null (strstr (text, "strict"));
  view_close (&v);
  raw_clear (&raw);
}

typedef struct
{
  guint64 start;
  guint64 end;
  guint64 phys;
  guint   flags;
} Span;

/* Domain 0's mappings (00:02.0's: endpoint 16 attaches to it at boot)
 * after every line at or before @t, replayed from the raw lines: a map adds
 * its range, an unmap removes the ranges inside its own, put_domain and
 * reset remove all. */
static GArray *
replay_domain0 (const char *trace,
                guint64     t)
{
  g_auto(GStrv) lines = test_lines_of (trace);
  GArray *live = g_array_new (FALSE, TRUE, sizeof (Span));

  for (guint i = 0; lines[i] != NULL; i++)
    {
      unsigned tid, usec, flags;
      unsigned long long sec, s, e, p;
      int n = 0;
      const char *body;

      if (sscanf (lines[i], "%u@%llu.%u:%n", &tid, &sec, &usec, &n) != 3 || n == 0)
        continue;
      if (sec * 1000000000ull + usec * 1000ull > t)
        break;
      body = lines[i] + n;
      if (sscanf (body, "virtio_iommu_map domain=0 virt_start=0x%llx virt_end=0x%llx phys_start=0x%llx flags=%u",
                  &s, &e, &p, &flags) == 4)
        {
          Span span = { s, e, p, flags };

          g_array_append_val (live, span);
        }
      else if (sscanf (body, "virtio_iommu_unmap domain=0 virt_start=0x%llx virt_end=0x%llx", &s, &e) == 2)
        {
          for (guint k = live->len; k-- > 0;)
            if (g_array_index (live, Span, k).start >= s && g_array_index (live, Span, k).end <= e)
              g_array_remove_index (live, k);
        }
      else if (g_str_has_prefix (body, "virtio_iommu_put_domain Free domain=0") ||
               g_str_has_prefix (body, "virtio_iommu_device_reset"))
        g_array_set_size (live, 0);
    }
  return live;
}

/* How many of @a are not in @b (the same range, address and flags). */
static guint
n_minus (GArray *a,
         GArray *b)
{
  guint n = 0;

  for (guint i = 0; i < a->len; i++)
    {
      gboolean found = FALSE;

      for (guint j = 0; j < b->len && !found; j++)
        {
          const Span *x = &g_array_index (a, Span, i), *y = &g_array_index (b, Span, j);

          found = x->start == y->start && x->end == y->end && x->phys == y->phys && x->flags == y->flags;
        }
      n += !found;
    }
  return n;
}

/* Selecting spans on the timeline shows 00:02.0's mappings as of the
 * span's end on the map, and what the span added and removed: as many as
 * the test's own replay of the map and unmap lines finds. */
static void
test_mappings_scrub (void)
{
  static const double spans[][2] = { { 5.0, 6.5 }, { 6.0, 8.0 }, { 8.0, 12.5 }, { 1.0, 25.0 } };
  g_autofree char *trace = test_read_xz_trace ("qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.log.xz");
  IovRangeMap *map;
  guint64 origin;
  guint n_nonzero = 0;
  View v;
  Raw raw;

  if (!view_open (&v, "qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.log.xz", "virtio-iommu-vhost-user.json",
                  &raw))
    return;
  map = IOV_RANGE_MAP (find_type (v.window, IOV_TYPE_RANGE_MAP));
  g_assert_nonnull (map);
  g_assert_cmpuint (iov_range_map_get_n_mappings (map, NULL, NULL), ==, 0);   /* no span, no mappings */
  {
    unsigned tid, usec;
    unsigned long long sec;

    g_assert_cmpint (sscanf (trace, "%u@%llu.%u:", &tid, &sec, &usec), ==, 3);
    origin = sec * 1000000000ull + usec * 1000ull;
  }
  for (guint i = 0; i < G_N_ELEMENTS (spans); i++)
    {
      guint64 t0 = origin + (guint64) (spans[i][0] * 1e9), t1 = origin + (guint64) (spans[i][1] * 1e9);
      g_autoptr(GArray) before = replay_domain0 (trace, t0);
      g_autoptr(GArray) after = replay_domain0 (trace, t1);
      guint n_added = 0, n_removed = 0, n;

      iov_timeline_set_selection (v.timeline, t0, t1);
      n = iov_range_map_get_n_mappings (map, &n_added, &n_removed);
      g_test_message ("[%.1f s, %.1f s]: %u mapped, %u added, %u removed", spans[i][0], spans[i][1], n, n_added,
                      n_removed);
      g_assert_cmpuint (n, ==, after->len);
      g_assert_cmpuint (n_added, ==, n_minus (after, before));
      g_assert_cmpuint (n_removed, ==, n_minus (before, after));
      n_nonzero += n > 0;
      /* and the panel says it */
      {
        g_autofree char *text = iov_traffic_panel_get_text (v.panel);
        g_autofree char *want = g_strdup_printf ("At the selection's end, %u IOVA ranges are mapped in domain 0", n);

        /* after the guest's reset, 00:02.0 is in no domain: nothing to say */
        if (n > 0)
          g_assert_nonnull (strstr (text, want));
        else
          g_assert_null (strstr (text, "IOVA ranges are mapped"));
      }
    }
  g_assert_cmpuint (n_nonzero, >, 0);
  iov_timeline_clear_selection (v.timeline);
  g_assert_cmpuint (iov_range_map_get_n_mappings (map, NULL, NULL), ==, 0);
  {
    g_autofree char *text = iov_traffic_panel_get_text (v.panel);

    g_assert_null (strstr (text, "IOVA ranges are mapped"));
  }
  view_close (&v);
  raw_clear (&raw);
}

/* Whether endpoint 16 (00:02.0) is attached to domain 0 at @t, from the
 * raw attach, detach, put_domain and reset lines. */
static gboolean
attached_domain0 (const char *trace,
                  guint64     t)
{
  g_auto(GStrv) lines = test_lines_of (trace);
  gboolean attached = FALSE;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      unsigned tid, usec;
      unsigned long long sec;
      int n = 0;
      const char *body;

      if (sscanf (lines[i], "%u@%llu.%u:%n", &tid, &sec, &usec, &n) != 3 || n == 0)
        continue;
      if (sec * 1000000000ull + usec * 1000ull > t)
        break;
      body = lines[i] + n;
      if (g_str_has_prefix (body, "virtio_iommu_attach domain=0 endpoint=16"))
        attached = TRUE;
      else if (g_str_has_prefix (body, "virtio_iommu_detach domain=0 endpoint=16") ||
               g_str_has_prefix (body, "virtio_iommu_put_domain Free domain=0") ||
               g_str_has_prefix (body, "virtio_iommu_device_reset"))
        attached = FALSE;
    }
  return attached;
}

static int
compare_spans (gconstpointer a,
               gconstpointer b)
{
  const Span *x = a, *y = b;

  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return x->phys < y->phys ? -1 : x->phys > y->phys;
}

/* What the map shows as mapped equals the test's replay at @t, range by
 * range; the number shown. */
static guint
assert_map_at (View        *v,
               IovRangeMap *map,
               const char  *trace,
               guint64      origin,
               guint64      t)
{
  g_autoptr(GArray) shown = iov_range_map_dup_mappings (map, IOV_RANGE_MAP_MAPPED);
  g_autoptr(GArray) want = replay_domain0 (trace, t);
  g_autofree char *text = iov_traffic_panel_get_text (v->panel);
  g_autofree char *say = NULL;
  guint n_added = 0, n_removed = 0;

  g_array_sort (want, compare_spans);
  g_test_message ("cursor at %.6f s: %u mapped (replay: %u)", (t - origin) / 1e9, shown->len, want->len);
  g_assert_cmpuint (shown->len, ==, want->len);
  for (guint i = 0; i < shown->len; i++)
    {
      const IovMapping *m = &g_array_index (shown, IovMapping, i);
      const Span *w = &g_array_index (want, Span, i);

      if (m->start != w->start || m->end != w->end || m->phys != w->phys || m->flags != w->flags)
        g_error ("at %.6f s, mapping %u: the map shows 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x → 0x%"
                 G_GINT64_MODIFIER "x flags %u, the replay 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x → 0x%"
                 G_GINT64_MODIFIER "x flags %u", (t - origin) / 1e9, i, m->start, m->end, m->phys, m->flags,
                 w->start, w->end, w->phys, w->flags);
    }
  /* an instant has no span: nothing added or removed */
  iov_range_map_get_n_mappings (map, &n_added, &n_removed);
  g_assert_cmpuint (n_added + n_removed, ==, 0);
  say = g_strdup_printf ("At %.6f s, %u IOVA ranges are mapped in domain 0 (white on the map).", (t - origin) / 1e9,
                         shown->len);
  /* the panel says it while the device is in a domain, none or many */
  if (attached_domain0 (trace, t))
    g_assert_nonnull (strstr (text, say));
  else
    {
      g_assert_cmpuint (shown->len, ==, 0);
      g_assert_null (strstr (text, "IOVA ranges are mapped"));
    }
  return shown->len;
}

static GtkGesture *
timeline_drag (IovTimeline *timeline)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (timeline));

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) c = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_DRAG (c))
        return GTK_GESTURE (c);   /* the widget keeps it */
    }
  g_assert_not_reached ();
}

static double
x_of (IovTimeline *timeline,
      guint64      t)
{
  guint64 t0, t1;
  double px, pw;

  iov_timeline_get_range (timeline, &t0, &t1);
  iov_timeline_get_plot_area (timeline, &px, &pw);
  return px + pw * ((double) t - (double) t0) / (double) (t1 - t0);
}

/* A press at @x, a move by @dx and a release, through the timeline's own
 * drag gesture (primary button, no modifier). */
static void
drag (IovTimeline *timeline,
      double       x,
      double       dx)
{
  GtkGesture *gesture = timeline_drag (timeline);

  g_signal_emit_by_name (gesture, "drag-begin", x, 30.0);
  if (dx != 0)
    g_signal_emit_by_name (gesture, "drag-update", dx, 0.0);
  g_signal_emit_by_name (gesture, "drag-end", dx, 0.0);
}

/* The timeline's cursor scrubs the map: at every instant, 00:02.0's
 * mappings on the map are the test's own replay of the map and unmap lines
 * up to then; a click places the cursor, dragging it moves it and the map
 * follows, a drag elsewhere selects a span instead. */
static void
test_mappings_cursor (void)
{
  static const double instants[] = { 4.0, 5.5, 7.6, 7.75, 8.2, 8.7, 9.3, 10.2, 11.3, 12.1, 12.8, 15.0, 21.5, 22.05 };
  g_autofree char *trace = test_read_xz_trace ("qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.log.xz");
  g_autoptr(GHashTable) sizes = g_hash_table_new (g_direct_hash, g_direct_equal);
  IovRangeMap *map;
  guint64 origin, t, t_before;
  guint n_nonzero = 0;
  View v;
  Raw raw;

  if (!view_open (&v, "qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.log.xz", "virtio-iommu-vhost-user.json",
                  &raw))
    return;
  map = IOV_RANGE_MAP (find_type (v.window, IOV_TYPE_RANGE_MAP));
  g_assert_nonnull (map);
  g_assert_false (iov_timeline_get_cursor (v.timeline, NULL));
  g_assert_cmpuint (iov_range_map_get_n_mappings (map, NULL, NULL), ==, 0);   /* no cursor, no mappings */
  {
    unsigned tid, usec;
    unsigned long long sec;

    g_assert_cmpint (sscanf (trace, "%u@%llu.%u:", &tid, &sec, &usec), ==, 3);
    origin = sec * 1000000000ull + usec * 1000ull;
  }

  for (guint i = 0; i < G_N_ELEMENTS (instants); i++)
    {
      guint n;

      t = origin + (guint64) (instants[i] * 1e9);
      iov_timeline_set_cursor (v.timeline, t);
      n = assert_map_at (&v, map, trace, origin, t);
      n_nonzero += n > 0;
      g_hash_table_add (sizes, GUINT_TO_POINTER (n));
    }
  /* the instants saw the device's mappings come and go */
  g_assert_cmpuint (n_nonzero, >=, 8);
  g_assert_cmpuint (g_hash_table_size (sizes), >=, 6);

  /* dragging the cursor scrubs: 8.2 s, then 40 px later */
  t_before = origin + 8200000000ull;
  iov_timeline_set_cursor (v.timeline, t_before);
  drag (v.timeline, x_of (v.timeline, t_before) + 2, 40);
  g_assert_true (iov_timeline_get_cursor (v.timeline, &t));
  g_assert_false (iov_timeline_get_selection (v.timeline, NULL, NULL));
  g_assert_cmpuint (t, >, t_before + 1000000000ull);
  assert_map_at (&v, map, trace, origin, t);

  /* a click away from the cursor places it there */
  drag (v.timeline, x_of (v.timeline, origin + 12000000000ull), 0);
  g_assert_true (iov_timeline_get_cursor (v.timeline, &t));
  g_assert_cmpuint (t, >, origin + 11900000000ull);
  g_assert_cmpuint (t, <, origin + 12100000000ull);
  g_assert_cmpuint (assert_map_at (&v, map, trace, origin, t), >, 0);

  /* a drag away from it selects a span: the cursor goes, the span's
   * changes show */
  drag (v.timeline, x_of (v.timeline, origin + 7000000000ull), 120);
  g_assert_false (iov_timeline_get_cursor (v.timeline, NULL));
  g_assert_true (iov_timeline_get_selection (v.timeline, NULL, NULL));
  {
    guint n_added = 0;

    iov_range_map_get_n_mappings (map, &n_added, NULL);
    g_assert_cmpuint (n_added, >, 0);
  }

  /* Escape clears both, and the map's mappings */
  iov_timeline_set_cursor (v.timeline, origin + 9000000000ull);
  g_assert_cmpuint (iov_range_map_get_n_mappings (map, NULL, NULL), >, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (v.timeline), "timeline.clear-selection", NULL));
  g_assert_false (iov_timeline_get_cursor (v.timeline, NULL));
  g_assert_cmpuint (iov_range_map_get_n_mappings (map, NULL, NULL), ==, 0);
  view_close (&v);
  raw_clear (&raw);
}

/* The sidebar's list box: the one with as many rows as the view lists. */
static GtkListBox *
find_sidebar (GtkWidget *widget,
              guint      n_rows)
{
  if (GTK_IS_LIST_BOX (widget) && n_rows > 0 &&
      gtk_list_box_get_row_at_index (GTK_LIST_BOX (widget), n_rows - 1) != NULL &&
      gtk_list_box_get_row_at_index (GTK_LIST_BOX (widget), n_rows) == NULL)
    return GTK_LIST_BOX (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkListBox *found = find_sidebar (child, n_rows);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The sidebar row of @bdf ("BDF TYPE" in iov_live_view_dup_rows()),
 * selected as a click would. */
static gboolean
select_device (GtkWidget  *window,
               const char *bdf)
{
  IovLiveView *view = IOV_LIVE_VIEW (find_type (window, IOV_TYPE_LIVE_VIEW));
  g_auto(GStrv) rows = iov_live_view_dup_rows (view, TRUE);
  GtkListBox *list = find_sidebar (GTK_WIDGET (view), g_strv_length (rows));

  g_assert_nonnull (list);
  for (guint i = 0; rows[i] != NULL; i++)
    if (g_str_has_prefix (rows[i], bdf) && rows[i][strlen (bdf)] == ' ')
      {
        gtk_list_box_select_row (list, gtk_list_box_get_row_at_index (list, i));
        return TRUE;
      }
  return FALSE;
}

/* Domain 0x5's VT-d mappings after every vtd_page_walk_one line at or
 * before @t, from the raw lines: perm ≠ 0 maps the page (once, however
 * many devices' walks name it), perm 0 unmaps what it covers. */
static GArray *
replay_vtd (const char *trace,
            guint64     t)
{
  g_auto(GStrv) lines = test_lines_of (trace);
  GArray *live = g_array_new (FALSE, TRUE, sizeof (Span));

  for (guint i = 0; lines[i] != NULL; i++)
    {
      unsigned tid, usec, perm;
      unsigned long long sec, iova, gpa, mask;
      int n = 0;
      gboolean found = FALSE;

      if (sscanf (lines[i], "%u@%llu.%u:%n", &tid, &sec, &usec, &n) != 3 || n == 0)
        continue;
      if (sec * 1000000000ull + usec * 1000ull > t)
        break;
      if (sscanf (lines[i] + n, "vtd_page_walk_one domain 0x5 iova 0x%llx -> gpa 0x%llx mask 0x%llx perm %u",
                  &iova, &gpa, &mask, &perm) != 4)
        continue;
      for (guint k = live->len; k-- > 0;)
        {
          Span *s = &g_array_index (live, Span, k);

          if (s->start <= iova + mask && s->end >= iova)
            {
              if (perm == 0)
                g_array_remove_index (live, k);
              else
                found = TRUE;
            }
        }
      if (perm != 0 && !found)
        {
          Span span = { iova, iova + mask, gpa, perm };

          g_array_append_val (live, span);
        }
    }
  return live;
}

/* VT-d on the real 5.2 capture: 01:00.0, the vhost device, is walked only
 * while nothing is mapped, so the trace never names its domain and the
 * panel says so; 00:1f.0 is walked after its context invalidation, so at
 * the cursor the map shows domain 0x5's mappings, as the test's own
 * replay of the walk lines finds them, and before that walk it says the
 * domain is not known. */
static void
test_vtd_mappings (void)
{
  g_autofree char *trace = test_read_xz_trace ("qemu-versions/5.2/vhu-cm-on-strict.log.xz");
  g_autofree char *dir = NULL;
  g_autofree char *snapshot_path = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) shown = NULL;
  g_autoptr(GArray) want = NULL;
  IovRangeMap *map;
  guint64 origin, end = 0, walked = 0;
  View v;
  Raw raw;
  static const char snapshot[] =
    "{\"qemu\": {\"version\": \"5.2.0\"}, \"iommu\": {\"type\": \"intel-iommu\", \"properties\": {\"aw-bits\": 39, "
    "\"caching-mode\": true, \"device-iotlb\": true}}, \"devices\": [{\"bdf\": \"01:00.0\", \"type\": "
    "\"virtio-net-pci\", \"vhost\": true}, {\"bdf\": \"00:1f.0\", \"type\": \"ICH9-LPC\"}], \"address_spaces\": "
    "[{\"spaces\": [{\"name\": \"virtio-net-pci\", \"root\": \"intel_iommu\", \"device\": \"01:00.0\"}, "
    "{\"name\": \"ICH9-LPC\", \"root\": \"intel_iommu\", \"device\": \"00:1f.0\"}], \"root_region\": \"intel_iommu\", "
    "\"iommu\": true, \"flat_ranges\": [{\"start\": \"0x0\", \"end\": \"0xffffffffffffffff\", \"priority\": 0, "
    "\"kind\": \"i/o\", \"region\": \"intel_iommu\", \"offset\": \"0x0\", \"role\": \"iommu\"}], \"notifiers\": "
    "[{\"consumer\": \"vhost\", \"device\": \"01:00.0\", \"region\": \"intel_iommu\", \"start\": \"0x0\", "
    "\"end\": \"0xffffffffffffffff\", \"flags\": null, \"inferred\": true}]}]}";

  if (trace == NULL)
    {
      g_test_skip ("xz is not installed");
      return;
    }
  dir = g_dir_make_tmp ("iovista-vtd-XXXXXX", &error);
  g_assert_no_error (error);
  snapshot_path = g_build_filename (dir, "snapshot.json", NULL);
  g_assert_true (g_file_set_contents (snapshot_path, snapshot, -1, &error));
  if (!view_open (&v, "qemu-versions/5.2/vhu-cm-on-strict.log.xz", snapshot_path, &raw))
    return;
  map = IOV_RANGE_MAP (find_type (v.window, IOV_TYPE_RANGE_MAP));
  {
    g_auto(GStrv) lines = test_lines_of (trace);
    unsigned tid, usec;
    unsigned long long sec;

    g_assert_cmpint (sscanf (trace, "%u@%llu.%u:", &tid, &sec, &usec), ==, 3);
    origin = sec * 1000000000ull + usec * 1000ull;
    for (guint i = 0; lines[i] != NULL; i++)
      if (sscanf (lines[i], "%u@%llu.%u:", &tid, &sec, &usec) == 3)
        {
          end = sec * 1000000000ull + usec * 1000ull;
          /* 00:1f.0's walk: after QEMU's line invalidating its context */
          if (walked == 0 && i > 1 && strstr (lines[i - 2], "context invalidate device 00:1f.00") &&
              strstr (lines[i - 1], "vtd_switch_address_space Device 00:1f.0 "))
            walked = end;
        }
  }
  g_assert_cmpuint (walked, >, origin);

  /* 01:00.0 (the device with notifiers) is selected: no domain named */
  iov_timeline_set_cursor (v.timeline, end);
  g_assert_cmpuint (iov_range_map_get_n_mappings (map, NULL, NULL), ==, 0);
  text = iov_traffic_panel_get_text (v.panel);
  g_assert_nonnull (strstr (text, "The trace does not say which domain 01:00.0 is in then"));
  g_clear_pointer (&text, g_free);

  /* 00:1f.0: before its walk, unknown; after it, domain 0x5 */
  g_assert_true (select_device (v.window, "00:1f.0"));
  iov_timeline_set_cursor (v.timeline, walked - 1000);
  g_assert_cmpuint (iov_range_map_get_n_mappings (map, NULL, NULL), ==, 0);
  text = iov_traffic_panel_get_text (v.panel);
  g_assert_nonnull (strstr (text, "The trace does not say which domain 00:1f.0 is in then"));
  g_clear_pointer (&text, g_free);

  iov_timeline_set_cursor (v.timeline, end);
  shown = iov_range_map_dup_mappings (map, IOV_RANGE_MAP_MAPPED);
  want = replay_vtd (trace, end);
  g_array_sort (want, compare_spans);
  g_test_message ("00:1f.0 at the end: %u mapped (replay: %u)", shown->len, want->len);
  g_assert_cmpuint (shown->len, >, 0);
  g_assert_cmpuint (shown->len, ==, want->len);
  for (guint i = 0; i < shown->len; i++)
    {
      const IovMapping *m = &g_array_index (shown, IovMapping, i);
      const Span *w = &g_array_index (want, Span, i);

      g_assert_cmpuint (m->start, ==, w->start);
      g_assert_cmpuint (m->end, ==, w->end);
      g_assert_cmpuint (m->phys, ==, w->phys);
      g_assert_cmpuint (m->flags, ==, w->flags);
    }
  text = iov_traffic_panel_get_text (v.panel);
  {
    g_autofree char *say = g_strdup_printf ("%u IOVA ranges are mapped in domain 0x5", shown->len);

    g_assert_nonnull (strstr (text, say));
  }
  view_close (&v);
  raw_clear (&raw);
  g_unlink (snapshot_path);
  g_rmdir (dir);
}

int
main (int    argc,
      char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/app/traffic/vhost-user", test_vhost_user);
  g_test_add_func ("/app/traffic/virtio-iommu", test_virtio_iommu);
  g_test_add_func ("/app/traffic/mappings-scrub", test_mappings_scrub);
  g_test_add_func ("/app/traffic/mappings-cursor", test_mappings_cursor);
  g_test_add_func ("/app/traffic/vtd-mappings", test_vtd_mappings);
  return g_test_run ();
}
