/* test-trace-live.c — FIFO and socket trace sources against a real QEMU
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

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "iov-trace-events.h"
#include "iov-trace-parser.h"
#include "iov-trace-reader.h"

/* QEMU (TCG) with an Intel IOMMU, paused (-S): machine reset alone emits
 * vtd_context_cache_reset and one vtd_switch_address_space per PCI function
 * (00:00.0 and the ICH9 functions at 00:1f.*). */
#define QEMU_ARGS "-nodefaults", "-M", "q35", "-device", "intel-iommu", "-accel", "tcg", \
                  "-display", "none", "-monitor", "none", "-serial", "none", "-S", \
                  "-msg", "timestamp=on"
#define MIN_SWITCHES 4

static char *qemu;

typedef struct
{
  IovTraceCatalog *catalog;
  IovTraceStats    stats;
  guint            switches;
  guint            resets;
} Counts;

static void
count_line (const char *text,
            gsize       len,
            gboolean    cut,
            gpointer    user_data)
{
  Counts *c = user_data;
  IovTraceLine line;

  iov_trace_parse_line (c->catalog, text, len, &line);
  iov_trace_stats_add (&c->stats, c->catalog, &line);
  if (line.kind != IOV_TRACE_LINE_EVENT)
    return;
  g_assert_true (line.has_tid);
  g_assert_true (line.has_ts);
  if (line.name_len == 24 && memcmp (line.name, "vtd_switch_address_space", 24) == 0)
    c->switches++;
  if (line.name_len == 23 && memcmp (line.name, "vtd_context_cache_reset", 23) == 0)
    c->resets++;
}

/* Reads until @enough switches arrived, then SIGTERMs QEMU and reads to EOF. */
static void
read_until_done (IovTraceReader *reader,
                 GSubprocess    *proc,
                 Counts         *c)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
  gboolean signalled = FALSE;

  while (!iov_trace_reader_is_done (reader))
    {
      g_autoptr(GBytes) b = iov_trace_reader_pop (reader, 100 * G_TIME_SPAN_MILLISECOND);

      if (b != NULL)
        {
          gsize len;
          const char *data = g_bytes_get_data (b, &len);

          iov_trace_split_lines (data, len, count_line, c);
        }
      if (!signalled && c->switches >= MIN_SWITCHES)
        {
          /* Give QEMU a moment to finish the reset burst, then stop it. */
          g_usleep (200 * 1000);
          g_subprocess_send_signal (proc, SIGTERM);
          signalled = TRUE;
        }
      if (g_get_monotonic_time () > deadline)
        {
          g_subprocess_force_exit (proc);
          g_error ("no end of trace after 60 s (%u switches)", c->switches);
        }
    }
  g_assert_true (signalled);
  g_subprocess_wait (proc, NULL, NULL);
}

