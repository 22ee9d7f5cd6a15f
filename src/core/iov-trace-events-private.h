/* iov-trace-events-private.h
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

#include "iov-trace-events.h"

G_BEGIN_DECLS

/* trace-events lines of the IOMMU-related events, NULL-terminated. */
extern const char * const iov_trace_events_builtin[];

G_END_DECLS
