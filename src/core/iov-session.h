/* iov-session.h
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

#include "iov-qmp-client.h"
#include "iov-snapshot.h"

G_BEGIN_DECLS

typedef enum
{
  IOV_SESSION_STATE_DISCONNECTED,  /* see iov_session_get_error() for why */
  IOV_SESSION_STATE_CONNECTING,    /* connecting, or connected without a first snapshot */
  IOV_SESSION_STATE_LIVE,          /* connected, the snapshot is current */
} IovSessionState;

#define IOV_SESSION_DEFAULT_INTERVAL_MS 500
#define IOV_SESSION_MIN_INTERVAL_MS     50

#define IOV_TYPE_SESSION (iov_session_get_type ())

G_DECLARE_FINAL_TYPE (IovSession, iov_session, IOV, SESSION, GObject)

IovSession      *iov_session_new           (const char   *address,
                                            GError      **error);

void             iov_session_start         (IovSession   *self);
void             iov_session_stop          (IovSession   *self);
void             iov_session_refresh       (IovSession   *self);

const char      *iov_session_get_address   (IovSession   *self);
IovQmpClient    *iov_session_get_client    (IovSession   *self);
IovSessionState  iov_session_get_state     (IovSession   *self);
const char      *iov_session_state_to_string (IovSessionState state);
const GError    *iov_session_get_error     (IovSession   *self);
IovSnapshot     *iov_session_get_snapshot  (IovSession   *self);
guint            iov_session_get_interval  (IovSession   *self);
void             iov_session_set_interval  (IovSession   *self,
                                            guint         interval_ms);

G_END_DECLS
