/* test-trace-parser.c
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

#include <string.h>

#include "iov-types.h"
#include "iov-trace-events.h"
#include "iov-trace-parser.h"

static IovTraceCatalog *
fixture_catalog (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "trace", "qemu-7.2", "trace-events",
                                                 "trace-events-all.txt", NULL);
  g_autoptr(GError) error = NULL;
  IovTraceCatalog *cat = iov_trace_catalog_new_from_file (path, &error);

  g_assert_no_error (error);
  return cat;
}

static IovTraceLineKind
parse (IovTraceCatalog *cat,
       const char      *text,
       IovTraceLine    *line)
{
  return iov_trace_parse_line (cat, text, strlen (text), line);
}

static void
assert_name (const IovTraceLine *line,
             const char         *name)
{
  g_assert_cmpuint (line->name_len, ==, strlen (name));
  g_assert_cmpint (memcmp (line->name, name, line->name_len), ==, 0);
}

static void
assert_args (const IovTraceLine *line,
             const char         *args)
{
  g_assert_cmpuint (line->args_len, ==, strlen (args));
  g_assert_cmpint (memcmp (line->args, args, line->args_len), ==, 0);
}

static void
test_prefixed (void)
{
  g_autoptr(IovTraceCatalog) cat = fixture_catalog ();
  IovTraceLine line;

  g_assert_cmpint (parse (cat, "13726@1795459779.004982:vtd_inv_desc_iotlb_pages iotlb invalidate domain 0x3 addr 0xfffaa000 mask 0x0", &line), ==, IOV_TRACE_LINE_EVENT);
  g_assert_cmpint (line.prefix, ==, IOV_TRACE_PREFIX_TID);
  g_assert_true (line.has_tid && line.has_ts);
  g_assert_cmpuint (line.tid, ==, 13726);
  g_assert_cmpuint (line.sec, ==, 1795459779);
  g_assert_cmpuint (line.usec, ==, 4982);
  g_assert_cmpuint (line.ts_ns, ==, G_GUINT64_CONSTANT (1795459779004982000));
  assert_name (&line, "vtd_inv_desc_iotlb_pages");
  assert_args (&line, "iotlb invalidate domain 0x3 addr 0xfffaa000 mask 0x0");
  g_assert_cmpint (line.event_id, >=, 0);

  /* No-argument events end in a space; CRLF is tolerated. */
  g_assert_cmpint (parse (cat, "24944@1795460548.663807:vtd_context_cache_reset ", &line), ==, IOV_TRACE_LINE_EVENT);
  assert_name (&line, "vtd_context_cache_reset");
  assert_args (&line, "");
  g_assert_cmpint (parse (cat, "24944@1795460548.663807:vtd_dmar_enable enable 1\r", &line), ==, IOV_TRACE_LINE_EVENT);
  assert_args (&line, "enable 1");

  /* A name not in the catalogue is still an event, kept by name. */
  g_assert_cmpint (parse (cat, "1@2.000003:not_an_event x y", &line), ==, IOV_TRACE_LINE_EVENT);
  g_assert_cmpint (line.event_id, ==, -1);
  assert_name (&line, "not_an_event");
}

static void
test_malformed (void)
{
  g_autoptr(IovTraceCatalog) cat = fixture_catalog ();
  static const char *bad[] = {
    "13726@1795459774.25987:vtd_dmar_enable enable 1",    /* 5-digit usec */
    "13726@1795459774.2598789:vtd_dmar_enable enable 1",  /* 7-digit usec */
    "13726@1795459774.259881vtd_dmar_enable enable 1",    /* no colon */
    "13726@:vtd_dmar_enable",
    "13726@",
    "99999999999@1795459774.259881:vtd_dmar_enable enable 1",  /* TID > 10 digits */
    "4294967296@1795459774.259881:vtd_dmar_enable enable 1",   /* TID > 2^32-1 */
    "13726@1795459774.259882:vtd-dmar enable 1",
    "13726@1795459774.259883:",
    "13726@1795459774.259883:\tvtd_dmar_enable",
    "1@12345678901.000000:vtd_dmar_enable enable 1",      /* SEC > 10 digits */
  };
  IovTraceLine line;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("%s", bad[i]);
      g_assert_cmpint (parse (cat, bad[i], &line), ==, IOV_TRACE_LINE_MALFORMED);
    }
  /* The largest TID is fine. */
  g_assert_cmpint (parse (cat, "4294967295@1.000000:vtd_dmar_enable enable 1", &line), ==, IOV_TRACE_LINE_EVENT);
  g_assert_cmpuint (line.tid, ==, G_MAXUINT32);
}

