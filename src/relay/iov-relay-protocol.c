/* iov-relay-protocol.c
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
#include <json-glib/json-glib.h>
#include <string.h>

#include "iov-relay-protocol.h"
#include "iov-types.h"

G_DEFINE_QUARK (iov-relay-error-quark, iov_relay_error)

/* Indexed by IovRelayMessageType and IovRelayClientType: the "type" each
 * kind has on the wire, for its writer and its reader alike. */
static const char * const message_types[] = {
  [IOV_RELAY_MESSAGE_UNKNOWN]  = "unknown",
  [IOV_RELAY_MESSAGE_HELLO]    = "hello",
  [IOV_RELAY_MESSAGE_SNAPSHOT] = "snapshot",
  [IOV_RELAY_MESSAGE_EVENTS]   = "events",
  [IOV_RELAY_MESSAGE_DROPS]    = "drops",
  [IOV_RELAY_MESSAGE_STATS]    = "stats",
  [IOV_RELAY_MESSAGE_STATE]    = "state",
  [IOV_RELAY_MESSAGE_PONG]     = "pong",
  [IOV_RELAY_MESSAGE_ERROR]    = "error",
};

static const char * const client_types[] = {
  [IOV_RELAY_CLIENT_PING]     = "ping",
  [IOV_RELAY_CLIENT_SNAPSHOT] = "snapshot",
  [IOV_RELAY_CLIENT_STATS]    = "stats",
};

const char *
iov_relay_message_type_to_string (IovRelayMessageType type)
{
  if ((guint) type >= G_N_ELEMENTS (message_types))
    type = IOV_RELAY_MESSAGE_UNKNOWN;
  return message_types[type];
}

/* ---- writing and reading ------------------------------------------------ */

/* Every message starts the same way; "v" first, so that a reader of a
 * capture sees the version before anything else. */
static void
append_head (GString    *out,
             const char *type)
{
  g_string_append_printf (out, "{\"v\":%d,\"type\":\"%s\"", IOV_RELAY_PROTOCOL_VERSION, type);
}

/* ,"name":"value" — or null for a NULL @value. */
static void
append_string (GString    *out,
               const char *name,
               const char *value)
{
  g_string_append_printf (out, ",\"%s\":", name);
  if (value != NULL)
    iov_json_append_string (out, value, strlen (value));
  else
    g_string_append (out, "null");
}

static void
append_uint (GString    *out,
             const char *name,
             guint64     value)
{
  g_string_append_printf (out, ",\"%s\":%" G_GUINT64_FORMAT, name, value);
}

static void
append_int (GString    *out,
            const char *name,
            gint64      value)
{
  g_string_append_printf (out, ",\"%s\":%" G_GINT64_FORMAT, name, value);
}

/* What a member must be, and what read_member() stores for it. */
typedef enum
{
  WANT_INT,             /* gint64 */
  WANT_UINT,            /* guint64: counters, sizes, sequence numbers */
  WANT_BOOLEAN,         /* gboolean */
  WANT_STRING,          /* const char *, pointing into the tree */
  WANT_STRING_OR_NULL,  /* const char *, NULL for null */
  WANT_ARRAY,           /* JsonNode * */
  WANT_OBJECT,          /* JsonNode * */
} Want;

static gboolean
has_type (JsonNode *node,
          Want      want)
{
  GType type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;

  switch (want)
    {
    case WANT_INT: return type == G_TYPE_INT64;
    case WANT_UINT: return type == G_TYPE_INT64 && json_node_get_int (node) >= 0;
    case WANT_BOOLEAN: return type == G_TYPE_BOOLEAN;
    case WANT_STRING: return type == G_TYPE_STRING;
    case WANT_STRING_OR_NULL: return type == G_TYPE_STRING || JSON_NODE_HOLDS_NULL (node);
    case WANT_ARRAY: return JSON_NODE_HOLDS_ARRAY (node);
    case WANT_OBJECT: return JSON_NODE_HOLDS_OBJECT (node);
    default: g_return_val_if_reached (FALSE);
    }
}

