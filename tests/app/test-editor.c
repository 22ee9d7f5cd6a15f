/* test-editor.c — the scenario editor beside the player
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

#include <adwaita.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "iov-application.h"
#include "iov-player.h"
#include "iov-recording.h"
#include "iov-scenario-editor.h"
#include "iov-window.h"
#include "test-app-util.h"

/* @text with steps[@index] changed by @edit. */
static char *
edit_step (const char *text,
           guint       index,
           void      (*edit) (JsonArray *steps, guint index))
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *steps;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  steps = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "steps");
  edit (steps, index);
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, json_parser_get_root (parser));
  return json_generator_to_data (generator, NULL);
}

static void
break_addr (JsonArray *steps,
            guint      index)
{
  json_object_set_string_member (json_array_get_object_element (steps, index), "addr", "zz");
}

static void
drop_step (JsonArray *steps,
           guint      index)
{
  json_array_remove_element (steps, index);
}

/* Spins the main loop until the editor's pause has passed. */
static void
wait_for_validation (IovScenarioEditor *editor,
                     gboolean           want_error)
{
  /* The editor validates after a pause in typing; on a loaded machine or
   * under ASan that takes longer than the pause: wait for the outcome,
   * with a deadline far above it (a wrong outcome still fails). */
  gint64 until = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;

  while (g_get_monotonic_time () < until &&
         (iov_scenario_editor_get_error (editor) != NULL) != want_error)
    g_main_context_iteration (NULL, FALSE);
}

static void
test_edit_as_you_type (void)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *player = iov_player_new ();
  IovScenarioEditor *editor;
  g_autoptr(GError) error = NULL;
  g_autofree char *original = NULL;
  g_autofree char *invalid = NULL;
  g_autofree char *fixed = NULL;
  IovScenario *scenario;

  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 800);
  gtk_window_set_child (GTK_WINDOW (window), player);
  gtk_window_present (GTK_WINDOW (window));

  scenario = iov_scenario_new_from_resource ("2020-deviotlb-crash", &error);
  g_assert_no_error (error);
  iov_player_set_scenario (IOV_PLAYER (player), scenario, "qemu-6.0");
  g_assert_cmpuint (iov_player_get_run (IOV_PLAYER (player))->steps->len, ==, 4);

  editor = IOV_SCENARIO_EDITOR (iov_player_get_editor (IOV_PLAYER (player)));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (editor)));
  iov_player_set_editing (IOV_PLAYER (player), TRUE);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (editor)));
  app_test_wait_for_draw (window);

  /* The built-in's own text, from the GResource. */
  original = iov_scenario_editor_get_text (editor);
  g_assert_nonnull (strstr (original, "\"name\": \"2020-deviotlb-crash\""));
  g_assert_null (iov_scenario_editor_get_error (editor));

  /* A bad value: the message names the field, the player keeps its run. */
  invalid = edit_step (original, 3, break_addr);
  iov_scenario_editor_set_text (editor, invalid);
  g_assert_null (iov_scenario_editor_get_error (editor));   /* not before the pause */
  wait_for_validation (editor, TRUE);
  g_assert_nonnull (iov_scenario_editor_get_error (editor));
  g_assert_nonnull (strstr (iov_scenario_editor_get_error (editor), "steps[3].addr"));
  g_assert_nonnull (strstr (iov_scenario_editor_get_error (editor), "hex"));
  g_assert_cmpuint (iov_player_get_run (IOV_PLAYER (player))->steps->len, ==, 4);

  /* Fixed, and one step fewer: the player re-runs it, same profile. */
  fixed = edit_step (original, 1, drop_step);
  iov_scenario_editor_set_text (editor, fixed);
  wait_for_validation (editor, FALSE);
  g_assert_null (iov_scenario_editor_get_error (editor));
  g_assert_cmpuint (iov_player_get_scenario (IOV_PLAYER (player))->steps->len, ==, 3);
  g_assert_cmpuint (iov_player_get_run (IOV_PLAYER (player))->steps->len, ==, 3);
  g_assert_cmpstr (iov_player_get_run (IOV_PLAYER (player))->profile->id, ==, "qemu-6.0");
  /* The editor keeps what was typed. */
  {
    g_autofree char *now = iov_scenario_editor_get_text (editor);

    g_assert_cmpstr (now, ==, fixed);
  }

  /* Another scenario opened while editing: the editor follows it. */
  scenario = iov_scenario_new_from_resource ("virtio-iommu-split", &error);
  g_assert_no_error (error);
  iov_player_set_scenario (IOV_PLAYER (player), scenario, NULL);
  {
    g_autofree char *now = iov_scenario_editor_get_text (editor);

    g_assert_nonnull (strstr (now, "\"name\": \"virtio-iommu-split\""));
  }

  gtk_window_destroy (GTK_WINDOW (window));
}

