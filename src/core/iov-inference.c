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
#include "iov-snapshot-info.h"
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
  int         domain;     /* VT-d domain id, from the trace; -1 until seen */
} Space;

struct _IovInference
{
  const IovProfile *profile;
  IovIommuModel     model;
  guint             aw;
  guint             aw_bits;     /* as asked; 0: the profile's default */
  GPtrArray        *spaces;      /* Space* */
  GPtrArray        *pool;        /* IovNotifier*, owned */
  GPtrArray        *findings;    /* char* */
  GPtrArray        *notes;       /* char* */
  /* delivery indexes awaiting vhost-user evidence, oldest first: a plain
   * vector, pushed and popped inline (twice per flush per release) */
  guint            *pending;
  guint             n_pending;
  guint             pending_size;
  GArray           *pending_vfio;
  GArray           *held;        /* IovDelivery: the pending ones index it */
  guint64           n_events;
  guint64           n_findings;
  guint64           n_unexplained;
  gboolean          miss_pending;
  gboolean          seen_vhost_user;
  gboolean          noted_walk;
  GPtrArray        *metas;       /* IovInferenceNotifier*, owned, as pool */
  /* Undecided flags (issue H): events wait in @replay while the evidence
   * scanner looks for what decides them, then are fed again in order. */
  GPtrArray        *undecided;   /* IovInferenceNotifier*: flags assumed, not yet decided */
  GPtrArray        *awaiting;    /* Meta*: vhost's, registration not yet seen */
  guint             n_waited;    /* invalidations held while awaiting */
  gboolean          seen_vhost_event;
  GArray           *replay;      /* Held */
  GByteArray       *replay_text;
  gboolean          replaying;
  int               scan_kind;   /* SCAN_* of the last invalidation */
  guint16           scan_sid;
  gboolean          scan_miss;
  IovInferenceAbort abort;
  gboolean          contradicted;
  gboolean          seen_miss;     /* a vhost_iotlb_miss came: vhost runs */
  GArray           *outcomes;    /* IovOutcome: dispatch()'s, reused (no allocation per event) */
  /* Batched (iov_inference_set_batched()): the first @settled of held are
   * settled, and stay there for the caller to read and drop, never copied
   * to an array of its own (issue K: a pass of --compare per release). */
  gboolean          batched;
  guint             settled;
};

/* A notifier's public facts and what QEMU's registration needs: vhost
 * registers when vhost starts (vhost_dev_start, 11.1's _in), not when its
 * address space appears, and unregisters when it stops. */
typedef struct
{
  IovInferenceNotifier pub;
  gboolean             active;      /* its consumer registered it */
  gboolean             awaiting;    /* until when is for the trace to say */
} Meta;

/* An event waiting in @replay: its text in @replay_text (one arena, not
 * two allocations an event: a release waiting for vhost's registration
 * holds up to REPLAY_MAX of them). */
typedef struct
{
  guint64  ts_ns;
  guint64  line;
  gsize    name_at;   /* offsets into replay_text, each text NUL-terminated */
  gsize    args_at;
  gsize    len;
} Held;

enum { SCAN_NONE, SCAN_DEVICE, SCAN_PAGE };

/* Past this many events without evidence, the assumption stands. */
#define REPLAY_MAX 500000

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
  self->aw_bits = aw_bits;
  self->aw = aw_bits ? aw_bits : profile->default_aw_bits;
  self->spaces = g_ptr_array_new_with_free_func ((GDestroyNotify) space_free);
  self->pool = g_ptr_array_new_with_free_func ((GDestroyNotify) iov_notifier_free);
  self->findings = g_ptr_array_new_with_free_func (g_free);
  self->notes = g_ptr_array_new_with_free_func (g_free);
  self->pending_vfio = g_array_new (FALSE, FALSE, sizeof (guint));
  self->held = g_array_new (FALSE, FALSE, sizeof (IovDelivery));
  self->metas = g_ptr_array_new_with_free_func (g_free);
  self->undecided = g_ptr_array_new ();
  self->awaiting = g_ptr_array_new ();
  self->replay = g_array_new (FALSE, FALSE, sizeof (Held));
  self->replay_text = g_byte_array_new ();
  self->outcomes = g_array_new (FALSE, FALSE, sizeof (IovOutcome));
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
  g_free (self->pending);
  g_array_unref (self->pending_vfio);
  g_array_unref (self->held);
  g_ptr_array_unref (self->metas);
  g_ptr_array_unref (self->undecided);
  g_ptr_array_unref (self->awaiting);
  g_array_unref (self->replay);
  g_byte_array_unref (self->replay_text);
  g_array_unref (self->outcomes);
  g_free (self->abort.message);
  g_free (self);
}

static Space *space_for (IovInference *self, const char *device, gboolean create);

static gpointer
copy_string (gconstpointer src,
             gpointer      data)
{
  return g_strdup (src);
}

/* @n of @self as its copy @to has it: same place in the pool. */
static IovNotifier *
notifier_in (IovInference      *self,
             IovInference      *to,
             const IovNotifier *n)
{
  guint i;

  if (n == NULL || !g_ptr_array_find (self->pool, n, &i))
    return (IovNotifier *) n;
  return g_ptr_array_index (to->pool, i);
}

static gpointer
meta_in (IovInference *self,
         IovInference *to,
         gpointer      meta)
{
  guint i;

  if (!g_ptr_array_find (self->metas, meta, &i))
    return meta;
  return g_ptr_array_index (to->metas, i);
}

