"""Properties of the intel importers: any input is imported or rejected, never an exception.

For every source, the units read reconcile with what the store holds:
inputs == imported objects + rejects + ignored units, and the stored counts equal the batch's.
"""

from __future__ import annotations

import json
import re
import uuid
from functools import cache
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from stix2patterns.v21.pattern import Pattern
from strategies import SETTINGS, arbitrary_bytes, new_file

from seawall.intel import IntelStore, SourceBatch, classify
from seawall.intel.importer import read_bytes
from seawall.intel.lists import read_csv, read_txt
from seawall.intel.misp_import import parse_events
from seawall.intel.patterns import check, single
from seawall.intel.stix_import import parse_bundle
from seawall.store import Workspace


@cache
def _store() -> IntelStore:
    """One in-memory workspace for the module: every example is its own source in it."""
    return IntelStore(Workspace())


def assert_reconciles(batch: SourceBatch) -> None:
    assert batch.inputs == batch.imported + len(batch.rejects) + batch.ignored, (batch.inputs, batch.notes)
    store = _store()
    stored = store.replace_source(batch)
    assert stored.objects == batch.imported + batch.derived
    assert stored.indicators == batch.indicator_count
    assert stored.rejected == len(batch.rejects)
    assert all(r["reason"] for r in batch.rejects)


# JSON values of any shape, and JSON-shaped pieces for byte soup.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
STIX_PIECES = [
    b'{"type": "bundle", "id": "bundle--1", "objects": [',
    b'{"type": "indicator", "spec_version": "2.1", "id": "indicator--5f0d3b8e-9a51-4c0e-9d7a-2b8f4f1f5a10", ',
    b'"pattern": "[ipv4-addr:value = \'203.0.113.5\']", "pattern_type": "stix", ',
    b'"created": "2025-01-01T00:00:00Z", "modified": "2025-01-01T00:00:00Z", "valid_from": "2025-01-01T00:00:00Z"}',
    b'{"type": "x-acme", "id": "x-acme--5f0d3b8e-9a51-4c0e-9d7a-2b8f4f1f5a10"}',
    b"]}",
    b",",
    b"\\ud800",
    b"\xef\xbb\xbf",
]
MISP_PIECES = [
    b'{"Event": {"info": "x", "Tag": [{"name": "tlp:amber"}], "Attribute": [',
    b'{"type": "ip-dst", "value": "203.0.113.5", "to_ids": true}',
    b'{"type": "filename|md5", "value": "a|d41d8cd98f00b204e9800998ecf8427e", "to_ids": "1"}',
    b'"Object": [{"name": "file", "Attribute": [',
    b'{"type": "md5", "value": "zz", "to_ids": true, "deleted": true}',
    b"]}}",
    b"]",
    b",",
]


@SETTINGS
@given(arbitrary_bytes(STIX_PIECES, [b"[", b'{"a":'], 3000))
def test_any_bytes_as_a_bundle_import_or_reject(data: bytes) -> None:
    assert_reconciles(parse_bundle(data, "fuzz.json"))


@SETTINGS
@given(arbitrary_bytes(MISP_PIECES, [b"[", b'{"a":'], 3000))
def test_any_bytes_as_a_misp_event_import_or_reject(data: bytes) -> None:
    for batch in parse_events(data, "fuzz.json"):
        assert_reconciles(batch)


# STIX-shaped objects: real and invented types, good and bad ids, patterns and timestamps.
TYPES = ["indicator", "malware", "relationship", "marking-definition", "report", "x-acme", "gadget", "bundle", ""]
PATTERNS = [
    "[ipv4-addr:value = '203.0.113.5']",
    "[ipv4-addr:value = '203.0.113.5'",
    "[file:hashes.MD5 = 'zz']",
    "",
    "rule x {}",
]
TIMES = ["2025-01-01T00:00:00Z", "2025-01-01T00:00:00.123456789Z", "yesterday", "2020-01-01T00:00:00Z"]


