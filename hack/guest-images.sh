#!/usr/bin/env bash
# Build and cache the small guest disk images the tests boot.
#
#   bash hack/guest-images.sh tiny|debian|all
#
# stdout: one absolute path per requested image (tiny first), nothing else; logs go to stderr.
# Cache:  ${CONVERGE_VIRT_CACHE:-$HOME/.cache/converge-virt}/guest-images/{tiny,debian}-<key>.qcow2
#         <key> = hash of this file + the exact kernel package name and version, so editing this
#         script (or a new kernel in the apt lists) builds new images; old ones are left alone
#         because running test guests may still use them as backing files.
# Env:    CONVERGE_VIRT_IMAGE_SMOKE=0 skips the smoke boot that every fresh image must pass
#         before it is published (default: on).
#
# Both images: qcow2 (compressed), MBR + one ext4 partition, extlinux (BIOS), kernel and init on
# the serial console ttyS0 at 115200. Domains that boot them need, besides a virtio (or SATA)
# disk: <os><bios useserial='yes'/></os> (else SeaBIOS and syslinux print nothing without
# graphics), a <serial> device (the guest's /dev/console is ttyS0), and for the debian image
# <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>.
#
# Kernel: Debian's *generic* kernel (the exact package that linux-image-amd64 depends on), not
# the cloud one: linux-image-cloud-amd64 is built without SATA_AHCI, so on q35 (whose only
# CD-ROM bus is the ICH9 AHCI controller) a SATA seed CD-ROM is invisible to it. The price is
# ~1-3 s more per boot under TCG (the generic bzImage is xz-compressed, the cloud one lz4).
#
# Measured on this machine kind (2 cores, TCG, q35; wide spread: other VMs share the 2 cores):
#   build, cold (empty cache, host packages present), each including its smoke boot:
#     tiny 17-22 s (smoke ~10 s); debian 2-4 min (mmdebstrap ~65 s, smoke 35-115 s).
#   cached (paths only): ~1 s (apt-cache lookups for the key).
#   tiny:   `virsh start` -> CVT-READY 7.6-12 s (1 vCPU, 256 MiB, SATA seed CD-ROM, two virtio
#           disks, DHCP on an isolated libvirt network; dnsmasq adds ~3 s for a never-seen MAC
#           unless the network has dnsmasq option no-ping); ACPI shutdown ~2 s; 11 MiB qcow2.
#   debian: `virsh start` -> `cloud-init status` done in 46 s (2 vCPUs, 1 GiB, idle host) to
#           130-200 s (load 5-8 on the 2 cores); ACPI shutdown 6-8 s; 154 MiB qcow2.
set -eEuo pipefail

# Everything but the final paths goes to stderr: fd 3 is the real stdout.
exec 3>&1 1>&2

SELF=$(readlink -f "${BASH_SOURCE[0]}")
CACHE_DIR=${CONVERGE_VIRT_CACHE:-$HOME/.cache/converge-virt}/guest-images
KERNEL_META=linux-image-amd64
SMOKE=${CONVERGE_VIRT_IMAGE_SMOKE:-1}

# Modules the tiny image loads (with their dependencies), in this order. sr_mod and friends come
# before the host adapters so the CD-ROM is bound while the adapter probes (module loading waits
# for the probe), which makes every disk visible before /init looks for the seed.
TINY_MODULES=(
  virtio_pci virtio_balloon virtio_console virtio_rng
  evdev button
  virtio_net
  sd_mod sr_mod cdrom isofs vfat nls_cp437 nls_ascii nls_iso8859-1 nls_utf8
  virtio_blk virtio_scsi ahci ata_piix
)
# Modules the debian image's initramfs (MODULES=list) force-loads to find its root disk.
DEBIAN_INITRD_MODULES=(virtio_pci virtio_blk virtio_scsi sd_mod ahci ata_piix ext4)

log() { printf '[guest-images %3ds] %s\n' "$SECONDS" "$*" >&2; }
die() { printf '[guest-images] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
  printf 'usage: %s tiny|debian|all\n' "${0##*/}" >&2
  exit 2
}

# --- cleanup: temp dirs, loop mounts and smoke-boot QEMUs of this run ------------------------
CLEANUP_DIRS=()
CLEANUP_PIDS=()
cleanup() {
  local pid dir
  for pid in "${CLEANUP_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for dir in "${CLEANUP_DIRS[@]}"; do remove_build_dir "$dir"; done
}
trap cleanup EXIT
# set -E: also report failures inside functions (the builds run under plain set -e, never in an
# `|| die` context, where bash would silently ignore errexit inside the whole function).
trap 'log "failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

# A build dir may hold a mounted filesystem (also one left by a killed run): unmount first, and
# never let rm cross into a mount.
remove_build_dir() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if [ -d "$dir/mnt" ] && mountpoint -q "$dir/mnt"; then
    umount -R "$dir/mnt" 2>/dev/null || umount -R -l "$dir/mnt" 2>/dev/null || true
  fi
  rm -rf --one-file-system "$dir" || log "could not remove $dir"
}

