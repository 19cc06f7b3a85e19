"""Device configuration parsers: what each platform's statements become in the one model.

The fixtures under tests/fixtures/configs are written for these tests: a clean device of
each platform, the same device with planted compromise indicators (``*_compromised``),
and broken files (truncated, binary, a line of junk).
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from seawall.sources.configs import parse_config, read_config, sniff_platform
from seawall.sources.configs.common import mask_length, ports_of, wildcard_length
from seawall.sources.configs.ios import acl_entry
from seawall.sources.configs.model import COLLECTIONS, DeviceConfig, Item

CONFIGS = Path(__file__).resolve().parent / "fixtures" / "configs"
PLATFORM_OF = {
    "iosxe_router.cfg": "ios",
    "iosxe_router_compromised.cfg": "ios",
    "iosxe_truncated.cfg": "ios",
    "iosxe_junk_line.cfg": "ios",
    "nxos_switch.cfg": "nxos",
    "nxos_switch_compromised.cfg": "nxos",
    "iosxr_router.cfg": "iosxr",
    "iosxr_router_compromised.cfg": "iosxr",
    "junos_router.conf": "junos",
    "junos_router.set": "junos",
    "junos_router_compromised.set": "junos",
    "junos_truncated.conf": "junos",
    "eos_switch.cfg": "eos",
    "eos_switch_compromised.cfg": "eos",
    "asa_firewall.cfg": "asa",
}
CLEAN = [
    "iosxe_router.cfg",
    "nxos_switch.cfg",
    "iosxr_router.cfg",
    "junos_router.conf",
    "junos_router.set",
    "eos_switch.cfg",
]
COMPROMISED = [n.replace(".cfg", "_compromised.cfg") for n in CLEAN if n.endswith(".cfg")] + [
    "junos_router_compromised.set"
]


def load(name: str) -> DeviceConfig:
    return read_config(CONFIGS / name)


def by(items: list, **match: object) -> object:
    """The one item whose fields have the given values."""
    found = [i for i in items if all(getattr(i, k) == v for k, v in match.items())]
    assert len(found) == 1, f"{len(found)} items match {match}: {items}"
    return found[0]


def evidence(config: DeviceConfig, item: object) -> str:
    return "\n".join(text for _n, text in config.text(item.lines))  # type: ignore[attr-defined]


def plain(value: object) -> object:
    """An item's facts with the line numbers of nested items (ACL entries) left out too."""
    if isinstance(value, Item):
        return {k: plain(v) for k, v in value.facts().items()}
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


def all_fact_values(config: DeviceConfig) -> str:
    """Every fact of every item, as one string, to search for planted values."""
    return repr([item.facts() for name in COLLECTIONS for item in getattr(config, name)])


# -- sniffing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "platform"), sorted(PLATFORM_OF.items()))
def test_every_fixture_is_recognised_as_its_platform(name: str, platform: str) -> None:
    text = (CONFIGS / name).read_bytes().decode("utf-8", "replace")
    assert sniff_platform(text) == platform
    assert load(name).platform == platform


@pytest.mark.parametrize(
    ("text", "platform"),
    [
        ("hostname r1\n!\ninterface Gi0/0\n ip address 10.0.0.1 255.255.255.0\n", "ios"),
        ("feature ssh\nhostname n1\n", "nxos"),
        ("hostname x\ninterface Loopback0\n ipv4 address 10.0.0.1 255.255.255.255\n", "iosxr"),
        ("! device: a1 (DCS-7050, EOS-4.28)\nhostname a1\n", "eos"),
        ("ASA Version 9.8(4)\nhostname fw\n", "asa"),
        ("set system host-name j1\nset interfaces ge-0/0/0 unit 0\n", "junos"),
        ("system {\n    host-name j1;\n}\n", "junos"),
        ("just some words\nnothing like a configuration\n", None),
        ("", None),
    ],
)
def test_sniffing_rests_on_markers_only_one_platform_prints(text: str, platform: str | None) -> None:
    assert sniff_platform(text) == platform


# -- IOS XE -----------------------------------------------------------------------------------


def test_iosxe_accounts_aaa_and_lines() -> None:
    c = load("iosxe_router.cfg")
    assert (c.status, c.reason, c.unparsed, c.hostname) == ("parsed", None, [], "pe1-core-lon")
    netops = by(c.users, name="netops")
    assert (netops.privilege, netops.secret_type, netops.secret_kind) == (15, "9", "secret")
    backup = by(c.users, name="backup")
    assert (backup.privilege, backup.secret_type, backup.secret_kind) == (1, "7", "password")
    assert [(u.name, u.secret_type, u.lines) for u in c.enable_secrets] == [("enable", "9", (26,))]
    ise1 = by(c.aaa_servers, address="172.20.5.41")
    assert (ise1.protocol, ise1.key_type, ise1.vrf) == ("tacacs", "7", "Mgmt-intf")
    assert by(c.aaa_servers, address="172.20.5.42").key_type == "6"
    vty = by(c.lines, kind="vty", first=0)
    assert (vty.last, vty.transport_input, vty.transport_output, vty.access_class_in) == (4, ("ssh",), ("none",), "10")
    assert by(c.lines, kind="vty", first=5).transport_input == ("none",)
    assert by(c.lines, kind="console").transport_input == ()


