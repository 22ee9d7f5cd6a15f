/* test-recording.c — recordings written and read back
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
#include <string.h>
#include <unistd.h>

#include "iov-recording.h"
#include "iov-types.h"

static char *
tmp_path (const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("iovista-rec-XXXXXX", &error);

  g_assert_no_error (error);
  return g_build_filename (dir, name, NULL);
}

static void
test_roundtrip (void)
{
  g_autofree char *path = tmp_path ("r.iovista");
  g_autoptr(GError) error = NULL;
  g_autoptr(IovRecordingWriter) w = iov_recording_writer_new (path, "unit test", &error);
  g_autoptr(JsonNode) snap = json_from_string ("{\"qemu\": {\"version\": \"7.2.22\"}, \"address_spaces\": []}", NULL);
  g_autoptr(JsonNode) delivery = json_from_string ("{\"notifier\": \"n1\", \"result\": \"delivered\"}", NULL);
  static const char *lines[] = {
    "24944@1795460548.663807:vtd_context_cache_reset ",
    "",
    "vtd_dmar_enable enable 1\r",
    "qemu-system-x86_64: terminating on signal 15",
  };
  const char bad[] = { 'x', (char) 0xff, 'y' };
  g_autoptr(IovRecording) rec = NULL;
  g_autoptr(GString) expect = g_string_new (NULL);

  g_assert_no_error (error);
  g_assert_true (iov_recording_writer_snapshot (w, snap, 42, &error));
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_assert_true (iov_recording_writer_trace (w, lines[i], strlen (lines[i]), &error));
      g_string_append_printf (expect, "%s\n", lines[i]);
    }
  /* Bytes that are not UTF-8 come back as U+FFFD, one line still. */
  g_assert_true (iov_recording_writer_trace (w, bad, sizeof bad, &error));
  g_string_append (expect, "x\xef\xbf\xbdy\n");
  g_assert_true (iov_recording_writer_delivery (w, delivery, &error));
  g_assert_true (iov_recording_writer_close (w, &error));
  g_assert_no_error (error);

  g_assert_true (iov_recording_is_recording (path));
  rec = iov_recording_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rec->source, ==, "unit test");
  g_assert_cmpuint (rec->snapshots->len, ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (
                     json_node_get_object (g_ptr_array_index (rec->snapshots, 0)), "qemu"), "version"), ==, "7.2.22");
  g_assert_cmpstr (rec->trace->str, ==, expect->str);
  g_assert_cmpuint (rec->deliveries->len, ==, 1);
  g_unlink (path);
}

static void
write_gz (const char *path,
          const char *text)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileOutputStream) out = g_file_replace (file, NULL, FALSE, 0, NULL, NULL);
  g_autoptr(GZlibCompressor) gz = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 1);
  g_autoptr(GOutputStream) conv = g_converter_output_stream_new (G_OUTPUT_STREAM (out), G_CONVERTER (gz));

  g_assert_true (g_output_stream_write_all (conv, text, strlen (text), NULL, NULL, NULL));
  g_assert_true (g_output_stream_close (conv, NULL, NULL));
}

static void
test_bad_files (void)
{
  g_autofree char *path = tmp_path ("bad.iovista");
  g_autoptr(GError) error = NULL;
  IovRecording *rec;

  /* A plain log is not a recording. */
  g_file_set_contents (path, "vtd_dmar_enable enable 1\n", -1, NULL);
  g_assert_false (iov_recording_is_recording (path));

  write_gz (path, "{\"iovista_recording\": 99}\n");
  rec = iov_recording_load (path, &error);
  g_assert_null (rec);
  g_assert_error (error, IOV_ERROR, IOV_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  write_gz (path, "{\"iovista_recording\": 1}\n{\"trace\": \"a\"}\nnot json\n");
  rec = iov_recording_load (path, &error);
  g_assert_null (rec);
  g_assert_error (error, IOV_ERROR, IOV_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, ":3:"));
  g_clear_error (&error);

  /* A member of the wrong type is named, not read as empty (found by
   * fuzz-recording: "trace": 1 was a GLib critical) */
  write_gz (path, "{\"iovista_recording\": 1}\n{\"trace\": 1}\n");
  rec = iov_recording_load (path, &error);
  g_assert_null (rec);
  g_assert_error (error, IOV_ERROR, IOV_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, ":2: \"trace\" is not a string"));
  g_clear_error (&error);

  write_gz (path, "{\"iovista_recording\": 1, \"source\": {}}\n");
  rec = iov_recording_load (path, &error);
  g_assert_null (rec);
  g_assert_nonnull (strstr (error->message, ":1: \"source\" is not a string"));
  g_clear_error (&error);

  write_gz (path, "{\"iovista_recording\": 1}\n{\"snapshot\": [1]}\n");
  rec = iov_recording_load (path, &error);
  g_assert_null (rec);
  g_assert_nonnull (strstr (error->message, ":2: \"snapshot\" is not an object"));
  g_clear_error (&error);

  rec = iov_recording_load ("/nonexistent.iovista", &error);
  g_assert_null (rec);
  g_assert_nonnull (error);
  g_unlink (path);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recording/roundtrip", test_roundtrip);
  g_test_add_func ("/recording/bad-files", test_bad_files);
  return g_test_run ();
}
