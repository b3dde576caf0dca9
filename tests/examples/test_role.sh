#!/usr/bin/env bash
# Runs the hypervisor role's Molecule scenario (molecule/hypervisor): `molecule test -s hypervisor`
# converges converge.virt.hypervisor on a real target the scenario creates (a Debian 12 root in its
# own network, mount, UTS and PID namespaces, built once with mmdebstrap and cached), runs it again
# (idempotence: changed=0), verifies libvirtd, the pool, the isolated network, the qemu (TCG)
# fallback (KVM is advertised here but does not boot guests), the failure with
# hypervisor_require_kvm, and qemu+ssh:// as the remote user; then destroys the target.
# Usage: test_role.sh VENV [COLLECTIONS_ROOT]
#   VENV              a leg's venv (hack/lib.sh cv_venv); Molecule is installed into it, its
#                     ansible-core pin kept
#   COLLECTIONS_ROOT  a directory holding ansible_collections/converge/virt (default: a synced
#                     copy of this checkout, hack/lib.sh cv_collection_tree)
set -euo pipefail
venv=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=/dev/null
source "$root/hack/lib.sh"

# The target's root is built with mmdebstrap; nsenter/unshare (util-linux) and ip (iproute2) run it;
# ssh-keygen makes the remote access user's key.
# shellcheck disable=SC2034 # read by cv_install_debs (hack/lib.sh)
CV_DEBS=(mmdebstrap iproute2 util-linux openssh-client)
cv_install_debs

core=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("ansible-core"))')
want=$(sed -n 's/^molecule==//p' "$root/tests/requirements/molecule.txt")
have=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("molecule"))' 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  cv_log "installing Molecule $want into $venv (ansible-core $core kept)"
  "$venv/bin/python" -m pip install -q -r "$root/tests/requirements/molecule.txt" "ansible-core==$core" >&2
fi

if [ -n "${2:-}" ]; then
  collections=$(cd "$2" && pwd)
else
  collections=$(cd "$(cv_collection_tree)/../../.." && pwd)
fi
coll="$collections/ansible_collections/converge/virt"
[ -d "$coll/molecule/hypervisor" ] || cv_die "no molecule/hypervisor under $coll"

export ANSIBLE_COLLECTIONS_PATH=$collections PATH="$venv/bin:$PATH" NO_COLOR=1 PY_COLORS=0 ANSIBLE_NOCOLOR=1
start=$SECONDS
(cd "$coll" && molecule test -s hypervisor)
echo "ok: molecule test -s hypervisor passed in $((SECONDS - start)) s"
