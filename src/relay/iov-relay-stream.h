/* iov-relay-stream.h
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

#include <gio/gio.h>

G_BEGIN_DECLS

/* Byte counters shared between a wrapped connection and its owner.  The
 * relay hands a WebSocket connection a stream built here, so it knows how
 * many bytes libsoup has really written to the socket (and so how much is
 * still queued inside libsoup for a slow client) and how many bytes a
 * client has sent since its last complete message.  Allocate them with
 * g_rc_box_new0 (IovRelayCounters). */
typedef struct
{
  guint64   bytes_read;
  guint64   bytes_written;
  /* When more than @read_limit bytes (if not 0) arrive after @read_mark,
   * reading stops for good and @over_limit is called once. */
  guint64   read_limit;
  guint64   read_mark;
  gboolean  read_blocked;
  void    (*over_limit)      (gpointer user_data);
  gpointer  over_limit_data;
} IovRelayCounters;

GIOStream *iov_relay_stream_new (GIOStream        *base,
                                 IovRelayCounters *counters);

G_END_DECLS
