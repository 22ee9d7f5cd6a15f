/* test-traffic-util.h — what test-traffic and test-mappings share (issue L)
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

#pragma once

#include <glib/gstdio.h>

#include "iov-trace-document.h"
#include "../test-xz.h"

/* The lines of @text, as g_strsplit (@text, "\n", -1) gives them (its
 * strstr () measures the whole rest of the text at each line under ASan). */
static inline GStrv
test_split_lines (const char *text)
{
  GPtrArray *lines = g_ptr_array_new ();
  const char *p = text, *end = text + strlen (text), *nl;

  while ((nl = memchr (p, '\n', end - p)) != NULL)
    {
      g_ptr_array_add (lines, g_strndup (p, nl - p));
      p = nl + 1;
    }
  g_ptr_array_add (lines, g_strdup (p));
  g_ptr_array_add (lines, NULL);
  return (GStrv) g_ptr_array_free (lines, FALSE);
}

static inline int
test_compare_u64 (gconstpointer a,
                  gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return x < y ? -1 : x > y;
}

/* A capture of tests/data/trace as text, or NULL (and the test skipped)
 * without xz. */
static inline char *
test_capture (const char *rel)
{
  char *trace = test_read_xz_trace (rel);

  if (trace == NULL)
    g_test_skip ("xz is not installed");
  return trace;
}

/* @trace in a temporary file, for iovista-cli (which reads plain logs). */
static inline char *
test_plain_copy (const char *trace)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (g_get_tmp_dir (), "iovista-test-traffic-XXXXXX.log", NULL);

  g_close (g_mkstemp (path), NULL);
  g_file_set_contents (path, trace, -1, &error);
  g_assert_no_error (error);
  return path;
}

/* @trace read by a document, with the snapshot tests/data/snapshots/@snapshot
 * (or none), as the window and the CLI read it. */
static inline IovTraceDocument *
test_read_document (const char *trace,
                    const char *snapshot)
{
  IovTraceDocument *doc = iov_trace_document_new (iov_trace_catalog_new_builtin (), 0);

  if (snapshot != NULL)
    {
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "snapshots", snapshot, NULL);
      g_autofree char *text = NULL;
      g_autoptr(JsonNode) node = NULL;
      g_autoptr(GError) error = NULL;

      g_file_get_contents (path, &text, NULL, &error);
      g_assert_no_error (error);
      node = json_from_string (text, &error);
      g_assert_no_error (error);
      g_assert_true (iov_trace_document_set_snapshot (doc, node, &error));
      g_assert_no_error (error);
    }
  iov_trace_document_feed (doc, trace, strlen (trace), 0);
  iov_trace_document_finish (doc);
  return doc;
}

/* Calls @func with every line of @text, parsed with the built-in catalogue. */
static inline void
test_each_line (const char *text,
                void      (*func) (const IovTraceLine *line,
                                   gpointer            data),
                gpointer    data)
{
  g_autoptr(IovTraceCatalog) catalog = iov_trace_catalog_new_builtin ();
  g_auto(GStrv) lines = test_split_lines (text);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      IovTraceLine line;

      iov_trace_parse_line (catalog, lines[i], strlen (lines[i]), &line);
      func (&line, data);
    }
}
