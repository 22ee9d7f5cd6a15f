# relaytest.py — helpers for the relay tests: a relay process, raw HTTP,
# a minimal WebSocket client, TAP output
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Only loopback addresses are ever used.

import base64
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import time

CLI = os.environ.get("IOVISTA_CLI")

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


def finish():
    print("1..%d" % n)
    sys.exit(1 if failed else 0)


class Relay:
    """iovista-cli relay on 127.0.0.1 with an OS-chosen port."""

    def __init__(self, tmp, vms, extra=(), name="relay"):
        self.token_file = os.path.join(tmp, name + ".token")
        self.stderr_path = os.path.join(tmp, name + ".stderr")
        args = [CLI, "relay", "--listen", "127.0.0.1:0", "--token-file", self.token_file]
        for vm in vms:
            args += ["--vm", vm]
        args += list(extra)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(self.stderr_path, "wb"),
                                     text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError("relay did not start: %r %s" % (line, self.stderr()))
        self.url = line.split()[-1]
        self.stdout_rest = self.proc.stdout.readline()
        self.port = int(self.url.rsplit(":", 1)[1])
        self.https = self.url.startswith("https")
        with open(self.token_file) as f:
            self.token = f.read().strip()

    def stderr(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def connect(port, context=None, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if context is not None:
        s = context.wrap_socket(s, server_hostname="127.0.0.1")
    return s


def read_response(s):
    """Reads one HTTP/1.1 response with a Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        return None, {}, data
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def request(relay, method, path, token=True, body=None, headers=None, context=None):
    s = connect(relay.port, context)
    try:
        h = {"Host": "127.0.0.1:%d" % relay.port, "Connection": "close"}
        if token is True:
            h["Authorization"] = "Bearer " + relay.token
        elif token:
            h["Authorization"] = "Bearer " + token
        if body is not None:
            h["Content-Length"] = str(len(body))
        h.update(headers or {})
        req = "%s %s HTTP/1.1\r\n" % (method, path) + "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
        s.sendall(req.encode() + (body or b""))
        status, headers, data = read_response(s)
        return status, headers, data
    finally:
        s.close()


def get_json(relay, path, context=None):
    status, _, body = request(relay, "GET", path, context=context)
    if status != 200:
        raise RuntimeError("GET %s: %s %r" % (path, status, body[:300]))
    return json.loads(body)


class WebSocket:
    def __init__(self, relay, vm, token=True, rcvbuf=None, context=None):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(10)
        s.connect(("127.0.0.1", relay.port))
        if context is not None:
            s = context.wrap_socket(s, server_hostname="127.0.0.1")
        self.sock = s
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        h = ["GET /api/v1/vms/%s/events HTTP/1.1" % vm, "Host: 127.0.0.1:%d" % relay.port,
             "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + key,
             "Sec-WebSocket-Version: 13"]
        if token is True:
            h.append("Authorization: Bearer " + relay.token)
        elif token:
            h.append("Authorization: Bearer " + token)
        s.sendall(("\r\n".join(h) + "\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else None

    def send_frame(self, opcode, payload, fin=True):
        mask = os.urandom(4)
        b0 = (0x80 if fin else 0) | opcode
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", b0, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", b0, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else \
            (int.from_bytes(payload, "big") ^ int.from_bytes((mask * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")
        self.sock.sendall(head + mask + masked)

    def send_json(self, obj):
        self.send_frame(1, json.dumps(obj).encode())

    def _need(self, k):
        while len(self.buf) < k:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk

    def recv_frame(self):
        """(opcode, payload) of the next whole message (fragments joined)."""
        data = b""
        opcode = None
        while True:
            self._need(2)
            b0, b1 = self.buf[0], self.buf[1]
            n = b1 & 0x7f
            off = 2
            if n == 126:
                self._need(4)
                n = struct.unpack("!H", self.buf[2:4])[0]
                off = 4
            elif n == 127:
                self._need(10)
                n = struct.unpack("!Q", self.buf[2:10])[0]
                off = 10
            self._need(off + n)
            payload = self.buf[off:off + n]
            self.buf = self.buf[off + n:]
            op = b0 & 0x0f
            if op == 9:  # ping → pong
                self.send_frame(10, payload)
                continue
            if op == 10:
                continue
            if op != 0:
                opcode = op
            data += payload
            if b0 & 0x80:
                return opcode, data

    def recv_json(self):
        while True:
            op, data = self.recv_frame()
            if op == 8:
                raise EOFError("closed: %r" % data)
            return json.loads(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def tls_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    return ctx
