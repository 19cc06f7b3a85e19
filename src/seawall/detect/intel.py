"""Threat intelligence as a detector: every indicator of the workspace's intel store, matched.

The importers (seawall.intel) turn STIX bundles, MISP events and indicator lists into STIX
2.1 patterns in ``intel_indicators``. Here each active (not revoked) indicator is compiled
(seawall.detect.stix_patterns) and matched within its validity window:

* atomic indicators (values, CIDRs) in one hash join per event column, whatever their
  number: addresses through their canonical form (IPv6 in any spelling) and CIDRs through
  a prefix-bucket join on the distinct addresses of the workspace (IPv4 address atoms
  filed there as /32 networks when there are CIDRs); and as whole tokens in each event's
  text (event.original, else message), every token pattern run once over the text, which
  catches addresses in log lines;
* every other pattern as row filters evaluated together in one scan per batch, then its
  observation operators over the matching events' timestamps.

One finding per indicator, named by its STIX id, with the advisory it came from, the
malware it indicates and the ATT&CK techniques behind it.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from ibis.common.exceptions import TableNotFound

from seawall.content import column_map
from seawall.detect.base import Detector, EventStore, HuntContext, register, summarise
from seawall.detect.finding import SEVERITIES, Finding, severity_rank
from seawall.detect.stix_patterns import (
    CompExpr,
    Compiled,
    Evaluation,
    PatternError,
    compile_pattern,
    compile_table,
    folds_case,
    ipv4_number,
    is_address,
    predicate,
)
from seawall.intel.markings import strictest
from seawall.intel.store import INDICATORS, OBJECTS, RELATIONSHIPS, SOURCES
from seawall.store.schema import MESSAGE, ORIGINAL, SOURCE_OFFSET, SOURCE_PATH, TIMESTAMP

KEY = (SOURCE_PATH, SOURCE_OFFSET)  # an event's identity (what its id is made of)
IOC = "_ioc"
# Temporary tables of one run: the atoms of every indicator, and the (indicator, event) hits.
ATOMS = "_seawall_intel_atoms"
HITS = "_seawall_intel_hits"
RAW_HITS = "_seawall_intel_raw_hits"  # before the validity windows
LEAF_BATCH = 32  # observation filters evaluated in one scan of the events
MAX_LEAF_HITS = 1_000_000  # events one observation may match before its indicators are skipped
MAX_REFERENCES = 20
_TECHNIQUE = re.compile(
    r"TA?\d{4}(?:\.\d{3})?"
)  # ATT&CK techniques, and tactics (TA0011) where an advisory names only those
# Paths whose values are looked for as tokens of the event text (all of them token-shaped).
_TOKEN_OBJECTS = ("domain-name:value", "url:value", "email-addr:value")


def intel_fields() -> dict[str, tuple[str, ...]]:
    """STIX object path -> event columns that can carry its value (content/intel_fields.yaml)."""
    return column_map("intel_fields.yaml")


def tokenised(path: str) -> bool:
    """Are values of this path searched as tokens in event text?"""
    if path.endswith(("SSDEEP", "TLSH")):
        return False
    return (
        is_address(path)
        or path in _TOKEN_OBJECTS
        or ".hashes." in path
        or ":hashes." in path
        or (path.startswith("email-message:") and path.endswith(".value"))
    )


@dataclass
class _Loaded:
    """The compiled indicators of one hunt: atoms in a temporary table, plans in memory."""

    active: ir.Table  # indicators that are not revoked
    compiled: int = 0  # indicators that run
    atoms: ir.Table | None = None  # IOC, path, kind, value, prefix
    paths: dict[str, set[str]] = field(default_factory=dict)  # "ip4", "cidr4", "ip6", "text" -> paths
    lengths: set[int] = field(default_factory=set)  # prefix lengths of the IPv4 CIDRs
    ip6: list[tuple[str, str, str, int]] = field(default_factory=list)  # (IOC, path, network, prefix)
    plans: list[tuple[str, Compiled]] = field(default_factory=list)
    windows: dict[str, list[tuple[int | None, int | None]]] = field(default_factory=dict)  # plans' validity

    @property
    def address_paths(self) -> set[str]:
        return self.paths.get("ip4", set()) | self.paths.get("ip6", set()) | self.paths.get("cidr4", set())


@register
class IntelDetector(Detector):
    name = "intel"

    def run(self, store: EventStore, ctx: HuntContext) -> Iterable[Finding]:
        indicators = _table(store, INDICATORS)
        if indicators is None:
            return
        events = store.events()
        backend = ibis.get_backend(events)
        _drop_temporary(backend)
        try:  # every query done before the first finding is handed out
            findings = self._findings(store, events, backend, indicators, ctx)
        finally:
            _drop_temporary(backend)
        yield from findings

    def _findings(
        self, store: EventStore, events: ibis.Table, backend: Any, indicators: ibis.Table, ctx: HuntContext
    ) -> list[Finding]:
        fields = intel_fields()
        loaded = load(indicators, fields, backend, ctx, self.name)
        if not loaded.compiled:
            return []
        ctx.ran[self.name] = loaded.compiled
        present = {path: [c for c in cols if c in events.columns] for path, cols in fields.items()}
        parts = [*column_hits(events, loaded, present), *token_hits(events, loaded)]
        hits = []
        if parts:
            raw = backend.create_table(RAW_HITS, _union(parts), temp=True)
            hits.append(in_validity(raw, loaded, ctx))
            _note_outside_validity(raw, hits[0], ctx, self.name)
        planned = plan_hits(events, loaded, fields, ctx, self.name)
        if planned is not None:
            hits.append(planned)
        if not hits:
            return []
        kept = backend.create_table(HITS, _union(hits).distinct(), temp=True)
        matched = events.join(kept, list(KEY)).select(*events.columns, IOC)
        groups = summarise(matched, (IOC,), ctx.max_evidence, ctx.keep_values)
        if not groups:
            return []
        about = _about(store, loaded, [g.key[IOC] for g in groups])
        findings = [_finding(g, about[g.key[IOC]], self.name) for g in groups]
        findings.sort(key=lambda f: (-severity_rank(f.severity), -f.event_count, f.rule_id))
        return findings


def _drop_temporary(backend: Any) -> None:
    for name in (ATOMS, HITS, RAW_HITS):
        # Ibis' drop_table emits no table name with this sqlglot; the statement is plain.
        backend.con.execute(f'DROP TABLE IF EXISTS temp.main."{name}"')


# ------------------------------------------------------------------------------- loading
def _table(store: EventStore, name: str) -> ibis.Table | None:
    """A table of the store's database, or None when it has none (no intel imported yet)."""
    try:
        return ibis.get_backend(store.events()).table(name)
    except TableNotFound:
        return None


