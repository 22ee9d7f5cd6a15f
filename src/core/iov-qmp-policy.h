/* iov-qmp-policy.h
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

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Which QMP commands Iovista may send to one QEMU release (issue H):
 * the read-only allow-list, then what is known of this release. */
typedef struct _IovQmpPolicy IovQmpPolicy;

IovQmpPolicy *iov_qmp_policy_new          (guint          major,
                                           guint          minor,
                                           guint          micro,
                                           const char    *package);
void          iov_qmp_policy_free         (IovQmpPolicy  *self);

gboolean      iov_qmp_policy_set_schema   (IovQmpPolicy  *self,
                                           JsonNode      *schema,
                                           GError       **error);
gboolean      iov_qmp_policy_has_schema   (IovQmpPolicy  *self);
gboolean      iov_qmp_policy_offers       (IovQmpPolicy  *self,
                                           const char    *command);

gboolean      iov_qmp_policy_check        (IovQmpPolicy  *self,
                                           const char    *command,
                                           JsonNode      *arguments,
                                           GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IovQmpPolicy, iov_qmp_policy_free)

G_END_DECLS
