/* iov-traffic.c
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

#define G_LOG_DOMAIN "iov-traffic"

#include "config.h"

#include <string.h>

#include "iov-traffic.h"
#include "iov-trace-vtd.h"

/* Counting happens per "source", the way a line names what it concerns:
 *   - a SID (a device-IOTLB invalidation; a VT-d domain learnt from
 *     vtd_iotlb_page_update / vtd_iotlb_cc_update; a virtio-iommu endpoint),
 *     which is a PCI device by itself;
 *   - a vhost device pointer (vhost_iotlb_miss, vhost_dev_start), which only
 *     a snapshot ties to a PCI device: its vhost devices, the only one, or
 *     the one whose type vhost_dev_start names;
 *   - an IOTLB message that answers nothing known ("orphan"): the only
 *     vhost device of the snapshot, if there is exactly one;
 *   - nothing: invalidations of domains no device was seen in.
 * Sources are resolved to devices when figures are asked for, so that a
 * snapshot arriving late (a live QMP link) still ties what came before.
 *
 * A vhost-user IOTLB message (vhost_user_write req:22) is sent by the thread
 * that handles the miss or the invalidation it answers, before that thread
 * traces anything else of the kind: each thread remembers the last miss or
 * invalidation it traced, and its next messages answer it (lines without a
 * thread id, QEMU ≥ 10.1's ISO-8601 prefix, share one such memory). */

#define NS_PER_S G_GUINT64_CONSTANT (1000000000)

typedef enum
{
  SOURCE_UNATTRIBUTED,
  SOURCE_ORPHAN,
  SOURCE_SID,
  SOURCE_VHOST,
} SourceKind;

typedef struct
{
  SourceKind kind;
  char      *device;       /* SOURCE_SID: its BDF */
  char      *vhost;        /* SOURCE_VHOST: the pointer as traced */
  char      *vhost_name;   /* SOURCE_VHOST: vhost_dev_start's name ("virtio-net"), or NULL */
  guint64    counts[IOV_TRAFFIC_N_COUNTS];
  GArray    *ts[IOV_TRAFFIC_N_COUNTS];   /* guint64: the times of the counted lines that have one */
  gboolean   unsorted[IOV_TRAFFIC_N_COUNTS];  /* a line came with an earlier time than the one before */
  GArray    *round_trips;                /* guint64 ns */
} Source;

enum { UNATTRIBUTED = 0, ORPHAN = 1 };

typedef struct
{
  guint32  tid;
  int      answer;       /* source of the next req:22, or -1 (orphan) */
  gboolean miss_open;    /* a step 1 not yet answered */
  gboolean miss_timed;
  guint64  miss_ts;
} Pending;

typedef struct
{
  guint   sid;
  guint   did;
  guint   source;
} SidDomain;

typedef enum
{
  LINE_UNKNOWN = 0,      /* id not classified yet */
  LINE_OTHER,
  LINE_INV_DESC,
  LINE_MISS,
  LINE_USER_WRITE,
  LINE_DEV_START,
  LINE_PAGE_UPDATE,
  LINE_CC_UPDATE,
  LINE_VIOMMU_ATTACH,
  LINE_VIOMMU_DETACH,
  LINE_VIOMMU_MAP,
  LINE_VIOMMU_UNMAP,
  LINE_VIOMMU_PUT_DOMAIN,
  LINE_VIOMMU_RESET,
} LineKind;

typedef struct
{
  char *bdf;
  char *type;   /* QOM type, or NULL */
} VhostDevice;

struct _IovTraffic
{
  GPtrArray  *sources;        /* Source* */
  GHashTable *by_sid;         /* sid + 1 → source index + 1 */
  GHashTable *by_vhost;       /* pointer text → source index + 1 */
  GArray     *sid_domains;    /* SidDomain: VT-d, a device's domain (few: an array) */
  GHashTable *endpoint_domain;/* virtio-iommu: endpoint + 1 → domain + 1 */
  GPtrArray  *pending;        /* Pending*, one per thread (few) */
  Pending     untid;          /* lines without a thread id */
  guint32     last_tid;
  Pending    *last_pending;
  guint       last_vhost;     /* source of the last vhost pointer read */
  GByteArray *kind_by_id;     /* LineKind per catalogue id */
  GPtrArray  *vhost_devices;  /* VhostDevice*, from the snapshots */
  guint64     n_untimed;      /* counted lines without a time */
  /* every counted line once, however many devices it reached (the rate
   * tracks of "all devices": a global invalidation is one line) */
  GArray     *all_ts[IOV_TRAFFIC_N_COUNTS];
  gboolean    all_unsorted[IOV_TRAFFIC_N_COUNTS];
};

static const char *count_names[IOV_TRAFFIC_N_COUNTS] = {
  "device_invalidations", "page_invalidations", "domain_invalidations", "global_invalidations",
  "iotlb_misses", "iotlb_messages",
};

const char *
iov_traffic_count_name (IovTrafficCount count)
{
  g_return_val_if_fail (count < IOV_TRAFFIC_N_COUNTS, NULL);
  return count_names[count];
}

