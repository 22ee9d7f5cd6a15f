/* iov-cli-trace.c

 * Copyright 2026 The Iovista authors
 *
 * This program is free software: you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "iovista-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "iov-cli.h"
#include "iov-cli-relay.h"
#include "iov-compare.h"
#include "iov-inference.h"
#include "iov-recording.h"
#include "iov-trace-control.h"
#include "iov-snapshot.h"
#include "iov-trace-events.h"
#include "iov-trace-parser.h"
#include "iov-trace-document.h"
#include "iov-trace-reader.h"

typedef struct
{
  IovTraceDocument *doc;        /* counts, inference, deliveries (issue J) */
  IovTraceCatalog  *catalog;    /* the document's */
  gboolean          events;
  gboolean          live;       /* unprefixed lines get their arrival time */
  GString          *out;
  IovTraceArg       args[IOV_TRACE_MAX_ARGS];
  IovRecordingWriter *record;   /* --record */
  GError           *record_error;
  IovCompare       *compare;    /* --compare */
  guint64           cut;        /* lines longer than IOV_TRACE_MAX_LINE */
  /* --mappings-at SECONDS, --mappings-diff S1 S2 (issue L) */
  gboolean          mappings;
  gboolean          mappings_diff;
  double            mappings_s[2];
  /* --qmp on a local QEMU (issue H): snapshots follow the VM's topology */
  IovQmpClient     *client;
  gboolean          collecting;
  gboolean          qmp_gone;
} TraceRun;

static volatile sig_atomic_t interrupted;

static void
on_signal (int signum)
{
  interrupted = 1;
}

static void
print_event (TraceRun           *run,
             const IovTraceLine *line)
{
  GString *out = run->out;
  guint n_args = 0;

  g_string_append (out, "{\"ts_ns\": ");
  if (line->has_ts)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT, line->ts_ns);
  else if (run->live)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, g_get_real_time () * 1000);
  else
    g_string_append (out, "null");
  g_string_append (out, ", \"tid\": ");
  if (line->has_tid)
    g_string_append_printf (out, "%u", line->tid);
  else
    g_string_append (out, "null");
  g_string_append (out, ", \"name\": ");
  iov_json_append_string (out, line->name, line->name_len);
  g_string_append (out, ", \"args\": {");
  if (line->event_id >= 0 &&
      iov_trace_catalog_decode (run->catalog, line->event_id, line->args, line->args_len,
                                run->args, &n_args))
    {
      for (guint i = 0; i < n_args; i++)
        {
          if (i > 0)
            g_string_append (out, ", ");
          iov_json_append_string (out, run->args[i].name, strlen (run->args[i].name));
          g_string_append (out, ": ");
          iov_json_append_string (out, run->args[i].text, run->args[i].len);
        }
      g_string_append (out, "}}\n");
    }
  else
    {
      /* Unknown event or text that does not match the format: raw text. */
      g_string_append (out, "}, \"raw\": ");
      iov_json_append_string (out, line->args, line->args_len);
      g_string_append (out, "}\n");
    }
  if (out->len > 64 * 1024)
    {
      fwrite (out->str, 1, out->len, stdout);
      g_string_truncate (out, 0);
    }
}

static void
handle_line (const char *text,
             gsize       len,
             gboolean    cut,
             gpointer    user_data)
{
  TraceRun *run = user_data;

  if (run->record != NULL && run->record_error == NULL)
    iov_recording_writer_trace (run->record, text, len, &run->record_error);
  IovTraceLine line;
  char name[128];

  /* parsed once, for the document, the events and the comparison */
  run->cut += cut != 0;
  iov_trace_parse_line (run->catalog, text, len, &line);
  iov_trace_document_feed_parsed (run->doc, &line, 0);
  if ((run->events || run->compare) && line.kind == IOV_TRACE_LINE_EVENT)
    {
      if (run->events)
        print_event (run, &line);
      if (run->compare != NULL && line.name_len < sizeof name)
        {
          memcpy (name, line.name, line.name_len);
          name[line.name_len] = '\0';
          iov_compare_feed (run->compare, line.has_ts ? line.ts_ns : 0,
                            iov_trace_document_get_n_lines (run->doc), name, line.args, line.args_len);
        }
    }
}

static const char *result_names[] = { "delivered", "skipped-range", "skipped-flags", "abort" };

static void
append_delivery (TraceRun          *run,
                 const IovDelivery *d,
                 GString           *out)
{
  const IovProfile *profile = iov_inference_get_profile (iov_trace_document_get_inference (run->doc));
  char hex[20];

      g_string_append_printf (out, "{\"line\": %" G_GUINT64_FORMAT ", \"ts_ns\": ", d->line);
      if (d->ts_ns)
        g_string_append_printf (out, "%" G_GUINT64_FORMAT, d->ts_ns);
      else
        g_string_append (out, "null");
      g_string_append (out, ", \"delivery\": {\"device\": ");
      iov_json_append_string (out, d->device, strlen (d->device));
      g_string_append (out, ", \"notifier\": ");
      iov_json_append_string (out, d->notifier->name, strlen (d->notifier->name));
      g_string_append_printf (out, ", \"kind\": \"%s\", \"result\": \"%s\"",
                              d->kind == IOV_DELIVERY_OBSERVED ? "observed" : "inferred",
                              result_names[d->outcome.result]);
      if (d->outcome.result == IOV_RESULT_DELIVERED)
        {
          g_string_append_printf (out, ", \"type\": \"%s\"", iov_event_type_to_string (d->outcome.type));
          iov_hex_buf (d->outcome.iova, hex);
          g_string_append_printf (out, ", \"iova\": \"%s\"", hex);
          iov_hex_buf (d->outcome.addr_mask, hex);
          g_string_append_printf (out, ", \"addr_mask\": \"%s\", \"cropped\": %s", hex,
                                  d->outcome.cropped ? "true" : "false");
        }
      else if (d->outcome.result == IOV_RESULT_ABORT)
        {
          g_autofree char *msg = iov_abort_message (profile, d->outcome.abort);

          g_string_append (out, ", \"message\": ");
          iov_json_append_string (out, msg ? msg : "", msg ? strlen (msg) : 0);
        }
      g_string_append_printf (out, ", \"event\": {\"type\": \"%s\"", iov_event_type_to_string (d->event.type));
      iov_hex_buf (d->event.iova, hex);
      g_string_append_printf (out, ", \"iova\": \"%s\"", hex);
      iov_hex_buf (d->event.addr_mask, hex);
      g_string_append_printf (out, ", \"addr_mask\": \"%s\"}}}", hex);
}

