# build-aux/deps.sh — shared by build-aux/run and build-aux/test
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Debian 12 / Ubuntu 24.04 package names.

RUN_PACKAGES=(
  meson ninja-build pkg-config gcc gettext
  libglib2.0-dev libglib2.0-dev-bin libjson-glib-dev
  libgtk-4-dev libadwaita-1-dev libsoup-3.0-dev
  desktop-file-utils appstream
)

TEST_PACKAGES=(
  xvfb xauth dbus
  qemu-system-x86 qemu-utils busybox-static cpio xz-utils
  clang libclang-rt-14-dev
  glib-networking openssl socat imagemagick
  python3
  dpdk-dev debootstrap
)

# Installs whatever of the named packages is missing: as root directly,
# otherwise through sudo. Prints the list first; does nothing when all are
# present.
iov_install_packages () {
  local missing=() pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0

  echo "Installing missing packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "error: not root and no sudo: install these packages first: ${missing[*]}" >&2
      return 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  # clang's runtime carries the LLVM major in its name; fall back to the
  # distribution's default when 14 is not available (Ubuntu 24.04 has 18).
  local avail=() p
  for p in "${missing[@]}"; do
    if [ "$p" = libclang-rt-14-dev ] && ! apt-cache show "$p" >/dev/null 2>&1; then
      p=libclang-rt-dev
    fi
    avail+=("$p")
  done
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${avail[@]}"
}

# Runs a command as root: directly, or through sudo.
iov_as_root () {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "error: not root and no sudo: cannot run $*" >&2
    return 1
  fi
}

iov_setup_build () {
  local builddir=$1; shift
  if [ ! -f "$builddir/build.ninja" ]; then
    meson setup "$builddir" "$@"
  fi
  meson compile -C "$builddir"
}
