/* iov-lesson.c
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

#define G_LOG_DOMAIN "iov-lesson"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "iov-lesson.h"
#include "iov-notifier-lanes.h"
#include "iov-range-map.h"
#include "iov-scenario.h"
#include "iov-step-view.h"
#include "iov-system.h"

typedef struct
{
  const char *scenario;
  const char *profile;   /* NULL: the scenario's own */
  const char *title;
} Lesson;

static const Lesson lessons[] = {
  { "two-flatranges", NULL, N_("Why two FlatRanges?") },
  { "2020-deviotlb-crash", "qemu-5.0", N_("The device-IOTLB flush that crashed QEMU 5.0") },
  { "vfio-caching-mode", NULL, N_("vfio, caching mode and the page walk") },
  { "vhost-double-unmap", NULL, N_("vhost’s duplicate UNMAPs") },
  { "virtio-iommu-split", NULL, N_("virtio-iommu splits") },
};

typedef struct
{
  const IovNotifier *notifier;
  IovLessonGuess     answer;
  GtkDropDown       *dropdown;
  GtkLabel          *mark_label;
} Prediction;

struct _IovLesson
{
  GtkWidget         parent_instance;

  /* Template widgets */
  GtkWidget        *box;
  GtkDropDown      *lesson_dropdown;
  GtkLabel         *step_label;
  GtkToggleButton  *large_text_button;
  GtkLabel         *explain_label;
  IovRangeMap      *range_map;
  GtkWidget        *predict_box;
  GtkListBox       *predict_list;
  GtkLabel         *score_label;
  GtkRevealer      *lanes_revealer;
  IovNotifierLanes *lanes;

  guint             lesson;
  IovScenario      *scenario;
  IovRun           *run;
  IovStepper       *stepper;       /* the position: a lesson is not played */
  GArray           *predictions;   /* Prediction */
  gboolean          revealed;
};

G_DEFINE_FINAL_TYPE (IovLesson, iov_lesson, GTK_TYPE_WIDGET)

static const char *
guess_to_string (IovLessonGuess guess)
{
  switch (guess)
    {
    case IOV_LESSON_GUESS_DELIVERED:
      return _("delivered");
    case IOV_LESSON_GUESS_CROPPED:
      return _("cropped");
    case IOV_LESSON_GUESS_SKIPPED:
      return _("skipped");
    case IOV_LESSON_GUESS_ABORT:
      return _("QEMU aborts");
    case IOV_LESSON_GUESS_NONE:
    default:
      return _("Your guess…");
    }
}

static int
n_steps (IovLesson *self)
{
  return self->scenario != NULL ? (int) self->scenario->steps->len : 0;
}

static int
lesson_position (IovLesson *self)
{
  return iov_stepper_get_position (self->stepper);
}

static const IovStepResult *
step_result (IovLesson *self)
{
  return iov_run_get_step (self->run, lesson_position (self));
}

/* What happened to @notifier over the step's events: an abort outweighs
 * a crop, a crop a plain delivery, a delivery a skip. A notifier QEMU
 * never reached because it stopped shares the abort. */
static IovLessonGuess
answer_for (IovLesson         *self,
            const IovNotifier *notifier)
{
  const IovStepResult *r = step_result (self);
  IovLessonGuess answer = IOV_LESSON_GUESS_NONE;

  for (guint i = 0; r != NULL && r->outcomes != NULL && i < r->outcomes->len; i++)
    {
      const IovOutcome *o = &g_array_index (r->outcomes, IovOutcome, i);
      IovLessonGuess g;

      if (o->notifier != notifier)
        continue;
      if (o->result == IOV_RESULT_ABORT)
        g = IOV_LESSON_GUESS_ABORT;
      else if (o->result == IOV_RESULT_DELIVERED)
        g = o->cropped ? IOV_LESSON_GUESS_CROPPED : IOV_LESSON_GUESS_DELIVERED;
      else
        g = IOV_LESSON_GUESS_SKIPPED;
      /* ABORT > CROPPED > DELIVERED > SKIPPED */
      if (answer == IOV_LESSON_GUESS_NONE ||
          (g == IOV_LESSON_GUESS_ABORT) ||
          (g == IOV_LESSON_GUESS_CROPPED && answer != IOV_LESSON_GUESS_ABORT) ||
          (g == IOV_LESSON_GUESS_DELIVERED && answer == IOV_LESSON_GUESS_SKIPPED))
        answer = g;
    }
  if (answer == IOV_LESSON_GUESS_NONE)
    answer = self->run->aborted_at == lesson_position (self) ? IOV_LESSON_GUESS_ABORT : IOV_LESSON_GUESS_SKIPPED;
  return answer;
}

