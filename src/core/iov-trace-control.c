/* iov-trace-control.c — QEMU's trace events switched over QMP
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

#define G_LOG_DOMAIN "iov-trace-control"

#include "config.h"

#include <glib/gi18n-lib.h>

#include <string.h>

#include "iov-trace-control.h"

static const IovTracePreset presets[] = {
  { "vtd-invalidations", N_("VT-d invalidations"),
    { "vtd_inv_desc*", "vtd_inv_qi_*", "vtd_iotlb_reset", "vtd_context_cache_reset", NULL } },
  { "notifier-traffic", N_("Notifier traffic"),
    /* What makes deliveries observable (issue H): the invalidations, the
     * topology (switches, vhost's start and stop, 11.1's _in/_out), the
     * domains, the guest's ATS enable, and the consumers' evidence. */
    { "vtd_inv_desc", "vtd_inv_desc_iotlb_*", "vtd_page_walk_one", "vtd_switch_address_space",
      "vtd_as_unmap_whole", "vtd_iotlb_page_update", "vtd_iotlb_cc_update", "virtio_iommu_notify_*",
      "vfio_iommu_map_notify", "vhost_user_write", "vhost_iotlb_miss", "vhost_dev_start*", "vhost_dev_stop*",
      "pci_cfg_write", "amdvi_*_inval", NULL } },
  { "everything-iommu", N_("Everything IOMMU"),
    { "vtd_*", "virtio_iommu_*", "amdvi_*", NULL } },
};

static const char * const noisy_events[] = {
  "vtd_ir_remap*", "vtd_warn_ir_vector", "vtd_dmar_translate", "vtd_iotlb_page_hit",
};

/**
 * iov_trace_preset_qemu_args:
 * @file: (nullable): the trace's path, or %NULL for QEMU's stderr
 *
 * Returns: QEMU options that turn @preset's events on from the start, for
 * the "start QEMU with" hints: one -trace per pattern (QEMU takes several),
 * the file on the last. 5.2 ignores -trace …,file= and needs -D FILE.
 */
char *
iov_trace_preset_qemu_args (const IovTracePreset *preset,
                            const char           *file)
{
  GString *s = g_string_new ("-msg timestamp=on");

  for (guint p = 0; preset->patterns[p]; p++)
    {
      g_string_append_printf (s, " -trace '%s'", preset->patterns[p]);
      if (preset->patterns[p + 1] == NULL && file != NULL)
        g_string_append_printf (s, ",file=%s", file);
    }
  return g_string_free (s, FALSE);
}

const IovTracePreset *
iov_trace_presets (guint *n_presets)
{
  if (n_presets)
    *n_presets = G_N_ELEMENTS (presets);
  return presets;
}

const IovTracePreset *
iov_trace_preset_find (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
    if (g_strcmp0 (presets[i].name, name) == 0)
      return &presets[i];
  return NULL;
}

const char * const *
iov_trace_noisy_events (guint *n_events)
{
  if (n_events)
    *n_events = G_N_ELEMENTS (noisy_events);
  return noisy_events;
}

gboolean
iov_trace_event_is_noisy (const char *event)
{
  for (guint i = 0; i < G_N_ELEMENTS (noisy_events); i++)
    if (g_pattern_match_simple (noisy_events[i], event))
      return TRUE;
  return FALSE;
}

gboolean
iov_trace_preset_matches (const IovTracePreset *preset,
                          const char           *event)
{
  for (guint i = 0; preset->patterns[i]; i++)
    if (g_pattern_match_simple (preset->patterns[i], event))
      return !iov_trace_event_is_noisy (event) || g_str_equal (preset->patterns[i], event);
  return FALSE;
}

typedef struct
{
  guint      pending;
  guint      sent;
  GPtrArray *confirmed; /* char *: the patterns QEMU answered, in order */
  GError    *error;     /* the first failure */
} Apply;

typedef struct
{
  GTask *task;
  char  *pattern;
} SetOne;

static void
apply_free (Apply *a)
{
  g_clear_error (&a->error);
  g_clear_pointer (&a->confirmed, g_ptr_array_unref);
  g_free (a);
}

/* A preset cut short (QEMU killed while its commands were in flight) says
 * what QEMU had already confirmed: those events are switched, the others
 * may or may not be. */
