"""Property tests for the AAA formats: no input breaks the books, and chunking never changes a reading."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import SETTINGS, TEXT_LINES, arbitrary_bytes, new_file, unique_name

from seawall.errors import EvidenceError
from seawall.ingest import ingest
from seawall.sources import ReadOptions, formats
from seawall.sources import radius as radius_module
from seawall.sources import tacacs as tacacs_module
from seawall.sources.reader import GZIP_MAGIC, iter_line_chunks
from seawall.store import Workspace

OPTIONS = ReadOptions(reference_time=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("aaa-property")


def reader_lines(data: bytes) -> list[bytes]:
    """The lines the reader hands over: a leading byte-order mark dropped, split on LF,
    one trailing CR removed, empty lines skipped."""
    parts = (part[:-1] if part.endswith(b"\r") else part for part in data.removeprefix(b"\xef\xbb\xbf").split(b"\n"))
    return [part for part in parts if part]


def read(name: str, path: Path) -> tuple[list[dict], list[dict], int]:
    events: list[dict] = []
    quarantine: list[dict] = []
    records = 0
    for batch in formats()[name].parse(path, OPTIONS):
        assert batch.records == batch.events.num_rows + batch.quarantine.num_rows
        events += batch.events.to_pylist()
        quarantine += batch.quarantine.to_pylist()
        records += batch.records
    return events, quarantine, records


def present(rows: list[dict]) -> list[dict]:
    """Rows without their empty fields (batches differ in which empty columns they carry)."""
    return [{k: v for k, v in row.items() if v is not None} for row in rows]


# -- inputs ---------------------------------------------------------------------------

PIECES = [
        b"\x00", b"\r", b"\n", b"\r\n", b"\n\n", b"\xff", b"\xc3", b"\xef\xbb\xbf", b" ", b"\t", b"\t\t", b"=", b"*",
        b"Mar 16 09:58:02\t", b"Mon Mar 16 09:58:02 2026", b"2026-03-16 10:58:02 +0100 nas\t", b"10.0.0.1\t",
        b"admin\t", b"tty2\t", b"start\t", b"stop", b"update\t", b"task_id=5\t", b"cmd=show run <cr>",
        b"cmd-arg=x\t", b"priv-lvl=15", b"service*shell\t", b"\tUser-Name = \"a\"\n", b"\tTimestamp = 1773655082\n",
        b"\tCisco-AVPair = \"cmd=show \\\"x\\\" <cr>\"\n", b"\tbroken\n", b"Timestamp = 99999999999999999999",
    ]  # fmt: skip
ANY_FILE = st.one_of(arbitrary_bytes(PIECES, [b"x", b"\t", b"a=b\t"], 50_000), TEXT_LINES)

# Lines shaped like tac_plus accounting, with the oddities devices and files have.
VALUE = st.text(st.characters(exclude_characters="\t\n\r", exclude_categories=["Cs"]), max_size=12)
NAME = st.sampled_from(
    ["task_id", "service", "cmd", "cmd-arg", "priv-lvl", "Priv_Lvl", "x.y:z", "port", "elapsed_time"]
)
PAIR = st.one_of(
    st.builds(lambda k, sep, v: f"{k}{sep}{v}", NAME, st.sampled_from(["=", "=", "=", "*"]), VALUE),
    st.sampled_from(["", "garbage", "=1"]),
)
TIME = st.sampled_from(["Mar 16 09:58:02", "Dec 31 23:59:59", "Mon Mar 16 09:58:02 2026", "Feb 29 10:00:00", "soon"])
TACACS_LINE = st.one_of(
    st.builds(
        lambda t, nas, user, kind, pairs: "\t".join([t, nas, user, "tty1", "192.0.2.7", kind, *pairs]),
        TIME,
        st.sampled_from(["10.0.0.1", "nas=1", "2001:db8::1"]),
        st.sampled_from(["admin", "unknown", "a b", "cmd=x"]),
        st.sampled_from(["start", "stop", "stop", "update", "bogus"]),
        st.lists(PAIR, max_size=8),
    ),
    st.builds(
        lambda nas, cmd: f"2026-03-16 10:58:02 +0100 {nas}\toper\ttty1\t192.0.2.7\tstop\tshell\t{cmd}",
        st.sampled_from(["10.0.0.2", "r1"]),
        VALUE,
    ),
)
TACACS_FILE = st.lists(TACACS_LINE, min_size=1, max_size=40).map(lambda lines: "\n".join(lines).encode("utf-8") + b"\n")

ATTRIBUTE_LINE = st.one_of(
    st.builds(
        lambda k, v: f"\t{k} = {v}", st.sampled_from(["User-Name", "Cisco-AVPair", "Acct-Status-Type", "X"]), VALUE
    ),
    st.builds(lambda v: f'\tCisco-AVPair = "cmd={v}"', VALUE),
    st.sampled_from(["\tTimestamp = 1773655082", "\tTimestamp = x", "\tnot an attribute", "  \t "]),
)
RADIUS_RECORD = st.builds(
    lambda header, lines, gap: "\n".join([header, *lines]) + "\n" * gap,
    st.sampled_from(["Mon Mar 16 10:58:02 2026", "Mon Feb 30 10:58:02 2026", "garbage", "\tUser-Name = early"]),
    st.lists(ATTRIBUTE_LINE, max_size=6),
    st.integers(0, 2),
)
RADIUS_FILE = st.lists(RADIUS_RECORD, min_size=1, max_size=12).map(lambda rs: "\n".join(rs).encode("utf-8"))


# -- the books ------------------------------------------------------------------------


@SETTINGS
@given(data=st.one_of(ANY_FILE, TACACS_FILE))
def test_tacacs_reads_every_line_as_one_record(workdir, data):
    path = new_file(workdir, data)
    try:
        events, quarantine, records = read("tacacs", path)
    except EvidenceError:
        assert data.startswith(GZIP_MAGIC), "only a broken compressed stream may stop a plain file"
        return
    assert records == len(events) + len(quarantine)
    if not data.startswith(GZIP_MAGIC):
        assert records == len(reader_lines(data))
    for event in events:
        assert event["@timestamp"] is not None
        assert event["event.action"] in ("start", "stop", "update")


@SETTINGS
@given(data=st.one_of(ANY_FILE, RADIUS_FILE))
def test_radius_accounts_for_every_line(workdir, data):
    path = new_file(workdir, data)
    try:
        events, quarantine, records = read("radius-detail", path)
    except EvidenceError:
        assert data.startswith(GZIP_MAGIC), "only a broken compressed stream may stop a plain file"
        return
    assert records == len(events) + len(quarantine)
    if data.startswith(GZIP_MAGIC):
        return
    lines = reader_lines(data)
    separators = sum(1 for line in lines if not line.strip(b" \t\f\v"))  # read as blank lines
    in_records = sum(e["event.original"].count("\n") + 1 for e in events)
    in_records += sum(q["record"].count("\n") + 1 for q in quarantine)
    assert in_records + separators == len(lines)
    assert all(e["@timestamp"] is not None for e in events)


@SETTINGS
@given(files=st.lists(st.one_of(ANY_FILE, TACACS_FILE, RADIUS_FILE), min_size=1, max_size=3), gzipped=st.booleans())
def test_ingest_forced_as_either_format_never_raises_and_reconciles(workdir, files, gzipped):
    folder = workdir / unique_name("run")
    folder.mkdir()
    paths = [new_file(folder, gzip.compress(data) if gzipped and i == 0 else data) for i, data in enumerate(files)]
    for fmt in ("tacacs", "radius-detail"):
        with Workspace(None) as ws:
            result = ingest(paths, ws, OPTIONS, forced_format=fmt)
            assert len(result.files) == len(paths)
            for f in result.files:
                assert f.reconciles, f
            assert ws.count() == sum(f.parsed for f in result.files)
            assert ws.count("quarantine") == sum(f.quarantined for f in result.files)


# -- chunking changes nothing ---------------------------------------------------------


@SETTINGS
@given(data=TACACS_FILE, chunk_bytes=st.integers(1, 400), sample=st.integers(1, 5))
def test_tacacs_reading_does_not_depend_on_chunks_or_what_was_learned(workdir, data, chunk_bytes, sample):
    """Small chunks and a small sample send lines through the learned places and the RE2
    reading in every mix; each line must read the same either way."""
    path = new_file(workdir, data)
    whole = read("tacacs", path)
    with (
        mock.patch.object(
            tacacs_module, "iter_line_chunks", functools.partial(iter_line_chunks, chunk_bytes=chunk_bytes)
        ),
        mock.patch.object(tacacs_module, "SAMPLE_LINES", sample),
    ):
        chunked = read("tacacs", path)
    assert chunked[2] == whole[2]
    assert present(chunked[0]) == present(whole[0])
    assert chunked[1] == whole[1]


@SETTINGS
@given(data=RADIUS_FILE, chunk_bytes=st.integers(1, 300))
def test_radius_reading_does_not_depend_on_chunks(workdir, data, chunk_bytes):
    path = new_file(workdir, data)
    whole = read("radius-detail", path)
    with mock.patch.object(
        radius_module, "iter_line_chunks", functools.partial(iter_line_chunks, chunk_bytes=chunk_bytes)
    ):
        chunked = read("radius-detail", path)
    assert chunked[2] == whole[2]
    assert present(chunked[0]) == present(whole[0])
    assert chunked[1] == whole[1]


# -- generated tac_plus lines read back into their fields ------------------------------


@SETTINGS
@given(
    user=st.text(st.characters(exclude_characters="\t\n\r", exclude_categories=["Cs"]), min_size=1, max_size=20).filter(
        lambda u: u != "unknown" and u.strip(" \t\f\v")
    ),
    port=st.sampled_from(["tty1", "vty0", "console", "ssh"]),
    pairs=st.lists(
        st.tuples(st.sampled_from(["task_id", "service", "priv-lvl", "timezone", "start_time", "x:y"]), VALUE),
        max_size=6,
        unique_by=lambda p: p[0],
    ),
    cmd=st.one_of(st.none(), VALUE.filter(lambda c: c.strip() and c.strip() == c)),
)
def test_generated_tac_plus_lines_read_into_their_fields(workdir, user, port, pairs, cmd):
    items = [f"{k}={v}" for k, v in pairs] + ([f"cmd={cmd} <cr>"] if cmd else [])
    text = "\t".join(["Mar 16 09:58:02", "10.0.0.1", user, port, "192.0.2.7", "stop", *items])
    path = new_file(workdir, text.encode("utf-8") + b"\n")
    events, quarantine, _ = read("tacacs", path)
    assert quarantine == []
    (event,) = events
    assert event["user.name"] == user
    assert event["tacacs.port"] == port
    assert event["event.original"] == text
    for key, value in pairs:
        assert event[tacacs_module.column_name(key)] == value
    assert event["process.command_line"] == (cmd or None)
