/* test-axis.c — the segmented IOVA axis, without a display
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

#include <math.h>

#include "iov-axis.h"

#define IR_FIRST G_GUINT64_CONSTANT (0xfee00000)
#define IR_LAST  G_GUINT64_CONSTANT (0xfeefffff)

/* The VT-d address space with DMAR on and aw-bits 39. */
static IovAxis *
vtd_axis (double width)
{
  g_autoptr(GArray) bounds = g_array_new (FALSE, FALSE, sizeof (guint64));

  iov_axis_bounds_add_range (bounds, 0, IR_FIRST - 1);
  iov_axis_bounds_add_range (bounds, IR_FIRST, IR_LAST);
  iov_axis_bounds_add_range (bounds, IR_LAST + 1, G_MAXUINT64);
  iov_axis_bounds_add (bounds, G_GUINT64_CONSTANT (1) << 32);
  iov_axis_bounds_add (bounds, G_GUINT64_CONSTANT (1) << 39);
  return iov_axis_new ((const guint64 *) bounds->data, bounds->len, width, 40);
}

static void
test_bounds (void)
{
  g_autoptr(GArray) bounds = g_array_new (FALSE, FALSE, sizeof (guint64));

  iov_axis_bounds_add (bounds, 0);
  iov_axis_bounds_add_range (bounds, 0x2000, 0x2fff);
  iov_axis_bounds_add_range (bounds, 0x1000, G_MAXUINT64);
  iov_axis_bounds_add (bounds, 0x2000);
  g_assert_cmpuint (bounds->len, ==, 4);
  g_assert_cmpuint (g_array_index (bounds, guint64, 0), ==, 0);
  g_assert_cmpuint (g_array_index (bounds, guint64, 1), ==, 0x1000);
  g_assert_cmpuint (g_array_index (bounds, guint64, 2), ==, 0x2000);
  g_assert_cmpuint (g_array_index (bounds, guint64, 3), ==, 0x3000);
}

static void
test_segments (void)
{
  g_autoptr(IovAxis) axis = vtd_axis (1000);
  double total = 0;

  /* 0, IR, above IR, 4 GiB, 2^39 */
  g_assert_cmpuint (iov_axis_get_n_segments (axis), ==, 5);
  g_assert_cmpuint (iov_axis_get_segment_start (axis, 1), ==, IR_FIRST);
  g_assert_cmpfloat (iov_axis_get_segment_size (axis, 1), ==, 1024.0 * 1024.0);
  g_assert_cmpfloat (iov_axis_get_segment_size (axis, 4), ==, 18446744073709551616.0 - 549755813888.0);
  for (guint i = 0; i < 5; i++)
    {
      double w;
      double x = iov_axis_get_segment_x (axis, i, &w);

      g_assert_cmpfloat_with_epsilon (x, total, 1e-9);
      g_assert_cmpfloat (w, >=, 40 - 1e-9);
      total += w;
    }
  g_assert_cmpfloat_with_epsilon (total, 1000, 1e-6);
  /* Bigger segments are wider: 2^64 - 2^39 beats 2^39 - 4 GiB beats 4 GiB. */
  {
    double w0, w3, w4;

    iov_axis_get_segment_x (axis, 0, &w0);
    iov_axis_get_segment_x (axis, 3, &w3);
    iov_axis_get_segment_x (axis, 4, &w4);
    g_assert_cmpfloat (w4, >, w3);
    g_assert_cmpfloat (w3, >, w0);
  }
}

static void
test_interrupt_window_floor (void)
{
  /* Even on a narrow axis the 1 MiB window keeps its 40 px. */
  for (double width = 300; width <= 3000; width += 100)
    {
      g_autoptr(IovAxis) axis = vtd_axis (width);
      double x0 = iov_axis_value_to_x (axis, IR_FIRST);
      double x1 = iov_axis_end_to_x (axis, IR_LAST);

      g_assert_cmpfloat (x1 - x0, >=, 40 - 1e-9);
    }
}

