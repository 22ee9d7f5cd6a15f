/* iov-recording.c — a session saved to a file and read back
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

#define G_LOG_DOMAIN "iov-recording"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "iov-recording.h"
#include "iov-types.h"

/* Records are buffered up to this much, and pushed through the
 * compressor to the file at least this often (a gzip sync flush): a
 * writer that dies (SIGKILL, power loss) leaves a file that reads back up
 * to its last complete record, missing at most about a second. */
#define WRITE_BYTES       (256 * 1024)
#define SYNC_INTERVAL_US  G_USEC_PER_SEC

struct _IovRecordingWriter
{
  GOutputStream *out;      /* the compressor over the file */
  GString       *buf;
  char          *path;     /* for messages */
  gint64         synced;   /* monotonic time of the last sync flush */
};

static gboolean
flush_buf (IovRecordingWriter  *self,
           gboolean             force,
           GError             **error)
{
  gint64 now;
  gboolean sync;

  if (self->buf->len == 0)
    return TRUE;
  now = g_get_monotonic_time ();
  sync = now - self->synced >= SYNC_INTERVAL_US;
  if (!force && !sync && self->buf->len < WRITE_BYTES)
    return TRUE;
  /* The file's name in every error: a full disk says which file. */
  if (!g_output_stream_write_all (self->out, self->buf->str, self->buf->len, NULL, NULL, error) ||
      (sync && !force && !g_output_stream_flush (self->out, NULL, error)))
    {
      g_prefix_error (error, "%s: ", self->path);
      return FALSE;
    }
  g_string_truncate (self->buf, 0);
  if (sync)
    self->synced = now;
  return TRUE;
}

static void
append_node (GString  *buf,
             JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  g_string_append (buf, text);
}

IovRecordingWriter *
iov_recording_writer_new (const char  *path,
                          const char  *source,
                          GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileOutputStream) fout = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, error);
  g_autoptr(GZlibCompressor) gz = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format_iso8601 (now);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) header = NULL;
  IovRecordingWriter *self;

  if (fout == NULL)
    return NULL;

  gz = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
  self = g_new0 (IovRecordingWriter, 1);
  self->out = g_converter_output_stream_new (G_OUTPUT_STREAM (fout), G_CONVERTER (gz));
  self->buf = g_string_sized_new (512 * 1024);
  self->path = g_strdup (path);
  self->synced = g_get_monotonic_time ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "iovista_recording");
  json_builder_add_int_value (b, IOV_RECORDING_VERSION);
  json_builder_set_member_name (b, "created");
  json_builder_add_string_value (b, created);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, source ? source : "");
  json_builder_end_object (b);
  header = json_builder_get_root (b);
  append_node (self->buf, header);
  g_string_append_c (self->buf, '\n');
  return self;
}

gboolean
iov_recording_writer_snapshot (IovRecordingWriter  *self,
                               JsonNode            *snapshot,
                               guint64              ts_ns,
                               GError             **error)
{
  g_string_append (self->buf, "{\"snapshot\": ");
  append_node (self->buf, snapshot);
  g_string_append_printf (self->buf, ", \"ts_ns\": %" G_GUINT64_FORMAT "}\n", ts_ns);
  return flush_buf (self, FALSE, error);
}

gboolean
iov_recording_writer_trace (IovRecordingWriter  *self,
                            const char          *line,
                            gsize                len,
                            GError             **error)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_VALUE);
  g_autofree char *copy = NULL;

  /* Trace lines can hold any bytes; JSON strings hold UTF-8. Invalid
   * sequences are replaced, which the reader counts the same way. */
  copy = g_utf8_make_valid (line, len);
  json_node_set_string (node, copy);
  g_string_append (self->buf, "{\"trace\": ");
  append_node (self->buf, node);
  g_string_append (self->buf, "}\n");
  return flush_buf (self, FALSE, error);
}

