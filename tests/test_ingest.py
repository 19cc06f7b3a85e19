"""Ingest: a folder of mixed evidence into a workspace, with books that reconcile."""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
from pathlib import Path

import pytest

from seawall.ingest import detect_format, evidence_files, ingest
from seawall.sources import ReadOptions
from seawall.store import Workspace

REFERENCE = ReadOptions(reference_time=dt.datetime(2024, 12, 31, tzinfo=dt.UTC))
# Deterministic bytes no format can mistake for text: a PNG signature and every byte value.
BINARY = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


@pytest.fixture
def evidence(tmp_path, fixtures) -> Path:
    """A folder holding every kind of file ingest must cope with."""
    folder = tmp_path / "evidence"
    folder.mkdir()
    shutil.copy(fixtures / "sources" / "bsd_sample.log", folder / "auth.log")  # 6 syslog lines
    (folder / "rotated.1").write_bytes(  # gzip, recognised by content; one bad line
        gzip.compress(b"<38>Jun 14 15:20:00 combo sshd[5]: gz one\nJun 14 15:20:01 combo sshd[6]: gz two\n<999>bad\n")
    )
    shutil.copy(fixtures / "sources" / "ecs_sample.jsonl", folder / "audit.jsonl")  # 4 records, 1 bad
    (folder / "capture.bin").write_bytes(BINARY)
    (folder / "empty.log").write_bytes(b"")
    (folder / "dangling.log").symlink_to(folder / "does-not-exist")
    return folder


@pytest.fixture
def run(evidence):
    with Workspace(None) as ws:
        result = ingest(evidence_files(evidence), ws, REFERENCE)
        yield evidence, ws, result


def by_name(result) -> dict:
    return {Path(f.path).name: f for f in result.files}


def test_every_file_gets_a_result(run):
    _, _, result = run
    assert sorted(by_name(result)) == [
        "audit.jsonl", "auth.log", "capture.bin", "dangling.log", "empty.log", "rotated.1",
    ]  # fmt: skip


def test_formats_are_detected_per_file(run):
    _, _, result = run
    formats = {name: f.format for name, f in by_name(result).items()}
    assert formats == {
        "auth.log": "syslog",
        "rotated.1": "syslog",
        "audit.jsonl": "jsonl",
        "capture.bin": None,
        "empty.log": None,
        "dangling.log": None,
    }


def test_counts_per_file(run):
    _, _, result = run
    counts = {name: (f.read, f.parsed, f.quarantined) for name, f in by_name(result).items()}
    assert counts == {
        "auth.log": (6, 6, 0),
        "rotated.1": (3, 2, 1),
        "audit.jsonl": (4, 3, 1),
        "capture.bin": (0, 0, 0),
        "empty.log": (0, 0, 0),
        "dangling.log": (0, 0, 0),
    }
    assert all(f.reconciles for f in result.files)


def test_errors_name_the_file(run):
    _, _, result = run
    files = by_name(result)
    failed = {Path(f.path).name for f in result.errors}
    assert failed == {"capture.bin", "empty.log", "dangling.log"}
    for f in result.errors:
        assert f.path in f.error
    assert "not recognised" in files["capture.bin"].error
    assert files["auth.log"].error is None
    assert files["audit.jsonl"].error is None


def test_files_table_has_a_row_per_file(run):
    _, ws, result = run
    rows = ws.con.execute("SELECT path, format, records_read, parsed, quarantined, error FROM files").fetchall()
    assert len(rows) == len(result.files) == 6
    assert {r[0] for r in rows} == {f.path for f in result.files}
    for path, fmt, read, parsed, quarantined, error in rows:
        f = next(f for f in result.files if f.path == path)
        assert (fmt, read, parsed, quarantined, error) == (f.format, f.read, f.parsed, f.quarantined, f.error)


def test_totals_by_format_add_up(run):
    _, _, result = run
    totals = result.by_format()
    assert totals["syslog"] == {"files": 2, "read": 9, "parsed": 8, "quarantined": 1, "errors": 0}
    assert totals["jsonl"] == {"files": 1, "read": 4, "parsed": 3, "quarantined": 1, "errors": 0}
    assert totals["unrecognised"]["files"] == 3
    assert totals["unrecognised"]["errors"] == 3
    assert sum(t["files"] for t in totals.values()) == len(result.files)
    assert sum(t["parsed"] for t in totals.values()) == result.events


def test_workspace_holds_every_parsed_event_and_quarantined_record(run):
    _, ws, result = run
    assert ws.count() == result.events == sum(f.parsed for f in result.files) == 11
    assert ws.count("quarantine") == sum(f.quarantined for f in result.files) == 2


