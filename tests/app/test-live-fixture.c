/* test-live-fixture.c — a snapshot from the fixtures, without QEMU
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

#include "iov-snapshot.h"

/* The fixture snapshot the live-view tests share. */
JsonNode *test_live_fixture_snapshot (void);

static char *
load (const char *dir,
      const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", dir, name, NULL);
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

static void
add (GPtrArray  *devices,
     const char *path,
     const char *type,
     int         devfn,
     int         iommu_platform,
     int         vhost)
{
  IovQomDevice *d = iov_qom_device_new (path, type);

  d->bus_path = g_strdup (devfn >= 0 ? "/machine/q35/pcie.0" : "/machine/unattached/sysbus");
  d->devfn = devfn;
  d->iommu_platform = iommu_platform;
  d->vhost = vhost;
  g_ptr_array_add (devices, d);
}

/* The intel-strict run after the guest loaded its modules: DMA remapping
 * on for 00:01.0 (virtio-net) and 00:02.0 (virtio-rng, given vhost here
 * so that it has notifiers). */
JsonNode *
test_live_fixture_snapshot (void)
{
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func ((GDestroyNotify) iov_qom_device_free);
  g_autofree char *pci_text = load ("qmp", "intel-strict-query-pci.jsonl");
  g_autofree char *mtree = load ("mtree", "intel-strict-mtree-1-modules-mtree-f.txt");
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonObject) props = json_object_new ();
  g_autoptr(IovSnapshot) snap = NULL;
  JsonNode *pci;

  g_assert_true (json_parser_load_from_data (parser, pci_text, -1, NULL));
  pci = json_object_get_member (json_node_get_object (json_parser_get_root (parser)), "return");
  json_object_set_int_member (props, "aw-bits", 39);
  json_object_set_boolean_member (props, "caching-mode", TRUE);
  json_object_set_boolean_member (props, "device-iotlb", TRUE);

  add (devices, "/machine/peripheral-anon/device[0]", "intel-iommu", -1, -1, -1);
  add (devices, "/machine/q35/mch", "mch", 0, -1, -1);
  add (devices, "/machine/unattached/device[2]", "ICH9-LPC", 0xf8, -1, -1);
  add (devices, "/machine/unattached/device[16]", "ich9-ahci", 0xfa, -1, -1);
  add (devices, "/machine/unattached/device[17]", "ICH9-SMB", 0xfb, -1, -1);
  add (devices, "/machine/peripheral-anon/device[1]", "virtio-net-pci", 0x08, 1, 0);
  add (devices, "/machine/peripheral-anon/device[2]", "virtio-rng-pci", 0x10, 1, 1);
  snap = iov_snapshot_new_from_data ("7.2.0", "", "intel-iommu", props, pci, devices, mtree);
  return iov_snapshot_to_json (snap, FALSE);
}

