"""An array parent's record of its children, read one child at a time.

Why from the record: a child is not an object of its own. The operator keeps, in the
parent's ``status.arrayProperties`` (see ``kubatch.core.reconcile.arrays``), index
ranges of the children that ended (``succeeded``, ``failed``, and by value
``exitCodes``, ``attempts``, ``reasons``) and a record per child that is STARTING,
RUNNING or waiting to retry (``children``). A child with neither is waiting: PENDING
while a dependency holds it (one of the parent's whole-job dependencies, its N_TO_N
peer or its SEQUENTIAL predecessor — the operator's own gates decide), otherwise
RUNNABLE; SUBMITTED while the parent is. That is exactly how the operator counts
``statusSummary``, so a listing by status agrees with the counts.

Ranges are looked up by bisection, never expanded into sets, so reading one child of a
10,000-child array costs a few comparisons. An ended child keeps only what the ranges
hold: how many attempts it made (each attempt's pod name follows from that), its last
exit code and, if it failed, its reason; start and stop times come from its pods while
they are kept.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kubatch.core.pods import pod_name
from kubatch.core.reconcile.arrays import is_array
from kubatch.core.reconcile.dependencies import Gate, JobIndex, child_gate, job_gate
from kubatch.service.errors import ClientException, ServerException
from kubatch.service.port import Obj

ENDED = ("SUCCEEDED", "FAILED")
RECORDED = ("STARTING", "RUNNING", "RUNNABLE", "FAILED")


class IndexRanges:
    """``"0-99,120"`` as sorted (first, last) pairs: membership by bisection, nothing expanded."""

    def __init__(self, text: str | None, *, where: str) -> None:
        pairs = []
        for part in filter(None, (text or "").split(",")):
            low, dash, high = part.partition("-")
            try:
                pairs.append((int(low), int(high) if dash else int(low)))
            except ValueError:
                raise ServerException(f"{where}: bad index range {part!r}") from None
        pairs.sort()
        self._firsts = [first for first, _ in pairs]
        self._lasts = [last for _, last in pairs]

    def __contains__(self, index: int) -> bool:
        at = bisect_right(self._firsts, index) - 1
        return at >= 0 and index <= self._lasts[at]


class IndexValues:
    """``{"0": "0-4,7", "1": "5"}``: the value (exit code, attempts, reason) an index is filed under."""

    def __init__(self, mapping: dict[str, str] | None, *, where: str) -> None:
        self._ranges = [(value, IndexRanges(text, where=f"{where}.{value}")) for value, text in (mapping or {}).items()]

    def get(self, index: int) -> str | None:
        return next((value for value, ranges in self._ranges if index in ranges), None)


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
    return status.get("status") not in ENDED and any(item.get("jobId") for item in status.get("dependsOn") or [])


class ArrayRecord:
    """One array parent's children, by index. ``jobs``: the namespace's jobs, when ``needs_other_jobs``."""

    def __init__(self, parent: Obj, *, jobs: Sequence[Obj] = ()) -> None:
        if not is_array(parent):
            raise ClientException(f"job {parent['metadata']['name']} is not an array job")
        self.parent = parent
        self.name = parent["metadata"]["name"]
        self.size = array_size(parent)
        status = parent.get("status") or {}
        self.state = status.get("status") or "SUBMITTED"
        self._status = status
        array = status.get("arrayProperties") or {}
        where = f"BatchJob {self.name}: status.arrayProperties"
        self._succeeded = IndexRanges(array.get("succeeded"), where=f"{where}.succeeded")
        self._failed = IndexRanges(array.get("failed"), where=f"{where}.failed")
        self._exit_codes = IndexValues(array.get("exitCodes"), where=f"{where}.exitCodes")
        self._attempts = IndexValues(array.get("attempts"), where=f"{where}.attempts")
        self._reasons = IndexValues(array.get("reasons"), where=f"{where}.reasons")
        self._records: dict[str, dict[str, Any]] = array.get("children") or {}
        self._jobs = JobIndex([parent, *jobs])
        self._whole_job_gate: Gate | None = None

    def has(self, index: int) -> bool:
        return 0 <= index < self.size

    def status_of(self, index: int) -> str:
        """The child's status alone (cheap: what a listing by status scans)."""
        if index in self._succeeded:
            return "SUCCEEDED"
        if index in self._failed:
            return "FAILED"
        record = self._records.get(str(index))
        if record is not None and record.get("status") in RECORDED:
            return record["status"]
        return self._waiting(index)[0]

    def indexes(self, status: str | None) -> list[int]:
        """The indexes of the children in ``status`` (all when None), ascending."""
        if status is None:
            return list(range(self.size))
        return [index for index in range(self.size) if self.status_of(index) == status]

    def child(self, index: int) -> Child:
        if not self.has(index):
            raise ClientException(f"job {self.name} has no child {index} (its array size is {self.size})")
        for state, ranges in (("SUCCEEDED", self._succeeded), ("FAILED", self._failed)):
            if index in ranges:
                return self._ended(index, state)
        record = self._records.get(str(index))
        if record is not None and record.get("status") in RECORDED:
            return self._recorded(index, record)
        state, message = self._waiting(index)
        if state in ENDED:  # the parent ended before this child was ever recorded (e.g. InvalidJob)
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
        return Child(index=index, status=state, reason=self._reasons.get(index) if state == "FAILED" else None,
                     attempts=tuple(attempts), made=made)

    def _recorded(self, index: int, record: dict[str, Any]) -> Child:
        state = record["status"]
        attempts = tuple(record.get("attempts") or [])
        count = int(record.get("attemptCount") or 0)
        first_start = attempts[0].get("startedAt") if attempts else None
        if state == "FAILED":  # its next pod was refused; the next cycle files it under the ranges
            return Child(index=index, status=state, reason=record.get("statusReason"), attempts=attempts,
                         made=len(attempts), started_at=first_start, stopped_at=record.get("stoppedAt"))
        running = state in ("STARTING", "RUNNING")
        return Child(index=index, status=state, reason=None if running else record.get("statusReason"),
                     attempts=attempts, made=count, running=running,
                     started_at=first_start or (record.get("startedAt") if running else None),
                     compute_environment=record.get("computeEnvironment") if running else None)

    def _waiting(self, index: int) -> tuple[str, str | None]:
        """A child without record or range: SUBMITTED, PENDING or RUNNABLE (or its ended parent's state)."""
        if self.state in ENDED or self.state == "SUBMITTED":
            return self.state, self._status.get("statusMessage")
        if self._whole_job_gate is None:
            self._whole_job_gate = job_gate(self.parent, self._jobs)
        gate = self._whole_job_gate
        if gate.open:
            gate = child_gate(self.parent, index, self._jobs)
        if gate.open:
            return "RUNNABLE", self._status.get("statusMessage")
        if gate.failed_on:
            return "PENDING", f"Dependency {gate.failed_on} failed"
        return "PENDING", f"Waiting for dependency {gate.waiting_on}"
