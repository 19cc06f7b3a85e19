"""Indicator lists (CSV and TXT) and the one home of indicator type inference.

CSV rows are ``value,type[,tags[,severity]]`` (a header naming the columns is optional
and may reorder them); TXT files hold one value per line. ``#`` starts a comment. A row
without a type gets one from its value. Every value becomes a STIX pattern, built from
the normalised value (so correct by construction, and not re-validated: a million rows
import in seconds), and rows go to the store as one Arrow table.
"""

from __future__ import annotations

import csv
import hashlib
import ipaddress
import re
from pathlib import Path

import pyarrow as pa

from seawall.intel.patterns import single
from seawall.intel.store import DEFAULT_SEVERITY, INDICATOR_SCHEMA, SEVERITIES, SourceBatch

# Coarse types, as the old list loader and the content mapping (intel_fields.yaml) name them.
TYPES = ("ip", "domain", "url", "email", "hash")
# Fine kinds, each with its own STIX pattern (patterns.PATHS).
KINDS = ("ipv4", "ipv6", "ipv4-net", "ipv6-net", "domain", "url", "email", "md5", "sha1", "sha256", "sha512")
COARSE = {
    "ipv4": "ip",
    "ipv6": "ip",
    "ipv4-net": "ip",
    "ipv6-net": "ip",
    "md5": "hash",
    "sha1": "hash",
    "sha256": "hash",
    "sha512": "hash",
}
# Type names seen in exports -> coarse type or fine kind.
ALIASES = {
    **{name: "ip" for name in ("ip", "ipv4", "ipv6", "ip-dst", "ip-src", "ip-addr", "ipv4-addr", "ipv6-addr")},
    **{name: "ip" for name in ("cidr", "ip-range", "netblock", "subnet", "network")},
    **{name: "domain" for name in ("domain", "hostname", "fqdn", "host", "domain-name")},
    **{name: "url" for name in ("url", "uri", "link")},
    **{name: "email" for name in ("email", "e-mail", "email-src", "email-dst", "email-addr")},
    "hash": "hash",
    "md5": "md5",
    "sha1": "sha1",
    "sha-1": "sha1",
    "sha256": "sha256",
    "sha-256": "sha256",
    "sha512": "sha512",
    "sha-512": "sha512",
}
HASH_LENGTHS = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
_HEX = re.compile(r"[0-9a-fA-F]+")
_DOMAIN = re.compile(r"(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]", re.I)
_HOST = re.compile(r"(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9])?", re.I)  # a named type may be one label
_EMAIL = re.compile(r"[^@\s]+@([^@\s]+)")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.I)
_URL_HEAD = re.compile(r"([a-z][a-z0-9+.-]*://)([^/?#@]*@)?([^/?#]*)", re.I)  # scheme://[user@]host[:port]
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")  # canonical dotted quad: no leading zeros
_DEFANG = (("[.]", "."), ("(.)", "."), ("{.}", "."), ("[dot]", "."), ("[:]", ":"), ("[@]", "@"), ("[at]", "@"))
_HEADER_NAMES = {
    "value": "value",
    "indicator": "value",
    "ioc": "value",
    "observable": "value",
    "type": "type",
    "kind": "type",
    "indicator_type": "type",
    "tags": "tags",
    "tag": "tags",
    "labels": "tags",
    "severity": "severity",
    "description": "description",
    "comment": "description",
}
_FIELDS = ("value", "type", "tags", "severity", "description")  # positional order without a header
_ABSENT = 1 << 30
_TAG_SPLIT = re.compile(r"[;|]")
_INLINE_COMMENT = re.compile(r"\s+#.*$")


# ------------------------------------------------------------------------- values
def refang(value: str) -> str:
    """Undo the usual defanging of advisories: hxxp://, evil[.]com, user[@]host."""
    if "[" in value or "(" in value or "{" in value:
        for old, new in _DEFANG:
            value = value.replace(old, new)
    if value[:1] in "hHfF":
        lowered = value[:5].lower()
        if lowered.startswith("hxxp"):
            value = "http" + value[4:]
        elif lowered.startswith("fxp:"):
            value = "ftp" + value[3:]
    return value


def infer_kind(value: str) -> str | None:
    """The fine kind (ipv4, ipv6-net, md5, domain, ...) of a bare value, or None."""
    found = _infer(value)
    return found[0] if found else None


def infer_type(value: str) -> str | None:
    """The coarse type (ip, domain, url, email, hash) of a bare value, or None.

    CIDR ranges count as 'ip'. Kept with the signature of the old list loader's function.
    """
    kind = infer_kind(value)
    return COARSE.get(kind, kind) if kind else None


