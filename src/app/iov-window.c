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

#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "iov-application.h"
#include "iov-export.h"
#include "iov-painter.h"
#include "iov-lesson.h"
#include "iov-connect-dialog.h"
#include "iov-live-view.h"
#include "iov-player.h"
#include "iov-recording.h"
#include "iov-scenario.h"
#include "iov-scenario-from-trace.h"
#include "iov-what-if-view.h"
#include "iov-window.h"

/* Issue B's scenario (1): what a first start shows, playing. */
#define DEFAULT_SCENARIO "2020-deviotlb-crash"

struct _IovWindow
{
  AdwApplicationWindow  parent_instance;

  /* Template widgets */
  AdwWindowTitle       *window_title;
  AdwToastOverlay      *toast_overlay;
  GtkStack             *stack;
  GtkWidget            *mode_switcher;
  AdwStatusPage        *empty_page;
  GtkListBox           *scenario_list;
  IovPlayer            *player;
  GtkStack             *mode_stack;
  IovWhatIfView        *what_if_view;
  IovLesson            *lesson;

  GtkFileChooserNative *chooser;
  GtkFileChooserNative *export_chooser;
  IovLiveView          *live_view;
  GFile                *recording;      /* the open recording, for Turn into Scenario */
  char                 *scenario_tmp;   /* the scenario made from it */
};

G_DEFINE_FINAL_TYPE (IovWindow, iov_window, ADW_TYPE_APPLICATION_WINDOW)

static void
bind_settings (IovWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  if (IOV_IS_APPLICATION (app))
    {
      GSettings *settings = iov_application_get_settings (IOV_APPLICATION (app));

      g_settings_bind (settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
    }
}

IovWindow *
iov_window_new (GtkApplication *application)
{
  IovWindow *self = g_object_new (IOV_TYPE_WINDOW, "application", application, NULL);

  /* Not in constructed(): GtkWindow:application is set after it runs. */
  bind_settings (self);
  return self;
}

IovPlayer *
iov_window_get_player (IovWindow *self)
{
  g_return_val_if_fail (IOV_IS_WINDOW (self), NULL);
  return self->player;
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

static void
show_scenario (IovWindow   *self,
               IovScenario *scenario)
{
  g_autofree char *subtitle = NULL;

  /* Translators: the header's subtitle, %s is the scenario's title */
  subtitle = g_strdup_printf (_("Model · %s"), scenario->title ? scenario->title : scenario->name);
  adw_window_title_set_subtitle (self->window_title, subtitle);
  iov_player_set_scenario (self->player, scenario, NULL);
  iov_what_if_view_set_scenario (self->what_if_view, iov_player_get_scenario (self->player));
  gtk_stack_set_visible_child_name (self->stack, "player");
  gtk_widget_set_visible (self->mode_switcher, TRUE);
}

IovLiveView *
iov_window_get_live_view (IovWindow *self)
{
  g_return_val_if_fail (IOV_IS_WINDOW (self), NULL);
  return self->live_view;
}

static void
live_status_cb (IovWindow   *self,
                GParamSpec  *pspec,
                IovLiveView *live_view)
{
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "live") == 0)
    adw_window_title_set_subtitle (self->window_title, iov_live_view_get_status (live_view));
}

static void
show_live (IovWindow *self)
{
  iov_player_set_playing (self->player, FALSE);
  gtk_list_box_unselect_all (self->scenario_list);
  gtk_stack_set_visible_child_name (self->stack, "live");
  /* Step Through / Compare / Teach are the model's modes, not the live view's. */
  gtk_widget_set_visible (self->mode_switcher, FALSE);
  live_status_cb (self, NULL, self->live_view);
}

