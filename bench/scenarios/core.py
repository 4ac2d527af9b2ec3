"""Scenario D, the pure core: one scheduling cycle and one reconcile plan on synthetic snapshots.

The snapshots and worlds are those of ``bench/bench_scheduler.py`` and
``bench/bench_planner.py`` (imported, not copied); this module only times them so that
D reports the same statistic as every other table: each repetition times ONE call
(after a collected heap, as bench_scheduler does), and the report takes the median and
range of those repetitions. (The scripts, run on their own, print a median of 5 and a
minimum of 5 respectively; issue 20 asks for one statistic per column.)

The scheduler has no incremental mode: *incremental cycle* is a whole cycle over the
same snapshot once the first cycle's admissions hold capacity and one more job arrived,
which is what one change costs today.
"""

from __future__ import annotations

import gc
import time
from typing import Any, Callable

from bench import bench_planner, bench_scheduler
from kubatch.core.reconcile import plan
from kubatch.core.scheduling import schedule

COMPUTE_ENVIRONMENTS = (20, 100)
PLANNER_CASES = (("array", 1_000, 500), ("array", 10_000, 500), ("singles", 1_000, 500), ("singles", 10_000, 500))


def _ms(call: Callable[[], Any]) -> float:
    gc.collect()
    started = time.perf_counter()
    call()
    return round((time.perf_counter() - started) * 1000, 2)


def scheduler_rows(sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    rows = []
    for ces in COMPUTE_ENVIRONMENTS:
        for units in sizes:
            snapshot = bench_scheduler.synthetic_snapshot(units=units, compute_environments=ces)
            decisions = schedule(snapshot)
            next_cycle = bench_scheduler.with_one_more_job(
                bench_scheduler.after_admissions(snapshot, decisions, seconds=1.0))
            for r in range(1, repeat + 1):
                rows.append({"scenario": "D", "bench": "schedule()", "runnable": units,
                             "queues": bench_scheduler.QUEUES, "ces": ces, "admitted": len(decisions.admissions),
                             "full_cycle_ms": _ms(lambda: schedule(snapshot)),
                             "incremental_cycle_ms": _ms(lambda: schedule(next_cycle)), "repeat": r})
    return rows


def planner_rows(repeat: int) -> list[dict[str, Any]]:
    rows = []
    for kind, size, active in PLANNER_CASES:
        if kind == "array":
            world, label, runnable = bench_planner.array_world(size, active), f"plan(): array of {size}", size - active
        else:
            world, label, runnable = bench_planner.singles_world(size, active), "plan(): single jobs", size
        for r in range(1, repeat + 1):
            rows.append({"scenario": "D", "bench": label, "runnable": runnable, "held": active,
                         "full_cycle_ms": _ms(lambda: plan(world, now_ms=bench_planner.NOW_MS + 1000)),
                         "repeat": r})
    return rows


def run_scenario(sizes: list[int], repeat: int = 3) -> list[dict[str, Any]]:
    return scheduler_rows(sizes, repeat) + planner_rows(repeat)
