/* iov-window.c
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

#define G_LOG_DOMAIN "iov-window"

#include "config.h"

#include <glib/gi18n.h>

#include "iov-application.h"
#include "iov-window.h"

struct _IovWindow
{
  AdwApplicationWindow  parent_instance;

  /* Template widgets */
  AdwWindowTitle       *window_title;
  AdwToastOverlay      *toast_overlay;
  GtkStack             *stack;
  AdwStatusPage        *empty_page;

  GtkFileChooserNative *chooser;
};

G_DEFINE_FINAL_TYPE (IovWindow, iov_window, ADW_TYPE_APPLICATION_WINDOW)

IovWindow *
iov_window_new (GtkApplication *application)
{
  return g_object_new (IOV_TYPE_WINDOW, "application", application, NULL);
}

void
iov_window_show_message (IovWindow  *self,
                         const char *message)
{
  AdwToast *toast;

  g_return_if_fail (IOV_IS_WINDOW (self));

  toast = adw_toast_new (message);
  adw_toast_set_timeout (toast, 0);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

gboolean
iov_window_open_file (IovWindow  *self,
                      GFile      *file,
                      GError    **error)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (IOV_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  name = g_file_get_parse_name (file);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               _("Cannot open “%s”: opening scenarios and recordings is not yet available"), name);
  return FALSE;
}

static void
chooser_response_cb (IovWindow            *self,
                     int                   response,
                     GtkFileChooserNative *chooser)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autoptr(GError) error = NULL;

      if (!iov_window_open_file (self, file, &error))
        iov_window_show_message (self, error->message);
    }
  g_clear_object (&self->chooser);
}

static void
open_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  IovWindow *self = IOV_WINDOW (widget);
  g_autoptr(GtkFileFilter) scenarios = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  if (self->chooser != NULL)
    return;

  self->chooser = gtk_file_chooser_native_new (_("Open Scenario, Recording or Trace"),
                                               GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_OPEN,
                                               _("_Open"), _("_Cancel"));
  gtk_file_filter_set_name (scenarios, _("Scenarios and recordings"));
  gtk_file_filter_add_pattern (scenarios, "*.json");
  gtk_file_filter_add_pattern (scenarios, "*.iovista");
  gtk_file_filter_add_pattern (scenarios, "*.log");
  gtk_file_filter_set_name (all, _("All files"));
  gtk_file_filter_add_pattern (all, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), scenarios);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), all);
  g_signal_connect_object (self->chooser, "response", G_CALLBACK (chooser_response_cb),
                           self, G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static gboolean
style_variant_get_mapping (GValue   *value,
                           GVariant *variant,
                           gpointer  user_data)
{
  const char *s = g_variant_get_string (variant, NULL);
  guint index = g_str_equal (s, "light") ? 1 : g_str_equal (s, "dark") ? 2 : 0;

  g_value_set_uint (value, index);
  return TRUE;
}

static GVariant *
style_variant_set_mapping (const GValue       *value,
                           const GVariantType *type,
                           gpointer            user_data)
{
  static const char *names[] = { "default", "light", "dark" };
  guint index = MIN (g_value_get_uint (value), 2);

  return g_variant_new_string (names[index]);
}

static void
preferences_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  IovWindow *self = IOV_WINDOW (widget);
  IovApplication *app = IOV_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  g_autoptr(GtkBuilder) builder = gtk_builder_new_from_resource ("/io/github/iovista/Iovista/iov-preferences.ui");
  AdwPreferencesWindow *prefs = ADW_PREFERENCES_WINDOW (gtk_builder_get_object (builder, "preferences"));
  AdwComboRow *style_row = ADW_COMBO_ROW (gtk_builder_get_object (builder, "style_row"));

  g_settings_bind_with_mapping (iov_application_get_settings (app), "style-variant",
                                style_row, "selected", G_SETTINGS_BIND_DEFAULT,
                                style_variant_get_mapping, style_variant_set_mapping, NULL, NULL);
  gtk_window_set_transient_for (GTK_WINDOW (prefs), GTK_WINDOW (self));
  gtk_window_present (GTK_WINDOW (prefs));
}

static void
iov_window_constructed (GObject *object)
{
  IovWindow *self = IOV_WINDOW (object);
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  G_OBJECT_CLASS (iov_window_parent_class)->constructed (object);

  if (IOV_IS_APPLICATION (app))
    {
      GSettings *settings = iov_application_get_settings (IOV_APPLICATION (app));

      g_settings_bind (settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
    }
}

static void
iov_window_dispose (GObject *object)
{
  IovWindow *self = IOV_WINDOW (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);

  gtk_widget_dispose_template (GTK_WIDGET (self), IOV_TYPE_WINDOW);

  G_OBJECT_CLASS (iov_window_parent_class)->dispose (object);
}

static void
iov_window_class_init (IovWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = iov_window_constructed;
  object_class->dispose = iov_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/iovista/Iovista/iov-window.ui");
  gtk_widget_class_bind_template_child (widget_class, IovWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, IovWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, IovWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, IovWindow, empty_page);

  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_action);
  gtk_widget_class_install_action (widget_class, "win.preferences", NULL, preferences_action);
}

static void
iov_window_init (IovWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
