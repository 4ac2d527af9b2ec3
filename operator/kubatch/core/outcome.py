"""How an attempt's pod ended, in AWS Batch's words (DESIGN §2).

Kubernetes reports a pod's end in many places: the phase, a pod-level reason
(`DeadlineExceeded`, `Evicted`), a `DisruptionTarget` condition, each container's
terminated or waiting state, the deletion timestamp, and the node under the pod.
AWS Batch users expect one answer per attempt: a `statusReason` code, the container's
`reason`, an exit code and an AWS-style message that their `evaluateOnExit` rules can
match. `classify_pod` is that translation, as a pure function of the pod's JSON, the
node's facts and `now`, so every case is unit-testable without a cluster.

Principles:
- A pod phase of Succeeded or Failed is the kubelet's final word; node facts are only
  consulted while the pod is still Pending/Running (a node that vanished after its pods
  finished does not rewrite their history).
- The system killing a container (eviction, preemption, deletion, node loss) is a host
  failure, even though the container then exits non-zero. A container failure counts
  as the job's own only when it finished before the disruption began.
- Exit codes are reported only when the job's process decided them (a non-zero exit,
  an OOM kill, success); a container killed by a host failure or a timeout reports
  none, as on AWS.
- Host-failure messages start with `Host EC2 (node …)` so the AWS documentation's rule
  `{"onStatusReason": "Host EC2*", "action": "RETRY"}` works unchanged.
- Pods run with `restartPolicy: Never`; every main container is essential, and so is
  every init container except native sidecars (`restartPolicy: Always`).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kubatch.core.kubetime import epoch_millis, parse_time
from kubatch.core.nodefacts import NodeFacts
from kubatch.core.reasons import ContainerReason, StatusReason

Pod = Mapping[str, Any]

DEFAULT_IMAGE_PULL_GRACE_SECONDS = 120
"""How long a retryable image-pull error may last before the attempt fails."""

DEFAULT_NODE_NOT_READY_GRACE_SECONDS = 60
"""How long a node may stay NotReady before the attempts on it are given up."""

CONTAINER_EXITED_MESSAGE = "Essential container in task exited"
TIMEOUT_MESSAGE = "Job attempt duration exceeded timeout"
OOM_MESSAGE = "OutOfMemoryError: Container killed due to memory usage"

RETRYABLE_PULL_REASONS = frozenset({"ErrImagePull", "ImagePullBackOff"})
PERMANENT_PULL_REASONS = frozenset({"InvalidImageName", "ErrImageNeverPull"})

_CONTAINER_REASON = {
    StatusReason.TASK_FAILED: ContainerReason.NON_ZERO_EXIT_CODE,
    StatusReason.HOST_USAGE_ERROR: ContainerReason.HOST_USAGE_ERROR,
    StatusReason.JOB_TIMEOUT: ContainerReason.JOB_TIMEOUT,
    StatusReason.OUT_OF_MEMORY_ERROR: ContainerReason.OOM_KILLED,
    StatusReason.CANNOT_PULL_CONTAINER_ERROR: ContainerReason.CANNOT_PULL_CONTAINER_ERROR,
}
_REASON_IS_THE_MESSAGE = frozenset({ContainerReason.OOM_KILLED, ContainerReason.CANNOT_PULL_CONTAINER_ERROR})
_LATEST = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """The end of one attempt.

    `pod_active` is True when the pod may still be running (a decisive failure seen
    while other containers run, a lost node, a stuck image pull, an operator-side
    timeout): the caller must delete it before the job moves on.
    """

    succeeded: bool
    status_reason: StatusReason | None
    container_reason: ContainerReason | None
    exit_code: int | None
    status_message: str
    pod_active: bool = False

    @property
    def aws_container_reason(self) -> str | None:
        """`attempts[].container.reason` as AWS writes it (DESIGN §2): none for a plain exit
        (the exit code says it), `Code: detail` where AWS gives a detail (an OOM kill, a pull
        error), else the code. `container_reason` keeps kubatch's short code for old rules."""
        if self.container_reason in (None, ContainerReason.NON_ZERO_EXIT_CODE):
            return None
        if self.container_reason in _REASON_IS_THE_MESSAGE:
            return self.status_message
        return self.container_reason.value


@dataclass(frozen=True, kw_only=True)
class AttemptTimes:
    """`attempts[].startedAt` / `stoppedAt` in epoch milliseconds (None if unknown)."""

    started_at: int | None
    stopped_at: int | None


@dataclass(frozen=True, kw_only=True)
class _Exit:
    """A container that terminated with a non-zero exit code."""

    exit_code: int
    oom_killed: bool
    finished_at: datetime | None
    order: int


@dataclass(frozen=True, kw_only=True)
class _Disruption:
    """The system began stopping the pod at `since` (None: unknown, assume earliest)."""

    since: datetime | None
    detail: str


SUCCESS = Outcome(
    succeeded=True,
    status_reason=None,
    container_reason=None,
    exit_code=0,
    status_message=CONTAINER_EXITED_MESSAGE,
)


