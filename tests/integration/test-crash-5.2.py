#!/usr/bin/env python3
# test-crash-5.2.py — the 2020 abort, for real: QEMU 5.2's assertion on a full-range device-IOTLB flush
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# One command line, four QEMU releases (build-aux/qemu-eras run VERSION …):
# q35 + intel-iommu (device IOTLB, interrupt remapping, caching-mode=off), a
# virtio-net-pci (iommu_platform=on, ats=on) behind a PCIe root port, backed
# by a vhost-user netdev whose other end is Debian's dpdk-testpmd
# (iommu-support=1, icmpecho), booting Debian 12's kernel with the busybox
# initramfs of tests/guest/build-guest.py in lazy IOMMU mode
# (iommu.strict=0). About 7 s in, the guest's flush queue sends a device-IOTLB
# invalidation of the whole address space (`vtd_inv_desc invalidate desc
# type device high 0x7ffffffffffff001 …`):
#   - QEMU 5.2 hands it uncropped to vhost's IOMMU notifiers and aborts on
#     memory_region_notify_one's assertion (exit 134 / SIGABRT);
#   - 7.2, 10.0 and 11.1 crop it to each notifier's range and run on.
# QEMU writes its trace (log backend, -D: 5.2 ignores -trace …,file=) into
# a FIFO F1; a tee here keeps a raw copy and passes every byte on to a
# second FIFO F2, which `iovista-cli trace fifo:F2 --follow --qmp unix:A
# --stats` reads. The CLI starts before QEMU and waits for QMP itself. Per
# release the test checks the CLI's --stats against what it computes itself
# from the raw copy and from QEMU's own stderr:
#   5.2: QEMU aborts with memory_region_notify_one's assertion within 90 s;
#     inference.abort is {"line": the raw copy's last device-IOTLB
#     descriptor, "notifier": one of 01:00.0's notifiers, "message": QEMU's
#     assertion from the function name on}; the profile is 5.2's. The
#     consumer's ground truth (5.2 has no vhost_user_write) is testpmd's own
#     log: it read one VHOST_USER_IOTLB_MSG per update and per invalidation
#     QEMU sent before it aborted (the aborting dispatch sends nothing: the
#     assertion fires before the notifier is called). The updates are the
#     trace's IOTLB misses whose translation succeeded (iovqemu.miss_updates);
#     the rest are invalidations, and their count must equal Iovista's
#     invalidations delivered to 01:00.0's vhost notifiers before the abort.
#   7.2, 10.0, 11.1: after a deadline-based run (no waiting on the guest's
#     pings: the data path stalls after the first full flush) the test quits
#     QEMU on its own QMP socket B; the trace holds at least one full-range
#     flush, inference.abort is null, both notifiers of 01:00.0 cropped at
#     least that many, observed == delivered, unexplained == 0, no findings,
#     and testpmd read exactly as many VHOST_USER_IOTLB_MSG as the trace has
#     vhost_user_write req:22 (the two references agree).
# TAP. A release whose build is missing (`qemu-eras have`) is skipped with
# the reason; exit 77 when no release can run, without dpdk-testpmd or when
# the guest kernel cannot be downloaded. IOVISTA_CRASH_ERAS=5.2,7.2 runs a
# subset by hand; IOVISTA_TEST_KEEP=1 keeps the temporary files.

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
LIMIT = 222                    # meson's timeout is 240 s; every wait ends well before it
ABORT_LIMIT = 90               # 5.2: from QEMU's start to its abort
RUN_FOR = 45                   # 7.2+: from QEMU's start to the test's `quit`
RUN_MIN = 30                   # ...shortened down to this when time is short
RELEASES = ["5.2", "7.2", "10.0", "11.1"]
if os.environ.get("IOVISTA_CRASH_ERAS"):
    RELEASES = [v for v in RELEASES if v in os.environ["IOVISTA_CRASH_ERAS"].split(",")]

HERE = os.path.dirname(os.path.abspath(__file__))
ERAS = os.path.normpath(os.path.join(HERE, "..", "..", "build-aux", "qemu-eras"))
CLI = os.environ.get("IOVISTA_CLI")
TESTPMD = shutil.which("dpdk-testpmd")
C_ENV = dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE="C")   # English messages whatever the locale
KEEP = os.environ.get("IOVISTA_TEST_KEEP") == "1"

