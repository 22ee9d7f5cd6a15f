/* iov-trace-parser.h
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

G_BEGIN_DECLS

/* Lines longer than this (without the newline) are cut to it and counted. */
#define IOV_TRACE_MAX_LINE (1024 * 1024)

typedef enum
{
  IOV_TRACE_LINE_EVENT,
  IOV_TRACE_LINE_OTHER,      /* blank lines, QEMU messages, unknown words */
  IOV_TRACE_LINE_MALFORMED,  /* "TID@" prefix that does not parse */
} IovTraceLineKind;

typedef enum
{
  IOV_TRACE_PREFIX_NONE,     /* "name args" (no -msg timestamp=on) */
  IOV_TRACE_PREFIX_TID,      /* "TID@SEC.USEC:name args" (≤ 10.0) */
  IOV_TRACE_PREFIX_ISO,      /* "2025-07-21T18:43:28.089797Z name args" (10.1+) */
} IovTracePrefix;

typedef struct
{
  IovTraceLineKind kind;
  IovTracePrefix   prefix;
  gboolean         has_ts;
  gboolean         has_tid;
  guint32          tid;
  guint64          sec;
  guint32          usec;
  guint64          ts_ns;
  int              event_id;   /* catalogue id, -1 when not in the catalogue */
  const char      *name;       /* points into the line */
  gsize            name_len;
  const char      *args;       /* after the space that follows the name */
  gsize            args_len;
} IovTraceLine;

IovTraceLineKind iov_trace_parse_line (const IovTraceCatalog *catalog,
                                       const char            *line,
                                       gsize                  len,
                                       IovTraceLine          *out);

/* Counts, as `iovista-cli trace --stats` prints them. */
typedef struct
{
  guint64  lines;
  guint64  events;
  guint64  other;
  guint64  malformed;
  guint64  dropped;   /* lines lost because the consumer fell behind */
  guint64  cut;       /* lines longer than IOV_TRACE_MAX_LINE */
  gboolean have_ts;
  guint64  first_sec;
  guint32  first_usec;
  guint64  last_sec;
  guint32  last_usec;
  GArray  *by_id;     /* guint64 per catalogue id */
} IovTraceStats;

void     iov_trace_stats_init  (IovTraceStats       *stats);
void     iov_trace_stats_clear (IovTraceStats       *stats);
void     iov_trace_stats_add   (IovTraceStats       *stats,
                                IovTraceCatalog     *catalog,
                                const IovTraceLine  *line);

/* Calls @func for every line of @data; a non-empty unterminated last line
 * is a line too.  Lines are passed without the newline, cut to
 * IOV_TRACE_MAX_LINE (@cut says so).  Returns the number of lines. */
typedef void (*IovTraceLineFunc) (const char *line,
                                  gsize       len,
                                  gboolean    cut,
                                  gpointer    user_data);

guint64  iov_trace_split_lines (const char          *data,
                                gsize                len,
                                IovTraceLineFunc     func,
                                gpointer             user_data);

/* "SEC.USEC" into @buf. */
void     iov_trace_format_ts   (guint64              sec,
                                guint32              usec,
                                char                 buf[32]);

G_END_DECLS
