/* iov-engine.c — QEMU's IOMMU notifier core, per era
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

#define G_LOG_DOMAIN "iov-engine"

#include "config.h"

#include "iov-engine.h"

IovNotifier *
iov_notifier_new (const char *name,
                  const char *owner,
                  guint64     start,
                  guint64     end,
                  guint       flags)
{
  IovNotifier *n = g_new0 (IovNotifier, 1);

  n->name = g_strdup (name);
  n->owner = g_strdup (owner);
  n->start = start;
  n->end = end;
  n->flags = flags;
  return n;
}

void
iov_notifier_free (IovNotifier *notifier)
{
  if (notifier == NULL)
    return;
  g_free (notifier->name);
  g_free (notifier->owner);
  g_free (notifier);
}

IovNotifierFlags
iov_event_effective_type (const IovProfile  *profile,
                          const IovTlbEvent *event)
{
  /* ≤5.2 has no event type: memory_region_notify_one() asks for MAP when
   * the entry has any permission, UNMAP otherwise. */
  if (profile->era == IOV_ERA_5_0)
    return (event->perm & IOV_PERM_RW) ? IOV_NOTIFIER_MAP : IOV_NOTIFIER_UNMAP;
  return event->type;
}

IovResult
iov_notify_one (const IovProfile  *profile,
                const IovNotifier *n,
                const IovTlbEvent *event,
                IovOutcome        *out)
{
  /* Arithmetic is modulo 2^64, as in QEMU's hwaddr. */
  guint64 entry_end = event->iova + event->addr_mask;
  guint64 iova = event->iova;
  guint64 mask = event->addr_mask;
  IovNotifierFlags type = iov_event_effective_type (profile, event);
  gboolean crop;

  out->notifier = n;
  out->type = type;
  out->cropped = FALSE;
  out->abort = IOV_ABORT_NONE;
  out->iova = 0;
  out->addr_mask = 0;

  /* 6.0+: an UNMAP must carry no permission, checked before anything else. */
  if (profile->era != IOV_ERA_5_0 && type == IOV_NOTIFIER_UNMAP && event->perm != IOV_PERM_NONE)
    {
      out->abort = IOV_ABORT_UNMAP_PERM;
      return out->result = IOV_RESULT_ABORT;
    }

  if (n->start > entry_end || n->end < event->iova)
    return out->result = IOV_RESULT_SKIPPED_RANGE;

  switch (profile->era)
    {
    case IOV_ERA_5_0:
      crop = FALSE;
      break;
    case IOV_ERA_6_0:
      /* The notifier's flags decide, not the event's type; and the
       * assertion comes before the type filter. */
      crop = (n->flags & IOV_NOTIFIER_DEVIOTLB_UNMAP) != 0;
      break;
    case IOV_ERA_10_2:
    default:
      crop = TRUE;
      break;
    }

  if (crop)
    {
      iova = MAX (event->iova, n->start);
      mask = MIN (entry_end, n->end) - iova;
    }
  else if (!(event->iova >= n->start && entry_end <= n->end))
    {
      out->abort = IOV_ABORT_CONTAINMENT;
      return out->result = IOV_RESULT_ABORT;
    }

  if (!(n->flags & type))
    return out->result = IOV_RESULT_SKIPPED_FLAGS;

  out->iova = iova;
  out->addr_mask = mask;
  out->cropped = iova != event->iova || mask != event->addr_mask;
  return out->result = IOV_RESULT_DELIVERED;
}

char *
iov_abort_message (const IovProfile *profile,
                   IovAbortKind      kind)
{
  const char *file = profile->memory_c;
  const char *func = iov_profile_notify_function (profile);
  const char *expr;
  guint line = 0;

  switch (kind)
    {
    case IOV_ABORT_CONTAINMENT:
      expr = "entry->iova >= notifier->start && entry_end <= notifier->end";
      line = profile->containment_line;
      break;
    case IOV_ABORT_UNMAP_PERM:
      expr = "entry->perm == IOMMU_NONE";
      line = profile->unmap_perm_line;
      break;
    case IOV_ABORT_UNMAP_START_END:
      expr = "start <= end";
      file = profile->intel_iommu_c;
      func = "vtd_address_space_unmap";
      line = profile->unmap_start_end_line;
      break;
    case IOV_ABORT_UNMAP_REMAIN:
      expr = "!remain";
      file = profile->intel_iommu_c;
      func = "vtd_address_space_unmap";
      line = profile->unmap_remain_line;
      break;
    case IOV_ABORT_NONE:
    case IOV_ABORT_EXIT:
    default:
      return NULL;
    }

  /* glibc's assert() format. The line is left out where we do not know it
   * for that release rather than invent one. */
  if (line != 0)
    return g_strdup_printf ("qemu-system-x86_64: %s:%u: %s: Assertion `%s' failed.", file, line, func, expr);
  return g_strdup_printf ("qemu-system-x86_64: %s: %s: Assertion `%s' failed.", file, func, expr);
}

void
iov_iommu_mr_init (IovIommuMr *mr)
{
  mr->list = g_ptr_array_new ();
  mr->agg_flags = IOV_NOTIFIER_NONE;
}

void
iov_iommu_mr_clear (IovIommuMr *mr)
{
  g_clear_pointer (&mr->list, g_ptr_array_unref);
  mr->agg_flags = IOV_NOTIFIER_NONE;
}

guint
iov_iommu_mr_compute_flags (IovIommuMr *mr)
{
  guint flags = 0;

  for (guint i = 0; i < mr->list->len; i++)
    flags |= ((IovNotifier *) g_ptr_array_index (mr->list, i))->flags;
  return flags;
}

guint
iov_iommu_mr_insert (IovIommuMr  *mr,
                     IovNotifier *notifier)
{
  g_ptr_array_insert (mr->list, 0, notifier);
  return iov_iommu_mr_compute_flags (mr);
}

gboolean
iov_iommu_mr_remove (IovIommuMr  *mr,
                     IovNotifier *notifier)
{
  return g_ptr_array_remove (mr->list, notifier);
}

gboolean
iov_iommu_mr_notify (const IovProfile  *profile,
                     IovIommuMr        *mr,
                     int                iommu_idx,
                     const IovTlbEvent *event,
                     gint32             event_index,
                     GArray            *outcomes)
{
  for (guint i = 0; i < mr->list->len; i++)
    {
      const IovNotifier *n = g_ptr_array_index (mr->list, i);
      IovOutcome out;

      if (n->iommu_idx != iommu_idx)
        continue;

      out.event = event_index;
      iov_notify_one (profile, n, event, &out);
      g_array_append_val (outcomes, out);
      if (out.result == IOV_RESULT_ABORT)
        return FALSE;
    }
  return TRUE;
}