/* What both readers check first.  Never trusts @data: it need not be
 * NUL-terminated or valid UTF-8.  Returns the root object, owned by
 * @parser. */
static JsonObject *
load_object (JsonParser  *parser,
             const char  *data,
             gsize        len,
             GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  if (len == 0 || !g_utf8_validate_len (data, len, NULL))
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("Message is empty or not UTF-8 text"));
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local_error))
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("Message is not JSON: %s"), local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("Message is not a JSON object"));
      return NULL;
    }
  return json_node_get_object (root);
}

static const char *
type_member (JsonObject  *object,
             GError     **error)
{
  JsonNode *node = json_object_get_member (object, "type");

  if (node == NULL || !has_type (node, WANT_STRING))
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("Message has no string “type”"));
      return NULL;
    }
  return json_node_get_string (node);
}

/* Every message may say its protocol version in "v". */
static gboolean
of_other_version (JsonObject *object)
{
  JsonNode *node = json_object_get_member (object, "v");

  return node != NULL && (!has_type (node, WANT_INT) || json_node_get_int (node) != IOV_RELAY_PROTOCOL_VERSION);
}

/* Where read_member() is: the object, the kind of message it belongs to
 * (its "type") and, inside an array, the element's path.  Its errors name
 * all three, e.g. “changes[2].device” in the “snapshot” message. */
typedef struct
{
  JsonObject *object;
  const char *kind;
  const char *at;      /* "changes[2]", or NULL at the top */
} Reader;

static void
set_wrong_type (GError     **error,
                const char  *path,
                const char  *kind,
                Want         want)
{
#define WRONG(text) g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE, text, path, kind)
  switch (want)
    {
    case WANT_INT: WRONG (_("“%s” in the “%s” message must be an integer")); break;
    case WANT_UINT: WRONG (_("“%s” in the “%s” message must be an integer of 0 or more")); break;
    case WANT_BOOLEAN: WRONG (_("“%s” in the “%s” message must be true or false")); break;
    case WANT_STRING: WRONG (_("“%s” in the “%s” message must be a string")); break;
    case WANT_STRING_OR_NULL: WRONG (_("“%s” in the “%s” message must be a string or null")); break;
    case WANT_ARRAY: WRONG (_("“%s” in the “%s” message must be an array")); break;
    case WANT_OBJECT:
    default: WRONG (_("“%s” in the “%s” message must be an object")); break;
    }
#undef WRONG
}

/* Stores member @name, which must be there and be what @want says, in
 * @out (of the type @want names), or fails naming the member and the kind
 * of message. */
static gboolean
read_member (const Reader  *r,
             const char    *name,
             Want           want,
             gpointer       out,
             GError       **error)
{
  JsonNode *node = json_object_get_member (r->object, name);
  g_autofree char *path = r->at ? g_strconcat (r->at, ".", name, NULL) : g_strdup (name);

  if (node == NULL)
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("The “%s” message has no “%s”"), r->kind, path);
      return FALSE;
    }
  if (!has_type (node, want))
    {
      set_wrong_type (error, path, r->kind, want);
      return FALSE;
    }
  switch (want)
    {
    case WANT_INT:
      *(gint64 *) out = json_node_get_int (node);
      break;
    case WANT_UINT:
      *(guint64 *) out = (guint64) json_node_get_int (node);
      break;
    case WANT_BOOLEAN:
      *(gboolean *) out = json_node_get_boolean (node);
      break;
    case WANT_STRING:
    case WANT_STRING_OR_NULL:
      /* json-glib lets a lone surrogate escape ("\udc00") through as bytes
       * that are not UTF-8: written again, the message would differ (a
       * fuzzer found it) */
      if (!JSON_NODE_HOLDS_NULL (node) && !g_utf8_validate (json_node_get_string (node), -1, NULL))
        {
          g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                       _("The “%s” message's “%s” is not UTF-8 text"), r->kind, path);
          return FALSE;
        }
      *(const char **) out = JSON_NODE_HOLDS_NULL (node) ? NULL : json_node_get_string (node);
      break;
    case WANT_ARRAY:
    case WANT_OBJECT:
    default:
      *(JsonNode **) out = node;
      break;
    }
  return TRUE;
}

