"""FreeRADIUS detail files: records over several lines, attribute columns, dating, quarantine, sniffing."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import shutil
from pathlib import Path

import pytest

from seawall.ingest import detect_format, ingest
from seawall.sources import ReadOptions, formats
from seawall.sources import radius as radius_module
from seawall.sources.reader import iter_line_chunks
from seawall.store import Workspace

RADIUS = formats()["radius-detail"]
UTC = dt.UTC


def ts(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def parse_file(path: Path, **options) -> tuple[list[dict], list[dict], int, list[str]]:
    events: list[dict] = []
    quarantine: list[dict] = []
    records = 0
    notes: list[str] = []
    for batch in RADIUS.parse(path, ReadOptions(**options)):
        assert batch.records == batch.events.num_rows + batch.quarantine.num_rows
        events += batch.events.to_pylist()
        quarantine += batch.quarantine.to_pylist()
        records += batch.records
        notes += [n for n in batch.notes if n not in notes]
    return events, quarantine, records, notes


def parse_text(tmp_path: Path, text: str, **options):
    path = tmp_path / "detail"
    path.write_text(text, encoding="utf-8")
    return parse_file(path, **options)


def record(header: str, *pairs: str) -> str:
    return header + "\n" + "".join(f"\t{pair}\n" for pair in pairs) + "\n"


def same_instant(value, expected: dt.datetime) -> bool:
    return value is not None and value.astimezone(UTC) == expected.astimezone(UTC)


HEADER = "Mon Mar 16 10:58:02 2026"


@pytest.fixture
def detail(fixtures) -> tuple[list[dict], Path]:
    path = fixtures / "sources" / "aaa" / "detail-20260316"
    events, quarantine, records, _ = parse_file(path)
    assert (records, quarantine) == (5, [])
    return events, path


def test_start_record(detail):
    events, path = detail
    start = events[0]
    # The server wrote its local time (UTC+1) on the date line; Timestamp is exact and wins.
    assert same_instant(start["@timestamp"], ts(2026, 3, 16, 9, 58, 2))
    assert start["event.dataset"] == "radius.accounting"
    assert start["event.action"] == "start"
    assert start["event.category"] == "session"
    assert start["user.name"] == "admin"
    assert start["host.ip"] == "10.20.0.1"
    assert start["host.name"] == "pe-r7"
    assert start["source.ip"] == "192.0.2.10"  # Calling-Station-Id holds the admin's address
    assert start["process.command_line"] is None
    assert start["radius.acct_session_id"] == "0000002A"  # quotes removed
    assert start["radius.acct_status_type"] == "Start"
    assert start["radius.nas_port_type"] == "Virtual"
    assert start["radius.cisco_avpair"] == "shell:priv-lvl=15"
    assert start["radius.event_timestamp"] == "Mar 16 2026 09:58:02 UTC"
    assert start["radius.timestamp"] == "1773655082"
    assert start["message"] == "start by admin on pe-r7 port tty2 from 192.0.2.10 session 0000002A"
    lines = path.read_text().splitlines()
    assert start["event.original"] == "\n".join(lines[:16])
    assert (start["seawall.source.offset"], start["seawall.source.line"]) == (0, 1)
    assert (start["seawall.source.path"], start["seawall.source.format"]) == (str(path), "radius-detail")


def test_command_records_from_cisco_avpair(detail):
    events, path = detail
    show, backdoor = events[1], events[2]
    assert show["process.command_line"] == "show running-config"
    assert show["event.category"] == "configuration"
    assert show["event.action"] == "stop"
    assert show["radius.cisco_avpair"] == "task_id=43\nservice=shell\npriv-lvl=15\ncmd=show running-config <cr>"
    assert backdoor["process.command_line"] == "username backdoor privilege 15 secret 0 x"
    assert same_instant(backdoor["@timestamp"], ts(2026, 3, 16, 9, 59, 5))
    assert backdoor["message"] == (
        "stop by admin on pe-r7 port tty2 from 192.0.2.10 session 0000002C: username backdoor privilege 15 secret 0 x"
    )
    text = path.read_bytes()
    for event in events:  # an event's location is its date line's
        assert text[event["seawall.source.offset"] :].startswith(b"Mon Mar 16 ")
        assert text.splitlines()[event["seawall.source.line"] - 1].startswith(b"Mon Mar 16 ")


def test_stop_and_interim_update(detail):
    events, _ = detail
    stop, interim = events[3], events[4]
    assert (stop["event.action"], stop["radius.acct_session_time"], stop["radius.acct_terminate_cause"]) == (
        "stop",
        "278",
        "User-Request",
    )
    assert stop["message"].endswith("after 278 s")
    assert interim["event.action"] == "interim-update"
    assert interim["user.name"] == "sub-4471@isp.example"
    assert interim["source.ip"] == "100.64.3.7"  # Framed-IP-Address; the MAC in Calling-Station-Id is no IP
    assert interim["radius.calling_station_id"] == "00:11:22:33:44:55"
    assert interim["host.name"] == "bng-2"
    assert interim["radius.acct_output_octets"] == "402118839"
    assert interim["radius.nas_port_id"] == "ge-1/0/3.401:401-17"


def test_date_line_dates_a_record_without_timestamp_in_the_given_zone(tmp_path):
    text = record(HEADER, "Acct-Status-Type = Start", 'User-Name = "bob"', "NAS-IP-Address = 10.0.0.1")
    events, quarantine, _, notes = parse_text(tmp_path, text)
    assert quarantine == []
    assert same_instant(events[0]["@timestamp"], ts(2026, 3, 16, 10, 58, 2))  # read as UTC
    assert events[0]["host.name"] == "10.0.0.1"  # no NAS-Identifier: the NAS address names the host
    assert any("date line" in note for note in notes)
    events, _, _, _ = parse_text(tmp_path, text, timezone="Europe/Paris")
    assert same_instant(events[0]["@timestamp"], ts(2026, 3, 16, 9, 58, 2))


def test_quoted_values_are_unescaped(tmp_path):
    text = record(
        HEADER,
        "Acct-Status-Type = Stop",
        r'Cisco-AVPair = "cmd=banner motd \"keep out\" <cr>"',
        r'Reply-Message = "tab\there\\back\101"',
        "Timestamp = 1773655082",
    )
    (event,), _, _, _ = parse_text(tmp_path, text)
    assert event["process.command_line"] == 'banner motd "keep out"'
    assert event["radius.reply_message"] == "tab\there\\backA"


def test_access_records_of_an_auth_detail_file(tmp_path):
    text = record(HEADER, "Packet-Type = Access-Request", 'User-Name = "eve"', "NAS-IP-Address = 10.0.0.1")
    (event,), _, _, _ = parse_text(tmp_path, text)
    assert event["event.dataset"] == "radius.access"
    assert event["event.action"] == "access-request"
    assert event["event.category"] == "authentication"


@pytest.mark.parametrize(("status", "action"), [("1", "start"), ("3", "interim-update"), ("Alive", "interim-update"),
                                                ("Accounting-On", "accounting-on"), ("8", "accounting-off")])  # fmt: skip
def test_status_type_names_and_numbers(tmp_path, status, action):
    (event,), _, _, _ = parse_text(tmp_path, record(HEADER, f"Acct-Status-Type = {status}", "Timestamp = 1"))
    assert event["event.action"] == action


def test_juniper_interactive_command(tmp_path):
    text = record(HEADER, "Acct-Status-Type = Stop", 'Juniper-Interactive-Command = "delete system syslog"')
    (event,), _, _, _ = parse_text(tmp_path, text)
    assert event["process.command_line"] == "delete system syslog"


def test_records_without_blank_line_between_them_and_extra_blank_lines(tmp_path):
    text = (
        "\n\n" + HEADER + "\n\tUser-Name = a\n" + HEADER + "\n\tUser-Name = b\n\n\n\n" + HEADER + "\n\tUser-Name = c\n"
    )
    events, quarantine, records, _ = parse_text(tmp_path, text)
    assert (records, quarantine) == (3, [])
    assert [(e["user.name"], e["seawall.source.line"]) for e in events] == [("a", 3), ("b", 5), ("c", 10)]
    assert events[2]["event.original"] == HEADER + "\n\tUser-Name = c"


def test_crlf_records(tmp_path):
    path = tmp_path / "detail"
    path.write_bytes(record(HEADER, 'User-Name = "a"', "Timestamp = 1773655082").replace("\n", "\r\n").encode())
    (event,), quarantine, _, _ = parse_file(path)
    assert quarantine == []
    assert event["user.name"] == "a"
    assert same_instant(event["@timestamp"], ts(2026, 3, 16, 9, 58, 2))


# -- quarantine -----------------------------------------------------------------------


def test_a_bad_line_quarantines_its_whole_record_at_the_record_start(tmp_path):
    good = record(HEADER, 'User-Name = "a"', "Timestamp = 1773655082")
    bad = record(HEADER, 'User-Name = "b"', "this is not an attribute", "Timestamp = 1773655083")
    events, quarantine, records, _ = parse_text(tmp_path, good + bad + good)
    assert records == 3
    assert [e["seawall.source.line"] for e in events] == [1, 10]
    (row,) = quarantine
    assert row["reason"] == "line 7 is not 'Attribute = value': 'this is not an attribute'"
    assert (row["seawall.source.line"], row["seawall.source.offset"]) == (5, len(good))
    assert row["record"] == bad.rstrip("\n")
    assert row["seawall.source.format"] == "radius-detail"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            record("yesterday at noon", 'User-Name = "a"'),
            "no date: 'yesterday at noon' is not a date and the record has no Timestamp attribute",
        ),
        (
            record("Mon Feb 30 10:58:02 2026", 'User-Name = "a"'),
            "no date: 'Mon Feb 30 10:58:02 2026' is not a date and the record has no Timestamp attribute",
        ),
        (
            "\tUser-Name = a\n\tTimestamp = 1773655082\n",
            "record does not start with a date line (the file may begin inside a record)",
        ),
        (record(HEADER), "record has no attributes after its date line"),
        ("just some words\n", "line 1 is neither a date line nor 'Attribute = value': 'just some words'"),
    ],
)
def test_quarantine_reasons(tmp_path, text, reason):
    events, quarantine, records, _ = parse_text(tmp_path, text)
    assert (records, events) == (1, [])
    assert quarantine[0]["reason"] == reason
    assert (quarantine[0]["seawall.source.offset"], quarantine[0]["seawall.source.line"]) == (0, 1)
    assert quarantine[0]["record"] == text.rstrip("\n")


def test_timestamp_attribute_rescues_an_unreadable_date_line(tmp_path):
    (event,), quarantine, _, _ = parse_text(tmp_path, record("garbled date", "User-Name = a", "Timestamp = 1773655082"))
    assert quarantine == []
    assert same_instant(event["@timestamp"], ts(2026, 3, 16, 9, 58, 2))


def test_attributes_after_a_blank_line_without_a_date_are_a_record_of_their_own(tmp_path):
    text = record(HEADER, "User-Name = a") + "\tUser-Name = stray\n"
    events, quarantine, records, _ = parse_text(tmp_path, text)
    assert records == 2
    assert [e["user.name"] for e in events] == ["a"]
    assert quarantine[0]["seawall.source.line"] == 4


def test_too_many_distinct_attribute_names_are_quarantined(tmp_path, monkeypatch):
    monkeypatch.setattr(radius_module, "MAX_ATTRIBUTES", 3)
    text = record(HEADER, "A = 1", "B = 2") + record(HEADER, "C = 1", "D = 2") + record(HEADER, "A = 3")
    events, quarantine, records, _ = parse_text(tmp_path, text)
    assert records == 3
    assert [e["radius.a"] for e in events] == ["1", "3"]
    assert [q["reason"] for q in quarantine] == ["more than 3 distinct attribute names in the file"]


def test_overlong_record_is_cut_off_and_quarantined(tmp_path, monkeypatch):
    monkeypatch.setattr(radius_module, "MAX_RECORD_LINES", 5)
    text = HEADER + "\n" + "".join(f"\tA{i} = {i}\n" for i in range(6))
    _, quarantine, records, _ = parse_text(tmp_path, text)
    assert records == 2
    assert quarantine[0]["reason"] == "record longer than 5 lines (cut off)"
    assert quarantine[1]["reason"].startswith("record does not start with a date line")


def test_records_across_chunks(tmp_path, monkeypatch, fixtures, detail):
    whole, _ = detail
    monkeypatch.setattr(radius_module, "iter_line_chunks", functools.partial(iter_line_chunks, chunk_bytes=97))
    events, quarantine, records, _ = parse_file(fixtures / "sources" / "aaa" / "detail-20260316")
    assert (records, quarantine) == (5, [])
    present = lambda e: {k: v for k, v in e.items() if v is not None}  # noqa: E731
    assert [present(e) for e in events] == [present(e) for e in whole]


# -- files: gzip, sniffing, ingest ----------------------------------------------------


def test_gzip_file(tmp_path, fixtures, detail):
    plain, _ = detail
    path = tmp_path / "detail-20260316.gz"
    path.write_bytes(gzip.compress((fixtures / "sources" / "aaa" / "detail-20260316").read_bytes()))
    events, quarantine, _, _ = parse_file(path)
    assert quarantine == []
    assert [e["event.original"] for e in events] == [e["event.original"] for e in plain]
    assert detect_format(path).name == "radius-detail"


def test_sniff(fixtures):
    head = (fixtures / "sources" / "aaa" / "detail-20260316").read_bytes()
    assert RADIUS.sniff(head) == 1.0
    assert max(f.sniff(head) for name, f in formats().items() if name != "radius-detail") < 0.5
    for name in ("bsd_sample.log", "rfc5424_examples.log", "ecs_sample.jsonl", "aaa/tac_plus.acct"):
        assert RADIUS.sniff((fixtures / "sources" / name).read_bytes()) == 0.0


def test_ingest_into_a_workspace_and_read_back(tmp_path, fixtures):
    folder = tmp_path / "radacct" / "10.20.0.1"
    folder.mkdir(parents=True)
    shutil.copy(fixtures / "sources" / "aaa" / "detail-20260316", folder / "detail-20260316")
    (folder / "detail-20260317").write_text(
        record(HEADER, 'User-Name = "x"', "Timestamp = 1773655082") + "\tbroken\n\n"
    )
    with Workspace(None) as ws:
        result = ingest(sorted(folder.iterdir()), ws, ReadOptions())
        assert [(f.format, f.read, f.parsed, f.quarantined, f.error) for f in result.files] == [
            ("radius-detail", 5, 5, 0, None),
            ("radius-detail", 2, 1, 1, None),
        ]
        rows = ws.con.execute(
            'SELECT "event.action", "user.name", "host.name", "process.command_line", "radius.acct_session_id" '
            'FROM events WHERE "host.name" = \'pe-r7\' ORDER BY "@timestamp"'
        ).fetchall()
        assert rows == [
            ("start", "admin", "pe-r7", None, "0000002A"),
            ("stop", "admin", "pe-r7", "show running-config", "0000002B"),
            ("stop", "admin", "pe-r7", "username backdoor privilege 15 secret 0 x", "0000002C"),
            ("stop", "admin", "pe-r7", None, "0000002A"),
        ]
        (row,) = ws.quarantine_rows()
        assert row["reason"] == "line 5 is not 'Attribute = value': 'broken'"
        assert (row["seawall.source.line"], row["record"]) == (5, "\tbroken")
