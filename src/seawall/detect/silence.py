"""Silence as a detector: devices whose logs pause, stop or thin out.

An intruder on a router often turns off remote logging (``no logging host``) or clears
the buffer before doing anything else, so the absence of logs is evidence too. For every
device (``host.name``) with enough history this detector reports:

* ``silence:gap``: a pause between two of its events far longer than it usually goes
  without logging;
* ``silence:stopped``: its last event lies that long before the end of the data;
* ``silence:volume-drop``: an hour with a small fraction of its usual number of events.

A silence right after a configuration or logging change on the same device rates higher
and shows that change as evidence. Every threshold is data (``content/silence.yaml``).
All the work on events runs in the store as window functions and aggregates; Python only
sees per-device results.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import reduce
from importlib import resources
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import yaml

from seawall.detect.base import (
    EVIDENCE_COLUMNS,
    Detector,
    EventStore,
    HuntContext,
    evidence_of,
    evidence_text,
    register,
)
from seawall.detect.finding import SEVERITIES, Evidence, Finding, iso_utc, severity_rank
from seawall.errors import ContentError
from seawall.store.schema import MESSAGE, ORIGINAL, SOURCE_OFFSET, SOURCE_PATH, TIMESTAMP

CONTENT = resources.files("seawall.content").joinpath("silence.yaml")
HOST = "host.name"
CODE = "event.code"
GAP, STOPPED, DROP = "gap", "stopped", "volume-drop"
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
MAX_PRECURSORS = 5  # per silence: the latest matching events are shown
MAX_LISTED = 10  # silences or devices named in a description or note
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Settings:
    """The thresholds of ``content/silence.yaml`` (each documented there)."""

    min_events: int
    typical_quantile: float
    min_gap: dt.timedelta
    gap_factor: float
    rhythm_min_days: int
    quiet_share: float
    drop_ratio: float
    baseline_hours: int
    baseline_days: int
    min_baseline: float
    precursor_window: dt.timedelta
    precursor_codes: tuple[str, ...]
    precursor_phrases: tuple[str, ...]
    severity: dict[str, str]
    techniques: tuple[str, ...]


def load_settings(path: Path | None = None) -> Settings:
    """Read and check a silence settings file (the built-in one when ``path`` is None)."""
    where = str(path) if path else "built-in silence.yaml"
    try:
        text = path.read_text(encoding="utf-8") if path else CONTENT.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ContentError(f"{where}: cannot read silence settings: {exc}") from exc
    try:
        return _settings(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise ContentError(f"{where}: invalid silence settings: {exc}") from exc


def _settings(data: Any) -> Settings:
    if not isinstance(data, dict):
        raise ValueError("expected a mapping of settings")
    fields = set(Settings.__dataclass_fields__)
    unknown, missing = sorted(set(data) - fields), sorted(fields - set(data))
    if unknown or missing:
        raise ValueError("; ".join(filter(None, [_listed("unknown key", unknown), _listed("missing key", missing)])))
    severity = data["severity"]
    kinds = {GAP, STOPPED, DROP, "preceded"}
    if not isinstance(severity, dict) or set(severity) != kinds:
        raise ValueError(f"severity must name exactly {', '.join(sorted(kinds))}")
    for kind, level in severity.items():
        if level not in SEVERITIES:
            raise ValueError(f"severity.{kind}: {level!r} is not one of {', '.join(SEVERITIES)}")
    settings = Settings(
        min_events=_number(data, "min_events", int, minimum=2),
        typical_quantile=_number(data, "typical_quantile", float, minimum=0, maximum=1),
        min_gap=_duration(data, "min_gap"),
        gap_factor=_number(data, "gap_factor", float, minimum=0),
        rhythm_min_days=_number(data, "rhythm_min_days", int, minimum=1),
        quiet_share=_number(data, "quiet_share", float, minimum=0, maximum=1),
        drop_ratio=_number(data, "drop_ratio", float, minimum=0, maximum=1),
        baseline_hours=_number(data, "baseline_hours", int, minimum=1),
        baseline_days=_number(data, "baseline_days", int, minimum=1),
        min_baseline=_number(data, "min_baseline", float, minimum=0),
        precursor_window=_duration(data, "precursor_window"),
        precursor_codes=_strings(data, "precursor_codes"),
        precursor_phrases=_strings(data, "precursor_phrases"),
        severity=dict(severity),
        techniques=_strings(data, "techniques"),
    )
    if settings.min_gap <= dt.timedelta(0):
        raise ValueError("min_gap must be longer than zero")
    return settings


def _number(data: dict, key: str, kind: type, minimum: float, maximum: float | None = None) -> Any:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and not isinstance(value, int)):
        raise ValueError(f"{key}: {value!r} is not {'a whole number' if kind is int else 'a number'}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise ValueError(f"{key}: {value!r} must be {bound}")
    return kind(value)


def _duration(data: dict, key: str) -> dt.timedelta:
    value = data[key]
    match = _DURATION.match(str(value)) if not isinstance(value, bool) else None
    if not match:
        raise ValueError(f"{key}: {value!r} is not a duration such as 90s, 10m, 1h or 2d")
    return dt.timedelta(seconds=float(match[1]) * _UNITS[match[2]])


def _strings(data: dict, key: str) -> tuple[str, ...]:
    value = data[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{key}: expected a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _listed(label: str, names: list[str]) -> str:
    return f"{label}{'s' if len(names) > 1 else ''} {', '.join(names)}" if names else ""


@dataclass
class Silence:
    """One gap, stop or run of dropped hours on one device."""

    kind: str
    host: str
    start: dt.datetime
    end: dt.datetime
    edges: list[tuple[str, int]]  # (path, offset) of the events at its edges
    counts: list[tuple[dt.datetime, int, float]] = field(default_factory=list)  # drops: (hour, events, recent median)
    precursors: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Device:
    host: str
    last: dt.datetime  # its last event
    typical: float  # seconds
    threshold: float  # seconds


@register
class SilenceDetector(Detector):
    name = "silence"

    def __init__(self, settings: Path | Settings | None = None) -> None:
        """``settings``: a settings file or loaded settings; else the hunt's ``--silence``
        file, else the built-in one."""
        self._settings = settings

    def settings(self, ctx: HuntContext | None = None) -> Settings:
        if isinstance(self._settings, Settings):
            return self._settings
        return load_settings(self._settings or (ctx.silence_path if ctx else None))

    def check(self, ctx: HuntContext) -> None:
        self.settings(ctx)

    def run(self, store: EventStore, ctx: HuntContext) -> Iterable[Finding]:
        settings = self.settings(ctx)
        events = store.events()
        if HOST not in events.columns:
            return
        base = events.filter(events[TIMESTAMP].notnull() & events[HOST].notnull() & (events[HOST] != "")).select(
            _host=events[HOST], _ts=events[TIMESTAMP], _path=events[SOURCE_PATH], _offset=events[SOURCE_OFFSET]
        )
        lagged = _lagged(base)
        devices, end, unjudged = _devices(lagged, settings)
        if unjudged:
            ctx.note(
                self.name,
                "devices",
                f"{len(unjudged)} device(s) with fewer than {settings.min_events} timestamped events not judged: "
                + _names(unjudged),
            )
        if not devices or end is None:
            return
        ctx.ran[self.name] = len(devices)
        judged = ibis.memtable(
            pa.table(
                {
                    "_jhost": [d.host for d in devices.values()],
                    "_threshold": pa.array([d.threshold for d in devices.values()], pa.float64()),
                }
            )
        )
        silences = _gaps(lagged, judged, settings) + _stops(devices, end)
        quiet = _quiet_hours(base, sorted({s.host for s in silences}), settings)
        silences = [s for s in silences if not _routine(s, quiet.get(s.host))]
        silences += _drops(base, judged, settings)
        if not silences:
            return
        _add_edges(base, silences)
        _add_precursors(events, silences, settings)
        shown = _evidence(events, {key for s in silences for key in s.edges + s.precursors})
        by_device: dict[tuple[str, str], list[Silence]] = {}
        for silence in sorted(silences, key=lambda s: (s.host, s.kind, s.start)):
            by_device.setdefault((silence.host, silence.kind), []).append(silence)
        for (host, kind), found in by_device.items():
            yield _finding(self.name, kind, devices[host], found, shown, settings, end, ctx.max_evidence)


# ------------------------------------------------------------------------- queries
def _lagged(base: ir.Table) -> ir.Table:
    """Every event's time with the time of its device's event before it, and the seconds in
    between. Only times: which events lie at a silence's edges is looked up afterwards, for
    the few silences found, which keeps this pass over every event lean."""
    window = ibis.window(group_by=base["_host"], order_by=base["_ts"])
    lagged = base.select("_host", "_ts", _prev_ts=base["_ts"].lag().over(window))
    return lagged.mutate(_interval=lagged["_ts"].epoch_seconds() - lagged["_prev_ts"].epoch_seconds())


def _devices(lagged: ir.Table, settings: Settings) -> tuple[dict[str, Device], dt.datetime | None, list[str]]:
    """The devices judged (with their typical interval and gap threshold), the end of the
    data (the latest timestamp of any device) and the devices with too few events."""
    rows = (
        lagged.group_by("_host")
        .aggregate(
            _n=lagged.count(),
            _last=lagged["_ts"].max(),
            _typical=lagged["_interval"].quantile(settings.typical_quantile),
        )
        .to_pyarrow()
        .to_pylist()
    )
    end = max((r["_last"] for r in rows), default=None)
    minimum = settings.min_gap.total_seconds()
    devices = {
        r["_host"]: Device(
            r["_host"],
            r["_last"],
            r["_typical"] or 0.0,
            max(minimum, settings.gap_factor * (r["_typical"] or 0.0)),
        )
        for r in rows
        if r["_n"] >= settings.min_events
    }
    return devices, end, sorted(r["_host"] for r in rows if r["_n"] < settings.min_events)


def _gaps(lagged: ir.Table, judged: ir.Table, settings: Settings) -> list[Silence]:
    long = lagged.filter(lagged["_interval"] >= settings.min_gap.total_seconds())
    candidates = long.join(judged, long["_host"] == judged["_jhost"])
    rows = (
        candidates.filter(candidates["_interval"] >= candidates["_threshold"])
        .select("_host", "_prev_ts", "_ts")
        .to_pyarrow()
        .to_pylist()
    )
    return [Silence(GAP, r["_host"], r["_prev_ts"], r["_ts"], []) for r in rows]


def _stops(devices: dict[str, Device], end: dt.datetime) -> list[Silence]:
    return [
        Silence(STOPPED, d.host, d.last, end, [])
        for d in devices.values()
        if (end - d.last).total_seconds() >= d.threshold
    ]


def _quiet_hours(base: ir.Table, hosts: list[str], settings: Settings) -> dict[str, set[int]]:
    """Hours of the day (UTC) in which each device rarely logs, for devices with enough days."""
    if not hosts:
        return {}
    days = base.filter(base["_host"].isin(hosts)).select("_host", _day=base["_ts"].date(), _hod=base["_ts"].hour())
    per_device = days.group_by("_host").aggregate(_days=days["_day"].nunique()).to_pyarrow().to_pylist()
    per_hour = days.group_by(["_host", "_hod"]).aggregate(_days=days["_day"].nunique()).to_pyarrow().to_pylist()
    total = {r["_host"]: r["_days"] for r in per_device if r["_days"] >= settings.rhythm_min_days}
    active: dict[str, dict[int, int]] = {}
    for r in per_hour:
        active.setdefault(r["_host"], {})[r["_hod"]] = r["_days"]
    return {
        host: {hod for hod in range(24) if active.get(host, {}).get(hod, 0) <= settings.quiet_share * n}
        for host, n in total.items()
    }


def _routine(silence: Silence, quiet: set[int] | None) -> bool:
    """True when a silence shorter than a day spans only its device's quiet hours."""
    if quiet is None or silence.end - silence.start >= DAY:
        return False
    hour = silence.start.replace(minute=0, second=0, microsecond=0)
    if hour < silence.start:
        hour += HOUR
    spanned = []
    while hour + HOUR <= silence.end:
        spanned.append(hour.hour)
        hour += HOUR
    return bool(spanned) and all(h in quiet for h in spanned)


