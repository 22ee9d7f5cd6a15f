/* test-xz.h — the compressed fixture traces, for the tests that read them
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

#include <gio/gio.h>
#include <string.h>

/* tests/data/@dir/@rel (a .xz file) as text, or NULL without xz (the
 * caller skips: these captures are only stored compressed). */
static inline char *
test_read_xz (const char *dir,
              const char *rel)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", dir, rel, NULL);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *xz = g_find_program_in_path ("xz");
  char *out = NULL;

  if (xz == NULL)
    return NULL;
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, xz, "-dc", path, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  return out;
}

static inline char *
test_read_xz_trace (const char *rel)
{
  return test_read_xz ("trace", rel);
}

/* @text's lines, as g_strsplit (text, "\n", -1) gives them, in one pass:
 * g_strsplit() calls strstr() on what is left each time, which ASan's
 * interceptor measures with strlen(): quadratic on a whole trace. */
static inline char **
test_lines_of (const char *text)
{
  GPtrArray *lines = g_ptr_array_new ();
  const char *p = text;

  for (;;)
    {
      const char *nl = strchr (p, '\n');

      if (nl == NULL)
        {
          g_ptr_array_add (lines, g_strdup (p));
          break;
        }
      g_ptr_array_add (lines, g_strndup (p, nl - p));
      p = nl + 1;
    }
  g_ptr_array_add (lines, NULL);
  return (char **) g_ptr_array_free (lines, FALSE);
}