static void
test_value_to_x (void)
{
  g_autoptr(IovAxis) axis = vtd_axis (1000);
  double w;
  double x = iov_axis_get_segment_x (axis, 1, &w);

  g_assert_cmpfloat (iov_axis_value_to_x (axis, 0), ==, 0);
  g_assert_cmpfloat_with_epsilon (iov_axis_end_to_x (axis, G_MAXUINT64), 1000, 1e-9);
  /* Linear inside a segment: the middle of the window is in the middle. */
  g_assert_cmpfloat_with_epsilon (iov_axis_value_to_x (axis, IR_FIRST + 0x80000), x + w / 2, 1e-9);
  g_assert_cmpfloat_with_epsilon (iov_axis_value_to_x (axis, IR_FIRST), x, 1e-9);
  g_assert_cmpfloat_with_epsilon (iov_axis_end_to_x (axis, IR_LAST), x + w, 1e-9);
  /* Monotonic over a sweep of addresses. */
  {
    double last = -1;

    for (guint bit = 0; bit < 64; bit++)
      {
        double v = iov_axis_value_to_x (axis, G_GUINT64_CONSTANT (1) << bit);

        g_assert_cmpfloat (v, >=, last);
        last = v;
      }
  }
}

static void
test_x_to_value (void)
{
  g_autoptr(IovAxis) axis = vtd_axis (1200);

  g_assert_cmpuint (iov_axis_x_to_value (axis, -5), ==, 0);
  g_assert_cmpuint (iov_axis_x_to_value (axis, 5000), ==, G_MAXUINT64);

  /* Round trips: x → value → x lands on the same pixel. */
  for (double x = 0.5; x < 1200; x += 7.25)
    {
      guint64 v = iov_axis_x_to_value (axis, x);
      double back = iov_axis_value_to_x (axis, v);

      g_assert_cmpfloat (fabs (back - x), <, 0.01);
    }
  /* And the window's pixels read back as window addresses. */
  {
    double x0 = iov_axis_value_to_x (axis, IR_FIRST);
    double x1 = iov_axis_end_to_x (axis, IR_LAST);

    g_assert_cmpuint (iov_axis_x_to_value (axis, x0 + 0.5), >=, IR_FIRST);
    g_assert_cmpuint (iov_axis_x_to_value (axis, x1 - 0.5), <=, IR_LAST);
    g_assert_cmpuint (iov_axis_x_to_value (axis, x1 + 0.5), >, IR_LAST);
  }
}

static void
test_labels (void)
{
  g_autofree char *b = iov_axis_format_bound (IR_FIRST, FALSE);
  g_autofree char *end = iov_axis_format_bound (0, TRUE);
  g_autofree char *s1 = iov_axis_format_size (IR_FIRST, FALSE);
  g_autofree char *s2 = iov_axis_format_size (G_GUINT64_CONSTANT (1) << 39, FALSE);
  g_autofree char *s3 = iov_axis_format_size (G_GUINT64_CONSTANT (1) << 32, FALSE);
  g_autofree char *s4 = iov_axis_format_size (0, TRUE);

  g_assert_cmpstr (b, ==, "0xfee00000");
  g_assert_cmpstr (end, ==, "2⁶⁴");
  g_assert_cmpstr (s1, ==, "4078 MiB");
  g_assert_cmpstr (s2, ==, "512 GiB · 2³⁹");
  g_assert_cmpstr (s3, ==, "4 GiB · 2³²");
  g_assert_cmpstr (s4, ==, "16 EiB");
}

static void
test_degenerate (void)
{
  g_autoptr(IovAxis) one = iov_axis_new (NULL, 0, 500, 40);
  g_autoptr(GArray) bounds = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr(IovAxis) crowded = NULL;

  /* One segment: the whole space, linear. */
  g_assert_cmpuint (iov_axis_get_n_segments (one), ==, 1);
  g_assert_cmpfloat_with_epsilon (iov_axis_value_to_x (one, G_GUINT64_CONSTANT (1) << 63), 250, 1e-9);

  /* More segments than the floor allows: equal widths, still ordered. */
  for (guint i = 1; i < 40; i++)
    iov_axis_bounds_add (bounds, (guint64) i << 20);
  crowded = iov_axis_new ((const guint64 *) bounds->data, bounds->len, 400, 40);
  g_assert_cmpuint (iov_axis_get_n_segments (crowded), ==, 40);
  g_assert_cmpfloat_with_epsilon (iov_axis_value_to_x (crowded, 1 << 20), 10, 1e-9);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/app/axis/bounds", test_bounds);
  g_test_add_func ("/app/axis/segments", test_segments);
  g_test_add_func ("/app/axis/interrupt-window-floor", test_interrupt_window_floor);
  g_test_add_func ("/app/axis/value-to-x", test_value_to_x);
  g_test_add_func ("/app/axis/x-to-value", test_x_to_value);
  g_test_add_func ("/app/axis/labels", test_labels);
  g_test_add_func ("/app/axis/degenerate", test_degenerate);
  return g_test_run ();
}
