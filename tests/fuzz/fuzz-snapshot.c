/* fuzz-snapshot.c — libFuzzer harness for the snapshot reader (`--infer`)
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

#include <stdint.h>
#include <string.h>

#include "fuzz-util.h"
#include "iov-inference.h"
#include "iov-snapshot-info.h"
#include "iov-types.h"

/* The input is a snapshot, as `iovista-cli trace FILE --infer SNAPSHOT`
 * reads it.  Either the reader refuses it with a GError (the JSON path of
 * what is wrong, then what is wrong with it) and the inference refuses it
 * with the same message, nothing of it used; or:
 *  - every value holds what its type promises (a valid version, BDFs,
 *    start ≤ end), and written back and read again it is the same JSON,
 *    both as a tree and as text;
 *  - the inference is built on it, follows it as a topology update, and
 *    runs a short trace of the invalidations and consumer evidence every
 *    era has, on each of the snapshot's notifier devices. */

static gboolean
is_bdf (const char *text)
{
  guint8 bus, devfn;

  return text != NULL && strlen (text) == 7 && iov_parse_bdf (text, &bus, &devfn);
}

static void
check_info (const IovSnapshotInfo *info)
{
  guint major, minor, micro;

  g_assert_true (iov_snapshot_parse_version (info->version, &major, &minor, &micro));
  g_assert_true (major == info->major && minor == info->minor && micro == info->micro);
  g_assert_nonnull (iov_snapshot_info_get_profile (info));
  g_assert_true (info->aw_bits == 0 || (info->aw_bits >= 32 && info->aw_bits <= 64));
  g_assert_true (info->iommu_type == NULL || info->iommu_properties != NULL);
  for (guint i = 0; i < info->devices->len; i++)
    {
      const IovSnapshotDevice *d = g_ptr_array_index (info->devices, i);

      g_assert_true (is_bdf (d->bdf));
      g_assert_true (d->vhost >= -1 && d->vhost <= 1);
    }
  for (guint i = 0; i < info->address_spaces->len; i++)
    {
      const IovSnapshotAddressSpace *as = g_ptr_array_index (info->address_spaces, i);

      for (guint j = 0; j < as->spaces->len; j++)
        {
          const IovSnapshotSpace *s = g_ptr_array_index (as->spaces, j);

          g_assert_nonnull (s->name);
          g_assert_nonnull (s->root);
          g_assert_true (s->device == NULL || (s->has_device && is_bdf (s->device)));
          for (guint c = 0; s->candidates && s->candidates[c]; c++)
            g_assert_true (is_bdf (s->candidates[c]));
        }
      for (guint j = 0; j < as->flat_ranges->len; j++)
        {
          const IovSnapshotRange *r = &g_array_index (as->flat_ranges, IovSnapshotRange, j);

          g_assert_cmpuint (r->start, <=, r->end);
          g_assert_cmpint (r->role, <=, IOV_RANGE_ROLE_PASSTHROUGH);
        }
      for (guint j = 0; j < as->notifiers->len; j++)
        {
          const IovSnapshotNotifier *n = g_ptr_array_index (as->notifiers, j);

          g_assert_true (is_bdf (n->device));
          g_assert_cmpuint (n->start, <=, n->end);
          g_assert_true (n->has_flags || n->flags == 0);
          g_assert_cmpuint (n->flags & ~7u, ==, 0);
        }
    }
}

static void
check_round_trip (const IovSnapshotInfo *info)
{
  g_autoptr(JsonNode) written = iov_snapshot_info_to_json (info);
  g_autoptr(IovSnapshotInfo) again = NULL;
  g_autoptr(IovSnapshotInfo) from_text = NULL;
  g_autoptr(JsonNode) rewritten = NULL;
  g_autoptr(JsonNode) from_text_json = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = iov_snapshot_info_to_string (info, FALSE);

  again = iov_snapshot_info_new_from_json (written, &error);
  if (again == NULL)
    g_error ("the reader refuses what the writer wrote: %s", error->message);
  rewritten = iov_snapshot_info_to_json (again);
  fuzz_assert_json_equal (written, rewritten);

  from_text = iov_snapshot_info_new_from_data (text, -1, &error);
  if (from_text == NULL)
    g_error ("the reader refuses the text the writer wrote: %s\n%s", error->message, text);
  from_text_json = iov_snapshot_info_to_json (from_text);
  fuzz_assert_json_equal (written, from_text_json);
}

