/* iov-live-view-private.h
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
#include <json-glib/json-glib.h>

#include "iov-event-list.h"
#include "iov-inference.h"
#include "iov-live-view.h"
#include "iov-rate-tracks.h"
#include "iov-relay-client.h"
#include "iov-snapshot-info.h"
#include "iov-timeline.h"
#include "iov-trace-control.h"
#include "iov-trace-document.h"
#include "iov-traffic-panel.h"
#include "iov-vm-source.h"

G_BEGIN_DECLS

/* IovLiveView is one type in several files (as gnome-text-editor splits
 * its window): iov-live-view.c the object, its actions and state;
 * -sidebar.c the devices and their address spaces; -source.c where the
 * VM comes from (a QMP session, a relay, presets); -trace.c the trace
 * (one IovTraceDocument), the lanes, the timeline and the event list. */

/* Events of one device shown as one step in the lanes; more than this
 * between two updates and the lanes count instead. */
#define MAX_SHOWN_EVENTS  8
/* How far back the lanes look for a device's latest deliveries. */
#define MAX_LOOK_BACK     200000

struct _IovLiveView
{
  AdwBin            parent_instance;

  /* Template widgets */
  AdwToastOverlay  *toast_overlay;
  GtkStack         *stack;
  AdwStatusPage    *status_page;
  GtkSpinner       *spinner;
  GtkLabel         *args_label;
  GtkWidget        *copy_button;
  GtkWidget        *retry_button;
  GtkWidget        *trust_button;
  char             *untrusted_sha256;  /* the relay certificate on show */
  GtkSearchEntry   *search_entry;
  GtkListBox       *space_list;     /* bound to shown_devices */
  GListStore       *devices;        /* IovSidebarDevice, by BDF (-sidebar.c) */
  GtkCustomFilter  *device_filter;  /* the search */
  GtkFilterListModel *shown_devices;
  GtkWidget        *range_map;
  GtkWidget        *lanes;
  IovTimeline      *timeline;
  IovRateTracks    *rate_tracks;
  IovTrafficPanel  *traffic_panel;
  GtkLabel         *trace_label;
  IovEventList     *event_list;
  AdwToast         *hint_toast;    /* how to start QEMU, until its trace arrives */
  AdwToast         *change_toast;  /* the latest topology changes, coalesced */
  GtkToggleButton  *follow_button;
  GtkDropDown      *speed_dropdown;
  GtkLabel         *lanes_title;

  /* where the VM comes from: a local QMP session or a relay, one object */
  IovVmSource      *source;
  char             *trace_preset;  /* to turn on once live, then NULL */
  char             *went_away;     /* why QEMU went away while live, for the whole outage */
  const IovTracePreset *applying;
  char             *address;
  char             *token;

  char             *recording_name;
  char             *status;
  JsonNode         *snapshot;       /* as it came: the document and recordings take it */
  IovSnapshotInfo  *snapshot_info;  /* the same, read by the core's one reader */
  char             *selected_bdf;
  char             *filter;
  GCancellable     *cancellable;

  /* the trace: one document */
  IovTraceDocument *doc;
  guint64           lanes_mark;  /* the log's length at the last lanes update */
  guint             trace_tick_id;
  guint64           n_dropped;
  gint64            last_lanes_us;
  gint64            last_traffic_us;
  gboolean          loading;

  /* Compare Versions (-compare.c) */
  struct _IovComparePanel *compare_panel;
  struct _IovCompareMarks *compare_marks;
  char             *source_path;    /* the opened trace or recording */
  GCancellable     *compare_cancellable;
  struct _IovCompareReplay *compare_replay;  /* a live VM's trace, replayed in slices */
  guint             compare_replay_id;
  guint64           compare_event;  /* the event the panel shows */
  gboolean          comparing;
};

void         _iov_live_view_compare_class_init (GtkWidgetClass *widget_class);
void         _iov_live_view_compare_init      (IovLiveView   *self);
void         _iov_live_view_compare_reset     (IovLiveView   *self);
void         _iov_live_view_compare_stop      (IovLiveView   *self);

