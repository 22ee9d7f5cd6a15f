/* iov-scenario.h — what-if scenarios: the JSON format, parsed
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

#include "iov-engine.h"
#include "iov-profile.h"

G_BEGIN_DECLS

typedef enum
{
  IOV_IOMMU_INTEL,
  IOV_IOMMU_AMD,
  IOV_IOMMU_VIRTIO,
} IovIommuModel;

typedef enum
{
  IOV_BACKEND_NONE,
  IOV_BACKEND_VHOST,
  IOV_BACKEND_VFIO,
  IOV_BACKEND_VIRTIO,   /* plain virtio: no notifier */
} IovBackend;

typedef enum
{
  /* low level */
  IOV_STEP_NOTIFY,
  IOV_STEP_DEVICE_IOTLB_INVALIDATE,
  IOV_STEP_PSI,
  IOV_STEP_UNMAP_WHOLE,
  /* topology: what the guest does */
  IOV_STEP_ENABLE_DMAR,
  IOV_STEP_DISABLE_DMAR,
  IOV_STEP_MAP,
  IOV_STEP_UNMAP,
  IOV_STEP_ATS_ENABLE,
  IOV_STEP_ATS_DISABLE,
  IOV_STEP_CONTEXT_INVALIDATE,
  IOV_STEP_DSI,
  IOV_STEP_GLOBAL_INVALIDATE,
  IOV_STEP_VHOST_START,   /* vhost_dev_start: vhost registers its notifiers */
  IOV_STEP_VHOST_STOP,
  IOV_STEP_LAST
} IovStepOp;

typedef struct
{
  char       *id;
  guint8      bus;
  guint8      devfn;
  IovBackend  backend;
  gboolean    ats;
  gboolean    ats_enabled;   /* the guest enabled ATS before the first step */
  guint16     domain;
  gboolean    vhost_stopped; /* vhost starts at a "vhost-start" step, not before the first */
} IovScenarioDevice;

typedef struct
{
  IovStepOp         op;
  int               device;     /* index into devices, -1 = the low-level region */
  int               notifier;   /* unmap-whole */
  IovNotifierFlags  type;
  IovPerm           perm;
  guint64           iova;
  guint64           addr_mask;
  guint64           size;
  guint64           gpa;
  guint64           addr;
  guint             am;
  guint             s;
  guint16           domain;
  guint             has_domain : 1;
  char             *explain;
} IovStep;

typedef struct
{
  char          *filename;     /* for messages */
  char          *name;
  char          *title;
  char          *summary;
  char          *profile;      /* may be NULL */

  IovIommuModel  model;
  guint          aw_bits;      /* 0: the profile's default */
  gboolean       caching_mode;
  gboolean       device_iotlb;
  gboolean       intremap;
  gboolean       snoop_control;
  gboolean       dma_remap;    /* AMD-Vi, 10.2+ */

  GPtrArray     *devices;      /* IovScenarioDevice* */
  GPtrArray     *notifiers;    /* IovNotifier*: the low-level form */
  GArray        *steps;        /* IovStep */
  gboolean       low_level;    /* has "notifiers" */
} IovScenario;

IovScenario *iov_scenario_new_from_file     (const char         *path,
                                             GError            **error);
IovScenario *iov_scenario_new_from_data     (const char         *data,
                                             gssize              length,
                                             const char         *display_name,
                                             GError            **error);
IovScenario *iov_scenario_new_from_resource (const char         *name,
                                             GError            **error);
void         iov_scenario_free              (IovScenario        *scenario);
/* Checks what depends on the profile: flags and ops it lacks. */
gboolean     iov_scenario_check_profile     (const IovScenario  *scenario,
                                             const IovProfile   *profile,
                                             GError            **error);
const char  *iov_step_op_to_string          (IovStepOp           op);
guint        iov_scenario_aw_bits           (const IovScenario  *scenario,
                                             const IovProfile   *profile);

/* Built-in scenarios: names in the index, in order. */
GStrv        iov_scenario_list_builtin      (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovScenario, iov_scenario_free)

G_END_DECLS
