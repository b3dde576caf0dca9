"""Creates the test cloud's Keystone catalog, its resources and clouds.yaml.

Usage: cloud_setup.py catalog | resources | clouds-yaml | ready [SECONDS]

Every step is idempotent: it looks a thing up before creating it.  Settings
come from the environment that start.sh exports (see lib.sh); the defaults
below mirror lib.sh.
"""

import datetime
import os
import sys
import time
import urllib.error
import urllib.request

import openstack
import pymysql
import yaml

STATE = os.environ.get("CONVERGE_CLOUD_STATE", "/var/tmp/converge-virt-cloud")
IP = "127.0.0.1"
REGION = "RegionOne"
ADMIN_PASSWORD = os.environ.get("CONVERGE_CLOUD_ADMIN_PASSWORD", "admin-secret")
SERVICE_PASSWORD = "service-secret"
DEMO_PASSWORD = "demo-secret"
DB = {"host": IP, "port": 13306, "password": "db-secret"}
KEYSTONE = f"http://{IP}:5000/v3"

SERVICES = [
    # (user, service name, type, url)
    ("glance", "glance", "image", f"http://{IP}:9292"),
    ("placement", "placement", "placement", f"http://{IP}:8778"),
    ("nova", "nova", "compute", f"http://{IP}:8774/v2.1"),
    ("neutron", "neutron", "network", f"http://{IP}:9696"),
    ("cinder", "cinderv3", "block-storage", f"http://{IP}:8776/v3/%(project_id)s"),
    ("swift", "swift", "object-store", f"http://{IP}:8080/v1/AUTH_%(project_id)s"),
]
FLAVORS = [
    # name, vcpus, ram MiB, disk GiB
    ("m1.tiny", 1, 256, 1),
    ("m1.small", 1, 1024, 10),
    ("m1.medium", 2, 4096, 20),
]
# Documentation range (RFC 5737): only rows in Neutron's database, never routed.
EXTERNAL_CIDR = "203.0.113.0/24"


def admin_auth(project="admin"):
    return {
        "auth_url": KEYSTONE,
        "username": "admin",
        "password": ADMIN_PASSWORD,
        "project_name": project,
        "user_domain_name": "Default",
        "project_domain_name": "Default",
    }


def connect():
    return openstack.connect(auth=admin_auth(), region_name=REGION,
                             identity_api_version="3")


def ensure_role(conn, name):
    return conn.identity.find_role(name) or conn.identity.create_role(name=name)


def ensure_project(conn, name, description):
    return (conn.identity.find_project(name, domain_id="default")
            or conn.identity.create_project(name=name, domain_id="default",
                                            description=description))


def ensure_user(conn, name, password, project):
    user = conn.identity.find_user(name, domain_id="default")
    if user is None:
        user = conn.identity.create_user(
            name=name, password=password, domain_id="default",
            default_project_id=project.id)
    return user


def grant(conn, user, project, role_name):
    role = ensure_role(conn, role_name)
    conn.identity.assign_project_role_to_user(project, user, role)


def catalog():
    conn = connect()
    service_project = ensure_project(conn, "service", "OpenStack service users")
    for role in ("admin", "member", "reader", "service"):
        ensure_role(conn, role)
    region = conn.identity.find_region(REGION)
    for user_name, name, stype, url in SERVICES:
        user = ensure_user(conn, user_name, SERVICE_PASSWORD, service_project)
        grant(conn, user, service_project, "admin")
        grant(conn, user, service_project, "service")
        service = conn.identity.find_service(name) or conn.identity.create_service(
            name=name, type=stype, enabled=True)
        have = {e.interface for e in conn.identity.endpoints(service_id=service.id)}
        for interface in ("public", "internal", "admin"):
            if interface not in have:
                conn.identity.create_endpoint(
                    service_id=service.id, interface=interface, url=url,
                    region_id=region.id)
    print("catalog ready")


def resources():
    conn = connect()
    demo_project = ensure_project(conn, "demo", "Non-admin test project")
    demo = ensure_user(conn, "demo", DEMO_PASSWORD, demo_project)
    grant(conn, demo, demo_project, "member")
    grant(conn, demo, demo_project, "reader")
    for name, vcpus, ram, disk in FLAVORS:
        if conn.compute.find_flavor(name, ignore_missing=True) is None:
            conn.compute.create_flavor(name=name, vcpus=vcpus, ram=ram, disk=disk,
                                       is_public=True)
    net = conn.network.find_network("external")
    if net is None:
        net = conn.network.create_network(
            name="external", is_router_external=True, is_shared=False,
            provider_network_type="flat", provider_physical_network="external")
    if not list(conn.network.subnets(network_id=net.id)):
        conn.network.create_subnet(
            name="external-subnet", network_id=net.id, ip_version=4,
            cidr=EXTERNAL_CIDR, gateway_ip="203.0.113.1", is_dhcp_enabled=False,
            allocation_pools=[{"start": "203.0.113.10", "end": "203.0.113.250"}])
    print("resources ready")


def clouds_yaml():
    def cloud(user, password, project):
        return {
            "auth": {
                "auth_url": KEYSTONE,
                "username": user,
                "password": password,
                "project_name": project,
                "user_domain_name": "Default",
                "project_domain_name": "Default",
            },
            "region_name": REGION,
            "identity_api_version": "3",
            "interface": "public",
        }

    doc = {"clouds": {
        "admin": cloud("admin", ADMIN_PASSWORD, "admin"),
        "demo": cloud("demo", DEMO_PASSWORD, "demo"),
    }}
    path = os.path.join(STATE, "clouds.yaml")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write("# Written by tests/cloud/start.sh: the local test cloud.\n")
        yaml.safe_dump(doc, handle, default_flow_style=False)
    os.replace(tmp, path)


