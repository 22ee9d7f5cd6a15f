/* iov-explain.c
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

#define G_LOG_DOMAIN "iov-explain"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "iov-explain.h"
#include "iov-what-if.h"

IovTone
iov_explain_outcome_tone (IovResult result,
                          gboolean  cropped)
{
  switch (result)
    {
    case IOV_RESULT_ABORT:
      return IOV_TONE_ERROR;
    case IOV_RESULT_DELIVERED:
      return cropped ? IOV_TONE_ACCENT : IOV_TONE_SUCCESS;
    case IOV_RESULT_SKIPPED_RANGE:
    case IOV_RESULT_SKIPPED_FLAGS:
    default:
      return IOV_TONE_NEUTRAL;
    }
}

/* ---- a trace's deliveries ------------------------------------------------ */

char *
iov_explain_delivery (const IovDelivery *d,
                      const IovProfile  *profile)
{
  /* the event's range, what the notifier got, the notifier's range */
  char ev_first[20], ev_last[20], got_first[20], got_last[20], n_first[20] = "?", n_last[20] = "?";
  g_autofree char *what = NULL;
  const char *who;
  const char *type;
  const char *evidence;

  g_return_val_if_fail (d != NULL, NULL);

  iov_hex_buf (d->event.iova, ev_first);
  iov_hex_buf (d->event.iova + d->event.addr_mask, ev_last);
  iov_hex_buf (d->outcome.iova, got_first);
  iov_hex_buf (d->outcome.iova + d->outcome.addr_mask, got_last);
  if (d->notifier != NULL)
    {
      iov_hex_buf (d->notifier->start, n_first);
      iov_hex_buf (d->notifier->end, n_last);
    }
  who = d->notifier != NULL ? d->notifier->name : _("the IOMMU");
  /* QEMU's names for the types, as its sources and traces spell them */
  type = d->outcome.type & IOV_NOTIFIER_MAP ? "MAP"
         : d->outcome.type & IOV_NOTIFIER_DEVIOTLB_UNMAP ? "DEVIOTLB_UNMAP" : "UNMAP";
  evidence = d->kind == IOV_DELIVERY_OBSERVED ? _("observed in the trace") : _("inferred by the model");

  switch ((IovResult) d->outcome.result)
    {
    case IOV_RESULT_DELIVERED:
      if (d->outcome.cropped)
        /* Translators: a delivery's explanation: notifier, type, ranges */
        what = g_strdup_printf (_("%s got %s [%s, %s], cropped: the event [%s, %s] reaches beyond its range "
                                  "[%s, %s] and this QEMU crops it"),
                                who, type, got_first, got_last, ev_first, ev_last, n_first, n_last);
      else
        what = g_strdup_printf (_("%s got %s [%s, %s]"), who, type, got_first, got_last);
      break;
    case IOV_RESULT_SKIPPED_RANGE:
      what = g_strdup_printf (_("%s skipped it: [%s, %s] does not overlap its range [%s, %s]"),
                              who, ev_first, ev_last, n_first, n_last);
      break;
    case IOV_RESULT_SKIPPED_FLAGS:
      what = g_strdup_printf (_("%s skipped it: it did not register for this kind of event"), who);
      break;
    case IOV_RESULT_ABORT:
    default:
      {
        g_autofree char *msg = profile != NULL ? iov_abort_message (profile, d->outcome.abort) : NULL;

        /* No evidence in parentheses here: after QEMU's assertion text it
         * would read as part of QEMU's message. */
        return g_strdup_printf (_("QEMU aborts delivering it to %s: %s"), who,
                                msg != NULL ? msg : _("assertion failed"));
      }
    }
  return g_strdup_printf ("%s (%s)", what, evidence);
}

