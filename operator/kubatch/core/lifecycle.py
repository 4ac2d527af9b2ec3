"""The job state machine of DESIGN §2, as one pure function.

`SUBMITTED → PENDING → RUNNABLE → STARTING → RUNNING → SUCCEEDED | FAILED`, with a
failed attempt that may be retried going back to RUNNABLE. Keeping every transition
in `transition(state=…, event=…)` means the controller never decides a state on its
own, a replayed or duplicated event is harmless (it is reported as unchanged), and the
AWS rules below are tested exhaustively without a cluster:

- CancelJob cancels jobs in SUBMITTED, PENDING or RUNNABLE (→ FAILED, `Cancelled`);
  it does nothing to STARTING or RUNNING jobs, which need TerminateJob.
- TerminateJob stops STARTING and RUNNING jobs (→ FAILED, `Terminated`, the pod is
  deleted) and cancels earlier ones (→ FAILED, `Cancelled`: they never ran).
- Cancelled and terminated jobs are never retried; SUCCEEDED and FAILED never change.
- A PENDING job is cancelled at once; AWS instead waits for its dependencies to finish
  before cancelling it, a delay that serves no purpose here.

Events always concern the job's current attempt: the caller drops events from pods of
older attempts (pod names are deterministic per attempt). Array parents, whose state
follows their children, are not driven by this machine.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubatch.core.outcome import Outcome
from kubatch.core.reasons import StatusReason
from kubatch.core.retry import RetryDecision, RetryStrategyError, decide_retry
from kubatch.states import ACTIVE_STATES, TERMINAL_STATES, JobState  # noqa: F401  (re-exported with the machine)

_BEFORE_RUNNABLE = frozenset({JobState.SUBMITTED, JobState.PENDING})


@dataclass(frozen=True, kw_only=True)
class DependenciesPending:
    """A submitted job has dependencies that have not all succeeded yet."""


@dataclass(frozen=True, kw_only=True)
class DependenciesMet:
    """Every dependency succeeded (or there were none): the job may be scheduled."""


@dataclass(frozen=True, kw_only=True)
class DependencyFailed:
    dependency: str


@dataclass(frozen=True, kw_only=True)
class Admitted:
    """The scheduler reserved room for the job on a compute environment."""

    compute_environment: str


@dataclass(frozen=True, kw_only=True)
class PodCreated:
    pod_name: str


@dataclass(frozen=True, kw_only=True)
class ContainerStarted:
    """The attempt's containers are running."""


@dataclass(frozen=True, kw_only=True)
class AttemptEnded:
    """The current attempt ended; `attempts_made` counts it (1 for the first)."""

    outcome: Outcome
    retry_strategy: Mapping[str, Any] | None
    attempts_made: int


@dataclass(frozen=True, kw_only=True)
class CancelRequested:
    reason: str


@dataclass(frozen=True, kw_only=True)
class TerminateRequested:
    reason: str


@dataclass(frozen=True, kw_only=True)
class RunnableTimeLimitExceeded:
    """A queue's `jobStateTimeLimitActions` entry fired for this RUNNABLE job."""

    reason: str
    max_time_seconds: int


@dataclass(frozen=True, kw_only=True)
class Invalidated:
    """The job's definition, queue or compute environment is missing or invalid."""

    message: str


Event = (
    DependenciesPending
    | DependenciesMet
    | DependencyFailed
    | Admitted
    | PodCreated
    | ContainerStarted
    | AttemptEnded
    | CancelRequested
    | TerminateRequested
    | RunnableTimeLimitExceeded
    | Invalidated
)


@dataclass(frozen=True, kw_only=True)
class Transition:
    """The result of one event.

    When `changed` is False the caller writes nothing (`note` says why the event had
    no effect). Otherwise it writes `state`, `status_reason` and `status_message`
    (None clears them), deletes the attempt's pod if `delete_pod`, and, when the job
    went back to RUNNABLE, schedules the next attempt (`retry`).
    """

    state: JobState
    changed: bool
    status_reason: StatusReason | None = None
    status_message: str | None = None
    delete_pod: bool = False
    decision: RetryDecision | None = None
    note: str = ""

    @property
    def retry(self) -> bool:
        return self.decision is not None and self.decision.retry


