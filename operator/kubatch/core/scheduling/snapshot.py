"""What the scheduler sees: a frozen, plain-Python picture of one instant.

The controller maps its cache of API objects onto these records and hands them to
`schedule()`. Keeping them separate from `kubatch.api` means the scheduling core can
be tested, benchmarked and reasoned about without pydantic, Kubernetes or a clock:
the current time is the `now` field, never a call.

Quantities follow AWS Batch: vCPUs may be fractional (0.25 on Fargate), memory is in
MiB, GPUs are whole devices.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

DEFAULT_SHARE_WEIGHT = 1.0
"""AWS Batch's weight for a share identifier that the policy does not list."""

MINIMUM_SHARE_DECAY_SECONDS = 600.0
"""AWS Batch treats shareDecaySeconds 0 as its minimum window, 600 seconds."""


class ComputeEnvironmentState(enum.Enum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class ComputeResourceType(enum.Enum):
    EC2 = "EC2"
    SPOT = "SPOT"
    FARGATE = "FARGATE"
    FARGATE_SPOT = "FARGATE_SPOT"

    @property
    def is_fargate(self) -> bool:
        return self in (ComputeResourceType.FARGATE, ComputeResourceType.FARGATE_SPOT)


@dataclass(frozen=True, kw_only=True, slots=True)
class ComputeEnvironment:
    """A node pool with a quota. `valid` mirrors the CE's status VALID/INVALID.

    `max_memory_mib` and `max_gpus` are limits only when declared; an undeclared
    dimension is not counted against the CE.
    """

    name: str
    max_vcpus: float
    state: ComputeEnvironmentState = ComputeEnvironmentState.ENABLED
    valid: bool = True
    resource_type: ComputeResourceType = ComputeResourceType.EC2
    max_memory_mib: int | None = None
    max_gpus: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class JobQueue:
    """A queue: `compute_environments` is already in ascending `order`.

    The queue's ENABLED/DISABLED state is deliberately absent: a DISABLED queue
    accepts no new jobs (enforced at submission), but the jobs already in it are
    scheduled as usual, so the state changes nothing here.
    """

    name: str
    priority: int
    compute_environments: Sequence[str]
    scheduling_policy: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ShareWeight:
    """One shareDistribution entry; an identifier ending in `*` is a prefix."""

    share_identifier: str
    weight_factor: float = DEFAULT_SHARE_WEIGHT

    def __post_init__(self) -> None:
        if not self.weight_factor > 0:
            raise ValueError(f"weightFactor of {self.share_identifier!r} must be > 0")


@dataclass(frozen=True, kw_only=True, slots=True)
class SchedulingPolicy:
    """A fair-share policy (AWS CreateSchedulingPolicy's fairsharePolicy)."""

    name: str
    share_decay_seconds: float = 0.0
    compute_reservation: int = 0
    share_distribution: Sequence[ShareWeight] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.compute_reservation <= 99:
            raise ValueError(f"computeReservation of policy {self.name!r} must be 0-99")
        if self.share_decay_seconds < 0:
            raise ValueError(f"shareDecaySeconds of policy {self.name!r} must be >= 0")

    @property
    def effective_decay_seconds(self) -> float:
        return max(self.share_decay_seconds, MINIMUM_SHARE_DECAY_SECONDS)


@dataclass(frozen=True, kw_only=True, slots=True)
class RunnableUnit:
    """Something that must be admitted at once: a job, one array child, or a whole
    multi-node job (its vCPUs, memory and GPUs are the totals of all its nodes).

    `created_at` and then `sequence` (monotonic, unique per submission) give FIFO
    order. `runnable_since` is when this attempt became RUNNABLE (a retried job
    keeps its `created_at`); it drives the head-of-line patience and defaults to
    `created_at`.
    """

    id: str
    queue: str
    vcpus: float
    created_at: float
    sequence: int
    memory_mib: int = 0
    gpus: int = 0
    share_identifier: str | None = None
    scheduling_priority: int = 0
    runnable_since: float | None = None

    @property
    def waiting_since(self) -> float:
        return self.created_at if self.runnable_since is None else self.runnable_since


@dataclass(frozen=True, kw_only=True, slots=True)
class AdmittedUnit:
    """A unit that holds capacity: STARTING or RUNNING, until its pods are gone.

    `unschedulable_since` is set while one of its pods waits for a node the cluster
    does not have; after `SchedulerConfig.unschedulable_grace_seconds` its CE takes
    no new work until the pod is placed.
    """

    id: str
    queue: str
    compute_environment: str
    vcpus: float
    started_at: float
    memory_mib: int = 0
    gpus: int = 0
    share_identifier: str | None = None
    unschedulable_since: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SchedulerConfig:
    """Knobs that are not part of any AWS resource.

    `backfill_patience_seconds`: how long a unit that does not fit lets smaller,
    later units pass it before it holds its first compute environment.
    `unschedulable_grace_seconds`: how long the scheduler keeps counting on a CE's
    quota while the cluster cannot place one of its pods.
    """

    backfill_patience_seconds: float = 600.0
    unschedulable_grace_seconds: float = 120.0


ShareKey = tuple[str, str]
"""(job queue name, share identifier): fair-share usage is kept per queue."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Snapshot:
    """Everything one scheduling cycle needs. `share_usage` maps (queue, share
    identifier) to decayed usage in vCPU-seconds × weightFactor, as produced by
    `advance_share_usage`."""

    now: float
    compute_environments: Sequence[ComputeEnvironment]
    job_queues: Sequence[JobQueue]
    scheduling_policies: Sequence[SchedulingPolicy] = ()
    runnable: Sequence[RunnableUnit] = ()
    admitted: Sequence[AdmittedUnit] = ()
    share_usage: Mapping[ShareKey, float] = field(default_factory=lambda: MappingProxyType({}))
    config: SchedulerConfig = SchedulerConfig()
