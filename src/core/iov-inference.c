/* iov-inference.c — from observed trace events to per-notifier deliveries
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

#define G_LOG_DOMAIN "iov-inference"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <string.h>

#include "iov-inference.h"
#include "iov-trace-vtd.h"
#include "iov-vtd.h"

#define MAX_FINDINGS 1000

typedef struct
{
  char       *device;     /* "00:02.0" */
  guint8      bus;
  guint8      devfn;
  IovIommuMr  mr;
  GPtrArray  *all;        /* every notifier of the space, registration order */
  gboolean    enabled;
} Space;

struct _IovInference
{
  const IovProfile *profile;
  IovIommuModel     model;
  guint             aw;
  GPtrArray        *spaces;      /* Space* */
  GPtrArray        *pool;        /* IovNotifier*, owned */
  GPtrArray        *findings;    /* char* */
  GPtrArray        *notes;       /* char* */
  GArray           *pending;     /* guint: delivery indexes awaiting vhost-user evidence */
  GArray           *pending_vfio;
  GArray           *held;        /* IovDelivery: the pending ones index it */
  guint64           n_events;
  guint64           n_findings;
  gboolean          miss_pending;
  gboolean          seen_vhost_user;
  gboolean          noted_walk;
};

static void
space_free (Space *space)
{
  g_free (space->device);
  iov_iommu_mr_clear (&space->mr);
  g_ptr_array_unref (space->all);
  g_free (space);
}

IovInference *
iov_inference_new (const IovProfile *profile,
                   IovIommuModel     model,
                   guint             aw_bits)
{
  IovInference *self = g_new0 (IovInference, 1);

  g_return_val_if_fail (profile != NULL, NULL);

  self->profile = profile;
  self->model = model;
  self->aw = aw_bits ? aw_bits : profile->default_aw_bits;
  self->spaces = g_ptr_array_new_with_free_func ((GDestroyNotify) space_free);
  self->pool = g_ptr_array_new_with_free_func ((GDestroyNotify) iov_notifier_free);
  self->findings = g_ptr_array_new_with_free_func (g_free);
  self->notes = g_ptr_array_new_with_free_func (g_free);
  self->pending = g_array_new (FALSE, FALSE, sizeof (guint));
  self->pending_vfio = g_array_new (FALSE, FALSE, sizeof (guint));
  self->held = g_array_new (FALSE, FALSE, sizeof (IovDelivery));
  return self;
}

void
iov_inference_free (IovInference *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->spaces);
  g_ptr_array_unref (self->pool);
  g_ptr_array_unref (self->findings);
  g_ptr_array_unref (self->notes);
  g_array_unref (self->pending);
  g_array_unref (self->pending_vfio);
  g_array_unref (self->held);
  g_free (self);
}

const IovProfile *
iov_inference_get_profile (IovInference *self)
{
  return self->profile;
}

GPtrArray *
iov_inference_get_findings (IovInference *self)
{
  return self->findings;
}

GPtrArray *
iov_inference_get_notes (IovInference *self)
{
  return self->notes;
}

guint64
iov_inference_get_n_events (IovInference *self)
{
  return self->n_events;
}

static void G_GNUC_PRINTF (2, 3)
finding (IovInference *self,
         const char   *format,
         ...)
{
  va_list args;

  self->n_findings++;
  if (self->findings->len >= MAX_FINDINGS)
    return;
  va_start (args, format);
  g_ptr_array_add (self->findings, g_strdup_vprintf (format, args));
  va_end (args);
}

static void
note (IovInference *self,
      const char   *text)
{
  for (guint i = 0; i < self->notes->len; i++)
    if (g_str_equal (g_ptr_array_index (self->notes, i), text))
      return;
  g_ptr_array_add (self->notes, g_strdup (text));
}

static Space *
space_for (IovInference *self,
           const char   *device,
           gboolean      create)
{
  Space *space;

  for (guint i = 0; i < self->spaces->len; i++)
    if (g_str_equal (((Space *) g_ptr_array_index (self->spaces, i))->device, device))
      return g_ptr_array_index (self->spaces, i);
  if (!create)
    return NULL;

  space = g_new0 (Space, 1);
  space->device = g_strdup (device);
  iov_parse_bdf (device, &space->bus, &space->devfn);
  iov_iommu_mr_init (&space->mr);
  space->all = g_ptr_array_new ();
  space->enabled = TRUE;
  g_ptr_array_add (self->spaces, space);
  return space;
}

