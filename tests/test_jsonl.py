"""JSON lines: flattening, text values, typed core columns, quarantine and provenance."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest

from seawall.sources import ReadOptions, formats

JSONL = formats()["jsonl"]
UTC = dt.UTC


def parse_lines(tmp_path: Path, *lines: str) -> tuple[pa.Table, list[dict], int]:
    """The events table (all batches), quarantine rows and records read."""
    path = tmp_path / "events.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    tables, quarantine, records = [], [], 0
    for batch in JSONL.parse(path, ReadOptions()):
        assert batch.records == batch.events.num_rows + batch.quarantine.num_rows
        tables.append(batch.events)
        quarantine += batch.quarantine.to_pylist()
        records += batch.records
    return pa.concat_tables(tables, promote_options="permissive"), quarantine, records


def one_event(tmp_path: Path, record: dict | str) -> dict:
    line = record if isinstance(record, str) else json.dumps(record)
    events, quarantine, _ = parse_lines(tmp_path, line)
    assert quarantine == [], quarantine
    assert events.num_rows == 1
    return events.to_pylist()[0]


def one_quarantined(tmp_path: Path, line: str) -> dict:
    events, quarantine, records = parse_lines(tmp_path, line)
    assert records == 1
    assert events.num_rows == 0
    assert len(quarantine) == 1
    return quarantine[0]


def test_nested_objects_are_flattened_to_dotted_names(tmp_path):
    event = one_event(tmp_path, {"source": {"ip": "10.0.0.1", "geo": {"country_iso_code": "NL"}}, "top": "x"})
    assert event["source.ip"] == "10.0.0.1"
    assert event["source.geo.country_iso_code"] == "NL"
    assert event["top"] == "x"
    assert "source" not in event


def test_arrays_are_kept_as_json_text(tmp_path):
    event = one_event(tmp_path, {"tags": ["ssh", "auth"], "mixed": [1, {"a": None}, "x"]})
    assert json.loads(event["tags"]) == ["ssh", "auth"]
    assert json.loads(event["mixed"]) == [1, {"a": None}, "x"]


def test_booleans_and_numbers_become_text_in_non_core_columns(tmp_path):
    events, _, _ = parse_lines(tmp_path, json.dumps({"ok": True, "bad": False, "n": 42, "f": 1.5, "z": None}))
    row = events.to_pylist()[0]
    assert (row["ok"], row["bad"], row["n"], row["f"], row["z"]) == ("true", "false", "42", "1.5", None)
    for name in ("ok", "bad", "n", "f"):
        assert pa.types.is_string(events.schema.field(name).type), name


def test_empty_nested_object_is_kept_as_json_text(tmp_path):
    assert one_event(tmp_path, {"labels": {}})["labels"] == "{}"


def test_flattened_name_clash_keeps_the_first_value(tmp_path):
    event = one_event(tmp_path, '{"a.b": "flat", "a": {"b": "nested"}}')
    assert event["a.b"] == "flat"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"2024-06-14T15:16:01Z"', dt.datetime(2024, 6, 14, 15, 16, 1, tzinfo=UTC)),
        ('"2024-06-14T17:16:01.250+02:00"', dt.datetime(2024, 6, 14, 15, 16, 1, 250000, tzinfo=UTC)),
        ("1718378161", dt.datetime(2024, 6, 14, 15, 16, 1, tzinfo=UTC)),
        ('"1718378161"', dt.datetime(2024, 6, 14, 15, 16, 1, tzinfo=UTC)),
        ('"1718378161.5"', dt.datetime(2024, 6, 14, 15, 16, 1, 500000, tzinfo=UTC)),
        ("1718378161250", dt.datetime(2024, 6, 14, 15, 16, 1, 250000, tzinfo=UTC)),
    ],
)
def test_timestamp_is_cast_from_iso_and_epoch_seconds_and_millis(tmp_path, value, expected):
    events, quarantine, _ = parse_lines(tmp_path, f'{{"@timestamp": {value}}}')
    assert quarantine == []
    assert pa.types.is_timestamp(events.schema.field("@timestamp").type)
    assert events.column("@timestamp").to_pylist()[0] == expected


@pytest.mark.parametrize("value", ["443", '"443"'])
def test_source_port_is_cast_to_integer(tmp_path, value):
    events, quarantine, _ = parse_lines(tmp_path, f'{{"source": {{"port": {value}}}}}')
    assert quarantine == []
    assert pa.types.is_integer(events.schema.field("source.port").type)
    assert events.column("source.port").to_pylist() == [443]


def test_process_pid_is_cast_to_integer(tmp_path):
    assert one_event(tmp_path, {"process": {"pid": "4242"}})["process.pid"] == 4242


@pytest.mark.parametrize("value", ['"yesterday"', '"2024-13-45T00:00:00Z"', "true", '"0"'])
def test_unreadable_timestamp_quarantines_the_record_naming_the_field(tmp_path, value):
    line = f'{{"@timestamp": {value}, "message": "m"}}'
    row = one_quarantined(tmp_path, line)
    assert "@timestamp" in row["reason"]
    assert row["record"] == line


@pytest.mark.parametrize("value", ['"http"', "true", '"80.5"', "80.5", '"443/tcp"'])
def test_non_integer_port_quarantines_the_record_naming_the_field(tmp_path, value):
    line = f'{{"source": {{"port": {value}}}}}'
    row = one_quarantined(tmp_path, line)
    assert "source.port" in row["reason"]


def test_bad_record_does_not_take_its_neighbours_with_it(tmp_path):
    events, quarantine, records = parse_lines(
        tmp_path,
        '{"source": {"port": 22}}',
        '{"source": {"port": "ssh"}}',
        '{"source": {"port": 23}}',
    )
    assert records == 3
    assert events.column("source.port").to_pylist() == [22, 23]
    assert [q["seawall.source.line"] for q in quarantine] == [2]


def test_invalid_json_is_quarantined_with_reason(tmp_path):
    row = one_quarantined(tmp_path, '{"a": 1')
    assert row["reason"].startswith("invalid JSON")
    assert row["record"] == '{"a": 1'


@pytest.mark.parametrize(("line", "kind"), [("[1,2]", "list"), ("42", "int"), ('"text"', "str"), ("null", "NoneType")])
def test_json_that_is_not_an_object_is_quarantined(tmp_path, line, kind):
    row = one_quarantined(tmp_path, line)
    assert "not a JSON object" in row["reason"]
    assert kind in row["reason"]
    assert row["record"] == line


def test_too_many_fields_are_quarantined(tmp_path):
    row = one_quarantined(tmp_path, json.dumps({f"f{i}": i for i in range(1001)}))
    assert "fields" in row["reason"]


def test_quarantine_rows_carry_path_offset_and_line(tmp_path):
    events, quarantine, _ = parse_lines(tmp_path, '{"a": 1}', "", "oops", '{"a": 2}', "[3]")
    assert events.num_rows == 2
    path = str(tmp_path / "events.jsonl")
    assert [(q["seawall.source.offset"], q["seawall.source.line"], q["record"]) for q in quarantine] == [
        (10, 3, "oops"),
        (24, 5, "[3]"),
    ]
    assert {q["seawall.source.path"] for q in quarantine} == {path}
    assert {q["seawall.source.format"] for q in quarantine} == {"jsonl"}


def test_event_original_keeps_the_raw_line(tmp_path):
    line = '{ "b" : 2,   "a": {"x": [1, 2]} }  '
    assert one_event(tmp_path, line)["event.original"] == line


def test_event_original_is_the_raw_line_even_when_the_record_has_one(tmp_path):
    line = '{"event": {"original": "something else"}, "a": 1}'
    assert one_event(tmp_path, line)["event.original"] == line


def test_event_dataset_defaults_to_jsonl(tmp_path):
    assert one_event(tmp_path, {"a": 1})["event.dataset"] == "jsonl"


def test_event_dataset_of_the_record_is_kept(tmp_path):
    events, _, _ = parse_lines(tmp_path, '{"event": {"dataset": "app.audit"}}', '{"a": 1}')
    assert events.column("event.dataset").to_pylist() == ["app.audit", "jsonl"]


def test_seawall_fields_are_not_taken_from_the_record(tmp_path):
    line = json.dumps(
        {
            "seawall.source.path": "/forged",
            "seawall": {"source": {"line": 99, "offset": 12345, "format": "forged"}, "event": {"id": "x"}},
            "a": 1,
        }
    )
    event = one_event(tmp_path, line)
    assert event["seawall.source.path"] == str(tmp_path / "events.jsonl")
    assert event["seawall.source.line"] == 1
    assert event["seawall.source.offset"] == 0
    assert event["seawall.source.format"] == "jsonl"
    assert "seawall.event.id" not in event
    assert sorted(k for k in event if k.startswith("seawall.")) == [
        "seawall.source.format",
        "seawall.source.line",
        "seawall.source.offset",
        "seawall.source.path",
    ]


def test_provenance_offsets_and_lines(tmp_path):
    events, _, _ = parse_lines(tmp_path, '{"a": 1}', "", '{"a": 22}')
    assert events.column("seawall.source.offset").to_pylist() == [0, 10]
    assert events.column("seawall.source.line").to_pylist() == [1, 3]


def test_records_with_different_fields_share_one_table(tmp_path):
    events, _, _ = parse_lines(tmp_path, '{"a": "1"}', '{"b": "2"}')
    rows = events.to_pylist()
    assert (rows[0]["a"], rows[0]["b"]) == ("1", None)
    assert (rows[1]["a"], rows[1]["b"]) == (None, "2")


def test_fixture_file_counts_reconcile(fixtures):
    path = fixtures / "sources" / "ecs_sample.jsonl"
    records = events = quarantined = 0
    for batch in JSONL.parse(path, ReadOptions()):
        records += batch.records
        events += batch.events.num_rows
        quarantined += batch.quarantine.num_rows
    assert (records, events, quarantined) == (4, 3, 1)


def test_sniff_scores_json_lines_high_and_syslog_low(fixtures):
    assert JSONL.sniff((fixtures / "sources" / "ecs_sample.jsonl").read_bytes()) >= 0.7
    assert JSONL.sniff((fixtures / "sources" / "bsd_sample.log").read_bytes()) == 0.0
    assert JSONL.sniff(b"[1, 2]\n[3]\n") == 0.0
