/* iov-rate-tracks.c
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

#define G_LOG_DOMAIN "iov-rate-tracks"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "iov-drawing-private.h"
#include "iov-event-store.h"
#include "iov-rate-tracks.h"

/* Three rows under the timeline, on its time axis: vhost IOTLB misses,
 * the invalidations that reach the device, and the IOTLB messages QEMU
 * sends its vhost backend, per second. The counts come binned from the
 * core (iov_traffic_bin(), a binary search per bin edge), one colour node
 * per bin: the cost follows the width, never the number of lines.
 *
 * A rate needs a span to be one: a single miss in a 0.6 ms pixel is not
 * "1,600 misses/s". Each bar gives the lines of the second around it (as
 * the Traffic panel's "up to N in one second"), summed from bins of 0.1 s
 * or more that divide a second; zoomed out beyond a second a pixel, a bar
 * is one pixel and its rate the average over it.
 * They sit on multiples of their width, so that a range that moves (live,
 * panning) does not make the bars flicker. The timeline has no signal for
 * its range: before each frame is painted (the frame clock emits
 * ::before-paint on every frame, ::layout only when a size changed), the
 * tracks compare the range they drew with the timeline's and redraw in
 * that same frame if it moved. */

#define ROW_HEIGHT  18.0
#define ROW_GAP     4.0
#define TOP_MARGIN  4.0
#define NS_PER_S    G_GUINT64_CONSTANT (1000000000)

struct _IovRateTracks
{
  GtkWidget     parent_instance;

  IovTimeline  *timeline;   /* borrowed */
  IovTraffic   *traffic;    /* borrowed */
  char         *device;     /* NULL: every device */

  /* the last frame's grid and bins: n_bins counts from the core, and the
   * rates of the n_bins − window + 1 bars, each the sum of @window bins */
  guint64      *bins[IOV_N_RATE_TRACKS];
  double       *rates[IOV_N_RATE_TRACKS];
  guint         n_bins;
  guint         window;
  guint         lead;     /* bins before the first bar's */
  guint64       grid_t0;
  guint64       bin_ns;
  gboolean      drawn;

  /* what the last frame followed of the timeline */
  guint64       view_t0;
  guint64       view_t1;
  guint64       sel0;
  guint64       sel1;
  gboolean      has_sel;
  guint64       cursor;
  gboolean      has_cursor;
  double        plot_width;

  GdkFrameClock *clock;
  gulong        before_paint_id;

  IovPalette    palette;
};

G_DEFINE_FINAL_TYPE (IovRateTracks, iov_rate_tracks, GTK_TYPE_WIDGET)

static const guint track_masks[IOV_N_RATE_TRACKS] = {
  [IOV_RATE_TRACK_MISSES] = IOV_TRAFFIC_MASK (IOV_TRAFFIC_IOTLB_MISSES),
  [IOV_RATE_TRACK_INVALIDATIONS] = IOV_TRAFFIC_INVALIDATIONS_MASK,
  [IOV_RATE_TRACK_MESSAGES] = IOV_TRAFFIC_MASK (IOV_TRAFFIC_IOTLB_MESSAGES),
};

/* The row's name, with the highest rate in view (@rate), or alone when
 * the row is empty. */
static char *
track_label (IovRateTrack  track,
             const char   *rate)
{
  switch (track)
    {
    case IOV_RATE_TRACK_MISSES:
      /* Translators: a rate track under the timeline; %s is the highest
       * rate in view, e.g. "292" */
      return rate ? g_strdup_printf (_("IOTLB misses/s, up to %s"), rate) : g_strdup (_("IOTLB misses/s"));
    case IOV_RATE_TRACK_INVALIDATIONS:
      /* Translators: a rate track under the timeline; %s is a rate */
      return rate ? g_strdup_printf (_("Invalidations/s, up to %s"), rate) : g_strdup (_("Invalidations/s"));
    case IOV_RATE_TRACK_MESSAGES:
    case IOV_N_RATE_TRACKS:
    default:
      /* Translators: a rate track under the timeline; IOTLB messages are
       * what QEMU sends the vhost backend; %s is a rate */
      return rate ? g_strdup_printf (_("IOTLB messages/s, up to %s"), rate) : g_strdup (_("IOTLB messages/s"));
    }
}

