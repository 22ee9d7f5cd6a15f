/* iov-vtd.c — VT-d arithmetic: descriptor decoding, power-of-two splits
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

#define G_LOG_DOMAIN "iov-vtd"

#include "config.h"

#include "iov-types.h"
#include "iov-vtd.h"

void
iov_vtd_decode_device_iotlb (guint64  addr,
                             guint    s,
                             guint64 *iova,
                             guint64 *addr_mask)
{
  guint64 size = IOV_PAGE_SIZE;

  addr &= ~(guint64) (IOV_PAGE_SIZE - 1);
  if (s)
    {
      guint64 pfn = addr >> 12;
      guint ones = pfn == G_MAXUINT64 ? 64 : (guint) __builtin_ctzll (~pfn);

      /* 8192 << ones wraps to 0 from 51 ones on; QEMU keeps the 0. */
      size = ones >= 51 ? 0 : (G_GUINT64_CONSTANT (8192) << ones);
      addr &= ~(size - 1);
    }
  *iova = addr;
  *addr_mask = size - 1;
}

guint64
iov_aligned_pow2_mask (guint64 start,
                       guint64 end,
                       guint   bits)
{
  guint64 max_mask = bits >= 64 ? G_MAXUINT64 : (G_GUINT64_CONSTANT (1) << bits) - 1;
  guint64 addr_mask = end - start;
  guint64 align_mask = start ? (start & -start) - 1 : max_mask;
  guint64 size_mask = MIN (addr_mask, max_mask);

  align_mask = MIN (align_mask, max_mask);
  if (align_mask <= size_mask)
    return align_mask;
  if (size_mask == G_MAXUINT64)
    return G_MAXUINT64;
  return iov_pow2_floor (size_mask + 1) - 1;
}

guint64
iov_vtd_split_unmap (guint64          start,
                     guint64          end,
                     guint            aw_bits,
                     IovVtdChunkFunc  emit,
                     gpointer         user_data)
{
  guint64 remain = end - start + 1;

  while (remain >= IOV_PAGE_SIZE)
    {
      guint64 mask = iov_aligned_pow2_mask (start, end, aw_bits);

      if (!emit (start, mask, user_data))
        break;
      start += mask + 1;
      remain -= mask + 1;
    }
  return remain;
}