def test_iosxe_acls_normalise_wildcards_and_hosts() -> None:
    c = load("iosxe_router.cfg")
    numbered = c.acl("10")
    assert numbered is not None and numbered.kind == "standard"
    assert [(e.action, e.source) for e in numbered.entries] == [
        ("remark", None),
        ("permit", "172.20.5.0/24"),
        ("permit", "172.20.1.50/32"),
    ]
    customer = c.acl("CUSTOMER-IN")
    assert customer is not None and customer.kind == "extended"
    bgp = customer.entries[2]
    assert (bgp.sequence, bgp.protocol, bgp.source, bgp.destination, bgp.destination_port) == (
        30,
        "tcp",
        "any",
        "192.0.2.1/32",
        "eq bgp",
    )
    assert customer.entries[1].source == "172.16.0.0/12"
    assert c.text(bgp.lines) == [(bgp.lines[0], " 30 permit tcp any host 192.0.2.1 eq bgp")]


def test_iosxe_management_services_and_feature_switches() -> None:
    c = load("iosxe_router.cfg")
    ssh = c.service("ssh")[0]
    assert (ssh.enabled, ssh.version, ssh.ports, ssh.source_interface) == (True, "2", (), "GigabitEthernet0")
    assert [s.enabled for s in c.service("http")] == [False]
    assert [s.enabled for s in c.service("https")] == [False]
    assert c.service("scp")[0].enabled
    switches = {f.name: f.enabled for f in c.features}
    assert switches == {
        "password-encryption": True,
        "pad": False,
        "aaa-new-model": True,
        "source-route": False,
        "vstack": False,
        "cdp": True,
        "lldp": True,
        "ntp-authenticate": True,
    }
    assert c.feature("guestshell") is None  # silent: not stated either way


def test_iosxe_snmp_logging_ntp() -> None:
    c = load("iosxe_router.cfg")
    community = by(c.snmp_communities, community="n0c-R3ad-0nly")
    assert (community.access, community.acl) == ("ro", "SNMP-RO")
    group = by(c.snmp_groups, name="NETOPS-V3")
    assert (group.version, group.level, group.acl) == ("v3", "priv", "SNMP-RO")
    host = by(c.snmp_hosts, address="172.20.5.30")
    assert (host.version, host.community_or_user) == ("v3", "snmpv3-netops")
    assert [(s.address, s.port, s.vrf) for s in c.logging_hosts] == [
        ("172.20.5.20", None, "Mgmt-intf"),
        ("172.20.5.21", 6514, None),
    ]
    assert [(s.address, s.vrf, s.key) for s in c.ntp_servers] == [
        ("172.20.5.10", "Mgmt-intf", "1"),
        ("172.20.5.11", "Mgmt-intf", "1"),
    ]


def test_iosxe_interfaces_tunnels_routes_routing_banner() -> None:
    c = load("iosxe_router.cfg")
    mgmt = by(c.interfaces, name="GigabitEthernet0")
    assert (mgmt.addresses, mgmt.vrf, mgmt.description, mgmt.shutdown) == (
        ("172.20.1.11/24",),
        "Mgmt-intf",
        "OOB management",
        False,
    )
    assert by(c.interfaces, name="GigabitEthernet0/0/2").shutdown
    assert [(t.name, t.mode, t.source, t.destination) for t in c.tunnels] == [
        ("Tunnel10", "gre", "Loopback0", "10.255.0.2"),
        ("Tunnel20", "ipsec", "GigabitEthernet0/0/1", "198.51.100.17"),
    ]
    assert [(r.prefix, r.next_hop, r.vrf) for r in c.static_routes] == [
        ("0.0.0.0/0", "10.0.12.2", None),
        ("0.0.0.0/0", "172.20.1.1", "Mgmt-intf"),
    ]
    assert by(c.routing, name="ospf 1").authenticated
    bgp = by(c.routing, name="bgp 65010")
    assert (bgp.authenticated, bgp.neighbors) == (True, ("10.255.0.2", "192.0.2.2"))
    (motd,) = c.banners
    assert motd.kind == "motd"
    assert motd.text == (
        "Authorised access only. Activity on this device is monitored\n"
        "and recorded. Disconnect now if you are not authorised."
    )
    assert c.text(motd.lines)[0][1] == "banner motd ^C" and c.text(motd.lines)[-1][1] == "^C"
    assert c.monitor_sessions == [] and c.packet_captures == []


