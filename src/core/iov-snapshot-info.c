/* iov-snapshot-info.c — the snapshot JSON, read into types and written back
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

#define G_LOG_DOMAIN "iov-snapshot"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <stdarg.h>
#include <string.h>

#include "iov-snapshot-info.h"
#include "iov-types.h"

/* The reader checks every key it knows before anything is used: a key of
 * the wrong JSON type, a version, BDF or hex number that does not parse,
 * a notifier without its range, each end the reading with the JSON path
 * of what is wrong.  The writer writes what iov_snapshot_to_json() writes,
 * key for key, so a snapshot read and written back is the same JSON. */

#define QUOTE_MAX 48   /* bytes of a bad value shown in a message */

/* ---- freeing ------------------------------------------------------------ */

static void
device_free (IovSnapshotDevice *d)
{
  g_free (d->bdf);
  g_free (d->type);
  g_free (d->qom_path);
  g_free (d->vhost_source);
  g_free (d->netdev);
  g_free (d);
}

static void
space_free (IovSnapshotSpace *s)
{
  g_free (s->name);
  g_free (s->root);
  g_free (s->alias);
  g_free (s->device);
  g_strfreev (s->candidates);
  g_free (s);
}

static void
range_clear (IovSnapshotRange *r)
{
  g_free (r->kind);
  g_free (r->region);
}

static void
notifier_free (IovSnapshotNotifier *n)
{
  g_free (n->consumer);
  g_free (n->device);
  g_free (n->region);
  g_free (n->flags_source);
  g_free (n);
}

static void
address_space_free (IovSnapshotAddressSpace *as)
{
  g_ptr_array_unref (as->spaces);
  g_free (as->root_region);
  g_array_unref (as->flat_ranges);
  g_ptr_array_unref (as->notifiers);
  g_free (as);
}

static IovSnapshotAddressSpace *
address_space_new (void)
{
  IovSnapshotAddressSpace *as = g_new0 (IovSnapshotAddressSpace, 1);

  as->spaces = g_ptr_array_new_with_free_func ((GDestroyNotify) space_free);
  as->flat_ranges = g_array_new (FALSE, TRUE, sizeof (IovSnapshotRange));
  g_array_set_clear_func (as->flat_ranges, (GDestroyNotify) range_clear);
  as->notifiers = g_ptr_array_new_with_free_func ((GDestroyNotify) notifier_free);
  return as;
}

void
iov_snapshot_info_free (IovSnapshotInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->version);
  g_free (info->package);
  g_free (info->iommu_type);
  g_clear_pointer (&info->iommu_properties, json_object_unref);
  g_clear_pointer (&info->devices, g_ptr_array_unref);
  g_clear_pointer (&info->notes, g_ptr_array_unref);
  g_clear_pointer (&info->address_spaces, g_ptr_array_unref);
  g_free (info->mtree);
  g_free (info);
}

/* ---- values ------------------------------------------------------------- */

gboolean
iov_snapshot_parse_version (const char *text,
                            guint      *major,
                            guint      *minor,
                            guint      *micro)
{
  guint parts[3] = { 0, 0, 0 };
  guint n = 0;
  const char *p = text;

  if (text == NULL)
    return FALSE;
  for (;;)
    {
      guint v = 0;

      if (!g_ascii_isdigit (*p))
        return FALSE;
      for (; g_ascii_isdigit (*p); p++)
        {
          v = v * 10 + (guint) (*p - '0');
          if (v > 65535)
            return FALSE;
        }
      parts[n++] = v;
      if (*p == '\0')
        break;
      if (*p != '.' || n == 3)
        return FALSE;
      p++;
    }
  if (n < 2)
    return FALSE;
  *major = parts[0];
  *minor = parts[1];
  *micro = parts[2];
  return TRUE;
}

/* "BB:DD.F" with one or two hex digits for bus and device: the spelling
 * QEMU's traces and query-pci give, normalised to two. */
