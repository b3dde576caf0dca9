#!/usr/bin/env bash
# Tests the README's multi-host example (playbooks/multihost.yml) on three simulated hypervisors
# (tests/hosts/start.sh: 2/4/8 GiB) listed in an inventory group: --check plans (changed), the run
# converges, --check and a second run change nothing; one web instance per host (anti-affinity)
# and the database on the last host, as libvirt lists them; then the instances are declared
# absent and the stack removed, twice (the second run changes nothing). The hosts are stopped at the end.
# Usage: test_multihost.sh VENV COLLECTIONS_PATH
set -euo pipefail
venv=$1
export ANSIBLE_COLLECTIONS_PATH=$2 ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
root=$(cd "$(dirname "$0")/../.." && pwd)
hosts_dir=/var/tmp/cvmh-hosts
tmp=$(mktemp -d)
export CONVERGE_VIRT_STATE_DIR=$tmp/state

fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() { bash "$root/tests/hosts/stop.sh" "$hosts_dir" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT

bash "$root/tests/hosts/start.sh" "$hosts_dir" cvmh >&2
# The inventory: a group of hypervisors, each with its URI (the simulated hosts answer on sockets).
"$venv/bin/python" - "$hosts_dir/hosts.json" > "$tmp/inventory.yml" <<'PY'
import json, sys
hosts = json.load(open(sys.argv[1]))
print("all:\n  children:\n    hypervisors:\n      hosts:")
for h in hosts:
    print("        %s:" % h["name"])
    for key in ("uri", "migrate_uri", "disks_uri"):
        print("          converge_virt_%s: %s" % (key, json.dumps(h[key])))
PY
uri() { "$venv/bin/python" -c 'import json,sys; print([h["uri"] for h in json.load(open(sys.argv[1])) if h["name"] == sys.argv[2]][0])' "$hosts_dir/hosts.json" "$1"; }

play() {  # prints the recap line; fails on a failed run
  local log=$tmp/play.log
  "$venv/bin/ansible-playbook" -i "$tmp/inventory.yml" "$root/playbooks/multihost.yml" -e web_virt_type=qemu "$@" > "$log" 2>&1 \
    || { tail -n 60 "$log" >&2; fail "ansible-playbook $*"; }
  grep -E '^localhost +:' "$log"
}
changed() { sed -E 's/.*changed=([0-9]+).*/\1/' <<<"$1"; }

out=$(play --check --diff); [ "$(changed "$out")" -ge 1 ] || fail "--check before converging: $out"
for h in cvmh1 cvmh2 cvmh3; do
  [ -z "$(virsh -c "$(uri $h)" list --all --name | grep -E '^(web|db)' || true)" ] || fail "--check defined an instance on $h"
done
out=$(play); [ "$(changed "$out")" -ge 1 ] || fail "converge: $out"
out=$(play --check); [ "$(changed "$out")" -eq 0 ] || fail "--check after converging: $out"
out=$(play); [ "$(changed "$out")" -eq 0 ] || fail "second run: $out"
for h in cvmh1 cvmh2 cvmh3; do
  webs=$(virsh -c "$(uri $h)" list --name | grep -c '^web' || true)
  [ "$webs" -eq 1 ] || fail "$h runs $webs web instances (anti-affinity: one per host)"
done
virsh -c "$(uri cvmh3)" domstate db | grep -q running || fail "db is not running on cvmh3"
out=$(play -e web_state=absent -e web_stop_timeout=0); [ "$(changed "$out")" -ge 1 ] || fail "instances absent: $out"
out=$(play -e stack_state=absent); [ "$(changed "$out")" -ge 1 ] || fail "stack absent: $out"
out=$(play -e stack_state=absent); [ "$(changed "$out")" -eq 0 ] || fail "stack absent again: $out"
for h in cvmh1 cvmh2 cvmh3; do
  [ -z "$(virsh -c "$(uri $h)" list --all --name | grep -E '^(web|db)' || true)" ] || fail "instances left on $h"
  [ -z "$(virsh -c "$(uri $h)" net-list --all --name | grep multihost || true)" ] || fail "network left on $h"
done
echo "ok: playbooks/multihost.yml on three hypervisors: one web per host, db on cvmh3, idempotent, removed"
