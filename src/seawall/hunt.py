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
from seawall.ingest import IngestResult, evidence_files, ingest
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
    workspace: Path | None = None  # default: OUT/workspace.duckdb
    reference_time: dt.datetime | None = None
    window: dt.timedelta = dt.timedelta(hours=72)


@dataclass
class HuntResult:
    request: HuntRequest
    ingest: IngestResult
    findings: list[Finding]
    case: Case
    skipped: list[Skipped]
    ran: dict[str, int]
    outputs: dict[str, Path]
    started: dt.datetime
    finished: dt.datetime


@dataclass
class HuntHooks:
    on_file: Callable[[Path, int], None] | None = None
    on_progress: Callable[[int], None] | None = None
    on_stage: Callable[[str], None] | None = None


def run_hunt(request: HuntRequest, hooks: HuntHooks | None = None) -> HuntResult:
    hooks = hooks or HuntHooks()
    stage = hooks.on_stage or (lambda _: None)
    started = dt.datetime.now(dt.UTC)
    registry = Registry.load(request.registry) if request.registry else Registry.empty()
    request.out.mkdir(parents=True, exist_ok=True)
    workspace_path = request.workspace or request.out / "workspace.duckdb"
    if request.workspace is None and workspace_path.exists():
        workspace_path.unlink()  # a case directory's own workspace holds exactly this hunt's evidence
    with Workspace(workspace_path) as workspace:
        stage("ingest")
        ingested = ingest(
            list(evidence_files(request.evidence)),
            workspace,
            ReadOptions(reference_time=request.reference_time),
            on_file=hooks.on_file,
            on_progress=hooks.on_progress,
        )
        ctx = HuntContext(rule_paths=request.rules, intel_paths=request.intel, logsources_path=request.logsources)
        findings: list[Finding] = []
        for name, detector in detectors().items():
            stage(f"detect:{name}")
            findings.extend(detector.run(workspace, ctx))
    stage("scope")
    case = build_case(findings, registry, request.window)
    finished = dt.datetime.now(dt.UTC)
    result = HuntResult(request, ingested, case.findings, case, ctx.skipped, ctx.ran, {}, started, finished)
    stage("report")
    result.outputs = write_outputs(result, workspace_path)
    return result
