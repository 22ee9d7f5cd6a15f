/* iov-trace-parser.c
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

#define G_LOG_DOMAIN "iov-trace-parser"

#include "config.h"

#include <string.h>

#include "iov-trace-events-private.h"
#include "iov-trace-parser.h"

/* The classification rules (mirrored by tests/trace/count-trace.py):
 *
 *  1. One trailing '\r' is dropped.  An empty line is "other".
 *  2. A line starting with digits and '@' is prefixed: it must read
 *     TID(1-10 digits)@SEC(1-10 digits).USEC(6 digits):NAME, NAME made of
 *     [A-Za-z0-9_], followed by a space or the end of the line.  Then it is
 *     an event (known or not); otherwise it is malformed.
 *  3. A line starting with YYYY-MM-DDTHH:MM:SS[.uuuuuu]Z and a space has an
 *     ISO-8601 prefix (QEMU 10.1+); the rest follows rule 4.
 *  4. Otherwise the first word (up to a space) is looked up: a known event
 *     name makes the line an event, anything else is "other".
 */

static const guint8 name_chars[256] = {
  ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['_'] = 1,
};

static inline gboolean
is_name_char (guchar c)
{
  return name_chars[c];
}

/* Reads 1..max digits; returns the number read (0 on none or too many). */
static inline guint
read_digits (const char *p,
             const char *end,
             guint       max,
             guint64    *value)
{
  guint64 v = 0;
  guint n = 0;

  while (p + n < end && (guchar) (p[n] - '0') < 10)
    {
      if (n == max)
        return 0;
      v = v * 10 + (guint) (p[n] - '0');
      n++;
    }
  *value = v;
  return n;
}

