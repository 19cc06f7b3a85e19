"""``run_audit``: discovery, per-file status, checks on the latest snapshot, drift with dates,
and the three outputs (findings.jsonl, audit.json, audit.html)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import FINDING_KEYS, FIXTURES, ROOT

from seawall import audit as audit_module
from seawall.audit import AuditRequest, AuditResult, DeviceAudit, discover, run_audit
from seawall.errors import ContentError, SeawallError

CONFIGS = FIXTURES / "configs"
EXAMPLE_PROFILE = ROOT / "docs" / "examples" / "site-profile.yaml"
PLANTED = "username cisco_tac_admin privilege 15 secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM"
SCRIPT_BANNER = ["banner login ^C", "<script>alert('owned')</script> & friends", "^C"]
# The fixtures' own network (their addresses are not the example profile's documentation ranges).
FIXTURE_SITE = """\
name: fixture-network
management_ranges: [172.20.0.0/16, 10.0.0.0/8]
infrastructure_ranges: [10.255.0.0/16]
approved_servers:
  aaa: [172.20.0.0/16, 10.0.0.0/8]
  syslog: [172.20.0.0/16, 10.0.0.0/8, syslog-1]
  ntp: [172.20.0.0/16, 10.0.0.0/8]
  snmp: [172.20.0.0/16, 10.0.0.0/8]
tunnel_peers: [10.255.0.0/16, 198.51.100.17]
approved_admins: [netops, admin, root, break-glass]
"""
CLEAN = [
    "asa_firewall.cfg",
    "eos_switch.cfg",
    "iosxe_router.cfg",
    "iosxr_router.cfg",
    "junos_router.conf",
    "junos_router.set",
    "nxos_switch.cfg",
]


def planted_lines() -> tuple[list[str], int]:
    """The IOS XE fixture with the implant account after its hostname, and that line's number."""
    lines = (CONFIGS / "iosxe_router.cfg").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("hostname ")) + 1
    lines.insert(at, PLANTED)
    return lines, at + 1


def build_tree(root: Path) -> Path:
    """A folder per device with two dated snapshots (the second plants the account and a
    banner with markup, and drops a logging host), plain files, a binary and a non-config."""
    configs = root / "configs"
    device = configs / "pe1-core-lon"
    device.mkdir(parents=True)
    shutil.copy(CONFIGS / "iosxe_router.cfg", device / "2024-06-01.cfg")
    lines, _ = planted_lines()
    lines = [line for line in lines if line != "logging host 172.20.5.21 transport tcp port 6514"]
    end = lines.index("end")
    lines[end:end] = SCRIPT_BANNER
    (device / "2024-06-02T0300.cfg").write_text("\n".join(lines) + "\n")
    shutil.copy(CONFIGS / "nxos_switch.cfg", configs / "leaf101-fra.cfg")
    shutil.copy(CONFIGS / "iosxe_truncated.cfg", configs / "truncated.cfg")
    shutil.copy(CONFIGS / "binary.cfg", configs / "binary.cfg")
    (configs / "notes.txt").write_text("Change window 2024-06-02: replace uplink optics.\n")
    (configs / "router.db").write_text("pe1-core-lon:ios:up\n")
    return configs


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, AuditResult]:
    root = tmp_path_factory.mktemp("audit")
    configs = build_tree(root)
    profile = root / "site.yaml"
    profile.write_text(FIXTURE_SITE)
    return root, run_audit(AuditRequest(configs, root / "out", profile=profile))


def device(result: AuditResult, key: str) -> DeviceAudit:
    return next(d for d in result.devices if d.key == key)


def test_discovery_rule(tree: tuple[Path, AuditResult]) -> None:
    root, result = tree
    # files are devices by their path; the folder of dated files is one device
    assert [d.key for d in result.devices] == [
        "binary.cfg",
        "leaf101-fra.cfg",
        "notes.txt",
        "pe1-core-lon",
        "truncated.cfg",
    ]
    pe1 = device(result, "pe1-core-lon")
    assert [s.label for s in pe1.snapshots] == ["2024-06-01.cfg", "2024-06-02T0300.cfg"]
    assert [s.date.isoformat() for s in pe1.snapshots] == ["2024-06-01T00:00:00+00:00", "2024-06-02T03:00:00+00:00"]
    assert device(result, "leaf101-fra.cfg").snapshots[0].date is None  # a plain file has no history
    assert result.skipped == [f"{root / 'configs' / 'router.db'}: not a configuration (router.db)"]


