#!/usr/bin/env bash
# Installs what the test cloud needs: Debian packages (skipped when present)
# and the pinned OpenStack venv under the cache dir (reused when it exists).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install_apt() {
  local missing=() pkg wanted=("${APT_PACKAGES[@]}")
  # Debian's own python3 needs python3-venv for `-m venv` (pyenv's does not).
  if ! "$CLOUD_PYTHON" -c 'import ensurepip' 2>/dev/null \
      && [[ "$(command -v "$CLOUD_PYTHON")" == /usr/bin/* ]]; then
    wanted+=("python3-venv")
  fi
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && { log "apt: all packages present"; return 0; }
  log "apt: installing ${missing[*]}"
  # Another job may hold the dpkg lock: wait for it, never break it.
  local try out
  for try in $(seq 1 90); do
    if out="$(DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}" 2>&1)"; then
      return 0
    fi
    if grep -qiE "could not (get|open) lock|unable to acquire the dpkg|dpkg frontend lock" <<<"$out"; then
      sleep 10
    elif [[ $try -le 2 ]]; then
      log "apt: install failed, refreshing package lists"
      apt-get update -q >/dev/null 2>&1 || sleep 10
    else
      echo "$out" | tail -20 >&2
      die "apt-get install ${missing[*]} failed"
    fi
  done
  die "apt: dpkg lock still held after 15 minutes"
}

install_venv() {
  if [[ -x "$PY" && -f "$VENV/.complete" ]]; then
    log "venv: reusing $VENV"
    return 0
  fi
  command -v "$CLOUD_PYTHON" >/dev/null || die "no $CLOUD_PYTHON (set CONVERGE_CLOUD_PYTHON)"
  log "venv: building $VENV"
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  "$CLOUD_PYTHON" -m venv "$VENV"
  # --no-deps: requirements.txt is the complete resolved set; nothing may drift.
  "$PY" -m pip install -q --no-deps -r "$CLOUD_DIR/requirements.txt"
  local site
  site="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  # The ML2 driver is loaded by entry-point name, so register it as a tiny
  # installed distribution.
  cp "$CLOUD_DIR/python/converge_cloud_ml2.py" "$site/"
  local dist="$site/converge_cloud_ml2-1.0.dist-info"
  mkdir -p "$dist"
  printf 'Metadata-Version: 2.1\nName: converge-cloud-ml2\nVersion: 1.0\n' > "$dist/METADATA"
  printf '[neutron.ml2.mechanism_drivers]\nconverge_tap = converge_cloud_ml2:TapBindAllDriver\n' \
    > "$dist/entry_points.txt"
  printf 'converge_cloud_ml2.py,,\nconverge_cloud_ml2-1.0.dist-info/METADATA,,\n' > "$dist/RECORD"
  "$PY" -c 'import nova, neutron, cinder, glance, keystone, placement, swift, openstack' \
    || die "venv import check failed"
  touch "$VENV/.complete"
}

mkdir -p "$STATE"
install_apt
install_venv
