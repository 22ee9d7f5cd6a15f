/* test-what-if.c — the side-by-side what-if view
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
#include "iov-what-if-view.h"
#include "iov-window.h"
#include "test-app-util.h"

static IovWindow *
open_window (IovApplication *app)
{
  g_autoptr(GError) error = NULL;

  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  return IOV_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
}

static void
test_columns_and_next_difference (void)
{
  g_autoptr(IovApplication) app = iov_application_new ();
  IovWindow *window = open_window (app);
  IovWhatIfView *view = iov_window_get_what_if_view (window);
  const char *two[] = { "qemu-6.0", "qemu-10.2", NULL };
  const char *four[] = { "qemu-5.0", "qemu-5.2", "qemu-6.0", "qemu-10.2", NULL };
  const char *one[] = { "qemu-6.0", NULL };
  const char *unknown[] = { "qemu-6.0", "qemu-0.1", NULL };
  const char *word;
  gboolean differs;

  iov_player_set_playing (iov_window_get_player (window), FALSE);
  iov_window_set_mode (window, "what-if");
  app_test_wait_for_draw (GTK_WIDGET (window));
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (view)));

  /* The default three versions, one column each, before the first step. */
  g_assert_cmpuint (iov_what_if_view_get_n_columns (view), ==, 3);
  g_assert_cmpint (iov_what_if_view_get_position (view), ==, -1);

  /* The 2020 scenario: 5.0 aborts at step 3 (index 2), later ones crop. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "what-if.next-difference", NULL));
  g_assert_cmpint (iov_what_if_view_get_position (view), ==, 2);
  word = iov_what_if_view_get_column_outcome (view, 0, &differs);
  g_assert_cmpstr (word, ==, "✖ abort");
  g_assert_true (differs);
  word = iov_what_if_view_get_column_outcome (view, 1, &differs);
  g_assert_cmpstr (word, ==, "cropped");
  g_assert_false (differs);
  app_test_wait_for_draw (GTK_WIDGET (window));

  /* Lock-step: Right moves every column; Left comes back. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "what-if.step-forward", NULL));
  g_assert_cmpint (iov_what_if_view_get_position (view), ==, 3);
  g_assert_cmpstr (iov_what_if_view_get_column_outcome (view, 0, NULL), ==, "not run");
  g_assert_cmpstr (iov_what_if_view_get_column_outcome (view, 2, NULL), ==, "skipped");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "what-if.step-back", NULL));
  g_assert_cmpint (iov_what_if_view_get_position (view), ==, 2);

  /* Two to four columns. 6.0 and 10.2 both crop at step 3, in the same
   * order: vhost registers when it starts, after the guest enabled ATS
   * (issue I, fix 7). The difference in dispatch order expected here
   * before came from re-registering a vhost that had not started yet. */
  g_assert_false (iov_what_if_view_set_profiles (view, one));
  g_assert_false (iov_what_if_view_set_profiles (view, unknown));
  g_assert_cmpuint (iov_what_if_view_get_n_columns (view), ==, 3);
  g_assert_true (iov_what_if_view_set_profiles (view, four));
  g_assert_cmpuint (iov_what_if_view_get_n_columns (view), ==, 4);
  g_assert_true (iov_what_if_view_set_profiles (view, two));
  g_assert_cmpuint (iov_what_if_view_get_n_columns (view), ==, 2);
  iov_what_if_view_set_position (view, -1);
  g_assert_false (iov_what_if_view_next_difference (view));
  g_assert_cmpint (iov_what_if_view_get_position (view), ==, -1);
  iov_what_if_view_set_position (view, 2);
  g_assert_cmpstr (iov_what_if_view_get_column_outcome (view, 0, &differs), ==, "cropped");
  g_assert_false (differs);
  g_assert_cmpstr (iov_what_if_view_get_column_outcome (view, 1, &differs), ==, "cropped");
  g_assert_false (differs);

  /* Another scenario replaces the columns' run. */
  {
    g_autoptr(GError) error = NULL;

    g_assert_true (iov_window_open_builtin (window, "vhost-double-unmap", &error));
    g_assert_no_error (error);
    g_assert_cmpuint (iov_what_if_view_get_n_columns (view), ==, 2);
    g_assert_cmpint (iov_what_if_view_get_position (view), ==, -1);
  }
  app_test_wait_for_draw (GTK_WIDGET (window));

  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int    argc,
      char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/app/what-if/columns-and-next-difference", test_columns_and_next_difference);
  return g_test_run ();
}