static inline gboolean
fixed_digits (const char *p,
              guint       n,
              guint      *value)
{
  guint v = 0;

  for (guint i = 0; i < n; i++)
    {
      if ((guchar) (p[i] - '0') >= 10)
        return FALSE;
      v = v * 10 + (guint) (p[i] - '0');
    }
  *value = v;
  return TRUE;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static gint64
days_from_civil (gint64 y,
                 guint  m,
                 guint  d)
{
  gint64 era, yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DDTHH:MM:SS[.uuuuuu]Z " → length of the prefix with the space. */
static gsize
parse_iso_prefix (const char   *p,
                  const char   *end,
                  IovTraceLine *out)
{
  guint y, mo, d, h, mi, s, us = 0;
  gsize n = 19;
  gint64 days, secs;

  if (end - p < 21 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':')
    return 0;
  if (!fixed_digits (p, 4, &y) || !fixed_digits (p + 5, 2, &mo) || !fixed_digits (p + 8, 2, &d) ||
      !fixed_digits (p + 11, 2, &h) || !fixed_digits (p + 14, 2, &mi) || !fixed_digits (p + 17, 2, &s))
    return 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
    return 0;
  if (p[n] == '.')
    {
      if (end - p < 29 || !fixed_digits (p + 20, 6, &us))
        return 0;
      n = 26;
    }
  if (end - p < (gssize) n + 2 || p[n] != 'Z' || p[n + 1] != ' ')
    return 0;
  days = days_from_civil (y, mo, d);
  secs = days * 86400 + h * 3600 + mi * 60 + s;
  if (secs < 0)
    return 0;
  out->has_ts = TRUE;
  out->sec = secs;
  out->usec = us;
  out->ts_ns = (guint64) secs * G_GUINT64_CONSTANT (1000000000) + (guint64) us * 1000;
  return n + 2;
}

IovTraceLineKind
iov_trace_parse_line (const IovTraceCatalog *catalog,
                      const char            *line,
                      gsize                  len,
                      IovTraceLine          *out)
{
  const char *p = line, *end = line + len;
  const char *word;
  guint n;

  memset (out, 0, sizeof *out);
  out->event_id = -1;

  if (len > 0 && end[-1] == '\r')
    end--;
  if (p == end)
    return out->kind = IOV_TRACE_LINE_OTHER;

  if ((guchar) (*p - '0') < 10)
    {
      const char *q = p;

      while (q < end && (guchar) (*q - '0') < 10)
        q++;
      if (q < end && *q == '@')
        {
          guint64 tid, sec, usec;
          const char *name;
          guint32 hash;

          out->prefix = IOV_TRACE_PREFIX_TID;
          out->kind = IOV_TRACE_LINE_MALFORMED;
          n = read_digits (p, end, 10, &tid);
          if (n == 0 || tid > G_MAXUINT32)
            return out->kind;
          p += n + 1;
          n = read_digits (p, end, 10, &sec);
          if (n == 0 || p + n >= end || p[n] != '.')
            return out->kind;
          p += n + 1;
          n = read_digits (p, end, 6, &usec);
          if (n != 6 || p + n >= end || p[n] != ':')
            return out->kind;
          p += n + 1;
          name = p;
          hash = IOV_TRACE_HASH_SEED;
          while (p < end && is_name_char (*p))
            hash = iov_trace_hash_step (hash, *p++);
          if (p == name || (p < end && *p != ' '))
            return out->kind;
          out->has_tid = TRUE;
          out->tid = tid;
          out->has_ts = TRUE;
          out->sec = sec;
          out->usec = usec;
          out->ts_ns = sec * G_GUINT64_CONSTANT (1000000000) + usec * 1000;
          out->name = name;
          out->name_len = p - name;
          out->args = p < end ? p + 1 : p;
          out->args_len = end - out->args;
          out->event_id = _iov_trace_catalog_lookup_hashed (catalog, name, out->name_len, hash);
          return out->kind = IOV_TRACE_LINE_EVENT;
        }
      if (q - p == 4 && q < end && *q == '-' && (n = parse_iso_prefix (p, end, out)) > 0)
        {
          out->prefix = IOV_TRACE_PREFIX_ISO;
          p += n;
        }
    }

  word = p;
  {
    const char *sp = memchr (p, ' ', end - p);

    p = sp ? sp : end;
  }
  out->event_id = iov_trace_catalog_lookup (catalog, word, p - word);
  if (out->event_id < 0 || !iov_trace_catalog_is_known (catalog, out->event_id))
    {
      out->event_id = -1;
      return out->kind = IOV_TRACE_LINE_OTHER;
    }
  out->name = word;
  out->name_len = p - word;
  out->args = p < end ? p + 1 : p;
  out->args_len = end - out->args;
  return out->kind = IOV_TRACE_LINE_EVENT;
}

void
iov_trace_stats_init (IovTraceStats *stats)
{
  memset (stats, 0, sizeof *stats);
  stats->by_id = g_array_new (FALSE, TRUE, sizeof (guint64));
}

void
iov_trace_stats_clear (IovTraceStats *stats)
{
  g_clear_pointer (&stats->by_id, g_array_unref);
}

void
iov_trace_stats_add (IovTraceStats      *stats,
                     IovTraceCatalog    *catalog,
                     const IovTraceLine *line)
{
  guint id;

  stats->lines++;
  switch (line->kind)
    {
    case IOV_TRACE_LINE_OTHER:
      stats->other++;
      return;
    case IOV_TRACE_LINE_MALFORMED:
      stats->malformed++;
      return;
    case IOV_TRACE_LINE_EVENT:
    default:
      break;
    }
  stats->events++;
  id = line->event_id >= 0 ? (guint) line->event_id
                           : iov_trace_catalog_intern (catalog, line->name, line->name_len);
  if (id >= stats->by_id->len)
    g_array_set_size (stats->by_id, MAX (id + 1, stats->by_id->len * 2));
  g_array_index (stats->by_id, guint64, id)++;
  if (line->has_ts)
    {
      if (!stats->have_ts)
        {
          stats->have_ts = TRUE;
          stats->first_sec = line->sec;
          stats->first_usec = line->usec;
        }
      stats->last_sec = line->sec;
      stats->last_usec = line->usec;
    }
}

guint64
iov_trace_split_lines (const char       *data,
                       gsize             len,
                       IovTraceLineFunc  func,
                       gpointer          user_data)
{
  const char *p = data, *end = data + len;
  guint64 n = 0;

  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *stop = nl ? nl : end;
      gsize l = stop - p;

      if (l > IOV_TRACE_MAX_LINE)
        func (p, IOV_TRACE_MAX_LINE, TRUE, user_data);
      else
        func (p, l, FALSE, user_data);
      n++;
      p = nl ? nl + 1 : end;
    }
  return n;
}

void
iov_trace_format_ts (guint64 sec,
                     guint32 usec,
                     char    buf[32])
{
  g_snprintf (buf, 32, "%" G_GUINT64_FORMAT ".%06u", sec, usec);
}
