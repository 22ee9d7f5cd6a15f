/* test-event-store.c
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
#include <string.h>

#include "iov-types.h"
#include "iov-event-store.h"
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

static char *
load_fixture (const char *name,
              gsize      *len)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "trace", name, NULL);
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  if (g_str_has_suffix (name, ".xz"))
    {
      g_autoptr(GSubprocess) proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "xz", "-dc", path, NULL);
      g_autoptr(GBytes) out = NULL;

      g_assert_no_error (error);
      g_subprocess_communicate (proc, NULL, NULL, &out, NULL, &error);
      g_assert_no_error (error);
      *len = g_bytes_get_size (out);
      return g_memdup2 (g_bytes_get_data (out, NULL), *len);
    }
  g_assert_true (g_file_get_contents (path, &text, len, NULL));
  return text;
}

typedef struct
{
  IovTraceCatalog *cat;
  IovEventStore   *store;
  GPtrArray       *args;    /* expected argument text per stored event */
  GArray          *ts;
  guint64          arrival;
} Fill;

static void
fill_line (const char *text,
           gsize       len,
           gboolean    cut,
           gpointer    user_data)
{
  Fill *f = user_data;
  IovTraceLine line;
  guint64 index;

  if (iov_trace_parse_line (f->cat, text, len, &line) != IOV_TRACE_LINE_EVENT)
    {
      g_assert_cmpuint (iov_event_store_append_line (f->store, &line, 0), ==, G_MAXUINT64);
      return;
    }
  index = iov_event_store_append_line (f->store, &line, f->arrival);
  g_assert_cmpuint (index, ==, f->args ? f->args->len : index);
  if (f->args)
    {
      g_ptr_array_add (f->args, g_strndup (line.args, line.args_len));
      g_array_append_val (f->ts, line.ts_ns);
    }
}

/* Every event of real traces comes back with exactly the text QEMU
 * printed, whether its arguments were stored typed or raw. */
static void
test_roundtrip (gconstpointer data)
{
  const char *name = data;
  g_autoptr(IovTraceCatalog) cat = fixture_catalog ();
  g_autoptr(IovEventStore) store = iov_event_store_new (cat);
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) ts = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *text = NULL;
  gsize len;
  Fill f = { cat, store, args, ts, 0 };
  guint typed = 0;

  text = load_fixture (name, &len);
  iov_trace_split_lines (text, len, fill_line, &f);
  g_assert_cmpuint (iov_event_store_get_n_events (store), ==, args->len);
  g_assert_cmpuint (args->len, >, 0);
  for (guint i = 0; i < args->len; i++)
    {
      IovEventRecord r;
      IovTraceArg a[IOV_TRACE_MAX_ARGS];
      gboolean is_typed;
      guint n;

      g_string_truncate (out, 0);
      g_assert_true (iov_event_store_get (store, i, &r));
      g_assert_cmpuint (r.ts_ns, ==, g_array_index (ts, guint64, i));
      g_assert_true (iov_event_store_render_args (store, i, out));
      if (strcmp (out->str, g_ptr_array_index (args, i)) != 0)
        g_error ("event %u (%s): stored \"%s\", read back \"%s\"", i,
                 iov_trace_catalog_get_name (cat, r.event_id), (char *) g_ptr_array_index (args, i), out->str);
      g_assert_true (iov_event_store_get_args (store, i, a, &n, &is_typed));
      typed += is_typed;
    }
  g_test_message ("%s: %u events, %u typed, %" G_GSIZE_FORMAT " bytes/event", name, args->len, typed,
                  iov_event_store_get_memory (store) / args->len);
  /* Real IOMMU traces decode: nearly everything is stored typed. */
  if (g_str_has_prefix (name, "qemu-7.2/"))
    g_assert_cmpuint (typed, >=, args->len * 99 / 100);
  g_assert_false (iov_event_store_get (store, args->len, &(IovEventRecord) { 0 }));
}