def classify_pod(
    *,
    pod: Pod | None,
    now: datetime,
    node: NodeFacts | None = None,
    image_pull_grace_seconds: float = DEFAULT_IMAGE_PULL_GRACE_SECONDS,
    node_not_ready_grace_seconds: float = DEFAULT_NODE_NOT_READY_GRACE_SECONDS,
    attempt_duration_seconds: int | None = None,
) -> Outcome | None:
    """The outcome of the attempt run by `pod`, or None while it is still under way.

    Call it only for an attempt whose pod was created: `pod=None` means the pod
    vanished before finishing (deleted by someone or garbage-collected with its node),
    which is a host failure. `node` describes the node the pod is bound to, if any.
    `attempt_duration_seconds` is the job's timeout, checked here from the attempt's
    start as a backstop to the pod's own `activeDeadlineSeconds`.
    """
    if pod is None:
        name = node.name if node else "unknown"
        return _failed(
            StatusReason.HOST_USAGE_ERROR,
            f"Host EC2 (node {name}) lost the pod: it was deleted before it finished.",
        )
    phase = _status(pod).get("phase")
    if phase == "Succeeded":
        return SUCCESS
    if phase == "Failed":
        return _classify_failed_pod(pod)
    return _classify_active_pod(
        pod,
        now=now,
        node=node,
        image_pull_grace=timedelta(seconds=image_pull_grace_seconds),
        node_not_ready_grace=timedelta(seconds=node_not_ready_grace_seconds),
        attempt_duration_seconds=attempt_duration_seconds,
    )


def attempt_times(*, pod: Pod | None) -> AttemptTimes:
    """When the attempt's main containers started and, once they are done, stopped.

    `started_at` is the earliest main container start; `stopped_at` the latest finish
    of any container, known only when the pod's phase is final or every main container
    has terminated. A caller that ends an attempt without one (pod vanished, node lost)
    records the time it observed the end.
    """
    if pod is None:
        return AttemptTimes(started_at=None, stopped_at=None)
    mains = _statuses(pod, "containerStatuses")
    starts = [
        parse_time(state.get("startedAt"))
        for status in mains
        for state in (_state(status, "running"), _state(status, "terminated"))
        if state
    ]
    finishes = [
        parse_time(_state(status, "terminated").get("finishedAt"))
        for status in [*_statuses(pod, "initContainerStatuses"), *mains]
        if _state(status, "terminated")
    ]
    done = _status(pod).get("phase") in ("Succeeded", "Failed") or (
        bool(mains) and all(_state(status, "terminated") for status in mains)
    )
    started = [t for t in starts if t]
    finished = [t for t in finishes if t]
    return AttemptTimes(
        started_at=epoch_millis(min(started)) if started else None,
        stopped_at=epoch_millis(max(finished)) if done and finished else None,
    )


def _classify_failed_pod(pod: Pod) -> Outcome:
    status = _status(pod)
    reason = status.get("reason")
    if reason == "DeadlineExceeded":
        return _failed(StatusReason.JOB_TIMEOUT, TIMEOUT_MESSAGE)
    node_name = _node_name(pod)
    if reason:
        detail = _join(reason, status.get("message"))
        return _host_failure(node_name, f"stopped the pod: {detail}", pod_active=False)
    failure = _first_failure(pod)
    disruption = _disruption(pod)
    if failure is not None and _precedes(failure, disruption):
        return _exit_outcome(failure, pod_active=False)
    detail = disruption.detail if disruption else "the pod failed, but no container did"
    return _host_failure(node_name, f"stopped the pod: {detail}", pod_active=False)


def _classify_active_pod(
    pod: Pod,
    *,
    now: datetime,
    node: NodeFacts | None,
    image_pull_grace: timedelta,
    node_not_ready_grace: timedelta,
    attempt_duration_seconds: int | None,
) -> Outcome | None:
    if node is not None and (lost := _node_loss(node, now, node_not_ready_grace)):
        return _host_failure(node.name, lost, pod_active=True)
    failure = _first_failure(pod)
    disruption = _disruption(pod)
    if failure is not None and _precedes(failure, disruption):
        if _every_main_container_stopped(pod):
            return None  # the kubelet is finishing the pod: its final phase comes next, logs intact
        return _exit_outcome(failure, pod_active=True)
    if disruption is not None:
        return None  # being stopped: the pod's final state or its absence decides
    if pull_error := _image_pull_error(pod, now, image_pull_grace):
        return _failed(StatusReason.CANNOT_PULL_CONTAINER_ERROR, pull_error, pod_active=True)
    if attempt_duration_seconds is not None and _timed_out(pod, now, attempt_duration_seconds):
        return _failed(StatusReason.JOB_TIMEOUT, TIMEOUT_MESSAGE, pod_active=True)
    return None


def _node_loss(node: NodeFacts, now: datetime, grace: timedelta) -> str | None:
    if not node.exists:
        return "terminated."
    if node.interruption_taint:
        return f"terminated: interruption notice ({node.interruption_taint})."
    if not node.ready and (node.not_ready_since is None or now - node.not_ready_since >= grace):
        since = node.not_ready_since.isoformat() if node.not_ready_since else "an unknown time"
        return f"is not ready (since {since})."
    return None


