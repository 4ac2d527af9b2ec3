"""Why an array child that has neither a record nor a range waits: the planner's rule, made public.

Why here: the AWS front ends describe and list array children one at a time from the
parent's record (``kubatch.service.array_record``), without an object per child. A
child the record does not mention yet is SUBMITTED while its parent is, PENDING while a
dependency holds it (one of the parent's whole-job dependencies, then its own N_TO_N
peer or SEQUENTIAL predecessor) and RUNNABLE otherwise. Those gates are the planner's
(``kubatch.core.reconcile.dependencies``); this module is the one door through which
readers outside the planner ask them, so a listing by status agrees with the
``statusSummary`` the operator counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubatch.core.reconcile.arrays import is_array
from kubatch.core.reconcile.dependencies import Gate, JobIndex, child_gate, job_gate
from kubatch.states import TERMINAL_STATES, JobState

__all__ = ["WaitingChildren", "is_array"]

Obj = dict[str, Any]


class WaitingChildren:
    """The waiting children of one parent. ``jobs``: the namespace's jobs it may depend on."""

    def __init__(self, parent: Obj, *, jobs: Sequence[Obj] = ()) -> None:
        self._parent = parent
        self._status = parent.get("status") or {}
        self._jobs = JobIndex([parent, *jobs])
        self._whole_job_gate: Gate | None = None

    def state_of(self, index: int) -> tuple[JobState, str | None]:
        """Child ``index``'s state and message: SUBMITTED, PENDING or RUNNABLE (or its ended parent's state)."""
        parent_state = JobState(self._status.get("status") or JobState.SUBMITTED)
        if parent_state in TERMINAL_STATES or parent_state is JobState.SUBMITTED:
            return parent_state, self._status.get("statusMessage")
        if self._whole_job_gate is None:
            self._whole_job_gate = job_gate(self._parent, self._jobs)
        gate = self._whole_job_gate
        if gate.open:
            gate = child_gate(self._parent, index, self._jobs)
        if gate.open:
            return JobState.RUNNABLE, self._status.get("statusMessage")
        if gate.failed_on:
            return JobState.PENDING, f"Dependency {gate.failed_on} failed"
        return JobState.PENDING, f"Waiting for dependency {gate.waiting_on}"
