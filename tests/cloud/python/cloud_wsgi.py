"""Gunicorn app factories for the WSGI-only OpenStack APIs.

Used as ``gunicorn 'cloud_wsgi:app("nova")'``.  Each API finds its
configuration under ``$CONVERGE_CLOUD_STATE/etc/<service>``.  Neutron and
Cinder hand ``sys.argv`` to oslo.config, which would otherwise see
gunicorn's own command line, so argv is reset before the API is imported.
"""

import importlib
import os
import sys

_MODULES = {
    "keystone": ("keystone.wsgi.api", "OS_KEYSTONE_CONFIG_DIR"),
    "glance": ("glance.wsgi.api", "OS_GLANCE_CONFIG_DIR"),
    "placement": ("placement.wsgi.api", "OS_PLACEMENT_CONFIG_DIR"),
    "nova": ("nova.wsgi.osapi_compute", "OS_NOVA_CONFIG_DIR"),
    "neutron": ("neutron.wsgi.api", "OS_NEUTRON_CONFIG_DIR"),
    "cinder": ("cinder.wsgi.api", None),
}


def app(service):
    """Return the WSGI application of one OpenStack API service."""
    etc = os.path.join(os.environ["CONVERGE_CLOUD_STATE"], "etc", service)
    module, env_var = _MODULES[service]
    sys.argv = [service + "-api"]
    if env_var:
        os.environ[env_var] = etc
    if service == "neutron":
        os.environ["OS_NEUTRON_CONFIG_FILES"] = "neutron.conf;ml2_conf.ini"
    if service == "cinder":
        sys.argv += ["--config-file", os.path.join(etc, "cinder.conf")]
    return importlib.import_module(module).application
