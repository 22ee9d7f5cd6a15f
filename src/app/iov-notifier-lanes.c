/* iov-notifier-lanes.c
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

#define G_LOG_DOMAIN "iov-notifier-lanes"

#include "config.h"

#include <glib/gi18n.h>

#include "iov-axis.h"
#include "iov-notifier-lanes-private.h"

G_DEFINE_FINAL_TYPE (IovNotifierLanes, iov_notifier_lanes, GTK_TYPE_WIDGET)

static void
lane_clear (Lane *lane)
{
  g_clear_pointer (&lane->name, g_free);
  g_clear_pointer (&lane->owner, g_free);
}

static double
axis_width_for (int width)
{
  return MAX (width - IOV_GUTTER_WIDTH - IOV_AXIS_END_MARGIN, 100.0);
}

IovAxis *
_iov_notifier_lanes_get_axis (IovNotifierLanes *self)
{
  double width = axis_width_for (gtk_widget_get_width (GTK_WIDGET (self)));

  if (self->axis != NULL && iov_axis_get_width (self->axis) != width)
    g_clear_pointer (&self->axis, iov_axis_unref);
  if (self->axis == NULL)
    self->axis = iov_axis_new ((const guint64 *) (gpointer) self->bounds->data, self->bounds->len,
                               width, IOV_MIN_SEGMENT_WIDTH);
  return self->axis;
}

double
_iov_notifier_lanes_lane_y (guint lane)
{
  return LANE_TOP + lane * (LANE_HEIGHT + LANE_SPACING);
}

double
_iov_notifier_lanes_bottom (IovNotifierLanes *self)
{
  return _iov_notifier_lanes_lane_y (MAX (self->lanes->len, 1)) - LANE_SPACING;
}

/* [x0, x1) of [iova, iova + mask]; a wrapping range is drawn to the end. */
void
_iov_notifier_lanes_range_x (IovAxis *axis,
                             guint64  iova,
                             guint64  addr_mask,
                             double  *x0,
                             double  *x1)
{
  guint64 last = iova + addr_mask;

  if (last < iova)
    last = G_MAXUINT64;
  *x0 = IOV_GUTTER_WIDTH + iov_axis_value_to_x (axis, iova);
  *x1 = IOV_GUTTER_WIDTH + iov_axis_end_to_x (axis, last);
  if (*x1 - *x0 < 3)
    *x1 = *x0 + 3;
}

char *
_iov_notifier_lanes_format_range (guint64 iova,
                                  guint64 addr_mask)
{
  guint64 last = iova + addr_mask;

  if (last < iova)
    last = G_MAXUINT64;
  return g_strdup_printf ("0x%" G_GINT64_MODIFIER "x – 0x%" G_GINT64_MODIFIER "x", iova, last);
}

const char *
_iov_notifier_lanes_flag_word (guint type)
{
  return _iov_type_label (type);
}

/* The one-line text of a lane's outcome. */
char *
_iov_notifier_lanes_outcome_text (IovNotifierLanes *self,
                                  const Outcome    *o)
{
  const IovTlbEvent *e = o->event >= 0 ? &g_array_index (self->events, IovTlbEvent, o->event) : NULL;

  switch (o->result)
    {
    case IOV_RESULT_DELIVERED:
      if (o->cropped)
        {
          g_autofree char *range = _iov_notifier_lanes_format_range (o->iova, o->addr_mask);

          /* Translators: %s %s are a glyph and QEMU's flag name, then a range */
          return g_strdup_printf (_("%s %s delivered, cropped to %s"), _iov_type_glyph (o->type),
                                  _iov_notifier_lanes_flag_word (o->type), range);
        }
      return g_strdup_printf (_("%s %s delivered"), _iov_type_glyph (o->type), _iov_notifier_lanes_flag_word (o->type));
    case IOV_RESULT_SKIPPED_RANGE:
      return g_strdup (_("skipped: outside the notifier’s range"));
    case IOV_RESULT_SKIPPED_FLAGS:
      return g_strdup_printf (_("skipped: the notifier does not listen for %s"),
                              e != NULL ? _iov_notifier_lanes_flag_word (e->type) : "?");
    case IOV_RESULT_ABORT:
      return g_strdup (_("✖ assertion fails: QEMU stops here"));
    default:
      return g_strdup ("");
    }
}

