/* iov-trace-reader.c
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

#define G_LOG_DOMAIN "iov-trace-reader"
#define _GNU_SOURCE  /* memrchr, accept4 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "iov-trace-parser.h"
#include "iov-trace-control.h"
#include "iov-trace-reader.h"

#define READ_SIZE   (256 * 1024)
#define BATCH_BYTES (256 * 1024)

struct _IovTraceReader
{
  IovTraceSourceKind  kind;
  IovTraceReaderFlags flags;
  char               *path;
  char               *hint;
  gboolean            regular;      /* a regular file (also for stdin) */
  gboolean            created_fifo;
  gboolean            listening;

  int                 fd;           /* file, FIFO or stdin; -1 */
  int                 listen_fd;    /* unix: */
  int                 wake[2];      /* stop pipe */

  GThread            *thread;
  GMutex              lock;
  GCond               cond;
  GQueue              queue;        /* GBytes */
  gsize               queued_bytes;
  gsize               queue_limit;
  gboolean            thread_done;
  gboolean            stopping;
  guint64             dropped_lines;
  guint64             dropped_batches;
  gsize               bytes_read;
  guint               connections;
  GError             *error;

  /* thread-side line assembly */
  char               *buf;
  gsize               fill;
  GByteArray         *long_line;    /* an over-long line being skipped */
};

typedef struct
{
  void  *addr;
  gsize  len;
} MappedRegion;

static void
unmap_region (gpointer data)
{
  MappedRegion *region = data;

  munmap (region->addr, region->len);
  g_free (region);
}

char *
iov_trace_reader_default_fifo_path (void)
{
  g_autofree char *name = g_strdup_printf ("trace-%d.fifo", (int) getpid ());

  return g_build_filename (g_get_user_runtime_dir (), "iovista", name, NULL);
}

IovTraceReader *
iov_trace_reader_new (const char           *spec,
                      IovTraceReaderFlags   flags,
                      GError              **error)
{
  g_autoptr(IovTraceReader) self = NULL;

  g_return_val_if_fail (spec != NULL, NULL);

  self = g_new0 (IovTraceReader, 1);
  self->fd = -1;
  self->listen_fd = -1;
  self->wake[0] = self->wake[1] = -1;
  self->flags = flags;
  self->queue_limit = IOV_TRACE_READER_DEFAULT_QUEUE_BYTES;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->queue);

  if (strcmp (spec, "-") == 0)
    {
      self->kind = IOV_TRACE_SOURCE_STDIN;
      self->path = g_strdup ("-");
    }
  else if (g_str_has_prefix (spec, "fifo:"))
    {
      self->kind = IOV_TRACE_SOURCE_FIFO;
      self->path = spec[5] ? g_strdup (spec + 5) : iov_trace_reader_default_fifo_path ();
    }
  else if (g_str_has_prefix (spec, "unix:"))
    {
      self->kind = IOV_TRACE_SOURCE_UNIX;
      self->path = g_strdup (spec + 5);
      if (self->path[0] == '\0')
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "unix: needs a socket path");
          return NULL;
        }
    }
  else
    {
      self->kind = IOV_TRACE_SOURCE_FILE;
      self->path = g_strdup (spec);
    }
  return g_steal_pointer (&self);
}

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    {
      close (*fd);
      *fd = -1;
    }
}

