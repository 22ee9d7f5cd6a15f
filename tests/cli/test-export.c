/* test-export.c — iovista-cli export, every format, every built-in scenario
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

#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "test-cli-util.h"
#include "../test-xz.h"

static char *tmpdir;

static char *
export (const char *scenario,
        const char *profile,
        const char *format)
{
  g_autofree char *name = g_strdup_printf ("%s-%s.%s", scenario, profile, format);
  char *path = g_build_filename (tmpdir, name, NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = run_cli (NULL, &out, &err, "export", "--builtin", scenario, "--profile", profile,
                        "--format", format, "-o", path, NULL);

  if (status != 0)
    g_error ("export %s %s %s: exit %d: %s", scenario, profile, format, status, err);
  g_assert_cmpstr (err, ==, "");
  return path;
}

static void
check_perfetto (const char *path)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *events;
  guint starts = 0, finishes = 0, slices = 0;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  events = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "traceEvents");
  g_assert_nonnull (events);
  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *ev = json_array_get_object_element (events, i);
      const char *ph = json_object_get_string_member (ev, "ph");

      g_assert_true (json_object_has_member (ev, "pid"));
      g_assert_true (json_object_has_member (ev, "tid"));
      if (g_str_equal (ph, "s"))
        starts++;
      else if (g_str_equal (ph, "f"))
        {
          finishes++;
          g_assert_cmpstr (json_object_get_string_member (ev, "bp"), ==, "e");
        }
      else if (g_str_equal (ph, "X"))
        {
          slices++;
          g_assert_true (json_object_has_member (ev, "ts"));
          g_assert_true (json_object_has_member (ev, "dur"));
        }
    }
  g_assert_cmpuint (slices, >, 0);
  g_assert_cmpuint (starts, ==, finishes);
}

static guint
perfetto_flows (const char *path)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *events;
  guint n = 0;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  events = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "traceEvents");
  for (guint i = 0; i < json_array_get_length (events); i++)
    n += g_str_equal (json_object_get_string_member (json_array_get_object_element (events, i), "ph"), "s");
  return n;
}

static void
check_csv (const char *path)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  guint n_columns;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\r\n", -1);
  g_assert_true (g_str_has_prefix (lines[0], "profile,step,op,event,"));
  {
    g_auto(GStrv) columns = g_strsplit (lines[0], ",", -1);

    n_columns = g_strv_length (columns);
  }
  g_assert_cmpuint (n_columns, ==, 15);
  for (guint i = 1; lines[i] && *lines[i]; i++)
    {
      /* Messages are quoted when they hold commas; count outside quotes. */
      guint commas = 0;
      gboolean quoted = FALSE;

      for (const char *p = lines[i]; *p; p++)
        if (*p == '"')
          quoted = !quoted;
        else if (*p == ',' && !quoted)
          commas++;
      g_assert_cmpuint (commas + 1, ==, n_columns);
    }
}

static void
check_svg (const char *path)
{
  g_autofree char *text = NULL;
  gsize len;
  g_autoptr(GMarkupParseContext) ctx = NULL;
  GMarkupParser parser = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  g_assert_nonnull (strstr (text, "<svg"));
  ctx = g_markup_parse_context_new (&parser, 0, NULL, NULL);
  /* Skip the XML declaration, which GMarkup does not take. */
  if (g_str_has_prefix (text, "<?xml"))
    {
      char *end = strstr (text, "?>");
      g_assert_nonnull (end);
      g_markup_parse_context_parse (ctx, end + 2, len - (end + 2 - text), &error);
    }
  else
    g_markup_parse_context_parse (ctx, text, len, &error);
  g_assert_no_error (error);
  g_markup_parse_context_end_parse (ctx, &error);
  g_assert_no_error (error);
}

static void
check_binary (const char *path,
              const char *magic,
              gsize       magic_len,
              gsize       min_size)
{
  g_autofree char *data = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_assert_cmpuint (len, >=, min_size);
  g_assert_cmpmem (data, magic_len, magic, magic_len);
}

static void
check_png_size (const char *path)
{
  g_autofree guchar *data = NULL;
  gsize len;
  guint32 w, h;

  g_assert_true (g_file_get_contents (path, (char **) &data, &len, NULL));
  /* IHDR: width and height, big-endian, at offsets 16 and 20. */
  w = GUINT32_FROM_BE (*(guint32 *) (data + 16));
  h = GUINT32_FROM_BE (*(guint32 *) (data + 20));
  g_assert_cmpuint (w, ==, 2400);
  g_assert_cmpuint (h, >, 400);
}

