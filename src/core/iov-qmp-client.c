/* iov-qmp-client.c
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

#define G_LOG_DOMAIN "iov-qmp-client"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "iov-json.h"
#include "iov-qmp-client.h"
#include "iov-qmp-policy.h"

/* An asynchronous QMP client on GIO. One JSON object per line ("\r\n"),
 * commands tagged with an integer "id", replies matched by it, events
 * emitted as a signal. The allow-list below is checked before a command
 * is serialised: Iovista never sends QEMU anything that changes it. */

#define GREETING_TIMEOUT_MS 5000
#define READ_CHUNK          (64 * 1024)
/* The longest line a peer may send. QEMU's longest replies are a few MiB
 * (query-qmp-schema of 11.1: 0.3 MiB; info mtree -f of a big guest): a
 * peer that sends more without a newline is not QEMU, and would otherwise
 * grow the buffer until the machine runs out of memory. */
#define MAX_LINE            (64 * 1024 * 1024)
#define RECONNECT_FIRST_MS  100
#define RECONNECT_MAX_MS    1000

struct _IovQmpClient
{
  GObject             parent_instance;

  GSocketConnectable *connectable;   /* NULL for a client on a given stream */
  char               *address;       /* for messages: "unix:/path", "tcp:host:port" */
  GIOStream          *stream;
  GInputStream       *input;         /* the stream's, read in chunks */
  GByteArray         *inbuf;         /* what was read and not yet handled: a line's start */
  gsize               scanned;       /* bytes of inbuf known to hold no newline */
  GOutputStream      *output;
  GCancellable       *io_cancellable;

  GQueue              write_queue;   /* GBytes */
  gboolean            writing;

  GHashTable         *pending;       /* id → Pending */
  GQueue              pending_order; /* Pending, oldest first */
  gint64              next_id;

  GTask              *connect_task;
  guint               greeting_timeout_id;
  gboolean            greeted;

  char               *version;
  char               *package;
  guint               major, minor, micro;
  IovQmpPolicy       *policy;        /* from the greeting: what this release may be sent */
  guint               n_garbage;
  guint               n_garbage_at_reply; /* n_garbage at the last reply */

  /* A peer that stops answering (SIGSTOPped, hung, or not QEMU at all)
   * must not hold a caller forever: while commands are in flight, a reply
   * is due within reply_timeout_ms of the previous one (or of the first
   * command sent to an idle connection). Garbage and events are not
   * progress: a peer could send them forever without answering. */
  guint               reply_timeout_ms;
  guint               reply_timeout_id;
  gint64              last_progress_us;   /* monotonic */

  IovQmpState         state;
  gboolean            auto_reconnect;
  guint               reconnect_id;
  guint               reconnect_delay_ms;
};

typedef struct
{
  gint64  id;
  char   *command;
  GTask  *task;
} Pending;

enum {
  PROP_0,
  PROP_STATE,
  N_PROPS
};

enum {
  SIGNAL_EVENT,
  SIGNAL_CONNECTED,
  SIGNAL_DISCONNECTED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_QUARK (iov-qmp-error-quark, iov_qmp_error)
G_DEFINE_FINAL_TYPE (IovQmpClient, iov_qmp_client, G_TYPE_OBJECT)

static void iov_qmp_client_read_next (IovQmpClient *self);
static void iov_qmp_client_start_connect (IovQmpClient *self);
static void iov_qmp_client_send (IovQmpClient *self, const char *command, JsonNode *arguments, GTask *task);
static void arm_reply_timeout (IovQmpClient *self);

static void
pending_free (Pending *p)
{
  g_free (p->command);
  g_clear_object (&p->task);
  g_free (p);
}

/* ---- the allow-list ---------------------------------------------------- */

static gboolean
hmp_command_is_allowed (const char *line)
{
  g_auto(GStrv) words = NULL;
  guint n;

  if (line == NULL)
    return FALSE;
  for (const char *p = line; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != ' ' && *p != '-')
      return FALSE;

  words = g_strsplit_set (line, " ", -1);
  /* drop empty words from repeated spaces */
  n = 0;
  for (guint i = 0; words[i]; i++)
    if (words[i][0] != '\0')
      words[n++] = words[i];
    else
      g_free (words[i]);
  words[n] = NULL;

  if (n < 2 || !g_str_equal (words[0], "info"))
    return FALSE;
  if (g_str_equal (words[1], "pci") || g_str_equal (words[1], "qtree") || g_str_equal (words[1], "network"))
    return n == 2;
  if (g_str_equal (words[1], "mtree"))
    {
      for (guint i = 2; i < n; i++)
        if (!g_str_equal (words[i], "-f") && !g_str_equal (words[i], "-d") &&
            !g_str_equal (words[i], "-o") && !g_str_equal (words[i], "-D"))
          return FALSE;
      return TRUE;
    }
  return FALSE;
}

/**
 * iov_qmp_command_is_allowed:
 *
 * The read-only allow-list. Every command goes through here before it is
 * written to the socket.
 */
gboolean
iov_qmp_command_is_allowed (const char  *command,
                            JsonNode    *arguments,
                            GError     **error)
{
  static const char *exact[] = {
    "qmp_capabilities", "x-query-virtio-status", "qom-list",
    "qom-get", "device-list-properties", "trace-event-get-state",
    "trace-event-set-state",
  };

  if (command == NULL)
    {
      g_set_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_ALLOWED, _("Refused to send a command without a name"));
      return FALSE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (exact); i++)
    if (g_str_equal (command, exact[i]))
      return TRUE;

