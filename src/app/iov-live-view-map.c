/* iov-live-view-map.c — a snapshot's address space in the map and lanes
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

#define G_LOG_DOMAIN "iov-live-view"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "iov-live-view-private.h"
#include "iov-notifier-lanes.h"
#include "iov-range-map.h"

void
_iov_live_view_map_ensure_types (void)
{
  g_type_ensure (IOV_TYPE_RANGE_MAP);
  g_type_ensure (IOV_TYPE_NOTIFIER_LANES);
}

void
_iov_live_view_map_show_space (GtkWidget                     *range_map,
                               GtkWidget                     *lanes,
                               const IovSnapshotAddressSpace *entry,
                               const char                    *title,
                               const char                    *subtitle,
                               guint                          aw_bits,
                               GPtrArray                     *known)
{
  g_autoptr(GArray) ranges = g_array_new (FALSE, TRUE, sizeof (IovMapRange));
  g_autoptr(GPtrArray) notifiers = g_ptr_array_new_with_free_func ((GDestroyNotify) iov_notifier_free);

  g_return_if_fail (IOV_IS_RANGE_MAP (range_map));
  g_return_if_fail (IOV_IS_NOTIFIER_LANES (lanes));

  for (guint i = 0; entry != NULL && i < entry->flat_ranges->len; i++)
    {
      const IovSnapshotRange *r = &g_array_index (entry->flat_ranges, IovSnapshotRange, i);
      IovMapRange m = { r->start, r->end, r->role, r->region };

      g_array_append_val (ranges, m);
    }

  /* The inference's notifiers when it has this device's: their flags are
   * what the trace decided, not the snapshot's unknown. */
  if (known != NULL && known->len > 0)
    {
      g_clear_pointer (&notifiers, g_ptr_array_unref);
      notifiers = g_ptr_array_ref (known);
    }
  else
    for (guint i = 0; entry != NULL && i < entry->notifiers->len; i++)
      {
        const IovSnapshotNotifier *n = g_ptr_array_index (entry->notifiers, i);
        g_autofree char *name = NULL;

        /* Translators: a notifier's name, %s is its consumer (vhost, vfio), %u counts from 1 */
        name = g_strdup_printf (_("%s #%u"), n->consumer ? n->consumer : "?", i + 1);
        /* unknown (null) flags show as UNMAP, the flag vhost starts with */
        g_ptr_array_add (notifiers, iov_notifier_new (name, n->consumer, n->start, n->end,
                                                      n->has_flags ? n->flags : IOV_NOTIFIER_UNMAP));
      }

  iov_range_map_set_title (IOV_RANGE_MAP (range_map), title, subtitle);
  iov_range_map_set_aw_bits (IOV_RANGE_MAP (range_map), aw_bits);
  iov_range_map_set_ranges (IOV_RANGE_MAP (range_map), (const IovMapRange *) (gpointer) ranges->data, ranges->len);
  iov_range_map_set_notifiers (IOV_RANGE_MAP (range_map),
                               (const IovNotifier * const *) notifiers->pdata, notifiers->len);
  iov_range_map_set_invalidations (IOV_RANGE_MAP (range_map), NULL, 0);
  iov_notifier_lanes_set_bounds (IOV_NOTIFIER_LANES (lanes), iov_range_map_get_bounds (IOV_RANGE_MAP (range_map)));
  iov_notifier_lanes_set_step (IOV_NOTIFIER_LANES (lanes),
                               (const IovNotifier * const *) notifiers->pdata, notifiers->len,
                               NULL, 0, NULL, 0, NULL);
}

/* The latest events of one device and what each notifier got from them:
 * the lanes show them as one step, observed ones filled. */
void
_iov_live_view_map_show_deliveries (GtkWidget         *range_map,
                                    GtkWidget         *lanes,
                                    const IovDelivery *deliveries,
                                    guint              n_deliveries,
                                    gboolean           animate,
                                    GPtrArray         *known)
{
  /* every notifier of the device has its lane, not only those the events
   * reached (a strict guest's lower section hears nothing for a while) */
  g_autoptr(GPtrArray) notifiers = known ? g_ptr_array_copy (known, NULL, NULL) : g_ptr_array_new ();
  g_autoptr(GArray) events = g_array_new (FALSE, FALSE, sizeof (IovTlbEvent));
  g_autoptr(GArray) outcomes = g_array_new (FALSE, FALSE, sizeof (IovOutcome));
  g_autoptr(GByteArray) observed = g_byte_array_new ();
  guint64 last_line = G_MAXUINT64;
  const char *abort_text = NULL;

  g_return_if_fail (IOV_IS_RANGE_MAP (range_map));
  g_return_if_fail (IOV_IS_NOTIFIER_LANES (lanes));

  for (guint i = 0; i < n_deliveries; i++)
    {
      const IovDelivery *d = &deliveries[i];
      IovOutcome o = d->outcome;
      guint8 obs = d->kind == IOV_DELIVERY_OBSERVED;

      if (d->line != last_line || events->len == 0)
        {
          g_array_append_val (events, d->event);
          last_line = d->line;
        }
      if (d->notifier != NULL && !g_ptr_array_find (notifiers, d->notifier, NULL))
        g_ptr_array_add (notifiers, (gpointer) d->notifier);
      o.notifier = d->notifier;
      o.event = events->len - 1;
      if (o.result == IOV_RESULT_ABORT)
        abort_text = _("QEMU aborts here.");
      g_array_append_val (outcomes, o);
      g_byte_array_append (observed, &obs, 1);
    }

  iov_range_map_set_invalidations (IOV_RANGE_MAP (range_map),
                                   (const IovTlbEvent *) (gpointer) events->data, events->len);
  if (notifiers->len == 0)
    return;
  iov_notifier_lanes_set_bounds (IOV_NOTIFIER_LANES (lanes), iov_range_map_get_bounds (IOV_RANGE_MAP (range_map)));
  iov_notifier_lanes_set_step (IOV_NOTIFIER_LANES (lanes),
                               (const IovNotifier * const *) notifiers->pdata, notifiers->len,
                               (const IovTlbEvent *) (gpointer) events->data, events->len,
                               (const IovOutcome *) (gpointer) outcomes->data, outcomes->len,
                               abort_text);
  iov_notifier_lanes_set_observed (IOV_NOTIFIER_LANES (lanes), observed->data, observed->len);
  if (!animate)
    iov_notifier_lanes_finish_animation (IOV_NOTIFIER_LANES (lanes));
}