static void
test_all_formats (void)
{
  static const char *scenarios[] = {
    "2020-deviotlb-crash", "two-flatranges", "vfio-caching-mode", "vfio-without-caching-mode",
    "vhost-double-unmap", "virtio-iommu-split",
  };

  for (guint i = 0; i < G_N_ELEMENTS (scenarios); i++)
    {
      g_autofree char *perfetto = export (scenarios[i], "qemu-8.1", "perfetto");
      g_autofree char *csv = export (scenarios[i], "qemu-8.1", "csv");
      g_autofree char *svg = export (scenarios[i], "qemu-8.1", "svg");
      g_autofree char *png = export (scenarios[i], "qemu-8.1", "png");
      g_autofree char *pdf = export (scenarios[i], "qemu-8.1", "pdf");

      check_perfetto (perfetto);
      check_csv (csv);
      check_svg (svg);
      check_binary (png, "\x89PNG\r\n\x1a\n", 8, 10000);
      check_png_size (png);
      check_binary (pdf, "%PDF-", 5, 5000);
    }
}

static void
test_perfetto_flows (void)
{
  /* 6.0 delivers the crop to both notifiers: two flows for that step. */
  g_autofree char *p60 = export ("2020-deviotlb-crash", "qemu-6.0", "perfetto");
  g_autofree char *p50 = export ("2020-deviotlb-crash", "qemu-5.0", "perfetto");
  g_autofree char *text = NULL;

  g_assert_cmpuint (perfetto_flows (p60), ==, 2);
  g_assert_cmpuint (perfetto_flows (p50), ==, 0);
  g_assert_true (g_file_get_contents (p50, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "QEMU aborts"));
}

static void
test_errors (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (run_cli (NULL, &out, &err, "export", "--builtin", "two-flatranges", "-o", "x", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "--format"));
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (NULL, &out, &err, "export", "--builtin", "two-flatranges", "-f", "gif", "-o", "x", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "gif"));
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (NULL, &out, &err, "export", "--builtin", "two-flatranges", "-f", "png", "-o", "-", NULL), ==, 2);
}

/* A trace's traffic (issue L): the CSV's per-second counts and the
 * Perfetto counters equal the test's own reading of a real capture (7.2,
 * vhost-user, strict guest: one vhost device, 01:00.0). */
enum { OWN_DEVICE, OWN_MISSES, OWN_MESSAGES, N_OWN };

static void
own_counts (const char  *text,
            GArray     **per_second)   /* guint64 × N_OWN per second */
{
  g_auto(GStrv) lines = test_lines_of (text);
  gint64 t0 = -1;

  *per_second = g_array_new (FALSE, TRUE, sizeof (guint64) * N_OWN);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *at = strchr (lines[i], '@');
      guint64 sec = 0, usec = 0;
      gint64 t, s;
      int own = -1;

      if (at == NULL || sscanf (at + 1, "%" G_GUINT64_FORMAT ".%" G_GUINT64_FORMAT ":", &sec, &usec) != 2)
        continue;
      t = (gint64) (sec * 1000000 + usec);
      if (t0 < 0)
        t0 = t;
      if (strstr (lines[i], ":vtd_inv_desc invalidate desc type device ") != NULL)
        own = OWN_DEVICE;
      else if (strstr (lines[i], ":vhost_iotlb_miss ") != NULL && g_str_has_suffix (lines[i], " step 1"))
        own = OWN_MISSES;
      else if (strstr (lines[i], ":vhost_user_write req:22 ") != NULL)
        own = OWN_MESSAGES;
      if (own < 0)
        continue;
      s = (t - t0) / 1000000;
      if ((guint) s >= (*per_second)->len)
        g_array_set_size (*per_second, s + 1);
      ((guint64 *) (gpointer) ((*per_second)->data + s * sizeof (guint64) * N_OWN))[own]++;
    }
}