static void
test_unprefixed (void)
{
  g_autoptr(IovTraceCatalog) cat = fixture_catalog ();
  IovTraceLine line;

  g_assert_cmpint (parse (cat, "vtd_switch_address_space Device 00:02.0 switching address space (iommu enabled=1)", &line), ==, IOV_TRACE_LINE_EVENT);
  g_assert_false (line.has_ts);
  g_assert_false (line.has_tid);
  assert_name (&line, "vtd_switch_address_space");
  g_assert_cmpint (parse (cat, "vtd_context_cache_reset ", &line), ==, IOV_TRACE_LINE_EVENT);
  g_assert_cmpint (parse (cat, "vtd_context_cache_reset", &line), ==, IOV_TRACE_LINE_EVENT);

  /* Anything else is "other": blank lines, QEMU messages, unknown words. */
  g_assert_cmpint (parse (cat, "", &line), ==, IOV_TRACE_LINE_OTHER);
  g_assert_cmpint (parse (cat, "\r", &line), ==, IOV_TRACE_LINE_OTHER);
  g_assert_cmpint (parse (cat, "qemu-system-x86_64: terminating on signal 15", &line), ==, IOV_TRACE_LINE_OTHER);
  g_assert_cmpint (parse (cat, "not_an_event x", &line), ==, IOV_TRACE_LINE_OTHER);
  g_assert_cmpint (parse (cat, "12345 vtd_dmar_enable", &line), ==, IOV_TRACE_LINE_OTHER);
  g_assert_cmpint (iov_trace_parse_line (cat, "\0\xff\x80garbage", 10, &line), ==, IOV_TRACE_LINE_OTHER);
  g_assert_cmpint (parse (cat, "vtd_dmar_enable\xff enable 1", &line), ==, IOV_TRACE_LINE_OTHER);

  /* An interned unknown name does not make unprefixed lines events. */
  iov_trace_catalog_intern (cat, "my_private_event", 16);
  g_assert_cmpint (parse (cat, "my_private_event x", &line), ==, IOV_TRACE_LINE_OTHER);
}

static void
test_iso (void)
{
  g_autoptr(IovTraceCatalog) cat = fixture_catalog ();
  IovTraceLine line;

  g_assert_cmpint (parse (cat, "2025-07-21T18:43:28.089797Z vtd_inv_desc_iotlb_pages iotlb invalidate domain 0x3 addr 0xfffaa000 mask 0x0", &line), ==, IOV_TRACE_LINE_EVENT);
  g_assert_cmpint (line.prefix, ==, IOV_TRACE_PREFIX_ISO);
  g_assert_true (line.has_ts);
  g_assert_false (line.has_tid);
  /* date -u -d 2025-07-21T18:43:28Z +%s */
  g_assert_cmpuint (line.sec, ==, 1753123408);
  g_assert_cmpuint (line.usec, ==, 89797);
  assert_name (&line, "vtd_inv_desc_iotlb_pages");

  /* GLib omits the fraction when it is zero. */
  g_assert_cmpint (parse (cat, "2025-07-21T18:43:29Z vtd_context_cache_reset ", &line), ==, IOV_TRACE_LINE_EVENT);
  g_assert_cmpuint (line.sec, ==, 1753123409);
  g_assert_cmpuint (line.usec, ==, 0);

  /* QEMU's own messages with a timestamp are "other". */
  g_assert_cmpint (parse (cat, "2026-11-23T19:09:12.666513Z qemu-system-x86_64: terminating on signal 15", &line), ==, IOV_TRACE_LINE_OTHER);
  g_assert_cmpint (parse (cat, "2025-13-21T18:43:29Z vtd_context_cache_reset ", &line), ==, IOV_TRACE_LINE_OTHER);
  g_assert_cmpint (parse (cat, "1970-01-01T00:00:00Z vtd_context_cache_reset ", &line), ==, IOV_TRACE_LINE_EVENT);
  g_assert_cmpuint (line.sec, ==, 0);
}

typedef struct
{
  guint    n;
  guint    cut;
  gsize    last_len;
  GString *joined;
} SplitData;

static void
split_cb (const char *line,
          gsize       len,
          gboolean    cut,
          gpointer    user_data)
{
  SplitData *d = user_data;

  d->n++;
  d->cut += cut;
  d->last_len = len;
  g_string_append_len (d->joined, line, len);
  g_string_append_c (d->joined, '|');
}

