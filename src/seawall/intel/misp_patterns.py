"""MISP attribute types as STIX 2.1 patterns, so MISP intel is matched like any STIX indicator.

Values are checked and normalised with the list rules (seawall.intel.lists) before they
are quoted into a pattern; a value that does not fit its type raises ValueError with
the reason, which the importer records as a reject.
"""

from __future__ import annotations

from seawall.intel.lists import classify
from seawall.intel.patterns import comparison, observation, quote

# MISP type -> type understood by lists.classify (checked and normalised)
CHECKED = {
    "ip-src": "ip",
    "ip-dst": "ip",
    "domain": "domain",
    "hostname": "domain",
    "url": "url",
    "uri": "url",
    "link": "url",
    "email": "email",
    "email-src": "email",
    "email-dst": "email",
    "email-reply-to": "email",
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "sha512": "sha512",
    "x509-fingerprint-md5": "md5",
    "x509-fingerprint-sha1": "sha1",
    "x509-fingerprint-sha256": "sha256",
}
_X509 = {
    "x509-fingerprint-md5": "x509-md5",
    "x509-fingerprint-sha1": "x509-sha1",
    "x509-fingerprint-sha256": "x509-sha256",
}
# MISP type -> pattern kind for free text values (quoted as they are)
RAW = {
    "filename": "filename",
    "mutex": "mutex",
    "regkey": "regkey",
    "mac-address": "mac",
    "user-agent": "user-agent",
    "email-subject": "email-subject",
    "ssdeep": "ssdeep",
    "tlsh": "tlsh",
}
# MISP types whose value is a rule in another pattern language: kept with that pattern_type.
FOREIGN = {"snort": "snort", "yara": "yara", "sigma": "sigma"}
# Relations inside MISP objects that name an account (user-account, credential objects).
_ACCOUNT_RELATIONS = {"username", "user-id", "account-login"}
_FILE_HASHES = ("md5", "sha1", "sha256", "sha512", "ssdeep", "tlsh")


def attribute_pattern(misp_type: str, value: str, relation: str | None = None) -> tuple[str, str] | None:
    """(pattern, pattern_type) for one MISP attribute, or None when its type has no pattern.

    Raises ValueError (with the reason) when the value does not fit the type.
    """
    if misp_type in FOREIGN:
        if not value.strip():
            raise ValueError("empty rule")
        return value, FOREIGN[misp_type]
    if relation in _ACCOUNT_RELATIONS and misp_type == "text":
        return observation(comparison("user-account", _nonblank(value))), "stix"
    if misp_type in CHECKED or misp_type in RAW:
        return observation(_comparison(misp_type, value)), "stix"
    if "|" in misp_type or misp_type == "malware-sample":  # malware-sample: "name|md5"
        composite = _composite("filename|md5" if misp_type == "malware-sample" else misp_type, value)
        return (composite, "stix") if composite else None
    if misp_type == "AS":
        return f"[autonomous-system:number = {_asn(value)}]", "stix"
    return None


def _comparison(misp_type: str, value: str) -> str:
    if misp_type in RAW:
        return comparison(RAW[misp_type], _nonblank(value))
    kind, normal = classify(value, CHECKED[misp_type])
    if misp_type in _X509:
        return comparison(_X509[misp_type], normal)
    return comparison(kind, normal)


def _composite(misp_type: str, value: str) -> str | None:
    first, _, second = misp_type.partition("|")
    if first == "filename" and second in _FILE_HASHES:
        # The hash alone identifies the file; malware is renamed, so the name (kept in the
        # indicator's name) is not required to match.
        _, sep, digest = value.rpartition("|")
        _need(sep, misp_type)
        return observation(_comparison(second, digest))
    if first in ("ip-dst", "ip-src", "hostname", "domain") and second == "port":
        host, sep, port = value.rpartition("|")
        _need(sep, misp_type)
        side = "src" if first == "ip-src" else "dst"
        kind, normal = classify(host, "ip" if first.startswith("ip") else "domain")
        if kind.endswith("-net"):
            raise ValueError(f"{misp_type} needs an address, not the network {normal!r}")
        return observation(
            f"network-traffic:{side}_ref.value = {quote(normal)}", f"network-traffic:{side}_port = {_port(port)}"
        )
    if misp_type == "domain|ip":
        domain, sep, address = value.partition("|")
        _need(sep, misp_type)
        _, name = classify(domain, "domain")
        _, ip = classify(address, "ip")
        return observation(f"domain-name:value = {quote(name)}", f"domain-name:resolves_to_refs[*].value = {quote(ip)}")
    if misp_type == "regkey|value":
        key, sep, data = value.partition("|")
        _need(sep, misp_type)
        return observation(comparison("regkey", _nonblank(key)), f"windows-registry-key:values[*].data = {quote(data)}")
    return None


def _need(separator: str, misp_type: str) -> None:
    if not separator:
        raise ValueError(f"a {misp_type} value needs two parts separated by '|'")


def _nonblank(value: str) -> str:
    if not value.strip():
        raise ValueError("empty value")
    return value


def _port(text: str) -> int:
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or not 0 <= int(text) <= 65535:
        raise ValueError(f"{text[:20]!r} is not a port number")
    return int(text)


def _asn(text: str) -> int:
    digits = text.strip().upper().removeprefix("AS")
    if not (digits.isascii() and digits.isdigit()) or not 0 <= int(digits) < 2**32:
        raise ValueError(f"{text[:20]!r} is not an AS number")
    return int(digits)
