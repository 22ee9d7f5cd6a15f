/* iov-event-query.c
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

#define G_LOG_DOMAIN "iov-event-query"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "iov-event-query.h"
#include "iov-types.h"

typedef enum
{
  KEY_EVENT,
  KEY_DEVICE,
  KEY_NOTIFIER,
  KEY_OUTCOME,
  N_KEYS
} Key;

static const char *const keys[N_KEYS] = { "event:", "device:", "notifier:", "outcome:" };

/* The kinds of evidence, as outcome: matches them. */
#define WORD_OBSERVED "observed"
#define WORD_INFERRED "inferred"

/* Every word outcome: can match: iov_delivery_outcome_word()'s and the
 * evidence's.  An outcome term found in none of them can match no event,
 * which is a typing mistake more often than a question. */
static const char *const outcome_words[] = {
  "delivered", "cropped", "skipped-range", "skipped-flags", "abort", WORD_OBSERVED, WORD_INFERRED,
};

struct _IovEventQuery
{
  GObject          parent_instance;

  char            *terms[N_KEYS];  /* lower-case, NULL when not given */
  GPtrArray       *words;          /* lower-case free words, NULL-terminated */

  IovEventStore   *store;
  IovTraceCatalog *catalog;
  IovDeliveryLog  *log;
  GPtrArray       *names;          /* lower-case event name per catalogue id, made once */
  GString         *scratch;        /* an event's arguments, lower-cased */
};

G_DEFINE_FINAL_TYPE (IovEventQuery, iov_event_query, G_TYPE_OBJECT)

static void
iov_event_query_finalize (GObject *object)
{
  IovEventQuery *self = IOV_EVENT_QUERY (object);

  for (guint k = 0; k < N_KEYS; k++)
    g_free (self->terms[k]);
  g_ptr_array_unref (self->words);
  g_ptr_array_unref (self->names);
  g_string_free (self->scratch, TRUE);

  G_OBJECT_CLASS (iov_event_query_parent_class)->finalize (object);
}

static void
iov_event_query_class_init (IovEventQueryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = iov_event_query_finalize;
}

static void
iov_event_query_init (IovEventQuery *self)
{
  self->words = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (self->words, NULL);
  self->names = g_ptr_array_new_with_free_func (g_free);
  self->scratch = g_string_new (NULL);
}

static gboolean
outcome_valid (const char *outcome)
{
  for (guint i = 0; i < G_N_ELEMENTS (outcome_words); i++)
    if (strstr (outcome_words[i], outcome) != NULL)
      return TRUE;
  return FALSE;
}

/* One term; @token is lower-case and not empty. */
static gboolean
add_token (IovEventQuery  *self,
           const char     *token,
           GError        **error)
{
  for (guint k = 0; k < N_KEYS; k++)
    {
      const char *value;

      if (!g_str_has_prefix (token, keys[k]))
        continue;
      value = token + strlen (keys[k]);
      /* a key as it is being typed: no term yet */
      if (*value == '\0')
        return TRUE;
      if (self->terms[k] != NULL)
        {
          /* Translators: a search term and its key: "“event:map”: only one event: term can be given" */
          g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID, _("“%s”: only one %s term can be given"),
                       token, keys[k]);
          return FALSE;
        }
      if (k == KEY_OUTCOME && !outcome_valid (value))
        {
          /* Translators: the words after "outcome:" stay in English: they are the search's own */
          g_set_error (error, IOV_ERROR, IOV_ERROR_INVALID,
                       _("“%s” is no outcome: outcome: takes delivered, cropped, skipped-range, "
                         "skipped-flags, abort, observed or inferred"), token);
          return FALSE;
        }
      self->terms[k] = g_strdup (value);
      return TRUE;
    }

  /* Not a key: a free word, even with a colon in it. QEMU prints some
   * arguments as "iova: 0x1000" or "vdpa_shared:0x…" and BDFs as
   * "00:02.0", so "word:" cannot be told from a mistyped key. */
  g_ptr_array_insert (self->words, self->words->len - 1, g_strdup (token));
  return TRUE;
}

IovEventQuery *
iov_event_query_new (const char  *text,
                     GError     **error)
{
  g_autoptr(IovEventQuery) self = g_object_new (IOV_TYPE_EVENT_QUERY, NULL);
  g_autofree char *lower = g_ascii_strdown (text != NULL ? text : "", -1);
  g_auto(GStrv) tokens = g_strsplit_set (lower, " \t", -1);

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (guint i = 0; tokens[i] != NULL; i++)
    if (tokens[i][0] != '\0' && !add_token (self, tokens[i], error))
      return NULL;
  return g_steal_pointer (&self);
}

gboolean
iov_event_query_is_empty (IovEventQuery *self)
{
  g_return_val_if_fail (IOV_IS_EVENT_QUERY (self), TRUE);

  for (guint k = 0; k < N_KEYS; k++)
    if (self->terms[k] != NULL)
      return FALSE;
  return self->words->len == 1;
}

const char *
iov_event_query_get_event (IovEventQuery *self)
{
  g_return_val_if_fail (IOV_IS_EVENT_QUERY (self), NULL);
  return self->terms[KEY_EVENT];
}

const char *
iov_event_query_get_device (IovEventQuery *self)
{
  g_return_val_if_fail (IOV_IS_EVENT_QUERY (self), NULL);
  return self->terms[KEY_DEVICE];
}

const char *
iov_event_query_get_notifier (IovEventQuery *self)
{
  g_return_val_if_fail (IOV_IS_EVENT_QUERY (self), NULL);
  return self->terms[KEY_NOTIFIER];
}

