/* iov-what-if.c — run scenarios under profiles, compare, print JSON
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

#define G_LOG_DOMAIN "iov-what-if"

#include "config.h"

#include <string.h>

#include "iov-what-if.h"

static const char *result_names[] = {
  [IOV_RESULT_DELIVERED] = "delivered",
  [IOV_RESULT_SKIPPED_RANGE] = "skipped-range",
  [IOV_RESULT_SKIPPED_FLAGS] = "skipped-flags",
  [IOV_RESULT_ABORT] = "abort",
};

static void
what_if_run_free (IovWhatIfRun *r)
{
  iov_run_free (r->run);
  g_clear_error (&r->error);
  g_free (r);
}

IovWhatIf *
iov_what_if_new (const IovScenario  *scenario,
                 const IovProfile  **profiles,
                 guint               n_profiles)
{
  IovWhatIf *self = g_new0 (IovWhatIf, 1);

  self->runs = g_ptr_array_new_with_free_func ((GDestroyNotify) what_if_run_free);
  for (guint i = 0; i < n_profiles; i++)
    {
      IovWhatIfRun *r = g_new0 (IovWhatIfRun, 1);

      r->profile = profiles[i];
      r->run = iov_run_scenario (scenario, profiles[i], &r->error);
      g_ptr_array_add (self->runs, r);
    }
  return self;
}

void
iov_what_if_free (IovWhatIf *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->runs, g_ptr_array_unref);
  g_free (self);
}

/* ------------------------------------------------------------------------
 * A small JSON writer: output is hot in the 10^6-step benchmark, and exact
 * (lowercase hex without leading zeros) by contract.
 */

/* Room for @n more bytes and the NUL; the caller writes at the returned
 * place and calls done(). GLib 2.74's g_string_append*() are calls that
 * check for overlap on every piece: a 10^6-step run prints 16 M outcomes. */
static inline char *
reserve (GString *out,
         gsize    n)
{
  if (out->len + n + 1 > out->allocated_len)
    {
      gsize len = out->len;

      g_string_set_size (out, len + n);
      g_string_truncate (out, len);
    }
  return out->str + out->len;
}

static inline void
done (GString *out,
      char    *end)
{
  out->len = end - out->str;
  *end = '\0';
}

static inline void
put_lit (GString    *out,
         const char *s,
         gsize       n)
{
  char *p = reserve (out, n);

  memcpy (p, s, n);
  done (out, p + n);
}

#define PUT(out, lit) put_lit ((out), "" lit, sizeof (lit) - 1)

static inline void
put_uint (GString *out,
          guint64  v)
{
  char tmp[20];
  int n = 0;
  char *p;

  do
    {
      tmp[n++] = '0' + v % 10;
      v /= 10;
    }
  while (v != 0);
  p = reserve (out, n);
  for (int i = 0; i < n; i++)
    p[i] = tmp[n - 1 - i];
  done (out, p + n);
}

static void
put_string (GString    *out,
            const char *s)
{
  gsize n = 0;
  char *p;

  /* plain text is copied as it is; anything else is escaped */
  while (s[n] != '\0')
    {
      guchar c = s[n];

      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
        {
          iov_json_append_string (out, s, strlen (s));
          return;
        }
      n++;
    }
  p = reserve (out, n + 2);
  p[0] = '"';
  memcpy (p + 1, s, n);
  p[n + 1] = '"';
  done (out, p + n + 2);
}

static inline void
put_hex (GString *out,
         guint64  v)
{
  static const char digits[] = "0123456789abcdef";
  char tmp[16];
  int n = 0;
  char *p;

  do
    {
      tmp[n++] = digits[v & 0xf];
      v >>= 4;
    }
  while (v != 0);
  p = reserve (out, n + 4);
  p[0] = '"';
  p[1] = '0';
  p[2] = 'x';
  for (int i = 0; i < n; i++)
    p[3 + i] = tmp[n - 1 - i];
  p[3 + n] = '"';
  done (out, p + n + 4);
}

