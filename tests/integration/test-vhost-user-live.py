#!/usr/bin/env python3
# test-vhost-user-live.py — Iovista's live inference against a real vhost-user device
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The host's QEMU 7.2 (-accel tcg, q35, intel-iommu with device IOTLB and
# interrupt remapping) with a virtio-net-pci (iommu_platform=on, ats=on)
# behind a PCIe root port, backed by a vhost-user netdev whose other end is
# Debian's dpdk-testpmd (iommu-support=1, icmpecho). The guest is Debian
# 12's kernel with the busybox initramfs of tests/guest/build-guest.py: it
# loads virtio_net, brings eth0 up and pings through it, so the device maps
# and unmaps buffers and QEMU sends the backend IOTLB messages
# (VHOST_USER_IOTLB_MSG, req:22). Two configurations, one after the other:
#   strict: caching-mode=on,  iommu.strict=1 (one page per invalidation);
#   lazy:   caching-mode=off, iommu.strict=0 (the flush queue's full-range
#           device-IOTLB flushes, which QEMU 7.2 crops to each notifier).
# QEMU writes its trace (log backend) into a FIFO the test reads; a tee
# here keeps a raw copy and passes every byte on to a second FIFO, which
# `iovista-cli trace fifo:F2 --follow --qmp unix:A --stats` reads. The CLI
# starts before QEMU (it must wait for QMP itself). Once the trace shows
# enough IOTLB messages (or a deadline passes; never waiting for a ping
# reply: TCG + INTx lose most), the test sends `quit` on its own QMP socket
# B, lets the tee reach EOF, interrupts the CLI and compares its --stats
# JSON with a ground truth computed here from the raw copy, independently
# of Iovista's code:
#   - a req:22 write that answers a vhost_iotlb_miss is an IOTLB update;
#     every other one is a delivery, caused by the latest invalidation
#     (device-IOTLB descriptor or page-selective IOTLB invalidation);
#   - each invalidation, while vhost ran, is delivered once to every
#     notifier whose range it overlaps (the VT-d sections [0x0, 0xfedfffff]
#     and [0xfef00000, 0xffffffffffffffff] around the interrupt window), and
#     cropped where its range exceeds the notifier's;
#   - the kind of invalidation the deliveries follow gives the notifier's
#     flag (DEVIOTLB_UNMAP after device-IOTLB ones, UNMAP after page ones).
# Output is TAP. Exit 77 only when qemu-system-x86_64 or dpdk-testpmd is
# not installed or the kernel package cannot be downloaded.

import errno
import fcntl
import json
import os
import queue
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

import iovqemu
from iovqemu import Qmp, Tap

T0 = time.monotonic()
DEADLINE = T0 + 260            # meson's timeout is 300 s; stop well before it
RUN_LIMIT = 80                 # per configuration: from QEMU's start to `quit`
TARGET_REQ22 = 300             # ...or as soon as the raw trace holds this many req:22 writes
U64 = (1 << 64) - 1
PAGE = 4096
# the two vhost notifiers of the virtio-net device: VT-d's two IOMMU
# sections around the interrupt window 0xfee00000-0xfeefffff
NOTIFIERS = [(0x0, 0xfedfffff), (0xfef00000, U64)]
EVENTS = ["vtd_inv_desc", "vtd_inv_desc_iotlb_pages", "vtd_inv_desc_iotlb_domain", "vtd_inv_desc_iotlb_global",
          "vtd_switch_address_space", "vtd_iotlb_page_update", "vhost_user_write", "vhost_user_read",
          "vhost_iotlb_miss", "vhost_dev_start", "vhost_dev_stop", "pci_cfg_write"]
# name, intel-iommu caching-mode, iommu.strict
CONFIGS = [("strict", "on", 1), ("lazy", "off", 0)]

QEMU = shutil.which("qemu-system-x86_64")
TESTPMD = shutil.which("dpdk-testpmd")
CLI = os.environ.get("IOVISTA_CLI")
C_ENV = dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE="C")   # English messages whatever the locale
KEEP = os.environ.get("IOVISTA_TEST_KEEP") == "1"         # keep the temporary directories

if QEMU is None or not os.path.isdir("/usr/share/qemu"):
    print("1..0 # SKIP qemu-system-x86_64 or /usr/share/qemu is not installed (Debian package qemu-system-x86)")
    sys.exit(77)
if TESTPMD is None:
    print("1..0 # SKIP dpdk-testpmd is not installed (Debian package dpdk-dev): no vhost-user backend")
    sys.exit(77)
if not CLI or not os.access(CLI, os.X_OK):
    print("Bail out! IOVISTA_CLI is not set to the built iovista-cli")
    sys.exit(99)

