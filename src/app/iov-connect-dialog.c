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
#include "iov-relay-client.h"
#include "iov-trace-control.h"
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
  AdwComboRow      *preset_row;
  AdwComboRow      *relay_preset_row;
  GtkWidget        *fifo_button;
  GtkLabel         *hint_label;
  GtkWidget        *recent_label;
  GtkListBox       *recent_list;

  /* Remote relay */
  GtkStack         *mode_stack;
  AdwEntryRow      *relay_url_row;
  AdwEntryRow      *token_row;
  GtkWidget        *list_button;
  AdwComboRow      *vm_row;
  GtkStringList    *vm_list;
  GtkLabel         *relay_label;

  char             *relay_address;
  GCancellable     *list_cancellable;
};

G_DEFINE_FINAL_TYPE (IovConnectDialog, iov_connect_dialog, ADW_TYPE_MESSAGE_DIALOG)

static gboolean
is_relay (IovConnectDialog *self)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (self->mode_stack), "relay") == 0;
}

/* The relay's URL without white space or a trailing slash. */
static char *
dup_relay_url (IovConnectDialog *self)
{
  char *url = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->relay_url_row))));
  gsize len = strlen (url);

  while (len > 0 && url[len - 1] == '/')
    url[--len] = '\0';
  return url;
}

static const char *
selected_vm (IovConnectDialog *self)
{
  guint selected = adw_combo_row_get_selected (self->vm_row);

  if (selected == GTK_INVALID_LIST_POSITION ||
      selected >= g_list_model_get_n_items (G_LIST_MODEL (self->vm_list)))
    return NULL;
  return gtk_string_list_get_string (self->vm_list, selected);
}

const char *
iov_connect_dialog_get_address (IovConnectDialog *self)
{
  g_autofree char *url = NULL;
  const char *vm;

  g_return_val_if_fail (IOV_IS_CONNECT_DIALOG (self), NULL);

  if (!is_relay (self))
    return gtk_editable_get_text (GTK_EDITABLE (self->address_row));
  url = dup_relay_url (self);
  vm = selected_vm (self);
  g_free (self->relay_address);
  self->relay_address = vm != NULL ? g_strconcat (url, "/", vm, NULL) : g_strdup ("");
  return self->relay_address;
}

const char *
iov_connect_dialog_get_token (IovConnectDialog *self)
{
  g_return_val_if_fail (IOV_IS_CONNECT_DIALOG (self), NULL);

  if (!is_relay (self))
    return NULL;
  return gtk_editable_get_text (GTK_EDITABLE (self->token_row));
}

GListModel *
iov_connect_dialog_get_vms (IovConnectDialog *self)
{
  g_return_val_if_fail (IOV_IS_CONNECT_DIALOG (self), NULL);
  return G_LIST_MODEL (self->vm_list);
}

static void
update_response (IovConnectDialog *self)
{
  g_autofree char *text = g_strstrip (g_strdup (iov_connect_dialog_get_address (self)));

  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "connect", text[0] != '\0');
}

static void
set_vms (IovConnectDialog   *self,
         const char * const *names)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->vm_list));

  gtk_string_list_splice (self->vm_list, 0, n, names);
  if (names != NULL && names[0] != NULL)
    adw_combo_row_set_selected (self->vm_row, 0);
  update_response (self);
}

