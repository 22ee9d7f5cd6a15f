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
#include <string.h>

#include "iov-event-list.h"

/* A search walks the store in slices this long per main-loop turn, so that
 * ten million events are searched without freezing the window. */
#define SCAN_BUDGET_US 3000
/* Following shows the newest rows ten times a second, not on every trace
 * tick: each jump binds every visible cell anew (bench-live measures it). */
#define FOLLOW_EVERY_MS 100

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

/* ---- a row: a store index, and its texts once asked for ----------------- */

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

G_DEFINE_FINAL_TYPE (IovEventRow, iov_event_row, G_TYPE_OBJECT)

static void
iov_event_row_finalize (GObject *object)
{
  IovEventRow *self = IOV_EVENT_ROW (object);

  for (guint i = 0; i < N_COLUMNS; i++)
    g_free (self->text[i]);
  G_OBJECT_CLASS (iov_event_row_parent_class)->finalize (object);
}

static void
iov_event_row_class_init (IovEventRowClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = iov_event_row_finalize;
}

static void
iov_event_row_init (IovEventRow *self)
{
  self->result = G_MAXUINT8;
}

/* ---- the query ---------------------------------------------------------- */

typedef struct
{
  GPtrArray  *words;      /* lower-case free words */
  char       *event;
  char       *device;
  char       *notifier;
  char       *outcome;
  GPtrArray  *names;      /* lower-case event name per catalogue id, made once */
} Query;

static void
query_free (Query *q)
{
  g_ptr_array_unref (q->words);
  g_free (q->event);
  g_free (q->device);
  g_free (q->notifier);
  g_free (q->outcome);
  g_ptr_array_unref (q->names);
  g_free (q);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Query, query_free)

static Query *
query_parse (const char *text)
{
  g_autoptr(Query) q = g_new0 (Query, 1);
  g_autofree char *lower = g_ascii_strdown (text ? text : "", -1);
  g_auto(GStrv) tokens = g_strsplit_set (lower, " \t", -1);
  gboolean any = FALSE;

  q->words = g_ptr_array_new_with_free_func (g_free);
  q->names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; tokens[i] != NULL; i++)
    {
      static const char *const keys[] = { "event:", "device:", "notifier:", "outcome:" };
      char **slots[] = { &q->event, &q->device, &q->notifier, &q->outcome };
      const char *t = tokens[i];
      gboolean keyed = FALSE;

      if (*t == '\0')
        continue;
      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        if (g_str_has_prefix (t, keys[k]))
          {
            if (t[strlen (keys[k])] != '\0')
              {
                g_free (*slots[k]);
                *slots[k] = g_strdup (t + strlen (keys[k]));
                any = TRUE;
              }
            keyed = TRUE;
            break;
          }
      if (!keyed)
        {
          g_ptr_array_add (q->words, g_strdup (t));
          any = TRUE;
        }
    }
  return any ? g_steal_pointer (&q) : NULL;
}

/* ---- the list ----------------------------------------------------------- */

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
  Query            *query;
  char             *query_text;
  GArray           *matches;     /* guint64, with a query */
  guint64           scan_next;
  guint             scan_id;
  guint             n_rows;
  guint64           selected;    /* store index, G_MAXUINT64: none */
  gboolean          stick_to_end;
  guint             follow_id;
  GString          *scratch;
};

G_DEFINE_FINAL_TYPE (IovEventList, iov_event_list, GTK_TYPE_WIDGET)

enum { SHOW_IN_MAP, EVENT_SELECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

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
  IovEventRow *row;