def test_iosxe_compromised_indicators() -> None:
    c = load("iosxe_router_compromised.cfg")
    assert c.status == "parsed"
    tac = by(c.users, name="cisco_tac_admin")
    assert (tac.privilege, tac.secret_type) == (15, "5")
    assert "username cisco_tac_admin privilege 15" in evidence(c, tac)
    assert [e.source for e in c.acl("20").entries] == ["203.0.113.45/32"]  # type: ignore[union-attr]
    assert c.acl("10").entries[-1].source == "203.0.113.0/24"  # type: ignore[union-attr]
    assert c.service("ssh")[0].ports == (22022,)
    http = c.service("http")[0]
    assert (http.enabled, http.ports) == (True, (18443,))
    assert c.service("https")[0].enabled
    tunnel = by(c.tunnels, name="Tunnel99")
    assert (tunnel.mode, tunnel.destination) == ("gre", "203.0.113.66")
    assert "tunnel destination 203.0.113.66" in evidence(c, tunnel)
    assert by(c.tunnels, name="OUTSIDE-MAP 10").destination == "203.0.113.77"
    (erspan,) = c.monitor_sessions
    assert (erspan.session, erspan.kind, erspan.sources, erspan.destination) == (
        "2",
        "erspan-source",
        ("GigabitEthernet0/0/1",),
        "203.0.113.9",
    )
    cap = by(c.packet_captures, name="CAP")
    assert (cap.interface, cap.match, cap.ports) == ("GigabitEthernet0/0/0", "ipv4 protocol tcp any any eq 49", (49,))
    cap2 = by(c.packet_captures, name="CAP2")
    assert (cap2.acl, cap2.ports) == ("CAP-ACL", (49,))  # resolved from the ACL's entries
    assert c.acl("CAP-ACL").entries[1].source_port == "eq tacacs"  # type: ignore[union-attr]
    assert {f.name: f.enabled for f in c.features if f.name in ("vstack", "iox", "app-hosting", "guestshell")} == {
        "vstack": True,
        "iox": True,
        "app-hosting": True,
        "guestshell": True,
    }
    vty = by(c.lines, kind="vty", first=0)
    assert vty.transport_input == ("telnet", "ssh")
    assert by(c.lines, kind="vty", first=5).access_class_in == "20"
    rw = by(c.snmp_communities, community="pr1v4te")
    assert (rw.access, rw.acl) == ("rw", None)


@pytest.mark.parametrize("name", CLEAN)
def test_clean_fixtures_hold_no_planted_indicator(name: str) -> None:
    c = load(name)
    assert c.status == "parsed"
    facts = all_fact_values(c)
    for planted in ("203.0.113.", "cisco_tac_admin", "18443", "22022", "57722"):
        assert planted not in facts


@pytest.mark.parametrize("name", COMPROMISED)
def test_compromised_fixtures_hold_planted_indicators(name: str) -> None:
    c = load(name)
    assert c.status == "parsed"
    facts = all_fact_values(c)
    assert "203.0.113." in facts and "cisco_tac_admin" in facts


# -- NX-OS ------------------------------------------------------------------------------------


def test_nxos_switch() -> None:
    c = load("nxos_switch.cfg")
    assert (c.status, c.hostname) == ("parsed", "leaf101-fra")
    admin = by(c.users, name="admin")
    assert (admin.role, admin.privilege, admin.secret_type) == ("network-admin", 15, "5")
    assert by(c.users, name="noc").privilege is None
    assert [(s.address, s.key_type, s.vrf) for s in c.aaa_servers] == [
        ("10.40.0.41", "7", "management"),
        ("10.40.0.42", "7", "management"),
    ]
    community = by(c.snmp_communities, community="fra-ro-2026")
    assert (community.access, community.acl, community.lines) == ("ro", "SNMP-ACL", (47, 48))
    assert [e.source for e in c.acl("VTY-ACL").entries] == ["10.40.5.0/24", "any"]  # type: ignore[union-attr]
    assert by(c.lines, kind="vty").access_class_in == "VTY-ACL"
    assert [(s.address, s.vrf) for s in c.logging_hosts] == [("10.40.5.20", "management")]
    assert c.feature("telnet").enabled is False  # type: ignore[union-attr]
    assert [s.enabled for s in c.service("telnet")] == [False]
    assert [(r.prefix, r.vrf) for r in c.static_routes] == [("0.0.0.0/0", "management"), ("10.99.0.0/16", "TENANT-A")]
    assert by(c.interfaces, name="Vlan100").vrf == "TENANT-A"
    assert by(c.routing, name="bgp 65101").authenticated  # via the template's password
    (span,) = c.monitor_sessions
    assert (span.kind, span.sources, span.destination) == ("span", ("Ethernet1/2",), "Ethernet1/48")


