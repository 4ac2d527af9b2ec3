"""The seven states of AWS Batch's job life cycle, named once for every layer.

Why a module of its own at the bottom of the package: the CRD schema (`kubatch.api`),
the state machine (`kubatch.core.lifecycle`), the service's filters and the CLI's
choices all speak the same seven words, and each used to keep its own list. This
module imports nothing of kubatch, so every layer may read it; how a job moves between
the states is `kubatch.core.lifecycle`'s business, not this module's.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    """A job's ``status.status``, in life-cycle order (``list(JobState)`` keeps it)."""

    SUBMITTED = "SUBMITTED"
    PENDING = "PENDING"
    RUNNABLE = "RUNNABLE"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


JOB_STATES: tuple[str, ...] = tuple(state.value for state in JobState)
"""The states as plain strings, in life-cycle order: for choices, messages and schemas."""

TERMINAL_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED})
"""States a job never leaves."""

ACTIVE_STATES = frozenset({JobState.STARTING, JobState.RUNNING})
"""States with a pod: TerminateJob stops them, CancelJob does not."""

COUNTED_AS = {
    JobState.SUBMITTED: "Jobs submitted and not yet evaluated.",
    JobState.PENDING: "Jobs waiting for their dependencies.",
    JobState.RUNNABLE: "Jobs ready to run, waiting for capacity.",
    JobState.STARTING: "Jobs whose pod has been created and is starting.",
    JobState.RUNNING: "Jobs whose container is running.",
    JobState.SUCCEEDED: "Jobs that finished with exit code 0.",
    JobState.FAILED: "Jobs that failed after all their attempts.",
}
"""What a count of jobs in each state means (the descriptions of a status summary's fields)."""