  if (g_str_has_prefix (command, "query-") && command[6] != '\0')
    {
      for (const char *p = command; *p; p++)
        if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
          goto refuse;
      return TRUE;
    }

  if (g_str_equal (command, "human-monitor-command"))
    {
      JsonObject *args = (arguments && JSON_NODE_HOLDS_OBJECT (arguments)) ? json_node_get_object (arguments) : NULL;
      const char *line = NULL;

      if (args && json_object_has_member (args, "command-line"))
        {
          JsonNode *n = json_object_get_member (args, "command-line");

          if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
            line = json_node_get_string (n);
        }
      if (hmp_command_is_allowed (line))
        return TRUE;
      g_set_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_ALLOWED,
                   _("Refused to send the monitor command “%s”: Iovista only sends read-only commands"),
                   line ? line : "");
      return FALSE;
    }

refuse:
  g_set_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_ALLOWED,
               _("Refused to send “%s”: Iovista only sends read-only QMP commands"), command);
  return FALSE;
}

/* ---- addresses --------------------------------------------------------- */

GSocketConnectable *
iov_qmp_parse_address (const char  *address,
                       char       **display,
                       GError     **error)
{
  g_return_val_if_fail (address != NULL, NULL);

  if (g_str_has_prefix (address, "tcp:"))
    {
      const char *hp = address + 4;
      const char *colon = strrchr (hp, ':');
      guint64 port = 0;
      g_autofree char *host = NULL;

      if (colon == NULL || colon == hp ||
          !g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
        {
          g_set_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_BAD_ADDRESS,
                       _("“%s” is not a QMP address: use tcp:HOST:PORT"), address);
          return NULL;
        }
      host = g_strndup (hp, colon - hp);
      if (host[0] == '[' && host[strlen (host) - 1] == ']')
        {
          char *inner = g_strndup (host + 1, strlen (host) - 2);
          g_free (host);
          host = inner;
        }
      if (display)
        *display = g_strdup (address);
      return g_network_address_new (host, (guint16) port);
    }
  else
    {
      const char *path = g_str_has_prefix (address, "unix:") ? address + 5 : address;

      if (*path == '\0' || (strchr (address, ':') != NULL && !g_str_has_prefix (address, "unix:")))
        {
          g_set_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_BAD_ADDRESS,
                       _("“%s” is not a QMP address: use unix:PATH, a path, or tcp:HOST:PORT"), address);
          return NULL;
        }
      if (display)
        *display = g_strconcat ("unix:", path, NULL);
      return G_SOCKET_CONNECTABLE (g_unix_socket_address_new (path));
    }
}

/* ---- object ------------------------------------------------------------ */

