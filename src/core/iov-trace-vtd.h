/* iov-trace-vtd.h
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

/* VT-d queued-invalidation descriptors as `vtd_inv_desc` prints them
 * ("invalidate desc type %s high 0x%" PRIx64 " low 0x%" PRIx64). */

typedef enum
{
  IOV_VTD_DESC_CC     = 0x1,
  IOV_VTD_DESC_IOTLB  = 0x2,
  IOV_VTD_DESC_DEVICE = 0x3,
  IOV_VTD_DESC_IEC    = 0x4,
  IOV_VTD_DESC_WAIT   = 0x5,
  IOV_VTD_DESC_PIOTLB = 0x6,
  IOV_VTD_DESC_PC     = 0x7,
} IovVtdDescType;

typedef enum
{
  IOV_VTD_IOTLB_GLOBAL = 1,
  IOV_VTD_IOTLB_DOMAIN = 2,
  IOV_VTD_IOTLB_PAGE   = 3,
} IovVtdIotlbGranularity;

typedef struct
{
  guint64  hi;
  guint64  lo;
  guint    type;          /* lo & 0xf (QEMU ≤ 9.1) */
  gboolean reserved_ok;   /* no reserved bit set (7.2 masks) */

  /* IOV_VTD_DESC_IOTLB */
  guint    granularity;   /* IovVtdIotlbGranularity, 0 if reserved */
  guint16  did;
  guint64  addr;          /* hi & ~0xfff */
  guint8   am;            /* hi & 0x3f */

  /* IOV_VTD_DESC_DEVICE */
  guint16  sid;
  gboolean s;
  guint64  raw_addr;      /* hi & ~0xfff, before the size decode */
  guint64  iova;          /* decoded range start */
  guint64  addr_mask;     /* decoded size - 1 */
} IovVtdDesc;

void     iov_vtd_desc_decode          (guint64      hi,
                                       guint64      lo,
                                       IovVtdDesc  *out);
void     iov_vtd_device_iotlb_range   (guint64      hi,
                                       guint64     *iova,
                                       guint64     *addr_mask);
gboolean iov_vtd_desc_parse           (const char  *args,
                                       gsize        len,
                                       IovVtdDesc  *out);
const char *iov_vtd_desc_type_name    (guint        type);

G_END_DECLS
