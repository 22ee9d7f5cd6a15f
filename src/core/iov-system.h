/* iov-system.h — a modelled machine running a scenario under one profile
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

#include "iov-engine.h"
#include "iov-scenario.h"

G_BEGIN_DECLS

typedef enum
{
  IOV_REGISTRATION_ADDED,
  IOV_REGISTRATION_REMOVED,
  IOV_REGISTRATION_REFUSED,
} IovRegistrationAction;

typedef struct
{
  IovRegistrationAction  action;
  const IovNotifier     *notifier;
  char                  *device;
  char                  *message;   /* QEMU's refusal text */
} IovRegistration;

/* assert() and hw_error() end in abort(): a shell sees 128 + SIGABRT. */
#define IOV_EXIT_ABORT 134

typedef struct
{
  guint      index;
  IovStepOp  op;
  gboolean   not_run;
  gboolean   topology;       /* prints registrations and explain */
  GArray    *events;         /* IovTlbEvent */
  GArray    *outcomes;       /* IovOutcome */
  GArray    *registrations;  /* IovRegistration; NULL for low-level steps */
  char      *abort_message;  /* QEMU's last words when it stopped (error exits) */
  int        exit_status;    /* QEMU's exit status when it stopped there, else 0 */
  char      *explain;        /* NULL for low-level steps the scenario left unexplained */
} IovStepResult;

typedef struct
{
  const IovProfile  *profile;
  GArray            *steps;        /* IovStepResult */
  int                aborted_at;   /* step index, or -1 */
  GPtrArray         *notifiers;    /* every notifier the run created, owned */
  GPtrArray         *initial;      /* IovRunSpace*: before the first step */
} IovRun;

/* Step @step's result; NULL without a run or out of its steps (-1 is the
 * machine before the first step, which no step result describes). A bounds
 * check that needs nothing of iov-system.c, so it lives here. */
static inline const IovStepResult *
iov_run_get_step (const IovRun *run,
                  int           step)
{
  if (run == NULL || step < 0 || step >= (int) run->steps->len)
    return NULL;
  return &g_array_index (run->steps, IovStepResult, step);
}

/* The notifiers registered once step @step has run (-1: before the first),
 * per address space in QEMU's dispatch order: a GPtrArray of
 * IovRunSpace. */
typedef struct
{
  char      *device;      /* "mr" for the low-level region */
  GPtrArray *notifiers;   /* const IovNotifier*, list head first */
} IovRunSpace;

GPtrArray *iov_run_spaces_at (const IovRun *run,
                              int           step);

IovRun   *iov_run_scenario (const IovScenario  *scenario,
                            const IovProfile   *profile,
                            GError            **error);
void      iov_run_free     (IovRun             *run);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovRun, iov_run_free)

G_END_DECLS
