/* bench-live.c — the whole live view keeping up with a fast trace
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

/* A real window with the live view connected to a real QEMU (QMP) and to
 * a FIFO trace source, as `iovista --connect … --trace fifo:…` does, with
 * the main loop running as in the app: a thread writes the lines of a real
 * QEMU 7.2 trace into the FIFO at a fixed rate (default 100 000 lines/s,
 * 10 s) while the map, lanes, timeline and event list follow live.
 *
 * Reported, as a JSON line: lines written, lines the view read and
 * dropped, the process's CPU time per second of input, and the main loop's
 * stalls (gaps between two 10 ms heartbeats: the longest, and how many
 * passed 50 ms) — against a baseline run in the same process: the same
 * window connected, no input.
 *
 * Needs a display (xvfb-run), qemu-system-x86_64 and xz; exits 77 without. */

#include "config.h"

#include <adwaita.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "iov-live-view.h"

typedef struct
{
  char    *fifo;
  char    *text;        /* the trace's lines */
  gsize    len;
  guint    rate;
  double   seconds;
  guint64  written;
  gboolean done;
} Writer;

static gpointer
writer_thread (gpointer data)
{
  Writer *w = data;
  int fd = open (w->fifo, O_WRONLY);
  gint64 start = g_get_monotonic_time ();
  const char *p = w->text, *end = w->text + w->len;
  guint per_slice = MAX (1, w->rate / 200);  /* 5 ms slices */
  GString *chunk = g_string_new (NULL);

  g_assert (fd >= 0);
  while (g_get_monotonic_time () - start < w->seconds * G_USEC_PER_SEC)
    {
      gint64 due;

      g_string_truncate (chunk, 0);
      for (guint i = 0; i < per_slice; i++)
        {
          const char *nl = memchr (p, '\n', end - p);

          if (nl == NULL)
            {
              p = w->text;
              nl = memchr (p, '\n', end - p);
            }
          g_string_append_len (chunk, p, nl - p + 1);
          p = nl + 1 < end ? nl + 1 : w->text;
        }
      for (gsize off = 0; off < chunk->len;)
        {
          gssize n = write (fd, chunk->str + off, chunk->len - off);

          g_assert (n > 0);
          off += n;
        }
      w->written += per_slice;
      due = start + (gint64) (w->written * G_USEC_PER_SEC / w->rate);
      if (due > g_get_monotonic_time ())
        g_usleep (due - g_get_monotonic_time ());
    }
  close (fd);
  g_string_free (chunk, TRUE);
  g_atomic_int_set (&w->done, TRUE);
  return NULL;
}

static double
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

typedef struct
{
  gint64 last;
  gint64 worst;
  guint  over_50ms;   /* stalls a user would notice */
} Heartbeat;

