"""Indicator lists as a detector: known-bad IPs, domains, URLs, e-mail addresses and hashes.

Reads plain lists (one value per line) and CSV (``value,type[,tags[,severity]]``, header
optional). Values are matched exactly against the columns that can carry their type
(content/intel_fields.yaml) and as whole tokens inside each event's text. STIX and MISP
input, CIDR ranges and validity windows come with the threat-intelligence engine.
"""

from __future__ import annotations

import csv
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from pathlib import Path

import ibis
import pyarrow as pa

from seawall.content import column_map
from seawall.detect.base import Detector, EventStore, HuntContext, register, summarise
from seawall.detect.finding import SEVERITIES, Finding
from seawall.errors import ContentError
from seawall.store.schema import MESSAGE, ORIGINAL

TYPES = ("ip", "domain", "url", "email", "hash")
_HASH = re.compile(r"^[0-9a-f]{32}$|^[0-9a-f]{40}$|^[0-9a-f]{64}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ALIASES = {
    "ipv4": "ip",
    "ipv6": "ip",
    "ip-dst": "ip",
    "ip-src": "ip",
    "hostname": "domain",
    "fqdn": "domain",
    "md5": "hash",
    "sha1": "hash",
    "sha256": "hash",
    "email-src": "email",
    "email-dst": "email",
}


@dataclass(frozen=True)
class Indicator:
    value: str
    type: str
    tags: str = ""
    severity: str = "high"
    source: str = ""


def infer_type(value: str) -> str | None:
    """The indicator type of a bare value, or None when it is none of the supported types."""
    try:
        ipaddress.ip_address(value)
        return "ip"
    except ValueError:
        pass
    if value.startswith(("http://", "https://", "ftp://")):
        return "url"
    if "@" in value and _DOMAIN.match(value.rsplit("@", 1)[1]):
        return "email"
    if _HASH.match(value):
        return "hash"
    if _DOMAIN.match(value):
        return "domain"
    return None


def load_indicators(path: Path) -> tuple[list[Indicator], list[str]]:
    """Read an indicator file; return the indicators and one problem line per rejected row."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(f"{path}: cannot read indicator file: {exc}") from exc
    indicators, problems = [], []
    first_row = True
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        value = row[0].strip().lower()
        if first_row and value in ("value", "indicator", "ioc"):
            first_row = False
            continue
        first_row = False
        given = row[1].strip().lower() if len(row) > 1 and row[1].strip() else None
        kind = _ALIASES.get(given, given) if given else infer_type(value)
        if kind not in TYPES:
            problems.append(
                f"{path}:{number}: cannot tell the type of {value!r}"
                if not given
                else f"{path}:{number}: unsupported indicator type {given!r}"
            )
            continue
        severity = row[3].strip().lower() if len(row) > 3 and row[3].strip() else "high"
        if severity not in SEVERITIES:
            problems.append(f"{path}:{number}: unknown severity {severity!r}, using high")
            severity = "high"
        tags = row[2].strip() if len(row) > 2 else ""
        if kind == "ip":
            try:
                value = ipaddress.ip_address(value).compressed  # 2001:0db8::0066 -> 2001:db8::66
            except ValueError:
                problems.append(f"{path}:{number}: {value!r} is not an IP address")
                continue
        indicators.append(Indicator(value, kind, tags, severity, path.name))
    return indicators, problems


def intel_fields() -> dict[str, tuple[str, ...]]:
    """Indicator type -> event columns that can carry it (content/intel_fields.yaml)."""
    return column_map("intel_fields.yaml")


@register
class IntelDetector(Detector):
    name = "intel"

    def check(self, ctx: HuntContext) -> None:
        for path in ctx.intel_paths:
            load_indicators(path)

    def run(self, store: EventStore, ctx: HuntContext) -> Iterable[Finding]:
        indicators: dict[tuple[str, str], Indicator] = {}
        for path in ctx.intel_paths:
            loaded, problems = load_indicators(path)
            for problem in problems:
                ctx.skip(self.name, str(path), problem)
            for ind in loaded:
                indicators.setdefault((ind.type, ind.value), ind)
        if not indicators:
            return
        ctx.ran[self.name] = len(indicators)
        events = store.events()
        table = ibis.memtable(
            pa.table({"_ioc_type": [k[0] for k in indicators], "_ioc_value": [k[1] for k in indicators]})
        )
        parts = []
        for kind, columns in intel_fields().items():
            of_kind = table.filter(table["_ioc_type"] == kind)
            for column in columns:
                if column in events.columns:
                    joined = events.join(of_kind, events[column].cast("string").lower() == of_kind["_ioc_value"])
                    parts.append(joined.select(*events.columns, "_ioc_type", "_ioc_value"))
        text_column = next((c for c in (ORIGINAL, MESSAGE) if c in events.columns), None)
        if text_column:
            # Every observable-shaped token of the text, joined with the indicators.
            text = events[text_column].lower()
            found = reduce(lambda a, b: a.concat(b), (regexp_extract_all(text, p, g) for p, g in TOKEN_PATTERNS))
            tokens = events.mutate(_ioc_hit=found)
            tokens = tokens.unnest("_ioc_hit")
            joined = tokens.join(table, tokens["_ioc_hit"] == table["_ioc_value"])
            parts.append(joined.select(*events.columns, "_ioc_type", "_ioc_value"))
        if not parts:
            return
        matched = ibis.union(*parts, distinct=True) if len(parts) > 1 else parts[0]
        for group in summarise(matched, ("_ioc_type", "_ioc_value"), ctx.max_evidence, ctx.keep_values):
            ind = indicators[(group.key["_ioc_type"], group.key["_ioc_value"])]
            entities = {**group.entities, "indicator": [ind.value]}
            yield Finding(
                rule_id=f"intel:{ind.type}:{ind.value}",
                title=f"Known-bad {ind.type} {ind.value} seen",
                severity=ind.severity,
                detector=self.name,
                description=f"Indicator {ind.value} from {ind.source}"
                + (f" (tags: {ind.tags})" if ind.tags else "")
                + f" appears in {group.count} event(s).",
                first_seen=group.first_seen,
                last_seen=group.last_seen,
                entities=entities,
                evidence=group.evidence,
                truncated_entities=group.truncated,
                event_count=group.count,
            )


@ibis.udf.scalar.builtin
def regexp_extract_all(haystack: str, pattern: str, group: int) -> list[str]:  # type: ignore[empty-body]
    """Every match of ``pattern`` (DuckDB and Spark both provide this function)."""


# Observable-shaped tokens of lower-cased text, found in passes because matches do not
# overlap: dotted names (domains, host names), IPv4 addresses and hashes, each found
# inside longer tokens too (a domain in a URL, a hash in a file name, 203.0.113.66.443);
# then URLs, e-mail addresses and IPv6 addresses taken whole.
TOKEN_PATTERNS: tuple[tuple[str, int], ...] = (  # (pattern, capture group)
    (r"[0-9a-z_-]+(?:\.[0-9a-z_-]+)+", 0),  # domain, host name (and dotted-quad text)
    (r"(?:^|[^0-9.])(\d{1,3}(?:\.\d{1,3}){3})", 1),  # IPv4 address, not the tail of a longer number
    (r"(?:^|[^0-9a-z])([0-9a-f]{32,64})", 1),  # hash
    (
        "|".join(
            [
                r"[a-z][a-z0-9+.-]*://[^\s\"'<>]+",  # URL
                r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+",  # e-mail address
                r"[0-9a-f]*:[0-9a-f:]*:[0-9a-f.:]*",  # IPv6 address
            ]
        ),
        0,
    ),
)
