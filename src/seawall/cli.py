"""The ``seawall`` command line."""

from __future__ import annotations

import datetime as dt
import sys
import zoneinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn
from rich.table import Table

from seawall import __version__
from seawall.cli_audit import audit
from seawall.cli_intel import intel_app
from seawall.cli_options import EXIT_USAGE, FailOn, IgnoreValidity, Quiet, exit_on_findings
from seawall.cli_serve import serve_app
from seawall.detect.finding import severity_rank
from seawall.errors import SeawallError

if TYPE_CHECKING:  # imported lazily at run time: `seawall --help` should not load DuckDB and Ibis
    from seawall.hunt import HuntRequest, HuntResult

app = typer.Typer(
    name="seawall",
    help=(
        "Find state-sponsored intrusions in communications infrastructure, work out who and what "
        "was touched, and hand over the evidence.\n\n"
        "Start with [bold]seawall demo[/bold] to hunt a bundled example, then "
        "[bold]seawall hunt EVIDENCE_DIR --out CASE_DIR[/bold] on your own evidence."
    ),
    rich_markup_mode="rich",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(serve_app, name="serve")
app.add_typer(intel_app, name="intel")
app.command()(audit)
console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        print(f"seawall {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Seawall: hunt, scope, notify, share."""


def _format(value: str | None) -> str | None:
    from seawall.sources import formats

    if value is not None and value not in formats():
        raise typer.BadParameter(f"choose one of: {', '.join(sorted(formats()))}")
    return value


def _zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise typer.BadParameter(f"unknown time zone {value!r}; give an IANA name such as UTC or Europe/Paris") from exc
    return value


@app.command()
def hunt(
    evidence: Annotated[
        Path,
        typer.Argument(
            metavar="EVIDENCE", help="Folder (or single file) of evidence; searched recursively, .gz read as is."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            metavar="CASE_DIR",
            help="Case directory to write findings.jsonl, scope.json, case.json, run.json and report.html into.",
        ),
    ],
    registry: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Protected people and organisations: CSV (organisation,person,role,msisdn,imsi,email,notify_email) or YAML.",
        ),
    ] = None,
    rules: Annotated[
        list[Path] | None,
        typer.Option(
            "--rules",
            metavar="PATH",
            help="Extra Sigma rule file or folder (repeatable). Seawall's own rules always run.",
        ),
    ] = None,
    intel: Annotated[
        list[Path] | None,
        typer.Option(
            "--intel",
            metavar="FILE",
            help="Threat intelligence to match (repeatable): a STIX 2.1 bundle, a MISP event or feed folder, "
            "or a list (CSV value,type[,tags[,severity]] or one value per line). Imported into the workspace.",
        ),
    ] = None,
    ignore_validity: IgnoreValidity = False,
    profile: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Site profile (YAML): management ranges, approved AAA/syslog/NTP/SNMP servers, tunnel peers, "
            "approved admins. Configuration checks that need one are reported as not evaluated without it.",
        ),
    ] = None,
    logsources: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Your own Sigma logsource mapping (YAML) instead of the built-in one."),
    ] = None,
    silence: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Your own thresholds for the silence detector (a copy of content/silence.yaml, changed).",
        ),
    ] = None,
    workspace: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="DuckDB workspace to keep events in across hunts (default: a fresh CASE_DIR/workspace.duckdb).",
        ),
    ] = None,
    year: Annotated[
        int | None,
        typer.Option(
            metavar="YEAR",
            help="Year for timestamps that have none (RFC 3164, device clocks). Default: from each file's "
            "modification time (the year before when that would put a time more than a day later).",
        ),
    ] = None,
    timezone: Annotated[
        str,
        typer.Option(
            metavar="ZONE",
            callback=_zone,
            help="Time zone (IANA name, e.g. Europe/Paris) of clocks that print none: BSD syslog headers and "
            "device clocks without a zone. Device clocks that print a known zone (UTC, CET, PDT...) keep theirs.",
        ),
    ] = "UTC",
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="FORMAT",
            callback=_format,
            help="Read every file as this format instead of recognising it (see 'seawall formats').",
        ),
    ] = None,
    fail_on: FailOn = None,
    quiet: Quiet = False,
) -> None:
    """Ingest EVIDENCE, run every detector, scope the case and write the report.

    Exit codes: 0 done, 1 a finding at or above --fail-on, 2 bad usage, invalid content
    (registry, rules, indicator list) or no evidence that could be read.

    Example: [bold]seawall hunt ./evidence --registry people.csv --intel iocs.csv --out ./case-42[/bold]
    """
    from seawall.hunt import HuntRequest

    if not evidence.exists():
        console.print(f"[red]error:[/red] evidence path {evidence} does not exist")
        raise typer.Exit(EXIT_USAGE)
    for label, path in [
        ("registry", registry),
        ("logsources", logsources),
        ("silence", silence),
        ("profile", profile),
        *[("intel", p) for p in intel or []],
        *[("rules", p) for p in rules or []],
    ]:
        if path is not None and not path.exists():
            console.print(f"[red]error:[/red] {label} file {path} does not exist")
            raise typer.Exit(EXIT_USAGE)
    reference = dt.datetime(year, 12, 31, 23, 59, 59, tzinfo=dt.UTC) if year else None
    request = HuntRequest(
        evidence=evidence,
        out=out,
        registry=registry,
        rules=list(rules or []),
        intel=list(intel or []),
        logsources=logsources,
        silence=silence,
        profile=profile,
        ignore_validity=ignore_validity,
        workspace=workspace,
        reference_time=reference,
        timezone=timezone,
        forced_format=fmt,
    )
    try:
        result = _run_with_progress(request, quiet)
    except SeawallError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_USAGE) from exc
    if not quiet:
        _print_summary(result)
        print(f"Report: {result.outputs['report.html']}")
    if result.events_stored == 0:
        console.print(f"[red]error:[/red] no evidence could be read from {evidence} (see {result.outputs['run.json']})")
        raise typer.Exit(EXIT_USAGE)
    exit_on_findings(result.findings, fail_on)