static void
source_free (Source *s)
{
  g_free (s->device);
  g_free (s->vhost);
  g_free (s->vhost_name);
  for (guint i = 0; i < IOV_TRAFFIC_N_COUNTS; i++)
    g_array_unref (s->ts[i]);
  g_array_unref (s->round_trips);
  g_free (s);
}

static guint
add_source (IovTraffic *self,
            SourceKind  kind)
{
  Source *s = g_new0 (Source, 1);

  s->kind = kind;
  for (guint i = 0; i < IOV_TRAFFIC_N_COUNTS; i++)
    s->ts[i] = g_array_new (FALSE, FALSE, sizeof (guint64));
  s->round_trips = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_ptr_array_add (self->sources, s);
  return self->sources->len - 1;
}

static void
vhost_device_free (VhostDevice *d)
{
  g_free (d->bdf);
  g_free (d->type);
  g_free (d);
}

IovTraffic *
iov_traffic_new (void)
{
  IovTraffic *self = g_new0 (IovTraffic, 1);

  self->sources = g_ptr_array_new_with_free_func ((GDestroyNotify) source_free);
  add_source (self, SOURCE_UNATTRIBUTED);
  add_source (self, SOURCE_ORPHAN);
  self->by_sid = g_hash_table_new (g_direct_hash, g_direct_equal);
  self->by_vhost = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->sid_domains = g_array_new (FALSE, FALSE, sizeof (SidDomain));
  self->endpoint_domain = g_hash_table_new (g_direct_hash, g_direct_equal);
  self->pending = g_ptr_array_new_with_free_func (g_free);
  self->untid.answer = -1;
  self->kind_by_id = g_byte_array_new ();
  self->vhost_devices = g_ptr_array_new_with_free_func ((GDestroyNotify) vhost_device_free);
  for (guint i = 0; i < IOV_TRAFFIC_N_COUNTS; i++)
    self->all_ts[i] = g_array_new (FALSE, FALSE, sizeof (guint64));
  return self;
}

void
iov_traffic_free (IovTraffic *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->sources);
  g_hash_table_unref (self->by_sid);
  g_hash_table_unref (self->by_vhost);
  g_array_unref (self->sid_domains);
  g_hash_table_unref (self->endpoint_domain);
  g_ptr_array_unref (self->pending);
  g_byte_array_unref (self->kind_by_id);
  g_ptr_array_unref (self->vhost_devices);
  for (guint i = 0; i < IOV_TRAFFIC_N_COUNTS; i++)
    g_array_unref (self->all_ts[i]);
  g_free (self);
}

/* ---- reading lines ------------------------------------------------------- */

gboolean
iov_trace_args_next_number (const char **pos,
                            const char  *end,
                            const char  *key,
                            guint64     *value)
{
  gsize klen = strlen (key);
  const char *q = *pos, *p = NULL;
  gboolean hex = FALSE;
  guint64 v = 0;
  guint n = 0;

  /* the next field, most of the time: no search */
  if (q + klen <= end && memcmp (q, key, klen) == 0)
    p = q + klen;
  while (p == NULL && q + klen <= end && (q = memchr (q, key[0], end - q)) != NULL && q + klen <= end)
    {
      if (memcmp (q, key, klen) == 0)
        {
          p = q + klen;
          break;
        }
      q++;
    }
  if (p == NULL)
    return FALSE;
  if (klen >= 2 && key[klen - 2] == '0' && key[klen - 1] == 'x')
    hex = TRUE;
  else if (end - p > 2 && p[0] == '0' && p[1] == 'x' && g_ascii_isxdigit (p[2]))
    hex = TRUE, p += 2;
  if (hex)
    for (; p < end && n < 16; p++, n++)
      {
        /* not g_ascii_xdigit_value (): a call per digit */
        guint c = (guchar) *p, d = c - '0', l = (c | 0x20) - 'a';

        if (d < 10)
          v = (v << 4) | d;
        else if (l < 6)
          v = (v << 4) | (l + 10);
        else
          break;
      }
  else
    for (; p < end && (guint) (*p - '0') < 10 && n < 20; p++, n++)
      v = v * 10 + (guint64) (*p - '0');
  if (n == 0)
    return FALSE;
  *value = v;
  *pos = p;
  return TRUE;
}

gboolean
iov_trace_args_find_number (const char *args,
                            gsize       len,
                            const char *key,
                            guint64    *value)
{
  return iov_trace_args_next_number (&args, args + len, key, value);
}

guint8
iov_trace_classify_line (GByteArray             *cache,
                         const IovTraceNameKind *table,
                         guint                   n_table,
                         guint8                  other,
                         const IovTraceLine     *line)
{
  guint id = (guint) line->event_id;
  guint8 kind = other;

  if (line->event_id >= 0 && id < cache->len && cache->data[id] != 0)
    return cache->data[id];
  for (guint i = 0; i < n_table; i++)
    if (line->name_len > 0 && table[i].name[0] == line->name[0] && strlen (table[i].name) == line->name_len &&
        memcmp (table[i].name, line->name, line->name_len) == 0)
      {
        kind = table[i].kind;
        break;
      }
  if (line->event_id >= 0)
    {
      if (id >= cache->len)
        {
          guint old = cache->len;

          g_byte_array_set_size (cache, id + 64);
          memset (cache->data + old, 0, cache->len - old);
        }
      cache->data[id] = kind;
    }
  return kind;
}

