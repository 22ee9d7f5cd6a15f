/* iov-trace-events.c
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

#define G_LOG_DOMAIN "iov-trace-events"

#include "config.h"

#include <string.h>

#include "iov-types.h"
#include "iov-trace-events-private.h"

/* A trace-events line reads
 *
 *   [disable|vcpu|tcg ...] name(type arg, ...) "fmt" PRIx64 "fmt…"
 *
 * The format is split into conversions, each preceded by the literal text
 * that comes before it, plus a trailing literal.  Decoding walks the
 * printed text against that list; rendering walks it the other way. */

enum
{
  CONV_MINUS = 1 << 0,
  CONV_PLUS  = 1 << 1,
  CONV_SPACE = 1 << 2,
  CONV_ALT   = 1 << 3,
  CONV_ZERO  = 1 << 4,
  CONV_UPPER = 1 << 5,
};

typedef struct
{
  guint32 lit_off;     /* literal before the conversion, in self->pool */
  guint32 lit_len;
  guint32 name_off;    /* argument name in self->pool */
  guint8  kind;        /* IovTraceArgKind */
  guint8  flags;
  gint16  width;       /* -1: none */
  gint16  precision;   /* -1: none */
  guint8  hex_prefix;  /* the literal ends in "0x": include it in the text */
} Conv;

typedef struct
{
  guint32 name_off;
  guint32 name_len;
  guint32 format_off;  /* the C format after macro expansion, for display */
  guint32 conv_first;
  guint32 n_conv;
  guint32 tail_off;    /* literal after the last conversion */
  guint32 tail_len;
  guint   known : 1;
  guint   decodable : 1;
} Event;

struct _IovTraceCatalog
{
  GString *pool;       /* all names, literals and formats */
  GArray  *events;     /* Event */
  GArray  *convs;      /* Conv */
  guint32 *table;      /* open addressing, event id + 1, 0 = empty */
  guint    table_mask;
  guint    n_known;
  char    *source;
};

static inline guint32
hash_name (const char *name,
           gsize       len)
{
  guint32 h = IOV_TRACE_HASH_SEED;

  for (gsize i = 0; i < len; i++)
    h = iov_trace_hash_step (h, name[i]);
  return h;
}

static void
table_insert (IovTraceCatalog *self,
              guint            id)
{
  const Event *ev = &g_array_index (self->events, Event, id);
  guint32 i = hash_name (self->pool->str + ev->name_off, ev->name_len) & self->table_mask;

  while (self->table[i] != 0)
    i = (i + 1) & self->table_mask;
  self->table[i] = id + 1;
}

static void
table_grow (IovTraceCatalog *self)
{
  guint size = self->table_mask + 1;

  if (self->events->len * 2 < size)
    return;
  while (self->events->len * 2 >= size)
    size *= 2;
  g_free (self->table);
  self->table = g_new0 (guint32, size);
  self->table_mask = size - 1;
  for (guint id = 0; id < self->events->len; id++)
    table_insert (self, id);
}

int
_iov_trace_catalog_lookup_hashed (const IovTraceCatalog *self,
                                  const char            *name,
                                  gsize                  len,
                                  guint32                hash)
{
  guint32 i = hash & self->table_mask;

  for (;;)
    {
      guint32 slot = self->table[i];
      const Event *ev;

      if (slot == 0)
        return -1;
      ev = &g_array_index (self->events, Event, slot - 1);
      if (ev->name_len == len && memcmp (self->pool->str + ev->name_off, name, len) == 0)
        return (int) slot - 1;
      i = (i + 1) & self->table_mask;
    }
}

int
iov_trace_catalog_lookup (const IovTraceCatalog *self,
                          const char            *name,
                          gsize                  len)
{
  g_return_val_if_fail (self != NULL, -1);

  return _iov_trace_catalog_lookup_hashed (self, name, len, hash_name (name, len));
}

static guint32
pool_add (IovTraceCatalog *self,
          const char      *text,
          gsize            len)
{
  guint32 off = self->pool->len;

  g_string_append_len (self->pool, text, len);
  g_string_append_c (self->pool, '\0');
  return off;
}