static void
test_split (void)
{
  SplitData d = { 0 };
  gsize big = IOV_TRACE_MAX_LINE + 100;
  g_autofree char *data = g_malloc (big + 3);

  d.joined = g_string_new (NULL);
  g_assert_cmpuint (iov_trace_split_lines ("a\n\nb\r\nc", 7, split_cb, &d), ==, 4);
  g_assert_cmpstr (d.joined->str, ==, "a||b\r|c|");
  g_string_truncate (d.joined, 0);
  d.n = 0;
  g_assert_cmpuint (iov_trace_split_lines ("a\n", 2, split_cb, &d), ==, 1);
  g_assert_cmpuint (iov_trace_split_lines ("", 0, split_cb, &d), ==, 0);

  /* A line over 1 MiB is cut and flagged; the next line is intact. */
  memset (data, 'x', big);
  data[big] = '\n';
  data[big + 1] = 'y';
  data[big + 2] = '\n';
  d.n = 0;
  d.cut = 0;
  g_string_truncate (d.joined, 0);
  g_assert_cmpuint (iov_trace_split_lines (data, big + 3, split_cb, &d), ==, 2);
  g_assert_cmpuint (d.cut, ==, 1);
  g_assert_cmpuint (d.joined->len, ==, IOV_TRACE_MAX_LINE + 1 + 2);
  g_assert_cmpuint (d.last_len, ==, 1);
  g_string_free (d.joined, TRUE);
}

static void
test_stats (void)
{
  g_autoptr(IovTraceCatalog) cat = fixture_catalog ();
  static const char *lines[] = {
    "1@10.000001:vtd_dmar_enable enable 1",
    "",
    "garbage",
    "1@x",
    "vtd_dmar_enable enable 0",
    "1@11.000002:my_event",
  };
  IovTraceStats st;
  int id;

  iov_trace_stats_init (&st);
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      IovTraceLine line;

      parse (cat, lines[i], &line);
      iov_trace_stats_add (&st, cat, &line);
    }
  g_assert_cmpuint (st.lines, ==, 6);
  g_assert_cmpuint (st.events, ==, 3);
  g_assert_cmpuint (st.other, ==, 2);
  g_assert_cmpuint (st.malformed, ==, 1);
  g_assert_true (st.have_ts);
  g_assert_cmpuint (st.first_sec, ==, 10);
  g_assert_cmpuint (st.last_sec, ==, 11);
  g_assert_cmpuint (st.last_usec, ==, 2);
  id = iov_trace_catalog_lookup (cat, "vtd_dmar_enable", 15);
  g_assert_cmpuint (g_array_index (st.by_id, guint64, id), ==, 2);
  id = iov_trace_catalog_lookup (cat, "my_event", 8);
  g_assert_cmpint (id, >=, 0);
  g_assert_false (iov_trace_catalog_is_known (cat, id));
  g_assert_cmpuint (g_array_index (st.by_id, guint64, id), ==, 1);
  iov_trace_stats_clear (&st);
}

static void
assert_decode (IovTraceCatalog *cat,
               const char      *event,
               const char      *text,
               const char      *expect)
{
  int id = iov_trace_catalog_lookup (cat, event, strlen (event));
  IovTraceArg args[IOV_TRACE_MAX_ARGS];
  g_autoptr(GString) got = g_string_new (NULL);
  g_autoptr(GString) rendered = g_string_new (NULL);
  guint n = 0;

  g_assert_cmpint (id, >=, 0);
  g_assert_true (iov_trace_catalog_decode (cat, id, text, strlen (text), args, &n));
  for (guint i = 0; i < n; i++)
    g_string_append_printf (got, "%s%s=%.*s", i ? " " : "", args[i].name, (int) args[i].len, args[i].text);
  g_assert_cmpstr (got->str, ==, expect);
  /* Rendering the decoded values gives the printed text back. */
  iov_trace_catalog_render (cat, id, args, n, rendered);
  g_assert_cmpstr (rendered->str, ==, text);
}

