/* iov-compare-marks.c — where releases differ, over the timeline
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


#define G_LOG_DOMAIN "iov-compare-marks"

#include "config.h"

#include "iov-compare-marks.h"

struct _IovCompareMarks
{
  GtkWidget    parent_instance;

  IovTimeline *timeline;   /* weak */
  GArray      *marks;      /* IovCompareMark */
  guint64      t0, t1;     /* the range drawn last */
  guint        tick_id;
};

G_DEFINE_FINAL_TYPE (IovCompareMarks, iov_compare_marks, GTK_TYPE_WIDGET)

GtkWidget *
iov_compare_marks_new (void)
{
  return g_object_new (IOV_TYPE_COMPARE_MARKS, NULL);
}

/* The timeline says nothing when its range moves: look once a frame,
 * redraw when it did. */
static gboolean
tick_cb (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       data)
{
  IovCompareMarks *self = IOV_COMPARE_MARKS (widget);
  guint64 t0 = 0, t1 = 0;

  if (self->timeline != NULL && self->marks->len > 0)
    {
      iov_timeline_get_range (self->timeline, &t0, &t1);
      if (t0 != self->t0 || t1 != self->t1)
        gtk_widget_queue_draw (widget);
    }
  return G_SOURCE_CONTINUE;
}

gboolean
iov_compare_marks_get_mark_x (IovCompareMarks *self,
                              guint            i,
                              double          *x)
{
  guint64 t0 = 0, t1 = 0, ts;
  double px, pw;

  g_return_val_if_fail (IOV_IS_COMPARE_MARKS (self), FALSE);

  if (self->timeline == NULL || i >= self->marks->len)
    return FALSE;
  iov_timeline_get_range (self->timeline, &t0, &t1);
  iov_timeline_get_plot_area (self->timeline, &px, &pw);
  ts = g_array_index (self->marks, IovCompareMark, i).ts_ns;
  if (t1 <= t0 || ts < t0 || ts > t1)
    return FALSE;
  *x = px + pw * ((double) (ts - t0) / (double) (t1 - t0));
  return TRUE;
}

static void
iov_compare_marks_snapshot (GtkWidget   *widget,
                            GtkSnapshot *snapshot)
{
  IovCompareMarks *self = IOV_COMPARE_MARKS (widget);
  /* the app's warning and error colours (libadwaita's palette) */
  const GdkRGBA divergence = { 0.90, 0.65, 0.04, 0.9 };
  const GdkRGBA abort = { 0.88, 0.11, 0.14, 1.0 };
  double height = gtk_widget_get_height (widget);
  double last_x = -1;

  if (self->timeline == NULL)
    return;
  iov_timeline_get_range (self->timeline, &self->t0, &self->t1);
  for (guint i = 0; i < self->marks->len; i++)
    {
      const IovCompareMark *mark = &g_array_index (self->marks, IovCompareMark, i);
      double x;

      if (!iov_compare_marks_get_mark_x (self, i, &x))
        continue;
      /* thousands of marks in a pixel are one line; an abort wins */
      if ((int) x == (int) last_x && mark->kind == IOV_COMPARE_MARK_DIVERGENCE)
        continue;
      last_x = x;
      gtk_snapshot_append_color (snapshot, mark->kind == IOV_COMPARE_MARK_ABORT ? &abort : &divergence,
                                 &GRAPHENE_RECT_INIT ((float) x - 1, 0, mark->kind == IOV_COMPARE_MARK_ABORT ? 3 : 2,
                                                      (float) height));
    }
}

void
iov_compare_marks_set_timeline (IovCompareMarks *self,
                                IovTimeline     *timeline)
{
  g_return_if_fail (IOV_IS_COMPARE_MARKS (self));
  g_set_weak_pointer (&self->timeline, timeline);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
iov_compare_marks_set_marks (IovCompareMarks *self,
                             GArray          *marks)
{
  g_return_if_fail (IOV_IS_COMPARE_MARKS (self));
  g_array_set_size (self->marks, 0);
  if (marks != NULL)
    g_array_append_vals (self->marks, marks->data, marks->len);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
iov_compare_marks_get_n_marks (IovCompareMarks *self)
{
  g_return_val_if_fail (IOV_IS_COMPARE_MARKS (self), 0);
  return self->marks->len;
}

static void
iov_compare_marks_dispose (GObject *object)
{
  IovCompareMarks *self = IOV_COMPARE_MARKS (object);

  g_clear_weak_pointer (&self->timeline);
  G_OBJECT_CLASS (iov_compare_marks_parent_class)->dispose (object);
}

static void
iov_compare_marks_finalize (GObject *object)
{
  IovCompareMarks *self = IOV_COMPARE_MARKS (object);

  g_array_unref (self->marks);
  G_OBJECT_CLASS (iov_compare_marks_parent_class)->finalize (object);
}

static void
iov_compare_marks_class_init (IovCompareMarksClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = iov_compare_marks_dispose;
  object_class->finalize = iov_compare_marks_finalize;
  widget_class->snapshot = iov_compare_marks_snapshot;
}

static void
iov_compare_marks_init (IovCompareMarks *self)
{
  self->marks = g_array_new (FALSE, FALSE, sizeof (IovCompareMark));
  gtk_widget_set_can_target (GTK_WIDGET (self), FALSE);
  self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), tick_cb, NULL, NULL);
}