static Space *
space_for_sid (IovInference *self,
               guint16       sid)
{
  for (guint i = 0; i < self->spaces->len; i++)
    {
      Space *space = g_ptr_array_index (self->spaces, i);

      if (((guint16) space->bus << 8 | space->devfn) == sid)
        return space;
    }
  return NULL;
}

IovNotifier *
iov_inference_add_notifier (IovInference *self,
                            const char   *device,
                            const char   *name,
                            const char   *owner,
                            guint64       start,
                            guint64       end,
                            guint         flags)
{
  Space *space = space_for (self, device, TRUE);
  IovNotifier *n = iov_notifier_new (name, owner, start, end, flags);

  g_ptr_array_add (self->pool, n);
  g_ptr_array_add (space->all, n);
  space->mr.agg_flags = iov_iommu_mr_insert (&space->mr, n);
  return n;
}

static guint
flags_from_snapshot (IovInference *self,
                     JsonNode     *node,
                     const char   *owner)
{
  const char *text;
  guint flags = 0;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      /* vhost's flag follows the guest's ATS enable bit (7.2.5+, 8.1+),
       * which QMP cannot show: assume the flag it starts with. */
      note (self, _("vhost's notifier flag depends on the guest's ATS enable bit, which QMP does not show: "
                    "UNMAP is assumed"));
      return g_strcmp0 (owner, "vfio") == 0 ? IOV_NOTIFIER_IOTLB_EVENTS : IOV_NOTIFIER_UNMAP;
    }
  text = json_node_get_string (node);
  if (text == NULL)
    return IOV_NOTIFIER_UNMAP;
  if (strstr (text, "deviotlb"))
    flags |= IOV_NOTIFIER_DEVIOTLB_UNMAP;
  if (strstr (text, "map|") || g_str_has_prefix (text, "map") || strstr (text, "|map"))
    flags |= IOV_NOTIFIER_MAP;
  if (strstr (text, "unmap") && !(g_str_equal (text, "deviotlb-unmap")))
    flags |= IOV_NOTIFIER_UNMAP;
  return flags ? flags : IOV_NOTIFIER_UNMAP;
}

IovInference *
iov_inference_new_from_snapshot (JsonNode          *snapshot,
                                 const IovProfile  *profile,
                                 GError           **error)
{
  g_autoptr(IovInference) self = NULL;
  JsonObject *root, *qemu, *iommu;
  JsonArray *spaces;
  IovIommuModel model = IOV_IOMMU_INTEL;
  guint aw = 0;

  if (snapshot == NULL || !JSON_NODE_HOLDS_OBJECT (snapshot))
    {
      g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, _("a snapshot is a JSON object"));
      return NULL;
    }
  root = json_node_get_object (snapshot);
  qemu = json_object_get_object_member (root, "qemu");
  iommu = json_object_get_object_member (root, "iommu");
  spaces = json_object_get_array_member (root, "address_spaces");
  if (qemu == NULL || spaces == NULL)
    {
      g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, _("not an Iovista snapshot: no \"qemu\" or \"address_spaces\""));
      return NULL;
    }

  if (profile == NULL)
    {
      int major = 0, minor = 0, micro = 0;
      const char *version = json_object_get_string_member_with_default (qemu, "version", "");

      if (sscanf (version, "%d.%d.%d", &major, &minor, &micro) < 2)
        {
          g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, _("snapshot: qemu.version: cannot read “%s”"), version);
          return NULL;
        }
      profile = iov_profile_for_version (major, minor, micro,
                                         json_object_get_string_member_with_default (qemu, "package", ""));
    }

  if (iommu != NULL)
    {
      const char *type = json_object_get_string_member_with_default (iommu, "type", "");
      JsonObject *props = json_object_get_object_member (iommu, "properties");

      if (strstr (type, "amd"))
        model = IOV_IOMMU_AMD;
      else if (strstr (type, "virtio"))
        model = IOV_IOMMU_VIRTIO;
      if (props != NULL && json_object_has_member (props, "aw-bits"))
        aw = json_object_get_int_member (props, "aw-bits");
    }

  self = iov_inference_new (profile, model, aw);

  for (guint i = 0; i < json_array_get_length (spaces); i++)
    {
      JsonObject *as = json_array_get_object_element (spaces, i);
      JsonArray *notifiers = as ? json_object_get_array_member (as, "notifiers") : NULL;

      for (guint j = 0; notifiers != NULL && j < json_array_get_length (notifiers); j++)
        {
          JsonObject *n = json_array_get_object_element (notifiers, j);
          const char *device = json_object_get_string_member_with_default (n, "device", NULL);
          const char *owner = json_object_get_string_member_with_default (n, "consumer", "notifier");
          const char *start = json_object_get_string_member_with_default (n, "start", NULL);
          const char *end = json_object_get_string_member_with_default (n, "end", NULL);
          g_autofree char *name = NULL;
          guint64 s, e;

          if (device == NULL || !iov_parse_hex (start, &s) || !iov_parse_hex (end, &e))
            {
              g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID,
                           _("snapshot: address_spaces[%u].notifiers[%u]: needs device, start and end"), i, j);
              return NULL;
            }
          name = g_strdup_printf ("%s.%s.%u", device, owner, j + 1);
          /* Sections come in ascending order: register them so. */
          iov_inference_add_notifier (self, device, name, owner, s, e,
                                      flags_from_snapshot (self, json_object_get_member (n, "flags"), owner));
        }
    }

  if (self->pool->len == 0)
    note (self, _("the snapshot lists no notifier (no vhost or vfio device behind the IOMMU): nothing to infer"));
  return g_steal_pointer (&self);
}

