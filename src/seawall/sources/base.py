"""What every evidence format provides, and the registry that lets formats stay pluggable.

A format can *sniff* the first bytes of a file (returning a confidence from 0 to 1) and
*parse* a file into batches. Each batch carries the events it made and the records it
had to quarantine, so that for every file: records read = events + quarantined.
"""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from seawall.store.schema import QUARANTINE_SCHEMA


@dataclass(frozen=True)
class ReadOptions:
    """Choices that change how records are read.

    ``reference_time`` anchors timestamps that carry no year (RFC 3164): they get the
    reference's year, or the year before when that would put them more than a day after
    the reference. Without it, each file's modification time is the reference.
    ``timezone`` is the zone of clocks that print none; device clocks that print a known
    abbreviation (``PDT``, ``CET``) are read in that zone.
    """

    reference_time: dt.datetime | None = None
    timezone: str = "UTC"  # IANA zone for timestamps that carry none (BSD syslog, device clocks)

    def reference_for(self, path: Path) -> dt.datetime:
        if self.reference_time is not None:
            return self.reference_time
        return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)


@dataclass
class ParsedBatch:
    """Events and quarantined records made from one chunk of a file."""

    events: pa.Table
    quarantine: pa.Table
    records: int  # records read in this chunk: events.num_rows + quarantine.num_rows
    position: int  # bytes of the file on disk consumed so far
    notes: list[str] = field(default_factory=list)


class SourceFormat(ABC):
    """One evidence format. Subclasses set ``name`` and ``description`` and register."""

    name: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    def sniff(self, head: bytes) -> float:
        """Confidence (0..1) that a file starting with ``head`` is in this format."""

    @abstractmethod
    def parse(self, path: Path, options: ReadOptions) -> Iterator[ParsedBatch]:
        """Stream the file as batches. Raise EvidenceError when the file cannot be read on."""


_REGISTRY: dict[str, SourceFormat] = {}


def register(cls: type[SourceFormat]) -> type[SourceFormat]:
    """Class decorator: make a format available to auto-detection and ``--format``."""
    _REGISTRY[cls.name] = cls()
    return cls


def formats() -> dict[str, SourceFormat]:
    return dict(_REGISTRY)


def quarantine_table(
    reasons: pa.Array | list[str],
    path: str,
    fmt: str,
    offsets: pa.Array | list[int],
    numbers: pa.Array | list[int],
    records: pa.Array | list[str],
) -> pa.Table:
    """Build quarantine rows: why, where (path, byte offset, line) and the record itself."""
    n = len(reasons)
    return pa.Table.from_arrays(
        [
            pa.array(reasons, pa.string()),
            pa.array([path] * n, pa.string()),
            pa.array([fmt] * n, pa.string()),
            pa.array(offsets, pa.int64()),
            pa.array(numbers, pa.int64()),
            pa.array(records).cast(pa.string()),
        ],
        schema=QUARANTINE_SCHEMA,
    )


def share_matching(head: bytes, patterns: list[re.Pattern[str]]) -> float:
    """Sniffing by lines: the share of a head's complete lines that one of the patterns matches."""
    lines = complete_lines(head)
    if not lines:
        return 0.0
    return sum(1 for line in lines if any(p.match(line) for p in patterns)) / len(lines)


def drop_empty_columns(events: pa.Table, optional: Iterable[str]) -> pa.Table:
    """Leave out the optional columns no event of a batch has, so the store is not widened
    by every field a format could carry."""
    empty = [name for name in optional if name in events.column_names and events[name].null_count == events.num_rows]
    return events.drop_columns(empty) if empty else events


def complete_lines(head: bytes, limit: int = 50) -> list[str]:
    """The first non-blank lines of a file head, without a last line the head cut off."""
    text = head.decode("utf-8", "replace")
    lines = text.splitlines()
    if lines and not text.endswith(("\n", "\r")) and len(lines) > 1:
        lines.pop()
    return [line for line in lines[:limit] if line.strip()]
