/* iov-profile.c — QEMU releases as rows of facts
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

#include <stdio.h>
#include <string.h>

#include "iov-profile.h"

/* One row per release line (reference §12, which wins over §0.4 and §9).
 * Each fact was read in that release's source (the commit that bumps
 * VERSION to MAJOR.MINOR.0) unless the row's "checked" says otherwise; the
 * assertion sites are the lines of assert() in memory_region_notify_one /
 * memory_region_notify_iommu_one and vtd_address_space_unmap, as the build
 * prints __FILE__ (meson builds from 5.2 on: "../DIR/FILE"). */

#define ERRNO_ENOTSUP ": Operation not supported"

/* Behaviour shared by consecutive releases (no row overrides a field). */
#define ERRNO(vtd, amd) .vtd_errno_text = vtd, .amd_errno_text = amd
#define VIRTIO_7_1 .virtio_notifies = TRUE, .virtio_split = TRUE, .virtio_split_map = TRUE
#define FROM_8_1 \
  .vhost = IOV_VHOST_BY_ATS, VIRTIO_7_1, .snoop_control = TRUE, .trace_vhost_user = TRUE, \
  .vtd_refusals = TRUE, .vtd_sync_unmap_range = TRUE, .vtd_replay_8_1 = TRUE
#define RULES_5(virtio) \
  .era = IOV_ERA_5_0, .vhost = IOV_VHOST_UNMAP, .default_aw_bits = 39, .vtd_cm_exit_at_init = TRUE, \
  .virtio_notifies = virtio, ERRNO ("", "")
#define RULES_6(snoop, vtd_errno) \
  .era = IOV_ERA_6_0, .vhost = IOV_VHOST_TRY_DEVIOTLB, .default_aw_bits = 39, .vtd_cm_exit_at_init = TRUE, \
  .virtio_notifies = TRUE, .virtio_split = TRUE, .snoop_control = snoop, ERRNO (vtd_errno, "")
#define RULES_7_1(vhost_rule, start, refusals, sync) \
  .era = IOV_ERA_6_0, .vhost = vhost_rule, .default_aw_bits = 39, .vtd_cm_exit_at_init = TRUE, VIRTIO_7_1, \
  .snoop_control = TRUE, .trace_vhost_user = TRUE, .trace_vhost_start = start, .vtd_refusals = refusals, \
  .vtd_sync_unmap_range = sync, ERRNO (ERRNO_ENOTSUP, "")
#define RULES_8_1(aw) \
  FROM_8_1, .era = IOV_ERA_6_0, .default_aw_bits = aw, .vtd_cm_exit_at_init = TRUE, \
  .trace_vhost_start = "vhost_dev_start", ERRNO (ERRNO_ENOTSUP, "")
#define RULES_10_2(start) \
  FROM_8_1, .era = IOV_ERA_10_2, .default_aw_bits = 48, .vtd_cm_realize_fails = TRUE, .amd_notifies = TRUE, \
  .trace_vhost_start = start, ERRNO (ERRNO_ENOTSUP, ERRNO_ENOTSUP)

#define SOFTMMU  "../softmmu/memory.c"
#define SYSTEM   "../system/memory.c"
#define VTD      "../hw/i386/intel_iommu.c"