static const GdkRGBA *
track_color (IovRateTracks *self,
             IovRateTrack   track)
{
  /* as the timeline's rows: a miss asks for a translation, a message is
   * what vhost shows of its notifiers */
  switch (track)
    {
    case IOV_RATE_TRACK_MISSES:
      return &self->palette.accent_bg;
    case IOV_RATE_TRACK_INVALIDATIONS:
      return &self->palette.deviotlb;
    case IOV_RATE_TRACK_MESSAGES:
    case IOV_N_RATE_TRACKS:
    default:
      return &self->palette.warning_bg;
    }
}

/* The timeline's plot area in our coordinates. */
static gboolean
plot_area (IovRateTracks *self,
           double        *x,
           double        *width)
{
  double tx, tw, ox = 0, oy = 0;

  if (self->timeline == NULL)
    return FALSE;
  iov_timeline_get_plot_area (self->timeline, &tx, &tw);
  if (!gtk_widget_translate_coordinates (GTK_WIDGET (self->timeline), GTK_WIDGET (self), tx, 0, &ox, &oy))
    ox = tx;
  *x = ox;
  *width = tw;
  return TRUE;
}

static double
x_at_time (IovRateTracks *self,
           double         px,
           double         pw,
           guint64        t)
{
  return px + pw * ((double) t - (double) self->view_t0) / (double) (self->view_t1 - self->view_t0);
}

/* ---- following the timeline --------------------------------------------- */

static gboolean
view_moved (IovRateTracks *self)
{
  guint64 t0 = 0, t1 = 0, s0 = 0, s1 = 0, c = 0;
  gboolean sel, cur;
  double pw;

  if (self->timeline == NULL)
    return FALSE;
  iov_timeline_get_range (self->timeline, &t0, &t1);
  sel = iov_timeline_get_selection (self->timeline, &s0, &s1);
  cur = iov_timeline_get_cursor (self->timeline, &c);
  iov_timeline_get_plot_area (self->timeline, NULL, &pw);
  return t0 != self->view_t0 || t1 != self->view_t1 || pw != self->plot_width || sel != self->has_sel ||
         (sel && (s0 != self->sel0 || s1 != self->sel1)) || cur != self->has_cursor || (cur && c != self->cursor);
}

