/* iov-engine.h — QEMU's IOMMU notifier core, per era
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

#include "iov-profile.h"
#include "iov-types.h"

G_BEGIN_DECLS

/* An IOMMUNotifier: [start, end] inclusive. */
typedef struct
{
  char    *name;
  char    *owner;      /* "vhost", "vfio", … or NULL */
  guint64  start;
  guint64  end;
  guint    flags;      /* IovNotifierFlags */
  int      iommu_idx;
} IovNotifier;

IovNotifier *iov_notifier_new  (const char *name,
                                const char *owner,
                                guint64     start,
                                guint64     end,
                                guint       flags);
void         iov_notifier_free (IovNotifier *notifier);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovNotifier, iov_notifier_free)

/* An IOMMUTLBEvent (6.0+) or an IOMMUTLBEntry whose type is derived from
 * its perm (≤5.2): the producer fills in type, the era decides. */
typedef struct
{
  guint64          iova;
  guint64          addr_mask;
  guint64          translated_addr;
  IovNotifierFlags type;
  IovPerm          perm;
} IovTlbEvent;

typedef enum
{
  IOV_RESULT_DELIVERED,
  IOV_RESULT_SKIPPED_RANGE,
  IOV_RESULT_SKIPPED_FLAGS,
  IOV_RESULT_ABORT,
} IovResult;

/* Why QEMU stopped. */
typedef enum
{
  IOV_ABORT_NONE,
  IOV_ABORT_CONTAINMENT,     /* entry->iova >= notifier->start && entry_end <= notifier->end */
  IOV_ABORT_UNMAP_PERM,      /* entry->perm == IOMMU_NONE */
  IOV_ABORT_UNMAP_START_END, /* vtd_address_space_unmap: start <= end */
  IOV_ABORT_UNMAP_REMAIN,    /* vtd_address_space_unmap: !remain */
  IOV_ABORT_EXIT,            /* error_fatal / hw_error: message given by the caller */
} IovAbortKind;

/* One notifier's outcome for one event: packed, kept in arrays. */
typedef struct
{
  const IovNotifier *notifier;  /* NULL when no single notifier is concerned */
  gint32             event;     /* index into the step's events, -1 for none */
  guint8             result;    /* IovResult */
  guint8             type;      /* IovNotifierFlags delivered */
  guint8             cropped;
  guint8             abort;     /* IovAbortKind */
  guint64            iova;
  guint64            addr_mask;
} IovOutcome;

/* The per-notifier function, memory_region_notify_one() /
 * memory_region_notify_iommu_one(), for @profile's era. Pure. */
IovResult   iov_notify_one            (const IovProfile  *profile,
                                       const IovNotifier *notifier,
                                       const IovTlbEvent *event,
                                       IovOutcome        *outcome);

/* The event type as @profile's era sees it (≤5.2 derives it from perm). */
IovNotifierFlags iov_event_effective_type (const IovProfile  *profile,
                                           const IovTlbEvent *event);

char       *iov_abort_message         (const IovProfile  *profile,
                                       IovAbortKind       kind);

/* The notifier list of one IOMMU memory region: index 0 is the list head,
 * which memory_region_notify_iommu() visits first. */
typedef struct
{
  GPtrArray *list;        /* IovNotifier*, not owned */
  guint      agg_flags;
} IovIommuMr;

void        iov_iommu_mr_init         (IovIommuMr        *mr);
void        iov_iommu_mr_clear        (IovIommuMr        *mr);
/* Head insertion, as QLIST_INSERT_HEAD; returns the new aggregate flags. */
guint       iov_iommu_mr_insert       (IovIommuMr        *mr,
                                       IovNotifier       *notifier);
gboolean    iov_iommu_mr_remove       (IovIommuMr        *mr,
                                       IovNotifier       *notifier);
guint       iov_iommu_mr_compute_flags (IovIommuMr       *mr);

/* Dispatches @event to every notifier of @mr with @iommu_idx, appending one
 * outcome each to @outcomes. Returns FALSE when QEMU aborted. */
gboolean    iov_iommu_mr_notify       (const IovProfile  *profile,
                                       IovIommuMr        *mr,
                                       int                iommu_idx,
                                       const IovTlbEvent *event,
                                       gint32             event_index,
                                       GArray            *outcomes);

G_END_DECLS
