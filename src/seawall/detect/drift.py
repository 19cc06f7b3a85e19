"""Drift: what changed between snapshots of a device's configuration, and when it started.

Snapshots come from a folder per device (one file per snapshot, named by date) or from a
git repository as Oxidized and RANCID keep them (each commit touching a device's file is
a snapshot of it). ``diff`` reports the exact changed lines and the changes to the model
(user added, ACL entry removed, tunnel added...). ``history`` walks a device's snapshots
and reports the compromise indicators each one introduced, and defences it removed, with
the date of the snapshot where each first appears.

What counts as an indicator or a removed defence is the catalog's, not this module's:
an indicator is an offense of a compromise check that the earlier snapshot does not
have; a removed defence is a failure of a drift check (``kind: drift``, a ``removed``
clause, such as SW-DRIFT-001 "Logging host removed"), run by
``config_checks.evaluate_drift``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
import re
import shutil
import subprocess
import threading
import weakref
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

from seawall.detect import config_checks
from seawall.detect.config_checks import KEY_FIELDS, NOUNS, Catalog, CheckResult, bare, identity
from seawall.detect.profile import SiteProfile
from seawall.errors import EvidenceError
from seawall.sources.configs import decode, parse_config
from seawall.sources.configs.model import COLLECTIONS, DeviceConfig, Item
from seawall.sources.configs.snapshots import FileText, snapshot_date

Lines = tuple[tuple[int, str], ...]
Parser = Callable[[str, str], DeviceConfig]

# Oxidized/RANCID keep one file per device, often named by FQDN or address: only these
# endings are taken off to name the device (a stem would cut "pe1.example.net" short).
CONFIG_SUFFIXES = (".cfg", ".conf", ".config", ".txt", ".ios", ".nxos", ".iosxr", ".xr", ".junos", ".eos", ".rtr")
NOT_CONFIGS = frozenset({"router.db", "routers.all", "routers.down", "routers.up", ".cvsignore", "readme", "readme.md"})
# Lines that change on every save without saying anything: never counted as drift.
VOLATILE = (
    r"^! (Last configuration change|NVRAM config last updated|No configuration change since)\b",
    r"^Building configuration",
    r"^Current configuration\s*:",
    r"^!Time:",
    r"^!! Last configuration change\b",  # IOS XR
    r"^!Running configuration last done at:",  # NX-OS
    r"^## Last (commit|changed):",
    r"^ntp clock-period\b",
)
# --- snapshots --------------------------------------------------------------------------


@dataclass(eq=False)
class Snapshot:
    """One saved configuration of one device; its text is read when first asked for."""

    device: str
    date: dt.datetime  # aware, UTC
    label: str  # the file name, or the commit's short id
    source: str  # the file's path, or "COMMIT:path" in the repository
    _load: Callable[[], str] = field(repr=False)
    _text: str | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self._load()
        return self._text


def snapshots(root: Path | str, skipped: list[str] | None = None) -> dict[str, list[Snapshot]]:
    """Every device's snapshots, oldest first. ``root`` is a git repository (each commit
    touching a file is a snapshot) or a folder with a folder per device holding files
    named by date (``2024-06-01.cfg``, ``2024-06-01T0300.txt``). Files that fit neither
    are named in ``skipped`` when a list is given."""
    root = Path(root)
    if not root.is_dir():
        raise EvidenceError(f"{root}: not a folder of configuration snapshots")
    found = _from_git(root) if (root / ".git").exists() else _from_folders(root, skipped)
    return {device: sorted(snaps, key=lambda s: (s.date, s.label)) for device, snaps in sorted(found.items())}


def _from_folders(root: Path, skipped: list[str] | None) -> dict[str, list[Snapshot]]:
    found: dict[str, list[Snapshot]] = defaultdict(list)
    for folder in sorted(root.iterdir()):
        if folder.name.startswith("."):
            continue
        if not folder.is_dir():
            if skipped is not None:
                skipped.append(f"{folder}: not in a device folder")
            continue
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or not path.is_file():
                continue
            date = snapshot_date(path.name)
            if date is None:
                if skipped is not None:
                    skipped.append(f"{path}: name does not start with a date")
                continue
            found[folder.name].append(Snapshot(folder.name, date, path.name, str(path), FileText(path)))
    return found


@dataclass(frozen=True)
class _BlobText:
    repo: _GitRepo
    spec: str

    def __call__(self) -> str:
        return self.repo.read(self.spec)


def _device_of(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    for suffix in CONFIG_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _from_git(root: Path) -> dict[str, list[Snapshot]]:
    repo = _GitRepo(root)
    touched: list[tuple[str, dt.datetime, str]] = []  # (commit, date, path)
    for commit, date, paths in repo.log():
        touched.extend((commit, date, p) for p in paths)
    # a device is named by its file; two files of the same name in different folders keep their paths
    names = defaultdict(set)
    for _, _, path in touched:
        names[_device_of(path)].add(path)
    found: dict[str, list[Snapshot]] = defaultdict(list)
    for commit, date, path in touched:
        device = _device_of(path)
        if len(names[device]) > 1:
            device = path
        spec = f"{commit}:{path}"
        found[device].append(Snapshot(device, date, commit[:12], spec, _BlobText(repo, spec)))
    return found


class _GitRepo:
    """A repository read through the git command: one ``log``, then blobs on demand through
    one long-lived ``git cat-file --batch`` (a process per snapshot would cost more than
    the diff itself)."""

    def __init__(self, root: Path) -> None:
        self.git = shutil.which("git")
        if self.git is None:
            raise EvidenceError(
                f"{root}: is a git repository, but the git command is not installed (needed to read its snapshots)"
            )
        self.root = root
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        """Pickled (for a process pool) without its reader process: the copy starts its own."""
        return {"git": self.git, "root": self.root}

    def __setstate__(self, state: dict) -> None:
        self.git, self.root = state["git"], state["root"]
        self._proc, self._lock = None, threading.Lock()

    def _run(self, *args: str) -> str:
        try:
            done = subprocess.run(
                [self.git, "-C", str(self.root), "-c", "core.quotepath=off", *args],
                capture_output=True,
                check=False,
            )
        except OSError as exc:
            raise EvidenceError(f"{self.root}: cannot run git: {exc}") from exc
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", errors="replace").strip()
            if "does not have any commits" in message:
                return ""
            raise EvidenceError(f"{self.root}: git {args[0]} failed: {message}")
        return done.stdout.decode("utf-8", errors="replace")

    def log(self) -> Iterable[tuple[str, dt.datetime, list[str]]]:
        """(commit, committer date, paths added or modified) for every commit, oldest first."""
        out = self._run("log", "--reverse", "--no-renames", "--format=%x1e%H%x1f%cI", "--name-status")
        for record in out.split("\x1e"):
            if not record.strip():
                continue
            head, _, rest = record.partition("\n")
            commit, _, stamp = head.partition("\x1f")
            date = dt.datetime.fromisoformat(stamp.strip()).astimezone(dt.UTC)
            paths = []
            for line in rest.splitlines():
                status, _, path = line.partition("\t")
                if not path or status.startswith("D"):
                    continue
                name = path.rsplit("/", 1)[-1]
                if name.startswith(".") or name.lower() in NOT_CONFIGS:
                    continue
                paths.append(path)
            yield commit, date, paths

    def read(self, spec: str) -> str:
        with self._lock:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                proc = self._proc = subprocess.Popen(
                    [self.git, "-C", str(self.root), "cat-file", "--batch"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
                weakref.finalize(self, _close, proc)
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(spec.encode() + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().decode("utf-8", errors="replace").split()
            if len(header) != 3 or header[1] != "blob":
                raise EvidenceError(f"{self.root}: cannot read {spec} from the repository ({' '.join(header)})")
            data = proc.stdout.read(int(header[2]))
            proc.stdout.read(1)  # the newline after each object
        return decode(data)


def _close(proc: subprocess.Popen) -> None:
    if proc.stdin:
        proc.stdin.close()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()


# --- diff -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One change to the model: an item added, removed or changed, with its lines."""

    kind: str  # "user added", "acl entry removed", "interface changed" ...
    collection: str
    key: str  # what identifies the item: user name, ACL + sequence, server address ...
    before: Lines = ()
    after: Lines = ()
    fields: tuple[str, ...] = ()  # for "changed": the facts that differ
    before_date: dt.datetime | None = None
    after_date: dt.datetime | None = None
    before_item: Item | None = field(default=None, compare=False, repr=False)
    after_item: Item | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Drift:
    """What changed from one snapshot to the next."""

    device: str
    before_path: str
    after_path: str
    before_date: dt.datetime | None
    after_date: dt.datetime | None
    removed: Lines  # (line number in before, text)
    added: Lines  # (line number in after, text)
    changes: tuple[Change, ...]

    @property
    def changed(self) -> bool:
        return bool(self.removed or self.added or self.changes)


