/* iov-player.c
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

#define G_LOG_DOMAIN "iov-player"

#include "config.h"

#include <glib/gi18n.h>

#include "iov-notifier-lanes.h"
#include "iov-outcome-list.h"
#include "iov-player.h"
#include "iov-scenario-editor.h"
#include "iov-range-map.h"
#include "iov-step-view.h"
#include "iov-what-if.h"

static const double speeds[] = { 0.25, 0.5, 1, 2, 4, 8 };
#define DEFAULT_SPEED_INDEX 2

struct _IovPlayer
{
  GtkWidget          parent_instance;

  /* Template widgets */
  GtkWidget         *box;
  GtkButton         *play_button;
  GtkLabel          *step_label;
  GtkDropDown       *profile_dropdown;
  GtkDropDown       *speed_dropdown;
  GtkRevealer       *abort_revealer;
  GtkLabel          *abort_label;
  GtkLabel          *explain_label;
  IovRangeMap       *range_map;
  IovNotifierLanes  *lanes;
  GtkGrid           *compare_grid;
  GtkWidget         *no_events_label;
  GtkWidget         *event_scroller;
  GtkColumnView     *event_view;
  GtkWidget         *paned;
  GtkToggleButton   *edit_button;
  IovScenarioEditor *editor;
  gboolean           applying_edit;

  IovOutcomeList    *outcomes;

  const IovProfile **profiles;
  guint              n_profiles;

  IovScenario       *scenario;
  const IovProfile  *profile;
  IovWhatIf         *what_if;     /* the scenario under every profile */
  const IovRun      *run;         /* the chosen profile's, in what_if */
  const GError      *run_error;
  IovStepper        *stepper;     /* the position, and playing */
};

G_DEFINE_FINAL_TYPE (IovPlayer, iov_player, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_PLAYING,
  PROP_POSITION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void highlight_compare (IovPlayer *self);

static int
n_steps (IovPlayer *self)
{
  return self->scenario != NULL ? (int) self->scenario->steps->len : 0;
}

static void
update (IovPlayer *self)
{
  int position = iov_stepper_get_position (self->stepper);
  const IovStepResult *r = iov_run_get_step (self->run, position);
  g_autofree char *step_text = NULL;
  g_autofree char *abort_text = NULL;
  GString *explain = g_string_new (NULL);

  iov_step_view_sync_actions (GTK_WIDGET (self), "player", self->stepper, TRUE);
  highlight_compare (self);

  if (self->scenario == NULL)
    {
      gtk_label_set_text (self->step_label, "");
      gtk_label_set_text (self->explain_label, "");
      gtk_revealer_set_reveal_child (self->abort_revealer, FALSE);
      g_string_free (explain, TRUE);
      return;
    }

  step_text = iov_explain_step_title (self->scenario, position);
  gtk_label_set_text (self->step_label, step_text);

  if (self->run == NULL)
    {
      g_string_append_printf (explain, _("This scenario cannot run under %s: %s"),
                              self->profile ? self->profile->label : "?",
                              self->run_error ? self->run_error->message : "");
    }
  else if (position < 0)
    {
      if (self->scenario->summary != NULL)
        g_string_append_printf (explain, "%s. ", self->scenario->summary);
      g_string_append (explain, _("Press Play or → to step through it."));
    }
  else if (r != NULL && r->not_run)
    {
      g_string_append_printf (explain, _("QEMU stopped at step %d, so this step never runs."),
                              self->run->aborted_at + 1);
    }
  else if (r != NULL)
    {
      if (r->explain != NULL)
        g_string_append (explain, r->explain);
      for (guint i = 0; r->registrations != NULL && i < r->registrations->len; i++)
        {
          const IovRegistration *reg = &g_array_index (r->registrations, IovRegistration, i);

          if (reg->action == IOV_REGISTRATION_REFUSED && reg->message != NULL)
            {
              g_string_append (explain, "\n");
              /* Translators: %s is QEMU's error message */
              g_string_append_printf (explain, _("QEMU refuses the notifier: %s"), reg->message);
            }
        }
    }
  gtk_label_set_text (self->explain_label, explain->str);
  g_string_free (explain, TRUE);

  abort_text = iov_explain_abort (self->run, self->profile, position);
  gtk_label_set_text (self->abort_label, abort_text ? abort_text : "");
  gtk_revealer_set_reveal_child (self->abort_revealer, abort_text != NULL);

  iov_step_view_show (self->range_map, self->lanes, self->scenario, self->run, self->profile, position);

  iov_outcome_list_set_step (self->outcomes, r, self->profile);
  {
    guint rows = g_list_model_get_n_items (G_LIST_MODEL (self->outcomes));

    /* A list view asks for little height of its own: room for the rows,
     * up to about seven, then it scrolls. */
    gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (self->event_scroller),
                                                MIN (40 + (int) rows * 37, 300));
    gtk_widget_set_visible (self->event_scroller, rows > 0);
    gtk_widget_set_visible (self->no_events_label, rows == 0);
  }
}

