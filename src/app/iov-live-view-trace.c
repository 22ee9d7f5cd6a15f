/* iov-live-view-trace.c — the live view's trace: one IovTraceDocument,
 * shown in the lanes, the timeline and the event list
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

#include <glib/gi18n.h>
#include <stdio.h>

#include "iov-live-view-private.h"
#include "iov-notifier-lanes.h"
#include "iov-range-map.h"
#include "iov-recording.h"

/* Main-loop time spent on trace input per tick; the reader drops (and
 * counts) what does not fit in its queue. */
#define TRACE_TICK_MS     40
#define TRACE_BUDGET_US   4000
#define LANES_EVERY_US    (700 * G_TIME_SPAN_MILLISECOND)
/* After a topology event, how long the inference waits for the snapshot
 * of that moment when the VM's topology did not change (no new one). */
#define TOPOLOGY_WAIT_MS  1000
/* How often the Traffic panel says its figures again while lines arrive
 * (the figures sort every counted time: not every tick). */
#define TRAFFIC_EVERY_US  (1000 * G_TIME_SPAN_MILLISECOND)

void
_iov_live_view_trace_init (IovLiveView *self)
{
  /* The document comes with a trace: a live source, a relay, a file. */
  iov_rate_tracks_set_timeline (self->rate_tracks, self->timeline);
}

/* Keeps the mappings of @domain. */
static void
only_domain (GArray  *mappings,
             guint32  domain)
{
  guint n = 0;

  for (guint i = 0; i < mappings->len; i++)
    if (g_array_index (mappings, IovMapping, i).domain == domain)
      g_array_index (mappings, IovMapping, n++) = g_array_index (mappings, IovMapping, i);
  g_array_set_size (mappings, n);
}

/* The timeline's cursor scrubs the address map (issue L): the selected
 * device's IOVA mappings as of that instant; a selected span shows them as
 * of its end, and what changed over it. virtio-iommu's trace says them
 * exactly (the domain the device's endpoint was attached to then), VT-d's
 * where QEMU's walks name the device's domain; elsewhere the map shows
 * none and the panel says why. */
