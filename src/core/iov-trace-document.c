/* iov-trace-document.c
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

#define G_LOG_DOMAIN "iov-trace-document"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "iov-trace-document.h"

/* The pipeline parse → count → store → inference → deliveries, once. A line
 * is counted and stored as it comes; the inference may have to wait for the
 * topology of its moment (a snapshot asked for after a topology event), so
 * its input lines wait here meanwhile, with their line numbers. */

/* A held backlog larger than this is judged with the topology at hand. */
#define HELD_MAX (1024 * 1024)

typedef struct
{
  gsize   offset;
  gsize   len;
  guint64 lineno;
  guint64 ts_ns;
} HeldLine;

struct _IovTraceDocument
{
  GObject                parent_instance;

  IovTraceDocumentFlags  flags;
  IovTraceCatalog       *catalog;
  IovTraceStats          stats;
  IovEventStore         *store;
  IovDeliveryLog        *log;
  GArray                *other_lines;  /* guint64: lines that are no stored event (KEEP_EVENTS) */
  IovInference          *inference;
  JsonNode              *snapshot;
  GArray                *deliveries;   /* all of them (KEEP_DELIVERIES), else the last feed's */
  guint64                n_delivered;
  guint64                n_observed;
  IovTraffic            *traffic;
  IovMappings           *mappings;

  gboolean               follow_topology;
  gboolean               holding;
  guint64                trigger_line;
  GString               *held_text;
  GArray                *held_lines;   /* HeldLine */

  guint64                news_events;
  guint64                news_first_joined;
  guint64                news_deliveries;
};

G_DEFINE_FINAL_TYPE (IovTraceDocument, iov_trace_document, G_TYPE_OBJECT)

