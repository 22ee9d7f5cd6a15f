/* iov-remote-session-private.h
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

#include "iov-relay-protocol.h"
#include "iov-remote-session.h"
#include "iov-trace-json.h"

G_BEGIN_DECLS

/* IovRemoteSession is one type in two files:
 *
 *   iov-remote-session.c         the owner's thread: the connection, its
 *                                retries, the state, snapshot and hello
 *   iov-remote-session-worker.c  the worker thread: reading every message,
 *                                rendering events into lines, the counters,
 *                                and the API that any thread may call
 *
 * The worker reads messages in order and hands hello, snapshot, state and
 * error messages back to the owner through the control queue. */

/* One "events" message, rendered. */
typedef struct
{
  GBytes *text;     /* "name args" of each event, one after the other */
  GArray *lines;    /* IovTraceJsonLine: offsets into text */
} Batch;

/* A message on its way to the worker, or a parsed one on its way back to
 * the owner's thread (with @error when it is a hello that cannot be read).
 * @gen is the connection it came from: anything from an older connection
 * is dropped. */
typedef struct
{
  guint            gen;
  GBytes          *bytes;
  IovRelayMessage *message;
  GError          *error;
} Item;

struct _IovRemoteSession
{
  GObject                parent_instance;

  IovRelayClient        *client;
  IovRemoteSessionState  state;
  GError                *error;
  JsonNode              *snapshot;
  char                  *qemu_version;
  char                  *vm_state;
  gboolean               has_trace;

  GObject               *conn;          /* SoupWebsocketConnection */
  char                  *close_reason;  /* from the connection's "error" */
  GCancellable          *cancellable;   /* the attempt under way */
  guint                  retry_id;
  guint                  retry_ms;

  GThreadPool           *pool;          /* one thread: messages stay in order */
  GSource               *wake;          /* the owner's side of the control queue */

  /* The worker's own. */
  guint                  worker_gen;
  gboolean               have_seq;
  guint64                next_seq;
  guint64                seen_dropped_messages;
  guint64                seen_dropped_events;
  GString               *render;
  GArray                *render_lines;  /* IovTraceJsonLine */

  /* Under mutex. */
  GMutex                 mutex;
  guint                  gen;
  IovTraceCatalog       *catalog;
  GQueue                 batches;
  gsize                  queued_bytes;
  gsize                  queue_limit;
  GQueue                 control;       /* Item with message */
  IovRemoteSessionCounters counters;
};

void _iov_remote_session_item_free  (gpointer          data);
void _iov_remote_session_batch_free (Batch            *batch);
void _iov_remote_session_worker     (gpointer          data,
                                     gpointer          user_data);

G_END_DECLS