static void
show_mappings (IovLiveView *self)
{
  IovMappings *mappings = self->doc ? iov_trace_document_get_mappings (self->doc) : NULL;
  IovEventStore *store = self->doc ? iov_trace_document_get_store (self->doc) : NULL;
  g_autoptr(GArray) at = NULL;
  g_autoptr(GArray) added = NULL;
  g_autoptr(GArray) removed = NULL;
  g_autofree char *text = NULL;
  g_autofree char *n = NULL;
  IovEventRecord first = { 0 };
  guint64 t0 = 0, t1 = 0;
  gboolean span, cursor;
  IovMappingsEndpoint where;
  guint32 domain = 0;
  unsigned bus, dev, fn;

  span = iov_timeline_get_selection (self->timeline, &t0, &t1);
  cursor = !span && iov_timeline_get_cursor (self->timeline, &t1);
  if (store != NULL)
    iov_event_store_get (store, 0, &first);
  if (mappings == NULL || self->selected_bdf == NULL || (!span && !cursor) ||
      sscanf (self->selected_bdf, "%x:%x.%x", &bus, &dev, &fn) != 3)
    where = IOV_MAPPINGS_ENDPOINT_UNKNOWN;
  else
    where = iov_mappings_endpoint_at (mappings, ((bus & 0xff) << 8) | ((dev & 0x1f) << 3) | (fn & 7), t1, &domain);
  if (where != IOV_MAPPINGS_ENDPOINT_IN_DOMAIN)
    {
      /* where the map has nothing to show, the panel says why */
      if (mappings == NULL || self->selected_bdf == NULL || (!span && !cursor))
        ;
      else if (iov_mappings_get_n_events (mappings) == 0)
        text = g_strdup (_("This trace has no map or unmap events: virtio-iommu traces them as virtio_iommu_map and "
                           "virtio_iommu_unmap; VT-d only where a MAP notifier makes QEMU walk the guest's tables "
                           "(vfio with caching mode, or QEMU 5.2's walks)."));
      else if (where == IOV_MAPPINGS_ENDPOINT_NONE)
        {
          g_autofree char *when = g_strdup_printf ("%.6f", t1 >= first.ts_ns ? (t1 - first.ts_ns) / 1e9 : 0.0);

          /* Translators: the Traffic panel at the timeline's cursor or a
           * span's end: the instant in seconds, the device */
          text = g_strdup_printf (_("At %s s, %s is in no domain: nothing is mapped for it."), when,
                                  self->selected_bdf);
        }
      else
        /* Translators: %s is the selected device */
        text = g_strdup_printf (_("The trace does not say which domain %s is in then (VT-d names a device's domain "
                                  "only when QEMU walks its tables right after invalidating its context, or replays "
                                  "them for vfio): its mappings are not shown."), self->selected_bdf);
      iov_range_map_set_mappings (IOV_RANGE_MAP (self->range_map), NULL, NULL, NULL);
      iov_traffic_panel_set_mappings (self->traffic_panel, text);
      iov_notifier_lanes_set_bounds (IOV_NOTIFIER_LANES (self->lanes),
                                     iov_range_map_get_bounds (IOV_RANGE_MAP (self->range_map)));
      return;
    }
  at = iov_mappings_at (mappings, t1);
  only_domain (at, domain);
  n = g_strdup_printf ("%'u", at->len);
  if (span)
    {
      g_autofree char *plus = NULL;
      g_autofree char *minus = NULL;

      iov_mappings_diff (mappings, t0, t1, &added, &removed);
      only_domain (added, domain);
      only_domain (removed, domain);
      plus = g_strdup_printf ("%'u", added->len);
      minus = g_strdup_printf ("%'u", removed->len);
      /* Translators: the Traffic panel, on the timeline's selected span:
       * ranges mapped at its end, the domain as QEMU prints it, then how
       * many were added and removed over the span */
      text = g_strdup_printf (_("At the selection's end, %s IOVA ranges are mapped in domain %s (white "
                                "on the map); over the selection, %s were mapped (green) and %s "
                                "unmapped (red)."), n, iov_mappings_get_domain_label (mappings, domain),
                              plus, minus);
    }
  else
    {
      g_autofree char *when = NULL;

      /* seconds since the trace's first event, as the timeline counts them */
      when = g_strdup_printf ("%.6f", t1 >= first.ts_ns ? (t1 - first.ts_ns) / 1e9 : 0.0);
      /* Translators: the Traffic panel, at the timeline's cursor: the
       * instant in seconds, how many ranges are mapped then and the domain
       * as QEMU prints it */
      text = g_strdup_printf (_("At %s s, %s IOVA ranges are mapped in domain %s (white on the map)."), when, n,
                              iov_mappings_get_domain_label (mappings, domain));
    }
  iov_range_map_set_mappings (IOV_RANGE_MAP (self->range_map), at, added, removed);
  iov_traffic_panel_set_mappings (self->traffic_panel, text);
  /* the map's axis gave the mappings a segment: the lanes share it */
  iov_notifier_lanes_set_bounds (IOV_NOTIFIER_LANES (self->lanes),
                                 iov_range_map_get_bounds (IOV_RANGE_MAP (self->range_map)));
}

/* The rate tracks and the Traffic panel show the selected device, or
 * every device when none is. */
void
_iov_live_view_traffic_device_changed (IovLiveView *self)
{
  iov_rate_tracks_set_device (self->rate_tracks, self->selected_bdf);
  iov_traffic_panel_set_device (self->traffic_panel, self->selected_bdf);
  show_mappings (self);
}

static void
update_traffic (IovLiveView *self)
{
  iov_traffic_panel_update (self->traffic_panel);
  self->last_traffic_us = g_get_monotonic_time ();
}

/* ---- the document ------------------------------------------------------ */

static void
update_event_list (IovLiveView *self)
{
  IovInference *inference = self->doc ? iov_trace_document_get_inference (self->doc) : NULL;

  if (self->doc == NULL)
    {
      iov_event_list_set_sources (self->event_list, NULL, NULL, NULL, NULL);
      return;
    }
  iov_event_list_set_sources (self->event_list, iov_trace_document_get_store (self->doc),
                              iov_trace_document_get_catalog (self->doc),
                              inference ? iov_trace_document_get_log (self->doc) : NULL,
                              inference ? iov_inference_get_profile (inference) : NULL);
}

static gboolean
topology_wait_cb (gpointer user_data)
{
  IovTraceDocument *doc = user_data;

  iov_trace_document_release (doc);
  return G_SOURCE_REMOVE;
}