# --- host packages ---------------------------------------------------------------------------
apt_retry() {
  local try
  for try in 1 2 3 4 5; do
    if DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 "$@" >&2; then
      return 0
    fi
    log "apt-get $1 failed (attempt $try), retrying in 10 s"
    sleep 10
  done
  return 1
}

ensure_debs() {
  local pkg missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages: ${missing[*]} (run as root)"
  log "installing ${missing[*]}"
  apt_retry install -y --no-install-recommends "${missing[@]}" || {
    apt_retry update && apt_retry install -y --no-install-recommends "${missing[@]}"
  } || die "could not install ${missing[*]}"
}

# --- kernel and cache key --------------------------------------------------------------------
# Sets KPKG (e.g. linux-image-6.1.0-56-amd64), KVER (package version) and KEY. Only reads the
# host's apt lists, so a cached image is found without touching the network.
resolve_kernel() {
  KPKG="" KVER=""
  # One apt-cache call (each costs ~1 s): the metapackage pins its kernel with "(= version)".
  read -r KPKG KVER < <(apt-cache show --no-all-versions "$KERNEL_META" 2>/dev/null | awk '
    /^Depends:/ && !done {
      sub(/^Depends: */, ""); n = split($0, d, /, */)
      for (i = 1; i <= n && !done; i++) if (d[i] ~ /^linux-image-/) {
        name = d[i]; sub(/ .*/, "", name); ver = ""
        if (match(d[i], /\(= [^)]*\)/)) ver = substr(d[i], RSTART + 3, RLENGTH - 4)
        print name, ver; done = 1
      }
    }') || true
  if [ -n "$KPKG" ] && [ -z "$KVER" ]; then
    KVER=$(apt-cache policy "$KPKG" 2>/dev/null | awk '$1 == "Candidate:" && !n++ { print $2 }')
  fi
  if [ -z "$KPKG" ] || [ -z "$KVER" ] || [ "$KVER" = "(none)" ]; then
    return 1
  fi
  KEY=$( { cat "$SELF"; printf '\n%s=%s\n' "$KPKG" "$KVER"; } | sha256sum | cut -c1-16)
}

