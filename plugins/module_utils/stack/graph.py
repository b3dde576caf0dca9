# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dependency graph of a stack: edges from references and ``depends_on``, cycle detection,
and the order in which resources are converged (dependencies first) or deleted (users first)."""

from __future__ import annotations

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.stack.document import key_of
from ansible_collections.converge.virt.plugins.module_utils.stack.refs import references


class Graph(object):
    """``deps[key]``: keys a resource needs first; ``via[key][dep]``: the fields that make the edge."""

    def __init__(self, resources, backend_name, problems=None, declared=()):
        """``problems``: a list to append to instead of raising; ``declared``: further keys the
        document declares (resources left out because they are invalid)."""
        self.resources = dict((r.key, r) for r in resources)
        self.order_in_doc = [r.key for r in resources]
        self.deps = dict((r.key, set()) for r in resources)
        self.via = dict((r.key, {}) for r in resources)
        self.refs = {}  # key -> [(field, target key)] for every reference, declared or not
        collect = problems is not None
        problems = problems if collect else []
        for resource in resources:
            found = []
            for field, ident in references(backend_name, resource.kind, resource.params):
                target = key_of(*ident)
                found.append((field, target))
                if target in self.resources and target != resource.key:
                    self._edge(resource.key, target, field)
            self.refs[resource.key] = found
            for index, dep in enumerate(resource.depends_on):
                if dep not in self.resources:
                    if dep in declared:
                        continue  # declared but invalid: its own problems are reported
                    problems.append(("%s.depends_on[%d]" % (resource.where(), index),
                                     "%r is not declared in this stack (keys look like %s)"
                                     % (dep, resource.key)))
                elif dep == resource.key:
                    problems.append(("%s.depends_on[%d]" % (resource.where(), index), "a resource cannot depend on itself"))
                else:
                    self._edge(resource.key, dep, "depends_on")
        for cycle in self.cycles():
            problems.append((self.resources[cycle[0]].where(), "dependency cycle: %s" % " -> ".join(
                "%s (%s)" % (key, ", ".join(sorted(self.via[key][nxt]))) for key, nxt in zip(cycle, cycle[1:]))
                + " -> " + cycle[-1]))
        if problems and not collect:
            raise InvalidSpec(problems)

    def _edge(self, user, dep, field):
        self.deps[user].add(dep)
        self.via[user].setdefault(dep, set()).add(field)

    def cycles(self):
        """One cycle (as a closed list of keys) per group of resources that depend on each other."""
        remaining = self._unsorted()
        found = []
        seen = set()
        for start in self.order_in_doc:
            if start not in remaining or start in seen:
                continue
            path, index, node = [], {}, start
            while node not in index:  # every remaining node has a remaining dependency: walk them
                index[node] = len(path)
                path.append(node)
                node = sorted(d for d in self.deps[node] if d in remaining)[0]
            cycle = path[index[node]:] + [node]
            if not seen.intersection(cycle):
                found.append(cycle)
            seen.update(path)
        return found

    def _unsorted(self):
        """Keys left after removing, again and again, those whose dependencies are all removed."""
        remaining = set(self.deps)
        progress = True
        while progress:
            progress = False
            for key in sorted(remaining):
                if not self.deps[key] & remaining:
                    remaining.discard(key)
                    progress = True
        return remaining

    def order(self):
        """Every key, dependencies first; ties keep the document's order."""
        done, result = set(), []
        while len(result) < len(self.deps):
            for key in self.order_in_doc:
                if key not in done and self.deps[key] <= done:
                    done.add(key)
                    result.append(key)
                    break
        return result

    def users(self, key):
        """Keys that depend on ``key``, directly or not."""
        found, todo = set(), [key]
        while todo:
            current = todo.pop()
            for other, deps in self.deps.items():
                if current in deps and other not in found:
                    found.add(other)
                    todo.append(other)
        return found