def load(
    indicators: ibis.Table, fields: Mapping[str, Sequence[str]], backend: Any, ctx: HuntContext, name: str
) -> _Loaded:
    """Compile every indicator that is not revoked; report those that cannot run.

    One-comparison patterns (nearly all of a large feed) are compiled in the engine
    (``compile_table``) into a temporary table of atoms; the others one by one with
    ``compile_pattern``, their atoms added to the table.
    """
    revoked = indicators.revoked.fill_null(False)
    if n_revoked := _count(indicators.filter(revoked)):
        ctx.note(name, "revoked", f"{n_revoked:,} revoked indicator(s) not matched")
    active = indicators.filter(~revoked)
    foreign = active.pattern_type.notnull() & (active.pattern_type != "stix")
    for row in active.filter(foreign).select("id", "pattern_type").to_pyarrow().to_pylist():
        ctx.skip(name, row["id"], f"{row['pattern_type']} patterns are not matched by the intel detector")
    stix = active.filter(~foreign)
    atoms = backend.create_table(ATOMS, compile_table(stix, fields).rename({IOC: "id"}), temp=True)
    for row in atoms.filter(~atoms.mapped).select(IOC, "path").to_pyarrow().to_pylist():
        ctx.skip(name, row[IOC], f"no event field carries {row['path']}")
    rest = stix.anti_join(atoms, stix.id == atoms[IOC]).select("id", "pattern", "valid_from", "valid_until")
    rest = rest.to_pyarrow()
    loaded = _Loaded(active=active)
    unmapped: Counter[str] = Counter()
    extra: dict[str, list] = {IOC: [], "path": [], "kind": [], "value": [], "prefix": [], "mapped": []}
    for ioc, pattern, start, end in zip(
        rest["id"].to_pylist(),
        rest["pattern"].to_pylist(),
        _micros(rest["valid_from"]),
        _micros(rest["valid_until"]),
        strict=True,
    ):
        try:
            compiled = compile_pattern(pattern, fields)
        except PatternError as exc:
            ctx.skip(name, ioc, str(exc))
            continue
        unmapped.update(compiled.unmapped)
        if compiled.atoms is None:
            loaded.plans.append((ioc, compiled))
            loaded.windows.setdefault(ioc, []).append((start, end))
            continue
        for atom in compiled.atoms:
            row = (ioc, atom.path, atom.kind, atom.value, atom.prefix, atom.path in fields)
            for key, value in zip(extra, row, strict=True):
                extra[key].append(value)
    for path, count in sorted(unmapped.items()):
        ctx.note(
            name,
            path,
            f"{count:,} indicator(s) compare {path}, which no event field carries: those parts match nothing",
        )
    if extra[IOC]:
        backend.insert(ATOMS, pa.table(extra, schema=atoms.schema().to_pyarrow()))
    loaded.atoms = atoms.filter(atoms.mapped).drop("mapped")
    loaded.compiled = _count(loaded.atoms.select(IOC).distinct()) + len({i for i, _ in loaded.plans})
    for row in loaded.atoms.select("path", "kind", "prefix").distinct().to_pyarrow().to_pylist():
        label = "cidr4" if row["kind"] == "ip4" and row["prefix"] < 32 else row["kind"]
        loaded.paths.setdefault(label, set()).add(row["path"])
        if label == "cidr4":
            loaded.lengths.add(row["prefix"])
    if "ip6" in loaded.paths:
        six = loaded.atoms.filter(loaded.atoms.kind == "ip6").to_pyarrow().to_pylist()
        loaded.ip6 = [(r[IOC], r["path"], r["value"], r["prefix"]) for r in six]
    return loaded


