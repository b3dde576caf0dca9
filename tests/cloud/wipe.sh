#!/usr/bin/env bash
# Stops the test cloud and deletes its whole state dir (the venv is kept).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
"$CLOUD_DIR/stop.sh"
case "$STATE" in
  ""|/|/var|/var/tmp|/tmp|"$HOME") die "refusing to wipe '$STATE'" ;;
esac
rm -rf -- "$STATE"
log "wiped $STATE"
