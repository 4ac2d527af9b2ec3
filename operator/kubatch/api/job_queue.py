"""JobQueue: where jobs wait, with a priority and up to three compute environments (CreateJobQueue).

Names stand in for ARNs: `computeEnvironment` and `schedulingPolicy` name the
cluster-scoped objects. `namespaceSelector` is the Kubernetes extension that says
which namespaces may submit to the queue.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from kubatch.api.base import AGE, CrdNames, KubeModel, PrinterColumn, Resource, Rule, StatusModel
from kubatch.api.common import LabelSelector, ObjectName, ResourceStatus, State, StatusSummary
from kubatch.kinds import JOB_QUEUE


def _distinct(values: list[object]) -> bool:
    return len(set(values)) == len(values)


class ComputeEnvironmentOrder(KubeModel):
    """One compute environment of the queue and its place in the order."""

    order: int = Field(
        ge=0, description="Position of the environment; a job goes to the lowest-order environment with room."
    )
    computeEnvironment: ObjectName = Field(description="Name of the ComputeEnvironment.")


class JobStateTimeLimitAction(KubeModel):
    """What to do with a job that has blocked the head of the queue for too long."""

    reason: str = Field(
        min_length=1,
        max_length=512,
        description=(
            "The blocking reason this action applies to, e.g. MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT or "
            "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY; also logged as the reason of the action."
        ),
    )
    state: Literal["RUNNABLE"] = Field(description="The job state the limit applies to: RUNNABLE.")
    maxTimeSeconds: int = Field(
        ge=600, le=86400, description="Seconds (600 to 86400) a job may wait in that state for that reason."
    )
    action: Literal["CANCEL"] = Field(description="CANCEL: the job fails with statusReason JobStateTimeLimit.")


FIFO_OR_FAIR_SHARE_FOR_LIFE = (
    "schedulingPolicy can be replaced, but not added to a first-in-first-out queue or removed from a fair-share "
    "queue (as AWS Batch); create a new queue instead"
)


class JobQueueSpec(KubeModel):
    """Priority, state and compute environments of a queue."""

    rules = (
        Rule(
            "self.computeEnvironmentOrder.all(a, self.computeEnvironmentOrder.exists_one(b, b.order == a.order))",
            "computeEnvironmentOrder[].order values must be distinct",
            lambda s: _distinct([e.order for e in s.computeEnvironmentOrder]),
            field_path=".computeEnvironmentOrder",
            reason="FieldValueInvalid",
        ),
        Rule(
            "self.computeEnvironmentOrder.all(a, self.computeEnvironmentOrder.exists_one(b,"
            " b.computeEnvironment == a.computeEnvironment))",
            "computeEnvironmentOrder[].computeEnvironment must not name an environment twice",
            lambda s: _distinct([e.computeEnvironment for e in s.computeEnvironmentOrder]),
            field_path=".computeEnvironmentOrder",
            reason="FieldValueInvalid",
        ),
        Rule("has(self.schedulingPolicy) == has(oldSelf.schedulingPolicy)", FIFO_OR_FAIR_SHARE_FOR_LIFE,
             field_path=".schedulingPolicy", reason="FieldValueForbidden"),
    )

    priority: int = Field(
        ge=0,
        le=1000,
        description="0 to 1000; when queues share a compute environment, the higher priority queue is served first.",
    )
    state: State = Field(
        default="ENABLED",
        description=(
            "ENABLED: accepts and schedules jobs. DISABLED: accepts no new jobs; queued and running ones finish."
        ),
    )
    computeEnvironmentOrder: list[ComputeEnvironmentOrder] = Field(
        min_length=1,
        max_length=3,
        description="1 to 3 compute environments, tried in ascending order: a job goes to the first with room.",
    )
    schedulingPolicy: ObjectName | None = Field(
        default=None,
        description=(
            "Name of the SchedulingPolicy (fair share) of the queue; absent means first in, first out. Set at "
            "creation: it can be replaced later but neither added to a FIFO queue nor removed."
        ),
    )
    jobStateTimeLimitActions: list[JobStateTimeLimitAction] | None = Field(
        default=None,
        max_length=5,
        description="Cancel jobs that stay RUNNABLE too long for a given reason.",
    )
    namespaceSelector: LabelSelector | None = Field(
        default=None,
        description=(
            "Kubernetes extension: namespaces whose labels match may submit jobs to the queue; absent means all."
        ),
    )
    finishedJobRetentionSeconds: int | None = Field(
        default=None,
        ge=0,
        le=10 * 365 * 86400,
        description=(
            "Kubernetes extension: seconds a finished job of this queue stays in the cluster before it is archived "
            "and deleted; 0 keeps it for ever; absent means the operator's --finished-job-retention."
        ),
    )


class FrontOfQueueJob(KubeModel):
    """A job (or array child) waiting at the front of the queue."""

    jobId: str = Field(description="The job's id (an array child's is <parent id>:<index>).")
    earliestTimeAtPosition: int = Field(description="When it reached this position (epoch milliseconds).")


class FrontOfQueue(KubeModel):
    """The first waiting jobs in the order the scheduler will dispatch them (GetJobQueueSnapshot)."""

    jobs: list[FrontOfQueueJob] = Field(default_factory=list, max_length=100, description="At most 100, first first.")
    lastUpdatedAt: int | None = Field(default=None, description="When this list last changed (epoch milliseconds).")


class CapacityUsage(KubeModel):
    """An amount of capacity in use."""

    capacityUnit: str = Field(description="The unit: VCPU.")
    quantity: float = Field(description="How much.")


class ShareUtilization(KubeModel):
    """Capacity in use by one fair-share identifier."""

    shareIdentifier: str = Field(description="The share identifier.")
    capacityUsage: list[CapacityUsage] = Field(default_factory=list, description="Its usage.")


class FairshareUtilization(KubeModel):
    """Capacity in use per fair-share identifier, busiest first."""

    activeShareCount: int = Field(description="Share identifiers with jobs holding capacity.")
    topCapacityUtilization: list[ShareUtilization] = Field(
        default_factory=list, max_length=20, description="The busiest share identifiers (at most 20).")


class QueueUtilization(KubeModel):
    """Capacity held by the queue's STARTING and RUNNING jobs (GetJobQueueSnapshot)."""

    totalCapacityUsage: list[CapacityUsage] = Field(default_factory=list, description="In total.")
    fairshareUtilization: FairshareUtilization | None = Field(
        default=None, description="Per share identifier, when the queue has a scheduling policy.")
    lastUpdatedAt: int | None = Field(default=None, description="When this last changed (epoch milliseconds).")


