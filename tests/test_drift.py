"""Drift: snapshots from folders and git, the exact changed lines, the model changes, and
the date each indicator first appears."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from seawall.detect import drift
from seawall.detect.config_checks import load_catalog
from seawall.detect.profile import SiteProfile
from seawall.errors import EvidenceError
from seawall.sources.configs.model import Acl, AclEntry, DeviceConfig, Line, Server, Tunnel, User
from seawall.sources.configs.snapshots import snapshot_date

UTC = dt.UTC


def toy_parse(text: str, path: str) -> DeviceConfig:
    """Just enough of IOS for these tests (the real parsers are tested on their own)."""
    lines = text.splitlines()
    config = DeviceConfig(path=path, platform="ios", text_lines=lines)
    acls: dict[str, list[AclEntry]] = {}
    acl_lines: dict[str, list[int]] = {}
    for number, line in enumerate(lines, 1):
        words = line.split()
        if not words:
            continue
        if words[0] == "hostname":
            config.hostname = words[1]
        elif words[0] == "username":
            privilege = int(words[words.index("privilege") + 1]) if "privilege" in words else None
            config.users.append(
                User(lines=(number,), name=words[1], privilege=privilege, secret_type="9", secret_kind="secret")
            )
        elif words[:2] == ["logging", "host"]:
            config.logging_hosts.append(Server(lines=(number,), address=words[2]))
        elif words[:2] == ["ntp", "server"]:
            config.ntp_servers.append(Server(lines=(number,), address=words[2]))
        elif words[0] == "access-list":
            source = {"any": "any", "host": f"{words[4]}/32" if len(words) > 4 else ""}.get(words[3], words[3])
            acls.setdefault(words[1], []).append(
                AclEntry(lines=(number,), action=words[2], source=source, text=line.strip())
            )
            acl_lines.setdefault(words[1], []).append(number)
        elif words[0] == "interface" and words[1].startswith("Tunnel"):
            config.tunnels.append(Tunnel(lines=(number,), name=words[1], mode="gre"))
        elif words[:2] == ["tunnel", "destination"] and config.tunnels:
            last = config.tunnels[-1]
            config.tunnels[-1] = Tunnel(lines=(*last.lines, number), name=last.name, mode="gre", destination=words[2])
        elif words[:2] == ["line", "vty"]:
            config.lines.append(Line(lines=(number,), kind="vty", first=int(words[2]), last=int(words[3])))
        elif words[0] == "access-class" and config.lines:
            last = config.lines[-1]
            config.lines[-1] = Line(
                lines=(*last.lines, number), kind="vty", first=last.first, last=last.last, access_class_in=words[1]
            )
    config.acls = [Acl(lines=tuple(acl_lines[n]), name=n, kind="standard", entries=tuple(e)) for n, e in acls.items()]
    return config


BASE = """\
! Last configuration change at 03:00:01 UTC Sat Jun 1 2024 by netops
hostname pe1-nyc
!
username netops privilege 15 secret 9 $9$aaaa
!
logging host 192.0.2.20
logging host 192.0.2.21
!
access-list 20 permit 192.0.2.0 0.0.0.63
access-list 20 deny any
!
line vty 0 4
 access-class 20 in
!
end
"""

# the intruder's day: an implant account, a foreign address in ACL 20, a tunnel out, one logging host gone
COMPROMISED = """\
! Last configuration change at 02:14:55 UTC Mon Jun 3 2024 by cisco_tac_admin
hostname pe1-nyc
!
username netops privilege 15 secret 9 $9$aaaa
username cisco_tac_admin privilege 15 secret 9 $9$bbbb
!
logging host 192.0.2.20
!
access-list 20 permit 192.0.2.0 0.0.0.63
access-list 20 permit host 45.61.165.157
access-list 20 deny any
!
interface Tunnel9
 tunnel destination 45.61.165.157
!
line vty 0 4
 access-class 20 in
