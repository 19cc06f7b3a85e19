"""A configuration audit in one call: find the configurations, parse, check, compare, report.

``run_audit`` is to ``seawall audit`` what ``run_hunt`` is to ``seawall hunt``: the CLI
and tests go through it, and it never prints (progress comes back through hooks).

How CONFIG_DIR is read (the discovery rule):

* A git repository (``CONFIG_DIR/.git``, as Oxidized and RANCID keep configurations):
  every file ever committed is a device, every commit touching it a snapshot
  (``drift.snapshots``). The work tree is not read: commit what you want audited.
* Otherwise the folder is walked (hidden names, symbolic links to folders and the
  audit's own output folder are left out). In each folder, the files whose names start
  with a date (``2024-06-01.cfg``, ``20240601-0300.txt``, see ``sources.configs.snapshots``) are
  the snapshots of one device named by the folder (``CONFIG_DIR`` itself included, so
  ``seawall audit pe1/`` audits one device's history). Every other file is a device
  with one snapshot. A sub-folder holding ``.git`` is read as a repository.
  ``router.db`` and the like are listed as skipped; the audit's own profile and
  catalog files are left out like its output folder.

Every file is parsed; none stops the audit: a binary file, an unknown platform or an
unreadable blob comes back ``rejected`` with its reason and is listed in the outputs.
The catalog runs on each device's latest snapshot; ``drift.history`` compares
consecutive snapshots and dates each indicator by the snapshot where it first appears.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from seawall.detect import config_checks, drift
from seawall.detect.config_checks import Catalog, CheckResult
from seawall.detect.drift import Drift, DriftFinding, Snapshot
from seawall.detect.finding import Evidence, Finding, iso_utc, severity_rank
from seawall.detect.profile import SiteProfile
from seawall.errors import SeawallError
from seawall.sources.configs import collector_paused, parse_config
from seawall.sources.configs.model import COLLECTIONS, DeviceConfig
from seawall.sources.configs.snapshots import FileText, snapshot_date

POOL_THRESHOLD = 50  # devices from which a process pool pays for its start-up
DRIFT_DETECTOR = "config-drift"


@dataclass
class AuditRequest:
    configs: Path  # CONFIG_DIR: a folder (see the module docstring), a git repository or one file
    out: Path
    profile: Path | None = None  # site profile (YAML); None declares nothing
    checks: Path | None = None  # the user's own catalog; None = the built-in one
    workers: int | None = None  # processes for many devices; None = os.cpu_count()


@dataclass(frozen=True)
class SnapshotStatus:
    """How one file (or one committed version) parsed."""

    source: str  # file path, or COMMIT:path
    label: str  # file name, or short commit id
    date: dt.datetime | None  # None for a plain file: it has no history
    platform: str | None
    hostname: str | None
    status: str  # parsed, partial, rejected
    reason: str | None
    unparsed: tuple[tuple[int, int], ...]
    lines: int


@dataclass(frozen=True)
class CheckOutcome:
    """One check on a device's latest snapshot, without the compiled check (cheap to pickle)."""

    id: str
    status: str  # pass, fail, not-applicable, not-evaluated
    reason: str | None
    offenses: tuple[tuple[str, tuple[tuple[int, str], ...]], ...]  # (label, ((line, text), ...))


@dataclass
class DeviceAudit:
    """Everything the audit learnt about one device."""

    key: str  # relative path of the file or device folder, or the repository's device name
    name: str  # the latest snapshot's hostname, else the key
    platform: str | None
    status: str  # the latest snapshot's status
    reason: str | None
    snapshots: list[SnapshotStatus]
    checks: list[CheckOutcome]
    drifts: list[Drift]  # consecutive pairs, oldest first (model changes without their items)
    drift_findings: list[DriftFinding]
    findings: list[Finding]
    error: str | None = None  # an internal error while checking: the device is listed, not dropped
    parse_seconds: float = 0.0  # CPU
    check_seconds: float = 0.0  # CPU: checks, diffs and drift findings (drift.history)

    @property
    def lines(self) -> int:
        return sum(s.lines for s in self.snapshots)

    @property
    def paths(self) -> list[str]:
        return [s.source for s in self.snapshots]


@dataclass
class AuditResult:
    request: AuditRequest
    catalog: Catalog
    profile: SiteProfile
    devices: list[DeviceAudit]
    findings: list[Finding]
    skipped: list[str]
    started: dt.datetime
    finished: dt.datetime
    workers: int  # processes used (1 = serial)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    outputs: dict[str, Path] = field(default_factory=dict)

    @property
    def lines(self) -> int:
        """Configuration lines read, every snapshot counted."""
        return sum(d.lines for d in self.devices)


