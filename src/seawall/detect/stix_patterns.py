"""STIX 2.1 patterns compiled for matching against the events table.

A pattern whose only claim is "any of these values" (``=``, ``IN``, ``ISSUBSET`` a CIDR,
joined by OR) becomes **atoms**: (object path, value) pairs that one hash join per event
column matches against millions of events. Any other pattern becomes a **plan**: one Ibis
predicate per observation (its comparison expression, evaluated row by row in DuckDB) and
a tree of observation operators (AND, OR, FOLLOWEDBY, WITHIN, REPEATS, START/STOP)
evaluated over the timestamps of the events each observation matched. What cannot be
evaluated faithfully raises ``Unsupported`` with the reason, so the caller reports the
indicator instead of dropping it.

Which event columns carry an object path is data (content/intel_fields.yaml). Within one
observation, comparisons joined by AND hold on the same event; comparisons on the same
path of a single-valued object (an address, a domain) hold on the same column, so
``[ipv4-addr:value = 'a' AND ipv4-addr:value = 'b']`` is not met by an event whose source is
a and destination is b.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime as dt
import ipaddress
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from stix2patterns.exceptions import ParseException
from stix2patterns.v21.grammars.STIXPatternParser import STIXPatternParser as P
from stix2patterns.v21.pattern import Pattern

Literal = str | int | float | bool | dt.datetime | bytes
Key = Any  # an event's identity, opaque to the evaluator


class PatternError(ValueError):
    """A pattern that cannot be matched; the message says why."""


class Unsupported(PatternError):
    """A valid pattern using something the matcher does not evaluate."""


# ----------------------------------------------------------------------------- syntax tree
@dataclass(frozen=True)
class Comparison:
    """``path op value`` inside an observation; ``negated`` for the NOT prefix."""

    path: str  # canonical: "file:hashes.SHA-256", "network-traffic:protocols[*]"
    op: str  # = != < <= > >= IN LIKE MATCHES ISSUBSET ISSUPERSET EXISTS
    value: Literal | tuple[Literal, ...] | None
    negated: bool = False

    @property
    def object_type(self) -> str:
        return self.path.split(":", 1)[0]


@dataclass(frozen=True)
class AllOf:
    """Comparisons joined by AND: all hold on one event."""

    items: tuple[CompExpr, ...]


@dataclass(frozen=True)
class AnyOf:
    """Comparisons joined by OR."""

    items: tuple[CompExpr, ...]


CompExpr = Comparison | AllOf | AnyOf


@dataclass(frozen=True)
class Observation:
    """``[ ... ]``: one event meeting the comparison expression. ``leaf`` numbers it in a plan."""

    expr: CompExpr
    leaf: int = -1


@dataclass(frozen=True)
class ObsAnd:
    items: tuple[ObsExpr, ...]


@dataclass(frozen=True)
class ObsOr:
    items: tuple[ObsExpr, ...]


@dataclass(frozen=True)
class FollowedBy:
    first: ObsExpr
    then: ObsExpr


@dataclass(frozen=True)
class StartStop:
    expr: ObsExpr
    start: int  # microseconds since the epoch, inclusive
    stop: int  # exclusive


@dataclass(frozen=True)
class Within:
    expr: ObsExpr
    micros: int


@dataclass(frozen=True)
class Repeats:
    expr: ObsExpr
    times: int


ObsExpr = Observation | ObsAnd | ObsOr | FollowedBy | StartStop | Within | Repeats


def parse(text: str) -> ObsExpr:
    """The syntax tree of a STIX 2.1 pattern; PatternError when it is not one."""
    if not isinstance(text, str) or not text.strip():
        raise PatternError("empty pattern")
    try:
        tree = Pattern(text).visit(_Tree())
    except ParseException as exc:
        raise PatternError(f"invalid STIX pattern: {exc}") from exc
    except RecursionError as exc:
        raise PatternError("pattern nested too deeply") from exc
    return _observations(tree.observationExpressions())


class _Tree:
    """Visitor handing back the raw parse tree (Pattern keeps it private)."""

    def visit(self, tree: Any) -> Any:
        return tree


def _observations(ctx: Any) -> ObsExpr:
    if ctx.FOLLOWEDBY():
        first, then = ctx.observationExpressions()
        return FollowedBy(_observations(first), _observations(then))
    return _obs_or(ctx.observationExpressionOr())


def _obs_or(ctx: Any) -> ObsExpr:
    if ctx.OR():
        return ObsOr(tuple(_flat(ObsOr, [_obs_or(c) for c in ctx.observationExpressionOr()])))
    return _obs_and(ctx.observationExpressionAnd())


def _obs_and(ctx: Any) -> ObsExpr:
    if ctx.AND():
        return ObsAnd(tuple(_flat(ObsAnd, [_obs_and(c) for c in ctx.observationExpressionAnd()])))
    return _observation(ctx.observationExpression())


def _observation(ctx: Any) -> ObsExpr:
    if isinstance(ctx, P.ObservationExpressionSimpleContext):
        return Observation(_comparisons(ctx.comparisonExpression()))
    if isinstance(ctx, P.ObservationExpressionCompoundContext):
        return _observations(ctx.observationExpressions())
    inner = _observation(ctx.observationExpression())
    if isinstance(ctx, P.ObservationExpressionStartStopContext):
        start, stop = (_timestamp_micros(t.getText()) for t in ctx.startStopQualifier().TimestampLiteral())
        return StartStop(inner, start, stop)
    if isinstance(ctx, P.ObservationExpressionWithinContext):
        qualifier = ctx.withinQualifier()
        seconds = float((qualifier.IntPosLiteral() or qualifier.FloatPosLiteral()).getText())
        return Within(inner, round(seconds * 1_000_000))
    if isinstance(ctx, P.ObservationExpressionRepeatedContext):
        return Repeats(inner, int(ctx.repeatedQualifier().IntPosLiteral().getText()))
    raise PatternError(f"unexpected observation expression {ctx.getText()[:80]!r}")


def _comparisons(ctx: Any) -> CompExpr:
    if ctx.OR():
        return AnyOf(tuple(_flat(AnyOf, [_comparisons(c) for c in ctx.comparisonExpression()])))
    return _comparison_and(ctx.comparisonExpressionAnd())


def _comparison_and(ctx: Any) -> CompExpr:
    if ctx.AND():
        return AllOf(tuple(_flat(AllOf, [_comparison_and(c) for c in ctx.comparisonExpressionAnd()])))
    return _prop_test(ctx.propTest())


def _flat(kind: type, items: list) -> Iterator:
    for item in items:
        if isinstance(item, kind):
            yield from item.items  # type: ignore[attr-defined]
        else:
            yield item


_OPS = {
    P.PropTestEqualContext: lambda c: "=" if c.EQ() else "!=",
    P.PropTestOrderContext: lambda c: (c.GT() or c.LT() or c.GE() or c.LE()).getText(),
    P.PropTestSetContext: lambda c: "IN",
    P.PropTestLikeContext: lambda c: "LIKE",
    P.PropTestRegexContext: lambda c: "MATCHES",
    P.PropTestIsSubsetContext: lambda c: "ISSUBSET",
    P.PropTestIsSupersetContext: lambda c: "ISSUPERSET",
    P.PropTestExistsContext: lambda c: "EXISTS",
}


def _prop_test(ctx: Any) -> CompExpr:
    if isinstance(ctx, P.PropTestParenContext):
        return _comparisons(ctx.comparisonExpression())
    op = _OPS[type(ctx)](ctx)
    path = _path(ctx.objectPath())
    negated = bool(ctx.NOT())
    value: Literal | tuple[Literal, ...] | None
    if op in ("=", "!="):
        value = _literal(ctx.primitiveLiteral().getText())
    elif op in ("<", "<=", ">", ">="):
        value = _literal(ctx.orderableLiteral().getText())
    elif op == "IN":
        value = tuple(_literal(v.getText()) for v in ctx.setLiteral().primitiveLiteral())
    elif op == "EXISTS":
        value = None
    else:
        value = _string(ctx.StringLiteral().getText())
    return Comparison(path, op, value, negated)


# ------------------------------------------------------------------------------ literals
_INT = re.compile(r"[+-]?\d+")


def _string(token: str) -> str:
    return token[1:-1].replace("\\'", "'").replace("\\\\", "\\")


def _literal(token: str) -> Literal:
    if token.startswith("'"):
        return _string(token)
    if token.startswith("t'"):
        return dt.datetime.fromtimestamp(_timestamp_micros(token) / 1_000_000, dt.UTC)
    if token.startswith("h'"):
        return bytes.fromhex(token[2:-1])
    if token.startswith("b'"):
        try:
            return base64.b64decode(token[2:-1], validate=True)
        except binascii.Error as exc:
            raise PatternError(f"invalid binary literal {token[:40]}") from exc
    if token in ("true", "false"):
        return token == "true"
    return int(token) if _INT.fullmatch(token) else float(token)


def _timestamp_micros(token: str) -> int:
    text = token[2:-1] if token.startswith("t'") else token
    text = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00").replace("z", "+00:00")
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise PatternError(f"invalid timestamp {token[:40]}") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return to_micros(value)


def to_micros(value: dt.datetime) -> int:
    """Microseconds since the epoch of an aware (or UTC) datetime: the evaluator's clock."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


