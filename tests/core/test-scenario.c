/* test-scenario.c — scenarios run through the modelled machine
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

#include <json-glib/json-glib.h>

#include "iov-scenario-private.h"
#include "iov-what-if.h"

#define LOW_LEVEL_HEAD \
  "{\"iommu\": {\"model\": \"intel\"}, \"notifiers\": [" \
  "{\"name\": \"n1\", \"start\": \"0x0\", \"end\": \"0xfedfffff\", \"flags\": [\"unmap\"]}," \
  "{\"name\": \"n2\", \"start\": \"0xfef00000\", \"end\": \"0xffffffffffffffff\", \"flags\": [\"unmap\"]}" \
  "%s], \"steps\": [%s]}"

static IovRun *
run_text (const char *json,
          const char *profile_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IovScenario) sc = iov_scenario_new_from_data (json, -1, "test.json", &error);
  IovRun *run;

  g_assert_no_error (error);
  run = iov_run_scenario (sc, iov_profile_lookup (profile_id), &error);
  g_assert_no_error (error);
  return run;
}

static IovStepResult *
step (IovRun *run,
      guint   i)
{
  g_assert_cmpuint (i, <, run->steps->len);
  return &g_array_index (run->steps, IovStepResult, i);
}

static IovTlbEvent *
event (IovStepResult *s,
       guint          i)
{
  g_assert_cmpuint (i, <, s->events->len);
  return &g_array_index (s->events, IovTlbEvent, i);
}

static void
test_issue_example (void)
{
  /* The exact output the issue documents for this input. */
  static const char *input =
    "{ \"profile\": \"qemu-6.0\", \"iommu\": {\"model\": \"intel\", \"aw_bits\": 39},"
    "  \"notifiers\": [ {\"name\": \"n1\", \"start\": \"0x0\", \"end\": \"0xfedfffff\", \"flags\": [\"unmap\"]},"
    "                 {\"name\": \"n2\", \"start\": \"0xfef00000\", \"end\": \"0xffffffffffffffff\", \"flags\": [\"deviotlb-unmap\"]} ],"
    "  \"steps\": [ {\"op\": \"device-iotlb-invalidate\", \"addr\": \"0x7ffffffffffff000\", \"s\": 1},"
    "             {\"op\": \"psi\", \"addr\": \"0xc0000000\", \"am\": 18} ] }";
  g_autoptr(IovRun) run = run_text (input, "qemu-6.0");
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root, *s0, *o0, *o1;
  JsonArray *steps;

  iov_run_write_json (run, out);
  json_parser_load_from_data (parser, out->str, out->len, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (root, "profile"), ==, "qemu-6.0");
  g_assert_cmpint (json_object_get_int_member (root, "aborted_at"), ==, 0);
  steps = json_object_get_array_member (root, "steps");
  g_assert_cmpuint (json_array_get_length (steps), ==, 2);
  s0 = json_array_get_object_element (steps, 0);
  g_assert_cmpstr (json_object_get_string_member (s0, "op"), ==, "device-iotlb-invalidate");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (s0, "events")), ==, 1);
  o0 = json_array_get_object_element (json_object_get_array_member (s0, "outcomes"), 0);
  o1 = json_array_get_object_element (json_object_get_array_member (s0, "outcomes"), 1);
  g_assert_cmpstr (json_object_get_string_member (o0, "notifier"), ==, "n2");
  g_assert_cmpstr (json_object_get_string_member (o0, "result"), ==, "delivered");
  g_assert_cmpstr (json_object_get_string_member (o0, "iova"), ==, "0xfef00000");
  g_assert_cmpstr (json_object_get_string_member (o0, "addr_mask"), ==, "0xffffffff010fffff");
  g_assert_true (json_object_get_boolean_member (o0, "cropped"));
  g_assert_cmpstr (json_object_get_string_member (o1, "notifier"), ==, "n1");
  g_assert_cmpstr (json_object_get_string_member (o1, "result"), ==, "abort");
  g_assert_nonnull (strstr (json_object_get_string_member (o1, "message"),
                            "Assertion `entry->iova >= notifier->start && entry_end <= notifier->end' failed."));
  g_assert_true (json_object_get_boolean_member (json_array_get_object_element (steps, 1), "not_run"));
  g_assert_false (json_object_has_member (json_array_get_object_element (steps, 1), "events"));
}

