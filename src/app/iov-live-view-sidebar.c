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
make_row (IovLiveView                   *self,
          const char                    *bdf,
          guint                          index,
          const IovSnapshotAddressSpace *entry)
{
  const char *type = device_type (self, bdf);
  gboolean on = entry->iommu;
  guint n_ranges = entry->flat_ranges->len;
  guint n_notifiers = entry->notifiers->len;
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

void
_iov_live_view_populate_sidebar (IovLiveView *self)
{
  const IovSnapshotInfo *info = self->snapshot_info;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *keep = g_strdup (self->selected_bdf);
  GtkWidget *child, *select = NULL, *first_on = NULL, *first_dma = NULL, *first = NULL, *first_notified = NULL;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->space_list))) != NULL)
    gtk_list_box_remove (self->space_list, child);

  for (guint i = 0; info != NULL && i < info->address_spaces->len; i++)
    {
      const IovSnapshotAddressSpace *entry = g_ptr_array_index (info->address_spaces, i);

      /* A device is named by the address spaces that belong to it, and
       * also by the notifiers registered for it: a snapshot written from
       * a trace alone knows vhost's notifiers but not the memory tree. */
      for (guint j = 0; j < entry->spaces->len + entry->notifiers->len; j++)
        {
          const char *bdf;
          GtkWidget *row;

          if (j < entry->spaces->len)
            bdf = ((const IovSnapshotSpace *) g_ptr_array_index (entry->spaces, j))->device;
          else
            bdf = ((const IovSnapshotNotifier *) g_ptr_array_index (entry->notifiers, j - entry->spaces->len))->device;

          if (bdf == NULL || g_hash_table_contains (seen, bdf))
            continue;
          g_hash_table_add (seen, (gpointer) bdf);
          row = make_row (self, bdf, i, entry);
          gtk_list_box_append (self->space_list, row);
          if (first == NULL)
            first = row;
          if (first_on == NULL && entry->iommu)
            first_on = row;
          if (first_dma == NULL && is_dma_device (device_type (self, bdf)))
            first_dma = row;
          if (first_notified == NULL && entry->notifiers->len > 0)
            first_notified = row;
          if (g_strcmp0 (bdf, keep) == 0)
            select = row;
        }
    }

  /* The device with notifiers is what the view is about (issue H); then
   * one behind the IOMMU, then one that does DMA. */
  if (select == NULL)
    select = first_notified ? first_notified : first_on ? first_on : first_dma ? first_dma : first;
  if (select != NULL)
    gtk_list_box_select_row (self->space_list, GTK_LIST_BOX_ROW (select));
}

/* The map and empty lanes of the selected device's address space. */
void
_iov_live_view_show_space (IovLiveView   *self,
                           GtkListBoxRow *row)
{
  const IovSnapshotAddressSpace *entry;
  const char *bdf;
  const char *type;
  const char *name = NULL;
  g_autofree char *subtitle = NULL;

  bdf = g_object_get_data (G_OBJECT (row), "bdf");
  entry = entry_at (self, GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "entry")));
  if (entry == NULL)
    return;
  g_free (self->selected_bdf);
  self->selected_bdf = g_strdup (bdf);
  _iov_live_view_traffic_device_changed (self);

  type = device_type (self, bdf);
  if (entry->spaces->len > 0)
    name = ((const IovSnapshotSpace *) g_ptr_array_index (entry->spaces, 0))->root;
  /* Translators: the map's subtitle: device type · root memory region */
  subtitle = g_strdup_printf (_("%s · %s"), type ? type : _("unknown device"), name ? name : "");
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
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->space_list));
       row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (g_strcmp0 (g_object_get_data (G_OBJECT (row), "bdf"), bdf) == 0)
      {
        if (!notify)
          g_signal_handlers_block_by_func (self->space_list, _iov_live_view_row_selected_cb, self);
        gtk_list_box_select_row (self->space_list, GTK_LIST_BOX_ROW (row));
        if (!notify)
          {
            g_signal_handlers_unblock_by_func (self->space_list, _iov_live_view_row_selected_cb, self);
            _iov_live_view_show_space (self, GTK_LIST_BOX_ROW (row));
          }
        return TRUE;
      }
  return FALSE;
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

void
_iov_live_view_sidebar_init (IovLiveView *self)
{
  GtkWidget *placeholder = gtk_label_new (_("No address spaces"));

  gtk_list_box_set_filter_func (self->space_list, filter_func, self, NULL);
  gtk_list_box_set_sort_func (self->space_list, sort_func, NULL, NULL);
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_top (placeholder, 24);
  gtk_list_box_set_placeholder (self->space_list, placeholder);
}
