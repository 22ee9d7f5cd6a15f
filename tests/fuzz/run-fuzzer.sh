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
# leaks of the libraries', not ours: see lsan.supp
export LSAN_OPTIONS="suppressions=$(dirname "$0")/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# whole stacks, or a suppression cannot see whose allocation a leak is
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# -error_exitcode: libFuzzer's own (77) is what meson counts as skipped.
"$fuzzer" -max_total_time="$seconds" -seed=1 -rss_limit_mb=2048 -max_len=65536 -error_exitcode=1 \
  -print_final_stats=1 "$work" "$seeds"
