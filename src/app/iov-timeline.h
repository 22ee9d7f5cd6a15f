/* iov-timeline.h — a trace's event density over time
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

#include "iov-event-store.h"

G_BEGIN_DECLS

#define IOV_TYPE_TIMELINE (iov_timeline_get_type ())

G_DECLARE_FINAL_TYPE (IovTimeline, iov_timeline, IOV, TIMELINE, GtkWidget)

GtkWidget *iov_timeline_new               (void);
/* Borrowed: @store and @catalog (the store's) must outlive the timeline,
 * or be unset first.  Rows are event kinds, chosen from the catalogue's
 * names. */
void       iov_timeline_set_store         (IovTimeline     *self,
                                           IovEventStore   *store,
                                           IovTraceCatalog *catalog);
IovEventStore *iov_timeline_get_store    (IovTimeline     *self);
/* The axis counts seconds since the store's first event, unless absolute:
 * then it shows QEMU's clock, and its grid does not move with the data. */
void       iov_timeline_set_absolute_axis (IovTimeline     *self,
                                           gboolean         absolute);
/* New events were appended: redraws once, on the next frame. */
void       iov_timeline_events_appended   (IovTimeline     *self);
void       iov_timeline_set_range         (IovTimeline     *self,
                                           guint64          start_ns,
                                           guint64          end_ns);
void       iov_timeline_get_range         (IovTimeline     *self,
                                           guint64         *start_ns,
                                           guint64         *end_ns);
void       iov_timeline_zoom              (IovTimeline     *self,
                                           double           factor,
                                           double           x);
void       iov_timeline_pan               (IovTimeline     *self,
                                           double           dx);
gboolean   iov_timeline_get_follow_live   (IovTimeline     *self);
void       iov_timeline_set_follow_live   (IovTimeline     *self,
                                           gboolean         follow_live);
gboolean   iov_timeline_get_selection     (IovTimeline     *self,
                                           guint64         *start_ns,
                                           guint64         *end_ns);
void       iov_timeline_set_selection     (IovTimeline     *self,
                                           guint64          start_ns,
                                           guint64          end_ns);
void       iov_timeline_clear_selection   (IovTimeline     *self);
/* The cursor: one instant, placed by a click and dragged to scrub (the
 * live view shows the address map as of it). A span and the cursor
 * exclude each other: setting one clears the other. */
gboolean   iov_timeline_get_cursor        (IovTimeline     *self,
                                           guint64         *t_ns);
void       iov_timeline_set_cursor        (IovTimeline     *self,
                                           guint64          t_ns);
void       iov_timeline_clear_cursor      (IovTimeline     *self);
guint      iov_timeline_get_n_kinds       (IovTimeline     *self);
/* The x of the bins' left edge, and their width in pixels. */
void       iov_timeline_get_plot_area     (IovTimeline     *self,
                                           double          *x,
                                           double          *width);

G_END_DECLS
