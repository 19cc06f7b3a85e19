"""TACACS+ accounting files as tac_plus and tac_plus-ng write them: one record per line.

Accepted line shapes (fields separated by tabs):

* tac_plus (Cisco / Shrubbery F4.0.4, Facebook's fork):
  ``TIME NAS USER PORT REM_ADDR start|stop|update ATTR=VALUE ATTR=VALUE ...`` where
  TIME is ``Mar 16 12:00:00`` (F4.0.4.28: ``strftime("%h %e %T")``, local time, no year)
  or ``Mon Mar 16 12:00:00 2026`` (older releases: ``ctime()``); an empty identity field
  is written as ``unknown``. The attribute-value pairs are RFC 8907 section 8.3 arguments
  as the device sent them (``task_id=5``, ``service=shell``, ``priv-lvl=15``,
  ``cmd=show running-config <cr>``...), ``attr=value`` or ``attr*value``.
* tac_plus-ng (Marc Huber's event-driven-servers) with its default accounting format for
  a file destination: ``TIMESTAMP NAS`` then ``USER PORT REM_ADDR TYPE SERVICE CMD``,
  where TIMESTAMP is ``2026-03-16 12:00:00 +0100`` (or ``Mar 16 12:00:00`` /
  an RFC 3339 time when the destination sets ``timestamp = RFC3164`` / ``RFC5424``).
  CMD is the command line for service ``shell``; for other services tac_plus-ng writes
  their other pairs there, joined by spaces.

Anything else is quarantined with its reason. Parsing is vectorised: each chunk of lines
goes through one DuckDB statement, with no Python per line. Attribute-value pairs become
one column per attribute name. Device software writes its attributes in a steady order,
so the parser learns where each name stands (from a sample, then from any line that
surprises it) and reads an attribute by testing only those places. A line whose pairs do
not all fit what was learned (a name or place not seen before, ``attr*value``, an empty
field) is read again, with the other such lines of its chunk, by a second statement that
finds every pair with RE2 — and teaches the first one for the next chunk.
"""

from __future__ import annotations

import re
from collections import Counter
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
from seawall.sources.conform import split_by_reason
from seawall.sources.reader import iter_line_chunks
from seawall.store.schema import canonical_name

NAME = "tacacs"
DATASET = "tacacs.accounting"
RECORD_TYPES = ("start", "stop", "update")
MAX_PAIRS = 255  # arg_cnt is one byte in the protocol (RFC 8907 section 7.1)
MAX_ATTRIBUTES = 256  # distinct attribute names (columns) one file may add
FAST_PLACES = 32  # pairs after the sixth field whose places are learned
SAMPLE_LINES = 2000  # lines of a file's first chunk the places are first learned from
BATCH_ROWS = 8192  # small record batches let DuckDB spread a chunk over all cores

# An attribute name: RFC 8907 names are ASCII words with '-' and '_'; vendors add ':' and '.'.
KEY = r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}"
PAIR = KEY + r"[=*][^\t]*"
# tac_plus: the first field is the time alone.
CLASSIC_TIME = r"(?:[A-Z][a-z]{2} )?[A-Z][a-z]{2} [ 0-3]?\d \d\d:\d\d:\d\d(?: \d{4})?"
# tac_plus-ng: the first field is the time, a space, and the NAS address.
NG_TIME = (
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)"
    r"|[A-Z][a-z]{2} [ 0-3]?\d \d\d:\d\d:\d\d"
)
NG_FIRST = rf"(?:{NG_TIME}) [^ ]+"
IPV4 = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
IPV6 = rf"(?:[0-9A-Fa-f]{{0,4}}:){{2,7}}(?:[0-9A-Fa-f]{{1,4}}|{IPV4})?"

_SNIFF = [
    re.compile(rf"^{CLASSIC_TIME}\t[^\t]*\t[^\t]*\t[^\t]*\t[^\t]*\t(?:start|stop|update|unknown)(?:\t|$)"),
    re.compile(rf"^(?:{NG_FIRST})\t[^\t]*\t[^\t]*\t[^\t]*\t(?:start|stop|update|unknown)\t[^\t]*\t[^\t]*$"),
]


def _is_ip(value: str) -> str:
    """SQL: whether ``value`` is an IPv4 or IPv6 address (text as written)."""
    return (
        f"(regexp_full_match({value}, '{IPV4}') OR (contains({value}, ':') "
        f"AND regexp_full_match({value}, '{IPV6}') AND NOT contains({value}, ':::') "
        f"AND strlen({value}) - strlen(replace({value}, '::', '')) <= 2))"
    )


