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

#include "iov-delivery-log.h"
#include "iov-event-list.h"
#include "iov-inference.h"
#include "iov-live-view.h"
#include "iov-live-view-private.h"
#include "iov-recording.h"
#include "iov-relay-client.h"
#include "iov-remote-session.h"
#include "iov-session.h"
#include "iov-notifier-lanes.h"
#include "iov-range-map.h"
#include "iov-timeline.h"
#include "iov-trace-control.h"
#include "iov-trace-parser.h"
#include "iov-trace-reader.h"

/* Events of one device shown as one step in the lanes; more than this
 * since the last update (or in a selection) and the lanes count instead. */
#define MAX_SHOWN_EVENTS  8
/* How far back the lanes look for a device's latest deliveries. */
#define MAX_LOOK_BACK     200000
/* Main-loop time spent on trace input per tick; the reader drops (and
 * counts) what does not fit in its queue. */
#define TRACE_TICK_MS     40
#define TRACE_BUDGET_US   4000
#define LANES_EVERY_US    (700 * G_TIME_SPAN_MILLISECOND)
#define READER_QUEUE      (8u * 1024 * 1024)

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
  GtkListBox       *space_list;
  GtkWidget        *range_map;
  GtkWidget        *lanes;
  IovTimeline      *timeline;
  GtkLabel         *trace_label;
  IovEventList     *event_list;
  AdwToast         *hint_toast;    /* how to start QEMU, until its trace arrives */
  GtkToggleButton  *follow_button;
  GtkDropDown      *speed_dropdown;
  GtkLabel         *lanes_title;

  IovSession       *session;
  char             *trace_preset;  /* to turn on once live, then NULL */
  const IovTracePreset *applying;
  char             *address;

  /* a VM behind `iovista-cli relay`, instead of a session */
  IovRelayClient   *relay;
  IovRemoteSession *remote;      /* the relay's events stream: snapshots and trace */
  GCancellable     *relay_cancellable;
  char             *token;
  gboolean          relay_live;
  char             *recording_name;
  char             *status;
  JsonNode         *snapshot;
  char             *selected_bdf;
  char             *filter;
  GCancellable     *cancellable;

  /* trace input */
  char             *trace_source;
  IovTraceReader   *reader;
  IovTraceCatalog  *catalog;
  IovInference     *inference;
  /* every decoded event, for the timeline; store_catalog is the one it
   * was filled with, when not self->catalog */
  IovEventStore    *store;
  IovTraceCatalog  *store_catalog;
  GArray           *scratch;     /* IovDelivery, one tick's */
  IovDeliveryLog   *log;         /* every delivery, by store event */
  GPtrArray        *retired;     /* IovInference: replaced, but the log points into them */
  guint64           lanes_mark;  /* the log's length at the last lanes update */
  guint             trace_tick_id;
  guint64           n_lines;
  guint64           n_events;
  guint64           n_deliveries;
  guint64           n_observed;
  guint64           n_dropped;
  gint64            last_lanes_us;
  gboolean          loading;
};

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

void
iov_live_view_get_trace_counts (IovLiveView *self,
                                guint64     *lines,
                                guint64     *events,
                                guint64     *dropped)
{
  g_return_if_fail (IOV_IS_LIVE_VIEW (self));

  if (lines != NULL)
    *lines = self->n_lines;
  if (events != NULL)
    *events = self->n_events;
  if (dropped != NULL)
    *dropped = self->n_dropped;
}

guint64
iov_live_view_get_n_deliveries (IovLiveView *self)
{
  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), 0);
  return self->n_deliveries;
}

static void
set_status (IovLiveView *self,
            const char  *status)
{
  if (g_strcmp0 (self->status, status) == 0)
    return;
  g_free (self->status);
  self->status = g_strdup (status);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
}

/* ---- the snapshot ------------------------------------------------------- */

static JsonObject *
snapshot_object (IovLiveView *self)
{
  if (self->snapshot == NULL || !JSON_NODE_HOLDS_OBJECT (self->snapshot))
    return NULL;
  return json_node_get_object (self->snapshot);
}

static const char *
snapshot_version (IovLiveView *self)
{
  JsonObject *root = snapshot_object (self);
  JsonObject *qemu;

  if (root == NULL || !json_object_has_member (root, "qemu") ||
      (qemu = json_object_get_object_member (root, "qemu")) == NULL)
    return NULL;
  return json_object_get_string_member_with_default (qemu, "version", NULL);
}

static guint
snapshot_aw_bits (IovLiveView *self)
{
  JsonObject *root = snapshot_object (self);
  JsonNode *iommu;
  JsonObject *props;

  if (root == NULL || (iommu = json_object_get_member (root, "iommu")) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (iommu))
    return 0;
  props = json_object_get_object_member (json_node_get_object (iommu), "properties");
  if (props == NULL)
    return 0;
  return (guint) json_object_get_int_member_with_default (props, "aw-bits", 0);
}

static const char *
device_type (IovLiveView *self,
             const char  *bdf)
{
  JsonObject *root = snapshot_object (self);
  JsonArray *devices;

  if (root == NULL || (devices = json_object_get_array_member (root, "devices")) == NULL)
    return NULL;
  for (guint i = 0; i < json_array_get_length (devices); i++)
    {
      JsonObject *d = json_array_get_object_element (devices, i);
      JsonNode *type = json_object_get_member (d, "type");

      if (g_strcmp0 (json_object_get_string_member_with_default (d, "bdf", NULL), bdf) == 0)
        return type != NULL && JSON_NODE_HOLDS_VALUE (type) ? json_node_get_string (type) : NULL;
    }
  return NULL;
}

static JsonObject *
entry_at (IovLiveView *self,
          guint        index)
{
  JsonObject *root = snapshot_object (self);
  JsonArray *spaces;

  if (root == NULL || (spaces = json_object_get_array_member (root, "address_spaces")) == NULL ||
      index >= json_array_get_length (spaces))
    return NULL;
  return json_array_get_object_element (spaces, index);
}

static gboolean
filter_func (GtkListBoxRow *row,
             gpointer       user_data)
{
  IovLiveView *self = user_data;
  const char *haystack = g_object_get_data (G_OBJECT (row), "search");
  g_autofree char *needle = NULL;

  if (self->filter == NULL || self->filter[0] == '\0')
    return TRUE;
  needle = g_utf8_casefold (self->filter, -1);
  return haystack != NULL && strstr (haystack, needle) != NULL;
}

static int
sort_func (GtkListBoxRow *a,
           GtkListBoxRow *b,
           gpointer       user_data)
{
  return g_strcmp0 (g_object_get_data (G_OBJECT (a), "bdf"), g_object_get_data (G_OBJECT (b), "bdf"));
}

/* Devices that can have notifiers (virtio with iommu_platform, vfio)
 * are what a user looks for first. */
static gboolean
is_dma_device (const char *type)
{
  return type != NULL && (g_str_has_prefix (type, "virtio-") || g_str_has_prefix (type, "vhost-") ||
                          g_str_equal (type, "vfio-pci"));
}

