"""Option checks shared by the command groups (hunt, audit, intel)."""

from __future__ import annotations

from typing import Annotated

import typer

from seawall.detect.finding import SEVERITIES, Finding, severity_rank

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2  # done; a finding at or above --fail-on; bad usage or content


def severity(value: str | None) -> str | None:
    """Typer callback for ``--fail-on``: one of the severity names, or nothing."""
    if value is not None and value not in SEVERITIES:
        raise typer.BadParameter(f"choose one of: {', '.join(SEVERITIES)}")
    return value


FailOn = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        callback=severity,
        metavar="SEVERITY",
        help="Exit with 1 when a finding has this severity or higher: " + ", ".join(SEVERITIES) + ".",
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or tables; errors still go to stderr.")]
IgnoreValidity = Annotated[
    bool, typer.Option("--ignore-validity", help="Match indicators outside their valid_from/valid_until window too.")
]


def exit_on_findings(findings: list[Finding], fail_on: str | None) -> None:
    """Exit with EXIT_FINDINGS when a finding has ``fail_on``'s severity or higher."""
    if fail_on and any(severity_rank(f.severity) >= severity_rank(fail_on) for f in findings):
        raise typer.Exit(EXIT_FINDINGS)
