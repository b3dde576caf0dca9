#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root): Debian packages, libvirtd (started by hand when not
# running), a venv with ansible-core, the collection built and installed; then runs the main job,
# playbooks/example.yml, which converges the example stack (playbooks/stacks/example.yml: a storage
# pool, a tiny guest image, an isolated network and two instances booted from clones of the image)
# on the local host with one converge.virt.stack task, and prints the plan and their IPs.
# Extra arguments go to ansible-playbook, e.g. `bash hack/demo.sh --check --diff`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cv_install_debs
cv_start_libvirtd
if (cv_python_for 2.21 >/dev/null 2>&1); then  # a subshell: it exits when 3.13 is missing
  venv=$(cv_venv 2.21)
else
  cv_log "Python 3.13 not found: using ansible-core 2.19 on Python 3.11 (install Python 3.13 for 2.21)"
  venv=$(cv_venv 2.19)
fi
collections=$(cv_install_collection "$venv")
# The instances boot a small image built here (Debian kernel, busybox init) and cached: this
# machine may have no internet to download a cloud image from.
cv_log "getting the tiny guest image (built once, then cached)"
img=$(bash "$CV_ROOT/hack/guest-images.sh" tiny)
cv_log "running playbooks/example.yml"
cd "$CV_ROOT"
ANSIBLE_COLLECTIONS_PATH="$collections" ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
  "$venv/bin/ansible-playbook" -i localhost, playbooks/example.yml -e example_guest_image="$img" "$@"
