"""Smoke test of the local test cloud: every service does real work.

Run through ``tests/cloud/smoke.sh`` (which sets CONVERGE_CLOUD_SMOKE=1 and
OS_CLIENT_CONFIG_FILE); skipped otherwise, so a plain ``pytest tests/`` run
of the collection does not need a cloud.  Everything created is deleted.
"""

import hashlib
import os
import subprocess
import uuid

import pytest

if os.environ.get("CONVERGE_CLOUD_SMOKE") != "1":
    pytest.skip("needs the local test cloud: run tests/cloud/smoke.sh",
                allow_module_level=True)

import openstack  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: E402
from openstack import exceptions  # noqa: E402

PREFIX = "smoke-" + uuid.uuid4().hex[:8]
TIMEOUT = 120


def _quietly(delete, *args, **kwargs):
    """Delete something in a cleanup step; 'already gone' is fine."""
    try:
        delete(*args, **kwargs)
    except exceptions.NotFoundException:
        pass


@pytest.fixture(scope="module")
def admin():
    conn = openstack.connect(cloud="admin")
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def demo():
    conn = openstack.connect(cloud="demo")
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def qcow2(tmp_path_factory):
    path = tmp_path_factory.mktemp("img") / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(path), "16M"],
                   check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def image(admin, qcow2):
    img = admin.image.create_image(
        name=PREFIX + "-image", filename=str(qcow2), disk_format="qcow2",
        container_format="bare", visibility="public", wait=True,
        allow_duplicates=True)
    yield img
    _quietly(admin.image.delete_image, img)


@pytest.fixture(scope="module")
def network(admin):
    """A tenant network and subnet routed to the external network."""
    created = []
    try:
        net = admin.network.create_network(name=PREFIX + "-net")
        created.append((admin.network.delete_network, net))
        subnet = admin.network.create_subnet(
            name=PREFIX + "-subnet", network_id=net.id, ip_version=4,
            cidr="10.99.0.0/24", is_dhcp_enabled=False)
        created.append((admin.network.delete_subnet, subnet))
        external = admin.network.find_network("external", ignore_missing=False)
        router = admin.network.create_router(
            name=PREFIX + "-router",
            external_gateway_info={"network_id": external.id})
        created.append((admin.network.delete_router, router))
        admin.network.add_interface_to_router(router, subnet=subnet.id)
        created.append((lambda r: admin.network.remove_interface_from_router(
            r, subnet=subnet.id), router))
        yield {"network": net, "subnet": subnet, "router": router,
               "external": external}
    finally:
        for delete, resource in reversed(created):
            _quietly(delete, resource)


def test_token_issue(admin, demo):
    assert admin.auth_token
    assert demo.auth_token
    assert admin.identity.get_project(admin.current_project_id).name == "admin"
    assert demo.current_project_id != admin.current_project_id


def test_demo_user_cannot_do_admin_calls(demo):
    with pytest.raises(exceptions.ForbiddenException):
        list(demo.identity.users())
    with pytest.raises(exceptions.ForbiddenException):
        demo.compute.create_flavor(name=PREFIX + "-forbidden", ram=64,
                                   vcpus=1, disk=1)
    # and a plain member call works
    assert demo.network.find_network("external") is not None


def test_image_upload_and_download(admin, image, qcow2, tmp_path):
    assert admin.image.get_image(image).status == "active"
    out = tmp_path / "download.qcow2"
    admin.image.download_image(image, output=str(out))
    want = hashlib.sha256(qcow2.read_bytes()).hexdigest()
    assert hashlib.sha256(out.read_bytes()).hexdigest() == want


def test_network_router_floating_ip_security_group(admin, network):
    router = admin.network.get_router(network["router"])
    assert router.external_gateway_info["network_id"] == network["external"].id
    fip = admin.network.create_ip(floating_network_id=network["external"].id)
    try:
        assert fip.floating_ip_address.startswith("203.0.113.")
    finally:
        admin.network.delete_ip(fip)
    group = admin.network.create_security_group(name=PREFIX + "-sg")
    try:
        rule = admin.network.create_security_group_rule(
            security_group_id=group.id, direction="ingress", ethertype="IPv4",
            protocol="tcp", port_range_min=22, port_range_max=22,
            remote_ip_prefix="10.99.0.0/24")
        assert rule.security_group_id == group.id
    finally:
        admin.network.delete_security_group(group)


