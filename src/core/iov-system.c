/* iov-system.c — a modelled machine running a scenario under one profile
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

#define G_LOG_DOMAIN "iov-system"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "iov-system.h"
#include "iov-vtd.h"

/* One leaf of the guest's I/O page table, or one range in QEMU's per-AS
 * iova tree (what notifiers were told is mapped). */
typedef struct
{
  guint64 iova;
  guint64 size;
  guint64 gpa;
  IovPerm perm;
} Mapping;

typedef struct
{
  char       *id;
  guint8      bus;
  guint8      devfn;
  IovBackend  backend;
  guint16     domain;
  gboolean    low_level;     /* the scenario's "notifiers" region */
  gboolean    sections;      /* the IOMMU region is in the address space */
  gboolean    context_valid;
  gboolean    ats_enabled;
  gboolean    vhost_started; /* vhost_dev_start() ran: its listener is registered */
  IovIommuMr  mr;
  /* Sorted by iova (tables: by iova, then size), so that a walk looks
   * each block up by bisection: a walk visits every block of its range. */
  GArray     *pt;            /* Mapping: guest page table leaves, disjoint */
  GArray     *tables;        /* Mapping: blocks that have a next-level table */
  GArray     *iova_tree;     /* Mapping, disjoint */
  GPtrArray  *consumer;      /* the backend's own notifier list, head first */
} As;

typedef struct
{
  const IovProfile  *p;
  const IovScenario *sc;
  guint              aw;
  GPtrArray         *as_list;            /* As*, owned */
  GPtrArray         *as_with_notifiers;  /* As*, head first (vtd_as_with_notifiers) */
  GPtrArray         *pool;               /* IovNotifier*, owned by the run */
  IovStepResult     *cur;
  gboolean           dead;
  gboolean           dmar;
} Sys;

typedef enum { PTE_INVALID, PTE_LEAF, PTE_TABLE } PteKind;

static void
as_free (As *as)
{
  g_free (as->id);
  iov_iommu_mr_clear (&as->mr);
  g_array_unref (as->pt);
  g_array_unref (as->tables);
  g_array_unref (as->iova_tree);
  g_ptr_array_unref (as->consumer);
  g_free (as);
}

static As *
as_new (const char *id,
        guint8      bus,
        guint8      devfn)
{
  As *as = g_new0 (As, 1);

  as->id = g_strdup (id);
  as->bus = bus;
  as->devfn = devfn;
  iov_iommu_mr_init (&as->mr);
  as->pt = g_array_new (FALSE, FALSE, sizeof (Mapping));
  as->tables = g_array_new (FALSE, FALSE, sizeof (Mapping));
  as->iova_tree = g_array_new (FALSE, FALSE, sizeof (Mapping));
  as->consumer = g_ptr_array_new ();
  return as;
}

static IovNotifier *
new_notifier (Sys        *sys,
              const char *name,
              const char *owner,
              guint64     start,
              guint64     end,
              guint       flags)
{
  IovNotifier *n = iov_notifier_new (name, owner, start, end, flags);

  g_ptr_array_add (sys->pool, n);
  return n;
}

/* ------------------------------------------------------------------------
 * Dispatch and aborts
 */

static gboolean
emit (Sys               *sys,
      As                *as,
      const IovTlbEvent *event,
      const IovNotifier *target)
{
  IovTlbEvent ev = *event;
  gint32 index = sys->cur->events->len;

  /* ≤5.2 has no type: record what memory_region_notify_one() derives. */
  ev.type = iov_event_effective_type (sys->p, &ev);
  g_array_append_val (sys->cur->events, ev);

  if (target != NULL)
    {
      IovOutcome out;

      out.event = index;
      if (iov_notify_one (sys->p, target, &ev, &out) == IOV_RESULT_ABORT)
        sys->dead = TRUE;
      g_array_append_val (sys->cur->outcomes, out);
    }
  else if (!iov_iommu_mr_notify (sys->p, &as->mr, 0, &ev, index, sys->cur->outcomes))
    sys->dead = TRUE;
  if (sys->dead)
    sys->cur->exit_status = IOV_EXIT_ABORT;

  return !sys->dead;
}

/* @status: how QEMU ends, IOV_EXIT_ABORT for assert() and hw_error(). */
static void
abort_without_event (Sys               *sys,
                     const IovNotifier *notifier,
                     IovAbortKind       kind,
                     int                status,
                     char              *message)
{
  IovOutcome out = { 0 };

  out.notifier = notifier;
  out.event = -1;
  out.result = IOV_RESULT_ABORT;
  out.abort = kind;
  g_array_append_val (sys->cur->outcomes, out);
  if (message != NULL)
    {
      g_free (sys->cur->abort_message);
      sys->cur->abort_message = message;
    }
  sys->cur->exit_status = status;
  sys->dead = TRUE;
}

/* ------------------------------------------------------------------------
 * Registration (memory_region_register_iommu_notifier + notify_flag_changed)
 */

static char *
bdf_dots (As *as)
{
  /* QEMU's refusal messages print "%02x.%02x.%x". */
  return g_strdup_printf ("%02x.%02x.%x", as->bus, as->devfn >> 3, as->devfn & 7);
}

static char *
flag_changed_refusal (Sys   *sys,
                      As    *as,
                      guint  new_flags)
{
  g_autofree char *dev = bdf_dots (as);

  switch (sys->sc->model)
    {
    case IOV_IOMMU_INTEL:
      /* vtd_iommu_notify_flag_changed(): error_setg_errno (ENOTSUP; 7.0
       * passed -ENOTSUP), so QEMU appends strerror's text. */
      if (sys->p->snoop_control && sys->sc->snoop_control)
        return g_strdup_printf ("Snoop Control with vhost or VFIO is not supported%s", sys->p->vtd_errno_text);
      if (sys->p->vtd_refusals && (new_flags & IOV_NOTIFIER_MAP) && !sys->sc->caching_mode)
        return g_strdup_printf ("device %s requires caching mode%s", dev, sys->p->vtd_errno_text);
      if (sys->p->vtd_refusals && (new_flags & IOV_NOTIFIER_DEVIOTLB_UNMAP) && !sys->sc->device_iotlb)
        return g_strdup_printf ("device %s requires device IOTLB mode%s", dev, sys->p->vtd_errno_text);
      return NULL;

    case IOV_IOMMU_VIRTIO:
      if (new_flags & IOV_NOTIFIER_DEVIOTLB_UNMAP)
        return g_strdup ("Virtio-iommu does not support dev-iotlb yet");
      return NULL;

    case IOV_IOMMU_AMD:
      /* ≤10.1 error_setg(); 10.2 error_setg_errno (ENOTSUP), and only
       * without dma-remap, when no IOMMU section exists to register on. */
      if ((new_flags & IOV_NOTIFIER_MAP) && !sys->p->amd_notifies)
        return g_strdup_printf ("device %s requires iommu notifier which is not currently supported", dev);
      if ((new_flags & IOV_NOTIFIER_MAP) && !sys->sc->dma_remap)
        return g_strdup_printf ("device %s requires dma-remap=1%s", dev, sys->p->amd_errno_text);
      return NULL;

    default:
      return NULL;
    }
}

