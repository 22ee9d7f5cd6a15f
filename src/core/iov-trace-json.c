/* iov-trace-json.c
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

#define G_LOG_DOMAIN "iov-trace-json"

#include "config.h"

#include <string.h>

#include "iov-trace-json.h"

static gboolean
valid_name (const char *name)
{
  if (name == NULL || *name == '\0')
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_')
      return FALSE;
  return TRUE;
}

/* A member that is a JSON number, as the relay writes ts_ns and tid. */
static gboolean
get_uint (JsonObject *object,
          const char *member,
          guint64    *value)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  if (json_node_get_int (node) < 0)
    return FALSE;
  *value = (guint64) json_node_get_int (node);
  return TRUE;
}

static const char *
get_string (JsonObject *object,
            const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* Days since 1970-01-01 → civil date (H. Hinnant's algorithm), the inverse
 * of the parser's days_from_civil(). */
static void
civil_from_days (gint64  z,
                 int    *y,
                 guint  *m,
                 guint  *d)
{
  gint64 era, doe, yoe, doy, mp;

  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2);
}

static void
append_prefix (GString    *out,
               JsonObject *event)
{
  guint64 ts_ns, tid, sec;
  guint32 usec;

  if (!get_uint (event, "ts_ns", &ts_ns))
    return;
  sec = ts_ns / G_GUINT64_CONSTANT (1000000000);
  usec = (ts_ns % G_GUINT64_CONSTANT (1000000000)) / 1000;
  if (get_uint (event, "tid", &tid))
    {
      /* QEMU's log backend: "%d@%zu.%06zu:" */
      g_string_append_printf (out, "%" G_GUINT64_FORMAT "@%" G_GUINT64_FORMAT ".%06u:", tid, sec, usec);
    }
  else
    {
      int y;
      guint mo, d;
      guint64 s = sec % 86400;

      civil_from_days (sec / 86400, &y, &mo, &d);
      g_string_append_printf (out, "%04d-%02u-%02uT%02u:%02u:%02u.%06uZ ", y, mo, d,
                              (guint) (s / 3600), (guint) (s / 60 % 60), (guint) (s % 60), usec);
    }
}

/* The arguments by the catalogue's names, all strings, and no others. */
static gboolean
render_exact (const IovTraceCatalog *catalog,
              const char            *name,
              JsonObject            *args,
              GString               *out)
{
  IovTraceArg text[IOV_TRACE_MAX_ARGS];
  int id;
  guint n;

  if (catalog == NULL || args == NULL)
    return FALSE;
  id = iov_trace_catalog_lookup (catalog, name, strlen (name));
  if (id < 0 || !iov_trace_catalog_is_known (catalog, id))
    return FALSE;
  n = iov_trace_catalog_get_n_args (catalog, id);
  if (n > IOV_TRACE_MAX_ARGS || json_object_get_size (args) != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      const char *arg_name = NULL;
      const char *value;

      iov_trace_catalog_get_arg (catalog, id, i, &arg_name, &text[i].kind);
      value = arg_name ? get_string (args, arg_name) : NULL;
      if (value == NULL)
        return FALSE;
      text[i].name = arg_name;
      text[i].text = value;
      text[i].len = strlen (value);
      text[i].value = 0;
    }
  return iov_trace_catalog_render_text (catalog, id, text, n, out);
}

/* "name args" with the arguments as printed; no newline in them. */
static IovTraceJsonRender
append_body (const IovTraceCatalog *catalog,
             JsonObject            *event,
             const char            *name,
             GString               *out)
{
  const char *raw = get_string (event, "raw");
  JsonObject *args = NULL;
  JsonNode *node;
  IovTraceJsonRender result;
  gsize start = out->len;

  node = json_object_get_member (event, "args");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    args = json_node_get_object (node);
  g_string_append (out, name);
  /* QEMU prints "name " and then the format, even an empty one. */
  g_string_append_c (out, ' ');
  if (raw != NULL)
    {
      g_string_append (out, raw);
      result = IOV_TRACE_JSON_RAW;
    }
  else if (render_exact (catalog, name, args, out))
    result = IOV_TRACE_JSON_EXACT;
  else
    {
      /* The relay's catalogue (its host's trace-events-all) differs from
       * ours: keep what there is, readable, without claiming the format. */
      g_autoptr(GList) members = args ? json_object_get_members (args) : NULL;
      gboolean first = TRUE;

      for (GList *l = members; l; l = l->next)
        {
          JsonNode *value = json_object_get_member (args, l->data);

          if (!first)
            g_string_append_c (out, ' ');
          first = FALSE;
          g_string_append_printf (out, "%s=", (const char *) l->data);
          if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING)
            g_string_append (out, json_node_get_string (value));
          else if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_INT64)
            g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (value));
          else
            g_string_append_c (out, '?');
        }
      result = IOV_TRACE_JSON_APPROX;
    }
  /* A newline inside the text would split the line in two for the parser. */
  for (char *p = memchr (out->str + start, '\n', out->len - start); p != NULL;
       p = memchr (p + 1, '\n', out->str + out->len - (p + 1)))
    *p = ' ';
  return result;
}