def _public_key():
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH,
                            serialization.PublicFormat.OpenSSH).decode()


def test_keypair(admin):
    kp = admin.compute.create_keypair(name=PREFIX + "-kp", public_key=_public_key())
    try:
        assert admin.compute.get_keypair(kp.name).fingerprint
    finally:
        admin.compute.delete_keypair(kp)


def test_server_floating_ip_and_volume(admin, image, network):
    kp = admin.compute.create_keypair(name=PREFIX + "-srv-kp",
                                      public_key=_public_key())
    flavor = admin.compute.find_flavor("m1.tiny", ignore_missing=False)
    server = volume = snapshot = fip = None
    try:
        server = admin.compute.create_server(
            name=PREFIX + "-server", image_id=image.id, flavor_id=flavor.id,
            networks=[{"uuid": network["network"].id}], key_name=kp.name)
        server = admin.compute.wait_for_server(server, status="ACTIVE",
                                               wait=TIMEOUT)
        port = next(admin.network.ports(device_id=server.id))
        assert port.binding_vif_type == "tap"
        fip = admin.network.create_ip(
            floating_network_id=network["external"].id, port_id=port.id)
        assert fip.fixed_ip_address == port.fixed_ips[0]["ip_address"]

        volume = admin.block_storage.create_volume(name=PREFIX + "-vol", size=1)
        volume = admin.block_storage.wait_for_status(volume, "available",
                                                     wait=TIMEOUT)
        admin.compute.create_volume_attachment(server, volume=volume)
        admin.block_storage.wait_for_status(volume, "in-use", wait=TIMEOUT)
        attachments = list(admin.compute.volume_attachments(server))
        assert [a.volume_id for a in attachments] == [volume.id]
        admin.compute.delete_volume_attachment(server, volume)
        admin.block_storage.wait_for_status(volume, "available", wait=TIMEOUT)

        snapshot = admin.block_storage.create_snapshot(
            name=PREFIX + "-snap", volume_id=volume.id)
        snapshot = admin.block_storage.wait_for_status(snapshot, "available",
                                                       wait=TIMEOUT)
        admin.block_storage.delete_snapshot(snapshot)
        admin.block_storage.wait_for_delete(snapshot, wait=TIMEOUT)
        snapshot = None
        admin.block_storage.delete_volume(volume)
        admin.block_storage.wait_for_delete(volume, wait=TIMEOUT)
        volume = None
        admin.network.delete_ip(fip)
        fip = None
        admin.compute.delete_server(server)
        admin.compute.wait_for_delete(server, wait=TIMEOUT)
        server = None
    finally:
        if fip is not None:
            _quietly(admin.network.delete_ip, fip)
        if snapshot is not None:
            _quietly(admin.block_storage.delete_snapshot, snapshot)
        if server is not None:
            _quietly(admin.compute.delete_server, server)
            try:
                admin.compute.wait_for_delete(server, wait=TIMEOUT)
            except exceptions.ResourceTimeout:
                pass
        if volume is not None:
            _quietly(admin.block_storage.delete_volume, volume, force=True)
        _quietly(admin.compute.delete_keypair, kp)


def test_swift_object_roundtrip(admin):
    container = PREFIX + "-container"
    payload = os.urandom(4096)
    admin.object_store.create_container(name=container)
    try:
        admin.object_store.upload_object(container=container, name="blob",
                                         data=payload)
        assert admin.object_store.download_object("blob", container=container) == payload
        admin.object_store.delete_object("blob", container=container)
        names = [o.name for o in admin.object_store.objects(container)]
        assert names == []
    finally:
        try:
            admin.object_store.delete_object("blob", container=container,
                                             ignore_missing=True)
        finally:
            _quietly(admin.object_store.delete_container, container)