static GtkWidget *
make_row (IovLiveView *self,
          const char  *bdf,
          guint        index,
          JsonObject  *entry)
{
  const char *type = device_type (self, bdf);
  gboolean on = json_object_get_boolean_member_with_default (entry, "iommu", FALSE);
  JsonArray *ranges = json_object_get_array_member (entry, "flat_ranges");
  JsonArray *notifiers = json_object_get_array_member (entry, "notifiers");
  guint n_ranges = ranges ? json_array_get_length (ranges) : 0;
  guint n_notifiers = notifiers ? json_array_get_length (notifiers) : 0;
  g_autofree char *title_text = g_strdup_printf ("%s %s", bdf, type ? type : "");
  g_autofree char *ranges_text = NULL;
  g_autofree char *notifiers_text = NULL;
  g_autofree char *detail_text = NULL;
  g_autofree char *search = NULL;
  GtkWidget *row, *box, *title, *detail;

  ranges_text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u range", "%u ranges", n_ranges), n_ranges);
  notifiers_text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u notifier", "%u notifiers", n_notifiers),
                                    n_notifiers);
  /* Translators: a sidebar row's details: IOMMU on/off · ranges · notifiers */
  detail_text = g_strdup_printf (_("%s · %s · %s"), on ? _("IOMMU on") : _("IOMMU off"),
                                 ranges_text, notifiers_text);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  title = gtk_label_new (title_text);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (title, "heading");
  detail = gtk_label_new (detail_text);
  gtk_label_set_xalign (GTK_LABEL (detail), 0);
  gtk_label_set_ellipsize (GTK_LABEL (detail), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (detail, "caption");
  if (!on)
    gtk_widget_add_css_class (detail, "dim-label");
  gtk_box_append (GTK_BOX (box), title);
  gtk_box_append (GTK_BOX (box), detail);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);

  row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_widget_set_tooltip_text (row, detail_text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, title_text,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, detail_text,
                                  -1);
  search = g_utf8_casefold (title_text, -1);
  g_object_set_data_full (G_OBJECT (row), "search", g_steal_pointer (&search), g_free);
  g_object_set_data_full (G_OBJECT (row), "bdf", g_strdup (bdf), g_free);
  g_object_set_data_full (G_OBJECT (row), "label", g_steal_pointer (&title_text), g_free);
  g_object_set_data (G_OBJECT (row), "entry", GUINT_TO_POINTER (index));
  g_object_set_data (G_OBJECT (row), "iommu", GINT_TO_POINTER (on));
  return row;
}

static void
show_lanes_for_selection (IovLiveView *self,
                          gboolean     animate);

static void
populate_sidebar (IovLiveView *self)
{
  JsonObject *root = snapshot_object (self);
  JsonArray *spaces = root ? json_object_get_array_member (root, "address_spaces") : NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *keep = g_strdup (self->selected_bdf);
  GtkWidget *child, *select = NULL, *first_on = NULL, *first_dma = NULL, *first = NULL;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->space_list))) != NULL)
    gtk_list_box_remove (self->space_list, child);

  for (guint i = 0; spaces != NULL && i < json_array_get_length (spaces); i++)
    {
      JsonObject *entry = json_array_get_object_element (spaces, i);
      JsonArray *names = json_object_get_array_member (entry, "spaces");

      for (guint j = 0; names != NULL && j < json_array_get_length (names); j++)
        {
          JsonObject *space = json_array_get_object_element (names, j);
          JsonNode *device = json_object_get_member (space, "device");
          const char *bdf;
          GtkWidget *row;

          if (device == NULL || !JSON_NODE_HOLDS_VALUE (device))
            continue;
          bdf = json_node_get_string (device);
          if (bdf == NULL || g_hash_table_contains (seen, bdf))
            continue;
          g_hash_table_add (seen, (gpointer) bdf);
          row = make_row (self, bdf, i, entry);
          gtk_list_box_append (self->space_list, row);
          if (first == NULL)
            first = row;
          if (first_on == NULL && g_object_get_data (G_OBJECT (row), "iommu"))
            first_on = row;
          if (first_dma == NULL && is_dma_device (device_type (self, bdf)))
            first_dma = row;
          if (g_strcmp0 (bdf, keep) == 0)
            select = row;
        }
    }

  if (select == NULL)
    select = first_on ? first_on : first_dma ? first_dma : first;
  if (select != NULL)
    gtk_list_box_select_row (self->space_list, GTK_LIST_BOX_ROW (select));
}

/* The map and empty lanes of the selected device's address space. */
static void
show_space (IovLiveView   *self,
            GtkListBoxRow *row)
{
  JsonObject *entry;
  const char *bdf;
  const char *type;
  const char *name = NULL;
  JsonArray *names;
  g_autofree char *subtitle = NULL;

  bdf = g_object_get_data (G_OBJECT (row), "bdf");
  entry = entry_at (self, GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "entry")));
  if (entry == NULL)
    return;
  g_free (self->selected_bdf);
  self->selected_bdf = g_strdup (bdf);

  type = device_type (self, bdf);
  names = json_object_get_array_member (entry, "spaces");
  if (names != NULL && json_array_get_length (names) > 0)
    name = json_object_get_string_member_with_default (json_array_get_object_element (names, 0), "root", NULL);
  /* Translators: the map's subtitle: device type · root memory region */
  subtitle = g_strdup_printf (_("%s · %s"), type ? type : _("unknown device"), name ? name : "");
  _iov_live_view_map_show_space (self->range_map, self->lanes, entry, bdf, subtitle, snapshot_aw_bits (self));
}

static void
row_selected_cb (IovLiveView   *self,
                 GtkListBoxRow *row,
                 GtkListBox    *list)
{
  if (row == NULL)
    return;
  show_space (self, row);
  show_lanes_for_selection (self, FALSE);
}

static void
search_changed_cb (IovLiveView    *self,
                   GtkSearchEntry *entry)
{
  iov_live_view_set_filter (self, gtk_editable_get_text (GTK_EDITABLE (entry)));
}

void
iov_live_view_set_filter (IovLiveView *self,
                          const char  *text)
{
  g_return_if_fail (IOV_IS_LIVE_VIEW (self));

  g_free (self->filter);
  self->filter = g_strdup (text);
  gtk_list_box_invalidate_filter (self->space_list);
}

GStrv
iov_live_view_dup_rows (IovLiveView *self,
                        gboolean     visible_only)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), NULL);

  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->space_list));
       row != NULL;
       row = gtk_widget_get_next_sibling (row))
    {
      const char *label = g_object_get_data (G_OBJECT (row), "label");

      if (label == NULL || (visible_only && !gtk_widget_get_child_visible (row)))
        continue;
      g_strv_builder_add (builder, label);
    }
  return g_strv_builder_end (builder);
}

static void rebuild_inference (IovLiveView *self);

static void
set_snapshot (IovLiveView *self,
              JsonNode    *snapshot)
{
  g_clear_pointer (&self->snapshot, json_node_unref);
  if (snapshot != NULL)
    self->snapshot = json_node_copy (snapshot);
  populate_sidebar (self);
  if (self->snapshot != NULL)
    gtk_stack_set_visible_child_name (self->stack, "content");
  if (self->reader != NULL || self->remote != NULL)
    rebuild_inference (self);
}

void
iov_live_view_show_snapshot (IovLiveView *self,
                             JsonNode    *snapshot)
{
  g_return_if_fail (IOV_IS_LIVE_VIEW (self));
  set_snapshot (self, snapshot);
}

/* ---- the connection ----------------------------------------------------- */

static char *
qemu_arguments (const char *address)
{
  if (g_str_has_prefix (address, "tcp:"))
    return g_strdup_printf ("-qmp %s,server=on,wait=off -msg timestamp=on", address);
  if (g_str_has_prefix (address, "unix:"))
    address += strlen ("unix:");
  return g_strdup_printf ("-qmp unix:%s,server=on,wait=off -msg timestamp=on", address);
}

static void apply_trace_preset (IovLiveView *self);

