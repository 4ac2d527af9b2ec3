"""The order in which RUNNABLE units are considered.

Across queues: higher `priority` first. Queues of equal priority are interleaved by
the age of their next unit (created_at, then sequence), then by queue name, so that
neither can starve the other by name alone.

Within a FIFO queue: created_at, then sequence, then id (ids only make the order
total). Within a fair-share queue: see `fairshare.FairShareQueue`.

How the walk gets there cheaply: interleaving FIFO queues by the age of their next
unit is the same as sorting their units together by (created_at, sequence, queue
name, id), so the FIFO queues of one priority become a single sorted list, walked
with a plain loop. Only fair-share queues, whose next unit depends on what was just
admitted, are merged in unit by unit; the FIFO units between two of theirs are found
by bisection. A cycle therefore costs one sort per priority and, per unit, one call
of `place`.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import Protocol, TypeVar

from .snapshot import RunnableUnit

fifo_order = attrgetter("created_at", "sequence", "id")
"""A unit's FIFO sort key, (created_at, sequence, id)."""

_ACROSS_QUEUES = attrgetter("created_at", "sequence", "queue", "id")
_MERGE_KEY = attrgetter("created_at", "sequence", "queue")
_CREATED_AT = attrgetter("created_at")
_SEQUENCE = attrgetter("sequence")


def sort_by_age(units: list[RunnableUnit], *, key: Callable[[RunnableUnit], tuple]) -> None:
    """Sort `units` in place by `key`, a tuple that starts with (created_at, sequence).

    Sorting on one number at a time is several times faster than sorting on tuples,
    so this sorts by sequence, then (stably) by created_at. That is the order `key`
    gives whenever no two units share a sequence number, the norm as the controller
    numbers units; otherwise it sorts by `key` itself."""
    if len({unit.sequence for unit in units}) < len(units):
        units.sort(key=key)
    else:
        units.sort(key=_SEQUENCE)
        units.sort(key=_CREATED_AT)


class UnitSource(Protocol):
    """A fair-share queue's RUNNABLE units in the order that queue hands them out."""

    def peek(self) -> RunnableUnit | None: ...

    def advance(self, *, admitted: bool) -> None: ...


class WalkedQueue(Protocol):
    """A queue as the walk sees it: FIFO units (in any order), or a fair-share source."""

    @property
    def name(self) -> str: ...

    @property
    def priority(self) -> int: ...

    @property
    def fifo_units(self) -> Sequence[RunnableUnit]: ...

    @property
    def fair_share(self) -> UnitSource | None: ...


Q = TypeVar("Q", bound=WalkedQueue)


def walk_in_order(queues: Iterable[Q], place: Callable[[Q, RunnableUnit], bool]) -> None:
    """Offer every unit of `queues` to `place` in global order. `place` answers whether
    it admitted the unit, which a fair-share queue needs to choose its next one."""
    levels: dict[int, list[Q]] = defaultdict(list)
    for queue in queues:
        levels[queue.priority].append(queue)
    for priority in sorted(levels, reverse=True):
        _walk_level(levels[priority], place)


def _walk_level(queues: list[Q], place: Callable[[Q, RunnableUnit], bool]) -> None:
    by_name = {queue.name: queue for queue in queues}
    fifo = [unit for queue in queues if queue.fair_share is None for unit in queue.fifo_units]
    sort_by_age(fifo, key=_ACROSS_QUEUES)
    # (created_at, sequence, name) of each fair-share queue's next unit; names are
    # unique, so the queue itself is never compared.
    heap: list[tuple[float, int, str, Q, UnitSource]] = []
    for queue in queues:
        source = queue.fair_share
        if source is not None and (head := source.peek()) is not None:
            heap.append((head.created_at, head.sequence, queue.name, queue, source))
    heapq.heapify(heap)
    done = 0
    while heap:
        created_at, sequence, name, queue, source = heap[0]
        older = bisect_left(fifo, (created_at, sequence, name), lo=done, key=_MERGE_KEY)
        for unit in fifo[done:older]:
            place(by_name[unit.queue], unit)
        done = older
        unit = source.peek()
        assert unit is not None
        source.advance(admitted=place(queue, unit))
        following = source.peek()
        if following is None:
            heapq.heappop(heap)
        else:
            heapq.heapreplace(
                heap, (following.created_at, following.sequence, name, queue, source)
            )
    for unit in fifo[done:]:
        place(by_name[unit.queue], unit)
