#!/usr/bin/env bash
# Stops the test cloud by its pid files only (each process runs in its own
# session, so its whole process group is signalled); keeps the state.
# OpenStack services stop first, together; then the broker, cache and database.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

gone() { [[ ! -d "/proc/$1" ]] || [[ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" == Z ]]; }

# stop_group NAME...: SIGTERM every named process group, wait up to 20 s for
# all of them, SIGKILL what is left.
stop_group() {
  local name pid i left
  local -a pids=() names=()
  for name in "$@"; do
    if pid_alive "$name"; then
      pid="$(cat "$RUN/$name.pid")"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid"); names+=("$name")
    else
      rm -f "$RUN/$name.pid" "$RUN/$name.start"
    fi
  done
  for ((i = 0; i < 80; i++)); do
    left=0
    for pid in "${pids[@]}"; do gone "$pid" || left=1; done
    [[ $left -eq 0 ]] && break
    sleep 0.25
  done
  for i in "${!pids[@]}"; do
    pid="${pids[i]}"
    if ! gone "$pid"; then
      log "${names[i]} (pid $pid) ignored SIGTERM; sending SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN/${names[i]}.pid" "$RUN/${names[i]}.start"
  done
}

[[ -d "$RUN" ]] || { log "nothing to stop (no $RUN)"; exit 0; }
INFRA=(rabbitmq memcached mariadb epmd)
SERVICES=()
for name in "${PROCESSES[@]}"; do
  [[ " ${INFRA[*]} " == *" $name "* ]] || SERVICES+=("$name")
done
stop_group "${SERVICES[@]}"
stop_group rabbitmq memcached
stop_group mariadb
stop_group epmd
log "cloud stopped (state kept in $STATE)"
