"""Threat-intel import: STIX bundles, MISP events and feeds, CSV/TXT lists into the workspace's intel tables."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from pathlib import Path

import orjson
import pytest
from stix2patterns.validator import validate

from seawall.intel import IntelStore, classify, import_path, infer_kind, infer_type
from seawall.intel.lists import read_csv
from seawall.intel.markings import describe, strictest, tlp_level
from seawall.intel.misp_patterns import attribute_pattern
from seawall.intel.patterns import NAMESPACE, check, derived_id, quote, single
from seawall.intel.stix_import import parse_bundle
from seawall.store import Workspace

INTEL = Path(__file__).resolve().parent / "fixtures" / "intel"
UTC = dt.UTC


@pytest.fixture
def ws() -> Workspace:
    with Workspace() as workspace:
        yield workspace


def rows(ws: Workspace, sql: str, params: list | None = None) -> list[dict]:
    cursor = ws.con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def one(ws: Workspace, sql: str, params: list | None = None) -> object:
    return ws.con.execute(sql, params or []).fetchone()[0]


# ------------------------------------------------------------------------- schema
CONTRACT = {
    "intel_sources": "source_id kind path name imported objects indicators rejected",
    "intel_objects": "id type name source_id created modified revoked tlp markings external_ids object",
    "intel_indicators": "id source_id name description pattern pattern_type valid_from valid_until revoked tlp "
    "markings labels confidence severity",
    "intel_relationships": "id source_id source_ref relationship_type target_ref",
    "intel_rejects": "source_id path object_id location reason",
}


def test_tables_carry_the_contract_columns_and_types(ws: Workspace) -> None:
    IntelStore(ws)
    IntelStore(ws)  # idempotent
    for table, names in CONTRACT.items():
        described = {row[0]: row[1] for row in ws.con.execute(f"DESCRIBE {table}").fetchall()}
        assert set(names.split()) <= set(described), table
    objects = {row[0]: row[1] for row in ws.con.execute("DESCRIBE intel_objects").fetchall()}
    assert (
        objects["markings"] == "VARCHAR[]"
        and objects["object"] == "JSON"
        and objects["created"] == "TIMESTAMP WITH TIME ZONE"
    )
    indicators = {row[0]: row[1] for row in ws.con.execute("DESCRIBE intel_indicators").fetchall()}
    assert indicators["confidence"] == "INTEGER" and indicators["labels"] == "VARCHAR[]"


# --------------------------------------------------------------------------- STIX
@pytest.fixture
def stix(ws: Workspace):
    report = import_path(ws, INTEL / "advisory.stix.json")
    (source,) = report.sources
    return ws, source


def test_stix_bundle_counts_reconcile(stix) -> None:
    ws, source = stix
    assert source.kind == "stix" and source.name == "Seawall test advisory: router implants"
    assert (source.inputs, source.objects, source.indicators, source.rejected, source.ignored) == (19, 14, 4, 4, 1)
    assert source.inputs == source.objects + source.rejected + source.ignored
    stored = rows(ws, "SELECT * FROM intel_sources")[0]
    assert (stored["objects"], stored["indicators"], stored["rejected"]) == (14, 4, 4)
    assert stored["source_id"] == source.source_id and len(source.source_id) == 16


def test_stix_rejects_name_place_and_reason(stix) -> None:
    ws, source = stix
    rejects = {r["location"]: r for r in rows(ws, "SELECT * FROM intel_rejects")}
    assert set(rejects) == {"objects[7]", "objects[16]", "objects[17]", "objects[18]"}
    assert "invalid pattern" in rejects["objects[7]"]["reason"]
    assert rejects["objects[7]"]["object_id"] == "indicator--e9863edd-5b20-4d22-8918-8abe1aa15d22"
    assert "unknown STIX type 'gadget'" in rejects["objects[16]"]["reason"]
    assert rejects["objects[17]"]["reason"] == "no 'id'"
    assert "not a JSON object" in rejects["objects[18]"]["reason"]
    assert all(r["path"] == str(INTEL / "advisory.stix.json") for r in rejects.values())
    assert source.reasons[0].startswith("objects[7]: invalid pattern")


def test_stix_tlp2_and_tlp1_markings_become_levels_and_labels(stix) -> None:
    ws, _ = stix
    c2 = rows(ws, "SELECT * FROM intel_indicators WHERE pattern LIKE '%203.0.113.5%'")[0]
    assert c2["tlp"] == "amber"
    assert c2["markings"] == ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER"]
    expired = rows(ws, "SELECT * FROM intel_indicators WHERE name = 'Expired staging domain'")[0]
    assert expired["tlp"] == "green" and "TLP:GREEN" in expired["markings"]  # TLP 1.0 id, not in the bundle


def test_stix_ais_marking_is_labelled_and_public(stix) -> None:
    ws, _ = stix
    ais = rows(ws, "SELECT * FROM intel_objects WHERE id = 'marking-definition--10e5ba69-4f39-43e9-a2a9-042f19a413ac'")[
        0
    ]
    assert ais["name"] == "AIS:PUBREL" and ais["markings"] == ["AIS:PUBREL"]
    report = rows(ws, "SELECT * FROM intel_objects WHERE type = 'report'")[0]
    assert report["tlp"] == "clear" and "AIS:PUBREL" in report["markings"]


def test_stix_validity_revocation_confidence_and_labels(stix) -> None:
    ws, _ = stix
    by_name = {r["name"]: r for r in rows(ws, "SELECT * FROM intel_indicators")}
    assert by_name["Expired staging domain"]["valid_until"] == dt.datetime(2020, 1, 1, tzinfo=UTC)
    assert by_name["Withdrawn hash"]["revoked"] is True
    c2 = by_name["C2 address"]
    assert c2["valid_from"] == dt.datetime(2025, 1, 15, 8, 30, tzinfo=UTC) and c2["valid_until"] is None
    assert c2["confidence"] == 85 and c2["labels"] == ["c2", "malicious-activity"] and c2["severity"] == "high"
    assert c2["description"] == "Implant beacon target"
    assert by_name["Implant YARA rule"]["pattern_type"] == "yara"
    # quote escaping of an imported pattern is kept as written
    assert by_name["Expired staging domain"]["pattern"] == "[domain-name:value = 'o\\'reilly-updates.example']"


def test_stix_custom_objects_properties_and_extensions_are_kept(stix) -> None:
    ws, _ = stix
    thing = rows(ws, "SELECT * FROM intel_objects WHERE type = 'x-acme-thing'")[0]
    assert json.loads(thing["object"])["readings"] == [1, 2, 3] and thing["name"] == "Acme sensor note"
    c2 = json.loads(one(ws, "SELECT object FROM intel_objects WHERE name = 'C2 address'"))
    assert c2["x_acme_score"] == 97
    assert c2["extensions"]["extension-definition--fe2d21d5-a2de-42fa-8899-d57686c5df1a"]["kill_chain_hint"] == "c2"


def test_stix_external_ids_relationships_and_latest_version(stix) -> None:
    ws, _ = stix
    ids = dict(ws.con.execute("SELECT type, external_ids FROM intel_objects WHERE external_ids IS NOT NULL").fetchall())
    assert ids == {"attack-pattern": ["T1190"], "vulnerability": ["CVE-2023-20198"]}
    rels = ws.con.execute(
        "SELECT source_ref, relationship_type, target_ref FROM intel_relationships ORDER BY 3"
    ).fetchall()
    assert rels == [
        (
            "indicator--fa1f52c8-4817-4d14-8e88-7bb4d1d0a5a1",
            "indicates",
            "attack-pattern--a022b124-ae1c-46ef-871e-38c076b8cb2a",
        ),
        (
            "indicator--fa1f52c8-4817-4d14-8e88-7bb4d1d0a5a1",
            "indicates",
            "malware--94a090a9-9043-4146-a733-5966c263614d",
        ),
    ]
    assert ws.con.execute("SELECT name FROM intel_objects WHERE type = 'malware'").fetchall() == [("RouterShell v2",)]


def test_reimporting_the_same_file_replaces_its_rows(ws: Workspace) -> None:
    first = import_path(ws, INTEL / "advisory.stix.json").sources[0]
    second = import_path(ws, INTEL / "advisory.stix.json").sources[0]
    assert first.source_id == second.source_id
    assert one(ws, "SELECT count(*) FROM intel_sources") == 1
    assert one(ws, "SELECT count(*) FROM intel_objects") == 14
    assert one(ws, "SELECT count(*) FROM intel_rejects") == 4


def test_an_updated_file_supersedes_its_older_version(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_text("203.0.113.1\n203.0.113.2\n")
    old = import_path(ws, path).sources[0]
    path.write_text("203.0.113.3\n")
    new = import_path(ws, path).sources[0]
    assert new.source_id != old.source_id and new.replaced == [old.source_id]
    assert ws.con.execute("SELECT pattern FROM intel_indicators").fetchall() == [("[ipv4-addr:value = '203.0.113.3']",)]
    assert one(ws, "SELECT count(*) FROM intel_sources") == 1


@pytest.mark.parametrize(
    ("data", "location", "reason"),
    [
        (b"\x00\xffnot json", "file", "not JSON"),
        (b'{"type": "report"}', "file", "not a STIX bundle (type 'report')"),
        (b"[1, 2]", "file", "not a STIX bundle (a JSON list)"),
        (b'{"type": "bundle", "id": "bundle--1", "objects": {"a": 1}}', "objects", "'objects' is not a list"),
    ],
)
def test_broken_bundles_become_one_reject_with_the_reason(data: bytes, location: str, reason: str) -> None:
    batch = parse_bundle(data, "x.json")
    assert batch.inputs == 1 and batch.objects == []
    assert batch.rejects[0]["location"] == location and reason in batch.rejects[0]["reason"]


def test_a_bundle_that_is_not_json_is_stored_as_a_rejected_source(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "broken.stix.json"
    path.write_text('{"type": "bundle", "objects": [')
    (source,) = import_path(ws, path).sources
    assert source.kind == "stix" and source.rejected == 1 and source.reasons[0].startswith("file: not JSON")


def test_an_object_that_cannot_be_stored_as_json_is_rejected_not_fatal() -> None:
    good = {"type": "x-a", "id": f"x-a--{uuid.uuid4()}", "spec_version": "2.1"}
    bad = {"type": "x-a", "id": f"x-a--{uuid.uuid4()}", "spec_version": "2.1", "n": 2**70}
    batch = parse_bundle(json.dumps({"type": "bundle", "objects": [good, bad]}), "x.json")
    assert [o["id"] for o in batch.objects] == [good["id"]]
    assert batch.rejects[0]["location"] == "objects[1]" and "cannot be stored" in batch.rejects[0]["reason"]


# --------------------------------------------------------------------------- MISP
@pytest.fixture
def misp(ws: Workspace):
    (source,) = import_path(ws, INTEL / "misp_event.json").sources
    return ws, source


def test_misp_event_counts_reconcile(misp) -> None:
    _, source = misp
    assert source.kind == "misp-event" and source.name == "Telecom edge router intrusion - shared IOCs"
    assert (source.inputs, source.objects, source.indicators, source.rejected, source.ignored, source.derived) == (
        20,
        20,
        11,
        2,
        1,
        3,
    )
    assert source.inputs == source.objects - source.derived + source.rejected + source.ignored


def test_misp_attributes_become_stix_patterns(misp) -> None:
    ws, _ = misp
    patterns = {
        r[0] for r in ws.con.execute("SELECT pattern FROM intel_indicators WHERE pattern_type = 'stix'").fetchall()
    }
    assert patterns == {
        "[ipv4-addr:value = '203.0.113.5']",
        "[network-traffic:dst_ref.value = '198.51.100.23' AND network-traffic:dst_port = 8443]",
        "[domain-name:value = 'update.router-firmware.example']",
        "[url:value = 'https://update.router-firmware.example/fw/it\\'s.bin']",
        "[file:hashes.'SHA-256' = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08']",
        "[x509-certificate:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
        "[autonomous-system:number = 64500]",
        "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
        "[user-account:account_login = 'cisco_support']",
        "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
    }
    assert all(validate(p) for p in patterns)
    snort = rows(ws, "SELECT * FROM intel_indicators WHERE pattern_type = 'snort'")[0]
    assert snort["pattern"].startswith("alert tcp")


def test_misp_tlp_severity_labels_and_validity(misp) -> None:
    ws, _ = misp
    by_id = {r["id"]: r for r in rows(ws, "SELECT * FROM intel_indicators")}
    c2 = by_id["indicator--daf11ca9-bb9e-42e6-bbba-5ae2a482f5e3"]
    assert (c2["tlp"], c2["markings"], c2["labels"], c2["severity"]) == ("amber", ["TLP:AMBER"], ["telecom"], "medium")
    # no first_seen: valid always (the attribute's timestamp is its last edit, after the activity)
    assert c2["description"] == "C2 beacon" and c2["valid_from"] is None
    red = by_id["indicator--f34ee8ba-5123-440d-ae0d-60e5d7653713"]
    assert red["tlp"] == "red" and red["markings"] == ["TLP:AMBER", "TLP:RED"]  # the strictest tag wins
    domain = by_id["indicator--cf6b1063-35bf-4c71-89ea-5bcb055c920c"]
    assert domain["valid_from"] == dt.datetime(2024, 11, 2, tzinfo=UTC)  # first_seen before the timestamp


def test_misp_non_ids_deleted_and_invalid_attributes(misp) -> None:
    ws, _ = misp
    types = dict(ws.con.execute("SELECT id, type FROM intel_objects").fetchall())
    assert types["x-misp-attribute--b4557160-75a6-4cbb-aa9e-3f017ca815ee"] == "x-misp-attribute"  # to_ids false
    assert "indicator--b4557160-75a6-4cbb-aa9e-3f017ca815ee" not in types
    assert not any("489867e0" in i for i in types)  # deleted: ignored
    reasons = {r["location"]: r["reason"] for r in rows(ws, "SELECT * FROM intel_rejects")}
    assert reasons == {
        "Attribute[5]": "md5 value 'not-a-hash': 'not-a-hash' is not a valid md5",
        "Attribute[13]": "not a JSON object (a JSON str)",
    }
    assert types["x-misp-object--4e5f6071-8293-4a4b-8d5e-6f708192a3b4"] == "x-misp-object"
    assert types["report--27695426-0d72-44f1-b79a-1ae3d2c0bfc0"] == "report"


def test_misp_non_ids_attributes_become_indicators_when_asked(ws: Workspace) -> None:
    (source,) = import_path(ws, INTEL / "misp_event.json", include_non_ids=True).sources
    assert source.indicators == 13  # + benign-lookup.example and the sshd_patch file name; text stays an object
    patterns = [r[0] for r in ws.con.execute("SELECT pattern FROM intel_indicators").fetchall()]
    assert "[domain-name:value = 'benign-lookup.example']" in patterns and "[file:name = 'sshd_patch']" in patterns


def test_misp_galaxies_and_galaxy_tags_attribute_indicators(misp) -> None:
    ws, _ = misp
    entities = {
        r["name"]: r
        for r in rows(ws, "SELECT * FROM intel_objects WHERE type IN ('attack-pattern', 'malware', 'threat-actor')")
    }
    assert set(entities) == {"Exploit Public-Facing Application - T1190", "ShadowPad", "Salt Typhoon"}
    technique = entities["Exploit Public-Facing Application - T1190"]
    assert technique["type"] == "attack-pattern" and technique["external_ids"] == ["T1190"]
    assert entities["Salt Typhoon"]["type"] == "threat-actor"
    targets = {
        r[0]: r[1]
        for r in ws.con.execute(
            "SELECT o.name, count(*) FROM intel_relationships r JOIN intel_objects o ON o.id = r.target_ref "
            "WHERE r.relationship_type = 'indicates' GROUP BY 1"
        ).fetchall()
    }
    # event-level clusters: every indicator; the attribute's own cluster: that indicator only
    assert targets == {"Exploit Public-Facing Application - T1190": 11, "Salt Typhoon": 11, "ShadowPad": 1}


def test_misp_feed_directory_imports_each_event(ws: Workspace) -> None:
    report = import_path(ws, INTEL / "misp_feed")
    assert [s.kind for s in report.sources] == ["misp-feed", "misp-feed"]
    assert sorted(s.name for s in report.sources) == [
        "Feed event: VPN appliance exploitation",
        "Feed event: lawful intercept system access",
    ]
    assert any("hashes.csv skipped" in n for s in report.sources for n in s.notes)
    by = {r["pattern"]: r for r in rows(ws, "SELECT * FROM intel_indicators")}
    assert by["[ipv6-addr:value = '2001:db8::bad']"]["tlp"] == "clear"
    assert by["[ipv6-addr:value = '2001:db8::bad']"]["severity"] == "high"
    hostport = "[network-traffic:dst_ref.value = 'li-gw.example' AND network-traffic:dst_port = 9443]"
    assert by[hostport]["tlp"] == "green" and by[hostport]["severity"] == "low"
    assert by["[email-addr:value = 'ops@mail.example']"]
    vulnerability = rows(ws, "SELECT * FROM intel_objects WHERE type = 'vulnerability'")[0]
    assert vulnerability["external_ids"] == ["CVE-2024-21887"]


def test_misp_feed_with_a_missing_event_file_reports_it(ws: Workspace, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    shutil.copytree(INTEL / "misp_feed", feed)
    manifest = json.loads((feed / "manifest.json").read_text())
    manifest["00000000-0000-4000-8000-000000000000"] = {"info": "gone"}
    (feed / "manifest.json").write_text(json.dumps(manifest))
    report = import_path(ws, feed)
    (manifest_source,) = [s for s in report.sources if s.path.endswith("manifest.json")]
    assert manifest_source.rejected == 1 and "has no file" in manifest_source.reasons[0]
    assert sum(s.indicators for s in report.sources) == 3


def test_a_file_of_several_misp_events_keeps_every_event_on_reimport(ws: Workspace, tmp_path: Path) -> None:
    def event(info: str, ip: str) -> dict:
        return {"Event": {"info": info, "Attribute": [{"type": "ip-dst", "value": ip, "to_ids": True}]}}

    path = tmp_path / "search.json"
    path.write_text(json.dumps({"response": [event("a", "192.0.2.1"), event("b", "192.0.2.2")]}))
    for _ in range(2):
        report = import_path(ws, path)
        assert sorted(s.name for s in report.sources) == ["a", "b"]
        assert one(ws, "SELECT count(*) FROM intel_sources") == 2
        assert one(ws, "SELECT count(*) FROM intel_indicators") == 2
    path.write_text(json.dumps({"response": [event("c", "192.0.2.3")]}))
    (source,) = import_path(ws, path).sources
    assert len(source.replaced) == 2 and one(ws, "SELECT count(*) FROM intel_indicators") == 1


@pytest.mark.parametrize(
    ("misp_type", "value", "expected"),
    [
        ("ip-src", "192.0.2.1", "[ipv4-addr:value = '192.0.2.1']"),
        (
            "ip-src|port",
            "192.0.2.1|22",
            "[network-traffic:src_ref.value = '192.0.2.1' AND network-traffic:src_port = 22]",
        ),
        ("hostname", "Router.Example", "[domain-name:value = 'router.example']"),
        ("email-dst", "a@b.example", "[email-addr:value = 'a@b.example']"),
        ("md5", "D41D8CD98F00B204E9800998ECF8427E", "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"),
        (
            "filename|md5",  # the hash alone: a renamed sample is still the sample
            "a'b.exe|d41d8cd98f00b204e9800998ecf8427e",
            "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
        ),
        (
            "malware-sample",
            "a1jxlz|d41d8cd98f00b204e9800998ecf8427e",
            "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
        ),
        (
            "domain|ip",
            "x.example|192.0.2.9",
            "[domain-name:value = 'x.example' AND domain-name:resolves_to_refs[*].value = '192.0.2.9']",
        ),
        ("mutex", "Global\\m", "[mutex:name = 'Global\\\\m']"),
        (
            "regkey|value",
            "HKLM\\Run|evil.exe",
            "[windows-registry-key:key = 'HKLM\\\\Run' AND windows-registry-key:values[*].data = 'evil.exe']",
        ),
    ],
)
def test_misp_type_patterns(misp_type: str, value: str, expected: str) -> None:
    pattern, kind = attribute_pattern(misp_type, value)
    assert (pattern, kind) == (expected, "stix") and check(pattern) is None


@pytest.mark.parametrize(
    ("misp_type", "value"),
    [
        ("ip-dst|port", "192.0.2.1|99999"),
        ("ip-dst|port", "192.0.2.1"),
        ("AS", "ASX"),
        ("sha256", "abc"),
        ("ip-dst", "x"),
    ],
)
def test_misp_values_that_do_not_fit_their_type_raise(misp_type: str, value: str) -> None:
    with pytest.raises(ValueError):
        attribute_pattern(misp_type, value)


def test_misp_types_without_a_pattern_give_none() -> None:
    assert attribute_pattern("comment", "hello") is None and attribute_pattern("port", "443") is None


# --------------------------------------------------------------------------- lists
def test_csv_list(ws: Workspace) -> None:
    (source,) = import_path(ws, INTEL / "iocs.csv").sources
    assert source.kind == "csv"
    assert (source.inputs, source.indicators, source.objects, source.rejected, source.ignored) == (14, 10, 10, 3, 1)
    by = {r["pattern"]: r for r in rows(ws, "SELECT * FROM intel_indicators")}
    first = by["[ipv4-addr:value = '203.0.113.66']"]  # the first of two rows with the value wins
    assert (first["labels"], first["severity"], first["description"]) == (["c2", "apt"], "critical", "beacon target")
    assert by["[domain-name:value = 'evil.example.net']"]["severity"] == "medium"  # defanged, type inferred
    assert "[ipv4-addr:value ISSUBSET '198.51.100.0/24']" in by
    assert "[ipv6-addr:value = '2001:db8::66']" in by
    assert "[url:value = 'https://evil.example.com/Path/Payload.bin']" in by
    assert by["[email-addr:value = 'attacker@evil.example.com']"]["severity"] == "informational"
    assert by["[ipv4-addr:value = '198.51.100.7']"]["severity"] == "high"  # unknown severity falls back
    assert any("catastrophic" in n for n in source.notes)
    assert {r["location"]: r["reason"] for r in rows(ws, "SELECT * FROM intel_rejects")} == {
        "line 11": "unsupported indicator type 'mutex'",
        "line 12": "cannot tell the type of 'not a value at all!'",
        "line 16": "'da39a3ee5e6b4b0d3255bfef95601890afd8070' is not a valid sha1",
    }
    assert all(validate(p) for p in by)
    obj = json.loads(one(ws, "SELECT object FROM intel_objects WHERE id = ?", [first["id"]]))
    assert obj["type"] == "indicator" and obj["pattern"] == first["pattern"]


def test_txt_list(ws: Workspace) -> None:
    (source,) = import_path(ws, INTEL / "iocs.txt").sources
    assert source.kind == "txt"
    assert (source.inputs, source.indicators, source.rejected, source.ignored) == (10, 8, 1, 1)
    patterns = {r[0] for r in ws.con.execute("SELECT pattern FROM intel_indicators").fetchall()}
    assert patterns == {
        "[ipv4-addr:value = '203.0.113.66']",
        "[ipv6-addr:value = '2001:db8::bad']",
        "[ipv4-addr:value ISSUBSET '192.0.2.0/28']",
        "[ipv4-addr:value = '192.0.2.1']",
        "[domain-name:value = 'evil.example.com']",
        "[url:value = 'https://evil.example.com/payload.bin']",
        "[email-addr:value = 'attacker@evil.example.com']",
        "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
    }
    assert rows(ws, "SELECT location FROM intel_rejects") == [{"location": "line 11"}]


def test_list_indicator_ids_are_stable_uuid5_of_the_pattern(ws: Workspace) -> None:
    IntelStore(ws).replace_source(read_csv(INTEL / "iocs.csv"))
    for ident, pattern in ws.con.execute("SELECT id, pattern FROM intel_indicators").fetchall():
        assert ident == f"indicator--{uuid.uuid5(NAMESPACE, pattern)}" == derived_id("indicator", pattern)
    assert one(ws, "SELECT count(*) FROM intel_objects o JOIN intel_indicators i USING (id)") == 10


@pytest.mark.parametrize(
    ("value", "coarse", "kind"),
    [
        ("192.0.2.1", "ip", "ipv4"),
        ("2001:db8::1", "ip", "ipv6"),
        ("192.0.2.0/24", "ip", "ipv4-net"),
        ("2001:db8::/32", "ip", "ipv6-net"),
        ("c2.example.net", "domain", "domain"),
        ("http://c2.example.net/x", "url", "url"),
        ("ftp://c2.example.net/x", "url", "url"),
        ("ops@c2.example.net", "email", "email"),
        ("d41d8cd98f00b204e9800998ecf8427e", "hash", "md5"),
        ("da39a3ee5e6b4b0d3255bfef95601890afd80709", "hash", "sha1"),
        ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "hash", "sha256"),
        ("not a value", None, None),
        ("0123456789abcdef", None, None),
        ("localhost", None, None),
        ("192.168.001.1", None, None),  # leading zeros: ambiguous (octal?), not an address
        ("999.1.1.1", None, None),
    ],
)
def test_infer_type_and_kind(value: str, coarse: str | None, kind: str | None) -> None:
    assert infer_type(value) == coarse and infer_kind(value) == kind


@pytest.mark.parametrize(
    ("value", "given", "expected"),
    [
        ("2001:0DB8::0066", None, ("ipv6", "2001:db8::66")),
        ("198.51.100.9/24", None, ("ipv4-net", "198.51.100.0/24")),
        ("198.51.100.9/32", "cidr", ("ipv4", "198.51.100.9")),
        ("2001:db8::1/128", None, ("ipv6", "2001:db8::1")),
        ("evil[.]example[.]com", None, ("domain", "evil.example.com")),
        ("hxxp://Evil.Example/A", None, ("url", "http://evil.example/A")),
        ("c2", "hostname", ("domain", "c2")),
        ("Evil.Example/login.php", "url", ("url", "evil.example/login.php")),  # no scheme: host and path
        ("192.0.2.7:8080/x", "url", ("url", "192.0.2.7:8080/x")),
        (
            "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "hash",
            ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ),
    ],
)
def test_classify_normalises(value: str, given: str | None, expected: tuple[str, str]) -> None:
    assert classify(value, given) == expected


@pytest.mark.parametrize(
    ("value", "given"),
    [
        ("x", "mutex"),
        ("example.com", "ip"),
        ("abc", "md5"),
        ("", None),
        # MISP 'url' attributes seen in real events that are not URLs: a file name matched
        # a legitimate Windows process, a relative path and a truncated address
        ("igfxtray.exe", "url"),
        ("Data/dtl.dat", "url"),
        ("107.183.86", "url"),
    ],
)
def test_classify_rejects_with_a_reason(value: str, given: str | None) -> None:
    with pytest.raises(ValueError):
        classify(value, given)


# ------------------------------------------------------------------------ patterns
@pytest.mark.parametrize("value", ["o'reilly", "a\\b", "\\'", "end\\", "'", "tab\tand\nnewline", "é中"])
def test_quote_escapes_backslash_then_quote(value: str) -> None:
    pattern = single("filename", value)
    assert check(pattern) is None
    assert quote(value)[1:-1].replace("\\\\", "\0").replace("\\'", "'").replace("\0", "\\") == value


def test_check_reports_invalid_patterns() -> None:
    assert check("[ipv4-addr:value = '1.2.3.4']") is None
    assert "invalid pattern" in check("[ipv4-addr:value = '1.2.3.4'")
    assert check(None) == "pattern is missing or not a string"


# ------------------------------------------------------------------------ markings
def test_tlp_names_and_strictest() -> None:
    assert [tlp_level(n) for n in ("tlp:white", "TLP:CLEAR", "amber+strict", "TLP:AMBER+STRICT", "tlp:rainbow")] == [
        "clear",
        "clear",
        "amber+strict",
        "amber+strict",
        None,
    ]
    assert strictest(["green", None, "amber+strict", "amber"]) == "amber+strict" and strictest([]) is None


def test_describe_marking_kinds() -> None:
    assert describe({"id": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"}) == ("red", ["TLP:RED"])
    assert describe({"id": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"}) == ("clear", ["TLP:WHITE"])
    statement = {
        "id": "marking-definition--x",
        "definition_type": "statement",
        "definition": {"statement": "Copyright X"},
    }
    assert describe(statement) == (None, ["Copyright X"])
    legacy = {"id": "marking-definition--y", "definition_type": "tlp", "definition": {"tlp": "amber"}}
    assert describe(legacy) == ("amber", ["TLP:AMBER"])


# ------------------------------------------------------------------ importer, store
def test_directory_of_mixed_files_imports_each_and_skips_others(ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "intel"
    shutil.copytree(INTEL, folder)
    (folder / "README.md").write_text("# notes")
    (folder / "package.json").write_text('{"name": "not intel"}')
    (folder / "notes.txt").write_bytes(b"\x00\x01\x02binary")
    (folder / ".hidden.csv").write_text("203.0.113.9\n")
    report = import_path(ws, folder)
    assert sorted(s.kind for s in report.sources) == ["csv", "misp-event", "misp-feed", "misp-feed", "stix", "txt"]
    skipped = {Path(p).name: why for p, why in report.skipped}
    assert set(skipped) == {"README.md", "package.json", "notes.txt"}
    assert "neither a STIX bundle nor a MISP event" in skipped["package.json"]
    assert report.indicators == one(ws, "SELECT count(*) FROM intel_indicators")
    assert report.rejected == one(ws, "SELECT count(*) FROM intel_rejects")


def test_kind_is_sniffed_from_content_not_the_name(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes((INTEL / "advisory.stix.json").read_bytes())
    (tmp_path / "b.dat").write_bytes((INTEL / "misp_event.json").read_bytes())
    (tmp_path / "c.log").write_text("value,type\n203.0.113.1,ip\n")
    (tmp_path / "d").write_text("203.0.113.2\nhttps://x.example/a,b\n")
    kinds = {
        Path(s.path).name: s.kind
        for p in ("a.txt", "b.dat", "c.log", "d")
        for s in import_path(ws, tmp_path / p).sources
    }
    assert kinds == {"a.txt": "stix", "b.dat": "misp-event", "c.log": "csv", "d": "txt"}


def test_missing_path_raises(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        import_path(ws, tmp_path / "nope.json")


def test_summary_and_indicator_views(ws: Workspace) -> None:
    import_path(ws, INTEL / "advisory.stix.json")
    import_path(ws, INTEL / "iocs.txt")
    store = IntelStore(ws)
    summary = store.summary()
    assert [s["kind"] for s in summary.sources] and {s["kind"] for s in summary.sources} == {"stix", "txt"}
    assert summary.types["indicator"] == 12 and summary.types["malware"] == 1
    assert summary.tlp == {"none": 10, "amber": 1, "green": 1}
    stix_id = next(s["source_id"] for s in summary.sources if s["kind"] == "stix")
    assert summary.types_by_source[stix_id]["relationship"] == 2
    at = dt.datetime(2025, 6, 1, tzinfo=UTC)
    active = store.indicators(at=at).execute()
    assert "Expired staging domain" not in set(active["name"]) and "Withdrawn hash" not in set(active["name"])
    assert "C2 address" in set(active["name"])
    assert "Withdrawn hash" in set(store.indicators(include_revoked=True).execute()["name"])
    assert store.objects("attack-pattern").count().execute() == 1
    assert all(r["location"].startswith("objects[") for r in store.rejects(stix_id))


def test_store_in_a_workspace_file_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "ws.duckdb"
    with Workspace(path) as workspace:
        import_path(workspace, INTEL / "misp_event.json")
    with Workspace(path) as workspace:
        assert IntelStore(workspace).summary().types["indicator"] == 11
        row = workspace.con.execute("SELECT object FROM intel_objects WHERE type = 'report'").fetchone()
        assert orjson.loads(row[0])["info"] == "Telecom edge router intrusion - shared IOCs"


# --------------------------------------------------------------------- real data
ADVISORY = "advisories/AA25-239A.stix.json"


@pytest.mark.shared_data
def test_cisa_aa25_239a_imports_fully(shared_data: Path, ws: Workspace) -> None:
    path = shared_data / ADVISORY
    if not path.is_file():
        pytest.skip(f"{path} not found")
    (source,) = import_path(ws, path).sources
    assert source.rejected == 0 and source.reasons == []
    assert source.name.startswith("AA25-239A: Countering Chinese State-Sponsored Actors")
    counts = dict(ws.con.execute("SELECT type, count(*) FROM intel_objects GROUP BY 1").fetchall())
    assert counts == {
        "indicator": 93,
        "attack-pattern": 44,
        "malware": 11,
        "relationship": 15,
        "vulnerability": 6,
        "report": 1,
        "marking-definition": 1,
        "location": 1,
    }
    assert one(ws, "SELECT count(*) FROM intel_indicators") == 93
    assert one(ws, "SELECT count(*) FROM intel_relationships") == 15
    ais = rows(ws, "SELECT * FROM intel_objects WHERE type = 'marking-definition'")[0]
    assert "AIS:PUBREL" in ais["markings"] and "AIS:PUBREL" in ais["name"]
    first = rows(ws, "SELECT * FROM intel_indicators WHERE id = 'indicator--02b75f3e-57a5-4d2c-89aa-89ecd70fadda'")[0]
    assert first["pattern"] == "[ipv4-addr:value = '193.43.104.185']"
    assert first["valid_from"] == dt.datetime(2025, 1, 8, 18, 9, 11, 67000, tzinfo=UTC)
    assert first["tlp"] == "clear" and "AIS:PUBREL" in first["markings"]
    indicates_malware = rows(
        ws,
        "SELECT r.source_ref, o.name FROM intel_relationships r JOIN intel_objects o ON o.id = r.target_ref "
        "WHERE r.relationship_type = 'indicates' AND o.type = 'malware' AND r.source_ref LIKE 'indicator--%'",
    )
    assert len(indicates_malware) == 10  # the other 4 'indicates' name tactics, the 15th is located-at
    assert (
        one(
            ws,
            "SELECT count(*) FROM intel_relationships WHERE relationship_type = 'indicates' "
            "AND source_ref NOT IN (SELECT id FROM intel_indicators)",
        )
        == 0
    )
    assert {
        "source_ref": "indicator--0424b967-6db9-4777-b9f1-674acf41f1df",
        "name": "win.cobalt_strike",
    } in indicates_malware
    techniques = {
        t
        for (ids,) in ws.con.execute("SELECT external_ids FROM intel_objects WHERE type = 'attack-pattern'").fetchall()
        for t in ids
    }
    assert {"T1569", "T1016", "T1027.010", "TA0011"} <= techniques
    cves = {
        c
        for (ids,) in ws.con.execute("SELECT external_ids FROM intel_objects WHERE type = 'vulnerability'").fetchall()
        for c in ids
    }
    assert "CVE-2024-21887" in cves


def test_misp_composite_types_without_a_pattern_are_kept_not_rejected() -> None:
    """A review found filename|authentihash rejected as 'pattern is missing'."""
    assert attribute_pattern("filename|authentihash", "a.exe|abc") is None
    assert attribute_pattern("email-src|display-name", "a@b.example|Alice") is None


def test_a_list_whose_header_puts_the_type_first_is_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "feed.ioc"
    path.write_text("type,value\nip,203.0.113.5\ndomain,evil.example\n")
    with Workspace(None) as ws:
        (source,) = import_path(ws, path).sources
    assert (source.kind, source.indicators, source.rejected) == ("csv", 2, 0)