static void
apply_return (GTask *task,
              Apply *a)
{
  g_autoptr(GString) list = NULL;
  GError *error;

  if (a->error == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (a->confirmed->len == 0)
    {
      error = g_error_new (a->error->domain, a->error->code,
                           _("%s; QEMU confirmed none of the preset's %u trace-event-set-state commands"),
                           a->error->message, a->sent);
      g_task_return_error (task, error);
      return;
    }
  list = g_string_new (NULL);
  for (guint i = 0; i < a->confirmed->len; i++)
    g_string_append_printf (list, "%s%s", i ? ", " : "", (const char *) g_ptr_array_index (a->confirmed, i));
  error = g_error_new (a->error->domain, a->error->code,
                       _("%s; QEMU confirmed %u of the preset's %u trace-event-set-state commands before that: %s"),
                       a->error->message, a->confirmed->len, a->sent, list->str);
  g_task_return_error (task, error);
}

static void
set_state_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autofree SetOne *one = user_data;
  g_autoptr(GTask) task = one->task;
  g_autofree char *pattern = one->pattern;
  Apply *a = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = iov_qmp_client_execute_finish (IOV_QMP_CLIENT (source), result, &error);

  /* An exact name this release does not have (5.2 has no vhost_user_write):
   * QEMU answers "unknown event" even with ignore-unavailable; the preset's
   * other events still apply. */
  if (reply == NULL && pattern != NULL && strpbrk (pattern, "*?") == NULL &&
      g_error_matches (error, IOV_QMP_ERROR, IOV_QMP_ERROR_GENERIC_ERROR))
    g_clear_error (&error);
  if (reply == NULL && error != NULL && a->error == NULL)
    a->error = g_steal_pointer (&error);
  else if (reply != NULL)
    g_ptr_array_add (a->confirmed, g_steal_pointer (&pattern));
  if (--a->pending > 0)
    return;
  apply_return (task, a);
}

static void
set_one (IovQmpClient *client,
         GTask        *task,
         const char   *pattern,
         gboolean      enable)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) args = NULL;
  Apply *a = g_task_get_task_data (task);
  SetOne *one;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, pattern);
  json_builder_set_member_name (b, "enable");
  json_builder_add_boolean_value (b, enable);
  /* Events compiled out of this QEMU are not an error. */
  json_builder_set_member_name (b, "ignore-unavailable");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_end_object (b);
  args = json_builder_get_root (b);
  a->pending++;
  a->sent++;
  one = g_new0 (SetOne, 1);
  one->task = g_object_ref (task);
  one->pattern = g_strdup (pattern);
  iov_qmp_client_execute_async (client, "trace-event-set-state", args, g_task_get_cancellable (task),
                                set_state_cb, one);
}

void
iov_trace_preset_apply_async (IovQmpClient         *client,
                              const IovTracePreset *preset,
                              gboolean              enable,
                              GCancellable         *cancellable,
                              GAsyncReadyCallback   callback,
                              gpointer              user_data)
{
  g_autoptr(GTask) task = g_task_new (client, cancellable, callback, user_data);
  Apply *a = g_new0 (Apply, 1);

  g_return_if_fail (IOV_IS_QMP_CLIENT (client));
  g_return_if_fail (preset != NULL);

  g_task_set_source_tag (task, iov_trace_preset_apply_async);
  g_task_set_task_data (task, a, (GDestroyNotify) apply_free);

  /* Hold one count while sending, so a fast reply cannot finish early. */
  a->pending = 1;
  a->confirmed = g_ptr_array_new_with_free_func (g_free);
  for (guint p = 0; preset->patterns[p]; p++)
    set_one (client, task, preset->patterns[p], enable);
  /* Turning a broad pattern on must not switch the noisy events on. */
  if (enable)
    for (guint i = 0; i < G_N_ELEMENTS (noisy_events); i++)
      {
        gboolean named = FALSE;

        for (guint p = 0; preset->patterns[p]; p++)
          named |= g_str_equal (preset->patterns[p], noisy_events[i]);
        if (!named)
          set_one (client, task, noisy_events[i], FALSE);
      }
  if (--a->pending == 0)
    apply_return (task, a);
}

gboolean
iov_trace_preset_apply_finish (IovQmpClient  *client,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, client), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
get_state_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  JsonNode *reply = iov_qmp_client_execute_finish (IOV_QMP_CLIENT (source), result, &error);

  if (reply == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, reply, (GDestroyNotify) json_node_unref);
}

void
iov_trace_list_events_async (IovQmpClient        *client,
                             const char          *pattern,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task = g_task_new (client, cancellable, callback, user_data);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) args = NULL;

  g_task_set_source_tag (task, iov_trace_list_events_async);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, pattern ? pattern : "*");
  json_builder_end_object (b);
  args = json_builder_get_root (b);
  iov_qmp_client_execute_async (client, "trace-event-get-state", args, cancellable, get_state_cb, task);
}

JsonNode *
iov_trace_list_events_finish (IovQmpClient  *client,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, client), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