def test_nxos_compromised() -> None:
    c = load("nxos_switch_compromised.cfg")
    assert by(c.users, name="cisco_tac_admin").role == "network-admin"
    assert {f.name for f in c.features} >= {"telnet", "bash-shell", "nxapi"}
    assert c.service("http")[0].ports == (18443,)
    assert by(c.tunnels, name="Tunnel1").destination == "203.0.113.66"
    erspan = by(c.monitor_sessions, session="2")
    assert (erspan.kind, erspan.destination, erspan.sources) == ("erspan-source", "203.0.113.9", ("Ethernet1/1",))
    assert by(c.snmp_communities, community="s3cr3t-rw").access == "rw"


# -- IOS XR -----------------------------------------------------------------------------------


def test_iosxr_router() -> None:
    c = load("iosxr_router.cfg")
    assert (c.status, c.hostname) == ("parsed", "p1-core-ams")
    netops = by(c.users, name="netops")
    assert (netops.role, netops.privilege, netops.secret_type, netops.lines) == ("root-lr", 15, "10", (24, 25, 26, 27))
    assert by(c.users, name="oper").privilege is None
    assert [(s.address, s.port, s.key_type, s.vrf) for s in c.aaa_servers] == [
        ("10.60.0.41", 49, "7", "MGMT"),
        ("10.60.0.42", 49, "7", "MGMT"),
    ]
    vty = by(c.lines, kind="vty")  # line default applied to vty-pool default 0 9
    assert (vty.first, vty.last, vty.transport_input, vty.access_class_in) == (0, 9, ("ssh",), "VTY-ACL")
    assert [e.source for e in c.acl("VTY-ACL").entries] == ["10.60.5.0/24", "10.60.1.50/32", "any"]  # type: ignore[union-attr]
    assert [(s.address, s.port, s.vrf) for s in c.logging_hosts] == [
        ("10.60.5.20", None, "MGMT"),
        ("10.60.5.21", 514, "MGMT"),
    ]
    assert [(s.address, s.vrf, s.key) for s in c.ntp_servers] == [
        ("10.60.0.10", "MGMT", "1"),
        ("10.60.0.11", "MGMT", "1"),
    ]
    assert c.feature("ntp-authenticate").enabled  # type: ignore[union-attr]
    ssh = c.service("ssh")[0]
    assert (ssh.version, ssh.acl, ssh.ports) == ("2", "VTY-ACL", ())
    assert [(t.name, t.mode, t.destination) for t in c.tunnels] == [("tunnel-ip10", "gre", "10.255.2.9")]
    assert [(r.prefix, r.next_hop, r.vrf) for r in c.static_routes] == [
        ("10.99.0.0/16", "10.0.21.1", None),
        ("0.0.0.0/0", "10.60.0.1", "MGMT"),
    ]
    assert by(c.interfaces, name="HundredGigE0/0/0/1").addresses == ("10.0.22.0/31",)
    assert by(c.routing, name="isis CORE").authenticated
    bgp = by(c.routing, name="bgp 65010")
    assert (bgp.authenticated, bgp.neighbors) == (True, ("10.255.0.1", "10.255.0.2"))
    assert [(b.kind, b.text) for b in c.banners] == [("motd", "Authorised access only. All activity is logged.")]


def test_iosxr_compromised() -> None:
    c = load("iosxr_router_compromised.cfg")
    assert by(c.users, name="cisco_tac_admin").role == "root-system"
    ssh = c.service("ssh")[0]
    assert ssh.ports == (57722,)
    assert c.service("grpc")[0].ports == (18443,)
    assert c.service("telnet")[0].enabled
    assert by(c.lines, kind="vty").transport_input == ("telnet", "ssh")
    (tap,) = c.monitor_sessions  # sources from the interfaces, destination through the tunnel
    assert (tap.session, tap.kind, tap.sources, tap.destination) == (
        "TAP",
        "erspan-source",
        ("HundredGigE0/0/0/2",),
        "203.0.113.66",
    )


# -- Junos ------------------------------------------------------------------------------------


