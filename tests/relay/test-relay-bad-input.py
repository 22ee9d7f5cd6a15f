#!/usr/bin/env python3
# test-relay-bad-input.py — iovista-cli relay against hostile and slow clients
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# No QEMU needed: the VM's QMP socket does not exist (the relay keeps
# retrying and says so), and its trace source is a UNIX socket this test
# writes real QEMU 7.2 trace lines into. Everything is on loopback. TAP.

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relaytest as rt  # noqa: E402
from relaytest import ok  # noqa: E402


def reply(ws):
    """The next message that answers the client (state news may come first)."""
    while True:
        m = ws.recv_json()
        if m.get("type") not in ("state", "snapshot", "drops", "events"):
            return m

if not rt.CLI or not os.access(rt.CLI, os.X_OK):
    print("Bail out! IOVISTA_CLI is not set to the built iovista-cli")
    sys.exit(99)

TMP = tempfile.mkdtemp(prefix="iovista-relay-bad-")
TRACE = os.path.join(TMP, "vm1.trace.sock")
LINE = b"13726@1795459775.%06d:vtd_inv_desc_iotlb_pages iotlb invalidate domain 0x3 addr 0xffffe000 mask 0x1\n"
relays = []


def cleanup():
    for r in relays:
        r.stop()
    shutil.rmtree(TMP, ignore_errors=True)


