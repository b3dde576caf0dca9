#!/usr/bin/env bash
# Tests the README's story on the main job: playbooks/example.yml converges (pool, image, a disk
# cloned from it, network), the second run reports changed=0, and after adding a DHCP host to (a
# copy of) the example, --check --diff shows a field-level diff naming the host (no XML), and the
# real run applies it without restarting the network; teardown removes everything, quietly twice.
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
# Read the XML whole first: `virsh | grep -q` fails under pipefail when grep exits early (SIGPIPE).
running_xml() { virsh -c qemu:///system net-dumpxml example-lab; }
pool_dir=/var/lib/libvirt/images/converge-example

play "$root/playbooks/example.yml" -e example_state=absent >/dev/null
rm -f /var/tmp/converge-example/base.qcow2  # the example makes its stand-in image again
cleanup() { play "$root/playbooks/example.yml" -e example_state=absent >/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

play "$root/playbooks/example.yml" > "$tmp/run1"
# The stand-in image, the pool, the image, the disk and the network: five changes.
recap "$tmp/run1" | grep -q 'changed=5' || fail "first run did not create everything: $(recap "$tmp/run1")"
info=$(qemu-img info --output=json "$pool_dir/example-disk.qcow2")
case "$info" in *"\"backing-filename\": \"$pool_dir/example-base.qcow2\""*) ;;
  *) fail "the disk is not a linked clone of the image: $info" ;; esac
case "$info" in *'"virtual-size": 4294967296'*) ;; *) fail "the disk is not 4 GiB: $info" ;; esac
play "$root/playbooks/example.yml" > "$tmp/run2"
recap "$tmp/run2" | grep -q 'changed=0' || fail "second run was not quiet: $(recap "$tmp/run2")"
echo "ok: example converges (pool, image, linked-clone disk, network), second run changed=0"

before=$(ifindex)
sed 's/^\( *\)- {mac: "52:54:00:77:00:10", name: web1, ip: 10.77.0.10}$/&\n\1- {mac: "52:54:00:77:00:11", name: web2, ip: 10.77.0.11}/' \
  "$root/playbooks/example.yml" > "$tmp/example.yml"
grep -q web2 "$tmp/example.yml" || fail "could not add a DHCP host to the example"

play "$tmp/example.yml" --check --diff > "$tmp/check"
recap "$tmp/check" | grep -q 'changed=1' || fail "check mode did not report the change"
grep -q '"name": "web2"' "$tmp/check" || fail "the diff does not name the new host"
grep -q '^+ *"mac": "52:54:00:77:00:11"' "$tmp/check" || fail "the diff does not show the host as added"
if grep -qE '<(host|network|ip|dhcp)[ >]' "$tmp/check"; then fail "the diff contains XML"; fi
xml=$(running_xml)
case "$xml" in *web2*) fail "check mode changed the network" ;; esac
echo "ok: --check --diff names the host in a field-level diff, changes nothing"

play "$tmp/example.yml" > "$tmp/apply"
recap "$tmp/apply" | grep -q 'changed=1' || fail "the host was not applied"
grep -q 'add ipv4.dhcp.hosts\[52:54:00:77:00:11\] \[live\]' "$tmp/apply" || fail "the plan did not mark the host live"
xml=$(running_xml)
case "$xml" in *"name='web2'"*) ;; *) fail "web2 is not in the running network" ;; esac
[ "$(ifindex)" = "$before" ] || fail "the network was restarted (bridge recreated)"
play "$tmp/example.yml" > "$tmp/again"
recap "$tmp/again" | grep -q 'changed=0' || fail "run after the edit was not quiet"
echo "ok: the new host is applied live (bridge kept), next run changed=0"

play "$root/playbooks/example.yml" -e example_state=absent > "$tmp/down"
recap "$tmp/down" | grep -q 'changed=4' || fail "teardown did not delete the four resources: $(recap "$tmp/down")"
[ ! -e "$pool_dir" ] || fail "the pool's directory (created by the collection) is still there"
play "$root/playbooks/example.yml" -e example_state=absent > "$tmp/down2"
recap "$tmp/down2" | grep -q 'changed=0' || fail "second teardown was not quiet: $(recap "$tmp/down2")"
echo "ok: teardown removes network, disk, image and pool (and its directory); again: changed=0"