def _every_main_container_stopped(pod: Pod) -> bool:
    """Nothing can run again (restartPolicy Never), so the pod needs no deleting.

    A real kubelet reports a pod's final phase only after it has stopped everything in
    it, some time after the last container's exit; deleting the pod in that window
    would throw away the logs the user is about to read.
    """
    mains = _statuses(pod, "containerStatuses")
    return bool(mains) and all(_state(status, "terminated") for status in mains)


def _first_failure(pod: Pod) -> _Exit | None:
    """The essential container that failed first (by finish time, then spec order)."""
    sidecars = {
        c.get("name")
        for c in (pod.get("spec") or {}).get("initContainers") or ()
        if c.get("restartPolicy") == "Always"
    }
    essential = [
        s for s in _statuses(pod, "initContainerStatuses") if s.get("name") not in sidecars
    ] + _statuses(pod, "containerStatuses")
    exits = [
        _Exit(
            exit_code=terminated["exitCode"],
            oom_killed=terminated.get("reason") == "OOMKilled",
            finished_at=parse_time(terminated.get("finishedAt")),
            order=order,
        )
        for order, status in enumerate(essential)
        if (terminated := _state(status, "terminated")) and terminated.get("exitCode", 0) != 0
    ]
    return min(exits, key=lambda e: (e.finished_at or _LATEST, e.order), default=None)


def _disruption(pod: Pod) -> _Disruption | None:
    """The earliest sign that the system began stopping the pod, if any."""
    signs = [
        _Disruption(
            since=parse_time(c.get("lastTransitionTime")),
            detail=_join(c.get("reason") or "DisruptionTarget", c.get("message")),
        )
        for c in _status(pod).get("conditions") or ()
        if c.get("type") == "DisruptionTarget" and c.get("status") == "True"
    ]
    metadata = pod.get("metadata") or {}
    if deleting := parse_time(metadata.get("deletionTimestamp")):
        grace = timedelta(seconds=metadata.get("deletionGracePeriodSeconds") or 0)
        signs.append(_Disruption(since=deleting - grace, detail="the pod was deleted."))
    return min(signs, key=lambda d: d.since or datetime.min.replace(tzinfo=UTC), default=None)


def _precedes(failure: _Exit, disruption: _Disruption | None) -> bool:
    """Whether the container failed on its own, before any disruption began."""
    if disruption is None:
        return True
    return (
        failure.finished_at is not None
        and disruption.since is not None
        and failure.finished_at < disruption.since
    )


def _image_pull_error(pod: Pod, now: datetime, grace: timedelta) -> str | None:
    """A CannotPullContainerError message once a pull error is permanent or too old."""
    status = _status(pod)
    since = parse_time(status.get("startTime")) or parse_time(
        (pod.get("metadata") or {}).get("creationTimestamp")
    )
    overdue = since is not None and now - since >= grace
    for container in [
        *_statuses(pod, "initContainerStatuses"),
        *_statuses(pod, "containerStatuses"),
    ]:
        waiting = _state(container, "waiting")
        reason = waiting.get("reason")
        if reason in PERMANENT_PULL_REASONS or (reason in RETRYABLE_PULL_REASONS and overdue):
            return f"CannotPullContainerError: {waiting.get('message') or reason}"
    return None


def _timed_out(pod: Pod, now: datetime, attempt_duration_seconds: int) -> bool:
    started = attempt_times(pod=pod).started_at
    return started is not None and epoch_millis(now) - started >= attempt_duration_seconds * 1000


def _exit_outcome(failure: _Exit, *, pod_active: bool) -> Outcome:
    if failure.oom_killed:
        return _failed(
            StatusReason.OUT_OF_MEMORY_ERROR,
            OOM_MESSAGE,
            exit_code=failure.exit_code,
            pod_active=pod_active,
        )
    return _failed(
        StatusReason.TASK_FAILED,
        CONTAINER_EXITED_MESSAGE,
        exit_code=failure.exit_code,
        pod_active=pod_active,
    )


def _host_failure(node_name: str, detail: str, *, pod_active: bool) -> Outcome:
    return _failed(
        StatusReason.HOST_USAGE_ERROR,
        f"Host EC2 (node {node_name}) {detail}",
        pod_active=pod_active,
    )


def _failed(
    reason: StatusReason, message: str, *, exit_code: int | None = None, pod_active: bool = False
) -> Outcome:
    return Outcome(
        succeeded=False,
        status_reason=reason,
        container_reason=_CONTAINER_REASON[reason],
        exit_code=exit_code,
        status_message=message,
        pod_active=pod_active,
    )


def _join(reason: str, message: str | None) -> str:
    return f"{reason}: {message}" if message else reason


def _node_name(pod: Pod) -> str:
    return (pod.get("spec") or {}).get("nodeName") or "unknown"


def _status(pod: Pod) -> Mapping[str, Any]:
    return pod.get("status") or {}


def _statuses(pod: Pod, key: str) -> list[Mapping[str, Any]]:
    return list(_status(pod).get(key) or ())


def _state(container_status: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    return (container_status.get("state") or {}).get(name) or {}
