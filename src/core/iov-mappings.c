/* iov-mappings.c
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

#define G_LOG_DOMAIN "iov-mappings"

#include "config.h"

#include <stddef.h>
#include <string.h>

#include "iov-mappings.h"
#include "iov-traffic.h"

/* QEMU's rules, replayed (hw/virtio/virtio-iommu.c, hw/i386/intel_iommu.c):
 *   - virtio_iommu_map: refused when the range overlaps a mapping of its
 *     domain, or the domain does not exist (freed by put_domain or a reset
 *     and not attached again); else mapped.
 *   - virtio_iommu_unmap: removes the mappings that lie inside the range;
 *     one that overlaps it only in part stops QEMU (S_RANGE) after an
 *     unknown number of removals, which the virtio_iommu_unmap_done lines
 *     that follow name: then only those are removed.
 *   - virtio_iommu_unmap_done: that exact mapping is gone.
 *   - virtio_iommu_put_domain: the domain and its mappings are gone;
 *     virtio_iommu_device_reset: all domains are.
 *   - vtd_page_walk_one: perm ≠ 0 maps [iova, iova + mask] (refused when it
 *     overlaps, as QEMU's IOVA tree refuses it), perm 0 removes every
 *     mapping it overlaps. QEMU walks per device address space and traces
 *     the domain: devices of one domain (the functions of a device, say)
 *     each map the same pages, so an identical mapping counts its address
 *     spaces and goes when the last of them unmaps it.
 * Every applied change is logged with its time; a checkpoint of the live
 * set, in the order queries return it, is kept every max(CHECKPOINT_MIN,
 * live / CHECKPOINT_SHARE) changes: its 4-byte entries take no more room
 * than the 16-byte changes they follow, and a query copies the checkpoint
 * and sorts only the tail after it (a quarter of the live set at most).
 * A diff over a span with fewer changes than mappings live reads those
 * changes alone. */

#define CHECKPOINT_MIN   4096
#define CHECKPOINT_SHARE 4
#define NOT_REMOVED      G_MAXUINT64

typedef struct
{
  IovMapping m;
  guint64    removed_at;   /* index of the change that removed it */
  guint      refs;         /* VT-d: the address spaces that mapped it */
  guint32    added_at;     /* index of the change that added it (a GArray's length fits) */
} Record;

typedef struct
{
  guint64 ts;
  guint32 record;
  guint32 add;
} Change;

typedef struct
{
  guint64 n_changes;       /* the live set after this many changes */
  GArray *live;            /* guint32 record indexes */
} Checkpoint;

typedef struct
{
  char    *label;
  guint64  number;         /* the label's value, for the order */
  GTree   *live;           /* record index + 1 → itself, by start */
  gboolean freed;
} Domain;

typedef enum
{
  EV_OTHER = 1,
  EV_VIOMMU_MAP,
  EV_VIOMMU_UNMAP,
  EV_VIOMMU_UNMAP_DONE,
  EV_VIOMMU_PUT_DOMAIN,
  EV_VIOMMU_GET_DOMAIN,
  EV_VIOMMU_ATTACH,
  EV_VIOMMU_DETACH,
  EV_VIOMMU_RESET,
  EV_VTD_WALK,
  EV_VTD_UNMAP_WHOLE,
  EV_VTD_INV_DESC,
  EV_VTD_INV_CC,
  EV_VTD_SWITCH,
  EV_VTD_REPLAY_CE,
  EV_VTD_WALK_OTHER,
} EventKind;

static const IovTraceNameKind event_kinds[] = {
  { "virtio_iommu_map", EV_VIOMMU_MAP },
  { "virtio_iommu_unmap", EV_VIOMMU_UNMAP },
  { "virtio_iommu_unmap_done", EV_VIOMMU_UNMAP_DONE },
  { "virtio_iommu_put_domain", EV_VIOMMU_PUT_DOMAIN },
  { "virtio_iommu_get_domain", EV_VIOMMU_GET_DOMAIN },
  { "virtio_iommu_attach", EV_VIOMMU_ATTACH },
  { "virtio_iommu_detach", EV_VIOMMU_DETACH },
  { "virtio_iommu_device_reset", EV_VIOMMU_RESET },
  { "vtd_page_walk_one", EV_VTD_WALK },
  { "vtd_as_unmap_whole", EV_VTD_UNMAP_WHOLE },
  { "vtd_inv_desc", EV_VTD_INV_DESC },
  { "vtd_inv_desc_cc_devices", EV_VTD_INV_CC },
  { "vtd_inv_desc_cc_device", EV_VTD_INV_CC },
  { "vtd_switch_address_space", EV_VTD_SWITCH },
  { "vtd_replay_ce_valid", EV_VTD_REPLAY_CE },
  { "vtd_page_walk_level", EV_VTD_WALK_OTHER },
  { "vtd_page_walk_one_skip_map", EV_VTD_WALK_OTHER },
  { "vtd_page_walk_one_skip_unmap", EV_VTD_WALK_OTHER },
  { "vtd_page_walk_skip_read", EV_VTD_WALK_OTHER },
  { "vtd_page_walk_skip_reserve", EV_VTD_WALK_OTHER },
};