# --------------------------------------------------------------------------------- paths
HASH_NAMES = {
    "MD5": "MD5",
    "SHA1": "SHA-1",
    "SHA256": "SHA-256",
    "SHA512": "SHA-512",
    "SHA3256": "SHA3-256",
    "SHA3512": "SHA3-512",
    "SSDEEP": "SSDEEP",
    "TLSH": "TLSH",
}


def _path(ctx: Any) -> str:
    first = ctx.firstPathComponent()
    steps = [_string(first.getText()) if first.StringLiteral() else first.getText()]
    rest = ctx.objectPathComponent()
    if rest is not None:
        steps.extend(_steps(rest))
    return canonical_path(ctx.objectType().getText(), steps)


def _steps(ctx: Any) -> Iterator[str]:
    if isinstance(ctx, P.PathStepContext):
        for child in ctx.objectPathComponent():
            yield from _steps(child)
    elif isinstance(ctx, P.KeyPathStepContext):
        yield _string(ctx.StringLiteral().getText()) if ctx.StringLiteral() else ctx.IdentifierWithoutHyphen().getText()
    else:  # IndexPathStep
        yield "[*]" if ctx.ASTERISK() else f"[{ctx.getText()[1:-1]}]"


def canonical_path(object_type: str, steps: Sequence[str]) -> str:
    """``type:step.step[*]`` with quotes dropped and hash names in STIX spelling (SHA256 -> SHA-256)."""
    out: list[str] = []
    for step in steps:
        if out and out[-1] == "hashes" and not step.startswith("["):
            step = HASH_NAMES.get(re.sub(r"[^A-Z0-9]", "", step.upper()), step.upper())
        if step.startswith("[") and out:
            out[-1] += step
        else:
            out.append(step)
    return f"{object_type}:{'.'.join(out)}"


