/* iov-scenario-from-trace.c
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

#define G_LOG_DOMAIN "iov-scenario-from-trace"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "iov-profile.h"
#include "iov-scenario-from-trace.h"
#include "iov-snapshot-info.h"
#include "iov-trace-events.h"
#include "iov-trace-parser.h"
#include "iov-trace-vtd.h"
#include "iov-types.h"
#include "iov-vtd.h"

typedef struct
{
  IovTraceCatalog  *catalog;
  const IovProfile *profile;
  JsonBuilder      *steps;       /* inside the "steps" array */
  const char       *region;      /* the notifiers' region, or NULL */
  int               sid;         /* the device's requester id, or -1 */
  guint             n_steps;
  gboolean          capped;
} Ctx;

static void
add_hex (JsonBuilder *builder,
         const char  *member,
         guint64      value)
{
  char buf[20];

  iov_hex_buf (value, buf);
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, buf);
}

static gboolean
room_for_step (Ctx *ctx)
{
  if (ctx->n_steps < IOV_SCENARIO_FROM_TRACE_MAX_STEPS)
    return TRUE;
  ctx->capped = TRUE;
  return FALSE;
}

static void
add_unmap_step (Ctx     *ctx,
                guint64  iova,
                guint64  addr_mask)
{
  if (!room_for_step (ctx))
    return;
  json_builder_begin_object (ctx->steps);
  json_builder_set_member_name (ctx->steps, "op");
  json_builder_add_string_value (ctx->steps, "notify");
  json_builder_set_member_name (ctx->steps, "type");
  json_builder_add_string_value (ctx->steps, "unmap");
  add_hex (ctx->steps, "iova", iova);
  add_hex (ctx->steps, "addr_mask", addr_mask);
  json_builder_end_object (ctx->steps);
  ctx->n_steps++;
}

static const IovTraceArg *
find_arg (const IovTraceArg *args,
          guint              n_args,
          const char        *name)
{
  for (guint i = 0; i < n_args; i++)
    if (g_strcmp0 (args[i].name, name) == 0)
      return &args[i];
  return NULL;
}

static void
virtio_unmap (Ctx               *ctx,
              const IovTraceArg *args,
              guint              n_args)
{
  const IovTraceArg *mr = find_arg (args, n_args, "name");
  const IovTraceArg *vs = find_arg (args, n_args, "virt_start");
  const IovTraceArg *ve = find_arg (args, n_args, "virt_end");
  guint64 start, end;

  if (vs == NULL || ve == NULL)
    return;
  if (ctx->region != NULL && mr != NULL &&
      (strlen (ctx->region) != mr->len || strncmp (ctx->region, mr->text, mr->len) != 0))
    return;
  start = vs->value;
  end = ve->value;
  if (end < start)
    return;

  /* QEMU 6.0+ splits the range into naturally aligned power-of-two
   * pieces, each one notification. */
  if (!ctx->profile->virtio_split || (start == 0 && end == G_MAXUINT64))
    {
      add_unmap_step (ctx, start, end - start);
      return;
    }
  while (start <= end && !ctx->capped)
    {
      guint64 mask = iov_aligned_pow2_mask (start, end, 64);

      add_unmap_step (ctx, start, mask);
      start += mask + 1;
      if (start == 0)
        break;
    }
}

static void
vtd_device (Ctx        *ctx,
            const char *args,
            gsize       len)
{
  IovVtdDesc desc;

  if (!iov_vtd_desc_parse (args, len, &desc) || desc.type != IOV_VTD_DESC_DEVICE)
    return;
  if (ctx->sid >= 0 && desc.sid != ctx->sid)
    return;
  if (!room_for_step (ctx))
    return;
  json_builder_begin_object (ctx->steps);
  json_builder_set_member_name (ctx->steps, "op");
  json_builder_add_string_value (ctx->steps, "device-iotlb-invalidate");
  add_hex (ctx->steps, "addr", desc.raw_addr);
  json_builder_set_member_name (ctx->steps, "s");
  json_builder_add_int_value (ctx->steps, desc.s ? 1 : 0);
  json_builder_end_object (ctx->steps);
  ctx->n_steps++;
}