def _infer(value: str) -> tuple[str, str] | None:
    """(kind, normalised value) of a bare value, parsing it once; None when it is no known kind.

    The cheap tests come first (a list of a million values spends its time here): a
    dotted quad by regex, which also proves it canonical, then hashes by length.
    """
    if not value:
        return None
    if _IPV4.fullmatch(value):
        return "ipv4", value
    if len(value) in HASH_LENGTHS and _HEX.fullmatch(value):
        return HASH_LENGTHS[len(value)], value.lower()
    if "://" in value:
        return ("url", _normalise_url(value)) if _SCHEME.fullmatch(value) else None
    if "@" in value:
        match = _EMAIL.fullmatch(value)
        return ("email", value.lower()) if match and _DOMAIN.fullmatch(match.group(1)) else None
    if "/" in value:
        return _network(value)
    if ":" in value:
        try:
            return "ipv6", ipaddress.IPv6Address(value).compressed
        except ValueError:
            return None
    if _DOMAIN.fullmatch(value):
        return "domain", value.lower().rstrip(".")
    return None


def _network(value: str) -> tuple[str, str] | None:
    """A CIDR range in canonical form (host bits cleared); a /32 or /128 is an address."""
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None
    if network.prefixlen == network.max_prefixlen:
        return ("ipv4" if network.version == 4 else "ipv6"), network.network_address.compressed
    return ("ipv4-net" if network.version == 4 else "ipv6-net"), network.compressed


def classify(value: str, given: str | None = None) -> tuple[str, str]:
    """(kind, normalised value) of an indicator value, with its declared type if any.

    Raises ValueError with the reason when the type is unsupported or the value does not
    fit it. Normalising makes equal indicators equal: IPs compressed, networks in
    canonical form (/32 and /128 become addresses), names and hashes lower-cased.
    """
    value = refang(value.strip())
    if not value:
        raise ValueError("empty value")
    wanted = None
    if given:
        wanted = ALIASES.get(given) or ALIASES.get(given.strip().lower())
        if wanted is None:
            raise ValueError(f"unsupported indicator type {given.strip()!r}")
    found = _infer(value)
    if found is None or (wanted and found[0] != wanted and COARSE.get(found[0]) != wanted):
        if not wanted:
            raise ValueError(f"cannot tell the type of {value!r}")
        found = _declared(value, wanted)
    return found


def _declared(value: str, wanted: str) -> tuple[str, str]:
    """A value whose declared type inference did not confirm (a one-label host name, a URL
    without a scheme); raises ValueError when the value cannot be of that type."""
    if wanted == "domain" and _HOST.fullmatch(value):
        return "domain", value.lower().rstrip(".")
    if wanted == "url" and not any(c.isspace() for c in value):
        # Without a scheme a URL needs a host and a path ("evil.example/login"); a bare
        # file name ("igfxtray.exe") or a relative path ("Data/dtl.dat") is not one.
        authority, slash, path = value.partition("/")
        host = authority.rpartition("@")[2].partition(":")[0]
        if slash and (_DOMAIN.fullmatch(host) or _network(host)):
            return "url", authority.lower() + slash + path
        raise ValueError(f"{value!r} is not a URL: no scheme, and not a host followed by a path")
    raise ValueError(f"{value!r} is not a valid {wanted}")


def _normalise_url(value: str) -> str:
    """Scheme and host lower-cased, the rest (path, query) kept as written."""
    match = _URL_HEAD.match(value)
    if not match:
        return value
    return match.group(1).lower() + (match.group(2) or "") + match.group(3).lower() + value[match.end() :]


# -------------------------------------------------------------------------- files
class _Rows:
    """Column builders for the indicator table of one list file."""

    def __init__(self) -> None:
        self.columns: dict[str, list] = {name: [] for name in ("name", "description", "pattern", "labels")}
        self.severity: list[str] = []
        self.seen: set[str] = set()

    def add(self, kind: str, value: str, labels: list[str] | None, severity: str, description: str | None) -> bool:
        """Add one indicator; False when the same pattern is already there."""
        pattern = single(kind, value)
        if pattern in self.seen:
            return False
        self.seen.add(pattern)
        cols = self.columns
        cols["name"].append(value)
        cols["description"].append(description)
        cols["pattern"].append(pattern)
        cols["labels"].append(labels)
        self.severity.append(severity)
        return True

    def table(self) -> pa.Table:
        n = len(self.severity)
        cols = self.columns
        nulls = pa.nulls(n)
        arrays = {
            "id": nulls.cast(pa.string()),  # uuid5 of the pattern, computed by the store in bulk
            "name": pa.array(cols["name"], pa.string()),
            "description": pa.array(cols["description"], pa.string()),
            "pattern": pa.array(cols["pattern"], pa.string()),
            "pattern_type": pa.repeat(pa.scalar("stix"), n),
            "valid_from": nulls.cast(INDICATOR_SCHEMA.field("valid_from").type),
            "valid_until": nulls.cast(INDICATOR_SCHEMA.field("valid_until").type),
            "revoked": pa.repeat(pa.scalar(False), n),
            "tlp": nulls.cast(pa.string()),
            "markings": nulls.cast(INDICATOR_SCHEMA.field("markings").type),
            "labels": pa.array(cols["labels"], INDICATOR_SCHEMA.field("labels").type),
            "confidence": nulls.cast(pa.int32()),
            "severity": pa.array(self.severity, pa.string()).dictionary_encode().cast(pa.string()),
        }
        return pa.table(arrays, schema=INDICATOR_SCHEMA)