static void
print_deliveries (TraceRun *run)
{
  g_autoptr(GString) out = g_string_new (NULL);

  GArray *deliveries = iov_trace_document_get_deliveries (run->doc);

  for (guint i = 0; i < deliveries->len; i++)
    {
      append_delivery (run, &g_array_index (deliveries, IovDelivery, i), out);
      g_string_append_c (out, '\n');
      if (out->len > 64 * 1024)
        {
          fwrite (out->str, 1, out->len, stdout);
          g_string_truncate (out, 0);
        }
    }
  fwrite (out->str, 1, out->len, stdout);
}

static void
record_deliveries (TraceRun *run)
{
  g_autoptr(GString) text = g_string_new (NULL);

  GArray *deliveries = iov_trace_document_get_deliveries (run->doc);

  for (guint i = 0; i < deliveries->len && run->record_error == NULL; i++)
    {
      g_autoptr(JsonNode) node = NULL;

      g_string_truncate (text, 0);
      append_delivery (run, &g_array_index (deliveries, IovDelivery, i), text);
      node = json_from_string (text->str, NULL);
      if (node != NULL)
        iov_recording_writer_delivery (run->record, json_object_get_member (json_node_get_object (node), "delivery"),
                                       &run->record_error);
    }
}

/* The "inference" member of --stats: per notifier, what the model
 * predicts and what the consumer showed (issue H's contract). A delivery
 * is a delivered outcome, cropped ones included. */
typedef struct
{
  guint64 delivered, skipped, aborts, observed, cropped;
  guint64 by_type[3];   /* map, unmap, deviotlb-unmap */
} NotifierCounts;

static void
append_string_array (GString   *out,
                     GPtrArray *strings)
{
  g_string_append_c (out, '[');
  for (guint i = 0; i < strings->len; i++)
    {
      const char *text = g_ptr_array_index (strings, i);

      if (i > 0)
        g_string_append (out, ", ");
      iov_json_append_string (out, text, strlen (text));
    }
  g_string_append_c (out, ']');
}

static void
append_inference (TraceRun *run,
                  GString  *out)
{
  IovInference *inference = iov_trace_document_get_inference (run->doc);
  GArray *deliveries = iov_trace_document_get_deliveries (run->doc);
  GPtrArray *notifiers = iov_inference_get_notifiers (inference);
  const IovInferenceAbort *abort = iov_inference_get_abort (inference);
  g_autoptr(GHashTable) per = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  guint64 delivered = 0, observed = 0;

  for (guint i = 0; i < notifiers->len; i++)
    g_hash_table_insert (per, (gpointer) ((IovInferenceNotifier *) g_ptr_array_index (notifiers, i))->notifier,
                         g_new0 (NotifierCounts, 1));
  for (guint i = 0; i < deliveries->len; i++)
    {
      const IovDelivery *d = &g_array_index (deliveries, IovDelivery, i);
      NotifierCounts *c = g_hash_table_lookup (per, d->notifier);

      if (c == NULL)
        continue;
      if (d->outcome.result == IOV_RESULT_DELIVERED)
        {
          c->delivered++;
          delivered++;
          c->cropped += d->outcome.cropped != 0;
          if (d->outcome.type & IOV_NOTIFIER_MAP)
            c->by_type[0]++;
          else if (d->outcome.type & IOV_NOTIFIER_DEVIOTLB_UNMAP)
            c->by_type[2]++;
          else
            c->by_type[1]++;
        }
      else if (d->outcome.result == IOV_RESULT_ABORT)
        c->aborts++;
      else
        c->skipped++;
      if (d->kind == IOV_DELIVERY_OBSERVED)
        {
          c->observed++;
          observed++;
        }
    }

  g_string_append_printf (out, ", \"inference\": {\"profile\": \"%s\", \"events\": %" G_GUINT64_FORMAT
                          ", \"deliveries\": %" G_GUINT64_FORMAT ", \"observed\": %" G_GUINT64_FORMAT
                          ", \"unexplained\": %" G_GUINT64_FORMAT ", \"abort\": ",
                          iov_inference_get_profile (inference)->id,
                          iov_inference_get_n_events (inference), delivered, observed,
                          iov_inference_get_n_unexplained (inference));
  if (abort != NULL)
    {
      /* As QEMU's stderr has it, from the file name on. */
      const char *message = abort->message ? abort->message : "";

      if (g_str_has_prefix (message, "qemu-system-x86_64: "))
        message += strlen ("qemu-system-x86_64: ");
      g_string_append_printf (out, "{\"line\": %" G_GUINT64_FORMAT ", \"notifier\": ", abort->line);
      if (abort->notifier)
        iov_json_append_string (out, abort->notifier, strlen (abort->notifier));
      else
        g_string_append (out, "null");
      g_string_append (out, ", \"message\": ");
      iov_json_append_string (out, message, strlen (message));
      g_string_append (out, "}");
    }
  else
    g_string_append (out, "null");
  g_string_append (out, ", \"notifiers\": {");
  for (guint i = 0; i < notifiers->len; i++)
    {
      const IovInferenceNotifier *n = g_ptr_array_index (notifiers, i);
      NotifierCounts *c = g_hash_table_lookup (per, n->notifier);
      g_autofree char *flags = iov_flags_to_string (n->notifier->flags);
      char start[20], end[20];

      iov_hex_buf (n->notifier->start, start);
      iov_hex_buf (n->notifier->end, end);
      if (i > 0)
        g_string_append (out, ", ");
      iov_json_append_string (out, n->notifier->name, strlen (n->notifier->name));
      g_string_append (out, ": {\"device\": ");
      iov_json_append_string (out, n->device, strlen (n->device));
      g_string_append_printf (out, ", \"range\": [\"%s\", \"%s\"], \"from_line\": %" G_GUINT64_FORMAT
                              ", \"to_line\": ", start, end, n->from_line);
      if (n->to_line > 0)
        g_string_append_printf (out, "%" G_GUINT64_FORMAT, n->to_line);
      else
        g_string_append (out, "null");
      g_string_append_printf (out, ", \"flags\": \"%s\", \"flags_source\": \"%s\""
                              ", \"delivered\": %" G_GUINT64_FORMAT ", \"skipped\": %" G_GUINT64_FORMAT
                              ", \"aborts\": %" G_GUINT64_FORMAT ", \"observed\": %" G_GUINT64_FORMAT
                              ", \"cropped\": %" G_GUINT64_FORMAT
                              ", \"delivered_by_type\": {\"map\": %" G_GUINT64_FORMAT ", \"unmap\": %" G_GUINT64_FORMAT
                              ", \"deviotlb-unmap\": %" G_GUINT64_FORMAT "}}",
                              flags, n->flags_source, c->delivered, c->skipped, c->aborts, c->observed, c->cropped,
                              c->by_type[0], c->by_type[1], c->by_type[2]);
    }
  g_string_append (out, "}, \"findings\": ");
  append_string_array (out, iov_inference_get_findings (inference));
  g_string_append (out, ", \"notes\": ");
  append_string_array (out, iov_inference_get_notes (inference));
  g_string_append (out, "}");
}

