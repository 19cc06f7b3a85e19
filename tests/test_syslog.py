"""Syslog parsing: RFC 5424, RFC 3164/BSD and rsyslog file variants, quarantine and sniffing."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from seawall.sources import ReadOptions, formats

SYSLOG = formats()["syslog"]
UTC = dt.UTC
BOM = "\ufeff"


def ts(*args: int, us: int = 0) -> dt.datetime:
    return dt.datetime(*args, microsecond=us, tzinfo=UTC)


def parse_file(path: Path, reference: dt.datetime | None = None) -> tuple[list[dict], list[dict], int]:
    """Events and quarantine rows as dicts, and the number of records read."""
    events: list[dict] = []
    quarantine: list[dict] = []
    records = 0
    for batch in SYSLOG.parse(path, ReadOptions(reference_time=reference)):
        assert batch.records == batch.events.num_rows + batch.quarantine.num_rows
        events += batch.events.to_pylist()
        quarantine += batch.quarantine.to_pylist()
        records += batch.records
    return events, quarantine, records


def parse_text(tmp_path: Path, text: str, reference: dt.datetime | None = ts(2024, 12, 31)):
    path = tmp_path / "syslog.log"
    path.write_bytes(text.encode("utf-8"))
    return parse_file(path, reference)


def parse_one(tmp_path: Path, line: str, reference: dt.datetime | None = ts(2024, 12, 31)) -> dict:
    events, quarantine, _ = parse_text(tmp_path, line + "\n", reference)
    assert quarantine == [], quarantine
    assert len(events) == 1
    return events[0]


def quarantine_one(tmp_path: Path, line: str) -> dict:
    events, quarantine, _ = parse_text(tmp_path, line + "\n")
    assert events == []
    assert len(quarantine) == 1
    return quarantine[0]


def same_instant(value, expected: dt.datetime) -> bool:
    """Compare a parsed timestamp (datetime or pandas Timestamp) with an aware datetime."""
    return value is not None and value.astimezone(UTC).replace(tzinfo=None) == expected.astimezone(UTC).replace(
        tzinfo=None
    )


# -- RFC 5424 -------------------------------------------------------------------------

# The four examples of RFC 5424 section 6.5, in tests/fixtures/sources/rfc5424_examples.log.
RFC5424_EXPECTED = [
    {
        "@timestamp": ts(2003, 10, 11, 22, 14, 15, us=3000),
        "log.syslog.priority": 34,
        "log.syslog.facility.code": 4,
        "log.syslog.facility.name": "auth",
        "log.syslog.severity.code": 2,
        "log.syslog.severity.name": "critical",
        "log.syslog.version": 1,
        "host.name": "mymachine.example.com",
        "log.syslog.appname": "su",
        "process.name": "su",
        "log.syslog.procid": None,
        "process.pid": None,
        "log.syslog.msgid": "ID47",
        "log.syslog.structured_data": None,
        "message": "'su root' failed for lonvick on /dev/pts/8",  # the BOM is not part of the text
    },
    {
        "@timestamp": ts(2003, 8, 24, 12, 14, 15, us=3),  # 05:14:15.000003-07:00
        "log.syslog.priority": 165,
        "log.syslog.facility.code": 20,
        "log.syslog.facility.name": "local4",
        "log.syslog.severity.code": 5,
        "log.syslog.severity.name": "notice",
        "log.syslog.version": 1,
        "host.name": "192.0.2.1",
        "log.syslog.appname": "myproc",
        "process.name": "myproc",
        "log.syslog.procid": "8710",
        "process.pid": 8710,
        "log.syslog.msgid": None,
        "log.syslog.structured_data": None,
        "message": "%% It's time to make the do-nuts.",
    },
    {
        "@timestamp": ts(2003, 10, 11, 22, 14, 15, us=3000),
        "log.syslog.priority": 165,
        "host.name": "mymachine.example.com",
        "log.syslog.appname": "evntslog",
        "log.syslog.procid": None,
        "log.syslog.msgid": "ID47",
        "log.syslog.structured_data": '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]',
        "message": "An application event log entry...",
    },
    {
        "@timestamp": ts(2003, 10, 11, 22, 14, 15, us=3000),
        "log.syslog.priority": 165,
        "host.name": "mymachine.example.com",
        "log.syslog.appname": "evntslog",
        "log.syslog.msgid": "ID47",
        "log.syslog.structured_data": '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]'
        '[examplePriority@32473 class="high"]',
    },
]


@pytest.fixture
def rfc5424_events(fixtures) -> list[dict]:
    events, quarantine, records = parse_file(fixtures / "sources" / "rfc5424_examples.log")
    assert quarantine == []
    assert records == 4
    return events


@pytest.mark.parametrize("index", range(4))
def test_rfc5424_section_6_5_examples(rfc5424_events, index):
    event = rfc5424_events[index]
    expected = RFC5424_EXPECTED[index]
    for name, value in expected.items():
        if name == "@timestamp":
            assert same_instant(event[name], value), (name, event[name])
        else:
            assert event[name] == value, name


def test_rfc5424_example_without_msg_has_empty_message(rfc5424_events):
    assert not rfc5424_events[3]["message"]


def test_rfc5424_event_original_keeps_the_bom(rfc5424_events, fixtures):
    lines = (fixtures / "sources" / "rfc5424_examples.log").read_text(encoding="utf-8").splitlines()
    assert [e["event.original"] for e in rfc5424_events] == lines
    assert BOM in rfc5424_events[0]["event.original"]


def test_rfc5424_all_nil_header_fields(tmp_path):
    event = parse_one(tmp_path, "<14>1 - - - - - -")
    assert event["@timestamp"] is None
    assert event["host.name"] is None
    assert event["log.syslog.appname"] is None
    assert event["log.syslog.procid"] is None
    assert event["log.syslog.msgid"] is None
    assert event["log.syslog.structured_data"] is None
    assert event["log.syslog.priority"] == 14


def test_rfc5424_backslash_outside_quotes_is_part_of_the_sd_name(tmp_path):
    """Only a quoted PARAM-VALUE has escapes (RFC 5424 6.3.3): "[\\]" is an element named "\\"."""
    event = parse_one(tmp_path, "<0>1 - - - - - [\\] hello")
    assert event["log.syslog.structured_data"] == "[\\]" and event["message"] == "hello"


def test_rfc5424_structured_data_with_escapes_and_several_elements(tmp_path):
    sd = r'[exampleSDID@32473 iut="3" note="a\]b" quote="say \"hi\"" path="C:\\temp"][origin ip="192.0.2.1"]'
    event = parse_one(tmp_path, f"<165>1 2003-10-11T22:14:15.003Z host app 42 MSG1 {sd} the message")
    assert event["log.syslog.structured_data"] == sd
    assert event["message"] == "the message"
    assert event["log.syslog.msgid"] == "MSG1"
    assert event["process.pid"] == 42


def test_rfc5424_structured_data_value_with_spaces_keeps_them(tmp_path):
    sd = r'[x@1 text="two  spaces, then \] escaped "]'
    event = parse_one(tmp_path, f"<13>1 2024-01-01T00:00:00Z h a - - {sd} m")
    assert event["log.syslog.structured_data"] == sd
    assert event["message"] == "m"


# -- RFC 3164 / BSD -------------------------------------------------------------------


def test_rfc3164_with_pri(tmp_path):
    # The example of RFC 3164 section 5.4.
    event = parse_one(
        tmp_path,
        "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
        reference=ts(2003, 12, 1),
    )
    assert same_instant(event["@timestamp"], ts(2003, 10, 11, 22, 14, 15))
    assert event["host.name"] == "mymachine"
    assert event["process.name"] == "su"
    assert event["process.pid"] is None
    assert event["message"] == "'su root' failed for lonvick on /dev/pts/8"
    assert event["log.syslog.priority"] == 34
    assert event["log.syslog.facility.name"] == "auth"
    assert event["log.syslog.severity.name"] == "critical"
    assert event["log.syslog.version"] is None


def test_rfc3164_without_pri(tmp_path):
    event = parse_one(tmp_path, "Oct 11 22:14:15 mymachine su[230]: session opened", reference=ts(2003, 12, 1))
    assert same_instant(event["@timestamp"], ts(2003, 10, 11, 22, 14, 15))
    assert event["host.name"] == "mymachine"
    assert event["process.name"] == "su"
    assert event["process.pid"] == 230
    assert event["message"] == "session opened"
    assert event["log.syslog.priority"] is None
    assert event["log.syslog.facility.code"] is None
    assert event["log.syslog.severity.code"] is None


def test_rfc3164_space_padded_day(tmp_path):
    event = parse_one(tmp_path, "Jan  5 10:00:00 h cron[1]: x", reference=ts(2024, 2, 1))
    assert same_instant(event["@timestamp"], ts(2024, 1, 5, 10, 0, 0))
    assert event["host.name"] == "h"


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2024-01-02T03:04:05.123456+02:00", ts(2024, 1, 2, 1, 4, 5, us=123456)),
        ("2024-01-02T03:04:05.5-05:30", ts(2024, 1, 2, 8, 34, 5, us=500000)),
        ("2024-01-02T03:04:05Z", ts(2024, 1, 2, 3, 4, 5)),
        ("2024-01-02T03:04:05.000001+00:00", ts(2024, 1, 2, 3, 4, 5, us=1)),
    ],
)
def test_rsyslog_high_precision_timestamps(tmp_path, stamp, expected):
    event = parse_one(tmp_path, f"{stamp} web01 sshd[77]: Accepted password for alice")
    assert same_instant(event["@timestamp"], expected)
    assert event["host.name"] == "web01"
    assert event["process.name"] == "sshd"
    assert event["process.pid"] == 77
    assert event["message"] == "Accepted password for alice"


def test_yearless_timestamp_takes_the_reference_year(tmp_path):
    event = parse_one(tmp_path, "Jun 14 15:16:01 host app: x", reference=ts(2024, 6, 20))
    assert same_instant(event["@timestamp"], ts(2024, 6, 14, 15, 16, 1))


def test_december_line_read_in_january_goes_to_the_previous_year(tmp_path):
    event = parse_one(tmp_path, "Dec 31 23:59:59 host app: x", reference=ts(2024, 1, 5))
    assert same_instant(event["@timestamp"], ts(2023, 12, 31, 23, 59, 59))


def test_yearless_timestamp_up_to_a_day_after_the_reference_keeps_its_year(tmp_path):
    events, _, _ = parse_text(
        tmp_path,
        "Jan  6 11:00:00 h a: within a day\nJan  6 13:00:00 h a: more than a day\n",
        reference=ts(2024, 1, 5, 12),
    )
    assert same_instant(events[0]["@timestamp"], ts(2024, 1, 6, 11))
    assert same_instant(events[1]["@timestamp"], ts(2023, 1, 6, 13))


def test_yearless_timestamp_defaults_to_the_file_modification_time(tmp_path):
    path = tmp_path / "old.log"
    path.write_text("Dec 30 10:00:00 host app: x\nFeb 01 10:00:00 host app: y\n")
    mtime = ts(2021, 3, 1).timestamp()
    os.utime(path, (mtime, mtime))
    events, _, _ = parse_file(path, reference=None)
    assert same_instant(events[0]["@timestamp"], ts(2020, 12, 30, 10))
    assert same_instant(events[1]["@timestamp"], ts(2021, 2, 1, 10))


def test_yearless_february_29_goes_to_the_previous_leap_year(tmp_path):
    """Read in January 2025, 'Feb 29' can only be 2024-02-29 (2025 has no 29 February)."""
    event = parse_one(tmp_path, "Feb 29 10:00:00 h a: leap day", reference=ts(2025, 1, 10))
    assert same_instant(event["@timestamp"], ts(2024, 2, 29, 10))


def test_yearless_february_29_is_never_stored_as_another_day(tmp_path):
    """Read in January 2024, 'Feb 29' rolls back a year, into 2023 which has no 29 February."""
    events, quarantine, _ = parse_text(tmp_path, "Feb 29 10:00:00 h a: leap day\n", reference=ts(2024, 1, 10))
    assert len(events) + len(quarantine) == 1
    for event in events:
        stamp = event["@timestamp"]
        assert stamp is None or (stamp.month, stamp.day) == (2, 29), stamp


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Jun 14 2023 15:16:01.123 host app: msg", ts(2023, 6, 14, 15, 16, 1, us=123000)),
        ("Jun 14 2023 15:16:01 host app: msg", ts(2023, 6, 14, 15, 16, 1)),
        ("<30>Jun 14 2023 15:16:01.123456 host app: msg", ts(2023, 6, 14, 15, 16, 1, us=123456)),
    ],
)
def test_timestamp_with_year_after_the_day_ignores_the_reference(tmp_path, line, expected):
    event = parse_one(tmp_path, line, reference=ts(2030, 1, 1))
    assert same_instant(event["@timestamp"], expected)
    assert event["host.name"] == "host"
    assert event["message"] == "msg"


def test_fractional_seconds_in_bsd_timestamp(tmp_path):
    event = parse_one(tmp_path, "Jun 14 15:16:01.250 host app: msg", reference=ts(2024, 7, 1))
    assert same_instant(event["@timestamp"], ts(2024, 6, 14, 15, 16, 1, us=250000))


def test_line_without_hostname(tmp_path):
    event = parse_one(tmp_path, "Jun 14 15:16:01 sshd[1]: x")
    assert event["host.name"] is None
    assert event["process.name"] == "sshd"
    assert event["process.pid"] == 1
    assert event["message"] == "x"
    assert same_instant(event["@timestamp"], ts(2024, 6, 14, 15, 16, 1))


def test_line_without_hostname_and_without_pid(tmp_path):
    event = parse_one(tmp_path, "<6>Jun 14 15:16:01 kernel: [ 1.0] usb 1-1: new device")
    assert event["host.name"] is None
    assert event["process.name"] == "kernel"
    assert event["message"] == "[ 1.0] usb 1-1: new device"


def test_line_without_tag_keeps_the_whole_rest_as_message(tmp_path):
    event = parse_one(tmp_path, "Jun 14 15:16:01 host -- MARK --")
    assert event["host.name"] == "host"
    assert event["process.name"] is None
    assert event["message"] == "-- MARK --"


def test_pri_only_line_message_is_the_rest(tmp_path):
    event = parse_one(tmp_path, "<13>hello world: free text")
    assert event["message"] == "hello world: free text"
    assert event["log.syslog.priority"] == 13
    assert event["@timestamp"] is None
    assert event["host.name"] is None


@pytest.mark.parametrize(
    ("pri", "facility", "facility_name", "severity", "severity_name"),
    [
        (0, 0, "kern", 0, "emergency"),
        (9, 1, "user", 1, "alert"),
        (22, 2, "mail", 6, "informational"),
        (30, 3, "daemon", 6, "informational"),
        (38, 4, "auth", 6, "informational"),
        (43, 5, "syslog", 3, "error"),
        (78, 9, "cron", 6, "informational"),
        (84, 10, "authpriv", 4, "warning"),
        (128, 16, "local0", 0, "emergency"),
        (191, 23, "local7", 7, "debug"),
    ],
)
def test_facility_and_severity_codes_and_names(tmp_path, pri, facility, facility_name, severity, severity_name):
    event = parse_one(tmp_path, f"<{pri}>Jun 14 15:16:01 host app: x")
    assert event["log.syslog.priority"] == pri
    assert event["log.syslog.facility.code"] == facility
    assert event["log.syslog.facility.name"] == facility_name
    assert event["log.syslog.severity.code"] == severity
    assert event["log.syslog.severity.name"] == severity_name


@pytest.mark.parametrize(
    ("line", "name", "pid"),
    [
        ("Jun 14 15:16:01 host sshd[4242]: m", "sshd", 4242),
        ("Jun 14 15:16:01 host sshd(pam_unix)[19939]: m", "sshd(pam_unix)", 19939),
        ("Jun 14 15:16:01 host CRON: m", "CRON", None),
        ("Jun 14 15:16:01 host /usr/sbin/cron[7]: m", "/usr/sbin/cron", 7),
    ],
)
def test_process_name_and_pid_from_the_tag(tmp_path, line, name, pid):
    event = parse_one(tmp_path, line)
    assert event["process.name"] == name
    assert event["process.pid"] == pid
    assert event["message"] == "m"


@pytest.mark.parametrize(
    "line",
    [
        "<13>1 2003-10-11T22:14:15Z h app 1e3 - - m",
        "<13>1 2003-10-11T22:14:15Z h app 0x1F - - m",
        "Jun 14 15:16:01 host app[0x1F]: m",
        "Jun 14 15:16:01 host app[1_000]: m",
    ],
)
def test_procid_that_is_not_a_decimal_number_gives_no_pid(tmp_path, line):
    assert parse_one(tmp_path, line)["process.pid"] is None


def test_crlf_file_messages_do_not_end_in_carriage_return(tmp_path):
    events, _, _ = parse_text(tmp_path, "Jun 14 15:16:01 host app: one\r\nJun 14 15:16:02 host app: two\r\n")
    assert [e["message"] for e in events] == ["one", "two"]


def test_blank_lines_before_a_final_line_without_newline(tmp_path):
    """The reader hands over a chunk of blank lines only; the parser must cope with it."""
    events, quarantine, records = parse_text(tmp_path, "\n\nJun 14 15:16:01 host app: last")
    assert (records, len(quarantine)) == (1, 0)
    assert (events[0]["seawall.source.offset"], events[0]["seawall.source.line"]) == (2, 3)
    assert events[0]["message"] == "last"


def test_file_of_blank_lines_has_no_records(tmp_path):
    assert parse_text(tmp_path, "\n\r\n\n") == ([], [], 0)


def test_provenance_and_original(tmp_path):
    events, _, _ = parse_text(tmp_path, "Jun 14 15:16:01 host app: one\n\nJun 14 15:16:02 host app: two\n")
    path = str(tmp_path / "syslog.log")
    assert [e["seawall.source.offset"] for e in events] == [0, 31]
    assert [e["seawall.source.line"] for e in events] == [1, 3]
    assert {e["seawall.source.path"] for e in events} == {path}
    assert {e["seawall.source.format"] for e in events} == {"syslog"}
    assert {e["event.dataset"] for e in events} == {"syslog"}
    assert events[1]["event.original"] == "Jun 14 15:16:02 host app: two"


# -- quarantine -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("just some text without a header", "no syslog header"),
        ("<192>Oct 11 22:14:15 host app: x", "PRI out of range"),
        ("<999>free text", "PRI out of range"),
        ("<200>1 2003-10-11T22:14:15.003Z h a - - - m", "PRI out of range"),
        ("Feb 30 12:00:00 host app: x", "unreadable timestamp 'Feb 30 12:00:00'"),
        ("<13>1 notatime h a - - - m", "unreadable timestamp 'notatime'"),
        ("<13>1 2003-13-45T22:14:15Z h a - - - m", "unreadable timestamp"),
        ("<13>1 2003-10-11T22:14:15.003Z h", "malformed RFC 5424 header"),
        ("<13>1 2003-10-11T22:14:15.003Z h a p m [unterminated sd", "malformed RFC 5424 header"),
    ],
)
def test_quarantine_reasons(tmp_path, line, reason):
    row = quarantine_one(tmp_path, line)
    assert reason in row["reason"]
    assert row["record"] == line


def test_quarantine_rows_carry_path_offset_line_and_record(tmp_path):
    text = "Jun 14 15:16:01 host app: good\nnot syslog at all\n\n<300>bad pri\nJun 14 15:16:02 host app: good\n"
    events, quarantine, records = parse_text(tmp_path, text)
    path = str(tmp_path / "syslog.log")
    assert records == 4
    assert len(events) == 2
    assert [(q["seawall.source.offset"], q["seawall.source.line"], q["record"]) for q in quarantine] == [
        (31, 2, "not syslog at all"),
        (50, 4, "<300>bad pri"),
    ]
    assert {q["seawall.source.path"] for q in quarantine} == {path}
    assert {q["seawall.source.format"] for q in quarantine} == {"syslog"}


def test_counts_reconcile(fixtures, tmp_path):
    good = (fixtures / "sources" / "bsd_sample.log").read_text()
    bad = "garbage one\n<500>x\nFeb 31 10:00:00 h a: y\n<1>1 broken\n"
    events, quarantine, records = parse_text(tmp_path, good + bad)
    assert records == len(good.splitlines()) + 4
    assert len(quarantine) == 4
    assert records == len(events) + len(quarantine)


# -- sniffing -------------------------------------------------------------------------


def test_sniff_scores_a_syslog_file_high(fixtures):
    head = (fixtures / "sources" / "bsd_sample.log").read_bytes()
    assert SYSLOG.sniff(head) >= 0.9
    assert SYSLOG.sniff((fixtures / "sources" / "rfc5424_examples.log").read_bytes()) >= 0.9


def test_sniff_scores_json_lines_low(fixtures):
    head = (fixtures / "sources" / "ecs_sample.jsonl").read_bytes()
    assert SYSLOG.sniff(head) <= 0.1


def test_sniff_ignores_a_last_line_cut_off_by_the_head(fixtures):
    head = (fixtures / "sources" / "bsd_sample.log").read_bytes() + b"\x00\x01 cut"
    assert SYSLOG.sniff(head) == 1.0


def test_sniff_of_empty_head_is_zero():
    assert SYSLOG.sniff(b"") == 0.0


# -- public data ----------------------------------------------------------------------


def nonblank_line_count(path: Path) -> int:
    return sum(1 for line in path.read_bytes().split(b"\n") if line.rstrip(b"\r"))


@pytest.mark.shared_data
@pytest.mark.parametrize("folder", ["loghub", "elastic-cisco_ios"])
def test_public_syslog_files_parse_without_quarantine(shared_data, folder):
    paths = sorted((shared_data / "syslog" / folder).glob("*.log"))
    assert paths, f"no .log files in {folder}"
    for path in paths:
        events, quarantine, records = parse_file(path, reference=ts(2024, 12, 31))
        assert quarantine == [], (path.name, quarantine[:3])
        assert records == len(events) == nonblank_line_count(path), path.name


@pytest.mark.shared_data
def test_elastic_cisco_ios_expected_fields(shared_data):
    """Compare with Elastic's pipeline test expectations on the fields both produce.

    Deliberate differences, not compared: Elastic's cisco_ios pipeline is Cisco-specific and
    reads the device's own timestamp, sequence number and %FACILITY-SEV-MNEMONIC from the
    message (so its @timestamp is the Cisco device time and its hostname can come from inside
    the message, e.g. 'host-1:' or a Kiwi relay header). Seawall's generic syslog parser reads
    only the syslog header; device-specific parsing is later work. So @timestamp, message,
    event.code and cisco.* are not compared, and hostname only where we found a host.
    """
    folder = shared_data / "syslog" / "elastic-cisco_ios"
    logs = sorted(folder.glob("*.log"))
    compared_hosts = 0
    for log in logs:
        expected = json.loads((folder / f"{log.name}-expected.json").read_text())["expected"]
        events, quarantine, _ = parse_file(log, reference=ts(2024, 12, 31))
        assert quarantine == []
        assert len(events) == len(expected), log.name
        for ours, theirs in zip(events, expected):
            syslog = theirs["log"]["syslog"]
            assert ours["log.syslog.priority"] == syslog["priority"], (log.name, ours["event.original"])
            assert ours["event.original"] == theirs["event"]["original"]
            if "hostname" in syslog and ours["host.name"] is not None:
                assert ours["host.name"] == syslog["hostname"], (log.name, ours["event.original"])
                compared_hosts += 1
    assert compared_hosts >= 3  # fqdn, and the two numeric hostnames with a BSD header


def _notes(path: Path, options: ReadOptions) -> list[str]:
    return [note for batch in SYSLOG.parse(path, options) for note in batch.notes]


def test_yearless_timestamps_dated_from_the_modification_time_are_noted(tmp_path, fixtures):
    path = tmp_path / "auth.log"
    path.write_text("Jun 14 15:16:01 host sshd[1]: one\nJun 14 15:16:02 host sshd[1]: two\n")
    notes = _notes(path, ReadOptions())
    assert any("modification time" in n and "--year" in n for n in notes), notes
    # with a reference time given the year is not a guess: no note
    assert not any("modification time" in n for n in _notes(path, ReadOptions(reference_time=ts(2024, 12, 31))))
    # RFC 5424 timestamps carry their year: no note
    assert not any(
        "modification time" in n for n in _notes(fixtures / "sources" / "rfc5424_examples.log", ReadOptions())
    )


def test_line_over_64_kib_is_quarantined_with_its_size(tmp_path):
    long = "<189>Oct  8 02:18:55 edge-r1 sshd[1]: " + "A" * (64 << 10)
    events, quarantined, read = parse_text(tmp_path, f"{long}\n<189>Oct  8 02:18:56 edge-r1 sshd[1]: ok\n")
    assert read == 2 and [e["message"] for e in events] == ["ok"]
    assert quarantined[0]["reason"] == f"line of {len(long)} bytes, over the 64 KiB a syslog message can be"
    assert quarantined[0]["record"] == long and quarantined[0]["seawall.source.line"] == 1


def test_line_just_under_64_kib_is_an_event(tmp_path):
    line = "<189>Oct  8 02:18:55 edge-r1 sshd[1]: " + "A" * ((64 << 10) - 40)
    assert len(line.encode()) <= 64 << 10
    assert parse_one(tmp_path, line)["message"].startswith("AAAA")
