/* iov-traffic-explain.c
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

#define G_LOG_DOMAIN "iov-traffic-explain"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "iov-traffic-explain.h"

/* The window's Traffic panel says what the counts of iov-traffic.c show,
 * and advises only where a figure supports it. Two things are never said
 * blindly (issue L): QEMU's vhost takes no MAP events, so "use MAP
 * notifiers" is no advice; and a lazy guest stalled DPDK 22.11 in our runs,
 * so "switch to lazy" comes with that warning, and only when the misses
 * follow the invalidations one for one. */

/* Advice thresholds: below these, a ratio says little. */
#define MIN_MISSES_FOR_MODE   100
#define MIN_ROUND_TRIPS_TAIL  20
#define TAIL_FACTOR           10

static char *
num (guint64 n)
{
  /* grouped as the locale groups ("1,723", "1.723") */
  return g_strdup_printf ("%'" G_GUINT64_FORMAT, n);
}

static char *
us (guint64 ns)
{
  /* whole microseconds, as --stats prints them */
  return g_strdup_printf ("%'" G_GUINT64_FORMAT, ns / 1000);
}

static guint64
invalidations (const IovTrafficFigures *f)
{
  return f->counts[IOV_TRAFFIC_DEVICE_INVALIDATIONS] + f->counts[IOV_TRAFFIC_PAGE_INVALIDATIONS] +
         f->counts[IOV_TRAFFIC_DOMAIN_INVALIDATIONS] + f->counts[IOV_TRAFFIC_GLOBAL_INVALIDATIONS];
}

static gboolean
has_traffic (const IovTrafficFigures *f)
{
  for (guint k = 0; k < IOV_TRAFFIC_N_COUNTS; k++)
    if (f->counts[k] > 0)
      return TRUE;
  return FALSE;
}

static char *
describe_misses (const IovTrafficFigures *f)
{
  guint64 n = f->counts[IOV_TRAFFIC_IOTLB_MISSES];
  g_autofree char *count = num (n);
  g_autofree char *peak = num (f->peak_per_s[IOV_TRAFFIC_IOTLB_MISSES]);

  if (n == 0)
    return g_strdup (_("No IOTLB misses: vhost found every translation it needed."));
  if (f->n_round_trips > 0)
    {
      g_autofree char *p50 = us (f->round_trip_p50_ns);
      g_autofree char *p99 = us (f->round_trip_p99_ns);
      g_autofree char *max = us (f->round_trip_max_ns);

      /* Translators: the Traffic panel; the %s are numbers, in order: misses,
       * median, 99th percentile and longest round trip in microseconds,
       * most misses in one second */
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "%s IOTLB miss, median round trip %s µs (99th percentile %s µs, "
                                           "longest %s µs); up to %s in one second.",
                                           "%s IOTLB misses, median round trip %s µs (99th percentile %s µs, "
                                           "longest %s µs); up to %s in one second.", n),
                              count, p50, p99, max, peak);
    }
  /* Translators: the Traffic panel; misses, most misses in one second */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s IOTLB miss; up to %s in one second.",
                                       "%s IOTLB misses; up to %s in one second.", n), count, peak);
}

static char *
describe_invalidations (const IovTrafficFigures *f)
{
  static const IovTrafficCount kinds[] = {
    IOV_TRAFFIC_DEVICE_INVALIDATIONS, IOV_TRAFFIC_PAGE_INVALIDATIONS, IOV_TRAFFIC_DOMAIN_INVALIDATIONS,
    IOV_TRAFFIC_GLOBAL_INVALIDATIONS,
  };
  guint64 n = invalidations (f);
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *count = num (n);
  g_autofree char *list = NULL;

  if (n == 0)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *c = num (f->counts[kinds[i]]);

      if (f->counts[kinds[i]] == 0)
        continue;
      switch (kinds[i])
        {
        case IOV_TRAFFIC_DEVICE_INVALIDATIONS:
          /* Translators: a part of the list in "N invalidations reached it (…)" */
          g_ptr_array_add (parts, g_strdup_printf (_("%s device-IOTLB"), c));
          break;
        case IOV_TRAFFIC_PAGE_INVALIDATIONS:
          g_ptr_array_add (parts, g_strdup_printf (_("%s page-selective"), c));
          break;
        case IOV_TRAFFIC_DOMAIN_INVALIDATIONS:
          g_ptr_array_add (parts, g_strdup_printf (_("%s domain-selective"), c));
          break;
        case IOV_TRAFFIC_GLOBAL_INVALIDATIONS:
        case IOV_TRAFFIC_IOTLB_MISSES:
        case IOV_TRAFFIC_IOTLB_MESSAGES:
        case IOV_TRAFFIC_N_COUNTS:
        default:
          g_ptr_array_add (parts, g_strdup_printf (_("%s global"), c));
          break;
        }
    }
  g_ptr_array_add (parts, NULL);
  /* Translators: the separator of a list */
  list = g_strjoinv (_(", "), (char **) parts->pdata);
  /* Translators: the Traffic panel; %s is a number, then a list such as
   * "757 device-IOTLB, 1,759 page-selective" */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s invalidation reached it (%s).",
                                       "%s invalidations reached it (%s).", n), count, list);
}

