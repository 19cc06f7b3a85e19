"""``seawall intel import PATH``: recognise what each file is and store it.

Kinds are told apart by content, not by name: a JSON document is a STIX bundle or a
MISP event by its structure, a directory with ``manifest.json`` is a MISP feed, text is
CSV when its first value row has a comma. Names only decide which files of a directory
are looked at at all (README.md is not intel). Each source is stored in its own
transaction; what could not be imported is reported with its reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seawall.intel import lists, misp_import, stix_import
from seawall.intel.store import IntelStore, SourceBatch, StoredSource
from seawall.store.workspace import Workspace

# Files of a directory that are looked at (any file named explicitly is sniffed).
INTEL_SUFFIXES = {".json", ".stix", ".misp", ".csv", ".txt", ".ioc", ".iocs", ".lst", ".list"}
_SNIFF_BYTES = 4096
_PREFIX_STIX = re.compile(rb'"type"\s*:\s*"bundle"')
_PREFIX_MISP = re.compile(rb'"(Event|response|Attribute)"\s*:')


@dataclass(frozen=True)
class SourceReport:
    """What one source contributed: counts, and the reason for each rejected unit."""

    source_id: str
    kind: str
    path: str
    name: str | None
    inputs: int  # units read: STIX objects, MISP events/objects/attributes, list rows
    objects: int
    indicators: int
    relationships: int
    rejected: int
    ignored: int  # MISP 'deleted', duplicate list values, superseded STIX versions
    derived: int  # objects made from others (galaxy clusters)
    reasons: list[str] = field(default_factory=list)  # "<location>: <reason>"
    notes: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # source ids of earlier versions removed


@dataclass
class ImportReport:
    """Everything one ``import_path`` did."""

    sources: list[SourceReport] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why it is not intel)
    seconds: float = 0.0

    @property
    def objects(self) -> int:
        return sum(s.objects for s in self.sources)

    @property
    def indicators(self) -> int:
        return sum(s.indicators for s in self.sources)

    @property
    def rejected(self) -> int:
        return sum(s.rejected for s in self.sources)


def import_path(
    workspace: Workspace, path: Path | str, include_non_ids: bool = False, now: dt.datetime | None = None
) -> ImportReport:
    """Import a STIX bundle, MISP event, MISP feed directory, CSV or TXT list, or a directory of them.

    ``include_non_ids`` also makes indicators of MISP attributes not marked to_ids.
    Raises FileNotFoundError when ``path`` does not exist; bad content never raises.
    """
    started = time.perf_counter()
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    store = IntelStore(workspace)
    report = ImportReport()
    batches = read_path(path.resolve(), report.skipped, include_non_ids)
    # The sources of one file are replaced together: a file of several MISP events must not
    # have its second event take the first for an older version of the file.
    for _, group in itertools.groupby(batches, key=lambda b: (b.kind, b.path)):
        group = list(group)
        for batch, stored in zip(group, store.replace_sources(group, now), strict=True):
            report.sources.append(_source_report(batch, stored))
    report.seconds = time.perf_counter() - started
    return report


def _source_report(batch: SourceBatch, stored: StoredSource) -> SourceReport:
    return SourceReport(
        source_id=stored.source_id,
        kind=batch.kind,
        path=batch.path,
        name=batch.name,
        inputs=batch.inputs,
        objects=stored.objects,
        indicators=stored.indicators,
        relationships=len(batch.relationships),
        rejected=stored.rejected,
        ignored=batch.ignored,
        derived=batch.derived,
        reasons=[f"{r['location']}: {r['reason']}" for r in batch.rejects],
        notes=list(batch.notes),
        replaced=stored.replaced,
    )


def read_path(path: Path, skipped: list[tuple[str, str]], include_non_ids: bool = False) -> list[SourceBatch]:
    """SourceBatches of a file or directory (without storing them); unrecognised files go to ``skipped``."""
    if path.is_dir():
        if (path / "manifest.json").is_file():
            return misp_import.read_feed(path, include_non_ids)
        batches: list[SourceBatch] = []
        for entry in sorted(path.iterdir()):
            if entry.name.startswith("."):
                continue
            if entry.is_dir() or entry.suffix.lower() in INTEL_SUFFIXES:
                batches.extend(read_path(entry, skipped, include_non_ids))
            else:
                skipped.append((str(entry), "not an intel file by its name (suffix)"))
        return batches
    try:
        data = path.read_bytes()
    except OSError as exc:
        skipped.append((str(path), f"cannot read: {exc}"))
        return []
    return read_bytes(path, data, skipped, include_non_ids)


def read_bytes(
    path: Path, data: bytes, skipped: list[tuple[str, str]], include_non_ids: bool = False
) -> list[SourceBatch]:
    """SourceBatches of one file's content, its kind told by sniffing."""
    head = data[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        skipped.append((str(path), "empty file"))
        return []
    if head[:1] in (b"{", b"["):
        return _json(path, data, head, skipped, include_non_ids)
    if b"\0" in head:
        skipped.append((str(path), "binary content, not an indicator list"))
        return []
    text = data.decode("utf-8-sig", errors="replace")
    digest = hashlib.sha256(data).hexdigest()
    if _looks_like_csv(path, text):
        return [lists.read_csv(path, text, digest)]
    return [lists.read_txt(path, text, digest)]


def _json(
    path: Path, data: bytes, head: bytes, skipped: list[tuple[str, str]], include_non_ids: bool
) -> list[SourceBatch]:
    digest = hashlib.sha256(data).hexdigest()
    try:
        doc: Any = json.loads(data)
    except (ValueError, RecursionError):
        # Broken JSON still goes to the importer it was meant for, which records why.
        if _PREFIX_STIX.search(head) or "stix" in path.name.lower():
            return [stix_import.parse_bundle(data, str(path))]
        if _PREFIX_MISP.search(head):
            return misp_import.parse_events(data, str(path), include_non_ids)
        skipped.append((str(path), "not valid JSON, and nothing marks it as STIX or MISP"))
        return []
    if stix_import.is_stix(doc):
        return [stix_import.parse_document(doc, str(path), digest)]
    if misp_import.is_misp(doc):
        return misp_import.parse_document(doc, str(path), digest, include_non_ids)
    skipped.append((str(path), "JSON, but neither a STIX bundle nor a MISP event"))
    return []


def _looks_like_csv(path: Path, text: str) -> bool:
    """CSV by name, or when the first value line reads ``value,type...`` with a type (or none) second.

    Checking the second field keeps a plain list whose first URL has a comma a list.
    """
    if path.suffix.lower() == ".csv":
        return True
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            if "," not in stripped:
                return False
            cells = stripped.split(",")
            second = cells[1].strip().lower()
            return second == "" or second in lists.ALIASES or lists.header(cells) is not None
    return False