@dataclass
class AuditHooks:
    on_start: Callable[[int], None] | None = None  # number of devices found
    on_device: Callable[[DeviceAudit], None] | None = None  # after each device
    on_stage: Callable[[str], None] | None = None  # "discover", "audit", "report"


# --- discovery ----------------------------------------------------------------------------


def discover(root: Path, exclude: tuple[Path, ...] = (), skipped: list[str] | None = None) -> dict[str, list[Snapshot]]:
    """Devices and their snapshots (oldest first) under ``root``, by the rule in the module
    docstring. Raises SeawallError when ``root`` does not exist."""
    if not root.exists():
        raise SeawallError(f"{root}: no such file or folder")
    skipped = skipped if skipped is not None else []
    if root.is_file():
        return {root.name: [_plain(root, root.name)]}
    if (root / ".git").exists():
        return drift.snapshots(root)
    found: dict[str, list[Snapshot]] = {}
    excluded = {p.resolve() for p in exclude}
    _walk(root, root, found, skipped, excluded)
    return dict(sorted(found.items()))


def _walk(folder: Path, root: Path, found: dict[str, list[Snapshot]], skipped: list[str], excluded: set[Path]) -> None:
    dated: list[Snapshot] = []
    device = folder.name if folder == root else folder.relative_to(root).as_posix()
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.resolve() in excluded:
            continue
        key = entry.relative_to(root).as_posix()
        if entry.is_dir():
            if entry.is_symlink():
                skipped.append(f"{entry}: symbolic link to a folder, not followed")
            elif (entry / ".git").exists():
                for name, snaps in drift.snapshots(entry).items():
                    found[f"{key}/{name}"] = [replace(s, device=f"{key}/{name}") for s in snaps]
            else:
                _walk(entry, root, found, skipped, excluded)
        elif not entry.is_file():
            skipped.append(f"{entry}: not a regular file")
        elif entry.name.lower() in drift.NOT_CONFIGS:
            skipped.append(f"{entry}: not a configuration ({entry.name})")
        elif (date := snapshot_date(entry.name)) is not None:
            dated.append(Snapshot(device, date, entry.name, str(entry), FileText(entry)))
        else:
            found[key] = [_plain(entry, key)]
    if dated:
        found[device] = sorted(dated, key=lambda s: (s.date, s.label))


def _plain(path: Path, key: str) -> Snapshot:
    """A file with no history: one snapshot, no date."""
    return Snapshot(key, None, path.name, str(path), FileText(path))  # type: ignore[arg-type]


# --- one device ---------------------------------------------------------------------------


def audit_device(key: str, snaps: list[Snapshot], catalog: Catalog, profile: SiteProfile) -> DeviceAudit:
    """Parse every snapshot, check the latest, compare consecutive ones. Never raises:
    unreadable files are rejected, an internal error is recorded on the device."""
    with collector_paused():
        return _audit_device(key, snaps, catalog, profile)


def _audit_device(key: str, snaps: list[Snapshot], catalog: Catalog, profile: SiteProfile) -> DeviceAudit:
    started = time.thread_time()
    configs: dict[str, DeviceConfig] = {}
    loaded: list[Snapshot] = []
    previous: tuple[str, DeviceConfig] | None = None
    for snap in snaps:
        try:
            text = snap.text
        except (OSError, SeawallError) as exc:
            text = ""
            config = DeviceConfig(path=snap.source, platform=None, text_lines=[], status="rejected")
            config.reason = f"unreadable: {exc}"
        else:
            if previous is not None and previous[0] == text:  # unchanged since the last snapshot
                config = _same_as(previous[1], snap.source)
            else:
                config = parse_config(text, snap.source)
            previous = (text, config)
        configs[snap.source] = config
        loaded.append(Snapshot(snap.device, snap.date, snap.label, snap.source, str, text))
    parsed = time.thread_time()
    latest = configs[loaded[-1].source]
    device = DeviceAudit(
        key=key,
        name=latest.hostname or key,
        platform=latest.platform,
        status=latest.status,
        reason=latest.reason,
        snapshots=[_status(s, configs[s.source]) for s in loaded],
        checks=[],
        drifts=[],
        drift_findings=[],
        findings=[],
        parse_seconds=parsed - started,
    )
    try:
        history = drift.history(loaded, catalog, profile, parse=lambda _text, path: configs[path])
    except Exception as exc:  # a bug in a check must not lose the other 999 devices
        device.error = f"{type(exc).__name__}: {exc}"
        return device
    device.checks = [_outcome(r) for r in history.latest]
    device.drifts = [  # the items stay behind: their lines are in the changes, and they are heavy to pickle
        replace(d, changes=tuple(replace(c, before_item=None, after_item=None) for c in d.changes))
        for d in history.drifts
    ]
    device.drift_findings = history.findings
    device.findings = _check_findings(history.latest, history.findings, loaded[-1].date)
    device.findings += [_drift_finding(f, device.drifts) for f in history.findings if _reported(f)]
    device.check_seconds = time.thread_time() - parsed
    return device


