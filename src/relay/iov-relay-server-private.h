/* iov-relay-server-private.h
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

#include <libsoup/soup.h>

#include "iov-qmp-client.h"
#include "iov-relay-server.h"
#include "iov-relay-stream.h"
#include "iov-session.h"
#include "iov-trace-events.h"
#include "iov-trace-reader.h"

G_BEGIN_DECLS

/* IovRelayServer is one type in several files, by concern:
 *
 *   iov-relay-server.c         the object: limits, listening, stopping
 *   iov-relay-server-access.c  who gets in: connections, TLS, rate, token, body size
 *   iov-relay-server-http.c    the REST API's routes and answers
 *   iov-relay-server-trace.c   GET/POST …/trace: trace presets over QMP
 *   iov-relay-server-vm.c      one watched VM: its session, snapshots, trace pump
 *   iov-relay-server-ws.c      the events WebSocket: clients, their queues, broadcasts
 *
 * The wire format of everything sent is iov-relay-protocol's. */

#define STATUS_TOO_MANY_REQUESTS 429   /* not named by libsoup 3.2 */

typedef struct _RelayVm RelayVm;

/* One client of a VM's events WebSocket. */
typedef struct
{
  RelayVm                 *vm;
  SoupWebsocketConnection *conn;
  IovRelayCounters        *counters;
  char                    *peer;
  guint64                  bytes_sent;
  guint64                  sent_messages;
  guint64                  dropped_messages;
  guint64                  dropped_events;
  guint64                  reported_messages;
  guint64                  reported_events;
  guint64                  reported_source;
  guint64                  invalid_messages;
} RelayClient;

struct _RelayVm
{
  IovRelayServer   *server;
  char             *name;
  char             *qmp_address;
  char             *trace_spec;
  IovSession       *session;
  IovQmpClient     *qmp;              /* the session's */
  IovTraceReader   *reader;
  gboolean          collecting;       /* a fresh snapshot for GET …/snapshot */
  GPtrArray        *waiting;          /* WaitingSnapshot, see -vm.c */
  GList            *clients;          /* RelayClient */
  guint             pump_id;
  guint64           seq;
  guint64           events_sent;
  gboolean          live;             /* last state told to clients and the log */
  gboolean          told_down;
};

struct _IovRelayServer
{
  GObject          parent_instance;

  char            *token;
  IovRelayLimits   limits;
  SoupServer      *soup;
  GTlsCertificate *certificate;
  GPtrArray       *vms;             /* RelayVm */
  GHashTable      *buckets;         /* remote host → RateBucket, see -access.c */
  IovTraceCatalog *catalog;
  GCancellable    *cancellable;
  guint            n_clients;
  GSocketService  *service;
  GPtrArray       *connections;     /* GWeakRef to each accepted GSocket */
  guint            drops_id;
  gboolean         started;
  char            *url;
};

/* iov-relay-server-access.c */
void        _iov_relay_server_early_handler (SoupServer        *soup,
                                             SoupServerMessage *msg,
                                             const char        *path,
                                             GHashTable        *query,
                                             gpointer           user_data);
gboolean    _iov_relay_server_on_incoming   (GSocketService    *service,
                                             GSocketConnection *connection,
                                             GObject           *source_object,
                                             IovRelayServer    *self);

/* iov-relay-server-http.c */
void        _iov_relay_server_handler       (SoupServer        *soup,
                                             SoupServerMessage *msg,
                                             const char        *path,
                                             GHashTable        *query,
                                             gpointer           user_data);
RelayVm    *_iov_relay_server_find_vm       (IovRelayServer    *self,
                                             const char        *name,
                                             gsize              len);
void        _iov_relay_respond_json         (SoupServerMessage *msg,
                                             guint              status,
                                             const char        *text);
void        _iov_relay_respond_node         (SoupServerMessage *msg,
                                             JsonNode          *root);
void        _iov_relay_respond_error        (SoupServerMessage *msg,
                                             guint              status,
                                             const char        *message);

/* iov-relay-server-trace.c */
void        _iov_relay_vm_handle_trace      (RelayVm           *vm,
                                             SoupServerMessage *msg,
                                             gboolean           post);

/* iov-relay-server-vm.c */
void        _iov_relay_vm_free              (RelayVm           *vm);
void        _iov_relay_vm_start             (RelayVm           *vm);
const char *_iov_relay_vm_state_name        (RelayVm           *vm);
const char *_iov_relay_vm_error             (RelayVm           *vm);
char       *_iov_relay_vm_not_connected     (RelayVm           *vm);
void        _iov_relay_vm_get_snapshot      (RelayVm           *vm,
                                             SoupServerMessage *msg,
                                             gboolean           raw,
                                             gboolean           pretty);

/* iov-relay-server-ws.c */
void        _iov_relay_vm_handle_events     (RelayVm           *vm,
                                             SoupServerMessage *msg);
void        _iov_relay_vm_drop_clients      (RelayVm           *vm);
void        _iov_relay_vm_broadcast         (RelayVm           *vm,
                                             GString           *out,
                                             guint              n_events);
void        _iov_relay_vm_broadcast_snapshot (RelayVm          *vm,
                                              GPtrArray        *changes);
void        _iov_relay_vm_broadcast_state   (RelayVm           *vm,
                                             const char        *error_message);
gboolean    _iov_relay_server_drops_cb      (gpointer           user_data);

G_END_DECLS
