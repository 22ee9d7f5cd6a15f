/* fuzz-mtree.c — libFuzzer harness for the `info mtree -f` parser
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

#include <stdint.h>
#include <string.h>

#include "fuzz-util.h"
#include "iov-mtree.h"
#include "iov-snapshot.h"
#include "iov-snapshot-info.h"

/* The input is what QEMU answers to `info mtree -f` (-o, -d included).
 * The parser never fails: every line is a FlatView, an address space, a
 * root, a range or an unknown line, and what it parsed holds together
 * (start ≤ end, an IOMMU range gives a notifier range).  Then the snapshot
 * is built on it, as the collector does for a q35 machine with a vhost
 * virtio-net at 00:01.0 and vfio at 00:02.0: what the snapshot writer
 * writes, the snapshot reader must take, and give back the same JSON. */

static const char query_pci[] =
  "[{\"bus\": 0, \"devices\": ["
  "{\"bus\": 0, \"slot\": 0, \"function\": 0, \"qdev_id\": \"\"},"
  "{\"bus\": 0, \"slot\": 1, \"function\": 0, \"qdev_id\": \"\"},"
  "{\"bus\": 0, \"slot\": 2, \"function\": 0, \"qdev_id\": \"\"},"
  "{\"bus\": 0, \"slot\": 3, \"function\": 0, \"qdev_id\": \"\", \"pci_bridge\": {\"bus\": {\"secondary\": 1},"
  "  \"devices\": [{\"bus\": 1, \"slot\": 0, \"function\": 0, \"qdev_id\": \"\"}]}},"
  "{\"bus\": 0, \"slot\": 31, \"function\": 0, \"qdev_id\": \"\"}]}]";

static const char *versions[] = { "5.2.0", "7.2.4", "7.2.22", "8.0.2", "11.1.3" };