static void
show_marks (IovLesson *self)
{
  guint right = 0;

  for (guint i = 0; i < self->predictions->len; i++)
    {
      Prediction *p = &g_array_index (self->predictions, Prediction, i);
      IovLessonGuess guess = gtk_drop_down_get_selected (p->dropdown);
      g_autofree char *text = NULL;

      gtk_widget_remove_css_class (GTK_WIDGET (p->mark_label), "success");
      gtk_widget_remove_css_class (GTK_WIDGET (p->mark_label), "error");
      gtk_widget_set_visible (GTK_WIDGET (p->mark_label), self->revealed);
      gtk_widget_set_sensitive (GTK_WIDGET (p->dropdown), !self->revealed);
      if (!self->revealed)
        continue;
      if (guess == p->answer)
        {
          right++;
          /* Translators: a right prediction, %s is the outcome */
          text = g_strdup_printf (_("✔ Right: %s"), guess_to_string (p->answer));
          gtk_widget_add_css_class (GTK_WIDGET (p->mark_label), "success");
        }
      else
        {
          /* Translators: a wrong prediction, %s is what really happens */
          text = g_strdup_printf (_("✘ Wrong: %s"), guess_to_string (p->answer));
          gtk_widget_add_css_class (GTK_WIDGET (p->mark_label), "error");
        }
      gtk_label_set_text (p->mark_label, text);
    }

  if (self->revealed)
    {
      /* Translators: the score after a reveal, "2 of 3 right" */
      g_autofree char *score = g_strdup_printf (_("%u of %u right"), right, self->predictions->len);

      gtk_label_set_text (self->score_label, score);
    }
  else
    gtk_label_set_text (self->score_label, "");
  gtk_revealer_set_reveal_child (self->lanes_revealer, self->revealed);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "lesson.reveal",
                                 !self->revealed && self->predictions->len > 0);
}

static void
build_predictions (IovLesson *self)
{
  const IovStepResult *r = step_result (self);
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->predict_list))) != NULL)
    gtk_list_box_remove (self->predict_list, child);
  g_array_set_size (self->predictions, 0);

  if (r != NULL && !r->not_run && r->events != NULL && r->events->len > 0)
    {
      /* Whoever listened while the step ran: registered before it, or
       * by it (a step that unregisters still notifies first). */
      g_autoptr(GPtrArray) before = iov_run_spaces_at (self->run, lesson_position (self) - 1);
      g_autoptr(GPtrArray) after = iov_run_spaces_at (self->run, lesson_position (self));
      g_autoptr(GPtrArray) notifiers = g_ptr_array_new ();

      for (guint k = 0; k < 2; k++)
        {
          GPtrArray *spaces = k == 0 ? before : after;

          for (guint s = 0; s < spaces->len; s++)
            {
              IovRunSpace *space = g_ptr_array_index (spaces, s);

              for (guint i = 0; i < space->notifiers->len; i++)
                if (!g_ptr_array_find (notifiers, g_ptr_array_index (space->notifiers, i), NULL))
                  g_ptr_array_add (notifiers, g_ptr_array_index (space->notifiers, i));
            }
        }

      for (guint i = 0; i < notifiers->len; i++)
        {
          const IovNotifier *n = g_ptr_array_index (notifiers, i);
          const char *const choices[] = {
            guess_to_string (IOV_LESSON_GUESS_NONE),
            guess_to_string (IOV_LESSON_GUESS_DELIVERED),
            guess_to_string (IOV_LESSON_GUESS_CROPPED),
            guess_to_string (IOV_LESSON_GUESS_SKIPPED),
            guess_to_string (IOV_LESSON_GUESS_ABORT),
            NULL
          };
          GtkWidget *row = adw_action_row_new ();
          GtkWidget *dropdown = gtk_drop_down_new_from_strings (choices);
          GtkWidget *mark = gtk_label_new (NULL);
          g_autofree char *subtitle = NULL;
          Prediction p = { n, answer_for (self, n), GTK_DROP_DOWN (dropdown), GTK_LABEL (mark) };

          subtitle = g_strdup_printf ("%s%s0x%" G_GINT64_MODIFIER "x – 0x%" G_GINT64_MODIFIER "x",
                                      n->owner ? n->owner : "", n->owner ? " · " : "",
                                      n->start, n->end);
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), n->name);
          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
          gtk_widget_set_valign (dropdown, GTK_ALIGN_CENTER);
          gtk_accessible_update_property (GTK_ACCESSIBLE (dropdown),
                                          GTK_ACCESSIBLE_PROPERTY_LABEL, n->name, -1);
          gtk_widget_add_css_class (mark, "heading");
          gtk_widget_set_visible (mark, FALSE);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), mark);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), dropdown);
          gtk_list_box_append (self->predict_list, row);
          g_array_append_val (self->predictions, p);
        }
    }
  gtk_widget_set_visible (self->predict_box, self->predictions->len > 0);
}

