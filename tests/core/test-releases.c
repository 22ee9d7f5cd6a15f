/* test-releases.c — release boundaries of the model (issue I, fixes 2, 5, 6, 7)
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

#include <string.h>

#include "iov-what-if.h"

static IovRun *
run_text (const char *json,
          const char *profile_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IovScenario) sc = iov_scenario_new_from_data (json, -1, "test.json", &error);
  const IovProfile *profile = iov_profile_lookup (profile_id);
  IovRun *run;

  g_assert_no_error (error);
  g_assert_nonnull (profile);
  run = iov_run_scenario (sc, profile, &error);
  g_assert_no_error (error);
  return run;
}

static const IovStepResult *
step (const IovRun *run,
      int           i)
{
  const IovStepResult *r = iov_run_get_step (run, i);

  g_assert_nonnull (r);
  return r;
}

static const IovTlbEvent *
event (const IovStepResult *r,
       guint                i)
{
  g_assert_cmpuint (i, <, r->events->len);
  return &g_array_index (r->events, IovTlbEvent, i);
}

static const IovOutcome *
outcome (const IovStepResult *r,
         guint                i)
{
  g_assert_cmpuint (i, <, r->outcomes->len);
  return &g_array_index (r->outcomes, IovOutcome, i);
}

static const IovRegistration *
registration (const IovStepResult *r,
              guint                i)
{
  g_assert_nonnull (r->registrations);
  g_assert_cmpuint (i, <, r->registrations->len);
  return &g_array_index (r->registrations, IovRegistration, i);
}

/* ------------------------------------------------------------------------
 * Fix 2: VTD_HOST_ADDRESS_WIDTH is 48 from 10.0
 * (include/hw/i386/intel_iommu.h v10.0.0:48, 39 in v9.2.0:48; machine
 * types up to 9.1 keep 39 through hw/i386/pc.c v10.0.0:89).
 */

static void
test_default_aw_bits (void)
{
  g_autoptr(IovScenario) sc = iov_scenario_new_from_resource ("two-flatranges", NULL);
  g_autoptr(IovRun) r92 = NULL;
  g_autoptr(IovRun) r100 = NULL;
  const IovStepResult *s;

  g_assert_nonnull (sc);
  g_assert_cmpuint (sc->aw_bits, ==, 0);
  g_assert_cmpuint (iov_scenario_aw_bits (sc, iov_profile_lookup ("qemu-9.2")), ==, 39);
  g_assert_cmpuint (iov_scenario_aw_bits (sc, iov_profile_lookup ("qemu-10.0")), ==, 48);
  g_assert_cmpuint (iov_scenario_aw_bits (sc, iov_profile_lookup ("qemu-10.1")), ==, 48);

  /* The global context invalidation unmaps the upper notifier first, in
   * pieces clamped to 2^aw - 1: 9 of them at 39 bits (reference TV9), 18
   * at 48, the last one [2^47, 2^48 - 1]. */
  r92 = iov_run_scenario (sc, iov_profile_lookup ("qemu-9.2"), NULL);
  r100 = iov_run_scenario (sc, iov_profile_lookup ("qemu-10.0"), NULL);
  s = step (r92, 1);
  g_assert_cmphex (event (s, 8)->iova, ==, G_GUINT64_CONSTANT (0x4000000000));
  g_assert_cmphex (event (s, 9)->iova, ==, 0);
  s = step (r100, 1);
  g_assert_cmphex (event (s, 17)->iova, ==, G_GUINT64_CONSTANT (0x800000000000));
  g_assert_cmphex (event (s, 17)->addr_mask, ==, G_GUINT64_CONSTANT (0x7fffffffffff));
  g_assert_cmphex (event (s, 18)->iova, ==, 0);
}

/* ------------------------------------------------------------------------
 * Fix 5: virtio-iommu cuts MAP requests into power-of-two pieces only from
 * 7.1 (virtio_iommu_notify_map_unmap, hw/virtio/virtio-iommu.c
 * v7.1.0:200-224); 6.0–7.0 send one MAP per request (v6.0.0:128-152) and
 * split UNMAP only (v6.0.0:154-185).
 */