static void
update_state (IovLiveView *self)
{
  IovSessionState state;
  const GError *error;
  g_autofree char *status = NULL;

  if (self->session == NULL)
    return;
  state = iov_session_get_state (self->session);
  error = iov_session_get_error (self->session);

  switch (state)
    {
    case IOV_SESSION_STATE_CONNECTING:
      status = g_strdup (_("Connecting…"));
      break;
    case IOV_SESSION_STATE_LIVE:
      apply_trace_preset (self);
      /* Translators: the header's subtitle: QEMU's version, the QMP address */
      status = g_strdup_printf (_("Live · QEMU %s · %s"),
                                snapshot_version (self) ? snapshot_version (self) : "?", self->address);
      break;
    case IOV_SESSION_STATE_DISCONNECTED:
    default:
      if (error != NULL)
        /* Translators: the header's subtitle, %s is why */
        status = g_strdup_printf (_("Disconnected: %s — retrying"), error->message);
      else
        status = g_strdup (_("Disconnected — retrying"));
      break;
    }
  set_status (self, status);

  if (self->snapshot != NULL)
    return;

  /* Nothing to show yet: say what happens, or what to do. */
  gtk_stack_set_visible_child_name (self->stack, "status");
  if (state == IOV_SESSION_STATE_DISCONNECTED)
    {
      g_autofree char *args = qemu_arguments (self->address);
      g_autofree char *description = NULL;

      description = g_strdup_printf (_("%s\n\nStart QEMU with a QMP socket at this address by adding the "
                                       "arguments below. QEMU serves one client per QMP socket: if something "
                                       "else is connected, add a second -qmp option. Iovista keeps retrying."),
                                     error ? error->message : _("QEMU does not answer."));
      adw_status_page_set_icon_name (self->status_page, "network-offline-symbolic");
      adw_status_page_set_title (self->status_page, _("Cannot Reach QEMU"));
      adw_status_page_set_description (self->status_page, description);
      gtk_label_set_text (self->args_label, args);
      gtk_widget_set_visible (GTK_WIDGET (self->args_label), TRUE);
      gtk_widget_set_visible (self->copy_button, TRUE);
      gtk_widget_set_visible (self->retry_button, TRUE);
      gtk_widget_set_visible (self->trust_button, FALSE);
      gtk_spinner_stop (self->spinner);
      gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
    }
  else
    {
      adw_status_page_set_icon_name (self->status_page, "network-transmit-receive-symbolic");
      adw_status_page_set_title (self->status_page, _("Connecting to QEMU…"));
      adw_status_page_set_description (self->status_page, self->address);
      gtk_widget_set_visible (GTK_WIDGET (self->args_label), FALSE);
      gtk_widget_set_visible (self->copy_button, FALSE);
      gtk_widget_set_visible (self->retry_button, FALSE);
      gtk_widget_set_visible (self->trust_button, FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->spinner), TRUE);
      gtk_spinner_start (self->spinner);
    }
}

static void
session_snapshot_cb (IovLiveView *self,
                     GParamSpec  *pspec,
                     IovSession  *session)
{
  IovSnapshot *snapshot = iov_session_get_snapshot (session);
  g_autoptr(JsonNode) json = NULL;

  if (snapshot == NULL)
    return;
  json = iov_snapshot_to_json (snapshot, FALSE);
  set_snapshot (self, json);
  update_state (self);
}

static void
session_changed_cb (IovLiveView *self,
                    GPtrArray   *changes,
                    IovSession  *session)
{
  for (guint i = 0; changes != NULL && i < changes->len; i++)
    {
      const IovSnapshotChange *change = g_ptr_array_index (changes, i);
      AdwToast *toast = adw_toast_new (change->message);

      adw_toast_set_timeout (toast, 5);
      adw_toast_overlay_add_toast (self->toast_overlay, toast);
    }
}

/* ---- trace input -------------------------------------------------------- */

static void
update_trace_label (IovLiveView *self)
{
  g_autofree char *text = NULL;

  if (self->remote != NULL && self->n_lines == 0 && !iov_remote_session_has_trace (self->remote))
    {
      gtk_label_set_text (self->trace_label,
                          _("The relay reads no trace for this VM (give it --vm NAME,qmp=…,trace=SOURCE): "
                            "the map follows snapshots only."));
      return;
    }
  if (self->reader == NULL && self->remote == NULL && self->n_lines == 0 && !self->loading)
    {
      gtk_label_set_text (self->trace_label, _("No trace source: the map follows QMP snapshots only."));
      return;
    }
  {
    g_autofree char *lines = g_strdup_printf ("%" G_GUINT64_FORMAT, self->n_lines);
    g_autofree char *events = g_strdup_printf ("%" G_GUINT64_FORMAT, self->n_events);
    g_autofree char *deliveries = g_strdup_printf ("%" G_GUINT64_FORMAT, self->n_deliveries);
    g_autofree char *observed = g_strdup_printf ("%" G_GUINT64_FORMAT, self->n_observed);
    g_autofree char *dropped = g_strdup_printf ("%" G_GUINT64_FORMAT, self->n_dropped);

    /* Translators: the trace counters under the lanes; each %s is a number */
    text = g_strdup_printf (_("%s lines · %s events · %s deliveries (%s observed) · %s dropped"),
                            lines, events, deliveries, observed, dropped);
    if (self->loading)
      {
        g_autofree char *reading = g_strdup_printf (_("Reading… %s"), text);

        g_free (text);
        text = g_steal_pointer (&reading);
      }
  }
  if (self->inference == NULL && self->n_events > 0)
    {
      g_autofree char *more = g_strconcat (text, " · ", _("no snapshot yet, so no deliveries inferred"), NULL);

      g_free (text);
      text = g_steal_pointer (&more);
    }
  gtk_label_set_text (self->trace_label, text);
}

static void
add_deliveries (IovLiveView *self,
                GArray      *deliveries)
{
  for (guint i = 0; i < deliveries->len; i++)
    if (g_array_index (deliveries, IovDelivery, i).kind == IOV_DELIVERY_OBSERVED)
      self->n_observed++;
  self->n_deliveries += deliveries->len;
}

/* Deliveries [@first, @end) of the log, of the selected device: the last
 * MAX_SHOWN_EVENTS events as a step, and the number of events in all. */
static guint64
collect_deliveries (IovLiveView *self,
                    guint64      first,
                    guint64      end,
                    GArray      *mine)
{
  guint64 n_events = 0, last_event = G_MAXUINT64, start = end;

  for (guint64 i = end; i > first; i--)
    {
      guint64 event;
      const IovDelivery *d = iov_delivery_log_get (self->log, i - 1, &event);

      if (g_strcmp0 (d->device, self->selected_bdf) != 0)
        continue;
      if (event != last_event)
        {
          n_events++;
          last_event = event;
        }
      if (n_events <= MAX_SHOWN_EVENTS)
        start = i - 1;
    }
  for (guint64 i = start; mine != NULL && i < end; i++)
    {
      const IovDelivery *d = iov_delivery_log_get (self->log, i, NULL);

      if (g_strcmp0 (d->device, self->selected_bdf) == 0)
        g_array_append_val (mine, *d);
    }
  return n_events;
}

/* The lanes follow the latest events of the selected device, or show the
 * timeline's selection; when there are more events than can be shown one
 * by one, each lane counts what its notifier got instead (the animation
 * never falls behind the data). */
