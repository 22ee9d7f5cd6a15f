/* iov-outcome-list.c
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

#define G_LOG_DOMAIN "iov-outcome-list"

#include "config.h"

#include <glib/gi18n.h>

#include "iov-outcome-list.h"
#include "iov-what-if.h"

/* One row, packed: strings are built only when an item is asked for. */
typedef struct
{
  gint32   event;         /* -1: none */
  gint32   notifier;      /* index into names, -1: none */
  guint8   result;        /* IovResult, or G_MAXUINT8: nobody visited */
  guint8   type;
  guint8   cropped;
  guint64  iova;
  guint64  addr_mask;
} Row;

#define RESULT_UNVISITED G_MAXUINT8

struct _IovOutcomeItem
{
  GObject    parent_instance;
  char      *text[IOV_OUTCOME_N_COLUMNS];
  IovResult  result;
  gboolean   cropped;
};

G_DEFINE_FINAL_TYPE (IovOutcomeItem, iov_outcome_item, G_TYPE_OBJECT)

static void
iov_outcome_item_finalize (GObject *object)
{
  IovOutcomeItem *self = IOV_OUTCOME_ITEM (object);

  for (guint i = 0; i < IOV_OUTCOME_N_COLUMNS; i++)
    g_free (self->text[i]);
  G_OBJECT_CLASS (iov_outcome_item_parent_class)->finalize (object);
}

static void
iov_outcome_item_class_init (IovOutcomeItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = iov_outcome_item_finalize;
}

static void
iov_outcome_item_init (IovOutcomeItem *self)
{
}

const char *
iov_outcome_item_get_text (IovOutcomeItem   *self,
                           IovOutcomeColumn  column)
{
  g_return_val_if_fail (IOV_IS_OUTCOME_ITEM (self), NULL);
  g_return_val_if_fail (column < IOV_OUTCOME_N_COLUMNS, NULL);
  return self->text[column] ? self->text[column] : "";
}

IovResult
iov_outcome_item_get_result (IovOutcomeItem *self)
{
  g_return_val_if_fail (IOV_IS_OUTCOME_ITEM (self), IOV_RESULT_DELIVERED);
  return self->result;
}

gboolean
iov_outcome_item_get_cropped (IovOutcomeItem *self)
{
  g_return_val_if_fail (IOV_IS_OUTCOME_ITEM (self), FALSE);
  return self->cropped;
}

struct _IovOutcomeList
{
  GObject     parent_instance;
  GArray     *rows;       /* Row */
  GArray     *events;     /* IovTlbEvent, effective types */
  GPtrArray  *names;      /* char*: "owner name" per notifier */
  GPtrArray  *messages;   /* char*: QEMU's text per abort row, by row index or NULL */
};

static GType
iov_outcome_list_get_item_type (GListModel *model)
{
  return IOV_TYPE_OUTCOME_ITEM;
}

static guint
iov_outcome_list_get_n_items (GListModel *model)
{
  return IOV_OUTCOME_LIST (model)->rows->len;
}

static const char *
type_name (guint type)
{
  switch (type)
    {
    case IOV_NOTIFIER_MAP:
      return "▲ MAP";
    case IOV_NOTIFIER_UNMAP:
      return "▼ UNMAP";
    case IOV_NOTIFIER_DEVIOTLB_UNMAP:
      return "◆ DEVIOTLB_UNMAP";
    default:
      return "•";
    }
}

static char *
format_size (guint64 addr_mask)
{
  g_autofree char *size = NULL;

  if (addr_mask == G_MAXUINT64)
    size = g_strdup ("16 EiB");
  else
    size = g_format_size_full (addr_mask + 1, G_FORMAT_SIZE_IEC_UNITS);
  return g_strdup_printf ("0x%" G_GINT64_MODIFIER "x (%s)", addr_mask, size);
}

static char *
format_range (guint64 iova,
              guint64 addr_mask)
{
  guint64 last = iova + addr_mask;

  if (last < iova)
    last = G_MAXUINT64;
  return g_strdup_printf ("0x%" G_GINT64_MODIFIER "x – 0x%" G_GINT64_MODIFIER "x", iova, last);
}

static gpointer
iov_outcome_list_get_item (GListModel *model,
                           guint       position)
{
  IovOutcomeList *self = IOV_OUTCOME_LIST (model);
  const Row *row;
  const IovTlbEvent *e = NULL;
  IovOutcomeItem *item;

  if (position >= self->rows->len)
    return NULL;

  row = &g_array_index (self->rows, Row, position);
  if (row->event >= 0)
    e = &g_array_index (self->events, IovTlbEvent, row->event);

  item = g_object_new (IOV_TYPE_OUTCOME_ITEM, NULL);
  item->result = row->result == RESULT_UNVISITED ? IOV_RESULT_SKIPPED_RANGE : row->result;
  item->cropped = row->cropped;

  if (e != NULL)
    {
      item->text[IOV_OUTCOME_COLUMN_EVENT] = g_strdup_printf ("%d  %s", row->event + 1, type_name (e->type));
      item->text[IOV_OUTCOME_COLUMN_IOVA] = g_strdup_printf ("0x%" G_GINT64_MODIFIER "x", e->iova);
      item->text[IOV_OUTCOME_COLUMN_SIZE] = format_size (e->addr_mask);
    }
  else
    item->text[IOV_OUTCOME_COLUMN_EVENT] = g_strdup ("—");

  item->text[IOV_OUTCOME_COLUMN_NOTIFIER] = g_strdup (row->notifier >= 0 ? g_ptr_array_index (self->names, row->notifier)
                                                                       : "—");

  switch (row->result)
    {
    case IOV_RESULT_DELIVERED:
      {
        g_autofree char *range = format_range (row->iova, row->addr_mask);

        item->text[IOV_OUTCOME_COLUMN_OUTCOME] = g_strdup (row->cropped ? _("delivered, cropped") : _("delivered"));
        item->text[IOV_OUTCOME_COLUMN_DELIVERED] = g_steal_pointer (&range);
      }
      break;
    case IOV_RESULT_SKIPPED_RANGE:
      item->text[IOV_OUTCOME_COLUMN_OUTCOME] = g_strdup (_("skipped: range"));
      break;
    case IOV_RESULT_SKIPPED_FLAGS:
      item->text[IOV_OUTCOME_COLUMN_OUTCOME] = g_strdup (_("skipped: flags"));
      break;
    case IOV_RESULT_ABORT:
      item->text[IOV_OUTCOME_COLUMN_OUTCOME] = g_strdup (_("QEMU aborts"));
      item->text[IOV_OUTCOME_COLUMN_DELIVERED] = g_strdup (g_ptr_array_index (self->messages, position));
      break;
    case RESULT_UNVISITED:
    default:
      item->text[IOV_OUTCOME_COLUMN_OUTCOME] = g_strdup (_("no notifier to visit"));
      break;
    }

  return item;
}

