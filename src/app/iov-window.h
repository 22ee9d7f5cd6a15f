/* iov-window.h
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

#include <adwaita.h>

#include "iov-live-view.h"
#include "iov-lesson.h"
#include "iov-player.h"
#include "iov-what-if-view.h"

G_BEGIN_DECLS

#define IOV_TYPE_WINDOW (iov_window_get_type ())

G_DECLARE_FINAL_TYPE (IovWindow, iov_window, IOV, WINDOW, AdwApplicationWindow)

IovWindow *iov_window_new           (GtkApplication *application);
gboolean   iov_window_open_file     (IovWindow      *self,
                                     GFile          *file,
                                     GError        **error);
gboolean   iov_window_open_builtin  (IovWindow      *self,
                                     const char     *name,
                                     GError        **error);
void       iov_window_show_message  (IovWindow      *self,
                                     const char     *message);
IovPlayer *iov_window_get_player    (IovWindow      *self);
/* Shows the live view watching the QMP socket at @address. */
gboolean   iov_window_connect       (IovWindow      *self,
                                     const char     *address,
                                     const char     *trace_source,
                                     GError        **error);
IovLiveView *iov_window_get_live_view (IovWindow    *self);
IovWhatIfView *iov_window_get_what_if_view (IovWindow  *self);
IovLesson *iov_window_get_lesson    (IovWindow      *self);
/* Writes the current scenario under the player's profile as @format
 * ("perfetto", "csv", "svg", "png", "pdf"; NULL: from the file name);
 * pictures show the step on screen. */
gboolean   iov_window_export        (IovWindow      *self,
                                     GFile          *file,
                                     const char     *format,
                                     GError        **error);
/* "player", "what-if" or "lesson" */
void       iov_window_set_mode      (IovWindow      *self,
                                     const char     *mode);

G_END_DECLS
