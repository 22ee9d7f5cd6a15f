/* iov-mtree.h
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

/* What a FlatRange is, seen from a device doing DMA. */
typedef enum
{
  IOV_RANGE_ROLE_IO,
  IOV_RANGE_ROLE_RAM,
  IOV_RANGE_ROLE_ROM,
  IOV_RANGE_ROLE_IOMMU,
  IOV_RANGE_ROLE_INTERRUPT,
  IOV_RANGE_ROLE_PASSTHROUGH,
} IovRangeRole;

typedef struct
{
  guint64       start;       /* inclusive */
  guint64       end;         /* inclusive */
  int           priority;
  char         *kind;        /* "ram", "rom", "romd", "ramd", "i/o", maybe "nv-" prefixed */
  char         *region;      /* name of the MemoryRegion that renders the range */
  guint64       offset;      /* offset_in_region, 0 when not printed */
  gboolean      has_offset;
  char         *accel;       /* " KVM" suffix, or NULL */
  char         *owner;       /* "-o" suffix "owner:{…}" without the braces, or NULL */
  char         *parent;      /* "-o" suffix "parent:{…}" for owner-less regions, or NULL */
  IovRangeRole  role;
} IovMtreeRange;

typedef struct
{
  char *name;                /* AddressSpace name, e.g. "vtd-root" */
  char *root;                /* root MemoryRegion name, e.g. "vtd-01.0" */
  char *alias;               /* ", alias TARGET" when the root is an alias, or NULL */
} IovMtreeSpace;

typedef struct
{
  int        number;         /* "FlatView #N": not stable across calls */
  GPtrArray *spaces;         /* IovMtreeSpace */
  char      *root_region;    /* NULL for "(none)" or when missing */
  GArray    *ranges;         /* IovMtreeRange */
  gboolean   rendered;       /* FALSE after "No rendered FlatView" */
} IovMtreeFlatView;

/* A notifier range reconstructed from an IOMMU FlatRange (§4.2):
 * start = offset_in_region, end = start + (range end - range start). */
typedef struct
{
  guint64      start;
  guint64      end;
  const char  *region;       /* owned by the range it came from */
} IovMtreeNotifierRange;

typedef struct _IovMtree IovMtree;

struct _IovMtree
{
  GPtrArray *flat_views;     /* IovMtreeFlatView */
  GPtrArray *unknown_lines;  /* char *, verbatim without line ending */
  guint      n_lines;
};

IovMtree        *iov_mtree_parse                 (const char             *text,
                                                  gssize                  length);
void             iov_mtree_free                  (IovMtree               *mtree);
guint            iov_mtree_get_n_unknown         (const IovMtree         *mtree);

gboolean         iov_mtree_parse_range_line      (const char             *line,
                                                  IovMtreeRange          *range);
void             iov_mtree_range_clear           (IovMtreeRange          *range);

IovRangeRole     iov_mtree_classify              (const char             *region,
                                                  const char             *kind,
                                                  const char             *root_region);
const char      *iov_range_role_to_string        (IovRangeRole            role);
gboolean         iov_mtree_region_is_iommu       (const char             *region);
gboolean         iov_mtree_region_is_interrupt   (const char             *region);

gboolean         iov_mtree_flat_view_has_iommu   (const IovMtreeFlatView *view);
GArray          *iov_mtree_flat_view_notifier_ranges (const IovMtreeFlatView *view);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovMtree, iov_mtree_free)

G_END_DECLS