void
iov_trace_reader_free (IovTraceReader *self)
{
  if (self == NULL)
    return;
  iov_trace_reader_stop (self);
  g_queue_clear_full (&self->queue, (GDestroyNotify) g_bytes_unref);
  if (self->kind != IOV_TRACE_SOURCE_STDIN)
    close_fd (&self->fd);
  close_fd (&self->listen_fd);
  close_fd (&self->wake[0]);
  close_fd (&self->wake[1]);
  if (self->listening)
    g_unlink (self->path);
  if (self->created_fifo)
    g_unlink (self->path);
  g_clear_pointer (&self->long_line, g_byte_array_unref);
  g_clear_error (&self->error);
  g_free (self->buf);
  g_free (self->path);
  g_free (self->hint);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

void
iov_trace_reader_set_queue_limit (IovTraceReader *self,
                                  gsize           bytes)
{
  g_return_if_fail (self != NULL);
  self->queue_limit = MAX (bytes, 1);
}

static guint64
count_lines (const char *data,
             gsize       len)
{
  const char *p = data, *end = data + len;
  guint64 n = 0;

  while (p < end && (p = memchr (p, '\n', end - p)) != NULL)
    {
      n++;
      p++;
    }
  if (len > 0 && data[len - 1] != '\n')
    n++;
  return n;
}

/* Hands a batch of whole lines to the consumer.  Live sources never wait:
 * a full queue drops the batch (before copying it) and counts its lines.
 * Files wait for room. */
static void
push_data (IovTraceReader *self,
           const char     *data,
           gsize           len)
{
  gboolean accept;
  GBytes *bytes;

  if (len == 0)
    return;
  g_mutex_lock (&self->lock);
  if (self->regular)
    while (!self->stopping && self->queued_bytes > 0 && self->queued_bytes + len > self->queue_limit)
      g_cond_wait (&self->cond, &self->lock);
  accept = self->regular || self->queued_bytes + len <= self->queue_limit;
  if (accept)
    self->queued_bytes += len;  /* reserved; the copy is made unlocked */
  else
    self->dropped_batches++;
  g_mutex_unlock (&self->lock);

  if (!accept)
    {
      guint64 n = count_lines (data, len);

      g_mutex_lock (&self->lock);
      self->dropped_lines += n;
      g_mutex_unlock (&self->lock);
      return;
    }
  bytes = g_bytes_new (data, len);
  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->queue, bytes);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static void
set_thread_error (IovTraceReader *self,
                  GError         *error)
{
  g_mutex_lock (&self->lock);
  if (self->error == NULL)
    self->error = error;
  else
    g_error_free (error);
  g_mutex_unlock (&self->lock);
}

/* Emits the complete lines in self->buf and keeps the partial last one.
 * A line growing past IOV_TRACE_MAX_LINE is kept as its first
 * IOV_TRACE_MAX_LINE + 1 bytes (so the consumer sees and counts the cut)
 * and the rest of it is skipped. */
static void
flush_lines (IovTraceReader *self,
             gboolean        at_eof)
{
  char *nl;

  if (self->long_line != NULL)
    {
      nl = memchr (self->buf, '\n', self->fill);
      if (nl == NULL && !at_eof)
        {
          self->fill = 0;
          return;
        }
      if (nl != NULL)
        {
          gsize rest = self->fill - (nl + 1 - self->buf);

          g_byte_array_append (self->long_line, (const guint8 *) "\n", 1);
          memmove (self->buf, nl + 1, rest);
          self->fill = rest;
        }
      else
        self->fill = 0;
      push_data (self, (const char *) self->long_line->data, self->long_line->len);
      g_clear_pointer (&self->long_line, g_byte_array_unref);
    }

  if (self->fill == 0)
    return;
  nl = memrchr (self->buf, '\n', self->fill);
  if (nl != NULL)
    {
      gsize upto = nl + 1 - self->buf;

      push_data (self, self->buf, upto);
      memmove (self->buf, nl + 1, self->fill - upto);
      self->fill -= upto;
    }
  if (at_eof && self->fill > 0)
    {
      push_data (self, self->buf, self->fill);
      self->fill = 0;
    }
  else if (self->fill > IOV_TRACE_MAX_LINE)
    {
      self->long_line = g_byte_array_sized_new (IOV_TRACE_MAX_LINE + 2);
      g_byte_array_append (self->long_line, (const guint8 *) self->buf, IOV_TRACE_MAX_LINE + 1);
      self->fill = 0;
    }
}

/* Waits until @fd is readable or the reader is stopped; -1 = wait forever. */
static gboolean
wait_readable (IovTraceReader *self,
               int             fd,
               int             timeout_ms)
{
  struct pollfd pfd[2] = {
    { .fd = self->wake[0], .events = POLLIN },
    { .fd = fd, .events = POLLIN },
  };

  for (;;)
    {
      int r = poll (pfd, fd >= 0 ? 2 : 1, timeout_ms);

      if (r < 0 && errno == EINTR)
        continue;
      if (pfd[0].revents)
        return FALSE;
      return TRUE;
    }
}

/* Reads @fd until EOF (or until stopped).  Returns FALSE when stopped.
 * Whatever has arrived is handed over as soon as the source goes quiet, so
 * a live source is never held back waiting for a full batch. */
static gboolean
drain_fd (IovTraceReader *self,
          int             fd)
{
  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      gssize n;

      if (poll (&pfd, 1, 0) == 0)
        {
          flush_lines (self, FALSE);
          if (!wait_readable (self, fd, -1))
            return FALSE;
        }
      n = read (fd, self->buf + self->fill, READ_SIZE);
      if (n > 0)
        {
          self->fill += n;
          g_atomic_pointer_add (&self->bytes_read, n);
          if (self->fill >= BATCH_BYTES)
            flush_lines (self, FALSE);
          continue;
        }
      if (n == 0)
        {
          flush_lines (self, TRUE);
          return TRUE;
        }
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
        continue;
      set_thread_error (self, g_error_new (G_IO_ERROR, g_io_error_from_errno (errno),
                                           "%s: %s", self->path, g_strerror (errno)));
      flush_lines (self, TRUE);
      return FALSE;
    }
}

