/* iov-event-list-inspector.c — the selected event, and what can be done with it
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
#include "iov-explain.h"

/* ---- the inspector ------------------------------------------------------ */

void
_iov_event_list_show_inspector (IovEventList *self)
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
  name = _iov_event_list_event_name (self, rec.event_id);

  if (iov_event_store_get_args (self->store, self->selected, args, &n_args, &typed) && typed)
    for (guint i = 0; i < n_args; i++)
      {
        g_autofree char *value = _iov_event_list_value_text (&args[i]);

        g_string_append_printf (fields, "%s%s = %s", i ? "\n" : "", args[i].name ? args[i].name : "?", value);
      }
  if (fields->len == 0)
    g_string_append (fields, _("(not decoded: the event is not in QEMU's trace-events catalogue)"));
  g_string_append_printf (raw, "%s ", name);
  iov_event_store_render_args (self->store, self->selected, raw);
  explain = iov_explain_event (self->log, self->selected, self->profile);
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
  _iov_event_list_deliveries_of (self, self->selected, &d0, &d1);
  if (d0 < d1)
    {
      const IovDelivery *d = iov_delivery_log_get (self->log, d0, NULL);

      device = d->device;
      iova = d->event.iova;
      mask = d->event.addr_mask;
    }
  else
    {
      g_autoptr(IovEventRow) row = _iov_event_row_new (self->selected);

      /* not an invalidation the model followed: its printed address, if any */
      _iov_event_list_fill_row (self, row);
      if (row->text[COL_IOVA] != NULL && row->text[COL_IOVA][0] != '\0')
        {
          iova = g_ascii_strtoull (row->text[COL_IOVA], NULL, 16);
          mask = 0xfff;
        }
    }
  g_signal_emit_by_name (self, "show-in-map", device, iova, mask);
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
  row = _iov_event_row_new (self->selected);
  _iov_event_list_fill_row (self, row);
  for (guint i = 0; i < N_COLUMNS; i++)
    g_string_append_printf (text, "%s%s", i ? "\t" : "", row->text[i] ? row->text[i] : "");
  g_string_append_c (text, '\n');
  g_string_append (text, gtk_label_get_text (self->raw_label));
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), text->str);
}

void
_iov_event_list_class_init_inspector (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "event-list.show-in-map", NULL, show_in_map_action);
  gtk_widget_class_install_action (widget_class, "event-list.copy", NULL, copy_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_c, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "event-list.copy", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_m, GDK_CONTROL_MASK, "event-list.show-in-map", NULL);
}
