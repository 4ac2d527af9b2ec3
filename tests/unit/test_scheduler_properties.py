"""Properties of `schedule()` over random snapshots (hypothesis).

The checks recompute what they need from the snapshot with exact fractions rather
than trusting the scheduler's own bookkeeping.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st
from kubatch.core.scheduling import (
    AdmittedUnit,
    ComputeEnvironment,
    ComputeEnvironmentState,
    ComputeResourceType,
    Decisions,
    JobQueue,
    RunnableUnit,
    SchedulerConfig,
    SchedulingPolicy,
    ShareWeight,
    Snapshot,
    WaitReason,
    schedule,
)

NOW = 50_000.0
VCPU_CHOICES = (0.25, 0.5, 1, 1, 2, 2, 3, 4, 8, 16, 24)
FARGATE_TYPES = (ComputeResourceType.FARGATE, ComputeResourceType.FARGATE_SPOT)


def exact(vcpus: float) -> Fraction:
    return Fraction(str(vcpus))


@st.composite
def snapshots(draw: st.DrawFn, *, fair_share: bool = True, holds: bool = True) -> Snapshot:
    ce_count = draw(st.integers(1, 4))
    ces = [
        ComputeEnvironment(
            name=f"ce{index}",
            max_vcpus=draw(st.sampled_from((0.5, 1, 2, 2.5, 4, 8, 16, 32))),
            state=draw(
                st.sampled_from(
                    [ComputeEnvironmentState.ENABLED] * 4 + [ComputeEnvironmentState.DISABLED]
                )
            ),
            valid=draw(st.sampled_from((True, True, True, False))),
            resource_type=draw(st.sampled_from(list(ComputeResourceType))),
            max_memory_mib=draw(st.one_of(st.none(), st.sampled_from((1024, 4096, 16384)))),
            max_gpus=draw(st.one_of(st.none(), st.integers(0, 4))),
        )
        for index in range(ce_count)
    ]
    ce_names = [ce.name for ce in ces]
    policies = []
    if fair_share:
        policies.append(
            SchedulingPolicy(
                name="fair",
                share_decay_seconds=draw(st.sampled_from((0, 600, 3600))),
                compute_reservation=draw(st.sampled_from((0, 25, 50, 90))),
                share_distribution=(
                    ShareWeight(
                        share_identifier="a", weight_factor=draw(st.sampled_from((0.5, 1.0, 2.0)))
                    ),
                    ShareWeight(share_identifier="b*", weight_factor=0.25),
                ),
            )
        )
    queues = [
        JobQueue(
            name=f"q{index}",
            priority=draw(st.integers(0, 3)),
            compute_environments=tuple(
                draw(
                    st.lists(
                        st.sampled_from([*ce_names, "missing"]), min_size=0, max_size=3, unique=True
                    )
                )
            ),
            scheduling_policy="fair" if fair_share and draw(st.booleans()) else None,
        )
        for index in range(draw(st.integers(1, 4)))
    ]
    queue_names = [queue.name for queue in queues]
    unit_count = draw(st.integers(0, 30))
    runnable = [
        RunnableUnit(
            id=f"u{index}",
            queue=draw(st.sampled_from(queue_names * 5 + ["unknown"])),
            vcpus=draw(st.sampled_from(VCPU_CHOICES)),
            memory_mib=draw(st.sampled_from((0, 0, 512, 2048, 8192))),
            gpus=draw(st.sampled_from((0, 0, 0, 1, 2))),
            share_identifier=draw(st.sampled_from(("a", "b1", "b2", "c", None))),
            scheduling_priority=draw(st.integers(0, 2)),
            created_at=NOW - draw(st.integers(0, 2000)),
            sequence=index,
        )
        for index in range(unit_count)
    ]
    admitted = [
        AdmittedUnit(
            id=f"r{index}",
            queue=draw(st.sampled_from(queue_names)),
            compute_environment=draw(st.sampled_from([*ce_names, "missing"])),
            vcpus=draw(st.sampled_from(VCPU_CHOICES)),
            memory_mib=draw(st.sampled_from((0, 1024))),
            gpus=draw(st.sampled_from((0, 1))),
            share_identifier=draw(st.sampled_from(("a", "b1", "c"))),
            started_at=NOW - 100,
            unschedulable_since=draw(st.sampled_from((None, None, None, NOW - 10, NOW - 1000))),
        )
        for index in range(draw(st.integers(0, 6)))
    ]
    return Snapshot(
        now=NOW,
        compute_environments=ces,
        job_queues=queues,
        scheduling_policies=policies,
        runnable=runnable,
        admitted=admitted,
        share_usage={("q0", "a"): draw(st.sampled_from((0.0, 100.0, 10_000.0)))},
        config=SchedulerConfig(
            backfill_patience_seconds=draw(st.sampled_from((0.0, 600.0)))
            if holds
            else float("inf"),
            unschedulable_grace_seconds=120.0,
        ),
    )


def never_fits(unit: RunnableUnit, ce: ComputeEnvironment) -> bool:
    if ce.resource_type in FARGATE_TYPES and (
        unit.vcpus > 16 or unit.memory_mib > 120 * 1024 or unit.gpus > 0
    ):
        return True
    return (
        exact(unit.vcpus) > exact(ce.max_vcpus)
        or (ce.max_memory_mib is not None and unit.memory_mib > ce.max_memory_mib)
        or (ce.max_gpus is not None and unit.gpus > ce.max_gpus)
    )


def stalled(snapshot: Snapshot) -> set[str]:
    grace = snapshot.config.unschedulable_grace_seconds
    return {
        unit.compute_environment
        for unit in snapshot.admitted
        if unit.unschedulable_since is not None and snapshot.now - unit.unschedulable_since >= grace
    }


def usage(
    snapshot: Snapshot, units: list[RunnableUnit | AdmittedUnit], ce_name: str
) -> tuple[Fraction, int, int]:
    chosen = [unit for unit in units if getattr(unit, "compute_environment", ce_name) == ce_name]
    return (
        sum((exact(unit.vcpus) for unit in chosen), Fraction(0)),
        sum(unit.memory_mib for unit in chosen),
        sum(unit.gpus for unit in chosen),
    )


def admitted_per_ce(snapshot: Snapshot, decisions: Decisions) -> dict[str, list[RunnableUnit]]:
    by_id = {unit.id: unit for unit in snapshot.runnable}
    per_ce: dict[str, list[RunnableUnit]] = {}
    for admission in decisions.admissions:
        per_ce.setdefault(admission.compute_environment, []).append(by_id[admission.unit_id])
    return per_ce


@settings(max_examples=200, deadline=None)
@given(snapshots())
def test_capacity_is_never_exceeded_and_only_usable_ces_take_work(snapshot: Snapshot) -> None:
    decisions = schedule(snapshot)
    ces = {ce.name: ce for ce in snapshot.compute_environments}
    queues = {queue.name: queue for queue in snapshot.job_queues}
    by_id = {unit.id: unit for unit in snapshot.runnable}
    for admission in decisions.admissions:
        assert (
            admission.compute_environment
            in queues[by_id[admission.unit_id].queue].compute_environments
        )
    for ce_name, new_units in admitted_per_ce(snapshot, decisions).items():
        ce = ces[ce_name]
        assert ce.state is ComputeEnvironmentState.ENABLED and ce.valid
        assert ce_name not in stalled(snapshot)
        running_vcpus, running_memory, running_gpus = usage(
            snapshot, list(snapshot.admitted), ce_name
        )
        new_vcpus, new_memory, new_gpus = usage(snapshot, new_units, ce_name)
        assert running_vcpus + new_vcpus <= exact(ce.max_vcpus)
        if ce.max_memory_mib is not None:
            assert running_memory + new_memory <= ce.max_memory_mib
        if ce.max_gpus is not None:
            assert running_gpus + new_gpus <= ce.max_gpus
        plan = decisions.compute_environments[ce_name]
        assert exact(plan.planned_vcpus) == running_vcpus + new_vcpus


@settings(max_examples=200, deadline=None)
@given(snapshots())
def test_every_runnable_unit_is_admitted_once_or_told_why(snapshot: Snapshot) -> None:
    decisions = schedule(snapshot)
    admitted = [admission.unit_id for admission in decisions.admissions]
    assert len(admitted) == len(set(admitted))
    assert set(admitted).isdisjoint(decisions.waits)
    assert set(admitted) | set(decisions.waits) == {unit.id for unit in snapshot.runnable}
    for unit_id, wait in decisions.waits.items():
        assert wait.unit_id == unit_id
        assert wait.message.startswith(wait.reason.value + ": ")


@settings(max_examples=200, deadline=None)
@given(snapshots(), st.randoms(use_true_random=False))
def test_same_snapshot_in_any_order_gives_the_same_decisions(snapshot: Snapshot, rng) -> None:
    def shuffled(items):
        items = list(items)
        rng.shuffle(items)
        return tuple(items)

    expected = schedule(snapshot)
    assert schedule(snapshot) == expected
    reordered = Snapshot(
        now=snapshot.now,
        compute_environments=shuffled(snapshot.compute_environments),
        job_queues=shuffled(snapshot.job_queues),
        scheduling_policies=snapshot.scheduling_policies,
        runnable=shuffled(snapshot.runnable),
        admitted=shuffled(snapshot.admitted),
        share_usage=snapshot.share_usage,
        config=snapshot.config,
    )
    assert schedule(reordered) == expected


@settings(max_examples=200, deadline=None)
@given(snapshots(fair_share=False, holds=False))
def test_a_fitting_higher_priority_unit_never_loses_to_a_lower_priority_one(
    snapshot: Snapshot,
) -> None:
    """A unit left waiting for capacity would not fit any of its usable CEs even if
    every admission from a lower-priority queue into that CE were undone."""
    decisions = schedule(snapshot)
    ces = {ce.name: ce for ce in snapshot.compute_environments}
    queues = {queue.name: queue for queue in snapshot.job_queues}
    per_ce = admitted_per_ce(snapshot, decisions)
    for unit_id, wait in decisions.waits.items():
        if wait.reason is not WaitReason.CAPACITY:
            continue
        unit = next(u for u in snapshot.runnable if u.id == unit_id)
        priority = queues[unit.queue].priority
        for ce_name in queues[unit.queue].compute_environments:
            ce = ces.get(ce_name)
            if ce is None or never_fits(unit, ce) or ce_name in stalled(snapshot):
                continue
            if ce.state is not ComputeEnvironmentState.ENABLED or not ce.valid:
                continue
            not_lower = [v for v in per_ce.get(ce_name, []) if queues[v.queue].priority >= priority]
            vcpus, memory, gpus = usage(snapshot, list(snapshot.admitted) + not_lower, ce_name)
            assert (
                vcpus + exact(unit.vcpus) > exact(ce.max_vcpus)
                or (ce.max_memory_mib is not None and memory + unit.memory_mib > ce.max_memory_mib)
                or (ce.max_gpus is not None and gpus + unit.gpus > ce.max_gpus)
            ), (unit_id, ce_name)


@settings(max_examples=200, deadline=None)
@given(snapshots())
def test_a_held_ce_takes_nothing_that_comes_after_its_holder(snapshot: Snapshot) -> None:
    """Nothing from a lower-priority queue, nor anything younger from the holder's
    own FIFO queue, enters a CE held for a unit that waited past its patience."""
    decisions = schedule(snapshot)
    queues = {queue.name: queue for queue in snapshot.job_queues}
    by_id = {unit.id: unit for unit in snapshot.runnable}
    for name, plan in decisions.compute_environments.items():
        if plan.held_for is None:
            continue
        holder = by_id[plan.held_for]
        holder_queue = queues[holder.queue]
        for unit in admitted_per_ce(snapshot, decisions).get(name, []):
            assert queues[unit.queue].priority >= holder_queue.priority
            if unit.queue == holder.queue and holder_queue.scheduling_policy is None:
                assert (unit.created_at, unit.sequence) < (holder.created_at, holder.sequence)
    for wait in decisions.waits.values():
        if wait.reason is WaitReason.HELD_FOR_WAITING_JOB:
            assert any(plan.held_for for plan in decisions.compute_environments.values())


@settings(max_examples=200, deadline=None)
@given(snapshots())
def test_never_is_reported_exactly_for_units_too_big_for_every_ce(snapshot: Snapshot) -> None:
    decisions = schedule(snapshot)
    ces = {ce.name: ce for ce in snapshot.compute_environments}
    queues = {queue.name: queue for queue in snapshot.job_queues}
    too_big = {WaitReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE, WaitReason.JOB_RESOURCE_REQUIREMENT}
    decided_before_capacity = {
        WaitReason.SCHEDULING_POLICY_NOT_FOUND,
        WaitReason.SHARE_IDENTIFIER_MISSING,
    }
    for unit in snapshot.runnable:
        queue = queues.get(unit.queue)
        wait = decisions.waits.get(unit.id)
        if queue is None:
            assert wait is not None and wait.reason is WaitReason.JOB_QUEUE_NOT_FOUND
            continue
        if wait is not None and wait.reason in decided_before_capacity:
            continue
        names = queue.compute_environments
        expected_never = bool(names) and all(n in ces and never_fits(unit, ces[n]) for n in names)
        reported_never = wait is not None and wait.reason in too_big
        assert reported_never == expected_never, (unit, wait)


@settings(max_examples=200, deadline=None)
@given(
    ce_sizes=st.lists(st.sampled_from((1, 2, 4, 8, 16)), min_size=1, max_size=3),
    vcpus=st.sampled_from((0.5, 1, 2, 4)),
    ages=st.lists(st.integers(0, 100), min_size=0, max_size=40),
    running_vcpus=st.lists(st.sampled_from((0.5, 1, 2)), max_size=5),
)
def test_fifo_within_a_queue_when_all_units_have_the_same_size(
    ce_sizes: list[int], vcpus: float, ages: list[int], running_vcpus: list[float]
) -> None:
    ces = [ComputeEnvironment(name=f"ce{i}", max_vcpus=size) for i, size in enumerate(ce_sizes)]
    units = [
        RunnableUnit(id=f"u{i}", queue="q", vcpus=vcpus, created_at=NOW - age, sequence=i)
        for i, age in enumerate(ages)
    ]
    decisions = schedule(
        Snapshot(
            now=NOW,
            compute_environments=ces,
            job_queues=[
                JobQueue(name="q", priority=1, compute_environments=[ce.name for ce in ces])
            ],
            runnable=units,
            admitted=[
                AdmittedUnit(
                    id=f"r{i}", queue="q", compute_environment="ce0", vcpus=v, started_at=NOW
                )
                for i, v in enumerate(running_vcpus)
            ],
            config=SchedulerConfig(backfill_patience_seconds=float("inf")),
        )
    )
    fifo = [unit.id for unit in sorted(units, key=lambda u: (u.created_at, u.sequence))]
    admitted = [admission.unit_id for admission in decisions.admissions]
    assert admitted == fifo[: len(admitted)]
