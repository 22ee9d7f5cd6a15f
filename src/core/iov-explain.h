/* iov-explain.h — the sentences and words views explain the model with
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

#pragma once

#include <glib.h>

#include "iov-delivery-log.h"
#include "iov-scenario.h"
#include "iov-system.h"

G_BEGIN_DECLS

/* How a result should stand out, whatever draws it: the app maps a tone to
 * a style class, other front ends to what they have. */
typedef enum
{
  IOV_TONE_NEUTRAL,   /* skipped, nothing happened */
  IOV_TONE_SUCCESS,   /* delivered */
  IOV_TONE_ACCENT,    /* delivered, cropped */
  IOV_TONE_WARNING,   /* refused */
  IOV_TONE_ERROR,     /* QEMU aborts */
} IovTone;

IovTone     iov_explain_outcome_tone (IovResult            result,
                                      gboolean             cropped);

/* ---- a trace's deliveries ------------------------------------------------ */

/* One delivery the model drew from a trace event, as a sentence:
 * "00:02.0.vhost.1 got UNMAP [0x1000, 0x1fff] (observed in the trace)".
 * @profile (may be NULL) words an abort as QEMU's failed assertion. */
char       *iov_explain_delivery     (const IovDelivery   *delivery,
                                      const IovProfile    *profile);
/* Store event @index's deliveries in @log, a "• " line each under "As
 * PROFILE dispatches it:"; without any, a sentence saying why (@log NULL:
 * there is no model). */
char       *iov_explain_event        (IovDeliveryLog      *log,
                                      guint64              index,
                                      const IovProfile    *profile);

/* ---- a scenario's steps -------------------------------------------------- */

/* "Step 3 of 4 · device-iotlb-invalidate", or "Before the first step"
 * for @position -1. */
char       *iov_explain_step_title   (const IovScenario   *scenario,
                                      int                  position);
/* A word for what a step did under one profile ("delivered", "✖ abort",
 * "registers"…), and its @tone. @result NULL: "not run". */
const char *iov_explain_step_word    (const IovStepResult *result,
                                      IovTone             *tone);
/* QEMU's last words when @run aborted at step @position, else NULL. */
char       *iov_explain_abort        (const IovRun        *run,
                                      const IovProfile    *profile,
                                      int                  position);

G_END_DECLS
