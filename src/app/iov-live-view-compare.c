/* iov-live-view-compare.c — Compare Versions on an opened trace or recording (issue K)
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


#define G_LOG_DOMAIN "iov-live-view"

#include "config.h"

#include <glib/gi18n.h>

#include "iov-compare-marks.h"
#include "iov-compare-panel.h"
#include "iov-live-view-private.h"
#include "iov-notifier-lanes.h"
#include "iov-recording.h"

/* An opened trace is read again from its file, whole, in a thread.  A
 * live VM's trace has no file: the events the document stored are
 * replayed a slice at a time in the main loop, which keeps feeding it. */

/* Main-loop time per slice of a live replay. */
#define REPLAY_BUDGET_US 12000

typedef struct
{
  char     *path;
  JsonNode *snapshot;
} Job;

static void
job_free (Job *job)
{
  g_free (job->path);
  g_clear_pointer (&job->snapshot, json_node_unref);
  g_free (job);
}

static void
compare_thread (GTask        *task,
                gpointer      source,
                gpointer      data,
                GCancellable *cancellable)
{
  Job *job = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;
  IovCompareRun *run;

  if (iov_recording_is_recording (job->path))
    {
      g_autoptr(IovRecording) recording = iov_recording_load (job->path, &error);

      if (recording == NULL)
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      len = recording->trace->len;
      text = g_string_free (g_steal_pointer (&recording->trace), FALSE);
    }
  else if (!g_file_get_contents (job->path, &text, &len, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  run = iov_compare_run_text (job->snapshot, text, len, &error);
  if (run == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, run, (GDestroyNotify) iov_compare_run_free);
}

static void
add_marks (GArray             *marks,
           IovEventStore      *store,
           GArray             *events,
           IovCompareMarkKind  kind)
{
  for (guint i = 0; i < events->len; i++)
    {
      IovEventRecord record;
      IovCompareMark mark;

      if (!iov_event_store_get (store, g_array_index (events, guint64, i), &record))
        continue;
      mark.ts_ns = record.ts_ns;
      mark.kind = kind;
      g_array_append_val (marks, mark);
    }
}

static int
compare_marks (gconstpointer a,
               gconstpointer b)
{
  const IovCompareMark *x = a, *y = b;

  return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

static void
show_run (IovLiveView   *self,
          IovCompareRun *run,
          const GError  *error)
{
  IovEventStore *store = self->doc ? iov_trace_document_get_store (self->doc) : NULL;
  g_autoptr(GArray) differences = NULL;
  g_autoptr(GArray) aborts = NULL;
  g_autoptr(GArray) marks = g_array_new (FALSE, FALSE, sizeof (IovCompareMark));

  self->comparing = FALSE;
  if (run == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *text = g_strdup_printf (_("Compare Versions failed: %s"), error->message);

          iov_compare_panel_set_busy (self->compare_panel, text);
        }
      return;
    }
  iov_compare_panel_set_run (self->compare_panel, run);
  differences = iov_compare_panel_dup_difference_events (self->compare_panel, &aborts);
  if (store != NULL)
    {
      add_marks (marks, store, differences, IOV_COMPARE_MARK_DIVERGENCE);
      add_marks (marks, store, aborts, IOV_COMPARE_MARK_ABORT);
      g_array_sort (marks, compare_marks);
    }
  iov_compare_marks_set_marks (self->compare_marks, marks);
  self->compare_event = G_MAXUINT64;
}

static void
compare_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      data)
{
  g_autoptr(GError) error = NULL;
  IovCompareRun *run = g_task_propagate_pointer (G_TASK (result), &error);

  show_run (IOV_LIVE_VIEW (object), run, error);
}

static gboolean
replay_step_cb (gpointer user_data)
{
  IovLiveView *self = user_data;
  gint64 start = g_get_monotonic_time ();
  guint64 done, total;
  g_autofree char *text = NULL;
  g_autofree char *done_text = NULL;
  g_autofree char *total_text = NULL;

  while (g_get_monotonic_time () - start < REPLAY_BUDGET_US)
    if (iov_compare_replay_step (self->compare_replay, 2000))
      {
        g_autoptr(IovCompareReplay) replay = g_steal_pointer (&self->compare_replay);

        self->compare_replay_id = 0;
        show_run (self, iov_compare_replay_finish (replay), NULL);
        return G_SOURCE_REMOVE;
      }
  iov_compare_replay_get_progress (self->compare_replay, &done, &total);
  done_text = g_strdup_printf ("%'" G_GUINT64_FORMAT, done);
  total_text = g_strdup_printf ("%'" G_GUINT64_FORMAT, total);
  /* Translators: a live VM's trace replayed; the numbers are events */
  text = g_strdup_printf (_("Replaying the trace so far under every QEMU release… %s of %s events"),
                          done_text, total_text);
  iov_compare_panel_set_busy (self->compare_panel, text);
  return G_SOURCE_CONTINUE;
}

void
_iov_live_view_compare_stop (IovLiveView *self)
{
  g_clear_handle_id (&self->compare_replay_id, g_source_remove);
  g_clear_pointer (&self->compare_replay, iov_compare_replay_free);
}

/* A live VM: the events its document stored until now. */
static void
compare_live (IovLiveView *self,
              JsonNode    *snapshot)
{
  g_autoptr(GError) error = NULL;

  _iov_live_view_compare_stop (self);
  self->compare_replay = iov_compare_replay_new (snapshot, self->doc, &error);
  if (self->compare_replay == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Compare Versions failed: %s"), error->message);

      iov_compare_panel_set_busy (self->compare_panel, text);
      return;
    }
  self->comparing = TRUE;
  iov_compare_marks_set_marks (self->compare_marks, NULL);
  iov_compare_panel_set_run (self->compare_panel, NULL);
  iov_compare_panel_set_busy (self->compare_panel, _("Replaying the trace so far under every QEMU release…"));
  self->compare_replay_id = g_idle_add_full (G_PRIORITY_LOW, replay_step_cb, self, NULL);
}

void
iov_live_view_compare_versions (IovLiveView *self,
                                JsonNode    *snapshot)
{
  g_autoptr(GTask) task = NULL;
  Job *job;

  g_return_if_fail (IOV_IS_LIVE_VIEW (self));

  gtk_widget_set_visible (GTK_WIDGET (self->compare_panel), TRUE);
  if (self->source_path == NULL &&
      (self->doc == NULL || iov_trace_document_get_store (self->doc) == NULL ||
       iov_event_store_get_n_events (iov_trace_document_get_store (self->doc)) == 0))
    {
      iov_compare_panel_set_busy (self->compare_panel,
                                  _("Compare Versions replays a trace: open a trace file or a recording, or "
                                    "connect to a VM with its trace and wait for its first events"));
      return;
    }
  if (snapshot == NULL)
    snapshot = self->snapshot;
  if (snapshot == NULL)
    {
      iov_compare_panel_set_busy (self->compare_panel,
                                  _("This trace has no snapshot: choose the VM's snapshot (iovista-cli snapshot) to "
                                    "compare the releases"));
      return;
    }
  if (self->source_path == NULL)
    {
      compare_live (self, snapshot);
      return;
    }
  _iov_live_view_compare_stop (self);
  g_cancellable_cancel (self->compare_cancellable);
  g_clear_object (&self->compare_cancellable);
  self->compare_cancellable = g_cancellable_new ();
  self->comparing = TRUE;
  iov_compare_marks_set_marks (self->compare_marks, NULL);
  iov_compare_panel_set_run (self->compare_panel, NULL);
  iov_compare_panel_set_busy (self->compare_panel, _("Replaying the trace under every QEMU release…"));
  job = g_new0 (Job, 1);
  job->path = g_strdup (self->source_path);
  job->snapshot = json_node_copy (snapshot);
  task = g_task_new (self, self->compare_cancellable, compare_done_cb, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, compare_thread);
}

gboolean
iov_live_view_is_comparing (IovLiveView *self)
{
  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), FALSE);
  return self->comparing;
}

