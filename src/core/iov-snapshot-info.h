/* iov-snapshot-info.h — the snapshot JSON, read into types and written back
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

#include <json-glib/json-glib.h>

#include "iov-mtree.h"
#include "iov-profile.h"

G_BEGIN_DECLS

/* What `iovista-cli snapshot` prints (iov_snapshot_to_json()), as types.
 * This reader and its writer are meant to be the only code that knows the
 * snapshot's keys (issue J): a snapshot that does not hold what they
 * promise is refused as a whole, with a GError (IOV_ERROR_INVALID) whose
 * message starts with the JSON path of the first thing wrong, e.g.
 *
 *   address_spaces[2].notifiers[0].start: "0xZZ" is not a hex number
 *
 * Keys this reader does not know are ignored (a newer writer's). Strings
 * that may be absent are NULL then. */

/* A PCI function (devices[]). */
typedef struct
{
  char *bdf;            /* "00:02.0", always in this spelling */
  char *type;           /* QOM type, or NULL (no QOM device matched) */
  char *qom_path;       /* or NULL */
  int   vhost;          /* -1 unknown (null), 0, 1 */
  char *vhost_source;   /* how vhost was decided, or NULL */
  char *netdev;         /* virtio-net's "netdev", or NULL */
} IovSnapshotDevice;

/* An AddressSpace that renders a FlatView (address_spaces[].spaces[]). */
typedef struct
{
  char     *name;
  char     *root;
  char     *alias;        /* or NULL */
  gboolean  has_device;   /* "device" is there: a BDF, or null when unsure */
  char     *device;       /* the PCI function it belongs to, or NULL */
  GStrv     candidates;   /* BDFs it may belong to, or NULL */
} IovSnapshotSpace;

/* One FlatRange (address_spaces[].flat_ranges[]). */
typedef struct
{
  guint64       start;    /* inclusive */
  guint64       end;      /* inclusive, ≥ start */
  int           priority;
  char         *kind;     /* or NULL */
  char         *region;   /* or NULL */
  guint64       offset;
  IovRangeRole  role;
} IovSnapshotRange;

/* An IOMMU notifier the snapshot infers (address_spaces[].notifiers[]). */
typedef struct
{
  char     *consumer;     /* "vhost", "vfio", or NULL */
  char     *device;       /* BDF, "01:00.0" */
  char     *region;       /* or NULL */
  guint64   start;        /* the range it registered, inclusive */
  guint64   end;          /* ≥ start */
  gboolean  has_flags;    /* FALSE: null, the flags are unknown */
  guint     flags;        /* IovNotifierFlags */
  char     *flags_source; /* "profile", …, or NULL */
  gboolean  inferred;
} IovSnapshotNotifier;

/* One FlatView and the address spaces that share it. */
typedef struct
{
  GPtrArray *spaces;       /* IovSnapshotSpace* */
  char      *root_region;  /* or NULL */
  gboolean   iommu;        /* some range is an IOMMU region */
  GArray    *flat_ranges;  /* IovSnapshotRange */
  GPtrArray *notifiers;    /* IovSnapshotNotifier* */
} IovSnapshotAddressSpace;

typedef struct
{
  char       *version;            /* "7.2.22" */
  guint       major, minor, micro;
  char       *package;            /* or NULL */
  char       *iommu_type;         /* NULL: the machine has no IOMMU (iommu: null) */
  JsonObject *iommu_properties;   /* as QOM gave them; NULL with no IOMMU */
  guint       aw_bits;            /* properties' "aw-bits"; 0 when not given */
  GPtrArray  *devices;            /* IovSnapshotDevice* */
  GPtrArray  *notes;              /* char *, or NULL when the snapshot has none */
  GPtrArray  *address_spaces;     /* IovSnapshotAddressSpace* */
  char       *mtree;              /* `info mtree -f` as collected, or NULL */
} IovSnapshotInfo;

IovSnapshotInfo  *iov_snapshot_info_new_from_json (JsonNode              *node,
                                                   GError               **error);
IovSnapshotInfo  *iov_snapshot_info_new_from_data (const char            *data,
                                                   gssize                 length,
                                                   GError               **error);
void              iov_snapshot_info_free          (IovSnapshotInfo       *info);

JsonNode         *iov_snapshot_info_to_json       (const IovSnapshotInfo *info);
char             *iov_snapshot_info_to_string     (const IovSnapshotInfo *info,
                                                   gboolean               pretty);

/* The release profile of the snapshot's QEMU version and package. */
const IovProfile *iov_snapshot_info_get_profile   (const IovSnapshotInfo *info);

/* "MAJOR.MINOR[.MICRO]", each part a decimal number from 0 to 65535. */
gboolean          iov_snapshot_parse_version      (const char            *text,
                                                   guint                 *major,
                                                   guint                 *minor,
                                                   guint                 *micro);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovSnapshotInfo, iov_snapshot_info_free)

G_END_DECLS