static void
set_state (IovQmpClient *self,
           IovQmpState   state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
iov_qmp_client_dispose (GObject *object)
{
  IovQmpClient *self = IOV_QMP_CLIENT (object);

  self->auto_reconnect = FALSE;
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  g_clear_handle_id (&self->greeting_timeout_id, g_source_remove);
  g_clear_handle_id (&self->reply_timeout_id, g_source_remove);
  if (self->io_cancellable)
    g_cancellable_cancel (self->io_cancellable);
  g_clear_object (&self->io_cancellable);
  g_clear_object (&self->input);
  g_clear_pointer (&self->inbuf, g_byte_array_unref);
  self->scanned = 0;
  g_clear_object (&self->output);
  if (self->stream)
    g_io_stream_close (self->stream, NULL, NULL);
  g_clear_object (&self->stream);
  g_queue_clear_full (&self->write_queue, (GDestroyNotify) g_bytes_unref);
  g_queue_clear (&self->pending_order);
  g_clear_pointer (&self->pending, g_hash_table_unref);
  g_clear_object (&self->connect_task);
  g_clear_object (&self->connectable);

  G_OBJECT_CLASS (iov_qmp_client_parent_class)->dispose (object);
}

static void
iov_qmp_client_finalize (GObject *object)
{
  IovQmpClient *self = IOV_QMP_CLIENT (object);

  g_free (self->address);
  g_free (self->version);
  g_free (self->package);
  g_clear_pointer (&self->policy, iov_qmp_policy_free);

  G_OBJECT_CLASS (iov_qmp_client_parent_class)->finalize (object);
}

static void
iov_qmp_client_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  IovQmpClient *self = IOV_QMP_CLIENT (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_uint (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
iov_qmp_client_class_init (IovQmpClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = iov_qmp_client_dispose;
  object_class->finalize = iov_qmp_client_finalize;
  object_class->get_property = iov_qmp_client_get_property;

  properties[PROP_STATE] =
    g_param_spec_uint ("state", NULL, NULL,
                       IOV_QMP_STATE_DISCONNECTED, IOV_QMP_STATE_CONNECTED, IOV_QMP_STATE_DISCONNECTED,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * IovQmpClient::event:
   * @name: the event name, e.g. "SHUTDOWN"
   * @data: (nullable): the event's "data" member
   * @timestamp_us: QEMU's timestamp in microseconds since the epoch, or -1
   */
  signals[SIGNAL_EVENT] =
    g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_STRING, JSON_TYPE_NODE, G_TYPE_INT64);
  signals[SIGNAL_CONNECTED] =
    g_signal_new ("connected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
  /**
   * IovQmpClient::disconnected:
   * @error: why
   */
  signals[SIGNAL_DISCONNECTED] =
    g_signal_new ("disconnected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
iov_qmp_client_init (IovQmpClient *self)
{
  self->pending = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, (GDestroyNotify) pending_free);
  g_queue_init (&self->pending_order);
  g_queue_init (&self->write_queue);
  self->next_id = 1;
  self->reconnect_delay_ms = RECONNECT_FIRST_MS;
  self->reply_timeout_ms = IOV_QMP_REPLY_TIMEOUT_MS;
}

IovQmpClient *
iov_qmp_client_new (const char  *address,
                    GError     **error)
{
  g_autoptr(IovQmpClient) self = NULL;
  g_autofree char *display = NULL;
  GSocketConnectable *connectable;

  g_return_val_if_fail (address != NULL, NULL);

  connectable = iov_qmp_parse_address (address, &display, error);
  if (connectable == NULL)
    return NULL;

  self = g_object_new (IOV_TYPE_QMP_CLIENT, NULL);
  self->connectable = connectable;
  self->address = g_steal_pointer (&display);
  return g_steal_pointer (&self);
}

IovQmpClient *
iov_qmp_client_new_for_stream (GIOStream *stream)
{
  IovQmpClient *self;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);

  self = g_object_new (IOV_TYPE_QMP_CLIENT, NULL);
  self->stream = g_object_ref (stream);
  self->address = g_strdup ("stream");
  return self;
}

/* ---- teardown ---------------------------------------------------------- */

static void
schedule_reconnect (IovQmpClient *self);

static void
iov_qmp_client_fail (IovQmpClient *self,
                     GError       *error)
{
  GList *pending;

  g_clear_handle_id (&self->greeting_timeout_id, g_source_remove);
  g_clear_handle_id (&self->reply_timeout_id, g_source_remove);
  if (self->io_cancellable)
    g_cancellable_cancel (self->io_cancellable);
  g_clear_object (&self->io_cancellable);
  g_clear_object (&self->input);
  g_clear_pointer (&self->inbuf, g_byte_array_unref);
  self->scanned = 0;
  g_clear_object (&self->output);
  if (self->stream)
    g_io_stream_close (self->stream, NULL, NULL);
  g_clear_object (&self->stream);
  g_queue_clear_full (&self->write_queue, (GDestroyNotify) g_bytes_unref);
  self->writing = FALSE;
  self->greeted = FALSE;

  /* Fail every command in flight, saying which one QEMU left unanswered. */
  pending = self->pending_order.head;
  self->pending_order.head = self->pending_order.tail = NULL;
  self->pending_order.length = 0;
  for (GList *l = pending; l; l = l->next)
    {
      Pending *p = l->data;
      GTask *task = g_steal_pointer (&p->task);

      if (error->domain == IOV_QMP_ERROR && error->code == IOV_QMP_ERROR_CLOSED)
        g_task_return_new_error (task, IOV_QMP_ERROR, IOV_QMP_ERROR_CLOSED,
                                 _("QEMU at %s closed the connection while running “%s”: it exited or crashed "
                                   "(an assertion failure closes the socket without a message; see QEMU's stderr)"),
                                 self->address, p->command);
      else
        g_task_return_error (task, g_error_copy (error));
      g_object_unref (task);
    }
  g_list_free (pending);
  g_hash_table_remove_all (self->pending);

  if (self->connect_task)
    {
      GTask *task = g_steal_pointer (&self->connect_task);

      g_task_return_error (task, g_error_copy (error));
      g_object_unref (task);
    }

  if (self->state != IOV_QMP_STATE_DISCONNECTED)
    {
      gboolean was_connected = self->state == IOV_QMP_STATE_CONNECTED;

      set_state (self, IOV_QMP_STATE_DISCONNECTED);
      if (was_connected)
        g_signal_emit (self, signals[SIGNAL_DISCONNECTED], 0, error);
    }

  schedule_reconnect (self);
  g_error_free (error);
}

void
iov_qmp_client_close (IovQmpClient *self)
{
  g_return_if_fail (IOV_IS_QMP_CLIENT (self));

  self->auto_reconnect = FALSE;
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  if (self->stream != NULL || self->state != IOV_QMP_STATE_DISCONNECTED)
    iov_qmp_client_fail (self, g_error_new (IOV_QMP_ERROR, IOV_QMP_ERROR_CLOSED,
                                            _("The connection to %s was closed"), self->address));
}

/* ---- writing ----------------------------------------------------------- */

static void write_next (IovQmpClient *self);

static void
write_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(IovQmpClient) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->output != (GOutputStream *) source)
        return;
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) && self->greeted)
        iov_qmp_client_fail (self, g_error_new (IOV_QMP_ERROR, IOV_QMP_ERROR_CLOSED,
                                                _("QEMU at %s closed the connection (it exited or crashed)"),
                                                self->address));
      else
        iov_qmp_client_fail (self, g_error_new (IOV_QMP_ERROR, IOV_QMP_ERROR_CLOSED,
                                                _("Cannot write to %s: %s"), self->address, error->message));
      return;
    }
  g_bytes_unref (g_queue_pop_head (&self->write_queue));
  self->writing = FALSE;
  write_next (self);
}