guest, why = iovqemu.build_guest()
if guest is None:
    print("1..0 # SKIP cannot download the Debian kernel package: %s" % why)
    sys.exit(77)
if "virtio_net" not in guest["modules"]:
    if "note" in guest:
        # an old cache without virtio_net, and the package cannot be fetched again
        print("1..0 # SKIP the cached guest kernel has no virtio_net and the package cannot be downloaded: %s"
              % guest["note"])
        sys.exit(77)
    print("Bail out! tests/guest/build-guest.py gave a guest without virtio_net: %s" % guest["modules"])
    sys.exit(99)

tap = Tap()


def tail(path, n=3000):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - n))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def left():
    return DEADLINE - time.monotonic()


class CheckQmp(Qmp):
    """The test's own socket B: read-only through Qmp.cmd, plus `quit`, which
    the test (never Iovista) sends to end its VM."""

    def quit(self):
        self.f.write(b'{"execute": "quit"}\r\n')
        self.f.flush()
        try:
            while True:
                line = self.f.readline()
                if not line:
                    return None
                reply = json.loads(line)
                if "return" in reply or "error" in reply:
                    return reply
        except (OSError, ValueError):
            return None


# --- the tee ---------------------------------------------------------------

class Tee:
    """QEMU's trace FIFO (F1) -> the raw copy + a queue -> the CLI's FIFO (F2).

    The reader never waits for the CLI: what the CLI has not taken yet waits
    in memory, so QEMU is never blocked by Iovista (only, briefly, by the
    raw file's writes)."""

    def __init__(self, src, raw, dst, qemu_alive, cli):
        # open before QEMU starts, without waiting for a writer: QEMU's own
        # open of its trace file then returns at once
        self.fd = os.open(src, os.O_RDONLY | os.O_NONBLOCK)
        self.src = src
        self.raw = open(raw, "wb")
        self.dst = dst
        self.qemu_alive = qemu_alive
        self.cli = cli
        self.q = queue.Queue()
        self.bytes = 0
        self.req22 = 0
        self.lines = 0
        self.reopened = 0
        self.forwarded = 0
        self.dst_error = None
        self.dst_opened_at = None
        self.partial = b""
        self.abandon = threading.Event()     # the writer stops waiting for F2's reader
        self.stop = threading.Event()        # the reader gives up (QEMU never started)
        self.eof = threading.Event()
        self.done = threading.Event()
        self.reader = threading.Thread(target=self.read_loop, daemon=True)
        self.writer = threading.Thread(target=self.write_loop, daemon=True)

    def start(self):
        self.writer.start()
        self.reader.start()

    def read_loop(self):
        p = select.poll()
        p.register(self.fd, select.POLLIN)
        try:
            while True:
                if not p.poll(250):
                    # no data; before QEMU's first open poll reports nothing,
                    # not even a hang-up
                    if self.stop.is_set() or (not self.qemu_alive() and (self.bytes == 0 or self.reopened)):
                        break
                    continue
                try:
                    data = os.read(self.fd, 1 << 16)
                except BlockingIOError:
                    continue
                if data:
                    self.raw.write(data)
                    self.raw.flush()
                    self.bytes += len(data)
                    buf = self.partial + data
                    lines = buf.split(b"\n")
                    self.partial = lines.pop()
                    self.lines += len(lines)
                    self.req22 += sum(1 for l in lines if REQ22_B.search(l))
                    self.q.put(data)
                    continue
                # end of file: QEMU closed its trace file. If it is still
                # running (and not just exiting) it may open it again: read
                # on from a new open
                t = time.monotonic()
                while self.qemu_alive() and time.monotonic() < t + 2:
                    time.sleep(0.05)
                if self.qemu_alive():
                    p.unregister(self.fd)
                    os.close(self.fd)
                    self.fd = os.open(self.src, os.O_RDONLY | os.O_NONBLOCK)
                    p.register(self.fd, select.POLLIN)
                    self.reopened += 1
                    continue
                break
        finally:
            os.close(self.fd)
            self.raw.close()
            if self.partial:
                self.lines += 1
                if REQ22_B.search(self.partial):
                    self.req22 += 1
            self.q.put(None)
            self.eof.set()

    def write_loop(self):
        fd = None
        try:
            while fd is None:
                try:
                    # a non-blocking open for writing fails (ENXIO) while the
                    # CLI has not opened the FIFO for reading
                    fd = os.open(self.dst, os.O_WRONLY | os.O_NONBLOCK)
                except OSError as e:
                    if e.errno != errno.ENXIO:
                        self.dst_error = "open %s: %s" % (self.dst, e)
                        break
                    if self.cli.poll() is not None:
                        self.dst_error = "iovista-cli exited (%s) without opening %s" % (self.cli.returncode, self.dst)
                        break
                    if self.abandon.is_set():
                        self.dst_error = "iovista-cli never opened %s for reading" % self.dst
                        break
                    time.sleep(0.02)
            if fd is not None:
                self.dst_opened_at = time.monotonic()
                fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
            while True:
                chunk = self.q.get()
                if chunk is None:
                    break
                if fd is None or self.dst_error:
                    continue
                try:
                    view = memoryview(chunk)
                    while view:
                        n = os.write(fd, view)
                        view = view[n:]
                        self.forwarded += n
                except OSError as e:       # EPIPE: the CLI closed its end or exited
                    self.dst_error = "write to %s: %s" % (self.dst, e)
            if fd is not None and not self.dst_error:
                # hand over EOF only once the CLI has read everything
                t = time.monotonic()
                while time.monotonic() < t + 30 and self.cli.poll() is None:
                    buf = fcntl.ioctl(fd, termios.FIONREAD, struct.pack("i", 0))
                    if struct.unpack("i", buf)[0] == 0:
                        break
                    time.sleep(0.05)
        finally:
            if fd is not None:
                os.close(fd)
            self.done.set()


