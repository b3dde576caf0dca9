# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  backend:
    description:
      - Which platform manages the resource.
      - V(auto) selects V(openstack) when O(cloud) or O(auth) is set, and V(libvirt) otherwise.
      - V(openstack) without O(cloud) and O(auth) uses openstacksdk's defaults, as the C(openstack)
        command does, the E(OS_CLOUD) environment variable, else the E(OS_AUTH_URL) family.
      - Connection options of the other backend are refused, not ignored.
    type: str
    choices: [auto, libvirt, openstack]
    default: auto
  uri:
    description:
      - B(libvirt.) The libvirt connection URI of the hypervisor to manage, for example V(qemu:///system),
        V(qemu+ssh://root@host/system) or V(xen:///system). Any URI libvirt accepts is passed through.
      - The connection is opened once per task, on the host the task runs on.
      - When not set, the E(LIBVIRT_DEFAULT_URI) environment variable is used, and without it
        V(qemu:///system).
    type: str
  cloud:
    description:
      - B(OpenStack.) The name of a cloud in C(clouds.yaml), found as openstacksdk finds it
        (E(OS_CLIENT_CONFIG_FILE), C(./clouds.yaml), C(~/.config/openstack/clouds.yaml),
        C(/etc/openstack/clouds.yaml)).
      - Setting it selects the OpenStack backend.
    type: str
  auth:
    description:
      - B(OpenStack.) Credentials given inline, the keys of C(auth:) in C(clouds.yaml) for the
        keystoneauth plugin of O(auth_type), for example O(auth.auth_url), O(auth.username),
        O(auth.password), O(auth.project_name), O(auth.user_domain_name) and
        O(auth.project_domain_name), or O(auth.application_credential_id) and
        O(auth.application_credential_secret).
      - Laid over the O(cloud) entry when both are set. Setting any of them selects the OpenStack backend.
      - Only the secrets (O(auth.password), O(auth.application_credential_secret), O(auth.token),
        O(auth.passcode)) are masked, so that user, project and domain names stay readable in results.
    type: dict
    suboptions:
      auth_url:
        description: The Keystone URL, for example V(https://keystone.example.com:5000/v3).
        type: str
      username:
        description: As C(username) under C(auth:) in C(clouds.yaml).
        type: str
      user_id:
        description: As C(user_id) under C(auth:) in C(clouds.yaml).
        type: str
      project_name:
        description: As C(project_name) under C(auth:) in C(clouds.yaml).
        type: str
      project_id:
        description: As C(project_id) under C(auth:) in C(clouds.yaml).
        type: str
      project_domain_name:
        description: As C(project_domain_name) under C(auth:) in C(clouds.yaml).
        type: str
      project_domain_id:
        description: As C(project_domain_id) under C(auth:) in C(clouds.yaml).
        type: str
      user_domain_name:
        description: As C(user_domain_name) under C(auth:) in C(clouds.yaml).
        type: str
      user_domain_id:
        description: As C(user_domain_id) under C(auth:) in C(clouds.yaml).
        type: str
      domain_name:
        description: As C(domain_name) under C(auth:) in C(clouds.yaml).
        type: str
      domain_id:
        description: As C(domain_id) under C(auth:) in C(clouds.yaml).
        type: str
      default_domain_name:
        description: As C(default_domain_name) under C(auth:) in C(clouds.yaml).
        type: str
      default_domain_id:
        description: As C(default_domain_id) under C(auth:) in C(clouds.yaml).
        type: str
      system_scope:
        description: A system scope (V(all)) instead of a project or domain.
        type: str
      trust_id:
        description: A Keystone trust to use.
        type: str
      application_credential_id:
        description: As C(application_credential_id) under C(auth:) in C(clouds.yaml).
        type: str
      application_credential_name:
        description: As C(application_credential_name) under C(auth:) in C(clouds.yaml).
        type: str
      endpoint:
        description: The service endpoint, for token or no-auth plugins.
        type: str
      password:
        description: As C(password) under C(auth:) in C(clouds.yaml). Never logged or returned.
        type: str
      application_credential_secret:
        description: As C(application_credential_secret) under C(auth:) in C(clouds.yaml). Never logged or returned.
        type: str
      token:
        description: As C(token) under C(auth:) in C(clouds.yaml). Never logged or returned.
        type: str
      passcode:
        description: As C(passcode) under C(auth:) in C(clouds.yaml). Never logged or returned.
        type: str
  auth_type:
    description: B(OpenStack.) The keystoneauth plugin, for example V(password), V(v3applicationcredential) or V(token).
    type: str
  region_name:
    description: B(OpenStack.) The region, when the cloud has more than one.
    type: str
  interface:
    description: B(OpenStack.) Which endpoints of the service catalog to use.
    type: str
    choices: [public, internal, admin]
  api_timeout:
    description: B(OpenStack.) Seconds to wait for one API answer.
    type: int
  verify:
    description: B(OpenStack.) Whether to verify the TLS certificates of the APIs (openstacksdk's C(verify)).
    type: bool
  ca_cert:
    description: B(OpenStack.) A CA bundle to verify the APIs' certificates with (C(cacert) in C(clouds.yaml)).
    type: path
  client_cert:
    description: B(OpenStack.) A client certificate for TLS client authentication (C(cert) in C(clouds.yaml)).
    type: path
  client_key:
    description: B(OpenStack.) The key of O(client_cert) (C(key) in C(clouds.yaml)).
    type: path
requirements:
  - B(libvirt:) libvirt-python (C(pip install libvirt-python) or the C(python3-libvirt) package) on the
    host the task runs on, and a libvirt daemon reachable through O(uri).
  - B(OpenStack:) openstacksdk 1.0 or later (C(pip install openstacksdk)) on the host the task runs on.
notes:
  - On OpenStack, resources are found by ID, or by name within the project; a name that matches two
    resources is an error, never a guess. What the collection creates carries the tag (or metadata key)
    C(converge-virt) so that it can tell what it owns.
  - On OpenStack, 409 "in use" and 5xx answers are retried with backoff during create, attach and delete.
"""

    ATTRIBUTES = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Check mode returns the very plan a real run would carry out, and the predicted state.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The diff is field-level, built from normalized states, never raw XML.
"""

    INFO_ATTRIBUTES = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: This module only reads.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: N/A
    details: This module only reads.
"""