#define UNKNOWN_DOMAIN (-2)

/* virtio-iommu: from @ts on, @endpoint is in @domain (or in none: -1, or
 * VT-d's device in a domain the trace does not name: UNKNOWN_DOMAIN),
 * so that the window can show a device's mappings at any instant. */
typedef struct
{
  guint64 ts;
  guint32 endpoint;
  gint32  domain;
} Attachment;

struct _IovMappings
{
  GArray     *records;      /* Record */
  GArray     *changes;      /* Change, times never decreasing */
  GArray     *checkpoints;  /* Checkpoint */
  GPtrArray  *domains;      /* Domain* */
  GHashTable *by_label;     /* label → domain index + 1 */
  guint32     last_domain;
  guint64     n_live;
  guint64     since_checkpoint;
  guint64     last_ts;
  guint64     probe;        /* the start of key 0, for lookups */
  GByteArray *kind_by_id;
  GArray     *scratch;      /* guint32 */
  GArray     *attachments;  /* Attachment, times never decreasing */
  GHashTable *attached;     /* endpoint + 1 → its domain + 1, now */

  /* VT-d (issue L): which device's tables the walk under way reads. QEMU
   * names the domain in each vtd_page_walk_one, never the device; the
   * device is known only where the walk follows, in the same thread and
   * with nothing else between, a device-selective context-cache
   * invalidation of that device and its address-space switch (QEMU walks
   * it then: vtd_context_device_invalidate), or vfio's replay of it
   * (vtd_replay_ce_valid). Anything else on that thread ends it. */
  guint32     vtd_tid;
  guint32     ctx_sid;        /* the invalidation's source-id … */
  guint32     ctx_keep;       /* … and the devfn bits its function mask keeps */
  gboolean    ctx_pending;
  gint64      walk_endpoint;  /* the device walked, or -1 */
  guint64     n_vtd_walked;   /* walk lines with a known device */
  guint64     n_vtd_walks;    /* vtd_page_walk_one lines */

  guint64     n_events;
  guint64     n_refused;
  guint64     n_partial;
  guint64     n_unmap_done;
  guint64     n_unmap_whole;
};

static void
domain_free (Domain *d)
{
  g_free (d->label);
  g_tree_unref (d->live);
  g_free (d);
}

IovMappings *
iov_mappings_new (void)
{
  IovMappings *self = g_new0 (IovMappings, 1);

  self->records = g_array_new (FALSE, FALSE, sizeof (Record));
  self->changes = g_array_new (FALSE, FALSE, sizeof (Change));
  self->checkpoints = g_array_new (FALSE, FALSE, sizeof (Checkpoint));
  self->domains = g_ptr_array_new_with_free_func ((GDestroyNotify) domain_free);
  self->by_label = g_hash_table_new (g_str_hash, g_str_equal);
  self->kind_by_id = g_byte_array_new ();
  self->scratch = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->attachments = g_array_new (FALSE, FALSE, sizeof (Attachment));
  self->attached = g_hash_table_new (g_direct_hash, g_direct_equal);
  self->walk_endpoint = -1;
  return self;
}

void
iov_mappings_free (IovMappings *self)
{
  if (self == NULL)
    return;
  for (guint i = 0; i < self->checkpoints->len; i++)
    g_array_unref (g_array_index (self->checkpoints, Checkpoint, i).live);
  g_array_unref (self->checkpoints);
  g_array_unref (self->records);
  g_array_unref (self->changes);
  g_hash_table_unref (self->by_label);
  g_ptr_array_unref (self->domains);
  g_byte_array_unref (self->kind_by_id);
  g_array_unref (self->scratch);
  g_array_unref (self->attachments);
  g_hash_table_unref (self->attached);
  g_free (self);
}

/* ---- the live set -------------------------------------------------------- */

static guint64
key_start (IovMappings *self,
           gconstpointer key)
{
  guint k = GPOINTER_TO_UINT (key);

  return k == 0 ? self->probe : g_array_index (self->records, Record, k - 1).m.start;
}

static int
compare_keys (gconstpointer a,
              gconstpointer b,
              gpointer      user_data)
{
  guint64 x = key_start (user_data, a), y = key_start (user_data, b);

  return x < y ? -1 : x > y;
}

