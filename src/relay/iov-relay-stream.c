/* iov-relay-stream.c
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

#define G_LOG_DOMAIN "iov-relay-stream"

#include "config.h"

#include "iov-relay-stream.h"

/* Pollable input and output streams that forward to the streams of a base
 * GIOStream and count the bytes that went through.  SoupWebsocketConnection
 * only uses the pollable non-blocking calls; the blocking ones are there
 * for completeness. */

#define IOV_TYPE_COUNTING_INPUT (iov_counting_input_get_type ())
G_DECLARE_FINAL_TYPE (IovCountingInput, iov_counting_input, IOV, COUNTING_INPUT, GInputStream)

#define IOV_TYPE_COUNTING_OUTPUT (iov_counting_output_get_type ())
G_DECLARE_FINAL_TYPE (IovCountingOutput, iov_counting_output, IOV, COUNTING_OUTPUT, GOutputStream)

struct _IovCountingInput
{
  GInputStream      parent_instance;
  GIOStream        *base_io;
  GInputStream     *base;
  IovRelayCounters *counters;
};

struct _IovCountingOutput
{
  GOutputStream     parent_instance;
  GIOStream        *base_io;
  GOutputStream    *base;
  IovRelayCounters *counters;
};

static void iov_counting_input_pollable_init (GPollableInputStreamInterface *iface);
static void iov_counting_output_pollable_init (GPollableOutputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (IovCountingInput, iov_counting_input, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      iov_counting_input_pollable_init))
G_DEFINE_FINAL_TYPE_WITH_CODE (IovCountingOutput, iov_counting_output, G_TYPE_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
                                                      iov_counting_output_pollable_init))

/* ---- input ------------------------------------------------------------- */

static void
count_read (IovRelayCounters *counters,
            gssize            n)
{
  if (n <= 0)
    return;
  counters->bytes_read += n;
  if (counters->read_limit != 0 && !counters->read_blocked &&
      counters->bytes_read - counters->read_mark > counters->read_limit)
    {
      counters->read_blocked = TRUE;
      if (counters->over_limit)
        counters->over_limit (counters->over_limit_data);
    }
}

static gssize
counting_input_read (GInputStream  *stream,
                     void          *buffer,
                     gsize          count,
                     GCancellable  *cancellable,
                     GError       **error)
{
  IovCountingInput *self = IOV_COUNTING_INPUT (stream);
  gssize n;

  if (self->counters->read_blocked)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE, "Input limit exceeded");
      return -1;
    }
  n = g_input_stream_read (self->base, buffer, count, cancellable, error);
  count_read (self->counters, n);
  return n;
}

static gboolean
counting_input_close (GInputStream  *stream,
                      GCancellable  *cancellable,
                      GError       **error)
{
  IovCountingInput *self = IOV_COUNTING_INPUT (stream);

  return g_io_stream_close (self->base_io, cancellable, error);
}

static gboolean
counting_input_can_poll (GPollableInputStream *stream)
{
  IovCountingInput *self = IOV_COUNTING_INPUT (stream);

  return G_IS_POLLABLE_INPUT_STREAM (self->base) &&
         g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (self->base));
}

static gboolean
counting_input_is_readable (GPollableInputStream *stream)
{
  IovCountingInput *self = IOV_COUNTING_INPUT (stream);

  if (self->counters->read_blocked)
    return FALSE;
  return g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (self->base));
}

static GSource *
counting_input_create_source (GPollableInputStream *stream,
                              GCancellable         *cancellable)
{
  IovCountingInput *self = IOV_COUNTING_INPUT (stream);
  /* Once blocked, a source that never fires: nothing more is read.  The
   * base stream's own source is handed out otherwise (libsoup's callback
   * does not look at the stream it is given). */
  if (self->counters->read_blocked)
    return g_pollable_source_new_full (stream, NULL, cancellable);
  return g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (self->base), cancellable);
}

static gssize
counting_input_read_nonblocking (GPollableInputStream  *stream,
                                 void                  *buffer,
                                 gsize                  count,
                                 GError               **error)
{
  IovCountingInput *self = IOV_COUNTING_INPUT (stream);
  gssize n;

  if (self->counters->read_blocked)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "Input limit exceeded");
      return -1;
    }
  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (self->base),
                                                buffer, count, NULL, error);
  count_read (self->counters, n);
  return n;
}

static void
iov_counting_input_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = counting_input_can_poll;
  iface->is_readable = counting_input_is_readable;
  iface->create_source = counting_input_create_source;
  iface->read_nonblocking = counting_input_read_nonblocking;
}

static void
iov_counting_input_dispose (GObject *object)
{
  IovCountingInput *self = IOV_COUNTING_INPUT (object);

  g_clear_object (&self->base);
  g_clear_object (&self->base_io);
  g_clear_pointer (&self->counters, g_rc_box_release);
  G_OBJECT_CLASS (iov_counting_input_parent_class)->dispose (object);
}

