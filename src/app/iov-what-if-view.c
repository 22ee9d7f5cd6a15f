/* iov-what-if-view.c
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

#define G_LOG_DOMAIN "iov-what-if-view"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "iov-notifier-lanes.h"
#include "iov-range-map.h"
#include "iov-step-view.h"
#include "iov-what-if-view.h"
#include "iov-what-if.h"

#define MIN_COLUMNS 2
#define MAX_COLUMNS 4

static const char *const default_profiles[] = { "qemu-5.0", "qemu-6.0", "qemu-10.2", NULL };

typedef struct
{
  const IovProfile *profile;
  const IovRun     *run;       /* in what_if; NULL when invalid */
  const GError     *error;
  GtkWidget        *header;
  GtkLabel         *outcome_label;
  IovRangeMap      *range_map;
  IovNotifierLanes *lanes;
  const char       *word;      /* at the current step */
  gboolean          differs;
} Column;

struct _IovWhatIfView
{
  GtkWidget          parent_instance;

  /* Template widgets */
  GtkWidget         *box;
  GtkButton         *play_button;
  GtkLabel          *step_label;
  GtkMenuButton     *versions_button;
  GtkBox            *versions_box;
  GtkLabel          *explain_label;
  GtkFlowBox        *columns_box;
  GtkListBox        *diff_list;

  const IovScenario *scenario;
  const IovProfile  *chosen[MAX_COLUMNS];
  guint              n_chosen;
  IovWhatIf         *what_if;
  GArray            *differences;   /* guint step indexes */
  Column             columns[MAX_COLUMNS];
  guint              n_columns;
  IovStepper        *stepper;       /* the position, and playing */
};

G_DEFINE_FINAL_TYPE (IovWhatIfView, iov_what_if_view, GTK_TYPE_WIDGET)

static int
n_steps (IovWhatIfView *self)
{
  return self->scenario != NULL ? (int) self->scenario->steps->len : 0;
}

static gboolean
is_difference (IovWhatIfView *self,
               int            position)
{
  for (guint i = 0; self->differences != NULL && i < self->differences->len; i++)
    if ((int) g_array_index (self->differences, guint, i) == position)
      return TRUE;
  return FALSE;
}

/* A column stands out when its outcome is not the most common one; when
 * every column says something else, they all do. */
static void
mark_differences (IovWhatIfView *self)
{
  guint counts[MAX_COLUMNS] = { 0 };
  guint max_count = 0;

  for (guint i = 0; i < self->n_columns; i++)
    {
      for (guint j = 0; j < self->n_columns; j++)
        counts[i] += g_strcmp0 (self->columns[i].word, self->columns[j].word) == 0;
      max_count = MAX (max_count, counts[i]);
    }
  for (guint i = 0; i < self->n_columns; i++)
    self->columns[i].differs = self->n_columns > 1 &&
                               (counts[i] < max_count || (max_count == 1));
}

static void
update (IovWhatIfView *self)
{
  int position = iov_stepper_get_position (self->stepper);
  g_autofree char *step_text = NULL;
  const char *explain = NULL;

  iov_step_view_sync_actions (GTK_WIDGET (self), "what-if", self->stepper, TRUE);
  {
    gboolean later = FALSE;

    for (guint i = 0; self->differences != NULL && i < self->differences->len; i++)
      later |= (int) g_array_index (self->differences, guint, i) > position;
    gtk_widget_action_set_enabled (GTK_WIDGET (self), "what-if.next-difference", later);
  }

  if (self->scenario == NULL)
    {
      gtk_label_set_text (self->step_label, "");
      gtk_label_set_text (self->explain_label, "");
      return;
    }

  {
    g_autofree char *text = iov_explain_step_title (self->scenario, position);

    /* ≠ marks a step where the chosen versions disagree. */
    step_text = g_strconcat (is_difference (self, position) ? "≠ " : "", text, NULL);
  }
  gtk_label_set_text (self->step_label, step_text);

  if (position < 0)
    explain = self->scenario->summary;
  else
    explain = g_array_index (self->scenario->steps, IovStep, position).explain;
  for (guint i = 0; explain == NULL && i < self->n_columns; i++)
    {
      const IovStepResult *r = iov_run_get_step (self->columns[i].run, position);

      if (r != NULL && !r->not_run)
        explain = r->explain;
    }
  gtk_label_set_text (self->explain_label, explain ? explain : "");

  for (guint i = 0; i < self->n_columns; i++)
    {
      Column *c = &self->columns[i];
      IovTone tone = IOV_TONE_NEUTRAL;

      if (c->run == NULL)
        c->word = _("not valid for this version");
      else if (position < 0)
        c->word = _("before the first step");
      else
        c->word = iov_explain_step_word (iov_run_get_step (c->run, position), &tone);

      iov_step_view_set_tone (c->header, tone);
      gtk_label_set_text (c->outcome_label, c->word);
      gtk_widget_set_tooltip_text (c->header, c->error ? c->error->message : NULL);

      if (c->run != NULL)
        iov_step_view_show (c->range_map, c->lanes, self->scenario, c->run, c->profile, position);
    }

  mark_differences (self);
  for (guint i = 0; i < self->n_columns; i++)
    {
      if (self->columns[i].differs && position >= 0)
        gtk_widget_add_css_class (self->columns[i].header, "iov-differs");
      else
        gtk_widget_remove_css_class (self->columns[i].header, "iov-differs");
    }
}

