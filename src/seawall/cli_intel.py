"""``seawall intel``: import threat intelligence into a workspace and re-check its events.

Retro-hunting is the point: a new advisory is imported into the workspace that already
holds months of telemetry, and matched against all of it at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from seawall.cli_options import EXIT_USAGE, FailOn, IgnoreValidity, exit_on_findings
from seawall.detect import Finding, HuntContext
from seawall.detect.intel import IntelDetector
from seawall.errors import SeawallError
from seawall.intel.importer import ImportReport, import_path
from seawall.intel.store import IntelStore
from seawall.report.writer import write_findings, write_sightings
from seawall.share.sightings import DEFAULT_REPORTER
from seawall.store import Workspace

MAX_REASONS_SHOWN = 20

intel_app = typer.Typer(
    name="intel",
    help="Import threat intelligence (STIX 2.1, MISP, CSV/TXT) into a workspace and match it against its events.",
    rich_markup_mode="rich",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console(stderr=True)

WorkspaceOption = Annotated[
    Path,
    typer.Option(
        "--workspace",
        "-w",
        metavar="FILE",
        help="The DuckDB workspace of a hunt (CASE_DIR/workspace.duckdb) or of 'seawall serve'.",
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        metavar="DIR",
        help="Where intel-findings.jsonl and sightings.json go (default: the workspace's folder).",
    ),
]
Reporter = Annotated[
    str,
    typer.Option(
        "--reporter", metavar="NAME", help="Your organisation's name, as the sightings' 'where sighted' identity."
    ),
]


@intel_app.callback()
def _intel() -> None:
    """Import threat intelligence into a workspace and match it against its events."""


@intel_app.command("import")
def import_(
    paths: Annotated[
        list[Path],
        typer.Argument(metavar="FILE|DIR...", help="STIX 2.1 bundles, MISP event JSON or feed folders, CSV/TXT lists."),
    ],
    workspace: WorkspaceOption,
    out: OutOption = None,
    no_match: Annotated[
        bool, typer.Option("--no-match", help="Import only; do not re-check the stored events.")
    ] = False,
    include_non_ids: Annotated[
        bool, typer.Option("--include-non-ids", help="Also make indicators of MISP attributes not marked to_ids.")
    ] = False,
    ignore_validity: IgnoreValidity = False,
    reporter: Reporter = DEFAULT_REPORTER,
) -> None:
    """Import intel, then re-check every stored event against the whole intel store.

    Re-importing a file replaces its earlier version. Objects that cannot be used (invalid
    patterns, unknown types) are listed with their reasons; the rest imports.

    Example: [bold]seawall intel import AA25-239A.stix.json -w case-42/workspace.duckdb[/bold]
    """
    for path in paths:
        if not path.exists():
            console.print(f"[red]error:[/red] {path} does not exist")
            raise typer.Exit(EXIT_USAGE)
    with _open(workspace, create=True) as ws:
        for path in paths:
            _print_import(import_path(ws, path, include_non_ids=include_non_ids))
        if not no_match:
            _match(ws, workspace, out, ignore_validity, reporter)


@intel_app.command("list")
def list_(workspace: WorkspaceOption) -> None:
    """What the workspace's intel store holds: sources, and counts by object type and TLP."""
    with _open(workspace) as ws:
        summary = IntelStore(ws).summary()
    out = Console()
    sources = Table(title="Intel sources", title_justify="left")
    sources.add_column("name", ratio=1, min_width=20, overflow="fold")
    sources.add_column("kind", no_wrap=True)
    for column in ("indicators", "objects", "rejected"):
        sources.add_column(column, justify="right", no_wrap=True)
    sources.add_column("imported", no_wrap=True)
    for s in summary.sources:
        sources.add_row(
            f"{s.get('name') or ''}\n[dim]{s['path']}[/dim]",
            s["kind"],
            f"{s['indicators']:,}",
            f"{s['objects']:,}",
            f"{s['rejected']:,}",
            str(s["imported"])[:10],
        )
    out.print(sources)
    for title, counts in (("Objects by type", summary.types), ("Indicators by TLP", summary.tlp)):
        table = Table(title=title, title_justify="left")
        table.add_column("value")
        table.add_column("count", justify="right")
        for key, count in sorted(counts.items(), key=lambda kv: -kv[1]):
            table.add_row(key, f"{count:,}")
        out.print(table)


