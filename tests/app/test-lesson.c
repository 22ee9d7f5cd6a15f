/* test-lesson.c — teaching mode: predict, then reveal
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

#include "iov-application.h"
#include "iov-lesson.h"
#include "iov-window.h"
#include "test-app-util.h"

static void
test_predict_and_reveal (void)
{
  g_autoptr(IovApplication) app = iov_application_new ();
  g_autoptr(GError) error = NULL;
  IovWindow *window;
  IovLesson *lesson;
  guint crashed = G_MAXUINT, other = G_MAXUINT;

  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = IOV_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  iov_player_set_playing (iov_window_get_player (window), FALSE);
  iov_window_set_mode (window, "lesson");
  lesson = iov_window_get_lesson (window);
  app_test_wait_for_draw (GTK_WIDGET (window));
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (lesson)));
  g_assert_cmpuint (iov_lesson_get_n_lessons (), ==, 5);

  /* "The device-IOTLB flush that crashed QEMU 5.0", at the flush. */
  g_assert_true (iov_lesson_open (lesson, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (iov_lesson_get_scenario_name (lesson), ==, "2020-deviotlb-crash");
  g_assert_cmpint (iov_lesson_get_position (lesson), ==, -1);
  /* Enabling DMAR sends no invalidation: nothing to predict. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (lesson), "lesson.step-forward", NULL));
  g_assert_cmpuint (iov_lesson_get_n_predictions (lesson), ==, 0);
  g_assert_false (iov_lesson_reveal (lesson));
  iov_lesson_set_position (lesson, 2);

  g_assert_cmpuint (iov_lesson_get_n_predictions (lesson), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      if (g_strcmp0 (iov_lesson_get_notifier_name (lesson, i), "net0.vhost.2") == 0)
        crashed = i;
      else
        other = i;
    }
  g_assert_cmpuint (crashed, <, 2);
  g_assert_cmpuint (other, <, 2);

  /* 5.0's assertion fires on vhost.2, the list head: "QEMU aborts" is
   * right; the other notifier is never reached, so "delivered" is wrong. */
  iov_lesson_set_guess (lesson, crashed, IOV_LESSON_GUESS_ABORT);
  iov_lesson_set_guess (lesson, other, IOV_LESSON_GUESS_DELIVERED);
  g_assert_cmpint (iov_lesson_get_mark (lesson, crashed), ==, IOV_LESSON_MARK_NONE);
  g_assert_cmpint (iov_lesson_get_mark (lesson, other), ==, IOV_LESSON_MARK_NONE);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (lesson), "lesson.reveal", NULL));
  g_assert_cmpint (iov_lesson_get_mark (lesson, crashed), ==, IOV_LESSON_MARK_RIGHT);
  g_assert_cmpint (iov_lesson_get_mark (lesson, other), ==, IOV_LESSON_MARK_WRONG);
  app_test_wait_for_draw (GTK_WIDGET (window));

  /* P goes back to guessing; a better guess is then right. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (lesson), "lesson.predict", NULL));
  g_assert_cmpint (iov_lesson_get_mark (lesson, other), ==, IOV_LESSON_MARK_NONE);
  iov_lesson_set_guess (lesson, other, IOV_LESSON_GUESS_ABORT);
  g_assert_true (iov_lesson_reveal (lesson));
  g_assert_cmpint (iov_lesson_get_mark (lesson, other), ==, IOV_LESSON_MARK_RIGHT);

  /* Why two FlatRanges, under 8.1: QEMU does not abort there, so
   * "QEMU aborts" is wrong for the first notifier that is asked about. */
  g_assert_true (iov_lesson_open (lesson, 0, &error));
  g_assert_no_error (error);
  for (int s = 0; s < 8 && iov_lesson_get_n_predictions (lesson) == 0; s++)
    gtk_widget_activate_action (GTK_WIDGET (lesson), "lesson.step-forward", NULL);
  g_assert_cmpuint (iov_lesson_get_n_predictions (lesson), >, 0);
  iov_lesson_set_guess (lesson, 0, IOV_LESSON_GUESS_ABORT);
  g_assert_true (iov_lesson_reveal (lesson));
  g_assert_cmpint (iov_lesson_get_mark (lesson, 0), ==, IOV_LESSON_MARK_WRONG);

  /* Moving on hides the answer again. */
  iov_lesson_set_position (lesson, -1);
  g_assert_cmpuint (iov_lesson_get_n_predictions (lesson), ==, 0);

  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int    argc,
      char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/app/lesson/predict-and-reveal", test_predict_and_reveal);
  return g_test_run ();
}
