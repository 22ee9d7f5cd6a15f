#!/bin/sh
# tests/fuzz/run-fuzzer.sh FUZZER SEED_DIR SECONDS — a short, seeded libFuzzer run
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# New inputs go to a scratch corpus (the seeds are never written); a crash
# leaves its input as ./crash-* in the test's working directory, and fails.
set -eu
fuzzer=$1 seeds=$2 seconds=$3
# GLib's slices through malloc, so ASan sees each one
export G_SLICE=always-malloc
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$fuzzer" -max_total_time="$seconds" -seed=1 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 "$work" "$seeds"