# --- the ground truth, from the raw trace -------------------------------------

LINE_RE = re.compile(r"^(\d+)@(\d+\.\d+):([A-Za-z0-9_]+)(?: (.*))?$")
REQ22_RE = re.compile(r"^req:22(?:\s|$)")
REQ22_B = re.compile(rb":vhost_user_write req:22(?:\s|$)")
INV_DESC_RE = re.compile(r"invalidate desc type (\S+) high 0x([0-9a-fA-F]+) low 0x([0-9a-fA-F]+)")
PAGES_RE = re.compile(r"domain 0x([0-9a-fA-F]+) addr 0x([0-9a-fA-F]+) mask 0x([0-9a-fA-F]+)")
MISS_RE = re.compile(r"step (\d+)")


def device_range(hi):
    """The range of a device-IOTLB invalidation descriptor's high quadword:
    bit 0 is S, bits 63:12 the address; with S=1, the number k of one bits
    from bit 12 up gives 2^(k+1) pages, aligned."""
    addr = hi & ~0xfff & U64
    if not hi & 1:
        return addr, addr + PAGE - 1
    k = 0
    while (addr >> (12 + k)) & 1:
        k += 1
    size = PAGE << (k + 1)
    if size > U64:
        return 0, U64
    start = addr & ~(size - 1)
    return start, start + size - 1


def hexr(r):
    return "[%#x, %#x]" % r


