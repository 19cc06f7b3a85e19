"""The intel detector: indicators of the workspace's intel store matched against its events.

Indicators reach the store the way a hunt brings them (seawall.intel: CSV lists, STIX
bundles); the detector matches values in columns and as tokens of the event text, CIDRs,
IPv6 in any spelling, within validity windows, and reports what it cannot run.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from seawall.detect.base import MAX_EVIDENCE_TEXT, HuntContext
from seawall.detect.finding import Finding
from seawall.detect.intel import IntelDetector, tokenised
from seawall.ingest import ingest
from seawall.intel.lists import read_csv
from seawall.intel.store import IntelStore, SourceBatch
from seawall.sources import ReadOptions
from seawall.store import Workspace

INTEL = Path(__file__).resolve().parent / "fixtures" / "detect" / "intel"
SHA256_UPPER = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
T0 = dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.UTC)


# ----------------------------------------------------------------------------- helpers
def write_events(folder: Path, events: Sequence[tuple[str, dict]], name: str = "events.jsonl") -> Path:
    """JSON lines, one a minute from T0 unless an event brings its own @timestamp; ``tid`` labels each."""
    path = folder / name
    lines = []
    for n, (tid, fields) in enumerate(events):
        stamp = (T0 + dt.timedelta(minutes=n)).isoformat().replace("+00:00", "Z")
        lines.append(json.dumps({"@timestamp": stamp, "event.dataset": "net", "tid": tid, **fields}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def indicator(ioc: str, pattern: str, **fields: Any) -> dict[str, Any]:
    """An intel_indicators row as an importer hands it to the store."""
    row = {
        "id": ioc,
        "name": None,
        "description": None,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": None,
        "valid_until": None,
        "revoked": False,
        "tlp": None,
        "markings": None,
        "labels": None,
        "confidence": None,
        "severity": "high",
    }
    row.update(fields)
    return row


def store_intel(
    workspace: Workspace,
    indicators: Sequence[dict[str, Any]],
    name: str = "Advisory AA-TEST",
    objects: Sequence[dict[str, Any]] = (),
    relationships: Sequence[dict[str, Any]] = (),
) -> None:
    batch = SourceBatch(
        "stix",
        f"/intel/{name}.json",
        name,
        name=name,
        objects=list(objects),
        indicators=list(indicators),
        relationships=list(relationships),
    )
    IntelStore(workspace).replace_source(batch)


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    with Workspace(None) as ws:
        yield ws


def load_events(workspace: Workspace, folder: Path, events: Sequence[tuple[str, dict]]) -> None:
    assert ingest([write_events(folder, events)], workspace).files[0].parsed == len(events)


def hunt(workspace: Workspace, **options: Any) -> tuple[list[Finding], HuntContext]:
    ctx = HuntContext(**options)
    return list(IntelDetector().run(workspace, ctx)), ctx


def labels(finding: Finding) -> set[str]:
    """The tid of each evidence event (file:line for lines that are not JSON)."""
    out = set()
    for e in finding.evidence:
        if e.text and e.text.startswith("{"):
            out.add(json.loads(e.text)["tid"])
        else:
            out.add(f"{Path(e.path).name}:{e.line}")
    return out


def by_rule(findings: list[Finding]) -> dict[str, set[str]]:
    return {f.rule_id: labels(f) for f in findings}


# ----------------------------------------------------------- a list imported as a hunt does
EVENTS: list[tuple[str, dict]] = [
    ("i-1", {"host.name": "fw1", "source.ip": "203.0.113.66", "destination.ip": "10.0.0.1", "message": "allowed"}),
    ("i-2", {"host.name": "fw2", "source.ip": "10.0.0.2", "destination.ip": "203.0.113.66", "message": "allowed"}),
    ("i-3", {"host.name": "fw1", "message": "accepted connection from 203.0.113.66 port 4444"}),
    ("i-4", {"host.name": "fw1", "message": "accepted connection from 203.0.113.661 port 4444"}),
    ("i-5", {"host.name": "fw1", "message": "peer 1203.0.113.66 rejected"}),
    ("i-6", {"host.name": "fw1", "message": "session to 203.0.113.66:443 opened"}),
    ("i-7", {"host.name": "px1", "message": "GET http://Evil.Example.COM/payload.bin 200"}),
    ("i-8", {"host.name": "mx1", "message": "mail from attacker@EVIL.example.com accepted"}),
    ("i-9", {"host.name": "ns1", "message": "query EVIL.EXAMPLE.COM A"}),
    ("i-10", {"host.name": "ns1", "message": "query notevil.example.com A"}),
    ("i-11", {"host.name": "ns1", "message": "query evil.example.community A"}),
    ("i-12", {"host.name": "px1", "url.domain": "Evil.Example.Com", "message": "proxied"}),
    ("i-13", {"host.name": "fw1", "message": "flow 198.51.100.9 -> 203.0.113.66 dropped"}),
    ("i-14", {"host.name": "edr1", "file.hash.sha256": SHA256_UPPER, "message": "file written"}),
    ("i-15", {"host.name": "mx1", "email.from.address": "Phish@Bad.Example", "message": "delivered"}),
    ("i-16", {"host.name": "px1", "url.full": "https://bad.example/login?x=1", "message": "proxied"}),
    ("i-17", {"host.name": "fw3", "source.ip": "2001:db8::bad", "message": "v6 flow"}),
    ("i-18", {"host.name": "fw1", "message": "quiet line 198.51.100.99"}),
]


class ListRun:
    def __init__(self, findings: list[Finding], ctx: HuntContext) -> None:
        self.findings = findings
        self.ctx = ctx

    def for_indicator(self, value: str) -> list[Finding]:
        return [f for f in self.findings if f.entities.get("indicator") == [value]]

    def labels(self, value: str) -> set[str]:
        found = self.for_indicator(value)
        assert len(found) <= 1, f"more than one finding for {value}"
        return labels(found[0]) if found else set()


@pytest.fixture(scope="module")
def list_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ListRun]:
    root = tmp_path_factory.mktemp("intel")
    events = write_events(root, EVENTS)
    syslog = root / "auth.log"
    syslog.write_text(
        "<38>Mar  1 11:00:00 bastion sshd[812]: Accepted password for root from 203.0.113.66 port 51234 ssh2\n"
        "<38>Mar  1 11:00:05 bastion sshd[812]: Accepted password for root from 203.0.113.6 port 51234 ssh2\n",
        encoding="utf-8",
    )
    with Workspace(None) as workspace:
        reference = ReadOptions(reference_time=dt.datetime(2025, 3, 2, tzinfo=dt.UTC))
        result = ingest([events, syslog], workspace, reference)
        assert [f.parsed for f in result.files] == [len(EVENTS), 2], result
        IntelStore(workspace).replace_source(read_csv(INTEL / "detector.csv"))
        findings, ctx = hunt(workspace)
        yield ListRun(findings, ctx)


def test_ip_indicator_matches_structured_source_and_destination_columns(list_run: ListRun) -> None:
    assert {"i-1", "i-2"} <= list_run.labels("203.0.113.66")


def test_ip_indicator_matches_as_a_whole_token_in_message_text(list_run: ListRun) -> None:
    assert {"i-3", "i-6", "auth.log:1"} <= list_run.labels("203.0.113.66")


def test_ip_indicator_does_not_match_inside_a_longer_number(list_run: ListRun) -> None:
    found = list_run.labels("203.0.113.66")
    assert "i-4" not in found  # 203.0.113.661
    assert "i-5" not in found  # 1203.0.113.66
    assert "auth.log:2" not in found  # 203.0.113.6 is a different address
    assert "i-18" not in list_run.labels("198.51.100.9")  # 198.51.100.99


def test_every_indicator_in_a_line_is_found_not_only_the_first(list_run: ListRun) -> None:
    assert "i-13" in list_run.labels("198.51.100.9")
    assert "i-13" in list_run.labels("203.0.113.66")


def test_domain_indicator_matches_case_insensitively_as_token_and_in_columns(list_run: ListRun) -> None:
    found = list_run.labels("evil.example.com")
    assert {"i-9", "i-12"} <= found
    assert "i-10" not in found  # notevil.example.com
    assert "i-11" not in found  # evil.example.community


def test_domain_indicator_matches_inside_a_url_and_an_email_address(list_run: ListRun) -> None:
    assert {"i-7", "i-8"} <= list_run.labels("evil.example.com")


def test_hash_email_url_and_ipv6_indicators_match_their_columns_case_insensitively(list_run: ListRun) -> None:
    assert list_run.labels(SHA256_UPPER.lower()) == {"i-14"}
    assert list_run.labels("phish@bad.example") == {"i-15"}
    assert list_run.labels("https://bad.example/login?x=1") == {"i-16"}
    assert list_run.labels("2001:db8::bad") == {"i-17"}


def test_one_finding_per_indicator_with_the_indicator_as_entity(list_run: ListRun) -> None:
    values = [tuple(f.entities["indicator"]) for f in list_run.findings]
    assert len(values) == len(set(values))
    assert {v[0] for v in values} == {
        "203.0.113.66",
        "198.51.100.9",
        "evil.example.com",
        SHA256_UPPER.lower(),
        "phish@bad.example",
        "https://bad.example/login?x=1",
        "2001:db8::bad",
    }
    finding = list_run.for_indicator("203.0.113.66")[0]
    assert {"fw1", "fw2", "bastion"} <= set(finding.entities["host"])
    assert finding.event_count == len(finding.evidence)


def test_rule_id_is_the_indicator_id_and_title_severity_come_from_the_indicator(list_run: ListRun) -> None:
    ip = list_run.for_indicator("203.0.113.66")[0]
    assert ip.rule_id.startswith("indicator--")  # the STIX id: sightings and scope name it
    assert ip.detector == "intel"
    assert "203.0.113.66" in ip.title and "ipv4-addr" in ip.title and "detector.csv" in ip.title
    assert ip.severity == "critical"
    assert "c2" in ip.description and "apt" in ip.description
    assert ip.entities["advisory"] == ["detector.csv"]
    assert list_run.for_indicator("198.51.100.9")[0].severity == "low"
    assert list_run.for_indicator("evil.example.com")[0].severity == "medium"
    assert list_run.for_indicator("phish@bad.example")[0].severity == "high"  # empty column: default
    ids = [f.rule_id for f in list_run.findings]
    assert len(ids) == len(set(ids))


def test_finding_time_range_spans_the_matching_events(list_run: ListRun) -> None:
    f = list_run.for_indicator(SHA256_UPPER.lower())[0]
    assert f.first_seen is not None and f.first_seen == f.last_seen
    assert f.first_seen.isoformat().startswith("2025-03-01T10:13:00")


def test_intel_ran_counts_the_indicators_and_skips_nothing(list_run: ListRun) -> None:
    assert list_run.ctx.ran["intel"] == 7
    assert list_run.ctx.skipped == []


# ------------------------------------------------------------------------ addresses
def test_ipv6_matches_in_any_spelling_in_columns_and_compressed_in_text(workspace: Workspace, tmp_path: Path) -> None:
    load_events(
        workspace,
        tmp_path,
        [
            ("v-1", {"destination.ip": "2001:DB8:0:0::66"}),
            ("v-2", {"source.ip": "2001:0db8:0000:0000:0000:0000:0000:0066"}),
            ("v-3", {"message": "peer 2001:db8::66 up"}),
            ("v-4", {"destination.ip": "2001:db8::67"}),
        ],
    )
    store_intel(workspace, [indicator("indicator--v6", "[ipv6-addr:value = '2001:0db8:0000::0066']")])
    (finding,), ctx = hunt(workspace)
    assert labels(finding) == {"v-1", "v-2", "v-3"}
    assert finding.entities["indicator"] == ["2001:db8::66"]
    assert ctx.skipped == []


def test_cidr_indicators_match_addresses_in_columns_and_text_v4_and_v6(workspace: Workspace, tmp_path: Path) -> None:
    load_events(
        workspace,
        tmp_path,
        [
            ("c-1", {"destination.ip": "198.51.100.7"}),
            ("c-2", {"source.ip": "198.51.101.7"}),  # outside the /24
            ("c-3", {"message": "dropped 198.51.100.200:443"}),
            ("c-4", {"source.ip": "10.20.30.40"}),  # inside the /8
            ("c-5", {"destination.ip": "2001:db8:ab::1"}),
            ("c-6", {"destination.ip": "2001:db9::1"}),
            ("c-7", {"source.ip": "172.16.5.9"}),  # inside 172.16.4.0/22, written with host bits
        ],
    )
    store_intel(
        workspace,
        [
            indicator("indicator--c24", "[ipv4-addr:value ISSUBSET '198.51.100.0/24']"),
            indicator("indicator--c8", "[ipv4-addr:value = '10.0.0.0/8']"),  # '=' with a range: the range
            indicator("indicator--c6", "[ipv6-addr:value ISSUBSET '2001:db8::/32']"),
            indicator("indicator--c22", "[ipv4-addr:value ISSUBSET '172.16.5.1/22']"),
        ],
    )
    findings, ctx = hunt(workspace)
    assert by_rule(findings) == {
        "indicator--c24": {"c-1", "c-3"},
        "indicator--c8": {"c-4"},
        "indicator--c6": {"c-5"},
        "indicator--c22": {"c-7"},
    }
    shown = {f.rule_id: f.entities["indicator"] for f in findings}
    assert shown["indicator--c22"] == ["172.16.4.0/22"]
    assert ctx.skipped == []


def test_address_indicators_beside_cidrs_match_in_columns_and_text_as_written(
    workspace: Workspace, tmp_path: Path
) -> None:
    """With CIDRs present, address atoms are looked up with them by number (one pass over the
    text); they still match the dotted quad as written, as without CIDRs."""
    load_events(
        workspace,
        tmp_path,
        [
            ("a-1", {"source.ip": "192.0.2.10"}),
            ("a-2", {"message": "accepted from 192.0.2.10 port 22"}),
            ("a-3", {"source.ip": "192.0.2.010"}),  # another spelling: not the indicator's value
            ("a-4", {"message": "accepted from 192.0.2.010 port 22"}),
            ("a-5", {"destination.ip": "198.51.100.9"}),
        ],
    )
    store_intel(
        workspace,
        [
            indicator("indicator--ip", "[ipv4-addr:value = '192.0.2.10']"),
            indicator("indicator--net", "[ipv4-addr:value ISSUBSET '198.51.100.0/24']"),
        ],
    )
    findings, _ = hunt(workspace)
    assert by_rule(findings) == {"indicator--ip": {"a-1", "a-2"}, "indicator--net": {"a-5"}}


def test_many_prefix_lengths_and_nested_networks_each_report_their_events(workspace: Workspace, tmp_path: Path) -> None:
    addresses = [f"203.0.{n}.{n}" for n in range(0, 256, 17)]
    load_events(workspace, tmp_path, [(f"a-{n}", {"source.ip": a}) for n, a in enumerate(addresses)])
    lengths = [8, 12, 16, 20, 23, 24, 25, 28, 31]
    store_intel(
        workspace, [indicator(f"indicator--l{n}", f"[ipv4-addr:value ISSUBSET '203.0.0.0/{n}']") for n in lengths]
    )
    findings, _ = hunt(workspace)
    import ipaddress

    expected = {
        f"indicator--l{n}": {
            f"a-{i}"
            for i, a in enumerate(addresses)
            if ipaddress.ip_address(a) in ipaddress.ip_network(f"203.0.0.0/{n}")
        }
        for n in lengths
    }
    assert by_rule(findings) == {k: v for k, v in expected.items() if v}


# ---------------------------------------------------------------------------- lifecycle
def test_validity_window_limits_matches_unless_the_hunt_ignores_it(workspace: Workspace, tmp_path: Path) -> None:
    load_events(workspace, tmp_path, [(f"t-{n}", {"destination.ip": "192.0.2.10"}) for n in range(5)])
    store_intel(
        workspace,
        [
            indicator(
                "indicator--window",
                "[ipv4-addr:value = '192.0.2.10']",
                valid_from=T0 + dt.timedelta(minutes=1),
                valid_until=T0 + dt.timedelta(minutes=3),  # exclusive
            ),
            indicator("indicator--open", "[ipv4-addr:value = '192.0.2.10']", valid_from=T0 + dt.timedelta(minutes=4)),
        ],
    )
    findings, _ = hunt(workspace)
    assert by_rule(findings) == {"indicator--window": {"t-1", "t-2"}, "indicator--open": {"t-4"}}
    findings, _ = hunt(workspace, ignore_validity=True)
    assert by_rule(findings) == {f"indicator--{k}": {f"t-{n}" for n in range(5)} for k in ("window", "open")}


def test_matches_only_outside_the_window_are_noted_not_silent(workspace: Workspace, tmp_path: Path) -> None:
    """An expired indicator seen in the events is not a finding, but the run says so."""
    load_events(workspace, tmp_path, [("t-0", {"destination.ip": "192.0.2.10"})])
    store_intel(
        workspace,
        [indicator("indicator--expired", "[ipv4-addr:value = '192.0.2.10']", valid_until=T0 - dt.timedelta(days=1))],
    )
    findings, ctx = hunt(workspace)
    assert findings == []
    (note,) = [n for n in ctx.notes if n.item == "validity"]
    assert "1 indicator(s) matched events only outside their validity window" in note.reason
    assert "indicator--expired" in note.reason
    _, ctx = hunt(workspace, ignore_validity=True)
    assert not [n for n in ctx.notes if n.item == "validity"]


def test_a_pattern_over_several_kinds_of_value_is_titled_by_its_name(workspace: Workspace, tmp_path: Path) -> None:
    """Found by a blind test: an OR of an address and a domain was titled 'domain-name 113.10.246.30'."""
    load_events(workspace, tmp_path, [("t-0", {"dns.question.name": "www.webserver.example"})])
    pattern = "[ipv4-addr:value = '198.51.100.30'] OR [domain-name:value = 'www.webserver.example']"
    store_intel(workspace, [indicator("indicator--mixed", pattern, name="PoisonIvy C2")])
    (finding,), _ = hunt(workspace)
    assert finding.title == "Indicator PoisonIvy C2 matched (Advisory AA-TEST)"


def test_validity_applies_to_observation_patterns_too(workspace: Workspace, tmp_path: Path) -> None:
    load_events(
        workspace, tmp_path, [(f"t-{n}", {"destination.ip": "192.0.2.10", "destination.port": 22}) for n in range(4)]
    )
    pattern = "[ipv4-addr:value = '192.0.2.10' AND network-traffic:dst_port = 22]"
    store_intel(workspace, [indicator("indicator--p", pattern, valid_from=T0 + dt.timedelta(minutes=2))])
    findings, _ = hunt(workspace)
    assert by_rule(findings) == {"indicator--p": {"t-2", "t-3"}}


def test_revoked_indicators_are_not_matched_and_noted(workspace: Workspace, tmp_path: Path) -> None:
    load_events(workspace, tmp_path, [("r-1", {"destination.ip": "192.0.2.10"})])
    store_intel(workspace, [indicator("indicator--r", "[ipv4-addr:value = '192.0.2.10']", revoked=True)])
    findings, ctx = hunt(workspace)
    assert findings == []
    assert any(n.item == "revoked" and "1 revoked" in n.reason for n in ctx.notes)


def test_what_cannot_run_is_reported_per_indicator_never_dropped(workspace: Workspace, tmp_path: Path) -> None:
    load_events(workspace, tmp_path, [("u-1", {"destination.ip": "192.0.2.10"})])
    store_intel(
        workspace,
        [
            indicator("indicator--yara", "rule x { condition: true }", pattern_type="yara"),
            indicator("indicator--broken", "[ipv4-addr:value = '192.0.2.10'"),
            indicator("indicator--nofield", "[x-acme-widget:serial = 'A1']"),
            indicator("indicator--nofield2", "[x-acme-widget:serial = 'A1' AND x-acme-widget:rev > 2]"),
            indicator("indicator--binary", "[file:hashes.MD5 = h'00ff']"),
            indicator("indicator--ok", "[ipv4-addr:value = '192.0.2.10']"),
        ],
    )
    findings, ctx = hunt(workspace)
    assert [f.rule_id for f in findings] == ["indicator--ok"]
    reasons = {s.item: s.reason for s in ctx.skipped}
    assert set(reasons) == {
        "indicator--yara",
        "indicator--broken",
        "indicator--nofield",
        "indicator--nofield2",
        "indicator--binary",
    }
    assert "yara" in reasons["indicator--yara"]
    assert "invalid STIX pattern" in reasons["indicator--broken"]
    assert "x-acme-widget:serial" in reasons["indicator--nofield"]
    assert "binary" in reasons["indicator--binary"]
    assert ctx.ran["intel"] == 1
    assert all(s.detector == "intel" for s in ctx.skipped)


def test_a_path_partly_unmapped_runs_and_is_noted(workspace: Workspace, tmp_path: Path) -> None:
    load_events(workspace, tmp_path, [("p-1", {"destination.ip": "192.0.2.10"})])
    store_intel(
        workspace, [indicator("indicator--part", "[ipv4-addr:value = '192.0.2.10' OR x-acme-widget:serial = 'A1']")]
    )
    findings, ctx = hunt(workspace)
    assert by_rule(findings) == {"indicator--part": {"p-1"}}
    assert ctx.skipped == []
    assert any(n.item == "x-acme-widget:serial" for n in ctx.notes)


def test_no_intel_tables_or_no_indicators_means_nothing_ran(workspace: Workspace, tmp_path: Path) -> None:
    findings, ctx = hunt(workspace)
    assert findings == [] and "intel" not in ctx.ran
    IntelStore(workspace)  # tables, no rows
    findings, ctx = hunt(workspace)
    assert findings == [] and "intel" not in ctx.ran


def test_temporary_tables_are_dropped_after_a_run(workspace: Workspace, tmp_path: Path) -> None:
    load_events(workspace, tmp_path, [("x-1", {"destination.ip": "192.0.2.10"})])
    store_intel(workspace, [indicator("indicator--x", "[ipv4-addr:value = '192.0.2.10']")])
    for _ in range(2):  # a second run in the same session finds no leftovers in its way
        findings, _ = hunt(workspace)
        assert len(findings) == 1
    names = {r[0] for r in workspace.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert not {n for n in names if n.startswith("_seawall_intel")}


# ------------------------------------------------------------------------------ context
def test_finding_names_techniques_malware_actor_advisory_references_and_tlp(
    workspace: Workspace, tmp_path: Path
) -> None:
    load_events(workspace, tmp_path, [("k-1", {"destination.ip": "192.0.2.66"})])
    ioc = "indicator--11111111-1111-4111-8111-111111111111"
    malware = "malware--22222222-2222-4222-8222-222222222222"
    technique = "attack-pattern--33333333-3333-4333-8333-333333333333"
    used = "attack-pattern--44444444-4444-4444-8444-444444444444"
    actor = "intrusion-set--55555555-5555-4555-8555-555555555555"
    report = "report--66666666-6666-4666-8666-666666666666"

    def obj(oid: str, kind: str, name: str, external_ids: list[str], **more: Any) -> dict[str, Any]:
        body = {"type": kind, "id": oid, "name": name, **more}
        return {
            "id": oid,
            "type": kind,
            "name": name,
            "created": None,
            "modified": None,
            "revoked": False,
            "tlp": None,
            "markings": None,
            "external_ids": external_ids,
            "object": json.dumps(body),
        }

    objects = [
        obj(malware, "malware", "JumbledPath", []),
        obj(technique, "attack-pattern", "Exploit Public-Facing Application", ["T1190"]),
        obj(used, "attack-pattern", "Traffic Signaling", ["T1205.001", "CAPEC-1"]),
        obj(actor, "intrusion-set", "Salt Typhoon", []),
        obj(
            report,
            "report",
            "AA25-239A",
            [],
            object_refs=[ioc],
            external_references=[{"source_name": "cisa", "url": "https://www.cisa.gov/aa25-239a"}],
        ),
    ]
    relationships = [
        {"id": "relationship--1", "source_ref": ioc, "relationship_type": "indicates", "target_ref": malware},
        {"id": "relationship--2", "source_ref": ioc, "relationship_type": "indicates", "target_ref": technique},
        {"id": "relationship--3", "source_ref": malware, "relationship_type": "uses", "target_ref": used},
        {"id": "relationship--4", "source_ref": ioc, "relationship_type": "indicates", "target_ref": actor},
    ]
    store_intel(
        workspace,
        [indicator(ioc, "[ipv4-addr:value = '192.0.2.66']", tlp="amber", severity="critical", name="C2 node")],
        name="CISA AA25-239A",
        objects=objects,
        relationships=relationships,
    )
    (finding,), _ = hunt(workspace)
    assert finding.rule_id == ioc
    assert finding.techniques == ["T1190", "T1205.001"]
    assert finding.entities["malware"] == ["JumbledPath"]
    assert finding.entities["actor"] == ["Salt Typhoon"]
    assert finding.entities["advisory"] == ["CISA AA25-239A"]
    assert finding.entities["tlp"] == ["amber"]
    assert finding.references == ["https://www.cisa.gov/aa25-239a"]
    assert "CISA AA25-239A" in finding.title and "192.0.2.66" in finding.title
    assert finding.severity == "critical"
    assert "C2 node" in finding.description


def test_an_indicator_from_two_sources_is_one_finding_naming_both(workspace: Workspace, tmp_path: Path) -> None:
    load_events(workspace, tmp_path, [("d-1", {"destination.ip": "192.0.2.66"})])
    same = "indicator--77777777-7777-4777-8777-777777777777"
    store_intel(workspace, [indicator(same, "[ipv4-addr:value = '192.0.2.66']", severity="low", tlp="green")], name="A")
    store_intel(
        workspace, [indicator(same, "[ipv4-addr:value = '192.0.2.66']", severity="high", tlp="amber")], name="B"
    )
    (finding,), _ = hunt(workspace)
    assert sorted(finding.entities["advisory"]) == ["A", "B"]
    assert finding.severity == "high"  # the graver word
    assert finding.entities["tlp"] == ["amber"]  # the stricter marking
    assert finding.event_count == 1


def test_long_evidence_text_is_cut_and_says_where_the_rest_is(workspace: Workspace, tmp_path: Path) -> None:
    load_events(
        workspace, tmp_path, [("long-1", {"destination.ip": "203.0.113.66", "message": "x" * (2 * MAX_EVIDENCE_TEXT)})]
    )
    store_intel(workspace, [indicator("indicator--long", "[ipv4-addr:value = '203.0.113.66']")])
    (finding,), _ = hunt(workspace)
    (evidence,) = finding.evidence
    raw = (tmp_path / "events.jsonl").read_text(encoding="utf-8").rstrip("\n")
    assert evidence.text.startswith(raw[:MAX_EVIDENCE_TEXT])
    assert f"{len(raw) - MAX_EVIDENCE_TEXT} more characters" in evidence.text


def test_tokens_are_searched_only_for_token_shaped_paths() -> None:
    assert tokenised("ipv4-addr:value") and tokenised("file:hashes.SHA-256") and tokenised("domain-name:value")
    assert not tokenised("network-traffic:dst_port") and not tokenised("file:hashes.SSDEEP")
    assert not tokenised("user-account:account_login")


def test_indicators_match_inside_file_names_and_tcpdump_addresses(workspace: Workspace, tmp_path: Path) -> None:
    load_events(
        workspace,
        tmp_path,
        [
            ("h-1", {"message": "dropped 44d88612fea8a8f36de82e1278abb02f.exe in /tmp"}),
            ("t-1", {"message": "IP 10.0.0.5.51514 > 203.0.113.66.443: Flags [S]"}),
            ("t-2", {"message": "peer 1203.0.113.66 rejected"}),
        ],
    )
    store_intel(
        workspace,
        [
            indicator("indicator--md5", "[file:hashes.MD5 = '44D88612FEA8A8F36DE82E1278ABB02F']"),
            indicator("indicator--ip", "[ipv4-addr:value = '203.0.113.66']"),
        ],
    )
    findings, _ = hunt(workspace)
    assert by_rule(findings) == {"indicator--md5": {"h-1"}, "indicator--ip": {"t-1"}}