/* ------------------------------------------------------------------------
 * Argument helpers: the formats of reference §6
 */

/* The number printed after @key: hex with an optional 0x when @base is
 * 16, decimal otherwise. */
static gboolean
number_after (const char *args,
              gsize       len,
              const char *key,
              guint       base,
              guint64    *out)
{
  g_autofree char *copy = g_strndup (args, len);
  const char *p = strstr (copy, key);
  char *end;

  if (p == NULL)
    return FALSE;
  p += strlen (key);
  if (base == 16 && g_str_has_prefix (p, "0x"))
    p += 2;
  *out = g_ascii_strtoull (p, &end, base);
  return end != p;
}

static gboolean
hex_after (const char *args,
           gsize       len,
           const char *key,
           guint64    *out)
{
  return number_after (args, len, key, 16, out);
}

static gboolean
dec_after (const char *args,
           gsize       len,
           const char *key,
           gint64     *out)
{
  guint64 v;

  if (!number_after (args, len, key, 10, &v))
    return FALSE;
  *out = (gint64) v;
  return TRUE;
}

static gboolean
device_after (const char *args,
              gsize       len,
              char        bdf[8])
{
  unsigned b, d, f;
  g_autofree char *copy = g_strndup (args, len);
  const char *p = strstr (copy, "Device ");

  if (p == NULL || sscanf (p + 7, "%x:%x.%x", &b, &d, &f) != 3)
    return FALSE;
  g_snprintf (bdf, 8, "%02x:%02x.%x", b & 0xff, d & 0x1f, f & 7);
  return TRUE;
}

/* ------------------------------------------------------------------------
 * Dispatch
 */

static void
record (IovInference      *self,
        Space             *space,
        const IovTlbEvent *ev,
        GArray            *outcomes,
        guint64            ts_ns,
        guint64            line,
        GArray            *deliveries)
{
  for (guint i = 0; i < outcomes->len; i++)
    {
      IovDelivery d = { 0 };
      guint index = deliveries->len;

      d.ts_ns = ts_ns;
      d.line = line;
      d.outcome = g_array_index (outcomes, IovOutcome, i);
      d.notifier = d.outcome.notifier;
      d.device = space->device;
      d.kind = IOV_DELIVERY_INFERRED;
      d.event = *ev;
      d.event.type = iov_event_effective_type (self->profile, ev);
      g_array_append_val (deliveries, d);

      if (d.outcome.result == IOV_RESULT_ABORT)
        {
          g_autofree char *msg = iov_abort_message (self->profile, d.outcome.abort);

          finding (self, _("line %llu: the model predicts that QEMU aborts here (%s), yet the trace goes on"),
                   (unsigned long long) line, msg ? msg : "");
        }
      else if (d.outcome.result == IOV_RESULT_DELIVERED && d.notifier->owner != NULL)
        {
          /* kernel vhost leaves no trace: only vhost-user evidence can come */
          if (g_str_equal (d.notifier->owner, "vhost") && self->seen_vhost_user)
            g_array_append_val (self->pending, index);
          else if (g_str_equal (d.notifier->owner, "vfio"))
            g_array_append_val (self->pending_vfio, index);
        }
    }
}

