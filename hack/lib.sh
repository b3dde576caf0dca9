# shellcheck shell=bash
# Shared helpers for the repo's scripts (sourced, never executed).
# Everything a fresh Debian 12 machine needs is installed from here, idempotently.

CV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CV_CACHE=${CONVERGE_VIRT_CACHE:-$HOME/.cache/converge-virt}
CV_BUILD=${CONVERGE_VIRT_BUILD:-$CV_ROOT/build}

CV_DEBS=(libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils libvirt-dev
         pkg-config dnsmasq-base ovmf iproute2 iptables libxml2-utils gcc python3-dev
         python3-venv rsync git)

cv_log() { printf '\n==> %s\n' "$*" >&2; }
cv_die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Debian packages: only the missing ones are installed.
cv_install_debs() {
  local missing=() pkg
  for pkg in "${CV_DEBS[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || cv_die "missing Debian packages (${missing[*]}); run as root or install them"
  cv_log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  local try
  for try in 1 2 3 4 5 6; do  # another apt run may hold the lock for a while
    if apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
      return 0
    fi
    cv_log "apt-get failed (attempt $try); retrying in 20 s"
    sleep 20
  done
  cv_die "could not install ${missing[*]}"
}

# libvirtd without systemd: start virtlogd and libvirtd by hand unless they run already.
cv_start_libvirtd() {
  # Without udev, /dev/kvm stays root-only: libvirt then flips between "KVM works" (probing as
  # root) and "KVM unusable" (as libvirt-qemu), discards its capability cache on every call and
  # each domain start takes ~50 s. Give it the kvm group and mode udev would.
  if [ -c /dev/kvm ] && [ "$(id -u)" -eq 0 ] && getent group kvm >/dev/null; then
    chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
  fi
  if virsh -c qemu:///system version >/dev/null 2>&1; then return 0; fi
  cv_log "starting virtlogd and libvirtd (no systemd here)"
  pgrep -x virtlogd >/dev/null || virtlogd -d
  pgrep -x libvirtd >/dev/null || libvirtd -d
  local _
  for _ in $(seq 1 60); do
    virsh -c qemu:///system version >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  cv_die "libvirtd did not answer on qemu:///system within 30 s (see /var/log/libvirt/)"
}

# The Python interpreter for a test leg: 2.21 needs Python >= 3.12 (we use 3.13), 2.19 uses 3.11.
cv_python_for() {
  local leg=$1 want cand
  case "$leg" in
    2.21) want=3.13 ;;
    2.19) want=3.11 ;;
    *) cv_die "unknown leg $leg" ;;
  esac
  for cand in "${CONVERGE_VIRT_PYTHON:-}" "$(command -v "python$want" 2>/dev/null)" \
              "$(pyenv root 2>/dev/null)"/versions/"$want"*/bin/python3 \
              "$HOME"/.pyenv/versions/"$want"*/bin/python3 /usr/bin/python3; do
    if [ -z "$cand" ] || [ ! -x "$cand" ]; then continue; fi
    if "$cand" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$want' else 1)" 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  cv_die "Python $want is needed for ansible-core $leg but was not found.
Install it (for example: 'pyenv install $want' or 'apt-get install python$want'), or point
CONVERGE_VIRT_PYTHON at a Python $want interpreter."
}

# A venv per leg, keyed by the hash of its pinned requirements, reused across runs and checkouts.
cv_venv() {
  local leg=$1 py req hash venv
  py=$(cv_python_for "$leg")
  req="$CV_ROOT/tests/requirements/ansible-$leg.txt"
  hash=$(cat "$req" "$CV_ROOT/tests/requirements/common.txt" | sha256sum | cut -c1-12)
  venv="$CV_CACHE/venv-$leg-$hash"
  if [ ! -x "$venv/bin/ansible-playbook" ] || [ ! -f "$venv/.complete" ]; then
    cv_log "creating venv $venv (Python $("$py" -V 2>&1 | cut -d' ' -f2), ansible-core $leg)"
    rm -rf "$venv"
    mkdir -p "$CV_CACHE"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip >&2
    (cd "$CV_ROOT/tests/requirements" && "$venv/bin/python" -m pip install -q -r "ansible-$leg.txt" >&2)
    touch "$venv/.complete"
  fi
  echo "$venv"
}

# A copy of the collection's tracked (and new, unignored) files under .../ansible_collections/converge/virt,
# the layout ansible-test and Python imports of ansible_collections.* need.
cv_collection_tree() {
  local dest="$CV_BUILD/collections/ansible_collections/converge/virt"
  mkdir -p "$dest"
  (cd "$CV_ROOT" && git ls-files -z --cached --others --exclude-standard \
     | rsync -a --from0 --files-from=- ./ "$dest/") >&2
  # rsync --files-from does not delete stale files: prune what git no longer lists.
  (cd "$CV_ROOT" && git ls-files --cached --others --exclude-standard | sort) > "$CV_BUILD/.files"
  (cd "$dest" && find . \( -path ./.git -o -path ./tests/output \) -prune -o -type f -print \
     | sed 's|^\./||' | sort) \
     | comm -23 - "$CV_BUILD/.files" | (cd "$dest" && xargs -r rm -f)
  # ansible-test needs a git work tree to list the collection's files; make it one that mirrors ours.
  if [ ! -d "$dest/.git" ]; then git -C "$dest" init -q; fi
  git -C "$dest" add -A >/dev/null 2>&1
  echo "$dest"
}

# Build the collection artifact and install it where ansible-playbook will find it.
cv_install_collection() {
  local venv=$1 out="$CV_BUILD/dist" coll="$CV_BUILD/installed"
  rm -rf "$out" && mkdir -p "$out" "$coll"
  cv_log "building and installing the converge.virt collection"
  (cd "$CV_ROOT" && "$venv/bin/ansible-galaxy" collection build --force --output-path "$out" . >&2)
  "$venv/bin/ansible-galaxy" collection install --force -p "$coll" "$out"/converge-virt-*.tar.gz >&2
  echo "$coll"
}

# ansible-test bootstraps pip in its venvs with a script from a host we cannot reach; give it ours.
cv_get_pip_standin() {
  local venv=$1 version
  version=$(sed -n "s/^ *pip='\([0-9.]*\)',$/\1/p" \
    "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -1)
  [ -n "$version" ] || cv_die "cannot find ansible-test's pip version in $venv"
  mkdir -p "$HOME/.ansible/test/cache"
  cp "$CV_ROOT/hack/get-pip-standin.py" "$HOME/.ansible/test/cache/get_pip_${version//./_}.py"
}
