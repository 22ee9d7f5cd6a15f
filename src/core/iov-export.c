/* iov-export.c — model runs as Perfetto JSON and CSV
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

#define G_LOG_DOMAIN "iov-export"

#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "iov-export.h"
#include "iov-what-if.h"

static const char *result_names[] = { "delivered", "skipped-range", "skipped-flags", "abort" };

#define STEP_US  1000   /* one step per millisecond on the timeline */
#define EVENT_US 20     /* events of a step 20 µs apart */
#define SLICE_US 8

/* Tracks: tid 1 is the IOMMU, notifiers follow in order of appearance
 * (a name keeps its track across re-registrations). */
static int
track_for (GHashTable        *tracks,
           JsonBuilder       *b,
           const IovNotifier *n)
{
  gpointer tid;

  if (g_hash_table_lookup_extended (tracks, n->name, NULL, &tid))
    return GPOINTER_TO_INT (tid);

  tid = GINT_TO_POINTER (g_hash_table_size (tracks) + 2);
  g_hash_table_insert (tracks, n->name, tid);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ph"); json_builder_add_string_value (b, "M");
  json_builder_set_member_name (b, "name"); json_builder_add_string_value (b, "thread_name");
  json_builder_set_member_name (b, "pid"); json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "tid"); json_builder_add_int_value (b, GPOINTER_TO_INT (tid));
  json_builder_set_member_name (b, "args");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  {
    g_autofree char *label = g_strdup_printf ("%s (%s)", n->name, n->owner ? n->owner : "notifier");
    json_builder_add_string_value (b, label);
  }
  json_builder_end_object (b);
  json_builder_end_object (b);
  return GPOINTER_TO_INT (tid);
}

static void
add_hex (JsonBuilder *b,
         const char  *name,
         guint64      v)
{
  char buf[20];

  iov_hex_buf (v, buf);
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, buf);
}

static void
begin_event (JsonBuilder *b,
             const char  *ph,
             const char  *name,
             int          tid,
             gint64       ts)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ph"); json_builder_add_string_value (b, ph);
  json_builder_set_member_name (b, "name"); json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "cat"); json_builder_add_string_value (b, "iommu");
  json_builder_set_member_name (b, "pid"); json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "tid"); json_builder_add_int_value (b, tid);
  json_builder_set_member_name (b, "ts"); json_builder_add_int_value (b, ts);
}

static void
add_metadata (JsonBuilder *b,
              const char  *kind,
              int          tid,
              const char  *value)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ph"); json_builder_add_string_value (b, "M");
  json_builder_set_member_name (b, "name"); json_builder_add_string_value (b, kind);
  json_builder_set_member_name (b, "pid"); json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "tid"); json_builder_add_int_value (b, tid);
  json_builder_set_member_name (b, "args");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name"); json_builder_add_string_value (b, value);
  json_builder_end_object (b);
  json_builder_end_object (b);
}

