/* test-widgets.c — the map, the lanes and the player under Xvfb
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

#include "iov-axis.h"
#include "iov-drawing-private.h"
#include "iov-notifier-lanes.h"
#include "iov-outcome-list.h"
#include "iov-player.h"
#include "iov-range-map.h"
#include "iov-system.h"
#include "test-app-util.h"

#define IR_FIRST G_GUINT64_CONSTANT (0xfee00000)
#define IR_LAST  G_GUINT64_CONSTANT (0xfeefffff)

static GtkWidget *
show_in_window (GtkWidget *child,
                int        width,
                int        height)
{
  GtkWidget *window = gtk_window_new ();

  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_window_set_decorated (GTK_WINDOW (window), FALSE);
  gtk_window_set_child (GTK_WINDOW (window), child);
  gtk_window_present (GTK_WINDOW (window));
  app_test_wait_for_draw (child);
  return window;
}

/* The VT-d fixture: DMAR on, the interrupt window splitting the region,
 * aw-bits 39, vhost's two notifiers. */
static void
fill_fixture (IovRangeMap *map)
{
  static const IovMapRange ranges[] = {
    { 0, IR_FIRST - 1, IOV_RANGE_ROLE_IOMMU, "DMAR" },
    { IR_FIRST, IR_LAST, IOV_RANGE_ROLE_INTERRUPT, "IR" },
    { IR_LAST + 1, G_MAXUINT64, IOV_RANGE_ROLE_IOMMU, "DMAR" },
  };
  IovNotifier n1 = { (char *) "net0.vhost.1", (char *) "vhost", 0, IR_FIRST - 1, IOV_NOTIFIER_UNMAP, 0 };
  IovNotifier n2 = { (char *) "net0.vhost.2", (char *) "vhost", IR_LAST + 1, G_MAXUINT64,
                     IOV_NOTIFIER_DEVIOTLB_UNMAP, 0 };
  const IovNotifier *notifiers[] = { &n2, &n1 };

  iov_range_map_set_ranges (map, ranges, G_N_ELEMENTS (ranges));
  iov_range_map_set_aw_bits (map, 39);
  iov_range_map_set_notifiers (map, notifiers, G_N_ELEMENTS (notifiers));
}