/* The trace showed a switch, vhost starting…: the session takes a snapshot
 * now, which brings the notifiers of that moment. */
static void
topology_changed_cb (IovTraceDocument *doc,
                     guint64           line,
                     IovLiveView      *self)
{
  if (self->source != NULL)
    iov_vm_source_refresh_async (self->source, NULL, NULL, NULL);
  g_timeout_add_full (G_PRIORITY_DEFAULT, TOPOLOGY_WAIT_MS, topology_wait_cb, g_object_ref (doc), g_object_unref);
}

/* The views let go of the old document before it goes. */
static void
set_document (IovLiveView      *self,
              IovTraceDocument *doc)
{
  iov_event_list_set_sources (self->event_list, NULL, NULL, NULL, NULL);
  iov_timeline_set_store (self->timeline, doc ? iov_trace_document_get_store (doc) : NULL,
                          doc ? iov_trace_document_get_catalog (doc) : NULL);
  iov_rate_tracks_set_traffic (self->rate_tracks, doc ? iov_trace_document_get_traffic (doc) : NULL);
  iov_traffic_panel_set_traffic (self->traffic_panel, doc ? iov_trace_document_get_traffic (doc) : NULL);
  if (self->doc != NULL)
    g_signal_handlers_disconnect_by_data (self->doc, self);
  g_set_object (&self->doc, doc);
  self->lanes_mark = 0;
  if (doc != NULL)
    g_signal_connect (doc, "topology-changed", G_CALLBACK (topology_changed_cb), self);
  update_event_list (self);
}

static IovTraceDocument *
new_document (void)
{
  g_autoptr(GError) error = NULL;
  IovTraceCatalog *catalog = iov_trace_catalog_new_default (NULL, &error);

  if (catalog == NULL)
    {
      g_critical ("No trace catalogue: %s", error->message);
      catalog = iov_trace_catalog_new_builtin ();
    }
  return iov_trace_document_new (catalog, IOV_TRACE_DOCUMENT_KEEP_EVENTS);
}

/* A new snapshot: the first starts the inference, later ones bring the
 * notifiers that appeared (the inference is never rebuilt: what the trace
 * decided, flags and registrations, stays). */
void
_iov_live_view_trace_snapshot (IovLiveView *self)
{
  g_autoptr(GError) error = NULL;
  gboolean had = self->doc != NULL && iov_trace_document_get_inference (self->doc) != NULL;

  if (self->doc == NULL || self->snapshot == NULL || self->loading)
    return;
  if (!iov_trace_document_set_snapshot (self->doc, self->snapshot, &error))
    g_debug ("No inference: %s", error->message);
  if (!had && iov_trace_document_get_inference (self->doc) != NULL)
    update_event_list (self);
}

/* The inference's notifiers of @bdf (IovNotifier*, not owned), in
 * registration order; NULL without an inference. */
GPtrArray *
_iov_live_view_device_notifiers (IovLiveView *self,
                                 const char  *bdf)
{
  IovInference *inference = self->doc ? iov_trace_document_get_inference (self->doc) : NULL;
  GPtrArray *all, *mine;

  if (inference == NULL || bdf == NULL)
    return NULL;
  all = iov_inference_get_notifiers (inference);
  mine = g_ptr_array_new ();
  for (guint i = 0; i < all->len; i++)
    {
      const IovInferenceNotifier *n = g_ptr_array_index (all, i);

      if (g_strcmp0 (n->device, bdf) == 0)
        g_ptr_array_add (mine, (gpointer) n->notifier);
    }
  return mine;
}

/* ---- counters ----------------------------------------------------------- */

