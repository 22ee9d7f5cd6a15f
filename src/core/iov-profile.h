/* iov-profile.h
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

#include <glib.h>

G_BEGIN_DECLS

/* How memory_region_notify_iommu_one() treats a notifier (reference §2). */
typedef enum
{
  IOV_ERA_5_0,   /* ≤5.2: type from perm, containment assert */
  IOV_ERA_6_0,   /* 6.0–10.1: crop only for DEVIOTLB_UNMAP notifiers */
  IOV_ERA_10_2,  /* 10.2+: always crop */
} IovEra;

/* Which flag vhost_iommu_region_add() registers with (reference §3). */
typedef enum
{
  IOV_VHOST_UNMAP,           /* ≤5.2 */
  IOV_VHOST_TRY_DEVIOTLB,    /* 6.0–7.2.4, 8.0: DEVIOTLB_UNMAP, UNMAP if refused */
  IOV_VHOST_BY_ATS,          /* 7.2.5+, 8.1+: by the guest's ATS enable bit */
} IovVhostRule;

typedef struct
{
  const char   *id;
  const char   *label;
  const char   *versions;
  IovEra        era;
  IovVhostRule  vhost;
  guint         default_aw_bits;

  /* VT-d */
  guint         vtd_refusals : 1;          /* 8.0, 7.2.1+: MAP needs CM, DEVIOTLB needs DT */
  guint         vtd_cm_exit_at_init : 1;   /* ≤7.2.0: vfio without CM exits at machine done */
  guint         vtd_sync_unmap_range : 1;  /* 8.0+: DSI/global send whole-range UNMAPs */
  guint         vtd_replay_8_1 : 1;        /* 8.1+: replay sends no UNMAPs, walks if n has MAP */
  guint         snoop_control : 1;         /* 7.0+ has the property */

  /* Other IOMMUs */
  guint         virtio_notifies : 1;       /* 5.2+ */
  guint         virtio_split : 1;          /* 6.0+: power-of-two split */
  guint         amd_notifies : 1;          /* 10.2+ */

  /* Where QEMU's assertions live, for messages as QEMU prints them. */
  const char   *memory_c;
  guint         containment_line;
  guint         unmap_perm_line;
  const char   *intel_iommu_c;
  guint         unmap_start_end_line;
  guint         unmap_remain_line;
} IovProfile;

const IovProfile  *iov_profile_lookup       (const char  *id);
const IovProfile **iov_profile_list         (guint       *n_profiles);
const IovProfile  *iov_profile_for_version  (int          major,
                                             int          minor,
                                             int          micro,
                                             const char  *package);
const char        *iov_profile_notify_function (const IovProfile *profile);

G_END_DECLS
