"""A workspace is one DuckDB file holding every event, quarantined record and ingest log.

DuckDB allows one writer per file, which suits one analyst or one pipeline per
workspace. Detectors read through Ibis (``Workspace.events()``) so the same expressions
can run on another engine; Parquet export makes snapshots other tools can read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa

from seawall.store.schema import (
    CORE_COLUMNS,
    EVENT_ID,
    INGESTED,
    QUARANTINE_SCHEMA,
    SOURCE_OFFSET,
    SOURCE_PATH,
    STAMPED_COLUMNS,
    column_type,
    quote,
)

EVENTS = "events"
# The id names the record's place: 12 hex digits of its file's path, then its byte offset.
# A virtual column costs nothing at ingest and is computed only for the rows a query reads.
EVENT_ID_SQL = (
    f"VARCHAR GENERATED ALWAYS AS (substr(md5({quote(SOURCE_PATH)}), 1, 12) || '-' || {quote(SOURCE_OFFSET)}) VIRTUAL"
)
QUARANTINE = "quarantine"
FILES = "files"


class Workspace:
    """An event store in one DuckDB file (or in memory when ``path`` is None)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(self.path) if self.path else ":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        # Rows carry their own order (time, file, offset); letting DuckDB insert in any
        # order makes ingest markedly faster. Every query that needs an order says so.
        self.con.execute("SET preserve_insertion_order = false")
        self._create_tables()
        self._columns = {name.lower(): name for name in self._table_columns(EVENTS)}
        self._ibis: ibis.BaseBackend | None = None

    # -- schema -----------------------------------------------------------------
    def _create_tables(self) -> None:
        core = ", ".join(
            f"{quote(name)} {EVENT_ID_SQL if name == EVENT_ID else sqltype}" for name, sqltype in CORE_COLUMNS.items()
        )
        self.con.execute(f"CREATE TABLE IF NOT EXISTS {EVENTS} ({core})")
        quarantine = ", ".join(
            f"{quote(field.name)} {'BIGINT' if pa.types.is_integer(field.type) else 'VARCHAR'}"
            for field in QUARANTINE_SCHEMA
        )
        self.con.execute(f"CREATE TABLE IF NOT EXISTS {QUARANTINE} ({quarantine}, {quote(INGESTED)} TIMESTAMPTZ)")
        self.con.execute(
            f"""CREATE TABLE IF NOT EXISTS {FILES} (
                path VARCHAR, format VARCHAR, bytes BIGINT, modified_ns BIGINT, records_read BIGINT,
                parsed BIGINT, quarantined BIGINT, error VARCHAR, ingested TIMESTAMPTZ)"""
        )

    def _table_columns(self, table: str) -> list[str]:
        return [row[0] for row in self.con.execute(f"DESCRIBE {table}").fetchall()]

    @property
    def columns(self) -> list[str]:
        """Names of every column of the events table."""
        return list(self._columns.values())

    def _align(self, schema: pa.Schema) -> tuple[list[int], pa.Schema]:
        """Map a batch schema onto the events table: which fields to keep, under which names.

        DuckDB names ignore case, so a field is renamed onto an existing column that differs
        only by case, and of two such fields in one batch the first is kept (the record's
        full text stays in ``event.original``, so nothing is lost). New fields become new
        columns. Fields the store stamps itself are dropped.
        """
        keep: list[int] = []
        fields: list[pa.Field] = []
        seen = {name.lower() for name in STAMPED_COLUMNS}
        for index, field in enumerate(schema):
            key = field.name.lower()
            if key in seen:
                continue
            seen.add(key)
            if key not in self._columns:
                self.con.execute(f"ALTER TABLE {EVENTS} ADD COLUMN {quote(field.name)} {column_type(field.name)}")
                self._columns[key] = field.name
            keep.append(index)
            fields.append(field.with_name(self._columns[key]))
        return keep, pa.schema(fields)

    # -- writing ----------------------------------------------------------------
    def append_events(self, batch: pa.Table, ingested: dt.datetime) -> None:
        """Insert a table of events; the store stamps the ingest time (and derives the id)."""
        if batch.num_rows:
            self.append_stream(batch.schema, batch.to_batches(), ingested)

    def append_stream(self, schema: pa.Schema, batches: Iterable[pa.RecordBatch], ingested: dt.datetime) -> None:
        """Insert a stream of record batches of one schema in a single statement.

        DuckDB pulls the batches as it inserts, so a whole file goes in with bounded
        memory and without the cost of many small appends.
        """
        keep, aligned = self._align(schema)
        reader = pa.RecordBatchReader.from_batches(
            aligned, (pa.RecordBatch.from_arrays([b.column(i) for i in keep], schema=aligned) for b in batches)
        )
        self.con.register("_seawall_batch", reader)
        try:
            self.con.execute(
                f"INSERT INTO {EVENTS} BY NAME SELECT *, ?::TIMESTAMPTZ AS {quote(INGESTED)} FROM _seawall_batch",
                [ingested],
            )
        finally:
            with suppress(duckdb.Error):  # never hide the insert's own error
                self.con.unregister("_seawall_batch")
        self._ibis = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: one commit per file is much faster than one per batch."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            # columns added in the transaction are gone again: forget them
            self._columns = {name.lower(): name for name in self._table_columns(EVENTS)}
            raise
        self.con.execute("COMMIT")

    def append_quarantine(self, batch: pa.Table, ingested: dt.datetime) -> None:
        """Keep records that could not become events, with their reason and location."""
        if batch.num_rows == 0:
            return
        self.con.register("_seawall_quarantine", batch)
        try:
            self.con.execute(
                f"INSERT INTO {QUARANTINE} BY NAME SELECT *, ?::TIMESTAMPTZ AS {quote(INGESTED)} "
                "FROM _seawall_quarantine",
                [ingested],
            )
        finally:
            with suppress(duckdb.Error):
                self.con.unregister("_seawall_quarantine")

    def record_file(
        self,
        path: str,
        fmt: str | None,
        stat: tuple[int, int],
        counts: tuple[int, int, int],
        error: str | None,
        ingested: dt.datetime,
    ) -> None:
        """Log one evidence file's ingest: format, (bytes, mtime in ns), records read/parsed/quarantined, error."""
        self.con.execute(
            f"INSERT INTO {FILES} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [path, fmt, *stat, *counts, error, ingested],
        )

    def update_file(self, path: str, stat: tuple[int, int], counts: tuple[int, int, int], error: str | None) -> None:
        """Bring a recorded source's log row up to date while it grows (a live receiver's session):
        (bytes, last write in ns), records read/parsed/quarantined so far, error."""
        self.con.execute(
            f"UPDATE {FILES} SET bytes = ?, modified_ns = ?, records_read = ?, parsed = ?, quarantined = ?, error = ? "
            "WHERE path = ?",
            [*stat, *counts, error, path],
        )

    def snapshot(self, target: Path) -> None:
        """Write a consistent copy of this workspace file to ``target`` (replaced atomically),
        which other processes can open while this one goes on writing the workspace."""
        if self.path is None:
            raise ValueError("an in-memory workspace has no file to copy")
        self.con.execute("CHECKPOINT")  # everything into the file, nothing left in the write-ahead log
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(self.path, partial)
        with suppress(FileNotFoundError):  # a log left by whoever wrote the previous copy is not this copy's
            os.remove(target.with_name(target.name + ".wal"))
        os.replace(partial, target)

    def forget(self, path: str) -> None:
        """Remove every event, quarantined record and log row of one evidence file."""
        for table, column in ((EVENTS, SOURCE_PATH), (QUARANTINE, SOURCE_PATH), (FILES, "path")):
            self.con.execute(f"DELETE FROM {table} WHERE {quote(column)} = ?", [path])
        self._ibis = None

    # -- reading ----------------------------------------------------------------
    def stored_files(self) -> dict[tuple[str, int, int], str]:
        """(path, bytes, mtime in ns) -> format of every file already read in full into this workspace."""
        rows = self.con.execute(f"SELECT path, bytes, modified_ns, format FROM {FILES} WHERE error IS NULL").fetchall()
        return {(path, size, modified): fmt for path, size, modified, fmt in rows}

    def events(self) -> ibis.Table:
        """The events table as an Ibis expression: detectors build on this, never on SQL."""
        return self.table(EVENTS)

    def table(self, name: str) -> ibis.Table:
        """Any table of the workspace (events, or content kept beside them such as intel) in Ibis."""
        if self._ibis is None:
            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis.table(name)

    def count(self, table: str = EVENTS) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])

    def quarantine_rows(self, limit: int = 1000) -> list[dict]:
        cursor = self.con.execute(
            f"SELECT * FROM {QUARANTINE} ORDER BY {quote(SOURCE_PATH)}, {quote(SOURCE_OFFSET)} LIMIT ?",
            [limit],
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def export_parquet(self, directory: Path, tables: Iterable[str] = (EVENTS, QUARANTINE, FILES)) -> list[Path]:
        """Write each table to ``directory/<table>.parquet`` (zstd) and return the paths."""
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for table in tables:
            target = directory / f"{table}.parquet"
            self.con.execute(f"COPY {table} TO '{_sql_str(target)}' (FORMAT parquet, COMPRESSION zstd)")
            written.append(target)
        return written

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def path_digest(path: str) -> str:
    """The 12 hex digits that start the ids of a file's events (mirrors EVENT_ID_SQL)."""
    return hashlib.md5(path.encode("utf-8")).hexdigest()[:12]


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")
