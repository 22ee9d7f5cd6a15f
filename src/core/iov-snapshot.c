/* iov-snapshot.c
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
#include <stdio.h>
#include <string.h>

#include "iov-json.h"
#include "iov-snapshot.h"
#include "iov-types.h"

/* A running QEMU's IOMMU picture: its version, its IOMMU device, every PCI
 * function and every FlatView of `info mtree -f`, with each address space
 * tied to its PCI function where the data allows and notifiers inferred
 * from the device's backend (qemu-iommu.md §3, §4.2). */

typedef struct
{
  int   bus;
  int   slot;
  int   function;
  int   secondary;      /* bridges: secondary bus number, else -1 */
  char *qdev_id;
  char *bdf;
  void *parent;         /* the bridge PciFunction above, NULL on a root bus */
  /* from QOM, when matched */
  const IovQomDevice *qom;
} PciFunction;

typedef enum
{
  SPACE_OTHER,
  SPACE_IOMMU,          /* vtd-root, amd_iommu_devfn_N, virtio-iommu-device */
  SPACE_BUS_MASTER,     /* a PCI device's own AS, root "bus master container" */
} SpaceKind;

struct _IovSnapshot
{
  GObject     parent_instance;

  char       *version;
  char       *package;
  guint       major, minor, micro;
  char       *iommu_type;
  JsonObject *iommu_properties;
  GPtrArray  *functions;   /* PciFunction */
  GPtrArray  *qom_devices; /* IovQomDevice */
  char       *mtree_text;
  IovMtree   *mtree;
  GHashTable *space_devices; /* "view:space" → GPtrArray of PciFunction candidates */
  GHashTable *ambiguous;     /* "view:space" keys whose only candidate also fits another space */
  GPtrArray  *notes;         /* char *: what the collector could not ask this QEMU, and why */
};

G_DEFINE_FINAL_TYPE (IovSnapshot, iov_snapshot, G_TYPE_OBJECT)

IovQomDevice *
iov_qom_device_new (const char *qom_path,
                    const char *type)
{
  IovQomDevice *d = g_new0 (IovQomDevice, 1);

  d->qom_path = g_strdup (qom_path);
  d->type = g_strdup (type);
  d->devfn = -1;
  d->iommu_platform = -1;
  d->vhost = -1;
  return d;
}

void
iov_qom_device_free (IovQomDevice *device)
{
  if (device == NULL)
    return;
  g_free (device->qom_path);
  g_free (device->type);
  g_free (device->bus_path);
  g_free (device->netdev);
  g_free (device);
}

static void
pci_function_free (PciFunction *f)
{
  g_free (f->qdev_id);
  g_free (f->bdf);
  g_free (f);
}

static void
iov_snapshot_finalize (GObject *object)
{
  IovSnapshot *self = IOV_SNAPSHOT (object);

  g_free (self->version);
  g_free (self->package);
  g_free (self->iommu_type);
  g_clear_pointer (&self->iommu_properties, json_object_unref);
  g_clear_pointer (&self->functions, g_ptr_array_unref);
  g_clear_pointer (&self->notes, g_ptr_array_unref);
  g_clear_pointer (&self->qom_devices, g_ptr_array_unref);
  g_free (self->mtree_text);
  g_clear_pointer (&self->mtree, iov_mtree_free);
  g_clear_pointer (&self->space_devices, g_hash_table_unref);
  g_clear_pointer (&self->ambiguous, g_hash_table_unref);

  G_OBJECT_CLASS (iov_snapshot_parent_class)->finalize (object);
}

static void
iov_snapshot_class_init (IovSnapshotClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = iov_snapshot_finalize;
}

