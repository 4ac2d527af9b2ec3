"""A STARTING or RUNNING job: watch its attempt's pod and record how the attempt ends.

Why level-based: the planner looks at the pod as it is now (not at the event that
changed it), so a missed or repeated watch event, or an operator restart, leads to
the same decision. Only the current attempt's pod counts; its name is deterministic,
so pods of earlier attempts are never mistaken for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kubatch.core.actions import DeletePod, PatchStatus, Step
from kubatch.core.lifecycle import (
    ACTIVE_STATES,
    AttemptEnded,
    ContainerStarted,
    JobState,
    TerminateRequested,
    Transition,
    transition,
)
from kubatch.core.nodefacts import NodeFacts
from kubatch.core.outcome import Outcome, attempt_times, classify_pod
from kubatch.core.pods import pod_name
from kubatch.core.reconcile.jobstatus import job_patch, transition_event, transition_fields
from kubatch.core.reconcile.settings import PodRetention, Settings
from kubatch.core.reconcile.world import Obj, World, meta, spec, status


TERMINATE_GRACE_SECONDS = 30  # as AWS gives a container between SIGTERM and SIGKILL


def current_pod_name(job: Obj) -> str:
    return pod_name(job_name=meta(job)["name"], attempt=int(status(job).get("attemptCount") or 1))


def current_pod(job: Obj, world: World) -> Obj | None:
    return world.pods_by_job.get(meta(job)["uid"], {}).get(current_pod_name(job))


def plan_active_job(job: Obj, world: World, *, now_ms: int, settings: Settings) -> tuple[Step | None, bool]:
    """The step for a STARTING/RUNNING job, and whether it still holds its CE's capacity."""
    step = _active_job_step(job, world, now_ms=now_ms, settings=settings)
    return step, not ends_attempt(step)


def ends_attempt(step: Step | None) -> bool:
    """Whether a step moves its job out of STARTING/RUNNING (its capacity is free from now on)."""
    return step is not None and any(
        isinstance(action, PatchStatus) and action.patch.get("status") not in (None, *ACTIVE_STATES)
        for action in step.actions)


@dataclass(frozen=True)
class Observation:
    """What the current attempt's pod says: nothing new, started, still pending (why), or ended."""

    started_at: int | None = None
    pending_message: str | None = None
    ended: Transition | None = None
    record: dict[str, Any] | None = None  # the finished attempt, as in status.attempts[]
    delete_pod: bool = False


NOTHING_NEW = Observation()


def observe_attempt(*, pod: Obj | None, pod_name_if_gone: str, state: JobState, resolved: dict[str, Any],
                    attempts_made: int, started_at: int | None, world: World, now_ms: int,
                    settings: Settings) -> Observation:
    """Classify the attempt's pod (shared by single jobs and array children)."""
    node_name = (pod or {}).get("spec", {}).get("nodeName")
    node = NodeFacts.from_node(name=node_name, node=world.nodes.get(node_name)) if node_name else None
    outcome = classify_pod(
        pod=pod, now=datetime.fromtimestamp(now_ms / 1000, tz=timezone.utc), node=node,
        image_pull_grace_seconds=settings.image_pull_grace_seconds,
        attempt_duration_seconds=(resolved.get("timeout") or {}).get("attemptDurationSeconds"),
    )
    if outcome is None:
        times = attempt_times(pod=pod)
        if state is JobState.STARTING and times.started_at is not None:
            return Observation(started_at=times.started_at)
        if state is JobState.STARTING and pod is not None:
            return Observation(pending_message=_pending_message(pod))
        return NOTHING_NEW
    ended = transition(state=state, event=AttemptEnded(
        outcome=outcome, retry_strategy=resolved.get("retryStrategy"), attempts_made=attempts_made))
    record = attempt_record(pod, pod_name_if_gone=pod_name_if_gone, outcome=outcome,
                            reason=outcome.status_message, started_at=started_at, now_ms=now_ms)
    retire = ended.delete_pod or _retire(settings, retried=ended.state is JobState.RUNNABLE)
    return Observation(ended=ended, record=record, delete_pod=pod is not None and retire)