static const IovTraceNameKind line_kinds[] = {
  { "vtd_inv_desc", LINE_INV_DESC },
  { "vhost_iotlb_miss", LINE_MISS },
  { "vhost_user_write", LINE_USER_WRITE },
  { "vhost_dev_start", LINE_DEV_START },
  { "vhost_dev_start_in", LINE_DEV_START },  /* 11.1 */
  { "vtd_iotlb_page_update", LINE_PAGE_UPDATE },
  { "vtd_iotlb_cc_update", LINE_CC_UPDATE },
  { "virtio_iommu_attach", LINE_VIOMMU_ATTACH },
  { "virtio_iommu_detach", LINE_VIOMMU_DETACH },
  { "virtio_iommu_map", LINE_VIOMMU_MAP },
  { "virtio_iommu_unmap", LINE_VIOMMU_UNMAP },
  { "virtio_iommu_put_domain", LINE_VIOMMU_PUT_DOMAIN },
  { "virtio_iommu_device_reset", LINE_VIOMMU_RESET },
};

static Pending *
pending_for (IovTraffic         *self,
             const IovTraceLine *line)
{
  Pending *p;

  if (!line->has_tid)
    return &self->untid;
  if (self->last_pending != NULL && self->last_tid == line->tid)
    return self->last_pending;
  p = NULL;
  for (guint i = 0; i < self->pending->len && p == NULL; i++)
    if (((Pending *) g_ptr_array_index (self->pending, i))->tid == line->tid)
      p = g_ptr_array_index (self->pending, i);
  if (p == NULL)
    {
      p = g_new0 (Pending, 1);
      p->tid = line->tid;
      p->answer = -1;
      g_ptr_array_add (self->pending, p);
    }
  self->last_tid = line->tid;
  self->last_pending = p;
  return p;
}

static char *
bdf_of_sid (guint sid)
{
  return g_strdup_printf ("%02x:%02x.%x", (sid >> 8) & 0xff, (sid >> 3) & 0x1f, sid & 7);
}

static guint
sid_source (IovTraffic *self,
            guint       sid)
{
  gpointer v = g_hash_table_lookup (self->by_sid, GUINT_TO_POINTER (sid + 1));
  guint index;

  if (v != NULL)
    return GPOINTER_TO_UINT (v) - 1;
  index = add_source (self, SOURCE_SID);
  ((Source *) g_ptr_array_index (self->sources, index))->device = bdf_of_sid (sid);
  g_hash_table_insert (self->by_sid, GUINT_TO_POINTER (sid + 1), GUINT_TO_POINTER (index + 1));
  return index;
}

/* The vhost pointer that starts @args, up to @stop. */
static guint
vhost_source (IovTraffic *self,
              const char *args,
              gsize       len,
              char        stop)
{
  const char *end = memchr (args, stop, len);
  gsize plen = end ? (gsize) (end - args) : len;
  const Source *last = g_ptr_array_index (self->sources, self->last_vhost);
  g_autofree char *ptr = NULL;
  gpointer v;
  guint index;

  /* most lines name the vhost device of the line before */
  if (last->vhost != NULL && strncmp (last->vhost, args, plen) == 0 && last->vhost[plen] == '\0')
    return self->last_vhost;
  ptr = g_strndup (args, plen);
  v = g_hash_table_lookup (self->by_vhost, ptr);
  if (v != NULL)
    index = GPOINTER_TO_UINT (v) - 1;
  else
    {
      index = add_source (self, SOURCE_VHOST);
      ((Source *) g_ptr_array_index (self->sources, index))->vhost = g_strdup (ptr);
      g_hash_table_insert (self->by_vhost, g_steal_pointer (&ptr), GUINT_TO_POINTER (index + 1));
    }
  self->last_vhost = index;
  return index;
}

/* Appends @ts to @times, noting when it comes before the last one (QEMU's
 * threads can write their lines slightly out of time order). */
static inline void
append_time (GArray   *times,
             gboolean *unsorted,
             guint64   ts)
{
  if (times->len > 0 && ts < g_array_index (times, guint64, times->len - 1))
    *unsorted = TRUE;
  g_array_append_val (times, ts);
}

static void
count (IovTraffic         *self,
       guint               source,
       IovTrafficCount     what,
       const IovTraceLine *line)
{
  Source *s = g_ptr_array_index (self->sources, source);

  s->counts[what]++;
  if (line->has_ts)
    append_time (s->ts[what], &s->unsorted[what], line->ts_ns);
  else
    self->n_untimed++;
}

/* The line once, for the rate of all devices. */
static void
count_line (IovTraffic         *self,
            IovTrafficCount     what,
            const IovTraceLine *line)
{
  if (line->has_ts)
    append_time (self->all_ts[what], &self->all_unsorted[what], line->ts_ns);
}

/* A page, domain or global IOTLB invalidation: counted for every device
 * whose domain it reaches; the source that messages after it answer. */