# ---- readiness -------------------------------------------------------------

# check name -> (url, log of the process that serves it)
HTTP_CHECKS = [
    ("keystone", f"http://{IP}:5000/v3", "keystone"),
    ("glance", f"http://{IP}:9292/", "glance"),
    ("placement", f"http://{IP}:8778/", "placement"),
    ("nova-api", f"http://{IP}:8774/", "nova-api"),
    ("neutron-api", f"http://{IP}:9696/", "neutron-api"),
    ("cinder-api", f"http://{IP}:8776/", "cinder-api"),
    ("swift-proxy", f"http://{IP}:8080/healthcheck", "swift-proxy"),
    ("swift-account", f"http://{IP}:6202/healthcheck", "swift-account"),
    ("swift-container", f"http://{IP}:6201/healthcheck", "swift-container"),
    ("swift-object", f"http://{IP}:6200/healthcheck", "swift-object"),
]


def _http_answers(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status < 500
    except urllib.error.HTTPError as err:
        return err.code < 500
    except OSError:
        return False


def _proc_start(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        return f.read().rsplit(") ", 1)[1].split()[19]


def _pid_alive(name):
    """The process of NAME's pid file runs and has the recorded start time."""
    run = os.path.join(STATE, "run")
    try:
        with open(os.path.join(run, name + ".pid"), encoding="ascii") as f:
            pid = int(f.read().strip())
        with open(os.path.join(run, name + ".start"), encoding="ascii") as f:
            started = f.read().strip()
        return _proc_start(pid) == started
    except (OSError, ValueError, IndexError):
        return False


def _started_at(name):
    """UTC time at which the process of NAME's pid file started, or None."""
    try:
        with open(os.path.join(STATE, "run", name + ".pid"), encoding="ascii") as f:
            ticks = int(_proc_start(int(f.read().strip())))
        with open("/proc/stat", encoding="ascii") as f:
            btime = next(int(line.split()[1]) for line in f
                         if line.startswith("btime "))
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    when = btime + ticks / os.sysconf("SC_CLK_TCK")
    return datetime.datetime.fromtimestamp(when, datetime.timezone.utc)


def _heard_since(service, started):
    """The service record was updated by the current process (not a stale
    heartbeat from before a restart, which still counts as 'up')."""
    if service.state != "up" or not service.updated_at or started is None:
        return False
    updated = datetime.datetime.fromisoformat(service.updated_at.rstrip("Z"))
    if updated.tzinfo is None:
        updated = updated.replace(tzinfo=datetime.timezone.utc)
    return updated >= started - datetime.timedelta(seconds=1)


def _fail(what, process, reason):
    log = os.path.join(STATE, "log", process + ".log")
    print(f"NOT READY: {what}: {reason}", file=sys.stderr)
    print(f"--- last lines of {log} ---", file=sys.stderr)
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            print("".join(f.readlines()[-40:]), file=sys.stderr)
    except OSError as err:
        print(f"(cannot read: {err})", file=sys.stderr)
    sys.exit(1)


def _host_mapped():
    conn = pymysql.connect(user="nova_api", database="nova_api", **DB)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM host_mappings")
            return cur.fetchone()[0] > 0
    finally:
        conn.close()


def ready(timeout):
    deadline = time.monotonic() + timeout
    pending = list(HTTP_CHECKS)
    while pending:
        name, url, process = pending[0]
        if _http_answers(url):
            pending.pop(0)
            continue
        if not _pid_alive(process):
            _fail(name, process, "process is not running")
        if time.monotonic() > deadline:
            _fail(name, process, f"{url} does not answer")
        time.sleep(0.5)

    conn = connect()
    conn.authorize()
    # (service binary in nova/cinder, process whose log explains a failure)
    wanted = {
        "nova-conductor": "nova-conductor",
        "nova-scheduler": "nova-scheduler",
        "nova-compute": "nova-compute",
        "cinder-scheduler": "cinder-scheduler",
        "cinder-volume": "cinder-volume",
    }
    # The scheduler maps the compute host into cell1 (discover_hosts_in_cells_interval).
    discovery = "compute host discovery"
    logs = dict(wanted, **{discovery: "nova-scheduler"})
    last_report = time.monotonic()
    while True:
        started = {b: _started_at(p) for b, p in wanted.items()}
        services = list(conn.compute.services()) + list(conn.block_storage.services())
        up = {s.binary for s in services
              if s.binary in wanted and _heard_since(s, started[s.binary])}
        missing = [b for b in wanted if b not in up]
        if not missing:
            try:
                discovered = _host_mapped()
            except pymysql.MySQLError:
                discovered = False
            if discovered and list(conn.compute.hypervisors()):
                break
            missing = [discovery]
        for binary in missing:
            if not _pid_alive(logs[binary]):
                _fail(binary, logs[binary], "process is not running")
        if time.monotonic() > deadline:
            _fail(missing[0], logs[missing[0]], "not reported up in time")
        if time.monotonic() - last_report > 15:
            print("still waiting for: " + ", ".join(missing), file=sys.stderr)
            last_report = time.monotonic()
        time.sleep(1)
    print("cloud ready: every API answers, services up, compute host discovered")


def main(argv):
    step = argv[1] if len(argv) > 1 else ""
    if step == "catalog":
        catalog()
    elif step == "resources":
        resources()
    elif step == "clouds-yaml":
        clouds_yaml()
    elif step == "ready":
        ready(float(argv[2]) if len(argv) > 2 else 300)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