static IovTraceCatalog *
catalog_new (const char *source)
{
  IovTraceCatalog *self = g_new0 (IovTraceCatalog, 1);

  self->pool = g_string_sized_new (4096);
  g_string_append_c (self->pool, '\0');  /* offset 0 is "" */
  self->events = g_array_new (FALSE, TRUE, sizeof (Event));
  self->convs = g_array_new (FALSE, TRUE, sizeof (Conv));
  self->table_mask = 255;
  self->table = g_new0 (guint32, self->table_mask + 1);
  self->source = g_strdup (source);
  return self;
}

void
iov_trace_catalog_free (IovTraceCatalog *self)
{
  if (self == NULL)
    return;
  g_string_free (self->pool, TRUE);
  g_array_unref (self->events);
  g_array_unref (self->convs);
  g_free (self->table);
  g_free (self->source);
  g_free (self);
}

static inline gboolean
is_ident_char (char c)
{
  return g_ascii_isalnum (c) || c == '_';
}

/* Expands a PRI macro to a conversion: "PRIx64" → "llx".  Returns FALSE for
 * any other identifier. */
static gboolean
expand_pri (const char *ident,
            gsize       len,
            GString    *out)
{
  if (len < 4 || strncmp (ident, "PRI", 3) != 0 || !strchr ("diouxX", ident[3]))
    return FALSE;
  g_string_append (out, "ll");
  g_string_append_c (out, ident[3]);
  return TRUE;
}

/* Concatenates the string literals and PRI macros after the prototype. */
static gboolean
parse_format_tokens (const char *p,
                     const char *end,
                     GString    *fmt)
{
  while (p < end)
    {
      if (g_ascii_isspace (*p))
        p++;
      else if (*p == '"')
        {
          p++;
          while (p < end && *p != '"')
            {
              if (*p == '\\' && p + 1 < end)
                {
                  p++;
                  switch (*p)
                    {
                    case 'n': g_string_append_c (fmt, '\n'); break;
                    case 't': g_string_append_c (fmt, '\t'); break;
                    default: g_string_append_c (fmt, *p); break;
                    }
                  p++;
                }
              else
                g_string_append_c (fmt, *p++);
            }
          if (p >= end)
            return FALSE;
          p++;
        }
      else if (is_ident_char (*p))
        {
          const char *start = p;

          while (p < end && is_ident_char (*p))
            p++;
          if (!expand_pri (start, p - start, fmt))
            return FALSE;
        }
      else
        return FALSE;
    }
  return TRUE;
}

static const char *
param_name (const char *p,
            const char *end,
            gsize      *len)
{
  const char *q;

  while (end > p && g_ascii_isspace (end[-1]))
    end--;
  q = end;
  while (q > p && is_ident_char (q[-1]))
    q--;
  *len = end - q;
  return q;
}

