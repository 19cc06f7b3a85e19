"""``seawall audit``, run the way a user runs it: as a separate process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_audit import CLEAN, CONFIGS, FIXTURE_SITE, PLANTED, build_tree, planted_lines


def seawall(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seawall", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("profile") / "site.yaml"
    path.write_text(FIXTURE_SITE)
    return path


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory, site: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    root = tmp_path_factory.mktemp("cli-audit")
    configs = build_tree(root)
    return seawall("audit", str(configs), "--profile", str(site), "--out", str(root / "out")), root / "out"


def test_help_teaches_with_an_example() -> None:
    result = seawall("audit", "--help")
    assert result.returncode == 0
    for text in ("CONFIG_DIR", "--profile", "--checks", "--out", "--fail-on", "--workers", "--quiet"):
        assert text in result.stdout
    assert "Exit codes" in result.stdout and "seawall audit ./oxidized-repo" in result.stdout


def test_audit_prints_devices_findings_and_outputs(audited: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    result, out = audited
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for text in ("pe1-core-lon", "leaf101-fra", "rejected", "partial", "Indicator introduced on 2024-06-02"):
        assert text in result.stdout
    assert "binary content, not a text configuration" in result.stdout
    assert f"Report: {out / 'audit.html'}" in result.stdout
    for name in ("findings.jsonl", "audit.json", "audit.html"):
        assert (out / name).is_file()


def test_planted_account_in_findings_jsonl(audited: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = audited
    rows = [json.loads(line) for line in (out / "findings.jsonl").read_text().splitlines()]
    implant = [r for r in rows if r["rule_id"] == "SW-CFG-IOC-001"]
    _, line = planted_lines()
    assert {r["detector"] for r in implant} == {"config", "config-drift"}
    for row in implant:
        assert [(e["line"], e["text"]) for e in row["evidence"]] == [(line, PLANTED)]
    assert rows[0]["severity"] == "critical"  # most severe first


def test_html_escapes_a_script_in_a_banner(audited: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = audited
    page = (out / "audit.html").read_text()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in page


def test_fail_on(tmp_path: Path, site: Path) -> None:
    configs = build_tree(tmp_path)
    hit = seawall("audit", str(configs), "--profile", str(site), "--out", str(tmp_path / "a"), "--fail-on", "critical")
    assert hit.returncode == 1
    clean = tmp_path / "clean"
    clean.mkdir()
    for name in CLEAN:
        shutil.copy(CONFIGS / name, clean / name)
    quiet = seawall(
        "audit", str(clean), "--profile", str(site), "--out", str(tmp_path / "b"), "--fail-on", "critical", "-q"
    )
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == ""


def test_only_rejected_files_still_exit_zero(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    shutil.copy(CONFIGS / "binary.cfg", configs / "dump.bin")
    (configs / "readme-ops.txt").write_text("Ask the NOC before touching pe1.\n")
    result = seawall("audit", str(configs), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert {d["device"]: d["reason"] for d in document["devices"]} == {
        "dump.bin": "binary content, not a text configuration",
        "readme-ops.txt": "platform not recognised",
    }


def test_bad_profile_is_a_clear_usage_error(tmp_path: Path) -> None:
    configs = build_tree(tmp_path)
    profile = tmp_path / "bad.yaml"
    profile.write_text("approved_servers:\n  syslog: [10.0.0.256]\n")
    result = seawall("audit", str(configs), "--profile", str(profile), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "error:" in result.stderr and "10.0.0.256" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing-folder"], "does not exist"),
        (["CONFIGS", "--checks", "missing.yaml"], "does not exist"),
        (["CONFIGS", "--fail-on", "urgent"], "choose one of"),
        (["CONFIGS", "--workers", "0"], "at least 1"),
        (["EMPTY"], "no configuration files found"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "empty").mkdir()
    args = [str(CONFIGS) if a == "CONFIGS" else str(tmp_path / "empty") if a == "EMPTY" else a for a in args]
    result = seawall("audit", *args, "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_own_catalog(tmp_path: Path) -> None:
    configs = build_tree(tmp_path)
    catalog = tmp_path / "checks.yaml"
    catalog.write_text(
        "checks:\n"
        "  - id: SITE-001\n"
        "    title: Account named like a vendor\n"
        "    kind: compromise\n"
        "    severity: medium\n"
        "    match: {each: users, where: {name: {regex: '^cisco_'}}}\n"
    )
    result = seawall("audit", str(configs), "--checks", str(catalog), "--out", str(tmp_path / "out"), "-q")
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert [c["id"] for c in document["checks"]] == ["SITE-001"]
    rows = [json.loads(line) for line in (tmp_path / "out" / "findings.jsonl").read_text().splitlines()]
    # the removal findings of drift are not catalog checks: they stay
    assert {(r["rule_id"], r["detector"]) for r in rows} == {
        ("SITE-001", "config"),
        ("SITE-001", "config-drift"),
        ("SW-DRIFT-001", "config-drift"),
    }
