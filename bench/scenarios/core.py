"""Scenario D, the pure core: runs ``bench/bench_scheduler.py`` and ``bench/bench_planner.py``.

They print fixed-width tables; this parses them into rows. The scheduler has no
incremental mode: its "incremental" column is a whole cycle over the same snapshot with
one more RUNNABLE job, which is what one change costs today.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from bench.scenarios.common import REPO_ROOT


def _run(script: str, *args: str) -> list[str]:
    result = subprocess.run([sys.executable, str(REPO_ROOT / "bench" / script), *args], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=True, timeout=1800)
    return result.stdout.splitlines()


def scheduler_rows(sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for line in _run("bench_scheduler.py", *map(str, sizes)):
        parts = line.split()
        if len(parts) == 8 and parts[0].isdigit():
            rows.append({"scenario": "D", "bench": "schedule()", "runnable": int(parts[0]), "queues": int(parts[1]),
                         "ces": int(parts[2]), "admitted": int(parts[3]), "full_cycle_ms": float(parts[4]),
                         "incremental_cycle_ms": float(parts[6])})
    return rows


def planner_rows() -> list[dict[str, Any]]:
    rows = []
    for line in _run("bench_planner.py"):
        parts = line.rsplit(None, 3)
        if len(parts) == 4 and parts[1].isdigit():
            rows.append({"scenario": "D", "bench": f"plan(): {parts[0].strip()}", "runnable": int(parts[1]),
                         "held": int(parts[2]), "full_cycle_ms": float(parts[3])})
    return rows


def run_scenario(sizes: list[int]) -> list[dict[str, Any]]:
    return scheduler_rows(sizes) + planner_rows()