def diff(
    before: DeviceConfig,
    after: DeviceConfig,
    *,
    before_date: dt.datetime | None = None,
    after_date: dt.datetime | None = None,
    ignore: Sequence[str] = VOLATILE,
) -> Drift:
    """The changed lines (lines matching ``ignore`` patterns do not count) and the changes
    to the model, item by item. A snapshot saved again unchanged costs nothing."""
    if before.text_lines == after.text_lines:
        removed: Lines = ()
        added: Lines = ()
        changes: tuple[Change, ...] = ()
    else:
        removed, added = changed_lines(before.text_lines, after.text_lines, ignore)
        changes = tuple(_changes(before, after, before_date, after_date))
    return Drift(
        device=config_checks.device_name(after),
        before_path=before.path,
        after_path=after.path,
        before_date=before_date,
        after_date=after_date,
        removed=removed,
        added=added,
        changes=changes,
    )


def changed_lines(before: Sequence[str], after: Sequence[str], ignore: Sequence[str] = VOLATILE) -> tuple[Lines, Lines]:
    """Lines only in ``before`` (removed) and only in ``after`` (added), numbered 1-based.

    A patience diff on line numbers: lines become integers (equal text, equal number),
    lines that occur once on each side anchor the match, and only the short stretches
    between anchors go to difflib. difflib alone is quadratic on configurations, where
    ``!`` and `` no shutdown`` repeat hundreds of times, and its autojunk shortcut would
    report unchanged ``!`` lines as changed.
    """
    ids: dict[str, int] = {}
    a = [ids.setdefault(line.rstrip(), len(ids)) for line in before]
    b = [ids.setdefault(line.rstrip(), len(ids)) for line in after]
    kept_a = bytearray(len(a))
    kept_b = bytearray(len(b))
    for i, j in _matches(a, b):
        kept_a[i] = kept_b[j] = 1
    _slide(a, kept_a)
    _slide(b, kept_b)
    skip = re.compile("|".join(f"(?:{p})" for p in ignore)) if ignore else None
    removed = tuple(
        (i + 1, before[i]) for i in range(len(a)) if not kept_a[i] and not (skip and skip.search(before[i]))
    )
    added = tuple((j + 1, after[j]) for j in range(len(b)) if not kept_b[j] and not (skip and skip.search(after[j])))
    return removed, added


