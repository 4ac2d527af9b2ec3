"""Time one scheduling cycle on synthetic snapshots and print a table.

Not a test: numbers depend on the machine. Run from the repository root with the
project's interpreter, e.g.

    python bench/bench_scheduler.py             # 1k, 10k, 50k, 100k RUNNABLE units
    python bench/bench_scheduler.py 1000 10000  # chosen sizes

Each snapshot has 50 queues (every fifth one fair-share with a compute reservation)
over 20 or 100 compute environments (each queue uses 1-3 of them), mixed unit
sizes, and enough capacity, half of it already in use, for roughly a third of the
RUNNABLE units; so every cycle exercises admissions, backfill, head-of-line holds
and wait explanations.
"""

from __future__ import annotations

import random
import statistics
import sys
import time

from kubatch.core.scheduling import (
    AdmittedUnit,
    ComputeEnvironment,
    ComputeResourceType,
    JobQueue,
    RunnableUnit,
    SchedulingPolicy,
    ShareWeight,
    Snapshot,
    schedule,
)

QUEUES = 50
NOW = 1_000_000.0
UNIT_VCPUS = (0.25, 0.5, 1, 1, 2, 2, 4, 8, 16)


def synthetic_snapshot(*, units: int, compute_environments: int, seed: int = 7) -> Snapshot:
    rng = random.Random(seed)
    vcpus = [rng.choice(UNIT_VCPUS) for _ in range(units)]
    per_ce = max(16.0, round(sum(vcpus) / 3 / compute_environments))
    ces = [
        ComputeEnvironment(
            name=f"ce-{index:03d}",
            max_vcpus=per_ce,
            resource_type=rng.choice(list(ComputeResourceType)),
        )
        for index in range(compute_environments)
    ]
    policy = SchedulingPolicy(
        name="fair",
        share_decay_seconds=3600,
        compute_reservation=25,
        share_distribution=(ShareWeight(share_identifier="team-a*", weight_factor=0.5),),
    )
    queues = [
        JobQueue(
            name=f"queue-{index:02d}",
            priority=rng.randint(1, 10),
            compute_environments=tuple(ce.name for ce in rng.sample(ces, k=rng.randint(1, 3))),
            scheduling_policy=policy.name if index % 5 == 0 else None,
        )
        for index in range(QUEUES)
    ]
    shares = ("team-a1", "team-a2", "team-b", "team-c")
    runnable = [
        RunnableUnit(
            id=f"job-{index}",
            queue=rng.choice(queues).name,
            vcpus=vcpus[index],
            memory_mib=int(vcpus[index] * 2048),
            created_at=NOW - rng.uniform(0, 3600),
            sequence=index,
            share_identifier=rng.choice(shares),
            scheduling_priority=rng.randint(0, 3),
        )
        for index in range(units)
    ]
    admitted = []
    for ce in ces:
        used = 0.0
        while used + 2 <= ce.max_vcpus / 2:
            queue = rng.choice(queues)
            admitted.append(
                AdmittedUnit(
                    id=f"running-{len(admitted)}",
                    queue=queue.name,
                    compute_environment=ce.name,
                    vcpus=2,
                    started_at=NOW - 60,
                    share_identifier=rng.choice(shares),
                )
            )
            used += 2
    return Snapshot(
        now=NOW,
        compute_environments=ces,
        job_queues=queues,
        scheduling_policies=(policy,),
        runnable=runnable,
        admitted=admitted,
    )


def time_cycle(snapshot: Snapshot, *, repeats: int) -> tuple[float, int]:
    timings = []
    admitted = 0
    for _ in range(repeats):
        start = time.perf_counter()
        decisions = schedule(snapshot)
        timings.append(time.perf_counter() - start)
        admitted = len(decisions.admissions)
    return statistics.median(timings), admitted


def main(sizes: list[int]) -> None:
    header = (
        f"{'RUNNABLE':>9} {'queues':>6} {'CEs':>4} {'admitted':>8} "
        f"{'ms/cycle':>9} {'decisions/s':>12}"
    )
    print(header)
    print("-" * len(header))
    for compute_environments in (20, 100):
        for units in sizes:
            snapshot = synthetic_snapshot(units=units, compute_environments=compute_environments)
            seconds, admitted = time_cycle(snapshot, repeats=5 if units <= 10_000 else 3)
            print(
                f"{units:>9} {QUEUES:>6} {compute_environments:>4} {admitted:>8} "
                f"{seconds * 1000:>9.1f} {units / seconds:>12,.0f}"
            )


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1_000, 10_000, 50_000, 100_000])
