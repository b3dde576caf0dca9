#!/usr/bin/env bash
# Starts the local test cloud; bootstraps it the first time (from an empty
# state dir).  Re-running it while the cloud is up only re-checks readiness;
# after a reboot it restarts the processes from the kept state.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ -f "$VENV/.complete" ]] || die "venv $VENV missing: run $CLOUD_DIR/install.sh first"
export CONVERGE_CLOUD_STATE="$STATE"
export PATH="$VENV/bin:$PATH"
# Local-only traffic: never route 127.0.0.1 through a proxy from the environment.
export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"
mkdir -p "$STATE" "$LOG" "$RUN"
exec 9>"$RUN/start.lock"
flock -w 600 9 || die "another start.sh holds $RUN/start.lock"

bash "$CLOUD_DIR/configure.sh"
done_mark() { [[ -f "$STATE/.done-$1" ]]; }
mark() { touch "$STATE/.done-$1"; }

# wait_port NAME PORT [SECONDS]: until something listens, else show its log.
wait_port() {
  local name="$1" port="$2" limit="${3:-120}" i
  for ((i = 0; i < limit * 2; i++)); do
    if (exec 3<>"/dev/tcp/$HOST_IP/$port") 2>/dev/null; then return 0; fi
    if ! pid_alive "$name"; then break; fi
    sleep 0.5
  done
  fail_service "$name" "does not listen on $HOST_IP:$port"
}
fail_service() {
  local name="$1"
  log "service $name FAILED: $2; last lines of $LOG/$name.log:"
  tail -n 40 "$LOG/$name.log" >&2 2>/dev/null || true
  exit 1
}
# claim_port NAME PORT: before starting NAME, make sure nobody else listens on
# its port (e.g. a test's own HTTP server), rather than fail obscurely later.
claim_port() {
  pid_alive "$1" && return 0
  if (exec 3<>"/dev/tcp/$HOST_IP/$2") 2>/dev/null; then
    die "cannot start $1: $HOST_IP:$2 is already in use by a process that is not part of the test cloud"
  fi
}
mysql_root() { mariadb --no-defaults --socket="$DB_SOCK" -uroot "$@"; }

# ---- MariaDB -------------------------------------------------------------
if [[ ! -d "$DATA/mysql/mysql" ]]; then
  log "initialising MariaDB data dir"
  mariadb-install-db --defaults-file="$ETC/mysql/my.cnf" --auth-root-authentication-method=socket \
    --skip-test-db >"$LOG/mariadb-install.log" 2>&1 || fail_service mariadb-install "mariadb-install-db failed"
fi
claim_port mariadb "$DB_PORT"
launch mariadb mariadbd --defaults-file="$ETC/mysql/my.cnf"
wait_port mariadb "$DB_PORT" 60
if ! done_mark databases; then
  for db in keystone glance placement nova_api nova nova_cell0 neutron cinder; do
    mysql_root -e "CREATE DATABASE IF NOT EXISTS $db;
      CREATE USER IF NOT EXISTS '$db'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
      GRANT ALL ON $db.* TO '$db'@'127.0.0.1';"
  done
  # nova's cells share one user per cell database: let the nova user reach cell0.
  mysql_root -e "GRANT ALL ON nova_cell0.* TO 'nova'@'127.0.0.1'; GRANT ALL ON nova_api.* TO 'nova'@'127.0.0.1';"
  mark databases
fi

# ---- RabbitMQ and memcached ----------------------------------------------
claim_port epmd "$EPMD_PORT"
claim_port rabbitmq "$RABBIT_PORT"
claim_port memcached "$MEMCACHED_PORT"
launch epmd epmd -address "$HOST_IP" -port "$EPMD_PORT"
(rabbit_env; launch rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-server)
launch memcached memcached -l "$HOST_IP" -p "$MEMCACHED_PORT" -U 0 -m 64 -u root
wait_port rabbitmq "$RABBIT_PORT" 120
if ! done_mark rabbit-user; then
  (rabbit_env
   /usr/lib/rabbitmq/bin/rabbitmqctl add_user converge "$RABBIT_PASSWORD" >/dev/null 2>&1 \
     || /usr/lib/rabbitmq/bin/rabbitmqctl change_password converge "$RABBIT_PASSWORD" >/dev/null
   /usr/lib/rabbitmq/bin/rabbitmqctl set_permissions converge '.*' '.*' '.*' >/dev/null)
  mark rabbit-user
fi
wait_port memcached "$MEMCACHED_PORT" 30

# gunicorn_launch NAME SERVICE PORT: one API behind gunicorn on 127.0.0.1.
# --keep-alive well above the clients' 2 s polling: with gunicorn's default
# (2 s) a poll could reuse a connection just as the server closed it.
gunicorn_launch() {
  claim_port "$1" "$3"
  launch "$1" gunicorn --pythonpath "$CLOUD_DIR/python" --bind "$HOST_IP:$3" \
    --workers 1 --worker-class gthread --threads 4 --timeout 300 --graceful-timeout 5 \
    --keep-alive 75 \
    --name "converge-$1" "cloud_wsgi:app(\"$2\")"
}