def _slide(seq: list[int], kept: bytearray) -> None:
    """Move each run of changed lines down while the line after it equals its first line,
    as git does: an inserted block "!, interface X, ..." becomes "interface X, ..., !",
    which is how a person reads the change. The lines counted stay as many."""
    i, n = 0, len(seq)
    while i < n:
        if kept[i]:
            i += 1
            continue
        start = i
        while i < n and not kept[i]:
            i += 1
        while i < n and kept[i] and seq[start] == seq[i]:
            kept[start], kept[i] = 1, 0
            start, i = start + 1, i + 1


SMALL = 4_096  # a stretch with fewer than this many line pairs goes to difflib directly


def _matches(a: list[int], b: list[int]) -> list[tuple[int, int]]:
    """Pairs (i, j) with a[i] == b[j] of a common subsequence of a and b."""
    out: list[tuple[int, int]] = []
    todo = [(0, len(a), 0, len(b))]
    while todo:
        alo, ahi, blo, bhi = todo.pop()
        while alo < ahi and blo < bhi and a[alo] == b[blo]:
            out.append((alo, blo))
            alo, blo = alo + 1, blo + 1
        while alo < ahi and blo < bhi and a[ahi - 1] == b[bhi - 1]:
            ahi, bhi = ahi - 1, bhi - 1
            out.append((ahi, bhi))
        if alo >= ahi or blo >= bhi:
            continue
        if (ahi - alo) * (bhi - blo) <= SMALL:
            out.extend(_difflib(a, b, alo, ahi, blo, bhi, autojunk=False))
            continue
        anchors = _anchors(a, b, alo, ahi, blo, bhi)
        if not anchors:
            out.extend(_difflib(a, b, alo, ahi, blo, bhi, autojunk=True))
            continue
        i0, j0 = alo, blo
        for i, j in anchors:
            out.append((i, j))
            todo.append((i0, i, j0, j))
            i0, j0 = i + 1, j + 1
        todo.append((i0, ahi, j0, bhi))
    return out


