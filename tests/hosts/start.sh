#!/usr/bin/env bash
# Starts three simulated hypervisor hosts on this machine: one libvirtd per host, each in its own
# network + mount + UTS namespace, with its own /etc/libvirt, /run/libvirt, /var/lib/libvirt,
# /var/cache/libvirt and /var/log/libvirt (directories under DIR), hostname, host UUID and size:
#
#   ${PREFIX}1: 2 CPUs, 2 GiB    ${PREFIX}2: 4 CPUs, 4 GiB    ${PREFIX}3: 8 CPUs, 8 GiB
#
# Usage: tests/hosts/start.sh DIR [PREFIX]      (root; PREFIX defaults to "cvhv")
#
# Writes DIR/hosts.json, a list of {name, uri, migrate_uri, disks_uri}: a hypervisor list for the
# collection's `hypervisors` options. Idempotent: a running host is left alone, a dead one is
# restarted (its domains, pools and UUID are kept under DIR). Sets with different DIR and PREFIX
# coexist (the network namespaces are named after the hosts). tests/hosts/stop.sh DIR stops a set.
# See tests/hosts/README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../hack/lib.sh
source "$HERE/../../hack/lib.sh"

if [ $# -lt 1 ] || [ $# -gt 2 ]; then cv_die "usage: $0 DIR [PREFIX]"; fi
[ "$(id -u)" -eq 0 ] || cv_die "$0 must run as root (network namespaces, bind mounts, libvirtd)"
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
PREFIX=${2:-cvhv}
[[ "$PREFIX" =~ ^[A-Za-z0-9_.-]{1,40}$ ]] || cv_die "PREFIX must match [A-Za-z0-9_.-]{1,40}: $PREFIX"
case "$DIR" in
  /etc/libvirt*|/run/libvirt*|/var/lib/libvirt*|/var/cache/libvirt*|/var/log/libvirt*)
    cv_die "DIR must not be under a directory the hosts bind-mount over: $DIR" ;;
