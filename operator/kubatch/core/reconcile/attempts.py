"""A STARTING or RUNNING job: watch its attempt's pod and record how the attempt ends.

Why level-based: the planner looks at the pod as it is now (not at the event that
changed it), so a missed or repeated watch event, or an operator restart, leads to
the same decision. Only the current attempt's pod counts; its name is deterministic,
so pods of earlier attempts are never mistaken for it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from kubatch.core.actions import DeletePod, PatchStatus, Step
from kubatch.core.lifecycle import (
    ACTIVE_STATES,
    AttemptEnded,
    ContainerStarted,
    JobState,
    TerminateRequested,
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
    ends_attempt = step is not None and any(
        isinstance(action, PatchStatus) and action.patch.get("status") not in (None, *ACTIVE_STATES)
        for action in step.actions)
    return step, not ends_attempt


def _active_job_step(job: Obj, world: World, *, now_ms: int, settings: Settings) -> Step | None:
    state = JobState(status(job)["status"])
    pod = current_pod(job, world)
    namespace = meta(job)["namespace"]
    if spec(job).get("terminateRequest"):
        ended = transition(state=state, event=TerminateRequested(reason=spec(job)["terminateRequest"].get("reason")))
        record = _attempt_record(job, pod, outcome=None, reason=ended.status_message, now_ms=now_ms)
        fields = transition_fields(ended, now_ms=now_ms) | _with_attempt(job, record)
        actions = [job_patch(job, fields), transition_event(job, ended)]
        if pod is not None:
            actions.insert(0, DeletePod(namespace, meta(pod)["name"], grace_seconds=TERMINATE_GRACE_SECONDS))
        return Step(tuple(actions))

    node_name = (pod or {}).get("spec", {}).get("nodeName")
    node = NodeFacts.from_node(name=node_name, node=world.nodes.get(node_name)) if node_name else None
    resolved = status(job).get("resolvedDefinition") or {}
    outcome = classify_pod(
        pod=pod, now=datetime.fromtimestamp(now_ms / 1000, tz=timezone.utc), node=node,
        image_pull_grace_seconds=settings.image_pull_grace_seconds,
        attempt_duration_seconds=(resolved.get("timeout") or {}).get("attemptDurationSeconds"),
    )
    if outcome is None:
        return _still_going(job, pod, state=state)

    attempts_made = int(status(job).get("attemptCount") or 1)
    ended = transition(state=state, event=AttemptEnded(
        outcome=outcome, retry_strategy=resolved.get("retryStrategy"), attempts_made=attempts_made))
    record = _attempt_record(job, pod, outcome=outcome, reason=outcome.status_message, now_ms=now_ms)
    fields = transition_fields(ended, now_ms=now_ms) | _with_attempt(job, record)
    fields["container"] = record["container"]
    if ended.state is JobState.RUNNABLE:
        fields["computeEnvironment"] = None
    actions = [job_patch(job, fields), transition_event(job, ended)]
    if pod is not None and (ended.delete_pod or _retire(settings, retried=ended.state is JobState.RUNNABLE)):
        actions.insert(0, DeletePod(namespace, meta(pod)["name"]))
    return Step(tuple(actions))


def _retire(settings: Settings, *, retried: bool) -> bool:
    """Whether a finished attempt's pod goes, by the retention policy (its record stays)."""
    if settings.pod_retention is PodRetention.NONE:
        return True
    return retried and settings.pod_retention is PodRetention.LAST


def _still_going(job: Obj, pod: Obj | None, *, state: JobState) -> Step | None:
    times = attempt_times(pod=pod)
    if state is JobState.STARTING and times.started_at is not None:
        started = transition(state=state, event=ContainerStarted())
        fields = transition_fields(started, now_ms=times.started_at)
        fields["startedAt"] = status(job).get("startedAt") or times.started_at
        fields["container"] = {"podName": meta(pod)["name"], "nodeName": pod["spec"].get("nodeName")}
        return Step((job_patch(job, fields), transition_event(job, started)))
    if state is JobState.STARTING and pod is not None:
        message = _pending_message(pod)
        if message and message != status(job).get("statusMessage"):
            return Step((job_patch(job, {"statusMessage": message}),))
    return None


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


def _attempt_record(job: Obj, pod: Obj | None, *, outcome: Outcome | None, reason: str | None,
                    now_ms: int) -> dict[str, Any]:
    times = attempt_times(pod=pod)
    container: dict[str, Any] = {
        "podName": meta(pod)["name"] if pod else current_pod_name(job),
        "nodeName": (pod or {}).get("spec", {}).get("nodeName"),
    }
    if outcome is not None:
        container["exitCode"] = outcome.exit_code
        container["reason"] = outcome.container_reason.value if outcome.container_reason else None
    return {
        "container": container,
        "startedAt": times.started_at or status(job).get("startedAt"),
        "stoppedAt": times.stopped_at or now_ms,
        "statusReason": reason,
    }


def _with_attempt(job: Obj, record: dict[str, Any]) -> dict[str, Any]:
    return {"attempts": [*(status(job).get("attempts") or []), record]}
