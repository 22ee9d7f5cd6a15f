/* bench-trace.c — trace ingest, memory per event and live FIFO throughput
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

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iov-event-store.h"
#include "iov-trace-events.h"
#include "iov-trace-parser.h"
#include "iov-trace-reader.h"

/* Usage:
 *   bench-trace ingest FILE      parse and store every line (mmap), print one JSON line
 *   bench-trace parse FILE       parse and count only
 *   bench-trace memory FILE N    store N events (looping over FILE), release the
 *                                mapping, report anonymous RSS per event
 *   bench-trace fifo FILE [MB/S] a writer thread pushes FILE into a FIFO as fast as it
 *                                can (or paced to MB/S); the reader + parser + store
 *                                drain it
 * The catalogue is QEMU's trace-events-all when installed, else the built-in one. */

typedef struct
{
  IovTraceCatalog *catalog;
  IovEventStore   *store;      /* NULL: count only */
  guint64          lines;
  guint64          events;
  guint64          target;     /* stop storing after this many events (0: all) */
} Ingest;

static void
ingest_line (const char *text,
             gsize       len,
             gboolean    cut,
             gpointer    user_data)
{
  Ingest *in = user_data;
  IovTraceLine line;

  in->lines++;
  if (iov_trace_parse_line (in->catalog, text, len, &line) != IOV_TRACE_LINE_EVENT)
    return;
  if (in->target > 0 && in->events >= in->target)
    return;
  in->events++;
  if (in->store)
    iov_event_store_append_line (in->store, &line, 0);
}

static gsize
rss_anon_kb (void)
{
  g_autofree char *status = NULL;
  const char *p;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  p = strstr (status, "RssAnon:");
  return p ? (gsize) g_ascii_strtoull (p + 8, NULL, 10) : 0;
}

static int
run_ingest (const char *path,
            gboolean    store)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMappedFile) map = g_mapped_file_new (path, FALSE, &error);
  g_autoptr(IovTraceCatalog) cat = iov_trace_catalog_new_default (NULL, NULL);
  g_autoptr(IovEventStore) st = store ? iov_event_store_new (cat) : NULL;
  Ingest in = { cat, st, 0, 0, 0 };
  gsize len;
  gint64 t0, t1;
  double secs;

  if (map == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  len = g_mapped_file_get_length (map);
  /* Touch the mapping first so that page faults are not timed. */
  {
    volatile guint8 sum = 0;
    const guint8 *d = (const guint8 *) g_mapped_file_get_contents (map);

    for (gsize i = 0; i < len; i += 4096)
      sum += d[i];
    (void) sum;
  }
  t0 = g_get_monotonic_time ();
  iov_trace_split_lines (g_mapped_file_get_contents (map), len, ingest_line, &in);
  t1 = g_get_monotonic_time ();
  secs = (t1 - t0) / 1e6;
  printf ("{\"mode\": \"%s\", \"bytes\": %" G_GSIZE_FORMAT ", \"lines\": %" G_GUINT64_FORMAT
          ", \"events\": %" G_GUINT64_FORMAT ", \"seconds\": %.3f, \"mb_per_s\": %.1f, \"events_per_s\": %.0f}\n",
          store ? "parse+store" : "parse", len, in.lines, in.events, secs, len / secs / 1e6, in.events / secs);
  return 0;
}

static int
run_memory (const char *path,
            guint64     target)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IovTraceCatalog) cat = iov_trace_catalog_new_default (NULL, NULL);
  IovEventStore *st = iov_event_store_new (cat);
  Ingest in = { cat, st, 0, 0, target };
  gsize before, after;
  guint passes = 0;

  before = rss_anon_kb ();
  while (in.events < target)
    {
      g_autoptr(GMappedFile) map = g_mapped_file_new (path, FALSE, &error);
      guint64 old = in.events;

      if (map == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      iov_trace_split_lines (g_mapped_file_get_contents (map), g_mapped_file_get_length (map), ingest_line, &in);
      passes++;
      if (in.events == old)
        break;
      /* the mapping is released here */
    }
  after = rss_anon_kb ();
  printf ("{\"mode\": \"memory\", \"events\": %" G_GUINT64_FORMAT ", \"passes\": %u, "
          "\"rss_anon_before_kb\": %" G_GSIZE_FORMAT ", \"rss_anon_after_kb\": %" G_GSIZE_FORMAT ", "
          "\"bytes_per_event_rss\": %.2f, \"bytes_per_event_store\": %.2f}\n",
          in.events, passes, before, after, (after - before) * 1024.0 / in.events,
          (double) iov_event_store_get_memory (st) / in.events);
  iov_event_store_free (st);
  return 0;
}

typedef struct
{
  const char *fifo;
  const char *data;
  gsize       len;
  gint64      max_block_us;
  gint64      elapsed_us;
  gsize       written;
  double      pace_mbps;  /* 0: as fast as possible */
} Writer;