static void
test_tv8_tv9_unmap_whole (void)
{
  static const guint64 tv8[][2] = {
    { 0x0, 0x7fffffff }, { 0x80000000, 0x3fffffff }, { 0xc0000000, 0x1fffffff }, { 0xe0000000, 0xfffffff },
    { 0xf0000000, 0x7ffffff }, { 0xf8000000, 0x3ffffff }, { 0xfc000000, 0x1ffffff }, { 0xfe000000, 0x7fffff },
    { 0xfe800000, 0x3fffff }, { 0xfec00000, 0x1fffff },
  };
  static const guint64 tv9[][2] = {
    { 0xfef00000, 0xfffff }, { 0xff000000, 0xffffff }, { 0x100000000, 0xffffffff },
    { 0x200000000, 0x1ffffffff }, { 0x400000000, 0x3ffffffff }, { 0x800000000, 0x7ffffffff },
    { 0x1000000000, 0xfffffffff }, { 0x2000000000, 0x1fffffffff }, { 0x4000000000, 0x3fffffffff },
  };
  g_autofree char *json = g_strdup_printf (LOW_LEVEL_HEAD, "",
                                           "{\"op\": \"unmap-whole\", \"notifier\": \"n1\"},"
                                           "{\"op\": \"unmap-whole\", \"notifier\": \"n2\"}");
  const char *profiles[] = { "qemu-5.0", "qemu-6.0", "qemu-10.2" };

  for (guint p = 0; p < G_N_ELEMENTS (profiles); p++)
    {
      g_autoptr(IovRun) run = run_text (json, profiles[p]);
      IovStepResult *s0 = step (run, 0), *s1 = step (run, 1);

      g_assert_cmpint (run->aborted_at, ==, -1);
      g_assert_cmpuint (s0->events->len, ==, G_N_ELEMENTS (tv8));
      g_assert_cmpuint (s0->outcomes->len, ==, G_N_ELEMENTS (tv8));   /* to n1 alone */
      for (guint i = 0; i < G_N_ELEMENTS (tv8); i++)
        {
          IovOutcome *o = &g_array_index (s0->outcomes, IovOutcome, i);

          g_assert_cmphex (event (s0, i)->iova, ==, tv8[i][0]);
          g_assert_cmphex (event (s0, i)->addr_mask, ==, tv8[i][1]);
          g_assert_cmpstr (o->notifier->name, ==, "n1");
          g_assert_cmpint (o->result, ==, IOV_RESULT_DELIVERED);
          g_assert_false (o->cropped);
        }
      /* Low-level aw_bits is 39 whatever the profile. */
      g_assert_cmpuint (s1->events->len, ==, G_N_ELEMENTS (tv9));
      for (guint i = 0; i < G_N_ELEMENTS (tv9); i++)
        {
          g_assert_cmphex (event (s1, i)->iova, ==, tv9[i][0]);
          g_assert_cmphex (event (s1, i)->addr_mask, ==, tv9[i][1]);
        }
    }
}

static void
test_tv12_unmap_asserts (void)
{
#define TV12_JSON \
    "{\"iommu\": {\"model\": \"intel\"}, \"notifiers\": [" \
    "{\"name\": \"small\", \"start\": \"0x0\", \"end\": \"0x17ff\", \"flags\": [\"unmap\"]}," \
    "{\"name\": \"high\", \"start\": \"0x8000000000\", \"end\": \"0xffffffffffffffff\", \"flags\": [\"unmap\"]}]," \
    "\"steps\": [{\"op\": \"unmap-whole\", \"notifier\": \"%s\"}, {\"op\": \"psi\", \"addr\": \"0x0\", \"am\": 0}]}"
  g_autofree char *small = g_strdup_printf (TV12_JSON, "small");
  g_autofree char *high = g_strdup_printf (TV12_JSON, "high");
  g_autoptr(IovRun) r1 = run_text (small, "qemu-8.1");
  g_autoptr(IovRun) r2 = run_text (high, "qemu-8.1");
  IovOutcome *last;

  /* One 4 KiB chunk goes out, then assert(!remain). */
  g_assert_cmpint (r1->aborted_at, ==, 0);
  g_assert_cmpuint (step (r1, 0)->events->len, ==, 1);
  g_assert_cmphex (event (step (r1, 0), 0)->addr_mask, ==, 0xfff);
  last = &g_array_index (step (r1, 0)->outcomes, IovOutcome, step (r1, 0)->outcomes->len - 1);
  g_assert_cmpint (last->result, ==, IOV_RESULT_ABORT);
  g_assert_cmpint (last->event, ==, -1);
  g_assert_cmpint (last->abort, ==, IOV_ABORT_UNMAP_REMAIN);
  g_assert_true (step (r1, 1)->not_run);

  /* Clamped to 2^39 - 1, below start: assert(start <= end). */
  g_assert_cmpint (r2->aborted_at, ==, 0);
  g_assert_cmpuint (step (r2, 0)->events->len, ==, 0);
  last = &g_array_index (step (r2, 0)->outcomes, IovOutcome, 0);
  g_assert_cmpint (last->abort, ==, IOV_ABORT_UNMAP_START_END);
}

