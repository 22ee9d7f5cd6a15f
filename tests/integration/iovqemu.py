# tests/integration/iovqemu.py — helpers for the tests that boot a guest
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# An independent reading of QMP and of `info mtree -f` (written here, not
# shared with the C parser under test), a read-only QMP client that refuses
# anything outside Iovista's allow-list, the cached guest from
# tests/guest/build-guest.py, the consumer's side of vhost-user IOTLB
# traffic (dpdk-testpmd's log, QEMU's IOTLB-miss windows), and TAP output.

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


# --- the vhost-user consumer's side --------------------------------------
#
# dpdk-testpmd (DPDK 22.11) with --log-level=lib.vhost.config:debug logs
# "read message VHOST_USER_IOTLB_MSG" for every IOTLB message QEMU writes on
# the vhost-user socket, updates and invalidations alike: its log has no line
# that tells the two apart (vhost_user_iotlb_msg() logs nothing per type).
# QEMU sends an update only to answer an IOTLB miss, so the invalidations it
# sent are the messages minus the updates. QEMU's vhost_device_iotlb_miss()
# (hw/virtio/vhost.c, v5.2.0:1003-1042) traces `vhost_iotlb_miss … step 1`,
# translates (VT-d traces vtd_dmar_translate on success, vtd_dmar_fault or
# vtd_fault_disabled on a fault), sends the update only when the translation
# succeeded, then traces step 2 (also after a failed translation) — or step
# 3/4 and no step 2 when the lookup or the write failed. All of it runs
# under the BQL in one thread, so a window is one thread's lines between its
# step 1 and its step 2.

TESTPMD_IOTLB_MSG_RE = re.compile(r"VHOST_CONFIG: \(.*\) read message VHOST_USER_IOTLB_MSG\b")
TRACE_LINE_RE = re.compile(r"^(\d+)@\d+\.\d+:([A-Za-z0-9_]+)(?: (.*))?$")
MISS_STEP_RE = re.compile(r"\bstep (\d+)\b")


def testpmd_iotlb_msgs(text):
    """How many VHOST_USER_IOTLB_MSG dpdk-testpmd's debug log says it read."""
    return len(TESTPMD_IOTLB_MSG_RE.findall(text))


def miss_updates(lines, bdf="01:00.0"):
    """From a log-backend trace (PID@SEC.USEC lines, as 5.2–10.0 write them)
    holding vhost_iotlb_miss, vtd_dmar_translate, vtd_dmar_fault and
    vtd_fault_disabled: {"misses": step-1 lines, "updates": misses whose
    translation of BDF succeeded (QEMU sent an IOTLB update), "failed": misses
    that sent nothing, "unfinished": misses with no step 2/3/4 (QEMU ended
    inside one)}."""
    bus, rest = bdf.split(":")
    slot, fn = rest.split(".")
    dev = "dev %s:%s.%02x" % (bus, slot, int(fn, 16))
    windows = {}
    out = {"misses": 0, "updates": 0, "failed": 0, "unfinished": 0}
    for line in lines:
        m = TRACE_LINE_RE.match(line)
        if not m:
            continue
        tid, name, args = m.group(1), m.group(2), m.group(3) or ""
        if name == "vhost_iotlb_miss":
            s = MISS_STEP_RE.search(args)
            step = int(s.group(1)) if s else 0
            if step == 1:
                out["misses"] += 1
                windows[tid] = {"translated": False, "fault": False}
            elif step in (2, 3, 4) and tid in windows:
                w = windows.pop(tid)
                if step == 2 and w["translated"] and not w["fault"]:
                    out["updates"] += 1
                else:
                    out["failed"] += 1
        elif tid in windows:
            if name == "vtd_dmar_translate" and args.startswith(dev):
                windows[tid]["translated"] = True
            elif name in ("vtd_dmar_fault", "vtd_fault_disabled"):
                windows[tid]["fault"] = True
    out["unfinished"] = len(windows)
    return out


def vhost_invalidations(notifiers):
    """Iovista's inferred invalidations for vhost: the deliveries of type
    unmap or deviotlb-unmap over notifiers {name: --stats notifier}."""
    total = 0
    for name, n in notifiers.items():
        if ".vhost." not in name:
            continue
        by = n.get("delivered_by_type") or {}
        total += (by.get("unmap") or 0) + (by.get("deviotlb-unmap") or 0)
    return total


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
