/* iov-inference.h — from observed trace events to per-notifier deliveries
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

#include "iov-engine.h"
#include "iov-scenario.h"
#include "iov-snapshot-info.h"
#include "iov-trace-vtd.h"

G_BEGIN_DECLS

/* QEMU traces what its IOMMU does (invalidations, walks, virtio-iommu
 * requests) but not what each notifier received. The inference feeds the
 * producer-side events to the model and marks the deliveries it predicts
 * as inferred; consumer-side evidence (vfio_iommu_map_notify, a
 * vhost-user IOTLB message right after an invalidation) marks them
 * observed, and a disagreement becomes a finding. */

typedef enum
{
  IOV_DELIVERY_INFERRED,
  IOV_DELIVERY_OBSERVED,   /* inferred, and the consumer showed it */
} IovDeliveryKind;

typedef struct
{
  guint64            ts_ns;
  guint64            line;       /* 1-based line of the producer event */
  const IovNotifier *notifier;
  const char        *device;
  IovDeliveryKind    kind;
  IovOutcome         outcome;    /* result, type, range, cropped, abort */
  IovTlbEvent        event;      /* what the IOMMU sent */
} IovDelivery;

/* A notifier as the inference knows it: where its flags came from and
 * when, in trace lines, it was registered. */
typedef struct
{
  const IovNotifier *notifier;
  const char        *device;        /* "01:00.0" */
  const char        *flags_source;  /* "profile", "trace", "snapshot" or "assumed" */
  guint64            from_line;     /* registered from this line on (1: before the trace) */
  guint64            to_line;       /* unregistered at this line; 0 while it exists */
} IovInferenceNotifier;

/* The first abort the model predicts: QEMU stops there. */
typedef struct
{
  guint64     line;
  const char *notifier;
  char       *message;                /* "FILE:LINE: FUNCTION: Assertion `…' failed." */
  guint       kind;                   /* IovAbortKind */
} IovInferenceAbort;

typedef struct _IovInference IovInference;

IovInference *iov_inference_new           (const IovProfile  *profile,
                                           IovIommuModel      model,
                                           guint              aw_bits);
/* Spaces and notifiers from `iovista-cli snapshot` JSON; the profile from
 * the QEMU version in it unless @profile is given. */
IovInference *iov_inference_new_from_snapshot (JsonNode          *snapshot,
                                               const IovProfile  *profile,
                                               GError           **error);
/* The same, from a snapshot already read. */
IovInference *iov_inference_new_from_info (const IovSnapshotInfo *info,
                                           const IovProfile      *profile);
void          iov_inference_free          (IovInference      *self);
/* A deep copy of @self's state that goes on under @profile: a comparison
 * splits releases that behaved alike until an event tells them apart. */
IovInference *iov_inference_copy          (IovInference      *self,
                                           const IovProfile  *profile);
/* Points @d (a delivery of @self) at @to's notifier and device. */
void          iov_inference_copy_delivery (IovInference      *self,
                                           IovInference      *to,
                                           IovDelivery       *d);
const IovNotifier *iov_inference_copy_notifier (IovInference      *self,
                                                IovInference      *to,
                                                const IovNotifier *n);

/* Registers a notifier on the address space of @device (a BDF such as
 * "00:02.0"), at the head of its list as QEMU does. */
IovNotifier  *iov_inference_add_notifier  (IovInference      *self,
                                           const char        *device,
                                           const char        *name,
                                           const char        *owner,
                                           guint64            start,
                                           guint64            end,
                                           guint              flags);

/* One trace event (name, and its arguments as printed); deliveries are
 * appended to @deliveries (IovDelivery) once settled: a delivery that
 * consumer evidence may still mark observed (vhost-user, vfio) is held back,
 * with those after it, until the evidence comes or the next invalidation,
 * so it can arrive a few lines after its event (its @line says which). Events that concern no notifier
 * are ignored. */