char *
iov_explain_event (IovDeliveryLog   *log,
                   guint64           index,
                   const IovProfile *profile)
{
  g_autoptr(GString) out = g_string_new (NULL);
  guint64 d0 = 0, d1 = 0;

  if (log != NULL)
    iov_delivery_log_find (log, index, index + 1, &d0, &d1);
  if (d0 == d1)
    return g_strdup (log == NULL
                     ? _("No model: without a snapshot of the VM's notifiers nothing is inferred.")
                     : _("No notifier is concerned: the model draws no delivery from this event."));
  if (profile != NULL)
    /* Translators: %s is a QEMU version profile, e.g. "QEMU 7.2 (Debian 12)" */
    g_string_append_printf (out, _("As %s dispatches it:"), profile->label);
  for (guint64 i = d0; i < d1; i++)
    {
      g_autofree char *line = iov_explain_delivery (iov_delivery_log_get (log, i, NULL), profile);

      g_string_append_printf (out, "%s• %s", out->len ? "\n" : "", line);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* ---- a scenario's steps -------------------------------------------------- */

char *
iov_explain_step_title (const IovScenario *scenario,
                        int                position)
{
  const IovStep *step;

  g_return_val_if_fail (scenario != NULL, NULL);

  if (position < 0 || (guint) position >= scenario->steps->len)
    return g_strdup (_("Before the first step"));
  step = &g_array_index (scenario->steps, IovStep, position);
  /* Translators: "Step 3 of 4 · device-iotlb-invalidate"; the operation is the scenario's op name */
  return g_strdup_printf (_("Step %d of %d · %s"), position + 1, (int) scenario->steps->len,
                          iov_step_op_to_string (step->op));
}

const char *
iov_explain_step_word (const IovStepResult *r,
                       IovTone             *tone)
{
  guint delivered = 0, cropped = 0, skipped = 0, added = 0, removed = 0, refused = 0;

  g_return_val_if_fail (tone != NULL, NULL);

  *tone = IOV_TONE_NEUTRAL;
  if (r == NULL || r->not_run)
    return _("not run");

  for (guint i = 0; r->outcomes != NULL && i < r->outcomes->len; i++)
    {
      const IovOutcome *o = &g_array_index (r->outcomes, IovOutcome, i);

      switch (o->result)
        {
        case IOV_RESULT_ABORT:
          *tone = IOV_TONE_ERROR;
          return _("✖ abort");
        case IOV_RESULT_DELIVERED:
          delivered++;
          cropped += o->cropped;
          break;
        default:
          skipped++;
        }
    }
  if (r->abort_message != NULL)
    {
      *tone = IOV_TONE_ERROR;
      return _("✖ abort");
    }
  for (guint i = 0; r->registrations != NULL && i < r->registrations->len; i++)
    {
      const IovRegistration *reg = &g_array_index (r->registrations, IovRegistration, i);

      added += reg->action == IOV_REGISTRATION_ADDED;
      removed += reg->action == IOV_REGISTRATION_REMOVED;
      refused += reg->action == IOV_REGISTRATION_REFUSED;
    }

  /* The strongest thing the step did names it. */
  if (refused > 0)
    {
      *tone = IOV_TONE_WARNING;
      return _("refused");
    }
  if (cropped > 0)
    {
      *tone = IOV_TONE_ACCENT;
      return _("cropped");
    }
  if (delivered > 0)
    {
      *tone = IOV_TONE_SUCCESS;
      return _("delivered");
    }
  if (skipped > 0)
    return _("skipped");
  if (added > 0 && removed > 0)
    return _("re-registers");
  if (added > 0)
    return _("registers");
  if (removed > 0)
    return _("unregisters");
  return _("nothing");
}

char *
iov_explain_abort (const IovRun     *run,
                   const IovProfile *profile,
                   int               position)
{
  const IovStepResult *r = iov_run_get_step (run, position);
  char *text;

  if (r == NULL || r->not_run || run->aborted_at != position)
    return NULL;
  text = g_strdup (r->abort_message);
  for (guint i = 0; text == NULL && r->outcomes != NULL && i < r->outcomes->len; i++)
    {
      const IovOutcome *o = &g_array_index (r->outcomes, IovOutcome, i);

      if (o->result == IOV_RESULT_ABORT)
        text = iov_outcome_message (r, profile, o);
    }
  if (text == NULL)
    text = g_strdup (_("QEMU aborts."));
  return text;
}
