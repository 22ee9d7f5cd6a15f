/* iov-traffic-panel.h — IOTLB traffic per device in plain words (issue L)
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

#include "iov-traffic.h"

G_BEGIN_DECLS

#define IOV_TYPE_TRAFFIC_PANEL (iov_traffic_panel_get_type ())

G_DECLARE_FINAL_TYPE (IovTrafficPanel, iov_traffic_panel, IOV, TRAFFIC_PANEL, GtkWidget)

GtkWidget *iov_traffic_panel_new          (void);
/* Borrowed: @traffic must outlive the panel, or be unset first. */
void       iov_traffic_panel_set_traffic  (IovTrafficPanel *self,
                                           IovTraffic      *traffic);
/* A BDF, or %NULL for every device with traffic and what is unattributed. */
void       iov_traffic_panel_set_device   (IovTrafficPanel *self,
                                           const char      *bdf);
/* A sentence on the selected device's IOVA mappings (the timeline's span),
 * said after the traffic; %NULL for none. */
void       iov_traffic_panel_set_mappings (IovTrafficPanel *self,
                                           const char      *text);
/* The figures changed (more lines were read): says them again. */
void       iov_traffic_panel_update       (IovTrafficPanel *self);
/* Everything the panel says, a line a paragraph. */
char      *iov_traffic_panel_get_text     (IovTrafficPanel *self);

G_END_DECLS