static void
track_as_with_notifiers (Sys   *sys,
                         As    *as,
                         guint  old_flags,
                         guint  new_flags)
{
  if (old_flags == IOV_NOTIFIER_NONE && new_flags != IOV_NOTIFIER_NONE)
    g_ptr_array_insert (sys->as_with_notifiers, 0, as);
  else if (old_flags != IOV_NOTIFIER_NONE && new_flags == IOV_NOTIFIER_NONE)
    g_ptr_array_remove (sys->as_with_notifiers, as);
}

static void
record (Sys                   *sys,
        IovRegistrationAction  action,
        As                    *as,
        const IovNotifier     *n,
        char                  *message)
{
  IovRegistration reg = { action, n, g_strdup (as->id), message };

  if (sys->cur->registrations == NULL)
    sys->cur->registrations = g_array_new (FALSE, FALSE, sizeof (IovRegistration));
  g_array_append_val (sys->cur->registrations, reg);
}

/* Returns NULL on success, else QEMU's refusal message. */
static char *
register_notifier (Sys         *sys,
                   As          *as,
                   IovNotifier *n)
{
  guint old_flags = as->mr.agg_flags;
  guint new_flags = iov_iommu_mr_insert (&as->mr, n);

  if (new_flags != old_flags)
    {
      char *refusal = flag_changed_refusal (sys, as, new_flags);

      if (refusal != NULL)
        {
          iov_iommu_mr_remove (&as->mr, n);
          record (sys, IOV_REGISTRATION_REFUSED, as, n, g_strdup (refusal));
          return refusal;
        }
      track_as_with_notifiers (sys, as, old_flags, new_flags);
      as->mr.agg_flags = new_flags;
    }
  record (sys, IOV_REGISTRATION_ADDED, as, n, NULL);
  return NULL;
}

static void
unregister_notifier (Sys         *sys,
                     As          *as,
                     IovNotifier *n)
{
  guint old_flags = as->mr.agg_flags;
  guint new_flags;

  if (!iov_iommu_mr_remove (&as->mr, n))
    return;
  new_flags = iov_iommu_mr_compute_flags (&as->mr);
  /* notify_flag_changed() with errp=NULL: the result is ignored. */
  track_as_with_notifiers (sys, as, old_flags, new_flags);
  as->mr.agg_flags = new_flags;
  record (sys, IOV_REGISTRATION_REMOVED, as, n, NULL);
}

/* ------------------------------------------------------------------------
 * Guest page table and QEMU's iova tree
 */

