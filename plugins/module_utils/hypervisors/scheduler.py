# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Placement: which hypervisor a new instance goes to.  Pure: facts in, a Decision out.

Evaluated like Nova's filter scheduler.  First every *filter* looks at every candidate host and
either lets it through or rejects it with a reason a person can act on; all failing filters are
reported, not only the first.  Then every *weigher* gives each eligible host a raw value, the raw
values are min-max normalised to 0..1 over the eligible hosts, multiplied by the weigher's
multiplier and summed.  The host with the highest weight wins; ties go to the host whose name
sorts first, so the decision depends only on the inputs, never on the order hosts were listed.

``planned`` lists the instances already placed earlier in the same run (a stack, a loop) as
``(host_name, request)`` pairs: their memory, vCPUs and disks add to that host's load and they
count as members of their affinity groups, exactly like instances that already exist.

Filters, in the order their reasons are listed (each rejection names the figures it used):
  facts      the host's facts could not be gathered (no other filter can run then)
  hosts      the host is not in ``placement.hosts``
  anti_affinity  (hard) a member of the group is already on the host
  affinity   (hard) the group has members elsewhere: only their host qualifies (when members
             are already split over several hosts, any of those; the Decision notes the split)
  domain     the required domain type (instance virt_type or ``placement.domain_type``) is not
             usable there (probed, not merely advertised)
  ram        committed + planned + requested memory > total x ram_allocation_ratio - reserved
  vcpu       committed + planned + requested vCPUs > CPUs x cpu_allocation_ratio
  pools      a pool the new disks go to (or ``pool_free.pool``) is missing, inactive or too full

Weighers (multipliers in WEIGHERS; ``pack`` flips the sign of the load weighers):
  ram        share of the RAM limit left after placement       spread +1.0,  pack -1.0
  vcpu       share of the vCPU limit left after placement      spread +0.25, pack -0.25
  instances  instances on the host (existing + planned)        spread -0.25, pack +0.25
  Shares rather than Nova's absolute MiB: with hosts of different sizes, spread loads them in
  proportion to their size, and pack fills the fullest (best-fitting) host first.
  soft_affinity / soft_anti_affinity (only with ``soft: true``, which turns the two group filters
  off): members of the group on the host, +10 / -10.  Large on purpose: a soft rule still wins
  over balancing whenever some host can honour it, and only gives way when none can.