static char *
parse_bdf (const char *text)
{
  guint part[3] = { 0, 0, 0 };
  const char *p = text;
  static const char seps[] = { ':', '.', '\0' };

  for (guint i = 0; i < 3; i++)
    {
      guint digits = 0;

      for (; g_ascii_isxdigit (*p) && digits < 3; p++, digits++)
        part[i] = part[i] * 16 + (guint) g_ascii_xdigit_value (*p);
      if (digits == 0 || digits > (i < 2 ? 2u : 1u) || *p != seps[i])
        return NULL;
      if (i < 2)
        p++;
    }
  if (part[1] > 0x1f || part[2] > 7)
    return NULL;
  return g_strdup_printf ("%02x:%02x.%x", part[0], part[1], part[2]);
}

static gboolean
parse_role (const char   *text,
            IovRangeRole *role)
{
  for (int r = IOV_RANGE_ROLE_IO; r <= IOV_RANGE_ROLE_PASSTHROUGH; r++)
    if (g_str_equal (text, iov_range_role_to_string ((IovRangeRole) r)))
      {
        *role = (IovRangeRole) r;
        return TRUE;
      }
  return FALSE;
}

/* ---- reading: where, and what was wrong -------------------------------- */

/* A value as a message shows it: JSON text for scalars, cut short. */
static char *
describe (JsonNode *node)
{
  GString *s;

  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      return g_strdup (_("an object"));
    case JSON_NODE_ARRAY:
      return g_strdup (_("an array"));
    case JSON_NODE_NULL:
      return g_strdup ("null");
    case JSON_NODE_VALUE:
    default:
      break;
    }
  s = g_string_new (NULL);
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      {
        const char *text = json_node_get_string (node);
        gsize len = strlen (text);

        iov_json_append_string (s, text, MIN (len, QUOTE_MAX));
        if (len > QUOTE_MAX)
          g_string_insert (s, s->len - 1, "…");
      }
      break;
    case G_TYPE_BOOLEAN:
      g_string_append (s, json_node_get_boolean (node) ? "true" : "false");
      break;
    case G_TYPE_INT64:
      g_string_append_printf (s, "%" G_GINT64_FORMAT, json_node_get_int (node));
      break;
    case G_TYPE_DOUBLE:
      {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];

        g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.15g", json_node_get_double (node)));
      }
      break;
    default:
      g_string_append (s, _("a value"));
      break;
    }
  return g_string_free (s, FALSE);
}

static gboolean G_GNUC_PRINTF (3, 4)
fail (GError    **error,
      const char *path,
      const char *format,
      ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, "%s: %s", path, msg);
  return FALSE;
}

static gboolean
fail_type (GError    **error,
           const char *path,
           const char *expected,
           JsonNode   *found)
{
  g_autofree char *what = describe (found);

  return fail (error, path, _("expected %s, found %s"), expected, what);
}

static gboolean
fail_value (GError    **error,
            const char *path,
            JsonNode   *found,
            const char *is_not)
{
  g_autofree char *what = describe (found);

  return fail (error, path, _("%s is not %s"), what, is_not);
}

static char *
member_path (const char *parent,
             const char *key)
{
  return parent && *parent ? g_strconcat (parent, ".", key, NULL) : g_strdup (key);
}

enum
{
  OPTIONAL = 0,
  REQUIRED = 1 << 0,
};

/* @key of @obj; NULL (and TRUE) when absent or null and not required. */
static gboolean
member (JsonObject  *obj,
        const char  *parent,
        const char  *key,
        guint        flags,
        JsonNode   **out,
        GError     **error)
{
  JsonNode *node = json_object_get_member (obj, key);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (flags & REQUIRED)
        {
          g_autofree char *path = member_path (parent, key);

          return fail (error, path, node ? _("must not be null") : _("missing"));
        }
      return TRUE;
    }
  *out = node;
  return TRUE;
}

