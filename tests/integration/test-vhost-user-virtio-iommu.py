#!/usr/bin/env python3
# test-vhost-user-virtio-iommu.py — Iovista's live inference against a real vhost-user device behind virtio-iommu
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The host's QEMU 7.2 (-accel tcg, q35) with a virtio-iommu-pci (00:01.0)
# and a virtio-net-pci (00:02.0, iommu_platform=on) on a vhost-user netdev
# whose other end is Debian's dpdk-testpmd (iommu-support=1, icmpecho);
# guest RAM on a shared memfd backend. The guest is Debian 12's 6.12 kernel
# from bookworm-security (linux-image-6.12.*+deb12-amd64: 6.1 lacks
# CONFIG_VIRTIO_IOMMU) with the busybox initramfs of
# tests/guest/build-guest.py --kernel 6.12: it loads virtio_iommu (the
# virtio-net endpoint is then probed behind it), virtio_net, brings eth0 up
# and pings through it, so the device maps and unmaps buffers (strict mode,
# iommu.strict=1; pci=nomsi against QEMU 7.2's vhost-user + MSI-X + TCG
# segfault; no_timer_check against a missed timer check on a busy host).
# vhost registers one IOMMU notifier over the endpoint's whole region
# [0, 2^64-1]; virtio-iommu refuses DEVIOTLB_UNMAP, so its flag is UNMAP.
# QEMU writes its trace (log backend) into a FIFO the test reads; a tee
# here keeps a raw copy and passes every byte on to a second FIFO, which
# `iovista-cli trace fifo:F2 --follow --qmp unix:A --stats` reads. The CLI
# starts before QEMU (it must wait for QMP itself). Once the trace holds
# enough IOTLB messages (or a deadline passes; never waiting for a ping
# reply: TCG + INTx lose most), the test asks query-status on its own QMP
# socket B, sends `quit` there, lets the tee reach EOF, interrupts the CLI
# and compares its --stats JSON with a ground truth computed here from the
# raw copy, independently of Iovista's code:
#   - a `vhost_user_write req:22` that answers a `vhost_iotlb_miss … step 1`
#     (a miss ends at its step 2) is an IOTLB update; every other one is a
#     delivery QEMU made, caused by the latest virtio_iommu_notify_unmap
#     (or _map) line;
#   - QEMU 7.2's virtio-iommu sends each notify line's range as aligned
#     power-of-two chunks (dma_aligned_pow2_mask(start, end, 64); a range of
#     all 2^64 is one event), one notification and one IOTLB message each:
#     the test computes every line's chunks and requires exactly that many
#     deliveries after it, its notify lines inside the notifier's
#     registration (notify_flag_add .. notify_flag_del of the virtio-net
#     endpoint's region);
#   - the kind of line the deliveries follow gives the notifier's flag
#     (UNMAP after notify_unmap), and the notifier's range is never
#     exceeded (nothing is cropped).
# Output is TAP. Exit 77 only when qemu-system-x86_64 or dpdk-testpmd is
# not installed or the 6.12 kernel package cannot be downloaded.
# IOVISTA_TEST_KEEP=1 keeps the temporary files.

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
RUN_LIMIT = 90                 # from QEMU's start to `quit`...
TARGET_REQ22 = 400             # ...or as soon as the raw trace holds this many req:22 writes
U64 = (1 << 64) - 1
KERNEL_SERIES = "6.12"
# the one vhost notifier of the virtio-net endpoint: its virtio-iommu
# region, all of 2^64 (no interrupt window inside it)
NOTIFIER = (0x0, U64)
EVENTS = ["virtio_iommu_*", "vhost_user_write", "vhost_user_read", "vhost_iotlb_miss", "vhost_dev_start",
          "vhost_dev_stop", "pci_cfg_write"]
NAME = "virtio-iommu"