def _active_job_step(job: Obj, world: World, *, now_ms: int, settings: Settings) -> Step | None:
    state = JobState(status(job)["status"])
    pod = current_pod(job, world)
    namespace = meta(job)["namespace"]
    if spec(job).get("terminateRequest"):
        ended = transition(state=state, event=TerminateRequested(reason=spec(job)["terminateRequest"].get("reason")))
        record = attempt_record(pod, pod_name_if_gone=current_pod_name(job), outcome=None,
                                reason=ended.status_message, started_at=status(job).get("startedAt"), now_ms=now_ms)
        fields = transition_fields(ended, now_ms=now_ms) | _with_attempt(job, record)
        actions = [job_patch(job, fields), transition_event(job, ended)]
        if pod is not None:
            actions.insert(0, DeletePod(namespace, meta(pod)["name"], grace_seconds=TERMINATE_GRACE_SECONDS))
        return Step(tuple(actions))

    seen = observe_attempt(pod=pod, pod_name_if_gone=current_pod_name(job), state=state,
                           resolved=status(job).get("resolvedDefinition") or {},
                           attempts_made=int(status(job).get("attemptCount") or 1),
                           started_at=status(job).get("startedAt"), world=world, now_ms=now_ms, settings=settings)
    if seen.started_at is not None:
        started = transition(state=state, event=ContainerStarted())
        fields = transition_fields(started, now_ms=seen.started_at)
        fields["startedAt"] = status(job).get("startedAt") or seen.started_at
        fields["container"] = {"podName": meta(pod)["name"], "nodeName": pod["spec"].get("nodeName")}
        return Step((job_patch(job, fields), transition_event(job, started)))
    if seen.pending_message and seen.pending_message != status(job).get("statusMessage"):
        return Step((job_patch(job, {"statusMessage": seen.pending_message}),))
    if seen.ended is None:
        return None
    fields = transition_fields(seen.ended, now_ms=now_ms) | _with_attempt(job, seen.record)
    fields["container"] = seen.record["container"]
    if seen.ended.state is JobState.RUNNABLE:
        fields["computeEnvironment"] = None
    actions = [job_patch(job, fields), transition_event(job, seen.ended)]
    if seen.delete_pod:
        actions.insert(0, DeletePod(namespace, meta(pod)["name"]))
    return Step(tuple(actions))


def _retire(settings: Settings, *, retried: bool) -> bool:
    """Whether a finished attempt's pod goes, by the retention policy (its record stays)."""
    if settings.pod_retention is PodRetention.NONE:
        return True
    return retried and settings.pod_retention is PodRetention.LAST


def _pending_message(pod: Obj) -> str | None:
    """Why a created pod has not started: the scheduler's or the kubelet's words."""
    for condition in pod.get("status", {}).get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return f"Pod {meta(pod)['name']} is waiting for a node: {condition.get('message') or condition.get('reason')}"
    for container in pod.get("status", {}).get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") and waiting["reason"] != "ContainerCreating":
            return f"Pod {meta(pod)['name']} container {container.get('name')} is waiting: {waiting['reason']}"
    return None


def attempt_record(pod: Obj | None, *, pod_name_if_gone: str, outcome: Outcome | None, reason: str | None,
                   started_at: int | None, now_ms: int) -> dict[str, Any]:
    """One entry of ``status.attempts``, as DescribeJobs prints it."""
    times = attempt_times(pod=pod)
    container: dict[str, Any] = {
        "podName": meta(pod)["name"] if pod else pod_name_if_gone,
        "nodeName": (pod or {}).get("spec", {}).get("nodeName"),
    }
    if outcome is not None:
        container["exitCode"] = outcome.exit_code
        container["reason"] = outcome.aws_container_reason
    return {
        "container": container,
        "startedAt": times.started_at or started_at,
        "stoppedAt": times.stopped_at or now_ms,
        "statusReason": reason,
    }


def _with_attempt(job: Obj, record: dict[str, Any]) -> dict[str, Any]:
    return {"attempts": [*(status(job).get("attempts") or []), record], **started_if_unseen(job, record)}


def started_if_unseen(job: Obj, record: dict[str, Any]) -> dict[str, Any]:
    """The job's ``startedAt`` from an attempt that ended before the operator ever saw it running
    (a short container on a busy operator): AWS prints startedAt for every job that ran."""
    if status(job).get("startedAt") or not record.get("startedAt"):
        return {}
    return {"startedAt": record["startedAt"]}
