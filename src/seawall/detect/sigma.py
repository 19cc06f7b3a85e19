"""Sigma rules as a detector: load with pySigma, map fields and logsources, compile to Ibis, run.

Seawall's own rules ship in ``seawall/content/sigma/rules``; users add directories with
``--rules``. Every rule that cannot run is reported with its reason: a parse error, a
logsource with no mapping or no events, a feature this runner does not support.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import reduce
from importlib import resources
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import yaml
from sigma.collection import SigmaCollection
from sigma.exceptions import SigmaError
from sigma.processing.pipeline import ProcessingPipeline
from sigma.rule import SigmaRule

from seawall.detect.base import Detector, EventStore, HuntContext, register, summarise
from seawall.detect.finding import Finding
from seawall.detect.sigma_compile import RuleCompiler, Unsupported
from seawall.errors import ContentError

CONTENT = resources.files("seawall.content").joinpath("sigma")
TECHNIQUE = re.compile(r"^t\d{4}(\.\d{3})?$")
GROUP_BY = ("host.name",)


def builtin_rules() -> Path:
    return Path(str(CONTENT.joinpath("rules")))


@dataclass(frozen=True)
class LogsourceMapping:
    logsource: dict[str, str]
    where: dict[str, list[str]]

    def matches(self, rule: SigmaRule) -> bool:
        ls = rule.logsource
        wanted = {"product": ls.product, "category": ls.category, "service": ls.service}
        return all(self.logsource.get(k) == v for k, v in wanted.items())


def load_logsources(path: Path | None = None) -> list[LogsourceMapping]:
    try:
        text = path.read_text(encoding="utf-8") if path else CONTENT.joinpath("logsources.yaml").read_text()
        entries = yaml.safe_load(text) or []
        return [
            LogsourceMapping(
                logsource={k: str(v) for k, v in e["logsource"].items()},
                where={k: [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in e.get("where", {}).items()},
            )
            for e in entries
        ]
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise ContentError(f"{path or 'built-in logsources.yaml'}: invalid logsource mapping: {exc}") from exc


def load_pipeline() -> ProcessingPipeline:
    return ProcessingPipeline.from_yaml(CONTENT.joinpath("pipeline.yml").read_text())


def load_rules(paths: Iterable[Path]) -> Iterator[tuple[str, SigmaRule | None, str | None]]:
    """Yield (name, rule, error) for every rule file under ``paths``."""
    for path in paths:
        files = sorted(path.rglob("*.yml")) + sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
        for file in files:
            try:
                collection = SigmaCollection.from_yaml(file.read_text(encoding="utf-8"), collect_errors=True)
            except Exception as exc:
                # pySigma raises assorted errors on malformed files; one bad file must never
                # abort a hunt, so it is reported like any other skip.
                yield str(file), None, f"cannot load: {type(exc).__name__}: {exc}"
                continue
            per_rule = {str(e) for item in collection.rules for e in getattr(item, "errors", [])}
            for error in collection.errors:
                if str(error) not in per_rule:  # reported below with its rule
                    yield str(file), None, f"invalid: {error}"
            for item in collection.rules:
                if not isinstance(item, SigmaRule):
                    yield str(file), None, f"{type(item).__name__} (correlation and filter rules are not run yet)"
                elif item.errors:
                    yield str(file), None, "; ".join(str(e) for e in item.errors)
                else:
                    yield str(file), item, None


def rule_metadata(rule: SigmaRule) -> dict[str, Any]:
    techniques = sorted(
        {tag.name.upper() for tag in rule.tags if tag.namespace == "attack" and TECHNIQUE.match(tag.name)}
    )
    return {
        "rule_id": str(rule.id) if rule.id else f"sigma:{rule.title}",
        "title": rule.title,
        "severity": rule.level.name.lower() if rule.level else "medium",
        "techniques": techniques,
        "description": (rule.description or "").strip(),
        "references": list(rule.references or []),
    }


@register
class SigmaDetector(Detector):
    name = "sigma"

    def check(self, ctx: HuntContext) -> None:
        load_logsources(ctx.logsources_path)
        for path in ctx.rule_paths:
            if not path.exists():
                raise ContentError(f"{path}: no such rule file or folder")

    def run(self, store: EventStore, ctx: HuntContext) -> Iterable[Finding]:
        events = store.events()
        compiler = RuleCompiler(events)
        mappings = load_logsources(ctx.logsources_path)
        pipeline = load_pipeline()
        has_events: dict[int, bool] = {}
        loaded: dict[str, str] = {}  # rule id -> file it came from
        for source, rule, error in load_rules([builtin_rules(), *ctx.rule_paths]):
            label = f"{rule.title} ({source})" if rule else source
            if rule is None:
                ctx.skip(self.name, label, error or "not a rule")
                continue
            meta = rule_metadata(rule)
            rule_id = meta["rule_id"]
            if rule_id in loaded:
                ctx.skip(self.name, label, f"same rule id as {loaded[rule_id]}, which already ran")
                continue
            loaded[rule_id] = source
            mapping = next((m for m in mappings if m.matches(rule)), None)
            if mapping is None:
                ls = rule.logsource
                ctx.skip(
                    self.name,
                    label,
                    f"no data source mapped for logsource "
                    f"product={ls.product} category={ls.category} service={ls.service}",
                )
                continue
            scope = _where(events, mapping.where)
            index = mappings.index(mapping)
            if index not in has_events:
                has_events[index] = scope is not None and bool(events.filter(scope).limit(1).count().execute())
            if not has_events[index]:
                ctx.skip(self.name, label, f"no events for logsource {mapping.logsource}")
                continue
            try:
                processed = pipeline.apply(rule)  # maps field names in place
                condition = compiler.compile(processed)
            except (Unsupported, SigmaError) as exc:
                ctx.skip(self.name, label, f"unsupported: {exc}")
                continue
            if compiler.missing_fields:
                ctx.note(
                    self.name,
                    label,
                    f"ran, but these fields are not in the store (treated as absent): "
                    f"{', '.join(sorted(compiler.missing_fields))}",
                )
            ctx.ran[self.name] = ctx.ran.get(self.name, 0) + 1
            matched = events.filter(scope & condition)
            for group in summarise(matched, GROUP_BY, ctx.max_evidence, ctx.keep_values):
                yield Finding(
                    detector=self.name,
                    first_seen=group.first_seen,
                    last_seen=group.last_seen,
                    entities=group.entities,
                    evidence=group.evidence,
                    truncated_entities=group.truncated,
                    event_count=group.count,
                    **meta,
                )


def _where(events: ibis.Table, where: dict[str, list[str]]) -> ir.BooleanValue | None:
    """The logsource's restriction; None when a column it names is not in the store."""
    clauses = []
    for column, values in where.items():
        if column not in events.columns:
            return None
        clauses.append(events[column].cast("string").isin(values))
    return reduce(lambda a, b: a & b, clauses, ibis.literal(True))
