/* iov-recording.h — a session saved to a file and read back
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

/* A recording (".iovista") is gzip-compressed JSON Lines, documented in
 * docs/recording.md:
 *
 *   {"iovista_recording": 1, "created": "…", "source": "…"}   header, first
 *   {"snapshot": {…}, "ts_ns": N}                             `iovista-cli snapshot` JSON
 *   {"trace": "…"}                                            one raw trace line, as read
 *   {"delivery": {…}}                                         a model result
 *
 * Raw trace lines are kept verbatim, so reading a recording gives exactly
 * what reading the original log gave. */

#define IOV_RECORDING_VERSION 1

typedef struct _IovRecordingWriter IovRecordingWriter;

IovRecordingWriter *iov_recording_writer_new       (const char          *path,
                                                    const char          *source,
                                                    GError             **error);
gboolean            iov_recording_writer_snapshot  (IovRecordingWriter  *self,
                                                    JsonNode            *snapshot,
                                                    guint64              ts_ns,
                                                    GError             **error);
gboolean            iov_recording_writer_trace     (IovRecordingWriter  *self,
                                                    const char          *line,
                                                    gsize                len,
                                                    GError             **error);
gboolean            iov_recording_writer_delivery  (IovRecordingWriter  *self,
                                                    JsonNode            *delivery,
                                                    GError             **error);
gboolean            iov_recording_writer_close     (IovRecordingWriter  *self,
                                                    GError             **error);
void                iov_recording_writer_free      (IovRecordingWriter  *self);

typedef struct
{
  char      *source;
  char      *created;
  GPtrArray *snapshots;    /* JsonNode* */
  GString   *trace;        /* the raw trace, one line per '\n' */
  GPtrArray *deliveries;   /* JsonNode* */
  char      *cut;          /* NULL, or why the file ends early (its writer died):
                            * the records above are those up to the last
                            * complete one; say it to the user */
} IovRecording;

/* TRUE when @path starts like a recording (gzip, then our header). */
gboolean      iov_recording_is_recording (const char    *path);
IovRecording *iov_recording_load         (const char    *path,
                                          GError       **error);
void          iov_recording_free         (IovRecording  *recording);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovRecording, iov_recording_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovRecordingWriter, iov_recording_writer_free)

G_END_DECLS