static void
write_next (IovQmpClient *self)
{
  GBytes *bytes;

  if (self->writing || self->output == NULL)
    return;
  bytes = g_queue_peek_head (&self->write_queue);
  if (bytes == NULL)
    return;
  self->writing = TRUE;
  g_output_stream_write_all_async (self->output,
                                   g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                   G_PRIORITY_DEFAULT, self->io_cancellable,
                                   write_cb, g_object_ref (self));
}

static void
iov_qmp_client_send (IovQmpClient *self,
                     const char   *command,
                     JsonNode     *arguments,
                     GTask        *task)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  Pending *p;
  char *text;
  gsize length;

  /* Second line of defence: nothing reaches the socket without passing
   * the allow-list and this release's policy here. */
  if (!iov_qmp_client_check (self, command, arguments, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  p = g_new0 (Pending, 1);
  p->id = self->next_id++;
  p->command = g_strdup (command);
  p->task = g_object_ref (task);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "execute");
  json_builder_add_string_value (builder, command);
  if (arguments != NULL)
    {
      json_builder_set_member_name (builder, "arguments");
      json_builder_add_value (builder, json_node_copy (arguments));
    }
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, p->id);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &length);
  text = g_realloc (text, length + 2);
  text[length++] = '\r';
  text[length++] = '\n';

  /* An idle connection's clock starts with its first command in flight */
  if (g_queue_is_empty (&self->pending_order))
    {
      self->last_progress_us = g_get_monotonic_time ();
      self->n_garbage_at_reply = self->n_garbage;
    }
  g_hash_table_insert (self->pending, &p->id, p);
  g_queue_push_tail (&self->pending_order, p);
  g_queue_push_tail (&self->write_queue, g_bytes_new_take (text, length));
  if (self->reply_timeout_id == 0)
    arm_reply_timeout (self);
  write_next (self);
}

/* ---- replies that do not come ------------------------------------------ */

static gboolean
reply_timeout_cb (gpointer user_data)
{
  IovQmpClient *self = user_data;
  Pending *oldest = g_queue_peek_head (&self->pending_order);
  gint64 due = self->last_progress_us + (gint64) self->reply_timeout_ms * 1000;
  guint garbage = self->n_garbage - self->n_garbage_at_reply;
  guint seconds = (self->reply_timeout_ms + 999) / 1000;
  GError *error;

  self->reply_timeout_id = 0;
  if (oldest == NULL)
    return G_SOURCE_REMOVE;
  if (g_get_monotonic_time () < due)
    {
      arm_reply_timeout (self);
      return G_SOURCE_REMOVE;
    }

  /* Replies may still come, but nobody can tell which state the peer is
   * in: give the connection up, as when it closes, and say which command
   * went unanswered. */
  if (garbage > 0)
    error = g_error_new (IOV_QMP_ERROR, IOV_QMP_ERROR_TIMED_OUT,
                         _("%s did not answer “%s” within %u s but sent what is not QMP (lines: %u): "
                           "is it QEMU's QMP socket? Gave the connection up"),
                         self->address, oldest->command, seconds, garbage);
  else
    error = g_error_new (IOV_QMP_ERROR, IOV_QMP_ERROR_TIMED_OUT,
                         _("QEMU at %s did not answer “%s” within %u s: it is stopped (SIGSTOP, a debugger) "
                           "or hung; gave the connection up"),
                         self->address, oldest->command, seconds);
  g_debug ("%s", error->message);
  iov_qmp_client_fail (self, error);
  return G_SOURCE_REMOVE;
}

static void
arm_reply_timeout (IovQmpClient *self)
{
  gint64 due, left_ms;

  g_clear_handle_id (&self->reply_timeout_id, g_source_remove);
  if (self->reply_timeout_ms == 0 || g_queue_is_empty (&self->pending_order))
    return;
  due = self->last_progress_us + (gint64) self->reply_timeout_ms * 1000;
  left_ms = MAX (0, (due - g_get_monotonic_time () + 999) / 1000);
  self->reply_timeout_id = g_timeout_add ((guint) left_ms, reply_timeout_cb, self);
}

/* ---- reading ----------------------------------------------------------- */

static GError *
error_from_qmp (JsonObject *err)
{
  const char *klass = iov_json_string (err, "class", "GenericError");
  const char *desc = iov_json_string (err, "desc", "");
  IovQmpError code = IOV_QMP_ERROR_COMMAND_FAILED;

  if (g_str_equal (klass, "GenericError"))
    code = IOV_QMP_ERROR_GENERIC_ERROR;
  else if (g_str_equal (klass, "CommandNotFound"))
    code = IOV_QMP_ERROR_COMMAND_NOT_FOUND;
  else if (g_str_equal (klass, "DeviceNotActive"))
    code = IOV_QMP_ERROR_DEVICE_NOT_ACTIVE;
  else if (g_str_equal (klass, "DeviceNotFound"))
    code = IOV_QMP_ERROR_DEVICE_NOT_FOUND;
  else if (g_str_equal (klass, "KVMMissingCap"))
    code = IOV_QMP_ERROR_KVM_MISSING_CAP;

  return g_error_new (IOV_QMP_ERROR, code, "%s: %s", klass, desc);
}

