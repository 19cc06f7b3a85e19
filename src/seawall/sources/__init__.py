"""Evidence formats: each module registers one format that can sniff and parse files."""

from seawall.sources import device_config, jsonl, radius, syslog, tacacs  # noqa: F401  (importing registers the formats)
from seawall.sources.base import ParsedBatch, ReadOptions, SourceFormat, formats

__all__ = ["ParsedBatch", "ReadOptions", "SourceFormat", "formats"]
