/* iov-event-list.c
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

#define G_LOG_DOMAIN "iov-event-list"

#include "config.h"

#include <glib/gi18n.h>

#include "iov-event-list-private.h"

/* A search walks the store in slices this long per main-loop turn, so that
 * ten million events are searched without freezing the window. */
#define SCAN_BUDGET_US 3000
/* Following shows the newest rows ten times a second, not on every trace
 * tick: each jump binds every visible cell anew (bench-live measures it). */
#define FOLLOW_EVERY_MS 100

/* ---- the list ----------------------------------------------------------- */

G_DEFINE_FINAL_TYPE (IovEventList, iov_event_list, GTK_TYPE_WIDGET)

enum { SHOW_IN_MAP, EVENT_SELECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* Rows are the search's matches, not every event in range: with a query,
 * or with search text that is none (it shows no rows, and says why). */
static gboolean
filtering (IovEventList *self)
{
  return self->query != NULL || self->query_error != NULL;
}

/* The model: rows are positions in the list's range or matches. */

#define IOV_TYPE_EVENT_ROWS (iov_event_rows_get_type ())
G_DECLARE_FINAL_TYPE (IovEventRows, iov_event_rows, IOV, EVENT_ROWS, GObject)

struct _IovEventRows
{
  GObject       parent_instance;
  IovEventList *list;   /* weak: the list owns the model */
};

static GType
iov_event_rows_get_item_type (GListModel *model)
{
  return IOV_TYPE_EVENT_ROW;
}

static guint
iov_event_rows_get_n_items (GListModel *model)
{
  IovEventRows *self = IOV_EVENT_ROWS (model);

  return self->list ? self->list->n_rows : 0;
}

static gpointer
iov_event_rows_get_item (GListModel *model,
                         guint       position)
{
  IovEventRows *self = IOV_EVENT_ROWS (model);
  guint64 index;

  if (self->list == NULL || position >= self->list->n_rows)
    return NULL;
  index = iov_event_list_get_row_event (self->list, position);
  if (index == G_MAXUINT64)
    return NULL;
  return _iov_event_row_new (index);
}

static void
iov_event_rows_model_init (GListModelInterface *iface)
{
  iface->get_item_type = iov_event_rows_get_item_type;
  iface->get_n_items = iov_event_rows_get_n_items;
  iface->get_item = iov_event_rows_get_item;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (IovEventRows, iov_event_rows, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, iov_event_rows_model_init))

static void
iov_event_rows_class_init (IovEventRowsClass *klass)
{
}

static void
iov_event_rows_init (IovEventRows *self)
{
}

/* ---- rows --------------------------------------------------------------- */

static void
update_count (IovEventList *self)
{
  guint64 total = self->end > self->first ? self->end - self->first : 0;
  g_autofree char *shown = g_strdup_printf ("%u", self->n_rows);
  g_autofree char *all = g_strdup_printf ("%" G_GUINT64_FORMAT, total);
  g_autofree char *text = NULL;

  if (self->query_error != NULL)
    {
      gtk_label_set_text (self->count_label, self->query_error);
      return;
    }
  if (self->query == NULL)
    /* Translators: the event list's count, %s is a number */
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s event", "%s events", (gulong) total), all);
  else if (self->scan_id != 0)
    /* Translators: while searching: matches so far, of how many events */
    text = g_strdup_printf (_("Searching… %s of %s"), shown, all);
  else
    /* Translators: matches, of how many events */
    text = g_strdup_printf (_("%s of %s"), shown, all);
  if (self->limited)
    {
      g_autofree char *in = g_strdup_printf (_("%s in the selection"), text);

      gtk_label_set_text (self->count_label, in);
    }
  else
    gtk_label_set_text (self->count_label, text);
}

static gboolean follow_timeout_cb (gpointer user_data);

static void
set_n_rows (IovEventList *self,
            guint         n,
            gboolean      reset)
{
  guint old = self->n_rows;

  self->n_rows = n;
  if (reset)
    g_list_model_items_changed (self->rows, 0, old, n);
  else if (n > old)
    g_list_model_items_changed (self->rows, old, 0, n - old);
  update_count (self);
}

/* Following the end, as a terminal does, until the user scrolls back;
 * reaching the end again follows again.  Only the user's scrolling stops
 * it: the list itself moves the value as rows come (it keeps its top row). */
static void
value_changed_cb (IovEventList  *self,
                  GtkAdjustment *adj)
{
  if (gtk_adjustment_get_value (adj) + gtk_adjustment_get_page_size (adj) >= gtk_adjustment_get_upper (adj) - 4)
    self->stick_to_end = TRUE;
}

static gboolean
user_scroll_cb (IovEventList             *self,
                double                    dx,
                double                    dy,
                GtkEventControllerScroll *controller)
{
  if (dy < 0)
    self->stick_to_end = FALSE;
  return FALSE;
}

static void
scrollbar_pressed_cb (IovEventList *self,
                      int           n_press,
                      double        x,
                      double        y,
                      GtkGesture   *gesture)
{
  self->stick_to_end = FALSE;
}

static gboolean
follow_timeout_cb (gpointer user_data)
{
  IovEventList *self = user_data;
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scroller);
  double bottom = gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj);

  /* the adjustment's value, not "list.scroll-to-item": in GTK 4.8 that
   * one costs a layout pass of its own */
  if (self->stick_to_end && self->selected == G_MAXUINT64 && !filtering (self) && self->n_rows > 0 &&
      gtk_adjustment_get_value (adj) < bottom - 1)
    {
      gtk_adjustment_set_value (adj, bottom);
      /* rows added since the last layout: look again next time */
      return G_SOURCE_CONTINUE;
    }
  self->follow_id = 0;
  return G_SOURCE_REMOVE;
}