void
iov_export_perfetto (const IovRun *run,
                     GString      *out)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GHashTable) tracks = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *process = g_strdup_printf ("QEMU model: %s", run->profile->label);
  g_autofree char *text = NULL;
  gint64 flow_id = 0;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "displayTimeUnit");
  json_builder_add_string_value (b, "ns");
  json_builder_set_member_name (b, "traceEvents");
  json_builder_begin_array (b);

  add_metadata (b, "process_name", 0, process);
  add_metadata (b, "thread_name", 1, "IOMMU");

  for (guint s = 0; s < run->steps->len; s++)
    {
      const IovStepResult *step = &g_array_index (run->steps, IovStepResult, s);
      gint64 step_ts = (gint64) s * STEP_US;

      if (step->not_run)
        continue;

      /* The step itself, on the IOMMU track. */
      begin_event (b, "X", iov_step_op_to_string (step->op), 1, step_ts);
      json_builder_set_member_name (b, "dur");
      json_builder_add_int_value (b, MAX (1, (gint64) step->events->len) * EVENT_US);
      json_builder_set_member_name (b, "args");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "step"); json_builder_add_int_value (b, s);
      if (step->explain)
        {
          json_builder_set_member_name (b, "explain");
          json_builder_add_string_value (b, step->explain);
        }
      json_builder_end_object (b);
      json_builder_end_object (b);

      for (guint e = 0; e < step->events->len; e++)
        {
          const IovTlbEvent *ev = &g_array_index (step->events, IovTlbEvent, e);
          gint64 ts = step_ts + (gint64) e * EVENT_US;

          begin_event (b, "X", iov_event_type_to_string (ev->type), 1, ts);
          json_builder_set_member_name (b, "dur"); json_builder_add_int_value (b, SLICE_US);
          json_builder_set_member_name (b, "args");
          json_builder_begin_object (b);
          add_hex (b, "iova", ev->iova);
          add_hex (b, "addr_mask", ev->addr_mask);
          json_builder_set_member_name (b, "perm");
          json_builder_add_string_value (b, iov_perm_to_string (ev->perm));
          json_builder_end_object (b);
          json_builder_end_object (b);
        }

      for (guint o = 0; o < step->outcomes->len; o++)
        {
          const IovOutcome *out_ = &g_array_index (step->outcomes, IovOutcome, o);
          gint64 ts = step_ts + (out_->event >= 0 ? out_->event : (gint) step->events->len) * EVENT_US + 1 + o % 8;
          int tid = out_->notifier ? track_for (tracks, b, out_->notifier) : 1;

          if (out_->result == IOV_RESULT_ABORT)
            {
              g_autofree char *msg = iov_outcome_message (step, run->profile, out_);

              begin_event (b, "i", "QEMU aborts", tid, ts);
              json_builder_set_member_name (b, "s"); json_builder_add_string_value (b, "g");
              json_builder_set_member_name (b, "args");
              json_builder_begin_object (b);
              json_builder_set_member_name (b, "message"); json_builder_add_string_value (b, msg ? msg : "");
              json_builder_end_object (b);
              json_builder_end_object (b);
              continue;
            }

          begin_event (b, "X", result_names[out_->result], tid, ts);
          json_builder_set_member_name (b, "dur"); json_builder_add_int_value (b, SLICE_US - 2);
          json_builder_set_member_name (b, "args");
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "outcome"); json_builder_add_string_value (b, result_names[out_->result]);
          json_builder_set_member_name (b, "event"); json_builder_add_int_value (b, out_->event);
          if (out_->result == IOV_RESULT_DELIVERED)
            {
              json_builder_set_member_name (b, "type");
              json_builder_add_string_value (b, iov_event_type_to_string (out_->type));
              add_hex (b, "iova", out_->iova);
              add_hex (b, "addr_mask", out_->addr_mask);
              json_builder_set_member_name (b, "cropped"); json_builder_add_boolean_value (b, out_->cropped);
            }
          json_builder_end_object (b);
          json_builder_end_object (b);

          /* A flow from the event on the IOMMU track to this delivery. */
          if (out_->result == IOV_RESULT_DELIVERED && out_->event >= 0)
            {
              gint64 ev_ts = step_ts + (gint64) out_->event * EVENT_US;

              begin_event (b, "s", "delivery", 1, ev_ts + 1);
              json_builder_set_member_name (b, "id"); json_builder_add_int_value (b, flow_id);
              json_builder_end_object (b);
              begin_event (b, "f", "delivery", tid, ts + 1);
              json_builder_set_member_name (b, "id"); json_builder_add_int_value (b, flow_id);
              json_builder_set_member_name (b, "bp"); json_builder_add_string_value (b, "e");
              json_builder_end_object (b);
              flow_id++;
            }
        }
    }

  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  g_string_append (out, text);
  g_string_append_c (out, '\n');
}

