"""The detector interface, the hunt context, and the one way matches become findings.

Every detector implements ``run(store, ctx) -> Iterable[Finding]``. A detector selects
the events it matches as an Ibis table; ``summarise`` turns those rows into groups with
counts, time range, entities and evidence, so every detector reports the same way.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import ibis
import ibis.expr.types as ir

from seawall.content import column_map
from seawall.detect.finding import Evidence, Finding, iso_utc
from seawall.store.schema import (
    EVENT_ID,
    MESSAGE,
    ORIGINAL,
    SOURCE_LINE,
    SOURCE_OFFSET,
    SOURCE_PATH,
    TIMESTAMP,
)

MAX_EVIDENCE = 50
MAX_ENTITY_VALUES = 10_000  # per kind and finding; a longer list is cut and the cut reported
MAX_EVIDENCE_TEXT = 4_000  # characters of a record shown as evidence; the whole record stays in the store


class EventStore(Protocol):
    """What detectors need from a store: the events as an Ibis table and a way to run it."""

    @property
    def columns(self) -> list[str]: ...

    def events(self) -> ibis.Table: ...


@dataclass(frozen=True)
class Skipped:
    """Detection content that did not run, and why (shown in the run summary, never silent);
    also used for notes on content that ran."""

    detector: str
    item: str
    reason: str


@dataclass
class HuntContext:
    """Inputs and bookkeeping shared by the detectors of one hunt."""

    rule_paths: list[Path] = field(default_factory=list)
    logsources_path: Path | None = None
    silence_path: Path | None = None  # thresholds of the silence detector instead of the built-in ones
    profile_path: Path | None = None  # the operator's site profile (management ranges, approved servers...)
    ignore_validity: bool = False  # match indicators outside their valid_from/valid_until window too
    max_evidence: int = MAX_EVIDENCE
    # Entity values (lower case; numbers as bare digits) never cut from a finding's lists,
    # whatever their frequency: the protected registry's identifiers, so scope sees them.
    keep_values: frozenset[str] = frozenset()
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[Skipped] = field(default_factory=list)  # content that ran, with something to know about it
    ran: dict[str, int] = field(default_factory=dict)  # detector -> content items run

    def skip(self, detector: str, item: str, reason: str) -> None:
        self.skipped.append(Skipped(detector, item, reason))

    def note(self, detector: str, item: str, text: str) -> None:
        self.notes.append(Skipped(detector, item, text))


class Detector(ABC):
    name: ClassVar[str]

    def check(self, ctx: HuntContext) -> None:
        """Raise ContentError when this detector's content cannot be used at all.

        Runs before any evidence is read; problems with single items (one rule, one
        indicator row) are not errors here but skips reported by ``run``. A detector
        without content of its own has nothing to check.
        """
        return None

    @abstractmethod
    def run(self, store: EventStore, ctx: HuntContext) -> Iterable[Finding]:
        """Yield findings; record content that cannot run with ``ctx.skip``."""


_DETECTORS: dict[str, Detector] = {}


def register(cls: type[Detector]) -> type[Detector]:
    _DETECTORS[cls.name] = cls()
    return cls


def detectors() -> dict[str, Detector]:
    return dict(_DETECTORS)


def entity_columns() -> dict[str, tuple[str, ...]]:
    """Entity kind -> event columns that carry it (content/entities.yaml)."""
    return column_map("entities.yaml")


@dataclass
class MatchGroup:
    """Matching events that share the group key: the raw material of one finding."""

    key: dict[str, Any]
    count: int
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    entities: dict[str, list[str]]
    evidence: list[Evidence]
    truncated: dict[str, int]  # entity kind -> number of distinct values, where the list was cut


def summarise(
    matched: ibis.Table,
    group_by: Sequence[str],
    max_evidence: int = MAX_EVIDENCE,
    keep: frozenset[str] = frozenset(),
) -> list[MatchGroup]:
    """Group matching rows by ``group_by`` and collect counts, time range, entities and evidence.

    Runs a fixed, small number of queries whatever the number of matches: one aggregate,
    one for the first ``max_evidence`` events per group, one for entity values.
    """
    keys = list(group_by)
    ts = matched[TIMESTAMP]
    totals = (
        matched.group_by(keys).aggregate(_n=matched.count(), _first=ts.min(), _last=ts.max()).to_pyarrow().to_pylist()
    )
    if not totals:
        return []
    text_col = ORIGINAL if ORIGINAL in matched.columns else MESSAGE
    rank = ibis.row_number().over(
        group_by=[matched[k] for k in keys], order_by=[ts, matched[SOURCE_PATH], matched[SOURCE_OFFSET]]
    )
    evidence_rows = (
        matched.mutate(_rank=rank)
        .filter(ibis._["_rank"] < max_evidence)
        .select(
            *keys,
            *EVIDENCE_COLUMNS,
            **evidence_text(matched, text_col),
        )
        .order_by([*keys, TIMESTAMP, SOURCE_PATH, SOURCE_OFFSET])
        .to_pyarrow()
        .to_pylist()
    )
    evidence: dict[tuple, list[Evidence]] = {}
    for row in evidence_rows:
        evidence.setdefault(_key(row, keys), []).append(evidence_of(row))
    entities, truncated = _entities(matched, keys, keep)
    return [
        MatchGroup(
            key={k: row[k] for k in keys},
            count=row["_n"],
            first_seen=row["_first"],
            last_seen=row["_last"],
            entities=entities.get(_key(row, keys), {}),
            evidence=evidence.get(_key(row, keys), []),
            truncated=truncated.get(_key(row, keys), {}),
        )
        for row in totals
    ]


def _entities(
    matched: ibis.Table, keys: list[str], keep: frozenset[str]
) -> tuple[dict[tuple, dict[str, list[str]]], dict[tuple, dict[str, int]]]:
    """Distinct entity values per group, most frequent first, at most MAX_ENTITY_VALUES per
    kind (values in ``keep`` first, so a cut never drops them); and, for each list that was
    cut, how many distinct values there were."""
    parts = []
    for kind, columns in entity_columns().items():
        for column in columns:
            if column in matched.columns:
                parts.append(
                    matched.filter(matched[column].notnull() & (matched[column].cast("string") != "")).select(
                        *keys, _kind=ibis.literal(kind), _value=matched[column].cast("string")
                    )
                )
    if not parts:
        return {}, {}
    values = ibis.union(*parts) if len(parts) > 1 else parts[0]
    counted = values.group_by([*keys, "_kind", "_value"]).aggregate(_n=values.count())
    per_kind = [counted[k] for k in [*keys, "_kind"]]
    if keep:
        value = counted["_value"]
        kept = value.lower().isin(sorted(keep)) | value.re_replace("[^0-9]", "").isin(sorted(keep))
    else:
        kept = ibis.literal(False)
    rank = ibis.row_number().over(
        group_by=per_kind, order_by=[ibis.desc(kept), ibis.desc(counted["_n"]), counted["_value"]]
    )
    rows = (
        counted.mutate(_rank=rank, _total=counted["_value"].count().over(group_by=per_kind))
        .filter(ibis._["_rank"] < MAX_ENTITY_VALUES)
        .order_by([*keys, "_kind", ibis.desc("_n"), "_value"])
        .to_pyarrow()
        .to_pylist()
    )
    out: dict[tuple, dict[str, list[str]]] = {}
    cut: dict[tuple, dict[str, int]] = {}
    for row in rows:
        values_of_kind = out.setdefault(_key(row, keys), {}).setdefault(row["_kind"], [])
        if row["_value"] not in values_of_kind:
            values_of_kind.append(row["_value"])
        if row["_total"] > MAX_ENTITY_VALUES:
            cut.setdefault(_key(row, keys), {})[row["_kind"]] = row["_total"]
    return out, cut


EVIDENCE_COLUMNS = (EVENT_ID, SOURCE_PATH, SOURCE_OFFSET, SOURCE_LINE, TIMESTAMP)


def evidence_text(table: ibis.Table, column: str) -> dict[str, ir.Value]:
    """The columns ``evidence_of`` needs besides EVIDENCE_COLUMNS: the record's text, cut."""
    return {"_text": table[column].substr(0, MAX_EVIDENCE_TEXT), "_length": table[column].length()}


def evidence_of(row: dict[str, Any]) -> Evidence:
    """Evidence from a row of EVIDENCE_COLUMNS and ``evidence_text``: where to look, and what it says."""
    return Evidence(
        path=row[SOURCE_PATH],
        line=row[SOURCE_LINE],
        offset=row[SOURCE_OFFSET],
        event_id=row[EVENT_ID],
        timestamp=iso_utc(row[TIMESTAMP]),
        text=_shown(row["_text"], row["_length"]),
    )


def _shown(text: str | None, length: int | None) -> str | None:
    if text is None or length is None or length <= MAX_EVIDENCE_TEXT:
        return text
    return f"{text} [... {length - MAX_EVIDENCE_TEXT} more characters; the whole record is in the workspace]"


def _key(row: dict[str, Any], keys: list[str]) -> tuple:
    return tuple(row[k] for k in keys)
