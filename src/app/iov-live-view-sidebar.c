/* iov-live-view-sidebar.c — the live view's devices and their address spaces
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

#include "iov-live-view-private.h"

/* ---- the snapshot ------------------------------------------------------- */

const char *
_iov_live_view_snapshot_version (IovLiveView *self)
{
  return self->snapshot_info ? self->snapshot_info->version : NULL;
}

static const char *
device_type (IovLiveView *self,
             const char  *bdf)
{
  const IovSnapshotInfo *info = self->snapshot_info;

  for (guint i = 0; info != NULL && i < info->devices->len; i++)
    {
      const IovSnapshotDevice *d = g_ptr_array_index (info->devices, i);

      if (g_strcmp0 (d->bdf, bdf) == 0)
        return d->type;
    }
  return NULL;
}

static const IovSnapshotAddressSpace *
entry_at (IovLiveView *self,
          guint        index)
{
  const IovSnapshotInfo *info = self->snapshot_info;

  if (info == NULL || index >= info->address_spaces->len)
    return NULL;
  return g_ptr_array_index (info->address_spaces, index);
}

/* ---- the rows' model ------------------------------------------------------ */

/* One device of the sidebar: what its row shows and what selecting it
 * shows.  The list box is bound to a model of these, filtered by the
 * search; a row is found again by its position, never by walking widgets. */
#define IOV_TYPE_SIDEBAR_DEVICE (iov_sidebar_device_get_type ())
G_DECLARE_FINAL_TYPE (IovSidebarDevice, iov_sidebar_device, IOV, SIDEBAR_DEVICE, GObject)

struct _IovSidebarDevice
{
  GObject   parent_instance;
  char     *bdf;
  char     *title;     /* "01:00.0 virtio-net-pci" */
  char     *detail;    /* "IOMMU on · 2 ranges · 2 notifiers" */
  char     *search;    /* the title, case-folded */
  guint     entry;     /* its address space: an index into the snapshot's */
  gboolean  iommu;
};

G_DEFINE_FINAL_TYPE (IovSidebarDevice, iov_sidebar_device, G_TYPE_OBJECT)

static void
iov_sidebar_device_finalize (GObject *object)
{
  IovSidebarDevice *self = IOV_SIDEBAR_DEVICE (object);

  g_free (self->bdf);
  g_free (self->title);
  g_free (self->detail);
  g_free (self->search);
  G_OBJECT_CLASS (iov_sidebar_device_parent_class)->finalize (object);
}

static void
iov_sidebar_device_class_init (IovSidebarDeviceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = iov_sidebar_device_finalize;
}

static void
iov_sidebar_device_init (IovSidebarDevice *self)
{
}

static gboolean
filter_func (gpointer item,
             gpointer user_data)
{
  IovLiveView *self = user_data;
  g_autofree char *needle = NULL;

  if (self->filter == NULL || self->filter[0] == '\0')
    return TRUE;
  needle = g_utf8_casefold (self->filter, -1);
  return strstr (IOV_SIDEBAR_DEVICE (item)->search, needle) != NULL;
}

static int
sort_func (gconstpointer a,
           gconstpointer b,
           gpointer      user_data)
{
  return g_strcmp0 (IOV_SIDEBAR_DEVICE ((gpointer) a)->bdf, IOV_SIDEBAR_DEVICE ((gpointer) b)->bdf);
}

/* The device of a row of the list box (bound to the filtered model). */
static IovSidebarDevice *
row_device (IovLiveView   *self,
            GtkListBoxRow *row)
{
  int index = row ? gtk_list_box_row_get_index (row) : -1;
  IovSidebarDevice *device;

  if (index < 0 || (device = g_list_model_get_item (G_LIST_MODEL (self->shown_devices), index)) == NULL)
    return NULL;
  /* the store keeps it alive */
  g_object_unref (device);
  return device;
}

/* Devices that can have notifiers (virtio with iommu_platform, vfio)
 * are what a user looks for first. */
static gboolean
is_dma_device (const char *type)
{
  return type != NULL && (g_str_has_prefix (type, "virtio-") || g_str_has_prefix (type, "vhost-") ||
                          g_str_equal (type, "vfio-pci"));
}