def _same_as(config: DeviceConfig, path: str) -> DeviceConfig:
    """The parse of a text equal to one already parsed (a snapshot saved again unchanged):
    what ``parse_config`` would return for it, with lists of its own."""
    copy = replace(config, path=path, text_lines=list(config.text_lines), unparsed=list(config.unparsed))
    for collection in COLLECTIONS:
        setattr(copy, collection, list(getattr(config, collection)))
    return copy


def _status(snap: Snapshot, config: DeviceConfig) -> SnapshotStatus:
    return SnapshotStatus(
        source=snap.source,
        label=snap.label,
        date=snap.date,
        platform=config.platform,
        hostname=config.hostname,
        status=config.status,
        reason=config.reason,
        unparsed=tuple(config.unparsed),
        lines=len(config.text_lines),
    )


def _outcome(result: CheckResult) -> CheckOutcome:
    offenses = tuple((o.label, tuple(o.lines)) for o in result.items)
    return CheckOutcome(result.check.id, result.status, result.reason, offenses)


def _check_findings(
    results: list[CheckResult], history: list[DriftFinding], latest: dt.datetime | None
) -> list[Finding]:
    """Failed checks as findings; a compromise finding is dated from the snapshot where its
    indicator first appears (when the device has dated snapshots)."""
    findings = config_checks.to_findings(results)
    for finding in findings:
        starts = [f.first_seen for f in history if f.rule_id == finding.rule_id and f.still_present and f.first_seen]
        finding.first_seen = min(starts) if starts else latest
        finding.last_seen = latest
    return findings


def _reported(f: DriftFinding) -> bool:
    """Every drift finding but an indicator present throughout: the check failure says that."""
    return not (f.kind == "indicator present since the first snapshot" and f.still_present)


