/* iov-relay-client.c
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

#define G_LOG_DOMAIN "iov-relay-client"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "iov-relay-client.h"
#include "iov-types.h"

struct _IovRelayClient
{
  GObject      parent_instance;

  SoupSession *session;
  char        *base_url;   /* http(s)://HOST:PORT */
  char        *vm;
  char        *token;
  char        *trusted_sha256;  /* a certificate the user chose to trust */
};

G_DEFINE_FINAL_TYPE (IovRelayClient, iov_relay_client, G_TYPE_OBJECT)

gboolean
iov_relay_is_url (const char *address)
{
  return address != NULL &&
         (g_ascii_strncasecmp (address, "http://", 7) == 0 ||
          g_ascii_strncasecmp (address, "https://", 8) == 0);
}

/**
 * iov_relay_read_token:
 * @token_file: (nullable): a file holding the token
 *
 * Returns: (transfer full): the token from @token_file, else from the
 *   IOVISTA_TOKEN environment variable, without surrounding white space.
 */
char *
iov_relay_read_token (const char  *token_file,
                      GError     **error)
{
  g_autofree char *contents = NULL;
  const char *env = g_getenv ("IOVISTA_TOKEN");

  if (token_file != NULL)
    {
      if (!g_file_get_contents (token_file, &contents, NULL, error))
        return NULL;
      g_strstrip (contents);
    }
  else if (env != NULL)
    contents = g_strstrip (g_strdup (env));

  if (contents == NULL || *contents == '\0')
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_UNAUTHORIZED,
                   token_file ? _("The token file %s is empty")
                              : _("A relay needs a token: use --token-file FILE or set IOVISTA_TOKEN"),
                   token_file);
      return NULL;
    }
  return g_steal_pointer (&contents);
}

static void
iov_relay_client_finalize (GObject *object)
{
  IovRelayClient *self = IOV_RELAY_CLIENT (object);

  g_clear_object (&self->session);
  g_free (self->base_url);
  g_free (self->vm);
  if (self->token)
    memset (self->token, 0, strlen (self->token));
  g_free (self->token);
  g_free (self->trusted_sha256);
  G_OBJECT_CLASS (iov_relay_client_parent_class)->finalize (object);
}

static void
iov_relay_client_class_init (IovRelayClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = iov_relay_client_finalize;
}

static void
iov_relay_client_init (IovRelayClient *self)
{
}

/**
 * iov_relay_client_new:
 * @url: http(s)://HOST:PORT/VM
 * @token: the relay's bearer token
 */
IovRelayClient *
iov_relay_client_new (const char  *url,
                      const char  *token,
                      GError     **error)
{
  g_autoptr(IovRelayClient) self = NULL;
  g_autoptr(GUri) uri = NULL;
  const char *path, *ca;
  g_autofree char *vm = NULL;

  g_return_val_if_fail (url != NULL, NULL);
  g_return_val_if_fail (token != NULL, NULL);

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || !iov_relay_is_url (url) || g_uri_get_host (uri) == NULL ||
      g_uri_get_query (uri) != NULL || g_uri_get_userinfo (uri) != NULL)
    goto bad;
  path = g_uri_get_path (uri);
  while (*path == '/')
    path++;
  vm = g_strdup (path);
  if (*vm == '\0' || strchr (vm, '/') != NULL)
    goto bad;

  self = g_object_new (IOV_TYPE_RELAY_CLIENT, NULL);
  self->vm = g_steal_pointer (&vm);
  self->token = g_strdup (token);
  {
    const char *host = g_uri_get_host (uri);
    gboolean v6 = strchr (host, ':') != NULL;
    int port = g_uri_get_port (uri);

    if (port < 0)
      port = g_str_equal (g_uri_get_scheme (uri), "https") ? 443 : 80;
    self->base_url = g_strdup_printf ("%s://%s%s%s:%d", g_uri_get_scheme (uri),
                                      v6 ? "[" : "", host, v6 ? "]" : "", port);
  }
  self->session = soup_session_new_with_options ("timeout", 60, "idle-timeout", 60,
                                                 "user-agent", PACKAGE_NAME "/" PACKAGE_VERSION, NULL);
  ca = g_getenv ("IOVISTA_TLS_CA");
  if (ca != NULL && *ca != '\0' && !iov_relay_client_set_ca_file (self, ca, error))
    return NULL;
  return g_steal_pointer (&self);

