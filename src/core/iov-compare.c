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
  guint       id;            /* the notifier's name, as a number the same in every pass */
  guint       rank;          /* RANK_* */
  const char *name;          /* the notifier's; its pass owns it */
} Word;

/* A notifier of a pass as merging needs it, found without hashing. */
typedef struct
{
  const IovNotifier *notifier;
  Counts            *counts;
  guint              id;
} Slot;

enum { RANK_SKIPPED, RANK_DELIVERED, RANK_CROPPED, RANK_ABORT };

static const char *const rank_words[] = { "skipped", "delivered", "cropped", "abort" };

/* Releases that share every rule the model has (iov_profile_same_rules()):
 * the same outcomes on any trace. */
typedef struct
{
  GPtrArray    *members;     /* const IovProfile*, in the caller's order */
  struct _Pass *pass;        /* the pass that runs them */
} Group;

typedef struct _Pass
{
  GPtrArray    *groups;      /* Group*, not owned: those that behaved alike so far, in order */
  IovInference *inference;   /* under the first group's rules */
  const IovDelivery *out;    /* settled, not merged yet: the inference's own (peek_settled()) */
  guint         n_out;
  guint         next;        /* first of out not merged */
  GHashTable   *counts;      /* const IovNotifier* → Counts */
  GArray       *slots;       /* Slot */
  GArray       *words;       /* Word: this pass's outcomes of the line being merged */
  gboolean      has_words;   /* FALSE: aborted before that line */
} Pass;

/* Events wait in a batch, decoded once, until every pass reads the whole
 * batch: a pass at a time on each of two threads, the caller's and a
 * worker's (issue K: both cores are there). A pass only ever runs on one
 * thread at a time and reads the events in order, and the outcomes are
 * merged in line order after the batch, so the output does not depend on
 * which thread ran what. */
#define BATCH 8192

typedef struct
{
  GArray     *events;        /* IovInferenceEvent, name and args point into text */
  GByteArray *text;
} Batch;

struct _IovCompare
{
  GPtrArray *groups;         /* Group*, in the order of their first release */
  GPtrArray *passes;         /* Pass*, in the order of their first group */
  GPtrArray *divergences;    /* JsonNode*: the first MAX_DIVERGENCES */
  GArray    *divergence_lines; /* guint64: every one's line */
  guint64    n_divergences;
  guint64    n_walk_events;  /* events whose notifications need the guest's tables */
  GHashTable *name_ids;      /* notifier name → Word.id + 1 */

  Batch      batches[2];     /* one filled while the passes read the other */
  guint      filling;
  GThread   *worker;         /* NULL on a single processor */
  GMutex     lock;
  GCond      cond;
  Batch     *job;            /* the batch the passes read; NULL: none */
  guint      next_pass;      /* the job's first pass nobody runs yet */
  guint      n_running;      /* passes of the job running */
  gboolean   quit;
};

static void
group_free (Group *group)
{
  g_ptr_array_unref (group->members);
  g_free (group);
}

static const IovProfile *
group_rules (const Group *group)
{
  return g_ptr_array_index (group->members, 0);
}

static void
pass_free (Pass *pass)
{
  g_ptr_array_unref (pass->groups);
  iov_inference_free (pass->inference);
  g_hash_table_unref (pass->counts);
  g_array_unref (pass->words);
  g_array_unref (pass->slots);
  g_free (pass);
}

static void wait_job (IovCompare *self);
static gpointer worker_main (gpointer data);

void
iov_compare_free (IovCompare *self)
{
  if (self == NULL)
    return;
  if (self->worker != NULL)
    {
      wait_job (self);
      g_mutex_lock (&self->lock);
      self->quit = TRUE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      g_thread_join (self->worker);
    }
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  for (guint i = 0; i < G_N_ELEMENTS (self->batches); i++)
    {
      g_clear_pointer (&self->batches[i].events, g_array_unref);
      g_clear_pointer (&self->batches[i].text, g_byte_array_unref);
    }
  g_ptr_array_unref (self->passes);
  g_ptr_array_unref (self->groups);
  g_ptr_array_unref (self->divergences);
  g_array_unref (self->divergence_lines);
  g_hash_table_unref (self->name_ids);
  g_free (self);
}

