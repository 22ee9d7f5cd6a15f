/* iov-compare-run.c
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

#define G_LOG_DOMAIN "iov-compare"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "iov-compare-run.h"
#include "iov-trace-events.h"
#include "iov-trace-parser.h"

typedef struct
{
  IovTraceCatalog *catalog;
  IovCompare      *compare;
  GArray          *event_lines;
  guint64          line;
} Reading;

static void
read_line (const char *text,
           gsize       len,
           gboolean    cut,
           gpointer    user_data)
{
  Reading *r = user_data;
  IovTraceLine line;
  char name[128];

  /* numbered as iovista-cli trace numbers them; every event line is one
   * event of the view's store, in order */
  r->line++;
  if (iov_trace_parse_line (r->catalog, text, len, &line) != IOV_TRACE_LINE_EVENT)
    return;
  g_array_append_val (r->event_lines, r->line);
  if (line.name_len >= sizeof name)
    return;
  memcpy (name, line.name, line.name_len);
  name[line.name_len] = '\0';
  iov_compare_feed (r->compare, line.has_ts ? line.ts_ns : 0, r->line, name, line.args, line.args_len);
}

IovCompareRun *
iov_compare_run_text (JsonNode    *snapshot,
                      const char  *text,
                      gsize        len,
                      GError     **error)
{
  g_autoptr(IovTraceCatalog) catalog = NULL;
  g_autoptr(IovCompare) compare = NULL;
  IovCompareRun *self;
  Reading r = { 0 };

  g_return_val_if_fail (snapshot != NULL, NULL);
  g_return_val_if_fail (text != NULL || len == 0, NULL);

  compare = iov_compare_new (snapshot, NULL, 0, error);
  if (compare == NULL)
    return NULL;
  catalog = iov_trace_catalog_new_default (NULL, error);
  if (catalog == NULL)
    return NULL;
  r.catalog = catalog;
  r.compare = compare;
  r.event_lines = g_array_new (FALSE, FALSE, sizeof (guint64));
  iov_trace_split_lines (text, len, read_line, &r);
  iov_compare_finish (compare);

  self = g_new0 (IovCompareRun, 1);
  self->result = iov_compare_to_json (compare);
  self->event_lines = r.event_lines;
  self->divergence_lines = g_array_ref (iov_compare_get_divergence_lines (compare));
  return self;
}

struct _IovCompareReplay
{
  IovTraceDocument *doc;
  IovCompare       *compare;
  GArray           *event_lines;
  GString          *args;
  guint64           next;
  guint64           end;
};

/**
 * iov_compare_replay_new:
 * @doc: a document that keeps its events (IOV_TRACE_DOCUMENT_KEEP_EVENTS)
 */
IovCompareReplay *
iov_compare_replay_new (JsonNode          *snapshot,
                        IovTraceDocument  *doc,
                        GError           **error)
{
  g_autoptr(IovCompare) compare = NULL;
  IovCompareReplay *self;
  IovEventStore *store;

  g_return_val_if_fail (snapshot != NULL, NULL);
  g_return_val_if_fail (IOV_IS_TRACE_DOCUMENT (doc), NULL);

  store = iov_trace_document_get_store (doc);
  if (store == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           _("This trace keeps no events to replay"));
      return NULL;
    }
  compare = iov_compare_new (snapshot, NULL, 0, error);
  if (compare == NULL)
    return NULL;
  self = g_new0 (IovCompareReplay, 1);
  self->doc = g_object_ref (doc);
  self->compare = g_steal_pointer (&compare);
  self->event_lines = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->args = g_string_sized_new (256);
  self->end = iov_event_store_get_n_events (store);
  return self;
}

gboolean
iov_compare_replay_step (IovCompareReplay *self,
                         guint             max_events)
{
  IovEventStore *store = iov_trace_document_get_store (self->doc);
  IovTraceCatalog *catalog = iov_trace_document_get_catalog (self->doc);
  guint64 stop = MIN (self->end, self->next + max_events);

  for (; self->next < stop; self->next++)
    {
      guint64 line = iov_trace_document_get_event_line (self->doc, self->next);
      IovEventRecord record;
      const char *name;

      g_array_append_val (self->event_lines, line);
      if (!iov_event_store_get (store, self->next, &record) ||
          (name = iov_trace_catalog_get_name (catalog, record.event_id)) == NULL ||
          strlen (name) >= 128)  /* as iov_compare_run_text() skips them */
        continue;
      g_string_truncate (self->args, 0);
      iov_event_store_render_args (store, self->next, self->args);
      iov_compare_feed (self->compare, record.ts_ns, line, name, self->args->str, self->args->len);
    }
  return self->next >= self->end;
}

