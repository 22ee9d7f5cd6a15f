/* iov-scenario-editor.h — the scenario's JSON, validated as you type
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

#include <gtk/gtk.h>

#include "iov-scenario.h"

G_BEGIN_DECLS

#define IOV_TYPE_SCENARIO_EDITOR (iov_scenario_editor_get_type ())

G_DECLARE_FINAL_TYPE (IovScenarioEditor, iov_scenario_editor, IOV, SCENARIO_EDITOR, GtkWidget)

/* Emits ::scenario-edited (IovScenario *, transfer none: copy what you
 * keep by re-parsing, or take it with iov_scenario_editor_steal_scenario)
 * each time the text, ~300 ms after the last key, parses. */
GtkWidget   *iov_scenario_editor_new             (void);
/* Shows @scenario's JSON: a built-in's from the GResource, a file's from
 * the file.  No ::scenario-edited follows. */
void         iov_scenario_editor_load            (IovScenarioEditor *self,
                                                  const IovScenario *scenario);
/* Replaces the text; validated (and emitted) like typing. */
void         iov_scenario_editor_set_text        (IovScenarioEditor *self,
                                                  const char        *text);
char        *iov_scenario_editor_get_text        (IovScenarioEditor *self);
/* The message shown for invalid text, or NULL when it is valid. */
const char  *iov_scenario_editor_get_error       (IovScenarioEditor *self);
/* Validates now instead of after the pause. */
void         iov_scenario_editor_validate_now    (IovScenarioEditor *self);
/* The scenario ::scenario-edited carries, handed over: only valid in a
 * handler of that signal. */
IovScenario *iov_scenario_editor_steal_scenario  (IovScenarioEditor *self);

G_END_DECLS
