/* iov-types.c
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

#define G_LOG_DOMAIN "iov-types"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "iov-types.h"

G_DEFINE_QUARK (iov-error-quark, iov_error)

void
iov_hex_buf (guint64 value,
             char    buf[20])
{
  static const char digits[] = "0123456789abcdef";
  char tmp[16];
  int n = 0;

  /* Hand-rolled: this runs once per value in every JSON line we print. */
  do
    {
      tmp[n++] = digits[value & 0xf];
      value >>= 4;
    }
  while (value != 0);

  buf[0] = '0';
  buf[1] = 'x';
  for (int i = 0; i < n; i++)
    buf[2 + i] = tmp[n - 1 - i];
  buf[2 + n] = '\0';
}

char *
iov_hex (guint64 value)
{
  char buf[20];

  iov_hex_buf (value, buf);
  return g_strdup (buf);
}

gboolean
iov_parse_hex (const char *text,
               guint64    *value)
{
  guint64 v = 0;
  const char *p;

  if (text == NULL || text[0] != '0' || (text[1] != 'x' && text[1] != 'X') || text[2] == '\0')
    return FALSE;

  for (p = text + 2; *p; p++)
    {
      int d = g_ascii_xdigit_value (*p);

      if (d < 0)
        return FALSE;
      if (v >> 60)
        return FALSE; /* would overflow 64 bits */
      v = (v << 4) | (guint64) d;
    }

  *value = v;
  return TRUE;
}

const char *
iov_perm_to_string (IovPerm perm)
{
  switch (perm)
    {
    case IOV_PERM_NONE: return "none";
    case IOV_PERM_RO: return "ro";
    case IOV_PERM_WO: return "wo";
    case IOV_PERM_RW: return "rw";
    default: return "none";
    }
}

gboolean
iov_perm_from_string (const char *text,
                      IovPerm    *perm)
{
  static const char *names[] = { "none", "ro", "wo", "rw" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (text, names[i]) == 0)
      {
        *perm = (IovPerm) i;
        return TRUE;
      }
  return FALSE;
}

const char *
iov_event_type_to_string (IovNotifierFlags type)
{
  switch ((int) type)
    {
    case IOV_NOTIFIER_UNMAP: return "unmap";
    case IOV_NOTIFIER_MAP: return "map";
    case IOV_NOTIFIER_DEVIOTLB_UNMAP: return "deviotlb-unmap";
    default: return "none";
    }
}

gboolean
iov_event_type_from_string (const char       *text,
                            IovNotifierFlags *type)
{
  if (g_strcmp0 (text, "unmap") == 0)
    *type = IOV_NOTIFIER_UNMAP;
  else if (g_strcmp0 (text, "map") == 0)
    *type = IOV_NOTIFIER_MAP;
  else if (g_strcmp0 (text, "deviotlb-unmap") == 0)
    *type = IOV_NOTIFIER_DEVIOTLB_UNMAP;
  else
    return FALSE;
  return TRUE;
}

char *
iov_flags_to_string (guint flags)
{
  GString *s = g_string_new (NULL);

  if (flags & IOV_NOTIFIER_MAP)
    g_string_append (s, "map");
  if (flags & IOV_NOTIFIER_UNMAP)
    g_string_append_printf (s, "%sunmap", s->len ? "|" : "");
  if (flags & IOV_NOTIFIER_DEVIOTLB_UNMAP)
    g_string_append_printf (s, "%sdeviotlb-unmap", s->len ? "|" : "");
  if (s->len == 0)
    g_string_append (s, "none");
  return g_string_free (s, FALSE);
}

/**
 * iov_flags_from_string:
 * @text: what iov_flags_to_string() writes: "map", "unmap",
 *   "deviotlb-unmap" joined by "|", or "none"
 *
 * Returns: %TRUE and the flags in @flags, %FALSE (with @error naming the
 * word) when a word is not one of those.
 */
gboolean
iov_flags_from_string (const char  *text,
                       guint       *flags,
                       GError     **error)
{
  g_auto(GStrv) words = NULL;
  guint out = 0;

  if (text == NULL || *text == '\0')
    {
      g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, _("empty notifier flags"));
      return FALSE;
    }
  words = g_strsplit (text, "|", -1);
  for (guint i = 0; words[i]; i++)
    {
      if (g_str_equal (words[i], "map"))
        out |= IOV_NOTIFIER_MAP;
      else if (g_str_equal (words[i], "unmap"))
        out |= IOV_NOTIFIER_UNMAP;
      else if (g_str_equal (words[i], "deviotlb-unmap"))
        out |= IOV_NOTIFIER_DEVIOTLB_UNMAP;
      else if (!g_str_equal (words[i], "none") || words[1] != NULL)
        {
          g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID,
                       _("“%s” in notifier flags “%s” is not map, unmap, deviotlb-unmap or none"), words[i], text);
          return FALSE;
        }
    }
  *flags = out;
  return TRUE;
}

gboolean
iov_parse_bdf (const char *text,
               guint8     *bus,
               guint8     *devfn)
{
  unsigned b, d, f;
  char tail;

  if (text == NULL || sscanf (text, "%x:%x.%x%c", &b, &d, &f, &tail) != 3 || b > 0xff || d > 0x1f || f > 7)
    return FALSE;
  *bus = b;
  *devfn = (d << 3) | f;
  return TRUE;
}

/* Appends @text as a JSON string; invalid UTF-8 becomes U+FFFD. */
void
iov_json_append_string (GString    *out,
                        const char *text,
                        gsize       len)
{
  const char *p = text, *end = text + len;

  g_string_append_c (out, '"');
  while (p < end)
    {
      guchar c = *p;

      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\')
        {
          const char *q = p + 1;

          while (q < end && (guchar) *q >= 0x20 && (guchar) *q < 0x80 && *q != '"' && *q != '\\')
            q++;
          g_string_append_len (out, p, q - p);
          p = q;
        }
      else if (c < 0x80)
        {
          switch (c)
            {
            case '"': g_string_append (out, "\\\""); break;
            case '\\': g_string_append (out, "\\\\"); break;
            case '\n': g_string_append (out, "\\n"); break;
            case '\r': g_string_append (out, "\\r"); break;
            case '\t': g_string_append (out, "\\t"); break;
            default: g_string_append_printf (out, "\\u%04x", c); break;
            }
          p++;
        }
      else
        {
          gunichar u = g_utf8_get_char_validated (p, end - p);

          if (u == (gunichar) -1 || u == (gunichar) -2)
            {
              g_string_append (out, "\\ufffd");
              p++;
            }
          else
            {
              const char *q = g_utf8_next_char (p);

              g_string_append_len (out, p, q - p);
              p = q;
            }
        }
    }
  g_string_append_c (out, '"');
}

guint64
iov_pow2_floor (guint64 value)
{
  if (value == 0)
    return 0;
  return G_GUINT64_CONSTANT (1) << (63 - __builtin_clzll (value));
}