static void
list_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  IovRelayClient *client = IOV_RELAY_CLIENT (source);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = iov_relay_client_list_vms_finish (client, result, &error);
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) names = NULL;
  IovConnectDialog *self;
  JsonArray *vms = NULL;
  g_autofree char *text = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = IOV_CONNECT_DIALOG (user_data);
  gtk_widget_set_sensitive (self->list_button, TRUE);
  if (root == NULL)
    {
      gtk_label_set_text (self->relay_label,
                          g_error_matches (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_UNAUTHORIZED)
                            ? _("The relay refused the token.") : error->message);
      return;
    }
  if (JSON_NODE_HOLDS_OBJECT (root))
    vms = json_object_get_array_member (json_node_get_object (root), "vms");
  builder = g_strv_builder_new ();
  for (guint i = 0; vms != NULL && i < json_array_get_length (vms); i++)
    {
      JsonNode *node = json_array_get_element (vms, i);
      const char *name;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      name = json_object_get_string_member_with_default (json_node_get_object (node), "name", NULL);
      if (name != NULL && name[0] != '\0')
        g_strv_builder_add (builder, name);
    }
  names = g_strv_builder_end (builder);
  set_vms (self, (const char * const *) names);
  {
    guint n = g_strv_length (names);

    /* Translators: after "List VMs" */
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "The relay serves %u VM.", "The relay serves %u VMs.", n), n);
  }
  gtk_label_set_text (self->relay_label, text);
}

void
iov_connect_dialog_list_vms (IovConnectDialog *self)
{
  g_autofree char *url = NULL;
  g_autofree char *probe = NULL;
  g_autofree char *token = NULL;
  g_autoptr(IovRelayClient) client = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (IOV_IS_CONNECT_DIALOG (self));

  url = dup_relay_url (self);
  token = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->token_row))));
  if (token[0] == '\0')
    {
      g_free (token);
      token = iov_relay_read_token (NULL, NULL);
    }
  if (token == NULL)
    {
      gtk_label_set_text (self->relay_label, _("Enter the relay's token first."));
      return;
    }
  /* The client wants a VM in its URL; listing does not use it. */
  probe = g_strconcat (url, "/_", NULL);
  client = iov_relay_client_new (probe, token, &error);
  if (client == NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("“%s” is not a relay address: use http(s)://HOST:PORT"), url);

      gtk_label_set_text (self->relay_label, msg);
      return;
    }
  if (self->list_cancellable != NULL)
    g_cancellable_cancel (self->list_cancellable);
  g_clear_object (&self->list_cancellable);
  self->list_cancellable = g_cancellable_new ();
  gtk_widget_set_sensitive (self->list_button, FALSE);
  gtk_label_set_text (self->relay_label, _("Asking the relay for its VMs…"));
  /* A cancelled listing never touches the dialog. */
  iov_relay_client_list_vms_async (client, self->list_cancellable, list_done_cb, self);
}

void
iov_connect_dialog_set_relay (IovConnectDialog *self,
                              const char       *url,
                              const char       *token)
{
  g_return_if_fail (IOV_IS_CONNECT_DIALOG (self));

  gtk_stack_set_visible_child_name (self->mode_stack, "relay");
  if (url != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->relay_url_row), url);
  if (token != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->token_row), token);
  update_response (self);
}

static void
mode_changed_cb (IovConnectDialog *self,
                 GParamSpec       *pspec,
                 GtkStack         *stack)
{
  update_response (self);
}

static void
relay_changed_cb (IovConnectDialog *self,
                  GtkEditable      *editable)
{
  update_response (self);
}

static void
list_clicked_cb (IovConnectDialog *self,
                 GtkButton        *button)
{
  iov_connect_dialog_list_vms (self);
}

static void
vm_selected_cb (IovConnectDialog *self,
                GParamSpec       *pspec,
                AdwComboRow      *row)
{
  update_response (self);
}

const char *
iov_connect_dialog_get_trace_preset (IovConnectDialog *self)
{
  guint selected, n = 0;
  const IovTracePreset *presets = iov_trace_presets (&n);

  g_return_val_if_fail (IOV_IS_CONNECT_DIALOG (self), NULL);

  /* the first item leaves QEMU's events alone */
  selected = adw_combo_row_get_selected (is_relay (self) ? self->relay_preset_row : self->preset_row);
  if (selected == 0 || selected == GTK_INVALID_LIST_POSITION || selected > n)
    return NULL;
  return presets[selected - 1].name;
}

