"""Job dependencies (``dependsOn``): when may a job, or one child of an array, start?

AWS rules: a job waits (PENDING) until every job it depends on SUCCEEDED; if one of
them FAILED, it fails with ``DependencyFailed`` naming it, and that failure travels
down the chain one cycle per link. A dependency on an array job waits for the whole
array. ``N_TO_N`` between two arrays of the same size: child i waits for child i.
``SEQUENTIAL`` on an array (without ``jobId``): child i waits for child i-1.

Dependencies must exist when the job is submitted (by name or uid, same namespace),
so a dependency cycle cannot form; a job naming itself is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubatch.core.definition import InvalidJobError
from kubatch.core.ranges import decode
from kubatch.core.reconcile.finished import FinishedJobs
from kubatch.core.reconcile.world import Obj, meta, spec, status

SUCCEEDED, FAILED = "SUCCEEDED", "FAILED"


@dataclass(frozen=True)
class Gate:
    """Whether something may start: ``open``, or why not (``failed_on`` names a failed dependency)."""

    open: bool
    failed_on: str | None = None
    waiting_on: str | None = None


OPEN = Gate(open=True)


class JobIndex:
    """Every job by uid and by (namespace, name), live ones and finished records alike, with array
    children's outcomes decoded once per cycle."""

    def __init__(self, jobs: list[Obj], finished: FinishedJobs | None = None) -> None:
        self._by_name = {(meta(j)["namespace"], meta(j)["name"]): j for j in jobs}
        self._by_uid = {meta(j)["uid"]: j for j in jobs}
        self._finished = finished if finished is not None else FinishedJobs()
        self._children: dict[str, tuple[set[int], set[int]]] = {}

    def with_uid(self, uid: str) -> Obj | None:
        job = self._by_uid.get(uid)
        if job is None and (record := self._finished.with_uid(uid)) is not None:
            job = self._by_uid[uid] = record.as_object()
        return job

    def named(self, namespace: str, name: str) -> Obj | None:
        job = self._by_name.get((namespace, name))
        if job is None and (record := self._finished.named(namespace, name)) is not None:
            job = self._by_name[(namespace, name)] = record.as_object()
        return job

    def find(self, namespace: str, ref: str) -> Obj | None:
        job = self.with_uid(ref)
        if job is not None and meta(job)["namespace"] == namespace:
            return job
        return self.named(namespace, ref)

    def child_outcome(self, job: Obj, index: int) -> str | None:
        uid = meta(job)["uid"]
        if uid not in self._children:
            array = status(job).get("arrayProperties") or {}
            self._children[uid] = (decode(array.get("succeeded")), decode(array.get("failed")))
        succeeded, failed = self._children[uid]
        return SUCCEEDED if index in succeeded else FAILED if index in failed else None


def resolve_depends_on(job: Obj, jobs: JobIndex) -> list[dict[str, Any]]:
    """Check ``spec.dependsOn`` at submission; the result (uids) goes to ``status.dependsOn``."""
    namespace = meta(job)["namespace"]
    size = (spec(job).get("arrayProperties") or {}).get("size")
    resolved = []
    for position, dependency in enumerate(spec(job).get("dependsOn") or []):
        field = f"spec.dependsOn[{position}]"
        kind = dependency.get("type")
        if dependency.get("jobId") is None:
            if kind != "SEQUENTIAL" or size is None:
                raise InvalidJobError(f"{field}: without jobId only type SEQUENTIAL on an array job is allowed")
            resolved.append({"type": "SEQUENTIAL"})
            continue
        target = jobs.find(namespace, dependency["jobId"])
        if target is None:
            raise InvalidJobError(f"{field}.jobId: job {dependency['jobId']!r} does not exist in namespace "
                                  f"{namespace!r}")
        if meta(target)["uid"] == meta(job)["uid"]:
            raise InvalidJobError(f"{field}.jobId: a job cannot depend on itself")
        if kind == "N_TO_N":
            target_size = (spec(target).get("arrayProperties") or {}).get("size")
            if size is None or target_size != size:
                raise InvalidJobError(f"{field}: N_TO_N needs two array jobs of the same size "
                                      f"({size} and {target_size})")
        resolved.append({"jobId": meta(target)["uid"], "type": kind} if kind else {"jobId": meta(target)["uid"]})
    return resolved


def _name(job: Obj) -> str:
    return meta(job)["name"]


def job_gate(job: Obj, jobs: JobIndex) -> Gate:
    """Dependencies on whole jobs (everything except N_TO_N and SEQUENTIAL)."""
    for dependency in status(job).get("dependsOn") or []:
        if dependency.get("type") in ("N_TO_N", "SEQUENTIAL"):
            continue
        target = jobs.with_uid(dependency["jobId"])
        state = status(target).get("status") if target else FAILED
        if state == FAILED:
            return Gate(open=False, failed_on=_name(target) if target else dependency["jobId"])
        if state != SUCCEEDED:
            return Gate(open=False, waiting_on=_name(target))
    return OPEN


def child_gate(job: Obj, index: int, jobs: JobIndex) -> Gate:
    """Per-child dependencies of an array job: N_TO_N on another array, SEQUENTIAL on itself."""
    for dependency in status(job).get("dependsOn") or []:
        kind = dependency.get("type")
        if kind == "SEQUENTIAL":
            target, other = job, index - 1
            if other < 0:
                continue
        elif kind == "N_TO_N":
            target, other = jobs.with_uid(dependency["jobId"]), index
            if target is None:
                return Gate(open=False, failed_on=dependency["jobId"])
        else:
            continue
        outcome = jobs.child_outcome(target, other)
        if outcome == FAILED:
            return Gate(open=False, failed_on=f"{_name(target)}:{other}")
        if outcome != SUCCEEDED:
            return Gate(open=False, waiting_on=f"{_name(target)}:{other}")
    return OPEN