EVENTS = ["vtd_inv_desc", "vtd_inv_desc_iotlb_pages", "vtd_inv_desc_iotlb_domain", "vtd_inv_desc_iotlb_global",
          "vtd_switch_address_space", "vtd_iotlb_page_update", "vtd_iotlb_cc_update", "vhost_user_write",
          "vhost_iotlb_miss", "vhost_dev_start", "vhost_dev_stop",
          # 11.1 renamed vhost_dev_start/stop to _in/_out pairs
          "vhost_dev_start_in", "vhost_dev_stop_in", "pci_cfg_write",
          # ≤7.2 answer a domain or global invalidation with a page walk whose
          # UNMAPs reach vhost (the model needs them); and which IOTLB misses
          # QEMU answered with an update (iovqemu.miss_updates)
          "vtd_page_walk_one", "vtd_dmar_translate", "vtd_dmar_fault", "vtd_fault_disabled"]
# no_timer_check: with testpmd polling one of the host's CPUs, TCG can miss
# the IO-APIC timer check's window and the kernel panics at boot ("timer
# doesn't work through Interrupt-remapped IO-APIC"), seen here on 7.2; the
# check is over long before any DMA, so the flushes are the same without it
APPEND = "console=ttyS0 panic=-1 intel_iommu=on iommu.strict=0 pci=nomsi no_timer_check"
PANIC_RE = re.compile(r"Kernel panic - not syncing: .*")
BDF = "01:00.0"
# each release's row of the model (what-if --list-profiles), picked from the QMP greeting
PROFILE = {"5.2": "qemu-5.2", "7.2": "debian-7.2", "10.0": "qemu-10.0", "11.1": "qemu-11.1"}
U64 = (1 << 64) - 1
NOTIFIERS = [(0x0, 0xfedfffff), (0xfef00000, U64)]
DEV_FLUSH = "vtd_inv_desc invalidate desc type device"
FULL_FLUSH = "type device high 0x7ffffffffffff001"
FULL_FLUSH_B = FULL_FLUSH.encode()
FULL_FLUSH_SID_RE = re.compile(r"type device high 0x7ffffffffffff001 low 0x([0-9a-fA-F]+)")
MISS1_RE = re.compile(r"vhost_iotlb_miss\b.*\bstep 1\b")
REQ22_RE = re.compile(r"vhost_user_write req:22\b")
ASSERT_FN = "memory_region_notify_one:"
ASSERT_RE = re.compile(r"^.*memory_region_notify_one: Assertion .*$", re.M)

if not CLI or not os.access(CLI, os.X_OK):
    print("Bail out! IOVISTA_CLI is not set to the built iovista-cli")
    sys.exit(99)

have = {}
for ver in RELEASES:
    try:
        r = subprocess.run([ERAS, "have", ver], capture_output=True, text=True, timeout=60)
        have[ver] = (r.returncode == 0, (r.stdout.strip() or r.stderr.strip() or "exit %d" % r.returncode))
    except (OSError, subprocess.TimeoutExpired) as e:
        have[ver] = (False, str(e))
if not any(ok for ok, _ in have.values()):
    print("1..0 # SKIP no QEMU release can run: %s (build-aux/qemu-eras install)"
          % "; ".join("%s: %s" % (v, why) for v, (_, why) in have.items()))
    sys.exit(77)
if TESTPMD is None:
    print("1..0 # SKIP dpdk-testpmd is not installed (Debian package dpdk-dev): no vhost-user backend")
    sys.exit(77)

guest, why = iovqemu.build_guest()
if guest is None:
    print("1..0 # SKIP cannot download the Debian kernel package: %s" % why)
    sys.exit(77)
if "virtio_net" not in guest["modules"]:
    if "note" in guest:
        print("1..0 # SKIP the cached guest kernel has no virtio_net and the package cannot be downloaded: %s"
              % guest["note"])
        sys.exit(77)
    print("Bail out! tests/guest/build-guest.py gave a guest without virtio_net: %s" % guest["modules"])
    sys.exit(99)

tap = Tap()


def left():
    return T0 + LIMIT - time.monotonic()


