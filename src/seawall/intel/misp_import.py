"""MISP events and feeds into the intel store, read as plain JSON (no PyMISP needed).

An event becomes a 'report' object; each attribute an object, and an indicator with a
STIX pattern when MISP marks it for detection (``to_ids``). Galaxy clusters and
``misp-galaxy:`` tags become attack-pattern, malware, intrusion-set ... objects that the
event's indicators 'indicate', so attribution reads the same as for STIX. Tags
``tlp:*`` set the TLP level; other tags become labels.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from seawall.intel import markings
from seawall.intel.misp_patterns import attribute_pattern
from seawall.intel.patterns import check, derived_id
from seawall.intel.store import DEFAULT_SEVERITY, SourceBatch, to_json, to_timestamp

THREAT_LEVELS = {"1": "high", "2": "medium", "3": "low", "4": DEFAULT_SEVERITY}
# galaxy type -> STIX type of its clusters (other galaxies: a custom object, 'related-to')
GALAXY_TYPES = {
    "mitre-attack-pattern": "attack-pattern",
    "mitre-ics-techniques": "attack-pattern",
    "mitre-malware": "malware",
    "malpedia": "malware",
    "ransomware": "malware",
    "rat": "malware",
    "backdoor": "malware",
    "botnet": "malware",
    "stealer": "malware",
    "mitre-tool": "tool",
    "tool": "tool",
    "threat-actor": "threat-actor",
    "microsoft-activity-group": "intrusion-set",
    "mitre-intrusion-set": "intrusion-set",
}
_INDICATES = {"attack-pattern", "malware", "tool", "threat-actor", "intrusion-set", "campaign", "infrastructure"}
_GALAXY_TAG = re.compile(r'misp-galaxy:([^=]+)="(.*)"\s*$', re.S)
_TECHNIQUE = re.compile(r"\b(TA\d{4}|T\d{4}(?:\.\d{3})?)\b")  # ATT&CK tactic or technique
_CVE = re.compile(r"\b(CVE-\d{4}-\d{4,})\b", re.I)
_TRUE = {"1", "true", "yes"}


# ------------------------------------------------------------------------- files
def read_event_file(path: Path, include_non_ids: bool = False, kind: str = "misp-event") -> list[SourceBatch]:
    """Read a MISP event file (one event, or a REST ``response`` list of them)."""
    return parse_events(path.read_bytes(), str(path), include_non_ids, kind)


def parse_events(
    data: bytes | str, path: str = "<memory>", include_non_ids: bool = False, kind: str = "misp-event"
) -> list[SourceBatch]:
    """One SourceBatch per event in a MISP JSON document; problems become rejects, never exceptions."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    digest = hashlib.sha256(raw).hexdigest()
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return [_rejected(kind, path, digest, f"not JSON: {exc}")]
    return parse_document(doc, path, digest, include_non_ids, kind)


def is_misp(doc: Any) -> bool:
    """Whether a parsed JSON document holds MISP events."""
    return bool(_events(doc))


def parse_document(
    doc: Any, path: str, digest: str, include_non_ids: bool = False, kind: str = "misp-event"
) -> list[SourceBatch]:
    """The SourceBatches of an already parsed MISP JSON document."""
    events = _events(doc)
    if events is None:
        return [_rejected(kind, path, digest, "not a MISP event (no 'Event', 'response' or 'Attribute')")]
    if not events:
        batch = SourceBatch(kind, path, digest, name=Path(path).name)
        batch.notes.append("no events")
        return [batch]
    many = len(events) > 1
    return [
        parse_event(event, path, f"{digest}#{index}" if many else digest, include_non_ids, kind)
        for index, event in enumerate(events)
    ]