static gboolean
is_value (JsonNode *node,
          GType     type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

/* @key of @obj, a JSON value of @type; NULL (and TRUE) when absent or null
 * and not required.  @expected says what it should be, in a message. */
static gboolean
get_value (JsonObject  *obj,
           const char  *parent,
           const char  *key,
           guint        flags,
           GType        type,
           const char  *expected,
           JsonNode   **out,
           GError     **error)
{
  if (!member (obj, parent, key, flags, out, error))
    return FALSE;
  if (*out != NULL && !is_value (*out, type))
    {
      g_autofree char *path = member_path (parent, key);

      return fail_type (error, path, expected, *out);
    }
  return TRUE;
}

static gboolean
get_string (JsonObject  *obj,
            const char  *parent,
            const char  *key,
            guint        flags,
            char       **out,
            GError     **error)
{
  JsonNode *node;

  if (!get_value (obj, parent, key, flags, G_TYPE_STRING, _("a string"), &node, error))
    return FALSE;
  if (node != NULL && !g_utf8_validate (json_node_get_string (node), -1, NULL))
    {
      g_autofree char *path = member_path (parent, key);

      return fail_value (error, path, node, _("UTF-8 text"));
    }
  g_free (*out);
  *out = node ? g_strdup (json_node_get_string (node)) : NULL;
  return TRUE;
}

/* -1 when absent or null. */
static gboolean
get_bool (JsonObject  *obj,
          const char  *parent,
          const char  *key,
          int         *out,
          GError     **error)
{
  JsonNode *node;

  if (!get_value (obj, parent, key, OPTIONAL, G_TYPE_BOOLEAN, _("true, false or null"), &node, error))
    return FALSE;
  *out = node ? json_node_get_boolean (node) : -1;
  return TRUE;
}

/* A string that @parse turns into what @out keeps (or FALSE); @expected
 * says what it is in messages. */
static gboolean
get_parsed (JsonObject  *obj,
            const char  *parent,
            const char  *key,
            guint        flags,
            const char  *expected,
            gboolean   (*parse) (const char *text, gpointer out),
            gpointer     out,
            GError     **error)
{
  JsonNode *node;

  if (!get_value (obj, parent, key, flags, G_TYPE_STRING, expected, &node, error))
    return FALSE;
  if (node != NULL && !parse (json_node_get_string (node), out))
    {
      g_autofree char *path = member_path (parent, key);

      return fail_value (error, path, node, expected);
    }
  return TRUE;
}

static gboolean
parse_hex (const char *text,
           gpointer    out)
{
  return iov_parse_hex (text, out);
}

static gboolean
parse_bdf_into (const char *text,
                gpointer    out)
{
  return (*(char **) out = parse_bdf (text)) != NULL;
}

static gboolean
get_hex (JsonObject  *obj,
         const char  *parent,
         const char  *key,
         guint        flags,
         guint64     *out,
         GError     **error)
{
  return get_parsed (obj, parent, key, flags, _("a hex number"), parse_hex, out, error);
}

static gboolean
get_bdf (JsonObject  *obj,
         const char  *parent,
         const char  *key,
         guint        flags,
         char       **out,
         GError     **error)
{
  return get_parsed (obj, parent, key, flags, _("a PCI address (BUS:DEVICE.FUNCTION)"), parse_bdf_into, out, error);
}

static gboolean
get_container (JsonObject  *obj,
               const char  *parent,
               const char  *key,
               guint        flags,
               JsonNodeType type,
               JsonNode   **out,
               GError     **error)
{
  if (!member (obj, parent, key, flags, out, error))
    return FALSE;
  if (*out != NULL && JSON_NODE_TYPE (*out) != type)
    {
      g_autofree char *path = member_path (parent, key);

      return fail_type (error, path, type == JSON_NODE_ARRAY ? _("an array") : _("an object"), *out);
    }
  return TRUE;
}

/* The elements of the array @key, each an object. */
typedef gboolean (*ElementFunc) (JsonObject  *element,
                                 const char  *path,
                                 gpointer     target,
                                 GError     **error);

static gboolean
each_object (JsonObject  *obj,
             const char  *parent,
             const char  *key,
             guint        flags,
             ElementFunc  func,
             gpointer     target,
             GError     **error)
{
  g_autofree char *path = member_path (parent, key);
  JsonNode *node;
  JsonArray *array;

  if (!get_container (obj, parent, key, flags, JSON_NODE_ARRAY, &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *e = json_array_get_element (array, i);
      g_autofree char *epath = g_strdup_printf ("%s[%u]", path, i);

      if (!JSON_NODE_HOLDS_OBJECT (e))
        return fail_type (error, epath, _("an object"), e);
      if (!func (json_node_get_object (e), epath, target, error))
        return FALSE;
    }
  return TRUE;
}

/* The array @key of strings, each checked by @parse when given (it
 * returns the value to keep, or NULL when the string is not one). */
static gboolean
string_list (JsonObject  *obj,
             const char  *parent,
             const char  *key,
             char      *(*parse) (const char *),
             const char  *expected,
             GPtrArray  **out,
             GError     **error)
{
  g_autofree char *path = member_path (parent, key);
  g_autoptr(GPtrArray) list = NULL;
  JsonNode *node;
  JsonArray *array;

  if (!get_container (obj, parent, key, OPTIONAL, JSON_NODE_ARRAY, &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;
  array = json_node_get_array (node);
  list = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *e = json_array_get_element (array, i);
      g_autofree char *epath = g_strdup_printf ("%s[%u]", path, i);
      char *value;

      if (!is_value (e, G_TYPE_STRING))
        return fail_type (error, epath, expected, e);
      if (!g_utf8_validate (json_node_get_string (e), -1, NULL))
        return fail_value (error, epath, e, _("UTF-8 text"));
      value = parse ? parse (json_node_get_string (e)) : g_strdup (json_node_get_string (e));
      if (value == NULL)
        return fail_value (error, epath, e, expected);
      g_ptr_array_add (list, value);
    }
  *out = g_steal_pointer (&list);
  return TRUE;
}

/* Every name and string in @node is UTF-8: json-glib lets "\\201" (an
 * octal escape) through, and written back it would not be JSON. */
static gboolean
check_text (JsonNode    *node,
            const char  *path,
            GError     **error)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *obj = json_node_get_object (node);
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      json_object_iter_init (&iter, obj);
      while (json_object_iter_next (&iter, &name, &member))
        {
          g_autofree char *mpath = member_path (path, g_utf8_validate (name, -1, NULL) ? name : "?");

          if (!g_utf8_validate (name, -1, NULL))
            return fail (error, mpath, _("a name that is not UTF-8 text"));
          if (!check_text (member, mpath, error))
            return FALSE;
        }
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          g_autofree char *epath = g_strdup_printf ("%s[%u]", path, i);

          if (!check_text (json_array_get_element (array, i), epath, error))
            return FALSE;
        }
    }
  else if (is_value (node, G_TYPE_STRING) && !g_utf8_validate (json_node_get_string (node), -1, NULL))
    return fail_value (error, path, node, _("UTF-8 text"));
  return TRUE;
}