def _run_with_progress(request: HuntRequest, quiet: bool) -> HuntResult:
    """Run the hunt; unless quiet, show one progress bar over the bytes of all evidence files."""
    from seawall.hunt import HuntHooks, hunt_files, run_hunt

    if quiet:
        return run_hunt(request)
    progress = Progress(
        TextColumn("[bold blue]{task.description}", justify="left"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    total = sum(path.stat().st_size for path in hunt_files(request) if path.is_file()) or 1
    done = {"before": 0, "current": 0}
    with progress:
        task = progress.add_task("reading evidence", total=total)

        def on_file(path: Path, size: int) -> None:
            done["before"] += done["current"]
            done["current"] = size
            progress.update(task, description=f"reading {path.name}", completed=done["before"])

        def on_progress(position: int) -> None:
            progress.update(task, completed=done["before"] + min(position, done["current"]))

        def on_stage(stage: str) -> None:
            label = f"detecting ({stage.split(':', 1)[1]})" if stage.startswith("detect:") else f"{stage}..."
            if stage != "ingest":
                progress.update(task, description=label, completed=total)

        return run_hunt(request, HuntHooks(on_file=on_file, on_progress=on_progress, on_stage=on_stage))


def _print_summary(result: HuntResult) -> None:
    out = Console()
    files = Table(title="Evidence read", title_justify="left")
    for column in ("format", "files", "records read", "events", "quarantined", "errors"):
        files.add_column(column, justify="right" if column != "format" else "left")
    for fmt, row in sorted(result.ingest.by_format().items()):
        files.add_row(fmt, *(str(row[k]) for k in ("files", "read", "parsed", "quarantined", "errors")))
    out.print(files)
    for f in result.ingest.errors:
        out.print(f"[yellow]warning:[/yellow] {f.error}")
    for f in result.ingest.files:
        for note in f.notes:
            out.print(f"note: {f.path}: {note}")
    for f in result.ingest.files:
        if f.quarantined:
            out.print(
                f"[yellow]quarantined[/yellow] {f.quarantined} of {f.read} records in {f.path} (see run.json and the workspace's quarantine table)"
            )

    findings = Table(title=f"Findings ({len(result.findings)})", title_justify="left")
    for column in ("severity", "title", "hosts", "events", "first seen"):
        findings.add_column(column)
    for f in sorted(result.findings, key=lambda f: -severity_rank(f.severity))[:20]:
        findings.add_row(
            f.severity,
            f.title,
            ", ".join(f.entities.get("host", [])[:3]),
            str(f.event_count),
            f.first_seen.strftime("%Y-%m-%d %H:%M:%S") if f.first_seen else "—",
        )
    out.print(findings)
    if len(result.findings) > 20:
        out.print(f"... and {len(result.findings) - 20} more in findings.jsonl")

    scope = result.case.scope
    if scope["organisations"]:
        touched = Table(title="Affected parties", title_justify="left")
        for column in ("organisation", "person", "identifiers seen", "seen by"):
            touched.add_column(column)
        titles = {f.rule_id: f.title for f in result.findings}
        for org in scope["organisations"]:
            for person in [*org["people"], *([{"name": "(organisation)", **org}] if org.get("identifiers") else [])]:
                via = "; ".join(titles.get(rule, rule) for rule in person["via"])
                touched.add_row(org["name"], person["name"], ", ".join(person["identifiers"]), via)
        out.print(touched)
    skipped = len(result.skipped)
    ran = ", ".join(f"{k}: {v}" for k, v in sorted(result.ran.items())) or "nothing"
    out.print(f"Detection content run: {ran}; skipped {skipped} (reasons in run.json)")
    for warning in result.warnings:
        out.print(f"[yellow]warning:[/yellow] {warning}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the demo evidence and its case.")] = Path(
        "seawall-demo"
    ),
    quiet: Quiet = False,
) -> None:
    """Write a fictional operator's evidence with a planted intrusion, then hunt it.

    Creates OUT/evidence (router and jump-host syslog, the edge router's configuration
    before and after the breach, call-record audit, mail gateway log), OUT/registry.csv
    (a campaign and a ministry), OUT/intel.csv, OUT/site-profile.yaml, and the case in OUT/case.
    """
    from seawall.demo import write_demo
    from seawall.hunt import HuntRequest

    kit = write_demo(out)
    request = HuntRequest(
        evidence=kit.evidence,
        out=kit.case,
        registry=kit.registry,
        intel=[kit.intel],
        profile=kit.profile,
        reference_time=kit.reference_time,
    )
    try:
        result = _run_with_progress(request, quiet)
    except SeawallError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_USAGE) from exc
    if not quiet:
        _print_summary(result)
    print(f"Demo report: {result.outputs['report.html']}")


@app.command()
def formats() -> None:
    """List the evidence formats Seawall recognises."""
    from seawall.sources import formats as registered

    table = Table("format", "description")
    for name, fmt in sorted(registered().items()):
        table.add_row(name, fmt.description)
    Console().print(table)


@app.command()
def export(
    workspace: Annotated[Path, typer.Argument(help="A workspace.duckdb written by 'seawall hunt'.")],
    parquet: Annotated[
        Path, typer.Option("--parquet", help="Folder for events.parquet, quarantine.parquet and files.parquet.")
    ],
) -> None:
    """Export a workspace's tables to Parquet for other tools (Spark, pandas, DuckDB)."""
    import duckdb

    from seawall.store import Workspace

    if not workspace.is_file():
        console.print(f"[red]error:[/red] workspace {workspace} does not exist")
        raise typer.Exit(EXIT_USAGE)
    try:
        with Workspace(workspace) as ws:
            for path in ws.export_parquet(parquet):
                print(path)
    except duckdb.Error as exc:
        console.print(f"[red]error:[/red] {workspace} is not a readable Seawall workspace: {exc}")
        raise typer.Exit(EXIT_USAGE) from exc


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
