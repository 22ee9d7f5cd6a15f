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

#include "iov-types.h"   /* iov_json_append_string() */

#include "iov-trace-events.h"
#include "iov-trace-parser.h"

G_BEGIN_DECLS

/* The relay's wire format, documented in docs/relay.md.  Every JSON message
 * carries "v": IOV_RELAY_PROTOCOL_VERSION; a client checks "version" in the
 * "hello" message before anything else. */
#define IOV_RELAY_PROTOCOL_VERSION 1

#define IOV_RELAY_ERROR (iov_relay_error_quark ())

typedef enum
{
  IOV_RELAY_ERROR_INVALID_MESSAGE,  /* a client message that is not ours */
  IOV_RELAY_ERROR_BAD_URL,          /* not http(s)://HOST:PORT/VM */
  IOV_RELAY_ERROR_BAD_CONFIG,       /* --vm, --listen, TLS or token problems */
  IOV_RELAY_ERROR_UNAUTHORIZED,     /* 401 */
  IOV_RELAY_ERROR_NOT_FOUND,        /* 404 */
  IOV_RELAY_ERROR_UNAVAILABLE,      /* 502/503: QEMU not reachable through the relay */
  IOV_RELAY_ERROR_HTTP,             /* any other HTTP failure */
  IOV_RELAY_ERROR_TLS,              /* the relay's certificate is not trusted */
} IovRelayError;

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

GQuark   iov_relay_error_quark          (void);

gboolean iov_relay_parse_client_message (const char             *data,
                                         gsize                   len,
                                         IovRelayClientMessage  *out,
                                         GError                **error);


/* Appends one decoded event as a JSON object, the shape of
 * `iovista-cli trace --events` lines (without the newline).  @arrival_ns
 * stands in for lines without a timestamp. */
void     iov_relay_append_event         (GString                *out,
                                         IovTraceCatalog        *catalog,
                                         const IovTraceLine     *line,
                                         gint64                  arrival_ns);

/* Constant-time comparison of a presented token with the expected one. */
gboolean iov_relay_token_equal          (const char             *presented,
                                         const char             *expected);

G_END_DECLS