def test_the_output_folder_inside_the_configs_is_not_audited(tmp_path: Path) -> None:
    configs = build_tree(tmp_path)
    first = run_audit(AuditRequest(configs, configs / "audit-out"))
    second = run_audit(AuditRequest(configs, configs / "audit-out"))
    assert [d.key for d in second.devices] == [d.key for d in first.devices]


def test_rejected_files_are_listed_with_their_reason(tree: tuple[Path, AuditResult]) -> None:
    _, result = tree
    binary, notes = device(result, "binary.cfg"), device(result, "notes.txt")
    assert (binary.status, binary.reason) == ("rejected", "binary content, not a text configuration")
    assert (notes.status, notes.reason) == ("rejected", "platform not recognised")
    assert {c.status for c in binary.checks} == {"not-evaluated"}
    assert binary.findings == [] and notes.findings == []


def test_partial_file_keeps_its_unparsed_ranges(tree: tuple[Path, AuditResult]) -> None:
    root, result = tree
    truncated = device(result, "truncated.cfg")
    assert truncated.status == "partial"
    assert truncated.snapshots[0].unparsed == ((70, 74),)
    document = json.loads((root / "out" / "audit.json").read_text())
    entry = next(d for d in document["devices"] if d["device"] == "truncated.cfg")
    assert entry["unparsed"] == [[70, 74]]
    assert "truncated" in entry["reason"]


def test_planted_account_is_found_on_its_exact_line(tree: tuple[Path, AuditResult]) -> None:
    _, result = tree
    _, line = planted_lines()
    found = [f for f in result.findings if f.rule_id == "SW-CFG-IOC-001" and f.detector == "config"]
    assert len(found) == 1
    (finding,) = found
    assert finding.severity == "critical"
    assert finding.entities == {"host": ["pe1-core-lon"]}
    assert [(Path(e.path).name, e.line, e.text) for e in finding.evidence] == [("2024-06-02T0300.cfg", line, PLANTED)]


def test_drift_dates_the_indicator_by_the_snapshot_it_appeared_in(tree: tuple[Path, AuditResult]) -> None:
    _, result = tree
    _, line = planted_lines()
    introduced = next(f for f in result.findings if f.rule_id == "SW-CFG-IOC-001" and f.detector == "config-drift")
    assert introduced.title == "Indicator introduced on 2024-06-02: Local account named like a known implant account"
    assert introduced.first_seen.isoformat() == "2024-06-02T03:00:00+00:00"
    assert [(e.line, e.text, e.timestamp) for e in introduced.evidence] == [(line, PLANTED, "2024-06-02T03:00:00Z")]
    # the check failure carries the same start date
    failure = next(f for f in result.findings if f.rule_id == "SW-CFG-IOC-001" and f.detector == "config")
    assert failure.first_seen == introduced.first_seen
    assert failure.id != introduced.id


def test_removed_logging_host_is_a_defence_removed_with_its_old_line(tree: tuple[Path, AuditResult]) -> None:
    _, result = tree
    removed = next(f for f in result.findings if f.rule_id == "SW-DRIFT-001")
    assert removed.title == "Logging host removed on 2024-06-02"
    old = (CONFIGS / "iosxe_router.cfg").read_text().splitlines()
    number = old.index("logging host 172.20.5.21 transport tcp port 6514") + 1
    (evidence,) = removed.evidence
    assert (Path(evidence.path).name, evidence.line, evidence.timestamp) == (
        "2024-06-01.cfg",
        number,
        "2024-06-01T00:00:00Z",
    )


def test_clean_fixtures_raise_no_compromise_finding(tmp_path: Path) -> None:
    for name in CLEAN:
        shutil.copy(CONFIGS / name, tmp_path / name)
    profile = tmp_path / "site.yaml"
    profile.write_text(FIXTURE_SITE)
    result = run_audit(AuditRequest(tmp_path, tmp_path / "out", profile=profile))
    assert len(result.devices) == len(CLEAN)
    assert {d.status for d in result.devices} == {"parsed"}
    compromise = {c.id for c in result.catalog if c.kind == "compromise"}
    assert [f.title for f in result.findings if f.rule_id in compromise or f.detector == "config-drift"] == []
    assert any(f.rule_id.startswith("SW-CFG-HARD") for f in result.findings)  # hardening is still reported


