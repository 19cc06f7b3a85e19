"""Network-device messages inside syslog: the vendor's tag and the device's own header.

Routers and switches put their own header inside the syslog message: Cisco (and Arista)
``[seq:] [host:] [*|.]Mmm dd [yyyy] hh:mm:ss[.mmm] [TZ]: %FACILITY-SEVERITY-MNEMONIC: text``,
Junos ``UI_COMMIT: text`` (or an RFC 5424 MSGID with ``[junos@2636...]`` structured data),
Huawei ``%%01SHELL/5/CMDRECORD(s)[0]:text``. ``stage_sql`` is the SQL that runs after
the syslog header is parsed, in the same statement: it finds each row's vendor and code,
reads the device's sequence number, host, clock and zone, and leaves the text after the
tag as the message. The catalog of known messages is applied next (``device_catalog``).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import yaml

from seawall.sources.clock import clock_parts_sql, clock_sql
from seawall.sources.device_catalog import Catalog
from seawall.store.schema import quote

# Cisco-style tag: %FACILITY[-SUBFACILITY]-SEVERITY-MNEMONIC: (IOS XR puts a space before
# the colon; some switch families use a letter for the severity). Huawei: %%vvMOD/s/BRIEF(l)[n]:
CISCO_TAG = r"%[A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*-[0-7A-Z]-[A-Za-z0-9_]+ ?:"
HUAWEI_TAG = r"%%\d\d[A-Za-z0-9_]+/\d/[A-Za-z0-9_]+(?:\([a-z]+\)|\[[a-z]+\])?(?:\[\d+\]|\(\d+\))?:"
JUNOS_TAG = r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+: "
JUNOS_CODE = r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$"

# What precedes a Cisco-style tag: sequence numbers, host, IOS XR node, then the clock
# marker (* not synchronised, . synchronisation lost), the device clock and its zone, and
# on IOS XR and NX-OS a process[pid]. A group-free pattern finds that tail (RE2 runs it as
# a DFA); the capture groups then only read the tail's few characters.
DEVICE_CLOCK = r"(?:[A-Z][a-z]{2} +\d{1,2}(?: +\d{4})?|\d{4} +[A-Z][a-z]{2} +\d{1,2}) +\d{1,2}:\d\d:\d\d(?:\.\d{1,9})?"
_ZONE = r"[A-Za-z][A-Za-z0-9+-]{0,9}(?::\d\d)?"
_PROC = r"[A-Za-z_][\w.-]*\[\d+\]:"
PREFIX_TAIL = r"(?:[*.]?" + DEVICE_CLOCK + r"(?: +" + _ZONE + r")? ?:)?(?: *" + _PROC + r")? *$"
TAIL_FIELDS = (
    r"^(?P<marker>[*.]?)(?P<clock>" + DEVICE_CLOCK + r")?(?: +(?P<zone>" + _ZONE + r"))? ?:?"
    r"(?: *(?P<proc>[A-Za-z_][\w.-]*)\[(?P<pid>\d+)\]:)? *$"
)
TAIL_GROUPS = ["marker", "clock", "zone", "proc", "pid"]
XR_NODE = r"[A-Za-z0-9]+(?:/[A-Za-z0-9]+){2,}"
SEVERITY_NAMES = ["emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"]  # syslog's
CLOCK_MARKERS = {"*": "not synchronised", ".": "synchronisation lost"}


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_list(values: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(sql_text(v) for v in values) + "]"


@cache
def zone_offsets() -> dict[str, int]:
    """Time-zone abbreviations devices print -> minutes east of UTC."""
    path = resources.files("seawall.content").joinpath("devices/timezones.yaml")
    return {str(k).upper(): int(v) for k, v in yaml.safe_load(path.read_text(encoding="utf-8")).items()}


def _offset_zone_sql(zone: str) -> str:
    """SQL: minutes east of UTC of a zone that spells its offset (``UTC+1``, ``GMT-07:30``)."""
    z, rest = f"upper({zone})", f"{zone}[5:]"
    return f"""CASE WHEN regexp_full_match({z}, '(?:UTC|GMT)[+-]\\d{{1,2}}(?::\\d\\d)?')
        THEN (CASE {zone}[4] WHEN '-' THEN -1 ELSE 1 END) * (CAST(split_part({rest}, ':', 1) AS INTEGER) * 60
             + coalesce(TRY_CAST(nullif(split_part({rest}, ':', 2), '') AS INTEGER), 0)) END"""


def _zoned_sql(naive: str) -> str:
    """SQL: a naive device time in its printed zone (known abbreviation), else in $timezone."""
    return f"""CASE WHEN _zone_minutes IS NOT NULL
        THEN timezone('UTC', {naive} - to_minutes(_zone_minutes))
        ELSE timezone($timezone, {naive}) END"""


def stage_sql(parsed: str, cat: Catalog) -> str:
    """SQL that adds device fields to the rows of the relation ``parsed`` (the syslog header
    stage's output: "@timestamp", "host.name", "process.name", message, log.syslog.*):
    the vendor and code of the message tag, the device's header, and the text after the
    tag as ``message``. Helper columns ``_vendor`` and ``_key`` (the code the catalog
    knows) are left for the catalog stage."""
    offsets = zone_offsets()
    zone_map = "MAP {" + ", ".join(f"{sql_text(k)}: {v}" for k, v in offsets.items()) + "}"
    junos_prefix = "(?:" + "|".join(re.escape(p) for p in cat.junos_prefixes) + ")"
    vendor_rows = list(cat.vendors.items())

    def by_vendor(key: str) -> str:
        arms = " ".join(f"WHEN {sql_text(v)} THEN {sql_text(info[key])}" for v, info in vendor_rows)
        return f"CASE _vendor {arms} END"

    passthrough = ("@timestamp", "host.name", "process.name", "process.pid", "message", "event.dataset")

    return f"""
WITH d1 AS (
    SELECT *,
        CASE WHEN contains(message, '%') THEN regexp_extract(message, {sql_text(HUAWEI_TAG + "|" + CISCO_TAG)}, 0) ELSE '' END AS _tag
    FROM {parsed}
), d2 AS (
    SELECT *,
        CASE WHEN _tag <> '' THEN message[1:strpos(message, _tag) - 1] END AS _pre,
        CASE WHEN _tag = '' AND "log.syslog.msgid" IS NULL THEN regexp_extract(message, {sql_text(JUNOS_TAG)}, 0) ELSE '' END AS _jtag
    FROM d1
), d3 AS (
    SELECT *,
        CASE
            WHEN _tag <> '' AND (_pre = '' OR regexp_matches(_pre, '[\\s:]$')) THEN
                CASE WHEN _tag[1:2] = '%%' THEN 'huawei'
                     WHEN "process.name" IN ({", ".join(map(sql_text, cat.arista_agents))}) THEN 'arista'
                     ELSE 'cisco' END
            WHEN regexp_matches(coalesce("log.syslog.msgid", ''), {sql_text(JUNOS_CODE)})
                 AND (contains(coalesce("log.syslog.structured_data", ''), '[junos@')
                      OR regexp_matches("log.syslog.msgid", {sql_text("^" + junos_prefix)})) THEN 'juniper'
            WHEN _jtag <> '' AND (regexp_matches(_jtag, {sql_text("^" + junos_prefix)})
                                  OR "process.name" IN ({", ".join(map(sql_text, cat.junos_daemons))})) THEN 'juniper'
        END AS _vendor
    FROM d2
), d4 AS (
    SELECT *,
        CASE
            WHEN _vendor = 'juniper' THEN coalesce("log.syslog.msgid", rtrim(_jtag, ': '))
            WHEN _vendor = 'huawei' THEN regexp_extract(_tag, '^%%\\d\\d([^(\\[:]+)', 1)
            WHEN _vendor IS NOT NULL THEN rtrim(_tag[2:], ' :')
        END AS _code,
        CASE
            WHEN _vendor = 'juniper' AND _jtag <> '' THEN message[length(_jtag) + 1:]
            WHEN _vendor IN ('cisco', 'arista', 'huawei') THEN ltrim(message[strpos(message, _tag) + length(_tag):])
            ELSE message
        END AS _body,
        CASE WHEN _vendor IN ('cisco', 'arista') THEN regexp_extract(_pre, {sql_text(PREFIX_TAIL)}, 0) END AS _tail
    FROM d3
), d4b AS (
    SELECT *,
        _pre[1:length(_pre) - length(_tail)] AS _head,
        -- stack members log %FACILITY-SWn-SEVERITY-MNEMONIC: the catalog knows them without -SWn
        CASE WHEN _vendor IN ('cisco', 'arista') THEN regexp_replace(_code, '-SW\\d+-', '-') ELSE _code END AS _key,
        regexp_extract(_tail, {sql_text(TAIL_FIELDS)}, {sql_list(TAIL_GROUPS)}) AS _px
    FROM d4
), d5 AS (
    SELECT *,
        string_split(trim(_head), ' ') AS _tokens,
        _vendor IN ('cisco', 'arista') AND regexp_full_match(coalesce("process.name", ''), {sql_text(XR_NODE)}) AS _xr_node,
        CASE WHEN _px.clock <> '' THEN {clock_parts_sql("_px.clock")} END AS _clock,
        coalesce({zone_map}[upper(_px.zone)], {_offset_zone_sql("_px.zone")}) AS _zone_minutes,
        CASE WHEN _vendor IN ('cisco', 'arista') THEN string_split(_key, '-') END AS _parts,
        -- a year-less device clock takes the year of the syslog header's time when there is one
        -- (a collector's clock is close to the device's), else of the reference time
        coalesce("@timestamp", $reference) AS _near
    FROM d4b
), d6 AS (
    SELECT *,
        _vendor = 'cisco' AND "process.pid" IS NULL AND "log.syslog.version" IS NULL AND NOT _xr_node AS _origin_host,
        CASE WHEN _vendor IN ('cisco', 'arista') THEN TRY_CAST(_parts[-2] AS INTEGER)
             WHEN _vendor = 'huawei' THEN TRY_CAST(split_part(_code, '/', 2) AS INTEGER)
             WHEN _vendor = 'juniper' THEN "log.syslog.severity.code" END AS _severity,
        CASE WHEN _clock IS NOT NULL
             THEN {_zoned_sql(clock_sql("_clock", "CAST(year(_near) AS VARCHAR)"))} END AS _dt0
    FROM d5
), d7 AS (
    SELECT *,
        CASE WHEN len(_clock) = 3 AND (_dt0 IS NULL OR _dt0 > _near + INTERVAL 1 DAY)
             THEN {_zoned_sql(clock_sql("_clock", "CAST(year(_near) - 1 AS VARCHAR)"))} ELSE _dt0 END AS _device_time
    FROM d6
)
SELECT * EXCLUDE ({", ".join(quote(c) for c in passthrough)}, _tag, _pre, _jtag, _vendor, _code, _key, _body, _tail, _head, _px,
                  _tokens, _xr_node, _origin_host, _clock, _zone_minutes, _parts, _severity, _near, _dt0, _device_time, _yearless),
    coalesce(_device_time, "@timestamp") AS "@timestamp",
    CASE WHEN _device_time IS NOT NULL THEN "@timestamp" END AS "event.created",
    coalesce("host.name", nullif(rtrim(list_filter(_tokens,
        lambda t: NOT regexp_full_match(t, '\\d+:?|:|[*.].*|[A-Za-z0-9]+(?:/[A-Za-z0-9]+){{2,}}:?|\\d+:\\d\\d:\\d\\d:?|(?:\\d+[ywdhms])+:?'))[-1], ':'), '')) AS "host.name",
    -- Where BSD syslog expects a tag, Cisco devices put an IOS XR node ("RP/0/RSP0/CPU0:")
    -- or their origin-id host name ("10.0.0.1 edge-rtr1: 000090: ..."): neither is a process.
    CASE WHEN _xr_node OR _origin_host THEN nullif(_px.proc, '')
         ELSE coalesce("process.name", nullif(_px.proc, '')) END AS "process.name",
    CASE WHEN _origin_host THEN "process.name" END AS "host.hostname",
    coalesce("process.pid", TRY_CAST(nullif(_px.pid, '') AS BIGINT)) AS "process.pid",
    CASE WHEN _vendor IS NOT NULL THEN _body ELSE message END AS message,
    coalesce({by_vendor("dataset")}, "event.dataset") AS "event.dataset",
    {by_vendor("vendor")} AS "observer.vendor",
    CASE WHEN _vendor = 'cisco' AND (_xr_node OR _head LIKE '%/%/%:%') THEN 'IOS XR'
         WHEN _vendor = 'cisco' AND regexp_matches(coalesce(_px.clock, ''), '^\\d{{4}} ') THEN 'NX-OS'
         ELSE {by_vendor("product")} END AS "observer.product",
    _code AS "event.code",
    CASE WHEN _vendor IN ('cisco', 'arista') THEN array_to_string(_parts[:-3], '-')
         WHEN _vendor = 'huawei' THEN split_part(_code, '/', 1)
         WHEN _vendor = 'juniper' THEN "process.name" END AS "event.provider",
    _severity AS "event.severity",
    {sql_list(SEVERITY_NAMES)}[_severity + 1] AS "log.level",
    TRY_CAST(rtrim(list_filter(_tokens, lambda t: regexp_full_match(t, '\\d+:'))[-1], ':') AS BIGINT) AS "event.sequence",
    CASE _px.marker WHEN '*' THEN {sql_text(CLOCK_MARKERS["*"])} WHEN '.' THEN {sql_text(CLOCK_MARKERS["."])} END AS "observer.clock.state",
    CASE WHEN _xr_node THEN "process.name"
         ELSE nullif(regexp_extract(_head, '({XR_NODE}):\\s*$', 1), '') END AS "observer.node",
    _px.zone <> '' AND _zone_minutes IS NULL AS _unknown_zone,
    _yearless OR coalesce(len(_clock) = 3, FALSE) AS _yearless,
    _vendor, _key  -- for the catalog, applied next (device_catalog.apply_catalog)
FROM d7
"""
