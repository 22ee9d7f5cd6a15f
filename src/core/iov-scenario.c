/* iov-scenario.c — what-if scenarios: the JSON format, parsed
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

#define G_LOG_DOMAIN "iov-scenario"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "iov-scenario.h"
#include "iov-scenario-private.h"

#define RESOURCE_PATH "/io/github/iovista/Iovista/scenarios/"

static const char *step_op_names[IOV_STEP_LAST] = {
  [IOV_STEP_NOTIFY] = "notify",
  [IOV_STEP_DEVICE_IOTLB_INVALIDATE] = "device-iotlb-invalidate",
  [IOV_STEP_PSI] = "psi",
  [IOV_STEP_UNMAP_WHOLE] = "unmap-whole",
  [IOV_STEP_ENABLE_DMAR] = "enable-dmar",
  [IOV_STEP_DISABLE_DMAR] = "disable-dmar",
  [IOV_STEP_MAP] = "map",
  [IOV_STEP_UNMAP] = "unmap",
  [IOV_STEP_ATS_ENABLE] = "ats-enable",
  [IOV_STEP_ATS_DISABLE] = "ats-disable",
  [IOV_STEP_CONTEXT_INVALIDATE] = "context-invalidate",
  [IOV_STEP_DSI] = "dsi",
  [IOV_STEP_GLOBAL_INVALIDATE] = "global-invalidate",
  [IOV_STEP_VHOST_START] = "vhost-start",
  [IOV_STEP_VHOST_STOP] = "vhost-stop",
};

const char *
iov_step_op_to_string (IovStepOp op)
{
  g_return_val_if_fail (op < IOV_STEP_LAST, NULL);
  return step_op_names[op];
}

typedef struct
{
  const char  *filename;
  GError     **error;
} Ctx;

static gboolean G_GNUC_PRINTF (3, 4)
fail (Ctx        *ctx,
      const char *path,
      const char *format,
      ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (ctx->error, IOV_ERROR, IOV_ERROR_INVALID, "%s: %s%s%s",
               ctx->filename, path ? path : "", path ? ": " : "", msg);
  return FALSE;
}

static char *
member_path (const char *parent,
             const char *member)
{
  return parent ? g_strdup_printf ("%s.%s", parent, member) : g_strdup (member);
}

/* A member's value as the checks below read it: from json-glib's tree (a
 * file with anything unusual, and every file that fails), or from the
 * streaming reader (iov_scenario_new_from_data()'s fast path). The kinds
 * are json-glib's, so both give the same result and the same message. */
typedef enum
{
  VAL_MISSING,
  VAL_NULL,
  VAL_STRING,
  VAL_INT,
  VAL_BOOL,
  VAL_OTHER,      /* a double, an object or a list */
} ValKind;

typedef struct
{
  ValKind     kind;
  const char *str;
  gint64      num;
  JsonNode   *node;   /* the tree's, for lists; NULL from the reader */
} Val;

typedef struct
{
  const char *name;   /* not NUL-terminated */
  gsize       name_len;
  Val         val;
} Member;

/* An object: json-glib's, or the reader's members of one step. */
typedef struct
{
  JsonObject   *json;
  const Member *members;
  guint         n_members;
} Obj;

static void
val_of_node (JsonNode *node,
             Val      *v)
{
  v->node = node;
  v->str = NULL;
  v->num = 0;
  if (node == NULL)
    v->kind = VAL_MISSING;
  else if (JSON_NODE_HOLDS_NULL (node))
    v->kind = VAL_NULL;
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      v->kind = VAL_STRING;
      v->str = json_node_get_string (node);
    }
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    {
      v->kind = VAL_INT;
      v->num = json_node_get_int (node);
    }
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    {
      v->kind = VAL_BOOL;
      v->num = json_node_get_boolean (node);
    }
  else
    v->kind = VAL_OTHER;
}

static void
obj_get (const Obj  *obj,
         const char *member,
         Val        *v)
{
  gsize len;

  if (obj->json != NULL)
    {
      val_of_node (json_object_get_member (obj->json, member), v);
      return;
    }
  len = strlen (member);
  for (guint i = 0; i < obj->n_members; i++)
    if (obj->members[i].name_len == len && memcmp (obj->members[i].name, member, len) == 0)
      {
        *v = obj->members[i].val;
        return;
      }
  *v = (Val) { VAL_MISSING, NULL, 0, NULL };
}

static gboolean
obj_has (const Obj  *obj,
         const char *member)
{
  Val v;

  obj_get (obj, member, &v);
  return v.kind != VAL_MISSING;
}

static Obj
obj_json (JsonObject *json)
{
  return (Obj) { json, NULL, 0 };
}

/* 64-bit values are hex strings; a small JSON integer is accepted too. */
static gboolean
get_u64 (Ctx        *ctx,
         const Obj  *obj,
         const char *parent,
         const char *member,
         gboolean    required,
         guint64    *out)
{
  g_autofree char *path = NULL;
  Val v;

  obj_get (obj, member, &v);
  /* the path is only spelled out for a message */
  if ((v.kind == VAL_MISSING || v.kind == VAL_NULL) && !required)
    return TRUE;
  if (v.kind == VAL_STRING && iov_parse_hex (v.str, out))
    return TRUE;
  if (v.kind == VAL_INT && v.num >= 0 && v.num <= (G_GINT64_CONSTANT (1) << 53))
    {
      *out = (guint64) v.num;
      return TRUE;
    }
  path = member_path (parent, member);
  if (v.kind == VAL_MISSING || v.kind == VAL_NULL)
    return fail (ctx, path, _("missing value (a hex string such as \"0x1000\")"));
  if (v.kind == VAL_STRING)
    return fail (ctx, path, _("expected a hex string (\"0x…\", at most 64 bits), got \"%s\""), v.str);
  /* JSON numbers beyond 2^53 are not exact in most readers. */
  if (v.kind == VAL_INT)
    return fail (ctx, path, _("expected a hex string; decimal is only accepted for small values"));
  return fail (ctx, path, _("expected a hex string"));
}

