/* iov-axis.c
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

#define G_LOG_DOMAIN "iov-axis"

#include "config.h"

#include <math.h>

#include "iov-axis.h"

#define TWO_TO_64 18446744073709551616.0

typedef struct
{
  guint64 start;
  double  size;    /* bytes, up to 2^64 */
  double  x;
  double  width;
} Segment;

struct _IovAxis
{
  gatomicrefcount  ref_count;
  double           width;
  guint            n_segments;
  Segment         *segments;
};

static double
segment_weight (double size)
{
  /* One page weighs 1, each doubling adds 1: 1 MiB weighs 9, 4 GiB 21,
   * 2^64 53. */
  return MAX (1.0, log2 (size) - 11.0);
}

IovAxis *
iov_axis_new (const guint64 *bounds,
              guint          n_bounds,
              double         width,
              double         min_segment)
{
  g_autoptr(GArray) sorted = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autofree gboolean *fixed = NULL;
  IovAxis *axis;
  guint n;
  double x;

  g_return_val_if_fail (bounds != NULL || n_bounds == 0, NULL);

  iov_axis_bounds_add (sorted, 0);
  for (guint i = 0; i < n_bounds; i++)
    iov_axis_bounds_add (sorted, bounds[i]);

  n = sorted->len;
  axis = g_new0 (IovAxis, 1);
  g_atomic_ref_count_init (&axis->ref_count);
  axis->width = MAX (width, 1.0);
  axis->n_segments = n;
  axis->segments = g_new0 (Segment, n);
  fixed = g_new0 (gboolean, n);

  for (guint i = 0; i < n; i++)
    {
      Segment *s = &axis->segments[i];

      s->start = g_array_index (sorted, guint64, i);
      if (i + 1 < n)
        s->size = (double) (g_array_index (sorted, guint64, i + 1) - s->start);
      else
        s->size = TWO_TO_64 - (double) s->start;
    }

  if (min_segment * n >= axis->width)
    {
      for (guint i = 0; i < n; i++)
        axis->segments[i].width = axis->width / n;
    }
  else
    {
      gboolean changed = TRUE;

      /* Share the width by weight; a segment below the floor is pinned
       * to it and the rest shared again, until nothing changes. */
      while (changed)
        {
          double free_width = axis->width;
          double weights = 0;

          changed = FALSE;
          for (guint i = 0; i < n; i++)
            {
              if (fixed[i])
                free_width -= min_segment;
              else
                weights += segment_weight (axis->segments[i].size);
            }
          for (guint i = 0; i < n; i++)
            {
              Segment *s = &axis->segments[i];

              if (fixed[i])
                {
                  s->width = min_segment;
                  continue;
                }
              s->width = free_width * segment_weight (s->size) / weights;
              if (s->width < min_segment)
                {
                  fixed[i] = TRUE;
                  changed = TRUE;
                }
            }
        }
    }

  x = 0;
  for (guint i = 0; i < n; i++)
    {
      axis->segments[i].x = x;
      x += axis->segments[i].width;
    }

  return axis;
}

IovAxis *
iov_axis_ref (IovAxis *axis)
{
  g_return_val_if_fail (axis != NULL, NULL);
  g_atomic_ref_count_inc (&axis->ref_count);
  return axis;
}

void
iov_axis_unref (IovAxis *axis)
{
  g_return_if_fail (axis != NULL);
  if (g_atomic_ref_count_dec (&axis->ref_count))
    {
      g_free (axis->segments);
      g_free (axis);
    }
}

double
iov_axis_get_width (const IovAxis *axis)
{
  g_return_val_if_fail (axis != NULL, 0);
  return axis->width;
}

guint
iov_axis_get_n_segments (const IovAxis *axis)
{
  g_return_val_if_fail (axis != NULL, 0);
  return axis->n_segments;
}

guint64
iov_axis_get_segment_start (const IovAxis *axis,
                            guint          i)
{
  g_return_val_if_fail (axis != NULL && i < axis->n_segments, 0);
  return axis->segments[i].start;
}

double
iov_axis_get_segment_size (const IovAxis *axis,
                           guint          i)
{
  g_return_val_if_fail (axis != NULL && i < axis->n_segments, 0);
  return axis->segments[i].size;
}

double
iov_axis_get_segment_x (const IovAxis *axis,
                        guint          i,
                        double        *width)
{
  g_return_val_if_fail (axis != NULL && i < axis->n_segments, 0);
  if (width != NULL)
    *width = axis->segments[i].width;
  return axis->segments[i].x;
}