static void
pick_run (IovPlayer *self)
{
  self->run = NULL;
  self->run_error = NULL;
  for (guint i = 0; self->what_if != NULL && i < self->what_if->runs->len; i++)
    {
      IovWhatIfRun *r = g_ptr_array_index (self->what_if->runs, i);

      if (r->profile == self->profile)
        {
          self->run = r->run;
          self->run_error = r->error;
        }
    }
  /* a profile the scenario is invalid for has nothing to play */
  iov_stepper_set_can_play (self->stepper, self->run != NULL);
}

static void
compare_cell_clicked_cb (IovPlayer *self,
                         GtkButton *button)
{
  int step = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "step"));
  const IovProfile *profile = g_object_get_data (G_OBJECT (button), "profile");

  iov_player_set_playing (self, FALSE);
  if (profile != self->profile)
    iov_player_set_profile (self, profile->id);
  iov_player_set_position (self, step);
}

static void
build_compare (IovPlayer *self)
{
  GtkWidget *child;
  g_autoptr(GArray) diffs = NULL;
  int n = n_steps (self);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->compare_grid))) != NULL)
    gtk_grid_remove (self->compare_grid, child);
  if (self->what_if == NULL)
    return;

  diffs = iov_what_if_differences (self->what_if);
  for (int s = 0; s < n; s++)
    {
      const IovStep *step = &g_array_index (self->scenario->steps, IovStep, s);
      gboolean differs = FALSE;
      g_autofree char *text = NULL;
      GtkWidget *label;

      for (guint d = 0; d < diffs->len; d++)
        differs |= g_array_index (diffs, guint, d) == (guint) s;
      text = g_strdup_printf ("%s%d · %s", differs ? "≠ " : "", s + 1, iov_step_op_to_string (step->op));
      label = gtk_label_new (text);
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
      gtk_label_set_max_width_chars (GTK_LABEL (label), 22);
      gtk_widget_set_tooltip_text (label, text);
      gtk_widget_add_css_class (label, "caption-heading");
      if (!differs)
        gtk_widget_add_css_class (label, "dim-label");
      gtk_grid_attach (self->compare_grid, label, s + 1, 0, 1, 1);
    }

  for (guint i = 0; i < self->what_if->runs->len; i++)
    {
      IovWhatIfRun *r = g_ptr_array_index (self->what_if->runs, i);
      GtkWidget *name = gtk_label_new (r->profile->label);

      gtk_label_set_xalign (GTK_LABEL (name), 0);
      gtk_widget_set_margin_end (name, 8);
      gtk_widget_set_tooltip_text (name, r->profile->versions);
      gtk_widget_add_css_class (name, "caption");
      gtk_grid_attach (self->compare_grid, name, 0, i + 1, 1, 1);

      if (r->run == NULL)
        {
          GtkWidget *invalid = gtk_label_new (_("not valid for this version"));

          gtk_label_set_xalign (GTK_LABEL (invalid), 0);
          gtk_widget_set_tooltip_text (invalid, r->error ? r->error->message : NULL);
          gtk_widget_add_css_class (invalid, "dim-label");
          gtk_widget_add_css_class (invalid, "caption");
          gtk_grid_attach (self->compare_grid, invalid, 1, i + 1, MAX (n, 1), 1);
          continue;
        }

      for (int s = 0; s < n; s++)
        {
          IovTone tone;
          const char *word = iov_explain_step_word (iov_run_get_step (r->run, s), &tone);
          GtkWidget *button = gtk_button_new_with_label (word);
          g_autofree char *tooltip = NULL;

          /* Translators: a cell's tooltip: "QEMU 5.0, step 3: abort" */
          tooltip = g_strdup_printf (_("%s, step %d: %s"), r->profile->label, s + 1, word);
          gtk_widget_set_tooltip_text (button, tooltip);
          gtk_widget_add_css_class (button, "flat");
          gtk_widget_add_css_class (button, "iov-cell");
          iov_step_view_set_tone (gtk_button_get_child (GTK_BUTTON (button)), tone);
          gtk_widget_set_hexpand (button, TRUE);
          g_object_set_data (G_OBJECT (button), "step", GINT_TO_POINTER (s));
          g_object_set_data (G_OBJECT (button), "profile", (gpointer) r->profile);
          g_signal_connect_object (button, "clicked", G_CALLBACK (compare_cell_clicked_cb), self,
                                   G_CONNECT_SWAPPED);
          gtk_grid_attach (self->compare_grid, button, s + 1, i + 1, 1, 1);
        }
    }
}