static void
show_lanes_for_selection (IovLiveView *self,
                          gboolean     animate)
{
  g_autoptr(GArray) mine = g_array_new (FALSE, FALSE, sizeof (IovDelivery));
  guint64 n = self->log ? iov_delivery_log_get_n (self->log) : 0;
  guint64 first, end, n_events, t0, t1;
  gboolean selection = iov_timeline_get_selection (self->timeline, &t0, &t1) && self->store != NULL;
  g_autofree char *caption = NULL;

  if (self->selected_bdf == NULL || self->log == NULL)
    return;
  gtk_label_set_text (self->lanes_title, selection ? _("Deliveries in the Selection")
                                         : gtk_toggle_button_get_active (self->follow_button)
                                         ? _("Latest Deliveries") : _("Latest Deliveries, Paused"));
  if (selection)
    {
      guint64 e0 = iov_event_store_lower_bound (self->store, t0);
      guint64 e1 = t1 == G_MAXUINT64 ? iov_event_store_get_n_events (self->store)
                                     : iov_event_store_lower_bound (self->store, t1 + 1);

      iov_delivery_log_find (self->log, e0, e1, &first, &end);
      n_events = collect_deliveries (self, first, end, mine);
      if (n_events > MAX_SHOWN_EVENTS)
        {
          g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, n_events);

          /* Translators: the lanes' caption, %s is a number */
          caption = g_strdup_printf (_("%s events in the selection, counted"), count);
        }
      animate = FALSE;
    }
  else
    {
      /* Sample: the latest events; count: those since the last update. */
      first = MIN (self->lanes_mark, n);
      end = n;
      collect_deliveries (self, end > MAX_LOOK_BACK ? end - MAX_LOOK_BACK : 0, end, mine);
      n_events = collect_deliveries (self, first, end, NULL);
      if (n_events > MAX_SHOWN_EVENTS)
        {
          g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, n_events);

          if (self->recording_name != NULL)
            /* Translators: the lanes' caption for a whole file, %s is a number */
            caption = g_strdup_printf (_("%s events in this trace, counted"), count);
          else
            /* Translators: the lanes' caption under load, %s is a number */
            caption = g_strdup_printf (_("%s events since the last update: too many to animate, counted"), count);
        }
    }
  self->lanes_mark = n;
  if (mine->len == 0)
    {
      GtkListBoxRow *row = gtk_list_box_get_selected_row (self->space_list);

      /* Nothing in the selection: the lanes empty, not the last ones kept. */
      if (selection && row != NULL)
        show_space (self, row);
      return;
    }
  _iov_live_view_map_show_deliveries (self->range_map, self->lanes,
                                      (const IovDelivery *) (gpointer) mine->data, mine->len,
                                      animate && caption == NULL);
  if (caption != NULL)
    {
      g_autoptr(GArray) counts = iov_delivery_log_count (self->log, self->selected_bdf, first, end);

      iov_notifier_lanes_set_counts (IOV_NOTIFIER_LANES (self->lanes), caption,
                                     (const IovDeliveryCount *) (gpointer) counts->data, counts->len);
    }
  self->last_lanes_us = g_get_monotonic_time ();
}

static void
update_event_list (IovLiveView *self)
{
  iov_event_list_set_sources (self->event_list, self->store,
                              self->store_catalog ? self->store_catalog : self->catalog,
                              self->inference ? self->log : NULL,
                              self->inference ? iov_inference_get_profile (self->inference) : NULL);
}

static void
rebuild_inference (IovLiveView *self)
{
  g_autoptr(GError) error = NULL;

  /* The log points at the inference's notifiers: a new snapshot keeps the
   * deliveries seen so far, so the old inference stays until the log goes. */
  if (self->inference != NULL)
    g_ptr_array_add (self->retired, g_steal_pointer (&self->inference));
  if (self->snapshot != NULL)
    {
      self->inference = iov_inference_new_from_snapshot (self->snapshot, NULL, &error);
      if (self->inference == NULL)
        g_debug ("No inference: %s", error->message);
    }
  update_event_list (self);
}

typedef struct
{
  IovTraceCatalog *catalog;
  IovInference    *inference;
  GArray          *deliveries;
  guint64          lines;
  guint64          events;
  IovEventStore   *store;
  guint64          arrival_ns;
  IovDeliveryLog  *log;
  guint64          first_joined;  /* earliest event deliveries joined */
} FeedState;

static void
feed_line (const char *text,
           gsize       len,
           gboolean    cut,
           gpointer    user_data)
{
  FeedState *state = user_data;
  IovTraceLine line;

  state->lines++;
  iov_trace_parse_line (state->catalog, text, len, &line);
  if (line.kind != IOV_TRACE_LINE_EVENT)
    return;
  state->events++;
  if (state->store != NULL)
    {
      guint64 index = iov_event_store_append_line (state->store, &line, state->arrival_ns);

      if (state->log != NULL)
        iov_delivery_log_note_event (state->log, state->lines, index);
    }
  if (state->inference != NULL && line.name_len < 128)
    {
      char name[128];
      guint before = state->deliveries->len;

      memcpy (name, line.name, line.name_len);
      name[line.name_len] = '\0';
      iov_inference_feed (state->inference, line.has_ts ? line.ts_ns : 0, state->lines, name,
                          line.args, line.args_len, state->deliveries);
      if (state->log != NULL && state->deliveries->len > before)
        {
          guint64 first;

          iov_delivery_log_add (state->log, &g_array_index (state->deliveries, IovDelivery, before),
                                state->deliveries->len - before, &first);
          state->first_joined = MIN (state->first_joined, first);
        }
    }
}

