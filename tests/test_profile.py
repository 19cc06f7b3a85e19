"""The site profile: declarations read strictly (a typo is an error), asked about simply."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from seawall.detect.profile import ANY, SiteProfile, to_network
from seawall.errors import ContentError

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "site-profile.yaml"


@pytest.fixture(scope="module")
def profile() -> SiteProfile:
    return SiteProfile.load(EXAMPLE)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    return path


def test_example_profile_loads(profile: SiteProfile) -> None:
    assert profile.name == "example-telco"
    assert profile.approved_admins == {"netops", "break-glass"}
    assert {h.name: h.role for h in profile.sensitive_hosts} == {
        "li-mediation-1": "li",
        "cdr-store": "cdr",
        "noc-jump-1": "jump",
    }
    assert all(profile.declares(k) for k in ("management", "internal", "infrastructure", "syslog", "tunnel_peers"))


@pytest.mark.parametrize(
    ("address", "kind", "inside"),
    [
        ("192.0.2.7", "management", True),
        ("192.0.2.64", "management", False),
        ("192.0.2.0/27", "management", True),  # a network wholly inside
        ("192.0.2.0/24", "management", False),  # larger than the range
        ("host 192.0.2.9", "management", True),
        ("192.0.2.0 0.0.0.31", "management", True),  # IOS wildcard
        ("192.0.2.0 255.255.255.224", "management", True),  # netmask
        ("any", "management", False),
        ("2001:db8:100::1", "management", True),
        ("2001:db8:200::1", "management", False),
        ("10.255.3.1/32", "infrastructure", True),
        ("10.3.3.3", "internal_ranges", True),
        ("MGMT-HOSTS", "management", False),  # an object-group: not an address
        (ipaddress.ip_address("192.0.2.1"), "management", True),
    ],
)
def test_in_ranges(profile: SiteProfile, address: object, kind: str, inside: bool) -> None:
    assert profile.in_ranges(address, kind) is inside


def test_in_ranges_rejects_unknown_kind(profile: SiteProfile) -> None:
    with pytest.raises(ValueError, match="unknown range kind"):
        profile.in_ranges("10.0.0.1", "managment")


def test_approved_servers_by_role(profile: SiteProfile) -> None:
    assert profile.approved("tacacs", "192.0.2.10")
    assert profile.approved("aaa", "192.0.2.11")  # aaa: any of the AAA lists
    assert not profile.approved("radius", "192.0.2.10")  # a TACACS+ server is not a RADIUS one
    assert profile.approved("syslog", "LOGS.example.net.")  # host names compare case-insensitively
    assert not profile.approved("syslog", "192.0.2.10")
    assert profile.approved("tunnel_peers", "10.255.10.7")
    assert profile.contains("syslog", "object-group MGMT") is None  # neither address nor host name: unknown
    assert profile.contains("syslog", "collector7") is False  # a host name the profile does not list
    assert profile.contains("management", "MGMT-HOSTS") is None  # ranges hold addresses only
    assert profile.contains("approved_admins", "netops") is True
    assert profile.contains("sensitive_hosts", "10.20.0.5/24") is True  # an interface address: its host
    assert profile.contains("sensitive_hosts", "10.20.1.3") is True  # inside the CDR store's /28


def test_aaa_list_counts_for_both_protocols(tmp_path: Path) -> None:
    p = SiteProfile.load(write(tmp_path, "approved_servers:\n  aaa: [10.0.0.1]\n"))
    assert p.approved("tacacs", "10.0.0.1") and p.approved("radius", "10.0.0.1")
    assert p.declares("tacacs") and p.declares("radius") and not p.declares("syslog")


def test_empty_list_declares_none_approved(tmp_path: Path) -> None:
    p = SiteProfile.load(write(tmp_path, "approved_servers:\n  radius: []\ntunnel_peers: []\n"))
    assert p.declares("radius") and p.declares("tunnel_peers") and p.declares("aaa")
    assert not p.declares("management")
    assert not p.approved("radius", "10.0.0.1")


def test_empty_profile_declares_nothing(tmp_path: Path) -> None:
    for p in (SiteProfile.empty(), SiteProfile.load(write(tmp_path, ""))):
        assert not any(
            p.declares(k) for k in ("management", "aaa", "syslog", "tunnel_peers", "approved_admins", "sensitive_hosts")
        )
        assert not p.in_ranges("10.0.0.1", "management")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("managment_ranges: [10.0.0.0/8]\n", "unknown key managment_ranges"),
        ("approved_servers:\n  sylog: [10.0.0.1]\n", "unknown key approved_servers.sylog"),
        ("management_ranges: [10.0.0.300/24]\n", "management_ranges[0]: '10.0.0.300/24' is not an address or CIDR"),
        ("management_ranges: [10.0.0.0/33]\n", "management_ranges[0]"),
        (
            "management_ranges: [mgmt.example.net]\n",
            "management_ranges[0]: 'mgmt.example.net' is not an address or CIDR",
        ),
        (
            "approved_servers:\n  syslog: [10.0.0.1, 10.0.0.256]\n",
            "approved_servers.syslog[1]: '10.0.0.256' is not an address, CIDR or host name",
        ),
        ("approved_admins: netops\ntunnel_peers: {a: 1}\n", "tunnel_peers: expected a list of non-empty strings"),
        (
            "sensitive_hosts:\n  li1: {address: 10.0.0.1, role: lawful}\n",
            "sensitive_hosts.li1.role: 'lawful' is not one of li, cdr, jump",
        ),
        ("sensitive_hosts:\n  li1: {address: 10.0.0.x, role: li}\n", "sensitive_hosts.li1.address"),
        ("sensitive_hosts:\n  li1: {adress: 10.0.0.1, role: li}\n", "unknown key sensitive_hosts.li1.adress"),
        ("- 10.0.0.0/8\n", "expected a mapping of declarations"),
        ("management_ranges: [10.0.0.0/8\n", "not valid YAML"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ContentError) as error:
        SiteProfile.load(path)
    assert message in str(error.value)
    assert str(error.value).startswith(str(path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="cannot read site profile"):
        SiteProfile.load(tmp_path / "absent.yaml")


def test_to_network_forms() -> None:
    assert to_network("any") is ANY
    assert to_network("0.0.0.0 255.255.255.255") == ipaddress.ip_network("0.0.0.0/0")
    assert to_network("10.1.0.0 0.0.255.255") == ipaddress.ip_network("10.1.0.0/16")
    assert to_network("10.1.0.0 255.255.0.0") == ipaddress.ip_network("10.1.0.0/16")
    assert to_network("10.1.2.3 0.0.0.0") == ipaddress.ip_network("10.1.2.3/32")
    assert to_network("10.1.0.0 0.255.0.255") is None  # a non-contiguous wildcard: not a network
    assert to_network("fe80::1%Gi0/0") == ipaddress.ip_network("fe80::1/128")
    assert to_network("Loopback0") is None and to_network(None) is None


def test_answers_are_remembered_but_stay_correct(profile: SiteProfile) -> None:
    for _ in range(3):
        assert profile.in_ranges("192.0.2.7", "management") is True
        assert profile.approved("syslog", "192.0.2.7") is False
