#!/usr/bin/env python3
# test-eras.py — every command family of Iovista against four real QEMU releases
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# For QEMU 5.2, 7.2, 10.0 and 11.1 (build-aux/qemu-eras run VERSION …), one
# VM each: q35 + intel-iommu (caching mode, device IOTLB, interrupt
# remapping), a virtio-net-pci with iommu_platform=on and ats=on behind a
# PCIe root port, backed by a vhost-user netdev whose other end is Debian's
# dpdk-testpmd (iommu-support=1), booting Debian 12's kernel with the busybox
# initramfs of tests/guest/build-guest.py. Two QMP sockets: A for
# iovista-cli, B for the test's own checks. Per release:
#   phase A (-S): `iovista-cli snapshot` exits 0 and QEMU still answers on B
#     (on 11.1 x-query-virtio-status aborts QEMU: Iovista must not send it);
#   the test (not Iovista) sends `cont` on B, and waits, with a deadline (never
#   for a ping), for the virtio-net device's address space to show VT-d's
#   ranges (polling info mtree -f on B), then for the guest's idle line (its
#   virtio_net driver has started vhost by then);
#   phase B: the snapshot names the virtio-net device as vhost (and how it
#     knows), equals `info mtree -f` range for range, and after every command
#     family (snapshot, snapshot --watch, relay + GET …/snapshot and …/trace,
#     trace --preset/--off with the patterns the relay publishes,
#     trace --list-events) QEMU is alive and answers query-status on B;
#   after `quit` on B: `iovista-cli trace TRACEFILE --stats` counts exactly
#     what tests/trace/count-trace.py counts in the raw -D trace file;
#   the model against reality (issue I): `iovista-cli trace TRACEFILE
#     --infer SNAPSHOT --stats`, SNAPSHOT being phase B's, infers under the
#     release's own row (qemu-5.2, debian-7.2, qemu-10.0, qemu-11.1) with no
#     findings and nothing unexplained, and agrees with the consumer: from
#     7.2 on every invalidation it delivers to vhost is observed through its
#     vhost_user_write req:22, and testpmd's log read as many
#     VHOST_USER_IOTLB_MSG as the trace has req:22; on 5.2, whose trace has
#     no vhost_user_write, its vhost invalidations equal testpmd's
#     VHOST_USER_IOTLB_MSG minus the IOTLB updates that answered misses
#     (iovqemu.miss_updates). The guest runs in strict IOMMU mode, so every
#     unmap is invalidated page by page: in the IOTLB and in the device IOTLB.
#     The check covers the trace up to the trace-control commands (they
#     switch events off): the test stops the VM there, waits until neither
#     the trace nor testpmd's log grows, notes both sizes and continues it.
# TAP; a release whose build is missing (`qemu-eras have`) is skipped with
# the reason; exit 77 when none can run, or without dpdk-testpmd or the guest.
# IOVISTA_TEST_KEEP=1 keeps the temporary files.

import fnmatch
import importlib.util
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import iovqemu
from iovqemu import Qmp, Tap

T0 = time.monotonic()
LIMIT = 400                    # meson's timeout is 480 s; every wait ends well before it
BOOT_LIMIT = 100               # from `cont` to the guest's idle line
RELEASES = ["5.2", "7.2", "10.0", "11.1"]
if os.environ.get("IOVISTA_ERAS"):      # e.g. IOVISTA_ERAS=11.1 to run one release by hand
    RELEASES = [v for v in RELEASES if v in os.environ["IOVISTA_ERAS"].split(",")]

HERE = os.path.dirname(os.path.abspath(__file__))
ERAS = os.path.normpath(os.path.join(HERE, "..", "..", "build-aux", "qemu-eras"))
COUNT_TRACE = os.path.normpath(os.path.join(HERE, "..", "trace", "count-trace.py"))
CLI = os.environ.get("IOVISTA_CLI")
TESTPMD = shutil.which("dpdk-testpmd")
C_ENV = dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE="C")   # English messages whatever the locale
KEEP = os.environ.get("IOVISTA_TEST_KEEP") == "1"
# each release's row of the model (what-if --list-profiles)
PROFILE = {"5.2": "qemu-5.2", "7.2": "debian-7.2", "10.0": "qemu-10.0", "11.1": "qemu-11.1"}
# besides vtd_*: the consumer's evidence (vhost-user IOTLB messages and
# misses), when vhost registers, and the guest's ATS enable (pci_cfg_write)
VHOST_EVENTS = ["vhost_user_write", "vhost_iotlb_miss", "vhost_dev_start*", "vhost_dev_stop*", "pci_cfg_write"]

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
if not any(ok for ok, _ in have.values()) and shutil.which("qemu-system-x86_64") is None:
    print("1..0 # SKIP no QEMU release is installed (qemu-system-x86_64 missing; build-aux/qemu-eras install)")
    sys.exit(77)
if TESTPMD is None:
    print("1..0 # SKIP dpdk-testpmd is not installed (Debian package dpdk-dev): no vhost-user backend")
    sys.exit(77)

guest, why = iovqemu.build_guest()
if guest is None:
    print("1..0 # SKIP cannot download the Debian kernel package: %s" % why)
    sys.exit(77)

