"""Generic JSON lines: one JSON object per line (NDJSON), e.g. ECS documents or app audit logs.

Nested objects are flattened to dotted names (``{"source": {"ip": ..}}`` becomes
``source.ip``), so ECS-shaped documents land in ECS columns. Arrays and other non-scalar
values are kept as JSON text. Fields with a fixed type in the store are cast; a record
whose value cannot take that type is quarantined with the field named.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from seawall.sources.base import (
    ParsedBatch,
    ReadOptions,
    SourceFormat,
    complete_lines,
    quarantine_table,
    register,
)
from seawall.sources.conform import conform, split_by_reason
from seawall.sources.reader import iter_line_chunks
from seawall.store.schema import (
    DATASET,
    ORIGINAL,
    SOURCE_FORMAT,
    SOURCE_LINE,
    SOURCE_OFFSET,
    SOURCE_PATH,
    canonical_name,
)

MAX_FIELDS = 1000
RESERVED_PREFIX = "seawall."


def flatten(obj: dict[str, Any], prefix: str = "", out: dict[str, str | None] | None = None) -> dict[str, str | None]:
    """Flatten nested objects into dotted keys with text values (first key wins on a clash)."""
    out = {} if out is None else out
    for key, value in obj.items():
        name = canonical_name(f"{prefix}{key or '_'}")
        if isinstance(value, dict) and value:
            flatten(value, name + ".", out)
            continue
        if name in out or name.startswith(RESERVED_PREFIX):
            continue
        if value is None:
            out[name] = None
        elif isinstance(value, str):
            out[name] = value
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, (int, float)):
            out[name] = repr(value)
        else:
            out[name] = orjson.dumps(value).decode()
    return out


@register
class JsonLines(SourceFormat):
    name = "jsonl"
    description = "JSON lines (NDJSON): one JSON object per line, nested objects flattened to dotted ECS names"

    def sniff(self, head: bytes) -> float:
        lines = complete_lines(head)
        if not lines or not lines[0].lstrip().startswith("{"):
            return 0.0
        good = 0
        for line in lines:
            with suppress(orjson.JSONDecodeError):
                good += isinstance(orjson.loads(line), dict)
        return good / len(lines)

    def parse(self, path: Path, options: ReadOptions) -> Iterator[ParsedBatch]:
        source = str(path)
        for chunk in iter_line_chunks(path):
            texts = chunk.lines.to_pylist()
            offsets = chunk.offsets.to_pylist()
            numbers = chunk.numbers.to_pylist()
            rows: list[dict[str, str | None]] = []
            kept: list[int] = []
            bad: list[tuple[int, str]] = []
            for index, text in enumerate(texts):
                try:
                    obj = orjson.loads(text)
                except orjson.JSONDecodeError as exc:
                    bad.append((index, f"invalid JSON: {exc}"))
                    continue
                if not isinstance(obj, dict):
                    bad.append((index, f"not a JSON object but {type(obj).__name__}"))
                    continue
                row = flatten(obj)
                if len(row) > MAX_FIELDS:
                    bad.append((index, f"{len(row)} fields, more than the {MAX_FIELDS} allowed"))
                    continue
                rows.append(row)
                kept.append(index)

            table = _columnar(rows, kept, texts, offsets, numbers, source, self.name)
            events, rejected, reasons = split_by_reason(*conform(table))
            quarantined = [
                quarantine_table(
                    [r for _, r in bad],
                    source,
                    self.name,
                    [offsets[i] for i, _ in bad],
                    [numbers[i] for i, _ in bad],
                    [texts[i] for i, _ in bad],
                ),
                quarantine_table(
                    reasons, source, self.name, rejected[SOURCE_OFFSET], rejected[SOURCE_LINE], rejected[ORIGINAL]
                ),
            ]
            yield ParsedBatch(
                events=events,
                quarantine=pa.concat_tables(quarantined),
                records=len(texts),
                position=chunk.position,
                notes=["some lines are not UTF-8 and were read as Latin-1"] if chunk.lossy else [],
            )


def _columnar(
    rows: list[dict[str, str | None]],
    kept: list[int],
    texts: list[str],
    offsets: list[int],
    numbers: list[int],
    source: str,
    fmt: str,
) -> pa.Table:
    """Turn flattened rows into an Arrow table of text columns plus provenance.

    Names that differ only by case are one column (DuckDB cannot tell them apart): the
    first spelling names it and, within a record, the first value wins.
    """
    spelling: dict[str, str] = {}
    lowered = []
    for row in rows:
        values: dict[str, str | None] = {}
        for name, value in row.items():
            key = name.lower()
            spelling.setdefault(key, name)
            values.setdefault(key, value)
        lowered.append(values)
    columns = {spelling[key]: pa.array([row.get(key) for row in lowered], pa.string()) for key in spelling}
    n = len(rows)
    columns[DATASET] = pc.fill_null(columns.get(DATASET, pa.nulls(n, pa.string())), fmt)
    columns[ORIGINAL] = pa.array([texts[i] for i in kept], pa.string())
    columns[SOURCE_PATH] = pa.array([source] * n, pa.string())
    columns[SOURCE_FORMAT] = pa.array([fmt] * n, pa.string())
    columns[SOURCE_OFFSET] = pa.array([offsets[i] for i in kept], pa.int64())
    columns[SOURCE_LINE] = pa.array([numbers[i] for i in kept], pa.int64())
    return pa.table(columns)