static void
capabilities_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  IovQmpClient *self = IOV_QMP_CLIENT (source);
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;
  GTask *task;

  reply = iov_qmp_client_execute_finish (self, result, &error);
  if (reply == NULL)
    {
      if (self->stream != NULL)
        iov_qmp_client_fail (self, g_error_new (IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_QMP,
                                                _("%s refused QMP capabilities negotiation: %s"),
                                                self->address, error->message));
      return;
    }

  set_state (self, IOV_QMP_STATE_CONNECTED);
  self->reconnect_delay_ms = RECONNECT_FIRST_MS;
  task = g_steal_pointer (&self->connect_task);
  g_signal_emit (self, signals[SIGNAL_CONNECTED], 0);
  if (task)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
    }
}

/* QEMU's JSON is UTF-8 (its writer escapes the rest); json-glib takes a
 * "\udc00" escape from a peer as it comes and makes a string that is not.
 * Repaired here, once, so that nothing read from QMP carries such text
 * into a snapshot (U+FFFD where it was wrong); names too. */
static void
make_text (JsonNode *node)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *obj = json_node_get_object (node);
      g_autoptr(GList) names = json_object_get_members (obj);

      for (GList *l = names; l != NULL; l = l->next)
        {
          JsonNode *member = json_object_get_member (obj, l->data);

          if (!g_utf8_validate (l->data, -1, NULL))
            {
              g_autofree char *name = g_utf8_make_valid (l->data, -1);
              g_autoptr(JsonNode) moved = json_node_ref (member);

              json_object_remove_member (obj, l->data);
              make_text (moved);
              json_object_set_member (obj, name, g_steal_pointer (&moved));
            }
          else
            make_text (member);
        }
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        make_text (json_array_get_element (array, i));
    }
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING &&
           !g_utf8_validate (json_node_get_string (node), -1, NULL))
    {
      g_autofree char *text = g_utf8_make_valid (json_node_get_string (node), -1);

      json_node_set_string (node, text);
    }
}

static gboolean
handle_greeting (IovQmpClient *self,
                 JsonObject   *obj)
{
  JsonObject *qmp = iov_json_object (obj, "QMP");
  JsonObject *version = qmp ? iov_json_object (qmp, "version") : NULL;
  JsonObject *qemu = version ? iov_json_object (version, "qemu") : NULL;
  GTask *task;

  if (qemu == NULL)
    return FALSE;

  {
    gint64 major = iov_json_int (qemu, "major", 0);
    gint64 minor = iov_json_int (qemu, "minor", 0);
    gint64 micro = iov_json_int (qemu, "micro", 0);

    /* No release numbers a part past 65535 (what a snapshot may say):
     * a peer that claims one is not QEMU (found by fuzz-qmp-stream) */
    if (major < 0 || major > 65535 || minor < 0 || minor > 65535 || micro < 0 || micro > 65535)
      {
        iov_qmp_client_fail (self, g_error_new (IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_QMP,
                                                _("%s greeted with QEMU version %lld.%lld.%lld, which no "
                                                  "release has: is it QEMU's QMP socket?"),
                                                self->address, (long long) major, (long long) minor,
                                                (long long) micro));
        return TRUE;
      }
    self->major = (guint) major;
    self->minor = (guint) minor;
    self->micro = (guint) micro;
  }
  g_free (self->version);
  self->version = g_strdup_printf ("%u.%u.%u", self->major, self->minor, self->micro);
  g_free (self->package);
  self->package = g_strdup (iov_json_string (version, "package", ""));
  g_clear_pointer (&self->policy, iov_qmp_policy_free);
  self->policy = iov_qmp_policy_new (self->major, self->minor, self->micro, self->package);
  self->greeted = TRUE;
  g_clear_handle_id (&self->greeting_timeout_id, g_source_remove);

  task = g_task_new (self, self->io_cancellable, capabilities_cb, NULL);
  g_task_set_source_tag (task, iov_qmp_client_execute_async);
  iov_qmp_client_send (self, "qmp_capabilities", NULL, task);
  g_object_unref (task);
  return TRUE;
}