static void
test_era5_types (void)
{
  /* ≤5.2: the type comes from perm, in events and deliveries alike. */
  g_autofree char *json = g_strdup_printf (LOW_LEVEL_HEAD, "",
                                           "{\"op\": \"notify\", \"type\": \"unmap\", \"iova\": \"0x1000\", "
                                           "\"addr_mask\": \"0xfff\", \"perm\": \"rw\"}");
  g_autofree char *bad = g_strdup_printf (LOW_LEVEL_HEAD, "",
                                          "{\"op\": \"notify\", \"type\": \"deviotlb-unmap\", \"iova\": \"0x1000\", "
                                          "\"addr_mask\": \"0xfff\"}");
  g_autoptr(IovRun) r5 = run_text (json, "qemu-5.2");
  g_autoptr(IovRun) r6 = run_text (json, "qemu-6.0");
  g_autoptr(IovScenario) sc = iov_scenario_new_from_data (bad, -1, "bad.json", NULL);
  g_autoptr(GError) error = NULL;
  IovRun *none;

  g_assert_cmpint (event (step (r5, 0), 0)->type, ==, IOV_NOTIFIER_MAP);
  g_assert_cmpint (g_array_index (step (r5, 0)->outcomes, IovOutcome, 1).result, ==, IOV_RESULT_SKIPPED_FLAGS);
  g_assert_cmpint (g_array_index (step (r5, 0)->outcomes, IovOutcome, 1).type, ==, IOV_NOTIFIER_MAP);
  /* 6.0+: an UNMAP with a permission trips the perm assertion at the head. */
  g_assert_cmpint (r6->aborted_at, ==, 0);
  g_assert_cmpint (g_array_index (step (r6, 0)->outcomes, IovOutcome, 0).abort, ==, IOV_ABORT_UNMAP_PERM);

  g_assert_nonnull (sc);
  none = iov_run_scenario (sc, iov_profile_lookup ("qemu-5.0"), &error);
  g_assert_null (none);
  g_assert_error (error, IOV_ERROR, IOV_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, "bad.json: steps[0].type: deviotlb-unmap does not exist in qemu-5.0 (added in QEMU 6.0)");
}

static void
test_tv17_dsi (void)
{
  static const char *json =
    "{\"iommu\": {\"model\": \"intel\", \"aw_bits\": 39}, \"devices\": ["
    "{\"id\": \"net0\", \"bdf\": \"00:02.0\", \"backend\": \"vhost\", \"domain\": 1}],"
    "\"steps\": [{\"op\": \"enable-dmar\"}, {\"op\": \"dsi\", \"domain\": 1}, {\"op\": \"global-invalidate\"}]}";
  g_autoptr(IovRun) r81 = run_text (json, "qemu-8.1");
  g_autoptr(IovRun) r72 = run_text (json, "debian-7.2");
  g_autoptr(IovRun) r60 = run_text (json, "qemu-6.0");
  IovStepResult *s;

  /* 8.0+: one whole-range UNMAP per notifier, head (upper) first. */
  s = step (r81, 1);
  g_assert_cmpuint (s->events->len, ==, 2);
  g_assert_cmphex (event (s, 0)->iova, ==, 0xfef00000);
  g_assert_cmphex (event (s, 0)->addr_mask, ==, G_GUINT64_CONSTANT (0xffffffff010fffff));
  g_assert_cmphex (event (s, 1)->iova, ==, 0);
  g_assert_cmphex (event (s, 1)->addr_mask, ==, 0xfedfffff);
  g_assert_cmpuint (step (r81, 2)->events->len, ==, 2);

  /* 7.2: a page walk of an empty table: nothing was mapped, nothing sent. */
  g_assert_cmpuint (step (r72, 1)->events->len, ==, 0);
  /* 6.0 with DEVIOTLB_UNMAP-only vhost notifiers: skipped altogether. */
  g_assert_cmpuint (step (r60, 1)->events->len, ==, 0);
  g_assert_cmpuint (step (r60, 0)->registrations->len, ==, 2);
  g_assert_cmpuint (g_array_index (step (r60, 0)->registrations, IovRegistration, 0).notifier->flags, ==,
                    IOV_NOTIFIER_DEVIOTLB_UNMAP);
}

static void
test_tv20_refusals (void)
{
  static const char *vhost_json =
    "{\"iommu\": {\"model\": \"intel\", \"device_iotlb\": false}, \"devices\": ["
    "{\"id\": \"net0\", \"bdf\": \"01:00.0\", \"backend\": \"vhost\", \"ats\": true}],"
    "\"steps\": [{\"op\": \"enable-dmar\"}, {\"op\": \"ats-enable\", \"device\": \"net0\"}]}";
  g_autoptr(IovRun) r80 = run_text (vhost_json, "qemu-8.0");
  g_autoptr(IovRun) r81 = run_text (vhost_json, "qemu-8.1");
  IovRegistration *reg;

  /* 8.0: DEVIOTLB_UNMAP refused quietly, UNMAP accepted. The refusal is
   * error_setg_errno(ENOTSUP) (hw/i386/intel_iommu.c v8.0.0:3201-3206):
   * its text ends in strerror's (issue I, fix 4; the bare text was wrong). */
  g_assert_cmpint (r80->aborted_at, ==, -1);
  reg = &g_array_index (step (r80, 0)->registrations, IovRegistration, 0);
  g_assert_cmpint (reg->action, ==, IOV_REGISTRATION_REFUSED);
  g_assert_cmpstr (reg->message, ==, "device 01.00.0 requires device IOTLB mode: Operation not supported");
  reg = &g_array_index (step (r80, 0)->registrations, IovRegistration, 1);
  g_assert_cmpint (reg->action, ==, IOV_REGISTRATION_ADDED);
  g_assert_cmpuint (reg->notifier->flags, ==, IOV_NOTIFIER_UNMAP);

  /* 8.1: UNMAP until ATS is on; then error_fatal ends QEMU: exit(1). */
  g_assert_cmpint (r81->aborted_at, ==, 1);
  g_assert_cmpstr (step (r81, 1)->abort_message, ==,
                   "qemu-system-x86_64: device 01.00.0 requires device IOTLB mode: Operation not supported");
  g_assert_cmpint (step (r81, 1)->exit_status, ==, 1);
}

