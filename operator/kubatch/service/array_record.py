"""An array parent's record of its children, read one child at a time.

Why from the record: a child is not an object of its own. The operator keeps, in the
parent's ``status.arrayProperties`` (see ``kubatch.core.reconcile.arrays``), index
ranges of the children that ended (``succeeded``, ``failed``, and by value
``exitCodes``, ``attempts``, ``reasons``) and a record per child that is STARTING,
RUNNING or waiting to retry (``children``). A child with neither is waiting: PENDING
while a dependency holds it (one of the parent's whole-job dependencies, its N_TO_N
peer or its SEQUENTIAL predecessor), otherwise RUNNABLE; SUBMITTED while the parent is.
``kubatch.core.array_children`` answers that with the operator's own gates, which is
exactly how the operator counts ``statusSummary``, so a listing by status agrees with
the counts.

Ranges are looked up by bisection (``kubatch.core.ranges``), never expanded into sets,
so reading one child of a 10,000-child array costs a few comparisons. An ended child keeps only what the ranges
hold: how many attempts it made (each attempt's pod name follows from that), its last
exit code and, if it failed, its reason; start and stop times come from its pods while
they are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kubatch.core.array_children import WaitingChildren, is_array
from kubatch.core.pods import pod_name
from kubatch.core.ranges import IndexRanges, IndexValues
from kubatch.service.errors import ClientException, ServerException
from kubatch.service.port import Obj
from kubatch.states import ACTIVE_STATES, TERMINAL_STATES, JobState

__all__ = ["ArrayRecord", "Child", "array_size", "is_array", "needs_other_jobs"]

RECORDED = frozenset({JobState.STARTING, JobState.RUNNING, JobState.RUNNABLE, JobState.FAILED})
"""The states a child's own record may hold (FAILED: its next pod was refused)."""


def _ranges(text: str | None, *, where: str) -> IndexRanges:
    try:
        return IndexRanges(text)
    except ValueError as error:
        raise ServerException(f"{where}: {error}") from None


def _values(mapping: dict[str, str] | None, *, where: str) -> IndexValues:
    try:
        return IndexValues(mapping)
    except ValueError as error:
        raise ServerException(f"{where}.{error}") from None


@dataclass(frozen=True, kw_only=True)
class Child:
    """What the parent's record says of one child."""

    index: int
    status: str
    reason: str | None = None
    message: str | None = None
    attempts: tuple[dict[str, Any], ...] = ()  # AttemptDetails, attempt 1 first; only finished ones
    made: int = 0  # the number of the current or last attempt (0: none yet)
    running: bool = False  # attempt ``made`` is still going (STARTING or RUNNING)
    started_at: int | None = None
    stopped_at: int | None = None
    compute_environment: str | None = None


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.lstrip("-").isdigit() else None


def array_size(job: Obj) -> int:
    return int(((job.get("spec") or {}).get("arrayProperties") or {}).get("size") or 0)


def needs_other_jobs(job: Obj) -> bool:
    """Whether telling PENDING from RUNNABLE children needs the jobs the parent depends on."""
    status = job.get("status") or {}
    return status.get("status") not in TERMINAL_STATES and any(item.get("jobId") for item in status.get("dependsOn") or [])


class ArrayRecord:
    """One array parent's children, by index. ``jobs``: the namespace's jobs, when ``needs_other_jobs``."""

    def __init__(self, parent: Obj, *, jobs: Sequence[Obj] = ()) -> None:
        if not is_array(parent):
            raise ClientException(f"job {parent['metadata']['name']} is not an array job")
        self.parent = parent
        self.name = parent["metadata"]["name"]
        self.size = array_size(parent)
        status = parent.get("status") or {}
        self._status = status
        array = status.get("arrayProperties") or {}
        where = f"BatchJob {self.name}: status.arrayProperties"
        self._succeeded = _ranges(array.get("succeeded"), where=f"{where}.succeeded")
        self._failed = _ranges(array.get("failed"), where=f"{where}.failed")
        self._exit_codes = _values(array.get("exitCodes"), where=f"{where}.exitCodes")
        self._attempts = _values(array.get("attempts"), where=f"{where}.attempts")
        self._reasons = _values(array.get("reasons"), where=f"{where}.reasons")
        self._records: dict[str, dict[str, Any]] = array.get("children") or {}
        self._waiting = WaitingChildren(parent, jobs=jobs)

    def has(self, index: int) -> bool:
        return 0 <= index < self.size

    def status_of(self, index: int) -> str:
        """The child's status alone (cheap: what a listing by status scans)."""
        if index in self._succeeded:
            return JobState.SUCCEEDED
        if index in self._failed:
            return JobState.FAILED
        record = self._records.get(str(index))
        if record is not None and record.get("status") in RECORDED:
            return record["status"]
        return self._waiting.state_of(index)[0]

    def indexes(self, status: str | None) -> list[int]:
        """The indexes of the children in ``status`` (all when None), ascending."""
        if status is None:
            return list(range(self.size))
        return [index for index in range(self.size) if self.status_of(index) == status]

    def child(self, index: int) -> Child:
        if not self.has(index):
            raise ClientException(f"job {self.name} has no child {index} (its array size is {self.size})")
        for state, ranges in ((JobState.SUCCEEDED, self._succeeded), (JobState.FAILED, self._failed)):
            if index in ranges:
                return self._ended(index, state)
        record = self._records.get(str(index))
        if record is not None and record.get("status") in RECORDED:
            return self._recorded(index, record)
        state, message = self._waiting.state_of(index)
        if state in TERMINAL_STATES:  # the parent ended before this child was ever recorded (e.g. InvalidJob)
            return Child(index=index, status=state, reason=self._status.get("statusReason"), message=message,
                         stopped_at=self._status.get("stoppedAt"))
        return Child(index=index, status=state, message=message)

    def pod_name(self, index: int, attempt: int) -> str:
        return pod_name(job_name=self.name, attempt=attempt, array_index=index)

    def _ended(self, index: int, state: str) -> Child:
        made = _int(self._attempts.get(index)) or 0
        exit_code = _int(self._exit_codes.get(index))
        attempts = [{"container": {"podName": self.pod_name(index, attempt)}} for attempt in range(1, made + 1)]
        if attempts and exit_code is not None:
            attempts[-1]["container"]["exitCode"] = exit_code
        return Child(index=index, status=state, reason=self._reasons.get(index) if state == JobState.FAILED else None,
                     attempts=tuple(attempts), made=made)

    def _recorded(self, index: int, record: dict[str, Any]) -> Child:
        state = record["status"]
        attempts = tuple(record.get("attempts") or [])
        count = int(record.get("attemptCount") or 0)
        first_start = attempts[0].get("startedAt") if attempts else None
        if state == JobState.FAILED:  # its next pod was refused; the next cycle files it under the ranges
            return Child(index=index, status=state, reason=record.get("statusReason"), attempts=attempts,
                         made=len(attempts), started_at=first_start, stopped_at=record.get("stoppedAt"))
        running = state in ACTIVE_STATES
        return Child(index=index, status=state, reason=None if running else record.get("statusReason"),
                     attempts=attempts, made=count, running=running,
                     started_at=first_start or (record.get("startedAt") if running else None),
                     compute_environment=record.get("computeEnvironment") if running else None)
