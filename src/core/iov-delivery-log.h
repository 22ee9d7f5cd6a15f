/* iov-delivery-log.h
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

#include "iov-inference.h"

G_BEGIN_DECLS

/* What the inference said each notifier got, kept next to the event store:
 * deliveries sorted by the index of their producer event in the store, so
 * that the event list can show an event's notifiers and outcomes, filter on
 * them, and the lanes can count them over a time selection.
 *
 * The inference names events by trace line, the store by index; the log
 * remembers the last lines' indices (a ring) to join them, because a
 * delivery can be settled a few lines after its event (consumer evidence). */

typedef struct _IovDeliveryLog IovDeliveryLog;

#define IOV_DELIVERY_LOG_NO_EVENT G_MAXUINT64

IovDeliveryLog    *iov_delivery_log_new         (void);
void               iov_delivery_log_free        (IovDeliveryLog    *self);
void               iov_delivery_log_clear       (IovDeliveryLog    *self);

/* Keep the line → event map from @line on (G_MAXUINT64: the last 16384
 * lines only), for deliveries the inference still holds. */
void               iov_delivery_log_keep_from   (IovDeliveryLog    *self,
                                                 guint64            line);
/* Every stored event, in order: trace line @line is store event @index. */
void               iov_delivery_log_note_event  (IovDeliveryLog    *self,
                                                 guint64            line,
                                                 guint64            index);
/* Deliveries as iov_inference_feed() appended them. Returns how many found
 * their event; the others (their line left the ring) are kept without one.
 * @first_event (optional) gets the earliest event they joined, or
 * IOV_DELIVERY_LOG_NO_EVENT: views showing later events show them anew. */
guint              iov_delivery_log_add         (IovDeliveryLog    *self,
                                                 const IovDelivery *deliveries,
                                                 guint              n_deliveries,
                                                 guint64           *first_event);

guint64            iov_delivery_log_get_n       (IovDeliveryLog    *self);
const IovDelivery *iov_delivery_log_get         (IovDeliveryLog    *self,
                                                 guint64            i,
                                                 guint64           *event_index);
/* The deliveries whose events lie in [@first_event, @end_event): [*first, *end). */
void               iov_delivery_log_find        (IovDeliveryLog    *self,
                                                 guint64            first_event,
                                                 guint64            end_event,
                                                 guint64           *first,
                                                 guint64           *end);

/* Per-notifier totals over a span of deliveries, for the lanes' counts. */
typedef struct
{
  const IovNotifier *notifier;
  guint64            events;          /* distinct producer events */
  guint64            by_type[3];      /* delivered as MAP, UNMAP, DEVIOTLB_UNMAP */
  guint64            cropped;
  guint64            skipped_range;
  guint64            skipped_flags;
  guint64            aborted;
  guint64            observed;
} IovDeliveryCount;

/* One IovDeliveryCount per notifier met in [@first, @end) deliveries of
 * @device (NULL: all), in the order they were first met. */
GArray            *iov_delivery_log_count       (IovDeliveryLog    *self,
                                                 const char        *device,
                                                 guint64            first,
                                                 guint64            end);

const char        *iov_delivery_outcome_word    (const IovDelivery *delivery);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovDeliveryLog, iov_delivery_log_free)

G_END_DECLS