/* Two releases that take the same path through every rule the model has
 * give the same outcomes on any trace: one pass serves both (their abort
 * messages still differ, by file and line). */
/* The snapshot as @profile would have registered its notifiers: vhost's
 * flag by the release's rule (reference §3), never the tracing release's;
 * under the ATS rule, the trace's evidence decides it as it does live.
 * Set on the one snapshot read, before each pass's inference reads it. */
static void
set_vhost_flags_for (IovSnapshotInfo  *info,
                     const IovProfile *profile)
{
  JsonNode *prop = info->iommu_properties ? json_object_get_member (info->iommu_properties, "device-iotlb") : NULL;
  gboolean device_iotlb = prop != NULL && JSON_NODE_HOLDS_VALUE (prop) &&
                          json_node_get_value_type (prop) == G_TYPE_BOOLEAN && json_node_get_boolean (prop);
  gboolean intel = g_strcmp0 (info->iommu_type, "intel-iommu") == 0;

  for (guint i = 0; i < info->address_spaces->len; i++)
    {
      IovSnapshotAddressSpace *as = g_ptr_array_index (info->address_spaces, i);

      for (guint j = 0; j < as->notifiers->len; j++)
        {
          IovSnapshotNotifier *n = g_ptr_array_index (as->notifiers, j);

          if (g_strcmp0 (n->consumer, "vhost") != 0)
            continue;
          g_clear_pointer (&n->flags_source, g_free);
          switch (profile->vhost)
            {
            case IOV_VHOST_UNMAP:
              n->has_flags = TRUE;
              n->flags = IOV_NOTIFIER_UNMAP;
              n->flags_source = g_strdup ("profile");
              break;
            case IOV_VHOST_TRY_DEVIOTLB:
              /* the IOMMU refuses DEVIOTLB_UNMAP without a device IOTLB */
              n->has_flags = TRUE;
              n->flags = intel && device_iotlb ? IOV_NOTIFIER_DEVIOTLB_UNMAP : IOV_NOTIFIER_UNMAP;
              n->flags_source = g_strdup ("profile");
              break;
            case IOV_VHOST_BY_ATS:
            default:
              n->has_flags = FALSE;
              n->flags = 0;
              break;
            }
        }
    }
}

static Pass *
pass_new (void)
{
  Pass *pass = g_new0 (Pass, 1);

  pass->groups = g_ptr_array_new ();
  pass->words = g_array_new (FALSE, FALSE, sizeof (Word));
  pass->slots = g_array_new (FALSE, FALSE, sizeof (Slot));
  pass->counts = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  return pass;
}

IovCompare *
iov_compare_new (JsonNode          *snapshot,
                 const IovProfile **profiles,
                 guint              n_profiles,
                 GError           **error)
{
  g_autoptr(IovCompare) self = g_new0 (IovCompare, 1);
  g_autoptr(IovSnapshotInfo) info = NULL;
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail (snapshot != NULL, NULL);

  /* read once, by the one snapshot reader */
  info = iov_snapshot_info_new_from_json (snapshot, &local);
  if (info == NULL)
    {
      g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, _("snapshot: %s"), local->message);
      return NULL;
    }
  if (profiles == NULL)
    profiles = iov_profile_list (&n_profiles);

  self->passes = g_ptr_array_new_with_free_func ((GDestroyNotify) pass_free);
  self->divergences = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  self->divergence_lines = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->name_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  for (guint i = 0; i < G_N_ELEMENTS (self->batches); i++)
    {
      self->batches[i].events = g_array_sized_new (FALSE, FALSE, sizeof (IovInferenceEvent), BATCH);
      self->batches[i].text = g_byte_array_sized_new (128 * BATCH);
    }
  self->groups = g_ptr_array_new_with_free_func ((GDestroyNotify) group_free);
  for (guint i = 0; i < n_profiles; i++)
    {
      const IovProfile *profile = profiles[i];
      Group *group = NULL;

      for (guint g = 0; g < self->groups->len && group == NULL; g++)
        if (iov_profile_same_rules (group_rules (g_ptr_array_index (self->groups, g)), profile))
          group = g_ptr_array_index (self->groups, g);
      if (group != NULL)
        {
          if (!g_ptr_array_find (group->members, profile, NULL))
            g_ptr_array_add (group->members, (gpointer) profile);
          continue;
        }
      group = g_new0 (Group, 1);
      group->members = g_ptr_array_new ();
      g_ptr_array_add (group->members, (gpointer) profile);
      g_ptr_array_add (self->groups, group);
    }
  /* Groups whose rules differ only where an event the trace may never
   * hold reads them share one pass until such an event comes (split()). */
  for (guint g = 0; g < self->groups->len; g++)
    {
      Group *group = g_ptr_array_index (self->groups, g);
      Pass *pass = NULL;

      for (guint p = 0; p < self->passes->len && pass == NULL; p++)
        {
          Pass *other = g_ptr_array_index (self->passes, p);

          if (iov_inference_profiles_alike (group_rules (g_ptr_array_index (other->groups, 0)), group_rules (group)))
            pass = other;
        }
      if (pass != NULL)
        {
          g_ptr_array_add (pass->groups, group);
          group->pass = pass;
          continue;
        }
      set_vhost_flags_for (info, group_rules (group));
      pass = pass_new ();
      g_ptr_array_add (pass->groups, group);
      group->pass = pass;
      pass->inference = iov_inference_new_from_info (info, group_rules (group));
      iov_inference_set_batched (pass->inference, TRUE);
      g_ptr_array_add (self->passes, pass);
    }
  if (self->groups->len > 1 && g_get_num_processors () > 1)
    self->worker = g_thread_new ("iov-compare", worker_main, self);
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