static void
handle_line (IovQmpClient *self,
             const char   *line,
             gsize         length)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *obj;

  if (length == 0)
    return;

  if (!json_parser_load_from_data (parser, line, length, NULL) ||
      (root = json_parser_get_root (parser)) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (root))
    {
      if (!self->greeted)
        {
          g_autofree char *shown = g_utf8_make_valid (line, MIN (length, 60));

          iov_qmp_client_fail (self, g_error_new (IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_QMP,
                                                  _("%s is not a QMP socket (it sent “%s”): start QEMU with "
                                                    "-qmp unix:PATH,server=on,wait=off and give that path"),
                                                  self->address, shown));
          return;
        }
      self->n_garbage++;
      g_debug ("ignoring a line that is not a JSON object (%" G_GSIZE_FORMAT " bytes)", length);
      return;
    }
  make_text (root);
  obj = json_node_get_object (root);

  if (!self->greeted)
    {
      if (!json_object_has_member (obj, "QMP") || !handle_greeting (self, obj))
        iov_qmp_client_fail (self, g_error_new (IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_QMP,
                                                _("%s did not greet like QMP: start QEMU with "
                                                  "-qmp unix:PATH,server=on,wait=off and give that path"),
                                                self->address));
      return;
    }

  if (json_object_has_member (obj, "event"))
    {
      const char *name = iov_json_string (obj, "event", "");
      JsonNode *data = json_object_get_member (obj, "data");
      JsonObject *ts = json_object_has_member (obj, "timestamp") ? iov_json_object (obj, "timestamp") : NULL;
      gint64 us = -1;

      if (ts)
        {
          gint64 s = iov_json_int (ts, "seconds", -1);
          gint64 u = iov_json_int (ts, "microseconds", -1);

          if (s >= 0 && u >= 0)
            us = s * G_USEC_PER_SEC + u;
        }
      g_signal_emit (self, signals[SIGNAL_EVENT], 0, name, data, us);
      return;
    }

  if (json_object_has_member (obj, "return") || json_object_has_member (obj, "error"))
    {
      Pending *p = NULL;
      GTask *task;

      if (json_object_has_member (obj, "id"))
        {
          JsonNode *idn = json_object_get_member (obj, "id");

          if (JSON_NODE_HOLDS_VALUE (idn) && json_node_get_value_type (idn) == G_TYPE_INT64)
            {
              gint64 id = json_node_get_int (idn);
              p = g_hash_table_lookup (self->pending, &id);
            }
        }
      else
        {
          /* Errors found before QEMU parsed the id carry none: the oldest
           * command in flight is the one it refers to. */
          p = g_queue_peek_head (&self->pending_order);
        }

      if (p == NULL)
        {
          self->n_garbage++;
          g_debug ("ignoring a reply that matches no command in flight");
          return;
        }

      g_queue_remove (&self->pending_order, p);
      task = g_steal_pointer (&p->task);
      g_hash_table_remove (self->pending, &p->id);
      self->last_progress_us = g_get_monotonic_time ();
      self->n_garbage_at_reply = self->n_garbage;
      arm_reply_timeout (self);

      if (json_object_has_member (obj, "error"))
        {
          JsonObject *err = iov_json_object (obj, "error");
          g_autoptr(JsonObject) empty = json_object_new ();

          g_task_return_error (task, error_from_qmp (err ? err : empty));
        }
      else
        g_task_return_pointer (task, json_node_copy (json_object_get_member (obj, "return")),
                               (GDestroyNotify) json_node_unref);
      g_object_unref (task);
      return;
    }

  self->n_garbage++;
  g_debug ("ignoring a JSON object that is neither reply nor event");
}

/* Handles every complete line in inbuf; FALSE when the connection was
 * given up meanwhile (a line that was not QMP, a callback that closed). */
static gboolean
handle_lines (IovQmpClient *self,
              GInputStream *source)
{
  gsize start = 0;

  for (;;)
    {
      const guint8 *data = self->inbuf->data;
      const guint8 *nl = memchr (data + self->scanned, '\n', self->inbuf->len - self->scanned);
      g_autofree char *line = NULL;
      gsize length;

      if (nl == NULL)
        {
          self->scanned = self->inbuf->len;
          break;
        }
      length = nl - (data + start);
      if (length > 0 && data[start + length - 1] == '\r')
        length--;
      line = g_strndup ((const char *) data + start, length);
      start = nl - data + 1;
      self->scanned = start;
      handle_line (self, line, length);
      if (self->input != source)
        return FALSE;
    }
  g_byte_array_remove_range (self->inbuf, 0, start);
  self->scanned -= start;
  return TRUE;
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(IovQmpClient) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);

  if (self->input != (GInputStream *) source)
    return; /* a stale read from a previous connection */

  if (bytes != NULL && g_bytes_get_size (bytes) > 0)
    {
      gsize size = 0;
      gconstpointer data = g_bytes_get_data (bytes, &size);

      g_byte_array_append (self->inbuf, data, size);
      if (!handle_lines (self, G_INPUT_STREAM (source)))
        return;
      if (self->inbuf->len > MAX_LINE)
        {
          iov_qmp_client_fail (self, g_error_new (IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_QMP,
                                                  _("%s sent a line of more than %d MiB without its end: it is "
                                                    "not QEMU's QMP; gave the connection up"),
                                                  self->address, MAX_LINE / (1024 * 1024)));
          return;
        }
      iov_qmp_client_read_next (self);
      return;
    }

  if (error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* The end: a last line without its newline is still a line (garbage,
   * as a reply cut in the middle is not JSON). */
  if (self->inbuf->len > 0)
    {
      g_autofree char *line = g_strndup ((const char *) self->inbuf->data, self->inbuf->len);
      gsize length = self->inbuf->len;

      g_byte_array_set_size (self->inbuf, 0);
      self->scanned = 0;
      handle_line (self, line, length);
      if (self->input != (GInputStream *) source)
        return;
    }

  /* QEMU killed while a command was unread resets the socket
   * (ECONNRESET) instead of closing it: the same story for the user */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) && self->greeted)
    g_clear_error (&error);
  if (error != NULL)
    iov_qmp_client_fail (self, g_error_new (IOV_QMP_ERROR, IOV_QMP_ERROR_CLOSED,
                                            _("Lost the connection to QEMU at %s: %s"),
                                            self->address, error->message));
  else if (!self->greeted)
    iov_qmp_client_fail (self, g_error_new (IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_QMP,
                                            _("%s closed the connection without a QMP greeting: is it a QMP socket, "
                                              "and is no other client connected to it? QEMU serves one client per -qmp socket"),
                                            self->address));
  else
    iov_qmp_client_fail (self, g_error_new (IOV_QMP_ERROR, IOV_QMP_ERROR_CLOSED,
                                            _("QEMU at %s closed the connection (it exited or crashed)"),
                                            self->address));
}