bad:
  g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_URL,
               _("“%s” is not a relay address: use http(s)://HOST:PORT/VM"), url);
  return NULL;
}

const char *
iov_relay_client_get_base_url (IovRelayClient *self)
{
  g_return_val_if_fail (IOV_IS_RELAY_CLIENT (self), NULL);
  return self->base_url;
}

const char *
iov_relay_client_get_vm (IovRelayClient *self)
{
  g_return_val_if_fail (IOV_IS_RELAY_CLIENT (self), NULL);
  return self->vm;
}

/**
 * iov_relay_client_set_ca_file:
 *
 * Trusts the certificates in @ca_file (PEM) instead of the system's, e.g.
 * a relay's self-signed certificate.
 */
gboolean
iov_relay_client_set_ca_file (IovRelayClient  *self,
                              const char      *ca_file,
                              GError         **error)
{
  g_autoptr(GTlsDatabase) db = NULL;

  g_return_val_if_fail (IOV_IS_RELAY_CLIENT (self), FALSE);

  db = g_tls_file_database_new (ca_file, error);
  if (db == NULL)
    return FALSE;
  soup_session_set_tls_database (self->session, db);
  return TRUE;
}

/**
 * iov_relay_client_trust_certificate:
 *
 * Accepts the certificate whose SHA-256 fingerprint (hex, as the TLS error
 * prints it) is @sha256, whatever the system's trust says: the explicit
 * choice a user makes after comparing the fingerprint with the relay's.
 */
void
iov_relay_client_trust_certificate (IovRelayClient *self,
                                    const char     *sha256)
{
  g_return_if_fail (IOV_IS_RELAY_CLIENT (self));

  g_free (self->trusted_sha256);
  self->trusted_sha256 = g_ascii_strdown (sha256, -1);
}

static char *
certificate_sha256 (GTlsCertificate *cert)
{
  g_autoptr(GByteArray) der = NULL;

  if (cert == NULL)
    return NULL;
  g_object_get (cert, "certificate", &der, NULL);
  return der ? g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len) : NULL;
}

static gboolean
accept_certificate_cb (SoupMessage          *msg,
                       GTlsCertificate      *cert,
                       GTlsCertificateFlags  errors,
                       IovRelayClient       *self)
{
  g_autofree char *sha256 = certificate_sha256 (cert);

  return self->trusted_sha256 != NULL && g_strcmp0 (sha256, self->trusted_sha256) == 0;
}

static void
watch_certificate (IovRelayClient *self,
                   SoupMessage    *msg)
{
  g_signal_connect_object (msg, "accept-certificate", G_CALLBACK (accept_certificate_cb), self, 0);
}

/* ---- requests ----------------------------------------------------------- */

