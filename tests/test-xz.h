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
