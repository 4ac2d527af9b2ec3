"""The one statistic every benchmark table reports: the median of repeated runs, with their range.

Why: a single run on a shared two-core machine moves by tens of per cent with no change
in the code (issue 20: the Job controller's 10,000 makespan moved 25 % between two
runs), so one figure cannot carry a comparison. Every scenario x contender runs at least
three times, contenders interleaved in a rotating order so that no contender always runs
first on a cold cluster or last on a tired one; a table cell is the median with the
min-max range beside it, and a ratio between two contenders is called a lead only when
their ranges do not overlap.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Iterable, Sequence, TypeVar

T = TypeVar("T")

NO_CLEAR_DIFFERENCE = "no clear difference"


def rotations(contenders: Sequence[T], repeat: int) -> list[tuple[T, ...]]:
    """The order of each repetition: run 1 as given, each next one rotated left by one.

    ``rotations(("raw", "job", "kubatch"), 3)`` is raw, job, kubatch; job, kubatch, raw;
    kubatch, raw, job: every contender runs in every position equally often when
    ``repeat`` is a multiple of their number.
    """
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}")
    items = tuple(contenders)
    if not items:
        return [() for _ in range(repeat)]
    return [items[r % len(items):] + items[:r % len(items)] for r in range(repeat)]


@dataclass(frozen=True)
class Spread:
    """Median and min-max of one figure over the repeated runs (``runs`` of them had a value)."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: Iterable[float | int | None]) -> "Spread | None":
        present = [float(v) for v in values if v is not None]
        if not present:
            return None
        return cls(median=statistics.median(present), low=min(present), high=max(present), runs=len(present))

    def overlaps(self, other: "Spread") -> bool:
        return self.low <= other.high and other.low <= self.high


def verdict(mine: Spread | None, theirs: Spread | None, *, lower_is_better: bool = True) -> str | None:
    """``mine`` against ``theirs``: "leads", "trails" or "no clear difference" (ranges overlap)."""
    if mine is None or theirs is None:
        return None
    if mine.overlaps(theirs):
        return NO_CLEAR_DIFFERENCE
    better = mine.high < theirs.low if lower_is_better else mine.low > theirs.high
    return "leads" if better else "trails"


def ratio(mine: Spread | None, theirs: Spread | None) -> float | None:
    """Median over median; None when either is missing or the divisor is zero."""
    if mine is None or theirs is None or not theirs.median:
        return None
    return mine.median / theirs.median
