"""What a device configuration says, in one shape for every platform.

Parsers (one per platform family) fill a ``DeviceConfig``; the check catalog and drift
read only this model, so a check written once applies to IOS, NX-OS, IOS XR, Junos and
EOS alike. Every item keeps the 1-based numbers of the configuration lines that state
it, so a finding can quote the exact lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

PLATFORMS = ("ios", "nxos", "iosxr", "junos", "eos", "asa")
STATUSES = ("parsed", "partial", "rejected")


@dataclass(frozen=True)
class Item:
    """A fact of the configuration and the lines that state it."""

    lines: tuple[int, ...] = ()

    def facts(self) -> dict[str, Any]:
        """The item's fields except its line numbers: what checks and drift compare."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "lines"}


@dataclass(frozen=True)
class User(Item):
    name: str = ""
    privilege: int | None = None  # IOS privilege 0-15; Junos super-user class maps to 15
    role: str | None = None  # NX-OS/EOS role, Junos class, IOS XR group
    secret_type: str | None = None  # "0" clear, "5" md5, "7" vigenere, "8" pbkdf2, "9" scrypt, "sha512"...
    secret_kind: str | None = None  # "secret" or "password" (the keyword used)


@dataclass(frozen=True)
class AaaServer(Item):
    protocol: str = ""  # "tacacs" or "radius"
    address: str = ""
    port: int | None = None
    key_type: str | None = None  # "0", "7", "6", "encrypted", None when no key is set
    vrf: str | None = None


@dataclass(frozen=True)
class Line(Item):
    kind: str = ""  # "vty", "console", "aux"
    first: int = 0
    last: int = 0
    transport_input: tuple[str, ...] = ()  # ("ssh",), ("telnet", "ssh"), ("all",), ("none",); () = platform default
    transport_output: tuple[str, ...] = ()
    access_class_in: str | None = None
    access_class_out: str | None = None


@dataclass(frozen=True)
class AclEntry(Item):
    sequence: int | None = None
    action: str = ""  # "permit", "deny", "remark"
    protocol: str | None = None
    source: str | None = None  # "any", "host a.b.c.d" normalised to "a.b.c.d/32", CIDR, or an object-group name
    destination: str | None = None
    destination_port: str | None = None  # "eq 22", "range 1 100" as written, normalised to lower case
    text: str = ""  # the entry as written, stripped
    source_port: str | None = None  # like destination_port: "permit tcp any eq 49 any" matches replies from TACACS+


@dataclass(frozen=True)
class Acl(Item):
    name: str = ""  # "20", "MGMT-IN"; Junos firewall filter name
    kind: str = ""  # "standard", "extended", "ipv6", "filter"
    entries: tuple[AclEntry, ...] = ()


@dataclass(frozen=True)
class SnmpCommunity(Item):
    community: str = ""
    access: str | None = None  # "ro", "rw"
    acl: str | None = None


@dataclass(frozen=True)
class SnmpGroup(Item):
    name: str = ""
    version: str = ""  # "v1", "v2c", "v3"
    level: str | None = None  # v3: "noauth", "auth", "priv"
    acl: str | None = None


@dataclass(frozen=True)
class SnmpHost(Item):
    address: str = ""
    version: str | None = None
    community_or_user: str | None = None


@dataclass(frozen=True)
class Server(Item):
    """A host the device sends to or syncs with: logging host, NTP server."""

    address: str = ""
    port: int | None = None
    vrf: str | None = None
    key: str | None = None  # NTP key id, when the server line names one


@dataclass(frozen=True)
class Service(Item):
    """A management service the device offers: SSH, HTTP, HTTPS, Telnet, FTP/TFTP server..."""

    name: str = ""  # "ssh", "http", "https", "telnet", "ftp", "tftp", "netconf"
    enabled: bool = True
    ports: tuple[int, ...] = ()  # empty = the protocol's default port
    version: str | None = None  # SSH version when configured ("2", "1")
    source_interface: str | None = None
    acl: str | None = None