void
iov_compare_replay_get_progress (IovCompareReplay *self,
                                 guint64          *done,
                                 guint64          *total)
{
  if (done)
    *done = self->next;
  if (total)
    *total = self->end;
}

IovCompareRun *
iov_compare_replay_finish (IovCompareReplay *self)
{
  IovCompareRun *run;

  g_return_val_if_fail (self->next >= self->end, NULL);

  iov_compare_finish (self->compare);
  run = g_new0 (IovCompareRun, 1);
  run->result = iov_compare_to_json (self->compare);
  run->event_lines = g_steal_pointer (&self->event_lines);
  run->divergence_lines = g_array_ref (iov_compare_get_divergence_lines (self->compare));
  self->event_lines = g_array_new (FALSE, FALSE, sizeof (guint64));
  return run;
}

void
iov_compare_replay_free (IovCompareReplay *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->doc);
  g_clear_pointer (&self->compare, iov_compare_free);
  g_clear_pointer (&self->event_lines, g_array_unref);
  g_string_free (self->args, TRUE);
  g_free (self);
}

void
iov_compare_run_free (IovCompareRun *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->result, json_node_unref);
  g_clear_pointer (&self->event_lines, g_array_unref);
  g_clear_pointer (&self->divergence_lines, g_array_unref);
  g_free (self);
}

guint64
iov_compare_run_event_of_line (IovCompareRun *self,
                               guint64        line)
{
  guint lo = 0, hi = self->event_lines->len;

  /* the lines only grow: a binary search */
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (self->event_lines, guint64, mid) < line)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo < self->event_lines->len && g_array_index (self->event_lines, guint64, lo) == line)
    return lo;
  return G_MAXUINT64;
}

guint64
iov_compare_run_line_of_event (IovCompareRun *self,
                               guint64        event)
{
  if (event >= self->event_lines->len)
    return 0;
  return g_array_index (self->event_lines, guint64, event);
}

/* ---- the sentence ------------------------------------------------------- */

char *
iov_compare_range_label (const IovProfile *first,
                         const IovProfile *last)
{
  guint n;
  const IovProfile *const *table = iov_profile_list (&n);

  if (first == last)
    return g_strdup_printf ("%u.%u", first->major, first->minor);
  /* to the newest release the model knows: and later */
  if (last == table[n - 1])
    return g_strdup_printf ("%u.%u+", first->major, first->minor);
  return g_strdup_printf ("%u.%u–%u.%u", first->major, first->minor, last->major, last->minor);
}

/* "softmmu/memory.c:1959: memory_region_notify_one: …" → "memory.c:1959" */
static char *
abort_place (const char *message)
{
  g_auto(GStrv) parts = g_strsplit (message ? message : "", ":", 3);
  g_autofree char *base = NULL;

  if (g_strv_length (parts) < 3)
    return g_strdup (message ? message : "");
  base = g_path_get_basename (parts[0]);
  return g_strdup_printf ("%s:%s", base, parts[1]);
}

typedef struct
{
  const IovProfile *first, *last;
  char             *key;      /* what they did, as one string: runs share it */
  char             *phrase;   /* "%s …": the range goes in */
} Run;

static void
run_clear (Run *run)
{
  g_free (run->key);
  g_free (run->phrase);
}

/* What @profile did at the divergence @outcomes (of @line), as a key and
 * a phrase; FALSE when it did nothing there worth saying (it skipped, or
 * stopped before). */
