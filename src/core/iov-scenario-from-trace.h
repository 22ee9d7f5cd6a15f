/* iov-scenario-from-trace.h — a recording turned into a what-if scenario
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

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Steps beyond this are dropped, with a note in the scenario's summary. */
#define IOV_SCENARIO_FROM_TRACE_MAX_STEPS 10000

/* Builds the text of a low-level scenario (data/scenarios/README.md):
 * "iommu" from the snapshot's iommu.type, "notifiers" from the
 * address_spaces[].notifiers of the device that has some (or the first),
 * in registration order, "profile" from the snapshot's QEMU version, and
 * "steps" from the invalidations observed in @trace (raw trace lines):
 * device-IOTLB descriptors, page-selective IOTLB invalidations and
 * virtio-iommu UNMAPs (one step per power-of-two chunk when the profile
 * splits).  @n_steps, when given, receives the number of steps. */
char *iov_scenario_from_trace (JsonNode    *snapshot,
                               const char  *trace,
                               gssize       trace_len,
                               const char  *name,
                               guint       *n_steps,
                               GError     **error);

G_END_DECLS
