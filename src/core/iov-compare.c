/* iov-compare.c
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

#include "iov-compare.h"
#include "iov-types.h"

/* Every release runs its own inference over the same lines (no scenario
 * JSON in between); releases whose rows share every rule the model has
 * (iov_profile_same_rules()) share one pass, their abort messages still
 * their own. Each inference lets its deliveries go in line order
 * once settled, so the releases' outcomes are merged line by line up to
 * the oldest line any of them still holds, and memory stays bounded. */

#define MAX_DIVERGENCES 1000

typedef struct
{
  guint64 delivered, skipped, aborts, observed, cropped;
  guint64 by_type[3];   /* map, unmap, deviotlb-unmap */
} Counts;

/* A notifier's outcome of one line (several deliveries of an event split
 * in chunks make one): merging compares these, without a string built
 * or an allocation per delivery. */
typedef struct
{
  const char *name;          /* the notifier's; its pass owns it */
  guint       rank;          /* RANK_* */
} Word;

enum { RANK_SKIPPED, RANK_DELIVERED, RANK_CROPPED, RANK_ABORT };

static const char *const rank_words[] = { "skipped", "delivered", "cropped", "abort" };

typedef struct
{
  GPtrArray    *members;     /* const IovProfile*: releases that behave alike */
  IovInference *inference;
  GArray       *out;         /* IovDelivery, settled, not merged yet */
  guint         next;        /* first of out not merged */
  GHashTable   *counts;      /* const IovNotifier* → Counts */
  const IovNotifier *last;   /* the notifier counted last, and its counts */
  Counts       *last_counts;
  GArray       *words;       /* Word: this pass's outcomes of the line being merged */
  gboolean      has_words;   /* FALSE: aborted before that line */
} Pass;

struct _IovCompare
{
  GPtrArray *passes;         /* Pass* */
  GPtrArray *divergences;    /* JsonNode* */
  guint64    n_divergences;
  guint64    n_walk_events;  /* events whose notifications need the guest's tables */
};

static void
pass_free (Pass *pass)
{
  g_ptr_array_unref (pass->members);
  iov_inference_free (pass->inference);
  g_array_unref (pass->out);
  g_hash_table_unref (pass->counts);
  g_array_unref (pass->words);
  g_free (pass);
}

void
iov_compare_free (IovCompare *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->passes);
  g_ptr_array_unref (self->divergences);
  g_free (self);
}

/* Two releases that take the same path through every rule the model has
 * give the same outcomes on any trace: one pass serves both (their abort
 * messages still differ, by file and line). */
/* The snapshot as @profile would have registered its notifiers: vhost's
 * flag by the release's rule (reference §3), never the tracing release's;
 * under the ATS rule, the trace's evidence decides it as it does live. */
static JsonNode *
snapshot_for (JsonNode         *snapshot,
              const IovProfile *profile)
{
  JsonNode *copy = json_node_copy (snapshot);
  JsonObject *root = json_node_get_object (copy);
  JsonNode *iommu = json_object_get_member (root, "iommu");
  JsonNode *spaces = json_object_get_member (root, "address_spaces");
  gboolean device_iotlb = FALSE;
  gboolean intel = FALSE;

  if (iommu != NULL && JSON_NODE_HOLDS_OBJECT (iommu))
    {
      JsonObject *o = json_node_get_object (iommu);
      JsonNode *props = json_object_get_member (o, "properties");

      intel = g_strcmp0 (json_object_get_string_member_with_default (o, "type", NULL), "intel-iommu") == 0;
      if (props != NULL && JSON_NODE_HOLDS_OBJECT (props))
        device_iotlb = json_object_get_boolean_member_with_default (json_node_get_object (props),
                                                                      "device-iotlb", FALSE);
    }
  for (guint i = 0; spaces != NULL && JSON_NODE_HOLDS_ARRAY (spaces) &&
                    i < json_array_get_length (json_node_get_array (spaces)); i++)
    {
      JsonObject *as = json_array_get_object_element (json_node_get_array (spaces), i);
      JsonNode *ns = as ? json_object_get_member (as, "notifiers") : NULL;

      for (guint j = 0; ns != NULL && JSON_NODE_HOLDS_ARRAY (ns) && j < json_array_get_length (json_node_get_array (ns)); j++)
        {
          JsonObject *n = json_array_get_object_element (json_node_get_array (ns), j);

          if (n == NULL || g_strcmp0 (json_object_get_string_member_with_default (n, "consumer", NULL), "vhost") != 0)
            continue;
          switch (profile->vhost)
            {
            case IOV_VHOST_UNMAP:
              json_object_set_string_member (n, "flags", "unmap");
              json_object_set_string_member (n, "flags_source", "profile");
              break;
            case IOV_VHOST_TRY_DEVIOTLB:
              /* the IOMMU refuses DEVIOTLB_UNMAP without a device IOTLB */
              json_object_set_string_member (n, "flags", intel && device_iotlb ? "deviotlb-unmap" : "unmap");
              json_object_set_string_member (n, "flags_source", "profile");
              break;
            case IOV_VHOST_BY_ATS:
            default:
              json_object_set_null_member (n, "flags");
              json_object_remove_member (n, "flags_source");
              break;
            }
        }
    }
  return copy;
}