def tail(path, n=3000):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - n))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def guest_panic(serial):
    m = PANIC_RE.search(serial)
    return "; the guest kernel panicked: " + m.group(0).strip() if m else ""


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


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

    F1's read end is opened (non-blocking) before QEMU starts, so QEMU's own
    open of its -D file returns at once; it stays open for the whole run, so
    should QEMU close and reopen its log file, nothing it writes meanwhile
    meets a FIFO without a reader. The reader never waits for the CLI: what
    the CLI has not taken yet waits in memory."""

    def __init__(self, src, raw, dst, qemu_alive, cli):
        self.fd = os.open(src, os.O_RDONLY | os.O_NONBLOCK)
        self.raw = open(raw, "wb")
        self.dst = dst
        self.qemu_alive = qemu_alive
        self.cli = cli
        self.q = queue.Queue()
        self.bytes = 0
        self.lines = 0
        self.full_flushes = 0
        self.first_full_flush_at = None
        self.writer_gaps = 0          # times QEMU had no write end open while it ran
        self.forwarded = 0
        self.dst_error = None
        self.dst_opened_at = None
        self.partial = b""
        self.abandon = threading.Event()     # the writer stops waiting for F2's reader
        self.stop = threading.Event()        # the reader gives up
        self.eof = threading.Event()
        self.done = threading.Event()
        self.reader = threading.Thread(target=self.read_loop, daemon=True)
        self.writer = threading.Thread(target=self.write_loop, daemon=True)

    def start(self):
        self.writer.start()
        self.reader.start()

    def count(self, lines):
        self.lines += len(lines)
        n = sum(1 for l in lines if FULL_FLUSH_B in l)
        if n and self.first_full_flush_at is None:
            self.first_full_flush_at = time.monotonic()
        self.full_flushes += n

    def read_loop(self):
        p = select.poll()
        p.register(self.fd, select.POLLIN)
        seen_writer = False
        try:
            while not self.stop.is_set():
                if not p.poll(250):
                    # no data, and no writer has come yet (after one has
                    # gone, poll reports a hang-up instead)
                    if not self.qemu_alive():
                        break
                    continue
                try:
                    data = os.read(self.fd, 1 << 16)
                except BlockingIOError:
                    continue
                if data:
                    seen_writer = True
                    self.raw.write(data)
                    self.raw.flush()
                    self.bytes += len(data)
                    lines = (self.partial + data).split(b"\n")
                    self.partial = lines.pop()
                    self.count(lines)
                    self.q.put(data)
                    continue
                # no writer now and the FIFO is empty: the end, once QEMU
                # has exited; while it runs, it may open its log again
                if not self.qemu_alive():
                    break
                if seen_writer:
                    self.writer_gaps += 1
                    seen_writer = False
                time.sleep(0.05)
        finally:
            os.close(self.fd)
            self.raw.close()
            if self.partial:
                self.count([self.partial])
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


# --- what the raw copy says, independently of Iovista ------------------------

def raw_facts(path):
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    facts = {"lines": len(lines), "dev_flushes": 0, "last_dev_flush": None, "last_dev_flush_text": None,
             "full_flushes": 0, "full_flushes_sid": {}, "first_full_flush": None, "misses": 0, "req22": 0,
             "vhost_start": [], "ats_writes": 0}
    for n, line in enumerate(lines, 1):
        if DEV_FLUSH in line:
            facts["dev_flushes"] += 1
            facts["last_dev_flush"] = n
            facts["last_dev_flush_text"] = line
        m = FULL_FLUSH_SID_RE.search(line)
        if m:
            facts["full_flushes"] += 1
            if facts["first_full_flush"] is None:
                facts["first_full_flush"] = n
            lo = int(m.group(1), 16)
            sid = (lo >> 32) & 0xffff
            key = "%02x:%02x.%x" % (sid >> 8, (sid >> 3) & 0x1f, sid & 7)
            facts["full_flushes_sid"][key] = facts["full_flushes_sid"].get(key, 0) + 1
        if MISS1_RE.search(line):
            facts["misses"] += 1
        if REQ22_RE.search(line):
            facts["req22"] += 1
        if re.search(r"vhost_dev_start(_in)?\b", line):
            facts["vhost_start"].append(n)
    return facts


def hexr(r):
    return "[%#x, %#x]" % r


def notifiers_of(inf):
    """{(start, end): (name, notifier)} for 01:00.0's notifiers in --stats."""
    out = {}
    nots = inf.get("notifiers") if isinstance(inf.get("notifiers"), dict) else {}
    for name, n in nots.items():
        if not isinstance(n, dict) or n.get("device") != BDF:
            continue
        try:
            r = (int(n["range"][0], 16), int(n["range"][1], 16))
        except (KeyError, IndexError, TypeError, ValueError):
            continue
        out[r] = (name, n)
    return out


def from_fn(text):
    """The assertion from the function name on (the file:line before it may differ)."""
    if not isinstance(text, str) or ASSERT_FN not in text:
        return None
    return text[text.index(ASSERT_FN):].strip()


