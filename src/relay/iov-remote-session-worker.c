/* iov-remote-session-worker.c
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

#define G_LOG_DOMAIN "iov-remote-session"

#include "config.h"

#include "iov-remote-session-private.h"
#include "iov-trace-json.h"

/* The side of IovRemoteSession that runs in its worker thread, so that the
 * owner's main loop never parses JSON or renders lines, and the functions
 * of its API that any thread may call. */

void
_iov_remote_session_item_free (gpointer data)
{
  Item *item = data;

  g_clear_pointer (&item->bytes, g_bytes_unref);
  g_clear_pointer (&item->message, iov_relay_message_free);
  g_clear_error (&item->error);
  g_free (item);
}

void
_iov_remote_session_batch_free (Batch *batch)
{
  g_bytes_unref (batch->text);
  g_array_unref (batch->lines);
  g_free (batch);
}

/* ---- the worker thread --------------------------------------------------- */

/* "drops" and "stats" carry the relay's counters for this connection; they
 * start again at 0 with each connection, so the totals add what changed. */
static void
take_drops (IovRemoteSession    *self,
            const IovRelayDrops *drops)
{
  g_mutex_lock (&self->mutex);
  if (drops->dropped_messages > self->seen_dropped_messages)
    {
      self->counters.relay_dropped_messages += drops->dropped_messages - self->seen_dropped_messages;
      self->seen_dropped_messages = drops->dropped_messages;
    }
  if (drops->dropped_events > self->seen_dropped_events)
    {
      self->counters.relay_dropped_events += drops->dropped_events - self->seen_dropped_events;
      self->seen_dropped_events = drops->dropped_events;
    }
  self->counters.source_dropped_lines = drops->source_dropped_lines;
  g_mutex_unlock (&self->mutex);
}

static void
take_events (IovRemoteSession     *self,
             const IovRelayEvents *events)
{
  guint n = json_array_get_length (events->events), n_events = 0, n_approx = 0, n_bad = 0;
  g_autoptr(GBytes) text = NULL;
  g_autoptr(GArray) lines = NULL;

  /* Each event straight into what the parser would have read from its
   * line: the document takes it as a local line, without printing a
   * prefix to parse it again. */
  g_string_truncate (self->render, 0);
  g_array_set_size (self->render_lines, 0);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (events->events, i);
      IovTraceJsonRender how;
      IovTraceJsonLine line;

      if (!JSON_NODE_HOLDS_OBJECT (node) ||
          !iov_trace_json_append_line (self->catalog, json_node_get_object (node), self->render, &line, &how))
        {
          n_bad++;
          continue;
        }
      g_array_append_val (self->render_lines, line);
      n_events++;
      if (how == IOV_TRACE_JSON_APPROX)
        n_approx++;
    }
  if (n_events > 0)
    {
      text = g_bytes_new (self->render->str, self->render->len);
      lines = g_array_sized_new (FALSE, FALSE, sizeof (IovTraceJsonLine), self->render_lines->len);
      g_array_append_vals (lines, self->render_lines->data, self->render_lines->len);
    }

  g_mutex_lock (&self->mutex);
  self->counters.source_dropped_lines = events->source_dropped_lines;
  if (self->have_seq && events->seq > self->next_seq)
    self->counters.messages_lost += events->seq - self->next_seq;
  self->next_seq = events->seq + 1;
  self->have_seq = TRUE;
  self->counters.events_received += n_events;
  self->counters.events_approx += n_approx;
  self->counters.invalid_messages += n_bad;
  if (text != NULL)
    {
      gsize len = g_bytes_get_size (text);

      /* Never wait for the consumer: a batch that does not fit is dropped
       * and counted, like the trace reader does for QEMU's writer. */
      if (self->batches.length > 0 && self->queued_bytes + len > self->queue_limit)
        self->counters.events_dropped += n_events;
      else
        {
          Batch *batch = g_new0 (Batch, 1);

          batch->text = g_steal_pointer (&text);
          batch->lines = g_steal_pointer (&lines);
          g_queue_push_tail (&self->batches, batch);
          self->queued_bytes += len;
        }
    }
  g_mutex_unlock (&self->mutex);
}