  if (self->list == NULL || position >= self->list->n_rows)
    return NULL;
  index = iov_event_list_get_row_event (self->list, position);
  if (index == G_MAXUINT64)
    return NULL;
  row = g_object_new (IOV_TYPE_EVENT_ROW, NULL);
  row->index = index;
  return row;
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

/* ---- texts -------------------------------------------------------------- */

static const char *
event_name (IovEventList *self,
            guint         id)
{
  const char *name = self->catalog ? iov_trace_catalog_get_name (self->catalog, id) : NULL;

  return name ? name : "?";
}

static const char *
source_family (const char *name)
{
  static const struct { const char *prefix; const char *family; } families[] = {
    { "vtd_", "VT-d" },
    { "virtio_iommu_", "virtio-iommu" },
    { "amdvi_", "AMD-Vi" },
    { "smmuv3_", "SMMUv3" },
    { "vfio_", "VFIO" },
    { "vhost_", "vhost" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (families); i++)
    if (g_str_has_prefix (name, families[i].prefix))
      return families[i].family;
  return "QEMU";
}

static char *
hex (guint64 v)
{
  return g_strdup_printf ("0x%" G_GINT64_MODIFIER "x", v);
}

/* A decoded argument's value: the store keeps integers as numbers. */
static char *
value_text (const IovTraceArg *a)
{
  if (a->text != NULL)
    return g_strndup (a->text, a->len);
  switch (a->kind)
    {
    case IOV_TRACE_ARG_HEX:
      return hex (a->value);
    case IOV_TRACE_ARG_POINTER:
      return a->value ? hex (a->value) : g_strdup ("(nil)");
    case IOV_TRACE_ARG_OCTAL:
      return g_strdup_printf ("0%" G_GINT64_MODIFIER "o", a->value);
    case IOV_TRACE_ARG_SIGNED:
      return g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) a->value);
    case IOV_TRACE_ARG_UNSIGNED:
    case IOV_TRACE_ARG_CHAR:
    case IOV_TRACE_ARG_STRING:
    case IOV_TRACE_ARG_FLOAT:
    default:
      return g_strdup_printf ("%" G_GUINT64_FORMAT, a->value);
    }
}

/* The argument whose name is one of @names. */
static char *
arg_text (const IovTraceArg *args,
          guint              n_args,
          const char *const *names)
{
  for (guint k = 0; names[k] != NULL; k++)
    for (guint i = 0; i < n_args; i++)
      if (args[i].name != NULL && g_str_equal (args[i].name, names[k]))
        return value_text (&args[i]);
  return NULL;
}

static void
deliveries_of (IovEventList *self,
               guint64       index,
               guint64      *first,
               guint64      *end)
{
  *first = *end = 0;
  if (self->log != NULL)
    iov_delivery_log_find (self->log, index, index + 1, first, end);
}

