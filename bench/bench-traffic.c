/* bench-traffic.c — the traffic and mapping indexes while a trace is read (issue L)
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iov-event-store.h"
#include "iov-mappings.h"
#include "iov-trace-events.h"
#include "iov-trace-parser.h"
#include "iov-traffic.h"

/* Usage: bench-traffic FIXTURE_DIR [N_LINES]
 *
 * Builds a trace of N_LINES (default 10 M) from two real QEMU 7.2 captures
 * of tests/data/trace, repeated with their times shifted so that the
 * copies follow each other: the virtio-iommu run (map and unmap requests,
 * vhost misses) and the strict vhost-user run (VT-d invalidations, misses,
 * IOTLB messages). In one run, alternately, best of five each (CPU time of
 * the thread, so that a shared machine disturbs it less), it times
 *   - ingest: parser + event store, as the window reads a trace today;
 *   - the same with the traffic and mapping indexes fed every line, as
 *     IovTraceDocument now does;
 * then queries the indexes: mappings at 200 instants across the trace,
 * diffs between 100 pairs, and the traffic figures of every device.
 * Prints one JSON object; the ratio is ingest with indexes / without. */

typedef struct
{
  IovTraceCatalog *catalog;
  IovEventStore   *store;
  IovTraffic      *traffic;
  IovMappings     *mappings;
} Ingest;

static void
ingest_line (const char *text,
             gsize       len,
             gboolean    cut,
             gpointer    user_data)
{
  Ingest *in = user_data;
  IovTraceLine line;

  if (iov_trace_parse_line (in->catalog, text, len, &line) != IOV_TRACE_LINE_EVENT)
    return;
  iov_event_store_append_line (in->store, &line, 0);
  if (in->traffic != NULL)
    {
      iov_traffic_feed (in->traffic, &line);
      iov_mappings_feed (in->mappings, &line);
    }
}

static char *
read_xz (const char *dir,
         const char *rel)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  const char *argv[] = { "xz", "-dc", path, NULL };
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  int status;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL, &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    {
      g_printerr ("bench-traffic: %s: %s\n", path, error->message);
      exit (1);
    }
  return out;
}

/* Appends @text with every "TID@SEC.USEC:" time moved by @shift_s - its first. */
static guint64
append_shifted (GString    *out,
                const char *text,
                guint64     shift_s,
                guint64     max_lines)
{
  guint64 first = 0, n = 0;
  const char *p = text;

  while (*p && n < max_lines)
    {
      const char *nl = strchr (p, '\n');
      gsize len = nl ? (gsize) (nl - p) : strlen (p);
      unsigned tid, usec;
      unsigned long long sec;
      char head[48];
      int used = 0;

      /* sscanf on a copy: on the whole text it would measure it each time */
      memcpy (head, p, MIN (len, sizeof head - 1));
      head[MIN (len, sizeof head - 1)] = '\0';
      if (sscanf (head, "%u@%llu.%6u:%n", &tid, &sec, &usec, &used) == 3 && used > 0)
        {
          if (first == 0)
            first = sec;
          g_string_append_printf (out, "%u@%llu.%06u:", tid, sec - first + shift_s, usec);
          g_string_append_len (out, p + used, len - used);
        }
      else
        g_string_append_len (out, p, len);
      g_string_append_c (out, '\n');
      n++;
      p = nl ? nl + 1 : p + len;
    }
  return n;
}