/* A recording (.iovista) or a plain trace log, in the live view. */
static gboolean
iov_window_open_live_file (IovWindow  *self,
                           GFile      *file,
                           GError    **error)
{
  g_autofree char *path = NULL;

  if (!iov_live_view_open_file (self->live_view, file, error))
    return FALSE;
  path = g_file_get_path (file);
  g_clear_object (&self->recording);
  if (path != NULL && iov_recording_is_recording (path))
    self->recording = g_object_ref (file);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.recording-to-scenario", self->recording != NULL);
  show_live (self);
  return TRUE;
}

/* The open recording's snapshot and trace as a low-level scenario, in the
 * player; written to a temporary file so the editor can show and save it. */
static gboolean
recording_to_scenario (IovWindow  *self,
                       GError    **error)
{
  g_autoptr(IovRecording) recording = NULL;
  g_autoptr(GFile) tmp_file = NULL;
  g_autofree char *path = NULL;
  g_autofree char *basename = NULL;
  g_autofree char *name = NULL;
  g_autofree char *text = NULL;
  g_autofree char *tmp = NULL;
  JsonNode *snapshot;
  int fd;

  if (self->recording == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("No recording is open"));
      return FALSE;
    }
  path = g_file_get_path (self->recording);
  recording = iov_recording_load (path, error);
  if (recording == NULL)
    return FALSE;
  if (recording->snapshots->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The recording has no snapshot: the scenario would have no notifiers"));
      return FALSE;
    }
  /* The last snapshot: the topology the trace ended with. */
  snapshot = g_ptr_array_index (recording->snapshots, recording->snapshots->len - 1);
  basename = g_path_get_basename (path);
  if (g_str_has_suffix (basename, ".iovista"))
    basename[strlen (basename) - strlen (".iovista")] = '\0';
  name = g_strdup_printf ("%s-scenario", basename);
  text = iov_scenario_from_trace (snapshot, recording->trace->str, recording->trace->len, name, NULL, error);
  if (text == NULL)
    return FALSE;

  fd = g_file_open_tmp ("iovista-XXXXXX.json", &tmp, error);
  if (fd < 0)
    return FALSE;
  close (fd);
  if (!g_file_set_contents (tmp, text, -1, error))
    {
      g_unlink (tmp);
      return FALSE;
    }
  if (self->scenario_tmp != NULL)
    g_unlink (self->scenario_tmp);
  g_free (self->scenario_tmp);
  self->scenario_tmp = g_strdup (tmp);

  tmp_file = g_file_new_for_path (tmp);
  return iov_window_open_file (self, tmp_file, error);
}

static void
recording_to_scenario_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *parameter)
{
  IovWindow *self = IOV_WINDOW (widget);
  g_autoptr(GError) error = NULL;

  if (!recording_to_scenario (self, &error))
    iov_window_show_message (self, error->message);
}

gboolean
iov_window_connect (IovWindow   *self,
                    const char  *address,
                    const char  *trace_source,
                    GError     **error)
{
  GtkApplication *app;

  g_return_val_if_fail (IOV_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);

  if (!iov_live_view_connect (self->live_view, address, trace_source, error))
    return FALSE;
  g_clear_object (&self->recording);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.recording-to-scenario", FALSE);
  show_live (self);
  app = gtk_window_get_application (GTK_WINDOW (self));
  if (IOV_IS_APPLICATION (app))
    iov_connect_dialog_remember (iov_application_get_settings (IOV_APPLICATION (app)), address);
  return TRUE;
}

static void
connect_response_cb (IovWindow        *self,
                     const char       *response,
                     IovConnectDialog *dialog)
{
  g_autofree char *address = NULL;
  g_autofree char *trace = NULL;
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (response, "connect") != 0)
    return;
  address = g_strstrip (g_strdup (iov_connect_dialog_get_address (dialog)));
  trace = iov_connect_dialog_dup_trace_source (dialog);
  iov_live_view_set_token (self->live_view, iov_connect_dialog_get_token (dialog));
  iov_live_view_set_trace_preset (self->live_view, iov_connect_dialog_get_trace_preset (dialog));
  if (!iov_window_connect (self, address, trace, &error))
    iov_window_show_message (self, error->message);
}