static guint32
domain_of (IovMappings *self,
           const char  *label,
           gsize        len)
{
  g_autofree char *key = NULL;
  gpointer v;
  Domain *d;

  /* most lines name the domain of the line before */
  if (self->domains->len > 0)
    {
      d = g_ptr_array_index (self->domains, self->last_domain);
      if (strncmp (d->label, label, len) == 0 && d->label[len] == '\0')
        return self->last_domain;
    }
  key = g_strndup (label, len);
  v = g_hash_table_lookup (self->by_label, key);
  if (v != NULL)
    return self->last_domain = GPOINTER_TO_UINT (v) - 1;
  d = g_new0 (Domain, 1);
  d->label = g_steal_pointer (&key);
  d->number = g_ascii_strtoull (d->label, NULL, g_str_has_prefix (d->label, "0x") ? 16 : 10);
  d->live = g_tree_new_full (compare_keys, self, NULL, NULL);
  g_ptr_array_add (self->domains, d);
  g_hash_table_insert (self->by_label, d->label, GUINT_TO_POINTER (self->domains->len));
  return self->last_domain = self->domains->len - 1;
}

static const Record *
record_of (IovMappings *self,
           GTreeNode   *node)
{
  return &g_array_index (self->records, Record, GPOINTER_TO_UINT (g_tree_node_key (node)) - 1);
}

/* The live mappings of @d that overlap [start, end], into self->scratch
 * (highest first); whether one of them sticks out of it. */
static gboolean
overlapping (IovMappings *self,
             Domain      *d,
             guint64      start,
             guint64      end)
{
  GTreeNode *node;
  gboolean partial = FALSE;

  g_array_set_size (self->scratch, 0);
  self->probe = end;
  node = g_tree_upper_bound (d->live, GUINT_TO_POINTER (0));
  node = node ? g_tree_node_previous (node) : g_tree_node_last (d->live);
  for (; node != NULL; node = g_tree_node_previous (node))
    {
      const Record *r = record_of (self, node);
      guint32 index = GPOINTER_TO_UINT (g_tree_node_key (node)) - 1;

      if (r->m.end < start)
        break;
      partial |= r->m.start < start || r->m.end > end;
      g_array_append_val (self->scratch, index);
    }
  return partial;
}

/* Domains in the order of iov_mappings_at()'s output: by their label's number. */
static int
compare_domains (gconstpointer a,
                 gconstpointer b,
                 gpointer      user_data)
{
  IovMappings *self = user_data;
  const Domain *da = g_ptr_array_index (self->domains, *(const guint32 *) a);
  const Domain *db = g_ptr_array_index (self->domains, *(const guint32 *) b);

  if (da->number != db->number)
    return da->number < db->number ? -1 : 1;
  return strcmp (da->label, db->label);
}

/* The live set, in the order iov_mappings_at() returns (by domain, then
 * start: a domain's mappings never overlap), so that a query merges the
 * changes after it instead of sorting everything. */
static void
take_checkpoint (IovMappings *self)
{
  Checkpoint cp = { self->changes->len, g_array_sized_new (FALSE, FALSE, sizeof (guint32), self->n_live) };
  g_autoptr(GArray) order = g_array_sized_new (FALSE, FALSE, sizeof (guint32), self->domains->len);

  for (guint32 i = 0; i < self->domains->len; i++)
    g_array_append_val (order, i);
  g_array_sort_with_data (order, compare_domains, self);
  for (guint o = 0; o < order->len; o++)
    {
      Domain *d = g_ptr_array_index (self->domains, g_array_index (order, guint32, o));

      for (GTreeNode *n = g_tree_node_first (d->live); n != NULL; n = g_tree_node_next (n))
        {
          guint32 index = GPOINTER_TO_UINT (g_tree_node_key (n)) - 1;

          g_array_append_val (cp.live, index);
        }
    }
  g_array_append_val (self->checkpoints, cp);
  self->since_checkpoint = 0;
}

static void
log_change (IovMappings *self,
            guint32      record,
            gboolean     add)
{
  Change c = { self->last_ts, record, add };

  g_array_append_val (self->changes, c);
  if (++self->since_checkpoint >= MAX (CHECKPOINT_MIN, self->n_live / CHECKPOINT_SHARE))
    take_checkpoint (self);
}

static void
add (IovMappings *self,
     guint32      domain,
     guint64      start,
     guint64      end,
     guint64      phys,
     guint32      flags,
     gboolean     shared)
{
  Domain *d = g_ptr_array_index (self->domains, domain);
  Record r = { { start, end, phys, flags, domain }, NOT_REMOVED, 1, self->changes->len };

  if (end >= start && !d->freed)
    overlapping (self, d, start, end);
  if (shared && self->scratch->len == 1)
    {
      Record *same = &g_array_index (self->records, Record, g_array_index (self->scratch, guint32, 0));

      if (same->m.start == start && same->m.end == end && same->m.phys == phys && same->m.flags == flags)
        {
          same->refs++;
          return;
        }
    }
  if (end < start || d->freed || self->scratch->len > 0)
    {
      self->n_refused++;
      return;
    }
  g_array_append_val (self->records, r);
  g_tree_insert (d->live, GUINT_TO_POINTER (self->records->len), GUINT_TO_POINTER (self->records->len));
  self->n_live++;
  log_change (self, self->records->len - 1, TRUE);
}

