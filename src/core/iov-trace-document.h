/* iov-trace-document.h
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

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "iov-delivery-log.h"
#include "iov-event-store.h"
#include "iov-inference.h"
#include "iov-mappings.h"
#include "iov-trace-parser.h"
#include "iov-traffic.h"

G_BEGIN_DECLS

/* One trace and what Iovista makes of it (issue J): the counts, the events
 * (for views), the inference under the topology of each moment, and its
 * deliveries. The window, the CLI and the relay feed it the same way. */

typedef enum
{
  IOV_TRACE_DOCUMENT_KEEP_EVENTS     = 1 << 0,  /* an event store and a delivery log joined to it */
  IOV_TRACE_DOCUMENT_KEEP_DELIVERIES = 1 << 1,  /* every delivery in one array (the CLI's --stats) */
  IOV_TRACE_DOCUMENT_COUNT_ONLY      = 1 << 2,  /* no traffic or mapping index: they stay empty (--compare) */
} IovTraceDocumentFlags;

#define IOV_TYPE_TRACE_DOCUMENT (iov_trace_document_get_type ())

G_DECLARE_FINAL_TYPE (IovTraceDocument, iov_trace_document, IOV, TRACE_DOCUMENT, GObject)

IovTraceDocument *iov_trace_document_new       (IovTraceCatalog       *catalog,
                                                IovTraceDocumentFlags  flags);

/* With a live QMP source: after an event that may change the notifiers,
 * the inference waits (counting does not) until set_snapshot() brings the
 * topology of that moment; ::topology-changed asks for it. */
void              iov_trace_document_set_follow_topology (IovTraceDocument *self,
                                                           gboolean          follow);

/* Bytes as the reader gives them (whole lines), or one line. */
void              iov_trace_document_feed      (IovTraceDocument      *self,
                                                const char            *data,
                                                gsize                  len,
                                                guint64                arrival_ns);
void              iov_trace_document_feed_line (IovTraceDocument      *self,
                                                const char            *text,
                                                gsize                  len,
                                                gboolean               cut,
                                                guint64                arrival_ns);
/* The same, when the caller parsed the line already. */
void              iov_trace_document_feed_parsed (IovTraceDocument    *self,
                                                  const IovTraceLine  *line,
                                                  guint64              arrival_ns);

/* The first snapshot starts the inference; later ones add the notifiers
 * that appeared, from the topology event that asked for them. */
gboolean          iov_trace_document_set_snapshot (IovTraceDocument   *self,
                                                   JsonNode           *snapshot,
                                                   GError            **error);
/* The input ended, or the source went away: nothing waits any more. */
void              iov_trace_document_release   (IovTraceDocument      *self);
void              iov_trace_document_finish    (IovTraceDocument      *self);

void              iov_trace_document_load_async  (const char          *path,
                                                  GBytes              *text,
                                                  JsonNode            *snapshot,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
IovTraceDocument *iov_trace_document_load_finish (GAsyncResult        *result,
                                                  GError             **error);

IovTraceCatalog  *iov_trace_document_get_catalog    (IovTraceDocument *self);
IovEventStore    *iov_trace_document_get_store      (IovTraceDocument *self);
IovDeliveryLog   *iov_trace_document_get_log        (IovTraceDocument *self);
IovInference     *iov_trace_document_get_inference  (IovTraceDocument *self);
JsonNode         *iov_trace_document_get_snapshot   (IovTraceDocument *self);
const IovTraceStats *iov_trace_document_get_stats   (IovTraceDocument *self);
GArray           *iov_trace_document_get_deliveries (IovTraceDocument *self);
guint64           iov_trace_document_get_n_lines    (IovTraceDocument *self);
guint64           iov_trace_document_get_event_line (IovTraceDocument *self,
                                                     guint64           index);
/* IOTLB traffic per device and the IOVA mappings over time (issue L),
 * indexed as the lines are read. */
IovTraffic       *iov_trace_document_get_traffic    (IovTraceDocument *self);
IovMappings      *iov_trace_document_get_mappings   (IovTraceDocument *self);
/* Delivered, cropped included (issue H's one meaning), and of those observed. */
guint64           iov_trace_document_get_n_delivered (IovTraceDocument *self);
guint64           iov_trace_document_get_n_observed  (IovTraceDocument *self);
void              iov_trace_document_set_dropped    (IovTraceDocument *self,
                                                     guint64           dropped);

/* What the last feed added, for views that follow the end: events stored,
 * and the earliest stored event new deliveries joined (or
 * IOV_DELIVERY_LOG_NO_EVENT). Reset by each call. */
void              iov_trace_document_take_news      (IovTraceDocument *self,
                                                     guint64          *n_events,
                                                     guint64          *first_joined,
                                                     guint64          *n_deliveries);

G_END_DECLS