IovCompare *
iov_compare_new (JsonNode          *snapshot,
                 const IovProfile **profiles,
                 guint              n_profiles,
                 GError           **error)
{
  g_autoptr(IovCompare) self = g_new0 (IovCompare, 1);

  g_return_val_if_fail (snapshot != NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (snapshot))
    {
      g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, _("a snapshot is a JSON object"));
      return NULL;
    }
  if (profiles == NULL)
    profiles = iov_profile_list (&n_profiles);

  self->passes = g_ptr_array_new_with_free_func ((GDestroyNotify) pass_free);
  self->divergences = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  for (guint i = 0; i < n_profiles; i++)
    {
      const IovProfile *profile = profiles[i];
      g_autoptr(JsonNode) mine = NULL;
      Pass *pass = NULL;

      for (guint p = 0; p < self->passes->len && pass == NULL; p++)
        {
          Pass *other = g_ptr_array_index (self->passes, p);

          if (iov_profile_same_rules (g_ptr_array_index (other->members, 0), profile))
            pass = other;
        }
      if (pass != NULL)
        {
          if (!g_ptr_array_find (pass->members, profile, NULL))
            g_ptr_array_add (pass->members, (gpointer) profile);
          continue;
        }
      mine = snapshot_for (snapshot, profile);
      pass = g_new0 (Pass, 1);
      pass->members = g_ptr_array_new ();
      g_ptr_array_add (pass->members, (gpointer) profile);
      pass->out = g_array_new (FALSE, FALSE, sizeof (IovDelivery));
      pass->words = g_array_new (FALSE, FALSE, sizeof (Word));
      pass->counts = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
      pass->inference = iov_inference_new_from_snapshot (mine, profile, error);
      if (pass->inference == NULL)
        {
          pass_free (pass);
          return NULL;
        }
      g_ptr_array_add (self->passes, pass);
    }
  return g_steal_pointer (&self);
}

guint
iov_compare_get_n_passes (IovCompare *self)
{
  return self->passes->len;
}

/* ---- merging ------------------------------------------------------------ */

static guint
outcome_rank (const IovDelivery *d)
{
  switch (d->outcome.result)
    {
    case IOV_RESULT_DELIVERED:
      return d->outcome.cropped ? RANK_CROPPED : RANK_DELIVERED;
    case IOV_RESULT_ABORT:
      return RANK_ABORT;
    case IOV_RESULT_SKIPPED_RANGE:
    case IOV_RESULT_SKIPPED_FLAGS:
    default:
      return RANK_SKIPPED;
    }
}