static void
test_decode (gconstpointer data)
{
  g_autoptr(IovTraceCatalog) cat = GPOINTER_TO_INT (data) ? iov_trace_catalog_new_builtin () : fixture_catalog ();
  IovTraceArg args[IOV_TRACE_MAX_ARGS];
  guint n;
  int id;

  assert_decode (cat, "vtd_inv_desc_iotlb_pages", "iotlb invalidate domain 0x3 addr 0xfffaa000 mask 0x0",
                 "domain=0x3 addr=0xfffaa000 mask=0x0");
  assert_decode (cat, "vtd_inv_desc", "invalidate desc type device high 0x7ffffffffffff001 low 0x1000000003",
                 "type=device hi=0x7ffffffffffff001 lo=0x1000000003");
  assert_decode (cat, "vtd_switch_address_space", "Device 01:00.0 switching address space (iommu enabled=1)",
                 "bus=01 slot=00 fn=0 on=1");
  assert_decode (cat, "vtd_dmar_translate", "dev 01:00.00 iova 0xfffff000 -> gpa 0x1d0e000 mask 0xfff",
                 "bus=01 slot=00 func=00 iova=0xfffff000 gpa=0x1d0e000 mask=0xfff");
  assert_decode (cat, "vtd_warn_ir_vector", "sid 0xffff index 3 vec 4 (should be: 38)",
                 "sid=0xffff index=3 vec=4 target=38");
  assert_decode (cat, "vhost_iotlb_miss", "0x5626b43b2050 step 1", "dev=0x5626b43b2050 step=1");
  assert_decode (cat, "vhost_iotlb_miss", "(nil) step 2", "dev=(nil) step=2");
  assert_decode (cat, "virtio_iommu_notify_unmap",
                 "mr=virtio-iommu-memory-region-2-16 virt_start=0xfffff000 virt_end=0xffffffff",
                 "name=virtio-iommu-memory-region-2-16 virt_start=0xfffff000 virt_end=0xffffffff");
  assert_decode (cat, "x86_iommu_iec_notify", "Notify IEC invalidation: global=0 index=1 mask=0",
                 "global=0 index=1 mask=0");
  assert_decode (cat, "vtd_inv_qi_fetch", "", "");
  assert_decode (cat, "vtd_ir_remap_msi", "(addr 0xfee00000, data 0x0) -> (addr 0xfee00000, data 0x0)",
                 "addr=0xfee00000 data=0x0 addr2=0xfee00000 data2=0x0");
  assert_decode (cat, "amdvi_mmio_write", "MMIO_CONTROL write addr 0x18, size 8, val 0x1, offset 0x0",
                 "reg=MMIO_CONTROL addr=0x18 size=8 val=0x1 offset=0x0");

  /* Values are typed. */
  id = iov_trace_catalog_lookup (cat, "vtd_inv_desc", 12);
  g_assert_true (iov_trace_catalog_decode (cat, id, "invalidate desc type iotlb high 0xfffaa000 low 0x300f2",
                                           strlen ("invalidate desc type iotlb high 0xfffaa000 low 0x300f2"), args, &n));
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpint (args[0].kind, ==, IOV_TRACE_ARG_STRING);
  g_assert_cmpint (args[1].kind, ==, IOV_TRACE_ARG_HEX);
  g_assert_cmpuint (args[1].value, ==, 0xfffaa000);
  g_assert_cmpuint (args[2].value, ==, 0x300f2);
  id = iov_trace_catalog_lookup (cat, "vtd_warn_ir_vector", 18);
  g_assert_true (iov_trace_catalog_decode (cat, id, "sid 0xffff index -3 vec 4 (should be: 38)", strlen ("sid 0xffff index -3 vec 4 (should be: 38)"), args, &n));
  g_assert_cmpint (args[1].kind, ==, IOV_TRACE_ARG_SIGNED);
  g_assert_cmpint ((gint64) args[1].value, ==, -3);

  /* Text that does not fit the format does not decode. */
  g_assert_false (iov_trace_catalog_decode (cat, id, "sid 0xffff index", 16, args, &n));
  g_assert_false (iov_trace_catalog_decode (cat, id, "sid 0xffff index 3 vec 4 (should be: 38) extra", strlen ("sid 0xffff index 3 vec 4 (should be: 38) extra"), args, &n));
  id = iov_trace_catalog_lookup (cat, "vtd_inv_desc_iotlb_pages", 24);
  g_assert_false (iov_trace_catalog_decode (cat, id, "iotlb invalidate domain 0x3 addr 0x1ffffffffffffffff mask 0x0",
                                            strlen ("iotlb invalidate domain 0x3 addr 0x1ffffffffffffffff mask 0x0"), args, &n));
}