static gboolean
get_small (Ctx        *ctx,
           const Obj  *obj,
           const char *parent,
           const char *member,
           gboolean    required,
           guint64     max,
           guint      *out)
{
  g_autofree char *path = NULL;
  guint64 v = 0;
  Val val;

  obj_get (obj, member, &val);
  if (val.kind == VAL_MISSING || val.kind == VAL_NULL)
    {
      if (required)
        {
          path = member_path (parent, member);
          return fail (ctx, path, _("missing value"));
        }
      return TRUE;
    }
  if (val.kind == VAL_BOOL)
    v = val.num ? 1 : 0;
  else if (val.kind == VAL_INT)
    {
      if (val.num < 0)
        {
          path = member_path (parent, member);
          return fail (ctx, path, _("expected a number from 0 to %llu"), (unsigned long long) max);
        }
      v = (guint64) val.num;
    }
  else if (val.kind == VAL_STRING)
    {
      if (!iov_parse_hex (val.str, &v))
        {
          path = member_path (parent, member);
          return fail (ctx, path, _("expected a number or a hex string"));
        }
    }
  else
    {
      path = member_path (parent, member);
      return fail (ctx, path, _("expected a number"));
    }

  if (v > max)
    {
      path = member_path (parent, member);
      return fail (ctx, path, _("%llu is out of range (0 to %llu)"), (unsigned long long) v, (unsigned long long) max);
    }
  *out = (guint) v;
  return TRUE;
}

static gboolean
get_bool (Ctx        *ctx,
          const Obj  *obj,
          const char *parent,
          const char *member,
          gboolean    def,
          gboolean   *out)
{
  Val v;

  obj_get (obj, member, &v);
  *out = def;
  if (v.kind == VAL_MISSING || v.kind == VAL_NULL)
    return TRUE;
  if (v.kind != VAL_BOOL)
    {
      g_autofree char *path = member_path (parent, member);

      return fail (ctx, path, _("expected true or false"));
    }
  *out = v.num != 0;
  return TRUE;
}

static gboolean
get_string (Ctx         *ctx,
            const Obj   *obj,
            const char  *parent,
            const char  *member,
            gboolean     required,
            const char **out)
{
  Val v;

  obj_get (obj, member, &v);
  *out = NULL;
  if (v.kind == VAL_MISSING || v.kind == VAL_NULL)
    {
      if (required)
        {
          g_autofree char *path = member_path (parent, member);

          return fail (ctx, path, _("missing value"));
        }
      return TRUE;
    }
  if (v.kind != VAL_STRING)
    {
      g_autofree char *path = member_path (parent, member);

      return fail (ctx, path, _("expected a string"));
    }
  *out = v.str;
  return TRUE;
}

static gboolean
parse_flags (Ctx        *ctx,
             JsonObject *obj,
             const char *parent,
             guint      *flags)
{
  g_autofree char *path = member_path (parent, "flags");
  JsonNode *node = json_object_get_member (obj, "flags");
  JsonArray *array;

  *flags = 0;
  if (node == NULL)
    return fail (ctx, path, _("missing value (a list such as [\"unmap\"])"));
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      IovNotifierFlags f;

      if (!iov_event_type_from_string (json_node_get_string (node), &f))
        return fail (ctx, path, _("unknown flag \"%s\" (map, unmap or deviotlb-unmap)"),
                     json_node_get_string (node));
      *flags = f;
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return fail (ctx, path, _("expected a list of flags"));

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *el = json_array_get_element (array, i);
      g_autofree char *el_path = g_strdup_printf ("%s[%u]", path, i);
      IovNotifierFlags f;

      if (!JSON_NODE_HOLDS_VALUE (el) || json_node_get_value_type (el) != G_TYPE_STRING ||
          !iov_event_type_from_string (json_node_get_string (el), &f))
        return fail (ctx, el_path, _("unknown flag (map, unmap or deviotlb-unmap)"));
      *flags |= f;
    }
  if (*flags == 0)
    return fail (ctx, path, _("a notifier needs at least one flag"));
  return TRUE;
}

static void
device_free (IovScenarioDevice *d)
{
  g_free (d->id);
  g_free (d);
}

static void
step_clear (IovStep *step)
{
  g_clear_pointer (&step->explain, g_free);
}

void
iov_scenario_free (IovScenario *scenario)
{
  if (scenario == NULL)
    return;
  g_free (scenario->filename);
  g_free (scenario->name);
  g_free (scenario->title);
  g_free (scenario->summary);
  g_free (scenario->profile);
  g_clear_pointer (&scenario->devices, g_ptr_array_unref);
  g_clear_pointer (&scenario->notifiers, g_ptr_array_unref);
  g_clear_pointer (&scenario->steps, g_array_unref);
  g_free (scenario);
}

static int
find_device (const IovScenario *sc,
             const char        *id)
{
  for (guint i = 0; i < sc->devices->len; i++)
    if (g_str_equal (((IovScenarioDevice *) g_ptr_array_index (sc->devices, i))->id, id))
      return i;
  return -1;
}

static int
find_notifier (const IovScenario *sc,
               const char        *name)
{
  for (guint i = 0; i < sc->notifiers->len; i++)
    if (g_str_equal (((IovNotifier *) g_ptr_array_index (sc->notifiers, i))->name, name))
      return i;
  return -1;
}