static void
update (IovLesson *self)
{
  const IovStepResult *r = step_result (self);
  GString *explain = g_string_new (NULL);

  iov_step_view_sync_actions (GTK_WIDGET (self), "lesson", self->stepper, FALSE);

  if (self->scenario == NULL)
    {
      gtk_label_set_text (self->step_label, "");
      gtk_label_set_text (self->explain_label, "");
      g_string_free (explain, TRUE);
      return;
    }

  if (lesson_position (self) < 0)
    {
      g_autofree char *text = g_strdup_printf (_("%s · under %s"), _(lessons[self->lesson].title),
                                               self->run->profile->label);

      gtk_label_set_text (self->step_label, text);
      if (self->scenario->summary != NULL)
        g_string_append_printf (explain, "%s.\n", self->scenario->summary);
      g_string_append (explain, _("Press → or Space to begin."));
    }
  else
    {
      const IovStep *step = &g_array_index (self->scenario->steps, IovStep, lesson_position (self));
      g_autofree char *text = iov_explain_step_title (self->scenario, lesson_position (self));

      gtk_label_set_text (self->step_label, text);
      if (r != NULL && r->not_run)
        g_string_append_printf (explain, _("QEMU stopped at step %d, so this step never runs."),
                                self->run->aborted_at + 1);
      else if (step->explain != NULL)
        g_string_append (explain, step->explain);
      else if (r != NULL && r->explain != NULL)
        g_string_append (explain, r->explain);
    }
  gtk_label_set_text (self->explain_label, explain->str);
  g_string_free (explain, TRUE);

  self->revealed = FALSE;
  build_predictions (self);
  /* Nothing to predict: show the lanes at once. */
  self->revealed = self->predictions->len == 0;
  iov_step_view_show (self->range_map, self->lanes, self->scenario, self->run, self->run->profile,
                      lesson_position (self));
  show_marks (self);
}

static void
position_changed_cb (IovLesson  *self,
                     GParamSpec *pspec,
                     IovStepper *stepper)
{
  update (self);
}

static void
lesson_selected_cb (IovLesson   *self,
                    GParamSpec  *pspec,
                    GtkDropDown *dropdown)
{
  g_autoptr(GError) error = NULL;
  guint selected = gtk_drop_down_get_selected (dropdown);

  if (selected != GTK_INVALID_LIST_POSITION && selected != self->lesson &&
      !iov_lesson_open (self, selected, &error))
    g_warning ("Built-in lesson %u: %s", selected, error->message);
}

static void
large_text_toggled_cb (IovLesson       *self,
                       GtkToggleButton *button)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (root == NULL)
    return;
  if (gtk_toggle_button_get_active (button))
    gtk_widget_add_css_class (GTK_WIDGET (root), "iov-large-text");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (root), "iov-large-text");
}

static void
step_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  IovLesson *self = IOV_LESSON (widget);

  iov_stepper_step (self->stepper, g_str_equal (action_name, "lesson.step-back") ? -1 : 1);
}

static void
reveal_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  iov_lesson_reveal (IOV_LESSON (widget));
}

/* Back to guessing: hide the answer and put the focus on the first
 * notifier's drop-down. */