def stop_testpmd(testpmd):
    if testpmd.poll() is None:
        testpmd.send_signal(signal.SIGINT)
        try:
            testpmd.wait(timeout=10)
        except subprocess.TimeoutExpired:
            testpmd.kill()
            testpmd.wait()
    return testpmd.returncode


# --- one release ---------------------------------------------------------------

timings = []


def run_release(ver, run_for):
    t_start = time.monotonic()
    failed_before = tap.failed
    tmp = tempfile.mkdtemp(prefix="iovista-crash-%s-" % ver)

    def p(n):
        return os.path.join(tmp, n)

    def name(text):
        return "%s: %s" % (ver, text)

    prefix = "iovista-crash-%d-%s" % (os.getpid(), ver.replace(".", "_"))
    vhost_sock, f1, f2, raw = p("vhost.sock"), p("qemu-trace.fifo"), p("cli-trace.fifo"), p("trace.raw")
    sock_a, sock_b = p("a.qmp"), p("b.qmp")
    testpmd = qemu = cli = check = tee = None
    stats = facts = None
    tm = {"release": ver}
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
                      name("dpdk-testpmd listens on its vhost-user socket (%.1f s)" % (time.monotonic() - t_start)),
                      "testpmd exit %s\n%s" % (testpmd.poll(), tail(p("testpmd.log")))):
            return

        # the FIFOs, the CLI, then the tee (its read end of F1 open now)
        os.mkfifo(f1)
        os.mkfifo(f2)
        with open(p("events"), "w") as f:
            f.write("".join(e + "\n" for e in EVENTS))
        cli = subprocess.Popen([CLI, "trace", "fifo:" + f2, "--follow", "--qmp", "unix:" + sock_a, "--stats"],
                               stdin=subprocess.DEVNULL, stdout=open(p("cli.stdout"), "wb"),
                               stderr=open(p("cli.stderr"), "wb"), env=C_ENV)
        qemu_box = []
        tee = Tee(f1, raw, f2, lambda: not qemu_box or qemu_box[0].poll() is None, cli)
        tee.start()
        t_cli = time.monotonic()
        while tee.dst_opened_at is None and not tee.done.is_set() and time.monotonic() < t_cli + 5:
            time.sleep(0.02)
        tap.ok(tee.dst_opened_at is not None,
               name("iovista-cli opened fifo:%s for reading before QEMU started (%.2f s)"
                    % (os.path.basename(f2), (tee.dst_opened_at or time.monotonic()) - t_cli)),
               "%s; iovista-cli %s\n%s" % (tee.dst_error, "exited %s" % cli.returncode if cli.poll() is not None
                                           else "still running", tail(p("cli.stderr"))))

        # QEMU, not stopped at -S; the one command line of every release
        args = [ERAS, "run", ver,
                "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", "512",
                "-machine", "q35,kernel-irqchip=split",
                "-device", "intel-iommu,intremap=on,device-iotlb=on,caching-mode=off,aw-bits=39",
                "-device", "pcie-root-port,id=rp1,chassis=1,slot=1,bus=pcie.0,addr=0x3",
                "-object", "memory-backend-memfd,id=mem,size=512M,share=on",
                "-machine", "memory-backend=mem",
                "-chardev", "socket,id=chr0,path=" + vhost_sock,
                "-netdev", "vhost-user,id=n0,chardev=chr0,vhostforce=on",
                "-device", "virtio-net-pci,netdev=n0,iommu_platform=on,disable-legacy=on,romfile=,"
                           "mac=52:54:00:12:34:56,bus=rp1,ats=on",
                "-display", "none", "-vga", "none", "-no-reboot",
                "-serial", "file:" + p("serial.log"), "-monitor", "none",
                "-qmp", "unix:%s,server=on,wait=off" % sock_a,
                "-qmp", "unix:%s,server=on,wait=off" % sock_b,
                "-msg", "timestamp=on",
                # 5.2 ignores -trace …,file=; -D works in all four
                "-trace", "events=" + p("events"), "-D", f1,
                "-kernel", guest["kernel"], "-initrd", guest["initrd"],
                "-append", APPEND]
        with open(p("qemu.cmdline"), "w") as f:
            f.write(" ".join(args) + "\n")
        qemu = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=open(p("qemu.stderr"), "wb"))
        qemu_box.append(qemu)
        t_qemu = time.monotonic()
        version = package = None
        try:
            check = CheckQmp(sock_b, timeout=30)
            v = check.greeting["QMP"]["version"]
            version = "%d.%d.%d" % (v["qemu"]["major"], v["qemu"]["minor"], v["qemu"]["micro"])
            package = v["package"].strip()
        except (OSError, ValueError, EOFError) as e:
            tap.ok(False, name("QEMU starts with its QMP socket B"), "%r\nexit %s\n%s"
                   % (e, qemu.poll(), tail(p("qemu.stderr"))))
            return
        tap.ok(version.startswith(ver + "."), name("QEMU %s (%s) runs, not stopped (no -S)" % (version, package)))

        if ver == "5.2":
            # the abort, within a deadline; nothing is sent to QEMU meanwhile
            try:
                qemu.wait(timeout=max(1, min(ABORT_LIMIT, left() - 30) - (time.monotonic() - t_qemu)))
            except subprocess.TimeoutExpired:
                pass
            t_end = time.monotonic()
            tm["qemu_ran"] = t_end - t_qemu
            rc = qemu.poll()
            qerr = read_text(p("qemu.stderr"))
            serial = read_text(p("serial.log"))
            tap.ok(rc in (134, -signal.SIGABRT),
                   name("QEMU aborted %.1f s after it started: exit status %s (134 or SIGABRT = -6), limit %d s"
                        % (t_end - t_qemu, rc, ABORT_LIMIT)),
                   "QEMU %s%s\n--- stderr ---\n%s\n--- serial (tail) ---\n%s"
                   % ("still runs" if rc is None else "exit %s" % rc, guest_panic(serial), qerr[-2500:],
                      serial[-2500:]))
            m = ASSERT_RE.search(qerr)
            qemu_assert = m.group(0).strip() if m else None
            tap.ok(qemu_assert is not None and "Assertion `entry->iova >= notifier->start && entry_end <= "
                   "notifier->end' failed." in qemu_assert,
                   name("QEMU's stderr has memory_region_notify_one's assertion"), qerr[-2500:] or "(empty stderr)")
            tap.note(name("QEMU's stderr: %s" % qemu_assert))
            if rc is None:
                # no abort: end it as the other releases end, to read what Iovista made of it
                reply = check.quit()
                try:
                    qemu.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    qemu.kill()
                    qemu.wait()
                tap.note(name("QEMU did not abort: quit on B (reply %s, exit %s)" % (reply, qemu.returncode)))
        else:
            # a deadline-based run: never waits on the guest's pings
            while time.monotonic() < t_qemu + run_for and qemu.poll() is None:
                time.sleep(0.25)
            t_end = time.monotonic()
            tm["qemu_ran"] = t_end - t_qemu
            qerr = read_text(p("qemu.stderr"))
            serial = read_text(p("serial.log"))
            tap.ok(qemu.poll() is None and not ASSERT_RE.search(qerr),
                   name("QEMU did not abort: it still runs after %.1f s" % (t_end - t_qemu)),
                   "exit %s%s\n--- stderr ---\n%s\n--- serial (tail) ---\n%s"
                   % (qemu.poll(), guest_panic(serial), qerr[-2500:], serial[-2500:]))
            reply = check.quit() if qemu.poll() is None else None
            try:
                qemu.wait(timeout=30)
            except subprocess.TimeoutExpired:
                qemu.kill()
                qemu.wait()
            tap.ok(qemu.returncode == 0 and reply is not None and "return" in reply,
                   name("QEMU quit on the test's socket B (reply %s, exit %s)" % (reply, qemu.returncode)),
                   tail(p("qemu.stderr")))
        glines = [l.strip()[len("IOVISTA-GUEST: "):] for l in read_text(p("serial.log")).splitlines()
                  if l.startswith("IOVISTA-GUEST: ")]
        tap.note(name("guest: " + (" | ".join(l for l in glines if not l.startswith("insmod")) or "(nothing)")))
        if tee.first_full_flush_at is not None:
            tm["first_full_flush"] = tee.first_full_flush_at - t_qemu

        # the raw copy complete, and all of it forwarded to the CLI
        tee.eof.wait(timeout=20)
        tee.abandon.set()
        tee.done.wait(timeout=40)
        tap.ok(tee.eof.is_set(), name("the raw copy is complete: %d bytes, %d lines (QEMU's trace FIFO at EOF%s)"
                                      % (tee.bytes, tee.lines, ", %d writer gap(s)" % tee.writer_gaps
                                         if tee.writer_gaps else "")))
        tap.ok(tee.done.is_set() and tee.forwarded == tee.bytes and tee.dst_error is None,
               name("iovista-cli read all %d bytes of fifo:%s (%d forwarded)"
                    % (tee.bytes, os.path.basename(f2), tee.forwarded)),
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
            tap.note(name("iovista-cli did not exit within 20 s of SIGINT: killed"))
        cerr = read_text(p("cli.stderr"))
        cout = read_text(p("cli.stdout"))
        tap.note(name("iovista-cli stderr: " + (" | ".join(cerr.strip().splitlines()[-12:]) or "(empty)")))
        tap.ok(cli_alive and cli.returncode == 0,
               name("iovista-cli ran until SIGINT and exits 0 (%s, exit %s)"
                    % ("interrupted" if cli_alive else "had exited by itself", cli.returncode)), cerr[-3000:])
        tap.ok(re.search(r"QEMU|QMP", cerr) and
               re.search(r"went away|gone|disconnect|closed|lost|exited|ended|quit|shut", cerr, re.I),
               name("iovista-cli said on stderr that QEMU went away"), cerr[-3000:] or "(empty stderr)")
        try:
            stats = json.loads(cout)
        except ValueError:
            stats = None
        tap.ok(isinstance(stats, dict), name("iovista-cli printed one JSON object (--stats)"),
               cout[-3000:] or "(empty stdout)")

        # testpmd's log is read once it has exited: what it had buffered is in the file then
        testpmd_rc = stop_testpmd(testpmd)
        tap.note(name("dpdk-testpmd exited %s on SIGINT" % testpmd_rc))

        facts = raw_facts(raw)
        tm["lines"] = facts["lines"]
        tap.note(name("raw copy: %d lines; %d device-IOTLB descriptors (last at line %s), %d full-range "
                      "(first at line %s; per source id %s), %d vhost_iotlb_miss step 1, %d vhost_user_write req:22, "
                      "vhost_dev_start at %s"
                      % (facts["lines"], facts["dev_flushes"], facts["last_dev_flush"], facts["full_flushes"],
                         facts["first_full_flush"], facts["full_flushes_sid"], facts["misses"], facts["req22"],
                         facts["vhost_start"][:4])))
        if not isinstance(stats, dict):
            return
        tap.ok(stats.get("lines") == facts["lines"] and stats.get("dropped") == 0,
               name("--stats lines %s == %d lines of the raw copy, dropped %s == 0"
                    % (stats.get("lines"), facts["lines"], stats.get("dropped"))))
        inf = stats.get("inference")
        if not tap.ok(isinstance(inf, dict), name("--stats has an \"inference\" object"),
                      json.dumps(stats, sort_keys=True)[:3000]):
            return
        nots = notifiers_of(inf)
        tm["profile"] = inf.get("profile")
        tap.note(name("inference: profile %s, events %s, deliveries %s, observed %s, unexplained %s, abort %s, "
                      "findings %d, notes %s" % (inf.get("profile"), inf.get("events"), inf.get("deliveries"),
                                                 inf.get("observed"), inf.get("unexplained"),
                                                 json.dumps(inf.get("abort")), len(inf.get("findings") or []),
                                                 inf.get("notes"))))
        for r, (key, n) in sorted(nots.items()):
            tap.note(name("notifier %s %s: from_line %s, to_line %s, flags %s (%s), delivered %s, skipped %s, "
                          "aborts %s, observed %s, cropped %s, by type %s"
                          % (key, hexr(r), n.get("from_line"), n.get("to_line"), n.get("flags"),
                             n.get("flags_source"), n.get("delivered"), n.get("skipped"), n.get("aborts"),
                             n.get("observed"), n.get("cropped"), n.get("delivered_by_type"))))
        tap.ok(sorted(nots) == NOTIFIERS,
               name("exactly two notifiers of %s: %s" % (BDF, ", ".join(hexr(r) for r in sorted(nots)))),
               json.dumps(inf.get("notifiers"), indent=1, sort_keys=True)[:4000])

        if ver == "5.2":
            check_abort(ver, inf, nots, facts, qemu_assert, p("testpmd.log"), raw, tm)
        else:
            check_no_abort(ver, inf, nots, facts, p("testpmd.log"), tm)
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
            stop_testpmd(testpmd)
            # EAL's runtime directory of our own --file-prefix
            base = "/var/run/dpdk" if os.geteuid() == 0 else \
                os.path.join(os.environ.get("XDG_RUNTIME_DIR") or "/tmp", "dpdk")
            shutil.rmtree(os.path.join(base, prefix), ignore_errors=True)
        tm["total"] = time.monotonic() - t_start
        timings.append(tm)
        if tap.failed > failed_before and stats is not None:
            tap.note(name("iovista-cli --stats:\n%s" % json.dumps(stats, indent=1, sort_keys=True)[:12000]))
        tap.note(name("%.1f s in all (QEMU ran %.1f s%s)%s"
                      % (tm["total"], tm.get("qemu_ran", 0),
                         ", first full-range flush %.1f s after its start" % tm["first_full_flush"]
                         if "first_full_flush" in tm else ", no full-range flush",
                         "; files kept in " + tmp if KEEP else "")))
        if not KEEP:
            shutil.rmtree(tmp, ignore_errors=True)


def check_abort(ver, inf, nots, facts, qemu_assert, testpmd_log, raw, tm):
    def name(text):
        return "%s: %s" % (ver, text)

    profile = inf.get("profile")
    tap.ok(isinstance(profile, str) and ("5.2" in profile or "5.0" in profile),
           name("inference.profile %s is 5.2's" % json.dumps(profile)))
    tap.ok(profile == PROFILE[ver], name("inference.profile %s == %s, the release's row"
                                         % (json.dumps(profile), PROFILE[ver])))
    # the consumer's side: 5.2 has no vhost_user_write; testpmd's log counts
    # every VHOST_USER_IOTLB_MSG it read (updates and invalidations alike,
    # its log does not tell them apart), the trace which were updates
    msgs = iovqemu.testpmd_iotlb_msgs(read_text(testpmd_log))
    mu = iovqemu.miss_updates(read_text(raw).splitlines(), BDF)
    deliveries = inf.get("deliveries")
    aborts = sum((n.get("aborts") or 0) for _, n in nots.values())
    mine = iovqemu.vhost_invalidations({key: n for key, n in nots.values()})
    theirs = msgs - mu["updates"]
    tm.update(iotlb_msg=msgs, misses=mu["misses"], updates=mu["updates"], deliveries=deliveries,
              invalidations=mine)
    tap.ok(mu["misses"] == facts["misses"] and mu["unfinished"] == 0,
           name("every one of the trace's %d IOTLB misses ended before the abort (%d answered with an update, "
                "%d not)" % (mu["misses"], mu["updates"], mu["failed"])), json.dumps(mu))
    tap.ok(msgs >= mu["updates"] >= 1,
           name("testpmd read %d VHOST_USER_IOTLB_MSG, at least the %d update(s) answering misses"
                % (msgs, mu["updates"])), tail(testpmd_log))
    tap.ok(mine == theirs,
           name("Iovista's invalidations delivered to %s's vhost notifiers before the abort, %d, == the %d "
                "invalidation(s) testpmd read (%d VHOST_USER_IOTLB_MSG - %d update(s))"
                % (BDF, mine, theirs, msgs, mu["updates"])),
           json.dumps({key: n for key, n in nots.values()}, indent=1, sort_keys=True)[:4000])
    tap.note(name("Iovista: %s deliveries in all (observed %s), %d abort(s)"
                  % (deliveries, inf.get("observed"), aborts)))
    tap.ok(inf.get("unexplained") == 0 and inf.get("findings") == [],
           name("unexplained %s == 0, findings == [] (%d)" % (inf.get("unexplained"),
                                                               len(inf.get("findings") or []))),
           json.dumps(inf.get("findings"), indent=1)[:3000])
    ab = inf.get("abort")
    ok = tap.ok(isinstance(ab, dict) and set(ab) == {"line", "notifier", "message"},
                name("inference.abort is an object {line, notifier, message}: %s" % json.dumps(ab)))
    if not ok:
        return
    tap.ok(facts["last_dev_flush"] is not None and ab.get("line") == facts["last_dev_flush"],
           name("abort.line %s == line %s of the raw copy, its last device-IOTLB descriptor"
                % (ab.get("line"), facts["last_dev_flush"])),
           "raw line %s: %s" % (facts["last_dev_flush"], facts["last_dev_flush_text"]))
    tap.note(name("raw line %s: %s" % (facts["last_dev_flush"], facts["last_dev_flush_text"])))
    by_name = {key: r for r, (key, _) in nots.items()}
    tap.ok(isinstance(ab.get("notifier"), str) and ab["notifier"] in by_name,
           name("abort.notifier %s is one of %s's notifiers (%s)"
                % (json.dumps(ab.get("notifier")), BDF, hexr(by_name[ab["notifier"]])
                   if ab.get("notifier") in by_name else "none of %s" % sorted(by_name))))
    mine, theirs = from_fn(ab.get("message")), from_fn(qemu_assert)
    tap.ok(mine is not None and mine == theirs,
           name("abort.message == QEMU's stderr from \"%s\" on" % ASSERT_FN),
           "iovista: %s\nqemu:    %s" % (ab.get("message"), qemu_assert))
    tap.note(name("abort.message (Iovista): %s" % ab.get("message")))
    tap.note(name("QEMU's stderr:           %s" % qemu_assert))



def check_no_abort(ver, inf, nots, facts, testpmd_log, tm):
    def name(text):
        return "%s: %s" % (ver, text)

    full = facts["full_flushes"]
    tm["full_flushes"] = full
    tm["deliveries"] = inf.get("deliveries")
    tm["req22"] = facts["req22"]
    tap.ok(inf.get("profile") == PROFILE[ver], name("inference.profile %s == %s, the release's row"
                                                    % (json.dumps(inf.get("profile")), PROFILE[ver])))
    tap.ok("abort" in inf and inf["abort"] is None, name("inference.abort is null (%s)"
                                                         % json.dumps(inf.get("abort", "missing"))))
    tap.ok(full >= 1, name("the raw copy holds %d full-range device-IOTLB flush(es) (%s)" % (full, FULL_FLUSH)))
    for r in NOTIFIERS:
        key, n = nots.get(r, (None, {}))
        d = json.dumps({key: n}, sort_keys=True)
        tap.ok(isinstance(n.get("cropped"), int) and n["cropped"] >= full,
               name("notifier %s %s: cropped %s >= %d full-range flush(es)" % (key, hexr(r), n.get("cropped"), full)),
               d)
        tap.ok(n.get("observed") is not None and n.get("observed") == n.get("delivered"),
               name("notifier %s %s: observed %s == delivered %s" % (key, hexr(r), n.get("observed"),
                                                                     n.get("delivered"))), d)
    tap.ok(inf.get("unexplained") == 0, name("unexplained %s == 0" % inf.get("unexplained")))
    tap.ok(inf.get("findings") == [], name("findings == [] (%d)" % len(inf.get("findings") or [])),
           json.dumps(inf.get("findings"), indent=1)[:3000])
    # the two references agree: every IOTLB message QEMU traced reached testpmd
    msgs = iovqemu.testpmd_iotlb_msgs(read_text(testpmd_log))
    tm["iotlb_msg"] = msgs
    tap.ok(msgs == facts["req22"],
           name("testpmd read %d VHOST_USER_IOTLB_MSG == %d vhost_user_write req:22 in the trace"
                % (msgs, facts["req22"])), tail(testpmd_log))


tap.ok(True, "guest: %s %s (%s), modules %s, %s in %.1f s"
       % (guest["package"], guest["version"], guest["kernel_release"], ",".join(guest["modules"]),
          "from the cache" if guest["cached"] else "assembled", guest["seconds"]))
if "note" in guest:
    tap.note(guest["note"])
runnable = [v for v in RELEASES if have[v][0]]
for i, ver in enumerate(RELEASES):
    ok, why = have[ver]
    if not ok:
        tap.n += 1
        print("ok %d # SKIP %s: build-aux/qemu-eras have %s failed: %s (build-aux/qemu-eras install %s)"
              % (tap.n, ver, ver, why, ver))
        sys.stdout.flush()
        continue
    tap.note("%s: %s" % (ver, why))
    # the later non-aborting runs share what time is left
    later = [v for v in runnable if v != "5.2" and RELEASES.index(v) > i]
    run_for = RUN_FOR
    if ver != "5.2":
        run_for = max(RUN_MIN, min(RUN_FOR, (left() - 20) / (len(later) + 1) - 15))
    if left() < 50:
        tap.ok(False, "%s: no time left to run it (%.0f s)" % (ver, left()))
        continue
    run_release(ver, run_for)

for tm in timings:
    tap.note("timing %s: %s" % (tm["release"], json.dumps({k: round(v, 1) if isinstance(v, float) else v
                                                          for k, v in tm.items() if k != "release"},
                                                         sort_keys=True)))
tap.note("the whole test took %.1f s" % (time.monotonic() - T0))
tap.finish()
