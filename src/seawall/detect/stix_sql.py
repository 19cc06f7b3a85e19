"""Observations of STIX patterns as Ibis row filters, and the address expressions they use.

Within one observation, comparisons joined by AND hold on the same event; comparisons on
the same path of a single-valued object (an address, a domain) hold on the same column.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Mapping, Sequence
from functools import reduce
from typing import Any

import ibis
import ibis.expr.types as ir

from seawall.detect.stix_parse import (
    SINGLE_VALUED,
    AnyOf,
    Comparison,
    CompExpr,
    folds_case,
    is_address,
    parse_network,
)


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
