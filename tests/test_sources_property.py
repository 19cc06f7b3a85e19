"""Property tests: arbitrary bytes never break the books, and valid RFC 5424 lines round-trip."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import SETTINGS, TEXT_LINES, arbitrary_bytes, new_file, unique_name

from seawall.errors import EvidenceError
from seawall.ingest import ingest
from seawall.sources import ReadOptions, formats
from seawall.sources.reader import GZIP_MAGIC, iter_line_chunks
from seawall.store import Workspace

UTC = dt.UTC
OPTIONS = ReadOptions(reference_time=dt.datetime(2024, 6, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("property")


def nonblank_lines(data: bytes) -> int:
    """Lines the reader reports: a leading byte-order mark dropped, split on LF, one
    trailing CR removed, empty lines skipped."""
    parts = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    return sum(1 for part in parts if (part[:-1] if part.endswith(b"\r") else part))


# -- inputs ---------------------------------------------------------------------------

PIECES = [
    b"\x00", b"\r", b"\n", b"\r\n", b"\xff", b"\xc3", b"\xe9", b"\xef\xbb\xbf", b" ", b"\t",
    b"<13>", b"<999>", b"<13>1 ", b"Jun 14 15:16:01 ", b"2024-01-02T03:04:05Z ", b"host ",
    b"sshd[1]: ", b"- - ", b"[x@1 a=\"b\\]\"] ", b"{", b"}", b"\"a\": ", b"[1,2]", b"\"", b"\\",
    b'{"@timestamp": "x"}', b'{"source": {"port": "p"}}', b'{"a": {"b": [1]}}',
]  # fmt: skip
# Short pieces, with at most one very long line in the middle.
ARBITRARY_BYTES = arbitrary_bytes(PIECES, [b"x", b"\xe9", b"<13>a "], 100_000)
ANY_FILE = st.one_of(ARBITRARY_BYTES, TEXT_LINES)


def check_parser(name: str, path: Path, data: bytes) -> None:
    records = events = quarantined = 0
    try:
        for batch in formats()[name].parse(path, OPTIONS):
            assert batch.records == batch.events.num_rows + batch.quarantine.num_rows
            records += batch.records
            events += batch.events.num_rows
            quarantined += batch.quarantine.num_rows
    except EvidenceError:
        assert data.startswith(GZIP_MAGIC), "only a broken compressed stream may stop a plain file"
        return
    assert records == events + quarantined
    if not data.startswith(GZIP_MAGIC):
        assert records == nonblank_lines(data)


@SETTINGS
@given(data=ANY_FILE)
def test_syslog_parser_accounts_for_every_line(workdir, data):
    check_parser("syslog", new_file(workdir, data), data)


@SETTINGS
@given(data=ANY_FILE)
def test_jsonl_parser_accounts_for_every_line(workdir, data):
    check_parser("jsonl", new_file(workdir, data), data)


@SETTINGS
@given(data=ARBITRARY_BYTES, chunk_bytes=st.integers(1, 300))
def test_reader_gives_the_same_lines_whatever_the_chunk_size(workdir, data, chunk_bytes):
    if data.startswith(GZIP_MAGIC):
        data = b"x" + data
    path = new_file(workdir, data)

    def read(size: int) -> tuple[list, list, list]:
        chunks = list(iter_line_chunks(path, chunk_bytes=size))
        return tuple(
            [v for c in chunks for v in getattr(c, name).to_pylist()] for name in ("lines", "offsets", "numbers")
        )

    whole = read(1 << 24)
    assert read(chunk_bytes) == whole
    assert len(whole[0]) == nonblank_lines(data)


@SETTINGS
@given(files=st.lists(ANY_FILE, min_size=1, max_size=3), gzipped=st.booleans())
def test_ingest_never_raises_and_reconciles(workdir, files, gzipped):
    folder = workdir / unique_name("run")
    folder.mkdir()
    paths = [new_file(folder, gzip.compress(data) if gzipped and i == 0 else data) for i, data in enumerate(files)]
    with Workspace(None) as ws:
        try:
            result = ingest(paths, ws, OPTIONS)
        except EvidenceError:  # allowed by the brief, though ingest is meant to report, not raise
            return
        assert len(result.files) == len(paths)
        for data, f in zip(files, result.files):
            assert f.reconciles, f
            if f.format is not None and f.error is None:
                assert f.read == nonblank_lines(data), f
        assert ws.count() == sum(f.parsed for f in result.files)
        assert ws.count("quarantine") == sum(f.quarantined for f in result.files)
        assert ws.count("files") == len(paths)


JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
KEYS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["@timestamp", "source.port", "Source.Port", "message", "MESSAGE", "event.dataset", "seawall.x"]),
)
JSON_OBJECTS = st.dictionaries(KEYS, JSON_VALUES, max_size=6)


@SETTINGS
@given(records=st.lists(JSON_OBJECTS, min_size=1, max_size=8))
def test_ingest_of_arbitrary_json_objects_never_raises_and_reconciles(workdir, records):
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    path = new_file(workdir, "\n".join(["{}"] + lines).encode("utf-8") + b"\n", suffix=".jsonl")
    with Workspace(None) as ws:
        result = ingest([path], ws, OPTIONS, forced_format="jsonl")
        (f,) = result.files
        assert f.error is None
        assert f.read == len(lines) + 1
        assert f.reconciles
        assert ws.count() == f.parsed


# -- RFC 5424 round trip --------------------------------------------------------------

PRINTUSASCII = st.characters(min_codepoint=33, max_codepoint=126)
SD_NAME_CHARS = st.characters(min_codepoint=33, max_codepoint=126, exclude_characters='= ]"')


def token(max_size: int) -> st.SearchStrategy[str]:
    """A header field: PRINTUSASCII, never the nil value '-'."""
    return st.text(PRINTUSASCII, min_size=1, max_size=max_size).filter(lambda s: s != "-")


def nil_or(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), strategy)


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


SD_PARAM = st.tuples(
    st.text(SD_NAME_CHARS, min_size=1, max_size=8), st.text(max_size=20).filter(lambda s: "\n" not in s)
)
SD_ELEMENT = st.tuples(st.text(SD_NAME_CHARS, min_size=1, max_size=12), st.lists(SD_PARAM, max_size=3)).map(
    lambda e: "[" + e[0] + "".join(f' {k}="{escape(v)}"' for k, v in e[1]) + "]"
)
STRUCTURED_DATA = nil_or(st.lists(SD_ELEMENT, min_size=1, max_size=3).map("".join))
MESSAGE = st.text(st.characters(exclude_characters="\n\r\ufeff", exclude_categories=["Cs"]), max_size=200)
TIMESTAMP = st.datetimes(
    min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2200, 12, 31), timezones=st.just(UTC)
).flatmap(
    lambda moment: st.tuples(st.just(moment), st.integers(-23 * 60 - 59, 23 * 60 + 59), st.sampled_from([0, 3, 6]))
)
PROCID = nil_or(
    st.one_of(
        st.integers(0, 2**31).map(str),
        st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz_-."), min_size=1, max_size=12).filter(lambda s: s != "-"),
    )
)


def rfc3339(moment: dt.datetime, offset_minutes: int, digits: int) -> tuple[str, dt.datetime]:
    """Render ``moment`` (UTC) in a numeric offset with ``digits`` fraction digits; return text and exact instant."""
    if digits == 3:
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    elif digits == 0:
        moment = moment.replace(microsecond=0)
    local = moment.astimezone(dt.timezone(dt.timedelta(minutes=offset_minutes)))
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{local.microsecond:06d}"[:digits]
    sign = "+" if offset_minutes >= 0 else "-"
    text += f"{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"
    return text, moment


@SETTINGS
@given(
    pri=st.integers(0, 191),
    stamp=nil_or(TIMESTAMP),
    host=nil_or(token(255)),
    app=nil_or(token(48)),
    procid=PROCID,
    msgid=nil_or(token(32)),
    sd=STRUCTURED_DATA,
    message=MESSAGE,
    bom=st.booleans(),
)
def test_generated_rfc5424_lines_parse_into_the_generated_fields(
    workdir, pri, stamp, host, app, procid, msgid, sd, message, bom
):
    stamp_text, instant = rfc3339(*stamp) if stamp else ("-", None)
    header = f"<{pri}>1 {stamp_text} {host or '-'} {app or '-'} {procid or '-'} {msgid or '-'} {sd or '-'}"
    line = header + ((" " + ("\ufeff" if bom else "") + message) if message or bom else "")
    path = new_file(workdir, line.encode("utf-8") + b"\n")

    (batch,) = list(formats()["syslog"].parse(path, OPTIONS))
    assert batch.quarantine.to_pylist() == []
    (event,) = batch.events.to_pylist()

    if instant is None:
        assert event["@timestamp"] is None
    else:
        assert event["@timestamp"].astimezone(UTC).replace(tzinfo=None) == instant.replace(tzinfo=None)
    assert event["log.syslog.priority"] == pri
    assert event["log.syslog.facility.code"] == pri // 8
    assert event["log.syslog.severity.code"] == pri % 8
    assert event["log.syslog.version"] == 1
    assert event["host.name"] == host
    assert event["log.syslog.appname"] == app
    assert event["process.name"] == app
    assert event["log.syslog.procid"] == procid
    assert event["process.pid"] == (int(procid) if procid and procid.isdigit() else None)
    assert event["log.syslog.msgid"] == msgid
    assert event["log.syslog.structured_data"] == sd
    assert event["message"] == message
    assert event["event.original"] == line
