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

Beside that first ("full") cycle, the table times the cycles a running controller
mostly sees: the first cycle's admissions are applied (they now hold capacity, and
a second later the rest is still RUNNABLE), then one change is made before the next
cycle: a job is submitted ("+1 job"), or a running job ends and frees its capacity
("1 ended"). `schedule` has no memory between cycles, so each of these is a whole
cycle over every RUNNABLE unit; the columns show what one change costs today.

Each timing starts from a freshly collected heap, so that garbage left by one
repetition does not land in the next; collections the cycle itself causes count.
"""

from __future__ import annotations

import dataclasses
import gc
import random
import statistics
import sys
import time

from kubatch.core.scheduling import (
    AdmittedUnit,
    ComputeEnvironment,
    ComputeResourceType,
    Decisions,
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


def after_admissions(snapshot: Snapshot, decisions: Decisions, *, seconds: float) -> Snapshot:
    """The next snapshot, `seconds` later: the admitted units hold capacity."""
    runnable = {unit.id: unit for unit in snapshot.runnable}
    started = [
        AdmittedUnit(
            id=admission.unit_id,
            queue=admission.queue,
            compute_environment=admission.compute_environment,
            vcpus=runnable[admission.unit_id].vcpus,
            memory_mib=runnable[admission.unit_id].memory_mib,
            started_at=snapshot.now,
            share_identifier=runnable[admission.unit_id].share_identifier,
        )
        for admission in decisions.admissions
    ]
    for admission in decisions.admissions:
        del runnable[admission.unit_id]
    return dataclasses.replace(
        snapshot,
        now=snapshot.now + seconds,
        runnable=tuple(runnable.values()),
        admitted=(*snapshot.admitted, *started),
    )


def with_one_more_job(snapshot: Snapshot) -> Snapshot:
    newest = max(snapshot.runnable, key=lambda unit: unit.sequence)
    job = dataclasses.replace(
        newest, id="job-new", created_at=snapshot.now, sequence=newest.sequence + 1
    )
    return dataclasses.replace(snapshot, runnable=(*snapshot.runnable, job))


def with_one_job_ended(snapshot: Snapshot) -> Snapshot:
    return dataclasses.replace(snapshot, admitted=snapshot.admitted[1:])


def time_cycle(snapshot: Snapshot, *, repeats: int) -> tuple[float, Decisions]:
    timings = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        decisions = schedule(snapshot)
        timings.append(time.perf_counter() - start)
        del decisions
    return statistics.median(timings), schedule(snapshot)


def main(sizes: list[int]) -> None:
    header = (
        f"{'RUNNABLE':>9} {'queues':>6} {'CEs':>4} {'admitted':>8} "
        f"{'ms/cycle':>9} {'decisions/s':>12} {'+1 job ms':>10} {'1 ended ms':>11}"
    )
    print(header)
    print("-" * len(header))
    for compute_environments in (20, 100):
        for units in sizes:
            snapshot = synthetic_snapshot(units=units, compute_environments=compute_environments)
            repeats = 5 if units <= 10_000 else 3
            seconds, decisions = time_cycle(snapshot, repeats=repeats)
            steady = after_admissions(snapshot, decisions, seconds=1.0)
            one_more, _ = time_cycle(with_one_more_job(steady), repeats=repeats)
            one_ended, _ = time_cycle(with_one_job_ended(steady), repeats=repeats)
            print(
                f"{units:>9} {QUEUES:>6} {compute_environments:>4} "
                f"{len(decisions.admissions):>8} {seconds * 1000:>9.1f} "
                f"{units / seconds:>12,.0f} {one_more * 1000:>10.1f} {one_ended * 1000:>11.1f}"
            )


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1_000, 10_000, 50_000, 100_000])
