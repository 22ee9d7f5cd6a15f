/* iov-qmp-client.h
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

G_BEGIN_DECLS

#define IOV_QMP_ERROR (iov_qmp_error_quark ())

typedef enum
{
  IOV_QMP_ERROR_GENERIC_ERROR,     /* QMP class GenericError */
  IOV_QMP_ERROR_COMMAND_NOT_FOUND, /* QMP class CommandNotFound */
  IOV_QMP_ERROR_DEVICE_NOT_ACTIVE, /* QMP class DeviceNotActive */
  IOV_QMP_ERROR_DEVICE_NOT_FOUND,  /* QMP class DeviceNotFound */
  IOV_QMP_ERROR_KVM_MISSING_CAP,   /* QMP class KVMMissingCap */
  IOV_QMP_ERROR_COMMAND_FAILED,    /* any other QMP error class */
  IOV_QMP_ERROR_BAD_ADDRESS,       /* the address cannot be parsed */
  IOV_QMP_ERROR_CONNECT,           /* the socket cannot be reached */
  IOV_QMP_ERROR_NOT_QMP,           /* something answered, but not QMP */
  IOV_QMP_ERROR_CLOSED,            /* the connection went away */
  IOV_QMP_ERROR_NOT_ALLOWED,       /* refused by the read-only allow-list */
  IOV_QMP_ERROR_NOT_CONNECTED,
  IOV_QMP_ERROR_UNSAFE,            /* refused on this QEMU release (iov-qmp-policy.c) */
  IOV_QMP_ERROR_TIMED_OUT,         /* no reply in time: the connection was given up */
} IovQmpError;

/* How long a client waits for QEMU's next reply while commands are in
 * flight before it gives the connection up (iov_qmp_client_set_reply_timeout()). */
#define IOV_QMP_REPLY_TIMEOUT_MS 15000

typedef enum
{
  IOV_QMP_STATE_DISCONNECTED,
  IOV_QMP_STATE_CONNECTING,
  IOV_QMP_STATE_CONNECTED,
} IovQmpState;

#define IOV_TYPE_QMP_CLIENT (iov_qmp_client_get_type ())

G_DECLARE_FINAL_TYPE (IovQmpClient, iov_qmp_client, IOV, QMP_CLIENT, GObject)

GQuark        iov_qmp_error_quark             (void);

gboolean      iov_qmp_command_is_allowed      (const char           *command,
                                               JsonNode             *arguments,
                                               GError              **error);
GSocketConnectable *
              iov_qmp_parse_address           (const char           *address,
                                               char                **display,
                                               GError              **error);

IovQmpClient *iov_qmp_client_new              (const char           *address,
                                               GError              **error);
IovQmpClient *iov_qmp_client_new_for_stream   (GIOStream            *stream);

void          iov_qmp_client_connect_async    (IovQmpClient         *self,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
gboolean      iov_qmp_client_connect_finish   (IovQmpClient         *self,
                                               GAsyncResult         *result,
                                               GError              **error);

void          iov_qmp_client_execute_async    (IovQmpClient         *self,
                                               const char           *command,
                                               JsonNode             *arguments,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
JsonNode     *iov_qmp_client_execute_finish   (IovQmpClient         *self,
                                               GAsyncResult         *result,
                                               GError              **error);

void          iov_qmp_client_close            (IovQmpClient         *self);

IovQmpState   iov_qmp_client_get_state        (IovQmpClient         *self);
const char   *iov_qmp_client_get_address      (IovQmpClient         *self);
const char   *iov_qmp_client_get_version      (IovQmpClient         *self);
const char   *iov_qmp_client_get_package      (IovQmpClient         *self);
gboolean      iov_qmp_client_version_at_least (IovQmpClient         *self,
                                               guint                 major,
                                               guint                 minor,
                                               guint                 micro);
void          iov_qmp_client_get_version_numbers (IovQmpClient      *self,
                                               guint                *major,
                                               guint                *minor,
                                               guint                *micro);
gboolean      iov_qmp_client_check            (IovQmpClient         *self,
                                               const char           *command,
                                               JsonNode             *arguments,
                                               GError              **error);
gboolean      iov_qmp_client_set_schema       (IovQmpClient         *self,
                                               JsonNode             *schema,
                                               GError              **error);
gboolean      iov_qmp_client_has_schema       (IovQmpClient         *self);
guint         iov_qmp_client_get_n_garbage    (IovQmpClient         *self);
void          iov_qmp_client_set_auto_reconnect (IovQmpClient       *self,
                                               gboolean              auto_reconnect);
void          iov_qmp_client_set_reply_timeout (IovQmpClient        *self,
                                               guint                 timeout_ms);
gboolean      iov_qmp_error_is_lost           (const GError         *error);

G_END_DECLS
