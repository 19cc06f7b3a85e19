"""Sigma detector: compiler semantics, runner behaviour, and the real SigmaHQ rules.

The compiler tests share one store of JSON-lines events (``event.dataset: cdr.audit``, so
rules with ``logsource: {product: telecom, service: cdr_audit}`` run on them) and one
detector run over a directory of tiny rules written by this module. Each event carries a
``tid`` label; each test asserts exactly which labels its rule matched.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
import uuid
from pathlib import Path

import pytest

from seawall.detect.base import HuntContext
from seawall.detect.finding import Finding
from seawall.detect.sigma import SigmaDetector
from seawall.ingest import ingest
from seawall.sources import ReadOptions
from seawall.store import Workspace
from seawall.store.workspace import path_digest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "detect" / "rules"
BASE_TIME = dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.UTC)
RULE_NS = uuid.UUID("6f1f0d4e-93a5-4c55-b1d9-6a0c2f1e7b11")

# --------------------------------------------------------------------------------------
# The compiler store: (tid, fields). Fields are flat dotted ECS-style names.
# --------------------------------------------------------------------------------------
EVENTS: list[tuple[str, dict]] = [
    # equality / cased
    ("eq-1", {"grp": "eq", "f.eq": "Alice"}),
    ("eq-2", {"grp": "eq", "f.eq": "ALICE"}),
    ("eq-3", {"grp": "eq", "f.eq": "alicia"}),
    ("eq-4", {"grp": "eq", "f.eq": "xalice"}),
    # wildcards
    ("w-1", {"grp": "wild", "f.wild": "AC"}),
    ("w-2", {"grp": "wild", "f.wild": "abbbc"}),
    ("w-3", {"grp": "wild", "f.wild": "ABCD"}),
    ("w-4", {"grp": "wild", "f.wild": "A?C"}),
    ("w-5", {"grp": "wild", "f.wild": "xAC"}),
    ("w-6", {"grp": "wild", "f.wild": "aBc"}),
    ("w-7", {"grp": "wild", "f.wild": "1.2.3"}),
    ("w-8", {"grp": "wild", "f.wild": "1x2y"}),
    # escaped wildcards
    ("esc-1", {"grp": "esc", "f.esc": "Export*Done"}),
    ("esc-2", {"grp": "esc", "f.esc": "ExportXDone"}),
    ("esc-3", {"grp": "esc", "f.esc": "export*done"}),
    ("esc-4", {"grp": "esc", "f.esc": "Export**Done"}),
    ("esc-5", {"grp": "esc", "f.esc": "why?"}),
    ("esc-6", {"grp": "esc", "f.esc": "whyX"}),
    # SQL LIKE characters
    ("p-1", {"grp": "pct", "f.pct": "50%_off"}),
    ("p-2", {"grp": "pct", "f.pct": "50abcoff"}),
    ("p-3", {"grp": "pct", "f.pct": "50%Xoff"}),
    ("p-4", {"grp": "pct", "f.pct": "50%_OFF"}),
    ("p-5", {"grp": "pct", "f.pct": "5_x"}),
    # contains / startswith / endswith / all / lists
    ("t-1", {"grp": "txt", "f.txt": "the quick brown fox"}),
    ("t-2", {"grp": "txt", "f.txt": "QUICK start"}),
    ("t-3", {"grp": "txt", "f.txt": "slow fox"}),
    ("t-4", {"grp": "txt", "f.txt": "brown"}),
    # regular expressions
    ("r-1", {"grp": "re", "f.re": "Alice42"}),
    ("r-2", {"grp": "re", "f.re": "ALICE42"}),
    ("r-3", {"grp": "re", "f.re": "Bob7"}),
    ("r-4", {"grp": "re", "f.re": "xAlice42y"}),
    # CIDR
    ("c-1", {"grp": "cidr", "f.ip": "10.1.2.3"}),
    ("c-2", {"grp": "cidr", "f.ip": "10.255.255.255"}),
    ("c-3", {"grp": "cidr", "f.ip": "100.64.0.1"}),
    ("c-4", {"grp": "cidr", "f.ip": "11.0.0.1"}),
    ("c-5", {"grp": "cidr", "f.ip": "2001:db8::1"}),
    ("c-6", {"grp": "cidr", "f.ip": "not-an-ip"}),
    ("c-7", {"grp": "cidr", "f.ip": "9.255.255.255"}),
    ("c-8", {"grp": "cidr", "f.ip": "10.1.2.3.4"}),
    ("c-9", {"grp": "cidr", "f.ip": "192.168.1.77"}),
    ("c-10", {"grp": "cidr", "f.ip": "192.168.2.1"}),
    # exists
    ("x-1", {"grp": "exists", "f.ex": "present"}),
    ("x-2", {"grp": "exists"}),
    # numeric comparisons on a text column
    ("n-1", {"grp": "num", "f.num": "5"}),
    ("n-2", {"grp": "num", "f.num": "10"}),
    ("n-3", {"grp": "num", "f.num": "100"}),
    ("n-4", {"grp": "num", "f.num": "abc"}),
    ("n-5", {"grp": "num", "f.num": "9.5"}),
    ("n-6", {"grp": "num", "f.num": "-3"}),
    # field references
    ("fr-1", {"grp": "fieldref", "f.a": "alice", "f.b": "alice"}),
    ("fr-2", {"grp": "fieldref", "f.a": "alice", "f.b": "bob"}),
    ("fr-3", {"grp": "fieldref", "f.a": "carol"}),
    # null
    ("nl-1", {"grp": "null", "f.nul": "value"}),
    ("nl-2", {"grp": "null", "f.nul": None}),
    ("nl-3", {"grp": "null"}),
    # not with missing fields
    ("nm-1", {"grp": "notmiss", "f.nm": "keep"}),
    ("nm-2", {"grp": "notmiss", "f.nm": "drop"}),
    ("nm-3", {"grp": "notmiss"}),
    # keywords
    ("kw-1", {"grp": "kw", "message": "Operator exported the SECRET-LIST now"}),
    ("kw-2", {"grp": "kw", "message": "nothing to see here"}),
    ("kw-3", {"grp": "kw", "f.other": "Secret-List"}),
    ("kw-4", {"grp": "kw", "message": "ZEBRA-CROSSING ahead"}),
    ("kw-5", {"grp": "kw", "message": "logon failure 4625 recorded"}),
    # 1 of / all of
    ("o-1", {"grp": "of", "f.o1": "a"}),
    ("o-2", {"grp": "of", "f.o2": "b"}),
    ("o-3", {"grp": "of", "f.o1": "a", "f.o2": "b"}),
    ("o-4", {"grp": "of", "f.o1": "z"}),
    # finding metadata and grouping (matched by fixtures/detect/rules/runner/metadata_rule.yml)
    (
        "m-1",
        {
            "grp": "meta",
            "host.name": "edge-a",
            "user.name": "mallory",
            "source.ip": "203.0.113.5",
            "destination.ip": "10.0.0.9",
            "@timestamp": "2025-03-02T08:00:00Z",
        },
    ),
    (
        "m-2",
        {
            "grp": "meta",
            "host.name": "edge-a",
            "user.name": "mallory",
            "source.ip": "203.0.113.6",
            "@timestamp": "2025-03-02T09:30:00Z",
        },
    ),
    ("m-3", {"grp": "meta", "host.name": "edge-b", "user.name": "trent", "@timestamp": "2025-03-02T12:00:00Z"}),
]

# name -> detection block. Every rule runs on logsource telecom/cdr_audit.
RULES: dict[str, str] = {
    "eq": """
        selection:
          f.eq: alice
        condition: selection
    """,
    "cased": """
        selection:
          f.eq|cased: Alice
        condition: selection
    """,
    "star": """
        selection:
          f.wild: 'A*C'
        condition: selection
    """,
    "question": """
        selection:
          f.wild: 'A?C'
        condition: selection
    """,
    "regex_chars_in_wildcard": """
        selection:
          f.wild: '1.2*'
        condition: selection
    """,
    "escaped_star": """
        selection:
          f.esc: 'Export\\*Done'
        condition: selection
    """,
    "escaped_question": """
        selection:
          f.esc: 'why\\?'
        condition: selection
    """,
    "like_equal": """
        selection:
          f.pct: '50%_off'
        condition: selection
    """,
    "like_contains": """
        selection:
          f.pct|contains: '%_'
        condition: selection
    """,
    "like_startswith": """
        selection:
          f.pct|startswith: '5_'
        condition: selection
    """,
    "contains": """
        selection:
          f.txt|contains: quick
        condition: selection
    """,
    "startswith": """
        selection:
          f.txt|startswith: quick
        condition: selection
    """,
    "endswith": """
        selection:
          f.txt|endswith: FOX
        condition: selection
    """,
    "contains_all": """
        selection:
          f.txt|contains|all:
            - quick
            - fox
        condition: selection
    """,
    "contains_list": """
        selection:
          f.txt|contains:
            - start
            - slow
        condition: selection
    """,
    "equal_list": """
        selection:
          f.txt:
            - brown
            - slow fox
        condition: selection
    """,
    "re": """
        selection:
          f.re|re: '^Alice\\d+$'
        condition: selection
    """,
    "re_unanchored": """
        selection:
          f.re|re: 'lice4'
        condition: selection
    """,
    "re_i": """
        selection:
          f.re|re|i: '^alice\\d+$'
        condition: selection
    """,
    "cidr": """
        selection:
          f.ip|cidr: 10.0.0.0/8
        condition: selection
    """,
    "cidr_list": """
        selection:
          f.ip|cidr:
            - 10.0.0.0/8
            - 192.168.1.0/24
        condition: selection
    """,
    "exists_true": """
        selection:
          grp: exists
          f.ex|exists: true
        condition: selection
    """,
    "exists_false": """
        selection:
          grp: exists
          f.ex|exists: false
        condition: selection
    """,
    "exists_false_absent_column": """
        selection:
          grp: exists
          no.such.column|exists: false
        condition: selection
    """,
    "exists_true_absent_column": """
        selection:
          no.such.column|exists: true
        condition: selection
    """,
    "lt": """
        selection:
          f.num|lt: 10
        condition: selection
    """,
    "gte": """
        selection:
          f.num|gte: 10
        condition: selection
    """,
    "number_equal": """
        selection:
          f.num: 10
        condition: selection
    """,
    "fieldref": """
        selection:
          f.a|fieldref: f.b
        condition: selection
    """,
    "null": """
        selection:
          grp: 'null'
          f.nul: null
        condition: selection
    """,
    "not_null": """
        selection:
          grp: 'null'
        filter:
          f.nul: null
        condition: selection and not filter
    """,
    "null_absent_column": """
        selection:
          grp: 'null'
          no.such.column: null
        condition: selection
    """,
    "not_filter_value": """
        selection:
          grp: notmiss
        filter:
          f.nm: drop
        condition: selection and not filter
    """,
    "not_filter_absent_column": """
        selection:
          grp: notmiss
        filter:
          no.such.column: drop
        condition: selection and not filter
    """,
    "keywords": """
        keywords:
          - 'secret-list'
          - 'zebra-crossing'
        condition: keywords
    """,
    "keyword_wildcard": """
        keywords:
          - 'secret*now'
        condition: keywords
    """,
    "keyword_number": """
        keywords:
          - 4625
        condition: keywords
    """,
    "mapped_user": """
        selection:
          User: MALLORY
        condition: selection
    """,
    "mapped_src_ip_and_hostname": """
        selection_a:
          src_ip|cidr: 203.0.113.0/24
        selection_b:
          Hostname: edge-b
        condition: 1 of selection_*
    """,
    "one_of": """
        selection_1:
          grp: of
          f.o1: a
        selection_2:
          grp: of
          f.o2: b
        condition: 1 of selection_*
    """,
    "all_of_them": """
        selection_1:
          f.o1: a
        selection_2:
          f.o2: b
        condition: all of them
    """,
}


def rule_id(name: str) -> str:
    return str(uuid.uuid5(RULE_NS, name))


def rule_yaml(name: str, detection: str) -> str:
    body = textwrap.indent(textwrap.dedent(detection).strip(), "  ")
    return (
        f"title: Seawall compiler test {name}\n"
        f"id: {rule_id(name)}\n"
        "logsource:\n  product: telecom\n  service: cdr_audit\n"
        f"detection:\n{body}\n"
        "level: medium\n"
    )


def write_events(path: Path, events: list[tuple[str, dict]]) -> Path:
    lines = []
    for index, (tid, fields) in enumerate(events):
        record = {
            "@timestamp": (BASE_TIME + dt.timedelta(minutes=index)).isoformat().replace("+00:00", "Z"),
            "event.dataset": "cdr.audit",
            "tid": tid,
            **fields,
        }
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Run:
    def __init__(self, path: Path, findings: list[Finding], ctx: HuntContext, workspace: Workspace) -> None:
        self.path = path
        self.workspace = workspace
        self.findings = findings
        self.ctx = ctx

    def of(self, rid: str) -> list[Finding]:
        return [f for f in self.findings if f.rule_id == rid]

    def tids(self, name: str) -> set[str]:
        """Labels of the events matched by compiler rule ``name`` (asserting it ran)."""
        rid = rule_id(name)
        skipped = [s for s in self.ctx.skipped if f"compiler test {name} (" in s.item]
        assert not skipped, f"rule {name} was skipped: {skipped}"
        out: set[str] = set()
        for finding in self.of(rid):
            assert finding.event_count == len(finding.evidence)
            out.update(json.loads(e.text)["tid"] for e in finding.evidence)
        return out


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("sigma_compiler")
    events = write_events(root / "cdr_audit.jsonl", EVENTS)
    rules = root / "rules"
    rules.mkdir()
    for name, detection in RULES.items():
        (rules / f"{name}.yml").write_text(rule_yaml(name, detection), encoding="utf-8")
    workspace = Workspace(None)
    result = ingest([events], workspace)
    assert result.files[0].parsed == len(EVENTS), result
    ctx = HuntContext(rule_paths=[rules, FIXTURES / "runner"])
    findings = list(SigmaDetector().run(workspace, ctx))
    yield Run(events, findings, ctx, workspace)
    workspace.close()


# ---------------------------------------------------------------------------- compiler
def test_every_compiler_rule_ran(run: Run) -> None:
    skipped = [s for s in run.ctx.skipped if "compiler test" in s.item]
    assert skipped == []


def test_plain_equality_is_case_insensitive_and_whole_value(run: Run) -> None:
    assert run.tids("eq") == {"eq-1", "eq-2"}


def test_cased_modifier_is_case_sensitive(run: Run) -> None:
    assert run.tids("cased") == {"eq-1"}


def test_star_wildcard_matches_any_run_of_characters_anchored(run: Run) -> None:
    # 'A*C' (case-insensitive): AC, abbbc, A?C, aBc; not ABCD (anchored end) nor xAC (anchored start)
    assert run.tids("star") == {"w-1", "w-2", "w-4", "w-6"}


def test_question_wildcard_matches_exactly_one_character(run: Run) -> None:
    assert run.tids("question") == {"w-4", "w-6"}


def test_regex_metacharacters_in_wildcard_values_are_literal(run: Run) -> None:
    assert run.tids("regex_chars_in_wildcard") == {"w-7"}


def test_escaped_star_matches_a_literal_star(run: Run) -> None:
    assert run.tids("escaped_star") == {"esc-1", "esc-3"}


def test_escaped_question_mark_matches_a_literal_question_mark(run: Run) -> None:
    assert run.tids("escaped_question") == {"esc-5"}


def test_percent_and_underscore_are_literal_in_equality(run: Run) -> None:
    assert run.tids("like_equal") == {"p-1", "p-4"}


def test_percent_and_underscore_are_literal_in_contains(run: Run) -> None:
    assert run.tids("like_contains") == {"p-1", "p-4"}


def test_underscore_is_literal_in_startswith(run: Run) -> None:
    assert run.tids("like_startswith") == {"p-5"}


def test_contains_matches_anywhere_case_insensitively(run: Run) -> None:
    assert run.tids("contains") == {"t-1", "t-2"}


def test_startswith_matches_only_the_beginning(run: Run) -> None:
    assert run.tids("startswith") == {"t-2"}


def test_endswith_matches_only_the_end(run: Run) -> None:
    assert run.tids("endswith") == {"t-1", "t-3"}


def test_all_modifier_requires_every_value(run: Run) -> None:
    assert run.tids("contains_all") == {"t-1"}


def test_value_lists_are_or(run: Run) -> None:
    assert run.tids("contains_list") == {"t-2", "t-3"}
    assert run.tids("equal_list") == {"t-3", "t-4"}


def test_re_modifier_is_case_sensitive_by_default(run: Run) -> None:
    assert run.tids("re") == {"r-1"}


def test_re_modifier_searches_unanchored(run: Run) -> None:
    assert run.tids("re_unanchored") == {"r-1", "r-4"}


def test_re_i_modifier_ignores_case(run: Run) -> None:
    assert run.tids("re_i") == {"r-1", "r-2"}


def test_cidr_matches_ipv4_addresses_inside_the_network_only(run: Run) -> None:
    assert run.tids("cidr") == {"c-1", "c-2"}


def test_cidr_list_is_or(run: Run) -> None:
    assert run.tids("cidr_list") == {"c-1", "c-2", "c-9"}


def test_exists_true_matches_events_that_have_the_field(run: Run) -> None:
    assert run.tids("exists_true") == {"x-1"}


def test_exists_false_matches_events_without_the_field(run: Run) -> None:
    assert run.tids("exists_false") == {"x-2"}


def test_exists_true_on_a_field_absent_from_the_store_matches_nothing(run: Run) -> None:
    assert run.tids("exists_true_absent_column") == set()


def test_exists_false_on_a_field_absent_from_the_store_matches_every_event(run: Run) -> None:
    # No event has no.such.column, so "must not exist" holds for all of them.
    assert run.tids("exists_false_absent_column") == {"x-1", "x-2"}


def test_lt_compares_text_column_numerically(run: Run) -> None:
    # As text, "100" < "5"; numerically only 5, 9.5 and -3 are below 10; "abc" never matches.
    assert run.tids("lt") == {"n-1", "n-5", "n-6"}


def test_gte_compares_text_column_numerically(run: Run) -> None:
    assert run.tids("gte") == {"n-2", "n-3"}


def test_numeric_value_matches_numerically(run: Run) -> None:
    assert run.tids("number_equal") == {"n-2"}


def test_fieldref_compares_two_fields_of_the_same_event(run: Run) -> None:
    assert run.tids("fieldref") == {"fr-1"}


def test_null_value_matches_null_and_missing_keys(run: Run) -> None:
    assert run.tids("null") == {"nl-2", "nl-3"}


def test_not_null_filter_keeps_events_with_a_value(run: Run) -> None:
    assert run.tids("not_null") == {"nl-1"}


def test_null_on_a_field_absent_from_the_store_matches_every_event(run: Run) -> None:
    # An event without the key matches `null` when another event has the column (nl-3
    # above); it must not stop matching just because no event of the store has it.
    assert run.tids("null_absent_column") == {"nl-1", "nl-2", "nl-3"}


def test_not_filter_keeps_events_where_the_filter_field_is_missing(run: Run) -> None:
    assert run.tids("not_filter_value") == {"nm-1", "nm-3"}


def test_not_filter_on_a_field_absent_from_the_store_keeps_every_selected_event(run: Run) -> None:
    assert run.tids("not_filter_absent_column") == {"nm-1", "nm-2", "nm-3"}


def test_keywords_match_anywhere_in_the_record_case_insensitively(run: Run) -> None:
    # kw-3 has the keyword in a field other than message: keywords search the whole record.
    assert run.tids("keywords") == {"kw-1", "kw-3", "kw-4"}


def test_keyword_wildcards_apply_inside_the_record_text(run: Run) -> None:
    assert run.tids("keyword_wildcard") == {"kw-1"}


def test_numeric_keyword_matches_the_number_anywhere_in_the_record(run: Run) -> None:
    assert run.tids("keyword_number") == {"kw-5"}


def test_sigma_field_names_are_mapped_to_ecs_columns_by_the_pipeline(run: Run) -> None:
    assert run.tids("mapped_user") == {"m-1", "m-2"}
    assert run.tids("mapped_src_ip_and_hostname") == {"m-1", "m-2", "m-3"}


def test_one_of_selection_pattern_is_or(run: Run) -> None:
    assert run.tids("one_of") == {"o-1", "o-2", "o-3"}


def test_all_of_them_is_and(run: Run) -> None:
    assert run.tids("all_of_them") == {"o-3"}


# ------------------------------------------------------------------------------ runner
META_ID = "5d1c3a8e-2f4b-4c6d-9e8f-0a1b2c3d4e5f"


def _skip_for(run: Run, filename: str) -> list:
    return [s for s in run.ctx.skipped if filename in s.item]


def test_rule_with_unmapped_logsource_is_skipped_naming_the_logsource(run: Run) -> None:
    skips = _skip_for(run, "unmapped_logsource.yml")
    assert len(skips) == 1
    assert skips[0].detector == "sigma"
    assert "acme" in skips[0].reason and "widget_audit" in skips[0].reason
    assert "logsource" in skips[0].reason
    assert run.of("0f6a9d3e-7b1c-4e2a-8d5f-3c4b5a6d7e8f") == []


def test_mapped_logsource_without_events_is_skipped_with_no_events(run: Run) -> None:
    skips = _skip_for(run, "mapped_without_events.yml")
    assert len(skips) == 1
    assert "no events" in skips[0].reason
    assert run.of("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d") == []


def test_builtin_rules_without_events_are_reported_not_silent(run: Run) -> None:
    # The store has cdr.audit events only: the built-in Cisco rules have nothing to run on.
    skipped = [s for s in run.ctx.skipped if "net_guestshell_enabled.yml" in s.item]
    assert len(skipped) == 1 and "no events" in skipped[0].reason


def test_correlation_rule_is_reported_as_not_run(run: Run) -> None:
    skips = _skip_for(run, "correlation.yml")
    assert len(skips) == 1
    assert "correlation" in skips[0].reason.lower()
    assert "not run" in skips[0].reason
    assert run.of("7c6b5a4f-3e2d-4c1b-9a0f-8e7d6c5b4a3f") == []
    # the rule it references is an ordinary rule and runs
    assert run.of("3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b")


def test_logsource_must_match_exactly(run: Run) -> None:
    # telecom/cdr_audit is mapped, but not with an extra category
    skips = _skip_for(run, "extra_category.yml")
    assert len(skips) == 1
    assert "category=signalling" in skips[0].reason


def test_evidence_is_capped_at_max_evidence_but_the_count_is_not(run: Run, tmp_path: Path) -> None:
    rule = tmp_path / "one_of.yml"
    rule.write_text(rule_yaml("one_of", RULES["one_of"]), encoding="utf-8")
    ctx = HuntContext(rule_paths=[rule], max_evidence=2)
    findings = [f for f in SigmaDetector().run(run.workspace, ctx) if f.rule_id == rule_id("one_of")]
    assert len(findings) == 1
    assert findings[0].event_count == 3
    # the earliest two events, in time order
    assert [json.loads(e.text)["tid"] for e in findings[0].evidence] == ["o-1", "o-2"]


def test_ran_counts_the_rules_that_ran(run: Run) -> None:
    # compiler rules + metadata rule + correlation base + the two built-in CDR rules
    assert run.ctx.ran["sigma"] == len(RULES) + 2 + 2


def test_findings_carry_rule_uuid_title_severity_and_description(run: Run) -> None:
    findings = run.of(META_ID)
    assert findings
    for f in findings:
        assert f.rule_id == META_ID
        assert f.title == "Seawall test - metadata carrier"
        assert f.severity == "critical"
        assert f.detector == "sigma"
        assert f.description.startswith("Matches the 'meta' events")
        assert f.references == ["https://example.org/seawall-test"]


def test_techniques_come_from_attack_technique_tags_only(run: Run) -> None:
    for f in run.of(META_ID):
        assert f.techniques == ["T1059.001", "T1070"]


def test_findings_are_grouped_per_host(run: Run) -> None:
    by_host = {tuple(f.entities["host"]): f for f in run.of(META_ID)}
    assert set(by_host) == {("edge-a",), ("edge-b",)}
    assert by_host[("edge-a",)].event_count == 2
    assert by_host[("edge-b",)].event_count == 1
    assert {json.loads(e.text)["tid"] for e in by_host[("edge-a",)].evidence} == {"m-1", "m-2"}
    assert [json.loads(e.text)["tid"] for e in by_host[("edge-b",)].evidence] == ["m-3"]


def test_findings_carry_first_and_last_seen(run: Run) -> None:
    by_host = {f.entities["host"][0]: f for f in run.of(META_ID)}
    a, b = by_host["edge-a"], by_host["edge-b"]
    assert a.first_seen == dt.datetime(2025, 3, 2, 8, 0, tzinfo=dt.UTC)
    assert a.last_seen == dt.datetime(2025, 3, 2, 9, 30, tzinfo=dt.UTC)
    assert b.first_seen == b.last_seen == dt.datetime(2025, 3, 2, 12, 0, tzinfo=dt.UTC)


def test_findings_carry_entities_from_the_matched_events(run: Run) -> None:
    by_host = {f.entities["host"][0]: f for f in run.of(META_ID)}
    a, b = by_host["edge-a"], by_host["edge-b"]
    assert a.entities["user"] == ["mallory"]
    assert sorted(a.entities["source_ip"]) == ["203.0.113.5", "203.0.113.6"]
    assert a.entities["destination_ip"] == ["10.0.0.9"]
    assert b.entities["user"] == ["trent"]
    assert "source_ip" not in b.entities
    assert "trent" not in a.entities["user"]


def test_evidence_points_at_path_line_offset_event_id_and_text(run: Run) -> None:
    raw = run.path.read_bytes()
    lines = raw.split(b"\n")
    offsets, position = [], 0
    for line in lines:
        offsets.append(position)
        position += len(line) + 1
    digest = path_digest(str(run.path))
    evidence = [e for f in run.of(META_ID) for e in f.evidence]
    assert len(evidence) == 3
    for e in evidence:
        assert e.path == str(run.path)
        assert e.line is not None and e.offset is not None
        assert e.offset == offsets[e.line - 1]
        assert e.text == lines[e.line - 1].decode()
        assert e.event_id == f"{digest}-{e.offset}"
        assert e.timestamp is not None and e.timestamp.endswith("Z")
    tid_line = {json.loads(e.text)["tid"]: e.line for e in evidence}
    expected = {tid: n for n, (tid, _) in enumerate(EVENTS, start=1) if tid.startswith("m-")}
    assert tid_line == expected


# --------------------------------------------------------------------- invalid content
BUILTIN_CDR_IDS = {"b0d6e133-c456-4896-b324-5b219bbfa394", "fede97c5-e295-4b99-917d-44483089ddcc"}


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("sigma_small")
    events = write_events(root / "cdr.jsonl", [("m-1", {"grp": "meta", "host.name": "edge-a"})])
    workspace = Workspace(None)
    ingest([events], workspace)
    yield workspace
    workspace.close()


@pytest.mark.parametrize(
    "filename",
    [
        "missing_sections.yml",
        "bad_syntax.yml",
        "scalar_document.yml",
        "list_document.yml",
        "unknown_action.yml",
        "unknown_modifier.yml",
    ],
)
def test_invalid_rule_file_is_reported_with_a_reason_not_raised(small_store: Workspace, filename: str) -> None:
    path = FIXTURES / "invalid" / filename
    ctx = HuntContext(rule_paths=[path])
    findings = list(SigmaDetector().run(small_store, ctx))  # must not raise
    skips = [s for s in ctx.skipped if filename in s.item]
    assert len(skips) >= 1, f"{filename} was neither run nor reported: {ctx.skipped}"
    assert all(s.reason.strip() for s in skips)
    assert not [f for f in findings if f.rule_id not in BUILTIN_CDR_IDS]
    # nothing from the invalid file ran: only the two built-in CDR rules did
    assert ctx.ran.get("sigma", 0) == 2


def test_invalid_rule_does_not_stop_the_other_rules(small_store: Workspace, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a_broken.yml").write_text((FIXTURES / "invalid" / "missing_sections.yml").read_text())
    (rules / "b_good.yml").write_text((FIXTURES / "runner" / "metadata_rule.yml").read_text())
    ctx = HuntContext(rule_paths=[rules])
    findings = list(SigmaDetector().run(small_store, ctx))
    assert [f.rule_id for f in findings if f.rule_id == META_ID] == [META_ID]
    assert any("a_broken.yml" in s.item for s in ctx.skipped)


# ------------------------------------------------------------------- real SigmaHQ rules
CLEAR_LOGS_ID = "ceb407f6-8277-439b-951f-e4210e3ed956"
SYSLOG_LINES = [
    "<189>Oct  8 02:18:55 core-r2 101: *Oct  8 02:18:55.001 UTC: %PARSER-5-CFGLOG_LOGGEDCMD: "
    "User:admin  logged command:clear logging",
    "<189>Oct  8 02:19:10 core-r2 102: *Oct  8 02:19:10.001 UTC: %PARSER-5-CFGLOG_LOGGEDCMD: "
    "User:admin  logged command:show clock",
    "<38>Oct  8 02:20:00 lnx1 sshd[1234]: Accepted password for root from 198.51.100.4 port 22 ssh2",
    "<86>Oct  8 02:21:00 lnx1 sudo: alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/id",
]


@pytest.mark.shared_data
def test_sigmahq_cisco_and_linux_builtin_rules_load_and_run(shared_data: Path, tmp_path: Path) -> None:
    rules_root = shared_data / "sigma" / "rules"
    dirs = [rules_root / "network" / "cisco", rules_root / "linux" / "builtin"]
    log = tmp_path / "devices.log"
    log.write_text("\n".join(SYSLOG_LINES) + "\n", encoding="utf-8")
    workspace = Workspace(None)
    try:
        ingest([log], workspace, ReadOptions(reference_time=dt.datetime(2025, 10, 9, tzinfo=dt.UTC)))
        assert workspace.count() == len(SYSLOG_LINES)
        ctx = HuntContext(rule_paths=dirs)
        findings = list(SigmaDetector().run(workspace, ctx))  # no exception escapes
    finally:
        workspace.close()

    files = [f for d in dirs for f in sorted(d.rglob("*.yml"))]
    assert len(files) > 20
    builtin = 8
    # every rule either ran or was skipped with a reason
    assert ctx.ran.get("sigma", 0) + len(ctx.skipped) == len(files) + builtin
    assert all(s.reason.strip() for s in ctx.skipped)
    for file in files:
        assert sum(str(file) in s.item for s in ctx.skipped) <= 1

    clear = [f for f in findings if f.rule_id == CLEAR_LOGS_ID]
    assert len(clear) == 1
    assert clear[0].title == "Cisco Clear Logs"
    assert clear[0].severity == "high"
    assert "T1070.003" in clear[0].techniques
    assert [e.line for e in clear[0].evidence] == [1]
    assert "clear logging" in clear[0].evidence[0].text
    assert clear[0].entities["host"] == ["core-r2"]


@pytest.mark.shared_data
def test_sigmahq_clear_logs_rule_does_not_fire_without_clear_logging(shared_data: Path, tmp_path: Path) -> None:
    rule = shared_data / "sigma" / "rules" / "network" / "cisco" / "aaa" / "cisco_cli_clear_logs.yml"
    assert CLEAR_LOGS_ID in rule.read_text()
    log = tmp_path / "quiet.log"
    log.write_text("\n".join(SYSLOG_LINES[1:]) + "\n", encoding="utf-8")
    workspace = Workspace(None)
    try:
        ingest([log], workspace)
        ctx = HuntContext(rule_paths=[rule])
        findings = list(SigmaDetector().run(workspace, ctx))
    finally:
        workspace.close()
    assert not any(s.item.endswith("cisco_cli_clear_logs.yml)") for s in ctx.skipped)
    assert [f for f in findings if f.rule_id == CLEAR_LOGS_ID] == []


def test_keywords_search_the_decoded_message_of_json_lines_events(tmp_path: Path) -> None:
    r"""The raw JSON line holds C:\\Windows, \"hi\" and caf\u00e9; keywords search the decoded text."""
    events = write_events(
        tmp_path / "cdr.jsonl",
        [
            ("dec-1", {"message": r"ran C:\Windows\System32\cmd.exe /c whoami"}),
            ("dec-2", {"message": 'the operator did say "hi" to the switch'}),
            ("dec-3", {"message": "login from the café wifi"}),
            ("dec-4", {"message": "nothing to see here"}),
        ],
    )
    assert "\\u00e9" in events.read_text(encoding="utf-8")  # json.dumps escapes non-ASCII
    rules = tmp_path / "rules"
    rules.mkdir()
    keywords = {"kw_path": r"'C:\Windows\System32'", "kw_quote": "'say \"hi\"'", "kw_accent": "café"}
    for name, keyword in keywords.items():
        detection = f"keywords:\n  - {keyword}\ncondition: keywords\n"
        (rules / f"{name}.yml").write_text(rule_yaml(name, detection), encoding="utf-8")
    with Workspace(None) as workspace:
        ingest([events], workspace)
        ctx = HuntContext(rule_paths=[rules])
        findings = list(SigmaDetector().run(workspace, ctx))
    run = Run(events, findings, ctx, workspace)
    assert run.tids("kw_path") == {"dec-1"}
    assert run.tids("kw_quote") == {"dec-2"}
    assert run.tids("kw_accent") == {"dec-3"}


