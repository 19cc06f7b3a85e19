"""IOS, IOS XE, NX-OS, IOS XR, EOS and ASA configurations: one indentation-hierarchy parser.

All six print a statement per line and nest a block's statements under its header by
indentation, and they share most of the vocabulary, so one parser reads them all and
branches on the platform only where the syntax differs (``vrf member`` against ``vrf
forwarding``, a netmask against a wildcard, IOS XR's ``line template`` + ``vty-pool``).

Why not ciscoconfparse: it builds an object per line and a parent/child graph before a
question is asked, which costs tens of microseconds a line, and it answers per vendor;
an audit of a thousand 2,000-line configurations must parse at hundreds of thousands of
lines a second, and the checks want one model for every platform. So this is one pass
over the lines: a dictionary dispatch on a top-level statement's first word, handlers
that read their own block's lines, no regular expression per line, and statements that
are not modelled cost one ``split`` and one dictionary miss.
"""

from __future__ import annotations

from collections.abc import Callable

from seawall.sources.configs.common import (
    PORT_OPERATORS,
    Builder,
    host_prefix,
    is_ip,
    is_ipv4,
    is_prefix,
    maker,
    port_number,
    ports_of,
    with_mask,
    with_wildcard,
)
from seawall.sources.configs.model import (
    AaaServer,
    Acl,
    AclEntry,
    Banner,
    DeviceConfig,
    Feature,
    Interface,
    Line,
    MonitorSession,
    PacketCapture,
    RoutingProtocol,
    Server,
    Service,
    SnmpCommunity,
    SnmpGroup,
    SnmpHost,
    StaticRoute,
    Tunnel,
    User,
)

Handler = Callable[["IosParser", int, list[str]], int]

# Statements that switch a feature, as their words; "no " before them turns it off.
FEATURES: dict[tuple[str, ...], str] = {
    ("aaa", "new-model"): "aaa-new-model",
    ("cdp", "run"): "cdp",
    ("cdp", "enable"): "cdp",  # NX-OS global
    ("cdp",): "cdp",  # IOS XR global
    ("lldp", "run"): "lldp",
    ("lldp",): "lldp",  # IOS XR global
    ("ip", "source-route"): "source-route",
    ("ipv6", "source-route"): "ipv6-source-route",
    ("service", "password-encryption"): "password-encryption",
    ("service", "tcp-small-servers"): "tcp-small-servers",
    ("service", "udp-small-servers"): "udp-small-servers",
    ("service", "finger"): "finger",
    ("ip", "finger"): "finger",
    ("service", "pad"): "pad",
    ("service", "internal"): "service-internal",
    ("ip", "bootp", "server"): "bootp-server",
    ("ntp", "authenticate"): "ntp-authenticate",
    ("vstack",): "vstack",
    ("iox",): "iox",
    ("guestshell", "enable"): "guestshell",
}
_FEATURE_WORDS = max(map(len, FEATURES))
_SECRET_TYPES = frozenset({"0", "4", "5", "6", "7", "8", "9", "10", "sha512", "sha256", "md5"})
_KEY_TYPES = frozenset({"0", "6", "7", "8", "encrypted"})
_ADMIN_ROLES = frozenset({"network-admin", "vdc-admin", "root-lr", "root-system", "priv-15"})
_XR_GROUP_RANK = ("root-system", "root-lr", "netadmin", "sysadmin", "serviceadmin", "operator", "cisco-support")
_ROUTING = frozenset({"ospf", "ospfv3", "bgp", "isis", "eigrp", "rip"})
_AUTH_WORDS = ("authentication", "password", "message-digest", "key-chain", "keychain")
_TUNNEL_MODES = {
    "gre ip": "gre",
    "gre ipv4": "gre",
    "gre": "gre",
    "gre multipoint": "mgre",
    "gre ipv6": "gre-ipv6",
    "ipsec ipv4": "ipsec",
    "ipsec ipv6": "ipsec-ipv6",
    "ipip": "ipip",
    "ipv6ip": "ipv6ip",
    "vxlan": "vxlan",
}
_LINE_KINDS = {"vty": "vty", "con": "console", "console": "console", "aux": "aux", "tty": "tty"}
_BANNER_KINDS = frozenset({"motd", "login", "exec", "incoming", "prompt-timeout", "slip-ppp", "config-save"})
_IF_WORDS = frozenset(
    {"ip", "ipv4", "ipv6", "description", "shutdown", "no", "vrf", "tunnel", "monitor-session", "nameif"}
)
_DIRECTIONS = frozenset({"rx", "tx", "both", "ingress", "egress"})


def parse_ios(lines: list[str], config: DeviceConfig) -> None:
    """Fill ``config`` (platform already set) from the lines of a Cisco-family file."""
    IosParser(lines, config).run()


class IosParser:
    """One file's parse: the lines, what has been gathered, and what is settled at the end."""

    def __init__(self, lines: list[str], config: DeviceConfig) -> None:
        self.lines = lines
        self.config = config
        self.platform = config.platform or "ios"
        self.asa = self.platform == "asa"
        self.b = Builder()
        self.saw_end = False
        self.last_block = 1  # 1-based line of the last top-level statement
        self.banner_spans: list[tuple[int, int]] = []
        self.xr_templates: dict[str, tuple[dict, list[int]]] = {}
        self.xr_pools: list[tuple[str, int, int, str, int]] = []
        self.xr_monitor_sources: dict[str, list[tuple[str, int]]] = {}
        self.capture_acls: dict[str, str] = {}
        self.global_keys: dict[str, tuple[str, int]] = {}
        self.aaa_groups: list[tuple[list[str], str]] = []
        self.named_servers: dict[str, tuple[str, str]] = {}
        self.interface_auth: set[str] = set()
        self.http_acl: tuple[str, int] | None = None
        self.crypto_local: dict[str, str] = {}
        self.asa_names: dict[str, str] = {}
        self.asa_aaa_groups: dict[str, str] = {}

    # -- the pass ----------------------------------------------------------------------

    def run(self) -> None:
        lines = self.lines
        n = len(lines)
        top = _TOP
        i = 0
        while i < n:
            line = lines[i]
            if not line or line[0] in " \t!":
                i += 1
                continue
            words = line.split()
            handler = top.get(words[0]) if words else None
            if handler is None:
                i += 1
                continue
            self.last_block = i + 1
            i = handler(self, i, words)
        self.settle()

    def block_end(self, i: int) -> int:
        """The index after the block whose header is line index ``i``."""
        lines = self.lines
        n = len(lines)
        j = i + 1
        while j < n:
            line = lines[j]
            if line and line[0] not in " \t":
                break
            j += 1
        return j

    def children(self, i: int) -> tuple[int, list[tuple[int, int, list[str]]]]:
        """The block under line index ``i``: (end, [(line number, indent, words)])."""
        end = self.block_end(i)
        out = []
        lines = self.lines
        for j in range(i + 1, end):
            line = lines[j]
            stripped = line.lstrip()
            if not stripped or stripped[0] == "!":
                continue
            out.append((j + 1, len(line) - len(stripped), stripped.split()))
        return end, out

    def problem(self, reason: str, first: int, last: int) -> None:
        """Lines ``first``..``last`` could not be read as configuration; the parse is partial."""
        config = self.config
        config.status = "partial"
        config.reason = f"{config.reason}; {reason}" if config.reason else reason
        config.unparsed.append((first, last))

    def feature(self, number: int, name: str, enabled: bool) -> None:
        self.b.put("features", (number, name), Feature, number, name=name, enabled=enabled)

    def service(self, number: int, name: str, **facts: object) -> dict:
        """Amend the service ``name`` (one item per service, whatever lines state it)."""
        existing = self.b.get("services", name)
        if existing is None:
            return self.b.put("services", name, Service, number, name=name, **facts)
        existing.update({k: v for k, v in facts.items() if v is not None})
        self.b.add_line("services", name, number)
        return existing

    # -- what is settled once every line is read ---------------------------------------

    def settle(self) -> None:
        """What one statement says about another's item: a capture's ACL, a group's VRF..."""
        b = self.b
        self._settle_xr_lines()
        self._settle_monitor_sessions()
        for name, acl in self.capture_acls.items():
            facts, acl_facts = b.get("packet_captures", name), b.get("acls", acl)
            if facts is not None and acl_facts is not None and not facts.get("ports"):
                permits = [e for e in acl_facts["entries"] if e.action == "permit"]
                ports = {p for e in permits for p in (*ports_of(e.destination_port), *ports_of(e.source_port))}
                facts["ports"] = tuple(sorted(ports))
        self._settle_aaa()
        for facts in b.facts("routing"):
            if facts["name"].split()[0] in self.interface_auth:  # ``ip ospf authentication`` on interfaces
                facts["authenticated"] = True
        if self.http_acl is not None:
            for name in ("http", "https"):
                facts = b.get("services", name)
                if facts is not None and facts.get("acl") is None:
                    facts["acl"] = self.http_acl[0]
                    b.add_line("services", name, self.http_acl[1])
        for facts in b.facts("tunnels"):
            if facts["mode"] == "ipsec" and facts.get("source") is None:
                facts["source"] = self.crypto_local.get(facts["name"].split()[0])
        b.finish(self.config)
        self._check_end()

    def _settle_aaa(self) -> None:
        """Global keys cover servers without their own; a server group's VRF covers its members."""
        b = self.b
        for key in b.keys("aaa_servers"):
            facts = b.get("aaa_servers", key) or {}
            default = self.global_keys.get(facts["protocol"])
            if facts.get("key_type") is None and default is not None:
                facts["key_type"] = default[0]
                b.add_line("aaa_servers", key, default[1])
        servers = b.facts("aaa_servers")
        for members, vrf in self.aaa_groups:
            for member in members:
                protocol, address = self.named_servers.get(member, ("", member))
                for facts in servers:
                    if facts["address"] == address and (not protocol or facts["protocol"] == protocol):
                        facts["vrf"] = facts.get("vrf") or vrf

    def _settle_xr_lines(self) -> None:
        if self.platform != "iosxr":
            return
        pools = list(self.xr_pools)
        if not any(p[0] == "default" for p in pools) and "default" in self.xr_templates:
            pools.insert(0, ("default", 0, 4, "default", 0))  # the vty pool IOS XR always has
        for _pool, first, last, template, number in pools:
            attrs, numbers = self.xr_templates.get(template, ({}, []))
            used = [*numbers, number] if number else list(numbers)
            if not used:
                continue
            self.b.put("lines", ("vty", first), Line, used[0], kind="vty", first=first, last=last, **attrs)
            self.b.add_line("lines", ("vty", first), *used[1:])

    def _settle_monitor_sessions(self) -> None:
        b = self.b
        for session, sources in self.xr_monitor_sources.items():
            facts = b.get("monitor_sessions", session)
            if facts is None:
                facts = b.put("monitor_sessions", session, MonitorSession, sources[0][1], session=session, kind="span")
            facts.setdefault("sources", [])
            for name, number in sources:
                facts["sources"].append(name)
                b.add_line("monitor_sessions", session, number)
        tunnels = {t["name"]: t for t in b.facts("tunnels")}
        for facts in b.facts("monitor_sessions"):
            tunnel = tunnels.get(facts.get("destination"))
            if tunnel is not None and tunnel.get("destination"):
                facts["destination"] = tunnel["destination"]
                facts["kind"] = "erspan-source"

    def _check_end(self) -> None:
        """A file whose header says it is a full ``show running-config`` must reach ``end``."""
        config = self.config
        head = "\n".join(self.lines[:6])
        promised = (
            "Building configuration" in head
            or "Current configuration :" in head
            or "!! IOS XR Configuration" in head
            or "! device: " in head
            or (self.asa and ": Saved" in head)
        )
        if promised and not self.saw_end and self.lines and config.status != "partial":
            self.problem("truncated: the file has no closing 'end'", self.last_block, len(self.lines))


