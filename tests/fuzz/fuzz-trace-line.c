/* fuzz-trace-line.c — libFuzzer harness for the trace line parser
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

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "iov-event-store.h"
#include "iov-trace-events.h"
#include "iov-trace-parser.h"

/* The input is a trace chunk: every line goes through the parser, the
 * statistics, the typed decoder and the event store, and what the store
 * gives back must be the text that went in. */

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static IovTraceCatalog *catalog;

typedef struct
{
  IovTraceStats  stats;
  IovEventStore *store;
  GString       *out;
} Run;

static void
on_line (const char *text,
         gsize       len,
         gboolean    cut,
         gpointer    user_data)
{
  Run *run = user_data;
  IovTraceLine line;
  IovTraceArg args[IOV_TRACE_MAX_ARGS];
  guint n;

  iov_trace_parse_line (catalog, text, len, &line);
  iov_trace_stats_add (&run->stats, catalog, &line);
  if (line.kind != IOV_TRACE_LINE_EVENT)
    return;
  g_assert (line.name >= text && line.name + line.name_len <= text + len);
  g_assert (line.args >= text && line.args + line.args_len <= text + len);
  if (line.event_id >= 0 && iov_trace_catalog_decode (catalog, line.event_id, line.args, line.args_len, args, &n))
    for (guint i = 0; i < n; i++)
      g_assert (args[i].text >= line.args && args[i].text + args[i].len <= line.args + line.args_len);
  {
    guint64 index = iov_event_store_append_line (run->store, &line, 0);

    g_string_truncate (run->out, 0);
    g_assert (iov_event_store_render_args (run->store, index, run->out));
    if (run->out->len != line.args_len || memcmp (run->out->str, line.args, line.args_len) != 0)
      g_error ("store gives back \"%s\" for \"%.*s\"", run->out->str, (int) line.args_len, line.args);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static IovEventStore *store;
  static guint runs;
  Run run;
  guint64 before;

  if (catalog == NULL)
    catalog = iov_trace_catalog_new_builtin ();
  /* A store lives for 256 inputs: creating one per input would measure
   * allocation, not the parser. */
  if (store == NULL || ++runs % 256 == 0)
    {
      g_clear_pointer (&store, iov_event_store_free);
      store = iov_event_store_new (catalog);
    }
  before = iov_event_store_get_n_events (store);
  iov_trace_stats_init (&run.stats);
  run.store = store;
  run.out = g_string_new (NULL);
  iov_trace_split_lines ((const char *) data, size, on_line, &run);
  g_assert (run.stats.lines == run.stats.events + run.stats.other + run.stats.malformed);
  g_assert (iov_event_store_get_n_events (store) - before == run.stats.events);
  g_string_free (run.out, TRUE);
  iov_trace_stats_clear (&run.stats);
  return 0;
}
