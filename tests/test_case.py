"""Case building: incidents from shared entities and time, scope against the registry."""

from __future__ import annotations

import datetime as dt

import pytest

from seawall.detect.finding import Evidence, Finding
from seawall.scope.case import DEFAULT_WINDOW, build_case, is_external, scope_of
from seawall.scope.registry import Registry

MINISTRY = "Ministry of Examples"
T0 = dt.datetime(2025, 10, 8, 2, 0, tzinfo=dt.UTC)


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


_counter = iter(range(10_000))


def finding(
    rule: str, start: float | None, end: float | None = None, severity: str = "medium", **entities: list[str]
) -> Finding:
    n = next(_counter)
    return Finding(
        rule_id=rule,
        title=f"rule {rule}",
        severity=severity,
        detector="sigma",
        first_seen=at(start) if start is not None else None,
        last_seen=at(end if end is not None else start) if start is not None else None,
        entities={k: list(v) for k, v in entities.items()},
        evidence=[Evidence(path="/e/x.log", line=n, event_id=f"e-{n}")],
        event_count=1,
    )


def groups(case) -> list[set[str]]:
    return [set(i.finding_ids) for i in case.incidents]


# ------------------------------------------------------------------------ incidents
def test_findings_sharing_an_entity_within_the_window_form_one_incident() -> None:
    a = finding("r1", 0, 1, "medium", host=["edge-r1"], user=["admin"])
    b = finding("r2", 30, 31, "critical", host=["edge-r1"], source_ip=["203.0.113.5"])
    case = build_case([a, b], Registry.empty())
    assert groups(case) == [{a.id, b.id}]
    incident = case.incidents[0]
    assert incident.id == "I-001"
    assert incident.severity == "critical"
    assert incident.first_seen == at(0) and incident.last_seen == at(31)
    assert incident.entities == {"host": ["edge-r1"], "user": ["admin"], "source_ip": ["203.0.113.5"]}


def test_same_entity_far_apart_in_time_forms_two_incidents() -> None:
    a = finding("r1", 0, 1, host=["edge-r1"])
    b = finding("r2", 1 + 72 + 1, None, host=["edge-r1"])  # 73 hours after a ends
    case = build_case([b, a], Registry.empty())
    assert groups(case) == [{a.id}, {b.id}]
    assert [i.id for i in case.incidents] == ["I-001", "I-002"]


def test_gap_exactly_at_the_window_still_joins() -> None:
    a = finding("r1", 0, 0, host=["edge-r1"])
    b = finding("r2", 72, None, host=["edge-r1"])
    assert len(build_case([a, b], Registry.empty(), DEFAULT_WINDOW).incidents) == 1


def test_window_parameter_controls_the_join() -> None:
    a = finding("r1", 0, None, host=["edge-r1"])
    b = finding("r2", 2, None, host=["edge-r1"])
    assert len(build_case([a, b], Registry.empty(), dt.timedelta(hours=1)).incidents) == 2
    assert len(build_case([a, b], Registry.empty(), dt.timedelta(hours=3)).incidents) == 1


def test_findings_without_a_shared_entity_stay_apart_even_at_the_same_time() -> None:
    a = finding("r1", 0, host=["edge-r1"], user=["admin"])
    b = finding("r2", 0, host=["edge-r2"], user=["operator"])
    assert len(build_case([a, b], Registry.empty()).incidents) == 2


def test_same_value_under_different_entity_kinds_does_not_join() -> None:
    a = finding("r1", 0, user=["edge-r1"])
    b = finding("r2", 0, host=["edge-r1"])
    assert len(build_case([a, b], Registry.empty()).incidents) == 2


def test_incidents_are_connected_groups_through_different_entities() -> None:
    a = finding("r1", 0, host=["edge-r1"])
    b = finding("r2", 1, host=["edge-r1"], user=["svc_backup"])
    c = finding("r3", 2, user=["svc_backup"], source_ip=["198.51.100.4"])
    d = finding("r4", 3, source_ip=["10.9.9.9"])
    case = build_case([c, d, a, b], Registry.empty())
    assert sorted(groups(case), key=len) == [{d.id}, {a.id, b.id, c.id}]


def test_a_long_running_finding_joins_everything_it_overlaps() -> None:
    # a spans day 0 to day 20; b (day 1) and c (day 19) both overlap a on host edge-r1,
    # so all three are one connected group, although b and c are far apart from each other.
    a = finding("long", 0, 24 * 20, host=["edge-r1"])
    b = finding("early", 24 * 1, None, host=["edge-r1"])
    c = finding("late", 24 * 19, None, host=["edge-r1"])
    case = build_case([a, b, c], Registry.empty())
    assert groups(case) == [{a.id, b.id, c.id}]


def test_findings_without_times_join_on_shared_entities() -> None:
    a = finding("r1", None, host=["edge-r1"])
    b = finding("r2", 500, host=["edge-r1"])
    assert len(build_case([a, b], Registry.empty()).incidents) == 1


def test_case_orders_findings_by_first_seen() -> None:
    a = finding("r1", 5, host=["x"])
    b = finding("r2", 1, host=["y"])
    case = build_case([a, b], Registry.empty())
    assert [f.id for f in case.findings] == [b.id, a.id]
    assert [i.finding_ids for i in case.incidents] == [[b.id], [a.id]]


