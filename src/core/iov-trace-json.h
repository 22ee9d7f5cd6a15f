/* iov-trace-json.h
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

#include "iov-trace-events.h"
#include "iov-trace-parser.h"

G_BEGIN_DECLS

/* Decoded events as JSON objects — the lines of `iovista-cli trace --events`
 * and the "events" of the relay's WebSocket messages (docs/relay.md):
 *
 *   {"ts_ns": N|null, "tid": N|null, "name": "…", "args": {"arg": "text", …}}
 *   {"ts_ns": N|null, "tid": N|null, "name": "…", "args": {}, "raw": "text"}
 *
 * turned back into the line QEMU's log backend printed, or straight into
 * what the parser reads from that line, so that a remote trace goes
 * through the same event store and inference as a local one.  Argument
 * values are the text as printed, so with the event's format from the
 * catalogue the arguments come back byte for byte. */

typedef enum
{
  IOV_TRACE_JSON_EXACT,     /* the line as QEMU printed it (after the prefix) */
  IOV_TRACE_JSON_RAW,       /* "raw" text: as printed too */
  IOV_TRACE_JSON_APPROX,    /* the catalogue does not know the event or its
                             * arguments differ: "name arg=text …" */
} IovTraceJsonRender;

/* Appends one line, newline included: "TID@SEC.USEC:name args" with a tid,
 * "YYYY-MM-DDTHH:MM:SS.UUUUUUZ name args" (QEMU 10.1+) with a time but no
 * tid, "name args" with neither.  Returns FALSE, leaving @out alone, when
 * @event has no string "name" made of [A-Za-z0-9_]. */
gboolean iov_trace_json_render_line (const IovTraceCatalog *catalog,
                                     JsonObject            *event,
                                     GString               *out,
                                     IovTraceJsonRender    *how);

/* The same event without the text round trip (what the app does with a
 * relay's events): "name args" appended to @text — the arguments the same
 * text iov_trace_json_render_line() prints after the name — and in @out
 * what iov_trace_parse_line() would have read from the whole line, so
 * that iov_trace_document_feed_parsed() takes it as it takes a local
 * line.  @out holds offsets into @text, which may move as it grows:
 * iov_trace_json_line_get() makes the IovTraceLine once it is final.
 * Returns FALSE, leaving @text alone, as iov_trace_json_render_line(). */
typedef struct
{
  IovTraceLineKind kind;
  IovTracePrefix   prefix;
  gboolean         has_ts;
  gboolean         has_tid;
  guint32          tid;
  guint32          usec;
  guint64          sec;
  guint64          ts_ns;
  int              event_id;
  gsize            name_off;
  gsize            name_len;
  gsize            args_off;
  gsize            args_len;
} IovTraceJsonLine;

gboolean iov_trace_json_append_line (const IovTraceCatalog *catalog,
                                     JsonObject            *event,
                                     GString               *text,
                                     IovTraceJsonLine      *out,
                                     IovTraceJsonRender    *how);
void     iov_trace_json_line_get    (const IovTraceJsonLine *line,
                                     const char             *text,
                                     IovTraceLine           *out);

G_END_DECLS
