# tests/integration/iovqemu.py — helpers for the tests that boot a guest
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# An independent reading of QMP and of `info mtree -f` (written here, not
# shared with the C parser under test), a read-only QMP client that refuses
# anything outside Iovista's allow-list, the cached guest from
# tests/guest/build-guest.py, and TAP output.

import json
import os
import re
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILDER = os.path.join(HERE, "..", "guest", "build-guest.py")

ALLOWED_EXACT = {
    "qmp_capabilities", "x-query-virtio-status", "qom-list", "qom-get",
    "device-list-properties", "trace-event-get-state", "trace-event-set-state",
}


def allowed(msg):
    cmd = msg.get("execute")
    if cmd in ALLOWED_EXACT:
        return True
    if isinstance(cmd, str) and re.fullmatch(r"query-[A-Za-z0-9_-]+", cmd):
        return True
    if cmd == "human-monitor-command":
        words = msg.get("arguments", {}).get("command-line", "").split()
        if words[:2] == ["info", "mtree"]:
            return all(w in ("-f", "-d", "-o", "-D") for w in words[2:])
        return words in (["info", "pci"], ["info", "qtree"], ["info", "network"])
    return False


class Qmp:
    """A blocking QMP client for the test's own checks; read-only by construction."""

    def __init__(self, path, timeout=10):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(30)
        self.f = self.sock.makefile("rwb")
        self.greeting = json.loads(self.f.readline())
        self.cmd("qmp_capabilities")

    def cmd(self, name, /, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        if not allowed(msg):
            raise AssertionError("the test itself tried a command outside the allow-list: %s" % name)
        self.f.write((json.dumps(msg) + "\r\n").encode())
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError("QEMU closed the QMP connection")
            reply = json.loads(line)
            if "event" in reply:
                continue
            if "error" in reply:
                raise RuntimeError(reply["error"])
            return reply["return"]

    def hmp(self, line):
        return self.cmd("human-monitor-command", **{"command-line": line})

    def close(self):
        self.sock.close()


RANGE_RE = re.compile(r"^  ([0-9a-f]{16})-([0-9a-f]{16}) \(prio (-?\d+), ([a-z/-]+)\): (.+?)(?: @([0-9a-f]{16}))?$")


def parse_mtree(text):
    """FlatViews with at least one range: {"spaces": [(name, root)], "root": str|None,
    "ranges": [(start, end, prio, kind, region, offset)]}."""
    views = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith("FlatView #"):
            views.append({"spaces": [], "ranges": [], "root": None})
        elif line.startswith(' AS "'):
            m = re.match(r' AS "(.*)", root: (.*)$', line)
            views[-1]["spaces"].append((m.group(1), m.group(2)))
        elif line.startswith(" Root memory region: "):
            root = line[len(" Root memory region: "):]
            views[-1]["root"] = None if root == "(none)" else root
        else:
            m = RANGE_RE.match(line)
            if m:
                views[-1]["ranges"].append((int(m.group(1), 16), int(m.group(2), 16), int(m.group(3)),
                                            m.group(4), m.group(5), int(m.group(6) or "0", 16)))
    return [v for v in views if v["ranges"]]


def view_of_as_root(views, as_root):
    """The FlatView holding the AddressSpace whose root MemoryRegion is as_root."""
    found = [v for v in views if any(root == as_root for _, root in v["spaces"])]
    return found[0] if len(found) == 1 else None


def view_key(spaces, ranges):
    return json.dumps([sorted(spaces), ranges])


def mtree_keys(views):
    return sorted(view_key(v["spaces"], v["ranges"]) for v in views)


def snapshot_ranges(entry):
    return [(int(r["start"], 16), int(r["end"], 16), r["priority"], r["kind"], r["region"], int(r["offset"], 16))
            for r in entry["flat_ranges"]]


def snapshot_keys(snap):
    return sorted(view_key([(s["name"], s["root"]) for s in e["spaces"]], snapshot_ranges(e))
                  for e in snap["address_spaces"])


def snapshot_entry_of_as_root(snap, as_root):
    found = [e for e in snap["address_spaces"] if any(s["root"] == as_root for s in e["spaces"])]
    return found[0] if len(found) == 1 else None


def pci_bdf(qmp, qdev_id):
    def walk(bus, devs):
        for d in devs:
            if d.get("qdev_id") == qdev_id:
                return "%02x:%02x.%x" % (d["bus"], d["slot"], d["function"])
            if "pci_bridge" in d:
                r = walk(d["bus"], d["pci_bridge"].get("devices", []))
                if r:
                    return r
        return None
    for bus in qmp.cmd("query-pci"):
        r = walk(bus["bus"], bus["devices"])
        if r:
            return r
    return None


def build_guest(timeout=150, kernel=None):
    """Runs tests/guest/build-guest.py: (info dict, None), or (None, reason) to skip.
    Any other failure is a bail-out. kernel: the series (build-guest.py's
    --kernel, e.g. "6.12"); None keeps its default (6.1 unless
    $IOVISTA_GUEST_KERNEL says otherwise)."""
    args = [sys.executable, BUILDER] + (["--kernel", kernel] if kernel else [])
    res = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if res.returncode == 77:
        return None, res.stderr.strip()
    if res.returncode != 0:
        print("Bail out! tests/guest/build-guest.py failed (%d): %s" % (res.returncode, res.stderr.strip()[-2000:]))
        sys.exit(99)
    return json.loads(res.stdout), None


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, detail=""):
        self.n += 1
        if cond:
            print("ok %d %s" % (self.n, name))
        else:
            self.failed += 1
            print("not ok %d %s" % (self.n, name))
            for line in str(detail).splitlines()[:60]:
                print("# " + line)
        sys.stdout.flush()
        return cond

    def note(self, text):
        for line in str(text).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def finish(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)