static void
remove_record (IovMappings *self,
               guint32      index)
{
  Record *r = &g_array_index (self->records, Record, index);
  Domain *d = g_ptr_array_index (self->domains, r->m.domain);

  r->removed_at = self->changes->len;
  g_tree_remove (d->live, GUINT_TO_POINTER (index + 1));
  self->n_live--;
  log_change (self, index, FALSE);
}

/* Removes what self->scratch holds. */
static void
remove_scratch (IovMappings *self)
{
  g_autoptr(GArray) doomed = g_array_copy (self->scratch);

  for (guint i = 0; i < doomed->len; i++)
    remove_record (self, g_array_index (doomed, guint32, i));
}

static void
clear_domain (IovMappings *self,
              Domain      *d)
{
  g_array_set_size (self->scratch, 0);
  for (GTreeNode *n = g_tree_node_first (d->live); n != NULL; n = g_tree_node_next (n))
    {
      guint32 index = GPOINTER_TO_UINT (g_tree_node_key (n)) - 1;

      g_array_append_val (self->scratch, index);
    }
  remove_scratch (self);
  d->freed = TRUE;
}

/* ---- reading lines ------------------------------------------------------- */

/* The text after @key up to the next space; *@pos moves past it. */
static gboolean
token_after (const char **pos,
             const char  *end,
             const char  *key,
             const char **token,
             gsize       *len)
{
  gsize klen = strlen (key);

  for (const char *q = *pos; q + klen <= end; q++)
    if (memcmp (q, key, klen) == 0)
      {
        const char *p = q + klen, *e = p;

        while (e < end && *e != ' ' && *e != '\r')
          e++;
        *token = p;
        *len = e - p;
        *pos = e;
        return e > p;
      }
  return FALSE;
}

static gboolean
numbers (const char **pos,
         const char  *end,
         const char  *k1,
         guint64     *v1,
         const char  *k2,
         guint64     *v2)
{
  return iov_trace_args_next_number (pos, end, k1, v1) && iov_trace_args_next_number (pos, end, k2, v2);
}

static int
compare_u32 (gconstpointer a,
             gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

static void
attach (IovMappings *self,
        guint32      endpoint,
        gint32       domain)
{
  Attachment a = { self->last_ts, endpoint, domain };

  g_array_append_val (self->attachments, a);
  if (domain >= 0)
    g_hash_table_insert (self->attached, GUINT_TO_POINTER (endpoint + 1), GINT_TO_POINTER (domain + 1));
  else
    g_hash_table_remove (self->attached, GUINT_TO_POINTER (endpoint + 1));
}

/* Every endpoint in @domain (-1: in any) leaves it: the endpoints attached
 * now, not the whole history (a long trace resets many times). */
static void
detach_all (IovMappings *self,
            gint32       domain)
{
  g_autoptr(GArray) leaving = g_array_new (FALSE, FALSE, sizeof (guint32));
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->attached);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (domain < 0 || GPOINTER_TO_INT (value) - 1 == domain)
      {
        guint32 endpoint = GPOINTER_TO_UINT (key) - 1;

        g_array_append_val (leaving, endpoint);
      }
  /* in endpoint order, so that the log does not depend on the hash's */
  g_array_sort (leaving, compare_u32);
  for (guint i = 0; i < leaving->len; i++)
    attach (self, g_array_index (leaving, guint32, i), -1);
}

