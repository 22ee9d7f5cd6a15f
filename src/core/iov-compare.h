/* iov-compare.h
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

#include <json-glib/json-glib.h>

#include "iov-inference.h"
#include "iov-profile.h"

G_BEGIN_DECLS

/* One real trace replayed under several QEMU releases (issue K): "would
 * 5.2 have crashed on my VM?". Each release gets the topology of the
 * snapshot with its own notifier-flag rule applied to the guest facts the
 * trace shows; releases that behave alike share one pass. */
typedef struct _IovCompare IovCompare;

/* @profiles: NULL for every row of the release table */
IovCompare *iov_compare_new    (JsonNode          *snapshot,
                                const IovProfile **profiles,
                                guint              n_profiles,
                                GError           **error);
void        iov_compare_free   (IovCompare        *self);

void        iov_compare_feed   (IovCompare        *self,
                                guint64            ts_ns,
                                guint64            line,
                                const char        *name,
                                const char        *args,
                                gsize              args_len);
void        iov_compare_finish (IovCompare        *self);

/* {"profiles": {ID: {…}}, "assumptions": […], "divergences": […], "n_divergences": N} */
JsonNode   *iov_compare_to_json (IovCompare       *self);

guint       iov_compare_get_n_passes (IovCompare  *self);
GArray     *iov_compare_get_divergence_lines (IovCompare *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovCompare, iov_compare_free)

G_END_DECLS