/* The segment holding @value: the last one whose start is ≤ value. */
static guint
find_segment (const IovAxis *axis,
              guint64        value)
{
  guint lo = 0, hi = axis->n_segments;

  while (hi - lo > 1)
    {
      guint mid = (lo + hi) / 2;

      if (axis->segments[mid].start <= value)
        lo = mid;
      else
        hi = mid;
    }
  return lo;
}

double
iov_axis_value_to_x (const IovAxis *axis,
                     guint64        value)
{
  const Segment *s;

  g_return_val_if_fail (axis != NULL, 0);

  s = &axis->segments[find_segment (axis, value)];
  return s->x + s->width * ((double) (value - s->start) / s->size);
}

double
iov_axis_end_to_x (const IovAxis *axis,
                   guint64        end)
{
  g_return_val_if_fail (axis != NULL, 0);

  if (end == G_MAXUINT64)
    return axis->width;
  return iov_axis_value_to_x (axis, end + 1);
}

guint64
iov_axis_x_to_value (const IovAxis *axis,
                     double         x)
{
  const Segment *s;
  guint i;
  double offset;

  g_return_val_if_fail (axis != NULL, 0);

  if (x <= 0)
    return 0;
  if (x >= axis->width)
    return G_MAXUINT64;

  for (i = 0; i + 1 < axis->n_segments; i++)
    if (x < axis->segments[i].x + axis->segments[i].width)
      break;
  s = &axis->segments[i];
  offset = floor ((x - s->x) / s->width * s->size);
  if (offset >= s->size)
    offset = s->size - 1;
  if (offset >= TWO_TO_64 - (double) s->start)
    return G_MAXUINT64;
  return s->start + (guint64) offset;
}

void
iov_axis_bounds_add (GArray  *bounds,
                     guint64  value)
{
  guint i;

  g_return_if_fail (bounds != NULL);

  for (i = 0; i < bounds->len; i++)
    {
      guint64 b = g_array_index (bounds, guint64, i);

      if (b == value)
        return;
      if (b > value)
        break;
    }
  g_array_insert_val (bounds, i, value);
}

void
iov_axis_bounds_add_range (GArray  *bounds,
                           guint64  start,
                           guint64  end)
{
  iov_axis_bounds_add (bounds, start);
  if (end != G_MAXUINT64)
    iov_axis_bounds_add (bounds, end + 1);
}

static const char *const superscripts[] = {
  "⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹",
};

static void
append_power_of_two (GString *s,
                     guint    exponent)
{
  g_string_append (s, "2");
  if (exponent >= 10)
    g_string_append (s, superscripts[exponent / 10]);
  g_string_append (s, superscripts[exponent % 10]);
}

char *
iov_axis_format_bound (guint64  value,
                       gboolean is_end)
{
  if (is_end)
    {
      GString *s = g_string_new (NULL);

      append_power_of_two (s, 64);
      return g_string_free (s, FALSE);
    }
  return g_strdup_printf ("0x%" G_GINT64_MODIFIER "x", value);
}

char *
iov_axis_format_size (guint64  value,
                      gboolean is_end)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
  GString *s;
  guint unit = 0;
  guint64 n = value;

  if (is_end)
    return g_strdup ("16 EiB");
  if (value == 0)
    return g_strdup ("0");

  s = g_string_new (NULL);
  /* The largest unit that divides the value exactly: boundaries are page
   * aligned, so this reads "4078 MiB" rather than "3.98 GiB". */
  while (unit + 1 < G_N_ELEMENTS (units) && n % 1024 == 0)
    {
      n /= 1024;
      unit++;
    }
  if (unit == 0 && value >= 1024)
    {
      g_autofree char *approx = g_format_size_full (value, G_FORMAT_SIZE_IEC_UNITS);

      g_string_append (s, approx);
    }
  else
    g_string_append_printf (s, "%" G_GUINT64_FORMAT " %s", n, units[unit]);

  if ((value & (value - 1)) == 0 && value >= G_GUINT64_CONSTANT (1) << 32)
    {
      g_string_append (s, " · ");
      guint exponent = 0;

      while ((value >> exponent) != 1)
        exponent++;
      append_power_of_two (s, exponent);
    }
  return g_string_free (s, FALSE);
}