gboolean
iov_recording_writer_delivery (IovRecordingWriter  *self,
                               JsonNode            *delivery,
                               GError             **error)
{
  g_string_append (self->buf, "{\"delivery\": ");
  append_node (self->buf, delivery);
  g_string_append (self->buf, "}\n");
  return flush_buf (self, FALSE, error);
}

gboolean
iov_recording_writer_close (IovRecordingWriter  *self,
                            GError             **error)
{
  if (!flush_buf (self, TRUE, error))
    return FALSE;
  if (!g_output_stream_close (self->out, NULL, error))
    {
      g_prefix_error (error, "%s: ", self->path);
      return FALSE;
    }
  return TRUE;
}

void
iov_recording_writer_free (IovRecordingWriter *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->out);
  g_string_free (self->buf, TRUE);
  g_free (self->path);
  g_free (self);
}

#define HEADER_TAG "{\"iovista_recording\""

gboolean
iov_recording_is_recording (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) in = g_file_read (file, NULL, NULL);
  g_autoptr(GZlibDecompressor) gz = NULL;
  g_autoptr(GInputStream) plain = NULL;
  g_autoptr(GError) error = NULL;
  char buf[sizeof HEADER_TAG] = { 0 };
  guchar magic[2];
  gsize n = 0;

  if (in == NULL || !g_input_stream_read_all (G_INPUT_STREAM (in), magic, 2, &n, NULL, NULL) || n != 2 ||
      magic[0] != 0x1f || magic[1] != 0x8b)
    return FALSE;
  g_seekable_seek (G_SEEKABLE (in), 0, G_SEEK_SET, NULL, NULL);
  gz = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  plain = g_converter_input_stream_new (G_INPUT_STREAM (in), G_CONVERTER (gz));
  if (g_input_stream_read_all (plain, buf, sizeof HEADER_TAG - 1, &n, NULL, &error))
    return n == sizeof HEADER_TAG - 1 && memcmp (buf, HEADER_TAG, n) == 0;
  /* A recording cut short (its writer died) before the end of the tag is
   * still one: iov_recording_load() then says where it ends. */
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT) && memcmp (buf, HEADER_TAG, n) == 0;
}

void
iov_recording_free (IovRecording *recording)
{
  if (recording == NULL)
    return;
  g_free (recording->source);
  g_free (recording->created);
  g_free (recording->cut);
  g_clear_pointer (&recording->snapshots, g_ptr_array_unref);
  g_clear_pointer (&recording->deliveries, g_ptr_array_unref);
  if (recording->trace)
    g_string_free (recording->trace, TRUE);
  g_free (recording);
}

/* The members a record is read by, each of its JSON type: a record that
 * has one of another type is refused, naming it, rather than read as
 * empty (a fuzzer gave "trace": 1). */
static gboolean
check_record (JsonObject  *obj,
              const char  *path,
              guint64      lineno,
              GError     **error)
{
  static const struct {
    const char *name;
    JsonNodeType type;
    GType value_type;
  } members[] = {
    { "iovista_recording", JSON_NODE_VALUE, G_TYPE_INT64 },
    { "source", JSON_NODE_VALUE, G_TYPE_STRING },
    { "created", JSON_NODE_VALUE, G_TYPE_STRING },
    { "trace", JSON_NODE_VALUE, G_TYPE_STRING },
    { "snapshot", JSON_NODE_OBJECT, G_TYPE_INVALID },
    { "delivery", JSON_NODE_OBJECT, G_TYPE_INVALID },
  };

  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      JsonNode *node = json_object_get_member (obj, members[i].name);

      if (node == NULL)
        continue;
      if (JSON_NODE_TYPE (node) != members[i].type ||
          (members[i].type == JSON_NODE_VALUE && json_node_get_value_type (node) != members[i].value_type))
        {
          g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, _("%s:%llu: \"%s\" is not %s"),
                       path, (unsigned long long) lineno, members[i].name,
                       members[i].type == JSON_NODE_OBJECT ? _("an object")
                       : members[i].value_type == G_TYPE_STRING ? _("a string") : _("an integer"));
          return FALSE;
        }
    }
  return TRUE;
}

