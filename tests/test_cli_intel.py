"""``seawall intel``, run the way a user runs it: import an advisory into a hunt's workspace
and re-check the events already there (retro-hunting)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import stix2
from conftest import FIXTURES
from test_cli import seawall

ADVISORY = FIXTURES / "intel" / "advisory.stix.json"
C2 = "203.0.113.5"


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hunt over two log lines, one naming the advisory's C2 address; no intel given yet."""
    root = tmp_path_factory.mktemp("retro")
    evidence = root / "evidence"
    evidence.mkdir()
    (evidence / "auth.log").write_text(
        f"<38>Mar 10 02:11:09 pe1 sshd[11]: Accepted password for admin from {C2} port 51515 ssh2\n"
        "<38>Mar 10 02:12:09 pe1 sshd[11]: Accepted password for admin from 10.1.1.1 port 51516 ssh2\n"
    )
    done = seawall("hunt", str(evidence), "--out", str(root / "case"), "--year", "2025", "-q")
    assert done.returncode == 0, done.stderr
    assert not [json.loads(x) for x in (root / "case" / "findings.jsonl").read_text().splitlines()]
    return root / "case"


def test_import_rechecks_the_stored_events_and_writes_findings_and_sightings(case: Path) -> None:
    done = seawall("intel", "import", str(ADVISORY), "-w", str(case / "workspace.duckdb"), "--reporter", "Acme Tel")
    assert done.returncode == 0, done.stderr
    assert "rejected" in done.stderr  # the broken pattern and the unknown object are named, the rest imports
    findings = [json.loads(x) for x in (case / "intel-findings.jsonl").read_text().splitlines()]
    (finding,) = findings
    assert finding["entities"]["indicator"] == [C2]
    assert finding["evidence"][0]["line"] == 1 and C2 in finding["evidence"][0]["text"]
    assert "Seawall test advisory" in finding["title"]
    bundle = stix2.parse((case / "sightings.json").read_text(), allow_custom=True)
    (sighting,) = [o for o in bundle.objects if o.type == "sighting"]
    assert sighting.sighting_of_ref == finding["rule_id"] and sighting.count == 1
    (reporter,) = [o for o in bundle.objects if o.type == "identity"]
    assert reporter.name == "Acme Tel"


def test_list_counts_by_source_type_and_tlp(case: Path) -> None:
    done = seawall("intel", "list", "-w", str(case / "workspace.duckdb"))
    assert done.returncode == 0, done.stderr
    assert "advisory" in done.stdout and "Indicators by TLP" in done.stdout
    assert "malware" in done.stdout and "amber" in done.stdout


def test_match_fail_on_and_usage_errors(case: Path, tmp_path: Path) -> None:
    workspace = str(case / "workspace.duckdb")
    assert seawall("intel", "match", "-w", workspace, "-o", str(tmp_path), "--fail-on", "high").returncode == 1
    assert (tmp_path / "intel-findings.jsonl").read_text().count("\n") == 1
    missing = seawall("intel", "match", "-w", str(tmp_path / "none.duckdb"))
    assert missing.returncode == 2 and "does not exist" in flat(missing.stderr) and "Traceback" not in missing.stderr
    bad = seawall("intel", "import", str(tmp_path / "nope.json"), "-w", workspace)
    assert bad.returncode == 2 and "does not exist" in flat(bad.stderr)


def flat(text: str) -> str:
    """Terminal output without the line breaks of its wrapping."""
    return " ".join(text.split())