def _events(doc: Any) -> list[Any] | None:
    if isinstance(doc, dict):
        if "Event" in doc:
            return [doc["Event"]]
        if isinstance(doc.get("response"), list):
            return [item.get("Event", item) if isinstance(item, dict) else item for item in doc["response"]]
        if "Attribute" in doc or "Object" in doc:
            return [doc]
    if isinstance(doc, list) and doc and all(isinstance(item, dict) and "Event" in item for item in doc):
        return [item["Event"] for item in doc]
    return None


def _rejected(kind: str, path: str, digest: str, reason: str) -> SourceBatch:
    batch = SourceBatch(kind, path, digest, name=Path(path).name)
    batch.inputs = 1
    batch.reject("file", reason)
    return batch


def read_feed(directory: Path, include_non_ids: bool = False) -> list[SourceBatch]:
    """Read a MISP feed directory: ``manifest.json`` and one ``<uuid>.json`` per event.

    Events listed but missing, and a broken manifest, are rejects of a source for the
    manifest itself; ``hashes.csv`` (a digest index, not intel) is skipped with a note.
    """
    manifest_path = directory / "manifest.json"
    raw = manifest_path.read_bytes()
    feed = SourceBatch(
        "misp-feed", str(manifest_path), hashlib.sha256(raw).hexdigest(), name=f"MISP feed {directory.name}"
    )
    try:
        manifest = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        manifest = None
        feed.inputs = 1
        feed.reject("file", f"manifest is not JSON: {exc}")
    if manifest is not None and not isinstance(manifest, dict):
        feed.inputs = 1
        feed.reject("file", f"manifest is not a JSON object (a JSON {type(manifest).__name__})")
        manifest = None
    listed = list(manifest) if isinstance(manifest, dict) else []
    present = {p.stem: p for p in directory.glob("*.json") if p.name != "manifest.json"}
    batches: list[SourceBatch] = []
    for event_id in listed:
        path = present.get(event_id)
        if path is None:
            feed.inputs += 1
            feed.reject(f"manifest[{event_id[:60]!r}]", "event listed in the manifest has no file", event_id)
            continue
        batches.extend(read_event_file(path, include_non_ids, kind="misp-feed"))
    unlisted = sorted(set(present) - set(listed))
    if manifest is not None and unlisted:
        feed.notes.append(f"{len(unlisted)} event file(s) not in the manifest also imported")
    if manifest is None:
        feed.notes.append("no usable manifest: every event file of the directory imported")
    for stem in unlisted:
        batches.extend(read_event_file(present[stem], include_non_ids, kind="misp-feed"))
    if (directory / "hashes.csv").exists():
        feed.notes.append("hashes.csv skipped: it indexes attribute digests, the events carry the intel")
    if feed.rejects or not batches:
        batches.insert(0, feed)  # the feed's own problems need a source to be listed under
    else:
        batches[0].notes[:0] = feed.notes
    return batches


