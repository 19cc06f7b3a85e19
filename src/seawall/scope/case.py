"""A case: findings grouped into incidents by time and shared entities, and who they touched.

Two findings belong to the same incident when they share an entity value (the same
device, account, address, subscriber...) and their time ranges lie within ``window`` of
each other; incidents are the connected groups. The scope lists the registry's
organisations and people named by any finding's entities, with the rules that named them.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from seawall.detect.finding import Finding, severity_rank
from seawall.scope.registry import Registry

DEFAULT_WINDOW = dt.timedelta(hours=72)
IP_KINDS = ("source_ip", "destination_ip", "indicator")
# Addresses that never leave a network; everything else counts as external.
_INTERNAL = [
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "0.0.0.0/8",
        "224.0.0.0/4",
        "255.255.255.255/32",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
        "::/128",
    )
]


@dataclass
class Incident:
    id: str
    finding_ids: list[str]
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    severity: str
    entities: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Case:
    findings: list[Finding]
    incidents: list[Incident]
    scope: dict[str, Any]


def is_external(value: str) -> bool:
    """True for an IP address outside private, loopback, link-local and multicast ranges."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return not any(address.version == n.version and address in n for n in _INTERNAL)


def build_case(findings: list[Finding], registry: Registry, window: dt.timedelta = DEFAULT_WINDOW) -> Case:
    ordered = sorted(findings, key=lambda f: (f.first_seen or dt.datetime.min.replace(tzinfo=dt.UTC), f.id))
    return Case(ordered, _incidents(ordered, window), scope_of(ordered, registry))


def _incidents(findings: list[Finding], window: dt.timedelta) -> list[Incident]:
    parent = list(range(len(findings)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_entity: dict[tuple[str, str], list[int]] = {}
    for index, finding in enumerate(findings):
        for key in finding.entity_values():
            by_entity.setdefault(key, []).append(index)
    for members in by_entity.values():
        # Sweep in start order (findings arrive sorted): a finding joins the running group
        # when it starts within `window` of the latest end seen so far, so one long-running
        # finding links everything it overlaps. Findings without times join any group.
        untimed = {i for i in members if not (findings[i].first_seen and findings[i].last_seen)}
        timed = [i for i in members if i not in untimed]
        group_end: dt.datetime | None = None
        previous: int | None = None
        for i in timed:
            f = findings[i]
            if previous is not None and group_end is not None and f.first_seen - window <= group_end:
                parent[root(i)] = root(previous)
                group_end = max(group_end, f.last_seen)
            else:
                group_end = f.last_seen
            previous = i
        for i in untimed:
            for j in members:
                parent[root(j)] = root(i)

    groups: dict[int, list[Finding]] = {}
    for index, finding in enumerate(findings):
        groups.setdefault(root(index), []).append(finding)
    incidents = []
    for number, members in enumerate(sorted(groups.values(), key=lambda m: m[0].first_seen or _EPOCH), start=1):
        firsts = [f.first_seen for f in members if f.first_seen]
        lasts = [f.last_seen for f in members if f.last_seen]
        entities: dict[str, list[str]] = {}
        for f in members:
            for kind, values in f.entities.items():
                bucket = entities.setdefault(kind, [])
                bucket.extend(v for v in values if v not in bucket)
        incidents.append(
            Incident(
                id=f"I-{number:03d}",
                finding_ids=[f.id for f in members],
                first_seen=min(firsts) if firsts else None,
                last_seen=max(lasts) if lasts else None,
                severity=max((f.severity for f in members), key=severity_rank),
                entities=entities,
            )
        )
    return incidents


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def scope_of(findings: list[Finding], registry: Registry) -> dict[str, Any]:
    """The scope.json document: touched organisations and people, hosts, accounts, external IPs."""
    people: dict[tuple[str, str], dict[str, Any]] = {}
    org_level: dict[str, dict[str, Any]] = {}
    hosts: set[str] = set()
    accounts: set[str] = set()
    external: set[str] = set()
    for finding in findings:
        hosts.update(finding.entities.get("host", []))
        accounts.update(finding.entities.get("user", []))
        for kind in IP_KINDS:
            external.update(v for v in finding.entities.get(kind, []) if is_external(v))
        for _, value in sorted(finding.entity_values()):
            for match in registry.lookup(value):
                if match.person is None:
                    entry = org_level.setdefault(match.organisation, {"identifiers": set(), "via": set()})
                else:
                    entry = people.setdefault((match.organisation, match.person), {"identifiers": set(), "via": set()})
                entry["identifiers"].add(match.identifier)
                entry["via"].add(finding.rule_id)

    organisations = []
    for name in sorted({org for org, _ in people} | set(org_level)):
        org_entry: dict[str, Any] = {
            "name": name,
            "people": [
                {
                    "name": person,
                    "role": _role(registry, name, person),
                    "identifiers": sorted(data["identifiers"]),
                    "via": sorted(data["via"]),
                }
                for (org, person), data in sorted(people.items())
                if org == name
            ],
        }
        if name in org_level:
            org_entry["identifiers"] = sorted(org_level[name]["identifiers"])
            org_entry["via"] = sorted(org_level[name]["via"])
        organisations.append(org_entry)
    return {
        "organisations": organisations,
        "hosts": sorted(hosts),
        "accounts": sorted(accounts),
        "external_ips": sorted(external, key=_ip_sort),
    }


def _role(registry: Registry, org: str, person: str) -> str:
    for p in registry.organisations[org].people:
        if p.name == person:
            return p.role
    return ""


def _ip_sort(value: str) -> tuple[int, int]:
    address = ipaddress.ip_address(value)
    return (address.version, int(address))