# -- identity and accounts ---------------------------------------------------------------


def _hostname(p: IosParser, i: int, w: list[str]) -> int:
    if len(w) > 1:
        p.config.hostname = w[1]
    return i + 1


# IOS type numbers of crypt-style hashes written without their type
_HASH_TYPES = {"$1$": "5", "$8$": "8", "$9$": "9", "$6$": "sha512", "$5$": "sha256"}


def _infer_secret_type(value: str) -> str:
    return _HASH_TYPES.get(value[:3], "0")


def _secret(w: list[str], k: int) -> tuple[str | None, int]:
    """The type of the secret whose keyword is ``w[k]``, and the index after it."""
    rest = len(w) - k - 1
    if rest >= 2 and w[k + 1] in _SECRET_TYPES:
        kind, nk = w[k + 1], k + 3
    elif rest >= 1:
        kind, nk = _infer_secret_type(w[k + 1]), k + 2
    else:
        return None, k + 1
    if nk < len(w) and w[nk] in ("encrypted", "pbkdf2", "nt-encrypted"):  # ASA
        kind, nk = w[nk], nk + 1
    return kind, nk


def _account(w: list[str], k: int, facts: dict) -> list[str]:
    """Read a username's (or enable's) attributes from ``w[k:]`` into ``facts``; returns XR groups."""
    groups: list[str] = []
    n = len(w)
    while k < n:
        word = w[k]
        if word in ("privilege", "level") and k + 1 < n and w[k + 1].isdecimal():
            facts["privilege"] = int(w[k + 1])
            k += 2
        elif word == "role" and k + 1 < n:
            facts.setdefault("role", w[k + 1])
            k += 2
        elif word == "group" and k + 1 < n:
            groups.append(w[k + 1])
            k += 2
        elif word in ("secret", "password"):
            facts["secret_type"], k = _secret(w, k)
            facts["secret_kind"] = word
        elif word == "algorithm-type" and k + 1 < n:
            facts["secret_type"] = {"scrypt": "9", "sha256": "8", "md5": "5"}.get(w[k + 1], w[k + 1])
            facts["secret_kind"] = "secret"
            k += 4 if k + 2 < n and w[k + 2] == "secret" else 2  # algorithm-type X secret VALUE
        elif word in ("encrypted", "pbkdf2", "nt-encrypted") and facts.get("secret_kind"):  # ASA
            facts["secret_type"] = word
            k += 1
        elif word == "nopassword":
            facts.setdefault("secret_kind", "nopassword")
            k += 1
        elif word in ("view", "autocommand", "sshkey", "expire", "format", "shell"):
            break
        else:
            k += 1
    return groups


def _username(p: IosParser, i: int, w: list[str]) -> int:
    if len(w) < 2 or (len(w) > 2 and w[2] == "attributes"):
        return p.block_end(i) if len(w) > 2 else i + 1
    name = w[1]
    facts: dict = {}
    groups = _account(w, 2, facts)
    used = [i + 1]
    end = i + 1
    if p.platform == "iosxr":
        end, children = p.children(i)
        for number, _indent, cw in children:
            if cw[0] in ("group", "secret", "password"):
                groups.extend(_account(cw, 0, facts))
                used.append(number)
    if groups:
        ranked = [g for g in _XR_GROUP_RANK if g in groups]
        facts.setdefault("role", ranked[0] if ranked else groups[0])
    if facts.get("privilege") is None and facts.get("role") in _ADMIN_ROLES:
        facts["privilege"] = 15
    existing = p.b.get("users", name)
    if existing is None:
        p.b.put("users", name, User, used[0], name=name, **facts)
    else:  # NX-OS and EOS state a user's role, password and keys on separate lines
        for key, value in facts.items():
            if value is not None and (key != "secret_kind" or existing.get(key) in (None, "nopassword")):
                existing[key] = value
    for number in used:
        p.b.add_line("users", name, number)
    return end


def _enable(p: IosParser, i: int, w: list[str]) -> int:
    if len(w) < 3 or w[1] not in ("secret", "password", "algorithm-type"):
        return i + 1
    facts: dict = {"privilege": 15}
    k = 1
    if w[2] == "level" and len(w) > 3 and w[3].isdecimal():  # enable secret level 5 ...
        facts["privilege"] = int(w[3])
        w = [w[0], w[1], *w[4:]]
    _account(w, k, facts)
    p.b.put("enable_secrets", i, User, i + 1, name="enable", **facts)
    return i + 1


# -- AAA ------------------------------------------------------------------------------------


def _key_type(w: list[str], k: int) -> str | None:
    """The type of the key whose keyword is ``w[k]``: "7" for ``key 7 X``, "0" for ``key X``."""
    if len(w) > k + 2 and w[k + 1] in _KEY_TYPES:
        return w[k + 1]
    if len(w) > k + 1:
        return "masked" if w[k + 1].strip("*") == "" else "0"
    return None