static void
row_fill (IovEventList *self,
          IovEventRow  *row)
{
  IovEventRecord rec, first_rec;
  IovTraceArg args[IOV_TRACE_MAX_ARGS];
  guint n_args = 0;
  gboolean typed;
  guint64 d0, d1;
  const char *name;
  const char *device = NULL;
  g_autoptr(GString) notifiers = g_string_new (NULL);
  g_autoptr(GString) outcomes = g_string_new (NULL);
  g_autoptr(GPtrArray) seen = g_ptr_array_new ();

  if (row->text[COL_EVENT] != NULL || self->store == NULL ||
      !iov_event_store_get (self->store, row->index, &rec))
    return;
  iov_event_store_get (self->store, 0, &first_rec);
  name = event_name (self, rec.event_id);
  row->text[COL_TIME] = g_strdup_printf ("%.6f", (double) (rec.ts_ns - first_rec.ts_ns) / 1e9);
  row->text[COL_EVENT] = g_strdup (name);

  deliveries_of (self, row->index, &d0, &d1);
  for (guint64 i = d0; i < d1; i++)
    {
      const IovDelivery *d = iov_delivery_log_get (self->log, i, NULL);
      const char *word = iov_delivery_outcome_word (d);

      if (i == d0)
        {
          device = d->device;
          row->result = d->outcome.result;
          row->cropped = d->outcome.cropped;
          row->text[COL_IOVA] = hex (d->event.iova);
          row->text[COL_SIZE] = g_strdup_printf ("0x%" G_GINT64_MODIFIER "x", d->event.addr_mask);
        }
      if (d->notifier != NULL && !g_ptr_array_find (seen, d->notifier, NULL))
        {
          g_ptr_array_add (seen, (gpointer) d->notifier);
          if (seen->len <= 3)
            g_string_append_printf (notifiers, "%s%s", notifiers->len ? ", " : "", d->notifier->name);
        }
      if (strstr (outcomes->str, word) == NULL)
        g_string_append_printf (outcomes, "%s%s", outcomes->len ? ", " : "", word);
      if (d->outcome.result == IOV_RESULT_ABORT)
        row->result = IOV_RESULT_ABORT;
    }
  if (seen->len > 3)
    /* Translators: more notifiers than listed in the cell */
    g_string_append_printf (notifiers, _(" and %u more"), seen->len - 3);

  if (row->text[COL_IOVA] == NULL &&
      iov_event_store_get_args (self->store, row->index, args, &n_args, &typed))
    {
      static const char *const iova_names[] = { "iova", "addr", "virt_start", "start", "gpa", NULL };
      static const char *const size_names[] = { "mask", "am", "addr_mask", "size", "virt_end", "end", NULL };

      row->text[COL_IOVA] = arg_text (args, n_args, iova_names);
      row->text[COL_SIZE] = arg_text (args, n_args, size_names);
    }

  if (device != NULL)
    /* Translators: an event's source: the IOMMU family · the device's BDF */
    row->text[COL_SOURCE] = g_strdup_printf (_("%s · %s"), source_family (name), device);
  else
    row->text[COL_SOURCE] = g_strdup (source_family (name));
  row->text[COL_NOTIFIER] = g_string_free (g_steal_pointer (&notifiers), FALSE);
  row->text[COL_OUTCOME] = g_string_free (g_steal_pointer (&outcomes), FALSE);
  for (guint i = 0; i < N_COLUMNS; i++)
    if (row->text[i] == NULL)
      row->text[i] = g_strdup ("");
}

/* ---- matching ----------------------------------------------------------- */

/* A search looks at every event's name: lower-cased once per kind, not
 * once per event. */
static const char *
name_lower (IovEventList *self,
            Query        *q,
            guint         id)
{
  if (id >= q->names->len)
    g_ptr_array_set_size (q->names, id + 1);
  if (g_ptr_array_index (q->names, id) == NULL)
    g_ptr_array_index (q->names, id) = g_ascii_strdown (event_name (self, id), -1);
  return g_ptr_array_index (q->names, id);
}

static const char *
args_lower (IovEventList *self,
            guint64       index)
{
  g_string_truncate (self->scratch, 0);
  iov_event_store_render_args (self->store, index, self->scratch);
  for (gsize i = 0; i < self->scratch->len; i++)
    self->scratch->str[i] = g_ascii_tolower (self->scratch->str[i]);
  return self->scratch->str;
}

static gboolean
contains_lower (const char *haystack,
                const char *needle)
{
  g_autofree char *lower = NULL;

  if (haystack == NULL)
    return FALSE;
  lower = g_ascii_strdown (haystack, -1);
  return strstr (lower, needle) != NULL;
}