/* ---- client → relay ----------------------------------------------------- */

void
iov_relay_append_client_message (GString                     *out,
                                 const IovRelayClientMessage *message)
{
  g_return_if_fail (out != NULL && message != NULL);
  g_return_if_fail ((guint) message->type < G_N_ELEMENTS (client_types));

  append_head (out, client_types[message->type]);
  if (message->id != 0)
    append_int (out, "id", message->id);
  g_string_append_c (out, '}');
}

/**
 * iov_relay_parse_client_message:
 *
 * Parses what a WebSocket client sent: one JSON object with a "type"
 * ("ping", "snapshot" or "stats"), an optional integer "id" and an optional
 * "v" that must be IOV_RELAY_PROTOCOL_VERSION.  Never trusts @data: it need
 * not be NUL-terminated or valid UTF-8.
 */
gboolean
iov_relay_parse_client_message (const char             *data,
                                gsize                   len,
                                IovRelayClientMessage  *out,
                                GError                **error)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *object;
  JsonNode *node;
  const char *type;
  guint i;

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  memset (out, 0, sizeof *out);

  if (len > IOV_RELAY_MAX_CLIENT_MESSAGE)
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("Message of %zu bytes is longer than %d bytes"),
                   len, IOV_RELAY_MAX_CLIENT_MESSAGE);
      return FALSE;
    }
  parser = json_parser_new_immutable ();
  object = load_object (parser, data, len, error);
  if (object == NULL)
    return FALSE;

  if (of_other_version (object))
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("Unsupported protocol version: this relay speaks version %d"),
                   IOV_RELAY_PROTOCOL_VERSION);
      return FALSE;
    }

  node = json_object_get_member (object, "id");
  if (node != NULL)
    {
      if (!has_type (node, WANT_INT))
        {
          g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                       _("“id” must be an integer"));
          return FALSE;
        }
      out->id = json_node_get_int (node);
    }

  type = type_member (object, error);
  if (type == NULL)
    return FALSE;
  for (i = 0; i < G_N_ELEMENTS (client_types); i++)
    if (g_str_equal (type, client_types[i]))
      break;
  if (i == G_N_ELEMENTS (client_types))
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("Unknown message type “%s” (expected ping, snapshot or stats)"), type);
      return FALSE;
    }
  out->type = i;
  return TRUE;
}

/* ---- hello -------------------------------------------------------------- */

void
iov_relay_append_hello (GString             *out,
                        const IovRelayHello *hello)
{
  g_return_if_fail (out != NULL && hello != NULL);

  append_head (out, message_types[IOV_RELAY_MESSAGE_HELLO]);
  append_int (out, "version", hello->version);
  append_string (out, "relay", hello->relay);
  append_string (out, "vm", hello->vm);
  append_string (out, "state", hello->state);
  append_string (out, "qemu", hello->qemu);
  g_string_append_printf (out, ",\"trace\":%s", hello->trace ? "true" : "false");
  append_uint (out, "queue_bytes", hello->queue_bytes);
  append_uint (out, "max_message_bytes", hello->max_message_bytes);
  append_uint (out, "seq", hello->seq);
  g_string_append_c (out, '}');
}

static gboolean
parse_hello (const Reader   *r,
             IovRelayHello  *hello,
             GError        **error)
{
  /* "version" was read first, before "v": see parse_members(). */
  return read_member (r, "relay", WANT_STRING, &hello->relay, error) &&
         read_member (r, "vm", WANT_STRING, &hello->vm, error) &&
         read_member (r, "state", WANT_STRING, &hello->state, error) &&
         read_member (r, "qemu", WANT_STRING_OR_NULL, &hello->qemu, error) &&
         read_member (r, "trace", WANT_BOOLEAN, &hello->trace, error) &&
         read_member (r, "queue_bytes", WANT_UINT, &hello->queue_bytes, error) &&
         read_member (r, "max_message_bytes", WANT_UINT, &hello->max_message_bytes, error) &&
         read_member (r, "seq", WANT_UINT, &hello->seq, error);
}