static void
got_body_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  IovRelayClient *self = g_task_get_source_object (task);
  SoupMessage *msg = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  guint status;
  gsize len = 0;
  const char *data;
  g_autofree char *reason = NULL;

  if (body == NULL && error->domain == G_TLS_ERROR)
    {
      g_autofree char *fingerprint = certificate_sha256 (soup_message_get_tls_peer_certificate (msg));
      g_task_return_new_error (task, IOV_RELAY_ERROR, IOV_RELAY_ERROR_TLS,
                               _("The relay at %s has a certificate this machine does not trust (%s; SHA-256 "
                                 "fingerprint %s). If that is the relay's certificate, set IOVISTA_TLS_CA to "
                                 "its PEM file"),
                               self->base_url, error->message, fingerprint ? fingerprint : "unknown");
      return;
    }
  if (body == NULL)
    {
      g_task_return_new_error (task, error->domain, error->code,
                               _("Cannot reach the relay at %s: %s"), self->base_url, error->message);
      return;
    }
  status = soup_message_get_status (msg);
  data = g_bytes_get_data (body, &len);
  if (status == SOUP_STATUS_OK)
    {
      g_task_return_pointer (task, g_strndup (data, len), g_free);
      return;
    }

  /* The relay explains itself in {"error": "…"}. */
  {
    g_autoptr(JsonParser) parser = json_parser_new ();

    if (len > 0 && json_parser_load_from_data (parser, data, (gssize) len, NULL) &&
        JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
      {
        JsonObject *o = json_node_get_object (json_parser_get_root (parser));

        reason = g_strdup (json_object_get_string_member_with_default (o, "error", NULL));
      }
  }
  if (reason == NULL)
    reason = g_strdup (soup_message_get_reason_phrase (msg));

  g_task_return_new_error (task, IOV_RELAY_ERROR,
                           status == SOUP_STATUS_UNAUTHORIZED ? IOV_RELAY_ERROR_UNAUTHORIZED :
                           status == SOUP_STATUS_NOT_FOUND ? IOV_RELAY_ERROR_NOT_FOUND :
                           (status == SOUP_STATUS_BAD_GATEWAY || status == SOUP_STATUS_SERVICE_UNAVAILABLE)
                             ? IOV_RELAY_ERROR_UNAVAILABLE : IOV_RELAY_ERROR_HTTP,
                           _("The relay at %s answered %u: %s"), self->base_url, status,
                           reason ? reason : "");
}

/* GET, or POST with @json as the body. */
static void
relay_request (IovRelayClient      *self,
               const char          *path_and_query,
               const char          *json,
               gpointer             source_tag,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autofree char *url = g_strconcat (self->base_url, path_and_query, NULL);
  g_autofree char *auth = g_strconcat ("Bearer ", self->token, NULL);
  SoupMessage *msg;

  g_task_set_source_tag (task, source_tag);
  msg = soup_message_new (json != NULL ? "POST" : "GET", url);
  if (msg == NULL)
    {
      g_task_return_new_error (task, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_URL,
                               _("“%s” is not a relay address: use http(s)://HOST:PORT/VM"), url);
      return;
    }
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
  if (json != NULL)
    {
      g_autoptr(GBytes) body = g_bytes_new (json, strlen (json));

      soup_message_set_request_body_from_bytes (msg, "application/json", body);
    }
  watch_certificate (self, msg);
  g_task_set_task_data (task, msg, g_object_unref);
  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT, cancellable,
                                    got_body_cb, g_steal_pointer (&task));
}

static void
relay_get (IovRelayClient      *self,
           const char          *path_and_query,
           gpointer             source_tag,
           GCancellable        *cancellable,
           GAsyncReadyCallback  callback,
           gpointer             user_data)
{
  relay_request (self, path_and_query, NULL, source_tag, cancellable, callback, user_data);
}

void
iov_relay_client_set_trace_preset_async (IovRelayClient      *self,
                                         const char          *preset,
                                         gboolean             enable,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GString) json = g_string_new ("{\"preset\": ");

  g_return_if_fail (IOV_IS_RELAY_CLIENT (self));
  g_return_if_fail (preset != NULL);

  escaped = g_uri_escape_string (self->vm, NULL, FALSE);
  path = g_strdup_printf ("/api/v1/vms/%s/trace", escaped);
  iov_json_append_string (json, preset, strlen (preset));
  g_string_append_printf (json, ", \"enable\": %s}", enable ? "true" : "false");
  relay_request (self, path, json->str, iov_relay_client_set_trace_preset_async, cancellable, callback,
                 user_data);
}

JsonNode *
iov_relay_client_set_trace_preset_finish (IovRelayClient  *self,
                                          GAsyncResult    *result,
                                          GError         **error)
{
  return iov_relay_client_list_vms_finish (self, result, error);
}

void
iov_relay_client_get_snapshot_async (IovRelayClient      *self,
                                     gboolean             raw,
                                     gboolean             pretty,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  g_return_if_fail (IOV_IS_RELAY_CLIENT (self));

  escaped = g_uri_escape_string (self->vm, NULL, FALSE);
  path = g_strdup_printf ("/api/v1/vms/%s/snapshot?raw=%d&pretty=%d", escaped, !!raw, !!pretty);
  relay_get (self, path, iov_relay_client_get_snapshot_async, cancellable, callback, user_data);
}

