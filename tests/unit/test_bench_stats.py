"""The benchmark's one statistic: rotating run order, median with range, leads only without overlap."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.scenarios.stats import NO_CLEAR_DIFFERENCE, Spread, ratio, rotations, verdict  # noqa: E402


def test_rotations_put_every_contender_in_every_position() -> None:
    assert rotations(("raw", "job", "kubatch"), 4) == [
        ("raw", "job", "kubatch"), ("job", "kubatch", "raw"), ("kubatch", "raw", "job"), ("raw", "job", "kubatch")]


def test_rotations_refuse_fewer_than_one_run() -> None:
    with pytest.raises(ValueError, match="repeat"):
        rotations(("raw",), 0)


def test_spread_is_median_and_range_of_the_runs_that_have_a_value() -> None:
    assert Spread.of([3.0, None, 1.0, 10.0]) == Spread(median=3.0, low=1.0, high=10.0, runs=3)
    assert Spread.of([2.0, 4.0]).median == 3.0
    assert Spread.of([None, None]) is None


def test_a_lead_needs_ranges_that_do_not_overlap() -> None:
    fast, slow = Spread.of([10, 11, 12]), Spread.of([13, 14, 20])
    assert verdict(fast, slow) == "leads" and verdict(slow, fast) == "trails"
    touching = Spread.of([12, 15, 16])
    assert verdict(fast, touching) == NO_CLEAR_DIFFERENCE
    assert verdict(fast, slow, lower_is_better=False) == "trails"
    assert verdict(None, slow) is None


def test_ratio_is_of_the_medians() -> None:
    assert ratio(Spread.of([10, 12, 30]), Spread.of([6, 8])) == pytest.approx(12 / 7)
    assert ratio(Spread.of([1]), Spread.of([0])) is None
