"""Short builders and a tiny cluster simulation shared by the scheduler tests.

Jobs built with `job()` get increasing sequence numbers in the order they are
built, so building them is submitting them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

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
    ShareKey,
    Snapshot,
    WaitReason,
    advance_share_usage,
    schedule,
)

NOW = 100_000.0
_sequence = itertools.count()


def ce(
    name: str,
    max_vcpus: float = 16,
    *,
    disabled: bool = False,
    valid: bool = True,
    resource_type: ComputeResourceType = ComputeResourceType.EC2,
    max_memory_mib: int | None = None,
    max_gpus: int | None = None,
) -> ComputeEnvironment:
    return ComputeEnvironment(
        name=name,
        max_vcpus=max_vcpus,
        state=ComputeEnvironmentState.DISABLED if disabled else ComputeEnvironmentState.ENABLED,
        valid=valid,
        resource_type=resource_type,
        max_memory_mib=max_memory_mib,
        max_gpus=max_gpus,
    )


def queue(
    name: str, *compute_environments: str, priority: int = 1, policy: str | None = None
) -> JobQueue:
    return JobQueue(
        name=name,
        priority=priority,
        compute_environments=compute_environments,
        scheduling_policy=policy,
    )


def job(
    unit_id: str,
    queue_name: str = "q",
    vcpus: float = 1,
    *,
    age: float = 1.0,
    memory_mib: int = 0,
    gpus: int = 0,
    share: str | None = None,
    priority: int = 0,
) -> RunnableUnit:
    """A unit submitted `age` seconds before NOW."""
    return RunnableUnit(
        id=unit_id,
        queue=queue_name,
        vcpus=vcpus,
        memory_mib=memory_mib,
        gpus=gpus,
        created_at=NOW - age,
        sequence=next(_sequence),
        share_identifier=share,
        scheduling_priority=priority,
    )


def running(
    unit_id: str,
    queue_name: str,
    compute_environment: str,
    vcpus: float,
    *,
    memory_mib: int = 0,
    gpus: int = 0,
    share: str | None = None,
    unschedulable_for: float | None = None,
) -> AdmittedUnit:
    return AdmittedUnit(
        id=unit_id,
        queue=queue_name,
        compute_environment=compute_environment,
        vcpus=vcpus,
        memory_mib=memory_mib,
        gpus=gpus,
        started_at=NOW - 60,
        share_identifier=share,
        unschedulable_since=None if unschedulable_for is None else NOW - unschedulable_for,
    )


def snapshot(
    *,
    ces: Sequence[ComputeEnvironment],
    queues: Sequence[JobQueue],
    jobs: Sequence[RunnableUnit] = (),
    holding: Sequence[AdmittedUnit] = (),
    policies: Sequence[SchedulingPolicy] = (),
    usage: Mapping[ShareKey, float] | None = None,
    patience: float = 600.0,
    grace: float = 120.0,
    now: float = NOW,
) -> Snapshot:
    return Snapshot(
        now=now,
        compute_environments=tuple(ces),
        job_queues=tuple(queues),
        scheduling_policies=tuple(policies),
        runnable=tuple(jobs),
        admitted=tuple(holding),
        share_usage=dict(usage or {}),
        config=SchedulerConfig(
            backfill_patience_seconds=patience, unschedulable_grace_seconds=grace
        ),
    )


def placements(decisions: Decisions) -> dict[str, str]:
    return {a.unit_id: a.compute_environment for a in decisions.admissions}


def reasons(decisions: Decisions) -> dict[str, WaitReason]:
    return {unit_id: wait.reason for unit_id, wait in decisions.waits.items()}


@dataclass
class Simulation:
    """A cluster that runs whatever the scheduler admits for a fixed duration per
    job, ticking every `tick` seconds and keeping fair-share usage up to date."""

    compute_environments: Sequence[ComputeEnvironment]
    job_queues: Sequence[JobQueue]
    policies: Sequence[SchedulingPolicy] = ()
    tick: float = 60.0
    patience: float = 600.0
    now: float = NOW
    runnable: list[RunnableUnit] = field(default_factory=list)
    running: dict[str, tuple[AdmittedUnit, float]] = field(default_factory=dict)
    usage: dict[ShareKey, float] = field(default_factory=dict)
    started_at: dict[str, float] = field(default_factory=dict)
    vcpu_seconds: dict[str, float] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    last_decisions: Decisions | None = None

    def submit(self, units: Iterable[RunnableUnit], *, duration: float) -> None:
        for unit in units:
            self.runnable.append(replace(unit, created_at=self.now, runnable_since=self.now))
            self.durations[unit.id] = duration

    def step(self) -> Decisions:
        """Finish what is due, schedule, start what was admitted, advance time."""
        for unit_id, (_, ends_at) in list(self.running.items()):
            if ends_at <= self.now:
                del self.running[unit_id]
        current = self._snapshot()
        decisions = schedule(current)
        by_id = {unit.id: unit for unit in self.runnable}
        for admission in decisions.admissions:
            unit = by_id.pop(admission.unit_id)
            self.started_at[unit.id] = self.now
            self.running[unit.id] = (
                AdmittedUnit(
                    id=unit.id,
                    queue=unit.queue,
                    compute_environment=admission.compute_environment,
                    vcpus=unit.vcpus,
                    memory_mib=unit.memory_mib,
                    gpus=unit.gpus,
                    started_at=self.now,
                    share_identifier=unit.share_identifier,
                ),
                self.now + self.durations[unit.id],
            )
        self.runnable = list(by_id.values())
        previous = self.now
        self.now += self.tick
        for admitted, ends_at in self.running.values():
            share = admitted.share_identifier or admitted.queue
            ran = min(self.now, ends_at) - max(previous, admitted.started_at)
            self.vcpu_seconds[share] = self.vcpu_seconds.get(share, 0.0) + admitted.vcpus * ran
        self.usage = advance_share_usage(
            snapshot=replace(self._snapshot(), now=self.now), since=previous
        )
        self.last_decisions = decisions
        return decisions

    def _snapshot(self) -> Snapshot:
        return Snapshot(
            now=self.now,
            compute_environments=tuple(self.compute_environments),
            job_queues=tuple(self.job_queues),
            scheduling_policies=tuple(self.policies),
            runnable=tuple(self.runnable),
            admitted=tuple(unit for unit, _ in self.running.values()),
            share_usage=self.usage,
            config=SchedulerConfig(backfill_patience_seconds=self.patience),
        )
