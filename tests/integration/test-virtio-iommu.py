#!/usr/bin/env python3
# test-virtio-iommu.py — virtio-iommu snapshot and trace control on a real QEMU
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Starts qemu-system-x86_64 (TCG, -nodefaults, q35, virtio-iommu-pci, a
# virtio-rng with iommu_platform=on) without a guest kernel and checks:
# - iovista-cli snapshot: the rng's address space is one IOMMU range over
#   all of 2^64 (no interrupt window inside a virtio-iommu region), equal to
#   an independent parse of info mtree -f;
# - iovista-cli trace --qmp --preset / --off / --list-events: the preset's
#   events switch on and off as QEMU itself reports (read here through the
#   test's own QMP socket), and the noisy events stay off.
# Output is TAP; exit 77 only when QEMU is not installed.

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import iovqemu
from iovqemu import Qmp, Tap

QEMU = shutil.which("qemu-system-x86_64")
CLI = os.environ.get("IOVISTA_CLI")

if QEMU is None or not os.path.isdir("/usr/share/qemu"):
    print("1..0 # SKIP qemu-system-x86_64 or /usr/share/qemu is not installed (Debian package qemu-system-x86)")
    sys.exit(77)
if not CLI or not os.access(CLI, os.X_OK):
    print("Bail out! IOVISTA_CLI is not set to the built iovista-cli")
    sys.exit(99)

TMP = tempfile.mkdtemp(prefix="iovista-virtio-")
CLI_SOCK = os.path.join(TMP, "cli.qmp")
CHECK_SOCK = os.path.join(TMP, "check.qmp")
tap = Tap()
qemu = None


def states(check, pattern):
    return {e["name"]: e["state"] for e in check.cmd("trace-event-get-state", name=pattern)}


try:
    qemu = subprocess.Popen([QEMU, "-M", "q35", "-accel", "tcg", "-nodefaults", "-m", "128",
                             "-display", "none", "-no-reboot",
                             "-device", "virtio-iommu-pci",
                             "-object", "rng-random,id=rng0,filename=/dev/urandom",
                             "-device", "virtio-rng-pci,id=rng1,rng=rng0,iommu_platform=on,disable-legacy=on",
                             "-qmp", "unix:%s,server=on,wait=off" % CLI_SOCK,
                             "-qmp", "unix:%s,server=on,wait=off" % CHECK_SOCK],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(TMP, "qemu.stderr"), "wb"))
    check = Qmp(CHECK_SOCK)
    rng_bdf = iovqemu.pci_bdf(check, "rng1")
    tap.ok(rng_bdf is not None, "virtio-rng-pci at %s" % rng_bdf)

    for attempt in range(30):
        before = check.hmp("info mtree -f")
        res = subprocess.run([CLI, "snapshot", "unix:" + CLI_SOCK], capture_output=True, text=True, timeout=30)
        after = check.hmp("info mtree -f")
        if res.returncode != 0 or iovqemu.parse_mtree(before) == iovqemu.parse_mtree(after):
            break
        time.sleep(0.3)
    ok = tap.ok(res.returncode == 0, "snapshot exits 0", res.stderr)
    snap = json.loads(res.stdout) if ok else {"address_spaces": [], "iommu": None}
    views = iovqemu.parse_mtree(after)
    tap.ok(iovqemu.snapshot_keys(snap) == iovqemu.mtree_keys(views),
           "every FlatView with exactly the ranges of info mtree -f (%d views)" % len(views))
    tap.ok((snap.get("iommu") or {}).get("type") == "virtio-iommu-pci", "IOMMU type virtio-iommu-pci",
           snap.get("iommu"))

    # Before a guest attaches the endpoint, 7.1+ keeps it in bypass: the
    # virtio-iommu-device space shares the system memory view through the
    # "system" alias of its root container (reference §5.2); an attached
    # endpoint shows one IOMMU range over all of 2^64 (see the guest capture
    # in tests/data/mtree).
    mine = [(x, sp) for x in snap["address_spaces"] for sp in x["spaces"]
            if sp["name"] == "virtio-iommu-device" and sp.get("device") == rng_bdf]
    ok = tap.ok(len(mine) == 1 and mine[0][1]["root"].startswith("virtio-iommu-memory-region-"),
                "the rng's virtio-iommu-device space is resolved to %s" % rng_bdf,
                json.dumps([x["spaces"] for x in snap["address_spaces"]], indent=1)[:3000])
    if ok:
        view = mine[0][0]
        tap.ok(view["iommu"] is False and view["root_region"] == "system" and
               not any(r["role"] == "iommu" for r in view["flat_ranges"]),
               "idle, the endpoint is in bypass: it shares the system view (%s), no IOMMU range"
               % mine[0][1]["root"], view["root_region"])
        tap.ok(not any(r["role"] == "interrupt" and r["region"].startswith("virtio-iommu")
                       for x in snap["address_spaces"] for r in x["flat_ranges"]),
               "no interrupt window inside any virtio-iommu region")

    # Trace control: the one change Iovista makes in QEMU, when asked.
    before = states(check, "vtd_inv_desc*")
    tap.ok(before and all(s == "disabled" for s in before.values()), "vtd_inv_desc* start disabled (%d events)" % len(before))
    res = subprocess.run([CLI, "trace", "--qmp", "unix:" + CLI_SOCK, "--preset", "vtd-invalidations"],
                         capture_output=True, text=True, timeout=30)
    printed = {e["name"]: e["state"] for e in json.loads(res.stdout)} if res.returncode == 0 else {}
    now = states(check, "vtd_inv_desc*")
    tap.ok(res.returncode == 0 and all(s == "enabled" for s in now.values()) and
           {k: v for k, v in printed.items() if k.startswith("vtd_inv_desc")} == now,
           "--preset vtd-invalidations turns them on, and prints what QEMU reports", res.stderr)
    # issue H: every event the preset switched, not only its first pattern's
    qi = states(check, "vtd_inv_qi_*")
    tap.ok(qi and all(printed.get(k) == v == "enabled" for k, v in qi.items()) and
           printed.get("vtd_dmar_translate") == "disabled",
           "--preset prints every event it switched: vtd_inv_qi_* on, the noisy vtd_dmar_translate off",
           sorted(printed))
    res = subprocess.run([CLI, "trace", "--qmp", "unix:" + CLI_SOCK, "--preset", "everything-iommu"],
                         capture_output=True, text=True, timeout=30)
    noisy = states(check, "vtd_ir_remap*")
    tap.ok(res.returncode == 0 and states(check, "vtd_switch_address_space")["vtd_switch_address_space"] == "enabled"
           and noisy and all(s == "disabled" for s in noisy.values()),
           "everything-iommu turns vtd_* on but keeps the noisy vtd_ir_remap* off", noisy)
    res = subprocess.run([CLI, "trace", "--qmp", "unix:" + CLI_SOCK, "--preset", "vtd-invalidations", "--off"],
                         capture_output=True, text=True, timeout=30)
    tap.ok(res.returncode == 0 and all(s == "disabled" for s in states(check, "vtd_inv_desc*").values()),
           "--off turns the preset's events off again")
    res = subprocess.run([CLI, "trace", "--qmp", "unix:" + CLI_SOCK, "--list-events", "virtio_iommu_notify*"],
                         capture_output=True, text=True, timeout=30)
    listed = json.loads(res.stdout) if res.returncode == 0 else []
    tap.ok(sorted(e["name"] for e in listed) == sorted(states(check, "virtio_iommu_notify*")) and len(listed) >= 2,
           "--list-events lists what trace-event-get-state does (%d events)" % len(listed))
    res = subprocess.run([CLI, "trace", "--preset", "vtd-invalidations"], capture_output=True, text=True, timeout=30)
    tap.ok(res.returncode == 2 and "--qmp" in res.stderr, "--preset without --qmp is a usage error", res.stderr)
    tap.ok(check.cmd("query-status")["status"] == "running", "QEMU is still running")
    check.close()
finally:
    if qemu is not None and qemu.poll() is None:
        qemu.kill()
        qemu.wait()
    shutil.rmtree(TMP, ignore_errors=True)

tap.finish()
