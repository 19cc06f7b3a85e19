"""The catalog of router and switch messages Seawall structures, and applying it to a batch.

The catalog (``content/devices/messages.yaml``) is data: per vendor and message code, RE2
patterns with named groups and the fields their groups fill. The syslog reader finds each
line's vendor and code in SQL; this module then runs, with Arrow's RE2 kernels, only the
patterns of the codes present in the batch, on only the rows that carry them. (Compiling
the catalog into the SQL statement instead cost more to plan, per batch, than parsing.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from seawall.errors import ContentError
from seawall.store.schema import CORE_COLUMNS

EVENT_FIELDS = ("action", "category", "type", "outcome")
_GROUP_REF = re.compile(r"\{([A-Za-z_]\w*)\}")
_ARROW_TYPES = {"INTEGER": pa.int32(), "BIGINT": pa.int64()}


@dataclass(frozen=True)
class Pattern:
    regex: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    """Messages of some vendors and codes, their patterns (first match wins) and the
    values they set: column -> template(s) of groups, or {group: {captured: value}}."""

    vendors: tuple[str, ...]
    codes: tuple[str, ...]
    patterns: tuple[Pattern, ...]
    values: dict[str, object]
    generic: bool = False  # the codes carry unrelated texts: unmatched rows get nothing


@dataclass(frozen=True)
class Catalog:
    vendors: dict[str, dict[str, str]]
    arista_agents: tuple[str, ...]
    junos_prefixes: tuple[str, ...]
    junos_daemons: tuple[str, ...]
    junos_structured_data: dict[str, str]  # SD parameter -> column
    entries: tuple[Entry, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the catalog can fill (beyond the tag fields every device message gets)."""
        names = {c for e in self.entries for c in e.values} | set(self.junos_structured_data.values())
        return tuple(sorted(names))


