"""The Finding: what a detector says it saw, in a form a person can check and a machine can route."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

SEVERITIES = ("informational", "low", "medium", "high", "critical")


def severity_rank(severity: str) -> int:
    """Position in SEVERITIES (informational=0 ... critical=4); unknown names rank lowest."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


@dataclass(frozen=True)
class Evidence:
    """One place to look: an event (id, file, byte offset, line) or a line of a file."""

    path: str
    line: int | None = None
    offset: int | None = None
    event_id: str | None = None
    timestamp: str | None = None
    text: str | None = None


@dataclass
class Finding:
    rule_id: str
    title: str
    severity: str
    detector: str
    description: str = ""
    techniques: list[str] = field(default_factory=list)
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None
    entities: dict[str, list[str]] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    event_count: int = 0
    references: list[str] = field(default_factory=list)
    truncated_entities: dict[str, int] = field(default_factory=dict)  # kind -> distinct values, where cut
    id: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")
        if not self.id:
            self.id = self.stable_id()

    def stable_id(self) -> str:
        """Same rule, same entities, same first event: same id, run after run."""
        first = self.evidence[0].event_id or f"{self.evidence[0].path}:{self.evidence[0].line}" if self.evidence else ""
        basis = "|".join([self.rule_id, repr(sorted(self.entities.items())), first])
        return "F-" + hashlib.sha256(basis.encode()).hexdigest()[:16]

    def entity_values(self) -> set[tuple[str, str]]:
        return {(kind, value) for kind, values in self.entities.items() for value in values}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["first_seen"] = iso_utc(self.first_seen)
        data["last_seen"] = iso_utc(self.last_seen)
        data["evidence"] = [{k: v for k, v in asdict(e).items() if v is not None} for e in self.evidence]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        data = dict(data)
        data["first_seen"] = _parse(data.get("first_seen"))
        data["last_seen"] = _parse(data.get("last_seen"))
        data["evidence"] = [Evidence(**e) for e in data.get("evidence", [])]
        return cls(**data)


def iso_utc(value: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with a 'Z', the one timestamp form of every output file."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parse(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
