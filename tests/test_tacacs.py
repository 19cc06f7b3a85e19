"""TACACS+ accounting: tac_plus and tac_plus-ng lines, attribute columns, dating, quarantine, sniffing."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seawall.ingest import detect_format, ingest
from seawall.sources import ReadOptions, formats
from seawall.sources import tacacs as tacacs_module
from seawall.sources.reader import iter_line_chunks
from seawall.store import Workspace

TACACS = formats()["tacacs"]
UTC = dt.UTC
REFERENCE = dt.datetime(2026, 3, 20, tzinfo=UTC)


def ts(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def parse_file(path: Path, reference: dt.datetime | None = REFERENCE, **options) -> tuple[list, list, int, list]:
    """Events and quarantine rows as dicts, records read, and the notes."""
    events: list[dict] = []
    quarantine: list[dict] = []
    records = 0
    notes: list[str] = []
    for batch in TACACS.parse(path, ReadOptions(reference_time=reference, **options)):
        assert batch.records == batch.events.num_rows + batch.quarantine.num_rows
        events += batch.events.to_pylist()
        quarantine += batch.quarantine.to_pylist()
        records += batch.records
        notes += batch.notes
    return events, quarantine, records, notes


def parse_lines(tmp_path: Path, *lines: str, reference: dt.datetime | None = REFERENCE):
    path = tmp_path / "acct.log"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return parse_file(path, reference)


def parse_one(tmp_path: Path, line: str, reference: dt.datetime | None = REFERENCE) -> dict:
    events, quarantine, _, _ = parse_lines(tmp_path, line, reference=reference)
    assert quarantine == [], quarantine
    (event,) = events
    return event


def quarantine_one(tmp_path: Path, line: str) -> dict:
    events, quarantine, _, _ = parse_lines(tmp_path, line)
    assert events == []
    (row,) = quarantine
    return row


def same_instant(value, expected: dt.datetime) -> bool:
    return value is not None and value.astimezone(UTC) == expected.astimezone(UTC)


def line(*fields: str) -> str:
    return "\t".join(fields)


HEAD = ("Mar 16 09:58:02", "10.20.0.1", "admin", "tty2", "192.0.2.10")


# -- tac_plus (F4.0.4) ----------------------------------------------------------------


@pytest.fixture
def session(fixtures) -> tuple[list[dict], Path]:
    """A router admin logs in, looks, reconfigures logging, plants a user, logs out."""
    path = fixtures / "sources" / "aaa" / "tac_plus.acct"
    events, quarantine, records, _ = parse_file(path)
    assert (records, quarantine) == (7, [])
    return events, path


def test_login_record(session):
    events, path = session
    login = events[0]
    assert same_instant(login["@timestamp"], ts(2026, 3, 16, 9, 58, 2))
    assert login["event.dataset"] == "tacacs.accounting"
    assert login["event.action"] == "start"
    assert login["event.category"] == "session"
    assert login["user.name"] == "admin"
    assert login["source.ip"] == "192.0.2.10"
    assert login["host.ip"] == login["host.name"] == "10.20.0.1"
    assert login["tacacs.port"] == "tty2"
    assert login["tacacs.rem_addr"] == "192.0.2.10"
    assert login["tacacs.task_id"] == "41"
    assert login["tacacs.service"] == "shell"
    assert login["tacacs.timezone"] == "UTC"
    assert login["tacacs.start_time"] == "1773655082"
    assert login["tacacs.priv_lvl"] is None
    assert login["process.command_line"] is None
    assert login["message"] == "start shell by admin on 10.20.0.1 tty2 from 192.0.2.10"
    assert login["event.original"] == path.read_text().splitlines()[0]
    assert (login["seawall.source.path"], login["seawall.source.format"]) == (str(path), "tacacs")
    assert (login["seawall.source.offset"], login["seawall.source.line"]) == (0, 1)


def test_command_records(session):
    events, path = session
    commands = [(e["process.command_line"], e["tacacs.cmd"], e["event.category"]) for e in events[1:6]]
    assert commands == [
        ("show running-config", "show running-config <cr>", "configuration"),
        ("configure terminal", "configure terminal <cr>", "configuration"),
        ("no logging host 10.0.0.5", "no logging host 10.0.0.5 <cr>", "configuration"),
        (
            "username backdoor privilege 15 secret 0 x",
            "username backdoor privilege 15 secret 0 x <cr>",
            "configuration",
        ),
        ("end", "end <cr>", "configuration"),
    ]
    backdoor = events[4]
    assert backdoor["event.action"] == "stop"
    assert backdoor["tacacs.priv_lvl"] == "15"
    assert backdoor["message"] == (
        "stop shell by admin on 10.20.0.1 tty2 from 192.0.2.10 (priv-lvl 15): username backdoor privilege 15 secret 0 x"
    )
    offsets = [0]
    for text in path.read_bytes().splitlines(keepends=True)[:-1]:
        offsets.append(offsets[-1] + len(text))
    assert [(e["seawall.source.offset"], e["seawall.source.line"]) for e in events] == list(
        zip(offsets, range(1, 8), strict=True)
    )


def test_logout_record_keeps_every_pair_with_dashes_as_underscores(session):
    events, _ = session
    logout = events[6]
    assert logout["event.category"] == "session"
    assert {name: logout[name] for name in logout if name.startswith("tacacs.") and logout[name] is not None} == {
        "tacacs.port": "tty2",
        "tacacs.rem_addr": "192.0.2.10",
        "tacacs.task_id": "41",
        "tacacs.timezone": "UTC",
        "tacacs.service": "shell",
        "tacacs.start_time": "1773655082",
        "tacacs.disc_cause": "1",
        "tacacs.disc_cause_ext": "1020",
        "tacacs.pre_session_time": "1",
        "tacacs.elapsed_time": "278",
        "tacacs.stop_time": "1773655360",
    }
    assert logout["message"] == "stop shell by admin on 10.20.0.1 tty2 from 192.0.2.10 after 278 s"


def test_ctime_timestamp_of_older_tac_plus_carries_its_year(tmp_path):
    event = parse_one(tmp_path, line("Mon Mar  2 09:58:02 2015", *HEAD[1:], "stop", "task_id=1", "service=shell"))
    assert same_instant(event["@timestamp"], ts(2015, 3, 2, 9, 58, 2))


def test_unknown_identity_fields_are_not_stored_as_names(tmp_path):
    """tac_plus writes 'unknown' for an empty user, port or remote address (a system record)."""
    event = parse_one(
        tmp_path,
        line("Mar 16 09:58:02", "10.20.0.1", "unknown", "unknown", "unknown", "start", "task_id=1", "service=system")
        + "\tevent=sys_acct\treason=reload",
    )
    assert event["user.name"] is None
    assert event["source.ip"] is None
    assert event["tacacs.rem_addr"] == "unknown"  # the raw value is always kept
    assert event["tacacs.port"] == "unknown"
    assert event["tacacs.event"] == "sys_acct"
    assert event["message"] == "start system by unknown user on 10.20.0.1"


@pytest.mark.parametrize(
    ("remote", "ip"),
    [
        ("192.0.2.10", "192.0.2.10"),
        ("2001:db8::7", "2001:db8::7"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
        ("async", None),
        ("jumphost.example", None),
        ("256.1.1.1", None),
        ("1:::2", None),
        ("", None),
    ],
)
def test_source_ip_only_when_the_remote_address_is_an_ip(tmp_path, remote, ip):
    event = parse_one(tmp_path, line(*HEAD[:4], remote, "start", "task_id=1"))
    assert event["source.ip"] == ip
    assert event["tacacs.rem_addr"] == remote


def test_values_may_hold_equals_signs_spaces_and_stars(tmp_path):
    event = parse_one(tmp_path, line(*HEAD, "stop", "task_id=5", "cmd=snmp-server community a=b*c RO <cr>"))
    assert event["tacacs.cmd"] == "snmp-server community a=b*c RO <cr>"
    assert event["process.command_line"] == "snmp-server community a=b*c RO"


def test_optional_pair_separator(tmp_path):
    """RFC 8907: 'attr*value' is an optional argument."""
    event = parse_one(tmp_path, line(*HEAD, "stop", "task_id=5", "service*shell", "cmd=show clock <cr>"))
    assert event["tacacs.service"] == "shell"
    assert event["process.command_line"] == "show clock"


def test_cmd_arg_pairs_make_the_command_line(tmp_path):
    event = parse_one(
        tmp_path,
        line(*HEAD, "stop", "task_id=5", "service=shell", "cmd=show", "cmd-arg=running-config", "cmd-arg=<cr>"),
    )
    assert event["process.command_line"] == "show running-config"
    assert event["tacacs.cmd"] == "show"
    assert event["tacacs.cmd_arg"] == "running-config\n<cr>"  # a repeated attribute: values one per line


def test_record_without_pairs(tmp_path):
    events, quarantine, _, _ = parse_lines(
        tmp_path,
        line(*HEAD, "start"),
        line(*HEAD, "start", ""),  # tac_plus ends the type with a tab even when no pair follows
    )
    assert quarantine == []
    assert [e["event.action"] for e in events] == ["start", "start"]


def test_attribute_names_differing_in_case_or_dash_share_a_column(tmp_path):
    events, quarantine, _, _ = parse_lines(
        tmp_path, line(*HEAD, "stop", "priv-lvl=15"), line(*HEAD, "stop", "PRIV_LVL=1"), line(*HEAD, "stop", "x=1")
    )
    assert quarantine == []
    assert [e["tacacs.priv_lvl"] for e in events] == ["15", "1", None]


def test_attribute_named_like_a_fixed_column_does_not_replace_it(tmp_path):
    event = parse_one(tmp_path, line(*HEAD, "stop", "port=9", "rem_addr=x", "task_id=1"))
    assert (event["tacacs.port"], event["tacacs.rem_addr"], event["tacacs.task_id"]) == ("tty2", "192.0.2.10", "1")


def test_update_record(tmp_path):
    event = parse_one(tmp_path, line(*HEAD, "update", "task_id=41", "service=shell", "elapsed_time=60"))
    assert event["event.action"] == "update"
    assert event["event.category"] == "session"


def test_crlf_lines(tmp_path):
    path = tmp_path / "crlf.acct"
    path.write_bytes(
        (
            line(*HEAD, "stop", "task_id=1", "cmd=show clock <cr>")
            + "\r\n"
            + line(*HEAD, "start", "task_id=2")
            + "\r\n"
        ).encode()
    )
    events, quarantine, _, _ = parse_file(path)
    assert quarantine == []
    assert events[0]["tacacs.cmd"] == "show clock <cr>"
    assert events[1]["tacacs.task_id"] == "2"


# -- tac_plus-ng ----------------------------------------------------------------------


@pytest.fixture
def ng_events(fixtures) -> list[dict]:
    events, quarantine, records, _ = parse_file(fixtures / "sources" / "aaa" / "tac_plus-ng.acct")
    assert (records, quarantine) == (6, [])
    return events


def test_tac_plus_ng_default_format(ng_events):
    first, show = ng_events[0], ng_events[1]
    assert same_instant(first["@timestamp"], ts(2026, 3, 16, 9, 58, 2))  # +0100 in the file
    assert first["host.name"] == first["host.ip"] == "10.20.0.2"
    assert first["user.name"] == "oper"
    assert first["tacacs.port"] == "tty1"
    assert first["source.ip"] == first["tacacs.rem_addr"] == "2001:db8::7"
    assert (first["event.action"], first["event.category"]) == ("start", "session")
    assert first["tacacs.service"] == "shell"
    assert first["tacacs.cmd"] is None
    assert first["process.command_line"] is None
    assert show["process.command_line"] == "show running-config"
    assert show["tacacs.cmd"] == "show running-config <cr>"
    assert show["event.category"] == "configuration"
    assert show["message"] == "stop shell by oper on 10.20.0.2 tty1 from 2001:db8::7: show running-config"
    assert [e["process.command_line"] for e in ng_events[2:5]] == [
        "configure terminal",
        "no logging host 10.0.0.5",
        None,
    ]


def test_tac_plus_ng_other_services_keep_their_pairs_as_written(ng_events):
    reload = ng_events[5]
    assert reload["tacacs.service"] == "system"
    assert reload["tacacs.cmd"] is None
    assert reload["process.command_line"] is None
    assert reload["tacacs.args"] == "task_id=9 timezone=CET event=sys_acct reason=reload"
    assert reload["user.name"] is None
    assert reload["message"] == "start system by unknown user on 10.20.0.2"


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        ("2026-03-16 10:58:02 -0500 nas1", ts(2026, 3, 16, 15, 58, 2)),
        ("2026-03-16T10:58:02.250000+01:00 nas1", dt.datetime(2026, 3, 16, 9, 58, 2, 250000, tzinfo=UTC)),
        ("Mar 16 10:58:02 nas1", ts(2026, 3, 16, 10, 58, 2)),  # timestamp = RFC3164: no year, no zone
    ],
)
def test_tac_plus_ng_timestamp_settings(tmp_path, first, expected):
    event = parse_one(tmp_path, line(first, "oper", "tty1", "192.0.2.7", "stop", "shell", "show clock"))
    assert same_instant(event["@timestamp"], expected)
    assert event["host.name"] == "nas1"


# -- dating ---------------------------------------------------------------------------


def test_yearless_time_takes_the_reference_year(tmp_path):
    event = parse_one(tmp_path, line(*HEAD, "start"), reference=ts(2024, 6, 20))
    assert same_instant(event["@timestamp"], ts(2024, 3, 16, 9, 58, 2))


def test_december_record_read_in_january_is_from_the_year_before(tmp_path):
    event = parse_one(tmp_path, line("Dec 31 23:59:59", *HEAD[1:], "start"), reference=ts(2025, 1, 2))
    assert same_instant(event["@timestamp"], ts(2024, 12, 31, 23, 59, 59))


def test_space_padded_day(tmp_path):
    event = parse_one(tmp_path, line("Mar  6 09:58:02", *HEAD[1:], "start"), reference=ts(2026, 4, 1))
    assert same_instant(event["@timestamp"], ts(2026, 3, 6, 9, 58, 2))


def test_february_29_goes_to_the_previous_leap_year(tmp_path):
    event = parse_one(tmp_path, line("Feb 29 10:00:00", *HEAD[1:], "start"), reference=ts(2025, 1, 10))
    assert same_instant(event["@timestamp"], ts(2024, 2, 29, 10))


def test_yearless_time_defaults_to_the_file_modification_time_and_says_so(tmp_path):
    path = tmp_path / "old.acct"
    path.write_text(
        line("Dec 30 10:00:00", *HEAD[1:], "start") + "\n" + line("Feb 01 10:00:00", *HEAD[1:], "stop") + "\n"
    )
    mtime = ts(2021, 3, 1).timestamp()
    os.utime(path, (mtime, mtime))
    events, _, _, notes = parse_file(path, reference=None)
    assert same_instant(events[0]["@timestamp"], ts(2020, 12, 30, 10))
    assert same_instant(events[1]["@timestamp"], ts(2021, 2, 1, 10))
    assert any("modification time" in note for note in notes)


def test_zone_less_times_are_read_in_the_given_zone(tmp_path):
    path = tmp_path / "paris.acct"
    path.write_text(line(*HEAD, "start") + "\n")
    events, _, _, _ = parse_file(path, timezone="Europe/Paris")
    assert same_instant(events[0]["@timestamp"], ts(2026, 3, 16, 8, 58, 2))  # CET is UTC+1 in March


# -- quarantine -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("hello world", "too few fields: 1 separated by tabs, a TACACS+ accounting record has at least 6"),
        (line(*HEAD[:4], "start"), "too few fields: 5 separated by tabs, a TACACS+ accounting record has at least 6"),
        (line("Mar 16 09:58", *HEAD[1:], "stop"), "unreadable timestamp 'Mar 16 09:58'"),
        (line("Feb 30 09:58:00", *HEAD[1:], "stop"), "unreadable timestamp 'Feb 30 09:58:00'"),
        (line("yesterday", *HEAD[1:], "stop", "task_id=1"), "unreadable timestamp 'yesterday'"),
        (line(*HEAD, "bogus", "task_id=1"), "unknown record type 'bogus'"),
        (line(*HEAD, "unknown", "task_id=1"), "unknown record type 'unknown'"),
        (
            line(*HEAD, "stop", "task_id=1", "garbage", "cmd=x"),
            "malformed attribute-value pair 'garbage' (expected attribute=value or attribute*value)",
        ),
        (
            line(*HEAD, "stop", "=15"),
            "malformed attribute-value pair '=15' (expected attribute=value or attribute*value)",
        ),
        (line(*HEAD, "stop", *[f"a{i}=1" for i in range(256)]), "more than 255 attribute-value pairs"),
        (
            line("2026-03-16 10:58:02 +0100 10.20.0.2", "oper", "tty1", "192.0.2.7", "stop", "shell", "x", "y"),
            "tac_plus-ng record with 8 fields; the default accounting format has 7",
        ),
    ],
)
def test_quarantine_reasons(tmp_path, text, reason):
    row = quarantine_one(tmp_path, text)
    assert row["reason"] == reason
    assert row["record"] == text
    assert (row["seawall.source.offset"], row["seawall.source.line"], row["seawall.source.format"]) == (0, 1, "tacacs")


def test_quarantine_locations_and_books_in_a_mixed_file(tmp_path):
    good = line(*HEAD, "stop", "task_id=1", "cmd=show clock <cr>")
    bad = line(*HEAD, "oops", "task_id=2")
    path = tmp_path / "mixed.acct"
    path.write_text(f"{good}\n\n{bad}\n{good}\nnot a record\n")
    events, quarantine, records, _ = parse_file(path)
    assert records == 4 == len(events) + len(quarantine)
    assert [(q["seawall.source.line"], q["seawall.source.offset"]) for q in quarantine] == [
        (3, len(good) + 2),
        (5, 2 * len(good) + len(bad) + 4),
    ]
    assert [e["seawall.source.line"] for e in events] == [1, 4]


def test_a_rare_attribute_gets_its_column_whichever_chunk_it_is_in(tmp_path, monkeypatch):
    """Places are learned from a sample; later lines with new names or places are read
    with RE2 and still give every pair its column."""
    lines = [line(*HEAD, "stop", f"task_id={i}", "service=shell", f"cmd=show {i} <cr>") for i in range(40)]
    lines[25] = line(*HEAD, "stop", f"task_id={25}", "cmd=show 25 <cr>", "service=shell", "rare-one=yes")
    lines[33] = line(*HEAD, "stop", "task_id=33", "service*shell", "cmd=a=b <cr>")
    path = tmp_path / "learn.acct"
    path.write_text("\n".join(lines) + "\n")
    whole = parse_file(path)[0]
    monkeypatch.setattr(tacacs_module, "SAMPLE_LINES", 3)
    monkeypatch.setattr(tacacs_module, "iter_line_chunks", functools.partial(iter_line_chunks, chunk_bytes=700))
    events, quarantine, records, _ = parse_file(path)
    assert (records, quarantine) == (40, [])
    present = lambda e: {k: v for k, v in e.items() if v is not None}  # noqa: E731  (batches differ in empty columns)
    assert [present(e) for e in events] == [present(e) for e in whole]
    assert events[25]["tacacs.rare_one"] == "yes"
    assert events[25]["tacacs.service"] == "shell"
    assert events[33]["process.command_line"] == "a=b"
    assert [e["tacacs.task_id"] for e in events] == [str(i) for i in range(40)]


def test_attribute_columns_no_event_has_are_left_out(tmp_path):
    events, quarantine, _, _ = parse_lines(tmp_path, line(*HEAD, "stop", "task_id=1"), line(*HEAD, "oops", "junk=1"))
    assert len(quarantine) == 1
    assert "tacacs.junk" not in events[0]


def test_too_many_distinct_attribute_names_are_quarantined(tmp_path, monkeypatch):
    monkeypatch.setattr(tacacs_module, "MAX_ATTRIBUTES", 3)
    events, quarantine, records, _ = parse_lines(
        tmp_path, line(*HEAD, "stop", "a=1", "b=2"), line(*HEAD, "stop", "c=1", "d=2"), line(*HEAD, "stop", "a=3")
    )
    assert records == 3
    assert [e["tacacs.a"] for e in events] == ["1", "3"]
    assert [q["reason"] for q in quarantine] == ["more than 3 distinct attribute names in the file"]


# -- files: gzip, sniffing, ingest ----------------------------------------------------


def test_gzip_file_reads_like_the_plain_one(tmp_path, fixtures, session):
    plain, _ = session
    path = tmp_path / "tac_plus.acct.1"
    path.write_bytes(gzip.compress((fixtures / "sources" / "aaa" / "tac_plus.acct").read_bytes()))
    events, quarantine, _, _ = parse_file(path)
    assert quarantine == []
    strip = lambda e: {k: v for k, v in e.items() if k != "seawall.source.path"}  # noqa: E731
    assert [strip(e) for e in events] == [strip(e) for e in plain]


@pytest.mark.parametrize("name", ["tac_plus.acct", "tac_plus-ng.acct"])
def test_sniff_recognises_its_own_files_confidently(fixtures, name):
    path = fixtures / "sources" / "aaa" / name
    head = path.read_bytes()
    assert TACACS.sniff(head) == 1.0
    others = {fmt: f.sniff(head) for fmt, f in formats().items() if fmt != "tacacs"}
    assert max(others.values()) < 0.5
    assert detect_format(path).name == "tacacs"


@pytest.mark.parametrize("name", ["bsd_sample.log", "rfc5424_examples.log", "ecs_sample.jsonl", "aaa/detail-20260316"])
def test_sniff_leaves_other_formats_alone(fixtures, name):
    assert TACACS.sniff((fixtures / "sources" / name).read_bytes()) == 0.0


def test_sniff_of_a_gzip_file_through_detect_format(tmp_path, fixtures):
    path = tmp_path / "acct.gz"
    path.write_bytes(gzip.compress((fixtures / "sources" / "aaa" / "tac_plus.acct").read_bytes()))
    assert detect_format(path).name == "tacacs"


def test_ingest_into_a_workspace_and_read_back(tmp_path, fixtures):
    folder = tmp_path / "evidence"
    folder.mkdir()
    shutil.copy(fixtures / "sources" / "aaa" / "tac_plus.acct", folder / "tac_plus.acct")
    shutil.copy(fixtures / "sources" / "aaa" / "tac_plus-ng.acct", folder / "tac_plus-ng.acct")
    with Workspace(None) as ws:
        options = ReadOptions(reference_time=REFERENCE)
        result = ingest([folder / "tac_plus.acct"], ws, options)  # recognised by its content
        result.files += ingest([folder / "tac_plus-ng.acct"], ws, options, forced_format="tacacs").files
        assert [(f.format, f.read, f.parsed, f.quarantined, f.error) for f in result.files] == [
            ("tacacs", 7, 7, 0, None),
            ("tacacs", 6, 6, 0, None),
        ]
        rows = ws.con.execute(
            'SELECT "user.name", "host.name", "process.command_line", "tacacs.priv_lvl", "seawall.source.line" '
            "FROM events WHERE \"event.category\" = 'configuration' AND \"host.name\" = '10.20.0.1' "
            'ORDER BY "@timestamp"'
        ).fetchall()
        assert rows == [
            ("admin", "10.20.0.1", "show running-config", "15", 2),
            ("admin", "10.20.0.1", "configure terminal", "15", 3),
            ("admin", "10.20.0.1", "no logging host 10.0.0.5", "15", 4),
            ("admin", "10.20.0.1", "username backdoor privilege 15 secret 0 x", "15", 5),
            ("admin", "10.20.0.1", "end", "15", 6),
        ]
        (stamp,) = ws.con.execute('SELECT min("@timestamp") FROM events').fetchone()
        assert same_instant(stamp, ts(2026, 3, 16, 9, 58, 2))
        assert ws.count() == 13
        assert ws.count("quarantine") == 0


def test_ingest_quarantines_with_reason_and_location(tmp_path):
    path = tmp_path / "acct.log"
    path.write_text(line(*HEAD, "start", "task_id=1") + "\n" + line(*HEAD, "nope", "task_id=2") + "\n")
    with Workspace(None) as ws:
        (f,) = ingest([path], ws, ReadOptions(reference_time=REFERENCE)).files
        assert (f.format, f.read, f.parsed, f.quarantined) == ("tacacs", 2, 1, 1)
        (row,) = ws.quarantine_rows()
        assert row["reason"] == "unknown record type 'nope'"
        assert (row["seawall.source.line"], row["seawall.source.offset"]) == (
            2,
            len(line(*HEAD, "start", "task_id=1")) + 1,
        )


def test_cli_hunt_reads_a_tac_plus_file(tmp_path, fixtures):
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    shutil.copy(fixtures / "sources" / "aaa" / "tac_plus.acct", evidence / "tac_plus.acct")
    out = tmp_path / "case"
    done = subprocess.run(
        [sys.executable, "-m", "seawall", "hunt", str(evidence), "--out", str(out), "--year", "2026"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (entry,) = json.loads((out / "run.json").read_text())["files"]
    assert Path(entry["path"]).name == "tac_plus.acct"
    assert (entry["format"], entry["read"], entry["parsed"], entry["quarantined"]) == ("tacacs", 7, 7, 0)
