"""A workspace is one DuckDB file holding every event, quarantined record and ingest log.

DuckDB allows one writer per file, which suits one analyst or one pipeline per
workspace. Detectors read through Ibis (``Workspace.events()``) so the same expressions
can run on another engine; Parquet export makes snapshots other tools can read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa
import pyarrow.compute as pc

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
        self._create_tables()
        self._columns = {name.lower(): name for name in self._table_columns(EVENTS)}
        self._ibis: ibis.BaseBackend | None = None

    # -- schema -----------------------------------------------------------------
    def _create_tables(self) -> None:
        core = ", ".join(f"{quote(name)} {sqltype}" for name, sqltype in CORE_COLUMNS.items())
        self.con.execute(f"CREATE TABLE IF NOT EXISTS {EVENTS} ({core})")
        quarantine = ", ".join(
            f"{quote(field.name)} {'BIGINT' if pa.types.is_integer(field.type) else 'VARCHAR'}"
            for field in QUARANTINE_SCHEMA
        )
        self.con.execute(
            f"CREATE TABLE IF NOT EXISTS {QUARANTINE} ({quarantine}, {quote(INGESTED)} TIMESTAMPTZ)"
        )
        self.con.execute(
            f"""CREATE TABLE IF NOT EXISTS {FILES} (
                path VARCHAR, format VARCHAR, bytes BIGINT, records_read BIGINT,
                parsed BIGINT, quarantined BIGINT, error VARCHAR, ingested TIMESTAMPTZ)"""
        )

    def _table_columns(self, table: str) -> list[str]:
        return [row[0] for row in self.con.execute(f"DESCRIBE {table}").fetchall()]

    @property
    def columns(self) -> list[str]:
        """Names of every column of the events table."""
        return list(self._columns.values())

    def _align(self, batch: pa.Table) -> pa.Table:
        """Rename a batch's columns onto existing ones (DuckDB names ignore case) and add new ones.

        When two fields of one batch differ only by case, the first is kept; the record's
        full text stays in ``event.original``, so nothing is lost.
        """
        names: list[str] = []
        keep: list[int] = []
        seen: set[str] = set()
        for index, name in enumerate(batch.column_names):
            key = name.lower()
            if key in seen:
                continue
            seen.add(key)
            if key not in self._columns:
                self.con.execute(
                    f"ALTER TABLE {EVENTS} ADD COLUMN {quote(name)} {column_type(name)}"
                )
                self._columns[key] = name
            names.append(self._columns[key])
            keep.append(index)
        if len(keep) != batch.num_columns:
            batch = batch.select(keep)
        return batch.rename_columns(names)

    # -- writing ----------------------------------------------------------------
    def append_events(self, batch: pa.Table, ingested: dt.datetime) -> None:
        """Insert a batch of events; the store stamps the event id and ingest time."""
        if batch.num_rows == 0:
            return
        stamped = {name.lower() for name in STAMPED_COLUMNS}
        batch = self._align(batch.drop_columns([n for n in batch.column_names if n.lower() in stamped]))
        # The id names the record's place: a digest of its file's path, then its offset.
        prefixes = {path: path_digest(path) for path in pc.unique(batch[SOURCE_PATH]).to_pylist()}
        cases = " ".join(f"WHEN ? THEN '{digest}'" for digest in prefixes.values())
        self.con.register("_seawall_batch", batch)
        try:
            self.con.execute(
                f"""INSERT INTO {EVENTS} BY NAME
                SELECT *, (CASE {quote(SOURCE_PATH)} {cases} END) || '-' || {quote(SOURCE_OFFSET)}
                       AS {quote(EVENT_ID)}, ?::TIMESTAMPTZ AS {quote(INGESTED)}
                FROM _seawall_batch""",
                [*prefixes, ingested],
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
        size: int,
        counts: tuple[int, int, int],
        error: str | None,
        ingested: dt.datetime,
    ) -> None:
        """Log one evidence file's ingest: format, records read/parsed/quarantined, error."""
        self.con.execute(
            f"INSERT INTO {FILES} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [path, fmt, size, *counts, error, ingested],
        )

    # -- reading ----------------------------------------------------------------
    def events(self) -> ibis.Table:
        """The events table as an Ibis expression: detectors build on this, never on SQL."""
        if self._ibis is None:
            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis.table(EVENTS)

    def to_arrow(self, expr: ibis.Expr) -> pa.Table:
        """Execute an Ibis expression on this workspace's engine."""
        return expr.to_pyarrow()

    def count(self, table: str = EVENTS) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])

    def quarantine_rows(self, limit: int = 1000) -> list[dict]:
        cursor = self.con.execute(
            f"SELECT * FROM {QUARANTINE} ORDER BY {quote(SOURCE_PATH)}, {quote(SOURCE_OFFSET)} LIMIT ?",
            [limit],
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

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
    """Twelve hex digits naming an evidence file inside event ids."""
    return hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")