static void
iov_snapshot_init (IovSnapshot *self)
{
  self->functions = g_ptr_array_new_with_free_func ((GDestroyNotify) pci_function_free);
  self->space_devices = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  self->ambiguous = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/* ---- PCI functions ------------------------------------------------------ */

static void
add_pci_devices (IovSnapshot *self,
                 JsonArray   *devices,
                 PciFunction *parent,
                 guint        depth)
{
  if (devices == NULL || depth > 32)
    return;

  for (guint i = 0; i < json_array_get_length (devices); i++)
    {
      JsonObject *d = iov_json_array_object (devices, i);
      PciFunction *f;

      gint64 bus, slot, function;

      if (d == NULL)
        continue;
      bus = iov_json_int (d, "bus", 0);
      slot = iov_json_int (d, "slot", 0);
      function = iov_json_int (d, "function", 0);
      /* the writer would write a BDF that is none: "12c:28.0" */
      if (bus < 0 || bus > 255 || slot < 0 || slot > 31 || function < 0 || function > 7)
        {
          g_autofree char *note = g_strdup_printf (_("query-pci listed a device at bus %lld, slot %lld, "
                                                     "function %lld, which PCI cannot address: left out"),
                                                   (long long) bus, (long long) slot, (long long) function);

          iov_snapshot_add_note (self, note);
          continue;
        }
      f = g_new0 (PciFunction, 1);
      f->bus = (int) bus;
      f->slot = (int) slot;
      f->function = (int) function;
      f->qdev_id = g_strdup (iov_json_string (d, "qdev_id", ""));
      f->bdf = g_strdup_printf ("%02x:%02x.%x", f->bus, f->slot, f->function);
      f->secondary = -1;
      f->parent = parent;
      g_ptr_array_add (self->functions, f);

      if (json_object_has_member (d, "pci_bridge"))
        {
          JsonObject *bridge = iov_json_object (d, "pci_bridge");
          JsonObject *secondary = bridge ? iov_json_object (bridge, "bus") : NULL;

          if (secondary)
            f->secondary = (int) iov_json_int (secondary, "secondary", -1);
          if (bridge && json_object_has_member (bridge, "devices"))
            add_pci_devices (self, iov_json_array (bridge, "devices"), f, depth + 1);
        }
    }
}

static const IovQomDevice *
find_qom (IovSnapshot *self,
          const char  *path)
{
  if (self->qom_devices == NULL || path == NULL)
    return NULL;
  for (guint i = 0; i < self->qom_devices->len; i++)
    {
      const IovQomDevice *d = g_ptr_array_index (self->qom_devices, i);

      if (g_str_equal (d->qom_path, path))
        return d;
    }
  return NULL;
}

static PciFunction *
function_of (IovSnapshot        *self,
             const IovQomDevice *d)
{
  for (guint i = 0; i < self->functions->len; i++)
    {
      PciFunction *f = g_ptr_array_index (self->functions, i);

      if (f->qom == d)
        return f;
    }
  return NULL;
}

/* Matches a QOM device to the query-pci function in the same place of the
 * PCI tree: same devfn, and behind the function of the QOM bridge that owns
 * its parent bus (or on a root bus). Bus numbers are not used: before the
 * firmware runs, every bridge reports secondary bus 0. */
static PciFunction *
match_one (IovSnapshot        *self,
           const IovQomDevice *d,
           guint               depth)
{
  g_autofree char *owner_path = NULL;
  const IovQomDevice *bridge;
  PciFunction *parent = NULL;
  PciFunction *f;

  if (d->devfn < 0 || d->bus_path == NULL || depth > 32)
    return NULL;
  if ((f = function_of (self, d)) != NULL)
    return f;

  owner_path = g_path_get_dirname (d->bus_path);
  bridge = find_qom (self, owner_path);
  if (bridge != NULL && bridge->devfn >= 0)
    {
      parent = match_one (self, bridge, depth + 1);
      if (parent == NULL)
        return NULL;
    }

  for (guint i = 0; i < self->functions->len; i++)
    {
      f = g_ptr_array_index (self->functions, i);
      if (f->parent == parent && f->qom == NULL &&
          f->slot == (d->devfn >> 3) && f->function == (d->devfn & 7))
        {
          f->qom = d;
          return f;
        }
    }
  return NULL;
}

static void
match_qom_devices (IovSnapshot *self)
{
  if (self->qom_devices == NULL)
    return;
  for (guint i = 0; i < self->qom_devices->len; i++)
    match_one (self, g_ptr_array_index (self->qom_devices, i), 0);
}

/* ---- address spaces ↔ functions ---------------------------------------- */

static gboolean
parse_vtd_root (const char *root,
                int        *devfn)
{
  unsigned slot, fn;
  char tail;

  /* "vtd-%02x.%x" exactly; PASID spaces ("-pasid-N") are not PCI roots */
  if (root == NULL || sscanf (root, "vtd-%2x.%1x%c", &slot, &fn, &tail) != 2)
    return FALSE;
  *devfn = (int) (slot << 3 | fn);
  return TRUE;
}

static SpaceKind
space_kind (const IovMtreeSpace *space,
            int                 *devfn)
{
  const char *p;

  *devfn = -1;
  if (g_str_equal (space->root, "bus master container"))
    return SPACE_BUS_MASTER;
  if (g_str_equal (space->name, "vtd-root") && parse_vtd_root (space->root, devfn))
    return SPACE_IOMMU;
  if (g_str_has_prefix (space->name, "amd_iommu_devfn_"))
    {
      guint64 v;

      if (g_ascii_string_to_unsigned (space->name + strlen ("amd_iommu_devfn_"), 10, 0, 255, &v, NULL))
        *devfn = (int) v;
      return SPACE_IOMMU;
    }
  if (g_str_has_prefix (space->root, "virtio-iommu-memory-region-") &&
      (p = strrchr (space->root, '-')) != NULL)
    {
      guint64 v;

      if (g_ascii_string_to_unsigned (p + 1, 10, 0, 255, &v, NULL))
        *devfn = (int) v;
      return SPACE_IOMMU;
    }
  return SPACE_OTHER;
}

static char *
space_key (guint view,
           guint space)
{
  return g_strdup_printf ("%u:%u", view, space);
}

static GPtrArray *
candidates_for (IovSnapshot         *self,
                const IovMtreeSpace *space,
                SpaceKind            kind,
                int                  devfn)
{
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; i < self->functions->len; i++)
    {
      PciFunction *f = g_ptr_array_index (self->functions, i);

      if (kind == SPACE_IOMMU && devfn >= 0 && (f->slot << 3 | f->function) == devfn)
        g_ptr_array_add (out, f);
      else if (kind == SPACE_BUS_MASTER && f->qom && g_strcmp0 (f->qom->type, space->name) == 0)
        g_ptr_array_add (out, f);
    }
  return out;
}

static void
intersect (GPtrArray *a,
           GPtrArray *b)
{
  for (guint i = a->len; i > 0; i--)
    if (!g_ptr_array_find (b, g_ptr_array_index (a, i - 1), NULL))
      g_ptr_array_remove_index (a, i - 1);
}

static void
resolve_spaces (IovSnapshot *self)
{
  gboolean changed = TRUE;
  guint rounds = 0;

  for (guint v = 0; v < self->mtree->flat_views->len; v++)
    {
      IovMtreeFlatView *view = g_ptr_array_index (self->mtree->flat_views, v);
      GPtrArray *iommu_c = NULL, *bm_c = NULL;
      guint n_iommu = 0, n_bm = 0;

      for (guint s = 0; s < view->spaces->len; s++)
        {
          const IovMtreeSpace *space = g_ptr_array_index (view->spaces, s);
          int devfn;
          SpaceKind kind = space_kind (space, &devfn);
          GPtrArray *c;

          if (kind == SPACE_OTHER)
            continue;
          c = candidates_for (self, space, kind, devfn);
          g_hash_table_insert (self->space_devices, space_key (v, s), c);
          if (kind == SPACE_IOMMU)
            {
              n_iommu++;
              iommu_c = c;
            }
          else
            {
              n_bm++;
              bm_c = c;
            }
        }

      /* A FlatView of its own (DMA remapping on) pairs a device's IOMMU AS
       * with its bus-master AS, which is named after the device's type. */
      if (n_iommu == 1 && n_bm == 1)
        {
          g_autoptr(GPtrArray) both = g_ptr_array_copy (iommu_c, NULL, NULL);

          intersect (both, bm_c);
          if (both->len > 0)
            {
              intersect (iommu_c, both);
              intersect (bm_c, both);
            }
        }
    }

  /* Elimination: a function has one IOMMU AS and one bus-master AS, so a
   * function resolved for one space is no candidate for another of the
   * same kind. */
  while (changed && rounds++ < 16)
    {
      GHashTableIter iter;
      gpointer key, value;

      changed = FALSE;
      g_hash_table_iter_init (&iter, self->space_devices);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          GPtrArray *c = value;
          PciFunction *resolved;
          guint v, s;
          int devfn;
          SpaceKind kind;
          GHashTableIter other;
          gpointer okey, ovalue;

          if (c->len != 1)
            continue;
          resolved = g_ptr_array_index (c, 0);
          sscanf (key, "%u:%u", &v, &s);
          kind = space_kind (g_ptr_array_index (((IovMtreeFlatView *) g_ptr_array_index (self->mtree->flat_views, v))->spaces, s), &devfn);

          g_hash_table_iter_init (&other, self->space_devices);
          while (g_hash_table_iter_next (&other, &okey, &ovalue))
            {
              GPtrArray *oc = ovalue;
              guint ov, os;
              int odevfn;

              if (oc == c || oc->len < 2)
                continue;
              sscanf (okey, "%u:%u", &ov, &os);
              if (space_kind (g_ptr_array_index (((IovMtreeFlatView *) g_ptr_array_index (self->mtree->flat_views, ov))->spaces, os), &odevfn) != kind)
                continue;
              if (g_ptr_array_remove (oc, resolved))
                changed = TRUE;
            }
        }
    }

  /* Two spaces of one kind left with the same single function (e.g. the
   * functions behind an unnumbered bridge are missing from query-pci):
   * neither can be claimed. */
  {
    GHashTableIter iter;
    gpointer key, value;

    g_hash_table_iter_init (&iter, self->space_devices);
    while (g_hash_table_iter_next (&iter, &key, &value))
      {
        GPtrArray *c = value;
        GHashTableIter other;
        gpointer okey, ovalue;
        guint v, s;
        int devfn;
        SpaceKind kind;

        if (c->len != 1)
          continue;
        sscanf (key, "%u:%u", &v, &s);
        kind = space_kind (g_ptr_array_index (((IovMtreeFlatView *) g_ptr_array_index (self->mtree->flat_views, v))->spaces, s), &devfn);
        g_hash_table_iter_init (&other, self->space_devices);
        while (g_hash_table_iter_next (&other, &okey, &ovalue))
          {
            GPtrArray *oc = ovalue;
            guint ov, os;
            int odevfn;

            if (oc == c || oc->len != 1 || g_ptr_array_index (oc, 0) != g_ptr_array_index (c, 0))
              continue;
            sscanf (okey, "%u:%u", &ov, &os);
            if (space_kind (g_ptr_array_index (((IovMtreeFlatView *) g_ptr_array_index (self->mtree->flat_views, ov))->spaces, os), &odevfn) != kind)
              continue;
            g_hash_table_add (self->ambiguous, g_strdup (key));
          }
      }
  }
}