static void
put_flags (GString *out,
           guint    flags)
{
  static const IovNotifierFlags order[] = { IOV_NOTIFIER_MAP, IOV_NOTIFIER_UNMAP, IOV_NOTIFIER_DEVIOTLB_UNMAP };
  gboolean first = TRUE;

  g_string_append_c (out, '[');
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    if (flags & order[i])
      {
        if (!first)
          g_string_append (out, ", ");
        put_string (out, iov_event_type_to_string (order[i]));
        first = FALSE;
      }
  g_string_append_c (out, ']');
}

char *
iov_outcome_message (const IovStepResult *step,
                     const IovProfile    *profile,
                     const IovOutcome    *o)
{
  if (o->abort == IOV_ABORT_EXIT)
    return g_strdup (step->abort_message);
  return iov_abort_message (profile, o->abort);
}

static void
write_outcomes (const IovStepResult *step,
                const IovProfile    *profile,
                gboolean             messages,
                GString             *out)
{
  PUT (out, "[");
  for (guint i = 0; i < step->outcomes->len; i++)
    {
      const IovOutcome *o = &g_array_index (step->outcomes, IovOutcome, i);

      if (i > 0)
        PUT (out, ", ");
      PUT (out, "{\"event\": ");
      if (o->event < 0)
        PUT (out, "null");
      else
        put_uint (out, (guint) o->event);
      PUT (out, ", \"notifier\": ");
      if (o->notifier != NULL)
        put_string (out, o->notifier->name);
      else
        PUT (out, "null");
      PUT (out, ", \"result\": ");
      put_string (out, result_names[o->result]);

      if (o->result == IOV_RESULT_DELIVERED)
        {
          PUT (out, ", \"type\": ");
          put_string (out, iov_event_type_to_string (o->type));
          PUT (out, ", \"iova\": ");
          put_hex (out, o->iova);
          PUT (out, ", \"addr_mask\": ");
          put_hex (out, o->addr_mask);
          if (o->cropped)
            PUT (out, ", \"cropped\": true");
          else
            PUT (out, ", \"cropped\": false");
        }
      else if (o->result == IOV_RESULT_ABORT && !messages)
        {
          PUT (out, ", \"abort\": ");
          put_uint (out, o->abort);
        }
      else if (o->result == IOV_RESULT_ABORT)
        {
          g_autofree char *msg = iov_outcome_message (step, profile, o);

          PUT (out, ", \"message\": ");
          put_string (out, msg ? msg : "");
        }
      PUT (out, "}");
    }
  PUT (out, "]");
}

void
iov_outcomes_write_json (const IovStepResult *step,
                         const IovProfile    *profile,
                         GString             *out)
{
  write_outcomes (step, profile, TRUE, out);
}

static void
put_registrations (GString             *out,
                   const IovStepResult *step)
{
  static const char *actions[] = { "added", "removed", "refused" };

  g_string_append (out, "[");
  for (guint i = 0; step->registrations != NULL && i < step->registrations->len; i++)
    {
      const IovRegistration *reg = &g_array_index (step->registrations, IovRegistration, i);

      if (i > 0)
        g_string_append (out, ", ");
      g_string_append (out, "{\"action\": ");
      put_string (out, actions[reg->action]);
      g_string_append (out, ", \"notifier\": ");
      put_string (out, reg->notifier->name);
      g_string_append (out, ", \"owner\": ");
      put_string (out, reg->notifier->owner ? reg->notifier->owner : "");
      g_string_append (out, ", \"device\": ");
      put_string (out, reg->device);
      g_string_append (out, ", \"start\": ");
      put_hex (out, reg->notifier->start);
      g_string_append (out, ", \"end\": ");
      put_hex (out, reg->notifier->end);
      g_string_append (out, ", \"flags\": ");
      put_flags (out, reg->notifier->flags);
      if (reg->message != NULL)
        {
          g_string_append (out, ", \"message\": ");
          put_string (out, reg->message);
        }
      g_string_append_c (out, '}');
    }
  g_string_append (out, "]");
}

