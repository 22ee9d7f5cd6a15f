/* iov-traffic-panel.c
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

#define G_LOG_DOMAIN "iov-traffic-panel"

#include "config.h"

#include <glib/gi18n.h>

#include "iov-traffic-explain.h"
#include "iov-traffic-panel.h"

/* "Why is vhost slow behind a vIOMMU?": for the selected device (or each
 * device with traffic), what its IOTLB figures show, in the core's words
 * (iov-traffic-explain.c), and advice only where a figure supports it. The
 * labels are rebuilt when the figures change: a handful of widgets, never
 * one per event. */

struct _IovTrafficPanel
{
  GtkWidget   parent_instance;

  GtkWidget  *box;
  IovTraffic *traffic;   /* borrowed */
  char       *device;
  char       *mappings;
};

G_DEFINE_FINAL_TYPE (IovTrafficPanel, iov_traffic_panel, GTK_TYPE_WIDGET)

static GtkWidget *
add_label (IovTrafficPanel *self,
           const char      *text,
           const char      *css_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 30);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);
  gtk_box_append (GTK_BOX (self->box), label);
  return label;
}

static void
add_advice (IovTrafficPanel *self,
            const char      *text)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *icon = gtk_image_new_from_icon_name ("dialog-information-symbolic");
  GtkWidget *label = gtk_label_new (text);

  gtk_widget_set_valign (icon, GTK_ALIGN_START);
  gtk_widget_add_css_class (icon, "accent");
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 30);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (row), icon);
  gtk_box_append (GTK_BOX (row), label);
  gtk_box_append (GTK_BOX (self->box), row);
}

static gboolean
say_device (IovTrafficPanel *self,
            const char      *device)
{
  g_autoptr(GPtrArray) sentences = iov_traffic_describe (self->traffic, device);
  g_autoptr(GPtrArray) advice = NULL;

  if (sentences->len == 0)
    return FALSE;
  advice = iov_traffic_advise (self->traffic, device);
  add_label (self, device ? device : _("Not tied to a device"), "heading");
  /* a figure a line: misses, invalidations, messages */
  for (guint i = 0; i < sentences->len; i++)
    add_label (self, g_ptr_array_index (sentences, i), NULL);
  for (guint i = 0; i < advice->len; i++)
    add_advice (self, g_ptr_array_index (advice, i));
  return TRUE;
}

void
iov_traffic_panel_update (IovTrafficPanel *self)
{
  GtkWidget *child;
  gboolean said = FALSE;

  g_return_if_fail (IOV_IS_TRAFFIC_PANEL (self));

  while ((child = gtk_widget_get_first_child (self->box)) != NULL)
    gtk_box_remove (GTK_BOX (self->box), child);
  add_label (self, _("IOTLB Traffic"), "title-4");
  if (self->traffic != NULL && self->device != NULL)
    said = say_device (self, self->device);
  else if (self->traffic != NULL)
    {
      g_autoptr(GPtrArray) devices = iov_traffic_get_devices (self->traffic);

      for (guint i = 0; i < devices->len; i++)
        said |= say_device (self, g_ptr_array_index (devices, i));
      said |= say_device (self, NULL);
    }
  if (self->mappings != NULL)
    {
      add_label (self, _("IOVA Mappings"), "heading");
      add_label (self, self->mappings, NULL);
    }
  if (said)
    return;
  if (self->traffic == NULL)
    add_label (self, _("No trace: the IOTLB traffic is counted from QEMU's trace."), "dim-label");
  else if (self->device != NULL)
    {
      /* Translators: the Traffic panel, %s is a PCI address like 01:00.0 */
      g_autofree char *text = g_strdup_printf (_("No IOTLB traffic of %s in this trace: no vhost IOTLB misses, no "
                                                 "IOTLB messages, no invalidations that reach it."), self->device);

      add_label (self, text, "dim-label");
    }
  else
    add_label (self, _("No IOTLB traffic in this trace: no vhost IOTLB misses, no IOTLB messages, no invalidations "
                       "that reach a device."), "dim-label");
}

static void
append_text (GtkWidget *widget,
             GString   *out)
{
  if (GTK_IS_LABEL (widget))
    {
      g_string_append (out, gtk_label_get_text (GTK_LABEL (widget)));
      g_string_append_c (out, '\n');
      return;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    append_text (c, out);
}

char *
iov_traffic_panel_get_text (IovTrafficPanel *self)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (IOV_IS_TRAFFIC_PANEL (self), g_string_free (out, FALSE));

  append_text (self->box, out);
  return g_string_free (out, FALSE);
}

static void
iov_traffic_panel_dispose (GObject *object)
{
  IovTrafficPanel *self = IOV_TRAFFIC_PANEL (object);

  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (iov_traffic_panel_parent_class)->dispose (object);
}

static void
iov_traffic_panel_finalize (GObject *object)
{
  IovTrafficPanel *self = IOV_TRAFFIC_PANEL (object);

  g_free (self->device);
  g_free (self->mappings);
  G_OBJECT_CLASS (iov_traffic_panel_parent_class)->finalize (object);
}

static void
iov_traffic_panel_class_init (IovTrafficPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = iov_traffic_panel_dispose;
  object_class->finalize = iov_traffic_panel_finalize;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "iovtrafficpanel");
}

static void
iov_traffic_panel_init (IovTrafficPanel *self)
{
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  iov_traffic_panel_update (self);
}

GtkWidget *
iov_traffic_panel_new (void)
{
  return g_object_new (IOV_TYPE_TRAFFIC_PANEL, NULL);
}

void
iov_traffic_panel_set_traffic (IovTrafficPanel *self,
                               IovTraffic      *traffic)
{
  g_return_if_fail (IOV_IS_TRAFFIC_PANEL (self));

  self->traffic = traffic;
  iov_traffic_panel_update (self);
}

void
iov_traffic_panel_set_device (IovTrafficPanel *self,
                              const char      *bdf)
{
  g_return_if_fail (IOV_IS_TRAFFIC_PANEL (self));

  if (g_strcmp0 (bdf, self->device) == 0)
    return;
  g_free (self->device);
  self->device = g_strdup (bdf);
  iov_traffic_panel_update (self);
}

void
iov_traffic_panel_set_mappings (IovTrafficPanel *self,
                                const char      *text)
{
  g_return_if_fail (IOV_IS_TRAFFIC_PANEL (self));

  if (g_strcmp0 (text, self->mappings) == 0)
    return;
  g_free (self->mappings);
  self->mappings = g_strdup (text);
  iov_traffic_panel_update (self);
}
