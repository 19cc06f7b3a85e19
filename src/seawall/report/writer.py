"""Write a hunt's results into its case directory.

* ``findings.jsonl``: one JSON object per finding
* ``scope.json``: touched organisations/people, hosts, accounts, external IPs
* ``case.json``: incidents (findings grouped by time and shared entities)
* ``run.json``: what was read (per file: read/parsed/quarantined), what ran, what was skipped and why
* ``report.html``: all of it for a person to read
* ``sightings.json``: a STIX 2.1 bundle of sightings of the indicators that matched, to share back
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seawall.detect.finding import Finding, iso_utc
from seawall.report.html import render_html
from seawall.share.sightings import DEFAULT_REPORTER, sightings_bundle, sightings_of

if TYPE_CHECKING:
    from seawall.hunt import HuntResult


def run_summary(result: HuntResult, workspace: Path) -> dict[str, Any]:
    return {
        "evidence": str(result.request.evidence),
        "workspace": str(workspace),
        "started": iso_utc(result.started),
        "finished": iso_utc(result.finished),
        "files": [{k: v for k, v in asdict(f).items() if v not in (None, [])} for f in result.ingest.files],
        "totals": result.ingest.by_format(),
        "events_in_workspace": result.events_stored,
        "detectors": result.ran,
        "skipped": [asdict(s) for s in result.skipped],
        "content_notes": [asdict(n) for n in result.notes],
        "warnings": result.warnings,
        "findings": len(result.findings),
    }


def case_document(result: HuntResult) -> dict[str, Any]:
    return {
        "incidents": [
            {**asdict(i), "first_seen": iso_utc(i.first_seen), "last_seen": iso_utc(i.last_seen)}
            for i in result.case.incidents
        ],
        "findings": [f.id for f in result.findings],
        "scope": result.case.scope,
    }


def write_outputs(result: HuntResult, workspace: Path) -> dict[str, Path]:
    out = result.request.out
    paths = {name: out / name for name in ("findings.jsonl", "scope.json", "case.json", "run.json", "report.html")}
    write_findings(paths["findings.jsonl"], result.findings)
    summary = run_summary(result, workspace)
    documents = {"scope.json": result.case.scope, "case.json": case_document(result), "run.json": summary}
    for name, document in documents.items():
        paths[name].write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["report.html"].write_text(render_html(result, summary), encoding="utf-8")
    if write_sightings(out / "sightings.json", result.findings, DEFAULT_REPORTER):
        paths["sightings.json"] = out / "sightings.json"
    return paths


def write_findings(path: Path, findings: list[Finding]) -> None:
    """findings.jsonl: one finding per line, the format every Seawall command writes."""
    with path.open("w", encoding="utf-8") as fh:
        for finding in findings:
            fh.write(json.dumps(finding.to_dict(), ensure_ascii=False) + "\n")


def write_sightings(path: Path, findings: list[Finding], reporter: str) -> bool:
    """sightings.json when indicators matched (True); an earlier run's file is removed when
    none did, so the folder never contradicts its findings."""
    if not any(sightings_of(findings)):
        path.unlink(missing_ok=True)
        return False
    path.write_text(json.dumps(sightings_bundle(findings, reporter), indent=2) + "\n", encoding="utf-8")
    return True
