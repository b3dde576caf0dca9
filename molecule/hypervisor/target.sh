#!/usr/bin/env bash
# The hypervisor scenario's target host: a Debian 12 root run in its own network, mount, UTS and
# PID namespaces, so that its libvirtd, its bridges, firewall rules, sshd and /run/libvirt are its
# own and collide with nothing on this machine (nor with the machine's own libvirtd).
#
#   target.sh up      unpack a fresh root (from the cached tarball, built once), start the namespaces
#   target.sh down    stop everything running in the target, drop its namespaces, remove the root
#   target.sh exec CMD...   run a command inside the target (what the scenario's connection does)
#
# The tarball (mmdebstrap minbase + python3, python3-apt and a kernel in /boot for the KVM probe,
# as a real host has one) is cached under ${CONVERGE_VIRT_CACHE:-~/.cache/converge-virt}/hvrole-target/,
# keyed by this file's hash; the .debs the role installs are kept there too (apt's archive dir is
# bind-mounted), so only the first run downloads them. Each `up` starts from a clean root: the
# role installs libvirt from the Debian mirror in every run.
#
# Layout of the running target (state dir, default /var/tmp/hvrole-target):
#   root/        the target's file system (its /proc, /sys, /dev, /run are mounted only inside
#                the target's own mount namespace, never on this machine's)
#   init.pid     host pid of the target's PID 1 (a reaper); every command enters its namespaces
#   apt_proxy.pid  the target's way to the Debian mirror (apt_proxy.py: on the target's loopback,
#                GET/HEAD to the mirror host only)
# The network namespace is named hvrole-target; it has only a loopback: nothing the target runs
# reaches beyond the machine, except apt's requests to the mirror through the proxy.
set -euo pipefail

STATE=${HVROLE_TARGET_STATE:-/var/tmp/hvrole-target}
NETNS=${HVROLE_TARGET_NETNS:-hvrole-target}
CACHE=${CONVERGE_VIRT_CACHE:-$HOME/.cache/converge-virt}/hvrole-target
ROOT=$STATE/root
MIRROR=http://deb.debian.org
SELF=$(readlink -f "${BASH_SOURCE[0]}")
HERE=$(dirname "$SELF")
PROXY_PORT=3142

log() { printf '[hvrole-target %3ds] %s\n' "$SECONDS" "$*" >&2; }
die() { printf '[hvrole-target] ERROR: %s\n' "$*" >&2; exit 1; }

tarball() {
  local key
  # Keyed by the recipe: editing the rest of this script does not rebuild the root.
  key=$( (declare -f build_tarball; echo "$MIRROR") | sha256sum | cut -c1-12)
  echo "$CACHE/debian12-$key.tar"
}

build_tarball() {
  local tar=$1 kernel
  mkdir -p "$CACHE"
  kernel=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | sed -n 's/^ *Depends: //p' | head -1)
  [ -n "$kernel" ] || { apt-get update -qq >&2; kernel=$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/^ *Depends: //p' | head -1); }
  [ -n "$kernel" ] || die "cannot resolve the Debian cloud kernel package (apt-cache depends linux-image-cloud-amd64)"
  log "building the target's root with mmdebstrap (once; kernel $kernel for /boot)"
  # The kernel is unpacked, not installed (no initramfs, no modules needed): the probe boots it bare.
  # shellcheck disable=SC2016 # "$1" is the hook's argument (the root), expanded by mmdebstrap's shell
  mmdebstrap --quiet --variant=minbase --include=python3,python3-apt,procps \
    --customize-hook='chroot "$1" sh -c "cd /tmp && apt-get -q download '"$kernel"' >/dev/null && dpkg-deb --fsys-tarfile /tmp/'"$kernel"'_*.deb | tar -x -C / ./boot && rm -f /tmp/*.deb"' \
    bookworm "${tar%.tar}.partial.tar" \
    "deb $MIRROR/debian bookworm main" "deb $MIRROR/debian bookworm-updates main" \
    "deb $MIRROR/debian-security bookworm-security main" >&2
  mv "${tar%.tar}.partial.tar" "$tar"
}