static void
connect_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *param)
{
  IovWindow *self = IOV_WINDOW (widget);
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  IovConnectDialog *dialog;

  dialog = iov_connect_dialog_new (GTK_WINDOW (self),
                                   IOV_IS_APPLICATION (app)
                                     ? iov_application_get_settings (IOV_APPLICATION (app)) : NULL);
  g_signal_connect_object (dialog, "response", G_CALLBACK (connect_response_cb), self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

gboolean
iov_window_open_builtin (IovWindow   *self,
                         const char  *name,
                         GError     **error)
{
  IovScenario *scenario;

  g_return_val_if_fail (IOV_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  scenario = iov_scenario_new_from_resource (name, error);
  if (scenario == NULL)
    return FALSE;
  show_scenario (self, scenario);

  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->scenario_list));
       row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (g_strcmp0 (g_object_get_data (G_OBJECT (row), "scenario"), name) == 0)
      gtk_list_box_select_row (self->scenario_list, GTK_LIST_BOX_ROW (row));
  return TRUE;
}

gboolean
iov_window_open_file (IovWindow  *self,
                      GFile      *file,
                      GError    **error)
{
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  IovScenario *scenario;

  g_return_val_if_fail (IOV_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  name = g_file_get_parse_name (file);
  if (!g_str_has_suffix (name, ".json"))
    return iov_window_open_live_file (self, file, error);

  path = g_file_get_path (file);
  if (path != NULL)
    scenario = iov_scenario_new_from_file (path, error);
  else
    {
      g_autofree char *contents = NULL;
      gsize length = 0;

      if (!g_file_load_contents (file, NULL, &contents, &length, NULL, error))
        return FALSE;
      scenario = iov_scenario_new_from_data (contents, length, name, error);
    }
  if (scenario == NULL)
    return FALSE;

  gtk_list_box_unselect_all (self->scenario_list);
  show_scenario (self, scenario);
  return TRUE;
}

static void
scenario_row_activated_cb (IovWindow     *self,
                           GtkListBoxRow *row,
                           GtkListBox    *list)
{
  const char *name = g_object_get_data (G_OBJECT (row), "scenario");
  g_autoptr(GError) error = NULL;

  if (name == NULL)
    return;
  if (!iov_window_open_builtin (self, name, &error))
    iov_window_show_message (self, error->message);
}

static void
populate_scenarios (IovWindow *self)
{
  g_auto(GStrv) names = iov_scenario_list_builtin ();

  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autoptr(IovScenario) scenario = iov_scenario_new_from_resource (names[i], NULL);
      GtkWidget *row, *box, *title, *summary;

      if (scenario == NULL)
        continue;

      box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      title = gtk_label_new (scenario->title ? scenario->title : scenario->name);
      gtk_label_set_xalign (GTK_LABEL (title), 0);
      gtk_label_set_wrap (GTK_LABEL (title), TRUE);
      gtk_widget_add_css_class (title, "heading");
      summary = gtk_label_new (scenario->summary);
      gtk_label_set_xalign (GTK_LABEL (summary), 0);
      gtk_label_set_wrap (GTK_LABEL (summary), TRUE);
      gtk_label_set_lines (GTK_LABEL (summary), 4);
      gtk_label_set_ellipsize (GTK_LABEL (summary), PANGO_ELLIPSIZE_END);
      gtk_widget_add_css_class (summary, "dim-label");
      gtk_widget_add_css_class (summary, "caption");
      gtk_box_append (GTK_BOX (box), title);
      gtk_box_append (GTK_BOX (box), summary);
      gtk_widget_add_css_class (box, "iov-scenario-row");

      row = gtk_list_box_row_new ();
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
      gtk_widget_set_tooltip_text (row, scenario->summary);
      g_object_set_data_full (G_OBJECT (row), "scenario", g_strdup (names[i]), g_free);
      gtk_list_box_append (self->scenario_list, row);
    }
}

static gboolean
drop_cb (IovWindow     *self,
         const GValue  *value,
         double         x,
         double         y,
         GtkDropTarget *target)
{
  GSList *files;

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;

  files = g_value_get_boxed (value);
  if (files != NULL)
    {
      g_autoptr(GError) error = NULL;

      /* One scenario at a time: the first file wins. */
      if (!iov_window_open_file (self, files->data, &error))
        iov_window_show_message (self, error->message);
    }
  return TRUE;
}

/* Left, Right and Space step and play wherever the focus is (capture
 * phase), except where the key has a job of its own: in a text field or
 * in an open popover such as the profile list. They go to the mode shown:
 * the player, the what-if view ("what-if.step-back"…) or the lesson,
 * where Space moves on and P and R predict and reveal. */
static gboolean
player_key_cb (GtkWidget *widget,
               GVariant  *args,
               gpointer   user_data)
{
  IovWindow *self = IOV_WINDOW (widget);
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));
  GtkWidget *target = GTK_WIDGET (self->player);
  const char *action = user_data;
  g_autofree char *name = NULL;

  if (focus != NULL &&
      (GTK_IS_EDITABLE (focus) || gtk_widget_get_ancestor (focus, GTK_TYPE_POPOVER) != NULL))
    return FALSE;
  if (gtk_widget_get_mapped (GTK_WIDGET (self->lesson)))
    {
      const char *verb = strchr (action, '.') + 1;

      target = GTK_WIDGET (self->lesson);
      name = g_strconcat ("lesson.", g_str_equal (verb, "play") ? "step-forward" : verb, NULL);
      action = name;
    }
  else if (g_str_has_suffix (action, ".predict") || g_str_has_suffix (action, ".reveal"))
    return FALSE;
  else if (gtk_widget_get_mapped (GTK_WIDGET (self->what_if_view)))
    {
      target = GTK_WIDGET (self->what_if_view);
      name = g_strconcat ("what-if.", strchr (action, '.') + 1, NULL);
      action = name;
    }
  if (!gtk_widget_get_mapped (target))
    return FALSE;
  return gtk_widget_activate_action (target, action, NULL);
}