/* ---- construction ------------------------------------------------------- */

/* The IOMMU's properties as QOM answered them, as far as a snapshot can
 * carry them: plain values, text that is UTF-8, an "aw-bits" QEMU
 * accepts.  Anything else is left out, and said. */
static JsonObject *
sane_properties (IovSnapshot *self,
                 JsonObject  *props)
{
  JsonObject *out = json_object_new ();
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  json_object_iter_init (&iter, props);
  while (json_object_iter_next (&iter, &name, &value))
    {
      gboolean ok = g_utf8_validate (name, -1, NULL) && JSON_NODE_HOLDS_VALUE (value);

      if (ok && json_node_get_value_type (value) == G_TYPE_STRING)
        ok = g_utf8_validate (json_node_get_string (value), -1, NULL);
      if (ok && g_str_equal (name, "aw-bits"))
        ok = json_node_get_value_type (value) == G_TYPE_INT64 && json_node_get_int (value) >= 32 &&
             json_node_get_int (value) <= 64;
      if (ok)
        json_object_set_member (out, name, json_node_copy (value));
      else
        {
          g_autofree char *shown = g_utf8_make_valid (name, -1);
          g_autofree char *note = g_strdup_printf (_("The IOMMU's property “%s” as QEMU answered it cannot be "
                                                     "shown: left out"), shown);

          iov_snapshot_add_note (self, note);
        }
    }
  return out;
}

IovSnapshot *
iov_snapshot_new_from_data (const char *version,
                            const char *package,
                            const char *iommu_type,
                            JsonObject *iommu_properties,
                            JsonNode   *query_pci,
                            GPtrArray  *qom_devices,
                            const char *mtree_text)
{
  IovSnapshot *self = g_object_new (IOV_TYPE_SNAPSHOT, NULL);

  self->version = g_strdup (version);
  self->package = g_strdup (package);
  if (version)
    sscanf (version, "%u.%u.%u", &self->major, &self->minor, &self->micro);
  self->iommu_type = g_strdup (iommu_type);
  if (iommu_properties)
    self->iommu_properties = sane_properties (self, iommu_properties);
  if (qom_devices)
    self->qom_devices = g_ptr_array_ref (qom_devices);

  if (query_pci && JSON_NODE_HOLDS_ARRAY (query_pci))
    {
      JsonArray *buses = json_node_get_array (query_pci);

      for (guint i = 0; i < json_array_get_length (buses); i++)
        {
          JsonObject *bus = iov_json_array_object (buses, i);

          if (bus && json_object_has_member (bus, "devices"))
            add_pci_devices (self, iov_json_array (bus, "devices"), NULL, 0);
        }
    }
  match_qom_devices (self);

  /* QMP's JSON strings are UTF-8; text from anywhere else is made so
   * here, once, so that every name the snapshot writes is text. */
  self->mtree_text = g_utf8_make_valid (mtree_text ? mtree_text : "", -1);
  self->mtree = iov_mtree_parse (self->mtree_text, -1);
  resolve_spaces (self);
  return self;
}

const IovMtree *
iov_snapshot_get_mtree (IovSnapshot *self)
{
  g_return_val_if_fail (IOV_IS_SNAPSHOT (self), NULL);
  return self->mtree;
}

void
iov_snapshot_add_note (IovSnapshot *self,
                       const char  *note)
{
  g_return_if_fail (IOV_IS_SNAPSHOT (self));
  g_return_if_fail (note != NULL);

  if (self->notes == NULL)
    self->notes = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < self->notes->len; i++)
    if (g_str_equal (g_ptr_array_index (self->notes, i), note))
      return;
  g_ptr_array_add (self->notes, g_strdup (note));
}

/* Returns: (transfer none) (nullable): the notes, or NULL when none */
GPtrArray *
iov_snapshot_get_notes (IovSnapshot *self)
{
  g_return_val_if_fail (IOV_IS_SNAPSHOT (self), NULL);
  return self->notes;
}

/* ---- JSON --------------------------------------------------------------- */

static void
add_hex (JsonBuilder *b,
         const char  *name,
         guint64      value)
{
  char buf[20];

  iov_hex_buf (value, buf);
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, buf);
}

static gboolean
version_at_least (IovSnapshot *self,
                  guint        major,
                  guint        minor,
                  guint        micro)
{
  if (self->major != major)
    return self->major > major;
  if (self->minor != minor)
    return self->minor > minor;
  return self->micro >= micro;
}

/* vhost's notifier flag (§3): ≤5.2 UNMAP; 6.0–7.2.4 and 8.0 DEVIOTLB_UNMAP
 * when the IOMMU accepts it, else UNMAP; 7.2.5+ and 8.1+ it follows the
 * guest's ATS Enable bit, which QMP cannot show. NULL = unknown. */
static const char *
vhost_flags (IovSnapshot *self)
{
  gboolean dt;

  if (self->version == NULL)
    return NULL;
  if (!version_at_least (self, 6, 0, 0))
    return "unmap";
  if ((version_at_least (self, 7, 2, 5) && !version_at_least (self, 8, 0, 0)) || version_at_least (self, 8, 1, 0))
    return NULL;
  if (g_strcmp0 (self->iommu_type, "intel-iommu") != 0 || self->iommu_properties == NULL ||
      !json_object_has_member (self->iommu_properties, "device-iotlb"))
    return NULL;
  dt = iov_json_bool (self->iommu_properties, "device-iotlb", FALSE);
  return dt ? "deviotlb-unmap" : "unmap";
}

