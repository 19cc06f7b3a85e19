"""STIX patterns: parsed, compiled to atoms or plans, and every operator run on a small workspace."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_intel import T0, by_rule, hunt, indicator, load_events, store_intel

from seawall.detect import stix_eval
from seawall.detect import stix_patterns as sp
from seawall.detect.intel import intel_fields
from seawall.store import Workspace

FIELDS = intel_fields()


# --------------------------------------------------------------------------------- parsing
def test_parse_builds_the_tree_with_precedence_and_qualifiers() -> None:
    tree = sp.parse(
        "[a:b = 'x'] AND [c:d = 1] OR [e:f > 2.5] FOLLOWEDBY ([g:h IN ('y', 'z')] REPEATS 2 TIMES WITHIN 60 SECONDS)"
    )
    assert isinstance(tree, sp.FollowedBy)
    assert isinstance(tree.first, sp.ObsOr)
    assert isinstance(tree.first.items[0], sp.ObsAnd)
    then = tree.then
    assert isinstance(then, sp.Within) and then.micros == 60_000_000
    assert isinstance(then.expr, sp.Repeats) and then.expr.times == 2
    leaf = then.expr.expr
    assert isinstance(leaf, sp.Observation)
    assert leaf.expr == sp.Comparison("g:h", "IN", ("y", "z"))


def test_parse_reads_every_literal_kind_and_negation() -> None:
    tree = sp.parse(
        "[x:a = 'it\\'s \\\\ here' AND x:b != -3 AND x:c NOT > 1.5 AND x:d = true "
        "AND x:e = t'2025-01-02T03:04:05.123456789Z' AND x:f = h'00ff' AND x:g = b'AAE=']"
    )
    assert isinstance(tree, sp.Observation) and isinstance(tree.expr, sp.AllOf)
    values = [c.value for c in tree.expr.items]  # type: ignore[union-attr]
    assert values[:4] == ["it's \\ here", -3, 1.5, True]
    assert values[4] == dt.datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
    assert values[5:] == [b"\x00\xff", b"\x00\x01"]
    assert tree.expr.items[2].negated  # type: ignore[union-attr]


def test_start_stop_and_exists() -> None:
    tree = sp.parse("[EXISTS x:a] START t'2025-01-01T00:00:00Z' STOP t'2025-01-02T00:00:00Z'")
    assert isinstance(tree, sp.StartStop)
    assert tree.stop - tree.start == 86_400_000_000
    assert tree.expr == sp.Observation(sp.Comparison("x:a", "EXISTS", None))


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("file:hashes.'SHA-256'", "file:hashes.SHA-256"),
        ("file:hashes.sha256", "file:hashes.SHA-256"),
        ("file:hashes.'sha-1'", "file:hashes.SHA-1"),
        ("file:hashes.MD5", "file:hashes.MD5"),
        ("network-traffic:protocols[*]", "network-traffic:protocols[*]"),
        ("domain-name:resolves_to_refs[*].value", "domain-name:resolves_to_refs[*].value"),
        (
            "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'",
            "network-traffic:extensions.http-request-ext.request_header.User-Agent",
        ),
    ],
)
def test_paths_are_canonical(written: str, canonical: str) -> None:
    tree = sp.parse(f"[{written} = 'x']")
    assert isinstance(tree, sp.Observation) and isinstance(tree.expr, sp.Comparison)
    assert tree.expr.path == canonical


@pytest.mark.parametrize(
    "text", ["", "   ", "[ipv4-addr:value = '1.2.3.4'", "ipv4-addr:value = '1.2.3.4'", "[a = 'x']"]
)
def test_invalid_patterns_raise_pattern_error(text: str) -> None:
    with pytest.raises(sp.PatternError):
        sp.compile_pattern(text, FIELDS)


# ----------------------------------------------------------------------------------- atoms
@pytest.mark.parametrize(
    ("pattern", "atoms"),
    [
        ("[ipv4-addr:value = '198.51.100.7']", [("ipv4-addr:value", "ip4", "198.51.100.7", 32)]),
        ("[ipv4-addr:value ISSUBSET '198.51.100.7/24']", [("ipv4-addr:value", "ip4", "198.51.100.0", 24)]),
        ("[ipv4-addr:value = '198.51.100.7/32']", [("ipv4-addr:value", "ip4", "198.51.100.7", 32)]),
        ("[ipv6-addr:value = '2001:DB8:0::1']", [("ipv6-addr:value", "ip6", "2001:db8::1", 128)]),
        ("[domain-name:value = 'Evil.Example']", [("domain-name:value", "text", "evil.example", 0)]),
        ("[file:name = 'Run.EXE']", [("file:name", "text", "Run.EXE", 0)]),  # names keep their case
        ("[network-traffic:dst_port = 443]", [("network-traffic:dst_port", "text", "443", 0)]),
        (
            "[domain-name:value IN ('a.example', 'B.example') OR file:hashes.MD5 = 'AA']",
            [
                ("domain-name:value", "text", "a.example", 0),
                ("domain-name:value", "text", "b.example", 0),
                ("file:hashes.MD5", "text", "aa", 0),
            ],
        ),
        (
            "[ipv4-addr:value = '192.0.2.1'] OR [network-traffic:dst_ref.value = 'c2.example']",
            [("ipv4-addr:value", "ip4", "192.0.2.1", 32), ("network-traffic:dst_ref.value", "text", "c2.example", 0)],
        ),
    ],
)
def test_value_patterns_compile_to_atoms(pattern: str, atoms: list[tuple]) -> None:
    compiled = sp.compile_pattern(pattern, FIELDS)
    assert compiled.atoms is not None
    assert [(a.path, a.kind, a.value, a.prefix) for a in compiled.atoms] == atoms


@pytest.mark.parametrize(
    "pattern",
    [
        "[ipv4-addr:value != '1.2.3.4']",
        "[ipv4-addr:value NOT = '1.2.3.4']",
        "[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:dst_port = 443]",
        "[domain-name:value LIKE '%.example']",
        "[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'x.example']",
        "[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS",
        "[ipv4-addr:value = '1.2.3.4'] START t'2025-01-01T00:00:00Z' STOP t'2026-01-01T00:00:00Z'",
    ],
)
def test_other_patterns_compile_to_plans(pattern: str) -> None:
    compiled = sp.compile_pattern(pattern, FIELDS)
    assert compiled.atoms is None and compiled.plan is not None and compiled.leaves


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("[file:hashes.MD5 = h'00ff']", "binary"),
        ("[file:name ISSUBSET '10.0.0.0/8']", "IP address properties"),
        ("[ipv4-addr:value ISSUBSET 'not-a-net']", "needs an address or CIDR"),
        ("([ipv4-addr:value = '1.2.3.4'] AND [file:name = 'x']) REPEATS 2 TIMES", "REPEATS"),
        ("[x-custom:thing = 'a']", "no event field carries x-custom:thing"),
    ],
)
def test_unsupported_patterns_say_why(pattern: str, reason: str) -> None:
    with pytest.raises(sp.Unsupported, match=reason):
        sp.compile_pattern(pattern, FIELDS)


def test_invalid_regular_expression_is_a_pattern_error() -> None:
    with pytest.raises(sp.PatternError, match="regular expression"):
        sp.compile_pattern("[process:command_line MATCHES '([']", FIELDS)


def test_quick_reading_agrees_with_the_parser() -> None:
    for pattern in [
        "[file:hashes.'SHA-256' = 'AB\\'C\\\\']",
        "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
        "  [ domain-name:value='x.example' ]  ",
        "[x-thing:AND = 'x']",  # a keyword as a name: not quick, and not valid
    ]:
        quick = sp.quick_atoms(pattern)
        try:
            parsed = sp.atoms_of(sp.parse(pattern))
        except sp.PatternError:
            assert quick is None
            continue
        assert quick == parsed


# ------------------------------------------------------------------------------ evaluation
def hits(*leaves: list[int]) -> list[list[tuple[int, str]]]:
    """Leaf hits from minute offsets: the key of an event is f'{leaf}@{minute}'."""
    return [[(m * 60_000_000, f"{n}@{m}") for m in leaf] for n, leaf in enumerate(leaves)]


def plan(text: str) -> sp.ObsExpr:
    compiled = sp.compile_pattern(text, FIELDS)
    assert compiled.plan is not None
    return compiled.plan


A, B, C = "[ipv4-addr:value = '192.0.2.1']", "[domain-name:value = 'b.example']", "[file:name = 'c.exe']"


def test_evaluation_followedby_needs_the_right_order() -> None:
    assert sp.Evaluation(hits([5], [3])).matches(plan(f"{A} FOLLOWEDBY {B}")) == set()
    assert sp.Evaluation(hits([1, 5], [3])).matches(plan(f"{A} FOLLOWEDBY {B}")) == {"0@1", "1@3"}
    assert sp.Evaluation(hits([3], [3])).matches(plan(f"{A} FOLLOWEDBY {B}")) == {"0@3", "1@3"}  # same instant


def test_evaluation_within_needs_one_window() -> None:
    p = plan(f"({A} AND {B}) WITHIN 120 SECONDS")
    assert sp.Evaluation(hits([0, 10], [4])).matches(p) == set()
    assert sp.Evaluation(hits([0, 10], [4, 11])).matches(p) == {"0@10", "1@11"}
    chain = plan(f"({A} FOLLOWEDBY {B} FOLLOWEDBY {C}) WITHIN 300 SECONDS")
    assert sp.Evaluation(hits([0], [2], [6])).matches(chain) == set()
    assert sp.Evaluation(hits([0, 3], [2, 4], [6])).matches(chain) == {"0@3", "1@4", "2@6"}


def test_evaluation_repeats_counts_distinct_events() -> None:
    p = plan(f"{A} REPEATS 3 TIMES")
    assert sp.Evaluation(hits([1, 2])).matches(p) == set()
    assert sp.Evaluation(hits([1, 2, 9])).matches(p) == {"0@1", "0@2", "0@9"}
    windowed = plan(f"{A} REPEATS 3 TIMES WITHIN 180 SECONDS")
    assert sp.Evaluation(hits([0, 2, 9, 10])).matches(windowed) == set()
    assert sp.Evaluation(hits([0, 2, 9, 10, 11])).matches(windowed) == {"0@9", "0@10", "0@11"}
    union = plan(f"({A} OR {B}) REPEATS 2 TIMES")
    assert sp.Evaluation(hits([4], [4])).matches(union) == {"0@4", "1@4"}  # two distinct events


def test_evaluation_start_stop_bounds_the_observations() -> None:
    p = plan(f"{A} START t'2000-01-01T00:05:00Z' STOP t'2000-01-01T00:10:00Z'")
    base = int(dt.datetime(2000, 1, 1, tzinfo=dt.UTC).timestamp()) // 60
    assert sp.Evaluation(hits([base + 4, base + 10])).matches(p) == set()  # stop is exclusive
    assert sp.Evaluation(hits([base + 5, base + 9, base + 10])).matches(p) == {f"0@{base + 5}", f"0@{base + 9}"}


def test_evaluation_and_or() -> None:
    assert sp.Evaluation(hits([1], [])).matches(plan(f"{A} AND {B}")) == set()
    assert sp.Evaluation(hits([1], [7])).matches(plan(f"{A} AND {B}")) == {"0@1", "1@7"}
    assert sp.Evaluation(hits([], [7], [])).matches(plan(f"{A} OR {B} AND {C}")) == set()
    assert sp.Evaluation(hits([], [7], [8])).matches(plan(f"{A} OR {B} AND {C}")) == {"1@7", "2@8"}


def test_too_many_windows_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stix_eval, "MAX_WINDOWS", 3)
    with pytest.raises(sp.TooManyWindows):
        sp.Evaluation(hits(list(range(10)), [100])).matches(plan(f"({A} AND {B}) WITHIN 60 SECONDS"))


# -------------------------------------------------------------- every operator, end to end
EVENTS = [
    ("e-0", {"source.ip": "10.1.1.1", "destination.ip": "192.0.2.1", "destination.port": 443, "user.name": "Admin"}),
    ("e-1", {"source.ip": "192.0.2.1", "destination.ip": "10.1.1.2", "destination.port": 22, "user.name": "bob"}),
    ("e-2", {"dns.question.name": "C2.Example.net", "process.command_line": "curl -k https://c2.example.net/x"}),
    ("e-3", {"destination.ip": "2001:db8::5", "destination.port": 8443, "process.pid": 4242}),
    ("e-4", {"file.name": "Implant.bin", "file.size": "1024", "file.hash.md5": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}),
    ("e-5", {"source.ip": "192.0.2.1", "destination.ip": "10.1.1.3", "destination.port": 22}),
    ("e-6", {"source.ip": "192.0.2.1", "destination.ip": "10.1.1.3", "destination.port": 22}),
    ("e-7", {"destination.ip": "10.20.0.0/16", "user.name": "carol"}),
]


@pytest.fixture(scope="module")
def operators_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with Workspace(None) as ws:
        load_events(ws, tmp_path_factory.mktemp("ops"), EVENTS)
        yield ws


OPERATOR_CASES = [
    ("eq", "[ipv4-addr:value = '192.0.2.1']", {"e-0", "e-1", "e-5", "e-6"}),
    ("neq", "[user-account:account_login != 'bob']", {"e-0", "e-7"}),
    ("not-eq", "[user-account:account_login NOT = 'bob']", {"e-0", "e-7"}),
    ("lt", "[network-traffic:dst_port < 443]", {"e-1", "e-5", "e-6"}),
    ("le", "[network-traffic:dst_port <= 443]", {"e-0", "e-1", "e-5", "e-6"}),
    ("gt", "[network-traffic:dst_port > 443]", {"e-3"}),
    ("ge", "[network-traffic:dst_port >= 443]", {"e-0", "e-3"}),
    ("gt-text-number", "[file:size > 1000]", {"e-4"}),
    ("in", "[user-account:account_login IN ('carol', 'Admin')]", {"e-0", "e-7"}),
    ("in-numbers", "[network-traffic:dst_port IN (22, 8443)]", {"e-1", "e-3", "e-5", "e-6"}),
    ("like", "[domain-name:value LIKE '%.example.net']", {"e-2"}),
    ("not-like", "[file:name NOT LIKE 'Implant%']", set()),
    ("matches", "[process:command_line MATCHES 'curl .*https?://']", {"e-2"}),
    ("matches-nocase", "[domain-name:value MATCHES '^c2\\\\.']", {"e-2"}),
    ("issubset-v4", "[ipv4-addr:value ISSUBSET '10.1.1.0/30']", {"e-0", "e-1", "e-5", "e-6"}),
    ("issubset-v6", "[ipv6-addr:value ISSUBSET '2001:db8::/64'] AND [network-traffic:dst_port = 8443]", {"e-3"}),
    ("issuperset", "[ipv4-addr:value ISSUPERSET '10.20.30.0/24']", {"e-7"}),
    ("exists", "[EXISTS process:pid]", {"e-3"}),
    ("hash-case", "[file:hashes.MD5 = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' AND file:name = 'Implant.bin']", {"e-4"}),
    ("name-case", "[file:name = 'implant.bin' AND file:size = 1024]", set()),
    ("and-same-event", "[network-traffic:dst_ref.value = '192.0.2.1' AND network-traffic:dst_port = 443]", {"e-0"}),
    ("and-same-object", "[ipv4-addr:value = '192.0.2.1' AND ipv4-addr:value = '10.1.1.2']", set()),
    (
        "or-inside",
        "[network-traffic:dst_port = 22 AND (user-account:account_login = 'bob' OR process:pid = 1)]",
        {"e-1"},
    ),
    ("obs-and", "[network-traffic:dst_port = 443] AND [file:size > 1]", {"e-0", "e-4"}),
    ("obs-and-missing", "[network-traffic:dst_port = 443] AND [file:size > 9999]", set()),
    (
        "obs-or",
        "[network-traffic:dst_port = 443] OR [process:pid = 4242 AND network-traffic:dst_port = 8443]",
        {"e-0", "e-3"},
    ),
    (
        "followedby",
        "[network-traffic:dst_port = 443] FOLLOWEDBY [domain-name:value = 'c2.example.net']",
        {"e-0", "e-2"},
    ),
    ("followedby-late", "[domain-name:value = 'c2.example.net'] FOLLOWEDBY [network-traffic:dst_port = 443]", set()),
    ("within", "([user-account:account_login = 'bob'] AND [file:size > 0]) WITHIN 180 SECONDS", {"e-1", "e-4"}),
    ("within-short", "([user-account:account_login = 'bob'] AND [file:size > 0]) WITHIN 120 SECONDS", set()),
    ("repeats", "[network-traffic:dst_port = 22] REPEATS 3 TIMES", {"e-1", "e-5", "e-6"}),
    ("repeats-too-few", "[network-traffic:dst_port = 22] REPEATS 4 TIMES", set()),
    (
        "repeats-within",
        "[network-traffic:dst_port = 22 AND network-traffic:dst_ref.value = '10.1.1.3'] REPEATS 2 TIMES WITHIN 60 SECONDS",
        {"e-5", "e-6"},
    ),
    (
        "start-stop",
        f"[network-traffic:dst_port = 22] START t'{(T0 + dt.timedelta(minutes=2)).isoformat()[:19]}Z' "
        f"STOP t'{(T0 + dt.timedelta(minutes=6)).isoformat()[:19]}Z'",
        {"e-5"},
    ),
]


@pytest.fixture(scope="module")
def operator_run(operators_ws: Workspace) -> tuple[dict[str, set[str]], list]:
    store_intel(operators_ws, [indicator(f"indicator--{name}", pattern) for name, pattern, _ in OPERATOR_CASES])
    findings, ctx = hunt(operators_ws)
    return by_rule(findings), ctx.skipped


@pytest.mark.parametrize(("name", "pattern", "expected"), OPERATOR_CASES, ids=[c[0] for c in OPERATOR_CASES])
def test_operator(operator_run: tuple[dict[str, set[str]], list], name: str, pattern: str, expected: set[str]) -> None:
    found, skipped = operator_run
    assert skipped == []
    assert found.get(f"indicator--{name}", set()) == expected, pattern


def test_an_observation_the_engine_cannot_run_is_skipped_alone(workspace: Workspace, tmp_path: Path) -> None:
    load_events(workspace, tmp_path, [("w-1", {"process.command_line": "abc"})])
    store_intel(
        workspace,
        [
            indicator("indicator--re2", "[process:command_line MATCHES '(?=a)abc']"),  # lookahead: not RE2
            indicator("indicator--fine", "[process:command_line MATCHES '^ab']"),
        ],
    )
    findings, ctx = hunt(workspace)
    assert by_rule(findings) == {"indicator--fine": {"w-1"}}
    assert [s.item for s in ctx.skipped] == ["indicator--re2"]
    assert "cannot be evaluated" in ctx.skipped[0].reason


def test_windows_beyond_the_limit_are_reported_per_indicator(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stix_eval, "MAX_WINDOWS", 2)
    load_events(workspace, tmp_path, [(f"m-{n}", {"destination.port": 22}) for n in range(5)])
    store_intel(
        workspace, [indicator("indicator--w", "[network-traffic:dst_port = 22] REPEATS 2 TIMES WITHIN 60 SECONDS")]
    )
    findings, ctx = hunt(workspace)
    assert findings == []
    assert [s.item for s in ctx.skipped] == ["indicator--w"] and "windows" in ctx.skipped[0].reason


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    with Workspace(None) as ws:
        yield ws