static void
test_fifo (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("iov-live-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "trace.fifo", NULL);
  g_autofree char *spec = g_strconcat ("fifo:", path, NULL);
  g_autofree char *trace_arg = g_strconcat ("enable=vtd_*,file=", path, NULL);
  g_autoptr(IovTraceReader) reader = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  Counts c = { 0 };

  c.catalog = iov_trace_catalog_new_builtin ();
  iov_trace_stats_init (&c.stats);

  /* The reader creates and opens the FIFO first; QEMU would block in open()
   * otherwise. */
  reader = iov_trace_reader_new (spec, IOV_TRACE_READER_NONE, &error);
  g_assert_no_error (error);
  g_assert_true (iov_trace_reader_start (reader, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                           qemu, QEMU_ARGS, "-trace", trace_arg, NULL);
  g_assert_no_error (error);
  read_until_done (reader, proc, &c);

  g_test_message ("FIFO: %" G_GUINT64_FORMAT " lines, %" G_GUINT64_FORMAT " events, %u switches",
                  c.stats.lines, c.stats.events, c.switches);
  g_assert_cmpuint (c.switches, >=, MIN_SWITCHES);
  g_assert_cmpuint (c.resets, >=, 1);
  g_assert_cmpuint (c.stats.malformed, ==, 0);
  g_assert_cmpuint (c.stats.events, ==, c.stats.lines - c.stats.other);
  g_assert_cmpuint (iov_trace_reader_get_dropped_lines (reader), ==, 0);

  g_clear_pointer (&reader, iov_trace_reader_free);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_rmdir (dir);
  iov_trace_stats_clear (&c.stats);
  iov_trace_catalog_free (c.catalog);
}

/* QEMU cannot open a socket for its log: its stderr (no -D, no file=) is
 * connected to our listening socket, here through an inherited fd. */
static void
test_unix_inherited_fd (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("iov-live-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "trace.sock", NULL);
  g_autofree char *spec = g_strconcat ("unix:", path, NULL);
  g_autoptr(IovTraceReader) reader = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  Counts c = { 0 };
  int fd;

  c.catalog = iov_trace_catalog_new_builtin ();
  iov_trace_stats_init (&c.stats);

  reader = iov_trace_reader_new (spec, IOV_TRACE_READER_NONE, &error);
  g_assert_true (iov_trace_reader_start (reader, &error));
  g_assert_no_error (error);

  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  strcpy (addr.sun_path, path);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_take_stderr_fd (launcher, fd);  /* closed here after the spawn */
  proc = g_subprocess_launcher_spawn (launcher, &error, qemu, QEMU_ARGS, "-trace", "enable=vtd_*", NULL);
  g_assert_no_error (error);
  g_clear_object (&launcher);
  read_until_done (reader, proc, &c);

  g_test_message ("socket: %" G_GUINT64_FORMAT " lines, %" G_GUINT64_FORMAT " events, %" G_GUINT64_FORMAT
                  " other, %u switches", c.stats.lines, c.stats.events, c.stats.other, c.switches);
  g_assert_cmpuint (c.switches, >=, MIN_SWITCHES);
  g_assert_cmpuint (c.stats.malformed, ==, 0);
  /* QEMU's own "terminating on signal 15" shares the stream: other. */
  g_assert_cmpuint (c.stats.other, >=, 1);
  g_assert_cmpuint (iov_trace_reader_get_connections (reader), ==, 1);

  g_clear_pointer (&reader, iov_trace_reader_free);
  g_rmdir (dir);
  iov_trace_stats_clear (&c.stats);
  iov_trace_catalog_free (c.catalog);
}

/* The same through socat, exactly as `iovista-cli trace unix:PATH` tells
 * the user to do it. */
static void
test_unix_socat (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *socat = g_find_program_in_path ("socat");
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *spec = NULL;
  g_autofree char *cmd = NULL;
  g_autofree char *pidfile = NULL;
  g_autoptr(IovTraceReader) reader = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  Counts c = { 0 };

  if (socat == NULL)
    {
      g_test_skip ("socat is not installed");
      return;
    }
  dir = g_dir_make_tmp ("iov-live-XXXXXX", &error);
  path = g_build_filename (dir, "trace.sock", NULL);
  spec = g_strconcat ("unix:", path, NULL);
  c.catalog = iov_trace_catalog_new_builtin ();
  iov_trace_stats_init (&c.stats);

  reader = iov_trace_reader_new (spec, IOV_TRACE_READER_NONE, &error);
  g_assert_true (iov_trace_reader_start (reader, &error));
  g_assert_no_error (error);

  /* QEMU writes its pid to a pidfile, so that it alone is signalled. */
  pidfile = g_build_filename (dir, "qemu.pid", NULL);
  cmd = g_strdup_printf ("'%s' -nodefaults -M q35 -device intel-iommu -accel tcg -display none "
                         "-monitor none -serial none -S -msg timestamp=on -pidfile '%s' -trace 'vtd_*' "
                         "2>&1 >/dev/null | '%s' -u - UNIX-CONNECT:'%s'", qemu, pidfile, socat, path);
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "sh", "-c", cmd, NULL);
  g_assert_no_error (error);

  {
    gint64 deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
    gboolean signalled = FALSE;

    while (!iov_trace_reader_is_done (reader))
      {
        g_autoptr(GBytes) b = iov_trace_reader_pop (reader, 100 * G_TIME_SPAN_MILLISECOND);

        if (b != NULL)
          iov_trace_split_lines (g_bytes_get_data (b, NULL), g_bytes_get_size (b), count_line, &c);
        if (!signalled && c.switches >= MIN_SWITCHES)
          {
            g_autofree char *pid = NULL;

            g_usleep (200 * 1000);
            g_assert_true (g_file_get_contents (pidfile, &pid, NULL, NULL));
            g_assert_cmpint (kill ((pid_t) g_ascii_strtoll (pid, NULL, 10), SIGTERM), ==, 0);
            signalled = TRUE;
          }
        g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      }
  }
  g_subprocess_wait (proc, NULL, NULL);
  g_test_message ("socat: %" G_GUINT64_FORMAT " lines, %" G_GUINT64_FORMAT " events, %u switches",
                  c.stats.lines, c.stats.events, c.switches);
  g_assert_cmpuint (c.switches, >=, MIN_SWITCHES);
  g_assert_cmpuint (c.stats.malformed, ==, 0);

  g_clear_pointer (&reader, iov_trace_reader_free);
  g_unlink (pidfile);
  g_rmdir (dir);
  iov_trace_stats_clear (&c.stats);
  iov_trace_catalog_free (c.catalog);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  signal (SIGPIPE, SIG_IGN);

  qemu = g_find_program_in_path ("qemu-system-x86_64");
  if (qemu == NULL)
    {
      printf ("1..0 # SKIP qemu-system-x86_64 is not installed\n");
      fprintf (stderr, "skipped: qemu-system-x86_64 is not installed\n");
      return 77;
    }

  g_test_add_func ("/trace/live/fifo", test_fifo);
  g_test_add_func ("/trace/live/unix-inherited-fd", test_unix_inherited_fd);
  g_test_add_func ("/trace/live/unix-socat", test_unix_socat);
  return g_test_run ();
}
