/* iov-relay-server-access.c
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

#define G_LOG_DOMAIN "iov-relay"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "iov-relay-server-private.h"

/* Who gets in, and how far, before any handler runs: the number of
 * connections and their idle timeout, TLS, requests per second per host,
 * the token, and the size of request bodies (docs/relay.md, "Security"). */

typedef struct
{
  double tokens;
  gint64 last_us;
} RateBucket;

static gboolean
rate_allow (IovRelayServer *self,
            const char     *host)
{
  RateBucket *bucket;
  gint64 now = g_get_monotonic_time ();
  double rate = self->limits.requests_per_second;
  double burst = 2 * rate;

  if (host == NULL)
    host = "?";
  bucket = g_hash_table_lookup (self->buckets, host);
  if (bucket == NULL)
    {
      /* Forget idle hosts so the table stays small. */
      if (g_hash_table_size (self->buckets) > 4096)
        g_hash_table_remove_all (self->buckets);
      bucket = g_new0 (RateBucket, 1);
      bucket->tokens = burst;
      bucket->last_us = now;
      g_hash_table_insert (self->buckets, g_strdup (host), bucket);
    }
  bucket->tokens = MIN (burst, bucket->tokens + (now - bucket->last_us) / 1e6 * rate);
  bucket->last_us = now;
  if (bucket->tokens < 1.0)
    return FALSE;
  bucket->tokens -= 1.0;
  return TRUE;
}

typedef struct
{
  GIOStream *io;
  GBytes    *data;
} Rejection;

static void
rejection_closed_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Rejection *r = user_data;

  g_io_stream_close_finish (G_IO_STREAM (source), result, NULL);
  g_object_unref (r->io);
  g_bytes_unref (r->data);
  g_free (r);
}

static void
rejection_written_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  Rejection *r = user_data;

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  g_io_stream_close_async (r->io, G_PRIORITY_DEFAULT, NULL, rejection_closed_cb, r);
}

/* Refuses a request before its body is read.  libsoup would read (and
 * keep) the whole body before sending any answer, so when one is announced
 * we take the connection over, answer and close it. */
static void
reject (SoupServerMessage *msg,
        guint              status,
        const char        *reason,
        const char        *message,
        const char        *extra_header)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);
  g_autoptr(GString) body = NULL;
  GString *out;
  Rejection *r;

  if (encoding == SOUP_ENCODING_NONE ||
      (encoding == SOUP_ENCODING_CONTENT_LENGTH && soup_message_headers_get_content_length (headers) == 0))
    {
      if (extra_header)
        {
          g_auto(GStrv) kv = g_strsplit (extra_header, ": ", 2);

          soup_message_headers_replace (soup_server_message_get_response_headers (msg), kv[0], kv[1]);
        }
      _iov_relay_respond_error (msg, status, message);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
      return;
    }

  body = g_string_new (NULL);
  iov_relay_append_http_error (body, status, message);
  out = g_string_new (NULL);
  g_string_append_printf (out, "HTTP/1.1 %u %s\r\nServer: %s-relay/%s\r\nContent-Type: application/json\r\n"
                          "Content-Length: %" G_GSIZE_FORMAT "\r\nConnection: close\r\n%s%s\r\n%s",
                          status, reason, PACKAGE_NAME, PACKAGE_VERSION, body->len,
                          extra_header ? extra_header : "", extra_header ? "\r\n" : "", body->str);
  r = g_new0 (Rejection, 1);
  r->io = soup_server_message_steal_connection (msg);
  r->data = g_string_free_to_bytes (out);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (r->io),
                                   g_bytes_get_data (r->data, NULL), g_bytes_get_size (r->data),
                                   G_PRIORITY_DEFAULT, NULL, rejection_written_cb, r);
}

