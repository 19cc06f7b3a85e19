"""What the parser property tests share: settings, garbage files shaped by a format, a file writer."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
_counter = itertools.count()


def new_file(folder: Path, data: bytes, suffix: str = ".log") -> Path:
    """A file of ``data`` under a name no other example of the session uses."""
    path = folder / f"f{next(_counter)}{suffix}"
    path.write_bytes(data)
    return path


def unique_name(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"


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