/* iov-live-view.c */
void         _iov_live_view_set_status        (IovLiveView   *self,
                                               const char    *status);
void         _iov_live_view_set_snapshot      (IovLiveView   *self,
                                               JsonNode      *snapshot);
void         _iov_live_view_reset             (IovLiveView   *self);

/* iov-live-view-sidebar.c */
void         _iov_live_view_sidebar_init      (IovLiveView   *self);
void         _iov_live_view_populate_sidebar  (IovLiveView   *self);
void         _iov_live_view_show_space        (IovLiveView   *self,
                                               GtkListBoxRow *row);
gboolean     _iov_live_view_select_device     (IovLiveView   *self,
                                               const char    *bdf,
                                               gboolean      notify);
const char  *_iov_live_view_snapshot_version  (IovLiveView   *self);
void         _iov_live_view_row_selected_cb   (IovLiveView   *self,
                                               GtkListBoxRow *row,
                                               GtkListBox    *list);
void         _iov_live_view_search_changed_cb (IovLiveView   *self,
                                               GtkSearchEntry *entry);

/* iov-live-view-source.c */
void         _iov_live_view_stop_source       (IovLiveView   *self);
void         _iov_live_view_refresh           (IovLiveView   *self);
void         _iov_live_view_show_page         (IovLiveView   *self,
                                               const char    *icon,
                                               const char    *title,
                                               const char    *description,
                                               const char    *detail,
                                               gboolean       busy);

/* iov-live-view-trace.c */
void         _iov_live_view_trace_init        (IovLiveView   *self);
void         _iov_live_view_follow_source     (IovLiveView   *self);
void         _iov_live_view_stop_trace        (IovLiveView   *self);
void         _iov_live_view_trace_snapshot    (IovLiveView   *self);
void         _iov_live_view_update_trace_label (IovLiveView  *self);
void         _iov_live_view_traffic_device_changed (IovLiveView *self);
GPtrArray   *_iov_live_view_device_notifiers  (IovLiveView   *self,
                                               const char    *bdf);
void         _iov_live_view_show_lanes        (IovLiveView   *self,
                                               gboolean       animate);
gboolean     _iov_live_view_open_file         (IovLiveView   *self,
                                               GFile         *file,
                                               GError       **error);
void         _iov_live_view_timeline_selection_cb (IovLiveView *self,
                                                   IovTimeline *timeline);
void         _iov_live_view_timeline_cursor_cb (IovLiveView *self,
                                                IovTimeline *timeline);
void         _iov_live_view_show_in_map_cb    (IovLiveView   *self,
                                               const char    *device,
                                               guint64        iova,
                                               guint64        addr_mask,
                                               IovEventList  *list);
void         _iov_live_view_follow_toggled_cb (IovLiveView   *self,
                                               GtkToggleButton *button);
void         _iov_live_view_speed_selected_cb (IovLiveView   *self,
                                               GParamSpec    *pspec,
                                               GtkDropDown   *dropdown);
void         _iov_live_view_event_selected_cb (IovLiveView   *self,
                                               guint64        index,
                                               IovEventList  *list);

/* The live view talks to the map and the lanes through these, in terms of
 * the snapshot as the core reads it: the same in a live session and in a
 * recording. */

void _iov_live_view_map_ensure_types   (void);
void _iov_live_view_map_show_space     (GtkWidget         *range_map,
                                        GtkWidget         *lanes,
                                        const IovSnapshotAddressSpace *entry,
                                        const char        *title,
                                        const char        *subtitle,
                                        guint              aw_bits,
                                        GPtrArray         *known);
void _iov_live_view_map_show_deliveries (GtkWidget        *range_map,
                                         GtkWidget        *lanes,
                                         const IovDelivery *deliveries,
                                         guint             n_deliveries,
                                         gboolean          animate,
                                         GPtrArray        *known);

G_END_DECLS