static void
test_typed_values (void)
{
  g_autoptr(IovTraceCatalog) cat = fixture_catalog ();
  g_autoptr(IovEventStore) store = iov_event_store_new (cat);
  static const char line[] = "13726@1795459779.004978:vtd_inv_desc invalidate desc type iotlb high 0xfffaa000 low 0x300f2";
  static const char neg[] = "1@1795459779.004979:vtd_warn_ir_vector sid 0xffff index -3 vec 4 (should be: 38)";
  IovTraceLine parsed;
  IovTraceArg a[IOV_TRACE_MAX_ARGS];
  gboolean typed;
  guint n;

  iov_trace_parse_line (cat, line, strlen (line), &parsed);
  g_assert_cmpuint (iov_event_store_append_line (store, &parsed, 0), ==, 0);
  iov_trace_parse_line (cat, line, strlen (line), &parsed);
  g_assert_cmpuint (iov_event_store_append_line (store, &parsed, 0), ==, 1);
  iov_trace_parse_line (cat, neg, strlen (neg), &parsed);
  g_assert_cmpuint (iov_event_store_append_line (store, &parsed, 0), ==, 2);

  g_assert_true (iov_event_store_get_args (store, 1, a, &n, &typed));
  g_assert_true (typed);
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpstr (a[0].name, ==, "type");
  g_assert_cmpmem (a[0].text, a[0].len, "iotlb", 5);
  g_assert_cmpstr (a[1].name, ==, "hi");
  g_assert_cmphex (a[1].value, ==, 0xfffaa000);
  g_assert_cmphex (a[2].value, ==, 0x300f2);
  g_assert_true (iov_event_store_get_args (store, 2, a, &n, &typed));
  g_assert_cmpint ((gint64) a[1].value, ==, -3);

  /* Unknown events and text that does not fit the format stay raw. */
  g_assert_cmpuint (iov_event_store_append_raw (store, 5, iov_trace_catalog_intern (cat, "mine", 4), "a b", 3), ==, 3);
  g_assert_true (iov_event_store_get_args (store, 3, a, &n, &typed));
  g_assert_false (typed);
  g_assert_cmpmem (a[0].text, a[0].len, "a b", 3);
  g_assert_cmpuint (iov_event_store_append_raw (store, 6, parsed.event_id, "sid 0x0FFFF index 1 vec 2 (should be: 3)", 40), ==, 4);
  g_assert_true (iov_event_store_get_args (store, 4, a, &n, &typed));
  g_assert_false (typed);  /* "0x0FFFF" would not print back the same */
  /* Found by fuzz-trace-line: an argument-less event whose format has
   * text, printed without it, stays empty. */
  {
    guint reset = iov_trace_catalog_lookup (cat, "vtd_inv_desc_cc_global", 22);
    g_autoptr(GString) out = g_string_new (NULL);

    g_assert_cmpuint (iov_event_store_append_raw (store, 9, reset, "", 0), ==, 5);
    g_assert_true (iov_event_store_render_args (store, 5, out));
    g_assert_cmpstr (out->str, ==, "");
    g_assert_cmpuint (iov_event_store_append_raw (store, 9, reset, "context invalidate globally", 27), ==, 6);
    g_string_truncate (out, 0);
    g_assert_true (iov_event_store_render_args (store, 6, out));
    g_assert_cmpstr (out->str, ==, "context invalidate globally");
  }
  /* Found by fuzz-trace-line: "+0" for %d decodes to 0 but prints as "0". */
  g_assert_cmpuint (iov_event_store_append_raw (store, 7, iov_trace_catalog_lookup (cat, "vtd_switch_address_space", 24),
                                                "Device 00:00.0 switching address space (iommu enabled=+0)", 57), ==, 7);
  g_assert_true (iov_event_store_get_args (store, 7, a, &n, &typed));
  g_assert_false (typed);
  g_assert_cmpuint (iov_event_store_append_raw (store, 8, parsed.event_id, "sid 0xFFFF index 1 vec 2 (should be: 3)", 39), ==, 8);
  g_assert_true (iov_event_store_get_args (store, 8, a, &n, &typed));
  g_assert_false (typed);
}

typedef struct
{
  guint64 ts;
  guint   id;
  guint64 value;
} Synthetic;