static GPtrArray *
qom_devices (void)
{
  GPtrArray *d = g_ptr_array_new_with_free_func ((GDestroyNotify) iov_qom_device_free);
  struct { const char *path, *type, *bus; int devfn, platform, vhost; } list[] = {
    { "/machine/q35/mch", "mch", "/machine/q35/pcie.0", 0, -1, -1 },
    { "/machine/peripheral-anon/device[1]", "virtio-net-pci", "/machine/q35/pcie.0", 0x08, 1, 1 },
    { "/machine/peripheral-anon/device[2]", "vfio-pci", "/machine/q35/pcie.0", 0x10, -1, -1 },
    { "/machine/peripheral-anon/device[3]", "pcie-root-port", "/machine/q35/pcie.0", 0x18, -1, -1 },
    { "/machine/peripheral-anon/device[4]", "virtio-net-pci", "/machine/peripheral-anon/device[3]/pcie.1", 0, 1, 1 },
    { "/machine/unattached/device[2]", "ICH9-LPC", "/machine/q35/pcie.0", 0xf8, -1, -1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (list); i++)
    {
      IovQomDevice *q = iov_qom_device_new (list[i].path, list[i].type);

      q->bus_path = g_strdup (list[i].bus);
      q->devfn = list[i].devfn;
      q->iommu_platform = list[i].platform;
      q->vhost = list[i].vhost;
      if (list[i].vhost == 1)
        q->vhost_source = "netdev";
      g_ptr_array_add (d, q);
    }
  return d;
}

static void
check_mtree (const IovMtree *mtree,
             const char     *text,
             gsize           len)
{
  guint lines = 0, parsed = 0;

  for (gsize i = 0; i < len; i++)
    lines += text[i] == '\n';
  if (len > 0 && text[len - 1] != '\n')
    lines++;
  g_assert_cmpuint (mtree->n_lines, ==, lines);

  for (guint v = 0; v < mtree->flat_views->len; v++)
    {
      const IovMtreeFlatView *view = g_ptr_array_index (mtree->flat_views, v);
      g_autoptr(GArray) notifiers = iov_mtree_flat_view_notifier_ranges (view);
      gboolean iommu = FALSE;
      guint n = 0;

      parsed++;
      for (guint s = 0; s < view->spaces->len; s++, parsed++)
        {
          const IovMtreeSpace *space = g_ptr_array_index (view->spaces, s);

          g_assert_nonnull (space->name);
          g_assert_nonnull (space->root);
        }
      for (guint r = 0; r < view->ranges->len; r++, parsed++)
        {
          const IovMtreeRange *range = &g_array_index (view->ranges, IovMtreeRange, r);

          g_assert_cmpuint (range->start, <=, range->end);
          g_assert_nonnull (range->kind);
          g_assert_nonnull (range->region);
          g_assert_cmpint (range->role, <=, IOV_RANGE_ROLE_PASSTHROUGH);
          g_assert_true (range->has_offset || range->offset == 0);
          iommu |= range->role == IOV_RANGE_ROLE_IOMMU;
          n += range->role == IOV_RANGE_ROLE_IOMMU;
        }
      g_assert_cmpint (iommu, ==, iov_mtree_flat_view_has_iommu (view));
      g_assert_cmpuint (notifiers->len, ==, n);
    }
  g_assert_cmpuint (parsed + iov_mtree_get_n_unknown (mtree), <=, lines);
}

/* An IOMMU range whose offset plus size passes 2^64. */
static gboolean
wraps (const IovMtree *mtree)
{
  for (guint v = 0; v < mtree->flat_views->len; v++)
    {
      const IovMtreeFlatView *view = g_ptr_array_index (mtree->flat_views, v);

      for (guint r = 0; r < view->ranges->len; r++)
        {
          const IovMtreeRange *range = &g_array_index (view->ranges, IovMtreeRange, r);

          if (range->role == IOV_RANGE_ROLE_IOMMU && range->offset + (range->end - range->start) < range->offset)
            return TRUE;
        }
    }
  return FALSE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static GPtrArray *devices;
  static JsonNode *pci;
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr(IovMtree) mtree = NULL;
  g_autoptr(IovSnapshot) snapshot = NULL;
  g_autoptr(IovSnapshot) before = NULL;
  g_autoptr(JsonObject) props = json_object_new ();
  g_autoptr(JsonNode) written = NULL;
  g_autoptr(JsonNode) again = NULL;
  g_autoptr(IovSnapshotInfo) info = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GError) error = NULL;

  fuzz_init ();
  if (devices == NULL)
    {
      devices = qom_devices ();
      pci = json_from_string (query_pci, NULL);
    }

  /* the bytes as they came, NULs included (not NUL-terminated) */
  {
    g_autofree char *copy = g_memdup2 (data, size);

    mtree = iov_mtree_parse (size ? copy : "", size);
    g_assert_nonnull (mtree);
    check_mtree (mtree, (const char *) data, size);
  }

  json_object_set_int_member (props, "aw-bits", 39);
  json_object_set_boolean_member (props, "device-iotlb", size % 2 == 0);
  snapshot = iov_snapshot_new_from_data (versions[size % G_N_ELEMENTS (versions)], "", "intel-iommu",
                                         props, pci, devices, text);
  written = iov_snapshot_to_json (snapshot, size % 3 == 0);
  info = iov_snapshot_info_new_from_json (written, &error);
  /* No range QEMU cannot print (an offset past 2^64 - size) is read as
   * one, and every name is text: what the writer writes, the reader
   * reads (issue M; both were tolerated here before). */
  g_assert_false (wraps (mtree));
  if (info == NULL)
    g_error ("the snapshot reader refuses what the writer wrote: %s", error->message);
  again = iov_snapshot_info_to_json (info);
  fuzz_assert_json_equal (written, again);

  /* what changed from the machine of the first half of the lines */
  {
    const char *half = g_strrstr_len (text, strlen (text) / 2, "\n");
    g_autofree char *first = g_strndup (text, half ? (gsize) (half - text) + 1 : 0);

    before = iov_snapshot_new_from_data ("7.2.22", "", "intel-iommu", props, pci, devices, first);
    changes = iov_snapshot_diff_changes (before, snapshot);
    for (guint i = 0; i < changes->len; i++)
      g_assert_nonnull (((IovSnapshotChange *) g_ptr_array_index (changes, i))->message);
  }
  return 0;
}
