#!/usr/bin/env bash
# Writes every configuration file of the test cloud under $STATE/etc.
# Safe to re-run: the files are regenerated from lib.sh's settings.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

db_url() { echo "mysql+pymysql://$1:$DB_PASSWORD@$HOST_IP:$DB_PORT/$1?charset=utf8"; }
TRANSPORT="rabbit://converge:$RABBIT_PASSWORD@$HOST_IP:$RABBIT_PORT/"
KS="http://$HOST_IP:$KEYSTONE_PORT"

# auth_section USER: keystoneauth password options for a service user.
auth_opts() {
  cat <<EOT
auth_type = password
auth_url = $KS/v3
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = $SERVICE_PASSWORD
region_name = $REGION
EOT
}

authtoken() {
  cat <<EOT
[keystone_authtoken]
www_authenticate_uri = $KS
memcached_servers = $HOST_IP:$MEMCACHED_PORT
service_token_roles_required = true
$(auth_opts "$1")
EOT
}

common_default() {
  # periodic_fuzzy_delay: no random start delay (up to 60 s) before periodic
  # tasks such as the scheduler's compute host discovery.
  cat <<EOT
periodic_fuzzy_delay = 0
use_stderr = true
debug = false
transport_url = $TRANSPORT
host = $SERVICE_HOST
my_ip = $HOST_IP
EOT
}

mkdir -p "$ETC"/{mysql,rabbitmq,keystone,glance,placement,nova,neutron,cinder,swift} \
  "$LOG/rabbitmq" "$RUN" "$DATA"/{mysql,rabbitmq,keystone,glance,nova,neutron,cinder,swift/devices/d1}
SITE_ETC="$VENV/etc"

cat > "$ETC/mysql/my.cnf" <<EOT
[mysqld]
datadir = $DATA/mysql
socket = $DB_SOCK
port = $DB_PORT
bind-address = $HOST_IP
pid-file = $RUN/mysqld.real.pid
user = root
skip-name-resolve
max_connections = 1000
innodb_buffer_pool_size = 64M
innodb_log_file_size = 32M
innodb_flush_log_at_trx_commit = 2
skip-log-bin
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
log-error = $LOG/mariadb.err
EOT

echo '[].' > "$DATA/rabbitmq/enabled_plugins"
cat > "$ETC/rabbitmq/rabbitmq.conf" <<EOT
listeners.tcp.default = $HOST_IP:$RABBIT_PORT
loopback_users = none
log.console = true
log.file = false
EOT
: > "$ETC/rabbitmq/rabbitmq-env.conf"

# ---- Keystone ------------------------------------------------------------
cat > "$ETC/keystone/keystone.conf" <<EOT
[DEFAULT]
use_stderr = true
[database]
connection = $(db_url keystone)
[token]
provider = fernet
[fernet_tokens]
key_repository = $DATA/keystone/fernet-keys
[fernet_receipts]
key_repository = $DATA/keystone/fernet-keys
[credential]
key_repository = $DATA/keystone/credential-keys
EOT

# ---- Glance --------------------------------------------------------------
cp "$SITE_ETC/glance/glance-api-paste.ini" "$ETC/glance/glance-api-paste.ini"
cat > "$ETC/glance/glance-api.conf" <<EOT
[DEFAULT]
use_stderr = true
enabled_backends = fs:file
worker_self_reference_url = http://$HOST_IP:$GLANCE_PORT
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = $DATA/glance/images
[os_glance_staging_store]
filesystem_store_datadir = $DATA/glance/staging
[os_glance_tasks_store]
filesystem_store_datadir = $DATA/glance/tasks
[database]
connection = $(db_url glance)
$(authtoken glance)
[paste_deploy]
flavor = keystone
config_file = $ETC/glance/glance-api-paste.ini
[oslo_concurrency]
lock_path = $DATA/glance/lock
EOT

# ---- Placement -----------------------------------------------------------
cat > "$ETC/placement/placement.conf" <<EOT
[DEFAULT]
use_stderr = true
[placement_database]
connection = $(db_url placement)
[api]
auth_strategy = keystone
$(authtoken placement)
EOT

