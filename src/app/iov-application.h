/* iov-application.h
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

#include <adwaita.h>

G_BEGIN_DECLS

#define IOV_TYPE_APPLICATION (iov_application_get_type ())

G_DECLARE_FINAL_TYPE (IovApplication, iov_application, IOV, APPLICATION, AdwApplication)

IovApplication *iov_application_new          (void);
GSettings      *iov_application_get_settings (IovApplication *self);

G_END_DECLS
