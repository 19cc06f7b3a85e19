"""A whole hunt on a small evidence folder: the files written into the case directory."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import FINDING_KEYS

from seawall.hunt import HuntRequest, HuntResult, run_hunt

DETECT = Path(__file__).resolve().parent / "fixtures" / "detect"
REGISTRY = DETECT / "registry" / "registry.csv"

GUESTSHELL_ID = "a5e7f750-ad0d-4cd0-8f2d-8e184795e4c9"
EXPORT_ID = "b0d6e133-c456-4896-b324-5b219bbfa394"
LOOKUP_ID = "fede97c5-e295-4b99-917d-44483089ddcc"
SCRIPT = "<script>alert(1)</script>"

SYSLOG = (
    "\n".join(
        [
            "<189>Oct  8 02:18:55 edge-r1 1: *Oct  8 02:18:55.001 UTC: %VMAN-2-GUESTSHELL_ENABLED: "
            "The guest shell has been enabled.",
            "<189>Oct  8 02:19:30 edge-r1 2: *Oct  8 02:19:30.001 UTC: %PARSER-5-CFGLOG_LOGGEDCMD: "
            f"User:admin  logged command:guestshell enable {SCRIPT}",
            "<189>Oct  8 02:20:00 edge-r1 3: *Oct  8 02:20:00.001 UTC: %SYS-5-CONFIG_I: Configured from console by admin",
        ]
    )
    + "\n"
)

CDR = [
    {
        "@timestamp": "2025-10-08T03:00:00Z",
        "event": {"dataset": "cdr.audit", "action": "cdr.query"},
        "host": {"name": "cdr-db1"},
        "user": {"name": "svc_cdr"},
        "telecom": {"msisdn": "+12025550143"},
        "source": {"ip": "10.20.0.5"},
        "message": "query by msisdn",
    },
    {
        "@timestamp": "2025-10-08T03:05:00Z",
        "event": {"dataset": "cdr.audit", "action": "cdr.export"},
        "host": {"name": "cdr-db1"},
        "user": {"name": "svc_export"},
        "destination": {"ip": "203.0.113.77"},
        "message": "export of 1200 records",
    },
    {
        "@timestamp": "2025-10-08T03:06:00Z",
        "event": {"dataset": "cdr.audit", "action": "cdr.export"},
        "host": {"name": "cdr-db1"},
        "user": {"name": "svc_export"},
        "destination": {"ip": "10.2.3.4"},
        "message": "export to the billing system",
    },
    # an interactive lookup of Bob's number: no rule matches it, so Bob must not be in scope
    {
        "@timestamp": "2025-10-08T03:10:00Z",
        "event": {"dataset": "cdr.audit", "action": "cdr.query"},
        "host": {"name": "cdr-db2"},
        "user": {"name": "jdoe"},
        "telecom": {"msisdn": "+12025550144"},
        "message": "query by msisdn",
    },
]


class Hunt:
    def __init__(self, result: HuntResult, out: Path, evidence: Path) -> None:
        self.result = result
        self.out = out
        self.evidence = evidence

    def json(self, name: str):
        return json.loads((self.out / name).read_text(encoding="utf-8"))

    def findings(self) -> list[dict]:
        lines = (self.out / "findings.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]

    @property
    def html(self) -> str:
        return (self.out / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def hunt(tmp_path_factory: pytest.TempPathFactory) -> Hunt:
    root = tmp_path_factory.mktemp("hunt")
    evidence = root / "evidence"
    evidence.mkdir()
    (evidence / "edge-r1.log").write_text(SYSLOG, encoding="utf-8")
    (evidence / "cdr_audit.jsonl").write_text("\n".join(json.dumps(r) for r in CDR) + "\n", encoding="utf-8")
    intel = root / "iocs.csv"
    intel.write_text("value,type,tags,severity\n203.0.113.77,ip,exfil,high\n", encoding="utf-8")
    out = root / "case"
    result = run_hunt(
        HuntRequest(
            evidence=evidence,
            out=out,
            registry=REGISTRY,
            intel=[intel],
            reference_time=dt.datetime(2025, 10, 9, tzinfo=dt.UTC),
        )
    )
    return Hunt(result, out, evidence)


def test_case_directory_holds_every_output(hunt: Hunt) -> None:
    for name in ("findings.jsonl", "scope.json", "case.json", "run.json", "report.html"):
        assert (hunt.out / name).is_file(), name
        assert hunt.result.outputs[name] == hunt.out / name


def test_findings_jsonl_lines_parse_and_carry_the_documented_keys(hunt: Hunt) -> None:
    findings = hunt.findings()
    assert len(findings) == len(hunt.result.findings) >= 4
    for f in findings:
        assert set(f) >= FINDING_KEYS, f
        assert f["first_seen"].endswith("Z") and f["last_seen"].endswith("Z")
        assert f["evidence"] and all("path" in e and "line" in e for e in f["evidence"])


def test_expected_findings_are_present(hunt: Hunt) -> None:
    by_rule = {f["rule_id"]: f for f in hunt.findings()}
    guest = by_rule[GUESTSHELL_ID]
    assert guest["title"] == "Guest Shell or app hosting enabled on a network device"
    assert guest["severity"] == "high"
    assert guest["techniques"] == ["T1059", "T1610"]
    assert guest["entities"]["host"] == ["edge-r1"]
    assert [e["line"] for e in guest["evidence"]] == [1, 2]
    # the device clock (milliseconds) dates the events, not the collector's header
    assert guest["first_seen"] == "2025-10-08T02:18:55.001000Z" and guest["last_seen"] == "2025-10-08T02:19:30.001000Z"

    export = by_rule[EXPORT_ID]
    assert export["severity"] == "critical"
    assert export["entities"]["destination_ip"] == ["203.0.113.77"]
    assert [e["line"] for e in export["evidence"]] == [2]

    lookup = by_rule[LOOKUP_ID]
    assert lookup["entities"]["subscriber"] == ["+12025550143"]
    assert lookup["entities"]["user"] == ["svc_cdr"]

    intel = [f for f in hunt.findings() if f["entities"].get("indicator") == ["203.0.113.77"]]
    assert len(intel) == 1 and intel[0]["severity"] == "high"


def test_scope_json_has_exactly_the_specified_shape(hunt: Hunt) -> None:
    scope = hunt.json("scope.json")
    assert set(scope) == {"organisations", "hosts", "accounts", "external_ips"}
    assert isinstance(scope["organisations"], list)
    for org in scope["organisations"]:
        assert {"name", "people"} <= set(org) <= {"name", "people", "identifiers", "via"}
        for person in org["people"]:
            assert {"name", "identifiers", "via"} <= set(person) <= {"name", "role", "identifiers", "via"}
            assert isinstance(person["identifiers"], list) and isinstance(person["via"], list)
    assert all(
        isinstance(scope[k], list) and all(isinstance(v, str) for v in scope[k])
        for k in ("hosts", "accounts", "external_ips")
    )


def test_scope_json_names_the_touched_person_and_only_them(hunt: Hunt) -> None:
    scope = hunt.json("scope.json")
    assert scope["organisations"] == [
        {
            "name": "Ministry of Examples",
            "people": [
                {"name": "Alice Adams", "role": "Minister", "identifiers": ["+12025550143"], "via": [LOOKUP_ID]}
            ],
        }
    ]
    assert scope["hosts"] == ["cdr-db1", "edge-r1"]
    assert scope["accounts"] == ["admin", "svc_cdr", "svc_export"]  # admin ran 'guestshell enable'

    assert scope["external_ips"] == ["203.0.113.77"]


def test_case_json_incidents_cover_every_finding_once(hunt: Hunt) -> None:
    case = hunt.json("case.json")
    ids = [f["id"] for f in hunt.findings()]
    assert case["findings"] == ids
    in_incidents = [fid for i in case["incidents"] for fid in i["finding_ids"]]
    assert sorted(in_incidents) == sorted(ids)
    for incident in case["incidents"]:
        assert {"id", "finding_ids", "first_seen", "last_seen", "severity", "entities"} <= set(incident)
        assert incident["first_seen"].endswith("Z")
    assert case["scope"] == hunt.json("scope.json")


def test_case_json_groups_the_cdr_findings_into_one_incident(hunt: Hunt) -> None:
    case = hunt.json("case.json")
    by_rule = {f["id"]: f["rule_id"] for f in hunt.findings()}
    groups = [{by_rule[fid] for fid in i["finding_ids"]} for i in case["incidents"]]
    cdr = next(g for g in groups if EXPORT_ID in g)
    assert LOOKUP_ID in cdr  # same host cdr-db1, minutes apart
    assert GUESTSHELL_ID not in cdr  # edge-r1 shares no entity with the CDR system


def test_run_json_counts_reconcile(hunt: Hunt) -> None:
    run = hunt.json("run.json")
    assert run["evidence"] == str(hunt.evidence)
    assert run["findings"] == len(hunt.findings())
    files = {Path(f["path"]).name: f for f in run["files"]}
    assert set(files) == {"edge-r1.log", "cdr_audit.jsonl"}
    assert files["edge-r1.log"]["format"] == "syslog" and files["edge-r1.log"]["read"] == 3
    assert files["cdr_audit.jsonl"]["format"] == "jsonl" and files["cdr_audit.jsonl"]["read"] == len(CDR)
    for f in run["files"]:
        assert f["read"] == f["parsed"] + f["quarantined"]
    for fmt, totals in run["totals"].items():
        of_format = [f for f in run["files"] if f["format"] == fmt]
        assert totals["files"] == len(of_format)
        for key in ("read", "parsed", "quarantined"):
            assert totals[key] == sum(f[key] for f in of_format)
        assert totals["read"] == totals["parsed"] + totals["quarantined"]
    assert run["detectors"]["intel"] == 1
    assert run["detectors"]["sigma"] == 8  # every built-in rule has events to run on
    assert all({"detector", "item", "reason"} == set(s) for s in run["skipped"])
    assert run["started"].endswith("Z") and run["finished"].endswith("Z")


def test_report_html_contains_the_finding_titles(hunt: Hunt) -> None:
    html = hunt.html
    for f in hunt.findings():
        assert f["title"] in html, f["title"]


def test_report_html_names_the_touched_person_and_not_others(hunt: Hunt) -> None:
    html = hunt.html
    assert "Alice Adams" in html
    assert "Bob Brown" not in html
    assert "+12025550144" not in html


def test_report_html_escapes_html_from_event_text(hunt: Hunt) -> None:
    html = hunt.html
    assert SCRIPT not in html
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_report_html_shows_evidence_locations(hunt: Hunt) -> None:
    html = hunt.html
    assert f"{hunt.evidence / 'edge-r1.log'}:2" in html
    assert f"{hunt.evidence / 'cdr_audit.jsonl'}:2" in html


def test_rerunning_into_the_same_case_directory_replaces_the_outputs(hunt: Hunt, tmp_path: Path) -> None:
    out = tmp_path / "case"
    reference = dt.datetime(2025, 10, 9, tzinfo=dt.UTC)
    first = run_hunt(HuntRequest(evidence=hunt.evidence, out=out, registry=REGISTRY, reference_time=reference))
    second = run_hunt(HuntRequest(evidence=hunt.evidence, out=out, registry=REGISTRY, reference_time=reference))
    lines = (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    # the case directory's workspace is rebuilt: same findings, events not counted twice
    assert [f.id for f in second.findings] == [f.id for f in first.findings] == [json.loads(x)["id"] for x in lines]
    assert [f.event_count for f in second.findings] == [f.event_count for f in first.findings]
    files = json.loads((out / "run.json").read_text(encoding="utf-8"))["files"]
    assert {Path(f["path"]).name: f["read"] for f in files} == {"edge-r1.log": 3, "cdr_audit.jsonl": len(CDR)}


def test_a_cut_entity_list_keeps_registered_identifiers_and_the_run_warns(tmp_path: Path) -> None:
    from seawall.detect.base import MAX_ENTITY_VALUES

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    numbers = [f"+4470000{i:05d}" for i in range(MAX_ENTITY_VALUES + 50)]
    (evidence / "cdr_audit.jsonl").write_text(
        "".join(
            json.dumps(
                {
                    "@timestamp": "2025-10-08T03:05:00Z",
                    "event": {"dataset": "cdr.audit", "action": "cdr.export"},
                    "host": {"name": "cdr-db1"},
                    "destination": {"ip": "203.0.113.66"},
                    "telecom": {"msisdn": number},
                }
            )
            + "\n"
            for number in numbers
        ),
        encoding="utf-8",
    )
    # Values tie on count and are then ordered by value: the last number is past the cut.
    registry = tmp_path / "people.csv"
    registry.write_text(
        f"organisation,person,role,msisdn,imsi,email,notify_email\nTelco,Late Number,,{numbers[-1]},,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "case"
    result = run_hunt(HuntRequest(evidence=evidence, out=out, registry=registry))

    (export,) = [f for f in result.findings if f.rule_id == EXPORT_ID]
    assert export.event_count == len(numbers)
    assert export.truncated_entities == {"subscriber": len(numbers)}
    assert len(export.entities["subscriber"]) == MAX_ENTITY_VALUES
    assert "destination_ip" not in export.truncated_entities
    warnings = [w for w in result.warnings if export.id in w]
    assert len(warnings) == 1
    assert f"{len(numbers):,}" in warnings[0] and "subscriber" in warnings[0]
    assert "registry's people always among them" in warnings[0]
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["warnings"] == result.warnings
    # Past the cut by frequency and order, but a registered identifier: kept, so in scope.
    assert numbers[-1] in export.entities["subscriber"]
    scope = json.loads((out / "scope.json").read_text(encoding="utf-8"))
    assert [(o["name"], [p["name"] for p in o["people"]]) for o in scope["organisations"]] == [
        ("Telco", ["Late Number"])
    ]


def test_a_case_directory_inside_the_evidence_folder_is_not_read_as_evidence(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "edge-r1.log").write_text(SYSLOG, encoding="utf-8")
    (evidence / "cdr_audit.jsonl").write_text("\n".join(json.dumps(r) for r in CDR) + "\n", encoding="utf-8")
    out = evidence / "case"
    reference = dt.datetime(2025, 10, 9, tzinfo=dt.UTC)
    runs = []
    for _ in range(2):
        result = run_hunt(HuntRequest(evidence=evidence, out=out, registry=REGISTRY, reference_time=reference))
        files = json.loads((out / "run.json").read_text(encoding="utf-8"))["files"]
        assert [f["path"] for f in files if Path(f["path"]).is_relative_to(out)] == []
        assert sorted(Path(f["path"]).name for f in files) == ["cdr_audit.jsonl", "edge-r1.log"]
        runs.append(result)
    first, second = runs
    assert (out / "findings.jsonl").exists() and (out / "workspace.duckdb").exists()
    assert len(second.findings) == len(first.findings) > 0
    assert [(f.rule_id, f.event_count) for f in second.findings] == [(f.rule_id, f.event_count) for f in first.findings]
    assert second.events_stored == first.events_stored