def ground_truth(path, sid):
    with open(path, "rb") as f:
        data = f.read()
    lines = data.decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    gt = {"lines": len(lines), "trace_lines": 0, "by_name": {}, "req22": 0, "updates": 0, "deliveries": 0,
          "vhost_start": [], "vhost_stop": [], "switches_while_live": 0,
          "unattributed": [], "mismatches": [], "invalidations": {}, "flag": None, "flag_kinds": [],
          "delivered": [0, 0], "cropped": [0, 0], "full_range_flushes": 0, "full_range_delivered": 0}
    invs = []
    cur = None
    live = False
    miss_open = miss_answered = False
    for n, line in enumerate(lines, 1):
        m = LINE_RE.match(line)
        if m is None:
            continue
        gt["trace_lines"] += 1
        name, args = m.group(3), m.group(4) or ""
        gt["by_name"][name] = gt["by_name"].get(name, 0) + 1
        if name == "vhost_dev_start" and ":virtio-net " in args + " ":
            live = True
            gt["vhost_start"].append(n)
        elif name == "vhost_dev_stop" and ":virtio-net " in args + " ":
            live = False
            gt["vhost_stop"].append(n)
        elif name == "vtd_switch_address_space" and live:
            gt["switches_while_live"] += 1
        elif name == "vtd_inv_desc":
            mm = INV_DESC_RE.search(args)
            if mm and mm.group(1) == "device":
                hi, lo = int(mm.group(2), 16), int(mm.group(3), 16)
                start, end = device_range(hi)
                cur = {"line": n, "kind": "device", "start": start, "end": end, "sid": (lo >> 32) & 0xffff,
                       "live": live, "followed": 0, "desc": "device high %#x low %#x" % (hi, lo)}
                invs.append(cur)
        elif name == "vtd_inv_desc_iotlb_pages":
            mm = PAGES_RE.search(args)
            if mm:
                addr, mask = int(mm.group(2), 16), int(mm.group(3), 16)
                cur = {"line": n, "kind": "pages", "start": addr, "end": min(U64, addr + (PAGE << mask) - 1),
                       "sid": None, "live": live, "followed": 0,
                       "desc": "pages domain 0x%s addr %#x mask %d" % (mm.group(1), addr, mask)}
                invs.append(cur)
        elif name in ("vtd_inv_desc_iotlb_domain", "vtd_inv_desc_iotlb_global"):
            cur = {"line": n, "kind": name[len("vtd_inv_desc_iotlb_"):], "start": 0, "end": U64, "sid": None,
                   "live": live, "followed": 0, "desc": name}
            invs.append(cur)
        elif name == "vhost_iotlb_miss":
            mm = MISS_RE.search(args)
            if mm and mm.group(1) == "1":
                miss_open, miss_answered = True, False
            elif mm and mm.group(1) == "2":
                miss_open = False
        elif name == "vhost_user_write" and REQ22_RE.match(args):
            gt["req22"] += 1
            if miss_open and not miss_answered:
                miss_answered = True
                gt["updates"] += 1
            else:
                gt["deliveries"] += 1
                if cur is None or cur["kind"] not in ("device", "pages"):
                    gt["unattributed"].append("line %d: req:22 after %s" % (n, "no invalidation" if cur is None
                                                                          else "line %d (%s)" % (cur["line"],
                                                                                                 cur["desc"])))
                else:
                    cur["followed"] += 1

    counts = {}
    for inv in invs:
        c = counts.setdefault(inv["kind"], {"all": 0, "live": 0, "followed": 0, "req22": 0})
        c["all"] += 1
        c["live"] += 1 if inv["live"] else 0
        c["followed"] += 1 if inv["followed"] else 0
        c["req22"] += inv["followed"]
    gt["invalidations"] = counts
    kinds = sorted({inv["kind"] for inv in invs if inv["followed"]})
    gt["flag_kinds"] = kinds
    gt["flag"] = {("device",): "deviotlb-unmap", ("pages",): "unmap"}.get(tuple(kinds))
    if len(kinds) > 1:
        gt["mismatches"].append("req:22 follow invalidations of several kinds: %s" % kinds)
    flag_kind = kinds[0] if len(kinds) == 1 else None

    for inv in invs:
        applies = inv["live"] and inv["kind"] == flag_kind and (inv["kind"] != "device" or inv["sid"] == sid)
        over = [i for i, (s, e) in enumerate(NOTIFIERS) if applies and inv["start"] <= e and inv["end"] >= s]
        if inv["followed"] != len(over):
            gt["mismatches"].append("line %d: %s %s (%s, %s) overlaps %d notifier(s) but %d req:22 followed"
                                    % (inv["line"], inv["desc"], hexr((inv["start"], inv["end"])),
                                       "while vhost ran" if inv["live"] else "vhost not running",
                                       "sid %#x" % inv["sid"] if inv["sid"] is not None else "no sid",
                                       len(over), inv["followed"]))
        if not inv["followed"]:
            continue
        full = inv["kind"] == "device" and (inv["start"], inv["end"]) == (0, U64)
        if full:
            gt["full_range_flushes"] += 1
        for i in over:
            gt["delivered"][i] += 1
            if full:
                gt["full_range_delivered"] += 1
            if inv["start"] < NOTIFIERS[i][0] or inv["end"] > NOTIFIERS[i][1]:
                gt["cropped"][i] += 1
    if sum(gt["delivered"]) != gt["deliveries"]:
        gt["mismatches"].append("%d req:22 deliveries but %d attributed to the notifiers"
                                % (gt["deliveries"], sum(gt["delivered"])))
    return gt


def gt_summary(name, gt, bdf):
    inv = gt["invalidations"]
    s = ["%s ground truth: %d lines (%d trace events), %d req:22 writes = %d IOTLB updates (miss answers) + %d "
         "deliveries; vhost_dev_start at line(s) %s, vhost_dev_stop at %s"
         % (name, gt["lines"], gt["trace_lines"], gt["req22"], gt["updates"], gt["deliveries"], gt["vhost_start"],
            gt["vhost_stop"]),
         "  invalidations (all / while vhost ran / followed by req:22 / req:22 after them): " +
         "; ".join("%s %d/%d/%d/%d" % (k, c["all"], c["live"], c["followed"], c["req22"])
                   for k, c in sorted(inv.items())),
         "  flag %s (deliveries follow %s invalidations); full-range device flushes with deliveries: %d"
         % (gt["flag"], "/".join(gt["flag_kinds"]) or "no", gt["full_range_flushes"])]
    for i, r in enumerate(NOTIFIERS):
        s.append("  notifier %s of %s: delivered %d, cropped %d" % (hexr(r), bdf, gt["delivered"][i],
                                                                 gt["cropped"][i]))
    if gt["switches_while_live"]:
        s.append("  vtd_switch_address_space while vhost ran: %d" % gt["switches_while_live"])
    if gt["unattributed"] or gt["mismatches"]:
        s.append("  unattributed: %d, mismatches: %d" % (len(gt["unattributed"]), len(gt["mismatches"])))
        for m in (gt["unattributed"] + gt["mismatches"])[:12]:
            s.append("    " + m)
    return "\n".join(s)


