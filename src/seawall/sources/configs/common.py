"""What every platform parser shares: address and port notation, and an item builder.

Statements about one thing are often spread over many lines (an ACL's entries, NX-OS's
``snmp-server community X`` and ``... use-acl Y``, the ``ip http`` family), while the
model's items are frozen. ``Builder`` gathers an item's facts and line numbers under a key
and makes the items once, at the end, in the order each was first stated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import MISSING, fields
from typing import Any, TypeVar

from seawall.sources.configs.model import DeviceConfig, Item

ItemT = TypeVar("ItemT", bound=Item)

_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_IPV6 = re.compile(r"[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*")

# Port names as IOS, NX-OS, EOS and Junos print them in ACLs and filters.
PORT_NAMES = {
    "echo": 7,
    "discard": 9,
    "daytime": 13,
    "chargen": 19,
    "ftp-data": 20,
    "ftp": 21,
    "ssh": 22,
    "telnet": 23,
    "smtp": 25,
    "time": 37,
    "nameserver": 42,
    "whois": 43,
    "tacacs": 49,
    "tacacs-ds": 65,
    "domain": 53,
    "dns": 53,
    "bootps": 67,
    "dhcp": 67,
    "bootpc": 68,
    "tftp": 69,
    "gopher": 70,
    "finger": 79,
    "www": 80,
    "http": 80,
    "hostname": 101,
    "pop2": 109,
    "pop3": 110,
    "sunrpc": 111,
    "ident": 113,
    "nntp": 119,
    "ntp": 123,
    "netbios-ns": 137,
    "netbios-dgm": 138,
    "netbios-ss": 139,
    "snmp": 161,
    "snmptrap": 162,
    "snmp-trap": 162,
    "xdmcp": 177,
    "bgp": 179,
    "irc": 194,
    "ldap": 389,
    "https": 443,
    "isakmp": 500,
    "biff": 512,
    "exec": 512,
    "login": 513,
    "who": 513,
    "cmd": 514,
    "syslog": 514,
    "lpd": 515,
    "talk": 517,
    "rip": 520,
    "uucp": 540,
    "klogin": 543,
    "kshell": 544,
    "ldp": 646,
    "netconf": 830,
    "radius": 1812,
    "radacct": 1813,
    "radius-acct": 1813,
    "non500-isakmp": 4500,
}
# Inside a wide port range, the ports a check is likely to ask about.
_NOTABLE_PORTS = (22, 23, 49, 161, 162, 179, 514, 830, 1645, 1646, 1812, 1813)
PORT_OPERATORS = frozenset({"eq", "neq", "lt", "gt", "range"})

_mask_cache: dict[str, int | None] = {}
_wildcard_cache: dict[str, int | None] = {}


def is_ipv4(token: str) -> bool:
    return _IPV4.fullmatch(token) is not None


def is_ip(token: str) -> bool:
    """An IPv4 or IPv6 address (no prefix length)."""
    return _IPV4.fullmatch(token) is not None or (":" in token and _IPV6.fullmatch(token) is not None)


def is_prefix(token: str) -> bool:
    """An address with a prefix length: ``10.0.0.0/8``, ``2001:db8::/32``."""
    address, slash, length = token.partition("/")
    return bool(slash) and length.isdecimal() and is_ip(address)


def _bits(dotted: str) -> int | None:
    parts = dotted.split(".")
    if len(parts) != 4 or not all(p.isdecimal() and int(p) < 256 for p in parts):
        return None
    return (int(parts[0]) << 24) | (int(parts[1]) << 16) | (int(parts[2]) << 8) | int(parts[3])


def mask_length(mask: str) -> int | None:
    """The prefix length of a netmask (``255.255.255.0`` → 24); None when not contiguous."""
    cached = _mask_cache.get(mask, -1)
    if cached != -1:
        return cached
    value = _bits(mask)
    length = None
    if value is not None:
        host = ~value & 0xFFFFFFFF
        if host & (host + 1) == 0:
            length = 32 - host.bit_length()
    _mask_cache[mask] = length
    return length


def wildcard_length(wildcard: str) -> int | None:
    """The prefix length of a wildcard mask (``0.0.0.255`` → 24); None when not contiguous."""
    cached = _wildcard_cache.get(wildcard, -1)
    if cached != -1:
        return cached
    value = _bits(wildcard)
    length = None
    if value is not None and value & (value + 1) == 0:
        length = 32 - value.bit_length()
    _wildcard_cache[wildcard] = length
    return length


def host_prefix(address: str) -> str:
    return f"{address}/128" if ":" in address else f"{address}/32"


def with_mask(address: str, mask: str) -> str:
    """``10.0.0.1`` and ``255.255.255.0`` as ``10.0.0.1/24`` (as written when not a netmask)."""
    length = mask_length(mask)
    return f"{address}/{length}" if length is not None else f"{address} {mask}"


def with_wildcard(address: str, wildcard: str) -> str:
    length = wildcard_length(wildcard)
    return f"{address}/{length}" if length is not None else f"{address} {wildcard}"


def port_number(token: str) -> int | None:
    if token.isdecimal():
        return int(token)
    return PORT_NAMES.get(token.lower())


def ports_of(spec: str | None) -> tuple[int, ...]:
    """The ports a port match names: ``eq 49`` → (49,), ``eq tacacs www`` → (49, 80),
    ``range 40 60`` → every port when the range is narrow, else its ends and notable ports."""
    if not spec:
        return ()
    words = spec.split()
    if not words:
        return ()
    op, values = words[0], words[1:]
    if op == "range" and len(values) == 2:
        low, high = port_number(values[0]), port_number(values[1])
        if low is None or high is None or high < low:
            return ()
        if high - low <= 256:
            return tuple(range(low, high + 1))
        return tuple(sorted({low, high, *(p for p in _NOTABLE_PORTS if low <= p <= high)}))
    if op != "eq":
        return ()  # a negation or an open bound names no port to capture
    return tuple(p for p in (port_number(v) for v in values) if p is not None)


def secret_hash_type(value: str) -> str:
    """The scheme of a crypt-style hash: ``$1$`` md5, ``$5$`` sha256, ``$6$`` sha512..."""
    if value.startswith("$"):
        scheme = value[1 : value.find("$", 1)] if value.find("$", 1) > 0 else ""
        return {"1": "md5", "5": "sha256", "6": "sha512", "8": "pbkdf2", "9": "scrypt", "14": "scrypt"}.get(
            scheme, f"${scheme}$"
        )
    return "0"


_WORD = re.compile(r'"([^"]*)"?|([^\s"]+)')


def words_of(text: str, start: int = 0) -> list[str]:
    """Words of a statement (from ``text[start:]``), a double-quoted string counting as one
    word (quotes removed)."""
    if '"' not in text:
        return text[start:].split() if start else text.split()
    return [quoted or bare for quoted, bare in _WORD.findall(text, start)]


def numbers(lines: list[int]) -> tuple[int, ...]:
    """Line numbers as an item holds them: sorted, each once."""
    return (lines[0],) if len(lines) == 1 else tuple(sorted(set(lines)))


class Builder:
    """Facts and line numbers of items gathered under a key; the items made once at the end."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        # collection -> key -> (item class, facts, line numbers); dicts keep first-stated order
        self._items: dict[str, dict[object, tuple[type[Item], dict[str, Any], list[int]]]] = {}

    def put(self, collection: str, key: object, cls: type[Item], line: int, /, **facts: Any) -> dict[str, Any]:
        """Record facts of the item ``key`` of ``collection``; returns its facts to amend."""
        items = self._items.get(collection)
        if items is None:
            items = self._items[collection] = {}
        entry = items.get(key)
        if entry is None:
            items[key] = (cls, facts, [line])
            return facts
        entry[1].update(facts)
        entry[2].append(line)
        return entry[1]

    def get(self, collection: str, key: object) -> dict[str, Any] | None:
        items = self._items.get(collection)
        entry = items.get(key) if items is not None else None
        return entry[1] if entry is not None else None

    def add_line(self, collection: str, key: object, *lines: int) -> None:
        items = self._items.get(collection)
        entry = items.get(key) if items is not None else None
        if entry is not None:
            entry[2].extend(lines)

    def keys(self, collection: str) -> list[object]:
        return list(self._items.get(collection, ()))

    def facts(self, collection: str) -> list[dict[str, Any]]:
        """The facts of every item of a collection, to amend once all lines are read."""
        return [entry[1] for entry in self._items.get(collection, {}).values()]

    def finish(self, config: DeviceConfig) -> None:
        """Make the items into ``config``'s collections, in the order each was first stated."""
        for collection, items in self._items.items():
            out = getattr(config, collection)
            made = None
            for cls, facts, lines in items.values():
                if cls is not made:  # a collection holds items of one class
                    made, build, lists = cls, maker(cls), _list_facts(cls)
                for name in lists:
                    value = facts.get(name)
                    if isinstance(value, list):
                        facts[name] = tuple(value)
                out.append(build((lines[0],) if len(lines) == 1 else tuple(sorted(set(lines))), facts))