def _drops(base: ir.Table, judged: ir.Table, settings: Settings) -> list[Silence]:
    """Runs of consecutive hours far below both the recent and the same-hour baseline."""
    counted = base.group_by(["_host", base["_ts"].truncate("h").name("_hour")]).aggregate(_n=ibis._.count())
    hourly = counted.join(judged, counted["_host"] == judged["_jhost"]).select("_host", "_hour", "_n")
    by_time = ibis.window(group_by=hourly["_host"], order_by=hourly["_hour"])
    recent = ibis.window(group_by=hourly["_host"], order_by=hourly["_hour"], rows=(-settings.baseline_hours, -1))
    same_hour = ibis.window(
        group_by=[hourly["_host"], hourly["_hour"].hour()], order_by=hourly["_hour"], rows=(-settings.baseline_days, -1)
    )
    scored = hourly.mutate(
        _before=hourly["_hour"].lag().over(by_time),
        _after=hourly["_hour"].lead().over(by_time),
        _recent=hourly["_n"].median().over(recent),
        _recent_hours=hourly["_n"].count().over(recent),
        _usual=hourly["_n"].median().over(same_hour),
        _usual_days=hourly["_n"].count().over(same_hour),
    )
    one_hour = ibis.interval(hours=1)
    rows = (
        scored.filter(
            (scored["_before"] == scored["_hour"] - one_hour)
            & (scored["_after"] == scored["_hour"] + one_hour)
            & (scored["_recent_hours"] == settings.baseline_hours)
            & (scored["_usual_days"] >= 1)
            & (scored["_recent"] >= settings.min_baseline)
            & (scored["_n"] < settings.drop_ratio * scored["_recent"])
            & (scored["_n"] < settings.drop_ratio * scored["_usual"])
        )
        .select("_host", "_hour", "_n", "_recent")
        .order_by(["_host", "_hour"])
        .to_pyarrow()
        .to_pylist()
    )
    runs: list[Silence] = []
    for r in rows:
        r["_hour"] = r["_hour"].replace(tzinfo=dt.UTC)  # truncation drops the zone; hours are UTC
        last = runs[-1] if runs else None
        if last and last.host == r["_host"] and last.end == r["_hour"]:
            last.end = r["_hour"] + HOUR
        else:
            last = Silence(DROP, r["_host"], r["_hour"], r["_hour"] + HOUR, [])
            runs.append(last)
        last.counts.append((r["_hour"], r["_n"], r["_recent"]))
    return runs