static void
add_event (IovTraceCatalog *self,
           const char      *name,
           gsize            name_len,
           const char      *params,
           gsize            params_len,
           const char      *format,
           gboolean         format_ok)
{
  Event ev = { 0 };
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *p = format;
  GString *lit = g_string_new (NULL);
  gboolean ok = format_ok;

  if (iov_trace_catalog_lookup (self, name, name_len) >= 0)
    {
      g_string_free (lit, TRUE);
      return;
    }

  /* Parameter names, in order. */
  {
    const char *q = params, *end = params + params_len;

    while (q < end)
      {
        const char *comma = memchr (q, ',', end - q);
        const char *stop = comma ? comma : end;
        gsize nlen;
        const char *n = param_name (q, stop, &nlen);

        if (nlen > 0 && !(nlen == 4 && memcmp (n, "void", 4) == 0 && names->len == 0 && comma == NULL))
          g_ptr_array_add (names, g_strndup (n, nlen));
        q = comma ? comma + 1 : end;
      }
  }

  ev.name_off = pool_add (self, name, name_len);
  ev.name_len = name_len;
  ev.format_off = pool_add (self, format, strlen (format));
  ev.conv_first = self->convs->len;
  ev.known = TRUE;

  while (*p)
    {
      Conv conv = { 0 };
      char c;

      if (*p != '%')
        {
          g_string_append_c (lit, *p++);
          continue;
        }
      p++;
      if (*p == '%')
        {
          g_string_append_c (lit, *p++);
          continue;
        }
      for (;; p++)
        {
          if (*p == '-') conv.flags |= CONV_MINUS;
          else if (*p == '+') conv.flags |= CONV_PLUS;
          else if (*p == ' ') conv.flags |= CONV_SPACE;
          else if (*p == '#') conv.flags |= CONV_ALT;
          else if (*p == '0') conv.flags |= CONV_ZERO;
          else break;
        }
      conv.width = -1;
      conv.precision = -1;
      if (*p == '*')
        {
          ok = FALSE;
          p++;
        }
      else if (g_ascii_isdigit (*p))
        {
          conv.width = 0;
          while (g_ascii_isdigit (*p))
            {
              conv.width = MIN (conv.width * 10 + (*p - '0'), 4096);
              p++;
            }
        }
      if (*p == '.')
        {
          p++;
          conv.precision = 0;
          if (*p == '*')
            {
              ok = FALSE;
              p++;
            }
          while (g_ascii_isdigit (*p))
            {
              conv.precision = MIN (conv.precision * 10 + (*p - '0'), 4096);
              p++;
            }
        }
      while (*p && strchr ("hlzjtLq", *p))
        p++;
      c = *p;
      if (c == '\0')
        {
          ok = FALSE;
          break;
        }
      p++;
      switch (c)
        {
        case 'x': conv.kind = IOV_TRACE_ARG_HEX; break;
        case 'X': conv.kind = IOV_TRACE_ARG_HEX; conv.flags |= CONV_UPPER; break;
        case 'u': conv.kind = IOV_TRACE_ARG_UNSIGNED; break;
        case 'd': case 'i': conv.kind = IOV_TRACE_ARG_SIGNED; break;
        case 'o': conv.kind = IOV_TRACE_ARG_OCTAL; break;
        case 'p': conv.kind = IOV_TRACE_ARG_POINTER; break;
        case 'c': conv.kind = IOV_TRACE_ARG_CHAR; break;
        case 's': conv.kind = IOV_TRACE_ARG_STRING; break;
        case 'f': case 'F': case 'g': case 'G': case 'e': case 'E': case 'a': case 'A':
          conv.kind = IOV_TRACE_ARG_FLOAT; break;
        default:
          ok = FALSE;
          conv.kind = IOV_TRACE_ARG_STRING;
          break;
        }
      conv.hex_prefix = conv.kind == IOV_TRACE_ARG_HEX && !(conv.flags & CONV_ALT) &&
                        lit->len >= 2 && g_ascii_strcasecmp (lit->str + lit->len - 2, "0x") == 0;
      if (conv.hex_prefix)
        g_string_truncate (lit, lit->len - 2);
      conv.lit_off = pool_add (self, lit->str, lit->len);
      conv.lit_len = lit->len;
      g_string_truncate (lit, 0);
      g_array_append_val (self->convs, conv);
      ev.n_conv++;
    }

  ev.tail_off = pool_add (self, lit->str, lit->len);
  ev.tail_len = lit->len;
  g_string_free (lit, TRUE);

  /* Name the conversions after the parameters when they pair up. */
  for (guint i = 0; i < ev.n_conv; i++)
    {
      Conv *conv = &g_array_index (self->convs, Conv, ev.conv_first + i);
      g_autofree char *fallback = NULL;
      const char *n;

      if (names->len == ev.n_conv)
        n = g_ptr_array_index (names, i);
      else
        n = fallback = g_strdup_printf ("arg%u", i);
      conv->name_off = pool_add (self, n, strlen (n));
    }

  ev.decodable = ok;
  g_array_append_val (self->events, ev);
  self->n_known++;
  table_grow (self);
  table_insert (self, self->events->len - 1);
}