@dataclass(frozen=True)
class Feature(Item):
    """A switch with a state: vstack, guestshell, iox, app-hosting, cdp, lldp, source-route,
    password-encryption, ntp-authenticate, aaa-new-model, archive-logging ..."""

    name: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class Tunnel(Item):
    name: str = ""  # interface name, or crypto map / IPsec peer name
    mode: str = ""  # "gre", "mgre", "ipsec", "ipip", "vxlan", "gre-ipv6" ...
    source: str | None = None  # address or interface
    destination: str | None = None  # address; None for mGRE


@dataclass(frozen=True)
class StaticRoute(Item):
    prefix: str = ""
    next_hop: str | None = None
    vrf: str | None = None


@dataclass(frozen=True)
class MonitorSession(Item):
    """A SPAN/RSPAN/ERSPAN session: where copied traffic goes."""

    session: str = ""
    kind: str = ""  # "span", "rspan", "erspan-source", "erspan-destination"
    sources: tuple[str, ...] = ()
    destination: str | None = None  # interface, RSPAN VLAN, or ERSPAN destination address
    filter: str | None = None  # ACL name when the session filters


@dataclass(frozen=True)
class PacketCapture(Item):
    """An embedded packet capture (``monitor capture``), with what it matches."""

    name: str = ""
    interface: str | None = None
    match: str | None = None  # "ipv4 any any", "access-list CAP", or the Junos filter term
    acl: str | None = None
    ports: tuple[int, ...] = ()  # ports the match names (49 = TACACS+)


@dataclass(frozen=True)
class Interface(Item):
    name: str = ""
    addresses: tuple[str, ...] = ()  # CIDR, "10.0.0.1/32"
    description: str | None = None
    shutdown: bool = False
    vrf: str | None = None


@dataclass(frozen=True)
class RoutingProtocol(Item):
    name: str = ""  # "ospf 1", "bgp 65000", "isis CORE", "eigrp 10"
    authenticated: bool = False
    neighbors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Banner(Item):
    kind: str = ""  # "motd", "login", "exec"
    text: str = ""


@dataclass
class DeviceConfig:
    """One configuration file, parsed."""

    path: str
    platform: str | None  # one of PLATFORMS, None when not recognised
    text_lines: list[str]  # the file's lines, as read; line n is text_lines[n - 1]
    hostname: str | None = None
    status: str = "parsed"  # one of STATUSES
    reason: str | None = None  # why rejected, or what partial means here
    unparsed: list[tuple[int, int]] = field(default_factory=list)  # inclusive line ranges no parser rule read
    users: list[User] = field(default_factory=list)
    aaa_servers: list[AaaServer] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    acls: list[Acl] = field(default_factory=list)
    snmp_communities: list[SnmpCommunity] = field(default_factory=list)
    snmp_groups: list[SnmpGroup] = field(default_factory=list)
    snmp_hosts: list[SnmpHost] = field(default_factory=list)
    logging_hosts: list[Server] = field(default_factory=list)
    ntp_servers: list[Server] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    features: list[Feature] = field(default_factory=list)
    tunnels: list[Tunnel] = field(default_factory=list)
    static_routes: list[StaticRoute] = field(default_factory=list)
    monitor_sessions: list[MonitorSession] = field(default_factory=list)
    packet_captures: list[PacketCapture] = field(default_factory=list)
    interfaces: list[Interface] = field(default_factory=list)
    routing: list[RoutingProtocol] = field(default_factory=list)
    banners: list[Banner] = field(default_factory=list)
    enable_secrets: list[User] = field(default_factory=list)  # ``enable secret/password``: name "enable"

    def feature(self, name: str) -> Feature | None:
        """The last statement of a feature switch, or None when the configuration is silent."""
        found = [f for f in self.features if f.name == name]
        return found[-1] if found else None

    def service(self, name: str) -> list[Service]:
        return [s for s in self.services if s.name == name]

    def acl(self, name: str) -> Acl | None:
        return next((a for a in self.acls if a.name == name), None)

    def text(self, lines: tuple[int, ...]) -> list[tuple[int, str]]:
        """(number, text) of the given line numbers, for evidence."""
        return [(n, self.text_lines[n - 1]) for n in lines if 0 < n <= len(self.text_lines)]


COLLECTIONS = tuple(
    f.name
    for f in fields(DeviceConfig)
    if f.name not in ("path", "platform", "text_lines", "hostname", "status", "reason", "unparsed")
)