void
_iov_live_view_update_trace_label (IovLiveView *self)
{
  g_autofree char *text = NULL;
  guint64 n_lines = self->doc ? iov_trace_document_get_n_lines (self->doc) : 0;
  guint64 n_events = self->doc ? iov_trace_document_get_stats (self->doc)->events : 0;

  if (self->source != NULL && iov_vm_source_get_kind (self->source) == IOV_VM_SOURCE_RELAY && n_lines == 0 &&
      !iov_vm_source_has_trace (self->source))
    {
      gtk_label_set_text (self->trace_label,
                          _("The relay reads no trace for this VM (give it --vm NAME,qmp=…,trace=SOURCE): "
                            "the map follows snapshots only."));
      return;
    }
  if ((self->source == NULL || !iov_vm_source_has_trace (self->source)) && n_lines == 0 && !self->loading)
    {
      gtk_label_set_text (self->trace_label, _("No trace source: the map follows QMP snapshots only."));
      return;
    }
  {
    g_autofree char *lines = g_strdup_printf ("%" G_GUINT64_FORMAT, n_lines);
    g_autofree char *events = g_strdup_printf ("%" G_GUINT64_FORMAT, n_events);
    g_autofree char *deliveries = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                                   self->doc ? iov_trace_document_get_n_delivered (self->doc) : 0);
    g_autofree char *observed = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                                 self->doc ? iov_trace_document_get_n_observed (self->doc) : 0);
    g_autofree char *dropped = g_strdup_printf ("%" G_GUINT64_FORMAT, self->n_dropped);

    /* Translators: the trace counters under the lanes; each %s is a number.
     * "deliveries" counts what notifiers received, cropped ones included. */
    text = g_strdup_printf (_("%s lines · %s events · %s deliveries (%s observed) · %s dropped"),
                            lines, events, deliveries, observed, dropped);
    if (self->loading)
      {
        g_autofree char *reading = g_strdup_printf (_("Reading… %s"), text);

        g_free (text);
        text = g_steal_pointer (&reading);
      }
  }
  if ((self->doc == NULL || iov_trace_document_get_inference (self->doc) == NULL) && n_events > 0)
    {
      g_autofree char *more = g_strconcat (text, " · ", _("no snapshot yet, so no deliveries inferred"), NULL);

      g_free (text);
      text = g_steal_pointer (&more);
    }
  else if (self->doc != NULL && iov_trace_document_get_inference (self->doc) != NULL)
    {
      IovInference *inference = iov_trace_document_get_inference (self->doc);
      GPtrArray *notifiers = iov_inference_get_notifiers (inference);
      GPtrArray *notes = iov_inference_get_notes (inference);
      g_autofree char *tooltip = NULL;

      /* Where the selected device's notifier flags come from (issue H):
       * an assumption is shown as one until the trace decides. */
      for (guint i = 0; i < notifiers->len; i++)
        {
          const IovInferenceNotifier *n = g_ptr_array_index (notifiers, i);
          g_autofree char *flags = NULL;
          g_autofree char *more = NULL;

          if (g_strcmp0 (n->device, self->selected_bdf) != 0)
            continue;
          flags = iov_flags_to_string (n->notifier->flags);
          if (g_str_equal (n->flags_source, "assumed"))
            /* Translators: %s is a notifier flag, e.g. "unmap" */
            more = g_strdup_printf (_("%s · flags %s, assumed until the trace decides"), text, flags);
          else if (g_str_equal (n->flags_source, "trace"))
            more = g_strdup_printf (_("%s · flags %s, decided by the trace"), text, flags);
          else
            more = g_strdup_printf (_("%s · flags %s"), text, flags);
          g_free (text);
          text = g_steal_pointer (&more);
          break;
        }
      if (iov_inference_get_abort (inference) != NULL)
        {
          g_autofree char *line = g_strdup_printf ("%" G_GUINT64_FORMAT, iov_inference_get_abort (inference)->line);
          /* Translators: %s is a trace line number */
          g_autofree char *more = g_strdup_printf (_("%s · QEMU would abort at line %s"), text, line);

          g_free (text);
          text = g_steal_pointer (&more);
        }
      if (notes->len > 0)
        {
          g_ptr_array_add (notes, NULL);
          tooltip = g_strjoinv ("\n", (char **) notes->pdata);
          g_ptr_array_remove_index (notes, notes->len - 1);
        }
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->trace_label), tooltip);
    }
  gtk_label_set_text (self->trace_label, text);
}

/* ---- the lanes ---------------------------------------------------------- */

/* Deliveries [@first, @end) of the log, of the selected device: the last
 * MAX_SHOWN_EVENTS events as a step, and the number of events in all. */