static gboolean
parse_iommu (Ctx         *ctx,
             IovScenario *sc,
             JsonObject  *root)
{
  JsonNode *node = json_object_get_member (root, "iommu");
  JsonObject *obj;
  Obj o;
  const char *model = NULL;

  sc->intremap = TRUE;
  if (node == NULL)
    return fail (ctx, "iommu", _("missing (e.g. {\"model\": \"intel\"})"));
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (ctx, "iommu", _("expected an object"));
  obj = json_node_get_object (node);
  o = obj_json (obj);

  if (!get_string (ctx, &o, "iommu", "model", TRUE, &model))
    return FALSE;
  if (g_str_equal (model, "intel"))
    sc->model = IOV_IOMMU_INTEL;
  else if (g_str_equal (model, "amd"))
    sc->model = IOV_IOMMU_AMD;
  else if (g_str_equal (model, "virtio"))
    sc->model = IOV_IOMMU_VIRTIO;
  else
    return fail (ctx, "iommu.model", _("unknown model \"%s\" (intel, amd or virtio)"), model);

  if (!get_small (ctx, &o, "iommu", "aw_bits", FALSE, 64, &sc->aw_bits))
    return FALSE;
  if (sc->aw_bits != 0 && sc->aw_bits != 39 && sc->aw_bits != 48)
    return fail (ctx, "iommu.aw_bits", _("QEMU accepts 39 or 48"));

  return get_bool (ctx, &o, "iommu", "caching_mode", FALSE, &sc->caching_mode) &&
         get_bool (ctx, &o, "iommu", "device_iotlb", FALSE, &sc->device_iotlb) &&
         get_bool (ctx, &o, "iommu", "intremap", TRUE, &sc->intremap) &&
         get_bool (ctx, &o, "iommu", "snoop_control", FALSE, &sc->snoop_control) &&
         get_bool (ctx, &o, "iommu", "dma_remap", FALSE, &sc->dma_remap);
}

static gboolean
parse_devices (Ctx         *ctx,
               IovScenario *sc,
               JsonObject  *root)
{
  JsonNode *node = json_object_get_member (root, "devices");
  JsonArray *array;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return fail (ctx, "devices", _("expected a list"));
  array = json_node_get_array (node);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autofree char *path = g_strdup_printf ("devices[%u]", i);
      g_autofree char *bdf_path = g_strdup_printf ("%s.bdf", path);
      JsonNode *el = json_array_get_element (array, i);
      JsonObject *obj;
      Obj o;
      const char *id, *bdf, *backend;
      IovScenarioDevice *d;
      guint domain = 1;

      if (!JSON_NODE_HOLDS_OBJECT (el))
        return fail (ctx, path, _("expected an object"));
      obj = json_node_get_object (el);
      o = obj_json (obj);

      if (!get_string (ctx, &o, path, "id", TRUE, &id) ||
          !get_string (ctx, &o, path, "bdf", TRUE, &bdf) ||
          !get_string (ctx, &o, path, "backend", FALSE, &backend) ||
          !get_small (ctx, &o, path, "domain", FALSE, 0xffff, &domain))
        return FALSE;
      if (find_device (sc, id) >= 0)
        return fail (ctx, path, _("a device \"%s\" is already listed"), id);

      d = g_new0 (IovScenarioDevice, 1);
      d->id = g_strdup (id);
      d->domain = domain;
      g_ptr_array_add (sc->devices, d);

      if (!iov_parse_bdf (bdf, &d->bus, &d->devfn))
        return fail (ctx, bdf_path, _("expected a PCI address such as \"01:00.0\""));

      if (backend == NULL || g_str_equal (backend, "virtio"))
        d->backend = IOV_BACKEND_VIRTIO;
      else if (g_str_equal (backend, "vhost"))
        d->backend = IOV_BACKEND_VHOST;
      else if (g_str_equal (backend, "vfio"))
        d->backend = IOV_BACKEND_VFIO;
      else if (g_str_equal (backend, "none"))
        d->backend = IOV_BACKEND_NONE;
      else
        {
          g_autofree char *bpath = g_strdup_printf ("%s.backend", path);
          return fail (ctx, bpath, _("unknown backend \"%s\" (vhost, vfio, virtio or none)"), backend);
        }

      if (!get_bool (ctx, &o, path, "ats", FALSE, &d->ats))
        return FALSE;
      if (!get_bool (ctx, &o, path, "ats_enabled", FALSE, &d->ats_enabled))
        return FALSE;
      if (d->ats_enabled && !d->ats)
        {
          g_autofree char *apath = g_strdup_printf ("%s.ats_enabled", path);
          return fail (ctx, apath, _("the device has no ATS capability (\"ats\": true)"));
        }
      if (d->ats && d->bus == 0)
        {
          g_autofree char *apath = g_strdup_printf ("%s.ats", path);
          /* virtio-pci only gets an ATS capability on a PCIe port. */
          return fail (ctx, apath, _("QEMU gives a device an ATS capability only behind a PCIe root port: "
                                     "put it on a bus other than 0"));
        }
    }
  return TRUE;
}

static gboolean
parse_notifiers (Ctx         *ctx,
                 IovScenario *sc,
                 JsonObject  *root)
{
  JsonNode *node = json_object_get_member (root, "notifiers");
  JsonArray *array;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return fail (ctx, "notifiers", _("expected a list"));
  array = json_node_get_array (node);
  sc->low_level = TRUE;

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autofree char *path = g_strdup_printf ("notifiers[%u]", i);
      JsonNode *el = json_array_get_element (array, i);
      JsonObject *obj;
      Obj o;
      const char *name, *owner;
      IovNotifier *n;

      if (!JSON_NODE_HOLDS_OBJECT (el))
        return fail (ctx, path, _("expected an object"));
      obj = json_node_get_object (el);
      o = obj_json (obj);
      if (!get_string (ctx, &o, path, "name", TRUE, &name) ||
          !get_string (ctx, &o, path, "owner", FALSE, &owner))
        return FALSE;
      if (find_notifier (sc, name) >= 0)
        return fail (ctx, path, _("a notifier \"%s\" is already listed"), name);

      n = iov_notifier_new (name, owner, 0, 0, 0);
      g_ptr_array_add (sc->notifiers, n);

      if (!get_u64 (ctx, &o, path, "start", TRUE, &n->start) ||
          !get_u64 (ctx, &o, path, "end", TRUE, &n->end) ||
          !parse_flags (ctx, obj, path, &n->flags))
        return FALSE;
      /* memory_region_register_iommu_notifier() asserts this. */
      if (n->start > n->end)
        return fail (ctx, path, _("start is above end"));
    }
  return TRUE;
}