/* A few lines of every era's invalidations and consumer evidence, on
 * @device ("01:00.0"). */
static void
feed_device (IovInference *inference,
             const char   *device,
             guint64      *line,
             GArray       *deliveries)
{
  guint8 bus = 0, devfn = 0;
  char *lines[9];

  iov_parse_bdf (device, &bus, &devfn);
  lines[0] = g_strdup_printf ("vtd_switch_address_space Device %s switching address space (iommu enabled=1)", device);
  lines[1] = g_strdup ("vhost_dev_start 0x1:virtio-net vrings:0");
  lines[2] = g_strdup_printf ("vtd_inv_desc invalidate desc type device high 0x7ffffffffffff001 low 0x%x0000000003",
                              bus << 8 | devfn);
  lines[3] = g_strdup ("vhost_user_write req:22 flags:0x9");
  lines[4] = g_strdup ("vtd_inv_desc_iotlb_pages iotlb invalidate pages domain 0x1 addr 0x1000 mask 0x0 hint 0x0");
  lines[5] = g_strdup_printf ("virtio_iommu_notify_unmap iova=0x1000 size=0x1000 sid=0x%x", bus << 8 | devfn);
  lines[6] = g_strdup ("vfio_iommu_map_notify iova 0x1000 - 0x1fff");
  lines[7] = g_strdup_printf ("vtd_as_unmap_whole Device %s start 0x0 size 0x100000", device);
  lines[8] = g_strdup_printf ("vtd_switch_address_space Device %s switching address space (iommu enabled=0)", device);

  for (guint i = 0; i < G_N_ELEMENTS (lines); i++, (*line)++)
    {
      const char *sp = strchr (lines[i], ' ');
      g_autofree char *name = g_strndup (lines[i], sp - lines[i]);

      iov_inference_feed (inference, *line * 1000, *line, name, sp + 1, strlen (sp + 1), deliveries);
      g_free (lines[i]);
    }
}

static void
run_trace (IovInference          *inference,
           const IovSnapshotInfo *info)
{
  g_autoptr(GArray) deliveries = g_array_new (FALSE, TRUE, sizeof (IovDelivery));
  guint64 line = 1;

  for (guint i = 0; i < info->address_spaces->len && i < 4; i++)
    {
      const IovSnapshotAddressSpace *as = g_ptr_array_index (info->address_spaces, i);

      if (as->notifiers->len > 0)
        feed_device (inference, ((IovSnapshotNotifier *) g_ptr_array_index (as->notifiers, 0))->device,
                     &line, deliveries);
    }
  iov_inference_finish (inference, deliveries);
  for (guint i = 0; i < deliveries->len; i++)
    {
      const IovDelivery *d = &g_array_index (deliveries, IovDelivery, i);

      g_assert_nonnull (d->notifier);
      g_assert_cmpuint (d->line, >=, 1);
      g_assert_cmpuint (d->line, <, line);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(IovSnapshotInfo) info = NULL;
  g_autoptr(IovInference) inference = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) inference_error = NULL;
  JsonNode *root;

  fuzz_init ();
  if (fuzz_json_has_second_value ((const char *) data, size))
    return 0;
  if (!json_parser_load_from_data (parser, (const char *) data, size, &error))
    {
      /* not JSON: the reader says so from the text too, in UTF-8 */
      g_assert_nonnull (error);
      g_clear_error (&error);
      g_assert_null (iov_snapshot_info_new_from_data ((const char *) data, size, &error));
      fuzz_assert_error (error);
      return 0;
    }
  root = json_parser_get_root (parser);

  info = iov_snapshot_info_new_from_json (root, &error);
  inference = iov_inference_new_from_snapshot (root, NULL, &inference_error);
  if (info == NULL)
    {
      fuzz_assert_error (error);
      g_assert_null (inference);
      fuzz_assert_error (inference_error);
      g_assert_nonnull (strstr (inference_error->message, error->message));
      return 0;
    }
  g_assert_no_error (error);
  g_assert_no_error (inference_error);
  g_assert_nonnull (inference);

  check_info (info);
  check_round_trip (info);

  /* the same snapshot again is no new topology */
  {
    guint before = iov_inference_get_notifiers (inference)->len;

    g_assert_true (iov_inference_update_topology (inference, root, 5, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (iov_inference_get_notifiers (inference)->len, ==, before);
  }
  run_trace (inference, info);
  return 0;
}
