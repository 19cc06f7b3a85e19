"""The site profile: what the operator says is normal for their network.

Config checks (and later flow analysis) compare what a device does with what the site
declares: which ranges manage the network, which servers may receive logs or answer
AAA, which tunnel peers exist, who may hold privilege 15. A check whose declaration is
missing reports "not evaluated" instead of guessing, so an empty profile is valid.

Every key is known in advance: a misspelt key is an error, never silently ignored.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from seawall.errors import ContentError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

RANGE_KINDS = ("management", "internal", "infrastructure")
SERVER_ROLES = ("aaa", "tacacs", "radius", "syslog", "ntp", "snmp")
HOST_ROLES = ("li", "cdr", "jump")
# What each declaration is called in messages ("profile declares no ...").
DESCRIPTIONS = {
    "management": "management ranges",
    "internal": "internal ranges",
    "infrastructure": "infrastructure ranges",
    "aaa": "approved AAA servers",
    "tacacs": "approved TACACS+ servers",
    "radius": "approved RADIUS servers",
    "syslog": "approved syslog servers",
    "ntp": "approved NTP servers",
    "snmp": "approved SNMP servers",
    "tunnel_peers": "tunnel peers",
    "approved_admins": "approved admins",
    "sensitive_hosts": "sensitive hosts",
}
KINDS = tuple(DESCRIPTIONS)
_TOP_KEYS = (
    "name",
    "description",
    "management_ranges",
    "internal_ranges",
    "infrastructure_ranges",
    "approved_servers",
    "tunnel_peers",
    "approved_admins",
    "sensitive_hosts",
)
_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.?$")
_ANY = frozenset({"any", "any4", "any6", "all", "0/0"})
MEMO_SIZE = 100_000  # answers a profile remembers (see SiteProfile.contains)


class _Any:
    """The whole address space ("any" in an ACL)."""

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()


@dataclass(frozen=True)
class SensitiveHost:
    """A host whose exposure matters most: lawful-intercept mediation, CDR store, jump host."""

    name: str
    address: Network
    role: str


@dataclass(frozen=True)
class Endpoints:
    """Addresses or CIDRs, plus host names (compared exactly, case-insensitively)."""

    networks: tuple[Network, ...] = ()
    names: frozenset[str] = frozenset()
    named: bool = True  # whether host names may be listed: ranges hold addresses only
    # the IPv4 networks as (address >> host bits, prefix length, host bits): the common case, in integers
    v4: tuple[tuple[int, int, int], ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        v4 = tuple(
            (int(n.network_address) >> (32 - n.prefixlen), n.prefixlen, 32 - n.prefixlen)
            for n in self.networks
            if n.version == 4
        )
        object.__setattr__(self, "v4", v4)

    def __bool__(self) -> bool:
        return bool(self.networks or self.names)

    def contains(self, value: Any, host: bool = False) -> bool | None:
        """True when the value lies inside; None when it is neither an address nor a name.
        ``host``: an interface address (``10.0.0.1/24``) counts as its host address."""
        fast = _fast_v4(value) if isinstance(value, str) else None
        if fast is not None:
            address, length = fast
            if host:
                length = 32
            return any(length >= n and address >> shift == top for top, n, shift in self.v4)
        net = _host(value) if host else to_network(value)
        if net is ANY:
            return any(n.prefixlen == 0 for n in self.networks)
        if net is not None:
            return any(net.version == n.version and net.subnet_of(n) for n in self.networks)  # type: ignore[arg-type]
        text = str(value).strip().lower().rstrip(".")
        if self.named and text and _HOSTNAME.match(text) and re.search(r"[a-z]", text):
            return text in self.names
        return None


@dataclass(frozen=True)
class SiteProfile:
    """The site's declarations (see docs/CONFIG_AUDIT.md and docs/examples/site-profile.yaml)."""

    name: str | None = None
    description: str | None = None
    ranges: dict[str, Endpoints] = field(default_factory=dict)  # management / internal / infrastructure
    servers: dict[str, Endpoints] = field(default_factory=dict)  # role -> approved servers
    tunnel_peers: Endpoints = Endpoints()
    approved_admins: frozenset[str] = frozenset()
    sensitive_hosts: tuple[SensitiveHost, ...] = ()
    path: str | None = None
    # Keys the file states, even as an empty list: "approved_servers.radius: []" declares
    # that no RADIUS server is approved, which is not the same as saying nothing.
    stated: frozenset[str] = frozenset()
    _memo: dict[tuple[str, Any], bool | None] = field(default_factory=dict, compare=False, repr=False)
    _hosts: Endpoints = field(default=Endpoints(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hosts", Endpoints(tuple(h.address for h in self.sensitive_hosts), named=False))

    @classmethod
    def empty(cls) -> SiteProfile:
        """A profile that declares nothing: every check needing a declaration is not evaluated."""
        return cls()

    @classmethod
    def load(cls, path: Path | str) -> SiteProfile:
        """Read a profile file; ContentError names the file and the key at fault."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ContentError(f"{path}: cannot read site profile: {exc}") from exc
        except yaml.YAMLError as exc:
            raise ContentError(f"{path}: site profile is not valid YAML: {exc}") from exc
        return cls.from_dict(data or {}, str(path))

    @classmethod
    def from_dict(cls, data: Any, where: str = "site profile") -> SiteProfile:
        """Build a profile from parsed YAML (a mapping), checking every key and value."""
        if not isinstance(data, dict):
            raise ContentError(f"{where}: expected a mapping of declarations, got {type(data).__name__}")
        _unknown(data, _TOP_KEYS, where, "")
        servers_data = data.get("approved_servers") or {}
        if not isinstance(servers_data, dict):
            raise ContentError(f"{where}: approved_servers: expected a mapping of role -> list of servers")
        _unknown(servers_data, SERVER_ROLES, where, "approved_servers.")
        return cls(
            name=_text(data, "name", where),
            description=_text(data, "description", where),
            ranges={k: _endpoints(data.get(f"{k}_ranges"), f"{k}_ranges", where, names=False) for k in RANGE_KINDS},
            servers={r: _endpoints(servers_data.get(r), f"approved_servers.{r}", where) for r in SERVER_ROLES},
            tunnel_peers=_endpoints(data.get("tunnel_peers"), "tunnel_peers", where),
            approved_admins=frozenset(_strings(data.get("approved_admins"), "approved_admins", where)),
            sensitive_hosts=_sensitive(data.get("sensitive_hosts"), where),
            path=where,
            stated=frozenset(
                [_kind(k) for k in data if (k in KINDS or k.endswith("_ranges")) and data[k] is not None]
                + [r for r in servers_data if servers_data[r] is not None]
            ),
        )

    def declares(self, kind: str) -> bool:
        """Whether the profile declares ``kind`` (one of KINDS), if only as an empty list."""
        kind = _kind(kind)
        if kind in ("tacacs", "radius"):
            return self._says(kind) or self._says("aaa")
        if kind == "aaa":
            return any(self._says(r) for r in ("aaa", "tacacs", "radius"))
        return self._says(kind)

    def _says(self, kind: str) -> bool:
        if kind in self.stated:
            return True
        if kind in RANGE_KINDS:
            return bool(self.ranges.get(kind))
        if kind in SERVER_ROLES:
            return bool(self.servers.get(kind))
        if kind == "tunnel_peers":
            return bool(self.tunnel_peers)
        if kind == "approved_admins":
            return bool(self.approved_admins)
        if kind == "sensitive_hosts":
            return bool(self.sensitive_hosts)
        raise ValueError(f"unknown profile declaration {kind!r}; expected one of {', '.join(KINDS)}")

    def in_ranges(self, address: Any, kind: str) -> bool:
        """Whether an address or network lies wholly inside the declared ``kind`` ranges
        (management, internal, infrastructure). False when not declared or not an address."""
        kind = _kind(kind)
        if kind not in RANGE_KINDS:
            raise ValueError(f"unknown range kind {kind!r}; expected one of {', '.join(RANGE_KINDS)}")
        return bool(self.ranges.get(kind, Endpoints(named=False)).contains(address))

    def approved(self, role: str, address: Any) -> bool:
        """Whether ``address`` is an approved server for ``role`` (aaa, tacacs, radius, syslog,
        ntp, snmp, tunnel_peers). ``aaa`` servers count for TACACS+ and RADIUS, and ``aaa``
        accepts any of the three lists."""
        return bool(self.contains(role, address))

    def contains(self, kind: str, value: Any) -> bool | None:
        """Whether ``value`` is inside declaration ``kind``; None when the value cannot be
        compared (neither address nor name). Accounts for ``approved_admins``.

        Answers are remembered per (kind, value): a thousand configurations repeat the
        same ACL entries and servers, and parsing an address costs more than the check."""
        if not isinstance(value, str | int):
            return self._contains(_kind(kind), value)
        key = (kind, value)
        try:
            return self._memo[key]
        except KeyError:
            pass
        answer = self._contains(_kind(kind), value)
        if len(self._memo) >= MEMO_SIZE:
            self._memo.clear()
        self._memo[key] = answer
        return answer

    def _contains(self, kind: str, value: Any) -> bool | None:
        if kind in RANGE_KINDS:
            return self.ranges.get(kind, Endpoints(named=False)).contains(value)
        if kind == "approved_admins":
            return None if value in (None, "") else str(value) in self.approved_admins
        if kind == "sensitive_hosts":
            if to_network(value) is ANY:
                return None
            return self._hosts.contains(value, host=True)
        if kind == "tunnel_peers":
            return self.tunnel_peers.contains(value)
        if kind not in SERVER_ROLES:
            raise ValueError(f"unknown profile declaration {kind!r}; expected one of {', '.join(KINDS)}")
        roles = (
            ("aaa", "tacacs", "radius") if kind == "aaa" else (kind, "aaa") if kind in ("tacacs", "radius") else (kind,)
        )
        answers = [self.servers.get(r, Endpoints()).contains(value) for r in roles]
        if any(answers):
            return True
        return None if all(a is None for a in answers) else False

    def sensitive(self, address: Any) -> list[SensitiveHost]:
        """The sensitive hosts an address or network covers or equals."""
        net = to_network(address)
        if net is None:
            return []
        if net is ANY:
            return list(self.sensitive_hosts)
        return [
            h
            for h in self.sensitive_hosts
            if h.address.version == net.version and (h.address.subnet_of(net) or net.subnet_of(h.address))  # type: ignore[arg-type]
        ]


def to_network(value: Any) -> Network | _Any | None:
    """An address as written in a configuration, as a network: ``10.0.0.1``, ``10.0.0.0/8``,
    ``host 10.0.0.1``, ``10.0.0.0 0.0.0.255`` (wildcard), ``10.0.0.0 255.0.0.0`` (netmask),
    ``any``. None when it is something else (a host name, an object-group, an interface)."""
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return value
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return ipaddress.ip_network(value)
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if text in _ANY:
        return ANY
    parts = text.split()
    if len(parts) == 2 and parts[0] == "host":
        parts = parts[1:]
    try:
        if len(parts) == 1:
            return ipaddress.ip_network(parts[0].split("%")[0], strict=False)
        if len(parts) == 2:
            return _masked(parts[0], parts[1])
    except ValueError:
        return None
    return None


def _fast_v4(text: str) -> tuple[int, int] | None:
    """``a.b.c.d`` or ``a.b.c.d/n`` as (address, prefix length) without ipaddress (ten times
    slower); None for anything else, which then takes the general path."""
    address, slash, length = text.partition("/")
    parts = address.split(".")
    if len(parts) != 4:
        return None
    number = 0
    for part in parts:
        if not (part.isascii() and part.isdigit()) or len(part) > 3 or int(part) > 255:
            return None
        number = number << 8 | int(part)
    if not slash:
        return number, 32
    if not (length.isascii() and length.isdigit()) or int(length) > 32:
        return None
    return number, int(length)


def _host(value: Any) -> Network | _Any | None:
    """Like ``to_network``, but an interface address (``10.0.0.1/24``) is its host address."""
    if isinstance(value, str) and "/" in value:
        try:
            return ipaddress.ip_network(ipaddress.ip_interface(value.strip()).ip)
        except ValueError:
            return None
    return to_network(value)


def _masked(address: str, mask: str) -> Network | _Any:
    """``address wildcard`` (IOS ACL) or ``address netmask`` (ASA, IOS routes)."""
    addr = ipaddress.IPv4Address(address)
    bits = int(ipaddress.IPv4Address(mask))
    if bits == 0:
        return ANY if int(addr) == 0 else ipaddress.ip_network(f"{addr}/32")
    inverse = bits ^ 0xFFFFFFFF
    if bits & (bits + 1) == 0:  # trailing ones: a wildcard mask
        return ipaddress.ip_network(f"{address}/{32 - bits.bit_length()}", strict=False)
    if inverse & (inverse + 1) == 0:  # leading ones: a netmask
        return ipaddress.ip_network(f"{address}/{mask}", strict=False)
    raise ValueError(f"{mask} is neither a contiguous wildcard nor a netmask")


def _kind(kind: str) -> str:
    kind = kind.strip().lower()
    if kind.endswith("_ranges"):
        kind = kind[: -len("_ranges")]
    return {"tunnel": "tunnel_peers", "admins": "approved_admins"}.get(kind, kind)


def _unknown(data: dict, known: Iterable[str], where: str, prefix: str) -> None:
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise ContentError(
            f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(prefix + k for k in unknown)}"
            f" (known: {', '.join(known)})"
        )


def _text(data: dict, key: str, where: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ContentError(f"{where}: {key}: expected text")
    return value


def _strings(value: Any, key: str, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) and str(v).strip() for v in value):
        raise ContentError(f"{where}: {key}: expected a list of non-empty strings")
    return [str(v).strip() for v in value]


def _endpoints(value: Any, key: str, where: str, names: bool = True) -> Endpoints:
    networks: list[Network] = []
    hostnames: set[str] = set()
    for index, entry in enumerate(_strings(value, key, where)):
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError as exc:
            error = exc
        looks_numeric = not re.search(r"[g-z]", entry.lower()) or "/" in entry
        if names and not looks_numeric and _HOSTNAME.match(entry):
            hostnames.add(entry.lower().rstrip("."))
            continue
        expected = "an address, CIDR or host name" if names else "an address or CIDR"
        raise ContentError(f"{where}: {key}[{index}]: {entry!r} is not {expected} ({error})")
    return Endpoints(tuple(networks), frozenset(hostnames), named=names)


def _sensitive(value: Any, where: str) -> tuple[SensitiveHost, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ContentError(f"{where}: sensitive_hosts: expected a mapping of name -> {{address, role}}")
    hosts = []
    for name, spec in value.items():
        key = f"sensitive_hosts.{name}"
        if not isinstance(spec, dict):
            raise ContentError(f"{where}: {key}: expected a mapping with address and role")
        _unknown(spec, ("address", "role"), where, f"{key}.")
        role = str(spec.get("role", "")).strip().lower()
        if role not in HOST_ROLES:
            raise ContentError(f"{where}: {key}.role: {spec.get('role')!r} is not one of {', '.join(HOST_ROLES)}")
        try:
            address = ipaddress.ip_network(str(spec.get("address", "")).strip(), strict=False)
        except ValueError as exc:
            raise ContentError(f"{where}: {key}.address: {exc}") from exc
        hosts.append(SensitiveHost(str(name), address, role))
    return tuple(hosts)
