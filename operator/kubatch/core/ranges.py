"""Index sets written as ranges ("0-99,120"): how an array parent records 10,000 children.

Why: one status entry per child would outgrow etcd's object limit long before 10,000
children; the indexes of children that ended the same way are mostly contiguous, so a
range list stays a few bytes however large the array is.
"""

from __future__ import annotations

from typing import Iterable


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


def decode(text: str | None) -> set[int]:
    """The inverse of ``encode``; raises ValueError naming the bad part."""
    indexes: set[int] = set()
    for part in filter(None, (text or "").split(",")):
        low, dash, high = part.partition("-")
        try:
            first, last = int(low), int(high) if dash else int(low)
        except ValueError:
            raise ValueError(f"bad index range {part!r}") from None
        if last < first:
            raise ValueError(f"bad index range {part!r}: end before start")
        indexes.update(range(first, last + 1))
    return indexes


def count(text: str | None) -> int:
    """How many indexes the ranges hold, without expanding them."""
    total = 0
    for part in filter(None, (text or "").split(",")):
        low, dash, high = part.partition("-")
        total += int(high) - int(low) + 1 if dash else 1
    return total
