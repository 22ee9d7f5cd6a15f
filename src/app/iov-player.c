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
#include "iov-what-if.h"

/* At 1×: slow enough to read the explanation of each step. */
#define PLAY_INTERVAL_MS 1500

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
  int                position;

  guint              play_source;
  double             speed;
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

static const IovStepResult *
step_result (IovPlayer *self,
             int        position)
{
  if (self->run == NULL || position < 0 || position >= (int) self->run->steps->len)
    return NULL;
  return &g_array_index (self->run->steps, IovStepResult, position);
}

/* The notifiers registered once step @position has run, list head first:
 * QEMU inserts at the head, so this is its dispatch order. @devices gets
 * the device each belongs to (NULL for the low-level region). */
/* What the map and the lanes show: one run of a scenario at one step.
 * The player and the what-if view's columns share it. */
typedef struct
{
  const IovScenario *scenario;
  const IovRun      *run;
  const IovProfile  *profile;
  int                position;
  IovRangeMap       *range_map;
} StepView;

static int
view_n_steps (const StepView *self)
{
  return self->scenario != NULL ? (int) self->scenario->steps->len : 0;
}

static const IovStepResult *
view_step_result (const StepView *self,
                  int             position)
{
  if (self->run == NULL || position < 0 || position >= (int) self->run->steps->len)
    return NULL;
  return &g_array_index (self->run->steps, IovStepResult, position);
}


static GPtrArray *
registered_at (const StepView *self,
               int         position,
               GPtrArray **devices)
{
  GPtrArray *list = g_ptr_array_new ();
  GPtrArray *owners = g_ptr_array_new ();

  if (self->run != NULL && self->scenario->low_level)
    for (guint i = 0; i < self->scenario->notifiers->len && i < self->run->notifiers->len; i++)
      {
        g_ptr_array_insert (list, 0, g_ptr_array_index (self->run->notifiers, i));
        g_ptr_array_insert (owners, 0, NULL);
      }

  for (int s = 0; self->run != NULL && s <= position; s++)
    {
      const IovStepResult *r = view_step_result (self, s);

      if (r == NULL || r->not_run || r->registrations == NULL)
        continue;
      for (guint i = 0; i < r->registrations->len; i++)
        {
          const IovRegistration *reg = &g_array_index (r->registrations, IovRegistration, i);
          guint index;

          if (reg->action == IOV_REGISTRATION_ADDED)
            {
              g_ptr_array_insert (list, 0, (gpointer) reg->notifier);
              g_ptr_array_insert (owners, 0, reg->device);
            }
          else if (reg->action == IOV_REGISTRATION_REMOVED &&
                   g_ptr_array_find (list, reg->notifier, &index))
            {
              g_ptr_array_remove_index (list, index);
              g_ptr_array_remove_index (owners, index);
            }
        }
    }

  if (devices != NULL)
    *devices = owners;
  else
    g_ptr_array_unref (owners);
  return list;
}

/* The device whose address space the map shows: the one the latest step
 * concerns, else the first. */
static const IovScenarioDevice *
focus_device (const StepView *self)
{
  const IovScenario *sc = self->scenario;

  if (sc->low_level || sc->devices->len == 0)
    return NULL;
  for (int s = MIN (self->position, view_n_steps (self) - 1); s >= 0; s--)
    {
      const IovStep *step = &g_array_index (sc->steps, IovStep, s);

      if (step->device >= 0 && (guint) step->device < sc->devices->len)
        return g_ptr_array_index (sc->devices, step->device);
    }
  return g_ptr_array_index (sc->devices, 0);
}

static gboolean
remapping_on_at (const StepView *self,
                 int        position)
{
  gboolean on = self->scenario->low_level;

  for (int s = 0; s <= position && s < view_n_steps (self); s++)
    {
      const IovStep *step = &g_array_index (self->scenario->steps, IovStep, s);
      const IovStepResult *r = view_step_result (self, s);

      if (r == NULL || r->not_run)
        break;
      if (step->op == IOV_STEP_ENABLE_DMAR)
        on = TRUE;
      else if (step->op == IOV_STEP_DISABLE_DMAR)
        on = FALSE;
    }
  return on;
}

