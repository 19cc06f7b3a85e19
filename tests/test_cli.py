"""The command line, run the way a user runs it: as a separate process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import FINDING_KEYS, FIXTURES

CLI = FIXTURES / "cli"


def seawall(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seawall", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def hunt(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return seawall(
        "hunt",
        str(CLI / "evidence"),
        "--registry",
        str(CLI / "registry.csv"),
        "--intel",
        str(CLI / "intel.csv"),
        "--out",
        str(out),
        "--year",
        "2025",
        *extra,
    )


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("case")
    return hunt(out), out


def test_help_teaches_the_commands() -> None:
    result = seawall("--help")
    assert result.returncode == 0
    for command in ("hunt", "audit", "intel", "demo", "formats", "export"):
        assert command in result.stdout


def test_hunt_help_explains_options_and_exit_codes() -> None:
    result = seawall("hunt", "--help")
    assert result.returncode == 0
    for text in ("--registry", "--rules", "--intel", "--out", "--fail-on", "Exit codes"):
        assert text in result.stdout


def test_hunt_writes_findings_with_the_specified_fields(case: tuple) -> None:
    result, out = case
    assert result.returncode == 0, result.stderr
    findings = [json.loads(line) for line in (out / "findings.jsonl").read_text().splitlines()]
    assert findings
    for finding in findings:
        assert finding.keys() >= FINDING_KEYS
        assert finding["severity"] in ("informational", "low", "medium", "high", "critical")
        for evidence in finding["evidence"]:
            assert {"path", "offset", "line", "event_id"} <= evidence.keys()
    titles = {f["title"] for f in findings}
    assert "Guest Shell or app hosting enabled on a network device" in titles
    assert "Known-bad ipv4-addr 192.0.2.77 seen (intel.csv)" in titles
    guest = next(f for f in findings if f["title"].startswith("Guest Shell"))
    assert guest["entities"]["host"] == ["pe-r7"]
    assert guest["techniques"] == ["T1059", "T1610"]
    assert [e["line"] for e in guest["evidence"]] == [2, 3]


def test_hunt_scope_names_only_the_touched_person(case: tuple) -> None:
    _, out = case
    scope = json.loads((out / "scope.json").read_text())
    assert set(scope) == {"organisations", "hosts", "accounts", "external_ips"}
    assert [o["name"] for o in scope["organisations"]] == ["Example Campaign"]
    person = scope["organisations"][0]["people"][0]
    assert person["name"] == "Robin Vale"
    assert person["identifiers"] == ["+12025550143"]
    assert "b0d6e133-c456-4896-b324-5b219bbfa394" in person["via"]
    assert scope["external_ips"] == ["192.0.2.77"]
    assert "svc_batch" in scope["accounts"]
    assert {"pe-r7", "cdr-7", "jump-2"} <= set(scope["hosts"])


def test_hunt_reports_and_quarantines_bad_input_without_stopping(case: tuple) -> None:
    result, out = case
    run = json.loads((out / "run.json").read_text())
    files = {Path(f["path"]).name: f for f in run["files"]}
    truncated = files["jump-2.log.gz"]
    assert "truncated" in truncated["error"]
    assert truncated["read"] > 0  # lines before the break were kept
    assert files["cdr.jsonl"]["quarantined"] == 2
    assert files["pe-r7.log"]["quarantined"] == 1
    for f in run["files"]:
        assert f["read"] == f["parsed"] + f["quarantined"]
    assert "jump-2.log.gz" in result.stdout and "truncated" in result.stdout
    assert "report.html" in result.stdout


def test_hunt_writes_a_readable_report(case: tuple) -> None:
    _, out = case
    html = (out / "report.html").read_text()
    assert "Robin Vale" in html
    assert "Guest Shell or app hosting enabled" in html
    assert "jump-2.log.gz" in html


def test_fail_on_sets_the_exit_code(tmp_path: Path) -> None:
    assert hunt(tmp_path / "a", "--fail-on", "high", "--quiet").returncode == 1
    # the fixture has a critical finding (external CDR export), so critical fails too
    assert hunt(tmp_path / "b", "--fail-on", "critical", "--quiet").returncode == 1


def test_fail_on_below_threshold_exits_zero(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "quiet.log").write_text("<190>Mar  3 02:00:00 pe-r7 1: %SYS-6-CLOCKUPDATE: clock updated\n")
    result = seawall("hunt", str(evidence), "--out", str(tmp_path / "case"), "--fail-on", "low", "--quiet")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "case" / "findings.jsonl").read_text() == ""


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    missing = seawall("hunt", str(tmp_path / "nope"), "--out", str(tmp_path / "case"))
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr
    bad_severity = seawall("hunt", str(CLI / "evidence"), "--out", str(tmp_path / "c"), "--fail-on", "urgent")
    assert bad_severity.returncode == 2
    bad_registry = tmp_path / "registry.csv"
    bad_registry.write_text("name,phone\nx,1\n")
    result = seawall("hunt", str(CLI / "evidence"), "--out", str(tmp_path / "c2"), "--registry", str(bad_registry))
    assert result.returncode == 2
    assert "organisation,person,role,msisdn,imsi,email,notify_email" in result.stderr


def test_formats_lists_the_sources() -> None:
    result = seawall("formats")
    assert result.returncode == 0
    assert "syslog" in result.stdout and "jsonl" in result.stdout


def test_export_writes_parquet(case: tuple, tmp_path: Path) -> None:
    _, out = case
    result = seawall("export", str(out / "workspace.duckdb"), "--parquet", str(tmp_path / "pq"))
    assert result.returncode == 0, result.stderr
    events = pq.read_table(tmp_path / "pq" / "events.parquet")
    run = json.loads((out / "run.json").read_text())
    assert events.num_rows == sum(f["parsed"] for f in run["files"])
    assert pq.read_table(tmp_path / "pq" / "quarantine.parquet").num_rows == sum(f["quarantined"] for f in run["files"])


def test_demo_finds_the_planted_intrusion(tmp_path: Path) -> None:
    result = seawall("demo", "--out", str(tmp_path / "demo"), "--quiet")
    assert result.returncode == 0, result.stderr
    case = tmp_path / "demo" / "case"
    assert f"Demo report: {case / 'report.html'}" in result.stdout
    findings = [json.loads(line) for line in (case / "findings.jsonl").read_text().splitlines()]
    assert any(f["severity"] in ("high", "critical") for f in findings)
    scope = json.loads((case / "scope.json").read_text())
    people = {p["name"] for o in scope["organisations"] for p in o["people"]}
    assert {"Dana Harper", "Miguel Ortega", "Priya Nair", "Elena Varga"} == people
    assert "203.0.113.66" in scope["external_ips"]
    run = json.loads((case / "run.json").read_text())
    assert sum(f["quarantined"] for f in run["files"]) == 1  # the record cut short in the CDR audit log


def test_demo_is_deterministic(tmp_path: Path) -> None:
    first = seawall("demo", "--out", str(tmp_path / "one"), "--quiet")
    second = seawall("demo", "--out", str(tmp_path / "two"), "--quiet")
    assert first.returncode == second.returncode == 0
    read = lambda root: sorted(  # noqa: E731
        (f["rule_id"], f["first_seen"], f["event_count"])
        for f in map(json.loads, (root / "case" / "findings.jsonl").read_text().splitlines())
    )
    assert read(tmp_path / "one") == read(tmp_path / "two")


def _said(result: subprocess.CompletedProcess[str]) -> str:
    """stderr with the console's line wrapping undone."""
    return " ".join(result.stderr.split())