static gboolean
heartbeat_cb (gpointer data)
{
  Heartbeat *h = data;
  gint64 now = g_get_monotonic_time ();

  if (h->last != 0)
    {
      h->worst = MAX (h->worst, now - h->last);
      h->over_50ms += now - h->last > 50000;
    }
  h->last = now;
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop for @seconds, watching its stalls. */
static gint64
run_for (double  seconds,
         guint  *over_50ms)
{
  Heartbeat h = { 0 };
  guint id = g_timeout_add (10, heartbeat_cb, &h);
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
  if (over_50ms != NULL)
    *over_50ms = h.over_50ms;
  return h.worst;
}

static char *
read_trace (const char *path)
{
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  char *out = NULL;

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "xz", "-dc", path, NULL);
  if (proc == NULL || !g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, &error))
    return NULL;
  return out;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *qemu = g_find_program_in_path ("qemu-system-x86_64");
  g_autofree char *dir = NULL;
  g_autofree char *sock = NULL;
  g_autofree char *qmp = NULL;
  g_autofree char *address = NULL;
  g_autofree char *source = NULL;
  g_autoptr(GSubprocess) vm = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GThread) thread = NULL;
  Writer w = { 0 };
  GtkWidget *window, *view;
  guint64 lines = 0, events = 0, dropped = 0;
  double cpu0, cpu1, cpu2, base_cpu, live_cpu;
  gint64 base_stall, live_stall, start;
  guint base_over = 0, live_over = 0;

  if (argc < 2)
    {
      g_printerr ("usage: bench-live TRACE.log.xz [RATE [SECONDS]]\n");
      return 2;
    }
  w.rate = argc > 2 ? (guint) atoi (argv[2]) : 100000;
  w.seconds = argc > 3 ? g_ascii_strtod (argv[3], NULL) : 10;
  if (qemu == NULL || g_find_program_in_path ("xz") == NULL)
    {
      g_printerr ("bench-live needs qemu-system-x86_64 and xz: skipped\n");
      return 77;
    }
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  g_setenv ("GTK_A11Y", "none", FALSE);
  g_setenv ("GSETTINGS_BACKEND", "memory", FALSE);
  if (!gtk_init_check ())
    {
      g_printerr ("bench-live needs a display: run it under xvfb-run\n");
      return 77;
    }
  adw_init ();
  w.text = read_trace (argv[1]);
  g_assert (w.text != NULL);
  w.len = strlen (w.text);

  dir = g_dir_make_tmp ("iovista-bench-live-XXXXXX", &error);
  g_assert_no_error (error);
  sock = g_build_filename (dir, "qmp.sock", NULL);
  w.fifo = g_build_filename (dir, "trace.fifo", NULL);
  qmp = g_strdup_printf ("unix:%s,server=on,wait=off", sock);
  vm = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                         qemu, "-M", "q35", "-accel", "tcg", "-nodefaults", "-display", "none",
                         "-device", "intel-iommu", "-qmp", qmp, "-S", NULL);
  g_assert_no_error (error);

  window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 760);
  view = iov_live_view_new ();
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  address = g_strconcat ("unix:", sock, NULL);
  source = g_strconcat ("fifo:", w.fifo, NULL);
  if (!iov_live_view_connect (IOV_LIVE_VIEW (view), address, source, &error))
    g_error ("connect: %s", error->message);

  start = g_get_monotonic_time ();
  while (!g_str_has_prefix (iov_live_view_get_status (IOV_LIVE_VIEW (view)), "Live") &&
         g_get_monotonic_time () - start < 30 * G_USEC_PER_SEC)
    g_main_context_iteration (NULL, TRUE);

  /* baseline: the same live window, no trace input */
  cpu0 = cpu_seconds ();
  base_stall = run_for (3, &base_over);
  cpu1 = cpu_seconds ();
  base_cpu = (cpu1 - cpu0) / 3;

  thread = g_thread_new ("writer", writer_thread, &w);
  live_stall = run_for (w.seconds, &live_over);
  while (!g_atomic_int_get (&w.done))
    g_main_context_iteration (NULL, TRUE);
  /* what is still queued gets read */
  run_for (2, NULL);
  cpu2 = cpu_seconds ();
  live_cpu = (cpu2 - cpu1) / (w.seconds + 2);
  iov_live_view_get_trace_counts (IOV_LIVE_VIEW (view), &lines, &events, &dropped);

  g_print ("{\"bench\": \"live\", \"rate\": %u, \"seconds\": %.0f, \"written\": %" G_GUINT64_FORMAT
           ", \"read\": %" G_GUINT64_FORMAT ", \"dropped\": %" G_GUINT64_FORMAT
           ", \"cpu_per_s\": %.2f, \"baseline_cpu_per_s\": %.2f, \"longest_stall_ms\": %.1f"
           ", \"baseline_longest_stall_ms\": %.1f, \"stalls_over_50ms\": %u, \"baseline_stalls_over_50ms\": %u}\n",
           w.rate, w.seconds, w.written, lines, dropped, live_cpu, base_cpu,
           live_stall / 1000.0, base_stall / 1000.0, live_over, base_over);

  gtk_window_destroy (GTK_WINDOW (window));
  g_subprocess_force_exit (vm);
  g_unlink (sock);
  g_unlink (w.fifo);
  g_rmdir (dir);
  g_free (w.text);
  g_free (w.fifo);
  return lines + dropped >= w.written ? 0 : 1;
}