static guint64
collect_deliveries (IovLiveView    *self,
                    IovDeliveryLog *log,
                    guint64         first,
                    guint64         end,
                    GArray         *mine)
{
  guint64 n_events = 0, last_event = G_MAXUINT64, start = end;

  for (guint64 i = end; i > first; i--)
    {
      guint64 event;
      const IovDelivery *d = iov_delivery_log_get (log, i - 1, &event);

      if (g_strcmp0 (d->device, self->selected_bdf) != 0)
        continue;
      if (event != last_event)
        {
          n_events++;
          last_event = event;
        }
      if (n_events <= MAX_SHOWN_EVENTS)
        start = i - 1;
    }
  for (guint64 i = start; mine != NULL && i < end; i++)
    {
      const IovDelivery *d = iov_delivery_log_get (log, i, NULL);

      if (g_strcmp0 (d->device, self->selected_bdf) == 0)
        g_array_append_val (mine, *d);
    }
  return n_events;
}

/* The lanes follow the latest events of the selected device, or show the
 * timeline's selection; when there are more events than can be shown one
 * by one, each lane counts what its notifier got instead (the animation
 * never falls behind the data). */
void
_iov_live_view_show_lanes (IovLiveView *self,
                           gboolean     animate)
{
  g_autoptr(GArray) mine = g_array_new (FALSE, FALSE, sizeof (IovDelivery));
  IovDeliveryLog *log = self->doc ? iov_trace_document_get_log (self->doc) : NULL;
  IovEventStore *store = self->doc ? iov_trace_document_get_store (self->doc) : NULL;
  guint64 n = log ? iov_delivery_log_get_n (log) : 0;
  guint64 first, end, n_events, t0, t1;
  gboolean selection = iov_timeline_get_selection (self->timeline, &t0, &t1) && store != NULL;
  g_autofree char *caption = NULL;

  if (self->selected_bdf == NULL || log == NULL)
    return;
  gtk_label_set_text (self->lanes_title, selection ? _("Deliveries in the Selection")
                                         : gtk_toggle_button_get_active (self->follow_button)
                                         ? _("Latest Deliveries") : _("Latest Deliveries, Paused"));
  if (selection)
    {
      guint64 e0 = iov_event_store_lower_bound (store, t0);
      guint64 e1 = t1 == G_MAXUINT64 ? iov_event_store_get_n_events (store)
                                     : iov_event_store_lower_bound (store, t1 + 1);

      iov_delivery_log_find (log, e0, e1, &first, &end);
      n_events = collect_deliveries (self, log, first, end, mine);
      if (n_events > MAX_SHOWN_EVENTS)
        {
          g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, n_events);

          /* Translators: the lanes' caption, %s is a number */
          caption = g_strdup_printf (_("%s events in the selection, counted"), count);
        }
      animate = FALSE;
    }
  else
    {
      /* Sample: the latest events; count: those since the last update. */
      first = MIN (self->lanes_mark, n);
      end = n;
      collect_deliveries (self, log, end > MAX_LOOK_BACK ? end - MAX_LOOK_BACK : 0, end, mine);
      n_events = collect_deliveries (self, log, first, end, NULL);
      if (n_events > MAX_SHOWN_EVENTS)
        {
          g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, n_events);

          if (self->recording_name != NULL)
            /* Translators: the lanes' caption for a whole file, %s is a number */
            caption = g_strdup_printf (_("%s events in this trace, counted"), count);
          else
            /* Translators: the lanes' caption under load, %s is a number */
            caption = g_strdup_printf (_("%s events since the last update: too many to animate, counted"), count);
        }
    }
  self->lanes_mark = n;
  if (mine->len == 0)
    {
      GtkListBoxRow *row = gtk_list_box_get_selected_row (self->space_list);

      /* Nothing in the selection: the lanes empty, not the last ones kept. */
      if (selection && row != NULL)
        _iov_live_view_show_space (self, row);
      return;
    }
  {
    g_autoptr(GPtrArray) known = _iov_live_view_device_notifiers (self, self->selected_bdf);

    _iov_live_view_map_show_deliveries (self->range_map, self->lanes,
                                        (const IovDelivery *) (gpointer) mine->data, mine->len,
                                        animate && caption == NULL, known);
  }
  if (caption != NULL)
    {
      g_autoptr(GArray) counts = iov_delivery_log_count (log, self->selected_bdf, first, end);

      iov_notifier_lanes_set_counts (IOV_NOTIFIER_LANES (self->lanes), caption,
                                     (const IovDeliveryCount *) (gpointer) counts->data, counts->len);
    }
  self->last_lanes_us = g_get_monotonic_time ();
}