static PciFunction *
view_device (IovSnapshot *self,
             guint        v)
{
  IovMtreeFlatView *view = g_ptr_array_index (self->mtree->flat_views, v);
  PciFunction *found = NULL;

  for (guint s = 0; s < view->spaces->len; s++)
    {
      g_autofree char *key = space_key (v, s);
      GPtrArray *c = g_hash_table_lookup (self->space_devices, key);

      if (c == NULL || c->len != 1 || g_hash_table_contains (self->ambiguous, key))
        continue;
      if (found != NULL && found != g_ptr_array_index (c, 0))
        return NULL; /* several devices share the view */
      found = g_ptr_array_index (c, 0);
    }
  return found;
}

static void
add_notifiers (JsonBuilder      *b,
               IovSnapshot      *self,
               IovMtreeFlatView *view,
               PciFunction      *device)
{
  const IovQomDevice *qom = device ? device->qom : NULL;
  const char *consumer = NULL;
  const char *flags = NULL;
  g_autoptr(GArray) ranges = NULL;

  json_builder_set_member_name (b, "notifiers");
  json_builder_begin_array (b);

  if (qom != NULL && qom->type != NULL)
    {
      if (g_str_equal (qom->type, "vfio-pci"))
        {
          consumer = "vfio";
          flags = "map|unmap";
        }
      else if (qom->vhost == 1 && qom->iommu_platform == 1)
        {
          consumer = "vhost";
          flags = vhost_flags (self);
        }
    }

  if (consumer != NULL)
    {
      ranges = iov_mtree_flat_view_notifier_ranges (view);
      for (guint i = 0; i < ranges->len; i++)
        {
          const IovMtreeNotifierRange *n = &g_array_index (ranges, IovMtreeNotifierRange, i);

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "consumer");
          json_builder_add_string_value (b, consumer);
          json_builder_set_member_name (b, "device");
          json_builder_add_string_value (b, device->bdf);
          json_builder_set_member_name (b, "region");
          json_builder_add_string_value (b, n->region);
          add_hex (b, "start", n->start);
          add_hex (b, "end", n->end);
          json_builder_set_member_name (b, "flags");
          if (flags)
            json_builder_add_string_value (b, flags);
          else
            json_builder_add_null_value (b);
          /* flags come from the release's rule here, never from QEMU */
          if (flags)
            {
              json_builder_set_member_name (b, "flags_source");
              json_builder_add_string_value (b, "profile");
            }
          json_builder_set_member_name (b, "inferred");
          json_builder_add_boolean_value (b, TRUE);
          json_builder_end_object (b);
        }
    }
  json_builder_end_array (b);
}

static void
add_address_space (JsonBuilder *b,
                   IovSnapshot *self,
                   guint        v)
{
  IovMtreeFlatView *view = g_ptr_array_index (self->mtree->flat_views, v);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "spaces");
  json_builder_begin_array (b);
  for (guint s = 0; s < view->spaces->len; s++)
    {
      const IovMtreeSpace *space = g_ptr_array_index (view->spaces, s);
      g_autofree char *key = space_key (v, s);
      GPtrArray *c = g_hash_table_lookup (self->space_devices, key);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, space->name);
      json_builder_set_member_name (b, "root");
      json_builder_add_string_value (b, space->root);
      if (space->alias)
        {
          json_builder_set_member_name (b, "alias");
          json_builder_add_string_value (b, space->alias);
        }
      if (c != NULL)
        {
          gboolean unsure = g_hash_table_contains (self->ambiguous, key);

          json_builder_set_member_name (b, "device");
          if (c->len == 1 && !unsure)
            json_builder_add_string_value (b, ((PciFunction *) g_ptr_array_index (c, 0))->bdf);
          else
            json_builder_add_null_value (b);
          if (c->len > 1 || unsure)
            {
              /* VT-d names carry no bus number: say which functions it can be */
              json_builder_set_member_name (b, "candidates");
              json_builder_begin_array (b);
              for (guint i = 0; i < c->len; i++)
                json_builder_add_string_value (b, ((PciFunction *) g_ptr_array_index (c, i))->bdf);
              json_builder_end_array (b);
            }
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "root_region");
  if (view->root_region)
    json_builder_add_string_value (b, view->root_region);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "iommu");
  json_builder_add_boolean_value (b, iov_mtree_flat_view_has_iommu (view));

  json_builder_set_member_name (b, "flat_ranges");
  json_builder_begin_array (b);
  for (guint i = 0; i < view->ranges->len; i++)
    {
      const IovMtreeRange *r = &g_array_index (view->ranges, IovMtreeRange, i);

      json_builder_begin_object (b);
      add_hex (b, "start", r->start);
      add_hex (b, "end", r->end);
      json_builder_set_member_name (b, "priority");
      json_builder_add_int_value (b, r->priority);
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, r->kind);
      json_builder_set_member_name (b, "region");
      json_builder_add_string_value (b, r->region);
      add_hex (b, "offset", r->offset);
      json_builder_set_member_name (b, "role");
      json_builder_add_string_value (b, iov_range_role_to_string (r->role));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  add_notifiers (b, self, view, view_device (self, v));
  json_builder_end_object (b);
}

JsonNode *
iov_snapshot_to_json (IovSnapshot *self,
                      gboolean     include_mtree)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (IOV_IS_SNAPSHOT (self), NULL);

  json_builder_begin_object (b);

  json_builder_set_member_name (b, "qemu");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, self->version);
  json_builder_set_member_name (b, "package");
  json_builder_add_string_value (b, self->package);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "iommu");
  if (self->iommu_type)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, self->iommu_type);
      json_builder_set_member_name (b, "properties");
      if (self->iommu_properties)
        {
          g_autoptr(JsonNode) props = json_node_new (JSON_NODE_OBJECT);

          json_node_set_object (props, self->iommu_properties);
          json_builder_add_value (b, json_node_copy (props));
        }
      else
        {
          json_builder_begin_object (b);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);

  json_builder_set_member_name (b, "devices");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->functions->len; i++)
    {
      PciFunction *f = g_ptr_array_index (self->functions, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "bdf");
      json_builder_add_string_value (b, f->bdf);
      json_builder_set_member_name (b, "type");
      if (f->qom && f->qom->type)
        json_builder_add_string_value (b, f->qom->type);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "qom_path");
      if (f->qom)
        json_builder_add_string_value (b, f->qom->qom_path);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "vhost");
      if (f->qom && f->qom->vhost >= 0)
        json_builder_add_boolean_value (b, f->qom->vhost == 1);
      else if (f->qom && !g_str_has_prefix (f->qom->type, "virtio-") && !g_str_has_prefix (f->qom->type, "vhost-"))
        json_builder_add_boolean_value (b, FALSE);
      else
        json_builder_add_null_value (b);
      if (f->qom && f->qom->vhost_source)
        {
          json_builder_set_member_name (b, "vhost_source");
          json_builder_add_string_value (b, f->qom->vhost_source);
        }
      if (f->qom && f->qom->netdev)
        {
          json_builder_set_member_name (b, "netdev");
          json_builder_add_string_value (b, f->qom->netdev);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  if (self->notes != NULL)
    {
      json_builder_set_member_name (b, "notes");
      json_builder_begin_array (b);
      for (guint i = 0; i < self->notes->len; i++)
        json_builder_add_string_value (b, g_ptr_array_index (self->notes, i));
      json_builder_end_array (b);
    }

  json_builder_set_member_name (b, "address_spaces");
  json_builder_begin_array (b);
  for (guint v = 0; v < self->mtree->flat_views->len; v++)
    {
      IovMtreeFlatView *view = g_ptr_array_index (self->mtree->flat_views, v);

      if (view->ranges->len > 0)
        add_address_space (b, self, v);
    }
  json_builder_end_array (b);

  if (include_mtree)
    {
      json_builder_set_member_name (b, "mtree");
      json_builder_add_string_value (b, self->mtree_text);
    }

  json_builder_end_object (b);
  return json_builder_get_root (b);
}

