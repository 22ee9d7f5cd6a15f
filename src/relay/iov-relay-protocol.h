/* iov-relay-protocol.h
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

#include <glib.h>
#include <json-glib/json-glib.h>

#include "iov-types.h"   /* iov_json_append_string() */

#include "iov-snapshot.h"
#include "iov-trace-events.h"
#include "iov-trace-parser.h"

G_BEGIN_DECLS

/* The relay's wire format, documented in docs/relay.md.  Every JSON message
 * carries "v": IOV_RELAY_PROTOCOL_VERSION; a client checks "version" in the
 * "hello" message before anything else.
 *
 * This is the one place that knows the format: each message kind has its
 * writer (iov_relay_append_*(), used by the relay) beside its reader
 * (iov_relay_parse_*(), used by its clients).  The writers produce compact
 * JSON with the members in a fixed order, which tools such as
 * bench/bench-relay.c rely on; the readers accept any JSON with the right
 * members and name the member and the message kind when one is wrong. */
#define IOV_RELAY_PROTOCOL_VERSION 1

#define IOV_RELAY_ERROR (iov_relay_error_quark ())

typedef enum
{
  IOV_RELAY_ERROR_INVALID_MESSAGE,  /* a message that is not ours */
  IOV_RELAY_ERROR_BAD_URL,          /* not http(s)://HOST:PORT/VM */
  IOV_RELAY_ERROR_BAD_CONFIG,       /* --vm, --listen, TLS or token problems */
  IOV_RELAY_ERROR_UNAUTHORIZED,     /* 401 */
  IOV_RELAY_ERROR_NOT_FOUND,        /* 404 */
  IOV_RELAY_ERROR_UNAVAILABLE,      /* 502/503: QEMU not reachable through the relay */
  IOV_RELAY_ERROR_HTTP,             /* any other HTTP failure */
  IOV_RELAY_ERROR_TLS,              /* the relay's certificate is not trusted */
} IovRelayError;

GQuark   iov_relay_error_quark          (void);

/* ---- client → relay ------------------------------------------------------ */

typedef enum
{
  IOV_RELAY_CLIENT_PING,      /* {"type": "ping", "id": N} → pong */
  IOV_RELAY_CLIENT_SNAPSHOT,  /* {"type": "snapshot"} → the current snapshot again */
  IOV_RELAY_CLIENT_STATS,     /* {"type": "stats"} → this client's counters */
} IovRelayClientType;

typedef struct
{
  IovRelayClientType type;
  gint64             id;      /* echoed back; 0 when absent */
} IovRelayClientMessage;

/* Client messages are small; anything longer is refused unparsed. */
#define IOV_RELAY_MAX_CLIENT_MESSAGE 4096

void     iov_relay_append_client_message (GString                     *out,
                                          const IovRelayClientMessage *message);
gboolean iov_relay_parse_client_message  (const char                  *data,
                                          gsize                        len,
                                          IovRelayClientMessage       *out,
                                          GError                     **error);

/* ---- relay → client: the events WebSocket -------------------------------- */

typedef enum
{
  IOV_RELAY_MESSAGE_UNKNOWN,   /* not (yet) known: a reader failed before "type" */
  IOV_RELAY_MESSAGE_HELLO,
  IOV_RELAY_MESSAGE_SNAPSHOT,
  IOV_RELAY_MESSAGE_EVENTS,
  IOV_RELAY_MESSAGE_DROPS,     /* IovRelayDrops, sent unasked */
  IOV_RELAY_MESSAGE_STATS,     /* IovRelayDrops, the answer to a "stats" */
  IOV_RELAY_MESSAGE_STATE,
  IOV_RELAY_MESSAGE_PONG,
  IOV_RELAY_MESSAGE_ERROR,
} IovRelayMessageType;

/* The strings of a parsed message point into it (see IovRelayMessage); a
 * writer's caller owns them. */
typedef struct
{
  gint64      version;            /* IOV_RELAY_PROTOCOL_VERSION, or the relay's other one */
  const char *relay;              /* "iovista 0.1.0" */
  const char *vm;
  const char *state;              /* QMP: "connected", "connecting", "disconnected" */
  const char *qemu;               /* QEMU's version; NULL (null) while unknown */
  gboolean    trace;              /* the VM has a trace source */
  guint64     queue_bytes;        /* the relay's --client-queue */
  guint64     max_message_bytes;  /* the relay's --max-message */
  guint64     seq;                /* the last "events" seq sent before this hello */
} IovRelayHello;

