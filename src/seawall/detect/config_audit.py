"""Configuration audit inside a hunt: the check catalog on every configuration among the evidence.

Configurations reach the store as one event per line (``sources/device_config.py``);
this detector rebuilds each file from its lines, parses it and runs the catalog. Failed
compromise checks become findings whose evidence is the offending lines, each with its
event id, so a hunt's report shows a planted account next to the log lines of the same
device. Hardening results are summarised in a note: ``seawall audit`` is the place for
the per-device hardening report and for drift between snapshots.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from seawall.detect.base import Detector, EventStore, HuntContext, register
from seawall.detect.config_checks import FAIL, default_catalog, evaluate, to_findings
from seawall.detect.finding import Finding
from seawall.detect.profile import SiteProfile
from seawall.sources.configs import parse_config
from seawall.sources.device_config import CONFIG_DATASET
from seawall.store.schema import DATASET, EVENT_ID, ORIGINAL, SOURCE_LINE, SOURCE_PATH


def _profile(ctx: HuntContext) -> SiteProfile:
    return SiteProfile.load(ctx.profile_path) if ctx.profile_path else SiteProfile.empty()


@register
class ConfigAuditDetector(Detector):
    name = "config"

    def check(self, ctx: HuntContext) -> None:
        _profile(ctx)

    def run(self, store: EventStore, ctx: HuntContext) -> Iterable[Finding]:
        events = store.events()
        rows = (
            events.filter(events[DATASET] == CONFIG_DATASET)
            .select(SOURCE_PATH, SOURCE_LINE, ORIGINAL, EVENT_ID)
            .order_by([SOURCE_PATH, SOURCE_LINE])
            .to_pyarrow()
            .to_pylist()
        )
        if not rows:
            return
        files: dict[str, dict[int, tuple[str, str]]] = {}
        for row in rows:
            files.setdefault(row[SOURCE_PATH], {})[row[SOURCE_LINE]] = (row[ORIGINAL], row[EVENT_ID])
        profile, catalog = _profile(ctx), default_catalog()
        ctx.ran[self.name] = len(files)
        for path, lines in files.items():
            text = [""] * max(lines)
            for number, (line, _) in lines.items():
                text[number - 1] = line
            config = parse_config("\n".join(text), path)
            if config.status == "rejected":
                ctx.skip(self.name, path, f"configuration not audited: {config.reason}")
                continue
            results = evaluate(config, catalog, profile)
            hardening = [r for r in results if r.check.kind == "hardening"]
            failed = sum(1 for r in hardening if r.status == FAIL)
            if failed:
                ctx.note(
                    self.name,
                    path,
                    f"{config.hostname or path}: {failed} of {len(hardening)} hardening checks failed; "
                    "`seawall audit` writes the per-device hardening report",
                )
            for finding in to_findings([r for r in results if r.check.kind == "compromise"]):
                evidence = [replace(e, event_id=lines.get(e.line or 0, (None, None))[1]) for e in finding.evidence]
                yield replace(finding, evidence=evidence, id="")
