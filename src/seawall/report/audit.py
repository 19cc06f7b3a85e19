"""Write a configuration audit's results into its output folder.

* ``findings.jsonl``: one JSON object per finding, the same shape as a hunt's
* ``audit.json``: per device its files and how each parsed, every check's status with
  reasons and offending lines, the drift between snapshots (changed lines and model
  changes, with snapshot dates); the catalog, what was skipped, the timings
* ``audit.html``: the same for a person: compromise and drift findings first, then the
  hardening report per device. Self-contained (no external assets), every configuration
  text escaped.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from seawall import __version__
from seawall.detect.config_checks import FAIL, NOT_EVALUATED, PASS, Catalog
from seawall.detect.finding import SEVERITIES, iso_utc, severity_rank
from seawall.report.html import TEMPLATES

if TYPE_CHECKING:
    from seawall.audit import AuditResult, DeviceAudit
    from seawall.detect.drift import Drift, DriftFinding

HTML_LINES = 200  # changed lines shown per drift step in audit.html (audit.json has all)
OUTPUTS = ("findings.jsonl", "audit.json", "audit.html")

TEMPLATES.filters["day"] = lambda v: v.strftime("%Y-%m-%d %H:%M UTC") if v else "—"


def kinds(catalog: Catalog) -> dict[str, str]:
    """Check id -> compromise or hardening (drift removals count as compromise)."""
    return {c.id: c.kind for c in catalog}


def device_counts(device: DeviceAudit, kind_of: dict[str, str]) -> dict[str, int]:
    """The numbers of the device table: compromise failures, hardening failed/evaluated, drift."""
    status = Counter((kind_of.get(c.id, "compromise"), c.status) for c in device.checks)
    return {
        "compromise_failed": status["compromise", FAIL],
        "hardening_failed": status["hardening", FAIL],
        "hardening_evaluated": status["hardening", FAIL] + status["hardening", PASS],
        "not_evaluated": sum(n for (_, s), n in status.items() if s == NOT_EVALUATED),
        "drift_findings": len([f for f in device.findings if f.detector == "config-drift"]),
        "drift_changes": sum(len(d.changes) for d in device.drifts),
        "lines_added": sum(len(d.added) for d in device.drifts),
        "lines_removed": sum(len(d.removed) for d in device.drifts),
    }


def _lines(lines: Any) -> list[dict[str, Any]]:
    return [{"line": n, "text": t} for n, t in lines]


def _drift(step: Drift) -> dict[str, Any]:
    return {
        "before": step.before_path,
        "after": step.after_path,
        "before_date": iso_utc(step.before_date),
        "after_date": iso_utc(step.after_date),
        "removed": _lines(step.removed),
        "added": _lines(step.added),
        "changes": [
            {
                "kind": c.kind,
                "collection": c.collection,
                "key": c.key,
                "fields": list(c.fields),
                "before": _lines(c.before),
                "after": _lines(c.after),
            }
            for c in step.changes
        ],
    }


def _drift_finding(f: DriftFinding, drifts: list[Drift]) -> dict[str, Any]:
    """``lines_in`` names the file the line numbers refer to: for a removal, the snapshot
    before the one that dropped it."""
    before = next((d.before_path for d in drifts if d.after_path == f.source), None)
    return {
        "rule_id": f.rule_id,
        "title": f.title,
        "kind": f.kind,
        "severity": f.severity,
        "first_seen": iso_utc(f.first_seen),
        "last_seen": iso_utc(f.last_seen),
        "still_present": f.still_present,
        "source": f.source,
        "label": f.label,
        "lines_in": before if f.kind == "defence removed" and before else f.source,
        "lines": _lines(f.lines),
    }


def device_document(device: DeviceAudit, kind_of: dict[str, str]) -> dict[str, Any]:
    latest = device.snapshots[-1]
    return {
        "device": device.key,
        "name": device.name,
        "hostname": latest.hostname,
        "platform": device.platform,
        "status": device.status,
        "reason": device.reason,
        "error": device.error,
        "paths": device.paths,
        "unparsed": [list(r) for r in latest.unparsed],
        "summary": device_counts(device, kind_of),
        "snapshots": [
            {
                "source": s.source,
                "label": s.label,
                "date": iso_utc(s.date),
                "platform": s.platform,
                "hostname": s.hostname,
                "status": s.status,
                "reason": s.reason,
                "unparsed": [list(r) for r in s.unparsed],
                "lines": s.lines,
            }
            for s in device.snapshots
        ],
        "checks": [
            {
                "id": c.id,
                "kind": kind_of.get(c.id),
                "status": c.status,
                "reason": c.reason,
                "offenses": [{"label": label, "lines": _lines(lines)} for label, lines in c.offenses],
            }
            for c in device.checks
        ],
        "drift": [_drift(d) for d in device.drifts],
        "drift_findings": [_drift_finding(f, device.drifts) for f in device.drift_findings],
        "findings": [f.id for f in device.findings],
    }


def audit_document(result: AuditResult) -> dict[str, Any]:
    """audit.json: the whole audit, per device."""
    kind_of = kinds(result.catalog)
    statuses = Counter(d.status for d in result.devices)
    return {
        "seawall": __version__,
        "configs": str(result.request.configs),
        "profile": str(result.request.profile) if result.request.profile else None,
        "profile_name": result.profile.name,
        "catalog": result.catalog.source,
        "started": iso_utc(result.started),
        "finished": iso_utc(result.finished),
        "workers": result.workers,
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
        "totals": {
            "devices": len(result.devices),
            "snapshots": sum(len(d.snapshots) for d in result.devices),
            "lines": result.lines,
            **{s: statuses[s] for s in ("parsed", "partial", "rejected")},
            "errors": sum(1 for d in result.devices if d.error),
            "findings": len(result.findings),
            "findings_by_severity": {s: n for s, n in Counter(f.severity for f in result.findings).items()},
        },
        "checks": [
            {
                "id": c.id,
                "title": c.title,
                "kind": c.kind,
                "severity": c.severity,
                "platforms": list(c.platforms),
                "techniques": list(c.techniques),
                "references": list(c.references),
                "remediation": c.remediation,
            }
            for c in result.catalog
        ],
        "skipped": result.skipped,
        "devices": [device_document(d, kind_of) for d in result.devices],
    }


def _is_compromise(finding: Any, kind_of: dict[str, str]) -> bool:
    return finding.detector == "config-drift" or kind_of.get(finding.rule_id) == "compromise"


def render_audit_html(result: AuditResult) -> str:
    """audit.html: compromise and drift findings first, then a device table, then each
    device's checks and drift timeline."""
    kind_of = kinds(result.catalog)
    checks = {c.id: c for c in result.catalog}
    urgent = [f for f in result.findings if _is_compromise(f, kind_of)]
    hardening = Counter(f.rule_id for f in result.findings if not _is_compromise(f, kind_of))
    order = {"compromise": 0, "hardening": 1}
    devices = sorted(
        result.devices,
        key=lambda d: (
            -max((severity_rank(f.severity) for f in d.findings if _is_compromise(f, kind_of)), default=-1),
            d.key,
        ),
    )
    timeline = sorted(
        ((d, f) for d in result.devices for f in d.drift_findings),
        key=lambda pair: (pair[1].first_seen or dt.datetime.min.replace(tzinfo=dt.UTC), pair[0].key),
    )
    return TEMPLATES.get_template("audit.html.j2").render(
        result=result,
        urgent=urgent,
        hardening=sorted(hardening.items(), key=lambda kv: (-severity_rank(checks[kv[0]].severity), kv[0])),
        snapshot_count=sum(len(d.snapshots) for d in result.devices),
        checks=checks,
        devices=devices,
        counts={d.key: device_counts(d, kind_of) for d in result.devices},
        statuses=Counter(d.status for d in result.devices),
        severity_counts=Counter(f.severity for f in urgent),
        severities=list(reversed(SEVERITIES)),
        timeline=timeline,
        check_order=lambda outcomes: sorted(
            (c for c in outcomes if c.status in (FAIL, NOT_EVALUATED)),
            key=lambda c: (
                c.status != FAIL,
                order.get(kind_of.get(c.id, ""), 2),
                -severity_rank(checks[c.id].severity) if c.id in checks else 0,
                c.id,
            ),
        ),
        quiet_checks=lambda outcomes, status: [c.id for c in outcomes if c.status == status],
        max_lines=HTML_LINES,
    )


def write_audit(result: AuditResult) -> dict[str, Path]:
    """Write findings.jsonl, audit.json and audit.html into the request's output folder."""
    out = result.request.out
    paths = {name: out / name for name in OUTPUTS}
    with paths["findings.jsonl"].open("w", encoding="utf-8") as fh:
        for finding in result.findings:
            fh.write(json.dumps(finding.to_dict(), ensure_ascii=False) + "\n")
    paths["audit.json"].write_bytes(orjson.dumps(audit_document(result), option=orjson.OPT_INDENT_2) + b"\n")
    paths["audit.html"].write_text(render_audit_html(result), encoding="utf-8")
    return paths