static void
virtio_event (IovMappings        *self,
              EventKind           kind,
              const IovTraceLine *line)
{
  const char *p = line->args, *stop = line->args + line->args_len;
  const char *label;
  gsize label_len;
  guint64 start, end, phys, flags;
  Domain *d;
  guint32 domain;

  if (kind == EV_VIOMMU_RESET)
    {
      for (guint i = 0; i < self->domains->len; i++)
        clear_domain (self, g_ptr_array_index (self->domains, i));
      detach_all (self, -1);
      return;
    }
  if (!token_after (&p, stop, "domain=", &label, &label_len))
    return;
  domain = domain_of (self, label, label_len);
  d = g_ptr_array_index (self->domains, domain);
  switch (kind)
    {
    case EV_VIOMMU_MAP:
      self->n_events++;
      if (numbers (&p, stop, " virt_start=0x", &start, " virt_end=0x", &end) &&
          numbers (&p, stop, " phys_start=0x", &phys, " flags=", &flags))
        add (self, domain, start, end, phys, (guint32) flags, FALSE);
      break;
    case EV_VIOMMU_UNMAP:
      self->n_events++;
      if (!numbers (&p, stop, " virt_start=0x", &start, " virt_end=0x", &end))
        break;
      if (overlapping (self, d, start, end))
        self->n_partial++;   /* the unmap_done lines will say */
      else
        remove_scratch (self);
      break;
    case EV_VIOMMU_UNMAP_DONE:
      self->n_unmap_done++;
      if (numbers (&p, stop, " virt_start=0x", &start, " virt_end=0x", &end))
        {
          GTreeNode *node;

          self->probe = start;
          node = g_tree_lookup_node (d->live, GUINT_TO_POINTER (0));
          if (node != NULL && record_of (self, node)->m.end == end)
            remove_record (self, GPOINTER_TO_UINT (g_tree_node_key (node)) - 1);
        }
      break;
    case EV_VIOMMU_PUT_DOMAIN:
      clear_domain (self, d);
      detach_all (self, (gint32) domain);
      break;
    case EV_VIOMMU_ATTACH:
      /* "domain=%d endpoint=%d" */
      if (iov_trace_args_next_number (&p, stop, " endpoint=", &start))
        attach (self, (guint32) start, (gint32) domain);
      d->freed = FALSE;
      break;
    case EV_VIOMMU_DETACH:
      if (iov_trace_args_next_number (&p, stop, " endpoint=", &start))
        attach (self, (guint32) start, -1);
      break;
    case EV_VIOMMU_GET_DOMAIN:
      d->freed = FALSE;
      break;
    default:
      break;
    }
}

static void
vtd_walk (IovMappings        *self,
          const IovTraceLine *line)
{
  /* "domain 0x%x iova 0x%x -> gpa 0x%x mask 0x%x perm %d" */
  const char *p = line->args, *stop = line->args + line->args_len;
  const char *label;
  gsize label_len;
  guint64 iova, gpa, mask, perm;
  guint32 domain;

  self->n_events++;
  self->n_vtd_walks++;
  if (!token_after (&p, stop, "domain ", &label, &label_len) || !numbers (&p, stop, " iova 0x", &iova, " -> gpa 0x", &gpa) ||
      !numbers (&p, stop, " mask 0x", &mask, " perm ", &perm))
    return;
  domain = domain_of (self, label, label_len);
  /* the walked device is in the domain its context entry names */
  if (self->walk_endpoint >= 0 && (!line->has_tid || line->tid == self->vtd_tid))
    {
      gpointer now = g_hash_table_lookup (self->attached, GINT_TO_POINTER (self->walk_endpoint + 1));

      self->n_vtd_walked++;
      if (GPOINTER_TO_INT (now) != (int) domain + 1)
        attach (self, (guint32) self->walk_endpoint, (gint32) domain);
    }
  if (perm != 0)
    add (self, domain, iova, iova + mask, gpa, (guint32) perm, TRUE);
  else
    {
      overlapping (self, g_ptr_array_index (self->domains, domain), iova, iova + mask);
      /* the last address space that mapped them */
      for (guint i = self->scratch->len; i-- > 0;)
        if (--g_array_index (self->records, Record, g_array_index (self->scratch, guint32, i)).refs > 0)
          g_array_remove_index_fast (self->scratch, i);
      remove_scratch (self);
    }
}

/* "BB:DD.F" after @key, as a PCI source-id (bus << 8 | devfn). */
static gboolean
bdf_after (const IovTraceLine *line,
           const char         *key,
           guint32            *sid)
{
  const char *p = line->args, *end = line->args + line->args_len;
  gsize klen = strlen (key);
  guint64 part[3] = { 0, 0, 0 };

  for (; p + klen <= end && memcmp (p, key, klen) != 0; p++)
    ;
  if (p + klen > end)
    return FALSE;
  p += klen;
  for (guint k = 0; k < 3; k++)
    {
      guint n = 0;

      for (; p < end && g_ascii_isxdigit (*p) && n < 4; p++, n++)
        part[k] = part[k] * 16 + g_ascii_xdigit_value (*p);
      if (n == 0 || (k < 2 && (p >= end || *p != (k == 0 ? ':' : '.'))))
        return FALSE;
      p += k < 2;
    }
  if (part[0] > 0xff || part[1] > 0x1f || part[2] > 7)
    return FALSE;
  *sid = (guint32) (part[0] << 8 | part[1] << 3 | part[2]);
  return TRUE;
}