def _aaa_server(p: IosParser, number: int, protocol: str, address: str, w: list[str], k: int) -> dict:
    """An AAA server and the attributes stated after ``w[k]`` on its line."""
    facts = p.b.get("aaa_servers", (protocol, address))
    if facts is None:
        facts = p.b.put("aaa_servers", (protocol, address), AaaServer, number, protocol=protocol, address=address)
    else:
        p.b.add_line("aaa_servers", (protocol, address), number)
    n = len(w)
    while k < n:
        word = w[k]
        if word in ("port", "auth-port", "server-port") and k + 1 < n and w[k + 1].isdecimal():
            facts["port"] = int(w[k + 1])
            k += 2
        elif word == "key":
            facts["key_type"] = _key_type(w, k)
            break
        elif word in ("vrf", "use-vrf") and k + 1 < n:
            facts["vrf"] = w[k + 1]
            k += 2
        else:
            k += 1
    return facts


def _aaa_host_block(p: IosParser, i: int, protocol: str, address: str, w: list[str], k: int) -> int:
    """``tacacs-server host X`` with IOS XR's key on the lines below."""
    _aaa_server(p, i + 1, protocol, address, w, k)
    end, children = p.children(i)
    for number, _indent, cw in children:
        if cw[0] in ("key", "port", "auth-port", "vrf"):
            _aaa_server(p, number, protocol, address, cw, 0)
    return end


def _tacacs_server(p: IosParser, i: int, w: list[str]) -> int:
    return _legacy_aaa(p, i, w, "tacacs")


def _radius_server(p: IosParser, i: int, w: list[str]) -> int:
    return _legacy_aaa(p, i, w, "radius")


def _legacy_aaa(p: IosParser, i: int, w: list[str], protocol: str) -> int:
    if len(w) > 2 and w[1] == "host":
        return _aaa_host_block(p, i, protocol, w[2], w, 3)
    if len(w) > 2 and w[1] == "key":
        kind = _key_type(w, 1)
        if kind is not None:
            p.global_keys[protocol] = (kind, i + 1)
    return i + 1


def _aaa_named(p: IosParser, i: int, w: list[str]) -> int:
    """IOS XE ``tacacs server NAME`` / ``radius server NAME`` blocks."""
    if len(w) < 3 or w[1] != "server":
        return i + 1
    protocol = "tacacs" if w[0] == "tacacs" else "radius"
    end, children = p.children(i)
    address = next((cw[2] for _n, _d, cw in children if cw[0] == "address" and len(cw) > 2), None)
    if address is None:
        return end
    p.named_servers[w[2]] = (protocol, address)
    _aaa_server(p, i + 1, protocol, address, w, 3)
    for number, _indent, cw in children:
        if cw[0] == "address":
            _aaa_server(p, number, protocol, address, cw, 3)
        elif cw[0] in ("key", "port"):
            _aaa_server(p, number, protocol, address, cw, 0)
    return end


def _aaa(p: IosParser, i: int, w: list[str]) -> int:
    feature = FEATURES.get(tuple(w))
    if feature:
        p.feature(i + 1, feature, True)
        return i + 1
    if len(w) < 5 or w[1] != "group" or w[2] != "server":
        return i + 1
    protocol = "tacacs" if w[3].startswith("tacacs") else "radius"
    end, children = p.children(i)
    members: list[str] = []
    vrf = None
    current = None
    for number, indent, cw in children:
        head = cw[0]
        if head == "server-private" and len(cw) > 1:
            current = cw[1]
            _aaa_server(p, number, protocol, current, cw, 2)
            members.append(current)
        elif head == "server" and len(cw) > 1:
            members.append(cw[2] if cw[1] == "name" and len(cw) > 2 else cw[1])
        elif head in ("vrf", "use-vrf") and len(cw) > 1:
            vrf = cw[1]
        elif head == "ip" and len(cw) > 3 and cw[1] == "vrf":
            vrf = cw[3]
        elif head == "key" and current is not None and indent > 1:
            _aaa_server(p, number, protocol, current, cw, 0)
    if vrf:
        p.aaa_groups.append((members, vrf))
    return end


def _asa_aaa_server(p: IosParser, i: int, w: list[str]) -> int:
    if len(w) > 3 and w[2] == "protocol":
        p.asa_aaa_groups[w[1]] = "tacacs" if w[3].startswith("tacacs") else "radius"
        return i + 1
    if len(w) > 3 and w[3] == "host" and len(w) > 4:
        protocol = p.asa_aaa_groups.get(w[1], "tacacs")
        address = p.asa_names.get(w[4], w[4])
        _aaa_server(p, i + 1, protocol, address, w, 5)
        end, children = p.children(i)
        for number, _indent, cw in children:
            if cw[0] in ("key", "server-port"):
                _aaa_server(p, number, protocol, address, cw, 0)
        return end
    return i + 1


# -- lines (vty, console) ---------------------------------------------------------------------


def _line_attrs(children: list[tuple[int, int, list[str]]]) -> tuple[dict, list[int]]:
    attrs: dict = {}
    used: list[int] = []
    for number, _indent, cw in children:
        head = cw[0]
        if head == "transport" and len(cw) > 2 and cw[1] in ("input", "output"):
            attrs[f"transport_{cw[1]}"] = tuple(x.lower() for x in cw[2:])
            used.append(number)
        elif head in ("access-class", "ip") and len(cw) > 2:
            if head == "ip":
                if cw[1] != "access-class" or len(cw) < 4:
                    continue
                cw = cw[1:]
            if cw[1] in ("ingress", "egress"):  # IOS XR
                attrs["access_class_in" if cw[1] == "ingress" else "access_class_out"] = cw[2]
            elif cw[2] in ("in", "out"):
                attrs[f"access_class_{cw[2]}"] = cw[1]
            used.append(number)
    return attrs, used


def _line(p: IosParser, i: int, w: list[str]) -> int:
    end, children = p.children(i)
    if len(w) < 2:
        return end
    attrs, used = _line_attrs(children)
    if p.platform == "iosxr" and w[1] in ("default", "template"):
        name = "default" if w[1] == "default" else (w[2] if len(w) > 2 else "")
        p.xr_templates[name] = (attrs, [i + 1, *used])
        return end
    if w[1].isdecimal():
        kind, numbers = "tty", w[1:3]
    else:
        kind, numbers = _LINE_KINDS.get(w[1], w[1]), w[2:4]
    first = int(numbers[0]) if numbers and numbers[0].isdecimal() else 0
    last = int(numbers[1]) if len(numbers) > 1 and numbers[1].isdecimal() else first
    p.b.put("lines", i, Line, i + 1, kind=kind, first=first, last=last, **attrs)
    for number in used:
        p.b.add_line("lines", i, number)
    return end


def _vty_pool(p: IosParser, i: int, w: list[str]) -> int:
    """IOS XR ``vty-pool NAME FIRST LAST [line-template T]``."""
    if len(w) >= 4 and w[2].isdecimal() and w[3].isdecimal():
        template = w[5] if len(w) > 5 and w[4] == "line-template" else "default"
        p.xr_pools.append((w[1], int(w[2]), int(w[3]), template, i + 1))
    return i + 1


# -- ACLs ---------------------------------------------------------------------------------------


def _address(w: list[str], k: int, netmask: bool, standard: bool = False) -> tuple[str | None, int]:
    """An ACL address at ``w[k]``, normalised: any, host X → X/32, X WILDCARD → CIDR."""
    if k >= len(w):
        return None, k
    word = w[k]
    if word in ("any", "any4", "any6"):
        return "any", k + 1
    if word == "host" and k + 1 < len(w):
        value = w[k + 1]
        return (host_prefix(value) if is_ip(value) else value), k + 2
    if word in ("object-group", "object", "addrgroup", "interface", "net-group") and k + 1 < len(w):
        return w[k + 1], k + 2
    if "/" in word:
        return word, k + 1
    if is_ipv4(word):
        if k + 1 < len(w) and is_ipv4(w[k + 1]):
            mask = w[k + 1]
            return (with_mask(word, mask) if netmask else with_wildcard(word, mask)), k + 2
        return host_prefix(word), k + 1
    if standard or ":" in word:
        return word, k + 1
    return word, k + 1


def _ports(w: list[str], k: int) -> tuple[str | None, int]:
    if k >= len(w) or w[k] not in PORT_OPERATORS:
        return None, k
    op = w[k]
    if op == "range":
        return " ".join(w[k : k + 3]).lower(), k + 3
    if op in ("lt", "gt"):
        return " ".join(w[k : k + 2]).lower(), k + 2
    j = k + 1
    while j < len(w) and port_number(w[j]) is not None:
        j += 1
    return " ".join(w[k:j]).lower(), j


