/* test-snapshot.c
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

#include "iov-snapshot.h"

/* The snapshot model on the real query-pci and info mtree -f of two guest
 * runs. The QOM side (paths, addr, parent_bus) is written down from the
 * runs' command lines, in the shape the collector builds it. */

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

static JsonNode *
query_pci (const char *name)
{
  g_autofree char *text = load ("qmp", name);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *obj;

  g_assert_true (json_parser_load_from_data (parser, text, -1, NULL));
  obj = json_node_get_object (json_parser_get_root (parser));
  return json_node_copy (json_object_get_member (obj, "return"));
}

static void
add (GPtrArray  *devices,
     const char *path,
     const char *type,
     const char *bus,
     int         devfn,
     int         iommu_platform,
     int         vhost)
{
  IovQomDevice *d = iov_qom_device_new (path, type);

  d->bus_path = g_strdup (bus);
  d->devfn = devfn;
  d->iommu_platform = iommu_platform;
  d->vhost = vhost;
  g_ptr_array_add (devices, d);
}

static GPtrArray *
q35_devices (void)
{
  GPtrArray *d = g_ptr_array_new_with_free_func ((GDestroyNotify) iov_qom_device_free);

  add (d, "/machine/peripheral-anon/device[0]", "intel-iommu", "/machine/unattached/sysbus", -1, -1, -1);
  add (d, "/machine/q35/mch", "mch", "/machine/q35/pcie.0", 0, -1, -1);
  add (d, "/machine/unattached/device[2]", "ICH9-LPC", "/machine/q35/pcie.0", 0xf8, -1, -1);
  add (d, "/machine/unattached/device[16]", "ich9-ahci", "/machine/q35/pcie.0", 0xfa, -1, -1);
  add (d, "/machine/unattached/device[17]", "ICH9-SMB", "/machine/q35/pcie.0", 0xfb, -1, -1);
  return d;
}

static JsonObject *
intel_props (gboolean device_iotlb)
{
  JsonObject *o = json_object_new ();

  json_object_set_int_member (o, "aw-bits", 39);
  json_object_set_boolean_member (o, "caching-mode", TRUE);
  json_object_set_boolean_member (o, "device-iotlb", device_iotlb);
  return o;
}

static JsonObject *
find_space_entry (JsonNode   *root,
                  const char *name,
                  const char *as_root,
                  guint       nth)
{
  JsonArray *a = json_object_get_array_member (json_node_get_object (root), "address_spaces");

  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *e = json_array_get_object_element (a, i);
      JsonArray *spaces = json_object_get_array_member (e, "spaces");

      for (guint j = 0; j < json_array_get_length (spaces); j++)
        {
          JsonObject *s = json_array_get_object_element (spaces, j);

          if (g_str_equal (json_object_get_string_member (s, "name"), name) &&
              g_str_equal (json_object_get_string_member (s, "root"), as_root))
            {
              if (nth-- == 0)
                return e;
              break;
            }
        }
    }
  return NULL;
}

static char *
to_string (JsonNode *node)
{
  return json_to_string (node, FALSE);
}