/* Writes like QEMU does, but non-blocking underneath, so that the time the
 * writer *could not* write because the pipe was full is measured exactly
 * (a blocking write's wall time would also count the writer's own
 * preemption on a busy machine). */
static gpointer
writer_thread (gpointer user_data)
{
  Writer *w = user_data;
  int fd = open (w->fifo, O_WRONLY | O_NONBLOCK);
  gint64 start;

  if (fd < 0)
    {
      g_printerr ("open %s: %s\n", w->fifo, g_strerror (errno));
      return NULL;
    }
  start = g_get_monotonic_time ();
  while (w->written < w->len)
    {
      gsize n = MIN (64 * 1024, w->len - w->written);
      gssize r = write (fd, w->data + w->written, n);

      if (r < 0)
        {
          if (errno == EAGAIN)
            {
              struct pollfd pfd = { .fd = fd, .events = POLLOUT };
              gint64 t0 = g_get_monotonic_time ();

              while (poll (&pfd, 1, -1) < 0 && errno == EINTR)
                ;
              w->max_block_us = MAX (w->max_block_us, g_get_monotonic_time () - t0);
              continue;
            }
          if (errno == EINTR)
            continue;
          break;
        }
      w->written += r;
      if (w->pace_mbps > 0)
        {
          gint64 due = start + (gint64) (w->written / w->pace_mbps);

          while (g_get_monotonic_time () < due)
            g_usleep (MAX (due - g_get_monotonic_time (), 0));
        }
    }
  w->elapsed_us = g_get_monotonic_time () - start;
  close (fd);
  return NULL;
}

static int
run_fifo (const char *path,
          double      pace_mbps)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len;
  g_autofree char *dir = g_dir_make_tmp ("iov-bench-XXXXXX", &error);
  g_autofree char *fifo = g_build_filename (dir, "trace.fifo", NULL);
  g_autofree char *spec = g_strconcat ("fifo:", fifo, NULL);
  g_autoptr(IovTraceCatalog) cat = iov_trace_catalog_new_default (NULL, NULL);
  g_autoptr(IovEventStore) st = iov_event_store_new (cat);
  g_autoptr(IovTraceReader) reader = NULL;
  Ingest in = { cat, st, 0, 0, 0 };
  Writer w = { 0 };
  GThread *thread;
  gint64 t0, t1;

  if (!g_file_get_contents (path, &data, &len, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  reader = iov_trace_reader_new (spec, IOV_TRACE_READER_NONE, &error);
  if (!iov_trace_reader_start (reader, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  w.fifo = fifo;
  w.data = data;
  w.len = len;
  w.pace_mbps = pace_mbps;
  t0 = g_get_monotonic_time ();
  thread = g_thread_new ("writer", writer_thread, &w);
  while (!iov_trace_reader_is_done (reader))
    {
      g_autoptr(GBytes) b = iov_trace_reader_pop (reader, 100 * G_TIME_SPAN_MILLISECOND);

      if (b != NULL)
        iov_trace_split_lines (g_bytes_get_data (b, NULL), g_bytes_get_size (b), ingest_line, &in);
    }
  t1 = g_get_monotonic_time ();
  g_thread_join (thread);
  printf ("{\"mode\": \"fifo\", \"pace_mb_per_s\": %.0f, \"bytes\": %" G_GSIZE_FORMAT ", \"writer_mb_per_s\": %.1f, "
          "\"writer_max_block_ms\": %.3f, \"consumer_seconds\": %.3f, \"lines_stored\": %" G_GUINT64_FORMAT
          ", \"lines_dropped\": %" G_GUINT64_FORMAT ", \"batches_dropped\": %" G_GUINT64_FORMAT "}\n",
          pace_mbps, w.written, w.written / (w.elapsed_us / 1e6) / 1e6, w.max_block_us / 1000.0, (t1 - t0) / 1e6,
          in.lines, iov_trace_reader_get_dropped_lines (reader), iov_trace_reader_get_dropped_batches (reader));
  g_clear_pointer (&reader, iov_trace_reader_free);
  g_rmdir (dir);
  return 0;
}

int
main (int   argc,
      char *argv[])
{
  signal (SIGPIPE, SIG_IGN);
  if (argc >= 3 && strcmp (argv[1], "ingest") == 0)
    return run_ingest (argv[2], TRUE);
  if (argc >= 3 && strcmp (argv[1], "parse") == 0)
    return run_ingest (argv[2], FALSE);
  if (argc >= 4 && strcmp (argv[1], "memory") == 0)
    return run_memory (argv[2], g_ascii_strtoull (argv[3], NULL, 10));
  if (argc >= 3 && strcmp (argv[1], "fifo") == 0)
    return run_fifo (argv[2], argc >= 4 ? g_ascii_strtod (argv[3], NULL) : 0);
  fprintf (stderr, "usage: bench-trace ingest|parse FILE | fifo FILE [MB/S] | memory FILE N\n");
  return 2;
}