def acl_entry(w: list[str], number: int, text: str, standard: bool, netmask: bool) -> AclEntry | None:
    """An ACL entry from its words (sequence number first when present); None if not one."""
    facts = _entry_facts(w, text, standard, netmask)
    return None if facts is None else _new_entry((number,), facts)


def _entry_facts(w: list[str], text: str, standard: bool, netmask: bool) -> dict | None:
    """What ``acl_entry`` makes an entry of, without its line number."""
    k = 0
    sequence = None
    if w and w[0].isdecimal():
        sequence, k = int(w[0]), 1
    elif len(w) > 1 and w[0] == "seq" and w[1].isdecimal():
        sequence, k = int(w[1]), 2
    if k >= len(w):
        return None
    action = w[k].lower()
    if action == "remark":
        return {"sequence": sequence, "action": "remark", "text": text}
    if action not in ("permit", "deny"):
        return None
    k += 1
    if standard:
        source, k = _address(w, k, netmask, standard=True)
        return {"sequence": sequence, "action": action, "source": source, "text": text}
    protocol = w[k].lower() if k < len(w) else None
    k += 1
    if protocol in ("object-group", "object") and k < len(w):  # ASA service groups
        protocol = w[k]
        k += 1
    source, k = _address(w, k, netmask)
    source_port, k = _ports(w, k)
    destination, k = _address(w, k, netmask)
    destination_port, k = _ports(w, k)
    return {
        "sequence": sequence,
        "action": action,
        "protocol": protocol,
        "source": source,
        "destination": destination,
        "destination_port": destination_port,
        "source_port": source_port,
        "text": text,
    }


# Entry facts by the entry's text, standard ACLs apart: a device's snapshots repeat nearly
# every entry, and ``deny ip any any log`` ends thousands of ACLs. Emptied when full.
_ENTRY_FACTS: tuple[dict[str, dict | None], dict[str, dict | None]] = ({}, {})
ENTRY_CACHE_SIZE = 20_000
_MISS: dict = {}
_new_entry = maker(AclEntry)


def _acl(p: IosParser, name: str, kind: str, number: int) -> dict:
    facts = p.b.get("acls", name)
    if facts is None:
        facts = p.b.put("acls", name, Acl, number, name=name, kind=kind, entries=[])
    else:
        p.b.add_line("acls", name, number)
    return facts


def _access_list(p: IosParser, i: int, w: list[str]) -> int:
    """Numbered IOS ACLs (``access-list 20 permit ...``) and the ASA's named ones."""
    if len(w) < 3:
        return i + 1
    name = w[1]
    rest = w[2:]
    if p.asa:
        if rest[0] == "line" and len(rest) > 2:
            rest = rest[2:]
        kind = rest[0] if rest[0] in ("standard", "extended", "webtype", "ethertype") else "extended"
        if rest[0] == kind:
            rest = rest[1:]
    else:
        if not name.isdecimal():
            return i + 1
        value = int(name)
        if value < 100 or 1300 <= value < 2000:
            kind = "standard"
        elif value < 200 or 2000 <= value < 2700:
            kind = "extended"
        else:
            return i + 1
        if rest[0] == "dynamic" and len(rest) > 2:
            rest = rest[2:]
    entry = acl_entry(rest, i + 1, p.lines[i].strip(), kind == "standard", p.asa)
    if entry is not None:
        facts = _acl(p, name, kind, i + 1)
        if facts["kind"] != kind and entry.action != "remark" and p.asa:
            facts["kind"] = kind
        facts["entries"].append(entry)
    return i + 1


def _named_acl(p: IosParser, i: int, name: str, kind: str) -> int:
    end = p.block_end(i)
    facts = _acl(p, name, kind, i + 1)
    standard = kind == "standard"
    known = _ENTRY_FACTS[standard]
    new_entry = _new_entry
    entries = facts["entries"]
    lines = p.lines
    used = []
    for j in range(i + 1, end):
        text = lines[j].strip()
        if not text or text[0] == "!":
            continue
        entry = known.get(text, _MISS)
        if entry is _MISS:
            if len(known) >= ENTRY_CACHE_SIZE:
                known.clear()
            entry = known[text] = _entry_facts(text.split(), text, standard, False)
        if entry is not None:
            entries.append(new_entry((j + 1,), entry))
            used.append(j + 1)
    p.b.add_line("acls", name, *used)
    return end


def _prefix_list(p: IosParser, i: int, w: list[str]) -> int:
    """``ip prefix-list NAME [seq N] permit|deny P [ge|le N]``: an Acl of kind prefix-list."""
    if len(w) < 5:
        return i + 1
    name, rest = w[2], w[3:]
    if rest[0] == "seq" and len(rest) > 3:
        sequence, rest = (int(rest[1]) if rest[1].isdecimal() else None), rest[2:]
    else:
        sequence = None
    if rest[0] not in ("permit", "deny") or len(rest) < 2:
        return i + 1
    entry = AclEntry(lines=(i + 1,), sequence=sequence, action=rest[0], source=rest[1], text=p.lines[i].strip())
    _acl(p, name, "prefix-list", i + 1)["entries"].append(entry)
    return i + 1


# -- the ``ip`` / ``ipv4`` / ``ipv6`` family ------------------------------------------------------


def _ip(p: IosParser, i: int, w: list[str]) -> int:
    feature = FEATURES.get(tuple(w)) if len(w) <= _FEATURE_WORDS else None
    if feature:
        p.feature(i + 1, feature, True)
        return i + 1
    if len(w) < 3:
        return i + 1
    sub = w[1]
    if sub == "access-list":
        if w[2] in ("standard", "extended") and len(w) > 3:
            return _named_acl(p, i, w[3], w[2])
        if w[2] in ("resequence", "logging", "log-update", "role-based", "persistent", "match"):
            return i + 1
        return _named_acl(p, i, w[2], "extended")  # NX-OS and EOS name no kind
    if sub == "route":
        _static_route(p, i, w, 2, None)
    elif sub == "ssh":
        _ip_ssh(p, i, w)
        return p.block_end(i)
    elif sub == "http":
        _ip_http(p, i, w)
    elif sub == "prefix-list":
        return _prefix_list(p, i, w)
    elif sub == "scp" and w[2:4] == ["server", "enable"]:
        p.service(i + 1, "scp", enabled=True)
    elif sub == "tftp" and w[2] == "server":
        p.service(i + 1, "tftp", enabled=True)
    return i + 1


def _ipv4(p: IosParser, i: int, w: list[str]) -> int:
    if len(w) > 2 and w[1] == "access-list":
        return _named_acl(p, i, w[2], "ipv6" if w[0] == "ipv6" else "extended")
    if w[0] == "ipv6" and len(w) > 2 and w[1] == "route":
        _static_route(p, i, w, 2, None)
    elif w[0] == "ipv6":
        return _ip(p, i, w)
    return i + 1


def _static_route(p: IosParser, i: int, w: list[str], k: int, vrf: str | None) -> None:
    n = len(w)
    if k + 1 < n and w[k] == "vrf":
        vrf, k = w[k + 1], k + 2
    if k >= n:
        return
    destination = w[k]
    if is_prefix(destination):
        prefix, k = destination, k + 1
    elif k + 1 < n and is_ipv4(destination) and is_ipv4(w[k + 1]):
        prefix, k = with_mask(destination, w[k + 1]), k + 2
    else:
        return
    rest = w[k : k + 3]
    next_hop = next((x for x in rest[:2] if is_ip(x)), None)
    if next_hop is None and rest and not rest[0].isdecimal():
        next_hop = rest[0]
    p.b.put("static_routes", i, StaticRoute, i + 1, prefix=prefix, next_hop=next_hop, vrf=vrf)


def _asa_route(p: IosParser, i: int, w: list[str]) -> int:
    """ASA ``route IFNAME PREFIX MASK NEXTHOP [DISTANCE]``."""
    if p.asa and len(w) >= 5 and is_ipv4(w[2]) and is_ipv4(w[3]):
        p.b.put("static_routes", i, StaticRoute, i + 1, prefix=with_mask(w[2], w[3]), next_hop=w[4], vrf=None)
    return i + 1


def _ip_ssh(p: IosParser, i: int, w: list[str]) -> None:
    n = len(w)
    if w[2] == "version" and n > 3:
        p.service(i + 1, "ssh", version=w[3])
    elif w[2] == "port" and n > 3 and w[3].isdecimal():
        p.service(i + 1, "ssh", ports=(int(w[3]),))
    elif w[2] == "source-interface" and n > 3:
        p.service(i + 1, "ssh", source_interface=w[3])
    elif w[2] not in ("pubkey-chain", "client"):
        p.service(i + 1, "ssh")