static void
test_map_renders (void)
{
  GtkWidget *map = iov_range_map_new ();
  GtkWidget *window;
  g_autoptr(GdkTexture) texture = NULL;

  fill_fixture (IOV_RANGE_MAP (map));
  window = show_in_window (map, 1000, 300);
  texture = app_test_render (map);
  g_assert_cmpuint (app_test_count_colours (texture, 32), >=, 8);
  g_assert_cmpuint (iov_range_map_get_n_notifiers (IOV_RANGE_MAP (map)), ==, 2);
  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
amber (guint32 argb)
{
  guint r = (argb >> 16) & 0xff, b = argb & 0xff;

  return r > b + 60;
}

static gboolean
blue (guint32 argb)
{
  guint r = (argb >> 16) & 0xff, b = argb & 0xff;

  return b > r + 60;
}

static void
test_map_interrupt_window_pixels (void)
{
  GtkWidget *map = iov_range_map_new ();
  GtkWidget *window;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(IovAxis) axis = NULL;
  graphene_rect_t bar;
  GArray *bounds;
  double x0, x1;
  int y;

  fill_fixture (IOV_RANGE_MAP (map));
  window = show_in_window (map, 1200, 300);
  texture = app_test_render (map);

  /* Where the axis helper says the window is, independently of the map. */
  iov_range_map_get_bar_area (IOV_RANGE_MAP (map), &bar);
  bounds = iov_range_map_get_bounds (IOV_RANGE_MAP (map));
  axis = iov_axis_new ((const guint64 *) (gpointer) bounds->data, bounds->len, bar.size.width,
                       IOV_MIN_SEGMENT_WIDTH);
  x0 = bar.origin.x + iov_axis_value_to_x (axis, IR_FIRST);
  x1 = bar.origin.x + iov_axis_end_to_x (axis, IR_LAST);
  g_test_message ("interrupt window at x %.1f – %.1f", x0, x1);
  g_assert_cmpfloat (x1 - x0, >=, 40);

  /* Near the top edge of the bar: no labels there. */
  y = (int) bar.origin.y + 3;
  for (int x = (int) x0 + 2; x <= (int) x1 - 2; x++)
    g_assert_true (amber (app_test_pixel (texture, x, y)));
  g_assert_true (blue (app_test_pixel (texture, (int) x0 - 3, y)));
  g_assert_true (blue (app_test_pixel (texture, (int) x1 + 3, y)));
  g_assert_cmphex (app_test_pixel (texture, (int) x0 - 3, y), !=, app_test_pixel (texture, (int) x0 + 3, y));
  g_assert_cmphex (app_test_pixel (texture, (int) x1 + 3, y), !=, app_test_pixel (texture, (int) x1 - 3, y));

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_lanes_render (void)
{
  GtkWidget *lanes = iov_notifier_lanes_new ();
  GtkWidget *window;
  g_autoptr(GdkTexture) texture = NULL;
  IovNotifier n1 = { (char *) "n1", (char *) "vhost", 0, IR_FIRST - 1, IOV_NOTIFIER_UNMAP, 0 };
  IovNotifier n2 = { (char *) "n2", (char *) "vhost", IR_LAST + 1, G_MAXUINT64, IOV_NOTIFIER_DEVIOTLB_UNMAP, 0 };
  const IovNotifier *notifiers[] = { &n2, &n1 };
  IovTlbEvent event = { 0, G_MAXUINT64, 0, IOV_NOTIFIER_DEVIOTLB_UNMAP, IOV_PERM_NONE };
  IovOutcome outcomes[] = {
    { &n2, 0, IOV_RESULT_DELIVERED, IOV_NOTIFIER_DEVIOTLB_UNMAP, TRUE, IOV_ABORT_NONE,
      IR_LAST + 1, G_MAXUINT64 - IR_LAST - 1 },
    { &n1, 0, IOV_RESULT_ABORT, 0, FALSE, IOV_ABORT_CONTAINMENT, 0, 0 },
  };
  int min_before, min_after, nat;

  window = show_in_window (lanes, 1000, 300);
  gtk_widget_measure (lanes, GTK_ORIENTATION_VERTICAL, -1, &min_before, &nat, NULL, NULL);
  iov_notifier_lanes_set_step (IOV_NOTIFIER_LANES (lanes), notifiers, 2, &event, 1,
                               outcomes, G_N_ELEMENTS (outcomes), "Assertion failed");
  iov_notifier_lanes_finish_animation (IOV_NOTIFIER_LANES (lanes));
  app_test_wait_for_draw (lanes);
  gtk_widget_measure (lanes, GTK_ORIENTATION_VERTICAL, -1, &min_after, &nat, NULL, NULL);
  g_assert_cmpuint (iov_notifier_lanes_get_n_lanes (IOV_NOTIFIER_LANES (lanes)), ==, 2);
  /* Two lanes and the abort box need more room than the empty state. */
  g_assert_cmpint (min_after, >, min_before);

  texture = app_test_render (lanes);
  g_assert_cmpuint (app_test_count_colours (texture, 32), >=, 8);

  /* An observed delivery is drawn differently from an inferred one. */
  {
    static const guint8 observed[] = { TRUE, FALSE };
    g_autoptr(GdkTexture) filled = NULL;
    int w = gdk_texture_get_width (texture);
    int h = gdk_texture_get_height (texture);
    g_autofree guchar *a = g_malloc ((gsize) w * h * 4);
    g_autofree guchar *b = g_malloc ((gsize) w * h * 4);

    iov_notifier_lanes_set_observed (IOV_NOTIFIER_LANES (lanes), observed, G_N_ELEMENTS (observed));
    app_test_wait_for_draw (lanes);
    filled = app_test_render (lanes);
    g_assert_cmpint (gdk_texture_get_width (filled), ==, w);
    g_assert_cmpint (gdk_texture_get_height (filled), ==, h);
    gdk_texture_download (texture, a, (gsize) w * 4);
    gdk_texture_download (filled, b, (gsize) w * 4);
    g_assert_true (memcmp (a, b, (gsize) w * h * 4) != 0);
  }
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Notifiers registered once @step has run, counted from the run's
 * registrations independently of the player. */
static guint
count_registered (const IovRun *run,
                  int           step)
{
  int n = 0;

  for (int s = 0; s <= step; s++)
    {
      const IovStepResult *r = &g_array_index (run->steps, IovStepResult, s);

      for (guint i = 0; r->registrations != NULL && i < r->registrations->len; i++)
        {
          const IovRegistration *reg = &g_array_index (r->registrations, IovRegistration, i);

          n += reg->action == IOV_REGISTRATION_ADDED ? 1 : reg->action == IOV_REGISTRATION_REMOVED ? -1 : 0;
        }
    }
  return (guint) n;
}

static void
test_lanes_per_notifier (void)
{
  GtkWidget *player = iov_player_new ();
  GtkWidget *window;
  g_autoptr(GError) error = NULL;
  IovScenario *scenario = iov_scenario_new_from_resource ("2020-deviotlb-crash", &error);
  IovNotifierLanes *lanes;
  const IovRun *run;

  g_assert_no_error (error);
  window = show_in_window (player, 1200, 800);
  iov_player_set_scenario (IOV_PLAYER (player), scenario, "qemu-6.0");
  lanes = IOV_NOTIFIER_LANES (iov_player_get_lanes (IOV_PLAYER (player)));
  run = iov_player_get_run (IOV_PLAYER (player));
  g_assert_nonnull (run);

  /* Before DMA remapping: no notifier. */
  g_assert_cmpint (iov_player_get_position (IOV_PLAYER (player)), ==, -1);
  g_assert_cmpuint (iov_notifier_lanes_get_n_lanes (lanes), ==, 0);

  for (int step = 0; step < (int) run->steps->len; step++)
    {
      iov_player_set_position (IOV_PLAYER (player), step);
      g_assert_cmpuint (iov_notifier_lanes_get_n_lanes (lanes), ==, count_registered (run, step));
      g_assert_cmpuint (iov_range_map_get_n_notifiers (IOV_RANGE_MAP (iov_player_get_range_map (IOV_PLAYER (player)))),
                        ==, count_registered (run, step));
    }
  /* vhost's two sections, either side of the interrupt window. */
  g_assert_cmpuint (iov_notifier_lanes_get_n_lanes (lanes), ==, 2);

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_lanes_low_level (void)
{
  static const char json[] =
    "{ \"profile\": \"qemu-6.0\", \"iommu\": {\"model\": \"intel\", \"aw_bits\": 39},"
    "  \"notifiers\": ["
    "    {\"name\": \"n1\", \"start\": \"0x0\", \"end\": \"0xfedfffff\", \"flags\": [\"unmap\"]},"
    "    {\"name\": \"n2\", \"start\": \"0xfef00000\", \"end\": \"0xffffffffffffffff\", \"flags\": [\"deviotlb-unmap\"]},"
    "    {\"name\": \"n3\", \"start\": \"0x100000000\", \"end\": \"0x1ffffffff\", \"flags\": [\"map\", \"unmap\"]} ],"
    "  \"steps\": [ {\"op\": \"device-iotlb-invalidate\", \"addr\": \"0x7ffffffffffff000\", \"s\": 1},"
    "              {\"op\": \"psi\", \"addr\": \"0xc0000000\", \"am\": 18} ] }";
  GtkWidget *player = iov_player_new ();
  GtkWidget *window;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  IovScenario *scenario = iov_scenario_new_from_data (json, -1, "low-level.json", &error);
  IovNotifierLanes *lanes;

  g_assert_no_error (error);
  window = show_in_window (player, 1200, 800);
  iov_player_set_scenario (IOV_PLAYER (player), scenario, NULL);
  lanes = IOV_NOTIFIER_LANES (iov_player_get_lanes (IOV_PLAYER (player)));
  g_assert_cmpuint (iov_notifier_lanes_get_n_lanes (lanes), ==, 3);
  iov_player_set_position (IOV_PLAYER (player), 0);
  iov_notifier_lanes_finish_animation (lanes);
  g_assert_cmpuint (iov_notifier_lanes_get_n_lanes (lanes), ==, 3);
  g_assert_cmpint (iov_player_get_run (IOV_PLAYER (player))->aborted_at, ==, 0);

  app_test_wait_for_draw (GTK_WIDGET (lanes));
  texture = app_test_render (GTK_WIDGET (lanes));
  g_assert_cmpuint (app_test_count_colours (texture, 32), >=, 8);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_outcome_list (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IovScenario) scenario = iov_scenario_new_from_resource ("2020-deviotlb-crash", &error);
  const IovProfile *profile = iov_profile_lookup ("qemu-5.0");
  g_autoptr(IovRun) run = NULL;
  g_autoptr(IovOutcomeList) list = iov_outcome_list_new ();
  g_autoptr(IovOutcomeItem) first = NULL;
  g_autoptr(IovOutcomeItem) again = NULL;
  const IovStepResult *step;

  g_assert_no_error (error);
  run = iov_run_scenario (scenario, profile, &error);
  g_assert_no_error (error);
  g_assert_cmpint (run->aborted_at, ==, 2);
  step = &g_array_index (run->steps, IovStepResult, 2);

  iov_outcome_list_set_step (list, step, profile);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, step->outcomes->len);

  /* QEMU 5.0 visits the upper notifier first and aborts there. */
  first = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_cmpint (iov_outcome_item_get_result (first), ==, IOV_RESULT_ABORT);
  g_assert_cmpstr (iov_outcome_item_get_text (first, IOV_OUTCOME_COLUMN_IOVA), ==, "0x0");
  g_assert_cmpstr (iov_outcome_item_get_text (first, IOV_OUTCOME_COLUMN_NOTIFIER), ==, "vhost net0.vhost.2");
  g_assert_nonnull (strstr (iov_outcome_item_get_text (first, IOV_OUTCOME_COLUMN_DELIVERED),
                            "entry->iova >= notifier->start && entry_end <= notifier->end"));

  /* Items are made on demand, not kept. */
  again = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_true (first != again);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (list), step->outcomes->len));

  /* A step that never ran has no rows. */
  iov_outcome_list_set_step (list, &g_array_index (run->steps, IovStepResult, 3), profile);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/app/range-map/renders", test_map_renders);
  g_test_add_func ("/app/range-map/interrupt-window-pixels", test_map_interrupt_window_pixels);
  g_test_add_func ("/app/lanes/renders", test_lanes_render);
  g_test_add_func ("/app/lanes/one-per-notifier", test_lanes_per_notifier);
  g_test_add_func ("/app/lanes/low-level", test_lanes_low_level);
  g_test_add_func ("/app/outcome-list/on-demand", test_outcome_list);
  return g_test_run ();
}
