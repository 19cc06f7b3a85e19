"""Compile a parsed Sigma rule's condition into an Ibis boolean expression over the events.

Matching follows the Sigma specification: strings compare case-insensitively unless the
``cased`` modifier is used; ``*`` and ``?`` are wildcards; keywords (field-less values)
search the whole record text. Each leaf is two-valued (a missing field or NULL value is
"no match", never NULL), so ``not`` behaves as rule authors expect.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Callable, Mapping

import ibis
import ibis.expr.types as ir
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.rule import SigmaRule
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)

from seawall.store.schema import MESSAGE, ORIGINAL

_RE_SPECIAL = set(".^$*+?()[]{}|\\")
_REGEX_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}


class Unsupported(Exception):
    """The rule uses something this compiler does not handle; the rule is skipped with this reason."""


class RuleCompiler:
    """Compiles rules against one events table, resolving Sigma field names to its columns."""

    def __init__(self, table: ibis.Table) -> None:
        self.table = table
        self._columns = {name.lower(): name for name in table.columns}
        self.missing_fields: set[str] = set()  # fields of the last rule compiled that the store lacks

    def compile(self, rule: SigmaRule) -> ir.BooleanValue:
        self.missing_fields = set()
        conditions = [self._node(cond.parsed) for cond in rule.detection.parsed_condition]
        return _any(conditions)

    # -- tree -------------------------------------------------------------------
    def _node(self, node: object) -> ir.BooleanValue:
        if isinstance(node, ConditionAND):
            return _all([self._node(arg) for arg in node.args])
        if isinstance(node, ConditionOR):
            return _any([self._node(arg) for arg in node.args])
        if isinstance(node, ConditionNOT):
            return ~self._node(node.args[0])
        if isinstance(node, ConditionFieldEqualsValueExpression) and node.field is None:
            return self._keyword(node.value)
        if isinstance(node, ConditionFieldEqualsValueExpression):
            column = self._column(node.field)
            if column is None:
                return ibis.literal(_matches_absent_field(node.value))
            return self._value(column, node.value).fill_null(False)
        if isinstance(node, ConditionValueExpression):
            return self._keyword(_unanchored(node.value))
        raise Unsupported(f"condition element {type(node).__name__}")

    def _column(self, field: str) -> ir.Value | None:
        name = self._columns.get(field.lower())
        if name is None:
            self.missing_fields.add(field)
            return None
        return self.table[name]

    def _keyword(self, value: object) -> ir.BooleanValue:
        """A keyword matches the record as read (a device message with its header and
        ``%FACILITY-SEVERITY-MNEMONIC`` tag; a JSON line as written) or its decoded message."""
        texts = [self.table[name].cast("string") for name in (ORIGINAL, MESSAGE) if name in self.table.columns]
        if not texts:
            raise Unsupported("keyword search needs a message or event.original column")
        return _any([self._value(text, value).fill_null(False) for text in texts])

    # -- values -----------------------------------------------------------------
    def _value(self, column: ir.Column, value: object) -> ir.BooleanValue:
        handler = _HANDLERS.get(type(value))
        if handler is not None:
            return handler(self, column, value)
        raise Unsupported(f"value type {type(value).__name__}")

    def _string(self, column: ir.Column, value: SigmaString) -> ir.BooleanValue:
        text = column.cast("string")
        cased = isinstance(value, SigmaCasedString)
        if not value.contains_special():
            plain = "".join(str(part) for part in value.s)  # escapes already resolved, unlike to_plain()
            return text == plain if cased else text.lower() == plain.lower()
        return text.re_search(_wildcard_regex(value, cased))

    def _expansion(self, column: ir.Column, value: SigmaExpansion) -> ir.BooleanValue:
        return _any([self._value(column, v).fill_null(False) for v in value.values])

    def _field_ref(self, column: ir.Column, value: SigmaFieldReference) -> ir.BooleanValue:
        other = self._column(value.field)
        if other is None:
            return ibis.literal(False)
        left, right = column.cast("string").lower(), other.cast("string").lower()
        if value.starts_with:
            return left.startswith(right)
        if value.ends_with:
            return left.endswith(right)
        return left == right


def _number(_: RuleCompiler, column: ir.Column, value: SigmaNumber) -> ir.BooleanValue:
    return column.cast("string").try_cast("float64") == float(value.number)


def _compare(_: RuleCompiler, column: ir.Column, value: SigmaCompareExpression) -> ir.BooleanValue:
    number = column.cast("string").try_cast("float64")
    target = float(value.number.number)
    ops: dict[CompareOperators, Callable[[ir.FloatingValue], ir.BooleanValue]] = {
        CompareOperators.LT: lambda n: n < target,
        CompareOperators.LTE: lambda n: n <= target,
        CompareOperators.GT: lambda n: n > target,
        CompareOperators.GTE: lambda n: n >= target,
        CompareOperators.NEQ: lambda n: n != target,
    }
    return ops[value.op](number)


def _regex(_: RuleCompiler, column: ir.Column, value: SigmaRegularExpression) -> ir.BooleanValue:
    flags = "".join(sorted(_REGEX_FLAGS[f] for f in value.flags))
    pattern = str(value.regexp.to_plain() if isinstance(value.regexp, SigmaString) else value.regexp)
    return column.cast("string").re_search(f"(?{flags}){pattern}" if flags else pattern)


def _cidr(_: RuleCompiler, column: ir.Column, value: SigmaCIDRExpression) -> ir.BooleanValue:
    network = value.network
    if not isinstance(network, ipaddress.IPv4Network):
        raise Unsupported(f"IPv6 CIDR {value.cidr}")
    number = ipv4_number(column.cast("string"))
    return number.between(int(network.network_address), int(network.broadcast_address))


def _null(_: RuleCompiler, column: ir.Column, value: SigmaNull) -> ir.BooleanValue:
    return column.isnull() | (column.cast("string") == "")


def _exists(_: RuleCompiler, column: ir.Column, value: SigmaExists) -> ir.BooleanValue:
    present = column.notnull()
    return present if value.exists else ~present


def _bool(_: RuleCompiler, column: ir.Column, value: SigmaBool) -> ir.BooleanValue:
    return column.cast("string").lower() == ("true" if value.boolean else "false")


_HANDLERS: Mapping[type, Callable[..., ir.BooleanValue]] = {
    SigmaString: RuleCompiler._string,
    SigmaCasedString: RuleCompiler._string,
    SigmaExpansion: RuleCompiler._expansion,
    SigmaFieldReference: RuleCompiler._field_ref,
    SigmaNumber: _number,
    SigmaCompareExpression: _compare,
    SigmaRegularExpression: _regex,
    SigmaCIDRExpression: _cidr,
    SigmaNull: _null,
    SigmaExists: _exists,
    SigmaBool: _bool,
}


def ipv4_number(text: ir.StringValue) -> ir.IntegerValue:
    """Dotted-quad text -> 32-bit number (NULL when the text is not an IPv4 address)."""
    valid = text.re_search(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")
    parts = text.split(".")
    number = (
        parts[0].cast("int64") * 16777216
        + parts[1].cast("int64") * 65536
        + parts[2].cast("int64") * 256
        + parts[3].cast("int64")
    )
    return ibis.ifelse(valid, number, ibis.null("int64"))


def _wildcard_regex(value: SigmaString, cased: bool) -> str:
    """Sigma wildcards -> an RE2 pattern (``*`` any run, ``?`` one character), anchored
    at each end that has no leading/trailing ``*``."""
    parts = list(value.s)
    head = "" if parts and parts[0] == SpecialChars.WILDCARD_MULTI else "^"
    tail = "" if parts and parts[-1] == SpecialChars.WILDCARD_MULTI else "$"
    if not head:
        parts = parts[1:]
    if not tail:
        parts = parts[:-1]
    out = []
    for part in parts:
        if part == SpecialChars.WILDCARD_MULTI:
            out.append(".*")
        elif part == SpecialChars.WILDCARD_SINGLE:
            out.append(".")
        elif isinstance(part, str):
            out.append("".join("\\" + c if c in _RE_SPECIAL else c for c in part))
        else:
            raise Unsupported(f"placeholder {part}")
    return ("(?s)" if cased else "(?is)") + head + "".join(out) + tail


def _matches_absent_field(value: object) -> bool:
    """An absent field is null in every event: only ``null`` and ``exists: false`` match it."""
    if isinstance(value, SigmaExpansion):
        return any(_matches_absent_field(v) for v in value.values)
    return isinstance(value, SigmaNull) or (isinstance(value, SigmaExists) and not value.exists)


def _unanchored(value: object) -> object:
    """Keywords search the record text: a keyword matches anywhere, as if wrapped in ``*``."""
    if isinstance(value, SigmaExpansion):
        return SigmaExpansion([_unanchored(v) for v in value.values])
    if isinstance(value, SigmaNumber):  # a numeric keyword is the digits written anywhere
        value = SigmaString(str(value.number))
    if type(value) is SigmaString or type(value) is SigmaCasedString:
        parts = list(value.s)
        if not parts or parts[0] != SpecialChars.WILDCARD_MULTI:
            parts.insert(0, SpecialChars.WILDCARD_MULTI)
        if parts[-1] != SpecialChars.WILDCARD_MULTI:
            parts.append(SpecialChars.WILDCARD_MULTI)
        clone = copy.copy(value)
        clone.s = parts
        return clone
    return value


def _all(items: list[ir.BooleanValue]) -> ir.BooleanValue:
    out = items[0]
    for item in items[1:]:
        out = out & item
    return out


def _any(items: list[ir.BooleanValue]) -> ir.BooleanValue:
    out = items[0]
    for item in items[1:]:
        out = out | item
    return out