static gboolean
resolve_device (Ctx         *ctx,
                IovScenario *sc,
                const Obj   *obj,
                const char  *path,
                gboolean     required,
                int         *device)
{
  const char *id;

  if (!get_string (ctx, obj, path, "device", FALSE, &id))
    return FALSE;
  if (id != NULL)
    {
      g_autofree char *dpath = member_path (path, "device");

      *device = find_device (sc, id);
      if (*device < 0)
        return fail (ctx, dpath, _("no device \"%s\" in devices"), id);
      return TRUE;
    }
  if (sc->low_level)
    *device = -1;
  else if (sc->devices->len == 1)
    *device = 0;
  else if (required)
    {
      g_autofree char *dpath = member_path (path, "device");
      return fail (ctx, dpath, _("required: the scenario has %u devices"), sc->devices->len);
    }
  else
    *device = -1;
  return TRUE;
}

static gboolean
parse_step (Ctx         *ctx,
            IovScenario *sc,
            const Obj   *obj,
            const char  *path,
            IovStep     *step)
{
  const char *op, *text, *explain;
  guint u = 0;

  if (!get_string (ctx, obj, path, "op", TRUE, &op) ||
      !get_string (ctx, obj, path, "explain", FALSE, &explain))
    return FALSE;
  step->explain = g_strdup (explain);
  step->device = -1;
  step->notifier = -1;

  for (u = 0; u < IOV_STEP_LAST; u++)
    if (g_str_equal (op, step_op_names[u]))
      break;
  if (u == IOV_STEP_LAST)
    {
      g_autofree char *opath = member_path (path, "op");
      return fail (ctx, opath, _("unknown op \"%s\""), op);
    }
  step->op = u;

  /* Ops that only make sense for one IOMMU model. */
  switch (step->op)
    {
    case IOV_STEP_DEVICE_IOTLB_INVALIDATE:
    case IOV_STEP_PSI:
    case IOV_STEP_UNMAP_WHOLE:
    case IOV_STEP_CONTEXT_INVALIDATE:
    case IOV_STEP_DSI:
    case IOV_STEP_GLOBAL_INVALIDATE:
      if (sc->model != IOV_IOMMU_INTEL)
        {
          g_autofree char *opath = member_path (path, "op");
          return fail (ctx, opath, _("\"%s\" is a VT-d operation and needs \"iommu\": {\"model\": \"intel\"}"), op);
        }
      break;
    case IOV_STEP_NOTIFY:
    case IOV_STEP_ENABLE_DMAR:
    case IOV_STEP_DISABLE_DMAR:
    case IOV_STEP_MAP:
    case IOV_STEP_UNMAP:
    case IOV_STEP_ATS_ENABLE:
    case IOV_STEP_ATS_DISABLE:
    case IOV_STEP_VHOST_START:
    case IOV_STEP_VHOST_STOP:
    case IOV_STEP_LAST:
    default:
      break;
    }

  switch (step->op)
    {
    case IOV_STEP_NOTIFY:
      if (!get_string (ctx, obj, path, "type", TRUE, &text))
        return FALSE;
      if (!iov_event_type_from_string (text, &step->type))
        {
          g_autofree char *tpath = member_path (path, "type");
          return fail (ctx, tpath, _("unknown type \"%s\" (map, unmap or deviotlb-unmap)"), text);
        }
      step->perm = step->type == IOV_NOTIFIER_MAP ? IOV_PERM_RW : IOV_PERM_NONE;
      if (!get_string (ctx, obj, path, "perm", FALSE, &text))
        return FALSE;
      if (text != NULL && !iov_perm_from_string (text, &step->perm))
        {
          g_autofree char *ppath = member_path (path, "perm");
          return fail (ctx, ppath, _("unknown perm \"%s\" (none, ro, wo or rw)"), text);
        }
      return get_u64 (ctx, obj, path, "iova", TRUE, &step->iova) &&
             get_u64 (ctx, obj, path, "addr_mask", TRUE, &step->addr_mask) &&
             get_u64 (ctx, obj, path, "translated_addr", FALSE, &step->gpa) &&
             resolve_device (ctx, sc, obj, path, TRUE, &step->device);

    case IOV_STEP_DEVICE_IOTLB_INVALIDATE:
      return get_u64 (ctx, obj, path, "addr", TRUE, &step->addr) &&
             get_small (ctx, obj, path, "s", FALSE, 1, &step->s) &&
             resolve_device (ctx, sc, obj, path, TRUE, &step->device);

    case IOV_STEP_PSI:
      if (obj_has (obj, "domain"))
        {
          if (!get_small (ctx, obj, path, "domain", TRUE, 0xffff, &u))
            return FALSE;
          step->domain = u;
          step->has_domain = TRUE;
        }
      return get_u64 (ctx, obj, path, "addr", TRUE, &step->addr) &&
             get_small (ctx, obj, path, "am", TRUE, 18, &step->am);

    case IOV_STEP_DSI:
      if (!get_small (ctx, obj, path, "domain", TRUE, 0xffff, &u))
        return FALSE;
      step->domain = u;
      step->has_domain = TRUE;
      return TRUE;

    case IOV_STEP_UNMAP_WHOLE:
      {
        g_autofree char *npath = member_path (path, "notifier");

        if (!get_string (ctx, obj, path, "notifier", TRUE, &text))
          return FALSE;
        step->notifier = find_notifier (sc, text);
        if (step->notifier < 0)
          return fail (ctx, npath, _("no notifier \"%s\" in notifiers"), text);
        return TRUE;
      }

    case IOV_STEP_MAP:
      if (!get_u64 (ctx, obj, path, "gpa", TRUE, &step->gpa))
        return FALSE;
      step->perm = IOV_PERM_RW;
      if (!get_string (ctx, obj, path, "perm", FALSE, &text))
        return FALSE;
      if (text != NULL && (!iov_perm_from_string (text, &step->perm) || step->perm == IOV_PERM_NONE))
        {
          g_autofree char *ppath = member_path (path, "perm");
          return fail (ctx, ppath, _("expected ro, wo or rw"));
        }
      G_GNUC_FALLTHROUGH;
    case IOV_STEP_UNMAP:
      if (!get_u64 (ctx, obj, path, "iova", TRUE, &step->iova) ||
          !get_u64 (ctx, obj, path, "size", TRUE, &step->size) ||
          !resolve_device (ctx, sc, obj, path, TRUE, &step->device))
        return FALSE;
      if (step->size == 0 || (step->size | step->iova | step->gpa) & (IOV_PAGE_SIZE - 1))
        return fail (ctx, path, _("iova, size and gpa must be multiples of 4 KiB, size above 0"));
      if (step->iova + step->size - 1 < step->iova)
        return fail (ctx, path, _("iova + size wraps around 2^64"));
      return TRUE;

    case IOV_STEP_ATS_ENABLE:
    case IOV_STEP_ATS_DISABLE:
      if (!resolve_device (ctx, sc, obj, path, TRUE, &step->device))
        return FALSE;
      if (step->device < 0 || !((IovScenarioDevice *) g_ptr_array_index (sc->devices, step->device))->ats)
        {
          g_autofree char *dpath = member_path (path, "device");
          return fail (ctx, dpath, _("the device has no ATS capability (\"ats\": true)"));
        }
      return TRUE;

    case IOV_STEP_VHOST_START:
    case IOV_STEP_VHOST_STOP:
      {
        IovScenarioDevice *d;

        if (!resolve_device (ctx, sc, obj, path, TRUE, &step->device))
          return FALSE;
        d = step->device >= 0 ? g_ptr_array_index (sc->devices, step->device) : NULL;
        if (d == NULL || d->backend != IOV_BACKEND_VHOST)
          {
            g_autofree char *dpath = member_path (path, "device");
            return fail (ctx, dpath, _("\"%s\" needs a device with \"backend\": \"vhost\""), op);
          }
        return TRUE;
      }

    case IOV_STEP_CONTEXT_INVALIDATE:
      {
        const char *id = NULL;

        if (!get_string (ctx, obj, path, "device", FALSE, &id))
          return FALSE;
        step->device = -1;
        if (id != NULL)
          return resolve_device (ctx, sc, obj, path, TRUE, &step->device);
        return TRUE;
      }

    case IOV_STEP_ENABLE_DMAR:
    case IOV_STEP_DISABLE_DMAR:
    case IOV_STEP_GLOBAL_INVALIDATE:
    case IOV_STEP_LAST:
    default:
      return TRUE;
    }
}