static void
iov_outcome_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = iov_outcome_list_get_item_type;
  iface->get_n_items = iov_outcome_list_get_n_items;
  iface->get_item = iov_outcome_list_get_item;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (IovOutcomeList, iov_outcome_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, iov_outcome_list_model_init))

static void
iov_outcome_list_finalize (GObject *object)
{
  IovOutcomeList *self = IOV_OUTCOME_LIST (object);

  g_clear_pointer (&self->rows, g_array_unref);
  g_clear_pointer (&self->events, g_array_unref);
  g_clear_pointer (&self->names, g_ptr_array_unref);
  g_clear_pointer (&self->messages, g_ptr_array_unref);
  G_OBJECT_CLASS (iov_outcome_list_parent_class)->finalize (object);
}

static void
iov_outcome_list_class_init (IovOutcomeListClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = iov_outcome_list_finalize;
}

static void
iov_outcome_list_init (IovOutcomeList *self)
{
  self->rows = g_array_new (FALSE, FALSE, sizeof (Row));
  self->events = g_array_new (FALSE, FALSE, sizeof (IovTlbEvent));
  self->names = g_ptr_array_new_with_free_func (g_free);
  self->messages = g_ptr_array_new_with_free_func (g_free);
}

IovOutcomeList *
iov_outcome_list_new (void)
{
  return g_object_new (IOV_TYPE_OUTCOME_LIST, NULL);
}

static int
name_index (IovOutcomeList    *self,
            GPtrArray         *seen,
            const IovNotifier *notifier)
{
  guint index;

  if (notifier == NULL)
    return -1;
  if (g_ptr_array_find (seen, notifier, &index))
    return (int) index;
  g_ptr_array_add (seen, (gpointer) notifier);
  g_ptr_array_add (self->names, g_strdup_printf ("%s %s", notifier->owner ? notifier->owner : "",
                                                 notifier->name));
  return (int) seen->len - 1;
}

void
iov_outcome_list_set_step (IovOutcomeList      *self,
                           const IovStepResult *step,
                           const IovProfile    *profile)
{
  g_autoptr(GPtrArray) seen = g_ptr_array_new ();
  g_autofree gboolean *visited = NULL;
  guint removed;

  g_return_if_fail (IOV_IS_OUTCOME_LIST (self));

  removed = self->rows->len;
  g_array_set_size (self->rows, 0);
  g_array_set_size (self->events, 0);
  g_ptr_array_set_size (self->names, 0);
  g_ptr_array_set_size (self->messages, 0);

  if (step != NULL && !step->not_run && step->events != NULL && step->outcomes != NULL)
    {
      visited = g_new0 (gboolean, step->events->len + 1);
      for (guint i = 0; i < step->events->len; i++)
        {
          IovTlbEvent e = g_array_index (step->events, IovTlbEvent, i);

          e.type = iov_event_effective_type (profile, &e);
          g_array_append_val (self->events, e);
        }

      /* Outcomes in dispatch order; an event nobody was visited for gets
       * a row of its own where it would have been. */
      for (guint i = 0; i < step->outcomes->len; i++)
        {
          const IovOutcome *o = &g_array_index (step->outcomes, IovOutcome, i);
          Row row = { o->event < (gint32) step->events->len ? o->event : -1,
                      name_index (self, seen, o->notifier),
                      o->result, o->type, o->cropped, o->iova, o->addr_mask };

          for (gint32 e = 0; e < row.event; e++)
            if (!visited[e])
              {
                Row none = { e, -1, RESULT_UNVISITED, 0, 0, 0, 0 };

                visited[e] = TRUE;
                g_array_append_val (self->rows, none);
                g_ptr_array_add (self->messages, NULL);
              }
          if (row.event >= 0)
            visited[row.event] = TRUE;
          g_array_append_val (self->rows, row);
          g_ptr_array_add (self->messages,
                           o->result == IOV_RESULT_ABORT ? iov_outcome_message (step, profile, o) : NULL);
        }
      for (guint e = 0; e < step->events->len; e++)
        if (!visited[e])
          {
            Row none = { (gint32) e, -1, RESULT_UNVISITED, 0, 0, 0, 0 };

            g_array_append_val (self->rows, none);
            g_ptr_array_add (self->messages, NULL);
          }
    }

  g_list_model_items_changed (G_LIST_MODEL (self), 0, removed, self->rows->len);
}