static const IovProfile profiles[] = {
  {
    .id = "qemu-5.0", .label = "QEMU 5.0", .versions = "5.0", .major = 5, .minor = 0, RULES_5 (FALSE),
    .checked = "v5.0.0 source (fdd76fecdd)",
    .memory_c = "memory.c", .containment_line = 1918,
    .intel_iommu_c = "hw/i386/intel_iommu.c", .unmap_start_end_line = 3480, .unmap_remain_line = 3502,
  },
  {
    .id = "qemu-5.1", .label = "QEMU 5.1", .versions = "5.1", .major = 5, .minor = 1, RULES_5 (FALSE),
    .checked = "v5.1.0 source (d0ed6a69d3)",
    .memory_c = "softmmu/memory.c", .containment_line = 1907,
    .intel_iommu_c = "hw/i386/intel_iommu.c", .unmap_start_end_line = 3485, .unmap_remain_line = 3507,
  },
  {
    .id = "qemu-5.2", .label = "QEMU 5.2", .versions = "5.2", .major = 5, .minor = 2, RULES_5 (TRUE),
    .checked = "v5.2.0 source (553032db17); Debian 11's 1:5.2+dfsg-11+deb11u5 binary: the same assertion "
               "lines, and the 2020 crash reproduced on it (3 runs of 3)",
    .memory_c = SOFTMMU, .containment_line = 1959,
    .intel_iommu_c = VTD, .unmap_start_end_line = 3484, .unmap_remain_line = 3506,
  },
  {
    .id = "qemu-6.0", .label = "QEMU 6.0", .versions = "6.0", .major = 6, .minor = 0, RULES_6 (FALSE, ""),
    .checked = "v6.0.0 source (609d759652)",
    .memory_c = SOFTMMU, .containment_line = 1974, .unmap_perm_line = 1958,
    .intel_iommu_c = VTD, .unmap_start_end_line = 3482, .unmap_remain_line = 3506,
  },
  {
    .id = "qemu-6.1", .label = "QEMU 6.1", .versions = "6.1", .major = 6, .minor = 1, RULES_6 (FALSE, ""),
    .checked = "v6.1.0 source (f9baca549e)",
    .memory_c = SOFTMMU, .containment_line = 1975, .unmap_perm_line = 1959,
    .intel_iommu_c = VTD, .unmap_start_end_line = 3480, .unmap_remain_line = 3504,
  },
  {
    .id = "qemu-6.2", .label = "QEMU 6.2", .versions = "6.2", .major = 6, .minor = 2, RULES_6 (FALSE, ""),
    .checked = "v6.2.0 source (44f28df247)",
    .memory_c = SOFTMMU, .containment_line = 1980, .unmap_perm_line = 1964,
    .intel_iommu_c = VTD, .unmap_start_end_line = 3480, .unmap_remain_line = 3504,
  },
  {
    /* 7.0 passes -ENOTSUP to error_setg_errno(): strerror(-95) (fixed in
     * 7.1 by 250227f4fa). */
    .id = "qemu-7.0", .label = "QEMU 7.0", .versions = "7.0", .major = 7, .minor = 0,
    RULES_6 (TRUE, ": Unknown error -95"),
    .checked = "v7.0.0 source (823a3f11fb)",
    .memory_c = SOFTMMU, .containment_line = 1990, .unmap_perm_line = 1974,
    .intel_iommu_c = VTD, .unmap_start_end_line = 3502, .unmap_remain_line = 3526,
  },
  {
    .id = "qemu-7.1", .label = "QEMU 7.1", .versions = "7.1", .major = 7, .minor = 1,
    RULES_7_1 (IOV_VHOST_TRY_DEVIOTLB, NULL, FALSE, FALSE),
    .checked = "v7.1.0 source (621da77890)",
    .memory_c = SOFTMMU, .containment_line = 1990, .unmap_perm_line = 1974,
    .intel_iommu_c = VTD, .unmap_start_end_line = 3533, .unmap_remain_line = 3557,
  },
  {
    .id = "qemu-7.2", .label = "QEMU 7.2", .versions = "7.2.0–7.2.4", .major = 7, .minor = 2,
    RULES_7_1 (IOV_VHOST_TRY_DEVIOTLB, "vhost_dev_start", FALSE, FALSE),
    .checked = "v7.2.0 source (b67b00e6b4); 7.2.1–7.2.4 add 8.0's VT-d refusals (v7.2.1), not modelled here",
    .memory_c = SOFTMMU, .containment_line = 1991, .unmap_perm_line = 1975,
    .intel_iommu_c = VTD, .unmap_start_end_line = 3742, .unmap_remain_line = 3766,
  },
  {
    /* 7.2.0 plus the stable branch, as debian/patches/v7.2.N.diff apply it:
     * v7.2.1's VT-d refusals, v7.2.5's vhost flag by ATS
     * (vhost_toggle_device_iotlb); not 8.0's vtd_address_space_sync, not
     * 8.1's replay, and the containment assertion stays. */
    .id = "debian-7.2", .label = "Debian 12's QEMU 7.2", .versions = "7.2.5–7.2.22, as Debian 12 ships it",
    .major = 7, .minor = 2, RULES_7_1 (IOV_VHOST_BY_ATS, "vhost_dev_start", TRUE, FALSE),
    .checked = "Debian's source package 1:7.2+dfsg-7+deb12u18 (7.2.0 with the v7.2.1…v7.2.22 stable diffs "
               "applied) and its 7.2.22 binary (deb12u18+b3): assertion lines read off the binary",
    .memory_c = "../../softmmu/memory.c", .containment_line = 1979, .unmap_perm_line = 1963,
    .intel_iommu_c = "../../hw/i386/intel_iommu.c", .unmap_start_end_line = 3762, .unmap_remain_line = 3786,
    .build = "Debian",
  },
  {
    .id = "qemu-8.0", .label = "QEMU 8.0", .versions = "8.0", .major = 8, .minor = 0,
    RULES_7_1 (IOV_VHOST_TRY_DEVIOTLB, "vhost_dev_start", TRUE, TRUE),
    .checked = "v8.0.0 source (c1eb2ddf0f)",
    .memory_c = SOFTMMU, .containment_line = 1991, .unmap_perm_line = 1975,
    .intel_iommu_c = VTD, .unmap_start_end_line = 3761, .unmap_remain_line = 3785,
  },
  {
    .id = "qemu-8.1", .label = "QEMU 8.1", .versions = "8.1", .major = 8, .minor = 1, RULES_8_1 (39),
    .checked = "v8.1.0 source (7e5a8bb223)",
    .memory_c = SOFTMMU, .containment_line = 2010, .unmap_perm_line = 1994,
    .intel_iommu_c = VTD, .unmap_start_end_line = 3767, .unmap_remain_line = 3791,
  },
  {
    .id = "qemu-8.2", .label = "QEMU 8.2", .versions = "8.2", .major = 8, .minor = 2, RULES_8_1 (39),
    .checked = "v8.2.0 source (1600b9f46b)",
    .memory_c = SYSTEM, .containment_line = 2011, .unmap_perm_line = 1995,
    .intel_iommu_c = VTD, .unmap_start_end_line = 3838, .unmap_remain_line = 3862,
  },
  {
    .id = "qemu-9.0", .label = "QEMU 9.0", .versions = "9.0", .major = 9, .minor = 0, RULES_8_1 (39),
    .checked = "v9.0.0 source (c25df57ae8)",
    .memory_c = SYSTEM, .containment_line = 2027, .unmap_perm_line = 2011,
    .intel_iommu_c = VTD, .unmap_start_end_line = 3838, .unmap_remain_line = 3862,
  },
  {
    .id = "qemu-9.1", .label = "QEMU 9.1", .versions = "9.1", .major = 9, .minor = 1, RULES_8_1 (39),
    .checked = "v9.1.0 source (fd1952d814)",
    .memory_c = SYSTEM, .containment_line = 2006, .unmap_perm_line = 1990,
    .intel_iommu_c = VTD, .unmap_start_end_line = 3955, .unmap_remain_line = 3979,
  },
  {
    .id = "qemu-9.2", .label = "QEMU 9.2", .versions = "9.2", .major = 9, .minor = 2, RULES_8_1 (39),
    .checked = "v9.2.0 source (ae35f033b8)",
    .memory_c = SYSTEM, .containment_line = 2038, .unmap_perm_line = 2022,
    .intel_iommu_c = VTD, .unmap_start_end_line = 4001, .unmap_remain_line = 4025,
  },
  {
    /* VTD_HOST_ADDRESS_WIDTH 48 (ddd84fd0c1); pc machine types up to 9.1
     * keep aw-bits=39 through pc_compat_9_1. */
    .id = "qemu-10.0", .label = "QEMU 10.0", .versions = "10.0",
    .major = 10, .minor = 0, RULES_8_1 (48),
    .checked = "v10.0.0 source (7c949c53e9); Debian's 10.0.2 binary (1:10.0.2+ds-2+deb13u1~bpo12+1): the same "
               "assertion lines; aw-bits 48 (ddd84fd0c1) except on machine types up to 9.1 (39)",
    .memory_c = SYSTEM, .containment_line = 2038, .unmap_perm_line = 2022,
    .intel_iommu_c = VTD, .unmap_start_end_line = 4423, .unmap_remain_line = 4447,
  },
  {
    .id = "qemu-10.1", .label = "QEMU 10.1", .versions = "10.1",
    .major = 10, .minor = 1, RULES_8_1 (48),
    .checked = "v10.1.0 source (f8b2f64e23); aw-bits 48 except on machine types up to 9.1 (39)",
    .memory_c = SYSTEM, .containment_line = 2031, .unmap_perm_line = 2015,
    .intel_iommu_c = VTD, .unmap_start_end_line = 4449, .unmap_remain_line = 4473,
  },
  {
    .id = "qemu-10.2", .label = "QEMU 10.2", .versions = "10.2", .major = 10, .minor = 2,
    RULES_10_2 ("vhost_dev_start"),
    .checked = "v10.2.0 source (698104725e)",
    .memory_c = SYSTEM, .unmap_perm_line = 2037,
    .intel_iommu_c = VTD, .unmap_start_end_line = 4720, .unmap_remain_line = 4744,
  },
  {
    .id = "qemu-11.0", .label = "QEMU 11.0", .versions = "11.0", .major = 11, .minor = 0,
    RULES_10_2 ("vhost_dev_start"),
    .checked = "master ece408818d (10.2.50, 11.0-dev; nothing in dispatch changed since 10.2); the 11.0 "
               "release itself was not read, so no assertion lines",
    .memory_c = SYSTEM, .intel_iommu_c = VTD,
  },
  {
    .id = "qemu-11.1", .label = "QEMU 11.1", .versions = "11.1", .major = 11, .minor = 1,
    RULES_10_2 ("vhost_dev_start_in"),
    .checked = "rules of master ece408818d (11.0-dev); behaviour observed on Debian's 11.1.3 (1:11.1.3+ds-1): "
               "vhost_dev_start_in/_out, assertion lines read off that binary (11.1's source was not read)",
    .memory_c = SYSTEM, .unmap_perm_line = 1981,
    .intel_iommu_c = VTD, .unmap_start_end_line = 4899, .unmap_remain_line = 4923,
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

/* ------------------------------------------------------------------------
 * Builds: the same row with the paths a distribution's build prints
 */

typedef enum
{
  PATHS_UPSTREAM,        /* "../softmmu/memory.c": meson in build/ */
  PATHS_DEBIAN_SUBDIR,   /* "../../softmmu/memory.c": Debian builds in b/qemu */
  PATHS_DEBIAN_STRIPPED, /* "softmmu/memory.c": … with -ffile-prefix-map=../../= */
  N_PATHS
} Paths;

static const char *const path_prefix[N_PATHS] = { "../", "../../", "" };

/* Debian's package string, "Debian 1:8.0.2+dfsg-3", read as its upstream
 * version and the revision's leading number. */
static gboolean
parse_debian_package (const char *package,
                      int        *version,
                      int        *micro,
                      int        *revision)
{
  const char *p, *dash;
  int major = 0, minor = 0;

  if (package == NULL || !g_str_has_prefix (package, "Debian "))
    return FALSE;
  p = package + strlen ("Debian ");
  if (strchr (p, ':') != NULL)
    p = strchr (p, ':') + 1;
  *micro = 0;
  *revision = 0;
  if (sscanf (p, "%d.%d.%d", &major, &minor, micro) < 2)
    return FALSE;
  *version = major * 100 + minor;
  dash = strchr (p, '-');
  if (dash != NULL)
    sscanf (dash + 1, "%d", revision);
  return TRUE;
}

static Paths
paths_of_package (const IovProfile *row,
                  const char       *package)
{
  int version, micro, revision;

  if (!parse_debian_package (package, &version, &micro, &revision))
    return PATHS_UPSTREAM;
  /* Debian builds in b/qemu, so meson hands the compiler "../../FILE";
   * 1:8.0.2+dfsg-3 added -ffile-prefix-map=../../= (debian/rules and
   * debian/changelog of sid's 10.2.2 source). Observed: 5.2 and 7.2 print
   * "../../softmmu/memory.c", 10.0 and 11.1 "system/memory.c". */
  if (row->major * 100 + row->minor < 800)
    return PATHS_DEBIAN_SUBDIR;
  if (row->major * 100 + row->minor > 800 || micro > 2 || (micro == 2 && revision >= 3))
    return PATHS_DEBIAN_STRIPPED;
  return PATHS_DEBIAN_SUBDIR;
}

static Paths
paths_of_row (const IovProfile *row)
{
  if (g_str_has_prefix (row->memory_c, "../../"))
    return PATHS_DEBIAN_SUBDIR;
  if (g_str_has_prefix (row->memory_c, "../"))
    return PATHS_UPSTREAM;
  return PATHS_DEBIAN_STRIPPED;
}

static const char *
source_path (const char *path)
{
  while (g_str_has_prefix (path, "../"))
    path += 3;
  return path;
}

const IovProfile *
iov_profile_for_package (const IovProfile *profile,
                         const char       *package)
{
  static IovProfile *variants[G_N_ELEMENTS (profiles)][N_PATHS];
  G_LOCK_DEFINE_STATIC (variants);
  const IovProfile *row;
  IovProfile *v;
  guint index;
  Paths paths;

  g_return_val_if_fail (profile != NULL, NULL);

  row = iov_profile_lookup (profile->id);
  /* 5.0 and 5.1 were make builds: what their packages printed is unknown. */
  if (row == NULL || row->major * 100 + row->minor < 502)
    return profile;
  paths = paths_of_package (row, package);
  if (paths == paths_of_row (row))
    return row;

  index = row - profiles;
  G_LOCK (variants);
  v = variants[index][paths];
  if (v == NULL)
    {
      /* Built once per row and build, kept for the program's life. */
      v = g_new (IovProfile, 1);
      *v = *row;
      v->memory_c = g_strconcat (path_prefix[paths], source_path (row->memory_c), NULL);
      v->intel_iommu_c = g_strconcat (path_prefix[paths], source_path (row->intel_iommu_c), NULL);
      v->build = paths == PATHS_UPSTREAM ? NULL : "Debian";
      variants[index][paths] = v;
    }
  G_UNLOCK (variants);
  return v;
}

const IovProfile *
iov_profile_for_version (int         major,
                         int         minor,
                         int         micro,
                         const char *package)
{
  int v = major * 100 + minor;
  const IovProfile *best = &profiles[0];

  /* 7.2's stable branch took 8.0's VT-d refusals (7.2.1) and 8.1's vhost
   * flag rule (7.2.5): from 7.2.5 on, as Debian 12 ships it, the row is
   * debian-7.2's. */
  if (v == 702 && micro >= 5)
    return iov_profile_for_package (iov_profile_lookup ("debian-7.2"), package);

  /* The newest release row at or below the version; older than 5.0 gets
   * 5.0's, newer than the table its newest. */
  for (guint i = 0; i < G_N_ELEMENTS (profiles); i++)
    if (profiles[i].build == NULL && profiles[i].major * 100 + profiles[i].minor <= v)
      best = &profiles[i];
  return iov_profile_for_package (best, package);
}

const char *
iov_profile_notify_function (const IovProfile *profile)
{
  return profile->era == IOV_ERA_5_0 ? "memory_region_notify_one" : "memory_region_notify_iommu_one";
}

gboolean
iov_profile_same_rules (const IovProfile *a,
                        const IovProfile *b)
{
  return a->era == b->era && a->vhost == b->vhost && a->default_aw_bits == b->default_aw_bits &&
         a->vtd_refusals == b->vtd_refusals && a->vtd_cm_exit_at_init == b->vtd_cm_exit_at_init &&
         a->vtd_cm_realize_fails == b->vtd_cm_realize_fails &&
         a->vtd_sync_unmap_range == b->vtd_sync_unmap_range && a->vtd_replay_8_1 == b->vtd_replay_8_1 &&
         a->snoop_control == b->snoop_control && a->virtio_notifies == b->virtio_notifies &&
         a->virtio_split == b->virtio_split && a->virtio_split_map == b->virtio_split_map &&
         a->amd_notifies == b->amd_notifies;
}