/* ---- snapshot ----------------------------------------------------------- */

/**
 * iov_relay_append_snapshot:
 * @snapshot_json: the snapshot as iov_snapshot_to_string() writes it
 *   without "mtree", compact
 * @changes: (element-type IovSnapshotChange) (nullable): what changed
 */
void
iov_relay_append_snapshot (GString    *out,
                           const char *snapshot_json,
                           GPtrArray  *changes)
{
  g_return_if_fail (out != NULL && snapshot_json != NULL);

  append_head (out, message_types[IOV_RELAY_MESSAGE_SNAPSHOT]);
  g_string_append (out, ",\"changes\":[");
  for (guint i = 0; changes && i < changes->len; i++)
    {
      const IovSnapshotChange *c = g_ptr_array_index (changes, i);
      const char *kind = iov_snapshot_change_kind_to_string (c->kind);

      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append (out, "{\"kind\":");
      iov_json_append_string (out, kind, strlen (kind));
      append_string (out, "device", c->device);
      append_uint (out, "ranges", c->n_ranges);
      append_string (out, "message", c->message);
      g_string_append_c (out, '}');
    }
  g_string_append (out, "],\"snapshot\":");
  g_string_append (out, snapshot_json);
  g_string_append_c (out, '}');
}

static IovSnapshotChange *
parse_change (const Reader  *message,
              JsonArray     *array,
              guint          index,
              GError       **error)
{
  g_autofree char *at = g_strdup_printf ("changes[%u]", index);
  JsonNode *element = json_array_get_element (array, index);
  Reader r = { NULL, message->kind, at };
  const char *kind, *device, *text;
  g_autoptr(IovSnapshotChange) change = NULL;
  guint64 ranges;
  int k;

  if (!has_type (element, WANT_OBJECT))
    {
      set_wrong_type (error, at, r.kind, WANT_OBJECT);
      return NULL;
    }
  r.object = json_node_get_object (element);
  if (!read_member (&r, "kind", WANT_STRING, &kind, error))
    return NULL;
  for (k = IOV_SNAPSHOT_CHANGE_REMAPPING_ON; k <= IOV_SNAPSHOT_CHANGE_RANGES; k++)
    if (g_str_equal (kind, iov_snapshot_change_kind_to_string (k)))
      break;
  if (k > IOV_SNAPSHOT_CHANGE_RANGES)
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("“%s.kind” in the “%s” message is no kind of change: “%s”"), at, r.kind, kind);
      return NULL;
    }
  if (!read_member (&r, "device", WANT_STRING, &device, error) ||
      !read_member (&r, "ranges", WANT_UINT, &ranges, error) ||
      !read_member (&r, "message", WANT_STRING, &text, error))
    return NULL;

  change = g_new0 (IovSnapshotChange, 1);
  change->kind = k;
  change->device = g_strdup (device);
  change->n_ranges = (guint) MIN (ranges, G_MAXUINT);
  /* The relay's wording, in the relay's language. */
  change->message = g_strdup (text);
  return g_steal_pointer (&change);
}

static gboolean
parse_snapshot (const Reader      *r,
                IovRelaySnapshot  *snapshot,
                GError           **error)
{
  JsonNode *changes;
  JsonArray *array;

  if (!read_member (r, "changes", WANT_ARRAY, &changes, error) ||
      !read_member (r, "snapshot", WANT_OBJECT, &snapshot->snapshot, error))
    return FALSE;
  array = json_node_get_array (changes);
  snapshot->changes = g_ptr_array_new_with_free_func ((GDestroyNotify) iov_snapshot_change_free);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      IovSnapshotChange *change = parse_change (r, array, i, error);

      if (change == NULL)
        return FALSE;
      g_ptr_array_add (snapshot->changes, change);
    }
  return TRUE;
}

/* ---- events ------------------------------------------------------------- */

/* An "events" message is written as the relay decodes its trace lines:
 * begin, one item per event (@index counts from 0), end. */