/* ---- reading: the parts ------------------------------------------------- */

static gboolean
read_qemu (IovSnapshotInfo  *info,
           JsonObject       *root,
           GError          **error)
{
  JsonNode *node;
  JsonObject *qemu;

  if (!get_container (root, NULL, "qemu", REQUIRED, JSON_NODE_OBJECT, &node, error))
    return FALSE;
  qemu = json_node_get_object (node);
  if (!get_string (qemu, "qemu", "version", REQUIRED, &info->version, error) ||
      !get_string (qemu, "qemu", "package", OPTIONAL, &info->package, error))
    return FALSE;
  if (!iov_snapshot_parse_version (info->version, &info->major, &info->minor, &info->micro))
    return fail_value (error, "qemu.version", json_object_get_member (qemu, "version"),
                       _("MAJOR.MINOR[.MICRO] with each part from 0 to 65535"));
  return TRUE;
}

static gboolean
read_iommu (IovSnapshotInfo  *info,
            JsonObject       *root,
            GError          **error)
{
  JsonNode *node, *props, *aw;
  JsonObject *iommu;

  if (!get_container (root, NULL, "iommu", OPTIONAL, JSON_NODE_OBJECT, &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;
  iommu = json_node_get_object (node);
  if (!get_string (iommu, "iommu", "type", OPTIONAL, &info->iommu_type, error) ||
      !get_container (iommu, "iommu", "properties", OPTIONAL, JSON_NODE_OBJECT, &props, error))
    return FALSE;
  if (props != NULL && !check_text (props, "iommu.properties", error))
    return FALSE;
  info->iommu_properties = props ? json_object_ref (json_node_get_object (props)) : json_object_new ();

  /* The inference splits unmaps by the address width: only QEMU's own. */
  if (!get_value (info->iommu_properties, "iommu.properties", "aw-bits", OPTIONAL, G_TYPE_INT64, _("an integer"), &aw, error))
    return FALSE;
  if (aw != NULL)
    {
      gint64 bits = json_node_get_int (aw);

      if (bits != 0 && (bits < 32 || bits > 64))
        return fail_value (error, "iommu.properties.aw-bits", aw, _("an address width QEMU accepts (32 to 64)"));
      info->aw_bits = (guint) bits;
    }
  return TRUE;
}

static gboolean
read_device (JsonObject  *obj,
             const char  *path,
             gpointer     target,
             GError     **error)
{
  IovSnapshotDevice *d = g_new0 (IovSnapshotDevice, 1);

  g_ptr_array_add (target, d);
  return get_bdf (obj, path, "bdf", REQUIRED, &d->bdf, error) &&
         get_string (obj, path, "type", OPTIONAL, &d->type, error) &&
         get_string (obj, path, "qom_path", OPTIONAL, &d->qom_path, error) &&
         get_bool (obj, path, "vhost", &d->vhost, error) &&
         get_string (obj, path, "vhost_source", OPTIONAL, &d->vhost_source, error) &&
         get_string (obj, path, "netdev", OPTIONAL, &d->netdev, error);
}

static gboolean
read_space (JsonObject  *obj,
            const char  *path,
            gpointer     target,
            GError     **error)
{
  IovSnapshotSpace *s = g_new0 (IovSnapshotSpace, 1);
  g_autoptr(GPtrArray) candidates = NULL;
  JsonNode *device;

  g_ptr_array_add (target, s);
  if (!get_string (obj, path, "name", REQUIRED, &s->name, error) ||
      !get_string (obj, path, "root", REQUIRED, &s->root, error) ||
      !get_string (obj, path, "alias", OPTIONAL, &s->alias, error))
    return FALSE;
  /* "device": null says the space is one of several functions */
  device = json_object_get_member (obj, "device");
  s->has_device = device != NULL;
  if (!get_bdf (obj, path, "device", OPTIONAL, &s->device, error) ||
      !string_list (obj, path, "candidates", parse_bdf, _("a PCI address such as \"00:02.0\""), &candidates, error))
    return FALSE;
  if (candidates != NULL)
    {
      g_ptr_array_add (candidates, NULL);
      s->candidates = (GStrv) g_ptr_array_free (g_steal_pointer (&candidates), FALSE);
    }
  return TRUE;
}

static gboolean
read_range (JsonObject  *obj,
            const char  *path,
            gpointer     target,
            GError     **error)
{
  GArray *ranges = target;
  IovSnapshotRange *r;
  g_autofree char *role = NULL;
  JsonNode *priority;

  g_array_set_size (ranges, ranges->len + 1);
  r = &g_array_index (ranges, IovSnapshotRange, ranges->len - 1);
  if (!get_hex (obj, path, "start", REQUIRED, &r->start, error) ||
      !get_hex (obj, path, "end", REQUIRED, &r->end, error) ||
      !get_string (obj, path, "kind", OPTIONAL, &r->kind, error) ||
      !get_string (obj, path, "region", OPTIONAL, &r->region, error) ||
      !get_hex (obj, path, "offset", OPTIONAL, &r->offset, error) ||
      !get_string (obj, path, "role", OPTIONAL, &role, error) ||
      !get_value (obj, path, "priority", OPTIONAL, G_TYPE_INT64, _("an integer"), &priority, error))
    return FALSE;
  if (r->end < r->start)
    {
      g_autofree char *epath = member_path (path, "end");

      return fail_value (error, epath, json_object_get_member (obj, "end"), _("at or above start"));
    }
  if (priority != NULL)
    {
      g_autofree char *ppath = member_path (path, "priority");

      if (json_node_get_int (priority) < G_MININT || json_node_get_int (priority) > G_MAXINT)
        return fail_value (error, ppath, priority, _("a memory region priority"));
      r->priority = (int) json_node_get_int (priority);
    }
  if (role != NULL && !parse_role (role, &r->role))
    {
      g_autofree char *rpath = member_path (path, "role");

      return fail_value (error, rpath, json_object_get_member (obj, "role"),
                         _("io, ram, rom, iommu, interrupt or passthrough"));
    }
  if (role == NULL && r->region != NULL && r->kind != NULL)
    r->role = iov_mtree_classify (r->region, r->kind, NULL);
  return TRUE;
}

static gboolean
read_notifier (JsonObject  *obj,
               const char  *path,
               gpointer     target,
               GError     **error)
{
  IovSnapshotNotifier *n = g_new0 (IovSnapshotNotifier, 1);
  g_autofree char *flags = NULL;
  int inferred = -1;

  g_ptr_array_add (target, n);
  /* a notifier is its device and its range: without them it is nothing */
  if (!get_bdf (obj, path, "device", REQUIRED, &n->device, error) ||
      !get_hex (obj, path, "start", REQUIRED, &n->start, error) ||
      !get_hex (obj, path, "end", REQUIRED, &n->end, error) ||
      !get_string (obj, path, "consumer", OPTIONAL, &n->consumer, error) ||
      !get_string (obj, path, "region", OPTIONAL, &n->region, error) ||
      !get_string (obj, path, "flags", OPTIONAL, &flags, error) ||
      !get_string (obj, path, "flags_source", OPTIONAL, &n->flags_source, error) ||
      !get_bool (obj, path, "inferred", &inferred, error))
    return FALSE;
  if (n->end < n->start)
    {
      g_autofree char *epath = member_path (path, "end");

      return fail_value (error, epath, json_object_get_member (obj, "end"), _("at or above start"));
    }
  if (flags != NULL)
    {
      g_autoptr(GError) local = NULL;

      if (!iov_flags_from_string (flags, &n->flags, &local))
        {
          g_autofree char *fpath = member_path (path, "flags");

          return fail (error, fpath, "%s", local->message);
        }
      n->has_flags = TRUE;
    }
  n->inferred = inferred == 1;
  return TRUE;
}

static gboolean
read_address_space (JsonObject  *obj,
                    const char  *path,
                    gpointer     target,
                    GError     **error)
{
  IovSnapshotAddressSpace *as = address_space_new ();
  int iommu = -1;

  g_ptr_array_add (target, as);
  if (!each_object (obj, path, "spaces", OPTIONAL, read_space, as->spaces, error) ||
      !get_string (obj, path, "root_region", OPTIONAL, &as->root_region, error) ||
      !get_bool (obj, path, "iommu", &iommu, error) ||
      !each_object (obj, path, "flat_ranges", OPTIONAL, read_range, as->flat_ranges, error) ||
      !each_object (obj, path, "notifiers", OPTIONAL, read_notifier, as->notifiers, error))
    return FALSE;
  as->iommu = iommu == 1;
  return TRUE;
}

/**
 * iov_snapshot_info_new_from_json:
 * @node: a snapshot as `iovista-cli snapshot` prints it
 *
 * Returns: (transfer full): the snapshot, or %NULL with @error
 *   (IOV_ERROR_INVALID) naming the JSON path of the first thing wrong.
 */
IovSnapshotInfo *
iov_snapshot_info_new_from_json (JsonNode  *node,
                                 GError   **error)
{
  g_autoptr(IovSnapshotInfo) info = g_new0 (IovSnapshotInfo, 1);
  JsonObject *root;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  info->devices = g_ptr_array_new_with_free_func ((GDestroyNotify) device_free);
  info->address_spaces = g_ptr_array_new_with_free_func ((GDestroyNotify) address_space_free);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, _("a snapshot is a JSON object"));
      return NULL;
    }
  root = json_node_get_object (node);
  if (!json_object_has_member (root, "qemu") || !json_object_has_member (root, "address_spaces"))
    {
      g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, _("not an Iovista snapshot: no \"qemu\" or \"address_spaces\""));
      return NULL;
    }
  if (!read_qemu (info, root, error) ||
      !read_iommu (info, root, error) ||
      !each_object (root, NULL, "devices", OPTIONAL, read_device, info->devices, error) ||
      !string_list (root, NULL, "notes", NULL, _("a string"), &info->notes, error) ||
      !each_object (root, NULL, "address_spaces", REQUIRED, read_address_space, info->address_spaces, error) ||
      !get_string (root, NULL, "mtree", OPTIONAL, &info->mtree, error))
    return NULL;
  return g_steal_pointer (&info);
}