static void
position_changed_cb (IovWhatIfView *self,
                     GParamSpec    *pspec,
                     IovStepper    *stepper)
{
  update (self);
}

static void
diff_row_activated_cb (IovWhatIfView *self,
                       GtkListBoxRow *row,
                       GtkListBox    *list)
{
  iov_what_if_view_set_playing (self, FALSE);
  iov_what_if_view_set_position (self, GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "step")));
}

static void
build_differences (IovWhatIfView *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->diff_list))) != NULL)
    gtk_list_box_remove (self->diff_list, child);

  if (self->differences == NULL || self->differences->len == 0)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     self->scenario != NULL
                                     ? _("These versions agree at every step.")
                                     : _("No scenario"));
      gtk_list_box_append (self->diff_list, row);
      return;
    }

  for (guint d = 0; d < self->differences->len; d++)
    {
      int s = g_array_index (self->differences, guint, d);
      const IovStep *step = &g_array_index (self->scenario->steps, IovStep, s);
      GString *subtitle = g_string_new (NULL);
      g_autofree char *title = NULL;
      GtkWidget *row = adw_action_row_new ();

      /* Translators: a difference's title: "Step 3 · device-iotlb-invalidate" */
      title = g_strdup_printf (_("Step %d · %s"), s + 1, iov_step_op_to_string (step->op));
      for (guint i = 0; i < self->n_columns; i++)
        {
          IovTone tone;
          const char *word = self->columns[i].run != NULL
                             ? iov_explain_step_word (iov_run_get_step (self->columns[i].run, s), &tone)
                             : _("not valid for this version");

          if (i > 0)
            g_string_append (subtitle, "   ·   ");
          /* Translators: one version's outcome in the differences list: "QEMU 5.0: ✖ abort" */
          g_string_append_printf (subtitle, _("%s: %s"), self->columns[i].profile->label, word);
        }
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle->str);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("go-next-symbolic"));
      g_object_set_data (G_OBJECT (row), "step", GINT_TO_POINTER (s));
      gtk_list_box_append (self->diff_list, row);
      g_string_free (subtitle, TRUE);
    }
}

