"""FreeRADIUS ``detail`` files (rlm_detail): accounting (and logged access) packets, one record each.

A record is a date line (``%t``, the server's local time in ``ctime`` form:
``Mon Mar 16 12:00:00 2026``) followed by tab-indented ``Attribute = value`` lines;
records are separated by blank lines. String values are quoted, with ``\\"``, ``\\\\``,
``\\n``, ``\\r``, ``\\t`` and ``\\ooo`` escapes. In accounting records the server adds
``Timestamp = <epoch seconds>``, which is exact and wins over the date line.

Records span lines, so this reader walks the lines in Python (a state machine over each
chunk the shared reader hands over, carrying an unfinished record into the next chunk)
and emits each chunk's records as one Arrow table.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from seawall.sources.base import (
    ParsedBatch,
    ReadOptions,
    SourceFormat,
    complete_lines,
    quarantine_table,
    register,
)
from seawall.sources.reader import iter_line_chunks
from seawall.store.schema import (
    DATASET,
    MESSAGE,
    ORIGINAL,
    SOURCE_FORMAT,
    SOURCE_LINE,
    SOURCE_OFFSET,
    SOURCE_PATH,
    TIMESTAMP,
    canonical_name,
)

NAME = "radius-detail"
MAX_RECORD_LINES = 10_000  # a record longer than this is cut off and quarantined
MAX_ATTRIBUTES = 512  # distinct attribute names (columns) one file may add

CTIME = re.compile(r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-3]?\d \d\d:\d\d:\d\d \d{4}")
ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d")
ATTRIBUTE = re.compile(r"[ \t]+([A-Za-z0-9][A-Za-z0-9_.:/-]*)[ \t]*=[ \t]?(.*)")
ESCAPE = re.compile(r"\\([0-7]{3}|.)")
ESCAPES = {"n": "\n", "r": "\r", "t": "\t"}
STATUS = {  # Acct-Status-Type (RFC 2866 section 5.1), also when the dictionary printed a number
    "1": "start",
    "2": "stop",
    "3": "interim-update",
    "alive": "interim-update",
    "7": "accounting-on",
    "8": "accounting-off",
}
BLANK = " \t\f\v"


def attribute_column(attribute: str) -> str:
    """The column of an attribute: ``Acct-Session-Id`` is ``radius.acct_session_id``."""
    return canonical_name("radius." + re.sub(r"[^a-z0-9]+", "_", attribute.lower()).strip("_"))


def unquote(value: str) -> str:
    """A value as FreeRADIUS printed it, without its quotes and escapes."""
    value = value.rstrip(BLANK)
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return ESCAPE.sub(_unescape, value[1:-1])
    return value


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) == 3:
        return chr(int(code, 8))
    return ESCAPES.get(code, code)


def _is_ip(value: str | None) -> bool:
    if not value:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _strip_cr(command: str) -> str:
    command = command.rstrip()
    if command == "<cr>":
        return ""
    return command[:-5].rstrip() if command.endswith(" <cr>") else command


@dataclass
class _Record:
    offset: int
    number: int
    header: str | None  # the date line; None when the record starts with an attribute line
    lines: list[str] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    problem: str | None = None
    last: int = 0  # number of its last line


class _Builder:
    """Turns complete records into event rows and quarantine rows."""

    def __init__(self, source: str, zone: dt.tzinfo) -> None:
        self.source = source
        self.zone = zone
        self.columns: set[str] = set()
        self.events: list[dict[str, object]] = []
        self.bad: list[tuple[str, int, int, str]] = []  # reason, offset, line number, record text
        self.header_dated = False

    def add(self, record: _Record) -> None:
        """Keep a complete record as an event, or quarantine it with the reason."""
        reason = record.problem
        stamp = header_time = None
        if reason is None and record.header is None:
            reason = "record does not start with a date line (the file may begin inside a record)"
        if reason is None:
            header_time = self._header_time(record.header or "")
            if not record.pairs:
                reason = (
                    "record has no attributes after its date line"
                    if header_time
                    else f"line {record.number} is neither a date line nor 'Attribute = value': {record.header[:80]!r}"
                )
            else:
                stamp = _epoch(next((v for k, v in record.pairs if k == "Timestamp"), None))
                if stamp is None and header_time is None:
                    reason = f"no date: {record.header[:80]!r} is not a date and the record has no Timestamp attribute"
                names = {attribute_column(k) for k, _ in record.pairs}
                if reason is None and len(self.columns | names) > MAX_ATTRIBUTES:
                    reason = f"more than {MAX_ATTRIBUTES} distinct attribute names in the file"
        if reason is not None:
            self.bad.append((reason, record.offset, record.number, "\n".join(record.lines)))
            return
        if stamp is None:
            self.header_dated = True
        self.events.append(self._event(record, stamp or header_time))

    def _event(self, record: _Record, stamp: dt.datetime) -> dict[str, object]:
        values: dict[str, list[str]] = {}
        for key, value in record.pairs:
            values.setdefault(key, []).append(value)
        first = {key: v[0] for key, v in values.items()}

        row: dict[str, object] = {}
        for key, vs in values.items():
            name = attribute_column(key)
            self.columns.add(name)
            text = "\n".join(vs)
            row[name] = text if name not in row else f"{row[name]}\n{text}"  # names that share a column

        status = first.get("Acct-Status-Type")
        packet = first.get("Packet-Type")
        access = bool(packet) and packet.lower().startswith("access-")
        action = STATUS.get(status.lower(), status.lower()) if status else (packet.lower() if packet else None)
        command = _command(values)
        nas_ip = first.get("NAS-IP-Address") or first.get("NAS-IPv6-Address")
        nas = first.get("NAS-Identifier") or nas_ip
        user = first.get("User-Name")
        calling = first.get("Calling-Station-Id")
        source_ip = first.get("Framed-IP-Address") or (calling if _is_ip(calling) else None)
        session = first.get("Acct-Session-Id")
        elapsed = first.get("Acct-Session-Time")
        summary = " ".join(
            part
            for part in (
                action or "record",
                f"by {user}" if user else None,
                f"on {nas}" if nas else None,
                f"port {first['NAS-Port-Id']}" if first.get("NAS-Port-Id") else None,
                f"from {source_ip or calling}" if source_ip or calling else None,
                f"session {session}" if session else None,
                f"after {elapsed} s" if elapsed else None,
            )
            if part
        )
        row.update(
            {
                TIMESTAMP: stamp,
                DATASET: "radius.access" if access else "radius.accounting",
                "event.category": "authentication" if access else ("configuration" if command else "session"),
                "event.action": action,
                "user.name": user,
                "host.ip": nas_ip if _is_ip(nas_ip) else None,
                "host.name": nas,
                "source.ip": source_ip if _is_ip(source_ip) else None,
                "process.command_line": command,
                MESSAGE: summary + (f": {command}" if command else ""),
                ORIGINAL: "\n".join(record.lines),
                SOURCE_OFFSET: record.offset,
                SOURCE_LINE: record.number,
            }
        )
        return row

    def _header_time(self, header: str) -> dt.datetime | None:
        text = header.strip(BLANK)
        try:
            if CTIME.fullmatch(text):
                moment = dt.datetime.strptime(text, "%a %b %d %H:%M:%S %Y")
            elif ISO_DATE.match(text):
                moment = dt.datetime.fromisoformat(text)
            else:
                return None
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return moment.astimezone(dt.UTC)

    def take(self, fmt: str) -> tuple[pa.Table, pa.Table]:
        """The events and quarantined records gathered since the last call."""
        events = _table(self.events, self.source, fmt)
        bad = self.bad
        quarantine = quarantine_table(
            [b[0] for b in bad], self.source, fmt, [b[1] for b in bad], [b[2] for b in bad], [b[3] for b in bad]
        )
        self.events, self.bad = [], []
        return events, quarantine


def _epoch(value: str | None) -> dt.datetime | None:
    if value is None or not value.isascii() or not value.isdigit():
        return None
    try:
        return dt.datetime.fromtimestamp(int(value), dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _command(values: dict[str, list[str]]) -> str | None:
    """The command line a device reported: Cisco-AVPair ``cmd=`` (with any ``cmd-arg=``),
    else Juniper-Interactive-Command."""
    cmd: str | None = None
    args: list[str] = []
    for pair in values.get("Cisco-AVPair", []):
        key, sep, value = pair.partition("=")
        key = key.rsplit(":", 1)[-1]  # "shell:cmd" as well as "cmd"
        if not sep:
            continue
        if key == "cmd" and cmd is None:
            cmd = value
        elif key == "cmd-arg":
            args.append(value)
    if cmd is None and values.get("Juniper-Interactive-Command"):
        cmd = values["Juniper-Interactive-Command"][0]
    if cmd is None:
        return None
    return _strip_cr(" ".join([cmd, *args])) or None


FIXED_TYPES = {TIMESTAMP: pa.timestamp("us", tz="UTC"), SOURCE_OFFSET: pa.int64(), SOURCE_LINE: pa.int64()}
LEADING = [
    TIMESTAMP,
    DATASET,
    "event.category",
    "event.action",
    "user.name",
    "source.ip",
    "host.ip",
    "host.name",
    "process.command_line",
    MESSAGE,
]


def _table(rows: list[dict[str, object]], source: str, fmt: str) -> pa.Table:
    names = LEADING + sorted({k for row in rows for k in row if k.startswith("radius.")})
    names += [ORIGINAL, SOURCE_OFFSET, SOURCE_LINE]
    columns = {name: pa.array([row.get(name) for row in rows], FIXED_TYPES.get(name, pa.string())) for name in names}
    columns[SOURCE_PATH] = pa.array([source] * len(rows), pa.string())
    columns[SOURCE_FORMAT] = pa.array([fmt] * len(rows), pa.string())
    return pa.table(columns)


@register
class RadiusDetail(SourceFormat):
    name = NAME
    description = "FreeRADIUS detail files: accounting records (date line, then tab-indented Attribute = value)"

    def sniff(self, head: bytes) -> float:
        lines = complete_lines(head)
        if not lines or not CTIME.fullmatch(lines[0].strip(BLANK)):
            return 0.0
        headers = sum(1 for line in lines if CTIME.fullmatch(line.strip(BLANK)))
        attributes = sum(1 for line in lines if ATTRIBUTE.fullmatch(line))
        return (headers + attributes) / len(lines) if attributes else 0.0

    def parse(self, path: Path, options: ReadOptions) -> Iterator[ParsedBatch]:
        zone_name = options.timezone
        try:
            zone: dt.tzinfo = zoneinfo.ZoneInfo(zone_name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = dt.UTC
        builder = _Builder(str(path), zone)
        current: _Record | None = None
        lossy = False
        position = 0

        def finish() -> int:
            nonlocal current
            if current is None:
                return 0
            builder.add(current)
            current = None
            return 1

        for chunk in iter_line_chunks(path):
            lossy = lossy or chunk.lossy
            position = chunk.position
            records = 0
            for text, offset, number in zip(
                chunk.lines.to_pylist(), chunk.offsets.to_pylist(), chunk.numbers.to_pylist(), strict=True
            ):
                if not text.strip(BLANK):  # a line of spaces and tabs separates records like a blank one
                    records += finish()
                    continue
                indented = text[0] in BLANK
                if current is not None and (not indented or number != current.last + 1):
                    records += finish()  # a date line, or a blank line before this one, ends the record
                if current is None:
                    current = _Record(offset, number, None if indented else text)
                current.lines.append(text)
                current.last = number
                if indented and current.problem is None:
                    match = ATTRIBUTE.fullmatch(text)
                    if match is None:
                        current.problem = f"line {number} is not 'Attribute = value': {text.strip(BLANK)[:80]!r}"
                    else:
                        current.pairs.append((match.group(1), unquote(match.group(2))))
                if len(current.lines) >= MAX_RECORD_LINES:
                    current.problem = current.problem or f"record longer than {MAX_RECORD_LINES} lines (cut off)"
                    records += finish()
            events, quarantine = builder.take(self.name)
            yield ParsedBatch(events, quarantine, records, position, self._notes(lossy, builder, zone_name))
        records = finish()
        if records:
            events, quarantine = builder.take(self.name)
            yield ParsedBatch(events, quarantine, records, position, self._notes(lossy, builder, zone_name))

    @staticmethod
    def _notes(lossy: bool, builder: _Builder, zone: str) -> list[str]:
        notes = ["some lines are not UTF-8 and were read as Latin-1"] if lossy else []
        if builder.header_dated:
            notes.append(
                f"records without a Timestamp attribute were dated from their date line, the RADIUS server's "
                f"local time, read as {zone}"
            )
        return notes