!
end
"""

# a week later: the tunnel is gone, the rest stays
LATER = COMPROMISED.replace("interface Tunnel9\n tunnel destination 45.61.165.157\n!\n", "").replace(
    "02:14:55 UTC Mon Jun 3", "09:00:00 UTC Mon Jun 10"
)


@pytest.fixture(scope="module")
def profile() -> SiteProfile:
    return SiteProfile.from_dict(
        {
            "management_ranges": ["192.0.2.0/26"],
            "approved_admins": ["netops"],
            "tunnel_peers": ["203.0.113.1"],
            "approved_servers": {"syslog": ["192.0.2.20", "192.0.2.21"]},
        }
    )


# --- dates and snapshots -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2024-06-01.cfg", dt.datetime(2024, 6, 1, tzinfo=UTC)),
        ("2024-06-01T0300.cfg", dt.datetime(2024, 6, 1, 3, 0, tzinfo=UTC)),
        ("2024-06-01T03:00:15Z.txt", dt.datetime(2024, 6, 1, 3, 0, 15, tzinfo=UTC)),
        ("2024-06-01_0300", dt.datetime(2024, 6, 1, 3, 0, tzinfo=UTC)),
        ("20240601-0300.conf", dt.datetime(2024, 6, 1, 3, 0, tzinfo=UTC)),
        ("2024-06-01T05:00+02:00.cfg", dt.datetime(2024, 6, 1, 3, 0, tzinfo=UTC)),
        ("2024-06-01T03:00-05:00.cfg", dt.datetime(2024, 6, 1, 8, 0, tzinfo=UTC)),
        ("2024-06-01-1.cfg", dt.datetime(2024, 6, 1, tzinfo=UTC)),
        ("2024-06-01.running.cfg", dt.datetime(2024, 6, 1, tzinfo=UTC)),
        ("running-config.cfg", None),
        ("2024-13-01.cfg", None),
        ("2024-06-011.cfg", None),
    ],
)
def test_parse_date(name: str, expected: dt.datetime | None) -> None:
    assert snapshot_date(name) == expected


def test_folder_per_device(tmp_path: Path) -> None:
    (tmp_path / "pe1-nyc").mkdir()
    (tmp_path / "pe1-nyc" / "2024-06-03T0215.cfg").write_text(COMPROMISED)
    (tmp_path / "pe1-nyc" / "2024-06-01.cfg").write_text(BASE)
    (tmp_path / "pe1-nyc" / "notes.txt").write_text("not a snapshot")
    (tmp_path / "pe2-lax").mkdir()
    (tmp_path / "pe2-lax" / "2024-06-01.txt").write_text(BASE)
    (tmp_path / "stray.cfg").write_text(BASE)
    skipped: list[str] = []
    found = drift.snapshots(tmp_path, skipped)
    assert list(found) == ["pe1-nyc", "pe2-lax"]
    nyc = found["pe1-nyc"]
    assert [s.date for s in nyc] == [dt.datetime(2024, 6, 1, tzinfo=UTC), dt.datetime(2024, 6, 3, 2, 15, tzinfo=UTC)]
    assert [s.label for s in nyc] == ["2024-06-01.cfg", "2024-06-03T0215.cfg"]
    assert nyc[1].text == COMPROMISED and nyc[1].source == str(tmp_path / "pe1-nyc" / "2024-06-03T0215.cfg")
    assert sorted(Path(s.split(":")[0]).name for s in skipped) == ["notes.txt", "stray.cfg"]


def git(repo: Path, *args: str, date: str | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "oxidized", "GIT_AUTHOR_EMAIL": "ox@example.net"}
    env.update({"GIT_COMMITTER_NAME": "oxidized", "GIT_COMMITTER_EMAIL": "ox@example.net"})
    if date:
        env.update({"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True)
    return done.stdout


@pytest.fixture
def oxidized(tmp_path: Path) -> Path:
    """A repository as Oxidized keeps it: a file per device, a commit per change."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "oxidized"
    repo.mkdir()
    git(repo, "init", "-q")
    for text, date, also in (
        (BASE, "2024-06-01T03:00:00+00:00", True),
        (COMPROMISED, "2024-06-03T02:15:00+00:00", False),
        (LATER, "2024-06-10T09:00:00+02:00", False),
    ):
        (repo / "pe1-nyc.example.net").write_text(text)
        if also:
            (repo / "core").mkdir()
            (repo / "core" / "p1-chi.cfg").write_text(BASE.replace("pe1-nyc", "p1-chi"))
            (repo / "router.db").write_text("pe1-nyc.example.net:ios:up\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"update {date}", date=date)
    return repo


def test_git_repository_snapshots(oxidized: Path) -> None:
    found = drift.snapshots(oxidized)
    assert list(found) == ["p1-chi", "pe1-nyc.example.net"]
    nyc = found["pe1-nyc.example.net"]
    assert [s.date for s in nyc] == [
        dt.datetime(2024, 6, 1, 3, tzinfo=UTC),
        dt.datetime(2024, 6, 3, 2, 15, tzinfo=UTC),
        dt.datetime(2024, 6, 10, 7, tzinfo=UTC),
    ]
    assert [s.text for s in nyc] == [BASE, COMPROMISED, LATER]
    commits = git(oxidized, "log", "--reverse", "--format=%H").split()
    assert [s.source for s in nyc] == [f"{c}:pe1-nyc.example.net" for c in commits]
    assert [s.label for s in nyc] == [c[:12] for c in commits]
    assert len(found["p1-chi"]) == 1 and "hostname p1-chi" in found["p1-chi"][0].text


def test_git_missing_is_a_clear_error(oxidized: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drift.shutil, "which", lambda name: None)
    with pytest.raises(EvidenceError, match="git command is not installed"):
        drift.snapshots(oxidized)


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match="not a folder"):
        drift.snapshots(tmp_path / "nope")


