/* iov-notifier-lanes-private.h — what the parts of IovNotifierLanes share
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

#include "iov-axis.h"
#include "iov-drawing-private.h"
#include "iov-notifier-lanes.h"

G_BEGIN_DECLS

#define SOURCE_HEIGHT   34.0
#define LANE_TOP        (SOURCE_HEIGHT + 8.0)
#define LANE_HEIGHT     46.0
#define LANE_SPACING    4.0
#define ABORT_HEIGHT    64.0
#define BAR_INSET       8.0
#define STEP_USEC       (280 * G_TIME_SPAN_MILLISECOND)

typedef struct
{
  char    *name;
  char    *owner;
  guint64  start;
  guint64  end;
  guint    flags;
} Lane;

/* An outcome, resolved to a lane index: no pointers kept. */
typedef struct
{
  int      lane;       /* -1: no single notifier */
  int      event;      /* -1: none */
  guint    source;     /* index in the outcomes given to set_step */
  guint8   result;
  guint8   type;
  guint8   cropped;
  guint8   observed;   /* seen in QEMU's trace, not only inferred */
  guint64  iova;
  guint64  addr_mask;
} Outcome;

struct _IovNotifierLanes
{
  GtkWidget   parent_instance;

  GArray     *lanes;      /* Lane */
  GArray     *events;     /* IovTlbEvent */
  GArray     *outcomes;   /* Outcome */
  char       *abort_message;
  int         abort_lane; /* -1: none or no single lane */
  gboolean    aborted;

  GArray     *counts;     /* IovDeliveryCount per lane, or empty */
  char       *caption;
  GHashTable *releases;   /* lane name → what each release did (Compare Versions) */

  GArray     *bounds;     /* guint64 */
  IovAxis    *axis;
  IovPalette  palette;

  /* Animation: 0 the IOMMU emits, k ≥ 1 lane k-1 is visited. */
  guint       tick_id;
  gint64      anim_start;
  double      progress;
  double      speed;
};

/* iov-notifier-lanes.c */
IovAxis     *_iov_notifier_lanes_get_axis     (IovNotifierLanes       *self);
double       _iov_notifier_lanes_lane_y       (guint                   lane);
double       _iov_notifier_lanes_bottom       (IovNotifierLanes       *self);
void         _iov_notifier_lanes_range_x      (IovAxis                *axis,
                                               guint64                 iova,
                                               guint64                 addr_mask,
                                               double                 *x0,
                                               double                 *x1);
char        *_iov_notifier_lanes_format_range (guint64                 iova,
                                               guint64                 addr_mask);
const char  *_iov_notifier_lanes_flag_word    (guint                   type);
char        *_iov_notifier_lanes_outcome_text (IovNotifierLanes       *self,
                                               const Outcome          *o);

/* iov-notifier-lanes-draw.c */
char        *_iov_notifier_lanes_count_text   (const IovDeliveryCount *c);
void         _iov_notifier_lanes_snapshot     (GtkWidget              *widget,
                                               GtkSnapshot            *snapshot);

G_END_DECLS
