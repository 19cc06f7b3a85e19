"""Hypothesis strategies the parser property tests share: files of garbage shaped by a format."""

from __future__ import annotations

from hypothesis import strategies as st

TEXT_LINES = st.lists(st.text(max_size=120), max_size=30).map(lambda lines: "\n".join(lines).encode("utf-8"))


def arbitrary_bytes(pieces: list[bytes], long_units: list[bytes], longest: int) -> st.SearchStrategy[bytes]:
    """Arbitrary bytes and format-shaped pieces, with at most one very long line in the middle."""
    long_line = st.builds(lambda n, b: b * n, st.integers(1_000, longest), st.sampled_from(long_units))
    parts = st.lists(st.one_of(st.binary(max_size=64), st.sampled_from(pieces)), max_size=40)
    return st.builds(
        lambda parts, long: b"".join(parts[: len(parts) // 2]) + long + b"".join(parts[len(parts) // 2 :]),
        parts,
        st.one_of(st.just(b""), long_line),
    )