static void
predict_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *param)
{
  IovLesson *self = IOV_LESSON (widget);

  if (self->predictions->len == 0)
    return;
  self->revealed = FALSE;
  show_marks (self);
  gtk_widget_grab_focus (GTK_WIDGET (g_array_index (self->predictions, Prediction, 0).dropdown));
}

static void
iov_lesson_dispose (GObject *object)
{
  IovLesson *self = IOV_LESSON (object);

  /* redraw nothing once the template is gone */
  g_signal_handlers_disconnect_by_data (self->stepper, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), IOV_TYPE_LESSON);

  G_OBJECT_CLASS (iov_lesson_parent_class)->dispose (object);
}

static void
iov_lesson_finalize (GObject *object)
{
  IovLesson *self = IOV_LESSON (object);

  g_clear_pointer (&self->predictions, g_array_unref);
  g_clear_pointer (&self->run, iov_run_free);
  g_clear_pointer (&self->scenario, iov_scenario_free);
  g_clear_object (&self->stepper);

  G_OBJECT_CLASS (iov_lesson_parent_class)->finalize (object);
}

static void
iov_lesson_class_init (IovLessonClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = iov_lesson_dispose;
  object_class->finalize = iov_lesson_finalize;

  g_type_ensure (IOV_TYPE_RANGE_MAP);
  g_type_ensure (IOV_TYPE_NOTIFIER_LANES);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/iovista/Iovista/iov-lesson.ui");
  gtk_widget_class_bind_template_child (widget_class, IovLesson, box);
  gtk_widget_class_bind_template_child (widget_class, IovLesson, lesson_dropdown);
  gtk_widget_class_bind_template_child (widget_class, IovLesson, step_label);
  gtk_widget_class_bind_template_child (widget_class, IovLesson, large_text_button);
  gtk_widget_class_bind_template_child (widget_class, IovLesson, explain_label);
  gtk_widget_class_bind_template_child (widget_class, IovLesson, range_map);
  gtk_widget_class_bind_template_child (widget_class, IovLesson, predict_box);
  gtk_widget_class_bind_template_child (widget_class, IovLesson, predict_list);
  gtk_widget_class_bind_template_child (widget_class, IovLesson, score_label);
  gtk_widget_class_bind_template_child (widget_class, IovLesson, lanes_revealer);
  gtk_widget_class_bind_template_child (widget_class, IovLesson, lanes);
  gtk_widget_class_bind_template_callback (widget_class, large_text_toggled_cb);

  gtk_widget_class_install_action (widget_class, "lesson.step-back", NULL, step_action);
  gtk_widget_class_install_action (widget_class, "lesson.step-forward", NULL, step_action);
  gtk_widget_class_install_action (widget_class, "lesson.reveal", NULL, reveal_action);
  gtk_widget_class_install_action (widget_class, "lesson.predict", NULL, predict_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "iovlesson");
}

static void
iov_lesson_init (IovLesson *self)
{
  g_autoptr(GtkStringList) titles = gtk_string_list_new (NULL);
  g_autoptr(GError) error = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->predictions = g_array_new (FALSE, TRUE, sizeof (Prediction));
  self->stepper = iov_stepper_new ("[iovista] lesson step");
  iov_stepper_set_can_play (self->stepper, FALSE);
  g_signal_connect_object (self->stepper, "notify::position", G_CALLBACK (position_changed_cb), self, G_CONNECT_SWAPPED);
  self->lesson = G_MAXUINT;

  for (guint i = 0; i < G_N_ELEMENTS (lessons); i++)
    gtk_string_list_append (titles, _(lessons[i].title));
  gtk_drop_down_set_model (self->lesson_dropdown, G_LIST_MODEL (titles));
  if (!iov_lesson_open (self, 0, &error))
    g_debug ("No built-in lesson: %s", error->message);
  g_signal_connect_object (self->lesson_dropdown, "notify::selected",
                           G_CALLBACK (lesson_selected_cb), self, G_CONNECT_SWAPPED);
  update (self);
}

GtkWidget *
iov_lesson_new (void)
{
  return g_object_new (IOV_TYPE_LESSON, NULL);
}

guint
iov_lesson_get_n_lessons (void)
{
  return G_N_ELEMENTS (lessons);
}