static void
highlight_compare (IovPlayer *self)
{
  int position = iov_stepper_get_position (self->stepper);

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->compare_grid));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      gboolean current = GTK_IS_BUTTON (child) &&
                         g_object_get_data (G_OBJECT (child), "profile") == self->profile &&
                         GPOINTER_TO_INT (g_object_get_data (G_OBJECT (child), "step")) == position;

      if (current)
        gtk_widget_add_css_class (child, "iov-current");
      else
        gtk_widget_remove_css_class (child, "iov-current");
    }
}

static void
rerun (IovPlayer *self)
{
  g_clear_pointer (&self->what_if, iov_what_if_free);
  if (self->scenario != NULL)
    self->what_if = iov_what_if_new (self->scenario, self->profiles, self->n_profiles);
  pick_run (self);
  build_compare (self);
}

static void
position_changed_cb (IovPlayer  *self,
                     GParamSpec *pspec,
                     IovStepper *stepper)
{
  update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POSITION]);
}

static void
playing_changed_cb (IovPlayer  *self,
                    GParamSpec *pspec,
                    IovStepper *stepper)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

static void
profile_selected_cb (IovPlayer   *self,
                     GParamSpec  *pspec,
                     GtkDropDown *dropdown)
{
  guint selected = gtk_drop_down_get_selected (dropdown);

  if (selected < self->n_profiles && self->profiles[selected] != self->profile)
    iov_player_set_profile (self, self->profiles[selected]->id);
}

static void
cell_setup_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *list_item,
               gpointer                  user_data)
{
  GtkWidget *label = gtk_label_new (NULL);
  IovOutcomeColumn column = GPOINTER_TO_UINT (user_data);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  if (column == IOV_OUTCOME_COLUMN_IOVA || column == IOV_OUTCOME_COLUMN_SIZE ||
      column == IOV_OUTCOME_COLUMN_DELIVERED)
    gtk_widget_add_css_class (label, "monospace");
  gtk_list_item_set_child (list_item, label);
}

static void
cell_bind_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item,
              gpointer                  user_data)
{
  IovOutcomeItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *label = gtk_list_item_get_child (list_item);
  IovOutcomeColumn column = GPOINTER_TO_UINT (user_data);
  const char *text = iov_outcome_item_get_text (item, column);

  gtk_label_set_text (GTK_LABEL (label), text);
  gtk_widget_set_tooltip_text (label, text[0] ? text : NULL);
  if (column == IOV_OUTCOME_COLUMN_OUTCOME)
    iov_step_view_set_tone (label, iov_explain_outcome_tone (iov_outcome_item_get_result (item),
                                                             iov_outcome_item_get_cropped (item)));
}

static void
setup_event_view (IovPlayer *self)
{
  const char *titles[IOV_OUTCOME_N_COLUMNS] = {
    [IOV_OUTCOME_COLUMN_EVENT] = _("Event"),
    [IOV_OUTCOME_COLUMN_IOVA] = _("IOVA"),
    [IOV_OUTCOME_COLUMN_SIZE] = _("Mask (size)"),
    [IOV_OUTCOME_COLUMN_NOTIFIER] = _("Notifier"),
    [IOV_OUTCOME_COLUMN_OUTCOME] = _("Outcome"),
    [IOV_OUTCOME_COLUMN_DELIVERED] = _("What the notifier got"),
  };
  g_autoptr(GtkNoSelection) selection = NULL;

  self->outcomes = iov_outcome_list_new ();
  selection = gtk_no_selection_new (G_LIST_MODEL (g_object_ref (self->outcomes)));
  gtk_column_view_set_model (self->event_view, GTK_SELECTION_MODEL (selection));

  for (guint i = 0; i < IOV_OUTCOME_N_COLUMNS; i++)
    {
      GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
      g_autoptr(GtkColumnViewColumn) column = NULL;

      g_signal_connect (factory, "setup", G_CALLBACK (cell_setup_cb), GUINT_TO_POINTER (i));
      g_signal_connect (factory, "bind", G_CALLBACK (cell_bind_cb), GUINT_TO_POINTER (i));
      column = gtk_column_view_column_new (titles[i], factory);
      gtk_column_view_column_set_resizable (column, TRUE);
      gtk_column_view_column_set_expand (column, i == IOV_OUTCOME_COLUMN_DELIVERED);
      gtk_column_view_append_column (self->event_view, column);
    }
}

