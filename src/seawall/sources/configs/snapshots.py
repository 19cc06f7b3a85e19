"""When a configuration snapshot was taken, from its file name, and its text, read late.

Backups name snapshots by date (``pe1-nyc/2024-06-01.cfg``, ``20240601-0300.txt``,
``2024-06-01T05:00+02:00.cfg``); ``seawall hunt`` and ``seawall audit`` read those names
with this one rule.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from seawall.errors import EvidenceError
from seawall.sources.configs import decode

_DATE = re.compile(  # 2024-06-01, 20240601, then optionally T0300, _03:00:15, -0300, then a zone
    r"^(?P<y>\d{4})-?(?P<mo>\d{2})-?(?P<d>\d{2})"
    r"(?:[T_ -]?(?P<h>\d{2})[:h-]?(?P<mi>\d{2})(?:[:-]?(?P<s>\d{2}))?(?:\.\d+)?(?P<tz>Z|[+-]\d{2}:?\d{2})?)?"
    r"(?=$|[._ -])"
)


def snapshot_date(name: str) -> dt.datetime | None:
    """The date a snapshot's file name starts with, in UTC (a name without zone is UTC)."""
    match = _DATE.match(name)
    if not match:
        return None
    parts = {k: int(v) if v and k != "tz" else v for k, v in match.groupdict().items()}
    tz = dt.UTC
    if parts["tz"] and parts["tz"] != "Z":
        sign = -1 if parts["tz"][0] == "-" else 1
        digits = parts["tz"][1:].replace(":", "")
        tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        value = dt.datetime(
            parts["y"], parts["mo"], parts["d"], parts["h"] or 0, parts["mi"] or 0, parts["s"] or 0, tzinfo=tz
        )
    except ValueError:
        return None
    return value.astimezone(dt.UTC)


@dataclass(frozen=True)
class FileText:
    """Reads a snapshot file when asked (a class, not a closure: snapshots cross process pools)."""

    path: Path

    def __call__(self) -> str:
        try:
            return decode(self.path.read_bytes())
        except OSError as exc:
            raise EvidenceError(f"{self.path}: cannot read snapshot: {exc}") from exc
