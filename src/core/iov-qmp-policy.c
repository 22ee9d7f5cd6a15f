/* iov-qmp-policy.c
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

#define G_LOG_DOMAIN "iov-qmp-policy"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "iov-json.h"
#include "iov-qmp-client.h"
#include "iov-qmp-policy.h"

/* Never harm the VM. A command reaches QEMU only when, in this order:
 *  1. it is on the read-only allow-list (iov_qmp_command_is_allowed());
 *  2. it is not known to harm this release (the table below, from real
 *     runs: a new harm found is a new row);
 *  3. if unstable (an "x-" name, or the schema's "unstable" feature), a
 *     test of ours proved it safe on this major.minor release;
 *  4. the release offers it, when its query-qmp-schema was read.
 * The greeting's version is what counts: it is the QEMU on the socket. */

typedef struct
{
  const char *command;
  guint       from_major, from_minor;   /* first release known to be harmed */
  guint       to_major, to_minor;       /* last release, or 0.0: every later one too */
  const char *what;                     /* what it does to QEMU, untranslated facts */
} Harm;

static const Harm harms[] = {
  /* Seen on Debian's 11.1.3: QEMU exits 134 on any virtio device, even at -S.
   * Upstream master of 2026-02 (ece408818d, hw/virtio/virtio-qmp.c:764-837)
   * fills every required member of VirtioStatus and answers at -S, so the
   * fault came after it; until its fix is known, every release from 11.1. */
  { "x-query-virtio-status", 11, 1, 0, 0,
    "it aborts QEMU (qapi/qapi-visit-core.c:52: visit_start_struct: Assertion failed, exit 134)" },
};

typedef struct
{
  const char *command;
  guint       major, minor;
} Proven;

/* Unstable commands that tests/integration/test-eras.py sends to a real
 * QEMU of that release, checking after each that QEMU still answers
 * query-status. Add a release only with that test run on it. */
static const Proven proven[] = {
  { "x-query-virtio-status", 7, 2 },
  { "x-query-virtio-status", 10, 0 },
};

struct _IovQmpPolicy
{
  guint       major, minor, micro;
  char       *package;
  GHashTable *commands;   /* name → GINT_TO_POINTER (unstable), or NULL before a schema */
};

IovQmpPolicy *
iov_qmp_policy_new (guint       major,
                    guint       minor,
                    guint       micro,
                    const char *package)
{
  IovQmpPolicy *self = g_new0 (IovQmpPolicy, 1);

  self->major = major;
  self->minor = minor;
  self->micro = micro;
  self->package = g_strdup (package ? package : "");
  return self;
}

void
iov_qmp_policy_free (IovQmpPolicy *self)
{
  if (self == NULL)
    return;
  g_free (self->package);
  g_clear_pointer (&self->commands, g_hash_table_unref);
  g_free (self);
}

/**
 * iov_qmp_policy_set_schema:
 * @schema: the "return" of query-qmp-schema
 *
 * Learns which commands this QEMU offers and which of them it marks
 * unstable. On malformed input the policy keeps what it had.
 */