static gboolean
row_matches (IovEventList *self,
             Query        *q,
             guint64       index)
{
  IovEventRecord rec;
  const char *args = NULL;
  guint64 d0 = 0, d1 = 0;

  if (!iov_event_store_get (self->store, index, &rec) ||
      (q->event != NULL && strstr (name_lower (self, q, rec.event_id), q->event) == NULL))
    return FALSE;

  if (q->device != NULL || q->notifier != NULL || q->outcome != NULL)
    deliveries_of (self, index, &d0, &d1);

  if (q->notifier != NULL || q->outcome != NULL)
    {
      gboolean notifier_ok = q->notifier == NULL, outcome_ok = q->outcome == NULL;

      for (guint64 i = d0; i < d1; i++)
        {
          const IovDelivery *d = iov_delivery_log_get (self->log, i, NULL);
          const char *kind = d->kind == IOV_DELIVERY_OBSERVED ? "observed" : "inferred";

          if (!notifier_ok && d->notifier != NULL &&
              (contains_lower (d->notifier->name, q->notifier) || contains_lower (d->notifier->owner, q->notifier)))
            notifier_ok = TRUE;
          if (!outcome_ok && (strstr (iov_delivery_outcome_word (d), q->outcome) != NULL ||
                              strstr (kind, q->outcome) != NULL))
            outcome_ok = TRUE;
        }
      if (!notifier_ok || !outcome_ok)
        return FALSE;
    }

  if (q->device != NULL)
    {
      gboolean ok = FALSE;

      for (guint64 i = d0; i < d1 && !ok; i++)
        ok = contains_lower (iov_delivery_log_get (self->log, i, NULL)->device, q->device);
      if (!ok)
        {
          args = args_lower (self, index);
          ok = strstr (args, q->device) != NULL;
        }
      if (!ok)
        return FALSE;
    }

  for (guint w = 0; w < q->words->len; w++)
    {
      const char *word = g_ptr_array_index (q->words, w);

      if (strstr (name_lower (self, q, rec.event_id), word) != NULL)
        continue;
      if (args == NULL)
        args = args_lower (self, index);
      if (strstr (args, word) == NULL)
        return FALSE;
    }
  return TRUE;
}

/* ---- rows --------------------------------------------------------------- */