/* Issue I, fix 1: no release lets vfio-pci run behind VT-d without
 * caching mode, and none gets as far as a refused MAP notifier. Up to
 * 10.1 vtd_machine_done_notify_one() exits at machine creation
 * (hw/i386/intel_iommu.c v10.1.0:4922-4923, the text at :90-91); 10.2
 * fails vfio-pci's realize instead (hw/i386/intel_iommu.c v10.2.0:4646-4648,
 * hw/vfio/pci.c v10.2.0:3462-3463). The old expectation for debian-7.2, a
 * refused registration and vfio's hw_error, was wrong. */
static void
test_vfio_without_caching_mode (void)
{
  g_autoptr(IovScenario) sc = iov_scenario_new_from_resource ("vfio-without-caching-mode", NULL);
  guint n;
  const IovProfile **all = iov_profile_list (&n);

  g_assert_nonnull (sc);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(IovRun) run = iov_run_scenario (sc, all[i], NULL);
      IovStepResult *s0 = step (run, 0);
      g_autofree char *last = iov_run_stderr (run);

      g_assert_cmpint (run->aborted_at, ==, 0);
      g_assert_cmpuint (s0->registrations->len, ==, 0);
      g_assert_cmpuint (s0->events->len, ==, 0);
      g_assert_cmpint (s0->exit_status, ==, 1);
      g_assert_true (step (run, 1)->not_run);
      if (all[i]->major * 100 + all[i]->minor <= 1001)
        g_assert_cmpstr (last, ==, "qemu-system-x86_64: We need to set caching-mode=on for intel-iommu to enable "
                                   "device assignment with IOMMU protection.");
      else
        {
          g_assert_true (g_str_has_prefix (last, "qemu-system-x86_64: -device vfio-pci,"));
          g_assert_true (g_str_has_suffix (last, ": Failed to set vIOMMU: Device assignment is not allowed without "
                                                 "enabling caching-mode=on for Intel IOMMU."));
        }
    }
}

/* Issue I, fix 4: a refusal vfio meets at run time prints QEMU's error,
 * then hw_error's own line (hw/vfio/common.c v8.1.0:1241-1242); 7.0 handed
 * error_setg_errno() -ENOTSUP (hw/i386/intel_iommu.c v7.0.0:3035), so
 * strerror says "Unknown error -95"; snoop-control exists from 7.0
 * (issue I, fix 7). virtio-iommu refuses with plain error_setg()
 * (hw/virtio/virtio-iommu.c v6.0.0:909-911). */
static void
test_refusal_texts (void)
{
  static const char *snoop_vfio =
    "{\"iommu\": {\"model\": \"intel\", \"caching_mode\": true, \"snoop_control\": true},"
    " \"devices\": [{\"id\": \"d\", \"bdf\": \"00:04.0\", \"backend\": \"vfio\"}],"
    " \"steps\": [{\"op\": \"enable-dmar\"}]}";
  static const char *snoop_vhost =
    "{\"iommu\": {\"model\": \"intel\", \"snoop_control\": true},"
    " \"devices\": [{\"id\": \"d\", \"bdf\": \"00:03.0\", \"backend\": \"vhost\"}],"
    " \"steps\": [{\"op\": \"enable-dmar\"}]}";
  static const char *virtio =
    "{\"iommu\": {\"model\": \"virtio\"}, \"devices\": [{\"id\": \"d\", \"bdf\": \"00:03.0\", \"backend\": \"vhost\"}],"
    " \"steps\": [{\"op\": \"enable-dmar\"}]}";
  g_autoptr(IovRun) r81 = run_text (snoop_vfio, "qemu-8.1");
  g_autoptr(IovRun) r70 = run_text (snoop_vhost, "qemu-7.0");
  g_autoptr(IovRun) r71 = run_text (snoop_vhost, "qemu-7.1");
  g_autoptr(IovRun) rv = run_text (virtio, "qemu-6.0");
  g_autoptr(IovScenario) sc = iov_scenario_new_from_data (snoop_vhost, -1, "s.json", NULL);
  g_autoptr(GError) error = NULL;
  IovRun *none;

  g_assert_cmpstr (step (r81, 0)->abort_message, ==,
                   "qemu-system-x86_64: Snoop Control with vhost or VFIO is not supported: Operation not supported\n"
                   "qemu: hardware error: vfio: DMA mapping failed, unable to continue");
  g_assert_cmpint (step (r81, 0)->exit_status, ==, IOV_EXIT_ABORT);
  g_assert_cmpstr (step (r70, 0)->abort_message, ==,
                   "qemu-system-x86_64: Snoop Control with vhost or VFIO is not supported: Unknown error -95");
  g_assert_cmpstr (step (r71, 0)->abort_message, ==,
                   "qemu-system-x86_64: Snoop Control with vhost or VFIO is not supported: Operation not supported");
  /* 6.0–8.0 try DEVIOTLB_UNMAP quietly: virtio-iommu's refusal has no errno. */
  g_assert_cmpstr (g_array_index (step (rv, 0)->registrations, IovRegistration, 0).message, ==,
                   "Virtio-iommu does not support dev-iotlb yet");
  g_assert_cmpint (rv->aborted_at, ==, -1);

  none = iov_run_scenario (sc, iov_profile_lookup ("qemu-6.2"), &error);
  g_assert_null (none);
  g_assert_error (error, IOV_ERROR, IOV_ERROR_INVALID);
}