static void
test_issue_example (void)
{
  g_autoptr(GPtrArray) devices = q35_devices ();
  g_autoptr(JsonNode) pci = query_pci ("intel-strict-query-pci.jsonl");
  g_autoptr(JsonObject) props = intel_props (TRUE);
  g_autofree char *mtree = load ("mtree", "intel-strict-mtree-1-modules-mtree-f.txt");
  g_autoptr(IovSnapshot) snap = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) entry_node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *entry_text = NULL;
  JsonArray *devs;
  JsonObject *entry;

  add (devices, "/machine/peripheral-anon/device[1]", "virtio-net-pci", "/machine/q35/pcie.0", 0x08, 1, 0);
  add (devices, "/machine/peripheral-anon/device[2]", "virtio-rng-pci", "/machine/q35/pcie.0", 0x10, 1, 0);
  snap = iov_snapshot_new_from_data ("7.2.22", "Debian 1:7.2+dfsg-7+deb12u18+b3", "intel-iommu", props, pci, devices, mtree);
  root = iov_snapshot_to_json (snap, FALSE);

  devs = json_object_get_array_member (json_node_get_object (root), "devices");
  g_assert_cmpuint (json_array_get_length (devs), ==, 6);
  {
    g_autoptr(JsonNode) d1 = json_node_new (JSON_NODE_OBJECT);
    g_autofree char *t = NULL;

    json_node_set_object (d1, json_array_get_object_element (devs, 1));
    t = to_string (d1);
    g_assert_cmpstr (t, ==, "{\"bdf\":\"00:01.0\",\"type\":\"virtio-net-pci\",\"qom_path\":\"/machine/peripheral-anon/device[1]\",\"vhost\":false}");
  }

  /* the entry of the issue, byte for byte (whitespace aside) */
  entry = find_space_entry (root, "vtd-root", "vtd-01.0", 0);
  g_assert_nonnull (entry);
  json_node_set_object (entry_node, entry);
  entry_text = to_string (entry_node);
  g_assert_cmpstr (entry_text, ==,
                   "{\"spaces\":[{\"name\":\"virtio-net-pci\",\"root\":\"bus master container\",\"device\":\"00:01.0\"},"
                   "{\"name\":\"vtd-root\",\"root\":\"vtd-01.0\",\"device\":\"00:01.0\"}],"
                   "\"root_region\":\"vtd-01.0-dmar\",\"iommu\":true,"
                   "\"flat_ranges\":["
                   "{\"start\":\"0x0\",\"end\":\"0xfedfffff\",\"priority\":0,\"kind\":\"i/o\",\"region\":\"vtd-01.0-dmar\",\"offset\":\"0x0\",\"role\":\"iommu\"},"
                   "{\"start\":\"0xfee00000\",\"end\":\"0xfeefffff\",\"priority\":1,\"kind\":\"i/o\",\"region\":\"vtd-ir\",\"offset\":\"0x0\",\"role\":\"interrupt\"},"
                   "{\"start\":\"0xfef00000\",\"end\":\"0xffffffffffffffff\",\"priority\":0,\"kind\":\"i/o\",\"region\":\"vtd-01.0-dmar\",\"offset\":\"0xfef00000\",\"role\":\"iommu\"}],"
                   "\"notifiers\":[]}");

  /* memory and I/O views are entries too; the unrendered bus-master view is not */
  g_assert_nonnull (find_space_entry (root, "memory", "system", 0));
  g_assert_nonnull (find_space_entry (root, "I/O", "io", 0));
  g_assert_null (find_space_entry (root, "mch", "bus master container", 0));
  g_assert_false (json_object_get_boolean_member (find_space_entry (root, "memory", "system", 0), "iommu"));
}

static void
test_vhost_notifiers (void)
{
  g_autoptr(GPtrArray) devices = q35_devices ();
  g_autoptr(JsonNode) pci = query_pci ("intel-strict-query-pci.jsonl");
  g_autoptr(JsonObject) props = intel_props (TRUE);
  g_autofree char *mtree = load ("mtree", "intel-strict-mtree-1-modules-mtree-f.txt");
  const struct { const char *version; gboolean dt; const char *flags; } cases[] = {
    { "7.2.22", TRUE, NULL },             /* follows the guest's ATS enable bit */
    { "8.1.0", TRUE, NULL },
    { "7.2.4", TRUE, "deviotlb-unmap" },
    { "8.0.2", FALSE, "unmap" },
    { "5.2.0", TRUE, "unmap" },
  };

  add (devices, "/machine/peripheral-anon/device[1]", "virtio-net-pci", "/machine/q35/pcie.0", 0x08, 1, 1);
  add (devices, "/machine/peripheral-anon/device[2]", "virtio-rng-pci", "/machine/q35/pcie.0", 0x10, 1, 0);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonObject) p = intel_props (cases[i].dt);
      g_autoptr(IovSnapshot) snap = iov_snapshot_new_from_data (cases[i].version, "", "intel-iommu", p, pci, devices, mtree);
      g_autoptr(JsonNode) root = iov_snapshot_to_json (snap, TRUE);
      JsonObject *e = find_space_entry (root, "vtd-root", "vtd-01.0", 0);
      JsonArray *n = json_object_get_array_member (e, "notifiers");
      JsonObject *n0, *n1;

      g_assert_cmpuint (json_array_get_length (n), ==, 2);
      n0 = json_array_get_object_element (n, 0);
      n1 = json_array_get_object_element (n, 1);
      g_assert_cmpstr (json_object_get_string_member (n0, "consumer"), ==, "vhost");
      g_assert_cmpstr (json_object_get_string_member (n0, "start"), ==, "0x0");
      g_assert_cmpstr (json_object_get_string_member (n0, "end"), ==, "0xfedfffff");
      g_assert_cmpstr (json_object_get_string_member (n1, "start"), ==, "0xfef00000");
      g_assert_cmpstr (json_object_get_string_member (n1, "end"), ==, "0xffffffffffffffff");
      g_assert_true (json_object_get_boolean_member (n1, "inferred"));
      if (cases[i].flags)
        g_assert_cmpstr (json_object_get_string_member (n0, "flags"), ==, cases[i].flags);
      else
        g_assert_true (json_object_get_null_member (n0, "flags"));
      /* plain virtio: no notifier */
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (find_space_entry (root, "vtd-root", "vtd-02.0", 0), "notifiers")), ==, 0);
      g_assert_true (json_object_has_member (json_node_get_object (root), "mtree"));
    }

  (void) props;
}