# ------------------------------------------------------------------------- events
class _Event:
    """Builds the rows of one event into its SourceBatch."""

    def __init__(self, event: dict[str, Any], batch: SourceBatch, include_non_ids: bool) -> None:
        self.event = event
        self.batch = batch
        self.include_non_ids = include_non_ids
        self.event_uuid = _uuid(event.get("uuid")) or _derived_uuid(batch.content_hash)
        tags = _tag_names(event)
        self.tlp, self.markings, self.labels, galaxy_tags = _split_tags(tags)
        self.markings = self.markings or None
        self.severity = THREAT_LEVELS.get(str(event.get("threat_level_id")), DEFAULT_SEVERITY)
        self.date = to_timestamp(event.get("date"))
        self.entities: dict[str, dict[str, Any]] = {}
        self.event_entities = self._entities(event.get("Galaxy"), galaxy_tags, "Galaxy")
        self.unsupported: Counter[str] = Counter()
        self.not_for_ids = 0

    # -- entities ---------------------------------------------------------------
    def _entities(self, galaxies: Any, galaxy_tags: list[tuple[str, str]], where: str) -> list[str]:
        """Ids of the objects that galaxy clusters and galaxy tags name (created once per event)."""
        found: list[str] = []
        for galaxy_type, value in galaxy_tags:
            found.append(self._entity(galaxy_type, value, []))
        for g_index, galaxy in enumerate(galaxies if isinstance(galaxies, list) else []):
            if not isinstance(galaxy, dict):
                self.batch.notes.append(f"{where}[{g_index}]: not a JSON object, ignored")
                continue
            for cluster in galaxy.get("GalaxyCluster") or []:
                if not isinstance(cluster, dict) or not isinstance(cluster.get("value"), str):
                    continue
                galaxy_type = cluster.get("type") or galaxy.get("type")
                meta = cluster.get("meta") if isinstance(cluster.get("meta"), dict) else {}
                ids = meta.get("external_id") or []
                found.append(self._entity(str(galaxy_type), cluster["value"], ids if isinstance(ids, list) else [ids]))
        return list(dict.fromkeys(found))

    def _entity(self, galaxy_type: str, value: str, ids: list[Any]) -> str:
        stix_type = _stix_type(galaxy_type)
        entity_id = derived_id(stix_type, f"{galaxy_type}={value}")
        if entity_id not in self.entities:
            external = [*(i for i in ids if isinstance(i, str)), *_TECHNIQUE.findall(value)]
            external += [c.upper() for c in _CVE.findall(value)]
            obj = {"type": stix_type, "id": entity_id, "name": value, "x_misp_galaxy_type": galaxy_type}
            self.entities[entity_id] = {
                "id": entity_id,
                "type": stix_type,
                "name": value,
                "tlp": self.tlp,
                "markings": self.markings,
                "external_ids": list(dict.fromkeys(external)) or None,
                "object": to_json(obj),
            }
        return entity_id

    # -- the event --------------------------------------------------------------
    def run(self) -> None:
        batch, event = self.batch, self.event
        batch.inputs += 1
        meta = {k: v for k, v in event.items() if k not in ("Attribute", "Object")}
        name = event.get("info") if isinstance(event.get("info"), str) else None
        batch.name = name or batch.name
        report_id = f"report--{self.event_uuid}"
        try:
            batch.objects.append(
                self._object(report_id, "report", name, meta, created=self.date, modified=event.get("timestamp"))
            )
        except (TypeError, ValueError, orjson.JSONEncodeError) as exc:
            batch.reject("Event", f"cannot be stored: {exc}", report_id)
        self._attributes(event.get("Attribute"), "Attribute", None)
        objects = event.get("Object")
        if objects is not None and not isinstance(objects, list):
            batch.inputs += 1
            batch.reject("Object", f"'Object' is not a list (a JSON {type(objects).__name__})")
            objects = []
        for index, obj in enumerate(objects or []):
            self._misp_object(obj, f"Object[{index}]")
        for entity in self.entities.values():
            batch.objects.append({**entity, "created": self.date, "modified": None, "revoked": False})
        batch.derived = len(self.entities)
        if self.unsupported:
            kinds = ", ".join(f"{k} ({n})" for k, n in self.unsupported.most_common(10))
            batch.notes.append(f"kept as objects, no STIX pattern for their type: {kinds}")
        if self.not_for_ids:
            batch.notes.append(f"{self.not_for_ids} attribute(s) not marked to_ids kept as objects only")

    def _misp_object(self, obj: Any, location: str) -> None:
        batch = self.batch
        batch.inputs += 1
        if not isinstance(obj, dict):
            batch.reject(location, f"not a JSON object (a JSON {type(obj).__name__})")
            return
        if obj.get("deleted") in (True, "1", 1):
            batch.ignored += 1
            return
        oid = f"x-misp-object--{_uuid(obj.get('uuid')) or _derived_uuid(self.event_uuid + location)}"
        name = obj.get("name") if isinstance(obj.get("name"), str) else None
        try:
            meta = {k: v for k, v in obj.items() if k != "Attribute"}
            batch.objects.append(self._object(oid, "x-misp-object", name, meta, modified=obj.get("timestamp")))
        except (TypeError, ValueError, orjson.JSONEncodeError) as exc:
            batch.reject(location, f"cannot be stored: {exc}", oid)
            return
        self._attributes(obj.get("Attribute"), f"{location}.Attribute", name)

    def _attributes(self, attributes: Any, location: str, object_name: str | None) -> None:
        if attributes is None:
            return
        if not isinstance(attributes, list):
            self.batch.inputs += 1
            self.batch.reject(location, f"not a list (a JSON {type(attributes).__name__})")
            return
        for index, attribute in enumerate(attributes):
            self._attribute(attribute, f"{location}[{index}]", object_name)

    def _attribute(self, attr: Any, location: str, object_name: str | None) -> None:
        batch = self.batch
        batch.inputs += 1
        if not isinstance(attr, dict):
            batch.reject(location, f"not a JSON object (a JSON {type(attr).__name__})")
            return
        if attr.get("deleted") in (True, "1", 1):
            batch.ignored += 1
            return
        misp_type, value = attr.get("type"), attr.get("value")
        attr_uuid = _uuid(attr.get("uuid")) or _derived_uuid(self.event_uuid + location)
        if not isinstance(misp_type, str) or not misp_type:
            batch.reject(location, "no 'type'", attr_uuid)
            return
        if not isinstance(value, str) and not (isinstance(value, int | float) and not isinstance(value, bool)):
            batch.reject(location, "no 'value'", attr_uuid)
            return
        value = str(value)
        tlp, marks, labels, galaxy_tags = _split_tags(_tag_names(attr))
        tlp = markings.strictest([self.tlp, tlp])
        marks = list(dict.fromkeys([*(self.markings or ()), *marks])) or None
        labels = list(dict.fromkeys([*self.labels, *labels])) or None
        for_ids = _truthy(attr.get("to_ids")) or self.include_non_ids
        pattern = None
        if for_ids:
            relation = attr.get("object_relation") if isinstance(attr.get("object_relation"), str) else None
            try:
                pattern = attribute_pattern(misp_type, value, relation)
            except ValueError as exc:
                batch.reject(location, f"{misp_type} value {value[:100]!r}: {exc}", attr_uuid)
                return
            if pattern and pattern[1] == "stix":
                reason = check(pattern[0])
                if reason:
                    batch.reject(location, f"{misp_type} value {value[:100]!r}: {reason}", attr_uuid)
                    return
            if pattern is None:
                self.unsupported[misp_type] += 1
        else:
            self.not_for_ids += 1
        stix_type = "indicator" if pattern else "vulnerability" if misp_type == "vulnerability" else "x-misp-attribute"
        oid = f"{stix_type}--{attr_uuid}"
        name = f"{misp_type} {value}"[:300]
        # Valid from the first sighting MISP records, else always: the attribute's timestamp
        # is when it was last edited and the event's date when it was reported, both after
        # the activity a retro-hunt looks for.
        seen = to_timestamp(attr.get("first_seen"))
        row = self._object(
            oid, stix_type, value if stix_type == "vulnerability" else name, attr, modified=attr.get("timestamp")
        )
        row.update(tlp=tlp, markings=marks)
        if stix_type == "vulnerability":
            row["external_ids"] = [c.upper() for c in _CVE.findall(value)] or [value]
        batch.objects.append(row)
        if not pattern:
            return
        batch.indicators.append(
            {
                "id": oid,
                "name": name,
                "description": attr.get("comment")
                if isinstance(attr.get("comment"), str) and attr["comment"]
                else None,
                "pattern": pattern[0],
                "pattern_type": pattern[1],
                "valid_from": seen,
                "valid_until": None,
                "revoked": False,
                "tlp": tlp,
                "markings": marks,
                "labels": labels,
                "confidence": None,
                "severity": self.severity,
            }
        )
        own = self._entities(attr.get("Galaxy"), galaxy_tags, f"{location}.Galaxy")
        for target in dict.fromkeys([*self.event_entities, *own]):
            relation = "indicates" if self.entities[target]["type"] in _INDICATES else "related-to"
            batch.relationships.append(
                {
                    "id": derived_id("relationship", f"{oid}|{relation}|{target}"),
                    "source_ref": oid,
                    "relationship_type": relation,
                    "target_ref": target,
                }
            )

    def _object(
        self, oid: str, stix_type: str, name: str | None, obj: dict[str, Any], created: Any = None, modified: Any = None
    ) -> dict[str, Any]:
        stamp = to_timestamp(modified)
        return {
            "id": oid,
            "type": stix_type,
            "name": name,
            "created": to_timestamp(created) if created is not None else stamp,
            "modified": stamp,
            "revoked": False,
            "tlp": self.tlp,
            "markings": self.markings,
            "external_ids": None,
            "object": to_json(obj),
        }


