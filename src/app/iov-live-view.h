/* iov-live-view.h — a running QEMU's, or a recording's, address spaces
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

#include <adwaita.h>
#include <json-glib/json-glib.h>

#include "iov-event-list.h"
#include "iov-timeline.h"
#include "iov-trace-document.h"

G_BEGIN_DECLS

#define IOV_TYPE_LIVE_VIEW (iov_live_view_get_type ())

G_DECLARE_FINAL_TYPE (IovLiveView, iov_live_view, IOV, LIVE_VIEW, AdwBin)

GtkWidget  *iov_live_view_new            (void);
/* Watches the QMP socket at @address (unix:PATH, PATH or tcp:HOST:PORT);
 * with @trace_source (FILE, fifo:PATH, unix:PATH), reads QEMU's trace too.
 * A relay URL (http(s)://HOST:PORT/VM) watches that VM through
 * `iovista-cli relay`, with the token set by iov_live_view_set_token()
 * or else IOVISTA_TOKEN. */
gboolean    iov_live_view_connect        (IovLiveView  *self,
                                          const char   *address,
                                          const char   *trace_source,
                                          GError      **error);
/* A recording (.iovista) or a plain trace log. */
gboolean    iov_live_view_open_file      (IovLiveView  *self,
                                          GFile        *file,
                                          GError      **error);
/* Shows @snapshot (iov_snapshot_to_json()) as it is, without a session. */
void        iov_live_view_show_snapshot  (IovLiveView  *self,
                                          JsonNode     *snapshot);
/* A trace preset (iovista-cli trace --preset) to turn on in QEMU once the
 * next iov_live_view_connect() is live; NULL: leave QEMU's events alone. */
void        iov_live_view_set_trace_preset (IovLiveView *self,
                                            const char  *name);
/* The token for the next relay URL given to iov_live_view_connect(). */
void        iov_live_view_set_token      (IovLiveView  *self,
                                          const char   *token);
void        iov_live_view_disconnect     (IovLiveView  *self);
/* The header's subtitle: "Connecting…", "Live · QEMU 7.2.22 · unix:…",
 * "Recording · FILE"… */
const char *iov_live_view_get_status     (IovLiveView  *self);
/* What the sidebar lists, one "BDF TYPE" per row, filtered or not. */
GStrv       iov_live_view_dup_rows       (IovLiveView  *self,
                                          gboolean      visible_only);
void        iov_live_view_set_filter     (IovLiveView  *self,
                                          const char   *text);
guint64     iov_live_view_get_n_deliveries (IovLiveView *self);
/* What the trace input brought so far: lines read, events, lines dropped. */
void        iov_live_view_get_trace_counts (IovLiveView *self,
                                            guint64     *lines,
                                            guint64     *events,
                                            guint64     *dropped);
IovEventList *iov_live_view_get_event_list (IovLiveView *self);
IovTraceDocument *iov_live_view_get_document (IovLiveView *self);
/* The opened trace or recording; NULL when watching a VM. */
const char *iov_live_view_get_source_path (IovLiveView *self);
/* The trace's IOTLB traffic per device and second as @format ("perfetto"
 * or "csv"): for an opened file, the bytes `iovista-cli export FILE`
 * writes; for a VM being watched, its traffic so far. */
gboolean    iov_live_view_export_traffic (IovLiveView  *self,
                                          const char   *format,
                                          GString      *out,
                                          GError      **error);
IovTimeline *iov_live_view_get_timeline  (IovLiveView  *self);
GtkWidget  *iov_live_view_get_lanes      (IovLiveView  *self);
/* Replays the opened trace or recording under every QEMU release, with
 * @snapshot (NULL: the view's own), in a thread; the panel under the
 * timeline shows the result, the timeline marks where releases differ. */
void        iov_live_view_compare_versions (IovLiveView *self,
                                            JsonNode    *snapshot);
gboolean    iov_live_view_is_comparing   (IovLiveView  *self);
GtkWidget  *iov_live_view_get_compare_panel (IovLiveView *self);
GtkWidget  *iov_live_view_get_compare_marks (IovLiveView *self);

G_END_DECLS
