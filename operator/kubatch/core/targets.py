"""Whether a job's queue takes it: the one set of submission rules, for SubmitJob and the planner.

Why one function: SubmitJob (``kubatch.service.jobs``) refuses a job at once with a
ClientException, and the planner (``kubatch.core.reconcile.submission``) fails a
BatchJob applied with kubectl with ``InvalidJob``; both must refuse the same jobs
with the same words. Each caller passes what it knows: the planner its whole cache,
SubmitJob only the queue it read (the compute environments and the namespace's labels
are the planner's to judge: a tenant may not be allowed to read them). A rule whose
input is None is skipped.

A failure is a ``TargetError`` naming the request field: ``str()`` gives the BatchJob's
path (``spec.jobQueue: …``), ``field`` and ``detail`` the AWS request's (``jobQueue: …``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from kubatch.core.definition import InvalidJobError


class TargetError(InvalidJobError):
    """A submission rule failed: ``field`` is the request field it is about, ``detail`` why."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"spec.{field}: {detail}")
        self.field = field
        self.detail = detail


def check_queue(name: str, queue: Mapping[str, Any] | None, *, share_identifier: str | None,
                compute_environments: Collection[str] | None = None, namespace: str | None = None,
                namespace_selected: bool | None = None) -> None:
    """Raise TargetError unless JobQueue ``name`` (``queue``, None if missing) takes the job.

    ``compute_environments``: the names that exist; ``namespace_selected``: whether the
    queue's ``namespaceSelector`` matches the job's ``namespace``.
    """
    if queue is None:
        raise TargetError("jobQueue", f"JobQueue {name!r} does not exist")
    queue_spec = queue.get("spec") or {}
    if queue_spec.get("state", "ENABLED") == "DISABLED":
        raise TargetError("jobQueue", f"JobQueue {name!r} is DISABLED and accepts no new jobs")
    if queue_spec.get("schedulingPolicy") and not share_identifier:
        raise TargetError("shareIdentifier", f"required on JobQueue {name!r}, which has a scheduling policy")
    if share_identifier and not queue_spec.get("schedulingPolicy"):
        raise TargetError("shareIdentifier", f"JobQueue {name!r} has no scheduling policy (FIFO); "
                          "remove the share identifier")
    ces = [entry["computeEnvironment"] for entry in queue_spec.get("computeEnvironmentOrder") or []]
    if compute_environments is not None and not any(ce in compute_environments for ce in ces):
        raise TargetError("jobQueue", f"JobQueue {name!r} has no valid compute environment "
                          f"({', '.join(ces)} do not exist)")
    if namespace_selected is False:
        raise TargetError("jobQueue", f"JobQueue {name!r} does not accept jobs from namespace {namespace!r} "
                          "(its namespaceSelector does not match)")