# ---------------------------------------------------------------------------- scope
def test_scope_has_exactly_the_documented_keys(csv_registry: Registry) -> None:
    scope = scope_of([finding("r1", 0, host=["edge-r1"])], csv_registry)
    assert set(scope) == {"organisations", "hosts", "accounts", "external_ips"}
    assert scope == {"organisations": [], "hosts": ["edge-r1"], "accounts": [], "external_ips": []}


def test_scope_lists_a_touched_person_with_name_identifiers_and_via(csv_registry: Registry) -> None:
    f1 = finding("rule-a", 0, host=["cdr-db1"], subscriber=["12025550143"])
    f2 = finding("rule-b", 1, subscriber=["310150123456789"], user=["svc_cdr"])
    scope = scope_of([f1, f2], csv_registry)
    assert len(scope["organisations"]) == 1
    org = scope["organisations"][0]
    assert org["name"] == MINISTRY
    assert set(org) == {"name", "people"}  # no organisation-level identifier was seen
    assert len(org["people"]) == 1
    alice = org["people"][0]
    assert {"name", "identifiers", "via"} <= set(alice)
    assert alice["name"] == "Alice Adams"
    assert alice["role"] == "Minister"
    assert alice["identifiers"] == ["+12025550143", "310150123456789"]
    assert alice["via"] == ["rule-a", "rule-b"]
    assert scope["hosts"] == ["cdr-db1"]
    assert scope["accounts"] == ["svc_cdr"]


def test_scope_names_only_people_whose_own_identifiers_were_seen(csv_registry: Registry) -> None:
    # Bob Brown is in the same organisation as Alice; only Alice's number was seen.
    scope = scope_of([finding("r1", 0, subscriber=["+1 202 555 0143"])], csv_registry)
    people = [p["name"] for o in scope["organisations"] for p in o["people"]]
    assert people == ["Alice Adams"]
    assert "Bob Brown" not in repr(scope)
    assert "Carol Chen" not in repr(scope)
    assert "Example Party" not in repr(scope)


def test_scope_is_empty_of_people_when_no_identifier_matches(csv_registry: Registry) -> None:
    scope = scope_of([finding("r1", 0, subscriber=["+12025550199"], email=["x@elsewhere.example"])], csv_registry)
    assert scope["organisations"] == []


def test_organisation_level_match_lists_the_org_but_none_of_its_people(yaml_registry: Registry) -> None:
    f = finding("rule-net", 0, destination_ip=["192.0.2.44"], domain=["vpn.ministry.example"])
    scope = scope_of([f], yaml_registry)
    assert len(scope["organisations"]) == 1
    org = scope["organisations"][0]
    assert org["name"] == MINISTRY
    assert org["people"] == []
    assert org["identifiers"] == ["192.0.2.44", "vpn.ministry.example"]
    assert org["via"] == ["rule-net"]


def test_scope_external_ips_exclude_internal_ranges_and_sort_numerically(csv_registry: Registry) -> None:
    f1 = finding("r1", 0, source_ip=["203.0.113.5", "10.0.0.5", "8.8.8.8"], destination_ip=["192.168.1.1"])
    f2 = finding(
        "r2",
        1,
        destination_ip=["198.51.100.1", "100.64.3.2", "2001:db8::1"],
        indicator=["198.51.100.1", "evil.example.com"],
    )
    scope = scope_of([f1, f2], csv_registry)
    assert scope["external_ips"] == ["8.8.8.8", "198.51.100.1", "203.0.113.5", "2001:db8::1"]


def test_scope_hosts_and_accounts_are_distinct_and_sorted(csv_registry: Registry) -> None:
    fs = [
        finding("r1", 0, host=["edge-r2", "edge-r1"], user=["root"]),
        finding("r2", 1, host=["edge-r1"], user=["admin", "root"]),
    ]
    scope = scope_of(fs, csv_registry)
    assert scope["hosts"] == ["edge-r1", "edge-r2"]
    assert scope["accounts"] == ["admin", "root"]


def test_build_case_carries_the_scope(csv_registry: Registry) -> None:
    f = finding("r1", 0, subscriber=["tel:+12025550143"])
    case = build_case([f], csv_registry)
    assert case.scope == scope_of([f], csv_registry)
    assert case.scope["organisations"][0]["people"][0]["name"] == "Alice Adams"


# ------------------------------------------------------------------------ external
@pytest.mark.parametrize(
    ("address", "external"),
    [
        ("10.1.2.3", False),  # private
        ("172.16.0.1", False),
        ("172.31.255.254", False),
        ("192.168.0.10", False),
        ("100.64.0.1", False),  # CGNAT
        ("100.127.255.254", False),
        ("127.0.0.1", False),  # loopback
        ("::1", False),
        ("169.254.10.20", False),  # link-local
        ("fe80::1", False),
        ("224.0.0.251", False),  # multicast
        ("239.255.255.250", False),
        ("ff02::1", False),
        ("fd12:3456:789a::1", False),  # unique local
        ("0.0.0.0", False),
        ("255.255.255.255", False),
        ("203.0.113.66", True),  # documentation ranges count as external by design
        ("198.51.100.7", True),
        ("192.0.2.1", True),
        ("2001:db8::1", True),
        ("8.8.8.8", True),  # public
        ("172.32.0.1", True),
        ("100.128.0.1", True),
        ("2606:4700:4700::1111", True),
        ("not-an-ip", False),
        ("edge-r1.example.net", False),
    ],
)
def test_is_external(address: str, external: bool) -> None:
    assert is_external(address) is external