spec = importlib.util.spec_from_file_location("count_trace", COUNT_TRACE)
count_trace = importlib.util.module_from_spec(spec)
spec.loader.exec_module(count_trace)

# where qemu-eras keeps each release, for that release's trace-events-all
ERAS_ROOT = os.environ.get("IOV_QEMU_ROOT") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "iovista-qemu")
TRACE_EVENTS = {
    "5.2": os.path.join(ERAS_ROOT, "root-bullseye", "usr", "share", "qemu", "trace-events-all"),
    "7.2": "/usr/share/qemu/trace-events-all",
    "10.0": os.path.join(ERAS_ROOT, "qemu-10.0", "usr", "share", "qemu", "trace-events-all"),
    "11.1": os.path.join(ERAS_ROOT, "root-sid", "usr", "share", "qemu", "trace-events-all"),
}
HOST_TRACE_EVENTS = "/usr/share/qemu/trace-events-all"   # what the CLI reads by default
DEFAULT_ADDED = {n.encode() for n in ("vhost_dev_start_in", "vhost_dev_start_out", "vhost_dev_stop_in",
                                      "vhost_dev_stop_out", "vhost_dev_init_in", "vhost_dev_init_out",
                                      "pci_cfg_read", "pci_cfg_write")}

# the log backend's line: "PID@SEC.USEC:name args" up to 10.0, and with
# -msg timestamp=on on 10.1+ "YYYY-MM-DDTHH:MM:SS.ffffffZ name args"
TID_FORMAT = re.compile(r"^\d{1,10}@\d{1,10}\.\d{6}:[A-Za-z0-9_]+(?: |$)")
ISO_FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z [A-Za-z0-9_]+(?: |$)")
# what the virtio-net device's snapshot entry must say about vhost, per release
VHOST_SOURCE = {"5.2": "netdev", "7.2": "x-query-virtio-status", "10.0": "x-query-virtio-status",
                "11.1": "netdev"}
# the presets as docs/relay.md documents them (used only when the relay
# cannot say: the test takes each preset's patterns from the relay's
# GET /api/v1/vms/VM/trace), and the noisy events that turning a preset on
# switches off again unless the preset names them
PRESETS = {
    "vtd-invalidations": ["vtd_inv_desc*", "vtd_inv_qi_*", "vtd_iotlb_reset", "vtd_context_cache_reset"],
    "notifier-traffic": ["vtd_page_walk_one", "vtd_switch_address_space", "vtd_as_unmap_whole",
                         "virtio_iommu_notify_*", "vfio_iommu_map_notify", "vhost_user_write", "amdvi_*_inval"],
    "everything-iommu": ["vtd_*", "virtio_iommu_*", "amdvi_*"],
}
NOISY = ["vtd_ir_remap*", "vtd_warn_ir_vector", "vtd_dmar_translate", "vtd_iotlb_page_hit"]


def preset_effect(pats, enable, events):
    """{event: state it must have} for every event of this QEMU that turning
    a preset of these patterns on (enable) or off switches."""
    out = {}
    for name in events:
        named = any(fnmatch.fnmatchcase(name, p) for p in pats)
        noisy = any(fnmatch.fnmatchcase(name, p) for p in NOISY)
        if not enable and named:
            out[name] = "disabled"
        elif enable and named and (not noisy or name in pats):
            out[name] = "enabled"
        elif enable and noisy:
            out[name] = "disabled"
    return out


TMP = tempfile.mkdtemp(prefix="iovista-eras-")
tap = Tap()


class Gone(Exception):
    """QEMU died or stopped answering: the rest of this release cannot run."""


class CheckQmp(Qmp):
    """The test's own socket B: read-only through Qmp.cmd, plus `cont`,
    `stop` and `quit`, which the test (never Iovista) sends to run, pause
    and end its VM."""

    def control(self, name):
        assert name in ("cont", "stop", "quit"), name
        self.f.write((json.dumps({"execute": name}) + "\r\n").encode())
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                return None
            reply = json.loads(line)
            if "event" in reply:
                continue
            if "error" in reply:
                raise RuntimeError(reply["error"])
            return reply["return"]


def tail(path, n=2500):
    try:
        with open(path, errors="replace") as f:
            return f.read()[-n:]
    except OSError:
        return ""


def left():
    return T0 + LIMIT - time.monotonic()