class JobQueueStatus(StatusModel):
    """Health of the queue, how many of its jobs are in each state, its front and its utilization."""

    status: ResourceStatus | None = Field(
        default=None, description="VALID when the queue can schedule jobs, INVALID when not (see statusReason)."
    )
    statusReason: str | None = Field(default=None, description="Why the queue has its status.")
    jobCounts: StatusSummary | None = Field(default=None, description="Number of the queue's jobs in each state.")
    frontOfQueue: FrontOfQueue | None = Field(default=None, description="The first waiting jobs, in dispatch order.")
    queueUtilization: QueueUtilization | None = Field(default=None, description="Capacity the queue's jobs hold.")
    shareUsage: dict[str, float] | None = Field(
        default=None, description="Fair-share queues: decayed usage per share identifier (vCPU-seconds × weightFactor) "
        "as of shareUsageAt; the scheduler advances it every cycle and rewrites it at most every 15 s.")
    shareUsageAt: int | None = Field(default=None, description="When shareUsage was recorded (epoch milliseconds).")
    observedGeneration: int | None = Field(default=None, description="The metadata.generation this status reflects.")


class JobQueue(Resource):
    """A queue jobs are submitted to, served by priority onto up to three compute environments (AWS Batch job queue)."""

    crd: ClassVar[CrdNames] = CrdNames(
        kind=JOB_QUEUE,
        columns=(
            PrinterColumn("Priority", ".spec.priority", "integer"),
            PrinterColumn("State", ".spec.state"),
            PrinterColumn("Status", ".status.status"),
            AGE,
        ),
    )

    kind: Literal["JobQueue"] = "JobQueue"
    spec: JobQueueSpec
    status: JobQueueStatus = Field(default_factory=JobQueueStatus)