void
iov_relay_append_events_begin (GString *out,
                               guint64  seq,
                               guint64  source_dropped_lines)
{
  g_return_if_fail (out != NULL);

  append_head (out, message_types[IOV_RELAY_MESSAGE_EVENTS]);
  append_uint (out, "seq", seq);
  append_uint (out, "source_dropped_lines", source_dropped_lines);
  g_string_append (out, ",\"events\":[");
}

void
iov_relay_append_events_item (GString            *out,
                              guint               index,
                              IovTraceCatalog    *catalog,
                              const IovTraceLine *line,
                              gint64              arrival_ns)
{
  if (index > 0)
    g_string_append_c (out, ',');
  iov_relay_append_event (out, catalog, line, arrival_ns);
}

void
iov_relay_append_events_end (GString *out)
{
  g_string_append (out, "]}");
}

void
iov_relay_append_event (GString            *out,
                        IovTraceCatalog    *catalog,
                        const IovTraceLine *line,
                        gint64              arrival_ns)
{
  IovTraceArg args[IOV_TRACE_MAX_ARGS];
  guint n_args = 0;

  g_string_append (out, "{\"ts_ns\":");
  if (line->has_ts)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT, line->ts_ns);
  else
    g_string_append_printf (out, "%" G_GINT64_FORMAT, arrival_ns);
  g_string_append (out, ",\"tid\":");
  if (line->has_tid)
    g_string_append_printf (out, "%u", line->tid);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\"name\":");
  iov_json_append_string (out, line->name, line->name_len);
  g_string_append (out, ",\"args\":{");
  if (line->event_id >= 0 &&
      iov_trace_catalog_decode (catalog, line->event_id, line->args, line->args_len, args, &n_args))
    {
      for (guint i = 0; i < n_args; i++)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          iov_json_append_string (out, args[i].name, strlen (args[i].name));
          g_string_append_c (out, ':');
          iov_json_append_string (out, args[i].text, args[i].len);
        }
      g_string_append (out, "}}");
    }
  else
    {
      g_string_append (out, "},\"raw\":");
      iov_json_append_string (out, line->args, line->args_len);
      g_string_append_c (out, '}');
    }
}

/* The events themselves are left to the consumer, which skips and counts
 * the ones it cannot use without losing the rest. */
static gboolean
parse_events (const Reader    *r,
              IovRelayEvents  *events,
              GError         **error)
{
  JsonNode *array;

  if (!read_member (r, "seq", WANT_UINT, &events->seq, error) ||
      !read_member (r, "source_dropped_lines", WANT_UINT, &events->source_dropped_lines, error) ||
      !read_member (r, "events", WANT_ARRAY, &array, error))
    return FALSE;
  events->events = json_node_get_array (array);
  return TRUE;
}

/* ---- drops and stats ---------------------------------------------------- */

static void
append_drops_as (GString             *out,
                 IovRelayMessageType  type,
                 const IovRelayDrops *drops)
{
  append_head (out, message_types[type]);
  append_uint (out, "dropped_messages", drops->dropped_messages);
  append_uint (out, "dropped_events", drops->dropped_events);
  append_uint (out, "source_dropped_lines", drops->source_dropped_lines);
  append_uint (out, "sent_messages", drops->sent_messages);
  append_uint (out, "queued_bytes", drops->queued_bytes);
  append_uint (out, "invalid_messages", drops->invalid_messages);
  g_string_append_c (out, '}');
}

void
iov_relay_append_drops (GString             *out,
                        const IovRelayDrops *drops)
{
  g_return_if_fail (out != NULL && drops != NULL);

  append_drops_as (out, IOV_RELAY_MESSAGE_DROPS, drops);
}

void
iov_relay_append_stats (GString             *out,
                        const IovRelayDrops *stats)
{
  g_return_if_fail (out != NULL && stats != NULL);

  append_drops_as (out, IOV_RELAY_MESSAGE_STATS, stats);
}

