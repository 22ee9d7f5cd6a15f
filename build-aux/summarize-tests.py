#!/usr/bin/env python3
# build-aux/summarize-tests.py — "N passed, N failed" over meson test logs
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# meson test prints no such line; this reads meson-logs/*.json (one JSON
# object per test) and prints it. Exits 1 if any test failed or a log is
# missing.
import json
import sys

PASS = {"OK", "EXPECTEDFAIL"}
SKIP = {"SKIP"}

passed = failed = skipped = 0
missing = []
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                result = json.loads(line).get("result")
                if result in PASS:
                    passed += 1
                elif result in SKIP:
                    skipped += 1
                else:
                    failed += 1
    except OSError:
        missing.append(path)

for path in missing:
    print(f"missing test log: {path}", file=sys.stderr)
    failed += 1

line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
