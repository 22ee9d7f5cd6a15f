/* test-explain.c — the sentences and words the views explain the model with
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

#include "config.h"

#include <string.h>

#include "iov-explain.h"

/* ---- a trace's deliveries ----------------------------------------------- */

/* vhost's notifier [0, 0xfedfffff] and an UNMAP of [0x1000, 0x1fff]. */
static IovDelivery
delivery (const IovNotifier *notifier,
          IovResult          result,
          IovDeliveryKind    kind)
{
  IovDelivery d = { 0, };

  d.notifier = notifier;
  d.device = "00:02.0";
  d.kind = kind;
  d.event.iova = 0x1000;
  d.event.addr_mask = 0xfff;
  d.event.type = IOV_NOTIFIER_UNMAP;
  d.outcome.notifier = notifier;
  d.outcome.result = result;
  if (result == IOV_RESULT_DELIVERED)
    {
      d.outcome.type = IOV_NOTIFIER_UNMAP;
      d.outcome.iova = 0x1000;
      d.outcome.addr_mask = 0xfff;
    }
  return d;
}

static void
assert_explains (const IovDelivery *d,
                 const IovProfile  *profile,
                 const char        *expected)
{
  g_autofree char *text = iov_explain_delivery (d, profile);

  g_assert_cmpstr (text, ==, expected);
}

static void
test_delivery (void)
{
  g_autoptr(IovNotifier) vhost = iov_notifier_new ("00:02.0.vhost.1", "vhost", 0, 0xfedfffff, IOV_NOTIFIER_UNMAP);
  g_autoptr(IovNotifier) high = iov_notifier_new ("01:00.0.vfio", "vfio", 0xfef00000, G_MAXUINT64,
                                                  IOV_NOTIFIER_IOTLB_EVENTS);
  IovDelivery d;

  /* delivered, as the trace showed or as the model inferred */
  d = delivery (vhost, IOV_RESULT_DELIVERED, IOV_DELIVERY_OBSERVED);
  assert_explains (&d, NULL, "00:02.0.vhost.1 got UNMAP [0x1000, 0x1fff] (observed in the trace)");
  d.kind = IOV_DELIVERY_INFERRED;
  assert_explains (&d, NULL, "00:02.0.vhost.1 got UNMAP [0x1000, 0x1fff] (inferred by the model)");
  /* the type delivered, in QEMU's words */
  d.outcome.type = IOV_NOTIFIER_MAP;
  assert_explains (&d, NULL, "00:02.0.vhost.1 got MAP [0x1000, 0x1fff] (inferred by the model)");
  d.outcome.type = IOV_NOTIFIER_DEVIOTLB_UNMAP;
  assert_explains (&d, NULL, "00:02.0.vhost.1 got DEVIOTLB_UNMAP [0x1000, 0x1fff] (inferred by the model)");

  /* cropped to the notifier's range */
  d = delivery (vhost, IOV_RESULT_DELIVERED, IOV_DELIVERY_OBSERVED);
  d.event.iova = 0xfed00000;
  d.event.addr_mask = 0x1fffff;
  d.outcome.iova = 0xfed00000;
  d.outcome.addr_mask = 0xfffff;
  d.outcome.cropped = 1;
  assert_explains (&d, NULL,
                   "00:02.0.vhost.1 got UNMAP [0xfed00000, 0xfedfffff], cropped: the event [0xfed00000, 0xfeefffff] "
                   "reaches beyond its range [0x0, 0xfedfffff] and this QEMU crops it (observed in the trace)");

  /* skipped: out of range, or not registered for the kind */
  d = delivery (high, IOV_RESULT_SKIPPED_RANGE, IOV_DELIVERY_INFERRED);
  assert_explains (&d, NULL, "01:00.0.vfio skipped it: [0x1000, 0x1fff] does not overlap its range "
                             "[0xfef00000, 0xffffffffffffffff] (inferred by the model)");
  d = delivery (vhost, IOV_RESULT_SKIPPED_FLAGS, IOV_DELIVERY_INFERRED);
  assert_explains (&d, NULL, "00:02.0.vhost.1 skipped it: it did not register for this kind of event "
                             "(inferred by the model)");

  /* no single notifier */
  d = delivery (NULL, IOV_RESULT_SKIPPED_RANGE, IOV_DELIVERY_INFERRED);
  assert_explains (&d, NULL, "the IOMMU skipped it: [0x1000, 0x1fff] does not overlap its range [?, ?] "
                             "(inferred by the model)");
}

/* An abort is QEMU's own assertion, as glibc prints it, when the profile
 * knows it; no evidence is named after it. */
