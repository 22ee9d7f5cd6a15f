/* iov-traffic.h
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
#include <json-glib/json-glib.h>

#include "iov-trace-parser.h"

#include "iov-snapshot-info.h"

G_BEGIN_DECLS

/* IOTLB traffic per device (issue L): the invalidations that reach it, its
 * vhost IOTLB misses, the vhost-user IOTLB messages sent for it and the
 * misses' round trips, counted while the trace is read. Lines name devices
 * in different ways (a SID, a VT-d domain, a vhost pointer, nothing at
 * all); they are tied to PCI devices only where the trace or a snapshot
 * says so, else they are "unattributed". */

typedef enum
{
  IOV_TRAFFIC_DEVICE_INVALIDATIONS,  /* vtd_inv_desc type device, by SID */
  IOV_TRAFFIC_PAGE_INVALIDATIONS,    /* VT-d page-selective IOTLB, by the device's domain */
  IOV_TRAFFIC_DOMAIN_INVALIDATIONS,  /* VT-d domain-selective IOTLB */
  IOV_TRAFFIC_GLOBAL_INVALIDATIONS,  /* VT-d global IOTLB: every device with a domain */
  IOV_TRAFFIC_IOTLB_MISSES,          /* vhost_iotlb_miss … step 1 */
  IOV_TRAFFIC_IOTLB_MESSAGES,        /* vhost_user_write req:22 */
  IOV_TRAFFIC_N_COUNTS
} IovTrafficCount;

typedef struct
{
  guint64 counts[IOV_TRAFFIC_N_COUNTS];
  guint64 peak_per_s[IOV_TRAFFIC_N_COUNTS];  /* most in any one-second window */
  guint64 n_round_trips;                     /* misses answered by a req:22, with times */
  guint64 round_trip_p50_ns;                 /* nearest rank; 0 without round trips */
  guint64 round_trip_p99_ns;
  guint64 round_trip_max_ns;
} IovTrafficFigures;

typedef struct _IovTraffic IovTraffic;

/* The key of each count in `iovista-cli trace --stats` ("device_invalidations", …). */
const char *iov_traffic_count_name    (IovTrafficCount     count);

IovTraffic *iov_traffic_new           (void);
void        iov_traffic_free          (IovTraffic         *self);

void        iov_traffic_feed          (IovTraffic         *self,
                                       const IovTraceLine *line);
/* The vhost devices of a snapshot (each snapshot adds its own). */
void        iov_traffic_add_snapshot  (IovTraffic            *self,
                                       const IovSnapshotInfo *snapshot);

/* BDFs ("01:00.0") with traffic, and the snapshot's vhost devices, sorted. */
GPtrArray  *iov_traffic_get_devices   (IovTraffic         *self);
/* @device: a BDF, or %NULL for what could not be attributed. */
void        iov_traffic_get_figures   (IovTraffic         *self,
                                       const char         *device,
                                       IovTrafficFigures  *out);
/* Sentences on what stays unattributed, and why. */
GPtrArray  *iov_traffic_get_notes     (IovTraffic         *self);

/* Per-bin counts of @count for @device (%NULL: unattributed) from @t0_ns,
 * @n_bins bins of @bin_ns each (the rate tracks of the window). */
void        iov_traffic_get_rate      (IovTraffic         *self,
                                       const char         *device,
                                       IovTrafficCount     count,
                                       guint64             t0_ns,
                                       guint64             bin_ns,
                                       guint               n_bins,
                                       guint64            *bins);

/* @device for every counted line once, however many devices it reached
 * (a global invalidation is one line), unattributed ones included. */
#define IOV_TRAFFIC_EVERY_DEVICE "*"
/* The masks of iov_traffic_bin()'s rate tracks. */
#define IOV_TRAFFIC_MASK(count) (1u << (count))
#define IOV_TRAFFIC_INVALIDATIONS_MASK                                             \
  (IOV_TRAFFIC_MASK (IOV_TRAFFIC_DEVICE_INVALIDATIONS) | IOV_TRAFFIC_MASK (IOV_TRAFFIC_PAGE_INVALIDATIONS) | \
   IOV_TRAFFIC_MASK (IOV_TRAFFIC_DOMAIN_INVALIDATIONS) | IOV_TRAFFIC_MASK (IOV_TRAFFIC_GLOBAL_INVALIDATIONS))

/* Per-pixel bins for the window's rate tracks: the lines of the counts in
 * @counts (a mask of IOV_TRAFFIC_MASK ()) for @device (a BDF, %NULL for
 * the unattributed, or IOV_TRAFFIC_EVERY_DEVICE) in @n_bins equal bins of
 * [@t0_ns, @t1_ns): a line at t is in bin ⌊(t − t0) · n_bins / (t1 − t0)⌋,
 * exactly. The times are kept sorted, so the cost follows @n_bins (a
 * binary search per bin), not the lines in the range. */
void        iov_traffic_bin           (IovTraffic         *self,
                                       const char         *device,
                                       guint               counts,
                                       guint64             t0_ns,
                                       guint64             t1_ns,
                                       guint               n_bins,
                                       guint64            *bins);

/* What a caller makes of an event's name, cached per catalogue id: the
 * kind of the first entry of @table named like @line, else @other (kinds
 * are nonzero; @cache starts empty). */
typedef struct
{
  const char *name;
  guint8      kind;
} IovTraceNameKind;

guint8      iov_trace_classify_line   (GByteArray             *cache,
                                       const IovTraceNameKind *table,
                                       guint                   n_table,
                                       guint8                  other,
                                       const IovTraceLine     *line);

/* The cached kind of @line's event, @other for a line that is no event,
 * or 0 when it has to be looked up (every line passes here: inline). */
static inline guint8
iov_trace_classify_cached (const GByteArray   *cache,
                           const IovTraceLine *line,
                           guint8              other)
{
  if (line->kind != IOV_TRACE_LINE_EVENT)
    return other;
  return line->event_id >= 0 && (guint) line->event_id < cache->len ? cache->data[line->event_id] : 0;
}

/* The number after @key in a trace line's arguments ("sid 0x", "domain=",
 * "req:"): hexadecimal when @key ends in "0x" or the number starts with
 * it, else decimal. */
gboolean    iov_trace_args_find_number (const char        *args,
                                        gsize              len,
                                        const char        *key,
                                        guint64           *value);
/* The same from *@pos, which moves past the number: fields read in the
 * order of the format read the text once. */
gboolean    iov_trace_args_next_number (const char       **pos,
                                        const char        *end,
                                        const char        *key,
                                        guint64           *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovTraffic, iov_traffic_free)

G_END_DECLS