static void
csv_field (GString    *out,
           const char *text)
{
  /* RFC 4180: quote when needed, double the quotes. */
  if (text == NULL)
    return;
  if (strpbrk (text, ",\"\n\r") == NULL)
    {
      g_string_append (out, text);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = text; *p; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

void
iov_export_csv (const IovRun *run,
                GString      *out)
{
  char buf[20];

  g_string_append (out, "profile,step,op,event,event_type,event_iova,event_addr_mask,"
                        "notifier,owner,result,type,iova,addr_mask,cropped,message\r\n");

  for (guint s = 0; s < run->steps->len; s++)
    {
      const IovStepResult *step = &g_array_index (run->steps, IovStepResult, s);

      if (step->not_run)
        continue;
      for (guint o = 0; o < step->outcomes->len; o++)
        {
          const IovOutcome *oc = &g_array_index (step->outcomes, IovOutcome, o);
          const IovTlbEvent *ev = oc->event >= 0 ? &g_array_index (step->events, IovTlbEvent, oc->event) : NULL;
          g_autofree char *msg = oc->result == IOV_RESULT_ABORT ? iov_outcome_message (step, run->profile, oc) : NULL;

          g_string_append_printf (out, "%s,%u,%s,", run->profile->id, s, iov_step_op_to_string (step->op));
          if (ev != NULL)
            {
              g_string_append_printf (out, "%d,%s,", oc->event, iov_event_type_to_string (ev->type));
              iov_hex_buf (ev->iova, buf);
              g_string_append_printf (out, "%s,", buf);
              iov_hex_buf (ev->addr_mask, buf);
              g_string_append_printf (out, "%s,", buf);
            }
          else
            g_string_append (out, ",,,,");
          csv_field (out, oc->notifier ? oc->notifier->name : NULL);
          g_string_append_c (out, ',');
          csv_field (out, oc->notifier ? oc->notifier->owner : NULL);
          g_string_append_printf (out, ",%s,", result_names[oc->result]);
          if (oc->result == IOV_RESULT_DELIVERED)
            {
              g_string_append_printf (out, "%s,", iov_event_type_to_string (oc->type));
              iov_hex_buf (oc->iova, buf);
              g_string_append_printf (out, "%s,", buf);
              iov_hex_buf (oc->addr_mask, buf);
              g_string_append_printf (out, "%s,%s,", buf, oc->cropped ? "true" : "false");
            }
          else
            g_string_append (out, ",,,,");
          csv_field (out, msg);
          g_string_append (out, "\r\n");
        }
    }
}

/* ---- a trace's traffic ---------------------------------------------------- */

#define SECOND_NS G_GUINT64_CONSTANT (1000000000)

/* The devices with traffic, then NULL for the unattributed lines. */
static GPtrArray *
traffic_devices (IovTraffic *traffic)
{
  GPtrArray *devices = iov_traffic_get_devices (traffic);

  g_ptr_array_add (devices, NULL);
  return devices;
}

/* @device's counts per second: n_seconds bins per count, count after count. */
static guint64 *
traffic_per_second (IovTraffic *traffic,
                    const char *device,
                    guint64     t0_ns,
                    guint       n_seconds)
{
  guint64 *bins = g_new0 (guint64, (gsize) n_seconds * IOV_TRAFFIC_N_COUNTS);

  for (guint c = 0; c < IOV_TRAFFIC_N_COUNTS; c++)
    iov_traffic_get_rate (traffic, device, c, t0_ns, SECOND_NS, n_seconds, bins + (gsize) c * n_seconds);
  return bins;
}

static guint
n_seconds_of (guint64 t0_ns,
              guint64 t1_ns)
{
  return t1_ns > t0_ns ? (guint) MIN ((t1_ns - t0_ns) / SECOND_NS + 1, G_MAXUINT32 / IOV_TRAFFIC_N_COUNTS) : 1;
}

void
iov_export_traffic_csv (IovTraffic *traffic,
                        guint64     t0_ns,
                        guint64     t1_ns,
                        GString    *out)
{
  g_autoptr(GPtrArray) names = NULL;
  guint n_seconds = n_seconds_of (t0_ns, t1_ns);

  g_return_if_fail (traffic != NULL && out != NULL);

  names = traffic_devices (traffic);
  g_string_append (out, "second,device");
  for (guint c = 0; c < IOV_TRAFFIC_N_COUNTS; c++)
    g_string_append_printf (out, ",%s", iov_traffic_count_name (c));
  g_string_append (out, "\r\n");
  for (guint d = 0; d < names->len; d++)
    {
      const char *device = g_ptr_array_index (names, d);
      g_autofree guint64 *bins = traffic_per_second (traffic, device, t0_ns, n_seconds);

      for (guint s = 0; s < n_seconds; s++)
        {
          guint64 any = 0;

          for (guint c = 0; c < IOV_TRAFFIC_N_COUNTS; c++)
            any |= bins[(gsize) c * n_seconds + s];
          if (any == 0)
            continue;
          g_string_append_printf (out, "%u,%s", s, device ? device : "unattributed");
          for (guint c = 0; c < IOV_TRAFFIC_N_COUNTS; c++)
            g_string_append_printf (out, ",%" G_GUINT64_FORMAT, bins[(gsize) c * n_seconds + s]);
          g_string_append (out, "\r\n");
        }
    }
}

void
iov_export_traffic_perfetto (IovTraffic *traffic,
                             guint64     t0_ns,
                             guint64     t1_ns,
                             GString    *out)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GPtrArray) names = NULL;
  g_autofree char *text = NULL;
  guint n_seconds = n_seconds_of (t0_ns, t1_ns);

  g_return_if_fail (traffic != NULL && out != NULL);

  names = traffic_devices (traffic);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "displayTimeUnit");
  json_builder_add_string_value (b, "ns");
  json_builder_set_member_name (b, "traceEvents");
  json_builder_begin_array (b);
  add_metadata (b, "process_name", 0, "IOTLB traffic per second");
  for (guint d = 0; d < names->len; d++)
    {
      const char *device = g_ptr_array_index (names, d);
      g_autofree guint64 *bins = traffic_per_second (traffic, device, t0_ns, n_seconds);
      g_autofree char *track = g_strdup_printf ("%s IOTLB traffic/s", device ? device : "unattributed");
      guint64 total = 0;

      for (gsize i = 0; i < (gsize) n_seconds * IOV_TRAFFIC_N_COUNTS; i++)
        total += bins[i];
      if (total == 0)
        continue;
      /* one sample per second, and one at the end so the last second
       * shows its width; the time is the trace's, from its first event */
      for (guint s = 0; s <= n_seconds; s++)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "ph"); json_builder_add_string_value (b, "C");
          json_builder_set_member_name (b, "name"); json_builder_add_string_value (b, track);
          json_builder_set_member_name (b, "pid"); json_builder_add_int_value (b, 1);
          json_builder_set_member_name (b, "ts"); json_builder_add_int_value (b, (gint64) s * 1000000);
          json_builder_set_member_name (b, "args");
          json_builder_begin_object (b);
          for (guint c = 0; c < IOV_TRAFFIC_N_COUNTS; c++)
            {
              json_builder_set_member_name (b, iov_traffic_count_name (c));
              json_builder_add_int_value (b, s < n_seconds ? (gint64) bins[(gsize) c * n_seconds + s] : 0);
            }
          json_builder_end_object (b);
          json_builder_end_object (b);
        }
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  g_string_append (out, text);
}