char *
iov_snapshot_to_string (IovSnapshot *self,
                        gboolean     include_mtree,
                        gboolean     pretty)
{
  g_autoptr(JsonNode) root = iov_snapshot_to_json (self, include_mtree);
  g_autoptr(JsonGenerator) gen = json_generator_new ();

  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, pretty);
  json_generator_set_indent (gen, 2);
  return json_generator_to_data (gen, NULL);
}

/* ---- changes ------------------------------------------------------------ */

static char *
view_summary (IovSnapshot *self,
              guint        v,
              char       **who)
{
  IovMtreeFlatView *view = g_ptr_array_index (self->mtree->flat_views, v);
  PciFunction *f = view_device (self, v);
  const IovMtreeSpace *first = view->spaces->len ? g_ptr_array_index (view->spaces, 0) : NULL;
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < view->ranges->len; i++)
    {
      const IovMtreeRange *r = &g_array_index (view->ranges, IovMtreeRange, i);
      g_string_append_printf (s, "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x:%s:%" G_GINT64_MODIFIER "x;",
                              r->start, r->end, r->region, r->offset);
    }
  if (f)
    *who = g_strdup (f->bdf);
  else if (first)
    *who = g_strdup_printf ("%s (%s)", first->name, first->root);
  else
    *who = g_strdup ("?");
  return g_string_free (s, FALSE);
}

void
iov_snapshot_change_free (IovSnapshotChange *change)
{
  if (change == NULL)
    return;
  g_free (change->device);
  g_free (change->message);
  g_free (change);
}

const char *
iov_snapshot_change_kind_to_string (IovSnapshotChangeKind kind)
{
  switch (kind)
    {
    case IOV_SNAPSHOT_CHANGE_REMAPPING_ON:
      return "remapping-on";
    case IOV_SNAPSHOT_CHANGE_REMAPPING_OFF:
      return "remapping-off";
    case IOV_SNAPSHOT_CHANGE_RANGES:
    default:
      return "ranges";
    }
}

static IovSnapshotChange *
change_new (IovSnapshotChangeKind  kind,
            char                  *device,
            guint                  n_ranges)
{
  IovSnapshotChange *change = g_new0 (IovSnapshotChange, 1);

  change->kind = kind;
  change->device = device;
  change->n_ranges = n_ranges;
  switch (kind)
    {
    case IOV_SNAPSHOT_CHANGE_REMAPPING_ON:
      change->message = g_strdup_printf (_("%s switched to DMA remapping: %u ranges"), device, n_ranges);
      break;
    case IOV_SNAPSHOT_CHANGE_REMAPPING_OFF:
      change->message = g_strdup_printf (_("%s left DMA remapping: %u ranges"), device, n_ranges);
      break;
    case IOV_SNAPSHOT_CHANGE_RANGES:
    default:
      change->message = g_strdup_printf (_("%s address space changed: %u ranges"), device, n_ranges);
      break;
    }
  return change;
}

/**
 * iov_snapshot_diff_changes:
 * @old_snapshot: (nullable): the earlier snapshot; %NULL gives no changes
 * @new_snapshot: the later one
 *
 * Compares the FlatViews that belong to one PCI function each.
 *
 * Returns: (transfer full) (element-type IovSnapshotChange): one change per
 *   device whose ranges differ, in the order of @new_snapshot's FlatViews.
 */
GPtrArray *
iov_snapshot_diff_changes (IovSnapshot *old_snapshot,
                           IovSnapshot *new_snapshot)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) iov_snapshot_change_free);
  g_autoptr(GHashTable) before = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) before_iommu = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_return_val_if_fail (IOV_IS_SNAPSHOT (new_snapshot), out);
  g_return_val_if_fail (old_snapshot == NULL || IOV_IS_SNAPSHOT (old_snapshot), out);

  if (old_snapshot == NULL)
    return out;

  for (guint v = 0; v < old_snapshot->mtree->flat_views->len; v++)
    {
      IovMtreeFlatView *view = g_ptr_array_index (old_snapshot->mtree->flat_views, v);
      g_autofree char *who = NULL;
      char *sum;

      if (view_device (old_snapshot, v) == NULL)
        continue;
      sum = view_summary (old_snapshot, v, &who);
      g_hash_table_insert (before_iommu, g_strdup (who), GINT_TO_POINTER (iov_mtree_flat_view_has_iommu (view)));
      g_hash_table_insert (before, g_steal_pointer (&who), sum);
    }

  for (guint v = 0; v < new_snapshot->mtree->flat_views->len; v++)
    {
      IovMtreeFlatView *view = g_ptr_array_index (new_snapshot->mtree->flat_views, v);
      g_autofree char *who = NULL;
      g_autofree char *sum = NULL;
      const char *old_sum;
      gboolean iommu = iov_mtree_flat_view_has_iommu (view);
      IovSnapshotChangeKind kind;

      if (view_device (new_snapshot, v) == NULL)
        continue;
      sum = view_summary (new_snapshot, v, &who);
      old_sum = g_hash_table_lookup (before, who);
      if (old_sum != NULL && g_str_equal (old_sum, sum))
        continue;
      if (iommu && (old_sum == NULL || !GPOINTER_TO_INT (g_hash_table_lookup (before_iommu, who))))
        kind = IOV_SNAPSHOT_CHANGE_REMAPPING_ON;
      else if (!iommu && old_sum != NULL && GPOINTER_TO_INT (g_hash_table_lookup (before_iommu, who)))
        kind = IOV_SNAPSHOT_CHANGE_REMAPPING_OFF;
      else
        kind = IOV_SNAPSHOT_CHANGE_RANGES;
      g_ptr_array_add (out, change_new (kind, g_steal_pointer (&who), view->ranges->len));
    }
  return out;
}

/**
 * iov_snapshot_diff:
 *
 * Returns: (transfer full): human-readable changes per device, e.g.
 *   "00:02.0 switched to DMA remapping: 3 ranges"; the messages of
 *   iov_snapshot_diff_changes().
 */