def _add_edges(base: ir.Table, silences: list[Silence]) -> None:
    """The events at each silence's edges: for a gap, the last event before it and the first
    after it; for a stop, the last event; for a run of dropped hours, the last event before
    it and the first one in it. Events at the same time are ordered by file and offset."""
    tick = dt.timedelta(microseconds=1)
    wanted = []  # (silence, from, to (exclusive), latest rather than earliest)
    for s in silences:
        if s.kind == GAP:
            wanted += [(s, s.start, s.start + tick, True), (s, s.end, s.end + tick, False)]
        elif s.kind == STOPPED:
            wanted.append((s, s.start, s.start + tick, True))
        elif s.kind == DROP:
            wanted += [(s, s.start - HOUR, s.start, True), (s, s.start, s.start + HOUR, False)]
    if not wanted:
        return
    windows = ibis.memtable(
        pa.table(
            {
                "_wid": list(range(len(wanted))),
                "_whost": [w[0].host for w in wanted],
                "_lo": pa.array([w[1] for w in wanted], pa.timestamp("us", "UTC")),
                "_hi": pa.array([w[2] for w in wanted], pa.timestamp("us", "UTC")),
                "_latest": [w[3] for w in wanted],
            }
        )
    )
    joined = base.join(
        windows,
        [base["_host"] == windows["_whost"], base["_ts"] >= windows["_lo"], base["_ts"] < windows["_hi"]],
    )
    order = [joined["_ts"], joined["_path"], joined["_offset"]]
    ranked = joined.mutate(
        _earliest_rank=ibis.row_number().over(group_by=joined["_wid"], order_by=order),
        _latest_rank=ibis.row_number().over(group_by=joined["_wid"], order_by=[ibis.desc(c) for c in order]),
    )
    rows = (
        ranked.filter(ibis.ifelse(ranked["_latest"], ranked["_latest_rank"], ranked["_earliest_rank"]) == 0)
        .select("_wid", "_path", "_offset")
        .to_pyarrow()
        .to_pylist()
    )
    for r in sorted(rows, key=lambda r: r["_wid"]):
        wanted[r["_wid"]][0].edges.append((r["_path"], r["_offset"]))