static Slot *
slot_of (IovCompare        *self,
         Pass              *pass,
         const IovNotifier *n)
{
  Slot slot = { n, NULL, 0 };
  gpointer id;

  for (guint i = 0; i < pass->slots->len; i++)
    if (g_array_index (pass->slots, Slot, i).notifier == n)
      return &g_array_index (pass->slots, Slot, i);
  slot.counts = g_hash_table_lookup (pass->counts, n);
  if (slot.counts == NULL)
    {
      slot.counts = g_new0 (Counts, 1);
      g_hash_table_insert (pass->counts, (gpointer) n, slot.counts);
    }
  if (n != NULL)
    {
      id = g_hash_table_lookup (self->name_ids, n->name);
      if (id == NULL)
        {
          id = GUINT_TO_POINTER (g_hash_table_size (self->name_ids) + 1);
          g_hash_table_insert (self->name_ids, g_strdup (n->name), id);
        }
      slot.id = GPOINTER_TO_UINT (id) - 1;
    }
  g_array_append_val (pass->slots, slot);
  return &g_array_index (pass->slots, Slot, pass->slots->len - 1);
}

static void
count (Counts            *c,
       const IovDelivery *d)
{
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
 * into pass->words: one per notifier (the strongest), in no order. */
static void
take_line (IovCompare *self,
           Pass       *pass,
           guint64     line)
{
  /* Gathered on the stack, and into pass->words in one go: this runs for
   * every line under every release (a notifier or two, mostly). */
  Word buf[16];
  guint n = 0;
  GArray *words = pass->words;
  gboolean spilled = FALSE;

  while (pass->next < pass->n_out)
    {
      const IovDelivery *d = &pass->out[pass->next];
      const Slot *slot;
      Word *list;
      guint rank, at;

      if (d->line != line)
        break;
      slot = slot_of (self, pass, d->notifier);
      count (slot->counts, d);
      pass->next++;
      if (d->notifier == NULL)
        continue;
      rank = outcome_rank (d);
      list = spilled ? (Word *) words->data : buf;
      for (at = 0; at < n; at++)
        if (list[at].id == slot->id)
          {
            list[at].rank = MAX (list[at].rank, rank);
            break;
          }
      if (at < n)
        continue;
      if (!spilled && n == G_N_ELEMENTS (buf))
        {
          /* more notifiers than the stack holds: the array from here on */
          g_array_set_size (words, n);
          memcpy (words->data, buf, sizeof buf);
          spilled = TRUE;
        }
      if (spilled)
        {
          Word w = { slot->id, rank, d->notifier->name };

          g_array_append_val (words, w);
        }
      else
        buf[n] = (Word) { slot->id, rank, d->notifier->name };
      n++;
    }
  if (!spilled)
    {
      if (words->len != n)
        g_array_set_size (words, n);
      if (n > 0)
        memcpy (words->data, buf, n * sizeof (Word));
    }
}

/* How many of @a's words are no skip, and whether @b has each of them. */
static gboolean
words_within (GArray *a,
              GArray *b,
              guint  *n)
{
  *n = 0;
  for (guint i = 0; i < a->len; i++)
    {
      const Word *x = &g_array_index (a, Word, i);
      gboolean found = FALSE;

      if (x->rank == RANK_SKIPPED)
        continue;
      (*n)++;
      for (guint j = 0; j < b->len && !found; j++)
        found = g_array_index (b, Word, j).id == x->id && g_array_index (b, Word, j).rank == x->rank;
      if (!found)
        return FALSE;
    }
  return TRUE;
}

/* Releases differ on a line when a notifier gets something (delivered,
 * cropped, abort) under one and not the same under another; a skip and
 * no notification at all are the same to the notifier. */
static gboolean
same_words (GArray *a,
            GArray *b)
{
  guint na, nb;

  /* passes that agree mostly list the same words in the same order */
  if (a->len == b->len)
    {
      guint i;

      for (i = 0; i < a->len; i++)
        if (g_array_index (a, Word, i).id != g_array_index (b, Word, i).id ||
            g_array_index (a, Word, i).rank != g_array_index (b, Word, i).rank)
          break;
      if (i == a->len)
        return TRUE;
    }
  return words_within (a, b, &na) && words_within (b, a, &nb) && na == nb;
}

static int
compare_words (gconstpointer a,
               gconstpointer b)
{
  return strcmp (((const Word *) a)->name, ((const Word *) b)->name);
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
  for (guint g = 0; g < self->groups->len; g++)
    {
      Group *group = g_ptr_array_index (self->groups, g);
      Pass *pass = group->pass;
      g_autoptr(GArray) sorted = NULL;

      if (!pass->has_words)
        continue;   /* aborted before this line */
      /* by name, as people read them */
      sorted = g_array_copy (pass->words);
      g_array_sort (sorted, compare_words);
      for (guint m = 0; m < group->members->len; m++)
        {
          json_builder_set_member_name (b, ((const IovProfile *) g_ptr_array_index (group->members, m))->id);
          json_builder_begin_object (b);
          for (guint i = 0; i < pass->words->len; i++)
            {
              const Word *w = &g_array_index (sorted, Word, i);

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

  /* read where each inference keeps them: no copy per delivery */
  for (guint p = 0; p < n; p++)
    {
      Pass *pass = g_ptr_array_index (self->passes, p);

      pass->out = iov_inference_peek_settled (pass->inference, &pass->n_out);
      pass->next = 0;
    }

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

          if (pass->next < pass->n_out)
            {
              const IovDelivery *d = &pass->out[pass->next];

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
          take_line (self, pass, line);
          if (reference == NULL)
            reference = pass->words;
          else if (!same_words (reference, pass->words))
            differ = TRUE;
        }
      if (differ)
        {
          if (self->divergences->len < MAX_DIVERGENCES)
            g_ptr_array_add (self->divergences, divergence_node (self, line, &first_copy));
          g_array_append_val (self->divergence_lines, line);
          self->n_divergences++;
        }
    }
  for (guint p = 0; p < n; p++)
    {
      Pass *pass = g_ptr_array_index (self->passes, p);

      iov_inference_drop_settled (pass->inference, pass->next);
      pass->next = 0;
    }
}

/* ---- batches ------------------------------------------------------------- */

static void
run_pass (Pass  *pass,
          Batch *batch)
{
  for (guint i = 0; i < batch->events->len; i++)
    iov_inference_feed_event (pass->inference, &g_array_index (batch->events, IovInferenceEvent, i), NULL);
}

/* Runs passes of the job until none is left to start; called and
 * returns with the lock held. */
static void
claim_passes (IovCompare *self)
{
  while (self->job != NULL && self->next_pass < self->passes->len)
    {
      Pass *pass = g_ptr_array_index (self->passes, self->next_pass++);
      Batch *job = self->job;

      self->n_running++;
      g_mutex_unlock (&self->lock);
      run_pass (pass, job);
      g_mutex_lock (&self->lock);
      if (--self->n_running == 0 && self->next_pass == self->passes->len)
        g_cond_broadcast (&self->cond);
    }
}

static gpointer
worker_main (gpointer data)
{
  IovCompare *self = data;

  g_mutex_lock (&self->lock);
  while (!self->quit)
    {
      claim_passes (self);
      if (!self->quit)
        g_cond_wait (&self->cond, &self->lock);
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/* Waits until every pass has read the job, runs passes meanwhile, and
 * merges what they settled. */
static void
wait_job (IovCompare *self)
{
  Batch *job;
  guint64 safe = G_MAXUINT64;

  g_mutex_lock (&self->lock);
  claim_passes (self);
  while (self->job != NULL && self->n_running > 0)
    g_cond_wait (&self->cond, &self->lock);
  job = self->job;
  self->job = NULL;
  g_mutex_unlock (&self->lock);
  if (job == NULL)
    return;

  for (guint p = 0; p < self->passes->len; p++)
    safe = MIN (safe, iov_inference_get_oldest_held_line (((Pass *) g_ptr_array_index (self->passes, p))->inference));
  if (safe == G_MAXUINT64 && job->events->len > 0)
    safe = g_array_index (job->events, IovInferenceEvent, job->events->len - 1).line + 1;
  g_array_set_size (job->events, 0);
  g_byte_array_set_size (job->text, 0);
  merge (self, safe);
}

/* The filling batch becomes the job: the worker starts on it, and this
 * thread returns to fill the other. */
static void
start_job (IovCompare *self)
{
  Batch *batch = &self->batches[self->filling];

  wait_job (self);
  if (batch->events->len == 0)
    return;
  /* the text has its final address now */
  for (guint i = 0; i < batch->events->len; i++)
    {
      IovInferenceEvent *ev = &g_array_index (batch->events, IovInferenceEvent, i);

      ev->name = (const char *) batch->text->data + GPOINTER_TO_SIZE (ev->name);
      ev->args = (const char *) batch->text->data + GPOINTER_TO_SIZE (ev->args);
    }
  g_mutex_lock (&self->lock);
  self->job = batch;
  self->next_pass = 0;
  g_cond_broadcast (&self->cond);
  /* alone, this thread runs them all now; else it reads on, and helps
   * with what the worker has not started when it needs the batch back */
  if (self->worker == NULL)
    claim_passes (self);
  g_mutex_unlock (&self->lock);
  self->filling = 1 - self->filling;
}

/* Whether a pass runs groups that @ev tells apart. */
static gboolean
needs_split (IovCompare              *self,
             const IovInferenceEvent *ev)
{
  for (guint p = 0; p < self->passes->len; p++)
    {
      Pass *pass = g_ptr_array_index (self->passes, p);

      for (guint g = 1; g < pass->groups->len; g++)
        if (!iov_inference_event_alike (ev, group_rules (g_ptr_array_index (pass->groups, 0)),
                                        group_rules (g_ptr_array_index (pass->groups, g))))
          return TRUE;
    }
  return FALSE;
}

/* Before @ev, which some groups of a pass handle differently: those go on
 * in a pass of their own, from a copy of the state they shared. */
static void
split (IovCompare              *self,
       const IovInferenceEvent *ev)
{
  guint n_passes = self->passes->len;

  for (guint p = 0; p < n_passes; p++)
    {
      Pass *pass = g_ptr_array_index (self->passes, p);

      while (pass->groups->len > 1)
        {
          const IovProfile *first = group_rules (g_ptr_array_index (pass->groups, 0));
          g_autoptr(GPtrArray) apart = g_ptr_array_new ();
          Pass *copy;
          GHashTableIter iter;
          gpointer key, value;

          /* the first group the others are not alike to, and its likes */
          for (guint g = 1; g < pass->groups->len; g++)
            {
              Group *group = g_ptr_array_index (pass->groups, g);

              if (apart->len == 0 ? !iov_inference_event_alike (ev, first, group_rules (group))
                                  : iov_inference_event_alike (ev, group_rules (g_ptr_array_index (apart, 0)),
                                                               group_rules (group)))
                g_ptr_array_add (apart, group);
            }
          if (apart->len == 0)
            break;
          copy = pass_new ();
          copy->inference = iov_inference_copy (pass->inference, group_rules (g_ptr_array_index (apart, 0)));
          for (guint g = 0; g < apart->len; g++)
            {
              Group *group = g_ptr_array_index (apart, g);

              g_ptr_array_remove (pass->groups, group);
              g_ptr_array_add (copy->groups, group);
              group->pass = copy;
            }
          /* the settled deliveries not merged yet came along with the
           * inference's copy: they are its own */
          g_hash_table_iter_init (&iter, pass->counts);
          while (g_hash_table_iter_next (&iter, &key, &value))
            g_hash_table_insert (copy->counts,
                                 (gpointer) iov_inference_copy_notifier (pass->inference, copy->inference, key),
                                 g_memdup2 (value, sizeof (Counts)));
          g_ptr_array_add (self->passes, copy);
        }
    }
  /* passes in the order of their first group, as merging needs */
  g_ptr_array_set_free_func (self->passes, NULL);
  g_ptr_array_set_size (self->passes, 0);
  for (guint g = 0; g < self->groups->len; g++)
    {
      Pass *pass = ((Group *) g_ptr_array_index (self->groups, g))->pass;

      if (!g_ptr_array_find (self->passes, pass, NULL))
        g_ptr_array_add (self->passes, pass);
    }
  g_ptr_array_set_free_func (self->passes, (GDestroyNotify) pass_free);
}

void
iov_compare_feed (IovCompare *self,
                  guint64     ts_ns,
                  guint64     line,
                  const char *name,
                  const char *args,
                  gsize       args_len)
{
  Batch *batch;
  IovInferenceEvent *ev;
  gsize name_len = strlen (name), at;

  g_return_if_fail (self != NULL);

  batch = &self->batches[self->filling];
  g_array_set_size (batch->events, batch->events->len + 1);
  ev = &g_array_index (batch->events, IovInferenceEvent, batch->events->len - 1);
  /* decoded once, for every release */
  iov_inference_event_init (ev, ts_ns, line, name, args, args_len);
  if (iov_inference_event_is_walk (ev))
    self->n_walk_events++;
  if (self->passes->len < self->groups->len && iov_inference_event_tells_apart (ev) && needs_split (self, ev))
    {
      IovInferenceEvent copy = *ev;

      /* every pass up to this event first: the copies start from there */
      g_array_set_size (batch->events, batch->events->len - 1);
      start_job (self);
      wait_job (self);
      split (self, &copy);
      batch = &self->batches[self->filling];
      g_array_append_val (batch->events, copy);
      ev = &g_array_index (batch->events, IovInferenceEvent, batch->events->len - 1);
    }
  /* the text is copied: until the batch runs, its place in it stands for
   * where it will be */
  at = batch->text->len;
  g_byte_array_set_size (batch->text, at + name_len + 1 + args_len + 1);
  memcpy (batch->text->data + at, name, name_len + 1);
  memcpy (batch->text->data + at + name_len + 1, args, args_len);
  batch->text->data[at + name_len + 1 + args_len] = '\0';
  ev->name = GSIZE_TO_POINTER (at);
  ev->args = GSIZE_TO_POINTER (at + name_len + 1);
  if (batch->events->len >= BATCH)
    start_job (self);
}

void
iov_compare_finish (IovCompare *self)
{
  g_return_if_fail (self != NULL);

  start_job (self);
  wait_job (self);
  for (guint p = 0; p < self->passes->len; p++)
    {
      Pass *pass = g_ptr_array_index (self->passes, p);

      iov_inference_finish (pass->inference, NULL);
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
  for (guint g = 0; g < self->groups->len; g++)
    {
      Pass *pass = ((Group *) g_ptr_array_index (self->groups, g))->pass;
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
  for (guint g = 0; g < self->groups->len; g++)
    {
      Group *group = g_ptr_array_index (self->groups, g);

      for (guint m = 0; m < group->members->len; m++)
        {
          const IovProfile *profile = g_ptr_array_index (group->members, m);

          json_builder_set_member_name (b, profile->id);
          add_profile (b, group->pass, profile);
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

/**
 * iov_compare_get_divergence_lines:
 *
 * Returns: (transfer none): the line of every divergence, in order (the
 *   JSON keeps the first 1,000 with their outcomes; a view marks them all)
 */
GArray *
iov_compare_get_divergence_lines (IovCompare *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->divergence_lines;
}