def test_gzip_events_keep_decompressed_offsets(run):
    evidence, ws, _ = run
    rows = ws.con.execute(
        'SELECT "seawall.source.offset", "seawall.source.line", message FROM events '
        'WHERE "seawall.source.path" = ? ORDER BY 1',
        [str(evidence / "rotated.1")],
    ).fetchall()
    assert rows == [(0, 1, "gz one"), (42, 2, "gz two")]


def test_event_ids_are_unique(run):
    _, ws, _ = run
    total, distinct = ws.con.execute('SELECT count(*), count(DISTINCT "seawall.event.id") FROM events').fetchone()
    assert total == distinct == 11


def test_reading_the_same_evidence_twice_gives_the_same_event_ids(evidence):
    def ids() -> list[str]:
        with Workspace(None) as ws:
            ingest(evidence_files(evidence), ws, REFERENCE)
            return [r[0] for r in ws.con.execute('SELECT "seawall.event.id" FROM events ORDER BY 1').fetchall()]

    assert ids() == ids()


def test_truncated_gzip_keeps_what_was_read_and_reports_the_error(tmp_path):
    lines = b"".join(b"Jun 14 15:16:%02d host app[%d]: line %d\n" % (i % 60, i, i) for i in range(20000))
    compressed = gzip.compress(lines)
    path = tmp_path / "cut.log.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with Workspace(None) as ws:
        result = ingest([path], ws, REFERENCE)
        (f,) = result.files
        assert f.format == "syslog"
        assert f.error is not None and str(path) in f.error
        assert f.read > 0
        assert f.reconciles
        assert ws.count() == f.parsed


def test_evidence_files_include_hidden_entries_sorted_and_leave_out_excluded_paths(tmp_path):
    """Hidden files are evidence too (an intruder's ~/.c/ tools); the hunt's own output is not."""
    (tmp_path / "b.log").write_text("x\n")
    (tmp_path / "a.log").write_text("x\n")
    (tmp_path / ".hidden.log").write_text("x\n")
    (tmp_path / ".c").mkdir()
    (tmp_path / ".c" / "out.tgz").write_text("x\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.log").write_text("x\n")
    (tmp_path / "case").mkdir()
    (tmp_path / "case" / "findings.jsonl").write_text("{}\n")
    found = [p.relative_to(tmp_path).as_posix() for p in evidence_files(tmp_path, exclude=[tmp_path / "case"])]
    assert found == [".hidden.log", "a.log", "b.log", ".c/out.tgz", "sub/c.log"]


def test_evidence_files_of_a_single_file_is_that_file(tmp_path):
    path = tmp_path / "one.log"
    path.write_text("x\n")
    assert list(evidence_files(path)) == [path]


def test_detect_format(fixtures, tmp_path):
    assert detect_format(fixtures / "sources" / "bsd_sample.log").name == "syslog"
    assert detect_format(fixtures / "sources" / "ecs_sample.jsonl").name == "jsonl"
    blank = tmp_path / "blank.log"
    blank.write_bytes(b"\n\n   \n")
    assert detect_format(blank) is None


def test_forced_format_overrides_detection(fixtures):
    with Workspace(None) as ws:
        result = ingest([fixtures / "sources" / "ecs_sample.jsonl"], ws, REFERENCE, forced_format="syslog")
    (f,) = result.files
    assert f.format == "syslog"
    assert (f.read, f.parsed, f.quarantined) == (4, 0, 4)


def test_progress_callbacks(fixtures):
    path = fixtures / "sources" / "bsd_sample.log"
    started: list[tuple[Path, int]] = []
    progress: list[int] = []
    with Workspace(None) as ws:
        ingest([path], ws, REFERENCE, on_file=lambda p, size: started.append((p, size)), on_progress=progress.append)
    assert started == [(path, path.stat().st_size)]
    assert progress and progress[-1] == path.stat().st_size


@pytest.mark.parametrize(
    "record",
    [
        # 'Source.Port' lands in the INTEGER column source.port (column names ignore case)
        '{"Source": {"Port": "ssh"}, "message": "x"}',
        # ECS exports often carry event.ingested, a column the store stamps itself
        '{"@timestamp": "2024-06-14T15:16:01Z", "event": {"ingested": "2024-06-14T15:17:00Z"}}',
        # keys the store cannot tell apart
        '{"message": "a", "Message": "b"}',
        '{"user": {"name": "alice"}, "User": {"Name": "bob"}}',
        '{"a\\u0000b": "nul in a key"}',
    ],
)
def test_odd_json_records_do_not_break_ingest(tmp_path, record):
    path = tmp_path / "odd.jsonl"
    path.write_text(record + "\n" + '{"message": "next"}\n')
    with Workspace(None) as ws:
        result = ingest([path], ws, REFERENCE)
        (f,) = result.files
        assert f.error is None
        assert f.read == 2
        assert f.reconciles
        assert ws.count() == f.parsed >= 1


