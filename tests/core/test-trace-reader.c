/* test-trace-reader.c
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
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "iov-trace-parser.h"
#include "iov-trace-reader.h"

#define LINE "13726@1795459779.004982:vtd_inv_desc_iotlb_pages iotlb invalidate domain 0x3 addr 0xfffaa000 mask 0x0\n"

typedef struct
{
  char *dir;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("iov-trace-reader-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

/* Pops until the reader is done (or @want bytes arrived, if > 0). */
static GByteArray *
drain (IovTraceReader *reader,
       gsize           want)
{
  GByteArray *all = g_byte_array_new ();
  gint64 deadline = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;

  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr(GBytes) b = iov_trace_reader_pop (reader, 50 * G_TIME_SPAN_MILLISECOND);

      if (b != NULL)
        {
          gsize len;
          const guint8 *data = g_bytes_get_data (b, &len);

          /* Batches always end on a line boundary (or at the very end). */
          g_assert_cmpuint (len, >, 0);
          g_byte_array_append (all, data, len);
          if (want > 0 && all->len >= want)
            break;
        }
      else if (iov_trace_reader_is_done (reader))
        break;
    }
  return all;
}

static void
test_file (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "trace", "edge-cases.log", NULL);
  g_autofree char *expect = NULL;
  gsize expect_len;
  g_autoptr(IovTraceReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) got = NULL;

  g_assert_true (g_file_get_contents (path, &expect, &expect_len, NULL));
  reader = iov_trace_reader_new (path, IOV_TRACE_READER_NONE, &error);
  g_assert_no_error (error);
  g_assert_true (iov_trace_reader_start (reader, &error));
  g_assert_no_error (error);
  g_assert_cmpint (iov_trace_reader_get_kind (reader), ==, IOV_TRACE_SOURCE_FILE);
  g_assert_false (iov_trace_reader_is_live (reader));
  got = drain (reader, 0);
  g_assert_cmpmem (got->data, got->len, expect, expect_len);
  g_assert_true (iov_trace_reader_is_done (reader));
  g_assert_cmpuint (iov_trace_reader_get_dropped_lines (reader), ==, 0);

  /* Errors are reported, never fatal. */
  g_clear_pointer (&reader, iov_trace_reader_free);
  reader = iov_trace_reader_new ("/nonexistent/trace.log", IOV_TRACE_READER_NONE, &error);
  g_assert_no_error (error);
  g_assert_false (iov_trace_reader_start (reader, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_follow (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "trace.log", NULL);
  g_autoptr(IovTraceReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) got = NULL;
  FILE *fp;

  g_assert_true (g_file_set_contents (path, LINE LINE, -1, NULL));
  reader = iov_trace_reader_new (path, IOV_TRACE_READER_FOLLOW, &error);
  g_assert_true (iov_trace_reader_start (reader, &error));
  g_assert_no_error (error);
  got = drain (reader, 2 * strlen (LINE));
  g_assert_cmpuint (got->len, ==, 2 * strlen (LINE));
  g_byte_array_unref (got);

  /* Lines appended later arrive; a partial line waits for its newline. */
  fp = fopen (path, "a");
  fputs (LINE "13726@1795459779.004983:vtd_inv_qi", fp);
  fflush (fp);
  got = drain (reader, strlen (LINE));
  g_assert_cmpuint (got->len, ==, strlen (LINE));
  g_byte_array_unref (got);
  fputs ("_fetch \n", fp);
  fclose (fp);
  got = drain (reader, 1);
  g_assert_cmpmem (got->data, got->len, "13726@1795459779.004983:vtd_inv_qi_fetch \n",
                   strlen ("13726@1795459779.004983:vtd_inv_qi_fetch \n"));
  g_assert_false (iov_trace_reader_is_done (reader));
  iov_trace_reader_stop (reader);
  g_assert_true (iov_trace_reader_is_done (reader));
}

typedef struct
{
  char    *path;
  guint    n_lines;
  gboolean wait_for_reader;
  gint64   max_block_us;
  int      open_errno;
} Writer;

static gpointer
fifo_writer (gpointer data)
{
  Writer *w = data;
  g_autoptr(GString) chunk = g_string_new (NULL);
  int fd;

  /* O_NONBLOCK: fails with ENXIO when no reader has the FIFO open. */
  fd = open (w->path, O_WRONLY | O_NONBLOCK);
  if (fd < 0)
    {
      w->open_errno = errno;
      return NULL;
    }
  /* Then blocking writes, like QEMU's stdio. */
  fcntl (fd, F_SETFL, 0);
  for (guint i = 0; i < 64; i++)
    g_string_append (chunk, LINE);
  for (guint i = 0; i < w->n_lines; i += 64)
    {
      gint64 t0 = g_get_monotonic_time ();
      gsize off = 0;

      while (off < chunk->len)
        {
          gssize n = write (fd, chunk->str + off, chunk->len - off);

          g_assert_cmpint (n, >, 0);
          off += n;
        }
      w->max_block_us = MAX (w->max_block_us, g_get_monotonic_time () - t0);
    }
  close (fd);
  return NULL;
}

static guint64
count_newlines (GByteArray *a)
{
  guint64 n = 0;

  for (guint i = 0; i < a->len; i++)
    n += a->data[i] == '\n';
  return n;
}

static void
test_fifo (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "sub", "trace.fifo", NULL);
  g_autofree char *spec = g_strconcat ("fifo:", path, NULL);
  g_autoptr(IovTraceReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) got = NULL;
  Writer w = { .path = path, .n_lines = 6400 };
  Writer early = { .path = path, .n_lines = 0 };
  GThread *thread;

  reader = iov_trace_reader_new (spec, IOV_TRACE_READER_NONE, &error);
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_true (iov_trace_reader_start (reader, &error));
  g_assert_no_error (error);
  g_assert_cmpint (iov_trace_reader_get_kind (reader), ==, IOV_TRACE_SOURCE_FIFO);
  g_assert_true (iov_trace_reader_is_live (reader));
  g_assert_nonnull (strstr (iov_trace_reader_get_qemu_hint (reader), path));

  /* The reader opened it first, so the writer's O_NONBLOCK open succeeds
   * (it fails with ENXIO when no reader is there: checked below). */
  thread = g_thread_new ("writer", fifo_writer, &w);
  got = drain (reader, 0);
  g_thread_join (thread);
  g_assert_cmpint (w.open_errno, ==, 0);
  g_assert_cmpuint (count_newlines (got) + iov_trace_reader_get_dropped_lines (reader), ==, 6400);

  /* The same open with no reader: ENXIO (where QEMU would block). */
  {
    g_autofree char *lonely = g_build_filename (f->dir, "lonely.fifo", NULL);

    g_assert_cmpint (mkfifo (lonely, 0600), ==, 0);
    early.path = lonely;
    fifo_writer (&early);
    g_assert_cmpint (early.open_errno, ==, ENXIO);
    g_unlink (lonely);
  }
  g_assert_cmpuint (iov_trace_reader_get_dropped_lines (reader), ==, 0);
  g_assert_true (iov_trace_reader_is_done (reader));

  /* A FIFO we created is removed with the reader. */
  g_clear_pointer (&reader, iov_trace_reader_free);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  {
    g_autofree char *dir = g_path_get_dirname (path);
    g_rmdir (dir);
  }
}

