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

/* 64-bit values are hex strings; a small JSON integer is accepted too. */
static gboolean
get_u64 (Ctx        *ctx,
         JsonObject *obj,
         const char *parent,
         const char *member,
         gboolean    required,
         guint64    *out)
{
  g_autofree char *path = member_path (parent, member);
  JsonNode *node = json_object_get_member (obj, member);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        return fail (ctx, path, _("missing value (a hex string such as \"0x1000\")"));
      return TRUE;
    }
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      if (!iov_parse_hex (json_node_get_string (node), out))
        return fail (ctx, path, _("expected a hex string (\"0x…\", at most 64 bits), got \"%s\""),
                     json_node_get_string (node));
      return TRUE;
    }
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    {
      gint64 v = json_node_get_int (node);

      /* JSON numbers beyond 2^53 are not exact in most readers. */
      if (v < 0 || v > (G_GINT64_CONSTANT (1) << 53))
        return fail (ctx, path, _("expected a hex string; decimal is only accepted for small values"));
      *out = (guint64) v;
      return TRUE;
    }
  return fail (ctx, path, _("expected a hex string"));
}

static gboolean
get_small (Ctx        *ctx,
           JsonObject *obj,
           const char *parent,
           const char *member,
           gboolean    required,
           guint64     max,
           guint      *out)
{
  g_autofree char *path = member_path (parent, member);
  JsonNode *node = json_object_get_member (obj, member);
  guint64 v = 0;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        return fail (ctx, path, _("missing value"));
      return TRUE;
    }
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    v = json_node_get_boolean (node) ? 1 : 0;
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    {
      if (json_node_get_int (node) < 0)
        return fail (ctx, path, _("expected a number from 0 to %llu"), (unsigned long long) max);
      v = (guint64) json_node_get_int (node);
    }
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      if (!iov_parse_hex (json_node_get_string (node), &v))
        return fail (ctx, path, _("expected a number or a hex string"));
    }
  else
    return fail (ctx, path, _("expected a number"));

  if (v > max)
    return fail (ctx, path, _("%llu is out of range (0 to %llu)"), (unsigned long long) v, (unsigned long long) max);
  *out = (guint) v;
  return TRUE;
}

static gboolean
get_bool (Ctx        *ctx,
          JsonObject *obj,
          const char *parent,
          const char *member,
          gboolean    def,
          gboolean   *out)
{
  g_autofree char *path = member_path (parent, member);
  JsonNode *node = json_object_get_member (obj, member);

  *out = def;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return fail (ctx, path, _("expected true or false"));
  *out = json_node_get_boolean (node);
  return TRUE;
}

