#!/usr/bin/env python3
# test-booted-guest.py — watch a booting Linux guest switch DMA remapping on
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Boots Debian 12's kernel with a busybox initramfs (assembled and cached by
# tests/guest/build-guest.py) on qemu-system-x86_64 -M q35 -accel tcg with
# an intel-iommu and a virtio-rng-pci behind it (iommu_platform=on), with
# two QMP sockets: one for `iovista-cli snapshot --watch 0.5`, one for the
# test's own `info mtree -f`. Asserts that the CLI sees the rng's address
# space go from the shared vtd-nodmar view to VT-d's three FlatRanges when
# the kernel enables DMA remapping, that its ranges are what info mtree -f
# shows at that moment, and that the guest did DMA through the IOMMU.
# Output is TAP. Exit 77 only when QEMU is not installed or the kernel
# package cannot be downloaded.

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import iovqemu
from iovqemu import Qmp, Tap

T0 = time.monotonic()
DEADLINE = T0 + 170          # meson's timeout is 240 s; stop well before it
BOOT_LIMIT = 120             # from QEMU's start to the guest's "idle" line

QEMU = shutil.which("qemu-system-x86_64")
CLI = os.environ.get("IOVISTA_CLI")

if QEMU is None or not os.path.isdir("/usr/share/qemu"):
    print("1..0 # SKIP qemu-system-x86_64 or /usr/share/qemu is not installed (Debian package qemu-system-x86)")
    sys.exit(77)
if not CLI or not os.access(CLI, os.X_OK):
    print("Bail out! IOVISTA_CLI is not set to the built iovista-cli")
    sys.exit(99)

guest, why = iovqemu.build_guest()
if guest is None:
    print("1..0 # SKIP cannot download the Debian kernel package: %s" % why)
    sys.exit(77)

tap = Tap()
tap.ok(os.path.exists(guest["kernel"]) and os.path.exists(guest["initrd"]),
       "guest: %s %s (%s), modules %s, %s in %.1f s" % (guest["package"], guest["version"], guest["kernel_release"],
                                                       ",".join(guest["modules"]),
                                                       "from the cache" if guest["cached"] else "assembled",
                                                       guest["seconds"]), guest)
if "note" in guest:
    tap.note(guest["note"])

TMP = tempfile.mkdtemp(prefix="iovista-guest-")
CLI_SOCK = os.path.join(TMP, "cli.qmp")
CHECK_SOCK = os.path.join(TMP, "check.qmp")
SERIAL = os.path.join(TMP, "serial.log")
# no_timer_check: a loaded TCG host can miss check_timer()'s few ticks, and
# with interrupt remapping the kernel then panics ("timer doesn't work
# through Interrupt-remapped IO-APIC"); nothing here is about the timer.
APPEND = "console=ttyS0 intel_iommu=on iommu.strict=1 panic=-1 no_timer_check"
QEMU_ARGS = [QEMU, "-M", "q35", "-accel", "tcg", "-nodefaults", "-m", "512",
             "-display", "none", "-no-reboot",
             "-device", "intel-iommu,intremap=on,caching-mode=on",
             "-object", "rng-random,id=rng0,filename=/dev/urandom",
             "-device", "virtio-rng-pci,id=rng1,rng=rng0,iommu_platform=on,disable-legacy=on",
             "-serial", "file:" + SERIAL,
             "-kernel", guest["kernel"], "-initrd", guest["initrd"], "-append", APPEND,
             "-qmp", "unix:%s,server=on,wait=off" % CLI_SOCK,
             "-qmp", "unix:%s,server=on,wait=off" % CHECK_SOCK]
procs = []