@st.composite
def stix_objects(draw: st.DrawFn) -> object:
    if draw(st.integers(0, 4)) == 0:
        return draw(JSON)
    kind = draw(st.sampled_from(TYPES))
    obj: dict = draw(st.dictionaries(st.text(max_size=8), JSON, max_size=3))
    obj["type"] = kind
    id_choice = draw(st.integers(0, 3))
    if id_choice < 2:
        obj["id"] = f"{kind}--{uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4)}"
    elif id_choice == 2:
        obj["id"] = draw(st.text(max_size=12))
    if draw(st.booleans()):
        obj["spec_version"] = "2.1"
    for key in ("created", "modified", "valid_from", "valid_until"):
        if draw(st.booleans()):
            obj[key] = draw(st.sampled_from(TIMES))
    if kind == "indicator":
        obj["pattern"] = draw(st.sampled_from(PATTERNS) | st.text(max_size=30))
        obj["pattern_type"] = draw(st.sampled_from(["stix", "yara", "stix"]))
    if draw(st.booleans()):
        obj["object_marking_refs"] = draw(
            st.lists(
                st.sampled_from(
                    ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "marking-definition--x", "junk"]
                )
                | JSON,
                max_size=3,
            )
        )
    if kind == "relationship":
        obj.update(relationship_type="indicates", source_ref=draw(JSON), target_ref="malware--x")
    return obj


@SETTINGS
@given(st.lists(stix_objects(), max_size=12), st.sampled_from([None, "2.0", "2.1"]))
def test_any_objects_in_a_bundle_import_or_reject(objects: list, version: str | None) -> None:
    bundle = {"type": "bundle", "id": "bundle--5f0d3b8e-9a51-4c0e-9d7a-2b8f4f1f5a10", "objects": objects}
    if version:
        bundle["spec_version"] = version
    batch = parse_bundle(json.dumps(bundle), "objects.json")
    assert batch.inputs == len(objects)
    assert_reconciles(batch)
    for indicator in batch.indicators:
        if indicator["pattern_type"] == "stix":
            assert check(indicator["pattern"], "2.0" if version == "2.0" else "2.1") is None


MISP_TYPES = ["ip-dst", "ip-src|port", "domain", "url", "md5", "filename|sha256", "AS", "snort", "text", "x-unknown"]
MISP_VALUES = ["203.0.113.5", "198.51.100.0/24", "a.example", "203.0.113.5|443", "x|" + "a" * 64, "AS64500", "", "'\\"]


@st.composite
def misp_attributes(draw: st.DrawFn) -> object:
    if draw(st.integers(0, 5)) == 0:
        return draw(JSON)
    attr: dict = draw(
        st.dictionaries(st.sampled_from(["uuid", "comment", "timestamp", "Tag", "Galaxy"]), JSON, max_size=2)
    )
    attr["type"] = draw(st.sampled_from(MISP_TYPES) | JSON)
    attr["value"] = draw(st.sampled_from(MISP_VALUES) | st.text(max_size=20) | JSON)
    attr["to_ids"] = draw(st.sampled_from([True, False, "1", "0", None]))
    if draw(st.integers(0, 5)) == 0:
        attr["deleted"] = True
    return attr


@st.composite
def misp_events(draw: st.DrawFn) -> object:
    if draw(st.integers(0, 6)) == 0:
        return draw(JSON)
    event: dict = {"info": draw(st.text(max_size=10) | JSON), "threat_level_id": draw(JSON)}
    event["Attribute"] = draw(st.lists(misp_attributes(), max_size=8) | JSON)
    event["Tag"] = draw(
        st.lists(
            st.builds(
                lambda n: {"name": n},
                st.sampled_from(["tlp:red", "tlp:white", 'misp-galaxy:mitre-attack-pattern="X - T1190"', "apt"])
                | st.text(max_size=10),
            ),
            max_size=3,
        )
        | JSON
    )
    event["Galaxy"] = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "type": st.text(max_size=10),
                    "GalaxyCluster": st.lists(st.fixed_dictionaries({"value": JSON}), max_size=2),
                }
            )
            | JSON,
            max_size=2,
        )
    )
    event["Object"] = draw(
        st.lists(
            st.fixed_dictionaries({"name": JSON, "Attribute": st.lists(misp_attributes(), max_size=3)}) | JSON,
            max_size=3,
        )
        | JSON
    )
    return event


