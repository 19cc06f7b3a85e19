"""The config-check catalog and engine: each check fails on the item it is about, with the
exact line, passes on a hardened configuration, and says why when it cannot decide."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest

from seawall.detect import config_checks as cc
from seawall.detect.profile import SiteProfile
from seawall.errors import ContentError
from seawall.sources.configs import parse_config
from seawall.sources.configs.model import (
    AaaServer,
    Acl,
    AclEntry,
    DeviceConfig,
    Feature,
    Interface,
    Item,
    Line,
    MonitorSession,
    PacketCapture,
    RoutingProtocol,
    Server,
    Service,
    SnmpCommunity,
    SnmpGroup,
    SnmpHost,
    Tunnel,
    User,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PROFILE = ROOT / "docs" / "examples" / "site-profile.yaml"


class Build:
    """A DeviceConfig written line by line, each modelled line carrying its item."""

    def __init__(self, path: str = "configs/pe1-nyc.cfg", platform: str | None = "ios") -> None:
        self.path, self.platform = path, platform
        self.text: list[str] = []
        self.items: dict[str, list[Item]] = defaultdict(list)
        self.hostname: str | None = None

    def add(self, collection: str | None, item: Item | None, *texts: str) -> Build:
        numbers = []
        for text in texts:
            self.text.append(text)
            numbers.append(len(self.text))
        if collection:
            self.items[collection].append(replace(item, lines=tuple(numbers)))
        return self

    def acl(self, name: str, kind: str, header: str | None, *entries: tuple[str, AclEntry]) -> Build:
        numbers = []
        if header:
            self.text.append(header)
            numbers.append(len(self.text))
        placed = []
        for text, entry in entries:
            self.text.append(text)
            numbers.append(len(self.text))
            placed.append(replace(entry, lines=(len(self.text),), text=text.strip()))
        self.items["acls"].append(Acl(lines=tuple(numbers), name=name, kind=kind, entries=tuple(placed)))
        return self

    def line(self, text: str) -> Build:
        self.text.append(text)
        return self

    def config(self, **overrides) -> DeviceConfig:
        config = DeviceConfig(
            path=self.path, platform=self.platform, text_lines=list(self.text), hostname=self.hostname
        )
        for collection, items in self.items.items():
            setattr(config, collection, list(items))
        for key, value in overrides.items():
            setattr(config, key, value)
        return config

    def number(self, text: str) -> int:
        return self.text.index(text) + 1


def hardened(build: Build | None = None) -> Build:
    """A clean IOS configuration that passes every check of the catalog with the example profile."""
    b = build or Build()
    b.hostname = "pe1-nyc"
    b.line("hostname pe1-nyc").line("!")
    b.add("features", Feature(name="password-encryption", enabled=True), "service password-encryption")
    b.add("features", Feature(name="source-route", enabled=False), "no ip source-route")
    b.add("features", Feature(name="vstack", enabled=False), "no vstack")
    b.add("features", Feature(name="cdp", enabled=False), "no cdp run")
    b.add("features", Feature(name="ntp-authenticate", enabled=True), "ntp authenticate")
    b.add(
        "users",
        User(name="netops", privilege=15, secret_type="9", secret_kind="secret"),
        "username netops privilege 15 secret 9 $9$abcdefgh",
    )
    b.add(
        "users",
        User(name="noc-ro", privilege=1, secret_type="9", secret_kind="secret"),
        "username noc-ro privilege 1 secret 9 $9$ijklmnop",
    )
    b.add(
        "enable_secrets",
        User(name="enable", privilege=15, secret_type="9", secret_kind="secret"),
        "enable algorithm-type scrypt secret $9$qrstuvwx",
    )
    b.add(
        "aaa_servers",
        AaaServer(protocol="tacacs", address="192.0.2.10", key_type="6"),
        "tacacs server T1",
        " address ipv4 192.0.2.10",
        " key 6 ABCDEF",
    )
    b.add("logging_hosts", Server(address="192.0.2.20"), "logging host 192.0.2.20")
    b.add("ntp_servers", Server(address="192.0.2.30", key="1"), "ntp server 192.0.2.30 key 1")
    b.add("services", Service(name="ssh", version="2"), "ip ssh version 2")
    b.add("services", Service(name="http", enabled=False), "no ip http server")
    b.add("services", Service(name="https", enabled=False), "no ip http secure-server")
    b.add(
        "snmp_groups",
        SnmpGroup(name="NMS", version="v3", level="priv", acl="20"),
        "snmp-server group NMS v3 priv access 20",
    )
    b.add(
        "snmp_hosts",
        SnmpHost(address="192.0.2.40", version="3", community_or_user="nmsuser"),
        "snmp-server host 192.0.2.40 version 3 priv nmsuser",
    )
    b.acl(
        "20",
        "standard",
        None,
        ("access-list 20 permit 192.0.2.0 0.0.0.63", AclEntry(action="permit", source="192.0.2.0/26")),
    )
    b.acl(
        "VTY-IN",
        "standard",
        "ip access-list standard VTY-IN",
        (" permit 192.0.2.0 0.0.0.63", AclEntry(action="permit", source="192.0.2.0/26")),
        (" deny any log", AclEntry(action="deny", source="any")),
    )
    b.add(
        "interfaces",
        Interface(name="Loopback0", addresses=("10.255.0.1/32",)),
        "interface Loopback0",
        " ip address 10.255.0.1 255.255.255.255",
    )
    b.add(
        "tunnels",
        Tunnel(name="Tunnel1", mode="gre", source="Loopback0", destination="203.0.113.1"),
        "interface Tunnel1",
        " tunnel source Loopback0",
        " tunnel destination 203.0.113.1",
    )
    b.add(
        "routing",
        RoutingProtocol(name="ospf 1", authenticated=True),
        "router ospf 1",
        " area 0 authentication message-digest",
    )
    b.add(
        "lines",
        Line(
            kind="vty", first=0, last=4, transport_input=("ssh",), transport_output=("none",), access_class_in="VTY-IN"
        ),
        "line vty 0 4",
        " access-class VTY-IN in",
        " transport input ssh",
        " transport output none",
    )
    b.line("end")
    return b


@pytest.fixture(scope="module")
def catalog() -> cc.Catalog:
    return cc.load_catalog()


@pytest.fixture(scope="module")
def profile() -> SiteProfile:
    return SiteProfile.load(EXAMPLE_PROFILE)


def result(results: list[cc.CheckResult], check_id: str) -> cc.CheckResult:
    return next(r for r in results if r.check.id == check_id)


def failing(results: list[cc.CheckResult]) -> set[str]:
    return {r.check.id for r in results if r.status == cc.FAIL}


# --- the catalog ---------------------------------------------------------------------------


def test_catalog_is_complete_and_documented(catalog: cc.Catalog) -> None:
    ids = [c.id for c in catalog]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert sum(c.kind == "compromise" for c in catalog) >= 15
    assert sum(c.kind == "hardening" for c in catalog) >= 20
    for check in catalog:
        assert check.id.startswith("SW-CFG-IOC-" if check.kind == "compromise" else "SW-CFG-HARD-")
        assert check.title and check.rationale and check.remediation, check.id
        assert check.references and check.techniques, check.id
    advisory = "https://www.cisa.gov/news-events/cybersecurity-advisories/aa25-239a"
    assert all(advisory in c.references for c in catalog.only("compromise") if c.id != "SW-CFG-IOC-014")
    # the removals drift reports are catalog entries too, documented like the others
    assert [c.id for c in catalog.drift] == ["SW-DRIFT-001", "SW-DRIFT-002", "SW-DRIFT-003"]
    for check in catalog.drift:
        assert check.kind == "drift" and check.title and check.rationale and check.remediation, check.id
        assert check.references and check.techniques, check.id
        assert {c.mode for c in check.clauses} == {"removed"}
    assert catalog.get("SW-DRIFT-001").techniques == ("T1562.006",)
    assert catalog.only("drift").drift == catalog.drift and not catalog.only("drift").checks
    assert not catalog.only("compromise").drift


def test_hardened_config_passes_everything(catalog: cc.Catalog, profile: SiteProfile) -> None:
    results = cc.evaluate(hardened().config(), catalog, profile)
    assert [r.check.id for r in results] == [c.id for c in catalog]
    assert not any(r.check.kind == "drift" for r in results)  # drift checks need two snapshots
    assert {r.status for r in results} == {cc.PASS}, [
        (r.check.id, r.status, r.reason) for r in results if r.status != cc.PASS
    ]


def test_clean_config_has_no_compromise_failure_without_profile(catalog: cc.Catalog) -> None:
    results = cc.evaluate(hardened().config(), catalog.only("compromise"))
    assert not failing(results)
    statuses = {r.check.id: r.status for r in results}
    assert statuses["SW-CFG-IOC-001"] == cc.PASS
    assert statuses["SW-CFG-IOC-003"] == cc.NOT_EVALUATED


def test_planted_implant_account_fails_with_its_exact_line(catalog: cc.Catalog, profile: SiteProfile) -> None:
    b = hardened()
    planted = "username cisco_tac_admin privilege 15 secret 5 $1$Xy$abcdefghijklmnopqrstu"
    b.add("users", User(name="cisco_tac_admin", privilege=15, secret_type="5", secret_kind="secret"), planted)
    results = cc.evaluate(b.config(), catalog, profile)
    implant = result(results, "SW-CFG-IOC-001")
    assert implant.status == cc.FAIL
    assert implant.evidence == [(b.number(planted), planted)]
    assert implant.items[0].label == "users: cisco_tac_admin"
    assert implant.device == "pe1-nyc" and implant.platform == "ios"
    # the same account is also an unapproved privilege-15 account, with an MD5 secret
    assert failing(results) == {"SW-CFG-IOC-001", "SW-CFG-IOC-002", "SW-CFG-HARD-007"}


def test_check_needing_management_ranges_is_not_evaluated_without_profile(catalog: cc.Catalog) -> None:
    results = cc.evaluate(hardened().config(), catalog, SiteProfile.empty())
    acl = result(results, "SW-CFG-IOC-003")
    assert acl.status == cc.NOT_EVALUATED
    assert acl.reason == "profile declares no management ranges"
    assert result(results, "SW-CFG-IOC-002").reason == "profile declares no approved admins"
    # nothing to compare: a device without tunnels passes the tunnel-peer check whatever the profile
    no_tunnel = hardened().config(tunnels=[])
    assert result(cc.evaluate(no_tunnel, catalog), "SW-CFG-IOC-006").status == cc.PASS


def test_management_acl_permitting_outside_sources(catalog: cc.Catalog, profile: SiteProfile) -> None:
    b = hardened()
    b.acl(
        "VTY-IN",
        "standard",
        None,
        (" permit host 45.61.165.157", AclEntry(action="permit", source="45.61.165.157/32")),
    )
    b.acl("50", "standard", None, ("access-list 50 permit any", AclEntry(action="permit", source="any")))
    b.acl(
        "OTHER",
        "extended",
        "ip access-list extended OTHER",
        (" permit ip any any", AclEntry(action="permit", source="any")),
    )
    b.acl(
        "SNMP-RO",
        "standard",
        None,
        ("access-list SNMP-RO permit 198.51.100.0 0.0.0.255", AclEntry(action="permit", source="198.51.100.0/24")),
    )
    b.add(
        "snmp_communities",
        SnmpCommunity(community="s3cret", access="ro", acl="snmp-ro"),
        "snmp-server community s3cret RO SNMP-RO",
    )
    config = b.config()
    # the second "VTY-IN" statement extends the same ACL, as a parser would merge it
    merged = [a for a in config.acls if a.name != "VTY-IN"] + [
        Acl(
            name="VTY-IN",
            kind="standard",
            lines=(),
            entries=tuple(e for a in config.acls if a.name == "VTY-IN" for e in a.entries),
        )
    ]
    config.acls = merged
    failed = result(cc.evaluate(config, catalog, profile), "SW-CFG-IOC-003")
    assert failed.status == cc.FAIL
    assert failed.evidence == [
        (b.number(" permit host 45.61.165.157"), " permit host 45.61.165.157"),
        (b.number("access-list 50 permit any"), "access-list 50 permit any"),
        (
            b.number("access-list SNMP-RO permit 198.51.100.0 0.0.0.255"),
            "access-list SNMP-RO permit 198.51.100.0 0.0.0.255",
        ),
    ]
    assert "OTHER" not in {o.label.split()[1] for o in failed.items}


@pytest.mark.parametrize(
    ("ports", "fails"),
    [
        ((22022,), True),
        ((10022,), True),
        ((22122,), True),
        ((57722,), True),
        ((22,), False),
        ((2222,), False),
        ((220222,), False),
    ],
)
def test_ssh_on_salt_typhoon_ports(catalog: cc.Catalog, ports: tuple[int, ...], fails: bool) -> None:
    b = hardened()
    b.add("services", Service(name="ssh", ports=ports), f"ip ssh port {ports[0]} rotary 1")
    status = result(cc.evaluate(b.config(), catalog), "SW-CFG-IOC-004").status
    assert status == (cc.FAIL if fails else cc.PASS)


# One planted statement per check: (check id, collection, item, line); each must fail
# exactly its check (and the ones named) on an otherwise hardened configuration.
PLANTED = [
    (
        "SW-CFG-IOC-005",
        "services",
        Service(name="https", ports=(18443,)),
        "ip http secure-port 18443",
        {"SW-CFG-HARD-003"},
    ),
    (
        "SW-CFG-IOC-006",
        "tunnels",
        Tunnel(name="Tunnel9", mode="gre", destination="45.61.165.157"),
        "interface Tunnel9",
        set(),
    ),
    (
        "SW-CFG-IOC-007",
        "monitor_sessions",
        MonitorSession(session="1", kind="rspan", destination="vlan 900"),
        "monitor session 1 destination remote vlan 900",
        set(),
    ),
    (
        "SW-CFG-IOC-008",
        "monitor_sessions",
        MonitorSession(session="2", kind="erspan-source", destination="45.61.165.157"),
        "monitor session 2 type erspan-source",
        {"SW-CFG-IOC-007"},
    ),
    (
        "SW-CFG-IOC-009",
        "packet_captures",
        PacketCapture(name="cap", match="ipv4 any any eq 49", ports=(49,)),
        "monitor capture cap match ipv4 any any eq 49",
        {"SW-CFG-IOC-010"},
    ),
    (
        "SW-CFG-IOC-010",
        "packet_captures",
        PacketCapture(name="cap2", match="ipv4 any any"),
        "monitor capture cap2 match ipv4 any any",
        set(),
    ),
    (
        "SW-CFG-IOC-011",
        "aaa_servers",
        AaaServer(protocol="tacacs", address="45.61.165.157", key_type="6"),
        "tacacs-server host 45.61.165.157 key 6 X",
        set(),
    ),
    ("SW-CFG-IOC-012", "logging_hosts", Server(address="45.61.165.157"), "logging host 45.61.165.157", set()),
    (
        "SW-CFG-IOC-013",
        "snmp_hosts",
        SnmpHost(address="45.61.165.157", version="3", community_or_user="u"),
        "snmp-server host 45.61.165.157 version 3 priv u",
        set(),
    ),
    (
        "SW-CFG-IOC-014",
        "ntp_servers",
        Server(address="45.61.165.157", key="1"),
        "ntp server 45.61.165.157 key 1",
        set(),
    ),
    (
        "SW-CFG-IOC-017",
        "interfaces",
        Interface(name="Loopback66", addresses=("10.20.0.5/32",)),
        "interface Loopback66",
        set(),
    ),
    ("SW-CFG-HARD-002", "features", Feature(name="iox"), "iox", set()),
    ("SW-CFG-HARD-003", "services", Service(name="http", enabled=True), "ip http server", set()),
    (
        "SW-CFG-HARD-004",
        "lines",
        Line(
            kind="vty",
            first=5,
            last=15,
            transport_input=("telnet", "ssh"),
            transport_output=("none",),
            access_class_in="VTY-IN",
        ),
        "line vty 5 15",
        set(),
    ),
    (
        "SW-CFG-HARD-005",
        "lines",
        Line(
            kind="vty", first=5, last=15, transport_input=("ssh",), transport_output=("ssh",), access_class_in="VTY-IN"
        ),
        "line vty 5 15",
        set(),
    ),
    (
        "SW-CFG-HARD-006",
        "users",
        User(name="netops", privilege=15, secret_type="7", secret_kind="password"),
        "username netops privilege 15 password 7 0822455D0A16",
        set(),
    ),
    (
        "SW-CFG-HARD-006",
        "enable_secrets",
        User(name="enable", privilege=15, secret_type="0", secret_kind="password"),
        "enable password cisco",
        set(),
    ),
    (
        "SW-CFG-HARD-008",
        "aaa_servers",
        AaaServer(protocol="tacacs", address="192.0.2.11", key_type="7"),
        "tacacs-server host 192.0.2.11 key 7 0822455D0A16",
        set(),
    ),
    (
        "SW-CFG-HARD-009",
        "snmp_communities",
        SnmpCommunity(community="public", access="ro"),
        "snmp-server community public RO",
        set(),
    ),
    (
        "SW-CFG-HARD-009",
        "snmp_hosts",
        SnmpHost(address="192.0.2.40", version="2c", community_or_user="public"),
        "snmp-server host 192.0.2.40 version 2c public",
        set(),
    ),
    (
        "SW-CFG-HARD-010",
        "snmp_groups",
        SnmpGroup(name="G", version="v3", level="auth"),
        "snmp-server group G v3 auth",
        set(),
    ),
    ("SW-CFG-HARD-012", "features", Feature(name="lldp"), "lldp run", set()),
    ("SW-CFG-HARD-014", "services", Service(name="ssh", version="1"), "ip ssh version 1", set()),
    ("SW-CFG-HARD-015", "ntp_servers", Server(address="192.0.2.31"), "ntp server 192.0.2.31", set()),
    ("SW-CFG-HARD-017", "routing", RoutingProtocol(name="bgp 65000"), "router bgp 65000", set()),
    (
        "SW-CFG-HARD-020",
        "lines",
        Line(kind="vty", first=5, last=15, transport_input=("ssh",), transport_output=("none",)),
        "line vty 5 15",
        set(),
    ),
    ("SW-CFG-HARD-021", "services", Service(name="tftp"), "tftp-server flash:image.bin", set()),
]


@pytest.mark.parametrize(
    ("check_id", "collection", "item", "text", "also"), PLANTED, ids=[f"{p[0]}-{p[1]}" for p in PLANTED]
)
def test_planted_statement_fails_its_check(
    catalog: cc.Catalog, profile: SiteProfile, check_id: str, collection: str, item: Item, text: str, also: set[str]
) -> None:
    b = hardened()
    b.add(collection, item, text)
    results = cc.evaluate(b.config(), catalog, profile)
    assert failing(results) == {check_id} | also
    assert (b.number(text), text) in result(results, check_id).evidence


@pytest.mark.parametrize(
    ("check_id", "feature_line"),
    [
        ("SW-CFG-HARD-001", "no vstack"),
        ("SW-CFG-HARD-011", "no cdp run"),
        ("SW-CFG-HARD-013", "no ip source-route"),
        ("SW-CFG-HARD-016", "ntp authenticate"),
        ("SW-CFG-HARD-022", "service password-encryption"),
    ],
)
def test_required_statement_missing(
    catalog: cc.Catalog, profile: SiteProfile, check_id: str, feature_line: str
) -> None:
    config = hardened().config()
    number = config.text_lines.index(feature_line) + 1
    config.features = [f for f in config.features if number not in f.lines]
    results = cc.evaluate(config, catalog, profile)
    assert failing(results) == {check_id}
    missing = result(results, check_id)
    assert missing.items == () and missing.reason.startswith("expected features where name = ")


def test_last_statement_of_a_feature_wins(catalog: cc.Catalog, profile: SiteProfile) -> None:
    b = hardened()
    b.add("features", Feature(name="vstack", enabled=True), "vstack")
    assert result(cc.evaluate(b.config(), catalog, profile), "SW-CFG-HARD-001").status == cc.FAIL


def test_required_servers_and_ssh(catalog: cc.Catalog, profile: SiteProfile) -> None:
    config = hardened().config(aaa_servers=[], logging_hosts=[], services=[])
    assert failing(cc.evaluate(config, catalog, profile)) == {"SW-CFG-HARD-014", "SW-CFG-HARD-018", "SW-CFG-HARD-019"}
    no_ntp = hardened().config(ntp_servers=[], features=[])
    statuses = {r.check.id: r.status for r in cc.evaluate(no_ntp, catalog, profile)}
    assert statuses["SW-CFG-HARD-016"] == cc.NOT_APPLICABLE


def test_ssh_source_loopback_join_quotes_the_interface(catalog: cc.Catalog, profile: SiteProfile) -> None:
    b = hardened()
    b.add(
        "interfaces",
        Interface(name="Loopback77", addresses=("192.0.2.5/32",)),
        "interface Loopback77",
        " ip address 192.0.2.5 255.255.255.255",
    )
    b.add("services", Service(name="ssh", source_interface="Loopback 77"), "ip ssh source-interface Loopback 77")
    results = cc.evaluate(b.config(), catalog, profile)
    # a loopback posing as the NOC jump host: in the management ranges, outside infrastructure, a sensitive host
    assert failing(results) == {"SW-CFG-IOC-015", "SW-CFG-IOC-016", "SW-CFG-IOC-017"}
    evidence = result(results, "SW-CFG-IOC-015").evidence
    assert [t for _, t in evidence] == [
        "interface Loopback77",
        " ip address 192.0.2.5 255.255.255.255",
        "ip ssh source-interface Loopback 77",
    ]
    # a loopback in the infrastructure ranges as SSH source is fine
    b = hardened()
    b.add("services", Service(name="ssh", source_interface="Loopback0"), "ip ssh source-interface Loopback0")
    assert not failing(cc.evaluate(b.config(), catalog, profile))


# --- statuses ------------------------------------------------------------------------------


def test_platform_statuses(catalog: cc.Catalog) -> None:
    nxos = cc.evaluate(hardened(Build(platform="nxos")).config(), catalog)
    assert result(nxos, "SW-CFG-HARD-001").status == cc.NOT_APPLICABLE
    assert result(nxos, "SW-CFG-HARD-001").reason == "check applies to ios"
    unknown = cc.evaluate(hardened(Build(platform=None)).config(), catalog)
    assert result(unknown, "SW-CFG-HARD-001").status == cc.NOT_EVALUATED
    assert result(unknown, "SW-CFG-IOC-001").status == cc.PASS  # every platform: evaluated anyway
    rejected = cc.evaluate(hardened().config(status="rejected", reason="binary file"), catalog)
    assert {r.status for r in rejected} == {cc.NOT_EVALUATED}
    assert rejected[0].reason == "configuration not parsed: binary file"


def test_require_on_a_partly_parsed_config_says_so(catalog: cc.Catalog, profile: SiteProfile) -> None:
    config = hardened().config(status="partial", unparsed=[(40, 52)], logging_hosts=[])
    missing = result(cc.evaluate(config, catalog, profile), "SW-CFG-HARD-019")
    assert missing.status == cc.FAIL
    assert missing.reason == "expected logging_hosts; none found (configuration only partly parsed; lines 40-52 unread)"


def test_device_name_falls_back_to_file_stem(catalog: cc.Catalog) -> None:
    config = Build(path="/x/edge-7.conf").config()
    assert cc.evaluate(config, catalog)[0].device == "edge-7"


def test_results_are_deterministic_and_sorted(catalog: cc.Catalog, profile: SiteProfile) -> None:
    configs = [hardened(Build(path=f"c/{name}.cfg")).config(hostname=name) for name in ("r2", "r1")]
    first = cc.evaluate_all(configs, catalog, profile)
    assert [(r.device, r.check.id) for r in first] == sorted((r.device, r.check.id) for r in first)
    assert first == cc.evaluate_all(reversed(configs), catalog, profile)


def test_findings_from_failures(catalog: cc.Catalog) -> None:
    b = hardened()
    b.add(
        "users",
        User(name="cisco_support", privilege=15, secret_type="9"),
        "username cisco_support privilege 15 secret 9 $9$x",
    )
    findings = cc.to_findings(cc.evaluate(b.config(), catalog))
    implant = next(f for f in findings if f.rule_id == "SW-CFG-IOC-001")
    assert implant.severity == "critical" and implant.detector == "config"
    assert implant.entities == {"host": ["pe1-nyc"]}
    assert [(e.line, e.text) for e in implant.evidence] == [(len(b.text), b.text[-1])]
    assert "T1136.001" in implant.techniques


# --- the vocabulary -------------------------------------------------------------------------


def catalog_of(tmp_path: Path, text: str) -> cc.Catalog:
    path = tmp_path / "checks.yaml"
    path.write_text(text)
    return cc.load_catalog(path)


CHECK = """
checks:
  - id: T-1
    title: t
    kind: hardening
    severity: low
    match:
{match}
"""


def run_match(tmp_path: Path, match: str, config: DeviceConfig, profile: SiteProfile | None = None) -> cc.CheckResult:
    indented = "\n".join("      " + line for line in match.strip("\n").splitlines())
    catalog = catalog_of(tmp_path, CHECK.format(match=indented))
    return cc.evaluate(config, catalog, profile)[0]


def test_operators(tmp_path: Path) -> None:
    config = hardened().config()
    cases = {
        "each: lines\nwhere: {transport_input: ssh}": cc.FAIL,  # a list fact: any element
        "each: lines\nwhere: {transport_input: {equals: [ssh, telnet]}}": cc.PASS,  # a list: the whole value
        "each: lines\nwhere: {transport_input: {not_in: [telnet, all]}}": cc.FAIL,
        "each: users\nwhere: {privilege: {lt: 2}}": cc.FAIL,
        "each: users\nwhere: {privilege: {gt: 15}}": cc.PASS,
        "each: users\nwhere: {secret_type: 9, privilege: {lte: 1}}": cc.FAIL,  # 9 equals "9"
        "each: services\nwhere: {ports: {missing: false}}": cc.PASS,
        "each: services\nwhere: {source_interface: {missing: true}, name: ssh}": cc.FAIL,
        "each: services\nwhere: {not: {enabled: false}}": cc.FAIL,
        "each: users\nwhere: {any: [{name: nobody}, {name: {regex: '^net'}}]}": cc.FAIL,
        "each: users\nwhere: {all: [{name: netops}, {privilege: 1}]}": cc.PASS,
        "require:\n  each: users\n  where: {name: netops}": cc.PASS,
        "each: acl_entries\nwhere: {acl: {referenced_by: {each: lines, field: access_class_in}}, action: deny}": cc.FAIL,
        "each: acl_entries\nwhere: {acl: {referenced_by: {each: snmp_groups, field: acl}}, action: deny}": cc.PASS,
    }
    for match, expected in cases.items():
        assert run_match(tmp_path, match, config).status == expected, match


def test_port_pattern_and_profile_operators(tmp_path: Path, profile: SiteProfile) -> None:
    b = hardened()
    b.add("services", Service(name="https", ports=(18080, 443)), "ip http secure-port 18080")
    config = b.config()
    assert run_match(tmp_path, "each: services\nwhere: {ports: {port_pattern: ['18xxx']}}", config).status == cc.FAIL
    assert run_match(tmp_path, "each: services\nwhere: {ports: {port_pattern: [4x3x]}}", config).status == cc.PASS
    inside = "each: tunnels\nwhere: {destination: {inside_profile: tunnel_peers}}"
    assert run_match(tmp_path, inside, config, profile).status == cc.FAIL
    assert run_match(tmp_path, inside, config).status == cc.NOT_EVALUATED


def test_when_makes_a_check_not_applicable(tmp_path: Path) -> None:
    text = CHECK.format(match="      require: {each: features, where: {name: nothing}}").replace(
        "    match:", "    when: {each: packet_captures}\n    match:"
    )
    outcome = cc.evaluate(hardened().config(), catalog_of(tmp_path, text))[0]
    assert outcome.status == cc.NOT_APPLICABLE and outcome.reason == "nothing to check: no packet_captures"


@pytest.mark.parametrize(
    ("match", "message"),
    [
        ("each: userz", "T-1: match.each: unknown collection userz"),
        ("each: users\nwhere: {nam: x}", "T-1: match.where.nam: unknown field 'nam'"),
        ("each: users\nwhere: {name: {like: x}}", "T-1: match.where.name.like: unknown operator 'like'"),
        ("each: users\nwhere: {name: {regex: '('}}", "T-1: match.where.name.regex: invalid regular expression"),
        ("each: users\nwhere: {name: {outside_profile: managment}}", "'managment' is not a profile declaration"),
        ("each: services\nwhere: {ports: {port_pattern: [22y22]}}", "patterns are digits and x"),
        ("each: users\nwhen: x", "T-1: match: unknown key when"),
        ("require: {each: users}\neach: users", "'require' stands alone"),
        (
            "each: services\njoin: {a: {field: nope, from: interfaces, key: name, take: addresses}}",
            "join.a.field: unknown field 'nope'",
        ),
    ],
)
def test_catalog_errors_name_check_and_key(tmp_path: Path, match: str, message: str) -> None:
    indented = "\n".join("      " + line for line in match.splitlines())
    with pytest.raises(ContentError, match=None) as error:
        catalog_of(tmp_path, CHECK.format(match=indented))
    assert message in str(error.value)
    assert str(tmp_path / "checks.yaml") in str(error.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("severity: low", "severity: severe"), "T-1: severity: 'severe' is not one of"),
        (("kind: hardening", "kind: audit"), "T-1: kind: 'audit' is not one of compromise, hardening"),
        (("title: t", "title: t\n    techniqe: T1098"), "T-1: unknown key techniqe"),
        (("title: t", "title: t\n    technique: 1098"), "T-1: technique: 1098 is not an ATT&CK id"),
        (("title: t", "title: t\n    platforms: [ioz]"), "T-1: platforms: ioz not one of"),
        (("title: t", "title: t\n    reference: cisa"), "T-1: reference: cisa is not a URL"),
    ],
)
def test_check_header_errors(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = CHECK.format(match="      each: users").replace(*change)
    with pytest.raises(ContentError) as error:
        catalog_of(tmp_path, text)
    assert message in str(error.value)


def test_duplicate_ids_and_bad_yaml(tmp_path: Path) -> None:
    one = CHECK.format(match="      each: users")
    with pytest.raises(ContentError, match="T-1: duplicate check id"):
        catalog_of(tmp_path, one + one.split("checks:\n")[1])
    with pytest.raises(ContentError, match="not valid YAML"):
        catalog_of(tmp_path, "checks: [")
    with pytest.raises(ContentError, match="expected a mapping with a 'checks' list"):
        catalog_of(tmp_path, "- id: x")


def test_user_catalog_extends_and_overrides_builtin(tmp_path: Path, profile: SiteProfile) -> None:
    text = """
