"""One scheduling cycle: `schedule(snapshot) -> Decisions`, pure and deterministic.

1. Count what already holds capacity in each compute environment, and note the CEs
   whose pods the cluster has failed to place for longer than the grace period.
2. Group the RUNNABLE units by queue (FIFO, or a fair-share source); units that no
   cycle could place (unknown queue, missing policy or share identifier) are
   answered at once.
3. Walk all units in global order (`ordering.walk_in_order`): each goes to the first
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
O(n log n) in the number of RUNNABLE units. Most units of a large backlog wait, and
they wait for the same few reasons: what a unit meets depends only on its queue,
its size, its share's computeReservation and the state of the queue's CEs. So a
queue remembers the `_Case` its last waiting unit of each size met, until an
admission or a hold changes one of its CEs; a waiting unit then costs one lookup,
and its message is written once per case, not once per unit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from operator import attrgetter, itemgetter

from .capacity import ComputeEnvironmentLedger, Demand, Hold, Stall, to_milli
from .decisions import FRONT_OF_QUEUE_SIZE, Admission, ComputeEnvironmentPlan, Decisions, Wait, WaitReason
from .explain import Encounter, Obstacle, WaitExplainer
from .fairshare import ComputeReservation, FairShareQueue
from .ordering import fifo_order, walk_in_order
from .snapshot import (
    AdmittedUnit,
    ComputeEnvironmentState,
    JobQueue,
    RunnableUnit,
    Snapshot,
)

_HOLDABLE = (Obstacle.HELD, Obstacle.FULL, Obstacle.FAIR_SHARE_RESERVED)
_QUEUE_NAME = attrgetter("queue_name")


def schedule(snapshot: Snapshot) -> Decisions:
    """Decide which RUNNABLE units start now, where, and why the others wait."""
    return _Cycle(snapshot).run()


class _Case:
    """What a unit of `queue_name` asking for `demand` met in the queue's CEs, and the
    CE a starving unit in this case holds: the first CE where only load stops it, or
    None when that CE is already held or there is no such CE. In a fair-share queue
    the case is also per share, as the share's standing is part of the explanation."""

    __slots__ = ("queue_name", "demand", "encounters", "share_identifier", "hold_target")

    def __init__(
        self,
        *,
        queue_name: str,
        demand: Demand,
        encounters: tuple[Encounter, ...],
        share_identifier: str | None,
    ) -> None:
        self.queue_name = queue_name
        self.demand = demand
        self.encounters = encounters
        self.share_identifier = share_identifier
        self.hold_target: str | None = None
        for encounter in encounters:
            if encounter.obstacle in _HOLDABLE:
                if encounter.obstacle != Obstacle.HELD:
                    self.hold_target = encounter.compute_environment
                break


_Shape = tuple[float, int, int, ComputeReservation | None, str | None]
"""(vCPUs, memory, GPUs, reservation, fair share): what decides a waiting unit's case."""


class _Queue:
    """A queue whose units are being placed (an `ordering.WalkedQueue`).

    `misses` maps a unit's shape to the case the last unit of that shape met when it
    did not fit, and the queue's `version` then. The version counts admissions and
    holds in the queue's CEs; while it is unchanged, so is the case.
    """

    __slots__ = (
        "name",
        "priority",
        "fifo_units",
        "fair_share",
        "targets",
        "version",
        "misses",
        "front",
    )

    def __init__(
        self,
        *,
        spec: JobQueue,
        ledgers: dict[str, ComputeEnvironmentLedger],
        fifo_units: list[RunnableUnit],
        fair_share: FairShareQueue | None,
    ) -> None:
        self.name = spec.name
        self.priority = spec.priority
        self.fifo_units = fifo_units
        self.fair_share = fair_share
        self.targets = tuple((name, ledgers.get(name)) for name in spec.compute_environments)
        self.version = 0
        self.misses: dict[_Shape, tuple[int, _Case]] = {}
        self.front: list[str] = []


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