@SETTINGS
@given(misp_events(), st.booleans())
def test_any_misp_event_imports_or_rejects(event: object, include_non_ids: bool) -> None:
    (batch,) = parse_events(json.dumps({"Event": event}), "event.json", include_non_ids)
    assert_reconciles(batch)
    for indicator in batch.indicators:
        if indicator["pattern_type"] == "stix":
            assert check(indicator["pattern"]) is None


LIST_PIECES = [
    b"value,type,tags,severity\n",
    b"203.0.113.5,ip,c2,critical\n",
    b"evil[.]example,,,low\n",
    b"198.51.100.0/24\n",
    b"# comment\n",
    b'"quoted,value",domain\n',
    b"\x00",
    b"d41d8cd98f00b204e9800998ecf8427e,md5\n",
    b"x'y\\z.example,domain\n",
]


@SETTINGS
@given(arbitrary_bytes(LIST_PIECES, [b"a", b"1.1.1.1,"], 3000), st.booleans())
def test_any_bytes_as_a_list_import_or_reject(data: bytes, as_csv: bool) -> None:
    text = data.decode("utf-8", errors="replace")
    reader = read_csv if as_csv else read_txt
    batch = reader(Path("fuzz.csv"), text, "digest")
    assert_reconciles(batch)
    for pattern in batch.indicators.column("pattern").to_pylist()[:5]:
        assert check(pattern) is None  # built, not validated, on import: correct by construction


@SETTINGS
@given(st.binary(max_size=400), st.sampled_from([".json", ".csv", ".txt", ""]))
def test_importer_sniffs_any_file_without_raising(tmp_path_factory, data: bytes, suffix: str) -> None:
    path = new_file(tmp_path_factory.mktemp("sniff"), data, suffix)
    skipped: list = []
    for batch in read_bytes(path, data, skipped):
        assert_reconciles(batch)
    assert all(reason for _, reason in skipped)


# Values near the shapes inference accepts, with odd characters where the shapes allow them.
_HOST = st.from_regex(r"[A-Za-z0-9_-]{1,8}(\.[A-Za-z0-9_-]{1,8}){0,3}\.[A-Za-z][A-Za-z0-9-]{1,5}", fullmatch=True)
VALUES = st.one_of(
    st.text(max_size=60),
    st.builds("{}.{}.{}.{}".format, *[st.integers(0, 300)] * 4),
    st.builds("{}/{}".format, st.ip_addresses().map(str), st.integers(0, 140)),
    st.ip_addresses().map(lambda a: a.exploded.upper()),
    _HOST,
    st.builds("{}://{}/{}".format, st.sampled_from(["http", "HXXPS", "ftp", "tcp"]), _HOST, st.text(max_size=20)),
    st.builds("{}@{}".format, st.text(max_size=10), _HOST),
    st.from_regex(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}|[0-9a-fA-F]{128}", fullmatch=True),
)


@SETTINGS
@given(VALUES, st.sampled_from([None, "ip", "cidr", "domain", "hostname", "url", "email", "hash", "md5", "sha256"]))
def test_classified_values_always_make_valid_patterns(value: str, declared: str | None) -> None:
    try:
        kind, normal = classify(value, declared)
    except ValueError:
        return
    assert check(single(kind, normal)) is None
    assert classify(normal, declared) == (kind, normal)  # normalising is idempotent


_ESCAPE = re.compile(r"\\(.)", re.S)


@SETTINGS
@given(st.text(max_size=40))
def test_quoting_round_trips_through_the_pattern_parser(value: str) -> None:
    pattern = single("filename", value)
    assert check(pattern) is None
    ((_, _, literal),) = Pattern(pattern).inspect().comparisons["file"]
    assert _ESCAPE.sub(r"\1", literal[1:-1]) == value
