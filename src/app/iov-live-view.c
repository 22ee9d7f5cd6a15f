/* iov-live-view.c — a running QEMU's, or a recording's, address spaces
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

#include "iov-export.h"
#include "iov-live-view-private.h"
#include "iov-range-map.h"
#include "iov-notifier-lanes.h"

G_DEFINE_FINAL_TYPE (IovLiveView, iov_live_view, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_STATUS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

GtkWidget *
iov_live_view_new (void)
{
  return g_object_new (IOV_TYPE_LIVE_VIEW, NULL);
}

const char *
iov_live_view_get_status (IovLiveView *self)
{
  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), NULL);
  return self->status;
}

IovEventList *
iov_live_view_get_event_list (IovLiveView *self)
{
  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), NULL);
  return self->event_list;
}

IovTimeline *
iov_live_view_get_timeline (IovLiveView *self)
{
  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), NULL);
  return self->timeline;
}

GtkWidget *
iov_live_view_get_lanes (IovLiveView *self)
{
  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), NULL);
  return self->lanes;
}

/* Returns: (transfer none) (nullable): the trace's document */
IovTraceDocument *
iov_live_view_get_document (IovLiveView *self)
{
  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), NULL);
  return self->doc;
}

/* Returns: (nullable): the opened trace or recording */
const char *
iov_live_view_get_source_path (IovLiveView *self)
{
  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), NULL);
  return self->source_path;
}

gboolean
iov_live_view_export_traffic (IovLiveView  *self,
                              const char   *format,
                              GString      *out,
                              GError      **error)
{
  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), FALSE);
  g_return_val_if_fail (format != NULL && out != NULL, FALSE);

  if (self->loading)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PENDING,
                           _("Nothing to export yet: the trace is still being read"));
      return FALSE;
    }
  if (self->doc == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("Nothing to export: this view reads no trace (open a trace or a recording, or "
                             "connect with a trace source)"));
      return FALSE;
    }
  /* the core writes it as `iovista-cli export` does, byte for byte */
  return iov_export_document_traffic (self->doc, format, out, error);
}

void
iov_live_view_get_trace_counts (IovLiveView *self,
                                guint64     *lines,
                                guint64     *events,
                                guint64     *dropped)
{
  g_return_if_fail (IOV_IS_LIVE_VIEW (self));

  if (lines != NULL)
    *lines = self->doc ? iov_trace_document_get_n_lines (self->doc) : 0;
  if (events != NULL)
    *events = self->doc ? iov_trace_document_get_stats (self->doc)->events : 0;
  if (dropped != NULL)
    *dropped = self->n_dropped;
}

/* Delivered, cropped included: the CLI's meaning (issue H). */
guint64
iov_live_view_get_n_deliveries (IovLiveView *self)
{
  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), 0);
  return self->doc ? iov_trace_document_get_n_delivered (self->doc) : 0;
}

void
_iov_live_view_set_status (IovLiveView *self,
                           const char  *status)
{
  if (g_strcmp0 (self->status, status) == 0)
    return;
  g_free (self->status);
  self->status = g_strdup (status);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
}

void
_iov_live_view_set_snapshot (IovLiveView *self,
                             JsonNode    *snapshot)
{
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&self->snapshot, json_node_unref);
  g_clear_pointer (&self->snapshot_info, iov_snapshot_info_free);
  if (snapshot != NULL)
    {
      /* A snapshot the reader refuses is not shown in part: the status
       * says what is wrong with it (a recording from elsewhere, a relay). */
      self->snapshot_info = iov_snapshot_info_new_from_json (snapshot, &error);
      if (self->snapshot_info == NULL)
        {
          g_autofree char *status = g_strdup_printf (_("Unreadable snapshot: %s"), error->message);

          _iov_live_view_set_status (self, status);
        }
      else
        self->snapshot = json_node_copy (snapshot);
    }
  _iov_live_view_populate_sidebar (self);
  if (self->snapshot != NULL)
    gtk_stack_set_visible_child_name (self->stack, "content");
  _iov_live_view_trace_snapshot (self);
}