/* The "traffic" member of --stats (issue L): per device, and what could
 * not be attributed, with the same keys. */
static void
append_counts (GString        *out,
               const guint64  *counts)
{
  g_string_append_c (out, '{');
  for (guint k = 0; k < IOV_TRAFFIC_N_COUNTS; k++)
    g_string_append_printf (out, "%s\"%s\": %" G_GUINT64_FORMAT, k > 0 ? ", " : "", iov_traffic_count_name (k),
                            counts[k]);
  g_string_append_c (out, '}');
}

static void
append_us (GString *out,
           guint64  ns)
{
  if (ns % 1000 == 0)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT, ns / 1000);
  else
    g_string_append_printf (out, "%" G_GUINT64_FORMAT ".%03u", ns / 1000, (guint) (ns % 1000));
}

static void
append_figures (GString    *out,
                IovTraffic *traffic,
                const char *device)
{
  IovTrafficFigures f;
  g_autoptr(GString) counts = g_string_new (NULL);

  iov_traffic_get_figures (traffic, device, &f);
  append_counts (counts, f.counts);
  /* the counts, then the round trips and the peaks */
  g_string_append_len (out, counts->str, counts->len - 1);
  g_string_append (out, ", \"miss_round_trip_us\": ");
  if (f.n_round_trips > 0)
    {
      g_string_append (out, "{\"p50\": ");
      append_us (out, f.round_trip_p50_ns);
      g_string_append (out, ", \"p99\": ");
      append_us (out, f.round_trip_p99_ns);
      g_string_append (out, ", \"max\": ");
      append_us (out, f.round_trip_max_ns);
      g_string_append_c (out, '}');
    }
  else
    g_string_append (out, "null");
  g_string_append (out, ", \"peak_per_s\": ");
  append_counts (out, f.peak_per_s);
  g_string_append_c (out, '}');
}

static void
append_traffic (TraceRun *run,
                GString  *out)
{
  IovTraffic *traffic = iov_trace_document_get_traffic (run->doc);
  g_autoptr(GPtrArray) devices = iov_traffic_get_devices (traffic);
  g_autoptr(GPtrArray) notes = iov_traffic_get_notes (traffic);

  g_string_append (out, ", \"traffic\": {\"devices\": {");
  for (guint i = 0; i < devices->len; i++)
    {
      const char *device = g_ptr_array_index (devices, i);

      if (i > 0)
        g_string_append (out, ", ");
      iov_json_append_string (out, device, strlen (device));
      g_string_append (out, ": ");
      append_figures (out, traffic, device);
    }
  g_string_append (out, "}, \"unattributed\": ");
  append_figures (out, traffic, NULL);
  g_string_append (out, ", \"notes\": ");
  append_string_array (out, notes);
  g_string_append_c (out, '}');
}

static void
print_stats (TraceRun *run)
{
  g_autoptr(GString) out = g_string_new (NULL);
  const IovTraceStats *st = iov_trace_document_get_stats (run->doc);
  gboolean first = TRUE;
  char ts[32];

  g_string_append_printf (out,
                          "{\"lines\": %" G_GUINT64_FORMAT ", \"events\": %" G_GUINT64_FORMAT
                          ", \"other\": %" G_GUINT64_FORMAT ", \"malformed\": %" G_GUINT64_FORMAT
                          ", \"dropped\": %" G_GUINT64_FORMAT ", \"first_ts\": ",
                          st->lines, st->events, st->other, st->malformed, st->dropped);
  if (st->have_ts)
    {
      iov_trace_format_ts (st->first_sec, st->first_usec, ts);
      g_string_append_printf (out, "\"%s\", \"last_ts\": ", ts);
      iov_trace_format_ts (st->last_sec, st->last_usec, ts);
      g_string_append_printf (out, "\"%s\"", ts);
    }
  else
    g_string_append (out, "null, \"last_ts\": null");
  g_string_append (out, ", \"by_name\": {");
  for (guint id = 0; id < st->by_id->len; id++)
    {
      guint64 n = g_array_index (st->by_id, guint64, id);
      const char *name;

      if (n == 0)
        continue;
      name = iov_trace_catalog_get_name (run->catalog, id);
      if (!first)
        g_string_append (out, ", ");
      first = FALSE;
      iov_json_append_string (out, name, strlen (name));
      g_string_append_printf (out, ": %" G_GUINT64_FORMAT, n);
    }
  g_string_append (out, "}");
  if (iov_trace_document_get_inference (run->doc) != NULL)
    append_inference (run, out);
  append_traffic (run, out);
  g_string_append (out, "}\n");
  fwrite (out->str, 1, out->len, stdout);
}