/* The lines that say which device a VT-d walk reads (see vtd_tid). */
static void
vtd_attribute (IovMappings        *self,
               EventKind           kind,
               const IovTraceLine *line)
{
  guint32 tid = line->has_tid ? line->tid : 0;
  guint32 sid;

  if (tid != self->vtd_tid && kind != EV_VTD_INV_DESC && kind != EV_VTD_REPLAY_CE)
    return;
  switch (kind)
    {
    case EV_VTD_INV_DESC:
      {
        const char *p = line->args, *stop = line->args + line->args_len;
        guint64 lo;
        static const guint32 masked[4] = { 0, 4, 6, 7 };

        self->vtd_tid = tid;
        self->walk_endpoint = -1;
        /* context-cache, device-selective: granularity (bits 5:4) 3, the
         * source-id in bits 47:32, the function mask in bits 49:48 */
        /* "invalidate desc type context-cache high 0x… low 0x…": most
         * descriptors are IOTLB ones, told apart by one compare */
        self->ctx_pending = line->args_len > 40 && memcmp (line->args + 21, "context-cache ", 14) == 0 &&
                            iov_trace_args_next_number (&p, stop, " low 0x", &lo) && ((lo >> 4) & 3) == 3;
        if (self->ctx_pending)
          {
            self->ctx_sid = (guint32) ((lo >> 32) & 0xffff);
            self->ctx_keep = ~masked[(lo >> 48) & 3] & 0xffff;
          }
      }
      break;
    case EV_VTD_INV_CC:
      break;   /* QEMU's own lines of that invalidation */
    case EV_VTD_SWITCH:
      self->walk_endpoint = -1;
      if (self->ctx_pending && bdf_after (line, "Device ", &sid) &&
          (sid & self->ctx_keep) == (self->ctx_sid & self->ctx_keep))
        {
          /* its context entry was read again: its domain is unknown
           * until the walk names one (there may be none to walk) */
          self->walk_endpoint = sid;
          if (line->has_ts)
            self->last_ts = MAX (self->last_ts, line->ts_ns);
          attach (self, sid, UNKNOWN_DOMAIN);
        }
      break;
    case EV_VTD_REPLAY_CE:
      self->vtd_tid = tid;
      self->ctx_pending = FALSE;
      self->walk_endpoint = bdf_after (line, "device ", &sid) ? (gint64) sid : -1;
      break;
    case EV_VTD_WALK_OTHER:
      break;
    default:
      /* anything else on that thread: not that walk */
      self->ctx_pending = FALSE;
      self->walk_endpoint = -1;
      break;
    }
}

/* The lines that matter, away from the test that every line passes. */
static G_GNUC_NO_INLINE void
feed_kind (IovMappings        *self,
           EventKind           kind,
           const IovTraceLine *line)
{
  if (kind == 0)
    kind = iov_trace_classify_line (self->kind_by_id, event_kinds, G_N_ELEMENTS (event_kinds), EV_OTHER, line);
  if (kind == EV_OTHER || kind >= EV_VTD_INV_DESC)
    {
      /* a line between the switch and the walk ends what it said */
      if (self->ctx_pending || self->walk_endpoint >= 0 || kind != EV_OTHER)
        vtd_attribute (self, kind, line);
      return;
    }
  if (line->has_ts)
    self->last_ts = MAX (self->last_ts, line->ts_ns);
  if (kind == EV_VTD_WALK)
    vtd_walk (self, line);
  else if (kind == EV_VTD_UNMAP_WHOLE)
    self->n_unmap_whole++;
  else
    virtio_event (self, kind, line);
}

void
iov_mappings_feed (IovMappings        *self,
                   const IovTraceLine *line)
{
  EventKind kind;

  g_return_if_fail (self != NULL);

  kind = iov_trace_classify_cached (self->kind_by_id, line, EV_OTHER);
  if (kind != EV_OTHER || self->ctx_pending || self->walk_endpoint >= 0)
    feed_kind (self, kind, line);
}

/* ---- queries ------------------------------------------------------------- */

guint64
iov_mappings_get_n_events (IovMappings *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_events;
}

const char *
iov_mappings_get_domain_label (IovMappings *self,
                               guint32      domain)
{
  g_return_val_if_fail (self != NULL && domain < self->domains->len, NULL);
  return ((Domain *) g_ptr_array_index (self->domains, domain))->label;
}

int
iov_mappings_compare (IovMappings      *self,
                      const IovMapping *a,
                      const IovMapping *b)
{
#define CMP(x, y) if ((x) != (y)) return (x) < (y) ? -1 : 1
  if (a->domain != b->domain)
    {
      const Domain *da = g_ptr_array_index (self->domains, a->domain);
      const Domain *db = g_ptr_array_index (self->domains, b->domain);

      CMP (da->number, db->number);
      return strcmp (da->label, db->label);
    }
  CMP (a->start, b->start);
  CMP (a->end, b->end);
  CMP (a->phys, b->phys);
  CMP (a->flags, b->flags);
#undef CMP
  return 0;
}