static void
update_count (IovEventList *self)
{
  guint64 total = self->end > self->first ? self->end - self->first : 0;
  g_autofree char *shown = g_strdup_printf ("%u", self->n_rows);
  g_autofree char *all = g_strdup_printf ("%" G_GUINT64_FORMAT, total);
  g_autofree char *text = NULL;

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
  if (self->stick_to_end && self->selected == G_MAXUINT64 && self->query == NULL && self->n_rows > 0 &&
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
        if (row_matches (self, self->query, self->scan_next))
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
show_inspector (IovEventList *self);

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
  if (self->query == NULL)
    set_n_rows (self, (guint) MIN (self->end - self->first, G_MAXUINT), TRUE);
  else
    {
      set_n_rows (self, 0, TRUE);
      ensure_scanning (self);
    }
  show_inspector (self);
}

guint64
iov_event_list_get_row_event (IovEventList *self,
                              guint         row)
{
  g_return_val_if_fail (IOV_IS_EVENT_LIST (self), G_MAXUINT64);

  if (row >= self->n_rows)
    return G_MAXUINT64;
  if (self->query != NULL)
    return row < self->matches->len ? g_array_index (self->matches, guint64, row) : G_MAXUINT64;
  return self->first + row;
}

/* ---- the inspector ------------------------------------------------------ */

static char *
explain_delivery (IovEventList      *self,
                  const IovDelivery *d)
{
  const IovNotifier *n = d->notifier;
  g_autofree char *ev_first = hex (d->event.iova);
  g_autofree char *ev_last = hex (d->event.iova + d->event.addr_mask);
  g_autofree char *got_first = hex (d->outcome.iova);
  g_autofree char *got_last = hex (d->outcome.iova + d->outcome.addr_mask);
  g_autofree char *n_first = n ? hex (n->start) : g_strdup ("?");
  g_autofree char *n_last = n ? hex (n->end) : g_strdup ("?");
  const char *who = n ? n->name : _("the IOMMU");
  const char *type = d->outcome.type & IOV_NOTIFIER_MAP ? "MAP"
                     : d->outcome.type & IOV_NOTIFIER_DEVIOTLB_UNMAP ? "DEVIOTLB_UNMAP" : "UNMAP";
  const char *evidence = d->kind == IOV_DELIVERY_OBSERVED ? _("observed in the trace") : _("inferred by the model");
  g_autofree char *what = NULL;

  switch ((IovResult) d->outcome.result)
    {
    case IOV_RESULT_DELIVERED:
      if (d->outcome.cropped)
        /* Translators: a delivery's explanation: notifier, type, ranges */
        what = g_strdup_printf (_("%s got %s [%s, %s], cropped: the event [%s, %s] reaches beyond its range "
                                  "[%s, %s] and this QEMU crops it"),
                                who, type, got_first, got_last, ev_first, ev_last, n_first, n_last);
      else
        what = g_strdup_printf (_("%s got %s [%s, %s]"), who, type, got_first, got_last);
      break;
    case IOV_RESULT_SKIPPED_RANGE:
      what = g_strdup_printf (_("%s skipped it: [%s, %s] does not overlap its range [%s, %s]"),
                              who, ev_first, ev_last, n_first, n_last);
      break;
    case IOV_RESULT_SKIPPED_FLAGS:
      what = g_strdup_printf (_("%s skipped it: it did not register for this kind of event"), who);
      break;
    case IOV_RESULT_ABORT:
    default:
      {
        g_autofree char *msg = self->profile ? iov_abort_message (self->profile, d->outcome.abort) : NULL;

        what = g_strdup_printf (_("QEMU aborts delivering it to %s: %s"), who, msg ? msg : _("assertion failed"));
        return g_steal_pointer (&what);
      }
    }
  return g_strdup_printf ("%s (%s)", what, evidence);
}

static char *
inspector_explanation (IovEventList *self,
                       guint64       index)
{
  g_autoptr(GString) out = g_string_new (NULL);
  guint64 d0, d1;

  deliveries_of (self, index, &d0, &d1);
  if (d0 == d1)
    return g_strdup (self->log == NULL
                     ? _("No model: without a snapshot of the VM's notifiers nothing is inferred.")
                     : _("No notifier is concerned: the model draws no delivery from this event."));
  if (self->profile != NULL)
    /* Translators: %s is a QEMU version profile, e.g. "QEMU 7.2 (Debian 12)" */
    g_string_append_printf (out, _("As %s dispatches it:"), self->profile->label);
  for (guint64 i = d0; i < d1; i++)
    {
      g_autofree char *line = explain_delivery (self, iov_delivery_log_get (self->log, i, NULL));

      g_string_append_printf (out, "%s• %s", out->len ? "\n" : "", line);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
show_inspector (IovEventList *self)
{
  IovEventRecord rec, first_rec;
  IovTraceArg args[IOV_TRACE_MAX_ARGS];
  guint n_args = 0;
  gboolean typed = FALSE;
  g_autoptr(GString) fields = g_string_new (NULL);
  g_autoptr(GString) raw = g_string_new (NULL);
  g_autofree char *explain = NULL;
  g_autofree char *time = NULL;
  const char *name;

  if (self->selected == G_MAXUINT64 || self->store == NULL ||
      !iov_event_store_get (self->store, self->selected, &rec))
    {
      gtk_stack_set_visible_child_name (self->inspector_stack, "empty");
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "event-list.show-in-map", FALSE);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "event-list.copy", FALSE);
      return;
    }
  iov_event_store_get (self->store, 0, &first_rec);
  name = event_name (self, rec.event_id);

  if (iov_event_store_get_args (self->store, self->selected, args, &n_args, &typed) && typed)
    for (guint i = 0; i < n_args; i++)
      {
        g_autofree char *value = value_text (&args[i]);

        g_string_append_printf (fields, "%s%s = %s", i ? "\n" : "", args[i].name ? args[i].name : "?", value);
      }
  if (fields->len == 0)
    g_string_append (fields, _("(not decoded: the event is not in QEMU's trace-events catalogue)"));
  g_string_append_printf (raw, "%s ", name);
  iov_event_store_render_args (self->store, self->selected, raw);
  explain = inspector_explanation (self, self->selected);
  /* Translators: the inspector's time line: seconds since the first event, index */
  time = g_strdup_printf (_("%.6f s after the first event · event %llu"),
                          (double) (rec.ts_ns - first_rec.ts_ns) / 1e9,
                          (unsigned long long) self->selected + 1);

  gtk_label_set_text (self->title_label, name);
  gtk_label_set_text (self->time_label, time);
  gtk_label_set_text (self->fields_label, fields->str);
  gtk_label_set_text (self->raw_label, raw->str);
  gtk_label_set_text (self->explain_label, explain);
  gtk_stack_set_visible_child_name (self->inspector_stack, "event");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "event-list.show-in-map", TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "event-list.copy", TRUE);
}

