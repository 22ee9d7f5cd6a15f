#!/usr/bin/env bash
# bench/bench-trace.sh — trace ingest next to wc -l and awk, memory per event, live FIFO
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: bench-trace.sh BENCH_TRACE IOVISTA_CLI FIXTURE_DIR
# Builds a log of at least 400 MB by concatenating the real QEMU 7.2 guest
# traces of FIXTURE_DIR (tests/data/trace/qemu-7.2) as often as needed, then
# times, in this one run and on the same warm file: wc -l, an awk event
# count, iovista-cli trace --stats, the in-process parser and parser+store.
# Each timing is the best of two. Set IOV_BENCH_DIR to put the file elsewhere.
set -euo pipefail
bench=$1 cli=$2 fixtures=$3
dir=${IOV_BENCH_DIR:-${TMPDIR:-/tmp}/iovista-bench}
mkdir -p "$dir"
log=$dir/trace-400M.log
min_bytes=$((400 * 1000 * 1000))

if [ ! -f "$log" ] || [ "$(stat -c %s "$log")" -lt $min_bytes ]; then
  unit=$dir/unit.log
  : > "$unit"
  for t in guest-intel-strict guest-intel-rootport guest-amd guest-virtio-iommu-vhost-user-nomsi; do
    xz -dc "$fixtures/$t/trace.log.xz" >> "$unit"
  done
  : > "$log.tmp"
  while [ "$(stat -c %s "$log.tmp")" -lt $min_bytes ]; do
    cat "$unit" >> "$log.tmp"
  done
  mv "$log.tmp" "$log"
  rm -f "$unit"
fi
bytes=$(stat -c %s "$log")
cat "$log" > /dev/null   # warm the page cache

now () { date +%s.%N; }
best_of_two () {
  # best_of_two CMD… : prints the best wall time in seconds; output to $dir/out
  local best='' t0 t1 dt
  for _ in 1 2; do
    t0=$(now); "$@" > "$dir/out"; t1=$(now)
    dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
    if [ -z "$best" ] || awk -v x="$dt" -v y="$best" 'BEGIN { exit !(x < y) }'; then best=$dt; fi
  done
  echo "$best"
}

t_wc=$(best_of_two wc -l "$log");             lines=$(awk '{print $1}' "$dir/out")
t_awk=$(best_of_two awk '/^[0-9]+@[0-9]+\.[0-9]+:/ { n++ } END { print n }' "$log"); awk_events=$(cat "$dir/out")
t_cli=$(best_of_two "$cli" trace --stats "$log"); cli_events=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events"])' "$dir/out")
"$bench" parse "$log" > "$dir/parse1.json"; "$bench" parse "$log" > "$dir/parse2.json"
"$bench" ingest "$log" > "$dir/ingest1.json"; "$bench" ingest "$log" > "$dir/ingest2.json"

python3 - "$bytes" "$lines" "$t_wc" "$awk_events" "$t_awk" "$cli_events" "$t_cli" "$dir" <<'PY'
import json, sys
bytes_, lines, t_wc, awk_events, t_awk, cli_events, t_cli, d = sys.argv[1:]
bytes_, lines, awk_events, cli_events = int(bytes_), int(lines), int(awk_events), int(cli_events)
t_wc, t_awk, t_cli = float(t_wc), float(t_awk), float(t_cli)
def best(a, b):
    x = [json.load(open(f'{d}/{a}')), json.load(open(f'{d}/{b}'))]
    return min(x, key=lambda r: r['seconds'])
parse = best('parse1.json', 'parse2.json')
ingest = best('ingest1.json', 'ingest2.json')
mb = bytes_ / 1e6
print(f'file: {mb:.0f} MB, {lines} lines (real QEMU 7.2 guest traces, concatenated)')
print(f'{"":28} {"seconds":>8} {"MB/s":>8} {"Mevents/s":>10} {"vs wc -l":>9}')
rows = [('wc -l', t_wc, None), ('awk event count', t_awk, awk_events),
        ('iovista-cli trace --stats', t_cli, cli_events),
        ('parser (in process)', parse['seconds'], parse['events']),
        ('parser + event store', ingest['seconds'], ingest['events'])]
for name, t, ev in rows:
    evs = f'{ev / t / 1e6:10.2f}' if ev else f'{"":10}'
    print(f'{name:28} {t:8.3f} {mb / t:8.0f} {evs} {t_wc / t:9.2f}x')
if not (awk_events == cli_events == parse['events'] == ingest['events']):
    print(f'event counts differ: awk {awk_events} cli {cli_events} parse {parse["events"]} store {ingest["events"]}')
    sys.exit(1)
PY

"$bench" memory "$log" 10000000
"$bench" fifo "$log"        # as fast as the writer can
"$bench" fifo "$log" 200    # paced: 200 MB/s, ~20x QEMU's observed peak