/* Turn into Scenario: a recording's snapshot and trace, in the player. */
static void
test_recording_to_scenario (void)
{
  static const char *lines[] = {
    "1@1.000001:virtio_iommu_notify_unmap mr=virtio-iommu-memory-region-2-16 virt_start=0xffeb9000 virt_end=0xffeb9fff",
    "1@1.000002:virtio_iommu_notify_unmap mr=virtio-iommu-memory-region-2-16 virt_start=0x1000 virt_end=0x3fff",
  };
  g_autoptr(IovApplication) app = iov_application_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(IovRecordingWriter) writer = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *snap_path = g_test_build_filename (G_TEST_DIST, "data", "snapshots",
                                                      "virtio-iommu-vhost-user.json", NULL);
  g_autofree char *dir = g_dir_make_tmp ("iovista-editor-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  const IovScenario *scenario;
  IovWindow *window;
  IovPlayer *player;

  g_assert_no_error (error);
  path = g_build_filename (dir, "vhost-user.iovista", NULL);
  json_parser_load_from_file (parser, snap_path, &error);
  g_assert_no_error (error);
  writer = iov_recording_writer_new (path, "test", &error);
  g_assert_no_error (error);
  g_assert_true (iov_recording_writer_snapshot (writer, json_parser_get_root (parser), 0, &error));
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    g_assert_true (iov_recording_writer_trace (writer, lines[i], strlen (lines[i]), &error));
  g_assert_true (iov_recording_writer_close (writer, &error));
  g_assert_no_error (error);

  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = IOV_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  player = iov_window_get_player (window);
  iov_player_set_playing (player, FALSE);

  /* Only with a recording open: disabled, nothing happens. */
  scenario = iov_player_get_scenario (player);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.recording-to-scenario", NULL);
  g_assert_true (iov_player_get_scenario (player) == scenario);
  file = g_file_new_for_path (path);
  g_assert_true (iov_window_open_file (window, file, &error));
  g_assert_no_error (error);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.recording-to-scenario", NULL));

  /* One UNMAP, then one split in two: three steps, under Debian's 7.2. */
  scenario = iov_player_get_scenario (player);
  g_assert_nonnull (scenario);
  g_assert_cmpstr (scenario->name, ==, "vhost-user-scenario");
  g_assert_cmpuint (scenario->steps->len, ==, 3);
  g_assert_cmpstr (iov_player_get_run (player)->profile->id, ==, "debian-7.2");

  /* The editor shows its JSON. */
  iov_player_set_editing (player, TRUE);
  text = iov_scenario_editor_get_text (IOV_SCENARIO_EDITOR (iov_player_get_editor (player)));
  g_assert_nonnull (strstr (text, "\"vhost-user-scenario\""));
  g_assert_null (iov_scenario_editor_get_error (IOV_SCENARIO_EDITOR (iov_player_get_editor (player))));

  gtk_window_destroy (GTK_WINDOW (window));
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int    argc,
      char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/editor/edit-as-you-type", test_edit_as_you_type);
  g_test_add_func ("/editor/recording-to-scenario", test_recording_to_scenario);

  return g_test_run ();
}