static void
put_step (GString             *out,
          const IovStepResult *step,
          const IovProfile    *profile)
{
  PUT (out, "{\"index\": ");
  put_uint (out, step->index);
  PUT (out, ", \"op\": ");
  put_string (out, iov_step_op_to_string (step->op));
  if (step->not_run)
    {
      PUT (out, ", \"not_run\": true}");
      return;
    }

  PUT (out, ", \"events\": [");
  for (guint i = 0; i < step->events->len; i++)
    {
      const IovTlbEvent *ev = &g_array_index (step->events, IovTlbEvent, i);

      if (i > 0)
        PUT (out, ", ");
      PUT (out, "{\"type\": ");
      put_string (out, iov_event_type_to_string (ev->type));
      PUT (out, ", \"iova\": ");
      put_hex (out, ev->iova);
      PUT (out, ", \"addr_mask\": ");
      put_hex (out, ev->addr_mask);
      PUT (out, "}");
    }
  PUT (out, "], \"outcomes\": ");
  iov_outcomes_write_json (step, profile, out);

  if (step->topology)
    {
      PUT (out, ", \"registrations\": ");
      put_registrations (out, step);
    }
  if (step->topology && step->explain != NULL)
    {
      PUT (out, ", \"explain\": ");
      put_string (out, step->explain);
    }
  PUT (out, "}");
}

char *
iov_run_stderr (const IovRun *run)
{
  const IovStepResult *step = iov_run_get_step (run, run != NULL ? run->aborted_at : -1);

  if (step == NULL)
    return NULL;
  for (guint i = step->outcomes->len; i-- > 0;)
    {
      const IovOutcome *o = &g_array_index (step->outcomes, IovOutcome, i);

      if (o->result == IOV_RESULT_ABORT)
        return iov_outcome_message (step, run->profile, o);
    }
  return g_strdup (step->abort_message);
}

void
iov_run_write_json (const IovRun *run,
                    GString      *out)
{
  const IovStepResult *last = iov_run_get_step (run, run->aborted_at);
  g_autofree char *last_words = iov_run_stderr (run);

  g_string_append (out, "{\"profile\": ");
  put_string (out, run->profile->id);
  g_string_append (out, ", \"aborted_at\": ");
  if (run->aborted_at < 0)
    g_string_append (out, "null");
  else
    g_string_append_printf (out, "%d", run->aborted_at);
  /* What QEMU printed as it stopped, verbatim, and how it ended. */
  g_string_append (out, ", \"exit_status\": ");
  if (last != NULL && last->exit_status != 0)
    g_string_append_printf (out, "%d", last->exit_status);
  else
    g_string_append (out, "null");
  g_string_append (out, ", \"stderr\": ");
  if (last_words != NULL)
    put_string (out, last_words);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\n  \"steps\": [");
  for (guint i = 0; i < run->steps->len; i++)
    {
      if (i > 0)
        PUT (out, ",\n    ");
      else
        PUT (out, "\n    ");
      put_step (out, &g_array_index (run->steps, IovStepResult, i), run->profile);
    }
  g_string_append (out, "]}");
}

/* What a step did, for comparing profiles: the outcomes, with aborts by
 * kind, since the file and line QEMU prints differ between releases. */
static char *
step_signature (const IovWhatIfRun *r,
                guint               index,
                gboolean            messages)
{
  const IovStepResult *step;
  GString *s;

  if (index >= r->run->steps->len)
    return g_strdup ("\"not_run\"");
  step = &g_array_index (r->run->steps, IovStepResult, index);
  if (step->not_run)
    return g_strdup ("\"not_run\"");
  s = g_string_new (NULL);
  write_outcomes (step, r->profile, messages, s);
  return g_string_free (s, FALSE);
}

