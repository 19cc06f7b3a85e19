"""Which platform wrote a configuration, from markers only that platform prints.

Vendors share most keywords (``hostname``, ``interface``, ``ip route``), so the verdict
rests on statements each platform alone writes: IOS XR's ``ipv4 address`` and ``!! IOS XR``
banner, NX-OS's ``feature`` and ``vrf context``, EOS's ``! device:`` and ``management api``,
the ASA's ``ASA Version`` and ``nameif``, Junos' braces and ``set`` statements. The most
specific platforms are tried first; IOS (and IOS XE, which prints the same) is the
fallback for text that looks like Cisco configuration at all.

Markers are plain substrings anchored by a newline, searched with ``in``: the C substring
search reads a 60 kB file in microseconds, where a regular expression with one branch per
marker costs milliseconds (it retries every branch at every line). Only the head of a
file is read, in two steps: a file's first 8 kB settle nearly every real configuration
(headers and versions come first), and only a fragment without them is searched further.
"""

from __future__ import annotations

FIRST_CHARS = 8_192  # headers, versions and feature lines: the first hundred lines
HEAD_CHARS = 262_144  # how far a fragment without them is searched

_JUNOS_STANZAS = (
    "system",
    "interfaces",
    "protocols",
    "firewall",
    "policy-options",
    "routing-options",
    "security",
    "snmp",
    "forwarding-options",
    "vlans",
    "chassis",
    "routing-instances",
    "groups",
)
# Most specific first; each platform's markers are substrings of "\n" + head.
_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("asa", ("\nASA Version ", "\nPIX Version ", "\nFWSM Version ", "\n: Saved", "\n nameif ", "\n security-level ")),
    (
        "iosxr",
        (
            "!! IOS XR",
            "\n ipv4 address ",
            "\nipv4 access-list ",
            "\ninterface MgmtEth",
            "\ninterface preconfigure ",
            "\nvty-pool ",
            "\nline template ",
            "\nroute-policy ",
            "\nend-policy",
            "\nprefix-set ",
            "\nrouter static",
            "\nssh server v2",
            "\ntelnet vrf ",
            "RP/0/RSP0/CPU0:",
            "RP/0/RP0/CPU0:",
        ),
    ),
    (
        "eos",
        (
            "\n! device: ",
            "\ndaemon TerminAttr",
            "\nmanagement api ",
            "\nmanagement ssh",
            "\nmanagement telnet",
            "\nmanagement console",
            "\nmanagement security",
            "\nservice routing protocols model",
            "\nvrf instance ",
            "\ntransceiver qsfp ",
        ),
    ),
    (
        "nxos",
        (
            "!Command: show running-config",
            "\n!Time:",
            "\nfeature ",
            "\nswitchname ",
            "\nvdc ",
            "\nvrf context ",
            "\ninstall feature-set ",
            "\n  vrf member ",
            "\n vrf member ",
        ),
    ),
    (
        "junos",
        (
            "## Last commit",
            "## Last changed",
            *(f"\nset {s} " for s in _JUNOS_STANZAS),
            *(f"\n{s} {{" for s in _JUNOS_STANZAS),
        ),
    ),
)
_IOS = (
    "Building configuration",
    "Current configuration :",
    "\nboot-start-marker",
    "\nservice timestamps ",
    "\nservice password-encryption",
    "\nversion 1",
)
_BRACES = (" {\n", "\n}")
_CISCO = tuple(
    f"\n{w}"
    for w in (
        "hostname ",
        "interface ",
        "ip ",
        "ipv6 ",
        "access-list ",
        "line ",
        "router ",
        "vlan ",
        "snmp-server ",
        "logging ",
        "ntp ",
        "aaa ",
        "username ",
        "enable ",
        "banner ",
        "crypto ",
        "no ",
        "spanning-tree ",
        "tacacs-server ",
        "radius-server ",
        "end",
    )
)


STRICT_CISCO_MARKERS = 4  # generic Cisco statements a headless file needs besides "hostname" when strict


def sniff_platform(text: str, strict: bool = False) -> str | None:
    """The platform of a configuration (one of model.PLATFORMS), or None when unsure.

    ``strict`` is for text that may be anything (a hunt's evidence folder): braces alone do
    not make Junos, and a file without a platform's own markers is Cisco only when it sets
    a hostname and uses several other top-level Cisco statements (notes that mention a
    "line card" and end with "end" are not a configuration). ``seawall audit`` is told
    its files are configurations and reads fragments leniently."""
    head = _Head(text[:FIRST_CHARS])
    found = _specific(head)
    if found:
        return found
    if head.has(_IOS):  # a headed IOS file: no other platform prints these
        return "ios"
    if len(text) > FIRST_CHARS:  # a fragment: look further for anything specific
        head = _Head(text[:HEAD_CHARS])
        found = _specific(head)
        if found:
            return found
        if head.has(_IOS):
            return "ios"
    if strict:
        generic = sum(1 for marker in _CISCO if marker in head.text)
        return "ios" if "\nhostname " in head.text and generic > STRICT_CISCO_MARKERS else None
    if all(b in head.text for b in _BRACES):
        return "junos"
    if head.has(_CISCO):
        return "ios"
    return None


class _Head:
    """``"\\n"`` + the head of a file, and the first three characters of each of its lines.

    A marker ``"\\nXYZ..."`` can only be in the head if some line starts with ``XYZ``: the
    one set look-up spares most of the sixty substring searches of the head."""

    __slots__ = ("starts", "text")

    def __init__(self, head: str) -> None:
        self.text = "\n" + head.replace("\r\n", "\n")
        self.starts = {line[:3] for line in self.text.split("\n")}

    def has(self, markers: tuple[str, ...]) -> bool:
        """Whether any of ``markers`` is a substring of the head."""
        text, starts = self.text, self.starts
        return any(m in text for m in markers if m[0] != "\n" or len(m) < 4 or m[1:4] in starts)


def _specific(head: _Head) -> str | None:
    for platform, markers in _MARKERS:
        if head.has(markers):
            return platform
    return None