static void
iov_counting_input_class_init (IovCountingInputClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  object_class->dispose = iov_counting_input_dispose;
  stream_class->read_fn = counting_input_read;
  stream_class->close_fn = counting_input_close;
}

static void
iov_counting_input_init (IovCountingInput *self)
{
}

/* ---- output ------------------------------------------------------------ */

static gssize
counting_output_write (GOutputStream  *stream,
                       const void     *buffer,
                       gsize           count,
                       GCancellable   *cancellable,
                       GError        **error)
{
  IovCountingOutput *self = IOV_COUNTING_OUTPUT (stream);
  gssize n = g_output_stream_write (self->base, buffer, count, cancellable, error);

  if (n > 0)
    self->counters->bytes_written += n;
  return n;
}

static gboolean
counting_output_flush (GOutputStream  *stream,
                       GCancellable   *cancellable,
                       GError        **error)
{
  IovCountingOutput *self = IOV_COUNTING_OUTPUT (stream);

  return g_output_stream_flush (self->base, cancellable, error);
}

static gboolean
counting_output_close (GOutputStream  *stream,
                       GCancellable   *cancellable,
                       GError        **error)
{
  IovCountingOutput *self = IOV_COUNTING_OUTPUT (stream);

  return g_io_stream_close (self->base_io, cancellable, error);
}

static gboolean
counting_output_can_poll (GPollableOutputStream *stream)
{
  IovCountingOutput *self = IOV_COUNTING_OUTPUT (stream);

  return G_IS_POLLABLE_OUTPUT_STREAM (self->base) &&
         g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (self->base));
}

static gboolean
counting_output_is_writable (GPollableOutputStream *stream)
{
  IovCountingOutput *self = IOV_COUNTING_OUTPUT (stream);

  return g_pollable_output_stream_is_writable (G_POLLABLE_OUTPUT_STREAM (self->base));
}

static GSource *
counting_output_create_source (GPollableOutputStream *stream,
                               GCancellable          *cancellable)
{
  IovCountingOutput *self = IOV_COUNTING_OUTPUT (stream);

  return g_pollable_output_stream_create_source (G_POLLABLE_OUTPUT_STREAM (self->base), cancellable);
}

static gssize
counting_output_write_nonblocking (GPollableOutputStream  *stream,
                                   const void             *buffer,
                                   gsize                   count,
                                   GError                **error)
{
  IovCountingOutput *self = IOV_COUNTING_OUTPUT (stream);
  gssize n = g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (self->base),
                                                         buffer, count, NULL, error);

  if (n > 0)
    self->counters->bytes_written += n;
  return n;
}

static void
iov_counting_output_pollable_init (GPollableOutputStreamInterface *iface)
{
  iface->can_poll = counting_output_can_poll;
  iface->is_writable = counting_output_is_writable;
  iface->create_source = counting_output_create_source;
  iface->write_nonblocking = counting_output_write_nonblocking;
}

static void
iov_counting_output_dispose (GObject *object)
{
  IovCountingOutput *self = IOV_COUNTING_OUTPUT (object);

  g_clear_object (&self->base);
  g_clear_object (&self->base_io);
  g_clear_pointer (&self->counters, g_rc_box_release);
  G_OBJECT_CLASS (iov_counting_output_parent_class)->dispose (object);
}

static void
iov_counting_output_class_init (IovCountingOutputClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  object_class->dispose = iov_counting_output_dispose;
  stream_class->write_fn = counting_output_write;
  stream_class->flush = counting_output_flush;
  stream_class->close_fn = counting_output_close;
}

static void
iov_counting_output_init (IovCountingOutput *self)
{
}

/**
 * iov_relay_stream_new:
 * @base: the connection, e.g. one stolen from a SoupServerMessage
 * @counters: (not nullable): counters from g_rc_box_new0(); the streams
 *   keep a reference
 *
 * Returns: (transfer full): a GIOStream reading from and writing to @base
 *   through pollable streams that count bytes into @counters.
 */
GIOStream *
iov_relay_stream_new (GIOStream        *base,
                      IovRelayCounters *counters)
{
  IovCountingInput *in;
  IovCountingOutput *out;
  GIOStream *io;

  g_return_val_if_fail (G_IS_IO_STREAM (base), NULL);
  g_return_val_if_fail (counters != NULL, NULL);

  in = g_object_new (IOV_TYPE_COUNTING_INPUT, NULL);
  in->base_io = g_object_ref (base);
  in->base = g_object_ref (g_io_stream_get_input_stream (base));
  in->counters = g_rc_box_acquire (counters);

  out = g_object_new (IOV_TYPE_COUNTING_OUTPUT, NULL);
  out->base_io = g_object_ref (base);
  out->base = g_object_ref (g_io_stream_get_output_stream (base));
  out->counters = g_rc_box_acquire (counters);

  io = g_simple_io_stream_new (G_INPUT_STREAM (in), G_OUTPUT_STREAM (out));
  g_object_unref (in);
  g_object_unref (out);
  return io;
}