static int
compare_mappings (gconstpointer a,
                  gconstpointer b,
                  gpointer      self)
{
  return iov_mappings_compare (self, a, b);
}

/* How many elements of @array, sorted by the guint64 at @offset in each,
 * have it at most @key. */
static guint
at_most (GArray  *array,
         gsize    offset,
         guint64  key)
{
  guint size = g_array_get_element_size (array), lo = 0, hi = array->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      guint64 v;

      memcpy (&v, array->data + (gsize) mid * size + offset, sizeof v);
      if (v <= key)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

GArray *
iov_mappings_at (IovMappings *self,
                 guint64      ts_ns)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (IovMapping));
  g_autoptr(GArray) kept = NULL;
  g_autoptr(GArray) added = g_array_new (FALSE, FALSE, sizeof (IovMapping));
  guint64 n = 0, from = 0;
  guint lo, i = 0, j = 0;

  g_return_val_if_fail (self != NULL, out);

  /* the changes at or before @ts_ns, and the last checkpoint not after them */
  n = at_most (self->changes, offsetof (Change, ts), ts_ns);
  lo = at_most (self->checkpoints, offsetof (Checkpoint, n_changes), n);
  if (lo > 0)
    {
      const Checkpoint *cp = &g_array_index (self->checkpoints, Checkpoint, lo - 1);

      /* what the checkpoint held and is still there: in order already */
      from = cp->n_changes;
      kept = g_array_sized_new (FALSE, FALSE, sizeof (IovMapping), cp->live->len);
      for (guint k = 0; k < cp->live->len; k++)
        {
          const Record *r = &g_array_index (self->records, Record, g_array_index (cp->live, guint32, k));

          if (r->removed_at >= n)
            g_array_append_val (kept, r->m);
        }
    }
  /* what came after it and is still there: sorted, then merged in */
  for (guint64 k = from; k < n; k++)
    {
      const Change *c = &g_array_index (self->changes, Change, k);
      const Record *r = &g_array_index (self->records, Record, c->record);

      if (c->add && r->removed_at >= n)
        g_array_append_val (added, r->m);
    }
  g_array_sort_with_data (added, compare_mappings, self);
  if (kept == NULL || kept->len == 0)
    {
      g_array_unref (out);
      return g_steal_pointer (&added);
    }
  if (added->len == 0)
    {
      g_array_unref (out);
      return g_steal_pointer (&kept);
    }
  g_array_set_size (out, kept->len + added->len);
  for (guint k = 0; k < out->len; k++)
    {
      const IovMapping *x = i < kept->len ? &g_array_index (kept, IovMapping, i) : NULL;
      const IovMapping *y = j < added->len ? &g_array_index (added, IovMapping, j) : NULL;

      if (y == NULL || (x != NULL && iov_mappings_compare (self, x, y) <= 0))
        g_array_index (out, IovMapping, k) = *x, i++;
      else
        g_array_index (out, IovMapping, k) = *y, j++;
    }
  return out;
}

/* Drops the mappings @a and @b (each sorted) have in common. */
static void
cancel_common (IovMappings *self,
               GArray      *a,
               GArray      *b)
{
  guint i = 0, j = 0, na = 0, nb = 0;

  while (i < a->len || j < b->len)
    {
      const IovMapping *x = i < a->len ? &g_array_index (a, IovMapping, i) : NULL;
      const IovMapping *y = j < b->len ? &g_array_index (b, IovMapping, j) : NULL;
      int c = x == NULL ? 1 : y == NULL ? -1 : iov_mappings_compare (self, x, y);

      if (c < 0 && x != NULL)
        g_array_index (a, IovMapping, na++) = *x, i++;
      else if (c > 0 && y != NULL)
        g_array_index (b, IovMapping, nb++) = *y, j++;
      else
        i++, j++;
    }
  g_array_set_size (a, na);
  g_array_set_size (b, nb);
}