/* --mappings-at, --mappings-diff: {ID: [{start, end, phys, flags}, …], …},
 * domains in order, those without mappings left out. */
static void
append_domains (GString     *out,
                IovMappings *mappings,
                GArray      *ranges)
{
  char hex[20];

  g_string_append_c (out, '{');
  for (guint i = 0; i < ranges->len; i++)
    {
      const IovMapping *m = &g_array_index (ranges, IovMapping, i);
      const char *label = iov_mappings_get_domain_label (mappings, m->domain);

      if (i == 0 || m->domain != g_array_index (ranges, IovMapping, i - 1).domain)
        {
          g_string_append (out, i == 0 ? "" : "], ");
          iov_json_append_string (out, label, strlen (label));
          g_string_append (out, ": [");
        }
      else
        g_string_append (out, ", ");
      iov_hex_buf (m->start, hex);
      g_string_append_printf (out, "{\"start\": \"%s\"", hex);
      iov_hex_buf (m->end, hex);
      g_string_append_printf (out, ", \"end\": \"%s\"", hex);
      iov_hex_buf (m->phys, hex);
      g_string_append_printf (out, ", \"phys\": \"%s\", \"flags\": %u}", hex, m->flags);
    }
  g_string_append (out, ranges->len > 0 ? "]}" : "}");
}

static int
print_mappings (TraceRun *run,
                int       status)
{
  const IovTraceStats *st = iov_trace_document_get_stats (run->doc);
  IovMappings *mappings = iov_trace_document_get_mappings (run->doc);
  g_autoptr(GPtrArray) notes = iov_mappings_get_notes (mappings);
  g_autoptr(GString) out = g_string_new (NULL);
  guint64 origin, t[2];

  for (guint i = 0; i < notes->len; i++)
    g_printerr ("iovista-cli trace: %s\n", (const char *) g_ptr_array_index (notes, i));
  if (!st->have_ts)
    {
      g_printerr (_("iovista-cli trace: the trace has no timestamps (-msg timestamp=on): no instant to show the "
                    "mappings at\n"));
      return IOV_CLI_EXIT_FAILURE;
    }
  /* seconds from the trace's first event, as on the window's timeline */
  origin = st->first_sec * G_GUINT64_CONSTANT (1000000000) + (guint64) st->first_usec * 1000;
  for (guint i = 0; i < 2; i++)
    t[i] = origin + (guint64) (run->mappings_s[i] * 1e9 + 0.5);
  if (run->mappings_diff)
    {
      g_autoptr(GArray) added = NULL;
      g_autoptr(GArray) removed = NULL;

      iov_mappings_diff (mappings, t[0], t[1], &added, &removed);
      g_string_append (out, "{\"added\": ");
      append_domains (out, mappings, added);
      g_string_append (out, ", \"removed\": ");
      append_domains (out, mappings, removed);
    }
  else
    {
      g_autoptr(GArray) at = iov_mappings_at (mappings, t[0]);

      g_string_append (out, "{\"domains\": ");
      append_domains (out, mappings, at);
    }
  g_string_append (out, "}\n");
  fwrite (out->str, 1, out->len, stdout);
  return status;
}

typedef struct
{
  GMainLoop            *loop;
  IovQmpClient         *client;
  const IovTracePreset *preset;
  gboolean              enable;
  const char           *pattern;
  JsonNode             *states;
  GError               *error;
} Control;

static void
control_listed (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Control *c = user_data;

  c->states = iov_trace_list_events_finish (c->client, result, &c->error);
  g_main_loop_quit (c->loop);
}

static void
control_applied (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Control *c = user_data;

  if (!iov_trace_preset_apply_finish (c->client, result, &c->error))
    g_main_loop_quit (c->loop);
  else
    iov_trace_list_events_async (c->client, c->pattern, NULL, control_listed, c);
}

static void
control_connected (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Control *c = user_data;

  if (!iov_qmp_client_connect_finish (c->client, result, &c->error))
    g_main_loop_quit (c->loop);
  else if (c->preset != NULL)
    iov_trace_preset_apply_async (c->client, c->preset, c->enable, NULL, control_applied, c);
  else
    iov_trace_list_events_async (c->client, c->pattern, NULL, control_listed, c);
}

/* --preset / --list-events: switch QEMU's trace events over QMP (the only
 * state Iovista ever changes in QEMU, and only when asked), then print the
 * events' states as trace-event-get-state reports them. */
