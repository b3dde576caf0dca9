#!/usr/bin/env bash
# Stops the simulated hypervisor hosts that tests/hosts/start.sh started in DIR: destroys their
# leftover guests, stops each libvirtd by its pid file, kills what is left in its network
# namespace and deletes the namespace. The state under DIR (definitions, UUIDs) is kept; remove
# DIR yourself for a fresh start. Safe to run twice.
# Usage: tests/hosts/stop.sh DIR
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
[ -d "$1" ] || exit 0
DIR=$(cd "$1" && pwd)

hosts=()
for h in "$DIR"/*/; do
  h=${h%/}
  [ -f "$h/libvirtd.conf" ] && hosts+=("$h")
done

# Guests first (their QEMUs would outlive the daemon), then SIGTERM to every daemon at once: a
# daemon takes about 2 s to wind down.
pids=()
for h in "${hosts[@]}"; do
  uri="qemu+unix:///system?socket=$h/libvirt-sock"
  pid=$(cat "$h/libvirtd.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    for dom in $(timeout 20 virsh -q -c "$uri" list --name 2>/dev/null || true); do
      timeout 20 virsh -q -c "$uri" destroy "$dom" >/dev/null 2>&1 || true
    done
    kill "$pid" 2>/dev/null || true
    pids+=("$pid")
  fi
done
for pid in "${pids[@]}"; do
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
done

for h in "${hosts[@]}"; do
  name=$(basename "$h")
  rm -f "$h/libvirtd.pid"
  ns=$(cat "$h/netns" 2>/dev/null || echo "$name")
  if ip netns list | grep -qw "^$ns"; then
    # QEMUs of guests the daemon could not destroy, or of a daemon that died earlier.
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$ns"
  fi
  echo "stopped host $name"
done
