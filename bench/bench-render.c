/* bench-render.c — frame times of the live view's drawing with a big trace
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

/* A real 1920×1080 window (GSK_RENDERER=cairo) holding an IovRangeMap, an
 * IovNotifierLanes and an IovTimeline over an IovEventStore.  It needs a
 * display: run it under xvfb-run, e.g.
 *
 *   xvfb-run -a meson test -C _build --benchmark render
 *
 * A frame is what the frame clock would do after a queue_draw: snapshot
 * the window (its paintable) and render the nodes to a texture; the main
 * loop does not run in between, so GTK never paints behind our back and
 * every frame redraws the timeline.  Phases, in one run:
 *
 *   baseline  the same window, empty store, no input
 *   live      10 M events (100 s at 100 k/s), following the newest 10 s,
 *             with 100 k events/s appended between frames (as many as the
 *             previous frame's wall time is worth)
 *   zoomed    the same store and input, not following, the whole trace
 *             in view (every event binned in every frame)
 *
 *   mappings  (issue L) the mappings index of a 10 M-event trace, built
 *             from the real virtio-iommu capture given as the third
 *             argument: its map, unmap, attach, put_domain and reset lines
 *             repeated with their times moved so that the copies follow
 *             each other, every line an event the index takes. Twice: as
 *             captured (the guest resets at the end of each copy: a few
 *             hundred mappings live at a time), and growing (each copy's
 *             IOVAs 4 GiB above the last one's and no resets: about a
 *             million mappings live at the end). Then, on the same clock as
 *             the frames, mappings at 200 instants across the trace and
 *             diffs of 100 seven-second spans, each against the zoomed-out
 *             frame's median: the goal is a query cheaper than one frame.
 *
 * Output: one JSON line per phase with the median and p95 frame time, and
 * a summary with the ratios to the baseline. */

#include "config.h"

#include <adwaita.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iov-event-store.h"
#include "iov-mappings.h"
#include "iov-notifier-lanes.h"
#include "iov-range-map.h"
#include "iov-timeline.h"

#define WIDTH   1920
#define HEIGHT  1080
#define RATE    100000                         /* events/s */
#define PERIOD  (G_GUINT64_CONSTANT (1000000000) / RATE)
#define IR_FIRST G_GUINT64_CONSTANT (0xfee00000)
#define IR_LAST  G_GUINT64_CONSTANT (0xfeefffff)

typedef struct
{
  GtkWidget       *window;
  IovTimeline     *timeline;
  IovEventStore   *store;
  guint            ids[8];
  guint            n_ids;
  guint64          next_ts;
  guint64          n_appended;
} Bench;

static int
cmp_double (gconstpointer a,
            gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
append_events (Bench  *b,
               guint64 n)
{
  for (guint64 i = 0; i < n; i++)
    {
      /* mostly translations, as in a real trace; a few of everything else */
      guint r = (guint) (b->next_ts / PERIOD) % 100;
      guint id = b->ids[r < 60 ? 0 : 1 + r % (b->n_ids - 1)];

      iov_event_store_append_raw (b->store, b->next_ts, id, "", 0);
      b->next_ts += PERIOD;
    }
  b->n_appended += n;
}

/* What the frame clock's paint does for the window: its snapshot (children
 * whose drawing was not invalidated reuse their cached nodes), then the
 * renderer. */
static double
render_frame (Bench *b)
{
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (b->window));
  int w = gtk_widget_get_width (b->window);
  int h = gtk_widget_get_height (b->window);
  gint64 start = g_get_monotonic_time ();
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  GTK_WIDGET_GET_CLASS (b->window)->snapshot (b->window, snapshot);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert (node != NULL);
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  return (g_get_monotonic_time () - start) / 1000.0;
}

