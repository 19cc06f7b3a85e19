"""The line reader: exact byte offsets and line numbers, gzip by magic bytes, lossy decoding."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from seawall.errors import EvidenceError
from seawall.sources.reader import is_gzip, iter_line_chunks, read_head


def read_all(path: Path, chunk_bytes: int = 1 << 20) -> tuple[list[str], list[int], list[int]]:
    """Lines, offsets and line numbers of every chunk, concatenated."""
    lines: list[str] = []
    offsets: list[int] = []
    numbers: list[int] = []
    for chunk in iter_line_chunks(path, chunk_bytes=chunk_bytes):
        lines += chunk.lines.to_pylist()
        offsets += chunk.offsets.to_pylist()
        numbers += chunk.numbers.to_pylist()
    return lines, offsets, numbers


def write(tmp_path: Path, data: bytes, name: str = "evidence.log") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# One file exercising every line-ending case; offsets and numbers worked out by hand:
#   0  "first line\r\n"            line 1
#   12 "\n"                        line 2 (blank)
#   13 "second\n"                  line 3
#   20 "third line is longer\r\n"  line 4
#   42 "\r\n"                      line 5 (blank)
#   44 "x\n"                       line 6
#   46 "last-no-newline"           line 7
MIXED = b"first line\r\n\nsecond\nthird line is longer\r\n\r\nx\nlast-no-newline"
MIXED_LINES = ["first line", "second", "third line is longer", "x", "last-no-newline"]
MIXED_OFFSETS = [0, 13, 20, 44, 46]
MIXED_NUMBERS = [1, 3, 4, 6, 7]


def test_lf_lines_have_exact_offsets_and_numbers(tmp_path):
    path = write(tmp_path, b"alpha\nbeta\ngamma\n")
    assert read_all(path) == (["alpha", "beta", "gamma"], [0, 6, 11], [1, 2, 3])


def test_crlf_terminators_are_removed_but_counted_in_offsets(tmp_path):
    path = write(tmp_path, b"one\r\ntwo\r\nthree\r\n")
    assert read_all(path) == (["one", "two", "three"], [0, 5, 10], [1, 2, 3])


def test_blank_lines_are_skipped_but_still_numbered(tmp_path):
    path = write(tmp_path, b"a\n\n\r\nb\n")
    assert read_all(path) == (["a", "b"], [0, 5], [1, 4])


def test_final_line_without_newline_is_read(tmp_path):
    path = write(tmp_path, b"a\nlast")
    assert read_all(path) == (["a", "last"], [0, 2], [1, 2])


def test_final_line_ending_in_carriage_return_loses_it(tmp_path):
    path = write(tmp_path, b"a\r\nlast\r")
    assert read_all(path) == (["a", "last"], [0, 3], [1, 2])


def test_carriage_return_inside_a_line_is_kept(tmp_path):
    path = write(tmp_path, b"a\rb\n")
    assert read_all(path)[0] == ["a\rb"]


def test_mixed_line_endings_in_one_large_chunk(tmp_path):
    path = write(tmp_path, MIXED)
    assert read_all(path) == (MIXED_LINES, MIXED_OFFSETS, MIXED_NUMBERS)


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 5, 7, 11, 13, 64])
def test_lines_spanning_chunk_boundaries_keep_offsets_and_numbers(tmp_path, chunk_bytes):
    path = write(tmp_path, MIXED)
    assert read_all(path, chunk_bytes=chunk_bytes) == (MIXED_LINES, MIXED_OFFSETS, MIXED_NUMBERS)


@pytest.mark.parametrize("chunk_bytes", [1, 2, 4])
def test_multibyte_characters_split_across_chunks_stay_whole(tmp_path, chunk_bytes):
    path = write(tmp_path, "été\nnaïve\n".encode())
    chunks = list(iter_line_chunks(path, chunk_bytes=chunk_bytes))
    lines = [line for c in chunks for line in c.lines.to_pylist()]
    offsets = [o for c in chunks for o in c.offsets.to_pylist()]
    assert lines == ["été", "naïve"]
    assert offsets == [0, 6]  # byte offsets: "été" is five bytes
    assert not any(c.lossy for c in chunks)


def test_last_chunk_position_is_the_file_size(tmp_path):
    path = write(tmp_path, MIXED)
    chunks = list(iter_line_chunks(path, chunk_bytes=8))
    assert chunks[-1].position == len(MIXED)
    positions = [c.position for c in chunks]
    assert positions == sorted(positions)


def test_empty_file_yields_no_lines(tmp_path):
    path = write(tmp_path, b"")
    assert read_all(path) == ([], [], [])


def test_gzip_is_recognised_by_magic_bytes_not_by_name(tmp_path):
    path = write(tmp_path, gzip.compress(b"one\ntwo\r\nthree\n"), name="plain-looking.txt")
    assert is_gzip(path)
    assert read_all(path) == (["one", "two", "three"], [0, 4, 9], [1, 2, 3])


def test_file_named_gz_without_magic_bytes_is_read_as_text(tmp_path):
    path = write(tmp_path, b"not compressed\n", name="archive.log.gz")
    assert not is_gzip(path)
    assert read_all(path)[0] == ["not compressed"]


@pytest.mark.parametrize("chunk_bytes", [3, 64])
def test_gzip_offsets_are_positions_in_the_decompressed_stream(tmp_path, chunk_bytes):
    path = write(tmp_path, gzip.compress(MIXED), name="evidence.gz")
    assert read_all(path, chunk_bytes=chunk_bytes) == (MIXED_LINES, MIXED_OFFSETS, MIXED_NUMBERS)


def test_truncated_gzip_raises_evidence_error_naming_the_file_after_yielding_earlier_chunks(tmp_path):
    original = [f"line {i:04d}" for i in range(1000)]
    compressed = gzip.compress(("\n".join(original) + "\n").encode())
    path = write(tmp_path, compressed[: len(compressed) // 2], name="broken.log.gz")

    lines: list[str] = []
    with pytest.raises(EvidenceError) as info:
        for chunk in iter_line_chunks(path, chunk_bytes=64):
            lines += chunk.lines.to_pylist()

    assert str(path) in str(info.value)
    assert len(lines) > 100  # chunks before the break were yielded
    # Every complete line read matches the original; only the last may be cut short.
    assert lines[:-1] == original[: len(lines) - 1]
    assert original[len(lines) - 1].startswith(lines[-1])


def test_invalid_utf8_is_read_as_latin1_and_flagged_lossy(tmp_path):
    path = write(tmp_path, b"ok\ncaf\xe9\n")
    chunks = list(iter_line_chunks(path))
    assert [line for c in chunks for line in c.lines.to_pylist()] == ["ok", "café"]
    assert any(c.lossy for c in chunks)


def test_valid_utf8_lines_stay_utf8_in_a_lossy_chunk(tmp_path):
    path = write(tmp_path, "é\n".encode() + b"\xff\xfe\n")
    (chunk,) = list(iter_line_chunks(path))
    assert chunk.lines.to_pylist() == ["é", "\xff\xfe"]
    assert chunk.lossy
    assert chunk.offsets.to_pylist() == [0, 3]


def test_valid_utf8_file_is_not_lossy(tmp_path):
    path = write(tmp_path, "ünïcödé\n".encode())
    assert not any(c.lossy for c in iter_line_chunks(path))


def test_nul_bytes_stay_in_the_line(tmp_path):
    path = write(tmp_path, b"a\x00b\n")
    assert read_all(path)[0] == ["a\x00b"]


def test_iter_line_chunks_on_missing_file_raises_evidence_error(tmp_path):
    path = tmp_path / "missing.log"
    with pytest.raises(EvidenceError, match="missing.log"):
        list(iter_line_chunks(path))


def test_read_head_on_missing_file_raises_evidence_error_naming_it(tmp_path):
    path = tmp_path / "missing.log"
    with pytest.raises(EvidenceError) as info:
        read_head(path)
    assert str(path) in str(info.value)


def test_read_head_returns_at_most_size_bytes(tmp_path):
    path = write(tmp_path, b"x" * 1000)
    assert read_head(path, size=100) == b"x" * 100


def test_read_head_decompresses_gzip(tmp_path):
    path = write(tmp_path, gzip.compress(b"hello\nworld\n" * 100), name="a.bin")
    assert read_head(path, size=12) == b"hello\nworld\n"


def test_read_head_of_truncated_gzip_still_gives_its_first_bytes(tmp_path):
    data = b"".join(b"line %04d\n" % i for i in range(1000))
    compressed = gzip.compress(data)
    path = write(tmp_path, compressed[: len(compressed) // 2], name="cut.gz")
    head = read_head(path, size=50)
    assert head == data[:50]


def test_utf8_byte_order_mark_at_file_start_is_not_part_of_the_first_line(tmp_path):
    """Windows tools often start text files with a BOM; it is an encoding mark, not content."""
    path = write(tmp_path, b"\xef\xbb\xbfJun 14 15:16:01 host app: msg\nsecond\n")
    assert read_all(path)[0] == ["Jun 14 15:16:01 host app: msg", "second"]


@pytest.mark.parametrize("padding", [5000, (1 << 20) + 5000])  # within the first read block, and past it
def test_gzip_followed_by_zero_padding_reads_its_lines_without_error(tmp_path, padding):
    path = write(tmp_path, gzip.compress(b"one\ntwo\n") + b"\0" * padding, name="padded.gz")
    assert read_all(path) == (["one", "two"], [0, 4], [1, 2])


def test_byte_order_mark_read_alone_in_the_first_block_is_not_the_end_of_the_file(tmp_path):
    path = tmp_path / "bom.log"
    path.write_bytes(b"\xef\xbb\xbf\x00")
    chunks = list(iter_line_chunks(path, chunk_bytes=1))
    assert [v for c in chunks for v in c.lines.to_pylist()] == ["\x00"]
    assert [v for c in chunks for v in c.offsets.to_pylist()] == [3]