static void
test_rootport_resolution (void)
{
  g_autoptr(GPtrArray) devices = q35_devices ();
  g_autoptr(JsonNode) pci = query_pci ("intel-rootport-query-pci.jsonl");
  g_autoptr(JsonObject) props = intel_props (TRUE);
  g_autofree char *mtree = load ("mtree", "intel-rootport-mtree-1-modules-mtree-f.txt");
  g_autoptr(IovSnapshot) snap = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  add (devices, "/machine/peripheral/rp1", "pcie-root-port", "/machine/q35/pcie.0", 0x18, -1, -1);
  add (devices, "/machine/peripheral/rp2", "pcie-root-port", "/machine/q35/pcie.0", 0x20, -1, -1);
  add (devices, "/machine/peripheral-anon/device[1]", "virtio-net-pci", "/machine/peripheral/rp1/rp1", 0, 1, 0);
  add (devices, "/machine/peripheral-anon/device[2]", "virtio-rng-pci", "/machine/peripheral/rp2/rp2", 0, 1, 0);
  snap = iov_snapshot_new_from_data ("7.2.22", "", "intel-iommu", props, pci, devices, mtree);
  root = iov_snapshot_to_json (snap, FALSE);

  /* three ASes named vtd-00.0: 00:00.0, 01:00.0 and 02:00.0, each resolved */
  for (guint i = 0; i < 3; i++)
    {
      JsonObject *e = find_space_entry (root, "vtd-root", "vtd-00.0", i);
      JsonArray *spaces = json_object_get_array_member (e, "spaces");
      const char *bdf = NULL;

      for (guint j = 0; j < json_array_get_length (spaces); j++)
        {
          JsonObject *s = json_array_get_object_element (spaces, j);

          if (g_str_equal (json_object_get_string_member (s, "name"), "vtd-root"))
            bdf = json_object_get_string_member (s, "device");
          else
            g_assert_cmpstr (json_object_get_string_member (s, "device"), ==, bdf ? bdf : json_object_get_string_member (s, "device"));
        }
      g_assert_nonnull (bdf);
      g_assert_false (g_hash_table_contains (seen, bdf));
      g_hash_table_add (seen, (gpointer) bdf);
      g_assert_true (json_object_get_boolean_member (e, "iommu"));
    }
  g_assert_true (g_hash_table_contains (seen, "00:00.0"));
  g_assert_true (g_hash_table_contains (seen, "01:00.0"));
  g_assert_true (g_hash_table_contains (seen, "02:00.0"));
}

