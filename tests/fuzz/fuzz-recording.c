/* fuzz-recording.c — libFuzzer harness for recordings (gzip'd JSON lines)
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

#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

#include "fuzz-util.h"
#include "iov-recording.h"
#include "iov-snapshot-info.h"
#include "iov-types.h"

/* The first byte says what the rest is:
 *   0  the file as it is on disk (gzip), e.g. a real recording cut short
 *   1  its JSON lines, compressed here
 *   2  its JSON lines, compressed, then cut at a point the second byte picks
 *   3  its JSON lines, compressed, then one byte (the second) flipped
 * Either the recording is refused with a GError naming the file, or it is
 * read, every snapshot in it goes through the snapshot reader (a GError or
 * a snapshot), and written again with the recording writer it reads back
 * the same: source, snapshots, trace (made valid UTF-8, as the writer
 * does) and deliveries. */

static char *dir;

static void
remove_dir (void)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
}

static GBytes *
gzip (const guint8 *data,
      gsize         len)
{
  g_autoptr(GZlibCompressor) gz = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 1);
  g_autoptr(GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr(GOutputStream) out = g_converter_output_stream_new (mem, G_CONVERTER (gz));

  g_assert_true (g_output_stream_write_all (out, data, len, NULL, NULL, NULL));
  g_assert_true (g_output_stream_close (out, NULL, NULL));
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
}

/* What a reader of @data gets, up to where it is corrupt. */
static GBytes *
gunzip (const guint8 *data,
        gsize         len)
{
  g_autoptr(GZlibDecompressor) gz = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  g_autoptr(GInputStream) mem = g_memory_input_stream_new_from_data (data, len, NULL);
  g_autoptr(GInputStream) in = g_converter_input_stream_new (mem, G_CONVERTER (gz));
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint8 buf[4096];
  gssize n;

  while ((n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL)) > 0)
    g_byte_array_append (out, buf, n);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static void
write_file (const char   *path,
            const guint8 *data,
            gsize         len)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, data, len), ==, (gssize) len);
  close (fd);
}

static void
check_snapshot (JsonNode *node)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IovSnapshotInfo) info = iov_snapshot_info_new_from_json (node, &error);

  if (info == NULL)
    fuzz_assert_error (error);
}

/* Writes @rec again and reads it back. */
static void
round_trip (const IovRecording *rec)
{
  g_autofree char *path = g_build_filename (dir, "again.iovista", NULL);
  g_autoptr(IovRecordingWriter) writer = NULL;
  g_autoptr(IovRecording) back = NULL;
  g_autoptr(GError) error = NULL;
  const char *p = rec->trace->str, *end = rec->trace->str + rec->trace->len;

  writer = iov_recording_writer_new (path, rec->source, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < rec->snapshots->len; i++)
    g_assert_true (iov_recording_writer_snapshot (writer, g_ptr_array_index (rec->snapshots, i), i, &error));
  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);

      g_assert_nonnull (nl); /* every line of the trace ends */
      g_assert_true (iov_recording_writer_trace (writer, p, nl - p, &error));
      p = nl + 1;
    }
  for (guint i = 0; i < rec->deliveries->len; i++)
    g_assert_true (iov_recording_writer_delivery (writer, g_ptr_array_index (rec->deliveries, i), &error));
  g_assert_true (iov_recording_writer_close (writer, &error));
  g_assert_no_error (error);

  g_assert_true (iov_recording_is_recording (path));
  back = iov_recording_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->source, ==, rec->source);
  g_assert_cmpuint (back->snapshots->len, ==, rec->snapshots->len);
  for (guint i = 0; i < rec->snapshots->len; i++)
    fuzz_assert_json_equal (g_ptr_array_index (rec->snapshots, i), g_ptr_array_index (back->snapshots, i));
  /* the writer makes each trace line valid UTF-8 (a JSON string is) */
  {
    g_autofree char *valid = g_utf8_make_valid (rec->trace->str, rec->trace->len);

    g_assert_cmpstr (back->trace->str, ==, valid);
  }
  g_assert_cmpuint (back->deliveries->len, ==, rec->deliveries->len);
  for (guint i = 0; i < rec->deliveries->len; i++)
    fuzz_assert_json_equal (g_ptr_array_index (rec->deliveries, i), g_ptr_array_index (back->deliveries, i));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *path = NULL;
  g_autoptr(GBytes) file = NULL;
  g_autoptr(IovRecording) rec = NULL;
  g_autoptr(GError) error = NULL;
  guint mode, arg;

  fuzz_init ();
  if (dir == NULL)
    {
      /* tmpfs: a file system that writes back on close would be the
       * slowest part of a run */
      g_autofree char *tmpl = g_build_filename (g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir (),
                                                "fuzz-recording-XXXXXX", NULL);

      dir = g_mkdtemp (g_steal_pointer (&tmpl));
      g_assert_nonnull (dir);
      atexit (remove_dir);
    }
  if (size < 2)
    return 0;
  mode = data[0] & 3;
  arg = data[1];

  if (mode == 0)
    {
      g_autoptr(GBytes) plain = gunzip (data + 1, size - 1);

      if (fuzz_json_lines_have_second_value (g_bytes_get_data (plain, NULL), g_bytes_get_size (plain)))
        return 0;
      file = g_bytes_new (data + 1, size - 1);
    }
  else
    {
      g_autoptr(GBytes) packed = NULL;

      if (fuzz_json_lines_have_second_value ((const char *) data + 2, size - 2))
        return 0;
      packed = gzip (data + 2, size - 2);
      gsize len;
      const guint8 *bytes = g_bytes_get_data (packed, &len);
      g_autofree guint8 *copy = g_memdup2 (bytes, len);

      if (mode == 2)
        len = len * arg / 256;
      else if (mode == 3 && len > 0)
        copy[arg % len] ^= 1u << (arg % 8);
      file = g_bytes_new (copy, len);
    }

  path = g_build_filename (dir, "in.iovista", NULL);
  write_file (path, g_bytes_get_data (file, NULL), g_bytes_get_size (file));
  (void) iov_recording_is_recording (path);
  rec = iov_recording_load (path, &error);
  if (rec == NULL)
    {
      fuzz_assert_error (error);
      g_assert_true (error->domain == IOV_ERROR || error->domain == G_IO_ERROR);
      g_assert_nonnull (strstr (error->message, path));
      return 0;
    }
  g_assert_no_error (error);
  g_assert_nonnull (rec->source);
  g_assert_true (rec->trace->len == 0 || rec->trace->str[rec->trace->len - 1] == '\n');
  for (guint i = 0; i < rec->snapshots->len; i++)
    check_snapshot (g_ptr_array_index (rec->snapshots, i));
  round_trip (rec);
  return 0;
}
