"""The config-check engine: the catalog's checks run on parsed configurations.

The catalog (``seawall.detect.config_catalog``) is read, validated and compiled once;
this module runs it. ``evaluate`` runs the compromise and hardening checks on one
configuration, in one pass over the items each check reads; ``evaluate_drift`` runs the
drift checks on two snapshots of a device (an item of the earlier one, selected by a
``removed`` clause, that the later one no longer has). Failures become Findings with
``to_findings``.

Statuses: ``fail`` (with the offending items and their exact lines), ``pass``,
``not-applicable`` (the check is for other platforms, or its ``when`` finds nothing) and
``not-evaluated`` (the configuration was rejected, its platform unknown, or the site
profile lacks a declaration the check needs — never a guess).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from operator import attrgetter
from pathlib import Path
from typing import Any

from seawall.detect.config_catalog import (
    CHECK_KINDS,
    CONTENT,
    DRIFT,
    EXTRA_FIELDS,
    KEY_FIELDS,
    NOUNS,
    Catalog,
    Check,
    Clause,
    Join,
    Ref,
    default_catalog,
    elements,
    load_catalog,
    name_key,
    norm,
)
from seawall.detect.finding import Evidence, Finding
from seawall.detect.profile import DESCRIPTIONS, SiteProfile
from seawall.sources.configs.model import DeviceConfig, Item

__all__ = [
    "CHECK_KINDS",
    "CONTENT",
    "DRIFT",
    "FAIL",
    "KEY_FIELDS",
    "NOT_APPLICABLE",
    "NOT_EVALUATED",
    "NOUNS",
    "PASS",
    "STATUSES",
    "Catalog",
    "Check",
    "CheckResult",
    "Clause",
    "Offense",
    "bare",
    "default_catalog",
    "device_name",
    "evaluate",
    "evaluate_all",
    "evaluate_drift",
    "identity",
    "load_catalog",
    "to_findings",
]

STATUSES = ("fail", "not-evaluated", "not-applicable", "pass")
PASS, FAIL, NOT_APPLICABLE, NOT_EVALUATED = "pass", "fail", "not-applicable", "not-evaluated"


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
    """The outcome of one check on one configuration (a drift check's: on two snapshots,
    named by the later one, its offenses quoting the earlier one)."""

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

    def __init__(self, row: _Row, joins: dict[str, Join], ctx: _Context) -> None:
        super().__init__(row.collection, row.item, dict(row.extra or {}))
        self.joins = joins
        self.ctx = ctx

    def get(self, name: str) -> Any:
        extra = self.extra
        if name in extra:  # type: ignore[operator]
            return extra[name]  # type: ignore[index]
        join = self.joins.get(name)
        return getattr(self.item, name, None) if join is None else self._resolve(join)

    def _resolve(self, join: Join) -> tuple:
        values: list[Any] = []
        lines = list(self.lines)
        index = self.ctx.index(join.source, join.key)
        for value in elements(self.get(join.field)):
            for other in index.get(name_key(value), ()) if value is not None else ():
                values.extend(v for v in elements(getattr(other, join.take, None)) if v is not None)
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
        self._identities: dict[str, frozenset[tuple]] = {}
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

    def referenced(self, refs: tuple[Ref, ...]) -> frozenset[str]:
        found = self._refs.get(id(refs))  # the compiled catalog holds refs: its id is stable
        if found is None:
            values = set()
            for ref in refs:
                for collection in ref.collections:
                    for row in self.rows(collection):
                        if ref.where is None or ref.where(row, self):
                            values.update(name_key(v) for v in elements(row.get(ref.field)) if v not in (None, ""))
            found = self._refs[id(refs)] = frozenset(values)
        return found

    def identities(self, collection: str) -> frozenset[tuple]:
        """What the items of a collection are, whatever their lines (see ``identity``)."""
        found = self._identities.get(collection)
        if found is None:
            found = frozenset(identity(r.collection, r.item, r.extra) for r in self.rows(collection))
            self._identities[collection] = found
        return found

    def index(self, collection: str, key: str) -> dict[str, list[Item]]:
        found = self._index.get((collection, key))
        if found is None:
            found = {}
            for row in self.rows(collection):
                for value in elements(row.get(key)):
                    if value not in (None, ""):
                        found.setdefault(name_key(value), []).append(row.item)
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
            last[norm(row.get(clause.last_per))] = row
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
    """Run the compromise and hardening checks of the catalog on one configuration;
    results sorted by check id. (Drift checks compare two snapshots: ``evaluate_drift``.)"""
    catalog = catalog if catalog is not None else default_catalog()
    profile = profile if profile is not None else SiteProfile.empty()
    ctx = _Context(config, profile)
    device = device_name(config)
    results = []
    for check in catalog.checks:
        if check.is_drift:  # never in ``checks`` when the catalog was loaded, but a Catalog can be built by hand
            continue
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


def evaluate_drift(
    before: DeviceConfig, after: DeviceConfig, catalog: Catalog | None = None, profile: SiteProfile | None = None
) -> list[CheckResult]:
    """Run the drift checks of the catalog on two snapshots of a device, ``before`` the
    earlier: a check fails with each item of ``before`` its ``removed`` clauses select
    that ``after`` no longer has (the same facts, wherever the line). The offenses quote
    ``before``'s lines; the results name ``after`` (device, path, platform)."""
    catalog = catalog if catalog is not None else default_catalog()
    profile = profile if profile is not None else SiteProfile.empty()
    old, new = _Context(before, profile), _Context(after, profile)
    device = device_name(after)
    results = []
    for check in catalog.drift:
        status, reason, items = _run_removed(check, old, new)
        results.append(CheckResult(check, device, after.path, after.platform, status, reason, items))
    return results