static int
iotlb_invalidation (IovTraffic         *self,
                    const IovVtdDesc   *desc,
                    const IovTraceLine *line)
{
  IovTrafficCount what = desc->granularity == IOV_VTD_IOTLB_GLOBAL ? IOV_TRAFFIC_GLOBAL_INVALIDATIONS
                         : desc->granularity == IOV_VTD_IOTLB_DOMAIN ? IOV_TRAFFIC_DOMAIN_INVALIDATIONS
                         : IOV_TRAFFIC_PAGE_INVALIDATIONS;
  int reached = -1;
  guint n = 0;

  if (desc->granularity == 0)
    return -1;
  for (guint i = 0; i < self->sid_domains->len; i++)
    {
      const SidDomain *sd = &g_array_index (self->sid_domains, SidDomain, i);

      if (desc->granularity == IOV_VTD_IOTLB_GLOBAL || sd->did == desc->did)
        {
          reached = (int) sd->source;
          count (self, sd->source, what, line);
          n++;
        }
    }
  if (n == 0)
    count (self, UNATTRIBUTED, what, line);
  count_line (self, what, line);
  return n == 1 ? reached : -1;
}

/* "invalidate desc type %s high 0x%x low 0x%x": the low quadword, read
 * from the end (it says the type, the SID, the granularity, the domain). */
static gboolean
desc_low (const IovTraceLine *line,
          guint64            *lo)
{
  const char *p = line->args + line->args_len;

  while (p > line->args && (p[-1] == '\r' || p[-1] == ' '))
    p--;
  for (const char *q = p; q - line->args >= 7; q--)
    if (q[-1] == 'x' && memcmp (q - 7, " low 0x", 7) == 0)
      return iov_trace_args_find_number (q - 7, p - (q - 7), " low 0x", lo);
  return FALSE;
}

static void
inv_desc (IovTraffic         *self,
          const IovTraceLine *line,
          Pending            *p)
{
  IovVtdDesc desc;
  guint64 lo;

  p->answer = -1;
  p->miss_open = FALSE;
  /* "invalidate desc type wait|iec …", the most frequent after the
   * IOTLB's: they only end what came before, no need to read them */
  if (line->args_len > 25 && (memcmp (line->args + 21, "wait ", 5) == 0 || memcmp (line->args + 21, "iec ", 4) == 0))
    return;
  if (!desc_low (line, &lo))
    return;
  iov_vtd_desc_decode (0, lo, &desc);
  if (desc.type == IOV_VTD_DESC_DEVICE)
    {
      p->answer = (int) sid_source (self, desc.sid);
      count (self, (guint) p->answer, IOV_TRAFFIC_DEVICE_INVALIDATIONS, line);
      count_line (self, IOV_TRAFFIC_DEVICE_INVALIDATIONS, line);
    }
  else if (desc.type == IOV_VTD_DESC_IOTLB)
    p->answer = iotlb_invalidation (self, &desc, line);
}

static void
user_write (IovTraffic         *self,
            const IovTraceLine *line,
            Pending            *p)
{
  guint64 req;
  guint source;

  /* "req:%d flags:…" (11.1: "req:22 (IOTLB_MSG) flags:…") */
  if (line->args_len < 6 || line->args[4] != '2' || line->args[5] != '2' ||
      !iov_trace_args_find_number (line->args, line->args_len, "req:", &req) || req != 22)
    return;
  source = p->answer >= 0 ? (guint) p->answer : ORPHAN;
  count (self, source, IOV_TRAFFIC_IOTLB_MESSAGES, line);
  count_line (self, IOV_TRAFFIC_IOTLB_MESSAGES, line);
  if (p->miss_open)
    {
      Source *s = g_ptr_array_index (self->sources, source);

      if (p->miss_timed && line->has_ts)
        {
          guint64 rt = line->ts_ns >= p->miss_ts ? line->ts_ns - p->miss_ts : 0;

          g_array_append_val (s->round_trips, rt);
        }
      p->miss_open = FALSE;
    }
}

static void
miss (IovTraffic         *self,
      const IovTraceLine *line,
      Pending            *p)
{
  const char *end = line->args + line->args_len;
  guint64 step;

  /* "%p step %d" */
  if (line->args_len > 7 && memcmp (end - 7, " step ", 6) == 0 && (guint) (end[-1] - '0') < 10)
    step = end[-1] - '0';
  else if (!iov_trace_args_find_number (line->args, line->args_len, " step ", &step))
    return;
  if (step == 1)
    {
      p->answer = (int) vhost_source (self, line->args, line->args_len, ' ');
      count (self, (guint) p->answer, IOV_TRAFFIC_IOTLB_MISSES, line);
      count_line (self, IOV_TRAFFIC_IOTLB_MISSES, line);
      p->miss_open = TRUE;
      p->miss_timed = line->has_ts;
      p->miss_ts = line->ts_ns;
    }
  else
    {
      /* the miss is over, answered or not */
      p->answer = -1;
      p->miss_open = FALSE;
    }
}

static void
dev_start (IovTraffic         *self,
           const IovTraceLine *line)
{
  /* "%p:%s vrings:%d" */
  const char *colon = memchr (line->args, ':', line->args_len);
  const char *end = line->args + line->args_len;
  guint index;
  Source *s;

  if (colon == NULL)
    return;
  index = vhost_source (self, line->args, line->args_len, ':');
  s = g_ptr_array_index (self->sources, index);
  for (const char *q = colon + 1; q < end; q++)
    if (*q == ' ')
      {
        end = q;
        break;
      }
  if (s->vhost_name == NULL && end > colon + 1)
    s->vhost_name = g_strndup (colon + 1, end - colon - 1);
}