QEMU = shutil.which("qemu-system-x86_64")
TESTPMD = shutil.which("dpdk-testpmd")
CLI = os.environ.get("IOVISTA_CLI")
C_ENV = dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE="C")   # English messages whatever the locale
KEEP = os.environ.get("IOVISTA_TEST_KEEP") == "1"         # keep the temporary directory

if QEMU is None or not os.path.isdir("/usr/share/qemu"):
    print("1..0 # SKIP qemu-system-x86_64 or /usr/share/qemu is not installed (Debian package qemu-system-x86)")
    sys.exit(77)
if TESTPMD is None:
    print("1..0 # SKIP dpdk-testpmd is not installed (Debian package dpdk-dev): no vhost-user backend")
    sys.exit(77)
if not CLI or not os.access(CLI, os.X_OK):
    print("Bail out! IOVISTA_CLI is not set to the built iovista-cli")
    sys.exit(99)

guest, why = iovqemu.build_guest(kernel=KERNEL_SERIES)
if guest is None:
    print("1..0 # SKIP cannot download the Debian 6.12 kernel package (linux-image-6.12.*+deb12-amd64, "
          "bookworm-security): %s" % why)
    sys.exit(77)
for mod in ("virtio_iommu", "virtio_net"):
    if mod not in guest["modules"] and mod not in guest.get("builtin", []):
        print("Bail out! tests/guest/build-guest.py --kernel %s gave a guest without %s: modules %s, built in %s"
              % (KERNEL_SERIES, mod, guest["modules"], guest.get("builtin")))
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
NOTIFY_RE = re.compile(r"^mr=(\S+) virt_start=0x([0-9a-fA-F]+) virt_end=0x([0-9a-fA-F]+)")
FLAG_RE = re.compile(r"(?:add notifier to|del notifier from) mr (\S+)")
ATTACH_RE = re.compile(r"domain=(\d+) endpoint=(\d+)")
MISS_RE = re.compile(r"step (\d+)")


def pow2_mask(start, end):
    """QEMU's dma_aligned_pow2_mask(start, end, 64): the mask of the largest
    power-of-two block at start to which start is aligned and that ends at or
    before end."""
    addr_mask = (end - start) & U64
    alignment_mask = ((start & -start) - 1) if start else U64
    if alignment_mask <= addr_mask:
        return alignment_mask
    if addr_mask == U64:
        return U64
    return (1 << ((addr_mask + 1).bit_length() - 1)) - 1


def notify_chunks(start, end):
    """The events QEMU 7.2's virtio_iommu_notify_unmap/_map send for one
    traced range: all of 2^64 as one event, else aligned power-of-two chunks
    from start to end."""
    out = []
    if (end - start) & U64 == U64:
        out.append((start, end))
    while start != (end + 1) & U64 and len(out) < 200:
        mask = pow2_mask(start, end)
        out.append((start, (start + mask) & U64))
        start = (start + mask + 1) & U64
    return out


def hexr(r):
    return "[%#x, %#x]" % r


