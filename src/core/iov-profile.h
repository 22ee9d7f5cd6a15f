/* iov-profile.h — QEMU releases as rows of facts
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

/* One QEMU release line (MAJOR.MINOR), or Debian 12's 7.2 with its
 * backports: a row of facts read from that release's source. The engine
 * has one implementation of each rule; a row only says which applies, so
 * a new release is a new row. */
typedef struct
{
  const char   *id;          /* "qemu-MAJOR.MINOR", "debian-7.2" */
  const char   *label;
  const char   *versions;    /* the releases the row stands for */
  const char   *checked;     /* what the row was checked against */
  guint8        major;
  guint8        minor;
  IovEra        era;
  IovVhostRule  vhost;
  guint         default_aw_bits;

  /* VT-d */
  guint         vtd_refusals : 1;          /* 8.0, 7.2.1+: MAP needs CM, DEVIOTLB needs DT */
  guint         vtd_cm_exit_at_init : 1;   /* ≤10.1: a coldplugged vfio-pci without CM exits at machine done */
  guint         vtd_cm_realize_fails : 1;  /* 10.2+: vfio-pci without CM fails to realize */
  guint         vtd_sync_unmap_range : 1;  /* 8.0+: DSI/global send whole-range UNMAPs */
  guint         vtd_replay_8_1 : 1;        /* 8.1+: replay sends no UNMAPs, walks if n has MAP */
  guint         snoop_control : 1;         /* 7.0+ has the property */

  /* Other IOMMUs */
  guint         virtio_notifies : 1;       /* 5.2+ */
  guint         virtio_split : 1;          /* 6.0+: UNMAP requests in power-of-two pieces */
  guint         amd_notifies : 1;          /* 10.2+: only with dma-remap=on */
  guint         virtio_split_map : 1;      /* 7.1+: MAP requests too */

  /* Evidence a trace of this release can carry. */
  guint         trace_vhost_user : 1;      /* vhost_user_write/read: 7.1+ */
  const char   *trace_vhost_start;         /* vhost_dev_start (7.2+), _in (11.1); NULL: none */

  /* What error_setg_errno(errp, ENOTSUP, …) appends to a refusal
   * ("" where QEMU uses plain error_setg). */
  const char   *vtd_errno_text;
  const char   *amd_errno_text;

  /* Where QEMU's assertions live, as the build prints them (__FILE__):
   * 0 where the release has no such assertion or the line is unknown. */
  const char   *memory_c;
  guint         containment_line;
  guint         unmap_perm_line;
  const char   *intel_iommu_c;
  guint         unmap_start_end_line;
  guint         unmap_remain_line;
  const char   *build;       /* NULL: the row as listed; "Debian": a Debian build's paths */
} IovProfile;

const IovProfile  *iov_profile_lookup       (const char  *id);
const IovProfile **iov_profile_list         (guint       *n_profiles);
/* The row of a running QEMU (the QMP greeting's version and package),
 * with the Debian build's source paths when @package says so. */
const IovProfile  *iov_profile_for_version  (int          major,
                                             int          minor,
                                             int          micro,
                                             const char  *package);
/* @profile as the build @package names prints its paths: the row itself
 * unless @package is a Debian build whose prefix differs. */
const IovProfile  *iov_profile_for_package  (const IovProfile *profile,
                                             const char       *package);
const char        *iov_profile_notify_function (const IovProfile *profile);
/* Whether two rows model the same behaviour (paths, lines and texts aside). */
gboolean           iov_profile_same_rules   (const IovProfile *a,
                                             const IovProfile *b);

/* Whether virtio-iommu cuts a MAP (@map) or UNMAP request into naturally
 * aligned power-of-two pieces (hw/virtio/virtio-iommu.c: UNMAP from 6.0,
 * MAP from 7.1). */
static inline gboolean
iov_profile_virtio_splits (const IovProfile *profile,
                           gboolean          map)
{
  return map ? profile->virtio_split_map : profile->virtio_split;
}

G_END_DECLS
