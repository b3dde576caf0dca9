# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module parameters as AnsibleModule hands them to a planner, for the planner tests."""

from __future__ import annotations

import copy


def module_params(spec, given):
    """Every option of ``spec`` present, defaults set, sub-options filled the same way; an option
    the module does not have fails the test."""
    unknown = set(given) - set(spec)
    assert not unknown, "not options of the module: %s" % unknown
    result = {}
    for key, option in spec.items():
        value = copy.deepcopy(given[key]) if key in given else option.get("default")
        if value is not None and option.get("options"):
            if option["type"] == "list":
                value = [module_params(option["options"], item) for item in value]
            else:
                value = module_params(option["options"], value)
        result[key] = value
    return result