static gboolean
scan_cb (gpointer user_data)
{
  IovEventList *self = user_data;
  gint64 start = g_get_monotonic_time ();
  guint before = self->matches->len;

  while (self->scan_next < self->end)
    {
      /* check the clock every 1024 events: reading it costs as much as a match */
      guint64 stop = MIN (self->end, self->scan_next + 1024);

      for (; self->scan_next < stop; self->scan_next++)
        if (iov_event_query_match (self->query, self->scan_next))
          g_array_append_val (self->matches, self->scan_next);
      if (g_get_monotonic_time () - start > SCAN_BUDGET_US)
        break;
    }
  if (self->scan_next >= self->end)
    self->scan_id = 0;
  if (self->matches->len != before || self->scan_id == 0)
    set_n_rows (self, MIN (self->matches->len, G_MAXUINT), FALSE);
  return self->scan_id != 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
ensure_scanning (IovEventList *self)
{
  if (self->query != NULL && self->scan_id == 0 && self->scan_next < self->end)
    {
      self->scan_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, scan_cb, self, NULL);
      update_count (self);
    }
}

static void
compute_range (IovEventList *self)
{
  guint64 n = self->store ? iov_event_store_get_n_events (self->store) : 0;

  if (!self->limited || self->store == NULL)
    {
      self->first = 0;
      self->end = n;
      return;
    }
  self->first = iov_event_store_lower_bound (self->store, self->t0);
  self->end = self->t1 == G_MAXUINT64 ? n : iov_event_store_lower_bound (self->store, self->t1 + 1);
  self->end = MAX (self->end, self->first);
}

static void
rebuild (IovEventList *self)
{
  /* Unselect first: on a reset, the selection would look for its item
   * among all the new rows, making one object per row. */
  if (gtk_single_selection_get_selected (self->selection) != GTK_INVALID_LIST_POSITION)
    gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  g_clear_handle_id (&self->scan_id, g_source_remove);
  g_clear_handle_id (&self->follow_id, g_source_remove);
  compute_range (self);
  g_array_set_size (self->matches, 0);
  self->scan_next = self->first;
  self->selected = G_MAXUINT64;
  if (!filtering (self))
    set_n_rows (self, (guint) MIN (self->end - self->first, G_MAXUINT), TRUE);
  else
    {
      set_n_rows (self, 0, TRUE);
      ensure_scanning (self);
    }
  _iov_event_list_show_inspector (self);
}