static void
learn_domain (IovTraffic *self,
              guint64     sid,
              guint64     domain)
{
  SidDomain sd = { sid & 0xffff, domain & 0xffff, 0 };

  for (guint i = 0; i < self->sid_domains->len; i++)
    if (g_array_index (self->sid_domains, SidDomain, i).sid == sd.sid)
      {
        g_array_index (self->sid_domains, SidDomain, i).did = sd.did;
        return;
      }
  sd.source = sid_source (self, sd.sid);
  g_array_append_val (self->sid_domains, sd);
}

/* virtio-iommu: the endpoint of @domain when it has exactly one. */
static int
endpoint_of_domain (IovTraffic *self,
                    guint64     domain)
{
  GHashTableIter iter;
  gpointer key, value;
  int found = -1;

  g_hash_table_iter_init (&iter, self->endpoint_domain);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (GPOINTER_TO_UINT (value) - 1 == domain)
      {
        if (found >= 0)
          return -1;
        found = (int) GPOINTER_TO_UINT (key) - 1;
      }
  return found;
}

static void
viommu (IovTraffic         *self,
        LineKind            kind,
        const IovTraceLine *line,
        Pending            *p)
{
  guint64 domain, endpoint;
  gboolean has_domain;
  GHashTableIter iter;
  gpointer value;
  int ep;

  if (kind == LINE_VIOMMU_MAP)
    {
      /* vhost takes no MAP events: nothing for the messages to answer */
      p->answer = -1;
      p->miss_open = FALSE;
      return;
    }
  has_domain = iov_trace_args_find_number (line->args, line->args_len, "domain=", &domain);
  switch (kind)
    {
    case LINE_VIOMMU_ATTACH:
      if (has_domain && iov_trace_args_find_number (line->args, line->args_len, "endpoint=", &endpoint))
        g_hash_table_insert (self->endpoint_domain, GUINT_TO_POINTER ((guint) endpoint + 1),
                             GUINT_TO_POINTER ((guint) domain + 1));
      break;
    case LINE_VIOMMU_DETACH:
      if (iov_trace_args_find_number (line->args, line->args_len, "endpoint=", &endpoint))
        g_hash_table_remove (self->endpoint_domain, GUINT_TO_POINTER ((guint) endpoint + 1));
      break;
    case LINE_VIOMMU_PUT_DOMAIN:
      g_hash_table_iter_init (&iter, self->endpoint_domain);
      while (has_domain && g_hash_table_iter_next (&iter, NULL, &value))
        if (GPOINTER_TO_UINT (value) - 1 == domain)
          g_hash_table_iter_remove (&iter);
      break;
    case LINE_VIOMMU_RESET:
      g_hash_table_remove_all (self->endpoint_domain);
      break;
    case LINE_VIOMMU_UNMAP:
      ep = has_domain ? endpoint_of_domain (self, domain) : -1;
      p->answer = ep >= 0 ? (int) sid_source (self, (guint) ep) : -1;
      p->miss_open = FALSE;
      break;
    default:
      break;
    }
}

/* The lines that matter (a few in a hundred), away from the test that
 * every line passes. */
static G_GNUC_NO_INLINE void
feed_kind (IovTraffic         *self,
           LineKind            kind,
           const IovTraceLine *line)
{
  const char *p = line->args, *end = line->args + line->args_len;
  guint64 a, b, c;

  if (kind == LINE_UNKNOWN)
    kind = iov_trace_classify_line (self->kind_by_id, line_kinds, G_N_ELEMENTS (line_kinds), LINE_OTHER, line);
  switch (kind)
    {
    case LINE_UNKNOWN:
    case LINE_OTHER:
      break;
    case LINE_INV_DESC:
      inv_desc (self, line, pending_for (self, line));
      break;
    case LINE_MISS:
      miss (self, line, pending_for (self, line));
      break;
    case LINE_USER_WRITE:
      user_write (self, line, pending_for (self, line));
      break;
    case LINE_DEV_START:
      dev_start (self, line);
      break;
    case LINE_PAGE_UPDATE:
      /* "IOTLB page update sid 0x%x iova … domain 0x%x" */
      if (iov_trace_args_next_number (&p, end, "IOTLB page update sid 0x", &a) &&
          iov_trace_args_next_number (&p, end, " domain 0x", &b))
        learn_domain (self, a, b);
      break;
    case LINE_CC_UPDATE:
      /* "IOTLB context update bus 0x%x devfn 0x%x high 0x%x …": the
       * context entry's domain id is bits 87:72, (high >> 8) & 0xffff */
      if (iov_trace_args_next_number (&p, end, "IOTLB context update bus 0x", &a) &&
          iov_trace_args_next_number (&p, end, " devfn 0x", &b) && iov_trace_args_next_number (&p, end, " high 0x", &c))
        learn_domain (self, ((a & 0xff) << 8) | (b & 0xff), c >> 8);
      break;
    default:
      viommu (self, kind, line, pending_for (self, line));
      break;
    }
}