# --- diff -------------------------------------------------------------------------------


def test_diff_lists_exactly_the_changed_lines() -> None:
    before, after = toy_parse(BASE, "a.cfg"), toy_parse(COMPROMISED, "b.cfg")
    d = drift.diff(
        before, after, before_date=dt.datetime(2024, 6, 1, tzinfo=UTC), after_date=dt.datetime(2024, 6, 3, tzinfo=UTC)
    )
    assert d.removed == ((7, "logging host 192.0.2.21"),)
    assert d.added == (
        (5, "username cisco_tac_admin privilege 15 secret 9 $9$bbbb"),
        (10, "access-list 20 permit host 45.61.165.157"),
        (13, "interface Tunnel9"),
        (14, " tunnel destination 45.61.165.157"),
        (15, "!"),
    )  # the "Last configuration change" comment changed too, but it is volatile
    assert d.device == "pe1-nyc" and d.changed


def test_diff_structured_changes() -> None:
    before, after = toy_parse(BASE, "a.cfg"), toy_parse(COMPROMISED, "b.cfg")
    when = dt.datetime(2024, 6, 3, tzinfo=UTC)
    changes = drift.diff(before, after, after_date=when).changes
    summary = [(c.kind, c.key, c.before, c.after) for c in changes]
    assert summary == [
        ("user added", "cisco_tac_admin", (), ((5, "username cisco_tac_admin privilege 15 secret 9 $9$bbbb"),)),
        ("logging host removed", "192.0.2.21", ((7, "logging host 192.0.2.21"),), ()),
        ("tunnel added", "Tunnel9", (), ((13, "interface Tunnel9"), (14, " tunnel destination 45.61.165.157"))),
        (
            "acl entry added",
            "20 access-list 20 permit host 45.61.165.157",
            (),
            ((10, "access-list 20 permit host 45.61.165.157"),),
        ),
    ]
    assert all(c.after_date == when and c.before_date is None for c in changes)


