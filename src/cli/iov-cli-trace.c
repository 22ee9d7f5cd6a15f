/* iov-cli-trace.c

 * Copyright 2026 The Iovista authors
 *
 * This program is free software: you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "iovista-cli"

#include "config.h"

#include <glib/gi18n.h>

#include "iov-cli.h"

int
iov_cli_trace (int    argc,
            char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);

  g_option_context_set_summary (context, _("Not yet available (issue D)."));
  if (!iov_cli_parse_options (context, "trace", &argc, &argv))
    return IOV_CLI_EXIT_USAGE;
  return iov_cli_not_yet ("trace", "[D]");
}
