/* iov-rate-tracks.h — IOTLB traffic rates beneath the timeline (issue L)
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

#include <gtk/gtk.h>

#include "iov-timeline.h"
#include "iov-traffic.h"

G_BEGIN_DECLS

typedef enum
{
  IOV_RATE_TRACK_MISSES,
  IOV_RATE_TRACK_INVALIDATIONS,
  IOV_RATE_TRACK_MESSAGES,
  IOV_N_RATE_TRACKS
} IovRateTrack;

#define IOV_TYPE_RATE_TRACKS (iov_rate_tracks_get_type ())

G_DECLARE_FINAL_TYPE (IovRateTracks, iov_rate_tracks, IOV, RATE_TRACKS, GtkWidget)

GtkWidget *iov_rate_tracks_new           (void);
/* The timeline whose time axis the tracks follow (placed right above
 * them, as wide as they are); borrowed. */
void       iov_rate_tracks_set_timeline  (IovRateTracks *self,
                                          IovTimeline   *timeline);
/* Borrowed: @traffic must outlive the tracks, or be unset first. */
void       iov_rate_tracks_set_traffic   (IovRateTracks *self,
                                          IovTraffic    *traffic);
/* A BDF, or %NULL for every device. */
void       iov_rate_tracks_set_device    (IovRateTracks *self,
                                          const char    *bdf);
/* New lines were counted: redraws on the next frame. */
void       iov_rate_tracks_changed       (IovRateTracks *self);
/* What the last frame drew of @track: the counts of the core's bins on the
 * grid [@t0_ns, @t0_ns + @n_bins · @bin_ns), of which each bar sums
 * @window (a second's worth); %NULL before a frame. */
const guint64 *iov_rate_tracks_get_bins  (IovRateTracks *self,
                                          IovRateTrack   track,
                                          guint         *n_bins,
                                          guint64       *t0_ns,
                                          guint64       *bin_ns,
                                          guint         *window);
/* The bars' rates per second, @n_bars = n_bins − window + 1: bar i is
 * the sum of bins [i, i + window) (its second), drawn where bin
 * i + window / 2 is. */
const double  *iov_rate_tracks_get_rates (IovRateTracks *self,
                                          IovRateTrack   track,
                                          guint         *n_bars);

G_END_DECLS