/* The what-if view starts where the player is, and the clock stops. */
static void
mode_changed_cb (IovWindow  *self,
                 GParamSpec *pspec,
                 GtkStack   *stack)
{
  const char *mode = gtk_stack_get_visible_child_name (stack);

  if (self->player == NULL || self->what_if_view == NULL)
    return;
  if (g_strcmp0 (mode, "what-if") == 0 || g_strcmp0 (mode, "lesson") == 0)
    iov_player_set_playing (self->player, FALSE);
  if (g_strcmp0 (mode, "what-if") == 0)
    {
      iov_player_set_playing (self->player, FALSE);
      iov_what_if_view_set_position (self->what_if_view, iov_player_get_position (self->player));
    }
  else
    iov_what_if_view_set_playing (self->what_if_view, FALSE);
}

IovLesson *
iov_window_get_lesson (IovWindow *self)
{
  g_return_val_if_fail (IOV_IS_WINDOW (self), NULL);
  return self->lesson;
}

static void
fullscreen_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *param)
{
  GtkWindow *window = GTK_WINDOW (widget);

  if (gtk_window_is_fullscreen (window))
    gtk_window_unfullscreen (window);
  else
    gtk_window_fullscreen (window);
}

IovWhatIfView *
iov_window_get_what_if_view (IovWindow *self)
{
  g_return_val_if_fail (IOV_IS_WINDOW (self), NULL);
  return self->what_if_view;
}

void
iov_window_set_mode (IovWindow  *self,
                     const char *mode)
{
  g_return_if_fail (IOV_IS_WINDOW (self));
  gtk_stack_set_visible_child_name (self->mode_stack, mode);
}