static void
dispatch (IovInference      *self,
          Space             *space,
          const IovTlbEvent *ev,
          const IovNotifier *target,
          guint64            ts_ns,
          guint64            line,
          GArray            *deliveries)
{
  g_autoptr(GArray) outcomes = g_array_new (FALSE, FALSE, sizeof (IovOutcome));

  if (!space->enabled)
    return;
  if (target != NULL)
    {
      IovOutcome o;

      o.event = 0;
      iov_notify_one (self->profile, target, ev, &o);
      g_array_append_val (outcomes, o);
    }
  else
    iov_iommu_mr_notify (self->profile, &space->mr, 0, ev, 0, outcomes);
  record (self, space, ev, outcomes, ts_ns, line, deliveries);
}

static void
settle_pending (IovInference *self,
                GArray       *deliveries)
{
  /* Deliveries that no IOTLB message followed. Only meaningful when the
   * backend is vhost-user: kernel vhost leaves no trace at all. */
  if (self->seen_vhost_user)
    for (guint i = 0; i < self->pending->len; i++)
      {
        IovDelivery *d = &g_array_index (deliveries, IovDelivery, g_array_index (self->pending, guint, i));

        finding (self, _("line %llu: the model predicted a delivery to %s [0x%llx, +0x%llx], "
                         "but no vhost-user IOTLB message followed"),
                 (unsigned long long) d->line, d->notifier->name, (unsigned long long) d->outcome.iova,
                 (unsigned long long) d->outcome.addr_mask);
      }
  g_array_set_size (self->pending, 0);
  /* vfio's notifier traces synchronously, before QEMU moves on to the
   * next invalidation: evidence that has not come by then never will. */
  g_array_set_size (self->pending_vfio, 0);
}

typedef struct
{
  IovInference      *self;
  Space             *space;
  const IovNotifier *n;
  guint64            ts_ns;
  guint64            line;
  GArray            *deliveries;
} Chunk;

static gboolean
unmap_chunk (guint64  iova,
             guint64  addr_mask,
             gpointer user_data)
{
  Chunk *c = user_data;
  IovTlbEvent ev = { iova, addr_mask, 0, IOV_NOTIFIER_UNMAP, IOV_PERM_NONE };

  dispatch (c->self, c->space, &ev, c->n, c->ts_ns, c->line, c->deliveries);
  return TRUE;
}

static Space *
virtio_space (IovInference *self,
              const char   *args,
              gsize         len)
{
  /* "mr=virtio-iommu-memory-region-<index>-<devfn>": the devfn is the
   * endpoint's; the bus is not in the name. */
  g_autofree char *copy = g_strndup (args, len);
  const char *p = strstr (copy, "virtio-iommu-memory-region-");
  Space *only = NULL;
  guint n_with = 0;

  if (p != NULL)
    {
      const char *dash = strchr (p + strlen ("virtio-iommu-memory-region-"), '-');
      guint devfn = dash ? (guint) g_ascii_strtoull (dash + 1, NULL, 10) : 0x100;

      for (guint i = 0; i < self->spaces->len; i++)
        {
          Space *s = g_ptr_array_index (self->spaces, i);

          if (s->devfn == devfn)
            return s;
        }
    }
  for (guint i = 0; i < self->spaces->len; i++)
    if (((Space *) g_ptr_array_index (self->spaces, i))->mr.list->len > 0)
      {
        only = g_ptr_array_index (self->spaces, i);
        n_with++;
      }
  return n_with == 1 ? only : NULL;
}

