/* iov-relay-server.h
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

G_BEGIN_DECLS

/* Limits; zero fields take the defaults below. */
typedef struct
{
  guint   max_clients;          /* WebSocket clients, all VMs together */
  guint   max_message_bytes;    /* a client's WebSocket message or request body */
  gsize   client_queue_bytes;   /* bytes waiting to be written to one client */
  double  requests_per_second;  /* per remote host; bursts of twice that */
  guint   poll_interval_ms;     /* snapshot polling while clients watch */
  guint   batch_interval_ms;    /* how often trace events are sent */
  guint   max_connections;      /* TCP connections, all kinds together */
  guint   idle_timeout_s;       /* a connection silent this long is closed */
  guint   keepalive_s;          /* derived: WebSocket pings, a third of the above */
} IovRelayLimits;

#define IOV_RELAY_DEFAULT_MAX_CLIENTS        64
#define IOV_RELAY_DEFAULT_MAX_MESSAGE_BYTES  (64 * 1024)
#define IOV_RELAY_DEFAULT_CLIENT_QUEUE_BYTES (4 * 1024 * 1024)
#define IOV_RELAY_DEFAULT_REQUESTS_PER_SEC   50.0
#define IOV_RELAY_DEFAULT_POLL_INTERVAL_MS   2000
#define IOV_RELAY_DEFAULT_BATCH_INTERVAL_MS  50
#define IOV_RELAY_DEFAULT_MAX_CONNECTIONS    256
#define IOV_RELAY_DEFAULT_IDLE_TIMEOUT_S     60

#define IOV_TYPE_RELAY_SERVER (iov_relay_server_get_type ())

G_DECLARE_FINAL_TYPE (IovRelayServer, iov_relay_server, IOV, RELAY_SERVER, GObject)

IovRelayServer *iov_relay_server_new           (const char            *token);
void            iov_relay_server_set_limits    (IovRelayServer        *self,
                                                const IovRelayLimits  *limits);
gboolean        iov_relay_server_add_vm        (IovRelayServer        *self,
                                                const char            *spec,
                                                GError               **error);
gboolean        iov_relay_server_set_tls_files (IovRelayServer        *self,
                                                const char            *cert_file,
                                                const char            *key_file,
                                                GError               **error);
gboolean        iov_relay_server_listen        (IovRelayServer        *self,
                                                const char            *listen,
                                                gboolean               insecure,
                                                GError               **error);
char           *iov_relay_server_get_url       (IovRelayServer        *self);
void            iov_relay_server_stop          (IovRelayServer        *self);

gboolean        iov_relay_parse_listen         (const char            *listen,
                                                GInetAddress         **address,
                                                guint16               *port,
                                                GError               **error);

G_END_DECLS
