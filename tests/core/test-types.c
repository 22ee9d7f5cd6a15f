/* test-types.c
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

#include "iov-types.h"

static void
test_hex_roundtrip (void)
{
  static const guint64 values[] = {
    0, 1, 0xfff, 0xfedfffff, 0xfef00000, G_GUINT64_CONSTANT (0xffffffff010fffff), G_MAXUINT64,
  };
  static const char *texts[] = {
    "0x0", "0x1", "0xfff", "0xfedfffff", "0xfef00000", "0xffffffff010fffff", "0xffffffffffffffff",
  };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autofree char *s = iov_hex (values[i]);
      guint64 back = 0;

      g_assert_cmpstr (s, ==, texts[i]);
      g_assert_true (iov_parse_hex (s, &back));
      g_assert_cmpuint (back, ==, values[i]);
    }
}

static void
test_hex_rejects (void)
{
  static const char *bad[] = {
    "", "0x", "12", "0xg", "x12", "0x10000000000000000", " 0x1", "0x1 ", "-0x1",
  };
  guint64 v = 42;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (iov_parse_hex (bad[i], &v));
      g_assert_cmpuint (v, ==, 42);
    }
  g_assert_true (iov_parse_hex ("0XFEE00000", &v));
  g_assert_cmpuint (v, ==, 0xfee00000);
}

static void
test_pow2_floor (void)
{
  g_assert_cmpuint (iov_pow2_floor (0), ==, 0);
  g_assert_cmpuint (iov_pow2_floor (1), ==, 1);
  g_assert_cmpuint (iov_pow2_floor (0xfee00000), ==, 0x80000000);
  g_assert_cmpuint (iov_pow2_floor (G_MAXUINT64), ==, G_GUINT64_CONSTANT (1) << 63);
}

static void
test_names (void)
{
  IovPerm perm;
  IovNotifierFlags type;
  g_autofree char *flags = iov_flags_to_string (IOV_NOTIFIER_MAP | IOV_NOTIFIER_UNMAP);

  g_assert_cmpstr (flags, ==, "map|unmap");
  g_assert_true (iov_perm_from_string ("wo", &perm));
  g_assert_cmpint (perm, ==, IOV_PERM_WO);
  g_assert_false (iov_perm_from_string ("rx", &perm));
  g_assert_true (iov_event_type_from_string ("deviotlb-unmap", &type));
  g_assert_cmpint (type, ==, IOV_NOTIFIER_DEVIOTLB_UNMAP);
  g_assert_cmpstr (iov_event_type_to_string (IOV_NOTIFIER_MAP), ==, "map");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/types/hex/roundtrip", test_hex_roundtrip);
  g_test_add_func ("/types/hex/rejects", test_hex_rejects);
  g_test_add_func ("/types/pow2-floor", test_pow2_floor);
  g_test_add_func ("/types/names", test_names);
  return g_test_run ();
}
