/* iov-delivery-log.c
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

#include "config.h"

#include "iov-delivery-log.h"

/* The inference lets a delivery go once no evidence can change it: at the
 * latest at the next invalidation, a few lines on; 16384 lines of slack is
 * far more than QEMU puts between them. While it holds events back (vhost's
 * flags or registration not yet decided, issue H) the owner says from which
 * line on to keep more (iov_delivery_log_keep_from()). */
#define RING_SIZE 16384

typedef struct
{
  guint64 line;
  guint64 index;
} LineIndex;

struct _IovDeliveryLog
{
  GArray   *deliveries;   /* IovDelivery, sorted by event index */
  GArray   *events;       /* guint64 event index per delivery */
  GArray   *map;          /* LineIndex, lines growing; [start, len) live */
  guint     start;
  guint64   keep_from;    /* lines from here on stay, whatever their age */
};

IovDeliveryLog *
iov_delivery_log_new (void)
{
  IovDeliveryLog *self = g_new0 (IovDeliveryLog, 1);

  self->deliveries = g_array_new (FALSE, FALSE, sizeof (IovDelivery));
  self->events = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->map = g_array_new (FALSE, FALSE, sizeof (LineIndex));
  self->keep_from = G_MAXUINT64;
  return self;
}

void
iov_delivery_log_free (IovDeliveryLog *self)
{
  if (self == NULL)
    return;
  g_array_unref (self->deliveries);
  g_array_unref (self->events);
  g_array_unref (self->map);
  g_free (self);
}

void
iov_delivery_log_clear (IovDeliveryLog *self)
{
  g_array_set_size (self->deliveries, 0);
  g_array_set_size (self->events, 0);
  g_array_set_size (self->map, 0);
  self->start = 0;
  self->keep_from = G_MAXUINT64;
}

void
iov_delivery_log_keep_from (IovDeliveryLog *self,
                            guint64         line)
{
  g_return_if_fail (self != NULL);
  self->keep_from = line;
}

void
iov_delivery_log_note_event (IovDeliveryLog *self,
                             guint64         line,
                             guint64         index)
{
  LineIndex e = { line, index };

  g_array_append_val (self->map, e);
  while (self->map->len - self->start > RING_SIZE &&
         g_array_index (self->map, LineIndex, self->start).line < self->keep_from)
    self->start++;
  /* Compact now and then: the map stays about RING_SIZE long. */
  if (self->start >= 4 * RING_SIZE && self->start > self->map->len / 2)
    {
      g_array_remove_range (self->map, 0, self->start);
      self->start = 0;
    }
}

/* Lines only grow, so the map is sorted: bisect it. */
static guint64
lookup_line (IovDeliveryLog *self,
             guint64         line)
{
  guint lo = self->start, hi = self->map->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const LineIndex *e = &g_array_index (self->map, LineIndex, mid);

      if (e->line == line)
        return e->index;
      if (e->line < line)
        lo = mid + 1;
      else
        hi = mid;
    }
  return IOV_DELIVERY_LOG_NO_EVENT;
}

