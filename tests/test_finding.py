"""Finding: serialisation, validation and stable ids."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from seawall.detect.finding import SEVERITIES, Evidence, Finding, severity_rank

UTC = dt.UTC


def make(**overrides) -> Finding:
    values = dict(
        rule_id="a5e7f750-ad0d-4cd0-8f2d-8e184795e4c9",
        title="Guest Shell enabled",
        severity="high",
        detector="sigma",
        description="The guest shell was enabled.",
        techniques=["T1059", "T1610"],
        first_seen=dt.datetime(2025, 10, 8, 2, 18, 55, tzinfo=UTC),
        last_seen=dt.datetime(2025, 10, 8, 3, 0, 1, 250000, tzinfo=UTC),
        entities={"host": ["edge-r1"], "user": ["admin"]},
        evidence=[
            Evidence(
                path="/evidence/edge.log",
                line=3,
                offset=212,
                event_id="abc123def456-212",
                timestamp="2025-10-08T02:18:55Z",
                text="guest shell enabled",
            ),
            Evidence(path="/evidence/edge.log", line=9),
        ],
        event_count=2,
        references=["https://example.org/advisory"],
    )
    values.update(overrides)
    return Finding(**values)


def test_to_dict_from_dict_round_trip_preserves_every_field() -> None:
    original = make()
    data = original.to_dict()
    restored = Finding.from_dict(data)
    assert restored == original
    assert restored.id == original.id
    assert restored.evidence == original.evidence


def test_round_trip_survives_json() -> None:
    original = make()
    restored = Finding.from_dict(json.loads(json.dumps(original.to_dict())))
    assert restored == original


def test_to_dict_has_the_documented_keys_and_drops_empty_evidence_fields() -> None:
    data = make().to_dict()
    assert {
        "rule_id",
        "title",
        "severity",
        "techniques",
        "first_seen",
        "last_seen",
        "entities",
        "evidence",
        "description",
        "id",
        "detector",
        "event_count",
    } <= set(data)
    assert data["evidence"][1] == {"path": "/evidence/edge.log", "line": 9}
    assert data["evidence"][0]["event_id"] == "abc123def456-212"


def test_timestamps_serialise_as_iso_8601_utc_with_z() -> None:
    data = make().to_dict()
    assert data["first_seen"] == "2025-10-08T02:18:55Z"
    assert data["last_seen"] == "2025-10-08T03:00:01.250000Z"


def test_timestamps_in_other_zones_are_converted_to_utc() -> None:
    plus2 = dt.timezone(dt.timedelta(hours=2))
    data = make(first_seen=dt.datetime(2025, 10, 8, 4, 18, 55, tzinfo=plus2)).to_dict()
    assert data["first_seen"] == "2025-10-08T02:18:55Z"


def test_naive_timestamps_are_taken_as_utc() -> None:
    data = make(first_seen=dt.datetime(2025, 10, 8, 2, 18, 55)).to_dict()
    assert data["first_seen"] == "2025-10-08T02:18:55Z"


def test_missing_timestamps_serialise_as_null_and_round_trip() -> None:
    f = make(first_seen=None, last_seen=None)
    data = f.to_dict()
    assert data["first_seen"] is None and data["last_seen"] is None
    assert Finding.from_dict(data) == f


@pytest.mark.parametrize("severity", ["severe", "HIGH", "", "info"])
def test_invalid_severity_raises(severity: str) -> None:
    with pytest.raises(ValueError, match="severity"):
        make(severity=severity)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_every_documented_severity_is_accepted(severity: str) -> None:
    assert make(severity=severity).severity == severity


def test_severity_rank_orders_informational_to_critical() -> None:
    assert [severity_rank(s) for s in SEVERITIES] == [0, 1, 2, 3, 4]
    assert severity_rank("bogus") == 0


def test_stable_id_is_the_same_for_the_same_inputs() -> None:
    a, b = make(), make()
    assert a.id == b.id
    assert a.id.startswith("F-") and len(a.id) == 18


def test_stable_id_does_not_depend_on_time_title_or_count() -> None:
    a = make()
    b = make(title="Other wording", first_seen=None, last_seen=None, event_count=99, description="")
    assert a.id == b.id


def test_stable_id_differs_when_entities_differ() -> None:
    a = make()
    b = make(entities={"host": ["edge-r2"], "user": ["admin"]})
    c = make(entities={"host": ["edge-r1"]})
    assert len({a.id, b.id, c.id}) == 3


def test_stable_id_differs_when_rule_or_first_event_differs() -> None:
    a = make()
    other_rule = make(rule_id="4a9e8cc6-b264-414c-a570-8cf4e60dfba9")
    other_event = make(evidence=[Evidence(path="/evidence/edge.log", line=4, event_id="abc123def456-300")])
    assert len({a.id, other_rule.id, other_event.id}) == 3


def test_stable_id_without_event_id_uses_path_and_line() -> None:
    a = make(evidence=[Evidence(path="/e/x.log", line=1)])
    b = make(evidence=[Evidence(path="/e/x.log", line=2)])
    assert a.id != b.id
    assert a.id == make(evidence=[Evidence(path="/e/x.log", line=1)]).id


def test_finding_without_evidence_still_gets_an_id() -> None:
    f = make(evidence=[])
    assert f.id.startswith("F-")


def test_explicit_id_is_kept() -> None:
    assert make(id="F-custom").id == "F-custom"


def test_entity_values_flattens_kinds_and_values() -> None:
    assert make().entity_values() == {("host", "edge-r1"), ("user", "admin")}
