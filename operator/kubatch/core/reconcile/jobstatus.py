"""Turn a life-cycle transition into the job's status patch and an Event.

Why one place: every state change writes the same fields the same way (AWS's
DescribeJobs shape: status, statusReason, statusMessage, stoppedAt...), so callers
describe *what* happened and this module decides how it is recorded.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from kubatch.core.actions import Emit, PatchStatus
from kubatch.core.lifecycle import TERMINAL_STATES, JobState, Transition
from kubatch.core.reconcile.world import Obj, meta

EVENT_REASON = {
    JobState.PENDING: "Pending",
    JobState.RUNNABLE: "Runnable",
    JobState.STARTING: "Starting",
    JobState.RUNNING: "Running",
    JobState.SUCCEEDED: "Succeeded",
    JobState.FAILED: "Failed",
}


def job_patch(job: Obj, fields: dict[str, Any]) -> PatchStatus:
    return PatchStatus("BatchJob", meta(job)["namespace"], meta(job)["name"], fields)


def job_event(job: Obj, *, reason: str, message: str, warning: bool = False) -> Emit:
    metadata = meta(job)
    return Emit("BatchJob", metadata["namespace"], metadata["name"], metadata.get("uid", ""), reason,
                message, "Warning" if warning else "Normal")


def transition_fields(transition: Transition, *, now_ms: int) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "status": transition.state.value,
        "statusReason": transition.status_reason.value if transition.status_reason else None,
        "statusMessage": transition.status_message,
    }
    if transition.state in TERMINAL_STATES:
        fields["stoppedAt"] = now_ms
        fields["conditions"] = [_finished_condition(transition, now_ms=now_ms)]
    if transition.state is JobState.RUNNABLE:
        fields["runnableAt"] = now_ms
    return fields


def _finished_condition(transition: Transition, *, now_ms: int) -> dict[str, Any]:
    """Kubernetes Job-style ``Complete``/``Failed`` condition, for GitOps health checks."""
    succeeded = transition.state is JobState.SUCCEEDED
    moment = datetime.fromtimestamp(now_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "type": "Complete" if succeeded else "Failed",
        "status": "True",
        "reason": transition.status_reason.value if transition.status_reason else
        ("Succeeded" if succeeded else "Failed"),
        "message": transition.status_message or "",
        "lastTransitionTime": moment,
    }


def transition_event(job: Obj, transition: Transition) -> Emit:
    failed = transition.state is JobState.FAILED
    if transition.state is JobState.RUNNABLE and transition.retry:
        return job_event(job, reason="Retrying", message=transition.status_message or "", warning=True)
    message = " ".join(filter(None, [transition.status_reason.value if transition.status_reason else None,
                                     transition.status_message])) or transition.state.value
    return job_event(job, reason=EVENT_REASON.get(transition.state, transition.state.value), message=message,
                     warning=failed)