/* Everything but the steps: name, profile, iommu, devices, notifiers. */
static IovScenario *
parse_head (JsonNode    *root_node,
            const char  *display_name,
            GError     **error)
{
  g_autoptr(IovScenario) sc = g_new0 (IovScenario, 1);
  Ctx ctx = { display_name, error };
  JsonObject *root;
  const char *text;
  Obj r;

  sc->filename = g_strdup (display_name);
  sc->devices = g_ptr_array_new_with_free_func ((GDestroyNotify) device_free);
  sc->notifiers = g_ptr_array_new_with_free_func ((GDestroyNotify) iov_notifier_free);
  sc->steps = g_array_new (FALSE, TRUE, sizeof (IovStep));
  g_array_set_clear_func (sc->steps, (GDestroyNotify) step_clear);

  if (root_node == NULL || !JSON_NODE_HOLDS_OBJECT (root_node))
    {
      fail (&ctx, NULL, _("a scenario is a JSON object"));
      return NULL;
    }
  root = json_node_get_object (root_node);
  r = obj_json (root);

  if (!get_string (&ctx, &r, NULL, "name", FALSE, &text))
    return NULL;
  sc->name = g_strdup (text);
  if (!get_string (&ctx, &r, NULL, "title", FALSE, &text))
    return NULL;
  sc->title = g_strdup (text);
  if (!get_string (&ctx, &r, NULL, "summary", FALSE, &text))
    return NULL;
  sc->summary = g_strdup (text);
  if (!get_string (&ctx, &r, NULL, "profile", FALSE, &text))
    return NULL;
  if (text != NULL && iov_profile_lookup (text) == NULL)
    {
      fail (&ctx, "profile", _("unknown profile \"%s\""), text);
      return NULL;
    }
  sc->profile = g_strdup (text);

  if (!parse_iommu (&ctx, sc, root) ||
      !parse_devices (&ctx, sc, root) ||
      !parse_notifiers (&ctx, sc, root))
    return NULL;

  if (!sc->low_level && sc->devices->len == 0)
    {
      fail (&ctx, NULL, _("a scenario needs \"notifiers\" or \"devices\""));
      return NULL;
    }
  return g_steal_pointer (&sc);
}

/* vhost runs from the start unless the guest's driver starts it later:
 * a device whose first vhost step is "vhost-start" waits for it. */
static void
parse_tail (IovScenario *sc)
{
  for (guint i = sc->steps->len; i-- > 0;)
    {
      const IovStep *step = &g_array_index (sc->steps, IovStep, i);

      if (step->op == IOV_STEP_VHOST_START || step->op == IOV_STEP_VHOST_STOP)
        ((IovScenarioDevice *) g_ptr_array_index (sc->devices, step->device))->vhost_stopped =
          step->op == IOV_STEP_VHOST_START;
    }
}

static IovScenario *
parse_root (JsonNode    *root_node,
            const char  *display_name,
            GError     **error)
{
  g_autoptr(IovScenario) sc = parse_head (root_node, display_name, error);
  Ctx ctx = { display_name, error };
  JsonNode *steps_node;
  JsonArray *steps;

  if (sc == NULL)
    return NULL;
  steps_node = json_object_get_member (json_node_get_object (root_node), "steps");
  if (steps_node == NULL || !JSON_NODE_HOLDS_ARRAY (steps_node))
    {
      fail (&ctx, "steps", _("expected a list of steps"));
      return NULL;
    }
  steps = json_node_get_array (steps_node);
  g_array_set_size (sc->steps, json_array_get_length (steps));

  for (guint i = 0; i < json_array_get_length (steps); i++)
    {
      g_autofree char *path = g_strdup_printf ("steps[%u]", i);
      JsonNode *el = json_array_get_element (steps, i);
      Obj o;

      if (!JSON_NODE_HOLDS_OBJECT (el))
        {
          fail (&ctx, path, _("expected an object"));
          return NULL;
        }
      o = obj_json (json_node_get_object (el));
      if (!parse_step (&ctx, sc, &o, path, &g_array_index (sc->steps, IovStep, i)))
        return NULL;
    }
  parse_tail (sc);
  return g_steal_pointer (&sc);
}

