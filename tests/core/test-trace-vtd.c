/* test-trace-vtd.c — VT-d invalidation descriptor decoding
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

#include "iov-trace-vtd.h"

static gboolean
parse_str (const char *text,
           IovVtdDesc *d)
{
  return iov_vtd_desc_parse (text, strlen (text), d);
}

/* Reference §4.6: S=1 → k = trailing 1-bits of addr >> 12, size = 8192 << k
 * in 64-bit arithmetic (k >= 51 → 0 → whole space); S=0 → 4 KiB. */
static void
test_device_iotlb_range (void)
{
  static const struct { guint64 hi, iova, mask; } cases[] = {
    { 0x10000 | 1, 0x10000, 0x1fff },
    { 0x11000 | 1, 0x10000, 0x3fff },
    { 0x3000 | 1, 0x0, 0x7fff },
    { 0x12345000 | 1, 0x12344000, 0x3fff },
    { 0x7ffff000 | 1, 0x0, 0xffffffff },
    { 0xfeeff000 | 1, 0xfee00000, 0x1fffff },
    { G_GUINT64_CONSTANT (0x7ffffffffffff000) | 1, 0, G_MAXUINT64 },
    { G_GUINT64_CONSTANT (0xfffffffffffff000) | 1, 0, G_MAXUINT64 },
    /* k = 50 is the largest finite size: 2^63 */
    { G_GUINT64_CONSTANT (0x3ffffffffffff000) | 1, 0, G_GUINT64_CONSTANT (0x7fffffffffffffff) },
    /* S = 0: one page, whatever the address */
    { 0x10000, 0x10000, 0xfff },
    { 0x11000, 0x11000, 0xfff },
    { 0x3000, 0x3000, 0xfff },
    { G_GUINT64_CONSTANT (0x7ffffffffffff000), G_GUINT64_CONSTANT (0x7ffffffffffff000), 0xfff },
    { G_GUINT64_CONSTANT (0xfffffffffffff000), G_GUINT64_CONSTANT (0xfffffffffffff000), 0xfff },
    { 0x12345ffe, 0x12345000, 0xfff },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint64 iova = 1, mask = 1;

      iov_vtd_device_iotlb_range (cases[i].hi, &iova, &mask);
      g_test_message ("hi 0x%" G_GINT64_MODIFIER "x", cases[i].hi);
      g_assert_cmphex (iova, ==, cases[i].iova);
      g_assert_cmphex (mask, ==, cases[i].mask);
    }
}

static void
test_observed_device (void)
{
  static const char text[] = "invalidate desc type device high 0x7ffffffffffff001 low 0x1000000003";
  IovVtdDesc d;

  g_assert_true (iov_vtd_desc_parse (text, strlen (text), &d));
  g_assert_cmpuint (d.type, ==, IOV_VTD_DESC_DEVICE);
  g_assert_cmpstr (iov_vtd_desc_type_name (d.type), ==, "device");
  g_assert_cmphex (d.sid, ==, 0x0010);  /* 00:02.0 */
  g_assert_true (d.s);
  g_assert_cmphex (d.raw_addr, ==, G_GUINT64_CONSTANT (0x7ffffffffffff000));
  g_assert_cmphex (d.iova, ==, 0);
  g_assert_cmphex (d.addr_mask, ==, G_MAXUINT64);
  g_assert_true (d.reserved_ok);
}

