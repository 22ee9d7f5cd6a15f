/* iov-cli.h

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

#include "iov-scenario.h"

G_BEGIN_DECLS

/* Exit codes shared by every subcommand. */
#define IOV_CLI_EXIT_OK          0
#define IOV_CLI_EXIT_FAILURE     1
#define IOV_CLI_EXIT_USAGE       2  /* bad option, invalid input, not yet available */
#define IOV_CLI_EXIT_UNREACHABLE 3  /* QEMU cannot be reached */

typedef int (*IovCliCommandFunc) (int argc, char **argv);

typedef struct
{
  const char        *name;
  const char        *summary;
  IovCliCommandFunc  run;
} IovCliCommand;

int  iov_cli_what_if  (int argc, char **argv);
int  iov_cli_snapshot (int argc, char **argv);
int  iov_cli_trace    (int argc, char **argv);
int  iov_cli_export   (int argc, char **argv);
int  iov_cli_relay    (int argc, char **argv);

/* Parses @argv with @context; on a bad option prints one line
 * "iovista-cli NAME: reason" to stderr and returns FALSE. */
gboolean iov_cli_parse_options (GOptionContext  *context,
                                const char      *name,
                                int             *argc,
                                char          ***argv);
int      iov_cli_usage_error   (const char      *name,
                                const char      *format,
                                ...) G_GNUC_PRINTF (2, 3);
int      iov_cli_not_yet       (const char      *name,
                                const char      *issue);

/* The scenario named by --builtin NAME or by the one remaining argument;
 * NULL after printing why (the exit status is then IOV_CLI_EXIT_USAGE). */
IovScenario *iov_cli_load_scenario (const char *name,
                                    const char *builtin,
                                    int         argc,
                                    char      **argv);

G_END_DECLS
