"""Syslog files as written by rsyslog and syslog-ng: RFC 5424, RFC 3164 and their file variants.

Accepted line shapes (PRI is optional in files, required on the wire):

* RFC 5424: ``<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD...] MSG``
* RFC 3164 / BSD: ``<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG``, also with fractional
  seconds, a year after the day, or an RFC 3339 timestamp (rsyslog's high-precision format)
* PRI followed by free text: RFC 3164 section 4.3.3 says such content is the message

Anything else is quarantined with its reason. Parsing is vectorised: each chunk of lines
goes through RE2 regular expressions and DuckDB's timestamp parsing in one SQL statement,
so no Python code runs per line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from seawall.sources.base import (
    ParsedBatch,
    ReadOptions,
    SourceFormat,
    drop_empty_columns,
    quarantine_table,
    register,
    share_matching,
)
from seawall.sources.clock import clock_parts_sql, clock_sql
from seawall.sources.conform import split_by_reason
from seawall.sources.device_catalog import apply_catalog, catalog
from seawall.sources.device_messages import (
    CISCO_TAG,
    DEVICE_CLOCK,
    HUAWEI_TAG,
    SEVERITY_NAMES,
    sql_list,
    stage_sql,
    zone_offsets,
)
from seawall.sources.reader import iter_line_chunks

# A pattern without capture groups finds where each header ends (RE2 runs such patterns
# as a fast DFA); string functions then split the short header, and the message is the
# rest of the line. The patterns suit both RE2 and Python's re (used for sniffing).
# Structured data: a backslash escapes only inside a quoted PARAM-VALUE (RFC 5424 6.3.3);
# outside quotes it is an ordinary character of an SD-NAME, so "[\]" is one element.
RFC5424_HEADER = (
    r"^<\d{1,3}>1 \S+ \S+ \S+ \S+ \S+ "
    r"(?:-|(?:\[(?:[^\]\"]|\"(?:[^\"\\]|\\.)*\")*\])+)(?: |$)"
)
BSD_HEADER = (
    r"^(?:<\d{1,3}>)?(?:[A-Z][a-z]{2} [ 0-3]?\d(?: \d{4})? \d\d:\d\d:\d\d(?:\.\d{1,9})?"
    r"|\d{4} [A-Z][a-z]{2} [ 0-3]?\d \d\d:\d\d:\d\d(?:\.\d{1,9})?"  # NX-OS logfile: year first
    r"|\d{4}[-/]\d\d[-/]\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z| ?[+-]\d\d:?\d\d)?) +[^\s+-]\S*(?: |$)"
)
DEVICE_TAG = (HUAWEI_TAG + "|" + CISCO_TAG).replace("'", "''")
# A device's own clock at the start of a line ("Jun 13 09:25:00.456 PDT: %SYS-..." from a
# log buffer): it looks like a BSD header whose host is the zone, but it is not one.
DEVICE_CLOCK_START = (
    r"^(?:<\d{1,3}>)?[*.]?"
    + DEVICE_CLOCK
    + r"(?: +(?:"
    + "|".join(sorted(zone_offsets()))
    + r")(?:[+-]\d{1,2}(?::\d\d)?)?)? ?: "
)
TAG_PREFIX = r"^[A-Za-z_/.][^\s\[\]:]*(?:\[[^\]\s]*\])?: ?"
PRI_PREFIX = r"^<\d{1,3}>"
MAX_LINE_BYTES = 64 << 10  # RFC 5425/6587 receivers need not take more; longer is garbage or abuse

FACILITIES = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
    "authpriv", "ftp", "ntp", "security", "console", "solaris-cron", "local0", "local1",
    "local2", "local3", "local4", "local5", "local6", "local7",
]  # fmt: skip


def _bsd_time(year: str) -> str:
    """SQL: a BSD timestamp (its words in ``p3``) in the zone given by $timezone; a reading
    without a year is read in ``year`` (NULL if there is no such date that year)."""
    return f"timezone($timezone, {clock_sql('p3', year)})"


def _after(text: str, prefix: str) -> str:
    """SQL: what follows ``prefix`` in ``text`` (string slices count characters)."""
    return f"{text}[length({prefix}) + 1:]"


PARSE_SQL = f"""
WITH s AS (
    SELECT line, "offset", number, regexp_matches(line, '^<\\d{{1,3}}>1 ') AS v5 FROM chunk
), h AS (
    SELECT *,
        CASE WHEN v5 THEN regexp_extract(line, '{RFC5424_HEADER}', 0) ELSE '' END AS h5,
        CASE WHEN NOT v5 AND NOT regexp_matches(line, '{DEVICE_CLOCK_START}') THEN regexp_extract(line, '{BSD_HEADER}', 0)
             ELSE '' END AS h3
    FROM s
), f AS (
    SELECT *,
        CASE WHEN h5 <> '' THEN string_split(rtrim(h5), ' ') END AS p5,
        CASE WHEN h3 <> '' THEN CASE WHEN h3[1] = '<' THEN h3[strpos(h3, '>') + 1:] ELSE h3 END END AS b3,
        CASE WHEN h3 <> '' THEN {_after("line", "h3")} END AS rest,
        CASE WHEN h5 = '' AND h3 = '' THEN regexp_extract(line, '{PRI_PREFIX}', 0) END AS p0
    FROM h
), g AS (
    SELECT *,
        rtrim(b3) AS bt,
        CASE WHEN h5 <> '' THEN h5[1:strpos(h5, '>')] WHEN h3[1] = '<' THEN h3[1:strpos(h3, '>')] ELSE p0 END AS pri_text
    FROM f
), g2 AS (
    SELECT *,
        bt[length(bt) - strpos(reverse(bt), ' ') + 2:] AS host3,
        TRY_CAST(pri_text[2:-2] AS INTEGER) AS pri
    FROM g
), g3 AS (
    SELECT *,
        rtrim(bt[1:length(bt) - length(host3)]) AS ts3,
        -- a "host" that ends like a tag ("sshd[1]:") means the line has no hostname
        regexp_matches(host3, '[:\\]]$') AS no_host
    FROM g2
), g4 AS (
    SELECT *, h3 <> '' AND NOT regexp_matches(ts3, '^\\d| \\d{{4}} ') AS yearless,
        CASE WHEN h3 <> '' AND NOT regexp_matches(ts3, '^\\d{{4}}[-/]') THEN {clock_parts_sql("ts3")} END AS p3
    FROM g3
), t AS (
    SELECT *,
        CASE WHEN no_host THEN host3 || ' ' || rest ELSE rest END AS body,
        CASE
            WHEN h5 <> '' THEN CASE WHEN p5[2] = '-' THEN NULL ELSE TRY_CAST(p5[2] AS TIMESTAMPTZ) END
            WHEN h3 = '' THEN NULL
            WHEN regexp_matches(ts3, '(?:Z|[+-]\\d\\d:?\\d\\d)$')
                THEN TRY_CAST(regexp_replace(replace(ts3, '/', '-'), ' ?([+-]\\d\\d):?(\\d\\d)$', '\\1:\\2') AS TIMESTAMPTZ)
            WHEN regexp_matches(ts3, '^\\d{{4}}[-/]') THEN timezone($timezone, TRY_CAST(replace(ts3, '/', '-') AS TIMESTAMP))
            ELSE {_bsd_time("$year")}
        END AS ts0
    FROM g4
), u AS (
    SELECT *, CASE WHEN h3 <> '' THEN regexp_extract(body, '{TAG_PREFIX}', 0) END AS tp FROM t
), v AS (
    SELECT *, CASE WHEN tp <> '' THEN rtrim(rtrim(tp), ':') END AS tg FROM u
), w AS (
    SELECT *,
        CASE WHEN h5 <> '' THEN p5[5] WHEN contains(tg, '[') THEN split_part(split_part(tg, '[', 2), ']', 1) END AS pid_text
    FROM v
), x AS (
    SELECT *,
        -- a year-less time later than a day after the reference is from the year before
        -- (also when the date does not exist in the reference year: 29 February)
        CASE WHEN yearless AND (ts0 IS NULL OR ts0 > $reference + INTERVAL 1 DAY)
             THEN {_bsd_time("$previous_year")} ELSE ts0 END AS ts
    FROM w
)
SELECT
    ts AS "@timestamp",
    'syslog' AS "event.dataset",
    CASE WHEN h5 <> '' THEN nullif(p5[3], '-') WHEN NOT no_host THEN host3 END AS "host.name",
    CASE WHEN h5 <> '' THEN nullif(p5[4], '-') ELSE split_part(tg, '[', 1) END AS "process.name",
    CASE WHEN regexp_full_match(pid_text, '\\d{{1,18}}') THEN CAST(pid_text AS BIGINT) END AS "process.pid",
    CASE
        WHEN h5 <> '' THEN ltrim({_after("line", "h5")}, chr(65279))
        WHEN h3 <> '' THEN CASE WHEN tp <> '' THEN {_after("body", "tp")} ELSE body END
        ELSE {_after("line", "p0")}
    END AS message,
    line AS "event.original",
    pri AS "log.syslog.priority",
    pri // 8 AS "log.syslog.facility.code",
    {sql_list(FACILITIES)}[pri // 8 + 1] AS "log.syslog.facility.name",
    pri % 8 AS "log.syslog.severity.code",
    {sql_list(SEVERITY_NAMES)}[pri % 8 + 1] AS "log.syslog.severity.name",
    CASE WHEN h5 <> '' THEN 1 END AS "log.syslog.version",
    nullif(p5[4], '-') AS "log.syslog.appname",
    nullif(p5[5], '-') AS "log.syslog.procid",
    nullif(p5[6], '-') AS "log.syslog.msgid",
    nullif(array_to_string(p5[7:], ' '), '-') AS "log.syslog.structured_data",
    $path AS "seawall.source.path",
    'syslog' AS "seawall.source.format",
    "offset" AS "seawall.source.offset",
    number AS "seawall.source.line",
    CASE
        WHEN strlen(line) > {MAX_LINE_BYTES}
            THEN 'line of ' || strlen(line) || ' bytes, over the 64 KiB a syslog message can be'
        WHEN v5 AND h5 = '' THEN 'malformed RFC 5424 header'
        -- a device's own log buffer (show logging) has no syslog header, only the device's
        WHEN h5 = '' AND h3 = '' AND p0 = '' AND NOT regexp_matches(line, '{DEVICE_TAG}')
            THEN 'no syslog header (neither PRI nor timestamp and host) and no device message tag'
        WHEN pri > 191 THEN 'PRI out of range (0-191)'
        WHEN ts IS NULL AND (p5[2] <> '-' OR h3 <> '')
            THEN 'unreadable timestamp ''' || coalesce(p5[2], ts3) || ''''
    END AS _reason,
    yearless AS _yearless
FROM x
"""

BATCH_ROWS = 8192  # small record batches let DuckDB spread a chunk over all cores
# Planning the parse statement costs tens of milliseconds whatever the chunk's size, so
# chunks are larger than the reader's default (memory: about 0.3 GB per chunk in flight).
CHUNK_BYTES = 16 << 20
HELPER_COLUMNS = ["_reason", "_yearless", "_unknown_zone", "_vendor", "_key"]

_SNIFF = [re.compile(p) for p in (RFC5424_HEADER, BSD_HEADER, PRI_PREFIX)]


class SyslogParser:
    """Parses batches of syslog lines in one SQL statement: the header, then the device
    message inside it. Files and the live receiver share it; each owns one."""

    def __init__(self, source: str, timezone: str = "UTC", fmt: str = "syslog") -> None:
        self.source = source
        self.timezone = timezone
        self.fmt = fmt
        self.catalog = catalog()
        self.sql = stage_sql(f"({PARSE_SQL}) AS parsed", self.catalog)
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")

    def parse(
        self, lines: pa.Array, offsets: pa.Array, numbers: pa.Array, reference: dt.datetime
    ) -> tuple[pa.Table, pa.Table, list[str]]:
        """Events, quarantined records and notes for these lines. ``reference`` dates
        timestamps that carry no year (the year before when more than a day ahead of it)."""
        chunk = pa.table({"line": lines, "offset": offsets, "number": numbers})
        self.con.register("chunk", pa.Table.from_batches(chunk.to_batches(max_chunksize=BATCH_ROWS), chunk.schema))
        params = {
            "path": self.source,
            "year": str(reference.year),
            "previous_year": str(reference.year - 1),
            "reference": reference,
            "timezone": self.timezone,
        }
        try:
            parsed = self.con.sql(self.sql, params=params).to_arrow_table()
        finally:
            self.con.unregister("chunk")
        parsed = apply_catalog(parsed, self.catalog)
        events, quarantined, reasons = split_by_reason(parsed.drop_columns(HELPER_COLUMNS), parsed["_reason"])
        events = drop_empty_columns(events, self.catalog.columns)  # a Linux log gets no router fields
        notes = []
        if pc.any(parsed["_yearless"]).as_py():
            notes.append(f"timestamps without a year were dated in {reference.year} (or the year before)")
        if pc.any(parsed["_unknown_zone"]).as_py():
            notes.append(
                f"some device clocks name a time zone Seawall does not know; those times were read in {self.timezone} "
                "(add the zone to content/devices/timezones.yaml or give --timezone)"
            )
        quarantine = quarantine_table(
            reasons,
            self.source,
            self.fmt,
            quarantined["seawall.source.offset"],
            quarantined["seawall.source.line"],
            quarantined["event.original"],
        )
        return events, quarantine, notes

    def close(self) -> None:
        self.con.close()


@register
class Syslog(SourceFormat):
    name = "syslog"
    description = (
        "Syslog files: RFC 5424, RFC 3164/BSD (rsyslog, syslog-ng), PRI-prefixed text; "
        "Cisco IOS/IOS XE/NX-OS/IOS XR, Junos, Arista EOS and Huawei VRP messages structured"
    )

    def sniff(self, head: bytes) -> float:
        return share_matching(head, _SNIFF)

    def parse(self, path: Path, options: ReadOptions) -> Iterator[ParsedBatch]:
        reference = options.reference_for(path)
        parser = SyslogParser(str(path), options.timezone, self.name)
        try:
            for lines in iter_line_chunks(path, CHUNK_BYTES):
                events, quarantine, notes = parser.parse(lines.lines, lines.offsets, lines.numbers, reference)
                if options.reference_time is not None:
                    notes = [n for n in notes if not n.startswith("timestamps without a year")]
                else:
                    notes = [
                        n + " from the file's modification time; if the evidence was copied, give --year"
                        if n.startswith("timestamps without a year")
                        else n
                        for n in notes
                    ]
                if lines.lossy:
                    notes.insert(0, "some lines are not UTF-8 and were read as Latin-1")
                yield ParsedBatch(
                    events=events,
                    quarantine=quarantine,
                    records=events.num_rows + quarantine.num_rows,
                    position=lines.position,
                    notes=notes,
                )
        finally:
            parser.close()
