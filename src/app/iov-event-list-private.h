/* iov-event-list-private.h — what the event list's files share
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

#include "iov-event-list.h"
#include "iov-event-query.h"

G_BEGIN_DECLS

/* The list is one type in three files: iov-event-list.c (rows, search,
 * following the end, the public API), iov-event-list-row.c (a row's texts
 * and the cells showing them) and iov-event-list-inspector.c (the selected
 * event, and the actions on it). */

enum
{
  COL_TIME,
  COL_SOURCE,
  COL_EVENT,
  COL_IOVA,
  COL_SIZE,
  COL_NOTIFIER,
  COL_OUTCOME,
  N_COLUMNS
};

/* A row: a store index, and its texts once asked for. */
#define IOV_TYPE_EVENT_ROW (iov_event_row_get_type ())
G_DECLARE_FINAL_TYPE (IovEventRow, iov_event_row, IOV, EVENT_ROW, GObject)

struct _IovEventRow
{
  GObject  parent_instance;
  guint64  index;
  char    *text[N_COLUMNS];
  guint8   result;       /* of the first delivery, G_MAXUINT8: none */
  guint8   cropped;
};

struct _IovEventList
{
  GtkWidget         parent_instance;

  /* bound so that gtk_widget_dispose_template() unparents it */
  GtkPaned         *paned;
  GtkSearchEntry   *search_entry;
  GtkLabel         *count_label;
  GtkScrolledWindow *scroller;
  GtkColumnView    *column_view;
  GtkStack         *inspector_stack;
  GtkLabel         *title_label;
  GtkLabel         *time_label;
  GtkLabel         *fields_label;
  GtkLabel         *raw_label;
  GtkLabel         *explain_label;

  GListModel       *rows;        /* IovEventRows */
  GtkSingleSelection *selection;

  IovEventStore    *store;
  IovTraceCatalog  *catalog;
  IovDeliveryLog   *log;
  const IovProfile *profile;

  gboolean          limited;
  guint64           t0, t1;
  guint64           first, end;  /* store indices in range */
  IovEventQuery    *query;       /* NULL: no search */
  char             *query_error; /* why the search text is no query; it shows no rows */
  char             *query_text;
  GArray           *matches;     /* guint64, with a query */
  guint64           scan_next;
  guint             scan_id;
  guint             n_rows;
  guint64           selected;    /* store index, G_MAXUINT64: none */
  gboolean          stick_to_end;
  guint             follow_id;
};

/* iov-event-list-row.c */
IovEventRow *_iov_event_row_new                 (guint64            index);
const char  *_iov_event_list_event_name          (IovEventList      *self,
                                                  guint              id);
/* A decoded argument's value as QEMU prints it. */
char        *_iov_event_list_value_text          (const IovTraceArg *arg);
/* Store event @index's deliveries in the log: [*first, *end). */
void         _iov_event_list_deliveries_of       (IovEventList      *self,
                                                  guint64            index,
                                                  guint64           *first,
                                                  guint64           *end);
/* Makes @row's texts, once. */
void         _iov_event_list_fill_row            (IovEventList      *self,
                                                  IovEventRow       *row);
void         _iov_event_list_setup_columns       (IovEventList      *self);

/* iov-event-list-inspector.c */
void         _iov_event_list_show_inspector      (IovEventList      *self);
void         _iov_event_list_class_init_inspector (GtkWidgetClass   *widget_class);

G_END_DECLS
