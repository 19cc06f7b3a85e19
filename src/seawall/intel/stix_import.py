"""STIX 2.x bundles into the intel store, one object at a time.

Each object is checked on its own (stix2.parse with custom content allowed, and the
pattern of each STIX indicator with stix2-patterns), so a bad object becomes a reject
with its reason and place (``objects[17]``) and the rest of the bundle still imports.
Objects are stored as they came, custom properties and extensions included.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import orjson
import stix2
from stix2.registry import STIX2_OBJ_MAPS

from seawall.intel import markings
from seawall.intel.patterns import check
from seawall.intel.store import DEFAULT_SEVERITY, SEVERITIES, SourceBatch, to_json, to_timestamp

_ID = re.compile(
    r"([a-z0-9][a-z0-9-]*[a-z0-9]|[a-z0-9])--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_TECHNIQUE = re.compile(r"\b(TA\d{4}|T\d{4}(?:\.\d{3})?)\b")  # ATT&CK tactic or technique
_CVE = re.compile(r"\b(CVE-\d{4}-\d{4,})\b", re.I)
_NEW_TYPE_EXTENSIONS = {"new-sdo", "new-sco", "new-sro"}


def known_types(version: str) -> frozenset[str]:
    """STIX types the spec defines (objects, observables) for a spec version."""
    maps = STIX2_OBJ_MAPS.get(version, STIX2_OBJ_MAPS["2.1"])
    return frozenset(maps["objects"]) | frozenset(maps["observables"])


def read_bundle(path: Path) -> SourceBatch:
    """Read a STIX bundle file (never raises for bad content: problems become rejects)."""
    return parse_bundle(path.read_bytes(), str(path))


def parse_bundle(data: bytes | str, path: str = "<memory>") -> SourceBatch:
    """Turn a bundle's text into a SourceBatch: imported objects, indicators, relationships, rejects."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    digest = hashlib.sha256(raw).hexdigest()
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return _whole_file_rejected(SourceBatch("stix", path, digest, name=Path(path).name), f"not JSON: {exc}")
    return parse_document(doc, path, digest)


def is_stix(doc: Any) -> bool:
    """Whether a parsed JSON document is a STIX bundle, a STIX object or a list of them."""
    if isinstance(doc, dict):
        return doc.get("type") == "bundle" or (isinstance(doc.get("id"), str) and "--" in doc["id"] and "type" in doc)
    return isinstance(doc, list) and bool(doc) and all(isinstance(o, dict) and "type" in o and "id" in o for o in doc)


def parse_document(doc: Any, path: str, content_hash: str) -> SourceBatch:
    """The SourceBatch of an already parsed JSON document (the importer parses once to sniff)."""
    batch = SourceBatch("stix", path, content_hash, name=Path(path).name)
    if isinstance(doc, list) and doc and all(isinstance(o, dict) and "type" in o and "id" in o for o in doc):
        batch.notes.append("a JSON list of STIX objects, not a bundle: imported as a bundle")
        doc = {"type": "bundle", "objects": doc}
    if isinstance(doc, dict) and doc.get("type") != "bundle" and isinstance(doc.get("id"), str) and "type" in doc:
        batch.notes.append("a single STIX object, not a bundle: imported as a bundle of one")
        doc = {"type": "bundle", "objects": [doc]}
    if not isinstance(doc, dict) or doc.get("type") != "bundle":
        got = f"type {doc.get('type')!r}" if isinstance(doc, dict) else f"a JSON {type(doc).__name__}"
        return _whole_file_rejected(batch, f"not a STIX bundle ({got})")
    objects = doc.get("objects", [])
    if not isinstance(objects, list):
        batch.inputs = 1
        batch.reject("objects", f"'objects' is not a list (a JSON {type(objects).__name__})", doc.get("id"))
        return batch
    version = "2.0" if doc.get("spec_version") == "2.0" else "2.1"
    _import_objects(batch, objects, version)
    return batch


def _whole_file_rejected(batch: SourceBatch, reason: str) -> SourceBatch:
    batch.inputs = 1
    batch.reject("file", reason)
    return batch


def _import_objects(batch: SourceBatch, objects: list[Any], version: str) -> None:
    defined = {
        o["id"]: markings.describe(o)
        for o in objects
        if isinstance(o, dict)
        and o.get("type") == "marking-definition"
        and isinstance(o.get("id"), str)
        and _storable(o)
    }
    latest: dict[str, tuple[Any, int, tuple]] = {}  # id -> (modified, position, rows)
    batch.inputs = len(objects)
    types = known_types(version)
    for index, obj in enumerate(objects):
        location = f"objects[{index}]"
        reason = _problem(obj, types, version)
        if reason:
            batch.reject(location, reason, obj.get("id") if isinstance(obj, dict) else None)
            continue
        try:
            rows = _rows(obj, defined)
        except (TypeError, ValueError, orjson.JSONEncodeError) as exc:
            batch.reject(location, f"cannot be stored: {exc}", obj.get("id"))
            continue
        modified = rows[0]["modified"] or rows[0]["created"]
        previous = latest.get(obj["id"])
        if previous is not None:
            batch.ignored += 1  # an older (or equal) version of the same object
            if previous[0] is not None and (modified is None or modified < previous[0]):
                continue
        latest[obj["id"]] = (modified, index, rows)
    if batch.ignored:
        batch.notes.append(f"{batch.ignored} older version(s) of objects with the same id left out")
    reports = []
    for _, _, (obj_row, indicator, relationship) in sorted(latest.values(), key=lambda v: v[1]):
        batch.objects.append(obj_row)
        if indicator:
            batch.indicators.append(indicator)
        if relationship:
            batch.relationships.append(relationship)
        if obj_row["type"] == "report" and obj_row["name"]:
            reports.append(obj_row["name"])
    if reports:
        batch.name = reports[0] + (f" (+{len(reports) - 1} more reports)" if len(reports) > 1 else "")


