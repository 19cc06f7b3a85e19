"""The config-check catalog: checks written as data, read, validated and compiled.

A check names a collection of the configuration model (``users``, ``lines``,
``acl_entries``...), conditions on the facts of its items, and what makes it fail: a
matching item (``each``), no matching item (``require``), or, for a drift check, a
matching item of the earlier snapshot that the later one no longer has (``removed``).
The vocabulary is documented in docs/CONFIG_AUDIT.md. Every mistake in a catalog is a
ContentError naming the file, the check and the key, raised when the catalog loads.

Each condition is compiled once per catalog into Python closures. A compiled condition
takes a row and a context, both of ``seawall.detect.config_checks`` (which evaluates
checks): a row answers ``get(field)`` and holds its ``item``; a context holds the site
``profile``, a ``memo`` dict, and answers ``referenced(refs)``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from functools import lru_cache
from importlib import resources
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from seawall.detect.finding import SEVERITIES
from seawall.detect.profile import KINDS
from seawall.errors import ContentError
from seawall.sources.configs import model
from seawall.sources.configs.model import COLLECTIONS, PLATFORMS, Item

if TYPE_CHECKING:
    from seawall.detect.config_checks import _Context, _Row

CONTENT = resources.files("seawall.content").joinpath("config_checks.yaml")
DRIFT = "drift"
CHECK_KINDS = ("compromise", "hardening", DRIFT)


# The item class of each collection, and the virtual ``acl_entries``: every ACL entry with
# the name (``acl``) and kind (``acl_kind``) of its ACL.
_ITEM_TYPES: dict[str, type[Item]] = {
    "users": model.User,
    "enable_secrets": model.User,
    "aaa_servers": model.AaaServer,
    "lines": model.Line,
    "acls": model.Acl,
    "acl_entries": model.AclEntry,
    "snmp_communities": model.SnmpCommunity,
    "snmp_groups": model.SnmpGroup,
    "snmp_hosts": model.SnmpHost,
    "logging_hosts": model.Server,
    "ntp_servers": model.Server,
    "services": model.Service,
    "features": model.Feature,
    "tunnels": model.Tunnel,
    "static_routes": model.StaticRoute,
    "monitor_sessions": model.MonitorSession,
    "packet_captures": model.PacketCapture,
    "interfaces": model.Interface,
    "routing": model.RoutingProtocol,
    "banners": model.Banner,
}
EXTRA_FIELDS = {"acl_entries": ("acl", "acl_kind")}
assert set(COLLECTIONS) <= set(_ITEM_TYPES), "a model collection has no item type here"
# What identifies an item of each collection (for labels, and for drift's keys).
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "users": ("name",),
    "enable_secrets": ("name",),
    "aaa_servers": ("protocol", "address"),
    "lines": ("kind", "first", "last"),
    "acls": ("name",),
    "acl_entries": ("acl", "sequence", "text"),
    "snmp_communities": ("community",),
    "snmp_groups": ("name", "version"),
    "snmp_hosts": ("address", "community_or_user"),
    "logging_hosts": ("address", "vrf"),
    "ntp_servers": ("address", "vrf"),
    "services": ("name",),
    "features": ("name",),
    "tunnels": ("name",),
    "static_routes": ("vrf", "prefix", "next_hop"),
    "monitor_sessions": ("session", "kind"),
    "packet_captures": ("name",),
    "interfaces": ("name",),
    "routing": ("name",),
    "banners": ("kind",),
}
# What an item of each collection is called in drift's changes and removal findings.
NOUNS: dict[str, str] = {
    "users": "user",
    "enable_secrets": "enable secret",
    "aaa_servers": "aaa server",
    "lines": "line",
    "acls": "acl",
    "acl_entries": "acl entry",
    "snmp_communities": "snmp community",
    "snmp_groups": "snmp group",
    "snmp_hosts": "snmp host",
    "logging_hosts": "logging host",
    "ntp_servers": "ntp server",
    "services": "service",
    "features": "feature",
    "tunnels": "tunnel",
    "static_routes": "static route",
    "monitor_sessions": "monitor session",
    "packet_captures": "packet capture",
    "interfaces": "interface",
    "routing": "routing protocol",
    "banners": "banner",
}
_CHECK_KEYS = {
    "id",
    "title",
    "kind",
    "severity",
    "platforms",
    "rationale",
    "reference",
    "technique",
    "remediation",
    "when",
    "match",
    "removed",
}
_REQUIRED_KEYS = ("id", "title", "kind", "severity")
_CLAUSE_KEYS = {"each", "where", "join", "last_per"}
_JOIN_KEYS = {"field", "from", "key", "take"}
_REF_KEYS = {"each", "where", "field"}
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_TECHNIQUE = re.compile(r"^T\d{4}(?:\.\d{3})?$")
_PORT_PATTERN = re.compile(r"^[0-9x]{1,5}$")


# --- the catalog --------------------------------------------------------------------------

Predicate = Callable[["_Row", "_Context"], bool]


@dataclass(frozen=True)
class Join:
    name: str
    source: str
    field: str  # of the clause's items: its value is looked up ...
    key: str  # ... in this field of the source's items
    take: str  # and this field of the items found becomes the joined value


@dataclass(frozen=True)
class Ref:
    collections: tuple[str, ...]
    where: Predicate | None
    field: str


@dataclass(frozen=True)
class Clause:
    """``each`` (matching items fail), ``require`` (fails when nothing matches) or, in a
    drift check, ``removed`` (matching items of the earlier snapshot that are gone fail)."""

    mode: str  # "each", "require" or "removed"
    collections: tuple[str, ...]
    where: Predicate | None
    joins: tuple[Join, ...]
    last_per: str | None
    text: str  # the clause as written, for reasons


@dataclass(frozen=True)
class Check:
    """One check of the catalog, compiled. A ``drift`` check compares two snapshots of a
    device: its clauses are ``removed`` clauses, and it has no ``when``."""

    id: str
    title: str
    kind: str  # compromise, hardening or drift
    severity: str
    platforms: tuple[str, ...]  # empty: every platform
    rationale: str
    references: tuple[str, ...]
    techniques: tuple[str, ...]
    remediation: str
    clauses: tuple[Clause, ...] = field(repr=False, compare=False)
    when: Clause | None = field(default=None, repr=False, compare=False)
    needs: tuple[str, ...] = ()  # profile declarations the check reads
    spec: str = field(default="", repr=False, compare=False)  # as written, in JSON: for pickling

    def __reduce__(self) -> tuple:
        return (_compiled, (self.spec,))

    @property
    def reference(self) -> str | None:
        return self.references[0] if self.references else None

    @property
    def technique(self) -> str | None:
        return self.techniques[0] if self.techniques else None

    @property
    def is_drift(self) -> bool:
        return self.kind == DRIFT


@dataclass(frozen=True)
class Catalog:
    """The checks run on one configuration (``checks``: compromise and hardening, what
    iterating a catalog gives) and the drift checks run on two snapshots (``drift``)."""

    checks: tuple[Check, ...]
    source: str
    drift: tuple[Check, ...] = ()

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    def __len__(self) -> int:
        return len(self.checks)

    def get(self, check_id: str) -> Check | None:
        return next((c for c in (*self.checks, *self.drift) if c.id == check_id), None)

    def only(self, kind: str) -> Catalog:
        """The checks of one kind (compromise, hardening or drift)."""
        return Catalog(
            tuple(c for c in self.checks if c.kind == kind),
            self.source,
            tuple(c for c in self.drift if c.kind == kind),
        )


def load_catalog(path: Path | str | None = None) -> Catalog:
    """The built-in catalog, or a catalog file of one's own.

    A file with ``include_builtin: true`` adds to the built-in checks (a check with a
    built-in id replaces it) and may ``disable`` built-in ids. Without it, the file's
    compromise and hardening checks stand alone; the built-in drift checks are kept all
    the same (a check of the file with the same id replaces one, ``disable`` drops one).
    """
    if path is None:
        return _catalog(_read(CONTENT.read_text(encoding="utf-8"), "built-in config_checks.yaml"), "built-in")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(f"{path}: cannot read config-check catalog: {exc}") from exc
    data = _read(text, str(path))
    own = _catalog(data, str(path))
    include = bool(data.get("include_builtin"))
    builtin = default_catalog()
    disabled = set(_string_list(data.get("disable"), f"{path}: disable"))
    unknown = sorted(disabled - {c.id for c in (*builtin.checks, *builtin.drift)})
    if unknown:
        raise ContentError(f"{path}: disable: unknown built-in check id {', '.join(unknown)}")
    if not include and (outside := sorted(disabled - {c.id for c in builtin.drift})):
        raise ContentError(
            f"{path}: disable: {', '.join(outside)}: without include_builtin: true the built-in checks are not"
            " loaded (only the built-in drift checks are kept, and only those can be disabled)"
        )
    mine = {c.id for c in (*own.checks, *own.drift)}

    def merged(builtins: tuple[Check, ...], owns: tuple[Check, ...]) -> tuple[Check, ...]:
        kept = [c for c in builtins if c.id not in disabled and c.id not in mine]
        return tuple(sorted([*kept, *owns], key=lambda c: c.id))

    checks = merged(builtin.checks, own.checks) if include else own.checks
    return Catalog(checks, f"built-in + {path}" if include else str(path), merged(builtin.drift, own.drift))


_DEFAULT: list[Catalog] = []


def default_catalog() -> Catalog:
    """The built-in catalog, loaded once."""
    if not _DEFAULT:
        _DEFAULT.append(load_catalog())
    return _DEFAULT[0]


def _read(text: str, where: str) -> dict:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ContentError(f"{where}: config-check catalog is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("checks"), list):
        raise ContentError(f"{where}: expected a mapping with a 'checks' list")
    unknown = sorted(set(data) - {"version", "checks", "include_builtin", "disable"})
    if unknown:
        raise ContentError(f"{where}: unknown top-level key {', '.join(unknown)}")
    return data


def _catalog(data: dict, where: str) -> Catalog:
    checks: dict[str, Check] = {}
    for index, spec in enumerate(data["checks"]):
        label = f"{where}: checks[{index}]"
        if isinstance(spec, dict) and isinstance(spec.get("id"), str):
            label = f"{where}: {spec['id']}"
        check = _check(spec, label)
        if check.id in checks:
            raise ContentError(f"{label}: duplicate check id")
        checks[check.id] = check
    ordered = sorted(checks.values(), key=lambda c: c.id)
    return Catalog(tuple(c for c in ordered if not c.is_drift), where, tuple(c for c in ordered if c.is_drift))


def _check(spec: Any, where: str) -> Check:
    if not isinstance(spec, dict):
        raise ContentError(f"{where}: expected a mapping")
    unknown = sorted(set(spec) - _CHECK_KEYS)
    if unknown:
        raise ContentError(f"{where}: unknown key {', '.join(unknown)} (known: {', '.join(sorted(_CHECK_KEYS))})")
    drift = spec.get("kind") == DRIFT
    body = "removed" if drift else "match"  # what the check fails on
    missing = [k for k in _REQUIRED_KEYS if not spec.get(k)]
    if missing:
        raise ContentError(f"{where}: missing key {', '.join(missing)}")
    if not isinstance(spec["id"], str) or not _ID.match(spec["id"]):
        raise ContentError(f"{where}: id: {spec['id']!r} is not an identifier")
    if spec["kind"] not in CHECK_KINDS:
        raise ContentError(f"{where}: kind: {spec['kind']!r} is not one of {', '.join(CHECK_KINDS)}")
    if drift and "match" in spec:
        raise ContentError(f"{where}: match: a drift check says what is 'removed', not what to 'match'")
    if drift and "when" in spec:
        raise ContentError(f"{where}: when: not for drift checks (narrow 'removed' with 'where')")
    if not drift and "removed" in spec:
        raise ContentError(f"{where}: removed: only for drift checks (kind: drift)")
    if not spec.get(body):
        raise ContentError(f"{where}: missing key {body}")
    if spec["severity"] not in SEVERITIES:
        raise ContentError(f"{where}: severity: {spec['severity']!r} is not one of {', '.join(SEVERITIES)}")
    platforms = tuple(_string_list(spec.get("platforms"), f"{where}: platforms"))
    if platforms in (("any",), ("all",)):
        platforms = ()
    bad = [p for p in platforms if p not in PLATFORMS]
    if bad:
        raise ContentError(f"{where}: platforms: {', '.join(bad)} not one of {', '.join(PLATFORMS)} (or 'any')")
    techniques = tuple(_string_list(spec.get("technique"), f"{where}: technique"))
    bad = [t for t in techniques if not _TECHNIQUE.match(t)]
    if bad:
        raise ContentError(f"{where}: technique: {', '.join(bad)} is not an ATT&CK id such as T1098 or T1562.001")
    references = tuple(_string_list(spec.get("reference"), f"{where}: reference"))
    bad = [r for r in references if not r.startswith(("https://", "http://"))]
    if bad:
        raise ContentError(f"{where}: reference: {', '.join(bad)} is not a URL")
    needs: set[str] = set()
    written = spec[body]
    specs = written if isinstance(written, list) else [written]
    clauses = tuple(
        _clause(c, f"{where}: {body}" + (f"[{i}]" if isinstance(written, list) else ""), needs, body)
        for i, c in enumerate(specs)
    )
    when = None
    if spec.get("when") is not None:
        when = _clause({"require": spec["when"]}, f"{where}: when", needs)
    return Check(
        id=spec["id"],
        title=_text(spec, "title", where),
        kind=spec["kind"],
        severity=spec["severity"],
        platforms=platforms,
        rationale=_text(spec, "rationale", where),
        references=references,
        techniques=techniques,
        remediation=_text(spec, "remediation", where),
        clauses=clauses,
        when=when,
        needs=tuple(sorted(needs)),
        spec=json.dumps(spec, sort_keys=True, default=str),
    )


@lru_cache(maxsize=4_096)
def _compiled(spec: str) -> Check:
    """A check rebuilt from its specification (compiled conditions are closures, which do
    not pickle: a check sent to or from a worker process travels as its YAML, as JSON)."""
    return _check(json.loads(spec), "check")


def _clause(spec: Any, where: str, needs: set[str], body: str = "match") -> Clause:
    """A clause of ``match`` (``each`` or ``require``), of ``removed`` (``each`` only) or
    the ``require`` a ``when`` is made into."""
    if not isinstance(spec, dict):
        expected = "'each'" if body == "removed" else "'each' or 'require'"
        raise ContentError(f"{where}: expected a mapping with {expected}")
    mode = "removed" if body == "removed" else "each"
    if "require" in spec:
        if body == "removed":
            raise ContentError(
                f"{where}: 'require' has no meaning here: a removal is an item of the earlier snapshot"
                " (each/where) that the later one no longer has"
            )
        if set(spec) != {"require"}:
            raise ContentError(f"{where}: 'require' stands alone; put each/where inside it")
        mode, spec, where = "require", spec["require"], f"{where}.require"
        if not isinstance(spec, dict):
            raise ContentError(f"{where}: expected a mapping with 'each'")
    unknown = sorted(set(spec) - _CLAUSE_KEYS)
    if unknown:
        known_keys = ", ".join(sorted(_CLAUSE_KEYS))
        raise ContentError(
            f"{where}: unknown key {', '.join(unknown)} (known: "
            + (known_keys if mode == "removed" else f"require, {known_keys}")
            + ")"
        )
    collections = _collections(spec.get("each"), f"{where}.each")
    joins = tuple(_join(name, j, collections, f"{where}.join.{name}") for name, j in (spec.get("join") or {}).items())
    known = {**_fields(collections), **{j.name: None for j in joins}}
    where_pred = None
    if spec.get("where") is not None:
        where_pred = _condition(spec["where"], known, f"{where}.where", needs)
    last_per = spec.get("last_per")
    if last_per is not None and last_per not in known:
        raise ContentError(f"{where}.last_per: unknown field {last_per!r} for {', '.join(collections)}")
    shown = f"{' + '.join(collections)}" + (f" where {_show(spec['where'])}" if spec.get("where") is not None else "")
    return Clause(mode, collections, where_pred, joins, last_per, shown)


def _collections(value: Any, where: str) -> tuple[str, ...]:
    names = tuple(_string_list(value, where))
    if not names:
        raise ContentError(f"{where}: name the collection(s) the check reads")
    bad = [n for n in names if n not in _ITEM_TYPES]
    if bad:
        raise ContentError(f"{where}: unknown collection {', '.join(bad)} (known: {', '.join(sorted(_ITEM_TYPES))})")
    return names


def _fields(collections: Iterable[str]) -> dict[str, str | None]:
    """The facts the items of these collections have, with their type as annotated in the
    model when every collection agrees on it (None: computed facts, or types that differ)."""
    known: dict[str, str | None] = {}
    for number, name in enumerate(collections):
        own = {f.name: str(f.type) for f in fields(_ITEM_TYPES[name]) if f.name != "lines"}
        own.update({extra: None for extra in EXTRA_FIELDS.get(name, ())})
        for fact, kind in own.items():
            known[fact] = kind if number == 0 or known.get(fact, kind) == kind else None
        for fact in set(known) - set(own):
            known[fact] = None
    return known


def _join(name: str, spec: Any, collections: tuple[str, ...], where: str) -> Join:
    if not isinstance(spec, dict) or set(spec) != _JOIN_KEYS:
        raise ContentError(f"{where}: expected exactly the keys {', '.join(sorted(_JOIN_KEYS))}")
    (source,) = _collections(spec["from"], f"{where}.from")
    if spec["field"] not in _fields(collections):
        raise ContentError(f"{where}.field: unknown field {spec['field']!r} for {', '.join(collections)}")
    for key in ("key", "take"):
        if spec[key] not in _fields([source]):
            raise ContentError(f"{where}.{key}: unknown field {spec[key]!r} for {source}")
    return Join(str(name), source, spec["field"], spec["key"], spec["take"])


# --- conditions --------------------------------------------------------------------------


def _condition(spec: Any, known: dict[str, str | None], where: str, needs: set[str]) -> Predicate:
    """A mapping of field -> test, ANDed; ``any``/``all`` take lists, ``not`` a condition."""
    if not isinstance(spec, dict) or not spec:
        raise ContentError(f"{where}: expected a mapping of field -> test")
    parts: list[Predicate] = []
    for key, test in spec.items():
        here = f"{where}.{key}"
        if key in ("any", "all"):
            if not isinstance(test, list) or not test:
                raise ContentError(f"{here}: expected a list of conditions")
            subs = [_condition(t, known, f"{here}[{i}]", needs) for i, t in enumerate(test)]
            parts.append(_any(subs) if key == "any" else _all(subs))
        elif key == "not":
            sub = _condition(test, known, here, needs)
            parts.append(_costly(lambda row, ctx, sub=sub: not sub(row, ctx), _cost(sub), _reads(sub)))
        elif key in known:
            parts.append(_field_test(key, test, known, here, needs))
        else:
            raise ContentError(f"{here}: unknown field {key!r} (known: {', '.join(sorted(known))}; or any/all/not)")
    # a test of the ACL alone is answered once per ACL, not once per entry
    parts = [_per_group(p) if _cost(p) > 1 and _reads(p) <= _GROUP_FIELDS else p for p in parts]
    # cheap tests first: an ACL entry's action is compared before its source is looked up
    parts.sort(key=_cost)
    return _all(parts)


_GROUP_FIELDS = frozenset({"acl", "acl_kind"})  # facts an ACL entry shares with its ACL's other entries


def _cost(pred: Predicate) -> int:
    """How dear a compiled test is (1: a comparison ... 4: a profile lookup)."""
    return getattr(pred, "cost", 1)


def _reads(pred: Predicate) -> frozenset[str]:
    """The facts a compiled test reads."""
    return getattr(pred, "reads", frozenset())


def _costly(pred: Predicate, cost: int, reads: frozenset[str]) -> Predicate:
    pred.cost = cost  # type: ignore[attr-defined]
    pred.reads = reads  # type: ignore[attr-defined]
    return pred


def _per_group(pred: Predicate) -> Predicate:
    fields = tuple(sorted(_reads(pred)))

    def cached(row: _Row, ctx: _Context) -> bool:
        key = (pred, *(row.get(f) for f in fields))
        answer = ctx.memo.get(key)
        if answer is None:
            answer = ctx.memo[key] = pred(row, ctx)
        return answer

    return _costly(cached, 1, _reads(pred))


def _combined(pred: Predicate, subs: list[Predicate]) -> Predicate:
    return _costly(pred, max(map(_cost, subs)), frozenset().union(*map(_reads, subs)))


def _any(subs: list[Predicate]) -> Predicate:
    if len(subs) == 1:
        return subs[0]
    if len(subs) == 2:
        a, b = subs
        return _combined(lambda row, ctx: a(row, ctx) or b(row, ctx), subs)
    return _combined(lambda row, ctx: any(s(row, ctx) for s in subs), subs)


def _all(subs: list[Predicate]) -> Predicate:
    if len(subs) == 1:
        return subs[0]
    if len(subs) == 2:
        a, b = subs
        return _combined(lambda row, ctx: a(row, ctx) and b(row, ctx), subs)
    if len(subs) == 3:
        a, b, c = subs
        return _combined(lambda row, ctx: a(row, ctx) and b(row, ctx) and c(row, ctx), subs)
    return _combined(lambda row, ctx: all(s(row, ctx) for s in subs), subs)


def _field_test(name: str, test: Any, known: dict[str, str | None], where: str, needs: set[str]) -> Predicate:
    if not isinstance(test, dict):
        test = {"equals": test}
    if not test:
        raise ContentError(f"{where}: empty test")
    if len(test) == 1:
        ((op, arg),) = test.items()
        fast = _attribute_test(name, known[name], op, arg)
        if fast is not None:
            return _costly(fast, 1, frozenset({name}))
    tests = [_operator(op, arg, known, f"{where}.{op}", needs) for op, arg in test.items()]
    cost = max(_OPERATOR_COST.get(op, 1) for op in test)
    if len(tests) == 1:
        (one,) = tests
        return _costly(lambda row, ctx: one(row.get(name), ctx), cost, frozenset({name}))
    return _costly(lambda row, ctx: all(t(row.get(name), ctx) for t in tests), cost, frozenset({name}))


def _attribute_test(name: str, kind: str | None, op: str, arg: Any) -> Predicate | None:
    """``equals``/``in`` on a text or boolean attribute, compiled to one attribute read and
    one comparison: the bulk of all tests, run on every item (None: use the general path)."""
    get = attrgetter(name)
    if kind in ("str", "str | None") and op == "equals" and isinstance(arg, str | int) and not isinstance(arg, bool):
        one = str(arg)
        return lambda row, ctx: get(row.item) == one
    if kind in ("str", "str | None") and op == "in" and isinstance(arg, list):
        values = frozenset(norm(a) for a in arg)
        return lambda row, ctx: get(row.item) in values
    if kind == "bool" and op == "equals" and isinstance(arg, bool):
        return lambda row, ctx: get(row.item) is arg
    return None


_OPERATOR_COST = {"regex": 2, "port_pattern": 2, "referenced_by": 3, "outside_profile": 4, "inside_profile": 4}
_SEQUENCES = (tuple, list)


def norm(value: Any) -> Any:
    """Values compare as text (``5`` equals ``"5"``), booleans and None as themselves."""
    if value.__class__ is str or value is None or value.__class__ is bool:
        return value
    return str(value)


def elements(value: Any) -> tuple:
    return tuple(value) if value.__class__ in _SEQUENCES else (value,)


def _lift(test: Callable[[Any, _Context], bool]) -> Callable[[Any, _Context], bool]:
    """A test of one value, applied to a list-valued fact as "does any element pass"."""

    def lifted(value: Any, ctx: _Context) -> bool:
        if value.__class__ in _SEQUENCES:
            return any(test(x, ctx) for x in value)
        return test(value, ctx)

    return lifted


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _operator(op: str, arg: Any, known: set[str], where: str, needs: set[str]) -> Callable[[Any, _Context], bool]:
    """One operator of the vocabulary, compiled. On a list-valued fact (``ports``,
    ``transport_input``...) every operator but ``equals [list]``, ``not_in`` and
    ``missing`` asks whether ANY element passes; ``not_in`` asks whether none is listed."""
    if op == "equals":
        if isinstance(arg, list):
            want = tuple(norm(a) for a in arg)
            return lambda v, ctx: tuple(norm(x) for x in elements(v) if x is not None) == want
        one = norm(arg)
        return _lift(lambda x, ctx: norm(x) == one)
    if op in ("in", "not_in"):
        if not isinstance(arg, list):
            raise ContentError(f"{where}: expected a list")
        values = frozenset(norm(a) for a in arg)
        listed = _lift(lambda x, ctx: norm(x) in values)
        return listed if op == "in" else lambda v, ctx: not listed(v, ctx)
    if op == "regex":
        try:
            pattern = re.compile(str(arg))
        except re.error as exc:
            raise ContentError(f"{where}: invalid regular expression {arg!r}: {exc}") from exc
        return _lift(lambda x, ctx: x is not None and pattern.search(str(x)) is not None)
    if op in ("lt", "lte", "gt", "gte"):
        bound = _number(arg)
        if bound is None:
            raise ContentError(f"{where}: expected a number")
        compare = {
            "lt": lambda x: x < bound,
            "lte": lambda x: x <= bound,
            "gt": lambda x: x > bound,
            "gte": lambda x: x >= bound,
        }[op]
        return _lift(lambda x, ctx: (n := _number(x)) is not None and compare(n))
    if op == "missing":
        if not isinstance(arg, bool):
            raise ContentError(f"{where}: expected true or false")
        return lambda v, ctx: (v is None or v == "" or v == () or v == []) is arg
    if op in ("outside_profile", "inside_profile"):
        kind = str(arg)
        if kind not in KINDS:
            raise ContentError(f"{where}: {arg!r} is not a profile declaration ({', '.join(KINDS)})")
        needs.add(kind)
        wanted = op == "inside_profile"
        return _lift(lambda x, ctx: x is not None and x != "" and ctx.profile.contains(kind, x) is wanted)
    if op == "port_pattern":
        patterns = _string_list(arg, where)
        bad = [p for p in patterns if not _PORT_PATTERN.match(p.lower())]
        if bad or not patterns:
            raise ContentError(
                f"{where}: {', '.join(bad) or 'nothing'}: patterns are digits and x, such as xxx22 or 18xxx"
            )
        regex = re.compile("|".join(f"(?:{p.lower().replace('x', '[0-9]')})" for p in patterns))
        return _lift(
            lambda x, ctx: x is not None and x.__class__ is not bool and regex.fullmatch(str(x).strip()) is not None
        )
    if op == "referenced_by":
        specs = arg if isinstance(arg, list) else [arg]
        refs = tuple(_ref(s, f"{where}[{i}]", needs) for i, s in enumerate(specs))
        return _lift(lambda x, ctx: x is not None and name_key(x) in ctx.referenced(refs))
    raise ContentError(
        f"{where}: unknown operator {op!r} (known: equals, in, not_in, regex, lt, lte, gt, gte, missing,"
        " outside_profile, inside_profile, port_pattern, referenced_by)"
    )


def _ref(spec: Any, where: str, needs: set[str]) -> Ref:
    if not isinstance(spec, dict) or not {"each", "field"} <= set(spec) or set(spec) - _REF_KEYS:
        raise ContentError(f"{where}: expected a mapping with each, field and optionally where")
    collections = _collections(spec["each"], f"{where}.each")
    known = _fields(collections)
    if spec["field"] not in known:
        raise ContentError(f"{where}.field: unknown field {spec['field']!r} for {', '.join(collections)}")
    pred = _condition(spec["where"], known, f"{where}.where", needs) if spec.get("where") is not None else None
    return Ref(collections, pred, spec["field"])


@lru_cache(maxsize=65_536)
def name_key(value: Any) -> str:
    """How names are compared across statements: ``Loopback 0`` = ``loopback0``."""
    return "".join(str(value).split()).lower()


def _show(spec: Any) -> str:
    if isinstance(spec, dict):
        return ", ".join(f"{k} {_show(v)}" if isinstance(v, dict | list) else f"{k} = {v}" for k, v in spec.items())
    if isinstance(spec, list):
        return "[" + "; ".join(_show(s) for s in spec) + "]"
    return str(spec)


def _text(spec: dict, key: str, where: str) -> str:
    value = spec.get(key) or ""
    if not isinstance(value, str):
        raise ContentError(f"{where}: {key}: expected text")
    return " ".join(value.split())


def _string_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str | int) and not isinstance(value, bool):
        return [str(value)]
    if not isinstance(value, list) or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in value):
        raise ContentError(f"{where}: expected a string or a list of strings")
    return [str(v) for v in value]