def _read(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    return data.decode("utf-8-sig", errors="replace"), hashlib.sha256(data).hexdigest()


def read_csv(path: Path, text: str | None = None, content_hash: str | None = None) -> SourceBatch:
    """Read a CSV indicator list into a SourceBatch (bad rows become rejects with their line)."""
    if text is None:
        text, content_hash = _read(path)
    batch = SourceBatch("csv", str(path), content_hash or _digest(text), name=path.name, objects_from_indicators=True)
    rows = _Rows()
    columns: tuple[int, ...] | None = None
    severity_notes = duplicates = 0
    labels_of: dict[str, list[str] | None] = {"": None}
    severity_of = {name: name for name in SEVERITIES} | {"": DEFAULT_SEVERITY}
    reader = csv.reader(text.splitlines())
    try:
        for row in reader:
            if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
                continue
            if columns is None:
                columns = header(row)
                if columns:
                    continue
                columns = tuple(range(len(_FIELDS)))
            vi, ti, gi, si, di = columns
            n = len(row)
            batch.inputs += 1
            value = row[vi] if vi < n else ""
            try:
                kind, value = classify(value, row[ti].strip() if ti < n else None)
            except ValueError as exc:
                batch.reject(f"line {reader.line_num}", str(exc), object_id=value.strip()[:200])
                continue
            raw_severity = row[si] if si < n else ""
            severity = severity_of.get(raw_severity)
            if severity is None:
                severity = raw_severity.strip().lower()
                if severity not in SEVERITIES:
                    severity_notes += 1
                    if severity_notes <= 20:
                        batch.notes.append(
                            f"line {reader.line_num}: unknown severity {severity!r}, using {DEFAULT_SEVERITY}"
                        )
                    severity = DEFAULT_SEVERITY
            tags = row[gi] if gi < n else ""
            labels = labels_of.get(tags, False)
            if labels is False:
                labels = labels_of[tags] = [t.strip() for t in _TAG_SPLIT.split(tags) if t.strip()] or None
            description = row[di].strip() or None if di < n else None
            if not rows.add(kind, value, labels, severity, description):
                duplicates += 1
    except csv.Error as exc:  # e.g. a NUL byte; the rows before it are kept
        batch.inputs += 1
        batch.reject(f"line {reader.line_num}", f"unreadable CSV: {exc}")
    return _finish(batch, rows, duplicates, severity_notes)


def header(row: list[str]) -> tuple[int, ...] | None:
    """Positions of the fields (value, type, tags, severity, description) when ``row`` is a
    header (every cell a known name, one of them the value); absent fields get an index
    past any row's end."""
    names = [cell.strip().lower() for cell in row]
    if not all(name in _HEADER_NAMES for name in names if name):
        return None
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        if name:
            columns.setdefault(_HEADER_NAMES[name], index)
    if "value" not in columns:
        return None
    return tuple(columns.get(name, _ABSENT) for name in _FIELDS)


def read_txt(path: Path, text: str | None = None, content_hash: str | None = None) -> SourceBatch:
    """Read a plain list, one value per line (``#`` comments, also after a value)."""
    if text is None:
        text, content_hash = _read(path)
    batch = SourceBatch("txt", str(path), content_hash or _digest(text), name=path.name, objects_from_indicators=True)
    rows = _Rows()
    duplicates = 0
    for line, raw in enumerate(text.splitlines(), start=1):
        value = raw.strip()
        if not value or value.startswith("#"):
            continue
        value = _INLINE_COMMENT.sub("", value)
        batch.inputs += 1
        try:
            kind, value = classify(value)
        except ValueError as exc:
            batch.reject(f"line {line}", str(exc), object_id=value[:200])
            continue
        if not rows.add(kind, value, None, DEFAULT_SEVERITY, None):
            duplicates += 1
    return _finish(batch, rows, duplicates, 0)


def _finish(batch: SourceBatch, rows: _Rows, duplicates: int, severity_notes: int) -> SourceBatch:
    batch.indicators = rows.table()
    batch.ignored = duplicates
    if duplicates:
        batch.notes.append(f"{duplicates} duplicate value(s) imported once")
    if severity_notes > 20:
        batch.notes.append(f"{severity_notes} rows with an unknown severity in all, each using {DEFAULT_SEVERITY}")
    return batch


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


__all__ = ["ALIASES", "KINDS", "TYPES", "classify", "infer_kind", "infer_type", "read_csv", "read_txt"]