def test_changed_item_names_the_fields() -> None:
    before = toy_parse(BASE, "a.cfg")
    after = toy_parse(BASE.replace("username netops privilege 15", "username netops privilege 1"), "b.cfg")
    (change,) = drift.diff(before, after).changes
    assert change.kind == "user changed" and change.key == "netops" and change.fields == ("privilege",)
    assert change.before == ((4, "username netops privilege 15 secret 9 $9$aaaa"),)
    assert change.after == ((4, "username netops privilege 1 secret 9 $9$aaaa"),)


def test_unchanged_config_moved_lines_is_no_drift() -> None:
    before = toy_parse(BASE, "a.cfg")
    after = toy_parse("!\n!\n" + BASE, "b.cfg")
    d = drift.diff(before, after)
    assert d.removed == () and d.added == ((1, "!"), (2, "!")) and d.changes == ()


def test_changed_lines_is_exact_on_big_configs() -> None:
    rng = random.Random(7)
    before = []
    for i in range(700):
        before += [f"interface Gi0/{i}", f" description link {i}", " no shutdown", "!"]
    after = list(before)
    edits = sorted(rng.sample(range(len(after)), 12), reverse=True)
    for k in edits:
        after[k] = after[k] + " changed"
    removed, added = drift.changed_lines(before, after)
    assert [n for n, _ in removed] == [n for n, _ in added] == sorted(k + 1 for k in edits)
    # a whole file replaced by another: every line removed and added
    other = [f"line {rng.random()}" for _ in range(2800)]
    removed, added = drift.changed_lines(before, other)
    assert len(removed) == 2800 and len(added) == 2800


# --- when did it start --------------------------------------------------------------------


def test_drift_findings_are_what_the_change_introduced(profile: SiteProfile) -> None:
    before, after = toy_parse(BASE, "a.cfg"), toy_parse(COMPROMISED, "b.cfg")
    when = dt.datetime(2024, 6, 3, tzinfo=UTC)
    found = drift.drift_findings(before, after, load_catalog(), profile, after_date=when)
    assert [(f.rule_id, f.label, f.lines) for f in found] == [
        ("SW-CFG-IOC-001", "users: cisco_tac_admin", ((5, "username cisco_tac_admin privilege 15 secret 9 $9$bbbb"),)),
        ("SW-CFG-IOC-002", "users: cisco_tac_admin", ((5, "username cisco_tac_admin privilege 15 secret 9 $9$bbbb"),)),
        (
            "SW-CFG-IOC-003",
            "acl_entries: 20 access-list 20 permit host 45.61.165.157",
            ((10, "access-list 20 permit host 45.61.165.157"),),
        ),
        ("SW-CFG-IOC-006", "tunnels: Tunnel9", ((13, "interface Tunnel9"), (14, " tunnel destination 45.61.165.157"))),
        ("SW-DRIFT-001", "logging host: 192.0.2.21", ((7, "logging host 192.0.2.21"),)),
    ]
    assert {f.first_seen for f in found} == {when}
    # the same configuration twice: nothing new
    assert drift.drift_findings(after, after, load_catalog(), profile) == []


def test_history_dates_each_indicator_by_its_first_snapshot(oxidized: Path, profile: SiteProfile) -> None:
    snaps = drift.snapshots(oxidized)["pe1-nyc.example.net"]
    hist = drift.history(snaps, load_catalog(), profile, parse=toy_parse)
    assert hist.device == "pe1-nyc.example.net" and len(hist.drifts) == 2
    _, june3, june10 = (s.date for s in snaps)
    got = {(f.rule_id, f.label): (f.first_seen, f.last_seen, f.still_present, f.kind) for f in hist.findings}
    introduced = "indicator introduced"
    assert got == {
        ("SW-CFG-IOC-001", "users: cisco_tac_admin"): (june3, june10, True, introduced),
        ("SW-CFG-IOC-002", "users: cisco_tac_admin"): (june3, june10, True, introduced),
        ("SW-CFG-IOC-003", "acl_entries: 20 access-list 20 permit host 45.61.165.157"): (
            june3,
            june10,
            True,
            introduced,
        ),
        ("SW-CFG-IOC-006", "tunnels: Tunnel9"): (june3, june3, False, introduced),
        ("SW-DRIFT-001", "logging host: 192.0.2.21"): (june3, june3, True, "defence removed"),
    }
    implant = next(f for f in hist.findings if f.rule_id == "SW-CFG-IOC-001")
    assert implant.source == snaps[1].source
    assert [c.kind for c in hist.drifts[1].changes] == ["tunnel removed"]
    assert {r.check.id for r in hist.latest if r.status == "fail"} >= {"SW-CFG-IOC-001", "SW-CFG-IOC-003"}


