/* iov-live-view-source.c — where the live view's VM comes from: a QMP
 * session, or a relay; and the trace presets the user asked for
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

void
_iov_live_view_show_page (IovLiveView *self,
                          const char  *icon,
                          const char  *title,
                          const char  *description,
                          const char  *detail,
                          gboolean     busy)
{
  gboolean qemu_args = detail != NULL && g_str_has_prefix (detail, "-qmp ");

  gtk_stack_set_visible_child_name (self->stack, "status");
  adw_status_page_set_icon_name (self->status_page, icon);
  adw_status_page_set_title (self->status_page, title);
  adw_status_page_set_description (self->status_page, description);
  gtk_label_set_text (self->args_label, detail ? detail : "");
  gtk_widget_set_visible (GTK_WIDGET (self->args_label), detail != NULL);
  /* QEMU's arguments are there to be copied */
  gtk_widget_set_visible (self->copy_button, qemu_args);
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

/* A relay refused us: no retry until the user acts. */
static char *
show_refusal (IovLiveView  *self,
              const GError *error)
{
  g_autofree char *description = NULL;

  if (g_error_matches (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_UNAUTHORIZED))
    {
      description = g_strdup_printf (_("The relay at %s refused the token. Connect again with the token "
                                       "from the relay's --token-file, or set IOVISTA_TOKEN."),
                                     self->address);
      _iov_live_view_show_page (self, "dialog-password-symbolic", _("The Relay Refused the Token"),
                                description, NULL, FALSE);
      /* Translators: the header's subtitle when a relay answers 401 */
      return g_strdup_printf (_("Disconnected: %s"), _("the relay refused the token"));
    }
  if (g_error_matches (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_TLS))
    {
      g_autofree char *fingerprint = tls_fingerprint (error->message);
      g_autofree char *detail = NULL;

      if (fingerprint != NULL)
        /* Translators: %s is a certificate's SHA-256 fingerprint */
        detail = g_strdup_printf (_("SHA-256 %s"), fingerprint);
      _iov_live_view_show_page (self, "channel-insecure-symbolic", _("Untrusted Certificate"),
                                error->message, detail, FALSE);
      /* The explicit choice: trust exactly this certificate, for this view. */
      g_free (self->untrusted_sha256);
      self->untrusted_sha256 = g_steal_pointer (&fingerprint);
      gtk_widget_set_visible (self->trust_button, self->untrusted_sha256 != NULL);
      return g_strdup_printf (_("Disconnected: %s"), _("the relay's certificate is not trusted"));
    }
  /* e.g. another protocol version */
  _iov_live_view_show_page (self, "network-error-symbolic", _("The Relay Cannot Be Watched"),
                            error ? error->message : "", NULL, FALSE);
  return g_strdup_printf (_("Disconnected: %s"), error ? error->message : "?");
}

/* The header's subtitle and, while there is nothing to show, the page:
 * from the source's state alone, whichever kind it is. */
static void
update_state (IovLiveView *self)
{
  IovVmSourceState state;
  IovVmSourceKind kind;
  const GError *error;
  const char *version;
  g_autofree char *status = NULL;

  if (self->source == NULL)
    return;
  state = iov_vm_source_get_state (self->source);
  kind = iov_vm_source_get_kind (self->source);
  error = iov_vm_source_get_error (self->source);
  version = iov_vm_source_get_qemu_version (self->source);

  switch (state)
    {
    case IOV_VM_SOURCE_STOPPED:
      return;

    case IOV_VM_SOURCE_CONNECTING:
      status = g_strdup (_("Connecting…"));
      if (self->snapshot == NULL)
        {
          if (kind == IOV_VM_SOURCE_RELAY)
            _iov_live_view_show_page (self, "network-transmit-receive-symbolic", _("Connecting to the Relay…"),
                                      self->address, NULL, TRUE);
          else
            _iov_live_view_show_page (self, "network-transmit-receive-symbolic", _("Connecting to QEMU…"),
                                      self->address, NULL, TRUE);
        }
      break;

    case IOV_VM_SOURCE_LIVE:
      g_clear_pointer (&self->went_away, g_free);
      apply_trace_preset (self);
      _iov_live_view_update_trace_label (self);
      /* "Live" once there is something to show: after a relay's hello the
       * snapshot follows (or, after a reconnection, is the one kept) */
      if (self->snapshot == NULL)
        status = g_strdup (_("Connecting…"));
      else if (kind == IOV_VM_SOURCE_RELAY)
        /* Translators: the header's subtitle: QEMU's version, the relay's URL */
        status = g_strdup_printf (_("Live · QEMU %s · via relay %s"), version ? version : "?", self->address);
      else
        /* Translators: the header's subtitle: QEMU's version, the QMP address */
        status = g_strdup_printf (_("Live · QEMU %s · %s"), version ? version : "?", self->address);
      if (self->snapshot != NULL)
        gtk_stack_set_visible_child_name (self->stack, "content");
      break;

    case IOV_VM_SOURCE_FAILED:
      status = show_refusal (self, error);
      break;

    case IOV_VM_SOURCE_DISCONNECTED:
    default:
      /* QEMU lost while live: the retries' "cannot connect" would hide
       * what happened, so the first reason stays until it is back */
      if (kind == IOV_VM_SOURCE_QMP && self->went_away == NULL && self->snapshot != NULL && error != NULL)
        self->went_away = g_strdup (error->message);
      if (self->went_away != NULL)
        /* Translators: the header's subtitle, %s is why (e.g. "QEMU at unix:… closed the connection") */
        status = g_strdup_printf (_("QEMU went away — reconnecting… (%s)"), self->went_away);
      else if (error != NULL)
        /* Translators: the header's subtitle, %s is why */
        status = g_strdup_printf (_("Disconnected: %s — retrying"), error->message);
      else
        status = g_strdup (_("Disconnected — retrying"));
      if (self->snapshot != NULL)
        break;
      /* Nothing to show yet: say what happens, or what to do. */
      if (kind == IOV_VM_SOURCE_RELAY)
        _iov_live_view_show_page (self, "network-offline-symbolic", _("Cannot Reach the VM Through the Relay"),
                                  error ? error->message : "", NULL, FALSE);
      else
        {
          g_autofree char *args = qemu_arguments (self->address);
          g_autofree char *description = NULL;

          description = g_strdup_printf (_("%s\n\nStart QEMU with a QMP socket at this address by adding the "
                                           "arguments below. QEMU serves one client per QMP socket: if something "
                                           "else is connected, add a second -qmp option. Iovista keeps retrying."),
                                         error ? error->message : _("QEMU does not answer."));
          _iov_live_view_show_page (self, "network-offline-symbolic", _("Cannot Reach QEMU"), description, args,
                                    FALSE);
        }
      break;
    }
  _iov_live_view_set_status (self, status);
}

