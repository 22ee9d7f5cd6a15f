/* iov-timeline.c
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

#define G_LOG_DOMAIN "iov-timeline"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "iov-drawing-private.h"
#include "iov-timeline-private.h"

/* A time axis over the trace with one density row per event kind.  The
 * bins come from the event store (iov_event_store_bin_multi(), every row
 * in one pass), one per pixel column and row, and are drawn as at most one colour node per column and
 * row: the cost follows the width, never the number of events.  Bins are
 * recomputed in snapshot, so at most once per frame however often events
 * arrive. */


/* Checked before kind_patterns: what consumers show of the deliveries they
 * got (issue H) has its own row, and interrupt remapping, which matches
 * "*map*" but never reaches a notifier, goes with the others. */
static const char * const evidence_patterns[] = {
  "vhost_user_write", "vhost_user_read", "vhost_iotlb_miss", "vfio_iommu_map_notify",
  "vhost_dev_start*", "vhost_dev_stop*", NULL
};
static const char * const interrupt_patterns[] = {
  "vtd_ir_*", "vtd_warn_ir_*", "*_irte_*", "x86_iommu_iec_*", "amdvi_ir_*", "*_interrupt_*", NULL
};

/* Event names are matched in this order; the first match wins. */
static const char * const kind_patterns[N_KINDS][6] = {
  [KIND_TRANSLATION]  = { "*translat*", "*iotlb_hit*", "*iotlb_miss*", "*page_walk*", "*cache_hit*", NULL },
  [KIND_INVALIDATION] = { "*inv*", "*flush*", "*sync*", NULL },
  [KIND_MAP]          = { "*map*", "*notif*", "*replay*", NULL },
  [KIND_EVIDENCE]     = { NULL },   /* evidence_patterns */
  [KIND_FAULT]        = { "*fault*", "*err*", "*fail*", "*abort*", NULL },
  [KIND_OTHER]        = { NULL },
};


G_DEFINE_FINAL_TYPE (IovTimeline, iov_timeline, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_FOLLOW_LIVE,
  PROP_HAS_SELECTION,
  PROP_SELECTION_START,
  PROP_SELECTION_END,
  N_PROPS
};