GArray *
iov_what_if_differences (IovWhatIf *self)
{
  GArray *diffs = g_array_new (FALSE, FALSE, sizeof (guint));
  guint n_steps = 0;

  for (guint i = 0; i < self->runs->len; i++)
    {
      IovWhatIfRun *r = g_ptr_array_index (self->runs, i);

      if (r->run != NULL)
        n_steps = MAX (n_steps, r->run->steps->len);
    }

  for (guint step = 0; step < n_steps; step++)
    {
      g_autofree char *first = NULL;
      gboolean differs = FALSE;

      for (guint i = 0; i < self->runs->len && !differs; i++)
        {
          IovWhatIfRun *r = g_ptr_array_index (self->runs, i);
          g_autofree char *sig = NULL;

          if (r->run == NULL)
            continue;
          sig = step_signature (r, step, FALSE);
          if (first == NULL)
            first = g_steal_pointer (&sig);
          else if (!g_str_equal (first, sig))
            differs = TRUE;
        }
      if (differs)
        g_array_append_val (diffs, step);
    }
  return diffs;
}

void
iov_what_if_write_json (IovWhatIf *self,
                        GString   *out)
{
  g_autoptr(GArray) diffs = iov_what_if_differences (self);

  g_string_append (out, "{\"runs\": [");
  for (guint i = 0; i < self->runs->len; i++)
    {
      IovWhatIfRun *r = g_ptr_array_index (self->runs, i);

      g_string_append (out, i > 0 ? ",\n  " : "\n  ");
      if (r->run != NULL)
        iov_run_write_json (r->run, out);
      else
        {
          g_string_append (out, "{\"profile\": ");
          put_string (out, r->profile->id);
          g_string_append (out, ", \"error\": ");
          put_string (out, r->error->message);
          g_string_append_c (out, '}');
        }
    }
  g_string_append (out, "],\n \"differences\": [");
  for (guint d = 0; d < diffs->len; d++)
    {
      guint step = g_array_index (diffs, guint, d);
      gboolean first = TRUE;

      g_string_append (out, d > 0 ? ",\n  " : "\n  ");
      g_string_append_printf (out, "{\"step\": %u, \"profiles\": {", step);
      for (guint i = 0; i < self->runs->len; i++)
        {
          IovWhatIfRun *r = g_ptr_array_index (self->runs, i);
          g_autofree char *sig = NULL;

          if (r->run == NULL)
            continue;
          sig = step_signature (r, step, TRUE);
          if (!first)
            g_string_append (out, ", ");
          put_string (out, r->profile->id);
          g_string_append (out, ": ");
          g_string_append (out, sig);
          first = FALSE;
        }
      g_string_append (out, "}}");
    }
  g_string_append (out, "]}");
}

/* ------------------------------------------------------------------------
 * The release table, as `what-if --list-profiles` prints it
 */

static const char *const fact_names[IOV_PROFILE_N_FACTS] = {
  "id", "dispatch", "vhost", "vfio-no-cm", "vtd-refusals", "snoop", "errno-text", "dsi/global", "replay",
  "aw", "virtio-iommu", "amd-vi", "containment-assert", "evidence",
};

const char *
iov_profile_fact_name (IovProfileFact fact)
{
  g_return_val_if_fail (fact < IOV_PROFILE_N_FACTS, NULL);
  return fact_names[fact];
}