static IovSidebarDevice *
make_device (IovLiveView                   *self,
             const char                    *bdf,
             guint                          index,
             const IovSnapshotAddressSpace *entry)
{
  IovSidebarDevice *device = g_object_new (IOV_TYPE_SIDEBAR_DEVICE, NULL);
  const char *type = device_type (self, bdf);
  guint n_ranges = entry->flat_ranges->len;
  guint n_notifiers = entry->notifiers->len;
  g_autofree char *ranges_text = NULL;
  g_autofree char *notifiers_text = NULL;

  ranges_text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u range", "%u ranges", n_ranges), n_ranges);
  notifiers_text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u notifier", "%u notifiers", n_notifiers),
                                    n_notifiers);
  device->bdf = g_strdup (bdf);
  device->title = g_strdup_printf ("%s %s", bdf, type ? type : "");
  /* Notifiers register on IOMMU regions only: a device with notifiers is
   * behind the IOMMU even when the snapshot has no memory tree for it. */
  device->iommu = entry->iommu || n_notifiers > 0;
  if (entry->spaces->len == 0 && n_ranges == 0)
    /* Translators: a sidebar row's details when the snapshot names the
     * device only through its notifiers: "no memory tree · 2 notifiers" */
    device->detail = g_strdup_printf (_("%s · %s"), _("no memory tree"), notifiers_text);
  else
    /* Translators: a sidebar row's details: IOMMU on/off · ranges · notifiers */
    device->detail = g_strdup_printf (_("%s · %s · %s"), device->iommu ? _("IOMMU on") : _("IOMMU off"),
                                      ranges_text, notifiers_text);
  device->search = g_utf8_casefold (device->title, -1);
  device->entry = index;
  return device;
}

static GtkWidget *
create_row (gpointer item,
            gpointer user_data)
{
  IovSidebarDevice *device = item;
  GtkWidget *row, *box, *title, *detail;

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  title = gtk_label_new (device->title);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (title, "heading");
  detail = gtk_label_new (device->detail);
  gtk_label_set_xalign (GTK_LABEL (detail), 0);
  gtk_label_set_ellipsize (GTK_LABEL (detail), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (detail, "caption");
  if (!device->iommu)
    gtk_widget_add_css_class (detail, "dim-label");
  gtk_box_append (GTK_BOX (box), title);
  gtk_box_append (GTK_BOX (box), detail);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);

  row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_widget_set_tooltip_text (row, device->detail);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, device->title,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, device->detail,
                                  -1);
  return row;
}

/* The row showing @device now, or NULL when the search hides it. */
static GtkListBoxRow *
device_row (IovLiveView *self,
            const char  *bdf)
{
  GListModel *shown = G_LIST_MODEL (self->shown_devices);

  for (guint i = 0; bdf != NULL && i < g_list_model_get_n_items (shown); i++)
    {
      g_autoptr(IovSidebarDevice) device = g_list_model_get_item (shown, i);

      if (g_str_equal (device->bdf, bdf))
        return gtk_list_box_get_row_at_index (self->space_list, i);
    }
  return NULL;
}

void
_iov_live_view_populate_sidebar (IovLiveView *self)
{
  const IovSnapshotInfo *info = self->snapshot_info;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *keep = g_strdup (self->selected_bdf);
  const char *first_on = NULL, *first_dma = NULL, *first = NULL, *first_notified = NULL, *select = NULL;
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
  GtkListBoxRow *row;

  if (self->devices == NULL)  /* disposed */
    return;
  for (guint i = 0; info != NULL && i < info->address_spaces->len; i++)
    {
      const IovSnapshotAddressSpace *entry = g_ptr_array_index (info->address_spaces, i);

      /* A device is named by the address spaces that belong to it, and
       * also by the notifiers registered for it: a snapshot written from
       * a trace alone knows vhost's notifiers but not the memory tree. */
      for (guint j = 0; j < entry->spaces->len + entry->notifiers->len; j++)
        {
          const char *bdf;

          if (j < entry->spaces->len)
            bdf = ((const IovSnapshotSpace *) g_ptr_array_index (entry->spaces, j))->device;
          else
            bdf = ((const IovSnapshotNotifier *) g_ptr_array_index (entry->notifiers, j - entry->spaces->len))->device;
          if (bdf == NULL || g_hash_table_contains (seen, bdf))
            continue;
          g_hash_table_add (seen, (gpointer) bdf);
          g_ptr_array_add (devices, make_device (self, bdf, i, entry));
          if (first == NULL)
            first = bdf;
          if (first_on == NULL && entry->iommu)
            first_on = bdf;
          if (first_dma == NULL && is_dma_device (device_type (self, bdf)))
            first_dma = bdf;
          if (first_notified == NULL && entry->notifiers->len > 0)
            first_notified = bdf;
          if (g_strcmp0 (bdf, keep) == 0)
            select = bdf;
        }
    }
  g_list_store_splice (self->devices, 0, g_list_model_get_n_items (G_LIST_MODEL (self->devices)),
                       devices->pdata, devices->len);
  g_list_store_sort (self->devices, sort_func, NULL);

  /* The device with notifiers is what the view is about (issue H); then
   * one behind the IOMMU, then one that does DMA. */
  if (select == NULL)
    select = first_notified ? first_notified : first_on ? first_on : first_dma ? first_dma : first;
  if ((row = device_row (self, select)) != NULL)
    gtk_list_box_select_row (self->space_list, row);
}