# ---- Nova ----------------------------------------------------------------
cp "$SITE_ETC/nova/api-paste.ini" "$ETC/nova/api-paste.ini"
cat > "$ETC/nova/nova.conf" <<EOT
[DEFAULT]
$(common_default)
state_path = $DATA/nova
instances_path = $DATA/nova/instances
compute_driver = fake.FakeDriverWithoutFakeNodes
allow_resize_to_same_host = true
vif_plugging_is_fatal = false
vif_plugging_timeout = 0
[wsgi]
api_paste_config = $ETC/nova/api-paste.ini
[api]
auth_strategy = keystone
[api_database]
connection = $(db_url nova_api)
[database]
connection = $(db_url nova)
$(authtoken nova)
[service_user]
send_service_user_token = true
$(auth_opts nova)
[placement]
$(auth_opts nova)
[neutron]
$(auth_opts nova)
[cinder]
os_region_name = $REGION
$(auth_opts nova)
[glance]
region_name = $REGION
[scheduler]
discover_hosts_in_cells_interval = 2
workers = 1
[conductor]
workers = 1
[oslo_concurrency]
lock_path = $DATA/nova/lock
[oslo_messaging_notifications]
driver = noop
[vnc]
enabled = false
[spice]
enabled = false
[key_manager]
backend = nova.keymgr.conf_key_mgr.ConfKeyManager
EOT

# ---- Neutron -------------------------------------------------------------
cp "$SITE_ETC/neutron/api-paste.ini" "$ETC/neutron/api-paste.ini"
cat > "$ETC/neutron/neutron.conf" <<EOT
[DEFAULT]
$(common_default)
state_path = $DATA/neutron
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
api_paste_config = $ETC/neutron/api-paste.ini
allow_overlapping_ips = true
dhcp_agent_notification = false
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
[database]
connection = $(db_url neutron)
$(authtoken neutron)
[nova]
$(auth_opts nova)
[oslo_concurrency]
lock_path = $DATA/neutron/lock
EOT
cat > "$ETC/neutron/ml2_conf.ini" <<EOT
[ml2]
type_drivers = flat,vxlan
tenant_network_types = vxlan
mechanism_drivers = converge_tap
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
[ml2_type_vxlan]
vni_ranges = 1:1000
[securitygroup]
firewall_driver = noop
EOT

# ---- Cinder --------------------------------------------------------------
cp "$SITE_ETC/cinder/api-paste.ini" "$ETC/cinder/api-paste.ini"
cp "$SITE_ETC/cinder/resource_filters.json" "$ETC/cinder/resource_filters.json"
cat > "$ETC/cinder/cinder.conf" <<EOT
[DEFAULT]
$(common_default)
state_path = $DATA/cinder
auth_strategy = keystone
api_paste_config = $ETC/cinder/api-paste.ini
resource_query_filters_file = $ETC/cinder/resource_filters.json
enabled_backends = fake
osapi_volume_workers = 1
[fake]
volume_driver = converge_cloud_cinder.FakeImageVolumeDriver
volume_backend_name = fake
[database]
connection = $(db_url cinder)
$(authtoken cinder)
[nova]
$(auth_opts nova)
[oslo_concurrency]
lock_path = $DATA/cinder/lock
[oslo_messaging_notifications]
driver = noop
[coordination]
backend_url = file://$DATA/cinder/coordination
# Everything runs as root without sudo (not installed): privsep daemons start directly, not
# through "sudo cinder-rootwrap" (needed to create a volume from an image).
[cinder_sys_admin]
helper_command = $VENV/bin/privsep-helper --config-file $ETC/cinder/cinder.conf
[privsep_osbrick]
helper_command = $VENV/bin/privsep-helper --config-file $ETC/cinder/cinder.conf
EOT

# ---- Swift ---------------------------------------------------------------
cat > "$ETC/swift/swift.conf" <<EOT
[swift-hash]
swift_hash_path_suffix = converge-virt-test-cloud
swift_hash_path_prefix = converge
[storage-policy:0]
name = Policy-0
default = yes
EOT
swift_common() {
  cat <<EOT
[DEFAULT]
bind_ip = $HOST_IP
bind_port = $1
workers = 0
swift_dir = $ETC/swift
devices = $DATA/swift/devices
mount_check = false
log_level = INFO
EOT
}
for kind in account container object; do
  port_var="SWIFT_${kind^^}_PORT"
  { swift_common "${!port_var}"
    cat <<EOT
[pipeline:main]
pipeline = healthcheck $kind-server
[filter:healthcheck]
use = egg:swift#healthcheck
[app:$kind-server]
use = egg:swift#$kind
[$kind-replicator]
[$kind-updater]
[$kind-auditor]
EOT
  } > "$ETC/swift/$kind-server.conf"
done
{ swift_common "$SWIFT_PORT"
  cat <<EOT
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats authtoken keystoneauth copy dlo versioned_writes symlink proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:cache]
use = egg:swift#memcache
memcache_servers = $HOST_IP:$MEMCACHED_PORT
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
[filter:symlink]
use = egg:swift#symlink
[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, member
reseller_admin_role = ResellerAdmin
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = $KS
memcached_servers = $HOST_IP:$MEMCACHED_PORT
delay_auth_decision = true
$(auth_opts swift)
EOT
} > "$ETC/swift/proxy-server.conf"