static void
update_accessible (IovNotifierLanes *self)
{
  GString *s = g_string_new (NULL);

  if (self->caption != NULL)
    g_string_append (s, self->caption);
  else
    g_string_append_printf (s, g_dngettext (GETTEXT_PACKAGE, "%u event", "%u events", self->events->len),
                            self->events->len);
  for (guint i = 0; i < self->lanes->len; i++)
    {
      const Lane *lane = &g_array_index (self->lanes, Lane, i);

      g_string_append_printf (s, ". ");
      g_string_append_printf (s, _("Lane %u, %s %s"), i + 1, lane->owner ? lane->owner : "", lane->name);
      if (i < self->counts->len)
        {
          g_autofree char *text = _iov_notifier_lanes_count_text (&g_array_index (self->counts, IovDeliveryCount, i));

          if (text != NULL)
            g_string_append_printf (s, "; %s", text);
          continue;
        }
      for (guint k = 0; k < self->outcomes->len; k++)
        {
          const Outcome *o = &g_array_index (self->outcomes, Outcome, k);

          if (o->lane == (int) i)
            {
              g_autofree char *text = _iov_notifier_lanes_outcome_text (self, o);

              g_string_append_printf (s, "; %s", text);
            }
        }
    }
  if (self->aborted && self->abort_message != NULL)
    g_string_append_printf (s, ". %s %s", _("QEMU stops here:"), self->abort_message);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, s->str,
                                  -1);
  g_string_free (s, TRUE);
}

static void
iov_notifier_lanes_measure (GtkWidget      *widget,
                            GtkOrientation  orientation,
                            int             for_size,
                            int            *minimum,
                            int            *natural,
                            int            *minimum_baseline,
                            int            *natural_baseline)
{
  IovNotifierLanes *self = IOV_NOTIFIER_LANES (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = (int) (IOV_GUTTER_WIDTH + IOV_AXIS_END_MARGIN + 6 * IOV_MIN_SEGMENT_WIDTH);
      *natural = *minimum + 400;
    }
  else
    {
      double h = _iov_notifier_lanes_bottom (self) + 6;

      if (self->aborted)
        h += 8 + ABORT_HEIGHT;
      *minimum = *natural = (int) h;
    }
}

static void
iov_notifier_lanes_size_allocate (GtkWidget *widget,
                                  int        width,
                                  int        height,
                                  int        baseline)
{
  g_clear_pointer (&IOV_NOTIFIER_LANES (widget)->axis, iov_axis_unref);
}

static void
iov_notifier_lanes_css_changed (GtkWidget         *widget,
                                GtkCssStyleChange *change)
{
  IovNotifierLanes *self = IOV_NOTIFIER_LANES (widget);

  GTK_WIDGET_CLASS (iov_notifier_lanes_parent_class)->css_changed (widget, change);
  _iov_palette_load (&self->palette, widget);
  gtk_widget_queue_draw (widget);
}

/* A wrapping label: QEMU's assertion texts are long. */
static void
set_tooltip_text (GtkTooltip *tooltip,
                  const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 70);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_tooltip_set_custom (tooltip, label);
}

static gboolean
iov_notifier_lanes_query_tooltip (GtkWidget  *widget,
                                  int         x,
                                  int         y,
                                  gboolean    keyboard,
                                  GtkTooltip *tooltip)
{
  IovNotifierLanes *self = IOV_NOTIFIER_LANES (widget);
  GString *s;
  guint lane;

  if (keyboard || y < LANE_TOP)
    return FALSE;
  lane = (guint) ((y - LANE_TOP) / (LANE_HEIGHT + LANE_SPACING));
  if (lane >= self->lanes->len)
    {
      if (self->aborted && self->abort_message != NULL)
        {
          set_tooltip_text (tooltip, self->abort_message);
          return TRUE;
        }
      return FALSE;
    }

  s = g_string_new (NULL);
  {
    const Lane *l = &g_array_index (self->lanes, Lane, lane);
    g_autofree char *range = _iov_notifier_lanes_format_range (l->start, l->end - l->start);

    /* Translators: "Notifier 2 of 3 in QEMU's dispatch order" */
    g_string_append_printf (s, _("Notifier %u of %u in QEMU’s dispatch order"), lane + 1, self->lanes->len);
    g_string_append_printf (s, "\n%s %s\n%s", l->owner ? l->owner : "", l->name, range);
  }
  for (guint k = 0; k < self->outcomes->len; k++)
    {
      const Outcome *o = &g_array_index (self->outcomes, Outcome, k);

      if (o->lane == (int) lane)
        {
          g_autofree char *text = _iov_notifier_lanes_outcome_text (self, o);

          g_string_append_printf (s, "\n• %s", text);
        }
    }
  set_tooltip_text (tooltip, s->str);
  g_string_free (s, TRUE);
  return TRUE;
}