/* Tails a regular file: read to EOF, then poll every 100 ms for growth. */
static void
follow_file (IovTraceReader *self)
{
  goffset offset = 0;

  for (;;)
    {
      gssize n = read (self->fd, self->buf + self->fill, READ_SIZE);

      if (n > 0)
        {
          self->fill += n;
          offset += n;
          g_atomic_pointer_add (&self->bytes_read, n);
          if (self->fill + READ_SIZE > IOV_TRACE_MAX_LINE + 2 * READ_SIZE || self->fill >= BATCH_BYTES)
            flush_lines (self, FALSE);
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_thread_error (self, g_error_new (G_IO_ERROR, g_io_error_from_errno (errno),
                                               "%s: %s", self->path, g_strerror (errno)));
          break;
        }
      flush_lines (self, FALSE);
      if (!wait_readable (self, -1, 100))
        break;
      {
        struct stat st;

        /* Truncated (QEMU restarted with the same -D file): start over. */
        if (fstat (self->fd, &st) == 0 && st.st_size < offset)
          {
            lseek (self->fd, 0, SEEK_SET);
            offset = 0;
            self->fill = 0;
          }
      }
    }
  flush_lines (self, TRUE);
}

static int
open_fifo (IovTraceReader  *self,
           GError         **error)
{
  int fd = open (self->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

  if (fd < 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "%s: %s", self->path, g_strerror (errsv));
      return -1;
    }
#ifdef F_SETPIPE_SZ
  /* A bigger pipe absorbs bursts while the reader thread waits for a CPU
   * (best effort: beyond /proc/sys/fs/pipe-max-size, 1 MiB by default,
   * only privileged processes may go). */
  if (fcntl (fd, F_SETPIPE_SZ, 8 * 1024 * 1024) < 0)
    fcntl (fd, F_SETPIPE_SZ, 1024 * 1024);
#endif
  return fd;
}

static gpointer
reader_thread (gpointer data)
{
  IovTraceReader *self = data;

  switch (self->kind)
    {
    case IOV_TRACE_SOURCE_FILE:
    case IOV_TRACE_SOURCE_STDIN:
      if (self->regular && (self->flags & IOV_TRACE_READER_FOLLOW))
        follow_file (self);
      else
        drain_fd (self, self->fd);
      break;

    case IOV_TRACE_SOURCE_FIFO:
      for (;;)
        {
          g_autoptr(GError) error = NULL;

          if (!drain_fd (self, self->fd))
            break;
          if (!(self->flags & IOV_TRACE_READER_FOLLOW))
            break;
          /* The writer went away: reopen so that a new writer (QEMU
           * restarted) finds a reader and we do not spin on POLLHUP. The
           * new end is opened before the old one is closed: a writer that
           * came back in between never finds the FIFO without a reader
           * (its next write would fail with EPIPE, or SIGPIPE kill it). */
          {
            int fd = open_fifo (self, &error);

            if (fd < 0)
              {
                set_thread_error (self, g_steal_pointer (&error));
                break;
              }
            close_fd (&self->fd);
            self->fd = fd;
          }
        }
      break;

    case IOV_TRACE_SOURCE_UNIX:
      for (;;)
        {
          int conn;

          if (!wait_readable (self, self->listen_fd, -1))
            break;
          conn = accept4 (self->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
          if (conn < 0)
            {
              if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED)
                continue;
              set_thread_error (self, g_error_new (G_IO_ERROR, g_io_error_from_errno (errno),
                                                   "accept: %s", g_strerror (errno)));
              break;
            }
          g_atomic_int_inc (&self->connections);
          {
            gboolean go_on = drain_fd (self, conn);

            close (conn);
            if (!go_on || !(self->flags & IOV_TRACE_READER_FOLLOW))
              break;
          }
        }
      break;

    default:
      g_assert_not_reached ();
    }

  g_mutex_lock (&self->lock);
  self->thread_done = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return NULL;
}