static gboolean
parse_drops (const Reader   *r,
             IovRelayDrops  *drops,
             GError        **error)
{
  return read_member (r, "dropped_messages", WANT_UINT, &drops->dropped_messages, error) &&
         read_member (r, "dropped_events", WANT_UINT, &drops->dropped_events, error) &&
         read_member (r, "source_dropped_lines", WANT_UINT, &drops->source_dropped_lines, error) &&
         read_member (r, "sent_messages", WANT_UINT, &drops->sent_messages, error) &&
         read_member (r, "queued_bytes", WANT_UINT, &drops->queued_bytes, error) &&
         read_member (r, "invalid_messages", WANT_UINT, &drops->invalid_messages, error);
}

/* ---- state -------------------------------------------------------------- */

void
iov_relay_append_state (GString             *out,
                        const IovRelayState *state)
{
  g_return_if_fail (out != NULL && state != NULL);

  append_head (out, message_types[IOV_RELAY_MESSAGE_STATE]);
  append_string (out, "state", state->state);
  append_string (out, "session", state->session);
  append_string (out, "qemu", state->qemu);
  if (state->error != NULL)
    append_string (out, "error", state->error);
  g_string_append_c (out, '}');
}

static gboolean
parse_state (const Reader   *r,
             IovRelayState  *state,
             GError        **error)
{
  if (!read_member (r, "state", WANT_STRING, &state->state, error) ||
      !read_member (r, "session", WANT_STRING, &state->session, error) ||
      !read_member (r, "qemu", WANT_STRING_OR_NULL, &state->qemu, error))
    return FALSE;
  /* "error" is there only when QEMU went away. */
  return !json_object_has_member (r->object, "error") ||
         read_member (r, "error", WANT_STRING, &state->error, error);
}

/* ---- pong --------------------------------------------------------------- */

void
iov_relay_append_pong (GString            *out,
                       const IovRelayPong *pong)
{
  g_return_if_fail (out != NULL && pong != NULL);

  append_head (out, message_types[IOV_RELAY_MESSAGE_PONG]);
  append_int (out, "id", pong->id);
  append_int (out, "time_ns", pong->time_ns);
  g_string_append_c (out, '}');
}

static gboolean
parse_pong (const Reader  *r,
            IovRelayPong  *pong,
            GError       **error)
{
  return read_member (r, "id", WANT_INT, &pong->id, error) &&
         read_member (r, "time_ns", WANT_INT, &pong->time_ns, error);
}

/* ---- error -------------------------------------------------------------- */

void
iov_relay_append_error (GString    *out,
                        const char *message)
{
  g_return_if_fail (out != NULL && message != NULL);

  append_head (out, message_types[IOV_RELAY_MESSAGE_ERROR]);
  append_string (out, "error", message);
  g_string_append_c (out, '}');
}

static gboolean
parse_error (const Reader  *r,
             const char   **message,
             GError       **error)
{
  return read_member (r, "error", WANT_STRING, message, error);
}

/* ---- relay → client: any message ---------------------------------------- */

static gboolean
parse_members (JsonObject       *object,
               IovRelayMessage  *out,
               GError          **error)
{
  Reader r = { object, message_types[out->type], NULL };

  if (out->type == IOV_RELAY_MESSAGE_HELLO)
    {
      /* A relay of another protocol version says so in "version", where
       * a client looks first; the rest of its hello need not be ours, so
       * it is not checked and the caller refuses the relay. */
      if (!read_member (&r, "version", WANT_INT, &out->u.hello.version, error))
        return FALSE;
      if (out->u.hello.version != IOV_RELAY_PROTOCOL_VERSION)
        return TRUE;
    }

  if (of_other_version (object))
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("The “%s” message is of another protocol version: this Iovista speaks version %d"),
                   r.kind, IOV_RELAY_PROTOCOL_VERSION);
      return FALSE;
    }

  switch (out->type)
    {
    case IOV_RELAY_MESSAGE_HELLO:
      return parse_hello (&r, &out->u.hello, error);
    case IOV_RELAY_MESSAGE_SNAPSHOT:
      return parse_snapshot (&r, &out->u.snapshot, error);
    case IOV_RELAY_MESSAGE_EVENTS:
      return parse_events (&r, &out->u.events, error);
    case IOV_RELAY_MESSAGE_DROPS:
    case IOV_RELAY_MESSAGE_STATS:
      return parse_drops (&r, &out->u.drops, error);
    case IOV_RELAY_MESSAGE_STATE:
      return parse_state (&r, &out->u.state, error);
    case IOV_RELAY_MESSAGE_PONG:
      return parse_pong (&r, &out->u.pong, error);
    case IOV_RELAY_MESSAGE_ERROR:
      return parse_error (&r, &out->u.error, error);
    case IOV_RELAY_MESSAGE_UNKNOWN:
    default:
      break;
    }
  g_return_val_if_reached (FALSE);
}