GPtrArray *
iov_snapshot_diff (IovSnapshot *old_snapshot,
                   IovSnapshot *new_snapshot)
{
  g_autoptr(GPtrArray) changes = iov_snapshot_diff_changes (old_snapshot, new_snapshot);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < changes->len; i++)
    {
      IovSnapshotChange *change = g_ptr_array_index (changes, i);

      g_ptr_array_add (out, g_steal_pointer (&change->message));
    }
  return out;
}

/**
 * iov_snapshot_netdev_type:
 * @network: HMP `info network` text
 * @netdev: a netdev id
 *
 * Returns: (transfer full) (nullable): the "type=" of the net client named
 * @netdev ("vhost-user", "tap", "user", …), or NULL when it is not listed.
 * Lines read "NAME: index=N,type=TYPE,…", a NIC's peer indented with "\ ".
 */
char *
iov_snapshot_netdev_type (const char *network,
                          const char *netdev)
{
  g_auto(GStrv) lines = NULL;

  g_return_val_if_fail (network != NULL && netdev != NULL, NULL);

  lines = g_strsplit (network, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      const char *p = lines[i];
      gsize n = strlen (netdev);
      const char *type, *end;

      while (*p == ' ' || *p == '\\')
        p++;
      if (strncmp (p, netdev, n) != 0 || strncmp (p + n, ": index=", 8) != 0)
        continue;
      type = strstr (p + n, ",type=");
      if (type == NULL)
        continue;
      type += 6;
      end = type + strcspn (type, ",\r\n");
      return g_strndup (type, end - type);
    }
  return NULL;
}

/* ---- collecting from a live QEMU ---------------------------------------- */

typedef struct
{
  IovQmpClient *client;
  guint         stage;
  guint         outstanding;
  GPtrArray    *replies;      /* JsonNode or NULL, by request index */
  GPtrArray    *errors;       /* GError or NULL */
  GPtrArray    *requests;     /* char * labels "kind\tpath\tproperty" */
  /* results */
  JsonNode     *query_pci;
  char         *mtree;
  GPtrArray    *devices;      /* IovQomDevice */
  GPtrArray    *virtio_paths; /* char * */
  char         *iommu_type;
  char         *iommu_path;
  JsonObject   *iommu_props;
  char         *network;      /* HMP info network, or NULL */
  gboolean      virtio_status; /* x-query-virtio-status was sent */
  GPtrArray    *notes;        /* char *: commands this QEMU was not sent, and why */
  GError       *fatal;
} Collect;

static void
node_unref0 (gpointer node)
{
  if (node)
    json_node_unref (node);
}

static void
error_free0 (gpointer error)
{
  if (error)
    g_error_free (error);
}

static void
collect_free (Collect *c)
{
  g_clear_object (&c->client);
  g_clear_pointer (&c->replies, g_ptr_array_unref);
  g_clear_pointer (&c->errors, g_ptr_array_unref);
  g_clear_pointer (&c->requests, g_ptr_array_unref);
  g_clear_pointer (&c->query_pci, json_node_unref);
  g_free (c->mtree);
  g_clear_pointer (&c->devices, g_ptr_array_unref);
  g_clear_pointer (&c->virtio_paths, g_ptr_array_unref);
  g_free (c->iommu_type);
  g_free (c->iommu_path);
  g_clear_pointer (&c->iommu_props, json_object_unref);
  g_free (c->network);
  g_clear_pointer (&c->notes, g_ptr_array_unref);
  g_clear_error (&c->fatal);
  g_free (c);
}

static const char *iommu_types[] = { "intel-iommu", "amd-iommu", "virtio-iommu-pci", "virtio-iommu-device", "arm-smmuv3" };

static const char *intel_props[] = {
  "aw-bits", "caching-mode", "device-iotlb", "intremap", "eim", "pt", "x-scalable-mode",
  "dma-drain", "dma-translation", "x-pasid-mode", "snoop-control", "version",
};
static const char *amd_props[] = { "device-iotlb", "intremap", "xtsup", "pt", "dma-remap" };
static const char *virtio_iommu_props[] = { "boot-bypass", "granule", "aw-bits" };

static void stage_run (GTask *task);

typedef struct
{
  GTask *task;
  guint  index;
} RequestData;

static void
request_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  RequestData *rd = user_data;
  GTask *task = rd->task;
  Collect *c = g_task_get_task_data (task);
  GError *error = NULL;
  JsonNode *reply;

  reply = iov_qmp_client_execute_finish (IOV_QMP_CLIENT (source), result, &error);
  g_ptr_array_index (c->replies, rd->index) = reply;
  g_ptr_array_index (c->errors, rd->index) = error;
  g_free (rd);

  /* Losing the connection fails the whole snapshot; a refused command
   * (e.g. a property this QEMU does not have) only leaves a gap. */
  if (iov_qmp_error_is_lost (error) && c->fatal == NULL)
    c->fatal = g_error_copy (error);

  if (--c->outstanding == 0)
    stage_run (task);
  g_object_unref (task);
}

static void
request (GTask      *task,
         const char *label,
         const char *command,
         JsonNode   *args)
{
  Collect *c = g_task_get_task_data (task);
  RequestData *rd = g_new0 (RequestData, 1);

  rd->task = g_object_ref (task);
  rd->index = c->requests->len;
  g_ptr_array_add (c->requests, g_strdup (label));
  g_ptr_array_add (c->replies, NULL);
  g_ptr_array_add (c->errors, NULL);
  c->outstanding++;
  iov_qmp_client_execute_async (c->client, command, args, g_task_get_cancellable (task), request_done, rd);
}