/* The consumer does not pop at all: the writer must still never block, and
 * what does not fit is dropped and counted, line by line. */
static void
test_fifo_drops (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "trace.fifo", NULL);
  g_autofree char *spec = g_strconcat ("fifo:", path, NULL);
  g_autoptr(IovTraceReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) got = NULL;
  Writer w = { .path = path, .n_lines = 200000 };  /* ~21 MB */
  GThread *thread;
  guint64 dropped;

  reader = iov_trace_reader_new (spec, IOV_TRACE_READER_NONE, &error);
  iov_trace_reader_set_queue_limit (reader, 256 * 1024);
  g_assert_true (iov_trace_reader_start (reader, &error));
  g_assert_no_error (error);

  thread = g_thread_new ("writer", fifo_writer, &w);
  g_thread_join (thread);
  while (!iov_trace_reader_is_done (reader) && iov_trace_reader_get_bytes_read (reader) < 200000 * strlen (LINE))
    g_usleep (1000);
  dropped = iov_trace_reader_get_dropped_lines (reader);
  got = drain (reader, 0);
  g_test_message ("writer blocked at most %" G_GINT64_FORMAT " us; dropped %" G_GUINT64_FORMAT
                  " lines in %" G_GUINT64_FORMAT " batches",
                  w.max_block_us, dropped, iov_trace_reader_get_dropped_batches (reader));
  g_assert_cmpuint (dropped, >, 0);
  g_assert_cmpuint (iov_trace_reader_get_dropped_batches (reader), >, 0);
  g_assert_cmpuint (count_newlines (got) + iov_trace_reader_get_dropped_lines (reader), ==, 200000);
  /* Whole lines only, never a torn one. */
  g_assert_cmpuint (got->len % strlen (LINE), ==, 0);
  /* Generous bound (shared CI machine); the benchmark reports the real figure. */
  g_assert_cmpint (w.max_block_us, <, 500 * 1000);
}

/* A line longer than 1 MiB through a stream is cut to its first MiB (+1
 * byte, so the consumer sees and counts the cut) and the stream goes on. */
