"""Shared test fixtures.

Tests that read the public test data in ../shared/data use the ``shared_data`` fixture:
it skips the test, with the reason, when that folder is not beside the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from seawall.scope.registry import Registry

# Property tests explore new inputs on every local run; in CI they replay a fixed
# sequence so that a run's verdict does not depend on luck.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The keys every line of findings.jsonl carries, as the hunt's output is specified.
FINDING_KEYS = frozenset(
    {"rule_id", "title", "severity", "techniques", "first_seen", "last_seen", "entities", "evidence", "description"}
)
REGISTRIES = FIXTURES / "detect" / "registry"
SHARED_DATA = Path(os.environ.get("SEAWALL_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public test data not found at {SHARED_DATA} (set SEAWALL_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def csv_registry() -> Registry:
    return Registry.load(REGISTRIES / "registry.csv")


@pytest.fixture(scope="session")
def yaml_registry() -> Registry:
    return Registry.load(REGISTRIES / "registry.yaml")
