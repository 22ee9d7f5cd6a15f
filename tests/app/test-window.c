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

#include "iov-application.h"
#include "iov-window.h"
#include "test-app-util.h"

static void
check_window (GtkApplication *app)
{
  GtkWindow *window;
  g_autoptr(GdkTexture) texture = NULL;

  g_application_activate (G_APPLICATION (app));
  window = gtk_application_get_active_window (app);
  g_assert_true (IOV_IS_WINDOW (window));
  app_test_wait_for_draw (GTK_WIDGET (window));

  texture = app_test_render (GTK_WIDGET (window));
  /* A header bar, text and a page: far more than a couple of colours. */
  g_assert_cmpuint (app_test_count_colours (texture, 64), >=, 16);

  if (g_getenv ("IOVISTA_TEST_SCREENSHOT"))
    gdk_texture_save_to_png (texture, g_getenv ("IOVISTA_TEST_SCREENSHOT"));

  gtk_window_destroy (window);
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
  return g_test_run ();
}