static void
test_virtio_map_split (void)
{
  static const char *json =
    "{\"iommu\": {\"model\": \"virtio\"}, \"devices\": [{\"id\": \"d\", \"bdf\": \"00:04.0\", \"backend\": \"vfio\"}],"
    " \"steps\": [{\"op\": \"enable-dmar\"},"
    "  {\"op\": \"map\", \"iova\": \"0x1000\", \"size\": \"0x7000\", \"gpa\": \"0x80001000\"},"
    "  {\"op\": \"unmap\", \"iova\": \"0x1000\", \"size\": \"0x7000\"}]}";
  static const char *before[] = { "qemu-6.0", "qemu-6.2", "qemu-7.0" };
  static const char *after[] = { "qemu-7.1", "debian-7.2", "qemu-10.2", "qemu-11.1" };

  for (guint i = 0; i < G_N_ELEMENTS (before); i++)
    {
      g_autoptr(IovRun) run = run_text (json, before[i]);

      g_assert_cmpuint (step (run, 1)->events->len, ==, 1);
      g_assert_cmpint (event (step (run, 1), 0)->type, ==, IOV_NOTIFIER_MAP);
      g_assert_cmphex (event (step (run, 1), 0)->addr_mask, ==, 0x6fff);
      g_assert_cmpuint (step (run, 2)->events->len, ==, 3);
    }
  for (guint i = 0; i < G_N_ELEMENTS (after); i++)
    {
      g_autoptr(IovRun) run = run_text (json, after[i]);
      const IovStepResult *s = step (run, 1);

      g_assert_cmpuint (s->events->len, ==, 3);
      g_assert_cmphex (event (s, 1)->iova, ==, 0x2000);
      g_assert_cmphex (event (s, 1)->addr_mask, ==, 0x1fff);
      g_assert_cmphex (event (s, 1)->translated_addr, ==, 0x80002000);
      g_assert_cmphex (event (s, 2)->translated_addr, ==, 0x80004000);
      g_assert_cmpuint (step (run, 2)->events->len, ==, 3);
    }
  g_assert_true (iov_profile_virtio_splits (iov_profile_lookup ("qemu-6.0"), FALSE));
  g_assert_false (iov_profile_virtio_splits (iov_profile_lookup ("qemu-7.0"), TRUE));
  g_assert_true (iov_profile_virtio_splits (iov_profile_lookup ("qemu-7.1"), TRUE));
}

/* ------------------------------------------------------------------------
 * Fix 6: AMD-Vi 10.2 enables the IOMMU region only with dma-remap=on and a
 * translating device-table entry (amdvi_switch_address_space,
 * hw/i386/amd_iommu.c v10.2.0:1054-1067): without it nothing registers and
 * the "requires dma-remap=1" refusal (v10.2.0:2367-2372) is never reached.
 * Back to pass-through, enable_nodma_mode() unmaps each notifier first
 * (v10.2.0:1117-1133) in unclamped 64-bit pieces (amdvi_address_space_unmap,
 * v10.2.0:922-957). Up to 10.1 MAP is refused with plain error_setg()
 * (hw/i386/amd_iommu.c v10.1.0:1577-1582).
 */

#define AMD_JSON(dma_remap) \
  "{\"iommu\": {\"model\": \"amd\", \"dma_remap\": " dma_remap "}, \"devices\": [" \
  "{\"id\": \"net0\", \"bdf\": \"00:03.0\", \"backend\": \"vhost\"}," \
  "{\"id\": \"hostdev0\", \"bdf\": \"00:04.0\", \"backend\": \"vfio\"}]," \
  " \"steps\": [{\"op\": \"enable-dmar\"}, {\"op\": \"disable-dmar\"}]}"