def parse_event(
    event: Any, path: str, content_hash: str, include_non_ids: bool = False, kind: str = "misp-event"
) -> SourceBatch:
    """The SourceBatch of one MISP event object (the value of ``{"Event": ...}``)."""
    batch = SourceBatch(kind, path, content_hash, name=Path(path).name)
    if not isinstance(event, dict):
        batch.inputs = 1
        batch.reject("Event", f"not a JSON object (a JSON {type(event).__name__})")
        return batch
    try:
        to_json(event)  # every string of the event storable: checked once, here
    except (TypeError, ValueError, orjson.JSONEncodeError) as exc:
        batch.inputs = 1
        batch.reject("Event", f"cannot be stored: {exc}", event.get("uuid"))
        return batch
    _Event(event, batch, include_non_ids).run()
    return batch


# ------------------------------------------------------------------------- helpers
def _tag_names(holder: dict[str, Any]) -> list[str]:
    """Tag names of an event or attribute (``Tag`` list, or ``EventTag``/``AttributeTag`` wrappers)."""
    names: list[str] = []
    for key in ("Tag", "EventTag", "AttributeTag"):
        items = holder.get(key)
        for item in items if isinstance(items, list) else []:
            tag = item.get("Tag", item) if isinstance(item, dict) else None
            if isinstance(tag, dict) and isinstance(tag.get("name"), str):
                names.append(tag["name"])
    return list(dict.fromkeys(names))


