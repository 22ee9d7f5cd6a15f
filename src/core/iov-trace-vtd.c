/* iov-trace-vtd.c
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

#define G_LOG_DOMAIN "iov-trace-vtd"

#include "config.h"

#include <string.h>

#include "iov-trace-vtd.h"

/* Bit layouts: reference §4.1 and §4.6 (hw/i386/intel_iommu_internal.h,
 * QEMU 7.2). */
#define IOTLB_RSVD_LO  G_GUINT64_CONSTANT (0xffffffff0000ff00)
#define IOTLB_RSVD_HI  G_GUINT64_CONSTANT (0xf80)
#define DEVICE_RSVD_LO G_GUINT64_CONSTANT (0xffff0000ffe0fff8)
#define DEVICE_RSVD_HI G_GUINT64_CONSTANT (0xffe)
#define PAGE_MASK_4K   (~G_GUINT64_CONSTANT (0xfff))

/* QEMU's device-IOTLB size decode: with S=1, k = number of consecutive
 * 1-bits of addr >> 12 from bit 0 and size = 8192 << k in 64-bit unsigned
 * arithmetic, so k >= 51 gives size 0, i.e. the whole 2^64 space. */
void
iov_vtd_device_iotlb_range (guint64  hi,
                            guint64 *iova,
                            guint64 *addr_mask)
{
  guint64 addr = hi & PAGE_MASK_4K;
  guint64 size = 4096;

  if (hi & 1)
    {
      guint64 pfn = addr >> 12;
      guint k = 0;

      /* the trailing ones of the page number, counted at once */
      k = ~pfn == 0 ? 64 : (guint) __builtin_ctzll (~pfn);
      size = k >= 64 ? 0 : G_GUINT64_CONSTANT (8192) << k;
      addr &= ~(size - 1);
    }
  *iova = addr;
  *addr_mask = size - 1;
}

void
iov_vtd_desc_decode (guint64     hi,
                     guint64     lo,
                     IovVtdDesc *out)
{
  memset (out, 0, sizeof *out);
  out->hi = hi;
  out->lo = lo;
  out->type = lo & 0xf;
  out->reserved_ok = TRUE;

  switch (out->type)
    {
    case IOV_VTD_DESC_IOTLB:
      out->granularity = (lo >> 4) & 3;
      out->did = (lo >> 16) & 0xffff;
      out->addr = hi & PAGE_MASK_4K;
      out->am = hi & 0x3f;
      out->reserved_ok = (lo & IOTLB_RSVD_LO) == 0 && (hi & IOTLB_RSVD_HI) == 0;
      break;

    case IOV_VTD_DESC_DEVICE:
      out->sid = (lo >> 32) & 0xffff;
      out->s = hi & 1;
      out->raw_addr = hi & PAGE_MASK_4K;
      iov_vtd_device_iotlb_range (hi, &out->iova, &out->addr_mask);
      out->reserved_ok = (lo & DEVICE_RSVD_LO) == 0 && (hi & DEVICE_RSVD_HI) == 0;
      break;

    default:
      break;
    }
}

const char *
iov_vtd_desc_type_name (guint type)
{
  switch (type)
    {
    case IOV_VTD_DESC_CC: return "context-cache";
    case IOV_VTD_DESC_IOTLB: return "iotlb";
    case IOV_VTD_DESC_DEVICE: return "device";
    case IOV_VTD_DESC_IEC: return "iec";
    case IOV_VTD_DESC_WAIT: return "wait";
    case IOV_VTD_DESC_PIOTLB: return "p-iotlb";
    case IOV_VTD_DESC_PC: return "pasid-cache";
    default: return NULL;
    }
}

static gboolean
parse_hex_field (const char  **pp,
                 const char   *end,
                 const char   *label,
                 guint64      *value)
{
  const char *p = *pp;
  gsize l = strlen (label);
  guint64 v = 0;
  guint n = 0;

  if ((gsize) (end - p) < l || memcmp (p, label, l) != 0)
    return FALSE;
  p += l;
  /* by hand: g_ascii_xdigit_value() is a call per digit, and every
   * device-IOTLB invalidation of a replayed trace comes through here */
  while (p < end)
    {
      guint c = (guchar) *p, d;

      if (c - '0' < 10)
        d = c - '0';
      else if ((c | 0x20) - 'a' < 6)
        d = (c | 0x20) - 'a' + 10;
      else
        break;
      if (n++ == 16)
        return FALSE;
      v = (v << 4) | d;
      p++;
    }
  if (n == 0)
    return FALSE;
  *value = v;
  *pp = p;
  return TRUE;
}

/* Parses the arguments of a `vtd_inv_desc` line,
 * "invalidate desc type TYPE high 0xHI low 0xLO", and decodes them. */
gboolean
iov_vtd_desc_parse (const char *args,
                    gsize       len,
                    IovVtdDesc *out)
{
  static const char head[] = "invalidate desc type ";
  const char *p = args, *end = args + len;
  const char *sp;
  guint64 hi, lo;

  g_return_val_if_fail (out != NULL, FALSE);

  if (len > 0 && end[-1] == '\r')
    end--;
  if ((gsize) (end - p) < sizeof head - 1 || memcmp (p, head, sizeof head - 1) != 0)
    return FALSE;
  p += sizeof head - 1;
  /* The type name may contain spaces ("page group response"): find " high 0x". */
  sp = NULL;
  for (const char *q = p; q + 8 <= end; q++)
    if (*q == ' ' && memcmp (q, " high 0x", 8) == 0)
      {
        sp = q;
        break;
      }
  if (sp == NULL)
    return FALSE;
  p = sp;
  if (!parse_hex_field (&p, end, " high 0x", &hi) || !parse_hex_field (&p, end, " low 0x", &lo) || p != end)
    return FALSE;
  iov_vtd_desc_decode (hi, lo, out);
  return TRUE;
}
