"""Property tests of the pattern compiler: grammar-built and garbage patterns never crash it;
the fast readers (Python and DuckDB) agree with the full parser; operators are monotone."""

from __future__ import annotations

import datetime as dt
import ipaddress

import duckdb
import ibis
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st
from strategies import SETTINGS

from seawall.detect import stix_patterns as sp
from seawall.detect.intel import intel_fields

FIELDS = intel_fields()
EVENTS = ibis.table(
    {
        "@timestamp": "timestamp('UTC')",
        "source.ip": "string",
        "destination.ip": "string",
        "destination.port": "int32",
        "url.domain": "string",
        "file.hash.md5": "string",
        "file.name": "string",
        "user.name": "string",
        "process.pid": "int64",
    },
    name="events",
)
PATHS = [
    "ipv4-addr:value",
    "ipv6-addr:value",
    "domain-name:value",
    "url:value",
    "file:hashes.MD5",
    "file:hashes.'SHA-256'",
    "file:name",
    "file:size",
    "network-traffic:dst_port",
    "network-traffic:dst_ref.value",
    "network-traffic:protocols[*]",
    "user-account:account_login",
    "process:pid",
    "x-acme:widget",
    "mutex:name",
]
KEYWORDS = {"AND", "OR", "NOT", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS", "true", "false"}

# ------------------------------------------------------------------------------ grammar
string_values = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "192.0.2.1",
            "198.51.100.0/24",
            "198.51.100.7/24",
            "10.0.0.1/32",
            "2001:db8::1",
            "2001:db8::/48",
            "evil.example",
        ]
        + ["a'b\\c", "%x_", "01.2.3.4", " 192.0.2.1"]
    ),
)


def quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


timestamps = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2030, 1, 1)).map(
    lambda d: f"t'{d.isoformat(timespec='seconds')}Z'"
)
orderable = st.one_of(
    string_values.map(quoted),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False).map(lambda f: f"{f:.3f}"),
    timestamps,
    st.binary(max_size=4).map(lambda b: f"h'{b.hex()}'"),
)
primitive = st.one_of(orderable, st.sampled_from(["true", "false"]))


@st.composite
def comparison(draw: st.DrawFn) -> str:
    path = draw(st.sampled_from(PATHS))
    op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"]))
    not_ = "NOT " if draw(st.booleans()) and op not in ("!=",) else ""
    if draw(st.integers(0, 15)) == 0:
        return f"{'NOT ' if not_ else ''}EXISTS {path}"
    if op in ("=", "!="):
        value = draw(primitive)
    elif op in ("<", "<=", ">", ">="):
        value = draw(orderable)
    elif op == "IN":
        value = "(" + ", ".join(draw(st.lists(primitive, min_size=1, max_size=3))) + ")"
    else:
        value = quoted(draw(string_values))
    return f"{path} {not_}{op} {value}"


comparison_expression = st.recursive(
    comparison(),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["AND", "OR"]), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        inner.map(lambda e: f"({e})"),
    ),
    max_leaves=5,
)
observation = comparison_expression.map(lambda e: f"[{e}]")


@st.composite
def qualifier(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["WITHIN", "REPEATS", "START"]))
    if kind == "WITHIN":
        return f" WITHIN {draw(st.integers(1, 10**5))} SECONDS"
    if kind == "REPEATS":
        return f" REPEATS {draw(st.integers(1, 5))} TIMES"
    start, stop = sorted(draw(st.lists(timestamps, min_size=2, max_size=2)))
    return f" START {start} STOP {stop}"


observation_expression = st.recursive(
    observation,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["AND", "OR", "FOLLOWEDBY"]), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(inner, qualifier()).map(lambda t: f"({t[0]}){t[1]}"),
    ),
    max_leaves=4,
)


def compiled_or_reported(text: str) -> sp.Compiled | None:
    """Compile; PatternError is the one way to refuse (anything else is a crash)."""
    try:
        return sp.compile_pattern(text, FIELDS)
    except sp.PatternError as exc:
        assert str(exc)
        return None


@SETTINGS
@given(observation_expression)
def test_grammar_built_patterns_parse_and_compile_or_are_reported(text: str) -> None:
    sp.parse(text)  # the generator writes valid STIX
    compiled = compiled_or_reported(text)
    if compiled is None or compiled.plan is None:
        return
    for leaf in compiled.leaves:  # every observation becomes SQL
        ibis.to_sql(EVENTS.filter(sp.predicate(leaf, EVENTS, FIELDS)), dialect="duckdb")