static gboolean
trace_tick_cb (gpointer user_data)
{
  IovLiveView *self = user_data;
  gint64 start = g_get_monotonic_time ();
  FeedState state = { self->catalog, self->inference, self->scratch, self->n_lines, 0,
                       self->store, (guint64) g_get_monotonic_time () * 1000, self->log,
                       IOV_DELIVERY_LOG_NO_EVENT };

  g_array_set_size (self->scratch, 0);
  while (g_get_monotonic_time () - start < TRACE_BUDGET_US)
    {
      g_autoptr(GBytes) batch = self->remote != NULL ? iov_remote_session_pop_lines (self->remote, NULL)
                                                     : iov_trace_reader_pop (self->reader, 0);
      gsize len;
      const char *data;

      if (batch == NULL)
        break;
      data = g_bytes_get_data (batch, &len);
      iov_trace_split_lines (data, len, feed_line, &state);
    }
  self->n_lines = state.lines;
  self->n_events += state.events;
  /* QEMU writes: the hint on how to start it has done its job */
  if (state.events > 0 && self->hint_toast != NULL)
    {
      adw_toast_dismiss (self->hint_toast);
      g_clear_weak_pointer (&self->hint_toast);
    }
  if (state.events > 0)
    {
      iov_timeline_events_appended (self->timeline);
      iov_event_list_sources_grew (self->event_list);
    }
  if (state.first_joined != IOV_DELIVERY_LOG_NO_EVENT)
    iov_event_list_deliveries_added (self->event_list, state.first_joined);
  if (self->remote != NULL)
    {
      IovRemoteSessionCounters c;

      /* lost here, at the relay for this client, or by the relay's reader */
      iov_remote_session_get_counters (self->remote, &c);
      self->n_dropped = c.events_dropped + c.relay_dropped_events + c.source_dropped_lines;
    }
  else
    self->n_dropped = iov_trace_reader_get_dropped_lines (self->reader);
  add_deliveries (self, self->scratch);

  if (self->scratch->len > 0 && g_get_monotonic_time () - self->last_lanes_us > LANES_EVERY_US &&
      gtk_toggle_button_get_active (self->follow_button) &&
      !iov_timeline_get_selection (self->timeline, NULL, NULL))
    show_lanes_for_selection (self, TRUE);
  update_trace_label (self);

  if (self->reader != NULL && iov_trace_reader_is_done (self->reader) && !iov_trace_reader_is_live (self->reader))
    {
      g_autoptr(GError) error = NULL;

      if (!iov_trace_reader_get_error (self->reader, &error))
        {
          AdwToast *toast = adw_toast_new (error->message);

          adw_toast_set_timeout (toast, 0);
          adw_toast_overlay_add_toast (self->toast_overlay, toast);
        }
      self->trace_tick_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
stop_trace (IovLiveView *self)
{
  g_clear_handle_id (&self->trace_tick_id, g_source_remove);
  if (self->reader != NULL)
    iov_trace_reader_stop (self->reader);
  g_clear_pointer (&self->reader, iov_trace_reader_free);
  g_clear_pointer (&self->inference, iov_inference_free);
  g_clear_pointer (&self->trace_source, g_free);
  iov_event_list_set_sources (self->event_list, NULL, NULL, NULL, NULL);
  iov_delivery_log_clear (self->log);
  g_ptr_array_set_size (self->retired, 0);
  self->lanes_mark = 0;
  self->n_lines = self->n_events = self->n_deliveries = self->n_observed = self->n_dropped = 0;
}

static void
replace_store (IovLiveView     *self,
               IovEventStore   *store,
               IovTraceCatalog *catalog)
{
  iov_timeline_set_store (self->timeline, store, catalog ? catalog : self->catalog);
  iov_event_list_set_sources (self->event_list, NULL, NULL, NULL, NULL);
  g_clear_pointer (&self->store, iov_event_store_free);
  g_clear_pointer (&self->store_catalog, iov_trace_catalog_free);
  self->store = store;
  self->store_catalog = catalog;
  update_event_list (self);
}

static gboolean
start_trace (IovLiveView  *self,
             const char   *source,
             GError      **error)
{
  g_autoptr(IovTraceReader) reader = NULL;

  reader = iov_trace_reader_new (source, IOV_TRACE_READER_FOLLOW, error);
  if (reader == NULL)
    return FALSE;
  iov_trace_reader_set_queue_limit (reader, READER_QUEUE);
  if (!iov_trace_reader_start (reader, error))
    return FALSE;
  self->reader = g_steal_pointer (&reader);
  self->trace_source = g_strdup (source);
  replace_store (self, iov_event_store_new (self->catalog), NULL);
  rebuild_inference (self);
  self->trace_tick_id = g_timeout_add (TRACE_TICK_MS, trace_tick_cb, self);

  if (iov_trace_reader_get_kind (self->reader) == IOV_TRACE_SOURCE_FIFO ||
      iov_trace_reader_get_kind (self->reader) == IOV_TRACE_SOURCE_UNIX)
    {
      g_autofree char *msg = g_strdup_printf (_("Reading the trace at %s; start QEMU with: %s"),
                                              iov_trace_reader_get_path (self->reader),
                                              iov_trace_reader_get_qemu_hint (self->reader));
      AdwToast *toast = adw_toast_new (msg);

      adw_toast_set_timeout (toast, 0);
      g_set_weak_pointer (&self->hint_toast, toast);
      adw_toast_overlay_add_toast (self->toast_overlay, toast);
    }
  return TRUE;
}

/* ---- public ------------------------------------------------------------- */

static void relay_stop (IovLiveView *self);

void
iov_live_view_disconnect (IovLiveView *self)
{
  g_return_if_fail (IOV_IS_LIVE_VIEW (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->session, self);
      iov_session_stop (self->session);
      g_clear_object (&self->session);
    }
  stop_trace (self);
  relay_stop (self);
  g_clear_pointer (&self->address, g_free);
  g_clear_pointer (&self->recording_name, g_free);
  self->loading = FALSE;
}

static void
reset (IovLiveView *self)
{
  iov_live_view_disconnect (self);
  g_clear_pointer (&self->snapshot, json_node_unref);
  g_clear_pointer (&self->selected_bdf, g_free);
  populate_sidebar (self);
  _iov_live_view_map_show_space (self->range_map, self->lanes, NULL, "", "", 0);
  self->cancellable = g_cancellable_new ();
}

/* ---- a VM through a relay ---------------------------------------------- */


static void
relay_show_page (IovLiveView *self,
                 const char  *icon,
                 const char  *title,
                 const char  *description,
                 const char  *detail,
                 gboolean     busy)
{
  gtk_stack_set_visible_child_name (self->stack, "status");
  adw_status_page_set_icon_name (self->status_page, icon);
  adw_status_page_set_title (self->status_page, title);
  adw_status_page_set_description (self->status_page, description);
  gtk_label_set_text (self->args_label, detail ? detail : "");
  gtk_widget_set_visible (GTK_WIDGET (self->args_label), detail != NULL);
  gtk_widget_set_visible (self->copy_button, FALSE);
  gtk_widget_set_visible (self->retry_button, !busy);
  gtk_widget_set_visible (self->trust_button, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  if (busy)
    gtk_spinner_start (self->spinner);
  else
    gtk_spinner_stop (self->spinner);
}

/* The SHA-256 fingerprint in the client's TLS error, if any: the one run
 * of 64 hex digits, whatever language the message is in. */
static char *
tls_fingerprint (const char *message)
{
  for (const char *p = message; p != NULL && *p != '\0'; p++)
    {
      gsize n = 0;

      while (g_ascii_isxdigit (p[n]))
        n++;
      if (n == 64)
        return g_ascii_strdown (p, n);
      p += n > 0 ? n - 1 : 0;
    }
  return NULL;
}

static void
relay_failed (IovLiveView  *self,
              const GError *error)
{
  g_autofree char *status = NULL;

  self->relay_live = FALSE;
  if (g_error_matches (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_UNAUTHORIZED))
    {
      g_autofree char *description = NULL;

      /* Translators: the header's subtitle when a relay answers 401 */
      status = g_strdup_printf (_("Disconnected: %s"), _("the relay refused the token"));
      description = g_strdup_printf (_("The relay at %s refused the token. Connect again with the token "
                                       "from the relay's --token-file, or set IOVISTA_TOKEN."),
                                     self->address);
      relay_show_page (self, "dialog-password-symbolic", _("The Relay Refused the Token"),
                       description, NULL, FALSE);
    }
  else if (g_error_matches (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_TLS))
    {
      g_autofree char *fingerprint = tls_fingerprint (error->message);
      g_autofree char *detail = NULL;

      status = g_strdup_printf (_("Disconnected: %s"), _("the relay's certificate is not trusted"));
      if (fingerprint != NULL)
        /* Translators: %s is a certificate's SHA-256 fingerprint */
        detail = g_strdup_printf (_("SHA-256 %s"), fingerprint);
      relay_show_page (self, "channel-insecure-symbolic", _("Untrusted Certificate"),
                       error->message, detail, FALSE);
      /* The explicit choice: trust exactly this certificate, for this view. */
      g_free (self->untrusted_sha256);
      self->untrusted_sha256 = g_steal_pointer (&fingerprint);
      gtk_widget_set_visible (self->trust_button, self->untrusted_sha256 != NULL);
    }
  else if (self->remote != NULL && iov_remote_session_get_state (self->remote) == IOV_REMOTE_SESSION_FAILED)
    {
      /* e.g. another protocol version: no retry until asked */
      status = g_strdup_printf (_("Disconnected: %s"), error->message);
      relay_show_page (self, "network-error-symbolic", _("The Relay Cannot Be Watched"), error->message, NULL, FALSE);
    }
  else
    {
      status = g_strdup_printf (_("Disconnected: %s — retrying"), error->message);
      if (self->snapshot == NULL)
        relay_show_page (self, "network-offline-symbolic", _("Cannot Reach the VM Through the Relay"),
                         error->message, NULL, FALSE);
    }
  /* The remote session reconnects by itself, except after a refusal. */
  set_status (self, status);
}

static void
relay_snapshot_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  IovRelayClient *relay = IOV_RELAY_CLIENT (source);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = iov_relay_client_get_snapshot_finish (relay, result, &error);
  g_autoptr(JsonParser) parser = NULL;
  g_autofree char *status = NULL;
  IovLiveView *self;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = IOV_LIVE_VIEW (user_data);
  if (self->relay != relay)
    return;
  if (text == NULL)
    {
      relay_failed (self, error);
      return;
    }
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, -1, &error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_autoptr(GError) bad = g_error_new (IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                                           _("The relay sent a snapshot that is not JSON: %s"),
                                           error ? error->message : _("not an object"));
      relay_failed (self, bad);
      return;
    }
  if (self->snapshot == NULL || !json_node_equal (self->snapshot, json_parser_get_root (parser)))
    set_snapshot (self, json_parser_get_root (parser));
  self->relay_live = TRUE;
  /* Translators: the header's subtitle: QEMU's version, the relay's URL */
  status = g_strdup_printf (_("Live · QEMU %s · via relay %s"),
                            snapshot_version (self) ? snapshot_version (self) : "?", self->address);
  set_status (self, status);
}

static void
remote_live_status (IovLiveView *self)
{
  g_autofree char *status = NULL;
  const char *version = iov_remote_session_get_qemu_version (self->remote);

  if (version == NULL)
    version = snapshot_version (self);
  self->relay_live = TRUE;
  /* Translators: the header's subtitle: QEMU's version, the relay's URL */
  status = g_strdup_printf (_("Live · QEMU %s · via relay %s"), version ? version : "?", self->address);
  set_status (self, status);
}

static void
remote_snapshot_cb (IovLiveView      *self,
                    GParamSpec       *pspec,
                    IovRemoteSession *remote)
{
  JsonNode *snapshot = iov_remote_session_get_snapshot (remote);

  if (snapshot == NULL || (self->snapshot != NULL && json_node_equal (self->snapshot, snapshot)))
    return;
  set_snapshot (self, snapshot);
  if (iov_remote_session_get_state (remote) == IOV_REMOTE_SESSION_LIVE)
    remote_live_status (self);
}

static void
remote_state_cb (IovLiveView      *self,
                 GParamSpec       *pspec,
                 IovRemoteSession *remote)
{
  switch (iov_remote_session_get_state (remote))
    {
    case IOV_REMOTE_SESSION_LIVE:
      apply_trace_preset (self);
      /* "Live" once there is something to show: the snapshot follows hello
       * (or, after a reconnection, is the one kept) */
      if (self->snapshot != NULL)
        {
          remote_live_status (self);
          gtk_stack_set_visible_child_name (self->stack, "content");
        }
      update_trace_label (self);
      break;
    case IOV_REMOTE_SESSION_DISCONNECTED:
    case IOV_REMOTE_SESSION_FAILED:
      if (iov_remote_session_get_error (remote) != NULL)
        relay_failed (self, iov_remote_session_get_error (remote));
      break;
    case IOV_REMOTE_SESSION_CONNECTING:
    case IOV_REMOTE_SESSION_STOPPED:
    default:
      break;
    }
}

/* A snapshot by HTTP, on F5: the events stream sends them as they change. */
static void
relay_fetch (IovLiveView *self)
{
  if (self->relay == NULL)
    return;
  /* The callback holds no reference: a cancelled fetch never touches self. */
  iov_relay_client_get_snapshot_async (self->relay, FALSE, FALSE, self->relay_cancellable,
                                       relay_snapshot_cb, self);
}

static void
relay_stop (IovLiveView *self)
{
  if (self->remote != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->remote, self);
      iov_remote_session_stop (self->remote);
      g_clear_object (&self->remote);
    }
  if (self->relay_cancellable != NULL)
    g_cancellable_cancel (self->relay_cancellable);
  g_clear_object (&self->relay_cancellable);
  g_clear_object (&self->relay);
  self->relay_live = FALSE;
}