def test_junos_hierarchical() -> None:
    c = load("junos_router.conf")
    assert (c.status, c.hostname) == ("parsed", "mx1-edge-par")
    root = by(c.users, name="root")
    assert (root.privilege, root.secret_type) == (15, "sha512")
    netops = by(c.users, name="netops")
    assert (netops.role, netops.privilege, netops.secret_kind) == ("super-user", 15, "encrypted-password")
    noc = by(c.users, name="noc")
    assert (noc.role, noc.privilege, noc.secret_type) == ("noc-ro", None, "ssh-key")
    assert [(s.protocol, s.address, s.port, s.key_type) for s in c.aaa_servers] == [
        ("tacacs", "10.80.0.41", None, "encrypted"),
        ("tacacs", "10.80.0.42", 49, "encrypted"),
    ]
    assert {s.name: s.version for s in c.services} == {"ssh": "2", "netconf": None}
    assert [(s.address, s.vrf) for s in c.logging_hosts] == [("10.80.5.20", "mgmt_junos")]
    assert [(s.address, s.key) for s in c.ntp_servers] == [("10.80.0.10", "1"), ("10.80.0.11", "1")]
    community = by(c.snmp_communities, community="par-ro-2026")
    assert (community.access, community.acl) == ("ro", "snmp-clients:par-ro-2026")
    assert [e.source for e in c.acl(community.acl).entries] == ["10.80.5.0/24"]
    assert [(h.address, h.version, h.community_or_user) for h in c.snmp_hosts] == [("10.80.5.30", "v2c", "NMS")]
    assert c.acl("MGMT-NETS").kind == "prefix-list"  # type: ignore[union-attr]
    re_filter = by(c.acls, name="PROTECT-RE")
    assert [(e.sequence, e.action, e.source, e.destination_port, e.text) for e in re_filter.entries] == [
        (1, "permit", "MGMT-NETS", "eq ssh", "term SSH"),
        (2, "permit", "198.51.100.2/32", "eq bgp", "term BGP"),
        (3, "deny", None, None, "term DEFAULT"),
    ]
    assert by(c.interfaces, name="ge-0/0/0.0").addresses == ("10.0.31.1/31",)
    assert by(c.interfaces, name="ge-0/0/9.0").shutdown  # the physical interface is disabled
    assert [(t.name, t.mode, t.source, t.destination) for t in c.tunnels] == [
        ("gr-0/0/10.0", "gre", "10.255.3.1", "10.255.3.9")
    ]
    assert [(r.prefix, r.next_hop, r.vrf) for r in c.static_routes] == [
        ("0.0.0.0/0", "198.51.100.2", None),
        ("0.0.0.0/0", "10.80.0.1", "mgmt_junos"),
    ]
    assert by(c.routing, name="ospf").authenticated
    bgp = by(c.routing, name="bgp 65020")
    assert (bgp.authenticated, bgp.neighbors) == (True, ("198.51.100.2",))
    assert [(b.kind, b.text) for b in c.banners] == [("login", "Authorised access only. Activity is logged.")]
    assert c.feature("lldp").enabled and c.feature("ntp-authenticate").enabled  # type: ignore[union-attr]


def test_junos_set_form_says_what_the_hierarchical_form_says() -> None:
    hierarchical, flat = load("junos_router.conf"), load("junos_router.set")
    assert flat.status == "parsed"
    for name in COLLECTIONS:
        assert [plain(i) for i in getattr(flat, name)] == [plain(i) for i in getattr(hierarchical, name)], name
    tunnel = flat.tunnels[0]
    assert evidence(flat, tunnel) == (
        "set interfaces gr-0/0/10 unit 0 tunnel source 10.255.3.1\n"
        "set interfaces gr-0/0/10 unit 0 tunnel destination 10.255.3.9"
    )
    assert evidence(hierarchical, hierarchical.tunnels[0]) == (
        "                source 10.255.3.1;\n                destination 10.255.3.9;"
    )


def test_junos_compromised() -> None:
    c = load("junos_router_compromised.set")
    assert by(c.users, name="cisco_tac_admin").secret_type == "md5"
    assert {s.name for s in c.services} >= {"telnet", "ftp", "http"}
    assert c.service("http")[0].ports == (18443,)
    assert by(c.tunnels, name="gr-0/0/11.0").destination == "203.0.113.66"
    ike = by(c.tunnels, name="ike gateway SUPPORT-GW")
    assert (ike.mode, ike.source, ike.destination) == ("ipsec", "ge-0/0/1.0", "203.0.113.77")
    (mirror,) = c.monitor_sessions
    assert (mirror.kind, mirror.destination) == ("erspan-source", "203.0.113.9")
    (capture,) = c.packet_captures
    assert (capture.match, capture.ports) == ("PROTECT-RE CAPTURE", (49,))
    assert by(c.acls, name="PROTECT-RE").entries[1].source == "203.0.113.0/24"
    assert c.logging_hosts == []  # ``deactivate system syslog host``
    assert by(c.snmp_communities, community="public").access == "rw"


# -- EOS and ASA ------------------------------------------------------------------------------


def test_eos_switch() -> None:
    c = load("eos_switch.cfg")
    assert (c.status, c.hostname) == ("parsed", "spine1-ber")
    admin = by(c.users, name="admin")
    assert (admin.privilege, admin.role, admin.secret_type) == (15, "network-admin", "sha512")
    assert [(s.address, s.vrf, s.key_type) for s in c.aaa_servers] == [
        ("10.90.0.41", "MGMT", "7"),
        ("10.90.0.42", "MGMT", "7"),
    ]
    assert [(s.address, s.vrf) for s in c.logging_hosts] == [("10.90.5.20", "MGMT")]
    assert [e.source for e in c.acl("MGMT-SSH").entries] == ["10.90.5.0/24", "10.90.1.50/32"]  # type: ignore[union-attr]
    ssh = c.service("ssh")[0]
    assert (ssh.enabled, ssh.acl) == (True, "MGMT-SSH")
    assert c.service("https")[0].enabled and c.service("http") == []
    bgp = by(c.routing, name="bgp 65040")
    assert (bgp.authenticated, bgp.neighbors) == (True, ("10.0.41.1", "10.0.41.3"))
    (login,) = c.banners
    assert (login.kind, login.text) == ("login", "Authorised access only. Activity on this device is monitored.")
    assert c.text(login.lines)[-1][1] == "EOF"


