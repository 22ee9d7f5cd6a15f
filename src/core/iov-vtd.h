/* iov-vtd.h — VT-d arithmetic: descriptor decoding, power-of-two splits
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

#include <glib.h>

G_BEGIN_DECLS

/* Device-IOTLB invalidation range (reference §4.6): with S=1 the run of
 * trailing 1 bits of addr>>12 encodes the size, in 64-bit arithmetic that
 * overflows to the whole space for 51 or more ones. */
void     iov_vtd_decode_device_iotlb (guint64  addr,
                                      guint    s,
                                      guint64 *iova,
                                      guint64 *addr_mask);

/* The mask of the largest naturally aligned power-of-two block that starts
 * at @start, does not pass @end and is below 2^@bits (what QEMU's
 * dma_aligned_pow2_mask() answers). */
guint64  iov_aligned_pow2_mask       (guint64  start,
                                      guint64  end,
                                      guint    bits);

/* vtd_address_space_unmap()'s split of [start, end] (end already clamped
 * to 2^aw - 1) into naturally aligned power-of-two blocks of at least
 * 4 KiB: calls @emit for each; returns what is left over, which QEMU
 * asserts is zero. Stops early when @emit returns FALSE. */
typedef gboolean (*IovVtdChunkFunc) (guint64  iova,
                                     guint64  addr_mask,
                                     gpointer user_data);

guint64  iov_vtd_split_unmap         (guint64          start,
                                      guint64          end,
                                      guint            aw_bits,
                                      IovVtdChunkFunc  emit,
                                      gpointer         user_data);

G_END_DECLS