def test_example_profile_flags_nothing_planted_in_clean_fixtures(tmp_path: Path) -> None:
    """With the example profile (other addresses), the clean fixtures hold no implant account,
    capture, RSPAN session or covert port: only "not an approved server/range" checks fail."""
    for name in CLEAN:
        shutil.copy(CONFIGS / name, tmp_path / name)
    result = run_audit(AuditRequest(tmp_path, tmp_path / "out", profile=EXAMPLE_PROFILE))
    implant = {"SW-CFG-IOC-001", "SW-CFG-IOC-004", "SW-CFG-IOC-005", "SW-CFG-IOC-007", "SW-CFG-IOC-009"}
    assert not [f for f in result.findings if f.rule_id in implant]


def test_audit_json_per_device(tree: tuple[Path, AuditResult]) -> None:
    root, result = tree
    document = json.loads((root / "out" / "audit.json").read_text())
    assert document["totals"]["devices"] == 5
    assert document["totals"]["parsed"] == 2 and document["totals"]["rejected"] == 2
    pe1 = next(d for d in document["devices"] if d["device"] == "pe1-core-lon")
    assert (pe1["platform"], pe1["hostname"], pe1["status"]) == ("ios", "pe1-core-lon", "parsed")
    assert [Path(p).name for p in pe1["paths"]] == ["2024-06-01.cfg", "2024-06-02T0300.cfg"]
    checks = {c["id"]: c for c in pe1["checks"]}
    assert len(checks) == len(result.catalog)
    _, line = planted_lines()
    assert checks["SW-CFG-IOC-001"]["status"] == "fail"
    assert checks["SW-CFG-IOC-001"]["offenses"][0]["lines"] == [{"line": line, "text": PLANTED}]
    assert checks["SW-CFG-IOC-009"]["status"] == "pass"
    assert checks["SW-CFG-HARD-002"]["kind"] == "hardening"
    nxos = next(d for d in document["devices"] if d["device"] == "leaf101-fra.cfg")
    not_applicable = {c["id"]: c for c in nxos["checks"]}["SW-CFG-HARD-001"]
    assert (not_applicable["status"], not_applicable["reason"]) == ("not-applicable", "check applies to ios")
    (step,) = pe1["drift"]
    assert (step["before_date"], step["after_date"]) == ("2024-06-01T00:00:00Z", "2024-06-02T03:00:00Z")
    assert {"line": line, "text": PLANTED} in step["added"]
    assert [r["text"] for r in step["removed"]] == ["logging host 172.20.5.21 transport tcp port 6514"]
    kinds = {(c["kind"], c["key"]) for c in step["changes"]}
    assert {("user added", "cisco_tac_admin"), ("logging host removed", "172.20.5.21")} <= kinds
    removal = next(f for f in pe1["drift_findings"] if f["rule_id"] == "SW-DRIFT-001")
    assert Path(removal["lines_in"]).name == "2024-06-01.cfg"  # the removed line's numbers are the old file's
    introduced = next(f for f in pe1["drift_findings"] if f["rule_id"] == "SW-CFG-IOC-001")
    assert Path(introduced["lines_in"]).name == "2024-06-02T0300.cfg"
    assert document["skipped"] == result.skipped


def test_findings_jsonl_has_the_hunt_format(tree: tuple[Path, AuditResult]) -> None:
    root, result = tree
    rows = [json.loads(line) for line in (root / "out" / "findings.jsonl").read_text().splitlines()]
    assert len(rows) == len(result.findings) > 0
    for row in rows:
        assert row.keys() >= FINDING_KEYS
        assert row["detector"] in ("config", "config-drift")
        assert all("path" in e for e in row["evidence"])
    assert len({row["id"] for row in rows}) == len(rows)


def test_html_escapes_configuration_text(tree: tuple[Path, AuditResult]) -> None:
    root, _ = tree
    page = (root / "out" / "audit.html").read_text()
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt; &amp; friends" in page
    for external in ("<link", "<script", "<img", "@import", "url("):  # self-contained: nothing fetched
        assert external not in page
    assert page.index("Compromise and drift findings") < page.index("Hardening checks that failed")


