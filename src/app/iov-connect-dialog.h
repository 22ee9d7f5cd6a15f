/* iov-connect-dialog.h — where the QMP socket and the trace are
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

#include <adwaita.h>

G_BEGIN_DECLS

#define IOV_TYPE_CONNECT_DIALOG (iov_connect_dialog_get_type ())

G_DECLARE_FINAL_TYPE (IovConnectDialog, iov_connect_dialog, IOV, CONNECT_DIALOG, AdwMessageDialog)

/* @settings (nullable) holds "recent-connections". Responds "connect". */
IovConnectDialog *iov_connect_dialog_new              (GtkWindow        *parent,
                                                       GSettings        *settings);
/* A QMP address, or with "Remote relay" chosen, the relay URL/VM. */
const char       *iov_connect_dialog_get_address      (IovConnectDialog *self);
/* The relay's token with "Remote relay" chosen, else NULL. */
const char       *iov_connect_dialog_get_token        (IovConnectDialog *self);
/* Chooses "Remote relay" with @url (http(s)://HOST:PORT) and @token. */
void              iov_connect_dialog_set_relay        (IovConnectDialog *self,
                                                       const char       *url,
                                                       const char       *token);
/* Fetches the relay's VMs into iov_connect_dialog_get_vms() (a
 * GtkStringList of names), as "List VMs" does. */
void              iov_connect_dialog_list_vms         (IovConnectDialog *self);
GListModel       *iov_connect_dialog_get_vms          (IovConnectDialog *self);
/* The trace preset to turn on once connected (iov_trace_preset_find()),
 * or NULL to leave QEMU's trace events alone. */
const char       *iov_connect_dialog_get_trace_preset (IovConnectDialog *self);
void              iov_connect_dialog_set_trace_preset (IovConnectDialog *self,
                                                       const char       *name);
/* NULL for none, else a trace source spec (FILE, fifo:PATH, unix:PATH). */
char             *iov_connect_dialog_dup_trace_source (IovConnectDialog *self);
/* Puts @address first in "recent-connections" (at most 8). */
void              iov_connect_dialog_remember         (GSettings        *settings,
                                                       const char       *address);

G_END_DECLS