def _templates(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _pattern(regex: str, where: str) -> Pattern:
    try:
        groups = tuple(re.compile(regex).groupindex)
        pc.extract_regex(pa.array([""]), regex) if groups else pc.match_substring_regex(pa.array([""]), regex)
    except (re.error, pa.ArrowInvalid) as exc:  # Python's re and RE2 must both accept it
        raise ContentError(f"{where}: pattern {regex!r} does not compile: {exc}") from exc
    return Pattern(regex, groups)


def parse_catalog(data: dict, origin: str) -> Catalog:
    """Validate the catalog: every pattern compiles in RE2, every template names a group."""
    entries = []
    for index, entry in enumerate(data.get("messages") or []):
        where = f"{origin}: message entry {index + 1} ({', '.join(entry.get('codes') or ['?'])})"
        if not entry.get("codes") or not entry.get("patterns"):
            raise ContentError(f"{where}: needs codes and patterns")
        vendors = tuple(entry.get("vendors") or ["cisco"])
        unknown = [v for v in vendors if v not in data["vendors"]]
        if unknown:
            raise ContentError(f"{where}: unknown vendor(s) {', '.join(unknown)}")
        values: dict[str, object] = {f"event.{k}": entry[k] for k in EVENT_FIELDS if k in entry}
        values.update(entry.get("fields") or {})
        patterns = tuple(_pattern(p, where) for p in entry["patterns"])
        named = {g for p in patterns for g in p.groups}
        for column, value in values.items():
            refs = (
                list(value)
                if isinstance(value, dict)
                else [r for t in _templates(value) for r in _GROUP_REF.findall(t)]
            )
            missing = [r for r in refs if r not in named]
            if missing:
                raise ContentError(f"{where}: {column} uses {', '.join(missing)}, which no pattern captures")
        entries.append(Entry(vendors, tuple(entry["codes"]), patterns, values, bool(entry.get("generic"))))
    return Catalog(
        vendors=data["vendors"],
        arista_agents=tuple(data.get("arista_agents") or ()),
        junos_prefixes=tuple(data.get("junos_prefixes") or ()),
        junos_daemons=tuple(data.get("junos_daemons") or ()),
        junos_structured_data=dict(data.get("junos_structured_data") or {}),
        entries=tuple(entries),
    )


@cache
def catalog() -> Catalog:
    """The shipped catalog of device messages."""
    path = resources.files("seawall.content").joinpath("devices/messages.yaml")
    return parse_catalog(yaml.safe_load(path.read_text(encoding="utf-8")), "devices/messages.yaml")


class _Columns:
    """Values for some rows of a batch, per column; later pieces never overwrite earlier ones."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.pieces: dict[str, list[tuple[np.ndarray, pa.Array]]] = {}
        self.filled: dict[str, np.ndarray] = {}

    def put(self, column: str, rows: np.ndarray, values: pa.Array) -> None:
        valid = np.asarray(values.is_valid()) if values.null_count else np.ones(len(values), bool)
        taken = self.filled.setdefault(column, np.zeros(self.rows, bool))
        keep = valid & ~taken[rows]
        if keep.any():
            self.pieces.setdefault(column, []).append((rows[keep], values.filter(pa.array(keep))))
            taken[rows[keep]] = True

    def arrays(self) -> dict[str, pa.Array]:
        out = {}
        for column, pieces in self.pieces.items():
            values = pa.concat_arrays([v.cast(pa.string()) for _, v in pieces])
            position = np.full(self.rows, len(values), dtype=np.int64)  # points at a null
            position[np.concatenate([r for r, _ in pieces])] = np.arange(len(values))
            filled = pa.concat_arrays([values, pa.nulls(1, pa.string())]).take(pa.array(position))
            out[column] = _typed(column, filled)
        return out


def _typed(column: str, values: pa.Array) -> pa.Array:
    target = _ARROW_TYPES.get(CORE_COLUMNS.get(column, ""))
    if target is None:
        return values
    digits = pc.and_(pc.match_substring_regex(values, r"^\d{1,9}$"), pc.is_valid(values))
    return pc.if_else(digits, values, pa.scalar(None, pa.string())).cast(target)


def _group(struct: pa.StructArray, name: str) -> pa.Array:
    """A captured group; empty (the group did not take part) counts as absent."""
    values = struct.field(name)
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def _render(template: str, groups: tuple[str, ...], struct: pa.StructArray | None, rows: int) -> pa.Array | None:
    """A template over captured groups: null unless every group it names took part."""
    refs = _GROUP_REF.findall(template)
    if any(r not in groups for r in refs):
        return None  # another pattern of the entry captures it, not this one
    if not refs:
        return pa.repeat(pa.scalar(template, pa.string()), rows)
    pieces = [
        _group(struct, p) if i % 2 else pa.scalar(p, pa.string()) for i, p in enumerate(_GROUP_REF.split(template))
    ]
    if len(pieces) == 3 and pieces[0].as_py() == pieces[2].as_py() == "":
        return pieces[1]  # the template is one group
    return pc.binary_join_element_wise(*pieces, "")  # null when any group is null


def _value(value: object, groups: tuple[str, ...], struct: pa.StructArray | None, rows: int) -> pa.Array | None:
    if isinstance(value, dict):  # {group: {captured value: output}}
        ((group, mapping),) = value.items()
        if group not in groups:
            return None
        keys = pa.array([str(k) for k in mapping], pa.string())
        index = pc.index_in(struct.field(group), value_set=keys)
        return pa.array([str(v) for v in mapping.values()], pa.string()).take(index)
    for template in _templates(value):
        rendered = _render(template, groups, struct, rows)
        if rendered is not None and rendered.null_count < rows:
            return rendered
    return None


def apply_catalog(table: pa.Table, cat: Catalog) -> pa.Table:
    """Fill the catalog's columns for the rows whose ``_vendor``/``_key`` an entry names,
    from ``message`` (the text after the tag), and Junos structured-data parameters."""
    rows = table.num_rows
    columns = _Columns(rows)
    vendor, key, body = (table[name].combine_chunks() for name in ("_vendor", "_key", "message"))
    if "log.syslog.structured_data" in table.column_names:
        _structured_data(table, cat, columns)
    present = set(pc.unique(key).drop_null().to_pylist())
    for entry in cat.entries:
        if present.isdisjoint(entry.codes):
            continue
        selected = pc.and_(pc.is_in(key, pa.array(entry.codes)), pc.is_in(vendor, pa.array(entry.vendors)))
        remaining = np.flatnonzero(np.asarray(selected.fill_null(False)))
        # Each pattern in turn takes the rows it matches; rows no pattern knows still get
        # the entry's fixed values (action, category...), as the empty pattern would.
        for pattern in entry.patterns if entry.generic else (*entry.patterns, Pattern("", ())):
            if not len(remaining):
                break
            text = body.take(pa.array(remaining))
            if pattern.groups:
                struct = pc.extract_regex(text, pattern.regex)
                matched = np.asarray(struct.is_valid())
                struct = struct.filter(pa.array(matched))
            else:
                struct, matched = None, np.ones(len(remaining), bool)
            hit = remaining[matched]
            for column, value in entry.values.items():
                values = _value(value, pattern.groups, struct, len(hit))
                if values is not None:
                    columns.put(column, hit, values)
            remaining = remaining[~matched]
    filled = columns.arrays()
    if "event.action" in filled:
        filled["event.action"] = pc.utf8_lower(filled["event.action"])
    for name, array in filled.items():
        table = table.append_column(name, array) if name not in table.column_names else _coalesce(table, name, array)
    return table


def _coalesce(table: pa.Table, name: str, array: pa.Array) -> pa.Table:
    current = table[name]
    merged = pc.coalesce(array.cast(current.type), current)
    return table.set_column(table.column_names.index(name), name, merged)


def _structured_data(table: pa.Table, cat: Catalog, columns: _Columns) -> None:
    """Junos RFC 5424 structured-data parameters (``username="x"``) fill their columns first;
    Junos writes ``N/A`` for a parameter it has no value for."""
    juniper = pc.and_(pc.equal(table["_vendor"], "juniper"), pc.is_valid(table["log.syslog.structured_data"]))
    rows = np.flatnonzero(np.asarray(juniper.fill_null(False)))
    if not len(rows):
        return
    data = table["log.syslog.structured_data"].combine_chunks().take(pa.array(rows))
    for param, column in cat.junos_structured_data.items():
        found = pc.extract_regex(data, rf'\b{re.escape(param)}="(?P<v>(?:[^"\\]|\\.)*)"')
        value = pc.if_else(pc.is_valid(found), _group(found, "v"), pa.scalar(None, pa.string()))
        columns.put(column, rows, pc.if_else(pc.equal(value, "N/A"), pa.scalar(None, pa.string()), value))