def test_git_repository(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "oxidized"
    repo.mkdir()

    def git(*args: str, date: str | None = None) -> None:
        env = {**os.environ, "GIT_AUTHOR_NAME": "ox", "GIT_AUTHOR_EMAIL": "ox@example.net"}
        env.update({"GIT_COMMITTER_NAME": "ox", "GIT_COMMITTER_EMAIL": "ox@example.net"})
        if date:
            env.update({"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
        subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)

    git("init", "-q")
    shutil.copy(CONFIGS / "iosxe_router.cfg", repo / "pe1-core-lon")
    shutil.copy(CONFIGS / "binary.cfg", repo / "broken-dump")
    git("add", "-A")
    git("commit", "-q", "-m", "first", date="2024-06-01T04:00:00Z")
    lines, line = planted_lines()
    (repo / "pe1-core-lon").write_text("\n".join(lines) + "\n")
    git("commit", "-q", "-am", "second", date="2024-07-15T04:00:00Z")
    (repo / "uncommitted.cfg").write_text("hostname not-in-history\n")
    result = run_audit(AuditRequest(repo, tmp_path / "out"))
    assert [d.key for d in result.devices] == ["broken-dump", "pe1-core-lon"]
    assert device(result, "broken-dump").status == "rejected"
    pe1 = device(result, "pe1-core-lon")
    assert len(pe1.snapshots) == 2 and pe1.snapshots[1].source.endswith(":pe1-core-lon")
    introduced = next(f for f in pe1.findings if f.rule_id == "SW-CFG-IOC-001" and f.detector == "config-drift")
    assert introduced.title.startswith("Indicator introduced on 2024-07-15")
    assert [(e.line, e.text) for e in introduced.evidence] == [(line, PLANTED)]


def test_process_pool_gives_the_serial_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    configs = build_tree(tmp_path)
    serial = run_audit(AuditRequest(configs, tmp_path / "serial", workers=1))
    monkeypatch.setattr(audit_module, "POOL_THRESHOLD", 2)
    pooled = run_audit(AuditRequest(configs, tmp_path / "pooled", workers=2))
    assert (serial.workers, pooled.workers) == (1, 2)
    assert [f.to_dict() for f in pooled.findings] == [f.to_dict() for f in serial.findings]
    assert [d.checks for d in pooled.devices] == [d.checks for d in serial.devices]


def test_progress_callback_per_device(tmp_path: Path) -> None:
    configs = build_tree(tmp_path)
    seen: list[str] = []
    hooks = audit_module.AuditHooks(
        on_start=lambda n: seen.append(f"start {n}"), on_device=lambda d: seen.append(d.key)
    )
    run_audit(AuditRequest(configs, tmp_path / "out"), hooks)
    assert seen == ["start 5", "binary.cfg", "leaf101-fra.cfg", "notes.txt", "pe1-core-lon", "truncated.cfg"]


def test_one_file_is_one_device(tmp_path: Path) -> None:
    result = run_audit(AuditRequest(CONFIGS / "nxos_switch.cfg", tmp_path / "out"))
    assert [(d.key, d.name, d.platform) for d in result.devices] == [("nxos_switch.cfg", "leaf101-fra", "nxos")]


def test_a_folder_of_dated_files_is_one_device(tmp_path: Path) -> None:
    shutil.copy(CONFIGS / "iosxe_router.cfg", tmp_path / "2024-06-01.cfg")
    shutil.copy(CONFIGS / "iosxe_router_compromised.cfg", tmp_path / "2024-06-09.cfg")
    found = discover(tmp_path)
    assert list(found) == [tmp_path.name]
    assert [s.label for s in found[tmp_path.name]] == ["2024-06-01.cfg", "2024-06-09.cfg"]


def test_content_errors_stop_before_any_output(tmp_path: Path) -> None:
    configs = build_tree(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("management_rangse: [10.0.0.0/8]\n")
    with pytest.raises(ContentError, match="management_rangse"):
        run_audit(AuditRequest(configs, tmp_path / "out", profile=bad))
    assert not (tmp_path / "out").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SeawallError, match="no configuration files found"):
        run_audit(AuditRequest(empty, tmp_path / "out"))


def test_a_failing_check_does_not_lose_the_device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("catalog bug")

    monkeypatch.setattr(audit_module.drift, "history", broken)
    result = run_audit(AuditRequest(CONFIGS / "nxos_switch.cfg", tmp_path / "out"))
    (only,) = result.devices
    assert (only.status, only.error, only.checks) == ("parsed", "RuntimeError: catalog bug", [])
    document = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert document["totals"]["errors"] == 1