/* ---- following a source ------------------------------------------------- */

static gboolean
trace_tick_cb (gpointer user_data)
{
  IovLiveView *self = user_data;
  gint64 start = g_get_monotonic_time ();
  guint64 arrival_ns = (guint64) g_get_monotonic_time () * 1000;
  guint64 n_events, first_joined, n_deliveries;
  g_autoptr(GError) error = NULL;

  while (g_get_monotonic_time () - start < TRACE_BUDGET_US &&
         iov_vm_source_feed (self->source, self->doc, arrival_ns))
    ;
  iov_trace_document_take_news (self->doc, &n_events, &first_joined, &n_deliveries);
  /* QEMU writes: the hint on how to start it has done its job */
  if (n_events > 0 && self->hint_toast != NULL)
    {
      adw_toast_dismiss (self->hint_toast);
      g_clear_weak_pointer (&self->hint_toast);
    }
  if (n_events > 0)
    {
      iov_timeline_events_appended (self->timeline);
      iov_rate_tracks_changed (self->rate_tracks);
      iov_event_list_sources_grew (self->event_list);
      if (g_get_monotonic_time () - self->last_traffic_us > TRAFFIC_EVERY_US)
        update_traffic (self);
    }
  if (first_joined != IOV_DELIVERY_LOG_NO_EVENT)
    iov_event_list_deliveries_added (self->event_list, first_joined);
  self->n_dropped = iov_vm_source_get_dropped (self->source);
  iov_trace_document_set_dropped (self->doc, self->n_dropped);

  if (n_deliveries > 0 && g_get_monotonic_time () - self->last_lanes_us > LANES_EVERY_US &&
      gtk_toggle_button_get_active (self->follow_button) &&
      !iov_timeline_get_selection (self->timeline, NULL, NULL))
    _iov_live_view_show_lanes (self, TRUE);
  _iov_live_view_update_trace_label (self);

  if (iov_vm_source_trace_ended (self->source, &error))
    {
      /* a file read to its end: what waited for evidence is settled */
      iov_trace_document_finish (self->doc);
      iov_trace_document_take_news (self->doc, NULL, &first_joined, NULL);
      update_traffic (self);
      iov_rate_tracks_changed (self->rate_tracks);
      if (first_joined != IOV_DELIVERY_LOG_NO_EVENT)
        iov_event_list_deliveries_added (self->event_list, first_joined);
      _iov_live_view_update_trace_label (self);
      if (error != NULL)
        {
          AdwToast *toast = adw_toast_new (error->message);

          adw_toast_set_timeout (toast, 0);
          adw_toast_overlay_add_toast (self->toast_overlay, toast);
        }
      self->trace_tick_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

void
_iov_live_view_stop_trace (IovLiveView *self)
{
  g_clear_handle_id (&self->trace_tick_id, g_source_remove);
  set_document (self, NULL);
  self->n_dropped = 0;
}

/* A trace that follows a VM: a new document, fed every tick. */
static void
follow (IovLiveView *self)
{
  g_autoptr(IovTraceDocument) doc = new_document ();

  /* A local session can be asked for the topology after a switch. */
  iov_trace_document_set_follow_topology (doc, self->source != NULL && iov_vm_source_follows_topology (self->source));
  set_document (self, doc);
  _iov_live_view_trace_snapshot (self);
  self->trace_tick_id = g_timeout_add (TRACE_TICK_MS, trace_tick_cb, self);
}

void
_iov_live_view_follow_source (IovLiveView *self)
{
  IovTraceReader *reader = iov_vm_source_get_reader (self->source);

  follow (self);
  if (reader != NULL && (iov_trace_reader_get_kind (reader) == IOV_TRACE_SOURCE_FIFO ||
                         iov_trace_reader_get_kind (reader) == IOV_TRACE_SOURCE_UNIX))
    {
      g_autofree char *msg = g_strdup_printf (_("Reading the trace at %s; start QEMU with: %s"),
                                              iov_trace_reader_get_path (reader),
                                              iov_trace_reader_get_qemu_hint (reader));
      AdwToast *toast = adw_toast_new (msg);

      adw_toast_set_timeout (toast, 0);
      g_set_weak_pointer (&self->hint_toast, toast);
      adw_toast_overlay_add_toast (self->toast_overlay, toast);
    }
}

/* ---- recordings and trace logs ------------------------------------------ */

static void
load_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(IovLiveView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(IovTraceDocument) doc = iov_trace_document_load_finish (result, &error);
  IovEventStore *store;
  IovEventRecord first, last;
  guint64 n;

  if (doc == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          AdwToast *toast = adw_toast_new (error->message);

          self->loading = FALSE;
          adw_toast_set_timeout (toast, 0);
          adw_toast_overlay_add_toast (self->toast_overlay, toast);
          _iov_live_view_update_trace_label (self);
        }
      return;
    }

  self->loading = FALSE;
  set_document (self, doc);
  store = iov_trace_document_get_store (doc);
  n = iov_event_store_get_n_events (store);
  /* A file is over: show all of it rather than follow its end. */
  if (n > 0 && iov_event_store_get (store, 0, &first) && iov_event_store_get (store, n - 1, &last))
    {
      /* a lone instant gets a second around it */
      if (last.ts_ns <= first.ts_ns)
        iov_timeline_set_range (self->timeline, first.ts_ns - MIN (first.ts_ns, G_USEC_PER_SEC * 500),
                                first.ts_ns + G_USEC_PER_SEC * 500);
      else
        iov_timeline_set_range (self->timeline, first.ts_ns, last.ts_ns + 1);
    }
  _iov_live_view_show_lanes (self, FALSE);
  _iov_live_view_update_trace_label (self);
}

gboolean
_iov_live_view_open_file (IovLiveView  *self,
                          GFile        *file,
                          GError      **error)
{
  g_autofree char *path = g_file_get_path (file);
  g_autofree char *basename = NULL;
  g_autofree char *status = NULL;
  g_autoptr(GBytes) text = NULL;
  g_autoptr(JsonNode) snapshot = NULL;

  if (path == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Cannot open “%s”: recordings and traces must be local files"),
                   g_file_peek_path (file) ? g_file_peek_path (file) : "?");
      return FALSE;
    }
  if (iov_recording_is_recording (path))
    {
      g_autoptr(IovRecording) recording = iov_recording_load (path, error);
      gsize len;

      if (recording == NULL)
        return FALSE;
      len = recording->trace->len;
      text = g_bytes_new_take (g_string_free (g_steal_pointer (&recording->trace), FALSE), len);
      if (recording->snapshots != NULL && recording->snapshots->len > 0)
        snapshot = json_node_copy (g_ptr_array_index (recording->snapshots, recording->snapshots->len - 1));
    }
  else if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   _("Cannot open “%s”: not a recording or a trace log"), path);
      return FALSE;
    }

  _iov_live_view_reset (self);
  self->source_path = g_strdup (path);
  basename = g_file_get_basename (file);
  self->recording_name = g_strdup (basename);
  /* Translators: the header's subtitle, %s is the file's name */
  status = g_strdup_printf (_("Recording · %s"), basename);
  _iov_live_view_set_status (self, status);

  self->loading = TRUE;
  if (snapshot != NULL)
    _iov_live_view_set_snapshot (self, snapshot);
  else
    {
      /* The events are still worth a look: the timeline and the list work
       * without a snapshot, only the map and the inference need one. */
      _iov_live_view_map_show_space (self->range_map, self->lanes, NULL, _("No Address Spaces Recorded"),
                                     _("This trace has no QMP snapshot. Record with “iovista-cli trace SOURCE "
                                       "--qmp ADDRESS --record FILE.iovista” to keep both."), 0, NULL);
      gtk_stack_set_visible_child_name (self->stack, "content");
    }
  _iov_live_view_update_trace_label (self);
  iov_trace_document_load_async (text ? NULL : path, text, snapshot, self->cancellable, load_done_cb,
                                 g_object_ref (self));
  return TRUE;
}

