#!/usr/bin/env python3
# test-live-qemu.py — iovista-cli snapshot against a real qemu-system-x86_64
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Starts QEMU (TCG, -nodefaults, q35 + intel-iommu + virtio devices with
# iommu_platform=on) with two QMP sockets in a temporary directory: one for
# iovista-cli, one for the test's own checks (QEMU serves one client per
# socket). Output is TAP. Exit 77 only when QEMU is not installed.

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

QEMU = shutil.which("qemu-system-x86_64")
CLI = os.environ.get("IOVISTA_CLI")

if QEMU is None or not os.path.isdir("/usr/share/qemu"):
    print("1..0 # SKIP qemu-system-x86_64 or /usr/share/qemu is not installed (Debian package qemu-system-x86)")
    sys.exit(77)
if not CLI or not os.access(CLI, os.X_OK):
    print("Bail out! IOVISTA_CLI is not set to the built iovista-cli")
    sys.exit(99)

# --- an independent reading of QMP and info mtree -f ----------------------

# The allow-list check and the test's own read-only QMP client are shared
# with the other integration tests.
from iovqemu import Qmp, allowed  # noqa: E402


RANGE_RE = re.compile(r"^  ([0-9a-f]{16})-([0-9a-f]{16}) \(prio (-?\d+), ([a-z/-]+)\): (.+?)(?: @([0-9a-f]{16}))?$")


def parse_mtree(text):
    views = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith("FlatView #"):
            views.append({"spaces": [], "ranges": []})
        elif line.startswith(' AS "'):
            m = re.match(r' AS "(.*)", root: (.*)$', line)
            views[-1]["spaces"].append((m.group(1), m.group(2)))
        elif line.startswith(" Root memory region: "):
            root = line[len(" Root memory region: "):]
            views[-1]["root"] = None if root == "(none)" else root
        elif RANGE_RE.match(line):
            m = RANGE_RE.match(line)
            views[-1]["ranges"].append((int(m.group(1), 16), int(m.group(2), 16), int(m.group(3)),
                                        m.group(4), m.group(5), int(m.group(6) or "0", 16)))
    return [v for v in views if v["ranges"]]


def view_key(spaces, ranges):
    return json.dumps([sorted(spaces), ranges])


def snapshot_views(snap):
    out = []
    for e in snap["address_spaces"]:
        spaces = [(s["name"], s["root"]) for s in e["spaces"]]
        ranges = [(int(r["start"], 16), int(r["end"], 16), r["priority"], r["kind"], r["region"],
                   int(r["offset"], 16)) for r in e["flat_ranges"]]
        out.append(view_key(spaces, ranges))
    return sorted(out)


def pci_functions(qmp):
    out = []

    def walk(devs):
        for d in devs:
            out.append("%02x:%02x.%x" % (d["bus"], d["slot"], d["function"]))
            if "pci_bridge" in d:
                walk(d["pci_bridge"].get("devices", []))
    for bus in qmp.cmd("query-pci"):
        walk(bus["devices"])
    return out


# --- QEMU ------------------------------------------------------------------

TMP = tempfile.mkdtemp(prefix="iovista-live-")
CLI_SOCK = os.path.join(TMP, "vm1.qmp")
CHECK_SOCK = os.path.join(TMP, "check.qmp")


def start_qemu(extra=()):
    for p in (CLI_SOCK, CHECK_SOCK):
        if os.path.exists(p):
            os.unlink(p)
    args = [QEMU, "-accel", "tcg", "-nodefaults", "-machine", "q35,kernel-irqchip=split", "-m", "128",
            "-display", "none", "-vga", "none", "-monitor", "none", "-serial", "none", "-parallel", "none",
            "-device", "intel-iommu,intremap=on,caching-mode=on,device-iotlb=on",
            "-device", "pcie-root-port,id=rp1,chassis=1,slot=1,bus=pcie.0,addr=0x3",
            "-netdev", "user,id=n0",
            "-device", "virtio-net-pci,netdev=n0,iommu_platform=on,disable-legacy=on,romfile=,bus=rp1,ats=on",
            "-object", "rng-random,id=rng0,filename=/dev/urandom",
            "-device", "virtio-rng-pci,rng=rng0,iommu_platform=on,disable-legacy=on",
            *extra,
            "-qmp", "unix:%s,server=on,wait=off" % CLI_SOCK,
            "-qmp", "unix:%s,server=on,wait=off" % CHECK_SOCK]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(TMP, "qemu.stderr"), "ab"))
    check = Qmp(CHECK_SOCK)
    check.t_socket = time.time()  # both sockets exist now
    # let SeaBIOS number the root port's bus, so the endpoint behind it shows up in query-pci
    deadline = time.time() + 20
    while time.time() < deadline and "01:00.0" not in pci_functions(check):
        time.sleep(0.1)
    return proc, check