def _undecided(check: Check, config: DeviceConfig, ctx: _Context) -> tuple[str, str | None] | None:
    """Why a check cannot run on this configuration, as (status, reason), or None when it can."""
    if config.status == "rejected":
        return NOT_EVALUATED, f"configuration not parsed: {config.reason or 'rejected'}"
    if check.platforms:
        if config.platform is None:
            return NOT_EVALUATED, f"platform not recognised; check applies to {', '.join(check.platforms)}"
        if config.platform not in check.platforms:
            return NOT_APPLICABLE, f"check applies to {', '.join(check.platforms)}"
    missing = [k for k in check.needs if not ctx.profile.declares(k)]
    if missing:
        if all(c.mode != "require" and not any(ctx.rows(n) for n in c.collections) for c in check.clauses):
            read = ", ".join(dict.fromkeys(n for c in check.clauses for n in c.collections))
            return PASS, f"nothing to compare: {read} empty"
        return NOT_EVALUATED, "profile declares no " + ", no ".join(DESCRIPTIONS[k] for k in missing)
    return None


def _run(check: Check, config: DeviceConfig, ctx: _Context) -> tuple[str, str | None, tuple[Offense, ...]]:
    undecided = _undecided(check, config, ctx)
    if undecided is not None:
        return (*undecided, ())
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
    return _outcome(failures, reasons)


def _run_removed(check: Check, old: _Context, new: _Context) -> tuple[str, str | None, tuple[Offense, ...]]:
    """A drift check: the platform, the profile's declarations and the items are the
    earlier snapshot's; a rejected snapshot on either side decides nothing."""
    if new.config.status == "rejected":
        return NOT_EVALUATED, f"later configuration not parsed: {new.config.reason or 'rejected'}", ()
    undecided = _undecided(check, old.config, old)
    if undecided is not None:
        return (*undecided, ())
    failures = [
        _offense(row, old.config, removal=True)
        for clause in check.clauses
        for row in _selected(clause, old)
        if identity(row.collection, row.item, row.extra) not in new.identities(row.collection)
    ]
    return _outcome(failures, [])


def _outcome(failures: list[Offense], reasons: list[str]) -> tuple[str, str | None, tuple[Offense, ...]]:
    if not failures and not reasons:
        return PASS, None, ()
    unique = tuple(sorted(dict.fromkeys(failures), key=lambda o: (o.lines[:1] or ((0, ""),), o.label)))
    return FAIL, "; ".join(reasons) or None, unique


def _offense(row: _Row, config: DeviceConfig, removal: bool = False) -> Offense:
    """An offending item; a removed one is labelled as drift names it (``logging host: ADDRESS``,
    ``acl entry: ACL SEQUENCE``), an item of a check by its collection (``logging_hosts: ...``)."""
    if removal:
        keys = KEY_FIELDS.get(row.collection, ())
        if row.collection == "acl_entries":  # as drift keys them: by ACL and sequence, or text when unnumbered
            keys = ("acl", "sequence") if row.get("sequence") is not None else ("acl", "text")
        noun = NOUNS.get(row.collection, row.collection)
    else:
        keys, noun = KEY_FIELDS.get(row.collection, ()), row.collection
    label = " ".join(str(v) for k in keys if (v := row.get(k)) not in (None, ""))
    return Offense(
        collection=row.collection,
        label=f"{noun}: {label}" if label else noun,
        lines=tuple(config.text(tuple(sorted(set(row.lines))))),
        item=row.item,
        identity=identity(row.collection, row.item, row.extra),
    )


def identity(collection: str, item: Item, extra: dict[str, Any] | None = None) -> tuple:
    """What an item is, whatever its line numbers: equal across snapshots when unchanged.
    (Drift computes this for every item of two configurations: one C-level attribute read
    per item, nested items such as an ACL's entries stripped of their lines.)"""
    facts = _facts_of(type(item))(item)
    names = EXTRA_FIELDS.get(collection)
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