/* The first entry of @tree (sorted, disjoint) that ends at or after @first. */
static guint
tree_lower (GArray  *tree,
            guint64  first)
{
  guint lo = 0, hi = tree->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      Mapping *m = &g_array_index (tree, Mapping, mid);

      if (m->iova + (m->size - 1) < first)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

/* An entry of @tree overlapping [first, last] (the lowest), or -1.  The
 * entries are disjoint, so which one is found only matters when exactly
 * one overlaps: then it is that one. */
static int
tree_find (GArray  *tree,
           guint64  first,
           guint64  last)
{
  guint i = tree_lower (tree, first);

  if (i < tree->len && g_array_index (tree, Mapping, i).iova <= last)
    return i;
  return -1;
}

static void
tree_remove (GArray  *tree,
             guint64  first,
             guint64  last)
{
  guint i = tree_lower (tree, first), end = i;

  while (end < tree->len && g_array_index (tree, Mapping, end).iova <= last)
    end++;
  if (end > i)
    g_array_remove_range (tree, i, end - i);
}

/* Adds @m to @tree (sorted, disjoint: nothing there overlaps it). */
static void
tree_insert (GArray        *tree,
             const Mapping *m)
{
  g_array_insert_val (tree, tree_lower (tree, m->iova), *m);
}

static void add_tables (As *as, guint64 iova, guint64 leaf_size);

/* The first table at or after (@iova, @size), tables sorted that way. */
static guint
tables_lower (GArray  *tables,
              guint64  iova,
              guint64  size)
{
  guint lo = 0, hi = tables->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      Mapping *t = &g_array_index (tables, Mapping, mid);

      if (t->iova < iova || (t->iova == iova && t->size < size))
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static void
pt_split_partial (As      *as,
                  guint64  first,
                  guint64  last)
{
  /* A leaf only partly inside [first, last] becomes 4 KiB leaves, so the
   * part outside stays mapped.  Only the leaves that overlap the range can
   * be partly inside: a run of the sorted table. */
  for (guint i = tree_lower (as->pt, first); i < as->pt->len; i++)
    {
      Mapping m = g_array_index (as->pt, Mapping, i);
      guint64 m_last = m.iova + (m.size - 1);
      g_autoptr(GArray) pieces = NULL;

      if (m.iova > last)
        break;
      if (m.size == IOV_PAGE_SIZE || (m.iova >= first && m_last <= last))
        continue;
      g_array_remove_index (as->pt, i);
      add_tables (as, m.iova, IOV_PAGE_SIZE);
      pieces = g_array_sized_new (FALSE, FALSE, sizeof (Mapping), m.size / IOV_PAGE_SIZE);
      for (guint64 off = 0; off < m.size; off += IOV_PAGE_SIZE)
        {
          Mapping piece = { m.iova + off, IOV_PAGE_SIZE, m.gpa + off, m.perm };
          g_array_append_val (pieces, piece);
        }
      /* in the leaf's place, in order */
      g_array_insert_vals (as->pt, i, pieces->data, pieces->len);
      i += pieces->len - 1;
    }
}

static void
pt_unmap (As      *as,
          guint64  iova,
          guint64  size)
{
  pt_split_partial (as, iova, iova + size - 1);
  tree_remove (as->pt, iova, iova + size - 1);
}

/* Page-table pages stay once the guest made them (guests rarely free
 * them), so clearing a PTE leaves an invalid entry at the leaf's level. */
static void
add_tables (As      *as,
            guint64  iova,
            guint64  leaf_size)
{
  for (guint shift = 21; shift <= 39; shift += 9)
    {
      guint64 block = G_GUINT64_CONSTANT (1) << shift;
      Mapping t = { iova & ~(block - 1), block, 0, IOV_PERM_RW };
      guint i;

      if (block <= leaf_size)
        continue;
      i = tables_lower (as->tables, t.iova, block);
      if (i == as->tables->len || g_array_index (as->tables, Mapping, i).iova != t.iova ||
          g_array_index (as->tables, Mapping, i).size != block)
        g_array_insert_val (as->tables, i, t);
    }
}

static void
pt_map (As      *as,
        guint64  iova,
        guint64  size,
        guint64  gpa,
        IovPerm  perm)
{
  static const guint64 pages[] = { G_GUINT64_CONSTANT (1) << 30, 1 << 21, IOV_PAGE_SIZE };

  pt_unmap (as, iova, size);
  while (size > 0)
    {
      for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
        {
          guint64 p = pages[i];

          if (size >= p && (iova & (p - 1)) == 0 && (gpa & (p - 1)) == 0)
            {
              Mapping m = { iova, p, gpa, perm };

              add_tables (as, iova, p);
              tree_insert (as->pt, &m);
              iova += p;
              gpa += p;
              size -= p;
              break;
            }
        }
    }
}

static PteKind
pt_lookup (As       *as,
           guint64   block,
           guint64   block_size,
           Mapping **leaf)
{
  guint i = tree_lower (as->pt, block);

  if (i < as->pt->len)
    {
      Mapping *m = &g_array_index (as->pt, Mapping, i);

      if (m->iova == block && m->size == block_size)
        {
          *leaf = m;
          return PTE_LEAF;
        }
    }
  i = tables_lower (as->tables, block, block_size);
  if (i < as->tables->len && g_array_index (as->tables, Mapping, i).iova == block &&
      g_array_index (as->tables, Mapping, i).size == block_size)
    return PTE_TABLE;
  return PTE_INVALID;
}

/* vtd_page_walk_one(): de-duplicate against the iova tree, then hand the
 * event to the hook (all notifiers, or @target alone for a replay). */
static gboolean
walk_one (Sys               *sys,
          As                *as,
          IovTlbEvent       *ev,
          gboolean           notify_unmap,
          const IovNotifier *target)
{
  guint64 last = ev->iova + ev->addr_mask;
  int found = tree_find (as->iova_tree, ev->iova, last);

  if (ev->perm == IOV_PERM_NONE)
    {
      if (!notify_unmap || found < 0)
        return TRUE;
      tree_remove (as->iova_tree, ev->iova, last);
      return emit (sys, as, ev, target);
    }

  if (found >= 0)
    {
      Mapping *m = &g_array_index (as->iova_tree, Mapping, found);
      IovTlbEvent unmap = *ev;

      if (m->iova == ev->iova && m->size - 1 == ev->addr_mask &&
          m->gpa == ev->translated_addr && m->perm == ev->perm)
        return TRUE;

      /* The translation changed: QEMU unmaps the same range first. */
      unmap.type = IOV_NOTIFIER_UNMAP;
      unmap.perm = IOV_PERM_NONE;
      if (!emit (sys, as, &unmap, target))
        return FALSE;
      tree_remove (as->iova_tree, ev->iova, last);
    }

  {
    Mapping m = { ev->iova, ev->addr_mask + 1, ev->translated_addr, ev->perm };
    tree_insert (as->iova_tree, &m);
  }
  return emit (sys, as, ev, target);
}

static gboolean
walk_level (Sys               *sys,
            As                *as,
            guint              level,
            guint64            start,
            guint64            end,      /* exclusive */
            gboolean           notify_unmap,
            const IovNotifier *target)
{
  guint64 sub = G_GUINT64_CONSTANT (1) << (12 + 9 * (level - 1));
  guint64 iova, next;

  for (iova = start & ~(sub - 1); iova < end; iova = next)
    {
      Mapping *leaf = NULL;
      PteKind kind;

      next = iova + sub;
      kind = pt_lookup (as, iova, sub, &leaf);

      if (kind == PTE_TABLE)
        {
          if (!walk_level (sys, as, level - 1, MAX (iova, start), MIN (next, end), notify_unmap, target))
            return FALSE;
        }
      else
        {
          /* A leaf maps its whole block; an invalid entry unmaps it. */
          IovTlbEvent ev = { 0 };

          ev.iova = iova;
          ev.addr_mask = sub - 1;
          ev.perm = kind == PTE_LEAF ? leaf->perm : IOV_PERM_NONE;
          ev.translated_addr = kind == PTE_LEAF ? leaf->gpa : 0;
          ev.type = ev.perm != IOV_PERM_NONE ? IOV_NOTIFIER_MAP : IOV_NOTIFIER_UNMAP;
          if (!walk_one (sys, as, &ev, notify_unmap, target))
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
page_walk (Sys               *sys,
           As                *as,
           guint64            start,
           guint64            end,
           gboolean           notify_unmap,
           const IovNotifier *target)
{
  guint64 limit = G_GUINT64_CONSTANT (1) << sys->aw;

  /* vtd_iova_limit(): the walk stops at the address width. An end that
   * wrapped past 2^64 means "to the top" as well. */
  if (end > limit || end < start)
    end = limit;
  if (start >= end)
    return TRUE;
  return walk_level (sys, as, sys->aw == 39 ? 3 : 4, start, end, notify_unmap, target);
}

/* ------------------------------------------------------------------------
 * VT-d invalidation paths (reference §4.3–§4.8)
 */

typedef struct
{
  Sys               *sys;
  As                *as;
  const IovNotifier *n;
} UnmapChunk;

static gboolean
unmap_chunk (guint64  iova,
             guint64  addr_mask,
             gpointer user_data)
{
  UnmapChunk *c = user_data;
  IovTlbEvent ev = { iova, addr_mask, 0, IOV_NOTIFIER_UNMAP, IOV_PERM_NONE };

  return emit (c->sys, c->as, &ev, c->n);
}

static gboolean
vtd_address_space_unmap (Sys               *sys,
                         As                *as,
                         const IovNotifier *n)
{
  guint64 end = n->end;
  guint64 limit = (G_GUINT64_CONSTANT (1) << sys->aw) - 1;
  UnmapChunk chunk = { sys, as, n };
  guint64 remain;

  if (end > limit)
    end = limit;
  if (n->start > end)
    {
      abort_without_event (sys, n, IOV_ABORT_UNMAP_START_END, IOV_EXIT_ABORT, NULL);
      return FALSE;
    }

  remain = iov_vtd_split_unmap (n->start, end, sys->aw, unmap_chunk, &chunk);
  if (sys->dead)
    return FALSE;
  if (remain != 0)
    {
      abort_without_event (sys, n, IOV_ABORT_UNMAP_REMAIN, IOV_EXIT_ABORT, NULL);
      return FALSE;
    }

  tree_remove (as->iova_tree, n->start, end);
  return TRUE;
}

static gboolean
unmap_all (Sys *sys)
{
  g_autoptr(GPtrArray) list = g_ptr_array_copy (sys->as_with_notifiers, NULL, NULL);

  for (guint i = 0; i < list->len; i++)
    {
      As *as = g_ptr_array_index (list, i);
      g_autoptr(GPtrArray) ns = g_ptr_array_copy (as->mr.list, NULL, NULL);

      for (guint j = 0; j < ns->len; j++)
        if (!vtd_address_space_unmap (sys, as, g_ptr_array_index (ns, j)))
          return FALSE;
    }
  return TRUE;
}

/* vtd_sync_shadow_page_table() (≤7.2) / vtd_address_space_sync() (8.0+) */
static gboolean
sync_as (Sys *sys,
         As  *as)
{
  g_autoptr(GPtrArray) ns = g_ptr_array_copy (as->mr.list, NULL, NULL);

  if (sys->p->vtd_sync_unmap_range)
    {
      if (!(as->mr.agg_flags & IOV_NOTIFIER_MAP))
        {
          /* memory_region_unmap_iommu_notifier_range() per notifier. */
          for (guint i = 0; i < ns->len; i++)
            {
              const IovNotifier *n = g_ptr_array_index (ns, i);
              IovTlbEvent ev = { n->start, n->end - n->start, 0, IOV_NOTIFIER_UNMAP, IOV_PERM_NONE };

              if (!emit (sys, as, &ev, n))
                return FALSE;
            }
          return TRUE;
        }
    }
  else if (sys->p->era != IOV_ERA_5_0 && !(as->mr.agg_flags & IOV_NOTIFIER_IOTLB_EVENTS))
    return TRUE; /* only DEVIOTLB_UNMAP notifiers: nothing to sync */

  if (!as->context_valid)
    {
      for (guint i = 0; i < ns->len; i++)
        if (!vtd_address_space_unmap (sys, as, g_ptr_array_index (ns, i)))
          return FALSE;
      return TRUE;
    }
  return page_walk (sys, as, 0, G_MAXUINT64, TRUE, NULL);
}

/* vtd_iommu_replay(), right after vfio registered @n. */
static gboolean
replay (Sys               *sys,
        As                *as,
        const IovNotifier *n)
{
  gboolean walk;

  if (sys->p->vtd_replay_8_1)
    {
      g_array_set_size (as->iova_tree, 0);
      walk = (n->flags & IOV_NOTIFIER_MAP) != 0;
    }
  else
    {
      if (!vtd_address_space_unmap (sys, as, n))
        return FALSE;
      walk = (as->mr.agg_flags & IOV_NOTIFIER_MAP) != 0;
    }

  if (walk && as->context_valid)
    return page_walk (sys, as, 0, G_MAXUINT64, FALSE, n);
  return TRUE;
}

/* ------------------------------------------------------------------------
 * Listeners: vhost and vfio add one notifier per IOMMU section
 */

static guint
as_sections (Sys     *sys,
             guint64  starts[2],
             guint64  ends[2])
{
  /* AMD-Vi 10.2+ enables the IOMMU region only with dma-remap=on (and a
   * translating device-table entry, which enable-dmar stands for):
   * otherwise the device DMAs through "amdvi-sys" and nothing registers. */
  if (sys->sc->model == IOV_IOMMU_AMD && sys->p->amd_notifies && !sys->sc->dma_remap)
    return 0;
  if (sys->sc->model == IOV_IOMMU_VIRTIO)
    {
      /* No interrupt window inside a virtio-iommu region: one section. */
      starts[0] = 0;
      ends[0] = G_MAXUINT64;
      return 1;
    }
  /* VT-d and AMD-Vi: the interrupt window splits the region. */
  starts[0] = 0;
  ends[0] = IOV_INTERRUPT_ADDR_FIRST - 1;
  starts[1] = IOV_INTERRUPT_ADDR_LAST + 1;
  ends[1] = G_MAXUINT64;
  return 2;
}

static guint
vhost_flags (Sys *sys,
             As  *as)
{
  switch (sys->p->vhost)
    {
    case IOV_VHOST_UNMAP:
      return IOV_NOTIFIER_UNMAP;
    case IOV_VHOST_TRY_DEVIOTLB:
      return IOV_NOTIFIER_DEVIOTLB_UNMAP;
    case IOV_VHOST_BY_ATS:
    default:
      return as->ats_enabled ? IOV_NOTIFIER_DEVIOTLB_UNMAP : IOV_NOTIFIER_UNMAP;
    }
}

/* error_report_err() prints the refusal; vfio then calls hw_error(),
 * which prints its own line and aborts. */
static void
fatal_refusal (Sys               *sys,
               const IovNotifier *n,
               const char        *refusal,
               const char        *then)
{
  char *msg = then ? g_strdup_printf ("qemu-system-x86_64: %s\n%s", refusal, then)
                   : g_strdup_printf ("qemu-system-x86_64: %s", refusal);

  abort_without_event (sys, n, IOV_ABORT_EXIT, then ? IOV_EXIT_ABORT : 1, msg);
}

static IovNotifier *
vhost_register (Sys     *sys,
                As      *as,
                guint    section,
                guint64  start,
                guint64  end)
{
  g_autofree char *name = g_strdup_printf ("%s.vhost.%u", as->id, section + 1);
  guint flags = vhost_flags (sys, as);
  IovNotifier *n = new_notifier (sys, name, "vhost", start, end, flags);
  g_autofree char *refusal = register_notifier (sys, as, n);

  if (refusal != NULL && sys->p->vhost == IOV_VHOST_TRY_DEVIOTLB)
    {
      /* 6.0–8.0 try DEVIOTLB_UNMAP quietly and fall back to UNMAP. */
      g_clear_pointer (&refusal, g_free);
      n = new_notifier (sys, name, "vhost", start, end, IOV_NOTIFIER_UNMAP);
      refusal = register_notifier (sys, as, n);
    }
  if (refusal != NULL)
    {
      fatal_refusal (sys, n, refusal, NULL);
      return NULL;
    }
  return n;
}

/* The listener's region_add for each IOMMU section, in ascending order:
 * vhost's while vhost runs (vhost_dev_start registers its listener), or
 * vfio's. */
static void
register_consumers (Sys *sys,
                    As  *as)
{
  guint64 starts[2], ends[2];
  guint n_sections = as_sections (sys, starts, ends);

  for (guint s = 0; s < n_sections && !sys->dead; s++)
    {
      if (as->backend == IOV_BACKEND_VHOST && as->vhost_started)
        {
          IovNotifier *n = vhost_register (sys, as, s, starts[s], ends[s]);

          if (n != NULL)
            g_ptr_array_insert (as->consumer, 0, n);
        }
      else if (as->backend == IOV_BACKEND_VFIO)
        {
          g_autofree char *name = g_strdup_printf ("%s.vfio.%u", as->id, s + 1);
          IovNotifier *n = new_notifier (sys, name, "vfio", starts[s], ends[s], IOV_NOTIFIER_IOTLB_EVENTS);
          g_autofree char *refusal = register_notifier (sys, as, n);

          if (refusal != NULL)
            {
              /* At run time vfio can only give up: hw_error() aborts. */
              fatal_refusal (sys, n, refusal, "qemu: hardware error: vfio: DMA mapping failed, unable to continue");
              return;
            }
          g_ptr_array_insert (as->consumer, 0, n);
          if (sys->sc->model == IOV_IOMMU_INTEL)
            replay (sys, as, n);
        }
    }
}

/* region_del, in ascending order, finds each notifier by its start. */
static void
unregister_consumers (Sys *sys,
                      As  *as)
{
  guint64 starts[2], ends[2];
  guint n_sections = as_sections (sys, starts, ends);

  for (guint s = 0; s < n_sections; s++)
    for (guint i = 0; i < as->consumer->len; i++)
      {
        IovNotifier *n = g_ptr_array_index (as->consumer, i);

        if (n->start == starts[s])
          {
            unregister_notifier (sys, as, n);
            g_ptr_array_remove_index (as->consumer, i);
            break;
          }
      }
}

static void
add_sections (Sys *sys,
              As  *as)
{
  as->sections = TRUE;
  register_consumers (sys, as);
}

static void
remove_sections (Sys *sys,
                 As  *as)
{
  /* AMD-Vi 10.2+ (enable_nodma_mode): every notifier's range is unmapped
   * in 64-bit power-of-two pieces, unclamped, before the switch. */
  if (sys->sc->model == IOV_IOMMU_AMD && sys->p->amd_notifies)
    {
      g_autoptr(GPtrArray) ns = g_ptr_array_copy (as->mr.list, NULL, NULL);

      for (guint i = 0; i < ns->len && !sys->dead; i++)
        {
          const IovNotifier *n = g_ptr_array_index (ns, i);
          UnmapChunk chunk = { sys, as, n };

          iov_vtd_split_unmap (n->start, n->end, 64, unmap_chunk, &chunk);
        }
      if (sys->dead)
        return;
    }
  as->sections = FALSE;
  unregister_consumers (sys, as);
}

/* vhost_toggle_device_iotlb(): re-register every vhost notifier, in
 * vhost's own list order, with the flag the new ATS state asks for. */
static void
vhost_toggle_device_iotlb (Sys *sys,
                           As  *as)
{
  for (guint i = 0; i < as->consumer->len && !sys->dead; i++)
    {
      IovNotifier *old = g_ptr_array_index (as->consumer, i);
      IovNotifier *n;
      g_autofree char *refusal = NULL;

      unregister_notifier (sys, as, old);
      n = new_notifier (sys, old->name, "vhost", old->start, old->end, vhost_flags (sys, as));
      refusal = register_notifier (sys, as, n);
      if (refusal != NULL)
        {
          fatal_refusal (sys, n, refusal, NULL);
          return;
        }
      g_ptr_array_index (as->consumer, i) = n;
    }
}

/* ------------------------------------------------------------------------
 * virtio-iommu MAP/UNMAP requests
 */

static void
virtio_request (Sys           *sys,
                As            *as,
                const IovStep *step)
{
  gboolean map = step->op == IOV_STEP_MAP;
  guint need = map ? IOV_NOTIFIER_MAP : IOV_NOTIFIER_UNMAP;
  guint64 start = step->iova;
  guint64 end = step->iova + step->size - 1;

  if (!sys->p->virtio_notifies || !(as->mr.agg_flags & need))
    return;

  if (!iov_profile_virtio_splits (sys->p, map) || (start == 0 && end == G_MAXUINT64))
    {
      /* 5.2 sends the request as it came, and 6.0–7.0 a MAP; the split
       * sends the full space whole. */
      IovTlbEvent ev = { start, end - start, step->gpa, need, map ? step->perm : IOV_PERM_NONE };
      emit (sys, as, &ev, NULL);
      return;
    }

  while (start <= end)
    {
      guint64 mask = iov_aligned_pow2_mask (start, end, 64);
      IovTlbEvent ev = { start, mask, map ? step->gpa + (start - step->iova) : 0, need,
                         map ? step->perm : IOV_PERM_NONE };

      if (!emit (sys, as, &ev, NULL))
        return;
      start += mask + 1;
      if (start == 0)
        break;
    }
}

/* ------------------------------------------------------------------------
 * Start-up
 */

/* QEMU will not run vfio-pci behind VT-d without caching mode, long before
 * any notifier: up to 10.1, vtd_machine_done_notify_one() exits when the
 * machine is created; from 10.2, vtd_dev_set_iommu_device() fails the
 * device's realize (hw/vfio/pci.c prepends "Failed to set vIOMMU: " and
 * "vfio HOST: ", error_report prepends the -device option). */
static void
vfio_without_caching_mode (Sys *sys)
{
  const IovScenarioDevice *vfio = NULL;

  if (sys->sc->model != IOV_IOMMU_INTEL || sys->sc->caching_mode)
    return;
  for (guint d = 0; d < sys->sc->devices->len && vfio == NULL; d++)
    if (((IovScenarioDevice *) g_ptr_array_index (sys->sc->devices, d))->backend == IOV_BACKEND_VFIO)
      vfio = g_ptr_array_index (sys->sc->devices, d);
  if (vfio == NULL)
    return;

  if (sys->p->vtd_cm_exit_at_init)
    abort_without_event (sys, NULL, IOV_ABORT_EXIT, 1,
                         g_strdup ("qemu-system-x86_64: We need to set caching-mode=on for intel-iommu to enable "
                                   "device assignment with IOMMU protection."));
  else if (sys->p->vtd_cm_realize_fails)
    abort_without_event (sys, NULL, IOV_ABORT_EXIT, 1,
                         g_strdup_printf ("qemu-system-x86_64: -device vfio-pci,…,id=%s: vfio …: Failed to set vIOMMU: "
                                          "Device assignment is not allowed without enabling caching-mode=on for "
                                          "Intel IOMMU.", vfio->id));
}

/* ------------------------------------------------------------------------
 * Steps
 */

static As *
step_as (Sys           *sys,
         const IovStep *step)
{
  /* The low-level region is the first one when the scenario has it. */
  if (step->device < 0)
    return sys->sc->low_level ? g_ptr_array_index (sys->as_list, 0) : NULL;
  return g_ptr_array_index (sys->as_list, step->device + (sys->sc->low_level ? 1 : 0));
}

static void
switch_all (Sys *sys)
{
  for (guint i = 0; i < sys->as_list->len && !sys->dead; i++)
    {
      As *as = g_ptr_array_index (sys->as_list, i);

      if (as->low_level)
        continue;
      if (sys->dmar && !as->sections)
        {
          as->context_valid = TRUE;
          add_sections (sys, as);
        }
      else if (!sys->dmar && as->sections)
        remove_sections (sys, as);
    }
}

static gboolean
domain_matches (As            *as,
                const IovStep *step)
{
  return as->low_level || !step->has_domain || as->domain == step->domain;
}

static void
run_step (Sys           *sys,
          const IovStep *step)
{
  As *as = step_as (sys, step);

  switch (step->op)
    {
    case IOV_STEP_NOTIFY:
      {
        IovTlbEvent ev = { step->iova, step->addr_mask, step->gpa, step->type, step->perm };
        emit (sys, as, &ev, NULL);
      }
      break;

    case IOV_STEP_DEVICE_IOTLB_INVALIDATE:
      {
        IovTlbEvent ev = { 0 };

        iov_vtd_decode_device_iotlb (step->addr, step->s, &ev.iova, &ev.addr_mask);
        /* ≤5.2 sends a plain entry with no permission: an UNMAP. */
        ev.type = sys->p->era == IOV_ERA_5_0 ? IOV_NOTIFIER_UNMAP : IOV_NOTIFIER_DEVIOTLB_UNMAP;
        ev.perm = IOV_PERM_NONE;
        emit (sys, as, &ev, NULL);
      }
      break;

    case IOV_STEP_PSI:
      {
        g_autoptr(GPtrArray) list = g_ptr_array_copy (sys->as_with_notifiers, NULL, NULL);
        guint64 size = (G_GUINT64_CONSTANT (1) << step->am) * IOV_PAGE_SIZE;

        for (guint i = 0; i < list->len && !sys->dead; i++)
          {
            As *a = g_ptr_array_index (list, i);

            if (!a->context_valid || !domain_matches (a, step))
              continue;
            if (a->mr.agg_flags & IOV_NOTIFIER_MAP)
              page_walk (sys, a, step->addr, step->addr + size, TRUE, NULL);
            else
              {
                /* The address goes out as the guest wrote it, unaligned. */
                IovTlbEvent ev = { step->addr, size - 1, 0, IOV_NOTIFIER_UNMAP, IOV_PERM_NONE };
                emit (sys, a, &ev, NULL);
              }
          }
      }
      break;

    case IOV_STEP_UNMAP_WHOLE:
      vtd_address_space_unmap (sys, as, g_ptr_array_index (sys->pool, step->notifier));
      break;

    case IOV_STEP_ENABLE_DMAR:
    case IOV_STEP_DISABLE_DMAR:
      {
        gboolean on = step->op == IOV_STEP_ENABLE_DMAR;

        if (sys->dmar == on)
          break;
        /* vtd_address_space_refresh_all(): unmap everything, then switch. */
        if (sys->sc->model == IOV_IOMMU_INTEL && !unmap_all (sys))
          break;
        sys->dmar = on;
        switch_all (sys);
      }
      break;

    case IOV_STEP_MAP:
    case IOV_STEP_UNMAP:
      if (sys->sc->model == IOV_IOMMU_VIRTIO)
        virtio_request (sys, as, step);
      else if (step->op == IOV_STEP_MAP)
        pt_map (as, step->iova, step->size, step->gpa, step->perm);
      else
        pt_unmap (as, step->iova, step->size);
      break;

    case IOV_STEP_ATS_ENABLE:
    case IOV_STEP_ATS_DISABLE:
      {
        gboolean on = step->op == IOV_STEP_ATS_ENABLE;

        if (as->ats_enabled == on)
          break;
        as->ats_enabled = on;
        /* virtio_pci_ats_ctrl_trigger() sets device_iotlb_enabled either
         * way; vhost_toggle_device_iotlb() returns unless vhost runs. */
        if (sys->p->vhost == IOV_VHOST_BY_ATS && as->backend == IOV_BACKEND_VHOST && as->vhost_started)
          vhost_toggle_device_iotlb (sys, as);
      }
      break;

    case IOV_STEP_VHOST_START:
    case IOV_STEP_VHOST_STOP:
      {
        gboolean on = step->op == IOV_STEP_VHOST_START;

        if (as->vhost_started == on)
          break;
        /* vhost_dev_start() registers vhost's IOMMU listener, whose
         * region_add registers a notifier per section present now;
         * vhost_dev_stop() unregisters the listener, and region_del each. */
        if (on)
          {
            as->vhost_started = TRUE;
            if (as->sections)
              register_consumers (sys, as);
          }
        else
          {
            unregister_consumers (sys, as);
            as->vhost_started = FALSE;
          }
      }
      break;

    case IOV_STEP_CONTEXT_INVALIDATE:
      if (as == NULL)
        {
          g_autoptr(GPtrArray) list = NULL;

          if (!unmap_all (sys))
            break;
          switch_all (sys);
          list = g_ptr_array_copy (sys->as_with_notifiers, NULL, NULL);
          for (guint i = 0; i < list->len && !sys->dead; i++)
            sync_as (sys, g_ptr_array_index (list, i));
        }
      else if (as->mr.list->len > 0 || sys->p->era == IOV_ERA_5_0)
        sync_as (sys, as);
      break;

    case IOV_STEP_DSI:
    case IOV_STEP_GLOBAL_INVALIDATE:
      {
        g_autoptr(GPtrArray) list = g_ptr_array_copy (sys->as_with_notifiers, NULL, NULL);

        for (guint i = 0; i < list->len && !sys->dead; i++)
          {
            As *a = g_ptr_array_index (list, i);

            if (a->context_valid && domain_matches (a, step))
              sync_as (sys, a);
          }
      }
      break;

    case IOV_STEP_LAST:
    default:
      g_assert_not_reached ();
    }
}

/* ------------------------------------------------------------------------
 * Explanations, for the teaching view and the CLI's "explain"
 */

static char *
explain_outcome (Sys *sys)
{
  IovStepResult *r = sys->cur;
  guint delivered = 0, cropped = 0, skipped = 0;

  for (guint i = 0; i < r->outcomes->len; i++)
    {
      IovOutcome *o = &g_array_index (r->outcomes, IovOutcome, i);

      if (o->result == IOV_RESULT_DELIVERED)
        {
          delivered++;
          cropped += o->cropped;
        }
      else if (o->result != IOV_RESULT_ABORT)
        skipped++;
    }

  if (sys->dead)
    return g_strdup (_("QEMU aborts here."));
  if (r->events->len == 0)
    return g_strdup (_("No notifier hears anything."));
  return g_strdup_printf (_("%u events: %u deliveries (%u cropped), %u skipped."),
                          r->events->len, delivered, cropped, skipped);
}

static char *
explain_step (Sys           *sys,
              const IovStep *step)
{
  g_autofree char *outcome = explain_outcome (sys);
  const char *what;

  switch (step->op)
    {
    case IOV_STEP_ENABLE_DMAR:
      what = _("The guest enables DMA remapping: the interrupt window splits each device's IOMMU region "
               "in two, and vhost and vfio register one notifier per section.");
      break;
    case IOV_STEP_DISABLE_DMAR:
      what = _("The guest disables DMA remapping: QEMU unmaps every notifier's range, then the sections "
               "and their notifiers go away.");
      break;
    case IOV_STEP_MAP:
      what = sys->sc->model == IOV_IOMMU_VIRTIO
               ? _("The guest asks virtio-iommu to map a range; MAP notifiers hear of it.")
               : _("The guest maps a range in its I/O page table; QEMU learns of it only from an invalidation.");
      break;
    case IOV_STEP_UNMAP:
      what = sys->sc->model == IOV_IOMMU_VIRTIO
               ? _("The guest asks virtio-iommu to unmap a range; UNMAP notifiers hear of it.")
               : _("The guest unmaps a range in its I/O page table; QEMU learns of it only from an invalidation.");
      break;
    case IOV_STEP_ATS_ENABLE:
      what = _("The guest enables ATS on the device; a running vhost re-registers its notifiers where QEMU ties "
               "the flag to it.");
      break;
    case IOV_STEP_VHOST_START:
      what = _("The guest's driver starts the device: vhost starts and registers one notifier per IOMMU section.");
      break;
    case IOV_STEP_VHOST_STOP:
      what = _("vhost stops: its notifiers are unregistered.");
      break;
    case IOV_STEP_ATS_DISABLE:
      what = _("The guest disables ATS on the device.");
      break;
    case IOV_STEP_CONTEXT_INVALIDATE:
      what = _("The guest invalidates the context cache; QEMU resynchronises the shadow mappings.");
      break;
    case IOV_STEP_DSI:
      what = _("The guest invalidates a whole domain's IOTLB.");
      break;
    case IOV_STEP_GLOBAL_INVALIDATE:
      what = _("The guest invalidates the whole IOTLB.");
      break;
    case IOV_STEP_PSI:
      what = _("The guest invalidates a range of pages in the IOTLB.");
      break;
    case IOV_STEP_DEVICE_IOTLB_INVALIDATE:
      what = _("The guest flushes the device's own IOTLB (ATS).");
      break;
    case IOV_STEP_UNMAP_WHOLE:
      what = _("QEMU unmaps one notifier's whole range in power-of-two pieces.");
      break;
    case IOV_STEP_NOTIFY:
      what = _("The IOMMU sends one event to every notifier.");
      break;
    case IOV_STEP_LAST:
    default:
      what = "";
      break;
    }
  /* vtd_switch_address_space_all() walks a hash table: QEMU switches
   * devices in an order of its own, the model in the scenario's. */
  if (sys->sc->model == IOV_IOMMU_INTEL && sys->sc->devices->len > 1 &&
      (step->op == IOV_STEP_ENABLE_DMAR || step->op == IOV_STEP_DISABLE_DMAR ||
       (step->op == IOV_STEP_CONTEXT_INVALIDATE && step->device < 0)))
    return g_strdup_printf ("%s %s %s", what, outcome,
                            _("QEMU switches the devices in its hash table's order, not the scenario's: across "
                              "devices, events and registrations may come in another order."));
  return g_strdup_printf ("%s %s", what, outcome);
}

/* ------------------------------------------------------------------------
 * Runs
 */

static void
step_result_clear (IovStepResult *r)
{
  g_clear_pointer (&r->events, g_array_unref);
  g_clear_pointer (&r->outcomes, g_array_unref);
  if (r->registrations != NULL)
    for (guint i = 0; i < r->registrations->len; i++)
      {
        g_free (g_array_index (r->registrations, IovRegistration, i).message);
        g_free (g_array_index (r->registrations, IovRegistration, i).device);
      }
  g_clear_pointer (&r->registrations, g_array_unref);
  g_clear_pointer (&r->abort_message, g_free);
  g_clear_pointer (&r->explain, g_free);
}

static void
run_space_free (IovRunSpace *space)
{
  g_free (space->device);
  g_ptr_array_unref (space->notifiers);
  g_free (space);
}

static IovRunSpace *
run_space_find (GPtrArray  *spaces,
                const char *device)
{
  IovRunSpace *space;

  for (guint i = 0; i < spaces->len; i++)
    if (g_str_equal (((IovRunSpace *) g_ptr_array_index (spaces, i))->device, device))
      return g_ptr_array_index (spaces, i);

  space = g_new0 (IovRunSpace, 1);
  space->device = g_strdup (device);
  space->notifiers = g_ptr_array_new ();
  g_ptr_array_add (spaces, space);
  return space;
}

GPtrArray *
iov_run_spaces_at (const IovRun *run,
                   int           step)
{
  GPtrArray *spaces = g_ptr_array_new_with_free_func ((GDestroyNotify) run_space_free);

  g_return_val_if_fail (run != NULL, spaces);

  for (guint i = 0; i < run->initial->len; i++)
    {
      IovRunSpace *src = g_ptr_array_index (run->initial, i);
      IovRunSpace *dst = run_space_find (spaces, src->device);

      for (guint j = 0; j < src->notifiers->len; j++)
        g_ptr_array_add (dst->notifiers, g_ptr_array_index (src->notifiers, j));
    }

  /* Replay the registrations: the same head insertion the model did. */
  for (int s = 0; s <= step && s < (int) run->steps->len; s++)
    {
      const IovStepResult *r = &g_array_index (run->steps, IovStepResult, s);

      for (guint k = 0; r->registrations != NULL && k < r->registrations->len; k++)
        {
          const IovRegistration *reg = &g_array_index (r->registrations, IovRegistration, k);
          IovRunSpace *space = run_space_find (spaces, reg->device);

          if (reg->action == IOV_REGISTRATION_ADDED)
            g_ptr_array_insert (space->notifiers, 0, (gpointer) reg->notifier);
          else if (reg->action == IOV_REGISTRATION_REMOVED)
            g_ptr_array_remove (space->notifiers, (gpointer) reg->notifier);
        }
    }
  return spaces;
}

void
iov_run_free (IovRun *run)
{
  if (run == NULL)
    return;
  g_clear_pointer (&run->initial, g_ptr_array_unref);
  g_clear_pointer (&run->steps, g_array_unref);
  g_clear_pointer (&run->notifiers, g_ptr_array_unref);
  g_free (run);
}

static gboolean
is_topology_op (IovStepOp op)
{
  return op >= IOV_STEP_ENABLE_DMAR;
}

IovRun *
iov_run_scenario (const IovScenario  *sc,
                  const IovProfile   *profile,
                  GError            **error)
{
  g_autoptr(IovRun) run = NULL;
  Sys sys = { 0 };

  g_return_val_if_fail (sc != NULL, NULL);
  g_return_val_if_fail (profile != NULL, NULL);

  if (!iov_scenario_check_profile (sc, profile, error))
    return NULL;

  run = g_new0 (IovRun, 1);
  run->profile = profile;
  run->aborted_at = -1;
  run->notifiers = g_ptr_array_new_with_free_func ((GDestroyNotify) iov_notifier_free);
  run->initial = g_ptr_array_new_with_free_func ((GDestroyNotify) run_space_free);
  run->steps = g_array_sized_new (FALSE, TRUE, sizeof (IovStepResult), sc->steps->len);
  g_array_set_clear_func (run->steps, (GDestroyNotify) step_result_clear);

  sys.p = profile;
  sys.sc = sc;
  sys.aw = iov_scenario_aw_bits (sc, profile);
  sys.pool = run->notifiers;
  sys.as_list = g_ptr_array_new_with_free_func ((GDestroyNotify) as_free);
  sys.as_with_notifiers = g_ptr_array_new ();

  if (sc->low_level)
    {
      /* The low-level form's one IOMMU region: 00:02.0, DMAR on, its
       * notifiers registered in array order without refusals. */
      As *as = as_new ("mr", 0, 2 << 3);

      as->low_level = TRUE;
      as->sections = TRUE;
      as->context_valid = TRUE;
      g_ptr_array_add (sys.as_list, as);
      for (guint i = 0; i < sc->notifiers->len; i++)
        {
          const IovNotifier *src = g_ptr_array_index (sc->notifiers, i);
          IovNotifier *n = new_notifier (&sys, src->name, src->owner, src->start, src->end, src->flags);

          iov_iommu_mr_insert (&as->mr, n);
        }
      as->mr.agg_flags = iov_iommu_mr_compute_flags (&as->mr);
      if (as->mr.agg_flags != IOV_NOTIFIER_NONE)
        g_ptr_array_add (sys.as_with_notifiers, as);
      g_ptr_array_extend (run_space_find (run->initial, as->id)->notifiers, as->mr.list, NULL, NULL);
    }

  for (guint i = 0; i < sc->devices->len; i++)
    {
      const IovScenarioDevice *d = g_ptr_array_index (sc->devices, i);
      As *as = as_new (d->id, d->bus, d->devfn);

      as->backend = d->backend;
      as->domain = d->domain;
      as->ats_enabled = d->ats_enabled;
      as->vhost_started = d->backend == IOV_BACKEND_VHOST && !d->vhost_stopped;
      g_ptr_array_add (sys.as_list, as);
      run_space_find (run->initial, as->id);
    }

  for (guint i = 0; i < sc->steps->len; i++)
    {
      const IovStep *step = &g_array_index (sc->steps, IovStep, i);
      IovStepResult *r;

      g_array_set_size (run->steps, i + 1);
      r = &g_array_index (run->steps, IovStepResult, i);
      r->index = i;
      r->op = step->op;
      r->topology = is_topology_op (step->op);

      if (sys.dead)
        {
          r->not_run = TRUE;
          continue;
        }

      r->events = g_array_new (FALSE, FALSE, sizeof (IovTlbEvent));
      r->outcomes = g_array_new (FALSE, FALSE, sizeof (IovOutcome));
      /* Only topology steps register notifiers, and only they explain
       * themselves unless the scenario does: keep the low-level path lean. */
      r->registrations = r->topology ? g_array_new (FALSE, FALSE, sizeof (IovRegistration)) : NULL;
      sys.cur = r;

      if (i == 0)
        vfio_without_caching_mode (&sys);

      if (!sys.dead)
        run_step (&sys, step);

      if (step->explain != NULL)
        r->explain = g_strdup (step->explain);
      else if (r->topology)
        r->explain = explain_step (&sys, step);
      if (sys.dead)
        run->aborted_at = i;
    }

  g_ptr_array_unref (sys.as_with_notifiers);
  g_ptr_array_unref (sys.as_list);
  return g_steal_pointer (&run);
}
