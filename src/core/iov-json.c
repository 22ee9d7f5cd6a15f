/* iov-json.c — reading a peer's JSON without trusting it
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

#include "config.h"

#include "iov-json.h"

static JsonNode *
member (JsonObject *object,
        const char *name)
{
  return object != NULL ? json_object_get_member (object, name) : NULL;
}

static gboolean
holds (JsonNode *node,
       GType     type)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

JsonObject *
iov_json_object (JsonObject *object,
                 const char *name)
{
  JsonNode *node = member (object, name);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

JsonArray *
iov_json_array (JsonObject *object,
                const char *name)
{
  JsonNode *node = member (object, name);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

const char *
iov_json_string (JsonObject *object,
                 const char *name,
                 const char *default_value)
{
  JsonNode *node = member (object, name);

  return holds (node, G_TYPE_STRING) ? json_node_get_string (node) : default_value;
}

gint64
iov_json_int (JsonObject *object,
              const char *name,
              gint64      default_value)
{
  JsonNode *node = member (object, name);

  return holds (node, G_TYPE_INT64) ? json_node_get_int (node) : default_value;
}

gboolean
iov_json_bool (JsonObject *object,
               const char *name,
               gboolean    default_value)
{
  JsonNode *node = member (object, name);

  return holds (node, G_TYPE_BOOLEAN) ? json_node_get_boolean (node) : default_value;
}

JsonObject *
iov_json_array_object (JsonArray *array,
                       guint      index)
{
  JsonNode *node = array != NULL && index < json_array_get_length (array) ? json_array_get_element (array, index) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}