IovInference *
iov_inference_copy (IovInference     *self,
                    const IovProfile *profile)
{
  IovInference *to = iov_inference_new (profile, self->model, self->aw_bits);

  /* the notifiers first: everything else points at them */
  for (guint i = 0; i < self->pool->len; i++)
    {
      const IovNotifier *n = g_ptr_array_index (self->pool, i);
      IovNotifier *copy = iov_notifier_new (n->name, n->owner, n->start, n->end, n->flags);

      copy->iommu_idx = n->iommu_idx;
      g_ptr_array_add (to->pool, copy);
    }
  for (guint i = 0; i < self->spaces->len; i++)
    {
      const Space *space = g_ptr_array_index (self->spaces, i);
      Space *copy = g_new0 (Space, 1);

      *copy = *space;
      copy->device = g_strdup (space->device);
      iov_iommu_mr_init (&copy->mr);
      copy->mr.agg_flags = space->mr.agg_flags;
      for (guint j = 0; j < space->mr.list->len; j++)
        g_ptr_array_add (copy->mr.list, notifier_in (self, to, g_ptr_array_index (space->mr.list, j)));
      copy->all = g_ptr_array_new ();
      for (guint j = 0; j < space->all->len; j++)
        g_ptr_array_add (copy->all, notifier_in (self, to, g_ptr_array_index (space->all, j)));
      g_ptr_array_add (to->spaces, copy);
    }
  for (guint i = 0; i < self->metas->len; i++)
    {
      const Meta *meta = g_ptr_array_index (self->metas, i);
      Meta *copy = g_new0 (Meta, 1);
      Space *space = space_for (to, meta->pub.device, FALSE);

      *copy = *meta;
      copy->pub.notifier = notifier_in (self, to, meta->pub.notifier);
      copy->pub.device = space ? space->device : meta->pub.device;
      g_ptr_array_add (to->metas, copy);
    }
  for (guint i = 0; i < self->undecided->len; i++)
    g_ptr_array_add (to->undecided, meta_in (self, to, g_ptr_array_index (self->undecided, i)));
  for (guint i = 0; i < self->awaiting->len; i++)
    g_ptr_array_add (to->awaiting, meta_in (self, to, g_ptr_array_index (self->awaiting, i)));
  g_ptr_array_extend (to->findings, self->findings, copy_string, NULL);
  g_ptr_array_extend (to->notes, self->notes, copy_string, NULL);
  to->batched = self->batched;
  to->settled = self->settled;
  to->pending = g_memdup2 (self->pending, self->pending_size * sizeof (guint));
  to->n_pending = self->n_pending;
  to->pending_size = self->pending_size;
  g_array_append_vals (to->pending_vfio, self->pending_vfio->data, self->pending_vfio->len);
  for (guint i = 0; i < self->held->len; i++)
    {
      IovDelivery d = g_array_index (self->held, IovDelivery, i);

      iov_inference_copy_delivery (self, to, &d);
      g_array_append_val (to->held, d);
    }
  g_array_append_vals (to->replay, self->replay->data, self->replay->len);
  g_byte_array_append (to->replay_text, self->replay_text->data, self->replay_text->len);
  to->n_events = self->n_events;
  to->n_findings = self->n_findings;
  to->n_unexplained = self->n_unexplained;
  to->miss_pending = self->miss_pending;
  to->seen_miss = self->seen_miss;
  to->seen_vhost_user = self->seen_vhost_user;
  to->noted_walk = self->noted_walk;
  to->n_waited = self->n_waited;
  to->seen_vhost_event = self->seen_vhost_event;
  to->replaying = self->replaying;
  to->scan_kind = self->scan_kind;
  to->scan_sid = self->scan_sid;
  to->scan_miss = self->scan_miss;
  to->abort = self->abort;
  to->abort.message = g_strdup (self->abort.message);
  if (self->abort.notifier != NULL)
    for (guint i = 0; i < self->pool->len; i++)
      if (((IovNotifier *) g_ptr_array_index (self->pool, i))->name == self->abort.notifier)
        to->abort.notifier = ((IovNotifier *) g_ptr_array_index (to->pool, i))->name;
  to->contradicted = self->contradicted;
  return to;
}

void
iov_inference_copy_delivery (IovInference *self,
                             IovInference *to,
                             IovDelivery  *d)
{
  for (guint i = 0; i < self->spaces->len; i++)
    if (((Space *) g_ptr_array_index (self->spaces, i))->device == d->device)
      {
        d->device = ((Space *) g_ptr_array_index (to->spaces, i))->device;
        break;
      }
  d->notifier = notifier_in (self, to, d->notifier);
  d->outcome.notifier = notifier_in (self, to, d->outcome.notifier);
}

const IovNotifier *
iov_inference_copy_notifier (IovInference      *self,
                             IovInference      *to,
                             const IovNotifier *n)
{
  return notifier_in (self, to, n);
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

/* The line of the oldest event whose deliveries have not come out yet
 * (held for evidence or for vhost's flags or registration), or G_MAXUINT64. */
guint64
iov_inference_get_oldest_held_line (IovInference *self)
{
  guint64 oldest = G_MAXUINT64;

  if (self->replay->len > 0)
    oldest = g_array_index (self->replay, Held, 0).line;
  if (self->held->len > self->settled)
    oldest = MIN (oldest, g_array_index (self->held, IovDelivery, self->settled).line);
  return oldest;
}

GPtrArray *
iov_inference_get_notifiers (IovInference *self)
{
  return self->metas;
}

guint64
iov_inference_get_n_unexplained (IovInference *self)
{
  return self->n_unexplained;
}

const IovInferenceAbort *
iov_inference_get_abort (IovInference *self)
{
  return self->abort.line > 0 ? &self->abort : NULL;
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
  space->domain = -1;
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

static IovInferenceNotifier *
add_notifier (IovInference *self,
              const char   *device,
              const char   *name,
              const char   *owner,
              guint64       start,
              guint64       end,
              guint         flags,
              const char   *flags_source,
              guint64       from_line,
              gboolean      await)
{
  Space *space = space_for (self, device, TRUE);
  IovNotifier *n = iov_notifier_new (name, owner, start, end, flags);
  Meta *meta = g_new0 (Meta, 1);

  g_ptr_array_add (self->pool, n);
  g_ptr_array_add (space->all, n);
  meta->active = !await;
  meta->awaiting = await;
  if (space->enabled && meta->active)
    space->mr.agg_flags = iov_iommu_mr_insert (&space->mr, n);
  meta->pub.notifier = n;
  meta->pub.device = space->device;
  meta->pub.flags_source = flags_source;
  meta->pub.from_line = from_line;
  g_ptr_array_add (self->metas, meta);
  if (g_str_equal (flags_source, "assumed"))
    g_ptr_array_add (self->undecided, meta);
  if (await)
    g_ptr_array_add (self->awaiting, meta);
  return &meta->pub;
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
  return (IovNotifier *) add_notifier (self, device, name, owner, start, end, flags, "snapshot", 1, FALSE)->notifier;
}

static Meta *
meta_of (IovInference      *self,
         const IovNotifier *n)
{
  for (guint i = 0; i < self->pool->len; i++)
    if (g_ptr_array_index (self->pool, i) == n)
      return g_ptr_array_index (self->metas, i);
  return NULL;
}

/* A notifier's flags from the snapshot, or the release's rule, or, for
 * vhost on releases where they follow the guest's ATS enable bit (which
 * QMP cannot show), an assumption the trace's evidence will decide. */
static void
notifier_flags (IovInference              *self,
                const IovSnapshotNotifier *n,
                const char                *owner,
                guint                     *flags,
                const char               **source)
{
  if (n->has_flags)
    {
      *flags = n->flags;
      /* a live snapshot says when the release's rule decided them */
      *source = g_strcmp0 (n->flags_source, "profile") == 0 ? "profile" : "snapshot";
    }
  else if (g_strcmp0 (owner, "vfio") == 0)
    {
      *flags = IOV_NOTIFIER_IOTLB_EVENTS;
      *source = "profile";
    }
  else if (self->profile->vhost == IOV_VHOST_UNMAP)
    {
      /* ≤5.2: vhost registers UNMAP, whatever the guest does */
      *flags = IOV_NOTIFIER_UNMAP;
      *source = "profile";
    }
  else if (self->model == IOV_IOMMU_VIRTIO)
    {
      /* virtio-iommu refuses DEVIOTLB_UNMAP (virtio_iommu_notify_flag_changed,
       * hw/virtio/virtio-iommu.c since 6.0): vhost falls back to UNMAP */
      *flags = IOV_NOTIFIER_UNMAP;
      *source = "profile";
    }
  else
    {
      *flags = IOV_NOTIFIER_UNMAP;
      *source = "assumed";
    }
}

/* Registers the notifiers of @info the inference does not have yet. The
 * snapshot reader has checked them all: each has a device and a range. */
static void
add_snapshot_notifiers (IovInference          *self,
                        const IovSnapshotInfo *info,
                        guint64                line)
{
  for (guint i = 0; i < info->address_spaces->len; i++)
    {
      const IovSnapshotAddressSpace *as = g_ptr_array_index (info->address_spaces, i);

      for (guint j = 0; j < as->notifiers->len; j++)
        {
          const IovSnapshotNotifier *n = g_ptr_array_index (as->notifiers, j);
          const char *device = n->device;
          const char *owner = n->consumer ? n->consumer : "notifier";
          g_autofree char *name = NULL;
          const char *source = NULL;
          guint flags = 0, k = 0;
          gboolean known = FALSE;

          for (guint m = 0; m < self->metas->len; m++)
            {
              IovInferenceNotifier *meta = g_ptr_array_index (self->metas, m);

              if (g_str_equal (meta->device, device) && g_strcmp0 (meta->notifier->owner, owner) == 0)
                {
                  k++;
                  known |= meta->notifier->start == n->start && meta->notifier->end == n->end;
                }
            }
          if (known)
            continue;
          notifier_flags (self, n, owner, &flags, &source);
          /* A sibling whose flags the trace already decided: same device,
           * same consumer, same registration rule. */
          if (g_str_equal (source, "assumed"))
            for (guint m = 0; m < self->metas->len; m++)
              {
                IovInferenceNotifier *meta = g_ptr_array_index (self->metas, m);

                if (g_str_equal (meta->device, device) && g_strcmp0 (meta->notifier->owner, owner) == 0 &&
                    g_str_equal (meta->flags_source, "trace"))
                  flags = meta->notifier->flags, source = "trace";
              }
          name = g_strdup_printf ("%s.%s.%u", device, owner, k + 1);
          /* Sections come in ascending order: register them so. vhost's
           * wait for vhost to start: vhost_dev_start registers its IOMMU
           * listener (hw/virtio/vhost.c, v5.2.0:1717). Releases before 7.2
           * trace no vhost_dev_start; there the start shows as its first
           * IOTLB miss (see vhost_started_by_miss()), and once one has
           * come, vhost runs: its notifiers are registered from here. */
          add_notifier (self, device, name, owner, n->start, n->end, flags, source, line,
                        g_str_equal (owner, "vhost") &&
                        (self->profile->trace_vhost_start != NULL || !self->seen_miss));
        }
    }
}

/* The snapshot, read whole before anything of it is used. */
static IovSnapshotInfo *
read_snapshot (JsonNode  *snapshot,
               GError   **error)
{
  g_autoptr(GError) local = NULL;
  IovSnapshotInfo *info = iov_snapshot_info_new_from_json (snapshot, &local);

  if (info == NULL)
    g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, _("snapshot: %s"), local->message);
  return info;
}

IovInference *
iov_inference_new_from_info (const IovSnapshotInfo *info,
                             const IovProfile      *profile)
{
  IovIommuModel model = IOV_IOMMU_INTEL;
  IovInference *self;

  g_return_val_if_fail (info != NULL, NULL);

  if (profile == NULL)
    profile = iov_snapshot_info_get_profile (info);
  if (info->iommu_type != NULL && strstr (info->iommu_type, "amd"))
    model = IOV_IOMMU_AMD;
  else if (info->iommu_type != NULL && strstr (info->iommu_type, "virtio"))
    model = IOV_IOMMU_VIRTIO;

  self = iov_inference_new (profile, model, info->aw_bits);
  add_snapshot_notifiers (self, info, 1);
  return self;
}

IovInference *
iov_inference_new_from_snapshot (JsonNode          *snapshot,
                                 const IovProfile  *profile,
                                 GError           **error)
{
  g_autoptr(IovSnapshotInfo) info = read_snapshot (snapshot, error);

  if (info == NULL)
    return NULL;
  return iov_inference_new_from_info (info, profile);
}

void
iov_inference_update_topology_from_info (IovInference          *self,
                                         const IovSnapshotInfo *info,
                                         guint64                line)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (info != NULL);

  add_snapshot_notifiers (self, info, MAX (line, 1));
}