/**
 * iov_relay_client_get_snapshot_finish:
 *
 * Returns: (transfer full): the snapshot JSON text as the relay sent it,
 *   the same text `iovista-cli snapshot` prints for a local VM.
 */
char *
iov_relay_client_get_snapshot_finish (IovRelayClient  *self,
                                      GAsyncResult    *result,
                                      GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
iov_relay_client_list_vms_async (IovRelayClient      *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (IOV_IS_RELAY_CLIENT (self));
  relay_get (self, "/api/v1/vms", iov_relay_client_list_vms_async, cancellable, callback, user_data);
}

JsonNode *
iov_relay_client_list_vms_finish (IovRelayClient  *self,
                                  GAsyncResult    *result,
                                  GError         **error)
{
  g_autofree char *text = NULL;
  g_autoptr(JsonParser) parser = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  text = g_task_propagate_pointer (G_TASK (result), error);
  if (text == NULL)
    return NULL;
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, -1, error))
    return NULL;
  return json_node_copy (json_parser_get_root (parser));
}

/* ---- events ------------------------------------------------------------- */

static void
websocket_connected_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  IovRelayClient *self = g_task_get_source_object (task);
  SoupMessage *msg = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *conn;

  conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (conn != NULL)
    {
      /* the relay bounds what a client sends; what it sends us is bounded
       * by its batches (256 kB), far below this */
      soup_websocket_connection_set_max_incoming_payload_size (conn, 16 * 1024 * 1024);
      g_task_return_pointer (task, conn, g_object_unref);
      return;
    }
  switch (soup_message_get_status (msg))
    {
    case SOUP_STATUS_UNAUTHORIZED:
      g_task_return_new_error (task, IOV_RELAY_ERROR, IOV_RELAY_ERROR_UNAUTHORIZED,
                               _("The relay at %s refused the token"), self->base_url);
      break;
    case SOUP_STATUS_NOT_FOUND:
      g_task_return_new_error (task, IOV_RELAY_ERROR, IOV_RELAY_ERROR_NOT_FOUND,
                               _("The relay at %s has no VM “%s”"), self->base_url, self->vm);
      break;
    case SOUP_STATUS_SERVICE_UNAVAILABLE:
      g_task_return_new_error (task, IOV_RELAY_ERROR, IOV_RELAY_ERROR_UNAVAILABLE,
                               _("The relay at %s has too many clients"), self->base_url);
      break;
    default:
      g_task_return_new_error (task, error->domain, error->code,
                               _("Cannot watch %s at %s: %s"), self->vm, self->base_url, error->message);
      break;
    }
}

void
iov_relay_client_connect_events_async (IovRelayClient      *self,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *url = NULL;
  g_autofree char *auth = NULL;
  SoupMessage *msg;

  g_return_if_fail (IOV_IS_RELAY_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, iov_relay_client_connect_events_async);
  escaped = g_uri_escape_string (self->vm, NULL, FALSE);
  url = g_strdup_printf ("%s/api/v1/vms/%s/events", self->base_url, escaped);
  auth = g_strconcat ("Bearer ", self->token, NULL);
  msg = soup_message_new ("GET", url);
  if (msg == NULL)
    {
      g_task_return_new_error (task, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_URL,
                               _("“%s” is not a relay address: use http(s)://HOST:PORT/VM"), url);
      return;
    }
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
  watch_certificate (self, msg);
  g_task_set_task_data (task, g_object_ref (msg), g_object_unref);
  soup_session_websocket_connect_async (self->session, msg, NULL, NULL, G_PRIORITY_DEFAULT, cancellable,
                                        websocket_connected_cb, g_steal_pointer (&task));
  g_object_unref (msg);
}

/**
 * iov_relay_client_connect_events_finish:
 *
 * Returns: (transfer full): a SoupWebsocketConnection
 */
GObject *
iov_relay_client_connect_events_finish (IovRelayClient  *self,
                                        GAsyncResult    *result,
                                        GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