static void
test_amd_dma_remap (void)
{
  g_autoptr(IovRun) off102 = run_text (AMD_JSON ("false"), "qemu-10.2");
  g_autoptr(IovRun) on102 = run_text (AMD_JSON ("true"), "qemu-10.2");
  g_autoptr(IovRun) off101 = run_text (AMD_JSON ("false"), "qemu-10.1");
  const IovStepResult *s;
  guint to_high = 0;

  /* dma-remap off (the default): no section, no notifier, no refusal. */
  g_assert_cmpint (off102->aborted_at, ==, -1);
  g_assert_cmpuint (step (off102, 0)->registrations->len, ==, 0);
  g_assert_cmpuint (step (off102, 1)->events->len, ==, 0);

  /* dma-remap on: vhost's two and vfio's two MAP|UNMAP notifiers. */
  g_assert_cmpint (on102->aborted_at, ==, -1);
  s = step (on102, 0);
  g_assert_cmpuint (s->registrations->len, ==, 4);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpint (registration (s, i)->action, ==, IOV_REGISTRATION_ADDED);
  /* Back to pass-through: each device's notifiers are unmapped, upper one
   * first, [0xfef00000, 2^64 - 1] in 34 pieces up to [2^63, 2^64 - 1],
   * [0, 0xfedfffff] in 10; then the sections go. */
  s = step (on102, 1);
  g_assert_cmpuint (s->events->len, ==, 2 * (34 + 10));
  for (guint i = 0; i < s->outcomes->len; i++)
    to_high += outcome (s, i)->notifier->start == 0xfef00000;
  g_assert_cmpuint (to_high, ==, 2 * 34);
  g_assert_cmphex (event (s, 33)->iova, ==, G_GUINT64_CONSTANT (0x8000000000000000));
  g_assert_cmphex (event (s, 33)->addr_mask, ==, G_GUINT64_CONSTANT (0x7fffffffffffffff));
  g_assert_cmphex (event (s, 34)->iova, ==, 0);
  g_assert_cmpuint (s->registrations->len, ==, 4);
  g_assert_cmpint (registration (s, 0)->action, ==, IOV_REGISTRATION_REMOVED);

  /* 10.1: the region is in use and vfio's MAP is refused, without errno. */
  g_assert_cmpint (off101->aborted_at, ==, 0);
  g_assert_cmpstr (step (off101, 0)->abort_message, ==,
                   "qemu-system-x86_64: device 00.04.0 requires iommu notifier which is not currently supported\n"
                   "qemu: hardware error: vfio: DMA mapping failed, unable to continue");
}

/* ------------------------------------------------------------------------
 * Fix 7: vhost registers when vhost starts — vhost_dev_start() registers
 * its IOMMU listener (hw/virtio/vhost.c v8.1.0:1944), vhost_dev_stop()
 * unregisters it (v8.1.0:2072) — and the guest's ATS enable re-registers
 * only a running vhost (vhost_toggle_device_iotlb, v8.1.0:842-846).
 */

#define VHOST_JSON(steps) \
  "{\"iommu\": {\"model\": \"intel\", \"aw_bits\": 39, \"device_iotlb\": true}, \"devices\": [" \
  "{\"id\": \"net0\", \"bdf\": \"01:00.0\", \"backend\": \"vhost\", \"ats\": true}], \"steps\": [" steps "]}"
#define FLUSH "{\"op\": \"device-iotlb-invalidate\", \"addr\": \"0x7ffffffffffff000\", \"s\": 1}"

static void
test_vhost_start (void)
{
  g_autoptr(IovRun) late = run_text (VHOST_JSON ("{\"op\": \"enable-dmar\"}, {\"op\": \"ats-enable\"},"
                                                 "{\"op\": \"vhost-start\"}," FLUSH ","
                                                 "{\"op\": \"vhost-stop\"}," FLUSH), "qemu-8.1");
  g_autoptr(IovRun) running = run_text (VHOST_JSON ("{\"op\": \"enable-dmar\"}, {\"op\": \"ats-enable\"}," FLUSH),
                                        "qemu-8.1");
  g_autoptr(IovRun) late52 = run_text (VHOST_JSON ("{\"op\": \"enable-dmar\"}, {\"op\": \"vhost-start\"}," FLUSH),
                                       "qemu-5.2");
  const IovStepResult *s;

  /* Before vhost starts nothing registers, and enabling ATS does nothing
   * but set the bit vhost_dev_start() will read. */
  g_assert_cmpuint (step (late, 0)->registrations->len, ==, 0);
  g_assert_cmpuint (step (late, 1)->registrations->len, ==, 0);
  s = step (late, 2);
  g_assert_cmpuint (s->registrations->len, ==, 2);
  g_assert_cmpstr (registration (s, 0)->notifier->name, ==, "net0.vhost.1");
  g_assert_cmpuint (registration (s, 0)->notifier->flags, ==, IOV_NOTIFIER_DEVIOTLB_UNMAP);
  /* registered low then high: QEMU visits the high one first */
  s = step (late, 3);
  g_assert_cmpstr (outcome (s, 0)->notifier->name, ==, "net0.vhost.2");
  g_assert_cmpint (outcome (s, 0)->result, ==, IOV_RESULT_DELIVERED);
  g_assert_cmpint (outcome (s, 1)->result, ==, IOV_RESULT_DELIVERED);
  /* vhost stops: both notifiers go, the next flush reaches no one. */
  g_assert_cmpuint (step (late, 4)->registrations->len, ==, 2);
  g_assert_cmpint (registration (step (late, 4), 0)->action, ==, IOV_REGISTRATION_REMOVED);
  g_assert_cmpuint (step (late, 5)->outcomes->len, ==, 0);

  /* vhost already running (no vhost-start step): ATS re-registers both in
   * vhost's list order, which turns QEMU's order round. */
  s = step (running, 1);
  g_assert_cmpuint (s->registrations->len, ==, 4);
  s = step (running, 2);
  g_assert_cmpstr (outcome (s, 0)->notifier->name, ==, "net0.vhost.1");

  /* ≤5.2: vhost_dev_start registers UNMAP notifiers; the flush aborts. */
  g_assert_cmpint (late52->aborted_at, ==, 2);
  g_assert_cmpuint (registration (step (late52, 1), 0)->notifier->flags, ==, IOV_NOTIFIER_UNMAP);
}