static gboolean
get_string (Ctx         *ctx,
            JsonObject  *obj,
            const char  *parent,
            const char  *member,
            gboolean     required,
            const char **out)
{
  g_autofree char *path = member_path (parent, member);
  JsonNode *node = json_object_get_member (obj, member);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        return fail (ctx, path, _("missing value"));
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return fail (ctx, path, _("expected a string"));
  *out = json_node_get_string (node);
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
  const char *model = NULL;

  sc->intremap = TRUE;
  if (node == NULL)
    return fail (ctx, "iommu", _("missing (e.g. {\"model\": \"intel\"})"));
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (ctx, "iommu", _("expected an object"));
  obj = json_node_get_object (node);

  if (!get_string (ctx, obj, "iommu", "model", TRUE, &model))
    return FALSE;
  if (g_str_equal (model, "intel"))
    sc->model = IOV_IOMMU_INTEL;
  else if (g_str_equal (model, "amd"))
    sc->model = IOV_IOMMU_AMD;
  else if (g_str_equal (model, "virtio"))
    sc->model = IOV_IOMMU_VIRTIO;
  else
    return fail (ctx, "iommu.model", _("unknown model \"%s\" (intel, amd or virtio)"), model);

  if (!get_small (ctx, obj, "iommu", "aw_bits", FALSE, 64, &sc->aw_bits))
    return FALSE;
  if (sc->aw_bits != 0 && sc->aw_bits != 39 && sc->aw_bits != 48)
    return fail (ctx, "iommu.aw_bits", _("QEMU accepts 39 or 48"));

  return get_bool (ctx, obj, "iommu", "caching_mode", FALSE, &sc->caching_mode) &&
         get_bool (ctx, obj, "iommu", "device_iotlb", FALSE, &sc->device_iotlb) &&
         get_bool (ctx, obj, "iommu", "intremap", TRUE, &sc->intremap) &&
         get_bool (ctx, obj, "iommu", "snoop_control", FALSE, &sc->snoop_control) &&
         get_bool (ctx, obj, "iommu", "dma_remap", FALSE, &sc->dma_remap);
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
      const char *id, *bdf, *backend;
      IovScenarioDevice *d;
      guint domain = 1;

      if (!JSON_NODE_HOLDS_OBJECT (el))
        return fail (ctx, path, _("expected an object"));
      obj = json_node_get_object (el);

      if (!get_string (ctx, obj, path, "id", TRUE, &id) ||
          !get_string (ctx, obj, path, "bdf", TRUE, &bdf) ||
          !get_string (ctx, obj, path, "backend", FALSE, &backend) ||
          !get_small (ctx, obj, path, "domain", FALSE, 0xffff, &domain))
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

      if (!get_bool (ctx, obj, path, "ats", FALSE, &d->ats))
        return FALSE;
      if (!get_bool (ctx, obj, path, "ats_enabled", FALSE, &d->ats_enabled))
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
      const char *name, *owner;
      IovNotifier *n;

      if (!JSON_NODE_HOLDS_OBJECT (el))
        return fail (ctx, path, _("expected an object"));
      obj = json_node_get_object (el);
      if (!get_string (ctx, obj, path, "name", TRUE, &name) ||
          !get_string (ctx, obj, path, "owner", FALSE, &owner))
        return FALSE;
      if (find_notifier (sc, name) >= 0)
        return fail (ctx, path, _("a notifier \"%s\" is already listed"), name);

      n = iov_notifier_new (name, owner, 0, 0, 0);
      g_ptr_array_add (sc->notifiers, n);

      if (!get_u64 (ctx, obj, path, "start", TRUE, &n->start) ||
          !get_u64 (ctx, obj, path, "end", TRUE, &n->end) ||
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
                JsonObject  *obj,
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
            JsonObject  *obj,
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
      if (json_object_has_member (obj, "domain"))
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

static IovScenario *
parse_root (JsonNode    *root_node,
            const char  *display_name,
            GError     **error)
{
  g_autoptr(IovScenario) sc = g_new0 (IovScenario, 1);
  Ctx ctx = { display_name, error };
  JsonObject *root;
  JsonNode *steps_node;
  JsonArray *steps;
  const char *text;

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

  if (!get_string (&ctx, root, NULL, "name", FALSE, &text))
    return NULL;
  sc->name = g_strdup (text);
  if (!get_string (&ctx, root, NULL, "title", FALSE, &text))
    return NULL;
  sc->title = g_strdup (text);
  if (!get_string (&ctx, root, NULL, "summary", FALSE, &text))
    return NULL;
  sc->summary = g_strdup (text);
  if (!get_string (&ctx, root, NULL, "profile", FALSE, &text))
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

  steps_node = json_object_get_member (root, "steps");
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

      if (!JSON_NODE_HOLDS_OBJECT (el))
        {
          fail (&ctx, path, _("expected an object"));
          return NULL;
        }
      if (!parse_step (&ctx, sc, json_node_get_object (el), path, &g_array_index (sc->steps, IovStep, i)))
        return NULL;
    }

  /* vhost runs from the start unless the guest's driver starts it later:
   * a device whose first vhost step is "vhost-start" waits for it. */
  for (guint i = sc->steps->len; i-- > 0;)
    {
      const IovStep *step = &g_array_index (sc->steps, IovStep, i);

      if (step->op == IOV_STEP_VHOST_START || step->op == IOV_STEP_VHOST_STOP)
        ((IovScenarioDevice *) g_ptr_array_index (sc->devices, step->device))->vhost_stopped =
          step->op == IOV_STEP_VHOST_START;
    }

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

IovScenario *
iov_scenario_new_from_data (const char  *data,
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