def transition(*, state: JobState | str, event: Event) -> Transition:
    """The job's next state after `event`, given its current `state`."""
    state = JobState(state)
    if state in TERMINAL_STATES:
        return _unchanged(state, f"a {state} job never changes")
    match event:
        case CancelRequested(reason=reason):
            if state in ACTIVE_STATES:
                return _unchanged(state, f"CancelJob does not stop a {state} job; use TerminateJob")
            return _failed(StatusReason.CANCELLED, reason or "Cancelled by CancelJob")
        case TerminateRequested(reason=reason):
            if state in ACTIVE_STATES:
                message = reason or "Terminated by TerminateJob"
                return _failed(StatusReason.TERMINATED, message, delete_pod=True)
            return _failed(StatusReason.CANCELLED, reason or "Cancelled by TerminateJob")
        case Invalidated(message=message):
            return _failed(StatusReason.INVALID_JOB, message, delete_pod=state in ACTIVE_STATES)
        case DependenciesPending() if state is JobState.SUBMITTED:
            return _moved(JobState.PENDING, "Waiting for dependencies to succeed")
        case DependenciesMet() if state in _BEFORE_RUNNABLE:
            return _moved(JobState.RUNNABLE, "Waiting to be placed on a compute environment")
        case DependencyFailed(dependency=dependency) if state in _BEFORE_RUNNABLE:
            return _failed(StatusReason.DEPENDENCY_FAILED, f"Dependent Job failed: {dependency}")
        case RunnableTimeLimitExceeded(reason=reason) if (
            state is JobState.RUNNABLE
        ):
            message = f"Canceled by JobStateTimeLimit action due to reason: {reason}"  # AWS's words
            return _failed(StatusReason.JOB_STATE_TIME_LIMIT, message)
        case Admitted(compute_environment=ce) if state is JobState.RUNNABLE:
            return _moved(JobState.STARTING, f"Starting on compute environment {ce}")
        case PodCreated(pod_name=pod_name) if state is JobState.RUNNABLE:
            return _moved(JobState.STARTING, f"Pod {pod_name} created")
        case ContainerStarted() if state in (JobState.RUNNABLE, JobState.STARTING):
            return _moved(JobState.RUNNING, None)
        case AttemptEnded() if state in ACTIVE_STATES:
            return _attempt_ended(event)
    return _unchanged(state, f"{type(event).__name__} has no effect on a {state} job")


def _attempt_ended(event: AttemptEnded) -> Transition:
    outcome = event.outcome
    if outcome.succeeded:
        return Transition(
            state=JobState.SUCCEEDED,
            changed=True,
            status_message=outcome.status_message,
            delete_pod=outcome.pod_active,
        )
    try:
        decision = decide_retry(
            retry_strategy=event.retry_strategy,
            attempts_made=event.attempts_made,
            outcome=outcome,
        )
    except RetryStrategyError as error:
        return _failed(StatusReason.INVALID_JOB, str(error), delete_pod=outcome.pod_active)
    if decision.retry:
        return Transition(
            state=JobState.RUNNABLE,
            changed=True,
            status_reason=outcome.status_reason,
            status_message=f"Waiting to retry: {decision.explanation}. {outcome.status_message}",
            delete_pod=outcome.pod_active,
            decision=decision,
            note=decision.explanation,
        )
    return Transition(
        state=JobState.FAILED,
        changed=True,
        status_reason=outcome.status_reason,
        status_message=outcome.status_message,
        delete_pod=outcome.pod_active,
        decision=decision,
        note=decision.explanation,
    )


def _moved(state: JobState, message: str | None) -> Transition:
    return Transition(state=state, changed=True, status_message=message)


def _failed(reason: StatusReason, message: str, *, delete_pod: bool = False) -> Transition:
    return Transition(
        state=JobState.FAILED,
        changed=True,
        status_reason=reason,
        status_message=message,
        delete_pod=delete_pod,
    )


def _unchanged(state: JobState, note: str) -> Transition:
    return Transition(state=state, changed=False, note=note)
