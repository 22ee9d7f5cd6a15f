/* iov-timeline-private.h — what the parts of IovTimeline share
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

#include "iov-drawing-private.h"
#include "iov-timeline.h"

G_BEGIN_DECLS

#define AXIS_HEIGHT     22.0
#define ROW_HEIGHT      20.0
#define ROW_GAP         2.0
#define MIN_SPAN_NS     G_GUINT64_CONSTANT (1000)
#define DEFAULT_SPAN_NS G_GUINT64_CONSTANT (10000000000)   /* 10 s */
#define ZOOM_STEP       1.25
#define PAN_STEP        0.1                                 /* of the span */
#define CURSOR_GRAB_PX  6.0    /* a press this near the cursor drags it */

typedef enum
{
  KIND_TRANSLATION,
  KIND_INVALIDATION,
  KIND_MAP,
  KIND_EVIDENCE,
  KIND_FAULT,
  KIND_OTHER,
  N_KINDS
} Kind;

struct _IovTimeline
{
  GtkWidget        parent_instance;

  IovEventStore   *store;     /* borrowed */
  IovTraceCatalog *catalog;   /* borrowed */
  GArray          *row_of_id;  /* guint: catalogue id → Kind */
  guint            n_catalog_events;

  guint64          t0;
  guint64          t1;
  gboolean         follow_live;
  gboolean         absolute_axis;  /* QEMU's clock rather than since the first event */
  gboolean         has_range;

  gboolean         has_selection;
  guint64          sel0;
  guint64          sel1;

  /* the bins of the last snapshot, and what they were computed for */
  IovEventBin     *bins[N_KINDS];
  IovEventBin     *multi_bins;   /* N_KINDS × n_bins, as the store fills them */
  guint            n_bins;
  guint64          bins_t0;
  guint64          bins_t1;
  guint64          bins_n_events;
  guint64          bins_last_ts;   /* the newest event binned */
  gboolean         bins_valid;

  /* the pointer, for zooming around it; -1 when outside */
  double           pointer_x;

  /* the cursor: an instant the address map shows (issue L) */
  gboolean         has_cursor;
  guint64          cursor;

  /* drags */
  gboolean         drag_pans;
  gboolean         drag_cursor;  /* this drag moves the cursor: it scrubs */
  double           drag_x;
  guint64          drag_t0;
  guint64          drag_t1;

  IovPalette       palette;
};

/* iov-timeline.c */
const char    *_iov_timeline_kind_label   (Kind         kind);
const GdkRGBA *_iov_timeline_kind_color   (IovTimeline *self,
                                           Kind         kind);
double         _iov_timeline_x_at_time    (IovTimeline *self,
                                           guint64      t);
void           _iov_timeline_update_kinds (IovTimeline *self);
void           _iov_timeline_update_bins  (IovTimeline *self,
                                           guint        n_bins);
void           _iov_timeline_apply_follow (IovTimeline *self);

/* iov-timeline-draw.c */
void           _iov_timeline_snapshot     (GtkWidget      *widget,
                                           GtkSnapshot    *snapshot);
void           _iov_timeline_measure      (GtkWidget      *widget,
                                           GtkOrientation  orientation,
                                           int             for_size,
                                           int            *minimum,
                                           int            *natural,
                                           int            *minimum_baseline,
                                           int            *natural_baseline);

G_END_DECLS