def _problem(obj: Any, types: frozenset[str], version: str) -> str | None:
    """Why an object cannot be imported, or None."""
    if not isinstance(obj, dict):
        return f"not a JSON object (a JSON {type(obj).__name__})"
    kind, oid = obj.get("type"), obj.get("id")
    if not isinstance(kind, str) or not kind:
        return "no 'type'"
    if not isinstance(oid, str) or not oid:
        return "no 'id'"
    if not _ID.fullmatch(oid) or not oid.startswith(kind + "--"):
        return f"id {oid[:100]!r} is not '{kind}--' followed by a UUID"
    if kind == "bundle":
        return "a bundle inside a bundle"
    if kind not in types and not kind.startswith("x-") and not _defines_new_type(obj):
        return f"unknown STIX type {kind!r} (neither in the spec, custom 'x-', nor a new-object extension)"
    if kind == "indicator" and obj.get("pattern_type", "stix") == "stix":
        reason = check(obj.get("pattern"), obj.get("spec_version", version))
        if reason:
            return reason
    try:
        if "spec_version" in obj:
            stix2.parse(obj, allow_custom=True)
        else:
            stix2.parse(obj, allow_custom=True, version=version)
    except Exception as exc:  # stix2 raises many types; any of them is this object's reason
        return f"{type(exc).__name__}: {exc}"
    return None


def _storable(obj: dict[str, Any]) -> bool:
    try:
        to_json(obj)
    except (TypeError, ValueError, orjson.JSONEncodeError):
        return False
    return True


def _defines_new_type(obj: dict[str, Any]) -> bool:
    extensions = obj.get("extensions")
    return isinstance(extensions, dict) and any(
        isinstance(ext, dict) and ext.get("extension_type") in _NEW_TYPE_EXTENSIONS for ext in extensions.values()
    )


def _rows(obj: dict[str, Any], defined: dict[str, tuple[str | None, list[str]]]) -> tuple:
    """(object row, indicator row or None, relationship row or None) of a valid object."""
    kind = obj["type"]
    tlp, marks = _markings(obj, defined)
    name = obj.get("name") if isinstance(obj.get("name"), str) else None
    if kind == "marking-definition":
        tlp, marks = None, defined.get(obj["id"], (None, []))[1] or None
        name = name or ", ".join(marks or []) or None
    revoked = obj.get("revoked") is True
    row = {
        "id": obj["id"],
        "type": kind,
        "name": name,
        "created": to_timestamp(obj.get("created")),
        "modified": to_timestamp(obj.get("modified")),
        "revoked": revoked,
        "tlp": tlp,
        "markings": marks,
        "external_ids": external_ids(obj),
        "object": to_json(obj),
    }
    indicator = relationship = None
    if kind == "indicator":
        indicator = {
            "id": obj["id"],
            "name": name,
            "description": _text(obj.get("description")),
            "pattern": _text(obj.get("pattern")),
            "pattern_type": _text(obj.get("pattern_type")) or "stix",
            "valid_from": to_timestamp(obj.get("valid_from")),
            "valid_until": to_timestamp(obj.get("valid_until")),
            "revoked": revoked,
            "tlp": tlp,
            "markings": marks,
            "labels": _labels(obj),
            "confidence": _confidence(obj.get("confidence")),
            "severity": _severity(obj),
        }
    elif kind == "relationship":
        relationship = {
            "id": obj["id"],
            "source_ref": _text(obj.get("source_ref")),
            "relationship_type": _text(obj.get("relationship_type")),
            "target_ref": _text(obj.get("target_ref")),
        }
    return row, indicator, relationship


def _markings(obj: dict[str, Any], defined: dict[str, tuple[str | None, list[str]]]) -> tuple[str | None, list[str]]:
    """The object's marking ids with their labels, and the strictest TLP among them.

    Granular markings count too: an object with one TLP:RED property is not for sharing
    as a whole.
    """
    refs = [r for r in obj.get("object_marking_refs") or [] if isinstance(r, str)]
    for granular in obj.get("granular_markings") or []:
        if isinstance(granular, dict) and isinstance(granular.get("marking_ref"), str):
            refs.append(granular["marking_ref"])
    out: list[str] = []
    levels = []
    for ref in dict.fromkeys(refs):
        level, labels = defined.get(ref) or markings.KNOWN.get(ref, (None, ()))
        if isinstance(labels, str):
            labels = [labels]
        levels.append(level)
        out.extend([ref, *labels])
    return markings.strictest(levels), list(dict.fromkeys(out)) or None


def external_ids(obj: dict[str, Any]) -> list[str] | None:
    """ATT&CK technique ids, CVE ids and other external ids an object names."""
    found: list[str] = []
    for ref in obj.get("external_references") or []:
        if isinstance(ref, dict) and isinstance(ref.get("external_id"), str):
            found.append(ref["external_id"])
    name = obj.get("name")
    if isinstance(name, str):
        if obj.get("type") == "attack-pattern":
            found.extend(_TECHNIQUE.findall(name))
        found.extend(m.upper() for m in _CVE.findall(name))
    return list(dict.fromkeys(found)) or None


def _labels(obj: dict[str, Any]) -> list[str] | None:
    values = [v for key in ("labels", "indicator_types") for v in obj.get(key) or [] if isinstance(v, str)]
    return list(dict.fromkeys(values)) or None


def _confidence(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100 else None


def _severity(obj: dict[str, Any]) -> str:
    """A severity given as a custom property (as Seawall writes for list indicators), else the default."""
    value = obj.get("x_seawall_severity")
    return value if value in SEVERITIES else DEFAULT_SEVERITY


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
