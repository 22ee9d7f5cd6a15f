/* iov-live-view-private.h
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
#include <json-glib/json-glib.h>

#include "iov-inference.h"

G_BEGIN_DECLS

/* The live view talks to the map and the lanes through these, in terms of
 * the snapshot's JSON: the same in a live session and in a recording. */

void _iov_live_view_map_ensure_types   (void);
void _iov_live_view_map_show_space     (GtkWidget         *range_map,
                                        GtkWidget         *lanes,
                                        JsonObject        *entry,
                                        const char        *title,
                                        const char        *subtitle,
                                        guint              aw_bits);
void _iov_live_view_map_show_deliveries (GtkWidget        *range_map,
                                         GtkWidget        *lanes,
                                         const IovDelivery *deliveries,
                                         guint             n_deliveries,
                                         gboolean          animate);

G_END_DECLS