/* Parses one trace-events line; comments, blank and odd lines are skipped. */
static void
parse_trace_events_line (IovTraceCatalog *self,
                         const char      *line,
                         gsize            len)
{
  const char *end = line + len;
  const char *open, *close, *name, *name_end;
  g_autoptr(GString) fmt = NULL;
  gboolean decodable;

  while (line < end && g_ascii_isspace (*line))
    line++;
  if (line == end || *line == '#')
    return;
  open = memchr (line, '(', end - line);
  if (open == NULL)
    return;
  name_end = open;
  while (name_end > line && g_ascii_isspace (name_end[-1]))
    name_end--;
  name = name_end;
  while (name > line && is_ident_char (name[-1]))
    name--;
  if (name == name_end || g_ascii_isdigit (*name))
    return;
  close = memchr (open, ')', end - open);
  if (close == NULL)
    return;
  fmt = g_string_new (NULL);
  /* An event whose format cannot be read is still a known name. */
  decodable = parse_format_tokens (close + 1, end, fmt);
  if (!decodable)
    g_string_truncate (fmt, 0);
  add_event (self, name, name_end - name, open + 1, close - open - 1, fmt->str, decodable);
}

static void
parse_trace_events_data (IovTraceCatalog *self,
                         const char      *data,
                         gsize            len)
{
  const char *p = data, *end = data + len;

  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *stop = nl ? nl : end;

      parse_trace_events_line (self, p, stop - p);
      p = nl ? nl + 1 : end;
    }
}

IovTraceCatalog *
iov_trace_catalog_new_builtin (void)
{
  IovTraceCatalog *self = catalog_new ("built-in");

  for (guint i = 0; iov_trace_events_builtin[i] != NULL; i++)
    parse_trace_events_line (self, iov_trace_events_builtin[i], strlen (iov_trace_events_builtin[i]));
  return self;
}

IovTraceCatalog *
iov_trace_catalog_new_from_data (const char  *data,
                                 gssize       len,
                                 GError     **error)
{
  IovTraceCatalog *self;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len < 0)
    len = strlen (data);
  self = catalog_new ("data");
  parse_trace_events_data (self, data, len);
  if (self->n_known == 0)
    {
      g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, "no trace event definitions found");
      iov_trace_catalog_free (self);
      return NULL;
    }
  return self;
}

IovTraceCatalog *
iov_trace_catalog_new_from_file (const char  *path,
                                 GError     **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  IovTraceCatalog *self;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  self = catalog_new (path);
  parse_trace_events_data (self, data, len);
  if (self->n_known == 0)
    {
      g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID,
                   "%s: no trace event definitions found", path);
      iov_trace_catalog_free (self);
      return NULL;
    }
  return self;
}

/* @path if given, else QEMU's installed file when present, else the
 * built-in table. */
IovTraceCatalog *
iov_trace_catalog_new_default (const char  *path,
                               GError     **error)
{
  if (path != NULL)
    return iov_trace_catalog_new_from_file (path, error);
  if (g_file_test (IOV_TRACE_EVENTS_ALL_PATH, G_FILE_TEST_IS_REGULAR))
    {
      IovTraceCatalog *self = iov_trace_catalog_new_from_file (IOV_TRACE_EVENTS_ALL_PATH, NULL);

      /* The installed QEMU may be older than the one traced: the built-in
       * events it lacks are added (its own definitions win). */
      if (self != NULL)
        {
          for (guint i = 0; iov_trace_events_builtin[i] != NULL; i++)
            parse_trace_events_line (self, iov_trace_events_builtin[i], strlen (iov_trace_events_builtin[i]));
          return self;
        }
    }
  return iov_trace_catalog_new_builtin ();
}

guint
iov_trace_catalog_get_n_events (const IovTraceCatalog *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->events->len;
}

guint
iov_trace_catalog_get_n_known (const IovTraceCatalog *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_known;
}

const char *
iov_trace_catalog_get_source (const IovTraceCatalog *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->source;
}

/* Adds @name as an unknown event (kept by name, arguments raw) unless it
 * is already there; returns its id. */
guint
iov_trace_catalog_intern (IovTraceCatalog *self,
                          const char      *name,
                          gsize            len)
{
  Event ev = { 0 };
  int id;

  g_return_val_if_fail (self != NULL, 0);

  id = iov_trace_catalog_lookup (self, name, len);
  if (id >= 0)
    return id;
  ev.name_off = pool_add (self, name, len);
  ev.name_len = len;
  ev.conv_first = self->convs->len;
  g_array_append_val (self->events, ev);
  table_grow (self);
  table_insert (self, self->events->len - 1);
  return self->events->len - 1;
}

