/* test-snapshot-info.c
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

#include "iov-inference.h"
#include "iov-snapshot-info.h"
#include "iov-types.h"

/* The snapshot reader (issues J and M): what `iovista-cli snapshot` writes
 * reads back into types and writes back the same; anything else is a
 * GError that names the JSON path of what is wrong, and the inference
 * uses nothing of it. */

static char *
load (const char *first,
      ...)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  char *text = NULL;
  va_list args;

  va_start (args, first);
  {
    g_autoptr(GPtrArray) parts = g_ptr_array_new ();

    g_ptr_array_add (parts, (gpointer) g_test_get_dir (G_TEST_DIST));
    for (const char *p = first; p != NULL; p = va_arg (args, const char *))
      g_ptr_array_add (parts, (gpointer) p);
    g_ptr_array_add (parts, NULL);
    path = g_build_filenamev ((char **) parts->pdata);
  }
  va_end (args);
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

static void
assert_refused (const char *json,
                const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) inference_error = NULL;
  g_autoptr(IovSnapshotInfo) info = iov_snapshot_info_new_from_data (json, -1, &error);
  g_autoptr(JsonNode) node = json_from_string (json, NULL);
  g_autoptr(IovInference) inference = NULL;
  g_autofree char *expected = g_strconcat ("snapshot: ", message, NULL);

  g_assert_null (info);
  g_assert_error (error, IOV_ERROR, IOV_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, message);

  /* the inference refuses it whole, with the same words */
  g_assert_nonnull (node);
  inference = iov_inference_new_from_snapshot (node, NULL, &inference_error);
  g_assert_null (inference);
  g_assert_error (inference_error, IOV_ERROR, IOV_ERROR_INVALID);
  g_assert_cmpstr (inference_error->message, ==, expected);
}

/* The two inputs a fuzzer found crashing `trace --infer` (issue M). */
static void
test_regressions (void)
{
  g_autofree char *version_true = load ("fuzz", "corpus", "snapshot", "regression-version-true.json", NULL);
  g_autofree char *overflow = load ("fuzz", "corpus", "snapshot", "regression-version-overflow.json", NULL);

  /* sscanf on NULL (SIGSEGV in iov-inference.c) */
  assert_refused (version_true, "qemu.version: expected a string, found true");
  /* signed overflow in iov_profile_for_version() */
  assert_refused (overflow, "qemu.version: \"72222222222222.2.22\" is not MAJOR.MINOR[.MICRO] "
                            "with each part from 0 to 65535");
}

#define QEMU "\"qemu\": {\"version\": \"7.2.22\", \"package\": \"Debian\"}"
#define NOTIFIER(fields) "{" QEMU ", \"address_spaces\": [{\"notifiers\": [{" fields "}]}]}"
#define RANGE "\"device\": \"01:00.0\", \"start\": \"0x0\", \"end\": \"0xfedfffff\""

