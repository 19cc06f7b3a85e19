"""The configuration parsers on public configurations: batfish's example network (IOS) and
ciscoconfparse's samples (IOS, IOS XR, NX-OS, ASA, Junos), in ../shared/data/configs.

Every file must parse (a fragment included), be recognised as its platform, and a few
facts read from each file by hand must come out of the model.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from seawall.sources.configs import read_config, sniff_platform
from seawall.sources.configs.model import DeviceConfig

pytestmark = pytest.mark.shared_data

PLATFORM_OF_SUFFIX = {
    ".cfg": "ios",
    ".ios": "ios",
    ".iosxr": "iosxr",
    ".nxos": "nxos",
    ".asa": "asa",
    ".junos": "junos",
}
# Fragments ciscoconfparse uses to test brace parsing, not Junos: read, but not cleanly.
GARBLED = {"sample_02.junos"}


@pytest.fixture
def configs(shared_data: Path) -> Path:
    folder = shared_data / "configs"
    if not folder.is_dir():
        pytest.skip(f"no configurations at {folder}")
    return folder


def parse(configs: Path, name: str) -> DeviceConfig:
    folder = "batfish-example" if name.endswith(".cfg") else "ciscoconfparse"
    return read_config(configs / folder / name)


def by(items: list, **match: object) -> object:
    found = [i for i in items if all(getattr(i, k) == v for k, v in match.items())]
    assert len(found) == 1, f"{len(found)} items match {match}"
    return found[0]


def test_every_file_parses_as_its_platform(configs: Path) -> None:
    files = sorted(p for p in configs.rglob("*") if p.is_file())
    assert len(files) >= 35
    for path in files:
        expected = PLATFORM_OF_SUFFIX[path.suffix]
        config = read_config(path)
        assert sniff_platform(path.read_text(encoding="utf-8", errors="replace")) == expected, path.name
        assert (config.platform, config.status) == (
            expected,
            "partial" if path.name in GARBLED else "parsed",
        ), f"{path.name}: {config.reason}"


def test_batfish_border_router(configs: Path) -> None:
    c = parse(configs, "as2border1.cfg")
    assert c.hostname == "as2border1"
    assert [s.address for s in c.ntp_servers] == ["18.18.18.18", "23.23.23.23"]
    outside = c.acl("OUTSIDE_TO_INSIDE")
    assert outside is not None
    assert [(e.action, e.source, e.destination) for e in outside.entries] == [
        ("deny", "2.0.0.0/8", "any"),
        ("deny", "any", "2.128.1.101/32"),
        ("permit", "any", "any"),
    ]
    assert c.acl("INSIDE_TO_AS1").entries[1].source == "10.12.11.2/32"  # type: ignore[union-attr]
    assert by(c.interfaces, name="GigabitEthernet0/0").addresses == ("10.12.11.2/24",)
    assert by(c.interfaces, name="Ethernet0/0").shutdown
    bgp = by(c.routing, name="bgp 2")
    assert bgp.neighbors == ("2.1.2.1", "2.1.2.2", "10.12.11.1") and not bgp.authenticated
    assert [(s.name, s.enabled) for s in c.services] == [("http", False), ("https", False)]
    assert c.feature("aaa-new-model").enabled  # ``no aaa new-model``, then ``aaa new-model``


def test_ios_router_with_banner_and_acls(configs: Path) -> None:
    c = parse(configs, "sample_01.ios")
    assert c.hostname == "Foo"
    ddclient = by(c.users, name="ddclient")
    assert (ddclient.secret_type, ddclient.secret_kind) == ("7", "password")
    assert [(e.secret_type, e.lines) for e in c.enable_secrets] == [("5", (24,))]
    assert c.acl("BLACKHOLE").entries[0].source == "81.7.148.87/32"  # type: ignore[union-attr]
    assert [s.address for s in c.logging_hosts] == ["172.16.1.5", "172.16.1.7"]
    assert by(c.lines, kind="vty").transport_input == ("telnet", "ssh")
    community = by(c.snmp_communities, community="SoMeThaNGwIErd")
    assert (community.access, community.acl) == ("rw", "99")
    (login,) = c.banners
    assert login.kind == "login" and login.text.startswith("Router Foo. Access to this device")
    assert login.text.endswith("We don't like you. Go away.")
    assert c.feature("source-route").enabled is False  # type: ignore[union-attr]
    assert [(r.prefix, r.next_hop) for r in c.static_routes][:2] == [
        ("0.0.0.0/0", "Dialer1"),
        ("0.0.0.0/0", "172.16.2.254"),
    ]


def test_ios_radius_servers_and_fragments(configs: Path) -> None:
    c = parse(configs, "sample_03.ios")
    assert [(s.protocol, s.address, s.port, s.key_type) for s in c.aaa_servers] == [
        ("radius", "172.28.0.194", 1812, "7"),
        ("radius", "172.28.16.194", 1812, "7"),
        ("radius", "10.32.200.26", 1645, "7"),
    ]
    acls = parse(configs, "sample_05.ios")  # a fragment: 100 extended ACLs, nothing else
    assert len(acls.acls) == 100
    first = acls.acl("ACL_00").entries[0]  # type: ignore[union-attr]
    assert (first.action, first.protocol, first.source, first.destination) == ("permit", "udp", "any", "192.0.2.0/32")
    vlans = parse(configs, "sample_06.ios")  # a fragment: VLANs and interfaces
    assert len(vlans.interfaces) == 4718 and vlans.hostname is None


def test_iosxr_line_templates_and_tacacs(configs: Path) -> None:
    c = parse(configs, "sample_01.iosxr")
    assert c.hostname == "FOOS-DKS"
    (tacacs,) = c.aaa_servers
    assert (tacacs.address, tacacs.port, tacacs.key_type) == ("100.2.3.8", 149, "7")  # the global key
    (vty,) = c.lines  # vty-pool default 0 15 line-template SSH-TELNET
    assert (vty.first, vty.last, vty.transport_input, vty.access_class_in) == (0, 15, ("ssh", "telnet"), "4")
    assert [e.source for e in c.acl("3").entries] == [  # type: ignore[union-attr]
        "100.2.3.0/27",
        "110.2.3.0/27",
        "120.2.3.0/24",
        "130.2.3.0/30",
        "140.2.3.0/29",
    ]
    assert "FROG PARK SERVICES" in c.banners[0].text
    assert [s.address for s in c.logging_hosts] == ["100.2.3.4", "100.2.3.5", "100.2.3.6", "100.2.3.7"]


def test_iosxr_user_block_and_ntp_authentication(configs: Path) -> None:
    c = parse(configs, "sample_05.iosxr")
    root = by(c.users, name="ACME_root")
    assert (root.role, root.privilege, root.secret_type) == ("root-lr", 15, "10")
    assert [(s.address, s.key) for s in c.ntp_servers] == [("233.252.222.212", "1"), ("233.252.222.213", "1")]
    assert c.feature("ntp-authenticate").enabled  # type: ignore[union-attr]
    assert [(g.name, g.level, g.acl) for g in c.snmp_groups] == [
        ("ACME-RO-GROUP", "priv", "ACL-IPV4-MGMT-ACCESS"),
        ("ACME-RW-GROUP", "priv", "ACL-IPV4-MGMT-ACCESS"),
    ]
    assert by(c.lines, kind="vty").access_class_in == "ACL-IPV4-MGMT-ACCESS"
    assert by(c.interfaces, name="TenGigE0/0/0/0/0.10").vrf == "INTERNET10"
    grpc = parse(configs, "sample_03.iosxr").service("grpc")[0]
    assert grpc.ports == (18443,)


def test_nxos_erspan_and_tacacs(configs: Path) -> None:
    c = parse(configs, "sample_01.nxos")
    assert c.hostname == "sample_nxos_01"
    admin = by(c.users, name="admin")
    assert (admin.role, admin.privilege) == ("network-admin", 15)
    assert [(s.address, s.key_type, s.vrf) for s in c.aaa_servers] == [
        ("10.10.6.165", "7", "management"),
        ("10.10.2.130", "7", "management"),
    ]
    erspan = by(c.monitor_sessions, session="45")
    assert (erspan.kind, erspan.destination) == ("erspan-source", "10.136.21.253")
    assert erspan.sources == ("Ethernet111/1/2", "Ethernet111/1/3")
    assert by(c.interfaces, name="mgmt0").addresses == ("10.10.248.50/24",)
    assert [s.address for s in c.logging_hosts] == ["10.10.10.67", "10.10.10.68"]


def test_asa_names_resolve(configs: Path) -> None:
    c = parse(configs, "sample_01.asa")
    assert c.hostname == "fw"
    assert [(u.name, u.privilege, u.secret_type) for u in c.users] == [("mpenning", 15, "encrypted")]
    assert [s.address for s in c.logging_hosts] == ["192.0.2.13"]  # ``logging host INSIDE Machine01``
    inside = c.acl("INSIDE_in")
    assert inside is not None and len(inside.entries) == 13
    assert inside.entries[3].destination == "4.2.2.2/32"
    assert c.service("ssh")[0].version == "2"
    assert by(c.interfaces, name="Vlan200").addresses == ("192.0.2.1/24",)


def test_junos_samples(configs: Path) -> None:
    c = parse(configs, "sample_01.junos")
    assert c.hostname == "TEST01_EX"
    user = by(c.users, name="mpenning")
    assert (user.role, user.privilege, user.secret_type) == ("super-user", 15, "md5")
    assert {s.name for s in c.services} == {"ssh", "telnet", "http"}
    assert [(r.prefix, r.next_hop) for r in c.static_routes] == [
        ("0.0.0.0/0", "172.16.12.1"),
        ("192.168.36.0/25", "172.16.12.1"),
    ]
    assert by(c.interfaces, name="vlan.0").addresses == ("172.16.15.5/22",)
    school = parse(configs, "sample_03.junos")
    community = by(school.snmp_communities, community="school-ro")
    assert (community.access, community.acl) == ("ro", "snmp-clients:school-ro")
    assert [e.source for e in school.acl(community.acl).entries] == ["10.143.255.0/24"]
    assert len(school.snmp_hosts) == 5 and school.snmp_hosts[0].community_or_user == "ESMA"
    garbled = parse(configs, "sample_02.junos")
    assert garbled.status == "partial" and garbled.unparsed
