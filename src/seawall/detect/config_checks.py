"""The config-check engine: a catalog of checks, written as data, run on parsed configurations.

A check names a collection of the configuration model (``users``, ``lines``,
``acl_entries``...), conditions on the facts of its items, and whether matching items
are failures (``each``) or one must exist (``require``). The vocabulary is small and
documented in docs/CONFIG_AUDIT.md; every condition is compiled once per catalog into
Python closures, so a configuration costs one pass over the items each check reads.

Statuses: ``fail`` (with the offending items and their exact lines), ``pass``,
``not-applicable`` (the check is for other platforms, or its ``when`` finds nothing) and
``not-evaluated`` (the configuration was rejected, its platform unknown, or the site
profile lacks a declaration the check needs — never a guess).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from importlib import resources
from operator import attrgetter
from pathlib import Path
from typing import Any

import yaml

from seawall.detect.finding import SEVERITIES, Evidence, Finding
from seawall.detect.profile import DESCRIPTIONS, KINDS, SiteProfile
from seawall.errors import ContentError
from seawall.sources.configs import model
from seawall.sources.configs.model import COLLECTIONS, PLATFORMS, DeviceConfig, Item

CONTENT = resources.files("seawall.content").joinpath("config_checks.yaml")
CHECK_KINDS = ("compromise", "hardening")
STATUSES = ("fail", "not-evaluated", "not-applicable", "pass")
PASS, FAIL, NOT_APPLICABLE, NOT_EVALUATED = "pass", "fail", "not-applicable", "not-evaluated"

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
_EXTRA_FIELDS = {"acl_entries": ("acl", "acl_kind")}
assert set(COLLECTIONS) <= set(_ITEM_TYPES), "a model collection has no item type here"
# What identifies an item of each collection (for labels here, and for drift's keys).
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
}
_REQUIRED_KEYS = ("id", "title", "kind", "severity", "match")
_CLAUSE_KEYS = {"each", "where", "join", "last_per"}
_JOIN_KEYS = {"field", "from", "key", "take"}
_REF_KEYS = {"each", "where", "field"}
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_TECHNIQUE = re.compile(r"^T\d{4}(?:\.\d{3})?$")
_PORT_PATTERN = re.compile(r"^[0-9x]{1,5}$")


# --- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Offense:
    """One offending item: which collection, a short label, and its lines as written."""

    collection: str
    label: str
    lines: tuple[tuple[int, str], ...]
    item: Item = field(compare=False, repr=False)
    identity: tuple = field(compare=False, repr=False)  # collection + facts without lines: same across snapshots


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one configuration."""

    check: Check
    device: str  # hostname, or the file's stem when the configuration does not say
    path: str
    platform: str | None
    status: str  # one of STATUSES
    reason: str | None = None  # why not evaluated / not applicable, or what a failing ``require`` missed
    items: tuple[Offense, ...] = ()

    @property
    def evidence(self) -> list[tuple[int, str]]:
        """Every offending line, once, in file order."""
        return sorted({line for offense in self.items for line in offense.lines})


# --- the catalog --------------------------------------------------------------------------

Predicate = Callable[["_Row", "_Context"], bool]


@dataclass(frozen=True)
class _Join:
    name: str
    source: str
    field: str  # of the clause's items: its value is looked up ...
    key: str  # ... in this field of the source's items
    take: str  # and this field of the items found becomes the joined value


@dataclass(frozen=True)
class _Ref:
    collections: tuple[str, ...]
    where: Predicate | None
    field: str


@dataclass(frozen=True)
class Clause:
    """``each`` (matching items fail) or ``require`` (fails when nothing matches)."""

    mode: str  # "each" or "require"
    collections: tuple[str, ...]
    where: Predicate | None
    joins: tuple[_Join, ...]
    last_per: str | None
    text: str  # the clause as written, for reasons


@dataclass(frozen=True)
class Check:
    """One check of the catalog, compiled."""

    id: str
    title: str
    kind: str
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