static void
virtio_notify (IovInference *self,
               gboolean      map,
               const char   *args,
               gsize         len,
               guint64       ts_ns,
               guint64       line,
               GArray       *deliveries)
{
  Space *space = virtio_space (self, args, len);
  guint64 start, end, phys = 0;
  guint need = map ? IOV_NOTIFIER_MAP : IOV_NOTIFIER_UNMAP;

  if (space == NULL || !hex_after (args, len, "virt_start=", &start) || !hex_after (args, len, "virt_end=", &end))
    return;
  if (map)
    hex_after (args, len, "phys_start=", &phys);
  settle_pending (self, deliveries);

  if (!self->profile->virtio_split || (start == 0 && end == G_MAXUINT64))
    {
      IovTlbEvent ev = { start, end - start, phys, need, map ? IOV_PERM_RW : IOV_PERM_NONE };
      dispatch (self, space, &ev, NULL, ts_ns, line, deliveries);
      return;
    }
  while (start <= end)
    {
      guint64 mask = iov_aligned_pow2_mask (start, end, 64);
      IovTlbEvent ev = { start, mask, map ? phys : 0, need, map ? IOV_PERM_RW : IOV_PERM_NONE };

      dispatch (self, space, &ev, NULL, ts_ns, line, deliveries);
      phys += mask + 1;
      start += mask + 1;
      if (start == 0)
        break;
    }
}

static void
vfio_evidence (IovInference *self,
               const char   *args,
               gsize         len,
               guint64       line,
               GArray       *deliveries)
{
  g_autofree char *copy = g_strndup (args, len);
  guint64 first, last;
  char op[16];

  if (sscanf (copy, "iommu %15s @ 0x%" G_GINT64_MODIFIER "x - 0x%" G_GINT64_MODIFIER "x", op, &first, &last) != 3)
    return;
  for (guint i = 0; i < self->pending_vfio->len; i++)
    {
      IovDelivery *d = &g_array_index (deliveries, IovDelivery, g_array_index (self->pending_vfio, guint, i));

      if (d->outcome.iova == first && d->outcome.iova + d->outcome.addr_mask == last)
        {
          d->kind = IOV_DELIVERY_OBSERVED;
          g_array_remove_index (self->pending_vfio, i);
          return;
        }
    }
  finding (self, _("line %llu: vfio received %s [0x%llx, 0x%llx] that the model did not predict"),
           (unsigned long long) line, op, (unsigned long long) first, (unsigned long long) last);
}