/* Before the body is read: rate, token, size. */
void
_iov_relay_server_early_handler (SoupServer        *soup,
                                 SoupServerMessage *msg,
                                 const char        *path,
                                 GHashTable        *query,
                                 gpointer           user_data)
{
  IovRelayServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *host = soup_server_message_get_remote_host (msg);
  const char *auth = soup_message_headers_get_one (headers, "Authorization");
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);

  if (!rate_allow (self, host))
    {
      g_message ("%s %s from %s: 429, over %.0f requests per second",
                 soup_server_message_get_method (msg), path, host, self->limits.requests_per_second);
      reject (msg, STATUS_TOO_MANY_REQUESTS, "Too Many Requests",
              _("Too many requests; retry in a second"), "Retry-After: 1");
      return;
    }
  if (auth == NULL || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0 ||
      !iov_relay_token_equal (auth + 7, self->token))
    {
      g_message ("%s %s from %s: 401, %s", soup_server_message_get_method (msg), path, host,
                 auth ? "wrong token" : "no token");
      reject (msg, SOUP_STATUS_UNAUTHORIZED, "Unauthorized",
              auth ? _("Wrong token") : _("Missing “Authorization: Bearer TOKEN” header"),
              "WWW-Authenticate: Bearer realm=\"iovista-relay\"");
      return;
    }
  if (encoding == SOUP_ENCODING_CHUNKED || encoding == SOUP_ENCODING_EOF ||
      (encoding == SOUP_ENCODING_CONTENT_LENGTH &&
       soup_message_headers_get_content_length (headers) > self->limits.max_message_bytes))
    {
      g_message ("%s %s from %s: 413", soup_server_message_get_method (msg), path, host);
      reject (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "Payload Too Large",
              _("Request body too large or without a length"), NULL);
      return;
    }
}

/* Drops connections that are gone or closed; returns how many remain. */
static guint
prune_connections (IovRelayServer *self)
{
  for (guint i = self->connections->len; i > 0; i--)
    {
      g_autoptr(GSocket) socket = g_weak_ref_get (g_ptr_array_index (self->connections, i - 1));

      if (socket == NULL || g_socket_is_closed (socket))
        g_ptr_array_remove_index_fast (self->connections, i - 1);
    }
  return self->connections->len;
}

/* We accept connections ourselves, not libsoup's listener, to bound how
 * many there are and how long one may stay silent (slowloris, fd
 * exhaustion); then libsoup serves them.  WebSocket clients stay within
 * the idle timeout by answering the relay's keepalive pings. */
gboolean
_iov_relay_server_on_incoming (GSocketService    *service,
                               GSocketConnection *connection,
                               GObject           *source_object,
                               IovRelayServer    *self)
{
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address (connection, NULL);
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  GSocket *socket = g_socket_connection_get_socket (connection);
  GWeakRef *ref;

  if (prune_connections (self) >= self->limits.max_connections)
    {
      g_autofree char *peer = NULL;

      if (G_IS_INET_SOCKET_ADDRESS (remote))
        peer = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
      g_message ("refusing a connection from %s: %u connections open", peer ? peer : "?",
                 self->connections->len);
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return TRUE;
    }
  g_socket_set_timeout (socket, self->limits.idle_timeout_s);

  if (self->certificate)
    {
      stream = g_tls_server_connection_new (G_IO_STREAM (connection), self->certificate, &error);
      if (stream == NULL)
        {
          g_message ("TLS: %s", error->message);
          g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
          return TRUE;
        }
    }
  else
    stream = g_object_ref (G_IO_STREAM (connection));

  if (!soup_server_accept_iostream (self->soup, stream, local, remote, &error))
    {
      g_message ("cannot serve a connection: %s", error->message);
      g_io_stream_close (stream, NULL, NULL);
      return TRUE;
    }
  ref = g_new0 (GWeakRef, 1);
  g_weak_ref_init (ref, socket);
  g_ptr_array_add (self->connections, ref);
  return TRUE;
}

gboolean
iov_relay_server_set_tls_files (IovRelayServer  *self,
                                const char      *cert_file,
                                const char      *key_file,
                                GError         **error)
{
  g_autoptr(GTlsCertificate) cert = NULL;

  g_return_val_if_fail (IOV_IS_RELAY_SERVER (self), FALSE);

  if (cert_file == NULL || key_file == NULL)
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_CONFIG,
                   _("TLS needs both --tls-cert and --tls-key"));
      return FALSE;
    }
  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_CONFIG,
                   _("This GLib has no TLS backend; install glib-networking"));
      return FALSE;
    }
  cert = g_tls_certificate_new_from_files (cert_file, key_file, error);
  if (cert == NULL)
    return FALSE;
  g_set_object (&self->certificate, cert);
  return TRUE;
}