def test_builtin_rules_passed_again_run_once_and_the_copies_are_skipped(tmp_path: Path) -> None:
    from seawall.detect.sigma import builtin_rules

    events = write_events(
        tmp_path / "cdr.jsonl",
        [("x-1", {"event.action": "cdr.export", "destination.ip": "203.0.113.66", "host.name": "cdr-db1"})],
    )
    with Workspace(None) as workspace:
        ingest([events], workspace)
        ctx = HuntContext(rule_paths=[builtin_rules()])
        findings = list(SigmaDetector().run(workspace, ctx))
    assert [f.rule_id for f in findings] == ["b0d6e133-c456-4896-b324-5b219bbfa394"]
    assert ctx.ran["sigma"] == 2  # the two CDR rules, once each
    copies = [s for s in ctx.skipped if "same rule id" in s.reason]
    assert len(copies) == len(list(builtin_rules().glob("*.yml")))
    assert len([s for s in copies if "cdr_external_export.yml" in s.item]) == 1


@pytest.mark.parametrize(
    "filename",
    [
        "unknown_action.yml",  # invalid top-level action: pySigma reports it for the collection only
        "missing_sections.yml",  # invalid rules: pySigma reports their errors for the rule and the collection
        "unknown_modifier.yml",
    ],
)
def test_invalid_rule_file_is_reported_once(small_store: Workspace, filename: str) -> None:
    ctx = HuntContext(rule_paths=[FIXTURES / "invalid" / filename])
    list(SigmaDetector().run(small_store, ctx))
    skips = [s for s in ctx.skipped if filename in s.item]
    assert len(skips) == 1, skips


def test_rule_naming_a_field_absent_from_the_store_runs_with_a_note(small_store: Workspace, tmp_path: Path) -> None:
    rule = tmp_path / "absent_field.yml"
    detection = """
        selection:
          grp: meta
        filter:
          no.such.field: drop
        condition: selection and not filter
    """
    rule.write_text(rule_yaml("absent_field", detection), encoding="utf-8")
    ctx = HuntContext(rule_paths=[rule])
    findings = list(SigmaDetector().run(small_store, ctx))
    assert [f.event_count for f in findings if f.rule_id == rule_id("absent_field")] == [1]
    assert not [s for s in ctx.skipped if "absent_field.yml" in s.item]
    notes = [n for n in ctx.notes if "absent_field.yml" in n.item]
    assert len(notes) == 1
    assert notes[0].detector == "sigma" and "no.such.field" in notes[0].reason