enum {
  SIGNAL_TOPOLOGY_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
iov_trace_document_finalize (GObject *object)
{
  IovTraceDocument *self = IOV_TRACE_DOCUMENT (object);

  /* the store and the log borrow the catalogue and the inference */
  g_clear_pointer (&self->log, iov_delivery_log_free);
  g_clear_pointer (&self->store, iov_event_store_free);
  g_clear_pointer (&self->other_lines, g_array_unref);
  g_clear_pointer (&self->inference, iov_inference_free);
  g_clear_pointer (&self->snapshot, json_node_unref);
  g_clear_pointer (&self->deliveries, g_array_unref);
  g_clear_pointer (&self->traffic, iov_traffic_free);
  g_clear_pointer (&self->mappings, iov_mappings_free);
  iov_trace_stats_clear (&self->stats);
  g_clear_pointer (&self->catalog, iov_trace_catalog_free);
  g_string_free (self->held_text, TRUE);
  g_array_unref (self->held_lines);

  G_OBJECT_CLASS (iov_trace_document_parent_class)->finalize (object);
}

static void
iov_trace_document_class_init (IovTraceDocumentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = iov_trace_document_finalize;

  /**
   * IovTraceDocument::topology-changed:
   * @line: the trace line of the event
   *
   * The trace showed an event after which QEMU's notifiers may have
   * changed: a live source answers with a snapshot (set_snapshot()).
   */
  signals[SIGNAL_TOPOLOGY_CHANGED] =
    g_signal_new ("topology-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_UINT64);
}

static void
iov_trace_document_init (IovTraceDocument *self)
{
  iov_trace_stats_init (&self->stats);
  self->deliveries = g_array_new (FALSE, FALSE, sizeof (IovDelivery));
  self->traffic = iov_traffic_new ();
  self->mappings = iov_mappings_new ();
  self->held_text = g_string_new (NULL);
  self->held_lines = g_array_new (FALSE, FALSE, sizeof (HeldLine));
  self->news_first_joined = IOV_DELIVERY_LOG_NO_EVENT;
}

/**
 * iov_trace_document_new:
 * @catalog: (transfer full): the trace events' catalogue
 */
IovTraceDocument *
iov_trace_document_new (IovTraceCatalog       *catalog,
                        IovTraceDocumentFlags  flags)
{
  IovTraceDocument *self = g_object_new (IOV_TYPE_TRACE_DOCUMENT, NULL);

  g_return_val_if_fail (catalog != NULL, NULL);

  self->catalog = catalog;
  self->flags = flags;
  if (flags & IOV_TRACE_DOCUMENT_KEEP_EVENTS)
    {
      self->store = iov_event_store_new (catalog);
      self->log = iov_delivery_log_new ();
      self->other_lines = g_array_new (FALSE, FALSE, sizeof (guint64));
    }
  return self;
}

void
iov_trace_document_set_follow_topology (IovTraceDocument *self,
                                        gboolean          follow)
{
  g_return_if_fail (IOV_IS_TRACE_DOCUMENT (self));
  self->follow_topology = follow;
  if (!follow)
    iov_trace_document_release (self);
}

/* Deliveries the inference let go of since @before: counted, joined to
 * the store's events, kept. */
static void
take_deliveries (IovTraceDocument *self,
                 guint             before)
{
  guint n = self->deliveries->len - before;

  if (n == 0)
    return;
  for (guint i = before; i < self->deliveries->len; i++)
    {
      const IovDelivery *d = &g_array_index (self->deliveries, IovDelivery, i);

      if (d->outcome.result == IOV_RESULT_DELIVERED)
        self->n_delivered++;
      if (d->kind == IOV_DELIVERY_OBSERVED)
        self->n_observed++;
    }
  if (self->log != NULL)
    {
      guint64 first;

      iov_delivery_log_add (self->log, &g_array_index (self->deliveries, IovDelivery, before), n, &first);
      self->news_first_joined = MIN (self->news_first_joined, first);
    }
  self->news_deliveries += n;
  if (!(self->flags & IOV_TRACE_DOCUMENT_KEEP_DELIVERIES))
    g_array_set_size (self->deliveries, before);
}

static void
infer (IovTraceDocument *self,
       const char       *name,
       gsize             name_len,
       const char       *args,
       gsize             args_len,
       guint64           ts_ns,
       guint64           lineno)
{
  char buf[128];
  guint before = self->deliveries->len;

  if (name_len >= sizeof buf)
    return;
  memcpy (buf, name, name_len);
  buf[name_len] = '\0';
  iov_inference_feed (self->inference, ts_ns, lineno, buf, args, args_len, self->deliveries);
  take_deliveries (self, before);
}

static void
keep_lines_for_joins (IovTraceDocument *self)
{
  guint64 from = self->inference ? iov_inference_get_oldest_held_line (self->inference) : G_MAXUINT64;

  if (self->log == NULL)
    return;
  if (self->held_lines->len > 0)
    from = MIN (from, g_array_index (self->held_lines, HeldLine, 0).lineno);
  iov_delivery_log_keep_from (self->log, from);
}

static gboolean
name_is (const IovTraceLine *line,
         const char         *name)
{
  return strlen (name) == line->name_len && memcmp (name, line->name, line->name_len) == 0;
}

static gboolean
has_vhost_notifier (IovTraceDocument *self)
{
  GPtrArray *notifiers = self->inference ? iov_inference_get_notifiers (self->inference) : NULL;

  for (guint i = 0; notifiers != NULL && i < notifiers->len; i++)
    if (g_strcmp0 (((IovInferenceNotifier *) g_ptr_array_index (notifiers, i))->notifier->owner, "vhost") == 0)
      return TRUE;
  return FALSE;
}

/* Events after which the notifiers may have changed: an address space
 * switched, vhost started or stopped (11.1: _in), virtio-iommu's notifier
 * flags, a device writing its PCI command register (bus mastering brings
 * its DMA address space: 5.2 traces no switch after it), and a first
 * IOTLB miss where no vhost notifier is known (5.2 has no vhost_dev_start). */
static gboolean
is_topology_event (IovTraceDocument   *self,
                   const IovTraceLine *line)
{
  static const char *names[] = {
    "vtd_switch_address_space", "vhost_dev_start", "vhost_dev_stop", "vhost_dev_start_in",
    "vhost_dev_stop_in", "virtio_iommu_notify_flag_add", "virtio_iommu_notify_flag_del",
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (name_is (line, names[i]))
      return TRUE;
  if (name_is (line, "pci_cfg_write"))
    {
      g_autofree char *args = g_strndup (line->args, line->args_len);

      return strstr (args, " @0x4 <- ") != NULL;
    }
  if (name_is (line, "vhost_iotlb_miss"))
    return !has_vhost_notifier (self);
  return FALSE;
}

void
iov_trace_document_feed_parsed (IovTraceDocument   *self,
                                const IovTraceLine *line,
                                guint64             arrival_ns)
{
  guint64 lineno;

  g_return_if_fail (IOV_IS_TRACE_DOCUMENT (self));

  iov_trace_stats_add (&self->stats, self->catalog, line);
  lineno = self->stats.lines;
  if (line->kind != IOV_TRACE_LINE_EVENT)
    {
      /* few (QEMU's own messages): enough to number every event's line */
      if (self->other_lines != NULL)
        g_array_append_val (self->other_lines, lineno);
      return;
    }
  if (!(self->flags & IOV_TRACE_DOCUMENT_COUNT_ONLY))
    {
      iov_traffic_feed (self->traffic, line);
      iov_mappings_feed (self->mappings, line);
    }
  if (self->store != NULL)
    {
      guint64 index = iov_event_store_append_line (self->store, line, arrival_ns);

      iov_delivery_log_note_event (self->log, lineno, index);
      self->news_events++;
    }

  if (self->follow_topology && is_topology_event (self, line))
    {
      if (!self->holding)
        self->trigger_line = lineno;
      self->holding = TRUE;
      g_signal_emit (self, signals[SIGNAL_TOPOLOGY_CHANGED], 0, lineno);
    }
  /* Waiting for a topology: the first one, or the one of this moment. */
  if (self->holding || (self->inference == NULL && self->follow_topology))
    {
      /* name and arguments, as one text: "name args" */
      HeldLine h = { self->held_text->len, line->name_len + 1 + line->args_len, lineno,
                     line->has_ts ? line->ts_ns : 0 };

      g_string_append_len (self->held_text, line->name, line->name_len);
      g_string_append_c (self->held_text, ' ');
      g_string_append_len (self->held_text, line->args, line->args_len);
      g_array_append_val (self->held_lines, h);
      if (self->held_lines->len >= HELD_MAX)
        iov_trace_document_release (self);
      keep_lines_for_joins (self);
      return;
    }
  if (self->inference != NULL)
    {
      infer (self, line->name, line->name_len, line->args, line->args_len, line->has_ts ? line->ts_ns : 0, lineno);
      keep_lines_for_joins (self);
    }
}

void
iov_trace_document_feed_line (IovTraceDocument *self,
                              const char       *text,
                              gsize             len,
                              gboolean          cut,
                              guint64           arrival_ns)
{
  IovTraceLine line;

  if (cut)
    self->stats.cut++;
  iov_trace_parse_line (self->catalog, text, len, &line);
  iov_trace_document_feed_parsed (self, &line, arrival_ns);
}

typedef struct
{
  IovTraceDocument *self;
  guint64           arrival_ns;
} FeedData;

static void
feed_one (const char *text,
          gsize       len,
          gboolean    cut,
          gpointer    user_data)
{
  FeedData *f = user_data;

  iov_trace_document_feed_line (f->self, text, len, cut, f->arrival_ns);
}

void
iov_trace_document_feed (IovTraceDocument *self,
                         const char       *data,
                         gsize             len,
                         guint64           arrival_ns)
{
  FeedData f = { self, arrival_ns };

  g_return_if_fail (IOV_IS_TRACE_DOCUMENT (self));
  iov_trace_split_lines (data, len, feed_one, &f);
}

/**
 * iov_trace_document_release:
 *
 * The lines that waited for a topology go to the inference now, judged
 * with the topology at hand (none: they are only counted).
 */
void
iov_trace_document_release (IovTraceDocument *self)
{
  g_return_if_fail (IOV_IS_TRACE_DOCUMENT (self));

  self->holding = FALSE;
  if (self->inference != NULL)
    for (guint i = 0; i < self->held_lines->len; i++)
      {
        const HeldLine *h = &g_array_index (self->held_lines, HeldLine, i);
        const char *text = self->held_text->str + h->offset;
        const char *sp = memchr (text, ' ', h->len);
        gsize name_len = sp ? (gsize) (sp - text) : h->len;

        infer (self, text, name_len, text + name_len + 1, h->len - name_len - 1, h->ts_ns, h->lineno);
      }
  g_array_set_size (self->held_lines, 0);
  g_string_truncate (self->held_text, 0);
  keep_lines_for_joins (self);
}

gboolean
iov_trace_document_set_snapshot (IovTraceDocument  *self,
                                 JsonNode          *snapshot,
                                 GError           **error)
{
  g_autoptr(IovSnapshotInfo) info = NULL;
  g_autoptr(GError) local = NULL;
  gboolean ok;

  g_return_val_if_fail (IOV_IS_TRACE_DOCUMENT (self), FALSE);
  g_return_val_if_fail (snapshot != NULL, FALSE);

  /* read once, by the one reader, for the inference and the traffic */
  info = iov_snapshot_info_new_from_json (snapshot, &local);
  ok = info != NULL;
  if (!ok)
    g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, _("snapshot: %s"), local->message);
  else if (self->inference == NULL)
    self->inference = iov_inference_new_from_info (info, NULL);
  else
    iov_inference_update_topology_from_info (self->inference, info,
                                             self->held_lines->len > 0 && self->holding ? self->trigger_line
                                                                                         : self->stats.lines + 1);
  if (ok)
    {
      g_clear_pointer (&self->snapshot, json_node_unref);
      self->snapshot = json_node_copy (snapshot);
      iov_traffic_add_snapshot (self->traffic, info);
    }
  iov_trace_document_release (self);
  return ok;
}

void
iov_trace_document_finish (IovTraceDocument *self)
{
  guint before;

  g_return_if_fail (IOV_IS_TRACE_DOCUMENT (self));

  iov_trace_document_release (self);
  if (self->inference == NULL)
    return;
  before = self->deliveries->len;
  iov_inference_finish (self->inference, self->deliveries);
  take_deliveries (self, before);
}

/* ---- files and recordings, on a thread ---------------------------------- */

typedef struct
{
  char     *path;
  GBytes   *text;
  JsonNode *snapshot;
} Load;

static void
load_free (Load *load)
{
  g_free (load->path);
  g_clear_pointer (&load->text, g_bytes_unref);
  g_clear_pointer (&load->snapshot, json_node_unref);
  g_free (load);
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Load *load = task_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) contents = NULL;
  g_autoptr(IovTraceDocument) self = NULL;
  IovTraceCatalog *catalog;
  const char *data;
  gsize len;

  catalog = iov_trace_catalog_new_default (NULL, &error);
  if (catalog == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  self = iov_trace_document_new (catalog, IOV_TRACE_DOCUMENT_KEEP_EVENTS);
  if (load->path != NULL)
    {
      g_autofree char *text = NULL;

      if (!g_file_get_contents (load->path, &text, &len, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      contents = g_bytes_new_take (g_steal_pointer (&text), len);
    }
  else
    contents = g_bytes_ref (load->text);
  /* A snapshot that cannot be read still leaves the events to look at. */
  if (load->snapshot != NULL && !iov_trace_document_set_snapshot (self, load->snapshot, &error))
    g_debug ("No inference: %s", error->message);
  data = g_bytes_get_data (contents, &len);
  iov_trace_document_feed (self, data, len, 0);
  iov_trace_document_finish (self);
  g_task_return_pointer (task, g_steal_pointer (&self), g_object_unref);
}

/**
 * iov_trace_document_load_async:
 * @path: (nullable): a plain trace log, or %NULL for @text
 * @text: (nullable): a recording's trace
 * @snapshot: (nullable): its topology
 *
 * Reads a whole trace into a new document on a worker thread.
 */
void
iov_trace_document_load_async (const char          *path,
                               GBytes              *text,
                               JsonNode            *snapshot,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Load *load = g_new0 (Load, 1);

  g_return_if_fail (path != NULL || text != NULL);

  load->path = g_strdup (path);
  load->text = text ? g_bytes_ref (text) : NULL;
  load->snapshot = snapshot ? json_node_copy (snapshot) : NULL;
  g_task_set_source_tag (task, iov_trace_document_load_async);
  g_task_set_task_data (task, load, (GDestroyNotify) load_free);
  g_task_run_in_thread (task, load_thread);
}

IovTraceDocument *
iov_trace_document_load_finish (GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- queries ------------------------------------------------------------- */

IovTraceCatalog *
iov_trace_document_get_catalog (IovTraceDocument *self)
{
  g_return_val_if_fail (IOV_IS_TRACE_DOCUMENT (self), NULL);
  return self->catalog;
}

IovEventStore *
iov_trace_document_get_store (IovTraceDocument *self)
{
  g_return_val_if_fail (IOV_IS_TRACE_DOCUMENT (self), NULL);
  return self->store;
}

IovDeliveryLog *
iov_trace_document_get_log (IovTraceDocument *self)
{
  g_return_val_if_fail (IOV_IS_TRACE_DOCUMENT (self), NULL);
  return self->log;
}

IovInference *
iov_trace_document_get_inference (IovTraceDocument *self)
{
  g_return_val_if_fail (IOV_IS_TRACE_DOCUMENT (self), NULL);
  return self->inference;
}

JsonNode *
iov_trace_document_get_snapshot (IovTraceDocument *self)
{
  g_return_val_if_fail (IOV_IS_TRACE_DOCUMENT (self), NULL);
  return self->snapshot;
}

/**
 * iov_trace_document_get_event_line:
 *
 * The trace line (1-based, as `iovista-cli trace` numbers them) of stored
 * event @index.  Event i follows exactly the other lines o_j with
 * o_j - j <= i + 1 (o_j - j - 1 events come before o_j): a bisection.
 *
 * Returns: the line, or 0 without stored events
 */
guint64
iov_trace_document_get_event_line (IovTraceDocument *self,
                                   guint64           index)
{
  guint lo = 0, hi;

  g_return_val_if_fail (IOV_IS_TRACE_DOCUMENT (self), 0);

  if (self->other_lines == NULL)
    return 0;
  hi = self->other_lines->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (self->other_lines, guint64, mid) - mid <= index + 1)
        lo = mid + 1;
      else
        hi = mid;
    }
  return index + 1 + lo;
}

const IovTraceStats *
iov_trace_document_get_stats (IovTraceDocument *self)
{
  g_return_val_if_fail (IOV_IS_TRACE_DOCUMENT (self), NULL);
  return &self->stats;
}

GArray *
iov_trace_document_get_deliveries (IovTraceDocument *self)
{
  g_return_val_if_fail (IOV_IS_TRACE_DOCUMENT (self), NULL);
  return self->deliveries;
}

guint64
iov_trace_document_get_n_lines (IovTraceDocument *self)
{
  g_return_val_if_fail (IOV_IS_TRACE_DOCUMENT (self), 0);
  return self->stats.lines;
}

IovTraffic *
iov_trace_document_get_traffic (IovTraceDocument *self)
{
  g_return_val_if_fail (IOV_IS_TRACE_DOCUMENT (self), NULL);
  return self->traffic;
}

IovMappings *
iov_trace_document_get_mappings (IovTraceDocument *self)
{
  g_return_val_if_fail (IOV_IS_TRACE_DOCUMENT (self), NULL);
  return self->mappings;
}

guint64
iov_trace_document_get_n_delivered (IovTraceDocument *self)
{
  g_return_val_if_fail (IOV_IS_TRACE_DOCUMENT (self), 0);
  return self->n_delivered;
}

guint64
iov_trace_document_get_n_observed (IovTraceDocument *self)
{
  g_return_val_if_fail (IOV_IS_TRACE_DOCUMENT (self), 0);
  return self->n_observed;
}

void
iov_trace_document_set_dropped (IovTraceDocument *self,
                                guint64           dropped)
{
  g_return_if_fail (IOV_IS_TRACE_DOCUMENT (self));
  self->stats.dropped = dropped;
}

void
iov_trace_document_take_news (IovTraceDocument *self,
                              guint64          *n_events,
                              guint64          *first_joined,
                              guint64          *n_deliveries)
{
  g_return_if_fail (IOV_IS_TRACE_DOCUMENT (self));

  if (n_events)
    *n_events = self->news_events;
  if (first_joined)
    *first_joined = self->news_first_joined;
  if (n_deliveries)
    *n_deliveries = self->news_deliveries;
  self->news_events = 0;
  self->news_first_joined = IOV_DELIVERY_LOG_NO_EVENT;
  self->news_deliveries = 0;
}