static gboolean
describe (const IovProfile *profile,
          JsonObject       *run,
          JsonObject       *outcomes,
          guint64           line,
          char            **key,
          char            **phrase)
{
  JsonNode *abort = json_object_get_member (run, "abort");
  JsonObject *mine;
  g_autoptr(GList) names = NULL;
  gboolean cropped = FALSE, delivered = FALSE;

  if (abort != NULL && JSON_NODE_HOLDS_OBJECT (abort) &&
      (guint64) json_object_get_int_member (json_node_get_object (abort), "line") == line)
    {
      g_autofree char *place = abort_place (json_object_get_string_member (json_node_get_object (abort), "message"));

      *key = g_strdup_printf ("abort %s", place);
      /* Translators: %%s is a range of QEMU releases ("5.2", "QEMU 6.0–10.1"),
       * the second %s where QEMU asserts ("memory.c:1959") */
      *phrase = g_strdup_printf (_("%%s would have aborted here (%s …)"), place);
      return TRUE;
    }
  if (outcomes == NULL || !json_object_has_member (outcomes, profile->id))
    return FALSE;
  mine = json_object_get_object_member (outcomes, profile->id);
  names = json_object_get_members (mine);
  for (GList *l = names; l != NULL; l = l->next)
    {
      const char *word = json_object_get_string_member (mine, l->data);

      cropped |= g_strcmp0 (word, "cropped") == 0;
      delivered |= g_strcmp0 (word, "delivered") == 0;
    }
  if (cropped)
    {
      /* the release's rule says when it crops (iov_notify_one()) */
      *key = g_strdup_printf ("cropped %d", profile->era);
      *phrase = g_strdup (profile->era == IOV_ERA_6_0
                          /* Translators: %s is a range of QEMU releases */
                          ? _("%s crop it for DEVIOTLB notifiers")
                          /* Translators: %s is a range of QEMU releases */
                          : _("%s crop always"));
      return TRUE;
    }
  if (delivered)
    {
      *key = g_strdup ("delivered");
      /* Translators: %s is a range of QEMU releases */
      *phrase = g_strdup (_("%s deliver it whole"));
      return TRUE;
    }
  *key = g_strdup ("skipped");
  /* Translators: %s is a range of QEMU releases */
  *phrase = g_strdup (_("%s notify no one"));
  return TRUE;
}

char *
iov_compare_headline (JsonNode *result,
                      guint64   line)
{
  JsonObject *root, *profiles, *outcomes = NULL;
  JsonArray *divergences;
  g_autoptr(GArray) runs = g_array_new (FALSE, TRUE, sizeof (Run));
  g_autoptr(GString) out = g_string_new (NULL);
  const IovProfile *const *table;
  guint n;

  g_return_val_if_fail (result != NULL && JSON_NODE_HOLDS_OBJECT (result), NULL);

  g_array_set_clear_func (runs, (GDestroyNotify) run_clear);
  root = json_node_get_object (result);
  profiles = json_object_get_object_member (root, "profiles");
  divergences = json_object_get_array_member (root, "divergences");
  for (guint i = 0; i < json_array_get_length (divergences); i++)
    {
      JsonObject *d = json_array_get_object_element (divergences, i);

      if ((guint64) json_object_get_int_member (d, "line") == line)
        outcomes = json_object_get_object_member (d, "outcomes");
    }

  /* the releases in the table's order: neighbours that did the same make
   * one range */
  table = iov_profile_list (&n);
  for (guint i = 0; i < n; i++)
    {
      const IovProfile *profile = table[i];
      g_autofree char *key = NULL;
      g_autofree char *phrase = NULL;
      Run *last = runs->len > 0 ? &g_array_index (runs, Run, runs->len - 1) : NULL;

      if (!json_object_has_member (profiles, profile->id))
        continue;
      if (!describe (profile, json_object_get_object_member (profiles, profile->id), outcomes, line, &key, &phrase))
        continue;
      if (last != NULL && g_str_equal (last->key, key))
        last->last = profile;
      else
        {
          Run run = { profile, profile, g_steal_pointer (&key), g_steal_pointer (&phrase) };

          g_array_append_val (runs, run);
        }
    }
  if (runs->len == 0)
    return NULL;
  for (guint i = 0; i < runs->len; i++)
    {
      Run *run = &g_array_index (runs, Run, i);
      g_autofree char *range = iov_compare_range_label (run->first, run->last);
      g_autofree char *who = NULL;
      g_autofree char *said = NULL;

      /* Translators: the first range of releases in a sentence, "QEMU 5.2" */
      who = i == 0 ? g_strdup_printf (_("QEMU %s"), range) : g_strdup (range);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
      said = g_strdup_printf (run->phrase, who);
#pragma GCC diagnostic pop
      if (i > 0)
        g_string_append (out, "; ");
      g_string_append (out, said);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