/* First position whose event index is > @index (upper) or >= (lower). */
static guint64
bisect (IovDeliveryLog *self,
        guint64         index,
        gboolean        upper)
{
  guint64 lo = 0, hi = self->events->len;
  const guint64 *ev = (const guint64 *) (gpointer) self->events->data;

  while (lo < hi)
    {
      guint64 mid = lo + (hi - lo) / 2;

      if (ev[mid] < index || (upper && ev[mid] == index))
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

guint
iov_delivery_log_add (IovDeliveryLog    *self,
                      const IovDelivery *deliveries,
                      guint              n_deliveries,
                      guint64           *first_event)
{
  guint found = 0;
  guint64 first = IOV_DELIVERY_LOG_NO_EVENT;

  g_return_val_if_fail (self != NULL, 0);

  for (guint i = 0; i < n_deliveries; i++)
    {
      guint64 index = lookup_line (self, deliveries[i].line);
      guint64 pos = self->events->len;

      found += index != IOV_DELIVERY_LOG_NO_EVENT;
      first = MIN (first, index);
      /* Late ones (settled after later events) go back in place; the
       * unmatched ones sort last, where no event range reaches them. */
      if (pos > 0 && g_array_index (self->events, guint64, pos - 1) > index)
        pos = bisect (self, index, TRUE);
      g_array_insert_val (self->deliveries, pos, deliveries[i]);
      g_array_insert_val (self->events, pos, index);
    }
  if (first_event != NULL)
    *first_event = first;
  return found;
}

guint64
iov_delivery_log_get_n (IovDeliveryLog *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->deliveries->len;
}

const IovDelivery *
iov_delivery_log_get (IovDeliveryLog *self,
                      guint64         i,
                      guint64        *event_index)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (i >= self->deliveries->len)
    return NULL;
  if (event_index != NULL)
    *event_index = g_array_index (self->events, guint64, i);
  return &g_array_index (self->deliveries, IovDelivery, i);
}

void
iov_delivery_log_find (IovDeliveryLog *self,
                       guint64         first_event,
                       guint64         end_event,
                       guint64        *first,
                       guint64        *end)
{
  g_return_if_fail (self != NULL);

  *first = bisect (self, first_event, FALSE);
  *end = end_event <= first_event ? *first : bisect (self, end_event, FALSE);
}

GArray *
iov_delivery_log_count (IovDeliveryLog *self,
                        const char     *device,
                        guint64         first,
                        guint64         end)
{
  GArray *counts = g_array_new (FALSE, TRUE, sizeof (IovDeliveryCount));
  g_autoptr(GHashTable) slot = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) last_event = g_hash_table_new_full (NULL, NULL, NULL, g_free);

  g_return_val_if_fail (self != NULL, counts);

  end = MIN (end, self->deliveries->len);
  for (guint64 i = first; i < end; i++)
    {
      const IovDelivery *d = &g_array_index (self->deliveries, IovDelivery, i);
      guint64 event = g_array_index (self->events, guint64, i);
      IovDeliveryCount *c;
      guint64 *seen;
      gpointer n;

      if (device != NULL && g_strcmp0 (d->device, device) != 0)
        continue;
      if (!g_hash_table_lookup_extended (slot, d->notifier, NULL, &n))
        {
          IovDeliveryCount fresh = { d->notifier, };

          n = GUINT_TO_POINTER (counts->len);
          g_array_append_val (counts, fresh);
          g_hash_table_insert (slot, (gpointer) d->notifier, n);
          g_hash_table_insert (last_event, (gpointer) d->notifier, g_new0 (guint64, 1));
        }
      c = &g_array_index (counts, IovDeliveryCount, GPOINTER_TO_UINT (n));
      seen = g_hash_table_lookup (last_event, d->notifier);
      if (c->events == 0 || *seen != event)
        c->events++;
      *seen = event;

      switch (d->outcome.result)
        {
        case IOV_RESULT_DELIVERED:
          if (d->outcome.type & IOV_NOTIFIER_MAP)
            c->by_type[0]++;
          else if (d->outcome.type & IOV_NOTIFIER_DEVIOTLB_UNMAP)
            c->by_type[2]++;
          else
            c->by_type[1]++;
          c->cropped += d->outcome.cropped != 0;
          break;
        case IOV_RESULT_SKIPPED_RANGE:
          c->skipped_range++;
          break;
        case IOV_RESULT_SKIPPED_FLAGS:
          c->skipped_flags++;
          break;
        case IOV_RESULT_ABORT:
        default:
          c->aborted++;
          break;
        }
      c->observed += d->kind == IOV_DELIVERY_OBSERVED;
    }
  return counts;
}

/* The words the event list shows and filters on. */
const char *
iov_delivery_outcome_word (const IovDelivery *delivery)
{
  switch (delivery->outcome.result)
    {
    case IOV_RESULT_DELIVERED:
      return delivery->outcome.cropped ? "cropped" : "delivered";
    case IOV_RESULT_SKIPPED_RANGE:
      return "skipped-range";
    case IOV_RESULT_SKIPPED_FLAGS:
      return "skipped-flags";
    case IOV_RESULT_ABORT:
    default:
      return "abort";
    }
}
