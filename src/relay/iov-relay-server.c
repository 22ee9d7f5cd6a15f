/* iov-relay-server.c
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

/* An HTTP + WebSocket server in front of local VMs.  Each VM has one
 * IovSession (its QMP client sends the allow-listed read-only commands,
 * plus trace-event-set-state on an explicit POST; the session polls,
 * reconnects and says what changed) and optionally one trace reader.
 * Trace lines are decoded once and the same JSON batch goes to every
 * client.
 *
 * Slow clients: we know how many bytes we handed libsoup for a client and,
 * through a counting stream under the WebSocket connection, how many it has
 * written to the socket.  The difference is that client's queue; a message
 * that would make it exceed the limit is dropped and counted, and the
 * counts are reported in the client's own stream.  Nothing ever waits for a
 * client, so QEMU and the other clients never notice a slow one.
 *
 * This file has the object and its lifecycle; iov-relay-server-private.h
 * lists the files that have the rest. */

G_DEFINE_FINAL_TYPE (IovRelayServer, iov_relay_server, G_TYPE_OBJECT)

static void
weak_ref_free (GWeakRef *ref)
{
  g_weak_ref_clear (ref);
  g_free (ref);
}

static void
iov_relay_server_dispose (GObject *object)
{
  IovRelayServer *self = IOV_RELAY_SERVER (object);

  iov_relay_server_stop (self);
  g_clear_object (&self->certificate);
  G_OBJECT_CLASS (iov_relay_server_parent_class)->dispose (object);
}

static void
iov_relay_server_finalize (GObject *object)
{
  IovRelayServer *self = IOV_RELAY_SERVER (object);

  if (self->token)
    memset (self->token, 0, strlen (self->token));
  g_free (self->token);
  g_free (self->url);
  g_clear_pointer (&self->vms, g_ptr_array_unref);
  g_clear_pointer (&self->buckets, g_hash_table_unref);
  g_clear_pointer (&self->connections, g_ptr_array_unref);
  g_clear_pointer (&self->catalog, iov_trace_catalog_free);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (iov_relay_server_parent_class)->finalize (object);
}

static void
iov_relay_server_class_init (IovRelayServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = iov_relay_server_dispose;
  object_class->finalize = iov_relay_server_finalize;
}

static void
iov_relay_server_init (IovRelayServer *self)
{
  self->vms = g_ptr_array_new_with_free_func ((GDestroyNotify) _iov_relay_vm_free);
  self->buckets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->connections = g_ptr_array_new_with_free_func ((GDestroyNotify) weak_ref_free);
  self->cancellable = g_cancellable_new ();
  iov_relay_server_set_limits (self, NULL);
}

/**
 * iov_relay_server_new:
 * @token: the bearer token every request must present
 */
IovRelayServer *
iov_relay_server_new (const char *token)
{
  IovRelayServer *self;

  g_return_val_if_fail (token != NULL && *token != '\0', NULL);

  self = g_object_new (IOV_TYPE_RELAY_SERVER, NULL);
  self->token = g_strdup (token);
  return self;
}

void
iov_relay_server_set_limits (IovRelayServer       *self,
                             const IovRelayLimits *limits)
{
  IovRelayLimits l = { 0 };

  g_return_if_fail (IOV_IS_RELAY_SERVER (self));

  if (limits)
    l = *limits;
  if (l.max_clients == 0)
    l.max_clients = IOV_RELAY_DEFAULT_MAX_CLIENTS;
  if (l.max_message_bytes == 0)
    l.max_message_bytes = IOV_RELAY_DEFAULT_MAX_MESSAGE_BYTES;
  if (l.client_queue_bytes == 0)
    l.client_queue_bytes = IOV_RELAY_DEFAULT_CLIENT_QUEUE_BYTES;
  if (l.requests_per_second <= 0)
    l.requests_per_second = IOV_RELAY_DEFAULT_REQUESTS_PER_SEC;
  if (l.poll_interval_ms == 0)
    l.poll_interval_ms = IOV_RELAY_DEFAULT_POLL_INTERVAL_MS;
  if (l.batch_interval_ms == 0)
    l.batch_interval_ms = IOV_RELAY_DEFAULT_BATCH_INTERVAL_MS;
  if (l.max_connections == 0)
    l.max_connections = IOV_RELAY_DEFAULT_MAX_CONNECTIONS;
  if (l.idle_timeout_s == 0)
    l.idle_timeout_s = IOV_RELAY_DEFAULT_IDLE_TIMEOUT_S;
  /* keepalive pings must come well within the idle timeout */
  l.keepalive_s = MAX (1, l.idle_timeout_s / 3);
  self->limits = l;
}