static void
feed (IovInference *self,
      guint64       ts_ns,
      guint64       line,
      const char   *name,
      const char   *args,
      gsize         len,
      GArray       *deliveries)
{
  char bdf[8];

  if (g_str_has_prefix (name, "vhost_"))
    {
      gint64 req = -1, step = 0;

      if (g_str_equal (name, "vhost_iotlb_miss"))
        {
          /* An IOTLB miss: the next IOTLB message answers it (an update). */
          if (dec_after (args, len, "step ", &step) && step == 1)
            self->miss_pending = TRUE;
        }
      else if (g_str_equal (name, "vhost_user_write") && dec_after (args, len, "req:", &req))
        {
          self->seen_vhost_user = TRUE;
          if (req != 22)   /* VHOST_USER_IOTLB_MSG */
            return;
          if (self->miss_pending)
            self->miss_pending = FALSE;
          else if (self->pending->len > 0)
            {
              IovDelivery *d = &g_array_index (deliveries, IovDelivery, g_array_index (self->pending, guint, 0));

              d->kind = IOV_DELIVERY_OBSERVED;
              g_array_remove_index (self->pending, 0);
            }
        }
      return;
    }

  if (g_str_equal (name, "vfio_iommu_map_notify"))
    {
      vfio_evidence (self, args, len, line, deliveries);
      return;
    }

  if (g_str_equal (name, "virtio_iommu_notify_unmap") || g_str_equal (name, "virtio_iommu_notify_map"))
    {
      self->n_events++;
      virtio_notify (self, g_str_equal (name, "virtio_iommu_notify_map"), args, len, ts_ns, line, deliveries);
      return;
    }

  if (!g_str_has_prefix (name, "vtd_"))
    return;

  if (g_str_equal (name, "vtd_inv_desc"))
    {
      IovVtdDesc desc;
      Space *space;
      IovTlbEvent ev = { 0 };

      if (!iov_vtd_desc_parse (args, len, &desc) || desc.type != IOV_VTD_DESC_DEVICE)
        return;
      self->n_events++;
      settle_pending (self, deliveries);
      space = space_for_sid (self, desc.sid);
      if (space == NULL)
        return;
      iov_vtd_decode_device_iotlb (desc.raw_addr, desc.s, &ev.iova, &ev.addr_mask);
      ev.type = self->profile->era == IOV_ERA_5_0 ? IOV_NOTIFIER_UNMAP : IOV_NOTIFIER_DEVIOTLB_UNMAP;
      ev.perm = IOV_PERM_NONE;
      dispatch (self, space, &ev, NULL, ts_ns, line, deliveries);
    }
  else if (g_str_equal (name, "vtd_inv_desc_iotlb_pages"))
    {
      guint64 addr, am;

      if (!hex_after (args, len, "addr ", &addr) || !hex_after (args, len, "mask ", &am) || am > 63)
        return;
      self->n_events++;
      settle_pending (self, deliveries);
      /* The trace has the domain, the snapshot does not: every space with
       * notifiers is assumed to be in it. */
      note (self, _("domains are not in the snapshot: page-selective invalidations are applied to every "
                    "address space with notifiers"));
      for (guint i = 0; i < self->spaces->len; i++)
        {
          Space *space = g_ptr_array_index (self->spaces, i);
          IovTlbEvent ev = { addr, (G_GUINT64_CONSTANT (1) << am) * IOV_PAGE_SIZE - 1, 0,
                             IOV_NOTIFIER_UNMAP, IOV_PERM_NONE };

          /* With a MAP notifier QEMU walks instead; the walk's events are
           * traced one by one as vtd_page_walk_one. */
          if (space->mr.list->len == 0 || (space->mr.agg_flags & IOV_NOTIFIER_MAP))
            continue;
          dispatch (self, space, &ev, NULL, ts_ns, line, deliveries);
        }
    }
  else if (g_str_equal (name, "vtd_inv_desc_iotlb_domain") || g_str_equal (name, "vtd_inv_desc_iotlb_global"))
    {
      self->n_events++;
      settle_pending (self, deliveries);
      if (!self->profile->vtd_sync_unmap_range)
        return; /* ≤7.2: a page walk, traced as vtd_page_walk_one */
      for (guint i = 0; i < self->spaces->len; i++)
        {
          Space *space = g_ptr_array_index (self->spaces, i);
          g_autoptr(GPtrArray) ns = NULL;

          if (space->mr.agg_flags & IOV_NOTIFIER_MAP)
            continue;
          ns = g_ptr_array_copy (space->mr.list, NULL, NULL);
          for (guint j = 0; j < ns->len; j++)
            {
              const IovNotifier *n = g_ptr_array_index (ns, j);
              IovTlbEvent ev = { n->start, n->end - n->start, 0, IOV_NOTIFIER_UNMAP, IOV_PERM_NONE };

              dispatch (self, space, &ev, n, ts_ns, line, deliveries);
            }
        }
    }
  else if (g_str_equal (name, "vtd_page_walk_one"))
    {
      guint64 iova, gpa = 0, mask;
      gint64 perm = 0;

      if (!hex_after (args, len, "iova ", &iova) || !hex_after (args, len, "mask ", &mask) ||
          !dec_after (args, len, "perm ", &perm))
        return;
      hex_after (args, len, "gpa ", &gpa);
      self->n_events++;
      if (!self->noted_walk)
        {
          note (self, _("page-walk events carry no device: they are applied to every address space with notifiers"));
          self->noted_walk = TRUE;
        }
      for (guint i = 0; i < self->spaces->len; i++)
        {
          Space *space = g_ptr_array_index (self->spaces, i);
          IovTlbEvent ev = { iova, mask, gpa, perm ? IOV_NOTIFIER_MAP : IOV_NOTIFIER_UNMAP, (IovPerm) (perm & 3) };

          if (space->mr.list->len > 0)
            dispatch (self, space, &ev, NULL, ts_ns, line, deliveries);
        }
    }
  else if (g_str_equal (name, "vtd_as_unmap_whole") && device_after (args, len, bdf))
    {
      Space *space = space_for (self, bdf, FALSE);
      guint64 start, size;

      if (space == NULL || !hex_after (args, len, "start ", &start) || !hex_after (args, len, "size ", &size))
        return;
      self->n_events++;
      settle_pending (self, deliveries);
      for (guint i = 0; i < space->mr.list->len; i++)
        {
          const IovNotifier *n = g_ptr_array_index (space->mr.list, i);
          Chunk chunk = { self, space, n, ts_ns, line, deliveries };

          if (n->start == start && size > 0)
            {
              iov_vtd_split_unmap (start, start + size - 1, self->aw, unmap_chunk, &chunk);
              break;
            }
        }
    }
  else if (g_str_equal (name, "vtd_switch_address_space") && device_after (args, len, bdf))
    {
      Space *space = space_for (self, bdf, FALSE);
      gint64 on = 0;

      if (space == NULL || !dec_after (args, len, "enabled=", &on))
        return;
      if (!on && space->enabled)
        {
          /* The sections go away and the listeners unregister. */
          while (space->mr.list->len > 0)
            iov_iommu_mr_remove (&space->mr, g_ptr_array_index (space->mr.list, 0));
          space->mr.agg_flags = 0;
        }
      else if (on && !space->enabled)
        for (guint i = 0; i < space->all->len; i++)
          space->mr.agg_flags = iov_iommu_mr_insert (&space->mr, g_ptr_array_index (space->all, i));
      space->enabled = on != 0;
    }
}