void          iov_inference_feed          (IovInference      *self,
                                           guint64            ts_ns,
                                           guint64            line,
                                           const char        *name,
                                           const char        *args,
                                           gsize              args_len,
                                           GArray            *deliveries);
/* One trace event, decoded once for every inference that reads it: a
 * comparison feeds the same event to one inference per release, and
 * deciding what it is and parsing its arguments would otherwise be done
 * once per release (issue K). Fill it with iov_inference_event_init(). */
typedef struct
{
  guint64     ts_ns;
  guint64     line;
  const char *name;
  const char *args;
  gsize       len;
  guint       kind;         /* which event the inference knows it as */
  gboolean    has_number;
  gint64      number;       /* req: of vhost_user_write, step of vhost_iotlb_miss */
  gboolean    has_desc;     /* vtd_inv_desc of a device-IOTLB invalidation */
  guint16     sid;          /* its source id */
  guint64     iova;         /* its decoded range */
  guint64     addr_mask;
} IovInferenceEvent;

/* @name, @args: must outlive @ev */
void          iov_inference_event_init    (IovInferenceEvent *ev,
                                           guint64            ts_ns,
                                           guint64            line,
                                           const char        *name,
                                           const char        *args,
                                           gsize              args_len);
/* As iov_inference_feed(), with the event decoded already. */
void          iov_inference_feed_event    (IovInference            *self,
                                           const IovInferenceEvent *ev,
                                           GArray                  *deliveries);
/* Whether two releases take the same path through the inference on any
 * trace until an event that iov_inference_event_alike() says they handle
 * differently (the wording of a closing note aside): a comparison runs
 * them as one until then. */
gboolean      iov_inference_profiles_alike (const IovProfile       *a,
                                            const IovProfile       *b);
/* Whether iov_inference_event_alike() can say no to @ev at all. */
gboolean      iov_inference_event_tells_apart (const IovInferenceEvent *ev);
gboolean      iov_inference_event_alike   (const IovInferenceEvent *ev,
                                           const IovProfile        *a,
                                           const IovProfile        *b);
/* Whether the event's notifications come from a walk of the guest's page
 * tables (vtd_page_walk_one, domain and global invalidations). */
gboolean      iov_inference_event_is_walk (const IovInferenceEvent *ev);

/* Call at the end: pending consumer evidence is settled. */
void          iov_inference_finish        (IovInference      *self,
                                           GArray            *deliveries);
/* Batched, deliveries never reach a caller's array (feed and finish take
 * NULL): the settled ones, in the order an unbatched inference would give
 * them, are read in place with peek_settled() and dropped once used. */
void          iov_inference_set_batched   (IovInference      *self,
                                           gboolean           batched);
const IovDelivery *iov_inference_peek_settled (IovInference  *self,
                                               guint         *n);
void          iov_inference_drop_settled  (IovInference      *self,
                                           guint              n);

/* Adds the notifiers a newer snapshot of the same VM lists and the
 * inference does not know yet, registered from @line on. */
gboolean      iov_inference_update_topology (IovInference    *self,
                                             JsonNode        *snapshot,
                                             guint64          line,
                                             GError         **error);
void          iov_inference_update_topology_from_info (IovInference          *self,
                                                       const IovSnapshotInfo *info,
                                                       guint64                line);

const IovProfile *iov_inference_get_profile    (IovInference *self);
/* IovInferenceNotifier*, in registration order */
GPtrArray    *iov_inference_get_notifiers (IovInference      *self);
guint64       iov_inference_get_n_unexplained (IovInference  *self);
guint64       iov_inference_get_oldest_held_line (IovInference *self);
const IovInferenceAbort *iov_inference_get_abort (IovInference *self);
/* Disagreements and caveats, as sentences. */
GPtrArray    *iov_inference_get_findings  (IovInference      *self);
GPtrArray    *iov_inference_get_notes     (IovInference      *self);
guint64       iov_inference_get_n_events  (IovInference      *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovInference, iov_inference_free)

G_END_DECLS