static void
count (Pass              *pass,
       const IovDelivery *d)
{
  Counts *c = pass->last == d->notifier ? pass->last_counts : g_hash_table_lookup (pass->counts, d->notifier);

  if (c == NULL)
    {
      c = g_new0 (Counts, 1);
      g_hash_table_insert (pass->counts, (gpointer) d->notifier, c);
    }
  pass->last = d->notifier;
  pass->last_counts = c;
  if (d->outcome.result == IOV_RESULT_DELIVERED)
    {
      c->delivered++;
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
  c->observed += d->kind == IOV_DELIVERY_OBSERVED;
}

/* Pass @pass's outcomes of @line, from its next unmerged delivery on,
 * into pass->words: one per notifier (the strongest), sorted by name. */
static void
take_line (Pass    *pass,
           guint64  line)
{
  GArray *words = pass->words;

  g_array_set_size (words, 0);
  while (pass->next < pass->out->len)
    {
      const IovDelivery *d = &g_array_index (pass->out, IovDelivery, pass->next);
      Word w;
      guint at;

      if (d->line != line)
        break;
      count (pass, d);
      pass->next++;
      if (d->notifier == NULL)
        continue;
      w.name = d->notifier->name;
      w.rank = outcome_rank (d);
      /* a handful of notifiers: an insertion keeps the order */
      for (at = 0; at < words->len; at++)
        {
          Word *other = &g_array_index (words, Word, at);
          int cmp = other->name == w.name ? 0 : strcmp (other->name, w.name);

          if (cmp == 0)
            {
              other->rank = MAX (other->rank, w.rank);
              break;
            }
          if (cmp > 0)
            {
              g_array_insert_val (words, at, w);
              break;
            }
        }
      if (at == words->len)
        g_array_append_val (words, w);
    }
}

/* Releases differ on a line when a notifier gets something (delivered,
 * cropped, abort) under one and not the same under another; a skip and
 * no notification at all are the same to the notifier. */
static gboolean
same_words (GArray *a,
            GArray *b)
{
  guint i = 0, j = 0;

  for (;;)
    {
      const Word *x, *y;

      while (i < a->len && g_array_index (a, Word, i).rank == RANK_SKIPPED)
        i++;
      while (j < b->len && g_array_index (b, Word, j).rank == RANK_SKIPPED)
        j++;
      if (i == a->len || j == b->len)
        return i == a->len && j == b->len;
      x = &g_array_index (a, Word, i);
      y = &g_array_index (b, Word, j);
      if (x->rank != y->rank || (x->name != y->name && strcmp (x->name, y->name) != 0))
        return FALSE;
      i++, j++;
    }
}

static JsonNode *
divergence_node (IovCompare        *self,
                 guint64            line,
                 const IovDelivery *first)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  char hex[20];

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "line");
  json_builder_add_int_value (b, (gint64) line);
  json_builder_set_member_name (b, "event");
  json_builder_begin_object (b);
  iov_hex_buf (first->event.iova, hex);
  json_builder_set_member_name (b, "iova");
  json_builder_add_string_value (b, hex);
  iov_hex_buf (first->event.addr_mask, hex);
  json_builder_set_member_name (b, "mask");
  json_builder_add_string_value (b, hex);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "outcomes");
  json_builder_begin_object (b);
  for (guint p = 0; p < self->passes->len; p++)
    {
      Pass *pass = g_ptr_array_index (self->passes, p);

      if (!pass->has_words)
        continue;   /* aborted before this line */
      for (guint m = 0; m < pass->members->len; m++)
        {
          json_builder_set_member_name (b, ((const IovProfile *) g_ptr_array_index (pass->members, m))->id);
          json_builder_begin_object (b);
          for (guint i = 0; i < pass->words->len; i++)
            {
              const Word *w = &g_array_index (pass->words, Word, i);

              json_builder_set_member_name (b, w->name);
              json_builder_add_string_value (b, rank_words[w->rank]);
            }
          json_builder_end_object (b);
        }
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* Merges every line below @safe (all passes have settled it). */
static void
merge (IovCompare *self,
       guint64     safe)
{
  guint n = self->passes->len;

  for (;;)
    {
      guint64 line = G_MAXUINT64;
      const IovDelivery *first = NULL;
      IovDelivery first_copy;
      GArray *reference = NULL;
      gboolean differ = FALSE;

      for (guint p = 0; p < n; p++)
        {
          Pass *pass = g_ptr_array_index (self->passes, p);

          if (pass->next < pass->out->len)
            {
              const IovDelivery *d = &g_array_index (pass->out, IovDelivery, pass->next);

              if (d->line < line)
                line = d->line, first = d;
            }
        }
      if (line == G_MAXUINT64 || line >= safe)
        break;
      /* taking the lines moves on: the event is read before */
      first_copy = *first;
      for (guint p = 0; p < n; p++)
        {
          Pass *pass = g_ptr_array_index (self->passes, p);
          const IovInferenceAbort *abort = iov_inference_get_abort (pass->inference);

          /* QEMU stopped at its abort: later lines are not its to differ on */
          pass->has_words = !(abort != NULL && abort->line < line);
          if (!pass->has_words)
            continue;
          take_line (pass, line);
          if (reference == NULL)
            reference = pass->words;
          else if (!same_words (reference, pass->words))
            differ = TRUE;
        }
      if (differ)
        {
          if (self->divergences->len < MAX_DIVERGENCES)
            g_ptr_array_add (self->divergences, divergence_node (self, line, &first_copy));
          self->n_divergences++;
        }
    }
  for (guint p = 0; p < n; p++)
    {
      Pass *pass = g_ptr_array_index (self->passes, p);

      g_array_remove_range (pass->out, 0, pass->next);
      pass->next = 0;
    }
}

void
iov_compare_feed (IovCompare *self,
                  guint64     ts_ns,
                  guint64     line,
                  const char *name,
                  const char *args,
                  gsize       args_len)
{
  guint64 safe = G_MAXUINT64;
  IovInferenceEvent ev;

  g_return_if_fail (self != NULL);

  /* decoded once, for every release */
  iov_inference_event_init (&ev, ts_ns, line, name, args, args_len);
  if (iov_inference_event_is_walk (&ev))
    self->n_walk_events++;
  for (guint p = 0; p < self->passes->len; p++)
    {
      Pass *pass = g_ptr_array_index (self->passes, p);

      iov_inference_feed_event (pass->inference, &ev, pass->out);
      safe = MIN (safe, iov_inference_get_oldest_held_line (pass->inference));
    }
  /* now and then: merging per line would cost more than the lines */
  if (safe == G_MAXUINT64)
    safe = line + 1;
  for (guint p = 0; p < self->passes->len; p++)
    if (((Pass *) g_ptr_array_index (self->passes, p))->out->len >= 4096)
      {
        merge (self, safe);
        break;
      }
}

void
iov_compare_finish (IovCompare *self)
{
  g_return_if_fail (self != NULL);

  for (guint p = 0; p < self->passes->len; p++)
    {
      Pass *pass = g_ptr_array_index (self->passes, p);

      iov_inference_finish (pass->inference, pass->out);
    }
  merge (self, G_MAXUINT64);
}

/* ---- JSON ----------------------------------------------------------------- */

static void
add_counts_by_type (JsonBuilder  *b,
                    const Counts *c)
{
  json_builder_set_member_name (b, "delivered_by_type");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "map");
  json_builder_add_int_value (b, (gint64) c->by_type[0]);
  json_builder_set_member_name (b, "unmap");
  json_builder_add_int_value (b, (gint64) c->by_type[1]);
  json_builder_set_member_name (b, "deviotlb-unmap");
  json_builder_add_int_value (b, (gint64) c->by_type[2]);
  json_builder_end_object (b);
}