guint64
iov_event_list_get_row_event (IovEventList *self,
                              guint         row)
{
  g_return_val_if_fail (IOV_IS_EVENT_LIST (self), G_MAXUINT64);

  if (row >= self->n_rows)
    return G_MAXUINT64;
  if (filtering (self))
    return row < self->matches->len ? g_array_index (self->matches, guint64, row) : G_MAXUINT64;
  return self->first + row;
}

static void
selection_changed_cb (IovEventList       *self,
                      guint               position,
                      guint               n_items,
                      GtkSingleSelection *selection)
{
  guint selected = gtk_single_selection_get_selected (selection);

  self->selected = selected == GTK_INVALID_LIST_POSITION ? G_MAXUINT64
                                                          : iov_event_list_get_row_event (self, selected);
  _iov_event_list_show_inspector (self);
  g_signal_emit (self, signals[EVENT_SELECTED], 0, self->selected);
}

static void
focus_search_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  gtk_widget_grab_focus (GTK_WIDGET (IOV_EVENT_LIST (widget)->search_entry));
}

static void
search_changed_cb (IovEventList   *self,
                   GtkSearchEntry *entry)
{
  iov_event_list_set_query (self, gtk_editable_get_text (GTK_EDITABLE (entry)));
}

/* ---- public ------------------------------------------------------------- */

GtkWidget *
iov_event_list_new (void)
{
  return g_object_new (IOV_TYPE_EVENT_LIST, NULL);
}

void
iov_event_list_set_sources (IovEventList     *self,
                            IovEventStore    *store,
                            IovTraceCatalog  *catalog,
                            IovDeliveryLog   *log,
                            const IovProfile *profile)
{
  g_return_if_fail (IOV_IS_EVENT_LIST (self));

  self->store = store;
  self->catalog = catalog;
  self->log = log;
  self->profile = profile;
  if (self->query != NULL)
    iov_event_query_set_sources (self->query, store, catalog, log);
  rebuild (self);
}

void
iov_event_list_sources_grew (IovEventList *self)
{
  guint64 old_end = self->end;

  g_return_if_fail (IOV_IS_EVENT_LIST (self));

  if (self->store == NULL)
    return;
  compute_range (self);
  if (self->end <= old_end)
    return;
  if (!filtering (self))
    {
      set_n_rows (self, (guint) MIN (self->end - self->first, G_MAXUINT), FALSE);
      /* live: keep the newest rows in view (a search shows its first
       * matches instead) */
      if (self->stick_to_end && self->follow_id == 0)
        self->follow_id = g_timeout_add (FOLLOW_EVERY_MS, follow_timeout_cb, self);
    }
  else
    ensure_scanning (self);
  update_count (self);
}

/* The first position whose event is >= @index. */
static guint
position_of (IovEventList *self,
             guint64       index)
{
  guint lo = 0, hi;

  if (!filtering (self))
    return index <= self->first ? 0 : (guint) MIN (index - self->first, self->n_rows);
  hi = self->matches->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (self->matches, guint64, mid) < index)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

void
iov_event_list_deliveries_added (IovEventList *self,
                                 guint64       first_event)
{
  guint pos;

  g_return_if_fail (IOV_IS_EVENT_LIST (self));

  if (self->store == NULL || first_event >= self->end)
    return;
  pos = position_of (self, first_event);
  if (self->query != NULL && iov_event_query_uses_deliveries (self->query) && first_event < self->scan_next)
    {
      guint old = self->n_rows;

      /* Those events may match now, or no longer: search them again. */
      g_array_set_size (self->matches, pos);
      self->n_rows = pos;
      g_list_model_items_changed (self->rows, pos, old - pos, 0);
      self->scan_next = MAX (first_event, self->first);
      ensure_scanning (self);
      update_count (self);
      return;
    }
  /* Rows on screen keep the texts they were made with: make them again. */
  if (pos < self->n_rows)
    g_list_model_items_changed (self->rows, pos, self->n_rows - pos, self->n_rows - pos);
}

