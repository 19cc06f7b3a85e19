"""Configurations among a hunt's evidence: stored line by line, audited by the config detector."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from seawall.hunt import HuntRequest, run_hunt
from seawall.ingest import ingest
from seawall.sources import ReadOptions, formats
from seawall.sources.device_config import snapshot_time
from seawall.store import Workspace

CONFIGS = Path(__file__).parent / "fixtures" / "configs"
PLANTED = "username cisco_tac_admin"


def _planted_line(path: Path) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(PLANTED))


def test_configs_are_recognised_and_syslog_is_not(tmp_path: Path) -> None:
    config = formats()["device-config"]
    for name in ("iosxe_router.cfg", "nxos_switch.cfg", "iosxr_router.cfg", "junos_router.conf", "eos_switch.cfg"):
        assert config.sniff((CONFIGS / name).read_bytes()[:65536]) > 0.5, name
    syslog = b"<189>Mar  8 02:47:09 pe1 %SYS-5-CONFIG_I: Configured from console by admin on vty0\n" * 20
    assert config.sniff(syslog) == 0.0
    assert config.sniff((CONFIGS / "binary.cfg").read_bytes()) == 0.0
    # a review found these taken for configurations: text in an evidence folder may be anything
    pretty_json = json.dumps({"system": {"hosts": [1, 2]}, "interfaces": {"ge-0/0/0": {}}}, indent=2)
    assert config.sniff(pretty_json.encode()) == 0.0
    notes = b"line card replaced in slot 3\nno errors since\ninterface counters clean\nend of notes\n"
    assert config.sniff(notes) == 0.0


def test_each_nonblank_line_is_an_event_with_its_device_and_line_number(tmp_path: Path) -> None:
    source = tmp_path / "pe1-core-lon" / "2026-03-08.cfg"
    source.parent.mkdir()
    shutil.copy(CONFIGS / "iosxe_router_compromised.cfg", source)
    with Workspace(tmp_path / "ws.duckdb") as ws:
        (read,) = ingest([source], ws, ReadOptions()).files
        lines = source.read_text().splitlines()
        assert read.format == "device-config"
        assert read.parsed == sum(1 for line in lines if line.strip()) and read.quarantined == 0
        rows = ws.con.execute(
            'SELECT "seawall.source.line", "event.original", "host.name", "observer.product", "@timestamp" '
            "FROM events WHERE \"event.original\" LIKE 'username cisco_tac_admin%'"
        ).fetchall()
    ((number, text, host, product, stamp),) = rows
    assert number == _planted_line(source) and text == lines[number - 1]
    assert (host, product) == ("pe1-core-lon", "ios")
    assert stamp == dt.datetime(2026, 3, 8, tzinfo=dt.UTC)


def test_snapshot_time_comes_from_the_name_else_the_file(tmp_path: Path) -> None:
    named = tmp_path / "2024-06-01T0300.cfg"
    named.write_text("hostname r1\n")
    assert snapshot_time(named) == dt.datetime(2024, 6, 1, 3, 0, tzinfo=dt.UTC)
    plain = tmp_path / "r1.cfg"
    plain.write_text("hostname r1\n")
    assert snapshot_time(plain) == dt.datetime.fromtimestamp(plain.stat().st_mtime, tz=dt.UTC)


def test_hunt_reports_planted_indicators_with_the_exact_lines(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    shutil.copy(CONFIGS / "iosxe_router_compromised.cfg", evidence / "pe1.cfg")
    shutil.copy(CONFIGS / "nxos_switch.cfg", evidence / "leaf.cfg")
    result = run_hunt(HuntRequest(evidence=evidence, out=tmp_path / "case"))
    by_rule = {f.rule_id: f for f in result.findings if f.detector == "config"}
    implant = by_rule["SW-CFG-IOC-001"]
    assert implant.severity == "critical" and implant.entities["host"] == ["pe1-core-lon"]
    (evidence_line,) = implant.evidence
    assert evidence_line.line == _planted_line(evidence / "pe1.cfg")
    assert evidence_line.text.startswith(PLANTED) and evidence_line.event_id
    # The clean switch raises no indicator that needs no site profile.
    assert not [f for f in result.findings if f.detector == "config" and "leaf101-fra" in f.entities["host"]]
    assert result.ran["config"] == 2
    assert any("hardening checks failed" in n.reason for n in result.notes)