def test_indicator_in_the_first_snapshot_predates_the_history(profile: SiteProfile) -> None:
    snaps = [
        drift.Snapshot("pe1", dt.datetime(2024, 6, d, tzinfo=UTC), f"{d}", f"pe1/{d}.cfg", lambda t=t: t)
        for d, t in ((1, COMPROMISED), (2, COMPROMISED))
    ]
    hist = drift.history(snaps, load_catalog().only("compromise"), profile, parse=toy_parse)
    implant = next(f for f in hist.findings if f.rule_id == "SW-CFG-IOC-001")
    assert implant.kind == "indicator present since the first snapshot"
    assert implant.first_seen == snaps[0].date and implant.still_present
    assert hist.drifts[0].changed is False


def test_snapshots_saved_again_unchanged_keep_their_dates_and_cost_no_drift(profile: SiteProfile) -> None:
    """Daily backups repeat the day before: the unchanged days are skipped, not misdated."""
    texts = (BASE, BASE, COMPROMISED, COMPROMISED, COMPROMISED, BASE)
    snaps = [
        drift.Snapshot("pe1", dt.datetime(2024, 6, d, tzinfo=UTC), f"{d}", f"pe1/{d}.cfg", lambda t=t: t)
        for d, t in enumerate(texts, 1)
    ]
    hist = drift.history(snaps, load_catalog(), profile, parse=toy_parse)
    assert [d.changed for d in hist.drifts] == [False, True, False, False, True]
    implant = next(f for f in hist.findings if f.rule_id == "SW-CFG-IOC-001")
    assert (implant.first_seen, implant.last_seen, implant.still_present) == (snaps[2].date, snaps[4].date, False)
    removed = [f for f in hist.findings if f.rule_id == "SW-DRIFT-001"]
    assert [f.first_seen for f in removed] == [snaps[2].date]  # once, when it went, not on each repeat


def test_history_of_parser_fixtures(tmp_path: Path) -> None:
    """Two snapshots of a real IOS XE configuration, read by the real parser."""
    pytest.importorskip("seawall.sources.configs")
    fixtures = Path(__file__).resolve().parent / "fixtures" / "configs"
    clean, compromised = fixtures / "iosxe_router.cfg", fixtures / "iosxe_router_compromised.cfg"
    if not (clean.is_file() and compromised.is_file()):
        pytest.skip("parser fixtures not present")
    device = tmp_path / "pe1-core-lon"
    device.mkdir()
    shutil.copy(clean, device / "2026-03-03T0915.cfg")
    shutil.copy(compromised, device / "2026-03-08T0248.cfg")
    snaps = drift.snapshots(tmp_path)["pe1-core-lon"]
    hist = drift.history(snaps, load_catalog(), SiteProfile.empty())
    (d,) = hist.drifts
    added = {text for _, text in d.added}
    assert {
        "username cisco_tac_admin privilege 15 secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0",
        "ip ssh port 22022 rotary 1",
    } <= added
    assert not any(text.startswith("Current configuration") for _, text in d.added)
    kinds = {(c.kind, c.key) for c in d.changes}
    assert {("user added", "cisco_tac_admin"), ("tunnel added", "Tunnel99"), ("feature changed", "vstack")} <= kinds
    started = {f.rule_id: f.first_seen for f in hist.findings}
    assert started["SW-CFG-IOC-001"] == started["SW-CFG-IOC-004"] == dt.datetime(2026, 3, 8, 2, 48, tzinfo=UTC)