char *
iov_profile_fact (const IovProfile *p,
                  IovProfileFact    fact)
{
  static const char *const dispatch[] = { "assert", "crop-if-dev", "crop" };
  static const char *const vhost[] = { "unmap", "dev-else-unmap", "by-ats" };

  switch (fact)
    {
    case IOV_PROFILE_FACT_ID:
      return g_strdup (p->id);
    case IOV_PROFILE_FACT_DISPATCH:
      return g_strdup (dispatch[p->era]);
    case IOV_PROFILE_FACT_VHOST:
      return g_strdup (vhost[p->vhost]);
    case IOV_PROFILE_FACT_VFIO_NO_CM:
      return g_strdup (p->vtd_cm_realize_fails ? "realize-fails" : p->vtd_cm_exit_at_init ? "exit" : "-");
    case IOV_PROFILE_FACT_VTD_REFUSALS:
      return g_strdup (p->vtd_refusals ? "cm,dt" : "-");
    case IOV_PROFILE_FACT_SNOOP:
      return g_strdup (p->snoop_control ? "refuses" : "-");
    case IOV_PROFILE_FACT_ERRNO:
      return *p->vtd_errno_text ? g_strdup_printf ("\"%s\"", p->vtd_errno_text) : g_strdup ("-");
    case IOV_PROFILE_FACT_SYNC:
      return g_strdup (p->vtd_sync_unmap_range ? "range-unmap" : p->era == IOV_ERA_5_0 ? "walk" : "walk,skip-dev");
    case IOV_PROFILE_FACT_REPLAY:
      return g_strdup (p->vtd_replay_8_1 ? "walk-if-n-map" : "unmap,walk-if-as-map");
    case IOV_PROFILE_FACT_AW:
      return g_strdup_printf ("%u", p->default_aw_bits);
    case IOV_PROFILE_FACT_VIRTIO:
      return g_strdup (!p->virtio_notifies ? "-" : p->virtio_split_map ? "split" : p->virtio_split ? "split-unmap"
                                                                                              : "whole");
    case IOV_PROFILE_FACT_AMD:
      return g_strdup (p->amd_notifies ? "dma-remap" : "-");
    case IOV_PROFILE_FACT_ASSERTION:
      if (p->era == IOV_ERA_10_2)
        return g_strdup ("none");
      if (p->containment_line == 0)
        return g_strdup_printf ("%s:?", p->memory_c);
      return g_strdup_printf ("%s:%u", p->memory_c, p->containment_line);
    case IOV_PROFILE_FACT_EVIDENCE:
      if (!p->trace_vhost_user && p->trace_vhost_start == NULL)
        return g_strdup ("-");
      return g_strdup_printf ("%s%s%s", p->trace_vhost_user ? "vhost_user_write" : "",
                              p->trace_vhost_user && p->trace_vhost_start ? "," : "",
                              p->trace_vhost_start ? p->trace_vhost_start : "");
    case IOV_PROFILE_N_FACTS:
    default:
      g_return_val_if_reached (NULL);
    }
}

char *
iov_profile_table (void)
{
  guint n;
  const IovProfile **all = iov_profile_list (&n);
  g_autofree char ***cells = g_new0 (char **, n + 1);
  guint width[IOV_PROFILE_N_FACTS] = { 0 };
  GString *out = g_string_new (NULL);

  for (guint f = 0; f < IOV_PROFILE_N_FACTS; f++)
    width[f] = strlen (fact_names[f]);
  for (guint i = 0; i < n; i++)
    {
      cells[i] = g_new0 (char *, IOV_PROFILE_N_FACTS + 1);
      for (guint f = 0; f < IOV_PROFILE_N_FACTS; f++)
        {
          cells[i][f] = iov_profile_fact (all[i], f);
          width[f] = MAX (width[f], g_utf8_strlen (cells[i][f], -1));
        }
    }

  for (guint i = 0; i <= n; i++)
    for (guint f = 0; f < IOV_PROFILE_N_FACTS; f++)
      {
        const char *cell = i == 0 ? fact_names[f] : cells[i - 1][f];

        /* pad by characters: the cells may hold UTF-8 */
        g_string_append (out, cell);
        if (f + 1 == IOV_PROFILE_N_FACTS)
          g_string_append_c (out, '\n');
        else
          for (guint k = g_utf8_strlen (cell, -1); k < width[f] + 2; k++)
            g_string_append_c (out, ' ');
      }

  g_string_append (out, "\nchecked against:\n");
  for (guint i = 0; i < n; i++)
    g_string_append_printf (out, "%-*s  %s (%s): %s\n", width[0], all[i]->id, all[i]->label, all[i]->versions,
                            all[i]->checked);
  for (guint i = 0; i < n; i++)
    g_strfreev (cells[i]);
  return g_string_free (out, FALSE);
}