void
iov_live_view_show_snapshot (IovLiveView *self,
                             JsonNode    *snapshot)
{
  g_return_if_fail (IOV_IS_LIVE_VIEW (self));
  _iov_live_view_set_snapshot (self, snapshot);
}

gboolean
iov_live_view_open_file (IovLiveView  *self,
                         GFile        *file,
                         GError      **error)
{
  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);
  return _iov_live_view_open_file (self, file, error);
}

void
iov_live_view_disconnect (IovLiveView *self)
{
  g_return_if_fail (IOV_IS_LIVE_VIEW (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  _iov_live_view_stop_trace (self);
  _iov_live_view_stop_source (self);
  g_clear_pointer (&self->address, g_free);
  g_clear_pointer (&self->recording_name, g_free);
  g_clear_pointer (&self->went_away, g_free);
  self->loading = FALSE;
}

void
_iov_live_view_reset (IovLiveView *self)
{
  iov_live_view_disconnect (self);
  _iov_live_view_compare_reset (self);
  g_clear_pointer (&self->snapshot, json_node_unref);
  g_clear_pointer (&self->snapshot_info, iov_snapshot_info_free);
  g_clear_pointer (&self->selected_bdf, g_free);
  _iov_live_view_traffic_device_changed (self);
  _iov_live_view_populate_sidebar (self);
  _iov_live_view_map_show_space (self->range_map, self->lanes, NULL, "", "", 0, NULL);
  self->cancellable = g_cancellable_new ();
}

/* ---- actions ------------------------------------------------------------ */

static void
copy_arguments_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  IovLiveView *self = IOV_LIVE_VIEW (widget);

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), gtk_label_get_text (self->args_label));
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (_("Copied")));
}

static void
retry_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  IovLiveView *self = IOV_LIVE_VIEW (widget);

  if (self->source != NULL)
    iov_vm_source_retry (self->source);
}

static void
trust_certificate_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *param)
{
  IovLiveView *self = IOV_LIVE_VIEW (widget);

  if (self->source == NULL || self->untrusted_sha256 == NULL)
    return;
  _iov_live_view_show_page (self, "network-transmit-receive-symbolic", _("Connecting to the Relay…"), self->address,
                            NULL, TRUE);
  iov_vm_source_trust_certificate (self->source, self->untrusted_sha256);
}

static void
refresh_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *param)
{
  IovLiveView *self = IOV_LIVE_VIEW (widget);

  _iov_live_view_refresh (self);
}