/* ---- the timeline's selection and the event list ------------------------ */

void
_iov_live_view_timeline_selection_cb (IovLiveView *self,
                                      IovTimeline *timeline)
{
  IovDeliveryLog *log = self->doc ? iov_trace_document_get_log (self->doc) : NULL;
  guint64 t0 = 0, t1 = 0;
  gboolean limited = iov_timeline_get_selection (timeline, &t0, &t1);

  iov_event_list_set_time_range (self->event_list, limited, t0, t1);
  show_mappings (self);
  if (!limited)  /* back to the latest events, without counting them again */
    self->lanes_mark = log ? iov_delivery_log_get_n (log) : 0;
  _iov_live_view_show_lanes (self, FALSE);
}

void
_iov_live_view_timeline_cursor_cb (IovLiveView *self,
                                   IovTimeline *timeline)
{
  show_mappings (self);
}

void
_iov_live_view_show_in_map_cb (IovLiveView  *self,
                               const char   *device,
                               guint64       iova,
                               guint64       addr_mask,
                               IovEventList *list)
{
  IovTlbEvent flash = { iova, addr_mask, 0, IOV_NOTIFIER_UNMAP, IOV_PERM_NONE };

  if (device != NULL && g_strcmp0 (device, self->selected_bdf) != 0)
    _iov_live_view_select_device (self, device, TRUE);
  iov_range_map_set_invalidations (IOV_RANGE_MAP (self->range_map), &flash, 1);
  gtk_widget_grab_focus (self->range_map);
}