def ground_truth(path, devfn):
    """devfn: the virtio-net endpoint's (slot << 3 | function); its region is
    virtio-iommu-memory-region-<n>-<devfn>."""
    with open(path, "rb") as f:
        data = f.read()
    lines = data.decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    mr_suffix = "-%d" % devfn if devfn is not None else None
    gt = {"lines": len(lines), "trace_lines": 0, "by_name": {}, "req22": 0, "updates": 0, "deliveries": 0,
          "vhost_start": [], "vhost_stop": [], "flag_add": [], "flag_del": [], "attach": [], "mr": None,
          "notifies": 0, "notify_kinds": {}, "multi_chunk": [], "chunks": 0, "chunk_sizes": {},
          "by_type": {"map": 0, "unmap": 0}, "first_delivery": None, "last_delivery": None,
          "unattributed": [], "mismatches": [], "flag": None, "flag_kinds": [], "delivered": 0, "cropped": 0}
    notes = []
    cur = None
    registered = {}            # region -> line of its notify_flag_add while registered
    miss_open = miss_answered = False
    for n, line in enumerate(lines, 1):
        m = LINE_RE.match(line)
        if m is None:
            continue
        gt["trace_lines"] += 1
        name, args = m.group(3), m.group(4) or ""
        gt["by_name"][name] = gt["by_name"].get(name, 0) + 1
        if name == "vhost_dev_start" and ":virtio-net " in args + " ":
            gt["vhost_start"].append(n)
        elif name == "vhost_dev_stop" and ":virtio-net " in args + " ":
            gt["vhost_stop"].append(n)
        elif name == "virtio_iommu_attach":
            mm = ATTACH_RE.search(args)
            if mm:
                gt["attach"].append((n, int(mm.group(1)), int(mm.group(2))))
        elif name in ("virtio_iommu_notify_flag_add", "virtio_iommu_notify_flag_del"):
            mm = FLAG_RE.search(args)
            if mm:
                mr = mm.group(1)
                if name.endswith("_add"):
                    gt["flag_add"].append((n, mr))
                    registered[mr] = n
                else:
                    gt["flag_del"].append((n, mr))
                    registered.pop(mr, None)
        elif name in ("virtio_iommu_notify_unmap", "virtio_iommu_notify_map"):
            mm = NOTIFY_RE.match(args)
            if mm is None:
                gt["mismatches"].append("line %d: %s with arguments the test cannot read: %r" % (n, name, args))
                continue
            kind = "map" if name.endswith("_map") else "unmap"
            mr, start, end = mm.group(1), int(mm.group(2), 16), int(mm.group(3), 16)
            chunks = notify_chunks(start, end)
            cur = {"line": n, "kind": kind, "mr": mr, "start": start, "end": end, "chunks": len(chunks),
                   "followed": 0, "desc": "%s mr=%s %s" % (name, mr, hexr((start, end)))}
            gt["notifies"] += 1
            gt["notify_kinds"][kind] = gt["notify_kinds"].get(kind, 0) + 1
            gt["chunks"] += len(chunks)
            gt["by_type"][kind] += len(chunks)
            for s, e in chunks:
                size = "%#x" % ((e - s + 1) & U64) if (s, e) != (0, U64) else "2^64"
                gt["chunk_sizes"][size] = gt["chunk_sizes"].get(size, 0) + 1
            if len(chunks) > 1:
                gt["multi_chunk"].append("line %d: %s -> %d chunks" % (n, hexr((start, end)), len(chunks)))
            if mr_suffix is not None and not mr.endswith(mr_suffix):
                gt["mismatches"].append("line %d: %s is not the virtio-net endpoint's region (…%s)"
                                        % (n, cur["desc"], mr_suffix))
            elif gt["mr"] is None:
                gt["mr"] = mr
            if mr not in registered:
                gt["mismatches"].append("line %d: %s outside its notifier's registration (notify_flag_add .. "
                                        "notify_flag_del)" % (n, cur["desc"]))
            gt.setdefault("notify_list", []).append(cur)
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
                continue
            gt["deliveries"] += 1
            if gt["first_delivery"] is None:
                gt["first_delivery"] = n
            gt["last_delivery"] = n
            if cur is None:
                gt["unattributed"].append("line %d: req:22 (not answering a miss) before any notify line" % n)
            else:
                cur["followed"] += 1

    nl = gt.pop("notify_list", [])
    for c in nl:
        if c["followed"] != c["chunks"]:
            gt["mismatches"].append("line %d: %s is %d chunk(s) but %d req:22 followed"
                                    % (c["line"], c["desc"], c["chunks"], c["followed"]))
    kinds = sorted({c["kind"] for c in nl if c["followed"]})
    gt["flag_kinds"] = kinds
    gt["flag"] = {("unmap",): "unmap", ("map",): "map", ("map", "unmap"): "map+unmap"}.get(tuple(kinds))
    gt["delivered"] = sum(c["followed"] for c in nl)
    # the notifier spans all of 2^64: no event exceeds it, nothing is cropped
    gt["cropped"] = sum(1 for c in nl for s, e in notify_chunks(c["start"], c["end"])
                        if c["followed"] and (s < NOTIFIER[0] or e > NOTIFIER[1]))
    if gt["chunks"] != gt["deliveries"]:
        gt["mismatches"].append("%d chunks in %d notify lines but %d req:22 deliveries"
                                % (gt["chunks"], gt["notifies"], gt["deliveries"]))
    return gt


