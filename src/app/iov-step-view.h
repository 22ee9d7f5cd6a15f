/* iov-step-view.h — one step of a scenario's run, as the player, the what-if
 * view and the lesson show it
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

#include "iov-explain.h"
#include "iov-notifier-lanes.h"
#include "iov-range-map.h"
#include "iov-scenario.h"
#include "iov-stepper.h"
#include "iov-system.h"

G_BEGIN_DECLS

/* Shows @run of @scenario at step @position (-1: before the first) in a
 * map and lanes: the machine's ranges, the notifiers registered by then,
 * the step's invalidations and what each notifier got. */
void iov_step_view_show             (IovRangeMap       *range_map,
                                     IovNotifierLanes  *lanes,
                                     const IovScenario *scenario,
                                     const IovRun      *run,
                                     const IovProfile  *profile,
                                     int                position);

/* The button's icon and tooltip say Play or Pause as @stepper plays, for
 * as long as both live. */
void iov_step_view_bind_play_button (GtkButton         *button,
                                     IovStepper        *stepper);
/* Enables @widget's PREFIX.step-back and PREFIX.step-forward actions, and
 * PREFIX.play when @with_play, as @stepper allows. */
void iov_step_view_sync_actions     (GtkWidget         *widget,
                                     const char        *prefix,
                                     IovStepper        *stepper,
                                     gboolean           with_play);

/* Styles @widget for @tone ("success", "error"… from libadwaita),
 * dropping the class of any other tone. */
void iov_step_view_set_tone         (GtkWidget         *widget,
                                     IovTone            tone);

G_END_DECLS