void
_iov_remote_session_worker (gpointer data,
                            gpointer user_data)
{
  Item *item = data;
  IovRemoteSession *self = user_data;
  g_autoptr(IovRelayMessage) message = iov_relay_message_new ();
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *text = g_bytes_get_data (item->bytes, &len);
  guint gen;

  g_mutex_lock (&self->mutex);
  gen = self->gen;
  g_mutex_unlock (&self->mutex);
  if (item->gen != gen)
    goto out;
  if (item->gen != self->worker_gen)
    {
      self->worker_gen = item->gen;
      self->have_seq = FALSE;
      self->seen_dropped_messages = self->seen_dropped_events = 0;
    }

  if (!iov_relay_parse_message (text, len, message, &error))
    {
      /* A hello that cannot be read is a relay this session cannot
       * follow: the owner says so.  Anything else is only counted. */
      if (message->type != IOV_RELAY_MESSAGE_HELLO)
        {
          g_debug ("%s", error->message);
          g_mutex_lock (&self->mutex);
          self->counters.invalid_messages++;
          g_mutex_unlock (&self->mutex);
          goto out;
        }
      item->error = g_steal_pointer (&error);
    }

  switch (message->type)
    {
    case IOV_RELAY_MESSAGE_EVENTS:
      take_events (self, &message->u.events);
      goto out;
    case IOV_RELAY_MESSAGE_DROPS:
    case IOV_RELAY_MESSAGE_STATS:
      take_drops (self, &message->u.drops);
      goto out;
    case IOV_RELAY_MESSAGE_PONG:
      goto out;
    case IOV_RELAY_MESSAGE_HELLO:
      /* The first events message after the hello is seq + 1. */
      if (item->error == NULL && message->u.hello.version == IOV_RELAY_PROTOCOL_VERSION)
        {
          self->have_seq = TRUE;
          self->next_seq = message->u.hello.seq + 1;
        }
      break;
    case IOV_RELAY_MESSAGE_SNAPSHOT:
    case IOV_RELAY_MESSAGE_STATE:
    case IOV_RELAY_MESSAGE_ERROR:
    case IOV_RELAY_MESSAGE_UNKNOWN:
    default:
      break;
    }

  /* hello, snapshot, state, error: the owner's business */
  item->message = g_steal_pointer (&message);
  g_clear_pointer (&item->bytes, g_bytes_unref);
  g_mutex_lock (&self->mutex);
  g_queue_push_tail (&self->control, g_steal_pointer (&item));
  g_mutex_unlock (&self->mutex);
  g_source_set_ready_time (self->wake, 0);

out:
  if (item != NULL)
    _iov_remote_session_item_free (item);
}

/* ---- any thread ---------------------------------------------------------- */

/**
 * iov_remote_session_set_queue_limit:
 *
 * Bytes of events' text that may wait for iov_remote_session_pop_events()
 * (IOV_REMOTE_SESSION_DEFAULT_QUEUE_BYTES); beyond it batches are dropped
 * and counted in events_dropped.
 */
void
iov_remote_session_set_queue_limit (IovRemoteSession *self,
                                    gsize             bytes)
{
  g_return_if_fail (IOV_IS_REMOTE_SESSION (self));

  g_mutex_lock (&self->mutex);
  self->queue_limit = bytes;
  g_mutex_unlock (&self->mutex);
}

/**
 * iov_remote_session_pop_events:
 * @lines: (out) (transfer full): IovTraceJsonLine, one per event
 *
 * Takes the oldest batch of events, without waiting: @lines say what
 * iov_trace_parse_line() would have read from each event's line, with
 * offsets into the returned text (iov_trace_json_line_get()).  Any thread.
 *
 * Returns: (transfer full) (nullable): the batch's text, NULL when none waits
 */
GBytes *
iov_remote_session_pop_events (IovRemoteSession  *self,
                               GArray           **lines)
{
  Batch *batch;
  GBytes *text = NULL;

  g_return_val_if_fail (IOV_IS_REMOTE_SESSION (self), NULL);
  g_return_val_if_fail (lines != NULL, NULL);

  *lines = NULL;
  g_mutex_lock (&self->mutex);
  batch = g_queue_pop_head (&self->batches);
  if (batch != NULL)
    self->queued_bytes -= g_bytes_get_size (batch->text);
  g_mutex_unlock (&self->mutex);
  if (batch != NULL)
    {
      text = g_steal_pointer (&batch->text);
      *lines = g_steal_pointer (&batch->lines);
      g_free (batch);
    }
  return text;
}

/* Any thread. */
void
iov_remote_session_get_counters (IovRemoteSession         *self,
                                 IovRemoteSessionCounters *counters)
{
  g_return_if_fail (IOV_IS_REMOTE_SESSION (self));
  g_return_if_fail (counters != NULL);

  g_mutex_lock (&self->mutex);
  *counters = self->counters;
  g_mutex_unlock (&self->mutex);
}
