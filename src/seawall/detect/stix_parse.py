"""STIX 2.1 patterns read into a syntax tree: observations, comparisons, literals, paths.

The ANTLR grammar of stix2-patterns parses; this module turns its parse tree into the
small dataclasses below, with object paths in canonical form (hash names as STIX spells
them) and literals as Python values.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

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
        value = string_literal(ctx.StringLiteral().getText())
    return Comparison(path, op, value, negated)


# ------------------------------------------------------------------------------ literals
_INT = re.compile(r"[+-]?\d+")


def string_literal(token: str) -> str:
    return token[1:-1].replace("\\'", "'").replace("\\\\", "\\")


def _literal(token: str) -> Literal:
    if token.startswith("'"):
        return string_literal(token)
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
    steps = [string_literal(first.getText()) if first.StringLiteral() else first.getText()]
    rest = ctx.objectPathComponent()
    if rest is not None:
        steps.extend(_steps(rest))
    return canonical_path(ctx.objectType().getText(), steps)


def _steps(ctx: Any) -> Iterator[str]:
    if isinstance(ctx, P.PathStepContext):
        for child in ctx.objectPathComponent():
            yield from _steps(child)
    elif isinstance(ctx, P.KeyPathStepContext):
        yield (
            string_literal(ctx.StringLiteral().getText())
            if ctx.StringLiteral()
            else ctx.IdentifierWithoutHyphen().getText()
        )
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


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """An address or CIDR (host bits cleared), or None when the text is neither."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def children(node: ObsExpr) -> tuple[ObsExpr, ...]:
    if isinstance(node, ObsAnd | ObsOr):
        return node.items
    if isinstance(node, FollowedBy):
        return (node.first, node.then)
    if isinstance(node, Observation):
        return ()
    return (node.expr,)