static int
trace_control (const char *address,
               const char *preset_name,
               gboolean    enable,
               const char *pattern)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(IovQmpClient) client = NULL;
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;
  Control c = { loop, NULL, NULL, enable, pattern, NULL, NULL };

  if (preset_name != NULL)
    {
      c.preset = iov_trace_preset_find (preset_name);
      if (c.preset == NULL)
        return iov_cli_usage_error ("trace", _("unknown preset “%s” (vtd-invalidations, notifier-traffic or "
                                               "everything-iommu)"), preset_name);
    }
  if (c.pattern == NULL)
    c.pattern = "*";

  client = iov_qmp_client_new (address, &error);
  if (client == NULL)
    return iov_cli_usage_error ("trace", "%s", error->message);
  c.client = client;
  iov_qmp_client_connect_async (client, NULL, control_connected, &c);
  g_main_loop_run (loop);
  iov_qmp_client_close (client);

  if (c.error != NULL)
    {
      g_printerr ("iovista-cli trace: %s\n", c.error->message);
      g_error_free (c.error);
      return IOV_CLI_EXIT_UNREACHABLE;
    }
  /* A preset prints every event it switched (its patterns, and the noisy
   * ones it turns off), not only its first pattern's. */
  if (c.preset != NULL && pattern == NULL && JSON_NODE_HOLDS_ARRAY (c.states))
    {
      JsonArray *all = json_node_get_array (c.states);
      g_autoptr(JsonArray) switched = json_array_new ();

      for (guint i = 0; i < json_array_get_length (all); i++)
        {
          JsonObject *o = json_array_get_object_element (all, i);
          const char *name = o ? json_object_get_string_member_with_default (o, "name", NULL) : NULL;
          gboolean hit = FALSE;

          /* on: the preset's events but the noisy ones, which go off;
           * off: whatever its patterns name, noisy or not */
          if (name != NULL && enable)
            hit = iov_trace_preset_matches (c.preset, name) || iov_trace_event_is_noisy (name);
          for (guint p = 0; name != NULL && !enable && c.preset->patterns[p] != NULL; p++)
            hit |= g_pattern_match_simple (c.preset->patterns[p], name);
          if (hit)
            json_array_add_element (switched, json_node_copy (json_array_get_element (all, i)));
        }
      json_node_take_array (c.states, g_steal_pointer (&switched));
    }
  json_generator_set_root (gen, c.states);
  text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
  json_node_unref (c.states);
  return IOV_CLI_EXIT_OK;
}

static void
collected (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  TraceRun *run = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(IovSnapshot) snapshot = iov_snapshot_collect_finish (result, &error);
  g_autoptr(JsonNode) node = NULL;

  run->collecting = FALSE;
  if (snapshot == NULL)
    {
      /* QEMU going away is said once, by qmp_disconnected() */
      if (!iov_qmp_error_is_lost (error))
        g_printerr ("iovista-cli trace: snapshot of %s: %s\n", iov_qmp_client_get_address (run->client),
                    error->message);
      iov_trace_document_release (run->doc);
      return;
    }
  node = iov_snapshot_to_json (snapshot, FALSE);
  if (run->record != NULL && run->record_error == NULL)
    iov_recording_writer_snapshot (run->record, node, g_get_real_time () * 1000, &run->record_error);
  if (!iov_trace_document_set_snapshot (run->doc, node, &error))
    g_printerr ("iovista-cli trace: snapshot of %s: %s\n", iov_qmp_client_get_address (run->client), error->message);
}

static void
start_collect (TraceRun *run)
{
  if (run->collecting || run->qmp_gone || iov_qmp_client_get_state (run->client) != IOV_QMP_STATE_CONNECTED)
    return;
  run->collecting = TRUE;
  iov_snapshot_collect_async (run->client, NULL, collected, run);
}

static void
topology_changed (IovTraceDocument *doc,
                  guint64           line,
                  TraceRun         *run)
{
  start_collect (run);
}

static void
qmp_connected (IovQmpClient *client,
               TraceRun     *run)
{
  /* The first topology; the lines read meanwhile wait for it. */
  if (iov_trace_document_get_inference (run->doc) == NULL)
    start_collect (run);
}

static void
qmp_disconnected (IovQmpClient *client,
                  const GError *error,
                  TraceRun     *run)
{
  g_printerr (_("iovista-cli trace: QEMU at %s went away (%s): reading the trace to its end\n"),
              iov_qmp_client_get_address (client), error ? error->message : "");
  run->qmp_gone = TRUE;
  run->collecting = FALSE;
  iov_qmp_client_set_auto_reconnect (client, FALSE);
  iov_trace_document_set_follow_topology (run->doc, FALSE);
}

/* A file read to its end (not followed): one snapshot of the VM first,
 * as its topology, and no following. */
typedef struct
{
  GMainLoop    *loop;
  IovQmpClient *client;
  IovSnapshot  *snapshot;
  GError       *error;
} Fetch;

static void
fetch_collected (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Fetch *f = user_data;

  f->snapshot = iov_snapshot_collect_finish (result, &f->error);
  g_main_loop_quit (f->loop);
}

static void
fetch_connected (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Fetch *f = user_data;

  if (!iov_qmp_client_connect_finish (f->client, result, &f->error))
    g_main_loop_quit (f->loop);
  else
    iov_snapshot_collect_async (f->client, NULL, fetch_collected, f);
}

static JsonNode *
fetch_snapshot (const char  *address,
                GError     **error)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(IovQmpClient) client = iov_qmp_client_new (address, error);
  Fetch f = { loop, client, NULL, NULL };
  JsonNode *node;

  if (client == NULL)
    return NULL;
  iov_qmp_client_connect_async (client, NULL, fetch_connected, &f);
  g_main_loop_run (loop);
  iov_qmp_client_close (client);
  if (f.snapshot == NULL)
    {
      g_propagate_error (error, f.error);
      return NULL;
    }
  node = iov_snapshot_to_json (f.snapshot, FALSE);
  g_object_unref (f.snapshot);
  return node;
}

static void
qmp_first_connect (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  /* Failures are retried by the client until QEMU is up. */
  iov_qmp_client_connect_finish (IOV_QMP_CLIENT (source), result, NULL);
}

