/* iov-snapshot.h
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

#include "iov-mtree.h"
#include "iov-qmp-client.h"

G_BEGIN_DECLS

/* One QOM device as the collector saw it. */
typedef struct
{
  char *qom_path;
  char *type;
  char *bus_path;        /* "parent_bus", or NULL */
  int   devfn;           /* -1 when not a PCI function */
  int   iommu_platform;  /* -1 unknown, 0, 1 */
  int   vhost;           /* -1 unknown, 0, 1 */
  char *netdev;          /* virtio-net: its "netdev" property, or NULL */
  const char *vhost_source; /* how vhost was decided: "x-query-virtio-status", "netdev", "type"; NULL */
} IovQomDevice;

IovQomDevice *iov_qom_device_new  (const char   *qom_path,
                                   const char   *type);
void          iov_qom_device_free (IovQomDevice *device);

#define IOV_TYPE_SNAPSHOT (iov_snapshot_get_type ())

G_DECLARE_FINAL_TYPE (IovSnapshot, iov_snapshot, IOV, SNAPSHOT, GObject)

IovSnapshot  *iov_snapshot_new_from_data (const char   *version,
                                          const char   *package,
                                          const char   *iommu_type,
                                          JsonObject   *iommu_properties,
                                          JsonNode     *query_pci,
                                          GPtrArray    *qom_devices,
                                          const char   *mtree_text);

void          iov_snapshot_collect_async  (IovQmpClient        *client,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
IovSnapshot  *iov_snapshot_collect_finish (GAsyncResult        *result,
                                           GError             **error);

JsonNode     *iov_snapshot_to_json       (IovSnapshot  *self,
                                          gboolean      include_mtree);
char         *iov_snapshot_to_string     (IovSnapshot  *self,
                                          gboolean      include_mtree,
                                          gboolean      pretty);
const IovMtree *iov_snapshot_get_mtree   (IovSnapshot  *self);
char         *iov_snapshot_netdev_type   (const char   *network,
                                          const char   *netdev);
void          iov_snapshot_add_note      (IovSnapshot  *self,
                                          const char   *note);
GPtrArray    *iov_snapshot_get_notes     (IovSnapshot  *self);
GPtrArray    *iov_snapshot_diff          (IovSnapshot  *old_snapshot,
                                          IovSnapshot  *new_snapshot);

/* What changed for one device (or one address space no single device owns)
 * between two snapshots. */
typedef enum
{
  IOV_SNAPSHOT_CHANGE_REMAPPING_ON,   /* its FlatView gained IOMMU ranges */
  IOV_SNAPSHOT_CHANGE_REMAPPING_OFF,  /* its FlatView lost them */
  IOV_SNAPSHOT_CHANGE_RANGES,         /* other changes to its ranges */
} IovSnapshotChangeKind;

typedef struct
{
  IovSnapshotChangeKind  kind;
  char                  *device;    /* "00:02.0", or "NAME (ROOT)" of the first AS */
  guint                  n_ranges;  /* FlatRanges after the change */
  char                  *message;   /* translated, "00:02.0 switched to DMA remapping: 3 ranges" */
} IovSnapshotChange;

void          iov_snapshot_change_free    (IovSnapshotChange *change);
const char   *iov_snapshot_change_kind_to_string (IovSnapshotChangeKind kind);
GPtrArray    *iov_snapshot_diff_changes  (IovSnapshot  *old_snapshot,
                                          IovSnapshot  *new_snapshot);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovSnapshotChange, iov_snapshot_change_free)

G_END_DECLS
