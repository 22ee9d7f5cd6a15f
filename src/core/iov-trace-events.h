/* iov-trace-events.h
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

G_BEGIN_DECLS

/* The event catalogue: every event name QEMU can print, with a decoder for
 * its arguments built from the format string of trace-events-all.  Names
 * met in a trace but absent from the catalogue can be interned; they are
 * then "unknown" events, kept by name with their raw text. */

#define IOV_TRACE_EVENTS_ALL_PATH "/usr/share/qemu/trace-events-all"
#define IOV_TRACE_MAX_ARGS 32

typedef enum
{
  IOV_TRACE_ARG_HEX,       /* %x %X %lx PRIx64 … */
  IOV_TRACE_ARG_UNSIGNED,  /* %u PRIu64 %zu … */
  IOV_TRACE_ARG_SIGNED,    /* %d %i PRId64 %zd … */
  IOV_TRACE_ARG_OCTAL,     /* %o */
  IOV_TRACE_ARG_POINTER,   /* %p: 0x… or (nil) */
  IOV_TRACE_ARG_CHAR,      /* %c */
  IOV_TRACE_ARG_STRING,    /* %s */
  IOV_TRACE_ARG_FLOAT,     /* %f %g %e */
} IovTraceArgKind;

/* One decoded argument.  @text/@len is the value as printed, pointing into
 * the decoded line; for hexadecimal values preceded by a literal "0x" in the
 * format, the "0x" is included.  @value holds integers (signed ones
 * sign-extended), 0 for strings. */
typedef struct
{
  const char      *name;
  IovTraceArgKind  kind;
  const char      *text;
  gsize            len;
  guint64          value;
} IovTraceArg;

typedef struct _IovTraceCatalog IovTraceCatalog;

IovTraceCatalog *iov_trace_catalog_new_builtin   (void);
IovTraceCatalog *iov_trace_catalog_new_from_data (const char       *data,
                                                  gssize            len,
                                                  GError          **error);
IovTraceCatalog *iov_trace_catalog_new_from_file (const char       *path,
                                                  GError          **error);
IovTraceCatalog *iov_trace_catalog_new_default   (const char       *path,
                                                  GError          **error);
void             iov_trace_catalog_free          (IovTraceCatalog  *self);

guint            iov_trace_catalog_get_n_events  (const IovTraceCatalog *self);
guint            iov_trace_catalog_get_n_known   (const IovTraceCatalog *self);
const char      *iov_trace_catalog_get_source    (const IovTraceCatalog *self);
int              iov_trace_catalog_lookup        (const IovTraceCatalog *self,
                                                  const char       *name,
                                                  gsize             len);
guint            iov_trace_catalog_intern        (IovTraceCatalog  *self,
                                                  const char       *name,
                                                  gsize             len);
const char      *iov_trace_catalog_get_name      (const IovTraceCatalog *self,
                                                  guint             id);
gboolean         iov_trace_catalog_is_known      (const IovTraceCatalog *self,
                                                  guint             id);
const char      *iov_trace_catalog_get_format    (const IovTraceCatalog *self,
                                                  guint             id);
guint            iov_trace_catalog_get_n_args    (const IovTraceCatalog *self,
                                                  guint             id);
gboolean         iov_trace_catalog_get_arg       (const IovTraceCatalog *self,
                                                  guint             id,
                                                  guint             index,
                                                  const char      **name,
                                                  IovTraceArgKind  *kind);
gboolean         iov_trace_catalog_decode        (const IovTraceCatalog *self,
                                                  guint             id,
                                                  const char       *args,
                                                  gsize             len,
                                                  IovTraceArg      *out,
                                                  guint            *n_out);
gboolean         iov_trace_catalog_arg_is_canonical (const IovTraceCatalog *self,
                                                  guint             id,
                                                  guint             index,
                                                  const IovTraceArg *arg);
void             iov_trace_catalog_render        (const IovTraceCatalog *self,
                                                  guint             id,
                                                  const IovTraceArg *args,
                                                  guint             n_args,
                                                  GString          *out);
gboolean         iov_trace_catalog_render_text   (const IovTraceCatalog *self,
                                                  guint             id,
                                                  const IovTraceArg *args,
                                                  guint             n_args,
                                                  GString          *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovTraceCatalog, iov_trace_catalog_free)

G_END_DECLS
