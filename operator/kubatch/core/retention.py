"""Which finished jobs are due to leave the cluster (archived, then deleted): retention as a pure rule.

Why a rule of its own: etcd must not hold every job ever run, yet a job may only go
when nothing can still need its object. A job is due when

- it is finished (SUCCEEDED or FAILED; an array's or multi-node job's parent finishes
  only after all its children or nodes, so it goes with all of them),
- its retention has passed since it stopped: its queue's
  ``spec.finishedJobRetentionSeconds`` when the queue sets it, else the operator's
  ``--finished-job-retention``; 0 keeps the job for ever,
- and no job of its namespace that is still undecided (not SUCCEEDED or FAILED)
  depends on it: a dependent's outcome is decided from the dependency's object, so the
  dependency stays until every dependent has its answer.

It reads only what the operator's store keeps of a finished job (name, namespace, uid,
``spec.jobQueue``, ``status.status``, ``status.stoppedAt``, ``status.createdAt``) and
the dependents' ``dependsOn``. Oldest first, at most ``limit`` per call, so one pass of
the retention worker is bounded. Time is an argument (``now_ms``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubatch.core.reconcile.world import Obj, meta, spec, status

FINISHED = frozenset({"SUCCEEDED", "FAILED"})
QUEUE_FIELD = "finishedJobRetentionSeconds"


@dataclass(frozen=True, order=True)
class DueJob:
    """A job to archive and delete, by its object's coordinates and uid (the uid guards against a namesake)."""

    stopped_at: int
    namespace: str
    name: str
    uid: str


def retention_seconds(queue: Obj | None, default_seconds: int) -> int:
    """How long a finished job of ``queue`` stays (0: for ever): the queue's override, else the default."""
    override = spec(queue).get(QUEUE_FIELD) if queue is not None else None
    return int(override) if override is not None else int(default_seconds)


def _stopped_at(job: Obj) -> int | None:
    moment = status(job).get("stoppedAt") or status(job).get("createdAt")
    return int(moment) if moment is not None else None


def _depended_on(jobs: Iterable[Obj]) -> set[tuple[str, str]]:
    """(namespace, uid or name) of every job an undecided job depends on (array child ids reduced to the job)."""
    held = set()
    for job in jobs:
        if status(job).get("status") in FINISHED:
            continue
        namespace = meta(job).get("namespace") or ""
        for dependency in [*(spec(job).get("dependsOn") or []), *(status(job).get("dependsOn") or [])]:
            target = str((dependency or {}).get("jobId") or "")
            if target:
                held.add((namespace, target.split(":")[0]))
    return held


def due_for_archiving(jobs: Iterable[Obj], queues: Mapping[str, Obj], *, now_ms: int, default_seconds: int,
                      limit: int) -> list[DueJob]:
    """The finished jobs whose retention has passed and that no undecided job depends on, oldest first."""
    jobs = list(jobs)
    held = _depended_on(jobs)
    due = []
    for job in jobs:
        if status(job).get("status") not in FINISHED:
            continue
        seconds = retention_seconds(queues.get(spec(job).get("jobQueue") or ""), default_seconds)
        stopped = _stopped_at(job)
        if seconds <= 0 or stopped is None or now_ms - stopped < seconds * 1000:
            continue
        metadata: dict[str, Any] = meta(job)
        namespace = metadata.get("namespace") or ""
        if (namespace, metadata["uid"]) in held or (namespace, metadata["name"]) in held:
            continue
        due.append(DueJob(stopped_at=stopped, namespace=namespace, name=metadata["name"], uid=metadata["uid"]))
    due.sort()
    return due[:limit]
