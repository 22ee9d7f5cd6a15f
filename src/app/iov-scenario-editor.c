/* iov-scenario-editor.c
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

#define G_LOG_DOMAIN "iov-scenario-editor"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "iov-scenario-editor.h"

#define SCENARIO_RESOURCE_PATH "/io/github/iovista/Iovista/scenarios/"
#define VALIDATE_DELAY_MS 300

struct _IovScenarioEditor
{
  GtkWidget    parent_instance;

  GtkWidget   *box;
  GtkTextView *text_view;
  GtkLabel    *status_label;

  char        *display_name;
  char        *error;
  IovScenario *edited;          /* during ::scenario-edited */
  guint        validate_source;
  gboolean     loading;
  GtkNativeDialog *chooser;
};

G_DEFINE_FINAL_TYPE (IovScenarioEditor, iov_scenario_editor, GTK_TYPE_WIDGET)

enum {
  SCENARIO_EDITED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
set_status (IovScenarioEditor *self,
            const char        *error)
{
  g_free (self->error);
  self->error = g_strdup (error);

  if (error != NULL)
    {
      gtk_label_set_text (self->status_label, error);
      gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "success");
      gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
    }
  else
    {
      gtk_label_set_text (self->status_label, _("Valid scenario"));
      gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "success");
    }
}

void
iov_scenario_editor_validate_now (IovScenarioEditor *self)
{
  g_autoptr(IovScenario) scenario = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  g_return_if_fail (IOV_IS_SCENARIO_EDITOR (self));

  g_clear_handle_id (&self->validate_source, g_source_remove);
  text = iov_scenario_editor_get_text (self);
  scenario = iov_scenario_new_from_data (text, -1, self->display_name ? self->display_name : _("scenario"), &error);
  if (scenario == NULL)
    {
      set_status (self, error->message);
      return;
    }
  set_status (self, NULL);

  self->edited = scenario;
  g_signal_emit (self, signals[SCENARIO_EDITED], 0, scenario);
  scenario = self->edited;   /* NULL when a handler took it */
  self->edited = NULL;
}

IovScenario *
iov_scenario_editor_steal_scenario (IovScenarioEditor *self)
{
  g_return_val_if_fail (IOV_IS_SCENARIO_EDITOR (self), NULL);
  return g_steal_pointer (&self->edited);
}

static gboolean
validate_cb (gpointer user_data)
{
  IovScenarioEditor *self = user_data;

  self->validate_source = 0;
  iov_scenario_editor_validate_now (self);
  return G_SOURCE_REMOVE;
}

static void
buffer_changed_cb (IovScenarioEditor *self,
                   GtkTextBuffer     *buffer)
{
  if (self->loading)
    return;
  g_clear_handle_id (&self->validate_source, g_source_remove);
  self->validate_source = g_timeout_add (VALIDATE_DELAY_MS, validate_cb, self);
}

static char *
scenario_source (const IovScenario *scenario)
{
  const char *name = scenario->filename != NULL ? scenario->filename : scenario->name;
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (name == NULL)
    return NULL;

  /* Built-ins are named by their resource; files by their path. */
  if (strchr (name, '/') == NULL)
    {
      g_autofree char *path = g_strconcat (SCENARIO_RESOURCE_PATH, name, ".json", NULL);
      g_autoptr(GBytes) bytes = g_resources_lookup_data (path, 0, NULL);

      if (bytes != NULL)
        return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
    }
  if (g_file_get_contents (name, &contents, &len, NULL))
    return g_steal_pointer (&contents);
  return NULL;
}

void
iov_scenario_editor_load (IovScenarioEditor *self,
                          const IovScenario *scenario)
{
  g_autofree char *text = NULL;
  GtkTextBuffer *buffer;

  g_return_if_fail (IOV_IS_SCENARIO_EDITOR (self));

  g_clear_handle_id (&self->validate_source, g_source_remove);
  g_clear_pointer (&self->display_name, g_free);
  if (scenario != NULL)
    {
      self->display_name = g_strdup (scenario->filename != NULL ? scenario->filename : scenario->name);
      text = scenario_source (scenario);
    }

  buffer = gtk_text_view_get_buffer (self->text_view);
  self->loading = TRUE;
  gtk_text_buffer_set_text (buffer, text != NULL ? text : "", -1);
  self->loading = FALSE;

  if (scenario == NULL)
    gtk_label_set_text (self->status_label, "");
  else if (text == NULL)
    set_status (self, _("The scenario’s JSON text is not available"));
  else
    set_status (self, NULL);
}

