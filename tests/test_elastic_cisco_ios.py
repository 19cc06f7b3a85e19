"""Agreement with Elastic's cisco_ios ingest pipeline on its own public test fixtures.

Every line of ../shared/data/syslog/elastic-cisco_ios must parse; for the fields both
Elastic and Seawall produce, the values must agree on at least 95% of comparisons. The
comparison names each disagreement, so a regression says which line and field moved.

Deliberate differences (docs/FORMATS.md): Elastic's ``event.code`` is the mnemonic alone
(``LOGOUT``), Seawall's the whole tag (``SYS-6-LOGOUT``), so the mnemonic is compared;
Elastic puts the logged-in user in ``source.user.name``, Seawall in ``user.name``; Elastic
stamps lines without any clock with the time of ingest (its test config marks
``@timestamp`` dynamic), Seawall leaves them undated, so those are not compared; Elastic
names severity 5 ``notification`` (Cisco's word), Seawall ``notice`` (syslog's).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from pathlib import Path

import pytest

from seawall.sources import ReadOptions, formats

# Seawall column -> Elastic field, and how to bring Seawall's value to Elastic's form.
SHARED = {
    "@timestamp": "@timestamp",
    "message": "message",
    "host.name": "log.syslog.hostname",
    "log.syslog.priority": "log.syslog.priority",
    "log.level": "log.level",
    "event.severity": "event.severity",
    "event.sequence": "event.sequence",
    "event.provider": "cisco.ios.facility",
    "event.code": "event.code",
    "source.ip": "source.ip",
    "source.port": "source.port",
    "destination.ip": "destination.ip",
    "destination.port": "destination.port",
    "user.name": "source.user.name",
}


CLOCK = re.compile(r"\d\d:\d\d:\d\d")


def _flat(doc: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _ours(column: str, value: object) -> object:
    if column == "@timestamp":
        return value.astimezone(dt.UTC)
    if column == "event.code":
        return str(value).split("-")[-1]  # Elastic keeps only the mnemonic
    return value


def _theirs(field: str, value: object) -> object:
    if field == "@timestamp":
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(dt.UTC)
    return value


@functools.cache
def compare(shared_data: Path) -> tuple[int, int, list[str]]:
    fixtures = shared_data / "syslog" / "elastic-cisco_ios"
    agreed = compared = 0
    misses = []
    for log in sorted(fixtures.glob("*.log")):
        expected = [_flat(e) for e in json.loads(log.with_name(log.name + "-expected.json").read_text())["expected"]]
        # Elastic's fixtures date year-less clocks in the year they were recorded: read them in that year.
        years = [int(e["@timestamp"][:4]) for e in expected if "@timestamp" in e]
        reference = dt.datetime(max(years), 12, 31, tzinfo=dt.UTC)
        batches = list(formats()["syslog"].parse(log, ReadOptions(reference_time=reference)))
        assert sum(b.quarantine.num_rows for b in batches) == 0, f"{log.name}: lines quarantined"
        events = [e for b in batches for e in b.events.to_pylist()]
        assert len(events) == len(expected), log.name
        for number, (ours, theirs) in enumerate(zip(events, expected, strict=True), 1):
            for column, field in SHARED.items():
                if field not in theirs or (field == "@timestamp" and not CLOCK.search(ours["event.original"])):
                    continue
                compared += 1
                mine = _ours(column, ours[column]) if ours.get(column) is not None else None
                if mine == _theirs(field, theirs[field]):
                    agreed += 1
                else:
                    misses.append(f"{log.name}:{number} {column}={mine!r} vs {field}={theirs[field]!r}")
    return agreed, compared, misses


@pytest.fixture
def comparison(shared_data: Path) -> tuple[int, int, list[str]]:
    return compare(shared_data)


def test_every_elastic_line_parses_and_fields_agree(comparison: tuple[int, int, list[str]]) -> None:
    agreed, compared, misses = comparison
    ratio = agreed / compared
    print(f"\nElastic cisco_ios agreement: {agreed}/{compared} shared field values ({ratio:.1%})")
    for miss in misses:
        print("  differs:", miss)
    assert compared >= 150  # every fixture line contributes several shared fields
    assert ratio >= 0.95, misses


@pytest.mark.parametrize("field", ["@timestamp", "host.name", "source.ip", "user.name", "event.sequence", "message"])
def test_device_header_and_message_fields_agree_exactly(comparison: tuple[int, int, list[str]], field: str) -> None:
    assert not [m for m in comparison[2] if m.split(" ")[1].startswith(field + "=")]