def run_cli(*args, timeout=30):
    return subprocess.run([CLI, "snapshot", *args], capture_output=True, text=True, timeout=timeout)


n = 0
failed = 0


def ok(cond, name, detail=""):
    global n, failed
    n += 1
    if cond:
        print("ok %d %s" % (n, name))
    else:
        failed += 1
        print("not ok %d %s" % (n, name))
        for line in str(detail).splitlines()[:40]:
            print("# " + line)
    sys.stdout.flush()


procs = []


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(TMP, ignore_errors=True)


try:
    # 1. idle VM: the snapshot holds exactly the ranges of info mtree -f
    qemu, check = start_qemu()
    procs.append(qemu)
    # SeaBIOS keeps moving BARs and PAM windows for a while: compare against
    # an info mtree -f that was the same just before and just after the CLI ran.
    for attempt in range(20):
        before = check.hmp("info mtree -f")
        res = run_cli("unix:" + CLI_SOCK)
        mtree = check.hmp("info mtree -f")
        if parse_mtree(before) == parse_mtree(mtree):
            break
        time.sleep(0.5)
    ok(res.returncode == 0, "snapshot exits 0 (layout stable after %d attempt(s))" % (attempt + 1), res.stderr)
    snap = json.loads(res.stdout)
    expected = sorted(view_key(v["spaces"], v["ranges"]) for v in parse_mtree(mtree))
    got = snapshot_views(snap)
    ok(got == expected and len(got) > 3, "every FlatView with ranges, with exactly the ranges of info mtree -f",
       "\n".join(sorted(set(got) ^ set(expected))))
    version = check.greeting["QMP"]["version"]
    ok(snap["qemu"]["version"] == "%d.%d.%d" % (version["qemu"]["major"], version["qemu"]["minor"], version["qemu"]["micro"])
       and snap["qemu"]["package"] == version["package"], "qemu version and package from the greeting", snap["qemu"])
    ok(snap["iommu"]["type"] == "intel-iommu" and snap["iommu"]["properties"].get("caching-mode") is True
       and snap["iommu"]["properties"].get("device-iotlb") is True
       and snap["iommu"]["properties"].get("aw-bits") == check.cmd("qom-get", path="/machine/peripheral-anon/device[0]", property="aw-bits"),
       "IOMMU type and QOM properties", snap["iommu"])
    bdfs = [d["bdf"] for d in snap["devices"]]
    ok(bdfs == pci_functions(check), "devices are every function query-pci reports, bridges included", bdfs)
    by_bdf = {d["bdf"]: d for d in snap["devices"]}
    ok(by_bdf.get("01:00.0", {}).get("type") == "virtio-net-pci" and by_bdf["01:00.0"]["vhost"] is False
       and by_bdf.get("00:03.0", {}).get("type") == "pcie-root-port" and by_bdf.get("00:00.0", {}).get("type") == "mch",
       "devices carry QOM type and path, also behind the root port", json.dumps(snap["devices"], indent=1))
    nodmar = [e for e in snap["address_spaces"] if e["root_region"] == "vtd-nodmar"]
    ok(len(nodmar) == 1 and not nodmar[0]["iommu"] and
       {r["role"] for r in nodmar[0]["flat_ranges"]} == {"passthrough", "interrupt"} and
       [r for r in nodmar[0]["flat_ranges"] if r["role"] == "interrupt"][0]["start"] == "0xfee00000",
       "DMA remapping off: one shared vtd-nodmar view, pass-through plus the IR window", json.dumps(nodmar, indent=1)[:3000])
    same = [s for s in nodmar[0]["spaces"] if s["root"] == "vtd-00.0"]
    ok(len(same) == 2 and all(s["device"] is None and sorted(s["candidates"]) == ["00:00.0", "01:00.0"] for s in same),
       "two ASes named vtd-00.0 in one view: shown as ambiguous, not guessed", same)
    rng_bdf = [d["bdf"] for d in snap["devices"] if d["type"] == "virtio-rng-pci"][0]
    rng = [s for s in nodmar[0]["spaces"] if s["root"] == "vtd-" + rng_bdf[3:]]
    ok(rng and rng[0]["device"] == rng_bdf, "vtd-%s resolved to the rng at %s" % (rng_bdf[3:], rng_bdf), rng)
    hexes = [r[k] for e in snap["address_spaces"] for r in e["flat_ranges"] for k in ("start", "end", "offset")]
    ok(all(re.fullmatch(r"0x(0|[1-9a-f][0-9a-f]*)", h) for h in hexes), "hex strings are lowercase without leading zeros")
    raw = run_cli("--raw", CLI_SOCK)
    ok(raw.returncode == 0 and parse_mtree(json.loads(raw.stdout)["mtree"]) == parse_mtree(mtree), "--raw adds the mtree text (bare path address)")

    # errors
    missing = os.path.join(TMP, "nothing.qmp")
    res = run_cli("unix:" + missing)
    ok(res.returncode == 3 and res.stdout == "" and ("cannot connect to unix:%s" % missing) in res.stderr
       and ("-qmp unix:%s,server=on,wait=off" % missing) in res.stderr, "unreachable QEMU: exit 3 with the fix on stderr", res)
    res = run_cli("--bogus", CLI_SOCK)
    ok(res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, "bad option: exit 2, one line", res)
    res = run_cli("--watch", "-1", CLI_SOCK)
    ok(res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, "bad --watch: exit 2, one line", res)
    not_qmp = os.path.join(TMP, "not-qmp.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(not_qmp)
    srv.listen(1)

    def talk():
        c, _ = srv.accept()
        c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        time.sleep(0.5)
        c.close()
    threading.Thread(target=talk, daemon=True).start()
    res = run_cli(not_qmp)
    srv.close()
    ok(res.returncode != 0 and "is not a QMP socket" in res.stderr, "a socket that is not QMP says so", res)

    # 2. recording proxy: every flow of the CLI sends only allow-listed commands
    proxy_sock = os.path.join(TMP, "proxy.qmp")
    recorded = []
    lsock = socket.socket(socket.AF_UNIX)
    lsock.bind(proxy_sock)
    lsock.listen(8)
    stop_proxy = threading.Event()

    def pump(src, dst, record):
        buf = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if record:
                    buf += data
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        recorded.append(line.decode("utf-8", "replace"))
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def proxy():
        lsock.settimeout(0.2)
        while not stop_proxy.is_set():
            try:
                client, _ = lsock.accept()
            except socket.timeout:
                continue
            up = socket.socket(socket.AF_UNIX)
            up.connect(CLI_SOCK)
            threading.Thread(target=pump, args=(client, up, True), daemon=True).start()
            threading.Thread(target=pump, args=(up, client, False), daemon=True).start()
    pt = threading.Thread(target=proxy, daemon=True)
    pt.start()
    r1 = run_cli("unix:" + proxy_sock)
    time.sleep(0.2)
    r2 = run_cli("--raw", proxy_sock)
    time.sleep(0.2)
    w = subprocess.Popen([CLI, "snapshot", "--watch", "0.2", proxy_sock], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    w.send_signal(signal.SIGINT)
    wout, werr = w.communicate(timeout=10)
    stop_proxy.set()
    pt.join()
    lsock.close()
    msgs = [json.loads(l) for l in recorded if l.strip()]
    names = sorted({m.get("execute") for m in msgs})
    bad = [m for m in msgs if not allowed(m)]
    ok(r1.returncode == 0 and r2.returncode == 0 and w.returncode == 0 and wout.count("\n") >= 1,
       "snapshot, --raw and --watch through the proxy", (r1.stderr, r2.stderr, werr))
    ok(len(msgs) > 20 and not bad, "recording proxy: %d commands, all allow-listed (%s)" % (len(msgs), ", ".join(names)), bad)
    ok(check.cmd("query-status")["status"] == "running", "QEMU is still running, untouched")
    check.close()

    # 3. kill QEMU mid-session and restart it on the same socket
    w = subprocess.Popen([CLI, "snapshot", "--watch", "0.2", "unix:" + CLI_SOCK], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, bufsize=1)
    first = json.loads(w.stdout.readline())
    qemu.kill()
    qemu.wait()
    time.sleep(0.5)
    qemu, check = start_qemu(extra=["-device", "virtio-rng-pci,iommu_platform=on,disable-legacy=on,addr=0x6"])
    procs.append(qemu)
    t_up = check.t_socket
    line = w.stdout.readline()
    t_back = time.time()
    second = json.loads(line)
    w.send_signal(signal.SIGINT)
    _, werr = w.communicate(timeout=10)
    ok("00:06.0" not in [d["bdf"] for d in first["devices"]] and "00:06.0" in [d["bdf"] for d in second["devices"]],
       "after a restart the snapshot is back, with the new QEMU's devices")
    ok(t_back - t_up < 2.0, "reconnected and re-snapshotted within %.2f s of the new QMP socket appearing (limit 2 s)" % (t_back - t_up), werr)
    ok("closed the connection" in werr, "the disconnection reason is reported on stderr", werr)
    check.close()
finally:
    cleanup()

print("1..%d" % n)
sys.exit(1 if failed else 0)