def _difflib(
    a: list[int], b: list[int], alo: int, ahi: int, blo: int, bhi: int, autojunk: bool
) -> list[tuple[int, int]]:
    matcher = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=autojunk)
    return [(alo + i + k, blo + j + k) for i, j, size in matcher.get_matching_blocks() for k in range(size)]


def _anchors(a: list[int], b: list[int], alo: int, ahi: int, blo: int, bhi: int) -> list[tuple[int, int]]:
    """Lines that occur exactly once in each stretch, in the longest order both agree on."""
    count_a = Counter(a[alo:ahi])
    count_b = Counter(b[blo:bhi])
    where_b = {b[j]: j for j in range(blo, bhi) if count_b[b[j]] == 1}
    pairs = [(i, where_b[a[i]]) for i in range(alo, ahi) if count_a[a[i]] == 1 and a[i] in where_b]
    # longest increasing subsequence of the b positions (patience sorting)
    tails: list[int] = []  # b position ending the best run of each length
    ends: list[int] = []  # index in pairs of that end
    back = [-1] * len(pairs)
    for index, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tails, j)
        back[index] = ends[k - 1] if k else -1
        if k == len(tails):
            tails.append(j)
            ends.append(index)
        else:
            tails[k], ends[k] = j, index
    chain = []
    index = ends[-1] if ends else -1
    while index >= 0:
        chain.append(pairs[index])
        index = back[index]
    return chain[::-1]


@dataclass(frozen=True)
class _Pair:
    """The two configurations being compared, and their dates."""

    before: DeviceConfig
    after: DeviceConfig
    before_date: dt.datetime | None
    after_date: dt.datetime | None

    def change(self, collection: str, key: str, verb: str, b: Item | None, a: Item | None, fields=()) -> Change:
        return Change(
            kind=f"{NOUNS[collection]} {verb}",
            collection=collection,
            key=key,
            before=tuple(self.before.text(b.lines)) if b else (),
            after=tuple(self.after.text(a.lines)) if a else (),
            fields=tuple(fields),
            before_date=self.before_date,
            after_date=self.after_date,
            before_item=b,
            after_item=a,
        )


def _changes(
    before: DeviceConfig, after: DeviceConfig, before_date: dt.datetime | None, after_date: dt.datetime | None
) -> list[Change]:
    pair = _Pair(before, after, before_date, after_date)
    changes: list[Change] = []
    for collection in (*COLLECTIONS, "acl_entries"):
        old = _keyed(before, collection)
        new = _keyed(after, collection)
        for key in sorted(_differing(collection, old, new), key=repr):
            olds, news = old.get(key, []), new.get(key, [])
            shown = " ".join(str(k) for k in key if k not in (None, ""))
            if collection == "acls":  # an ACL's changes are its entries' changes
                if not olds:
                    changes.extend(pair.change(collection, shown, "added", None, a) for a in news)
                elif not news:
                    changes.extend(pair.change(collection, shown, "removed", b, None) for b in olds)
                continue
            old_ids = [identity(collection, i) for i in olds]
            new_ids = [identity(collection, i) for i in news]
            gone = [i for i, x in zip(olds, old_ids, strict=True) if x not in new_ids]
            came = [i for i, x in zip(news, new_ids, strict=True) if x not in old_ids]
            if len(gone) == 1 and len(came) == 1:
                b, a = gone[0], came[0]
                differ = [k for k, v in b.facts().items() if bare(v) != bare(getattr(a, k))]
                changes.append(pair.change(collection, shown, "changed", b, a, differ))
                continue
            changes.extend(pair.change(collection, shown, "removed", b, None) for b in gone)
            changes.extend(pair.change(collection, shown, "added", None, a) for a in came)
    return changes


