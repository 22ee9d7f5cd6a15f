/* iov-types.h
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

/* Values are QEMU's own (include/exec/memory.h), so traces and the model
 * speak the same numbers. */
typedef enum
{
  IOV_PERM_NONE = 0,
  IOV_PERM_RO   = 1,
  IOV_PERM_WO   = 2,
  IOV_PERM_RW   = 3,
} IovPerm;

typedef enum
{
  IOV_NOTIFIER_NONE           = 0,
  IOV_NOTIFIER_UNMAP          = 1 << 0,
  IOV_NOTIFIER_MAP            = 1 << 1,
  IOV_NOTIFIER_DEVIOTLB_UNMAP = 1 << 2,
} IovNotifierFlags;

#define IOV_NOTIFIER_IOTLB_EVENTS (IOV_NOTIFIER_MAP | IOV_NOTIFIER_UNMAP)

#define IOV_PAGE_SIZE 4096u
#define IOV_INTERRUPT_ADDR_FIRST G_GUINT64_CONSTANT (0xfee00000)
#define IOV_INTERRUPT_ADDR_LAST  G_GUINT64_CONSTANT (0xfeefffff)

#define IOV_ERROR (iov_error_quark ())

typedef enum
{
  IOV_ERROR_INVALID,      /* bad input: a scenario, a value, an option */
  IOV_ERROR_UNSUPPORTED,  /* valid input the chosen profile cannot express */
  IOV_ERROR_FAILED,
} IovError;

GQuark       iov_error_quark          (void);

char        *iov_hex                  (guint64      value);
void         iov_hex_buf              (guint64      value,
                                       char         buf[20]);
gboolean     iov_parse_hex            (const char  *text,
                                       guint64     *value);
const char  *iov_perm_to_string       (IovPerm      perm);
gboolean     iov_perm_from_string     (const char  *text,
                                       IovPerm     *perm);
const char  *iov_event_type_to_string (IovNotifierFlags type);
gboolean     iov_event_type_from_string (const char *text,
                                       IovNotifierFlags *type);
char        *iov_flags_to_string      (guint        flags);
gboolean     iov_flags_from_string    (const char  *text,
                                       guint       *flags,
                                       GError     **error);
guint64      iov_pow2_floor           (guint64      value);
/* Appends @text (@len bytes) as a quoted JSON string; invalid UTF-8
 * becomes U+FFFD, so any trace line can go out. */
void         iov_json_append_string   (GString     *out,
                                       const char  *text,
                                       gsize        len);
/* "BB:DD.F" → bus and devfn. */
gboolean     iov_parse_bdf            (const char  *text,
                                       guint8      *bus,
                                       guint8      *devfn);

G_END_DECLS
