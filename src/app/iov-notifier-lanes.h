/* iov-notifier-lanes.h — what each notifier got from one step's events
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

#include "iov-delivery-log.h"
#include "iov-engine.h"

G_BEGIN_DECLS

#define IOV_TYPE_NOTIFIER_LANES (iov_notifier_lanes_get_type ())

G_DECLARE_FINAL_TYPE (IovNotifierLanes, iov_notifier_lanes, IOV, NOTIFIER_LANES, GtkWidget)

GtkWidget *iov_notifier_lanes_new              (void);
/* The axis boundaries, as iov_range_map_get_bounds() gives them. */
void       iov_notifier_lanes_set_bounds       (IovNotifierLanes          *self,
                                                GArray                    *bounds);
/* One lane per notifier, in QEMU's dispatch order; @events carry the type
 * their era sees; @outcomes point at those notifiers (others are ignored).
 * @abort_message is QEMU's assertion text when the step aborted. Copies
 * everything, then animates the events visiting the lanes. */
void       iov_notifier_lanes_set_step         (IovNotifierLanes          *self,
                                                const IovNotifier * const *notifiers,
                                                guint                      n_notifiers,
                                                const IovTlbEvent         *events,
                                                guint                      n_events,
                                                const IovOutcome          *outcomes,
                                                guint                      n_outcomes,
                                                const char                *abort_message);
/* Which of the outcomes given to set_step() QEMU's trace showed (by the
 * same index); the others are inferred. Reset by each set_step(). */
void       iov_notifier_lanes_set_observed     (IovNotifierLanes          *self,
                                                const guint8              *observed,
                                                guint                      n_outcomes);
/* 1: an event visits a lane every 0.28 s. */
void       iov_notifier_lanes_set_speed        (IovNotifierLanes          *self,
                                                double                     speed);
/* Shows the end state at once. */
void       iov_notifier_lanes_finish_animation (IovNotifierLanes          *self);
/* Too many events to show one by one: each lane says what its notifier got
 * in total (matched to the lanes by notifier name), and @caption replaces
 * the events' label, e.g. "12 000 events in the selection".  The step's
 * events stay drawn as a sample.  Reset by each set_step(). */
void       iov_notifier_lanes_set_counts       (IovNotifierLanes          *self,
                                                const char                *caption,
                                                const IovDeliveryCount    *counts,
                                                guint                      n_counts);
gboolean   iov_notifier_lanes_is_counting      (IovNotifierLanes          *self);
/* Compare Versions: beside each lane, what every release did with the
 * selected event, by notifier name ("5.0–5.2 abort · 6.0+ cropped"), side
 * by side with what this trace's QEMU did.  NULL or empty: none.  Kept
 * until set again. */
void       iov_notifier_lanes_set_releases     (IovNotifierLanes          *self,
                                                GHashTable                *by_name);
/* What set_releases() shows on lane @lane, or NULL. */
const char *iov_notifier_lanes_get_releases    (IovNotifierLanes          *self,
                                                guint                      lane);
guint      iov_notifier_lanes_get_n_lanes      (IovNotifierLanes          *self);
guint      iov_notifier_lanes_get_n_events     (IovNotifierLanes          *self);

G_END_DECLS
