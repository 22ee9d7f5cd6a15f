/* iov-lesson.h — teaching mode: a scenario told step by step, predict then reveal
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

G_BEGIN_DECLS

#define IOV_TYPE_LESSON (iov_lesson_get_type ())

G_DECLARE_FINAL_TYPE (IovLesson, iov_lesson, IOV, LESSON, GtkWidget)

/* What the learner expects for one notifier; the drop-down's order. */
typedef enum
{
  IOV_LESSON_GUESS_NONE,
  IOV_LESSON_GUESS_DELIVERED,
  IOV_LESSON_GUESS_CROPPED,
  IOV_LESSON_GUESS_SKIPPED,
  IOV_LESSON_GUESS_ABORT,
} IovLessonGuess;

typedef enum
{
  IOV_LESSON_MARK_NONE,    /* not revealed yet */
  IOV_LESSON_MARK_RIGHT,
  IOV_LESSON_MARK_WRONG,
} IovLessonMark;

GtkWidget     *iov_lesson_new               (void);
guint          iov_lesson_get_n_lessons     (void);
/* Opens built-in lesson @index, before its first step. */
gboolean       iov_lesson_open              (IovLesson      *self,
                                             guint           index,
                                             GError        **error);
const char    *iov_lesson_get_scenario_name (IovLesson      *self);
int            iov_lesson_get_position      (IovLesson      *self);
void           iov_lesson_set_position      (IovLesson      *self,
                                             int             position);
/* One prediction per notifier registered at a step that sends events. */
guint          iov_lesson_get_n_predictions (IovLesson      *self);
const char    *iov_lesson_get_notifier_name (IovLesson      *self,
                                             guint           index);
void           iov_lesson_set_guess         (IovLesson      *self,
                                             guint           index,
                                             IovLessonGuess  guess);
/* Shows what QEMU does and marks each guess; FALSE when there is
 * nothing to predict at this step. */
gboolean       iov_lesson_reveal            (IovLesson      *self);
IovLessonMark  iov_lesson_get_mark          (IovLesson      *self,
                                             guint           index);

G_END_DECLS