/* Releases, not eras (issue I): each MAJOR.MINOR has its own row; the old
 * expectations (9.2 and 10.1 → qemu-8.1, 7.1 → qemu-6.0, 11.0 →
 * qemu-10.2) mapped releases to eras and were wrong. 7.2.5+ carries the
 * stable backports Debian 12 ships (debian-7.2). */
static void
test_profile_for_version (void)
{
  static const struct { int major, minor, micro; const char *package, *id; } table[] = {
    { 4, 2, 0, "", "qemu-5.0" }, { 5, 0, 0, "", "qemu-5.0" }, { 5, 1, 0, "", "qemu-5.1" },
    { 5, 2, 0, "Debian 1:5.2+dfsg-11+deb11u5", "qemu-5.2" }, { 6, 0, 0, "", "qemu-6.0" },
    { 6, 1, 1, "", "qemu-6.1" }, { 6, 2, 0, "", "qemu-6.2" }, { 7, 0, 0, "", "qemu-7.0" },
    { 7, 1, 0, "Debian 1:7.1+dfsg-2", "qemu-7.1" }, { 7, 2, 0, "v7.2.0", "qemu-7.2" },
    { 7, 2, 4, "", "qemu-7.2" }, { 7, 2, 22, "Debian 1:7.2+dfsg-7+deb12u18+b3", "debian-7.2" },
    { 7, 2, 5, "", "debian-7.2" }, { 8, 0, 0, "", "qemu-8.0" }, { 8, 1, 0, "", "qemu-8.1" },
    { 8, 2, 2, "", "qemu-8.2" }, { 9, 0, 0, "", "qemu-9.0" }, { 9, 1, 0, "", "qemu-9.1" },
    { 9, 2, 0, "", "qemu-9.2" }, { 10, 0, 2, "Debian 1:10.0.2+ds-2+deb13u1~bpo12+1", "qemu-10.0" },
    { 10, 1, 0, "", "qemu-10.1" }, { 10, 2, 2, "Debian 1:10.2.2+ds-1", "qemu-10.2" },
    { 11, 0, 0, "", "qemu-11.0" }, { 11, 1, 3, "Debian 1:11.1.3+ds-1", "qemu-11.1" },
    { 12, 0, 0, "", "qemu-11.1" },
  };
  guint n;
  const IovProfile **all = iov_profile_list (&n);

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    g_assert_cmpstr (iov_profile_for_version (table[i].major, table[i].minor, table[i].micro,
                                              table[i].package)->id, ==, table[i].id);

  /* One row per release line, 5.0 to 11.1, and Debian 12's 7.2; the old
   * names stay valid. */
  g_assert_cmpuint (n, ==, 21);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("qemu-%u.%u", all[i]->major, all[i]->minor);

      g_assert_true (iov_profile_lookup (all[i]->id) == all[i]);
      g_assert_nonnull (all[i]->checked);
      if (all[i]->build == NULL)
        g_assert_cmpstr (all[i]->id, ==, id);
    }
  for (const char **old = (const char *[]) { "qemu-5.0", "qemu-5.2", "qemu-6.0", "debian-7.2", "qemu-8.0",
                                             "qemu-8.1", "qemu-10.2", NULL }; *old; old++)
    g_assert_nonnull (iov_profile_lookup (*old));
}

static void
test_builtin_scenarios (void)
{
  g_auto(GStrv) names = iov_scenario_list_builtin ();
  guint n_profiles;
  const IovProfile **profiles = iov_profile_list (&n_profiles);

  g_assert_cmpuint (g_strv_length (names), >=, 5);
  for (guint i = 0; names[i]; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(IovScenario) sc = iov_scenario_new_from_resource (names[i], &error);
      g_autoptr(IovWhatIf) wi = NULL;

      g_assert_no_error (error);
      g_assert_nonnull (sc->title);
      g_assert_nonnull (sc->summary);
      for (guint s = 0; s < sc->steps->len; s++)
        g_assert_nonnull (g_array_index (sc->steps, IovStep, s).explain);
      wi = iov_what_if_new (sc, profiles, n_profiles);
      for (guint r = 0; r < wi->runs->len; r++)
        g_assert_no_error (((IovWhatIfRun *) g_ptr_array_index (wi->runs, r))->error);
    }
}