/**
 * iov_relay_parse_listen:
 * @listen: "HOST:PORT" or "[IPv6]:PORT"; HOST is an address or "localhost"
 */
gboolean
iov_relay_parse_listen (const char    *listen,
                        GInetAddress **address,
                        guint16       *port,
                        GError       **error)
{
  const char *colon;
  g_autofree char *host = NULL;
  guint64 p = 0;
  GInetAddress *addr;

  g_return_val_if_fail (listen != NULL, FALSE);

  colon = strrchr (listen, ':');
  if (colon == NULL || colon == listen ||
      !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &p, NULL))
    goto bad;
  host = g_strndup (listen, colon - listen);
  if (host[0] == '[' && host[strlen (host) - 1] == ']')
    {
      char *inner = g_strndup (host + 1, strlen (host) - 2);

      g_free (host);
      host = inner;
    }
  if (g_str_equal (host, "localhost"))
    addr = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  else
    addr = g_inet_address_new_from_string (host);
  if (addr == NULL)
    goto bad;
  *address = addr;
  *port = (guint16) p;
  return TRUE;

bad:
  g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_CONFIG,
               _("“%s” is not a listening address: use ADDRESS:PORT, e.g. 127.0.0.1:7878 or [::1]:7878"),
               listen);
  return FALSE;
}

gboolean
iov_relay_server_listen (IovRelayServer  *self,
                         const char      *listen,
                         gboolean         insecure,
                         GError         **error)
{
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(GSocketAddress) sockaddr = NULL;
  g_autoptr(GSocketAddress) effective = NULL;
  guint16 port = 0;
  gboolean loopback;

  g_return_val_if_fail (IOV_IS_RELAY_SERVER (self), FALSE);
  g_return_val_if_fail (self->soup == NULL, FALSE);

  if (!iov_relay_parse_listen (listen, &address, &port, error))
    return FALSE;
  loopback = g_inet_address_get_is_loopback (address);
  if (!loopback && self->certificate == NULL)
    {
      if (!insecure)
        {
          g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_BAD_CONFIG,
                       _("%s is not a loopback address: serving it needs --tls-cert and --tls-key "
                         "(or --insecure to send tokens and data in clear text)"), listen);
          return FALSE;
        }
      g_warning ("listening on %s without TLS (--insecure): the token and all data cross the network in clear text",
                 listen);
    }

  self->soup = soup_server_new ("server-header", PACKAGE_NAME "-relay/" PACKAGE_VERSION, NULL);
  soup_server_add_early_handler (self->soup, NULL, _iov_relay_server_early_handler, self, NULL);
  soup_server_add_handler (self->soup, NULL, _iov_relay_server_handler, self, NULL);

  sockaddr = g_inet_socket_address_new (address, port);
  self->service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), sockaddr, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &effective, error))
    {
      g_clear_object (&self->service);
      g_clear_object (&self->soup);
      return FALSE;
    }
  g_signal_connect (self->service, "incoming", G_CALLBACK (_iov_relay_server_on_incoming), self);
  g_socket_service_start (self->service);

  {
    g_autofree char *host = g_inet_address_to_string (address);
    gboolean v6 = g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6;

    self->url = g_strdup_printf ("%s://%s%s%s:%u", self->certificate ? "https" : "http",
                                 v6 ? "[" : "", host, v6 ? "]" : "",
                                 g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));
  }

  for (guint i = 0; i < self->vms->len; i++)
    _iov_relay_vm_start (g_ptr_array_index (self->vms, i));
  self->drops_id = g_timeout_add_seconds (1, _iov_relay_server_drops_cb, self);
  self->started = TRUE;
  return TRUE;
}

/**
 * iov_relay_server_get_url:
 *
 * Returns: (transfer full) (nullable): "http://127.0.0.1:PORT" with the
 *   port really bound, once listening.
 */
char *
iov_relay_server_get_url (IovRelayServer *self)
{
  g_return_val_if_fail (IOV_IS_RELAY_SERVER (self), NULL);

  return g_strdup (self->url);
}

void
iov_relay_server_stop (IovRelayServer *self)
{
  g_return_if_fail (IOV_IS_RELAY_SERVER (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->drops_id, g_source_remove);
  if (self->service)
    {
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
      g_signal_handlers_disconnect_by_data (self->service, self);
    }
  g_clear_object (&self->service);
  if (self->vms)
    g_ptr_array_set_size (self->vms, 0);
  if (self->soup)
    soup_server_disconnect (self->soup);
  g_clear_object (&self->soup);
}