static void
test_iotlb (void)
{
  IovVtdDesc d;

  /* Observed in guest-intel-strict: a page-selective flush (G=3) of domain 3,
   * followed by vtd_inv_desc_iotlb_pages domain 0x3 addr 0xfffaa000 mask 0x0. */
  g_assert_true (parse_str ("invalidate desc type iotlb high 0xfffaa000 low 0x300f2\r", &d));
  g_assert_cmpuint (d.type, ==, IOV_VTD_DESC_IOTLB);
  g_assert_cmpuint (d.granularity, ==, IOV_VTD_IOTLB_PAGE);
  g_assert_cmphex (d.did, ==, 3);
  g_assert_cmphex (d.addr, ==, 0xfffaa000);
  g_assert_cmpuint (d.am, ==, 0);
  g_assert_true (d.reserved_ok);

  /* Reference §7.1 observed: high 0x12340004 low 0x50032 → domain 5, addr 0x12340000, am 4. */
  iov_vtd_desc_decode (0x12340004, 0x50032, &d);
  g_assert_cmpuint (d.granularity, ==, IOV_VTD_IOTLB_PAGE);
  g_assert_cmphex (d.did, ==, 5);
  g_assert_cmphex (d.addr, ==, 0x12340000);
  g_assert_cmpuint (d.am, ==, 4);

  iov_vtd_desc_decode (0, 0x12, &d);
  g_assert_cmpuint (d.granularity, ==, IOV_VTD_IOTLB_GLOBAL);
  iov_vtd_desc_decode (0, 0x70022, &d);
  g_assert_cmpuint (d.granularity, ==, IOV_VTD_IOTLB_DOMAIN);
  g_assert_cmphex (d.did, ==, 7);

  /* Reserved bits. */
  iov_vtd_desc_decode (0x80, 0x300f2, &d);
  g_assert_false (d.reserved_ok);
  iov_vtd_desc_decode (0, G_GUINT64_CONSTANT (0x100000000300f2), &d);
  g_assert_false (d.reserved_ok);
}

static void
test_other_types (void)
{
  IovVtdDesc d;

  g_assert_true (parse_str ("invalidate desc type wait high 0x1f4a0 low 0x200000025", &d));
  g_assert_cmpuint (d.type, ==, IOV_VTD_DESC_WAIT);
  g_assert_true (parse_str ("invalidate desc type context-cache high 0x0 low 0x11", &d));
  g_assert_cmpuint (d.type, ==, IOV_VTD_DESC_CC);
  /* Type names with spaces (newer QEMU) still parse. */
  g_assert_true (parse_str ("invalidate desc type page group response high 0x0 low 0x9", &d));
  g_assert_cmpuint (d.type, ==, 9);

  g_assert_false (parse_str ("", &d));
  g_assert_false (parse_str ("invalidate desc type iotlb high 0x", &d));
  g_assert_false (parse_str ("invalidate desc type iotlb high 0x1 low 0x2 x", &d));
  g_assert_false (parse_str ("invalidate desc type iotlb high 0x11111111111111111 low 0x2", &d));
}

/* Every device-IOTLB descriptor of the root-port capture decodes with the
 * reserved bits clear and a SID that is a real device. */
static void
test_rootport_fixture (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "trace", "qemu-7.2",
                                                 "guest-intel-rootport", "trace.excerpt.log", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  guint n_device = 0, n_iotlb = 0;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *p = strstr (lines[i], ":vtd_inv_desc ");
      IovVtdDesc d;

      if (p == NULL)
        continue;
      p += strlen (":vtd_inv_desc ");
      g_assert_true (iov_vtd_desc_parse (p, strlen (p), &d));
      g_assert_true (d.reserved_ok);
      if (d.type == IOV_VTD_DESC_DEVICE)
        {
          n_device++;
          g_assert_cmphex (d.sid, ==, 0x0100);  /* virtio-net at 01:00.0, behind rp1 */
          g_assert_cmphex (d.iova & d.addr_mask, ==, 0);
        }
      else if (d.type == IOV_VTD_DESC_IOTLB)
        n_iotlb++;
    }
  g_test_message ("device %u iotlb %u", n_device, n_iotlb);
  g_assert_cmpuint (n_device, >, 0);
  g_assert_cmpuint (n_iotlb, >, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/trace/vtd/device-iotlb-range", test_device_iotlb_range);
  g_test_add_func ("/trace/vtd/observed-device", test_observed_device);
  g_test_add_func ("/trace/vtd/iotlb", test_iotlb);
  g_test_add_func ("/trace/vtd/other-types", test_other_types);
  g_test_add_func ("/trace/vtd/rootport-fixture", test_rootport_fixture);
  return g_test_run ();
}