def test_empty_evidence_folder_exits_2_saying_nothing_could_be_read(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    result = seawall("hunt", str(evidence), "--out", str(tmp_path / "case"), "--quiet")
    assert result.returncode == 2, result.stderr
    assert "no evidence could be read" in _said(result)
    assert "Traceback" not in result.stderr


def test_out_pointing_at_a_regular_file_exits_2_with_a_message(tmp_path: Path) -> None:
    out = tmp_path / "case.txt"
    out.write_text("not a folder\n")
    result = seawall("hunt", str(CLI / "evidence"), "--out", str(out), "--quiet")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "not a folder" in _said(result)
    assert out.read_text() == "not a folder\n"


def test_logsources_folder_exits_2_before_any_evidence_is_read(tmp_path: Path) -> None:
    out = tmp_path / "case"
    out.mkdir()
    folder = tmp_path / "mappings"
    folder.mkdir()
    result = seawall("hunt", str(CLI / "evidence"), "--out", str(out), "--logsources", str(folder), "--quiet")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "logsource" in _said(result)
    assert not (out / "workspace.duckdb").exists()


def test_export_of_a_file_that_is_not_a_workspace_exits_2(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("this is not a DuckDB database\n" * 100)
    result = seawall("export", str(bogus), "--parquet", str(tmp_path / "pq"))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "not a readable Seawall workspace" in _said(result)


def test_timezone_reads_zoneless_clocks_in_that_zone(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "r1.log").write_text(
        "<189>Mar  3 01:02:03 pe-r7 12: Mar  3 01:02:03.500: %SYS-5-CONFIG_I: Configured from console by ops on vty0 (10.9.9.9)\n"
        "<189>Mar  3 01:02:04 pe-r7 13: Mar  3 01:02:04.000 CET: %SYS-6-LOGOUT: User ops has exited tty session 2(10.9.9.9)\n",
        encoding="utf-8",
    )
    out = tmp_path / "case"
    done = seawall("hunt", str(evidence), "--out", str(out), "--year", "2025", "--timezone", "America/New_York", "-q")
    assert done.returncode == 0, done.stderr
    seawall("export", str(out / "workspace.duckdb"), "--parquet", str(tmp_path / "pq"))
    rows = pq.read_table(tmp_path / "pq" / "events.parquet").to_pylist()
    stamps = {r["event.code"]: r["@timestamp"].isoformat() for r in rows}
    assert stamps == {
        "SYS-5-CONFIG_I": "2025-03-03T06:02:03.500000+00:00",  # New York is UTC-5 in March before DST
        "SYS-6-LOGOUT": "2025-03-03T00:02:04+00:00",  # the device said CET (UTC+1): its zone wins
    }


def test_unknown_timezone_is_a_usage_error(tmp_path: Path) -> None:
    done = seawall(
        "hunt", str(FIXTURES / "cli" / "evidence"), "--out", str(tmp_path / "c"), "--timezone", "Mars/Olympus"
    )
    assert done.returncode == 2
    assert "unknown time zone" in done.stderr + done.stdout


def _silence_titles(out: Path) -> list[str]:
    return [
        f["title"]
        for f in map(json.loads, (out / "findings.jsonl").read_text().splitlines())
        if f["rule_id"].startswith("silence:")
    ]


def test_silence_thresholds_can_be_replaced_with_a_file(tmp_path: Path) -> None:
    evidence = FIXTURES / "detect" / "silence"
    default = tmp_path / "default"
    assert seawall("hunt", str(evidence), "--out", str(default), "--year", "2026", "-q").returncode == 0
    assert any("went silent" in t for t in _silence_titles(default))  # the router's 6h26m hole
    builtin = (Path(__file__).parents[1] / "src" / "seawall" / "content" / "silence.yaml").read_text()
    lenient = tmp_path / "silence.yaml"
    lenient.write_text(builtin.replace("min_gap: 1h", "min_gap: 12h"), encoding="utf-8")
    relaxed = tmp_path / "relaxed"
    done = seawall("hunt", str(evidence), "--out", str(relaxed), "--year", "2026", "--silence", str(lenient), "-q")
    assert done.returncode == 0, done.stderr
    assert not any("went silent" in t for t in _silence_titles(relaxed))


def test_broken_silence_file_is_a_usage_error(tmp_path: Path) -> None:
    broken = tmp_path / "silence.yaml"
    broken.write_text("min_gapp: 1h\n", encoding="utf-8")
    done = seawall("hunt", str(FIXTURES / "detect" / "silence"), "--out", str(tmp_path / "c"), "--silence", str(broken))
    assert done.returncode == 2
    assert "silence" in done.stderr
