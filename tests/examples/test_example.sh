#!/usr/bin/env bash
# Tests the README's story on the main job: playbooks/example.yml converges the example stack
# (playbooks/stacks/example.yml: pool, the tiny guest image, network, two instances booted from
# linked clones of the image) with one converge.virt.stack task, and the guests come up:
# each has an address from the network's DHCP range, printed by the play, and its console log shows
# that it ran its cloud-init user-data. The second run and a --check --diff report changed=0.
# After adding a DHCP host to (a copy of) the stack document, --check --diff shows a field-level diff
# naming the host (no XML) and the real run applies it without restarting the network or the
# guests; shrinking the guests' memory is planned and applied live the same way. Teardown removes
# everything the stack made (five resources), quietly twice.
# Usage: test_example.sh VENV COLLECTIONS_PATH
set -euo pipefail
venv=$1
export ANSIBLE_COLLECTIONS_PATH=$2 ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

play() { "$venv/bin/ansible-playbook" -i localhost, "$@"; }
recap() { grep -E '^localhost +:' "$1"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ifindex() { cat /sys/class/net/virbr-example/ifindex; }
virsh() { command virsh -c qemu:///system "$@"; }
# Read the XML whole first: `virsh | grep -q` fails under pipefail when grep exits early (SIGPIPE).
running_xml() { virsh net-dumpxml example-lab; }
domids() { local vm; for vm in $vms; do virsh domid "$vm"; done | tr -s '\n' ' '; }
pool_dir=/var/lib/libvirt/images/converge-example
vms="example-web1 example-web2"
console_log() { echo "/var/log/libvirt/qemu/$1-console.log"; }

# The demo builds (or takes from its cache) the same image.
img=$(bash "$root/hack/guest-images.sh" tiny)
[ -f "$img" ] || fail "hack/guest-images.sh tiny did not print an image path: '$img'"
up() { play "$root/playbooks/example.yml" -e example_guest_image="$img" "$@"; }
down() { play "$root/playbooks/example.yml" -e example_state=absent; }

down >/dev/null
# A console log is rewritten at each start; an old one must not pass for this run's.
for vm in $vms; do rm -f "$(console_log "$vm")"; done
cleanup() { down >/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

start=$SECONDS
up > "$tmp/run1"
first=$((SECONDS - start))
# One task (the stack) converges all five resources.
recap "$tmp/run1" | grep -q 'changed=1' || fail "first run did not create everything: $(recap "$tmp/run1")"
created=$(grep -cE '^ +"[a-z]+ [^"]+: create",?$' "$tmp/run1" || true)
[ "$created" = 5 ] || fail "the plan summary does not show five creations ($created): $(grep -A8 '"summary"' "$tmp/run1")"
for vm in $vms; do
  info=$(qemu-img info -U --output=json "$pool_dir/$vm-vda.qcow2")
  case "$info" in *"\"backing-filename\": \"$pool_dir/example-tiny.qcow2\""*) ;;
    *) fail "$vm's disk is not a linked clone of the image: $info" ;; esac
  case "$info" in *'"virtual-size": 1073741824'*) ;; *) fail "$vm's disk is not 1 GiB: $info" ;; esac
  [ "$(virsh domstate "$vm")" = running ] || fail "$vm is not running"
done
echo "ok: the example stack converges in one task (pool, image, network, two instances on linked clones) in ${first} s"

# The play prints {name: [ips]}: each guest has one address, from the DHCP range, none shared.
sed -n '/TASK \[Show the machines. addresses\]/,/^TASK/p' "$tmp/run1" > "$tmp/ips"
seen=""
for vm in $vms; do
  ip=$(sed -n "/\"$vm\": \[/{n;p}" "$tmp/ips" | tr -d ' ",')
  case "$ip" in 10.77.0.*) ;; *) fail "no address printed for $vm: $(cat "$tmp/ips")" ;; esac
  last=${ip##*.}
  if [ "$last" -lt 100 ] || [ "$last" -gt 199 ]; then fail "$vm's address $ip is outside the DHCP range"; fi
  case " $seen " in *" $ip "*) fail "$vm has the address of another guest ($ip)" ;; esac
  seen="$seen $ip"
  # The guest's init logs the address it configured: the one the play printed.
  grep -qE "^CVT-IP eth0 [0-9a-f:]+ $ip\$" <(tr -d '\r' < "$(console_log "$vm")") \
    || fail "$vm's console does not show it configured $ip"
done
echo "ok: the play prints both guests' addresses, in the DHCP range:$seen"

for vm in $vms; do
  log=$(tr -d '\r' < "$(console_log "$vm")")
  case "$log" in *"hello from $vm"*) ;; *) fail "$vm's console log has no greeting from its user-data" ;; esac
  case "$log" in *"CVT-USERDATA rc=0"*) ;; *) fail "$vm's user-data did not exit 0" ;; esac
done
echo "ok: both guests ran their cloud-init user-data (greeting in their console logs)"

ids=$(domids)
start=$SECONDS
up > "$tmp/run2"
noop=$((SECONDS - start))
recap "$tmp/run2" | grep -q 'changed=0' || fail "second run was not quiet: $(recap "$tmp/run2")"
[ "$(domids)" = "$ids" ] || fail "the second run restarted a guest"
up --check --diff > "$tmp/check0"
recap "$tmp/check0" | grep -q 'changed=0' || fail "--check --diff after converging was not quiet: $(recap "$tmp/check0")"
echo "ok: second run changed=0 in ${noop} s (guests untouched); --check --diff then reports changed=0"

before=$(ifindex)
sed 's/^\( *\)- {mac: "52:54:00:77:00:10", name: db1, ip: 10.77.0.10}$/&\n\1- {mac: "52:54:00:77:00:11", name: db2, ip: 10.77.0.11}/' \
  "$root/playbooks/stacks/example.yml" > "$tmp/example.yml"