void
iov_traffic_feed (IovTraffic         *self,
                  const IovTraceLine *line)
{
  LineKind kind;

  g_return_if_fail (self != NULL);

  kind = iov_trace_classify_cached (self->kind_by_id, line, LINE_OTHER);
  if (kind != LINE_OTHER)
    feed_kind (self, kind, line);
}

/* ---- snapshots ----------------------------------------------------------- */

static char *
normalize_bdf (const char *bdf)
{
  /* "0000:01:00.0" → "01:00.0" */
  if (bdf != NULL && strlen (bdf) == 12 && bdf[4] == ':')
    bdf += 5;
  return bdf ? g_ascii_strdown (bdf, -1) : NULL;
}

static void
add_vhost_device (IovTraffic *self,
                  const char *bdf,
                  const char *type)
{
  g_autofree char *norm = normalize_bdf (bdf);
  VhostDevice *d;

  if (norm == NULL || *norm == '\0')
    return;
  for (guint i = 0; i < self->vhost_devices->len; i++)
    {
      d = g_ptr_array_index (self->vhost_devices, i);
      if (g_str_equal (d->bdf, norm))
        {
          if (d->type == NULL && type != NULL)
            d->type = g_strdup (type);
          return;
        }
    }
  d = g_new0 (VhostDevice, 1);
  d->bdf = g_steal_pointer (&norm);
  d->type = g_strdup (type);
  g_ptr_array_add (self->vhost_devices, d);
}

void
iov_traffic_add_snapshot (IovTraffic            *self,
                          const IovSnapshotInfo *snapshot)
{
  g_return_if_fail (self != NULL);

  if (snapshot == NULL)
    return;
  for (guint i = 0; i < snapshot->devices->len; i++)
    {
      const IovSnapshotDevice *d = g_ptr_array_index (snapshot->devices, i);

      if (d->vhost == 1)
        add_vhost_device (self, d->bdf, d->type);
    }
  /* a vhost notifier names its device too */
  for (guint i = 0; i < snapshot->address_spaces->len; i++)
    {
      const IovSnapshotAddressSpace *as = g_ptr_array_index (snapshot->address_spaces, i);

      for (guint j = 0; j < as->notifiers->len; j++)
        {
          const IovSnapshotNotifier *n = g_ptr_array_index (as->notifiers, j);

          if (g_strcmp0 (n->consumer, "vhost") == 0)
            add_vhost_device (self, n->device, NULL);
        }
    }
}

/* ---- figures ------------------------------------------------------------- */

/* The device a source's counts belong to, or NULL (unattributed). */
static const char *
resolve (IovTraffic   *self,
         const Source *s)
{
  GPtrArray *v = self->vhost_devices;
  const char *found = NULL;

  switch (s->kind)
    {
    case SOURCE_SID:
      return s->device;
    case SOURCE_ORPHAN:
      return v->len == 1 ? ((VhostDevice *) g_ptr_array_index (v, 0))->bdf : NULL;
    case SOURCE_VHOST:
      if (v->len == 1)
        return ((VhostDevice *) g_ptr_array_index (v, 0))->bdf;
      if (s->vhost_name == NULL)
        return NULL;
      /* vhost_dev_start names the virtio device ("virtio-net"), the
       * snapshot its PCI type ("virtio-net-pci"): one match, or none */
      for (guint i = 0; i < v->len; i++)
        {
          const VhostDevice *d = g_ptr_array_index (v, i);
          gsize l = strlen (s->vhost_name);

          if (d->type && strncmp (d->type, s->vhost_name, l) == 0 && (d->type[l] == '\0' || d->type[l] == '-'))
            {
              if (found != NULL)
                return NULL;
              found = d->bdf;
            }
        }
      return found;
    case SOURCE_UNATTRIBUTED:
    default:
      return NULL;
    }
}

static gboolean
source_is_empty (const Source *s)
{
  for (guint i = 0; i < IOV_TRAFFIC_N_COUNTS; i++)
    if (s->counts[i] > 0)
      return FALSE;
  return TRUE;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

GPtrArray *
iov_traffic_get_devices (IovTraffic *self)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  g_return_val_if_fail (self != NULL, out);

  for (guint i = 0; i < self->vhost_devices->len; i++)
    g_hash_table_add (seen, ((VhostDevice *) g_ptr_array_index (self->vhost_devices, i))->bdf);
  for (guint i = 0; i < self->sources->len; i++)
    {
      const Source *s = g_ptr_array_index (self->sources, i);
      const char *device = resolve (self, s);

      if (device != NULL && !source_is_empty (s))
        g_hash_table_add (seen, (gpointer) device);
    }
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, seen);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_ptr_array_add (out, g_strdup (key));
  }
  g_ptr_array_sort (out, compare_strings);
  return out;
}

static int
compare_u64 (gconstpointer a,
             gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return x < y ? -1 : x > y;
}

/* The most times of @sorted in any window [t, t + 1 s). */
static guint64
peak_per_second (GArray *sorted)
{
  const guint64 *t = (const guint64 *) sorted->data;
  guint64 best = 0;
  guint lo = 0;

  for (guint hi = 0; hi < sorted->len; hi++)
    {
      while (t[hi] - t[lo] >= NS_PER_S)
        lo++;
      best = MAX (best, (guint64) (hi - lo + 1));
    }
  return best;
}

