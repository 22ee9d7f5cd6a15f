/* test-qmp-policy.c
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

#include <string.h>

#include "iov-qmp-client.h"
#include "iov-qmp-policy.h"
#include "../test-xz.h"

/* The per-release command policy (issue H), fed what real QEMU 5.2, 7.2,
 * 10.0 and 11.1 sent: their greetings and query-qmp-schema replies
 * (tests/data/qmp/releases, captured from Debian's builds). */

static const char *releases[] = { "5.2", "7.2", "10.0", "11.1" };

static IovQmpPolicy *
policy_for (const char *release)
{
  g_autofree char *name = g_strdup_printf ("%s-greeting.jsonl", release);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "qmp", "releases", name, NULL);
  g_autofree char *greeting = NULL;
  g_autofree char *schema_name = g_strdup_printf ("releases/%s-query-qmp-schema.jsonl.xz", release);
  g_autofree char *schema_text = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *qemu, *version;
  IovQmpPolicy *policy;

  g_file_get_contents (path, &greeting, NULL, &error);
  g_assert_no_error (error);
  json_parser_load_from_data (parser, greeting, -1, &error);
  g_assert_no_error (error);
  version = json_object_get_object_member (json_object_get_object_member (
              json_node_get_object (json_parser_get_root (parser)), "QMP"), "version");
  qemu = json_object_get_object_member (version, "qemu");
  policy = iov_qmp_policy_new (json_object_get_int_member (qemu, "major"), json_object_get_int_member (qemu, "minor"),
                               json_object_get_int_member (qemu, "micro"),
                               json_object_get_string_member (version, "package"));

  schema_text = test_read_xz ("qmp", schema_name);
  if (schema_text == NULL)
    return policy;
  json_parser_load_from_data (parser, schema_text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (iov_qmp_policy_set_schema (policy, json_object_get_member (
                   json_node_get_object (json_parser_get_root (parser)), "return"), &error));
  g_assert_no_error (error);
  return policy;
}

static JsonNode *
path_args (const char *path)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, path);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* What each release may be sent. -1 = allowed; else the GError code. */
static void
test_releases (void)
{
  static const struct { const char *command; int expect[4]; } cases[] = {
    /* 5.2 has no x-query-virtio*; 11.1 aborts on it (lab, exit 134) */
    { "x-query-virtio-status", { IOV_QMP_ERROR_UNSAFE, -1, -1, IOV_QMP_ERROR_UNSAFE } },
    /* not needed: the backend path is the device's "virtio-backend" child */
    { "x-query-virtio", { IOV_QMP_ERROR_NOT_ALLOWED, IOV_QMP_ERROR_NOT_ALLOWED,
                          IOV_QMP_ERROR_NOT_ALLOWED, IOV_QMP_ERROR_NOT_ALLOWED } },
    { "query-pci", { -1, -1, -1, -1 } },
    { "query-status", { -1, -1, -1, -1 } },
    { "query-qmp-schema", { -1, -1, -1, -1 } },
    { "qom-get", { -1, -1, -1, -1 } },
    { "trace-event-get-state", { -1, -1, -1, -1 } },
    /* query-stats came with 7.1: 5.2's schema does not list it */
    { "query-stats", { IOV_QMP_ERROR_COMMAND_NOT_FOUND, -1, -1, -1 } },
    { "x-query-ramblock", { IOV_QMP_ERROR_NOT_ALLOWED, IOV_QMP_ERROR_NOT_ALLOWED,
                            IOV_QMP_ERROR_NOT_ALLOWED, IOV_QMP_ERROR_NOT_ALLOWED } },
    { "quit", { IOV_QMP_ERROR_NOT_ALLOWED, IOV_QMP_ERROR_NOT_ALLOWED,
                IOV_QMP_ERROR_NOT_ALLOWED, IOV_QMP_ERROR_NOT_ALLOWED } },
  };
  g_autoptr(JsonNode) args = path_args ("/machine/peripheral-anon/device[1]/virtio-backend");
  g_autofree char *xz = g_find_program_in_path ("xz");

  if (xz == NULL)
    {
      g_test_skip ("xz is needed to read the captured schemas");
      return;
    }
  for (guint r = 0; r < G_N_ELEMENTS (releases); r++)
    {
      g_autoptr(IovQmpPolicy) policy = policy_for (releases[r]);

      g_assert_true (iov_qmp_policy_has_schema (policy));
      for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
        {
          g_autoptr(GError) error = NULL;
          gboolean ok = iov_qmp_policy_check (policy, cases[i].command, args, &error);

          g_test_message ("%s %s: %s", releases[r], cases[i].command, error ? error->message : "allowed");
          if (cases[i].expect[r] < 0)
            {
              g_assert_no_error (error);
              g_assert_true (ok);
            }
          else
            {
              g_assert_false (ok);
              g_assert_error (error, IOV_QMP_ERROR, cases[i].expect[r]);
            }
        }
    }
}