static void
test_abort (void)
{
  g_autoptr(IovNotifier) vhost = iov_notifier_new ("00:02.0.vhost.1", "vhost", 0, 0xfedfffff, IOV_NOTIFIER_UNMAP);
  const IovProfile *profile = iov_profile_lookup ("qemu-5.0");
  IovDelivery d = delivery (vhost, IOV_RESULT_ABORT, IOV_DELIVERY_INFERRED);
  g_autofree char *text = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *assertion = NULL;

  g_assert_nonnull (profile);
  d.outcome.abort = IOV_ABORT_CONTAINMENT;
  assertion = iov_abort_message (profile, IOV_ABORT_CONTAINMENT);
  g_assert_nonnull (strstr (assertion, "Assertion `entry->iova >= notifier->start && entry_end <= notifier->end' failed."));
  expected = g_strdup_printf ("QEMU aborts delivering it to 00:02.0.vhost.1: %s", assertion);
  text = iov_explain_delivery (&d, profile);
  g_assert_cmpstr (text, ==, expected);
  g_assert_null (strstr (text, "(inferred"));

  /* without a profile, or where QEMU gave no assertion */
  assert_explains (&d, NULL, "QEMU aborts delivering it to 00:02.0.vhost.1: assertion failed");
  d.outcome.abort = IOV_ABORT_EXIT;
  assert_explains (&d, profile, "QEMU aborts delivering it to 00:02.0.vhost.1: assertion failed");
}

/* The inspector's text for an event: its deliveries, or why there are none. */
static void
test_event (void)
{
  g_autoptr(IovNotifier) vhost = iov_notifier_new ("00:02.0.vhost.1", "vhost", 0, 0xfedfffff, IOV_NOTIFIER_UNMAP);
  g_autoptr(IovNotifier) high = iov_notifier_new ("01:00.0.vfio", "vfio", 0xfef00000, G_MAXUINT64,
                                                  IOV_NOTIFIER_IOTLB_EVENTS);
  g_autoptr(IovDeliveryLog) log = iov_delivery_log_new ();
  const IovProfile *profile = iov_profile_lookup ("qemu-6.0");
  IovDelivery batch[2];
  g_autofree char *none = NULL;
  g_autofree char *no_model = NULL;
  g_autofree char *two = NULL;
  g_autofree char *bare = NULL;
  g_autofree char *expected = NULL;

  iov_delivery_log_note_event (log, 1, 0);
  iov_delivery_log_note_event (log, 2, 1);
  batch[0] = delivery (vhost, IOV_RESULT_DELIVERED, IOV_DELIVERY_OBSERVED);
  batch[1] = delivery (high, IOV_RESULT_SKIPPED_RANGE, IOV_DELIVERY_INFERRED);
  batch[0].line = batch[1].line = 2;
  g_assert_cmpuint (iov_delivery_log_add (log, batch, 2, NULL), ==, 2);

  no_model = iov_explain_event (NULL, 1, profile);
  g_assert_cmpstr (no_model, ==, "No model: without a snapshot of the VM's notifiers nothing is inferred.");
  none = iov_explain_event (log, 0, profile);
  g_assert_cmpstr (none, ==, "No notifier is concerned: the model draws no delivery from this event.");

  two = iov_explain_event (log, 1, profile);
  expected = g_strdup_printf ("As %s dispatches it:\n"
                              "• 00:02.0.vhost.1 got UNMAP [0x1000, 0x1fff] (observed in the trace)\n"
                              "• 01:00.0.vfio skipped it: [0x1000, 0x1fff] does not overlap its range "
                              "[0xfef00000, 0xffffffffffffffff] (inferred by the model)", profile->label);
  g_assert_cmpstr (two, ==, expected);
  /* no profile: no heading */
  bare = iov_explain_event (log, 1, NULL);
  g_assert_true (g_str_has_prefix (bare, "• 00:02.0.vhost.1 got UNMAP"));
}

/* ---- a scenario's steps ------------------------------------------------- */

static void
test_outcome_tone (void)
{
  g_assert_cmpint (iov_explain_outcome_tone (IOV_RESULT_DELIVERED, FALSE), ==, IOV_TONE_SUCCESS);
  g_assert_cmpint (iov_explain_outcome_tone (IOV_RESULT_DELIVERED, TRUE), ==, IOV_TONE_ACCENT);
  g_assert_cmpint (iov_explain_outcome_tone (IOV_RESULT_SKIPPED_RANGE, FALSE), ==, IOV_TONE_NEUTRAL);
  g_assert_cmpint (iov_explain_outcome_tone (IOV_RESULT_SKIPPED_FLAGS, TRUE), ==, IOV_TONE_NEUTRAL);
  g_assert_cmpint (iov_explain_outcome_tone (IOV_RESULT_ABORT, FALSE), ==, IOV_TONE_ERROR);
}

static void
assert_word (const IovStepResult *r,
             const char          *word,
             IovTone              tone)
{
  IovTone got = G_MAXINT;

  g_assert_cmpstr (iov_explain_step_word (r, &got), ==, word);
  g_assert_cmpint (got, ==, tone);
}