static void
add_profile (JsonBuilder      *b,
             Pass             *pass,
             const IovProfile *profile)
{
  GPtrArray *notifiers = iov_inference_get_notifiers (pass->inference);
  const IovInferenceAbort *abort = iov_inference_get_abort (pass->inference);
  Counts total = { 0 };

  for (guint i = 0; i < notifiers->len; i++)
    {
      const IovInferenceNotifier *n = g_ptr_array_index (notifiers, i);
      const Counts *c = g_hash_table_lookup (pass->counts, n->notifier);

      if (c == NULL)
        continue;
      total.delivered += c->delivered;
      total.cropped += c->cropped;
      total.skipped += c->skipped;
      for (guint t = 0; t < 3; t++)
        total.by_type[t] += c->by_type[t];
    }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "abort");
  if (abort != NULL)
    {
      /* the message as this release prints it, from the file name on */
      g_autofree char *message = iov_abort_message (profile, abort->kind);
      const char *m = message ? message : abort->message;

      if (m != NULL && g_str_has_prefix (m, "qemu-system-x86_64: "))
        m += strlen ("qemu-system-x86_64: ");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "line");
      json_builder_add_int_value (b, (gint64) abort->line);
      json_builder_set_member_name (b, "notifier");
      if (abort->notifier)
        json_builder_add_string_value (b, abort->notifier);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, m ? m : "");
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "deliveries");
  json_builder_add_int_value (b, (gint64) total.delivered);
  json_builder_set_member_name (b, "cropped");
  json_builder_add_int_value (b, (gint64) total.cropped);
  json_builder_set_member_name (b, "skipped");
  json_builder_add_int_value (b, (gint64) total.skipped);
  add_counts_by_type (b, &total);

  json_builder_set_member_name (b, "notifiers");
  json_builder_begin_object (b);
  for (guint i = 0; i < notifiers->len; i++)
    {
      const IovInferenceNotifier *n = g_ptr_array_index (notifiers, i);
      const Counts zero = { 0 };
      const Counts *c = g_hash_table_lookup (pass->counts, n->notifier);
      g_autofree char *flags = iov_flags_to_string (n->notifier->flags);
      char hex[20];

      if (c == NULL)
        c = &zero;
      json_builder_set_member_name (b, n->notifier->name);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "device");
      json_builder_add_string_value (b, n->device);
      json_builder_set_member_name (b, "range");
      json_builder_begin_array (b);
      iov_hex_buf (n->notifier->start, hex);
      json_builder_add_string_value (b, hex);
      iov_hex_buf (n->notifier->end, hex);
      json_builder_add_string_value (b, hex);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "from_line");
      json_builder_add_int_value (b, (gint64) n->from_line);
      json_builder_set_member_name (b, "to_line");
      if (n->to_line > 0)
        json_builder_add_int_value (b, (gint64) n->to_line);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "flags");
      json_builder_add_string_value (b, flags);
      json_builder_set_member_name (b, "flags_source");
      /* the release's rule, applied to what the trace shows of the guest */
      json_builder_add_string_value (b, "profile");
      json_builder_set_member_name (b, "delivered");
      json_builder_add_int_value (b, (gint64) c->delivered);
      json_builder_set_member_name (b, "skipped");
      json_builder_add_int_value (b, (gint64) c->skipped);
      json_builder_set_member_name (b, "aborts");
      json_builder_add_int_value (b, (gint64) c->aborts);
      json_builder_set_member_name (b, "observed");
      json_builder_add_int_value (b, (gint64) c->observed);
      json_builder_set_member_name (b, "cropped");
      json_builder_add_int_value (b, (gint64) c->cropped);
      add_counts_by_type (b, c);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
}

