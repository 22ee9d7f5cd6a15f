/* iov-connect-dialog.c — where the QMP socket and the trace are
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

#define G_LOG_DOMAIN "iov-connect-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "iov-connect-dialog.h"
#include "iov-trace-reader.h"

#define MAX_RECENT 8

enum {
  TRACE_NONE,
  TRACE_FILE,
  TRACE_FIFO,
  TRACE_UNIX,
};

struct _IovConnectDialog
{
  AdwMessageDialog  parent_instance;

  AdwEntryRow      *address_row;
  AdwComboRow      *trace_kind_row;
  AdwEntryRow      *trace_path_row;
  GtkWidget        *fifo_button;
  GtkLabel         *hint_label;
  GtkWidget        *recent_label;
  GtkListBox       *recent_list;
};

G_DEFINE_FINAL_TYPE (IovConnectDialog, iov_connect_dialog, ADW_TYPE_MESSAGE_DIALOG)

const char *
iov_connect_dialog_get_address (IovConnectDialog *self)
{
  g_return_val_if_fail (IOV_IS_CONNECT_DIALOG (self), NULL);
  return gtk_editable_get_text (GTK_EDITABLE (self->address_row));
}

char *
iov_connect_dialog_dup_trace_source (IovConnectDialog *self)
{
  const char *path;

  g_return_val_if_fail (IOV_IS_CONNECT_DIALOG (self), NULL);

  path = gtk_editable_get_text (GTK_EDITABLE (self->trace_path_row));
  if (path == NULL || path[0] == '\0')
    return NULL;
  switch (adw_combo_row_get_selected (self->trace_kind_row))
    {
    case TRACE_FILE:
      return g_strdup (path);
    case TRACE_FIFO:
      return g_strconcat ("fifo:", path, NULL);
    case TRACE_UNIX:
      return g_strconcat ("unix:", path, NULL);
    case TRACE_NONE:
    default:
      return NULL;
    }
}

void
iov_connect_dialog_remember (GSettings  *settings,
                             const char *address)
{
  g_auto(GStrv) old = NULL;
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) recent = NULL;
  guint n = 1;

  g_return_if_fail (G_IS_SETTINGS (settings));
  g_return_if_fail (address != NULL);

  old = g_settings_get_strv (settings, "recent-connections");
  builder = g_strv_builder_new ();
  g_strv_builder_add (builder, address);
  for (guint i = 0; old[i] != NULL && n < MAX_RECENT; i++)
    if (g_strcmp0 (old[i], address) != 0)
      {
        g_strv_builder_add (builder, old[i]);
        n++;
      }
  recent = g_strv_builder_end (builder);
  g_settings_set_strv (settings, "recent-connections", (const char * const *) recent);
}

static void
update_hint (IovConnectDialog *self)
{
  guint kind = adw_combo_row_get_selected (self->trace_kind_row);
  const char *path = gtk_editable_get_text (GTK_EDITABLE (self->trace_path_row));
  g_autofree char *hint = NULL;

  if ((kind == TRACE_FIFO || kind == TRACE_FILE) && path != NULL && path[0] != '\0')
    /* Translators: %s is the trace's path; the rest is QEMU's command line */
    hint = g_strdup_printf (_("Add to QEMU's command line: -msg timestamp=on -trace 'vtd_*',file=%s"), path);
  else if (kind == TRACE_UNIX && path != NULL && path[0] != '\0')
    hint = g_strdup_printf (_("Iovista listens at %s; send QEMU's trace (stderr) there, e.g. with "
                              "-msg timestamp=on -trace 'vtd_*' 2>&1 >/dev/null | socat - UNIX-CONNECT:%s"),
                            path, path);
  gtk_label_set_text (self->hint_label, hint ? hint : "");
  gtk_widget_set_visible (GTK_WIDGET (self->hint_label), hint != NULL);
}

static void
address_changed_cb (IovConnectDialog *self,
                    GtkEditable      *editable)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (editable)));

  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "connect", text[0] != '\0');
}

static void
trace_kind_changed_cb (IovConnectDialog *self,
                       GParamSpec       *pspec,
                       AdwComboRow      *row)
{
  guint kind = adw_combo_row_get_selected (row);

  gtk_widget_set_sensitive (GTK_WIDGET (self->trace_path_row), kind != TRACE_NONE);
  gtk_widget_set_visible (self->fifo_button, kind == TRACE_FIFO);
  update_hint (self);
}

static void
trace_path_changed_cb (IovConnectDialog *self,
                       GtkEditable      *editable)
{
  update_hint (self);
}

static void
fifo_clicked_cb (IovConnectDialog *self,
                 GtkButton        *button)
{
  g_autofree char *path = iov_trace_reader_default_fifo_path ();

  /* The reader creates the FIFO when it opens it (fifo:PATH). */
  gtk_editable_set_text (GTK_EDITABLE (self->trace_path_row), path);
  update_hint (self);
}

static void
recent_activated_cb (IovConnectDialog *self,
                     GtkListBoxRow    *row,
                     GtkListBox       *list)
{
  const char *address = g_object_get_data (G_OBJECT (row), "address");

  if (address != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->address_row), address);
}

static void
populate_recent (IovConnectDialog *self,
                 GSettings        *settings)
{
  g_auto(GStrv) recent = settings ? g_settings_get_strv (settings, "recent-connections") : NULL;
  guint n = recent ? g_strv_length (recent) : 0;

  for (guint i = 0; i < n; i++)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), recent[i]);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      g_object_set_data_full (G_OBJECT (row), "address", g_strdup (recent[i]), g_free);
      gtk_list_box_append (self->recent_list, row);
    }
  gtk_widget_set_visible (self->recent_label, n > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->recent_list), n > 0);
  if (n > 0)
    gtk_editable_set_text (GTK_EDITABLE (self->address_row), recent[0]);
}

IovConnectDialog *
iov_connect_dialog_new (GtkWindow *parent,
                        GSettings *settings)
{
  IovConnectDialog *self = g_object_new (IOV_TYPE_CONNECT_DIALOG,
                                         "transient-for", parent,
                                         "modal", TRUE,
                                         NULL);

  populate_recent (self, settings);
  address_changed_cb (self, GTK_EDITABLE (self->address_row));
  return self;
}

static void
iov_connect_dialog_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), IOV_TYPE_CONNECT_DIALOG);
  G_OBJECT_CLASS (iov_connect_dialog_parent_class)->dispose (object);
}

static void
iov_connect_dialog_class_init (IovConnectDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = iov_connect_dialog_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/iovista/Iovista/iov-connect-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, address_row);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, trace_kind_row);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, trace_path_row);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, fifo_button);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, hint_label);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, recent_label);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, recent_list);
  gtk_widget_class_bind_template_callback (widget_class, address_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, trace_kind_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, trace_path_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, fifo_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, recent_activated_cb);
}

static void
iov_connect_dialog_init (IovConnectDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