static void
source_snapshot_cb (IovLiveView *self,
                    GParamSpec  *pspec,
                    IovVmSource *source)
{
  JsonNode *snapshot = iov_vm_source_get_snapshot (source);

  if (snapshot == NULL || (self->snapshot != NULL && json_node_equal (self->snapshot, snapshot)))
    return;
  _iov_live_view_set_snapshot (self, snapshot);
  update_state (self);
}

static void
source_changed_cb (IovLiveView *self,
                   GPtrArray   *changes,
                   IovVmSource *source)
{
  g_autoptr(GString) text = g_string_new (NULL);
  AdwToast *toast;

  if (changes == NULL || changes->len == 0)
    return;
  /* One toast for what changed at once, replacing the last one: a booting
   * guest switches many devices, and toasts queued one by one would cover
   * the event list for many seconds (issue H). */
  if (changes->len == 1)
    g_string_append (text, ((const IovSnapshotChange *) g_ptr_array_index (changes, 0))->message);
  else
    g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%u device changed: %s …",
                                               "%u devices changed: %s …", changes->len),
                            changes->len, ((const IovSnapshotChange *) g_ptr_array_index (changes, 0))->message);
  if (self->change_toast != NULL)
    adw_toast_dismiss (self->change_toast);
  toast = adw_toast_new (text->str);
  adw_toast_set_timeout (toast, 3);
  g_set_weak_pointer (&self->change_toast, toast);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
refreshed_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  IovLiveView *self;

  if (iov_vm_source_refresh_finish (IOV_VM_SOURCE (object), result, &error) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = IOV_LIVE_VIEW (user_data);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (error->message));
}

/* F5: a snapshot now.  The callback holds no reference: a cancelled
 * refresh never touches self. */
void
_iov_live_view_refresh (IovLiveView *self)
{
  if (self->source != NULL)
    iov_vm_source_refresh_async (self->source, self->cancellable, refreshed_cb, self);
}

void
_iov_live_view_stop_source (IovLiveView *self)
{
  if (self->source == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->source, self);
  iov_vm_source_stop (self->source);
  g_clear_object (&self->source);
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
  g_autofree char *message = NULL;
  const IovTracePreset *preset = self->applying;

  if (!iov_vm_source_set_trace_preset_finish (IOV_VM_SOURCE (source), result, &error))
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

/* Once, when the source is first live: the user asked for it. */
static void
apply_trace_preset (IovLiveView *self)
{
  const IovTracePreset *preset;

  if (self->trace_preset == NULL || self->source == NULL)
    return;
  preset = iov_trace_preset_find (self->trace_preset);
  g_clear_pointer (&self->trace_preset, g_free);
  if (preset == NULL)
    return;
  self->applying = preset;
  iov_vm_source_set_trace_preset_async (self->source, preset, TRUE, self->cancellable, preset_applied_cb,
                                        g_object_ref (self));
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
  g_autoptr(IovVmSource) source = NULL;

  g_return_val_if_fail (IOV_IS_LIVE_VIEW (self), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);

  source = iov_vm_source_new (address, trace_source, self->token, error);
  if (source == NULL)
    return FALSE;

  _iov_live_view_reset (self);
  self->address = g_strdup (address);
  self->source = g_steal_pointer (&source);
  g_signal_connect_object (self->source, "notify::state", G_CALLBACK (update_state), self, G_CONNECT_SWAPPED);
  /* a new reason while still disconnected */
  g_signal_connect_object (self->source, "notify::error", G_CALLBACK (update_state), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->source, "notify::snapshot", G_CALLBACK (source_snapshot_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->source, "changed", G_CALLBACK (source_changed_cb), self, G_CONNECT_SWAPPED);

  if (!iov_vm_source_start (self->source, error))
    {
      iov_live_view_disconnect (self);
      return FALSE;
    }
  /* Snapshots and the trace go the same way whichever kind of source
   * brings them; a relay may carry a trace, a QMP session has one when
   * it was given. */
  if (iov_vm_source_get_kind (self->source) == IOV_VM_SOURCE_RELAY || iov_vm_source_get_reader (self->source) != NULL)
    _iov_live_view_follow_source (self);
  _iov_live_view_update_trace_label (self);
  update_state (self);
  return TRUE;
}
