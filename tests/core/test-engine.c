/* test-engine.c — the notifier core against QEMU's behaviour
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

#include "config.h"

#include "iov-engine.h"
#include "iov-vtd.h"

#include <string.h>

#define N1_END   G_GUINT64_CONSTANT (0xfedfffff)
#define N2_START G_GUINT64_CONSTANT (0xfef00000)

static const IovProfile *
profile (const char *id)
{
  const IovProfile *p = iov_profile_lookup (id);

  g_assert_nonnull (p);
  return p;
}

/* ------------------------------------------------------------------------
 * Reference §10 vectors on the per-notifier function
 */

static void
test_tv1_full_range (void)
{
  IovNotifier n1 = { "n1", NULL, 0, N1_END, IOV_NOTIFIER_DEVIOTLB_UNMAP, 0 };
  IovNotifier n2 = { "n2", NULL, N2_START, G_MAXUINT64, IOV_NOTIFIER_DEVIOTLB_UNMAP, 0 };
  IovNotifier u2 = { "u2", NULL, N2_START, G_MAXUINT64, IOV_NOTIFIER_UNMAP, 0 };
  IovTlbEvent ev = { 0 };
  IovOutcome o;

  iov_vtd_decode_device_iotlb (G_GUINT64_CONSTANT (0x7ffffffffffff000), 1, &ev.iova, &ev.addr_mask);
  g_assert_cmphex (ev.iova, ==, 0);
  g_assert_cmphex (ev.addr_mask, ==, G_MAXUINT64);
  ev.type = IOV_NOTIFIER_DEVIOTLB_UNMAP;

  /* E6, DEV flag: both cropped and delivered. */
  g_assert_cmpint (iov_notify_one (profile ("qemu-6.0"), &n2, &ev, &o), ==, IOV_RESULT_DELIVERED);
  g_assert_cmphex (o.iova, ==, N2_START);
  g_assert_cmphex (o.addr_mask, ==, G_GUINT64_CONSTANT (0xffffffff010fffff));
  g_assert_true (o.cropped);
  g_assert_cmpint (iov_notify_one (profile ("qemu-6.0"), &n1, &ev, &o), ==, IOV_RESULT_DELIVERED);
  g_assert_cmphex (o.iova, ==, 0);
  g_assert_cmphex (o.addr_mask, ==, N1_END);

  /* E6, UNMAP flag: the containment assertion. */
  g_assert_cmpint (iov_notify_one (profile ("qemu-8.0"), &u2, &ev, &o), ==, IOV_RESULT_ABORT);
  g_assert_cmpint (o.abort, ==, IOV_ABORT_CONTAINMENT);

  /* E10, UNMAP flag: cropped, but the type is not wanted. */
  g_assert_cmpint (iov_notify_one (profile ("qemu-10.2"), &u2, &ev, &o), ==, IOV_RESULT_SKIPPED_FLAGS);

  /* E5: the same entry is an UNMAP (perm none) and trips the assertion. */
  ev.type = IOV_NOTIFIER_UNMAP;
  g_assert_cmpint (iov_notify_one (profile ("qemu-5.0"), &u2, &ev, &o), ==, IOV_RESULT_ABORT);
  g_assert_cmpint (o.abort, ==, IOV_ABORT_CONTAINMENT);
}