/* Nearest rank: the smallest value with at least @p % of them at or below. */
static guint64
percentile (GArray *sorted,
            guint   p)
{
  guint64 rank = ((guint64) p * sorted->len + 99) / 100;

  return g_array_index (sorted, guint64, rank > 0 ? rank - 1 : 0);
}

static GArray *
gather (IovTraffic *self,
        const char *device,
        int         what)   /* a count, or -1 for the round trips */
{
  GArray *all = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint n_parts = 0;

  for (guint i = 0; i < self->sources->len; i++)
    {
      Source *s = g_ptr_array_index (self->sources, i);
      GArray *a = what < 0 ? s->round_trips : s->ts[what];

      if (a->len == 0 || g_strcmp0 (resolve (self, s), device) != 0)
        continue;
      /* times are kept sorted (the rate tracks search them): a device
       * with one source, the usual case, needs no sort here, which the
       * live window's Traffic panel asks for every second */
      if (what >= 0 && s->unsorted[what])
        {
          g_array_sort (a, compare_u64);
          s->unsorted[what] = FALSE;
        }
      g_array_append_vals (all, a->data, a->len);
      n_parts++;
    }
  if (what < 0 || n_parts > 1)
    g_array_sort (all, compare_u64);
  return all;
}

void
iov_traffic_get_figures (IovTraffic        *self,
                         const char        *device,
                         IovTrafficFigures *out)
{
  g_autoptr(GArray) round_trips = NULL;

  memset (out, 0, sizeof *out);
  g_return_if_fail (self != NULL);

  for (guint i = 0; i < self->sources->len; i++)
    {
      const Source *s = g_ptr_array_index (self->sources, i);

      if (g_strcmp0 (resolve (self, s), device) == 0)
        for (guint k = 0; k < IOV_TRAFFIC_N_COUNTS; k++)
          out->counts[k] += s->counts[k];
    }
  for (guint k = 0; k < IOV_TRAFFIC_N_COUNTS; k++)
    {
      g_autoptr(GArray) ts = out->counts[k] > 0 ? gather (self, device, k) : NULL;

      out->peak_per_s[k] = ts ? peak_per_second (ts) : 0;
    }
  round_trips = gather (self, device, -1);
  out->n_round_trips = round_trips->len;
  if (round_trips->len > 0)
    {
      out->round_trip_p50_ns = percentile (round_trips, 50);
      out->round_trip_p99_ns = percentile (round_trips, 99);
      out->round_trip_max_ns = g_array_index (round_trips, guint64, round_trips->len - 1);
    }
}

void
iov_traffic_get_rate (IovTraffic      *self,
                      const char      *device,
                      IovTrafficCount  what,
                      guint64          t0_ns,
                      guint64          bin_ns,
                      guint            n_bins,
                      guint64         *bins)
{
  g_return_if_fail (self != NULL && what < IOV_TRAFFIC_N_COUNTS && bin_ns > 0);

  memset (bins, 0, n_bins * sizeof *bins);
  for (guint i = 0; i < self->sources->len; i++)
    {
      const Source *s = g_ptr_array_index (self->sources, i);

      if (s->ts[what]->len == 0 || g_strcmp0 (resolve (self, s), device) != 0)
        continue;
      for (guint j = 0; j < s->ts[what]->len; j++)
        {
          guint64 t = g_array_index (s->ts[what], guint64, j);

          if (t >= t0_ns && (t - t0_ns) / bin_ns < n_bins)
            bins[(t - t0_ns) / bin_ns]++;
        }
    }
}

/* ⌊a · b / c⌋ without overflow. */
static inline guint64
mul_div (guint64 a,
         guint64 b,
         guint64 c)
{
#ifdef __SIZEOF_INT128__
  return (guint64) ((unsigned __int128) a * b / c);
#else
  if (b == 0 || a <= G_MAXUINT64 / b)
    return a * b / c;
  return (guint64) ((long double) a * (long double) b / (long double) c);
#endif
}