static gboolean
start_unix (IovTraceReader  *self,
            GError         **error)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  struct stat st;
  int fd;

  if (strlen (self->path) >= sizeof addr.sun_path)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: socket path too long", self->path);
      return FALSE;
    }
  strcpy (addr.sun_path, self->path);
  /* Replace a stale socket, never any other file. */
  if (lstat (self->path, &st) == 0)
    {
      if (!S_ISSOCK (st.st_mode))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s: exists and is not a socket", self->path);
          return FALSE;
        }
      g_unlink (self->path);
    }
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 4) < 0)
    {
      int errsv = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "%s: %s", self->path, g_strerror (errsv));
      return FALSE;
    }
  self->listen_fd = fd;
  self->listening = TRUE;
  {
    g_autofree char *args = iov_trace_preset_qemu_args (iov_trace_preset_find ("notifier-traffic"), NULL);

    self->hint = g_strdup_printf ("qemu-system-x86_64 … %s 2>&1 >/dev/null | socat -u - UNIX-CONNECT:%s",
                                  args, self->path);
  }
  return TRUE;
}

static gboolean
start_fifo (IovTraceReader  *self,
            GError         **error)
{
  struct stat st;

  if (stat (self->path, &st) == 0)
    {
      if (!S_ISFIFO (st.st_mode))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s: exists and is not a FIFO", self->path);
          return FALSE;
        }
    }
  else
    {
      g_autofree char *dir = g_path_get_dirname (self->path);

      if (g_mkdir_with_parents (dir, 0700) < 0 || mkfifo (self->path, 0600) < 0)
        {
          int errsv = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                       "%s: %s", self->path, g_strerror (errsv));
          return FALSE;
        }
      self->created_fifo = TRUE;
    }
  /* Opened here, before QEMU starts: QEMU blocks in open() until a reader
   * has the FIFO open. */
  self->fd = open_fifo (self, error);
  if (self->fd < 0)
    return FALSE;
  {
    /* The events that make deliveries observable, not only VT-d's. */
    g_autofree char *args = iov_trace_preset_qemu_args (iov_trace_preset_find ("notifier-traffic"), self->path);

    self->hint = g_strdup_printf ("qemu-system-x86_64 … %s", args);
  }
  return TRUE;
}

gboolean
iov_trace_reader_start (IovTraceReader  *self,
                        GError         **error)
{
  struct stat st;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (self->thread == NULL, FALSE);

  if (!g_unix_open_pipe (self->wake, FD_CLOEXEC, error))
    return FALSE;
  /* A FIFO named without fifo: is still a FIFO. */
  if (self->kind == IOV_TRACE_SOURCE_FILE && stat (self->path, &st) == 0 && S_ISFIFO (st.st_mode))
    self->kind = IOV_TRACE_SOURCE_FIFO;

  switch (self->kind)
    {
    case IOV_TRACE_SOURCE_FILE:
      self->fd = open (self->path, O_RDONLY | O_CLOEXEC);
      if (self->fd < 0)
        {
          int errsv = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                       "%s: %s", self->path, g_strerror (errsv));
          return FALSE;
        }
      self->regular = TRUE;
      if (!(self->flags & IOV_TRACE_READER_FOLLOW) && S_ISREG (st.st_mode))
        {
          /* Whole file: one mapped batch, no copy and no thread.  The
           * mapping is populated up front: faulting 4 KiB pages one by one
           * costs as much as parsing them. */
          if (st.st_size > 0)
            {
              gsize len = st.st_size;
              void *map = mmap (NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, self->fd, 0);
              MappedRegion *region;

              if (map == MAP_FAILED)
                {
                  int errsv = errno;

                  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                               "%s: %s", self->path, g_strerror (errsv));
                  return FALSE;
                }
              region = g_new (MappedRegion, 1);
              region->addr = map;
              region->len = len;
              g_queue_push_tail (&self->queue, g_bytes_new_with_free_func (map, len, unmap_region, region));
              self->queued_bytes = len;
              self->bytes_read = len;
            }
          self->thread_done = TRUE;
          return TRUE;
        }
      break;

    case IOV_TRACE_SOURCE_STDIN:
      self->fd = STDIN_FILENO;
      self->regular = fstat (self->fd, &st) == 0 && S_ISREG (st.st_mode);
      break;

    case IOV_TRACE_SOURCE_FIFO:
      if (!start_fifo (self, error))
        return FALSE;
      break;

    case IOV_TRACE_SOURCE_UNIX:
      if (!start_unix (self, error))
        return FALSE;
      break;

    default:
      g_assert_not_reached ();
    }

  self->buf = g_malloc (IOV_TRACE_MAX_LINE + 3 * READ_SIZE);
  self->thread = g_thread_new ("iov-trace-reader", reader_thread, self);
  return TRUE;
}

