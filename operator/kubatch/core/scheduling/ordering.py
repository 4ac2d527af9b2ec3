"""The order in which RUNNABLE units are considered.

Across queues: higher `priority` first. Queues of equal priority are interleaved by
the age of their next unit (created_at, then sequence), then by queue name, so that
neither can starve the other by name alone.

Within a FIFO queue: created_at, then sequence, then id (ids only make the order
total). Within a fair-share queue: see `fairshare.FairShareQueue`.

Each unit is considered once per cycle, so a cycle costs O(n log n) in the number
of RUNNABLE units: one sort per queue and one heap operation per unit.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from typing import Protocol

from .snapshot import RunnableUnit


class UnitSource(Protocol):
    """A queue's RUNNABLE units in the order that queue hands them out."""

    def peek(self) -> RunnableUnit | None: ...

    def advance(self, *, admitted: bool) -> None: ...


def fifo_order(unit: RunnableUnit) -> tuple[float, int, str]:
    return (unit.created_at, unit.sequence, unit.id)


class FifoQueue:
    """A queue without a scheduling policy: strictly by submission order."""

    def __init__(self, *, units: Iterable[RunnableUnit]) -> None:
        self._units = sorted(units, key=fifo_order)
        self._next = 0

    def peek(self) -> RunnableUnit | None:
        return self._units[self._next] if self._next < len(self._units) else None

    def advance(self, *, admitted: bool) -> None:
        self._next += 1


def across_queues(
    sources: Iterable[tuple[str, int, UnitSource]],
) -> Iterator[tuple[str, RunnableUnit, UnitSource]]:
    """Yield (queue name, unit, its source) in global order. The caller must call
    `source.advance(...)` before asking for the next unit, because a fair-share
    queue's next unit depends on whether this one was admitted."""
    heap: list[tuple[int, float, int, str]] = []
    by_name: dict[str, tuple[int, UnitSource]] = {}
    for name, priority, source in sources:
        by_name[name] = (priority, source)
        head = source.peek()
        if head is not None:
            heap.append((-priority, head.created_at, head.sequence, name))
    heapq.heapify(heap)
    while heap:
        name = heap[0][3]
        priority, source = by_name[name]
        head = source.peek()
        assert head is not None
        yield name, head, source
        following = source.peek()
        if following is None:
            heapq.heappop(heap)
        else:
            heapq.heapreplace(heap, (-priority, following.created_at, following.sequence, name))