enum {
  SELECTION_CHANGED,
  CURSOR_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

const char *
_iov_timeline_kind_label (Kind kind)
{
  switch (kind)
    {
    case KIND_TRANSLATION:
      return _("Translations");
    case KIND_INVALIDATION:
      return _("Invalidations");
    case KIND_MAP:
      return _("Map notifiers");
    case KIND_EVIDENCE:
      return _("Notifier evidence");
    case KIND_FAULT:
      return _("Faults and errors");
    case KIND_OTHER:
    case N_KINDS:
    default:
      return _("Other events");
    }
}

const GdkRGBA *
_iov_timeline_kind_color (IovTimeline *self,
                          Kind         kind)
{
  switch (kind)
    {
    case KIND_TRANSLATION:
      return &self->palette.accent_bg;
    case KIND_INVALIDATION:
      return &self->palette.deviotlb;
    case KIND_MAP:
      return &self->palette.map;
    case KIND_EVIDENCE:
      return &self->palette.warning_bg;
    case KIND_FAULT:
      return &self->palette.error_bg;
    case KIND_OTHER:
    case N_KINDS:
    default:
      return &self->palette.fg;
    }
}

/* ---- geometry and time --------------------------------------------------- */

void
iov_timeline_get_plot_area (IovTimeline *self,
                            double      *x,
                            double      *width)
{
  double w;

  g_return_if_fail (IOV_IS_TIMELINE (self));

  w = gtk_widget_get_width (GTK_WIDGET (self)) - IOV_GUTTER_WIDTH - IOV_AXIS_END_MARGIN;
  if (x != NULL)
    *x = IOV_GUTTER_WIDTH;
  if (width != NULL)
    *width = MAX (w, 1.0);
}

static guint64
time_at_x (IovTimeline *self,
           double       x)
{
  double px, pw, f;

  iov_timeline_get_plot_area (self, &px, &pw);
  f = CLAMP ((x - px) / pw, 0.0, 1.0);
  return self->t0 + (guint64) (f * (double) (self->t1 - self->t0));
}

double
_iov_timeline_x_at_time (IovTimeline *self,
                         guint64      t)
{
  double px, pw;

  iov_timeline_get_plot_area (self, &px, &pw);
  return px + pw * ((double) t - (double) self->t0) / (double) (self->t1 - self->t0);
}

static gboolean
store_extent (IovTimeline *self,
              guint64     *first,
              guint64     *last)
{
  IovEventRecord a, b;
  guint64 n;

  if (self->store == NULL)
    return FALSE;
  n = iov_event_store_get_n_events (self->store);
  if (n == 0 || !iov_event_store_get (self->store, 0, &a) || !iov_event_store_get (self->store, n - 1, &b))
    return FALSE;
  *first = a.ts_ns;
  *last = MAX (a.ts_ns, b.ts_ns);
  return TRUE;
}

/* In follow mode the range ends at the newest event. */
void
_iov_timeline_apply_follow (IovTimeline *self)
{
  guint64 first, last, span, n_bins, bin_ns;
  double pw;

  if (!store_extent (self, &first, &last))
    return;
  if (!self->has_range)
    {
      self->t1 = last + 1;
      self->t0 = self->t1 > DEFAULT_SPAN_NS ? self->t1 - DEFAULT_SPAN_NS : 0;
      self->t0 = MAX (self->t0, first);
      if (self->t1 - self->t0 < MIN_SPAN_NS)
        self->t0 = self->t1 > MIN_SPAN_NS ? self->t1 - MIN_SPAN_NS : 0;
      self->has_range = TRUE;
      return;
    }
  if (!self->follow_live)
    return;

  /* On a grid of whole bins, so that a frame only bins what is new and
   * shifts the rest (see _iov_timeline_update_bins()). */
  iov_timeline_get_plot_area (self, NULL, &pw);
  n_bins = MAX (1, (guint64) floor (pw));
  bin_ns = MAX (1, (self->t1 - self->t0) / n_bins);
  span = bin_ns * n_bins;
  self->t1 = MAX ((last / bin_ns + 1) * bin_ns, span);
  self->t0 = self->t1 - span;
}

static void
set_range_internal (IovTimeline *self,
                    guint64      t0,
                    guint64      t1,
                    gboolean     by_user)
{
  guint64 first, last;

  if (t1 <= t0 || t1 - t0 < MIN_SPAN_NS)
    {
      guint64 mid = t0 / 2 + t1 / 2;

      t0 = mid > MIN_SPAN_NS / 2 ? mid - MIN_SPAN_NS / 2 : 0;
      t1 = t0 + MIN_SPAN_NS;
    }
  self->t0 = t0;
  self->t1 = t1;
  self->has_range = TRUE;

  /* Scrolling back stops following; coming back to the newest event
   * follows again. */
  if (by_user && store_extent (self, &first, &last))
    {
      gboolean follow = t1 > last;

      if (follow != self->follow_live)
        {
          self->follow_live = follow;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOLLOW_LIVE]);
        }
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* ---- kinds --------------------------------------------------------------- */

void
_iov_timeline_update_kinds (IovTimeline *self)
{
  guint n;

  if (self->catalog == NULL)
    return;
  n = iov_trace_catalog_get_n_events (self->catalog);
  if (n == self->n_catalog_events)
    return;

  g_array_set_size (self->row_of_id, 0);
  for (guint id = 0; id < n; id++)
    {
      const char *name = iov_trace_catalog_get_name (self->catalog, id);
      guint kind = KIND_OTHER;   /* the row */
      gboolean decided = FALSE;

      for (guint p = 0; name != NULL && !decided && evidence_patterns[p] != NULL; p++)
        if (g_pattern_match_simple (evidence_patterns[p], name))
          kind = KIND_EVIDENCE, decided = TRUE;
      for (guint p = 0; name != NULL && !decided && interrupt_patterns[p] != NULL; p++)
        if (g_pattern_match_simple (interrupt_patterns[p], name))
          decided = TRUE;
      for (guint k = 0; k < KIND_OTHER && !decided && kind == KIND_OTHER && name != NULL; k++)
        for (guint p = 0; kind_patterns[k][p] != NULL; p++)
          if (g_pattern_match_simple (kind_patterns[k][p], name))
            {
              kind = k;
              break;
            }
      g_array_append_val (self->row_of_id, kind);
    }
  self->n_catalog_events = n;
  self->bins_valid = FALSE;
}

static void
bin_range (IovTimeline *self,
           guint        first_bin,
           guint        n_bins)
{
  g_autoptr(GError) error = NULL;
  guint64 bin_ns = (self->t1 - self->t0) / self->n_bins;
  guint n = n_bins - first_bin;

  /* one pass over the store for all the rows, not one per row */
  if (!iov_event_store_bin_multi (self->store, first_bin == 0 ? self->t0 : self->t0 + first_bin * bin_ns, self->t1,
                                  n, (const guint *) (gpointer) self->row_of_id->data, self->row_of_id->len,
                                  N_KINDS, self->multi_bins, &error))
    {
      g_debug ("No bins: %s", error->message);
      for (guint k = 0; k < N_KINDS; k++)
        memset (self->bins[k] + first_bin, 0, sizeof (IovEventBin) * n);
      return;
    }
  for (guint k = 0; k < N_KINDS; k++)
    memcpy (self->bins[k] + first_bin, self->multi_bins + (gsize) k * n, sizeof (IovEventBin) * n);
}

/* Bins what the range needs.  When only new events came (trace events
 * come in time order), or the range moved by whole bins while following,
 * the old bins are kept, shifted, and only the bins from the newest event
 * binned on are recomputed: a live frame costs the new events, not the
 * events in view. */
void
_iov_timeline_update_bins (IovTimeline *self,
                           guint        n_bins)
{
  guint64 n_events = iov_event_store_get_n_events (self->store);
  guint64 first, last;
  guint first_bin = 0;

  if (!store_extent (self, &first, &last))
    last = 0;
  if (self->bins_valid && n_bins == self->n_bins && self->bins_t0 == self->t0 &&
      self->bins_t1 == self->t1 && self->bins_n_events == n_events)
    return;

  if (n_bins != self->n_bins)
    {
      for (guint k = 0; k < N_KINDS; k++)
        {
          g_free (self->bins[k]);
          self->bins[k] = g_new (IovEventBin, n_bins);
        }
      g_free (self->multi_bins);
      self->multi_bins = g_new (IovEventBin, (gsize) N_KINDS * n_bins);
      self->bins_valid = FALSE;
    }
  self->n_bins = n_bins;

  if (self->bins_valid && n_events >= self->bins_n_events && last >= self->bins_last_ts &&
      self->t1 - self->t0 == self->bins_t1 - self->bins_t0 && self->t0 >= self->bins_t0 &&
      (self->t1 - self->t0) % n_bins == 0)
    {
      guint64 bin_ns = (self->t1 - self->t0) / n_bins;
      guint64 shift_ns = self->t0 - self->bins_t0;

      if (shift_ns % bin_ns == 0 && shift_ns / bin_ns < n_bins)
        {
          guint shift = (guint) (shift_ns / bin_ns);

          for (guint k = 0; k < N_KINDS && shift > 0; k++)
            memmove (self->bins[k], self->bins[k] + shift, sizeof (IovEventBin) * (n_bins - shift));
          /* from the bin of the newest event binned before */
          if (self->bins_last_ts >= self->t0)
            first_bin = (guint) MIN ((self->bins_last_ts - self->t0) / bin_ns, (guint64) n_bins - 1);
          first_bin = MIN (first_bin, n_bins - shift);
        }
    }
  bin_range (self, first_bin, n_bins);

  self->bins_t0 = self->t0;
  self->bins_t1 = self->t1;
  self->bins_n_events = n_events;
  self->bins_last_ts = last;
  self->bins_valid = TRUE;
}

/* ---- input --------------------------------------------------------------- */

static gboolean
scroll_cb (IovTimeline              *self,
           double                    dx,
           double                    dy,
           GtkEventControllerScroll *controller)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));

  if (!self->has_range)
    return FALSE;
  if (state & GDK_CONTROL_MASK)
    {
      double x = self->pointer_x;

      if (x < 0)
        {
          double px, pw;

          iov_timeline_get_plot_area (self, &px, &pw);
          x = px + pw / 2;
        }
      iov_timeline_zoom (self, dy < 0 ? ZOOM_STEP : 1 / ZOOM_STEP, x);
      return TRUE;
    }
  iov_timeline_pan (self, (ABS (dx) > ABS (dy) ? dx : dy) * PAN_STEP);
  return TRUE;
}