static void
add_player_keys (IovWindow *self)
{
  static const struct {
    guint       keyval;
    const char *action;
  } keys[] = {
    { GDK_KEY_Left, "player.step-back" },
    { GDK_KEY_Right, "player.step-forward" },
    { GDK_KEY_space, "player.play" },
    { GDK_KEY_p, "player.predict" },
    { GDK_KEY_r, "player.reveal" },
  };
  GtkEventController *controller = gtk_shortcut_controller_new ();

  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller),
                                          gtk_shortcut_new (gtk_keyval_trigger_new (keys[i].keyval, 0),
                                                            gtk_callback_action_new (player_key_cb,
                                                                                     (gpointer) keys[i].action,
                                                                                     NULL)));
  gtk_widget_add_controller (GTK_WIDGET (self), controller);
}

static void
step_forward_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  gtk_widget_activate_action (GTK_WIDGET (IOV_WINDOW (widget)->player), "player.step-forward", NULL);
}

static void
step_back_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *param)
{
  gtk_widget_activate_action (GTK_WIDGET (IOV_WINDOW (widget)->player), "player.step-back", NULL);
}

static void
play_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  gtk_widget_activate_action (GTK_WIDGET (IOV_WINDOW (widget)->player), "player.play", NULL);
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

/* What Export… writes, in the save dialog's filter order: a model run's
 * formats, or an opened trace's IOTLB traffic (issue L). */
static const struct {
  const char *format;
  const char *extension;
  const char *name;
  gboolean    trace;
} export_formats[] = {
  { "perfetto", "json", N_("Perfetto trace (.json)"), FALSE },
  { "csv", "csv", N_("Outcomes table (.csv)"), FALSE },
  { "svg", "svg", N_("SVG picture of this step (.svg)"), FALSE },
  { "png", "png", N_("PNG picture of this step (.png)"), FALSE },
  { "pdf", "pdf", N_("PDF of this step (.pdf)"), FALSE },
  { "perfetto", "json", N_("IOTLB traffic as Perfetto counter tracks (.json)"), TRUE },
  { "csv", "csv", N_("IOTLB traffic per device and second (.csv)"), TRUE },
};

/* Export… exports what is on screen: the live view's trace when it shows. */
static gboolean
showing_trace (IovWindow *self)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "live") == 0;
}

static const char *
export_format_for_name (const char *name)
{
  const char *dot = name != NULL ? strrchr (name, '.') : NULL;

  for (guint i = 0; dot != NULL && i < G_N_ELEMENTS (export_formats); i++)
    if (g_ascii_strcasecmp (dot + 1, export_formats[i].extension) == 0)
      return export_formats[i].format;
  return NULL;
}

/* The live view's trace: its IOTLB traffic, as `iovista-cli export` writes it. */
static gboolean
export_trace (IovWindow   *self,
              GFile       *file,
              const char  *format,
              GError     **error)
{
  g_autofree char *basename = g_file_get_basename (file);
  g_autoptr(GString) out = g_string_new (NULL);

  if (format == NULL)
    format = export_format_for_name (basename);
  if (g_strcmp0 (format, "perfetto") != 0 && g_strcmp0 (format, "csv") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Cannot export a trace to “%s”: its IOTLB traffic goes to .json (Perfetto) or .csv"), basename);
      return FALSE;
    }
  if (!iov_live_view_export_traffic (self->live_view, format, out, error))
    return FALSE;
  return g_file_replace_contents (file, out->str, out->len, NULL, FALSE,
                                  G_FILE_CREATE_REPLACE_DESTINATION, NULL, NULL, error);
}