const char *
iov_event_query_get_outcome (IovEventQuery *self)
{
  g_return_val_if_fail (IOV_IS_EVENT_QUERY (self), NULL);
  return self->terms[KEY_OUTCOME];
}

const char * const *
iov_event_query_get_words (IovEventQuery *self)
{
  g_return_val_if_fail (IOV_IS_EVENT_QUERY (self), NULL);
  return (const char * const *) self->words->pdata;
}

gboolean
iov_event_query_uses_deliveries (IovEventQuery *self)
{
  g_return_val_if_fail (IOV_IS_EVENT_QUERY (self), FALSE);
  return self->terms[KEY_DEVICE] != NULL || self->terms[KEY_NOTIFIER] != NULL ||
         self->terms[KEY_OUTCOME] != NULL;
}

void
iov_event_query_set_sources (IovEventQuery   *self,
                             IovEventStore   *store,
                             IovTraceCatalog *catalog,
                             IovDeliveryLog  *log)
{
  g_return_if_fail (IOV_IS_EVENT_QUERY (self));

  self->store = store;
  self->catalog = catalog;
  self->log = log;
  g_ptr_array_set_size (self->names, 0);
}

/* ---- matching ----------------------------------------------------------- */

/* A search looks at every event's name: lower-cased once per kind, not
 * once per event. */
static const char *
name_lower (IovEventQuery *self,
            guint          id)
{
  if (id >= self->names->len)
    g_ptr_array_set_size (self->names, id + 1);
  if (g_ptr_array_index (self->names, id) == NULL)
    {
      const char *name = self->catalog != NULL ? iov_trace_catalog_get_name (self->catalog, id) : NULL;

      g_ptr_array_index (self->names, id) = g_ascii_strdown (name != NULL ? name : "?", -1);
    }
  return g_ptr_array_index (self->names, id);
}

static const char *
args_lower (IovEventQuery *self,
            guint64        index)
{
  g_string_truncate (self->scratch, 0);
  iov_event_store_render_args (self->store, index, self->scratch);
  for (gsize i = 0; i < self->scratch->len; i++)
    self->scratch->str[i] = g_ascii_tolower (self->scratch->str[i]);
  return self->scratch->str;
}

/* strstr() ignoring the case of @haystack (@needle is lower-case), without
 * a lower-cased copy: it runs for every delivery of every event searched. */
static gboolean
contains_lower (const char *haystack,
                const char *needle)
{
  if (haystack == NULL)
    return FALSE;
  for (const char *h = haystack; *h != '\0'; h++)
    {
      gsize i = 0;

      while (needle[i] != '\0' && g_ascii_tolower (h[i]) == needle[i])
        i++;
      if (needle[i] == '\0')
        return TRUE;
    }
  return needle[0] == '\0';
}

/* notifier: and outcome: may be met by different deliveries of the event. */
static gboolean
deliveries_match (IovEventQuery *self,
                  guint64        d0,
                  guint64        d1)
{
  const char *notifier = self->terms[KEY_NOTIFIER];
  const char *outcome = self->terms[KEY_OUTCOME];
  gboolean notifier_ok = notifier == NULL, outcome_ok = outcome == NULL;

  for (guint64 i = d0; i < d1 && !(notifier_ok && outcome_ok); i++)
    {
      const IovDelivery *d = iov_delivery_log_get (self->log, i, NULL);
      const char *kind = d->kind == IOV_DELIVERY_OBSERVED ? WORD_OBSERVED : WORD_INFERRED;

      if (!notifier_ok && d->notifier != NULL &&
          (contains_lower (d->notifier->name, notifier) || contains_lower (d->notifier->owner, notifier)))
        notifier_ok = TRUE;
      if (!outcome_ok && (strstr (iov_delivery_outcome_word (d), outcome) != NULL || strstr (kind, outcome) != NULL))
        outcome_ok = TRUE;
    }
  return notifier_ok && outcome_ok;
}

gboolean
iov_event_query_match (IovEventQuery *self,
                       guint64        index)
{
  IovEventRecord rec;
  const char *name;
  const char *args = NULL;
  guint64 d0 = 0, d1 = 0;

  g_return_val_if_fail (IOV_IS_EVENT_QUERY (self), FALSE);

  if (self->store == NULL || !iov_event_store_get (self->store, index, &rec))
    return FALSE;
  name = name_lower (self, rec.event_id);
  if (self->terms[KEY_EVENT] != NULL && strstr (name, self->terms[KEY_EVENT]) == NULL)
    return FALSE;

  if (iov_event_query_uses_deliveries (self) && self->log != NULL)
    iov_delivery_log_find (self->log, index, index + 1, &d0, &d1);
  if (!deliveries_match (self, d0, d1))
    return FALSE;

  if (self->terms[KEY_DEVICE] != NULL)
    {
      gboolean ok = FALSE;

      for (guint64 i = d0; i < d1 && !ok; i++)
        ok = contains_lower (iov_delivery_log_get (self->log, i, NULL)->device, self->terms[KEY_DEVICE]);
      if (!ok)
        {
          args = args_lower (self, index);
          ok = strstr (args, self->terms[KEY_DEVICE]) != NULL;
        }
      if (!ok)
        return FALSE;
    }

  for (guint w = 0; w + 1 < self->words->len; w++)
    {
      const char *word = g_ptr_array_index (self->words, w);

      if (strstr (name, word) != NULL)
        continue;
      if (args == NULL)
        args = args_lower (self, index);
      if (strstr (args, word) == NULL)
        return FALSE;
    }
  return TRUE;
}