# --- one configuration ---------------------------------------------------------

def run_config(name, caching_mode, strict):
    t_start = time.monotonic()
    failed_before = tap.failed
    tmp = tempfile.mkdtemp(prefix="iovista-vhost-%s-" % name)

    def p(n):
        return os.path.join(tmp, n)

    prefix = "iovista-vhost-%d-%s" % (os.getpid(), name)
    vhost_sock, f1, f2, raw = p("vhost.sock"), p("qemu-trace.fifo"), p("cli-trace.fifo"), p("trace.raw")
    sock_a, sock_b = p("a.qmp"), p("b.qmp")
    testpmd = qemu = cli = check = tee = None
    gt = stats = None
    bdf = None
    out = {"name": name}
    try:
        # the backend
        testpmd = subprocess.Popen(
            [TESTPMD, "-l", "0,1", "--no-pci", "--no-huge", "-m", "512", "--file-prefix=" + prefix,
             "--log-level=lib.vhost.config:debug",
             "--vdev", "net_vhost0,iface=%s,iommu-support=1" % vhost_sock,
             "--", "--forward-mode=icmpecho", "--auto-start", "--stats-period", "30", "--nb-cores=1",
             "--total-num-mbufs=8192"],
            stdin=subprocess.DEVNULL, stdout=open(p("testpmd.log"), "wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not os.path.exists(vhost_sock) and testpmd.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if not tap.ok(os.path.exists(vhost_sock) and testpmd.poll() is None,
                      "%s: dpdk-testpmd listens on its vhost-user socket" % name,
                      "testpmd exit %s\n%s" % (testpmd.poll(), tail(p("testpmd.log")))):
            return

        # the FIFOs, the CLI, then the tee (its reader end of F1 opened now)
        os.mkfifo(f1)
        os.mkfifo(f2)
        with open(p("events"), "w") as f:
            f.write("".join(e + "\n" for e in EVENTS))
        cli = subprocess.Popen([CLI, "trace", "fifo:" + f2, "--follow", "--qmp", "unix:" + sock_a, "--stats"],
                               stdin=subprocess.DEVNULL, stdout=open(p("cli.stdout"), "wb"),
                               stderr=open(p("cli.stderr"), "wb"), env=C_ENV)
        qemu_box = []
        # "alive" until QEMU has started and exited
        tee = Tee(f1, raw, f2, lambda: not qemu_box or qemu_box[0].poll() is None, cli)
        tee.start()
        t_cli = time.monotonic()
        while tee.dst_opened_at is None and not tee.done.is_set() and time.monotonic() < t_cli + 5:
            time.sleep(0.02)
        tap.ok(tee.dst_opened_at is not None,
               "%s: iovista-cli opened fifo:%s for reading before QEMU started (%.2f s)"
               % (name, os.path.basename(f2), (tee.dst_opened_at or time.monotonic()) - t_cli),
               "%s; iovista-cli %s\n%s" % (tee.dst_error, "exited %s" % cli.returncode if cli.poll() is not None
                                           else "still running", tail(p("cli.stderr"))))

        # QEMU, not stopped at -S
        args = [QEMU, "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", "512",
                "-machine", "q35,kernel-irqchip=split",
                "-device", "intel-iommu,intremap=on,device-iotlb=on,caching-mode=%s,aw-bits=39" % caching_mode,
                "-device", "pcie-root-port,id=rp1,chassis=1,slot=1,bus=pcie.0,addr=0x3",
                "-device", "pcie-root-port,id=rp2,chassis=2,slot=2,bus=pcie.0,addr=0x4",
                "-object", "memory-backend-memfd,id=mem,size=512M,share=on",
                "-machine", "memory-backend=mem",
                "-chardev", "socket,id=chr0,path=" + vhost_sock,
                "-netdev", "vhost-user,id=n0,chardev=chr0,vhostforce=on",
                "-device", "virtio-net-pci,id=net0,netdev=n0,iommu_platform=on,disable-legacy=on,romfile=,"
                           "mac=52:54:00:12:34:56,bus=rp1,ats=on",
                "-display", "none", "-vga", "none", "-no-reboot",
                "-serial", "file:" + p("serial.log"), "-monitor", "none",
                "-qmp", "unix:%s,server=on,wait=off" % sock_a,
                "-qmp", "unix:%s,server=on,wait=off" % sock_b,
                "-msg", "timestamp=on",
                "-trace", "events=%s,file=%s" % (p("events"), f1),
                "-kernel", guest["kernel"], "-initrd", guest["initrd"],
                # no_timer_check: with testpmd polling one of the host's CPUs,
                # TCG can miss the IO-APIC timer check's window and the
                # kernel panics ("timer doesn't work through
                # Interrupt-remapped IO-APIC")
                "-append", "console=ttyS0 panic=-1 intel_iommu=on iommu.strict=%d pci=nomsi no_timer_check" % strict]
        qemu = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=open(p("qemu.stderr"), "wb"))
        qemu_box.append(qemu)
        t_qemu = time.monotonic()
        try:
            check = CheckQmp(sock_b, timeout=30)
            v = check.greeting["QMP"]["version"]["qemu"]
            version = "%d.%d.%d" % (v["major"], v["minor"], v["micro"])
        except (OSError, ValueError, EOFError) as e:
            tap.ok(False, "%s: QEMU starts with its QMP socket B" % name, "%r\n%s" % (e, tail(p("qemu.stderr"))))
            return
        tap.ok(version.startswith("7.2."), "%s: QEMU %s runs (the setup is QEMU 7.2's)" % (name, version))

        # run until the trace holds enough IOTLB messages, or the deadline
        limit = min(RUN_LIMIT, left() - 40)
        while time.monotonic() < t_qemu + limit and qemu.poll() is None and not tee.eof.is_set():
            if tee.req22 >= TARGET_REQ22:
                break
            time.sleep(0.25)
        t_stop = time.monotonic()
        serial = tail(p("serial.log"), 10 ** 6)
        glines = [l.strip()[len("IOVISTA-GUEST: "):] for l in serial.splitlines() if l.startswith("IOVISTA-GUEST: ")]
        tap.note("%s guest: %s" % (name, " | ".join(l for l in glines if not l.startswith("insmod"))))
        tap.ok(qemu.poll() is None, "%s: QEMU still runs after %.1f s" % (name, t_stop - t_qemu),
               "exit %s\n%s\n--- serial (tail) ---\n%s" % (qemu.poll(), tail(p("qemu.stderr")), serial[-2500:]))
        tap.ok("eth0 up" in glines, "%s: the guest loaded virtio_net and brought eth0 up" % name,
               serial[-3000:])
        tap.ok(tee.req22 > 0, "%s: the guest drove vhost traffic: %d req:22 writes in %d trace lines after %.1f s "
               "(stop at %d or %d s)" % (name, tee.req22, tee.lines, t_stop - t_qemu, TARGET_REQ22, limit),
               "serial:\n%s\nqemu:\n%s" % (serial[-2000:], tail(p("qemu.stderr"))))
        out["run_seconds"] = t_stop - t_qemu

        # the virtio-net device's BDF, now that the firmware numbered the buses
        if qemu.poll() is None:
            try:
                bdf = iovqemu.pci_bdf(check, "net0")
            except (OSError, EOFError, RuntimeError, ValueError) as e:
                tap.note("%s: query-pci: %r" % (name, e))
        tap.ok(bdf == "01:00.0", "%s: the virtio-net device is at %s behind rp1 (query-pci on B)" % (name, bdf))

        # the test's own quit on B; QEMU closes the trace and the tee ends
        cli_alive_at_quit = cli.poll() is None
        reply = check.quit() if qemu.poll() is None else None
        try:
            qemu.wait(timeout=30)
        except subprocess.TimeoutExpired:
            qemu.kill()
            qemu.wait()
        tap.ok(qemu.returncode == 0 and reply is not None and "return" in reply,
               "%s: QEMU quit on B (reply %s, exit %s)" % (name, reply, qemu.returncode), tail(p("qemu.stderr")))
        tee.eof.wait(timeout=20)
        tee.abandon.set()
        tee.done.wait(timeout=40)
        tap.ok(tee.eof.is_set(), "%s: the raw copy is complete: %d bytes, %d lines (QEMU's trace FIFO at EOF%s)"
               % (name, tee.bytes, tee.lines, ", reopened %d time(s)" % tee.reopened if tee.reopened else ""))
        tap.ok(tee.done.is_set() and tee.forwarded == tee.bytes and tee.dst_error is None,
               "%s: iovista-cli read all %d bytes of fifo:%s (%d forwarded)"
               % (name, tee.bytes, os.path.basename(f2), tee.forwarded),
               "%s; iovista-cli %s" % (tee.dst_error, "exited %s" % cli.returncode if cli.poll() is not None
                                       else "running"))

        # then interrupt the CLI and take its --stats
        time.sleep(1.0)
        cli_alive = cli.poll() is None
        if cli_alive:
            cli.send_signal(signal.SIGINT)
        try:
            cli.wait(timeout=20)
        except subprocess.TimeoutExpired:
            cli.kill()
            cli.wait()
            tap.note("%s: iovista-cli did not exit within 20 s of SIGINT: killed" % name)
        with open(p("cli.stderr"), errors="replace") as f:
            cerr = f.read()
        with open(p("cli.stdout"), errors="replace") as f:
            cout = f.read()
        tap.note("%s iovista-cli: %s at quit, %s; exit %s; stderr: %s"
                 % (name, "running" if cli_alive_at_quit else "gone",
                    "interrupted" if cli_alive else "had exited by itself", cli.returncode,
                    " | ".join(cerr.strip().splitlines()[-12:]) or "(empty)"))
        tap.ok(cli_alive and cli.returncode == 0,
               "%s: iovista-cli ran until SIGINT and exits 0 (%s, exit %s)"
               % (name, "interrupted" if cli_alive else "had exited by itself", cli.returncode),
               cerr[-3000:])
        tap.ok(re.search(r"QEMU|QMP", cerr) and
               re.search(r"went away|gone|disconnect|closed|lost|exited|ended|quit|shut", cerr, re.I),
               "%s: iovista-cli said on stderr that QEMU went away" % name, cerr[-3000:] or "(empty stderr)")
        try:
            stats = json.loads(cout)
        except ValueError:
            stats = None
        tap.ok(isinstance(stats, dict), "%s: iovista-cli printed one JSON object (--stats)" % name,
               cout[-3000:] or "(empty stdout)")

        # the ground truth, from the raw copy
        sid = None
        if bdf:
            b, rest = bdf.split(":")
            d, fn = rest.split(".")
            sid = (int(b, 16) << 8) | (int(d, 16) << 3) | int(fn, 16)
        gt = ground_truth(raw, sid)
        tap.note(gt_summary(name, gt, bdf))
        check_inference(name, gt, stats, bdf, strict)
    finally:
        for proc in (cli, qemu):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        if check is not None:
            try:
                check.close()
            except OSError:
                pass
        if tee is not None:
            tee.abandon.set()
            tee.stop.set()
        if testpmd is not None:
            if testpmd.poll() is None:
                testpmd.send_signal(signal.SIGINT)
                try:
                    testpmd.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    testpmd.kill()
                    testpmd.wait()
            # EAL's runtime directory of our own --file-prefix
            base = "/var/run/dpdk" if os.geteuid() == 0 else \
                os.path.join(os.environ.get("XDG_RUNTIME_DIR") or "/tmp", "dpdk")
            shutil.rmtree(os.path.join(base, prefix), ignore_errors=True)
        seconds = time.monotonic() - t_start
        if tap.failed > failed_before:
            if gt is not None:
                tap.note("%s ground truth (full): %s" % (name, json.dumps(
                    {k: v for k, v in gt.items() if k not in ("by_name",)}, sort_keys=True)[:6000]))
                tap.note("%s trace events by name: %s" % (name, json.dumps(gt["by_name"], sort_keys=True)))
            if stats is not None:
                tap.note("%s iovista-cli --stats:\n%s" % (name, json.dumps(stats, indent=1, sort_keys=True)[:12000]))
        tap.note("%s: %.1f s in all (QEMU ran %.1f s)%s" % (name, seconds, out.get("run_seconds", 0),
                                                           "; files kept in " + tmp if KEEP else ""))
        if not KEEP:
            shutil.rmtree(tmp, ignore_errors=True)