static GtkWidget *
build_column (IovWhatIfView *self,
              Column        *c)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *name = gtk_label_new (c->profile->label);
  GtkWidget *versions = gtk_label_new (c->profile->versions);
  GtkWidget *outcome = gtk_label_new (NULL);

  gtk_widget_add_css_class (header, "iov-column-header");
  gtk_widget_add_css_class (name, "heading");
  gtk_widget_add_css_class (versions, "caption");
  gtk_widget_add_css_class (outcome, "iov-column-outcome");
  gtk_label_set_ellipsize (GTK_LABEL (versions), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (header), name);
  gtk_box_append (GTK_BOX (header), versions);
  gtk_box_append (GTK_BOX (header), outcome);
  gtk_box_append (GTK_BOX (box), header);

  c->header = header;
  c->outcome_label = GTK_LABEL (outcome);
  c->range_map = IOV_RANGE_MAP (iov_range_map_new ());
  c->lanes = IOV_NOTIFIER_LANES (iov_notifier_lanes_new ());
  gtk_widget_add_css_class (GTK_WIDGET (c->range_map), "iov-card");
  gtk_widget_add_css_class (GTK_WIDGET (c->lanes), "iov-card");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (c->range_map));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (c->lanes));

  if (c->run == NULL)
    {
      GtkWidget *invalid = gtk_label_new (c->error ? c->error->message : NULL);

      gtk_label_set_wrap (GTK_LABEL (invalid), TRUE);
      gtk_widget_add_css_class (invalid, "dim-label");
      gtk_box_append (GTK_BOX (box), invalid);
      gtk_widget_set_visible (GTK_WIDGET (c->range_map), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (c->lanes), FALSE);
    }

  /* The map asks for a wide natural size; the flow box would then put
   * one column per line. A scrolled window that never scrolls asks for
   * the map's minimum only, so two columns share a line at 1100 px. */
  {
    GtkWidget *wrapper = gtk_scrolled_window_new ();

    gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (wrapper), GTK_POLICY_NEVER, GTK_POLICY_NEVER);
    gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (wrapper), TRUE);
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (wrapper), box);
    return wrapper;
  }
}

static void
rebuild (IovWhatIfView *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->columns_box))) != NULL)
    gtk_flow_box_remove (self->columns_box, child);
  memset (self->columns, 0, sizeof self->columns);
  self->n_columns = 0;
  g_clear_pointer (&self->differences, g_array_unref);
  g_clear_pointer (&self->what_if, iov_what_if_free);

  if (self->scenario != NULL)
    {
      self->what_if = iov_what_if_new (self->scenario, self->chosen, self->n_chosen);
      self->differences = iov_what_if_differences (self->what_if);
      for (guint i = 0; i < self->what_if->runs->len && i < MAX_COLUMNS; i++)
        {
          IovWhatIfRun *r = g_ptr_array_index (self->what_if->runs, i);
          Column *c = &self->columns[self->n_columns++];

          c->profile = r->profile;
          c->run = r->run;
          c->error = r->error;
          gtk_flow_box_insert (self->columns_box, build_column (self, c), -1);
        }
    }

  build_differences (self);
  /* drawn once, below */
  g_signal_handlers_block_by_func (self->stepper, position_changed_cb, self);
  iov_stepper_set_n_steps (self->stepper, n_steps (self));
  g_signal_handlers_unblock_by_func (self->stepper, position_changed_cb, self);
  update (self);
}

static void
sync_version_checks (IovWhatIfView *self)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->versions_box));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      gboolean active;

      if (!GTK_IS_CHECK_BUTTON (child))
        continue;
      active = gtk_check_button_get_active (GTK_CHECK_BUTTON (child));
      /* Keep two to four chosen. */
      gtk_widget_set_sensitive (child, active ? self->n_chosen > MIN_COLUMNS : self->n_chosen < MAX_COLUMNS);
    }
}

static void
version_toggled_cb (IovWhatIfView  *self,
                    GtkCheckButton *check)
{
  const IovProfile *profile = g_object_get_data (G_OBJECT (check), "profile");
  guint n_list;
  const IovProfile **list = iov_profile_list (&n_list);
  const IovProfile *chosen[MAX_COLUMNS];
  guint n = 0;

  /* Keep the profiles' own order: oldest QEMU on the left. */
  for (guint i = 0; i < n_list; i++)
    {
      gboolean was = FALSE;

      for (guint k = 0; k < self->n_chosen; k++)
        was |= self->chosen[k] == list[i];
      if (list[i] == profile)
        was = gtk_check_button_get_active (check);
      if (was && n < MAX_COLUMNS)
        chosen[n++] = list[i];
    }
  if (n < MIN_COLUMNS)
    return;
  memcpy (self->chosen, chosen, sizeof chosen);
  self->n_chosen = n;
  sync_version_checks (self);
  rebuild (self);
}