def _time(text: str, year: str) -> str:
    """SQL: a time without a zone, read in $timezone; ``year`` goes before times that have none."""
    return f"timezone($timezone, try_strptime({year} || ' ' || {text}, '%Y %b %d %H:%M:%S'))"


# What every line yields before its attribute-value pairs are looked at.
BASE_SQL = f"""
WITH s AS (
    SELECT line, "offset", number, string_split(line, chr(9)) AS f FROM chunk
), a AS (
    SELECT *, len(f) AS n FROM s
), b AS (
    -- tac_plus-ng lines have 7 fields, the first holding the time and the NAS; any other
    -- line is read as tac_plus (and its time must parse)
    SELECT *, CASE WHEN n = 7 THEN regexp_full_match(f[1], '{NG_FIRST}') ELSE FALSE END AS ng FROM a
), b2 AS (
    SELECT *, NOT ng AS classic FROM b
), c AS (
    SELECT *,
        CASE WHEN ng THEN split_part(f[1], ' ', -1) ELSE f[2] END AS nas,
        CASE WHEN ng THEN f[2] ELSE f[3] END AS usr,
        CASE WHEN ng THEN f[3] ELSE f[4] END AS port,
        CASE WHEN ng THEN f[4] ELSE f[5] END AS rem,
        CASE WHEN ng THEN f[5] ELSE f[6] END AS typ
    FROM b2
), d AS (
    SELECT *, CASE WHEN ng THEN f[1][1:length(f[1]) - length(nas) - 1] ELSE f[1] END AS ts_text FROM c
), e AS (
    SELECT *,
        CASE WHEN ng THEN regexp_matches(ts_text, '^[A-Z]') ELSE strlen(ts_text) < 20 END AS yearless
    FROM d
), g AS (
    SELECT *,
        CASE
            WHEN yearless THEN {_time("ts_text", "$year")}
            WHEN classic THEN timezone($timezone, try_strptime(ts_text, '%a %b %d %H:%M:%S %Y'))
            WHEN ng AND regexp_matches(ts_text, '^\\d{{4}}-\\d\\d-\\d\\d ') THEN try_strptime(ts_text, '%Y-%m-%d %H:%M:%S %z')
            WHEN ng THEN TRY_CAST(ts_text AS TIMESTAMPTZ)
        END AS ts0
    FROM e
), base AS (
    SELECT *,
        -- a year-less time later than a day after the reference is from the year before
        -- (also when the date does not exist in the reference year: 29 February)
        CASE WHEN yearless AND (ts0 IS NULL OR ts0 > $reference + INTERVAL 1 DAY)
             THEN {_time("ts_text", "$previous_year")} ELSE ts0 END AS ts
    FROM g
)"""

# The places (after the six fixed fields) where attribute names stand in tac_plus lines.
PLACES_SQL = f"""
WITH s AS (
    SELECT string_split(line, chr(9)) AS f FROM chunk
), t AS (
    SELECT unnest(range(7, least(len(f), {6 + FAST_PLACES}) + 1)) AS place, f FROM s
    WHERE len(f) > 6 AND regexp_full_match(f[1], '{CLASSIC_TIME}') AND f[6] IN {RECORD_TYPES}
)
SELECT regexp_extract(f[place], '^({KEY})=', 1) AS key, place, count(*) AS lines FROM t
WHERE regexp_matches(f[place], '^{KEY}=') GROUP BY ALL
"""

# The pairs as written, for the lines read with RE2.
AV_TEXT = "array_to_string(f[7:], chr(9))"
GENERIC_BASE_SQL = f"""{BASE_SQL}, checked AS (
    SELECT *,
        classic AND n >= 6 AND regexp_full_match(line, '[^\\t]*(?:\\t[^\\t]*){{5}}(?:\\t(?:{PAIR})?)*') AS valid
    FROM base
), generic AS (
    SELECT *, {AV_TEXT} AS av,
        CASE WHEN valid THEN regexp_extract_all({AV_TEXT}, '(?:^|\\t)({KEY})[=*]', 1) END AS keys
    FROM checked
)"""
KEYS_SQL = GENERIC_BASE_SQL + "\nSELECT keys FROM generic WHERE keys IS NOT NULL GROUP BY keys"

# Columns every event has; an attribute that would land in one of these is left in
# event.original only (no RFC 8907 attribute does).
FIXED = {"tacacs.port", "tacacs.rem_addr"}