static void
before_paint_cb (GdkFrameClock *clock,
                 IovRateTracks *self)
{
  if (gtk_widget_get_mapped (GTK_WIDGET (self)) && view_moved (self))
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
iov_rate_tracks_realize (GtkWidget *widget)
{
  IovRateTracks *self = IOV_RATE_TRACKS (widget);

  GTK_WIDGET_CLASS (iov_rate_tracks_parent_class)->realize (widget);
  self->clock = gtk_widget_get_frame_clock (widget);
  if (self->clock != NULL)
    self->before_paint_id = g_signal_connect (self->clock, "before-paint", G_CALLBACK (before_paint_cb), self);
}

static void
iov_rate_tracks_unrealize (GtkWidget *widget)
{
  IovRateTracks *self = IOV_RATE_TRACKS (widget);

  if (self->clock != NULL)
    g_clear_signal_handler (&self->before_paint_id, self->clock);
  self->clock = NULL;
  GTK_WIDGET_CLASS (iov_rate_tracks_parent_class)->unrealize (widget);
}

/* ---- bins and drawing ---------------------------------------------------- */

/* The bins' width for @px_ns nanoseconds a pixel: a divisor of a second
 * from 0.1 s, else a pixel. */
static guint64
bin_width (double px_ns)
{
  static const guint64 divisors[] = { 100000000, 200000000, 250000000, 500000000, 1000000000 };

  for (guint i = 0; i < G_N_ELEMENTS (divisors); i++)
    if (px_ns <= (double) divisors[i])
      return divisors[i];
  return (guint64) ceil (px_ns);
}

static void
update_bins (IovRateTracks *self,
             double         pw)
{
  guint64 span = self->view_t1 - self->view_t0;
  guint64 bin_ns = bin_width ((double) span / MAX (pw, 1.0));
  guint window = bin_ns < NS_PER_S ? (guint) (NS_PER_S / bin_ns) : 1;
  guint64 lead = MIN ((guint64) window / 2, self->view_t0 / bin_ns);   /* bins before the first bar */
  guint64 g0 = (self->view_t0 / bin_ns - lead) * bin_ns;
  guint n_bars = (guint) MIN ((self->view_t1 - (g0 + lead * bin_ns) + bin_ns - 1) / bin_ns, (guint64) G_MAXINT / 8);
  guint n_bins = n_bars + window - 1;
  double per_s = (double) NS_PER_S / ((double) window * (double) bin_ns);

  if (n_bins != self->n_bins)
    for (guint k = 0; k < IOV_N_RATE_TRACKS; k++)
      {
        g_free (self->bins[k]);
        g_free (self->rates[k]);
        self->bins[k] = g_new0 (guint64, n_bins);
        self->rates[k] = g_new0 (double, n_bins);
      }
  self->n_bins = n_bins;
  self->window = window;
  self->lead = (guint) lead;
  self->grid_t0 = g0;
  self->bin_ns = bin_ns;
  for (guint k = 0; k < IOV_N_RATE_TRACKS; k++)
    {
      guint64 sum = 0;

      iov_traffic_bin (self->traffic, self->device ? self->device : IOV_TRAFFIC_EVERY_DEVICE, track_masks[k], g0,
                       g0 + (guint64) n_bins * bin_ns, n_bins, self->bins[k]);
      /* bar i: the bins [i, i + window), a second around its own */
      for (guint i = 0; i < n_bins; i++)
        {
          sum += self->bins[k][i];
          if (i >= window)
            sum -= self->bins[k][i - window];
          if (i + 1 >= window)
            self->rates[k][i + 1 - window] = (double) sum * per_s;
        }
    }
  self->drawn = TRUE;
}

static char *
format_rate (double per_s)
{
  /* whole numbers from 10/s on; below, one decimal (0.5/s is not 0) */
  if (per_s >= 9.95)
    return g_strdup_printf ("%'.0f", per_s);
  return g_strdup_printf ("%'.1f", per_s);
}

static void
iov_rate_tracks_snapshot (GtkWidget   *widget,
                          GtkSnapshot *snapshot)
{
  IovRateTracks *self = IOV_RATE_TRACKS (widget);
  GdkRGBA line = _iov_rgba_alpha (&self->palette.fg, 0.12);
  GdkRGBA dim = _iov_rgba_alpha (&self->palette.fg, 0.5);
  double px, pw;

  if (!plot_area (self, &px, &pw))
    return;
  iov_timeline_get_range (self->timeline, &self->view_t0, &self->view_t1);
  self->has_sel = iov_timeline_get_selection (self->timeline, &self->sel0, &self->sel1);
  self->has_cursor = iov_timeline_get_cursor (self->timeline, &self->cursor);
  self->plot_width = pw;

  if (self->traffic != NULL && self->view_t1 > self->view_t0)
    update_bins (self, pw);

  for (guint k = 0; k < IOV_N_RATE_TRACKS; k++)
    {
      const GdkRGBA *color = track_color (self, k);
      double y = TOP_MARGIN + k * (ROW_HEIGHT + ROW_GAP);
      double max = 0;
      guint n_bars = self->drawn ? self->n_bins + 1 - self->window : 0;
      guint64 bar0 = self->grid_t0 + (guint64) self->lead * self->bin_ns;
      g_autofree char *rate = NULL;
      g_autofree char *text = NULL;
      g_autoptr(PangoLayout) layout = NULL;
      int lw, lh;

      if (self->traffic == NULL)
        n_bars = 0;
      for (guint i = 0; i < n_bars; i++)
        max = MAX (max, self->rates[k][i]);
      rate = max > 0 ? format_rate (max) : NULL;
      text = track_label (k, rate);
      layout = _iov_layout_new (widget, text, 0.8, FALSE);
      pango_layout_get_pixel_size (layout, &lw, &lh);
      _iov_draw_layout (snapshot, layout, MAX (4, px - 12 - lw), y + (ROW_HEIGHT - lh) / 2,
                        max > 0 ? &self->palette.fg : &dim);
      _iov_draw_rect (snapshot, px, y + ROW_HEIGHT, pw, 1, &line);
      if (max <= 0)
        continue;

      /* one node per bar with lines: height in proportion to the row's
       * highest rate, which the label gives */
      for (guint i = 0; i < n_bars; i++)
        {
          guint64 b0 = bar0 + i * self->bin_ns;
          double x0, x1, h;

          if (self->rates[k][i] <= 0)
            continue;
          x0 = MAX (px, x_at_time (self, px, pw, b0));
          x1 = MIN (px + pw, x_at_time (self, px, pw, b0 + self->bin_ns));
          if (x1 <= x0)
            continue;
          h = MAX (1.0, round (ROW_HEIGHT * self->rates[k][i] / max));
          gtk_snapshot_append_color (snapshot, color,
                                     &GRAPHENE_RECT_INIT (floor (x0), y + ROW_HEIGHT - h,
                                                          MAX (1.0, round (x1) - floor (x0)), h));
        }
    }

  /* the timeline's selection goes on through the tracks */
  if (self->has_sel && self->sel1 > self->view_t0 && self->sel0 < self->view_t1)
    {
      double x0 = MAX (px, x_at_time (self, px, pw, self->sel0));
      double x1 = MIN (px + pw, x_at_time (self, px, pw, self->sel1));
      GdkRGBA tint = _iov_rgba_alpha (&self->palette.accent_bg, 0.18);
      double h = TOP_MARGIN + IOV_N_RATE_TRACKS * (ROW_HEIGHT + ROW_GAP);

      _iov_draw_rect (snapshot, x0, 0, MAX (1, x1 - x0), h, &tint);
    }
  /* and so does its cursor */
  if (self->has_cursor && self->cursor >= self->view_t0 && self->cursor < self->view_t1)
    _iov_draw_rect (snapshot, round (x_at_time (self, px, pw, self->cursor)) - 1, 0, 2,
                    TOP_MARGIN + IOV_N_RATE_TRACKS * (ROW_HEIGHT + ROW_GAP), &self->palette.accent_bg);
}

/* Over a bar: its time (as the timeline counts it, from the first event)
 * and the three rates there; elsewhere, what the rows are. */
static gboolean
iov_rate_tracks_query_tooltip (GtkWidget  *widget,
                               int         x,
                               int         y,
                               gboolean    keyboard,
                               GtkTooltip *tooltip)
{
  IovRateTracks *self = IOV_RATE_TRACKS (widget);
  IovEventStore *store = self->timeline ? iov_timeline_get_store (self->timeline) : NULL;
  IovEventRecord first = { 0, };
  guint n_bars = self->drawn && self->traffic ? self->n_bins + 1 - self->window : 0;
  guint64 bar0 = self->grid_t0 + (guint64) self->lead * self->bin_ns, t;
  double px, pw;
  guint i;

  if (keyboard || n_bars == 0 || !plot_area (self, &px, &pw) || x < px || x >= px + pw ||
      self->view_t1 <= self->view_t0 || store == NULL || !iov_event_store_get (store, 0, &first))
    {
      gtk_tooltip_set_text (tooltip, _("IOTLB traffic per second on the timeline's time axis: vhost's IOTLB misses, "
                                       "the invalidations that reach the device, and the IOTLB messages QEMU sends "
                                       "its vhost backend. Each bar counts the second around it."));
      return TRUE;
    }
  t = self->view_t0 + (guint64) ((x - px) / pw * (double) (self->view_t1 - self->view_t0));
  if (t < bar0)
    return FALSE;
  i = (guint) MIN ((t - bar0) / self->bin_ns, (guint64) n_bars - 1);
  {
    g_autofree char *when = g_strdup_printf ("%.1f", ((double) t - (double) first.ts_ns) / 1e9);
    g_autofree char *misses = format_rate (self->rates[IOV_RATE_TRACK_MISSES][i]);
    g_autofree char *inv = format_rate (self->rates[IOV_RATE_TRACK_INVALIDATIONS][i]);
    g_autofree char *msgs = format_rate (self->rates[IOV_RATE_TRACK_MESSAGES][i]);
    /* Translators: the rate tracks' tooltip; a time in seconds, then
     * three rates per second */
    g_autofree char *text = g_strdup_printf (_("At %s s, in the second around it: %s IOTLB misses, %s invalidations, "
                                               "%s IOTLB messages"), when, misses, inv, msgs);

    gtk_tooltip_set_text (tooltip, text);
  }
  return TRUE;
}

static void
iov_rate_tracks_measure (GtkWidget      *widget,
                         GtkOrientation  orientation,
                         int             for_size,
                         int            *minimum,
                         int            *natural,
                         int            *minimum_baseline,
                         int            *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = *natural = IOV_GUTTER_WIDTH + IOV_AXIS_END_MARGIN + 100;
  else
    *minimum = *natural = TOP_MARGIN + IOV_N_RATE_TRACKS * (ROW_HEIGHT + ROW_GAP);
}

static void
iov_rate_tracks_css_changed (GtkWidget         *widget,
                             GtkCssStyleChange *change)
{
  IovRateTracks *self = IOV_RATE_TRACKS (widget);

  GTK_WIDGET_CLASS (iov_rate_tracks_parent_class)->css_changed (widget, change);
  _iov_palette_load (&self->palette, widget);
  gtk_widget_queue_draw (widget);
}

static void
iov_rate_tracks_finalize (GObject *object)
{
  IovRateTracks *self = IOV_RATE_TRACKS (object);

  for (guint k = 0; k < IOV_N_RATE_TRACKS; k++)
    {
      g_free (self->bins[k]);
      g_free (self->rates[k]);
    }
  g_free (self->device);
  G_OBJECT_CLASS (iov_rate_tracks_parent_class)->finalize (object);
}

static void
iov_rate_tracks_class_init (IovRateTracksClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = iov_rate_tracks_finalize;
  widget_class->snapshot = iov_rate_tracks_snapshot;
  widget_class->measure = iov_rate_tracks_measure;
  widget_class->css_changed = iov_rate_tracks_css_changed;
  widget_class->query_tooltip = iov_rate_tracks_query_tooltip;
  widget_class->realize = iov_rate_tracks_realize;
  widget_class->unrealize = iov_rate_tracks_unrealize;

  gtk_widget_class_set_css_name (widget_class, "iovratetracks");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
iov_rate_tracks_init (IovRateTracks *self)
{
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("IOTLB traffic rates over time"), -1);
  _iov_palette_load (&self->palette, GTK_WIDGET (self));
}

/* ---- API ----------------------------------------------------------------- */

GtkWidget *
iov_rate_tracks_new (void)
{
  return g_object_new (IOV_TYPE_RATE_TRACKS, NULL);
}

void
iov_rate_tracks_set_timeline (IovRateTracks *self,
                              IovTimeline   *timeline)
{
  g_return_if_fail (IOV_IS_RATE_TRACKS (self));
  g_return_if_fail (timeline == NULL || IOV_IS_TIMELINE (timeline));

  self->timeline = timeline;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
iov_rate_tracks_set_traffic (IovRateTracks *self,
                             IovTraffic    *traffic)
{
  g_return_if_fail (IOV_IS_RATE_TRACKS (self));

  self->traffic = traffic;
  self->drawn = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
iov_rate_tracks_set_device (IovRateTracks *self,
                            const char    *bdf)
{
  g_return_if_fail (IOV_IS_RATE_TRACKS (self));

  if (g_strcmp0 (bdf, self->device) == 0)
    return;
  g_free (self->device);
  self->device = g_strdup (bdf);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
iov_rate_tracks_changed (IovRateTracks *self)
{
  g_return_if_fail (IOV_IS_RATE_TRACKS (self));

  gtk_widget_queue_draw (GTK_WIDGET (self));
}

const guint64 *
iov_rate_tracks_get_bins (IovRateTracks *self,
                          IovRateTrack   track,
                          guint         *n_bins,
                          guint64       *t0_ns,
                          guint64       *bin_ns,
                          guint         *window)
{
  g_return_val_if_fail (IOV_IS_RATE_TRACKS (self), NULL);
  g_return_val_if_fail (track < IOV_N_RATE_TRACKS, NULL);

  if (!self->drawn || self->traffic == NULL)
    return NULL;
  if (n_bins != NULL)
    *n_bins = self->n_bins;
  if (t0_ns != NULL)
    *t0_ns = self->grid_t0;
  if (bin_ns != NULL)
    *bin_ns = self->bin_ns;
  if (window != NULL)
    *window = self->window;
  return self->bins[track];
}

const double *
iov_rate_tracks_get_rates (IovRateTracks *self,
                           IovRateTrack   track,
                           guint         *n_bars)
{
  g_return_val_if_fail (IOV_IS_RATE_TRACKS (self), NULL);
  g_return_val_if_fail (track < IOV_N_RATE_TRACKS, NULL);

  if (!self->drawn || self->traffic == NULL)
    return NULL;
  if (n_bars != NULL)
    *n_bars = self->n_bins + 1 - self->window;
  return self->rates[track];
}