/* The trace events a consumer leaves: vhost_user_write from 7.1
 * (hw/virtio/trace-events v7.1.0:25), vhost_dev_start from 7.2
 * (v7.2.0:12), vhost_dev_start_in on 11.1 (observed on 11.1.3). And VT-d
 * switches address spaces in its hash table's order: where several
 * devices show it, the explanation says so. */
static void
test_evidence_and_order (void)
{
  static const char *json =
    "{\"iommu\": {\"model\": \"intel\"}, \"devices\": ["
    "{\"id\": \"a\", \"bdf\": \"00:03.0\", \"backend\": \"vhost\"}, {\"id\": \"b\", \"bdf\": \"00:04.0\", \"backend\": \"vhost\"}],"
    " \"steps\": [{\"op\": \"enable-dmar\"}]}";
  g_autoptr(IovRun) run = run_text (json, "qemu-8.1");

  g_assert_false (iov_profile_lookup ("qemu-7.0")->trace_vhost_user);
  g_assert_true (iov_profile_lookup ("qemu-7.1")->trace_vhost_user);
  g_assert_null (iov_profile_lookup ("qemu-7.1")->trace_vhost_start);
  g_assert_cmpstr (iov_profile_lookup ("qemu-7.2")->trace_vhost_start, ==, "vhost_dev_start");
  g_assert_cmpstr (iov_profile_lookup ("qemu-11.1")->trace_vhost_start, ==, "vhost_dev_start_in");
  g_assert_nonnull (strstr (step (run, 0)->explain, "hash table"));
}

/* `what-if --list-profiles`: one line per row, then what each row was
 * checked against. */
static void
test_table (void)
{
  g_autofree char *table = iov_profile_table ();
  g_auto(GStrv) lines = g_strsplit (table, "\n", -1);
  guint n;
  const IovProfile **all = iov_profile_list (&n);

  g_assert_true (g_str_has_prefix (lines[0], "id "));
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *dispatch = iov_profile_fact (all[i], IOV_PROFILE_FACT_DISPATCH);

      g_assert_true (g_str_has_prefix (lines[i + 1], all[i]->id));
      g_assert_nonnull (strstr (lines[i + 1], dispatch));
      g_assert_nonnull (strstr (table, all[i]->checked));
    }
  g_assert_nonnull (strstr (lines[1 + 6], "\": Unknown error -95\""));   /* qemu-7.0 */
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/releases/default-aw-bits", test_default_aw_bits);
  g_test_add_func ("/releases/virtio-map-split", test_virtio_map_split);
  g_test_add_func ("/releases/amd-dma-remap", test_amd_dma_remap);
  g_test_add_func ("/releases/vhost-start", test_vhost_start);
  g_test_add_func ("/releases/evidence-and-order", test_evidence_and_order);
  g_test_add_func ("/releases/table", test_table);
  return g_test_run ();
}
