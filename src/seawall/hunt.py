"""The whole job in one call: ingest evidence, run detectors, build the case, write the outputs.

The CLI and the demo both go through ``run_hunt``; it takes callbacks for progress so the
pipeline itself never prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from seawall.detect import Finding, HuntContext, Skipped, detectors
from seawall.detect.base import MAX_ENTITY_VALUES
from seawall.errors import SeawallError
from seawall.ingest import IngestResult, evidence_files, ingest
from seawall.intel.importer import import_path
from seawall.report import write_outputs
from seawall.scope import Case, Registry, build_case
from seawall.sources import ReadOptions
from seawall.store import Workspace


@dataclass
class HuntRequest:
    evidence: Path
    out: Path
    registry: Path | None = None
    rules: list[Path] = field(default_factory=list)
    intel: list[Path] = field(default_factory=list)
    logsources: Path | None = None
    silence: Path | None = None  # silence detector thresholds (YAML) instead of the built-in ones
    profile: Path | None = None  # site profile: management ranges, approved servers, tunnel peers
    ignore_validity: bool = False  # match indicators outside their validity window too
    workspace: Path | None = None  # default: OUT/workspace.duckdb
    reference_time: dt.datetime | None = None
    timezone: str = "UTC"  # zone of clocks that print none
    forced_format: str | None = None  # read every file as this format instead of recognising it
    window: dt.timedelta = dt.timedelta(hours=72)


@dataclass
class HuntResult:
    request: HuntRequest
    ingest: IngestResult
    findings: list[Finding]
    case: Case
    skipped: list[Skipped]
    notes: list[Skipped]
    ran: dict[str, int]
    outputs: dict[str, Path]
    started: dt.datetime
    finished: dt.datetime
    events_stored: int  # events in the workspace, this run's and any kept from earlier hunts
    warnings: list[str]


@dataclass
class HuntHooks:
    on_file: Callable[[Path, int], None] | None = None
    on_progress: Callable[[int], None] | None = None
    on_stage: Callable[[str], None] | None = None


def hunt_files(request: HuntRequest) -> list[Path]:
    """The evidence files this hunt reads: the evidence tree less the hunt's own outputs."""
    workspace = request.workspace or request.out / "workspace.duckdb"
    own = [request.out, workspace, workspace.with_name(workspace.name + ".wal")]
    return list(evidence_files(request.evidence, exclude=own))


def run_hunt(request: HuntRequest, hooks: HuntHooks | None = None) -> HuntResult:
    """Ingest, detect, scope, report. Content (registry, rules, logsources, indicator lists)
    is checked before any evidence is read, so a mistake there costs seconds, not hours."""
    hooks = hooks or HuntHooks()
    stage = hooks.on_stage or (lambda _: None)
    started = dt.datetime.now(dt.UTC)
    if request.out.exists() and not request.out.is_dir():
        raise SeawallError(f"{request.out}: exists and is not a folder; --out needs a folder for the case")
    registry = Registry.load(request.registry) if request.registry else Registry.empty()
    ctx = HuntContext(
        rule_paths=request.rules,
        logsources_path=request.logsources,
        silence_path=request.silence,
        profile_path=request.profile,
        ignore_validity=request.ignore_validity,
        keep_values=registry.keys(),
    )
    for detector in detectors().values():
        detector.check(ctx)
    files = hunt_files(request)
    request.out.mkdir(parents=True, exist_ok=True)
    workspace_path = request.workspace or request.out / "workspace.duckdb"
    if request.workspace is None and workspace_path.exists():
        workspace_path.unlink()  # a case directory's own workspace holds exactly this hunt's evidence
    with Workspace(workspace_path) as workspace:
        if request.intel:
            stage("intel")
            import_intel(workspace, request.intel, ctx)
        stage("ingest")
        ingested = ingest(
            files,
            workspace,
            ReadOptions(reference_time=request.reference_time, timezone=request.timezone),
            forced_format=request.forced_format,
            on_file=hooks.on_file,
            on_progress=hooks.on_progress,
        )
        stored = workspace.count()
        findings: list[Finding] = []
        for name, detector in detectors().items():
            stage(f"detect:{name}")
            findings.extend(detector.run(workspace, ctx))
    stage("scope")
    case = build_case(findings, registry, request.window)
    finished = dt.datetime.now(dt.UTC)
    result = HuntResult(
        request,
        ingested,
        case.findings,
        case,
        ctx.skipped,
        ctx.notes,
        ctx.ran,
        {},
        started,
        finished,
        stored,
        _warnings(case),
    )
    stage("report")
    result.outputs = write_outputs(result, workspace_path)
    return result


def import_intel(workspace: Workspace, paths: list[Path], ctx: HuntContext) -> None:
    """Import indicator files into the workspace's intel store before any evidence is read;
    what cannot be used is reported per object, and a file that holds no intel at all stops
    the hunt (a typo in ``--intel`` should cost seconds, not a whole ingest)."""
    for path in paths:
        report = import_path(workspace, path)
        for skipped, why in report.skipped:
            if Path(skipped).resolve() == path.resolve():
                raise SeawallError(f"{path}: not threat intelligence: {why}")
            ctx.skip("intel", skipped, why)
        for source in report.sources:
            for reason in source.reasons:
                ctx.skip("intel", source.path, reason)
            for note in source.notes:
                ctx.note("intel", source.path, note)


def _warnings(case: Case) -> list[str]:
    """What a reader of the results must know to not be misled by them."""
    return [
        f"{f.title} ({f.id}) lists {MAX_ENTITY_VALUES:,} of {total:,} distinct {kind} values (the registry's "
        "people always among them): scope.json may miss organisations named only through domains or networks "
        "among the rest; query the workspace for all"
        for f in case.findings
        for kind, total in sorted(f.truncated_entities.items())
    ]
