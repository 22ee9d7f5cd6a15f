/* iov-remote-session.h
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
#include <json-glib/json-glib.h>

#include "iov-relay-client.h"

G_BEGIN_DECLS

/* The app's side of a relay's events WebSocket (docs/relay.md): one VM
 * behind `iovista-cli relay`, delivered like a local QMP session plus a
 * local trace source.
 *
 * Snapshot: the "snapshot" property (a JsonNode, the object `iovista-cli
 * snapshot` prints) and the "changed" signal with a GPtrArray of
 * IovSnapshotChange, exactly as IovSession emits it.
 *
 * Trace: each of the relay's decoded events becomes what the parser would
 * have read from the line QEMU's log backend printed (its time, thread,
 * name, and arguments byte for byte: see iov_trace_json_append_line()), so
 * that it goes through iov_trace_document_feed_parsed(), the event store
 * and the inference like a local line, without printing and parsing a
 * line again.  That work (JSON parsing, the arguments' text) runs in a
 * worker thread; the events wait in a bounded queue that the consumer
 * drains from its own tick with iov_remote_session_pop_events(), as it
 * drains an IovTraceReader.  When
 * the consumer falls behind and the queue is full, new batches are dropped
 * and counted (events_dropped), so the socket is always read.
 *
 * State: CONNECTING until the relay's "hello", then LIVE.  When the socket
 * closes or cannot be opened the session is DISCONNECTED (the "error"
 * property says why) and reconnects by itself, waiting 0.5 s, then twice as
 * long each time up to 10 s.  A refused token (IOV_RELAY_ERROR_UNAUTHORIZED),
 * an untrusted certificate (IOV_RELAY_ERROR_TLS, with its SHA-256
 * fingerprint in the message, as IovRelayClient words it), another
 * protocol version or a hello that iov_relay_parse_message() refuses
 * (IOV_RELAY_ERROR_INVALID_MESSAGE) are FAILED: no retry until
 * iov_remote_session_start() is called again (e.g. after
 * iov_relay_client_trust_certificate()).  Any other message the reader
 * refuses is counted in invalid_messages and skipped.
 *
 * Everything except iov_remote_session_pop_events() and
 * iov_remote_session_get_counters() is for the thread that created the
 * session (its thread-default main context). */

typedef enum
{
  IOV_REMOTE_SESSION_STOPPED,
  IOV_REMOTE_SESSION_CONNECTING,    /* the first attempt, until "hello" */
  IOV_REMOTE_SESSION_LIVE,          /* the socket is open; see qemu-version */
  IOV_REMOTE_SESSION_DISCONNECTED,  /* lost or unreachable, reconnecting; see error */
  IOV_REMOTE_SESSION_FAILED,        /* refused: token, certificate, protocol; see error */
} IovRemoteSessionState;

/* Counters since iov_remote_session_new(), over all connections. */
typedef struct
{
  guint64 events_received;        /* events in the relay's "events" messages */
  guint64 events_approx;          /* rendered without the exact format (other catalogue) */
  guint64 events_dropped;         /* dropped here: the consumer fell behind */
  guint64 messages_lost;          /* "events" messages missing from the seq numbers */
  guint64 relay_dropped_messages; /* as the relay's "drops" messages report them */
  guint64 relay_dropped_events;
  guint64 source_dropped_lines;   /* the relay's trace reader, latest figure */
  guint64 invalid_messages;       /* not JSON, not ours, or events it cannot render */
  guint64 connections;            /* "hello"s received */
} IovRemoteSessionCounters;

#define IOV_REMOTE_SESSION_DEFAULT_QUEUE_BYTES (32u * 1024 * 1024)

#define IOV_TYPE_REMOTE_SESSION_STATE (iov_remote_session_state_get_type ())
#define IOV_TYPE_REMOTE_SESSION (iov_remote_session_get_type ())

GType iov_remote_session_state_get_type (void) G_GNUC_CONST;

G_DECLARE_FINAL_TYPE (IovRemoteSession, iov_remote_session, IOV, REMOTE_SESSION, GObject)

IovRemoteSession     *iov_remote_session_new             (IovRelayClient   *client);
void                  iov_remote_session_start           (IovRemoteSession *self);
void                  iov_remote_session_stop            (IovRemoteSession *self);

IovRelayClient       *iov_remote_session_get_client      (IovRemoteSession *self);
IovRemoteSessionState iov_remote_session_get_state       (IovRemoteSession *self);
const char           *iov_remote_session_state_to_string (IovRemoteSessionState state);
const GError         *iov_remote_session_get_error       (IovRemoteSession *self);
JsonNode             *iov_remote_session_get_snapshot    (IovRemoteSession *self);
const char           *iov_remote_session_get_qemu_version (IovRemoteSession *self);
const char           *iov_remote_session_get_vm_state    (IovRemoteSession *self);
gboolean              iov_remote_session_has_trace       (IovRemoteSession *self);

void                  iov_remote_session_set_queue_limit (IovRemoteSession *self,
                                                          gsize             bytes);
GBytes               *iov_remote_session_pop_events      (IovRemoteSession *self,
                                                          GArray          **lines);
void                  iov_remote_session_get_counters    (IovRemoteSession *self,
                                                          IovRemoteSessionCounters *counters);

G_END_DECLS
