/* iov-scenario-private.h — the scenario reader's second path, for tests
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

#include "iov-scenario.h"

G_BEGIN_DECLS

/* What iov_scenario_new_from_data() gives, read through json-glib's whole
 * tree only, never its streaming reader: the tests and the fuzz harness
 * check that both paths agree on every input. */
IovScenario *iov_scenario_new_from_data_tree (const char  *data,
                                              gssize       length,
                                              const char  *display_name,
                                              GError     **error);

/* Whether two scenarios say the same in every field. */
gboolean     iov_scenario_equal              (const IovScenario *a,
                                              const IovScenario *b);

G_END_DECLS
