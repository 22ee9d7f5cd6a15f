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
      g_clear_pointer (&self->went_away, g_free);
      apply_trace_preset (self);
      /* Translators: the header's subtitle: QEMU's version, the QMP address */
      status = g_strdup_printf (_("Live · QEMU %s · %s"),
                                _iov_live_view_snapshot_version (self) ? _iov_live_view_snapshot_version (self) : "?", self->address);
      break;
    case IOV_SESSION_STATE_DISCONNECTED:
    default:
      /* QEMU lost while live: the retries' "cannot connect" would hide
       * what happened, so the first reason stays until it is back */
      if (self->went_away == NULL && self->snapshot != NULL && error != NULL)
        self->went_away = g_strdup (error->message);
      if (self->went_away != NULL)
        /* Translators: the header's subtitle, %s is why (e.g. "QEMU at unix:… closed the connection") */
        status = g_strdup_printf (_("QEMU went away — reconnecting… (%s)"), self->went_away);
      else if (error != NULL)
        /* Translators: the header's subtitle, %s is why */
        status = g_strdup_printf (_("Disconnected: %s — retrying"), error->message);
      else
        status = g_strdup (_("Disconnected — retrying"));
      break;
    }
  _iov_live_view_set_status (self, status);

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
  _iov_live_view_set_snapshot (self, json);
  update_state (self);
}

static void
session_changed_cb (IovLiveView *self,
                    GPtrArray   *changes,
                    IovSession  *session)
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


/* ---- a VM through a relay ---------------------------------------------- */


void
_iov_live_view_relay_show_page (IovLiveView *self,
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
      _iov_live_view_relay_show_page (self, "dialog-password-symbolic", _("The Relay Refused the Token"),
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
      _iov_live_view_relay_show_page (self, "channel-insecure-symbolic", _("Untrusted Certificate"),
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
      _iov_live_view_relay_show_page (self, "network-error-symbolic", _("The Relay Cannot Be Watched"), error->message, NULL, FALSE);
    }
  else
    {
      status = g_strdup_printf (_("Disconnected: %s — retrying"), error->message);
      if (self->snapshot == NULL)
        _iov_live_view_relay_show_page (self, "network-offline-symbolic", _("Cannot Reach the VM Through the Relay"),
                         error->message, NULL, FALSE);
    }
  /* The remote session reconnects by itself, except after a refusal. */
  _iov_live_view_set_status (self, status);
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
    _iov_live_view_set_snapshot (self, json_parser_get_root (parser));
  self->relay_live = TRUE;
  /* Translators: the header's subtitle: QEMU's version, the relay's URL */
  status = g_strdup_printf (_("Live · QEMU %s · via relay %s"),
                            _iov_live_view_snapshot_version (self) ? _iov_live_view_snapshot_version (self) : "?", self->address);
  _iov_live_view_set_status (self, status);
}

static void
remote_live_status (IovLiveView *self)
{
  g_autofree char *status = NULL;
  const char *version = iov_remote_session_get_qemu_version (self->remote);

  if (version == NULL)
    version = _iov_live_view_snapshot_version (self);
  self->relay_live = TRUE;
  /* Translators: the header's subtitle: QEMU's version, the relay's URL */
  status = g_strdup_printf (_("Live · QEMU %s · via relay %s"), version ? version : "?", self->address);
  _iov_live_view_set_status (self, status);
}

static void
remote_snapshot_cb (IovLiveView      *self,
                    GParamSpec       *pspec,
                    IovRemoteSession *remote)
{
  JsonNode *snapshot = iov_remote_session_get_snapshot (remote);

  if (snapshot == NULL || (self->snapshot != NULL && json_node_equal (self->snapshot, snapshot)))
    return;
  _iov_live_view_set_snapshot (self, snapshot);
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
      _iov_live_view_update_trace_label (self);
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
void
_iov_live_view_relay_fetch (IovLiveView *self)
{
  if (self->relay == NULL)
    return;
  /* The callback holds no reference: a cancelled fetch never touches self. */
  iov_relay_client_get_snapshot_async (self->relay, FALSE, FALSE, self->relay_cancellable,
                                       relay_snapshot_cb, self);
}

void
_iov_live_view_relay_stop (IovLiveView *self)
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

  _iov_live_view_reset (self);
  self->address = g_strdup (url);
  self->relay = g_steal_pointer (&relay);
  self->relay_cancellable = g_cancellable_new ();
  _iov_live_view_set_status (self, _("Connecting…"));
  _iov_live_view_relay_show_page (self, "network-transmit-receive-symbolic", _("Connecting to the Relay…"), url, NULL, TRUE);

  /* Snapshots and the trace come over the relay's events stream, and go
   * the same way as a local session's and a local trace's. */
  self->remote = iov_remote_session_new (self->relay);
  g_signal_connect_object (self->remote, "notify::snapshot", G_CALLBACK (remote_snapshot_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->remote, "notify::state", G_CALLBACK (remote_state_cb), self, G_CONNECT_SWAPPED);
  /* a new reason while still disconnected */
  g_signal_connect_object (self->remote, "notify::error", G_CALLBACK (remote_state_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->remote, "changed", G_CALLBACK (session_changed_cb), self, G_CONNECT_SWAPPED);
  _iov_live_view_follow_remote (self);
  _iov_live_view_update_trace_label (self);
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

  _iov_live_view_reset (self);
  self->address = g_strdup (address);
  self->session = g_steal_pointer (&session);
  g_signal_connect_object (self->session, "notify::state", G_CALLBACK (update_state), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::error", G_CALLBACK (update_state), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::snapshot", G_CALLBACK (session_snapshot_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "changed", G_CALLBACK (session_changed_cb), self, G_CONNECT_SWAPPED);

  if (trace_source != NULL && trace_source[0] != '\0' && !_iov_live_view_start_trace (self, trace_source, error))
    {
      iov_live_view_disconnect (self);
      return FALSE;
    }
  _iov_live_view_update_trace_label (self);
  iov_session_start (self->session);
  update_state (self);
  return TRUE;
}