# The tiny image's kernel .deb, downloaded once per version (never installed on the host); older
# versions are dropped. (The debian image installs the same package inside its chroot.)
fetch_kernel_deb() {
  local debs=$CACHE_DIR/debs
  KDEB=$debs/${KPKG}_${KVER//:/%3a}_amd64.deb
  mkdir -p "$debs"
  (
    flock 9
    [ -s "$KDEB" ] && exit 0
    local tmp
    tmp=$(mktemp -d "$debs/.dl.XXXXXX")
    log "downloading $KPKG=$KVER"
    if (cd "$tmp" && apt-get -q -o APT::Sandbox::User=root download "$KPKG=$KVER" >&2); then
      find "$debs" -maxdepth 1 -name 'linux-image-*.deb' -delete
      mv -f "$tmp"/*.deb "$KDEB"
      rm -rf "$tmp"
    else
      rm -rf "$tmp"
      exit 1
    fi
  ) 9>"$CACHE_DIR/.lock-debs"
}

# Unpacks the kernel (dpkg-deb -x, not installed) into $1; sets KREL (uname -r of it).
unpack_kernel() {
  local root=$1
  dpkg-deb -x "$KDEB" "$root"
  KREL=$(ls "$root/lib/modules")
  if [ -z "$KREL" ] || [ ! -f "$root/boot/vmlinuz-$KREL" ]; then
    die "unexpected layout in $KDEB"
  fi
  # The package leaves modules.dep to its postinst: generate it so modprobe can resolve deps.
  depmod -b "$root" "$KREL"
}

# --- disk assembly shared by both images -----------------------------------------------------
# Makes an ext4 filesystem image $1 of $2 MiB and mounts it on $3.
make_ext4_mounted() {
  local img=$1 mib=$2 mnt=$3 label=$4
  truncate -s "${mib}M" "$img"
  # Initialise inode tables now, or ext4lazyinit does it inside every guest's first minutes.
  mkfs.ext4 -q -F -L "$label" -E lazy_itable_init=0,lazy_journal_init=0 "$img"
  mkdir -p "$mnt"
  mount -o loop "$img" "$mnt" || die "cannot loop-mount $img (needs root and /dev/loop*)"
}

# Installs extlinux into the mounted filesystem $1 with config text $2, unmounts it, and wraps
# partition image $3 into an MBR disk (partition 1 at 1 MiB, bootable), converted to qcow2 $4.
finish_disk() {
  local mnt=$1 conf=$2 part=$3 out=$4
  local raw=${part%.*}.disk mib
  mkdir -p "$mnt/boot/extlinux"
  printf '%s\n' "$conf" >"$mnt/boot/extlinux/extlinux.conf"
  # extlinux maps its files by block, it cannot read through holes: nothing under /boot may be
  # sparse (files copied with cp and written by dpkg are not; mkfs.ext4 -d would make holes).
  # "unable to obtain device geometry" is expected on a loop device and harmless.
  extlinux --install "$mnt/boot/extlinux" 2>&1 | sed 's/^/  extlinux: /' >&2
  # Blocks freed during the build (apt's downloaded .debs) still hold data that qemu-img would
  # copy: discard them (the loop device punches holes), or overwrite them with zeros.
  if ! fstrim "$mnt" 2>/dev/null; then
    dd if=/dev/zero of="$mnt/.zero" bs=1M status=none 2>/dev/null || true
    rm -f "$mnt/.zero"
  fi
  sync
  umount "$mnt"
  mib=$(( $(stat -c %s "$part") / 1048576 + 1 ))
  truncate -s "${mib}M" "$raw"
  printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$raw"
  dd if="$part" of="$raw" bs=1M seek=1 conv=notrunc,sparse status=none
  dd if=/usr/lib/EXTLINUX/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none
  rm -f "$part"
  qemu-img convert -c -O qcow2 -o compat=1.1 "$raw" "$out"
  rm -f "$raw"
}

# --- smoke boot (plain QEMU, no libvirt objects, no network beyond QEMU's isolated slirp) ---
# smoke_boot <dir> <image> <mem MiB> <cpus> <seed iso> <timeout s> <regex>...
# Boots q35/TCG with the image as a throw-away-write virtio disk, a second virtio disk with serial
# cvt-data, the seed on a SATA CD-ROM, a virtio NIC on slirp with restrict=on (DHCP works, nothing
# is routed off the guest). Waits until every regex has matched the serial log, then presses the
# ACPI power button and waits for the guest to power itself off.
smoke_boot() {
  local dir=$1 img=$2 mem=$3 cpus=$4 seed=$5 timeout=$6
  shift 6
  local serial=$dir/serial.log mon=$dir/monitor pid start re ok
  qemu-img create -q -f qcow2 "$dir/data.qcow2" 16M
  mkfifo "$mon.in" "$mon.out"
  : >"$serial"
  qemu-system-x86_64 -machine q35,accel=tcg -m "$mem" -smp "$cpus" \
    -nodefaults -no-user-config -display none \
    -serial "file:$serial" -monitor "pipe:$mon" \
    -drive "if=none,id=hd0,file=$img,format=qcow2,snapshot=on" \
    -device virtio-blk-pci,drive=hd0,bootindex=1 \
    -drive "if=none,id=hd1,file=$dir/data.qcow2,format=qcow2" \
    -device virtio-blk-pci,drive=hd1,serial=cvt-data \
    -drive "if=none,id=cd0,file=$seed,format=raw,media=cdrom,readonly=on" \
    -device ide-cd,drive=cd0,bus=ide.0 \
    -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0 \
    -device virtio-balloon-pci \
    -device virtio-serial-pci \
    >"$dir/qemu.log" 2>&1 &
  pid=$!
  CLEANUP_PIDS+=("$pid")
  # Drain the monitor's output so QEMU never blocks writing to it.
  cat "$mon.out" >/dev/null &
  CLEANUP_PIDS+=("$!")
  start=$SECONDS
  while :; do
    ok=1
    for re in "$@"; do
      grep -qaE "$re" "$serial" || { ok=0; break; }
    done
    [ "$ok" = 1 ] && break
    if ! kill -0 "$pid" 2>/dev/null || [ $((SECONDS - start)) -ge "$timeout" ]; then
      log "smoke boot failed (waiting for /$re/); QEMU: $(cat "$dir/qemu.log")"
      log "serial console (last 60 lines):"
      tail -n 60 "$serial" | sed 's/^/  | /' >&2
      return 1
    fi
    sleep 1
  done
  log "smoke boot: all checks passed after $((SECONDS - start)) s; pressing the power button"
  # shellcheck disable=SC2016
  timeout 5 sh -c 'printf "system_powerdown\n" >"$1"' sh "$mon.in" || true
  start=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    if [ $((SECONDS - start)) -ge 90 ]; then
      log "smoke boot: guest did not power off on the ACPI power button"
      tail -n 30 "$serial" | sed 's/^/  | /' >&2
      return 1
    fi
    sleep 1
  done
  log "smoke boot: powered off after $((SECONDS - start)) s"
  grep -a '^CVT-' "$serial" | sed 's/^/  | /' >&2 || true
}

make_seed_iso() { # <out.iso> <dir with meta-data, user-data>
  genisoimage -quiet -output "$1" -volid cidata -joliet -rock "$2" 2>&1 | sed 's/^/  genisoimage: /' >&2
}

# --- tiny image ------------------------------------------------------------------------------
# The whole userland is busybox in the initramfs; /init (below) is PID 1.
write_tiny_init() {
  cat >"$1" <<'INIT'
#!/bin/sh
# PID 1 of the converge.virt tiny test image. Everything it reports goes to the serial console
# as lines starting with "CVT-", which the tests grep for. It must never exit (kernel panic).
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /run /tmp /mnt/seed
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=0755 tmpfs /run
exec </dev/console >/dev/console 2>&1

# One write per line, so lines stay whole between kernel messages and background jobs.
say() { echo "$*"; }
# The newline ends whatever the boot loader left on the current line (syslinux leaves terminal
# escapes without one), so CVT-BOOT starts a line.
echo
say "CVT-BOOT $(uname -r)"
ip link set lo up
hostname cvt-tiny

mkdir -p /run/cvt
while read -r m; do
  insmod "$m" 2>/dev/null
done </etc/cvt/modules

# CD-ROMs are bound by the time insmod returns, but sd (SATA/SCSI disks, e.g. a vfat seed)
# probes asynchronously: wait (max ~5 s) until every SCSI disk-like device has its block device.
n=0
while [ $n -lt 50 ]; do
  pending=""
  for d in /sys/bus/scsi/devices/*:*:*:*; do
    [ -e "$d/type" ] || continue
    case "$(cat "$d/type")" in
      0|5|7|14) [ -d "$d/block" ] || pending=1 ;;
    esac
  done
  [ -z "$pending" ] && break
  usleep 100000
  n=$((n + 1))
done

# ACPI power button -> clean power-off. The "Power Button" input devices only ever report that
# key, so any event read from them is a press.
poweroff_now() { say "CVT-POWEROFF"; sync; poweroff -f; }
for ev in /sys/class/input/event*; do
  [ "$(cat "$ev/device/name" 2>/dev/null)" = "Power Button" ] || continue
  (
    while :; do
      if dd if="/dev/input/${ev##*/}" of=/dev/null bs=24 count=1 2>/dev/null; then
        poweroff_now
      fi
      sleep 1
    done
  ) &
done

# Filesystem label of an ISO9660 or FAT filesystem on $1 (empty if neither / no medium).
fslabel() {
  if [ "$(dd if="$1" bs=1 skip=32769 count=5 2>/dev/null)" = CD001 ]; then
    dd if="$1" bs=1 skip=32808 count=32 2>/dev/null | tr -d '\000' | sed 's/ *$//'
  elif [ "$(dd if="$1" bs=1 skip=82 count=5 2>/dev/null)" = FAT32 ]; then
    dd if="$1" bs=1 skip=71 count=11 2>/dev/null | tr -d '\000' | sed 's/ *$//'
  elif dd if="$1" bs=1 skip=54 count=3 2>/dev/null | grep -q '^FAT'; then
    dd if="$1" bs=1 skip=43 count=11 2>/dev/null | tr -d '\000' | sed 's/ *$//'
  fi
}

# Value of key $1 in meta-data file $2: YAML "key: value" lines or JSON {"key": "value", ...}.
mdval() {
  sed -n -E "s/^(.*[{,[:space:]])?[\"']?$1[\"']?[[:space:]]*:[[:space:]]*[\"']?([^\"',}]*).*/\\2/p" "$2" |
    head -n 1 | sed 's/[[:space:]]*$//'
}

# --- NoCloud seed: read before DHCP so the lease request carries the hostname ---
seed=""
for b in /sys/class/block/sr* /sys/class/block/vd* /sys/class/block/sd*; do
  [ -e "$b" ] || continue
  dev=/dev/${b##*/}
  case "$(fslabel "$dev")" in
    cidata|CIDATA) ;;
    *) continue ;;
  esac
  if mount -t iso9660 -o ro "$dev" /mnt/seed 2>/dev/null ||
     mount -t vfat -o ro "$dev" /mnt/seed 2>/dev/null; then
    mkdir -p /run/cvt/seed
    cp -r /mnt/seed/. /run/cvt/seed/ 2>/dev/null
    umount /mnt/seed
    seed=$dev
    break
  fi