static void
run_phase (Bench      *b,
           const char *name,
           guint       n_frames,
           gboolean    live,
           gboolean    whole,
           double     *median,
           double     *p95)
{
  g_autofree double *times = g_new (double, n_frames);
  double last_ms = 1000.0 / 60;
  guint64 appended_before = b->n_appended;
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < n_frames; i++)
    {
      if (live)
        {
          append_events (b, MAX (1, (guint64) (RATE * last_ms / 1000.0)));
          iov_timeline_events_appended (b->timeline);
        }
      /* the whole trace in view, new events included: every bin recomputed */
      if (whole)
        iov_timeline_set_range (b->timeline, 0, b->next_ts);
      gtk_widget_queue_draw (GTK_WIDGET (b->timeline));
      times[i] = render_frame (b);
      /* the input keeps arriving while a frame is drawn */
      last_ms = MAX (times[i], 1000.0 / 60);
    }
  qsort (times, n_frames, sizeof (double), cmp_double);
  *median = times[n_frames / 2];
  *p95 = times[MIN (n_frames - 1, (guint) (n_frames * 0.95))];
  g_print ("{\"bench\": \"render\", \"phase\": \"%s\", \"frames\": %u, \"median_ms\": %.2f, "
           "\"p95_ms\": %.2f, \"events\": %" G_GUINT64_FORMAT ", \"appended\": %" G_GUINT64_FORMAT
           ", \"seconds\": %.1f}\n",
           name, n_frames, *median, *p95, iov_event_store_get_n_events (b->store),
           b->n_appended - appended_before, (g_get_monotonic_time () - start) / 1e6);
}

/* Lets the window map and lay out; the phases then leave the main loop
 * alone. */