void
iov_event_list_set_time_range (IovEventList *self,
                               gboolean      limited,
                               guint64       start_ns,
                               guint64       end_ns)
{
  g_return_if_fail (IOV_IS_EVENT_LIST (self));

  if (self->limited == limited && (!limited || (self->t0 == start_ns && self->t1 == end_ns)))
    return;
  self->limited = limited;
  self->t0 = start_ns;
  self->t1 = end_ns;
  rebuild (self);
}

void
iov_event_list_set_query (IovEventList *self,
                          const char   *query)
{
  g_return_if_fail (IOV_IS_EVENT_LIST (self));

  /* The entry reports its text again after a pause: same text, same rows. */
  if (g_strcmp0 (self->query_text ? self->query_text : "", query ? query : "") == 0)
    return;
  g_free (self->query_text);
  self->query_text = g_strdup (query);
  g_clear_object (&self->query);
  g_clear_pointer (&self->query_error, g_free);
  {
    g_autoptr(GError) error = NULL;

    self->query = iov_event_query_new (query, &error);
    if (self->query == NULL)
      self->query_error = g_strdup (error->message);
    else if (iov_event_query_is_empty (self->query))
      g_clear_object (&self->query);
    else
      iov_event_query_set_sources (self->query, self->store, self->catalog, self->log);
  }
  /* bad input: the entry and the count say so */
  if (self->query_error != NULL)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->search_entry), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (self->count_label), "dim-label");
      gtk_widget_add_css_class (GTK_WIDGET (self->count_label), "error");
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->search_entry), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (self->count_label), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->count_label), "dim-label");
    }
  if (g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (self->search_entry)), query ? query : "") != 0)
    {
      g_signal_handlers_block_by_func (self->search_entry, search_changed_cb, self);
      gtk_editable_set_text (GTK_EDITABLE (self->search_entry), query ? query : "");
      g_signal_handlers_unblock_by_func (self->search_entry, search_changed_cb, self);
    }
  rebuild (self);
}

guint
iov_event_list_get_n_rows (IovEventList *self)
{
  g_return_val_if_fail (IOV_IS_EVENT_LIST (self), 0);
  return self->n_rows;
}

gboolean
iov_event_list_is_searching (IovEventList *self)
{
  g_return_val_if_fail (IOV_IS_EVENT_LIST (self), FALSE);
  return self->scan_id != 0;
}

void
iov_event_list_select_row (IovEventList *self,
                           guint         row)
{
  g_return_if_fail (IOV_IS_EVENT_LIST (self));
  gtk_single_selection_set_selected (self->selection, row);
}

void
iov_event_list_reveal_row (IovEventList *self,
                           guint         row)
{
  GtkAdjustment *adj;
  double upper, page;

  g_return_if_fail (IOV_IS_EVENT_LIST (self));

  if (self->n_rows == 0)
    return;
  /* rows are of one height: the adjustment says where, without a layout
   * pass of GTK 4.8's "list.scroll-to-item" */
  self->stick_to_end = FALSE;
  adj = gtk_scrolled_window_get_vadjustment (self->scroller);
  upper = gtk_adjustment_get_upper (adj);
  page = gtk_adjustment_get_page_size (adj);
  gtk_adjustment_set_value (adj, CLAMP (upper * row / self->n_rows - page / 2, 0, MAX (upper - page, 0)));
}

/* ---- GObject ------------------------------------------------------------ */

static void
iov_event_list_dispose (GObject *object)
{
  IovEventList *self = IOV_EVENT_LIST (object);

  g_clear_handle_id (&self->scan_id, g_source_remove);
  g_clear_handle_id (&self->follow_id, g_source_remove);
  /* Following the end while the rows go away made the column view bind new
   * rows during its own teardown, which GTK 4.8 aborts on: stop following,
   * then let go of the model. */
  if (self->scroller != NULL)
    g_signal_handlers_disconnect_by_func (gtk_scrolled_window_get_vadjustment (self->scroller),
                                          value_changed_cb, self);
  if (self->column_view != NULL)
    gtk_column_view_set_model (self->column_view, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), IOV_TYPE_EVENT_LIST);
  if (self->rows != NULL)
    IOV_EVENT_ROWS (self->rows)->list = NULL;
  g_clear_object (&self->selection);
  g_clear_object (&self->rows);

  G_OBJECT_CLASS (iov_event_list_parent_class)->dispose (object);
}