static void
test_traffic (void)
{
  g_autofree char *text = test_read_xz_trace ("qemu-versions/7.2/vhu-cm-on-strict.log.xz");
  g_autofree char *trace = g_build_filename (tmpdir, "vhu.log", NULL);
  g_autofree char *snapshot = g_test_build_filename (G_TEST_DIST, "data", "snapshots", "vhost-user-intel-ats.json", NULL);
  g_autofree char *csv_path = g_build_filename (tmpdir, "traffic.csv", NULL);
  g_autofree char *json_path = g_build_filename (tmpdir, "traffic.json", NULL);
  g_autofree char *csv = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GArray) own = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) rows = NULL;
  guint64 totals[N_OWN] = { 0 }, counted[N_OWN] = { 0 };
  JsonArray *events;
  guint n_rows = 0;

  if (text == NULL)
    {
      g_test_skip ("xz is missing");
      return;
    }
  g_assert_true (g_file_set_contents (trace, text, -1, NULL));
  own_counts (text, &own);
  for (guint s = 0; s < own->len; s++)
    for (guint k = 0; k < N_OWN; k++)
      totals[k] += ((guint64 *) (gpointer) (own->data + s * sizeof (guint64) * N_OWN))[k];
  g_test_message ("own count: %" G_GUINT64_FORMAT " device invalidations, %" G_GUINT64_FORMAT " misses, %"
                  G_GUINT64_FORMAT " IOTLB messages over %u s", totals[0], totals[1], totals[2], own->len);
  g_assert_cmpuint (totals[OWN_MISSES], >, 100);

  /* CSV: a row per device and second that counted anything */
  g_assert_cmpint (run_cli (NULL, &out, &err, "export", trace, "--infer", snapshot, "-f", "csv", "-o", csv_path, NULL),
                   ==, 0);
  g_assert_cmpstr (err, ==, "");
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  rows = g_strsplit (csv, "\r\n", -1);
  g_assert_cmpstr (rows[0], ==, "second,device,device_invalidations,page_invalidations,domain_invalidations,"
                                "global_invalidations,iotlb_misses,iotlb_messages");
  for (guint i = 1; rows[i] != NULL && rows[i][0] != '\0'; i++)
    {
      g_auto(GStrv) f = g_strsplit (rows[i], ",", -1);
      guint s = (guint) g_ascii_strtoull (f[0], NULL, 10);
      const guint64 *mine;

      g_assert_cmpuint (g_strv_length (f), ==, 8);
      if (!g_str_equal (f[1], "01:00.0"))
        {
          /* the other device behind the IOMMU and the unattributed
           * lines: IOTLB invalidations only, no vhost traffic */
          g_assert_true (g_str_equal (f[1], "02:00.0") || g_str_equal (f[1], "unattributed"));
          g_assert_cmpstr (f[2], ==, "0");
          g_assert_cmpstr (f[6], ==, "0");
          g_assert_cmpstr (f[7], ==, "0");
          continue;
        }
      g_assert_cmpuint (s, <, own->len);
      mine = (const guint64 *) (gconstpointer) (own->data + s * sizeof (guint64) * N_OWN);
      g_assert_cmpuint (g_ascii_strtoull (f[2], NULL, 10), ==, mine[OWN_DEVICE]);
      g_assert_cmpuint (g_ascii_strtoull (f[6], NULL, 10), ==, mine[OWN_MISSES]);
      g_assert_cmpuint (g_ascii_strtoull (f[7], NULL, 10), ==, mine[OWN_MESSAGES]);
      counted[OWN_DEVICE] += mine[OWN_DEVICE];
      counted[OWN_MISSES] += mine[OWN_MISSES];
      counted[OWN_MESSAGES] += mine[OWN_MESSAGES];
      n_rows++;
    }
  /* no second with traffic is missing */
  for (guint k = 0; k < N_OWN; k++)
    g_assert_cmpuint (counted[k], ==, totals[k]);
  g_test_message ("csv: %u rows", n_rows);

  /* Perfetto: one counter track for the device, its samples add up */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (NULL, &out, &err, "export", trace, "--infer", snapshot, "-f", "perfetto",
                            "-o", json_path, NULL), ==, 0);
  json_parser_load_from_file (parser, json_path, &error);
  g_assert_no_error (error);
  events = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "traceEvents");
  memset (counted, 0, sizeof counted);
  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *ev = json_array_get_object_element (events, i);
      JsonObject *args;

      if (!g_str_equal (json_object_get_string_member (ev, "ph"), "C"))
        continue;
      args = json_object_get_object_member (ev, "args");
      if (!g_str_equal (json_object_get_string_member (ev, "name"), "01:00.0 IOTLB traffic/s"))
        {
          g_assert_cmpint (json_object_get_int_member (args, "iotlb_messages"), ==, 0);
          g_assert_cmpint (json_object_get_int_member (args, "iotlb_misses"), ==, 0);
          continue;
        }
      counted[OWN_DEVICE] += json_object_get_int_member (args, "device_invalidations");
      counted[OWN_MISSES] += json_object_get_int_member (args, "iotlb_misses");
      counted[OWN_MESSAGES] += json_object_get_int_member (args, "iotlb_messages");
    }
  for (guint k = 0; k < N_OWN; k++)
    g_assert_cmpuint (counted[k], ==, totals[k]);

  /* a trace is no picture */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (NULL, &out, &err, "export", trace, "-f", "svg", "-o", json_path, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "svg"));
  g_unlink (trace);
  g_unlink (csv_path);
  g_unlink (json_path);
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("iovista-export-XXXXXX", NULL);
  g_assert_nonnull (tmpdir);
  g_test_add_func ("/export/all-formats", test_all_formats);
  g_test_add_func ("/export/perfetto-flows", test_perfetto_flows);
  g_test_add_func ("/export/errors", test_errors);
  g_test_add_func ("/export/traffic", test_traffic);
  ret = g_test_run ();

  /* Leave nothing behind. */
  {
    g_autoptr(GDir) dir = g_dir_open (tmpdir, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name (dir)))
      {
        g_autofree char *path = g_build_filename (tmpdir, name, NULL);
        g_unlink (path);
      }
    g_rmdir (tmpdir);
  }
  return ret;
}