/* The map and empty lanes of the selected device's address space. */
void
_iov_live_view_show_space (IovLiveView   *self,
                           GtkListBoxRow *row)
{
  IovSidebarDevice *device = row_device (self, row);
  const IovSnapshotAddressSpace *entry;
  const char *bdf;
  const char *type;
  const char *name = NULL;
  g_autofree char *subtitle = NULL;

  if (device == NULL || (entry = entry_at (self, device->entry)) == NULL)
    return;
  bdf = device->bdf;
  g_free (self->selected_bdf);
  self->selected_bdf = g_strdup (bdf);
  _iov_live_view_traffic_device_changed (self);

  type = device_type (self, bdf);
  if (entry->spaces->len > 0)
    name = ((const IovSnapshotSpace *) g_ptr_array_index (entry->spaces, 0))->root;
  if (name != NULL)
    /* Translators: the map's subtitle: device type · root memory region */
    subtitle = g_strdup_printf (_("%s · %s"), type ? type : _("unknown device"), name);
  else
    subtitle = g_strdup (type ? type : _("unknown device"));
  {
    g_autoptr(GPtrArray) known = _iov_live_view_device_notifiers (self, bdf);

    _iov_live_view_map_show_space (self->range_map, self->lanes, entry, bdf, subtitle, self->snapshot_info->aw_bits,
                                   known);
  }
}

void
_iov_live_view_row_selected_cb (IovLiveView   *self,
                                GtkListBoxRow *row,
                                GtkListBox    *list)
{
  if (row == NULL)
    return;
  _iov_live_view_show_space (self, row);
  _iov_live_view_show_lanes (self, FALSE);
}

/* Selects @bdf's row; without @notify, only the map follows (the caller
 * shows the lanes itself). */
gboolean
_iov_live_view_select_device (IovLiveView *self,
                              const char  *bdf,
                              gboolean     notify)
{
  GtkListBoxRow *row = device_row (self, bdf);

  if (row == NULL)
    return FALSE;
  if (!notify)
    g_signal_handlers_block_by_func (self->space_list, _iov_live_view_row_selected_cb, self);
  gtk_list_box_select_row (self->space_list, row);
  if (!notify)
    {
      g_signal_handlers_unblock_by_func (self->space_list, _iov_live_view_row_selected_cb, self);
      _iov_live_view_show_space (self, row);
    }
  return TRUE;
}

void
_iov_live_view_search_changed_cb (IovLiveView    *self,
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
  gtk_filter_changed (GTK_FILTER (self->device_filter), GTK_FILTER_CHANGE_DIFFERENT);
}

GStrv
iov_live_view_dup_rows (IovLiveView *self,
                        gboolean     visible_only)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), NULL);

  GListModel *model = visible_only ? G_LIST_MODEL (self->shown_devices) : G_LIST_MODEL (self->devices);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(IovSidebarDevice) device = g_list_model_get_item (model, i);

      g_strv_builder_add (builder, device->title);
    }
  return g_strv_builder_end (builder);
}

void
_iov_live_view_sidebar_init (IovLiveView *self)
{
  GtkWidget *placeholder = gtk_label_new (_("No address spaces"));

  self->devices = g_list_store_new (IOV_TYPE_SIDEBAR_DEVICE);
  self->device_filter = gtk_custom_filter_new (filter_func, self, NULL);
  self->shown_devices = gtk_filter_list_model_new (G_LIST_MODEL (g_object_ref (self->devices)),
                                                   GTK_FILTER (g_object_ref (self->device_filter)));
  gtk_list_box_bind_model (self->space_list, G_LIST_MODEL (self->shown_devices), create_row, NULL, NULL);
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_top (placeholder, 24);
  gtk_list_box_set_placeholder (self->space_list, placeholder);
}