static void
motion_cb (IovTimeline *self,
           double       x,
           double       y)
{
  self->pointer_x = x;
}

static void
leave_cb (IovTimeline *self)
{
  self->pointer_x = -1;
}

static void
drag_begin_cb (IovTimeline    *self,
               double          x,
               double          y,
               GtkGestureDrag *gesture)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture));

  gtk_widget_grab_focus (GTK_WIDGET (self));
  if (!self->has_range)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  /* the middle and secondary buttons pan, as Shift does */
  self->drag_pans = button == GDK_BUTTON_MIDDLE || button == GDK_BUTTON_SECONDARY || (state & GDK_SHIFT_MASK) != 0;
  self->drag_cursor = !self->drag_pans && self->has_cursor &&
                      ABS (x - _iov_timeline_x_at_time (self, self->cursor)) <= CURSOR_GRAB_PX;
  self->drag_x = x;
  self->drag_t0 = self->t0;
  self->drag_t1 = self->t1;
}

static void
drag_update_cb (IovTimeline    *self,
                double          offset_x,
                double          offset_y,
                GtkGestureDrag *gesture)
{
  guint64 a, b;

  if (self->drag_pans)
    {
      double pw;
      double shift;
      gint64 dt;

      iov_timeline_get_plot_area (self, NULL, &pw);
      shift = -offset_x / pw * (double) (self->drag_t1 - self->drag_t0);
      dt = (gint64) shift;
      if (dt < 0 && (guint64) -dt > self->drag_t0)
        dt = -(gint64) self->drag_t0;
      set_range_internal (self, self->drag_t0 + dt, self->drag_t1 + dt, TRUE);
      return;
    }
  if (self->drag_cursor)
    {
      iov_timeline_set_cursor (self, time_at_x (self, self->drag_x + offset_x));
      return;
    }
  if (ABS (offset_x) < 2)
    return;
  a = time_at_x (self, self->drag_x);
  b = time_at_x (self, self->drag_x + offset_x);
  iov_timeline_set_selection (self, MIN (a, b), MAX (a, b));
}