GtkWidget *
iov_live_view_get_compare_panel (IovLiveView *self)
{
  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), NULL);
  return GTK_WIDGET (self->compare_panel);
}

GtkWidget *
iov_live_view_get_compare_marks (IovLiveView *self)
{
  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), NULL);
  return GTK_WIDGET (self->compare_marks);
}

/* ---- the snapshot of a plain trace --------------------------------------- */

static void
snapshot_chosen_cb (GtkNativeDialog *dialog,
                    int              response,
                    IovLiveView     *self)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  g_object_unref (dialog);
  if (file == NULL || (path = g_file_get_path (file)) == NULL)
    return;
  if (!json_parser_load_from_file (parser, path, &error))
    {
      g_autofree char *text = g_strdup_printf (_("Cannot read the snapshot “%s”: %s"), path, error->message);

      iov_compare_panel_set_busy (self->compare_panel, text);
      return;
    }
  iov_live_view_compare_versions (self, json_parser_get_root (parser));
}

static void
compare_versions_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *param)
{
  IovLiveView *self = IOV_LIVE_VIEW (widget);
  GtkFileChooserNative *dialog;
  g_autoptr(GtkFileFilter) filter = NULL;

  if (self->source_path == NULL || self->snapshot != NULL)
    {
      iov_live_view_compare_versions (self, NULL);
      return;
    }
  dialog = gtk_file_chooser_native_new (_("Choose the VM's Snapshot"),
                                        GTK_WINDOW (gtk_widget_get_root (widget)),
                                        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Compare"), NULL);
  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("Snapshots (JSON)"));
  gtk_file_filter_add_suffix (filter, "json");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_signal_connect (dialog, "response", G_CALLBACK (snapshot_chosen_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* ---- going through the differences ---------------------------------------- */

/* The list's row of store event @event: rows are events in order. */
static gboolean
row_of_event (IovEventList *list,
              guint64       event,
              guint        *row)
{
  guint lo = 0, hi = iov_event_list_get_n_rows (list);

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (iov_event_list_get_row_event (list, mid) < event)
        lo = mid + 1;
      else
        hi = mid;
    }
  *row = lo;
  return lo < iov_event_list_get_n_rows (list) && iov_event_list_get_row_event (list, lo) == event;
}

static void
next_difference_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *param)
{
  IovLiveView *self = IOV_LIVE_VIEW (widget);
  guint64 event = iov_compare_panel_next_difference (self->compare_panel, self->compare_event);
  guint row;

  if (event == G_MAXUINT64)
    return;
  if (!row_of_event (self->event_list, event, &row))
    {
      /* a search or a time range hides it: show every event again */
      iov_event_list_set_query (self->event_list, "");
      iov_timeline_clear_selection (self->timeline);
      iov_event_list_set_time_range (self->event_list, FALSE, 0, 0);
      if (!row_of_event (self->event_list, event, &row))
        return;
    }
  iov_event_list_select_row (self->event_list, row);
  iov_event_list_reveal_row (self->event_list, row);
  self->compare_event = event;
  iov_compare_panel_show_event (self->compare_panel, event);
}

static void
event_selected_cb (IovLiveView  *self,
                   guint64       index,
                   IovEventList *list)
{
  if (index == G_MAXUINT64 || iov_compare_panel_get_run (self->compare_panel) == NULL)
    return;
  self->compare_event = index;
  iov_compare_panel_show_event (self->compare_panel, index);
  /* every release's outcome in the lanes, beside this trace's */
  iov_notifier_lanes_set_releases (IOV_NOTIFIER_LANES (self->lanes),
                                   iov_compare_panel_get_release_outcomes (self->compare_panel));
}

void
_iov_live_view_compare_class_init (GtkWidgetClass *widget_class)
{
  g_type_ensure (IOV_TYPE_COMPARE_PANEL);
  g_type_ensure (IOV_TYPE_COMPARE_MARKS);
  gtk_widget_class_install_action (widget_class, "live.compare-versions", NULL, compare_versions_action);
  gtk_widget_class_install_action (widget_class, "live.next-difference", NULL, next_difference_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F8, 0, "live.next-difference", NULL);
}

void
_iov_live_view_compare_init (IovLiveView *self)
{
  self->compare_event = G_MAXUINT64;
  iov_compare_marks_set_timeline (self->compare_marks, self->timeline);
  g_signal_connect_swapped (self->event_list, "event-selected", G_CALLBACK (event_selected_cb), self);
}

/* A new trace, a new VM: the last comparison is not theirs. */
void
_iov_live_view_compare_reset (IovLiveView *self)
{
  _iov_live_view_compare_stop (self);
  g_cancellable_cancel (self->compare_cancellable);
  g_clear_object (&self->compare_cancellable);
  g_clear_pointer (&self->source_path, g_free);
  self->comparing = FALSE;
  self->compare_event = G_MAXUINT64;
  if (self->compare_panel != NULL)
    {
      iov_compare_panel_set_run (self->compare_panel, NULL);
      gtk_widget_set_visible (GTK_WIDGET (self->compare_panel), FALSE);
    }
  if (self->compare_marks != NULL)
    iov_compare_marks_set_marks (self->compare_marks, NULL);
  if (self->lanes != NULL)
    iov_notifier_lanes_set_releases (IOV_NOTIFIER_LANES (self->lanes), NULL);
}
