"""Router and switch configurations found among the evidence: one event per line.

A configuration is state, not a log, but keeping its lines in the store beside the
events lets every detector see it: the config-audit detector rebuilds each file from its
lines and runs the check catalog, and indicator matching finds a known-bad address in a
``logging host`` or ``tunnel destination`` line as it would in a log line. Each event
names the device (``host.name``), the platform (``observer.product``) and the line
number, so a finding quotes ``file:line``.

The time of a configuration is the time it was taken: an ISO date in the file name
(``pe1-nyc/2024-06-01.cfg``, as configuration backups name snapshots), else the file's
modification time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from seawall.errors import EvidenceError
from seawall.sources.base import ParsedBatch, ReadOptions, SourceFormat, quarantine_table, register
from seawall.sources.configs import parse_config, sniff_platform
from seawall.sources.configs.snapshots import snapshot_date
from seawall.sources.reader import iter_line_chunks
from seawall.store.schema import (
    DATASET,
    ORIGINAL,
    SOURCE_FORMAT,
    SOURCE_LINE,
    SOURCE_OFFSET,
    SOURCE_PATH,
    TIMESTAMP,
)

NAME = "device-config"
CONFIG_DATASET = "device.config"
VENDORS = {"ios": "cisco", "nxos": "cisco", "iosxr": "cisco", "asa": "cisco", "junos": "juniper", "eos": "arista"}
MAX_CONFIG_BYTES = 64 << 20  # a configuration larger than this is not a configuration


def snapshot_time(path: Path) -> dt.datetime:
    """When a configuration was taken: the date its name starts with, else its modification time."""
    return snapshot_date(path.name) or dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)


@register
class DeviceConfigFormat(SourceFormat):
    name = NAME
    description = (
        "Router/switch configuration (Cisco IOS/IOS XE, NX-OS, IOS XR, ASA, Juniper Junos, Arista EOS): "
        "one event per line; audited by the config-audit detector"
    )

    def sniff(self, head: bytes) -> float:
        if b"\x00" in head:
            return 0.0
        return 0.9 if sniff_platform(head.decode("utf-8", "replace"), strict=True) else 0.0

    def parse(self, path: Path, options: ReadOptions) -> Iterator[ParsedBatch]:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise EvidenceError(f"{path}: {path.stat().st_size:,} bytes is too large for a device configuration")
        chunks = list(iter_line_chunks(path))
        lines = pa.concat_arrays([c.lines for c in chunks]) if chunks else pa.array([], pa.large_string())
        offsets = pa.concat_arrays([c.offsets for c in chunks]) if chunks else pa.array([], pa.int64())
        numbers = pa.concat_arrays([c.numbers for c in chunks]) if chunks else pa.array([], pa.int64())
        texts = lines.to_pylist()
        config = parse_config("\n".join(texts), str(path))
        keep = pc.invert(pc.match_substring_regex(lines, r"^\s*$"))
        kept_lines = pc.filter(lines, keep).cast(pa.string())
        n = len(kept_lines)
        notes = []
        if config.status != "parsed":
            notes.append(f"configuration {config.status}: {config.reason or 'see the audit'}")
        events = pa.table(
            {
                TIMESTAMP: pa.array([snapshot_time(path)] * n, pa.timestamp("us", tz="UTC")),
                DATASET: pa.array([CONFIG_DATASET] * n, pa.string()),
                "event.kind": pa.array(["state"] * n, pa.string()),
                "host.name": pa.array([config.hostname] * n, pa.string()),
                "observer.vendor": pa.array([VENDORS.get(config.platform or "")] * n, pa.string()),
                "observer.product": pa.array([config.platform] * n, pa.string()),
                ORIGINAL: kept_lines,
                SOURCE_PATH: pa.array([str(path)] * n, pa.string()),
                SOURCE_FORMAT: pa.array([NAME] * n, pa.string()),
                SOURCE_OFFSET: pc.filter(offsets, keep),
                SOURCE_LINE: pc.filter(numbers, keep),
            }
        )
        empty = quarantine_table([], str(path), NAME, [], [], [])
        position = chunks[-1].position if chunks else 0
        yield ParsedBatch(events, empty, n, position, notes)