def _count(table: ir.Table) -> int:
    return int(table.count().to_pyarrow().as_py())


def _micros(column: pa.ChunkedArray) -> list[int | None]:
    return pc.cast(pc.cast(column, pa.timestamp("us", tz="UTC")), pa.int64()).to_pylist()


# ---------------------------------------------------------------------------- atom joins
def column_hits(events: ibis.Table, loaded: _Loaded, present: Mapping[str, list[str]]) -> Iterator[ir.Table]:
    """(indicator, event key, time) of every event carrying an atom's value in one of its columns:
    one hash join per column (and per case rule)."""
    table = loaded.atoms
    if table is None:
        return
    address_columns = sorted({c for p in loaded.address_paths for c in present.get(p, ())})
    # Addresses: the distinct address values of the workspace that an IPv4 atom (address or
    # CIDR, by number) covers or that spell an IPv6 atom (few: kept in memory); without
    # CIDRs, the dotted quads of the IPv4 atoms as they are, which needs no distinct pass.
    spelled = []
    cidrs = bool(address_columns) and "cidr4" in loaded.paths
    if "ip4" in loaded.paths and not cidrs:
        spelled.append(table.filter((table.kind == "ip4") & (table.prefix == 32)).select(IOC, "path", "value"))
    found = []
    if cidrs:
        values = _distinct(events, address_columns)
        lengths = loaded.lengths | ({32} if "ip4" in loaded.paths else set())
        found.append(_cidr4_spellings(values, table, lengths, hosts=True).to_pyarrow())
    if address_columns and loaded.ip6:
        found.append(_ipv6_spellings(events, address_columns, loaded.ip6))
    if found:
        spelled.append(ibis.memtable(pa.concat_tables(found)))
    spellings = _union(spelled) if spelled else None
    text_paths = loaded.paths.get("text", set())
    for column in events.columns:
        address_here = sorted(p for p in loaded.address_paths if column in present.get(p, ()))
        if address_here and spellings is not None:
            yield _join(events, events[column].cast("string"), spellings.filter(spellings.path.isin(address_here)))
        for fold in (True, False):
            here = sorted(p for p in text_paths if column in present.get(p, ()) and folds_case(p) == fold)
            if here:
                value = events[column].cast("string")
                candidates = table.filter((table.kind == "text") & table.path.isin(here)).select(IOC, "path", "value")
                yield _join(events, value.lower() if fold else value, candidates)


def _join(events: ibis.Table, value: ir.StringValue, candidates: ir.Table) -> ir.Table:
    """Events whose ``value`` is one of the candidates' values: one hash join."""
    side = events.select(*KEY, TIMESTAMP, _value=value).filter(ibis._["_value"].notnull())
    joined = side.join(candidates, side["_value"] == candidates["value"])
    return joined.select(IOC, *KEY, TIMESTAMP)


def _distinct(events: ibis.Table, columns: Sequence[str]) -> ir.Table:
    parts = [events.select(_value=events[c].cast("string")) for c in columns]
    return _union(parts, distinct=True).filter(ibis._["_value"].notnull())


def _cidr4_spellings(values: ir.Table, atoms: ir.Table, lengths: set[int], hosts: bool = False) -> ir.Table:
    """(indicator, path, value) for each distinct address value inside an IPv4 CIDR atom (or
    equal to an IPv4 address atom, with ``hosts``)."""
    joined = _cidr4_join(values, atoms, lengths, hosts)
    return joined.select(IOC, joined.path.cast("string"), value=joined["_value"].cast("string"))


