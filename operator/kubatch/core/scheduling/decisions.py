"""What the scheduler answers: whom to start where, and why everyone else waits.

Every RUNNABLE unit of the snapshot appears exactly once: either in `admissions`
(in dispatch order) or in `waits` with a reason code and a message a person can act
on. Codes that can only clear if someone changes the configuration say so through
`Wait.cannot_ever_run`, so the controller can fail such jobs instead of keeping
them RUNNABLE forever.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

FRONT_OF_QUEUE_SIZE = 100
"""How many waiting units per queue `Decisions.front_of_queue` lists (AWS's GetJobQueueSnapshot lists 100)."""


class WaitReason(enum.Enum):
    """Why a RUNNABLE unit was not admitted. Values are the `statusReason`-style
    prefix of the message, AWS Batch's codes where AWS has one."""

    CAPACITY = "CAPACITY"
    """Every usable compute environment is full for this unit right now."""
    INSUFFICIENT_INSTANCE_CAPACITY = "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"
    """The cluster could not place pods of the CE for too long; it takes no new work."""
    HELD_FOR_WAITING_JOB = "CAPACITY:HELD_FOR_WAITING_JOB"
    """A unit that waited past its patience holds the compute environment."""
    FAIR_SHARE = "FAIRSHARE"
    """The unit's share uses more than its fair share while others wait."""
    FAIR_SHARE_COMPUTE_RESERVATION = "FAIRSHARE:COMPUTE_RESERVATION"
    """The free capacity is reserved for share identifiers with no running jobs."""
    COMPUTE_ENVIRONMENT_DISABLED = "COMPUTE_ENVIRONMENT_DISABLED"
    COMPUTE_ENVIRONMENT_INVALID = "COMPUTE_ENVIRONMENT_INVALID"
    COMPUTE_ENVIRONMENT_NOT_FOUND = "MISCONFIGURATION:COMPUTE_ENVIRONMENT_NOT_FOUND"
    SCHEDULING_POLICY_NOT_FOUND = "MISCONFIGURATION:SCHEDULING_POLICY_NOT_FOUND"
    COMPUTE_ENVIRONMENT_MAX_RESOURCE = "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE"
    """Larger than the quota (maxvCpus, memory or GPU limit) of every CE of its queue."""
    JOB_RESOURCE_REQUIREMENT = "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT"
    """Larger than what the platform gives one job (e.g. Fargate's 16 vCPU/120 GiB)."""
    JOB_QUEUE_NOT_FOUND = "MISCONFIGURATION:JOB_QUEUE_NOT_FOUND"
    SHARE_IDENTIFIER_MISSING = "MISCONFIGURATION:SHARE_IDENTIFIER"
    """A fair-share queue's job without a shareIdentifier."""

    @property
    def cannot_ever_run(self) -> bool:
        return self in _PERMANENT_REASONS


_PERMANENT_REASONS = frozenset(
    {
        WaitReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE,
        WaitReason.JOB_RESOURCE_REQUIREMENT,
        WaitReason.JOB_QUEUE_NOT_FOUND,
        WaitReason.SHARE_IDENTIFIER_MISSING,
    }
)


class Admission(NamedTuple):
    """A unit to start in `compute_environment` (construct with keywords).

    This and `Wait` are named tuples rather than frozen dataclasses because a cycle
    builds one per RUNNABLE unit, and a tuple is several times cheaper to build."""

    unit_id: str
    queue: str
    compute_environment: str


class Wait(NamedTuple):
    """Why a unit waits: `message` starts with `reason.value` (construct with keywords)."""

    unit_id: str
    queue: str
    reason: WaitReason
    message: str

    @property
    def cannot_ever_run(self) -> bool:
        return self.reason.cannot_ever_run


@dataclass(frozen=True, kw_only=True, slots=True)
class ComputeEnvironmentPlan:
    """A CE before and after the cycle. `held_for` names the unit that holds it
    (head-of-line reservation) when there is one."""

    name: str
    max_vcpus: float
    used_vcpus: float
    planned_vcpus: float
    used_memory_mib: int
    planned_memory_mib: int
    used_gpus: int
    planned_gpus: int
    admitted_units: int
    held_for: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Decisions:
    admissions: Sequence[Admission]
    waits: Mapping[str, Wait]
    compute_environments: Mapping[str, ComputeEnvironmentPlan]
    front_of_queue: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Per queue, the ids of the first units still waiting after this cycle, in the order the
    cycle considered them: the order they will be dispatched in as room appears."""