/* Prints what the run gathered, saves the recording, frees the run. */
static int
finish_run (TraceRun *run,
            gboolean  events,
            int       status)
{
  gboolean inferred;

  fwrite (run->out->str, 1, run->out->len, stdout);
  g_string_free (run->out, TRUE);
  if (run->cut > 0)
    g_printerr (_("iovista-cli trace: %llu lines longer than 1 MiB were cut\n"), (unsigned long long) run->cut);
  /* Deliveries are settled only once the evidence that follows them has
   * been read: they come after the events. */
  iov_trace_document_finish (run->doc);
  inferred = iov_trace_document_get_inference (run->doc) != NULL;
  if (inferred && events)
    print_deliveries (run);
  if (run->compare != NULL)
    {
      g_autoptr(JsonGenerator) gen = json_generator_new ();
      g_autoptr(JsonNode) node = NULL;
      g_autofree char *text = NULL;

      iov_compare_finish (run->compare);
      node = iov_compare_to_json (run->compare);
      json_generator_set_root (gen, node);
      text = json_generator_to_data (gen, NULL);
      g_print ("%s\n", text);
      g_clear_pointer (&run->compare, iov_compare_free);
    }
  else if (run->mappings)
    status = print_mappings (run, status);
  else if (!events)
    print_stats (run);
  fflush (stdout);

  if (run->record != NULL)
    {
      if (inferred)
        record_deliveries (run);
      if (run->record_error == NULL)
        iov_recording_writer_close (run->record, &run->record_error);
      if (run->record_error != NULL)
        {
          g_printerr ("iovista-cli trace: --record: %s\n", run->record_error->message);
          status = IOV_CLI_EXIT_FAILURE;
        }
      g_clear_pointer (&run->record, iov_recording_writer_free);
      g_clear_error (&run->record_error);
    }

  g_clear_object (&run->doc);
  return status;
}

