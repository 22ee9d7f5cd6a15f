/* test-window.c
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

#include <glib/gstdio.h>

#include "iov-application.h"
#include "iov-notifier-lanes.h"
#include "iov-window.h"
#include "test-app-util.h"

static void
check_window (GtkApplication *app)
{
  GtkWindow *window;
  IovPlayer *player;
  const IovScenario *scenario;
  g_autoptr(GdkTexture) texture = NULL;

  g_application_activate (G_APPLICATION (app));
  window = gtk_application_get_active_window (app);
  g_assert_true (IOV_IS_WINDOW (window));

  /* Issue B's scenario (1), under its own profile, playing from the start
   * (checked before the main loop runs, so the player's clock cannot have
   * moved on yet, however slow the machine). */
  player = iov_window_get_player (IOV_WINDOW (window));
  scenario = iov_player_get_scenario (player);
  g_assert_nonnull (scenario);
  g_assert_cmpstr (scenario->name, ==, "2020-deviotlb-crash");
  g_assert_nonnull (iov_player_get_run (player));
  g_assert_cmpstr (iov_player_get_run (player)->profile->id, ==, scenario->profile);
  g_assert_true (iov_player_get_playing (player));
  g_assert_cmpint (iov_player_get_position (player), ==, -1);

  app_test_wait_for_draw (GTK_WIDGET (window));
  g_assert_true (gtk_widget_get_mapped (iov_player_get_range_map (player)));
  g_assert_true (gtk_widget_get_mapped (iov_player_get_lanes (player)));

  /* Keyboard actions step through it. */
  /* (On a slow machine it may have played to the end already.) */
  iov_player_set_playing (player, TRUE);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.play", NULL));
  g_assert_false (iov_player_get_playing (player));
  iov_player_set_position (player, -1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.step-forward", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.step-forward", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.step-forward", NULL));
  g_assert_cmpint (iov_player_get_position (player), ==, 2);
  app_test_wait_for_draw (GTK_WIDGET (window));

  /* The same step under QEMU 5.0: the flush aborts there, and the lanes
   * grow to show QEMU's assertion. */
  {
    GtkWidget *lanes = iov_player_get_lanes (player);
    int before, after, nat;

    iov_notifier_lanes_finish_animation (IOV_NOTIFIER_LANES (lanes));
    gtk_widget_measure (lanes, GTK_ORIENTATION_VERTICAL, -1, &before, &nat, NULL, NULL);
    g_assert_true (iov_player_set_profile (player, "qemu-5.0"));
    g_assert_cmpint (iov_player_get_position (player), ==, 2);
    g_assert_cmpint (iov_player_get_run (player)->aborted_at, ==, 2);
    iov_notifier_lanes_finish_animation (IOV_NOTIFIER_LANES (lanes));
    gtk_widget_measure (lanes, GTK_ORIENTATION_VERTICAL, -1, &after, &nat, NULL, NULL);
    g_assert_cmpint (after, >, before);
    app_test_wait_for_draw (GTK_WIDGET (window));
  }

  texture = app_test_render (GTK_WIDGET (window));
  /* A header bar, text and a page: far more than a couple of colours. */
  g_assert_cmpuint (app_test_count_colours (texture, 64), >=, 16);

  if (g_getenv ("IOVISTA_TEST_SCREENSHOT"))
    gdk_texture_save_to_png (texture, g_getenv ("IOVISTA_TEST_SCREENSHOT"));

  gtk_window_destroy (window);
}

static void
test_open_file (void)
{
  g_autoptr(IovApplication) app = iov_application_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("iovista-test-XXXXXX", &error);
  g_autofree char *bad_path = NULL;
  g_autofree char *good_path = NULL;
  g_autoptr(GFile) bad = NULL;
  g_autoptr(GFile) good = NULL;
  IovWindow *window;

  g_assert_no_error (error);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = IOV_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));

  bad_path = g_build_filename (dir, "bad.json", NULL);
  g_file_set_contents (bad_path, "{ \"profile\": \"qemu-6.0\", \"steps\": [ ", -1, &error);
  g_assert_no_error (error);
  bad = g_file_new_for_path (bad_path);
  g_assert_false (iov_window_open_file (window, bad, &error));
  g_assert_nonnull (error);
  g_test_message ("parse error: %s", error->message);
  g_clear_error (&error);

  good_path = g_build_filename (dir, "good.json", NULL);
  g_file_set_contents (good_path,
                       "{ \"name\": \"mine\", \"profile\": \"qemu-6.0\","
                       "  \"iommu\": {\"model\": \"intel\"},"
                       "  \"notifiers\": [ {\"name\": \"n1\", \"start\": \"0x0\", \"end\": \"0xfedfffff\","
                       "                    \"flags\": [\"unmap\"]} ],"
                       "  \"steps\": [ {\"op\": \"notify\", \"type\": \"unmap\", \"iova\": \"0x1000\","
                       "                \"addr_mask\": \"0xfff\", \"perm\": \"none\"} ] }", -1, &error);
  g_assert_no_error (error);
  good = g_file_new_for_path (good_path);
  g_assert_true (iov_window_open_file (window, good, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (iov_player_get_scenario (iov_window_get_player (window))->name, ==, "mine");
  g_assert_cmpuint (iov_notifier_lanes_get_n_lanes (IOV_NOTIFIER_LANES (iov_player_get_lanes (iov_window_get_player (window)))),
                    ==, 1);

  g_unlink (bad_path);
  g_unlink (good_path);
  g_rmdir (dir);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_help_overlay (void)
{
  g_autoptr(GtkBuilder) builder = gtk_builder_new_from_resource ("/io/github/iovista/Iovista/gtk/help-overlay.ui");
  GObject *overlay = gtk_builder_get_object (builder, "help_overlay");

  g_assert_true (GTK_IS_SHORTCUTS_WINDOW (overlay));
  gtk_window_destroy (GTK_WINDOW (overlay));
}

static void
test_main_window (void)
{
  g_autoptr(IovApplication) app = iov_application_new ();
  g_autoptr(GError) error = NULL;

  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  check_window (GTK_APPLICATION (app));
}

int
main (int    argc,
      char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/app/window/opens", test_main_window);
  g_test_add_func ("/app/window/open-file", test_open_file);
  g_test_add_func ("/app/window/help-overlay", test_help_overlay);
  return g_test_run ();
}
