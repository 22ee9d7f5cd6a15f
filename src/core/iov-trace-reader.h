/* iov-trace-reader.h
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

/* One reader for every trace source.  A thread drains the source and hands
 * whole lines to the consumer in batches (GBytes).  For live sources (FIFO,
 * socket, piped stdin) the thread never waits for the consumer: when the
 * bounded queue is full, the batch is dropped and its lines counted, so
 * QEMU's writer is never blocked by us.  Files are read whole (mmap) or
 * tailed, and nothing is dropped from them. */

typedef enum
{
  IOV_TRACE_SOURCE_FILE,
  IOV_TRACE_SOURCE_STDIN,
  IOV_TRACE_SOURCE_FIFO,
  IOV_TRACE_SOURCE_UNIX,
} IovTraceSourceKind;

typedef enum
{
  IOV_TRACE_READER_NONE   = 0,
  IOV_TRACE_READER_FOLLOW = 1 << 0,  /* tail files; accept new writers after EOF */
} IovTraceReaderFlags;

#define IOV_TRACE_READER_DEFAULT_QUEUE_BYTES (64u * 1024 * 1024)

typedef struct _IovTraceReader IovTraceReader;

IovTraceReader     *iov_trace_reader_new               (const char          *spec,
                                                        IovTraceReaderFlags  flags,
                                                        GError             **error);
void                iov_trace_reader_free              (IovTraceReader      *self);
void                iov_trace_reader_set_queue_limit   (IovTraceReader      *self,
                                                        gsize                bytes);
gboolean            iov_trace_reader_start             (IovTraceReader      *self,
                                                        GError             **error);
void                iov_trace_reader_stop              (IovTraceReader      *self);
GBytes             *iov_trace_reader_pop               (IovTraceReader      *self,
                                                        gint64               timeout_us);
gboolean            iov_trace_reader_is_done           (IovTraceReader      *self);
gboolean            iov_trace_reader_is_live           (IovTraceReader      *self);
IovTraceSourceKind  iov_trace_reader_get_kind          (IovTraceReader      *self);
const char         *iov_trace_reader_get_path          (IovTraceReader      *self);
const char         *iov_trace_reader_get_qemu_hint     (IovTraceReader      *self);
guint64             iov_trace_reader_get_dropped_lines (IovTraceReader      *self);
guint64             iov_trace_reader_get_dropped_batches (IovTraceReader    *self);
guint64             iov_trace_reader_get_bytes_read    (IovTraceReader      *self);
guint               iov_trace_reader_get_connections   (IovTraceReader      *self);
gboolean            iov_trace_reader_get_error         (IovTraceReader      *self,
                                                        GError             **error);

char               *iov_trace_reader_default_fifo_path (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovTraceReader, iov_trace_reader_free)

G_END_DECLS
