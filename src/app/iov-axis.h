/* iov-axis.h — the segmented IOVA axis: value ↔ x, without GTK
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

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A 2^64 span cannot be drawn linearly next to a 1 MiB window. The axis
 * cuts [0, 2^64) at the boundaries that matter (range and notifier bounds,
 * 4 GiB, 2^aw-bits); each segment gets a width that grows with log2 of its
 * size, never less than a floor, and inside a segment the scale is linear.
 *
 * Boundaries are start addresses: a range [start, end] contributes start
 * and end + 1. 2^64 (the end of every axis) is implicit. */
typedef struct _IovAxis IovAxis;

IovAxis  *iov_axis_new             (const guint64 *bounds,
                                    guint          n_bounds,
                                    double         width,
                                    double         min_segment);
IovAxis  *iov_axis_ref             (IovAxis       *axis);
void      iov_axis_unref           (IovAxis       *axis);

double    iov_axis_get_width       (const IovAxis *axis);
guint     iov_axis_get_n_segments  (const IovAxis *axis);
/* Segment @i is [start, start + size); the last one ends at 2^64, so
 * sizes are doubles. */
guint64   iov_axis_get_segment_start (const IovAxis *axis,
                                    guint          i);
double    iov_axis_get_segment_size (const IovAxis *axis,
                                    guint          i);
double    iov_axis_get_segment_x   (const IovAxis *axis,
                                    guint          i,
                                    double        *width);

/* The x of the first byte of @value. */
double    iov_axis_value_to_x      (const IovAxis *axis,
                                    guint64        value);
/* The x just past the last byte @end (inclusive): G_MAXUINT64 maps to the
 * axis width. */
double    iov_axis_end_to_x        (const IovAxis *axis,
                                    guint64        end);
/* The address under @x, clamped to the axis. */
guint64   iov_axis_x_to_value      (const IovAxis *axis,
                                    double         x);

/* Adds @value to a sorted, unique list of boundaries (0 is always in). */
void      iov_axis_bounds_add      (GArray        *bounds,
                                    guint64        value);
/* Adds the boundaries of the inclusive range [start, end]. */
void      iov_axis_bounds_add_range (GArray       *bounds,
                                    guint64        start,
                                    guint64        end);

/* "0xfee00000", and the same boundary as an IEC size ("4078 MiB",
 * "512 GiB · 2³⁹"). With @is_end the boundary is 2^64 itself. */
char     *iov_axis_format_bound    (guint64        value,
                                    gboolean       is_end);
char     *iov_axis_format_size     (guint64        value,
                                    gboolean       is_end);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovAxis, iov_axis_unref)

G_END_DECLS