char *
iov_event_list_dup_inspector_text (IovEventList *self)
{
  g_return_val_if_fail (IOV_IS_EVENT_LIST (self), NULL);

  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->inspector_stack), "event") != 0)
    return NULL;
  return g_strjoin ("\n", gtk_label_get_text (self->title_label), gtk_label_get_text (self->time_label),
                    gtk_label_get_text (self->fields_label), gtk_label_get_text (self->raw_label),
                    gtk_label_get_text (self->explain_label), NULL);
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
  show_inspector (self);
  g_signal_emit (self, signals[EVENT_SELECTED], 0, self->selected);
}

/* ---- cells -------------------------------------------------------------- */

/* Cells are GtkInscriptions (GTK 4.8): they do not measure their text,
 * which is what a list whose rows change many times a second needs. */
static void
cell_setup_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *list_item,
               gpointer                  user_data)
{
  GtkWidget *cell = gtk_inscription_new (NULL);
  guint column = GPOINTER_TO_UINT (user_data);

  gtk_inscription_set_xalign (GTK_INSCRIPTION (cell), column == COL_TIME ? 1 : 0);
  gtk_inscription_set_text_overflow (GTK_INSCRIPTION (cell), GTK_INSCRIPTION_OVERFLOW_ELLIPSIZE_END);
  gtk_inscription_set_nat_chars (GTK_INSCRIPTION (cell), 8);
  if (column == COL_TIME || column == COL_IOVA || column == COL_SIZE)
    gtk_widget_add_css_class (cell, "numeric");
  if (column == COL_IOVA || column == COL_SIZE)
    gtk_widget_add_css_class (cell, "monospace");
  gtk_list_item_set_child (list_item, cell);
}

static void
cell_bind_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item,
              gpointer                  user_data)
{
  GtkWidget *cell = gtk_list_item_get_child (list_item);
  IovEventRow *row = gtk_list_item_get_item (list_item);
  guint column = GPOINTER_TO_UINT (user_data);
  IovEventList *self = g_object_get_data (G_OBJECT (factory), "list");
  static const char *const classes[] = { "error", "accent", "success", "dim-label" };
  const char *text;

  row_fill (self, row);
  text = row->text[column] ? row->text[column] : "";
  gtk_inscription_set_text (GTK_INSCRIPTION (cell), text);
  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    gtk_widget_remove_css_class (cell, classes[i]);
  if (column == COL_OUTCOME && row->result != G_MAXUINT8)
    {
      if (row->result == IOV_RESULT_ABORT)
        gtk_widget_add_css_class (cell, "error");
      else if (row->result == IOV_RESULT_DELIVERED && row->cropped)
        gtk_widget_add_css_class (cell, "accent");
      else if (row->result == IOV_RESULT_DELIVERED)
        gtk_widget_add_css_class (cell, "success");
      else
        gtk_widget_add_css_class (cell, "dim-label");
    }
}

char *
iov_event_list_dup_cell_text (IovEventList *self,
                              guint         row,
                              guint         column)
{
  g_autoptr(IovEventRow) item = NULL;

  g_return_val_if_fail (IOV_IS_EVENT_LIST (self), NULL);
  g_return_val_if_fail (column < N_COLUMNS, NULL);

  item = g_list_model_get_item (self->rows, row);
  if (item == NULL)
    return NULL;
  row_fill (self, item);
  return g_strdup (item->text[column]);
}