IovSnapshotInfo *
iov_snapshot_info_new_from_data (const char  *data,
                                 gssize       length,
                                 GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail (data != NULL || length == 0, NULL);

  if (!json_parser_load_from_data (parser, data ? data : "", length, &local))
    {
      /* json-glib quotes the bad token as it is, cut anywhere */
      g_autofree char *message = g_utf8_make_valid (local->message, -1);

      g_set_error_literal (error, IOV_ERROR, IOV_ERROR_INVALID, message);
      return NULL;
    }
  return iov_snapshot_info_new_from_json (json_parser_get_root (parser), error);
}

const IovProfile *
iov_snapshot_info_get_profile (const IovSnapshotInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return iov_profile_for_version ((int) info->major, (int) info->minor, (int) info->micro,
                                  info->package ? info->package : "");
}

/* ---- writing ------------------------------------------------------------ */

static void
put_string (JsonBuilder *b,
            const char  *key,
            const char  *value)
{
  json_builder_set_member_name (b, key);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
put_hex (JsonBuilder *b,
         const char  *key,
         guint64      value)
{
  char buf[20];

  iov_hex_buf (value, buf);
  put_string (b, key, buf);
}

static void
put_optional (JsonBuilder *b,
              const char  *key,
              const char  *value)
{
  if (value != NULL)
    put_string (b, key, value);
}

static void
write_spaces (JsonBuilder                   *b,
              const IovSnapshotAddressSpace *as)
{
  json_builder_set_member_name (b, "spaces");
  json_builder_begin_array (b);
  for (guint i = 0; i < as->spaces->len; i++)
    {
      const IovSnapshotSpace *s = g_ptr_array_index (as->spaces, i);

      json_builder_begin_object (b);
      put_string (b, "name", s->name);
      put_string (b, "root", s->root);
      put_optional (b, "alias", s->alias);
      if (s->has_device || s->device != NULL)
        put_string (b, "device", s->device);
      if (s->candidates != NULL)
        {
          json_builder_set_member_name (b, "candidates");
          json_builder_begin_array (b);
          for (guint c = 0; s->candidates[c] != NULL; c++)
            json_builder_add_string_value (b, s->candidates[c]);
          json_builder_end_array (b);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
write_ranges (JsonBuilder                   *b,
              const IovSnapshotAddressSpace *as)
{
  json_builder_set_member_name (b, "flat_ranges");
  json_builder_begin_array (b);
  for (guint i = 0; i < as->flat_ranges->len; i++)
    {
      const IovSnapshotRange *r = &g_array_index (as->flat_ranges, IovSnapshotRange, i);

      json_builder_begin_object (b);
      put_hex (b, "start", r->start);
      put_hex (b, "end", r->end);
      json_builder_set_member_name (b, "priority");
      json_builder_add_int_value (b, r->priority);
      put_string (b, "kind", r->kind);
      put_string (b, "region", r->region);
      put_hex (b, "offset", r->offset);
      put_string (b, "role", iov_range_role_to_string (r->role));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
write_notifiers (JsonBuilder                   *b,
                 const IovSnapshotAddressSpace *as)
{
  json_builder_set_member_name (b, "notifiers");
  json_builder_begin_array (b);
  for (guint i = 0; i < as->notifiers->len; i++)
    {
      const IovSnapshotNotifier *n = g_ptr_array_index (as->notifiers, i);
      g_autofree char *flags = n->has_flags ? iov_flags_to_string (n->flags) : NULL;

      json_builder_begin_object (b);
      put_string (b, "consumer", n->consumer);
      put_string (b, "device", n->device);
      put_string (b, "region", n->region);
      put_hex (b, "start", n->start);
      put_hex (b, "end", n->end);
      put_string (b, "flags", flags);
      put_optional (b, "flags_source", n->flags_source);
      json_builder_set_member_name (b, "inferred");
      json_builder_add_boolean_value (b, n->inferred);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
write_devices (JsonBuilder           *b,
               const IovSnapshotInfo *info)
{
  json_builder_set_member_name (b, "devices");
  json_builder_begin_array (b);
  for (guint i = 0; i < info->devices->len; i++)
    {
      const IovSnapshotDevice *d = g_ptr_array_index (info->devices, i);

      json_builder_begin_object (b);
      put_string (b, "bdf", d->bdf);
      put_string (b, "type", d->type);
      put_string (b, "qom_path", d->qom_path);
      json_builder_set_member_name (b, "vhost");
      if (d->vhost >= 0)
        json_builder_add_boolean_value (b, d->vhost == 1);
      else
        json_builder_add_null_value (b);
      put_optional (b, "vhost_source", d->vhost_source);
      put_optional (b, "netdev", d->netdev);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

/**
 * iov_snapshot_info_to_json:
 *
 * Returns: (transfer full): @info as iov_snapshot_to_json() writes a
 *   snapshot, which iov_snapshot_info_new_from_json() reads back equal.
 */
JsonNode *
iov_snapshot_info_to_json (const IovSnapshotInfo *info)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (info != NULL, NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "qemu");
  json_builder_begin_object (b);
  put_string (b, "version", info->version);
  put_string (b, "package", info->package);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "iommu");
  if (info->iommu_properties != NULL)
    {
      g_autoptr(JsonNode) props = json_node_new (JSON_NODE_OBJECT);

      json_node_set_object (props, info->iommu_properties);
      json_builder_begin_object (b);
      put_string (b, "type", info->iommu_type);
      json_builder_set_member_name (b, "properties");
      json_builder_add_value (b, json_node_copy (props));
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);

  write_devices (b, info);

  if (info->notes != NULL)
    {
      json_builder_set_member_name (b, "notes");
      json_builder_begin_array (b);
      for (guint i = 0; i < info->notes->len; i++)
        json_builder_add_string_value (b, g_ptr_array_index (info->notes, i));
      json_builder_end_array (b);
    }

  json_builder_set_member_name (b, "address_spaces");
  json_builder_begin_array (b);
  for (guint i = 0; i < info->address_spaces->len; i++)
    {
      const IovSnapshotAddressSpace *as = g_ptr_array_index (info->address_spaces, i);

      json_builder_begin_object (b);
      write_spaces (b, as);
      put_string (b, "root_region", as->root_region);
      json_builder_set_member_name (b, "iommu");
      json_builder_add_boolean_value (b, as->iommu);
      write_ranges (b, as);
      write_notifiers (b, as);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  put_optional (b, "mtree", info->mtree);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

char *
iov_snapshot_info_to_string (const IovSnapshotInfo *info,
                             gboolean               pretty)
{
  g_autoptr(JsonNode) root = iov_snapshot_info_to_json (info);
  g_autoptr(JsonGenerator) gen = json_generator_new ();

  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, pretty);
  json_generator_set_indent (gen, 2);
  return json_generator_to_data (gen, NULL);
}