include_builtin: true
disable: [SW-CFG-HARD-011, SW-CFG-HARD-012]
checks:
  - id: SW-CFG-IOC-001
    title: Local account named like an implant account (site list)
    kind: compromise
    severity: critical
    technique: T1136.001
    match:
      each: users
      where: {name: {in: [cisco_tac_admin, netops]}}
"""
    catalog = catalog_of(tmp_path, text)
    builtin = cc.load_catalog()
    assert len(catalog) == len(builtin) - 2
    assert catalog.get("SW-CFG-HARD-011") is None
    assert catalog.get("SW-CFG-IOC-001").title.endswith("(site list)")
    assert result(cc.evaluate(hardened().config(), catalog, profile), "SW-CFG-IOC-001").status == cc.FAIL
    with pytest.raises(ContentError, match="unknown built-in check id SW-NOPE"):
        catalog_of(tmp_path, text.replace("SW-CFG-HARD-012", "SW-NOPE"))
    alone = catalog_of(
        tmp_path, text.replace("include_builtin: true\ndisable: [SW-CFG-HARD-011, SW-CFG-HARD-012]\n", "")
    )
    assert [c.id for c in alone] == ["SW-CFG-IOC-001"]


# --- drift checks ---------------------------------------------------------------------------

NTP_REMOVED = """
include_builtin: true
checks:
  - id: SITE-DRIFT-NTP
    title: Approved NTP server removed
    kind: drift
    severity: medium
    technique: T1070.006
    reference: https://attack.mitre.org/techniques/T1070/006/
    rationale: Without its time source the device's log timestamps drift.
    remediation: Restore the server.
    removed:
      each: ntp_servers
      where: {address: {inside_profile: ntp}}
