#!/bin/sh
# tests/desktop/run-tool.sh — run a validator, or skip when it is not installed
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: run-tool.sh DEBIAN-PACKAGE TOOL [ARGUMENT…]
# Exits 77 (skip) only when TOOL itself is missing, and says so.

package=$1
tool=$2
shift 2

if ! command -v "$tool" >/dev/null 2>&1; then
  echo "SKIP: $tool is not installed (Debian package $package)"
  exit 77
fi

echo "$tool $*"
exec "$tool" "$@"
