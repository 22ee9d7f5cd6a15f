/* iov-range-map-private.h — what the parts of IovRangeMap share
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
#include "iov-range-map.h"

G_BEGIN_DECLS

#define LABEL_LEVEL_HEIGHT 32.0
#define BAR_Y              (2 * LABEL_LEVEL_HEIGHT + 8.0)
#define BAR_HEIGHT         52.0
#define ROW_TOP            (BAR_Y + BAR_HEIGHT + 10.0)
#define ROW_HEIGHT         28.0
#define ROW_SPACING        4.0
#define BOTTOM_PADDING     6.0
#define FLASH_USEC         (900 * G_TIME_SPAN_MILLISECOND)
#define MORPH_USEC         (700 * G_TIME_SPAN_MILLISECOND)

typedef struct
{
  guint64       start;
  guint64       end;
  IovRangeRole  role;
  char         *name;
} Range;

typedef struct
{
  char    *name;
  char    *owner;
  guint64  start;
  guint64  end;
  guint    flags;
} Notifier;

struct _IovRangeMap
{
  GtkWidget   parent_instance;

  char       *title;
  char       *subtitle;
  GArray     *ranges;         /* Range */
  GArray     *old_ranges;     /* Range: fading out while ranges fade in */
  GArray     *notifiers;      /* Notifier */
  GArray     *events;         /* IovTlbEvent */
  GArray     *mapped;         /* IovRangeMapMark: the device's mappings at an instant (issue L) */
  guint       aw_bits;

  GArray     *bounds;         /* guint64 */
  IovAxis    *axis;           /* for the current width */
  IovPalette  palette;

  guint       flash_tick_id;
  gint64      flash_start;
  double      flash;          /* 1 when an invalidation just happened, → 0 */

  guint       morph_tick_id;
  gint64      morph_start;
  double      morph;          /* 0 → 1 while the layout changes */
};

/* One of a device's mappings on the map (issue L). */
typedef struct
{
  IovMapping          m;
  IovRangeMapMarkKind kind;
} IovRangeMapMark;

/* iov-range-map.c */
void      _iov_range_map_recompute_bounds  (IovRangeMap *self);
IovAxis  *_iov_range_map_get_axis          (IovRangeMap *self);

/* iov-range-map-mappings.c */
gboolean  _iov_range_map_mappings_extent   (IovRangeMap *self,
                                            guint64     *lo,
                                            guint64     *hi);
void      _iov_range_map_snapshot_mappings (IovRangeMap *self,
                                            GtkSnapshot *snapshot,
                                            IovAxis     *axis);
void      _iov_range_map_describe_mappings (IovRangeMap *self,
                                            guint64      address,
                                            GString     *out);

G_END_DECLS
