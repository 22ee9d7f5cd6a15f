#!/usr/bin/env python3
# tests/trace/count-trace.py — an independent count of a QEMU log-backend trace
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Written separately from src/core/iov-trace-parser.c (regular expressions
# over bytes instead of a hand-rolled scanner) to check `iovista-cli trace
# --stats`. Prints the same JSON object. The rules (issue #5):
#   - every line is one of events/other/malformed; a non-empty unterminated
#     last line is a line; one trailing CR is dropped; blank lines are other;
#   - "TID@SEC.USEC:NAME args" (TID and SEC 1-10 digits, USEC 6 digits, TID
#     below 2^32, NAME [A-Za-z0-9_]+ then a space or the end) is an event,
#     whatever NAME is; a line starting "DIGITS@" that does not fit is
#     malformed;
#   - "YYYY-MM-DDTHH:MM:SS[.uuuuuu]Z " (QEMU 10.1+) is a timestamp prefix;
#   - otherwise (and after an ISO prefix) the line is an event when its first
#     word (up to a space) is an event name of trace-events-all, else other.
# Usage: count-trace.py --trace-events FILE TRACE

import argparse
import calendar
import json
import re
import sys

TID_START = re.compile(rb'[0-9]+@')
TID_LINE = re.compile(rb'([0-9]{1,10})@([0-9]{1,10})\.([0-9]{6}):([A-Za-z0-9_]+)(?: |\Z)')
ISO = re.compile(rb'([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{6}))?Z ')
DEF = re.compile(rb'^\s*(?:[a-z]+\s+)*([A-Za-z_][A-Za-z0-9_]*)\s*\(')


def known_names(path):
    names = set()
    with open(path, 'rb') as f:
        for line in f:
            if line.lstrip().startswith(b'#'):
                continue
            m = DEF.match(line)
            if m and b')' in line[m.end():]:
                names.add(m.group(1))
    return names


def iso_seconds(m):
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h <= 23 and mi <= 59 and s <= 60):
        return None
    days = calendar.timegm((y, mo, 1, 0, 0, 0)) // 86400 + d - 1
    secs = days * 86400 + h * 3600 + mi * 60 + s
    if secs < 0:
        return None
    return secs, int(m.group(7) or 0)


def count(data, names):
    st = {'lines': 0, 'events': 0, 'other': 0, 'malformed': 0, 'dropped': 0,
          'first_ts': None, 'last_ts': None, 'by_name': {}}
    pieces = data.split(b'\n')
    if pieces and pieces[-1] == b'':
        pieces.pop()
    for line in pieces:
        st['lines'] += 1
        if line.endswith(b'\r'):
            line = line[:-1]
        name = None
        ts = None
        if TID_START.match(line):
            m = TID_LINE.match(line)
            if m is None or int(m.group(1)) > 0xffffffff:
                st['malformed'] += 1
                continue
            name = m.group(4)
            ts = (int(m.group(2)), int(m.group(3)))
        else:
            rest = line
            m = ISO.match(line)
            if m:
                t = iso_seconds(m)
                if t is not None:
                    ts = t
                    rest = line[m.end():]
            word = rest.split(b' ', 1)[0]
            if rest and word in names:
                name = word
            else:
                st['other'] += 1
                continue
        st['events'] += 1
        key = name.decode('ascii')
        st['by_name'][key] = st['by_name'].get(key, 0) + 1
        if ts is not None:
            text = '%d.%06d' % ts
            if st['first_ts'] is None:
                st['first_ts'] = text
            st['last_ts'] = text
    return st


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--trace-events', required=True)
    ap.add_argument('trace')
    args = ap.parse_args()
    names = known_names(args.trace_events)
    with open(args.trace, 'rb') as f:
        data = f.read()
    json.dump(count(data, names), sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