static void
test_bins (void)
{
  g_autoptr(IovTraceCatalog) cat = fixture_catalog ();
  g_autoptr(IovEventStore) store = iov_event_store_new (cat);
  g_autoptr(GArray) events = g_array_new (FALSE, FALSE, sizeof (Synthetic));
  guint pages = iov_trace_catalog_lookup (cat, "vtd_inv_desc_iotlb_pages", 24);
  guint fetch = iov_trace_catalog_lookup (cat, "vtd_inv_qi_fetch", 16);
  GRand *rand = g_rand_new_with_seed (42);
  guint64 t = 1000;
  IovEventBin bins[97];
  g_autoptr(GError) error = NULL;

  /* 300k events (several chunks), pages events carry an address. */
  for (guint i = 0; i < 300000; i++)
    {
      Synthetic s;

      t += g_rand_int_range (rand, 0, 1000);
      s.ts = t;
      if (g_rand_boolean (rand))
        {
          g_autofree char *args = NULL;

          s.id = pages;
          s.value = (guint64) g_rand_int (rand) << 12;
          args = g_strdup_printf ("iotlb invalidate domain 0x3 addr 0x%" G_GINT64_MODIFIER "x mask 0x0", s.value);
          iov_event_store_append_raw (store, s.ts, s.id, args, strlen (args));
        }
      else
        {
          s.id = fetch;
          s.value = 0;
          iov_event_store_append_raw (store, s.ts, s.id, "", 0);
        }
      g_array_append_val (events, s);
    }
  g_rand_free (rand);

  for (guint round = 0; round < 4; round++)
    {
      guint64 t0 = round == 0 ? 0 : 1000 + round * 12345678;
      guint64 t1 = round == 3 ? G_MAXUINT64 : t0 + 50000000 + round * 1000;
      double scale = (double) G_N_ELEMENTS (bins) / (double) (t1 - t0);
      IovEventBin expect[G_N_ELEMENTS (bins)];
      guint ids[] = { pages };

      for (guint b = 0; b < G_N_ELEMENTS (bins); b++)
        expect[b] = (IovEventBin) { 0, G_MAXUINT64, 0 };
      for (guint i = 0; i < events->len; i++)
        {
          Synthetic *s = &g_array_index (events, Synthetic, i);
          guint b;

          if (s->ts < t0 || s->ts >= t1 || s->id != pages)
            continue;
          b = MIN ((guint) ((double) (s->ts - t0) * scale), G_N_ELEMENTS (bins) - 1);
          expect[b].count++;
          expect[b].min = MIN (expect[b].min, s->value);
          expect[b].max = MAX (expect[b].max, s->value);
        }
      /* arg 1 of vtd_inv_desc_iotlb_pages is addr */
      g_assert_true (iov_event_store_bin (store, t0, t1, G_N_ELEMENTS (bins), ids, 1, 1, bins, &error));
      g_assert_no_error (error);
      for (guint b = 0; b < G_N_ELEMENTS (bins); b++)
        {
          g_assert_cmpuint (bins[b].count, ==, expect[b].count);
          g_assert_cmphex (bins[b].min, ==, expect[b].min);
          g_assert_cmphex (bins[b].max, ==, expect[b].max);
        }
    }

  /* All events, min/max of time. */
  {
    guint64 total = 0;

    g_assert_true (iov_event_store_bin (store, 0, t + 1, 10, NULL, 0, -1, bins, &error));
    for (guint b = 0; b < 10; b++)
      {
        total += bins[b].count;
        if (bins[b].count)
          g_assert_cmpuint (bins[b].min, <=, bins[b].max);
      }
    g_assert_cmpuint (total, ==, 300000);
    g_assert_cmpuint (bins[0].min, ==, g_array_index (events, Synthetic, 0).ts);
    g_assert_cmpuint (bins[9].max, ==, t);
  }

  /* Time index. */
  for (guint i = 0; i < events->len; i += 9973)
    {
      guint64 ts = g_array_index (events, Synthetic, i).ts;
      guint64 lb = iov_event_store_lower_bound (store, ts);
      IovEventRecord r;

      g_assert_true (iov_event_store_get (store, lb, &r));
      g_assert_cmpuint (r.ts_ns, ==, ts);
      g_assert_cmpuint (lb, <=, i);
      if (lb > 0)
        {
          iov_event_store_get (store, lb - 1, &r);
          g_assert_cmpuint (r.ts_ns, <, ts);
        }
    }
  g_assert_cmpuint (iov_event_store_lower_bound (store, t + 1), ==, 300000);
  g_assert_cmpuint (iov_event_store_lower_bound (store, 0), ==, 0);

  g_assert_false (iov_event_store_bin (store, 5, 5, 10, NULL, 0, -1, bins, &error));
  g_assert_error (error, IOV_ERROR, IOV_ERROR_INVALID);
}

