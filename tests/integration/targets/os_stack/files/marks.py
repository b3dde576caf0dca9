# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print, as JSON, the stack marks the test's resources carry in the demo project, read with
openstacksdk directly (not through the collection): {"<kind>/<name>": "<stack>" or null}.

    python marks.py CLOUDS_YAML PREFIX
"""

from __future__ import annotations

import json
import sys

import openstack
import openstack.config


def main():
    clouds_yaml, prefix = sys.argv[1], sys.argv[2]
    config = openstack.config.OpenStackConfig(config_files=[clouds_yaml])
    conn = openstack.connection.Connection(config=config.get_one(cloud="demo"))
    project = conn.current_project_id
    marks = {}

    def tag_mark(tags):
        found = sorted(t[len("cvstack:"):] for t in tags or [] if t.startswith("cvstack:"))
        return ",".join(found) or None

    for net in conn.network.networks(project_id=project):
        if net.name.startswith(prefix):
            marks["network/" + net.name] = tag_mark(net.tags)
    for group in conn.network.security_groups(project_id=project):
        if group.name.startswith(prefix):
            marks["security_group/" + group.name] = tag_mark(group.tags)
    for server in conn.compute.servers(details=True):
        if server.name.startswith(prefix):
            marks["instance/" + server.name] = tag_mark(server.tags)
    for volume in conn.block_storage.volumes(details=True):
        if (volume.name or "").startswith(prefix):
            marks["volume/" + volume.name] = (volume.metadata or {}).get("converge_virt_stack")
    for key in conn.compute.keypairs():
        if key.name.startswith(prefix):
            marks["keypair/" + key.name] = None
    print(json.dumps(marks, sort_keys=True))


if __name__ == "__main__":
    main()