static void
test_tv3_tv5_tv6 (void)
{
  IovNotifier n1 = { "n1", NULL, 0, N1_END, IOV_NOTIFIER_DEVIOTLB_UNMAP, 0 };
  IovNotifier n2 = { "n2", NULL, N2_START, G_MAXUINT64, IOV_NOTIFIER_DEVIOTLB_UNMAP, 0 };
  IovTlbEvent ev = { 0 };
  IovOutcome o;

  /* TV3 */
  iov_vtd_decode_device_iotlb (0x7ffff000, 1, &ev.iova, &ev.addr_mask);
  g_assert_cmphex (ev.iova, ==, 0);
  g_assert_cmphex (ev.addr_mask, ==, 0xffffffff);
  ev.type = IOV_NOTIFIER_DEVIOTLB_UNMAP;
  g_assert_cmpint (iov_notify_one (profile ("qemu-6.0"), &n2, &ev, &o), ==, IOV_RESULT_DELIVERED);
  g_assert_cmphex (o.iova, ==, N2_START);
  g_assert_cmphex (o.addr_mask, ==, 0x10fffff);
  g_assert_cmpint (iov_notify_one (profile ("qemu-10.2"), &n1, &ev, &o), ==, IOV_RESULT_DELIVERED);
  g_assert_cmphex (o.addr_mask, ==, N1_END);

  /* TV5 */
  iov_vtd_decode_device_iotlb (0xfeeff000, 1, &ev.iova, &ev.addr_mask);
  g_assert_cmphex (ev.iova, ==, 0xfee00000);
  g_assert_cmphex (ev.addr_mask, ==, 0x1fffff);
  g_assert_cmpint (iov_notify_one (profile ("qemu-6.0"), &n2, &ev, &o), ==, IOV_RESULT_DELIVERED);
  g_assert_cmphex (o.iova, ==, N2_START);
  g_assert_cmphex (o.addr_mask, ==, 0xfffff);
  g_assert_cmpint (iov_notify_one (profile ("qemu-6.0"), &n1, &ev, &o), ==, IOV_RESULT_SKIPPED_RANGE);

  /* TV6: inside the interrupt window, every era skips both. */
  iov_vtd_decode_device_iotlb (0xfee00000, 0, &ev.iova, &ev.addr_mask);
  g_assert_cmphex (ev.addr_mask, ==, 0xfff);
  for (const char **id = (const char *[]) { "qemu-5.0", "qemu-6.0", "qemu-10.2", NULL }; *id; id++)
    {
      ev.type = g_str_equal (*id, "qemu-5.0") ? IOV_NOTIFIER_UNMAP : IOV_NOTIFIER_DEVIOTLB_UNMAP;
      g_assert_cmpint (iov_notify_one (profile (*id), &n1, &ev, &o), ==, IOV_RESULT_SKIPPED_RANGE);
      g_assert_cmpint (iov_notify_one (profile (*id), &n2, &ev, &o), ==, IOV_RESULT_SKIPPED_RANGE);
    }
}