esac
# Unix socket paths are limited to 107 bytes: DIR/<name>/<socket name>.
[ ${#DIR} -le 60 ] || cv_die "DIR is too long for unix socket paths (max 60 characters): $DIR"

cv_install_debs            # libvirt, QEMU, iproute2 (ip netns), util-linux (unshare)
cv_start_libvirtd          # the system daemon fills the QEMU capabilities cache we copy
# On a fresh machine the system daemon probes QEMU lazily: make it fill its cache now, once.
if ! ls /var/cache/libvirt/qemu/capabilities/*.xml >/dev/null 2>&1; then
  virsh -q -c qemu:///system domcapabilities --virttype qemu >/dev/null 2>&1 || true
fi
command -v python3 >/dev/null || cv_die "python3 is needed to write hosts.json"

exec 9>"$DIR/.start.lock"
flock -w 120 9 || cv_die "another start.sh holds $DIR/.start.lock"

SIZES=("1 2 2" "2 4 4" "3 8 8")    # index, CPUs, GiB

uri_of() { echo "qemu+unix:///system?socket=$DIR/$1/libvirt-sock"; }

host_alive() {  # NAME: its libvirtd runs and answers
  local pid
  pid=$(cat "$DIR/$1/libvirtd.pid" 2>/dev/null) || return 1
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then return 1; fi
  timeout 10 virsh -q -c "$(uri_of "$1")" version >/dev/null 2>&1
}

# write_fake_sys ROOT CPUS GIB: the sysfs and procfs files libvirt reads for a host's size.
write_fake_sys() {
  local root=$1 cpus=$2 gib=$3 last kib free_kib mask i f
  last=$((cpus - 1)); kib=$((gib * 1024 * 1024)); free_kib=$((kib - 262144))
  mask=$(printf '%x' $(((1 << cpus) - 1)))
  rm -rf "$root"
  mkdir -p "$root/cpu" "$root/node/node0"
  for f in online possible present; do echo "0-$last" >"$root/cpu/$f"; done
  echo 255 >"$root/cpu/kernel_max"; echo >"$root/cpu/offline"; echo >"$root/cpu/isolated"
  for ((i = 0; i < cpus; i++)); do
    f="$root/cpu/cpu$i/topology"; mkdir -p "$f"
    echo 1 >"$root/cpu/cpu$i/online"
    echo 0 >"$f/physical_package_id"; echo 0 >"$f/die_id"; echo "$i" >"$f/core_id"
    echo 65535 >"$f/cluster_id"
    printf '%x\n' $((1 << i)) | tee "$f/thread_siblings" "$f/core_cpus" "$f/cluster_cpus" >/dev/null
    echo "$i" | tee "$f/thread_siblings_list" "$f/core_cpus_list" "$f/cluster_cpus_list" >/dev/null
    echo "$mask" | tee "$f/core_siblings" "$f/package_cpus" "$f/die_cpus" >/dev/null
    echo "0-$last" | tee "$f/core_siblings_list" "$f/package_cpus_list" "$f/die_cpus_list" >/dev/null
    ln -s ../../node/node0 "$root/cpu/cpu$i/node0"
    ln -s "../../cpu/cpu$i" "$root/node/node0/cpu$i"
  done
  for f in online possible has_cpu has_memory has_normal_memory; do echo 0 >"$root/node/$f"; done
  echo "0-$last" >"$root/node/node0/cpulist"; echo "$mask" >"$root/node/node0/cpumap"
  echo 10 >"$root/node/node0/distance"
  for f in hugepages-2048kB hugepages-1048576kB; do
    mkdir -p "$root/node/node0/hugepages/$f"
    for i in nr_hugepages free_hugepages surplus_hugepages; do echo 0 >"$root/node/node0/hugepages/$f/$i"; done
  done
  {
    printf 'Node 0 MemTotal:       %d kB\n' "$kib"
    printf 'Node 0 MemFree:        %d kB\n' "$free_kib"
    printf 'Node 0 MemUsed:        %d kB\n' $((kib - free_kib))
    printf 'Node 0 FilePages:      0 kB\nNode 0 HugePages_Total:     0\nNode 0 HugePages_Free:      0\nNode 0 HugePages_Surp:      0\n'
  } >"$root/node/node0/meminfo"
  {
    printf 'MemTotal:       %d kB\nMemFree:        %d kB\nMemAvailable:   %d kB\n' "$kib" "$free_kib" "$free_kib"
    printf 'Buffers:               0 kB\nCached:                0 kB\nSwapCached:            0 kB\n'
    printf 'SwapTotal:             0 kB\nSwapFree:              0 kB\n'
    printf 'HugePages_Total:       0\nHugePages_Free:        0\nHugePages_Rsvd:        0\nHugePages_Surp:        0\n'
    printf 'Hugepagesize:       2048 kB\n'
  } >"$root/meminfo"
}

start_host() {  # INDEX CPUS GIB
  local name="$PREFIX$1" cpus=$2 gib=$3 h ns uuid d
  h="$DIR/$name"; ns="$name"
  if host_alive "$name"; then
    cv_log "host $name already runs"
    return 0
  fi
  cv_log "starting host $name ($cpus CPUs, $gib GiB)"
  # A dead host: clear what its daemon and guests left behind, keep its state.
  if [ -f "$h/libvirtd.pid" ]; then
    kill "$(cat "$h/libvirtd.pid")" 2>/dev/null || true
    rm -f "$h/libvirtd.pid"
  fi
  if ip netns list | grep -qw "^$ns"; then
    # Another set with the same PREFIX (another DIR) owns this namespace: leave it alone.
    for d in $(ip netns pids "$ns" 2>/dev/null); do
      if tr '\0' ' ' <"/proc/$d/cmdline" 2>/dev/null | grep -q "libvirtd .*-f " \
         && ! tr '\0' ' ' <"/proc/$d/cmdline" 2>/dev/null | grep -qF -- "-f $h/libvirtd.conf "; then
        cv_die "network namespace $ns belongs to another set of hosts (libvirtd pid $d): use another PREFIX"
      fi
    done
    # Stray QEMUs of a dead daemon: the restarted daemon cannot reattach without its run dir.
    for d in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$d" 2>/dev/null || true; done
  else
    ip netns add "$ns"
  fi
  ip -n "$ns" link set lo up
  rm -rf "$h/run" "$h"/libvirt-sock* "$h"/*.sock
  for d in etc run lib cache log; do mkdir -p "$h/$d"; done
  mkdir -p "$h/cache/qemu/capabilities"
  # What the Debian packages create and libvirtd does not: QEMU's log directory (guests' console
  # logs go there by default) and the default images directory.
  mkdir -p "$h/log/qemu" "$h/lib/images"
  # A copied capabilities cache starts the daemon in ~0.2 s instead of an ~8 s QEMU probe.
  cp -p /var/cache/libvirt/qemu/capabilities/*.xml "$h/cache/qemu/capabilities/" 2>/dev/null || true
  [ -s "$h/host_uuid" ] || cat /proc/sys/kernel/random/uuid >"$h/host_uuid"
  uuid=$(cat "$h/host_uuid")
  echo "$ns" >"$h/netns"
  write_fake_sys "$h/fake" "$cpus" "$gib"
  cat >"$h/libvirtd.conf" <<CONF
# $name: generated by tests/hosts/start.sh
unix_sock_dir = "$h"
unix_sock_group = "root"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
host_uuid = "$uuid"
log_outputs = "3:file:$h/log/libvirtd.log"
CONF
  cat >"$h/etc/qemu.conf" <<CONF
# $name: generated by tests/hosts/start.sh
stdio_handler = "file"
security_driver = "none"
user = "root"
group = "root"
CONF
  # 9>&-: the daemon must not inherit (and hold forever) the start lock.
  ip netns exec "$ns" unshare --mount --uts --propagation private \
    bash "$HERE/host-init.sh" "$h" "$name" >"$h/start.log" 2>&1 9>&- \
    || { cat "$h/start.log" >&2; cv_die "host $name did not start (see $h/start.log, $h/log/libvirtd.log)"; }
  local _
  for _ in $(seq 1 120); do
    host_alive "$name" && return 0
    sleep 0.25
  done
  tail -n 30 "$h/log/libvirtd.log" >&2 2>/dev/null || true
  cv_die "host $name: libvirtd does not answer on $(uri_of "$name") (see $h/log/libvirtd.log)"
}

for s in "${SIZES[@]}"; do
  # shellcheck disable=SC2086
  start_host $s
done

python3 - "$DIR" "$PREFIX" <<'PY'
import json, sys
d, prefix = sys.argv[1], sys.argv[2]
hosts = []
for i in (1, 2, 3):
    name = "%s%d" % (prefix, i)
    hosts.append({
        "name": name,
        "uri": "qemu+unix:///system?socket=%s/%s/libvirt-sock" % (d, name),
        "migrate_uri": "unix://%s/%s/migrate.sock" % (d, name),
        "disks_uri": "unix://%s/%s/nbd.sock" % (d, name),
    })
with open(d + "/hosts.json.tmp", "w") as f:
    json.dump(hosts, f, indent=2)
    f.write("\n")
PY
mv "$DIR/hosts.json.tmp" "$DIR/hosts.json"
cv_log "hosts up: $DIR/hosts.json"
