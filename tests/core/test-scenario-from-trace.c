/* test-scenario-from-trace.c — a recording turned into a scenario
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

#include "../test-xz.h"

#include <gio/gio.h>
#include <string.h>

#include "iov-scenario.h"
#include "iov-scenario-from-trace.h"
#include "iov-system.h"
#include "iov-vtd.h"

static JsonNode *
load_snapshot (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "snapshots", name, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

/* The chunks QEMU 6.0+ notifies for every virtio_iommu_notify_unmap. */
static guint
count_chunks (const char *trace)
{
  g_auto(GStrv) lines = test_lines_of (trace);
  guint chunks = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *p = strstr (lines[i], "virtio_iommu_notify_unmap ");
      guint64 start, end;

      if (p == NULL)
        continue;
      p = strstr (p, "virt_start=");
      g_assert_nonnull (p);
      start = g_ascii_strtoull (p + strlen ("virt_start="), NULL, 16);
      p = strstr (p, "virt_end=");
      g_assert_nonnull (p);
      end = g_ascii_strtoull (p + strlen ("virt_end="), NULL, 16);
      while (start <= end)
        {
          guint64 mask = iov_aligned_pow2_mask (start, end, 64);

          chunks++;
          start += mask + 1;
          if (start == 0)
            break;
        }
    }
  return chunks;
}

static void
test_virtio_iommu_vhost_user (void)
{
  g_autofree char *trace = test_read_xz_trace ("qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.log.xz");
  g_autoptr(JsonNode) snapshot = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(IovScenario) scenario = NULL;
  g_autoptr(IovRun) run = NULL;
  g_autofree char *text = NULL;
  const IovProfile *profile;
  guint n_steps = 0, chunks, delivered = 0;

  if (trace == NULL)
    {
      g_test_skip ("xz is not installed");
      return;
    }
  snapshot = load_snapshot ("virtio-iommu-vhost-user.json");
  text = iov_scenario_from_trace (snapshot, trace, -1, "vhost-user", &n_steps, &error);
  g_assert_no_error (error);
  g_assert_nonnull (text);

  chunks = count_chunks (trace);
  g_assert_cmpuint (chunks, >, 0);
  g_assert_cmpuint (n_steps, ==, chunks);

  scenario = iov_scenario_new_from_data (text, -1, "vhost-user", &error);
  g_assert_no_error (error);
  g_assert_true (scenario->low_level);
  g_assert_cmpint (scenario->model, ==, IOV_IOMMU_VIRTIO);
  g_assert_cmpuint (scenario->notifiers->len, ==, 1);
  g_assert_cmpuint (scenario->steps->len, ==, chunks);
  g_assert_cmpstr (scenario->profile, ==, "debian-7.2");

  profile = iov_profile_lookup (scenario->profile);
  g_assert_nonnull (profile);
  run = iov_run_scenario (scenario, profile, &error);
  g_assert_no_error (error);
  g_assert_cmpint (run->aborted_at, ==, -1);

  for (guint i = 0; i < run->steps->len; i++)
    {
      IovStepResult *r = &g_array_index (run->steps, IovStepResult, i);

      for (guint j = 0; j < r->outcomes->len; j++)
        {
          IovOutcome *o = &g_array_index (r->outcomes, IovOutcome, j);

          if (o->result == IOV_RESULT_DELIVERED && o->notifier != NULL &&
              g_strcmp0 (o->notifier->owner, "vhost") == 0)
            delivered++;
        }
    }
  g_assert_cmpuint (delivered, ==, chunks);
}

static void
test_cap_and_vtd (void)
{
  static const char snapshot_json[] =
    "{\"qemu\": {\"version\": \"10.2.0\"}, \"iommu\": {\"type\": \"intel-iommu\", \"properties\": {\"aw-bits\": 48}},"
    " \"devices\": [{\"bdf\": \"01:00.0\"}],"
    " \"address_spaces\": [{\"notifiers\": ["
    "   {\"consumer\": \"vhost\", \"device\": \"01:00.0\", \"start\": \"0x0\", \"end\": \"0xfedfffff\", \"flags\": \"deviotlb-unmap\"},"
    "   {\"consumer\": \"vhost\", \"device\": \"01:00.0\", \"start\": \"0xfef00000\", \"end\": \"0xffffffffffff\", \"flags\": \"deviotlb-unmap\"}]}]}";
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GString) trace = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(IovScenario) scenario = NULL;
  g_autofree char *text = NULL;
  guint n_steps = 0;
  IovStep *step;

  json_parser_load_from_data (parser, snapshot_json, -1, &error);
  g_assert_no_error (error);

  /* A device-IOTLB descriptor for 01:00.0 (sid 0x100, in lo bits 47:32), one for another
   * device, a PSI, then more virtio UNMAPs than the cap. */
  g_string_append (trace, "1@1.000001:vtd_inv_desc invalidate desc type device high 0x7ffffffffffff001 low 0x10000000003\n");
  g_string_append (trace, "1@1.000001:vtd_inv_desc invalidate desc type device high 0x1000 low 0x20000000003\n");
  g_string_append (trace, "1@1.000002:vtd_inv_desc_iotlb_pages iotlb invalidate domain 0x1 addr 0x200000 mask 0x9\n");
  for (guint i = 0; i < IOV_SCENARIO_FROM_TRACE_MAX_STEPS + 5; i++)
    g_string_append_printf (trace, "1@1.000003:virtio_iommu_notify_unmap mr=x virt_start=0x%x virt_end=0x%x\n",
                            i * 0x1000, i * 0x1000 + 0xfff);

  text = iov_scenario_from_trace (json_parser_get_root (parser), trace->str, trace->len, "cap", &n_steps, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_steps, ==, IOV_SCENARIO_FROM_TRACE_MAX_STEPS);

  scenario = iov_scenario_new_from_data (text, -1, "cap", &error);
  g_assert_no_error (error);
  g_assert_cmpint (scenario->model, ==, IOV_IOMMU_INTEL);
  g_assert_cmpuint (scenario->aw_bits, ==, 48);
  g_assert_cmpstr (scenario->profile, ==, "qemu-10.2");
  g_assert_cmpuint (scenario->notifiers->len, ==, 2);
  g_assert_nonnull (strstr (scenario->summary, "10000"));

  step = &g_array_index (scenario->steps, IovStep, 0);
  g_assert_cmpint (step->op, ==, IOV_STEP_DEVICE_IOTLB_INVALIDATE);
  g_assert_cmphex (step->addr, ==, G_GUINT64_CONSTANT (0x7ffffffffffff000));
  g_assert_cmpuint (step->s, ==, 1);
  step = &g_array_index (scenario->steps, IovStep, 1);
  g_assert_cmpint (step->op, ==, IOV_STEP_PSI);
  g_assert_cmphex (step->addr, ==, 0x200000);
  g_assert_cmpuint (step->am, ==, 9);
  step = &g_array_index (scenario->steps, IovStep, 2);
  g_assert_cmpint (step->op, ==, IOV_STEP_NOTIFY);
  g_assert_cmphex (step->addr_mask, ==, 0xfff);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/scenario-from-trace/virtio-iommu-vhost-user", test_virtio_iommu_vhost_user);
  g_test_add_func ("/scenario-from-trace/cap-and-vtd", test_cap_and_vtd);

  return g_test_run ();
}
