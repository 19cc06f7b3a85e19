"""RFC 6587 framing of syslog over TCP and TLS: octet counting or non-transparent framing,
recognised per connection from its first bytes; broken frames become records to quarantine."""

from __future__ import annotations

import re
from typing import NamedTuple

OVERSIZE, FRAMING, TRUNCATED = "oversize", "framing", "truncated"  # what went wrong with a frame
MAX_FRAME = 64 << 10  # bytes of one message; more is quarantined with its first MAX_FRAME bytes
TRAILERS = b"\r\n\0"
_OCTET_HEAD = re.compile(rb"([1-9][0-9]{0,8}) ")
_OCTET_PARTIAL = re.compile(rb"[1-9][0-9]{0,8}\Z")
_FRAME_START = re.compile(rb"[1-9][0-9]{0,8} <[0-9]{1,3}>")  # where reading resumes after broken framing
_DIGITS = re.compile(rb"[0-9]*")


class Frame(NamedTuple):
    """One record taken off a stream: a message (``problem`` None) or bytes the receiver
    quarantines itself (``problem`` is oversize, framing or truncated; ``reason`` says why)."""

    payload: bytes
    problem: str | None = None
    reason: str | None = None


class FrameDecoder:
    """RFC 6587 framing of one TCP or TLS connection, recognised from its first bytes.

    A connection that starts with ``LEN SP`` (a non-zero digit, at most nine digits, a
    space) uses octet counting; any other start means non-transparent framing, where LF,
    CRLF or NUL ends a message. In octet counting, LF, CR and NUL between frames are
    skipped (some senders add a newline after each frame) and those at the end of a
    frame removed. A message longer than ``max_frame`` is given back as an ``oversize``
    frame holding its first ``max_frame`` bytes; the rest is discarded. Bytes where an
    octet count should be are given back as a ``framing`` frame, and reading resumes at
    the next ``LEN SP <PRI>``; when no such start follows within ``max_frame`` bytes the
    decoder gives up (``failed``) and the connection should be closed.
    """

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.max_frame = max_frame
        self.mode: str | None = None  # "octet" or "lf" once recognised
        self.buf = bytearray()  # undecided or octet-counting bytes not yet framed
        self.tail = bytearray()  # non-transparent framing: the message not yet ended
        self.skip = 0  # octet counting: bytes of an oversize frame still to discard
        self.discarding = False  # non-transparent framing: inside an oversize message
        self.failed = False
        self.blank = 0  # empty messages skipped
        self.discarded_bytes = 0  # bytes of oversize messages and broken framing not kept

    def feed(self, data: bytes) -> list[Frame]:
        """The frames that ``data`` completes, in order."""
        if self.failed or not data:
            return []
        if self.mode is None:
            self.buf += data
            self.mode = self._recognise()
            if self.mode is None:
                return []
            if self.mode == "lf":
                data, self.buf = bytes(self.buf), bytearray()
                return self._feed_lf(data)
            return self._feed_octets()
        if self.mode == "lf":
            return self._feed_lf(data)
        self.buf += data
        return self._feed_octets()

    def finish(self, peer_closed: bool = True) -> list[Frame]:
        """What is left when the connection ends: the sender's last message when it closed
        after a message without trailer, else what was cut off (``truncated``)."""
        if self.failed:
            return []
        if self.mode is None:  # only blank bytes or a few digits arrived
            self.mode = "lf"
            data, self.buf = bytes(self.buf), bytearray()
            out = self._feed_lf(data)
            return out + self.finish(peer_closed)
        out: list[Frame] = []
        if self.mode == "lf":
            rest = bytes(self.tail)
            self.tail = bytearray()
            if rest.endswith(b"\r"):
                rest = rest[:-1]
            if rest and not self.discarding:
                if peer_closed:
                    out.append(Frame(rest))
                else:
                    out.append(Frame(rest, TRUNCATED, "truncated: the receiver stopped before the message ended"))
            return out
        rest = bytes(self.buf).lstrip(TRAILERS)
        self.buf = bytearray()
        if not rest or self.skip:
            return out
        head = _OCTET_HEAD.match(rest)
        if head is not None:
            length, have = int(head.group(1)), len(rest) - head.end()
            who = "the sender closed the connection" if peer_closed else "the receiver stopped"
            out.append(Frame(rest[head.end() :], TRUNCATED, f"truncated frame: {who} after {have} of {length} bytes"))
        else:
            out.append(self._garbage(rest, "at the end of the connection"))
        return out

    def _recognise(self) -> str | None:
        buf = self.buf
        start = 0
        while start < len(buf) and buf[start] in TRAILERS:
            start += 1
        if start == len(buf):
            return None
        if buf[start] not in b"123456789":
            return "lf"
        digits = _DIGITS.match(buf, start).end()  # type: ignore[union-attr]
        if digits - start > 9:
            return "lf"
        if digits == len(buf):
            return None  # the byte after the digits decides
        return "octet" if buf[digits] == 0x20 else "lf"

    def _garbage(self, data: bytes, where: str) -> Frame:
        kept = data[: self.max_frame]
        self.discarded_bytes += len(data) - len(kept)
        cut = f" (first {len(kept)} kept)" if len(kept) < len(data) else ""
        return Frame(
            kept,
            FRAMING,
            f"framing error: {len(data)} bytes where an octet count ('LENGTH SP') was expected{cut}, {where}",
        )

    def _feed_octets(self) -> list[Frame]:
        buf, out, pos, end, limit = self.buf, [], 0, len(self.buf), self.max_frame
        while pos < end:
            if self.skip:
                n = min(self.skip, end - pos)
                pos += n
                self.skip -= n
                self.discarded_bytes += n
                continue
            if buf[pos] in TRAILERS:
                pos += 1
                continue
            head = _OCTET_HEAD.match(buf, pos)
            if head is None:
                if end - pos <= 9 and _OCTET_PARTIAL.match(buf, pos):
                    break  # the count is still arriving
                resume = _FRAME_START.search(buf, pos + 1)
                if resume is None:
                    if end - pos <= limit:
                        break  # the next frame may yet start within these bytes
                    out.append(
                        self._garbage(bytes(buf[pos:end]), f"no frame start within {limit} bytes: connection closed")
                    )
                    self.failed = True
                    pos = end
                    break
                out.append(self._garbage(bytes(buf[pos : resume.start()]), "reading resumed at the next frame"))
                pos = resume.start()
                continue
            length, body = int(head.group(1)), head.end()
            if length > limit:
                if end - body < limit:
                    break  # wait for the part that is kept
                out.append(
                    Frame(
                        bytes(buf[body : body + limit]),
                        OVERSIZE,
                        f"oversize frame: {length} bytes, over the {limit}-byte limit (first {limit} kept)",
                    )
                )
                pos = body + limit
                self.skip = length - limit
                continue
            if end - body < length:
                break
            payload = bytes(buf[body : body + length]).rstrip(TRAILERS)
            if payload:
                out.append(Frame(payload))
            else:
                self.blank += 1
            pos = body + length
        del buf[:pos]
        return out

    def _feed_lf(self, data: bytes) -> list[Frame]:
        out: list[Frame] = []
        limit = self.max_frame
        if self.discarding:
            cut = _first_trailer(data)
            if cut < 0:
                self.discarded_bytes += len(data)
                return out
            self.discarded_bytes += cut
            data = data[cut + 1 :]
            self.discarding = False
        if _first_trailer(data) < 0:
            self.tail += data
        else:
            if self.tail:
                data = bytes(self.tail) + data
            if b"\0" in data:
                data = data.replace(b"\0", b"\n")
            lines = data.split(b"\n")
            self.tail = bytearray(lines.pop())
            for line in lines:
                if line.endswith(b"\r"):
                    line = line[:-1]
                if not line:
                    self.blank += 1
                elif len(line) > limit:
                    self.discarded_bytes += len(line) - limit
                    out.append(
                        Frame(
                            line[:limit],
                            OVERSIZE,
                            f"oversize message: {len(line)} bytes, over the {limit}-byte limit (first {limit} kept)",
                        )
                    )
                else:
                    out.append(Frame(line))
        if len(self.tail) > limit:
            self.discarded_bytes += len(self.tail) - limit
            out.append(
                Frame(
                    bytes(self.tail[:limit]),
                    OVERSIZE,
                    f"oversize message: no line break within {limit} bytes (first {limit} kept, "
                    "the rest up to the next line break discarded)",
                )
            )
            self.tail = bytearray()
            self.discarding = True
        return out


def _first_trailer(data: bytes) -> int:
    """Index of the first LF or NUL in ``data``, or -1."""
    lf, nul = data.find(b"\n"), data.find(b"\0")
    if nul < 0:
        return lf
    return nul if lf < 0 else min(lf, nul)