grep -q db2 "$tmp/example.yml" || fail "could not add a DHCP host to the example"
edited() { up -e example_stack_file="$1" "${@:2}"; }

edited "$tmp/example.yml" --check --diff > "$tmp/check"
recap "$tmp/check" | grep -q 'changed=1' || fail "check mode did not report the change"
grep -q '"name": "db2"' "$tmp/check" || fail "the diff does not name the new host"
grep -q '^+ *"mac": "52:54:00:77:00:11"' "$tmp/check" || fail "the diff does not show the host as added"
if grep -qE '<(host|network|ip|dhcp|domain|interface)[ >]' "$tmp/check"; then fail "the diff contains XML"; fi
xml=$(running_xml)
case "$xml" in *db2*) fail "check mode changed the network" ;; esac
echo "ok: --check --diff names the host in a field-level diff, changes nothing"

edited "$tmp/example.yml" > "$tmp/apply"
recap "$tmp/apply" | grep -q 'changed=1' || fail "the host was not applied"
grep -q 'add ipv4.dhcp.hosts\[52:54:00:77:00:11\] \[live\]' "$tmp/apply" || fail "the plan did not mark the host live"
xml=$(running_xml)
case "$xml" in *"name='db2'"*) ;; *) fail "db2 is not in the running network" ;; esac
[ "$(ifindex)" = "$before" ] || fail "the network was restarted (bridge recreated)"
[ "$(domids)" = "$ids" ] || fail "a guest was restarted by the network change"
edited "$tmp/example.yml" > "$tmp/again"
recap "$tmp/again" | grep -q 'changed=0' || fail "run after the edit was not quiet"
echo "ok: the new host is applied live (bridge and guests kept), next run changed=0"

# Less memory for the guests: within what they booted with, so the balloon gives it back live.
sed 's/^\( *\)memory: 256M$/\1memory: 192M/' "$tmp/example.yml" > "$tmp/smaller.yml"
grep -q 'memory: 192M' "$tmp/smaller.yml" || fail "could not change the example's memory"
edited "$tmp/smaller.yml" --check --diff > "$tmp/check-mem"
recap "$tmp/check-mem" | grep -q 'changed=1' || fail "check mode did not report the memory change"
for vm in $vms; do
  grep -q "\"instance $vm: update (modify memory \[live\])\"" "$tmp/check-mem" \
    || fail "the plan does not mark $vm's memory change live: $(grep -A8 '"summary"' "$tmp/check-mem")"
done
grep -q '^- *"memory": 268435456' "$tmp/check-mem" || fail "the diff does not show the memory before (256 MiB)"
grep -q '^+ *"memory": 201326592' "$tmp/check-mem" || fail "the diff does not show the memory after (192 MiB)"
# Nothing else may look changed: two guests, one line out and one line in each.
[ "$(grep -cE '^[-+] ' "$tmp/check-mem")" = 4 ] || fail "the diff shows more than the memory: $(grep -E '^[-+] ' "$tmp/check-mem")"
if grep -qE '<(domain|memory|currentMemory|devices)[ >]' "$tmp/check-mem"; then fail "the diff contains XML"; fi
edited "$tmp/smaller.yml" > "$tmp/apply-mem"
recap "$tmp/apply-mem" | grep -q 'changed=1' || fail "the memory change was not applied"
grep -q '"reboot_required": \[\]' "$tmp/apply-mem" || fail "a live memory change left a reboot pending"
# The guest's balloon driver hands the memory back over a second or two after the call.
for vm in $vms; do
  for _ in $(seq 20); do
    used=$(virsh dominfo "$vm" | awk '$1 == "Used" {print $3}')
    [ "$used" = 196608 ] && continue 2
    sleep 1
  done
  fail "$vm does not run with 192 MiB (196608 KiB) now: $used KiB"
done
[ "$(domids)" = "$ids" ] || fail "a guest was restarted by the memory change"
edited "$tmp/smaller.yml" > "$tmp/again-mem"
recap "$tmp/again-mem" | grep -q 'changed=0' || fail "run after the memory change was not quiet"
echo "ok: a memory change is planned field by field (no XML), applied live (guests kept), next run changed=0"

down > "$tmp/down"
# One task (the stack, state absent) deletes the five resources it made, instances first.
recap "$tmp/down" | grep -q 'changed=1' || fail "teardown did not delete everything: $(recap "$tmp/down")"
deleted=$(grep -cE '^ +"[a-z]+ [^"]+: delete",?$' "$tmp/down" || true)
[ "$deleted" = 5 ] || fail "the teardown does not list five deletions ($deleted): $(sed -n '/Show what was deleted/,/^PLAY RECAP/p' "$tmp/down")"
[ "$(grep -m1 -E '^ +"[a-z]+ [^"]+: delete",?$' "$tmp/down" | tr -d ' ",')" = "instanceexample-web1:delete" ] \
  || fail "the teardown does not delete the instances first: $(sed -n '/Show what was deleted/,/^PLAY RECAP/p' "$tmp/down")"
for vm in $vms; do
  if virsh dominfo "$vm" >/dev/null 2>&1; then fail "$vm is still defined"; fi
done
if virsh net-info example-lab >/dev/null 2>&1; then fail "the network is still defined"; fi
[ ! -e "$pool_dir" ] || fail "the pool's directory (created by the collection) is still there"
down > "$tmp/down2"
recap "$tmp/down2" | grep -q 'changed=0' || fail "second teardown was not quiet: $(recap "$tmp/down2")"
echo "ok: teardown removes instances (with their disks and seeds), network, image and pool (and its directory); again: changed=0"