static void
test_2020_crash (void)
{
  g_autoptr(IovScenario) sc = iov_scenario_new_from_resource ("2020-deviotlb-crash", NULL);
  g_autoptr(IovRun) r50 = iov_run_scenario (sc, iov_profile_lookup ("qemu-5.0"), NULL);
  g_autoptr(IovRun) r52 = iov_run_scenario (sc, iov_profile_for_version (5, 2, 0, "Debian 1:5.2+dfsg-11+deb11u5"),
                                            NULL);
  g_autoptr(IovRun) r60 = iov_run_scenario (sc, iov_profile_lookup ("qemu-6.0"), NULL);
  g_autoptr(IovRun) r102 = iov_run_scenario (sc, iov_profile_lookup ("qemu-10.2"), NULL);
  g_autofree char *last_words = iov_run_stderr (r52);
  IovStepResult *s;

  g_assert_cmpint (r50->aborted_at, ==, 2);
  g_assert_cmpint (r60->aborted_at, ==, -1);
  g_assert_cmpint (r102->aborted_at, ==, -1);
  /* What Debian 11's QEMU 5.2 printed as it died, 3 runs of 3. */
  g_assert_cmpint (r52->aborted_at, ==, 2);
  g_assert_cmpint (step (r52, 2)->exit_status, ==, 134);
  g_assert_cmpstr (last_words, ==, "qemu-system-x86_64: ../../softmmu/memory.c:1959: memory_region_notify_one: "
                                   "Assertion `entry->iova >= notifier->start && entry_end <= notifier->end' failed.");
  s = step (r60, 2);
  g_assert_cmpuint (s->outcomes->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_assert_cmpint (g_array_index (s->outcomes, IovOutcome, i).result, ==, IOV_RESULT_DELIVERED);
      g_assert_cmpint (g_array_index (s->outcomes, IovOutcome, i).type, ==, IOV_NOTIFIER_DEVIOTLB_UNMAP);
    }
  /* 10.2: vhost started after the guest enabled ATS, so it registered
   * DEVIOTLB_UNMAP in section order and the upper range comes first (the
   * old expectation, lower first, came from re-registering on ATS enable,
   * which happens only while vhost runs: issue I, fix 7). */
  s = step (r102, 2);
  g_assert_cmpstr (g_array_index (s->outcomes, IovOutcome, 0).notifier->name, ==, "net0.vhost.2");
  g_assert_true (g_array_index (s->outcomes, IovOutcome, 0).cropped);
  g_assert_true (g_array_index (s->outcomes, IovOutcome, 1).cropped);
}

static void
test_virtio_split (void)
{
  g_autoptr(IovScenario) sc = iov_scenario_new_from_resource ("virtio-iommu-split", NULL);
  g_autoptr(IovRun) r50 = iov_run_scenario (sc, iov_profile_lookup ("qemu-5.0"), NULL);
  g_autoptr(IovRun) r52 = iov_run_scenario (sc, iov_profile_lookup ("qemu-5.2"), NULL);
  g_autoptr(IovRun) r60 = iov_run_scenario (sc, iov_profile_lookup ("qemu-6.0"), NULL);

  g_assert_cmpuint (step (r50, 2)->events->len, ==, 0);
  g_assert_cmpuint (step (r52, 2)->events->len, ==, 1);
  g_assert_cmphex (event (step (r52, 2), 0)->addr_mask, ==, 0x6fff);
  g_assert_cmpuint (step (r60, 2)->events->len, ==, 3);
  g_assert_cmphex (event (step (r60, 2), 2)->iova, ==, 0x4000);
  g_assert_cmphex (event (step (r60, 2), 2)->addr_mask, ==, 0x3fff);
}

static void
check_invalid (const char *json,
               const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IovScenario) sc = iov_scenario_new_from_data (json, -1, "x.json", &error);

  g_assert_null (sc);
  g_assert_error (error, IOV_ERROR, IOV_ERROR_INVALID);
  if (!g_str_has_prefix (error->message, expected))
    g_error ("“%s” does not start with “%s”", error->message, expected);
}