static void
populate_versions (IovWhatIfView *self)
{
  guint n_list;
  const IovProfile **list = iov_profile_list (&n_list);

  for (guint i = 0; i < n_list; i++)
    {
      g_autofree char *label = g_strdup_printf ("%s (%s)", list[i]->label, list[i]->versions);
      GtkWidget *check = gtk_check_button_new_with_label (label);
      gboolean active = FALSE;

      for (guint k = 0; k < self->n_chosen; k++)
        active |= self->chosen[k] == list[i];
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check), active);
      g_object_set_data (G_OBJECT (check), "profile", (gpointer) list[i]);
      g_signal_connect_object (check, "toggled", G_CALLBACK (version_toggled_cb), self, G_CONNECT_SWAPPED);
      gtk_box_append (self->versions_box, check);
    }
  sync_version_checks (self);
}

static void
step_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  IovWhatIfView *self = IOV_WHAT_IF_VIEW (widget);

  iov_stepper_set_playing (self->stepper, FALSE);
  iov_stepper_step (self->stepper, g_str_equal (action_name, "what-if.step-back") ? -1 : 1);
}

static void
play_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  IovWhatIfView *self = IOV_WHAT_IF_VIEW (widget);

  iov_stepper_set_playing (self->stepper, !iov_stepper_get_playing (self->stepper));
}

static void
next_difference_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *param)
{
  IovWhatIfView *self = IOV_WHAT_IF_VIEW (widget);

  iov_what_if_view_set_playing (self, FALSE);
  iov_what_if_view_next_difference (self);
}

static void
iov_what_if_view_dispose (GObject *object)
{
  IovWhatIfView *self = IOV_WHAT_IF_VIEW (object);

  /* Stop the clock, and redraw nothing once the template is gone; the
   * stepper itself stays for calls that come during the window's teardown. */
  iov_stepper_set_playing (self->stepper, FALSE);
  g_signal_handlers_disconnect_by_data (self->stepper, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), IOV_TYPE_WHAT_IF_VIEW);

  G_OBJECT_CLASS (iov_what_if_view_parent_class)->dispose (object);
}

static void
iov_what_if_view_finalize (GObject *object)
{
  IovWhatIfView *self = IOV_WHAT_IF_VIEW (object);

  g_clear_pointer (&self->differences, g_array_unref);
  g_clear_pointer (&self->what_if, iov_what_if_free);
  g_clear_object (&self->stepper);

  G_OBJECT_CLASS (iov_what_if_view_parent_class)->finalize (object);
}

static void
iov_what_if_view_class_init (IovWhatIfViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = iov_what_if_view_dispose;
  object_class->finalize = iov_what_if_view_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/iovista/Iovista/iov-what-if-view.ui");
  gtk_widget_class_bind_template_child (widget_class, IovWhatIfView, box);
  gtk_widget_class_bind_template_child (widget_class, IovWhatIfView, play_button);
  gtk_widget_class_bind_template_child (widget_class, IovWhatIfView, step_label);
  gtk_widget_class_bind_template_child (widget_class, IovWhatIfView, versions_button);
  gtk_widget_class_bind_template_child (widget_class, IovWhatIfView, versions_box);
  gtk_widget_class_bind_template_child (widget_class, IovWhatIfView, explain_label);
  gtk_widget_class_bind_template_child (widget_class, IovWhatIfView, columns_box);
  gtk_widget_class_bind_template_child (widget_class, IovWhatIfView, diff_list);
  gtk_widget_class_bind_template_callback (widget_class, diff_row_activated_cb);

  gtk_widget_class_install_action (widget_class, "what-if.step-back", NULL, step_action);
  gtk_widget_class_install_action (widget_class, "what-if.step-forward", NULL, step_action);
  gtk_widget_class_install_action (widget_class, "what-if.play", NULL, play_action);
  gtk_widget_class_install_action (widget_class, "what-if.next-difference", NULL, next_difference_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK, "what-if.next-difference", NULL);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "iovwhatifview");

  g_type_ensure (IOV_TYPE_RANGE_MAP);
  g_type_ensure (IOV_TYPE_NOTIFIER_LANES);
}

static void
iov_what_if_view_init (IovWhatIfView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->stepper = iov_stepper_new ("[iovista] what-if step");
  g_signal_connect_object (self->stepper, "notify::position", G_CALLBACK (position_changed_cb), self,
                           G_CONNECT_SWAPPED);
  iov_step_view_bind_play_button (self->play_button, self->stepper);
  for (guint i = 0; default_profiles[i] != NULL; i++)
    {
      const IovProfile *profile = iov_profile_lookup (default_profiles[i]);

      if (profile != NULL && self->n_chosen < MAX_COLUMNS)
        self->chosen[self->n_chosen++] = profile;
    }
  populate_versions (self);
  rebuild (self);
}