static void
update_map (const StepView  *self,
            GPtrArray       *notifiers,
            GPtrArray       *devices,
            const GArray    *events)
{
  const IovScenario *sc = self->scenario;
  const IovScenarioDevice *focus = focus_device (self);
  gboolean on = remapping_on_at (self, self->position);
  g_autoptr(GPtrArray) shown = g_ptr_array_new ();
  const char *iommu_name;
  const char *off_name;
  IovMapRange ranges[3];
  guint n = 0;
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;

  switch (sc->model)
    {
    case IOV_IOMMU_AMD:
      iommu_name = "AMD-Vi";
      off_name = _("no remapping");
      break;
    case IOV_IOMMU_VIRTIO:
      iommu_name = "virtio-iommu";
      off_name = _("not attached");
      break;
    case IOV_IOMMU_INTEL:
    default:
      iommu_name = "DMAR";
      off_name = _("no DMAR");
      break;
    }

  if (sc->model == IOV_IOMMU_VIRTIO)
    {
      ranges[n++] = (IovMapRange) { 0, G_MAXUINT64, on ? IOV_RANGE_ROLE_IOMMU : IOV_RANGE_ROLE_PASSTHROUGH,
                                    on ? iommu_name : off_name };
    }
  else
    {
      IovRangeRole role = on ? IOV_RANGE_ROLE_IOMMU : IOV_RANGE_ROLE_PASSTHROUGH;
      const char *name = on ? iommu_name : off_name;

      ranges[n++] = (IovMapRange) { 0, IOV_INTERRUPT_ADDR_FIRST - 1, role, name };
      ranges[n++] = (IovMapRange) { IOV_INTERRUPT_ADDR_FIRST, IOV_INTERRUPT_ADDR_LAST,
                                    IOV_RANGE_ROLE_INTERRUPT, _("IR") };
      ranges[n++] = (IovMapRange) { IOV_INTERRUPT_ADDR_LAST + 1, G_MAXUINT64, role, name };
    }

  for (guint i = 0; i < notifiers->len; i++)
    {
      const char *device = g_ptr_array_index (devices, i);

      if (focus == NULL || device == NULL || g_strcmp0 (device, focus->id) == 0)
        g_ptr_array_add (shown, g_ptr_array_index (notifiers, i));
    }

  if (focus != NULL)
    {
      const IovScenarioDevice *d = focus;
      static const char *const backends[] = { "", "vhost", "vfio", "virtio" };

      title = g_strdup (d->id);
      subtitle = g_strdup_printf ("%02x:%02x.%x · %s", d->bus, d->devfn >> 3, d->devfn & 7,
                                  d->backend < G_N_ELEMENTS (backends) ? backends[d->backend] : "");
    }
  else
    {
      title = g_strdup (_("IOMMU region"));
      subtitle = g_strdup (_("low-level scenario"));
    }

  iov_range_map_set_title (self->range_map, title, subtitle);
  iov_range_map_set_ranges (self->range_map, ranges, n);
  iov_range_map_set_aw_bits (self->range_map,
                             sc->model == IOV_IOMMU_VIRTIO ? 0 : iov_scenario_aw_bits (sc, self->profile));
  iov_range_map_set_notifiers (self->range_map, (const IovNotifier * const *) shown->pdata, shown->len);
  iov_range_map_set_invalidations (self->range_map, (const IovTlbEvent *) (gpointer) events->data, events->len);
}


char *
iov_player_abort_text (const IovRun     *run,
                       const IovProfile *profile,
                       int               position)
{
  const IovStepResult *r;
  char *text;

  if (run == NULL || position < 0 || position >= (int) run->steps->len || run->aborted_at != position)
    return NULL;
  r = &g_array_index (run->steps, IovStepResult, position);
  if (r->not_run)
    return NULL;
  text = g_strdup (r->abort_message);
  for (guint i = 0; text == NULL && r->outcomes != NULL && i < r->outcomes->len; i++)
    {
      const IovOutcome *o = &g_array_index (r->outcomes, IovOutcome, i);

      if (o->result == IOV_RESULT_ABORT)
        text = iov_outcome_message (r, profile, o);
    }
  if (text == NULL)
    text = g_strdup (_("QEMU aborts."));
  return text;
}

void
iov_player_show_step (IovRangeMap       *range_map,
                      IovNotifierLanes  *lanes,
                      const IovScenario *scenario,
                      const IovRun      *run,
                      const IovProfile  *profile,
                      int                position)
{
  StepView view = { scenario, run, profile, position, range_map };
  const IovStepResult *r = view_step_result (&view, position);
  g_autoptr(GPtrArray) notifiers = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GArray) events = g_array_new (FALSE, FALSE, sizeof (IovTlbEvent));
  g_autofree char *abort_text = iov_player_abort_text (run, profile, position);

  g_return_if_fail (IOV_IS_RANGE_MAP (range_map));
  g_return_if_fail (IOV_IS_NOTIFIER_LANES (lanes));
  g_return_if_fail (scenario != NULL);

  notifiers = registered_at (&view, position, &devices);
  if (r != NULL && !r->not_run && r->events != NULL)
    for (guint i = 0; i < r->events->len; i++)
      {
        IovTlbEvent e = g_array_index (r->events, IovTlbEvent, i);

        e.type = iov_event_effective_type (profile, &e);
        g_array_append_val (events, e);
      }

  update_map (&view, notifiers, devices, events);
  iov_notifier_lanes_set_bounds (lanes, iov_range_map_get_bounds (range_map));
  iov_notifier_lanes_set_step (lanes,
                               (const IovNotifier * const *) notifiers->pdata, notifiers->len,
                               (const IovTlbEvent *) (gpointer) events->data, events->len,
                               r != NULL && !r->not_run && r->outcomes != NULL
                                 ? (const IovOutcome *) (gpointer) r->outcomes->data : NULL,
                               r != NULL && !r->not_run && r->outcomes != NULL ? r->outcomes->len : 0,
                               abort_text);
}