def _reject_duplicate_ids(units: Collection[RunnableUnit]) -> None:
    if len({unit.id for unit in units}) == len(units):
        return
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
        self.front: dict[str, list[str]] = {}
        # Units not admitted, to be explained once the cycle is over, as parallel
        # columns: a record per unit would be a long-lived allocation that makes the
        # garbage collector rescan the whole snapshot.
        self.waiting_ids: list[str] = []
        self.waiting_cases: list[_Case] = []
        # The few waiting units that hold a CE, with it.
        self.holders: list[tuple[RunnableUnit, _Case, str]] = []
        # The queues whose `version` an admission or a hold in a CE changes.
        self.watchers: dict[str, list[_Queue]] = defaultdict(list)
        # Interned values, so that long-lived allocations (and the garbage
        # collector's work) grow with distinct cases, not with units.
        self._encounters: dict[tuple[str, str], Encounter] = {}
        self._cases: dict[tuple[str, Demand, tuple[Encounter, ...], str | None], _Case] = {}
        self._demands: dict[tuple[float, int, int], Demand] = {}

    def run(self) -> Decisions:
        walk_in_order(self._queues(), self._place)
        self._explain_waits()
        return Decisions(
            admissions=tuple(self.admissions),
            waits=self.waits,
            compute_environments=self._plans(),
            front_of_queue={name: tuple(ids) for name, ids in self.front.items()},
        )

    # -- step 2: queues ----------------------------------------------------------------

    def _queues(self) -> list[_Queue]:
        units_by_queue: dict[str, list[RunnableUnit]] = defaultdict(list)
        for unit in self.snapshot.runnable:
            units_by_queue[unit.queue].append(unit)
        admitted_by_queue: dict[str, list[AdmittedUnit]] = defaultdict(list)
        for running in self.snapshot.admitted:
            admitted_by_queue[running.queue].append(running)
        queues: list[_Queue] = []
        for queue_name in sorted(units_by_queue):
            units = units_by_queue[queue_name]
            queue = self.queues.get(queue_name)
            fair_share_queue = None
            if queue is None:
                self._answer_now(
                    units,
                    WaitReason.JOB_QUEUE_NOT_FOUND,
                    f"job queue '{queue_name}' does not exist",
                )
                continue
            if queue.scheduling_policy is not None:
                policy = self.policies.get(queue.scheduling_policy)
                if policy is None:
                    self._answer_now(
                        units,
                        WaitReason.SCHEDULING_POLICY_NOT_FOUND,
                        f"scheduling policy '{queue.scheduling_policy}' of queue "
                        f"'{queue_name}' does not exist",
                    )
                    continue
                self._answer_now(
                    [unit for unit in units if unit.share_identifier is None],
                    WaitReason.SHARE_IDENTIFIER_MISSING,
                    f"queue '{queue_name}' has scheduling policy '{policy.name}', "
                    f"so its jobs need a shareIdentifier",
                )
                fair_share_queue = self.fair_share[queue_name] = FairShareQueue(
                    queue_name=queue_name,
                    policy=policy,
                    units=[unit for unit in units if unit.share_identifier is not None],
                    admitted=admitted_by_queue.get(queue_name, ()),
                    share_usage=self.snapshot.share_usage,
                )
            placing = _Queue(
                spec=queue,
                ledgers=self.ledgers,
                fifo_units=units if fair_share_queue is None else [],
                fair_share=fair_share_queue,
            )
            for name in set(queue.compute_environments):
                self.watchers[name].append(placing)
            queues.append(placing)
        return queues

    def _answer_now(self, units: list[RunnableUnit], reason: WaitReason, text: str) -> None:
        message = f"{reason.value}: {text}"
        for unit in sorted(units, key=fifo_order):
            self.waits[unit.id] = Wait(
                unit_id=unit.id, queue=unit.queue, reason=reason, message=message
            )

    # -- step 3 and 4: placement and holds ---------------------------------------------

    def _place(self, queue: _Queue, unit: RunnableUnit) -> bool:
        share = reservation = None
        if queue.fair_share is not None:
            share = unit.share_identifier
            reservation = queue.fair_share.reservation_for(share or "")
        shape = (unit.vcpus, unit.memory_mib, unit.gpus, reservation, share)
        miss = queue.misses.get(shape)
        if miss is not None and miss[0] == queue.version:
            case = miss[1]
        else:
            met = self._admit_or_meet(queue, unit, reservation, share)
            if met is None:
                return True
            case = met
            queue.misses[shape] = (queue.version, case)
        if case.hold_target is not None:
            waited = self.now - unit.waiting_since
            if waited >= self.patience:
                self.ledgers[case.hold_target].hold = Hold(unit_id=unit.id, queue=unit.queue)
                self._changed(case.hold_target)
                self.holders.append((unit, case, case.hold_target))
        self.waiting_ids.append(unit.id)
        self.waiting_cases.append(case)
        if len(queue.front) < FRONT_OF_QUEUE_SIZE:
            self.front.setdefault(queue.name, queue.front).append(unit.id)
        return False

    def _admit_or_meet(
        self,
        queue: _Queue,
        unit: RunnableUnit,
        reservation: ComputeReservation | None,
        share: str | None,
    ) -> _Case | None:
        """Admit the unit to the first CE of its queue that takes it and return None,
        or return the case it met."""
        demand = self._demand(unit)
        encounters: list[Encounter] = []
        for name, ledger in queue.targets:
            if ledger is None:
                encounters.append(self._encounter(Obstacle.NOT_FOUND, name))
            elif ledger.misfit(demand) is not None:
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
                self._changed(name)
                self.admissions.append(
                    Admission(unit_id=unit.id, queue=queue.name, compute_environment=name)
                )
                return None
        key = (queue.name, demand, tuple(encounters), share)
        case = self._cases.get(key)
        if case is None:
            case = self._cases[key] = _Case(
                queue_name=queue.name, demand=demand, encounters=key[2], share_identifier=share
            )
        return case

    def _demand(self, unit: RunnableUnit) -> Demand:
        key = (unit.vcpus, unit.memory_mib, unit.gpus)
        demand = self._demands.get(key)
        if demand is None:
            demand = self._demands[key] = Demand(to_milli(unit.vcpus), unit.memory_mib, unit.gpus)
        return demand

    def _encounter(self, obstacle: str, compute_environment: str) -> Encounter:
        key = (obstacle, compute_environment)
        encounter = self._encounters.get(key)
        if encounter is None:
            encounter = self._encounters[key] = Encounter(obstacle, compute_environment)
        return encounter

    def _changed(self, compute_environment: str) -> None:
        """An admission or a hold changed the CE: the cases its queues remember are stale."""
        for queue in self.watchers[compute_environment]:
            queue.version += 1

    # -- step 5: explanations ------------------------------------------------------------

    def _explain_waits(self) -> None:
        explainer = WaitExplainer(ledgers=self.ledgers)
        over_fair_share = {
            name: queue.shares_over_fair_share() for name, queue in self.fair_share.items()
        }

        def explain(case: _Case, *, holding: str | None = None) -> tuple[WaitReason, str]:
            standing = None
            if case.queue_name in over_fair_share:
                standing = over_fair_share[case.queue_name].get(case.share_identifier or "")
            return explainer.explain(
                queue_name=case.queue_name,
                demand=case.demand,
                encounters=case.encounters,
                standing=standing,
                holding=holding,
            )

        # Short of a hold, a wait depends only on the unit's case: explain each case
        # once, then build the waits column by column.
        cases = self.waiting_cases
        explained = {case: explain(case) for case in dict.fromkeys(cases)}
        explanations = list(map(explained.__getitem__, cases))
        self.waits.update(
            zip(
                self.waiting_ids,
                map(
                    Wait,
                    self.waiting_ids,
                    map(_QUEUE_NAME, cases),
                    map(itemgetter(0), explanations),
                    map(itemgetter(1), explanations),
                ),
                strict=True,
            )
        )
        for unit, case, holding in self.holders:
            reason, message = explain(case, holding=holding)
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
