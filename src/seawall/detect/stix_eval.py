"""Observation operators (AND, OR, FOLLOWEDBY, WITHIN, REPEATS, START/STOP) evaluated over
the timestamps of the events each observation matched."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence

from seawall.detect.stix_parse import (
    FollowedBy,
    Key,
    ObsAnd,
    Observation,
    ObsExpr,
    ObsOr,
    PatternError,
    Repeats,
    StartStop,
    children,
)


# ----------------------------------------------------------------------------- evaluation
class TooManyWindows(PatternError):
    """WITHIN over more candidate windows than the evaluator considers."""


MAX_WINDOWS = 50_000


class Evaluation:
    """Observation operators over the events each observation matched.

    ``hits[i]`` lists the (timestamp in microseconds, key) of the events matching leaf i.
    Every operator is monotone in the events, so each node is judged by the earliest
    instant its match can be complete (``earliest``) and the latest instant one can
    start (``latest``) within a time window: ``a FOLLOWEDBY b`` holds when b matches
    at or after the earliest completion of a; ``x WITHIN n SECONDS`` when x matches
    inside some window of n seconds starting at one of its events.
    """

    def __init__(self, hits: Sequence[Sequence[tuple[int, Key]]]) -> None:
        self.hits = [sorted(h, key=lambda tk: tk[0]) for h in hits]
        self.times = [[t for t, _ in h] for h in self.hits]

    def matches(self, node: ObsExpr) -> set[Key]:
        """Keys of the events that take part in a match (empty when the pattern does not match)."""
        lo, hi = -(2**63), 2**63 - 1
        if self.earliest(node, lo, hi) is None:
            return set()
        return self.evidence(node, lo, hi)

    def _span(self, leaf: int, lo: int, hi: int) -> tuple[int, int]:
        times = self.times[leaf]
        return bisect.bisect_left(times, lo), bisect.bisect_right(times, hi)

    def earliest(self, node: ObsExpr, lo: int, hi: int) -> int | None:
        if lo > hi:
            return None
        if isinstance(node, Observation):
            start, end = self._span(node.leaf, lo, hi)
            return self.times[node.leaf][start] if start < end else None
        if isinstance(node, ObsOr):
            found = [t for t in (self.earliest(i, lo, hi) for i in node.items) if t is not None]
            return min(found) if found else None
        if isinstance(node, ObsAnd):
            found = [self.earliest(i, lo, hi) for i in node.items]
            return None if any(t is None for t in found) else max(found)  # type: ignore[type-var]
        if isinstance(node, FollowedBy):
            first = self.earliest(node.first, lo, hi)
            return None if first is None else self.earliest(node.then, first, hi)
        if isinstance(node, StartStop):
            return self.earliest(node.expr, max(lo, node.start), min(hi, node.stop - 1))
        if isinstance(node, Repeats):
            times = self._distinct_times(node.expr, lo, hi)
            return times[node.times - 1] if len(times) >= node.times else None
        best: int | None = None
        for start in self._starts(node.expr, lo, hi):
            if best is not None and start > best:
                break
            found = self.earliest(node.expr, start, min(hi, start + node.micros))
            if found is not None and (best is None or found < best):
                best = found
        return best

    def latest(self, node: ObsExpr, lo: int, hi: int) -> int | None:
        if lo > hi:
            return None
        if isinstance(node, Observation):
            start, end = self._span(node.leaf, lo, hi)
            return self.times[node.leaf][end - 1] if start < end else None
        if isinstance(node, ObsOr):
            found = [t for t in (self.latest(i, lo, hi) for i in node.items) if t is not None]
            return max(found) if found else None
        if isinstance(node, ObsAnd):
            found = [self.latest(i, lo, hi) for i in node.items]
            return None if any(t is None for t in found) else min(found)  # type: ignore[type-var]
        if isinstance(node, FollowedBy):
            then = self.latest(node.then, lo, hi)
            return None if then is None else self.latest(node.first, lo, then)
        if isinstance(node, StartStop):
            return self.latest(node.expr, max(lo, node.start), min(hi, node.stop - 1))
        if isinstance(node, Repeats):
            times = self._distinct_times(node.expr, lo, hi)
            return times[-node.times] if len(times) >= node.times else None
        best: int | None = None
        for start in reversed(self._starts(node.expr, lo, hi)):
            if best is not None and start + node.micros < best:
                break
            found = self.latest(node.expr, start, min(hi, start + node.micros))
            if found is not None and (best is None or found > best):
                best = found
        return best

    def evidence(self, node: ObsExpr, lo: int, hi: int) -> set[Key]:
        """Keys of events in [lo, hi] that take part in a match of ``node`` (which holds there)."""
        if isinstance(node, Observation):
            start, end = self._span(node.leaf, lo, hi)
            return {key for _, key in self.hits[node.leaf][start:end]}
        if isinstance(node, ObsOr | ObsAnd):
            return set().union(*(self.evidence(i, lo, hi) for i in node.items if self.earliest(i, lo, hi) is not None))
        if isinstance(node, FollowedBy):
            first, then = self.earliest(node.first, lo, hi), self.latest(node.then, lo, hi)
            assert first is not None and then is not None
            return self.evidence(node.first, lo, then) | self.evidence(node.then, first, hi)
        if isinstance(node, StartStop):
            return self.evidence(node.expr, max(lo, node.start), min(hi, node.stop - 1))
        if isinstance(node, Repeats):
            return self.evidence(node.expr, lo, hi)
        out: set[Key] = set()
        for start in self._starts(node.expr, lo, hi):
            end = min(hi, start + node.micros)
            if self.earliest(node.expr, start, end) is not None:
                out |= self.evidence(node.expr, start, end)
        return out

    def _leaves(self, node: ObsExpr) -> Iterator[int]:
        if isinstance(node, Observation):
            yield node.leaf
        for child in children(node):
            yield from self._leaves(child)

    def _starts(self, node: ObsExpr, lo: int, hi: int) -> list[int]:
        starts: set[int] = set()
        for leaf in set(self._leaves(node)):
            start, end = self._span(leaf, lo, hi)
            starts.update(self.times[leaf][start:end])
        if len(starts) > MAX_WINDOWS:
            raise TooManyWindows(f"WITHIN over {len(starts):,} candidate windows (more than {MAX_WINDOWS:,})")
        return sorted(starts)

    def _distinct_times(self, node: ObsExpr, lo: int, hi: int) -> list[int]:
        """Timestamps of the distinct events an OR of observations matched in [lo, hi]."""
        events: dict[Key, int] = {}
        for leaf, start, stop in self._windows(node, lo, hi):
            first, end = self._span(leaf, start, stop)
            for t, key in self.hits[leaf][first:end]:
                events[key] = t
        return sorted(events.values())

    def _windows(self, node: ObsExpr, lo: int, hi: int) -> Iterator[tuple[int, int, int]]:
        if isinstance(node, Observation):
            yield node.leaf, lo, hi
        elif isinstance(node, StartStop):
            yield from self._windows(node.expr, max(lo, node.start), min(hi, node.stop - 1))
        else:
            for item in children(node):
                yield from self._windows(item, lo, hi)
