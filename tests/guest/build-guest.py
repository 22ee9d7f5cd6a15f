#!/usr/bin/env python3
# tests/guest/build-guest.py — assemble and cache the integration tests' Linux guest
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Downloads Debian 12's newest kernel package of one series with apt-get
# download, keeps its vmlinuz and the virtio modules the guest needs
# (dependency order from each module's .modinfo "depends="), and packs a
# busybox-static initramfs (newc cpio + gzip, written here: no cpio binary
# needed) around tests/guest/init.sh. Both are cached under
#   $IOVISTA_TEST_CACHE, else $XDG_CACHE_HOME/iovista-tests, else ~/.cache/iovista-tests
# keyed by the kernel package's name and version (and, for the initramfs,
# a hash of its inputs), so only the first run needs the network (and the
# first run after a module was added to WANTED: a cached kernel without it
# is fetched again).
#
# The series (--kernel SERIES, else $IOVISTA_GUEST_KERNEL, else 6.1):
#   6.1   linux-image-6.1.0-N-amd64 (bookworm), the default of every test;
#   6.12  linux-image-6.12.N+deb12-amd64 (bookworm-security), for the
#         virtio-iommu guests: 6.1 has "# CONFIG_VIRTIO_IOMMU is not set".
#         The package's config must have CONFIG_VIRTIO_IOMMU (=m: the
#         virtio_iommu module goes into the initramfs and is loaded first;
#         =y: built in). Its virtio core and virtio_pci are built in, its
#         modules are .ko.xz (decompressed here).
#
# Prints one JSON object on stdout: kernel, initrd, series, package, version,
# kernel_release, modules, builtin, config, cached, seconds. Exit 77 (with the
# reason on stderr) when no kernel package can be had: apt knows none, or the
# download fails and nothing is cached. Exit 1 on any other failure.

import argparse
import fcntl
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
INIT = os.path.join(HERE, "init.sh")
# what the guest loads; their dependencies are added from .modinfo
# (virtio_net: for the VMs with a vhost-user virtio-net-pci, whose traffic
# init.sh starts when the guest has an eth0)
WANTED = ["virtio_pci", "virtio_rng", "virtio_net"]
# the kernel series: "re" matches the package names (group 1 orders them,
# newest first), "search" is the apt-cache pattern, "first" the modules
# loaded before WANTED, each with the config option that must be =m or =y
SERIES = {
    "6.1": {"re": re.compile(r"^linux-image-6\.1\.0-(\d+)-amd64$"),
            "search": r"^linux-image-6\.1\.0-[0-9]+-amd64$", "names": "linux-image-6.1.0-*-amd64",
            "first": []},
    "6.12": {"re": re.compile(r"^linux-image-6\.12\.(\d+)\+deb12-amd64$"),
             "search": r"^linux-image-6\.12\.[0-9]+\+deb12-amd64$", "names": "linux-image-6.12.*+deb12-amd64",
             "first": [("virtio_iommu", "CONFIG_VIRTIO_IOMMU")]},
}
DEFAULT_SERIES = "6.1"


def wanted(series):
    """The modules the guest of this series needs, in load order (each built
    in or shipped as a module)."""
    return [m for m, _ in SERIES[series]["first"]] + WANTED


class Unavailable(Exception):
    """No kernel package can be had: the caller skips."""


