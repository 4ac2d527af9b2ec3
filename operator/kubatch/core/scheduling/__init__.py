"""The scheduling core: `schedule(snapshot) -> Decisions`, pure and deterministic.

The controller builds a `Snapshot` from its cache (queues, compute environments,
scheduling policies, RUNNABLE units, units holding capacity, fair-share usage and
the current time), calls `schedule`, and applies the `Decisions`. Nothing here does
I/O or reads a clock, so every rule is testable and benchmarkable on its own. See
docs/scheduling.md for the rules as an AWS Batch user sees them.
"""

from .cycle import schedule
from .decisions import Admission, ComputeEnvironmentPlan, Decisions, Wait, WaitReason
from .fairshare import (
    accrued_share_usage,
    advance_share_usage,
    decay_share_usage,
    usage_rate,
)
from .snapshot import (
    AdmittedUnit,
    ComputeEnvironment,
    ComputeEnvironmentState,
    ComputeResourceType,
    JobQueue,
    RunnableUnit,
    SchedulerConfig,
    SchedulingPolicy,
    ShareKey,
    ShareWeight,
    Snapshot,
)

__all__ = [
    "Admission",
    "AdmittedUnit",
    "ComputeEnvironment",
    "ComputeEnvironmentPlan",
    "ComputeEnvironmentState",
    "ComputeResourceType",
    "Decisions",
    "JobQueue",
    "RunnableUnit",
    "SchedulerConfig",
    "SchedulingPolicy",
    "ShareKey",
    "ShareWeight",
    "Snapshot",
    "Wait",
    "WaitReason",
    "accrued_share_usage",
    "advance_share_usage",
    "decay_share_usage",
    "schedule",
    "usage_rate",
]