@dataclass(frozen=True)
class Catalog:
    checks: tuple[Check, ...]
    source: str

    def __iter__(self):
        return iter(self.checks)

    def __len__(self) -> int:
        return len(self.checks)

    def get(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def only(self, kind: str) -> Catalog:
        """The checks of one kind (compromise or hardening)."""
        return Catalog(tuple(c for c in self.checks if c.kind == kind), self.source)


def load_catalog(path: Path | str | None = None) -> Catalog:
    """The built-in catalog, or a catalog file of one's own.

    A file with ``include_builtin: true`` adds to the built-in checks (a check with a
    built-in id replaces it) and may ``disable`` built-in ids; otherwise it stands alone.
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
    if not data.get("include_builtin"):
        if data.get("disable"):
            raise ContentError(f"{path}: disable: only meaningful with include_builtin: true")
        return own
    builtin = load_catalog()
    disabled = set(_string_list(data.get("disable"), f"{path}: disable"))
    unknown = sorted(disabled - {c.id for c in builtin})
    if unknown:
        raise ContentError(f"{path}: disable: unknown built-in check id {', '.join(unknown)}")
    mine = {c.id for c in own}
    merged = [c for c in builtin if c.id not in disabled and c.id not in mine] + list(own)
    return Catalog(tuple(sorted(merged, key=lambda c: c.id)), f"built-in + {path}")


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
    return Catalog(tuple(sorted(checks.values(), key=lambda c: c.id)), where)


def _check(spec: Any, where: str) -> Check:
    if not isinstance(spec, dict):
        raise ContentError(f"{where}: expected a mapping")
    unknown = sorted(set(spec) - _CHECK_KEYS)
    if unknown:
        raise ContentError(f"{where}: unknown key {', '.join(unknown)} (known: {', '.join(sorted(_CHECK_KEYS))})")
    missing = [k for k in _REQUIRED_KEYS if not spec.get(k)]
    if missing:
        raise ContentError(f"{where}: missing key {', '.join(missing)}")
    if not isinstance(spec["id"], str) or not _ID.match(spec["id"]):
        raise ContentError(f"{where}: id: {spec['id']!r} is not an identifier")
    if spec["kind"] not in CHECK_KINDS:
        raise ContentError(f"{where}: kind: {spec['kind']!r} is not one of {', '.join(CHECK_KINDS)}")
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
    match = spec["match"]
    specs = match if isinstance(match, list) else [match]
    clauses = tuple(
        _clause(c, f"{where}: match" + (f"[{i}]" if isinstance(match, list) else ""), needs)
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


def _clause(spec: Any, where: str, needs: set[str]) -> Clause:
    if not isinstance(spec, dict):
        raise ContentError(f"{where}: expected a mapping with 'each' or 'require'")
    mode = "each"
    if "require" in spec:
        if set(spec) != {"require"}:
            raise ContentError(f"{where}: 'require' stands alone; put each/where inside it")
        mode, spec, where = "require", spec["require"], f"{where}.require"
        if not isinstance(spec, dict):
            raise ContentError(f"{where}: expected a mapping with 'each'")
    unknown = sorted(set(spec) - _CLAUSE_KEYS)
    if unknown:
        raise ContentError(
            f"{where}: unknown key {', '.join(unknown)} (known: require, {', '.join(sorted(_CLAUSE_KEYS))})"
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
        own.update({extra: None for extra in _EXTRA_FIELDS.get(name, ())})
        for fact, kind in own.items():
            known[fact] = kind if number == 0 or known.get(fact, kind) == kind else None
        for fact in set(known) - set(own):
            known[fact] = None
    return known


def _join(name: str, spec: Any, collections: tuple[str, ...], where: str) -> _Join:
    if not isinstance(spec, dict) or set(spec) != _JOIN_KEYS:
        raise ContentError(f"{where}: expected exactly the keys {', '.join(sorted(_JOIN_KEYS))}")
    (source,) = _collections(spec["from"], f"{where}.from")
    if spec["field"] not in _fields(collections):
        raise ContentError(f"{where}.field: unknown field {spec['field']!r} for {', '.join(collections)}")
    for key in ("key", "take"):
        if spec[key] not in _fields([source]):
            raise ContentError(f"{where}.{key}: unknown field {spec[key]!r} for {source}")
    return _Join(str(name), source, spec["field"], spec["key"], spec["take"])


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
        values = frozenset(_norm(a) for a in arg)
        return lambda row, ctx: get(row.item) in values
    if kind == "bool" and op == "equals" and isinstance(arg, bool):
        return lambda row, ctx: get(row.item) is arg
    return None


_OPERATOR_COST = {"regex": 2, "port_pattern": 2, "referenced_by": 3, "outside_profile": 4, "inside_profile": 4}
_SEQUENCES = (tuple, list)


def _norm(value: Any) -> Any:
    """Values compare as text (``5`` equals ``"5"``), booleans and None as themselves."""
    if value.__class__ is str or value is None or value.__class__ is bool:
        return value
    return str(value)


def _elements(value: Any) -> tuple:
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
            want = tuple(_norm(a) for a in arg)
            return lambda v, ctx: tuple(_norm(x) for x in _elements(v) if x is not None) == want
        one = _norm(arg)
        return _lift(lambda x, ctx: _norm(x) == one)
    if op in ("in", "not_in"):
        if not isinstance(arg, list):
            raise ContentError(f"{where}: expected a list")
        values = frozenset(_norm(a) for a in arg)
        listed = _lift(lambda x, ctx: _norm(x) in values)
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
        return _lift(lambda x, ctx: x is not None and _key(x) in ctx.referenced(refs))
    raise ContentError(
        f"{where}: unknown operator {op!r} (known: equals, in, not_in, regex, lt, lte, gt, gte, missing,"
        " outside_profile, inside_profile, port_pattern, referenced_by)"
    )


def _ref(spec: Any, where: str, needs: set[str]) -> _Ref:
    if not isinstance(spec, dict) or not {"each", "field"} <= set(spec) or set(spec) - _REF_KEYS:
        raise ContentError(f"{where}: expected a mapping with each, field and optionally where")
    collections = _collections(spec["each"], f"{where}.each")
    known = _fields(collections)
    if spec["field"] not in known:
        raise ContentError(f"{where}.field: unknown field {spec['field']!r} for {', '.join(collections)}")
    pred = _condition(spec["where"], known, f"{where}.where", needs) if spec.get("where") is not None else None
    return _Ref(collections, pred, spec["field"])


@lru_cache(maxsize=65_536)
def _key(value: Any) -> str:
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


# --- evaluation -------------------------------------------------------------------------


class _Row:
    """An item with the extra facts a clause adds (its ACL, joined values) and its lines."""

    __slots__ = ("collection", "extra", "item", "lines")

    def __init__(self, collection: str, item: Item, extra: dict[str, Any] | None = None) -> None:
        self.collection = collection
        self.item = item
        self.extra = extra
        self.lines = item.lines

    def get(self, name: str) -> Any:
        if self.extra is not None and name in self.extra:
            return self.extra[name]
        return getattr(self.item, name, None)


class _JoinedRow(_Row):
    """A row with joined facts, looked up only when a test reads them: most rows fail a
    cheaper test first (an SSH service without a loopback source never looks for one)."""

    __slots__ = ("ctx", "joins")

    def __init__(self, row: _Row, joins: dict[str, _Join], ctx: _Context) -> None:
        super().__init__(row.collection, row.item, dict(row.extra or {}))
        self.joins = joins
        self.ctx = ctx

    def get(self, name: str) -> Any:
        extra = self.extra
        if name in extra:  # type: ignore[operator]
            return extra[name]  # type: ignore[index]
        join = self.joins.get(name)
        return getattr(self.item, name, None) if join is None else self._resolve(join)

    def _resolve(self, join: _Join) -> tuple:
        values: list[Any] = []
        lines = list(self.lines)
        index = self.ctx.index(join.source, join.key)
        for value in _elements(self.get(join.field)):
            for other in index.get(_key(value), ()) if value is not None else ():
                values.extend(v for v in _elements(getattr(other, join.take, None)) if v is not None)
                lines.extend(other.lines)
        self.extra[join.name] = found = tuple(values)  # type: ignore[index]
        self.lines = tuple(dict.fromkeys(lines))
        return found

    def complete(self) -> None:
        for name, join in self.joins.items():
            if name not in self.extra:  # type: ignore[operator]
                self._resolve(join)


class _Context:
    """One configuration being evaluated, with what the clauses share (rows, references)."""

    def __init__(self, config: DeviceConfig, profile: SiteProfile) -> None:
        self.config = config
        self.profile = profile
        self._rows: dict[str, list[_Row]] = {}
        self._refs: dict[int, frozenset[str]] = {}
        self._index: dict[tuple[str, str], dict[str, list[Item]]] = {}
        self.memo: dict[tuple, bool] = {}  # answers of tests that read only an ACL's own facts

    def rows(self, collection: str) -> list[_Row]:
        rows = self._rows.get(collection)
        if rows is None:
            if collection == "acl_entries":
                rows = []
                for acl in self.config.acls:
                    extra = {"acl": acl.name, "acl_kind": acl.kind}  # shared by the ACL's entries
                    rows.extend(_Row(collection, entry, extra) for entry in acl.entries)
            else:
                rows = [_Row(collection, item) for item in getattr(self.config, collection)]
            self._rows[collection] = rows
        return rows

    def referenced(self, refs: tuple[_Ref, ...]) -> frozenset[str]:
        found = self._refs.get(id(refs))  # the compiled catalog holds refs: its id is stable
        if found is None:
            values = set()
            for ref in refs:
                for collection in ref.collections:
                    for row in self.rows(collection):
                        if ref.where is None or ref.where(row, self):
                            values.update(_key(v) for v in _elements(row.get(ref.field)) if v not in (None, ""))
            found = self._refs[id(refs)] = frozenset(values)
        return found

    def index(self, collection: str, key: str) -> dict[str, list[Item]]:
        found = self._index.get((collection, key))
        if found is None:
            found = {}
            for row in self.rows(collection):
                for value in _elements(row.get(key)):
                    if value not in (None, ""):
                        found.setdefault(_key(value), []).append(row.item)
            self._index[(collection, key)] = found
        return found


def _selected(clause: Clause, ctx: _Context) -> list[_Row]:
    """The rows of a clause that satisfy its conditions, joins applied."""
    rows: list[_Row] = []
    for collection in clause.collections:
        rows.extend(ctx.rows(collection))
    if clause.last_per:
        last: dict[Any, _Row] = {}
        for row in rows:
            last[_norm(row.get(clause.last_per))] = row
        rows = list(last.values())
    if clause.joins:
        joins = {j.name: j for j in clause.joins}
        rows = [_JoinedRow(row, joins, ctx) for row in rows]
    if clause.where is not None:
        rows = [row for row in rows if clause.where(row, ctx)]
    for row in rows:
        if isinstance(row, _JoinedRow):
            row.complete()  # the joined items' lines are evidence too
    return rows


def device_name(config: DeviceConfig) -> str:
    """The name a result shows: the configuration's hostname, else its file's stem."""
    return config.hostname or Path(config.path).stem


def evaluate(
    config: DeviceConfig, catalog: Catalog | None = None, profile: SiteProfile | None = None
) -> list[CheckResult]:
    """Run every check of the catalog on one configuration; results sorted by check id."""
    catalog = catalog if catalog is not None else default_catalog()
    profile = profile if profile is not None else SiteProfile.empty()
    ctx = _Context(config, profile)
    device = device_name(config)
    results = []
    for check in catalog.checks:
        status, reason, items = _run(check, config, ctx)
        results.append(CheckResult(check, device, config.path, config.platform, status, reason, items))
    return results


def evaluate_all(
    configs: Iterable[DeviceConfig], catalog: Catalog | None = None, profile: SiteProfile | None = None
) -> list[CheckResult]:
    """Results of many configurations, sorted by device, path and check id."""
    catalog = catalog if catalog is not None else default_catalog()
    results = [r for config in configs for r in evaluate(config, catalog, profile)]
    return sorted(results, key=lambda r: (r.device, r.path, r.check.id))


_DEFAULT: list[Catalog] = []


def default_catalog() -> Catalog:
    """The built-in catalog, loaded once."""
    if not _DEFAULT:
        _DEFAULT.append(load_catalog())
    return _DEFAULT[0]


def _run(check: Check, config: DeviceConfig, ctx: _Context) -> tuple[str, str | None, tuple[Offense, ...]]:
    if config.status == "rejected":
        return NOT_EVALUATED, f"configuration not parsed: {config.reason or 'rejected'}", ()
    if check.platforms:
        if config.platform is None:
            return NOT_EVALUATED, f"platform not recognised; check applies to {', '.join(check.platforms)}", ()
        if config.platform not in check.platforms:
            return NOT_APPLICABLE, f"check applies to {', '.join(check.platforms)}", ()
    missing = [k for k in check.needs if not ctx.profile.declares(k)]
    if missing:
        if all(c.mode == "each" and not any(ctx.rows(n) for n in c.collections) for c in check.clauses):
            return (
                PASS,
                "nothing to compare: "
                + ", ".join(dict.fromkeys(n for c in check.clauses for n in c.collections))
                + " empty",
                (),
            )
        return NOT_EVALUATED, "profile declares no " + ", no ".join(DESCRIPTIONS[k] for k in missing), ()
    if check.when is not None and not _selected(check.when, ctx):
        return NOT_APPLICABLE, f"nothing to check: no {check.when.text}", ()
    failures: list[Offense] = []
    reasons: list[str] = []
    for clause in check.clauses:
        rows = _selected(clause, ctx)
        if clause.mode == "require":
            if not rows:
                reasons.append(f"expected {clause.text}; none found")
                if config.status == "partial" and config.unparsed:  # the statement may be in what was not read
                    unread = ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in config.unparsed[:5])
                    reasons[-1] += f" (configuration only partly parsed; lines {unread} unread)"
        else:
            failures.extend(_offense(row, config) for row in rows)
    if not failures and not reasons:
        return PASS, None, ()
    unique = tuple(sorted(dict.fromkeys(failures), key=lambda o: (o.lines[:1] or ((0, ""),), o.label)))
    return FAIL, "; ".join(reasons) or None, unique


def _offense(row: _Row, config: DeviceConfig) -> Offense:
    keys = KEY_FIELDS.get(row.collection, ())
    label = " ".join(str(v) for k in keys if (v := row.get(k)) not in (None, ""))
    return Offense(
        collection=row.collection,
        label=f"{row.collection}: {label}" if label else row.collection,
        lines=tuple(config.text(tuple(sorted(set(row.lines))))),
        item=row.item,
        identity=identity(row.collection, row.item, row.extra),
    )


def identity(collection: str, item: Item, extra: dict[str, Any] | None = None) -> tuple:
    """What an item is, whatever its line numbers: equal across snapshots when unchanged.
    (Drift computes this for every item of two configurations: one C-level attribute read
    per item, nested items such as an ACL's entries stripped of their lines.)"""
    facts = _facts_of(type(item))(item)
    names = _EXTRA_FIELDS.get(collection)
    context = tuple((k, extra.get(k)) for k in names) if names and extra else ()
    return (collection, facts, context)


_FACT_READERS: dict[type, Callable[[Item], tuple]] = {}


def _facts_of(kind: type) -> Callable[[Item], tuple]:
    """A reader of an item class's facts (every field but ``lines``) as one tuple."""
    reader = _FACT_READERS.get(kind)
    if reader is not None:
        return reader
    facts = [f for f in fields(kind) if f.name != "lines"]
    get = attrgetter(*(f.name for f in facts))
    # fields holding items (``tuple[AclEntry, ...]``) keep line numbers: those are stripped
    nested = {i for i, f in enumerate(facts) if str(f.type).startswith("tuple[") and str(f.type)[6:7].isupper()}

    def single(item: Item) -> tuple:
        return (get(item),)

    def stripped(item: Item) -> tuple:
        return tuple(bare(v) if i in nested else v for i, v in enumerate(get(item)))

    reader = single if len(facts) == 1 else stripped if nested else get
    _FACT_READERS[kind] = reader
    return reader


def bare(value: Any) -> Any:
    """Facts without line numbers, nested items included (an ACL's entries)."""
    if isinstance(value, Item):
        return (type(value).__name__, tuple(sorted((k, bare(v)) for k, v in value.facts().items())))
    if isinstance(value, tuple | list):
        return tuple(bare(v) for v in value)
    return value


# --- findings ---------------------------------------------------------------------------


def to_findings(results: Sequence[CheckResult]) -> list[Finding]:
    """Failed checks as Findings (one per check and device), for reports and findings.jsonl."""
    findings = []
    for result in results:
        if result.status != FAIL:
            continue
        check = result.check
        lines = result.evidence
        description = check.rationale
        if result.reason:
            description = f"{description} {result.reason}".strip()
        findings.append(
            Finding(
                rule_id=check.id,
                title=check.title,
                severity=check.severity,
                detector="config",
                description=description,
                techniques=list(check.techniques),
                entities={"host": [result.device]},
                evidence=[Evidence(path=result.path, line=n, text=t) for n, t in lines]
                or [Evidence(path=result.path, text=result.reason)],
                event_count=len(result.items) or 1,
                references=list(check.references),
            )
        )
    return findings
