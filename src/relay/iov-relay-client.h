/* iov-relay-client.h
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

#include "iov-relay-protocol.h"

G_BEGIN_DECLS

/* A client of `iovista-cli relay` for one VM, addressed by a relay URL
 * http(s)://HOST:PORT/VM.  Set IOVISTA_TLS_CA to a PEM file to trust a
 * relay's self-signed certificate. */

#define IOV_TYPE_RELAY_CLIENT (iov_relay_client_get_type ())

G_DECLARE_FINAL_TYPE (IovRelayClient, iov_relay_client, IOV, RELAY_CLIENT, GObject)

gboolean        iov_relay_is_url                     (const char      *address);
char           *iov_relay_read_token                 (const char      *token_file,
                                                      GError         **error);

IovRelayClient *iov_relay_client_new                 (const char      *url,
                                                      const char      *token,
                                                      GError         **error);
const char     *iov_relay_client_get_base_url        (IovRelayClient  *self);
const char     *iov_relay_client_get_vm              (IovRelayClient  *self);
void            iov_relay_client_trust_certificate   (IovRelayClient  *self,
                                                      const char      *sha256);
gboolean        iov_relay_client_set_ca_file         (IovRelayClient  *self,
                                                      const char      *ca_file,
                                                      GError         **error);

void            iov_relay_client_get_snapshot_async  (IovRelayClient  *self,
                                                      gboolean         raw,
                                                      gboolean         pretty,
                                                      GCancellable    *cancellable,
                                                      GAsyncReadyCallback callback,
                                                      gpointer         user_data);
char           *iov_relay_client_get_snapshot_finish (IovRelayClient  *self,
                                                      GAsyncResult    *result,
                                                      GError         **error);

void            iov_relay_client_list_vms_async      (IovRelayClient  *self,
                                                      GCancellable    *cancellable,
                                                      GAsyncReadyCallback callback,
                                                      gpointer         user_data);
JsonNode       *iov_relay_client_list_vms_finish     (IovRelayClient  *self,
                                                      GAsyncResult    *result,
                                                      GError         **error);

/* POST /api/v1/vms/VM/trace: the relay turns a trace preset (issue D) on
 * or off in QEMU; the finish gives the relay's answer (the presets' and
 * events' states). */
void            iov_relay_client_set_trace_preset_async  (IovRelayClient  *self,
                                                          const char      *preset,
                                                          gboolean         enable,
                                                          GCancellable    *cancellable,
                                                          GAsyncReadyCallback callback,
                                                          gpointer         user_data);
JsonNode       *iov_relay_client_set_trace_preset_finish (IovRelayClient  *self,
                                                          GAsyncResult    *result,
                                                          GError         **error);

/* The VM's events stream (docs/relay.md): a SoupWebsocketConnection whose
 * first message is "hello".  Returned as a GObject so that callers need
 * not include libsoup's headers to hold it. */
void            iov_relay_client_connect_events_async  (IovRelayClient  *self,
                                                        GCancellable    *cancellable,
                                                        GAsyncReadyCallback callback,
                                                        gpointer         user_data);
GObject        *iov_relay_client_connect_events_finish (IovRelayClient  *self,
                                                        GAsyncResult    *result,
                                                        GError         **error);

G_END_DECLS
