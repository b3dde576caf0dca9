#!/usr/bin/env bash
# Tests the README's portable playbook (playbooks/portable.yml): the same network + volume +
# instance spec converged on the local libvirt host or on the local OpenStack cloud, with only the
# vars file (connection, libvirt pool) differing.  On each backend: the first run makes everything
# and the machine gets an address from the network's DHCP range, then --check --diff and a second
# run report changed=0; removal, twice (the second quiet).  (A first run in check mode cannot get
# far: the image needs the pool, the instance the network, that only the real run creates.)
# Usage: test_portable.sh VENV COLLECTIONS_PATH libvirt
#        test_portable.sh VENV COLLECTIONS_PATH openstack CLOUD_STATE_DIR
set -euo pipefail
venv=$1 backend=$3
export ANSIBLE_COLLECTIONS_PATH=$2 ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)

fail() { echo "FAIL: $*" >&2; exit 1; }
recap() { grep -E '^localhost +:' "$1"; }
changed() { recap "$1" | sed -E 's/.* changed=([0-9]+).*/\1/'; }

img=$(bash "$root/hack/guest-images.sh" tiny)
[ -f "$img" ] || fail "hack/guest-images.sh tiny did not print an image path: '$img'"
args=(-e "@$root/playbooks/vars/portable-$backend.yml" -e portable_image_file="$img")
if [ "$backend" = openstack ]; then
  # The vars file names the cloud "mycloud"; here it is the local cloud's non-admin "demo".
  export OS_CLIENT_CONFIG_FILE=$4/clouds.yaml
  args+=(-e '{"portable_connection": {"cloud": "demo"}}')
fi
play() { "$venv/bin/ansible-playbook" -i localhost, "$root/playbooks/portable.yml" "${args[@]}" "$@"; }
down() { play -e portable_state=absent; }
cleanup() { down > /dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT

down > /dev/null 2>&1 || true   # a clean start, whatever an interrupted run left

step() {  # name expected-changed (0 or "some") ansible-playbook-args...
  local name=$1 want=$2 log="$tmp/$1.log" start=$SECONDS got; shift 2
  play "$@" > "$log" 2>&1 || { tail -n 40 "$log"; fail "$name: the play failed"; }
  got=$(changed "$log")
  printf '%-22s %3ss  %s\n' "$name" $((SECONDS - start)) "$(recap "$log" | tr -s ' ')"
  case $want in
    0) [ "$got" = 0 ] || { grep -E '^(TASK|changed)' "$log" | grep -B1 '^changed' >&2; fail "$name: changed=$got, expected 0"; } ;;
    some) [ "$got" -gt 0 ] || fail "$name: changed=0, expected changes" ;;
  esac
}

echo "portable playbook on $backend"
step apply-first some
ips=$(grep -oE '"10\.79\.0\.[0-9]+"' "$tmp/apply-first.log" | tr -d '"' | sort -u)
[ -n "$ips" ] || { grep -A3 'Its addresses' "$tmp/apply-first.log" >&2; fail "no address from 10.79.0.0/24 printed"; }
for ip in $ips; do
  last=${ip##*.}
  if [ "$last" -lt 100 ] || [ "$last" -gt 200 ]; then fail "$ip is outside the DHCP range 10.79.0.100-200"; fi
done
echo "address: $ips"
step check-again 0 --check --diff
step apply-again 0
step remove some -e portable_state=absent
step remove-again 0 -e portable_state=absent
echo "ok: portable playbook on $backend"
