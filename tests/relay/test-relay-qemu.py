#!/usr/bin/env python3
# test-relay-qemu.py — iovista-cli relay in front of a real qemu-system-x86_64
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# QEMU (TCG, -nodefaults, q35 + intel-iommu) with four QMP sockets in a
# temporary directory: one for the plain relay, one for the TLS relay, one
# for direct `iovista-cli snapshot` runs and one for the test's own checks
# (QEMU serves one client per socket). Everything listens on 127.0.0.1.
# TAP; exit 77 only when QEMU is not installed.

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relaytest as rt  # noqa: E402
from relaytest import ok  # noqa: E402

QEMU = shutil.which("qemu-system-x86_64")
if QEMU is None:
    print("1..0 # SKIP qemu-system-x86_64 is not installed (Debian package qemu-system-x86)")
    sys.exit(77)
if not rt.CLI or not os.access(rt.CLI, os.X_OK):
    print("Bail out! IOVISTA_CLI is not set to the built iovista-cli")
    sys.exit(99)

TMP = tempfile.mkdtemp(prefix="iovista-relay-qemu-")
SOCK = {name: os.path.join(TMP, name + ".qmp") for name in ("relay", "tls", "direct", "check")}
procs = []
relays = []


class Qmp:
    def __init__(self, path, timeout=15):
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
        self.f = self.sock.makefile("rwb")
        json.loads(self.f.readline())
        self.cmd("qmp_capabilities")

    def cmd(self, command, **args):
        # only read-only commands here
        assert command.startswith("query-") or command in ("qmp_capabilities", "trace-event-get-state"), command
        msg = {"execute": command}
        if args:
            msg["arguments"] = args
        self.f.write((json.dumps(msg) + "\r\n").encode())
        self.f.flush()
        while True:
            reply = json.loads(self.f.readline())
            if "event" in reply:
                continue
            if "error" in reply:
                raise RuntimeError(reply["error"])
            return reply["return"]

    def close(self):
        self.sock.close()


def direct_snapshot(*extra):
    p = subprocess.run([rt.CLI, "snapshot", *extra, "unix:" + SOCK["direct"]], capture_output=True, text=True,
                       timeout=30)
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    return p.stdout


def trace_states(check, pattern):
    return {e["name"]: e["state"] for e in check.cmd("trace-event-get-state", name=pattern)}