/* The first index in [@lo, @hi) of sorted @t whose time is at least @ts. */
static guint
lower_bound_u64 (const guint64 *t,
                 guint          lo,
                 guint          hi,
                 guint64        ts)
{
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (t[mid] < ts)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

typedef struct
{
  guint64 t0;
  guint64 span;
  guint   n_bins;
} BinGrid;

static inline guint
bin_of (const BinGrid *g,
        guint64        ts)
{
  return (guint) mul_div (ts - g->t0, g->n_bins, g->span);
}

/* The earliest time in bin @b (0 < @b ≤ n_bins), by the same formula as
 * bin_of(), so that both ways of binning agree to the nanosecond. */
static guint64
bin_start (const BinGrid *g,
           guint          b)
{
  guint64 d = mul_div (b, g->span, g->n_bins);

  while (mul_div (d, g->n_bins, g->span) < b)
    d++;
  while (d > 0 && mul_div (d - 1, g->n_bins, g->span) >= b)
    d--;
  return g->t0 + d;
}

static void
bin_times (GArray        *times,
           gboolean      *unsorted,
           const BinGrid *g,
           guint64       *bins)
{
  const guint64 *t;
  guint lo, hi;

  if (times->len == 0)
    return;
  if (*unsorted)
    {
      g_array_sort (times, compare_u64);
      *unsorted = FALSE;
    }
  t = (const guint64 *) times->data;
  lo = lower_bound_u64 (t, 0, times->len, g->t0);
  hi = lower_bound_u64 (t, lo, times->len, g->t0 + g->span);
  if (hi - lo <= 4 * (guint64) g->n_bins)
    {
      /* few lines in view: each to its bin */
      for (guint i = lo; i < hi; i++)
        bins[bin_of (g, t[i])]++;
      return;
    }
  /* many: the edges of the bins, each found by a binary search */
  for (guint b = 0, start = lo; b < g->n_bins; b++)
    {
      guint end = b + 1 == g->n_bins ? hi : lower_bound_u64 (t, start, hi, bin_start (g, b + 1));

      bins[b] += end - start;
      start = end;
    }
}

void
iov_traffic_bin (IovTraffic *self,
                 const char *device,
                 guint       counts,
                 guint64     t0_ns,
                 guint64     t1_ns,
                 guint       n_bins,
                 guint64    *bins)
{
  gboolean every = g_strcmp0 (device, IOV_TRAFFIC_EVERY_DEVICE) == 0;
  BinGrid g = { t0_ns, t1_ns - t0_ns, n_bins };

  g_return_if_fail (self != NULL);
  g_return_if_fail (bins != NULL || n_bins == 0);

  if (n_bins == 0)
    return;
  memset (bins, 0, n_bins * sizeof *bins);
  if (t1_ns <= t0_ns)
    return;
  for (guint k = 0; k < IOV_TRAFFIC_N_COUNTS; k++)
    {
      if ((counts & IOV_TRAFFIC_MASK (k)) == 0)
        continue;
      if (every)
        {
          bin_times (self->all_ts[k], &self->all_unsorted[k], &g, bins);
          continue;
        }
      for (guint i = 0; i < self->sources->len; i++)
        {
          Source *s = g_ptr_array_index (self->sources, i);

          if (s->ts[k]->len > 0 && g_strcmp0 (resolve (self, s), device) == 0)
            bin_times (s->ts[k], &s->unsorted[k], &g, bins);
        }
    }
}

GPtrArray *
iov_traffic_get_notes (IovTraffic *self)
{
  GPtrArray *notes = g_ptr_array_new_with_free_func (g_free);
  const Source *none = NULL, *orphan = NULL;
  guint64 invalidations = 0;

  g_return_val_if_fail (self != NULL, notes);

  none = g_ptr_array_index (self->sources, UNATTRIBUTED);
  orphan = g_ptr_array_index (self->sources, ORPHAN);
  for (guint i = 0; i < self->sources->len; i++)
    {
      const Source *s = g_ptr_array_index (self->sources, i);
      g_autofree char *what = NULL;

      if (s->kind != SOURCE_VHOST || source_is_empty (s) || resolve (self, s) != NULL)
        continue;
      what = g_strdup_printf ("vhost device %s%s%s%s: %" G_GUINT64_FORMAT " IOTLB misses and %" G_GUINT64_FORMAT
                              " IOTLB messages answering them are unattributed", s->vhost,
                              s->vhost_name ? " (" : "", s->vhost_name ? s->vhost_name : "", s->vhost_name ? ")" : "",
                              s->counts[IOV_TRAFFIC_IOTLB_MISSES], s->counts[IOV_TRAFFIC_IOTLB_MESSAGES]);
      if (self->vhost_devices->len == 0)
        g_ptr_array_add (notes, g_strdup_printf ("%s: the trace names vhost devices by pointer only, and no snapshot "
                                                 "(--infer, --qmp) lists a vhost device to tie it to", what));
      else
        g_ptr_array_add (notes, g_strdup_printf ("%s: it matches none or several of the snapshot's %u vhost devices",
                                                 what, self->vhost_devices->len));
    }
  if (orphan->counts[IOV_TRAFFIC_IOTLB_MESSAGES] > 0 && resolve (self, orphan) == NULL)
    g_ptr_array_add (notes, g_strdup_printf ("%" G_GUINT64_FORMAT " vhost-user IOTLB messages answer no miss or "
                                             "invalidation of a known device, and no snapshot names a single vhost "
                                             "device: they are unattributed",
                                             orphan->counts[IOV_TRAFFIC_IOTLB_MESSAGES]));
  for (guint k = IOV_TRAFFIC_PAGE_INVALIDATIONS; k <= IOV_TRAFFIC_GLOBAL_INVALIDATIONS; k++)
    invalidations += none->counts[k];
  if (invalidations > 0)
    g_ptr_array_add (notes, g_strdup_printf ("%" G_GUINT64_FORMAT " VT-d IOTLB invalidations reached a domain no "
                                             "device was seen in yet (a device's domain is learnt from "
                                             "vtd_iotlb_page_update and vtd_iotlb_cc_update): they are unattributed",
                                             invalidations));
  if (self->n_untimed > 0)
    g_ptr_array_add (notes, g_strdup_printf ("%" G_GUINT64_FORMAT " counted lines have no timestamp: peaks and "
                                             "round trips leave them out", self->n_untimed));
  return notes;
}