/**
 * iov_trace_json_render_line:
 * @catalog: (nullable): the catalogue to take formats from
 * @how: (out) (optional): how exact the line is
 */
gboolean
iov_trace_json_render_line (const IovTraceCatalog *catalog,
                            JsonObject            *event,
                            GString               *out,
                            IovTraceJsonRender    *how)
{
  const char *name;
  IovTraceJsonRender result;

  g_return_val_if_fail (event != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  name = get_string (event, "name");
  if (!valid_name (name))
    return FALSE;
  append_prefix (out, event);
  result = append_body (catalog, event, name, out);
  g_string_append_c (out, '\n');
  if (how)
    *how = result;
  return TRUE;
}

gboolean
iov_trace_json_append_line (const IovTraceCatalog *catalog,
                            JsonObject            *event,
                            GString               *text,
                            IovTraceJsonLine      *out,
                            IovTraceJsonRender    *how)
{
  const char *name;
  guint64 ts_ns, tid;
  IovTraceJsonRender result;

  g_return_val_if_fail (event != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  name = get_string (event, "name");
  if (!valid_name (name))
    return FALSE;
  memset (out, 0, sizeof *out);
  out->event_id = -1;
  out->name_off = text->len;
  out->name_len = strlen (name);
  result = append_body (catalog, event, name, text);
  out->args_off = out->name_off + out->name_len + 1;
  out->args_len = text->len - out->args_off;
  /* the parser takes a line's "\r" for the end of a CRLF line */
  if (out->args_len > 0 && text->str[text->len - 1] == '\r')
    out->args_len--;
  if (how)
    *how = result;

  /* What the parser reads from the prefix append_prefix() would print:
   * times to the microsecond, as QEMU prints them. */
  if (get_uint (event, "ts_ns", &ts_ns))
    {
      out->has_ts = TRUE;
      out->sec = ts_ns / G_GUINT64_CONSTANT (1000000000);
      out->usec = (ts_ns % G_GUINT64_CONSTANT (1000000000)) / 1000;
      out->ts_ns = out->sec * G_GUINT64_CONSTANT (1000000000) + (guint64) out->usec * 1000;
      if (get_uint (event, "tid", &tid))
        {
          /* "TID@SEC.USEC:name": any name is an event, known or not */
          out->prefix = IOV_TRACE_PREFIX_TID;
          if (tid > G_MAXUINT32)
            {
              memset (out, 0, sizeof *out);
              out->event_id = -1;
              out->prefix = IOV_TRACE_PREFIX_TID;
              out->kind = IOV_TRACE_LINE_MALFORMED;
              return TRUE;
            }
          out->has_tid = TRUE;
          out->tid = tid;
          out->event_id = catalog ? iov_trace_catalog_lookup (catalog, name, out->name_len) : -1;
          out->kind = IOV_TRACE_LINE_EVENT;
          return TRUE;
        }
      out->prefix = IOV_TRACE_PREFIX_ISO;
    }
  /* Without a "TID@" prefix only a known event is one. */
  out->event_id = catalog ? iov_trace_catalog_lookup (catalog, name, out->name_len) : -1;
  if (out->event_id < 0 || !iov_trace_catalog_is_known (catalog, out->event_id))
    {
      out->event_id = -1;
      out->kind = IOV_TRACE_LINE_OTHER;
    }
  else
    out->kind = IOV_TRACE_LINE_EVENT;
  return TRUE;
}

void
iov_trace_json_line_get (const IovTraceJsonLine *line,
                         const char             *text,
                         IovTraceLine           *out)
{
  memset (out, 0, sizeof *out);
  out->kind = line->kind;
  out->prefix = line->prefix;
  out->has_ts = line->has_ts;
  out->has_tid = line->has_tid;
  out->tid = line->tid;
  out->sec = line->sec;
  out->usec = line->usec;
  out->ts_ns = line->ts_ns;
  out->event_id = line->event_id;
  if (line->kind != IOV_TRACE_LINE_EVENT)
    return;
  out->name = text + line->name_off;
  out->name_len = line->name_len;
  out->args = text + line->args_off;
  out->args_len = line->args_len;
}