@SETTINGS
@given(
    st.one_of(
        st.text(max_size=80),
        st.lists(
            st.sampled_from(["[", "]", "(", ")", "ipv4-addr:value", " = ", " AND ", " OR ", "'x'", "FOLLOWEDBY", "'"]),
            max_size=12,
        ).map("".join),
    )
)
def test_garbage_never_crashes_the_compiler(text: str) -> None:
    compiled_or_reported(text)


# -------------------------------------------------------------------- the fast readers
identifier = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(lambda s: s not in KEYWORDS)
simple_path = st.one_of(
    st.sampled_from([p for p in PATHS if "[" not in p]),
    st.tuples(
        st.from_regex(r"[a-z][a-z0-9-]{0,6}", fullmatch=True).filter(lambda s: s not in KEYWORDS), identifier
    ).map(lambda t: f"{t[0]}:{t[1]}"),
)
simple_pattern = st.tuples(
    st.sampled_from(["", " ", "\n"]),
    simple_path,
    st.sampled_from([" = ", "=", " ISSUBSET "]),
    string_values,
).map(lambda t: f"{t[0]}[{t[1]}{t[2]}{quoted(t[3])}]{t[0]}")


@SETTINGS
@given(simple_pattern)
def test_quick_atoms_agree_with_the_parser(text: str) -> None:
    quick = sp.quick_atoms(text)
    try:
        parsed = sp.atoms_of(sp.parse(text))
    except sp.PatternError:
        assert quick is None
        return
    if quick is not None:
        assert quick == parsed


def same_network(path: str, kind: str, value: str, prefix: int) -> tuple:
    """An atom as matching sees it: a CIDR by its network (host bits do not count)."""
    if kind == "ip4":
        value = str(ipaddress.ip_network(f"{value}/{prefix}", strict=False).network_address)
    return (path, kind, value, prefix)


@SETTINGS
@given(st.lists(simple_pattern, min_size=1, max_size=20))
def test_the_engine_reads_simple_patterns_as_python_does(patterns: list[str]) -> None:
    ids = [f"indicator--{n}" for n in range(len(patterns))]
    con = duckdb.connect()
    try:
        con.register("rows", pa.table({"id": ids, "pattern": patterns}))
        table = ibis.duckdb.from_connection(con).table("rows")
        found = sp.compile_table(table, FIELDS).to_pyarrow().to_pylist()
    finally:
        con.close()
    by_id: dict[str, list[tuple]] = {}
    for row in found:
        by_id.setdefault(row["id"], []).append(same_network(row["path"], row["kind"], row["value"], row["prefix"]))
    for ioc, text in zip(ids, patterns):
        if ioc not in by_id:
            continue  # left to compile_pattern
        quick = sp.quick_atoms(text)
        assert quick is not None, text
        assert by_id[ioc] == [same_network(a.path, a.kind, a.value, a.prefix) for a in quick], text
        mapped = {row["mapped"] for row in found if row["id"] == ioc}
        assert mapped == {quick[0].path in FIELDS}


# ------------------------------------------------------------------------- evaluation
LEAVES = ["[ipv4-addr:value = '192.0.2.1']", "[domain-name:value = 'b.example']", "[file:name = 'c']"]
plans = st.recursive(
    st.sampled_from(LEAVES),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["AND", "OR", "FOLLOWEDBY"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, st.integers(1, 600)).map(lambda t: f"({t[0]}) WITHIN {t[1]} SECONDS"),
        st.sampled_from(LEAVES).map(lambda leaf: f"{leaf} REPEATS 2 TIMES"),
    ),
    max_leaves=4,
)
minutes = st.lists(st.integers(0, 30), max_size=6)


def evaluate(text: str, hits: list[list[int]]) -> set[str]:
    compiled = sp.compile_pattern(text, FIELDS)
    assert compiled.plan is not None or compiled.atoms is not None
    if compiled.plan is None:
        return {"atoms"}
    exprs = [sp.parse(t).expr for t in LEAVES]  # type: ignore[union-attr]
    leaf_hits = []
    for leaf in compiled.leaves:  # the plan numbers leaves in its own order
        index = exprs.index(leaf)
        leaf_hits.append([(m * 60_000_000, f"{index}@{m}") for m in hits[index]])
    return sp.Evaluation(leaf_hits).matches(compiled.plan)


@SETTINGS
@given(plans, st.lists(minutes, min_size=3, max_size=3), st.lists(minutes, min_size=3, max_size=3))
def test_more_events_never_undo_a_match(text: str, hits: list[list[int]], more: list[list[int]]) -> None:
    before = evaluate(text, hits)
    after = evaluate(text, [sorted(set(a) | set(b)) for a, b in zip(hits, more)])
    if before:
        assert after
    everything = {f"{n}@{m}" for n, leaf in enumerate(hits) for m in leaf}
    assert before <= everything | {"atoms"}