static void
test_rootport_ambiguous (void)
{
  g_autoptr(GPtrArray) devices = q35_devices ();
  g_autoptr(JsonNode) pci = query_pci ("intel-rootport-query-pci.jsonl");
  g_autofree char *mtree = load ("mtree", "intel-rootport-mtree-1-modules-mtree-f.txt");
  g_autoptr(IovSnapshot) snap = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *e;
  JsonObject *s;

  /* without QOM for the endpoints the lone vtd-00.0 FlatView cannot be
   * told apart: the data says so instead of guessing */
  snap = iov_snapshot_new_from_data ("7.2.22", "", NULL, NULL, pci, NULL, mtree);
  root = iov_snapshot_to_json (snap, FALSE);
  e = find_space_entry (root, "vtd-root", "vtd-00.0", 1);
  s = json_array_get_object_element (json_object_get_array_member (e, "spaces"), 0);
  g_assert_true (json_object_get_null_member (s, "device"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (s, "candidates")), ==, 3);
  g_assert_true (json_object_get_null_member (json_node_get_object (root), "iommu"));
}

static void
test_diff (void)
{
  g_autoptr(GPtrArray) devices = q35_devices ();
  g_autoptr(JsonNode) pci = query_pci ("intel-strict-query-pci.jsonl");
  g_autofree char *before_text = load ("mtree", "intel-strict-mtree-0-start-mtree-f.txt");
  g_autofree char *after_text = load ("mtree", "intel-strict-mtree-1-modules-mtree-f.txt");
  g_autoptr(IovSnapshot) before = NULL;
  g_autoptr(IovSnapshot) after = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GPtrArray) none = NULL;
  gboolean found = FALSE;

  add (devices, "/machine/peripheral-anon/device[1]", "virtio-net-pci", "/machine/q35/pcie.0", 0x08, 1, 0);
  add (devices, "/machine/peripheral-anon/device[2]", "virtio-rng-pci", "/machine/q35/pcie.0", 0x10, 1, 0);
  before = iov_snapshot_new_from_data ("7.2.22", "", "intel-iommu", NULL, pci, devices, before_text);
  after = iov_snapshot_new_from_data ("7.2.22", "", "intel-iommu", NULL, pci, devices, after_text);
  changes = iov_snapshot_diff (before, after);
  for (guint i = 0; i < changes->len; i++)
    {
      g_test_message ("%s", (char *) g_ptr_array_index (changes, i));
      if (g_str_equal (g_ptr_array_index (changes, i), "00:02.0 switched to DMA remapping: 3 ranges"))
        found = TRUE;
    }
  g_assert_true (found);
  none = iov_snapshot_diff (after, after);
  g_assert_cmpuint (none->len, ==, 0);
}

/* HMP info network as QEMU 11.1.3 printed it (a NIC and its peer, CRLF),
 * and a vhost-user peer as 7.2.22 printed it. */
static void
test_netdev_type (void)
{
  static const char *user = "virtio-net-pci.0: index=0,type=nic,model=virtio-net-pci,macaddr=52:54:00:12:34:56\r\n"
                            " \\ n0: index=0,type=user,net=10.0.2.0,restrict=off\r\n";
  static const char *vhu = "net0: index=0,type=nic,model=virtio-net-pci,macaddr=52:54:00:12:34:56\r\n"
                           " \\ n0: index=0,type=vhost-user,vhost-user to chr0\r\n";
  g_autofree char *a = iov_snapshot_netdev_type (user, "n0");
  g_autofree char *b = iov_snapshot_netdev_type (vhu, "n0");
  g_autofree char *c = iov_snapshot_netdev_type (vhu, "net0");
  g_autofree char *d = iov_snapshot_netdev_type (vhu, "n");
  g_autofree char *e = iov_snapshot_netdev_type ("", "n0");

  g_assert_cmpstr (a, ==, "user");
  g_assert_cmpstr (b, ==, "vhost-user");
  g_assert_cmpstr (c, ==, "nic");
  g_assert_null (d);
  g_assert_null (e);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/snapshot/issue-example", test_issue_example);
  g_test_add_func ("/snapshot/vhost-notifiers", test_vhost_notifiers);
  g_test_add_func ("/snapshot/rootport-resolution", test_rootport_resolution);
  g_test_add_func ("/snapshot/rootport-ambiguous", test_rootport_ambiguous);
  g_test_add_func ("/snapshot/diff", test_diff);
  g_test_add_func ("/snapshot/netdev-type", test_netdev_type);

  return g_test_run ();
}