static void
iov_qmp_client_read_next (IovQmpClient *self)
{
  g_input_stream_read_bytes_async (self->input, READ_CHUNK, G_PRIORITY_DEFAULT, self->io_cancellable,
                                   read_cb, g_object_ref (self));
}

static gboolean
greeting_timeout_cb (gpointer user_data)
{
  IovQmpClient *self = user_data;

  self->greeting_timeout_id = 0;
  iov_qmp_client_fail (self, g_error_new (IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_QMP,
                                          _("%s sent no QMP greeting within %d s: is it a QMP socket, "
                                            "and is no other client connected to it?"),
                                          self->address, GREETING_TIMEOUT_MS / 1000));
  return G_SOURCE_REMOVE;
}

static void
start_on_stream (IovQmpClient *self)
{
  self->io_cancellable = g_cancellable_new ();
  self->input = g_object_ref (g_io_stream_get_input_stream (self->stream));
  self->inbuf = g_byte_array_new ();
  self->scanned = 0;
  self->output = g_object_ref (g_io_stream_get_output_stream (self->stream));
  self->greeted = FALSE;
  self->greeting_timeout_id = g_timeout_add (GREETING_TIMEOUT_MS, greeting_timeout_cb, self);
  iov_qmp_client_read_next (self);
}

/* ---- connecting -------------------------------------------------------- */

static void
socket_connect_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(IovQmpClient) self = user_data;
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection;

  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);
  if (connection == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          iov_qmp_client_fail (self, g_steal_pointer (&error));
          return;
        }
      iov_qmp_client_fail (self, g_error_new (IOV_QMP_ERROR, IOV_QMP_ERROR_CONNECT,
                                              _("cannot connect to %s: %s — start QEMU with -qmp %s,server=on,wait=off"),
                                              self->address, error->message, self->address));
      return;
    }

  /* The 5 s timeout is for connecting: GSocketClient leaves it on the
   * socket, where it would end an idle but healthy session. */
  g_socket_set_timeout (g_socket_connection_get_socket (connection), 0);
  self->stream = G_IO_STREAM (connection);
  start_on_stream (self);
}

static void
iov_qmp_client_start_connect (IovQmpClient *self)
{
  set_state (self, IOV_QMP_STATE_CONNECTING);
  if (self->connectable != NULL)
    {
      g_autoptr(GSocketClient) client = g_socket_client_new ();

      g_socket_client_set_timeout (client, 5);
      g_socket_client_connect_async (client, self->connectable, NULL, socket_connect_cb, g_object_ref (self));
    }
  else
    start_on_stream (self);
}