def _precursor_condition(events: ir.Table, settings: Settings) -> ir.BooleanValue:
    """An event.code in the list, or a text holding "%CODE:" or a phrase (any case)."""
    clauses: list[ir.BooleanValue] = []
    codes = [c.upper() for c in settings.precursor_codes]
    if CODE in events.columns and codes:
        clauses.append(events[CODE].upper().isin(codes))
    needles = [f"%{re.escape(code)}:" for code in codes] + [re.escape(p) for p in settings.precursor_phrases]
    if needles:
        pattern = "(?i)" + "|".join(needles)  # one RE2 pass over each text column
        clauses += [events[c].re_search(pattern) for c in (MESSAGE, ORIGINAL) if c in events.columns]
    return reduce(lambda a, b: a | b, clauses, ibis.literal(False))


def _add_precursors(events: ir.Table, silences: list[Silence], settings: Settings) -> None:
    """Attach to each silence the latest configuration or logging changes just before it."""
    lows, highs = [], []
    for s in silences:
        if s.kind == DROP:
            lows.append(s.start - HOUR)
            highs.append(s.start + HOUR - dt.timedelta(microseconds=1))
        else:
            lows.append(s.start - settings.precursor_window)
            highs.append(s.start)
    windows = ibis.memtable(
        pa.table(
            {
                "_wid": list(range(len(silences))),
                "_whost": [s.host for s in silences],
                "_lo": pa.array(lows, pa.timestamp("us", "UTC")),
                "_hi": pa.array(highs, pa.timestamp("us", "UTC")),
            }
        )
    )
    matching = events.filter(
        events[HOST].isin(sorted({s.host for s in silences}))
        & (events[TIMESTAMP] >= min(lows))
        & (events[TIMESTAMP] <= max(highs))
        & _precursor_condition(events, settings)
    )
    joined = matching.join(
        windows,
        [
            matching[HOST] == windows["_whost"],
            matching[TIMESTAMP] >= windows["_lo"],
            matching[TIMESTAMP] <= windows["_hi"],
        ],
    )
    order = [ibis.desc(joined[TIMESTAMP]), ibis.desc(joined[SOURCE_PATH]), ibis.desc(joined[SOURCE_OFFSET])]
    rows = (
        joined.mutate(_rank=ibis.row_number().over(group_by=joined["_wid"], order_by=order))
        .filter(ibis._["_rank"] < MAX_PRECURSORS)
        .select("_wid", SOURCE_PATH, SOURCE_OFFSET, TIMESTAMP)
        .to_pyarrow()
        .to_pylist()
    )
    for r in sorted(rows, key=lambda r: (r["_wid"], r[TIMESTAMP], r[SOURCE_PATH], r[SOURCE_OFFSET])):
        silences[r["_wid"]].precursors.append((r[SOURCE_PATH], r[SOURCE_OFFSET]))


