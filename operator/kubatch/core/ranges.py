"""Index sets written as ranges ("0-99,120"): how an array parent records 10,000 children.

Why: one status entry per child would outgrow etcd's object limit long before 10,000
children; the indexes of children that ended the same way are mostly contiguous, so a
range list stays a few bytes however large the array is.

One codec for both readers: the planner, which rewrites the ranges when children end
(``encode``, ``decode``), and the AWS front ends, which look single children up
(``IndexRanges``, ``IndexValues``: by bisection, nothing expanded, so reading one child
of a 10,000-child array costs a few comparisons). All of them parse with ``pairs``, so
they agree on what a malformed range is.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping


def encode(indexes: Iterable[int]) -> str:
    """Sorted, merged ranges: ``[0, 1, 2, 5]`` → ``"0-2,5"``; empty → ``""``."""
    parts: list[str] = []
    start = previous = None
    for index in sorted(set(indexes)):
        if previous is not None and index == previous + 1:
            previous = index
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = index
    if start is not None:
        parts.append(str(start) if start == previous else f"{start}-{previous}")
    return ",".join(parts)


def pairs(text: str | None) -> list[tuple[int, int]]:
    """``"5,0-2"`` → ``[(5, 5), (0, 2)]`` in written order; raises ValueError naming the bad part."""
    found = []
    for part in filter(None, (text or "").split(",")):
        low, dash, high = part.partition("-")
        try:
            first, last = int(low), int(high) if dash else int(low)
        except ValueError:
            raise ValueError(f"bad index range {part!r}") from None
        if last < first:
            raise ValueError(f"bad index range {part!r}: end before start")
        found.append((first, last))
    return found


def decode(text: str | None) -> set[int]:
    """The inverse of ``encode``; raises ValueError naming the bad part."""
    indexes: set[int] = set()
    for first, last in pairs(text):
        indexes.update(range(first, last + 1))
    return indexes


class IndexRanges:
    """Ranges as sorted (first, last) pairs: membership by bisection, nothing expanded."""

    def __init__(self, text: str | None) -> None:
        found = sorted(pairs(text))
        self._firsts = [first for first, _ in found]
        self._lasts = [last for _, last in found]

    def __contains__(self, index: int) -> bool:
        at = bisect_right(self._firsts, index) - 1
        return at >= 0 and index <= self._lasts[at]


class IndexValues:
    """``{"0": "0-4,7", "1": "5"}``: the value (exit code, attempts, reason) an index is filed under.

    A malformed range raises ValueError naming its value: ``exitCodes.1: bad index range 'x'``
    reads as ``<key>.<value>`` once the caller prefixes the key.
    """

    def __init__(self, mapping: Mapping[str, str] | None) -> None:
        self._ranges = []
        for value, text in (mapping or {}).items():
            try:
                self._ranges.append((value, IndexRanges(text)))
            except ValueError as error:
                raise ValueError(f"{value}: {error}") from None

    def get(self, index: int) -> str | None:
        return next((value for value, ranges in self._ranges if index in ranges), None)
