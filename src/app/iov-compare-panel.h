/* iov-compare-panel.h — a trace replayed under every release: what each did
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

#include "iov-compare-run.h"

G_BEGIN_DECLS

#define IOV_TYPE_COMPARE_PANEL (iov_compare_panel_get_type ())

G_DECLARE_FINAL_TYPE (IovComparePanel, iov_compare_panel, IOV, COMPARE_PANEL, GtkBox)

/* The sentence of iov_compare_headline() for the shown event, and a grid:
 * a row per run of releases that did the same, a column per notifier. */
GtkWidget     *iov_compare_panel_new            (void);
/* Takes @run; NULL: none. */
void           iov_compare_panel_set_run        (IovComparePanel *self,
                                                 IovCompareRun   *run);
IovCompareRun *iov_compare_panel_get_run        (IovComparePanel *self);
void           iov_compare_panel_set_busy       (IovComparePanel *self,
                                                 const char      *message);
/* Shows what the releases did with store event @event (G_MAXUINT64: the
 * first difference). */
void           iov_compare_panel_show_event     (IovComparePanel *self,
                                                 guint64          event);
/* The event of the first divergence or abort after @event, from the start
 * again after the last; G_MAXUINT64 when there is none. */
guint64        iov_compare_panel_next_difference (IovComparePanel *self,
                                                  guint64          event);
/* The events where releases differ or abort, in order (for the marks). */
GArray        *iov_compare_panel_dup_difference_events (IovComparePanel *self,
                                                        GArray         **aborts);
char          *iov_compare_panel_dup_headline   (IovComparePanel *self);
/* The grid as text, a row per line, cells separated by tabs. */
char          *iov_compare_panel_dup_grid_text  (IovComparePanel *self);

GHashTable *iov_compare_panel_get_release_outcomes (IovComparePanel *self);
char       *iov_compare_panel_dup_assumptions (IovComparePanel *self);

G_END_DECLS
