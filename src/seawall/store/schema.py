"""The event vocabulary: Elastic Common Schema names, their types, and Seawall's provenance columns.

Columns listed here have a fixed type in every workspace. Any other field a source emits
(a format's native field, a telecom field) is stored as text and typed at query time,
so two sources can never disagree about a column's type.
"""

from __future__ import annotations

import re

import pyarrow as pa

TIMESTAMP = "@timestamp"
MESSAGE = "message"
ORIGINAL = "event.original"
DATASET = "event.dataset"
EVENT_ID = "seawall.event.id"
SOURCE_PATH = "seawall.source.path"
SOURCE_FORMAT = "seawall.source.format"
SOURCE_OFFSET = "seawall.source.offset"
SOURCE_LINE = "seawall.source.line"
INGESTED = "event.ingested"

# DuckDB type of every column with a fixed type. Text columns are listed too when every
# workspace should have them, so detectors can rely on their presence.
CORE_COLUMNS: dict[str, str] = {
    TIMESTAMP: "TIMESTAMPTZ",
    EVENT_ID: "VARCHAR",
    DATASET: "VARCHAR",
    "event.action": "VARCHAR",
    "event.code": "VARCHAR",
    "event.outcome": "VARCHAR",
    MESSAGE: "VARCHAR",
    ORIGINAL: "VARCHAR",
    "host.name": "VARCHAR",
    "user.name": "VARCHAR",
    "source.ip": "VARCHAR",
    "source.port": "INTEGER",
    "destination.ip": "VARCHAR",
    "destination.port": "INTEGER",
    "process.name": "VARCHAR",
    "process.pid": "BIGINT",
    "log.syslog.priority": "INTEGER",
    "log.syslog.facility.code": "INTEGER",
    "log.syslog.facility.name": "VARCHAR",
    "log.syslog.severity.code": "INTEGER",
    "log.syslog.severity.name": "VARCHAR",
    "log.syslog.version": "INTEGER",
    "log.syslog.appname": "VARCHAR",
    "log.syslog.procid": "VARCHAR",
    "log.syslog.msgid": "VARCHAR",
    "log.syslog.structured_data": "VARCHAR",
    SOURCE_PATH: "VARCHAR",
    SOURCE_FORMAT: "VARCHAR",
    SOURCE_OFFSET: "BIGINT",
    SOURCE_LINE: "BIGINT",
    INGESTED: "TIMESTAMPTZ",
}

# Columns the store stamps on every event; a source's field of the same name is dropped.
STAMPED_COLUMNS = (EVENT_ID, INGESTED)

NATIVE_TYPE = "VARCHAR"
_CORE_BY_LOWER = {name.lower(): name for name in CORE_COLUMNS}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

QUARANTINE_SCHEMA = pa.schema(
    [
        ("reason", pa.string()),
        (SOURCE_PATH, pa.string()),
        (SOURCE_FORMAT, pa.string()),
        (SOURCE_OFFSET, pa.int64()),
        (SOURCE_LINE, pa.int64()),
        ("record", pa.string()),
    ]
)


def canonical_name(name: str) -> str:
    """The store's spelling of a field name: a core column's own spelling whatever the
    case, control characters (which DuckDB cannot keep in names) replaced by '_'."""
    return _CORE_BY_LOWER.get(name.lower()) or _CONTROL.sub("_", name) or "_"


def column_type(name: str) -> str:
    """DuckDB type a column has in every workspace."""
    return CORE_COLUMNS.get(name, NATIVE_TYPE)


def quote(name: str) -> str:
    """Quote a column name for SQL; ECS names contain dots and '@'."""
    return '"' + name.replace('"', '""') + '"'