gboolean
iov_window_export (IovWindow   *self,
                   GFile       *file,
                   const char  *format,
                   GError     **error)
{
  const IovScenario *scenario;
  const IovRun *run;
  g_autofree char *basename = NULL;
  int step;

  g_return_val_if_fail (IOV_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  if (showing_trace (self))
    return export_trace (self, file, format, error);
  scenario = iov_player_get_scenario (self->player);
  run = iov_player_get_run (self->player);
  if (scenario == NULL || run == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("Nothing to export: open a scenario that runs under this QEMU version first"));
      return FALSE;
    }

  basename = g_file_get_basename (file);
  if (format == NULL)
    format = export_format_for_name (basename);
  if (format == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Cannot export to “%s”: name it .json, .csv, .svg, .png or .pdf"), basename);
      return FALSE;
    }

  /* The step on screen: the what-if view's when it is shown. */
  step = gtk_widget_get_mapped (GTK_WIDGET (self->what_if_view))
         ? iov_what_if_view_get_position (self->what_if_view)
         : iov_player_get_position (self->player);

  if (g_str_equal (format, "perfetto") || g_str_equal (format, "csv"))
    {
      g_autoptr(GString) out = g_string_new (NULL);

      if (g_str_equal (format, "perfetto"))
        iov_export_perfetto (run, out);
      else
        iov_export_csv (run, out);
      return g_file_replace_contents (file, out->str, out->len, NULL, FALSE,
                                      G_FILE_CREATE_REPLACE_DESTINATION, NULL, NULL, error);
    }
  else
    {
      g_autofree char *path = g_file_get_path (file);

      if (path == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       _("Cannot export a picture to “%s”: choose a local folder"), basename);
          return FALSE;
        }
      return iov_painter_export (scenario, run, step, format, path, error);
    }
}

static void
export_response_cb (IovWindow            *self,
                    int                   response,
                    GtkFileChooserNative *chooser)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      GtkFileFilter *filter = gtk_file_chooser_get_filter (GTK_FILE_CHOOSER (chooser));
      const char *format = filter ? g_object_get_data (G_OBJECT (filter), "format") : NULL;
      g_autofree char *basename = g_file_get_basename (file);
      g_autoptr(GError) error = NULL;

      /* A typed extension wins; without one, the chosen filter's. */
      if (export_format_for_name (basename) != NULL)
        format = export_format_for_name (basename);
      else
        for (guint i = 0; format != NULL && i < G_N_ELEMENTS (export_formats); i++)
          if (g_str_equal (export_formats[i].format, format))
            {
              g_autoptr(GFile) parent = g_file_get_parent (file);
              char *name = g_strconcat (basename, ".", export_formats[i].extension, NULL);

              g_object_unref (file);
              file = g_file_get_child (parent, name);
              g_free (basename);
              basename = name;
              break;
            }

      if (iov_window_export (self, file, format, &error))
        {
          /* Translators: %s is the exported file's name */
          g_autofree char *message = g_strdup_printf (_("Exported “%s”"), basename);

          adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (message));
        }
      else
        iov_window_show_message (self, error->message);
    }
  g_clear_object (&self->export_chooser);
}

static void
export_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  IovWindow *self = IOV_WINDOW (widget);
  const IovScenario *scenario = iov_player_get_scenario (self->player);
  gboolean trace = showing_trace (self);
  g_autofree char *name = NULL;

  if (self->export_chooser != NULL)
    return;

  self->export_chooser = gtk_file_chooser_native_new (_("Export"), GTK_WINDOW (self),
                                                      GTK_FILE_CHOOSER_ACTION_SAVE,
                                                      _("_Export"), _("_Cancel"));
  for (guint i = 0; i < G_N_ELEMENTS (export_formats); i++)
    {
      g_autoptr(GtkFileFilter) filter = NULL;
      g_autofree char *pattern = NULL;

      if (export_formats[i].trace != trace)
        continue;
      filter = gtk_file_filter_new ();
      pattern = g_strconcat ("*.", export_formats[i].extension, NULL);
      gtk_file_filter_set_name (filter, _(export_formats[i].name));
      gtk_file_filter_add_pattern (filter, pattern);
      g_object_set_data (G_OBJECT (filter), "format", (gpointer) export_formats[i].format);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->export_chooser), filter);
    }
  if (trace)
    {
      const char *path = iov_live_view_get_source_path (self->live_view);
      g_autofree char *base = path ? g_path_get_basename (path) : g_strdup ("iovista");
      char *dot = strrchr (base, '.');

      if (dot != NULL && dot != base)
        *dot = '\0';
      name = g_strconcat (base, "-traffic.json", NULL);
    }
  else
    name = g_strconcat (scenario != NULL && scenario->name != NULL ? scenario->name : "iovista", ".json", NULL);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->export_chooser), name);
  g_signal_connect_object (self->export_chooser, "response", G_CALLBACK (export_response_cb),
                           self, G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->export_chooser));
}