done
hostname_known=""
if [ -n "$seed" ]; then
  say "CVT-SEED $seed"
  md=/run/cvt/seed/meta-data
  iid=""; hn=""
  if [ -f "$md" ]; then
    iid=$(mdval instance-id "$md")
    hn=$(mdval local-hostname "$md")
    [ -n "$hn" ] || hn=$(mdval hostname "$md")
    hn=$(printf '%s' "$hn" | tr -cd 'A-Za-z0-9.-')
  fi
  if [ -n "$hn" ]; then
    hostname "$hn"
    hostname_known=$hn
  fi
  say "CVT-META instance-id=$iid hostname=$hn"
  [ -f /run/cvt/seed/network-config ] && say "CVT-NETCONFIG present"
else
  say "CVT-NOSEED"
fi

# --- DHCP on every ethernet interface, in parallel, up to ~20 s ---
# /etc/cvt/udhcpc.script configures the address and prints CVT-IP, also for leases that arrive
# later (udhcpc stays in the background and keeps trying / renewing).
start_dhcp() {
  ip link set "$1" up
  if [ -n "$hostname_known" ]; then
    udhcpc -i "$1" -s /etc/cvt/udhcpc.script -t 10 -T 2 -A 5 -b -p "/run/udhcpc.$1.pid" \
      -x "hostname:$hostname_known" >>"/run/cvt/udhcpc.$1.log" 2>&1
  else
    udhcpc -i "$1" -s /etc/cvt/udhcpc.script -t 10 -T 2 -A 5 -b -p "/run/udhcpc.$1.pid" \
      >>"/run/cvt/udhcpc.$1.log" 2>&1
  fi
}
ifaces=""
for n in /sys/class/net/*; do
  i=${n##*/}
  case "$i" in eth*|en*) ifaces="$ifaces $i" ;; esac
