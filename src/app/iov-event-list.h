/* iov-event-list.h
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

#include <gtk/gtk.h>

#include "iov-delivery-log.h"
#include "iov-event-store.h"
#include "iov-profile.h"

G_BEGIN_DECLS

#define IOV_TYPE_EVENT_LIST (iov_event_list_get_type ())

G_DECLARE_FINAL_TYPE (IovEventList, iov_event_list, IOV, EVENT_LIST, GtkWidget)

/* The trace's events as a list with a search entry, and an inspector for
 * the selected one.  Rows are store indices: items are made only for the
 * rows on screen.  "show-in-map" (device or NULL, iova, addr_mask) asks
 * the view to show the selected event on the address-space map;
 * "event-selected" (store index, G_MAXUINT64: none) follows the selection. */

GtkWidget *iov_event_list_new             (void);
/* Borrowed: they must outlive the list, or be unset (all NULL) first. */
void       iov_event_list_set_sources     (IovEventList     *self,
                                           IovEventStore    *store,
                                           IovTraceCatalog  *catalog,
                                           IovDeliveryLog   *log,
                                           const IovProfile *profile);
/* Events were appended to the store. */
void       iov_event_list_sources_grew    (IovEventList     *self);
/* Deliveries joined events from @first_event on (they can come a few
 * events late): rows showing them, and a search on them, are redone. */
void       iov_event_list_deliveries_added (IovEventList    *self,
                                            guint64          first_event);
/* Only the events in [start, end] (ns); FALSE: all of them. */
void       iov_event_list_set_time_range  (IovEventList     *self,
                                           gboolean          limited,
                                           guint64           start_ns,
                                           guint64           end_ns);
/* "event:NAME device:BDF notifier:NAME outcome:WORD" and free words, as
 * IovEventQuery reads them; text that is no query (IovEventQuery says why)
 * shows no rows, and the count shows why. */
void       iov_event_list_set_query       (IovEventList     *self,
                                           const char       *query);
guint      iov_event_list_get_n_rows      (IovEventList     *self);
gboolean   iov_event_list_is_searching    (IovEventList     *self);
/* The store index of a row; G_MAXUINT64 when out of range. */
guint64    iov_event_list_get_row_event   (IovEventList     *self,
                                           guint             row);
char      *iov_event_list_dup_cell_text   (IovEventList     *self,
                                           guint             row,
                                           guint             column);
void       iov_event_list_select_row      (IovEventList     *self,
                                           guint             row);
/* Scrolls @row to the middle of the list. */
void       iov_event_list_reveal_row      (IovEventList     *self,
                                           guint             row);
/* The inspector's text, for tests and copying. */
char      *iov_event_list_dup_inspector_text (IovEventList  *self);

G_END_DECLS
