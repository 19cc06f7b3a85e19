"""STIX sightings of matched indicators: a bundle the STIX library reads back, marked as its indicators."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import stix2

from seawall.detect.finding import Evidence, Finding
from seawall.report.writer import write_sightings
from seawall.share import sightings_bundle
from seawall.share.sightings import TLP2_IDS

IOC = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
OTHER = "indicator--1f3c8b6a-0c4b-4a1e-9f7e-2b7a1d2c3e4f"
T = dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.UTC)


def finding(rule_id: str = IOC, tlp: str | None = "amber", count: int = 3, detector: str = "intel") -> Finding:
    entities = {"indicator": ["203.0.113.66"], "host": ["fw1"]}
    if tlp:
        entities["tlp"] = [tlp]
    return Finding(
        rule_id=rule_id,
        title="Known-bad ipv4-addr 203.0.113.66 seen (CISA AA25-239A)",
        severity="high",
        detector=detector,
        first_seen=T,
        last_seen=T + dt.timedelta(hours=2),
        entities=entities,
        evidence=[Evidence(path="/e/fw1.log", line=1, event_id="abc-1")],
        event_count=count,
    )


def objects_of(bundle: dict, kind: str) -> list[dict]:
    return [o for o in bundle["objects"] if o["type"] == kind]


def test_bundle_parses_with_the_stix_library_and_names_indicator_count_and_time() -> None:
    bundle = sightings_bundle([finding()], "Example Telecom CSIRT", created=T)
    json.dumps(bundle)  # JSON-ready as it is
    parsed = stix2.parse(bundle)
    assert parsed.type == "bundle"
    (sighting,) = objects_of(bundle, "sighting")
    (reporter,) = objects_of(bundle, "identity")
    assert reporter["name"] == "Example Telecom CSIRT" and reporter["identity_class"] == "organization"
    assert sighting["sighting_of_ref"] == IOC
    assert sighting["where_sighted_refs"] == [reporter["id"]]
    assert sighting["created_by_ref"] == reporter["id"]
    assert sighting["count"] == 3
    assert sighting["first_seen"] == "2025-03-01T10:00:00Z"
    assert sighting["last_seen"] == "2025-03-01T12:00:00Z"
    assert "observed_data_refs" not in sighting  # evidence stays in the case folder


def test_sighting_is_at_least_as_restricted_as_its_indicator() -> None:
    bundle = sightings_bundle(
        [finding(tlp="amber+strict"), finding(OTHER, tlp="clear")], "CSIRT", default_tlp="green", created=T
    )
    marks = {s["sighting_of_ref"]: s["object_marking_refs"] for s in objects_of(bundle, "sighting")}
    assert marks == {IOC: [TLP2_IDS["amber+strict"]], OTHER: [TLP2_IDS["green"]]}
    definitions = {m["id"]: m for m in objects_of(bundle, "marking-definition")}
    assert set(definitions) == {TLP2_IDS["amber+strict"], TLP2_IDS["green"]}
    assert definitions[TLP2_IDS["amber+strict"]]["name"] == "TLP:AMBER+STRICT"
    stix2.parse(bundle)


def test_unmarked_indicator_without_default_gives_an_unmarked_sighting() -> None:
    bundle = sightings_bundle([finding(tlp=None)], "CSIRT", default_tlp=None, created=T)
    (sighting,) = objects_of(bundle, "sighting")
    assert "object_marking_refs" not in sighting
    assert objects_of(bundle, "marking-definition") == []


def test_only_intel_findings_with_indicator_ids_become_sightings() -> None:
    bundle = sightings_bundle(
        [finding(), finding("sigma-rule-1", detector="sigma"), finding("intel:ip:1.2.3.4")], "CSIRT", created=T
    )
    assert [s["sighting_of_ref"] for s in objects_of(bundle, "sighting")] == [IOC]


def test_ids_are_stable_across_runs_and_count_is_capped() -> None:
    first = sightings_bundle([finding(count=5_000_000_000)], "CSIRT", created=T)
    second = sightings_bundle([finding(count=5_000_000_000)], "CSIRT", created=T)
    assert [o["id"] for o in first["objects"]] == [o["id"] for o in second["objects"]]
    (sighting,) = objects_of(first, "sighting")
    assert sighting["count"] == 999_999_999


def test_no_findings_gives_a_bundle_with_the_identity_only(tmp_path: Path) -> None:
    bundle = sightings_bundle([], "CSIRT", created=T)
    assert [o["type"] for o in bundle["objects"]] == ["identity"]
    target = tmp_path / "sightings.json"
    target.write_text(json.dumps(bundle), encoding="utf-8")
    assert stix2.parse(json.loads(target.read_text(encoding="utf-8"))).type == "bundle"


def test_a_run_without_sightings_removes_an_earlier_sightings_file(tmp_path: Path) -> None:
    """A case folder re-used by a run with no intel match must not keep the last run's sightings."""
    target = tmp_path / "sightings.json"
    assert write_sightings(target, [finding()], "CSIRT") and objects_of(json.loads(target.read_text()), "sighting")
    assert not write_sightings(target, [finding("sigma-rule-1", detector="sigma")], "CSIRT")
    assert not target.exists()
