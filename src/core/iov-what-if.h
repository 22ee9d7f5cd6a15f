/* iov-what-if.h — run scenarios under profiles, compare, print JSON
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

#include "iov-scenario.h"
#include "iov-system.h"

G_BEGIN_DECLS

/* One profile's run, or why the scenario is invalid for that profile. */
typedef struct
{
  const IovProfile *profile;
  IovRun           *run;     /* NULL when error is set */
  GError           *error;
} IovWhatIfRun;

typedef struct
{
  GPtrArray *runs;    /* IovWhatIfRun* */
} IovWhatIf;

IovWhatIf *iov_what_if_new          (const IovScenario  *scenario,
                                     const IovProfile  **profiles,
                                     guint               n_profiles);
void       iov_what_if_free         (IovWhatIf          *what_if);

/* Step indexes where the runs' outcomes differ. */
GArray    *iov_what_if_differences  (IovWhatIf          *what_if);

/* JSON as `iovista-cli what-if` prints it (documented in
 * data/scenarios/README.md). */
void       iov_run_write_json       (const IovRun       *run,
                                     GString            *out);
void       iov_what_if_write_json   (IovWhatIf          *what_if,
                                     GString            *out);
void       iov_outcomes_write_json  (const IovStepResult *step,
                                     const IovProfile   *profile,
                                     GString            *out);
char      *iov_outcome_message      (const IovStepResult *step,
                                     const IovProfile   *profile,
                                     const IovOutcome   *outcome);
/* What QEMU printed when the run stopped (its assertion, or its error
 * lines), or NULL when it ran to the end. */
char      *iov_run_stderr           (const IovRun       *run);

/* The release table: one row per profile, one column per fact. */
typedef enum
{
  IOV_PROFILE_FACT_ID,
  IOV_PROFILE_FACT_DISPATCH,      /* per-notifier function: assert, crop-if-dev, crop */
  IOV_PROFILE_FACT_VHOST,         /* vhost's notifier flag rule */
  IOV_PROFILE_FACT_VFIO_NO_CM,    /* vfio behind VT-d without caching mode */
  IOV_PROFILE_FACT_VTD_REFUSALS,  /* notify_flag_changed refusals, with the errno text */
  IOV_PROFILE_FACT_SNOOP,
  IOV_PROFILE_FACT_ERRNO,         /* what VT-d's error_setg_errno() appends */
  IOV_PROFILE_FACT_SYNC,          /* domain/global invalidation without MAP notifiers */
  IOV_PROFILE_FACT_REPLAY,        /* vtd_iommu_replay */
  IOV_PROFILE_FACT_AW,            /* default aw-bits */
  IOV_PROFILE_FACT_VIRTIO,        /* virtio-iommu notifications */
  IOV_PROFILE_FACT_AMD,           /* AMD-Vi notifications */
  IOV_PROFILE_FACT_ASSERTION,     /* where the containment assertion prints, "none" from 10.2 */
  IOV_PROFILE_FACT_EVIDENCE,      /* consumer evidence events in a trace */
  IOV_PROFILE_N_FACTS
} IovProfileFact;

const char *iov_profile_fact_name   (IovProfileFact      fact);
char       *iov_profile_fact        (const IovProfile   *profile,
                                     IovProfileFact      fact);
/* Text: the table, then what each row was checked against. */
char       *iov_profile_table       (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovWhatIf, iov_what_if_free)

G_END_DECLS