static void
settle (GtkWidget *window)
{
  gtk_test_widget_wait_for_draw (window);
  for (guint i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
}

static GtkWidget *
build_window (Bench *b)
{
  static const IovMapRange ranges[] = {
    { 0, IR_FIRST - 1, IOV_RANGE_ROLE_IOMMU, "DMAR" },
    { IR_FIRST, IR_LAST, IOV_RANGE_ROLE_INTERRUPT, "IR" },
    { IR_LAST + 1, G_MAXUINT64, IOV_RANGE_ROLE_IOMMU, "DMAR" },
  };
  IovNotifier n1 = { (char *) "net0.vhost.1", (char *) "vhost", 0, IR_FIRST - 1, IOV_NOTIFIER_UNMAP, 0 };
  IovNotifier n2 = { (char *) "net0.vhost.2", (char *) "vhost", IR_LAST + 1, G_MAXUINT64,
                     IOV_NOTIFIER_DEVIOTLB_UNMAP, 0 };
  const IovNotifier *notifiers[] = { &n2, &n1 };
  IovTlbEvent event = { 0, G_MAXUINT64, 0, IOV_NOTIFIER_DEVIOTLB_UNMAP, IOV_PERM_NONE };
  IovOutcome outcomes[] = {
    { &n2, 0, IOV_RESULT_DELIVERED, IOV_NOTIFIER_DEVIOTLB_UNMAP, TRUE, IOV_ABORT_NONE,
      IR_LAST + 1, G_MAXUINT64 - IR_LAST - 1 },
    { &n1, 0, IOV_RESULT_DELIVERED, IOV_NOTIFIER_UNMAP, TRUE, IOV_ABORT_NONE, 0, IR_FIRST },
  };
  GtkWidget *window = gtk_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *map = iov_range_map_new ();
  GtkWidget *lanes = iov_notifier_lanes_new ();
  GtkWidget *timeline = iov_timeline_new ();
  g_autoptr(GArray) bounds = NULL;

  gtk_window_set_default_size (GTK_WINDOW (window), WIDTH, HEIGHT);
  gtk_window_set_decorated (GTK_WINDOW (window), FALSE);
  /* GTK clamps a default size to the monitor (xvfb-run's is 1280×1024):
   * a size request is not clamped */
  gtk_widget_set_size_request (box, WIDTH, HEIGHT);
  gtk_widget_set_vexpand (lanes, TRUE);
  gtk_box_append (GTK_BOX (box), map);
  gtk_box_append (GTK_BOX (box), lanes);
  gtk_box_append (GTK_BOX (box), timeline);
  gtk_window_set_child (GTK_WINDOW (window), box);

  iov_range_map_set_ranges (IOV_RANGE_MAP (map), ranges, G_N_ELEMENTS (ranges));
  iov_range_map_set_aw_bits (IOV_RANGE_MAP (map), 39);
  iov_range_map_set_notifiers (IOV_RANGE_MAP (map), notifiers, G_N_ELEMENTS (notifiers));
  iov_notifier_lanes_set_step (IOV_NOTIFIER_LANES (lanes), notifiers, 2, &event, 1,
                               outcomes, G_N_ELEMENTS (outcomes), NULL);
  iov_notifier_lanes_finish_animation (IOV_NOTIFIER_LANES (lanes));

  b->timeline = IOV_TIMELINE (timeline);
  gtk_window_present (GTK_WINDOW (window));
  /* let the window map and lay out, then stop running the main loop */
  settle (window);
  bounds = iov_range_map_get_bounds (IOV_RANGE_MAP (map));
  if (bounds != NULL)
    iov_notifier_lanes_set_bounds (IOV_NOTIFIER_LANES (lanes), bounds);
  settle (window);
  if (!gtk_widget_get_mapped (box))
    g_error ("the window is not mapped");
  if (gtk_widget_get_width (box) != WIDTH || gtk_widget_get_height (box) != HEIGHT)
    g_printerr ("bench-render: the window is %d×%d, not %d×%d\n",
                gtk_widget_get_width (box), gtk_widget_get_height (box), WIDTH, HEIGHT);
  g_print ("{\"bench\": \"render\", \"content_width\": %d, \"content_height\": %d}\n",
           gtk_widget_get_width (box), gtk_widget_get_height (box));
  return window;
}

static void
pick_ids (Bench           *b,
          IovTraceCatalog *catalog)
{
  static const char * const patterns[] = { "*translat*", "*inv*", "*map*", "*fault*", "*mmio*" };

  for (guint p = 0; p < G_N_ELEMENTS (patterns); p++)
    for (guint id = 0; id < iov_trace_catalog_get_n_events (catalog); id++)
      if (g_pattern_match_simple (patterns[p], iov_trace_catalog_get_name (catalog, id)))
        {
          b->ids[b->n_ids++] = id;
          break;
        }
  g_assert (b->n_ids >= 2);
}

/* ---- mappings (issue L) -------------------------------------------------- */

typedef struct
{
  guint64  rel_ns;     /* since the capture's first line */
  char    *name;       /* "virtio_iommu_map" … */
  char    *args;       /* what follows the name, for the kinds kept as is */
  guint64  start;      /* map, unmap, unmap_done: the range, moved when growing */
  guint64  end;
  gboolean has_range;
  gboolean resets;     /* reset, put_domain, detach: left out when growing */
} CaptureLine;

static void
capture_line_clear (CaptureLine *l)
{
  g_free (l->name);
  g_free (l->args);
}

/* The capture's lines the mappings index takes. */
static GArray *
read_capture (const char *path)
{
  const char *argv[] = { "xz", "-dc", path, NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GArray *out = g_array_new (FALSE, TRUE, sizeof (CaptureLine));
  guint64 first = 0;
  int status;

  g_array_set_clear_func (out, (GDestroyNotify) capture_line_clear);
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &text, NULL, &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    g_error ("bench-render: %s: %s", path, error->message);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      static const char * const kept[] = {
        "virtio_iommu_map", "virtio_iommu_unmap", "virtio_iommu_unmap_done", "virtio_iommu_attach",
        "virtio_iommu_detach", "virtio_iommu_get_domain", "virtio_iommu_put_domain", "virtio_iommu_device_reset",
      };
      unsigned tid, usec;
      unsigned long long sec, a, b;
      int n = 0;
      const char *body, *space;
      CaptureLine l = { 0 };
      guint64 ts;

      if (sscanf (lines[i], "%u@%llu.%u:%n", &tid, &sec, &usec, &n) != 3 || n == 0)
        continue;
      ts = sec * G_GUINT64_CONSTANT (1000000000) + usec * G_GUINT64_CONSTANT (1000);
      if (first == 0)
        first = ts;
      body = lines[i] + n;
      space = strchr (body, ' ');
      if (space == NULL)
        continue;
      l.name = g_strndup (body, space - body);
      for (guint k = 0; k < G_N_ELEMENTS (kept); k++)
        if (g_str_equal (l.name, kept[k]))
          {
            l.rel_ns = ts - first;
            l.args = g_strdup (space + 1);
            l.resets = k == 4 || k >= 6;
            if (k <= 2)
              {
                const char *v = strstr (space, "virt_start=0x");

                if (v == NULL || sscanf (v, "virt_start=0x%llx virt_end=0x%llx", &a, &b) != 2)
                  g_error ("bench-render: %s: no range in “%s”", path, lines[i]);
                l.start = a;
                l.end = b;
                l.has_range = TRUE;
              }
            g_array_append_val (out, l);
            l.name = NULL;
            break;
          }
      g_free (l.name);
    }
  if (out->len == 0)
    g_error ("bench-render: %s has no virtio-iommu map lines", path);
  return out;
}

/* Feeds @n_events lines made of copies of @capture to a new index, as the
 * trace reader does (parsed, then fed); the most mappings live at once. */
static IovMappings *
build_mappings (IovTraceCatalog *catalog,
                GArray          *capture,
                guint64          n_events,
                gboolean         growing,
                double          *seconds,
                guint64         *span_ns)
{
  IovMappings *mappings = iov_mappings_new ();
  GString *line = g_string_new (NULL);
  guint64 fed = 0, copy = 0, period;
  gint64 start = g_get_monotonic_time ();

  period = g_array_index (capture, CaptureLine, capture->len - 1).rel_ns + G_GUINT64_CONSTANT (1000000000);
  while (fed < n_events)
    {
      for (guint i = 0; i < capture->len && fed < n_events; i++)
        {
          const CaptureLine *l = &g_array_index (capture, CaptureLine, i);
          guint64 ts = copy * period + l->rel_ns;
          IovTraceLine parsed;

          if (growing && l->resets)
            continue;
          g_string_printf (line, "1@%" G_GUINT64_FORMAT ".%06u:%s ", ts / 1000000000,
                           (guint) (ts % 1000000000 / 1000), l->name);
          if (l->has_range)
            {
              guint64 shift = growing ? copy << 32 : 0;
              const char *rest = strstr (l->args, " virt_end=0x");

              /* "domain=D virt_start=0x… virt_end=0x…[ phys_start=…]" */
              g_string_append_len (line, l->args, strstr (l->args, "virt_start=") - l->args);
              g_string_append_printf (line, "virt_start=0x%" G_GINT64_MODIFIER "x virt_end=0x%" G_GINT64_MODIFIER "x",
                                      l->start + shift, l->end + shift);
              rest = strchr (rest + 1, ' ');
              if (rest != NULL)
                g_string_append (line, rest);
            }
          else
            g_string_append (line, l->args);
          if (iov_trace_parse_line (catalog, line->str, line->len, &parsed) != IOV_TRACE_LINE_EVENT)
            g_error ("bench-render: not an event: %s", line->str);
          iov_mappings_feed (mappings, &parsed);
          fed++;
        }
      copy++;
    }
  *seconds = (g_get_monotonic_time () - start) / 1e6;
  *span_ns = copy * period;
  g_string_free (line, TRUE);
  return mappings;
}

typedef struct
{
  double at_median, at_p95, at_max;
  double diff_median, diff_p95, diff_max;
  guint  most_mapped;
} Queries;

static void
run_queries (IovMappings *mappings,
             guint64      span_ns,
             Queries     *q)
{
  double at[200], diff[100];

  q->most_mapped = 0;
  for (guint i = 0; i < G_N_ELEMENTS (at); i++)
    {
      guint64 t = (guint64) ((double) i / G_N_ELEMENTS (at) * span_ns) + 1;
      gint64 start = g_get_monotonic_time ();
      g_autoptr(GArray) m = iov_mappings_at (mappings, t);

      at[i] = (g_get_monotonic_time () - start) / 1000.0;
      q->most_mapped = MAX (q->most_mapped, m->len);
    }
  for (guint i = 0; i < G_N_ELEMENTS (diff); i++)
    {
      guint64 a = (guint64) ((double) i / G_N_ELEMENTS (diff) * span_ns);
      gint64 start = g_get_monotonic_time ();
      g_autoptr(GArray) added = NULL;
      g_autoptr(GArray) removed = NULL;

      iov_mappings_diff (mappings, a, a + 7 * G_GUINT64_CONSTANT (1000000000), &added, &removed);
      diff[i] = (g_get_monotonic_time () - start) / 1000.0;
    }
  qsort (at, G_N_ELEMENTS (at), sizeof (double), cmp_double);
  qsort (diff, G_N_ELEMENTS (diff), sizeof (double), cmp_double);
  q->at_median = at[G_N_ELEMENTS (at) / 2];
  q->at_p95 = at[G_N_ELEMENTS (at) * 95 / 100];
  q->at_max = at[G_N_ELEMENTS (at) - 1];
  q->diff_median = diff[G_N_ELEMENTS (diff) / 2];
  q->diff_p95 = diff[G_N_ELEMENTS (diff) * 95 / 100];
  q->diff_max = diff[G_N_ELEMENTS (diff) - 1];
}

static void
mappings_phase (IovTraceCatalog *catalog,
                const char      *capture_path,
                guint64          n_events,
                double           frame_ms)
{
  g_autoptr(GArray) capture = read_capture (capture_path);

  for (guint growing = 0; growing < 2; growing++)
    {
      guint64 span_ns = 0;
      double build_s = 0;
      g_autoptr(IovMappings) mappings = build_mappings (catalog, capture, n_events, growing, &build_s, &span_ns);
      Queries q;

      run_queries (mappings, span_ns, &q);
      g_print ("{\"bench\": \"render\", \"phase\": \"mappings\", \"trace\": \"%s\", \"events\": %" G_GUINT64_FORMAT
               ", \"map_unmap_events\": %" G_GUINT64_FORMAT ", \"build_s\": %.2f, \"most_mapped\": %u, "
               "\"mappings_at_ms\": {\"median\": %.3f, \"p95\": %.3f, \"max\": %.3f}, "
               "\"mappings_diff_ms\": {\"median\": %.3f, \"p95\": %.3f, \"max\": %.3f}, "
               "\"zoomed_out_frame_median_ms\": %.2f, \"at_p95_per_frame\": %.4f, \"diff_p95_per_frame\": %.4f, "
               "\"query_cheaper_than_a_frame\": %s}\n",
               growing ? "growing" : "as-captured", n_events, iov_mappings_get_n_events (mappings), build_s,
               q.most_mapped, q.at_median, q.at_p95, q.at_max, q.diff_median, q.diff_p95, q.diff_max, frame_ms,
               q.at_p95 / frame_ms, q.diff_p95 / frame_ms,
               q.at_p95 < frame_ms && q.diff_p95 < frame_ms ? "true" : "false");
    }
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(IovTraceCatalog) catalog = NULL;
  g_autoptr(IovEventStore) empty = NULL;
  g_autoptr(GError) error = NULL;
  Bench b = { 0 };
  guint frames = 120;
  guint64 n_events = 10000000;
  double base_med, base_p95, live_med, live_p95, zoom_med, zoom_p95;
  gint64 start;

  if (argc > 1)
    n_events = g_ascii_strtoull (argv[1], NULL, 10);
  if (argc > 2)
    frames = MAX (2, atoi (argv[2]));
  /* argv[3]: the virtio-iommu capture for the mappings phase */

  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  g_setenv ("GTK_A11Y", "none", FALSE);
  if (!gtk_init_check ())
    {
      g_printerr ("bench-render needs a display: run it under xvfb-run\n");
      return 77;
    }
  adw_init ();

  catalog = iov_trace_catalog_new_default (NULL, &error);
  g_assert_no_error (error);
  pick_ids (&b, catalog);
  empty = iov_event_store_new (catalog);
  b.store = empty;
  b.window = build_window (&b);
  iov_timeline_set_store (b.timeline, empty, catalog);
  settle (b.window);

  run_phase (&b, "baseline", frames, FALSE, FALSE, &base_med, &base_p95);

  b.store = iov_event_store_new (catalog);
  start = g_get_monotonic_time ();
  append_events (&b, n_events);
  g_print ("{\"bench\": \"render\", \"fill_events\": %" G_GUINT64_FORMAT ", \"fill_s\": %.2f, "
           "\"store_mib\": %.1f}\n", n_events, (g_get_monotonic_time () - start) / 1e6,
           iov_event_store_get_memory (b.store) / 1048576.0);
  iov_timeline_set_store (b.timeline, b.store, catalog);
  settle (b.window);

  run_phase (&b, "live", frames, TRUE, FALSE, &live_med, &live_p95);

  iov_timeline_set_range (b.timeline, 0, b.next_ts);
  settle (b.window);
  run_phase (&b, "zoomed-out", MAX (2, frames / 4), TRUE, TRUE, &zoom_med, &zoom_p95);

  g_print ("{\"bench\": \"render\", \"summary\": true, \"baseline_median_ms\": %.2f, \"baseline_p95_ms\": %.2f, "
           "\"live_median_ms\": %.2f, \"live_p95_ms\": %.2f, \"live_vs_baseline\": %.2f, "
           "\"zoomed_out_median_ms\": %.2f, \"zoomed_out_p95_ms\": %.2f}\n",
           base_med, base_p95, live_med, live_p95, live_med / MAX (base_med, 0.001), zoom_med, zoom_p95);

  iov_timeline_set_store (b.timeline, NULL, NULL);
  gtk_window_destroy (GTK_WINDOW (b.window));
  iov_event_store_free (b.store);

  /* the same number of events as the store held, against its zoomed-out frame */
  if (argc > 3)
    mappings_phase (catalog, argv[3], n_events, zoom_med);
  return 0;
}