/* Deliveries wait in self->held while consumer evidence may still mark
 * them observed, and reach the caller's array once settled: marking them
 * in place in the caller's array would point into whatever the caller
 * made of it since (live views drain it every tick). */
#define HOLD_MAX 4096

static void
flush_held (IovInference *self,
            GArray       *deliveries,
            gboolean      force)
{
  guint oldest = self->held->len;

  /* Too many waiting: give up on their evidence, with the findings. */
  if (force || self->held->len >= HOLD_MAX)
    settle_pending (self, self->held);
  for (guint i = 0; i < self->pending->len; i++)
    oldest = MIN (oldest, g_array_index (self->pending, guint, i));
  for (guint i = 0; i < self->pending_vfio->len; i++)
    oldest = MIN (oldest, g_array_index (self->pending_vfio, guint, i));
  if (oldest == 0)
    return;
  /* Everything before the oldest delivery still waiting is settled: out it
   * goes, in order, and the waiting ones move up. */
  g_array_append_vals (deliveries, self->held->data, oldest);
  g_array_remove_range (self->held, 0, oldest);
  for (guint i = 0; i < self->pending->len; i++)
    g_array_index (self->pending, guint, i) -= oldest;
  for (guint i = 0; i < self->pending_vfio->len; i++)
    g_array_index (self->pending_vfio, guint, i) -= oldest;
}

void
iov_inference_feed (IovInference *self,
                    guint64       ts_ns,
                    guint64       line,
                    const char   *name,
                    const char   *args,
                    gsize         len,
                    GArray       *deliveries)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (deliveries != NULL);

  feed (self, ts_ns, line, name, args, len, self->held);
  flush_held (self, deliveries, FALSE);
}

void
iov_inference_finish (IovInference *self,
                      GArray       *deliveries)
{
  flush_held (self, deliveries, TRUE);
  if (!self->seen_vhost_user)
    for (guint i = 0; i < self->pool->len; i++)
      if (g_strcmp0 (((IovNotifier *) g_ptr_array_index (self->pool, i))->owner, "vhost") == 0)
        {
          note (self, _("no vhost-user messages in the trace: kernel vhost leaves no trace, so vhost "
                        "deliveries stay inferred"));
          break;
        }
  if (self->n_findings > self->findings->len)
    {
      g_autofree char *more = g_strdup_printf (_("… and %llu more findings"),
                                               (unsigned long long) (self->n_findings - self->findings->len));
      g_ptr_array_add (self->findings, g_steal_pointer (&more));
    }
}
