# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write ansible-test's tests/integration/integration_config.yml for the OpenStack targets.

ansible-test hands that file to every target as extra vars (it passes no environment through):
  os_clouds_yaml  the local cloud's clouds.yaml (for tests of the ``cloud:`` option)
  os_admin        connection options of the admin user   {auth: {...}, region_name: ...}
  os_demo         connection options of the non-admin demo user

usage: integration_config.py STATE_DIR OUTPUT
"""

import json
import os
import sys

import yaml


def main(state, output):
    clouds_yaml = os.path.join(state, "clouds.yaml")
    with open(clouds_yaml) as handle:
        clouds = yaml.safe_load(handle)["clouds"]
    config = {"os_clouds_yaml": clouds_yaml}
    for name in ("admin", "demo"):
        entry = clouds[name]
        config["os_" + name] = {"auth": entry["auth"], "region_name": entry.get("region_name")}
    os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
    with open(output, "w") as handle:
        handle.write("# Written by tests/cloud/integration_config.py; not tracked.\n")
        handle.write(json.dumps(config, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