static IovScenario *
parse_with (JsonParser  *parser,
            gboolean     loaded,
            GError      *parse_error,
            const char  *display_name,
            GError     **error)
{
  if (!loaded)
    {
      /* json-glib says "LINE:COL: Parse error: …"; lead with the file so the
       * message reads FILE:LINE:COL: … as compilers print it. */
      const char *msg = parse_error->message;
      g_autofree char *valid = NULL;

      if (g_str_has_prefix (msg, "<data>:"))
        msg += strlen ("<data>:");
      /* json-glib quotes the bad token byte for byte: a message is text */
      valid = g_utf8_make_valid (msg, -1);
      g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, "%s:%s", display_name, valid);
      g_error_free (parse_error);
      return NULL;
    }
  return parse_root (json_parser_get_root (parser), display_name, error);
}

/* ------------------------------------------------------------------------
 * The streaming reader (issue K: a 10^6-step scenario loads in about the
 * time json-glib takes to parse it, without a tree of a million objects).
 *
 * It reads strict, plain JSON: no escapes in strings, no comments, no
 * numbers but integers of at most 18 digits, no member given twice. The
 * root's members but "steps" go to json-glib as a small document of their
 * own (parse_head(), as above); each step is read into a few members on
 * the stack and checked by parse_step() at once. Whatever the reader does
 * not take, and every file with an error, is read again by json-glib from
 * the start: what is accepted, and every message (file, line, JSON path),
 * stay json-glib's and parse_root()'s.
 */

#define READER_MAX_DEPTH   64
#define READER_MAX_MEMBERS 32

typedef struct
{
  const char *p, *end;
  GString    *scratch;   /* a step's strings, NUL-terminated */
} Reader;

static inline void
skip_ws (Reader *r)
{
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\t' || *r->p == '\r'))
    r->p++;
}

/* After a member or an element: 1 when a "," says another follows, 0 when
 * @close ends the container, -1 when neither (not the plain JSON this
 * reader takes). */
static int
next_item (Reader *r,
           char    close)
{
  skip_ws (r);
  if (r->p < r->end && *r->p == ',')
    {
      r->p++;
      return 1;
    }
  if (r->p < r->end && *r->p == close)
    {
      r->p++;
      return 0;
    }
  return -1;
}

/* A string without escapes; *start and *len its text between the quotes. */
static gboolean
read_string (Reader      *r,
             const char **start,
             gsize       *len)
{
  const char *p = r->p + 1;
  gboolean high = FALSE;

  if (r->p >= r->end || *r->p != '"')
    return FALSE;
  while (p < r->end && *p != '"')
    {
      guchar c = *p;

      if (c < 0x20 || c == '\\')
        return FALSE;
      high |= c >= 0x80;
      p++;
    }
  if (p >= r->end)
    return FALSE;
  *start = r->p + 1;
  *len = p - *start;
  if (high && !g_utf8_validate (*start, *len, NULL))
    return FALSE;
  r->p = p + 1;
  return TRUE;
}

static gboolean
at_delimiter (Reader *r)
{
  return r->p >= r->end || *r->p == ',' || *r->p == '}' || *r->p == ']' || *r->p == ' ' ||
         *r->p == '\n' || *r->p == '\t' || *r->p == '\r';
}

static gboolean
read_literal (Reader     *r,
              const char *word)
{
  gsize len = strlen (word);

  if ((gsize) (r->end - r->p) < len || memcmp (r->p, word, len) != 0)
    return FALSE;
  r->p += len;
  return at_delimiter (r);
}

/* Reads a value into @v (strings copied into r->scratch, at an offset in
 * v->str until the caller fixes them up), or only checks it when @v is
 * NULL. */
static gboolean
read_value (Reader *r,
            Val    *v,
            guint   depth)
{
  Val dummy;

  if (v == NULL)
    v = &dummy;
  *v = (Val) { VAL_OTHER, NULL, 0, NULL };
  skip_ws (r);
  if (r->p >= r->end || depth > READER_MAX_DEPTH)
    return FALSE;
  switch (*r->p)
    {
    case '"':
      {
        const char *start;
        gsize len;

        if (!read_string (r, &start, &len))
          return FALSE;
        v->kind = VAL_STRING;
        if (v != &dummy)
          {
            v->str = GSIZE_TO_POINTER (r->scratch->len);
            g_string_append_len (r->scratch, start, len);
            g_string_append_c (r->scratch, '\0');
          }
        return TRUE;
      }
    case 't':
      v->kind = VAL_BOOL;
      v->num = 1;
      return read_literal (r, "true");
    case 'f':
      v->kind = VAL_BOOL;
      return read_literal (r, "false");
    case 'n':
      v->kind = VAL_NULL;
      return read_literal (r, "null");
    case '{':
    case '[':
      {
        char close = *r->p == '{' ? '}' : ']';

        r->p++;
        skip_ws (r);
        if (r->p < r->end && *r->p == close)
          {
            r->p++;
            return TRUE;
          }
        for (;;)
          {
            if (close == '}')
              {
                const char *name;
                gsize name_len;

                skip_ws (r);
                if (!read_string (r, &name, &name_len))
                  return FALSE;
                skip_ws (r);
                if (r->p >= r->end || *r->p != ':')
                  return FALSE;
                r->p++;
              }
            if (!read_value (r, NULL, depth + 1))
              return FALSE;
            switch (next_item (r, close))
              {
              case 1:
                continue;
              case 0:
                return TRUE;
              default:
                return FALSE;
              }
          }
      }
    default:
      {
        const char *p = r->p;
        gboolean negative = FALSE;
        guint64 n = 0;
        guint digits = 0;

        if (*p == '-')
          negative = TRUE, p++;
        if (p >= r->end || !g_ascii_isdigit (*p) || (*p == '0' && negative))
          return FALSE;
        if (*p == '0' && p + 1 < r->end && g_ascii_isdigit (p[1]))
          return FALSE;
        while (p < r->end && g_ascii_isdigit (*p))
          {
            n = n * 10 + (*p++ - '0');
            if (++digits > 18)
              return FALSE;
          }
        r->p = p;
        /* a fraction or an exponent: json-glib's double, left to it */
        if (!at_delimiter (r))
          return FALSE;
        v->kind = VAL_INT;
        v->num = negative ? -(gint64) n : (gint64) n;
        return TRUE;
      }
    }
}