int
iov_cli_trace (int    argc,
               char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("SOURCE"));
  g_autoptr(IovTraceCatalog) catalog = NULL;
  g_autoptr(IovTraceReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *trace_events = NULL;
  g_autofree char *infer = NULL;
  g_autofree char *qmp = NULL;
  g_autofree char *preset = NULL;
  g_autofree char *list_events = NULL;
  gboolean preset_off = FALSE;
  g_autofree char *token_file = NULL;
  g_autoptr(JsonNode) snapshot = NULL;
  g_autofree char *record = NULL;
  g_autoptr(IovRecording) recording = NULL;
  gboolean stats = FALSE, events = FALSE, follow = FALSE, compare = FALSE;
  g_auto(GStrv) profile_ids = NULL;
  g_autofree char *mappings_at = NULL;
  const char *mappings_diff[2] = { NULL, NULL };
  TraceRun run = { 0 };
  const GOptionEntry entries[] = {
    { "stats", 0, 0, G_OPTION_ARG_NONE, &stats, N_("Print counts as one JSON object (the default)"), NULL },
    { "events", 0, 0, G_OPTION_ARG_NONE, &events, N_("Print every event as a JSON line"), NULL },
    { "follow", 'f', 0, G_OPTION_ARG_NONE, &follow, N_("Keep reading: tail a file, accept new writers"), NULL },
    { "trace-events", 0, 0, G_OPTION_ARG_FILENAME, &trace_events,
      N_("Event definitions (default: QEMU's trace-events-all, else built in)"), N_("FILE") },
    { "infer", 0, 0, G_OPTION_ARG_FILENAME, &infer,
      N_("Infer per-notifier deliveries with the model, for the VM described by this `iovista-cli snapshot` output"),
      N_("SNAPSHOT.json") },
    { "qmp", 0, 0, G_OPTION_ARG_STRING, &qmp,
      N_("Infer deliveries for the VM at this QMP address (a snapshot is taken first; read-only)"), N_("ADDRESS") },
    { "preset", 0, 0, G_OPTION_ARG_STRING, &preset,
      N_("With --qmp: turn QEMU's trace events of a preset on (vtd-invalidations, notifier-traffic, "
         "everything-iommu), print their states and exit"), N_("NAME") },
    { "off", 0, 0, G_OPTION_ARG_NONE, &preset_off, N_("With --preset: turn the preset off instead"), NULL },
    { "list-events", 0, 0, G_OPTION_ARG_STRING, &list_events,
      N_("With --qmp: print the state of QEMU's trace events matching PATTERN and exit"), N_("PATTERN") },
    { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &token_file, N_("Token for a relay URL given to --qmp (default: $IOVISTA_TOKEN)"), N_("FILE") },
    { "compare", 0, 0, G_OPTION_ARG_NONE, &compare,
      N_("Replay the trace under every QEMU release (or those given with --profile) and print where they differ"),
      NULL },
    { "profile", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &profile_ids,
      N_("With --compare: a release to replay under (repeatable; default: every one)"), N_("ID") },
    { "mappings-at", 0, 0, G_OPTION_ARG_STRING, &mappings_at,
      N_("Print the IOVA mappings of each domain at SECONDS from the trace's first event (virtio-iommu; VT-d where "
         "QEMU walks the guest's tables)"), N_("SECONDS") },
    /* taken off the command line before GOption sees it: two values */
    { "mappings-diff", 0, 0, G_OPTION_ARG_STRING, NULL,
      N_("Print the mappings added and removed between S1 and S2 seconds"), N_("S1 S2") },
    { "record", 0, 0, G_OPTION_ARG_FILENAME, &record,
      N_("Also save the trace, the snapshot and the inferred deliveries as a recording (gzip'd JSON lines)"),
      N_("FILE.iovista") },
    { NULL }
  };
  struct sigaction sa = { 0 };
  int status = IOV_CLI_EXIT_OK;

  g_option_context_set_summary (context,
    _("Read a QEMU trace (log backend) and print counts or events.\n\n"
      "SOURCE is FILE, “-” (stdin), fifo:PATH (created when missing; opened before QEMU\n"
      "starts, so start QEMU with -trace …,file=PATH) or unix:PATH (a listening socket;\n"
      "QEMU cannot write a socket itself: connect its stderr, e.g.\n"
      "qemu-system-x86_64 … -trace 'vtd_*' 2>&1 >/dev/null | socat - UNIX-CONNECT:PATH)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  for (int i = 1; i < argc && !g_str_equal (argv[i], "--"); i++)
    if (g_str_equal (argv[i], "--mappings-diff") || g_str_has_prefix (argv[i], "--mappings-diff="))
      {
        /* "--mappings-diff S1 S2" or "--mappings-diff=S1 S2" */
        int n = argv[i][15] == '=' ? 2 : 3;

        if (i + n > argc)
          return iov_cli_usage_error ("trace", _("--mappings-diff takes two times, S1 S2"));
        mappings_diff[0] = n == 2 ? argv[i] + 16 : argv[i + 1];
        mappings_diff[1] = argv[i + n - 1];
        memmove (&argv[i], &argv[i + n], (argc - i - n) * sizeof *argv);
        argc -= n;
        argv[argc] = NULL;
        break;
      }
  if (!iov_cli_parse_options (context, "trace", &argc, &argv))
    return IOV_CLI_EXIT_USAGE;
  if (preset != NULL || list_events != NULL)
    {
      if (qmp == NULL)
        return iov_cli_usage_error ("trace", _("--preset and --list-events need --qmp ADDRESS"));
      if (g_str_has_prefix (qmp, "http://") || g_str_has_prefix (qmp, "https://"))
        return iov_cli_usage_error ("trace", _("through a relay, use its POST /api/v1/vms/NAME/trace (docs/relay.md)"));
      if (argc > 1)
        return iov_cli_usage_error ("trace", _("--preset and --list-events take no SOURCE"));
      return trace_control (qmp, preset, !preset_off, list_events);
    }
  if (argc < 2)
    return iov_cli_usage_error ("trace", _("missing SOURCE (FILE, -, fifo:PATH or unix:PATH)"));
  if (argc > 2)
    return iov_cli_usage_error ("trace", _("unexpected argument “%s”"), argv[2]);
  if (stats && events)
    return iov_cli_usage_error ("trace", _("--stats and --events cannot be combined"));
  /* a reader of stdout that goes away (| head) must not kill us before a
   * recording is closed whole: writes fail with EPIPE instead */
  signal (SIGPIPE, SIG_IGN);

  if (infer != NULL && qmp != NULL)
    return iov_cli_usage_error ("trace", _("--infer and --qmp cannot be combined"));
  if (mappings_at != NULL || mappings_diff[0] != NULL)
    {
      const char *times[2] = { mappings_at ? mappings_at : mappings_diff[0], mappings_diff[1] };

      if (mappings_at != NULL && mappings_diff[0] != NULL)
        return iov_cli_usage_error ("trace", _("--mappings-at and --mappings-diff cannot be combined"));
      if (stats || events || compare)
        return iov_cli_usage_error ("trace", _("--mappings-at and --mappings-diff print mappings: they take neither "
                                               "--stats, --events nor --compare"));
      for (guint i = 0; i < 2 && times[i] != NULL; i++)
        {
          char *end = NULL;

          run.mappings_s[i] = g_ascii_strtod (times[i], &end);
          if (end == times[i] || *end != '\0' || !(run.mappings_s[i] >= 0) || run.mappings_s[i] > 1e9)
            return iov_cli_usage_error ("trace", _("“%s” is not a time in seconds from the trace's first event"),
                                        times[i]);
        }
      run.mappings = TRUE;
      run.mappings_diff = mappings_diff[0] != NULL;
    }
  if (profile_ids != NULL && !compare)
    return iov_cli_usage_error ("trace", _("--profile goes with --compare"));
  if (compare && (events || follow))
    return iov_cli_usage_error ("trace", _("--compare reads a whole file or recording: it takes neither --events "
                                           "nor --follow (record a live run with --record, then compare it)"));

  /* A recording reads back as the trace it holds, with its snapshot. */
  if (g_file_test (argv[1], G_FILE_TEST_IS_REGULAR) && iov_recording_is_recording (argv[1]))
    {
      recording = iov_recording_load (argv[1], &error);
      if (recording == NULL)
        return iov_cli_usage_error ("trace", "%s", error->message);
      /* what a crash left: read up to its last complete record, and say so */
      if (recording->cut != NULL)
        g_printerr ("iovista-cli trace: %s\n", recording->cut);
      if (infer == NULL && qmp == NULL && recording->snapshots->len > 0)
        snapshot = json_node_copy (g_ptr_array_index (recording->snapshots, recording->snapshots->len - 1));
    }
  if (infer != NULL)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();

      if (!json_parser_load_from_file (parser, infer, &error))
        return iov_cli_usage_error ("trace", "%s: %s", infer, error->message);
      snapshot = json_node_copy (json_parser_get_root (parser));
    }
  else if (qmp != NULL && (g_str_has_prefix (qmp, "http://") || g_str_has_prefix (qmp, "https://") ||
                          (recording == NULL && !follow && g_file_test (argv[1], G_FILE_TEST_IS_REGULAR))))
    {
      snapshot = g_str_has_prefix (qmp, "http://") || g_str_has_prefix (qmp, "https://")
                 ? iov_cli_relay_fetch_snapshot (qmp, token_file, &error)
                 : fetch_snapshot (qmp, &error);
      if (snapshot == NULL)
        {
          g_printerr ("iovista-cli trace: %s\n", error->message);
          return IOV_CLI_EXIT_UNREACHABLE;
        }
    }
  if (compare && snapshot == NULL)
    return iov_cli_usage_error ("trace", _("--compare needs the VM's topology: --infer SNAPSHOT, --qmp ADDRESS, "
                                           "or a recording that holds a snapshot"));
  if (compare)
    {
      g_autoptr(GPtrArray) chosen = g_ptr_array_new ();

      for (guint i = 0; profile_ids != NULL && profile_ids[i] != NULL; i++)
        {
          const IovProfile *profile = iov_profile_lookup (profile_ids[i]);

          if (profile == NULL)
            return iov_cli_usage_error ("trace", _("unknown profile “%s” (iovista-cli what-if --list-profiles)"),
                                        profile_ids[i]);
          g_ptr_array_add (chosen, (gpointer) profile);
        }
      run.compare = iov_compare_new (snapshot, chosen->len > 0 ? (const IovProfile **) chosen->pdata : NULL,
                                     chosen->len, &error);
      if (run.compare == NULL)
        return iov_cli_usage_error ("trace", "%s: %s", infer ? infer : qmp ? qmp : argv[1], error->message);
    }

  catalog = iov_trace_catalog_new_default (trace_events, &error);
  if (catalog == NULL)
    return iov_cli_usage_error ("trace", "%s", error->message);
  run.catalog = catalog;
  /* --compare prints neither traffic nor mappings: the document counts */
  run.doc = iov_trace_document_new (g_steal_pointer (&catalog),
                                    IOV_TRACE_DOCUMENT_KEEP_DELIVERIES | (compare ? IOV_TRACE_DOCUMENT_COUNT_ONLY : 0));
  /* --compare runs its own inference per release: the document only counts */
  if (snapshot != NULL && !compare && !iov_trace_document_set_snapshot (run.doc, snapshot, &error))
    {
      g_clear_object (&run.doc);
      return iov_cli_usage_error ("trace", "%s: %s", infer ? infer : qmp ? qmp : argv[1], error->message);
    }

  if (record != NULL)
    {
      run.record = iov_recording_writer_new (record, argv[1], &error);
      if (run.record == NULL)
        {
          g_clear_object (&run.doc);
          return iov_cli_usage_error ("trace", "%s", error->message);
        }
      if (snapshot != NULL)
        iov_recording_writer_snapshot (run.record, snapshot, g_get_real_time () * 1000, &run.record_error);
    }

  if (recording != NULL)
    {
      run.events = events;
      run.out = g_string_sized_new (128 * 1024);
      iov_trace_split_lines (recording->trace->str, recording->trace->len, handle_line, &run);
      return finish_run (&run, events, status);
    }

  /* A local QMP socket: the trace source is opened first (QEMU opens a
   * FIFO before it creates its QMP sockets), then QMP is tried until QEMU
   * answers; snapshots follow the VM (the document asks, topology_changed()). */
  if (qmp != NULL && snapshot == NULL && recording == NULL)
    {
      run.client = iov_qmp_client_new (qmp, &error);
      if (run.client == NULL)
        {
          g_clear_object (&run.doc);
          return iov_cli_usage_error ("trace", "%s", error->message);
        }
      iov_trace_document_set_follow_topology (run.doc, TRUE);
      g_signal_connect (run.doc, "topology-changed", G_CALLBACK (topology_changed), &run);
    }

  reader = iov_trace_reader_new (argv[1], follow ? IOV_TRACE_READER_FOLLOW : 0, &error);
  if (reader == NULL || !iov_trace_reader_start (reader, &error))
    {
      g_clear_object (&run.client);
      g_clear_object (&run.doc);
      return iov_cli_usage_error ("trace", "%s", error->message);
    }
  if (run.client != NULL)
    {
      g_signal_connect (run.client, "connected", G_CALLBACK (qmp_connected), &run);
      g_signal_connect (run.client, "disconnected", G_CALLBACK (qmp_disconnected), &run);
      iov_qmp_client_set_auto_reconnect (run.client, TRUE);
      iov_qmp_client_connect_async (run.client, NULL, qmp_first_connect, NULL);
    }
  if (iov_trace_reader_get_kind (reader) == IOV_TRACE_SOURCE_FIFO ||
      iov_trace_reader_get_kind (reader) == IOV_TRACE_SOURCE_UNIX)
    g_printerr (_("iovista-cli trace: %s is open for reading; start QEMU with: %s\n"),
                iov_trace_reader_get_path (reader),
                iov_trace_reader_get_qemu_hint (reader));

  sa.sa_handler = on_signal;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);

  run.events = events;
  run.live = iov_trace_reader_is_live (reader);
  run.out = g_string_sized_new (128 * 1024);

  while (!interrupted)
    {
      g_autoptr(GBytes) batch = NULL;

      /* QMP's replies are handled between batches. */
      while (g_main_context_iteration (NULL, FALSE))
        ;
      batch = iov_trace_reader_pop (reader, (run.client ? 20 : 200) * G_TIME_SPAN_MILLISECOND);
      if (batch != NULL)
        {
          gsize len;
          const char *data = g_bytes_get_data (batch, &len);

          iov_trace_split_lines (data, len, handle_line, &run);
        }
      else if (iov_trace_reader_is_done (reader))
        break;
    }
  iov_trace_reader_stop (reader);
  iov_trace_document_set_dropped (run.doc, iov_trace_reader_get_dropped_lines (reader));
  if (run.client != NULL)
    {
      g_signal_handlers_disconnect_by_data (run.client, &run);
      g_signal_handlers_disconnect_by_data (run.doc, &run);
      iov_qmp_client_close (run.client);
      g_clear_object (&run.client);
      iov_trace_document_set_follow_topology (run.doc, FALSE);
      if (iov_trace_document_get_inference (run.doc) == NULL)
        g_printerr (_("iovista-cli trace: no snapshot of %s arrived: counts only, no inference\n"), qmp);
    }

  if (!iov_trace_reader_get_error (reader, &error))
    {
      g_printerr ("iovista-cli trace: %s\n", error->message);
      status = IOV_CLI_EXIT_FAILURE;
    }
  return finish_run (&run, events, status);
}
