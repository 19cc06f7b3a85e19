"""Network-device configurations: recognise the platform, parse into one model.

``parse_config`` never raises: a file that is not text, or not a configuration of a
known platform, comes back ``rejected`` with the reason; a file whose structure is broken
in places (a truncated file, unbalanced Junos braces, a line of binary junk) comes back
``partial``, with what could be read and the line ranges that could not. Statements the
model has no place for are not "unparsed": every configuration is full of them.
"""

from __future__ import annotations

import codecs
import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from seawall.sources.configs.ios import parse_ios
from seawall.sources.configs.junos import parse_junos
from seawall.sources.configs.model import PLATFORMS, STATUSES, DeviceConfig
from seawall.sources.configs.sniff import sniff_platform

__all__ = ["PLATFORMS", "STATUSES", "DeviceConfig", "parse_config", "read_config", "sniff_platform"]

# Characters no configuration line holds: C0 controls but tab/CR/LF, DEL, C1 controls and
# the replacement character. A file where they are common is binary, not configuration.
_JUNK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
_ASCII_PLAIN = b"\t\n\r" + bytes(range(0x20, 0x7F))  # the ASCII characters _JUNK does not match
BINARY_SHARE = 0.10  # of a file's characters, beyond which it is binary


def _has_junk(text: str) -> bool:
    """Whether ``_JUNK`` matches somewhere in ``text``. An ASCII text (nearly every
    configuration) is searched as bytes: deleting the plain characters leaves the junk, six
    times faster than the regular expression."""
    if text.isascii():
        return bool(text.encode("ascii").translate(None, _ASCII_PLAIN))
    return _JUNK.search(text) is not None


def decode(data: bytes) -> str:
    """Text of a file: UTF-8 (or UTF-16 with its byte-order mark), else Windows-1252, else Latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def split_lines(text: str) -> list[str]:
    """The lines of a text; CRLF, LF (and CR, in a file with no LF) end a line, a final newline starts none."""
    if "\r" in text:
        text = text.replace("\r\n", "\n") if "\n" in text else text.replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def parse_config(text: str | bytes, path: str, platform: str | None = None) -> DeviceConfig:
    """One configuration file, parsed; ``platform`` overrides what the text suggests.

    The cyclic garbage collector is paused meanwhile (see ``collector_paused``)."""
    with collector_paused():
        return _parse(text, path, platform)


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a while. Parsing and checking configurations
    allocate hundreds of thousands of objects that reference counting frees (word lists,
    facts, items), none in a cycle; the collector's passes over them find nothing and cost
    a fifth to a quarter of the CPU. What the paused stretch leaves behind is collected by
    the next pass after it. Nests: only the outermost pause turns the collector back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse(text: str | bytes, path: str, platform: str | None) -> DeviceConfig:
    if isinstance(text, bytes):
        text = decode(text)
    if "\r" in text and "\n" not in text:  # classic Mac line ends
        text = text.replace("\r", "\n")
    lines = split_lines(text)
    config = DeviceConfig(path=path, platform=None, text_lines=lines)
    junk = _has_junk(text)
    if junk and len(text) - len(_JUNK.sub("", text)) > BINARY_SHARE * len(text):
        return _rejected(config, "binary content, not a text configuration")
    if not text or text.isspace():
        return _rejected(config, "empty file")
    if platform is not None and platform not in PLATFORMS:
        return _rejected(config, f"platform {platform!r} is not one of {', '.join(PLATFORMS)}")
    config.platform = platform or sniff_platform(text)
    if config.platform is None:
        return _rejected(config, "platform not recognised")
    try:
        if config.platform == "junos":
            parse_junos(lines, config)
        else:
            parse_ios(lines, config)
    except Exception as error:  # a parser bug must not stop an audit of a thousand files
        fresh = DeviceConfig(path=path, platform=config.platform, text_lines=lines)
        return _rejected(fresh, f"parser error: {type(error).__name__}: {error}")
    if junk:
        _mark_junk(config)
    config.unparsed = _merged(config.unparsed, len(lines))
    return config


def read_config(path: Path) -> DeviceConfig:
    """A configuration file from disk; an unreadable file comes back rejected, not raised."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        return _rejected(DeviceConfig(path=str(path), platform=None, text_lines=[]), f"unreadable: {error}")
    return parse_config(data, str(path))


def _rejected(config: DeviceConfig, reason: str) -> DeviceConfig:
    config.status = "rejected"
    config.reason = reason
    config.unparsed = []
    return config


def _mark_junk(config: DeviceConfig) -> None:
    """Lines holding control characters (outside banners, where art may use them) are unparsed."""
    in_banner = {n for b in config.banners for n in b.lines}
    bad = [n for n, line in enumerate(config.text_lines, 1) if n not in in_banner and _JUNK.search(line)]
    if not bad:
        return
    config.unparsed.extend((n, n) for n in bad)
    config.status = "partial"
    note = f"{len(bad)} line(s) of binary or control characters"
    config.reason = f"{config.reason}; {note}" if config.reason else note


def _merged(ranges: list[tuple[int, int]], count: int) -> list[tuple[int, int]]:
    """Ranges clipped to the file, sorted, overlapping and adjacent ones joined."""
    out: list[tuple[int, int]] = []
    for first, last in sorted((max(1, a), min(b, count)) for a, b in ranges):
        if first > last:
            continue
        if out and first <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out