static char *
describe_messages (const IovTrafficFigures *f)
{
  guint64 n = f->counts[IOV_TRAFFIC_IOTLB_MESSAGES];
  guint64 misses = f->counts[IOV_TRAFFIC_IOTLB_MISSES];
  guint64 dev = f->counts[IOV_TRAFFIC_DEVICE_INVALIDATIONS];
  guint64 others = n >= f->n_round_trips ? n - f->n_round_trips : 0;
  g_autofree char *count = num (n);

  if (n == 0)
    {
      if (misses == 0)
        return NULL;
      return g_strdup (_("No vhost-user IOTLB messages in the trace, so the misses' round trips are unknown."));
    }
  /* each miss answered by one message: what is left answers the rest */
  if (f->n_round_trips == misses && misses > 0 && dev > 0 && others == dev)
    /* Translators: the Traffic panel; %s is a number */
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "%s IOTLB message to the vhost backend: one per miss and one per "
                                         "device invalidation.",
                                         "%s IOTLB messages to the vhost backend: one per miss and one per "
                                         "device invalidation.", n), count);
  if (f->n_round_trips == misses && misses > 0 && dev > 0 && others == 2 * dev)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "%s IOTLB message to the vhost backend: one per miss and two per "
                                         "device invalidation (one for each of vhost's notifiers).",
                                         "%s IOTLB messages to the vhost backend: one per miss and two per "
                                         "device invalidation (one for each of vhost's notifiers).", n), count);
  if (f->n_round_trips > 0)
    {
      g_autofree char *answers = num (f->n_round_trips);
      g_autofree char *rest = num (others);

      /* Translators: the Traffic panel; messages, those that answer a
       * miss, the others */
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "%s IOTLB message to the vhost backend: %s answer misses, %s pass on "
                                           "invalidations or unmaps.",
                                           "%s IOTLB messages to the vhost backend: %s answer misses, %s pass on "
                                           "invalidations or unmaps.", n), count, answers, rest);
    }
  {
    g_autofree char *peak = num (f->peak_per_s[IOV_TRAFFIC_IOTLB_MESSAGES]);

    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s IOTLB message to the vhost backend; up to %s in one "
                                         "second.", "%s IOTLB messages to the vhost backend; up to %s in one second.",
                                         n), count, peak);
  }
}

GPtrArray *
iov_traffic_describe (IovTraffic *self,
                      const char *device)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  IovTrafficFigures f;
  char *s;

  g_return_val_if_fail (self != NULL, out);

  iov_traffic_get_figures (self, device, &f);
  if (!has_traffic (&f))
    return out;
  if (f.counts[IOV_TRAFFIC_IOTLB_MISSES] > 0 || f.counts[IOV_TRAFFIC_IOTLB_MESSAGES] > 0)
    g_ptr_array_add (out, describe_misses (&f));
  if ((s = describe_invalidations (&f)) != NULL)
    g_ptr_array_add (out, s);
  if ((s = describe_messages (&f)) != NULL)
    g_ptr_array_add (out, s);
  return out;
}

GPtrArray *
iov_traffic_advise (IovTraffic *self,
                    const char *device)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  IovTrafficFigures f;
  guint64 misses, dev;

  g_return_val_if_fail (self != NULL, out);

  iov_traffic_get_figures (self, device, &f);
  misses = f.counts[IOV_TRAFFIC_IOTLB_MISSES];
  dev = f.counts[IOV_TRAFFIC_DEVICE_INVALIDATIONS];
  if (misses == 0)
    return out;

  if (device == NULL)
    {
      g_autofree char *count = num (misses);

      /* Translators: the Traffic panel's advice; %s is a number */
      g_ptr_array_add (out, g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                          "%s miss names a vhost device the trace alone cannot tie "
                                                          "to a PCI device: record with a QMP snapshot "
                                                          "(iovista-cli trace … --qmp ADDRESS --record FILE) to "
                                                          "know whose it is.",
                                                          "%s misses name a vhost device the trace alone cannot tie "
                                                          "to a PCI device: record with a QMP snapshot "
                                                          "(iovista-cli trace … --qmp ADDRESS --record FILE) to "
                                                          "know whose they are.", misses), count));
      return out;
    }

  /* the misses follow the device invalidations one for one: the guest
   * drops each mapping as soon as it is used (strict mode) */
  if (misses >= MIN_MISSES_FOR_MODE && dev >= MIN_MISSES_FOR_MODE && 5 * misses >= 4 * dev && 4 * misses <= 5 * dev)
    g_ptr_array_add (out, g_strdup (_("About one miss per device invalidation: the guest unmaps each buffer as "
                                      "soon as the device is done with it, as a guest in strict mode "
                                      "(iommu.strict=1) does, and vhost has to ask again for the next one. A lazy "
                                      "guest (iommu.strict=0) invalidates in batches and misses far less — but "
                                      "measure it before relying on it: with a lazy guest, DPDK 22.11 stalled in "
                                      "Iovista's runs.")));

  if (f.n_round_trips >= MIN_ROUND_TRIPS_TAIL && f.round_trip_p50_ns > 0 &&
      f.round_trip_p99_ns >= TAIL_FACTOR * f.round_trip_p50_ns)
    {
      g_autofree char *factor = num (f.round_trip_p99_ns / f.round_trip_p50_ns);

      /* Translators: the Traffic panel's advice; %s is a whole number */
      g_ptr_array_add (out, g_strdup_printf (_("One miss in a hundred waits %s times the median or longer: QEMU "
                                               "answers misses from its main loop, so look on the timeline for "
                                               "what else it was doing then."), factor));
    }

  if (f.counts[IOV_TRAFFIC_IOTLB_MESSAGES] == 0)
    g_ptr_array_add (out, g_strdup (_("Trace vhost_user_write as well to see QEMU's answers and their round trips "
                                      "(iovista-cli trace --qmp ADDRESS --preset notifier-traffic).")));
  return out;
}
