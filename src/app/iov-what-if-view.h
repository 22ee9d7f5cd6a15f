/* iov-what-if-view.h — one scenario under 2–4 QEMU versions, side by side
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

#include "iov-scenario.h"

G_BEGIN_DECLS

#define IOV_TYPE_WHAT_IF_VIEW (iov_what_if_view_get_type ())

G_DECLARE_FINAL_TYPE (IovWhatIfView, iov_what_if_view, IOV, WHAT_IF_VIEW, GtkWidget)

GtkWidget *iov_what_if_view_new                (void);
/* Borrows @scenario: call again (or with NULL) before it is freed. */
void       iov_what_if_view_set_scenario       (IovWhatIfView      *self,
                                                const IovScenario  *scenario);
/* Two to four profile ids; FALSE (and no change) otherwise. */
gboolean   iov_what_if_view_set_profiles       (IovWhatIfView      *self,
                                                const char * const *profile_ids);
guint      iov_what_if_view_get_n_columns      (IovWhatIfView      *self);
/* The column's outcome word at the current step, and whether it stands
 * out from the other columns. */
const char *iov_what_if_view_get_column_outcome (IovWhatIfView     *self,
                                                 guint              column,
                                                 gboolean          *differs);
int        iov_what_if_view_get_position       (IovWhatIfView      *self);
void       iov_what_if_view_set_position       (IovWhatIfView      *self,
                                                int                 position);
/* Moves to the next step where the chosen versions' outcomes differ;
 * FALSE when there is none after the current one. */
gboolean   iov_what_if_view_next_difference    (IovWhatIfView      *self);
void       iov_what_if_view_set_playing        (IovWhatIfView      *self,
                                                gboolean            playing);

G_END_DECLS
