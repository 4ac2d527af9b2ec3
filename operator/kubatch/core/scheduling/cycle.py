"""One scheduling cycle: `schedule(snapshot) -> Decisions`, pure and deterministic.

1. Count what already holds capacity in each compute environment, and note the CEs
   whose pods the cluster has failed to place for longer than the grace period.
2. Hand each queue's RUNNABLE units to a source (FIFO or fair share); units that no
   cycle could place (unknown queue, missing policy or share identifier) are
   answered at once.
3. Walk all units in global order (`ordering.across_queues`): each goes to the first
   CE of its queue, in the queue's order, that is enabled, valid, not stalled, not
   held for another unit, has room for it in every limited dimension and, for an
   active fair share, leaves the computeReservation untouched.
4. Head-of-line policy: a unit that does not fit does not stop the units behind it
   (they may backfill) until it has been RUNNABLE for `backfill_patience_seconds`.
   From then on, when it does not fit, it *holds* the first CE where it could run:
   no later unit of this cycle (always of equal or lower priority) is placed there,
   so running jobs drain the CE until the held unit fits. A CE is held by one unit
   at a time; units of higher-priority queues are placed before and are unaffected.
5. Explain every wait (`explain.WaitExplainer`), with the numbers as they stand at
   the end of the cycle.

Every unit is looked at once, against at most three CEs, so a cycle is
O(n log n) in the number of RUNNABLE units.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from .capacity import ComputeEnvironmentLedger, Demand, Hold, Stall, to_milli
from .decisions import FRONT_OF_QUEUE_SIZE, Admission, ComputeEnvironmentPlan, Decisions, Wait, WaitReason
from .explain import Encounter, Obstacle, WaitExplainer
from .fairshare import ComputeReservation, FairShareQueue
from .ordering import FifoQueue, UnitSource, across_queues, fifo_order
from .snapshot import (
    AdmittedUnit,
    ComputeEnvironmentState,
    JobQueue,
    RunnableUnit,
    Snapshot,
)

_HOLDABLE = (Obstacle.HELD, Obstacle.FULL, Obstacle.FAIR_SHARE_RESERVED)


def schedule(snapshot: Snapshot) -> Decisions:
    """Decide which RUNNABLE units start now, where, and why the others wait."""
    return _Cycle(snapshot).run()


class _WaitingUnits:
    """Units not admitted, to be explained once the cycle is over. Kept as parallel
    columns rather than one record per unit: a record per unit would be a long-lived
    allocation that makes the garbage collector rescan the whole snapshot."""

    def __init__(self) -> None:
        self._units: list[RunnableUnit] = []
        self._demands: list[Demand] = []
        self._encounters: list[tuple[Encounter, ...]] = []
        self._holding: list[str | None] = []

    def add(
        self,
        *,
        unit: RunnableUnit,
        demand: Demand,
        encounters: tuple[Encounter, ...],
        holding: str | None,
    ) -> None:
        self._units.append(unit)
        self._demands.append(demand)
        self._encounters.append(encounters)
        self._holding.append(holding)

    def __iter__(
        self,
    ) -> Iterator[tuple[RunnableUnit, Demand, tuple[Encounter, ...], str | None]]:
        return zip(self._units, self._demands, self._encounters, self._holding, strict=True)


def _count_usage(snapshot: Snapshot) -> dict[str, ComputeEnvironmentLedger]:
    ledgers = {ce.name: ComputeEnvironmentLedger(ce) for ce in snapshot.compute_environments}
    grace = snapshot.config.unschedulable_grace_seconds
    for unit in snapshot.admitted:
        ledger = ledgers.get(unit.compute_environment)
        if ledger is None:
            continue
        ledger.count_running(Demand(to_milli(unit.vcpus), unit.memory_mib, unit.gpus))
        if unit.unschedulable_since is not None:
            waited = snapshot.now - unit.unschedulable_since
            if waited >= grace:
                ledger.note_stall(Stall(unit_id=unit.id, waited_seconds=waited))
    return ledgers


def _reject_duplicate_ids(units: Iterable[RunnableUnit]) -> None:
    seen: set[str] = set()
    for unit in units:
        if unit.id in seen:
            raise ValueError(f"RUNNABLE unit id {unit.id!r} appears twice in the snapshot")
        seen.add(unit.id)


class _Cycle:
    def __init__(self, snapshot: Snapshot) -> None:
        _reject_duplicate_ids(snapshot.runnable)
        self.snapshot = snapshot
        self.now = snapshot.now
        self.patience = snapshot.config.backfill_patience_seconds
        self.ledgers = _count_usage(snapshot)
        self.queues = {queue.name: queue for queue in snapshot.job_queues}
        self.policies = {policy.name: policy for policy in snapshot.scheduling_policies}
        self.fair_share: dict[str, FairShareQueue] = {}
        self.admissions: list[Admission] = []
        self.waits: dict[str, Wait] = {}
        self.waiting = _WaitingUnits()
        # Interned values: many units share a size and a set of obstacles, and
        # sharing one object between them keeps long-lived allocations (and so the
        # garbage collector's work) proportional to distinct cases, not to units.
        self._encounters: dict[tuple[str, str], Encounter] = {}
        self._encounter_lists: dict[tuple[Encounter, ...], tuple[Encounter, ...]] = {}
        self._demands: dict[Demand, Demand] = {}

    def run(self) -> Decisions:
        front: dict[str, list[str]] = defaultdict(list)
        for queue_name, unit, source in across_queues(self._sources()):
            admitted = self._place(unit, self.queues[queue_name])
            source.advance(admitted=admitted)
            if not admitted and len(front[queue_name]) < FRONT_OF_QUEUE_SIZE:
                front[queue_name].append(unit.id)
        self._explain_waits()
        return Decisions(
            admissions=tuple(self.admissions),
            waits=self.waits,
            compute_environments=self._plans(),
            front_of_queue={name: tuple(ids) for name, ids in front.items()},
        )

    # -- step 2: sources -------------------------------------------------------------

    def _sources(self) -> list[tuple[str, int, UnitSource]]:
        units_by_queue: dict[str, list[RunnableUnit]] = defaultdict(list)
        for unit in self.snapshot.runnable:
            units_by_queue[unit.queue].append(unit)
        admitted_by_queue: dict[str, list[AdmittedUnit]] = defaultdict(list)
        for running in self.snapshot.admitted:
            admitted_by_queue[running.queue].append(running)
        sources: list[tuple[str, int, UnitSource]] = []
        for queue_name in sorted(units_by_queue):
            units = units_by_queue[queue_name]
            queue = self.queues.get(queue_name)
            if queue is None:
                self._answer_now(
                    units,
                    WaitReason.JOB_QUEUE_NOT_FOUND,
                    f"job queue '{queue_name}' does not exist",
                )
            elif queue.scheduling_policy is None:
                sources.append((queue_name, queue.priority, FifoQueue(units=units)))
            elif (policy := self.policies.get(queue.scheduling_policy)) is None:
                self._answer_now(
                    units,
                    WaitReason.SCHEDULING_POLICY_NOT_FOUND,
                    f"scheduling policy '{queue.scheduling_policy}' of queue "
                    f"'{queue_name}' does not exist",
                )
            else:
                self._answer_now(
                    [unit for unit in units if unit.share_identifier is None],
                    WaitReason.SHARE_IDENTIFIER_MISSING,
                    f"queue '{queue_name}' has scheduling policy '{policy.name}', "
                    f"so its jobs need a shareIdentifier",
                )
                fair_share_queue = FairShareQueue(
                    queue_name=queue_name,
                    policy=policy,
                    units=[unit for unit in units if unit.share_identifier is not None],
                    admitted=admitted_by_queue.get(queue_name, ()),
                    share_usage=self.snapshot.share_usage,
                )
                self.fair_share[queue_name] = fair_share_queue
                sources.append((queue_name, queue.priority, fair_share_queue))
        return sources

    def _answer_now(self, units: list[RunnableUnit], reason: WaitReason, text: str) -> None:
        message = f"{reason.value}: {text}"
        for unit in sorted(units, key=fifo_order):
            self.waits[unit.id] = Wait(
                unit_id=unit.id, queue=unit.queue, reason=reason, message=message
            )

    # -- step 3 and 4: placement and holds ---------------------------------------------

    def _encounter(self, obstacle: str, compute_environment: str) -> Encounter:
        key = (obstacle, compute_environment)
        encounter = self._encounters.get(key)
        if encounter is None:
            encounter = self._encounters[key] = Encounter(obstacle, compute_environment)
        return encounter

    def _place(self, unit: RunnableUnit, queue: JobQueue) -> bool:
        demand = Demand(to_milli(unit.vcpus), unit.memory_mib, unit.gpus)
        demand = self._demands.setdefault(demand, demand)
        reservation = self._fair_share_reservation(unit, queue)
        encounters: list[Encounter] = []
        for name in queue.compute_environments:
            ledger = self.ledgers.get(name)
            if ledger is None:
                encounters.append(self._encounter(Obstacle.NOT_FOUND, name))
                continue
            misfit = ledger.misfit(demand)
            if misfit is not None:
                encounters.append(self._encounter(Obstacle.MISFIT, name))
            elif not ledger.accepting:
                disabled = ledger.spec.state is ComputeEnvironmentState.DISABLED
                encounters.append(
                    self._encounter(Obstacle.DISABLED if disabled else Obstacle.INVALID, name)
                )
            elif ledger.stall is not None:
                encounters.append(self._encounter(Obstacle.STALLED, name))
            elif ledger.hold is not None:
                encounters.append(self._encounter(Obstacle.HELD, name))
            elif not ledger.has_room(demand):
                encounters.append(self._encounter(Obstacle.FULL, name))
            elif reservation is not None and not ledger.has_room(
                demand,
                vcpu_ceiling_milli=ledger.max_vcpus_milli
                - reservation.reserved_milli(ledger.max_vcpus_milli),
            ):
                encounters.append(
                    Encounter(Obstacle.FAIR_SHARE_RESERVED, name, reservation=reservation)
                )
            else:
                ledger.admit(demand)
                self.admissions.append(
                    Admission(unit_id=unit.id, queue=queue.name, compute_environment=name)
                )
                return True
        met = tuple(encounters)
        self.waiting.add(
            unit=unit,
            demand=demand,
            encounters=self._encounter_lists.setdefault(met, met),
            holding=self._hold_if_starving(unit, encounters),
        )
        return False

    def _fair_share_reservation(
        self, unit: RunnableUnit, queue: JobQueue
    ) -> ComputeReservation | None:
        fair_share_queue = self.fair_share.get(queue.name)
        if fair_share_queue is None:
            return None
        return fair_share_queue.reservation_for(unit.share_identifier or "")

    def _hold_if_starving(self, unit: RunnableUnit, encounters: list[Encounter]) -> str | None:
        """Past its patience, a unit holds the first CE where only load stops it."""
        waited = self.now - unit.waiting_since
        if waited < self.patience:
            return None
        for encounter in encounters:
            if encounter.obstacle in _HOLDABLE:
                if encounter.obstacle == Obstacle.HELD:
                    return None
                name = encounter.compute_environment
                self.ledgers[name].hold = Hold(
                    unit_id=unit.id, queue=unit.queue, waited_seconds=waited
                )
                return name
        return None

    # -- step 5: explanations ------------------------------------------------------------

    def _explain_waits(self) -> None:
        explainer = WaitExplainer(ledgers=self.ledgers)
        over_fair_share = {
            name: queue.shares_over_fair_share() for name, queue in self.fair_share.items()
        }
        for unit, demand, encounters, holding in self.waiting:
            standing = None
            if unit.queue in over_fair_share:
                standing = over_fair_share[unit.queue].get(unit.share_identifier or "")
            reason, message = explainer.explain(
                queue_name=unit.queue,
                demand=demand,
                encounters=encounters,
                standing=standing,
                holding=holding,
                waited_seconds=self.now - unit.waiting_since,
            )
            self.waits[unit.id] = Wait(
                unit_id=unit.id, queue=unit.queue, reason=reason, message=message
            )

    def _plans(self) -> dict[str, ComputeEnvironmentPlan]:
        return {
            name: ComputeEnvironmentPlan(
                name=name,
                max_vcpus=ledger.spec.max_vcpus,
                used_vcpus=ledger.used_vcpus_milli / 1000,
                planned_vcpus=ledger.planned_vcpus_milli / 1000,
                used_memory_mib=ledger.used_memory_mib,
                planned_memory_mib=ledger.planned_memory_mib,
                used_gpus=ledger.used_gpus,
                planned_gpus=ledger.planned_gpus,
                admitted_units=ledger.admitted_units,
                held_for=ledger.hold.unit_id if ledger.hold is not None else None,
            )
            for name, ledger in sorted(self.ledgers.items())
        }
