#!/usr/bin/env bash
# Tests the stack playbooks (playbooks/converge.yml, playbooks/destroy.yml) on a tiny stack on the
# local libvirt host: an isolated network and a defined, stopped instance on it (TCG, no disk).
# converge.yml creates both and writes the plan file (valid JSON, summary: two creations); a second
# run in --check --diff reports changed=0 and a plan of two unchanged resources; destroy.yml
# deletes both (plan file: two deletions), and again changes nothing.
# Usage: test_stack_playbooks.sh VENV COLLECTIONS_PATH
set -euo pipefail
venv=$1
export ANSIBLE_COLLECTIONS_PATH=$2 ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)

fail() { echo "FAIL: $*" >&2; exit 1; }
recap() { grep -E '^localhost +:' "$1"; }
virsh() { command virsh -c qemu:///system "$@"; }
stack_args=(-e stack_file="$tmp/stack.yml" -e stack_uri=qemu:///system)
play() { "$venv/bin/ansible-playbook" -i localhost, "$@"; }
converge() { play "$root/playbooks/converge.yml" "${stack_args[@]}" "$@"; }
destroy() { play "$root/playbooks/destroy.yml" "${stack_args[@]}" "$@"; }
# plan_is FILE CHECK_MODE KEY=RESOURCES... : the plan file is JSON, of this stack, in (or not in)
# check mode, and its summary lists exactly these resources under these keys (others empty).
plan_is() {
  "$venv/bin/python" - "$@" <<'EOF'
import json
import sys

path, check_mode, wanted = sys.argv[1], sys.argv[2] == "check", sys.argv[3:]
with open(path) as handle:
    plan = json.load(handle)  # fails on anything but JSON
problems = []
if plan.get("stack") != "example-stack-pb":
    problems.append("stack is %r" % plan.get("stack"))
if bool(plan.get("check_mode")) != check_mode:
    problems.append("check_mode is %r" % plan.get("check_mode"))
want = {}
for item in wanted:
    key, _, resources = item.partition("=")
    want[key] = sorted(resources.split(","))
for key, got in sorted(plan.get("summary", {}).items()):
    got = sorted(r if isinstance(r, str) else r.get("resource") for r in got)
    if got != want.pop(key, []):
        problems.append("summary.%s is %s" % (key, got))
if want:
    problems.append("summary lacks %s" % ", ".join(sorted(want)))
if len(plan.get("plan", [])) != 2 or any("resource" not in e or "action" not in e for e in plan["plan"]):
    problems.append("plan is not one entry per resource: %s" % plan.get("plan"))
if problems:
    sys.exit("%s: %s" % (path, "; ".join(problems)))
EOF
}

cat > "$tmp/stack.yml" <<'EOF'
name: example-stack-pb
resources:
  - kind: network
    name: example-stack-pb-net
    forward: isolated
    bridge: virbr-expb
    ipv4:
      address: 10.78.0.1/24
  - kind: instance
    name: example-stack-pb-vm
    state: stopped
    virt_type: qemu
    vcpus: 1
    memory: 64M
    nics:
      - network: example-stack-pb-net
EOF
resources=(network/example-stack-pb-net instance/example-stack-pb-vm)
both=$(IFS=,; echo "${resources[*]}")

cleanup() { destroy > /dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
destroy > /dev/null  # a clean start, whatever an interrupted run left

converge -e plan_file="$tmp/plan1.json" > "$tmp/run1" || { tail -n 40 "$tmp/run1"; fail "converge.yml failed"; }
recap "$tmp/run1" | grep -q 'changed=1' || fail "converge.yml did not report the stack changed: $(recap "$tmp/run1")"
plan_is "$tmp/plan1.json" apply "create=$both" || fail "the plan file of the first run is wrong"
grep -q '"network example-stack-pb-net: create"' "$tmp/run1" || fail "the play does not print the plan"
[ "$(virsh domstate example-stack-pb-vm)" = "shut off" ] || fail "the instance is not defined and stopped"
# Read virsh's output whole first: `virsh | grep -q` fails under pipefail when grep exits early (SIGPIPE).
info=$(virsh net-info example-stack-pb-net)
grep -qE '^Active: +yes' <<< "$info" || fail "the network is not active: $info"
echo "ok: converge.yml creates the network and the instance, writes the plan as JSON (create: 2)"

converge --check --diff -e plan_file="$tmp/plan2.json" > "$tmp/check" || { tail -n 40 "$tmp/check"; fail "--check failed"; }
recap "$tmp/check" | grep -q 'changed=0' || fail "--check --diff after converging was not quiet: $(recap "$tmp/check")"
plan_is "$tmp/plan2.json" check "unchanged=$both" || fail "the plan file of the --check run is wrong"
echo "ok: converge.yml --check --diff: changed=0, plan file in check mode lists both unchanged"

destroy -e plan_file="$tmp/plan3.json" > "$tmp/down" || { tail -n 40 "$tmp/down"; fail "destroy.yml failed"; }
recap "$tmp/down" | grep -q 'changed=1' || fail "destroy.yml did not delete: $(recap "$tmp/down")"
plan_is "$tmp/plan3.json" apply "delete=$both" || fail "the plan file of destroy.yml is wrong"
if virsh dominfo example-stack-pb-vm > /dev/null 2>&1; then fail "the instance is still defined"; fi
if virsh net-info example-stack-pb-net > /dev/null 2>&1; then fail "the network is still defined"; fi
destroy > "$tmp/down2" || { tail -n 40 "$tmp/down2"; fail "destroy.yml failed the second time"; }
recap "$tmp/down2" | grep -q 'changed=0' || fail "second destroy.yml was not quiet: $(recap "$tmp/down2")"
echo "ok: destroy.yml deletes both (plan file: delete 2), and again: changed=0"