def _ip_http(p: IosParser, i: int, w: list[str], enabled: bool = True) -> None:
    n = len(w)
    sub = w[2]
    if sub == "server":
        p.service(i + 1, "http", enabled=enabled)
    elif sub == "secure-server":
        p.service(i + 1, "https", enabled=enabled)
    elif sub == "port" and n > 3 and w[3].isdecimal() and enabled:
        p.service(i + 1, "http", ports=(int(w[3]),))
    elif sub == "secure-port" and n > 3 and w[3].isdecimal() and enabled:
        p.service(i + 1, "https", ports=(int(w[3]),))
    elif sub == "access-class" and n > 3 and enabled:
        p.http_acl = (w[4] if w[3] in ("ipv4", "ipv6") and n > 4 else w[3], i + 1)


# -- SNMP -----------------------------------------------------------------------------------------


def _snmp(p: IosParser, i: int, w: list[str]) -> int:
    if len(w) < 3:
        return i + 1
    sub = w[1]
    if sub == "community":
        _snmp_community(p, i, w)
    elif sub == "group" and len(w) > 3:
        _snmp_group(p, i, w)
    elif sub == "host":
        _snmp_host(p, i, w)
    elif sub == "vrf":  # IOS XR: "snmp-server vrf MGMT" with " host ... traps ..." under it
        end, children = p.children(i)
        for number, _, words in children:
            if words[0] == "host":
                _snmp_host(p, number - 1, ["snmp-server", *words])
        return end
    return i + 1


def _snmp_community(p: IosParser, i: int, w: list[str]) -> None:
    k = 2
    if w[k] in ("encrypted", "clear") and len(w) > 3:
        k += 1
    name = w[k]
    access = acl = None
    rest = w[k + 1 :]
    j = 0
    while j < len(rest):
        word = rest[j]
        low = word.lower()
        if low in ("ro", "rw"):
            access = low
        elif low in ("view", "ipv6", "context") and j + 1 < len(rest):
            j += 1
        elif word in ("IPv4", "use-acl", "use-ipv4acl", "acl") and j + 1 < len(rest):
            acl = rest[j + 1]
            j += 1
        elif word == "group" and j + 1 < len(rest):  # NX-OS: the role decides
            access = "rw" if rest[j + 1] == "network-admin" else "ro"
            j += 1
        elif low in ("systemowner", "sdrowner", "use-ipv6acl", "encrypted", "clear"):
            if low == "use-ipv6acl":
                j += 1
        elif access is not None or p.platform in ("ios", "eos"):
            acl = word
        j += 1
    facts = p.b.get("snmp_communities", name)
    if facts is None:
        p.b.put("snmp_communities", name, SnmpCommunity, i + 1, community=name, access=access, acl=acl)
    else:  # NX-OS states a community's role and its ACL on separate lines
        facts["access"] = access or facts.get("access")
        facts["acl"] = acl or facts.get("acl")
        p.b.add_line("snmp_communities", name, i + 1)


def _snmp_group(p: IosParser, i: int, w: list[str]) -> None:
    name, version = w[2], w[3]
    level = w[4] if version == "v3" and len(w) > 4 and w[4] in ("auth", "noauth", "priv") else None
    acl = None
    for j, word in enumerate(w[:-1]):
        if word == "IPv4":  # IOS XR
            acl = w[j + 1]
        elif word == "access":  # IOS: access [ipv6 NACL] ACL
            if w[j + 1] != "ipv6":
                acl = w[j + 1]
            elif j + 3 < len(w):
                acl = w[j + 3]
    key = (name, version)
    facts = p.b.get("snmp_groups", key)
    if facts is None:
        p.b.put("snmp_groups", key, SnmpGroup, i + 1, name=name, version=version, level=level, acl=acl)
    else:
        facts["acl"] = facts.get("acl") or acl
        p.b.add_line("snmp_groups", key, i + 1)


def _snmp_host(p: IosParser, i: int, w: list[str]) -> None:
    k = 3 if p.asa else 2
    if k >= len(w):
        return
    address = p.asa_names.get(w[k], w[k])
    rest = w[k + 1 :]
    if rest and rest[0] in ("use-vrf", "source-interface", "filter-vrf"):  # NX-OS: a host's attribute
        for key in p.b.keys("snmp_hosts"):
            if isinstance(key, tuple) and key[0] == address:
                p.b.add_line("snmp_hosts", key, i + 1)
        return
    version = community = None
    j = 0
    while j < len(rest):
        word = rest[j]
        if word == "version" and j + 1 < len(rest):
            version = "v" + rest[j + 1].lstrip("v")
            j += 2
            if version == "v3" and j < len(rest) and rest[j] in ("auth", "noauth", "priv"):
                j += 1
            continue
        if word in ("vrf", "udp-port", "port", "use-vrf") and j + 1 < len(rest):
            j += 2
            continue
        if word == "community" and j + 1 < len(rest):
            community = rest[j + 1]
            break
        if word in ("informs", "inform", "traps", "trap", "poll", "encrypted", "clear"):
            j += 1
            continue
        community = word
        break
    key = (address, community)
    if p.b.get("snmp_hosts", key) is None:
        p.b.put("snmp_hosts", key, SnmpHost, i + 1, address=address, version=version, community_or_user=community)
    else:
        p.b.add_line("snmp_hosts", key, i + 1)


# -- logging and NTP ------------------------------------------------------------------------------


def _logging(p: IosParser, i: int, w: list[str]) -> int:
    n = len(w)
    if n < 2:
        return i + 1
    sub = w[1]
    vrf = port = None
    if sub == "host" and n > 2:
        k = 3 if p.asa and n > 3 else 2
        if w[k] in ("ipv4", "ipv6") and k + 1 < n:
            k += 1
    elif sub == "server" and n > 2:
        k = 2
    elif sub == "vrf" and n > 4 and w[3] == "host":
        vrf, k = w[2], 4
    elif is_ip(sub):
        k = 1
    else:
        return i + 1
    address = p.asa_names.get(w[k], w[k])
    j = k + 1
    while j < n:
        word = w[j]
        if word in ("vrf", "use-vrf") and j + 1 < n:
            vrf = w[j + 1]
            j += 2
        elif word == "port" and j + 1 < n:
            port = int(w[j + 1]) if w[j + 1].isdecimal() else port
            j += 2
        elif "/" in word and word.split("/")[-1].isdecimal():  # ASA udp/514
            port = int(word.split("/")[-1])
            j += 1
        else:
            j += 1
    key = (address, vrf)
    if p.b.get("logging_hosts", key) is None:
        p.b.put("logging_hosts", key, Server, i + 1, address=address, port=port, vrf=vrf)
    else:
        p.b.add_line("logging_hosts", key, i + 1)
    return i + 1


def _ntp_server(p: IosParser, number: int, w: list[str], k: int) -> None:
    n = len(w)
    vrf = key = None
    if k + 1 < n and w[k] == "vrf":
        vrf, k = w[k + 1], k + 2
    if k < n and w[k] in ("ip", "ipv6") and k + 1 < n:
        k += 1
    if k >= n:
        return
    address = p.asa_names.get(w[k], w[k])
    j = k + 1
    while j < n:
        word = w[j]
        if word == "key" and j + 1 < n:
            key = w[j + 1]
            j += 2
        elif word in ("use-vrf", "vrf") and j + 1 < n:
            vrf = w[j + 1]
            j += 2
        else:
            j += 1
    item_key = (address, vrf)
    if p.b.get("ntp_servers", item_key) is None:
        p.b.put("ntp_servers", item_key, Server, number, address=address, vrf=vrf, key=key)
    else:
        p.b.add_line("ntp_servers", item_key, number)


def _ntp(p: IosParser, i: int, w: list[str]) -> int:
    if len(w) == 1:  # the IOS XR ntp block
        end, children = p.children(i)
        for number, _indent, cw in children:
            if cw[0] == "server" and len(cw) > 1:
                _ntp_server(p, number, cw, 1)
            elif cw == ["authenticate"]:
                p.feature(number, "ntp-authenticate", True)
        return end
    if w[1] == "server" and len(w) > 2:
        _ntp_server(p, i + 1, w, 2)
    elif w[1] == "authenticate":
        p.feature(i + 1, "ntp-authenticate", True)
    return i + 1


# -- interfaces, tunnels, routing ------------------------------------------------------------------


