"""STIX 2.1 patterns for observables: the one place patterns are built, quoted and checked.

Every kind of intel (MISP attributes, CSV and TXT values) becomes a STIX pattern so the
matcher has a single language to compile. Patterns built here from normalised values are
correct by construction; patterns that come from outside go through ``check``.
"""

from __future__ import annotations

import hashlib
import uuid

from stix2patterns.validator import validate

# observable kind -> (object path, operator)
PATHS: dict[str, tuple[str, str]] = {
    "ipv4": ("ipv4-addr:value", "="),
    "ipv6": ("ipv6-addr:value", "="),
    "ipv4-net": ("ipv4-addr:value", "ISSUBSET"),
    "ipv6-net": ("ipv6-addr:value", "ISSUBSET"),
    "domain": ("domain-name:value", "="),
    "url": ("url:value", "="),
    "email": ("email-addr:value", "="),
    "md5": ("file:hashes.MD5", "="),
    "sha1": ("file:hashes.'SHA-1'", "="),
    "sha256": ("file:hashes.'SHA-256'", "="),
    "sha512": ("file:hashes.'SHA-512'", "="),
    "ssdeep": ("file:hashes.SSDEEP", "="),
    "tlsh": ("file:hashes.TLSH", "="),
    "filename": ("file:name", "="),
    "x509-md5": ("x509-certificate:hashes.MD5", "="),
    "x509-sha1": ("x509-certificate:hashes.'SHA-1'", "="),
    "x509-sha256": ("x509-certificate:hashes.'SHA-256'", "="),
    "mutex": ("mutex:name", "="),
    "regkey": ("windows-registry-key:key", "="),
    "mac": ("mac-addr:value", "="),
    "user-account": ("user-account:account_login", "="),
    "email-subject": ("email-message:subject", "="),
    "user-agent": ("network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'", "="),
}
NAMESPACE = uuid.UUID("4b5f2d5e-8f0c-5a3e-9a57-7d1f3c2b6e10")  # Seawall's namespace for derived ids
_NS_BYTES = NAMESPACE.bytes


def quote(value: str) -> str:
    """A STIX string literal: backslash first, then the quote, each escaped with a backslash."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def comparison(kind: str, value: str) -> str:
    """One comparison expression such as ``ipv4-addr:value = '203.0.113.5'``."""
    path, operator = PATHS[kind]
    return f"{path} {operator} {quote(value)}"


def observation(*comparisons: str) -> str:
    """An observation expression: comparisons on one observable, joined by AND."""
    return "[" + " AND ".join(comparisons) + "]"


def single(kind: str, value: str) -> str:
    """The pattern for one observable of a known kind."""
    return f"[{comparison(kind, value)}]"


def check(pattern: object, version: str = "2.1") -> str | None:
    """Why a STIX pattern is invalid, or None when stix2-patterns accepts it."""
    if not isinstance(pattern, str) or not pattern.strip():
        return "pattern is missing or not a string"
    try:
        ok, errors = validate(pattern, ret_errs=True, stix_version=version)
    except Exception as exc:  # the validator's own failures are the pattern's problem too
        return f"invalid pattern: {type(exc).__name__}: {exc}"
    return None if ok else "invalid pattern: " + "; ".join(str(e) for e in errors)


def derived_id(stix_type: str, name: str) -> str:
    """A stable id for an object Seawall derives (uuid5 of the name in Seawall's namespace).

    Importing the same value twice gives the same id, so re-imports and other sources
    that name the same thing line up.
    """
    raw = bytearray(hashlib.sha1(_NS_BYTES + name.encode("utf-8")).digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x50
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{stix_type}--{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