def _split_tags(names: list[str]) -> tuple[str | None, list[str], list[str], list[tuple[str, str]]]:
    """(TLP level, marking labels, other labels, galaxy (type, value) pairs) of tag names."""
    levels, marks, labels, galaxies = [], [], [], []
    for name in names:
        lowered = name.strip().lower()
        if lowered.startswith("tlp:"):
            levels.append(markings.tlp_level(lowered))
            marks.append(name.strip().upper())
        elif lowered.startswith("pap:"):
            marks.append(name.strip().upper())
        elif (match := _GALAXY_TAG.match(name.strip())) is not None:
            galaxies.append((match.group(1), match.group(2)))
        else:
            labels.append(name)
    return markings.strictest(levels), marks, labels, galaxies


def _stix_type(galaxy_type: str) -> str:
    if galaxy_type in GALAXY_TYPES:
        return GALAXY_TYPES[galaxy_type]
    for fragment, stix_type in (
        ("attack-pattern", "attack-pattern"),
        ("intrusion-set", "intrusion-set"),
        ("malware", "malware"),
        ("threat-actor", "threat-actor"),
        ("tool", "tool"),
    ):
        if fragment in galaxy_type:
            return stix_type
    return "x-misp-galaxy-cluster"


def _derived_uuid(name: str) -> str:
    return derived_id("x", name).removeprefix("x--")


def _uuid(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, int | str) and str(value).strip().lower() in _TRUE)