static gboolean
anim_tick_cb (GtkWidget     *widget,
              GdkFrameClock *clock,
              gpointer       user_data)
{
  IovNotifierLanes *self = IOV_NOTIFIER_LANES (widget);
  gint64 now = gdk_frame_clock_get_frame_time (clock);
  double end = self->lanes->len + 1;

  if (self->anim_start == 0)
    self->anim_start = now;
  self->progress = (double) (now - self->anim_start) * self->speed / STEP_USEC;
  gtk_widget_queue_draw (widget);
  if (self->progress >= end)
    {
      self->progress = end;
      self->tick_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
stop_animation (IovNotifierLanes *self)
{
  if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
}

static void
iov_notifier_lanes_dispose (GObject *object)
{
  stop_animation (IOV_NOTIFIER_LANES (object));
  G_OBJECT_CLASS (iov_notifier_lanes_parent_class)->dispose (object);
}

void
iov_notifier_lanes_set_releases (IovNotifierLanes *self,
                                 GHashTable       *by_name)
{
  g_return_if_fail (IOV_IS_NOTIFIER_LANES (self));

  g_hash_table_remove_all (self->releases);
  if (by_name != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, by_name);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_hash_table_insert (self->releases, g_strdup (key), g_strdup (value));
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

const char *
iov_notifier_lanes_get_releases (IovNotifierLanes *self,
                                 guint             lane)
{
  g_return_val_if_fail (IOV_IS_NOTIFIER_LANES (self), NULL);

  if (lane >= self->lanes->len)
    return NULL;
  return g_hash_table_lookup (self->releases, g_array_index (self->lanes, Lane, lane).name);
}

static void
iov_notifier_lanes_finalize (GObject *object)
{
  IovNotifierLanes *self = IOV_NOTIFIER_LANES (object);

  g_clear_pointer (&self->lanes, g_array_unref);
  g_clear_pointer (&self->events, g_array_unref);
  g_clear_pointer (&self->outcomes, g_array_unref);
  g_clear_pointer (&self->bounds, g_array_unref);
  g_clear_pointer (&self->axis, iov_axis_unref);
  g_clear_pointer (&self->abort_message, g_free);
  g_clear_pointer (&self->counts, g_array_unref);
  g_clear_pointer (&self->releases, g_hash_table_unref);
  g_clear_pointer (&self->caption, g_free);

  G_OBJECT_CLASS (iov_notifier_lanes_parent_class)->finalize (object);
}

static void
iov_notifier_lanes_class_init (IovNotifierLanesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = iov_notifier_lanes_dispose;
  object_class->finalize = iov_notifier_lanes_finalize;

  widget_class->snapshot = _iov_notifier_lanes_snapshot;
  widget_class->measure = iov_notifier_lanes_measure;
  widget_class->size_allocate = iov_notifier_lanes_size_allocate;
  widget_class->css_changed = iov_notifier_lanes_css_changed;
  widget_class->query_tooltip = iov_notifier_lanes_query_tooltip;

  gtk_widget_class_set_css_name (widget_class, "iovnotifierlanes");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
iov_notifier_lanes_init (IovNotifierLanes *self)
{
  self->lanes = g_array_new (FALSE, TRUE, sizeof (Lane));
  g_array_set_clear_func (self->lanes, (GDestroyNotify) lane_clear);
  self->events = g_array_new (FALSE, FALSE, sizeof (IovTlbEvent));
  self->outcomes = g_array_new (FALSE, FALSE, sizeof (Outcome));
  self->counts = g_array_new (FALSE, TRUE, sizeof (IovDeliveryCount));
  self->releases = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->bounds = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_array_append_val (self->bounds, (guint64) { 0 });
  self->abort_lane = -1;
  self->progress = 1;
  self->speed = 1;

  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Notifier lanes"),
                                  -1);
  _iov_palette_load (&self->palette, GTK_WIDGET (self));
}

GtkWidget *
iov_notifier_lanes_new (void)
{
  return g_object_new (IOV_TYPE_NOTIFIER_LANES, NULL);
}

void
iov_notifier_lanes_set_bounds (IovNotifierLanes *self,
                               GArray           *bounds)
{
  g_return_if_fail (IOV_IS_NOTIFIER_LANES (self));
  g_return_if_fail (bounds != NULL);

  g_array_set_size (self->bounds, 0);
  g_array_append_vals (self->bounds, bounds->data, bounds->len);
  g_clear_pointer (&self->axis, iov_axis_unref);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
iov_notifier_lanes_set_step (IovNotifierLanes          *self,
                             const IovNotifier * const *notifiers,
                             guint                      n_notifiers,
                             const IovTlbEvent         *events,
                             guint                      n_events,
                             const IovOutcome          *outcomes,
                             guint                      n_outcomes,
                             const char                *abort_message)
{
  g_return_if_fail (IOV_IS_NOTIFIER_LANES (self));
  g_return_if_fail (notifiers != NULL || n_notifiers == 0);
  g_return_if_fail (events != NULL || n_events == 0);
  g_return_if_fail (outcomes != NULL || n_outcomes == 0);

  g_array_set_size (self->lanes, 0);
  for (guint i = 0; i < n_notifiers; i++)
    {
      Lane lane = { g_strdup (notifiers[i]->name), g_strdup (notifiers[i]->owner),
                    notifiers[i]->start, notifiers[i]->end, notifiers[i]->flags };

      g_array_append_val (self->lanes, lane);
    }

  g_array_set_size (self->events, 0);
  if (n_events > 0)
    g_array_append_vals (self->events, events, n_events);

  g_array_set_size (self->outcomes, 0);
  self->aborted = abort_message != NULL;
  self->abort_lane = -1;
  for (guint k = 0; k < n_outcomes; k++)
    {
      const IovOutcome *src = &outcomes[k];
      Outcome o = { -1, src->event, k, src->result, src->type, src->cropped, FALSE, src->iova, src->addr_mask };

      for (guint i = 0; i < n_notifiers; i++)
        if (notifiers[i] == src->notifier)
          o.lane = (int) i;
      if (o.event >= (int) n_events)
        o.event = -1;
      if (src->notifier != NULL && o.lane < 0)
        continue;
      if (src->result == IOV_RESULT_ABORT)
        {
          self->aborted = TRUE;
          self->abort_lane = o.lane;
        }
      g_array_append_val (self->outcomes, o);
    }

  g_free (self->abort_message);
  self->abort_message = g_strdup (abort_message);
  g_array_set_size (self->counts, 0);
  g_clear_pointer (&self->caption, g_free);

  stop_animation (self);
  self->anim_start = 0;
  if (gtk_widget_get_mapped (GTK_WIDGET (self)) &&
      (n_events > 0 || self->aborted))
    {
      gboolean animate = TRUE;

      g_object_get (gtk_widget_get_settings (GTK_WIDGET (self)), "gtk-enable-animations", &animate, NULL);
      if (animate)
        {
          self->progress = 0;
          self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), anim_tick_cb, NULL, NULL);
        }
      else
        self->progress = n_notifiers + 1;
    }
  else
    self->progress = n_notifiers + 1;

  update_accessible (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
iov_notifier_lanes_finish_animation (IovNotifierLanes *self)
{
  g_return_if_fail (IOV_IS_NOTIFIER_LANES (self));

  stop_animation (self);
  self->progress = self->lanes->len + 1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
iov_notifier_lanes_set_observed (IovNotifierLanes *self,
                                 const guint8     *observed,
                                 guint             n_outcomes)
{
  g_return_if_fail (IOV_IS_NOTIFIER_LANES (self));
  g_return_if_fail (observed != NULL || n_outcomes == 0);

  for (guint k = 0; k < self->outcomes->len; k++)
    {
      Outcome *o = &g_array_index (self->outcomes, Outcome, k);

      o->observed = o->source < n_outcomes && observed[o->source];
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
iov_notifier_lanes_set_speed (IovNotifierLanes *self,
                              double            speed)
{
  g_return_if_fail (IOV_IS_NOTIFIER_LANES (self));
  g_return_if_fail (speed > 0);

  self->speed = speed;
}

void
iov_notifier_lanes_set_counts (IovNotifierLanes       *self,
                               const char             *caption,
                               const IovDeliveryCount *counts,
                               guint                   n_counts)
{
  g_return_if_fail (IOV_IS_NOTIFIER_LANES (self));
  g_return_if_fail (counts != NULL || n_counts == 0);

  /* Counts replace the animation: the totals are the news. */
  stop_animation (self);
  self->progress = self->lanes->len + 1;
  g_free (self->caption);
  self->caption = g_strdup (caption);
  g_array_set_size (self->counts, 0);
  g_array_set_size (self->counts, self->lanes->len);
  for (guint i = 0; i < self->lanes->len; i++)
    {
      const Lane *lane = &g_array_index (self->lanes, Lane, i);

      for (guint k = 0; k < n_counts; k++)
        if (counts[k].notifier != NULL && g_strcmp0 (counts[k].notifier->name, lane->name) == 0)
          {
            g_array_index (self->counts, IovDeliveryCount, i) = counts[k];
            g_array_index (self->counts, IovDeliveryCount, i).notifier = NULL;  /* not kept */
          }
    }
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
iov_notifier_lanes_is_counting (IovNotifierLanes *self)
{
  g_return_val_if_fail (IOV_IS_NOTIFIER_LANES (self), FALSE);
  return self->counts->len > 0;
}

guint
iov_notifier_lanes_get_n_events (IovNotifierLanes *self)
{
  g_return_val_if_fail (IOV_IS_NOTIFIER_LANES (self), 0);
  return self->events->len;
}

guint
iov_notifier_lanes_get_n_lanes (IovNotifierLanes *self)
{
  g_return_val_if_fail (IOV_IS_NOTIFIER_LANES (self), 0);
  return self->lanes->len;
}