const char *
iov_trace_catalog_get_name (const IovTraceCatalog *self,
                            guint                  id)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (id < self->events->len, NULL);
  return self->pool->str + g_array_index (self->events, Event, id).name_off;
}

gboolean
iov_trace_catalog_is_known (const IovTraceCatalog *self,
                            guint                  id)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return id < self->events->len && g_array_index (self->events, Event, id).known;
}

const char *
iov_trace_catalog_get_format (const IovTraceCatalog *self,
                              guint                  id)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (id < self->events->len, NULL);
  return self->pool->str + g_array_index (self->events, Event, id).format_off;
}

guint
iov_trace_catalog_get_n_args (const IovTraceCatalog *self,
                              guint                  id)
{
  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (id < self->events->len, 0);
  return g_array_index (self->events, Event, id).n_conv;
}

gboolean
iov_trace_catalog_get_arg (const IovTraceCatalog  *self,
                           guint                   id,
                           guint                   index,
                           const char            **name,
                           IovTraceArgKind        *kind)
{
  const Event *ev;
  const Conv *conv;

  g_return_val_if_fail (self != NULL, FALSE);
  if (id >= self->events->len)
    return FALSE;
  ev = &g_array_index (self->events, Event, id);
  if (index >= ev->n_conv)
    return FALSE;
  conv = &g_array_index (self->convs, Conv, ev->conv_first + index);
  if (name)
    *name = self->pool->str + conv->name_off;
  if (kind)
    *kind = conv->kind;
  return TRUE;
}

/* Literals are short: an inline loop beats a memcmp call. */
static inline gboolean
bytes_equal (const char *a,
             const char *b,
             gsize       n)
{
  if (n > 16)
    return memcmp (a, b, n) == 0;
  for (gsize i = 0; i < n; i++)
    if (a[i] != b[i])
      return FALSE;
  return TRUE;
}