static void
test_messages (void)
{
  g_autoptr(IovQmpPolicy) p111 = iov_qmp_policy_new (11, 1, 3, "Debian 1:11.1.3+ds-1");
  g_autoptr(IovQmpPolicy) p110 = iov_qmp_policy_new (11, 0, 0, "");
  g_autoptr(IovQmpPolicy) p72 = iov_qmp_policy_new (7, 2, 22, "Debian 1:7.2+dfsg-7+deb12u18+b3");
  g_autoptr(JsonNode) args = path_args ("/x/virtio-backend");
  g_autoptr(GError) error = NULL;

  /* A known harm names itself and the release. */
  g_assert_false (iov_qmp_policy_check (p111, "x-query-virtio-status", args, &error));
  g_assert_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_UNSAFE);
  g_assert_nonnull (strstr (error->message, "QEMU 11.1.3"));
  g_assert_nonnull (strstr (error->message, "aborts QEMU"));
  g_clear_error (&error);

  /* A release nobody tested gets no unstable command, harm or not;
   * the message says where it was proven. */
  g_assert_false (iov_qmp_policy_check (p110, "x-query-virtio-status", args, &error));
  g_assert_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_UNSAFE);
  g_assert_nonnull (strstr (error->message, "7.2, 10.0"));
  g_clear_error (&error);

  /* Without a schema, a stable read-only command goes through. */
  g_assert_false (iov_qmp_policy_has_schema (p72));
  g_assert_true (iov_qmp_policy_check (p72, "query-pci", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (iov_qmp_policy_check (p72, "x-query-virtio-status", args, &error));
  g_assert_no_error (error);
}

static void
test_schema_features (void)
{
  g_autoptr(IovQmpPolicy) policy = iov_qmp_policy_new (7, 2, 0, "");
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  static const char *bad[] = { "{}", "[]", "[1, \"x\", {\"meta-type\": \"object\", \"name\": \"q\"}]", "null" };

  /* Malformed schemas are refused and change nothing. */
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_true (json_parser_load_from_data (parser, bad[i], -1, NULL));
      g_assert_false (iov_qmp_policy_set_schema (policy, json_parser_get_root (parser), &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      g_assert_false (iov_qmp_policy_has_schema (policy));
    }

  /* A stable-looking name the schema marks unstable is unstable. */
  g_assert_true (json_parser_load_from_data (parser,
    "[{\"name\": \"query-pci\", \"meta-type\": \"command\", \"features\": [\"unstable\"]},"
    " {\"name\": \"query-status\", \"meta-type\": \"command\", \"features\": [\"deprecated\"]},"
    " {\"name\": \"0\", \"meta-type\": \"object\"}]", -1, NULL));
  g_assert_true (iov_qmp_policy_set_schema (policy, json_parser_get_root (parser), &error));
  g_assert_no_error (error);
  g_assert_false (iov_qmp_policy_check (policy, "query-pci", NULL, &error));
  g_assert_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_UNSAFE);
  g_clear_error (&error);
  g_assert_true (iov_qmp_policy_check (policy, "query-status", NULL, &error));
  g_assert_no_error (error);
  g_assert_false (iov_qmp_policy_check (policy, "query-version", NULL, &error));
  g_assert_error (error, IOV_QMP_ERROR, IOV_QMP_ERROR_COMMAND_NOT_FOUND);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/qmp-policy/releases", test_releases);
  g_test_add_func ("/qmp-policy/messages", test_messages);
  g_test_add_func ("/qmp-policy/schema-features", test_schema_features);
  return g_test_run ();
}