done
pids=""
for i in $ifaces; do
  start_dhcp "$i" &
  pids="$pids $!"
done
# shellcheck disable=SC2086 # (only these jobs: the power-button watchers never end)
[ -n "$pids" ] && wait $pids
for i in $ifaces; do
  [ -f "/run/cvt/lease.$i" ] || say "CVT-NOIP $i $(cat "/sys/class/net/$i/address")"
done

# --- user-data ---
ud=/run/cvt/seed/user-data
if [ -n "$seed" ] && [ -f "$ud" ]; then
  case "$(head -c 2 "$ud")" in
    '#!')
      /bin/sh "$ud"
      say "CVT-USERDATA rc=$?"
      ;;
    *)
      if head -n 1 "$ud" | grep -q '^#cloud-config'; then
        say "CVT-USERDATA cloud-config"
      else
        say "CVT-USERDATA unknown"
      fi
      ;;
  esac
else
  say "CVT-USERDATA none"
fi

# --- inventory ---
disk_line() {
  say "CVT-DISK $1 serial=$(cat "/sys/block/$1/serial" 2>/dev/null) sectors=$(cat "/sys/block/$1/size")"
}
disks=""
for b in /sys/block/vd*; do
  [ -e "$b" ] || continue
  disk_line "${b##*/}"
  disks="$disks ${b##*/}"
done
for b in /sys/block/sr*; do
  [ -e "$b" ] || continue
  say "CVT-CDROM ${b##*/} label=$(fslabel "/dev/${b##*/}")"
done
memtotal() { sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\).*/\1/p' /proc/meminfo; }
cpus() { grep -c '^processor' /proc/cpuinfo; }
mem=$(memtotal); ncpu=$(cpus)
say "CVT-MEM $mem"
say "CVT-CPUS $ncpu"
say "CVT-READY"

# --- afterwards: follow hot-plug (CPUs, memory, virtio disks, NICs) every 2 s ---
while :; do
  sleep 2
  for c in /sys/devices/system/cpu/cpu[0-9]*/online; do
    [ "$(cat "$c" 2>/dev/null)" = 0 ] && echo 1 >"$c" 2>/dev/null
  done
  for s in $(grep -l '^offline' /sys/devices/system/memory/memory*/state 2>/dev/null); do
    echo online >"$s" 2>/dev/null
  done
  n=$(cpus)
  [ "$n" != "$ncpu" ] && { ncpu=$n; say "CVT-CPUS $ncpu"; }
  n=$(memtotal)
  [ "$n" != "$mem" ] && { mem=$n; say "CVT-MEM $mem"; }
  now=""
  for b in /sys/block/vd*; do
    [ -e "$b" ] || continue
    d=${b##*/}
    now="$now $d"
    case " $disks " in *" $d "*) ;; *) disk_line "$d" ;; esac
  done
  for d in $disks; do
    case " $now " in *" $d "*) ;; *) say "CVT-DISK-GONE $d" ;; esac
  done
  disks=$now
  for n in /sys/class/net/*; do
    i=${n##*/}
    case "$i" in eth*|en*) ;; *) continue ;; esac
    case " $ifaces " in *" $i "*) continue ;; esac
    ifaces="$ifaces $i"
    start_dhcp "$i" &
  done
done
INIT
}

write_tiny_udhcpc_script() {
  cat >"$1" <<'SCRIPT'
#!/bin/sh
# udhcpc event handler of the tiny image: configure $interface and report leases on the console.
# shellcheck disable=SC2154 # interface, ip, mask, broadcast, router, dns come from udhcpc
lease=/run/cvt/lease.$interface
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    rm -f "$lease"
    ;;
  bound|renew)
    old=$(cat "$lease" 2>/dev/null)
    if [ "$old" != "$ip" ]; then
      ip -4 addr flush dev "$interface"
    fi
    ip addr replace "$ip/${mask:-24}" ${broadcast:+broadcast "$broadcast"} dev "$interface"
    for r in $router; do
      ip route replace default via "$r" dev "$interface" 2>/dev/null && break
    done
    if [ -n "$dns" ]; then
      : >/etc/resolv.conf
      for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
    fi
    echo "$ip" >"$lease"
    if [ "$1" = bound ] || [ "$old" != "$ip" ]; then
      echo "CVT-IP $interface $(cat "/sys/class/net/$interface/address") $ip" >/dev/console
    fi
    ;;
esac
exit 0
SCRIPT
}

