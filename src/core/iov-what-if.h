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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovWhatIf, iov_what_if_free)

G_END_DECLS