static inline int
hex_digit (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* Renders @value like printf would for @conv, without any "0x" literal. */
static gsize
format_int (const Conv *conv,
            guint64     value,
            char        buf[96])
{
  char digits[72];
  int n = 0, len = 0, width, precision, pad;
  gboolean neg = FALSE;
  const char *hexd = (conv->flags & CONV_UPPER) ? "0123456789ABCDEF" : "0123456789abcdef";
  const char *sign = "";
  guint base = 10;

  switch ((IovTraceArgKind) conv->kind)
    {
    case IOV_TRACE_ARG_HEX: base = 16; break;
    case IOV_TRACE_ARG_OCTAL: base = 8; break;
    case IOV_TRACE_ARG_SIGNED:
      if ((gint64) value < 0)
        {
          neg = TRUE;
          value = -value;
        }
      break;
    case IOV_TRACE_ARG_POINTER:
      if (value == 0)
        {
          memcpy (buf, "(nil)", 5);
          return 5;
        }
      base = 16;
      break;
    case IOV_TRACE_ARG_UNSIGNED:
    case IOV_TRACE_ARG_CHAR:
    case IOV_TRACE_ARG_STRING:
    case IOV_TRACE_ARG_FLOAT:
    default:
      break;
    }
  if (value == 0 && conv->precision != 0)
    digits[n++] = '0';
  while (value != 0)
    {
      digits[n++] = hexd[value % base];
      value /= base;
    }
  if (conv->kind == IOV_TRACE_ARG_SIGNED)
    sign = neg ? "-" : (conv->flags & CONV_PLUS) ? "+" : (conv->flags & CONV_SPACE) ? " " : "";
  if (conv->kind == IOV_TRACE_ARG_POINTER || ((conv->flags & CONV_ALT) && base == 16 && n > 0 && !(n == 1 && digits[0] == '0')))
    sign = (conv->flags & CONV_UPPER) ? "0X" : "0x";
  precision = MAX (conv->precision, n);
  width = MIN ((int) conv->width, 90);
  pad = width - precision - (int) strlen (sign);
  if (pad > 0 && !(conv->flags & CONV_MINUS) && !((conv->flags & CONV_ZERO) && conv->precision < 0))
    {
      memset (buf, ' ', pad);
      len += pad;
      pad = 0;
    }
  for (const char *s = sign; *s; s++)
    buf[len++] = *s;
  if (pad > 0 && !(conv->flags & CONV_MINUS))
    {
      memset (buf + len, '0', pad);
      len += pad;
      pad = 0;
    }
  for (int i = n; i < precision && len < 90; i++)
    buf[len++] = '0';
  while (n > 0 && len < 95)
    buf[len++] = digits[--n];
  if (pad > 0)
    {
      pad = MIN (pad, 95 - len);
      memset (buf + len, ' ', pad);
      len += pad;
    }
  return len;
}

/* Decodes the argument text of event @id.  On success fills @out (room for
 * IOV_TRACE_MAX_ARGS) and @n_out; FALSE when the text does not match the
 * format (unknown events never decode). */
gboolean
iov_trace_catalog_decode (const IovTraceCatalog *self,
                          guint                  id,
                          const char            *args,
                          gsize                  len,
                          IovTraceArg           *out,
                          guint                 *n_out)
{
  const Event *ev;
  const char *p = args, *end = args + len;

  g_return_val_if_fail (self != NULL, FALSE);

  *n_out = 0;
  if (id >= self->events->len)
    return FALSE;
  ev = &g_array_index (self->events, Event, id);
  if (!ev->known || !ev->decodable || ev->n_conv > IOV_TRACE_MAX_ARGS)
    return FALSE;

  for (guint i = 0; i < ev->n_conv; i++)
    {
      const Conv *conv = &g_array_index (self->convs, Conv, ev->conv_first + i);
      const char *lit = self->pool->str + conv->lit_off;
      IovTraceArg *arg = &out[i];
      const char *start;

      if ((gsize) (end - p) < conv->lit_len || !bytes_equal (p, lit, conv->lit_len))
        return FALSE;
      p += conv->lit_len;
      arg->name = self->pool->str + conv->name_off;
      arg->kind = conv->kind;
      arg->value = 0;
      start = p;

      switch ((IovTraceArgKind) conv->kind)
        {
        case IOV_TRACE_ARG_HEX:
        case IOV_TRACE_ARG_UNSIGNED:
        case IOV_TRACE_ARG_SIGNED:
        case IOV_TRACE_ARG_OCTAL:
        case IOV_TRACE_ARG_POINTER:
          {
            guint base = conv->kind == IOV_TRACE_ARG_HEX ? 16 : conv->kind == IOV_TRACE_ARG_OCTAL ? 8 : 10;
            gboolean neg = FALSE;
            guint64 v = 0;
            const char *digits;

            if (conv->hex_prefix)
              {
                if (end - p < 2 || p[0] != '0' || (p[1] | 0x20) != 'x')
                  return FALSE;
                p += 2;
              }
            while (p < end && *p == ' ' && conv->width > 0)
              p++;
            if (conv->kind == IOV_TRACE_ARG_POINTER)
              {
                if (end - p >= 5 && memcmp (p, "(nil)", 5) == 0)
                  {
                    p += 5;
                    goto int_done;
                  }
                if (end - p < 2 || p[0] != '0' || p[1] != 'x')
                  return FALSE;
                p += 2;
                base = 16;
              }
            else if ((conv->flags & CONV_ALT) && base == 16 && end - p >= 2 && p[0] == '0' && (p[1] | 0x20) == 'x')
              p += 2;
            if (conv->kind == IOV_TRACE_ARG_SIGNED && p < end && (*p == '-' || *p == '+'))
              neg = *p++ == '-';
            digits = p;
            if (base == 16)
              {
                int d;

                while (p < end && (d = hex_digit (*p)) >= 0)
                  {
                    if (v >> 60)
                      return FALSE;
                    v = (v << 4) | d;
                    p++;
                  }
              }
            else
              {
                while (p < end && *p >= '0' && *p < (char) ('0' + base))
                  {
                    guint64 nv = v * base + (guint64) (*p - '0');

                    if (v > G_MAXUINT64 / base || nv < v * base)
                      return FALSE;
                    v = nv;
                    p++;
                  }
              }
            if (p == digits)
              return FALSE;
            if (neg)
              v = -v;
          int_done:
            arg->value = v;
            if (conv->flags & CONV_MINUS)
              while (p < end && *p == ' ' && p - start < conv->width)
                p++;
          }
          break;

        case IOV_TRACE_ARG_CHAR:
          if (p >= end)
            return FALSE;
          arg->value = (guchar) *p++;
          break;

        case IOV_TRACE_ARG_FLOAT:
          while (p < end && (g_ascii_isalnum (*p) || *p == '.' || *p == '-' || *p == '+'))
            p++;
          if (p == start)
            return FALSE;
          break;

        case IOV_TRACE_ARG_STRING:
        default:
          {
            const char *next;
            gsize next_len;

            if (i + 1 < ev->n_conv)
              {
                const Conv *nc = &g_array_index (self->convs, Conv, ev->conv_first + i + 1);

                next = self->pool->str + nc->lit_off;
                next_len = nc->lit_len;
                if (nc->hex_prefix && next_len == 0)
                  {
                    next = "0x";
                    next_len = 2;
                  }
              }
            else
              {
                next = self->pool->str + ev->tail_off;
                next_len = ev->tail_len;
              }
            if (next_len == 0)
              {
                if (i + 1 < ev->n_conv)
                  return FALSE;  /* two conversions back to back */
                p = end;
              }
            else if (i + 1 == ev->n_conv)
              {
                /* The tail literal ends the text. */
                if ((gsize) (end - p) < next_len || memcmp (end - next_len, next, next_len) != 0)
                  return FALSE;
                p = end - next_len;
              }
            else
              {
                const char *q = p;

                for (;;)
                  {
                    q = memchr (q, next[0], end - q);
                    if (q == NULL || (gsize) (end - q) < next_len)
                      return FALSE;
                    if (memcmp (q, next, next_len) == 0)
                      break;
                    q++;
                  }
                p = q;
              }
          }
          break;
        }

      arg->text = start;
      arg->len = p - start;
    }

  if ((gsize) (end - p) != ev->tail_len || !bytes_equal (p, self->pool->str + ev->tail_off, ev->tail_len))
    return FALSE;
  *n_out = ev->n_conv;
  return TRUE;
}

/* TRUE when rendering @arg (decoded from event @id) from its value gives
 * back exactly its text, so the value alone can be stored.  Strings,
 * characters and floats are never canonical: their text is the value. */
gboolean
iov_trace_catalog_arg_is_canonical (const IovTraceCatalog *self,
                                    guint                  id,
                                    guint                  index,
                                    const IovTraceArg     *arg)
{
  const Event *ev;
  const Conv *conv;
  const char *text = arg->text;
  gsize len = arg->len;
  char buf[96];

  g_return_val_if_fail (self != NULL, FALSE);

  if (id >= self->events->len)
    return FALSE;
  ev = &g_array_index (self->events, Event, id);
  if (index >= ev->n_conv)
    return FALSE;
  conv = &g_array_index (self->convs, Conv, ev->conv_first + index);
  switch ((IovTraceArgKind) conv->kind)
    {
    case IOV_TRACE_ARG_HEX:
    case IOV_TRACE_ARG_UNSIGNED:
    case IOV_TRACE_ARG_SIGNED:
    case IOV_TRACE_ARG_OCTAL:
    case IOV_TRACE_ARG_POINTER:
      break;
    case IOV_TRACE_ARG_CHAR:
    case IOV_TRACE_ARG_STRING:
    case IOV_TRACE_ARG_FLOAT:
    default:
      return FALSE;
    }
  if (conv->hex_prefix)
    {
      if (len < 2 || text[0] != '0' || text[1] != 'x')
        return FALSE;
      text += 2;
      len -= 2;
    }
  /* Plain %x / %u / %d: the shortest spelling, lowercase, no leading zero. */
  if (conv->width < 0 && conv->precision < 0 && (conv->flags & ~CONV_UPPER) == 0 &&
      conv->kind != IOV_TRACE_ARG_POINTER && conv->kind != IOV_TRACE_ARG_OCTAL)
    {
      if (conv->kind == IOV_TRACE_ARG_SIGNED && len > 0 && text[0] == '-')
        {
          if ((gint64) arg->value >= 0)
            return FALSE;
          text++;
          len--;
        }
      else if (conv->kind == IOV_TRACE_ARG_SIGNED && (gint64) arg->value < 0)
        return FALSE;
      if (len == 0 || !g_ascii_isxdigit (text[0]) || (text[0] == '0' && len > 1))
        return FALSE;
      if (conv->kind == IOV_TRACE_ARG_HEX)
        for (gsize i = 0; i < len; i++)
          if (conv->flags & CONV_UPPER ? (text[i] >= 'a' && text[i] <= 'f') : (text[i] >= 'A' && text[i] <= 'F'))
            return FALSE;
      return TRUE;
    }
  return format_int (conv, arg->value, buf) == len && memcmp (buf, text, len) == 0;
}

/* Renders the argument text of event @id from decoded values, the inverse
 * of iov_trace_catalog_decode(): integers from @value, strings, characters
 * and floats from @text. */
void
iov_trace_catalog_render (const IovTraceCatalog *self,
                          guint                  id,
                          const IovTraceArg     *args,
                          guint                  n_args,
                          GString               *out)
{
  const Event *ev;

  g_return_if_fail (self != NULL);
  g_return_if_fail (id < self->events->len);

  ev = &g_array_index (self->events, Event, id);
  for (guint i = 0; i < ev->n_conv && i < n_args; i++)
    {
      const Conv *conv = &g_array_index (self->convs, Conv, ev->conv_first + i);
      char buf[96];

      g_string_append_len (out, self->pool->str + conv->lit_off, conv->lit_len);
      switch ((IovTraceArgKind) conv->kind)
        {
        case IOV_TRACE_ARG_HEX:
        case IOV_TRACE_ARG_UNSIGNED:
        case IOV_TRACE_ARG_SIGNED:
        case IOV_TRACE_ARG_OCTAL:
        case IOV_TRACE_ARG_POINTER:
          if (conv->hex_prefix)
            g_string_append (out, "0x");
          g_string_append_len (out, buf, format_int (conv, args[i].value, buf));
          break;
        case IOV_TRACE_ARG_CHAR:
        case IOV_TRACE_ARG_STRING:
        case IOV_TRACE_ARG_FLOAT:
        default:
          g_string_append_len (out, args[i].text, args[i].len);
          break;
        }
    }
  g_string_append_len (out, self->pool->str + ev->tail_off, ev->tail_len);
}

/* ---- rendering from the printed text ------------------------------------ */

/**
 * iov_trace_catalog_render_text:
 *
 * Renders the argument text of event @id from each argument's printed text
 * (@args[i].text/len, as iov_trace_catalog_decode() gives it, "0x" prefix
 * included), not from its value: the byte-exact inverse of decoding, for
 * text that went over the wire, whatever its spelling (widths, upper case,
 * leading zeros).  Returns FALSE, leaving @out alone, when the event cannot
 * be decoded or @n_args is not its number of arguments.
 */
gboolean
iov_trace_catalog_render_text (const IovTraceCatalog *self,
                               guint                  id,
                               const IovTraceArg     *args,
                               guint                  n_args,
                               GString               *out)
{
  const Event *ev;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (args != NULL || n_args == 0, FALSE);

  if (id >= self->events->len)
    return FALSE;
  ev = &g_array_index (self->events, Event, id);
  if (!ev->known || !ev->decodable || ev->n_conv != n_args)
    return FALSE;
  for (guint i = 0; i < ev->n_conv; i++)
    {
      const Conv *conv = &g_array_index (self->convs, Conv, ev->conv_first + i);

      g_string_append_len (out, self->pool->str + conv->lit_off, conv->lit_len);
      g_string_append_len (out, args[i].text, args[i].len);
    }
  g_string_append_len (out, self->pool->str + ev->tail_off, ev->tail_len);
  return TRUE;
}