/* Unsorted input (unprefixed lines get arrival times) still bins right. */
static void
test_bins_unsorted (void)
{
  g_autoptr(IovTraceCatalog) cat = fixture_catalog ();
  g_autoptr(IovEventStore) store = iov_event_store_new (cat);
  guint fetch = iov_trace_catalog_lookup (cat, "vtd_inv_qi_fetch", 16);
  IovEventBin bins[4];

  for (guint i = 0; i < 100; i++)
    iov_event_store_append_raw (store, (i * 37) % 100, fetch, "", 0);
  g_assert_true (iov_event_store_bin (store, 0, 100, 4, NULL, 0, -1, bins, NULL));
  for (guint b = 0; b < 4; b++)
    {
      g_assert_cmpuint (bins[b].count, ==, 25);
      g_assert_cmpuint (bins[b].min, ==, b * 25);
      g_assert_cmpuint (bins[b].max, ==, b * 25 + 24);
    }
}

/* iov_event_store_bin_multi() against one iov_event_store_bin() per row,
 * on random stores: times in order with runs of equal ones, in order but
 * for one late event, or in no order; a few kinds or more kinds than a
 * summary block keeps; ranges whose bin edges fall on chunk and block
 * edges, the whole trace, or outside the data.  IOV_TEST_SEED=N replays
 * a failure. */
#define MULTI_CHUNK 131072    /* the store's chunk, in events */

typedef struct
{
  guint         seed;
  guint         store;
  guint         query;
  const guint64 *ts;
  guint          n;
} MultiCase;

static guint64
random_edge (GRand         *rand,
             const guint64 *ts,
             guint          n)
{
  static const guint units[] = { MULTI_CHUNK, 65536, 4096, 256 };
  guint unit = units[g_rand_int_range (rand, 0, G_N_ELEMENTS (units))];
  guint k;

  if (n == 0)
    return 0;
  if (n <= unit)
    return ts[g_rand_int_range (rand, 0, n)];
  /* the first event of a block, or the last of the one before */
  k = g_rand_int_range (rand, 1, (n - 1) / unit + 1) * unit;
  return ts[g_rand_boolean (rand) ? k : k - 1];
}

static void
check_multi (const MultiCase *mc,
             IovEventStore   *store,
             guint64          t0,
             guint64          t1,
             guint            n_bins,
             const guint     *row_of,
             guint            n_ids,
             guint            n_rows)
{
  g_autofree IovEventBin *multi = g_new (IovEventBin, (gsize) n_rows * n_bins);
  g_autofree IovEventBin *single = g_new (IovEventBin, n_bins);
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GError) error = NULL;
  guint64 total = 0, expect_total = 0;

  g_assert_true (iov_event_store_bin_multi (store, t0, t1, n_bins, row_of, n_ids, n_rows, multi, &error));
  g_assert_no_error (error);
  for (guint r = 0; r < n_rows; r++)
    {
      g_array_set_size (ids, 0);
      for (guint i = 0; i < n_ids; i++)
        if (row_of[i] == r)
          g_array_append_val (ids, i);
      if (ids->len == 0)
        {
          /* no ids means every event to iov_event_store_bin() */
          for (guint b = 0; b < n_bins; b++)
            single[b] = (IovEventBin) { 0, G_MAXUINT64, 0 };
        }
      else
        g_assert_true (iov_event_store_bin (store, t0, t1, n_bins, (const guint *) (gpointer) ids->data, ids->len,
                                            -1, single, &error));
      for (guint b = 0; b < n_bins; b++)
        {
          const IovEventBin *m = &multi[(gsize) r * n_bins + b];

          total += m->count;
          expect_total += single[b].count;
          if (m->count != single[b].count || m->min != single[b].min || m->max != single[b].max)
            {
              g_printerr ("bin_multi differs: IOV_TEST_SEED=%u store %u query %u (%u events, %u bins of [%"
                          G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "), %u rows, %u ids): row %u bin %u: "
                          "multi %" G_GUINT64_FORMAT " [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "], "
                          "single %" G_GUINT64_FORMAT " [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "]\n",
                          mc->seed, mc->store, mc->query, mc->n, n_bins, t0, t1, n_rows, n_ids, r, b,
                          m->count, m->min, m->max, single[b].count, single[b].min, single[b].max);
              g_test_fail_printf ("bin_multi differs from bin, seed %u", mc->seed);
              return;
            }
        }
    }
  /* and both count what a plain walk over the events counts */
  {
    guint64 walk = 0;

    for (guint i = 0; i < mc->n; i++)
      {
        IovEventRecord rec;

        g_assert_true (iov_event_store_get (store, i, &rec));
        if (rec.ts_ns >= t0 && rec.ts_ns < t1 && rec.event_id < n_ids && row_of[rec.event_id] < n_rows)
          walk++;
      }
    if (walk != total || walk != expect_total)
      {
        g_printerr ("bin_multi: IOV_TEST_SEED=%u store %u query %u: %" G_GUINT64_FORMAT " events in range, "
                    "multi counts %" G_GUINT64_FORMAT ", bin %" G_GUINT64_FORMAT "\n",
                    mc->seed, mc->store, mc->query, walk, total, expect_total);
        g_test_fail_printf ("bin_multi totals differ, seed %u", mc->seed);
      }
  }
}

