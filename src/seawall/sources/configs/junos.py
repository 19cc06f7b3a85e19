"""Junos configurations, hierarchical (``show configuration``) or ``display set``.

Both forms say the same thing, so the braces are first flattened into set statements (the
path of enclosing blocks, then the statement's words) that keep their line numbers, and
the statements are interpreted once. Flattening is where structure can be wrong: a ``}``
with no block open, a block still open at the end of the file (a truncated file), words
with no ``;`` or ``{`` after them. Such lines are reported as unparsed and the
configuration as partial; the statements around them are still read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from seawall.sources.configs.common import Builder, maker, numbers, port_number, ports_of, secret_hash_type, words_of
from seawall.sources.configs.model import (
    COLLECTIONS,
    AaaServer,
    Acl,
    AclEntry,
    Banner,
    DeviceConfig,
    Feature,
    Interface,
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

Statement = tuple[int, list[str]]

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[{};]|[^\s{};"]+')
_NOISE = re.compile(r"^(?:\{[\w:-]+\}|[^\s@]+@[^\s>#]+[>#].*|\[edit.*\])$")  # CLI output around a config
ROOT_ROLE = "root-authentication"
_SUPER_USER = frozenset({"super-user", "superuser", ROOT_ROLE})
_LEVELS = {"privacy": "priv", "authentication": "auth", "none": "noauth"}
_TERMINAL = {"accept": "permit", "discard": "deny", "reject": "deny"}
MAX_ENTRIES_PER_TERM = 64  # sources x destinations of one term; beyond, the term is one entry
_new_entry = maker(AclEntry)


def parse_junos(lines: list[str], config: DeviceConfig) -> None:
    """Fill ``config`` from the lines of a Junos file, in either form."""
    problems: list[str] = []
    statements = flatten(lines, config.unparsed, problems)
    if problems:
        config.status = "partial"
        config.reason = "; ".join(dict.fromkeys(problems))
    _Interpreter(config).run(statements)
    if "{" in "".join(lines) and any(line.rstrip().endswith("{") for line in lines):  # hierarchical
        _name_blocks(config, lines)


def _name_blocks(config: DeviceConfig, lines: list[str]) -> None:
    """Add to each item the block lines that name it (``host 10.80.5.20 {``), so evidence
    quotes the line a reader looks for, not only the statements inside the block."""
    parent = _enclosing_blocks(lines)
    for collection in COLLECTIONS:
        items = getattr(config, collection)
        for index, item in enumerate(items):
            named = {v for v in item.facts().values() if isinstance(v, str) and v}
            found = set()
            for number in item.lines:
                opener = parent.get(number)
                while opener is not None and opener not in found:
                    header = lines[opener - 1].replace("{", " ").split()
                    if named.intersection(header):
                        found.add(opener)
                    opener = parent.get(opener)
            if found - set(item.lines):
                items[index] = replace(item, lines=tuple(sorted(found.union(item.lines))))


def _enclosing_blocks(lines: list[str]) -> dict[int, int]:
    """Line number -> the line number of the block it stands in (hierarchical form)."""
    parent: dict[int, int] = {}
    open_blocks: list[int] = []
    for number, raw in enumerate(lines, 1):
        text = raw.split("#", 1)[0].strip()
        if open_blocks:
            parent[number] = open_blocks[-1]
        if text.endswith("{"):
            open_blocks.append(number)
        elif text.endswith("}") and "{" not in text and open_blocks:
            open_blocks.pop()
    return parent


# -- braces to set statements ------------------------------------------------------------------


def _strip_comment(text: str) -> str:
    """The text before a ``#`` comment that is outside quotes (``## SECRET-DATA``)."""
    quoted = False
    for k, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted and (k == 0 or text[k - 1] in " \t;{}"):
            return text[:k].rstrip()
    return text


def _expand(words: list[str]) -> list[list[str]]:
    """``members [ a b ]`` as ``members a`` and ``members b``."""
    if "[" not in words:
        return [words]
    start = words.index("[")
    end = words.index("]", start) if "]" in words[start:] else len(words)
    return [[*words[:start], item, *words[end + 1 :]] for item in words[start + 1 : end]]


def flatten(lines: list[str], unparsed: list[tuple[int, int]], problems: list[str]) -> list[Statement]:
    """Each statement as (line number, its full path of words); bad lines go to ``unparsed``.

    A block marked ``inactive:`` (and everything in it) is read but yields nothing.
    """
    out: list[Statement] = []
    add = out.append
    prefix: list[str] = []
    frames: list[tuple[int, int, bool]] = []  # (prefix length before the block, its line, inactive)
    in_comment = False
    for index, raw in enumerate(lines):
        number = index + 1
        text = raw.strip()
        if in_comment:
            if "*/" not in text:
                continue
            in_comment = False
            text = text[text.index("*/") + 2 :].strip()
        if not text or text[0] == "#":
            continue
        if text.startswith("set "):  # display set: the words after "set", quotes removed
            words = text[4:].split() if '"' not in text else words_of(text, 4)
            if "[" in text and "[" in words:
                out.extend((number, w) for w in _expand(words))
            else:
                add((number, words))
            continue
        if text.startswith(("deactivate ", "delete ", "activate ")):
            words = words_of(text)
            if words[0] == "deactivate":
                add((number, ["<deactivate>", *words[1:]]))
            continue
        if text.startswith("/*"):
            in_comment = "*/" not in text
            continue
        if "#" in text:
            text = _strip_comment(text)
            if not text:
                continue
        last = text[-1]
        simple = '"' not in text and "}" not in text
        # fast paths: one statement, one block opening, one block closing
        if last == ";" and simple and "{" not in text:
            words = text[:-1].split()
            if words and not (frames and frames[-1][2]) and words[0] != "inactive:":
                if words[0] in ("protect:", "replace:"):
                    words = words[1:]
                if "[" in words:
                    out.extend((number, [*prefix, *w]) for w in _expand(words))
                else:
                    add((number, prefix + words))
            continue
        if last == "{" and simple and text.count("{") == 1:
            _open(text[:-1].split(), number, prefix, frames)
            continue
        if text == "}":
            if frames:
                del prefix[frames.pop()[0] :]
            else:
                unparsed.append((number, number))
                problems.append("a '}' closes no block")
            continue
        if _NOISE.match(text):
            continue
        out.extend(_general(number, text, prefix, frames, unparsed, problems))
    if frames:
        unparsed.append((frames[-1][1], len(lines)))
        problems.append(f"truncated: {len(frames)} block(s) not closed")
    return out


def _open(words: list[str], number: int, prefix: list[str], frames: list[tuple[int, int, bool]]) -> None:
    inactive = bool(frames and frames[-1][2])
    if words and words[0] in ("inactive:", "protect:", "replace:"):
        inactive = inactive or words[0] == "inactive:"
        words = words[1:]
    frames.append((len(prefix), number, inactive))
    prefix.extend(words)


def _general(
    number: int,
    text: str,
    prefix: list[str],
    frames: list[tuple[int, int, bool]],
    unparsed: list[tuple[int, int]],
    problems: list[str],
) -> Iterator[Statement]:
    """A line with quotes or several braces: tokenise it and walk the tokens."""
    words: list[str] = []
    for token in _TOKEN.findall(text):
        if token == "{":
            _open(words, number, prefix, frames)
            words = []
        elif token == ";":
            if words and not (frames and frames[-1][2]) and words[0] != "inactive:":
                if words[0] in ("protect:", "replace:"):
                    words = words[1:]
                yield from ((number, [*prefix, *w]) for w in _expand(words))
            words = []
        elif token == "}":
            if words:
                break
            if frames:
                length = frames.pop()[0]
                del prefix[length:]
            else:
                unparsed.append((number, number))
                problems.append("a '}' closes no block")
                return
        else:
            words.append(token[1:-1] if token[0] == '"' and len(token) > 1 and token[-1] == '"' else token)
    if words:
        unparsed.append((number, number))
        problems.append("a statement with no ';' or '{'")


# -- set statements to the model ---------------------------------------------------------------


class _Interpreter:
    def __init__(self, config: DeviceConfig) -> None:
        self.config = config
        self.b = Builder()
        self.filters: dict[tuple[str, str], dict[str, dict]] = {}
        self.unit_vrf: dict[str, tuple[str, int]] = {}
        self.physical_disabled: set[str] = set()
        self.autonomous_system: str | None = None
        self.bgp_groups: dict[str, dict] = {}
        self.capture_lines: list[int] = []
        self._trap_versions: dict[str, str] = {}

    def run(self, statements: list[Statement]) -> None:
        applied = {tuple(w[1:2]) for _n, w in statements if w and w[0] == "apply-groups" and len(w) > 1}
        deactivated = [tuple(w[1:]) for _n, w in statements if w and w[0] == "<deactivate>"]
        handlers = _HANDLERS
        for number, words in statements:
            if not words:
                continue
            if words[0] == "groups":
                if len(words) < 3 or (words[1],) not in applied:
                    continue
                words = words[2:]
            if deactivated and any(tuple(words[: len(d)]) == d for d in deactivated):
                continue
            handler = handlers.get(words[0])
            if handler is not None and len(words) > 1:
                handler(self, number, words)
        self.settle()

    # system ----------------------------------------------------------------------------------

    def system(self, number: int, w: list[str]) -> None:
        sub, n = w[1], len(w)
        if sub == "host-name" and n > 2:
            self.config.hostname = w[2]
        elif sub == "login" and n > 3:
            if w[2] == "user" and n > 4:
                self._user(number, w[3], w[4:])
            elif w[2] in ("message", "announcement"):
                kind = "login" if w[2] == "message" else "motd"
                text = w[3].replace("\\n", "\n").replace("\\t", "\t")
                self.b.put("banners", kind, Banner, number, kind=kind, text=text)
        elif sub == "root-authentication" and n > 3:
            # the built-in root account every Junos device must have: its own role, so checks
            # can tell it from an account someone added
            self._user(number, "root", ["class", ROOT_ROLE, "authentication", *w[2:]])
        elif sub in ("tacplus-server", "radius-server") and n > 2:
            protocol = "tacacs" if sub == "tacplus-server" else "radius"
            facts = self.b.put("aaa_servers", (protocol, w[2]), AaaServer, number, protocol=protocol, address=w[2])
            secret, port, vrf = _after(w, 3, "secret", "port", "routing-instance")
            if secret is not None:
                facts["key_type"] = "encrypted" if secret.startswith("$9$") else "0"
            if port is not None and port.isdecimal():
                facts["port"] = int(port)
            if vrf is not None:
                facts["vrf"] = vrf
        elif sub == "services" and n > 2:
            self._service(number, w[2:])
        elif sub == "syslog" and n > 3 and w[2] == "host":
            facts = self.b.put("logging_hosts", w[3], Server, number, address=w[3])
            port, vrf = _after(w, 4, "port", "routing-instance")
            if port is not None and port.isdecimal():
                facts["port"] = int(port)
            if vrf is not None:
                facts["vrf"] = vrf
        elif sub == "ntp" and n > 2:
            if w[2] == "server" and n > 3:
                facts = self.b.put("ntp_servers", w[3], Server, number, address=w[3])
                key, vrf = _after(w, 4, "key", "routing-instance")
                if key is not None:
                    facts["key"] = key
                if vrf is not None:
                    facts["vrf"] = vrf
            elif w[2] == "trusted-key":
                self.b.put("features", number, Feature, number, name="ntp-authenticate", enabled=True)

    def _user(self, number: int, name: str, rest: list[str]) -> None:
        facts = self.b.put("users", name, User, number, name=name)
        n = len(rest)
        if rest[0] == "class" and n > 1:
            facts["role"] = rest[1]
            facts["privilege"] = 15 if rest[1] in _SUPER_USER else facts.get("privilege")
            rest = rest[2:]
            n = len(rest)
        if n > 2 and rest[0] == "authentication":
            method, value = rest[1], rest[2]
            if method == "encrypted-password":
                facts["secret_type"] = secret_hash_type(value)
                facts["secret_kind"] = "encrypted-password"
            elif method == "plain-text-password":
                facts["secret_type"], facts["secret_kind"] = "0", "plain-text-password"
            elif facts.get("secret_kind") is None:  # ssh-rsa, ssh-ed25519...: a key, not a password
                facts["secret_type"], facts["secret_kind"] = "ssh-key", method

    def _service(self, number: int, w: list[str]) -> None:
        """``system services X ...`` (w starts at X)."""
        name, n = w[0], len(w)
        if name == "web-management" and n > 1 and w[1] in ("http", "https"):
            facts = self._named_service(number, w[1])
            if n > 3 and w[2] == "port" and w[3].isdecimal():
                facts["ports"] = (int(w[3]),)
            return
        if name == "netconf" or name == "rest":
            facts = self._named_service(number, name)
            if "port" in w[:-1] and w[w.index("port") + 1].isdecimal():
                facts["ports"] = (int(w[w.index("port") + 1]),)
            return
        if name == "extension-service":
            if "grpc" in w:
                facts = self._named_service(number, "grpc")
                if "port" in w[:-1] and w[w.index("port") + 1].isdecimal():
                    facts["ports"] = (int(w[w.index("port") + 1]),)
            return
        facts = self._named_service(number, name)
        if name == "ssh" and n > 2:
            if w[1] == "protocol-version":
                facts["version"] = w[2].lstrip("v")
            elif w[1] == "port" and w[2].isdecimal():
                facts["ports"] = (int(w[2]),)

    def _named_service(self, number: int, name: str) -> dict:
        facts = self.b.get("services", name)
        if facts is None:
            return self.b.put("services", name, Service, number, name=name, enabled=True)
        self.b.add_line("services", name, number)
        return facts

    # interfaces --------------------------------------------------------------------------------

    def interfaces(self, number: int, w: list[str]) -> None:
        name, n = w[1], len(w)
        if name in ("interface-range", "traceoptions") or n < 3:
            return
        if w[2] == "unit" and n > 3:
            unit = f"{name}.{w[3]}"
            facts = self._interface(unit, number)
            rest = w[4:]
        else:
            unit = None
            rest = w[2:]
            if rest[0] not in ("description", "disable"):
                return
            facts = self._interface(name, number)
        if not rest:
            return
        head = rest[0]
        if head == "description" and len(rest) > 1:
            facts["description"] = rest[1]
        elif head == "disable":
            facts["shutdown"] = True
            if unit is None:
                self.physical_disabled.add(name)
        elif head == "family" and len(rest) > 3 and rest[2] == "address" and rest[3] not in facts["addresses"]:
            facts["addresses"].append(rest[3])
        elif head == "tunnel" and len(rest) > 2 and rest[1] in ("source", "destination") and unit:
            mode = "gre" if name.startswith("gr-") else "ipip" if name.startswith("ip-") else "tunnel"
            tunnel = self.b.put("tunnels", unit, Tunnel, number, name=unit, mode=mode)
            tunnel[rest[1]] = rest[2]

    def _interface(self, name: str, number: int) -> dict:
        facts = self.b.get("interfaces", name)
        if facts is None:
            return self.b.put(
                "interfaces", name, Interface, number, name=name, addresses=[], shutdown=False, description=None
            )
        self.b.add_line("interfaces", name, number)
        return facts

    # firewall filters and prefix lists -------------------------------------------------------------

    def firewall(self, number: int, w: list[str]) -> None:
        n = len(w)
        if w[1] == "family" and n > 2:
            family, k = w[2], 3
        else:
            family, k = "inet", 1
        if n < k + 5 or w[k] != "filter" or w[k + 2] != "term":
            return
        key = (w[k + 1], "ipv6" if family == "inet6" else "filter")
        terms = self.filters.get(key)
        if terms is None:
            terms = self.filters[key] = {}
        term = terms.get(w[k + 3])
        if term is None:
            term = terms[w[k + 3]] = {"from": {}, "then": [], "lines": [], "first": number}
        term["lines"].append(number)
        head = w[k + 4]  # then come: from MATCH [VALUE [except]], or then ACTION
        if head == "from" and n > k + 5:
            values = term["from"].setdefault(w[k + 5], [])
            if n > k + 6 and not (n > k + 7 and w[k + 7] == "except"):
                values.append(w[k + 6])
            elif n == k + 6:
                values.append("")
        elif head == "then" and n > k + 5:
            term["then"].append(w[k + 5])

    def policy_options(self, number: int, w: list[str]) -> None:
        if len(w) > 3 and w[1] == "prefix-list" and w[3] != "apply-path":
            facts = self.b.get("acls", w[2]) or self.b.put(
                "acls", w[2], Acl, number, name=w[2], kind="prefix-list", entries=[]
            )
            entry = AclEntry(lines=(number,), action="permit", source=w[3], text=" ".join(w))
            facts["entries"].append(entry)
            self.b.add_line("acls", w[2], number)

    # SNMP -------------------------------------------------------------------------------------------

    def snmp(self, number: int, w: list[str]) -> None:
        sub, n = w[1], len(w)
        if sub == "community" and n > 2:
            facts = self.b.get("snmp_communities", w[2]) or self.b.put(
                "snmp_communities", w[2], SnmpCommunity, number, community=w[2]
            )
            self.b.add_line("snmp_communities", w[2], number)
            if n > 4 and w[3] == "authorization":
                facts["access"] = {"read-only": "ro", "read-write": "rw"}.get(w[4], w[4])
            elif n > 4 and w[3] == "clients":
                # the community's own client list is its ACL, like IOS "community X RO 20"
                facts["acl"] = f"snmp-clients:{w[2]}"
                self._client(facts["acl"], number, w[4], restrict=n > 5 and w[5] == "restrict")
            elif n > 4 and w[3] == "client-list-name":
                facts["acl"] = w[4]
        elif sub == "client-list" and n > 3:
            self._client(w[2], number, w[3], restrict=n > 4 and w[4] == "restrict")
        elif sub == "trap-group" and n > 4 and w[3] == "targets":
            facts = self.b.put("snmp_hosts", (w[4], w[2]), SnmpHost, number, address=w[4], community_or_user=w[2])
        elif sub == "trap-group" and n > 4 and w[3] == "version":
            self._trap_versions[w[2]] = {"v1": "v1", "v2": "v2c", "v3": "v3"}.get(w[4], w[4])
        elif sub == "v3" and n > 5 and w[2] == "vacm" and w[3] == "access" and w[4] == "group":
            level = _LEVELS.get(w[w.index("security-level") + 1]) if "security-level" in w[:-1] else None
            facts = self.b.put("snmp_groups", w[5], SnmpGroup, number, name=w[5], version="v3")
            if level:
                facts["level"] = level
        elif sub == "v3" and n > 5 and w[2] == "target-address" and w[4] == "address":
            self.b.put("snmp_hosts", (w[5], w[3]), SnmpHost, number, address=w[5], version="v3", community_or_user=w[3])

    def _client(self, acl: str, number: int, prefix: str, restrict: bool) -> None:
        """An SNMP client prefix as an entry of the ACL named ``acl`` (``restrict``: denied)."""
        facts = self.b.get("acls", acl) or self.b.put(
            "acls", acl, Acl, number, name=acl, kind="snmp-clients", entries=[]
        )
        action = "deny" if restrict else "permit"
        facts["entries"].append(AclEntry(lines=(number,), action=action, source=prefix, text=f"{prefix} {action}"))
        self.b.add_line("acls", acl, number)

    # routing ------------------------------------------------------------------------------------------

    def routing_options(self, number: int, w: list[str], vrf: str | None = None) -> None:
        if w[1] == "autonomous-system" and len(w) > 2 and vrf is None:
            self.autonomous_system = w[2]
            return
        if "static" not in w or "route" not in w:
            return
        k = w.index("route")
        if k + 1 >= len(w):
            return
        prefix = w[k + 1]
        rest = w[k + 2 :]
        next_hop = None
        if len(rest) > 1 and rest[0] in ("next-hop", "qualified-next-hop"):
            next_hop = rest[1]
        elif rest and rest[0] in ("discard", "reject"):
            next_hop = rest[0]
        key = (vrf, prefix)
        facts = self.b.get("static_routes", key)
        if facts is None:
            self.b.put("static_routes", key, StaticRoute, number, prefix=prefix, next_hop=next_hop, vrf=vrf)
        else:
            facts["next_hop"] = facts.get("next_hop") or next_hop
            self.b.add_line("static_routes", key, number)

    def protocols(self, number: int, w: list[str], vrf: str | None = None) -> None:
        protocol, n = w[1], len(w)
        if protocol == "lldp":
            self.b.put("features", number, Feature, number, name="lldp", enabled=not (n > 2 and w[2] == "disable"))
            return
        if protocol not in ("ospf", "ospf3", "bgp", "isis", "rip", "ripng"):
            return
        key = (protocol, vrf)
        facts = self.b.get("routing", key) or self.b.put(
            "routing", key, RoutingProtocol, number, name=protocol if vrf is None else f"{protocol} {vrf}"
        )
        self.b.add_line("routing", key, number)
        if protocol == "bgp":
            self._bgp(key, w[2:])
        elif any("authentication" in x for x in w[2:]):
            facts["authenticated"] = True

    def _bgp(self, key: tuple[str, str | None], w: list[str]) -> None:
        groups = self.bgp_groups.setdefault(str(key), {"<all>": {"auth": False, "neighbors": {}}})
        if w and w[0] == "authentication-key":
            groups["<all>"]["auth"] = True
        if len(w) < 3 or w[0] != "group":
            return
        group = groups.setdefault(w[1], {"auth": False, "neighbors": {}})
        if w[2] == "authentication-key":
            group["auth"] = True
        elif w[2] == "neighbor" and len(w) > 3:
            authed = group["neighbors"].get(w[3], False)
            group["neighbors"][w[3]] = authed or (len(w) > 4 and w[4] == "authentication-key")

    def routing_instances(self, number: int, w: list[str]) -> None:
        if len(w) < 4:
            return
        vrf, rest = w[1], w[2:]
        if rest[0] == "interface":
            self.unit_vrf[rest[1]] = (vrf, number)
        elif rest[0] == "routing-options" and len(rest) > 1:
            self.routing_options(number, rest, vrf)
        elif rest[0] == "protocols" and len(rest) > 1:
            self.protocols(number, rest, vrf)

    # IPsec, mirroring, capture ---------------------------------------------------------------------------

    def security(self, number: int, w: list[str]) -> None:
        if len(w) > 5 and w[1] == "ike" and w[2] == "gateway" and w[4] in ("address", "external-interface"):
            name = f"ike gateway {w[3]}"
            facts = self.b.put("tunnels", name, Tunnel, number, name=name, mode="ipsec")
            facts["destination" if w[4] == "address" else "source"] = w[5]

    def forwarding_options(self, number: int, w: list[str]) -> None:
        sub = w[1]
        if sub == "packet-capture":
            self.b.put("packet_captures", "packet-capture", PacketCapture, number, name="packet-capture")
            self.capture_lines.append(number)
            return
        if sub not in ("port-mirroring", "analyzer"):
            return
        rest = w[2:]
        if sub == "analyzer":
            if not rest:
                return
            session, rest = rest[0], rest[1:]
        elif rest[:1] == ["instance"] and len(rest) > 1:
            session, rest = rest[1], rest[2:]
        else:
            session = "port-mirroring"
        facts = self.b.get("monitor_sessions", session) or self.b.put(
            "monitor_sessions", session, MonitorSession, number, session=session, kind="span", sources=[]
        )
        self.b.add_line("monitor_sessions", session, number)
        if rest[:2] == ["family", "inet"] or rest[:2] == ["family", "inet6"]:
            rest = rest[2:]
        if len(rest) > 2 and rest[0] == "output":
            if rest[1] == "ip-address":
                facts["destination"], facts["kind"] = rest[2], "erspan-source"
            elif rest[1] == "interface":
                if len(rest) > 4 and rest[3] == "next-hop":
                    facts["destination"] = rest[4]
                else:
                    facts["destination"] = rest[2]
        elif len(rest) > 3 and rest[0] == "input" and rest[2] == "interface":
            facts["sources"].append(rest[3])

    # settling --------------------------------------------------------------------------------------------

    def settle(self) -> None:
        b = self.b
        for facts in b.facts("snmp_hosts"):
            if facts.get("version") is None and facts.get("community_or_user") in self._trap_versions:
                facts["version"] = self._trap_versions[facts["community_or_user"]]
        for (name, kind), terms in self.filters.items():
            key = ("filter", name)
            facts = b.put("acls", key, Acl, min(t["first"] for t in terms.values()), name=name, kind=kind)
            entries: list[AclEntry] = []
            lines: list[int] = []
            for sequence, (term_name, term) in enumerate(terms.items(), 1):
                entries.extend(_term_entries(sequence, term_name, term))
                lines.extend(term["lines"])
            b.add_line("acls", key, *lines)
            facts["entries"] = entries
            if self.capture_lines:  # a packet capture is configured
                self._sampled(name, terms)
        for unit, (vrf, number) in self.unit_vrf.items():
            facts = b.get("interfaces", unit)
            if facts is not None:
                facts["vrf"] = vrf
                b.add_line("interfaces", unit, number)
        for facts in b.facts("interfaces"):
            if facts["name"].split(".")[0] in self.physical_disabled:
                facts["shutdown"] = True
        for key in b.keys("routing"):
            facts = b.get("routing", key) or {}
            if facts["name"] == "bgp" and self.autonomous_system:
                facts["name"] = f"bgp {self.autonomous_system}"
            groups = self.bgp_groups.get(str(key))
            if groups:
                everyone = groups["<all>"]["auth"]
                neighbors = {n: a or g["auth"] or everyone for g in groups.values() for n, a in g["neighbors"].items()}
                facts["neighbors"] = list(neighbors)
                facts["authenticated"] = all(neighbors.values()) if neighbors else everyone
        b.finish(self.config)

    def _sampled(self, name: str, terms: dict[str, dict]) -> None:
        """A filter term that samples feeds ``forwarding-options packet-capture``."""
        facts = self.b.get("packet_captures", "packet-capture")
        if facts is None:
            return
        for term_name, term in terms.items():
            if "sample" in term["then"]:
                facts["match"] = (
                    f"{facts['match']}, {name} {term_name}" if facts.get("match") else f"{name} {term_name}"
                )
                ports = set(facts.get("ports", ()))
                for field in ("destination-port", "source-port", "port"):
                    for value in term["from"].get(field, ()):
                        ports.update(_port_values(value))
                facts["ports"] = tuple(sorted(ports))
                self.b.add_line("packet_captures", "packet-capture", *term["lines"])


def _after(w: list[str], start: int, *keywords: str) -> list[str | None]:
    """The word after each keyword in ``w[start:]`` (None when the keyword is absent)."""
    found: dict[str, str] = {}
    for k in range(start, len(w) - 1):
        if w[k] in keywords:
            found.setdefault(w[k], w[k + 1])
    return [found.get(keyword) for keyword in keywords]


def _port_values(value: str) -> tuple[int, ...]:
    if "-" in value and not value.startswith("-"):
        low, _, high = value.partition("-")
        return ports_of(f"range {low} {high}")
    port = port_number(value)
    return (port,) if port is not None else ()


def _port_spec(values: list[str]) -> str | None:
    if not values:
        return None
    if len(values) == 1 and "-" in values[0] and not values[0].startswith("-"):
        low, _, high = values[0].partition("-")
        return f"range {low} {high}"
    return "eq " + " ".join(values)


def _term_entries(sequence: int, name: str, term: dict) -> list[AclEntry]:
    """A filter term as ACL entries: one per source and destination it matches."""
    matches = term["from"]
    action = "permit"
    for then in term["then"]:
        if then in _TERMINAL:
            action = _TERMINAL[then]
            break
    lines = numbers(term["lines"])
    text = f"term {name}"
    if not matches:  # the term matches every packet
        return [_new_entry(lines, {"sequence": sequence, "action": action, "text": text})]
    get = matches.get
    sources = [x for k in ("source-address", "source-prefix-list", "address", "prefix-list") for x in get(k, ())]
    destinations = [x for k in ("destination-address", "destination-prefix-list") for x in get(k, ())]
    protocol = " ".join(get("protocol", ())) or None
    destination_port = _port_spec([*get("destination-port", ()), *get("port", ())])
    source_port = _port_spec(get("source-port", []))
    pairs: list[tuple[str | None, str | None]] = [(s, d) for s in sources or [None] for d in destinations or [None]]
    if len(pairs) > MAX_ENTRIES_PER_TERM:
        pairs = [(" ".join(sources) or None, " ".join(destinations) or None)]
    return [
        _new_entry(
            lines,
            {
                "sequence": sequence,
                "action": action,
                "protocol": protocol,
                "source": s,
                "destination": d,
                "destination_port": destination_port,
                "source_port": source_port,
                "text": text,
            },
        )
        for s, d in pairs
    ]


_HANDLERS = {
    "system": _Interpreter.system,
    "interfaces": _Interpreter.interfaces,
    "firewall": _Interpreter.firewall,
    "policy-options": _Interpreter.policy_options,
    "snmp": _Interpreter.snmp,
    "routing-options": _Interpreter.routing_options,
    "protocols": _Interpreter.protocols,
    "routing-instances": _Interpreter.routing_instances,
    "security": _Interpreter.security,
    "forwarding-options": _Interpreter.forwarding_options,
}