static gboolean
connect_relay (IovLiveView  *self,
               const char   *url,
               GError      **error)
{
  g_autoptr(IovRelayClient) relay = NULL;
  g_autofree char *token = NULL;

  if (self->token != NULL && self->token[0] != '\0')
    token = g_strdup (self->token);
  else if ((token = iov_relay_read_token (NULL, error)) == NULL)
    return FALSE;
  relay = iov_relay_client_new (url, token, error);
  if (relay == NULL)
    return FALSE;
  /* The client trusts IOVISTA_TLS_CA itself. */

  reset (self);
  self->address = g_strdup (url);
  self->relay = g_steal_pointer (&relay);
  self->relay_cancellable = g_cancellable_new ();
  set_status (self, _("Connecting…"));
  relay_show_page (self, "network-transmit-receive-symbolic", _("Connecting to the Relay…"), url, NULL, TRUE);

  /* Snapshots and the trace come over the relay's events stream, and go
   * the same way as a local session's and a local trace's. */
  self->remote = iov_remote_session_new (self->relay);
  g_signal_connect_object (self->remote, "notify::snapshot", G_CALLBACK (remote_snapshot_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->remote, "notify::state", G_CALLBACK (remote_state_cb), self, G_CONNECT_SWAPPED);
  /* a new reason while still disconnected */
  g_signal_connect_object (self->remote, "notify::error", G_CALLBACK (remote_state_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->remote, "changed", G_CALLBACK (session_changed_cb), self, G_CONNECT_SWAPPED);
  replace_store (self, iov_event_store_new (self->catalog), NULL);
  rebuild_inference (self);
  self->trace_tick_id = g_timeout_add (TRACE_TICK_MS, trace_tick_cb, self);
  update_trace_label (self);
  iov_remote_session_start (self->remote);
  return TRUE;
}

void
iov_live_view_set_trace_preset (IovLiveView *self,
                                const char  *name)
{
  g_return_if_fail (IOV_IS_LIVE_VIEW (self));

  g_free (self->trace_preset);
  self->trace_preset = g_strdup (name);
}

static void
preset_applied_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(IovLiveView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autofree char *message = NULL;
  const IovTracePreset *preset = self->applying;
  gboolean done;

  if (IOV_IS_RELAY_CLIENT (source))
    done = (answer = iov_relay_client_set_trace_preset_finish (IOV_RELAY_CLIENT (source), result, &error)) != NULL;
  else
    done = iov_trace_preset_apply_finish (IOV_QMP_CLIENT (source), result, &error);
  if (!done)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* Translators: %s is why */
      message = g_strdup_printf (_("QEMU did not turn its trace events on: %s"), error->message);
    }
  else
    /* Translators: %s is a trace preset's title, e.g. "VT-d invalidations" */
    message = g_strdup_printf (_("QEMU traces “%s” now"), preset ? _(preset->title) : "?");
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (message));
}

/* Once, when the session is first live: the user asked for it. */
static void
apply_trace_preset (IovLiveView *self)
{
  const IovTracePreset *preset;

  if (self->trace_preset == NULL || (self->session == NULL && self->relay == NULL))
    return;
  preset = iov_trace_preset_find (self->trace_preset);
  g_clear_pointer (&self->trace_preset, g_free);
  if (preset == NULL)
    return;
  self->applying = preset;
  /* through the relay, which owns the VM's QMP connection */
  if (self->relay != NULL)
    iov_relay_client_set_trace_preset_async (self->relay, preset->name, TRUE, self->relay_cancellable,
                                             preset_applied_cb, g_object_ref (self));
  else
    iov_trace_preset_apply_async (iov_session_get_client (self->session), preset, TRUE, self->cancellable,
                                  preset_applied_cb, g_object_ref (self));
}

void
iov_live_view_set_token (IovLiveView *self,
                         const char  *token)
{
  g_return_if_fail (IOV_IS_LIVE_VIEW (self));

  g_free (self->token);
  self->token = token != NULL ? g_strstrip (g_strdup (token)) : NULL;
}

gboolean
iov_live_view_connect (IovLiveView  *self,
                       const char   *address,
                       const char   *trace_source,
                       GError      **error)
{
  g_autoptr(IovSession) session = NULL;

  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);

  if (iov_relay_is_url (address))
    {
      if (trace_source != NULL && trace_source[0] != '\0')
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       _("A VM behind a relay has its trace at the relay: give the relay --vm NAME,trace=SOURCE"));
          return FALSE;
        }
      return connect_relay (self, address, error);
    }

  session = iov_session_new (address, error);
  if (session == NULL)
    return FALSE;

  reset (self);
  self->address = g_strdup (address);
  self->session = g_steal_pointer (&session);
  g_signal_connect_object (self->session, "notify::state", G_CALLBACK (update_state), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::error", G_CALLBACK (update_state), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::snapshot", G_CALLBACK (session_snapshot_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "changed", G_CALLBACK (session_changed_cb), self, G_CONNECT_SWAPPED);

  if (trace_source != NULL && trace_source[0] != '\0' && !start_trace (self, trace_source, error))
    {
      iov_live_view_disconnect (self);
      return FALSE;
    }
  update_trace_label (self);
  iov_session_start (self->session);
  update_state (self);
  return TRUE;
}