/* The root object: each member's name and where its value lies. */
typedef struct
{
  const char *name;
  gsize       name_len;
  const char *value;
  gsize       value_len;
} RootMember;

static gboolean
read_root (Reader *r,
           GArray *members)
{
  int more;

  skip_ws (r);
  if (r->p >= r->end || *r->p != '{')
    return FALSE;
  r->p++;
  skip_ws (r);
  if (r->p < r->end && *r->p == '}')
    r->p++;
  else
    for (;;)
      {
        RootMember m;

        skip_ws (r);
        if (!read_string (r, &m.name, &m.name_len))
          return FALSE;
        for (guint i = 0; i < members->len; i++)
          {
            const RootMember *o = &g_array_index (members, RootMember, i);

            /* which of the two json-glib keeps is for it to say */
            if (o->name_len == m.name_len && memcmp (o->name, m.name, m.name_len) == 0)
              return FALSE;
          }
        skip_ws (r);
        if (r->p >= r->end || *r->p != ':')
          return FALSE;
        r->p++;
        skip_ws (r);
        m.value = r->p;
        if (!read_value (r, NULL, 1))
          return FALSE;
        m.value_len = r->p - m.value;
        g_array_append_val (members, m);
        if ((more = next_item (r, '}')) < 0)
          return FALSE;
        if (more == 0)
          break;
      }
  skip_ws (r);
  return r->p == r->end;
}

/* One step object into @members; FALSE for anything the reader leaves to
 * json-glib, a member given twice included. */
static gboolean
read_step (Reader *r,
           Member *members,
           guint  *n_members)
{
  guint n = 0;
  int more;

  g_string_truncate (r->scratch, 0);
  skip_ws (r);
  if (r->p >= r->end || *r->p != '{')
    return FALSE;
  r->p++;
  skip_ws (r);
  if (r->p < r->end && *r->p == '}')
    r->p++;
  else
    for (;;)
      {
        Member *m;

        if (n == READER_MAX_MEMBERS)
          return FALSE;
        m = &members[n];
        skip_ws (r);
        if (!read_string (r, &m->name, &m->name_len))
          return FALSE;
        for (guint i = 0; i < n; i++)
          if (members[i].name_len == m->name_len && memcmp (members[i].name, m->name, m->name_len) == 0)
            return FALSE;
        skip_ws (r);
        if (r->p >= r->end || *r->p != ':')
          return FALSE;
        r->p++;
        if (!read_value (r, &m->val, 1))
          return FALSE;
        n++;
        if ((more = next_item (r, '}')) < 0)
          return FALSE;
        if (more == 0)
          break;
      }
  /* the strings have their final address now */
  for (guint i = 0; i < n; i++)
    if (members[i].val.kind == VAL_STRING)
      members[i].val.str = r->scratch->str + GPOINTER_TO_SIZE (members[i].val.str);
  *n_members = n;
  return TRUE;
}

/* The fast path: NULL whenever json-glib's path must decide (the error,
 * if any, is then not set). */
static IovScenario *
read_fast (const char *data,
           gsize       length,
           const char *display_name)
{
  g_autoptr(GArray) members = g_array_new (FALSE, FALSE, sizeof (RootMember));
  g_autoptr(GString) head = g_string_new ("{");
  g_autoptr(GString) scratch = g_string_sized_new (256);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(IovScenario) sc = NULL;
  g_autoptr(GError) local = NULL;
  const RootMember *steps = NULL;
  Reader r = { data, data + length, scratch };
  Ctx ctx = { display_name, &local };
  guint i = 0;

  if (!read_root (&r, members))
    return NULL;
  /* the root but its steps, for parse_head() */
  for (guint m = 0; m < members->len; m++)
    {
      const RootMember *rm = &g_array_index (members, RootMember, m);

      if (rm->name_len == 5 && memcmp (rm->name, "steps", 5) == 0)
        {
          steps = rm;
          continue;
        }
      if (head->len > 1)
        g_string_append_c (head, ',');
      g_string_append_c (head, '"');
      g_string_append_len (head, rm->name, rm->name_len);
      g_string_append (head, "\":");
      g_string_append_len (head, rm->value, rm->value_len);
    }
  g_string_append_c (head, '}');
  if (steps == NULL || steps->value[0] != '[')
    return NULL;
  if (!json_parser_load_from_data (parser, head->str, head->len, NULL))
    return NULL;
  sc = parse_head (json_parser_get_root (parser), display_name, NULL);
  if (sc == NULL)
    return NULL;

  /* the steps, one at a time */
  r.p = steps->value + 1;
  r.end = steps->value + steps->value_len;
  skip_ws (&r);
  if (r.p < r.end && *r.p == ']')
    r.p++;
  else
    for (;; i++)
      {
        Member step_members[READER_MAX_MEMBERS];
        guint n_members = 0;
        Obj o;
        char path[32];

        if (!read_step (&r, step_members, &n_members))
          return NULL;
        o = (Obj) { NULL, step_members, n_members };
        g_snprintf (path, sizeof path, "steps[%u]", i);
        g_array_set_size (sc->steps, i + 1);
        if (!parse_step (&ctx, sc, &o, path, &g_array_index (sc->steps, IovStep, i)))
          return NULL;
        skip_ws (&r);
        if (r.p < r.end && *r.p == ',')
          {
            r.p++;
            continue;
          }
        if (r.p < r.end && *r.p == ']')
          {
            r.p++;
            break;
          }
        return NULL;
      }
  if (r.p != r.end)
    return NULL;
  parse_tail (sc);
  return g_steal_pointer (&sc);
}