static void
update (IovPlayer *self)
{
  const IovStepResult *r = step_result (self, self->position);
  g_autofree char *step_text = NULL;
  g_autofree char *abort_text = NULL;
  GString *explain = g_string_new (NULL);
  int n = n_steps (self);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "player.step-back", self->position > -1);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "player.step-forward", self->position < n - 1);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "player.play", self->run != NULL && n > 0);
  highlight_compare (self);

  if (self->scenario == NULL)
    {
      gtk_label_set_text (self->step_label, "");
      gtk_label_set_text (self->explain_label, "");
      gtk_revealer_set_reveal_child (self->abort_revealer, FALSE);
      g_string_free (explain, TRUE);
      return;
    }

  if (self->position < 0)
    step_text = g_strdup (_("Before the first step"));
  else
    /* Translators: "Step 3 of 4 · device-iotlb-invalidate"; the operation is the scenario's op name */
    step_text = g_strdup_printf (_("Step %d of %d · %s"), self->position + 1, n,
                                 iov_step_op_to_string (g_array_index (self->scenario->steps, IovStep,
                                                                       self->position).op));
  gtk_label_set_text (self->step_label, step_text);

  if (self->run == NULL)
    {
      g_string_append_printf (explain, _("This scenario cannot run under %s: %s"),
                              self->profile ? self->profile->label : "?",
                              self->run_error ? self->run_error->message : "");
    }
  else if (self->position < 0)
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

  abort_text = iov_player_abort_text (self->run, self->profile, self->position);
  gtk_label_set_text (self->abort_label, abort_text ? abort_text : "");
  gtk_revealer_set_reveal_child (self->abort_revealer, abort_text != NULL);

  iov_player_show_step (self->range_map, self->lanes, self->scenario, self->run, self->profile,
                        self->position);

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
}