static void
add_outcome (GArray    *outcomes,
             IovResult  result,
             gboolean   cropped)
{
  IovOutcome o = { 0, };

  o.result = result;
  o.cropped = cropped;
  g_array_append_val (outcomes, o);
}

static void
add_registration (GArray                *registrations,
                  IovRegistrationAction  action)
{
  IovRegistration reg = { 0, };

  reg.action = action;
  g_array_append_val (registrations, reg);
}

/* The strongest thing a step did names it. */
static void
test_step_word (void)
{
  g_autoptr(GArray) outcomes = g_array_new (FALSE, TRUE, sizeof (IovOutcome));
  g_autoptr(GArray) registrations = g_array_new (FALSE, TRUE, sizeof (IovRegistration));
  IovStepResult r = { 0, };

  assert_word (NULL, "not run", IOV_TONE_NEUTRAL);
  r.not_run = TRUE;
  assert_word (&r, "not run", IOV_TONE_NEUTRAL);
  r.not_run = FALSE;
  assert_word (&r, "nothing", IOV_TONE_NEUTRAL);

  r.registrations = registrations;
  add_registration (registrations, IOV_REGISTRATION_REMOVED);
  assert_word (&r, "unregisters", IOV_TONE_NEUTRAL);
  add_registration (registrations, IOV_REGISTRATION_ADDED);
  assert_word (&r, "re-registers", IOV_TONE_NEUTRAL);
  g_array_remove_index (registrations, 0);
  assert_word (&r, "registers", IOV_TONE_NEUTRAL);

  r.outcomes = outcomes;
  add_outcome (outcomes, IOV_RESULT_SKIPPED_RANGE, FALSE);
  assert_word (&r, "skipped", IOV_TONE_NEUTRAL);
  add_outcome (outcomes, IOV_RESULT_DELIVERED, FALSE);
  assert_word (&r, "delivered", IOV_TONE_SUCCESS);
  add_outcome (outcomes, IOV_RESULT_DELIVERED, TRUE);
  assert_word (&r, "cropped", IOV_TONE_ACCENT);
  add_registration (registrations, IOV_REGISTRATION_REFUSED);
  assert_word (&r, "refused", IOV_TONE_WARNING);
  r.abort_message = (char *) "qemu-system-x86_64: hw_error";
  assert_word (&r, "✖ abort", IOV_TONE_ERROR);
  r.abort_message = NULL;
  add_outcome (outcomes, IOV_RESULT_ABORT, FALSE);
  assert_word (&r, "✖ abort", IOV_TONE_ERROR);
}

/* QEMU 5.0 crashes on the device-IOTLB flush of issue B's scenario: the
 * titles, words and last words of each step. */
static void
test_steps (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IovScenario) scenario = iov_scenario_new_from_resource ("2020-deviotlb-crash", &error);
  g_autoptr(IovRun) run = NULL;
  const IovProfile *profile = iov_profile_lookup ("qemu-5.0");
  g_autofree char *before = NULL;
  g_autofree char *first = NULL;
  g_autofree char *expected = NULL;
  int n;

  g_assert_no_error (error);
  run = iov_run_scenario (scenario, profile, &error);
  g_assert_no_error (error);
  n = (int) scenario->steps->len;
  g_assert_cmpint (run->aborted_at, >=, 0);
  g_assert_cmpint (run->aborted_at, <, n);

  before = iov_explain_step_title (scenario, -1);
  g_assert_cmpstr (before, ==, "Before the first step");
  first = iov_explain_step_title (scenario, 0);
  expected = g_strdup_printf ("Step 1 of %d · %s", n,
                              iov_step_op_to_string (g_array_index (scenario->steps, IovStep, 0).op));
  g_assert_cmpstr (first, ==, expected);

  for (int s = -1; s < n; s++)
    {
      g_autofree char *last_words = iov_explain_abort (run, profile, s);
      const IovStepResult *r = s >= 0 ? &g_array_index (run->steps, IovStepResult, s) : NULL;
      IovTone tone;

      if (s == run->aborted_at)
        {
          g_assert_nonnull (last_words);
          g_assert_true (g_str_has_prefix (last_words, "qemu-system-x86_64: "));
          assert_word (r, "✖ abort", IOV_TONE_ERROR);
        }
      else
        g_assert_null (last_words);
      if (s > run->aborted_at)
        assert_word (r, "not run", IOV_TONE_NEUTRAL);
      else if (s >= 0 && s < run->aborted_at)
        g_assert_cmpstr (iov_explain_step_word (r, &tone), !=, "✖ abort");
    }
  g_assert_null (iov_explain_abort (NULL, profile, 0));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/explain/delivery", test_delivery);
  g_test_add_func ("/explain/abort", test_abort);
  g_test_add_func ("/explain/event", test_event);
  g_test_add_func ("/explain/outcome-tone", test_outcome_tone);
  g_test_add_func ("/explain/step-word", test_step_word);
  g_test_add_func ("/explain/steps", test_steps);
  return g_test_run ();
}
