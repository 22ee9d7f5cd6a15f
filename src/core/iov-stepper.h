/* iov-stepper.h — a position in a scenario's steps, moved by hand or by a clock
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

#include <glib-object.h>

G_BEGIN_DECLS

/* At 1×: slow enough to read the explanation of each step. */
#define IOV_STEPPER_INTERVAL_MS 1500

#define IOV_TYPE_STEPPER (iov_stepper_get_type ())

G_DECLARE_FINAL_TYPE (IovStepper, iov_stepper, IOV, STEPPER, GObject)

/* What the player, the what-if view and the lesson step through: a
 * position from -1 (before the first step) to n-steps - 1, and playing,
 * which moves it on every IOV_STEPPER_INTERVAL_MS / speed on the thread-
 * default main context and stops at the last step.  Views redraw on
 * "notify::position" and show Play or Pause on "notify::playing".
 *
 * @name names the clock's GSource, for profilers. */
IovStepper *iov_stepper_new              (const char *name);

/* Keeps the position within the new steps, and stops without any. */
void        iov_stepper_set_n_steps      (IovStepper *self,
                                          int         n_steps);
int         iov_stepper_get_n_steps      (IovStepper *self);
/* Whether there is something to play (the player has no run under a
 * profile the scenario is invalid for); FALSE stops. TRUE by default. */
void        iov_stepper_set_can_play     (IovStepper *self,
                                          gboolean    can_play);
/* Has steps, and can play. */
gboolean    iov_stepper_get_can_play     (IovStepper *self);

int         iov_stepper_get_position     (IovStepper *self);
/* Clamped to [-1, n-steps - 1]. */
void        iov_stepper_set_position     (IovStepper *self,
                                          int         position);
void        iov_stepper_step             (IovStepper *self,
                                          int         delta);
gboolean    iov_stepper_can_step_back    (IovStepper *self);
gboolean    iov_stepper_can_step_forward (IovStepper *self);

gboolean    iov_stepper_get_playing      (IovStepper *self);
/* Playing from the last step starts again before the first. */
void        iov_stepper_set_playing      (IovStepper *self,
                                          gboolean    playing);
double      iov_stepper_get_speed        (IovStepper *self);
/* > 0; 1 is IOV_STEPPER_INTERVAL_MS a step.  Playing goes on at the new pace. */
void        iov_stepper_set_speed        (IovStepper *self,
                                          double      speed);

G_END_DECLS