/* A click, not a drag: the cursor goes there. */
static void
drag_end_cb (IovTimeline    *self,
             double          offset_x,
             double          offset_y,
             GtkGestureDrag *gesture)
{
  if (self->has_range && !self->drag_pans && !self->drag_cursor && ABS (offset_x) < 2)
    iov_timeline_set_cursor (self, time_at_x (self, self->drag_x));
}

static void
zoom_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  IovTimeline *self = IOV_TIMELINE (widget);
  double px, pw;

  iov_timeline_get_plot_area (self, &px, &pw);
  iov_timeline_zoom (self, g_str_equal (action_name, "timeline.zoom-in") ? ZOOM_STEP : 1 / ZOOM_STEP,
                     px + pw / 2);
}

static void
pan_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  iov_timeline_pan (IOV_TIMELINE (widget), g_str_equal (action_name, "timeline.pan-left") ? -PAN_STEP : PAN_STEP);
}

static void
follow_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  iov_timeline_set_follow_live (IOV_TIMELINE (widget), TRUE);
}

static void
clear_selection_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  iov_timeline_clear_selection (IOV_TIMELINE (widget));
  iov_timeline_clear_cursor (IOV_TIMELINE (widget));
}

/* ---- GObject ------------------------------------------------------------- */

static void
iov_timeline_css_changed (GtkWidget         *widget,
                          GtkCssStyleChange *change)
{
  IovTimeline *self = IOV_TIMELINE (widget);

  GTK_WIDGET_CLASS (iov_timeline_parent_class)->css_changed (widget, change);
  _iov_palette_load (&self->palette, widget);
  gtk_widget_queue_draw (widget);
}