static void
test_invalid_input (void)
{
  check_invalid ("{", "x.json:1:");
  check_invalid ("[1]", "x.json: a scenario is a JSON object");
  check_invalid ("{\"notifiers\": [], \"steps\": []}", "x.json: iommu:");
  check_invalid ("{\"iommu\": {\"model\": \"arm\"}, \"notifiers\": [], \"steps\": []}", "x.json: iommu.model: unknown model");
  check_invalid ("{\"iommu\": {\"model\": \"intel\"}, \"notifiers\": [{\"name\": \"a\", \"start\": 5, \"end\": \"0x10\", \"flags\": [\"map\"]}],"
                 " \"steps\": [{\"op\": \"psi\", \"addr\": \"12\", \"am\": 1}]}",
                 "x.json: steps[0].addr: expected a hex string");
  check_invalid ("{\"iommu\": {\"model\": \"intel\"}, \"notifiers\": [{\"name\": \"a\", \"start\": \"0x0\", \"end\": \"0x10\", \"flags\": [\"map\"]}],"
                 " \"steps\": [{\"op\": \"psi\", \"addr\": \"0x0\", \"am\": 19}]}",
                 "x.json: steps[0].am: 19 is out of range");
  check_invalid ("{\"iommu\": {\"model\": \"intel\"}, \"notifiers\": [{\"name\": \"a\", \"start\": \"0x0\", \"end\": \"0x10\", \"flags\": [\"map\"]}],"
                 " \"steps\": [{\"op\": \"unmap-whole\", \"notifier\": \"b\"}]}",
                 "x.json: steps[0].notifier: no notifier \"b\"");
  check_invalid ("{\"iommu\": {\"model\": \"virtio\"}, \"notifiers\": [{\"name\": \"a\", \"start\": \"0x0\", \"end\": \"0x10\", \"flags\": [\"map\"]}],"
                 " \"steps\": [{\"op\": \"psi\", \"addr\": \"0x0\", \"am\": 1}]}",
                 "x.json: steps[0].op: \"psi\" is a VT-d operation");
  check_invalid ("{\"iommu\": {\"model\": \"intel\"}, \"notifiers\": [{\"name\": \"a\", \"start\": \"0x20\", \"end\": \"0x10\", \"flags\": [\"map\"]}],"
                 " \"steps\": []}",
                 "x.json: notifiers[0]: start is above end");
  check_invalid ("{\"iommu\": {\"model\": \"intel\"}, \"notifiers\": [{\"name\": \"a\", \"start\": \"0x0\", \"end\": \"0x10000000000000000\", \"flags\": [\"map\"]}],"
                 " \"steps\": []}",
                 "x.json: notifiers[0].end: expected a hex string");
  check_invalid ("{\"iommu\": {\"model\": \"intel\"}, \"devices\": [{\"id\": \"d\", \"bdf\": \"00:03.0\", \"ats\": true}], \"steps\": []}",
                 "x.json: devices[0].ats: QEMU gives a device an ATS capability only behind a PCIe root port");
  check_invalid ("{\"iommu\": {\"model\": \"intel\"}, \"notifiers\": [{\"name\": \"a\", \"start\": \"0x0\", \"end\": \"0x10\", \"flags\": [\"maps\"]}],"
                 " \"steps\": []}",
                 "x.json: notifiers[0].flags[0]: unknown flag");
  check_invalid ("{\"iommu\": {\"model\": \"intel\"}, \"notifiers\": [], \"steps\": [{\"op\": \"jump\"}]}",
                 "x.json: steps[0].op: unknown op \"jump\"");
  check_invalid ("{\"iommu\": {\"model\": \"intel\"}, \"devices\": [{\"id\": \"d\", \"bdf\": \"00:04.0\", \"backend\": \"vfio\"}],"
                 " \"steps\": [{\"op\": \"vhost-start\"}]}",
                 "x.json: steps[0].device: \"vhost-start\" needs a device with \"backend\": \"vhost\"");
  check_invalid ("{\"iommu\": {\"model\": \"intel\"}, \"devices\": [{\"id\": \"d\", \"bdf\": \"01:00.0\", \"ats_enabled\": true}],"
                 " \"steps\": []}",
                 "x.json: devices[0].ats_enabled: the device has no ATS capability");
}

/* The streaming reader takes plain JSON and leaves the rest to json-glib's
 * tree: both paths give the same scenario, or the same message, on the
 * shipped scenarios, the test scenarios, the fuzz corpus, and on inputs
 * made to sit on the line between the two (escapes, doubles, a member
 * given twice, steps before the iommu, comments, damage). */
static void
check_same (const char *data,
            gsize       len)
{
  g_autoptr(GError) e1 = NULL;
  g_autoptr(GError) e2 = NULL;
  g_autoptr(IovScenario) a = iov_scenario_new_from_data (data, len, "x.json", &e1);
  g_autoptr(IovScenario) b = iov_scenario_new_from_data_tree (data, len, "x.json", &e2);

  g_assert_true ((a == NULL) == (b == NULL));
  if (a == NULL)
    g_assert_cmpstr (e1->message, ==, e2->message);
  else
    g_assert_true (iov_scenario_equal (a, b));
}

static void
check_same_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *text = NULL;
      gsize len;

      if (!g_str_has_suffix (name, ".json") || !g_file_get_contents (path, &text, &len, NULL))
        continue;
      check_same (text, len);
      /* and every prefix of it at a few cuts: errors at every depth */
      for (gsize cut = 1; cut < len; cut += 1 + len / 37)
        check_same (text, cut);
      n++;
    }
  g_assert_cmpuint (n, >, 0);
}

