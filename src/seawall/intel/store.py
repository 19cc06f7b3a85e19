"""The intel store: threat intelligence kept beside the events in the workspace's DuckDB file.

Five tables (``intel_sources``, ``intel_objects``, ``intel_indicators``,
``intel_relationships``, ``intel_rejects``) are a contract with the matcher
(seawall.detect.intel), which reads them. Every importer hands the store one
``SourceBatch`` per source; the store replaces whatever that source (or an older
version of the same file) left before, in one transaction, inserting from Arrow.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import duckdb
import ibis
import orjson
import pyarrow as pa

from seawall.intel.patterns import NAMESPACE
from seawall.store.workspace import Workspace

SOURCES = "intel_sources"
OBJECTS = "intel_objects"
INDICATORS = "intel_indicators"
RELATIONSHIPS = "intel_relationships"
REJECTS = "intel_rejects"
KINDS = ("stix", "misp-event", "misp-feed", "csv", "txt")
SEVERITIES = ("informational", "low", "medium", "high", "critical")
DEFAULT_SEVERITY = "high"

DDL = {
    SOURCES: """source_id VARCHAR, kind VARCHAR, path VARCHAR, name VARCHAR, imported TIMESTAMPTZ,
        objects BIGINT, indicators BIGINT, rejected BIGINT""",
    OBJECTS: """id VARCHAR, type VARCHAR, name VARCHAR, source_id VARCHAR, created TIMESTAMPTZ,
        modified TIMESTAMPTZ, revoked BOOLEAN, tlp VARCHAR, markings VARCHAR[], external_ids VARCHAR[],
        object JSON""",
    INDICATORS: """id VARCHAR, source_id VARCHAR, name VARCHAR, description VARCHAR, pattern VARCHAR,
        pattern_type VARCHAR, valid_from TIMESTAMPTZ, valid_until TIMESTAMPTZ, revoked BOOLEAN, tlp VARCHAR,
        markings VARCHAR[], labels VARCHAR[], confidence INTEGER, severity VARCHAR""",
    RELATIONSHIPS: "id VARCHAR, source_id VARCHAR, source_ref VARCHAR, relationship_type VARCHAR, target_ref VARCHAR",
    REJECTS: "source_id VARCHAR, path VARCHAR, object_id VARCHAR, location VARCHAR, reason VARCHAR",
}
# Columns beyond the contract, added to tables another version may have created without them.
EXTRA_COLUMNS = {
    SOURCES: {"content_hash": "VARCHAR", "inputs": "BIGINT", "ignored": "BIGINT", "notes": "VARCHAR[]"},
}

_TS = pa.timestamp("us", tz="UTC")
_STRINGS = pa.list_(pa.string())
# Arrow shapes of the rows an importer supplies (source_id is stamped by the store).
OBJECT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("type", pa.string()),
        ("name", pa.string()),
        ("created", _TS),
        ("modified", _TS),
        ("revoked", pa.bool_()),
        ("tlp", pa.string()),
        ("markings", _STRINGS),
        ("external_ids", _STRINGS),
        ("object", pa.string()),
    ]
)
INDICATOR_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("name", pa.string()),
        ("description", pa.string()),
        ("pattern", pa.string()),
        ("pattern_type", pa.string()),
        ("valid_from", _TS),
        ("valid_until", _TS),
        ("revoked", pa.bool_()),
        ("tlp", pa.string()),
        ("markings", _STRINGS),
        ("labels", _STRINGS),
        ("confidence", pa.int32()),
        ("severity", pa.string()),
    ]
)
RELATIONSHIP_SCHEMA = pa.schema(
    [("id", pa.string()), ("source_ref", pa.string()), ("relationship_type", pa.string()), ("target_ref", pa.string())]
)
REJECT_SCHEMA = pa.schema([("object_id", pa.string()), ("location", pa.string()), ("reason", pa.string())])

# An indicator without an id gets uuid5(Seawall namespace, pattern), computed by DuckDB for a
# whole list at once (the same id patterns.derived_id gives in Python).
_SHA = f"sha1(unhex('{NAMESPACE.hex}') || encode(pattern))"
PATTERN_ID_SQL = (
    f"'indicator--' || substr({_SHA}, 1, 8) || '-' || substr({_SHA}, 9, 4) || '-5' || substr({_SHA}, 14, 3) || '-' "
    f"|| substr('89ab', ((('0x' || substr({_SHA}, 17, 1))::INTEGER) & 3) + 1, 1) || substr({_SHA}, 18, 3) || '-' "
    f"|| substr({_SHA}, 21, 12)"
)

# For lists (CSV/TXT) the object rows are derived from the indicator rows inside DuckDB,
# which is far cheaper than building a million JSON strings in Python.
_OBJECTS_FROM_INDICATORS = f"""
INSERT INTO {OBJECTS} (id, type, name, source_id, created, modified, revoked, tlp, markings, external_ids, object)
SELECT id, 'indicator', name, source_id, NULL, NULL, revoked, tlp, markings, NULL,
    json_object('type', 'indicator', 'spec_version', '2.1', 'id', id, 'name', name, 'description', description,
                'pattern', pattern, 'pattern_type', pattern_type, 'labels', labels, 'x_seawall_severity', severity)