def test_eos_compromised() -> None:
    c = load("eos_switch_compromised.cfg")
    assert [(s.name, s.enabled, s.ports) for s in c.services if s.name in ("http", "telnet")] == [
        ("http", True, (18443,)),
        ("telnet", True, ()),
    ]
    (mirror,) = c.monitor_sessions
    assert (mirror.session, mirror.kind, mirror.sources, mirror.destination) == (
        "EXFIL",
        "erspan-source",
        ("Ethernet1",),
        "203.0.113.9",
    )
    assert c.acl("MGMT-SSH").entries[-1].source == "203.0.113.0/24"  # type: ignore[union-attr]


def test_asa_firewall() -> None:
    c = load("asa_firewall.cfg")
    assert (c.status, c.hostname) == ("parsed", "fw1-dmz-lon")
    assert [(u.name, u.privilege, u.secret_type) for u in c.users] == [("netops", 15, "pbkdf2")]
    assert [(s.address, s.key_type) for s in c.aaa_servers] == [("10.70.0.41", "masked")]
    assert [s.address for s in c.logging_hosts] == ["10.70.5.20"]  # the name resolved
    assert [(r.prefix, r.next_hop) for r in c.static_routes] == [("0.0.0.0/0", "198.51.100.9")]
    assert by(c.interfaces, name="GigabitEthernet1/1").addresses == ("198.51.100.10/29",)
    https = c.service("https")[0]
    assert https.enabled
    assert c.service("ssh")[0].version == "2"
    assert [(b.kind, b.text) for b in c.banners] == [("motd", "Authorised access only.\nActivity is logged.")]


# -- broken files -----------------------------------------------------------------------------


def test_truncated_ios_is_partial_and_keeps_what_came_before() -> None:
    c = load("iosxe_truncated.cfg")
    assert (c.status, c.reason) == ("partial", "truncated: the file has no closing 'end'")
    n = len(c.text_lines)
    assert c.unparsed == [(70, n)]
    assert c.text([70])[0][1] == "interface GigabitEthernet0/0/0"
    assert c.hostname == "pe1-core-lon" and {u.name for u in c.users} == {"netops", "backup"}


def test_truncated_junos_is_partial() -> None:
    c = load("junos_truncated.conf")
    assert c.status == "partial"
    assert c.reason == "truncated: 2 block(s) not closed"
    assert c.unparsed == [(127, len(c.text_lines))]
    assert c.hostname == "mx1-edge-par" and len(c.users) == 3


def test_binary_file_is_rejected() -> None:
    c = load("binary.cfg")
    assert (c.status, c.reason, c.platform, c.unparsed) == (
        "rejected",
        "binary content, not a text configuration",
        None,
        [],
    )


def test_a_line_of_binary_junk_makes_the_file_partial() -> None:
    c = load("iosxe_junk_line.cfg")
    assert (c.status, c.reason, c.unparsed) == ("partial", "1 line(s) of binary or control characters", [(44, 44)])
    assert c.hostname == "pe1-core-lon" and len(c.acls) == 3


def test_unbalanced_junos_braces() -> None:
    text = "system {\n    host-name j1;\n}\n}\ninterfaces {\n    ge-0/0/0 {\n        description x\n    }\n}\n"
    c = parse_config(text, "j.conf")
    assert (c.platform, c.status, c.hostname) == ("junos", "partial", "j1")
    assert c.unparsed == [(4, 4), (7, 7)]
    assert c.reason == "a '}' closes no block; a statement with no ';' or '{'"


def test_unterminated_banner_is_partial() -> None:
    c = parse_config("hostname r1\nbanner motd ^C\nwelcome\ninterface Gi0/0\n", "r.cfg")
    assert (c.status, c.reason, c.unparsed) == ("partial", "truncated: banner motd is not closed", [(2, 4)])


def test_unknown_and_empty_and_unreadable_are_rejected(tmp_path: Path) -> None:
    assert parse_config("lorem ipsum\ndolor sit amet\n", "x").reason == "platform not recognised"
    assert parse_config(b"", "x").reason == "empty file"
    bad = parse_config("hostname r1\n", "x", platform="vyos")
    assert bad.status == "rejected" and "is not one of" in (bad.reason or "")
    missing = read_config(tmp_path / "nope.cfg")
    assert missing.status == "rejected" and (missing.reason or "").startswith("unreadable:")


