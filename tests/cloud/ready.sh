#!/usr/bin/env bash
# Waits until every service of the test cloud answers and the compute host is
# discovered; on failure names the service and prints the tail of its log.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export CONVERGE_CLOUD_STATE="$STATE" no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"
exec "$PY" "$CLOUD_DIR/python/cloud_setup.py" ready "${CONVERGE_CLOUD_READY_TIMEOUT:-300}"