gboolean
iov_qmp_policy_set_schema (IovQmpPolicy  *self,
                           JsonNode      *schema,
                           GError       **error)
{
  g_autoptr(GHashTable) commands = NULL;
  JsonArray *array;

  g_return_val_if_fail (self != NULL, FALSE);

  if (schema == NULL || !JSON_NODE_HOLDS_ARRAY (schema))
    {
      g_set_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_COMMAND_FAILED,
                   _("query-qmp-schema: the reply is not an array"));
      return FALSE;
    }
  commands = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  array = json_node_get_array (schema);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *entry = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const char *meta, *name;
      gboolean unstable = FALSE;

      if (entry == NULL)
        continue;
      meta = iov_json_string (entry, "meta-type", NULL);
      name = iov_json_string (entry, "name", NULL);
      if (meta == NULL || name == NULL || !g_str_equal (meta, "command"))
        continue;
      if (json_object_has_member (entry, "features"))
        {
          JsonNode *fn = json_object_get_member (entry, "features");

          if (JSON_NODE_HOLDS_ARRAY (fn))
            {
              JsonArray *features = json_node_get_array (fn);

              for (guint f = 0; f < json_array_get_length (features); f++)
                {
                  JsonNode *feature = json_array_get_element (features, f);

                  if (JSON_NODE_HOLDS_VALUE (feature) && json_node_get_value_type (feature) == G_TYPE_STRING &&
                      g_str_equal (json_node_get_string (feature), "unstable"))
                    unstable = TRUE;
                }
            }
        }
      g_hash_table_insert (commands, g_strdup (name), GINT_TO_POINTER (unstable));
    }
  if (g_hash_table_size (commands) == 0)
    {
      g_set_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_COMMAND_FAILED,
                   _("query-qmp-schema: the reply lists no command"));
      return FALSE;
    }
  g_clear_pointer (&self->commands, g_hash_table_unref);
  self->commands = g_steal_pointer (&commands);
  return TRUE;
}

gboolean
iov_qmp_policy_has_schema (IovQmpPolicy *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->commands != NULL;
}

/* TRUE when the schema lists @command, or when no schema was read. */
gboolean
iov_qmp_policy_offers (IovQmpPolicy *self,
                       const char   *command)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->commands == NULL || g_hash_table_contains (self->commands, command);
}

static gboolean
release_in (const IovQmpPolicy *self,
            guint               from_major,
            guint               from_minor,
            guint               to_major,
            guint               to_minor)
{
  guint v = self->major * 1000 + self->minor;

  if (v < from_major * 1000 + from_minor)
    return FALSE;
  return (to_major == 0 && to_minor == 0) || v <= to_major * 1000 + to_minor;
}

static char *
proven_releases (const char *command)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (proven); i++)
    if (g_str_equal (proven[i].command, command))
      g_string_append_printf (s, "%s%u.%u", s->len ? ", " : "", proven[i].major, proven[i].minor);
  return s->len ? g_string_free (g_steal_pointer (&s), FALSE) : g_strdup (_("none"));
}

gboolean
iov_qmp_policy_check (IovQmpPolicy  *self,
                      const char    *command,
                      JsonNode      *arguments,
                      GError       **error)
{
  gboolean unstable;

  g_return_val_if_fail (self != NULL, FALSE);

  if (!iov_qmp_command_is_allowed (command, arguments, error))
    return FALSE;
  if (g_str_equal (command, "qmp_capabilities"))
    return TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (harms); i++)
    if (g_str_equal (harms[i].command, command) &&
        release_in (self, harms[i].from_major, harms[i].from_minor, harms[i].to_major, harms[i].to_minor))
      {
        g_set_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_UNSAFE,
                     _("Refused to send “%s” to QEMU %u.%u.%u: on this release %s"),
                     command, self->major, self->minor, self->micro, harms[i].what);
        return FALSE;
      }

  unstable = g_str_has_prefix (command, "x-") ||
             (self->commands != NULL && GPOINTER_TO_INT (g_hash_table_lookup (self->commands, command)));
  if (unstable)
    {
      gboolean ok = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (proven); i++)
        ok |= g_str_equal (proven[i].command, command) &&
              proven[i].major == self->major && proven[i].minor == self->minor;
      if (!ok)
        {
          g_autofree char *where = proven_releases (command);

          g_set_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_UNSAFE,
                       _("Refused to send “%s” to QEMU %u.%u.%u: it is unstable, and Iovista sends an unstable "
                         "command only to the releases its tests proved it safe on (%s)"),
                       command, self->major, self->minor, self->micro, where);
          return FALSE;
        }
    }

  if (!iov_qmp_policy_offers (self, command))
    {
      g_set_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_COMMAND_NOT_FOUND,
                   _("QEMU %u.%u.%u does not offer “%s” (it is not in its query-qmp-schema)"),
                   self->major, self->minor, self->micro, command);
      return FALSE;
    }
  return TRUE;
}
