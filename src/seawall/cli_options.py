"""Option checks shared by the command groups (hunt, audit, intel)."""

from __future__ import annotations

import typer

from seawall.detect.finding import SEVERITIES


def severity(value: str | None) -> str | None:
    """Typer callback for ``--fail-on``: one of the severity names, or nothing."""
    if value is not None and value not in SEVERITIES:
        raise typer.BadParameter(f"choose one of: {', '.join(SEVERITIES)}")
    return value
