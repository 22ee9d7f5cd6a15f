/* iov-compare-marks.h — where releases differ, over the timeline
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


#pragma once

#include <gtk/gtk.h>

#include "iov-timeline.h"

G_BEGIN_DECLS

#define IOV_TYPE_COMPARE_MARKS (iov_compare_marks_get_type ())

G_DECLARE_FINAL_TYPE (IovCompareMarks, iov_compare_marks, IOV, COMPARE_MARKS, GtkWidget)

typedef enum
{
  IOV_COMPARE_MARK_DIVERGENCE,   /* releases differ on the event */
  IOV_COMPARE_MARK_ABORT,        /* a release would abort there */
} IovCompareMarkKind;

typedef struct
{
  guint64            ts_ns;      /* the event's time, as the timeline's range counts it */
  IovCompareMarkKind kind;
} IovCompareMark;

/* A layer for a GtkOverlay over @timeline: a line at each mark, where the
 * timeline draws that time. It takes no input. */
GtkWidget *iov_compare_marks_new        (void);
void       iov_compare_marks_set_timeline (IovCompareMarks *self,
                                           IovTimeline     *timeline);
/* @marks: IovCompareMark, sorted by time; NULL: none */
void       iov_compare_marks_set_marks  (IovCompareMarks *self,
                                         GArray          *marks);
guint      iov_compare_marks_get_n_marks (IovCompareMarks *self);
/* The x, in the timeline's coordinates, of mark @i; FALSE when it is out
 * of the shown range. */
gboolean   iov_compare_marks_get_mark_x (IovCompareMarks *self,
                                         guint            i,
                                         double          *x);

G_END_DECLS
