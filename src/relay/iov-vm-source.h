/* iov-vm-source.h
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

#include "iov-trace-control.h"
#include "iov-trace-document.h"
#include "iov-trace-reader.h"

G_BEGIN_DECLS

/* Where a live VM comes from, behind one object (d-spy's DspyConnection
 * with its several constructors is the pattern): a local QMP session with
 * an optional local trace source, or one VM behind `iovista-cli relay`,
 * whose events stream carries both.  A view holds one IovVmSource and one
 * IovTraceDocument, and never asks which kind it has except for wording.
 *
 * It lives beside the relay because it is the one library that sees both
 * the core's IovSession and the relay's IovRemoteSession. */

typedef enum
{
  IOV_VM_SOURCE_QMP,
  IOV_VM_SOURCE_RELAY,
} IovVmSourceKind;

typedef enum
{
  IOV_VM_SOURCE_STOPPED,
  IOV_VM_SOURCE_CONNECTING,    /* until the first snapshot (QMP) or "hello" (relay) */
  IOV_VM_SOURCE_LIVE,
  IOV_VM_SOURCE_DISCONNECTED,  /* lost or unreachable, retrying by itself; see error */
  IOV_VM_SOURCE_FAILED,        /* refused (token, certificate, protocol): no retry until retry() */
} IovVmSourceState;

#define IOV_TYPE_VM_SOURCE (iov_vm_source_get_type ())

G_DECLARE_FINAL_TYPE (IovVmSource, iov_vm_source, IOV, VM_SOURCE, GObject)

/* @address is a QMP address (unix:PATH, tcp:HOST:PORT, PATH) or a relay's
 * URL (http(s)://HOST:PORT/VM).  @trace_source (a file, -, fifo:PATH,
 * unix:PATH) only with QMP: a relay reads its VM's trace itself.  @token
 * only with a relay; NULL reads IOVISTA_TOKEN or the token file. */
IovVmSource      *iov_vm_source_new           (const char          *address,
                                               const char          *trace_source,
                                               const char          *token,
                                               GError             **error);

IovVmSourceKind   iov_vm_source_get_kind      (IovVmSource         *self);
const char       *iov_vm_source_get_address   (IovVmSource         *self);

/* start() connects (and starts reading the local trace); stop() lets go of
 * everything.  retry() is the user's "Retry": at once, also after FAILED. */
gboolean          iov_vm_source_start         (IovVmSource         *self,
                                               GError             **error);
void              iov_vm_source_stop          (IovVmSource         *self);
void              iov_vm_source_retry         (IovVmSource         *self);

IovVmSourceState  iov_vm_source_get_state     (IovVmSource         *self);
const GError     *iov_vm_source_get_error     (IovVmSource         *self);
/* The snapshot as `iovista-cli snapshot` prints it, or NULL before the
 * first; "notify::snapshot" when it changes, "changed" with a GPtrArray of
 * IovSnapshotChange saying what did. */
JsonNode         *iov_vm_source_get_snapshot  (IovVmSource         *self);
/* From the relay's hello, else from the snapshot; NULL when unknown. */
const char       *iov_vm_source_get_qemu_version (IovVmSource      *self);

/* A new snapshot now, e.g. on F5 or when the trace shows a device switch:
 * a QMP session takes it; a relay is asked for it over HTTP. */
void              iov_vm_source_refresh_async  (IovVmSource        *self,
                                                GCancellable       *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer            user_data);
gboolean          iov_vm_source_refresh_finish (IovVmSource        *self,
                                                GAsyncResult       *result,
                                                GError            **error);

/* A relay over TLS whose certificate is not trusted: trust exactly the one
 * with this SHA-256 fingerprint, and connect again. */
void              iov_vm_source_trust_certificate (IovVmSource     *self,
                                                   const char      *sha256);

/* Turns a trace preset on or off in QEMU (the one thing Iovista changes in
 * QEMU, and only when asked): through the QMP client, or the relay. */
void              iov_vm_source_set_trace_preset_async  (IovVmSource          *self,
                                                         const IovTracePreset *preset,
                                                         gboolean              enable,
                                                         GCancellable         *cancellable,
                                                         GAsyncReadyCallback   callback,
                                                         gpointer              user_data);
gboolean          iov_vm_source_set_trace_preset_finish (IovVmSource          *self,
                                                         GAsyncResult         *result,
                                                         GError              **error);

/* ---- the trace ---------------------------------------------------------- */

/* FALSE when no trace comes: no local source, or a relay that reads none. */
gboolean          iov_vm_source_has_trace     (IovVmSource         *self);
/* Feeds @doc the oldest batch of trace that waits: a local source's lines
 * as read, a relay's events as parsed lines (no text round trip).  FALSE
 * when none waits. */
gboolean          iov_vm_source_feed          (IovVmSource         *self,
                                               IovTraceDocument    *doc,
                                               guint64              arrival_ns);
/* Lines lost on the way: here when the consumer fell behind, at the relay,
 * or by the relay's reader. */
guint64           iov_vm_source_get_dropped   (IovVmSource         *self);
/* A local trace file whose reader stopped for good (a live VM's trace file
 * is followed as QEMU appends to it, so its end is not this): TRUE, with
 * @error set when reading failed.  Never for a FIFO, a socket or a relay. */
gboolean          iov_vm_source_trace_ended   (IovVmSource         *self,
                                               GError             **error);
/* The local trace reader, for what to tell the user about QEMU's
 * arguments; NULL with a relay. */
IovTraceReader   *iov_vm_source_get_reader    (IovVmSource         *self);
/* A QMP session can be asked for the topology of the moment a trace shows
 * a device switch; a relay sends its snapshots as they change. */
gboolean          iov_vm_source_follows_topology (IovVmSource      *self);

G_END_DECLS