/* CPU time of this thread: the machine may be shared, the ratio is what counts */
static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
ingest (IovTraceCatalog *catalog,
        GString         *text,
        gboolean         indexes,
        IovTraffic     **traffic,
        IovMappings    **mappings)
{
  Ingest in = { catalog, iov_event_store_new (catalog), NULL, NULL };
  double t0, t1;

  if (indexes)
    {
      in.traffic = iov_traffic_new ();
      in.mappings = iov_mappings_new ();
    }
  t0 = now_s ();
  iov_trace_split_lines (text->str, text->len, ingest_line, &in);
  t1 = now_s ();
  iov_event_store_free (in.store);
  if (traffic != NULL && *traffic == NULL)
    {
      *traffic = in.traffic;
      *mappings = in.mappings;
    }
  else if (indexes)
    {
      iov_traffic_free (in.traffic);
      iov_mappings_free (in.mappings);
    }
  return t1 - t0;
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *viommu = NULL;
  g_autofree char *vhu = NULL;
  g_autoptr(GString) text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) query_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) diff_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GPtrArray) devices = NULL;
  IovTraceCatalog *catalog;
  IovTraffic *traffic = NULL;
  IovMappings *mappings = NULL;
  guint64 target = argc > 2 ? g_ascii_strtoull (argv[2], NULL, 10) : 10000000;
  guint64 lines = 0, copies = 0, mapped = 0, span_s;
  double base = G_MAXDOUBLE, with = G_MAXDOUBLE, t0, figures_ms;

  if (argc < 2)
    {
      g_printerr ("usage: bench-traffic FIXTURE_DIR [N_LINES]\n");
      return 2;
    }
  viommu = read_xz (argv[1], "qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.log.xz");
  vhu = read_xz (argv[1], "qemu-versions/7.2/vhu-cm-on-strict.log.xz");
  text = g_string_sized_new (target * 90);
  while (lines < target)
    {
      lines += append_shifted (text, viommu, copies * 100, target - lines);
      if (lines < target)
        lines += append_shifted (text, vhu, copies * 100 + 40, target - lines);
      copies++;
    }
  span_s = copies * 100;

  catalog = iov_trace_catalog_new_default (NULL, &error);
  if (catalog == NULL)
    {
      g_printerr ("bench-traffic: %s\n", error->message);
      return 1;
    }
  for (guint i = 0; i < 5; i++)
    {
      base = MIN (base, ingest (catalog, text, FALSE, NULL, NULL));
      with = MIN (with, ingest (catalog, text, TRUE, &traffic, &mappings));
    }

  /* The first event is at 0 s of copy 0: instants over the whole span. */
  for (guint i = 0; i < 200; i++)
    {
      guint64 t = (guint64) ((double) i / 200 * span_s * 1e9) + 1;
      g_autoptr(GArray) at = NULL;
      double ms;

      t0 = now_s ();
      at = iov_mappings_at (mappings, t);
      ms = (now_s () - t0) * 1000;
      g_array_append_val (query_ms, ms);
      mapped = MAX (mapped, at->len);
    }
  for (guint i = 0; i < 100; i++)
    {
      guint64 a = (guint64) ((double) i / 100 * span_s * 1e9), b = a + 7 * G_GUINT64_CONSTANT (1000000000);
      g_autoptr(GArray) added = NULL;
      g_autoptr(GArray) removed = NULL;
      double ms;

      t0 = now_s ();
      iov_mappings_diff (mappings, a, b, &added, &removed);
      ms = (now_s () - t0) * 1000;
      g_array_append_val (diff_ms, ms);
    }
  g_array_sort (query_ms, compare_double);
  g_array_sort (diff_ms, compare_double);

  t0 = now_s ();
  devices = iov_traffic_get_devices (traffic);
  for (guint i = 0; i <= devices->len; i++)
    {
      IovTrafficFigures f;

      iov_traffic_get_figures (traffic, i < devices->len ? g_ptr_array_index (devices, i) : NULL, &f);
    }
  figures_ms = (now_s () - t0) * 1000;

  printf ("{\"lines\": %" G_GUINT64_FORMAT ", \"copies\": %" G_GUINT64_FORMAT
          ", \"map_unmap_events\": %" G_GUINT64_FORMAT ", \"most_mapped\": %" G_GUINT64_FORMAT
          ", \"ingest_s\": %.3f, \"ingest_with_indexes_s\": %.3f, \"ratio\": %.3f"
          ", \"mappings_at_ms\": {\"median\": %.3f, \"max\": %.3f}, \"mappings_diff_ms\": {\"median\": %.3f, "
          "\"max\": %.3f}, \"traffic_figures_ms\": %.1f, \"devices\": %u}\n",
          lines, copies, iov_mappings_get_n_events (mappings), mapped, base, with, with / base,
          g_array_index (query_ms, double, query_ms->len / 2), g_array_index (query_ms, double, query_ms->len - 1),
          g_array_index (diff_ms, double, diff_ms->len / 2), g_array_index (diff_ms, double, diff_ms->len - 1),
          figures_ms, devices->len);
  iov_traffic_free (traffic);
  iov_mappings_free (mappings);
  iov_trace_catalog_free (catalog);
  return 0;
}
