/* iov-range-map.h — the 64-bit IOVA space of one address space
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

#include "iov-engine.h"
#include "iov-mappings.h"
#include "iov-mtree.h"   /* IovRangeRole: the roles a FlatRange plays */

G_BEGIN_DECLS

/* One FlatRange of the address space, [start, end] inclusive. */
typedef struct
{
  guint64       start;
  guint64       end;
  IovRangeRole  role;
  const char   *name;
} IovMapRange;

#define IOV_TYPE_RANGE_MAP (iov_range_map_get_type ())

G_DECLARE_FINAL_TYPE (IovRangeMap, iov_range_map, IOV, RANGE_MAP, GtkWidget)

GtkWidget    *iov_range_map_new               (void);
void          iov_range_map_set_title         (IovRangeMap        *self,
                                               const char         *title,
                                               const char         *subtitle);
/* Copies @ranges. */
void          iov_range_map_set_ranges        (IovRangeMap        *self,
                                               const IovMapRange  *ranges,
                                               guint               n_ranges);
/* 0: no 2^aw-bits boundary. */
void          iov_range_map_set_aw_bits       (IovRangeMap        *self,
                                               guint               aw_bits);
/* Copies what it shows of each notifier. */
void          iov_range_map_set_notifiers     (IovRangeMap        *self,
                                               const IovNotifier * const *notifiers,
                                               guint               n_notifiers);
/* The current step's invalidations, each with the type its era sees;
 * they flash over the map. */
void          iov_range_map_set_invalidations (IovRangeMap        *self,
                                               const IovTlbEvent  *events,
                                               guint               n_events);

typedef enum
{
  IOV_RANGE_MAP_MAPPED,    /* at the instant shown */
  IOV_RANGE_MAP_ADDED,     /* over the selected span */
  IOV_RANGE_MAP_REMOVED,
} IovRangeMapMarkKind;

/* A device's IOVA mappings (IovMapping) at an instant, and what changed
 * over a span (issue L); drawn along the bottom of the bar. NULLs clear. */
void          iov_range_map_set_mappings      (IovRangeMap        *self,
                                               GArray             *mapped,
                                               GArray             *added,
                                               GArray             *removed);
/* The mappings shown, and of the span's changes, those added and removed. */
guint         iov_range_map_get_n_mappings    (IovRangeMap        *self,
                                               guint              *n_added,
                                               guint              *n_removed);
/* The mappings of @kind shown, as given (IovMapping). */
GArray       *iov_range_map_dup_mappings      (IovRangeMap        *self,
                                               IovRangeMapMarkKind kind);

/* The axis boundaries (guint64, sorted) the map uses: give them to the
 * lanes so both share one axis. */
GArray       *iov_range_map_get_bounds        (IovRangeMap        *self);
/* Where the map bar is drawn, in widget coordinates: the axis runs from
 * x to x + width. */
void          iov_range_map_get_bar_area      (IovRangeMap        *self,
                                               graphene_rect_t    *area);
guint         iov_range_map_get_n_notifiers   (IovRangeMap        *self);

G_END_DECLS
