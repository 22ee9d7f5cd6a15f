/* iov-event-store.h
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

#include "iov-trace-events.h"
#include "iov-trace-parser.h"

G_BEGIN_DECLS

/* Millions of trace events, packed: a 16-byte record per event (time,
 * catalogue id, offset of its arguments) in append-only chunks, and the
 * arguments in a shared arena, typed and compact (integers as varints,
 * repeated strings interned) whenever the text can be rebuilt from the
 * values, else the raw text.  Chunks carry their time range (the time
 * index), and complete blocks of records a count per event id (a
 * pyramid of summaries); views ask for per-pixel bins and never walk raw
 * events. */

typedef struct
{
  guint64 ts_ns;
  guint32 event_id;
  guint32 arg_off;   /* relative to the chunk's arena base; G_MAXUINT32: none */
} IovEventRecord;

typedef struct
{
  guint64 count;
  guint64 min;       /* of the chosen argument, or of the time */
  guint64 max;
} IovEventBin;

typedef struct _IovEventStore IovEventStore;

IovEventStore *iov_event_store_new          (IovTraceCatalog      *catalog);
void           iov_event_store_free         (IovEventStore        *self);

guint64        iov_event_store_append_line  (IovEventStore        *self,
                                             const IovTraceLine   *line,
                                             guint64               arrival_ns);
guint64        iov_event_store_append_raw   (IovEventStore        *self,
                                             guint64               ts_ns,
                                             guint                 event_id,
                                             const char           *args,
                                             gsize                 len);

guint64        iov_event_store_get_n_events (IovEventStore        *self);
gboolean       iov_event_store_get          (IovEventStore        *self,
                                             guint64               index,
                                             IovEventRecord       *record);
gboolean       iov_event_store_get_args     (IovEventStore        *self,
                                             guint64               index,
                                             IovTraceArg          *args,
                                             guint                *n_args,
                                             gboolean             *typed);
gboolean       iov_event_store_render_args  (IovEventStore        *self,
                                             guint64               index,
                                             GString              *out);
guint64        iov_event_store_lower_bound  (IovEventStore        *self,
                                             guint64               ts_ns);
gboolean       iov_event_store_bin          (IovEventStore        *self,
                                             guint64               t0_ns,
                                             guint64               t1_ns,
                                             guint                 n_bins,
                                             const guint          *event_ids,
                                             guint                 n_event_ids,
                                             int                   arg_index,
                                             IovEventBin          *bins,
                                             GError              **error);
gboolean       iov_event_store_bin_multi    (IovEventStore        *self,
                                             guint64               t0_ns,
                                             guint64               t1_ns,
                                             guint                 n_bins,
                                             const guint          *row_of_event_id,
                                             guint                 n_ids,
                                             guint                 n_rows,
                                             IovEventBin          *bins,
                                             GError              **error);
gsize          iov_event_store_get_memory   (IovEventStore        *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovEventStore, iov_event_store_free)

G_END_DECLS