static void
test_reader_agrees (void)
{
  static const char *const head =
    "{\"iommu\": {\"model\": \"intel\"}, \"devices\": [{\"id\": \"d\", \"bdf\": \"01:00.0\", \"backend\": \"vhost\", "
    "\"ats\": true}],\n \"steps\": [";
  static const char *const steps[] = {
    "{\"op\": \"notify\", \"type\": \"unmap\", \"iova\": \"0x1000\", \"addr_mask\": \"0xfff\"}",
    "{\"op\": \"notify\", \"type\": \"unmap\", \"iova\": 4096, \"addr_mask\": 4095, \"x\": 1.5}",
    "{\"op\": \"notify\", \"type\": \"unmap\", \"iova\": \"0x1000\", \"addr_mask\": \"0xfff\", \"iova\": \"0x2000\"}",
    "{\"op\": \"notify\", \"type\": \"unmap\", \"iova\": \"0x1000\", \"addr_mask\": \"0xfff\", \"explain\": \"a\\\"b\"}",
    "{\"op\": \"notify\", \"type\": \"unmap\", \"iova\": \"0x1000\", \"addr_mask\": \"0xfff\", \"explain\": \"caf\xc3\xa9\"}",
    "{\"op\": \"notify\", \"type\": \"unmap\", \"iova\": \"0x1000\", \"addr_mask\": \"0xfff\", \"explain\": \"\\u00e9\"}",
    "{\"op\": \"notify\", \"type\": \"unmap\", \"iova\": \"0x1000\", \"addr_mask\": \"0xfff\", \"x\": [1, {\"a\": null}]}",
    "{\"op\": \"notify\", \"type\": \"unmap\", \"iova\": -1, \"addr_mask\": \"0xfff\"}",
    "{\"op\": \"notify\", \"type\": \"unmap\", \"iova\": 01, \"addr_mask\": \"0xfff\"}",
    "{\"op\": \"notify\", \"type\": \"unmap\", \"iova\": 1e3, \"addr_mask\": \"0xfff\"}",
    "{\"op\": \"notify\", \"type\": \"unmap\", \"iova\": 9007199254740993, \"addr_mask\": \"0xfff\"}",
    "{\"op\": \"notify\", \"type\": \"unmap\", \"iova\": 123456789012345678901, \"addr_mask\": \"0xfff\"}",
    "{\"op\": \"notify\", \"type\": \"unmap\", \"iova\": \"0x1000\", \"addr_mask\": null}",
    "{\"op\": \"psi\", \"domain\": null, \"addr\": \"0x0\", \"am\": 1}",
    "{\"op\": \"psi\", \"domain\": 3, \"addr\": \"0x0\", \"am\": true}",
    "{\"op\": \"device-iotlb-invalidate\", \"addr\": \"0x7ffffffffffff000\", \"s\": 1}",
    "{\"op\": \"vhost-start\"} /* c */",
    "{\"op\": \"ats-enable\", \"device\": \"d\"}",
    "{\"op\": \"ats-enable\", \"device\": \"e\"}",
    "{\"op\": \"notify\", \"type\": \"unmap\", \"iova\": truex, \"addr_mask\": \"0xfff\"}",
    "{\"op\": \"unmap\", \"iova\": \"0x1000\", \"size\": \"0x1000\"}",
    "{}",
    "[]",
    "{\"op\": \"notify\" \"type\": \"unmap\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      g_autofree char *one = g_strdup_printf ("%s%s]}", head, steps[i]);
      g_autofree char *two = g_strdup_printf ("%s%s,\n%s]}\n", head, steps[0], steps[i]);
      g_autofree char *first = g_strdup_printf ("{\"steps\": [%s], \"iommu\": {\"model\": \"intel\"}, \"devices\": "
                                                "[{\"id\": \"d\", \"bdf\": \"01:00.0\", \"backend\": \"vhost\", "
                                                "\"ats\": true}]}", steps[i]);
      g_autofree char *twice = g_strdup_printf ("%s%s]}, \"steps\": []}", head, steps[i]);

      check_same (one, strlen (one));
      check_same (two, strlen (two));
      check_same (first, strlen (first));
      check_same (twice, strlen (twice));
      check_same (one, -1);
    }
  check_same ("", 0);
  check_same ("  \n", 3);
  check_same ("{} {}", 5);
  check_same ("{\"iommu\": {\"model\": \"intel\"}, \"notifiers\": [], \"steps\": []}\0", 60);
  check_same_dir (g_test_get_filename (G_TEST_DIST, "data", "scenarios", NULL));
  check_same_dir (g_test_get_filename (G_TEST_DIST, "..", "data", "scenarios", NULL));
  check_same_dir (g_test_get_filename (G_TEST_DIST, "fuzz", "corpus", "scenario", NULL));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scenario/issue-example", test_issue_example);
  g_test_add_func ("/scenario/tv8-tv9-unmap-whole", test_tv8_tv9_unmap_whole);
  g_test_add_func ("/scenario/tv12-unmap-asserts", test_tv12_unmap_asserts);
  g_test_add_func ("/scenario/era5-types", test_era5_types);
  g_test_add_func ("/scenario/tv17-dsi", test_tv17_dsi);
  g_test_add_func ("/scenario/tv20-refusals", test_tv20_refusals);
  g_test_add_func ("/scenario/vfio-without-caching-mode", test_vfio_without_caching_mode);
  g_test_add_func ("/scenario/refusal-texts", test_refusal_texts);
  g_test_add_func ("/scenario/profile-for-version", test_profile_for_version);
  g_test_add_func ("/scenario/builtin", test_builtin_scenarios);
  g_test_add_func ("/scenario/2020-crash", test_2020_crash);
  g_test_add_func ("/scenario/virtio-split", test_virtio_split);
  g_test_add_func ("/scenario/invalid-input", test_invalid_input);
  g_test_add_func ("/scenario/reader-agrees", test_reader_agrees);
  return g_test_run ();
}