def column_name(attribute: str) -> str:
    """The column of an attribute: ``priv-lvl`` is ``tacacs.priv_lvl``."""
    return canonical_name("tacacs." + attribute.lower().replace("-", "_"))


def _fast_value(key: str, places: list[int]) -> tuple[str, str | None]:
    """SQL: the value of ``key`` found by testing the places it was learned at, and (for a
    name learned at several places) how many of them hold it: a name given several times
    in a line (``cmd-arg``) keeps its values one per line, in the line's order."""
    if len(places) == 1:
        (p,) = places
        return f"CASE WHEN starts_with(_i{p}, '{key}=') THEN substr(_i{p}, {len(key) + 2}) END", None
    places = sorted(places)
    hits = " + ".join(f"CASE WHEN starts_with(_i{p}, '{key}=') THEN 1 ELSE 0 END" for p in places)
    parts = ", ".join(f"CASE WHEN starts_with(_i{p}, '{key}=') THEN substr(_i{p}, {len(key) + 2}) END" for p in places)
    return f"CASE WHEN {hits} > 0 THEN concat_ws(chr(10), {parts}) END", f"({hits})"


def _generic_value(key: str, repeated: bool) -> str:
    """SQL: the value of ``key`` found with RE2 (values of a repeated name joined by newlines)."""
    pattern = f"(?:^|\\t){re.escape(key)}[=*]([^\\t]*)"  # a KEY holds no quote: safe in a literal
    if repeated:
        return (
            f"CASE WHEN list_contains(keys, '{key}') THEN "
            f"array_to_string(regexp_extract_all(av, '{pattern}', 1), chr(10)) END"
        )
    return f"CASE WHEN list_contains(keys, '{key}') THEN regexp_extract(av, '{pattern}', 1) END"


def _final_sql(
    prefix: str, source: str, values: dict[str, tuple[str, str | None]], extra_reasons: str, unmatched: str
) -> str:
    """The statement's end, shared by both readings: ``values`` maps each raw attribute
    name to its SQL and the SQL counting the pairs it read (None: one when it has a value);
    names that share a column are coalesced (first in sorted order wins)."""
    raw = sorted(values)
    hidden = ",\n        ".join(f"{values[k][0]} AS _a{i}" for i, k in enumerate(raw))
    by_column: dict[str, list[int]] = {}
    for i, key in enumerate(raw):
        by_column.setdefault(column_name(key), []).append(i)
    columns = {
        name: (f"_a{idx[0]}" if len(idx) == 1 else f"coalesce({', '.join(f'_a{i}' for i in idx)})")
        for name, idx in by_column.items()
    }
    # tac_plus-ng lines carry the service and, for service shell, the command line in fixed
    # fields; for other services the last field holds their other pairs, space-separated
    for name, field in (
        ("tacacs.service", "f[6]"),
        ("tacacs.cmd", "CASE WHEN f[6] = 'shell' THEN nullif(f[7], '') END"),
        ("tacacs.args", "CASE WHEN f[6] <> 'shell' THEN nullif(f[7], '') END"),
    ):
        columns[name] = f"CASE WHEN ng THEN {field} ELSE {columns.get(name, 'NULL')} END"
    matched = " + ".join(values[k][1] or f"(_a{i} IS NOT NULL)::INTEGER" for i, k in enumerate(raw)) or "0"
    attributes = ",\n        ".join(f"{expr} AS {_q(name)}" for name, expr in sorted(columns.items()))
    args = f"replace({_q('tacacs.cmd_arg')}, chr(10), ' ')" if "tacacs.cmd_arg" in columns else "NULL"
    priv = _q("tacacs.priv_lvl") if "tacacs.priv_lvl" in columns else "NULL"
    elapsed = _q("tacacs.elapsed_time") if "tacacs.elapsed_time" in columns else "NULL"
    names = ", ".join(_q(name) for name in sorted(columns))
    return f"""{prefix}, pairs AS (
    SELECT *,
        {hidden + "," if hidden else ""}
        {matched} AS matched
    FROM {source}
), attributes AS (
    SELECT *,
        {attributes}
    FROM pairs
), described AS (
    SELECT *,
        nullif(concat_ws(' ', "tacacs.cmd", {args}), '') AS command,
        CASE WHEN classic THEN nullif(usr, 'unknown') ELSE nullif(usr, '') END AS user_name,
        CASE WHEN classic THEN nullif(nas, 'unknown') ELSE nullif(nas, '') END AS nas_name
    FROM attributes
), stripped AS (
    SELECT *,
        CASE WHEN ends_with(command, ' <cr>') THEN rtrim(command[1:length(command) - 5])
             WHEN command = '<cr>' THEN NULL ELSE command END AS command_line
    FROM described
), reasoned AS (
    SELECT *,
        CASE
            WHEN n < 6 THEN 'too few fields: ' || n || ' separated by tabs, a TACACS+ accounting record has at least 6'
            WHEN ts IS NULL THEN CASE
                WHEN regexp_full_match(f[1], '{NG_FIRST}')
                    THEN 'tac_plus-ng record with ' || n || ' fields; the default accounting format has 7'
                ELSE 'unreadable timestamp ''' || left(ts_text, 80) || '''' END
            WHEN typ NOT IN {RECORD_TYPES} THEN 'unknown record type ''' || left(typ, 80) || ''''
            WHEN classic AND n - 6 > {MAX_PAIRS} THEN 'more than {MAX_PAIRS} attribute-value pairs'
            {extra_reasons}
        END AS _reason
    FROM stripped
)
SELECT
    ts AS "@timestamp",
    '{DATASET}' AS "event.dataset",
    CASE WHEN command_line IS NOT NULL THEN 'configuration' ELSE 'session' END AS "event.category",
    typ AS "event.action",
    user_name AS "user.name",
    CASE WHEN {_is_ip("rem")} THEN rem END AS "source.ip",
    CASE WHEN {_is_ip("nas")} THEN nas END AS "host.ip",
    nas_name AS "host.name",
    port AS "tacacs.port",
    rem AS "tacacs.rem_addr",
    command_line AS "process.command_line",
    concat_ws(' ', typ, "tacacs.service", 'by', coalesce(user_name, 'unknown user'), 'on',
        coalesce(nas_name, 'unknown NAS'), nullif(nullif(port, ''), 'unknown'),
        'from ' || nullif(nullif(rem, ''), 'unknown'), '(priv-lvl ' || {priv} || ')', 'after ' || {elapsed} || ' s')
        || coalesce(': ' || command_line, '') AS message,
    {names},
    line AS "event.original",
    $path AS "seawall.source.path",
    '{NAME}' AS "seawall.source.format",
    "offset" AS "seawall.source.offset",
    number AS "seawall.source.line",
    _reason,
    yearless AS _yearless,
    {unmatched} AS _unmatched
FROM reasoned
"""