/* What a replay cannot know, said rather than filled in. */
static void
add_assumptions (JsonBuilder *b,
                 IovCompare  *self)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  json_builder_set_member_name (b, "assumptions");
  json_builder_begin_array (b);
  if (self->n_walk_events > 0)
    json_builder_add_string_value (b, _("the trace holds no page tables: where a release walks the guest's tables "
                                        "(a MAP notifier, or domain and global invalidations up to 7.2), its "
                                        "notifications are only those the trace shows"));
  for (guint p = 0; p < self->passes->len; p++)
    {
      Pass *pass = g_ptr_array_index (self->passes, p);
      GPtrArray *notes = iov_inference_get_notes (pass->inference);

      for (guint i = 0; i < notes->len; i++)
        {
          const char *note = g_ptr_array_index (notes, i);

          if ((strstr (note, "assumed") != NULL || strstr (note, "taken as") != NULL) &&
              !g_hash_table_contains (seen, note))
            {
              g_hash_table_add (seen, (gpointer) note);
              json_builder_add_string_value (b, note);
            }
        }
    }
  json_builder_end_array (b);
}

JsonNode *
iov_compare_to_json (IovCompare *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (self != NULL, NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "profiles");
  json_builder_begin_object (b);
  for (guint p = 0; p < self->passes->len; p++)
    {
      Pass *pass = g_ptr_array_index (self->passes, p);

      for (guint m = 0; m < pass->members->len; m++)
        {
          const IovProfile *profile = g_ptr_array_index (pass->members, m);

          json_builder_set_member_name (b, profile->id);
          add_profile (b, pass, profile);
        }
    }
  json_builder_end_object (b);
  add_assumptions (b, self);
  json_builder_set_member_name (b, "divergences");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->divergences->len; i++)
    json_builder_add_value (b, json_node_copy (g_ptr_array_index (self->divergences, i)));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "n_divergences");
  json_builder_add_int_value (b, (gint64) self->n_divergences);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