typedef struct
{
  GPtrArray  *changes;   /* IovSnapshotChange; a writer may pass NULL for none */
  JsonNode   *snapshot;  /* the object `iovista-cli snapshot` prints (reader only) */
} IovRelaySnapshot;

typedef struct
{
  guint64     seq;                   /* per VM: a gap is a message this client lost */
  guint64     source_dropped_lines;  /* the relay's trace reader */
  JsonArray  *events;                /* event objects, see iov-trace-json.h; each is
                                      * the consumer's to check (reader only) */
} IovRelayEvents;

typedef struct
{
  guint64     dropped_messages;
  guint64     dropped_events;
  guint64     source_dropped_lines;
  guint64     sent_messages;
  guint64     queued_bytes;
  guint64     invalid_messages;
} IovRelayDrops;

typedef struct
{
  const char *state;    /* QMP, as in IovRelayHello */
  const char *session;  /* iov_session_state_to_string() */
  const char *qemu;     /* NULL while unknown */
  const char *error;    /* why QEMU went away; NULL (absent) when it did not */
} IovRelayState;

typedef struct
{
  gint64      id;       /* the ping's */
  gint64      time_ns;  /* the relay's wall clock */
} IovRelayPong;

/* One message from the relay, as iov_relay_parse_message() read it.  The
 * member of @u that @type names is filled in; strings, the snapshot node and
 * the events array live as long as the message (iov_relay_message_clear()). */
typedef struct
{
  IovRelayMessageType type;
  union
  {
    IovRelayHello     hello;
    IovRelaySnapshot  snapshot;
    IovRelayEvents    events;
    IovRelayDrops     drops;     /* DROPS and STATS */
    IovRelayState     state;
    IovRelayPong      pong;
    const char       *error;     /* ERROR: the relay's complaint about a client message */
  } u;

  /*< private >*/
  JsonNode           *root;
} IovRelayMessage;

const char *iov_relay_message_type_to_string (IovRelayMessageType     type);

gboolean iov_relay_parse_message        (const char             *data,
                                         gsize                   len,
                                         IovRelayMessage        *out,
                                         GError                **error);
void     iov_relay_message_clear        (IovRelayMessage        *message);
IovRelayMessage *iov_relay_message_new  (void);
void     iov_relay_message_free         (IovRelayMessage        *message);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovRelayMessage, iov_relay_message_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (IovRelayMessage, iov_relay_message_clear)

void     iov_relay_append_hello         (GString                *out,
                                         const IovRelayHello    *hello);
void     iov_relay_append_snapshot      (GString                *out,
                                         const char             *snapshot_json,
                                         GPtrArray              *changes);
void     iov_relay_append_events_begin  (GString                *out,
                                         guint64                 seq,
                                         guint64                 source_dropped_lines);
void     iov_relay_append_events_item   (GString                *out,
                                         guint                   index,
                                         IovTraceCatalog        *catalog,
                                         const IovTraceLine     *line,
                                         gint64                  arrival_ns);
void     iov_relay_append_events_end    (GString                *out);
void     iov_relay_append_drops         (GString                *out,
                                         const IovRelayDrops    *drops);
void     iov_relay_append_stats         (GString                *out,
                                         const IovRelayDrops    *stats);
void     iov_relay_append_state         (GString                *out,
                                         const IovRelayState    *state);
void     iov_relay_append_pong          (GString                *out,
                                         const IovRelayPong     *pong);
void     iov_relay_append_error         (GString                *out,
                                         const char             *message);

/* Appends one decoded event as a JSON object, the shape of
 * `iovista-cli trace --events` lines (without the newline).  @arrival_ns
 * stands in for lines without a timestamp. */
void     iov_relay_append_event         (GString                *out,
                                         IovTraceCatalog        *catalog,
                                         const IovTraceLine     *line,
                                         gint64                  arrival_ns);

/* ---- HTTP ---------------------------------------------------------------- */

/* The body of every HTTP error answer: {"v": 1, "status": N, "error": "why"}
 * and a newline. */
void     iov_relay_append_http_error    (GString                *out,
                                         guint                   status,
                                         const char             *message);

/* Constant-time comparison of a presented token with the expected one. */
gboolean iov_relay_token_equal          (const char             *presented,
                                         const char             *expected);

G_END_DECLS