void
_iov_live_view_follow_toggled_cb (IovLiveView     *self,
                                  GtkToggleButton *button)
{
  gboolean follow = gtk_toggle_button_get_active (button);
  IovDeliveryLog *log = self->doc ? iov_trace_document_get_log (self->doc) : NULL;

  gtk_button_set_icon_name (GTK_BUTTON (button), follow ? "media-playback-pause-symbolic"
                                                        : "media-playback-start-symbolic");
  if (follow)
    {
      /* back to now: what came meanwhile is not news any more */
      self->lanes_mark = log ? iov_delivery_log_get_n (log) : 0;
      _iov_live_view_show_lanes (self, FALSE);
    }
  else
    gtk_label_set_text (self->lanes_title, _("Latest Deliveries, Paused"));
}

void
_iov_live_view_speed_selected_cb (IovLiveView *self,
                                  GParamSpec  *pspec,
                                  GtkDropDown *dropdown)
{
  static const double speeds[] = { 0.5, 1, 2, 4 };
  guint selected = gtk_drop_down_get_selected (dropdown);

  if (selected < G_N_ELEMENTS (speeds))
    iov_notifier_lanes_set_speed (IOV_NOTIFIER_LANES (self->lanes), speeds[selected]);
}

/* Stepping through the list plays each event in the lanes: following
 * pauses so that the event stays. */
void
_iov_live_view_event_selected_cb (IovLiveView  *self,
                                  guint64       index,
                                  IovEventList *list)
{
  g_autoptr(GArray) mine = g_array_new (FALSE, FALSE, sizeof (IovDelivery));
  IovDeliveryLog *log = self->doc ? iov_trace_document_get_log (self->doc) : NULL;
  guint64 d0 = 0, d1 = 0;
  const char *device = NULL;

  if (index == G_MAXUINT64 || log == NULL)
    return;
  iov_delivery_log_find (log, index, index + 1, &d0, &d1);
  if (d0 == d1)
    {
      GtkListBoxRow *row = gtk_list_box_get_selected_row (self->space_list);

      /* nothing reached a notifier: empty lanes, not the last event's */
      gtk_toggle_button_set_active (self->follow_button, FALSE);
      if (row != NULL)
        _iov_live_view_show_space (self, row);
      gtk_label_set_text (self->lanes_title, _("The Selected Event Reached No Notifier"));
      return;
    }
  device = iov_delivery_log_get (log, d0, NULL)->device;
  if (g_strcmp0 (device, self->selected_bdf) != 0)
    _iov_live_view_select_device (self, device, FALSE);
  gtk_toggle_button_set_active (self->follow_button, FALSE);
  for (guint64 i = d0; i < d1; i++)
    {
      const IovDelivery *d = iov_delivery_log_get (log, i, NULL);

      if (g_strcmp0 (d->device, self->selected_bdf) == 0)
        g_array_append_val (mine, *d);
    }
  if (mine->len == 0)
    return;
  gtk_label_set_text (self->lanes_title, _("The Selected Event"));
  {
    g_autoptr(GPtrArray) known = _iov_live_view_device_notifiers (self, self->selected_bdf);

    _iov_live_view_map_show_deliveries (self->range_map, self->lanes,
                                        (const IovDelivery *) (gpointer) mine->data, mine->len, TRUE, known);
  }
}