def test_snapshots_cross_process_boundaries(oxidized: Path) -> None:
    import pickle

    snap = drift.snapshots(oxidized)["pe1-nyc.example.net"][1]
    copy = pickle.loads(pickle.dumps(snap))
    assert copy.text == COMPROMISED and copy.date == snap.date


# --- removals are catalog checks ------------------------------------------------------------

NTP_REMOVED = """
include_builtin: true
disable: [SW-DRIFT-001]
checks:
  - id: SITE-DRIFT-NTP
    title: NTP server removed
    kind: drift
    severity: medium
    technique: T1070.006
    reference: https://attack.mitre.org/techniques/T1070/006/
    removed: {each: ntp_servers}
"""


def test_a_drift_check_of_ones_own_fires_in_history(tmp_path: Path, profile: SiteProfile) -> None:
    checks = tmp_path / "checks.yaml"
    checks.write_text(NTP_REMOVED)
    catalog = load_catalog(checks)
    with_ntp = BASE.replace("!\nend", "ntp server 192.0.2.30\n!\nend")
    snaps = [
        drift.Snapshot("pe1", dt.datetime(2024, 6, d, tzinfo=UTC), f"{d}", f"pe1/{d}.cfg", lambda t=t: t)
        for d, t in ((1, with_ntp), (2, with_ntp), (3, COMPROMISED))
    ]
    hist = drift.history(snaps, catalog, profile, parse=toy_parse)
    removals = [f for f in hist.findings if f.kind == "defence removed"]
    assert [(f.rule_id, f.label, f.lines, f.first_seen, f.source) for f in removals] == [
        ("SITE-DRIFT-NTP", "ntp server: 192.0.2.30", ((14, "ntp server 192.0.2.30"),), snaps[2].date, "pe1/3.cfg")
    ]  # the logging host removed that day is not reported: SW-DRIFT-001 is disabled
    (ntp,) = removals
    assert (ntp.title, ntp.severity, ntp.techniques, ntp.still_present) == (
        "NTP server removed",
        "medium",
        ("T1070.006",),
        True,
    )
    assert ntp.references == ("https://attack.mitre.org/techniques/T1070/006/",)
    # a configuration's own results never list drift checks
    assert "SITE-DRIFT-NTP" not in {r.check.id for r in hist.latest}


def test_removed_deny_entry_and_aaa_only_catalog(profile: SiteProfile) -> None:
    before = toy_parse(BASE, "a.cfg")
    after = toy_parse(BASE.replace("access-list 20 deny any\n", ""), "b.cfg")
    found = drift.drift_findings(before, after, load_catalog(), profile)
    assert [(f.rule_id, f.label, f.lines, f.kind) for f in found] == [
        ("SW-DRIFT-003", "acl entry: 20 access-list 20 deny any", ((10, "access-list 20 deny any"),), "defence removed")
    ]
    # a catalog without drift checks reports indicators only
    assert drift.drift_findings(before, after, load_catalog().only("compromise"), profile) == []
    # a permit entry removed is not a defence removed
    fewer = toy_parse(BASE.replace("access-list 20 permit 192.0.2.0 0.0.0.63\n", ""), "c.cfg")
    assert drift.drift_findings(before, fewer, load_catalog(), profile) == []


@pytest.mark.parametrize(
    "header",
    [
        "!! Last configuration change at Mon Jul  1 03:00:00 2024 by netops",  # IOS XR
        "!Running configuration last done at: Mon Jul  1 03:00:00 2024",  # NX-OS
        "!Time: Mon Jul  1 03:00:00 2024",
        "## Last commit: 2024-07-01 03:00:00 UTC by netops",  # Junos
    ],
)
def test_save_time_headers_are_not_drift(header: str) -> None:
    removed, added = drift.changed_lines(
        [header.replace("Jul  1", "Jun  1").replace("07-01", "06-01"), "hostname r1"], [header, "hostname r1"]
    )
    assert removed == added == ()
