#!/usr/bin/env bash
# Shared settings for the local test cloud; sourced by the other scripts (which use the variables).
# shellcheck disable=SC2034
set -euo pipefail

CLOUD_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${CONVERGE_CLOUD_STATE:-/var/tmp/converge-virt-cloud}"
CACHE="${CONVERGE_CLOUD_CACHE:-${HOME:-/root}/.cache/converge-virt}"
CLOUD_PYTHON="${CONVERGE_CLOUD_PYTHON:-python3}"

# The venv is keyed by the pinned requirements and the in-tree ML2 driver, so
# a change to either builds a new one and re-runs reuse an existing one.
REQ_HASH="$(cat "$CLOUD_DIR/requirements.txt" "$CLOUD_DIR/python/converge_cloud_ml2.py" \
  | sha256sum | cut -c1-12)"
VENV="$CACHE/cloud-venv-$REQ_HASH"
PY="$VENV/bin/python"

ETC="$STATE/etc"
LOG="$STATE/log"
RUN="$STATE/run"
DATA="$STATE/data"

# Keep bytecode of the in-tree helpers out of the checkout.
export PYTHONDONTWRITEBYTECODE=1

HOST_IP=127.0.0.1
# Non-default ports for the Debian daemons, so a system MariaDB/RabbitMQ/
# memcached (if one is ever started) cannot collide with the test cloud.
DB_PORT=13306
DB_SOCK="$RUN/mysqld.sock"
RABBIT_PORT=5673
RABBIT_DIST_PORT=25673
EPMD_PORT=4370
MEMCACHED_PORT=11212
KEYSTONE_PORT=5000
GLANCE_PORT=9292
PLACEMENT_PORT=8778
NOVA_PORT=8774
NEUTRON_PORT=9696
CINDER_PORT=8776
SWIFT_PORT=8080
SWIFT_ACCOUNT_PORT=6202
SWIFT_CONTAINER_PORT=6201
SWIFT_OBJECT_PORT=6200

ADMIN_PASSWORD="${CONVERGE_CLOUD_ADMIN_PASSWORD:-admin-secret}"
SERVICE_PASSWORD="service-secret"
DB_PASSWORD="db-secret"
RABBIT_PASSWORD="rabbit-secret"
DEMO_PASSWORD="demo-secret"
REGION=RegionOne
# One fixed name for every service's host, so a changed machine hostname
# cannot orphan the compute node or the volume backend across restarts.
SERVICE_HOST=converge-cloud

APT_PACKAGES=(mariadb-server rabbitmq-server memcached qemu-utils)

log() { printf '%s [cloud] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Rabbit's shell wrappers read these; keep every file of the node in STATE.
rabbit_env() {
  export HOME="$DATA/rabbitmq"
  export RABBITMQ_NODENAME="converge@localhost"
  export RABBITMQ_NODE_IP_ADDRESS="$HOST_IP"
  export RABBITMQ_NODE_PORT="$RABBIT_PORT"
  export RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT"
  export ERL_EPMD_PORT="$EPMD_PORT"
  export ERL_EPMD_ADDRESS="$HOST_IP"
  export RABBITMQ_MNESIA_BASE="$DATA/rabbitmq/mnesia"
  export RABBITMQ_LOG_BASE="$LOG/rabbitmq"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$DATA/rabbitmq/enabled_plugins"
  export RABBITMQ_CONFIG_FILE="$ETC/rabbitmq/rabbitmq"
  export RABBITMQ_ADVANCED_CONFIG_FILE="$ETC/rabbitmq/advanced.config"
  export RABBITMQ_CONF_ENV_FILE="$ETC/rabbitmq/rabbitmq-env.conf"
  export RABBITMQ_PID_FILE="$RUN/rabbitmq.beam.pid"
  export RABBITMQ_SERVER_START_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export LC_ALL=C.UTF-8
}

# proc_start PID: the kernel's start time of PID (field 22 of /proc/PID/stat).
proc_start() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }

# pid_alive NAME: the process recorded in RUN/NAME.pid is running and is the
# one we started: its start time matches the one recorded beside the pid, so a
# pid recycled after a reboot is never mistaken for it.
pid_alive() {
  local name="$1" pid
  [[ -s "$RUN/$name.pid" && -s "$RUN/$name.start" ]] || return 1
  pid="$(cat "$RUN/$name.pid")"
  [[ -d "/proc/$pid" ]] || return 1
  [[ "$(proc_start "$pid")" == "$(cat "$RUN/$name.start")" ]]
}

# launch NAME CMD...: start CMD in the background with its own log and pid
# file, unless NAME is already running.
launch() {
  local name="$1"; shift
  if pid_alive "$name"; then
    log "$name already running (pid $(cat "$RUN/$name.pid"))"
    return 0
  fi
  mkdir -p "$LOG" "$RUN"
  log "starting $name"
  setsid "$@" >>"$LOG/$name.log" 2>&1 </dev/null 9>&- &
  local pid=$!
  echo "$pid" > "$RUN/$name.pid"
  proc_start "$pid" > "$RUN/$name.start"
}

# The order in which processes start; stop walks it backwards.
PROCESSES=(epmd mariadb rabbitmq memcached keystone placement glance
  neutron-api nova-api nova-conductor nova-scheduler nova-compute
  cinder-api cinder-scheduler cinder-volume
  swift-account swift-container swift-object swift-proxy)