@intel_app.command("match")
def match(
    workspace: WorkspaceOption,
    out: OutOption = None,
    ignore_validity: IgnoreValidity = False,
    reporter: Reporter = DEFAULT_REPORTER,
    fail_on: FailOn = None,
) -> None:
    """Re-run every imported indicator against every event of the workspace.

    Writes intel-findings.jsonl (the format of 'seawall hunt') and sightings.json (a STIX
    2.1 bundle of sightings to share back, marked at least as strictly as each indicator).
    """
    with _open(workspace) as ws:
        findings = _match(ws, workspace, out, ignore_validity, reporter)
    exit_on_findings(findings, fail_on)


def _open(path: Path, create: bool = False) -> Workspace:
    if not create and not path.is_file():
        console.print(f"[red]error:[/red] workspace {path} does not exist (a hunt writes CASE_DIR/workspace.duckdb)")
        raise typer.Exit(EXIT_USAGE)
    try:
        return Workspace(path)
    except Exception as exc:  # a locked or foreign file: say so, no traceback
        console.print(f"[red]error:[/red] cannot open workspace {path}: {exc}")
        raise typer.Exit(EXIT_USAGE) from exc


def _match(ws: Workspace, workspace: Path, out: Path | None, ignore_validity: bool, reporter: str) -> list[Finding]:
    """Match, write the findings and sightings, print a summary; the findings."""
    ctx = HuntContext(ignore_validity=ignore_validity)
    try:
        findings = list(IntelDetector().run(ws, ctx))
    except SeawallError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_USAGE) from exc
    target = out or workspace.parent
    target.mkdir(parents=True, exist_ok=True)
    write_findings(target / "intel-findings.jsonl", findings)
    shared = write_sightings(target / "sightings.json", findings, reporter)
    for skipped in ctx.skipped:
        console.print(f"[yellow]not matched:[/yellow] {skipped.item}: {skipped.reason}")
    for note in ctx.notes:
        console.print(f"note: {note.reason}")
    result = Console()
    result.print(
        f"{ctx.ran.get('intel', 0):,} indicator(s) checked against {ws.count():,} event(s): {len(findings):,} matched"
    )
    for finding in findings[:MAX_REASONS_SHOWN]:
        result.print(f"  [{finding.severity}] {finding.title} ({finding.event_count:,} events)")
    result.print(f"Findings: {target / 'intel-findings.jsonl'}")
    if shared:
        result.print(f"Sightings: {target / 'sightings.json'}")
    return findings


def _print_import(report: ImportReport) -> None:
    out = Console()
    for path, why in report.skipped:
        console.print(f"[yellow]skipped:[/yellow] {path}: {why}")
    for source in report.sources:
        out.print(
            f"{source.path}: {source.kind} '{source.name or ''}': {source.indicators:,} indicators, "
            f"{source.objects:,} objects, {source.relationships:,} relationships, {source.rejected:,} rejected"
            + (" (replaced an earlier import)" if source.replaced else "")
        )
        for reason in source.reasons[:MAX_REASONS_SHOWN]:
            console.print(f"  [yellow]rejected:[/yellow] {reason}")
        if len(source.reasons) > MAX_REASONS_SHOWN:
            console.print(f"  ... and {len(source.reasons) - MAX_REASONS_SHOWN:,} more ('seawall intel list')")
        for note in source.notes:
            console.print(f"  note: {note}")