"""

from __future__ import annotations

import copy
import math
import re

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.converge.virt.plugins.module_utils.engine import validate
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Problems

MIB = 1024 ** 2
GIB = 1024 ** 3

STRATEGIES = ("spread", "pack")
DOMAIN_TYPES = ("kvm", "qemu", "xen")
_GROUP = re.compile(r"^[A-Za-z0-9_.-]{1,63}\Z")

DEFAULTS = {
    "hosts": None,              # None: every hypervisor
    "strategy": "spread",
    "affinity": None,
    "anti_affinity": None,
    "soft": False,
    "cpu_allocation_ratio": 4.0,
    "ram_allocation_ratio": 1.0,
    "reserved_memory": 0,       # bytes
    "domain_type": None,
    "pool_free": None,          # {pool, size (bytes)}
}

# name -> (multiplier with spread, multiplier with pack)
WEIGHERS = {
    "ram": (1.0, -1.0),
    "vcpu": (0.25, -0.25),
    "instances": (-0.25, 0.25),
    "soft_affinity": (10.0, 10.0),
    "soft_anti_affinity": (-10.0, -10.0),
}
_WEIGHER_ORDER = ("ram", "vcpu", "instances", "soft_affinity", "soft_anti_affinity")


# ---- the placement option --------------------------------------------------------------------
def normalize_placement(value, hypervisor_names=None):
    """Validate the ``placement`` option.

    Returns ``(normalized, problems)``: ``normalized`` has every key of DEFAULTS (sizes in bytes,
    ratios as floats, hosts de-duplicated in the given order or None for all); ``problems`` is a
    list of ``(field, message)`` pairs, empty when the value is valid.  ``value`` None gives
    ``(None, [])`` (no placement asked for).  ``hypervisor_names`` (the names of the hypervisor
    list) is used to name unknown hosts; None skips that check.
    """
    problems = Problems()
    if value is None:
        return None, []
    if not isinstance(value, dict):
        problems.add("placement", "must be a dict (hosts, strategy, affinity, anti_affinity, soft, "
                                  "cpu_allocation_ratio, ram_allocation_ratio, reserved_memory, "
                                  "domain_type, pool_free), not %s" % type(value).__name__)
        return None, problems.items
    unknown = sorted(str(key) for key in value if key not in DEFAULTS)
    if unknown:
        problems.add("placement", "unknown key(s) %s (known: %s)" % (", ".join(unknown), ", ".join(DEFAULTS)))
    result = dict(DEFAULTS)
    result["hosts"] = _hosts(value.get("hosts"), hypervisor_names, problems)
    strategy = value.get("strategy")
    if strategy is not None:
        if strategy in STRATEGIES:
            result["strategy"] = strategy
        else:
            problems.add("placement.strategy", "%r is not a strategy (use spread or pack)" % (strategy,))
    for key in ("affinity", "anti_affinity"):
        group = value.get(key)
        if group is None:
            continue
        if isinstance(group, str) and _GROUP.match(group):
            result[key] = group
        else:
            problems.add("placement." + key, "%r is not a group name (1-63 of letters, digits, '_', '.', '-')"
                         % (group,))
    if result["affinity"] and result["affinity"] == result["anti_affinity"]:
        problems.add("placement", "group %r cannot be both affinity and anti_affinity" % result["affinity"])
    if value.get("soft") is not None:
        try:
            result["soft"] = boolean(value["soft"], strict=True)
        except TypeError:
            problems.add("placement.soft", "%r is not a boolean" % (value["soft"],))
    for key in ("cpu_allocation_ratio", "ram_allocation_ratio"):
        ratio = _ratio(value.get(key), "placement." + key, problems)
        if ratio is not None:
            result[key] = ratio
    if value.get("reserved_memory") is not None:
        reserved = validate.size(value["reserved_memory"], "placement.reserved_memory", problems, minimum=0)
        if reserved is not None:
            result["reserved_memory"] = reserved
    domain_type = value.get("domain_type")
    if domain_type is not None:
        if domain_type in DOMAIN_TYPES:
            result["domain_type"] = domain_type
        else:
            problems.add("placement.domain_type", "%r is not a domain type (use %s)" % (
                domain_type, ", ".join(DOMAIN_TYPES)))
    result["pool_free"] = _pool_free(value.get("pool_free"), problems)
    return result, problems.items


def _hosts(value, hypervisor_names, problems):
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        problems.add("placement.hosts", "must be a list of hypervisor names")
        return None
    if not value:
        problems.add("placement.hosts", "is empty: name at least one hypervisor, or leave it out to use all")
        return None
    hosts = []
    bad = False
    for index, name in enumerate(value):
        if not isinstance(name, str) or not name:
            problems.add("placement.hosts[%d]" % index, "%r is not a hypervisor name" % (name,))
            bad = True
        elif name not in hosts:
            hosts.append(name)
    if hypervisor_names is not None:
        known = list(hypervisor_names)
        unknown = [name for name in hosts if name not in known]
        if unknown:
            problems.add("placement.hosts", "%s %s not in the hypervisor list (known: %s)" % (
                ", ".join(repr(name) for name in unknown), "is" if len(unknown) == 1 else "are",
                ", ".join(sorted(known)) or "none"))
            bad = True
    return None if bad else hosts


def _ratio(value, field, problems):
    if value is None:
        return None
    if isinstance(value, bool):
        problems.add(field, "%r is not a number" % (value,))
        return None
    try:
        ratio = float(value)
    except (TypeError, ValueError):
        problems.add(field, "%r is not a number" % (value,))
        return None
    if math.isnan(ratio) or math.isinf(ratio) or ratio <= 0:
        problems.add(field, "%r must be a number greater than 0" % (value,))
        return None
    return ratio


def _pool_free(value, problems):
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.add("placement.pool_free", "must be a dict {pool, size}")
        return None
    unknown = sorted(str(key) for key in value if key not in ("pool", "size"))
    if unknown:
        problems.add("placement.pool_free", "unknown key(s) %s (known: pool, size)" % ", ".join(unknown))
    pool = value.get("pool")
    if not isinstance(pool, str) or not pool:
        problems.add("placement.pool_free.pool", "is required: the storage pool that must keep space free")
        pool = None
    if value.get("size") is None:
        problems.add("placement.pool_free.size", "is required, e.g. 10G")
        size = None
    else:
        size = validate.size(value["size"], "placement.pool_free.size", problems, minimum=0)
    if pool is None or size is None:
        return None
    return {"pool": pool, "size": size}


# ---- the decision ------------------------------------------------------------------------------
class Decision(object):
    """Where an instance goes, and why.

    ``host`` is the chosen host's name or None; ``candidates`` one dict per host given, sorted by
    name: ``{host, verdict: chosen|eligible|rejected, reasons: [str], weight: float|None,
    figures: {...}}``; ``notes`` remarks that concern the whole decision (e.g. a split affinity
    group).
    """

    def __init__(self, request, strategy, candidates, notes=()):
        self.request = request
        self.strategy = strategy
        self.candidates = candidates
        self.notes = list(notes)
        chosen = [c["host"] for c in candidates if c["verdict"] == "chosen"]
        self.host = chosen[0] if chosen else None

    def to_dict(self):
        return copy.deepcopy({
            "host": self.host,
            "strategy": self.strategy,
            "request": self.request,
            "candidates": self.candidates,
            "notes": self.notes,
        })

    def explain(self):
        """One line per candidate host: its verdict and why."""
        lines = []
        for cand in self.candidates:
            if cand["verdict"] == "rejected":
                lines.append("%s: rejected: %s" % (cand["host"], "; ".join(cand["reasons"])))
            else:
                lines.append("%s: %s, weight %s (%s)" % (
                    cand["host"], cand["verdict"], _num(cand["weight"], 3), _load_summary(cand["figures"])))
        return lines

    def message(self):
        """A paragraph for the user: the choice, or why no host qualifies."""
        name = self.request.get("name")
        what = "instance %r" % name if name else "the instance"
        if self.host is None:
            if not self.candidates:
                head = "no hypervisor to place %s on: the hypervisor list is empty" % what
            else:
                head = "no hypervisor can take %s (%s; strategy %s):" % (
                    what, _request_summary(self.request), self.strategy)
        else:
            head = "%s goes to %s (strategy %s):" % (what, self.host, self.strategy)
        return "\n".join([head] + ["  " + line for line in self.explain()] + ["  note: " + n for n in self.notes])


def schedule(request, hosts, planned=()):
    """Choose a host for ``request`` among ``hosts`` (facts dicts, any order).

    request: ``{name, vcpus, memory_mib, domain_type (str|None), disks: {pool: bytes},
    placement: normalized placement or None (defaults)}``.  A host whose facts failed is
    ``{name, error}``.  ``planned``: ``[(host_name, request)]`` placed earlier in this run.
    """
    placement = dict(DEFAULTS)
    placement.update(request.get("placement") or {})
    strategy = placement["strategy"]
    by_name = {}
    for facts in hosts:
        name = facts.get("name")
        if name in by_name:
            raise ValueError("host %r is listed twice" % (name,))
        by_name[name] = facts
    names = sorted(by_name)
    req = _request(request)
    planned_by_host = {}
    for host_name, other in planned or ():
        planned_by_host.setdefault(host_name, []).append(_request(other))
    groups, notes = _group_hosts(req, placement, by_name, planned_by_host)
    candidates = []
    for name in names:
        candidates.append(_filter(name, by_name[name], req, placement, planned_by_host.get(name, []), groups))
    eligible = [c for c in candidates if not c["reasons"]]
    _weigh(eligible, placement)
    if eligible:
        best = sorted(eligible, key=lambda c: (-c["weight"], c["host"]))[0]
        for cand in eligible:
            cand["verdict"] = "chosen" if cand is best else "eligible"
    return Decision(req, strategy, candidates, notes)


def _request(request):
    placement = request.get("placement") or {}
    return {
        "name": request.get("name"),
        "vcpus": int(request.get("vcpus") or 0),
        "memory_mib": int(request.get("memory_mib") or 0),
        "domain_type": request.get("domain_type"),
        "disks": dict(request.get("disks") or {}),
        "affinity": placement.get("affinity"),
        "anti_affinity": placement.get("anti_affinity"),
    }


def _members(facts, kind, group, planned, exclude):
    """(existing, planned) member names of a group on one host."""
    existing = []
    if group and "error" not in facts:
        existing = [n for n in ((facts.get("placement_groups") or {}).get(kind) or {}).get(group) or []
                    if n != exclude]
    ahead = [p["name"] for p in planned if group and p.get(kind) == group and p["name"] != exclude]
    return sorted(set(existing)), sorted(set(ahead) - set(existing))


def _group_hosts(req, placement, by_name, planned_by_host):
    """For the affinity group: host -> member names, over every host (listed or not)."""
    notes = []
    group = placement["affinity"]
    where = {}
    if group:
        for name in sorted(set(by_name) | set(planned_by_host)):
            facts = by_name.get(name)
            if facts is None:
                continue
            existing, ahead = _members(facts, "affinity", group, planned_by_host.get(name, []), req["name"])
            if existing or ahead:
                where[name] = existing + ahead
        if len(where) > 1 and not placement["soft"]:
            notes.append("affinity group %s is already split across %s; only those hosts qualify"
                         % (group, _where(where)))
    return where, notes


def _where(where):
    return ", ".join("%s (%s)" % (host, ", ".join(members)) for host, members in sorted(where.items()))


def _filter(name, facts, req, placement, planned, affinity_where):
    cand = {"host": name, "verdict": "rejected", "reasons": [], "weight": None, "figures": {}}
    reasons = cand["reasons"]
    if facts.get("error"):
        reasons.append("host facts unavailable: %s" % facts["error"])
        return cand
    figures = cand["figures"]
    if placement["hosts"] is not None and name not in placement["hosts"]:
        reasons.append("not in placement.hosts (%s)" % ", ".join(placement["hosts"]))
    # Policy first (where the user said it may not go), then capability, then capacity.
    _group_filters(name, facts, req, placement, planned, affinity_where, figures, reasons)
    _domain_filter(facts, req, placement, figures, reasons)
    _ram_filter(facts, req, placement, planned, figures, reasons)
    _vcpu_filter(facts, req, placement, planned, figures, reasons)
    _pool_filter(facts, req, placement, planned, figures, reasons)
    instances = facts.get("instances") or {}
    figures["instances"] = {"existing": int(instances.get("total") or 0), "planned": len(planned)}
    return cand


def _domain_filter(facts, req, placement, figures, reasons):
    types = facts.get("domain_types") or {}
    usable = list(types.get("usable") or [])
    advertised = list(types.get("advertised") or [])
    required = [t for t in (req["domain_type"], placement["domain_type"]) if t]
    required = sorted(set(required), key=required.index)
    figures["domain_types"] = {"required": required, "usable": usable, "advertised": advertised}
    if not usable:
        reasons.append("no usable domain type (advertised: %s, none works)" % (", ".join(advertised) or "none"))
        return
    for wanted in required:
        if wanted not in usable:
            more = " (advertised, but the probe failed)" if wanted in advertised else ""
            reasons.append("domain type %s is not usable here%s; usable: %s" % (wanted, more, ", ".join(usable)))


def _ram_filter(facts, req, placement, planned, figures, reasons):
    memory = facts.get("memory") or {}
    total = memory.get("total_mib")
    if total is None:
        reasons.append("RAM: the host reported no memory total")
        return
    ratio = placement["ram_allocation_ratio"]
    reserved = placement["reserved_memory"] / float(MIB)
    committed = int((facts.get("committed") or {}).get("memory_mib") or 0)
    ahead = sum(p["memory_mib"] for p in planned)
    limit = total * ratio - reserved
    used = committed + ahead
    free_after = limit - used - req["memory_mib"]
    figures["memory_mib"] = {"total": total, "ratio": ratio, "reserved": _fig(reserved), "limit": _fig(limit),
                             "committed": committed, "planned": ahead, "request": req["memory_mib"],
                             "free_after": _fig(free_after)}
    if free_after < 0:
        basis = []
        if ratio != 1.0 or reserved:
            basis.append("%s MiB x ratio %s" % (_num(total), _num(ratio, 2)))
        else:
            basis.append("ratio %s" % _num(ratio, 2))
        if reserved:
            basis[0] += " - %s MiB reserved" % _num(reserved)
        if ahead:
            basis.append("%s MiB of it planned in this run" % _num(ahead))
        reasons.append("RAM: needs %s MiB, %s of %s MiB committed (%s)" % (
            _num(req["memory_mib"]), _num(used), _num(max(limit, 0)), "; ".join(basis)))


def _vcpu_filter(facts, req, placement, planned, figures, reasons):
    count = (facts.get("cpu") or {}).get("count")
    if count is None:
        reasons.append("vCPU: the host reported no CPU count")
        return
    ratio = placement["cpu_allocation_ratio"]
    committed = int((facts.get("committed") or {}).get("vcpus") or 0)
    ahead = sum(p["vcpus"] for p in planned)
    limit = count * ratio
    used = committed + ahead
    free_after = limit - used - req["vcpus"]
    figures["vcpus"] = {"count": count, "ratio": ratio, "limit": _fig(limit), "committed": committed,
                        "planned": ahead, "request": req["vcpus"], "free_after": _fig(free_after)}
    if free_after < 0:
        basis = ["%s CPU%s x ratio %s" % (count, "" if count == 1 else "s", _num(ratio, 2))]
        if ahead:
            basis.append("%d of them planned in this run" % ahead)
        reasons.append("vCPU: needs %d, %d of %s committed (%s)" % (
            req["vcpus"], used, _num(limit), "; ".join(basis)))


def _pool_filter(facts, req, placement, planned, figures, reasons):
    needs = dict(req["disks"])
    keep = placement["pool_free"]
    if keep:
        needs.setdefault(keep["pool"], 0)
    if not needs:
        return
    pools = {p.get("name"): p for p in facts.get("pools") or []}
    shown = figures["pools"] = {}
    for pool_name in sorted(needs):
        needed = int(needs[pool_name] or 0)
        extra = keep["size"] if keep and keep["pool"] == pool_name else 0
        ahead = sum(int((p["disks"] or {}).get(pool_name) or 0) for p in planned)
        pool = pools.get(pool_name)
        if pool is None:
            shown[pool_name] = None
            reasons.append("pool %s does not exist here" % pool_name)
            continue
        available = int(pool.get("available_bytes") or 0)
        left = available - ahead
        shown[pool_name] = {"active": bool(pool.get("active")), "available_bytes": available,
                            "planned_bytes": ahead, "needed_bytes": needed, "keep_free_bytes": extra,
                            "free_after_bytes": left - needed - extra}
        if not pool.get("active"):
            reasons.append("pool %s is not active" % pool_name)
            continue
        if left < needed + extra:
            need = "%s" % _gib(needed)
            if extra:
                need += " + %s to keep free" % _gib(extra)
            have = "%s available" % _gib(left)
            if ahead:
                have += " (%s of %s taken by disks planned in this run)" % (_gib(ahead), _gib(available))
            reasons.append("pool %s: needs %s, %s" % (pool_name, need, have))


def _group_filters(name, facts, req, placement, planned, affinity_where, figures, reasons):
    groups = figures["groups"] = {}
    anti = placement["anti_affinity"]
    if anti:
        existing, ahead = _members(facts, "anti_affinity", anti, planned, req["name"])
        groups["anti_affinity"] = {"group": anti, "members": existing + ahead}
        if (existing or ahead) and not placement["soft"]:
            shown = existing + ["%s (planned in this run)" % n for n in ahead]
            reasons.append("anti-affinity group %s already has %s here" % (anti, ", ".join(shown)))
    group = placement["affinity"]
    if group:
        here = affinity_where.get(name, [])
        groups["affinity"] = {"group": group, "members": here}
        if affinity_where and not here and not placement["soft"]:
            if len(affinity_where) == 1:
                (host, members), = affinity_where.items()
                reasons.append("affinity group %s lives on %s (%s)" % (group, host, ", ".join(members)))
            else:
                reasons.append("affinity group %s is split across %s; this host holds none of it"
                               % (group, _where(affinity_where)))


def _weigh(eligible, placement):
    pick = 1 if placement["strategy"] == "pack" else 0
    raw = {}
    for cand in eligible:
        fig = cand["figures"]
        vcpus = fig["vcpus"]
        values = {
            # A share, not MiB (Nova weighs absolute free MiB): spread then keeps hosts of different
            # sizes equally loaded, instead of filling the biggest until its free MiB match the others'.
            "ram": fig["memory_mib"]["free_after"] / fig["memory_mib"]["limit"] if fig["memory_mib"]["limit"] > 0 else 0.0,
            "vcpu": vcpus["free_after"] / vcpus["limit"] if vcpus["limit"] else 0.0,
            "instances": fig["instances"]["existing"] + fig["instances"]["planned"],
        }
        if placement["soft"] and placement["affinity"]:
            values["soft_affinity"] = len(fig["groups"]["affinity"]["members"])
        if placement["soft"] and placement["anti_affinity"]:
            values["soft_anti_affinity"] = len(fig["groups"]["anti_affinity"]["members"])
        raw[cand["host"]] = values
    for cand in eligible:
        cand["figures"]["weights"] = {}
        cand["weight"] = 0.0
    for weigher in _WEIGHER_ORDER:
        present = [cand for cand in eligible if weigher in raw[cand["host"]]]
        if not present:
            continue
        values = [raw[c["host"]][weigher] for c in present]
        low, high = min(values), max(values)
        multiplier = WEIGHERS[weigher][pick]
        for cand in present:
            value = raw[cand["host"]][weigher]
            # Nova's normalisation: all equal -> 0 for everyone, so an indifferent weigher adds nothing.
            normalized = (value - low) / float(high - low) if high != low else 0.0
            cand["figures"]["weights"][weigher] = {"raw": _fig(value), "normalized": _round(normalized),
                                                   "multiplier": multiplier}
            cand["weight"] += multiplier * normalized
    for cand in eligible:
        # Rounded so that float noise can never beat the name tie-break.
        cand["weight"] = _round(cand["weight"])


# ---- formatting ----------------------------------------------------------------------------------
def _round(value, digits=6):
    value = round(float(value), digits)
    return 0.0 if value == 0 else value


def _fig(value):
    """A figure for the plan: an int when whole (3840, not 3840.0)."""
    value = _round(value)
    return int(value) if value.is_integer() else value


def _num(value, digits=1):
    """1024 -> '1024', 1.5 -> '1.5', 4.0 -> '4.0' with digits kept for ratios."""
    if value is None:
        return "-"
    if float(value).is_integer() and digits == 1:
        return "%d" % value
    text = ("%." + str(digits) + "f") % value
    if "." in text:
        text = text.rstrip("0")
        if text.endswith("."):
            text += "0"
    return text


def _gib(value):
    return "%.1f GiB" % (value / float(GIB))


def _load_summary(fig):
    parts = []
    mem = fig.get("memory_mib")
    if mem:
        parts.append("RAM %s of %s MiB free after placement" % (_num(mem["free_after"]), _num(mem["limit"])))
    cpu = fig.get("vcpus")
    if cpu:
        parts.append("vCPU %s of %s free" % (_num(cpu["free_after"]), _num(cpu["limit"])))
    inst = fig.get("instances")
    if inst:
        count = inst["existing"] + inst["planned"]
        parts.append("%d instance%s%s" % (count, "" if count == 1 else "s",
                                          " incl. %d planned" % inst["planned"] if inst["planned"] else ""))
    for kind, label in (("affinity", "affinity"), ("anti_affinity", "anti-affinity")):
        group = (fig.get("groups") or {}).get(kind)
        if group and group["members"]:
            parts.append("%s group %s: %s here" % (label, group["group"], ", ".join(group["members"])))
    return ", ".join(parts)


def _request_summary(req):
    parts = ["%s MiB RAM" % req["memory_mib"], "%d vCPU%s" % (req["vcpus"], "" if req["vcpus"] == 1 else "s")]
    for pool, size in sorted(req["disks"].items()):
        parts.append("%s in pool %s" % (_gib(size), pool))
    if req["domain_type"]:
        parts.append("domain type %s" % req["domain_type"])
    return ", ".join(parts)