def _evidence(events: ir.Table, keys: set[tuple[str, int]]) -> dict[tuple[str, int], tuple[dt.datetime, Evidence]]:
    """The events at (path, offset) as evidence, with their timestamps."""
    if not keys:
        return {}
    ordered = sorted(keys)
    wanted = ibis.memtable(
        pa.table({"_kpath": [k[0] for k in ordered], "_koffset": pa.array([k[1] for k in ordered], pa.int64())})
    )
    joined = events.join(wanted, [events[SOURCE_PATH] == wanted["_kpath"], events[SOURCE_OFFSET] == wanted["_koffset"]])
    text = ORIGINAL if ORIGINAL in events.columns else MESSAGE
    rows = joined.select(*EVIDENCE_COLUMNS, **evidence_text(joined, text)).to_pyarrow().to_pylist()
    return {(r[SOURCE_PATH], r[SOURCE_OFFSET]): (r[TIMESTAMP], evidence_of(r)) for r in rows}


# ------------------------------------------------------------------------ findings
def _finding(
    detector: str,
    kind: str,
    device: Device,
    silences: list[Silence],
    shown: dict[tuple[str, int], tuple[dt.datetime, Evidence]],
    settings: Settings,
    end: dt.datetime,
    max_evidence: int,
) -> Finding:
    """One finding for one device and kind of silence, covering all its silences."""
    preceded = [s for s in silences if s.precursors]
    severity = settings.severity[kind]
    if preceded and severity_rank(settings.severity["preceded"]) > severity_rank(severity):
        severity = settings.severity["preceded"]
    evidence: list[Evidence] = []
    seen: set[tuple[str, int]] = set()
    for silence in silences:  # in time order, each silence's events in time order
        keys = [k for k in dict.fromkeys(silence.precursors + silence.edges) if k in shown and k not in seen]
        seen.update(keys)
        evidence += [shown[k][1] for k in sorted(keys, key=lambda k: (shown[k][0], k))]
    title, description = _words(kind, device, silences, settings, end)
    if preceded and kind == DROP:
        which = "the drop" if len(silences) == 1 else f"{len(preceded)} of the {len(silences)} drops"
        description += (
            f" A configuration or logging change on the device came in the hour before or the first hour of "
            f"{which} (shown as evidence)."
        )
    elif preceded:
        which = "It" if len(silences) == 1 else f"{len(preceded)} of the {len(silences)} silences"
        description += (
            f" {which} began within {_duration_text(settings.precursor_window.total_seconds())} of a "
            "configuration or logging change on the device (shown as evidence)."
        )
    if len(evidence) > max_evidence:
        description += f" Evidence shows the first {max_evidence} of {len(evidence)} events."
        evidence = evidence[:max_evidence]
    return Finding(
        rule_id=f"silence:{kind}",
        title=title,
        severity=severity,
        detector=detector,
        description=description,
        techniques=list(settings.techniques),
        first_seen=silences[0].start,
        last_seen=max(s.end for s in silences),
        entities={"host": [device.host]},
        evidence=evidence,
        event_count=len(evidence),
    )