static void
setup_columns (IovEventList *self)
{
  const char *titles[N_COLUMNS] = {
    [COL_TIME] = _("Time (s)"),
    [COL_SOURCE] = _("Source"),
    [COL_EVENT] = _("Event"),
    [COL_IOVA] = _("IOVA"),
    [COL_SIZE] = _("Mask / Size"),
    [COL_NOTIFIER] = _("Notifier"),
    [COL_OUTCOME] = _("Outcome"),
  };
  const int widths[N_COLUMNS] = { 90, 160, 210, 110, 80, 130, 110 };

  for (guint i = 0; i < N_COLUMNS; i++)
    {
      GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
      g_autoptr(GtkColumnViewColumn) column = NULL;

      g_object_set_data (G_OBJECT (factory), "list", self);
      g_signal_connect (factory, "setup", G_CALLBACK (cell_setup_cb), GUINT_TO_POINTER (i));
      g_signal_connect (factory, "bind", G_CALLBACK (cell_bind_cb), GUINT_TO_POINTER (i));
      column = gtk_column_view_column_new (titles[i], factory);
      gtk_column_view_column_set_resizable (column, TRUE);
      gtk_column_view_column_set_fixed_width (column, widths[i]);
      gtk_column_view_column_set_expand (column, i == COL_OUTCOME);
      gtk_column_view_append_column (self->column_view, column);
    }
}

/* ---- actions ------------------------------------------------------------ */

static void
show_in_map_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  IovEventList *self = IOV_EVENT_LIST (widget);
  guint64 d0, d1;
  const char *device = NULL;
  guint64 iova = 0, mask = G_MAXUINT64;

  if (self->selected == G_MAXUINT64)
    return;
  deliveries_of (self, self->selected, &d0, &d1);
  if (d0 < d1)
    {
      const IovDelivery *d = iov_delivery_log_get (self->log, d0, NULL);

      device = d->device;
      iova = d->event.iova;
      mask = d->event.addr_mask;
    }
  else
    {
      g_autoptr(IovEventRow) row = g_object_new (IOV_TYPE_EVENT_ROW, NULL);

      /* not an invalidation the model followed: its printed address, if any */
      row->index = self->selected;
      row_fill (self, row);
      if (row->text[COL_IOVA] != NULL && row->text[COL_IOVA][0] != '\0')
        {
          iova = g_ascii_strtoull (row->text[COL_IOVA], NULL, 16);
          mask = 0xfff;
        }
    }
  g_signal_emit (self, signals[SHOW_IN_MAP], 0, device, iova, mask);
}

static void
copy_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  IovEventList *self = IOV_EVENT_LIST (widget);
  g_autoptr(IovEventRow) row = NULL;
  g_autoptr(GString) text = g_string_new (NULL);

  if (self->selected == G_MAXUINT64)
    return;
  row = g_object_new (IOV_TYPE_EVENT_ROW, NULL);
  row->index = self->selected;
  row_fill (self, row);
  for (guint i = 0; i < N_COLUMNS; i++)
    g_string_append_printf (text, "%s%s", i ? "\t" : "", row->text[i] ? row->text[i] : "");
  g_string_append_c (text, '\n');
  g_string_append (text, gtk_label_get_text (self->raw_label));
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), text->str);
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
    g_ptr_array_set_size (self->query->names, 0);
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
  if (self->query == NULL)
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

  if (self->query == NULL)
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
  if (self->query != NULL &&
      (self->query->device != NULL || self->query->notifier != NULL || self->query->outcome != NULL) &&
      first_event < self->scan_next)
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
  g_clear_pointer (&self->query, query_free);
  self->query = query_parse (query);
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

  g_clear_pointer (&self->query, query_free);
  g_clear_pointer (&self->query_text, g_free);
  g_clear_pointer (&self->matches, g_array_unref);
  g_string_free (self->scratch, TRUE);

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

  gtk_widget_class_install_action (widget_class, "event-list.show-in-map", NULL, show_in_map_action);
  gtk_widget_class_install_action (widget_class, "event-list.copy", NULL, copy_action);
  gtk_widget_class_install_action (widget_class, "event-list.focus-search", NULL, focus_search_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_c, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "event-list.copy", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_m, GDK_CONTROL_MASK, "event-list.show-in-map", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "event-list.focus-search", NULL);
}

static void
iov_event_list_init (IovEventList *self)
{
  IovEventRows *rows;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->matches = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->scratch = g_string_new (NULL);
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
  setup_columns (self);
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
  show_inspector (self);
  update_count (self);
}