static void
iov_event_list_finalize (GObject *object)
{
  IovEventList *self = IOV_EVENT_LIST (object);

  g_clear_object (&self->query);
  g_clear_pointer (&self->query_error, g_free);
  g_clear_pointer (&self->query_text, g_free);
  g_clear_pointer (&self->matches, g_array_unref);

  G_OBJECT_CLASS (iov_event_list_parent_class)->finalize (object);
}

static void
iov_event_list_class_init (IovEventListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = iov_event_list_dispose;
  object_class->finalize = iov_event_list_finalize;

  signals[SHOW_IN_MAP] =
    g_signal_new ("show-in-map", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_UINT64, G_TYPE_UINT64);
  /* The store index of the selected event, G_MAXUINT64 when none. */
  signals[EVENT_SELECTED] =
    g_signal_new ("event-selected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_UINT64);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/iovista/Iovista/iov-event-list.ui");
  gtk_widget_class_bind_template_child (widget_class, IovEventList, paned);
  gtk_widget_class_bind_template_child (widget_class, IovEventList, search_entry);
  gtk_widget_class_bind_template_child (widget_class, IovEventList, count_label);
  gtk_widget_class_bind_template_child (widget_class, IovEventList, scroller);
  gtk_widget_class_bind_template_child (widget_class, IovEventList, column_view);
  gtk_widget_class_bind_template_child (widget_class, IovEventList, inspector_stack);
  gtk_widget_class_bind_template_child (widget_class, IovEventList, title_label);
  gtk_widget_class_bind_template_child (widget_class, IovEventList, time_label);
  gtk_widget_class_bind_template_child (widget_class, IovEventList, fields_label);
  gtk_widget_class_bind_template_child (widget_class, IovEventList, raw_label);
  gtk_widget_class_bind_template_child (widget_class, IovEventList, explain_label);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);

  _iov_event_list_class_init_inspector (widget_class);
  gtk_widget_class_install_action (widget_class, "event-list.focus-search", NULL, focus_search_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "event-list.focus-search", NULL);
}

static void
iov_event_list_init (IovEventList *self)
{
  IovEventRows *rows;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->matches = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->selected = G_MAXUINT64;
  self->stick_to_end = TRUE;

  rows = g_object_new (IOV_TYPE_EVENT_ROWS, NULL);
  rows->list = self;
  self->rows = G_LIST_MODEL (rows);
  self->selection = gtk_single_selection_new (g_object_ref (self->rows));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  g_signal_connect_object (self->selection, "selection-changed", G_CALLBACK (selection_changed_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (self->selection));
  _iov_event_list_setup_columns (self);
  g_signal_connect_object (gtk_scrolled_window_get_vadjustment (self->scroller), "value-changed",
                           G_CALLBACK (value_changed_cb), self, G_CONNECT_SWAPPED);
  {
    GtkEventController *scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
    GtkGesture *press = gtk_gesture_click_new ();

    gtk_event_controller_set_propagation_phase (scroll, GTK_PHASE_CAPTURE);
    g_signal_connect_object (scroll, "scroll", G_CALLBACK (user_scroll_cb), self, G_CONNECT_SWAPPED);
    gtk_widget_add_controller (GTK_WIDGET (self->scroller), scroll);
    gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (press), GTK_PHASE_CAPTURE);
    g_signal_connect_object (press, "pressed", G_CALLBACK (scrollbar_pressed_cb), self, G_CONNECT_SWAPPED);
    gtk_widget_add_controller (gtk_scrolled_window_get_vscrollbar (self->scroller), GTK_EVENT_CONTROLLER (press));
  }
  _iov_event_list_show_inspector (self);
  update_count (self);
}