static void
test_bins_multi (void)
{
  g_autoptr(IovTraceCatalog) cat = fixture_catalog ();
  const char *env = g_getenv ("IOV_TEST_SEED");
  guint seed = env != NULL ? (guint) g_ascii_strtoull (env, NULL, 10) : (guint) g_test_rand_int ();
  guint n_cat = iov_trace_catalog_get_n_events (cat);
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  static const guint sizes[] = { 0, 1, 255, 256, 4096 * 3 + 17, 65536 + 1, 2 * MULTI_CHUNK + 4096 * 5 + 300 };

  g_test_message ("IOV_TEST_SEED=%u", seed);
  g_assert_cmpuint (n_cat, >, 2000);

  for (guint s = 0; s < 12 && !g_test_failed (); s++)
    {
      g_autoptr(IovEventStore) store = iov_event_store_new (cat);
      guint n = sizes[s < G_N_ELEMENTS (sizes) ? s : (guint) g_rand_int_range (rand, 4, G_N_ELEMENTS (sizes))];
      guint shape = g_rand_int_range (rand, 0, 4);
      /* 1 to 3 kinds, more than a summary block keeps, or more than any
       * block of 1024 events or more can (512) */
      guint n_kinds = (guint[]) { 1, 3, 40, 300, 2000 }[g_rand_int_range (rand, 0, 5)];
      g_autofree guint *kinds = g_new (guint, n_kinds);
      g_autofree guint64 *ts = g_new (guint64, MAX (n, 1));
      g_autofree guint *row_of = g_new (guint, n_cat);
      guint64 t = g_rand_int_range (rand, 0, 3) * 1000, lo = G_MAXUINT64, hi = 0;
      MultiCase mc = { seed, s, 0, ts, n };

      for (guint k = 0; k < n_kinds; k++)
        kinds[k] = g_rand_int_range (rand, 0, n_cat);
      for (guint i = 0; i < n; i++)
        {
          switch (shape)
            {
            case 0:   /* in order, many equal times */
            case 3:   /* the same, and one event late */
              t += (guint[]) { 0, 0, 1, 2, 7, 1000 }[g_rand_int_range (rand, 0, 6)];
              ts[i] = shape == 3 && i == n / 2 && t > 5000 ? t - 5000 : t;
              break;
            case 1:   /* in order, bursts at one time and long gaps */
              if (g_rand_int_range (rand, 0, 300) == 0)
                t += g_rand_int_range (rand, 1, 10000000);
              ts[i] = t;
              break;
            default:  /* any order */
              ts[i] = g_rand_int_range (rand, 0, 2000000);
              break;
            }
          lo = MIN (lo, ts[i]);
          hi = MAX (hi, ts[i]);
          iov_event_store_append_raw (store, ts[i], kinds[g_rand_int_range (rand, 0, n_kinds)], "", 0);
        }
      g_assert_cmpuint (iov_event_store_get_n_events (store), ==, n);
      if (n == 0)
        lo = hi = 1000;

      for (guint qi = 0; qi < 24 && !g_test_failed (); qi++)
        {
          guint n_rows = g_rand_int_range (rand, 1, 7);
          guint n_bins = (guint[]) { 1, 2, 7, 640, 1920 }[g_rand_int_range (rand, 0, 5)];
          /* sometimes fewer ids than the store holds: the rest are not binned */
          guint n_ids = g_rand_boolean (rand) ? n_cat : (guint) g_rand_int_range (rand, 1, n_cat + 1);
          guint64 t0, t1;

          mc.query = qi;
          for (guint i = 0; i < n_cat; i++)
            row_of[i] = g_rand_int_range (rand, 0, 4) == 0 ? G_MAXUINT : (guint) g_rand_int_range (rand, 0, n_rows);
          /* the kinds in the store get rows more often than not */
          for (guint k = 0; k < n_kinds; k++)
            if (g_rand_int_range (rand, 0, 5) > 0)
              row_of[kinds[k]] = g_rand_int_range (rand, 0, n_rows);

          switch (qi % 6)
            {
            case 0:   /* the whole trace, and beyond */
              {
                guint64 before = g_rand_int_range (rand, 0, 3);

                t0 = lo - MIN (lo, before);
                t1 = hi + 1 + g_rand_int_range (rand, 0, 3);
              }
              break;
            case 1:   /* a bin edge on a chunk or block edge */
              {
                guint64 edge = random_edge (rand, ts, n);
                guint64 w = g_rand_int_range (rand, 1, 5000);
                guint j = g_rand_int_range (rand, 0, n_bins + 1);

                t0 = edge >= j * w ? edge - j * w : edge;
                t1 = t0 + n_bins * w;
              }
              break;
            case 2:   /* from and to chunk or block edges, or one past */
              t0 = random_edge (rand, ts, n);
              t1 = random_edge (rand, ts, n);
              if (t1 < t0)
                {
                  guint64 x = t0;

                  t0 = t1;
                  t1 = x;
                }
              t0 += g_rand_int_range (rand, 0, 2);
              t1 += g_rand_int_range (rand, 0, 2);
              if (t1 <= t0)
                t1 = t0 + 1;
              break;
            case 3:   /* anywhere */
              t0 = lo + g_rand_double (rand) * (hi - lo);
              t1 = t0 + 1 + g_rand_double (rand) * (hi - t0);
              break;
            case 4:   /* before or after the data */
              if (g_rand_boolean (rand) || lo == 0)
                {
                  t0 = hi + 1 + g_rand_int_range (rand, 0, 100);
                  t1 = t0 + g_rand_int_range (rand, 1, 1000000);
                }
              else
                {
                  t0 = g_rand_int_range (rand, 0, lo);
                  t1 = t0 + 1 + g_rand_int_range (rand, 0, lo - t0);
                }
              break;
            default:  /* all time */
              t0 = 0;
              t1 = G_MAXUINT64;
              break;
            }
          check_multi (&mc, store, t0, t1, n_bins, row_of, n_ids, n_rows);
        }
    }

  /* the arguments are checked as iov_event_store_bin() does */
  {
    g_autoptr(IovEventStore) store = iov_event_store_new (cat);
    g_autoptr(GError) error = NULL;
    IovEventBin bins[2];
    guint row = 0;

    g_assert_false (iov_event_store_bin_multi (store, 5, 5, 1, &row, 1, 2, bins, &error));
    g_assert_error (error, IOV_ERROR, IOV_ERROR_INVALID);
  }
}

