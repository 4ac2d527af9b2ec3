"""Turning what stopped a unit into a reason code and a message a person can act on.

While placing a unit the cycle records, for each compute environment of its queue
in order, the obstacle it met there. This module picks the reason that matters
most and writes one line naming every CE, with the numbers as they stand at the end
of the cycle (usage only grows within a cycle, so a "full" CE is still full).

Choosing the code: a CE that is enabled but busy (full, held, reserved, stalled)
explains a wait better than a disabled one, and a disabled one better than a
missing one. A unit is reported as never able to run only when every CE of its
queue exists and is too small for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from .capacity import ComputeEnvironmentLedger, Demand, Misfit, format_vcpus
from .decisions import WaitReason
from .fairshare import ComputeReservation, FairShareStanding


class Obstacle:
    """What a unit met in one CE (plain strings: this is compared in the hot loop)."""

    NOT_FOUND = "not found"
    MISFIT = "misfit"
    DISABLED = "disabled"
    INVALID = "invalid"
    STALLED = "stalled"
    HELD = "held"
    FULL = "full"
    FAIR_SHARE_RESERVED = "fair share reserved"


_BUSY = {
    Obstacle.STALLED: WaitReason.INSUFFICIENT_INSTANCE_CAPACITY,
    Obstacle.HELD: WaitReason.HELD_FOR_WAITING_JOB,
    Obstacle.FULL: WaitReason.CAPACITY,
    Obstacle.FAIR_SHARE_RESERVED: WaitReason.FAIR_SHARE_COMPUTE_RESERVATION,
}
_OFF = {
    Obstacle.DISABLED: WaitReason.COMPUTE_ENVIRONMENT_DISABLED,
    Obstacle.INVALID: WaitReason.COMPUTE_ENVIRONMENT_INVALID,
}


class Encounter(NamedTuple):
    """The obstacle met in one CE; `reservation` is set for FAIR_SHARE_RESERVED."""

    obstacle: str
    compute_environment: str
    reservation: ComputeReservation | None = None


def describe_demand(demand: Demand) -> str:
    parts = [f"{format_vcpus(demand.vcpus_milli)} vCPU"]
    if demand.memory_mib:
        parts.append(f"{demand.memory_mib} MiB memory")
    if demand.gpus:
        parts.append(f"{demand.gpus} GPU")
    return ", ".join(parts)


class WaitExplainer:
    """Writes reasons and messages from the CE ledgers as they stand after the
    cycle. Units that met the same obstacles with the same demand get the same
    text, so it is written once per distinct case, not once per unit."""

    def __init__(self, *, ledgers: Mapping[str, ComputeEnvironmentLedger]) -> None:
        self._ledgers = ledgers
        self._memo: dict[tuple, tuple[WaitReason, str]] = {}

    def explain(
        self,
        *,
        queue_name: str,
        demand: Demand,
        encounters: tuple[Encounter, ...],
        standing: FairShareStanding | None,
        holding: str | None,
    ) -> tuple[WaitReason, str]:
        """Reason and message for a unit that met `encounters`; `standing` is its
        share's when that share is over its fair share, `holding` the CE it holds."""
        key = (queue_name, demand, encounters, standing)
        explained = self._memo.get(key)
        if explained is None:
            explained = self._memo[key] = self._explain(
                queue_name=queue_name, demand=demand, encounters=encounters, standing=standing
            )
        if holding is None:
            return explained
        reason, message = explained
        return reason, (
            f"{message}; RUNNABLE past its backfill patience, so '{holding}' is held for "
            f"this job: no job of equal or lower priority starts there until it fits"
        )

    def _choose_reason(self, demand: Demand, encounters: Sequence[Encounter]) -> WaitReason:
        for encounter in encounters:
            if encounter.obstacle in _BUSY:
                return _BUSY[encounter.obstacle]
        for encounter in encounters:
            if encounter.obstacle in _OFF:
                return _OFF[encounter.obstacle]
        misfits = [self._misfit(e, demand) for e in encounters if e.obstacle == Obstacle.MISFIT]
        if not misfits or len(misfits) < len(encounters):
            return WaitReason.COMPUTE_ENVIRONMENT_NOT_FOUND
        if misfits[0].per_job:
            return WaitReason.JOB_RESOURCE_REQUIREMENT
        return WaitReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE

    def _misfit(self, encounter: Encounter, demand: Demand) -> Misfit:
        misfit = self._ledgers[encounter.compute_environment].misfit(demand)
        assert misfit is not None
        return misfit

    def _explain(
        self,
        *,
        queue_name: str,
        demand: Demand,
        encounters: tuple[Encounter, ...],
        standing: FairShareStanding | None,
    ) -> tuple[WaitReason, str]:
        reason = self._choose_reason(demand, encounters)
        if reason is WaitReason.CAPACITY and standing is not None:
            reason = WaitReason.FAIR_SHARE
        if not encounters:
            return reason, f"{reason.value}: queue '{queue_name}' lists no compute environment"
        needs = describe_demand(demand)
        if reason is WaitReason.FAIR_SHARE:
            assert standing is not None
            headline = (
                f"share '{standing.share_identifier}' is over its fair share in queue "
                f"'{queue_name}' (holds {format_vcpus(standing.held_milli)} of "
                f"{format_vcpus(standing.total_milli)} vCPU, its weight entitles it to "
                f"{format_vcpus(standing.entitled_milli)}); job needs {needs}"
            )
        elif reason.cannot_ever_run:
            headline = (
                f"job needs {needs}, more than any compute environment of queue "
                f"'{queue_name}' allows"
            )
        elif reason in (
            WaitReason.COMPUTE_ENVIRONMENT_DISABLED,
            WaitReason.COMPUTE_ENVIRONMENT_INVALID,
        ):
            headline = (
                f"no compute environment of queue '{queue_name}' that fits the job takes jobs"
            )
        elif reason is WaitReason.COMPUTE_ENVIRONMENT_NOT_FOUND:
            headline = f"no compute environment of queue '{queue_name}' that fits the job exists"
        else:
            headline = f"waiting for capacity, job needs {needs}"
        details = "; ".join(self._describe(encounter, demand) for encounter in encounters)
        return reason, f"{reason.value}: {headline}: {details}"

    def _describe(self, encounter: Encounter, demand: Demand) -> str:
        name = encounter.compute_environment
        obstacle = encounter.obstacle
        if obstacle == Obstacle.NOT_FOUND:
            return f"'{name}' does not exist"
        if obstacle == Obstacle.DISABLED:
            return f"'{name}' is DISABLED"
        if obstacle == Obstacle.INVALID:
            return f"'{name}' is INVALID"
        if obstacle == Obstacle.MISFIT:
            misfit = self._misfit(encounter, demand)
            return f"'{name}' allows {misfit.allows} {misfit.dimension} ({misfit.limit_name})"
        ledger = self._ledgers[name]
        if obstacle == Obstacle.STALLED:
            stall = ledger.stall
            assert stall is not None
            return (
                f"'{name}' takes no new jobs: a pod of job '{stall.unit_id}' waits for a node"
            )
        if obstacle == Obstacle.HELD:
            hold = ledger.hold
            assert hold is not None
            return (
                f"'{name}' is held for job '{hold.unit_id}' (queue '{hold.queue}', "
                f"RUNNABLE past its backfill patience)"
            )
        if obstacle == Obstacle.FAIR_SHARE_RESERVED:
            reservation = encounter.reservation
            assert reservation is not None
            plural = "" if reservation.active_shares == 1 else "s"
            reserved = reservation.reserved_milli(ledger.max_vcpus_milli)
            return (
                f"'{name}' keeps {format_vcpus(reserved)} of "
                f"{format_vcpus(ledger.max_vcpus_milli)} vCPU for share identifiers with no "
                f"running job (computeReservation {reservation.compute_reservation}, "
                f"{reservation.active_shares} active share{plural}) and has "
                f"{format_vcpus(ledger.planned_vcpus_milli)} vCPU in use"
            )
        return f"'{name}' has {ledger.describe_fullness(demand)}"