try:
    # --- usage errors -----------------------------------------------------------
    p = subprocess.run([rt.CLI, "relay", "--listen", "0.0.0.0:0", "--token-file", os.path.join(TMP, "t"),
                        "--vm", "vm1,qmp=unix:" + os.path.join(TMP, "none.qmp")],
                       capture_output=True, text=True, timeout=20)
    ok(p.returncode == 2 and "loopback" in p.stderr and "--tls-cert" in p.stderr,
       "a non-loopback address without TLS is refused before binding", p.stderr)
    p = subprocess.run([rt.CLI, "relay", "--vm", "bad name,qmp=unix:/x"], capture_output=True, text=True, timeout=20)
    ok(p.returncode == 2 and "NAME" in p.stderr, "a bad --vm spec is a usage error", p.stderr)
    p = subprocess.run([rt.CLI, "relay", "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=20)
    ok(p.returncode == 2 and "--vm" in p.stderr, "no --vm is a usage error", p.stderr)

    relay = rt.Relay(TMP, ["vm1,qmp=unix:%s,trace=unix:%s" % (os.path.join(TMP, "none.qmp"), TRACE)])
    relays.append(relay)
    st = os.stat(relay.token_file)
    ok(st.st_mode & 0o777 == 0o600 and len(relay.token) >= 32,
       "the relay created its token file with mode 0600", oct(st.st_mode))

    # --- authentication -------------------------------------------------------
    status, headers, body = rt.request(relay, "GET", "/api/v1/vms", token=None)
    ok(status == 401 and "bearer" in headers.get("www-authenticate", "").lower(), "no token: 401", body)
    status, _, body = rt.request(relay, "GET", "/api/v1/vms", token=relay.token[:-1] + "x")
    ok(status == 401 and b"Wrong token" in body, "wrong token: 401", body)
    status, _, body = rt.request(relay, "GET", "/api/v1/vms", token=relay.token + "x")
    ok(status == 401, "token with a suffix: 401", body)
    status, _, body = rt.request(relay, "GET", "/api/v1/vms", token=False,
                                 headers={"Authorization": "Basic " + relay.token})
    ok(status == 401, "token in another scheme: 401", body)
    ws = rt.WebSocket(relay, "vm1", token=None)
    ok(ws.status == 401, "WebSocket without a token: 401", ws.status)
    ws.close()

    vms = rt.get_json(relay, "/api/v1/vms")
    vm = vms["vms"][0]
    ok(vms["v"] == 1 and vm["name"] == "vm1" and vm["state"] != "connected" and vm["qemu"] is None,
       "GET /api/v1/vms lists the VM whose QEMU is not there", vms)
    status, _, body = rt.request(relay, "GET", "/api/v1/vms/vm1/snapshot")
    ok(status == 503 and b"not connected" in body, "snapshot without QEMU: 503 with a reason", body)
    status, _, body = rt.request(relay, "GET", "/api/v1/vms/nope/snapshot")
    ok(status == 404, "unknown VM: 404", body)
    status, _, body = rt.request(relay, "DELETE", "/api/v1/vms/vm1/trace")
    ok(status == 405, "DELETE: 405", body)

    # --- malformed HTTP -----------------------------------------------------
    for name, raw in [("garbage request line", b"\x00\x01\x02 hello\r\n\r\n"),
                      ("no HTTP version", b"GET /api/v1/vms\r\n\r\n"),
                      ("bad header line", b"GET /api/v1/vms HTTP/1.1\r\nHost 127.0.0.1\r\nnocolon\r\n\r\n"),
                      ("huge header", b"GET /api/v1/vms HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n")]:
        s = rt.connect(relay.port)
        try:
            s.sendall(raw)
        except OSError:
            pass
        try:
            status, _, body = rt.read_response(s)
        except OSError:
            status = None
        s.close()
        ok(status in (400, 413, 431, None) and relay.alive(),
           "malformed HTTP (%s): %s, relay still up" % (name, status), body[:200] if status else "")
    status, _, _ = rt.request(relay, "GET", "/api/v1/vms")
    ok(status == 200, "the relay still answers after malformed requests")

    # --- request bodies -------------------------------------------------------
    s = rt.connect(relay.port)
    s.sendall(("POST /api/v1/vms/vm1/trace HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "Content-Length: 10000000\r\n\r\n" % relay.token).encode() + b"{" * 65536)
    status, _, body = rt.read_response(s)
    s.close()
    ok(status == 413, "a 10 MB body is refused with 413 before it is read", (status, body[:200]))
    s = rt.connect(relay.port)
    s.sendall(("POST /api/v1/vms/vm1/trace HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "Transfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n" % relay.token).encode())
    status, _, body = rt.read_response(s)
    s.close()
    ok(status == 413, "a chunked body of unknown length is refused with 413", (status, body[:200]))
    for body in [b"{not json", b"[]", b'{"preset": "vtd-invalidations"}', b'{"preset": "nope", "enable": true}',
                 b"\xff\xfe"]:
        status, _, answer = rt.request(relay, "POST", "/api/v1/vms/vm1/trace", body=body)
        ok(status == 400 and b'"error"' in answer, "invalid trace request %r: 400 with a reason" % body[:30], answer)

    # --- WebSocket: client messages -------------------------------------------
    ws = rt.WebSocket(relay, "vm1")
    ok(ws.status == 101, "WebSocket upgrade with the token: 101", ws.status)
    hello = ws.recv_json()
    ok(hello.get("type") == "hello" and hello.get("version") == 1 and hello.get("v") == 1 and
       hello.get("vm") == "vm1" and hello.get("trace") is True, "hello carries the protocol version", hello)
    ws.send_frame(1, b"{this is not json")
    m = reply(ws)
    ok(m.get("type") == "error" and "JSON" in m.get("error", ""), "invalid JSON: an error message", m)
    ws.send_frame(1, b'{"type": "shutdown-qemu"}')
    m = reply(ws)
    ok(m.get("type") == "error" and "Unknown" in m.get("error", ""), "unknown message type: an error message", m)
    ws.send_frame(1, b'{"type": "ping", "v": 2}')
    m = reply(ws)
    ok(m.get("type") == "error" and "version" in m.get("error", ""), "wrong version: an error message", m)
    ws.send_frame(2, b"\x00\x01binary")
    m = reply(ws)
    ok(m.get("type") == "error", "binary message: an error message", m)
    # a fragmented, valid message
    ws.send_frame(1, b'{"type": "pi', fin=False)
    ws.send_frame(0, b'ng", "i', fin=False)
    ws.send_frame(0, b'd": 42}', fin=True)
    m = reply(ws)
    ok(m.get("type") == "pong" and m.get("id") == 42, "a fragmented ping is answered", m)
    ws.send_json({"type": "stats"})
    m = reply(ws)
    ok(m.get("type") == "stats" and m.get("invalid_messages") == 4, "stats count the invalid messages", m)
    ws.close()

    # --- WebSocket: oversized single frame ------------------------------------
    ws = rt.WebSocket(relay, "vm1")
    ws.recv_json()
    ws.send_frame(1, b'{"type":"ping","pad":"' + b"x" * 200000 + b'"}')
    code = None
    try:
        while True:
            op, data = ws.recv_frame()
            if op == 8:
                code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 0
                break
    except (EOFError, OSError) as e:
        code = str(e)
    ws.close()
    ok(code == 1009, "a 200 kB frame is answered with close code 1009", code)

    # --- WebSocket: endless fragments -----------------------------------------
    ws = rt.WebSocket(relay, "vm1")
    ws.recv_json()
    code = None
    try:
        ws.send_frame(1, b"[" + b" " * 4000, fin=False)
        for i in range(100):  # 400 kB, never finished
            ws.send_frame(0, b" " * 4000, fin=False)
    except OSError:
        pass
    try:
        while True:
            op, data = ws.recv_frame()
            if op == 8:
                code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 0
                break
    except (EOFError, OSError) as e:
        code = str(e)
    ws.close()
    ok(code == 1009, "400 kB of unfinished fragments: close code 1009", code)
    time.sleep(0.2)
    ok(relay.alive() and rt.request(relay, "GET", "/api/v1/vms")[0] == 200,
       "the relay is still up after the oversized messages", relay.stderr()[-2000:])

    # --- a client that never reads, next to one that does ----------------------
    N_LINES = 100000
    stalled = rt.WebSocket(relay, "vm1", rcvbuf=4096)
    stalled_hello = stalled.recv_json()
    good = rt.WebSocket(relay, "vm1")
    good.recv_json()
    received = {"events": 0, "seqs": [], "drops": None}

    def reader():
        try:
            while received["events"] < N_LINES:
                m = good.recv_json()
                if m.get("type") == "events":
                    received["events"] += len(m["events"])
                    received["seqs"].append(m["seq"])
                    received["last_event"] = m["events"][-1]
                elif m.get("type") == "drops":
                    received["drops"] = m
        except Exception as e:  # noqa: BLE001
            received["error"] = repr(e)

    t = threading.Thread(target=reader)
    t.start()

    w = socket.socket(socket.AF_UNIX)
    w.connect(TRACE)
    t0 = time.time()
    chunk = 1000
    for i in range(0, N_LINES, chunk):
        w.sendall(b"".join(LINE % ((i + j) % 1000000) for j in range(chunk)))
        time.sleep(0.002)
    w.close()
    write_s = time.time() - t0
    # the relay answers other requests while a client is stalled
    t1 = time.time()
    status = rt.request(relay, "GET", "/api/v1/vms")[0]
    ok(status == 200 and time.time() - t1 < 2, "GET /api/v1/vms is answered while a client is stalled",
       time.time() - t1)
    t.join(60)
    seqs = received["seqs"]
    ok(received["events"] == N_LINES and seqs == list(range(seqs[0], seqs[0] + len(seqs))),
       "the reading client got all %d events in order while the other stalled (written in %.2f s)"
       % (N_LINES, write_s), {k: v for k, v in received.items() if k != "seqs"})
    ev = received.get("last_event", {})
    ok(ev.get("name") == "vtd_inv_desc_iotlb_pages" and ev.get("tid") == 13726 and
       ev.get("args", {}).get("domain") == "0x3", "events are decoded", ev)

    # now the stalled client reads: its own stream says what it lost
    stalled.sock.settimeout(10)
    got, lost = 0, None
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            m = stalled.recv_json()
        except (socket.timeout, EOFError):
            break
        if m.get("type") == "events":
            got += len(m["events"])
        elif m.get("type") == "drops":
            lost = m
            if got + m["dropped_events"] >= N_LINES:
                break
    ok(lost is not None and lost["dropped_messages"] > 0 and got + lost["dropped_events"] == N_LINES,
       "the stalled client's stream counts its dropped messages (%s received, %s dropped)"
       % (got, lost and lost["dropped_events"]), lost)
    stalled.close()
    good.close()

    # --- request rate and client limits ---------------------------------------
    limited = rt.Relay(TMP, ["vm1,qmp=unix:" + os.path.join(TMP, "none.qmp")],
                       extra=["--rate", "5", "--max-clients", "1", "--max-connections", "4",
                              "--idle-timeout", "2"], name="limited")
    relays.append(limited)
    statuses = [rt.request(limited, "GET", "/api/v1/vms")[0] for _ in range(30)]
    ok(statuses.count(429) > 0 and statuses[0] == 200, "over --rate: 429", statuses)
    time.sleep(1.5)
    a = rt.WebSocket(limited, "vm1")
    b = rt.WebSocket(limited, "vm1")
    ok(a.status == 101 and b.status == 503, "over --max-clients: 503", (a.status, b.status))
    a.close()
    b.close()
    time.sleep(0.5)
    idle = [rt.connect(limited.port) for _ in range(4)]
    extra = rt.connect(limited.port)
    extra.settimeout(5)
    try:
        data = extra.recv(100)
    except OSError:
        data = b""
    ok(data == b"", "over --max-connections a connection is closed at once", data)
    extra.close()
    t0 = time.time()
    closed = 0
    for s in idle:
        s.settimeout(10)
        try:
            closed += s.recv(100) == b""
        except ConnectionResetError:
            closed += 1
        except OSError:
            pass
        s.close()
    ok(closed == 4 and 1 < time.time() - t0 < 8, "silent connections are closed after --idle-timeout 2 s",
       (closed, time.time() - t0))
    time.sleep(1.1)
    ok(rt.request(limited, "GET", "/api/v1/vms")[0] == 200, "then requests are served again")

    for r in relays:
        ok(r.alive(), "%s never crashed" % os.path.basename(r.token_file), r.stderr()[-2000:])
        rc = r.stop()
        ok(rc == 0, "SIGTERM stops it cleanly (exit %s)" % rc, r.stderr()[-2000:])
finally:
    cleanup()

rt.finish()
