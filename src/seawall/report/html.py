"""Render report.html from a Jinja2 template shipped as data (report/templates/report.html.j2)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

from seawall.detect.finding import SEVERITIES, severity_rank

if TYPE_CHECKING:
    from seawall.hunt import HuntResult

TEMPLATES = Environment(  # the report templates; report/audit.py renders from it too
    loader=PackageLoader("seawall.report", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(value: Any) -> str:
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if hasattr(value, "strftime") else str(value)


TEMPLATES.filters["when"] = _when


def render_html(result: HuntResult, summary: dict[str, Any]) -> str:
    findings = sorted(result.findings, key=lambda f: (-severity_rank(f.severity), f.first_seen or result.started))
    severity_counts = Counter(f.severity for f in result.findings)
    timeline = sorted(result.findings, key=lambda f: (f.first_seen is None, f.first_seen or result.started))
    firsts = [f.first_seen for f in result.findings if f.first_seen]
    lasts = [f.last_seen for f in result.findings if f.last_seen]
    incident_of = {fid: i.id for i in result.case.incidents for fid in i.finding_ids}
    return TEMPLATES.get_template("report.html.j2").render(
        result=result,
        summary=summary,
        findings=findings,
        timeline=timeline,
        first_activity=min(firsts) if firsts else None,
        last_activity=max(lasts) if lasts else None,
        incident_of=incident_of,
        severities=list(reversed(SEVERITIES)),
        severity_counts=severity_counts,
        scope=result.case.scope,
        rule_titles={f.rule_id: f.title for f in result.findings},
        people_touched=sum(len(o["people"]) for o in result.case.scope["organisations"]),
    )