# Commands run in the target: its namespaces, its root, a clean environment.
enter() {
  local pid
  pid=$(cat "$STATE/init.pid" 2>/dev/null) || die "the target is not up (no $STATE/init.pid)"
  exec nsenter -t "$pid" --net --mount --uts --pid --ipc -- chroot "$ROOT" \
    /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LANG=C.UTF-8 TERM=dumb "$@"
}

# PID 1 of the target: mounts its pseudo file systems (from inside its namespaces, so /proc shows
# the target's processes and /sys its network devices), then reaps orphans forever.
init_script() {
  cat <<'EOF'
set -e
R=$1
hostname hvrole-target
mount --make-rprivate /
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
# A private /dev as a container has: no udev, so device nodes keep root:root 0600 unless the
# role fixes them (it gives /dev/kvm the kvm group, as udev would).
mount -t tmpfs -o mode=0755,nosuid dev "$R/dev"
mknod -m 666 "$R/dev/null" c 1 3; mknod -m 666 "$R/dev/zero" c 1 5; mknod -m 666 "$R/dev/full" c 1 7
mknod -m 666 "$R/dev/random" c 1 8; mknod -m 666 "$R/dev/urandom" c 1 9; mknod -m 666 "$R/dev/tty" c 5 0
if [ -c /dev/kvm ]; then mknod -m 600 "$R/dev/kvm" c 10 232; fi
mkdir -p "$R/dev/net" "$R/dev/pts" "$R/dev/shm"
mknod -m 666 "$R/dev/net/tun" c 10 200
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o mode=1777 shm "$R/dev/shm"
mount -t tmpfs -o mode=0755 run "$R/run"
mkdir -p "$R/run/lock"
mount --bind "$2" "$R/var/cache/apt/archives"
touch "$3"
exec python3 -c '
import os, time
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(1)
'
EOF
}