gboolean
iov_inference_update_topology (IovInference  *self,
                               JsonNode      *snapshot,
                               guint64        line,
                               GError       **error)
{
  g_autoptr(IovSnapshotInfo) info = NULL;

  g_return_val_if_fail (self != NULL, FALSE);

  info = read_snapshot (snapshot, error);
  if (info == NULL)
    return FALSE;
  iov_inference_update_topology_from_info (self, info, line);
  return TRUE;
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
  /* No copy of the line: this runs for every event of every release a
   * --compare replays. */
  const char *p = g_strstr_len (args, len, key);
  char buf[40];
  gsize n;
  char *end;

  if (p == NULL)
    return FALSE;
  p += strlen (key);
  n = MIN ((gsize) (args + len - p), sizeof buf - 1);
  /* A plain number of up to 15 digits ("req:22", "0x1000") by hand; the
   * rest (signs, spaces, a second 0x, long numbers) as strtoull reads it. */
  {
    const char *q = p + (base == 16 && n >= 2 && p[0] == '0' && p[1] == 'x' ? 2 : 0);
    const char *stop = p + n;
    guint64 v = 0;
    guint digits = 0;

    while (q < stop && digits <= 15)
      {
        guint c = (guchar) *q, d;

        if (c - '0' < 10)
          d = c - '0';
        else if (base == 16 && (c | 0x20) - 'a' < 6)
          d = (c | 0x20) - 'a' + 10;
        else
          break;
        v = v * base + d;
        digits++;
        q++;
      }
    if (digits > 0 && digits <= 15 && !(digits == 1 && v == 0 && base == 16 && q < stop && (*q | 0x20) == 'x'))
      {
        *out = v;
        return TRUE;
      }
  }
  memcpy (buf, p, n);
  buf[n] = '\0';
  p = buf;
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

/* Whether a notifier's owner is @word ("vhost" or "vfio"): compared
 * inline, once per delivery of every release's pass. */
static inline gboolean
owner_is_vhost (const char *o)
{
  return o[0] == 'v' && o[1] == 'h' && o[2] == 'o' && o[3] == 's' && o[4] == 't' && o[5] == '\0';
}

static inline gboolean
owner_is_vfio (const char *o)
{
  return o[0] == 'v' && o[1] == 'f' && o[2] == 'i' && o[3] == 'o' && o[4] == '\0';
}

static void
record (IovInference      *self,
        Space             *space,
        const IovTlbEvent *ev,
        const IovOutcome  *outcomes,
        guint              n_outcomes,
        guint64            ts_ns,
        guint64            line,
        GArray            *deliveries)
{
  guint base = deliveries->len;
  IovTlbEvent event = *ev;

  if (n_outcomes == 0)
    return;
  event.type = iov_event_effective_type (self->profile, ev);
  /* grown once and written in place: this runs for every delivery of every
   * release's pass (issue K's replay of a million flushes) */
  g_array_set_size (deliveries, base + n_outcomes);
  for (guint i = 0; i < n_outcomes; i++)
    {
      guint index = base + i;
      IovDelivery *d = &g_array_index (deliveries, IovDelivery, index);
      const IovOutcome *o = &outcomes[i];

      *d = (IovDelivery) {
        .ts_ns = ts_ns,
        .line = line,
        .notifier = o->notifier,
        .device = space->device,
        .kind = IOV_DELIVERY_INFERRED,
        .outcome = *o,
        .event = event,
      };

      if (d->outcome.result == IOV_RESULT_ABORT)
        {
          /* QEMU stops at its first abort: the rest of the trace, if any,
           * contradicts it (iov_inference_feed() says so). */
          if (self->abort.line == 0)
            {
              self->abort.line = line;
              self->abort.notifier = d->notifier ? d->notifier->name : NULL;
              self->abort.message = iov_abort_message (self->profile, d->outcome.abort);
              self->abort.kind = d->outcome.abort;
            }
        }
      else if (d->outcome.result == IOV_RESULT_DELIVERED && d->notifier->owner != NULL)
        {
          /* kernel vhost leaves no trace: only vhost-user evidence can come */
          if (owner_is_vhost (d->notifier->owner) && self->seen_vhost_user)
            {
              if (self->n_pending == self->pending_size)
                {
                  self->pending_size = MAX (16, 2 * self->pending_size);
                  self->pending = g_renew (guint, self->pending, self->pending_size);
                }
              self->pending[self->n_pending++] = index;
            }
          else if (owner_is_vfio (d->notifier->owner))
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
  IovOutcome buf[16];
  const IovOutcome *outcomes = buf;
  guint n = 0;

  if (!space->enabled)
    return;
  if (target != NULL)
    {
      buf[0].event = 0;
      iov_notify_one (self->profile, target, ev, &buf[0]);
      n = 1;
    }
  else if (space->mr.list->len <= G_N_ELEMENTS (buf))
    /* iov_iommu_mr_notify(), into the stack: no array grown per notifier
     * (issue K's replay runs this for every flush under every release) */
    for (guint i = 0; i < space->mr.list->len; i++)
      {
        const IovNotifier *notifier = g_ptr_array_index (space->mr.list, i);

        if (notifier->iommu_idx != 0)
          continue;
        buf[n].event = 0;
        iov_notify_one (self->profile, notifier, ev, &buf[n]);
        if (buf[n++].result == IOV_RESULT_ABORT)
          break;
      }
  else
    {
      g_array_set_size (self->outcomes, 0);
      iov_iommu_mr_notify (self->profile, &space->mr, 0, ev, 0, self->outcomes);
      outcomes = (const IovOutcome *) self->outcomes->data;
      n = self->outcomes->len;
    }
  record (self, space, ev, outcomes, n, ts_ns, line, deliveries);
}

static void
settle_pending (IovInference *self,
                GArray       *deliveries)
{
  /* Deliveries that no IOTLB message followed. Only meaningful when the
   * backend is vhost-user: kernel vhost leaves no trace at all. */
  if (self->seen_vhost_user)
    for (guint i = 0; i < self->n_pending; i++)
      {
        IovDelivery *d = &g_array_index (deliveries, IovDelivery, self->pending[i]);

        finding (self, _("line %llu: the model predicted a delivery to %s [0x%llx, +0x%llx], "
                         "but no vhost-user IOTLB message followed"),
                 (unsigned long long) d->line, d->notifier->name, (unsigned long long) d->outcome.iova,
                 (unsigned long long) d->outcome.addr_mask);
      }
  self->n_pending = 0;
  /* vfio's notifier traces synchronously, before QEMU moves on to the
   * next invalidation: evidence that has not come by then never will. */
  if (self->pending_vfio->len > 0)
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

  /* UNMAP requests split from 6.0, MAP requests only from 7.1 */
  if (!iov_profile_virtio_splits (self->profile, map) || (start == 0 && end == G_MAXUINT64))
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

/* Releases before 7.2 trace no vhost_dev_start, but vhost_dev_start
 * itself, right after registering vhost's IOMMU listener, asks for each
 * used ring's translation with vhost_device_iotlb_miss(), which traces
 * `vhost_iotlb_miss … step 1` (QEMU 5.2: hw/virtio/vhost.c:1717 registers,
 * :1766 misses, :1011 traces; the same from 5.0 to 7.1): with an IOMMU,
 * nothing else can come between the two (one call, under the BQL). So
 * there the first miss is when vhost started; a backend's later misses
 * leave registered notifiers as they are. */
static gboolean
vhost_started_by_miss (IovInference            *self,
                       const IovInferenceEvent *e)
{
  return self->profile->trace_vhost_start == NULL && e->has_number && e->number == 1;
}

/* The same, for a line not decoded yet (the evidence scan while held). */
static gboolean
vhost_started_by_miss_text (IovInference *self,
                            const char   *args,
                            gsize         len)
{
  gint64 step = 0;

  return self->profile->trace_vhost_start == NULL && dec_after (args, len, "step ", &step) && step == 1;
}

/* vhost registered its notifiers (@on) or unregistered them, at @line. */
static void
vhost_registration (IovInference *self,
                    gboolean      on,
                    guint64       line)
{
  for (guint i = 0; i < self->metas->len; i++)
    {
      Meta *meta = g_ptr_array_index (self->metas, i);
      Space *space;

      if (meta->awaiting || meta->active == on || g_strcmp0 (meta->pub.notifier->owner, "vhost") != 0)
        continue;
      space = space_for (self, meta->pub.device, FALSE);
      if (space == NULL)
        continue;
      meta->active = on;
      if (on)
        {
          if (meta->pub.to_line == 0 && line > meta->pub.from_line)
            meta->pub.from_line = line;   /* its first registration */
          meta->pub.to_line = 0;
          if (space->enabled)
            space->mr.agg_flags = iov_iommu_mr_insert (&space->mr, (IovNotifier *) meta->pub.notifier);
        }
      else
        {
          meta->pub.to_line = line;
          if (iov_iommu_mr_remove (&space->mr, (IovNotifier *) meta->pub.notifier))
            space->mr.agg_flags = iov_iommu_mr_compute_flags (&space->mr);
        }
    }
}

/* The awaited vhost notifiers were registered before the trace says:
 * from the line they were learnt at. */
static void
registered_already (IovInference *self,
                    const char   *why)
{
  if (self->awaiting->len == 0)
    return;
  for (guint i = 0; i < self->awaiting->len; i++)
    {
      Meta *meta = g_ptr_array_index (self->awaiting, i);
      Space *space = space_for (self, meta->pub.device, FALSE);

      meta->awaiting = FALSE;
      meta->active = TRUE;
      if (space != NULL && space->enabled)
        space->mr.agg_flags = iov_iommu_mr_insert (&space->mr, (IovNotifier *) meta->pub.notifier);
    }
  g_ptr_array_set_size (self->awaiting, 0);
  note (self, why);
}

/* The events feed() knows, told apart once per event. */
enum
{
  EV_OTHER,
  EV_VHOST_OTHER,
  EV_VHOST_DEV_START,
  EV_VHOST_DEV_STOP,
  EV_VHOST_IOTLB_MISS,
  EV_VHOST_USER_WRITE,
  EV_VFIO_MAP_NOTIFY,
  EV_VIRTIO_NOTIFY_UNMAP,
  EV_VIRTIO_NOTIFY_MAP,
  EV_VTD_OTHER,
  EV_VTD_INV_DESC,
  EV_VTD_IOTLB_PAGE_UPDATE,
  EV_VTD_IOTLB_CC_UPDATE,
  EV_VTD_INV_DESC_IOTLB_PAGES,
  EV_VTD_INV_DESC_IOTLB_DOMAIN,
  EV_VTD_INV_DESC_IOTLB_GLOBAL,
  EV_VTD_PAGE_WALK_ONE,
  EV_VTD_AS_UNMAP_WHOLE,
  EV_VTD_SWITCH_ADDRESS_SPACE,
};

static const struct
{
  const char *name;
  gsize       len;
  guint       kind;
} event_kinds[] = {
#define KIND(name, kind) { name, sizeof name - 1, kind }
  /* the most frequent first: a compare tells millions apart */
  KIND ("vtd_inv_desc", EV_VTD_INV_DESC),
  KIND ("vhost_user_write", EV_VHOST_USER_WRITE),
  KIND ("vhost_dev_start", EV_VHOST_DEV_START),
  KIND ("vhost_dev_start_in", EV_VHOST_DEV_START),
  KIND ("vhost_dev_stop", EV_VHOST_DEV_STOP),
  KIND ("vhost_dev_stop_in", EV_VHOST_DEV_STOP),
  KIND ("vhost_iotlb_miss", EV_VHOST_IOTLB_MISS),
  KIND ("vfio_iommu_map_notify", EV_VFIO_MAP_NOTIFY),
  KIND ("virtio_iommu_notify_unmap", EV_VIRTIO_NOTIFY_UNMAP),
  KIND ("virtio_iommu_notify_map", EV_VIRTIO_NOTIFY_MAP),
  KIND ("vtd_iotlb_page_update", EV_VTD_IOTLB_PAGE_UPDATE),
  KIND ("vtd_iotlb_cc_update", EV_VTD_IOTLB_CC_UPDATE),
  KIND ("vtd_inv_desc_iotlb_pages", EV_VTD_INV_DESC_IOTLB_PAGES),
  KIND ("vtd_inv_desc_iotlb_domain", EV_VTD_INV_DESC_IOTLB_DOMAIN),
  KIND ("vtd_inv_desc_iotlb_global", EV_VTD_INV_DESC_IOTLB_GLOBAL),
  KIND ("vtd_page_walk_one", EV_VTD_PAGE_WALK_ONE),
  KIND ("vtd_as_unmap_whole", EV_VTD_AS_UNMAP_WHOLE),
  KIND ("vtd_switch_address_space", EV_VTD_SWITCH_ADDRESS_SPACE),
#undef KIND
};

void
iov_inference_event_init (IovInferenceEvent *ev,
                          guint64            ts_ns,
                          guint64            line,
                          const char        *name,
                          const char        *args,
                          gsize              args_len)
{
  gsize name_len = strlen (name);

  ev->ts_ns = ts_ns;
  ev->line = line;
  ev->name = name;
  ev->args = args;
  ev->len = args_len;
  ev->kind = G_MAXUINT;
  /* cheaper than hashing the name: few share its length */
  for (guint i = 0; i < G_N_ELEMENTS (event_kinds); i++)
    if (name_len == event_kinds[i].len && memcmp (name, event_kinds[i].name, name_len) == 0)
      {
        ev->kind = event_kinds[i].kind;
        break;
      }
  if (ev->kind != G_MAXUINT)
    ;
  else if (g_str_has_prefix (name, "vhost_"))
    ev->kind = EV_VHOST_OTHER;
  else if (g_str_has_prefix (name, "vtd_"))
    ev->kind = EV_VTD_OTHER;
  else
    ev->kind = EV_OTHER;
  ev->has_number = FALSE;
  ev->number = 0;
  ev->has_desc = FALSE;
  if (ev->kind == EV_VHOST_IOTLB_MISS)
    ev->has_number = dec_after (args, args_len, "step ", &ev->number);
  else if (ev->kind == EV_VHOST_USER_WRITE)
    ev->has_number = dec_after (args, args_len, "req:", &ev->number);
  else if (ev->kind == EV_VTD_INV_DESC)
    {
      IovVtdDesc desc;

      if (iov_vtd_desc_parse (args, args_len, &desc) && desc.type == IOV_VTD_DESC_DEVICE)
        {
          ev->has_desc = TRUE;
          ev->sid = desc.sid;
          iov_vtd_decode_device_iotlb (desc.raw_addr, desc.s, &ev->iova, &ev->addr_mask);
        }
    }
}

gboolean
iov_inference_event_is_walk (const IovInferenceEvent *ev)
{
  return ev->kind == EV_VTD_PAGE_WALK_ONE || ev->kind == EV_VTD_INV_DESC_IOTLB_DOMAIN ||
         ev->kind == EV_VTD_INV_DESC_IOTLB_GLOBAL;
}

/* The fields of a profile the inference reads whatever the trace holds
 * (the notifiers' flags, the engine's era, when vhost registers); the
 * others it reads only for the events of iov_inference_event_alike(), but
 * trace_vhost_user, which only words a note at the end (no deliveries, no
 * finding, nothing a comparison prints). Keep them in step with feed(). */
gboolean
iov_inference_profiles_alike (const IovProfile *a,
                              const IovProfile *b)
{
  return a->era == b->era && a->vhost == b->vhost &&
         (a->trace_vhost_start == NULL) == (b->trace_vhost_start == NULL);
}

gboolean
iov_inference_event_tells_apart (const IovInferenceEvent *ev)
{
  return ev->kind == EV_VTD_AS_UNMAP_WHOLE || ev->kind == EV_VTD_INV_DESC_IOTLB_DOMAIN ||
         ev->kind == EV_VTD_INV_DESC_IOTLB_GLOBAL || ev->kind == EV_VIRTIO_NOTIFY_MAP ||
         ev->kind == EV_VIRTIO_NOTIFY_UNMAP;
}

gboolean
iov_inference_event_alike (const IovInferenceEvent *ev,
                           const IovProfile        *a,
                           const IovProfile        *b)
{
  switch (ev->kind)
    {
    case EV_VTD_AS_UNMAP_WHOLE:
      return a->default_aw_bits == b->default_aw_bits;
    case EV_VTD_INV_DESC_IOTLB_DOMAIN:
    case EV_VTD_INV_DESC_IOTLB_GLOBAL:
      return a->vtd_sync_unmap_range == b->vtd_sync_unmap_range;
    case EV_VIRTIO_NOTIFY_MAP:
    case EV_VIRTIO_NOTIFY_UNMAP:
      return iov_profile_virtio_splits (a, TRUE) == iov_profile_virtio_splits (b, TRUE) &&
             iov_profile_virtio_splits (a, FALSE) == iov_profile_virtio_splits (b, FALSE);
    default:
      return TRUE;
    }
}

static void
feed (IovInference            *self,
      const IovInferenceEvent *e,
      GArray                  *deliveries)
{
  guint64 ts_ns = e->ts_ns, line = e->line;
  const char *args = e->args;
  gsize len = e->len;
  char bdf[8];

  if (e->kind >= EV_VHOST_OTHER && e->kind <= EV_VHOST_USER_WRITE)
    {
      gint64 req = e->number;

      if (e->kind == EV_VHOST_DEV_START)
        vhost_registration (self, TRUE, line);
      else if (e->kind == EV_VHOST_DEV_STOP)
        vhost_registration (self, FALSE, line);
      else if (e->kind == EV_VHOST_IOTLB_MISS)
        {
          /* An IOTLB miss: the next IOTLB message answers it (an update);
           * step 2 ends the miss, answered or not (a failed translation
           * sends nothing). */
          if (vhost_started_by_miss (self, e))
            vhost_registration (self, TRUE, line);
          if (e->has_number)
            self->miss_pending = e->number == 1;
        }
      else if (e->kind == EV_VHOST_USER_WRITE && e->has_number)
        {
          self->seen_vhost_user = TRUE;
          if (req != 22)   /* VHOST_USER_IOTLB_MSG */
            return;
          if (self->miss_pending)
            self->miss_pending = FALSE;
          else if (self->n_pending > 0)
            {
              IovDelivery *d = &g_array_index (deliveries, IovDelivery, self->pending[0]);

              d->kind = IOV_DELIVERY_OBSERVED;
              memmove (self->pending, self->pending + 1, --self->n_pending * sizeof (guint));
            }
          else
            {
              /* A delivery QEMU made that the model did not predict. */
              self->n_unexplained++;
              finding (self, _("line %llu: a vhost-user IOTLB message (req:22) that answers no IOTLB miss "
                               "and that the model did not predict"), (unsigned long long) line);
            }
        }
      return;
    }

  if (e->kind == EV_VFIO_MAP_NOTIFY)
    {
      vfio_evidence (self, args, len, line, deliveries);
      return;
    }

  if (e->kind == EV_VIRTIO_NOTIFY_UNMAP || e->kind == EV_VIRTIO_NOTIFY_MAP)
    {
      self->n_events++;
      virtio_notify (self, e->kind == EV_VIRTIO_NOTIFY_MAP, args, len, ts_ns, line, deliveries);
      return;
    }

  if (e->kind < EV_VTD_OTHER)
    return;

  if (e->kind == EV_VTD_INV_DESC)
    {
      Space *space;
      IovTlbEvent ev = { 0 };

      if (!e->has_desc)
        return;
      self->n_events++;
      settle_pending (self, deliveries);
      space = space_for_sid (self, e->sid);
      if (space == NULL)
        return;
      ev.iova = e->iova;
      ev.addr_mask = e->addr_mask;
      ev.type = self->profile->era == IOV_ERA_5_0 ? IOV_NOTIFIER_UNMAP : IOV_NOTIFIER_DEVIOTLB_UNMAP;
      ev.perm = IOV_PERM_NONE;
      dispatch (self, space, &ev, NULL, ts_ns, line, deliveries);
    }
  else if (e->kind == EV_VTD_IOTLB_PAGE_UPDATE || e->kind == EV_VTD_IOTLB_CC_UPDATE)
    {
      /* Which domain a device is in: the trace says it when the IOMMU
       * caches a translation (sid … domain) or a context entry (whose
       * high word carries the domain id in bits 8–23). */
      guint64 sid = 0, domain = 0, bus, devfn, high;
      Space *space;

      if (e->kind == EV_VTD_IOTLB_PAGE_UPDATE)
        {
          if (!hex_after (args, len, "sid ", &sid) || !hex_after (args, len, "domain ", &domain))
            return;
        }
      else
        {
          if (!hex_after (args, len, "bus ", &bus) || !hex_after (args, len, "devfn ", &devfn) ||
              !hex_after (args, len, "high ", &high))
            return;
          sid = (bus & 0xff) << 8 | (devfn & 0xff);
          domain = (high >> 8) & 0xffff;
        }
      space = space_for_sid (self, (guint16) sid);
      if (space != NULL)
        space->domain = (int) (domain & 0xffff);
    }
  else if (e->kind == EV_VTD_INV_DESC_IOTLB_PAGES)
    {
      guint64 addr, am, domain = 0;
      gboolean has_domain;

      if (!hex_after (args, len, "addr ", &addr) || !hex_after (args, len, "mask ", &am) || am > 63)
        return;
      has_domain = hex_after (args, len, "domain ", &domain);
      self->n_events++;
      settle_pending (self, deliveries);
      for (guint i = 0; i < self->spaces->len; i++)
        {
          Space *space = g_ptr_array_index (self->spaces, i);
          IovTlbEvent ev = { addr, (G_GUINT64_CONSTANT (1) << am) * IOV_PAGE_SIZE - 1, 0,
                             IOV_NOTIFIER_UNMAP, IOV_PERM_NONE };

          /* With a MAP notifier QEMU walks instead; the walk's events are
           * traced one by one as vtd_page_walk_one. */
          if (space->mr.list->len == 0 || (space->mr.agg_flags & IOV_NOTIFIER_MAP))
            continue;
          /* Only the domain's devices are invalidated. */
          if (has_domain && space->domain >= 0 && (guint64) space->domain != domain)
            continue;
          if (has_domain && space->domain < 0)
            note (self, _("a page-selective invalidation reached a device whose domain the trace had not shown "
                          "yet (vtd_iotlb_page_update, vtd_iotlb_cc_update): it was applied to it"));
          dispatch (self, space, &ev, NULL, ts_ns, line, deliveries);
        }
    }
  else if (e->kind == EV_VTD_INV_DESC_IOTLB_DOMAIN || e->kind == EV_VTD_INV_DESC_IOTLB_GLOBAL)
    {
      guint64 domain = 0;
      gboolean has_domain = e->kind == EV_VTD_INV_DESC_IOTLB_DOMAIN &&
                            hex_after (args, len, "domain ", &domain);

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
          if (has_domain && space->domain >= 0 && (guint64) space->domain != domain)
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
  else if (e->kind == EV_VTD_PAGE_WALK_ONE)
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
  else if (e->kind == EV_VTD_AS_UNMAP_WHOLE && device_after (args, len, bdf))
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
  else if (e->kind == EV_VTD_SWITCH_ADDRESS_SPACE && device_after (args, len, bdf))
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
          for (guint i = 0; i < space->all->len; i++)
            {
              Meta *meta = meta_of (self, g_ptr_array_index (space->all, i));

              if (meta != NULL && meta->active)
                meta->pub.to_line = line;
            }
        }
      else if (on && !space->enabled)
        for (guint i = 0; i < space->all->len; i++)
          {
            Meta *meta = meta_of (self, g_ptr_array_index (space->all, i));

            if (meta == NULL || !meta->active)
              continue;
            space->mr.agg_flags = iov_iommu_mr_insert (&space->mr, g_ptr_array_index (space->all, i));
            meta->pub.to_line = 0;
          }
      space->enabled = on != 0;
    }
}

/* Deliveries wait in self->held while consumer evidence may still mark
 * them observed, and reach the caller's array once settled: marking them
 * in place in the caller's array would point into whatever the caller
 * made of it since (live views drain it every tick). */
#define HOLD_MAX 4096

/* Moves the first @n deliveries of held, settled, to @deliveries. */
/* The first @n held deliveries are gone: the waiting ones move up. */
static void
drop_held (IovInference *self,
           guint         n)
{
  if (n == self->held->len)
    g_array_set_size (self->held, 0);
  else
    g_array_remove_range (self->held, 0, n);
  for (guint i = 0; i < self->n_pending; i++)
    self->pending[i] -= n;
  for (guint i = 0; i < self->pending_vfio->len; i++)
    g_array_index (self->pending_vfio, guint, i) -= n;
}

static void
move_settled (IovInference *self,
              GArray       *deliveries,
              guint         n)
{
  self->settled = 0;
  if (n == 0)
    return;
  /* out they go, in order, and the waiting ones move up */
  g_array_append_vals (deliveries, self->held->data, n);
  drop_held (self, n);
}

static void
flush_held (IovInference *self,
            GArray       *deliveries,
            gboolean      force)
{
  guint oldest = self->held->len;

  /* Too many waiting: give up on their evidence, with the findings. (The
   * settled ones a batched inference keeps until its release are not
   * waiting.) */
  if (force || self->held->len - self->settled >= HOLD_MAX)
    settle_pending (self, self->held);
  for (guint i = 0; i < self->n_pending; i++)
    oldest = MIN (oldest, self->pending[i]);
  for (guint i = 0; i < self->pending_vfio->len; i++)
    oldest = MIN (oldest, g_array_index (self->pending_vfio, guint, i));
  /* Everything before the oldest delivery still waiting is settled. */
  if (self->batched)
    self->settled = oldest;
  else
    move_settled (self, deliveries, oldest);
}

void
iov_inference_set_batched (IovInference *self,
                           gboolean      batched)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (self->settled == 0);

  self->batched = batched;
}

const IovDelivery *
iov_inference_peek_settled (IovInference *self,
                            guint        *n)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (self->batched, NULL);

  *n = self->settled;
  return (const IovDelivery *) self->held->data;
}

void
iov_inference_drop_settled (IovInference *self,
                            guint         n)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (n <= self->settled);

  if (n == 0)
    return;
  drop_held (self, n);
  self->settled -= n;
}