static void
vtd_psi (Ctx               *ctx,
         const IovTraceArg *args,
         guint              n_args)
{
  const IovTraceArg *addr = find_arg (args, n_args, "addr");
  const IovTraceArg *mask = find_arg (args, n_args, "mask");

  if (addr == NULL || mask == NULL || mask->value > 18)
    return;
  if (!room_for_step (ctx))
    return;
  json_builder_begin_object (ctx->steps);
  json_builder_set_member_name (ctx->steps, "op");
  json_builder_add_string_value (ctx->steps, "psi");
  add_hex (ctx->steps, "addr", addr->value);
  json_builder_set_member_name (ctx->steps, "am");
  json_builder_add_int_value (ctx->steps, (gint64) mask->value);
  json_builder_end_object (ctx->steps);
  ctx->n_steps++;
}

static void
on_line (const char *line,
         gsize       len,
         gboolean    cut,
         gpointer    user_data)
{
  Ctx *ctx = user_data;
  IovTraceLine parsed;
  IovTraceArg args[IOV_TRACE_MAX_ARGS];
  guint n_args = 0;

  if (ctx->capped || cut)
    return;
  if (iov_trace_parse_line (ctx->catalog, line, len, &parsed) != IOV_TRACE_LINE_EVENT ||
      parsed.event_id < 0)
    return;

#define IS(literal) (parsed.name_len == sizeof (literal) - 1 && memcmp (parsed.name, literal, parsed.name_len) == 0)
  if (IS ("vtd_inv_desc"))
    vtd_device (ctx, parsed.args, parsed.args_len);
  else if (IS ("vtd_inv_desc_iotlb_pages"))
    {
      if (iov_trace_catalog_decode (ctx->catalog, parsed.event_id, parsed.args, parsed.args_len, args, &n_args))
        vtd_psi (ctx, args, n_args);
    }
  else if (IS ("virtio_iommu_notify_unmap"))
    {
      if (iov_trace_catalog_decode (ctx->catalog, parsed.event_id, parsed.args, parsed.args_len, args, &n_args))
        virtio_unmap (ctx, args, n_args);
    }
#undef IS
}

static void
add_flags (JsonBuilder               *builder,
           const IovSnapshotNotifier *n,
           const char                *owner)
{
  gboolean map, unmap, deviotlb;

  if (!n->has_flags)
    {
      /* Not shown by QMP: what the consumer starts with. */
      map = g_strcmp0 (owner, "vfio") == 0;
      unmap = TRUE;
      deviotlb = FALSE;
    }
  else
    {
      map = (n->flags & IOV_NOTIFIER_MAP) != 0;
      unmap = (n->flags & IOV_NOTIFIER_UNMAP) != 0;
      deviotlb = (n->flags & IOV_NOTIFIER_DEVIOTLB_UNMAP) != 0;
      if (!map && !unmap && !deviotlb)
        unmap = TRUE;
    }

  json_builder_set_member_name (builder, "flags");
  json_builder_begin_array (builder);
  if (unmap)
    json_builder_add_string_value (builder, "unmap");
  if (map)
    json_builder_add_string_value (builder, "map");
  if (deviotlb)
    json_builder_add_string_value (builder, "deviotlb-unmap");
  json_builder_end_array (builder);
}

/* The device whose notifiers become the scenario's: the first with any,
 * else the first device listed. */
static const char *
pick_device (const IovSnapshotInfo *info)
{
  for (guint i = 0; i < info->address_spaces->len; i++)
    {
      const IovSnapshotAddressSpace *as = g_ptr_array_index (info->address_spaces, i);

      for (guint j = 0; j < as->notifiers->len; j++)
        {
          const IovSnapshotNotifier *n = g_ptr_array_index (as->notifiers, j);

          if (n->device != NULL)
            return n->device;
        }
    }
  if (info->devices->len > 0)
    return ((const IovSnapshotDevice *) g_ptr_array_index (info->devices, 0))->bdf;
  return NULL;
}