static void
speed_selected_cb (IovPlayer   *self,
                   GParamSpec  *pspec,
                   GtkDropDown *dropdown)
{
  guint selected = gtk_drop_down_get_selected (dropdown);

  if (selected >= G_N_ELEMENTS (speeds))
    return;
  iov_stepper_set_speed (self->stepper, speeds[selected]);
  iov_notifier_lanes_set_speed (self->lanes, speeds[selected]);
}

static void
step_forward_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  iov_player_set_playing (IOV_PLAYER (widget), FALSE);
  iov_player_step (IOV_PLAYER (widget), 1);
}

static void
step_back_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *param)
{
  iov_player_set_playing (IOV_PLAYER (widget), FALSE);
  iov_player_step (IOV_PLAYER (widget), -1);
}

static void
play_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  IovPlayer *self = IOV_PLAYER (widget);

  iov_player_set_playing (self, !iov_player_get_playing (self));
}

static void
edit_toggled_cb (IovPlayer *self)
{
  if (gtk_toggle_button_get_active (self->edit_button))
    {
      iov_scenario_editor_load (self->editor, self->scenario);
      gtk_widget_grab_focus (GTK_WIDGET (self->editor));
    }
}

/* The editor's text parsed: run it under the same profile, at the same
 * step where it still exists. */
static void
scenario_edited_cb (IovPlayer         *self,
                    gpointer           scenario,
                    IovScenarioEditor *editor)
{
  IovScenario *edited = iov_scenario_editor_steal_scenario (editor);
  int position = iov_stepper_get_position (self->stepper);

  g_assert (edited == scenario);
  self->applying_edit = TRUE;
  iov_player_set_scenario (self, edited, self->profile != NULL ? self->profile->id : NULL);
  self->applying_edit = FALSE;
  iov_player_set_position (self, MIN (position, n_steps (self) - 1));
}