def cache_root(explicit=None):
    if explicit:
        return explicit
    if os.environ.get("IOVISTA_TEST_CACHE"):
        return os.environ["IOVISTA_TEST_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "iovista-tests")


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


# --- which kernel ----------------------------------------------------------

def apt_candidates(series):
    """[(abi, package, candidate version)], newest ABI first."""
    if shutil.which("apt-cache") is None:
        return []
    res = run(["apt-cache", "search", "--names-only", SERIES[series]["search"]])
    names = []
    for line in res.stdout.splitlines():
        name = line.split(" - ", 1)[0].strip()
        m = SERIES[series]["re"].match(name)
        if m:
            names.append((int(m.group(1)), name))
    if not names:
        return []
    # one policy call for all: "NAME:" then "  Candidate: VERSION"
    pol = run(["apt-cache", "policy"] + [n for _, n in names]).stdout
    candidate = dict(re.findall(r"^(\S+):\n\s+Installed:.*\n\s+Candidate:\s*(\S+)", pol, re.M))
    return [(abi, name, candidate[name]) for abi, name in sorted(names, reverse=True)
            if candidate.get(name, "(none)") != "(none)"]


def kernel_key(package, version):
    return "%s_%s" % (package, version.replace(":", "%3a"))


def cached_kernels(root, series):
    """[(abi, package, version, dir)] of complete cached kernels of the series, newest first."""
    out = []
    kdir = os.path.join(root, "kernel")
    if not os.path.isdir(kdir):
        return out
    for entry in os.listdir(kdir):
        meta = os.path.join(kdir, entry, "kernel.json")
        if not os.path.exists(meta):
            continue
        with open(meta) as f:
            info = json.load(f)
        m = SERIES[series]["re"].match(info["package"])
        if m:
            out.append((int(m.group(1)), info["package"], info["version"], os.path.join(kdir, entry)))
    return sorted(out, reverse=True)


# --- kernel modules ----------------------------------------------------------

def module_name(path):
    base = os.path.basename(path)
    for ext in (".ko.xz", ".ko.zst", ".ko.gz", ".ko"):
        if base.endswith(ext):
            base = base[: -len(ext)]
            break
    return base.replace("-", "_")


def read_module(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".gz"):
        return gzip.decompress(data)
    if path.endswith(".zst"):
        res = subprocess.run(["zstd", "-dc", path], capture_output=True, check=True)
        return res.stdout
    return data


def modinfo_depends(data):
    m = re.search(rb"(?:^|\0)depends=([^\0]*)\0", data)
    if m is None:
        return []
    return [d.replace("-", "_") for d in m.group(1).decode().split(",") if d]


def builtin_modules(moddir):
    path = os.path.join(moddir, "modules.builtin")
    if not os.path.exists(path):
        return set()
    with open(path) as f:
        return {module_name(line.strip()) for line in f if line.strip()}


def resolve_modules(moddir, want):
    """Returns [(name, bytes)] in load order, built-in modules left out."""
    files = {}
    for dirpath, _, names in os.walk(os.path.join(moddir, "kernel")):
        for n in names:
            if ".ko" in n:
                files[module_name(n)] = os.path.join(dirpath, n)
    builtin = builtin_modules(moddir)
    order, seen = [], set()

    def visit(name, chain):
        if name in seen or name in builtin:
            return
        if name in chain:
            raise RuntimeError("module dependency cycle: %s" % " -> ".join(chain + [name]))
        if name not in files:
            raise RuntimeError("module %s is neither in the package nor built in" % name)
        data = read_module(files[name])
        for dep in modinfo_depends(data):
            visit(dep, chain + [name])
        seen.add(name)
        order.append((name, data))

    for w in want:
        visit(w, [])
    return order


def has_wanted(kdir, series):
    """A cached kernel holds every module the series wants, or has it built
    in (an older cache may not: it has no "builtin" list, and 6.1 builds
    none of WANTED in)."""
    try:
        with open(os.path.join(kdir, "kernel.json")) as f:
            info = json.load(f)
        have = set(info["modules"]) | set(info.get("builtin", []))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return all(w in have for w in wanted(series))


def kernel_config(path):
    """{"CONFIG_X": "y"|"m"|value} of a kernel's config file ("is not set" left out)."""
    conf = {}
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$", line.strip())
            if m:
                conf[m.group(1)] = m.group(2)
    return conf


def fetch_kernel(root, package, version, series):
    """Downloads and unpacks one kernel package into the cache; returns its dir."""
    final = os.path.join(root, "kernel", kernel_key(package, version))
    if has_wanted(final, series):
        return final
    os.makedirs(os.path.join(root, "kernel"), exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fetch-", dir=root) as tmp:
        res = run(["apt-get", "download", "%s=%s" % (package, version)], cwd=tmp)
        debs = [n for n in os.listdir(tmp) if n.endswith(".deb")]
        if res.returncode != 0 or len(debs) != 1:
            msg = (res.stderr.strip().splitlines() or ["no .deb written"])[-1]
            raise Unavailable("apt-get download %s=%s failed: %s" % (package, version, msg))
        deb = os.path.join(tmp, debs[0])
        tree = os.path.join(tmp, "tree")
        subprocess.run(["dpkg-deb", "-x", deb, tree], check=True, capture_output=True)
        kernels = sorted(n for n in os.listdir(os.path.join(tree, "boot")) if n.startswith("vmlinuz-"))
        if len(kernels) != 1:
            raise RuntimeError("%s holds %d vmlinuz files" % (debs[0], len(kernels)))
        release = kernels[0][len("vmlinuz-"):]
        moddir = os.path.join(tree, "lib", "modules", release)
        # the options the series needs, from the package's own config
        config = {}
        needs = SERIES[series]["first"]
        if needs:
            cpath = os.path.join(tree, "boot", "config-" + release)
            if not os.path.exists(cpath):
                raise RuntimeError("%s has no boot/config-%s to check %s in"
                                   % (debs[0], release, ", ".join(o for _, o in needs)))
            conf = kernel_config(cpath)
            for mod, opt in needs:
                config[opt] = conf.get(opt, "not set")
                if config[opt] not in ("m", "y"):
                    raise RuntimeError("%s %s: %s is %s (the %s guest needs it built in or as a module)"
                                       % (package, version, opt, config[opt], series))
        modules = resolve_modules(moddir, wanted(series))
        builtin = sorted(w for w in wanted(series) if w in builtin_modules(moddir))
        out = os.path.join(tmp, "out")
        os.makedirs(os.path.join(out, "modules"))
        shutil.copy(os.path.join(tree, "boot", kernels[0]), os.path.join(out, "vmlinuz"))
        for name, data in modules:
            with open(os.path.join(out, "modules", name + ".ko"), "wb") as f:
                f.write(data)
        with open(os.path.join(out, "kernel.json"), "w") as f:
            json.dump({"package": package, "version": version, "kernel_release": release, "series": series,
                       "modules": [n for n, _ in modules], "builtin": builtin, "config": config,
                       "deb": debs[0]}, f, indent=1)
        # an older copy (without a module WANTED now) goes only once the new
        # one is in place, so its vmlinuz stays readable all along
        old = os.path.join(tmp, "old")
        if os.path.exists(final):
            os.rename(final, old)
        os.rename(out, final)
    return final


# --- initramfs -------------------------------------------------------------

def is_static_elf(data):
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return False
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        ptype, = struct.unpack_from("<I", data, phoff + i * phentsize)
        if ptype == 3:  # PT_INTERP
            return False
    return True


class Newc:
    """A newc ("070701") cpio archive, written in memory."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1

    def _pad(self):
        self.buf.write(b"\0" * (-self.buf.tell() % 4))

    def add(self, name, mode, data=b"", rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 2 if mode & 0o170000 == 0o040000 else 1, 0, len(data),
                  0, 0, rdev[0], rdev[1], len(name_b), 0]
        self.ino += 1
        self.buf.write(b"070701" + b"".join(b"%08x" % v for v in fields))
        self.buf.write(name_b)
        self._pad()
        self.buf.write(data)
        self._pad()

    def dir(self, name):
        self.add(name, 0o040755)

    def file(self, name, data, perm=0o644):
        self.add(name, 0o100000 | perm, data)

    def symlink(self, name, target):
        self.add(name, 0o120777, target.encode())

    def chardev(self, name, perm, major, minor):
        self.add(name, 0o020000 | perm, rdev=(major, minor))

    def finish(self):
        self.add("TRAILER!!!", 0)
        return self.buf.getvalue()


def build_initramfs(root, kdir, busybox):
    with open(os.path.join(kdir, "kernel.json")) as f:
        info = json.load(f)
    with open(busybox, "rb") as f:
        bb = f.read()
    if not is_static_elf(bb):
        raise RuntimeError("%s is not a static x86-64 ELF (install busybox-static)" % busybox)
    with open(INIT, "rb") as f:
        init = f.read()
    with open(os.path.abspath(__file__), "rb") as f:
        me = f.read()
    mods = []
    for name in info["modules"]:
        with open(os.path.join(kdir, "modules", name + ".ko"), "rb") as f:
            mods.append((name, f.read()))
    h = hashlib.sha256()
    for part in [bb, init, me] + [d for _, d in mods]:
        h.update(hashlib.sha256(part).digest())
    path = os.path.join(root, "initramfs", "%s-%s.cpio.gz" % (kernel_key(info["package"], info["version"]),
                                                              h.hexdigest()[:16]))
    if os.path.exists(path):
        return path, True

    a = Newc()
    for d in ("bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"):
        a.dir(d)
    a.chardev("dev/console", 0o600, 5, 1)
    a.chardev("dev/null", 0o666, 1, 3)
    a.file("bin/busybox", bb, 0o755)
    applets = ["sh", "mount", "insmod", "dmesg", "grep", "head", "cat", "cut", "ls", "tr", "dd", "wc",
               "sleep", "poweroff", "echo", "ifconfig", "ping"]
    for applet in applets:
        a.symlink("bin/" + applet, "busybox")
    for name, data in mods:
        a.file("lib/modules/%s.ko" % name, data)
    a.file("lib/modules/order", "".join(n + "\n" for n, _ in mods).encode())
    a.file("init", init, 0o755)
    data = gzip.compress(a.finish(), compresslevel=6, mtime=0)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp%d" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)
    # an older initramfs for the same kernel is stale now
    prefix = kernel_key(info["package"], info["version"]) + "-"
    for n in os.listdir(os.path.dirname(path)):
        if n.startswith(prefix) and n.endswith(".cpio.gz") and n != os.path.basename(path):
            os.unlink(os.path.join(os.path.dirname(path), n))
    return path, False


# --- main ------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description="Assemble (or reuse) the cached Linux guest for the integration tests")
    ap.add_argument("--cache", help="cache directory (default $XDG_CACHE_HOME/iovista-tests)")
    ap.add_argument("--busybox", default=shutil.which("busybox") or "/bin/busybox")
    ap.add_argument("--kernel", choices=sorted(SERIES),
                    default=os.environ.get("IOVISTA_GUEST_KERNEL") or DEFAULT_SERIES,
                    help="kernel series (default $IOVISTA_GUEST_KERNEL, else %s)" % DEFAULT_SERIES)
    args = ap.parse_args()
    series = args.kernel

    t0 = time.monotonic()
    root = cache_root(args.cache)
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time per cache
        candidates = apt_candidates(series)
        cached = cached_kernels(root, series)
        note = None
        kdir = None
        fresh = False
        if candidates:
            _, package, version = candidates[0]
            kdir = os.path.join(root, "kernel", kernel_key(package, version))
            fresh = not has_wanted(kdir, series)
            try:
                kdir = fetch_kernel(root, package, version, series)
            except Unavailable as e:
                if not cached:
                    raise
                note = "%s; using the cached %s %s" % (e, cached[0][1], cached[0][2])
                kdir, fresh = cached[0][3], False
        elif cached:
            note = "apt-cache knows no %s; using the cached %s %s" % (SERIES[series]["names"], cached[0][1],
                                                                      cached[0][2])
            kdir = cached[0][3]
        else:
            raise Unavailable("apt-cache knows no %s package (apt-get update not run?)" % SERIES[series]["names"])
        initrd, initrd_cached = build_initramfs(root, kdir, args.busybox)
    with open(os.path.join(kdir, "kernel.json")) as f:
        info = json.load(f)
    out = {"kernel": os.path.join(kdir, "vmlinuz"), "initrd": initrd, "series": series, "package": info["package"],
           "version": info["version"], "kernel_release": info["kernel_release"], "modules": info["modules"],
           "builtin": info.get("builtin", []), "config": info.get("config", {}),
           "cached": not fresh and initrd_cached, "seconds": round(time.monotonic() - t0, 2)}
    if note:
        out["note"] = note
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main()
    except Unavailable as e:
        print("build-guest: %s" % e, file=sys.stderr)
        sys.exit(77)
