"""Property tests for the device-message stage of the syslog reader.

Arbitrary text around a valid device tag never breaks a batch or the books; every catalog
pattern survives arbitrary text; a well-formed Cisco line gives back what it was built from.
Each example is one file of several lines, as every parse has a fixed cost (SQL planning).
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.sources import ReadOptions, formats
from seawall.sources.device_catalog import catalog
from seawall.sources.device_messages import zone_offsets

UTC = dt.UTC
REFERENCE = dt.datetime(2024, 6, 30, 12, tzinfo=UTC)
OPTIONS = ReadOptions(reference_time=REFERENCE)
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_counter = itertools.count()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("device_property")


def write(folder: Path, lines: list[str]) -> Path:
    path = folder / f"d{next(_counter)}.log"
    path.write_bytes("\n".join(lines).encode("utf-8") + b"\n")
    return path


def parse(path: Path) -> tuple[list[dict], list[dict], int]:
    events: list[dict] = []
    quarantine: list[dict] = []
    records = 0
    for batch in formats()["syslog"].parse(path, OPTIONS):
        assert batch.records == batch.events.num_rows + batch.quarantine.num_rows
        events += batch.events.to_pylist()
        quarantine += batch.quarantine.to_pylist()
        records += batch.records
    return events, quarantine, records


def catalog_patterns() -> list[tuple[tuple[str, ...], str, tuple[str, ...]]]:
    """(codes, regex, groups) of every pattern of the shipped catalog."""
    cat = catalog()
    if hasattr(cat, "entries"):
        return [(e.codes, p.regex, p.groups) for e in cat.entries for p in e.patterns]
    return [(m.codes, m.pattern, m.groups) for m in cat.matchers if m.pattern]


def catalog_codes() -> list[str]:
    return sorted({code for codes, _, _ in catalog_patterns() for code in codes})


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def nonblank_lines(data: bytes) -> int:
    """Lines the reader reports: split on LF, one trailing CR removed, empty lines skipped."""
    return sum(1 for part in data.split(b"\n") if (part[:-1] if part.endswith(b"\r") else part))


# -- inputs ---------------------------------------------------------------------------

# Text on one line: no line breaks, no lone surrogates (not encodable).
LINE_TEXT = st.text(st.characters(exclude_characters="\n\r", exclude_categories=["Cs"]), max_size=80)
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
WORD = st.text(st.sampled_from(UPPER + "0123456789_"), min_size=0, max_size=10)
NAME = st.builds(lambda first, rest: first + rest, st.sampled_from(UPPER), WORD).filter(
    lambda name: not (name.startswith("SW") and name[2:].isdigit())  # reserved for stack members
)
STACK = st.one_of(st.just(""), st.integers(1, 9).map(lambda n: f"SW{n}"))
CODE = st.builds(
    lambda fac, sub, member, sev, mnem: "-".join(p for p in (fac, sub, member, str(sev), mnem) if p),
    NAME,
    st.one_of(st.just(""), NAME),
    STACK,
    st.integers(0, 7),
    NAME,
)
TAG = st.builds(lambda code, xr: f"%{code}{' ' if xr else ''}:", CODE, st.booleans())

# Pieces a device prefix is made of, and some that only look like one.
PREFIX_PIECES = st.sampled_from(
    [
        "<189>", "<13>1 ", "<999>", "123: ", "000042: ", "edge-rtr1: ", "10.0.0.5: ", "Jun 13 ", "Jun  3 ",
        "2024 ", "2024 Aug 27 ", "10:00:00", ".123", ".123456", " UTC", " PDT", " VIENNA", " UTC+07:30",
        ": ", ":", " ", "*", ".", "RP/0/RSP0/CPU0:", "config[65734]: ", "2y10w: ", "00:00:46: ", "%", "%%01",
        "[junos@2636 a=\"b\"] ", "- ", "\t", "é", "\x00",
    ]
)  # fmt: skip
PREFIX = st.lists(st.one_of(PREFIX_PIECES, LINE_TEXT.map(lambda s: s[:12])), max_size=10).map("".join)


# -- arbitrary text around a tag ------------------------------------------------------


@SETTINGS
@given(lines=st.lists(st.tuples(PREFIX, TAG, LINE_TEXT), min_size=1, max_size=20))
def test_arbitrary_text_around_a_device_tag_never_breaks_the_books(workdir, lines):
    texts = [prefix + tag + " " + text for prefix, tag, text in lines]
    path = write(workdir, texts)
    events, quarantine, records = parse(path)
    assert records == len(events) + len(quarantine) == nonblank_lines(path.read_bytes())
    for event in events:
        # a line is a device message with all of its tag fields, or none of them
        device = event.get("observer.vendor") is not None
        assert (event.get("event.code") is not None) == device, event["event.original"]
        assert (event["event.dataset"] != "syslog") == device, event["event.original"]


@SETTINGS
@given(texts=st.lists(LINE_TEXT, min_size=1, max_size=4))
def test_every_catalog_code_with_arbitrary_text_parses(workdir, texts):
    """Each code of the catalog, under each vendor's tag shape, followed by arbitrary text."""
    lines = []
    for code, text in itertools.product(catalog_codes(), texts):
        if "/" in code:
            lines.append(f"<189>Jun 14 13:00:01 CE-AGG1 %%01{code}(s)[0]:{text}")
        elif "-" in code:
            lines.append(f"<189>77: rtr1: 000077: Jun 13 10:00:00.123 UTC: %{code}: {text}")
            lines.append(f"Jun 14 12:00:05 leaf1 Aaa: %{code}: {text}")  # Arista
        else:
            lines.append(f"Jun 14 11:00:00 mx1 mgd[1]: {code}: {text}")
            lines.append(f'<165>1 2024-06-14T11:00:00Z mx1 mgd 1 {code} [junos@2636.1 username="{code}"] {text}')
    path = write(workdir, lines)
    events, quarantine, records = parse(path)
    assert quarantine == []
    assert records == len(events) == len(lines)
    for event in events:
        assert event["event.code"] is not None, event["event.original"]
        assert event["event.dataset"] != "syslog", event["event.original"]


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(LINE_TEXT, min_size=1, max_size=20))
def test_every_catalog_pattern_on_arbitrary_text_never_raises(texts):
    """Matching a pattern and extracting its groups never fails, in either RE2 the reader
    uses (Arrow's kernels and DuckDB's functions)."""
    array = pa.array(texts, pa.string())
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t (s VARCHAR)")
        con.executemany("INSERT INTO t VALUES (?)", [[s] for s in texts])
        for _, regex, groups in catalog_patterns():
            assert len(pc.match_substring_regex(array, regex)) == len(texts)
            if groups:
                extracted = pc.extract_regex(array, regex)
                assert extracted.type.num_fields == len(groups)
                names = "[" + ", ".join(sql_text(g) for g in groups) + "]"
                extract = f", regexp_extract(s, {sql_text(regex)}, {names})"
            else:
                extract = ""
            rows = con.sql(f"SELECT regexp_matches(s, {sql_text(regex)}){extract} FROM t").fetchall()
            assert len(rows) == len(texts)
    finally:
        con.close()