static void
iov_live_view_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  IovLiveView *self = IOV_LIVE_VIEW (object);

  switch (prop_id)
    {
    case PROP_STATUS:
      g_value_set_string (value, self->status);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
iov_live_view_dispose (GObject *object)
{
  IovLiveView *self = IOV_LIVE_VIEW (object);

  iov_live_view_disconnect (self);
  _iov_live_view_compare_stop (self);
  g_cancellable_cancel (self->compare_cancellable);
  g_clear_object (&self->compare_cancellable);
  /* the list box may keep the model a little longer than self lives */
  if (self->device_filter != NULL)
    gtk_custom_filter_set_filter_func (self->device_filter, NULL, NULL, NULL);
  g_clear_object (&self->shown_devices);
  g_clear_object (&self->device_filter);
  g_clear_object (&self->devices);
  /* AdwBin unparents its child itself: no gtk_widget_dispose_template(),
   * which would unparent it behind AdwBin's back. */

  G_OBJECT_CLASS (iov_live_view_parent_class)->dispose (object);
}

static void
iov_live_view_finalize (GObject *object)
{
  IovLiveView *self = IOV_LIVE_VIEW (object);

  g_clear_weak_pointer (&self->hint_toast);
  g_clear_pointer (&self->snapshot, json_node_unref);
  g_clear_pointer (&self->snapshot_info, iov_snapshot_info_free);
  g_clear_pointer (&self->status, g_free);
  g_clear_pointer (&self->selected_bdf, g_free);
  g_clear_pointer (&self->filter, g_free);
  g_clear_pointer (&self->token, g_free);
  g_clear_pointer (&self->trace_preset, g_free);
  g_clear_pointer (&self->untrusted_sha256, g_free);
  g_clear_pointer (&self->source_path, g_free);
  g_clear_weak_pointer (&self->change_toast);
  g_clear_object (&self->doc);

  G_OBJECT_CLASS (iov_live_view_parent_class)->finalize (object);
}

static void
iov_live_view_class_init (IovLiveViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = iov_live_view_dispose;
  object_class->finalize = iov_live_view_finalize;
  object_class->get_property = iov_live_view_get_property;

  properties[PROP_STATUS] =
    g_param_spec_string ("status", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  _iov_live_view_map_ensure_types ();
  g_type_ensure (IOV_TYPE_TIMELINE);
  g_type_ensure (IOV_TYPE_RATE_TRACKS);
  g_type_ensure (IOV_TYPE_TRAFFIC_PANEL);
  g_type_ensure (IOV_TYPE_EVENT_LIST);
  _iov_live_view_compare_class_init (widget_class);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/iovista/Iovista/iov-live-view.ui");
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, stack);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, status_page);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, spinner);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, args_label);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, copy_button);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, retry_button);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, trust_button);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, search_entry);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, space_list);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, range_map);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, lanes);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, timeline);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, rate_tracks);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, traffic_panel);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, trace_label);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, event_list);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, follow_button);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, speed_dropdown);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, lanes_title);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, compare_panel);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, compare_marks);
  /* the handlers live in the files of their part (-sidebar.c, -trace.c) */
  gtk_widget_class_bind_template_callback_full (widget_class, "follow_toggled_cb",
                                                G_CALLBACK (_iov_live_view_follow_toggled_cb));
  gtk_widget_class_bind_template_callback_full (widget_class, "speed_selected_cb",
                                                G_CALLBACK (_iov_live_view_speed_selected_cb));
  gtk_widget_class_bind_template_callback_full (widget_class, "event_selected_cb",
                                                G_CALLBACK (_iov_live_view_event_selected_cb));
  gtk_widget_class_bind_template_callback_full (widget_class, "timeline_selection_cb",
                                                G_CALLBACK (_iov_live_view_timeline_selection_cb));
  gtk_widget_class_bind_template_callback_full (widget_class, "timeline_cursor_cb",
                                                G_CALLBACK (_iov_live_view_timeline_cursor_cb));
  gtk_widget_class_bind_template_callback_full (widget_class, "show_in_map_cb",
                                                G_CALLBACK (_iov_live_view_show_in_map_cb));
  gtk_widget_class_bind_template_callback_full (widget_class, "row_selected_cb",
                                                G_CALLBACK (_iov_live_view_row_selected_cb));
  gtk_widget_class_bind_template_callback_full (widget_class, "search_changed_cb",
                                                G_CALLBACK (_iov_live_view_search_changed_cb));

  gtk_widget_class_install_action (widget_class, "live.copy-arguments", NULL, copy_arguments_action);
  gtk_widget_class_install_action (widget_class, "live.retry", NULL, retry_action);
  gtk_widget_class_install_action (widget_class, "live.trust-certificate", NULL, trust_certificate_action);
  gtk_widget_class_install_action (widget_class, "live.refresh", NULL, refresh_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "live.refresh", NULL);
}

static void
iov_live_view_init (IovLiveView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  _iov_live_view_sidebar_init (self);
  _iov_live_view_trace_init (self);
  _iov_live_view_compare_init (self);
  self->cancellable = g_cancellable_new ();
  self->status = g_strdup (_("Not connected"));
  _iov_live_view_update_trace_label (self);
}