def test_platform_override_and_encodings() -> None:
    text = "hostname n9k\nlogging server 10.1.1.1 use-vrf management\n"
    forced = parse_config(text, "x", platform="nxos")
    assert forced.platform == "nxos"
    assert [(s.address, s.vrf) for s in forced.logging_hosts] == [("10.1.1.1", "management")]
    utf16 = parse_config(codecs.BOM_UTF16_LE + "hostname r1\r\nntp server 10.0.0.1\r\n".encode("utf-16-le"), "x")
    assert (utf16.platform, utf16.hostname, utf16.text_lines) == ("ios", "r1", ["hostname r1", "ntp server 10.0.0.1"])
    latin = parse_config("hostname r1\ninterface Gi0\n description caf\xe9\n".encode("latin-1"), "x")
    assert latin.interfaces[0].description == "café" and latin.status == "parsed"


# -- statements in isolation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("permit 10.0.0.0 0.0.0.255", ("permit", None, "10.0.0.0/24", None, None, None)),
        ("deny host 192.0.2.1 log", ("deny", None, "192.0.2.1/32", None, None, None)),
        ("10 permit tcp any any eq 49", ("permit", "tcp", "any", "any", None, "eq 49")),
        ("permit tcp any eq tacacs host 10.1.1.1", ("permit", "tcp", "any", "10.1.1.1/32", "eq tacacs", None)),
        ("permit udp 10.0.0.0/8 any range 1000 2000", ("permit", "udp", "10.0.0.0/8", "any", None, "range 1000 2000")),
        ("permit ip 10.0.0.0 0.0.255.0 any", ("permit", "ip", "10.0.0.0 0.0.255.0", "any", None, None)),
        ("permit tcp object-group NETS any eq www 443", ("permit", "tcp", "NETS", "any", None, "eq www 443")),
    ],
)
def test_acl_entries(line: str, expected: tuple) -> None:
    standard = line.split()[1][0].isdigit() or line.split()[1] == "host"
    entry = acl_entry(line.split(), 7, line, standard, netmask=False)
    assert entry is not None
    got = (entry.action, entry.protocol, entry.source, entry.destination, entry.source_port, entry.destination_port)
    assert got == expected
    assert entry.lines == (7,)


def test_masks_and_ports() -> None:
    assert [mask_length(m) for m in ("255.255.255.0", "255.255.255.255", "0.0.0.0", "255.0.255.0")] == [24, 32, 0, None]
    assert [wildcard_length(w) for w in ("0.0.0.255", "0.0.0.0", "0.15.255.255", "0.0.255.0")] == [24, 32, 12, None]
    assert ports_of("eq 49") == (49,)
    assert ports_of("eq tacacs www") == (49, 80)
    assert ports_of("range 45 50") == (45, 46, 47, 48, 49, 50)
    assert ports_of("range 1 65535") == (1, 22, 23, 49, 161, 162, 179, 514, 830, 1645, 1646, 1812, 1813, 65535)
    assert ports_of("neq 49") == () and ports_of(None) == ()


def test_banner_delimiters() -> None:
    one_line = parse_config("hostname r\nbanner login #Keep out#\n", "x")
    assert [(b.kind, b.text, b.lines) for b in one_line.banners] == [("login", "Keep out", (2,))]
    etx = parse_config("hostname r\nbanner exec \x03\nline one\nline two\x03\n", "x")
    assert etx.status == "parsed"
    assert [(b.kind, b.text, b.lines) for b in etx.banners] == [("exec", "line one\nline two", (2, 3, 4))]


def test_single_line_statement_forms() -> None:
    text = (
        "hostname sw1\n"
        "monitor session 1 source interface Gi1/0/1 , Gi1/0/2 rx\n"
        "monitor session 1 destination remote vlan 900\n"
        "monitor session 3 source remote vlan 900\n"
        "monitor session 3 destination interface Gi1/0/48\n"
        "radius server ISE-R\n"
        " address ipv4 10.1.1.9 auth-port 1812 acct-port 1813\n"
        " key 7 0822455D0A16544541\n"
        "tacacs-server host 10.1.1.8 key cisco123\n"
        "tftp-server flash:/c2960.bin 15\n"
        "ip http secure-server\n"
        "ip http secure-port 8443\n"
        "ip http access-class ipv4 WEB-ACL\n"
    )
    c = parse_config(text, "sw1.cfg")
    assert [(m.session, m.kind, m.sources, m.destination) for m in c.monitor_sessions] == [
        ("1", "rspan", ("Gi1/0/1", "Gi1/0/2"), "remote vlan 900"),
        ("3", "rspan", ("remote vlan 900",), "Gi1/0/48"),
    ]
    assert [(s.protocol, s.address, s.port, s.key_type) for s in c.aaa_servers] == [
        ("radius", "10.1.1.9", 1812, "7"),
        ("tacacs", "10.1.1.8", None, "0"),
    ]
    assert [(s.name, s.ports, s.acl) for s in c.services] == [("tftp", (), "15"), ("https", (8443,), "WEB-ACL")]
    xr = parse_config("username ops group root-lr secret 10 $6$abc$def\n", "xr.cfg", platform="iosxr")
    assert [(u.name, u.role, u.privilege, u.secret_type) for u in xr.users] == [("ops", "root-lr", 15, "10")]