/* ---- recordings and trace logs ------------------------------------------ */

typedef struct
{
  char     *path;       /* a plain trace log to read, or NULL */
  GString  *trace;      /* or a recording's trace */
  JsonNode *snapshot;
  IovInference *inference;
  GArray   *deliveries;
  guint64   lines;
  guint64   events;
  IovTraceCatalog *catalog;
  IovEventStore   *store;
  IovDeliveryLog  *log;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_free (data->path);
  if (data->trace)
    g_string_free (data->trace, TRUE);
  g_clear_pointer (&data->snapshot, json_node_unref);
  g_clear_pointer (&data->inference, iov_inference_free);
  g_clear_pointer (&data->deliveries, g_array_unref);
  g_clear_pointer (&data->store, iov_event_store_free);
  g_clear_pointer (&data->catalog, iov_trace_catalog_free);
  g_clear_pointer (&data->log, iov_delivery_log_free);
  g_free (data);
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  LoadData *data = task_data;
  g_autoptr(IovTraceCatalog) catalog = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  FeedState state = { NULL, NULL, NULL, 0, 0, NULL, 0, NULL, IOV_DELIVERY_LOG_NO_EVENT };
  const char *text;

  catalog = iov_trace_catalog_new_default (NULL, &error);
  if (catalog == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (data->path != NULL)
    {
      if (!g_file_get_contents (data->path, &contents, &length, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      text = contents;
    }
  else
    {
      text = data->trace->str;
      length = data->trace->len;
    }

  if (data->snapshot != NULL)
    {
      data->inference = iov_inference_new_from_snapshot (data->snapshot, NULL, &error);
      if (data->inference == NULL)
        g_debug ("No inference: %s", error->message);
    }
  data->deliveries = g_array_new (FALSE, FALSE, sizeof (IovDelivery));
  state.catalog = catalog;
  state.inference = data->inference;
  state.deliveries = data->deliveries;
  data->store = state.store = iov_event_store_new (catalog);
  data->log = state.log = iov_delivery_log_new ();
  iov_trace_split_lines (text, length, feed_line, &state);
  if (data->inference != NULL)
    {
      guint before = data->deliveries->len;

      iov_inference_finish (data->inference, data->deliveries);
      if (data->deliveries->len > before)
        iov_delivery_log_add (data->log, &g_array_index (data->deliveries, IovDelivery, before),
                              data->deliveries->len - before, NULL);
    }
  data->lines = state.lines;
  data->events = state.events;
  /* the store borrows its catalogue: both go to the view */
  data->catalog = g_steal_pointer (&catalog);
  g_task_return_boolean (task, TRUE);
}

static void
load_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  IovLiveView *self = IOV_LIVE_VIEW (object);
  LoadData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          AdwToast *toast = adw_toast_new (error->message);

          self->loading = FALSE;
          adw_toast_set_timeout (toast, 0);
          adw_toast_overlay_add_toast (self->toast_overlay, toast);
          update_trace_label (self);
        }
      return;
    }

  self->loading = FALSE;
  self->inference = g_steal_pointer (&data->inference);
  self->n_lines = data->lines;
  self->n_events = data->events;
  /* the list lets go of the old log before it goes */
  iov_event_list_set_sources (self->event_list, NULL, NULL, NULL, NULL);
  iov_delivery_log_free (self->log);
  self->log = g_steal_pointer (&data->log);
  replace_store (self, g_steal_pointer (&data->store), g_steal_pointer (&data->catalog));
  {
    IovEventRecord first, last;
    guint64 n = iov_event_store_get_n_events (self->store);

    /* A file is over: show all of it rather than follow its end. */
    if (n > 0 && iov_event_store_get (self->store, 0, &first) && iov_event_store_get (self->store, n - 1, &last))
      {
        /* a lone instant gets a second around it */
        if (last.ts_ns <= first.ts_ns)
          iov_timeline_set_range (self->timeline, first.ts_ns - MIN (first.ts_ns, G_USEC_PER_SEC * 500),
                                  first.ts_ns + G_USEC_PER_SEC * 500);
        else
          iov_timeline_set_range (self->timeline, first.ts_ns, last.ts_ns + 1);
      }
  }
  add_deliveries (self, data->deliveries);
  show_lanes_for_selection (self, FALSE);
  update_trace_label (self);
}

gboolean
iov_live_view_open_file (IovLiveView  *self,
                         GFile        *file,
                         GError      **error)
{
  g_autofree char *path = NULL;
  g_autofree char *basename = NULL;
  g_autofree char *status = NULL;
  g_autoptr(GTask) task = NULL;
  LoadData *data;

  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  path = g_file_get_path (file);
  if (path == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Cannot open “%s”: recordings and traces must be local files"),
                   g_file_peek_path (file) ? g_file_peek_path (file) : "?");
      return FALSE;
    }

  data = g_new0 (LoadData, 1);
  if (iov_recording_is_recording (path))
    {
      g_autoptr(IovRecording) recording = iov_recording_load (path, error);

      if (recording == NULL)
        {
          load_data_free (data);
          return FALSE;
        }
      data->trace = g_steal_pointer (&recording->trace);
      if (recording->snapshots != NULL && recording->snapshots->len > 0)
        data->snapshot = json_node_copy (g_ptr_array_index (recording->snapshots,
                                                            recording->snapshots->len - 1));
    }
  else if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   _("Cannot open “%s”: not a recording or a trace log"), path);
      load_data_free (data);
      return FALSE;
    }
  else
    data->path = g_strdup (path);

  reset (self);
  basename = g_file_get_basename (file);
  self->recording_name = g_strdup (basename);
  /* Translators: the header's subtitle, %s is the file's name */
  status = g_strdup_printf (_("Recording · %s"), basename);
  set_status (self, status);

  if (data->snapshot != NULL)
    set_snapshot (self, data->snapshot);
  else
    {
      /* The events are still worth a look: the timeline and the list work
       * without a snapshot, only the map and the inference need one. */
      _iov_live_view_map_show_space (self->range_map, self->lanes, NULL, _("No Address Spaces Recorded"),
                                     _("This trace has no QMP snapshot. Record with “iovista-cli trace SOURCE "
                                       "--qmp ADDRESS --record FILE.iovista” to keep both."), 0);
      gtk_stack_set_visible_child_name (self->stack, "content");
    }

  self->loading = TRUE;
  update_trace_label (self);
  task = g_task_new (self, self->cancellable, load_done_cb, NULL);
  g_task_set_source_tag (task, iov_live_view_open_file);
  g_task_set_task_data (task, data, (GDestroyNotify) load_data_free);
  g_task_run_in_thread (task, load_thread);
  return TRUE;
}

/* ---- the timeline's selection and the event list ------------------------ */

static void
timeline_selection_cb (IovLiveView *self,
                       IovTimeline *timeline)
{
  guint64 t0 = 0, t1 = 0;
  gboolean limited = iov_timeline_get_selection (timeline, &t0, &t1);

  iov_event_list_set_time_range (self->event_list, limited, t0, t1);
  if (!limited)  /* back to the latest events, without counting them again */
    self->lanes_mark = self->log ? iov_delivery_log_get_n (self->log) : 0;
  show_lanes_for_selection (self, FALSE);
}