gboolean
iov_lesson_open (IovLesson  *self,
                 guint       index,
                 GError    **error)
{
  g_autoptr(IovScenario) scenario = NULL;
  const IovProfile *profile;
  IovRun *run;

  g_return_val_if_fail (IOV_IS_LESSON (self), FALSE);
  g_return_val_if_fail (index < G_N_ELEMENTS (lessons), FALSE);

  scenario = iov_scenario_new_from_resource (lessons[index].scenario, error);
  if (scenario == NULL)
    return FALSE;
  profile = iov_profile_lookup (lessons[index].profile ? lessons[index].profile
                                : scenario->profile ? scenario->profile : "qemu-10.2");
  run = iov_run_scenario (scenario, profile, error);
  if (run == NULL)
    return FALSE;

  g_clear_pointer (&self->run, iov_run_free);
  g_clear_pointer (&self->scenario, iov_scenario_free);
  self->scenario = g_steal_pointer (&scenario);
  self->run = run;
  self->lesson = index;
  /* Before the first step of the new lesson, drawn once, below. */
  g_signal_handlers_block_by_func (self->stepper, position_changed_cb, self);
  iov_stepper_set_n_steps (self->stepper, n_steps (self));
  iov_stepper_set_position (self->stepper, -1);
  g_signal_handlers_unblock_by_func (self->stepper, position_changed_cb, self);
  if (gtk_drop_down_get_selected (self->lesson_dropdown) != index)
    gtk_drop_down_set_selected (self->lesson_dropdown, index);
  update (self);
  return TRUE;
}

const char *
iov_lesson_get_scenario_name (IovLesson *self)
{
  g_return_val_if_fail (IOV_IS_LESSON (self), NULL);
  return self->scenario ? self->scenario->name : NULL;
}

int
iov_lesson_get_position (IovLesson *self)
{
  g_return_val_if_fail (IOV_IS_LESSON (self), -1);
  return lesson_position (self);
}

void
iov_lesson_set_position (IovLesson *self,
                         int        position)
{
  g_return_if_fail (IOV_IS_LESSON (self));
  iov_stepper_set_position (self->stepper, position);
}

guint
iov_lesson_get_n_predictions (IovLesson *self)
{
  g_return_val_if_fail (IOV_IS_LESSON (self), 0);
  return self->predictions->len;
}

const char *
iov_lesson_get_notifier_name (IovLesson *self,
                              guint      index)
{
  g_return_val_if_fail (IOV_IS_LESSON (self), NULL);
  g_return_val_if_fail (index < self->predictions->len, NULL);
  return g_array_index (self->predictions, Prediction, index).notifier->name;
}

void
iov_lesson_set_guess (IovLesson      *self,
                      guint           index,
                      IovLessonGuess  guess)
{
  g_return_if_fail (IOV_IS_LESSON (self));
  g_return_if_fail (index < self->predictions->len);
  g_return_if_fail (guess <= IOV_LESSON_GUESS_ABORT);

  gtk_drop_down_set_selected (g_array_index (self->predictions, Prediction, index).dropdown, guess);
}

gboolean
iov_lesson_reveal (IovLesson *self)
{
  g_return_val_if_fail (IOV_IS_LESSON (self), FALSE);

  if (self->predictions->len == 0)
    return FALSE;
  self->revealed = TRUE;
  /* Replay the step so the events visit the lanes as they appear. */
  iov_step_view_show (self->range_map, self->lanes, self->scenario, self->run, self->run->profile,
                      lesson_position (self));
  show_marks (self);
  return TRUE;
}

IovLessonMark
iov_lesson_get_mark (IovLesson *self,
                     guint      index)
{
  GtkWidget *mark;

  g_return_val_if_fail (IOV_IS_LESSON (self), IOV_LESSON_MARK_NONE);
  g_return_val_if_fail (index < self->predictions->len, IOV_LESSON_MARK_NONE);

  /* Read back what the learner sees. */
  mark = GTK_WIDGET (g_array_index (self->predictions, Prediction, index).mark_label);
  if (!gtk_widget_get_visible (mark))
    return IOV_LESSON_MARK_NONE;
  if (gtk_widget_has_css_class (mark, "success"))
    return IOV_LESSON_MARK_RIGHT;
  if (gtk_widget_has_css_class (mark, "error"))
    return IOV_LESSON_MARK_WRONG;
  return IOV_LESSON_MARK_NONE;
}