void
iov_scenario_editor_set_text (IovScenarioEditor *self,
                              const char        *text)
{
  g_return_if_fail (IOV_IS_SCENARIO_EDITOR (self));
  g_return_if_fail (text != NULL);

  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->text_view), text, -1);
}

char *
iov_scenario_editor_get_text (IovScenarioEditor *self)
{
  GtkTextBuffer *buffer;
  GtkTextIter start, end;

  g_return_val_if_fail (IOV_IS_SCENARIO_EDITOR (self), NULL);

  buffer = gtk_text_view_get_buffer (self->text_view);
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

const char *
iov_scenario_editor_get_error (IovScenarioEditor *self)
{
  g_return_val_if_fail (IOV_IS_SCENARIO_EDITOR (self), NULL);
  return self->error;
}

static void
save_response_cb (IovScenarioEditor    *self,
                  int                   response,
                  GtkFileChooserNative *chooser)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  g_clear_object (&self->chooser);
  if (file == NULL)
    return;

  text = iov_scenario_editor_get_text (self);
  if (!g_file_replace_contents (file, text, strlen (text), NULL, FALSE, G_FILE_CREATE_NONE, NULL, NULL, &error))
    {
      g_autofree char *message = g_strdup_printf (_("Could not save the scenario: %s"), error->message);

      set_status (self, message);
    }
}

static void
save_as_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  IovScenarioEditor *self = IOV_SCENARIO_EDITOR (widget);
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autofree char *basename = NULL;

  if (self->chooser != NULL)
    return;
  self->chooser = GTK_NATIVE_DIALOG (gtk_file_chooser_native_new (_("Save Scenario"),
                                                                   GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                                   GTK_FILE_CHOOSER_ACTION_SAVE,
                                                                   _("_Save"), _("_Cancel")));
  gtk_file_filter_set_name (filter, _("Scenarios (JSON)"));
  gtk_file_filter_add_pattern (filter, "*.json");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  basename = self->display_name != NULL ? g_path_get_basename (self->display_name) : g_strdup ("scenario");
  if (!g_str_has_suffix (basename, ".json"))
    {
      char *with_suffix = g_strconcat (basename, ".json", NULL);

      g_free (basename);
      basename = with_suffix;
    }
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), basename);
  gtk_native_dialog_set_modal (self->chooser, TRUE);
  g_signal_connect_object (self->chooser, "response", G_CALLBACK (save_response_cb), self, G_CONNECT_SWAPPED);
  gtk_native_dialog_show (self->chooser);
}

static void
iov_scenario_editor_dispose (GObject *object)
{
  IovScenarioEditor *self = IOV_SCENARIO_EDITOR (object);

  g_clear_handle_id (&self->validate_source, g_source_remove);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), IOV_TYPE_SCENARIO_EDITOR);

  G_OBJECT_CLASS (iov_scenario_editor_parent_class)->dispose (object);
}

static void
iov_scenario_editor_finalize (GObject *object)
{
  IovScenarioEditor *self = IOV_SCENARIO_EDITOR (object);

  g_free (self->display_name);
  g_free (self->error);

  G_OBJECT_CLASS (iov_scenario_editor_parent_class)->finalize (object);
}

static void
iov_scenario_editor_class_init (IovScenarioEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = iov_scenario_editor_dispose;
  object_class->finalize = iov_scenario_editor_finalize;

  /**
   * IovScenarioEditor::scenario-edited:
   * @scenario: (transfer none): the parsed scenario
   *
   * The text parsed: a handler may keep @scenario with
   * iov_scenario_editor_steal_scenario().
   */
  signals[SCENARIO_EDITED] =
    g_signal_new ("scenario-edited",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_POINTER);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/iovista/Iovista/iov-scenario-editor.ui");
  gtk_widget_class_bind_template_child (widget_class, IovScenarioEditor, box);
  gtk_widget_class_bind_template_child (widget_class, IovScenarioEditor, text_view);
  gtk_widget_class_bind_template_child (widget_class, IovScenarioEditor, status_label);

  gtk_widget_class_install_action (widget_class, "editor.save-as", NULL, save_as_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "iovscenarioeditor");
}

static void
iov_scenario_editor_init (IovScenarioEditor *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_object (gtk_text_view_get_buffer (self->text_view), "changed",
                           G_CALLBACK (buffer_changed_cb), self, G_CONNECT_SWAPPED);
}

GtkWidget *
iov_scenario_editor_new (void)
{
  return g_object_new (IOV_TYPE_SCENARIO_EDITOR, NULL);
}
