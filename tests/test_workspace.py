"""The DuckDB workspace: schema, column evolution, event ids, quarantine, Parquet, Ibis."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from seawall.sources.base import quarantine_table
from seawall.store import Workspace
from seawall.store.schema import CORE_COLUMNS
from seawall.store.workspace import path_digest

NOW = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
DUCKDB_TYPE_NAMES = {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}


def batch(rows: list[dict], path: str = "/evidence/auth.log", **columns: pa.Array) -> pa.Table:
    """A batch as a source makes it: the given fields plus provenance, offsets 0, 100, 200..."""
    n = len(rows)
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    table = {name: pa.array([row.get(name) for row in rows], pa.string()) for name in names}
    table.update(columns)
    table["seawall.source.path"] = pa.array([path] * n, pa.string())
    table["seawall.source.format"] = pa.array(["test"] * n, pa.string())
    table["seawall.source.offset"] = pa.array([i * 100 for i in range(n)], pa.int64())
    table["seawall.source.line"] = pa.array([i + 1 for i in range(n)], pa.int64())
    return pa.table(table)


def column_types(ws: Workspace) -> dict[str, str]:
    return {row[0]: row[1] for row in ws.con.execute("DESCRIBE events").fetchall()}


@pytest.fixture
def ws():
    with Workspace(None) as workspace:
        yield workspace


def test_events_table_has_every_core_column_with_its_type(ws):
    types = column_types(ws)
    for name, sqltype in CORE_COLUMNS.items():
        assert types[name] == DUCKDB_TYPE_NAMES.get(sqltype, sqltype), name


def test_new_workspace_is_empty(ws):
    assert ws.count() == 0
    assert ws.count("quarantine") == 0
    assert ws.count("files") == 0


def test_new_columns_are_added_as_varchar(ws):
    ws.append_events(batch([{"custom.field": "x"}], **{"custom.count": pa.array([5], pa.int64())}), NOW)
    types = column_types(ws)
    assert types["custom.field"] == "VARCHAR"
    assert types["custom.count"] == "VARCHAR"
    assert "custom.field" in ws.columns
    assert ws.con.execute('SELECT "custom.count" FROM events').fetchall() == [("5",)]


def test_later_batch_with_new_columns_keeps_earlier_rows(ws):
    ws.append_events(batch([{"message": "first"}]), NOW)
    ws.append_events(batch([{"message": "second", "extra.a": "1"}], path="/evidence/b.log"), NOW)
    rows = ws.con.execute('SELECT message, "extra.a" FROM events ORDER BY message').fetchall()
    assert rows == [("first", None), ("second", "1")]


def test_names_differing_only_in_case_map_onto_the_existing_column(ws):
    ws.append_events(batch([{"custom.Field": "a"}]), NOW)
    ws.append_events(batch([{"CUSTOM.FIELD": "b"}], path="/evidence/b.log"), NOW)
    ws.append_events(batch([{"custom.field": "c"}], path="/evidence/c.log"), NOW)
    ws.append_events(batch([{"User.Name": "alice"}], path="/evidence/d.log"), NOW)
    names = [c for c in ws.columns if c.lower() == "custom.field"]
    assert names == ["custom.Field"]
    values = [r[0] for r in ws.con.execute('SELECT "custom.Field" FROM events ORDER BY 1').fetchall()]
    assert values[:3] == ["a", "b", "c"]
    assert [c for c in ws.columns if c.lower() == "user.name"] == ["user.name"]
    assert ws.con.execute("SELECT count(*) FROM events WHERE \"user.name\" = 'alice'").fetchone()[0] == 1


def test_two_names_in_one_batch_differing_only_in_case_keep_the_first(ws):
    table = batch([{"tag": "first", "TAG": "second"}])
    ws.append_events(table, NOW)
    assert ws.con.execute("SELECT tag FROM events").fetchall() == [("first",)]
    assert [c for c in ws.columns if c.lower() == "tag"] == ["tag"]


def test_event_ids_are_path_digest_and_offset(ws):
    ws.append_events(batch([{"message": "a"}, {"message": "b"}], path="/evidence/auth.log"), NOW)
    ids = [r[0] for r in ws.con.execute('SELECT "seawall.event.id" FROM events ORDER BY message').fetchall()]
    digest = hashlib.md5(b"/evidence/auth.log").hexdigest()[:12]
    assert ids == [f"{digest}-0", f"{digest}-100"]
    assert all(re.fullmatch(r"[0-9a-f]{12}-\d+", i) for i in ids)


def test_event_ids_are_stable_across_workspaces_and_distinct_across_paths():
    def ids(path: str) -> list[str]:
        with Workspace(None) as ws:
            ws.append_events(batch([{"message": "a"}, {"message": "b"}], path=path), NOW)
            return [r[0] for r in ws.con.execute('SELECT "seawall.event.id" FROM events ORDER BY 1').fetchall()]

    assert ids("/evidence/auth.log") == ids("/evidence/auth.log")
    assert set(ids("/evidence/auth.log")).isdisjoint(ids("/evidence/other.log"))


def test_one_batch_from_several_files_gets_each_files_digest(ws):
    table = pa.concat_tables(
        [batch([{"message": "a"}], path="/e/one.log"), batch([{"message": "b"}], path="/e/two.log")]
    )
    ws.append_events(table, NOW)
    rows = dict(ws.con.execute('SELECT message, "seawall.event.id" FROM events').fetchall())
    assert rows == {"a": f"{path_digest('/e/one.log')}-0", "b": f"{path_digest('/e/two.log')}-0"}


def test_path_digest_is_twelve_hex_digits_and_deterministic():
    assert re.fullmatch(r"[0-9a-f]{12}", path_digest("/x/y.log"))
    assert path_digest("/x/y.log") == path_digest("/x/y.log") != path_digest("/x/z.log")


def test_ingest_time_is_stamped(ws):
    ws.append_events(batch([{"message": "a"}]), NOW)
    assert ws.con.execute('SELECT "event.ingested" FROM events').fetchone()[0] == NOW


def test_typed_core_columns_keep_their_type(ws):
    stamp = pa.array([dt.datetime(2024, 6, 14, 15, 16, 1, tzinfo=dt.UTC)], pa.timestamp("us", tz="UTC"))
    ws.append_events(batch([{"message": "a"}], **{"@timestamp": stamp, "source.port": pa.array([22], pa.int32())}), NOW)
    value, port = ws.con.execute('SELECT "@timestamp", "source.port" FROM events').fetchone()
    assert value == dt.datetime(2024, 6, 14, 15, 16, 1, tzinfo=dt.UTC)
    assert port == 22


def test_empty_batch_is_ignored(ws):
    ws.append_events(batch([{"message": "a"}]).slice(0, 0), NOW)
    assert ws.count() == 0


def test_quarantine_rows_are_stored_with_location_and_record(ws):
    rows = quarantine_table(
        ["no syslog header", "PRI out of range (0-191)"],
        "/evidence/auth.log",
        "syslog",
        [0, 40],
        [1, 3],
        ["garbage", "<999>x"],
    )
    ws.append_quarantine(rows, NOW)
    stored = ws.quarantine_rows()
    assert [(r["reason"], r["seawall.source.offset"], r["seawall.source.line"], r["record"]) for r in stored] == [
        ("no syslog header", 0, 1, "garbage"),
        ("PRI out of range (0-191)", 40, 3, "<999>x"),
    ]
    assert {r["seawall.source.path"] for r in stored} == {"/evidence/auth.log"}
    assert {r["seawall.source.format"] for r in stored} == {"syslog"}
    assert {r["event.ingested"] for r in stored} == {NOW}
    assert ws.count("quarantine") == 2


def test_record_file_logs_one_row(ws):
    ws.record_file("/evidence/auth.log", "syslog", (1234, 1700000000000000000), (10, 8, 2), None, NOW)
    assert ws.con.execute("SELECT * FROM files").fetchall() == [
        ("/evidence/auth.log", "syslog", 1234, 1700000000000000000, 10, 8, 2, None, NOW)
    ]
    assert ws.stored_files() == {("/evidence/auth.log", 1234, 1700000000000000000): "syslog"}


def test_appending_after_count_works(ws):
    """count() is a read like any other: writing afterwards must not fail."""
    ws.append_events(batch([{"message": "a"}]), NOW)
    assert ws.count() == 1
    ws.append_events(batch([{"message": "b"}], path="/evidence/b.log"), NOW)
    ws.append_quarantine(quarantine_table(["bad"], "/e/a.log", "syslog", [5], [2], ["x"]), NOW)
    assert ws.count() == 2


def test_transaction_rolls_back_on_error(ws):
    with pytest.raises(RuntimeError), ws.transaction():
        ws.append_events(batch([{"message": "a"}]), NOW)
        raise RuntimeError("boom")
    assert ws.count() == 0


def test_export_parquet_writes_readable_files(ws, tmp_path):
    ws.append_events(batch([{"message": "a"}, {"message": "b"}, {"message": "c"}]), NOW)
    ws.append_quarantine(quarantine_table(["bad"], "/e/a.log", "syslog", [5], [2], ["x"]), NOW)
    ws.record_file("/e/a.log", "syslog", (10, 0), (4, 3, 1), None, NOW)
    written = ws.export_parquet(tmp_path / "out")
    assert sorted(p.name for p in written) == ["events.parquet", "files.parquet", "quarantine.parquet"]
    for path in written:
        table = pq.read_table(path)
        assert table.num_rows == ws.count(path.stem), path.name
    events = pq.read_table(tmp_path / "out" / "events.parquet")
    assert sorted(events.column("message").to_pylist()) == ["a", "b", "c"]
    assert set(CORE_COLUMNS) <= set(events.column_names)


def test_events_returns_an_ibis_table_that_filters_and_executes(ws):
    ws.append_events(
        batch([{"host.name": "web01", "message": "a"}, {"host.name": "db01", "message": "b"}, {"host.name": "web01"}]),
        NOW,
    )
    events = ws.events()
    web = events.filter(events["host.name"] == "web01")
    result = web.to_pyarrow()
    assert result.num_rows == 2
    assert set(result.column("host.name").to_pylist()) == {"web01"}
    assert web.count().execute() == 2


def test_events_sees_rows_appended_after_the_first_call(ws):
    assert ws.events().count().execute() == 0
    ws.append_events(batch([{"message": "a"}]), NOW)
    ws.append_events(batch([{"late.column": "x"}], path="/e/late.log"), NOW)
    events = ws.events()
    assert events.count().execute() == 2
    assert "late.column" in events.columns


def test_file_workspace_persists_rows_and_added_columns(tmp_path):
    path = tmp_path / "nested" / "case.duckdb"
    with Workspace(path) as ws:
        ws.append_events(batch([{"custom.field": "kept"}]), NOW)
    with Workspace(path) as ws:
        assert "custom.field" in ws.columns
        ws.append_events(batch([{"CUSTOM.FIELD": "again"}], path="/e/2.log"), NOW)
        assert [c for c in ws.columns if c.lower() == "custom.field"] == ["custom.field"]
        assert ws.con.execute('SELECT "custom.field" FROM events ORDER BY 1').fetchall() == [("again",), ("kept",)]
