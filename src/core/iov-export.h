/* iov-export.h — model runs as Perfetto JSON and CSV
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

#include "iov-system.h"
#include "iov-trace-document.h"
#include "iov-traffic.h"

G_BEGIN_DECLS

/* Chrome/Perfetto JSON ({"traceEvents": […]}): one track for the IOMMU and
 * one per notifier, a slice per event and per outcome, and a flow from
 * every event to each delivery it caused. Steps are 1 ms apart. */
void iov_export_perfetto (const IovRun *run,
                          GString      *out);

/* One row per (event, notifier) outcome, with a header row. */
void iov_export_csv      (const IovRun *run,
                          GString      *out);

/* A trace's IOTLB traffic per device and per second (issue L), the
 * seconds counted from @t0_ns (the trace's first event, as on the
 * window's timeline) up to @t1_ns; each device's unattributed lines under
 * "unattributed".  CSV: one row per device and second that counted
 * anything.  Perfetto: a counter track per device whose series are the
 * counts per second, one sample at the start of each second. */
void iov_export_traffic_csv      (IovTraffic *traffic,
                                  guint64     t0_ns,
                                  guint64     t1_ns,
                                  GString    *out);
void iov_export_traffic_perfetto (IovTraffic *traffic,
                                  guint64     t0_ns,
                                  guint64     t1_ns,
                                  GString    *out);

/* @doc's traffic as @format ("perfetto" or "csv"), its seconds from the
 * trace's first timed line to its last: what `iovista-cli export TRACE`
 * writes, and the window's Export… of an opened trace or recording, so
 * the two give the same bytes. FALSE when no line has a time. */
gboolean iov_export_document_traffic (IovTraceDocument  *doc,
                                      const char        *format,
                                      GString           *out,
                                      GError           **error);

G_END_DECLS