IovRecording *
iov_recording_load (const char  *path,
                    GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) in = g_file_read (file, NULL, error);
  g_autoptr(GZlibDecompressor) gz = NULL;
  g_autoptr(GInputStream) plain = NULL;
  g_autoptr(GDataInputStream) data = NULL;
  g_autoptr(IovRecording) rec = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  guint64 lineno = 0;

  if (in == NULL)
    return NULL;
  gz = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  plain = g_converter_input_stream_new (G_INPUT_STREAM (in), G_CONVERTER (gz));
  data = g_data_input_stream_new (plain);

  rec = g_new0 (IovRecording, 1);
  rec->snapshots = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  rec->deliveries = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  rec->trace = g_string_new (NULL);

  for (;;)
    {
      g_autoptr(GError) local = NULL;
      gsize len;
      g_autofree char *line = g_data_input_stream_read_line (data, &len, NULL, &local);
      JsonObject *obj;

      if (line == NULL)
        {
          /* The compressed stream stops short: the writer died (or the
           * disk filled) before closing it. Everything up to the last
           * complete record is kept, and the caller is told. */
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT) && lineno > 0)
            {
              rec->cut = g_strdup_printf (_("%s: the recording ends early (its writer did not close it): read up "
                                            "to its last complete record, line %llu"),
                                          path, (unsigned long long) lineno);
              break;
            }
          if (local != NULL)
            {
              g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, "%s:%" G_GUINT64_FORMAT ": %s",
                           path, lineno + 1,
                           g_error_matches (local, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT)
                           ? _("the recording ends before its header is complete") : local->message);
              return NULL;
            }
          break;
        }
      lineno++;
      if (!json_parser_load_from_data (parser, line, len, &local) ||
          json_parser_get_root (parser) == NULL ||
          !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        {
          /* json-glib quotes the bad token byte for byte: a message is text */
          g_autofree char *why = local ? g_utf8_make_valid (local->message, -1) : NULL;

          g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, _("%s:%llu: not a recording record%s%s"),
                       path, (unsigned long long) lineno, why ? ": " : "", why ? why : "");
          return NULL;
        }
      obj = json_node_get_object (json_parser_get_root (parser));
      if (!check_record (obj, path, lineno, error))
        return NULL;

      if (lineno == 1)
        {
          gint64 version = json_object_get_int_member_with_default (obj, "iovista_recording", -1);

          if (version < 1)
            {
              g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, _("%s: not an Iovista recording"), path);
              return NULL;
            }
          if (version > IOV_RECORDING_VERSION)
            {
              g_set_error (error, IOV_ERROR, IOV_ERROR_UNSUPPORTED,
                           _("%s: recording format %lld is newer than this Iovista reads (%d)"),
                           path, (long long) version, IOV_RECORDING_VERSION);
              return NULL;
            }
          rec->source = g_strdup (json_object_get_string_member_with_default (obj, "source", ""));
          rec->created = g_strdup (json_object_get_string_member_with_default (obj, "created", ""));
        }
      else if (json_object_has_member (obj, "trace"))
        {
          g_string_append (rec->trace, json_object_get_string_member (obj, "trace"));
          g_string_append_c (rec->trace, '\n');
        }
      else if (json_object_has_member (obj, "snapshot"))
        g_ptr_array_add (rec->snapshots, json_node_copy (json_object_get_member (obj, "snapshot")));
      else if (json_object_has_member (obj, "delivery"))
        g_ptr_array_add (rec->deliveries, json_node_copy (json_object_get_member (obj, "delivery")));
      /* Unknown records are from a newer writer of the same version: skip. */
    }

  if (lineno == 0)
    {
      g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, _("%s: empty recording"), path);
      return NULL;
    }
  return g_steal_pointer (&rec);
}
