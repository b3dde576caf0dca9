#!/usr/bin/env bash
# Runs inside a host's fresh mount + UTS namespace (under `ip netns exec`, which mounted a sysfs
# of the host's network namespace): bind-mount the host's own libvirt directories and fake size
# files, set its hostname, start its libvirtd. Called by start.sh only.
set -euo pipefail
h=$1 name=$2
hostname "$name"
mount --bind "$h/etc" /etc/libvirt
mount --bind "$h/run" /run/libvirt
mount --bind "$h/lib" /var/lib/libvirt
mount --bind "$h/cache" /var/cache/libvirt
mount --bind "$h/log" /var/log/libvirt
# Size: /proc/meminfo, node meminfo, and the cpu and node trees together (libvirt and libnuma
# cross-check them).
mount --bind "$h/fake/meminfo" /proc/meminfo
mount --bind "$h/fake/cpu" /sys/devices/system/cpu
mount --bind "$h/fake/node" /sys/devices/system/node
exec libvirtd -d -f "$h/libvirtd.conf" -p "$h/libvirtd.pid"