def _differing(collection: str, old: dict[tuple, list[Item]], new: dict[tuple, list[Item]]) -> list[tuple]:
    """Keys whose items differ: almost every key of two snapshots holds one equal item."""
    keys = [k for k in old.keys() ^ new.keys()]
    if collection == "acls":  # added or removed only
        return keys
    for key, olds in old.items():
        news = new.get(key)
        if news is None:
            continue
        if len(olds) == len(news) == 1:
            if identity(collection, olds[0]) != identity(collection, news[0]):
                keys.append(key)
        elif sorted(map(repr, (identity(collection, i) for i in olds))) != sorted(
            map(repr, (identity(collection, i) for i in news))
        ):
            keys.append(key)
    return keys


def _keyed(config: DeviceConfig, collection: str) -> dict[tuple, list[Item]]:
    """A collection's items by key; features and banners keep their last statement only."""
    keyed: dict[tuple, list[Item]] = defaultdict(list)
    if collection == "acl_entries":
        for acl in config.acls:
            for entry in acl.entries:
                if entry.action == "remark":
                    continue
                second = entry.sequence if entry.sequence is not None else entry.text
                keyed[(acl.name, second)].append(entry)
        return keyed
    fields = KEY_FIELDS[collection]
    get = attrgetter(*fields)
    last_only = collection in ("features", "banners")
    for item in getattr(config, collection):
        key = get(item) if len(fields) > 1 else (get(item),)
        if last_only:
            keyed[key] = [item]
        else:
            keyed[key].append(item)
    return keyed


# --- findings over time -----------------------------------------------------------------


@dataclass(frozen=True)
class DriftFinding:
    """An indicator a snapshot introduced, or a defence it removed, and when."""

    device: str
    rule_id: str  # the check's id (a drift check's for removals: SW-DRIFT-...)
    title: str
    severity: str
    kind: str  # "indicator introduced", "indicator present since the first snapshot", "defence removed"
    techniques: tuple[str, ...]
    first_seen: dt.datetime | None  # the snapshot where it first appears
    last_seen: dt.datetime | None  # the last snapshot it is in (removals: the same as first_seen)
    still_present: bool
    source: str  # that snapshot's file or commit:path
    label: str  # the offending item
    lines: Lines  # its lines in that snapshot (removals: in the snapshot before)
    references: tuple[str, ...] = ()


def _compromise(results: Iterable[CheckResult]) -> dict[tuple, tuple[CheckResult, Any]]:
    """Failing compromise checks by (check id, item identity)."""
    return {
        (r.check.id, offense.identity): (r, offense)
        for r in results
        if r.status == config_checks.FAIL and r.check.kind == "compromise"
        for offense in r.items
    }


def drift_findings(
    before: DeviceConfig,
    after: DeviceConfig,
    catalog: Catalog | None = None,
    profile: SiteProfile | None = None,
    *,
    before_date: dt.datetime | None = None,
    after_date: dt.datetime | None = None,
) -> list[DriftFinding]:
    """What ``after`` introduced that a compromise check flags, and the defences it removed
    that a drift check flags."""
    catalog = catalog if catalog is not None else config_checks.default_catalog()
    compromise = catalog.only("compromise")
    old = _compromise(config_checks.evaluate(before, compromise, profile))
    new = _compromise(config_checks.evaluate(after, compromise, profile))
    found = [
        _indicator(after, result, offense, after_date, after_date, after.path, True, "indicator introduced")
        for key, (result, offense) in new.items()
        if key not in old
    ]
    found.extend(_removals(before, after, catalog, profile, after_date))
    return sorted(found, key=_order)


def _indicator(
    config: DeviceConfig,
    result: CheckResult,
    offense: Any,
    first: dt.datetime | None,
    last: dt.datetime | None,
    source: str,
    still: bool,
    kind: str,
) -> DriftFinding:
    check = result.check
    return DriftFinding(
        device=config_checks.device_name(config),
        rule_id=check.id,
        title=check.title,
        severity=check.severity,
        kind=kind,
        techniques=check.techniques,
        first_seen=first,
        last_seen=last,
        still_present=still,
        source=source,
        label=offense.label,
        lines=offense.lines,
        references=check.references,
    )