# -- a well-formed Cisco line round-trips ---------------------------------------------

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
ZONES = sorted(zone_offsets())
HOST = st.from_regex(r"[a-z][a-z0-9-]{0,14}(\.[a-z][a-z0-9-]{0,8}){0,2}", fullmatch=True)
MESSAGE = st.builds(
    lambda first, rest: first + rest,
    st.characters(exclude_categories=["Cs", "Zs", "Cc", "Zl", "Zp"]),
    LINE_TEXT,
)


@st.composite
def clock(draw) -> tuple[str, dt.datetime, str, str | None]:
    """A device clock reading: its text, the instant it names, its marker and zone."""
    zone = draw(st.one_of(st.none(), st.sampled_from(ZONES)))
    offset = dt.timedelta(minutes=zone_offsets()[zone] if zone else 0)
    with_year = draw(st.booleans())
    if with_year:
        instant = draw(st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2035, 12, 31), timezones=st.just(UTC)))
    else:
        # a year-less reading names the last such date at most a day after the reference
        low, high = REFERENCE - dt.timedelta(days=300), REFERENCE + dt.timedelta(hours=23)
        instant = draw(st.datetimes(low.replace(tzinfo=None), high.replace(tzinfo=None), timezones=st.just(UTC)))
    digits = draw(st.sampled_from([0, 3, 6]))
    instant = instant.replace(microsecond=instant.microsecond // 10 ** (6 - digits) * 10 ** (6 - digits))
    local = (instant + offset).replace(tzinfo=None)
    day = draw(st.sampled_from([f"{local.day:2d}", str(local.day)]))
    month = MONTHS[local.month - 1]
    if not with_year:
        date = f"{month} {day}"
    elif draw(st.booleans()):
        date = f"{month} {day} {local.year}"
    else:
        date = f"{local.year} {month} {day}"  # NX-OS
    fraction = f".{local.microsecond:06d}"[: digits + 1] if digits else ""
    marker = draw(st.sampled_from(["", "*", "."]))
    text = f"{marker}{date} {local:%H:%M:%S}{fraction}" + (f" {zone}" if zone else "")
    return text, instant, marker, zone


@st.composite
def cisco_line(draw) -> tuple[str, dict]:
    pri = draw(st.one_of(st.none(), st.integers(0, 191)))
    counter = draw(st.one_of(st.none(), st.integers(0, 10**9)))
    host = draw(st.one_of(st.none(), HOST))
    seq = draw(st.one_of(st.none(), st.integers(0, 10**8)))
    stamp, instant, marker, _zone = draw(clock())
    code = draw(CODE)
    xr = draw(st.booleans())
    message = draw(MESSAGE)
    prefix = "".join(
        [
            f"<{pri}>" if pri is not None else "",
            f"{counter}: " if counter is not None else "",
            f"{host}: " if host is not None else "",
            f"{seq:06d}: " if seq is not None else "",
        ]
    )
    line = f"{prefix}{stamp}: %{code}{' ' if xr else ''}: {message}"
    parts = [p for p in code.split("-") if not (p.startswith("SW") and p[2:].isdigit())]
    expected = {
        "host.name": host,
        "event.sequence": seq if seq is not None else counter,
        "event.code": code,
        "event.provider": "-".join(parts[:-2]),
        "event.severity": int(parts[-2]),
        "message": message,
        "@timestamp": instant,
        "observer.clock.state": {"": None, "*": "not synchronised", ".": "synchronisation lost"}[marker],
        "event.dataset": "cisco.ios",
    }
    return line, expected


@SETTINGS
@given(generated=st.lists(cisco_line(), min_size=1, max_size=20))
def test_generated_cisco_line_round_trips(workdir, generated):
    path = write(workdir, [line for line, _ in generated])
    events, quarantine, _ = parse(path)
    assert quarantine == []
    assert len(events) == len(generated)
    for event, (line, expected) in zip(events, generated, strict=True):
        assert event["event.original"] == line
        for field, value in expected.items():
            actual = event[field]
            if field == "@timestamp":
                actual = actual.astimezone(UTC) if actual is not None else None
            assert actual == value, (field, line)