def _words(kind: str, device: Device, silences: list[Silence], settings: Settings, end: dt.datetime) -> tuple[str, str]:
    host = device.host
    usual = (
        f"{settings.typical_quantile * 100:g}% of its intervals between events are at most "
        f"{_duration_text(device.typical)}, so a silence counts from {_duration_text(device.threshold)}."
    )
    if kind == STOPPED:
        (stop,) = silences
        gone = _duration_text((end - stop.start).total_seconds())
        return (
            f"Device {host} stopped logging {gone} before the end of the data",
            f"The last event from {host} is at {iso_utc(stop.start)}; the data runs to {iso_utc(end)} ({gone} "
            f"later). {usual}",
        )
    if kind == GAP:
        longest = max(silences, key=lambda s: s.end - s.start)
        title = f"Device {host} went silent for {_span(longest)}"
        if len(silences) > 1:
            title += f" ({len(silences)} silences)"
        listed = "; ".join(f"{iso_utc(s.start)} to {iso_utc(s.end)} ({_span(s)})" for s in silences[:MAX_LISTED])
        more = f"; and {len(silences) - MAX_LISTED} more" if len(silences) > MAX_LISTED else ""
        return title, f"No events from {host}: {listed}{more}. {usual}"
    hours = [c for s in silences for c in s.counts]
    lowest = min(n / recent for _, n, recent in hours)
    title = f"Log volume from {host} dropped to {_percent(lowest)} of normal for {len(hours)} hour(s)"
    listed = "; ".join(
        f"{iso_utc(hour)}: {n} event(s), median {recent:g} an hour before" for hour, n, recent in hours[:MAX_LISTED]
    )
    more = f"; and {len(hours) - MAX_LISTED} more hour(s)" if len(hours) > MAX_LISTED else ""
    return title, (
        f"Hours in which {host} logged under {_percent(settings.drop_ratio)} of both its median over the previous "
        f"{settings.baseline_hours} hours with events and its median for the same hour on earlier days: "
        f"{listed}{more}."
    )


def _span(silence: Silence) -> str:
    return _duration_text((silence.end - silence.start).total_seconds())


def _duration_text(seconds: float) -> str:
    """5h 12m, 1d 2h 0m, 12m 5s, 45s (whole seconds or minutes, rounded down)."""
    total = int(seconds)
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}m {total % 60}s"
    days, rest = divmod(total // 60, 24 * 60)
    text = f"{rest // 60}h {rest % 60}m"
    return f"{days}d {text}" if days else text


def _percent(share: float) -> str:
    """5%, 9.5%, 0.17%: two significant digits, so a share under 10% never reads as 10%."""
    value = share * 100
    return f"{value:.2g}%" if value < 100 else f"{value:.0f}%"


def _names(hosts: list[str]) -> str:
    shown = ", ".join(hosts[:MAX_LISTED])
    return shown + (f" and {len(hosts) - MAX_LISTED} more" if len(hosts) > MAX_LISTED else "")