void
iov_connect_dialog_set_trace_preset (IovConnectDialog *self,
                                     const char       *name)
{
  guint n = 0;
  const IovTracePreset *presets = iov_trace_presets (&n);

  g_return_if_fail (IOV_IS_CONNECT_DIALOG (self));

  adw_combo_row_set_selected (self->preset_row, 0);
  adw_combo_row_set_selected (self->relay_preset_row, 0);
  for (guint i = 0; name != NULL && i < n; i++)
    if (g_str_equal (presets[i].name, name))
      {
        adw_combo_row_set_selected (self->preset_row, i + 1);
        adw_combo_row_set_selected (self->relay_preset_row, i + 1);
      }
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

  /* The events that make deliveries observable (vhost's IOTLB messages,
   * vhost's start, domains, ATS), not only VT-d's. */
  const IovTracePreset *preset = iov_trace_preset_find ("notifier-traffic");

  if ((kind == TRACE_FIFO || kind == TRACE_FILE) && path != NULL && path[0] != '\0')
    {
      g_autofree char *args = iov_trace_preset_qemu_args (preset, path);

      /* Translators: %s is QEMU's command line */
      hint = g_strdup_printf (_("Add to QEMU's command line: %s"), args);
    }
  else if (kind == TRACE_UNIX && path != NULL && path[0] != '\0')
    {
      g_autofree char *args = iov_trace_preset_qemu_args (preset, NULL);

      hint = g_strdup_printf (_("Iovista listens at %s; send QEMU's trace (stderr) there, e.g. with "
                                "%s 2>&1 >/dev/null | socat - UNIX-CONNECT:%s"), path, args, path);
    }
  gtk_label_set_text (self->hint_label, hint ? hint : "");
  gtk_widget_set_visible (GTK_WIDGET (self->hint_label), hint != NULL);
}

static void
address_changed_cb (IovConnectDialog *self,
                    GtkEditable      *editable)
{
  update_response (self);
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

  if (address == NULL)
    return;
  if (iov_relay_is_url (address) && strrchr (address, '/') != NULL)
    {
      const char *slash = strrchr (address, '/');
      g_autofree char *url = g_strndup (address, slash - address);
      const char *names[] = { slash + 1, NULL };

      iov_connect_dialog_set_relay (self, url, NULL);
      set_vms (self, names);
      return;
    }
  gtk_stack_set_visible_child_name (self->mode_stack, "local");
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
  if (n > 0 && !iov_relay_is_url (recent[0]))
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
  IovConnectDialog *self = IOV_CONNECT_DIALOG (object);

  if (self->list_cancellable != NULL)
    g_cancellable_cancel (self->list_cancellable);
  g_clear_object (&self->list_cancellable);
  g_clear_pointer (&self->relay_address, g_free);
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
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, preset_row);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, relay_preset_row);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, fifo_button);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, hint_label);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, recent_label);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, recent_list);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, mode_stack);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, relay_url_row);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, token_row);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, list_button);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, vm_row);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, vm_list);
  gtk_widget_class_bind_template_child (widget_class, IovConnectDialog, relay_label);
  gtk_widget_class_bind_template_callback (widget_class, address_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, mode_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, relay_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, list_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, vm_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, trace_kind_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, trace_path_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, fifo_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, recent_activated_cb);
}

static void
iov_connect_dialog_init (IovConnectDialog *self)
{
  g_autoptr(GtkStringList) presets = gtk_string_list_new (NULL);
  const IovTracePreset *list;
  guint n = 0;

  g_type_ensure (ADW_TYPE_PASSWORD_ENTRY_ROW);
  gtk_widget_init_template (GTK_WIDGET (self));

  /* The allow-listed presets of `iovista-cli trace --preset`. */
  gtk_string_list_append (presets, _("Leave as they are"));
  list = iov_trace_presets (&n);
  for (guint i = 0; i < n; i++)
    gtk_string_list_append (presets, _(list[i].title));
  adw_combo_row_set_model (self->preset_row, G_LIST_MODEL (presets));
  adw_combo_row_set_model (self->relay_preset_row, G_LIST_MODEL (presets));
}
