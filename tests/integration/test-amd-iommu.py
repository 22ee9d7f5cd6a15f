#!/usr/bin/env python3
# test-amd-iommu.py — iovista-cli snapshot of an idle q35 VM with an amd-iommu
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Starts qemu-system-x86_64 (TCG, -nodefaults, q35, amd-iommu, a virtio-rng
# with iommu_platform=on) without a guest kernel: AMD-Vi's IOMMU regions are
# on from the start (no vtd-nodmar-like switch before QEMU 10.2), so every
# PCI function's "amd_iommu_devfn_N" address space shows the two IOMMU
# sections around the interrupt window. Compares the CLI with an
# independent parse of info mtree -f. Output is TAP; exit 77 only when QEMU
# is not installed.

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

T0 = time.monotonic()
TMP = tempfile.mkdtemp(prefix="iovista-amd-")
CLI_SOCK = os.path.join(TMP, "cli.qmp")
CHECK_SOCK = os.path.join(TMP, "check.qmp")
tap = Tap()
qemu = None

try:
    qemu = subprocess.Popen([QEMU, "-M", "q35", "-accel", "tcg", "-nodefaults", "-m", "128",
                             "-display", "none", "-no-reboot",
                             "-device", "amd-iommu,intremap=on",
                             "-object", "rng-random,id=rng0,filename=/dev/urandom",
                             "-device", "virtio-rng-pci,id=rng1,rng=rng0,iommu_platform=on,disable-legacy=on",
                             "-qmp", "unix:%s,server=on,wait=off" % CLI_SOCK,
                             "-qmp", "unix:%s,server=on,wait=off" % CHECK_SOCK],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(TMP, "qemu.stderr"), "wb"))
    check = Qmp(CHECK_SOCK)
    v = check.greeting["QMP"]["version"]["qemu"]
    version = (v["major"], v["minor"], v["micro"])
    # ≤9.1 the IR window is the sibling "amd_iommu_ir" (prio 64); 9.2+ an
    # alias "amdvi-ir" inside the IOMMU region, as on VT-d (reference §5.1)
    ir_region = "amd_iommu_ir" if version < (9, 2, 0) else "amdvi-ir"
    rng_bdf = iovqemu.pci_bdf(check, "rng1")
    slot, func = int(rng_bdf[3:5], 16), int(rng_bdf[6], 16)
    as_name = "amd_iommu_devfn_%d" % (slot * 8 + func)
    tap.ok(rng_bdf is not None, "QEMU %d.%d.%d: virtio-rng-pci at %s, address space %s" % (version + (rng_bdf, as_name)))

    # SeaBIOS maps BARs and PAM windows for a while: compare against an
    # info mtree -f that was the same just before and just after the CLI ran
    for attempt in range(30):
        before = check.hmp("info mtree -f")
        res = subprocess.run([CLI, "snapshot", "unix:" + CLI_SOCK], capture_output=True, text=True, timeout=30)
        after = check.hmp("info mtree -f")
        if res.returncode != 0 or iovqemu.parse_mtree(before) == iovqemu.parse_mtree(after):
            break
        time.sleep(0.3)
    ok = tap.ok(res.returncode == 0, "snapshot exits 0 (layout stable after %d attempt(s))" % (attempt + 1), res.stderr)
    snap = json.loads(res.stdout) if ok else {"address_spaces": [], "iommu": None, "devices": []}
    views = iovqemu.parse_mtree(after)
    got, want = iovqemu.snapshot_keys(snap), iovqemu.mtree_keys(views)
    tap.ok(got == want and len(got) > 3, "every FlatView with exactly the ranges of info mtree -f (%d views)" % len(got),
           "\n".join(sorted(set(got) ^ set(want))))
    # intremap is an OnOffAuto ("on"), device-iotlb a bool: as QOM says
    qom = {p: check.cmd("qom-get", path="/machine/peripheral-anon/device[0]", property=p)
           for p in ("intremap", "device-iotlb")}
    tap.ok((snap["iommu"] or {}).get("type") == "amd-iommu" and qom["intremap"] == "on" and
           all(snap["iommu"]["properties"].get(p) == qom[p] for p in qom),
           "IOMMU type amd-iommu with its QOM properties %s" % qom, snap["iommu"])

    e = [x for x in snap["address_spaces"] if any(s["name"] == as_name for s in x["spaces"])]
    e = e[0] if len(e) == 1 else None
    ok = tap.ok(e is not None and e["root_region"] == "amdvi_root" and e["iommu"] is True and
                [s["device"] for s in e["spaces"] if s["name"] == as_name] == [rng_bdf],
                "%s: root amdvi_root, IOMMU ranges, resolved to %s" % (as_name, rng_bdf), json.dumps(e, indent=1))
    if ok:
        shape = [(r["start"], r["end"], r["role"], r["region"], r["offset"]) for r in e["flat_ranges"]]
        tap.ok(shape == [("0x0", "0xfedfffff", "iommu", "amd_iommu", "0x0"),
                         ("0xfee00000", "0xfeefffff", "interrupt", ir_region, "0x0"),
                         ("0xfef00000", "0xffffffffffffffff", "iommu", "amd_iommu", "0xfef00000")],
               "%s: [0x0, 0xfedfffff] iommu, [0xfee00000, 0xfeefffff] interrupt (%s), "
               "[0xfef00000, 0xffffffffffffffff] iommu @0xfef00000" % (as_name, ir_region), shape)
        tap.note("%s: " % as_name + "; ".join("[%s, %s] %s %s @%s" % s for s in shape))
        mine = [x for x in views if any(n == as_name for n, _ in x["spaces"])]
        tap.ok(len(mine) == 1 and iovqemu.snapshot_ranges(e) == mine[0]["ranges"] and mine[0]["root"] == "amdvi_root",
               "%s's flat_ranges are those of our own parse of info mtree -f" % as_name, mine)
    amd = [x for x in snap["address_spaces"] if x["root_region"] == "amdvi_root"]
    windows = [[r for r in x["flat_ranges"] if r["role"] == "interrupt"] for x in amd]
    tap.ok(len(amd) >= 4 and all(len(w) == 1 and w[0]["start"] == "0xfee00000" and w[0]["end"] == "0xfeefffff"
                                 and w[0]["region"] == ir_region for w in windows),
           "the interrupt window [0xfee00000, 0xfeefffff] (%s) in all %d amdvi_root views" % (ir_region, len(amd)),
           json.dumps(windows, indent=1)[:3000])
    system = [x for x in snap["address_spaces"] if any(s["name"] == "memory" for s in x["spaces"])]
    msi = [r for x in system for r in x["flat_ranges"] if r["region"] == "apic-msi"]
    tap.ok(len(msi) == 1 and (msi[0]["start"], msi[0]["end"]) == ("0xfee00000", "0xfeefffff"),
           "the CPU's view has apic-msi at the same window", msi)
    tap.ok(any(r["region"] == "amdvi-mmio" for x in system for r in x["flat_ranges"]),
           "the AMD-Vi MMIO registers are mapped in system memory")
    tap.ok(check.cmd("query-status")["status"] == "running", "QEMU is still running, untouched")
    check.close()
    tap.ok(time.monotonic() - T0 < 60, "the whole test took %.1f s (limit 60 s)" % (time.monotonic() - T0))
finally:
    if qemu is not None and qemu.poll() is None:
        qemu.kill()
        qemu.wait()
    shutil.rmtree(TMP, ignore_errors=True)

tap.finish()
