"""The protected-entity registry: organisations, their people and the identifiers that are theirs.

Two forms load into the same model:

* CSV with the header ``organisation,person,role,msisdn,imsi,email,notify_email`` (one row
  per person; any column may be empty; several values in one cell are separated by ``;``)
* YAML with ``organisations: [{name, domains, networks, contacts, people: [...]}]``, which
  can also give an organisation its domains and address ranges

Identifiers are normalised once (E.164 digits for numbers, lower case for addresses) so
that matching a finding's entities is a dictionary look-up.
"""

from __future__ import annotations

import csv
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from seawall.errors import RegistryError

CSV_HEADER = ["organisation", "person", "role", "msisdn", "imsi", "email", "notify_email"]
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_IMSI = re.compile(r"^\d{14,15}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_msisdn(value: str) -> str:
    """'+1 (202) 555-0143' / '001 202 555 0143' / '+44 (0)20 7946 0958' -> E.164 ('+12025550143')."""
    compact = re.sub(r"[\s().\-/]", "", value.replace("(0)", ""))  # '+44 (0)20 ...': a trunk prefix, not a digit
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    return compact


def identifier_keys(value: str) -> set[str]:
    """Every normalised form under which an observed value may name a registry identifier."""
    text = value.strip().lower()
    keys = {text}
    if text.startswith("mailto:"):
        keys.add(text[7:])
    if text.startswith(("sip:", "tel:")):
        text = text.split(":", 1)[1].split("@", 1)[0].split(";", 1)[0]
        keys.add(text)
    digits = normalise_msisdn(text)
    if re.fullmatch(r"\+?\d{6,15}", digits):
        keys.add(digits.lstrip("+"))
    return keys


@dataclass
class Person:
    name: str
    organisation: str
    role: str = ""
    msisdn: list[str] = field(default_factory=list)
    imsi: list[str] = field(default_factory=list)
    email: list[str] = field(default_factory=list)
    notify_email: str = ""

    def identifiers(self) -> list[tuple[str, str]]:
        """(display form, match key) for each identifier."""
        out = [(m, m.lstrip("+")) for m in self.msisdn]
        out += [(i, i) for i in self.imsi]
        out += [(e, e.lower()) for e in self.email]
        return out


@dataclass
class Organisation:
    name: str
    people: list[Person] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = field(default_factory=list)
    contacts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Match:
    organisation: str
    person: str | None
    identifier: str


class Registry:
    """Look up which organisation or person an observed value belongs to."""

    def __init__(self, organisations: list[Organisation]) -> None:
        self.organisations = {o.name: o for o in organisations}
        self._index: dict[str, list[Match]] = {}
        for org in organisations:
            for person in org.people:
                for display, key in person.identifiers():
                    self._index.setdefault(key, []).append(Match(org.name, person.name, display))

    @classmethod
    def empty(cls) -> Registry:
        return cls([])

    @classmethod
    def load(cls, path: Path) -> Registry:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise RegistryError(f"{path}: cannot read registry: {exc}") from exc
        if path.suffix.lower() in (".yml", ".yaml"):
            return cls(_from_yaml(text, path))
        return cls(_from_csv(text, path))

    def keys(self) -> frozenset[str]:
        """Every person identifier in the normalised form ``lookup`` matches on (lower case,
        numbers as bare digits): the values detectors must never cut from a finding."""
        return frozenset(self._index)

    def lookup(self, value: str) -> list[Match]:
        """Registry entries named by an observed value (number, IMSI, address, IP, domain)."""
        found: list[Match] = []
        for key in identifier_keys(value):
            found.extend(self._index.get(key, []))
        found.extend(self._org_matches(value.strip().lower()))
        return list(dict.fromkeys(found))

    def _org_matches(self, value: str) -> list[Match]:
        out = []
        host = value.rsplit("@", 1)[-1]
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            address = None
        for org in self.organisations.values():
            if any(host == d or host.endswith("." + d) for d in org.domains):
                out.append(Match(org.name, None, value))
            if address is not None and any(address in n for n in org.networks):
                out.append(Match(org.name, None, value))
        return out

    def __len__(self) -> int:
        return sum(len(o.people) for o in self.organisations.values())


def _cell_values(cell: str | None) -> list[str]:
    return [v.strip() for v in (cell or "").split(";") if v.strip()]


def _person(row: dict[str, Any], org: str, where: str) -> Person:
    raw = row.get("msisdn")
    if isinstance(raw, int) or (isinstance(raw, list) and any(isinstance(v, int) for v in raw)):
        # YAML reads an unquoted +12025550143 as the integer 12025550143: the '+' was meant.
        raw = [f"+{v}" if isinstance(v, int) else v for v in (raw if isinstance(raw, list) else [raw])]
    msisdn = [normalise_msisdn(v) for v in _as_list(raw)]
    for number in msisdn:
        if not _E164.match(number):
            raise RegistryError(f"{where}: msisdn {number!r} is not an E.164 number (+ and 7-15 digits)")
    imsi = _as_list(row.get("imsi"))
    for value in imsi:
        if not _IMSI.match(value):
            raise RegistryError(f"{where}: imsi {value!r} is not 14-15 digits")
    emails = [e.lower() for e in _as_list(row.get("email"))]
    notify = str(row.get("notify_email") or "").strip()
    for value in [*emails, *([notify] if notify else [])]:
        if not _EMAIL.match(value):
            raise RegistryError(f"{where}: {value!r} is not an e-mail address")
    name = str(row.get("person") or row.get("name") or "").strip()
    return Person(name, org, str(row.get("role") or "").strip(), msisdn, imsi, emails, notify)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return _cell_values(str(value))


def _from_csv(text: str, path: Path) -> list[Organisation]:
    reader = csv.DictReader(text.splitlines())
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if header != CSV_HEADER:
        raise RegistryError(
            f"{path}: the header must be {','.join(CSV_HEADER)} (found {','.join(header) or 'nothing'})"
        )
    orgs: dict[str, Organisation] = {}
    for row in reader:
        number = reader.line_num  # the physical line, blank lines included
        row = {k.strip().lower(): v for k, v in row.items() if k}
        org = (row.get("organisation") or "").strip()
        if not org:
            raise RegistryError(f"{path}:{number}: organisation is empty")
        entry = orgs.setdefault(org, Organisation(org))
        person = _person(row, org, f"{path}:{number}")
        if person.name or person.identifiers():
            entry.people.append(person)
    return list(orgs.values())


def _from_yaml(text: str, path: Path) -> list[Organisation]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("organisations"), list):
        raise RegistryError(f"{path}: expected a mapping with an 'organisations' list")
    orgs = []
    for index, item in enumerate(data["organisations"]):
        where = f"{path}: organisations[{index}]"
        if not isinstance(item, dict) or not item.get("name"):
            raise RegistryError(f"{where}: each organisation needs a name")
        try:
            networks = [ipaddress.ip_network(n, strict=False) for n in _as_list(item.get("networks"))]
        except ValueError as exc:
            raise RegistryError(f"{where}: {exc}") from exc
        org = Organisation(
            name=str(item["name"]),
            domains=[d.lower() for d in _as_list(item.get("domains"))],
            networks=networks,
            contacts=_as_list(item.get("contacts")),
        )
        for pindex, person in enumerate(item.get("people") or []):
            if not isinstance(person, dict):
                raise RegistryError(f"{where}.people[{pindex}]: expected a mapping")
            org.people.append(_person(person, org.name, f"{where}.people[{pindex}]"))
        orgs.append(org)
    return orgs