static void
iov_window_dispose (GObject *object)
{
  IovWindow *self = IOV_WINDOW (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  if (self->export_chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->export_chooser));
  g_clear_object (&self->export_chooser);
  g_clear_object (&self->recording);
  if (self->scenario_tmp != NULL)
    g_unlink (self->scenario_tmp);
  g_clear_pointer (&self->scenario_tmp, g_free);

  gtk_widget_dispose_template (GTK_WIDGET (self), IOV_TYPE_WINDOW);

  G_OBJECT_CLASS (iov_window_parent_class)->dispose (object);
}

static void
iov_window_class_init (IovWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = iov_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/iovista/Iovista/iov-window.ui");
  gtk_widget_class_bind_template_child (widget_class, IovWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, IovWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, IovWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, IovWindow, mode_switcher);
  gtk_widget_class_bind_template_child (widget_class, IovWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, IovWindow, scenario_list);
  gtk_widget_class_bind_template_child (widget_class, IovWindow, player);
  gtk_widget_class_bind_template_child (widget_class, IovWindow, mode_stack);
  gtk_widget_class_bind_template_child (widget_class, IovWindow, what_if_view);
  gtk_widget_class_bind_template_callback (widget_class, mode_changed_cb);
  gtk_widget_class_bind_template_child (widget_class, IovWindow, lesson);
  gtk_widget_class_install_action (widget_class, "win.fullscreen", NULL, fullscreen_action);
  gtk_widget_class_install_action (widget_class, "win.export", NULL, export_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK, "win.export", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F11, 0, "win.fullscreen", NULL);
  gtk_widget_class_bind_template_callback (widget_class, scenario_row_activated_cb);

  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_action);
  gtk_widget_class_install_action (widget_class, "win.preferences", NULL, preferences_action);
  gtk_widget_class_install_action (widget_class, "win.connect", NULL, connect_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_l, GDK_CONTROL_MASK, "win.connect", NULL);
  gtk_widget_class_bind_template_child (widget_class, IovWindow, live_view);
  gtk_widget_class_bind_template_callback (widget_class, live_status_cb);
  g_type_ensure (IOV_TYPE_LIVE_VIEW);
  gtk_widget_class_install_action (widget_class, "win.step-forward", NULL, step_forward_action);
  gtk_widget_class_install_action (widget_class, "win.step-back", NULL, step_back_action);
  gtk_widget_class_install_action (widget_class, "win.play", NULL, play_action);
  gtk_widget_class_install_action (widget_class, "win.recording-to-scenario", NULL, recording_to_scenario_action);

  g_type_ensure (IOV_TYPE_PLAYER);
  g_type_ensure (IOV_TYPE_WHAT_IF_VIEW);
  g_type_ensure (IOV_TYPE_LESSON);
}

static void
iov_window_init (IovWindow *self)
{
  g_autoptr(GError) error = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.recording-to-scenario", FALSE);
  populate_scenarios (self);
  add_player_keys (self);

  {
    GtkDropTarget *target = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);

    g_signal_connect_object (target, "drop", G_CALLBACK (drop_cb), self, G_CONNECT_SWAPPED);
    gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));
  }

  /* Open on the model's default scenario, playing slowly, so a first
   * start explains itself. */
  if (iov_window_open_builtin (self, DEFAULT_SCENARIO, &error))
    iov_player_set_playing (self->player, TRUE);
  else
    {
      g_debug ("No built-in scenario: %s", error->message);
      gtk_stack_set_visible_child_name (self->stack, "empty");
    }
}
