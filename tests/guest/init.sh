#!/bin/sh
# tests/guest/init.sh — /init of the integration tests' guest initramfs
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs on the Debian kernel booted with intel_iommu=on iommu.strict=1 (or,
# on the 6.12 kernel, behind a virtio-iommu): loads the virtio drivers
# listed in /lib/modules/order (dependency order, written by
# build-guest.py; virtio_iommu first when the guest has it), reads
# /dev/hwrng so the virtio-rng device does DMA through the IOMMU, brings
# a virtio-net eth0 up (when the VM has one) and pings through it in the
# background, reports on the serial console and idles. Every line the test
# looks for starts with "IOVISTA-GUEST: ".

export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

say () { echo "IOVISTA-GUEST: $*"; }

say "init uptime=$(cut -d' ' -f1 /proc/uptime) cmdline=$(cat /proc/cmdline)"
if [ -e /sys/class/iommu ] && [ -n "$(ls /sys/class/iommu)" ]; then
  say "iommu units: $(ls /sys/class/iommu | tr '\n' ' ')"
fi

for m in $(cat /lib/modules/order); do
  if insmod /lib/modules/$m.ko; then say "insmod $m ok"; else say "insmod $m failed"; fi
  if [ "$m" = virtio_iommu ]; then
    # the 6.12 guest (virtio-iommu VMs): virtio_pci is built in and bound
    # the endpoints before the IOMMU driver existed, so they DMA without
    # it. Once the virtio-iommu device is probed, rebind every other
    # virtio-pci endpoint: its DMA then goes through the virtio-iommu (the
    # drivers loaded after this, virtio_net among them, bind behind it).
    n=0
    while [ -z "$(ls /sys/class/iommu 2>/dev/null)" ] && [ $n -lt 50 ]; do
      n=$((n + 1))
      sleep 0.1
    done
    for d in /sys/bus/pci/drivers/virtio-pci/0000:*; do
      [ -e "$d" ] || continue
      dev=${d##*/}
      case "$(ls -l $d/virtio*/driver 2>/dev/null)" in
        *virtio_iommu*) say "virtio-iommu at $dev"; continue;;
      esac
      echo $dev > /sys/bus/pci/drivers/virtio-pci/unbind
      if echo $dev > /sys/bus/pci/drivers/virtio-pci/bind; then say "rebind $dev ok"; else say "rebind $dev failed"; fi
    done
  fi
done

# the hwrng core picks the virtio device once its probe has finished
n=0
while [ ! -c /dev/hwrng ] || [ "$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)" = none ]; do
  n=$((n + 1))
  [ $n -gt 50 ] && break
  sleep 0.1
done
say "rng_current=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)"

for g in /sys/kernel/iommu_groups/*; do
  [ -e "$g/type" ] && say "iommu group ${g##*/} type=$(cat $g/type) devices=$(ls $g/devices | tr '\n' ' ')"
done

# a little DMA: every read maps and (iommu.strict=1) unmaps a buffer
bytes=$(dd if=/dev/hwrng bs=64 count=64 2>/dev/null | wc -c)
say "hwrng read bytes=$bytes"

# a virtio-net NIC (the vhost-user tests: dpdk-testpmd behind it answers
# ARP and ping in its icmpecho mode): up, and pinged five times a second in
# the background, so the device keeps mapping and unmapping buffers until
# the test stops QEMU. No replies needed: every sent packet is DMA.
if [ -e /sys/class/net/eth0 ]; then
  if ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up; then say "eth0 up"; else say "eth0 up failed"; fi
  ping -i 0.2 10.0.2.2 >/dev/null 2>&1 &
  say "eth0 pinging 10.0.2.2"
fi

say "idle uptime=$(cut -d' ' -f1 /proc/uptime)"
# the test stops QEMU; power off by ourselves if it never does
sleep 900
poweroff -f
