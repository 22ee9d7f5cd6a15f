/* iov-json.h
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

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Members of what a peer sent (QEMU's QMP replies), read without trusting
 * their presence or their type: json-glib's own getters log a critical on
 * a member of another kind.  @object may be NULL; a member that is not
 * there, or not of the type asked for, gives the default (NULL for
 * containers). */
JsonObject *iov_json_object  (JsonObject *object,
                              const char *member);
JsonArray  *iov_json_array   (JsonObject *object,
                              const char *member);
const char *iov_json_string  (JsonObject *object,
                              const char *member,
                              const char *default_value);
gint64      iov_json_int     (JsonObject *object,
                              const char *member,
                              gint64      default_value);
gboolean    iov_json_bool    (JsonObject *object,
                              const char *member,
                              gboolean    default_value);
/* Element @index of @array when it is an object, else NULL. */
JsonObject *iov_json_array_object (JsonArray *array,
                                   guint      index);

G_END_DECLS
