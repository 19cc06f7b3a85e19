"""``seawall audit``: check router and switch configurations, and how they changed.

Registered in cli.py with ``app.command()(audit)``. Heavy imports happen inside the
command, so ``seawall --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from seawall.cli_options import EXIT_USAGE, FailOn, Quiet, exit_on_findings
from seawall.errors import SeawallError

if TYPE_CHECKING:
    from seawall.audit import AuditRequest, AuditResult

TOP_FINDINGS = 15
console = Console(stderr=True)


def _workers(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise typer.BadParameter("give at least 1")
    return value


def audit(
    config_dir: Annotated[
        Path,
        typer.Argument(
            metavar="CONFIG_DIR",
            help="Configurations: a folder of files (one per device), a folder per device holding dated "
            "snapshots (pe1/2024-06-01.cfg), a git repository (Oxidized, RANCID), or one file.",
        ),
    ],
    profile: Annotated[
        Path | None,
        typer.Option(
            "--profile",
            metavar="FILE",
            help="Site profile (YAML): management ranges, approved servers, tunnel peers, admins. "
            "Checks that need a declaration it lacks are reported 'not-evaluated'.",
        ),
    ] = None,
    checks: Annotated[
        Path | None,
        typer.Option(
            "--checks",
            metavar="FILE",
            help="Your own check catalog (YAML); with 'include_builtin: true' it adds to the built-in one.",
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", metavar="DIR", help="Folder to write findings.jsonl, audit.json and audit.html into."
        ),
    ] = Path("seawall-audit"),
    fail_on: FailOn = None,
    quiet: Quiet = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            metavar="N",
            callback=_workers,
            help="Processes to audit with when there are 50 devices or more (default: one per CPU).",
        ),
    ] = None,
) -> None:
    """Audit device configurations: compromise indicators, hardening, and drift between snapshots.

    Every file is parsed (IOS/IOS XE, NX-OS, IOS XR, Junos, EOS, ASA); a file that is not a configuration is listed as rejected, never fatal. The check catalog runs on each device's latest snapshot; consecutive snapshots are compared, and each indicator is dated by the snapshot where it first appears.

    Exit codes: 0 done, 1 a finding at or above --fail-on, 2 bad usage, an invalid profile or catalog, or no configuration found.

    Example: [bold]seawall audit ./oxidized-repo --profile site-profile.yaml --out ./audit --fail-on high[/bold]
    """
    from seawall.audit import AuditRequest

    for label, path in (("configuration", config_dir), ("profile", profile), ("checks", checks)):
        if path is not None and not path.exists():
            console.print(f"[red]error:[/red] {label} path {escape(str(path))} does not exist")
            raise typer.Exit(EXIT_USAGE)
    request = AuditRequest(configs=config_dir, out=out, profile=profile, checks=checks, workers=workers)
    try:
        result = _run_with_progress(request, quiet)
    except SeawallError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_USAGE) from exc
    if not quiet:
        print_summary(result)
        print(f"Report: {result.outputs['audit.html']}")
    exit_on_findings(result.findings, fail_on)


def _run_with_progress(request: AuditRequest, quiet: bool) -> AuditResult:
    """Run the audit; unless quiet, one progress bar over the devices."""
    from seawall.audit import AuditHooks, run_audit

    if quiet:
        return run_audit(request)
    progress = Progress(
        TextColumn("[bold blue]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    with progress:
        task = progress.add_task("finding configurations", total=None)

        def on_start(total: int) -> None:
            progress.update(task, description="auditing devices", total=total)

        def on_device(device: object) -> None:
            progress.advance(task)

        def on_stage(stage: str) -> None:
            if stage == "report":
                progress.update(task, description="writing the report")

        return run_audit(request, AuditHooks(on_start=on_start, on_device=on_device, on_stage=on_stage))


def print_summary(result: AuditResult) -> None:
    """The device table, the top findings, and where the outputs are."""
    from seawall.report.audit import device_counts, kinds

    out = Console()
    kind_of = kinds(result.catalog)
    table = Table(title=f"Devices ({len(result.devices)})", title_justify="left")
    for column in ("device", "platform", "status", "compromise", "hardening failed", "drift changes"):
        table.add_column(column, justify="left" if column in ("device", "platform", "status") else "right")
    colour = {"parsed": "green", "partial": "yellow", "rejected": "red"}
    for device in sorted(result.devices, key=lambda d: d.key):
        counts = device_counts(device, kind_of)
        status = f"[{colour.get(device.status, 'white')}]{device.status}[/]"
        if device.error:
            status += " [red]error[/]"
        compromise = counts["compromise_failed"]
        table.add_row(
            escape(device.name)
            if device.name == device.key
            else f"{escape(device.name)} [dim]({escape(device.key)})[/]",
            device.platform or "—",
            status,
            f"[bold red]{compromise}[/]" if compromise else "0",
            f"{counts['hardening_failed']}/{counts['hardening_evaluated']}",
            f"{counts['drift_changes']} (+{counts['lines_added']}/-{counts['lines_removed']})"
            if device.drifts
            else "—",
        )
    out.print(table)
    for device in result.devices:
        for snap in device.snapshots:
            if snap.status != "parsed":
                out.print(f"[yellow]{snap.status}[/yellow] {escape(snap.source)}: {escape(snap.reason or '')}")
        if device.error:
            out.print(f"[red]error[/red] {escape(device.key)}: checks could not run: {escape(device.error)}")
    top = Table(title=f"Findings ({len(result.findings)})", title_justify="left")
    for column in ("severity", "device", "check", "title", "first line"):
        top.add_column(column)
    for f in result.findings[:TOP_FINDINGS]:
        first = next((e for e in f.evidence if e.line is not None), None)
        top.add_row(
            f.severity,
            escape(", ".join(f.entities.get("host", []))),
            f.rule_id,
            escape(f.title),
            escape(f"{first.line}: {first.text.strip()}") if first and first.text else "—",
        )
    out.print(top)
    if len(result.findings) > TOP_FINDINGS:
        out.print(
            f"... and {len(result.findings) - TOP_FINDINGS} more in {escape(str(result.outputs['findings.jsonl']))}"
        )
    if result.skipped:
        out.print(f"Skipped {len(result.skipped)} file(s) (listed in audit.json)")
    if result.request.profile is None:
        unevaluated = sum(device_counts(d, kind_of)["not_evaluated"] for d in result.devices if d.status != "rejected")
        if unevaluated:
            out.print(
                f"note: no --profile: {unevaluated} check result(s) that compare with the site's declarations "
                "(management ranges, approved servers, tunnel peers, admins) were not evaluated"
            )
    out.print(
        f"Findings: {escape(str(result.outputs['findings.jsonl']))}  Per device: {escape(str(result.outputs['audit.json']))}"
    )