/* Sets the flags of the undecided vhost notifiers (of @space, or all of
 * them) and says so; the events held meanwhile are then fed again. */
static void
decide (IovInference *self,
        Space        *space,
        guint         flags,
        const char   *source,
        guint64       line,
        const char   *why)
{
  g_autofree char *text = NULL;
  g_autofree char *flag_text = iov_flags_to_string (flags);
  guint n = 0;

  for (guint i = self->undecided->len; i-- > 0;)
    {
      IovInferenceNotifier *meta = g_ptr_array_index (self->undecided, i);
      IovNotifier *notifier = (IovNotifier *) meta->notifier;
      Space *owner = space_for (self, meta->device, FALSE);

      if (space != NULL && owner != space)
        continue;
      /* In place: the list keeps QEMU's order. */
      notifier->flags = flags;
      owner->mr.agg_flags = iov_iommu_mr_compute_flags (&owner->mr);
      meta->flags_source = source;
      g_ptr_array_remove_index (self->undecided, i);
      n++;
    }
  if (n == 0)
    return;
  if (line > 0)
    text = g_strdup_printf (_("vhost's notifier flags decided at line %llu from evidence (%s): %s; "
                              "earlier events re-judged"), (unsigned long long) line, why, flag_text);
  else
    text = g_strdup_printf (_("vhost's notifier flags depend on the guest's ATS enable bit, which QMP does not "
                              "show, and the trace decided nothing: %s is assumed"), flag_text);
  note (self, text);
}