def _interface(p: IosParser, i: int, w: list[str]) -> int:
    if len(w) < 2:
        return i + 1
    names = w[1:]
    if names[0] == "preconfigure" and len(names) > 1:
        names = names[1:]
    if names[-1] in ("point-to-point", "multipoint") and len(names) > 1:
        names = names[:-1]
    name = "".join(names)
    end = p.block_end(i)
    lines = p.lines
    addresses: list[str] = []
    description = vrf = None
    shutdown = False
    used = [i + 1]
    tunnel: dict[str, str] = {}
    tunnel_lines: list[int] = []
    for j in range(i + 1, end):
        text = lines[j].strip()
        if not text:
            continue
        c = text.split()
        head = c[0]
        if head not in _IF_WORDS:
            continue
        number = j + 1
        n = len(c)
        if head in ("ip", "ipv4", "ipv6"):
            if n < 3:
                continue
            sub = c[1]
            if sub == "address":
                if "/" in c[2]:
                    if not is_prefix(c[2]):
                        continue
                    addresses.append(c[2])
                elif n > 3 and is_ipv4(c[2]) and is_ipv4(c[3]):
                    addresses.append(with_mask(c[2], c[3]))
                else:
                    continue
                used.append(number)
            elif sub == "vrf" and n > 3 and c[2] == "forwarding":
                vrf = c[3]
                used.append(number)
            elif sub == "ospf" and ("authentication" in c[2] or c[2] == "message-digest-key"):
                p.interface_auth.add("ospf")
            elif sub == "authentication" and n > 3 and c[3] == "eigrp":
                p.interface_auth.add("eigrp")
        elif head == "description":
            description = text[11:].strip() or None
            used.append(number)
        elif head == "shutdown":
            shutdown = True
            used.append(number)
        elif head == "no":
            if n > 1 and c[1] == "shutdown":
                shutdown = False
                used.append(number)
        elif head == "vrf" and n > 1:
            vrf = c[2] if c[1] in ("forwarding", "member") and n > 2 else c[1]
            used.append(number)
        elif head == "tunnel" and n > 2:
            if c[1] in ("source", "destination"):
                tunnel[c[1]] = c[2]
                tunnel_lines.append(number)
            elif c[1] == "mode":
                tunnel["mode"] = " ".join(c[2:4])
                tunnel_lines.append(number)
        elif head == "monitor-session" and n > 1:  # IOS XR: this interface is a source
            p.xr_monitor_sources.setdefault(c[1], []).append((name, number))
    p.b.put(
        "interfaces",
        i,
        Interface,
        i + 1,
        name=name,
        addresses=addresses,
        description=description,
        shutdown=shutdown,
        vrf=vrf,
    )
    p.b.add_line("interfaces", i, *used[1:])
    low = name.lower()
    if low.startswith("tunnel") and not low.startswith(("tunnel-te", "tunnel-mte", "tunnel-tp")):
        written = tunnel.get("mode", "gre")
        mode = _TUNNEL_MODES.get(written) or _TUNNEL_MODES.get(written.split()[0]) or written.replace(" ", "-")
        p.b.put(
            "tunnels",
            name,
            Tunnel,
            i + 1,
            name=name,
            mode=mode,
            source=tunnel.get("source"),
            destination=None if mode == "mgre" else tunnel.get("destination"),
        )
        for number in tunnel_lines:
            p.b.add_line("tunnels", name, number)
    return end


def _crypto(p: IosParser, i: int, w: list[str]) -> int:
    if len(w) < 4 or w[1] != "map":
        return i + 1
    name, sequence = w[2], w[3]
    if sequence in ("local-address", "interface"):
        p.crypto_local[name] = w[4] if len(w) > 4 else ""
        return i + 1
    peers: list[tuple[str, int]] = []
    end = i + 1
    if len(w) > 5 and w[4] == "set" and w[5] == "peer":  # ASA: one line per attribute
        peers = [(x, i + 1) for x in w[6:] if x != "default"]
    elif len(w) > 4 and w[4] in ("ipsec-isakmp", "ipsec-manual", "gdoi"):
        end, children = p.children(i)
        for number, _indent, cw in children:
            if cw[:2] == ["set", "peer"] and len(cw) > 2:
                peers.append((cw[2], number))
    for number_of_peer, (peer, number) in enumerate(peers, 1):
        key = f"{name} {sequence}" + (f" peer {number_of_peer}" if number_of_peer > 1 else "")
        if p.b.get("tunnels", key) is None:
            p.b.put("tunnels", key, Tunnel, i + 1, name=key, mode="ipsec", source=None, destination=peer)
        p.b.add_line("tunnels", key, number)
    return end


def _router(p: IosParser, i: int, w: list[str]) -> int:
    if len(w) < 2:
        return i + 1
    protocol = w[1]
    if protocol == "static":
        return _xr_static(p, i)
    if protocol not in _ROUTING:
        return i + 1
    name = " ".join(w[1:3])
    end, children = p.children(i)
    if protocol == "bgp":
        neighbors, authenticated, used = _bgp(children)
    else:
        neighbors, used = [], []
        for number, _indent, cw in children:
            text = " ".join(cw)
            if any(x in text for x in _AUTH_WORDS):
                used.append(number)
        authenticated = bool(used)
    p.b.put("routing", i, RoutingProtocol, i + 1, name=name, authenticated=authenticated, neighbors=neighbors)
    for number in used:
        p.b.add_line("routing", i, number)
    return end


def _bgp(children: list[tuple[int, int, list[str]]]) -> tuple[list[str], bool, list[int]]:
    """BGP neighbors, and whether every one has a password (its own or its group's)."""
    neighbors: list[str] = []
    groups: dict[str, str] = {}
    authed: set[str] = set()
    used: list[int] = []
    current, current_indent = None, -1
    for number, indent, cw in children:
        head, n = cw[0], len(cw)
        if (head in ("neighbor", "neighbor-group") and n > 1) or (head == "template" and n > 2 and cw[1] == "peer"):
            subject = cw[2] if head == "template" else cw[1]
            current, current_indent = subject, indent
            if head == "neighbor" and is_ip(subject) and subject not in neighbors:
                neighbors.append(subject)
            rest = cw[2:] if head != "template" else []
        elif current is not None and indent > current_indent:
            subject, rest = current, cw
        else:
            current = None
            continue
        if not rest:
            continue
        if rest[0] == "password":
            authed.add(subject)
            used.append(number)
        elif rest[0] in ("peer-group", "inherit", "use") and len(rest) > 1:
            groups[subject] = rest[-1]
        elif rest[0] == "peer" and len(rest) > 2 and rest[1] == "group":  # EOS
            groups[subject] = rest[2]
    if not neighbors:
        return neighbors, bool(authed), used
    return neighbors, all(n in authed or groups.get(n) in authed for n in neighbors), used


def _xr_static(p: IosParser, i: int) -> int:
    end, children = p.children(i)
    vrf, vrf_indent = None, -1
    for number, indent, cw in children:
        if vrf is not None and indent <= vrf_indent:
            vrf = None
        if cw[0] == "vrf" and len(cw) > 1:
            vrf, vrf_indent = cw[1], indent
        elif is_prefix(cw[0]):
            rest = cw[1:3]
            next_hop = next((x for x in rest if is_ip(x)), rest[0] if rest else None)
            p.b.put("static_routes", number, StaticRoute, number, prefix=cw[0], next_hop=next_hop, vrf=vrf)
    return end


def _vrf(p: IosParser, i: int, w: list[str]) -> int:
    """NX-OS ``vrf context NAME`` and the static routes under it."""
    if len(w) < 3 or w[1] != "context":
        return i + 1
    end, children = p.children(i)
    for number, _indent, cw in children:
        if cw[0] in ("ip", "ipv6") and len(cw) > 3 and cw[1] == "route":
            _static_route(p, number - 1, cw, 2, w[2])
    return end


# -- SPAN, ERSPAN, packet capture ----------------------------------------------------------------


def _session(p: IosParser, session: str, number: int, kind: str | None = None) -> dict:
    facts = p.b.get("monitor_sessions", session)
    if facts is None:
        facts = p.b.put(
            "monitor_sessions", session, MonitorSession, number, session=session, kind=kind or "span", sources=[]
        )
    else:
        p.b.add_line("monitor_sessions", session, number)
        if kind:
            facts["kind"] = kind
    return facts