up() {
  [ "$(id -u)" -eq 0 ] || die "must run as root"
  if [ -f "$STATE/init.pid" ] && [ -d "/proc/$(cat "$STATE/init.pid")" ]; then
    log "already up"; return 0
  fi
  down quiet
  local tar
  tar=$(tarball)
  [ -f "$tar" ] || build_tarball "$tar"
  mkdir -p "$ROOT" "$CACHE/apt-archives/partial"
  log "unpacking the root into $ROOT"
  tar -xf "$tar" -C "$ROOT"
  # The mirror only: this machine's other apt sources are not the target's business.
  rm -f "$ROOT"/etc/apt/sources.list.d/*
  # A kernel under /boot, as a real host has, for the role's KVM probe (a test guest must boot under
  # KVM): the test guests' kernel, from the package hack/guest-images.sh caches (built if missing).
  local kdeb
  local debs=${CONVERGE_VIRT_CACHE:-$HOME/.cache/converge-virt}/guest-images/debs
  kdeb=$(find "$debs" -maxdepth 1 -name 'linux-image-*.deb' 2>/dev/null | sort | tail -1)
  if [ -z "$kdeb" ]; then
    bash "$HERE/../../hack/guest-images.sh" tiny >/dev/null
    kdeb=$(find "$debs" -maxdepth 1 -name 'linux-image-*.deb' | sort | tail -1)
  fi
  [ -n "$kdeb" ] || die "no kernel package under $debs (hack/guest-images.sh tiny should have cached one)"
  mkdir -p "$ROOT/boot"
  dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$ROOT" --wildcards './boot/vmlinuz-*'
  log "probe kernel: $(cd "$ROOT" && ls boot/vmlinuz-*)"
  # apt-get keeps the .debs it downloads (in the bind-mounted cache); docker-style clean hooks would not.
  rm -f "$ROOT/etc/apt/apt.conf.d/docker-clean"
  ip netns add "$NETNS"
  ip -n "$NETNS" link set lo up
  # apt's only way out: a proxy listening on the target's loopback that fetches from the mirror.
  printf 'Acquire::http::Proxy "http://127.0.0.1:%s";\n' "$PROXY_PORT" > "$ROOT/etc/apt/apt.conf.d/01hvrole-proxy"
  # This machine's mirror may serve Release files past their Valid-Until; its apt is told so, and the target's as well.
  apt-config dump | grep -E '^Acquire::Check-(Valid-Until|Date) ' >> "$ROOT/etc/apt/apt.conf.d/01hvrole-proxy" || true
  setsid nohup python3 "$HERE/apt_proxy.py" "/run/netns/$NETNS" "$PROXY_PORT" "${MIRROR#http://}" \
    > "$STATE/apt_proxy.log" 2>&1 < /dev/null &
  echo $! > "$STATE/apt_proxy.pid"
  local _
  for _ in $(seq 1 200); do
    ip netns exec "$NETNS" bash -c "echo > /dev/tcp/127.0.0.1/$PROXY_PORT" 2>/dev/null && break
    sleep 0.1
  done
  rm -f "$STATE/ready"
  # setsid + nohup: the target outlives this script and the playbook that started it.
  setsid nohup ip netns exec "$NETNS" unshare --pid --fork --mount --uts --ipc --propagation private \
    bash -c "$(init_script)" init "$ROOT" "$CACHE/apt-archives" "$STATE/ready" \
    > "$STATE/init.log" 2>&1 < /dev/null &
  # setsid, nohup and ip exec each other; unshare forks: its child is PID 1 of the target.
  local launcher=$! pid=""
  for _ in $(seq 1 300); do
    [ -f "$STATE/ready" ] && break
    sleep 0.1
  done
  [ -f "$STATE/ready" ] || die "the target did not come up: $(cat "$STATE/init.log")"
  pid=$(pgrep -P "$launcher" | head -1)
  [ "$(readlink "/proc/$pid/ns/pid")" != "$(readlink /proc/self/ns/pid)" ] || die "could not find the target's PID 1"
  echo "$pid" > "$STATE/init.pid"
  log "up: netns $NETNS, PID 1 of the target is host pid $pid"
}

down() {
  local quiet=${1:-} pid pids _
  pid=$(cat "$STATE/init.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
    # The daemons first, politely (libvirtd stops its guests' monitors, dnsmasq its leases) ...
    pids=$(pgrep --ns "$pid" --nslist pid 2>/dev/null | grep -vx "$pid" || true)
    [ -z "$pids" ] || xargs -r kill -TERM <<< "$pids" 2>/dev/null || true
    for _ in $(seq 1 50); do
      pids=$(pgrep --ns "$pid" --nslist pid 2>/dev/null | grep -vx "$pid" || true)
      [ -z "$pids" ] && break
      sleep 0.1
    done
    # ... then PID 1: the kernel kills whatever is left in the namespace with it, and the mount
    # namespace (with every mount under the root) goes away when its last process does.
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  fi
  rm -f "$STATE/init.pid" "$STATE/ready"
  pid=$(cat "$STATE/apt_proxy.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && grep -q apt_proxy.py "/proc/$pid/cmdline" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
  rm -f "$STATE/apt_proxy.pid"
  if ip netns list | grep -qw "^$NETNS"; then ip netns del "$NETNS"; fi
  if [ -d "$ROOT" ]; then
    # Never remove a tree that still has something mounted in this machine's namespace.
    if findmnt -rno TARGET | grep -q "^$ROOT\(/\|$\)"; then die "something is still mounted under $ROOT"; fi
    rm -rf "$ROOT"
  fi
  [ -n "$quiet" ] || log "down: the target's processes stopped, netns $NETNS removed, root removed (cache kept)"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  exec) shift; enter "$@" ;;
  *) die "usage: $0 up|down|exec CMD..." ;;
esac
