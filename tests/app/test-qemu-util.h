/* test-qemu-util.h — asking a real QEMU, on a QMP socket of its own
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

#include "iov-qmp-client.h"
#include "iov-trace-control.h"

static inline void
qemu_test_store_result (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Whether QEMU at @address (unix:PATH) reports trace event @event in the
 * state @enabled within @seconds: what the view asked QEMU to do, checked
 * by QEMU itself rather than by the view. */
static inline gboolean
qemu_test_wait_trace_state (const char *address,
                            const char *event,
                            gboolean    enabled,
                            guint       seconds)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(IovQmpClient) check = iov_qmp_client_new (address, &error);
  gint64 deadline = g_get_monotonic_time () + seconds * G_TIME_SPAN_SECOND;
  gboolean reached = FALSE;

  g_assert_no_error (error);
  while (!reached && g_get_monotonic_time () < deadline)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(JsonNode) reply = NULL;
      JsonArray *events;

      if (iov_qmp_client_get_state (check) != IOV_QMP_STATE_CONNECTED)
        {
          iov_qmp_client_connect_async (check, NULL, qemu_test_store_result, &result);
          while (result == NULL)
            g_main_context_iteration (NULL, TRUE);
          g_assert_true (iov_qmp_client_connect_finish (check, result, &error));
          g_assert_no_error (error);
          g_clear_object (&result);
        }
      iov_trace_list_events_async (check, event, NULL, qemu_test_store_result, &result);
      while (result == NULL)
        g_main_context_iteration (NULL, TRUE);
      reply = iov_trace_list_events_finish (check, result, &error);
      g_assert_no_error (error);
      events = json_node_get_array (reply);
      for (guint i = 0; i < json_array_get_length (events); i++)
        {
          JsonObject *e = json_array_get_object_element (events, i);

          if (g_strcmp0 (json_object_get_string_member (e, "name"), event) == 0)
            reached = (g_strcmp0 (json_object_get_string_member (e, "state"), "enabled") == 0) == !!enabled;
        }
      g_main_context_iteration (NULL, FALSE);
    }
  iov_qmp_client_close (check);
  return reached;
}
