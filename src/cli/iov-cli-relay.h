/* iov-cli-relay.h
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

/* `iovista-cli snapshot http(s)://HOST:PORT/VM`: the same output as for a
 * local QMP address, fetched through a relay. */
int iov_cli_relay_snapshot (const char *url,
                            const char *token_file,
                            double      watch,
                            gboolean    raw);

/* `iovista-cli trace --qmp http(s)://HOST:PORT/VM`: the VM's snapshot
 * JSON, fetched through a relay (token from @token_file or IOVISTA_TOKEN). */
JsonNode *iov_cli_relay_fetch_snapshot (const char  *url,
                                        const char  *token_file,
                                        GError     **error);

G_END_DECLS