/* A word for what a step did under one profile, and a style class. */
const char *
iov_player_summarize_step (const IovStepResult  *r,
                           const char          **css_class)
{
  guint delivered = 0, cropped = 0, skipped = 0, added = 0, removed = 0, refused = 0;

  *css_class = "dim-label";
  if (r == NULL || r->not_run)
    return _("not run");

  for (guint i = 0; r->outcomes != NULL && i < r->outcomes->len; i++)
    {
      const IovOutcome *o = &g_array_index (r->outcomes, IovOutcome, i);

      switch (o->result)
        {
        case IOV_RESULT_ABORT:
          *css_class = "error";
          return _("✖ abort");
        case IOV_RESULT_DELIVERED:
          delivered++;
          cropped += o->cropped;
          break;
        default:
          skipped++;
        }
    }
  if (r->abort_message != NULL)
    {
      *css_class = "error";
      return _("✖ abort");
    }
  for (guint i = 0; r->registrations != NULL && i < r->registrations->len; i++)
    {
      const IovRegistration *reg = &g_array_index (r->registrations, IovRegistration, i);

      added += reg->action == IOV_REGISTRATION_ADDED;
      removed += reg->action == IOV_REGISTRATION_REMOVED;
      refused += reg->action == IOV_REGISTRATION_REFUSED;
    }

  if (refused > 0)
    {
      *css_class = "warning";
      return _("refused");
    }
  if (cropped > 0)
    {
      *css_class = "accent";
      return _("cropped");
    }
  if (delivered > 0)
    {
      *css_class = "success";
      return _("delivered");
    }
  if (skipped > 0)
    return _("skipped");
  if (added > 0 && removed > 0)
    return _("re-registers");
  if (added > 0)
    return _("registers");
  if (removed > 0)
    return _("unregisters");
  return _("nothing");
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
          const IovStepResult *result = s < (int) r->run->steps->len
                                        ? &g_array_index (r->run->steps, IovStepResult, s) : NULL;
          const char *css_class;
          const char *word = iov_player_summarize_step (result, &css_class);
          GtkWidget *button = gtk_button_new_with_label (word);
          g_autofree char *tooltip = NULL;

          /* Translators: a cell's tooltip: "QEMU 5.0, step 3: abort" */
          tooltip = g_strdup_printf (_("%s, step %d: %s"), r->profile->label, s + 1, word);
          gtk_widget_set_tooltip_text (button, tooltip);
          gtk_widget_add_css_class (button, "flat");
          gtk_widget_add_css_class (button, "iov-cell");
          gtk_widget_add_css_class (gtk_button_get_child (GTK_BUTTON (button)), css_class);
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
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->compare_grid));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      gboolean current = GTK_IS_BUTTON (child) &&
                         g_object_get_data (G_OBJECT (child), "profile") == self->profile &&
                         GPOINTER_TO_INT (g_object_get_data (G_OBJECT (child), "step")) == self->position;

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
sync_playing (IovPlayer *self)
{
  gboolean playing = self->play_source != 0;

  gtk_button_set_icon_name (self->play_button,
                            playing ? "media-playback-pause-symbolic" : "media-playback-start-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->play_button),
                               playing ? _("Pause (Space)") : _("Play (Space)"));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

static gboolean
play_timeout_cb (gpointer user_data)
{
  IovPlayer *self = user_data;

  if (self->position < n_steps (self) - 1)
    iov_player_set_position (self, self->position + 1);
  if (self->position >= n_steps (self) - 1)
    {
      self->play_source = 0;
      sync_playing (self);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
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
  static const char *const classes[] = { "error", "accent", "success", "dim-label" };

  gtk_label_set_text (GTK_LABEL (label), text);
  gtk_widget_set_tooltip_text (label, text[0] ? text : NULL);
  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    gtk_widget_remove_css_class (label, classes[i]);
  if (column == IOV_OUTCOME_COLUMN_OUTCOME)
    {
      IovResult result = iov_outcome_item_get_result (item);

      if (result == IOV_RESULT_ABORT)
        gtk_widget_add_css_class (label, "error");
      else if (result == IOV_RESULT_DELIVERED && iov_outcome_item_get_cropped (item))
        gtk_widget_add_css_class (label, "accent");
      else if (result == IOV_RESULT_DELIVERED)
        gtk_widget_add_css_class (label, "success");
      else
        gtk_widget_add_css_class (label, "dim-label");
    }
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
  self->speed = speeds[selected];
  iov_notifier_lanes_set_speed (self->lanes, self->speed);
  /* Restart the clock at the new pace. */
  if (iov_player_get_playing (self))
    {
      g_source_remove (self->play_source);
      self->play_source = g_timeout_add ((guint) (PLAY_INTERVAL_MS / self->speed), play_timeout_cb, self);
      g_source_set_name_by_id (self->play_source, "[iovista] player step");
    }
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
  int position = self->position;

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
      g_value_set_int (value, self->position);
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

  g_clear_handle_id (&self->play_source, g_source_remove);
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
  self->position = -1;
  setup_event_view (self);
  self->speed = speeds[DEFAULT_SPEED_INDEX];

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

  iov_player_set_playing (self, FALSE);
  g_clear_pointer (&self->scenario, iov_scenario_free);
  self->scenario = scenario;
  self->position = -1;

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
  return self->position;
}

void
iov_player_set_position (IovPlayer *self,
                         int        position)
{
  g_return_if_fail (IOV_IS_PLAYER (self));

  position = CLAMP (position, -1, n_steps (self) - 1);
  if (position == self->position)
    return;
  self->position = position;
  update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POSITION]);
}

void
iov_player_step (IovPlayer *self,
                 int        delta)
{
  g_return_if_fail (IOV_IS_PLAYER (self));
  iov_player_set_position (self, self->position + delta);
}

gboolean
iov_player_get_playing (IovPlayer *self)
{
  g_return_val_if_fail (IOV_IS_PLAYER (self), FALSE);
  return self->play_source != 0;
}

void
iov_player_set_playing (IovPlayer *self,
                        gboolean   playing)
{
  g_return_if_fail (IOV_IS_PLAYER (self));

  playing = !!playing && self->run != NULL && n_steps (self) > 0;
  if (playing == iov_player_get_playing (self))
    return;

  if (playing)
    {
      if (self->position >= n_steps (self) - 1)
        iov_player_set_position (self, -1);
      self->play_source = g_timeout_add ((guint) (PLAY_INTERVAL_MS / self->speed), play_timeout_cb, self);
      g_source_set_name_by_id (self->play_source, "[iovista] player step");
    }
  else
    g_clear_handle_id (&self->play_source, g_source_remove);

  sync_playing (self);
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
