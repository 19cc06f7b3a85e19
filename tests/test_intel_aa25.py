"""CISA's AA25-239A bundle (Salt Typhoon) end to end: a hunt with it finds planted addresses
and attributes each to the advisory and the malware the advisory ties it to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seawall.hunt import HuntRequest, run_hunt

ADVISORY = "advisories/AA25-239A.stix.json"
EVENTS = [  # (time, source, destination): two of the advisory's addresses and one that is not
    ("2025-03-01T10:00:00Z", "10.0.0.5", "45.125.67.144"),
    ("2025-03-01T10:05:00Z", "10.0.0.6", "43.254.132.118"),
    ("2025-03-01T10:06:00Z", "10.0.0.6", "192.0.2.53"),
]


@pytest.mark.shared_data
def test_planted_addresses_are_found_and_attributed(shared_data: Path, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "flows.jsonl").write_text(
        "".join(
            json.dumps({"@timestamp": t, "source.ip": s, "destination.ip": d, "message": f"flow {s} -> {d}"}) + "\n"
            for t, s, d in EVENTS
        )
    )
    result = run_hunt(HuntRequest(evidence=evidence, out=tmp_path / "case", intel=[shared_data / ADVISORY]))
    found = {f.entities["indicator"][0]: f for f in result.findings if f.detector == "intel"}
    assert set(found) == {"45.125.67.144", "43.254.132.118"}
    for finding in found.values():
        (advisory,) = finding.entities["advisory"]
        assert advisory.startswith("AA25-239A: Countering Chinese State-Sponsored Actors")
        assert finding.entities["tlp"] == ["clear"] and finding.evidence[0].path.endswith("flows.jsonl")
    assert set(found["45.125.67.144"].entities["malware"]) == {"GhostSpider", "Masol RAT", "Demodex", "SnappyBee"}
    assert found["43.254.132.118"].entities["malware"] == ["Route"]
    assert "TA0011" in found["43.254.132.118"].techniques  # the advisory ties it to Command and Control
    sightings = json.loads((tmp_path / "case" / "sightings.json").read_text())
    assert {o["sighting_of_ref"] for o in sightings["objects"] if o["type"] == "sighting"} == {
        f.rule_id for f in found.values()
    }
