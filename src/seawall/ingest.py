"""Evidence folder → workspace: find files, recognise their format, stream batches into the store.

This is the only module that knows both the sources and the store. It keeps the books:
for every file, records read = events stored + records quarantined, and a file that
cannot be read is reported by name while the run goes on with the rest.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue

import duckdb
import pyarrow as pa

from seawall.errors import EvidenceError
from seawall.sources import ParsedBatch, ReadOptions, SourceFormat, formats
from seawall.sources.reader import HEAD_BYTES, read_head
from seawall.store import Workspace

MIN_CONFIDENCE = 0.5
LONG_HEAD_BYTES = 16 << 20
QUARANTINE_FLUSH_ROWS = 100_000
ALREADY_STORED = "already in the workspace (same path, size and modification time): not read again"


@dataclass
class FileResult:
    """What ingest did with one file."""

    path: str
    format: str | None
    size: int
    read: int = 0
    parsed: int = 0
    quarantined: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def reconciles(self) -> bool:
        return self.read == self.parsed + self.quarantined


@dataclass
class IngestResult:
    files: list[FileResult] = field(default_factory=list)

    def by_format(self) -> dict[str, dict[str, int]]:
        """Totals per format (files whose format is unknown count under 'unrecognised')."""
        totals: dict[str, dict[str, int]] = {}
        for f in self.files:
            row = totals.setdefault(
                f.format or "unrecognised", {"files": 0, "read": 0, "parsed": 0, "quarantined": 0, "errors": 0}
            )
            row["files"] += 1
            row["read"] += f.read
            row["parsed"] += f.parsed
            row["quarantined"] += f.quarantined
            row["errors"] += f.error is not None
        return totals

    @property
    def errors(self) -> list[FileResult]:
        return [f for f in self.files if f.error]

    @property
    def events(self) -> int:
        return sum(f.parsed for f in self.files)


def evidence_files(root: Path, exclude: Iterable[Path] = ()) -> Iterator[Path]:
    """Every file under ``root`` (or ``root`` itself) in a stable order, hidden ones included.

    ``exclude`` names paths to leave out (the case directory and workspace of this very
    hunt). A folder that cannot be listed is yielded itself, so that ingest reports it.
    """
    skipped = {p.absolute() for p in exclude}
    if root.is_file() or not root.exists():
        yield root
        return
    unreadable: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=lambda exc: unreadable.append(Path(exc.filename))):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if (here / d).absolute() not in skipped)
        for name in sorted(filenames):
            if (here / name).absolute() not in skipped:
                yield here / name
    yield from unreadable


def detect_format(path: Path) -> SourceFormat | None:
    """The registered format most confident about this file, if any is confident enough.

    Formats judge the file's first 64 KiB; when that holds not one line break (a huge
    first record), they are asked again with the first 16 MiB.
    """
    head = read_head(path)
    if len(head) == HEAD_BYTES and b"\n" not in head:
        head = read_head(path, LONG_HEAD_BYTES)
    best, score = None, 0.0
    for fmt in formats().values():
        confidence = fmt.sniff(head)
        if confidence > score:
            best, score = fmt, confidence
    return best if score >= MIN_CONFIDENCE else None


def ingest(
    paths: Iterable[Path],
    workspace: Workspace,
    options: ReadOptions | None = None,
    forced_format: str | None = None,
    on_file: Callable[[Path, int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """Read every file into the workspace and return per-file accounting.

    Files are recorded under their absolute path. ``on_file(path, size)`` is called before
    each file and ``on_progress(bytes)`` with the bytes consumed so far in it.
    """
    options = options or ReadOptions()
    result = IngestResult()
    now = dt.datetime.now(dt.UTC)
    stored = workspace.stored_files()
    for given in paths:
        path = given.absolute()
        stat = path.stat() if path.is_file() else None
        size, modified = (stat.st_size, stat.st_mtime_ns) if stat else (0, 0)
        if on_file:
            on_file(path, size)
        if (str(path), size, modified) in stored:  # hunting again into a kept workspace must not double-count
            result.files.append(
                FileResult(str(path), stored[(str(path), size, modified)], size, notes=[ALREADY_STORED])
            )
            continue
        file_result = _ingest_file(path, size, workspace, options, forced_format, now, on_progress)
        result.files.append(file_result)
        workspace.record_file(
            str(path),
            file_result.format,
            (size, modified),
            (file_result.read, file_result.parsed, file_result.quarantined),
            file_result.error,
            now,
        )
    return result


def _ingest_file(
    path: Path,
    size: int,
    workspace: Workspace,
    options: ReadOptions,
    forced_format: str | None,
    now: dt.datetime,
    on_progress: Callable[[int], None] | None,
) -> FileResult:
    try:
        if path.is_dir():
            raise EvidenceError(f"{path}: folder could not be listed")
        if not path.is_file():
            raise EvidenceError(f"{path}: not a readable file" if path.exists() else f"{path}: no such file")
        if size == 0:
            raise EvidenceError(f"{path}: empty file")
        fmt = formats()[forced_format] if forced_format else detect_format(path)
    except EvidenceError as exc:
        return FileResult(str(path), None, size, error=str(exc))
    if fmt is None:
        return FileResult(str(path), None, size, error=f"{path}: format not recognised (known: {', '.join(formats())})")
    out = FileResult(str(path), fmt.name, size)
    try:
        with workspace.transaction():
            workspace.forget(str(path))  # a file that changed since it was read replaces its old records
            _load(prefetch(fmt.parse(path, options)), out, workspace, now, on_progress)
    except (duckdb.Error, pa.ArrowException) as exc:
        # The file's transaction was rolled back: none of its records are stored (and any
        # earlier ones are kept). Say so and go on with the next file.
        out.error = f"{path}: not stored, processing failed ({type(exc).__name__}: {exc})"
        out.read = out.parsed = out.quarantined = 0
    return out


def _load(
    batches: Iterator[ParsedBatch],
    out: FileResult,
    workspace: Workspace,
    now: dt.datetime,
    on_progress: Callable[[int], None] | None,
) -> None:
    """Stream a file's batches into the store and keep its books.

    Consecutive batches with the same schema (all of a syslog file; JSON lines until a
    new field appears) go in as one INSERT that pulls them as it goes; quarantined rows
    follow after each such run, which also ends when they pile up.
    """
    quarantine: list[pa.Table] = []
    upcoming = _next(batches, out)
    while upcoming is not None:
        first, schema, upcoming = upcoming, upcoming.events.schema, None

        def run(batch: ParsedBatch | None = first, schema: pa.Schema = schema) -> Iterator[pa.RecordBatch]:
            nonlocal upcoming
            while batch is not None:
                out.read += batch.records
                out.parsed += batch.events.num_rows
                out.quarantined += batch.quarantine.num_rows
                out.notes.extend(n for n in batch.notes if n not in out.notes)
                if on_progress:
                    on_progress(batch.position)
                quarantine.append(batch.quarantine)
                yield from batch.events.to_batches()
                batch = _next(batches, out)
                if batch is not None and (
                    batch.events.schema != schema or sum(q.num_rows for q in quarantine) >= QUARANTINE_FLUSH_ROWS
                ):
                    upcoming, batch = batch, None

        workspace.append_stream(schema, run(), now)
        if quarantine:
            workspace.append_quarantine(pa.concat_tables(quarantine), now)
            quarantine.clear()


def _next(batches: Iterator[ParsedBatch], out: FileResult) -> ParsedBatch | None:
    """The next batch; None at the end or where the file breaks off (noted in ``out.error``)."""
    try:
        return next(batches, None)
    except EvidenceError as exc:
        out.error = str(exc)
        return None


def prefetch(batches: Iterator[ParsedBatch], depth: int = 2) -> Iterator[ParsedBatch]:
    """Parse the next batches in a background thread while the store writes this one.

    Parsing and inserting both run mostly in DuckDB and Arrow, which release the GIL, so
    the two overlap on a multi-core machine. Exceptions reach the caller in order.
    """
    queue: Queue[tuple[str, object]] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                if stop.is_set():
                    return
                queue.put(("batch", batch))
            queue.put(("end", None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            queue.put(("error", exc))

    worker = threading.Thread(target=produce, name="seawall-parse", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = queue.get()
            if kind == "batch":
                yield item  # type: ignore[misc]
            elif kind == "error":
                raise item  # type: ignore[misc]
            else:
                return
    finally:
        stop.set()
        while worker.is_alive():
            try:
                queue.get_nowait()
            except Empty:
                worker.join(timeout=0.05)
