/* iov-step-view.c
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

#define G_LOG_DOMAIN "iov-step-view"

#include "config.h"

#include <glib/gi18n.h>

#include "iov-step-view.h"

/* What the map and the lanes show: one run of a scenario at one step. */
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

/* The notifiers registered once step @position has run, list head first:
 * QEMU inserts at the head, so this is its dispatch order. @devices gets
 * the device each belongs to (NULL for the low-level region). */
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
      const IovStepResult *r = iov_run_get_step (self->run, s);

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
      const IovStepResult *r = iov_run_get_step (self->run, s);

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

void
iov_step_view_show (IovRangeMap       *range_map,
                    IovNotifierLanes  *lanes,
                    const IovScenario *scenario,
                    const IovRun      *run,
                    const IovProfile  *profile,
                    int                position)
{
  StepView view = { scenario, run, profile, position, range_map };
  const IovStepResult *r = iov_run_get_step (run, position);
  g_autoptr(GPtrArray) notifiers = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GArray) events = g_array_new (FALSE, FALSE, sizeof (IovTlbEvent));
  g_autofree char *abort_text = iov_explain_abort (run, profile, position);

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

/* ---- the controls -------------------------------------------------------- */

static gboolean
playing_to_icon (GBinding     *binding,
                 const GValue *from,
                 GValue       *to,
                 gpointer      user_data)
{
  g_value_set_string (to, g_value_get_boolean (from) ? "media-playback-pause-symbolic"
                                                     : "media-playback-start-symbolic");
  return TRUE;
}

static gboolean
playing_to_tooltip (GBinding     *binding,
                    const GValue *from,
                    GValue       *to,
                    gpointer      user_data)
{
  g_value_set_string (to, g_value_get_boolean (from) ? _("Pause (Space)") : _("Play (Space)"));
  return TRUE;
}

void
iov_step_view_bind_play_button (GtkButton  *button,
                                IovStepper *stepper)
{
  g_return_if_fail (GTK_IS_BUTTON (button));
  g_return_if_fail (IOV_IS_STEPPER (stepper));

  g_object_bind_property_full (stepper, "playing", button, "icon-name", G_BINDING_SYNC_CREATE,
                               playing_to_icon, NULL, NULL, NULL);
  g_object_bind_property_full (stepper, "playing", button, "tooltip-text", G_BINDING_SYNC_CREATE,
                               playing_to_tooltip, NULL, NULL, NULL);
}

void
iov_step_view_sync_actions (GtkWidget  *widget,
                            const char *prefix,
                            IovStepper *stepper,
                            gboolean    with_play)
{
  g_autofree char *back = NULL;
  g_autofree char *forward = NULL;

  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (IOV_IS_STEPPER (stepper));

  back = g_strconcat (prefix, ".step-back", NULL);
  forward = g_strconcat (prefix, ".step-forward", NULL);
  gtk_widget_action_set_enabled (widget, back, iov_stepper_can_step_back (stepper));
  gtk_widget_action_set_enabled (widget, forward, iov_stepper_can_step_forward (stepper));
  if (with_play)
    {
      g_autofree char *play = g_strconcat (prefix, ".play", NULL);

      gtk_widget_action_set_enabled (widget, play, iov_stepper_get_can_play (stepper));
    }
}

void
iov_step_view_set_tone (GtkWidget *widget,
                        IovTone    tone)
{
  static const char *const classes[] = {
    [IOV_TONE_NEUTRAL] = "dim-label",
    [IOV_TONE_SUCCESS] = "success",
    [IOV_TONE_ACCENT] = "accent",
    [IOV_TONE_WARNING] = "warning",
    [IOV_TONE_ERROR] = "error",
  };

  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (tone < G_N_ELEMENTS (classes));

  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    if (i != tone)
      gtk_widget_remove_css_class (widget, classes[i]);
  gtk_widget_add_css_class (widget, classes[tone]);
}
