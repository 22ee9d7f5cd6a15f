/* test-export.c — Export… writes each format from the window
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
#include <json-glib/json-glib.h>

#include "iov-application.h"
#include "iov-window.h"
#include "test-app-util.h"

static char *
export_to (IovWindow  *window,
           const char *dir,
           const char *name,
           gsize      *length)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_assert_true (iov_window_export (window, file, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, length, &error));
  g_assert_no_error (error);
  g_unlink (path);
  return contents;
}

static void
test_export_formats (void)
{
  g_autoptr(IovApplication) app = iov_application_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("iovista-export-XXXXXX", &error);
  IovWindow *window;
  IovPlayer *player;
  gsize length;

  g_assert_no_error (error);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = IOV_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  player = iov_window_get_player (window);
  iov_player_set_playing (player, FALSE);
  g_assert_true (iov_player_set_profile (player, "qemu-6.0"));
  iov_player_set_position (player, 2);
  app_test_wait_for_draw (GTK_WIDGET (window));

  /* Perfetto, under 6.0: parses, has events and a flow from the flush to
   * the cropped deliveries. */
  {
    g_autofree char *json = export_to (window, dir, "run.json", &length);
    g_autoptr(JsonParser) parser = json_parser_new ();
    JsonArray *events;
    gboolean flow = FALSE;

    g_assert_true (json_parser_load_from_data (parser, json, length, &error));
    g_assert_no_error (error);
    events = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "traceEvents");
    g_assert_nonnull (events);
    g_assert_cmpuint (json_array_get_length (events), >, 2);
    for (guint i = 0; i < json_array_get_length (events); i++)
      flow |= g_strcmp0 (json_object_get_string_member_with_default (json_array_get_object_element (events, i),
                                                                     "ph", ""), "s") == 0;
    g_assert_true (flow);
  }

  /* CSV, under 5.0: the header row, then the abort at step 3 (index 2). */
  g_assert_true (iov_player_set_profile (player, "qemu-5.0"));
  {
    g_autofree char *csv = export_to (window, dir, "run.csv", &length);
    g_auto(GStrv) lines = g_strsplit (csv, "\n", -1);

    g_assert_cmpuint (g_strv_length (lines), >=, 2);
    g_assert_true (g_str_has_prefix (lines[0], "profile,step,op,event,"));
    g_assert_true (g_str_has_prefix (lines[1], "qemu-5.0,2,device-iotlb-invalidate,"));
    g_assert_nonnull (strstr (lines[1], ",abort,"));
  }

  /* Pictures of the step on screen. */
  {
    g_autofree char *svg = export_to (window, dir, "step.svg", &length);

    g_assert_cmpuint (length, >, 1000);
    g_assert_true (g_str_has_prefix (svg, "<?xml"));
    g_assert_nonnull (strstr (svg, "<svg"));
    g_assert_nonnull (strstr (svg, "</svg>"));
  }
  {
    g_autofree char *png = export_to (window, dir, "step.png", &length);

    g_assert_cmpuint (length, >, 1000);
    g_assert_cmpmem (png, 8, "\x89PNG\r\n\x1a\n", 8);
  }
  {
    g_autofree char *pdf = export_to (window, dir, "step.pdf", &length);

    g_assert_cmpuint (length, >, 1000);
    g_assert_true (g_str_has_prefix (pdf, "%PDF-"));
  }

  /* An unknown kind of file is refused, and nothing is written. */
  {
    g_autofree char *path = g_build_filename (dir, "step.txt", NULL);
    g_autoptr(GFile) file = g_file_new_for_path (path);

    g_assert_false (iov_window_export (window, file, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
    g_clear_error (&error);
    g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  }

  /* Ctrl+E's action opens the save dialog (closed with the window). */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.export", NULL));

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/app/export/formats", test_export_formats);
  return g_test_run ();
}
