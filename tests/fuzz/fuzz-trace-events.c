/* fuzz-trace-events.c — libFuzzer harness for the trace-events-all catalogue
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

#include <stdint.h>
#include <string.h>

#include "fuzz-util.h"
#include "iov-trace-events.h"

/* The input is a trace-events-all file (`--trace-events FILE`). Either it
 * defines no event and that is a GError, or every event it defines can be
 * looked up by its name, and for each: the arguments rendered from values
 * decode again, and whatever text decodes (the rendered one, and the
 * input's last line as if it were the arguments of every event) renders
 * back byte for byte from its decoded texts. */

#define MAX_EVENTS 512

static void
fill_args (const IovTraceCatalog *catalog,
           guint                  id,
           guint                  n_args,
           guint64                seed,
           IovTraceArg           *args)
{
  static const char *texts[] = { "", "x", "virtio-net", "1.5", "a b" };

  for (guint i = 0; i < n_args; i++)
    {
      IovTraceArgKind kind;
      const char *name;

      g_assert_true (iov_trace_catalog_get_arg (catalog, id, i, &name, &kind));
      g_assert_nonnull (name);
      args[i].name = name;
      args[i].kind = kind;
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      args[i].value = (seed >> 33) % 3 == 0 ? seed : seed >> (seed % 64);
      args[i].text = kind == IOV_TRACE_ARG_CHAR ? "c" : kind == IOV_TRACE_ARG_FLOAT ? "1.5" : texts[i % G_N_ELEMENTS (texts)];
      args[i].len = strlen (args[i].text);
    }
}

/* Decodes @text for event @id; when it decodes, the texts lie inside it
 * and render back to it exactly. */
static gboolean
check_decode (const IovTraceCatalog *catalog,
              guint                  id,
              const char            *text,
              gsize                  len)
{
  IovTraceArg args[IOV_TRACE_MAX_ARGS];
  g_autoptr(GString) back = g_string_new (NULL);
  guint n = 0;

  if (!iov_trace_catalog_decode (catalog, id, text, len, args, &n))
    return FALSE;
  g_assert_cmpuint (n, ==, iov_trace_catalog_get_n_args (catalog, id));
  for (guint i = 0; i < n; i++)
    {
      g_assert_true (args[i].text >= text && args[i].text + args[i].len <= text + len);
      (void) iov_trace_catalog_arg_is_canonical (catalog, id, i, &args[i]);
    }
  g_assert_true (iov_trace_catalog_render_text (catalog, id, args, n, back));
  if (back->len != len || memcmp (back->str, text, len) != 0)
    g_error ("event %s: \"%.*s\" decodes, but renders back as \"%s\"",
             iov_trace_catalog_get_name (catalog, id), (int) len, text, back->str);
  return TRUE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(IovTraceCatalog) catalog = NULL;
  g_autoptr(GError) error = NULL;
  const char *text = (const char *) data;
  const char *probe = text + size;
  gsize probe_len;
  guint n;

  fuzz_init ();
  /* the last line */
  while (probe > text && probe[-1] != '\n')
    probe--;
  probe_len = text + size - probe;

  catalog = iov_trace_catalog_new_from_data (size ? text : "", size, &error);
  if (catalog == NULL)
    {
      fuzz_assert_error (error);
      return 0;
    }
  g_assert_no_error (error);
  n = iov_trace_catalog_get_n_events (catalog);
  g_assert_cmpuint (n, >, 0);
  g_assert_cmpuint (iov_trace_catalog_get_n_known (catalog), ==, n);

  for (guint id = 0; id < MIN (n, MAX_EVENTS); id++)
    {
      const char *name = iov_trace_catalog_get_name (catalog, id);
      guint n_args = iov_trace_catalog_get_n_args (catalog, id);
      IovTraceArg args[IOV_TRACE_MAX_ARGS];
      g_autoptr(GString) rendered = g_string_new (NULL);

      g_assert_nonnull (name);
      g_assert_cmpint (iov_trace_catalog_lookup (catalog, name, strlen (name)), ==, (int) id);
      g_assert_true (iov_trace_catalog_is_known (catalog, id));
      g_assert_nonnull (iov_trace_catalog_get_format (catalog, id));
      g_assert_false (iov_trace_catalog_get_arg (catalog, id, n_args, NULL, NULL));

      check_decode (catalog, id, probe, probe_len);
      if (n_args > IOV_TRACE_MAX_ARGS)
        continue;
      fill_args (catalog, id, n_args, (guint64) size << 32 | id, args);
      iov_trace_catalog_render (catalog, id, args, n_args, rendered);
      check_decode (catalog, id, rendered->str, rendered->len);
    }

  /* names the catalogue does not know become unknown events, once */
  {
    guint id = iov_trace_catalog_intern (catalog, "iovista_fuzz_unknown", strlen ("iovista_fuzz_unknown"));

    g_assert_cmpuint (iov_trace_catalog_intern (catalog, "iovista_fuzz_unknown", strlen ("iovista_fuzz_unknown")), ==, id);
    g_assert_cmpint (iov_trace_catalog_lookup (catalog, "iovista_fuzz_unknown", strlen ("iovista_fuzz_unknown")), ==, (int) id);
  }
  return 0;
}