# ---- Keystone ------------------------------------------------------------
if ! done_mark keystone; then
  log "bootstrapping keystone"
  ks() { keystone-manage --config-file "$ETC/keystone/keystone.conf" "$@"; }
  {
    mkdir -p "$DATA/keystone/fernet-keys" "$DATA/keystone/credential-keys"
    ks db_sync
    ks fernet_setup --keystone-user root --keystone-group root
    ks credential_setup --keystone-user root --keystone-group root
    ks bootstrap --bootstrap-password "$ADMIN_PASSWORD" \
      --bootstrap-admin-url "http://$HOST_IP:$KEYSTONE_PORT/v3" \
      --bootstrap-internal-url "http://$HOST_IP:$KEYSTONE_PORT/v3" \
      --bootstrap-public-url "http://$HOST_IP:$KEYSTONE_PORT/v3" \
      --bootstrap-region-id "$REGION"
  } >"$LOG/keystone-bootstrap.log" 2>&1 || fail_service keystone-bootstrap "keystone bootstrap failed"
  mark keystone
fi
gunicorn_launch keystone keystone "$KEYSTONE_PORT"
wait_port keystone "$KEYSTONE_PORT" 60

# ---- Database schemas (in parallel; each only once) ------------------------
SCHEMA_JOBS=()
schema() {
  local name="$1"; shift
  done_mark "schema-$name" && return 0
  ( "$@" >"$LOG/$name-db-sync.log" 2>&1 && mark "schema-$name" ) &
  SCHEMA_JOBS+=($!)
}
NOVA_MANAGE=(nova-manage --config-file "$ETC/nova/nova.conf")
schema glance glance-manage --config-file "$ETC/glance/glance-api.conf" db_sync
schema placement placement-manage --config-file "$ETC/placement/placement.conf" db sync
schema neutron neutron-db-manage --config-file "$ETC/neutron/neutron.conf" \
  --config-file "$ETC/neutron/ml2_conf.ini" upgrade heads
schema cinder cinder-manage --config-file "$ETC/cinder/cinder.conf" db sync
schema nova bash -c "set -e; $(printf '%q ' "${NOVA_MANAGE[@]}") api_db sync
  $(printf '%q ' "${NOVA_MANAGE[@]}") cell_v2 map_cell0 --database_connection \
    'mysql+pymysql://nova:$DB_PASSWORD@$HOST_IP:$DB_PORT/nova_cell0?charset=utf8'
  $(printf '%q ' "${NOVA_MANAGE[@]}") cell_v2 list_cells | grep -q ' cell1 ' || \
    $(printf '%q ' "${NOVA_MANAGE[@]}") cell_v2 create_cell --name cell1 --verbose
  $(printf '%q ' "${NOVA_MANAGE[@]}") db sync"
# Service users and the catalog must exist before nova-conductor starts.
if ! done_mark catalog; then
  log "creating service users and catalog"
  "$PY" "$CLOUD_DIR/python/cloud_setup.py" catalog >"$LOG/catalog.log" 2>&1 \
    || fail_service catalog "service users / catalog setup failed"
  mark catalog
fi
# Wait for the schema jobs only: a bare `wait` would also wait for the daemons.
for job in "${SCHEMA_JOBS[@]}"; do wait "$job" || true; done
for name in glance placement neutron cinder nova; do
  done_mark "schema-$name" || fail_service "$name-db-sync" "schema sync of $name failed"
done

# ---- Swift rings -----------------------------------------------------------
if ! done_mark swift-rings; then
  log "building swift rings"
  for kind in account container object; do
    port_var="SWIFT_${kind^^}_PORT"
    ( cd "$ETC/swift"
      rm -f "$kind.builder" "$kind.ring.gz"
      swift-ring-builder "$kind.builder" create 8 1 1
      swift-ring-builder "$kind.builder" add "r1z1-$HOST_IP:${!port_var}/d1" 100
      swift-ring-builder "$kind.builder" rebalance ) >"$LOG/swift-rings.log" 2>&1 || true
    [[ -f "$ETC/swift/$kind.ring.gz" ]] || fail_service swift-rings "ring $kind not built"
  done
  mark swift-rings
fi

# ---- OpenStack services ------------------------------------------------------
gunicorn_launch placement placement "$PLACEMENT_PORT"
gunicorn_launch glance glance "$GLANCE_PORT"
gunicorn_launch neutron-api neutron "$NEUTRON_PORT"
gunicorn_launch nova-api nova "$NOVA_PORT"
gunicorn_launch cinder-api cinder "$CINDER_PORT"
for svc in conductor scheduler compute; do
  launch "nova-$svc" "nova-$svc" --config-file "$ETC/nova/nova.conf"
done
for svc in scheduler volume; do
  # cinder-volume loads the test cloud's volume driver from tests/cloud/python.
  launch "cinder-$svc" env PYTHONPATH="$CLOUD_DIR/python" "cinder-$svc" --config-file "$ETC/cinder/cinder.conf"
done
for kind in account container object proxy; do
  port_var="SWIFT_${kind^^}_PORT"; [[ $kind == proxy ]] && port_var=SWIFT_PORT
  claim_port "swift-$kind" "${!port_var}"
  launch "swift-$kind" "swift-$kind-server" "$ETC/swift/$kind-server.conf" --verbose
done

"$CLOUD_DIR/ready.sh"

if ! done_mark resources; then
  log "creating networks, flavors, demo project"
  "$PY" "$CLOUD_DIR/python/cloud_setup.py" resources >"$LOG/resources.log" 2>&1 \
    || fail_service resources "creating the cloud's resources failed"
  mark resources
fi
"$PY" "$CLOUD_DIR/python/cloud_setup.py" clouds-yaml
log "cloud is up; OS_CLIENT_CONFIG_FILE=$STATE/clouds.yaml (clouds: admin, demo)"
