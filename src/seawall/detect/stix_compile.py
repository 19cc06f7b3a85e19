"""STIX patterns compiled for matching: atoms for the join, plans for the rest.

A pattern whose only claim is "any of these values" (``=``, ``IN``, ``ISSUBSET`` a CIDR,
joined by OR) becomes **atoms**: (object path, value) pairs that a hash join matches against
millions of events. Any other pattern becomes a **plan**: one predicate per observation
(seawall.detect.stix_sql) and a tree of observation operators (seawall.detect.stix_eval).
What cannot be evaluated faithfully raises ``Unsupported`` with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from seawall.detect.stix_parse import (
    AllOf,
    AnyOf,
    Comparison,
    CompExpr,
    FollowedBy,
    ObsAnd,
    Observation,
    ObsExpr,
    ObsOr,
    PatternError,
    Repeats,
    StartStop,
    Unsupported,
    Within,
    canonical_path,
    children,
    folds_case,
    is_address,
    parse,
    parse_network,
    string_literal,
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
    return canonical_path(object_type, [string_literal(s) if s.startswith("'") else s for s in steps])


def quick_atoms(text: str) -> list[Atom] | None:
    """Atoms of a one-comparison pattern read by a regular expression, or None to use ``parse``."""
    match = _SIMPLE.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    object_type, raw, op, value = match.groups()
    path = simple_path(object_type, raw)
    atom = None if path is None else _atom(path, op, string_literal(f"'{value}'"))
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
    for child in children(node):
        _check_repeats(child)


def _countable(node: ObsExpr) -> bool:
    if isinstance(node, Observation):
        return True
    if isinstance(node, ObsOr):
        return all(_countable(item) for item in node.items)
    return isinstance(node, StartStop) and _countable(node.expr)


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