def gt_summary(gt, bdf):
    s = ["ground truth: %d lines (%d trace events), %d req:22 writes = %d IOTLB updates (miss answers) + %d "
         "deliveries; vhost_dev_start at line(s) %s, vhost_dev_stop at %s"
         % (gt["lines"], gt["trace_lines"], gt["req22"], gt["updates"], gt["deliveries"], gt["vhost_start"],
            gt["vhost_stop"]),
         "  virtio_iommu_attach %s; notify_flag_add %s; notify_flag_del %s"
         % (", ".join("line %d domain %d endpoint %d" % a for a in gt["attach"]) or "none",
            ", ".join("line %d %s" % a for a in gt["flag_add"]) or "none",
            ", ".join("line %d %s" % a for a in gt["flag_del"]) or "none"),
         "  notify lines %d (%s) = %d chunks (sizes %s; %d line(s) of more than one chunk); flag %s"
         % (gt["notifies"], ", ".join("%s %d" % kv for kv in sorted(gt["notify_kinds"].items())) or "none",
            gt["chunks"], ", ".join("%s: %d" % kv for kv in sorted(gt["chunk_sizes"].items())) or "none",
            len(gt["multi_chunk"]), gt["flag"]),
         "  notifier %s of %s (%s): delivered %d (map %d, unmap %d), cropped %d; deliveries from line %s to %s"
         % (hexr(NOTIFIER), bdf, gt["mr"], gt["delivered"], gt["by_type"]["map"], gt["by_type"]["unmap"],
            gt["cropped"], gt["first_delivery"], gt["last_delivery"])]
    for m in gt["multi_chunk"][:5]:
        s.append("    " + m)
    if gt["unattributed"] or gt["mismatches"]:
        s.append("  unattributed: %d, mismatches: %d" % (len(gt["unattributed"]), len(gt["mismatches"])))
        for m in (gt["unattributed"] + gt["mismatches"])[:12]:
            s.append("    " + m)
    return "\n".join(s)


# --- the run -----------------------------------------------------------------

