/* fuzz-vtd-desc.c — libFuzzer harness for the VT-d descriptor decoder
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

#include "iov-trace-vtd.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Checks the decoded device-IOTLB range against its definition. */
static void
check (const IovVtdDesc *d)
{
  if (d->type == IOV_VTD_DESC_DEVICE)
    {
      /* the range is naturally aligned and contains the page asked for */
      g_assert ((d->iova & d->addr_mask) == 0);
      g_assert (d->addr_mask == G_MAXUINT64 || ((d->addr_mask + 1) & d->addr_mask) == 0);
      g_assert (d->addr_mask >= 0xfff);
      g_assert (d->raw_addr - d->iova <= d->addr_mask);
      if (!d->s)
        g_assert (d->addr_mask == 0xfff && d->iova == d->raw_addr);
    }
  if (d->type == IOV_VTD_DESC_IOTLB)
    g_assert ((d->addr & 0xfff) == 0 && d->am < 64);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  IovVtdDesc d;

  /* As text: the arguments of a vtd_inv_desc line. */
  if (iov_vtd_desc_parse ((const char *) data, size, &d))
    check (&d);
  /* As two raw 64-bit words. */
  if (size >= 16)
    {
      guint64 hi, lo;

      memcpy (&hi, data, 8);
      memcpy (&lo, data + 8, 8);
      iov_vtd_desc_decode (hi, lo, &d);
      check (&d);
    }
  return 0;
}