gboolean
iov_export_document_traffic (IovTraceDocument  *doc,
                             const char        *format,
                             GString           *out,
                             GError           **error)
{
  const IovTraceStats *stats;
  guint64 t0, t1;

  g_return_val_if_fail (IOV_IS_TRACE_DOCUMENT (doc), FALSE);
  g_return_val_if_fail (format != NULL && out != NULL, FALSE);

  if (!g_str_equal (format, "perfetto") && !g_str_equal (format, "csv"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("a trace exports its IOTLB traffic as perfetto or csv, not “%s”"), format);
      return FALSE;
    }
  stats = iov_trace_document_get_stats (doc);
  if (!stats->have_ts)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("no timed trace line (QEMU's log backend prints PID@SECONDS:EVENT)"));
      return FALSE;
    }
  t0 = stats->first_sec * G_GUINT64_CONSTANT (1000000000) + stats->first_usec * G_GUINT64_CONSTANT (1000);
  t1 = stats->last_sec * G_GUINT64_CONSTANT (1000000000) + stats->last_usec * G_GUINT64_CONSTANT (1000);
  if (g_str_equal (format, "perfetto"))
    iov_export_traffic_perfetto (iov_trace_document_get_traffic (doc), t0, t1, out);
  else
    iov_export_traffic_csv (iov_trace_document_get_traffic (doc), t0, t1, out);
  return TRUE;
}