build_tiny() {
  local out=$1 dir=$2
  local kroot=$dir/kernel tree=$dir/initramfs mnt=$dir/mnt m f ko
  unpack_kernel "$kroot"

  mkdir -p "$tree"/{bin,sbin,usr/bin,usr/sbin,etc/cvt,proc,sys,dev,run,tmp,mnt,root}
  cp /bin/busybox "$tree/bin/busybox"
  # Applet links made here (not with --install at boot) so the init starts a little faster.
  while read -r f; do
    [ -e "$tree/$f" ] || ln -s /bin/busybox "$tree/$f"
  done < <("$tree/bin/busybox" --list-full | grep -v '^bin/busybox$')
  mknod -m 600 "$tree/dev/console" c 5 1
  mknod -m 666 "$tree/dev/null" c 1 3

  # Resolve dependencies on the host (kmod), then load by path at boot: no depmod needed in the
  # guest and the order is fixed. Modules the kernel has built in or lacks are skipped.
  : >"$tree/etc/cvt/modules"
  for m in "${TINY_MODULES[@]}"; do
    if ! modprobe -d "$kroot" -S "$KREL" --show-depends "$m" >"$dir/deps" 2>/dev/null; then
      log "tiny: module $m not in $KPKG, skipped"
      continue
    fi
    while read -r f ko _; do
      [ "$f" = insmod ] || continue
      ko=${ko#"$kroot"}
      grep -qxF "$ko" "$tree/etc/cvt/modules" && continue
      mkdir -p "$tree$(dirname "$ko")"
      cp "$kroot$ko" "$tree$ko"
      printf '%s\n' "$ko" >>"$tree/etc/cvt/modules"
    done <"$dir/deps"
  done
  cp "$kroot/lib/modules/$KREL"/modules.{order,builtin,builtin.modinfo} "$tree/lib/modules/$KREL/"
  depmod -b "$tree" "$KREL"

  write_tiny_init "$tree/init"
  write_tiny_udhcpc_script "$tree/etc/cvt/udhcpc.script"
  chmod 755 "$tree/init" "$tree/etc/cvt/udhcpc.script"
  (cd "$tree" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9) >"$dir/initrd.img"

  make_ext4_mounted "$dir/part.img" 40 "$mnt" cvt-tiny
  mkdir -p "$mnt/boot"
  cp --sparse=never "$kroot/boot/vmlinuz-$KREL" "$mnt/boot/vmlinuz"
  cp --sparse=never "$dir/initrd.img" "$mnt/boot/initrd.img"
  # quiet: fewer kernel lines interleaved with CVT- lines, and a faster boot over an emulated
  # UART; scsi_mod.scan=sync: CD-ROMs are there once the modules are loaded;
  # memhp_default_state=online: hot-plugged DIMMs come up by themselves.
  finish_disk "$mnt" "SERIAL 0 115200
DEFAULT tiny
PROMPT 0
TIMEOUT 0
LABEL tiny
  LINUX /boot/vmlinuz
  INITRD /boot/initrd.img
  APPEND console=ttyS0,115200 quiet scsi_mod.scan=sync memhp_default_state=online" \
    "$dir/part.img" "$out"
  rm -rf "$kroot" "$tree"

  [ "$SMOKE" = 0 ] && return 0
  log "tiny: smoke boot (q35, TCG, 1 vCPU, 256 MiB)"
  mkdir -p "$dir/seed"
  printf 'instance-id: iid-cvt-smoke\nlocal-hostname: cvt-smoke\n' >"$dir/seed/meta-data"
  # shellcheck disable=SC2016 # expanded by the guest
  printf '#!/bin/sh\necho CVT-SMOKE-USERDATA-RAN on $(hostname)\nexit 3\n' >"$dir/seed/user-data"
  make_seed_iso "$dir/seed.iso" "$dir/seed"
  smoke_boot "$dir" "$out" 256 1 "$dir/seed.iso" 120 \
    '^CVT-SEED /dev/sr0' '^CVT-META instance-id=iid-cvt-smoke hostname=cvt-smoke' \
    '^CVT-IP eth0 [0-9a-f:]+ 10\.0\.2\.' '^CVT-SMOKE-USERDATA-RAN on cvt-smoke' \
    '^CVT-USERDATA rc=3' '^CVT-DISK vdb serial=cvt-data sectors=32768' \
    '^CVT-CDROM sr0 label=cidata' '^CVT-READY' || return 1
  grep -qa '^CVT-POWEROFF' "$dir/serial.log" || { log "tiny: no CVT-POWEROFF line"; return 1; }
}

# --- debian image ----------------------------------------------------------------------------
# apt sources for the chroot: the host's own Debian mirror(s) for its release (that is the only
# reachable one here), falling back to deb.debian.org.
host_codename() {
  # shellcheck disable=SC1091
  (. /etc/os-release && printf '%s\n' "${VERSION_CODENAME:-bookworm}")
}

debian_sources() {
  local codename
  codename=$(host_codename)
  {
    apt-cache policy 2>/dev/null | awk -v c="$codename" '
      $2 ~ /^https?:\/\// && $4 == "amd64" && $5 == "Packages" &&
      $3 ~ ("^" c "(-updates|-security)?/main$") {
        split($3, s, "/"); print "deb " $2 " " s[1] " main" }' | sort -u
  } | grep . || printf '%s\n' \
    "deb http://deb.debian.org/debian $codename main" \
    "deb http://deb.debian.org/debian $codename-updates main" \
    "deb http://deb.debian.org/debian-security $codename-security main"
}

# Files put into the chroot before its packages are installed (initramfs config must exist
# before the kernel's postinst builds the initramfs).
write_debian_overlay() {
  local o=$1 m
  mkdir -p "$o/etc/initramfs-tools/conf.d" "$o/etc/initramfs-tools/hooks" \
    "$o/etc/cloud/cloud.cfg.d" "$o/etc/systemd/system"
  printf 'MODULES=list\nCOMPRESS=gzip\n' >"$o/etc/initramfs-tools/conf.d/converge-virt.conf"
  # A hook rather than /etc/initramfs-tools/modules, which is a conffile of initramfs-tools.
  {
    printf '#!/bin/sh\n# converge.virt: the only drivers the test image needs to find its root.\n'
    # shellcheck disable=SC2016
    printf 'case "$1" in prereqs) exit 0 ;; esac\n. /usr/share/initramfs-tools/hook-functions\n'
    for m in "${DEBIAN_INITRD_MODULES[@]}"; do printf 'force_load %s\n' "$m"; done
  } >"$o/etc/initramfs-tools/hooks/converge-virt"
  chmod 755 "$o/etc/initramfs-tools/hooks/converge-virt"
  # NoCloud only (never probe metadata URLs); no locale generation, no ssh host keys (there are
  # neither locales nor sshd: either makes `cloud-init status` end in error).
  cat >"$o/etc/cloud/cloud.cfg.d/99-converge-virt.cfg" <<'CFG'
# converge.virt test image
datasource_list: [ NoCloud ]
locale: false
ssh_genkeytypes: []
ssh_deletekeys: false
ntp:
  enabled: false
CFG
}

# Runs inside mmdebstrap's customize hook: $1 is the root directory (proc/sys/dev are mounted).
write_debian_customize() {
  cat >"$1" <<'HOOK'
#!/bin/sh
set -eu
root=$1
# Nothing that phones home or churns the disk on a schedule.
for u in apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service \
         systemd-timesyncd.service e2scrub_all.timer e2scrub_reap.service fstrim.timer \
         man-db.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$u"
done
# The guest agent is started by udev when its virtio-serial port appears; also enable it in
# case the unit has an [Install] section.
chroot "$root" systemctl enable qemu-guest-agent.service 2>/dev/null || true
echo cvt-debian >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 cvt-debian\n::1 localhost ip6-localhost ip6-loopback\n' \
  >"$root/etc/hosts"
# ifupdown reads the fallback config cloud-init renders into interfaces.d.
cat >"$root/etc/network/interfaces" <<'EOF'
source /etc/network/interfaces.d/*
auto lo
iface lo inet loopback
EOF
# No password logins; root is reachable through the guest agent.
chroot "$root" passwd -l root >/dev/null
rm -f "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*_Packages "$root"/var/log/*.log
HOOK
  chmod 755 "$1"
}

build_debian() {
  local out=$1 dir=$2
  local mnt=$dir/mnt uuid krel codename
  local -a mirrors=() dpkgopts=()
  codename=$(host_codename)
  mapfile -t mirrors < <(debian_sources)
  log "debian: mirrors: ${mirrors[*]}"
  write_debian_overlay "$dir/overlay"
  write_debian_customize "$dir/customize.sh"

  # Size: no docs, man pages or translations, and none of the generic kernel's drivers for
  # hardware a libvirt guest never has (sound, GPUs, wireless, ...): about 250 MiB less.
  dpkgopts=(--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias')
  local d
  for d in sound drivers/gpu drivers/media drivers/net/wireless drivers/infiniband drivers/iio \
           drivers/staging drivers/comedi drivers/isdn drivers/bluetooth drivers/hwmon drivers/mtd \
           'drivers/scsi/*' drivers/target drivers/thunderbolt drivers/mmc drivers/video/fbdev \
           drivers/net/ethernet net/wireless net/mac80211 net/bluetooth; do
    dpkgopts+=(--dpkgopt="path-exclude=/lib/modules/*/kernel/$d/*")
  done
  # keep the emulated NICs a libvirt guest may get besides virtio
  dpkgopts+=(--dpkgopt='path-include=/lib/modules/*/kernel/drivers/net/ethernet/intel/*'
    --dpkgopt='path-include=/lib/modules/*/kernel/drivers/net/ethernet/realtek/*')

  make_ext4_mounted "$dir/part.img" 3071 "$mnt" cvt-root
  rmdir "$mnt/lost+found"
  uuid=$(blkid -s UUID -o value "$dir/part.img")
  log "debian: mmdebstrap (minbase + $KPKG=$KVER, cloud-init, qemu-guest-agent, ...)"
  mmdebstrap --mode=root --variant=minbase --format=directory \
    --aptopt='Acquire::Retries "3"' \
    "${dpkgopts[@]}" \
    --include="systemd-sysv,udev,dbus,kmod,initramfs-tools,$KPKG=$KVER" \
    --include=cloud-init,cloud-guest-utils,qemu-guest-agent,ifupdown,isc-dhcp-client,netbase,iproute2,procps,less \
    --essential-hook="cp -a '$dir/overlay/.' \"\$1/\"" \
    --customize-hook="'$dir/customize.sh' \"\$1\"" \
    "$codename" "$mnt" "${mirrors[@]}" \
    2> >(grep -v '^I: ' >&2) ||
    die "mmdebstrap failed"
  krel=${KPKG#linux-image-}
  if [ ! -f "$mnt/boot/vmlinuz-$krel" ] || [ ! -f "$mnt/boot/initrd.img-$krel" ]; then
    die "debian: kernel or initramfs missing in /boot"
  fi
  printf 'UUID=%s / ext4 defaults,errors=remount-ro 0 1\n' "$uuid" >"$mnt/etc/fstab"
  log "debian: root filesystem uses $(du -sh --one-file-system "$mnt" | cut -f1)"
  finish_disk "$mnt" "SERIAL 0 115200
DEFAULT debian
PROMPT 0
TIMEOUT 0
LABEL debian
  LINUX /boot/vmlinuz-$krel
  INITRD /boot/initrd.img-$krel
  APPEND root=UUID=$uuid ro console=ttyS0,115200" \
    "$dir/part.img" "$out"

  [ "$SMOKE" = 0 ] && return 0
  log "debian: smoke boot (q35, TCG, 2 vCPUs, 1 GiB): waiting for cloud-init"
  mkdir -p "$dir/seed"
  printf 'instance-id: iid-cvt-smoke\nlocal-hostname: cvt-smoke\n' >"$dir/seed/meta-data"
  # shellcheck disable=SC2016 # expanded by the guest
  printf '#cloud-config\nruncmd:\n  - [ sh, -c, "echo CVT-CLOUDINIT-RAN $(hostname) >/dev/ttyS0" ]\n' \
    >"$dir/seed/user-data"
  make_seed_iso "$dir/seed.iso" "$dir/seed"
  smoke_boot "$dir" "$out" 1024 2 "$dir/seed.iso" 420 \
    'CVT-CLOUDINIT-RAN cvt-smoke' 'Cloud-init v\. .* finished' || return 1
}

# --- driver ----------------------------------------------------------------------------------
# build_image <tiny|debian>: sets RESULT to the cached or newly built image.
build_image() {
  local kind=$1 final
  final=$CACHE_DIR/$kind-$KEY.qcow2
  RESULT=$final
  [ -s "$final" ] && { log "$kind: cached $final"; return 0; }
  exec 8>"$CACHE_DIR/.lock-$kind"
  if ! flock -n 8; then
    log "$kind: another invocation is building it; waiting for its lock"
    flock 8
  fi
  if [ -s "$final" ]; then
    log "$kind: cached $final"
    exec 8>&-
    return 0
  fi
  # Holding the lock: any build dir of this kind is left over from a killed run.
  local stale
  for stale in "$CACHE_DIR/.build-$kind".*; do
    [ -e "$stale" ] && { log "$kind: removing stale $stale"; remove_build_dir "$stale"; }
  done

  [ "$(id -u)" -eq 0 ] || die "$kind: building an image needs root (loop mounts, mknod)"
  ensure_debs extlinux syslinux-common fdisk qemu-utils e2fsprogs util-linux
  if [ "$kind" = tiny ]; then
    ensure_debs busybox-static cpio gzip kmod
  else
    ensure_debs mmdebstrap
  fi
  [ "$SMOKE" = 0 ] || ensure_debs genisoimage qemu-system-x86
  if [ "$kind" = tiny ]; then
    fetch_kernel_deb || die "could not download $KPKG=$KVER"
  fi

  local dir start=$SECONDS
  dir=$(mktemp -d "$CACHE_DIR/.build-$kind.XXXXXX")
  CLEANUP_DIRS+=("$dir")
  log "$kind: building $final (in $dir)"
  "build_$kind" "$dir/$kind.qcow2" "$dir"
  chmod 644 "$dir/$kind.qcow2"
  mv -f "$dir/$kind.qcow2" "$final"
  remove_build_dir "$dir"
  exec 8>&-
  log "$kind: built $final ($(du -h "$final" | cut -f1)) in $((SECONDS - start)) s"
}

main() {
  local -a kinds
  [ $# -eq 1 ] || usage
  case "$1" in
    tiny) kinds=(tiny) ;;
    debian) kinds=(debian) ;;
    all) kinds=(tiny debian) ;;
    *) usage ;;
  esac
  mkdir -p "$CACHE_DIR"
  CACHE_DIR=$(cd "$CACHE_DIR" && pwd -P)

  if ! resolve_kernel; then
    log "no $KERNEL_META in the apt lists; running apt-get update"
    apt_retry update || die "apt-get update failed"
    resolve_kernel || die "cannot resolve $KERNEL_META to a kernel package"
  fi
  # On a cache miss, refresh the apt lists first so the version in the key is one the mirror
  # still serves (a stale list can name a kernel that has been superseded).
  local kind miss=0
  for kind in "${kinds[@]}"; do
    [ -s "$CACHE_DIR/$kind-$KEY.qcow2" ] || miss=1
  done
  if [ "$miss" = 1 ] && [ "$(id -u)" -eq 0 ]; then
    apt_retry update >/dev/null || log "apt-get update failed; using the current lists"
    resolve_kernel || die "cannot resolve $KERNEL_META to a kernel package"
  fi
  log "kernel $KPKG=$KVER, cache key $KEY"

  local -a results=()
  for kind in "${kinds[@]}"; do
    build_image "$kind"
    results+=("$RESULT")
  done
  printf '%s\n' "${results[@]}" >&3
}

main "$@"