def test_junos_analyzer_ip_tunnel_and_inactive_blocks() -> None:
    flat = parse_config(
        "set system host-name j1\n"
        "set forwarding-options analyzer TAP input ingress interface ge-0/0/1.0\n"
        "set forwarding-options analyzer TAP output interface ge-0/0/9.0\n"
        "set interfaces ip-0/0/0 unit 0 tunnel source 10.0.0.1\n"
        "set interfaces ip-0/0/0 unit 0 tunnel destination 10.0.0.2\n"
        "set system services web-management https port 8443\n"
        "set system ntp server 10.0.0.5 prefer key 2\n",
        "j1.set",
    )
    assert [(m.session, m.kind, m.sources, m.destination) for m in flat.monitor_sessions] == [
        ("TAP", "span", ("ge-0/0/1.0",), "ge-0/0/9.0")
    ]
    assert [(t.name, t.mode, t.destination) for t in flat.tunnels] == [("ip-0/0/0.0", "ipip", "10.0.0.2")]
    assert [(s.name, s.ports) for s in flat.services] == [("https", (8443,))]
    assert [(s.address, s.key) for s in flat.ntp_servers] == [("10.0.0.5", "2")]
    braces = parse_config(
        "system {\n"
        "    host-name j1;\n"
        "    inactive: syslog {\n"
        "        host 10.9.9.9 { any any; }\n"
        "    }\n"
        "    login { user bob { class super-user; } }\n"
        "}\n",
        "j1.conf",
    )
    assert (braces.status, braces.logging_hosts) == ("parsed", [])
    assert [(u.name, u.privilege, u.lines) for u in braces.users] == [("bob", 15, (6,))]


def test_carriage_return_line_ends() -> None:
    c = parse_config(b"hostname r1\rntp server 10.0.0.1\r", "mac.cfg")
    assert (c.platform, c.hostname, [s.address for s in c.ntp_servers]) == ("ios", "r1", ["10.0.0.1"])


def test_junos_items_in_a_named_block_quote_the_line_that_names_them() -> None:
    """Evidence for a syslog host shows ``host 10.80.5.20 {`` as well as what is inside it."""
    path = CONFIGS / "junos_router.conf"
    lines = path.read_text().splitlines()
    config = read_config(path)
    (host,) = config.logging_hosts
    assert lines[host.lines[0] - 1].strip() == "host 10.80.5.20 {"
    tacacs = next(s for s in config.aaa_servers if s.address == "10.80.0.41")
    assert lines[tacacs.lines[0] - 1].strip() == "10.80.0.41 {"
    # the set form has no blocks: one line per statement, as before
    (set_host,) = read_config(CONFIGS / "junos_router.set").logging_hosts
    assert all("10.80.5.20" in (CONFIGS / "junos_router.set").read_text().splitlines()[n - 1] for n in set_host.lines)


def test_iosxr_snmp_hosts_under_a_vrf_are_read() -> None:
    """Found by a blind test: trap hosts under "snmp-server vrf" were not read at all."""
    text = "!! IOS XR Configuration 7.5.2\nhostname pe1\nsnmp-server vrf MGMT\n host 203.0.113.99 traps version 2c public\n!\nend\n"
    (host,) = parse_config(text, "pe1.cfg").snmp_hosts
    assert (host.address, host.version, host.community_or_user, host.lines) == ("203.0.113.99", "v2c", "public", (4,))


def test_junos_snmp_client_lists_are_the_communities_acls() -> None:
    """Clients of a community (or a named client-list) become ACL entries, so the
    management-range checks see a permitted outside address (found by a blind test)."""
    text = (
        "set system host-name mx1\n"
        "set snmp community public clients 192.0.2.0/26\n"
        "set snmp community public clients 203.0.113.66/32\n"
        "set snmp community public clients 0.0.0.0/0 restrict\n"
        "set snmp client-list NMS 192.0.2.40/32\n"
        "set snmp community ops client-list-name NMS\n"
    )
    config = parse_config(text, "mx1.set")
    acls = {c.community: config.acl(c.acl) for c in config.snmp_communities}
    assert [(e.action, e.source, e.lines) for e in acls["public"].entries] == [
        ("permit", "192.0.2.0/26", (2,)),
        ("permit", "203.0.113.66/32", (3,)),
        ("deny", "0.0.0.0/0", (4,)),
    ]
    assert [e.source for e in acls["ops"].entries] == ["192.0.2.40/32"]