class Run:
    """One release: testpmd, QEMU, and the checks."""

    def __init__(self, ver):
        self.ver = ver
        self.dir = os.path.join(TMP, ver)
        os.makedirs(self.dir)
        self.p = lambda name: os.path.join(self.dir, name)
        self.vhost_sock = self.p("vhost.sock")
        self.sock_a = self.p("cli.qmp")
        self.sock_b = self.p("check.qmp")
        self.trace = self.p("trace.log")
        self.qemu = None
        self.testpmd = None
        self.check = None
        self.prefix = "iovista-eras-%d-%s" % (os.getpid(), ver.replace(".", "_"))
        self.extra = []         # other processes of ours (watch, relay)
        self.published = None   # {preset: patterns} from the relay's GET …/trace

    def name(self, text):
        return "%s: %s" % (self.ver, text)

    def ok(self, cond, text, detail=""):
        return tap.ok(cond, self.name(text), detail)

    def qemu_tail(self):
        return "QEMU exit status: %s\n--- QEMU stderr (tail) ---\n%s" % (
            self.qemu.poll() if self.qemu else None, tail(self.p("qemu.stderr")))

    # --- processes ---------------------------------------------------------

    def start_testpmd(self):
        self.testpmd = subprocess.Popen(
            [TESTPMD, "-l", "0,1", "--no-pci", "--no-huge", "-m", "512", "--file-prefix=" + self.prefix,
             "--log-level=lib.vhost.config:debug",
             "--vdev", "net_vhost0,iface=%s,iommu-support=1" % self.vhost_sock,
             "--", "--forward-mode=icmpecho", "--auto-start", "--stats-period", "30", "--nb-cores=1",
             "--total-num-mbufs=8192"],
            stdin=subprocess.DEVNULL, stdout=open(self.p("testpmd.log"), "wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + min(30, left())
        while not os.path.exists(self.vhost_sock) and self.testpmd.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.ok(os.path.exists(self.vhost_sock) and self.testpmd.poll() is None,
                       "dpdk-testpmd listens on its vhost-user socket",
                       "testpmd exit %s\n%s" % (self.testpmd.poll(), tail(self.p("testpmd.log"))))

    def start_qemu(self):
        with open(self.p("events"), "w") as f:
            f.write("".join(e + "\n" for e in ["vtd_*"] + VHOST_EVENTS))
        args = [ERAS, "run", self.ver, "-S",
                "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", "512",
                "-machine", "q35,kernel-irqchip=split",
                "-device", "intel-iommu,intremap=on,device-iotlb=on,caching-mode=on,aw-bits=39",
                "-device", "pcie-root-port,id=rp1,chassis=1,slot=1,bus=pcie.0,addr=0x3",
                "-object", "memory-backend-memfd,id=mem,size=512M,share=on",
                "-machine", "memory-backend=mem",
                "-chardev", "socket,id=chr0,path=" + self.vhost_sock,
                "-netdev", "vhost-user,id=n0,chardev=chr0,vhostforce=on",
                "-device", "virtio-net-pci,id=net0,netdev=n0,iommu_platform=on,disable-legacy=on,romfile=,"
                           "mac=52:54:00:12:34:56,bus=rp1,ats=on",
                "-display", "none", "-vga", "none", "-no-reboot",
                "-serial", "file:" + self.p("serial.log"), "-monitor", "none",
                "-kernel", guest["kernel"], "-initrd", guest["initrd"],
                "-append", "console=ttyS0 panic=-1 intel_iommu=on iommu.strict=1 pci=nomsi"
                # a loaded TCG host can miss check_timer()'s few ticks, and with
                # interrupt remapping the kernel panics then ("timer doesn't work
                # through Interrupt-remapped IO-APIC"): skip that check
                " no_timer_check",
                "-qmp", "unix:%s,server=on,wait=off" % self.sock_a,
                "-qmp", "unix:%s,server=on,wait=off" % self.sock_b,
                "-msg", "timestamp=on",
                # 5.2 ignores -trace …,file=; -D works in all four
                "-trace", "events=" + self.p("events"), "-D", self.trace]
        self.qemu = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.p("qemu.stderr"), "wb"))
        deadline = time.monotonic() + min(30, left())
        while not (os.path.exists(self.sock_a) and os.path.exists(self.sock_b)) and self.qemu.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            self.check = CheckQmp(self.sock_b, timeout=max(1, deadline - time.monotonic()))
        except (OSError, ValueError, EOFError) as e:
            self.ok(False, "QEMU starts at -S with both QMP sockets", "%s\n%s" % (e, self.qemu_tail()))
            return False
        v = self.check.greeting["QMP"]["version"]
        self.version = "%d.%d.%d" % (v["qemu"]["major"], v["qemu"]["minor"], v["qemu"]["micro"])
        return self.ok(self.version.startswith(self.ver + "."),
                       "QEMU %s (%s) starts at -S with both QMP sockets" % (self.version, v["package"].strip()),
                       self.qemu_tail())

    def stop(self):
        for p in self.extra:
            if p.poll() is None:
                p.kill()
                p.wait()
        if self.check is not None:
            try:
                self.check.close()
            except OSError:
                pass
        if self.qemu is not None and self.qemu.poll() is None:
            self.qemu.kill()
            self.qemu.wait()
        if self.testpmd is not None:
            self.stop_testpmd()
            # EAL's runtime directory of our own --file-prefix
            if os.geteuid() == 0:
                base = "/var/run/dpdk"
            else:
                base = os.path.join(os.environ.get("XDG_RUNTIME_DIR") or "/tmp", "dpdk")
            shutil.rmtree(os.path.join(base, self.prefix), ignore_errors=True)

    def stop_testpmd(self):
        """testpmd's log is complete once it has exited: the model check reads it then."""
        if self.testpmd.poll() is None:
            self.testpmd.terminate()
            try:
                self.testpmd.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.testpmd.kill()
                self.testpmd.wait()
        return self.testpmd.returncode

    # --- helpers -------------------------------------------------------------

    def alive(self, after):
        """QEMU's process runs and it answers query-status on B; raises Gone when not."""
        status, err = None, ""
        if self.qemu.poll() is None:
            try:
                status = self.check.cmd("query-status")["status"]
            except (OSError, EOFError, ValueError, RuntimeError) as e:
                err = repr(e)
        good = self.qemu.poll() is None and status is not None
        self.ok(good, "after %s QEMU is alive and answers query-status on B (%s)" % (after, status),
                err + "\n" + self.qemu_tail())
        if not good:
            raise Gone(after)
        return status

    def cli(self, *args, timeout=60):
        try:
            return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout, env=C_ENV)
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            return subprocess.CompletedProcess(e.cmd, -1, out, "timed out after %d s" % timeout)

    def snapshot(self):
        res = self.cli("snapshot", "unix:" + self.sock_a)
        snap = None
        if res.returncode == 0:
            try:
                snap = json.loads(res.stdout)
            except ValueError:
                pass
        return res, snap

    def trace_states(self, pattern):
        return {e["name"]: e["state"] for e in self.check.cmd("trace-event-get-state", name=pattern)}

    def net_view(self, views):
        """Our own info mtree -f: the FlatView of the AddressSpace "virtio-net-pci"."""
        found = [v for v in views if any(name == "virtio-net-pci" for name, _ in v["spaces"])]
        return found[0] if len(found) == 1 else None

    # --- the checks ----------------------------------------------------------

    def run(self):
        t_start = time.monotonic()
        if not self.start_testpmd() or not self.start_qemu():
            return
        ver = self.ver

        # phase A: at -S, before the firmware ran
        res, snap = self.snapshot()
        self.ok(res.returncode == 0 and snap is not None,
                "at -S: iovista-cli snapshot exits 0 with JSON (exit %d)" % res.returncode,
                res.stderr + "\n" + self.qemu_tail())
        if ver == "11.1":
            self.ok(self.qemu.poll() is None,
                    "at -S: the snapshot did not kill QEMU 11.1 (x-query-virtio-status aborts it with exit 134)",
                    self.qemu_tail())
        status = self.alive("snapshot at -S")
        self.ok(status == "prelaunch", "at -S: QEMU is still in prelaunch (Iovista never runs it)", status)
        if snap is not None:
            notes = snap.get("notes") or []
            nets = [d for d in snap.get("devices", []) if d.get("type") == "virtio-net-pci"]
            tap.note("%s at -S: virtio-net %s; notes %s" % (ver, nets, notes))

        # the test's own cont; then the guest boots and enables DMA remapping
        self.check.control("cont")
        t_cont = time.monotonic()
        switched, view, polls = None, None, 0
        while time.monotonic() < t_cont + min(BOOT_LIMIT, left()) and self.qemu.poll() is None:
            view = self.net_view(iovqemu.parse_mtree(self.check.hmp("info mtree -f")))
            polls += 1
            if view is not None and view["root"] not in (None, "vtd-nodmar") and \
                    any(r[4].endswith("-dmar") for r in view["ranges"]):
                switched = time.monotonic()
                break
            time.sleep(0.5)
        self.ok(switched is not None,
                "the guest enabled DMA remapping: virtio-net's address space shows VT-d ranges %.1f s after cont "
                "(%d info mtree -f polls, limit %d s)" % ((switched or time.monotonic()) - t_cont, polls, BOOT_LIMIT),
                "last view: %s\n--- serial (tail) ---\n%s\n%s" % (view, tail(self.p("serial.log")),
                                                                  self.qemu_tail()))
        if switched is None:
            raise Gone("boot")
        tap.note("%s: virtio-net view root %s, ranges %s"
                 % (ver, view["root"], [(hex(r[0]), hex(r[1]), r[3], r[4]) for r in view["ranges"]]))
        # then the guest's idle line: its virtio_net driver has started the
        # device by then, so vhost has started (what x-query-virtio-status
        # reports on 7.2 and 10.0)
        while time.monotonic() < t_cont + min(BOOT_LIMIT, left()) and self.qemu.poll() is None and \
                "IOVISTA-GUEST: idle" not in tail(self.p("serial.log"), 10 ** 6):
            time.sleep(0.25)
        serial = tail(self.p("serial.log"), 10 ** 6)
        idle = "IOVISTA-GUEST: idle" in serial
        self.ok(idle, "the guest idles %.1f s after cont (limit %d s)" % (time.monotonic() - t_cont, BOOT_LIMIT),
                "--- serial (tail) ---\n%s\n%s" % (serial[-2500:], self.qemu_tail()))
        tap.note("%s guest: %s" % (ver, " | ".join(l[len("IOVISTA-GUEST: "):].strip() for l in serial.splitlines()
                                                   if l.startswith("IOVISTA-GUEST: ") and "insmod" not in l)))
        if self.qemu.poll() is not None:
            raise Gone("boot")

        # phase B: snapshot == info mtree -f, range for range; vhost
        for attempt in range(20):
            before = self.check.hmp("info mtree -f")
            res, snap = self.snapshot()
            after = self.check.hmp("info mtree -f")
            if res.returncode != 0 or iovqemu.parse_mtree(before) == iovqemu.parse_mtree(after) or left() < 30:
                break
            time.sleep(0.3)
        self.ok(res.returncode == 0 and snap is not None,
                "running: iovista-cli snapshot exits 0 with JSON (%d attempt(s))" % (attempt + 1),
                res.stderr + "\n" + self.qemu_tail())
        if snap is not None:
            # the VM the model infers for, once QEMU has quit
            with open(self.p("snapshot.json"), "w") as f:
                f.write(res.stdout)
        self.alive("snapshot of the running guest")
        if snap is not None:
            got = iovqemu.snapshot_keys(snap)
            want = iovqemu.mtree_keys(iovqemu.parse_mtree(after))
            self.ok(got == want, "snapshot == info mtree -f on B, range for range (%d FlatViews)" % len(want),
                    "only in one of them:\n" + "\n".join(sorted(set(got) ^ set(want)))[:4000])
            nets = [d for d in snap["devices"] if d.get("type") == "virtio-net-pci"]
            net = nets[0] if len(nets) == 1 else {}
            self.ok(len(nets) == 1 and net.get("vhost") is True,
                    "the virtio-net-pci device (%s) is vhost: %s" % (net.get("bdf"), net.get("vhost")),
                    json.dumps({"device": nets, "notes": snap.get("notes")}, indent=1))
            self.ok(net.get("vhost_source") == VHOST_SOURCE[ver],
                    "…and vhost_source is \"%s\" (%s)" % (VHOST_SOURCE[ver], net.get("vhost_source")),
                    json.dumps({"device": nets, "notes": snap.get("notes")}, indent=1))
            notes = snap.get("notes") or []
            refused = [n for n in notes if "x-query-virtio-status" in n]
            if ver == "11.1":
                self.ok(refused, "notes say x-query-virtio-status is refused on 11.1", notes)
            elif ver in ("7.2", "10.0"):
                self.ok(not refused, "notes do not refuse x-query-virtio-status on %s" % ver, notes)
            if net.get("vhost") is not True and ver in ("7.2", "10.0"):
                # what QEMU itself says, for the report (safe on 7.2 and 10.0 only)
                try:
                    st = self.check.cmd("x-query-virtio-status", path=net["qom_path"] + "/virtio-backend")
                    tap.note("%s: x-query-virtio-status: vhost-started=%s, vhost-dev %s, status %s; info network: %s"
                             % (ver, st.get("vhost-started"), "present" if "vhost-dev" in st else "absent",
                                st.get("status"), self.check.hmp("info network").strip().replace("\r\n", " | ")))
                except (RuntimeError, KeyError) as e:
                    tap.note("%s: x-query-virtio-status: %s" % (ver, e))
            mine = [e for e in snap["address_spaces"]
                    if any(s.get("device") == net.get("bdf") for s in e["spaces"]) and e["iommu"]]
            roles = [(r["start"], r["end"], r["role"]) for r in mine[0]["flat_ranges"]] if len(mine) == 1 else None
            self.ok(roles is not None and ("0xfee00000", "0xfeefffff", "interrupt") in roles and
                    sum(1 for r in roles if r[2] == "iommu") == 2,
                    "virtio-net's address space: two VT-d ranges around the interrupt window", roles)

        # snapshot --watch 0.5 for about 2 s, then SIGINT
        watch = subprocess.Popen([CLI, "snapshot", "unix:" + self.sock_a, "--watch", "0.5"],
                                 stdout=subprocess.PIPE, stderr=open(self.p("watch.stderr"), "w"), text=True,
                                 env=C_ENV)
        self.extra.append(watch)
        lines = queue.Queue()

        def reader():
            for line in watch.stdout:
                lines.put(line)
        threading.Thread(target=reader, daemon=True).start()
        t_w = time.monotonic()
        while watch.poll() is None and time.monotonic() < t_w + min(20, left()):
            if time.monotonic() > t_w + 2 and not lines.empty():
                break
            time.sleep(0.1)
        watch.send_signal(signal.SIGINT)
        try:
            watch.wait(timeout=10)
        except subprocess.TimeoutExpired:
            watch.kill()
            watch.wait()
        time.sleep(0.1)
        got = []
        while not lines.empty():
            got.append(lines.get())
        parsed = []
        for line in got:
            try:
                parsed.append(json.loads(line))
            except ValueError:
                pass
        self.ok(watch.returncode == 0 and parsed and len(parsed) == len(got) and
                any(d.get("type") == "virtio-net-pci" for d in parsed[0].get("devices", [])),
                "snapshot --watch 0.5 for %.1f s: %d JSON line(s), exit %s on SIGINT"
                % (time.monotonic() - t_w, len(parsed), watch.returncode),
                tail(self.p("watch.stderr")) + "\n" + "".join(got)[:1000])
        self.alive("snapshot --watch 0.5")

        # the relay on loopback, and GET …/snapshot with the token
        self.relay_check()
        self.alive("relay and GET …/snapshot and …/trace")

        # the model check's part of the trace ends here: the presets below
        # switch events off (vtd_inv_desc* before vhost_user_write, …), so
        # what QEMU traces after this no longer holds every side of a delivery
        self.model_cut()

        # trace control: each preset on, then off
        patterns = self.published or PRESETS
        tap.note("%s: preset patterns %s: %s" % (self.ver, "as the relay publishes them" if self.published
                                                 else "as docs/relay.md documents them", patterns))
        for preset in PRESETS:
            for off in (False, True):
                what = "trace --preset %s%s" % (preset, " --off" if off else "")
                res = self.cli("trace", "--qmp", "unix:" + self.sock_a, "--preset", preset, *(["--off"] if off else []))
                printed = None
                if res.returncode == 0:
                    try:
                        printed = {e["name"]: e["state"] for e in json.loads(res.stdout)}
                    except (ValueError, TypeError, KeyError):
                        pass
                self.alive(what)
                states = self.trace_states("*")
                want = preset_effect(patterns.get(preset, PRESETS[preset]), not off, states)
                self.ok(res.returncode == 0 and printed == {n: states[n] for n in want},
                        "%s exits 0 and prints every event it switched (%d), as QEMU reports them on B"
                        % (what, len(want)),
                        "exit %d: %s\nprinted but not switched: %s\nswitched but not printed: %s\n"
                        "printed state differs from B: %s"
                        % (res.returncode, res.stderr.strip(), sorted(set(printed or {}) - set(want)),
                           sorted(set(want) - set(printed or {})),
                           sorted(n for n in set(printed or {}) & set(want) if printed[n] != states[n]))[:3000])
                wrong = sorted("%s=%s" % (n, states[n]) for n, st in want.items()
                               if states[n] != st and states[n] != "unavailable")
                self.ok(want and not wrong, "%s: QEMU's states on B are what the preset asks for (%d events)"
                        % (what, len(want)), " ".join(wrong)[:3000])
        res = self.cli("trace", "--qmp", "unix:" + self.sock_a, "--list-events", "vtd_*")
        listed = {}
        if res.returncode == 0:
            try:
                listed = {e["name"]: e["state"] for e in json.loads(res.stdout)}
            except (ValueError, TypeError, KeyError):
                pass
        self.alive("trace --list-events 'vtd_*'")
        mine = self.trace_states("vtd_*")
        self.ok(res.returncode == 0 and listed and listed == mine,
                "trace --list-events 'vtd_*' lists what trace-event-get-state says on B (%d events)" % len(listed),
                res.stderr + "\n" + json.dumps(sorted(set(listed.items()) ^ set(mine.items())))[:2000])

        # the test's own quit; QEMU closes the trace
        try:
            self.check.control("quit")
        except (OSError, EOFError, RuntimeError):
            pass
        try:
            rc = self.qemu.wait(timeout=min(20, max(1, left())))
        except subprocess.TimeoutExpired:
            rc = None
        self.ok(rc == 0, "QEMU ends with 0 on quit (%s)" % rc, self.qemu_tail())
        log = tail(self.p("testpmd.log"), 10 ** 7)
        self.ok("new vhost user connection" in log or "new device" in log.lower(),
                "dpdk-testpmd saw QEMU's vhost-user connection",
                "\n".join(l for l in log.splitlines() if "VHOST" in l)[-2000:])
        self.testpmd_rc = self.stop_testpmd()
        self.trace_counts()
        self.model_check()
        tap.note("%s took %.1f s" % (ver, time.monotonic() - t_start))

    def relay_check(self):
        token_file = self.p("relay.token")
        relay = subprocess.Popen([CLI, "relay", "--listen", "127.0.0.1:0", "--token-file", token_file,
                                  "--vm", "vm1,qmp=unix:" + self.sock_a],
                                 stdout=subprocess.PIPE, stderr=open(self.p("relay.stderr"), "wb"), text=True,
                                 env=C_ENV)
        self.extra.append(relay)
        try:
            line = relay.stdout.readline()
            ok = self.ok(line.startswith("listening on http://127.0.0.1:"),
                         "relay --listen 127.0.0.1:0 --vm vm1,qmp=unix:A listens on loopback (%s)" % line.strip(),
                         tail(self.p("relay.stderr")))
            if not ok:
                return
            port = int(line.split()[-1].rsplit(":", 1)[1])
            with open(token_file) as f:
                token = f.read().strip()

            def get(path):
                s = socket.create_connection(("127.0.0.1", port), timeout=30)
                try:
                    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                               "Connection: close\r\n\r\n" % (path, port, token)).encode())
                    data = b""
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                finally:
                    s.close()
                head, _, body = data.partition(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else None
                return status, body

            deadline = time.monotonic() + min(20, left())
            state = None
            while time.monotonic() < deadline:
                status, body = get("/api/v1/vms")
                if status == 200:
                    state = json.loads(body)["vms"][0]["state"]
                    if state == "connected":
                        break
                time.sleep(0.2)
            status, body = get("/api/v1/vms/vm1/snapshot")
            snap = None
            if status == 200:
                try:
                    snap = json.loads(body)
                except ValueError:
                    pass
            nets = [d for d in (snap or {}).get("devices", []) if d.get("type") == "virtio-net-pci"]
            self.ok(status == 200 and len(nets) == 1 and nets[0].get("vhost_source") == VHOST_SOURCE[self.ver],
                    "GET /api/v1/vms/vm1/snapshot with the token: %s, virtio-net %s"
                    % (status, nets[0].get("vhost_source") if nets else None),
                    "vm state %s\n%s\n%s" % (state, body[:1500], tail(self.p("relay.stderr"))))
            status, body = get("/api/v1/vms/vm1/trace")
            try:
                self.published = {p["name"]: p["patterns"] for p in json.loads(body)["presets"]}
            except (ValueError, KeyError, TypeError):
                self.published = None
            self.ok(status == 200 and self.published is not None and sorted(self.published) == sorted(PRESETS),
                    "GET /api/v1/vms/vm1/trace with the token: %s, presets %s"
                    % (status, sorted(self.published or {})), body[:1500])
        finally:
            if relay.poll() is None:
                relay.terminate()
                try:
                    relay.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    relay.kill()
                    relay.wait()
            self.ok(relay.returncode == 0, "the relay ends with 0 on SIGTERM (%s)" % relay.returncode,
                    tail(self.p("relay.stderr")))

    def trace_counts(self):
        with open(self.trace, "rb") as f:
            data = f.read()
        text = data.decode("utf-8", "replace").splitlines()
        fmt = ISO_FORMAT if self.ver == "11.1" else TID_FORMAT
        good = [l for l in text if fmt.match(l)]
        self.ok(text and len(good) == len(text),
                "the trace holds %d line(s), every one \"%s\"" % (len(text), "ISO-TIME name args"
                                                                   if self.ver == "11.1" else "PID@SEC.USEC:name args"),
                "\n".join(l for l in text if not fmt.match(l))[:2000])
        catalogs = []
        if os.path.exists(HOST_TRACE_EVENTS):
            catalogs.append((None, HOST_TRACE_EVENTS))          # the CLI's default catalogue
        own = TRACE_EVENTS[self.ver]
        if os.path.exists(own):
            catalogs.append((own, own))
        else:
            tap.note("%s: no trace-events-all at %s" % (self.ver, own))
        if not catalogs:
            self.ok(True, "trace counts # SKIP no trace-events-all to count with independently")
            return
        for given, path in catalogs:
            args = ["trace", self.trace, "--stats"] + (["--trace-events", given] if given else [])
            res = self.cli(*args, timeout=120)
            try:
                cli = json.loads(res.stdout)
            except ValueError:
                cli = {}
            names = count_trace.known_names(path)
            if given is None:
                # the default catalogue is the installed file plus the
                # definitions Iovista adds where it lacks them (11.1's
                # vhost_dev_*_in/_out, pci_cfg_*: the built-in catalogue's
                # comment, iov_trace_catalog_new_default())
                names |= DEFAULT_ADDED
            mine = count_trace.count(data, names)
            label = "--trace-events %s's trace-events-all" % self.ver if given else "the default catalogue"
            self.ok(res.returncode == 0 and cli.get("lines") == mine["lines"] and
                    cli.get("by_name") == mine["by_name"],
                    "trace --stats (%s): lines %s and by_name (%d names, %d events) as counted in Python"
                    % (label, cli.get("lines"), len(mine["by_name"]), mine["events"]),
                    "%s\ncli: %s\npython: %s" % (res.stderr, json.dumps({k: cli.get(k) for k in ("lines", "by_name")}),
                                                json.dumps({k: mine[k] for k in ("lines", "by_name")})))
            keys = ("events", "other", "malformed")
            self.ok(res.returncode == 0 and all(cli.get(k) == mine[k] for k in keys),
                    "trace --stats (%s): events %s, other %s, malformed %s as counted in Python"
                    % ((label,) + tuple(cli.get(k) for k in keys)),
                    "python: %s" % {k: mine[k] for k in keys})


    def model_cut(self):
        """Where the model check's trace and testpmd log end: both files'
        sizes while the VM is stopped (the test's own `stop` on B; vhost
        stops with it) and neither has grown for a second, so every IOTLB
        message QEMU traced before the cut is in testpmd's log before it."""
        self.check.control("stop")
        t = time.monotonic()
        last, stable_since = None, time.monotonic()
        while time.monotonic() < t + min(15, max(1, left() - 60)):
            now = (os.path.getsize(self.trace), os.path.getsize(self.p("testpmd.log")))
            if now != last:
                last, stable_since = now, time.monotonic()
            elif time.monotonic() - stable_since >= 1.0:
                break
            time.sleep(0.1)
        self.cut = last
        quiet = time.monotonic() - stable_since >= 1.0
        self.check.control("cont")
        self.ok(quiet, "model cut: with the VM stopped, the trace (%d bytes) and testpmd's log (%d bytes) stood "
                "still for 1 s (%.1f s after stop)" % (last[0], last[1], time.monotonic() - t))
        self.alive("stop and cont for the model cut")

    def model_check(self):
        """The model against reality: Iovista's per-notifier predictions under
        the release's row equal the consumer's evidence."""
        ver = self.ver
        snap = self.p("snapshot.json")
        if not self.ok(os.path.exists(snap) and getattr(self, "cut", None),
                       "phase B's snapshot and the model cut were taken for the model check"):
            return
        with open(self.trace, "rb") as f:
            data = f.read(self.cut[0])
        with open(self.p("testpmd.log"), "rb") as f:
            pmd = f.read(self.cut[1]).decode("utf-8", "replace")
        cut_trace = self.p("trace-model.log")
        with open(cut_trace, "wb") as f:
            f.write(data)
        lines = data.decode("utf-8", "replace").splitlines()
        res = self.cli("trace", cut_trace, "--infer", snap, "--stats", timeout=120)
        try:
            stats = json.loads(res.stdout)
        except ValueError:
            stats = {}
        inf = stats.get("inference") if isinstance(stats.get("inference"), dict) else {}
        if not self.ok(res.returncode == 0 and inf, "trace TRACE --infer SNAPSHOT --stats exits 0 with an "
                       "\"inference\" object (exit %d)" % res.returncode, res.stderr[-2000:] + res.stdout[-2000:]):
            return
        nots = {k: n for k, n in (inf.get("notifiers") or {}).items()
                if isinstance(n, dict) and ".vhost." in k}
        tap.note(self.name("model check over the trace's first %d lines and testpmd's log's first %d bytes"
                           % (len(lines), len(pmd))))
        tap.note(self.name("inference: profile %s, events %s, deliveries %s, observed %s, unexplained %s, "
                           "findings %d, notes %s" % (inf.get("profile"), inf.get("events"), inf.get("deliveries"),
                                                      inf.get("observed"), inf.get("unexplained"),
                                                      len(inf.get("findings") or []), inf.get("notes"))))
        for k, n in sorted(nots.items()):
            tap.note(self.name("notifier %s %s: from_line %s, to_line %s, flags %s (%s), delivered %s, skipped %s, "
                               "observed %s, by type %s" % (k, n.get("range"), n.get("from_line"), n.get("to_line"),
                                                            n.get("flags"), n.get("flags_source"), n.get("delivered"),
                                                            n.get("skipped"), n.get("observed"),
                                                            n.get("delivered_by_type"))))
        self.ok(inf.get("profile") == PROFILE[ver],
                "the inference used the release's row: profile %s == %s" % (inf.get("profile"), PROFILE[ver]))
        self.ok(len(nots) == 2, "the model registered vhost's two notifiers on the virtio-net device (%s)"
                % sorted(nots), json.dumps(inf.get("notifiers"), indent=1)[:3000])
        self.ok(inf.get("unexplained") == 0, "unexplained %s == 0" % inf.get("unexplained"))
        self.ok(inf.get("findings") == [], "findings == [] (%d)" % len(inf.get("findings") or []),
                json.dumps(inf.get("findings"), indent=1)[:3000])
        msgs = iovqemu.testpmd_iotlb_msgs(pmd)
        mine = iovqemu.vhost_invalidations(nots)
        if ver == "5.2":
            # no vhost_user_write: testpmd's log is the consumer's evidence
            mu = iovqemu.miss_updates(lines, "01:00.0")
            self.ok(mu["unfinished"] == 0 and mu["updates"] >= 1,
                    "the trace's %d IOTLB misses all ended (%d answered with an update, %d not)"
                    % (mu["misses"], mu["updates"], mu["failed"]), json.dumps(mu))
            self.ok(mine == msgs - mu["updates"] and mine > 0,
                    "Iovista's invalidations delivered to vhost, %d, == the %d testpmd read "
                    "(%d VHOST_USER_IOTLB_MSG - %d update(s)), and there are some"
                    % (mine, msgs - mu["updates"], msgs, mu["updates"]),
                    "testpmd exit %s\n%s" % (self.testpmd_rc, json.dumps(nots, indent=1, sort_keys=True)[:3000]))
        else:
            req22 = sum(1 for l in lines if re.search(r"vhost_user_write req:22\b", l))
            observed = sum(n.get("observed") or 0 for n in nots.values())
            delivered = sum(n.get("delivered") or 0 for n in nots.values())
            self.ok(observed == delivered and mine == delivered and delivered > 0,
                    "every invalidation Iovista delivered to vhost (%d) is observed through its req:22 (%d), "
                    "and there are some" % (delivered, observed), json.dumps(nots, indent=1, sort_keys=True)[:3000])
            self.ok(msgs == req22, "testpmd read %d VHOST_USER_IOTLB_MSG == %d vhost_user_write req:22 in the trace"
                    % (msgs, req22), "testpmd exit %s" % self.testpmd_rc)


try:
    for ver in RELEASES:
        ok_have, what = have[ver]
        if not ok_have:
            tap.n += 1
            print("ok %d %s # SKIP QEMU %s is not installed or does not run (qemu-eras have %s: %s; "
                  "run build-aux/qemu-eras install %s)" % (tap.n, ver, ver, ver, what, ver))
            sys.stdout.flush()
            continue
        if left() < 60:
            tap.ok(False, "%s: not run, the time is up (%.0f s left of %d)" % (ver, left(), LIMIT))
            continue
        tap.note("QEMU %s: %s" % (ver, what))
        run = Run(ver)
        try:
            run.run()
        except Gone as e:
            tap.note("%s: the remaining checks of this release are not run (QEMU gone after %s)" % (ver, e))
        except Exception as e:  # a broken expectation of the test itself: report and go on
            tap.ok(False, "%s: unexpected %s: %s" % (ver, type(e).__name__, e),
                   traceback.format_exc() + (run.qemu_tail() if run.qemu else ""))
        finally:
            run.stop()
    tap.ok(time.monotonic() - T0 < LIMIT + 30,
           "all releases took %.1f s (limit %d s)" % (time.monotonic() - T0, LIMIT + 30))
finally:
    if KEEP:
        tap.note("files kept in " + TMP)
    else:
        shutil.rmtree(TMP, ignore_errors=True)

tap.finish()