def _monitor_words(p: IosParser, session: str, number: int, c: list[str]) -> None:
    """One statement about a session: ``source ...``, ``destination ...``, ``filter ...``."""
    facts = _session(p, session, number)
    n = len(c)
    if n < 2:
        return
    head = c[0]
    if head == "source":
        if c[1] == "remote" and n > 3:
            facts["sources"].append(f"remote vlan {c[3]}")
            facts["kind"] = "rspan"
        elif c[1] in ("interface", "vlan") and n > 2:
            items = [x for x in c[2:] if x not in _DIRECTIONS and x not in (",", "-")]
            prefix = "vlan " if c[1] == "vlan" else ""
            facts["sources"].extend(prefix + x.rstrip(",") for x in items)
        elif p.platform == "eos":
            facts["sources"].extend(x.rstrip(",") for x in c[1:] if x not in _DIRECTIONS)
    elif head == "destination":
        if c[1] == "remote" and n > 3:
            facts["destination"] = f"remote vlan {c[3]}"
            facts["kind"] = "rspan"
        elif c[1] == "interface" and n > 2:
            facts["destination"] = c[2].rstrip(",")
        elif c[1] in ("ip", "ipv4") and n > 2:
            facts["destination"] = c[-1]
        elif c[1] == "tunnel" and "destination" in c[2:]:  # EOS mirroring to a GRE tunnel
            facts["destination"] = c[c.index("destination", 2) + 1] if c[-1] != "destination" else None
            facts["kind"] = "erspan-source"
        elif p.platform == "eos":
            facts["destination"] = c[1]
    elif head == "filter" and n > 2:
        facts["filter"] = c[-1]
    elif head in ("ip", "ipv6") and n > 2 and c[1] == "access-group":  # EOS
        facts["filter"] = c[2]


def _monitor(p: IosParser, i: int, w: list[str]) -> int:
    if len(w) < 3:
        return i + 1
    if w[1] == "capture":
        _capture(p, i, w)
        return i + 1
    if w[1] != "session":
        return i + 1
    session = w[2]
    if len(w) > 4 and w[3] == "type":
        return _typed_session(p, i, session, w[4])
    if len(w) == 3:  # NX-OS: the session's statements are a block
        end, children = p.children(i)
        _session(p, session, i + 1)
        for number, _indent, cw in children:
            _monitor_words(p, session, number, cw)
        return end
    _monitor_words(p, session, i + 1, w[3:])
    return i + 1


def _typed_session(p: IosParser, i: int, session: str, kind: str) -> int:
    """``monitor session N type erspan-source`` and its block (IOS XE and NX-OS)."""
    kind = {"rspan-source": "rspan", "rspan-destination": "rspan", "local": "span"}.get(kind, kind)
    facts = _session(p, session, i + 1, kind)
    end, children = p.children(i)
    part, part_indent = None, -1
    for number, indent, cw in children:
        if part is not None and indent <= part_indent:
            part = None
        head = cw[0]
        if head in ("destination", "source") and len(cw) == 1:  # IOS XE sub-block
            part, part_indent = head, indent
            p.b.add_line("monitor_sessions", session, number)
        elif part is not None and head == "ip" and len(cw) > 2 and cw[1] == "address":
            if part == "destination":
                facts["destination"] = cw[2]
            else:
                facts["sources"].append(cw[2])
            p.b.add_line("monitor_sessions", session, number)
        elif head in ("source", "destination", "filter"):
            _monitor_words(p, session, number, cw)
    return end


def _xr_monitor(p: IosParser, i: int, w: list[str]) -> int:
    """IOS XR ``monitor-session NAME``: the destination here, the sources on interfaces."""
    if len(w) < 2:
        return i + 1
    session = w[1]
    _session(p, session, i + 1)
    end, children = p.children(i)
    for number, _indent, cw in children:
        if cw[0] == "destination":
            _monitor_words(p, session, number, cw)
    return end


def _capture(p: IosParser, i: int, w: list[str]) -> None:
    """IOS XE ``monitor capture NAME interface|match|access-list ...``, one item per NAME."""
    name = w[2]
    facts = p.b.get("packet_captures", name)
    if facts is None:
        facts = p.b.put("packet_captures", name, PacketCapture, i + 1, name=name, ports=())
    else:
        p.b.add_line("packet_captures", name, i + 1)
    rest = w[3:]
    if not rest:
        return
    if rest[0] in ("interface", "control-plane"):
        facts["interface"] = rest[1] if rest[0] == "interface" and len(rest) > 1 else rest[0]
    elif rest[0] == "match":
        facts["match"] = " ".join(rest[1:]).lower()
        ports: list[int] = []
        for j, word in enumerate(rest):
            if word in PORT_OPERATORS:
                spec, _end = _ports(rest, j)
                ports.extend(ports_of(spec))
        facts["ports"] = tuple(sorted(set(ports)))
    elif rest[0] == "access-list" and len(rest) > 1:
        facts["acl"] = rest[1]
        facts["match"] = f"access-list {rest[1]}"
        p.capture_acls[name] = rest[1]


# -- banners ------------------------------------------------------------------------------------


def _banner(p: IosParser, i: int, w: list[str]) -> int:
    raw = p.lines[i]
    kind = w[1] if len(w) > 1 and w[1] in _BANNER_KINDS else "motd"
    after = raw.lstrip()[len("banner") :].lstrip(" ")
    if after.startswith(kind):
        after = after[len(kind) :].lstrip(" ")
    if p.asa:  # one line per banner line, no delimiter
        facts = p.b.get("banners", kind)
        if facts is None:
            p.b.put("banners", kind, Banner, i + 1, kind=kind, text=after)
        else:
            facts["text"] += "\n" + after
            p.b.add_line("banners", kind, i + 1)
        return i + 1
    lines = p.lines
    n = len(lines)
    if not after:
        if p.platform != "eos":
            return i + 1
        delimiter, first = "EOF", ""  # EOS: the text, then a line "EOF"
    else:
        delimiter = "^C" if after.startswith("^C") else after[0]
        first = after[len(delimiter) :]
    if delimiter != "EOF" and delimiter in first:
        text, end = first[: first.index(delimiter)], i
    else:
        parts = [first] if first else []
        end = i + 1
        while end < n:
            line = lines[end]
            if delimiter == "EOF" and line.strip() == "EOF":
                break
            if delimiter != "EOF" and delimiter in line:
                parts.append(line[: line.index(delimiter)])
                break
            parts.append(line)
            end += 1
        if end >= n:  # never closed: the file is cut inside the banner
            p.problem(f"truncated: banner {kind} is not closed", i + 1, n)
            end = n - 1
        text = "\n".join(parts).strip("\n")
    p.banner_spans.append((i + 1, end + 1))
    p.b.put("banners", (kind, i), Banner, i + 1, kind=kind, text=text)
    for number in range(i + 2, end + 2):
        p.b.add_line("banners", (kind, i), number)
    return end + 1


# -- management services and feature switches --------------------------------------------------------


def _no(p: IosParser, i: int, w: list[str]) -> int:
    rest = w[1:]
    feature = FEATURES.get(tuple(rest))
    if feature:
        p.feature(i + 1, feature, False)
    elif len(rest) > 2 and rest[0] == "ip" and rest[1] == "http":
        _ip_http(p, i, rest, enabled=False)
    elif len(rest) > 1 and rest[0] == "feature":
        _feature_switch(p, i, rest[1], False)
    elif rest[:3] == ["ip", "scp", "server"]:
        p.service(i + 1, "scp", enabled=False)
    return i + 1


def _simple_feature(p: IosParser, i: int, w: list[str]) -> int:
    """``vstack``, ``iox``, ``cdp run``, ``lldp run``; IOS XR's bare ``cdp`` and ``lldp``."""
    feature = FEATURES.get(tuple(w))
    if feature:
        p.feature(i + 1, feature, True)
    return p.block_end(i) if len(w) == 1 else i + 1


_NXOS_SERVICES = {
    "ssh": "ssh",
    "telnet": "telnet",
    "scp-server": "scp",
    "sftp-server": "sftp",
    "netconf": "netconf",
    "restconf": "restconf",
    "grpc": "grpc",
}


def _feature_switch(p: IosParser, i: int, name: str, enabled: bool) -> None:
    p.feature(i + 1, name, enabled)
    service = _NXOS_SERVICES.get(name)
    if service:
        p.service(i + 1, service, enabled=enabled)


def _feature(p: IosParser, i: int, w: list[str]) -> int:
    """NX-OS ``feature X``: a switch, and for ssh, telnet, scp... a service."""
    if len(w) > 1:
        _feature_switch(p, i, w[1], True)
    return i + 1