static void
show_in_map_cb (IovLiveView  *self,
                const char   *device,
                guint64       iova,
                guint64       addr_mask,
                IovEventList *list)
{
  IovTlbEvent flash = { iova, addr_mask, 0, IOV_NOTIFIER_UNMAP, IOV_PERM_NONE };

  if (device != NULL && g_strcmp0 (device, self->selected_bdf) != 0)
    for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->space_list));
         row != NULL;
         row = gtk_widget_get_next_sibling (row))
      if (g_strcmp0 (g_object_get_data (G_OBJECT (row), "bdf"), device) == 0)
        {
          gtk_list_box_select_row (self->space_list, GTK_LIST_BOX_ROW (row));
          break;
        }
  iov_range_map_set_invalidations (IOV_RANGE_MAP (self->range_map), &flash, 1);
  gtk_widget_grab_focus (self->range_map);
}

static void
follow_toggled_cb (IovLiveView     *self,
                   GtkToggleButton *button)
{
  gboolean follow = gtk_toggle_button_get_active (button);

  gtk_button_set_icon_name (GTK_BUTTON (button), follow ? "media-playback-pause-symbolic"
                                                        : "media-playback-start-symbolic");
  if (follow)
    {
      /* back to now: what came meanwhile is not news any more */
      self->lanes_mark = self->log ? iov_delivery_log_get_n (self->log) : 0;
      show_lanes_for_selection (self, FALSE);
    }
  else
    gtk_label_set_text (self->lanes_title, _("Latest Deliveries, Paused"));
}

static void
speed_selected_cb (IovLiveView *self,
                   GParamSpec  *pspec,
                   GtkDropDown *dropdown)
{
  static const double speeds[] = { 0.5, 1, 2, 4 };
  guint selected = gtk_drop_down_get_selected (dropdown);

  if (selected < G_N_ELEMENTS (speeds))
    iov_notifier_lanes_set_speed (IOV_NOTIFIER_LANES (self->lanes), speeds[selected]);
}

/* Stepping through the list plays each event in the lanes: following
 * pauses so that the event stays. */
static void
event_selected_cb (IovLiveView  *self,
                   guint64       index,
                   IovEventList *list)
{
  g_autoptr(GArray) mine = g_array_new (FALSE, FALSE, sizeof (IovDelivery));
  guint64 d0 = 0, d1 = 0;
  const char *device = NULL;

  if (index == G_MAXUINT64 || self->log == NULL)
    return;
  iov_delivery_log_find (self->log, index, index + 1, &d0, &d1);
  if (d0 == d1)
    {
      GtkListBoxRow *row = gtk_list_box_get_selected_row (self->space_list);

      /* nothing reached a notifier: empty lanes, not the last event's */
      gtk_toggle_button_set_active (self->follow_button, FALSE);
      if (row != NULL)
        show_space (self, row);
      gtk_label_set_text (self->lanes_title, _("The Selected Event Reached No Notifier"));
      return;
    }
  device = iov_delivery_log_get (self->log, d0, NULL)->device;
  if (g_strcmp0 (device, self->selected_bdf) != 0)
    for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->space_list));
         row != NULL;
         row = gtk_widget_get_next_sibling (row))
      if (g_strcmp0 (g_object_get_data (G_OBJECT (row), "bdf"), device) == 0)
        {
          g_signal_handlers_block_by_func (self->space_list, row_selected_cb, self);
          gtk_list_box_select_row (self->space_list, GTK_LIST_BOX_ROW (row));
          g_signal_handlers_unblock_by_func (self->space_list, row_selected_cb, self);
          show_space (self, GTK_LIST_BOX_ROW (row));
          break;
        }
  gtk_toggle_button_set_active (self->follow_button, FALSE);
  for (guint64 i = d0; i < d1; i++)
    {
      const IovDelivery *d = iov_delivery_log_get (self->log, i, NULL);

      if (g_strcmp0 (d->device, self->selected_bdf) == 0)
        g_array_append_val (mine, *d);
    }
  if (mine->len == 0)
    return;
  gtk_label_set_text (self->lanes_title, _("The Selected Event"));
  _iov_live_view_map_show_deliveries (self->range_map, self->lanes,
                                      (const IovDelivery *) (gpointer) mine->data, mine->len, TRUE);
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

  if (self->remote != NULL)
    {
      iov_remote_session_start (self->remote);
      return;
    }
  if (self->session == NULL)
    return;
  iov_session_stop (self->session);
  iov_session_start (self->session);
}

static void
trust_certificate_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *param)
{
  IovLiveView *self = IOV_LIVE_VIEW (widget);

  if (self->relay == NULL || self->untrusted_sha256 == NULL)
    return;
  iov_relay_client_trust_certificate (self->relay, self->untrusted_sha256);
  relay_show_page (self, "network-transmit-receive-symbolic", _("Connecting to the Relay…"), self->address, NULL, TRUE);
  if (self->remote != NULL)
    iov_remote_session_start (self->remote);
}

static void
refresh_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *param)
{
  IovLiveView *self = IOV_LIVE_VIEW (widget);

  if (self->session != NULL)
    iov_session_refresh (self->session);
  else if (self->relay != NULL)
    relay_fetch (self);
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
  g_clear_pointer (&self->status, g_free);
  g_clear_pointer (&self->selected_bdf, g_free);
  g_clear_pointer (&self->filter, g_free);
  g_clear_pointer (&self->token, g_free);
  g_clear_pointer (&self->trace_preset, g_free);
  g_clear_pointer (&self->untrusted_sha256, g_free);
  g_clear_pointer (&self->store, iov_event_store_free);
  g_clear_pointer (&self->store_catalog, iov_trace_catalog_free);
  g_clear_pointer (&self->catalog, iov_trace_catalog_free);
  g_clear_pointer (&self->scratch, g_array_unref);
  g_clear_pointer (&self->log, iov_delivery_log_free);
  g_clear_pointer (&self->retired, g_ptr_array_unref);

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
  g_type_ensure (IOV_TYPE_EVENT_LIST);
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
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, trace_label);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, event_list);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, follow_button);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, speed_dropdown);
  gtk_widget_class_bind_template_child (widget_class, IovLiveView, lanes_title);
  gtk_widget_class_bind_template_callback (widget_class, follow_toggled_cb);
  gtk_widget_class_bind_template_callback (widget_class, speed_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, event_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, timeline_selection_cb);
  gtk_widget_class_bind_template_callback (widget_class, show_in_map_cb);
  gtk_widget_class_bind_template_callback (widget_class, row_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);

  gtk_widget_class_install_action (widget_class, "live.copy-arguments", NULL, copy_arguments_action);
  gtk_widget_class_install_action (widget_class, "live.retry", NULL, retry_action);
  gtk_widget_class_install_action (widget_class, "live.trust-certificate", NULL, trust_certificate_action);
  gtk_widget_class_install_action (widget_class, "live.refresh", NULL, refresh_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "live.refresh", NULL);
}

static void
iov_live_view_init (IovLiveView *self)
{
  g_autoptr(GError) error = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_list_box_set_filter_func (self->space_list, filter_func, self, NULL);
  gtk_list_box_set_sort_func (self->space_list, sort_func, NULL, NULL);
  {
    GtkWidget *placeholder = gtk_label_new (_("No address spaces"));

    gtk_widget_add_css_class (placeholder, "dim-label");
    gtk_widget_set_margin_top (placeholder, 24);
    gtk_list_box_set_placeholder (self->space_list, placeholder);
  }
  self->scratch = g_array_new (FALSE, FALSE, sizeof (IovDelivery));
  self->log = iov_delivery_log_new ();
  self->retired = g_ptr_array_new_with_free_func ((GDestroyNotify) iov_inference_free);
  self->catalog = iov_trace_catalog_new_default (NULL, &error);
  if (self->catalog == NULL)
    g_critical ("No trace catalogue: %s", error->message);
  self->cancellable = g_cancellable_new ();
  self->status = g_strdup (_("Not connected"));
  update_trace_label (self);
}
