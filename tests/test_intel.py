"""Indicator lists: loading (types, aliases, problems) and the intel detector's matching."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from seawall.detect.base import HuntContext
from seawall.detect.finding import Finding
from seawall.detect.intel import Indicator, IntelDetector, infer_type, load_indicators
from seawall.errors import ContentError
from seawall.ingest import ingest
from seawall.sources import ReadOptions
from seawall.store import Workspace

INTEL = Path(__file__).resolve().parent / "fixtures" / "detect" / "intel"

SHA256_UPPER = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"


# ------------------------------------------------------------------------- loading
def _by_value(indicators: list[Indicator]) -> dict[str, Indicator]:
    return {i.value: i for i in indicators}


def test_csv_with_header_skips_the_header_and_reads_columns() -> None:
    path = INTEL / "with_header.csv"
    indicators, problems = load_indicators(path)
    assert problems == []
    assert [(i.value, i.type, i.tags, i.severity) for i in indicators] == [
        ("203.0.113.66", "ip", "c2", "critical"),
        ("evil.example.com", "domain", "phishing;apt", "low"),
    ]
    assert all(i.source == "with_header.csv" for i in indicators)


def test_csv_without_header_reads_every_row_and_defaults_severity_to_high() -> None:
    indicators, problems = load_indicators(INTEL / "no_header.csv")
    assert problems == []
    by = _by_value(indicators)
    assert set(by) == {"203.0.113.66", "evil.example.com"}
    assert by["203.0.113.66"].type == "ip" and by["203.0.113.66"].severity == "high"
    assert by["evil.example.com"].type == "domain"  # empty type column: inferred
    assert by["evil.example.com"].severity == "medium"


def test_comment_and_blank_lines_are_ignored() -> None:
    indicators, problems = load_indicators(INTEL / "comments.csv")
    assert problems == []
    assert [(i.value, i.type) for i in indicators] == [("203.0.113.66", "ip"), ("evil.example.com", "domain")]


def test_header_after_leading_comment_lines_is_recognised() -> None:
    indicators, problems = load_indicators(INTEL / "comment_before_header.csv")
    assert problems == []
    assert [(i.value, i.type, i.severity) for i in indicators] == [("203.0.113.66", "ip", "high")]


def test_types_are_inferred_from_bare_values_and_values_lower_cased() -> None:
    indicators, problems = load_indicators(INTEL / "inferred.txt")
    assert problems == []
    assert [(i.value, i.type) for i in indicators] == [
        ("203.0.113.66", "ip"),
        ("2001:db8::bad", "ip"),
        ("evil.example.com", "domain"),
        ("https://evil.example.com/payload.bin", "url"),
        ("attacker@evil.example.com", "email"),
        ("d41d8cd98f00b204e9800998ecf8427e", "hash"),
        ("da39a3ee5e6b4b0d3255bfef95601890afd80709", "hash"),
        ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "hash"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("192.0.2.1", "ip"),
        ("2001:db8::1", "ip"),
        ("c2.example.net", "domain"),
        ("http://c2.example.net/x", "url"),
        ("ftp://c2.example.net/x", "url"),
        ("ops@c2.example.net", "email"),
        ("d41d8cd98f00b204e9800998ecf8427e", "hash"),
        ("not a value", None),
        ("0123456789abcdef", None),  # 16 hex digits: no supported hash length
        ("localhost", None),
    ],
)
def test_infer_type(value: str, expected: str | None) -> None:
    assert infer_type(value) == expected


def test_type_aliases_map_to_the_canonical_types() -> None:
    indicators, problems = load_indicators(INTEL / "aliases.csv")
    assert problems == []
    assert [(i.value, i.type) for i in indicators] == [
        ("198.51.100.1", "ip"),
        ("2001:db8::1", "ip"),
        ("198.51.100.2", "ip"),
        ("198.51.100.3", "ip"),
        ("c2.example.net", "domain"),
        ("www.c2.example.net", "domain"),
        ("d41d8cd98f00b204e9800998ecf8427e", "hash"),
        ("da39a3ee5e6b4b0d3255bfef95601890afd80709", "hash"),
        ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "hash"),
        ("boss@c2.example.net", "email"),
    ]


def test_unknown_types_and_values_are_reported_as_problems_with_file_and_line() -> None:
    path = INTEL / "problems.csv"
    indicators, problems = load_indicators(path)
    assert len(problems) == 3
    unsupported, untyped, severity = problems
    assert unsupported.startswith(f"{path}:2:") and "'mutex'" in unsupported
    assert untyped.startswith(f"{path}:3:") and "cannot tell the type" in untyped
    assert severity.startswith(f"{path}:4:") and "catastrophic" in severity
    # the unknown severity falls back to high; the rows after a problem are still read
    assert [(i.value, i.severity) for i in indicators] == [("203.0.113.66", "high"), ("198.51.100.7", "low")]


def test_unreadable_indicator_file_raises_content_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="missing.csv"):
        load_indicators(tmp_path / "missing.csv")


# ------------------------------------------------------------------------ detector
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


def _labels(finding: Finding) -> set[str]:
    out = set()
    for e in finding.evidence:
        if e.text and e.text.startswith("{"):
            out.add(json.loads(e.text)["tid"])
        else:
            out.add(f"{Path(e.path).name}:{e.line}")
    return out


class IntelRun:
    def __init__(self, findings: list[Finding], ctx: HuntContext) -> None:
        self.findings = findings
        self.ctx = ctx

    def for_indicator(self, value: str) -> list[Finding]:
        return [f for f in self.findings if f.entities.get("indicator") == [value]]

    def labels(self, value: str) -> set[str]:
        found = self.for_indicator(value)
        assert len(found) <= 1, f"more than one finding for {value}"
        return _labels(found[0]) if found else set()


@pytest.fixture(scope="module")
def intel_run(tmp_path_factory: pytest.TempPathFactory) -> IntelRun:
    root = tmp_path_factory.mktemp("intel")
    events = root / "events.jsonl"
    events.write_text(
        "\n".join(
            json.dumps({"@timestamp": f"2025-03-01T10:{n:02d}:00Z", "event.dataset": "net", "tid": tid, **fields})
            for n, (tid, fields) in enumerate(EVENTS)
        )
        + "\n",
        encoding="utf-8",
    )
    syslog = root / "auth.log"
    syslog.write_text(
        "<38>Mar  1 11:00:00 bastion sshd[812]: Accepted password for root from 203.0.113.66 port 51234 ssh2\n"
        "<38>Mar  1 11:00:05 bastion sshd[812]: Accepted password for root from 203.0.113.6 port 51234 ssh2\n",
        encoding="utf-8",
    )
    workspace = Workspace(None)
    reference = ReadOptions(reference_time=dt.datetime(2025, 3, 2, tzinfo=dt.UTC))
    result = ingest([events, syslog], workspace, reference)
    assert [f.parsed for f in result.files] == [len(EVENTS), 2], result
    ctx = HuntContext(intel_paths=[INTEL / "detector.csv"])
    findings = list(IntelDetector().run(workspace, ctx))
    yield IntelRun(findings, ctx)
    workspace.close()


def test_ip_indicator_matches_structured_source_and_destination_columns(intel_run: IntelRun) -> None:
    labels = intel_run.labels("203.0.113.66")
    assert {"i-1", "i-2"} <= labels


def test_ip_indicator_matches_as_a_whole_token_in_message_text(intel_run: IntelRun) -> None:
    labels = intel_run.labels("203.0.113.66")
    assert {"i-3", "i-6", "auth.log:1"} <= labels


def test_ip_indicator_does_not_match_inside_a_longer_number(intel_run: IntelRun) -> None:
    labels = intel_run.labels("203.0.113.66")
    assert "i-4" not in labels  # 203.0.113.661
    assert "i-5" not in labels  # 1203.0.113.66
    assert "auth.log:2" not in labels  # 203.0.113.6 is a different address
    assert "i-18" not in intel_run.labels("198.51.100.9")  # 198.51.100.99


def test_every_indicator_in_a_line_is_found_not_only_the_first(intel_run: IntelRun) -> None:
    # i-13 names 198.51.100.9 first and 203.0.113.66 second: both indicators must see it.
    assert "i-13" in intel_run.labels("198.51.100.9")
    assert "i-13" in intel_run.labels("203.0.113.66")


def test_domain_indicator_matches_case_insensitively_as_token_and_in_columns(intel_run: IntelRun) -> None:
    labels = intel_run.labels("evil.example.com")
    assert {"i-9", "i-12"} <= labels
    assert "i-10" not in labels  # notevil.example.com
    assert "i-11" not in labels  # evil.example.community


def test_domain_indicator_matches_inside_a_url(intel_run: IntelRun) -> None:
    assert "i-7" in intel_run.labels("evil.example.com")


def test_domain_indicator_matches_inside_an_email_address(intel_run: IntelRun) -> None:
    assert "i-8" in intel_run.labels("evil.example.com")


def test_hash_email_url_and_ipv6_indicators_match_their_columns_case_insensitively(intel_run: IntelRun) -> None:
    assert intel_run.labels(SHA256_UPPER.lower()) == {"i-14"}
    assert intel_run.labels("phish@bad.example") == {"i-15"}
    assert intel_run.labels("https://bad.example/login?x=1") == {"i-16"}
    assert intel_run.labels("2001:db8::bad") == {"i-17"}


def test_one_finding_per_indicator_with_the_indicator_as_entity(intel_run: IntelRun) -> None:
    indicators = [tuple(f.entities["indicator"]) for f in intel_run.findings]
    assert len(indicators) == len(set(indicators))
    assert {i[0] for i in indicators} == {
        "203.0.113.66",
        "198.51.100.9",
        "evil.example.com",
        SHA256_UPPER.lower(),
        "phish@bad.example",
        "https://bad.example/login?x=1",
        "2001:db8::bad",
    }
    finding = intel_run.for_indicator("203.0.113.66")[0]
    # one finding across hosts: fw1, fw2 and the syslog host
    assert {"fw1", "fw2", "bastion"} <= set(finding.entities["host"])
    assert finding.event_count == len(finding.evidence)


def test_finding_rule_id_title_and_severity_come_from_the_indicator(intel_run: IntelRun) -> None:
    ip = intel_run.for_indicator("203.0.113.66")[0]
    assert ip.rule_id == "intel:ip:203.0.113.66"  # one rule id per indicator: scope's "via" names it
    assert ip.detector == "intel"
    assert "203.0.113.66" in ip.title
    assert ip.severity == "critical"
    assert "c2;apt" in ip.description
    assert intel_run.for_indicator("198.51.100.9")[0].severity == "low"
    assert intel_run.for_indicator("evil.example.com")[0].severity == "medium"
    assert intel_run.for_indicator("evil.example.com")[0].rule_id == "intel:domain:evil.example.com"
    assert intel_run.for_indicator("phish@bad.example")[0].severity == "high"  # empty column: default


def test_finding_time_range_spans_the_matching_events(intel_run: IntelRun) -> None:
    f = intel_run.for_indicator(SHA256_UPPER.lower())[0]
    assert f.first_seen is not None and f.first_seen == f.last_seen
    assert f.first_seen.isoformat().startswith("2025-03-01T10:13:00")


def test_intel_ran_counts_the_indicators(intel_run: IntelRun) -> None:
    assert intel_run.ctx.ran["intel"] == 7
    assert intel_run.ctx.skipped == []


def test_problems_of_an_indicator_file_are_reported_as_skipped(tmp_path: Path) -> None:
    workspace = Workspace(None)
    try:
        ctx = HuntContext(intel_paths=[INTEL / "problems.csv"])
        list(IntelDetector().run(workspace, ctx))
    finally:
        workspace.close()
    assert len(ctx.skipped) == 3
    assert all(s.detector == "intel" for s in ctx.skipped)
    assert any("mutex" in s.reason for s in ctx.skipped)


def test_no_indicators_means_no_findings_and_nothing_ran() -> None:
    workspace = Workspace(None)
    try:
        ctx = HuntContext()
        assert list(IntelDetector().run(workspace, ctx)) == []
    finally:
        workspace.close()
    assert "intel" not in ctx.ran


def _intel_findings(tmp_path: Path, events: list[tuple[str, dict]], indicators: str) -> list[Finding]:
    path = tmp_path / "events.jsonl"
    path.write_text(
        "".join(
            json.dumps({"@timestamp": f"2025-03-01T10:{n:02d}:00Z", "event.dataset": "net", "tid": tid, **fields})
            + "\n"
            for n, (tid, fields) in enumerate(events)
        ),
        encoding="utf-8",
    )
    iocs = tmp_path / "iocs.csv"
    iocs.write_text(indicators, encoding="utf-8")
    with Workspace(None) as workspace:
        assert ingest([path], workspace).files[0].parsed == len(events)
        ctx = HuntContext(intel_paths=[iocs])
        findings = list(IntelDetector().run(workspace, ctx))
    assert ctx.skipped == []
    return findings


def test_indicators_match_inside_file_names_and_tcpdump_addresses_and_ipv6_in_any_spelling(tmp_path: Path) -> None:
    findings = _intel_findings(
        tmp_path,
        [
            ("h-1", {"host.name": "edr1", "message": "dropped 44d88612fea8a8f36de82e1278abb02f.exe in /tmp"}),
            ("t-1", {"host.name": "tap1", "message": "IP 10.0.0.5.51514 > 203.0.113.66.443: Flags [S]"}),
            ("t-2", {"host.name": "fw1", "message": "peer 1203.0.113.66 rejected"}),
            ("v-1", {"host.name": "fw3", "destination.ip": "2001:db8::66", "message": "v6 flow"}),
        ],
        "44d88612fea8a8f36de82e1278abb02f,hash\n203.0.113.66,ip\n2001:0db8:0000::0066,ip\n",
    )
    labels = {f.entities["indicator"][0]: _labels(f) for f in findings}
    assert labels == {
        "44d88612fea8a8f36de82e1278abb02f": {"h-1"},
        "203.0.113.66": {"t-1"},  # not t-2: 1203.0.113.66 is another number
        "2001:db8::66": {"v-1"},
    }


def test_long_evidence_text_is_cut_and_says_where_the_rest_is(tmp_path: Path) -> None:
    from seawall.detect.base import MAX_EVIDENCE_TEXT

    findings = _intel_findings(
        tmp_path,
        [("long-1", {"host.name": "fw1", "destination.ip": "203.0.113.66", "message": "x" * (2 * MAX_EVIDENCE_TEXT)})],
        "203.0.113.66,ip\n",
    )
    (finding,) = findings
    (evidence,) = finding.evidence
    raw = (tmp_path / "events.jsonl").read_text(encoding="utf-8").rstrip("\n")
    assert len(raw) > MAX_EVIDENCE_TEXT
    assert evidence.text.startswith(raw[:MAX_EVIDENCE_TEXT])
    assert raw not in evidence.text
    assert evidence.text.rstrip("]").endswith("more characters; the whole record is in the workspace")
    assert f"{len(raw) - MAX_EVIDENCE_TEXT} more characters" in evidence.text