def _cidr4_join(values: ir.Table, atoms: ir.Table, lengths: set[int], hosts: bool = False) -> ir.Table:
    """Rows of ``values`` whose ``_value`` is an IPv4 address inside a CIDR atom, with its indicator.

    A prefix-bucket join: networks shorter than /24 are filed under the /16 blocks they
    cover, the others under their /24 block; each address is looked up under its /16 and
    its /24 (two hash probes, whatever the number of prefix lengths) and kept when it lies
    in the network found. A bucket holds at most a few hundred distinct networks. With
    ``hosts``, the IPv4 address atoms (/32) take part too, filed under their /24 block and
    matched only by the same spelling.
    """
    levels = sorted({16 if n < 24 else 24 for n in lengths})
    cut = ibis.memtable(pa.table({"_level": pa.array(levels, pa.int64()), "_div": [2 ** (32 - n) for n in levels]}))
    # No filter on the number: pushed below a DISTINCT, it would convert every row, not every value.
    numbered = values.mutate(_number=ipv4_number(values["_value"]))
    probes = numbered.cross_join(cut).mutate(_bucket=ibis._["_number"] // ibis._["_div"])
    filed = _filed_networks(atoms, hosts)
    joined = probes.join(filed, (probes["_level"] == filed["_nlevel"]) & (probes["_bucket"] == filed["_nbucket"]))
    inside = (joined["_number"] >= joined["_start"]) & (joined["_number"] < joined["_start"] + joined["_size"])
    # An address atom matches its dotted quad as written, as in the exact-value joins.
    return joined.filter(inside & (joined["_spelling"].isnull() | (joined["_value"] == joined["_spelling"])))


def _filed_networks(atoms: ir.Table, hosts: bool = False) -> ir.Table:
    """IPv4 CIDR atoms filed under the blocks they cover: networks shorter than /24 under
    their /16 blocks, the others under their /24 block (IOC, _start, _size, _nlevel, _nbucket,
    _spelling); the /32 atoms (addresses) only with ``hosts``, their dotted quad as _spelling."""
    networks = atoms.filter((atoms.kind == "ip4") & ((atoms.prefix < 32) | hosts))
    size = ibis.literal(2).pow(32 - networks.prefix).cast("int64")
    networks = networks.select(
        IOC,
        "path",
        _start=ipv4_number(networks.value) // size * size,
        _size=size,
        _len=networks.prefix,
        _spelling=ibis.ifelse(networks.prefix == 32, networks.value, ibis.null("string")),
    )
    level = ibis.ifelse(networks["_len"] < 24, 16, 24).cast("int64")
    div = ibis.ifelse(networks["_len"] < 24, 65536, 256).cast("int64")
    first = networks["_start"] // div
    last = (networks["_start"] + networks["_size"] - 1) // div
    return networks.mutate(_nlevel=level, _nbucket=ibis.range(first, last + 1)).unnest("_nbucket")


def _ipv6_spellings(events: ibis.Table, columns: Sequence[str], atoms: list[tuple[str, str, str, int]]) -> pa.Table:
    """(indicator, path, value) for each distinct IPv6 value of the workspace that an IPv6 atom
    (address or network) covers: few enough to canonicalise in Python, exact in any spelling."""
    networks: dict[int, dict[int, list[tuple[str, str]]]] = {}
    for ioc, path, value, prefix in atoms:
        number = int(ipaddress.IPv6Address(value)) >> (128 - prefix)
        networks.setdefault(prefix, {}).setdefault(number, []).append((ioc, path))
    values = _distinct(events, columns)
    raw = values.filter(values["_value"].contains(":")).to_pyarrow()["_value"].to_pylist()
    rows: dict[str, list] = {IOC: [], "path": [], "value": []}
    for text in raw:
        try:
            number = int(ipaddress.IPv6Address(text.split("%", 1)[0]))
        except ValueError:
            continue
        for prefix, nets in networks.items():
            for ioc, path in nets.get(number >> (128 - prefix), ()):
                rows[IOC].append(ioc)
                rows["path"].append(path)
                rows["value"].append(text)
    return pa.table({k: pa.array(v, pa.string()) for k, v in rows.items()})


def token_hits(events: ibis.Table, atoms: _Loaded) -> Iterator[ir.Table]:
    """Atoms found as whole tokens of each event's text: one regular-expression pass lists the
    observable-shaped tokens for one hash join with the values.

    With IPv4 CIDRs, the IPv4 addresses of the text are listed apart (one more pattern, not
    one more), and looked up by number in the prefix-bucket join, the IPv4 address atoms
    filed there as /32 networks beside the CIDRs: every pattern runs once over the text.
    """
    text_column = [c for c in (ORIGINAL, MESSAGE) if c in events.columns]
    table = atoms.atoms
    if not text_column or table is None:
        return
    wanted = sorted({p for kind in ("ip4", "ip6", "text") for p in atoms.paths.get(kind, ()) if tokenised(p)})
    cidr_paths = sorted(p for p in atoms.paths.get("cidr4", ()) if tokenised(p))
    if not wanted and not cidr_paths:
        return
    text = reduce(lambda a, b: a.fill_null(b), (events[c] for c in text_column)).lower()
    patterns = [(p, g) for n, (p, g) in enumerate(TOKEN_PATTERNS) if n != 1 or not cidr_paths]
    if wanted:
        found = reduce(list_concat, (_tokens(text, p, g) for p, g in patterns))
        tokens = events.select(*KEY, TIMESTAMP, _value=found).unnest("_value")
        values = _token_values(table, wanted)
        yield tokens.join(values, tokens["_value"] == values.value).select(IOC, *KEY, TIMESTAMP)
    if cidr_paths:
        pattern, group = TOKEN_PATTERNS[1]  # IPv4 addresses
        addresses = events.select(*KEY, TIMESTAMP, _value=regexp_extract_all(text, pattern, group)).unnest("_value")
        ip4 = table.kind == "ip4"
        networks = table.filter(ip4 & (table.path.isin(cidr_paths) | (table.path.isin(wanted) & (table.prefix == 32))))
        lengths = atoms.lengths | ({32} if "ip4" in atoms.paths else set())
        yield _cidr4_join(addresses, networks, lengths, hosts=True).select(IOC, *KEY, TIMESTAMP)


def _tokens(text: ir.StringValue, pattern: str, group: int) -> ir.ArrayValue:
    """The matches of one token pattern; the URL, e-mail and IPv6 pattern only in lines that
    can hold one (a cheap test that skips its pass over most lines)."""
    found = regexp_extract_all(text, pattern, group)
    if pattern != TOKEN_PATTERNS[3][0]:
        return found
    possible = text.contains("://") | text.contains("@") | text.re_search(":[0-9a-f:]*:")
    return ibis.ifelse(possible, found, ibis.literal([], "array<string>"))


def _token_values(table: ir.Table, paths: Sequence[str]) -> ir.Table:
    """(indicator, lower-cased value) of the exact atoms looked for as tokens."""
    exact = (table.kind == "text") | ((table.kind == "ip4") & (table.prefix == 32))
    values = table.filter(table.path.isin(paths) & (exact | ((table.kind == "ip6") & (table.prefix == 128))))
    return values.select(IOC, value=values.value.lower()).distinct()


def in_validity(hits: ir.Table, loaded: _Loaded, ctx: HuntContext) -> ir.Table:
    """Hits of events inside their indicator's validity window (unless the hunt ignores it).

    An indicator imported from several sources holds in any of its windows."""
    if ctx.ignore_validity:
        return hits.select(IOC, *KEY)
    windows = loaded.active.select(_w_ioc="id", _from="valid_from", _until="valid_until")
    joined = hits.join(windows, hits[IOC] == windows["_w_ioc"])
    ts = joined[TIMESTAMP]
    # An event without a time is inside only a window open on both sides.
    inside = (joined["_from"].isnull() | (ts.notnull() & (joined["_from"] <= ts))) & (
        joined["_until"].isnull() | (ts.notnull() & (ts < joined["_until"]))
    )
    return joined.filter(inside).select(IOC, *KEY)


def _note_outside_validity(raw: ir.Table, valid: ir.Table, ctx: HuntContext, detector: str) -> None:
    """Say how many indicators matched only outside their validity window: they are not
    findings, but a reader must know they were seen (--ignore-validity reports them)."""
    if ctx.ignore_validity:
        return
    seen = set(raw.select(IOC).distinct().to_pyarrow()[IOC].to_pylist())
    outside = seen - set(valid.select(IOC).distinct().to_pyarrow()[IOC].to_pylist())
    if outside:
        ctx.note(
            detector,
            "validity",
            f"{len(outside)} indicator(s) matched events only outside their validity window (valid_from/"
            f"valid_until) and are not reported; --ignore-validity reports them: {', '.join(sorted(outside)[:5])}"
            + (" ..." if len(outside) > 5 else ""),
        )


def _union(parts: Sequence[ir.Table], distinct: bool = False) -> ir.Table:
    return ibis.union(*parts, distinct=distinct) if len(parts) > 1 else parts[0]


# ------------------------------------------------------------------------ pattern plans
def plan_hits(
    events: ibis.Table, loaded: _Loaded, fields: Mapping[str, Sequence[str]], ctx: HuntContext, name: str
) -> ir.Table | None:
    """Hits of the indicators that are not plain values: observations filtered in batches,
    then each indicator's observation operators evaluated over its observations' events."""
    if not loaded.plans:
        return None
    leaves: dict[CompExpr, int] = {}
    for _, compiled in loaded.plans:
        for leaf in compiled.leaves:
            leaves.setdefault(leaf, len(leaves))
    found, failed = _leaf_hits(events, list(leaves), fields)
    rows: dict[str, list] = {IOC: [], SOURCE_PATH: [], SOURCE_OFFSET: []}
    for ioc, compiled in loaded.plans:
        numbers = [leaves[leaf] for leaf in compiled.leaves]
        problem = next((failed[n] for n in numbers if n in failed), None)
        if problem:
            ctx.skip(name, ioc, problem)
            continue
        windows = [(None, None)] if ctx.ignore_validity else loaded.windows[ioc]
        hits = [[h for h in found.get(n, ()) if _within(h[0], windows)] for n in numbers]
        try:
            keys = Evaluation(hits).matches(compiled.plan)  # type: ignore[arg-type]
        except PatternError as exc:
            ctx.skip(name, ioc, str(exc))
            continue
        for path, offset in keys:
            rows[IOC].append(ioc)
            rows[SOURCE_PATH].append(path)
            rows[SOURCE_OFFSET].append(offset)
    if not rows[IOC]:
        return None
    schema = pa.schema([(IOC, pa.string()), (SOURCE_PATH, pa.string()), (SOURCE_OFFSET, pa.int64())])
    return ibis.memtable(pa.table(rows, schema=schema))


def _within(t: int, windows: list[tuple[int | None, int | None]]) -> bool:
    return any((start is None or start <= t) and (end is None or t < end) for start, end in windows)


def _leaf_hits(
    events: ibis.Table, leaves: list[CompExpr], fields: Mapping[str, Sequence[str]]
) -> tuple[dict[int, list[tuple[int, tuple[str, int]]]], dict[int, str]]:
    """(time, event key) of the events each observation matches, and why an observation failed.

    Events without a timestamp take no part (observation operators order events in time).
    """
    found: dict[int, list[tuple[int, tuple[str, int]]]] = {}
    failed: dict[int, str] = {}
    for first in range(0, len(leaves), LEAF_BATCH):
        numbers = list(range(first, min(first + LEAF_BATCH, len(leaves))))
        try:
            table = _leaf_query(events, [(n, leaves[n]) for n in numbers], fields).to_pyarrow()
        except (duckdb.Error, ibis.common.exceptions.IbisError):
            table = None
        if table is None:  # find the observation at fault, evaluate the others alone
            for n in numbers:
                try:
                    _collect(_leaf_query(events, [(n, leaves[n])], fields).to_pyarrow(), found)
                except (duckdb.Error, ibis.common.exceptions.IbisError) as exc:
                    failed[n] = f"observation cannot be evaluated: {str(exc).splitlines()[0][:300]}"
            continue
        _collect(table, found)
    for n, hits in found.items():
        if len(hits) > MAX_LEAF_HITS:
            failed[n] = (
                f"an observation matches {len(hits):,} events (more than {MAX_LEAF_HITS:,}): too broad to evaluate"
            )
    return found, failed


def _leaf_query(
    events: ibis.Table, leaves: list[tuple[int, CompExpr]], fields: Mapping[str, Sequence[str]]
) -> ir.Table:
    tests = [(n, predicate(leaf, events, fields)) for n, leaf in leaves]
    marks = ibis.array([ibis.ifelse(test, n, ibis.null("int64")) for n, test in tests])
    matching = events.filter(events[TIMESTAMP].notnull() & reduce(lambda a, b: a | b, (t for _, t in tests)))
    return matching.select(*KEY, TIMESTAMP, _leaf=marks.filter(lambda m: m.notnull())).unnest("_leaf")


def _collect(table: pa.Table, found: dict[int, list[tuple[int, tuple[str, int]]]]) -> None:
    times = _micros(table[TIMESTAMP])
    for leaf, path, offset, t in zip(
        table["_leaf"].to_pylist(), table[SOURCE_PATH].to_pylist(), table[SOURCE_OFFSET].to_pylist(), times, strict=True
    ):
        found.setdefault(leaf, []).append((t, (path, offset)))


# ------------------------------------------------------------------------------ findings
@dataclass
class _About:
    """What the intel store says about one indicator."""

    name: str | None = None
    description: str | None = None
    pattern: str = ""
    severity: str = "high"
    tlp: str | None = None
    labels: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    techniques: list[str] = field(default_factory=list)
    malware: list[str] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # the values of an atomic indicator


def _about(store: EventStore, loaded: _Loaded, ids: list[str]) -> dict[str, _About]:
    """Indicator details, sources, relationships and references of the indicators that matched."""
    wanted = ibis.memtable(pa.table({"_id": pa.array(ids, pa.string())}))
    rows = loaded.active.join(wanted, loaded.active.id == wanted["_id"]).to_pyarrow().to_pylist()
    sources = {r["source_id"]: r["name"] or r["path"] for r in _rows(store, SOURCES)}
    out: dict[str, _About] = {i: _About() for i in ids}
    for row in rows:
        about = out[row["id"]]
        severity = (row.get("severity") or "high").lower()
        severity = severity if severity in SEVERITIES else "high"
        if not about.pattern or severity_rank(severity) > severity_rank(about.severity):
            about.severity = severity  # imported from several sources: the gravest word
        about.name = about.name or row.get("name")
        about.description = about.description or row.get("description")
        about.pattern = about.pattern or row.get("pattern") or ""
        about.tlp = strictest([about.tlp, row.get("tlp")])
        about.labels = list(dict.fromkeys([*about.labels, *(row.get("labels") or [])]))
        if (source := sources.get(row["source_id"])) and source not in about.sources:
            about.sources.append(source)
    _related(store, out)
    if loaded.atoms is not None:
        atoms = loaded.atoms.join(wanted, loaded.atoms[IOC] == wanted["_id"]).select(IOC, "kind", "value", "prefix")
        for row in atoms.order_by(IOC, "kind", "value").to_pyarrow().to_pylist():
            shown = out[row[IOC]].shown
            value = _display(row["kind"], row["value"], row["prefix"])
            if value not in shown:
                shown.append(value)
    return out


def _display(kind: str, value: str, prefix: int) -> str:
    """An atom as an analyst writes it: a CIDR in canonical form, anything else as stored."""
    if kind in ("ip4", "ip6") and prefix < (32 if kind == "ip4" else 128):
        return ipaddress.ip_network(f"{value}/{prefix}", strict=False).compressed
    return value


def _rows(store: EventStore, name: str) -> list[dict[str, Any]]:
    table = _table(store, name)
    return [] if table is None else table.to_pyarrow().to_pylist()


def _related(store: EventStore, out: dict[str, _About]) -> None:
    """Techniques, malware and actors an indicator indicates (directly or through what the
    malware uses), and the references of the indicator and of reports that list it."""
    relationships = _table(store, RELATIONSHIPS)
    objects = _table(store, OBJECTS)
    if objects is None:
        return
    edges: dict[str, list[tuple[str, str]]] = {}
    targets: set[str] = set()
    if relationships is not None:
        for kind, sources in (("indicates", set(out)), ("uses", None)):
            for row in _edges(relationships, kind, sources if sources is not None else targets):
                edges.setdefault(row["source_ref"], []).append((kind, row["target_ref"]))
                targets.add(row["target_ref"])
    wanted = ibis.memtable(pa.table({"_id": pa.array(sorted(targets | set(out)), pa.string())}))
    found = objects.join(wanted, objects.id == wanted["_id"]).select("id", "type", "name", "external_ids", "object")
    by_id = {r["id"]: r for r in found.to_pyarrow().to_pylist()}
    reports = objects.filter(objects.type == "report").select("object").to_pyarrow()["object"].to_pylist()
    listed: dict[str, list[str]] = {}
    for text in reports:
        report = _json(text)
        for ref in report.get("object_refs") or ():
            if ref in out:
                listed.setdefault(ref, []).extend(_urls(report))
    for ioc, about in out.items():
        direct = [t for rel, t in edges.get(ioc, ()) if rel == "indicates"]
        reached = direct + [t2 for t in direct for rel, t2 in edges.get(t, ()) if rel == "uses"]
        for target in reached:
            obj = by_id.get(target)
            if obj is None:
                continue
            if obj["type"] == "attack-pattern":
                about.techniques.extend(i for i in obj["external_ids"] or () if _TECHNIQUE.fullmatch(i))
            elif obj["type"] in ("malware", "tool") and obj["name"]:
                about.malware.append(obj["name"])
            elif obj["type"] in ("intrusion-set", "threat-actor", "campaign") and obj["name"]:
                about.actors.append(obj["name"])
        own = by_id.get(ioc)
        urls = (_urls(_json(own["object"])) if own else []) + listed.get(ioc, [])
        about.references = list(dict.fromkeys(urls))[:MAX_REFERENCES]
        about.techniques = sorted(set(about.techniques))
        about.malware = list(dict.fromkeys(about.malware))
        about.actors = list(dict.fromkeys(about.actors))


def _edges(relationships: ir.Table, kind: str, sources: set[str]) -> list[dict[str, Any]]:
    """Relationships of one type from the given objects."""
    if not sources:
        return []
    wanted = ibis.memtable(pa.table({"_ref": pa.array(sorted(sources), pa.string())}))
    rows = relationships.filter(relationships.relationship_type == kind)
    rows = rows.join(wanted, rows.source_ref == wanted["_ref"]).select("source_ref", "target_ref")
    return rows.to_pyarrow().to_pylist()


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = orjson.loads(text) if text else {}
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _urls(obj: dict[str, Any]) -> list[str]:
    refs = obj.get("external_references") or ()
    return [r["url"] for r in refs if isinstance(r, dict) and isinstance(r.get("url"), str)]


def _finding(group: Any, about: _About, detector: str) -> Finding:
    ioc = group.key[IOC]
    shown = about.shown
    values = shown or [about.pattern]
    observable, by_value = _observable(about, shown)
    source = ", ".join(about.sources) or "intel store"
    entities = {**group.entities, "indicator": values}
    if about.malware:
        entities["malware"] = about.malware
    if about.actors:
        entities["actor"] = about.actors
    if about.sources:
        entities["advisory"] = about.sources
    if about.tlp:
        entities["tlp"] = [about.tlp]
    text = [about.description or about.name or "", f"Pattern: {about.pattern}"]
    if about.labels:
        text.append(f"Labels: {', '.join(about.labels)}.")
    text.append(f"Source: {source}. Seen in {group.count} event(s).")
    return Finding(
        rule_id=ioc,
        title=f"Known-bad {observable} seen ({source})" if by_value else f"Indicator {observable} matched ({source})",
        severity=about.severity,
        detector=detector,
        description=" ".join(t for t in text if t),
        techniques=about.techniques,
        first_seen=group.first_seen,
        last_seen=group.last_seen,
        entities=entities,
        evidence=group.evidence,
        event_count=group.count,
        references=about.references,
        truncated_entities=group.truncated,
    )


def _observable(about: _About, shown: list[str] | None) -> tuple[str, bool]:
    """('ipv4-addr 203.0.113.66', True), ('domain-name a.example (+2 more)', True) for a
    pattern over one kind of value; else (the indicator's name or pattern, False)."""
    types = set(re.findall(r"([a-z][a-z0-9-]*):[a-z_]", about.pattern))
    if shown and len(types) == 1:
        more = f" (+{len(shown) - 1} more)" if len(shown) > 1 else ""
        return f"{types.pop()} {shown[0]}{more}", True
    label = about.name or about.pattern
    return (label if len(label) <= 120 else label[:117] + "..."), False


# --------------------------------------------------------------------------- text tokens
@ibis.udf.scalar.builtin
def regexp_extract_all(haystack: str, pattern: str, group: int) -> list[str]:  # type: ignore[empty-body]
    """Every match of ``pattern`` (DuckDB and Spark both provide this function)."""


@ibis.udf.scalar.builtin
def list_concat(left: list[str], right: list[str]) -> list[str]:  # type: ignore[empty-body]
    """Both lists, one after the other (Ibis' own array concat repeats its operands in SQL)."""


# Observable-shaped tokens of lower-cased text, found in passes because matches do not
# overlap: dotted names (domains, host names), IPv4 addresses and hashes, each found
# inside longer tokens too (a domain in a URL, a hash in a file name, 203.0.113.66.443);
# then URLs, e-mail addresses and IPv6 addresses taken whole.
TOKEN_PATTERNS: tuple[tuple[str, int], ...] = (  # (pattern, capture group)
    (r"[0-9a-z_-]+(?:\.[0-9a-z_-]+)+", 0),  # domain, host name (and dotted-quad text)
    (r"(?:^|[^0-9.])(\d{1,3}(?:\.\d{1,3}){3})", 1),  # IPv4 address, not the tail of a longer number
    (r"(?:^|[^0-9a-z])([0-9a-f]{32,128})", 1),  # hash
    (
        "|".join(
            [
                r"[a-z][a-z0-9+.-]*://[^\s\"'<>]+",  # URL
                r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+",  # e-mail address
                r"[0-9a-f]*:[0-9a-f:]*:[0-9a-f.:]*",  # IPv6 address
            ]
        ),
        0,
    ),
)