static void
test_catalogue (void)
{
  g_autoptr(IovTraceCatalog) all = fixture_catalog ();
  g_autoptr(IovTraceCatalog) builtin = iov_trace_catalog_new_builtin ();
  g_autoptr(IovTraceCatalog) tiny = NULL;
  g_autoptr(GError) error = NULL;
  const char *name;
  IovTraceArgKind kind;
  int id;

  /* Debian 7.2's trace-events-all has 4246 events (`-trace help`), some of
   * them "disable"d at build time, and may define more. */
  g_assert_cmpuint (iov_trace_catalog_get_n_known (all), >=, 4246);
  g_assert_cmpuint (iov_trace_catalog_get_n_known (builtin), >=, 300);
  g_assert_cmpuint (iov_trace_catalog_get_n_known (builtin), <, 1000);
  g_assert_cmpint (iov_trace_catalog_lookup (builtin, "vtd_inv_desc", 12), >=, 0);
  g_assert_cmpint (iov_trace_catalog_lookup (builtin, "virtio_iommu_notify_unmap", 25), >=, 0);
  g_assert_cmpint (iov_trace_catalog_lookup (builtin, "vhost_user_write", 16), >=, 0);
  g_assert_cmpint (iov_trace_catalog_lookup (builtin, "breakpoint_insert", 17), ==, -1);
  g_assert_cmpint (iov_trace_catalog_lookup (all, "breakpoint_insert", 17), >=, 0);

  id = iov_trace_catalog_lookup (all, "vtd_inv_desc_iotlb_pages", 24);
  g_assert_cmpuint (iov_trace_catalog_get_n_args (all, id), ==, 3);
  g_assert_true (iov_trace_catalog_get_arg (all, id, 1, &name, &kind));
  g_assert_cmpstr (name, ==, "addr");
  g_assert_cmpint (kind, ==, IOV_TRACE_ARG_HEX);
  g_assert_cmpstr (iov_trace_catalog_get_format (all, id), ==,
                   "iotlb invalidate domain 0x%llx addr 0x%llx mask 0x%llx");

  /* Properties, continuation of literals, %% and odd lines. */
  tiny = iov_trace_catalog_new_from_data (
    "# comment\n"
    "\n"
    "disable vcpu my_ev(int a, const char *s) \"a=%d \" \"s=%s 100%%\"\n"
    "other_ev(void) \"\"\n"
    "this is not an event\n"
    "bad_fmt(int a) \"%d\" SOMETHING_ODD\n", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (iov_trace_catalog_get_n_known (tiny), ==, 3);
  assert_decode (tiny, "my_ev", "a=-5 s=hello world 100%", "a=-5 s=hello world");
  assert_decode (tiny, "other_ev", "", "");
  /* bad_fmt is a known name but does not decode. */
  id = iov_trace_catalog_lookup (tiny, "bad_fmt", 7);
  g_assert_cmpint (id, >=, 0);
  {
    IovTraceArg args[IOV_TRACE_MAX_ARGS];
    guint n;

    g_assert_false (iov_trace_catalog_decode (tiny, id, "1", 1, args, &n));
  }

  g_assert_null (iov_trace_catalog_new_from_data ("nothing here\n", -1, &error));
  g_assert_error (error, IOV_ERROR, IOV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (iov_trace_catalog_new_from_file ("/nonexistent/trace-events-all", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

/* Every event line of a real trace decodes and renders back exactly. */
static void
test_decode_fixture (void)
{
  g_autoptr(IovTraceCatalog) cat = fixture_catalog ();
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "trace", "qemu-7.2",
                                                 "guest-virtio-iommu-vhost-user-nomsi", "trace.excerpt.log", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GString) rendered = g_string_new (NULL);
  guint n_events = 0;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      IovTraceLine line;
      IovTraceArg args[IOV_TRACE_MAX_ARGS];
      guint n;

      if (parse (cat, lines[i], &line) != IOV_TRACE_LINE_EVENT)
        continue;
      n_events++;
      if (!iov_trace_catalog_decode (cat, line.event_id, line.args, line.args_len, args, &n))
        g_error ("does not decode: %s", lines[i]);
      g_string_truncate (rendered, 0);
      iov_trace_catalog_render (cat, line.event_id, args, n, rendered);
      g_assert_cmpuint (rendered->len, ==, line.args_len);
      g_assert_cmpint (memcmp (rendered->str, line.args, line.args_len), ==, 0);
    }
  g_assert_cmpuint (n_events, ==, 3001);  /* 3002 lines, one "#" separator */
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/trace/parser/prefixed", test_prefixed);
  g_test_add_func ("/trace/parser/malformed", test_malformed);
  g_test_add_func ("/trace/parser/unprefixed", test_unprefixed);
  g_test_add_func ("/trace/parser/iso-8601", test_iso);
  g_test_add_func ("/trace/parser/split", test_split);
  g_test_add_func ("/trace/parser/stats", test_stats);
  g_test_add_data_func ("/trace/events/decode/trace-events-all", GINT_TO_POINTER (0), test_decode);
  g_test_add_data_func ("/trace/events/decode/built-in", GINT_TO_POINTER (1), test_decode);
  g_test_add_func ("/trace/events/catalogue", test_catalogue);
  g_test_add_func ("/trace/events/decode-fixture", test_decode_fixture);
  return g_test_run ();
}