def _service_statement(p: IosParser, i: int, w: list[str]) -> int:
    feature = FEATURES.get(tuple(w))
    if feature:
        p.feature(i + 1, feature, True)
    return i + 1


def _app_hosting(p: IosParser, i: int, w: list[str]) -> int:
    end = p.block_end(i)
    if len(w) > 2 and w[1] == "appid":
        p.feature(i + 1, "app-hosting", True)
        if w[2].lower() == "guestshell":
            p.feature(i + 1, "guestshell", True)
    return end


def _archive(p: IosParser, i: int, w: list[str]) -> int:
    end, children = p.children(i)
    for number, _indent, cw in children:
        if cw == ["logging", "enable"]:
            p.feature(number, "archive-logging", True)
    return end


def _ssh(p: IosParser, i: int, w: list[str]) -> int:
    """IOS XR ``ssh server ...``; ASA ``ssh NET MASK IF`` and ``ssh version 2``."""
    n = len(w)
    if p.asa:
        if n > 2 and w[1] == "version":
            p.service(i + 1, "ssh", version=w[2])
        elif n > 3 and is_ipv4(w[1]):
            p.service(i + 1, "ssh")
        elif n > 2 and w[1] == "scopy" and w[2] == "enable":
            p.service(i + 1, "scp", enabled=True)
        return i + 1
    if n < 2 or w[1] != "server":
        return i + 1
    if n == 2:
        p.service(i + 1, "ssh")
    elif w[2] == "v2":
        p.service(i + 1, "ssh", version="2")
    elif w[2] == "port" and n > 3 and w[3].isdecimal():
        p.service(i + 1, "ssh", ports=(int(w[3]),))
    elif w[2] == "netconf":
        port = w[w.index("port") + 1] if "port" in w[:-1] else None
        p.service(i + 1, "netconf", ports=(int(port),) if port and port.isdecimal() else None)
    elif w[2] == "vrf":
        acl = w[w.index("access-list") + 1] if "access-list" in w[:-1] else None
        p.service(i + 1, "ssh", acl=acl)
    else:
        p.service(i + 1, "ssh")
    return i + 1


def _telnet(p: IosParser, i: int, w: list[str]) -> int:
    """IOS XR ``telnet vrf V ipv4 server ...``; ASA ``telnet NET MASK IF``."""
    if ("server" in w and "client" not in w) or (p.asa and len(w) > 3 and is_ipv4(w[1])):
        p.service(i + 1, "telnet", enabled=True)
    return i + 1


def _http(p: IosParser, i: int, w: list[str]) -> int:
    """IOS XR ``http server``; ASA ``http server enable [PORT]`` (ASDM, over HTTPS)."""
    if len(w) < 2 or w[1] != "server":
        return i + 1
    if p.asa:
        port = (int(w[3]),) if len(w) > 3 and w[3].isdecimal() else None
        p.service(i + 1, "https", enabled=len(w) > 2 and w[2] == "enable", ports=port)
    else:
        p.service(i + 1, "http", enabled=True)
    return i + 1


def _tftp_server(p: IosParser, i: int, w: list[str]) -> int:
    acl = w[-1] if len(w) > 2 and w[-1].isdecimal() else None
    p.service(i + 1, "tftp", enabled=True, acl=acl)
    return i + 1


def _tftp(p: IosParser, i: int, w: list[str]) -> int:
    """IOS XR ``tftp vrf V ipv4 server homedir X``."""
    if "server" in w:
        p.service(i + 1, "tftp", enabled=True)
    return i + 1


def _grpc(p: IosParser, i: int, w: list[str]) -> int:
    end, children = p.children(i)
    p.service(i + 1, "grpc", enabled=True)
    for number, _indent, cw in children:
        if cw[0] == "port" and len(cw) > 1 and cw[1].isdecimal():
            p.service(number, "grpc", ports=(int(cw[1]),))
    return end


def _netconf(p: IosParser, i: int, w: list[str]) -> int:
    if w[0] == "netconf-yang" or (len(w) > 1 and w[1] == "agent"):
        p.service(i + 1, "netconf", enabled=True)
    return p.block_end(i)


def _xml(p: IosParser, i: int, w: list[str]) -> int:
    if len(w) > 1 and w[1] == "agent":
        p.service(i + 1, "xml", enabled=True)
    return p.block_end(i)


def _nxapi(p: IosParser, i: int, w: list[str]) -> int:
    """NX-OS ``nxapi http port N`` / ``nxapi https port N``."""
    if len(w) > 3 and w[1] in ("http", "https") and w[2] == "port" and w[3].isdecimal():
        p.service(i + 1, w[1], enabled=True, ports=(int(w[3]),))
    return i + 1


def _management(p: IosParser, i: int, w: list[str]) -> int:
    """EOS ``management ssh|telnet|api http-commands|api gnmi|api netconf`` blocks."""
    end, children = p.children(i)
    if p.platform != "eos" or len(w) < 2:
        return end
    words = [cw for _n, _d, cw in children]
    no_shutdown = ["no", "shutdown"] in words
    shutdown = ["shutdown"] in words
    what = " ".join(w[1:3])
    if w[1] == "ssh":
        acl = next((cw[2] for cw in words if cw[:2] == ["ip", "access-group"] and len(cw) > 2), None)
        facts = p.service(i + 1, "ssh", enabled=not shutdown or no_shutdown, acl=acl)
        facts.setdefault("ports", ())
    elif w[1] == "telnet":
        p.service(i + 1, "telnet", enabled=no_shutdown)
    elif what == "api http-commands":
        https_port = http_port = None
        http = False
        for cw in words:
            if cw[:2] == ["protocol", "https"] and len(cw) > 3 and cw[2] == "port" and cw[3].isdecimal():
                https_port = (int(cw[3]),)
            elif cw[:2] == ["protocol", "http"]:
                http = True
                if len(cw) > 3 and cw[2] == "port" and cw[3].isdecimal():
                    http_port = (int(cw[3]),)
        p.service(i + 1, "https", enabled=no_shutdown and ["no", "protocol", "https"] not in words, ports=https_port)
        if http:
            p.service(i + 1, "http", enabled=no_shutdown, ports=http_port)
    elif what in ("api gnmi", "api netconf", "api restconf"):
        p.service(i + 1, {"gnmi": "grpc"}.get(w[2], w[2]), enabled=not shutdown)
    if w[1] in ("ssh", "telnet"):
        for number, _d, _cw in children:
            p.b.add_line("services", w[1], number)
    return end


def _asa_name(p: IosParser, i: int, w: list[str]) -> int:
    """ASA ``name ADDRESS NAME``: later statements may use the name for the address."""
    if p.asa and len(w) > 2 and is_ip(w[1]):
        p.asa_names[w[2]] = w[1]
    return i + 1


def _end(p: IosParser, i: int, w: list[str]) -> int:
    if w == ["end"] or w == [":", "end"]:
        p.saw_end = True
    return i + 1


_TOP: dict[str, Handler] = {
    "hostname": _hostname,
    "switchname": _hostname,
    "username": _username,
    "enable": _enable,
    "aaa": _aaa,
    "aaa-server": _asa_aaa_server,
    "tacacs-server": _tacacs_server,
    "radius-server": _radius_server,
    "tacacs": _aaa_named,
    "radius": _aaa_named,
    "line": _line,
    "vty-pool": _vty_pool,
    "access-list": _access_list,
    "ip": _ip,
    "ipv4": _ipv4,
    "ipv6": _ipv4,
    "snmp-server": _snmp,
    "logging": _logging,
    "ntp": _ntp,
    "interface": _interface,
    "router": _router,
    "vrf": _vrf,
    "route": _asa_route,
    "monitor": _monitor,
    "monitor-session": _xr_monitor,
    "crypto": _crypto,
    "banner": _banner,
    "no": _no,
    "feature": _feature,
    "service": _service_statement,
    "vstack": _simple_feature,
    "iox": _simple_feature,
    "cdp": _simple_feature,
    "lldp": _simple_feature,
    "guestshell": _simple_feature,
    "app-hosting": _app_hosting,
    "archive": _archive,
    "ssh": _ssh,
    "telnet": _telnet,
    "http": _http,
    "tftp-server": _tftp_server,
    "tftp": _tftp,
    "grpc": _grpc,
    "netconf-yang": _netconf,
    "netconf": _netconf,
    "xml": _xml,
    "nxapi": _nxapi,
    "management": _management,
    "name": _asa_name,
    "end": _end,
    ":": _end,
}