def test_a_file_already_in_the_workspace_is_not_read_twice(tmp_path):
    path = tmp_path / "auth.log"
    path.write_text("Jun 14 15:16:01 host sshd[1]: one\nJun 14 15:16:02 host sshd[1]: two\n")
    with Workspace(tmp_path / "ws.duckdb") as ws:
        first = ingest([path], ws, REFERENCE)
        again = ingest([path], ws, REFERENCE)
        assert first.files[0].parsed == 2
        assert (again.files[0].read, again.files[0].parsed) == (0, 0)
        assert again.files[0].format == "syslog"
        assert "already in the workspace" in again.files[0].notes[0]
        assert ws.count() == 2
        path.write_text(path.read_text() + "Jun 14 15:16:03 host sshd[1]: three\n")  # changed: replaced
        assert ingest([path], ws, REFERENCE).files[0].parsed == 3
        assert ws.count() == 3
        assert ws.con.execute("SELECT count(*) FROM files").fetchall() == [(1,)]


def test_a_folder_that_cannot_be_listed_is_yielded_and_reported(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()

    def walk(top, topdown=True, onerror=None, followlinks=False):
        onerror(PermissionError(13, "denied", str(locked)))
        yield from ()

    monkeypatch.setattr("seawall.ingest.os.walk", walk)
    found = list(evidence_files(tmp_path))
    assert found == [locked]
    with Workspace(None) as ws:
        result = ingest(found, ws, REFERENCE)
    (f,) = result.files
    assert f.path == str(locked)
    assert f.error is not None and "folder could not be listed" in f.error
    assert result.errors == [f]


def test_a_kept_workspace_stores_a_file_once_whether_named_relative_or_absolute(tmp_path, monkeypatch):
    path = tmp_path / "auth.log"
    path.write_text("Jun 14 15:16:01 host sshd[1]: one\nJun 14 15:16:02 host sshd[1]: two\n")
    monkeypatch.chdir(tmp_path)
    with Workspace(tmp_path / "ws.duckdb") as ws:
        first = ingest([Path("auth.log")], ws, REFERENCE)
        again = ingest([path], ws, REFERENCE)
        assert first.files[0].parsed == 2
        assert first.files[0].path == again.files[0].path == str(path)
        assert again.files[0].parsed == 0
        assert "already in the workspace" in again.files[0].notes[0]
        assert ws.count() == 2
        assert ws.con.execute("SELECT count(*) FROM files").fetchall() == [(1,)]


def test_a_kept_workspace_rereads_a_file_rewritten_with_the_same_size(tmp_path):
    import os

    path = tmp_path / "auth.log"
    path.write_text("Jun 14 15:16:01 host sshd[1]: old-content\n")
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    with Workspace(tmp_path / "ws.duckdb") as ws:
        assert ingest([path], ws, REFERENCE).files[0].parsed == 1
        size = path.stat().st_size
        path.write_text("Jun 14 15:16:01 host sshd[1]: new-content\n")
        os.utime(path, ns=(1_700_000_100_000_000_000, 1_700_000_100_000_000_000))
        assert path.stat().st_size == size
        again = ingest([path], ws, REFERENCE)
        assert (again.files[0].read, again.files[0].parsed) == (1, 1)
        assert again.files[0].notes == []
        messages = [row[0] for row in ws.con.execute('SELECT "message" FROM events').fetchall()]
        assert messages == ["new-content"]
        assert ws.con.execute("SELECT count(*) FROM files").fetchall() == [(1,)]


def test_detect_format_looks_past_a_byte_order_mark_and_a_long_first_line(tmp_path):
    import json

    bom = b"\xef\xbb\xbf"
    jsonl = tmp_path / "bom.jsonl"
    jsonl.write_bytes(bom + b'{"message": "a"}\n{"message": "b"}\n')
    syslog = tmp_path / "bom.log"
    syslog.write_bytes(bom + b"<38>Jun 14 15:16:01 host sshd[1]: one\nJun 14 15:16:02 host sshd[1]: two\n")
    long_first = tmp_path / "long.jsonl"
    long_first.write_text(json.dumps({"message": "x" * 100_000}) + "\n" + '{"message": "short"}\n')
    assert long_first.stat().st_size > 100_000
    assert getattr(detect_format(jsonl), "name", None) == "jsonl"
    assert getattr(detect_format(syslog), "name", None) == "syslog"
    assert getattr(detect_format(long_first), "name", None) == "jsonl"