static void
test_invalid (void)
{
  static const struct { const char *json, *message; } cases[] = {
    { "[]", "a snapshot is a JSON object" },
    { "{\"qemu\": {\"version\": \"7.2.0\"}}", "not an Iovista snapshot: no \"qemu\" or \"address_spaces\"" },
    { "{\"qemu\": [], \"address_spaces\": []}", "qemu: expected an object, found an array" },
    { "{\"qemu\": null, \"address_spaces\": []}", "qemu: must not be null" },
    { "{\"qemu\": {}, \"address_spaces\": []}", "qemu.version: missing" },
    { "{\"qemu\": {\"version\": 7.2}, \"address_spaces\": []}", "qemu.version: expected a string, found 7.2" },
    { "{\"qemu\": {\"version\": \"7\"}, \"address_spaces\": []}",
      "qemu.version: \"7\" is not MAJOR.MINOR[.MICRO] with each part from 0 to 65535" },
    { "{\"qemu\": {\"version\": \"7.2.0.1\"}, \"address_spaces\": []}",
      "qemu.version: \"7.2.0.1\" is not MAJOR.MINOR[.MICRO] with each part from 0 to 65535" },
    { "{\"qemu\": {\"version\": \"65536.0\"}, \"address_spaces\": []}",
      "qemu.version: \"65536.0\" is not MAJOR.MINOR[.MICRO] with each part from 0 to 65535" },
    { "{\"qemu\": {\"version\": \"-7.2\"}, \"address_spaces\": []}",
      "qemu.version: \"-7.2\" is not MAJOR.MINOR[.MICRO] with each part from 0 to 65535" },
    { "{\"qemu\": {\"version\": \"7.2\", \"package\": 1}, \"address_spaces\": []}",
      "qemu.package: expected a string, found 1" },
    { "{" QEMU ", \"address_spaces\": {}}", "address_spaces: expected an array, found an object" },
    { "{" QEMU ", \"address_spaces\": [1]}", "address_spaces[0]: expected an object, found 1" },
    { "{" QEMU ", \"iommu\": \"intel-iommu\", \"address_spaces\": []}", "iommu: expected an object, found \"intel-iommu\"" },
    { "{" QEMU ", \"iommu\": {\"type\": \"intel-iommu\", \"properties\": {\"aw-bits\": \"39\"}}, \"address_spaces\": []}",
      "iommu.properties.aw-bits: expected an integer, found \"39\"" },
    { "{" QEMU ", \"iommu\": {\"type\": \"intel-iommu\", \"properties\": {\"aw-bits\": 12}}, \"address_spaces\": []}",
      "iommu.properties.aw-bits: 12 is not an address width QEMU accepts (32 to 64)" },
    { "{" QEMU ", \"devices\": [{\"bdf\": \"00:20.0\"}], \"address_spaces\": []}",
      "devices[0].bdf: \"00:20.0\" is not a PCI address (BUS:DEVICE.FUNCTION)" },
    { "{" QEMU ", \"devices\": [{\"bdf\": \"00:02.0\"}, {\"bdf\": \"00:02.0\", \"vhost\": \"yes\"}], \"address_spaces\": []}",
      "devices[1].vhost: expected true, false or null, found \"yes\"" },
    { "{" QEMU ", \"notes\": [\"a\", null], \"address_spaces\": []}", "notes[1]: expected a string, found null" },
    { "{" QEMU ", \"address_spaces\": [{}, {}, {\"notifiers\": [{\"device\": \"01:00.0\", \"start\": \"0xZZ\", \"end\": \"0x1\"}]}]}",
      "address_spaces[2].notifiers[0].start: \"0xZZ\" is not a hex number" },
    { NOTIFIER ("\"device\": \"01:00.0\", \"start\": \"0x0\""), "address_spaces[0].notifiers[0].end: missing" },
    { NOTIFIER ("\"start\": \"0x0\", \"end\": \"0x1\""), "address_spaces[0].notifiers[0].device: missing" },
    { NOTIFIER ("\"device\": \"01:00.0\", \"start\": 0, \"end\": \"0x1\""),
      "address_spaces[0].notifiers[0].start: expected a hex number, found 0" },
    { NOTIFIER ("\"device\": \"01:00.0\", \"start\": \"0x2000\", \"end\": \"0x1000\""),
      "address_spaces[0].notifiers[0].end: \"0x1000\" is not at or above start" },
    { NOTIFIER ("\"device\": \"1:0\", \"start\": \"0x0\", \"end\": \"0x1\""),
      "address_spaces[0].notifiers[0].device: \"1:0\" is not a PCI address (BUS:DEVICE.FUNCTION)" },
    { NOTIFIER (RANGE ", \"flags\": \"map|remap\""),
      "address_spaces[0].notifiers[0].flags: “remap” in notifier flags “map|remap” is not map, unmap, deviotlb-unmap or none" },
    { NOTIFIER (RANGE ", \"flags\": 3"), "address_spaces[0].notifiers[0].flags: expected a string, found 3" },
    { NOTIFIER (RANGE ", \"consumer\": {}"), "address_spaces[0].notifiers[0].consumer: expected a string, found an object" },
    { NOTIFIER (RANGE ", \"inferred\": 1"), "address_spaces[0].notifiers[0].inferred: expected true, false or null, found 1" },
    { "{" QEMU ", \"address_spaces\": [{\"spaces\": [{\"name\": \"vtd-root\"}]}]}", "address_spaces[0].spaces[0].root: missing" },
    { "{" QEMU ", \"address_spaces\": [{\"spaces\": [{\"name\": \"a\", \"root\": \"b\", \"candidates\": [\"00:02.0\", \"x\"]}]}]}",
      "address_spaces[0].spaces[0].candidates[1]: \"x\" is not a PCI address such as \"00:02.0\"" },
    { "{" QEMU ", \"address_spaces\": [{\"flat_ranges\": [{\"start\": \"0x0\", \"end\": \"0xfff\", \"role\": \"dma\"}]}]}",
      "address_spaces[0].flat_ranges[0].role: \"dma\" is not io, ram, rom, iommu, interrupt or passthrough" },
    { "{" QEMU ", \"address_spaces\": [{\"flat_ranges\": [{\"start\": \"0x0\", \"end\": \"0xfff\", \"priority\": 1e10}]}]}",
      "address_spaces[0].flat_ranges[0].priority: expected an integer, found 10000000000" },
    { "{" QEMU ", \"address_spaces\": [{\"root_region\": false}]}",
      "address_spaces[0].root_region: expected a string, found false" },
    { "{" QEMU ", \"address_spaces\": [], \"mtree\": 0}", "mtree: expected a string, found 0" },
    /* json-glib takes "\201" as an octal escape: not UTF-8, and not JSON
     * once written back (a fuzzer found it) */
    { "{" QEMU ", \"notes\": [\"a\\201\"], \"address_spaces\": []}", "notes[0]: \"a\\ufffd\" is not UTF-8 text" },
    { "{" QEMU ", \"iommu\": {\"type\": \"intel-iommu\", \"properties\": {\"x\": [\"\\201\"]}}, \"address_spaces\": []}",
      "iommu.properties.x[0]: \"\\ufffd\" is not UTF-8 text" },
    { "{" QEMU ", \"address_spaces\": [{\"root_region\": \"\\201\"}]}",
      "address_spaces[0].root_region: \"\\ufffd\" is not UTF-8 text" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    assert_refused (cases[i].json, cases[i].message);
}

static void
test_versions (void)
{
  static const struct { const char *text; gboolean ok; guint major, minor, micro; } cases[] = {
    { "7.2.22", TRUE, 7, 2, 22 },
    { "10.0", TRUE, 10, 0, 0 },
    { "65535.65535.65535", TRUE, 65535, 65535, 65535 },
    { "0.0.0", TRUE, 0, 0, 0 },
    { "7", FALSE }, { "7.", FALSE }, { ".7", FALSE }, { "7..2", FALSE }, { "7.2.", FALSE },
    { "7.2.3.4", FALSE }, { "7.65536", FALSE }, { "99999999999999999999.1", FALSE },
    { "7.2 ", FALSE }, { " 7.2", FALSE }, { "+7.2", FALSE }, { "7.2-rc1", FALSE }, { "", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint major = 1000, minor = 1000, micro = 1000;

      g_assert_cmpint (iov_snapshot_parse_version (cases[i].text, &major, &minor, &micro), ==, cases[i].ok);
      if (cases[i].ok)
        {
          g_assert_cmpuint (major, ==, cases[i].major);
          g_assert_cmpuint (minor, ==, cases[i].minor);
          g_assert_cmpuint (micro, ==, cases[i].micro);
        }
    }
  g_assert_false (iov_snapshot_parse_version (NULL, NULL, NULL, NULL));
}

/* The hand-written snapshots of the inference tests, as types. */
static void
test_read (void)
{
  g_autofree char *text = load ("data", "snapshots", "vhost-user-intel-ats.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(IovSnapshotInfo) info = iov_snapshot_info_new_from_data (text, -1, &error);
  const IovSnapshotAddressSpace *as;
  const IovSnapshotNotifier *n;
  const IovSnapshotDevice *d;

  g_assert_no_error (error);
  g_assert_cmpstr (info->version, ==, "7.2.22");
  g_assert_cmpuint (info->major, ==, 7);
  g_assert_cmpuint (info->minor, ==, 2);
  g_assert_cmpuint (info->micro, ==, 22);
  g_assert_cmpstr (iov_snapshot_info_get_profile (info)->id, ==, "debian-7.2");
  g_assert_cmpstr (info->iommu_type, ==, "intel-iommu");
  g_assert_cmpuint (info->aw_bits, ==, 39);
  g_assert_null (info->notes);
  g_assert_null (info->mtree);
  g_assert_cmpuint (info->devices->len, ==, 1);
  d = g_ptr_array_index (info->devices, 0);
  g_assert_cmpstr (d->bdf, ==, "01:00.0");
  g_assert_cmpstr (d->type, ==, "virtio-net-pci");
  g_assert_cmpint (d->vhost, ==, 1);
  g_assert_null (d->netdev);
  g_assert_cmpuint (info->address_spaces->len, ==, 1);
  as = g_ptr_array_index (info->address_spaces, 0);
  g_assert_cmpuint (as->spaces->len, ==, 0);
  g_assert_cmpuint (as->flat_ranges->len, ==, 0);
  g_assert_cmpuint (as->notifiers->len, ==, 2);
  n = g_ptr_array_index (as->notifiers, 1);
  g_assert_cmpstr (n->consumer, ==, "vhost");
  g_assert_cmpstr (n->device, ==, "01:00.0");
  g_assert_cmpuint (n->start, ==, 0xfef00000);
  g_assert_cmpuint (n->end, ==, G_MAXUINT64);
  g_assert_false (n->has_flags);
  g_assert_true (n->inferred);
}

/* BDFs are kept in one spelling: the trace's. */
static void
test_bdf_spelling (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IovSnapshotInfo) info = iov_snapshot_info_new_from_data (
    "{" QEMU ", \"devices\": [{\"bdf\": \"1:0.0\"}, {\"bdf\": \"0A:1F.7\"}], \"address_spaces\": ["
    "{\"spaces\": [{\"name\": \"vtd-root\", \"root\": \"vtd-00.0\", \"device\": null, \"candidates\": [\"0:0.0\", \"1:0.0\"]}],"
    " \"notifiers\": [{\"device\": \"2:0.0\", \"start\": \"0X10\", \"end\": \"0xFF\", \"flags\": \"unmap|deviotlb-unmap\"}]}]}",
    -1, &error);
  const IovSnapshotAddressSpace *as;
  const IovSnapshotSpace *s;
  const IovSnapshotNotifier *n;

  g_assert_no_error (error);
  g_assert_cmpstr (((IovSnapshotDevice *) g_ptr_array_index (info->devices, 0))->bdf, ==, "01:00.0");
  g_assert_cmpstr (((IovSnapshotDevice *) g_ptr_array_index (info->devices, 1))->bdf, ==, "0a:1f.7");
  as = g_ptr_array_index (info->address_spaces, 0);
  s = g_ptr_array_index (as->spaces, 0);
  g_assert_true (s->has_device);
  g_assert_null (s->device);
  g_assert_cmpstr (s->candidates[0], ==, "00:00.0");
  g_assert_cmpstr (s->candidates[1], ==, "01:00.0");
  g_assert_null (s->candidates[2]);
  n = g_ptr_array_index (as->notifiers, 0);
  g_assert_cmpstr (n->device, ==, "02:00.0");
  g_assert_cmpuint (n->start, ==, 0x10);
  g_assert_cmpuint (n->end, ==, 0xff);
  g_assert_true (n->has_flags);
  /* the flags the two old substring readers disagreed on (issue J) */
  g_assert_cmpuint (n->flags, ==, IOV_NOTIFIER_UNMAP | IOV_NOTIFIER_DEVIOTLB_UNMAP);
}

/* What `iovista-cli snapshot` wrote on real captures of every QEMU era
 * (the snapshot fuzzer's seeds), read and written again, is the same JSON,
 * key for key: the reader knows every key.  (fuzz-mtree checks the same on
 * the writer as it is, for any `info mtree -f`.) */
static void
test_round_trip (void)
{
  static const char *files[] = {
    "qemu-5.2-vhu.json", "qemu-7.2-vhu-full.json", "qemu-10.0-vhu.json", "qemu-11.1-boot-full.json",
    "qemu-7.2-guest-amd.json", "qemu-7.2-guest-virtio-iommu-vhost-user-nomsi.json",
  };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *text = load ("fuzz", "corpus", "snapshot", files[i], NULL);
      g_autoptr(JsonNode) written = json_from_string (text, NULL);
      g_autoptr(IovSnapshotInfo) info = NULL;
      g_autoptr(JsonNode) again = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *a = NULL;
      g_autofree char *b = NULL;

      info = iov_snapshot_info_new_from_json (written, &error);
      g_assert_no_error (error);
      again = iov_snapshot_info_to_json (info);
      if (!json_node_equal (written, again))
        {
          a = json_to_string (written, FALSE);
          b = json_to_string (again, FALSE);
          g_assert_cmpstr (b, ==, a);
        }
      g_assert_cmpuint (info->address_spaces->len, >, 0);
      if (strstr (files[i], "-vhu") != NULL)
        {
          guint notifiers = 0;

          for (guint j = 0; j < info->address_spaces->len; j++)
            notifiers += ((IovSnapshotAddressSpace *) g_ptr_array_index (info->address_spaces, j))->notifiers->len;
          g_assert_cmpuint (notifiers, >, 0);
        }
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/snapshot-info/regressions", test_regressions);
  g_test_add_func ("/snapshot-info/invalid", test_invalid);
  g_test_add_func ("/snapshot-info/versions", test_versions);
  g_test_add_func ("/snapshot-info/read", test_read);
  g_test_add_func ("/snapshot-info/bdf-spelling", test_bdf_spelling);
  g_test_add_func ("/snapshot-info/round-trip", test_round_trip);
  return g_test_run ();
}