static void
test_fifo_long_line (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "trace.fifo", NULL);
  g_autofree char *spec = g_strconcat ("fifo:", path, NULL);
  g_autoptr(IovTraceReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) got = NULL;
  gsize big = 3 * IOV_TRACE_MAX_LINE;
  g_autofree char *huge = g_malloc (big);
  int fd;
  gsize off = 0;
  char *nl;

  memset (huge, 'x', big);
  reader = iov_trace_reader_new (spec, IOV_TRACE_READER_NONE, &error);
  g_assert_true (iov_trace_reader_start (reader, &error));
  fd = open (path, O_WRONLY);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, LINE, strlen (LINE)), ==, (gssize) strlen (LINE));
  while (off < big)
    {
      gssize n = write (fd, huge + off, big - off);

      g_assert_cmpint (n, >, 0);
      off += n;
    }
  g_assert_cmpint (write (fd, "\n" LINE, 1 + strlen (LINE)), ==, (gssize) (1 + strlen (LINE)));
  close (fd);
  got = drain (reader, 0);
  g_assert_cmpuint (got->len, ==, 2 * strlen (LINE) + IOV_TRACE_MAX_LINE + 2);
  g_assert_cmpmem (got->data, strlen (LINE), LINE, strlen (LINE));
  nl = memchr (got->data + strlen (LINE), '\n', got->len - strlen (LINE));
  g_assert_nonnull (nl);
  g_assert_cmpuint ((guint8 *) nl - got->data - strlen (LINE), ==, IOV_TRACE_MAX_LINE + 1);
}

static gpointer
unix_writer (gpointer data)
{
  Writer *w = data;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM, 0);

  strcpy (addr.sun_path, w->path);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  for (guint i = 0; i < w->n_lines; i++)
    g_assert_cmpint (write (fd, LINE, strlen (LINE)), ==, (gssize) strlen (LINE));
  /* An unterminated last line still arrives. */
  g_assert_cmpint (write (fd, "vtd_inv_qi_fetch ", 17), ==, 17);
  close (fd);
  return NULL;
}

static void
test_unix (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "trace.sock", NULL);
  g_autofree char *spec = g_strconcat ("unix:", path, NULL);
  g_autoptr(IovTraceReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) got = NULL;
  Writer w = { .path = path, .n_lines = 1000 };
  GThread *thread;

  reader = iov_trace_reader_new (spec, IOV_TRACE_READER_FOLLOW, &error);
  g_assert_true (iov_trace_reader_start (reader, &error));
  g_assert_no_error (error);
  g_assert_cmpint (iov_trace_reader_get_kind (reader), ==, IOV_TRACE_SOURCE_UNIX);
  g_assert_nonnull (strstr (iov_trace_reader_get_qemu_hint (reader), "socat"));

  /* Two writers one after the other (QEMU restarted): both are read. */
  for (guint round = 1; round <= 2; round++)
    {
      thread = g_thread_new ("writer", unix_writer, &w);
      got = drain (reader, 1000 * strlen (LINE) + 17);
      g_thread_join (thread);
      g_assert_cmpuint (got->len, ==, 1000 * strlen (LINE) + 17);
      g_assert_cmpmem (got->data + got->len - 17, 17, "vtd_inv_qi_fetch ", 17);
      g_byte_array_unref (g_steal_pointer (&got));
      g_assert_cmpuint (iov_trace_reader_get_connections (reader), ==, round);
    }
  iov_trace_reader_stop (reader);
  g_clear_pointer (&reader, iov_trace_reader_free);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  /* A path that is something else is refused, not replaced. */
  g_assert_true (g_file_set_contents (path, "precious", -1, NULL));
  reader = iov_trace_reader_new (spec, IOV_TRACE_READER_NONE, &error);
  g_assert_false (iov_trace_reader_start (reader, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  signal (SIGPIPE, SIG_IGN);

  g_test_add ("/trace/reader/file", Fixture, NULL, fixture_set_up, test_file, fixture_tear_down);
  g_test_add ("/trace/reader/follow", Fixture, NULL, fixture_set_up, test_follow, fixture_tear_down);
  g_test_add ("/trace/reader/fifo", Fixture, NULL, fixture_set_up, test_fifo, fixture_tear_down);
  g_test_add ("/trace/reader/fifo-drops", Fixture, NULL, fixture_set_up, test_fifo_drops, fixture_tear_down);
  g_test_add ("/trace/reader/fifo-long-line", Fixture, NULL, fixture_set_up, test_fifo_long_line, fixture_tear_down);
  g_test_add ("/trace/reader/unix", Fixture, NULL, fixture_set_up, test_unix, fixture_tear_down);
  return g_test_run ();
}
