/* iov-painter.h — a model run drawn with cairo, for print and export
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

#include <cairo.h>
#include <glib.h>

#include "iov-scenario.h"
#include "iov-system.h"

G_BEGIN_DECLS

/* The segmented IOVA axis: 2^64 on one line with a 1 MiB window still
 * visible. Boundaries are the addresses that matter; each segment gets a
 * width that grows with log2 of its size, with a floor. */
typedef struct
{
  GArray *bounds;   /* guint64, ascending; the last segment ends at 2^64 */
  GArray *x;        /* double, one more than bounds: x of each bound, and 2^64 */
} IovAxis;

void     iov_axis_init        (IovAxis       *axis,
                               const guint64 *points,
                               guint          n_points,
                               double         x0,
                               double         width,
                               double         min_segment);
void     iov_axis_clear       (IovAxis       *axis);
double   iov_axis_x           (const IovAxis *axis,
                               guint64        addr);
/* x of the end of the byte at @last (inclusive ranges). */
double   iov_axis_x_end       (const IovAxis *axis,
                               guint64        last);

/* Height the picture needs at @width. */
double   iov_painter_height   (const IovScenario *scenario,
                               const IovRun      *run,
                               int                step);
void     iov_painter_draw     (cairo_t           *cr,
                               const IovScenario *scenario,
                               const IovRun      *run,
                               int                step,
                               double             width);

/* Writes the picture at @step as "svg", "png" or "pdf". */
gboolean iov_painter_export   (const IovScenario *scenario,
                               const IovRun      *run,
                               int                step,
                               const char        *format,
                               const char        *path,
                               GError           **error);

G_END_DECLS
