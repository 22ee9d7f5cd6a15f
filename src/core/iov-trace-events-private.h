/* iov-trace-events-private.h
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

#include "iov-trace-events.h"

G_BEGIN_DECLS

/* trace-events lines of the IOMMU-related events, NULL-terminated. */
extern const char * const iov_trace_events_builtin[];

/* FNV-1a over the name bytes, so that a scanner can hash while it reads. */
#define IOV_TRACE_HASH_SEED 2166136261u

static inline guint32
iov_trace_hash_step (guint32 h,
                     guchar  c)
{
  return (h ^ c) * 16777619u;
}

int _iov_trace_catalog_lookup_hashed (const IovTraceCatalog *self,
                                      const char            *name,
                                      gsize                  len,
                                      guint32                hash);

G_END_DECLS