static void
iov_player_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  IovPlayer *self = IOV_PLAYER (object);

  switch (prop_id)
    {
    case PROP_PLAYING:
      g_value_set_boolean (value, iov_player_get_playing (self));
      break;
    case PROP_POSITION:
      g_value_set_int (value, iov_stepper_get_position (self->stepper));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
iov_player_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  IovPlayer *self = IOV_PLAYER (object);

  switch (prop_id)
    {
    case PROP_PLAYING:
      iov_player_set_playing (self, g_value_get_boolean (value));
      break;
    case PROP_POSITION:
      iov_player_set_position (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
iov_player_dispose (GObject *object)
{
  IovPlayer *self = IOV_PLAYER (object);

  /* Stop the clock, and redraw nothing once the template is gone; the
   * stepper itself stays for calls that come during the window's teardown. */
  iov_stepper_set_playing (self->stepper, FALSE);
  g_signal_handlers_disconnect_by_data (self->stepper, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), IOV_TYPE_PLAYER);

  G_OBJECT_CLASS (iov_player_parent_class)->dispose (object);
}

static void
iov_player_finalize (GObject *object)
{
  IovPlayer *self = IOV_PLAYER (object);

  self->run = NULL;
  self->run_error = NULL;
  g_clear_pointer (&self->what_if, iov_what_if_free);
  g_clear_pointer (&self->scenario, iov_scenario_free);
  g_clear_object (&self->outcomes);
  g_clear_object (&self->stepper);
  g_free (self->profiles);

  G_OBJECT_CLASS (iov_player_parent_class)->finalize (object);
}

static void
iov_player_class_init (IovPlayerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = iov_player_get_property;
  object_class->set_property = iov_player_set_property;
  object_class->dispose = iov_player_dispose;
  object_class->finalize = iov_player_finalize;

  properties[PROP_PLAYING] =
    g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_POSITION] =
    g_param_spec_int ("position", NULL, NULL, -1, G_MAXINT, -1,
                      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (IOV_TYPE_RANGE_MAP);
  g_type_ensure (IOV_TYPE_NOTIFIER_LANES);
  g_type_ensure (IOV_TYPE_SCENARIO_EDITOR);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/iovista/Iovista/iov-player.ui");
  gtk_widget_class_bind_template_child (widget_class, IovPlayer, box);
  gtk_widget_class_bind_template_child (widget_class, IovPlayer, play_button);
  gtk_widget_class_bind_template_child (widget_class, IovPlayer, step_label);
  gtk_widget_class_bind_template_child (widget_class, IovPlayer, profile_dropdown);
  gtk_widget_class_bind_template_child (widget_class, IovPlayer, speed_dropdown);
  gtk_widget_class_bind_template_child (widget_class, IovPlayer, abort_revealer);
  gtk_widget_class_bind_template_child (widget_class, IovPlayer, abort_label);
  gtk_widget_class_bind_template_child (widget_class, IovPlayer, explain_label);
  gtk_widget_class_bind_template_child (widget_class, IovPlayer, range_map);
  gtk_widget_class_bind_template_child (widget_class, IovPlayer, lanes);
  gtk_widget_class_bind_template_child (widget_class, IovPlayer, compare_grid);
  gtk_widget_class_bind_template_child (widget_class, IovPlayer, no_events_label);
  gtk_widget_class_bind_template_child (widget_class, IovPlayer, event_scroller);
  gtk_widget_class_bind_template_child (widget_class, IovPlayer, event_view);
  gtk_widget_class_bind_template_child (widget_class, IovPlayer, paned);
  gtk_widget_class_bind_template_child (widget_class, IovPlayer, edit_button);
  gtk_widget_class_bind_template_child (widget_class, IovPlayer, editor);

  gtk_widget_class_install_action (widget_class, "player.step-forward", NULL, step_forward_action);
  gtk_widget_class_install_action (widget_class, "player.step-back", NULL, step_back_action);
  gtk_widget_class_install_action (widget_class, "player.play", NULL, play_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "iovplayer");
}

static void
iov_player_init (IovPlayer *self)
{
  g_autoptr(GtkStringList) labels = gtk_string_list_new (NULL);

  gtk_widget_init_template (GTK_WIDGET (self));
  self->stepper = iov_stepper_new ("[iovista] player step");
  iov_stepper_set_speed (self->stepper, speeds[DEFAULT_SPEED_INDEX]);
  g_signal_connect_object (self->stepper, "notify::position", G_CALLBACK (position_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->stepper, "notify::playing", G_CALLBACK (playing_changed_cb), self,
                           G_CONNECT_SWAPPED);
  iov_step_view_bind_play_button (self->play_button, self->stepper);
  setup_event_view (self);

  {
    g_autoptr(GtkStringList) speed_labels = gtk_string_list_new (NULL);

    for (guint i = 0; i < G_N_ELEMENTS (speeds); i++)
      {
        g_autofree char *label = g_strdup_printf ("%g×", speeds[i]);

        gtk_string_list_append (speed_labels, label);
      }
    gtk_drop_down_set_model (self->speed_dropdown, G_LIST_MODEL (speed_labels));
    gtk_drop_down_set_selected (self->speed_dropdown, DEFAULT_SPEED_INDEX);
    g_signal_connect_object (self->speed_dropdown, "notify::selected",
                             G_CALLBACK (speed_selected_cb), self, G_CONNECT_SWAPPED);
  }

  {
    const IovProfile **list = iov_profile_list (&self->n_profiles);

    self->profiles = g_new (const IovProfile *, MAX (self->n_profiles, 1));
    for (guint i = 0; i < self->n_profiles; i++)
      {
        g_autofree char *label = g_strdup_printf ("%s (%s)", list[i]->label, list[i]->versions);

        self->profiles[i] = list[i];
        gtk_string_list_append (labels, label);
      }
  }
  gtk_drop_down_set_model (self->profile_dropdown, G_LIST_MODEL (labels));
  g_signal_connect_object (self->profile_dropdown, "notify::selected",
                           G_CALLBACK (profile_selected_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->edit_button, "notify::active",
                           G_CALLBACK (edit_toggled_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->editor, "scenario-edited",
                           G_CALLBACK (scenario_edited_cb), self, G_CONNECT_SWAPPED);
  update (self);
}

GtkWidget *
iov_player_new (void)
{
  return g_object_new (IOV_TYPE_PLAYER, NULL);
}

void
iov_player_set_scenario (IovPlayer   *self,
                         IovScenario *scenario,
                         const char  *profile_id)
{
  const IovProfile *profile = NULL;

  g_return_if_fail (IOV_IS_PLAYER (self));

  iov_stepper_set_playing (self->stepper, FALSE);
  g_clear_pointer (&self->scenario, iov_scenario_free);
  self->scenario = scenario;

  if (profile_id == NULL && scenario != NULL)
    profile_id = scenario->profile;
  if (profile_id != NULL)
    profile = iov_profile_lookup (profile_id);
  if (profile == NULL && self->n_profiles > 0)
    profile = self->profiles[self->n_profiles - 1];
  self->profile = profile;

  for (guint i = 0; i < self->n_profiles; i++)
    if (self->profiles[i] == profile)
      {
        g_signal_handlers_block_by_func (self->profile_dropdown, profile_selected_cb, self);
        gtk_drop_down_set_selected (self->profile_dropdown, i);
        g_signal_handlers_unblock_by_func (self->profile_dropdown, profile_selected_cb, self);
      }

  rerun (self);
  /* Before the first step of the new scenario, drawn once, below. */
  g_signal_handlers_block_by_func (self->stepper, position_changed_cb, self);
  iov_stepper_set_n_steps (self->stepper, n_steps (self));
  iov_stepper_set_position (self->stepper, -1);
  g_signal_handlers_unblock_by_func (self->stepper, position_changed_cb, self);
  update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POSITION]);

  if (!self->applying_edit && gtk_toggle_button_get_active (self->edit_button))
    iov_scenario_editor_load (self->editor, self->scenario);
}

const IovScenario *
iov_player_get_scenario (IovPlayer *self)
{
  g_return_val_if_fail (IOV_IS_PLAYER (self), NULL);
  return self->scenario;
}

const IovRun *
iov_player_get_run (IovPlayer *self)
{
  g_return_val_if_fail (IOV_IS_PLAYER (self), NULL);
  return self->run;
}

gboolean
iov_player_set_profile (IovPlayer  *self,
                        const char *profile_id)
{
  const IovProfile *profile;

  g_return_val_if_fail (IOV_IS_PLAYER (self), FALSE);
  g_return_val_if_fail (profile_id != NULL, FALSE);

  profile = iov_profile_lookup (profile_id);
  if (profile == NULL)
    return FALSE;
  self->profile = profile;
  for (guint i = 0; i < self->n_profiles; i++)
    if (self->profiles[i] == profile && gtk_drop_down_get_selected (self->profile_dropdown) != i)
      gtk_drop_down_set_selected (self->profile_dropdown, i);
  pick_run (self);
  update (self);
  return TRUE;
}

int
iov_player_get_position (IovPlayer *self)
{
  g_return_val_if_fail (IOV_IS_PLAYER (self), -1);
  return iov_stepper_get_position (self->stepper);
}

void
iov_player_set_position (IovPlayer *self,
                         int        position)
{
  g_return_if_fail (IOV_IS_PLAYER (self));
  iov_stepper_set_position (self->stepper, position);
}

void
iov_player_step (IovPlayer *self,
                 int        delta)
{
  g_return_if_fail (IOV_IS_PLAYER (self));
  iov_stepper_step (self->stepper, delta);
}

gboolean
iov_player_get_playing (IovPlayer *self)
{
  g_return_val_if_fail (IOV_IS_PLAYER (self), FALSE);
  return iov_stepper_get_playing (self->stepper);
}

void
iov_player_set_playing (IovPlayer *self,
                        gboolean   playing)
{
  g_return_if_fail (IOV_IS_PLAYER (self));
  iov_stepper_set_playing (self->stepper, playing);
}

GtkWidget *
iov_player_get_range_map (IovPlayer *self)
{
  g_return_val_if_fail (IOV_IS_PLAYER (self), NULL);
  return GTK_WIDGET (self->range_map);
}

GtkWidget *
iov_player_get_lanes (IovPlayer *self)
{
  g_return_val_if_fail (IOV_IS_PLAYER (self), NULL);
  return GTK_WIDGET (self->lanes);
}

/* The editor beside the map, shown by the Edit toggle. */
GtkWidget *
iov_player_get_editor (IovPlayer *self)
{
  g_return_val_if_fail (IOV_IS_PLAYER (self), NULL);
  return GTK_WIDGET (self->editor);
}

void
iov_player_set_editing (IovPlayer *self,
                        gboolean   editing)
{
  g_return_if_fail (IOV_IS_PLAYER (self));
  gtk_toggle_button_set_active (self->edit_button, editing);
}