/* ≤ 32 bytes per stored event on a real trace (records, arena and the
 * count pyramid). */
static void
test_memory (void)
{
  g_autoptr(IovTraceCatalog) cat = fixture_catalog ();
  g_autoptr(IovEventStore) store = iov_event_store_new (cat);
  g_autofree char *text = NULL;
  gsize len;
  Fill f = { cat, store, NULL, NULL, 0 };
  g_autofree char *xz = g_find_program_in_path ("xz");
  double per_event;

  if (xz == NULL)
    {
      g_test_skip ("xz is not installed");
      return;
    }
  text = load_fixture ("qemu-7.2/guest-intel-strict/trace.log.xz", &len);
  iov_trace_split_lines (text, len, fill_line, &f);
  g_assert_cmpuint (iov_event_store_get_n_events (store), ==, 170986);
  per_event = (double) iov_event_store_get_memory (store) / 170986;
  g_test_message ("%.1f bytes/event", per_event);
  g_assert_cmpfloat (per_event, <=, 32.0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/event-store/roundtrip/edge-cases", "edge-cases.log", test_roundtrip);
  g_test_add_data_func ("/event-store/roundtrip/vhost-user", "qemu-7.2/guest-virtio-iommu-vhost-user-nomsi/trace.excerpt.log", test_roundtrip);
  g_test_add_data_func ("/event-store/roundtrip/amd", "qemu-7.2/guest-amd/trace.excerpt.log", test_roundtrip);
  g_test_add_data_func ("/event-store/roundtrip/rootport", "qemu-7.2/guest-intel-rootport/trace.excerpt.log", test_roundtrip);
  g_test_add_func ("/event-store/typed-values", test_typed_values);
  g_test_add_func ("/event-store/bins", test_bins);
  g_test_add_func ("/event-store/bins-unsorted", test_bins_unsorted);
  g_test_add_func ("/event-store/bins-multi", test_bins_multi);
  g_test_add_func ("/event-store/memory", test_memory);
  return g_test_run ();
}
