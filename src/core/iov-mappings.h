/* iov-mappings.h
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

#include "iov-trace-parser.h"

G_BEGIN_DECLS

/* The IOVA mappings of each domain at any instant (issue L), from the map
 * and unmap events of the trace: virtio-iommu's requests
 * (virtio_iommu_map / _unmap / _unmap_done / _put_domain / _device_reset),
 * exact; and VT-d's page walks (vtd_page_walk_one), which exist only where a
 * MAP notifier makes QEMU walk the guest's tables (vfio, QEMU 5.2). The
 * index is built while the trace is read; a query replays at most a few
 * thousand changes from the nearest checkpoint. */

typedef struct
{
  guint64 start;
  guint64 end;      /* inclusive, as QEMU traces it */
  guint64 phys;
  guint32 flags;    /* virtio-iommu's flags, VT-d's perm */
  guint32 domain;   /* see iov_mappings_get_domain_label() */
} IovMapping;

typedef struct _IovMappings IovMappings;

IovMappings *iov_mappings_new               (void);
void         iov_mappings_free              (IovMappings        *self);

void         iov_mappings_feed              (IovMappings        *self,
                                             const IovTraceLine *line);

/* Map and unmap events seen (applied or rejected). */
guint64      iov_mappings_get_n_events      (IovMappings        *self);
/* The domain as QEMU's trace prints it ("0" for virtio-iommu, "0x5" for VT-d). */
const char  *iov_mappings_get_domain_label  (IovMappings        *self,
                                             guint32             domain);

/* The mappings after every change traced at or before @ts_ns (times taken
 * in file order, each at least the one before), by domain then start.
 * A line without a time counts as at its predecessor's. */
GArray      *iov_mappings_at                (IovMappings        *self,
                                             guint64             ts_ns);
/* What differs between the mappings at @t1_ns and at @t2_ns. */
void         iov_mappings_diff              (IovMappings        *self,
                                             guint64             t1_ns,
                                             guint64             t2_ns,
                                             GArray            **added,
                                             GArray            **removed);
/* Order of iov_mappings_at(): domain (by its label's number), start, end, phys, flags. */
int          iov_mappings_compare           (IovMappings        *self,
                                             const IovMapping   *a,
                                             const IovMapping   *b);

typedef enum
{
  IOV_MAPPINGS_ENDPOINT_UNKNOWN,    /* the trace does not say */
  IOV_MAPPINGS_ENDPOINT_NONE,       /* in no domain (virtio-iommu: detached, freed, reset) */
  IOV_MAPPINGS_ENDPOINT_IN_DOMAIN,
} IovMappingsEndpoint;

/* Where @endpoint (a PCI device's SID: bus << 8 | devfn) was at @ts_ns
 * (times as for iov_mappings_at()), *@domain as IovMapping's .domain.
 * virtio-iommu's attach and detach requests say it exactly. VT-d's trace
 * names a device's domain only where QEMU walks its tables right after a
 * device-selective context-cache invalidation of it (QEMU 5.2 walks every
 * device then; later releases only those with a MAP notifier, vfio's) or
 * replays them for vfio (vtd_replay_ce_valid): from such an invalidation
 * until the walk names one, and for a device never walked so, the domain
 * is unknown, never guessed. */
IovMappingsEndpoint iov_mappings_endpoint_at (IovMappings *self,
                                              guint32      endpoint,
                                              guint64      ts_ns,
                                              guint32     *domain);

/* TRUE when iov_mappings_endpoint_at() finds @endpoint in a domain. */
gboolean     iov_mappings_domain_of_endpoint (IovMappings   *self,
                                              guint32        endpoint,
                                              guint64        ts_ns,
                                              guint32       *domain);

/* What the index could not follow exactly, in sentences. */
GPtrArray   *iov_mappings_get_notes         (IovMappings        *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovMappings, iov_mappings_free)

G_END_DECLS
