/* iov-profile.c
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

#define G_LOG_DOMAIN "iov-profile"

#include "config.h"

#include <string.h>

#include "iov-profile.h"

/* A profile is data: which rule of each kind QEMU applied in that release
 * (reference §0.4, §9). The engine has one implementation of each rule.
 * Source lines are those of the upstream tag; distribution builds differ. */
static const IovProfile profiles[] = {
  {
    .id = "qemu-5.0", .label = "QEMU 5.0", .versions = "5.0, 5.1",
    .era = IOV_ERA_5_0, .vhost = IOV_VHOST_UNMAP, .default_aw_bits = 39,
    .vtd_cm_exit_at_init = TRUE,
    .memory_c = "memory.c", .containment_line = 1918,
    .intel_iommu_c = "hw/i386/intel_iommu.c",
  },
  {
    .id = "qemu-5.2", .label = "QEMU 5.2", .versions = "5.2",
    .era = IOV_ERA_5_0, .vhost = IOV_VHOST_UNMAP, .default_aw_bits = 39,
    .vtd_cm_exit_at_init = TRUE,
    .virtio_notifies = TRUE,
    .memory_c = "../softmmu/memory.c", .containment_line = 1959,
    .intel_iommu_c = "../hw/i386/intel_iommu.c",
  },
  {
    .id = "qemu-6.0", .label = "QEMU 6.0", .versions = "6.0 – 7.2",
    .era = IOV_ERA_6_0, .vhost = IOV_VHOST_TRY_DEVIOTLB, .default_aw_bits = 39,
    .vtd_cm_exit_at_init = TRUE,
    .virtio_notifies = TRUE, .virtio_split = TRUE,
    .memory_c = "../softmmu/memory.c", .containment_line = 1974,
    .intel_iommu_c = "../hw/i386/intel_iommu.c",
  },
  {
    .id = "debian-7.2", .label = "Debian 12 (QEMU 7.2)", .versions = "Debian 1:7.2+dfsg",
    .era = IOV_ERA_6_0, .vhost = IOV_VHOST_BY_ATS, .default_aw_bits = 39,
    .vtd_refusals = TRUE, .snoop_control = TRUE,
    .virtio_notifies = TRUE, .virtio_split = TRUE,
    .memory_c = "../softmmu/memory.c", .containment_line = 1991,
    .intel_iommu_c = "../hw/i386/intel_iommu.c",
  },
  {
    .id = "qemu-8.0", .label = "QEMU 8.0", .versions = "8.0",
    .era = IOV_ERA_6_0, .vhost = IOV_VHOST_TRY_DEVIOTLB, .default_aw_bits = 39,
    .vtd_refusals = TRUE, .vtd_sync_unmap_range = TRUE, .snoop_control = TRUE,
    .virtio_notifies = TRUE, .virtio_split = TRUE,
    .memory_c = "../softmmu/memory.c",
    .intel_iommu_c = "../hw/i386/intel_iommu.c",
  },
  {
    .id = "qemu-8.1", .label = "QEMU 8.1", .versions = "8.1 – 10.1",
    .era = IOV_ERA_6_0, .vhost = IOV_VHOST_BY_ATS, .default_aw_bits = 39,
    .vtd_refusals = TRUE, .vtd_sync_unmap_range = TRUE, .vtd_replay_8_1 = TRUE,
    .snoop_control = TRUE,
    .virtio_notifies = TRUE, .virtio_split = TRUE,
    .memory_c = "../softmmu/memory.c", .containment_line = 2010,
    .intel_iommu_c = "../hw/i386/intel_iommu.c",
  },
  {
    .id = "qemu-10.2", .label = "QEMU 10.2", .versions = "10.2 and later",
    .era = IOV_ERA_10_2, .vhost = IOV_VHOST_BY_ATS, .default_aw_bits = 48,
    .vtd_refusals = TRUE, .vtd_sync_unmap_range = TRUE, .vtd_replay_8_1 = TRUE,
    .snoop_control = TRUE,
    .virtio_notifies = TRUE, .virtio_split = TRUE, .amd_notifies = TRUE,
    .memory_c = "../system/memory.c",
    .intel_iommu_c = "../hw/i386/intel_iommu.c",
  },
};

const IovProfile *
iov_profile_lookup (const char *id)
{
  for (guint i = 0; i < G_N_ELEMENTS (profiles); i++)
    if (g_strcmp0 (profiles[i].id, id) == 0)
      return &profiles[i];
  return NULL;
}

const IovProfile **
iov_profile_list (guint *n_profiles)
{
  static const IovProfile *list[G_N_ELEMENTS (profiles) + 1];

  if (list[0] == NULL)
    for (guint i = 0; i < G_N_ELEMENTS (profiles); i++)
      list[i] = &profiles[i];

  if (n_profiles)
    *n_profiles = G_N_ELEMENTS (profiles);
  return list;
}

const IovProfile *
iov_profile_for_version (int         major,
                         int         minor,
                         int         micro,
                         const char *package)
{
  int v = major * 100 + minor;

  if (v < 502)
    return iov_profile_lookup ("qemu-5.0");
  if (v < 600)
    return iov_profile_lookup ("qemu-5.2");
  if (v < 800)
    {
      if (v == 702 && package != NULL && strstr (package, "Debian") != NULL)
        return iov_profile_lookup ("debian-7.2");
      return iov_profile_lookup ("qemu-6.0");
    }
  if (v < 801)
    return iov_profile_lookup ("qemu-8.0");
  if (v < 1002)
    return iov_profile_lookup ("qemu-8.1");
  return iov_profile_lookup ("qemu-10.2");
}

const char *
iov_profile_notify_function (const IovProfile *profile)
{
  return profile->era == IOV_ERA_5_0 ? "memory_region_notify_one" : "memory_region_notify_iommu_one";
}