gboolean
iov_scenario_equal (const IovScenario *a,
                    const IovScenario *b)
{
  if (g_strcmp0 (a->filename, b->filename) != 0 || g_strcmp0 (a->name, b->name) != 0 ||
      g_strcmp0 (a->title, b->title) != 0 || g_strcmp0 (a->summary, b->summary) != 0 ||
      g_strcmp0 (a->profile, b->profile) != 0 || a->model != b->model || a->aw_bits != b->aw_bits ||
      a->caching_mode != b->caching_mode || a->device_iotlb != b->device_iotlb || a->intremap != b->intremap ||
      a->snoop_control != b->snoop_control || a->dma_remap != b->dma_remap || a->low_level != b->low_level ||
      a->devices->len != b->devices->len || a->notifiers->len != b->notifiers->len ||
      a->steps->len != b->steps->len)
    return FALSE;
  for (guint i = 0; i < a->devices->len; i++)
    {
      const IovScenarioDevice *x = g_ptr_array_index (a->devices, i), *y = g_ptr_array_index (b->devices, i);

      if (g_strcmp0 (x->id, y->id) != 0 || x->bus != y->bus || x->devfn != y->devfn || x->backend != y->backend ||
          x->ats != y->ats || x->ats_enabled != y->ats_enabled || x->domain != y->domain ||
          x->vhost_stopped != y->vhost_stopped)
        return FALSE;
    }
  for (guint i = 0; i < a->notifiers->len; i++)
    {
      const IovNotifier *x = g_ptr_array_index (a->notifiers, i), *y = g_ptr_array_index (b->notifiers, i);

      if (g_strcmp0 (x->name, y->name) != 0 || g_strcmp0 (x->owner, y->owner) != 0 || x->start != y->start ||
          x->end != y->end || x->flags != y->flags || x->iommu_idx != y->iommu_idx)
        return FALSE;
    }
  for (guint i = 0; i < a->steps->len; i++)
    {
      const IovStep *x = &g_array_index (a->steps, IovStep, i), *y = &g_array_index (b->steps, IovStep, i);

      if (x->op != y->op || x->device != y->device || x->notifier != y->notifier || x->type != y->type ||
          x->perm != y->perm || x->iova != y->iova || x->addr_mask != y->addr_mask || x->size != y->size ||
          x->gpa != y->gpa || x->addr != y->addr || x->am != y->am || x->s != y->s || x->domain != y->domain ||
          x->has_domain != y->has_domain || g_strcmp0 (x->explain, y->explain) != 0)
        return FALSE;
    }
  return TRUE;
}

IovScenario *
iov_scenario_new_from_data_tree (const char  *data,
                                 gssize       length,
                                 const char  *display_name,
                                 GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  GError *parse_error = NULL;
  gboolean loaded;

  g_return_val_if_fail (data != NULL, NULL);

  loaded = json_parser_load_from_data (parser, data, length, &parse_error);
  return parse_with (parser, loaded, parse_error, display_name ? display_name : "<data>", error);
}

IovScenario *
iov_scenario_new_from_data (const char  *data,
                            gssize       length,
                            const char  *display_name,
                            GError     **error)
{
  IovScenario *sc;

  g_return_val_if_fail (data != NULL, NULL);

  if (display_name == NULL)
    display_name = "<data>";
  sc = read_fast (data, length < 0 ? strlen (data) : (gsize) length, display_name);
  if (sc != NULL)
    return sc;
  return iov_scenario_new_from_data_tree (data, length, display_name, error);
}

IovScenario *
iov_scenario_new_from_file (const char  *path,
                            GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length;
  GError *local = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &contents, &length, &local))
    {
      g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, "%s: %s", path, local->message);
      g_error_free (local);
      return NULL;
    }
  return iov_scenario_new_from_data (contents, length, path, error);
}

IovScenario *
iov_scenario_new_from_resource (const char  *name,
                                GError     **error)
{
  g_autofree char *path = g_strconcat (RESOURCE_PATH, name, ".json", NULL);
  g_autoptr(GBytes) bytes = g_resources_lookup_data (path, 0, error);
  gsize len;
  const char *data;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  return iov_scenario_new_from_data (data, len, name, error);
}

GStrv
iov_scenario_list_builtin (void)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GBytes) bytes = g_resources_lookup_data (RESOURCE_PATH "index.json", 0, NULL);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;

  if (bytes != NULL &&
      json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL) &&
      (root = json_parser_get_root (parser)) != NULL && JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonArray *list = json_object_get_array_member (json_node_get_object (root), "scenarios");

      for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
        g_strv_builder_add (builder, json_array_get_string_element (list, i));
    }
  return g_strv_builder_end (builder);
}

guint
iov_scenario_aw_bits (const IovScenario *scenario,
                      const IovProfile  *profile)
{
  if (scenario->aw_bits != 0)
    return scenario->aw_bits;
  /* The low-level form is fixed at 39 whatever the profile, so vectors do
   * not change meaning between profiles. */
  if (scenario->low_level)
    return 39;
  return profile->default_aw_bits;
}

gboolean
iov_scenario_check_profile (const IovScenario  *sc,
                            const IovProfile   *profile,
                            GError            **error)
{
  Ctx ctx = { sc->filename, error };

  if (profile->era == IOV_ERA_5_0)
    {
      /* IOMMU_NOTIFIER_DEVIOTLB_UNMAP arrived in 6.0. */
      for (guint i = 0; i < sc->notifiers->len; i++)
        {
          IovNotifier *n = g_ptr_array_index (sc->notifiers, i);
          g_autofree char *path = g_strdup_printf ("notifiers[%u].flags", i);

          if (n->flags & IOV_NOTIFIER_DEVIOTLB_UNMAP)
            return fail (&ctx, path, _("deviotlb-unmap does not exist in %s (added in QEMU 6.0)"), profile->id);
        }
      for (guint i = 0; i < sc->steps->len; i++)
        {
          IovStep *step = &g_array_index (sc->steps, IovStep, i);
          g_autofree char *path = g_strdup_printf ("steps[%u].type", i);

          if (step->op == IOV_STEP_NOTIFY && step->type == IOV_NOTIFIER_DEVIOTLB_UNMAP)
            return fail (&ctx, path, _("deviotlb-unmap does not exist in %s (added in QEMU 6.0)"), profile->id);
        }
    }

  if (sc->snoop_control && !profile->snoop_control)
    return fail (&ctx, "iommu.snoop_control", _("%s has no snoop-control property (added in QEMU 7.0)"), profile->id);

  return TRUE;
}
