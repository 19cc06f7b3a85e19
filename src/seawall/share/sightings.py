"""STIX 2.1 sightings of the indicators a hunt matched, for the advisory's authors and peers.

Each intel finding (rule id = the indicator's STIX id) becomes one ``sighting``: which
indicator, seen how often, first and last, where (the reporting organisation's
identity). A sighting is marked at least as restrictively as its indicator (TLP 2.0),
never less: it tells who saw what, which can say more than the indicator itself.
Evidence stays in the case folder; no observed-data is shared.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import stix2

from seawall.detect.finding import Finding
from seawall.intel.markings import KNOWN, TLP2_EXTENSION, strictest, tlp_level

_NAMESPACE = uuid.UUID("9b1c8f0e-3e0e-5a43-8e0b-5f2c4d6a7b10")  # Seawall's namespace for shared objects
_INDICATOR_ID = re.compile(r"indicator--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TLP1 = {m.id for m in (stix2.TLP_WHITE, stix2.TLP_GREEN, stix2.TLP_AMBER, stix2.TLP_RED)}
# TLP 2.0 level -> its marking-definition id (fixed by the OASIS TLP 2.0 extension)
TLP2_IDS = {level: mid for mid, (level, _) in KNOWN.items() if mid not in _TLP1}
MAX_COUNT = 999_999_999  # the largest count STIX allows
DEFAULT_REPORTER = "Seawall user"  # the 'where sighted' identity when the user names none


def tlp_marking(level: str) -> stix2.MarkingDefinition:
    """The TLP 2.0 marking-definition object of a level (clear, green, amber, amber+strict, red)."""
    return stix2.MarkingDefinition(
        id=TLP2_IDS[level],
        created="2022-10-01T00:00:00.000Z",
        name=f"TLP:{level.upper()}",
        extensions={TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}},
    )


def identity(name: str) -> stix2.Identity:
    """The reporting organisation; the same name gives the same id, run after run."""
    return stix2.Identity(
        id=f"identity--{uuid.uuid5(_NAMESPACE, 'identity:' + name)}",
        name=name,
        identity_class="organization",
        created="2020-01-01T00:00:00.000Z",
        modified="2020-01-01T00:00:00.000Z",
    )


def sightings(
    findings: Iterable[Finding],
    reporter: stix2.Identity,
    default_tlp: str | None = "amber",
    created: dt.datetime | None = None,
) -> list[stix2.Sighting]:
    """One sighting per intel finding whose rule id is a STIX indicator id (others are not
    sightings of an indicator and are left out).

    The marking is the stricter of the finding's TLP (entities["tlp"]) and ``default_tlp``.
    """
    created = created or dt.datetime.now(dt.UTC)
    out = []
    for finding in sightings_of(findings):
        level = strictest([tlp_level(t) for t in finding.entities.get("tlp", [])] + [tlp_level(default_tlp)])
        fields: dict[str, Any] = {
            "id": f"sighting--{uuid.uuid5(_NAMESPACE, f'sighting:{reporter.id}:{finding.id}')}",
            "created": created,
            "modified": created,
            "created_by_ref": reporter.id,
            "sighting_of_ref": finding.rule_id,
            "where_sighted_refs": [reporter.id],
            "count": min(max(finding.event_count, 0), MAX_COUNT),
            "description": finding.title,
        }
        if finding.first_seen is not None:
            fields["first_seen"] = finding.first_seen
        if finding.last_seen is not None:
            fields["last_seen"] = finding.last_seen
        if level is not None:
            fields["object_marking_refs"] = [TLP2_IDS[level]]
        out.append(stix2.Sighting(**fields))
    return out


def sightings_of(findings: Iterable[Finding]) -> Iterator[Finding]:
    """The findings that are sightings of a STIX indicator (intel findings named by its id)."""
    return (f for f in findings if f.detector == "intel" and _INDICATOR_ID.fullmatch(f.rule_id))


def sightings_bundle(
    findings: Iterable[Finding],
    identity_name: str,
    default_tlp: str | None = "amber",
    created: dt.datetime | None = None,
) -> dict[str, Any]:
    """A STIX 2.1 bundle (as JSON-ready data): the reporter's identity, the TLP marking
    definitions the sightings use, and the sightings."""
    reporter = identity(identity_name)
    found = sightings(findings, reporter, default_tlp, created)
    levels = sorted({ref for s in found for ref in s.get("object_marking_refs", [])})
    markings = [tlp_marking(level) for level, mid in TLP2_IDS.items() if mid in levels]
    bundle = stix2.Bundle(objects=[reporter, *markings, *found])
    return json.loads(bundle.serialize())
