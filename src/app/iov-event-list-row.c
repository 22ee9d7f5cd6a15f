/* iov-event-list-row.c — a row's texts, and the cells that show them
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

#include "iov-event-list-private.h"
#include "iov-explain.h"
#include "iov-step-view.h"

/* ---- a row -------------------------------------------------------------- */

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

IovEventRow *
_iov_event_row_new (guint64 index)
{
  IovEventRow *row = g_object_new (IOV_TYPE_EVENT_ROW, NULL);

  row->index = index;
  return row;
}

/* ---- texts -------------------------------------------------------------- */

const char *
_iov_event_list_event_name (IovEventList *self,
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

/* A decoded argument's value: the store keeps integers as numbers. */
char *
_iov_event_list_value_text (const IovTraceArg *a)
{
  if (a->text != NULL)
    return g_strndup (a->text, a->len);
  switch (a->kind)
    {
    case IOV_TRACE_ARG_HEX:
      return iov_hex (a->value);
    case IOV_TRACE_ARG_POINTER:
      return a->value ? iov_hex (a->value) : g_strdup ("(nil)");
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
        return _iov_event_list_value_text (&args[i]);
  return NULL;
}

void
_iov_event_list_deliveries_of (IovEventList *self,
                               guint64       index,
                               guint64      *first,
                               guint64      *end)
{
  *first = *end = 0;
  if (self->log != NULL)
    iov_delivery_log_find (self->log, index, index + 1, first, end);
}

void
_iov_event_list_fill_row (IovEventList *self,
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
  name = _iov_event_list_event_name (self, rec.event_id);
  row->text[COL_TIME] = g_strdup_printf ("%.6f", (double) (rec.ts_ns - first_rec.ts_ns) / 1e9);
  row->text[COL_EVENT] = g_strdup (name);

  _iov_event_list_deliveries_of (self, row->index, &d0, &d1);
  for (guint64 i = d0; i < d1; i++)
    {
      const IovDelivery *d = iov_delivery_log_get (self->log, i, NULL);
      const char *word = iov_delivery_outcome_word (d);

      if (i == d0)
        {
          device = d->device;
          row->result = d->outcome.result;
          row->cropped = d->outcome.cropped;
          row->text[COL_IOVA] = iov_hex (d->event.iova);
          row->text[COL_SIZE] = iov_hex (d->event.addr_mask);
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

  _iov_event_list_fill_row (self, row);
  gtk_inscription_set_text (GTK_INSCRIPTION (cell), row->text[column] ? row->text[column] : "");
  /* an event without deliveries has an empty outcome: no tone to see */
  if (column == COL_OUTCOME)
    iov_step_view_set_tone (cell, row->result == G_MAXUINT8 ? IOV_TONE_NEUTRAL
                                                            : iov_explain_outcome_tone (row->result, row->cropped));
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
  _iov_event_list_fill_row (self, item);
  return g_strdup (item->text[column]);
}

void
_iov_event_list_setup_columns (IovEventList *self)
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