/* What decides vhost's flags: an IOTLB message right after a device-IOTLB
 * invalidation means DEVIOTLB_UNMAP, right after a page-selective one
 * UNMAP (only a notifier of that type is notified by it). */
static gboolean
scan_evidence (IovInference *self,
               guint64       line,
               const char   *name,
               const char   *args,
               gsize         len)
{
  if (self->awaiting->len > 0)
    {
      if (g_str_equal (name, "vhost_dev_start") || g_str_equal (name, "vhost_dev_start_in"))
        {
          /* Registered at this line: feed() activates them there. */
          for (guint i = 0; i < self->awaiting->len; i++)
            ((Meta *) g_ptr_array_index (self->awaiting, i))->awaiting = FALSE;
          g_ptr_array_set_size (self->awaiting, 0);
          self->seen_vhost_event = TRUE;
          return self->undecided->len == 0;
        }
      /* Only a running vhost with an IOMMU sends IOTLB messages (other
       * requests come from vhost's set-up, before it starts). */
      gint64 req = -1;

      if (g_str_equal (name, "vhost_iotlb_miss") && vhost_started_by_miss_text (self, args, len))
        {
          /* Registered at this line (≤7.1): feed() activates them there. */
          for (guint i = 0; i < self->awaiting->len; i++)
            ((Meta *) g_ptr_array_index (self->awaiting, i))->awaiting = FALSE;
          g_ptr_array_set_size (self->awaiting, 0);
          self->seen_vhost_event = TRUE;
          return self->undecided->len == 0;
        }
      if (g_str_equal (name, "vhost_iotlb_miss") ||
          (g_str_equal (name, "vhost_user_write") && dec_after (args, len, "req:", &req) && req == 22))
        {
          registered_already (self, _("vhost was running before the trace's first vhost_dev_start: its notifiers "
                                      "are taken as registered from the snapshot on"));
          self->seen_vhost_event = TRUE;
        }
      else if (g_str_has_prefix (name, "vtd_inv_desc") || g_str_equal (name, "vtd_page_walk_one") ||
               g_str_has_prefix (name, "virtio_iommu_notify_"))
        {
          /* Before 7.2 nothing but the first miss says vhost started, and a
           * guest may run long before it loads its driver: wait for it. */
          if (++self->n_waited >= 4096 && !self->seen_vhost_event && self->profile->trace_vhost_start != NULL)
            {
              registered_already (self, _("the trace has no vhost events (vhost_dev_start): vhost's notifiers are "
                                          "taken as registered from the snapshot on"));
              if (self->undecided->len == 0)
                return TRUE;
            }
        }
    }

  if (g_str_equal (name, "pci_cfg_write") && self->undecided->len > 0)
    {
      /* "DEV BB:SS.F @0xOFF <- 0xVAL": the guest writing the ATS control
       * word. virtio-pci puts the ATS capability at 0x100 (unless aer=on),
       * its control at +6, Enable = bit 15; vhost's flag follows it. */
      g_autofree char *copy = g_strndup (args, len);
      unsigned b, d, f, off, val;
      const char *sp = strchr (copy, ' ');
      gboolean on;

      if (sp == NULL || sscanf (sp + 1, "%x:%x.%x @0x%x <- 0x%x", &b, &d, &f, &off, &val) != 5)
        return FALSE;
      if (off == 0x106)
        on = (val & 0x8000) != 0;
      else if (off == 0x104)
        on = (val & 0x80000000u) != 0;
      else
        return FALSE;
      {
        Space *space = space_for_sid (self, (guint16) ((b & 0xff) << 8 | (d & 0x1f) << 3 | (f & 7)));
        g_autofree char *why = g_strdup_printf (_("the guest %s ATS (pci_cfg_write @0x%x <- 0x%x)"),
                                                on ? _("enabled") : _("disabled"), off, val);

        if (space == NULL)
          return FALSE;
        decide (self, space, on ? IOV_NOTIFIER_DEVIOTLB_UNMAP : IOV_NOTIFIER_UNMAP, "trace", line, why);
        return TRUE;
      }
    }
  if (g_str_equal (name, "vtd_inv_desc"))
    {
      IovVtdDesc desc;

      if (iov_vtd_desc_parse (args, len, &desc) && desc.type == IOV_VTD_DESC_DEVICE)
        self->scan_kind = SCAN_DEVICE, self->scan_sid = desc.sid;
    }
  else if (g_str_equal (name, "vtd_inv_desc_iotlb_pages"))
    self->scan_kind = SCAN_PAGE;
  else if (g_str_equal (name, "vhost_iotlb_miss"))
    {
      gint64 step = 0;

      if (dec_after (args, len, "step ", &step))
        self->scan_miss = step == 1;
    }
  else if (g_str_equal (name, "vhost_user_write"))
    {
      gint64 req = -1;

      /* vhost-user, not kernel vhost: its IOTLB messages will confirm the
       * deliveries when the held events are judged again */
      self->seen_vhost_user = TRUE;
      if (!dec_after (args, len, "req:", &req) || req != 22)
        return FALSE;
      if (self->scan_miss)
        {
          self->scan_miss = FALSE;
          return FALSE;
        }
      if (self->scan_kind == SCAN_DEVICE)
        {
          Space *space = space_for_sid (self, self->scan_sid);

          decide (self, space, IOV_NOTIFIER_DEVIOTLB_UNMAP, "trace", line,
                  _("an IOTLB message followed a device-IOTLB invalidation"));
          return self->awaiting->len == 0;
        }
      if (self->scan_kind == SCAN_PAGE)
        {
          decide (self, NULL, IOV_NOTIFIER_UNMAP, "trace", line,
                  _("an IOTLB message followed a page-selective invalidation"));
          return self->awaiting->len == 0;
        }
    }
  return FALSE;
}