def serial_text():
    try:
        with open(SERIAL, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def guest_lines():
    return [l.strip()[len("IOVISTA-GUEST: "):] for l in serial_text().splitlines() if l.startswith("IOVISTA-GUEST: ")]


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(TMP, ignore_errors=True)


def reader(stream, q):
    for line in stream:
        q.put((time.monotonic(), line))
    q.put((time.monotonic(), None))


try:
    qemu = subprocess.Popen(QEMU_ARGS, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(TMP, "qemu.stderr"), "wb"))
    procs.append(qemu)
    t_qemu = time.monotonic()
    # the sockets exist once QEMU has parsed its command line; the CLI
    # must not find them missing (it exits 3 then)
    while not os.path.exists(CLI_SOCK) and qemu.poll() is None and time.monotonic() < t_qemu + 10:
        time.sleep(0.01)
    # English change messages on stderr, whatever the caller's locale
    watch = subprocess.Popen([CLI, "snapshot", "--watch", "0.5", "unix:" + CLI_SOCK],
                             stdout=subprocess.PIPE, stderr=open(os.path.join(TMP, "cli.stderr"), "w"),
                             text=True, bufsize=1, env=dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE="C"))
    procs.append(watch)
    check = Qmp(CHECK_SOCK)
    rng_bdf = iovqemu.pci_bdf(check, "rng1")
    vtd_root = "vtd-" + rng_bdf[3:] if rng_bdf else None
    tap.ok(rng_bdf is not None, "virtio-rng-pci is at %s: its VT-d address space is %s" % (rng_bdf, vtd_root))

    lines = queue.Queue()
    threading.Thread(target=reader, args=(watch.stdout, lines), daemon=True).start()

    # every JSON line of the CLI with, right after it, our own info mtree -f
    seen = []            # (t, snapshot, our info mtree -f views taken just after)
    polls = []           # (t, the rng's FlatView in our info mtree -f)
    check_switch = None  # when our own polling first saw the rng's view with IOMMU ranges
    idle_at = None
    cli_ended = False
    while time.monotonic() < min(DEADLINE, t_qemu + BOOT_LIMIT):
        try:
            t, line = lines.get(timeout=0.25)
        except queue.Empty:
            t, line = None, None
        if t is not None and line is None:
            cli_ended = True
        views = iovqemu.parse_mtree(check.hmp("info mtree -f")) if qemu.poll() is None else []
        v = iovqemu.view_of_as_root(views, vtd_root)
        if check_switch is None and v is not None and v["root"] != "vtd-nodmar":
            check_switch = time.monotonic()
        polls.append((time.monotonic(), v))
        if line:
            seen.append((t, json.loads(line), views))
        if idle_at is None and any(l.startswith("idle") for l in guest_lines()):
            idle_at = time.monotonic()
        if cli_ended or qemu.poll() is not None:
            break
        # done when the guest idles and the CLI has printed its last change
        if idle_at is not None and time.monotonic() - idle_at > 1.5 and lines.empty():
            break

    tap.ok(qemu.poll() is None and idle_at is not None,
           "the guest booted and idles %.1f s after QEMU started (limit %d s)"
           % ((idle_at or time.monotonic()) - t_qemu, BOOT_LIMIT),
           "QEMU exit %s\n%s" % (qemu.poll(), serial_text()[-3000:]))
    g = guest_lines()
    tap.note("guest: " + " | ".join(l for l in g if not l.startswith("insmod")))
    tap.ok("DMAR: Intel(R) Virtualization Technology for Directed I/O" in serial_text()
           and any(l.startswith("iommu units: dmar0") for l in g),
           "the kernel enabled VT-d DMA remapping (dmar0)", serial_text()[-3000:])
    tap.ok(any(l.startswith("rng_current=virtio_rng") for l in g) and "hwrng read bytes=4096" in g,
           "virtio_rng bound and 4096 bytes read from /dev/hwrng: DMA through the IOMMU", "\n".join(g))

    # the CLI's view of the rng, line by line
    states = []
    for t, snap, views in seen:
        e = iovqemu.snapshot_entry_of_as_root(snap, vtd_root)
        states.append(None if e is None else (e["root_region"], e["iommu"]))
    tap.note("%d snapshot lines from --watch; rng address space per line: %s" % (len(seen), states))
    first_iommu = next((i for i, s in enumerate(states) if s and s[1]), None)

    ok = tap.ok(len(seen) > 0 and states[0] == ("vtd-nodmar", False),
                "before: the first snapshot (%.2f s after QEMU started) shows %s in the shared vtd-nodmar view"
                % ((seen[0][0] - t_qemu) if seen else -1, vtd_root), states[:3])
    if ok:
        e = iovqemu.snapshot_entry_of_as_root(seen[0][1], vtd_root)
        roles = sorted({r["role"] for r in e["flat_ranges"]})
        tap.ok("iommu" not in roles and "passthrough" in roles and
               ("vtd-nodmar" == (iovqemu.view_of_as_root(seen[0][2], vtd_root) or {}).get("root")),
               "before: no IOMMU ranges (roles %s), and info mtree -f agrees on the vtd-nodmar root" % roles,
               json.dumps(e, indent=1)[:3000])
        # the exact ranges: --watch prints the whole state after every
        # change, within its 0.5 s interval plus the time to collect, so what
        # a line shows must be what our own polls see from that line until
        # 1.5 s before the next one
        stable = []
        for k in range(first_iommu or 0):
            t = seen[k][0]
            e2 = iovqemu.snapshot_entry_of_as_root(seen[k][1], vtd_root)
            for pt, pv in polls:
                if t <= pt <= seen[k + 1][0] - 1.5:
                    stable.append((pv is not None and iovqemu.snapshot_ranges(e2) == pv["ranges"],
                                   iovqemu.snapshot_ranges(e2), pv))
        tap.ok(stable and all(same for same, _, _ in stable),
               "before: the CLI's flat_ranges are those of our %d info mtree -f polls while its lines stood"
               % len(stable), "\n".join("cli: %s\nmtree: %s" % (a, b) for same, a, b in stable if not same))
        tap.note("before (%s): " % vtd_root + "; ".join("[%s, %s] %s %s" % (r["start"], r["end"], r["role"], r["region"])
                                                        for r in e["flat_ranges"]))

    ok = tap.ok(first_iommu is not None and first_iommu > 0 and
                all(s is not None and s[1] for s in states[first_iommu:]) and
                all(s == ("vtd-nodmar", False) for s in states[:first_iommu]),
                "the CLI saw the switch once: %d line(s) without DMA remapping, then only with it"
                % (first_iommu or 0), states)
    if first_iommu is not None:
        t, snap, views = seen[first_iommu]
        e = iovqemu.snapshot_entry_of_as_root(snap, vtd_root)
        got = [(r["start"], r["end"], r["role"], r["region"], r["offset"]) for r in e["flat_ranges"]]
        dmar = vtd_root + "-dmar"
        want = [("0x0", "0xfedfffff", "iommu", dmar, "0x0"),
                ("0xfee00000", "0xfeefffff", "interrupt", "vtd-ir", "0x0"),
                ("0xfef00000", "0xffffffffffffffff", "iommu", dmar, "0xfef00000")]
        tap.ok(got == want and e["root_region"] == dmar and e["iommu"] is True,
               "after (%.2f s after QEMU started): exactly [0x0, 0xfedfffff] iommu, [0xfee00000, 0xfeefffff] "
               "interrupt, [0xfef00000, 0xffffffffffffffff] iommu @0xfef00000" % (t - t_qemu),
               json.dumps(e, indent=1)[:3000])
        tap.note("after (%s): " % vtd_root + "; ".join("[%s, %s] %s %s @%s" % (s, en, role, reg, off)
                                                       for s, en, role, reg, off in got))
        mine = iovqemu.view_of_as_root(views, vtd_root)
        tap.ok(mine is not None and iovqemu.snapshot_ranges(e) == mine["ranges"] and mine["root"] == dmar,
               "at the switch the CLI's flat_ranges are those of info mtree -f taken right after",
               "cli: %s\nmtree: %s" % (iovqemu.snapshot_ranges(e), mine))
        tap.ok(check_switch is not None and abs(check_switch - t) < 3.0,
               "our own polling saw the switch %.2f s from the CLI's line" % ((check_switch or 0) - t))

    watch.send_signal(signal.SIGINT)
    try:
        watch.wait(timeout=10)
    except subprocess.TimeoutExpired:
        watch.kill()
        watch.wait()
    with open(os.path.join(TMP, "cli.stderr")) as f:
        werr = f.read()
    tap.ok(watch.returncode == 0, "--watch ends with 0 on SIGINT", werr)
    # the session behind --watch names what changed, per device
    said = [l for l in werr.splitlines() if rng_bdf and rng_bdf + " " in l]
    tap.ok(said == ["iovista-cli snapshot: %s switched to DMA remapping: 3 ranges" % rng_bdf],
           "--watch said once: \"%s switched to DMA remapping: 3 ranges\"" % rng_bdf, werr)
    tap.note("--watch stderr: " + " | ".join(werr.splitlines()))

    # the idle guest: every FlatView of a one-shot snapshot against an info
    # mtree -f that was the same just before and just after the CLI ran
    # (the watch has gone, so its socket is free again)
    for attempt in range(10):
        before = check.hmp("info mtree -f")
        res = subprocess.run([CLI, "snapshot", "unix:" + CLI_SOCK], capture_output=True, text=True, timeout=30)
        after = check.hmp("info mtree -f")
        if iovqemu.parse_mtree(before) == iovqemu.parse_mtree(after):
            break
        time.sleep(0.3)
    ok = tap.ok(res.returncode == 0, "one-shot snapshot of the idle guest exits 0 (%d attempt(s))" % (attempt + 1),
                res.stderr)
    if ok:
        snap = json.loads(res.stdout)
        got = iovqemu.snapshot_keys(snap)
        want = iovqemu.mtree_keys(iovqemu.parse_mtree(after))
        tap.ok(got == want, "idle guest: every FlatView with exactly the ranges of info mtree -f (%d views)" % len(got),
               "\n".join(sorted(set(got) ^ set(want))))
        switched = [e for e in snap["address_spaces"] if e["iommu"]]
        nodmar = [e for e in snap["address_spaces"] if e["root_region"] == "vtd-nodmar"]
        tap.ok(any(s["device"] == rng_bdf for e in switched for s in e["spaces"]),
               "the snapshot names %s as the device of the remapped %s" % (rng_bdf, vtd_root),
               json.dumps([e["spaces"] for e in switched], indent=1))
        tap.note("idle guest: %d address spaces with IOMMU ranges, %d in vtd-nodmar" % (len(switched), len(nodmar)))
    tap.ok(check.cmd("query-status")["status"] == "running", "QEMU is still running, untouched")
    check.close()
    tap.ok(time.monotonic() - T0 < 180, "the whole test took %.1f s (limit 180 s)" % (time.monotonic() - T0))
finally:
    cleanup()

tap.finish()
