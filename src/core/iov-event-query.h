/* iov-event-query.h — the event list's search language, without a display
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

#include <glib-object.h>

#include "iov-delivery-log.h"
#include "iov-event-store.h"
#include "iov-trace-events.h"

G_BEGIN_DECLS

/* A search over a trace's stored events: "event:NAME device:BDF
 * notifier:NAME outcome:WORD" and free words, all case-insensitive
 * substrings, all of which an event must satisfy.
 *
 *  - event:     the event's name;
 *  - device:    the BDF of a device the model delivered the event to, else
 *               the event's arguments as printed;
 *  - notifier:  the name or owner ("vhost", "vfio") of a notifier it reached;
 *  - outcome:   delivered, cropped, skipped-range, skipped-flags, abort, or
 *               observed / inferred (the evidence for a delivery);
 *  - a word:    the event's name or its arguments as printed.
 *
 * A key with nothing after it ("event:", as one types) is no term yet. */

#define IOV_TYPE_EVENT_QUERY (iov_event_query_get_type ())

G_DECLARE_FINAL_TYPE (IovEventQuery, iov_event_query, IOV, EVENT_QUERY, GObject)

/* NULL and an IOV_ERROR_INVALID error naming the term for bad input: an
 * outcome that names none, or a key given twice.  An empty @text is an
 * empty query (iov_event_query_is_empty()), which every event matches. */
IovEventQuery *iov_event_query_new               (const char      *text,
                                                  GError         **error);

gboolean       iov_event_query_is_empty          (IovEventQuery   *self);
/* The terms, lower-cased; NULL when not given. */
const char    *iov_event_query_get_event         (IovEventQuery   *self);
const char    *iov_event_query_get_device        (IovEventQuery   *self);
const char    *iov_event_query_get_notifier      (IovEventQuery   *self);
const char    *iov_event_query_get_outcome       (IovEventQuery   *self);
/* The free words, lower-cased; never NULL. */
const char * const *iov_event_query_get_words    (IovEventQuery   *self);
/* Whether an event's deliveries decide whether it matches: deliveries that
 * join late can make events match, or no longer. */
gboolean       iov_event_query_uses_deliveries   (IovEventQuery   *self);

/* What events are matched against, borrowed (set them to NULL before they
 * go); @log may be NULL (no model: only event: and words can match).
 * Setting them forgets what the query learnt of the last ones. */
void           iov_event_query_set_sources       (IovEventQuery   *self,
                                                  IovEventStore   *store,
                                                  IovTraceCatalog *catalog,
                                                  IovDeliveryLog  *log);
/* Whether store event @index and its deliveries satisfy every term.
 * Cheap enough to be asked of millions of events in turn. */
gboolean       iov_event_query_match             (IovEventQuery   *self,
                                                  guint64          index);

G_END_DECLS