def _day(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "an undated snapshot"


def drift_title(f: DriftFinding) -> str:
    """What happened, with its date: 'Indicator introduced on 2024-06-02: <check title>'."""
    if f.kind == "defence removed":
        return f"{f.title} on {_day(f.first_seen)}"
    if f.kind == "indicator introduced":
        head = f"Indicator introduced on {_day(f.first_seen)}"
    else:
        head = f"Indicator in the first snapshot ({_day(f.first_seen)})"
    if not f.still_present:
        head += f", last seen {_day(f.last_seen)}"
    return f"{head}: {f.title}"


def _drift_finding(f: DriftFinding, drifts: list[Drift]) -> Finding:
    """A drift finding in the hunt's Finding shape: the lines before and after the change,
    each Evidence dated by its snapshot."""
    step = next((d for d in drifts if d.after_path == f.source), None)
    before_date = iso_utc(step.before_date) if step else None
    after_date = iso_utc(f.first_seen)
    if f.kind == "defence removed":
        path = step.before_path if step else f.source
        evidence = [Evidence(path=path, line=n, text=t, timestamp=before_date) for n, t in f.lines]
        description = (
            f"{f.label}: in the snapshot of {_day(step.before_date if step else None)}, "
            f"gone from the snapshot of {_day(f.first_seen)} ({f.source})."
        )
    else:
        after = {n for n, _ in f.lines}
        before = [
            line
            for change in (step.changes if step else ())
            if after & {n for n, _ in change.after}
            for line in change.before
        ]
        evidence = (
            [Evidence(path=step.before_path, line=n, text=t, timestamp=before_date) for n, t in before] if step else []
        )
        evidence += [Evidence(path=f.source, line=n, text=t, timestamp=after_date) for n, t in f.lines]
        state = "still present in the latest snapshot" if f.still_present else f"last seen {_day(f.last_seen)}"
        description = f"{f.label}: first appears in {f.source} ({_day(f.first_seen)}); {state}."
    basis = "|".join(["drift", f.rule_id, f.device, f.kind, str(f.first_seen), f.source, f.label])
    return Finding(
        rule_id=f.rule_id,
        title=drift_title(f),
        severity=f.severity,
        detector=DRIFT_DETECTOR,
        description=description,
        techniques=list(f.techniques),
        first_seen=f.first_seen,
        last_seen=f.last_seen,
        entities={"host": [f.device]},
        evidence=evidence or [Evidence(path=f.source, text=f.label)],
        event_count=1,
        references=list(f.references),
        id="F-" + hashlib.sha256(basis.encode()).hexdigest()[:16],
    )


# --- the whole audit ----------------------------------------------------------------------

_WORKER: list[tuple[Catalog, SiteProfile]] = []  # a pool worker's catalog and profile, sent once


def _init_worker(catalog: Catalog, profile: SiteProfile, collect: bool) -> None:
    _WORKER[:] = [(catalog, profile)]
    if collect:  # forked while the parent's collector was paused
        gc.enable()


def _pooled(job: tuple[str, list[Snapshot]]) -> DeviceAudit:
    catalog, profile = _WORKER[0]
    return audit_device(job[0], job[1], catalog, profile)


def _audits(
    jobs: list[tuple[str, list[Snapshot]]], catalog: Catalog, profile: SiteProfile, workers: int, collect: bool = True
) -> Iterator[DeviceAudit]:
    """Each device audited, in the order of ``jobs``; ``collect``: whether pool workers run
    the cyclic garbage collector (between devices)."""
    if workers <= 1:
        for key, snaps in jobs:
            yield audit_device(key, snaps, catalog, profile)
        return
    # Batches of devices, each one round trip to a worker; small enough that the workers
    # finish together (a device takes some 20 ms of CPU).
    chunk = max(1, min(8, len(jobs) // (workers * 8)))
    initargs = (catalog, profile, collect)
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=initargs) as pool:
        yield from pool.map(_pooled, jobs, chunksize=chunk)


def ranked(findings: list[Finding], catalog: Catalog) -> list[Finding]:
    """Most severe first; at one severity drift, then compromise, then hardening; then by device."""
    rank = {c.id: 2 if c.kind == "hardening" else 1 for c in catalog}
    return sorted(
        findings,
        key=lambda f: (
            -severity_rank(f.severity),
            0 if f.detector == DRIFT_DETECTOR else rank.get(f.rule_id, 1),
            f.entities.get("host", []),
            f.rule_id,
            f.id,
        ),
    )


def load_content(request: AuditRequest) -> tuple[Catalog, SiteProfile]:
    """The catalog and the profile, checked before any configuration is read."""
    catalog = config_checks.load_catalog(request.checks)
    profile = SiteProfile.load(request.profile) if request.profile else SiteProfile.empty()
    return catalog, profile


def run_audit(request: AuditRequest, hooks: AuditHooks | None = None) -> AuditResult:
    """Discover, parse, check, compare, write. Content errors (catalog, profile) and a
    missing or empty CONFIG_DIR raise SeawallError before any output is written."""
    from seawall.report.audit import write_audit

    hooks = hooks or AuditHooks()
    stage = hooks.on_stage or (lambda _: None)
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    if request.out.exists() and not request.out.is_dir():
        raise SeawallError(f"{request.out}: exists and is not a folder; --out needs a folder")
    catalog, profile = load_content(request)
    loaded = time.perf_counter()
    stage("discover")
    skipped: list[str] = []
    own = tuple(p for p in (request.out, request.profile, request.checks) if p is not None)
    found = discover(request.configs, exclude=own, skipped=skipped)
    if not found:
        raise SeawallError(f"{request.configs}: no configuration files found")
    discovered = time.perf_counter()
    if hooks.on_start:
        hooks.on_start(len(found))
    workers = request.workers or os.cpu_count() or 1
    workers = 1 if len(found) < POOL_THRESHOLD else max(1, min(workers, len(found)))
    stage("audit")
    collect = gc.isenabled()
    with collector_paused():  # the results gathered, ranked and written are no garbage
        devices = []
        for device in _audits(list(found.items()), catalog, profile, workers, collect):
            devices.append(device)
            if hooks.on_device:
                hooks.on_device(device)
        audited = time.perf_counter()
        findings = ranked([f for d in devices for f in d.findings], catalog)
        result = AuditResult(request, catalog, profile, devices, findings, skipped, started, started, workers)
        result.timings = {
            "content": loaded - clock,
            "discover": discovered - loaded,
            "audit": audited - discovered,
            "parse_cpu": sum(d.parse_seconds for d in devices),
            "checks_and_drift_cpu": sum(d.check_seconds for d in devices),
        }
        stage("report")
        request.out.mkdir(parents=True, exist_ok=True)
        result.finished = dt.datetime.now(dt.UTC)
        result.outputs = write_audit(result)
    result.timings["write"] = time.perf_counter() - audited
    return result
