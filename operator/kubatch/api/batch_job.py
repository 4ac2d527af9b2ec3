"""BatchJob: one submitted job (SubmitJob), and its status shaped like a DescribeJobs entry.

What was submitted never changes: the spec fields that define the job are immutable
(CEL transition rules), and the operator freezes the resolved definition into
`status.resolvedDefinition` at submission, so editing a definition never changes a
submitted job. Cancel and terminate are requests written into the spec once
(`cancelRequest`, `terminateRequest`); the operator acts on them.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from kubatch.api.base import AGE, CrdNames, KubeModel, PrinterColumn, Resource, Rule, StatusModel
from kubatch.api.common import DNS_SUBDOMAIN_MAX, Condition, EpochMillis, JobStatus, ObjectName, StatusSummary
from kubatch.api.container import ContainerOverrides
from kubatch.api.eks import EksPropertiesOverride
from kubatch.api.job_definition import Parameters, PropagateTags, SchedulingPriority, Tags
from kubatch.api.multinode import NodeOverrides
from kubatch.api.retry import JobTimeout, RetryStrategy
from kubatch.kinds import BATCH_JOB

MAX_DEPENDS_ON = 20
NAME_AND_NUMBER_MAX = DNS_SUBDOMAIN_MAX + 11  # `name:N`: a ':' and up to 10 digits
ARRAY_SIZE_MIN, ARRAY_SIZE_MAX = 2, 10000

IMMUTABLE_REQUIRED = ("jobDefinition", "jobQueue")
IMMUTABLE_OPTIONAL = (
    "arrayProperties",
    "dependsOn",
    "containerOverrides",
    "nodeOverrides",
    "eksPropertiesOverride",
    "parameters",
    "retryStrategy",
    "timeout",
    "shareIdentifier",
    "schedulingPriorityOverride",
)
REQUESTS = ("cancelRequest", "terminateRequest")


def _immutable(field: str, *, required: bool) -> Rule:
    same = f"self.{field} == oldSelf.{field}"
    if not required:
        same = f"has(self.{field}) == has(oldSelf.{field}) && (!has(self.{field}) || {same})"
    return Rule(same, f"spec.{field} is immutable", field_path=f".{field}", reason="FieldValueInvalid")


def _set_once(field: str) -> Rule:
    return Rule(
        f"!has(oldSelf.{field}) || (has(self.{field}) && self.{field} == oldSelf.{field})",
        f"spec.{field} cannot be changed or removed once set",
        field_path=f".{field}",
        reason="FieldValueInvalid",
    )


class ArrayProperties(KubeModel):
    """Makes the job an array job of `size` children."""

    size: int = Field(
        ge=ARRAY_SIZE_MIN,
        le=ARRAY_SIZE_MAX,
        description="Number of child jobs, 2 to 10000; each gets AWS_BATCH_JOB_ARRAY_INDEX 0 to size-1.",
    )


class JobDependency(KubeModel):
    """A job this job waits for."""

    jobId: str | None = Field(
        default=None,
        max_length=NAME_AND_NUMBER_MAX,
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,10})?$",
        description="Name or uid of a BatchJob in the same namespace, or `<name or uid>:<index>` for one array child.",
    )
    type: Literal["N_TO_N", "SEQUENTIAL"] | None = Field(
        default=None,
        description=(
            "For array jobs. N_TO_N: child i waits for child i of the dependency. SEQUENTIAL (without jobId): "
            "the children run one after another, from index 0."
        ),
    )


class StopRequest(KubeModel):
    """A request to stop the job, written once by `kubatch cancel-job` or `terminate-job`."""

    reason: str = Field(
        min_length=1,
        max_length=1024,
        description="Why the job is stopped; it becomes the job's statusMessage.",
    )


class BatchJobSpec(KubeModel):
    """What to run (definition plus overrides), on which queue, after which jobs."""

    rules = (
        Rule(
            "!has(self.dependsOn) || self.dependsOn.all(d, has(d.jobId) || (has(d.type) && d.type == 'SEQUENTIAL'))",
            "spec.dependsOn[].jobId is required unless type is SEQUENTIAL",
            lambda s: all(d.jobId is not None or d.type == "SEQUENTIAL" for d in s.dependsOn or []),
            field_path=".dependsOn",
            reason="FieldValueRequired",
        ),
        Rule(
            "!has(self.dependsOn) || has(self.arrayProperties) || self.dependsOn.all(d, !has(d.type))",
            "spec.dependsOn[].type (N_TO_N, SEQUENTIAL) requires spec.arrayProperties",
            lambda s: s.arrayProperties is not None or all(d.type is None for d in s.dependsOn or []),
            field_path=".dependsOn",
            reason="FieldValueInvalid",
        ),
        *(_immutable(field, required=True) for field in IMMUTABLE_REQUIRED),
        *(_immutable(field, required=False) for field in IMMUTABLE_OPTIONAL),
        *(_set_once(field) for field in REQUESTS),
    )

    jobDefinition: str = Field(
        min_length=1,
        max_length=NAME_AND_NUMBER_MAX,
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[1-9][0-9]{0,9})?$",
        description="JobDefinition in the job's namespace: `name` (latest revision) or `name:revision`.",
    )
    jobQueue: ObjectName = Field(description="Name of the JobQueue the job is submitted to.")
    parameters: Parameters | None = None
    arrayProperties: ArrayProperties | None = Field(default=None, description="Makes the job an array job.")
    dependsOn: list[JobDependency] | None = Field(
        default=None,
        max_length=MAX_DEPENDS_ON,
        description=(
            "Up to 20 jobs that must succeed before this one runs; if one fails, this job fails with DependencyFailed."
        ),
    )
    containerOverrides: ContainerOverrides | None = Field(
        default=None, description="Changes to the definition's containerProperties for this job."
    )
    nodeOverrides: NodeOverrides | None = Field(
        default=None, description="Changes to the definition's nodeProperties for this job."
    )
    eksPropertiesOverride: EksPropertiesOverride | None = Field(
        default=None, description="Changes to the definition's eksProperties for this job."
    )
    retryStrategy: RetryStrategy | None = Field(default=None, description="Replaces the definition's retryStrategy.")
    timeout: JobTimeout | None = Field(default=None, description="Replaces the definition's timeout.")
    shareIdentifier: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        pattern=r"^[A-Za-z0-9_]+$",
        description="Fair-share identifier the job's usage is counted under (queues with a SchedulingPolicy).",
    )
    schedulingPriorityOverride: SchedulingPriority | None = None
    propagateTags: PropagateTags | None = None
    tags: Tags | None = None
    cancelRequest: StopRequest | None = Field(
        default=None,
        description=(
            "Set by cancel-job: a job not yet STARTING fails with statusReason Cancelled; STARTING and RUNNING jobs "
            "go on."
        ),
    )
    terminateRequest: StopRequest | None = Field(
        default=None,
        description="Set by terminate-job: the job fails with statusReason Terminated, its pods are stopped.",
    )


class ContainerDetail(KubeModel):
    """The container of one attempt."""

    exitCode: int | None = Field(default=None, description="Exit code of the container.")
    reason: str | None = Field(
        default=None, description="Why the container stopped, as AWS writes it, e.g. "
        "'OutOfMemoryError: Container killed due to memory usage'; none for a plain non-zero exit."
    )
    podName: str | None = Field(default=None, description="The pod that ran the attempt.")
    nodeName: str | None = Field(default=None, description="The node the pod ran on.")


class AttemptDetail(KubeModel):
    """One attempt of the job."""

    container: ContainerDetail | None = Field(default=None, description="The attempt's container.")
    startedAt: EpochMillis | None = Field(
        default=None, description="When the attempt started RUNNING (epoch milliseconds)."
    )
    stoppedAt: EpochMillis | None = Field(default=None, description="When the attempt stopped (epoch milliseconds).")
    statusReason: str | None = Field(default=None, description="Why the attempt ended, e.g. TaskFailed.")


class NodeRecord(KubeModel):
    """How one node of a multi-node job ran, kept after its pods are gone."""

    nodeIndex: int = Field(ge=0, description="The node's index (AWS_BATCH_JOB_NODE_INDEX).")
    status: JobStatus | None = Field(
        default=None, description="The node's status when the job's last attempt ended.")
    attempts: list[AttemptDetail] | None = Field(default=None, description="The node's attempts, oldest first.")


class ArrayPropertiesDetail(KubeModel):
    """Size and progress of an array job."""

    size: int | None = Field(default=None, description="Number of child jobs.")
    statusSummary: StatusSummary | None = Field(default=None, description="Number of children in each state.")
    succeeded: str | None = Field(default=None, description="Indexes of children that SUCCEEDED, as ranges like 0-99,120.")
    failed: str | None = Field(default=None, description="Indexes of children that FAILED, as ranges like 3,7-9.")
    exitCodes: dict[str, str] | None = Field(
        default=None, description="Ended children by their last exit code: exit code -> index ranges.")
    attempts: dict[str, str] | None = Field(
        default=None, description="Ended children by their number of attempts: count -> index ranges.")
    reasons: dict[str, str] | None = Field(
        default=None, description="Failed children by statusReason: reason -> index ranges.")
    children: dict[str, dict[str, Any]] | None = Field(
        default=None,
        description="Children that are STARTING, RUNNING or waiting to retry, by index: status, attemptCount, "
        "computeEnvironment and their attempts so far. A child leaves this map when it ends.",
    )


class BatchJobStatus(StatusModel):
    """Where the job is in its life cycle, shaped like an AWS DescribeJobs entry."""

    jobId: str | None = Field(default=None, description="The job's id: its metadata.uid.")
    status: JobStatus | None = Field(
        default=None, description="SUBMITTED, PENDING, RUNNABLE, STARTING, RUNNING, SUCCEEDED or FAILED."
    )
    statusReason: str | None = Field(
        default=None, description="Short code of why the job is in its state, e.g. TaskFailed, JobTimeout."
    )
    statusMessage: str | None = Field(
        default=None, description="Human-readable explanation, e.g. which compute environment is full."
    )
    createdAt: EpochMillis | None = Field(default=None, description="When the job was submitted (epoch milliseconds).")
    startedAt: EpochMillis | None = Field(
        default=None, description="When the job first became RUNNING (epoch milliseconds)."
    )
    stoppedAt: EpochMillis | None = Field(
        default=None, description="When the job SUCCEEDED or FAILED (epoch milliseconds)."
    )
    jobQueue: str | None = Field(default=None, description="The queue the job was submitted to.")
    computeEnvironment: str | None = Field(
        default=None, description="The compute environment the current or last attempt runs on."
    )
    attempts: list[AttemptDetail] | None = Field(default=None, description="The finished attempts, oldest first.")
    attemptCount: int | None = Field(default=None, ge=0, description="Number of attempts started so far.")
    container: ContainerDetail | None = Field(default=None, description="The container of the current or last attempt.")
    arrayProperties: ArrayPropertiesDetail | None = Field(
        default=None, description="Size and children of an array job."
    )
    dependsOn: list[JobDependency] | None = Field(default=None, description="The jobs this job depends on.")
    nodes: list[NodeRecord] | None = Field(
        default=None,
        description="Multi-node jobs: each node's attempts, recorded when an attempt of the group ends (its pods "
        "are then deleted), so describe-jobs JOB#N still shows them.",
    )
    conditions: list[Condition] | None = Field(
        default=None,
        description="Kubernetes conditions of the job.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    observedGeneration: int | None = Field(default=None, description="The metadata.generation this status reflects.")
    resolvedDefinition: dict[str, Any] | None = Field(
        default=None,
        description="The definition as resolved at submission (name, revision, spec), frozen for the job's lifetime.",
    )


class BatchJob(Resource):
    """One submitted job: a definition run on a queue (AWS Batch job)."""

    crd: ClassVar[CrdNames] = CrdNames(
        kind=BATCH_JOB,
        columns=(
            PrinterColumn("Status", ".status.status"),
            PrinterColumn("Queue", ".spec.jobQueue"),
            PrinterColumn("CE", ".status.computeEnvironment", description="compute environment"),
            PrinterColumn("Attempts", ".status.attemptCount", "integer"),
            PrinterColumn("Reason", ".status.statusReason"),
            AGE,
        ),
        selectableFields=(".spec.jobQueue", ".status.status"),
    )

    kind: Literal["BatchJob"] = "BatchJob"
    spec: BatchJobSpec
    status: BatchJobStatus = Field(default_factory=BatchJobStatus)