/**
 * iov_relay_parse_message:
 * @out: (out caller-allocates): the message; clear it with
 *   iov_relay_message_clear() after a success
 *
 * Reads one message of the events WebSocket (docs/relay.md), checking
 * every member the relay writes.  A hello of another protocol version is
 * read as far as its "version" and nothing else: the caller refuses the
 * relay.  On failure @out holds nothing, but its type says which kind of
 * message failed when its "type" was known.  Never trusts @data: it need
 * not be NUL-terminated or valid UTF-8.
 */
gboolean
iov_relay_parse_message (const char       *data,
                         gsize             len,
                         IovRelayMessage  *out,
                         GError          **error)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *object;
  const char *type;
  IovRelayMessageType failed;

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  memset (out, 0, sizeof *out);
  parser = json_parser_new_immutable ();
  object = load_object (parser, data, len, error);
  if (object == NULL)
    return FALSE;
  type = type_member (object, error);
  if (type == NULL)
    return FALSE;
  for (guint i = IOV_RELAY_MESSAGE_HELLO; i < G_N_ELEMENTS (message_types); i++)
    if (g_str_equal (type, message_types[i]))
      out->type = i;
  if (out->type == IOV_RELAY_MESSAGE_UNKNOWN)
    {
      g_set_error (error, IOV_RELAY_ERROR, IOV_RELAY_ERROR_INVALID_MESSAGE,
                   _("Unknown message type “%s” from the relay"), type);
      return FALSE;
    }

  /* Members borrowed from the tree stay valid as long as the message. */
  out->root = json_parser_steal_root (parser);
  if (parse_members (object, out, error))
    return TRUE;
  failed = out->type;
  iov_relay_message_clear (out);
  out->type = failed;
  return FALSE;
}

void
iov_relay_message_clear (IovRelayMessage *message)
{
  g_return_if_fail (message != NULL);

  if (message->type == IOV_RELAY_MESSAGE_SNAPSHOT)
    g_clear_pointer (&message->u.snapshot.changes, g_ptr_array_unref);
  g_clear_pointer (&message->root, json_node_unref);
  memset (message, 0, sizeof *message);
}

/* For messages that travel between threads. */
IovRelayMessage *
iov_relay_message_new (void)
{
  return g_new0 (IovRelayMessage, 1);
}

void
iov_relay_message_free (IovRelayMessage *message)
{
  if (message == NULL)
    return;
  iov_relay_message_clear (message);
  g_free (message);
}

/* ---- HTTP and tokens ---------------------------------------------------- */

void
iov_relay_append_http_error (GString    *out,
                             guint       status,
                             const char *message)
{
  g_return_if_fail (out != NULL && message != NULL);

  /* Spaced unlike the WebSocket messages: curl users read these. */
  g_string_append_printf (out, "{\"v\": %d, \"status\": %u, \"error\": ", IOV_RELAY_PROTOCOL_VERSION, status);
  iov_json_append_string (out, message, strlen (message));
  g_string_append (out, "}\n");
}

/**
 * iov_relay_token_equal:
 *
 * Compares in time that depends only on the expected token's length, so
 * that response times say nothing about how much of a guess was right.
 */
gboolean
iov_relay_token_equal (const char *presented,
                       const char *expected)
{
  gsize plen, elen;
  guint diff;

  if (presented == NULL || expected == NULL)
    return FALSE;
  plen = strlen (presented);
  elen = strlen (expected);
  diff = plen != elen;
  for (gsize i = 0; i < elen; i++)
    diff |= (guchar) expected[i] ^ (guchar) (i < plen ? presented[i] : 0);
  return elen > 0 && diff == 0;
}