# Objects with one value (an address, a name): comparisons on the same path joined by AND
# must hold on the same column, i.e. the same object.
SINGLE_VALUED = frozenset(
    {"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "mac-addr", "autonomous-system", "mutex"}
)
_ADDRESS_PATHS = frozenset(
    {
        "ipv4-addr:value",
        "ipv6-addr:value",
        "network-traffic:src_ref.value",
        "network-traffic:dst_ref.value",
        "domain-name:resolves_to_refs[*].value",
    }
)


def is_address(path: str) -> bool:
    """Does the path hold IP addresses (matched canonically and by CIDR)?"""
    return path in _ADDRESS_PATHS


def folds_case(path: str) -> bool:
    """Do string values of the path compare case-insensitively (names, addresses, hashes)?"""
    obj, _, prop = path.partition(":")
    return (
        is_address(path)
        or (obj in ("domain-name", "url", "email-addr", "mac-addr") and prop == "value")
        or prop.startswith("hashes.")
        or ".hashes." in prop
        or (prop.endswith(".value") and "_ref" in prop)
        or prop.startswith("protocols")
    )


# --------------------------------------------------------------------------------- atoms
@dataclass(frozen=True)
class Atom:
    """One value a matching event carries on ``path``.

    ``kind`` is "ip4" or "ip6" (``value`` the canonical network address, ``prefix`` its
    length; an address has the full length) or "text" (``value`` lower-cased when the path
    folds case, numbers as digits).
    """

    path: str
    kind: str
    value: str
    prefix: int = 0

    @property
    def display(self) -> str:
        full = 32 if self.kind == "ip4" else 128
        return f"{self.value}/{self.prefix}" if self.kind != "text" and self.prefix < full else self.value


def atoms_of(tree: ObsExpr) -> list[Atom] | None:
    """The atoms of a pattern that only says "any of these values", else None."""
    if isinstance(tree, ObsOr):
        parts = [atoms_of(item) for item in tree.items]
        return None if any(p is None for p in parts) else [a for p in parts for a in p or ()]
    if not isinstance(tree, Observation):
        return None
    comparisons = tree.expr.items if isinstance(tree.expr, AnyOf) else (tree.expr,)
    out: list[Atom] = []
    for comparison in comparisons:
        if not isinstance(comparison, Comparison) or comparison.negated:
            return None
        values = comparison.value if comparison.op == "IN" else (comparison.value,)
        if comparison.op not in ("=", "IN", "ISSUBSET") or not isinstance(values, tuple):
            return None
        for value in values:
            atom = _atom(comparison.path, comparison.op, value)
            if atom is None:
                return None
            out.append(atom)
    return out


def _atom(path: str, op: str, value: Any) -> Atom | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    if isinstance(value, int):
        return None if op == "ISSUBSET" else Atom(path, "text", str(value))
    if is_address(path):
        network = parse_network(value)
        if network is not None:
            kind = "ip4" if network.version == 4 else "ip6"
            return Atom(path, kind, network.network_address.compressed, network.prefixlen)
    if op == "ISSUBSET":
        return None
    return Atom(path, "text", value.lower() if folds_case(path) else value)


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """An address or CIDR (host bits cleared), or None when the text is neither."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


# A literal such as [file:hashes.'SHA-256' = 'ab...']: the shape of almost every indicator of
# a large feed, read without the full parser (which costs about 0.2 ms a pattern).
# The same expression runs in DuckDB (RE2) over a whole indicator table: ``compile_table``.
SIMPLE_PATTERN = (
    r"^[ \t\r\n]*\[[ \t\r\n]*([A-Za-z_][A-Za-z0-9_-]*):"
    r"([A-Za-z_][A-Za-z0-9_]*(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|'[A-Za-z0-9_ .-]+'))*)"
    r"[ \t\r\n]*(=|ISSUBSET)[ \t\r\n]*'((?:[^'\\]|\\['\\])*)'[ \t\r\n]*\][ \t\r\n]*$"
)
_SIMPLE = re.compile(SIMPLE_PATTERN)
_KEYWORDS = frozenset(
    [
        "AND",
        "OR",
        "NOT",
        "FOLLOWEDBY",
        "LIKE",
        "MATCHES",
        "ISSUPERSET",
        "ISSUBSET",
        "EXISTS",
        "LAST",
        "IN",
        "START",
        "STOP",
        "SECONDS",
        "true",
        "false",
        "WITHIN",
        "REPEATS",
        "TIMES",
    ]
)
# An IPv4 address, optionally with a prefix length: what DuckDB can take as an atom itself.
IPV4_CIDR = (
    r"^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}"
    r"(/([0-9]|[12][0-9]|3[0-2]))?$"
)


def simple_path(object_type: str, raw: str) -> str | None:
    """The canonical path of a path matched by SIMPLE_PATTERN, or None when a keyword hides in it."""
    steps = re.findall(r"'[^']*'|[^.]+", raw)
    if object_type in _KEYWORDS or any(step in _KEYWORDS for step in steps):
        return None
    return canonical_path(object_type, [_string(s) if s.startswith("'") else s for s in steps])


def quick_atoms(text: str) -> list[Atom] | None:
    """Atoms of a one-comparison pattern read by a regular expression, or None to use ``parse``."""
    match = _SIMPLE.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    object_type, raw, op, value = match.groups()
    path = simple_path(object_type, raw)
    atom = None if path is None else _atom(path, op, _string(f"'{value}'"))
    return None if atom is None else [atom]


def compile_table(indicators: ibis.Table, fields: Mapping[str, Sequence[str]]) -> ir.Table:
    """Compile the one-comparison patterns of a table of indicators (columns id, pattern) in one pass.

    Returns (id, path, kind, value, prefix, mapped): the atoms ``compile_pattern`` gives for
    the same rows (a property test holds the two together), ``mapped`` false where no event
    field carries the path. Indicators without a row need ``compile_pattern``. Only the
    distinct paths are read in Python.
    """
    pattern = indicators.pattern
    parts = indicators.mutate(
        _type=pattern.re_extract(SIMPLE_PATTERN, 1),
        _raw=pattern.re_extract(SIMPLE_PATTERN, 2),
        _op=pattern.re_extract(SIMPLE_PATTERN, 3),
        _value=pattern.re_extract(SIMPLE_PATTERN, 4).replace("\\'", "'").replace("\\\\", "\\"),
    )
    raws = parts.filter(parts["_type"] != "").select("_type", "_raw").distinct().to_pyarrow().to_pylist()
    rows: dict[str, list] = {"_type": [], "_raw": [], "_path": [], "_mapped": [], "_fold": [], "_address": []}
    for row in raws:
        path = simple_path(row["_type"], row["_raw"])
        if path is None:
            continue
        for key, value in zip(
            rows, (row["_type"], row["_raw"], path, path in fields, folds_case(path), is_address(path)), strict=True
        ):
            rows[key].append(value)
    schema = pa.schema(
        [(k, pa.string()) for k in ("_type", "_raw", "_path")]
        + [(k, pa.bool_()) for k in ("_mapped", "_fold", "_address")]
    )
    paths = ibis.memtable(pa.table(rows, schema=schema))
    read = parts.join(paths, ["_type", "_raw"])
    value = read["_value"]
    v4 = read["_address"] & value.re_search(IPV4_CIDR)
    kind = ibis.cases((v4, "ip4"), (~read["_address"] & (read["_op"] == "="), "text"), else_=ibis.null("string"))
    bits = value.split("/")
    atoms = read.mutate(
        kind=kind,
        value=ibis.ifelse(v4, bits[0], ibis.ifelse(read["_fold"], value.lower(), value)),
        prefix=ibis.ifelse(v4 & value.contains("/"), bits[1].cast("int16"), ibis.ifelse(v4, 32, 0).cast("int16")),
    ).filter(ibis._.kind.notnull())
    return atoms.select("id", path=atoms["_path"], kind="kind", value="value", prefix="prefix", mapped=atoms["_mapped"])


# ------------------------------------------------------------------------- compiled plans
@dataclass
class Compiled:
    """A pattern ready to match: atoms, or observations (``leaves``) and the tree over them."""

    atoms: list[Atom] | None = None
    leaves: list[CompExpr] = field(default_factory=list)
    plan: ObsExpr | None = None
    unmapped: list[str] = field(default_factory=list)  # paths no event column carries


def compile_pattern(text: str, fields: Mapping[str, Sequence[str]]) -> Compiled:
    """Compile one pattern against the field map (object path -> event columns).

    Raises PatternError (invalid) or Unsupported (valid, not evaluated) with the reason.
    Paths the field map lacks are listed in ``unmapped`` and match nothing; a pattern
    whose every path is unmapped is Unsupported.
    """
    quick = quick_atoms(text)
    if quick is not None:
        return _checked(Compiled(atoms=quick), [a.path for a in quick], fields)
    tree = parse(text)
    comparisons = list(_all_comparisons(tree))
    atoms = atoms_of(tree)
    if atoms is not None:
        return _checked(Compiled(atoms=atoms), [c.path for c in comparisons], fields)
    for comparison in comparisons:
        _check_comparison(comparison)
    _check_repeats(tree)
    leaves: list[CompExpr] = []
    plan = _number(tree, leaves)
    return _checked(Compiled(leaves=leaves, plan=plan), [c.path for c in comparisons], fields)


def _checked(compiled: Compiled, paths: list[str], fields: Mapping[str, Sequence[str]]) -> Compiled:
    compiled.unmapped = sorted({p for p in paths if p not in fields})
    if len(compiled.unmapped) == len(set(paths)):
        raise Unsupported(f"no event field carries {', '.join(compiled.unmapped)}")
    return compiled


def _all_comparisons(node: ObsExpr | CompExpr) -> Iterator[Comparison]:
    if isinstance(node, Comparison):
        yield node
    elif isinstance(node, AllOf | AnyOf | ObsAnd | ObsOr):
        for item in node.items:
            yield from _all_comparisons(item)
    elif isinstance(node, Observation):
        yield from _all_comparisons(node.expr)
    elif isinstance(node, FollowedBy):
        yield from _all_comparisons(node.first)
        yield from _all_comparisons(node.then)
    else:
        yield from _all_comparisons(node.expr)


def _check_comparison(c: Comparison) -> None:
    values = c.value if isinstance(c.value, tuple) else (c.value,)
    if any(isinstance(v, bytes) for v in values):
        raise Unsupported(f"binary and hex literals are not compared ({c.path})")
    if c.op in ("ISSUBSET", "ISSUPERSET"):
        if not is_address(c.path):
            raise Unsupported(f"{c.op} is evaluated on IP address properties only, not {c.path}")
        if parse_network(str(c.value)) is None:
            raise Unsupported(f"{c.op} needs an address or CIDR, not {str(c.value)[:60]!r}")
    if c.op == "MATCHES":
        try:
            re.compile(str(c.value))
        except re.error as exc:
            raise PatternError(f"invalid regular expression for {c.path}: {exc}") from exc


def _check_repeats(node: ObsExpr) -> None:
    """REPEATS counts distinct events, so it applies to observations and ORs of them only."""
    if isinstance(node, Repeats):
        if not _countable(node.expr):
            raise Unsupported("REPEATS is evaluated on observations and ORs of observations only")
        return
    for child in _children(node):
        _check_repeats(child)


def _countable(node: ObsExpr) -> bool:
    if isinstance(node, Observation):
        return True
    if isinstance(node, ObsOr):
        return all(_countable(item) for item in node.items)
    return isinstance(node, StartStop) and _countable(node.expr)


def _children(node: ObsExpr) -> tuple[ObsExpr, ...]:
    if isinstance(node, ObsAnd | ObsOr):
        return node.items
    if isinstance(node, FollowedBy):
        return (node.first, node.then)
    if isinstance(node, Observation):
        return ()
    return (node.expr,)


def _number(node: ObsExpr, leaves: list[CompExpr]) -> ObsExpr:
    """The tree with each observation numbered by its place in ``leaves`` (shared when equal)."""
    if isinstance(node, Observation):
        if node.expr not in leaves:
            leaves.append(node.expr)
        return Observation(node.expr, leaves.index(node.expr))
    if isinstance(node, ObsAnd | ObsOr):
        return type(node)(tuple(_number(i, leaves) for i in node.items))
    if isinstance(node, FollowedBy):
        return FollowedBy(_number(node.first, leaves), _number(node.then, leaves))
    if isinstance(node, StartStop):
        return StartStop(_number(node.expr, leaves), node.start, node.stop)
    if isinstance(node, Within):
        return Within(_number(node.expr, leaves), node.micros)
    return Repeats(_number(node.expr, leaves), node.times)


# ----------------------------------------------------------------------------- predicates
def predicate(expr: CompExpr, table: ibis.Table, fields: Mapping[str, Sequence[str]]) -> ir.BooleanValue:
    """The comparison expression of one observation as a row filter on ``table``.

    A comparison holds when some column carrying its path holds it; paths with no column
    in the table hold nowhere.
    """
    if isinstance(expr, Comparison):
        return (
            _any(_on_column(expr, table[c]) for c in _columns(expr.path, table, fields))
            if not (expr.op == "EXISTS" and expr.negated)
            else _all(table[c].isnull() for c in _columns(expr.path, table, fields))
        )
    if isinstance(expr, AnyOf):
        return _any(predicate(item, table, fields) for item in expr.items)
    bound: dict[str, list[Comparison]] = {}
    rest: list[CompExpr] = []
    for item in expr.items:
        if isinstance(item, Comparison) and item.object_type in SINGLE_VALUED and not item.negated:
            bound.setdefault(item.path, []).append(item)
        else:
            rest.append(item)
    parts = [predicate(item, table, fields) for item in rest]
    for path, comparisons in bound.items():
        parts.append(
            _any(_all(_on_column(c, table[col]) for c in comparisons) for col in _columns(path, table, fields))
        )
    return _all(parts)


def _columns(path: str, table: ibis.Table, fields: Mapping[str, Sequence[str]]) -> list[str]:
    return [c for c in fields.get(path, ()) if c in table.columns]


def _any(parts: Any) -> ir.BooleanValue:
    items = list(parts)
    return reduce(lambda a, b: a | b, items) if items else ibis.literal(False)


def _all(parts: Any) -> ir.BooleanValue:
    items = list(parts)
    return reduce(lambda a, b: a & b, items) if items else ibis.literal(True)


def _on_column(c: Comparison, column: ir.Column) -> ir.BooleanValue:
    text = column.cast("string")
    if folds_case(c.path):
        text = text.lower()
    present = column.notnull() & (text != "")
    if c.op == "EXISTS":
        return present
    test = _test(c, column, text)
    return present & ~test if c.negated else present & test


def _test(c: Comparison, column: ir.Column, text: ir.StringValue) -> ir.BooleanValue:
    op, value = c.op, c.value
    if op == "!=":
        return ~_equals(c.path, column, text, value)
    if op == "=":
        return _equals(c.path, column, text, value)
    if op == "IN":
        assert isinstance(value, tuple)
        return _any(_equals(c.path, column, text, v) for v in value)
    if op in ("<", "<=", ">", ">="):
        left, right = _ordered(c.path, column, text, value)
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
    if op == "LIKE":
        return text.like(_fold(c.path, str(value)))
    if op == "MATCHES":
        flags = "(?i)" if folds_case(c.path) else ""
        return column.cast("string").re_search(flags + str(value))
    network = parse_network(str(value))
    assert network is not None
    if op == "ISSUBSET":
        return in_network(text, network)
    return contains_network(text, network)  # ISSUPERSET


def _fold(path: str, value: str) -> str:
    return value.lower() if folds_case(path) else value


def _equals(path: str, column: ir.Column, text: ir.StringValue, value: Any) -> ir.BooleanValue:
    if isinstance(value, bool):
        return text.lower().isin(["true", "1"] if value else ["false", "0"])
    if isinstance(value, int | float):
        return column.cast("string").try_cast("float64") == float(value)
    if isinstance(value, dt.datetime):
        return column.cast("string").try_cast("timestamp('UTC')") == value
    if is_address(path) and (network := parse_network(value)) is not None:
        full = 32 if network.version == 4 else 128
        if network.prefixlen < full:
            return in_network(text, network)  # '=' with a CIDR: the range is what the writer means
        return same_address(text, network.network_address)
    return text == _fold(path, value)


def _ordered(path: str, column: ir.Column, text: ir.StringValue, value: Any) -> tuple[ir.Value, Any]:
    if isinstance(value, int | float):
        return column.cast("string").try_cast("float64"), float(value)
    if isinstance(value, dt.datetime):
        return column.cast("string").try_cast("timestamp('UTC')"), value
    return text, _fold(path, str(value))


# ------------------------------------------------------------------------ IP expressions
def ipv4_number(text: ir.StringValue) -> ir.IntegerValue:
    """A dotted-quad IPv4 address as an integer (null for anything else).

    Four parts that each cast to an unsigned byte: four times cheaper than a regular
    expression guard, which matters on every address and token of a large workspace.
    """
    parts = text.split(".")
    octets = [parts[i].try_cast("uint8").cast("int64") for i in range(4)]
    number = octets[0] * 16_777_216 + octets[1] * 65_536 + octets[2] * 256 + octets[3]
    return ibis.ifelse(parts.length() == 4, number, ibis.null("int64"))


def ipv6_hex(text: ir.StringValue) -> ir.StringValue:
    """An IPv6 address as 32 lower-case hex digits (null for anything else); zone ids dropped."""
    address = text.lower().split("%")[0]
    halves = address.split("::")
    head = halves[0]
    tail = ibis.ifelse(halves.length() == 2, halves[1], "")
    head_groups = ibis.ifelse(head == "", ibis.literal([], "array<string>"), head.split(":"))
    tail_groups = ibis.ifelse(tail == "", ibis.literal([], "array<string>"), tail.split(":"))
    missing = 8 - head_groups.length() - tail_groups.length()
    groups = ibis.ifelse(
        halves.length() == 2, head_groups.concat(ibis.literal(["0"]) * missing, tail_groups), head_groups
    )
    digits = groups.map(lambda g: g.lpad(4, "0")).join("")
    valid = (
        address.re_search(r"^[0-9a-f:]+$")
        & ~address.re_search(r"[0-9a-f]{5}|:::")
        & (halves.length() <= 2)
        & (groups.length() == 8)
        & (digits.length() == 32)
    )
    return ibis.ifelse(valid, digits, ibis.null("string"))


def v6_digits(address: ipaddress.IPv6Address) -> str:
    return f"{int(address):032x}"


def same_address(text: ir.StringValue, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ir.BooleanValue:
    """``text`` spells ``address`` (IPv6 in any spelling)."""
    if address.version == 4:
        return text == address.compressed
    return (text == address.compressed) | (text.contains(":") & (ipv6_hex(text) == v6_digits(address)))


def in_network(text: ir.StringValue, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> ir.BooleanValue:
    """The address in ``text`` lies in ``network``."""
    if network.version == 4:
        first = int(network.network_address)
        return ipv4_number(text).between(first, first + network.num_addresses - 1)
    low = v6_digits(network.network_address)  # type: ignore[arg-type]
    high = v6_digits(network.broadcast_address)  # type: ignore[arg-type]
    digits = ipv6_hex(text)
    return text.contains(":") & (digits >= low) & (digits <= high)


def contains_network(text: ir.StringValue, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> ir.BooleanValue:
    """The value in ``text`` (an address, or an IPv4 CIDR) contains ``network``."""
    if network.version == 6:
        return same_address(text, network.network_address) if network.prefixlen == 128 else ibis.literal(False)
    parts = text.split("/")
    length = ibis.ifelse(parts.length() == 2, parts[1].try_cast("int64"), 32)
    size = (ibis.literal(2).pow(32 - length)).cast("int64")
    start = (ipv4_number(parts[0]) // size) * size
    first = int(network.network_address)
    return (
        length.between(0, network.prefixlen)
        & (start <= first)
        & (start + size - 1 >= first + network.num_addresses - 1)
    )


# ----------------------------------------------------------------------------- evaluation
class TooManyWindows(PatternError):
    """WITHIN over more candidate windows than the evaluator considers."""


MAX_WINDOWS = 50_000


class Evaluation:
    """Observation operators over the events each observation matched.

    ``hits[i]`` lists the (timestamp in microseconds, key) of the events matching leaf i.
    Every operator is monotone in the events, so each node is judged by the earliest
    instant its match can be complete (``earliest``) and the latest instant one can
    start (``latest``) within a time window: ``a FOLLOWEDBY b`` holds when b matches
    at or after the earliest completion of a; ``x WITHIN n SECONDS`` when x matches
    inside some window of n seconds starting at one of its events.
    """

    def __init__(self, hits: Sequence[Sequence[tuple[int, Key]]]) -> None:
        self.hits = [sorted(h, key=lambda tk: tk[0]) for h in hits]
        self.times = [[t for t, _ in h] for h in self.hits]

    def matches(self, node: ObsExpr) -> set[Key]:
        """Keys of the events that take part in a match (empty when the pattern does not match)."""
        lo, hi = -(2**63), 2**63 - 1
        if self.earliest(node, lo, hi) is None:
            return set()
        return self.evidence(node, lo, hi)

    def _span(self, leaf: int, lo: int, hi: int) -> tuple[int, int]:
        times = self.times[leaf]
        return bisect.bisect_left(times, lo), bisect.bisect_right(times, hi)

    def earliest(self, node: ObsExpr, lo: int, hi: int) -> int | None:
        if lo > hi:
            return None
        if isinstance(node, Observation):
            start, end = self._span(node.leaf, lo, hi)
            return self.times[node.leaf][start] if start < end else None
        if isinstance(node, ObsOr):
            found = [t for t in (self.earliest(i, lo, hi) for i in node.items) if t is not None]
            return min(found) if found else None
        if isinstance(node, ObsAnd):
            found = [self.earliest(i, lo, hi) for i in node.items]
            return None if any(t is None for t in found) else max(found)  # type: ignore[type-var]
        if isinstance(node, FollowedBy):
            first = self.earliest(node.first, lo, hi)
            return None if first is None else self.earliest(node.then, first, hi)
        if isinstance(node, StartStop):
            return self.earliest(node.expr, max(lo, node.start), min(hi, node.stop - 1))
        if isinstance(node, Repeats):
            times = self._distinct_times(node.expr, lo, hi)
            return times[node.times - 1] if len(times) >= node.times else None
        best: int | None = None
        for start in self._starts(node.expr, lo, hi):
            if best is not None and start > best:
                break
            found = self.earliest(node.expr, start, min(hi, start + node.micros))
            if found is not None and (best is None or found < best):
                best = found
        return best

    def latest(self, node: ObsExpr, lo: int, hi: int) -> int | None:
        if lo > hi:
            return None
        if isinstance(node, Observation):
            start, end = self._span(node.leaf, lo, hi)
            return self.times[node.leaf][end - 1] if start < end else None
        if isinstance(node, ObsOr):
            found = [t for t in (self.latest(i, lo, hi) for i in node.items) if t is not None]
            return max(found) if found else None
        if isinstance(node, ObsAnd):
            found = [self.latest(i, lo, hi) for i in node.items]
            return None if any(t is None for t in found) else min(found)  # type: ignore[type-var]
        if isinstance(node, FollowedBy):
            then = self.latest(node.then, lo, hi)
            return None if then is None else self.latest(node.first, lo, then)
        if isinstance(node, StartStop):
            return self.latest(node.expr, max(lo, node.start), min(hi, node.stop - 1))
        if isinstance(node, Repeats):
            times = self._distinct_times(node.expr, lo, hi)
            return times[-node.times] if len(times) >= node.times else None
        best: int | None = None
        for start in reversed(self._starts(node.expr, lo, hi)):
            if best is not None and start + node.micros < best:
                break
            found = self.latest(node.expr, start, min(hi, start + node.micros))
            if found is not None and (best is None or found > best):
                best = found
        return best

    def evidence(self, node: ObsExpr, lo: int, hi: int) -> set[Key]:
        """Keys of events in [lo, hi] that take part in a match of ``node`` (which holds there)."""
        if isinstance(node, Observation):
            start, end = self._span(node.leaf, lo, hi)
            return {key for _, key in self.hits[node.leaf][start:end]}
        if isinstance(node, ObsOr | ObsAnd):
            return set().union(*(self.evidence(i, lo, hi) for i in node.items if self.earliest(i, lo, hi) is not None))
        if isinstance(node, FollowedBy):
            first, then = self.earliest(node.first, lo, hi), self.latest(node.then, lo, hi)
            assert first is not None and then is not None
            return self.evidence(node.first, lo, then) | self.evidence(node.then, first, hi)
        if isinstance(node, StartStop):
            return self.evidence(node.expr, max(lo, node.start), min(hi, node.stop - 1))
        if isinstance(node, Repeats):
            return self.evidence(node.expr, lo, hi)
        out: set[Key] = set()
        for start in self._starts(node.expr, lo, hi):
            end = min(hi, start + node.micros)
            if self.earliest(node.expr, start, end) is not None:
                out |= self.evidence(node.expr, start, end)
        return out

    def _leaves(self, node: ObsExpr) -> Iterator[int]:
        if isinstance(node, Observation):
            yield node.leaf
        for child in _children(node):
            yield from self._leaves(child)

    def _starts(self, node: ObsExpr, lo: int, hi: int) -> list[int]:
        starts: set[int] = set()
        for leaf in set(self._leaves(node)):
            start, end = self._span(leaf, lo, hi)
            starts.update(self.times[leaf][start:end])
        if len(starts) > MAX_WINDOWS:
            raise TooManyWindows(f"WITHIN over {len(starts):,} candidate windows (more than {MAX_WINDOWS:,})")
        return sorted(starts)

    def _distinct_times(self, node: ObsExpr, lo: int, hi: int) -> list[int]:
        """Timestamps of the distinct events an OR of observations matched in [lo, hi]."""
        events: dict[Key, int] = {}
        for leaf, start, stop in self._windows(node, lo, hi):
            first, end = self._span(leaf, start, stop)
            for t, key in self.hits[leaf][first:end]:
                events[key] = t
        return sorted(events.values())

    def _windows(self, node: ObsExpr, lo: int, hi: int) -> Iterator[tuple[int, int, int]]:
        if isinstance(node, Observation):
            yield node.leaf, lo, hi
        elif isinstance(node, StartStop):
            yield from self._windows(node.expr, max(lo, node.start), min(hi, node.stop - 1))
        else:
            for item in _children(node):
                yield from self._windows(item, lo, hi)
