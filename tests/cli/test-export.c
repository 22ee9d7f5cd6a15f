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
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "test-cli-util.h"

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