void
iov_mappings_diff (IovMappings  *self,
                   guint64       t1_ns,
                   guint64       t2_ns,
                   GArray      **added,
                   GArray      **removed)
{
  guint64 n1, n2, live = 0;
  guint lo;

  g_return_if_fail (self != NULL);

  /* backwards in time: what was removed going forward was added */
  if (t2_ns < t1_ns)
    {
      iov_mappings_diff (self, t2_ns, t1_ns, removed, added);
      return;
    }
  *added = g_array_new (FALSE, FALSE, sizeof (IovMapping));
  *removed = g_array_new (FALSE, FALSE, sizeof (IovMapping));
  n1 = at_most (self->changes, offsetof (Change, ts), t1_ns);
  n2 = at_most (self->changes, offsetof (Change, ts), t2_ns);
  lo = at_most (self->checkpoints, offsetof (Checkpoint, n_changes), n2);
  if (lo > 0)
    live = g_array_index (self->checkpoints, Checkpoint, lo - 1).live->len;

  /* A span with fewer changes than mappings live: its changes say it (a
   * mapping there at @t1_ns and gone at @t2_ns was removed in between),
   * without listing everything mapped at either end. */
  if (n2 - n1 <= MAX (CHECKPOINT_MIN, 2 * live))
    {
      for (guint64 k = n1; k < n2; k++)
        {
          const Change *c = &g_array_index (self->changes, Change, k);
          const Record *r = &g_array_index (self->records, Record, c->record);

          if (c->add && r->removed_at >= n2)
            g_array_append_val (*added, r->m);
          else if (!c->add && r->added_at < n1)
            g_array_append_val (*removed, r->m);
        }
      g_array_sort_with_data (*added, compare_mappings, self);
      g_array_sort_with_data (*removed, compare_mappings, self);
      /* removed and made again the same: no difference */
      cancel_common (self, *removed, *added);
      return;
    }
  {
    g_autoptr(GArray) a = iov_mappings_at (self, t1_ns);
    g_autoptr(GArray) b = iov_mappings_at (self, t2_ns);

    g_array_append_vals (*removed, a->data, a->len);
    g_array_append_vals (*added, b->data, b->len);
    cancel_common (self, *removed, *added);
  }
}

GPtrArray *
iov_mappings_get_notes (IovMappings *self)
{
  GPtrArray *notes = g_ptr_array_new_with_free_func (g_free);

  g_return_val_if_fail (self != NULL, notes);

  if (self->n_events == 0)
    g_ptr_array_add (notes, g_strdup ("the trace has no map or unmap events (virtio_iommu_map, vtd_page_walk_one): "
                                      "VT-d traces mappings only where a MAP notifier makes QEMU walk the guest's "
                                      "tables (vfio, or QEMU 5.2's walks)"));
  if (self->n_refused > 0)
    g_ptr_array_add (notes, g_strdup_printf ("%" G_GUINT64_FORMAT " map requests overlapped a mapping of their domain "
                                             "or named a freed domain: QEMU refuses them, they are not mapped",
                                             self->n_refused));
  if (self->n_partial > 0)
    g_ptr_array_add (notes, g_strdup_printf ("%" G_GUINT64_FORMAT " virtio_iommu_unmap requests covered a mapping only "
                                             "in part (QEMU stops there with S_RANGE): %s", self->n_partial,
                                             self->n_unmap_done > 0
                                             ? "they removed what the virtio_iommu_unmap_done lines after them say"
                                             : "the trace has no virtio_iommu_unmap_done to say what they removed, "
                                               "so their mappings are kept"));
  if (self->n_vtd_walks > 0)
    g_ptr_array_add (notes, g_strdup ("VT-d's domains are named as vtd_page_walk_one prints them: QEMU 5.2 prints the "
                                      "number in decimal after \"0x\", 7.2 in hex; a device's domain is known only "
                                      "where QEMU walks its tables right after a device-selective context "
                                      "invalidation of it, or replays them for vfio"));
  if (self->n_unmap_whole > 0)
    g_ptr_array_add (notes, g_strdup_printf ("%" G_GUINT64_FORMAT " vtd_as_unmap_whole lines name a device, not a "
                                             "domain: the VT-d mappings after them may still show ranges QEMU dropped",
                                             self->n_unmap_whole));
  return notes;
}

IovMappingsEndpoint
iov_mappings_endpoint_at (IovMappings *self,
                          guint32      endpoint,
                          guint64      ts_ns,
                          guint32     *domain)
{
  gint32 found = UNKNOWN_DOMAIN;

  g_return_val_if_fail (self != NULL, IOV_MAPPINGS_ENDPOINT_UNKNOWN);

  /* few attachments (one per endpoint and boot): a plain walk */
  for (guint i = 0; i < self->attachments->len; i++)
    {
      const Attachment *a = &g_array_index (self->attachments, Attachment, i);

      if (a->ts > ts_ns)
        break;
      if (a->endpoint == endpoint)
        found = a->domain;
    }
  if (found == UNKNOWN_DOMAIN)
    return IOV_MAPPINGS_ENDPOINT_UNKNOWN;
  if (found < 0)
    return IOV_MAPPINGS_ENDPOINT_NONE;
  if (domain != NULL)
    *domain = (guint32) found;
  return IOV_MAPPINGS_ENDPOINT_IN_DOMAIN;
}

gboolean
iov_mappings_domain_of_endpoint (IovMappings *self,
                                 guint32      endpoint,
                                 guint64      ts_ns,
                                 guint32     *domain)
{
  return iov_mappings_endpoint_at (self, endpoint, ts_ns, domain) == IOV_MAPPINGS_ENDPOINT_IN_DOMAIN;
}