static gboolean
reconnect_cb (gpointer user_data)
{
  IovQmpClient *self = user_data;

  self->reconnect_id = 0;
  if (self->state == IOV_QMP_STATE_DISCONNECTED && self->connect_task == NULL)
    iov_qmp_client_start_connect (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_reconnect (IovQmpClient *self)
{
  if (!self->auto_reconnect || self->connectable == NULL || self->reconnect_id != 0)
    return;
  self->reconnect_id = g_timeout_add (self->reconnect_delay_ms, reconnect_cb, self);
  self->reconnect_delay_ms = MIN (self->reconnect_delay_ms * 2, RECONNECT_MAX_MS);
}

void
iov_qmp_client_connect_async (IovQmpClient        *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (IOV_IS_QMP_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, iov_qmp_client_connect_async);

  if (self->state == IOV_QMP_STATE_CONNECTED)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (self->connect_task != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING, _("Already connecting to %s"), self->address);
      return;
    }
  if (self->connectable == NULL && self->stream == NULL)
    {
      g_task_return_new_error (task, IOV_QMP_ERROR, IOV_QMP_ERROR_CLOSED, _("The connection was closed"));
      return;
    }

  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  self->connect_task = g_steal_pointer (&task);
  iov_qmp_client_start_connect (self);
}

gboolean
iov_qmp_client_connect_finish (IovQmpClient  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- commands ---------------------------------------------------------- */

void
iov_qmp_client_execute_async (IovQmpClient        *self,
                              const char          *command,
                              JsonNode            *arguments,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (IOV_IS_QMP_CLIENT (self));
  g_return_if_fail (command != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, iov_qmp_client_execute_async);

  if (!iov_qmp_command_is_allowed (command, arguments, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (self->state != IOV_QMP_STATE_CONNECTED)
    {
      g_task_return_new_error (task, IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_CONNECTED,
                               _("Not connected to QEMU at %s"), self->address);
      return;
    }

  iov_qmp_client_send (self, command, arguments, task);
}

JsonNode *
iov_qmp_client_execute_finish (IovQmpClient  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- accessors --------------------------------------------------------- */

IovQmpState
iov_qmp_client_get_state (IovQmpClient *self)
{
  g_return_val_if_fail (IOV_IS_QMP_CLIENT (self), IOV_QMP_STATE_DISCONNECTED);
  return self->state;
}

const char *
iov_qmp_client_get_address (IovQmpClient *self)
{
  g_return_val_if_fail (IOV_IS_QMP_CLIENT (self), NULL);
  return self->address;
}

const char *
iov_qmp_client_get_version (IovQmpClient *self)
{
  g_return_val_if_fail (IOV_IS_QMP_CLIENT (self), NULL);
  return self->version;
}

const char *
iov_qmp_client_get_package (IovQmpClient *self)
{
  g_return_val_if_fail (IOV_IS_QMP_CLIENT (self), NULL);
  return self->package;
}

void
iov_qmp_client_get_version_numbers (IovQmpClient *self,
                                    guint        *major,
                                    guint        *minor,
                                    guint        *micro)
{
  g_return_if_fail (IOV_IS_QMP_CLIENT (self));
  if (major)
    *major = self->major;
  if (minor)
    *minor = self->minor;
  if (micro)
    *micro = self->micro;
}

gboolean
iov_qmp_client_version_at_least (IovQmpClient *self,
                                 guint         major,
                                 guint         minor,
                                 guint         micro)
{
  g_return_val_if_fail (IOV_IS_QMP_CLIENT (self), FALSE);
  if (self->major != major)
    return self->major > major;
  if (self->minor != minor)
    return self->minor > minor;
  return self->micro >= micro;
}

/**
 * iov_qmp_client_check:
 *
 * Whether @command may be sent to the QEMU on this connection: the
 * read-only allow-list, then its release's policy (which needs the
 * greeting). Callers ask first to degrade with a reason rather than fail.
 */
gboolean
iov_qmp_client_check (IovQmpClient  *self,
                      const char    *command,
                      JsonNode      *arguments,
                      GError       **error)
{
  g_return_val_if_fail (IOV_IS_QMP_CLIENT (self), FALSE);

  if (self->policy == NULL)
    {
      if (!iov_qmp_command_is_allowed (command, arguments, error))
        return FALSE;
      if (g_strcmp0 (command, "qmp_capabilities") != 0)
        {
          g_set_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_CONNECTED,
                       _("Not connected to QEMU at %s"), self->address);
          return FALSE;
        }
      return TRUE;
    }
  return iov_qmp_policy_check (self->policy, command, arguments, error);
}

/**
 * iov_qmp_client_set_schema:
 * @schema: the "return" of query-qmp-schema on this connection
 *
 * Tells the policy which commands this QEMU offers and which it marks
 * unstable. Kept until the next greeting.
 */
gboolean
iov_qmp_client_set_schema (IovQmpClient  *self,
                           JsonNode      *schema,
                           GError       **error)
{
  g_return_val_if_fail (IOV_IS_QMP_CLIENT (self), FALSE);

  if (self->policy == NULL)
    {
      g_set_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_NOT_CONNECTED, _("Not connected to QEMU at %s"), self->address);
      return FALSE;
    }
  return iov_qmp_policy_set_schema (self->policy, schema, error);
}

gboolean
iov_qmp_client_has_schema (IovQmpClient *self)
{
  g_return_val_if_fail (IOV_IS_QMP_CLIENT (self), FALSE);
  return self->policy != NULL && iov_qmp_policy_has_schema (self->policy);
}

guint
iov_qmp_client_get_n_garbage (IovQmpClient *self)
{
  g_return_val_if_fail (IOV_IS_QMP_CLIENT (self), 0);
  return self->n_garbage;
}

void
iov_qmp_client_set_auto_reconnect (IovQmpClient *self,
                                   gboolean      auto_reconnect)
{
  g_return_if_fail (IOV_IS_QMP_CLIENT (self));

  self->auto_reconnect = !!auto_reconnect;
  if (!self->auto_reconnect)
    g_clear_handle_id (&self->reconnect_id, g_source_remove);
  else if (self->state == IOV_QMP_STATE_DISCONNECTED && self->connect_task == NULL)
    schedule_reconnect (self);
}

/**
 * iov_qmp_client_set_reply_timeout:
 * @timeout_ms: how long to wait for the next reply while commands are in
 *   flight, or 0 to wait forever
 *
 * When it passes, the connection is given up: every command in flight
 * fails with %IOV_QMP_ERROR_TIMED_OUT naming the oldest, and a client with
 * auto-reconnect tries again. Default %IOV_QMP_REPLY_TIMEOUT_MS.
 */
void
iov_qmp_client_set_reply_timeout (IovQmpClient *self,
                                  guint         timeout_ms)
{
  g_return_if_fail (IOV_IS_QMP_CLIENT (self));

  self->reply_timeout_ms = timeout_ms;
  arm_reply_timeout (self);
}

/**
 * iov_qmp_error_is_lost:
 *
 * Whether @error means the connection is gone (closed, never made, given
 * up after a reply did not come or after what was not QMP), rather than
 * one command refused.
 */
gboolean
iov_qmp_error_is_lost (const GError *error)
{
  return error != NULL && error->domain == IOV_QMP_ERROR &&
         (error->code == IOV_QMP_ERROR_CLOSED || error->code == IOV_QMP_ERROR_NOT_CONNECTED ||
          error->code == IOV_QMP_ERROR_TIMED_OUT || error->code == IOV_QMP_ERROR_NOT_QMP);
}