def check_inference(name, gt, stats, bdf, strict):
    # the ground truth itself, before anything is asked of Iovista; a
    # mismatch here is the trace contradicting the model, not Iovista failing
    tap.ok(gt["deliveries"] > 0, "%s: ground truth: %d req:22 deliveries (> 0), %d IOTLB updates"
           % (name, gt["deliveries"], gt["updates"]))
    tap.ok(not gt["mismatches"] and not gt["unattributed"],
           "%s: the trace agrees with the ground truth's model: every invalidation followed by one req:22 per "
           "overlapped notifier, every delivery after one" % name,
           "THE TRACE CONTRADICTS THE GROUND TRUTH (not an Iovista failure):\n" +
           "\n".join((gt["unattributed"] + gt["mismatches"])[:50]))
    tap.ok(gt["flag"] == "deviotlb-unmap",
           "%s: ground truth: the deliveries follow device-IOTLB invalidations: flag %s (QEMU 7.2, ats=on)"
           % (name, gt["flag"]), gt["flag_kinds"])
    if not strict:
        tap.ok(gt["full_range_flushes"] > 0 and all(c > 0 for c in gt["cropped"]),
               "%s: ground truth: %d full-range device-IOTLB flushes, cropped to both notifiers (%s)"
               % (name, gt["full_range_flushes"], gt["cropped"]))

    if stats is None:
        tap.ok(False, "%s: iovista-cli's --stats to compare with the ground truth" % name, "no JSON")
        return
    j = json.dumps(stats, sort_keys=True)
    tap.ok(stats.get("lines") == gt["lines"], "%s: lines %s == %d lines of the raw copy"
           % (name, stats.get("lines"), gt["lines"]), j[:3000])
    tap.ok(stats.get("dropped") == 0, "%s: dropped %s == 0" % (name, stats.get("dropped")))
    inf = stats.get("inference")
    if not tap.ok(isinstance(inf, dict), "%s: --stats has an \"inference\" object" % name, j[:3000]):
        return
    tap.note("%s inference: profile %s, events %s, deliveries %s, observed %s, unexplained %s, abort %s, "
             "findings %d, notes %s" % (name, inf.get("profile"), inf.get("events"), inf.get("deliveries"),
                                        inf.get("observed"), inf.get("unexplained"), inf.get("abort"),
                                        len(inf.get("findings") or []), inf.get("notes")))
    nots = inf.get("notifiers") if isinstance(inf.get("notifiers"), dict) else {}
    mine = {k: n for k, n in nots.items() if isinstance(n, dict) and n.get("device") == bdf}

    def rng(n):
        try:
            return int(n["range"][0], 16), int(n["range"][1], 16)
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    ranges = sorted(rng(n) or (-1, -1) for n in mine.values())
    ok = tap.ok(len(mine) == 2 and ranges == NOTIFIERS,
                "%s: exactly two notifiers for %s: %s" % (name, bdf, ", ".join(hexr(r) for r in ranges)),
                json.dumps(nots, indent=1, sort_keys=True)[:4000])
    if ok:
        for i, r in enumerate(NOTIFIERS):
            key, n = next((k, n) for k, n in mine.items() if rng(n) == r)
            d = json.dumps({key: n}, sort_keys=True)
            tap.ok(n.get("delivered") == gt["delivered"][i],
                   "%s: %s %s: delivered %s == ground truth %d" % (name, key, hexr(r), n.get("delivered"),
                                                                  gt["delivered"][i]), d)
            tap.ok(n.get("observed") == n.get("delivered"),
                   "%s: %s: observed %s == delivered %s" % (name, key, n.get("observed"), n.get("delivered")), d)
            tap.ok(n.get("flags") == gt["flag"],
                   "%s: %s: flags %s == ground truth %s (source %s)" % (name, key, n.get("flags"), gt["flag"],
                                                                       n.get("flags_source")), d)
            tap.ok(n.get("cropped") == gt["cropped"][i],
                   "%s: %s: cropped %s == ground truth %d" % (name, key, n.get("cropped"), gt["cropped"][i]), d)
            tap.note("%s %s: from_line %s, to_line %s, skipped %s, aborts %s, delivered_by_type %s"
                     % (name, key, n.get("from_line"), n.get("to_line"), n.get("skipped"), n.get("aborts"),
                        n.get("delivered_by_type")))
    tap.ok(inf.get("deliveries") == gt["deliveries"],
           "%s: inference deliveries %s == ground truth %d" % (name, inf.get("deliveries"), gt["deliveries"]))
    tap.ok(inf.get("unexplained") == 0, "%s: unexplained %s == 0" % (name, inf.get("unexplained")))
    tap.ok(inf.get("findings") == [], "%s: findings == [] (%s)" % (name, len(inf.get("findings") or [])),
           json.dumps(inf.get("findings"), indent=1)[:3000])
    tap.ok("abort" in inf and inf["abort"] is None, "%s: abort is null (%s)" % (name, inf.get("abort", "missing")))


tap.ok(True, "guest: %s %s (%s), modules %s, %s in %.1f s"
       % (guest["package"], guest["version"], guest["kernel_release"], ",".join(guest["modules"]),
          "from the cache" if guest["cached"] else "assembled", guest["seconds"]))
if "note" in guest:
    tap.note(guest["note"])
for cfg in CONFIGS:
    if left() < 60:
        tap.ok(False, "%s: no time left to run it (%.0f s)" % (cfg[0], left()))
        continue
    run_config(*cfg)
tap.note("the whole test took %.1f s" % (time.monotonic() - T0))
tap.finish()
