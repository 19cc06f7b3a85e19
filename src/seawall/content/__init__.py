"""Seawall's detection content, shipped as data: Sigma rules, mappings, column maps.

The files here are read by the detectors; this module only loads them.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml


@cache
def column_map(name: str) -> dict[str, tuple[str, ...]]:
    """A YAML file of ``kind: [column, ...]`` (which event columns carry which kind of value)."""
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    return {kind: tuple(columns) for kind, columns in yaml.safe_load(text).items()}
