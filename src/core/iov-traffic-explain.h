/* iov-traffic-explain.h — IOTLB traffic in plain words (issue L)
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

#include "iov-traffic.h"

G_BEGIN_DECLS

/* What the figures of @device (a BDF, or %NULL for what could not be
 * attributed) show, one sentence an element; empty without traffic. */
GPtrArray *iov_traffic_describe (IovTraffic *self,
                                 const char *device);
/* Advice, only where a figure of @device supports it: none for a device
 * without misses (nothing to say about the guest's IOMMU mode then), and
 * never a setting to change without saying how to check it. */
GPtrArray *iov_traffic_advise   (IovTraffic *self,
                                 const char *device);

G_END_DECLS
