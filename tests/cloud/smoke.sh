#!/usr/bin/env bash
# Runs the smoke test against the running test cloud with the cloud venv's
# pytest and openstacksdk; exits non-zero on any failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ -f "$STATE/clouds.yaml" ]] || die "no $STATE/clouds.yaml: run $CLOUD_DIR/start.sh first"
export OS_CLIENT_CONFIG_FILE="$STATE/clouds.yaml" CONVERGE_CLOUD_SMOKE=1
export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"
export PATH="$VENV/bin:$PATH"
cd "$CLOUD_DIR"
exec "$PY" -m pytest -p no:cacheprovider --rootdir "$CLOUD_DIR" -c /dev/null \
  -o console_output_style=classic -p no:warnings -v "$@" "$CLOUD_DIR/test_smoke.py"