static JsonNode *
args_new (const char *k1,
          const char *v1,
          const char *k2,
          const char *v2)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, k1);
  json_builder_add_string_value (b, v1);
  if (k2)
    {
      json_builder_set_member_name (b, k2);
      json_builder_add_string_value (b, v2);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
qom_get (GTask      *task,
         const char *path,
         const char *property)
{
  g_autoptr(JsonNode) args = args_new ("path", path, "property", property);
  g_autofree char *label = g_strdup_printf ("qom-get\t%s\t%s", path, property);

  request (task, label, "qom-get", args);
}

static void
reset_replies (Collect *c)
{
  g_ptr_array_set_size (c->replies, 0);
  g_ptr_array_set_size (c->errors, 0);
  g_ptr_array_set_size (c->requests, 0);
}

static IovQomDevice *
device_by_path (Collect    *c,
                const char *path)
{
  for (guint i = 0; i < c->devices->len; i++)
    {
      IovQomDevice *d = g_ptr_array_index (c->devices, i);

      if (g_str_equal (d->qom_path, path))
        return d;
    }
  return NULL;
}

static gboolean
is_device_type (const char *type)
{
  static const char *skip[] = { "memory-region", "irq", "System", "PCIE", "PCI", "ISA", "qemu:memory-region" };

  for (guint i = 0; i < G_N_ELEMENTS (skip); i++)
    if (g_str_equal (type, skip[i]))
      return FALSE;
  return !g_str_has_suffix (type, "-cpu");
}

static void
stage1_results (Collect *c)
{
  for (guint i = 0; i < c->requests->len; i++)
    {
      const char *label = g_ptr_array_index (c->requests, i);
      JsonNode *reply = g_ptr_array_index (c->replies, i);

      if (reply == NULL)
        continue;
      if (g_str_equal (label, "query-pci"))
        c->query_pci = json_node_ref (reply);
      else if (g_str_equal (label, "mtree") && JSON_NODE_HOLDS_VALUE (reply))
        c->mtree = g_strdup (json_node_get_string (reply));
      else if (g_str_equal (label, "query-qmp-schema"))
        {
          g_autoptr(GError) error = NULL;

          /* Without a schema the policy still knows the release; the
           * commands it does not offer then fail one by one instead. */
          if (!iov_qmp_client_set_schema (c->client, reply, &error))
            g_debug ("%s", error->message);
        }
      else if (g_str_has_prefix (label, "qom-list\t") && JSON_NODE_HOLDS_ARRAY (reply))
        {
          const char *parent = label + strlen ("qom-list\t");
          JsonArray *a = json_node_get_array (reply);

          for (guint j = 0; j < json_array_get_length (a); j++)
            {
              JsonObject *o = iov_json_array_object (a, j);
              const char *name = o ? iov_json_string (o, "name", NULL) : NULL;
              const char *type = o ? iov_json_string (o, "type", NULL) : NULL;
              g_autofree char *t = NULL;
              g_autofree char *path = NULL;

              if (!name || !type || !g_str_has_prefix (type, "child<") || !g_str_has_suffix (type, ">"))
                continue;
              t = g_strndup (type + 6, strlen (type) - 7);
              if (!is_device_type (t))
                continue;
              path = g_strdup_printf ("%s/%s", parent, name);
              g_ptr_array_add (c->devices, iov_qom_device_new (path, t));

              for (guint k = 0; k < G_N_ELEMENTS (iommu_types); k++)
                if (c->iommu_type == NULL && g_str_equal (t, iommu_types[k]) &&
                    !g_str_equal (t, "virtio-iommu-device"))
                  {
                    c->iommu_type = g_strdup (t);
                    c->iommu_path = g_strdup (path);
                  }
            }
        }
    }
}

static void
stage2_results (Collect *c)
{
  for (guint i = 0; i < c->requests->len; i++)
    {
      const char *label = g_ptr_array_index (c->requests, i);
      JsonNode *reply = g_ptr_array_index (c->replies, i);
      g_auto(GStrv) parts = g_strsplit (label, "\t", 3);

      if (reply == NULL || !JSON_NODE_HOLDS_VALUE (reply))
        continue;

      if (g_str_equal (parts[0], "qom-get") && parts[1] && parts[2])
        {
          IovQomDevice *d = device_by_path (c, parts[1]);

          if (c->iommu_path && g_str_equal (parts[1], c->iommu_path) &&
              !g_str_equal (parts[2], "addr") && !g_str_equal (parts[2], "parent_bus") &&
              !g_str_equal (parts[2], "iommu_platform"))
            {
              json_object_set_member (c->iommu_props, parts[2], json_node_copy (reply));
              continue;
            }
          if (d == NULL)
            continue;
          if (g_str_equal (parts[2], "addr") && json_node_get_value_type (reply) == G_TYPE_INT64)
            d->devfn = (int) json_node_get_int (reply);
          else if (g_str_equal (parts[2], "parent_bus") && json_node_get_value_type (reply) == G_TYPE_STRING)
            {
              g_free (d->bus_path);
              d->bus_path = g_strdup (json_node_get_string (reply));
            }
          else if (g_str_equal (parts[2], "iommu_platform") && json_node_get_value_type (reply) == G_TYPE_BOOLEAN)
            d->iommu_platform = json_node_get_boolean (reply);
          else if (g_str_equal (parts[2], "netdev") && json_node_get_value_type (reply) == G_TYPE_STRING &&
                   *json_node_get_string (reply) != '\0')
            {
              g_free (d->netdev);
              d->netdev = g_strdup (json_node_get_string (reply));
            }
        }
      else if (g_str_equal (parts[0], "network") && json_node_get_value_type (reply) == G_TYPE_STRING)
        {
          g_free (c->network);
          c->network = g_strdup (json_node_get_string (reply));
        }
    }

  /* The netdev's type, from HMP info network: a vhost-user or vhost-vdpa
   * netdev is vhost; a tap may be, which x-query-virtio-status tells. */
  for (guint i = 0; i < c->devices->len; i++)
    {
      IovQomDevice *d = g_ptr_array_index (c->devices, i);
      g_autofree char *type = NULL;

      if (d->netdev == NULL || c->network == NULL || d->vhost_source != NULL)
        continue;
      type = iov_snapshot_netdev_type (c->network, d->netdev);
      if (type == NULL)
        continue;
      if (g_str_equal (type, "vhost-user") || g_str_equal (type, "vhost-vdpa"))
        d->vhost = 1, d->vhost_source = "netdev";
      else if (!g_str_equal (type, "tap"))
        d->vhost = 0, d->vhost_source = "netdev";
      else if (!c->virtio_status)
        {
          g_autofree char *note = g_strdup_printf (_("Whether %s's tap netdev “%s” uses vhost cannot be read "
                                                     "without x-query-virtio-status: the trace decides "
                                                     "(vhost_dev_start)"), d->qom_path, d->netdev);
          g_ptr_array_add (c->notes, g_steal_pointer (&note));
        }
    }

  /* x-query-virtio-status: "vhost-started", and "vhost-dev" when a vhost
   * backend exists */
  for (guint i = 0; i < c->requests->len; i++)
    {
      const char *label = g_ptr_array_index (c->requests, i);
      JsonNode *reply = g_ptr_array_index (c->replies, i);
      g_autofree char *dev_path = NULL;
      IovQomDevice *d;
      JsonObject *o;

      if (!g_str_has_prefix (label, "virtio-status\t") || reply == NULL || !JSON_NODE_HOLDS_OBJECT (reply))
        continue;
      o = json_node_get_object (reply);
      dev_path = g_path_get_dirname (label + strlen ("virtio-status\t"));
      d = device_by_path (c, dev_path);
      if (d == NULL)
        continue;
      if (iov_json_bool (o, "vhost-started", FALSE) ||
          json_object_has_member (o, "vhost-dev"))
        d->vhost = 1, d->vhost_source = "x-query-virtio-status";
      else if (d->vhost_source == NULL)
        d->vhost = 0;
    }

  for (guint i = 0; i < c->devices->len; i++)
    {
      IovQomDevice *d = g_ptr_array_index (c->devices, i);

      if (g_str_has_prefix (d->type, "vhost-"))
        d->vhost = 1, d->vhost_source = "type";
    }
}

static void
stage_run (GTask *task)
{
  Collect *c = g_task_get_task_data (task);

  if (c->fatal != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&c->fatal));
      return;
    }

  switch (c->stage++)
    {
    case 0:
      {
        static const char *containers[] = { "/machine/peripheral", "/machine/peripheral-anon", "/machine/unattached", "/machine/q35", "/machine/i440fx" };
        g_autoptr(JsonNode) mtree_args = args_new ("command-line", "info mtree -f", NULL, NULL);

        /* The schema first: it tells the policy what this QEMU offers
         * and marks unstable, before anything else is decided. */
        if (!iov_qmp_client_has_schema (c->client))
          request (task, "query-qmp-schema", "query-qmp-schema", NULL);
        request (task, "query-pci", "query-pci", NULL);
        request (task, "mtree", "human-monitor-command", mtree_args);
        for (guint i = 0; i < G_N_ELEMENTS (containers); i++)
          {
            g_autoptr(JsonNode) args = args_new ("path", containers[i], NULL, NULL);
            g_autofree char *label = g_strconcat ("qom-list\t", containers[i], NULL);

            request (task, label, "qom-list", args);
          }
        return;
      }

    case 1:
      {
        guint before;

        for (guint i = 0; i < c->requests->len; i++)
          {
            GError *e = g_ptr_array_index (c->errors, i);
            const char *label = g_ptr_array_index (c->requests, i);

            if (e != NULL && (g_str_equal (label, "query-pci") || g_str_equal (label, "mtree")))
              {
                g_task_return_new_error (task, e->domain, e->code, _("%s failed: %s"),
                                         g_str_equal (label, "mtree") ? "info mtree -f" : label, e->message);
                return;
              }
          }
        stage1_results (c);
        reset_replies (c);

        before = c->outstanding;
        for (guint i = 0; i < c->devices->len; i++)
          {
            IovQomDevice *d = g_ptr_array_index (c->devices, i);

            qom_get (task, d->qom_path, "addr");
            qom_get (task, d->qom_path, "parent_bus");
            if (g_str_has_prefix (d->type, "virtio-") || g_str_has_prefix (d->type, "vhost-"))
              qom_get (task, d->qom_path, "iommu_platform");
          }
        if (c->iommu_path)
          {
            const char **props = intel_props;
            guint n = G_N_ELEMENTS (intel_props);

            if (g_str_equal (c->iommu_type, "amd-iommu"))
              props = amd_props, n = G_N_ELEMENTS (amd_props);
            else if (g_str_has_prefix (c->iommu_type, "virtio-iommu"))
              props = virtio_iommu_props, n = G_N_ELEMENTS (virtio_iommu_props);
            else if (!g_str_equal (c->iommu_type, "intel-iommu"))
              n = 0;
            for (guint i = 0; i < n; i++)
              qom_get (task, c->iommu_path, props[i]);
          }
        /* vhost: x-query-virtio-status where this release's policy
         * allows it, else the netdev's type from info network. A virtio
         * PCI device's backend is its child "virtio-backend" (the path
         * x-query-virtio would list, without sending an x- command). */
        for (guint i = 0; i < c->devices->len; i++)
          {
            IovQomDevice *d = g_ptr_array_index (c->devices, i);

            if (g_str_has_prefix (d->type, "virtio-") && strstr (d->type, "-pci") != NULL)
              g_ptr_array_add (c->virtio_paths, g_strconcat (d->qom_path, "/virtio-backend", NULL));
          }
        if (c->virtio_paths->len > 0)
          {
            g_autoptr(JsonNode) probe = args_new ("path", g_ptr_array_index (c->virtio_paths, 0), NULL, NULL);
            g_autoptr(JsonNode) net_args = args_new ("command-line", "info network", NULL, NULL);
            g_autoptr(GError) refused = NULL;
            gboolean any_net = FALSE;

            /* The netdev's type says vhost before the guest starts it (then
             * x-query-virtio-status still says neither vhost-started nor
             * vhost-dev), with stable commands, on every release. */
            for (guint i = 0; i < c->devices->len; i++)
              {
                IovQomDevice *d = g_ptr_array_index (c->devices, i);

                if (g_str_has_prefix (d->type, "virtio-net-"))
                  {
                    qom_get (task, d->qom_path, "netdev");
                    any_net = TRUE;
                  }
              }
            if (any_net)
              request (task, "network", "human-monitor-command", net_args);
            c->virtio_status = iov_qmp_client_check (c->client, "x-query-virtio-status", probe, &refused);
            if (c->virtio_status)
              for (guint i = 0; i < c->virtio_paths->len; i++)
                {
                  const char *path = g_ptr_array_index (c->virtio_paths, i);
                  g_autoptr(JsonNode) args = args_new ("path", path, NULL, NULL);
                  g_autofree char *label = g_strconcat ("virtio-status\t", path, NULL);

                  request (task, label, "x-query-virtio-status", args);
                }
            else
              g_ptr_array_add (c->notes, g_strdup_printf (_("%s; vhost is read from each virtio-net device's "
                                                            "netdev type (info network)"), refused->message));
          }
        if (c->outstanding == before)
          stage_run (task);
        return;
      }

    default:
      {
        IovSnapshot *snapshot;

        stage2_results (c);
        snapshot = iov_snapshot_new_from_data (iov_qmp_client_get_version (c->client),
                                               iov_qmp_client_get_package (c->client),
                                               c->iommu_type, c->iommu_type ? c->iommu_props : NULL,
                                               c->query_pci, c->devices, c->mtree);
        for (guint i = 0; i < c->notes->len; i++)
          iov_snapshot_add_note (snapshot, g_ptr_array_index (c->notes, i));
        g_task_return_pointer (task, snapshot, g_object_unref);
        return;
      }
    }
}

void
iov_snapshot_collect_async (IovQmpClient        *client,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Collect *c;

  g_return_if_fail (IOV_IS_QMP_CLIENT (client));

  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, iov_snapshot_collect_async);
  c = g_new0 (Collect, 1);
  c->client = g_object_ref (client);
  c->replies = g_ptr_array_new_with_free_func (node_unref0);
  c->errors = g_ptr_array_new_with_free_func (error_free0);
  c->requests = g_ptr_array_new_with_free_func (g_free);
  c->devices = g_ptr_array_new_with_free_func ((GDestroyNotify) iov_qom_device_free);
  c->virtio_paths = g_ptr_array_new_with_free_func (g_free);
  c->iommu_props = json_object_new ();
  c->notes = g_ptr_array_new_with_free_func (g_free);
  g_task_set_task_data (task, c, (GDestroyNotify) collect_free);

  if (iov_qmp_client_get_state (client) != IOV_QMP_STATE_CONNECTED)
    {
      g_task_return_new_error (task, IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_CONNECTED,
                               _("Not connected to QEMU at %s"), iov_qmp_client_get_address (client));
      return;
    }
  stage_run (task);
}

IovSnapshot *
iov_snapshot_collect_finish (GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