static void
replay_held (IovInference *self)
{
  self->replaying = TRUE;
  for (guint i = 0; i < self->replay->len; i++)
    {
      Held *h = &g_array_index (self->replay, Held, i);
      const char *name = (const char *) self->replay_text->data + h->name_at;
      const char *args = (const char *) self->replay_text->data + h->args_at;
      IovInferenceEvent ev;

      iov_inference_event_init (&ev, h->ts_ns, h->line, name, args, h->len);
      feed (self, &ev, self->held);
    }
  g_array_set_size (self->replay, 0);
  g_byte_array_set_size (self->replay_text, 0);
  self->replaying = FALSE;
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
  IovInferenceEvent ev;

  g_return_if_fail (self != NULL);
  g_return_if_fail (deliveries != NULL);

  iov_inference_event_init (&ev, ts_ns, line, name, args, len);
  iov_inference_feed_event (self, &ev, deliveries);
}

void
iov_inference_feed_event (IovInference            *self,
                          const IovInferenceEvent *ev,
                          GArray                  *deliveries)
{
  guint64 ts_ns = ev->ts_ns, line = ev->line;
  const char *name = ev->name, *args = ev->args;
  gsize len = ev->len;

  g_return_if_fail (self != NULL);
  g_return_if_fail (deliveries != NULL || self->batched);

  if (ev->kind == EV_VHOST_IOTLB_MISS)
    self->seen_miss = TRUE;

  /* QEMU stops at its first abort: an event after it contradicts it. */
  if (self->abort.line > 0)
    {
      if (line > self->abort.line && !self->contradicted)
        {
          self->contradicted = TRUE;
          finding (self, _("line %llu: the model predicts that QEMU aborts here (%s), yet the trace goes on "
                           "(line %llu)"), (unsigned long long) self->abort.line,
                   self->abort.message ? self->abort.message : "", (unsigned long long) line);
        }
      return;
    }

  if (self->undecided->len > 0 || self->awaiting->len > 0)
    {
      gsize name_len = strlen (name), at = self->replay_text->len;
      /* as g_strndup() copies it: up to a NUL, zeros after */
      gsize kept = strnlen (args, len);
      Held h = { ts_ns, line, at, at + name_len + 1, len };

      g_byte_array_set_size (self->replay_text, at + name_len + 1 + len + 1);
      memcpy (self->replay_text->data + at, name, name_len + 1);
      memcpy (self->replay_text->data + h.args_at, args, kept);
      memset (self->replay_text->data + h.args_at + kept, 0, len - kept + 1);
      g_array_append_val (self->replay, h);
      scan_evidence (self, line, name, args, len);
      if (self->replay->len >= REPLAY_MAX)
        {
          if (self->undecided->len > 0)
            decide (self, NULL, IOV_NOTIFIER_UNMAP, "assumed", 0, NULL);
          registered_already (self, _("no vhost_dev_start in the trace's first events: vhost's notifiers are taken "
                                      "as registered from the snapshot on"));
        }
      if (self->undecided->len > 0 || self->awaiting->len > 0)
        return;
      /* Decided: the events held meanwhile are judged now, in order. */
      replay_held (self);
    }
  else
    feed (self, ev, self->held);
  flush_held (self, deliveries, FALSE);
}

