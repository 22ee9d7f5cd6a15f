/* iov-trace-control.h — QEMU's trace events switched over QMP
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

#include "iov-qmp-client.h"

G_BEGIN_DECLS

/* Named sets of trace-event patterns. The noisy events (interrupt
 * remapping, per-translation hits) stay off unless a preset names them. */
typedef struct
{
  const char *name;
  const char *title;            /* translatable */
  const char *patterns[24];     /* NULL-terminated */
} IovTracePreset;

const IovTracePreset *iov_trace_presets           (guint                 *n_presets);
const IovTracePreset *iov_trace_preset_find       (const char            *name);
char                 *iov_trace_preset_qemu_args  (const IovTracePreset  *preset,
                                                   const char            *file);
gboolean              iov_trace_preset_matches    (const IovTracePreset  *preset,
                                                   const char            *event);
gboolean              iov_trace_event_is_noisy    (const char            *event);
const char * const   *iov_trace_noisy_events      (guint                 *n_events);

/* trace-event-set-state for every pattern of @preset (and, when enabling,
 * the noisy events it does not name switched off). Only sent when a user
 * asks: it is the one QMP command Iovista sends that changes QEMU. */
void                  iov_trace_preset_apply_async  (IovQmpClient          *client,
                                                     const IovTracePreset  *preset,
                                                     gboolean               enable,
                                                     GCancellable          *cancellable,
                                                     GAsyncReadyCallback    callback,
                                                     gpointer               user_data);
gboolean              iov_trace_preset_apply_finish (IovQmpClient          *client,
                                                     GAsyncResult          *result,
                                                     GError               **error);

/* trace-event-get-state @pattern: the reply's array of {name, state}. */
void                  iov_trace_list_events_async   (IovQmpClient          *client,
                                                     const char            *pattern,
                                                     GCancellable          *cancellable,
                                                     GAsyncReadyCallback    callback,
                                                     gpointer               user_data);
JsonNode             *iov_trace_list_events_finish  (IovQmpClient          *client,
                                                     GAsyncResult          *result,
                                                     GError               **error);

G_END_DECLS