FROM {INDICATORS} WHERE source_id = ?"""


def clean_text(text: str) -> str:
    """Text Arrow and DuckDB accept: lone surrogates (undecodable bytes of a file name) become U+FFFD."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def to_timestamp(value: object) -> dt.datetime | None:
    """An aware UTC datetime from a STIX/ISO timestamp or epoch seconds; None when it is neither."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return dt.datetime.fromtimestamp(float(value), dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return to_timestamp(int(text))
    # Python takes at most 6 fractional digits; STIX allows more.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None


def to_json(obj: object) -> str:
    """Compact JSON of an imported object; raises TypeError/ValueError (orjson.JSONEncodeError)
    for what DuckDB could not store either (lone surrogates, integers beyond 64 bits)."""
    return orjson.dumps(obj).decode("utf-8")


@dataclass
class SourceBatch:
    """Everything one intel source contributes, as rows ready for the store.

    ``inputs`` counts the units read (STIX objects, MISP events/objects/attributes, list
    rows); each ends up imported (an object row), rejected (a reject row) or ignored
    (MISP 'deleted', duplicate list values, superseded STIX versions). ``derived`` counts
    object rows made from other units (MISP galaxy clusters). List sources set
    ``objects_from_indicators``: their object rows are made from the indicator rows in SQL.
    """

    kind: str
    path: str
    content_hash: str
    name: str | None = None
    objects: list[dict[str, Any]] = field(default_factory=list)
    indicators: list[dict[str, Any]] | pa.Table = field(default_factory=list)
    relationships: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    inputs: int = 0
    ignored: int = 0
    derived: int = 0
    objects_from_indicators: bool = False

    def __post_init__(self) -> None:
        self.path = clean_text(self.path)

    @property
    def source_id(self) -> str:
        """sha256 of kind, resolved path and content hash (16 hex): the same file, the same id."""
        key = f"{self.kind}\0{self.path}\0{self.content_hash}".encode()
        return hashlib.sha256(key).hexdigest()[:16]

    def reject(self, location: str, reason: str, object_id: object = None) -> None:
        """Record why one unit of the source could not be imported."""
        oid = clean_text(object_id)[:200] if isinstance(object_id, str) else None
        self.rejects.append({"object_id": oid, "location": location, "reason": clean_text(reason)[:1000]})

    @property
    def imported(self) -> int:
        """Units stored as object rows (input units, not derived ones)."""
        rows = self.indicator_count if self.objects_from_indicators else len(self.objects)
        return rows - self.derived

    @property
    def indicator_count(self) -> int:
        return self.indicators.num_rows if isinstance(self.indicators, pa.Table) else len(self.indicators)


@dataclass(frozen=True)
class StoredSource:
    """What the store holds for one source after an import."""

    source_id: str
    objects: int
    indicators: int
    rejected: int
    replaced: list[str]


@dataclass(frozen=True)
class IntelSummary:
    """What ``seawall intel list`` shows: sources, and counts by object type and by TLP."""

    sources: list[dict[str, Any]]
    types: dict[str, int]  # object type -> objects (all sources)
    types_by_source: dict[str, dict[str, int]]  # source_id -> object type -> objects
    tlp: dict[str, int]  # TLP level ('none' when unmarked) -> indicators


class IntelStore:
    """The intel tables of one workspace: created on first use, replaced one source at a time."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.con: duckdb.DuckDBPyConnection = workspace.con
        for table, columns in DDL.items():
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
        for table, extra in EXTRA_COLUMNS.items():
            for name, sqltype in extra.items():
                self.con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {name} {sqltype}")

    # -- writing ----------------------------------------------------------------
    def replace_source(self, batch: SourceBatch, imported: dt.datetime | None = None) -> StoredSource:
        """Store one source, first removing its earlier rows and those of older versions of the
        same file (same kind and path, other content), so re-imports never duplicate."""
        return self.replace_sources([batch], imported)[0]

    def replace_sources(
        self, batches: Sequence[SourceBatch], imported: dt.datetime | None = None
    ) -> list[StoredSource]:
        """Store the sources one file yields (a file of several MISP events gives several) in one
        transaction, replacing every source an earlier import of the same files left."""
        imported = imported or dt.datetime.now(dt.UTC)
        new_ids = [batch.source_id for batch in batches]
        files = {(batch.kind, batch.path) for batch in batches}
        stored = []
        with self.workspace.transaction(), _quiet(self.con):
            old = {
                row[0]
                for kind, path in files
                for row in self.con.execute(
                    f"SELECT source_id FROM {SOURCES} WHERE kind = ? AND path = ?", [kind, path]
                ).fetchall()
            }
            for sid in old | set(new_ids):
                self._delete(sid)
            replaced = sorted(old - set(new_ids))
            for batch in batches:
                stored.append(self._store(batch, imported, replaced))
        return stored

    def _store(self, batch: SourceBatch, imported: dt.datetime, replaced: list[str]) -> StoredSource:
        sid = batch.source_id
        self._insert(OBJECTS, _table(batch.objects, OBJECT_SCHEMA), sid)
        self._insert(INDICATORS, _table(batch.indicators, INDICATOR_SCHEMA), sid)
        self._insert(RELATIONSHIPS, _table(batch.relationships, RELATIONSHIP_SCHEMA), sid)
        rejects = _table(batch.rejects, REJECT_SCHEMA)
        self._insert(REJECTS, rejects.append_column("path", pa.array([batch.path] * rejects.num_rows)), sid)
        if batch.objects_from_indicators:
            self.con.execute(_OBJECTS_FROM_INDICATORS, [sid])
        objects, indicators, rejected = (self._count(t, sid) for t in (OBJECTS, INDICATORS, REJECTS))
        self.con.execute(
            f"""INSERT INTO {SOURCES} BY NAME SELECT ? AS source_id, ? AS kind, ? AS path, ? AS name,
                ? AS imported, ? AS objects, ? AS indicators, ? AS rejected, ? AS content_hash,
                ? AS inputs, ? AS ignored, ?::VARCHAR[] AS notes""",
            [
                sid,
                batch.kind,
                batch.path,
                clean_text(batch.name) if batch.name else None,
                imported,
                objects,
                indicators,
                rejected,
                batch.content_hash,
                batch.inputs,
                batch.ignored,
                [clean_text(n) for n in batch.notes],
            ],
        )
        return StoredSource(sid, objects, indicators, rejected, replaced)

    def forget(self, source_id: str) -> None:
        """Remove every row of one source."""
        with self.workspace.transaction():
            self._delete(source_id)

    def _delete(self, source_id: str) -> None:
        for table in (SOURCES, OBJECTS, INDICATORS, RELATIONSHIPS, REJECTS):
            self.con.execute(f"DELETE FROM {table} WHERE source_id = ?", [source_id])

    def _insert(self, table: str, rows: pa.Table, source_id: str) -> None:
        if rows.num_rows == 0:
            return
        columns = "*"
        if table == INDICATORS and rows.column("id").null_count:
            columns = f"* REPLACE (coalesce(id, {PATTERN_ID_SQL}) AS id)"
        with _registered(self.con, rows) as name:
            self.con.execute(f"INSERT INTO {table} BY NAME SELECT {columns}, ? AS source_id FROM {name}", [source_id])

    def _count(self, table: str, source_id: str) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {table} WHERE source_id = ?", [source_id]).fetchone()[0])

    # -- reading ----------------------------------------------------------------
    def sources(self) -> list[dict[str, Any]]:
        """Every imported source, newest first."""
        return self._dicts(f"SELECT * FROM {SOURCES} ORDER BY imported DESC, path, source_id")

    def rejects(self, source_id: str | None = None) -> list[dict[str, Any]]:
        """Rejected units with their location and reason (of one source, or all)."""
        where, params = ("WHERE source_id = ?", [source_id]) if source_id else ("", [])
        return self._dicts(f"SELECT * FROM {REJECTS} {where} ORDER BY path, location", params)

    def summary(self) -> IntelSummary:
        """Counts by source, object type and TLP level, for ``seawall intel list``."""
        by_source: dict[str, dict[str, int]] = {}
        types: dict[str, int] = {}
        for sid, kind, n in self.con.execute(
            f"SELECT source_id, type, count(*) FROM {OBJECTS} GROUP BY ALL ORDER BY 1, 3 DESC, 2"
        ).fetchall():
            by_source.setdefault(sid, {})[kind] = n
            types[kind] = types.get(kind, 0) + n
        tlp = {
            level: n
            for level, n in self.con.execute(
                f"SELECT coalesce(tlp, 'none'), count(*) FROM {INDICATORS} GROUP BY 1 ORDER BY 2 DESC, 1"
            ).fetchall()
        }
        return IntelSummary(self.sources(), dict(sorted(types.items(), key=lambda kv: -kv[1])), by_source, tlp)

    def indicators(self, at: dt.datetime | None = None, include_revoked: bool = False) -> ibis.Table:
        """Indicators as an Ibis table; with ``at``, only those valid at that instant
        (an unset valid_from or valid_until leaves that side open)."""
        table = self.workspace.table(INDICATORS)
        if not include_revoked:
            table = table.filter(table.revoked.isnull() | ~table.revoked)
        if at is not None:
            at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
            table = table.filter(
                (table.valid_from.isnull() | (table.valid_from <= at))
                & (table.valid_until.isnull() | (table.valid_until > at))
            )
        return table

    def objects(self, type_: str | None = None) -> ibis.Table:
        """Intel objects as an Ibis table (of one STIX type, or all)."""
        table = self.workspace.table(OBJECTS)
        return table.filter(table.type == type_) if type_ else table

    def _dicts(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _table(rows: list[dict[str, Any]] | pa.Table, schema: pa.Schema) -> pa.Table:
    if isinstance(rows, pa.Table):
        return rows
    return pa.Table.from_pylist(rows, schema=schema)


@contextmanager
def _quiet(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """No DuckDB progress bar on the terminal while a large list is stored (restored after)."""
    before = con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]
    con.execute("SET enable_progress_bar = false")
    try:
        yield
    finally:
        con.execute(f"SET enable_progress_bar = {'true' if before else 'false'}")


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, table: pa.Table) -> Iterator[str]:
    name = "_seawall_intel_rows"
    con.register(name, table)
    try:
        yield name
    finally:
        with suppress(duckdb.Error):  # never hide the insert's own error
            con.unregister(name)
