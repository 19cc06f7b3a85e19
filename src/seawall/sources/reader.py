"""Read evidence files as chunks of lines, with the byte offset and number of each line.

Files may be gzip-compressed (recognised by their magic bytes, not their name); offsets
are then positions in the decompressed stream. Lines are split with numpy and handed
over as Arrow arrays, so a source never loops over lines in Python unless it must.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from seawall.errors import EvidenceError

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
CHUNK_BYTES = 8 << 20
HEAD_BYTES = 64 << 10


@dataclass(frozen=True)
class LineChunk:
    """Non-blank lines of one chunk, without their line terminators."""

    lines: pa.Array  # large_string
    offsets: pa.Array  # int64: byte offset of each line's first byte
    numbers: pa.Array  # int64: 1-based line number
    position: int  # bytes of the file on disk consumed so far (for progress)
    lossy: bool  # True when some lines were not UTF-8 and were read as Latin-1


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as raw:
        return raw.read(2) == GZIP_MAGIC


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of the (decompressed) file, for sniffing its format; a
    leading byte-order mark is dropped, as the reader drops it."""
    try:
        with open(path, "rb") as raw:
            if raw.read(2) != GZIP_MAGIC:
                raw.seek(0)
                head = raw.read(size + len(UTF8_BOM))
            else:
                raw.seek(0)
                # A truncated archive still yields its first bytes; the error shows when read in full.
                head = zlib.decompressobj(wbits=47).decompress(raw.read(size * 4), size + len(UTF8_BOM))
            return (head[len(UTF8_BOM) :] if head.startswith(UTF8_BOM) else head)[:size]
    except OSError as exc:
        raise EvidenceError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except zlib.error as exc:
        raise EvidenceError(f"{path}: corrupt gzip data: {exc}") from exc


class _GzipStream:
    """Decompress gzip incrementally, keeping every byte that arrives before a break.

    ``gzip.GzipFile.read`` drops the data of a block when the stream turns out to be
    truncated; evidence is often a copy that broke off, and we want all that is there.
    Concatenated members (as ``cat a.gz b.gz`` makes) are read one after another.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.decompressor = zlib.decompressobj(wbits=47)
        self.pending = b""
        self.at_end = False
        self.error: str | None = None

    def read(self, size: int) -> bytes:
        while len(self.pending) < size and not self.at_end:
            block = self.raw.read(1 << 20)
            if not block:
                self.at_end = True
                if not self.decompressor.eof:
                    self.pending += self.decompressor.flush()
                    self.error = "compressed stream ends before its end-of-stream marker (truncated file)"
                break
            self._feed(block)
        out, self.pending = self.pending[:size], self.pending[size:]
        if not out and self.error:
            raise EOFError(self.error)
        return out

    def _feed(self, block: bytes) -> None:
        try:
            self.pending += self.decompressor.decompress(block)
            while self.decompressor.eof and self.decompressor.unused_data:
                rest = self.decompressor.unused_data
                if not rest.strip(b"\0"):  # zero padding after the last member (tape and block devices)
                    self.decompressor = _Padding()
                    break
                self.decompressor = zlib.decompressobj(wbits=47)
                self.pending += self.decompressor.decompress(rest)
        except zlib.error as exc:
            self.at_end = True
            self.error = f"corrupt compressed data: {exc}"


class _Padding:
    """Stands in for the decompressor once only zero padding is left; anything else is corrupt."""

    eof = True
    unused_data = b""

    def decompress(self, data: bytes) -> bytes:
        if data.strip(b"\0"):
            raise zlib.error("data after the zero padding that follows the last member")
        return b""


def iter_line_chunks(path: Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[LineChunk]:
    """Yield the file's lines chunk by chunk.

    Raises EvidenceError when the file cannot be opened or its compressed stream breaks
    off; every line that arrived before the break is yielded first.
    """
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the `with raw` below, after the error check
    except OSError as exc:
        raise EvidenceError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    with raw:
        stream: BinaryIO | _GzipStream = _GzipStream(raw) if raw.read(2) == GZIP_MAGIC else raw
        raw.seek(0)
        base, line_base, carry, first = 0, 1, b"", True
        while True:
            try:
                block = stream.read(max(chunk_bytes, len(UTF8_BOM)) if first else chunk_bytes)
            except (OSError, EOFError, zlib.error) as exc:
                if carry:
                    yield _split(carry, base, line_base, raw.tell())[0]
                raise EvidenceError(f"{path}: stream breaks off after {base + len(carry)} bytes: {exc}") from exc
            if first and block.startswith(UTF8_BOM):  # a byte-order mark is not part of the first record
                first, block, base = False, block[len(UTF8_BOM) :], len(UTF8_BOM)
                if not block:  # the mark was all this read gave: not the end of the file
                    continue
            first = False
            if not block:
                if carry:
                    yield _split(carry, base, line_base, raw.tell())[0]
                return
            data = carry + block
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            chunk, line_count = _split(data[:cut], base, line_base, raw.tell())
            base += cut
            line_base += line_count
            carry = data[cut:]
            yield chunk


def _split(data: bytes, base: int, line_base: int, position: int) -> tuple[LineChunk, int]:
    """Split a block that ends on a line break (or at end of file) into lines; also count them."""
    buf = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero(buf == 10)
    if len(buf) and buf[-1] != 10:
        breaks = np.append(breaks, len(buf))  # last line of a file without a final newline
    starts = np.empty(len(breaks), dtype=np.int64)
    if len(breaks):
        starts[0] = 0
        starts[1:] = breaks[:-1] + 1
    ends = breaks.astype(np.int64)
    carriage = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
    ends = ends - carriage
    lengths = ends - starts

    # The lines' bytes without their terminators (a CR counts only right before the LF).
    compact = data.replace(b"\r\n", b"\n").replace(b"\n", b"") if 13 in buf else data.replace(b"\n", b"")
    value_offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=value_offsets[1:])

    lines = pa.LargeStringArray.from_buffers(len(starts), pa.py_buffer(value_offsets), pa.py_buffer(compact))
    lossy = False
    try:
        lines.validate(full=True)
    except pa.ArrowInvalid:
        lines = pa.array(
            [_decode(data[s:e]) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)],
            type=pa.large_string(),
        )
        lossy = True
    offsets = pa.array(starts + base)
    numbers = pa.array(np.arange(line_base, line_base + len(starts), dtype=np.int64))
    if not lengths.all():
        nonblank = pa.array(lengths > 0)
        lines, offsets, numbers = (a.filter(nonblank) for a in (lines, offsets, numbers))
    chunk = LineChunk(lines=lines, offsets=offsets, numbers=numbers, position=position, lossy=lossy)
    return chunk, len(starts)


def _decode(raw: bytes) -> str:
    """UTF-8 where valid, else Latin-1: every byte survives and stays readable."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
