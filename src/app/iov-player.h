/* iov-player.h — steps through a what-if scenario under one profile
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

#include "iov-notifier-lanes.h"
#include "iov-range-map.h"
#include "iov-scenario.h"
#include "iov-system.h"

G_BEGIN_DECLS

#define IOV_TYPE_PLAYER (iov_player_get_type ())

G_DECLARE_FINAL_TYPE (IovPlayer, iov_player, IOV, PLAYER, GtkWidget)

GtkWidget         *iov_player_new          (void);
/* Takes @scenario; runs it under @profile_id, or the scenario's own
 * profile when NULL, and shows the machine before the first step. */
void               iov_player_set_scenario (IovPlayer   *self,
                                            IovScenario *scenario,
                                            const char  *profile_id);
const IovScenario *iov_player_get_scenario (IovPlayer   *self);
const IovRun      *iov_player_get_run      (IovPlayer   *self);
gboolean           iov_player_set_profile  (IovPlayer   *self,
                                            const char  *profile_id);
/* -1 is the machine before the first step. */
int                iov_player_get_position (IovPlayer   *self);
void               iov_player_set_position (IovPlayer   *self,
                                            int          position);
void               iov_player_step         (IovPlayer   *self,
                                            int          delta);
gboolean           iov_player_get_playing  (IovPlayer   *self);
void               iov_player_set_playing  (IovPlayer   *self,
                                            gboolean     playing);
GtkWidget         *iov_player_get_range_map (IovPlayer  *self);
GtkWidget         *iov_player_get_lanes    (IovPlayer   *self);
/* The scenario editor (Edit): shows the scenario's JSON and re-runs it as
 * it changes. */
GtkWidget         *iov_player_get_editor   (IovPlayer   *self);
void               iov_player_set_editing  (IovPlayer   *self,
                                            gboolean     editing);

G_END_DECLS