def run():
    t_start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="iovista-vhost-viommu-")

    def p(n):
        return os.path.join(tmp, n)

    prefix = "iovista-vhost-viommu-%d" % os.getpid()
    vhost_sock, f1, f2, raw = p("vhost.sock"), p("qemu-trace.fifo"), p("cli-trace.fifo"), p("trace.raw")
    sock_a, sock_b = p("a.qmp"), p("b.qmp")
    testpmd = qemu = cli = check = tee = None
    gt = stats = None
    bdf = None
    out = {}
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
                      "dpdk-testpmd listens on its vhost-user socket",
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
               "iovista-cli opened fifo:%s for reading before QEMU started (%.2f s)"
               % (os.path.basename(f2), (tee.dst_opened_at or time.monotonic()) - t_cli),
               "%s; iovista-cli %s\n%s" % (tee.dst_error, "exited %s" % cli.returncode if cli.poll() is not None
                                           else "still running", tail(p("cli.stderr"))))

        # QEMU, not stopped at -S: virtio-iommu at 00:01.0, virtio-net at 00:02.0
        args = [QEMU, "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", "512", "-machine", "q35",
                "-device", "virtio-iommu-pci,id=viommu,bus=pcie.0,addr=0x1",
                "-object", "memory-backend-memfd,id=mem,size=512M,share=on",
                "-machine", "memory-backend=mem",
                "-chardev", "socket,id=chr0,path=" + vhost_sock,
                "-netdev", "vhost-user,id=n0,chardev=chr0,vhostforce=on",
                "-device", "virtio-net-pci,id=net0,netdev=n0,iommu_platform=on,disable-legacy=on,romfile=,"
                           "mac=52:54:00:12:34:56,bus=pcie.0,addr=0x2",
                "-display", "none", "-vga", "none", "-no-reboot",
                "-serial", "file:" + p("serial.log"), "-monitor", "none",
                "-qmp", "unix:%s,server=on,wait=off" % sock_a,
                "-qmp", "unix:%s,server=on,wait=off" % sock_b,
                "-msg", "timestamp=on",
                "-trace", "events=%s,file=%s" % (p("events"), f1),
                "-kernel", guest["kernel"], "-initrd", guest["initrd"],
                # virtio-iommu needs no intel_iommu=on; pci=nomsi: QEMU 7.2's
                # vhost-user + MSI-X + TCG segfault; no_timer_check: with
                # testpmd polling one of the host's CPUs TCG can miss the
                # timer check's window
                "-append", "console=ttyS0 panic=-1 iommu.strict=1 pci=nomsi no_timer_check"]
        qemu = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=open(p("qemu.stderr"), "wb"))
        qemu_box.append(qemu)
        t_qemu = time.monotonic()
        try:
            check = CheckQmp(sock_b, timeout=30)
            v = check.greeting["QMP"]["version"]["qemu"]
            version = "%d.%d.%d" % (v["major"], v["minor"], v["micro"])
        except (OSError, ValueError, EOFError) as e:
            tap.ok(False, "QEMU starts with its QMP socket B", "%r\n%s" % (e, tail(p("qemu.stderr"))))
            return
        tap.ok(version.startswith("7.2."), "QEMU %s runs (the setup is QEMU 7.2's)" % version)

        # run until the trace holds enough IOTLB messages, or the deadline
        limit = min(RUN_LIMIT, left() - 45)
        while time.monotonic() < t_qemu + limit and qemu.poll() is None and not tee.eof.is_set():
            if tee.req22 >= TARGET_REQ22:
                break
            time.sleep(0.25)
        t_stop = time.monotonic()
        serial = tail(p("serial.log"), 10 ** 6)
        glines = [l.strip()[len("IOVISTA-GUEST: "):] for l in serial.splitlines() if l.startswith("IOVISTA-GUEST: ")]
        tap.note("guest: %s" % " | ".join(l for l in glines if not l.startswith("insmod")))
        tap.ok(qemu.poll() is None, "QEMU still runs after %.1f s" % (t_stop - t_qemu),
               "exit %s\n%s\n--- serial (tail) ---\n%s" % (qemu.poll(), tail(p("qemu.stderr")), serial[-2500:]))
        tap.ok("insmod virtio_iommu ok" in glines or "virtio_iommu" in guest.get("builtin", []),
               "the guest loaded virtio_iommu", serial[-3000:])
        out["run_seconds"] = t_stop - t_qemu

        # the virtio-net device's BDF, now that the firmware numbered the buses
        if qemu.poll() is None:
            try:
                bdf = iovqemu.pci_bdf(check, "net0")
            except (OSError, EOFError, RuntimeError, ValueError) as e:
                tap.note("query-pci: %r" % (e,))
        tap.ok(bdf == "00:02.0", "the virtio-net device is at %s (query-pci on B)" % bdf)
        behind = [l for l in glines if l.startswith("iommu group ") and "type=DMA" in l
                  and bdf is not None and ("0000:" + bdf) in l]
        tap.ok(len(behind) == 1, "the guest put virtio-net %s in a DMA (translated) IOMMU group: %s"
               % (bdf, behind[0] if behind else "none"), "\n".join(glines))
        tap.ok("eth0 up" in glines, "the guest loaded virtio_net and brought eth0 up", serial[-3000:])
        tap.ok(tee.req22 > 0, "the guest drove vhost traffic: %d req:22 writes in %d trace lines after %.1f s "
               "(stop at %d or %d s)" % (tee.req22, tee.lines, t_stop - t_qemu, TARGET_REQ22, limit),
               "serial:\n%s\nqemu:\n%s" % (serial[-2000:], tail(p("qemu.stderr"))))

        # QEMU answers on its own socket B, then the test's own quit there;
        # QEMU closes the trace and the tee ends
        status = None
        if qemu.poll() is None:
            try:
                status = check.cmd("query-status")
            except (OSError, EOFError, RuntimeError, ValueError) as e:
                status = repr(e)
        tap.ok(isinstance(status, dict) and status.get("status") == "running",
               "QEMU answers query-status on B before quit: %s" % (status,), tail(p("qemu.stderr")))
        cli_alive_at_quit = cli.poll() is None
        reply = check.quit() if qemu.poll() is None else None
        try:
            qemu.wait(timeout=30)
        except subprocess.TimeoutExpired:
            qemu.kill()
            qemu.wait()
        tap.ok(qemu.returncode == 0 and reply is not None and "return" in reply,
               "QEMU quit on B (reply %s, exit %s)" % (reply, qemu.returncode), tail(p("qemu.stderr")))
        tee.eof.wait(timeout=20)
        tee.abandon.set()
        tee.done.wait(timeout=40)
        tap.ok(tee.eof.is_set(), "the raw copy is complete: %d bytes, %d lines (QEMU's trace FIFO at EOF%s)"
               % (tee.bytes, tee.lines, ", reopened %d time(s)" % tee.reopened if tee.reopened else ""))
        tap.ok(tee.done.is_set() and tee.forwarded == tee.bytes and tee.dst_error is None,
               "iovista-cli read all %d bytes of fifo:%s (%d forwarded)"
               % (tee.bytes, os.path.basename(f2), tee.forwarded),
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
            tap.note("iovista-cli did not exit within 20 s of SIGINT: killed")
        with open(p("cli.stderr"), errors="replace") as f:
            cerr = f.read()
        with open(p("cli.stdout"), errors="replace") as f:
            cout = f.read()
        tap.note("iovista-cli: %s at quit, %s; exit %s; stderr: %s"
                 % ("running" if cli_alive_at_quit else "gone",
                    "interrupted" if cli_alive else "had exited by itself", cli.returncode,
                    " | ".join(cerr.strip().splitlines()[-12:]) or "(empty)"))
        tap.ok(cli_alive and cli.returncode == 0,
               "iovista-cli ran until SIGINT and exits 0 (%s, exit %s)"
               % ("interrupted" if cli_alive else "had exited by itself", cli.returncode), cerr[-3000:])
        tap.ok(re.search(r"QEMU|QMP", cerr) and
               re.search(r"went away|gone|disconnect|closed|lost|exited|ended|quit|shut", cerr, re.I),
               "iovista-cli said on stderr that QEMU went away", cerr[-3000:] or "(empty stderr)")
        try:
            stats = json.loads(cout)
        except ValueError:
            stats = None
        tap.ok(isinstance(stats, dict), "iovista-cli printed one JSON object (--stats)",
               cout[-3000:] or "(empty stdout)")

        # the ground truth, from the raw copy
        devfn = None
        if bdf:
            _, rest = bdf.split(":")
            d, fn = rest.split(".")
            devfn = (int(d, 16) << 3) | int(fn, 16)
        gt = ground_truth(raw, devfn)
        tap.note(gt_summary(gt, bdf))
        check_inference(gt, stats, bdf)
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
        if tap.failed:
            if gt is not None:
                tap.note("ground truth (full): %s" % json.dumps(
                    {k: v for k, v in gt.items() if k not in ("by_name",)}, sort_keys=True)[:6000])
                tap.note("trace events by name: %s" % json.dumps(gt["by_name"], sort_keys=True))
            if stats is not None:
                tap.note("iovista-cli --stats:\n%s" % json.dumps(stats, indent=1, sort_keys=True)[:12000])
        tap.note("%.1f s in all (QEMU ran %.1f s)%s" % (seconds, out.get("run_seconds", 0),
                                                        "; files kept in " + tmp if KEEP else ""))
        if not KEEP:
            shutil.rmtree(tmp, ignore_errors=True)


def check_inference(gt, stats, bdf):
    # the ground truth itself, before anything is asked of Iovista; a
    # mismatch here is the trace contradicting the model, not Iovista failing
    tap.ok(gt["deliveries"] > 0, "ground truth: %d req:22 deliveries (> 0), %d IOTLB updates"
           % (gt["deliveries"], gt["updates"]))
    tap.ok(len(gt["flag_add"]) >= 1 and gt["mr"] is not None and all(mr == gt["mr"] for _, mr in gt["flag_add"]),
           "ground truth: vhost registered its notifier on the virtio-net endpoint's region %s (notify_flag_add "
           "at line(s) %s)" % (gt["mr"], [n for n, _ in gt["flag_add"]]), gt["flag_add"])
    tap.ok(not gt["mismatches"] and not gt["unattributed"],
           "the trace agrees with the ground truth's model: every notify line followed by one req:22 per "
           "power-of-two chunk (%d lines, %d chunks), every delivery after one" % (gt["notifies"], gt["chunks"]),
           "THE TRACE CONTRADICTS THE GROUND TRUTH (not an Iovista failure):\n" +
           "\n".join((gt["unattributed"] + gt["mismatches"])[:50]))
    tap.ok(gt["flag"] == "unmap",
           "ground truth: the deliveries follow virtio_iommu_notify_unmap: flag %s (virtio-iommu refuses "
           "DEVIOTLB_UNMAP)" % gt["flag"], gt["flag_kinds"])

    if stats is None:
        tap.ok(False, "iovista-cli's --stats to compare with the ground truth", "no JSON")
        return
    j = json.dumps(stats, sort_keys=True)
    tap.ok(stats.get("lines") == gt["lines"], "lines %s == %d lines of the raw copy"
           % (stats.get("lines"), gt["lines"]), j[:3000])
    tap.ok(stats.get("dropped") == 0, "dropped %s == 0" % stats.get("dropped"))
    inf = stats.get("inference")
    if not tap.ok(isinstance(inf, dict), "--stats has an \"inference\" object", j[:3000]):
        return
    tap.note("inference: profile %s, events %s, deliveries %s, observed %s, unexplained %s, abort %s, "
             "findings %d, notes %s" % (inf.get("profile"), inf.get("events"), inf.get("deliveries"),
                                        inf.get("observed"), inf.get("unexplained"), inf.get("abort"),
                                        len(inf.get("findings") or []), inf.get("notes")))
    nots = inf.get("notifiers") if isinstance(inf.get("notifiers"), dict) else {}
    mine = {k: n for k, n in nots.items() if isinstance(n, dict) and n.get("device") == bdf}
    others = {k: n for k, n in nots.items() if k not in mine}
    if others:
        tap.note("notifiers of other devices: %s" % json.dumps(others, sort_keys=True)[:2000])

    def rng(n):
        try:
            return int(n["range"][0], 16), int(n["range"][1], 16)
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    ok = tap.ok(len(mine) == 1 and rng(next(iter(mine.values()))) == NOTIFIER,
                "exactly one notifier for %s: %s" % (bdf, ", ".join(hexr(rng(n) or (-1, -1))
                                                                   for n in mine.values()) or "none"),
                json.dumps(nots, indent=1, sort_keys=True)[:4000])
    if ok:
        key, n = next(iter(mine.items()))
        d = json.dumps({key: n}, sort_keys=True)
        tap.ok(n.get("delivered") == gt["delivered"],
               "%s %s: delivered %s == ground truth %d" % (key, hexr(NOTIFIER), n.get("delivered"),
                                                          gt["delivered"]), d)
        tap.ok(n.get("observed") == n.get("delivered"),
               "%s: observed %s == delivered %s" % (key, n.get("observed"), n.get("delivered")), d)
        tap.ok(n.get("flags") == gt["flag"],
               "%s: flags %s == ground truth %s (source %s)" % (key, n.get("flags"), gt["flag"],
                                                               n.get("flags_source")), d)
        tap.ok(n.get("cropped") == gt["cropped"],
               "%s: cropped %s == ground truth %d" % (key, n.get("cropped"), gt["cropped"]), d)
        by = n.get("delivered_by_type") if isinstance(n.get("delivered_by_type"), dict) else {}
        want = {"map": gt["by_type"]["map"], "unmap": gt["by_type"]["unmap"], "deviotlb-unmap": 0}
        tap.ok({k: by.get(k) for k in want} == want,
               "%s: delivered_by_type %s == ground truth %s" % (key, json.dumps(by, sort_keys=True),
                                                               json.dumps(want, sort_keys=True)), d)
        fl, tl = n.get("from_line"), n.get("to_line")
        tap.ok(isinstance(fl, int) and gt["first_delivery"] is not None and fl <= gt["first_delivery"]
               and (tl is None or (isinstance(tl, int) and tl >= gt["last_delivery"])),
               "%s: its lifetime (from_line %s, to_line %s) holds every delivery (lines %s to %s)"
               % (key, fl, tl, gt["first_delivery"], gt["last_delivery"]), d)
        tap.note("%s: from_line %s, to_line %s, flags_source %s, skipped %s, aborts %s, delivered_by_type %s "
                 "(vhost_dev_start %s, notify_flag_add %s, vhost_dev_stop %s, notify_flag_del %s)"
                 % (key, fl, tl, n.get("flags_source"), n.get("skipped"), n.get("aborts"), by, gt["vhost_start"],
                    [x for x, _ in gt["flag_add"]], gt["vhost_stop"], [x for x, _ in gt["flag_del"]]))
    total = sum(n.get("delivered") or 0 for n in nots.values() if isinstance(n, dict))
    tap.ok(total == gt["deliveries"],
           "delivered over all %d notifier(s) %d == ground truth %d" % (len(nots), total, gt["deliveries"]))
    tap.ok(inf.get("deliveries") == gt["deliveries"],
           "inference deliveries %s == ground truth %d" % (inf.get("deliveries"), gt["deliveries"]))
    tap.ok(inf.get("observed") == inf.get("deliveries"),
           "inference observed %s == deliveries %s" % (inf.get("observed"), inf.get("deliveries")))
    tap.ok(inf.get("unexplained") == 0, "unexplained %s == 0" % inf.get("unexplained"))
    tap.ok(inf.get("findings") == [], "findings == [] (%s)" % len(inf.get("findings") or []),
           json.dumps(inf.get("findings"), indent=1)[:3000])
    tap.ok("abort" in inf and inf["abort"] is None, "abort is null (%s)" % inf.get("abort", "missing"))


tap.ok(True, "guest: %s %s (%s), modules %s, built in %s, %s, %s in %.1f s"
       % (guest["package"], guest["version"], guest["kernel_release"], ",".join(guest["modules"]),
          ",".join(guest.get("builtin", [])) or "none",
          ", ".join("%s=%s" % kv for kv in sorted(guest.get("config", {}).items())) or "config not recorded",
          "from the cache" if guest["cached"] else "assembled", guest["seconds"]))
if "note" in guest:
    tap.note(guest["note"])
if left() < 90:
    tap.ok(False, "no time left to run the VM (%.0f s)" % left())
else:
    run()
tap.note("the whole test took %.1f s" % (time.monotonic() - T0))
tap.finish()