try:
    args = [QEMU, "-accel", "tcg", "-nodefaults", "-machine", "q35", "-m", "128",
            "-display", "none", "-vga", "none", "-monitor", "none", "-serial", "none", "-parallel", "none",
            "-device", "intel-iommu,caching-mode=on",
            "-object", "rng-random,id=rng0,filename=/dev/urandom",
            "-device", "virtio-rng-pci,rng=rng0,iommu_platform=on,disable-legacy=on"]
    for path in SOCK.values():
        args += ["-qmp", "unix:%s,server=on,wait=off" % path]
    procs.append(subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=open(os.path.join(TMP, "qemu.stderr"), "wb")))
    check = Qmp(SOCK["check"])
    qemu_version = check.cmd("query-version")

    relay = rt.Relay(TMP, ["vm1,qmp=unix:" + SOCK["relay"]])
    relays.append(relay)
    ok(relay.url.startswith("http://127.0.0.1:"), "the relay prints where it listens", relay.url)

    # --- GET /api/v1/vms --------------------------------------------------------
    deadline = time.time() + 15
    while True:
        vms = rt.get_json(relay, "/api/v1/vms")
        if vms["vms"][0]["state"] == "connected" or time.time() > deadline:
            break
        time.sleep(0.1)
    vm = vms["vms"][0]
    want = "%d.%d.%d" % (qemu_version["qemu"]["major"], qemu_version["qemu"]["minor"], qemu_version["qemu"]["micro"])
    ok(vm["name"] == "vm1" and vm["state"] == "connected" and vm["qemu"] == want and
       vm["package"] == qemu_version["package"].strip(),
       "GET /api/v1/vms: name, state and QEMU version as QEMU reports them", (vms, qemu_version))

    # --- snapshot through the relay = direct snapshot -----------------------------
    # the firmware maps BARs during the first second or so: compare once two
    # direct snapshots around the relay's agree
    deadline = time.time() + 20
    while True:
        before = direct_snapshot()
        status, headers, body = rt.request(relay, "GET", "/api/v1/vms/vm1/snapshot")
        direct = direct_snapshot()
        if before == direct or time.time() > deadline:
            break
        time.sleep(0.3)
    ok(status == 200 and headers.get("content-type", "").startswith("application/json") and
       body.decode() == direct, "GET …/snapshot is byte for byte what iovista-cli snapshot prints",
       body.decode()[:500] + "\n---\n" + direct[:500])
    snap = json.loads(direct)
    ok(snap["iommu"]["type"] == "intel-iommu" and len(snap["address_spaces"]) > 0,
       "…and it is a real snapshot (intel-iommu, address spaces)", direct[:300])
    status, _, body = rt.request(relay, "GET", "/api/v1/vms/vm1/snapshot?raw=1")
    ok(status == 200 and body.decode() == direct_snapshot("--raw"), "?raw=1 equals iovista-cli snapshot --raw")

    tokfile = relay.token_file
    p = subprocess.run([rt.CLI, "snapshot", "--token-file", tokfile, relay.url + "/vm1"],
                       capture_output=True, text=True, timeout=30)
    ok(p.returncode == 0 and p.stdout == direct,
       "iovista-cli snapshot http://127.0.0.1:PORT/vm1 --token-file prints the same", p.stderr)
    env = dict(os.environ, IOVISTA_TOKEN=relay.token)
    p = subprocess.run([rt.CLI, "snapshot", relay.url + "/vm1"], capture_output=True, text=True, timeout=30,
                       env=env)
    ok(p.returncode == 0 and p.stdout == direct, "…and with IOVISTA_TOKEN", p.stderr)
    env = dict(os.environ, IOVISTA_TOKEN="not-the-token")
    p = subprocess.run([rt.CLI, "snapshot", relay.url + "/vm1"], capture_output=True, text=True, timeout=30,
                       env=env)
    ok(p.returncode == 1 and "401" in p.stderr and p.stdout == "", "a wrong token: 401, exit 1", p.stderr)
    env = {k: v for k, v in os.environ.items() if k != "IOVISTA_TOKEN"}
    p = subprocess.run([rt.CLI, "snapshot", relay.url + "/vm1"], capture_output=True, text=True, timeout=30,
                       env=env)
    ok(p.returncode == 2 and "IOVISTA_TOKEN" in p.stderr, "no token at all: usage error", p.stderr)
    excerpt = os.path.join(os.environ.get("G_TEST_SRCDIR", os.path.join(os.path.dirname(__file__), "..")),
                           "data", "trace", "qemu-7.2", "guest-intel-strict", "trace.excerpt.log")
    via_relay = subprocess.run([rt.CLI, "trace", "--stats", "--qmp", relay.url + "/vm1", "--token-file", tokfile,
                                excerpt], capture_output=True, text=True, timeout=60)
    local = subprocess.run([rt.CLI, "trace", "--stats", "--qmp", "unix:" + SOCK["direct"], excerpt],
                           capture_output=True, text=True, timeout=60)
    ok(via_relay.returncode == 0 and '"inference"' in via_relay.stdout and via_relay.stdout == local.stdout,
       "iovista-cli trace --qmp http://…/vm1 infers exactly as with the local QMP socket",
       via_relay.stderr + local.stderr + via_relay.stdout[:300])
    status, _, _ = rt.request(relay, "GET", "/api/v1/vms/vm1/snapshot", token=None)
    ok(status == 401, "GET …/snapshot without a token: 401")
    status, _, _ = rt.request(relay, "GET", "/api/v1/vms/vm1/snapshot", token="x" * len(relay.token))
    ok(status == 401, "GET …/snapshot with a wrong token: 401")

    # --- WebSocket: hello and the snapshot ----------------------------------------
    ws = rt.WebSocket(relay, "vm1")
    hello = ws.recv_json()
    ok(ws.status == 101 and hello["type"] == "hello" and hello["version"] == 1 and hello["qemu"] == want and
       hello["state"] == "connected", "WebSocket hello: version 1, QEMU version, connected", hello)
    # the stream sends the session's snapshot now and again whenever it
    # changes (the firmware may still be numbering buses): it must reach
    # what a direct snapshot says
    same, last = False, None
    deadline = time.time() + 15
    while not same and time.time() < deadline:
        m = ws.recv_json()
        if m["type"] == "snapshot":
            last = m["snapshot"]
            same = last == json.loads(direct_snapshot())
            if not same:
                ws.send_json({"type": "snapshot"})
    ok(same, "the snapshot messages reach the direct snapshot", json.dumps(last)[:500])
    ws.send_json({"type": "ping", "id": 7})
    m = ws.recv_json()
    while m["type"] != "pong":
        m = ws.recv_json()
    ok(m["id"] == 7, "ping → pong", m)
    ws.close()

    # --- trace presets: the only state the relay changes ---------------------------
    t = rt.get_json(relay, "/api/v1/vms/vm1/trace")
    names = [p["name"] for p in t["presets"]]
    ok(names == ["vtd-invalidations", "notifier-traffic", "everything-iommu"] and
       not any(p["enabled"] for p in t["presets"]), "GET …/trace lists the presets, all off", t)
    status, _, body = rt.request(relay, "POST", "/api/v1/vms/vm1/trace",
                                 body=json.dumps({"preset": "everything-iommu", "enable": True}).encode())
    states = trace_states(check, "vtd_*")
    answer = json.loads(body) if status == 200 else {}
    ok(status == 200 and states["vtd_inv_desc"] == "enabled" and states["vtd_page_walk_one"] == "enabled" and
       states["vtd_iotlb_page_hit"] == "disabled" and states["vtd_dmar_translate"] == "disabled" and
       states["vtd_ir_remap_msi"] == "disabled",
       "POST everything-iommu: QEMU has the VT-d events on, the noisy ones still off", (status, body[:300]))
    ok([p["enabled"] for p in answer.get("presets", [])] == [True, False, True],
       "the POST answer shows the presets now on (VT-d invalidations is part of everything)", answer.get("presets"))
    status, _, body = rt.request(relay, "POST", "/api/v1/vms/vm1/trace",
                                 body=json.dumps({"preset": "everything-iommu", "enable": False}).encode())
    states = trace_states(check, "vtd_*")
    ok(status == 200 and all(v == "disabled" for v in states.values()),
       "POST enable=false: all VT-d events off again in QEMU", states)

    # --- TLS with a self-signed certificate ---------------------------------------
    if shutil.which("openssl") is None:
        print("Bail out! openssl is needed for the TLS tests (build-aux/deps.sh TEST_PACKAGES)")
        sys.exit(99)
    cert, key = os.path.join(TMP, "cert.pem"), os.path.join(TMP, "key.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       capture_output=True, text=True, timeout=60)
    ok(p.returncode == 0, "openssl made a self-signed certificate", p.stderr)
    tls = rt.Relay(TMP, ["vm1,qmp=unix:" + SOCK["tls"]], extra=["--tls-cert", cert, "--tls-key", key], name="tls")
    relays.append(tls)
    ok(tls.url.startswith("https://127.0.0.1:"), "with --tls-cert the relay serves https", tls.url)
    ctx = rt.tls_context(cert)
    deadline = time.time() + 15
    while rt.get_json(tls, "/api/v1/vms", context=ctx)["vms"][0]["state"] != "connected" and time.time() < deadline:
        time.sleep(0.1)
    status, _, body = rt.request(tls, "GET", "/api/v1/vms/vm1/snapshot", context=ctx)
    ok(status == 200 and body.decode() == direct_snapshot(), "HTTPS snapshot equals the direct one", status)
    status, _, _ = rt.request(tls, "GET", "/api/v1/vms", token=None, context=ctx)
    ok(status == 401, "HTTPS without a token: 401")
    env = dict(os.environ, IOVISTA_TLS_CA=cert, IOVISTA_TOKEN=tls.token)
    p = subprocess.run([rt.CLI, "snapshot", tls.url + "/vm1"], capture_output=True, text=True, timeout=30, env=env)
    ok(p.returncode == 0 and p.stdout == direct_snapshot(),
       "iovista-cli snapshot https://…/vm1 with IOVISTA_TLS_CA", p.stderr)
    env = dict(os.environ, IOVISTA_TOKEN=tls.token)
    env.pop("IOVISTA_TLS_CA", None)
    p = subprocess.run([rt.CLI, "snapshot", tls.url + "/vm1"], capture_output=True, text=True, timeout=30, env=env)
    fp = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-fingerprint", "-sha256"],
                        capture_output=True, text=True).stdout.strip().split("=", 1)[-1].replace(":", "").lower()
    ok(p.returncode == 1 and p.stdout == "" and "IOVISTA_TLS_CA" in p.stderr and len(fp) == 64 and fp in p.stderr,
       "without trusting the certificate the CLI refuses and shows its SHA-256 fingerprint", (fp, p.stderr))
    s = socket.create_connection(("127.0.0.1", tls.port), timeout=10)
    s.sendall(b"GET /api/v1/vms HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        data = s.recv(100)
    except OSError:
        data = b""
    s.close()
    ok(not data.startswith(b"HTTP/1.1 200"), "plain HTTP to the TLS port gets no data", data[:60])
    ws = rt.WebSocket(tls, "vm1", context=ctx)
    hello = ws.recv_json()
    ok(ws.status == 101 and hello["type"] == "hello", "WebSocket over TLS", hello)
    ws.close()

    # --- decoded trace events from a second QEMU, through a FIFO --------------------
    fifo = os.path.join(TMP, "vm2.trace")
    vm2_qmp = os.path.join(TMP, "vm2.qmp")
    traced = rt.Relay(TMP, ["vm2,qmp=unix:%s,trace=fifo:%s" % (vm2_qmp, fifo)], name="traced")
    relays.append(traced)
    ws = rt.WebSocket(traced, "vm2")
    hello = ws.recv_json()
    ok(hello["type"] == "hello" and hello["trace"] is True, "a VM with a trace source says so in hello", hello)
    t_start = time.time()
    procs.append(subprocess.Popen([QEMU, "-accel", "tcg", "-nodefaults", "-machine", "q35", "-m", "128",
                                   "-display", "none", "-vga", "none", "-monitor", "none", "-serial", "none",
                                   "-parallel", "none", "-device", "intel-iommu", "-msg", "timestamp=on",
                                   "-trace", "enable=vtd_*,file=" + fifo,
                                   "-qmp", "unix:%s,server=on,wait=off" % vm2_qmp],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=open(os.path.join(TMP, "qemu2.stderr"), "wb")))
    events = []
    deadline = time.time() + 20
    while time.time() < deadline and not any(e["name"] == "vtd_switch_address_space" for e in events):
        try:
            m = ws.recv_json()
        except socket.timeout:
            break
        if m["type"] == "events":
            events += m["events"]
    sw = [e for e in events if e["name"] == "vtd_switch_address_space"]
    ok(sw and all(e["name"].startswith("vtd_") for e in events) and
       set(sw[0]["args"]) >= {"bus", "slot", "fn"} and sw[0]["tid"] is not None and
       abs(sw[0]["ts_ns"] / 1e9 - t_start) < 60,
       "QEMU's vtd_* events arrive decoded over the WebSocket (%d events)" % len(events), events[:3])

    # QEMU going away is news for the clients, and the relay stays up
    deadline = time.time() + 15
    while rt.get_json(traced, "/api/v1/vms")["vms"][0]["session"] != "live" and time.time() < deadline:
        time.sleep(0.1)
    qemu2 = procs.pop()
    qemu2.terminate()
    qemu2.wait(10)
    state = None
    deadline = time.time() + 15
    while state is None and time.time() < deadline:
        try:
            m = ws.recv_json()
        except socket.timeout:
            break
        if m["type"] == "state" and m["state"] != "connected":
            state = m
    ok(state is not None and state["state"] == "disconnected" and state.get("error"),
       "when QEMU exits, a state message says so, with the reason", state)
    vm2 = rt.get_json(traced, "/api/v1/vms")["vms"][0]
    ok(traced.alive() and vm2["state"] != "connected" and vm2["error"], "GET /api/v1/vms shows why", vm2)
    ws.close()

    for r in relays:
        ok(r.alive(), "%s relay never crashed" % os.path.basename(r.token_file), r.stderr()[-2000:])
        ok(r.stop() == 0, "SIGTERM stops it cleanly", r.stderr()[-2000:])
    ok(all(p.poll() is None for p in procs), "the first QEMU is still running", "")
    check.close()
finally:
    for r in relays:
        r.stop()
    for p in procs:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(TMP, ignore_errors=True)

rt.finish()