def fast_sql(places: dict[str, list[int]]) -> str:
    """The statement that reads a chunk by the learned places; ``_unmatched`` marks the
    lines it could not account for (they are read again by ``generic_sql``)."""
    values = {key: _fast_value(key, where) for key, where in places.items()}
    used = sorted({p for where in places.values() for p in where})
    # each place's field is taken out of the list once, however many names are tested there
    items = "".join(f", f[{p}] AS _i{p}" for p in used)
    prefix = f"{BASE_SQL}, items AS (SELECT *{items} FROM base)"
    return _final_sql(prefix, "items", values, "", "_reason IS NULL AND classic AND matched <> n - 6")


def generic_sql(keys: list[str], repeated: set[str], left_out: list[str]) -> str:
    """The statement that finds every pair with RE2, checks each is well formed, and
    quarantines lines holding a name beyond the file's MAX_ATTRIBUTES."""
    values = {key: (_generic_value(key, key in repeated), None) for key in keys}
    reasons = (
        "WHEN classic AND NOT valid THEN 'malformed attribute-value pair '''"
        f" || left(regexp_extract(line, '^(?:[^\\t]*\\t){{6}}(?:(?:{PAIR})?\\t)*([^\\t]+)', 1), 80)"
        " || ''' (expected attribute=value or attribute*value)'"
    )
    if left_out:
        reasons += (
            f"\n            WHEN list_has_any([{', '.join(_lit(k) for k in left_out)}], keys) "
            f"THEN 'more than {MAX_ATTRIBUTES} distinct attribute names in the file'"
        )
    return _final_sql(GENERIC_BASE_SQL, "generic", values, reasons, "FALSE")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class _Reader:
    """Reads the chunks of one file, learning where attribute names stand as it goes."""

    def __init__(self, params: dict) -> None:
        self.params = params
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.seen: Counter[tuple[str, int]] = Counter()  # (name, place) -> lines
        self.columns: set[str] = set()  # attribute columns of the file so far
        self.learned = False

    def read(self, chunk: pa.Table) -> pa.Table:
        if not self.learned:
            self._learn(chunk.slice(0, SAMPLE_LINES))
            self.learned = True
        parsed = self._run(fast_sql(self._places()), chunk)
        unmatched = parsed["_unmatched"]
        if not pc.any(unmatched).as_py():
            return parsed
        rest = chunk.filter(unmatched)
        self._learn(rest)
        parsed = pa.concat_tables([parsed.filter(pc.invert(unmatched)), self._generic(rest)], promote_options="default")
        order = pc.sort_indices(parsed["seawall.source.offset"])
        return parsed.take(order)

    def _run(self, sql: str, chunk: pa.Table, params: dict | None = None) -> pa.Table:
        self.con.register("chunk", pa.Table.from_batches(chunk.to_batches(max_chunksize=BATCH_ROWS), chunk.schema))
        try:
            return self.con.sql(sql, params=self.params if params is None else params).to_arrow_table()
        finally:
            self.con.unregister("chunk")

    def _rows(self, sql: str, chunk: pa.Table, params: dict) -> list[tuple]:
        table = self._run(sql, chunk, params)
        return list(zip(*(table[name].to_pylist() for name in table.column_names), strict=True))

    def _learn(self, chunk: pa.Table) -> None:
        for key, place, lines in self._rows(PLACES_SQL, chunk, {}):
            if self._admit(key):
                self.seen[(key, place)] += lines

    def _admit(self, key: str) -> bool:
        """Whether an attribute may have its column (the file has room or already has it)."""
        name = column_name(key)
        if name.lower() in FIXED:
            return False
        if name not in self.columns and len(self.columns) >= MAX_ATTRIBUTES:
            return False
        self.columns.add(name)
        return True

    def _places(self) -> dict[str, list[int]]:
        places: dict[str, list[tuple[int, int]]] = {}
        for (key, place), lines in self.seen.items():
            places.setdefault(key, []).append((-lines, place))
        return {key: [p for _, p in sorted(where)] for key, where in places.items()}

    def _generic(self, chunk: pa.Table) -> pa.Table:
        params = {k: v for k, v in self.params.items() if k != "path"}
        key_lists = [keys for (keys,) in self._rows(KEYS_SQL, chunk, params)]
        repeated = {k for keys in key_lists for k, c in Counter(keys).items() if c > 1}
        found = sorted({k for keys in key_lists for k in keys})
        admitted = [k for k in found if self._admit(k)]
        left_out = [k for k in found if k not in admitted and column_name(k).lower() not in FIXED]
        known = sorted({key for key, _ in self.seen} | set(admitted))
        return self._run(generic_sql(known, repeated, left_out), chunk)

    def close(self) -> None:
        self.con.close()