def _removals(
    before: DeviceConfig,
    after: DeviceConfig,
    catalog: Catalog,
    profile: SiteProfile | None,
    when: dt.datetime | None,
    source: str | None = None,
) -> list[DriftFinding]:
    """The failures of the catalog's drift checks from ``before`` to ``after``: one finding
    per removed item, quoted with its lines in ``before``, dated ``when``."""
    if not catalog.drift:
        return []
    return [
        DriftFinding(
            device=result.device,
            rule_id=result.check.id,
            title=result.check.title,
            severity=result.check.severity,
            kind="defence removed",
            techniques=result.check.techniques,
            first_seen=when,
            last_seen=when,
            still_present=True,
            source=source or after.path,
            label=offense.label,
            lines=offense.lines,
            references=result.check.references,
        )
        for result in config_checks.evaluate_drift(before, after, catalog, profile)
        if result.status == config_checks.FAIL
        for offense in result.items
    ]


def _order(f: DriftFinding) -> tuple:
    return (f.device, f.first_seen or dt.datetime.min.replace(tzinfo=dt.UTC), f.rule_id, f.label, f.lines)


@dataclass
class History:
    """A device's snapshots, the drift between each consecutive pair, its findings, and the
    check results of its latest snapshot."""

    device: str
    snapshots: list[Snapshot]
    drifts: list[Drift]
    findings: list[DriftFinding]
    latest: list[CheckResult]


def default_parser() -> Parser:
    """The configuration parsers' ``parse_config``."""
    return parse_config


def _unchanged(configs: Sequence[DeviceConfig]) -> bool:
    """Whether the last configuration's text is the one before it (nothing to re-check)."""
    return len(configs) > 1 and configs[-1].text_lines == configs[-2].text_lines


def history(
    snaps: Sequence[Snapshot],
    catalog: Catalog | None = None,
    profile: SiteProfile | None = None,
    parse: Parser | None = None,
) -> History:
    """Walk one device's snapshots, oldest first: each indicator is reported once per run of
    snapshots that contain it, dated by the first of them ("when did it start"); each
    removed defence (a failure of a drift check of the catalog) is dated by the snapshot
    that no longer has it."""
    catalog = catalog if catalog is not None else config_checks.default_catalog()
    compromise = catalog.only("compromise")
    parse = parse or default_parser()
    snaps = sorted(snaps, key=lambda s: (s.date, s.label))
    device = snaps[0].device if snaps else ""
    configs: list[DeviceConfig] = []
    flagged: list[dict[tuple, tuple[CheckResult, Any]]] = []
    latest: list[CheckResult] = []
    for index, snap in enumerate(snaps):
        config = parse(snap.text, snap.source)
        configs.append(config)
        if index == len(snaps) - 1:
            latest = config_checks.evaluate(config, catalog, profile)
            flagged.append(_compromise([r for r in latest if r.check.kind == "compromise"]))
        elif _unchanged(configs):  # daily backups mostly repeat the day before
            flagged.append(flagged[-1])
        else:
            flagged.append(_compromise(config_checks.evaluate(config, compromise, profile)))
    drifts = [
        diff(configs[i - 1], configs[i], before_date=snaps[i - 1].date, after_date=snaps[i].date)
        for i in range(1, len(snaps))
    ]
    findings: list[DriftFinding] = []
    for index, current in enumerate(flagged):
        previous = flagged[index - 1] if index else {}
        for key, (result, offense) in current.items():
            if key in previous:
                continue
            end = index
            while end + 1 < len(flagged) and key in flagged[end + 1]:
                end += 1
            kind = "indicator present since the first snapshot" if index == 0 else "indicator introduced"
            findings.append(
                _indicator(
                    configs[index],
                    result,
                    offense,
                    snaps[index].date,
                    snaps[end].date,
                    snaps[index].source,
                    end == len(snaps) - 1,
                    kind,
                )
            )
        if index and not _unchanged(configs[: index + 1]):
            findings.extend(
                _removals(configs[index - 1], configs[index], catalog, profile, snaps[index].date, snaps[index].source)
            )
    return History(device, list(snaps), drifts, sorted(findings, key=_order), latest)
