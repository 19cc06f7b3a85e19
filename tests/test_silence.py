"""The silence detector: gaps, stops and volume drops in a device's logs, and their thresholds."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from seawall.detect import detectors
from seawall.detect.base import HuntContext
from seawall.detect.finding import Evidence, Finding
from seawall.detect.silence import CONTENT, SilenceDetector, load_settings
from seawall.errors import ContentError
from seawall.ingest import ingest
from seawall.sources import ReadOptions
from seawall.store import Workspace
from seawall.store.workspace import path_digest

SILENCE = Path(__file__).resolve().parent / "fixtures" / "detect" / "silence"
DAY1 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """A time on 2025-03-<day>, UTC."""
    return DAY1.replace(day=day, hour=hour, minute=minute, second=second)


def every(start: dt.datetime, end: dt.datetime, step: dt.timedelta = MINUTE) -> list[dt.datetime]:
    """Times from ``start`` up to, not including, ``end``."""
    times = []
    while start < end:
        times.append(start)
        start += step
    return times


@dataclass
class DeviceLog:
    """A syslog file written for one device, and where each of its lines is."""

    path: Path
    lines: list[str]
    offsets: list[int]

    def evidence(self, index: int) -> Evidence:
        """The evidence a finding shows for line ``index`` (0-based) of this file."""
        line = self.lines[index]
        stamp = line.split(" ", 1)[0].split(">", 1)[1]
        return Evidence(
            path=str(self.path),
            line=index + 1,
            offset=self.offsets[index],
            event_id=f"{path_digest(str(self.path))}-{self.offsets[index]}",
            timestamp=stamp,
            text=line,
        )

    def index(self, ts: dt.datetime) -> int:
        stamp = ts.strftime("%Y-%m-%dT%H:%M:%SZ")
        return next(i for i, line in enumerate(self.lines) if line.split(" ", 1)[0].endswith(">" + stamp))


def write_device(
    root: Path, host: str, times: list[dt.datetime], texts: dict[dt.datetime, str] | None = None
) -> DeviceLog:
    """One syslog line per time (RFC 3339 timestamps); ``texts`` replaces the message at some times."""
    texts = texts or {}
    lines = [
        f"<189>{ts:%Y-%m-%dT%H:%M:%SZ} {host} {n}: "
        + texts.get(
            ts, f"%LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/0/{n % 4}, changed state to up"
        )
        for n, ts in enumerate(sorted(times), start=1)
    ]
    offsets, position = [], 0
    for line in lines:
        offsets.append(position)
        position += len(line.encode()) + 1
    path = root / f"{host}.log"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return DeviceLog(path, lines, offsets)


def hunt(paths: list[Path], detector: SilenceDetector | None = None) -> tuple[list[Finding], HuntContext]:
    with Workspace(None) as workspace:
        result = ingest(paths, workspace, ReadOptions(reference_time=dt.datetime(2025, 3, 10, tzinfo=dt.UTC)))
        assert all(f.quarantined == 0 for f in result.files), result
        ctx = HuntContext()
        findings = list((detector or SilenceDetector()).run(workspace, ctx))
    return findings, ctx


def kinds(findings: list[Finding]) -> list[tuple[str, str]]:
    return sorted((f.rule_id, f.entities["host"][0]) for f in findings)


# ------------------------------------------------------------- one day, many devices
@dataclass
class DayRun:
    logs: dict[str, DeviceLog]
    findings: list[Finding]
    ctx: HuntContext

    def finding(self, rule_id: str, host: str) -> Finding:
        (found,) = [f for f in self.findings if f.rule_id == rule_id and f.entities["host"] == [host]]
        return found


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> DayRun:
    """2025-03-01, every device logging once a minute unless said otherwise:

    * r1 is silent from 08:00 to 14:00 (a gap);
    * r2 logs all day (nothing to report);
    * r3 stops at 18:59, five hours before the data ends at 23:59;
    * r4 logs ten times, every two hours, and is not judged;
    * r8 stops at 17:30 right after someone clears its logs.

    A JSON file adds an event of r2 without a time and a time without a device, a day
    later: neither counts, so the data still ends at 23:59.
    """
    root = tmp_path_factory.mktemp("silence-day")
    whole_day = every(at(1, 0), at(2, 0))
    logs = {
        "r1": write_device(root, "r1", [t for t in whole_day if not at(1, 8) < t < at(1, 14)]),
        "r2": write_device(root, "r2", whole_day),
        "r3": write_device(root, "r3", every(at(1, 0), at(1, 19))),
        "r4": write_device(root, "r4", every(at(1, 0), at(1, 20), 2 * HOUR)),
        "r8": write_device(
            root,
            "r8",
            every(at(1, 0), at(1, 17, 31)),
            {at(1, 17, 30): "tacacs: user netops from 10.20.1.15 cmd=clear logging <cr>"},
        ),
    }
    odd = root / "odd.jsonl"
    odd.write_text(
        json.dumps({"host.name": "r2", "message": "an event without a time"})
        + "\n"
        + json.dumps({"@timestamp": "2025-03-02T10:00:00Z", "message": "an event without a device"})
        + "\n",
        encoding="utf-8",
    )
    findings, ctx = hunt([*(log.path for log in logs.values()), odd])
    return DayRun(logs, findings, ctx)


def test_exactly_the_silent_devices_are_reported(day: DayRun) -> None:
    # r2 logs all day; r4 is not judged; the events without a time or a device do not
    # count, or r2's count would change and every device would have "stopped" by 10:00 the next day
    assert kinds(day.findings) == [("silence:gap", "r1"), ("silence:stopped", "r3"), ("silence:stopped", "r8")]


def test_a_gap_is_reported_with_its_exact_edges_as_evidence(day: DayRun) -> None:
    log = day.logs["r1"]
    finding = day.finding("silence:gap", "r1")
    assert finding.title == "Device r1 went silent for 6h 0m"
    assert finding.severity == "medium"
    assert finding.detector == "silence"
    assert finding.techniques == ["T1562.006"]
    assert (finding.first_seen, finding.last_seen) == (at(1, 8), at(1, 14))
    assert finding.entities == {"host": ["r1"]}
    assert finding.evidence == [log.evidence(480), log.evidence(481)]  # the 08:00 and 14:00 lines
    assert [e.timestamp for e in finding.evidence] == ["2025-03-01T08:00:00Z", "2025-03-01T14:00:00Z"]
    assert finding.event_count == 2
    assert finding.description == (
        "No events from r1: 2025-03-01T08:00:00Z to 2025-03-01T14:00:00Z (6h 0m). "
        "95% of its intervals between events are at most 1m 0s, so a silence counts from 1h 0m."
    )


def test_a_device_that_stops_before_the_others_is_reported_with_its_last_event(day: DayRun) -> None:
    log = day.logs["r3"]
    finding = day.finding("silence:stopped", "r3")
    assert finding.title == "Device r3 stopped logging 5h 0m before the end of the data"
    assert finding.severity == "medium"
    assert (finding.first_seen, finding.last_seen) == (at(1, 18, 59), at(1, 23, 59))
    assert finding.evidence == [log.evidence(len(log.lines) - 1)]
    assert finding.description.startswith(
        "The last event from r3 is at 2025-03-01T18:59:00Z; the data runs to 2025-03-01T23:59:00Z (5h 0m later)."
    )


def test_a_stop_right_after_the_logs_are_cleared_is_high_with_that_event(day: DayRun) -> None:
    log = day.logs["r8"]
    finding = day.finding("silence:stopped", "r8")
    assert finding.severity == "high"
    assert log.lines[-1].endswith("cmd=clear logging <cr>")
    assert finding.evidence == [log.evidence(len(log.lines) - 1)]  # the last event and the change: shown once
    assert finding.description.endswith(
        "It began within 10m 0s of a configuration or logging change on the device (shown as evidence)."
    )


def test_devices_with_too_few_events_are_noted_not_judged(day: DayRun) -> None:
    assert day.ctx.ran == {"silence": 4}  # r1, r2, r3, r8
    assert [(n.detector, n.item, n.reason) for n in day.ctx.notes] == [
        ("silence", "devices", "1 device(s) with fewer than 20 timestamped events not judged: r4")
    ]
    assert day.ctx.skipped == []


def test_finding_ids_are_stable_from_run_to_run(day: DayRun, tmp_path: Path) -> None:
    again, _ = hunt([log.path for log in day.logs.values()])
    assert sorted(f.id for f in again) == sorted(f.id for f in day.findings)


# ------------------------------------------------------------- configuration change
EDGE_R1 = SILENCE / "edge-r1.log"


def edge_lines() -> list[str]:
    return EDGE_R1.read_text(encoding="utf-8").splitlines()


def edge_evidence(number: int) -> Evidence:
    """Evidence for line ``number`` (1-based) of the edge-r1 fixture."""
    lines = edge_lines()
    offset = sum(len(line.encode()) + 1 for line in lines[: number - 1])
    month_day_time = lines[number - 1].split(" edge-r1 ")[0][5:]
    stamp = dt.datetime.strptime("2025 " + month_day_time, "%Y %b %d %H:%M:%S")
    return Evidence(
        path=str(EDGE_R1),
        line=number,
        offset=offset,
        event_id=f"{path_digest(str(EDGE_R1))}-{offset}",
        timestamp=stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        text=lines[number - 1],
    )


def edge_hunt(detector: SilenceDetector | None = None) -> list[Finding]:
    with Workspace(None) as workspace:
        ingest([EDGE_R1], workspace, ReadOptions(reference_time=dt.datetime(2025, 3, 2, tzinfo=dt.UTC)))
        return list((detector or SilenceDetector()).run(workspace, HuntContext()))


def test_a_gap_right_after_a_configuration_change_is_high_and_shows_the_change() -> None:
    # edge-r1 logs every ten minutes; at 02:03 someone runs "no logging host", the router
    # logs that remote logging stopped and that it was configured, then nothing until 08:30.
    (finding,) = edge_hunt()
    assert finding.rule_id == "silence:gap"
    assert finding.title == "Device edge-r1 went silent for 6h 26m"
    assert finding.severity == "high"
    assert (finding.first_seen, finding.last_seen) == (at(1, 2, 4), at(1, 8, 30))
    # the three changes within ten minutes of the silence (the last is also its first edge), then the far edge
    assert finding.evidence == [edge_evidence(n) for n in (14, 15, 16, 17)]
    assert "%PARSER-5-CFGLOG_LOGGEDCMD: User:netops  logged command:no logging host" in finding.evidence[0].text
    assert "%SYS-6-LOGGINGHOST_STARTSTOP" in finding.evidence[1].text
    assert "%SYS-5-CONFIG_I" in finding.evidence[2].text
    assert finding.description == (
        "No events from edge-r1: 2025-03-01T02:04:00Z to 2025-03-01T08:30:00Z (6h 26m). "
        "95% of its intervals between events are at most 10m 0s, so a silence counts from 1h 0m. "
        "It began within 10m 0s of a configuration or logging change on the device (shown as evidence)."
    )


# ------------------------------------------------------------------- volume drops
def test_an_hourly_volume_drop_is_reported_and_a_change_before_it_makes_it_high(tmp_path: Path) -> None:
    # Two days and more at one event a minute; on 2 March from 10:00 to 13:00 only one event
    # every twenty minutes. r7 is the same, but someone changed its configuration at 09:58:30.
    thin = every(at(2, 10), at(2, 13), 20 * MINUTE)
    times = [t for t in every(at(1, 0), at(3, 6)) if not at(2, 10) <= t < at(2, 13)] + thin
    r5 = write_device(tmp_path, "r5", times)
    change = at(2, 9, 58, 30)
    r7 = write_device(
        tmp_path, "r7", [*times, change], {change: "%SYS-5-CONFIG_I: Configured from console by netops on vty0"}
    )
    findings, _ = hunt([r5.path, r7.path])
    assert kinds(findings) == [("silence:volume-drop", "r5"), ("silence:volume-drop", "r7")]
    plain, changed = sorted(findings, key=lambda f: f.entities["host"])
    assert plain.title == "Log volume from r5 dropped to 5% of normal for 3 hour(s)"
    assert plain.severity == "low"
    assert (plain.first_seen, plain.last_seen) == (at(2, 10), at(2, 13))
    # the last event before the drop and the first one in it
    assert plain.evidence == [r5.evidence(r5.index(at(2, 9, 59))), r5.evidence(r5.index(at(2, 10)))]
    assert plain.description == (
        "Hours in which r5 logged under 10% of both its median over the previous 24 hours with events and its "
        "median for the same hour on earlier days: 2025-03-02T10:00:00Z: 3 event(s), median 60 an hour before; "
        "2025-03-02T11:00:00Z: 3 event(s), median 60 an hour before; "
        "2025-03-02T12:00:00Z: 3 event(s), median 60 an hour before."
    )
    assert changed.severity == "high"
    assert changed.evidence == [r7.evidence(r7.index(t)) for t in (change, at(2, 9, 59), at(2, 10))]
    assert changed.description.endswith(
        "A configuration or logging change on the device came in the hour before or the first hour of the drop "
        "(shown as evidence)."
    )


def test_a_device_quieter_every_night_has_no_volume_drop(tmp_path: Path) -> None:
    # 120 events an hour from 08:00 to 20:00 and 6 at night, for four days: each evening's
    # first hours are far below the previous 24 hours, but not below the same hours the
    # nights before, so they are the device's rhythm, not a drop.
    times = [
        t
        for t in every(at(1, 0), at(5, 0), dt.timedelta(seconds=30))
        if 8 <= t.hour < 20 or (t.minute % 10 == 0 and t.second == 0)
    ]
    findings, _ = hunt([write_device(tmp_path, "d1", times).path])
    assert findings == []


# -------------------------------------------------------------------- daily rhythm
@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """3 to 7 March: o1 and o2 log every five minutes from 09:00 to 17:00 only, and o2
    stops at 11:00 on 6 March until the next morning; r2 logs all the time."""
    root = tmp_path_factory.mktemp("silence-office")
    days = range(3, 8)
    o1 = [t for d in days for t in every(at(d, 9), at(d, 17), 5 * MINUTE)]
    o2 = [t for t in o1 if not at(6, 11) < t < at(7, 0)]
    r2 = every(at(3, 0), at(8, 0), 10 * MINUTE)
    return [write_device(root, host, times).path for host, times in (("o1", o1), ("o2", o2), ("r2", r2))]


def test_nightly_silences_of_a_business_hours_device_are_its_rhythm(office: list[Path]) -> None:
    # o1's nights (16:55 to 09:00) and its quiet end (16:55 to 23:50 on the last day) span
    # only hours in which it never logs; o2's silence covers its working hours: reported.
    findings, ctx = hunt(office)
    assert kinds(findings) == [("silence:gap", "o2")]
    (finding,) = findings
    assert finding.title == "Device o2 went silent for 22h 0m"
    assert (finding.first_seen, finding.last_seen) == (at(6, 11), at(7, 9))
    assert ctx.ran == {"silence": 3}


# -------------------------------------------------------------------- the settings
def test_the_built_in_settings_are_the_documented_ones() -> None:
    settings = load_settings()
    assert settings.min_events == 20
    assert settings.typical_quantile == 0.95
    assert settings.min_gap == dt.timedelta(hours=1)
    assert settings.gap_factor == 6
    assert (settings.rhythm_min_days, settings.quiet_share) == (3, 0.1)
    assert (settings.drop_ratio, settings.baseline_hours, settings.baseline_days, settings.min_baseline) == (
        0.1,
        24,
        7,
        10,
    )
    assert settings.precursor_window == dt.timedelta(minutes=10)
    assert settings.precursor_codes == (
        "SYS-5-CONFIG_I",
        "SYS-5-CONFIG_P",
        "SYS-6-LOGGINGHOST_STARTSTOP",
        "PARSER-5-CFGLOG_LOGGEDCMD",
    )
    assert settings.precursor_phrases == ("clear log", "no logging")
    assert settings.severity == {"gap": "medium", "stopped": "medium", "volume-drop": "low", "preceded": "high"}


def modified(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    """A copy of the built-in settings file with some text replaced."""
    text = CONTENT.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "silence.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def overridden(tmp_path: Path, **values: object) -> Path:
    """A settings file: the built-in settings with some values replaced or added."""
    settings = yaml.safe_load(CONTENT.read_text(encoding="utf-8"))
    path = tmp_path / "silence.yaml"
    path.write_text(yaml.safe_dump({**settings, **values}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, [("high", 4)]),
        ({"min_gap": "390m"}, []),  # the 6h 26m silence is now too short
        ({"min_gap": "386m"}, [("high", 4)]),
        ({"gap_factor": 40}, []),  # 40 x 10 minutes is more than 6h 26m
        ({"gap_factor": 38}, [("high", 4)]),  # 38 x 10 minutes is not
        ({"typical_quantile": 1.0, "gap_factor": 1}, [("high", 4)]),  # the silence itself is the largest interval
        ({"typical_quantile": 1.0, "gap_factor": 1.01}, []),
        ({"min_events": 27}, []),  # edge-r1 has 26 events
        ({"min_events": 26}, [("high", 4)]),
        ({"precursor_window": "30s"}, [("high", 2)]),  # only the last event before the silence is that close
        ({"precursor_codes": ["SYS-6-LOGGINGHOST_STARTSTOP"], "precursor_phrases": []}, [("high", 3)]),
        ({"precursor_codes": [], "precursor_phrases": ["NO LOGGING"]}, [("high", 3)]),  # the logged command
        ({"precursor_codes": [], "precursor_phrases": []}, [("medium", 2)]),  # only the edges
        (
            {"severity": {"gap": "low", "stopped": "low", "volume-drop": "low", "preceded": "critical"}},
            [("critical", 4)],
        ),
        ({"severity": {"gap": "medium", "stopped": "low", "volume-drop": "low", "preceded": "low"}}, [("medium", 4)]),
    ],
)
def test_thresholds_in_the_settings_file_are_honoured(
    tmp_path: Path, values: dict, expected: list[tuple[str, int]]
) -> None:
    detector = SilenceDetector(overridden(tmp_path, **values))
    detector.check(HuntContext())
    assert [(f.severity, len(f.evidence)) for f in edge_hunt(detector)] == expected


def test_without_precursors_a_gap_keeps_the_plain_severity_and_only_its_edges(tmp_path: Path) -> None:
    (finding,) = edge_hunt(SilenceDetector(overridden(tmp_path, precursor_codes=[], precursor_phrases=[])))
    assert finding.severity == "medium"
    assert finding.evidence == [edge_evidence(16), edge_evidence(17)]
    assert "configuration" not in finding.description


def test_rhythm_settings_are_honoured(office: list[Path], tmp_path: Path) -> None:
    # with six days needed to learn a rhythm, o1's four nights and its quiet end count
    detector = SilenceDetector(modified(tmp_path, ("rhythm_min_days: 3", "rhythm_min_days: 6")))
    findings, _ = hunt(office, detector)
    assert kinds(findings) == [
        ("silence:gap", "o1"),
        ("silence:gap", "o2"),
        ("silence:stopped", "o1"),
        ("silence:stopped", "o2"),
    ]
    gaps = next(f for f in findings if f.rule_id == "silence:gap" and f.entities["host"] == ["o1"])
    assert gaps.title == "Device o1 went silent for 16h 5m (4 silences)"
    assert (gaps.first_seen, gaps.last_seen) == (at(3, 16, 55), at(7, 9))
    assert len(gaps.evidence) == 8  # both edges of each silence


def test_unknown_keys_are_a_content_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="unknown keys max_gap, min_gapp"):
        SilenceDetector(overridden(tmp_path, min_gapp="2h", max_gap="9h")).check(HuntContext())
    with pytest.raises(ContentError, match="precursor_phrases: expected a list of non-empty strings"):
        SilenceDetector(overridden(tmp_path, precursor_phrases="clear log")).check(HuntContext())
    with pytest.raises(ContentError, match="severity must name exactly gap, preceded, stopped, volume-drop"):
        SilenceDetector(overridden(tmp_path, severity={"gap": "high"})).check(HuntContext())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("min_gap: 1h", "min_gap: soon"), "min_gap: 'soon' is not a duration"),
        (("min_events: 20", "min_events: 2.5"), "min_events: 2.5 is not a whole number"),
        (("drop_ratio: 0.1", "drop_ratio: 3"), "drop_ratio: 3 must be between 0 and 1"),
        (("  gap: medium", "  gap: severe"), "severity.gap: 'severe' is not one of"),
        (("quiet_share: 0.1\n", ""), "missing key quiet_share"),
        (("min_gap: 1h", "min_gaps: 1h"), "unknown key min_gaps; missing key min_gap"),
    ],
)
def test_invalid_settings_are_a_content_error_naming_the_file_and_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = modified(tmp_path, change)
    with pytest.raises(ContentError, match=str(path).replace(".", r"\.")) as raised:
        SilenceDetector(path).check(HuntContext())
    assert message in str(raised.value)


def test_an_unreadable_settings_file_is_a_content_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="cannot read silence settings"):
        SilenceDetector(tmp_path / "missing.yaml").check(HuntContext())
    shutil.copy(CONTENT, tmp_path / "ok.yaml")
    SilenceDetector(tmp_path / "ok.yaml").check(HuntContext())


def test_the_silence_detector_is_registered() -> None:
    assert isinstance(detectors()["silence"], SilenceDetector)


def test_a_workspace_without_events_yields_nothing() -> None:
    with Workspace(None) as workspace:
        ctx = HuntContext()
        assert list(SilenceDetector().run(workspace, ctx)) == []
    assert ctx.ran == {} and ctx.notes == []