GtkWidget *
iov_what_if_view_new (void)
{
  return g_object_new (IOV_TYPE_WHAT_IF_VIEW, NULL);
}

void
iov_what_if_view_set_scenario (IovWhatIfView     *self,
                               const IovScenario *scenario)
{
  g_return_if_fail (IOV_IS_WHAT_IF_VIEW (self));

  iov_stepper_set_playing (self->stepper, FALSE);
  self->scenario = scenario;
  /* before the first step, drawn once by rebuild() */
  g_signal_handlers_block_by_func (self->stepper, position_changed_cb, self);
  iov_stepper_set_position (self->stepper, -1);
  g_signal_handlers_unblock_by_func (self->stepper, position_changed_cb, self);
  rebuild (self);
}

gboolean
iov_what_if_view_set_profiles (IovWhatIfView      *self,
                               const char * const *profile_ids)
{
  const IovProfile *chosen[MAX_COLUMNS];
  guint n = 0;

  g_return_val_if_fail (IOV_IS_WHAT_IF_VIEW (self), FALSE);
  g_return_val_if_fail (profile_ids != NULL, FALSE);

  for (guint i = 0; profile_ids[i] != NULL; i++)
    {
      const IovProfile *profile = iov_profile_lookup (profile_ids[i]);

      if (profile == NULL || n == MAX_COLUMNS)
        return FALSE;
      chosen[n++] = profile;
    }
  if (n < MIN_COLUMNS)
    return FALSE;

  memcpy (self->chosen, chosen, sizeof chosen);
  self->n_chosen = n;
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->versions_box));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_CHECK_BUTTON (child))
      {
        gboolean active = FALSE;

        for (guint k = 0; k < n; k++)
          active |= chosen[k] == g_object_get_data (G_OBJECT (child), "profile");
        g_signal_handlers_block_by_func (child, version_toggled_cb, self);
        gtk_check_button_set_active (GTK_CHECK_BUTTON (child), active);
        g_signal_handlers_unblock_by_func (child, version_toggled_cb, self);
      }
  sync_version_checks (self);
  rebuild (self);
  return TRUE;
}

guint
iov_what_if_view_get_n_columns (IovWhatIfView *self)
{
  guint n = 0;

  g_return_val_if_fail (IOV_IS_WHAT_IF_VIEW (self), 0);

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->columns_box));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n++;
  return n;
}

const char *
iov_what_if_view_get_column_outcome (IovWhatIfView *self,
                                     guint          column,
                                     gboolean      *differs)
{
  g_return_val_if_fail (IOV_IS_WHAT_IF_VIEW (self), NULL);
  g_return_val_if_fail (column < self->n_columns, NULL);

  if (differs != NULL)
    *differs = gtk_widget_has_css_class (self->columns[column].header, "iov-differs");
  return gtk_label_get_text (self->columns[column].outcome_label);
}

int
iov_what_if_view_get_position (IovWhatIfView *self)
{
  g_return_val_if_fail (IOV_IS_WHAT_IF_VIEW (self), -1);
  return iov_stepper_get_position (self->stepper);
}

void
iov_what_if_view_set_position (IovWhatIfView *self,
                               int            position)
{
  g_return_if_fail (IOV_IS_WHAT_IF_VIEW (self));
  iov_stepper_set_position (self->stepper, position);
}

gboolean
iov_what_if_view_next_difference (IovWhatIfView *self)
{
  g_return_val_if_fail (IOV_IS_WHAT_IF_VIEW (self), FALSE);

  for (guint i = 0; self->differences != NULL && i < self->differences->len; i++)
    {
      int step = g_array_index (self->differences, guint, i);

      if (step > iov_stepper_get_position (self->stepper))
        {
          iov_what_if_view_set_position (self, step);
          return TRUE;
        }
    }
  return FALSE;
}

void
iov_what_if_view_set_playing (IovWhatIfView *self,
                              gboolean       playing)
{
  g_return_if_fail (IOV_IS_WHAT_IF_VIEW (self));
  iov_stepper_set_playing (self->stepper, playing);
}
