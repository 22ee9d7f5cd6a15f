/* test-stepper.c — stepping through a scenario by hand and on a clock
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

#include "config.h"

#include "iov-stepper.h"

/* Fast enough for a test: a step every 1.5 ms. */
#define TEST_SPEED 1000.0

typedef struct
{
  GArray *positions;   /* int, as "notify::position" saw them */
  guint   playing_notifies;
  int     stop_at;     /* stop playing when reaching it; -2: never */
} Seen;

static void
position_cb (IovStepper *stepper,
             GParamSpec *pspec,
             Seen       *seen)
{
  int position = iov_stepper_get_position (stepper);

  g_array_append_val (seen->positions, position);
  if (position == seen->stop_at)
    iov_stepper_set_playing (stepper, FALSE);
}

static void
playing_cb (IovStepper *stepper,
            GParamSpec *pspec,
            Seen       *seen)
{
  seen->playing_notifies++;
}

static IovStepper *
new_watched (Seen *seen)
{
  IovStepper *stepper = iov_stepper_new ("[iovista] test step");

  seen->positions = g_array_new (FALSE, FALSE, sizeof (int));
  seen->playing_notifies = 0;
  seen->stop_at = -2;
  g_signal_connect (stepper, "notify::position", G_CALLBACK (position_cb), seen);
  g_signal_connect (stepper, "notify::playing", G_CALLBACK (playing_cb), seen);
  return stepper;
}

static void
wait_until_stopped (IovStepper *stepper)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  while (iov_stepper_get_playing (stepper) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (iov_stepper_get_playing (stepper));
}

static void
assert_positions (Seen      *seen,
                  const int *expected,
                  guint      n)
{
  g_assert_cmpuint (seen->positions->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (g_array_index (seen->positions, int, i), ==, expected[i]);
  g_array_set_size (seen->positions, 0);
}

static void
test_by_hand (void)
{
  Seen seen;
  g_autoptr(IovStepper) stepper = new_watched (&seen);
  static const int moved[] = { 0, 1, 2, -1, 3, 1 };

  /* no steps: only before the first, nothing to play */
  g_assert_cmpint (iov_stepper_get_position (stepper), ==, -1);
  g_assert_false (iov_stepper_get_can_play (stepper));
  g_assert_false (iov_stepper_can_step_back (stepper));
  g_assert_false (iov_stepper_can_step_forward (stepper));
  iov_stepper_step (stepper, 1);
  iov_stepper_set_playing (stepper, TRUE);
  g_assert_false (iov_stepper_get_playing (stepper));
  g_assert_cmpuint (seen.positions->len, ==, 0);

  iov_stepper_set_n_steps (stepper, 4);
  g_assert_true (iov_stepper_get_can_play (stepper));
  g_assert_true (iov_stepper_can_step_forward (stepper));
  iov_stepper_step (stepper, 1);
  iov_stepper_step (stepper, 1);
  g_assert_true (iov_stepper_can_step_back (stepper));
  iov_stepper_set_position (stepper, 2);
  /* the same position again is no change */
  iov_stepper_set_position (stepper, 2);
  /* clamped at both ends */
  iov_stepper_step (stepper, -10);
  iov_stepper_step (stepper, -1);
  iov_stepper_set_position (stepper, 99);
  g_assert_false (iov_stepper_can_step_forward (stepper));
  /* fewer steps: the position stays within them */
  iov_stepper_set_n_steps (stepper, 2);
  g_assert_cmpint (iov_stepper_get_n_steps (stepper), ==, 2);
  assert_positions (&seen, moved, G_N_ELEMENTS (moved));
  g_assert_cmpuint (seen.playing_notifies, ==, 0);

  g_object_set (stepper, "position", 0, NULL);
  g_assert_cmpint (iov_stepper_get_position (stepper), ==, 0);
  g_array_unref (seen.positions);
}

/* Playing walks every step to the last and stops there; played again
 * from the last step, it starts before the first. */
static void
test_play (void)
{
  Seen seen;
  g_autoptr(IovStepper) stepper = new_watched (&seen);
  static const int all[] = { 0, 1, 2 };
  static const int again[] = { -1, 0, 1, 2 };

  iov_stepper_set_n_steps (stepper, 3);
  iov_stepper_set_speed (stepper, TEST_SPEED);
  g_assert_cmpfloat (iov_stepper_get_speed (stepper), ==, TEST_SPEED);
  iov_stepper_set_playing (stepper, TRUE);
  g_assert_true (iov_stepper_get_playing (stepper));
  /* nothing moves before the clock ticks */
  g_assert_cmpint (iov_stepper_get_position (stepper), ==, -1);
  wait_until_stopped (stepper);
  g_assert_cmpint (iov_stepper_get_position (stepper), ==, 2);
  assert_positions (&seen, all, G_N_ELEMENTS (all));
  g_assert_cmpuint (seen.playing_notifies, ==, 2);

  iov_stepper_set_playing (stepper, TRUE);
  wait_until_stopped (stepper);
  assert_positions (&seen, again, G_N_ELEMENTS (again));
  g_assert_cmpuint (seen.playing_notifies, ==, 4);
  g_array_unref (seen.positions);
}

/* What stops playing: the view, from its own redraw; nothing left to play;
 * a pace changed on the way does not. */
static void
test_stop (void)
{
  Seen seen;
  g_autoptr(IovStepper) stepper = new_watched (&seen);
  static const int to_one[] = { 0, 1 };

  iov_stepper_set_n_steps (stepper, 5);
  iov_stepper_set_speed (stepper, TEST_SPEED);
  seen.stop_at = 1;
  iov_stepper_set_playing (stepper, TRUE);
  iov_stepper_set_speed (stepper, TEST_SPEED * 2);
  g_assert_true (iov_stepper_get_playing (stepper));
  wait_until_stopped (stepper);
  assert_positions (&seen, to_one, G_N_ELEMENTS (to_one));
  g_assert_cmpuint (seen.playing_notifies, ==, 2);

  seen.stop_at = -2;
  iov_stepper_set_playing (stepper, TRUE);
  iov_stepper_set_can_play (stepper, FALSE);
  g_assert_false (iov_stepper_get_playing (stepper));
  g_assert_false (iov_stepper_get_can_play (stepper));
  iov_stepper_set_playing (stepper, TRUE);
  g_assert_false (iov_stepper_get_playing (stepper));

  iov_stepper_set_can_play (stepper, TRUE);
  g_object_set (stepper, "playing", TRUE, NULL);
  g_assert_true (iov_stepper_get_playing (stepper));
  iov_stepper_set_n_steps (stepper, 0);
  g_assert_false (iov_stepper_get_playing (stepper));
  g_assert_cmpint (iov_stepper_get_position (stepper), ==, -1);
  g_array_unref (seen.positions);
}

/* A stepper freed while it plays takes its clock with it. */
static void
test_dispose_playing (void)
{
  IovStepper *stepper = iov_stepper_new ("[iovista] test step");
  gint64 until = g_get_monotonic_time () + 20 * 1000;

  iov_stepper_set_n_steps (stepper, 3);
  iov_stepper_set_speed (stepper, TEST_SPEED);
  iov_stepper_set_playing (stepper, TRUE);
  g_object_unref (stepper);
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/stepper/by-hand", test_by_hand);
  g_test_add_func ("/stepper/play", test_play);
  g_test_add_func ("/stepper/stop", test_stop);
  g_test_add_func ("/stepper/dispose-playing", test_dispose_playing);
  return g_test_run ();
}
