/* iov-application.c
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

#define G_LOG_DOMAIN "iov-application"

#include "config.h"

#include <glib/gi18n.h>

#include "iov-application.h"
#include "iov-window.h"

struct _IovApplication
{
  AdwApplication  parent_instance;
  GSettings      *settings;
  char           *connect_address;
  char           *trace_source;
};

G_DEFINE_FINAL_TYPE (IovApplication, iov_application, ADW_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "connect", 'c', 0, G_OPTION_ARG_STRING, NULL,
    N_("Connect to a running QEMU's QMP socket (unix:PATH, PATH or tcp:HOST:PORT)"), N_("QMP-ADDRESS") },
  { "trace", 't', 0, G_OPTION_ARG_STRING, NULL,
    N_("Read QEMU trace output from FILE, fifo:PATH, unix:PATH or - (stdin)"), N_("SOURCE") },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL },
  { NULL }
};

IovApplication *
iov_application_new (void)
{
  return g_object_new (IOV_TYPE_APPLICATION,
                       "application-id", APPLICATION_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                       "resource-base-path", "/io/github/iovista/Iovista",
                       NULL);
}

GSettings *
iov_application_get_settings (IovApplication *self)
{
  g_return_val_if_fail (IOV_IS_APPLICATION (self), NULL);
  return self->settings;
}

static IovWindow *
iov_application_get_window (IovApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window = GTK_WINDOW (iov_window_new (GTK_APPLICATION (self)));
  return IOV_WINDOW (window);
}

static gint
iov_application_handle_local_options (GApplication *app,
                                      GVariantDict *options)
{
  IovApplication *self = IOV_APPLICATION (app);

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("iovista %s\n", PACKAGE_VERSION);
      return 0;
    }

  g_variant_dict_lookup (options, "connect", "s", &self->connect_address);
  g_variant_dict_lookup (options, "trace", "s", &self->trace_source);

  return G_APPLICATION_CLASS (iov_application_parent_class)->handle_local_options (app, options);
}

/* --connect ADDRESS [--trace SOURCE]: the window shows the live view. */
static void
iov_application_connect_pending (IovApplication *self,
                                 IovWindow      *window)
{
  g_autoptr(GError) error = NULL;

  if (self->connect_address == NULL)
    {
      if (self->trace_source != NULL)
        {
          g_autofree char *msg = g_strdup_printf (_("--trace %s needs --connect ADDRESS; to read a trace log, open it"),
                                                  self->trace_source);
          g_printerr ("iovista: %s\n", msg);
          iov_window_show_message (window, msg);
        }
      return;
    }
  if (!iov_window_connect (window, self->connect_address, self->trace_source, &error))
    {
      g_printerr ("iovista: %s\n", error->message);
      iov_window_show_message (window, error->message);
    }
  /* once: a second activation (a new window) does not connect again */
  g_clear_pointer (&self->connect_address, g_free);
  g_clear_pointer (&self->trace_source, g_free);
}

static void
iov_application_activate (GApplication *app)
{
  IovApplication *self = IOV_APPLICATION (app);
  IovWindow *window = iov_application_get_window (self);

  gtk_window_present (GTK_WINDOW (window));
  iov_application_connect_pending (self, window);
}

static void
iov_application_open (GApplication  *app,
                      GFile        **files,
                      int            n_files,
                      const char    *hint)
{
  IovApplication *self = IOV_APPLICATION (app);

  for (int i = 0; i < n_files; i++)
    {
      IovWindow *window = IOV_WINDOW (iov_window_new (GTK_APPLICATION (self)));
      g_autoptr(GError) error = NULL;

      gtk_window_present (GTK_WINDOW (window));
      if (!iov_window_open_file (window, files[i], &error))
        {
          g_printerr ("iovista: %s\n", error->message);
          iov_window_show_message (window, error->message);
        }
    }
}

static void
style_variant_changed_cb (IovApplication *self,
                          const char     *key,
                          GSettings      *settings)
{
  AdwStyleManager *manager = adw_style_manager_get_default ();
  g_autofree char *variant = g_settings_get_string (settings, "style-variant");

  if (g_strcmp0 (variant, "dark") == 0)
    adw_style_manager_set_color_scheme (manager, ADW_COLOR_SCHEME_FORCE_DARK);
  else if (g_strcmp0 (variant, "light") == 0)
    adw_style_manager_set_color_scheme (manager, ADW_COLOR_SCHEME_FORCE_LIGHT);
  else
    adw_style_manager_set_color_scheme (manager, ADW_COLOR_SCHEME_DEFAULT);
}

static void
about_action (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  IovApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  const char *developers[] = { _("The Iovista authors"), NULL };

  adw_show_about_window (parent,
                         "application-name", _("Iovista"),
                         "application-icon", APPLICATION_ID,
                         "developer-name", _("The Iovista authors"),
                         "version", PACKAGE_VERSION,
                         "website", PACKAGE_WEBSITE,
                         "issue-url", PACKAGE_WEBSITE "/issues",
                         "comments", _("See how QEMU's virtual IOMMUs map, unmap and notify."),
                         "copyright", "© 2026 The Iovista authors",
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "developers", developers,
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
quit_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
new_window_action (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  gtk_window_present (GTK_WINDOW (iov_window_new (GTK_APPLICATION (user_data))));
}

static const GActionEntry app_actions[] = {
  { "about", about_action },
  { "quit", quit_action },
  { "new-window", new_window_action },
};

static void
iov_application_startup (GApplication *app)
{
  IovApplication *self = IOV_APPLICATION (app);
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *new_window_accels[] = { "<Control>n", NULL };
  static const char *open_accels[] = { "<Control>o", NULL };
  static const char *prefs_accels[] = { "<Control>comma", NULL };

  G_APPLICATION_CLASS (iov_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.new-window", new_window_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.open", open_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.preferences", prefs_accels);

  self->settings = g_settings_new (APPLICATION_ID);
  g_signal_connect_object (self->settings, "changed::style-variant",
                           G_CALLBACK (style_variant_changed_cb), self, G_CONNECT_SWAPPED);
  style_variant_changed_cb (self, "style-variant", self->settings);
}

static void
iov_application_finalize (GObject *object)
{
  IovApplication *self = IOV_APPLICATION (object);

  g_clear_object (&self->settings);
  g_clear_pointer (&self->connect_address, g_free);
  g_clear_pointer (&self->trace_source, g_free);

  G_OBJECT_CLASS (iov_application_parent_class)->finalize (object);
}

static void
iov_application_class_init (IovApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = iov_application_finalize;
  app_class->activate = iov_application_activate;
  app_class->open = iov_application_open;
  app_class->startup = iov_application_startup;
  app_class->handle_local_options = iov_application_handle_local_options;
}

static void
iov_application_init (IovApplication *self)
{
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), _("[FILE…]"));
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Show how QEMU's virtual IOMMUs behave: address spaces, "
                                              "notifiers and invalidations, live or from the built-in model."));
}