void
iov_inference_finish (IovInference *self,
                      GArray       *deliveries)
{
  if (self->replay->len > 0 || self->undecided->len > 0 || self->awaiting->len > 0)
    {
      /* No evidence came: the assumption stands, and decides the events
       * that waited for it. */
      while (self->undecided->len > 0)
        decide (self, NULL, IOV_NOTIFIER_UNMAP, "assumed", 0, NULL);
      registered_already (self, _("no vhost_dev_start in the trace: vhost's notifiers are taken as registered "
                                  "from the snapshot on"));
      replay_held (self);
    }
  flush_held (self, deliveries, TRUE);
  if (self->pool->len == 0)
    note (self, _("the snapshot lists no notifier (no vhost or vfio device behind the IOMMU): nothing to infer"));
  if (!self->seen_vhost_user)
    for (guint i = 0; i < self->pool->len; i++)
      if (g_strcmp0 (((IovNotifier *) g_ptr_array_index (self->pool, i))->owner, "vhost") == 0)
        {
          if (!self->profile->trace_vhost_user)
            /* vhost_user_write came with 7.1 (hw/virtio/trace-events) */
            note (self, _("this QEMU traces no vhost-user messages (vhost_user_write came with 7.1): vhost's "
                          "deliveries stay inferred; the backend's own log can confirm them"));
          else
            note (self, _("no vhost-user messages in the trace: kernel vhost leaves no trace, and without "
                          "vhost_user_write traced vhost-user leaves none either, so vhost deliveries stay "
                          "inferred"));
          break;
        }
  if (self->n_findings > self->findings->len)
    {
      g_autofree char *more = g_strdup_printf (_("… and %llu more findings"),
                                               (unsigned long long) (self->n_findings - self->findings->len));
      g_ptr_array_add (self->findings, g_steal_pointer (&more));
    }
}
