/* iov-compare-run.h
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

#include <json-glib/json-glib.h>

#include "iov-compare.h"
#include "iov-trace-document.h"

G_BEGIN_DECLS

/* A whole trace replayed under every release (issue K), with what a view
 * needs to show the result on its events: which event each line is. */
typedef struct
{
  JsonNode *result;        /* iov_compare_to_json() */
  GArray   *event_lines;   /* guint64: the trace line of each event, in the order an event store keeps them */
  GArray   *divergence_lines; /* guint64: every divergence's line (the JSON has the first 1,000) */
} IovCompareRun;

/* @text: a whole trace, as a file or recording holds it. Blocking: run it
 * in a thread. */
IovCompareRun *iov_compare_run_text   (JsonNode            *snapshot,
                                       const char          *text,
                                       gsize                len,
                                       GError             **error);
void           iov_compare_run_free   (IovCompareRun       *self);

/* The same from a document's stored events, a slice at a time on the
 * thread that feeds the document (a live VM's trace keeps growing: the
 * events stored when the replay starts are replayed, the main loop keeps
 * its share between slices).  Event i is trace line
 * iov_trace_document_get_event_line(i), the arguments the text QEMU
 * printed (iov_event_store_render_args()): the result is
 * iov_compare_run_text()'s on the same lines. */
typedef struct _IovCompareReplay IovCompareReplay;

IovCompareReplay *iov_compare_replay_new    (JsonNode          *snapshot,
                                             IovTraceDocument  *doc,
                                             GError           **error);
/* Replays up to @max_events more; TRUE once every event is. */
gboolean          iov_compare_replay_step   (IovCompareReplay  *self,
                                             guint              max_events);
void              iov_compare_replay_get_progress (IovCompareReplay *self,
                                                   guint64          *done,
                                                   guint64          *total);
/* After the last step: the run (transfer full). */
IovCompareRun    *iov_compare_replay_finish (IovCompareReplay  *self);
void              iov_compare_replay_free   (IovCompareReplay  *self);
/* The event of trace line @line; G_MAXUINT64 when it is none. */
guint64        iov_compare_run_event_of_line (IovCompareRun *self,
                                              guint64        line);
guint64        iov_compare_run_line_of_event (IovCompareRun *self,
                                              guint64        event);

/* What the releases did at @line of @result, in a sentence: "QEMU 5.0–5.2
 * would have aborted here (memory.c:1959 …); 6.0–10.1 crop it for DEVIOTLB
 * notifiers; 10.2+ crop always". NULL when no release acted there. */
char          *iov_compare_headline   (JsonNode            *result,
                                       guint64              line);
/* "5.2", "6.0–10.1", "10.2+": releases @first to @last of the table. */
char          *iov_compare_range_label (const IovProfile   *first,
                                        const IovProfile   *last);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovCompareRun, iov_compare_run_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovCompareReplay, iov_compare_replay_free)

G_END_DECLS