def _drop_empty(events: pa.Table) -> pa.Table:
    """Leave out attribute columns no event of the batch has (names seen only in
    quarantined lines, or learned earlier in the file)."""
    return drop_empty_columns(events, [n for n in events.column_names if n.startswith("tacacs.") and n not in FIXED])


@register
class Tacacs(SourceFormat):
    name = NAME
    description = "TACACS+ accounting files: tac_plus (Cisco/Shrubbery F4.0.4) and tac_plus-ng default format"

    def sniff(self, head: bytes) -> float:
        return share_matching(head, _SNIFF)

    def parse(self, path: Path, options: ReadOptions) -> Iterator[ParsedBatch]:
        reference = options.reference_for(path)
        reader = _Reader(
            {
                "path": str(path),
                "year": str(reference.year),
                "previous_year": str(reference.year - 1),
                "reference": reference,
                "timezone": options.timezone,
            }
        )
        try:
            for lines in iter_line_chunks(path):
                chunk = pa.table({"line": lines.lines, "offset": lines.offsets, "number": lines.numbers})
                parsed = reader.read(chunk)
                events, quarantined, reasons = split_by_reason(
                    parsed.drop_columns(["_reason", "_yearless", "_unmatched"]), parsed["_reason"]
                )
                notes = ["some lines are not UTF-8 and were read as Latin-1"] if lines.lossy else []
                if options.reference_time is None and pc.any(parsed["_yearless"]).as_py():
                    notes.append(
                        f"timestamps without a year were dated in {reference.year} (or the year before) from the "
                        "file's modification time; if the evidence was copied, give --year"
                    )
                yield ParsedBatch(
                    events=_drop_empty(events),
                    quarantine=quarantine_table(
                        reasons,
                        str(path),
                        self.name,
                        quarantined["seawall.source.offset"],
                        quarantined["seawall.source.line"],
                        quarantined["event.original"],
                    ),
                    records=parsed.num_rows,
                    position=lines.position,
                    notes=notes,
                )
        finally:
            reader.close()