static void
iov_timeline_finalize (GObject *object)
{
  IovTimeline *self = IOV_TIMELINE (object);

  g_clear_pointer (&self->row_of_id, g_array_unref);
  for (guint k = 0; k < N_KINDS; k++)
    g_clear_pointer (&self->bins[k], g_free);
  g_clear_pointer (&self->multi_bins, g_free);

  G_OBJECT_CLASS (iov_timeline_parent_class)->finalize (object);
}

static void
iov_timeline_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  IovTimeline *self = IOV_TIMELINE (object);

  switch (prop_id)
    {
    case PROP_FOLLOW_LIVE:
      g_value_set_boolean (value, self->follow_live);
      break;
    case PROP_HAS_SELECTION:
      g_value_set_boolean (value, self->has_selection);
      break;
    case PROP_SELECTION_START:
      g_value_set_uint64 (value, self->sel0);
      break;
    case PROP_SELECTION_END:
      g_value_set_uint64 (value, self->sel1);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
iov_timeline_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  IovTimeline *self = IOV_TIMELINE (object);

  switch (prop_id)
    {
    case PROP_FOLLOW_LIVE:
      iov_timeline_set_follow_live (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
iov_timeline_class_init (IovTimelineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = iov_timeline_finalize;
  object_class->get_property = iov_timeline_get_property;
  object_class->set_property = iov_timeline_set_property;

  widget_class->snapshot = _iov_timeline_snapshot;
  widget_class->measure = _iov_timeline_measure;
  widget_class->css_changed = iov_timeline_css_changed;

  properties[PROP_FOLLOW_LIVE] =
    g_param_spec_boolean ("follow-live", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_HAS_SELECTION] =
    g_param_spec_boolean ("has-selection", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SELECTION_START] =
    g_param_spec_uint64 ("selection-start", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SELECTION_END] =
    g_param_spec_uint64 ("selection-end", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * IovTimeline::selection-changed:
   *
   * The selected time range changed, or was cleared.
   */
  signals[SELECTION_CHANGED] =
    g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * IovTimeline::cursor-changed:
   *
   * The cursor moved, was placed or was cleared.
   */
  signals[CURSOR_CHANGED] =
    g_signal_new ("cursor-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_install_action (widget_class, "timeline.zoom-in", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "timeline.zoom-out", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "timeline.pan-left", NULL, pan_action);
  gtk_widget_class_install_action (widget_class, "timeline.pan-right", NULL, pan_action);
  gtk_widget_class_install_action (widget_class, "timeline.follow-live", NULL, follow_action);
  gtk_widget_class_install_action (widget_class, "timeline.clear-selection", NULL, clear_selection_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, 0, "timeline.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Add, 0, "timeline.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_equal, 0, "timeline.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, 0, "timeline.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Subtract, 0, "timeline.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, 0, "timeline.pan-left", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, 0, "timeline.pan-right", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_End, 0, "timeline.follow-live", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "timeline.clear-selection", NULL);

  gtk_widget_class_set_css_name (widget_class, "iovtimeline");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
iov_timeline_init (IovTimeline *self)
{
  GtkEventController *scroll;
  GtkEventController *motion;
  GtkGesture *drag;

  self->row_of_id = g_array_new (FALSE, FALSE, sizeof (guint));
  self->follow_live = TRUE;
  self->pointer_x = -1;

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_focus_on_click (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self),
                               _("Scroll or drag with Shift to pan, Ctrl+scroll or +/− to zoom, drag to select a span, click to place "
                                 "the cursor and drag it to scrub, End to follow live events"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Trace events over time"),
                                  -1);

  motion = gtk_event_controller_motion_new ();
  g_signal_connect_swapped (motion, "enter", G_CALLBACK (motion_cb), self);
  g_signal_connect_swapped (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect_swapped (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect_swapped (scroll, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);

  drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), 0);
  g_signal_connect_swapped (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect_swapped (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  g_signal_connect_swapped (drag, "drag-end", G_CALLBACK (drag_end_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

  _iov_palette_load (&self->palette, GTK_WIDGET (self));
}

/* ---- API ----------------------------------------------------------------- */

GtkWidget *
iov_timeline_new (void)
{
  return g_object_new (IOV_TYPE_TIMELINE, NULL);
}

void
iov_timeline_set_store (IovTimeline     *self,
                        IovEventStore   *store,
                        IovTraceCatalog *catalog)
{
  g_return_if_fail (IOV_IS_TIMELINE (self));
  g_return_if_fail (store == NULL || catalog != NULL);

  self->store = store;
  self->catalog = catalog;
  self->n_catalog_events = 0;
  self->bins_valid = FALSE;
  self->has_range = FALSE;
  iov_timeline_clear_selection (self);
  iov_timeline_clear_cursor (self);
  if (!self->follow_live)
    {
      self->follow_live = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOLLOW_LIVE]);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
iov_timeline_set_absolute_axis (IovTimeline *self,
                                gboolean     absolute)
{
  g_return_if_fail (IOV_IS_TIMELINE (self));

  self->absolute_axis = !!absolute;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

IovEventStore *
iov_timeline_get_store (IovTimeline *self)
{
  g_return_val_if_fail (IOV_IS_TIMELINE (self), NULL);

  return self->store;
}

void
iov_timeline_events_appended (IovTimeline *self)
{
  g_return_if_fail (IOV_IS_TIMELINE (self));

  /* GTK draws at most once per frame, however many times this is queued;
   * when not following and the range holds no new events, no redraw. */
  if (self->follow_live || !self->has_range)
    gtk_widget_queue_draw (GTK_WIDGET (self));
  else
    {
      guint64 first, last;

      if (store_extent (self, &first, &last) && last >= self->t0 && first < self->t1)
        gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

void
iov_timeline_set_range (IovTimeline *self,
                        guint64      start_ns,
                        guint64      end_ns)
{
  g_return_if_fail (IOV_IS_TIMELINE (self));

  /* an explicit range: no following until asked */
  set_range_internal (self, start_ns, end_ns, FALSE);
  iov_timeline_set_follow_live (self, FALSE);
}

void
iov_timeline_get_range (IovTimeline *self,
                        guint64     *start_ns,
                        guint64     *end_ns)
{
  g_return_if_fail (IOV_IS_TIMELINE (self));

  _iov_timeline_apply_follow (self);
  if (start_ns != NULL)
    *start_ns = self->t0;
  if (end_ns != NULL)
    *end_ns = self->t1;
}

/* @factor > 1 zooms in, keeping the time under @x where it is. */
void
iov_timeline_zoom (IovTimeline *self,
                   double       factor,
                   double       x)
{
  double px, pw, f, span, anchor, t0;

  g_return_if_fail (IOV_IS_TIMELINE (self));
  g_return_if_fail (factor > 0);

  _iov_timeline_apply_follow (self);
  if (!self->has_range)
    return;
  iov_timeline_get_plot_area (self, &px, &pw);
  f = CLAMP ((x - px) / pw, 0.0, 1.0);
  span = (double) (self->t1 - self->t0);
  anchor = (double) self->t0 + f * span;
  span = MAX (span / factor, (double) MIN_SPAN_NS);
  t0 = MAX (0.0, anchor - f * span);
  /* Zooming keeps following if the newest event stays in view. */
  if (self->follow_live)
    {
      self->t0 = (guint64) t0;
      self->t1 = (guint64) (t0 + span);
      if (f > 0.999)
        {
          gtk_widget_queue_draw (GTK_WIDGET (self));
          return;
        }
    }
  set_range_internal (self, (guint64) t0, (guint64) (t0 + span), TRUE);
}

/* Moves the range by @dx spans; negative is back in time. */
void
iov_timeline_pan (IovTimeline *self,
                  double       dx)
{
  double span, shift;
  guint64 t0;

  g_return_if_fail (IOV_IS_TIMELINE (self));

  _iov_timeline_apply_follow (self);
  if (!self->has_range)
    return;
  span = (double) (self->t1 - self->t0);
  shift = dx * span;
  if (shift < 0 && -shift > (double) self->t0)
    t0 = 0;
  else
    t0 = (guint64) ((double) self->t0 + shift);
  set_range_internal (self, t0, t0 + (guint64) span, TRUE);
}

gboolean
iov_timeline_get_follow_live (IovTimeline *self)
{
  g_return_val_if_fail (IOV_IS_TIMELINE (self), FALSE);

  return self->follow_live;
}

void
iov_timeline_set_follow_live (IovTimeline *self,
                              gboolean     follow_live)
{
  g_return_if_fail (IOV_IS_TIMELINE (self));

  follow_live = !!follow_live;
  if (follow_live == self->follow_live)
    return;
  self->follow_live = follow_live;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOLLOW_LIVE]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
iov_timeline_get_selection (IovTimeline *self,
                            guint64     *start_ns,
                            guint64     *end_ns)
{
  g_return_val_if_fail (IOV_IS_TIMELINE (self), FALSE);

  if (start_ns != NULL)
    *start_ns = self->sel0;
  if (end_ns != NULL)
    *end_ns = self->sel1;
  return self->has_selection;
}

static void
selection_changed (IovTimeline *self,
                   gboolean     had_selection)
{
  g_object_freeze_notify (G_OBJECT (self));
  if (had_selection != self->has_selection)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_SELECTION]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTION_START]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTION_END]);
  g_object_thaw_notify (G_OBJECT (self));
  g_signal_emit (self, signals[SELECTION_CHANGED], 0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
iov_timeline_set_selection (IovTimeline *self,
                            guint64      start_ns,
                            guint64      end_ns)
{
  gboolean had;

  g_return_if_fail (IOV_IS_TIMELINE (self));
  g_return_if_fail (start_ns <= end_ns);

  if (self->has_selection && self->sel0 == start_ns && self->sel1 == end_ns)
    return;
  had = self->has_selection;
  self->has_selection = TRUE;
  self->sel0 = start_ns;
  self->sel1 = end_ns;
  selection_changed (self, had);
  iov_timeline_clear_cursor (self);
}

void
iov_timeline_clear_selection (IovTimeline *self)
{
  g_return_if_fail (IOV_IS_TIMELINE (self));

  if (!self->has_selection)
    return;
  self->has_selection = FALSE;
  self->sel0 = self->sel1 = 0;
  selection_changed (self, TRUE);
}

gboolean
iov_timeline_get_cursor (IovTimeline *self,
                         guint64     *t_ns)
{
  g_return_val_if_fail (IOV_IS_TIMELINE (self), FALSE);

  if (t_ns != NULL)
    *t_ns = self->cursor;
  return self->has_cursor;
}

void
iov_timeline_set_cursor (IovTimeline *self,
                         guint64      t_ns)
{
  g_return_if_fail (IOV_IS_TIMELINE (self));

  iov_timeline_clear_selection (self);
  if (self->has_cursor && self->cursor == t_ns)
    return;
  self->has_cursor = TRUE;
  self->cursor = t_ns;
  g_signal_emit (self, signals[CURSOR_CHANGED], 0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
iov_timeline_clear_cursor (IovTimeline *self)
{
  g_return_if_fail (IOV_IS_TIMELINE (self));

  if (!self->has_cursor)
    return;
  self->has_cursor = FALSE;
  self->cursor = 0;
  g_signal_emit (self, signals[CURSOR_CHANGED], 0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
iov_timeline_get_n_kinds (IovTimeline *self)
{
  g_return_val_if_fail (IOV_IS_TIMELINE (self), 0);

  return N_KINDS;
}