/* Stops the thread (if any); batches already queued can still be popped. */
void
iov_trace_reader_stop (IovTraceReader *self)
{
  g_return_if_fail (self != NULL);

  if (self->thread == NULL)
    return;
  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (self->wake[1] >= 0)
    {
      char c = 'x';

      while (write (self->wake[1], &c, 1) < 0 && errno == EINTR)
        ;
    }
  g_thread_join (self->thread);
  self->thread = NULL;
}

/* Next batch of whole lines, or NULL after @timeout_us (< 0: wait until a
 * batch comes or the source is done). */
GBytes *
iov_trace_reader_pop (IovTraceReader *self,
                      gint64          timeout_us)
{
  GBytes *bytes;
  gint64 deadline = timeout_us >= 0 ? g_get_monotonic_time () + timeout_us : -1;

  g_return_val_if_fail (self != NULL, NULL);

  g_mutex_lock (&self->lock);
  while (g_queue_is_empty (&self->queue) && !self->thread_done)
    {
      if (deadline < 0)
        g_cond_wait (&self->cond, &self->lock);
      else if (!g_cond_wait_until (&self->cond, &self->lock, deadline))
        break;
    }
  bytes = g_queue_pop_head (&self->queue);
  if (bytes != NULL)
    {
      self->queued_bytes -= g_bytes_get_size (bytes);
      g_cond_broadcast (&self->cond);
    }
  g_mutex_unlock (&self->lock);
  return bytes;
}

gboolean
iov_trace_reader_is_done (IovTraceReader *self)
{
  gboolean done;

  g_return_val_if_fail (self != NULL, TRUE);
  g_mutex_lock (&self->lock);
  done = (self->thread_done || self->thread == NULL) && g_queue_is_empty (&self->queue);
  g_mutex_unlock (&self->lock);
  return done;
}

gboolean
iov_trace_reader_is_live (IovTraceReader *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return !self->regular;
}

IovTraceSourceKind
iov_trace_reader_get_kind (IovTraceReader *self)
{
  g_return_val_if_fail (self != NULL, IOV_TRACE_SOURCE_FILE);
  return self->kind;
}

const char *
iov_trace_reader_get_path (IovTraceReader *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->path;
}

/* The QEMU arguments that write into this source, for FIFO and socket. */
const char *
iov_trace_reader_get_qemu_hint (IovTraceReader *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->hint;
}

guint64
iov_trace_reader_get_dropped_lines (IovTraceReader *self)
{
  guint64 n;

  g_return_val_if_fail (self != NULL, 0);
  g_mutex_lock (&self->lock);
  n = self->dropped_lines;
  g_mutex_unlock (&self->lock);
  return n;
}

guint64
iov_trace_reader_get_dropped_batches (IovTraceReader *self)
{
  guint64 n;

  g_return_val_if_fail (self != NULL, 0);
  g_mutex_lock (&self->lock);
  n = self->dropped_batches;
  g_mutex_unlock (&self->lock);
  return n;
}

guint64
iov_trace_reader_get_bytes_read (IovTraceReader *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return (guint64) g_atomic_pointer_get (&self->bytes_read);
}

guint
iov_trace_reader_get_connections (IovTraceReader *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return g_atomic_int_get (&self->connections);
}

/* FALSE (with @error set) if the reader thread failed. */
gboolean
iov_trace_reader_get_error (IovTraceReader  *self,
                            GError         **error)
{
  gboolean ok = TRUE;

  g_return_val_if_fail (self != NULL, FALSE);
  g_mutex_lock (&self->lock);
  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      ok = FALSE;
    }
  g_mutex_unlock (&self->lock);
  return ok;
}