char *
iov_scenario_from_trace (JsonNode    *snapshot,
                         const char  *trace,
                         gssize       trace_len,
                         const char  *name,
                         guint       *n_steps,
                         GError     **error)
{
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonGenerator) generator = NULL;
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(IovTraceCatalog) catalog = NULL;
  g_autofree char *summary = NULL;
  g_autoptr(IovSnapshotInfo) info = NULL;
  g_autoptr(GError) local = NULL;
  const char *device, *model = "intel";
  const char *region = NULL;
  guint bus, dev, fn;
  guint aw = 0;
  Ctx ctx = { 0 };

  g_return_val_if_fail (snapshot != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* the one snapshot reader: what it refuses names its JSON path */
  info = iov_snapshot_info_new_from_json (snapshot, &local);
  if (info == NULL)
    {
      g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, _("snapshot: %s"), local->message);
      return NULL;
    }
  ctx.profile = iov_snapshot_info_get_profile (info);

  if (info->iommu_type != NULL)
    {
      if (strstr (info->iommu_type, "amd") != NULL)
        model = "amd";
      else if (strstr (info->iommu_type, "virtio") != NULL)
        model = "virtio";
      aw = info->aw_bits;
    }

  device = pick_device (info);
  ctx.sid = -1;
  if (device != NULL && sscanf (device, "%x:%x.%x", &bus, &dev, &fn) == 3)
    ctx.sid = (int) ((bus << 8) | (dev << 3) | fn);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, name != NULL ? name : "recording");
  json_builder_set_member_name (builder, "title");
  json_builder_add_string_value (builder, _("From a recording"));
  json_builder_set_member_name (builder, "profile");
  json_builder_add_string_value (builder, ctx.profile->id);

  json_builder_set_member_name (builder, "iommu");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, model);
  if (aw == 39 || aw == 48)
    {
      json_builder_set_member_name (builder, "aw_bits");
      json_builder_add_int_value (builder, aw);
    }
  json_builder_end_object (builder);

  /* The notifiers, in the order they were registered. */
  json_builder_set_member_name (builder, "notifiers");
  json_builder_begin_array (builder);
  for (guint i = 0, k = 0; i < info->address_spaces->len; i++)
    {
      const IovSnapshotAddressSpace *as = g_ptr_array_index (info->address_spaces, i);

      for (guint j = 0; j < as->notifiers->len; j++)
        {
          const IovSnapshotNotifier *n = g_ptr_array_index (as->notifiers, j);
          const char *owner = n->consumer ? n->consumer : "notifier";
          g_autofree char *nname = NULL;

          if (g_strcmp0 (n->device, device) != 0)
            continue;
          if (region == NULL)
            region = n->region;

          nname = g_strdup_printf ("%s.%u", owner, ++k);
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, nname);
          json_builder_set_member_name (builder, "owner");
          json_builder_add_string_value (builder, owner);
          add_hex (builder, "start", n->start);
          add_hex (builder, "end", n->end);
          add_flags (builder, n, owner);
          json_builder_end_object (builder);
        }
    }
  json_builder_end_array (builder);

  /* The steps, from the trace. */
  catalog = iov_trace_catalog_new_builtin ();
  ctx.catalog = catalog;
  ctx.steps = builder;
  ctx.region = region;
  json_builder_set_member_name (builder, "steps");
  json_builder_begin_array (builder);
  if (trace != NULL)
    iov_trace_split_lines (trace, trace_len < 0 ? strlen (trace) : (gsize) trace_len, on_line, &ctx);
  json_builder_end_array (builder);

  if (ctx.capped)
    summary = g_strdup_printf (_("Made from a recording under %s; only the first %u steps are kept."),
                               ctx.profile->id, (guint) IOV_SCENARIO_FROM_TRACE_MAX_STEPS);
  else
    summary = g_strdup_printf (_("Made from a recording under %s."), ctx.profile->id);
  json_builder_set_member_name (builder, "summary");
  json_builder_add_string_value (builder, summary);
  json_builder_end_object (builder);

  if (n_steps != NULL)
    *n_steps = ctx.n_steps;

  result = json_builder_get_root (builder);
  generator = json_generator_new ();
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, result);
  return json_generator_to_data (generator, NULL);
}