# The facts gathered in lists while parsing; the model holds them as tuples.
_LIST_FACTS = frozenset(
    {"entries", "addresses", "sources", "neighbors", "ports", "transport_input", "transport_output"}
)
_list_facts_of: dict[type, tuple[str, ...]] = {}


def _list_facts(cls: type[Item]) -> tuple[str, ...]:
    names = _list_facts_of.get(cls)
    if names is None:
        names = _list_facts_of[cls] = tuple(f.name for f in fields(cls) if f.name in _LIST_FACTS)
    return names


# -- making items ----------------------------------------------------------------------------------

_makers: dict[type, Callable[[tuple[int, ...], dict[str, Any]], Any]] = {}


def maker(cls: type[ItemT]) -> Callable[[tuple[int, ...], dict[str, Any]], ItemT]:
    """A function making ``cls(lines=lines, **facts)`` at half the cost (``facts`` is not kept).

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, about
    a microsecond for an ACL entry, and a configuration has thousands of items. A model item
    (every field with a default, no ``__post_init__``) is equally its ``__dict__``, filled
    here in field order as ``__init__`` fills it; a fact that is not a field is refused the
    same way. Any other class goes through its ``__init__``.
    """
    build = _makers.get(cls)
    if build is None:
        build = _makers[cls] = _maker(cls)
    return build


def _maker(cls: type[ItemT]) -> Callable[[tuple[int, ...], dict[str, Any]], ItemT]:
    every = fields(cls)
    if hasattr(cls, "__post_init__") or not all(f.init and f.default is not MISSING for f in every):
        return lambda lines, facts: cls(lines=lines, **facts)
    defaults = {f.name: f.default for f in every}
    names = frozenset(defaults) - {"lines"}
    new = object.__new__

    def build(lines: tuple[int, ...], facts: dict[str, Any]) -> ItemT:
        if not names.issuperset(facts):
            unknown = ", ".join(sorted(set(facts) - names))
            raise TypeError(f"{cls.__name__}.__init__() got an unexpected keyword argument {unknown!r}")
        item = new(cls)
        state = item.__dict__
        state.update(defaults)
        state["lines"] = lines
        state.update(facts)
        return item

    return build