static void
test_tv7_decode_table (void)
{
  static const struct { guint64 addr; guint s; guint64 iova, mask; } table[] = {
    { 0x10000, 1, 0x10000, 0x1fff },
    { 0x11000, 1, 0x10000, 0x3fff },
    { 0x3000, 1, 0x0, 0x7fff },
    { 0x12345000, 1, 0x12344000, 0x3fff },
    { 0x7ffff000, 1, 0x0, 0xffffffff },
    { 0xfeeff000, 1, 0xfee00000, 0x1fffff },
    { G_GUINT64_CONSTANT (0x7ffffffffffff000), 1, 0, G_MAXUINT64 },
    { G_GUINT64_CONSTANT (0xfffffffffffff000), 1, 0, G_MAXUINT64 },
    /* 50 ones still fit: 8192 << 50 = 2^63 */
    { G_GUINT64_CONSTANT (0x3ffffffffffff000), 1, 0, G_GUINT64_CONSTANT (0x7fffffffffffffff) },
    { 0x12345000, 0, 0x12345000, 0xfff },
    { 0x7ffff000, 0, 0x7ffff000, 0xfff },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    {
      guint64 iova, mask;

      iov_vtd_decode_device_iotlb (table[i].addr, table[i].s, &iova, &mask);
      g_assert_cmphex (iova, ==, table[i].iova);
      g_assert_cmphex (mask, ==, table[i].mask);
    }
}

static void
test_tv14_psi (void)
{
  IovNotifier u1 = { "n1", NULL, 0, N1_END, IOV_NOTIFIER_UNMAP, 0 };
  IovNotifier u2 = { "n2", NULL, N2_START, G_MAXUINT64, IOV_NOTIFIER_UNMAP, 0 };
  IovNotifier d2 = { "n2", NULL, N2_START, G_MAXUINT64, IOV_NOTIFIER_DEVIOTLB_UNMAP, 0 };
  IovTlbEvent ev = { 0xc0000000, 0x3fffffff, 0, IOV_NOTIFIER_UNMAP, IOV_PERM_NONE };
  IovOutcome o;

  g_assert_cmpint (iov_notify_one (profile ("qemu-5.0"), &u2, &ev, &o), ==, IOV_RESULT_ABORT);
  g_assert_cmpint (iov_notify_one (profile ("debian-7.2"), &u2, &ev, &o), ==, IOV_RESULT_ABORT);
  g_assert_cmpint (iov_notify_one (profile ("qemu-6.0"), &d2, &ev, &o), ==, IOV_RESULT_SKIPPED_FLAGS);
  g_assert_cmpint (iov_notify_one (profile ("qemu-10.2"), &u2, &ev, &o), ==, IOV_RESULT_DELIVERED);
  g_assert_cmphex (o.iova, ==, N2_START);
  g_assert_cmphex (o.addr_mask, ==, 0x10fffff);
  g_assert_cmpint (iov_notify_one (profile ("qemu-10.2"), &u1, &ev, &o), ==, IOV_RESULT_DELIVERED);
  g_assert_cmphex (o.iova, ==, 0xc0000000);
  g_assert_cmphex (o.addr_mask, ==, 0x3edfffff);
}

static void
test_tv15_small_psi (void)
{
  IovNotifier u1 = { "n1", NULL, 0, N1_END, IOV_NOTIFIER_UNMAP, 0 };
  IovNotifier u2 = { "n2", NULL, N2_START, G_MAXUINT64, IOV_NOTIFIER_UNMAP, 0 };
  IovTlbEvent ev = { 0x12340000, 0xffff, 0, IOV_NOTIFIER_UNMAP, IOV_PERM_NONE };
  guint n;
  const IovProfile **all = iov_profile_list (&n);

  for (guint i = 0; i < n; i++)
    {
      IovOutcome o;

      g_assert_cmpint (iov_notify_one (all[i], &u2, &ev, &o), ==, IOV_RESULT_SKIPPED_RANGE);
      g_assert_cmpint (iov_notify_one (all[i], &u1, &ev, &o), ==, IOV_RESULT_DELIVERED);
      g_assert_cmphex (o.iova, ==, 0x12340000);
      g_assert_cmphex (o.addr_mask, ==, 0xffff);
      g_assert_false (o.cropped);
    }
}

static void
test_unmap_perm_assert (void)
{
  IovNotifier u1 = { "n1", NULL, 0, N1_END, IOV_NOTIFIER_UNMAP, 0 };
  /* Far outside the notifier: 6.0+ still asserts, before the range check. */
  IovTlbEvent ev = { G_GUINT64_CONSTANT (0x100000000000), 0xfff, 0, IOV_NOTIFIER_UNMAP, IOV_PERM_RW };
  IovOutcome o;

  g_assert_cmpint (iov_notify_one (profile ("qemu-6.0"), &u1, &ev, &o), ==, IOV_RESULT_ABORT);
  g_assert_cmpint (o.abort, ==, IOV_ABORT_UNMAP_PERM);
  g_assert_cmpint (iov_notify_one (profile ("qemu-10.2"), &u1, &ev, &o), ==, IOV_RESULT_ABORT);
  /* ≤5.2 has no such check: perm RW makes it a MAP, out of range. */
  g_assert_cmpint (iov_notify_one (profile ("qemu-5.0"), &u1, &ev, &o), ==, IOV_RESULT_SKIPPED_RANGE);
  g_assert_cmpint (o.type, ==, IOV_NOTIFIER_MAP);
}

static void
test_abort_messages (void)
{
  g_autofree char *m50 = iov_abort_message (profile ("qemu-5.0"), IOV_ABORT_CONTAINMENT);
  g_autofree char *m72 = iov_abort_message (profile ("debian-7.2"), IOV_ABORT_CONTAINMENT);
  g_autofree char *rem = iov_abort_message (profile ("qemu-8.1"), IOV_ABORT_UNMAP_REMAIN);

  g_assert_cmpstr (m50, ==, "qemu-system-x86_64: memory.c:1918: memory_region_notify_one: "
                            "Assertion `entry->iova >= notifier->start && entry_end <= notifier->end' failed.");
  g_assert_nonnull (strstr (m72, "memory_region_notify_iommu_one: Assertion `entry->iova >= notifier->start && entry_end <= notifier->end' failed."));
  g_assert_nonnull (strstr (rem, "vtd_address_space_unmap: Assertion `!remain' failed."));
}

/* Issue I, fix 3: the assertion sites of every release (reference §12),
 * each the line of assert() in that release's memory_region_notify_one /
 * memory_region_notify_iommu_one (softmmu|system/memory.c) and
 * vtd_address_space_unmap (hw/i386/intel_iommu.c); 11.1's were read off
 * Debian's 11.1.3 binary, 11.0's are unknown (0). */
static void
test_assertion_sites (void)
{
  static const struct { const char *id, *memory_c; guint contain, perm; const char *vtd_c; guint se, rem; } sites[] = {
    { "qemu-5.0", "memory.c", 1918, 0, "hw/i386/intel_iommu.c", 3480, 3502 },
    { "qemu-5.1", "softmmu/memory.c", 1907, 0, "hw/i386/intel_iommu.c", 3485, 3507 },
    { "qemu-5.2", "../softmmu/memory.c", 1959, 0, "../hw/i386/intel_iommu.c", 3484, 3506 },
    { "qemu-6.0", "../softmmu/memory.c", 1974, 1958, "../hw/i386/intel_iommu.c", 3482, 3506 },
    { "qemu-6.1", "../softmmu/memory.c", 1975, 1959, "../hw/i386/intel_iommu.c", 3480, 3504 },
    { "qemu-6.2", "../softmmu/memory.c", 1980, 1964, "../hw/i386/intel_iommu.c", 3480, 3504 },
    { "qemu-7.0", "../softmmu/memory.c", 1990, 1974, "../hw/i386/intel_iommu.c", 3502, 3526 },
    { "qemu-7.1", "../softmmu/memory.c", 1990, 1974, "../hw/i386/intel_iommu.c", 3533, 3557 },
    { "qemu-7.2", "../softmmu/memory.c", 1991, 1975, "../hw/i386/intel_iommu.c", 3742, 3766 },
    { "debian-7.2", "../../softmmu/memory.c", 1979, 1963, "../../hw/i386/intel_iommu.c", 3762, 3786 },
    { "qemu-8.0", "../softmmu/memory.c", 1991, 1975, "../hw/i386/intel_iommu.c", 3761, 3785 },
    { "qemu-8.1", "../softmmu/memory.c", 2010, 1994, "../hw/i386/intel_iommu.c", 3767, 3791 },
    { "qemu-8.2", "../system/memory.c", 2011, 1995, "../hw/i386/intel_iommu.c", 3838, 3862 },
    { "qemu-9.0", "../system/memory.c", 2027, 2011, "../hw/i386/intel_iommu.c", 3838, 3862 },
    { "qemu-9.1", "../system/memory.c", 2006, 1990, "../hw/i386/intel_iommu.c", 3955, 3979 },
    { "qemu-9.2", "../system/memory.c", 2038, 2022, "../hw/i386/intel_iommu.c", 4001, 4025 },
    { "qemu-10.0", "../system/memory.c", 2038, 2022, "../hw/i386/intel_iommu.c", 4423, 4447 },
    { "qemu-10.1", "../system/memory.c", 2031, 2015, "../hw/i386/intel_iommu.c", 4449, 4473 },
    { "qemu-10.2", "../system/memory.c", 0, 2037, "../hw/i386/intel_iommu.c", 4720, 4744 },
    { "qemu-11.0", "../system/memory.c", 0, 0, "../hw/i386/intel_iommu.c", 0, 0 },
    { "qemu-11.1", "../system/memory.c", 0, 1981, "../hw/i386/intel_iommu.c", 4899, 4923 },
  };
  guint n;

  iov_profile_list (&n);
  g_assert_cmpuint (G_N_ELEMENTS (sites), ==, n);
  for (guint i = 0; i < G_N_ELEMENTS (sites); i++)
    {
      const IovProfile *p = profile (sites[i].id);
      g_autofree char *contain = iov_abort_message (p, IOV_ABORT_CONTAINMENT);
      g_autofree char *perm = iov_abort_message (p, IOV_ABORT_UNMAP_PERM);
      g_autofree char *remain = iov_abort_message (p, IOV_ABORT_UNMAP_REMAIN);
      g_autofree char *want_contain = g_strdup_printf ("qemu-system-x86_64: %s:%u: %s: Assertion `entry->iova >= "
                                                       "notifier->start && entry_end <= notifier->end' failed.",
                                                       sites[i].memory_c, sites[i].contain,
                                                       iov_profile_notify_function (p));
      g_autofree char *want_perm = g_strdup_printf ("qemu-system-x86_64: %s:%u: memory_region_notify_iommu_one: "
                                                    "Assertion `entry->perm == IOMMU_NONE' failed.",
                                                    sites[i].memory_c, sites[i].perm);
      g_autofree char *want_remain = g_strdup_printf ("qemu-system-x86_64: %s:%u: vtd_address_space_unmap: "
                                                      "Assertion `!remain' failed.", sites[i].vtd_c, sites[i].rem);

      g_assert_cmpuint (p->containment_line, ==, sites[i].contain);
      g_assert_cmpuint (p->unmap_perm_line, ==, sites[i].perm);
      g_assert_cmpuint (p->unmap_start_end_line, ==, sites[i].se);
      if (sites[i].contain != 0)
        g_assert_cmpstr (contain, ==, want_contain);
      if (sites[i].perm != 0)
        g_assert_cmpstr (perm, ==, want_perm);
      if (sites[i].rem != 0)
        g_assert_cmpstr (remain, ==, want_remain);
    }
}

/* Issue I, fix 3: the directory prefix is the build's. Debian builds in
 * b/qemu ("../../FILE") until 1:8.0.2+dfsg-3 added -ffile-prefix-map=../../=
 * (debian/rules:20 of sid's 10.2.2 source, and its changelog); read off
 * the binaries: 5.2 and 7.2.22 print ../../softmmu/memory.c, 10.0.2 and
 * 11.1.3 system/memory.c. */
static void
test_build_paths (void)
{
  static const struct { int major, minor, micro; const char *package; IovAbortKind kind; const char *message; } builds[] = {
    { 5, 2, 0, "Debian 1:5.2+dfsg-11+deb11u5", IOV_ABORT_CONTAINMENT,
      "qemu-system-x86_64: ../../softmmu/memory.c:1959: memory_region_notify_one: "
      "Assertion `entry->iova >= notifier->start && entry_end <= notifier->end' failed." },
    { 5, 2, 0, "", IOV_ABORT_CONTAINMENT,
      "qemu-system-x86_64: ../softmmu/memory.c:1959: memory_region_notify_one: "
      "Assertion `entry->iova >= notifier->start && entry_end <= notifier->end' failed." },
    { 7, 2, 22, "Debian 1:7.2+dfsg-7+deb12u18+b3", IOV_ABORT_CONTAINMENT,
      "qemu-system-x86_64: ../../softmmu/memory.c:1979: memory_region_notify_iommu_one: "
      "Assertion `entry->iova >= notifier->start && entry_end <= notifier->end' failed." },
    { 7, 2, 22, "", IOV_ABORT_UNMAP_REMAIN,
      "qemu-system-x86_64: ../hw/i386/intel_iommu.c:3786: vtd_address_space_unmap: Assertion `!remain' failed." },
    { 8, 0, 2, "Debian 1:8.0.2+dfsg-2", IOV_ABORT_UNMAP_PERM,
      "qemu-system-x86_64: ../../softmmu/memory.c:1975: memory_region_notify_iommu_one: "
      "Assertion `entry->perm == IOMMU_NONE' failed." },
    { 8, 0, 2, "Debian 1:8.0.2+dfsg-3", IOV_ABORT_UNMAP_PERM,
      "qemu-system-x86_64: softmmu/memory.c:1975: memory_region_notify_iommu_one: "
      "Assertion `entry->perm == IOMMU_NONE' failed." },
    { 10, 0, 2, "Debian 1:10.0.2+ds-2+deb13u1~bpo12+1", IOV_ABORT_CONTAINMENT,
      "qemu-system-x86_64: system/memory.c:2038: memory_region_notify_iommu_one: "
      "Assertion `entry->iova >= notifier->start && entry_end <= notifier->end' failed." },
    { 11, 1, 3, "Debian 1:11.1.3+ds-1", IOV_ABORT_UNMAP_START_END,
      "qemu-system-x86_64: hw/i386/intel_iommu.c:4899: vtd_address_space_unmap: Assertion `start <= end' failed." },
  };

  for (guint i = 0; i < G_N_ELEMENTS (builds); i++)
    {
      const IovProfile *p = iov_profile_for_version (builds[i].major, builds[i].minor, builds[i].micro,
                                                     builds[i].package);
      g_autofree char *message = iov_abort_message (p, builds[i].kind);

      g_assert_cmpstr (message, ==, builds[i].message);
      /* the same row, whatever the build */
      g_assert_true (iov_profile_same_rules (p, iov_profile_lookup (p->id)));
      g_assert_true (iov_profile_for_version (builds[i].major, builds[i].minor, builds[i].micro,
                                              builds[i].package) == p);
    }
}

static void
test_list_order (void)
{
  IovNotifier n1 = { "n1", NULL, 0, N1_END, IOV_NOTIFIER_UNMAP, 0 };
  IovNotifier n2 = { "n2", NULL, N2_START, G_MAXUINT64, IOV_NOTIFIER_DEVIOTLB_UNMAP, 0 };
  g_autoptr(GArray) outcomes = g_array_new (FALSE, FALSE, sizeof (IovOutcome));
  IovTlbEvent ev = { 0, G_MAXUINT64, 0, IOV_NOTIFIER_DEVIOTLB_UNMAP, IOV_PERM_NONE };
  IovIommuMr mr;

  /* TV19: registration N1 then N2 → dispatch N2 first. */
  iov_iommu_mr_init (&mr);
  iov_iommu_mr_insert (&mr, &n1);
  g_assert_cmpuint (iov_iommu_mr_insert (&mr, &n2), ==, IOV_NOTIFIER_UNMAP | IOV_NOTIFIER_DEVIOTLB_UNMAP);
  g_assert_false (iov_iommu_mr_notify (profile ("qemu-6.0"), &mr, 0, &ev, 0, outcomes));
  g_assert_cmpuint (outcomes->len, ==, 2);
  g_assert_true (g_array_index (outcomes, IovOutcome, 0).notifier == &n2);
  g_assert_cmpint (g_array_index (outcomes, IovOutcome, 0).result, ==, IOV_RESULT_DELIVERED);
  g_assert_true (g_array_index (outcomes, IovOutcome, 1).notifier == &n1);
  g_assert_cmpint (g_array_index (outcomes, IovOutcome, 1).result, ==, IOV_RESULT_ABORT);

  /* Re-registering in list order [N2, N1] reverses it. */
  iov_iommu_mr_remove (&mr, &n2);
  iov_iommu_mr_insert (&mr, &n2);
  iov_iommu_mr_remove (&mr, &n1);
  iov_iommu_mr_insert (&mr, &n1);
  g_assert_true (g_ptr_array_index (mr.list, 0) == &n1);
  iov_iommu_mr_clear (&mr);
}

static void
test_pow2_split (void)
{
  /* TV23 with 64 bits, and the aw-bits clamp of TV8/TV9. */
  g_assert_cmphex (iov_aligned_pow2_mask (0x1000, 0x7fff, 64), ==, 0xfff);
  g_assert_cmphex (iov_aligned_pow2_mask (0x2000, 0x7fff, 64), ==, 0x1fff);
  g_assert_cmphex (iov_aligned_pow2_mask (0x4000, 0x7fff, 64), ==, 0x3fff);
  g_assert_cmphex (iov_aligned_pow2_mask (0, G_MAXUINT64, 64), ==, G_MAXUINT64);
  g_assert_cmphex (iov_aligned_pow2_mask (0, N1_END, 39), ==, 0x7fffffff);
  g_assert_cmphex (iov_aligned_pow2_mask (0xfec00000, N1_END, 39), ==, 0x1fffff);
  g_assert_cmphex (iov_aligned_pow2_mask (N2_START, G_GUINT64_CONSTANT (0x7fffffffff), 39), ==, 0xfffff);
  g_assert_cmphex (iov_aligned_pow2_mask (0, 0x17ff, 39), ==, 0xfff);
}

/* ------------------------------------------------------------------------
 * Property test against a brute-force reference written apart from the
 * engine: ranges as 128-bit intervals, the era rules restated as tables.
 */

typedef unsigned __int128 u128;

static const guint64 specials[] = {
  0, 1, 0xfff, 0x1000, 0xfedfffff, 0xfee00000, 0xfeefffff, 0xfef00000, 0xffffffff,
  G_GUINT64_CONSTANT (0x100000000), G_GUINT64_CONSTANT (0x7fffffffff),
  G_GUINT64_CONSTANT (0x8000000000000000), G_MAXUINT64 - 1, G_MAXUINT64,
};

static guint64
rand_u64 (GRand *rand)
{
  switch (g_rand_int_range (rand, 0, 4))
    {
    case 0:
      return specials[g_rand_int_range (rand, 0, G_N_ELEMENTS (specials))];
    case 1:
      return ((guint64) g_rand_int (rand) << 32) | g_rand_int (rand);
    case 2:
      /* a power-of-two mask */
      return (G_GUINT64_CONSTANT (1) << g_rand_int_range (rand, 0, 64)) - 1;
    default:
      return (guint64) g_rand_int_range (rand, 0, 0x10000) << 12;
    }
}

/* What QEMU does, restated: the event covers the 64-bit wrap of
 * [iova, iova + mask]; when the sum wraps, QEMU's hwaddr compare sees the
 * wrapped end. */
static IovResult
reference (int                era,      /* 5, 6 or 10 */
           const IovNotifier *n,
           const IovTlbEvent *ev,
           guint64           *iova_out,
           guint64           *mask_out)
{
  guint64 end = (guint64) (((u128) ev->iova + ev->addr_mask) & G_MAXUINT64);
  gboolean disjoint = (u128) n->start > (u128) end || (u128) n->end < (u128) ev->iova;
  gboolean inside = (u128) ev->iova >= (u128) n->start && (u128) end <= (u128) n->end;
  guint want;
  gboolean crop;

  if (era >= 6 && ev->type == IOV_NOTIFIER_UNMAP && ev->perm != IOV_PERM_NONE)
    return IOV_RESULT_ABORT;
  if (disjoint)
    return IOV_RESULT_SKIPPED_RANGE;

  crop = era == 10 || (era == 6 && (n->flags & 4));
  if (!crop && !inside)
    return IOV_RESULT_ABORT;

  want = era == 5 ? ((ev->perm & 3) ? 2 : 1) : ev->type;
  if (!(n->flags & want))
    return IOV_RESULT_SKIPPED_FLAGS;

  if (crop)
    {
      u128 lo = MAX ((u128) ev->iova, (u128) n->start);
      u128 hi = MIN ((u128) end, (u128) n->end);

      *iova_out = (guint64) lo;
      *mask_out = (guint64) ((hi - lo) & G_MAXUINT64);
    }
  else
    {
      *iova_out = ev->iova;
      *mask_out = ev->addr_mask;
    }
  return IOV_RESULT_DELIVERED;
}

static void
test_property (void)
{
  static const int era_number[] = { [IOV_ERA_5_0] = 5, [IOV_ERA_6_0] = 6, [IOV_ERA_10_2] = 10 };
  guint n_rows;
  const IovProfile **rows = iov_profile_list (&n_rows);
  guint32 seed = g_test_rand_int ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint n_cases = g_test_thorough () ? 2000000 : 200000;

  for (guint i = 0; i < n_cases; i++)
    {
      IovNotifier n = { "n", NULL, 0, 0, 0, 0 };
      IovTlbEvent ev = { 0 };
      const IovProfile *p = rows[g_rand_int_range (rand, 0, n_rows)];
      int era = era_number[p->era];
      guint64 a = rand_u64 (rand), b = rand_u64 (rand);
      guint64 ref_iova = 0, ref_mask = 0;
      IovResult want, got;
      IovOutcome o;

      n.start = MIN (a, b);
      n.end = MAX (a, b);
      n.flags = g_rand_int_range (rand, 1, era == 5 ? 4 : 8);
      ev.iova = rand_u64 (rand);
      ev.addr_mask = rand_u64 (rand);
      ev.perm = g_rand_int_range (rand, 0, 4);
      ev.type = 1 << g_rand_int_range (rand, 0, era == 5 ? 2 : 3);

      want = reference (era, &n, &ev, &ref_iova, &ref_mask);
      got = iov_notify_one (p, &n, &ev, &o);
      if (got != want || (got == IOV_RESULT_DELIVERED && (o.iova != ref_iova || o.addr_mask != ref_mask)))
        {
          g_test_message ("seed %u case %u: %s n=[%" G_GINT64_MODIFIER "x, %" G_GINT64_MODIFIER "x] flags %u "
                          "ev iova %" G_GINT64_MODIFIER "x mask %" G_GINT64_MODIFIER "x type %u perm %u: "
                          "got %d want %d", seed, i, p->id, n.start, n.end, n.flags,
                          ev.iova, ev.addr_mask, ev.type, ev.perm, got, want);
          g_assert_cmpint (got, ==, want);
          g_assert_cmphex (o.iova, ==, ref_iova);
          g_assert_cmphex (o.addr_mask, ==, ref_mask);
        }
    }
  g_test_message ("%u random cases, seed %u", n_cases, seed);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/tv1-full-range", test_tv1_full_range);
  g_test_add_func ("/engine/tv3-tv5-tv6", test_tv3_tv5_tv6);
  g_test_add_func ("/engine/tv7-decode", test_tv7_decode_table);
  g_test_add_func ("/engine/tv14-psi", test_tv14_psi);
  g_test_add_func ("/engine/tv15-small-psi", test_tv15_small_psi);
  g_test_add_func ("/engine/unmap-perm-assert", test_unmap_perm_assert);
  g_test_add_func ("/engine/abort-messages", test_abort_messages);
  g_test_add_func ("/engine/assertion-sites", test_assertion_sites);
  g_test_add_func ("/engine/build-paths", test_build_paths);
  g_test_add_func ("/engine/list-order", test_list_order);
  g_test_add_func ("/engine/pow2-split", test_pow2_split);
  g_test_add_func ("/engine/property", test_property);
  return g_test_run ();
}
