#!/usr/bin/env bash
# Stops the test cloud by its pid files only (each process runs in its own
# session, so its whole process group is signalled); keeps the state.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stop_one() {
  local name="$1" pid i
  if ! pid_alive "$name"; then rm -f "$RUN/$name.pid"; return 0; fi
  pid="$(cat "$RUN/$name.pid")"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do
    [[ -d "/proc/$pid" ]] || break
    sleep 0.25
  done
  if [[ -d "/proc/$pid" ]]; then
    log "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$name.pid"
}

[[ -d "$RUN" ]] || { log "nothing to stop (no $RUN)"; exit 0; }
for ((n = ${#PROCESSES[@]} - 1; n >= 0; n--)); do
  stop_one "${PROCESSES[n]}"
done
log "cloud stopped (state kept in $STATE)"
