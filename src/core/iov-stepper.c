/* iov-stepper.c
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

#define G_LOG_DOMAIN "iov-stepper"

#include "config.h"

#include "iov-stepper.h"

struct _IovStepper
{
  GObject   parent_instance;

  char     *name;
  int       n_steps;
  int       position;
  gboolean  can_play;
  double    speed;
  guint     tick_id;   /* playing while set */
};

G_DEFINE_FINAL_TYPE (IovStepper, iov_stepper, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_N_STEPS,
  PROP_POSITION,
  PROP_PLAYING,
  PROP_SPEED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean tick_cb (gpointer user_data);

static void
start_clock (IovStepper *self)
{
  self->tick_id = g_timeout_add ((guint) (IOV_STEPPER_INTERVAL_MS / self->speed), tick_cb, self);
  g_source_set_name_by_id (self->tick_id, self->name);
}

static void
stop (IovStepper *self)
{
  if (self->tick_id == 0)
    return;
  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

static gboolean
tick_cb (gpointer user_data)
{
  IovStepper *self = user_data;

  iov_stepper_step (self, 1);
  /* "notify::position" may have stopped it already, and removed this source */
  if (self->tick_id == 0)
    return G_SOURCE_REMOVE;
  if (self->position >= self->n_steps - 1)
    {
      self->tick_id = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

IovStepper *
iov_stepper_new (const char *name)
{
  IovStepper *self = g_object_new (IOV_TYPE_STEPPER, NULL);

  self->name = g_strdup (name);
  return self;
}

void
iov_stepper_set_n_steps (IovStepper *self,
                         int         n_steps)
{
  g_return_if_fail (IOV_IS_STEPPER (self));

  n_steps = MAX (n_steps, 0);
  if (n_steps == self->n_steps)
    return;
  self->n_steps = n_steps;
  if (!iov_stepper_get_can_play (self))
    stop (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_STEPS]);
  iov_stepper_set_position (self, self->position);
}

int
iov_stepper_get_n_steps (IovStepper *self)
{
  g_return_val_if_fail (IOV_IS_STEPPER (self), 0);
  return self->n_steps;
}

void
iov_stepper_set_can_play (IovStepper *self,
                          gboolean    can_play)
{
  g_return_if_fail (IOV_IS_STEPPER (self));

  self->can_play = !!can_play;
  if (!self->can_play)
    stop (self);
}

gboolean
iov_stepper_get_can_play (IovStepper *self)
{
  g_return_val_if_fail (IOV_IS_STEPPER (self), FALSE);
  return self->can_play && self->n_steps > 0;
}

int
iov_stepper_get_position (IovStepper *self)
{
  g_return_val_if_fail (IOV_IS_STEPPER (self), -1);
  return self->position;
}

void
iov_stepper_set_position (IovStepper *self,
                          int         position)
{
  g_return_if_fail (IOV_IS_STEPPER (self));

  position = CLAMP (position, -1, self->n_steps - 1);
  if (position == self->position)
    return;
  self->position = position;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POSITION]);
}

void
iov_stepper_step (IovStepper *self,
                  int         delta)
{
  g_return_if_fail (IOV_IS_STEPPER (self));

  iov_stepper_set_position (self, self->position + delta);
}

gboolean
iov_stepper_can_step_back (IovStepper *self)
{
  g_return_val_if_fail (IOV_IS_STEPPER (self), FALSE);
  return self->position > -1;
}

gboolean
iov_stepper_can_step_forward (IovStepper *self)
{
  g_return_val_if_fail (IOV_IS_STEPPER (self), FALSE);
  return self->position < self->n_steps - 1;
}

gboolean
iov_stepper_get_playing (IovStepper *self)
{
  g_return_val_if_fail (IOV_IS_STEPPER (self), FALSE);
  return self->tick_id != 0;
}

void
iov_stepper_set_playing (IovStepper *self,
                         gboolean    playing)
{
  g_return_if_fail (IOV_IS_STEPPER (self));

  playing = !!playing && iov_stepper_get_can_play (self);
  if (playing == iov_stepper_get_playing (self))
    return;
  if (!playing)
    {
      stop (self);
      return;
    }
  if (self->position >= self->n_steps - 1)
    iov_stepper_set_position (self, -1);
  start_clock (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

double
iov_stepper_get_speed (IovStepper *self)
{
  g_return_val_if_fail (IOV_IS_STEPPER (self), 1);
  return self->speed;
}

void
iov_stepper_set_speed (IovStepper *self,
                       double      speed)
{
  g_return_if_fail (IOV_IS_STEPPER (self));
  g_return_if_fail (speed > 0);

  if (speed == self->speed)
    return;
  self->speed = speed;
  /* Restart the clock at the new pace. */
  if (self->tick_id != 0)
    {
      g_source_remove (self->tick_id);
      start_clock (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPEED]);
}

/* ---- GObject ------------------------------------------------------------ */

static void
iov_stepper_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  IovStepper *self = IOV_STEPPER (object);

  switch (prop_id)
    {
    case PROP_N_STEPS:
      g_value_set_int (value, self->n_steps);
      break;
    case PROP_POSITION:
      g_value_set_int (value, self->position);
      break;
    case PROP_PLAYING:
      g_value_set_boolean (value, iov_stepper_get_playing (self));
      break;
    case PROP_SPEED:
      g_value_set_double (value, self->speed);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
iov_stepper_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  IovStepper *self = IOV_STEPPER (object);

  switch (prop_id)
    {
    case PROP_N_STEPS:
      iov_stepper_set_n_steps (self, g_value_get_int (value));
      break;
    case PROP_POSITION:
      iov_stepper_set_position (self, g_value_get_int (value));
      break;
    case PROP_PLAYING:
      iov_stepper_set_playing (self, g_value_get_boolean (value));
      break;
    case PROP_SPEED:
      iov_stepper_set_speed (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
iov_stepper_dispose (GObject *object)
{
  IovStepper *self = IOV_STEPPER (object);

  /* the clock holds no reference: it must not outlive us */
  g_clear_handle_id (&self->tick_id, g_source_remove);

  G_OBJECT_CLASS (iov_stepper_parent_class)->dispose (object);
}

static void
iov_stepper_finalize (GObject *object)
{
  IovStepper *self = IOV_STEPPER (object);

  g_free (self->name);

  G_OBJECT_CLASS (iov_stepper_parent_class)->finalize (object);
}

static void
iov_stepper_class_init (IovStepperClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = iov_stepper_get_property;
  object_class->set_property = iov_stepper_set_property;
  object_class->dispose = iov_stepper_dispose;
  object_class->finalize = iov_stepper_finalize;

  properties[PROP_N_STEPS] =
    g_param_spec_int ("n-steps", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_POSITION] =
    g_param_spec_int ("position", NULL, NULL, -1, G_MAXINT, -1,
                      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_PLAYING] =
    g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SPEED] =
    g_param_spec_double ("speed", NULL, NULL, G_MINDOUBLE, G_MAXDOUBLE, 1,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
iov_stepper_init (IovStepper *self)
{
  self->position = -1;
  self->can_play = TRUE;
  self->speed = 1;
}
