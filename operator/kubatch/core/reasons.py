"""The reason codes of DESIGN §2, in one place.

AWS Batch users match these strings in `retryStrategy.evaluateOnExit` rules and in
scripts that read `describe-jobs`, so they are part of the public contract: the
classifier (`outcome`), the retry rules (`retry`) and the state machine
(`lifecycle`) all name them through these enums instead of repeating literals.
`StrEnum` members compare equal to their plain string values, so a status read back
from the API server (a plain `str`) compares correctly with them.
"""

from enum import StrEnum


class StatusReason(StrEnum):
    """`status.statusReason` of a job, and `attempts[].statusReason` of an attempt."""

    TASK_FAILED = "TaskFailed"
    HOST_USAGE_ERROR = "HostUsageError"
    JOB_TIMEOUT = "JobTimeout"
    OUT_OF_MEMORY_ERROR = "OutOfMemoryError"
    CANNOT_PULL_CONTAINER_ERROR = "CannotPullContainerError"
    DEPENDENCY_FAILED = "DependencyFailed"
    CANCELLED = "Cancelled"
    TERMINATED = "Terminated"
    JOB_STATE_TIME_LIMIT = "JobStateTimeLimit"
    INVALID_JOB = "InvalidJob"


class ContainerReason(StrEnum):
    """`attempts[].container.reason`: what happened to the attempt's container."""

    NON_ZERO_EXIT_CODE = "NonZeroExitCode"
    HOST_USAGE_ERROR = "HostUsageError"
    JOB_TIMEOUT = "JobTimeout"
    OOM_KILLED = "OOMKilled"
    CANNOT_PULL_CONTAINER_ERROR = "CannotPullContainerError"