"""


def test_drift_checks_fire_on_items_the_later_snapshot_lost(catalog: cc.Catalog, profile: SiteProfile) -> None:
    before = hardened().config()
    after = hardened().config(logging_hosts=[])
    results = {r.check.id: r for r in cc.evaluate_drift(before, after, catalog, profile)}
    assert list(results) == ["SW-DRIFT-001", "SW-DRIFT-002", "SW-DRIFT-003"]
    removed = results["SW-DRIFT-001"]
    assert removed.status == cc.FAIL and removed.device == "pe1-nyc"
    line = before.text_lines.index("logging host 192.0.2.20") + 1
    assert [(o.label, o.lines) for o in removed.items] == [
        ("logging host: 192.0.2.20", ((line, "logging host 192.0.2.20"),))
    ]
    assert results["SW-DRIFT-002"].status == results["SW-DRIFT-003"].status == cc.PASS
    # an item moved to another line is not removed; nothing changed, nothing fails
    moved = hardened(Build().line("!").line("!")).config()
    assert {r.status for r in cc.evaluate_drift(before, moved, catalog, profile)} == {cc.PASS}
    # the deny entry of VTY-IN gone: SW-DRIFT-003, labelled by ACL and entry
    vty = hardened().config()
    vty.acls = [replace(a, entries=a.entries[:1]) if a.name == "VTY-IN" else a for a in vty.acls]
    (deny,) = next(r for r in cc.evaluate_drift(before, vty, catalog) if r.check.id == "SW-DRIFT-003").items
    assert deny.label == "acl entry: VTY-IN deny any log"


def test_user_catalog_adds_a_drift_check(tmp_path: Path, profile: SiteProfile) -> None:
    catalog = catalog_of(tmp_path, NTP_REMOVED)
    assert [c.id for c in catalog.drift] == ["SITE-DRIFT-NTP", "SW-DRIFT-001", "SW-DRIFT-002", "SW-DRIFT-003"]
    assert len(catalog) == len(cc.load_catalog())  # not a check of one configuration
    before = hardened().config()
    after = hardened().config(ntp_servers=[])
    ntp = result(cc.evaluate_drift(before, after, catalog, profile), "SITE-DRIFT-NTP")
    assert ntp.status == cc.FAIL
    assert [o.label for o in ntp.items] == ["ntp server: 192.0.2.30"]
    assert ntp.evidence == [(before.text_lines.index("ntp server 192.0.2.30 key 1") + 1, "ntp server 192.0.2.30 key 1")]
    # its where: an unapproved server removed is no finding; without the declaration, no guess
    stranger = hardened().config(ntp_servers=[Server(lines=(3,), address="198.51.100.9")])
    assert result(cc.evaluate_drift(stranger, after, catalog, profile), "SITE-DRIFT-NTP").status == cc.PASS
    unknown = result(cc.evaluate_drift(before, after, catalog, SiteProfile.empty()), "SITE-DRIFT-NTP")
    assert (unknown.status, unknown.reason) == (cc.NOT_EVALUATED, "profile declares no approved NTP servers")
    # a check of one configuration does not run drift checks
    assert "SITE-DRIFT-NTP" not in {r.check.id for r in cc.evaluate(after, catalog, profile)}


def test_drift_check_statuses(catalog: cc.Catalog) -> None:
    before = hardened().config()
    rejected = cc.evaluate_drift(before, hardened().config(status="rejected", reason="binary file"), catalog)
    assert {(r.status, r.reason) for r in rejected} == {
        (cc.NOT_EVALUATED, "later configuration not parsed: binary file")
    }
    earlier = cc.evaluate_drift(hardened().config(status="rejected", reason="binary file"), before, catalog)
    assert {(r.status, r.reason) for r in earlier} == {(cc.NOT_EVALUATED, "configuration not parsed: binary file")}


def test_built_in_drift_checks_are_overridden_and_disabled_by_id(tmp_path: Path) -> None:
    text = NTP_REMOVED.replace("include_builtin: true", "disable: [SW-DRIFT-003]").replace(
        "SITE-DRIFT-NTP", "SW-DRIFT-002"
    )
    own = catalog_of(tmp_path, text)
    # without include_builtin the file's own checks stand alone, but the built-in drift
    # checks stay (a file's check with the same id replaces one; disable drops one)
    assert len(own) == 0 and own.source == str(tmp_path / "checks.yaml")
    assert [(c.id, c.title) for c in own.drift] == [
        ("SW-DRIFT-001", "Logging host removed"),
        ("SW-DRIFT-002", "Approved NTP server removed"),
    ]
    with pytest.raises(ContentError, match="SW-CFG-HARD-011: without include_builtin"):
        catalog_of(tmp_path, text.replace("SW-DRIFT-003", "SW-CFG-HARD-011"))
    builtin = catalog_of(tmp_path, "include_builtin: true\ndisable: [SW-DRIFT-001]\nchecks: []\n")
    assert [c.id for c in builtin.drift] == ["SW-DRIFT-002", "SW-DRIFT-003"] and len(builtin) == len(cc.load_catalog())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("    removed:\n      each: ntp_servers\n      where: {address: {inside_profile: ntp}}\n", ""),
            "T-D: missing key removed",
        ),
        (("removed:", "match:"), "T-D: match: a drift check says what is 'removed', not what to 'match'"),
        (
            ("    removed:", "    match: {each: users}\n    removed:"),
            "T-D: match: a drift check says what is 'removed'",
        ),
        (("    removed:", "    when: {each: users}\n    removed:"), "T-D: when: not for drift checks"),
        (("kind: drift", "kind: compromise"), "T-D: removed: only for drift checks"),
        (("      each: ntp_servers", "      require: {each: ntp_servers}"), "T-D: removed: 'require' has no meaning"),
        (("{address: {inside_profile: ntp}}", "{adress: x}"), "T-D: removed.where.adress: unknown field"),
        (("      each: ntp_servers", "      each: ntp_server"), "T-D: removed.each: unknown collection ntp_server"),
    ],
)
def test_drift_check_errors(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = NTP_REMOVED.replace("SITE-DRIFT-NTP", "T-D").replace(*change)
    with pytest.raises(ContentError) as error:
        catalog_of(tmp_path, text)
    assert message in str(error.value)


# --- speed ---------------------------------------------------------------------------------


def big_config(entries: int = 1500) -> DeviceConfig:
    b = hardened()
    for i in range(entries // 3):
        b.acl(
            f"ACL{i}",
            "extended",
            f"ip access-list extended ACL{i}",
            (
                f" permit tcp 10.{i % 250}.0.0 0.0.255.255 any eq 22",
                AclEntry(action="permit", protocol="tcp", source=f"10.{i % 250}.0.0/16"),
            ),
            (" permit udp any any eq 161", AclEntry(action="permit", protocol="udp", source="any")),
            (" deny ip any any log", AclEntry(action="deny", source="any")),
        )
        b.add(
            "interfaces",
            Interface(name=f"Gi0/{i}", addresses=(f"10.1.{i % 250}.1/30",)),
            f"interface Gi0/{i}",
            f" ip address 10.1.{i % 250}.1 255.255.255.252",
        )
    return b.config()


def test_the_catalog_on_a_large_configuration_flags_nothing_clean(catalog: cc.Catalog, profile: SiteProfile) -> None:
    """3,000 lines and 1,500 ACL entries inside the management ranges: no false failure.
    (Speed is measured in bench/bench_audit.py, not here.)"""
    assert not failing(cc.evaluate(big_config(), catalog, profile))


# --- end to end, on the parsers' fixtures ---------------------------------------------------

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "configs"
FIXTURE_PROFILE = {
    "management_ranges": ["172.20.0.0/16"],
    "infrastructure_ranges": ["10.255.0.0/16", "172.31.0.0/16"],
    "tunnel_peers": ["10.255.0.2", "198.51.100.17"],
    "approved_admins": ["netops", "admin"],
    "approved_servers": {
        "tacacs": ["172.20.5.41", "172.20.5.42"],
        "syslog": ["172.20.5.0/24"],
        "ntp": ["172.20.5.0/24"],
        "snmp": ["172.20.5.30"],
    },
}


def parsed(name: str) -> DeviceConfig:
    configs = pytest.importorskip("seawall.sources.configs")
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"fixture {name} not present")
    return configs.read_config(path)


def line_of(config: DeviceConfig, text: str) -> tuple[int, str]:
    return next((n, t) for n, t in enumerate(config.text_lines, 1) if t == text)


@pytest.mark.parametrize(
    "name",
    [
        "iosxe_router.cfg",
        "nxos_switch.cfg",
        "iosxr_router.cfg",
        "eos_switch.cfg",
        "junos_router.conf",
        "junos_router.set",
    ],
)
def test_clean_fixture_raises_no_compromise_failure(catalog: cc.Catalog, name: str) -> None:
    config = parsed(name)
    assert config.status == "parsed"
    assert not failing(cc.evaluate(config, catalog.only("compromise")))


@pytest.mark.parametrize(
    "name",
    [
        "iosxe_router_compromised.cfg",
        "nxos_switch_compromised.cfg",
        "iosxr_router_compromised.cfg",
        "eos_switch_compromised.cfg",
        "junos_router_compromised.set",
    ],
)
def test_compromised_fixture_names_the_implant_account(catalog: cc.Catalog, name: str) -> None:
    config = parsed(name)
    implant = result(cc.evaluate(config, catalog), "SW-CFG-IOC-001")
    assert implant.status == cc.FAIL
    assert any("cisco_tac_admin" in text for _, text in implant.evidence)


def test_compromised_iosxe_fixture_with_a_profile(catalog: cc.Catalog) -> None:
    config = parsed("iosxe_router_compromised.cfg")
    results = cc.evaluate(config, catalog.only("compromise"), SiteProfile.from_dict(FIXTURE_PROFILE))
    assert failing(results) == {f"SW-CFG-IOC-{n:03d}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)}
    assert result(results, "SW-CFG-IOC-003").evidence == [
        line_of(config, "access-list 10 permit 203.0.113.0 0.0.0.255"),
        line_of(config, "access-list 20 permit 203.0.113.45"),
    ]
    assert line_of(config, "ip ssh port 22022 rotary 1") in result(results, "SW-CFG-IOC-004").evidence
    tunnels = {o.label for o in result(results, "SW-CFG-IOC-006").items}
    assert tunnels == {"tunnels: Tunnel99", "tunnels: OUTSIDE-MAP 10"}
    clean = cc.evaluate(parsed("iosxe_router.cfg"), catalog.only("compromise"), SiteProfile.from_dict(FIXTURE_PROFILE))
    assert not failing(clean)


def test_results_and_catalog_cross_process_boundaries(catalog: cc.Catalog, profile: SiteProfile) -> None:
    """A process pool sends checks to workers and results back: both must pickle."""
    import pickle

    b = hardened()
    b.add(
        "users", User(name="cisco_sys_manager", privilege=15), "username cisco_sys_manager privilege 15 secret 9 $9$x"
    )
    results = cc.evaluate(b.config(), catalog, profile)
    again = pickle.loads(pickle.dumps(results))
    assert again == results
    copy = pickle.loads(pickle.dumps(catalog))
    assert copy == catalog and copy.drift == catalog.drift
    assert cc.evaluate(b.config(), copy, profile) == results
    after = b.config(logging_hosts=[])
    assert cc.evaluate_drift(b.config(), after, copy) == cc.evaluate_drift(b.config(), after, catalog)


def test_object_group_source_is_not_guessed(catalog: cc.Catalog, profile: SiteProfile) -> None:
    b = hardened()
    b.acl("20", "standard", None, ("access-list 20 permit object-group NOC", AclEntry(action="permit", source="NOC")))
    assert result(cc.evaluate(b.config(), catalog, profile), "SW-CFG-IOC-003").status == cc.PASS


def test_junos_root_account_is_not_an_unapproved_admin_but_an_added_super_user_is() -> None:
    """Every Junos device has root (system root-authentication); a blind test saw it
    flagged on every clean Junos configuration."""
    text = (FIXTURES / "junos_router.set").read_text()
    profile = SiteProfile.from_dict({"approved_admins": ["netops"]}, "test")
    clean = parse_config(text, "r.set")
    assert any(u.name == "root" and u.privilege == 15 for u in clean.users)
    check = next(r for r in cc.evaluate(clean, None, profile) if r.check.id == "SW-CFG-IOC-002")
    assert check.status == cc.PASS
    added = parse_config(text + "set system login user svc-backup class super-user\n", "r.set")
    check = next(r for r in cc.evaluate(added, None, profile) if r.check.id == "SW-CFG-IOC-002")
    assert [o.label for o in check.items] == ["users: svc-backup"]
