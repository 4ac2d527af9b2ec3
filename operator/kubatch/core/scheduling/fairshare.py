"""Fair share, as AWS Batch defines it for a queue with a scheduling policy.

- Each share identifier has a weightFactor (policy entry, a `prefix*` entry, or 1.0).
  A *lower* weight means a *larger* share: weight 0.5 gets twice what weight 1 gets.
- Usage is vCPU-seconds × weightFactor, decayed with a half-life of
  shareDecaySeconds (0 means AWS's minimum, 600 s): usage that is shareDecaySeconds
  old counts half. `advance_share_usage` is the pure update the controller runs on
  every tick; its result goes into the next snapshot.
- The next unit of a fair-share queue comes from the share with the lowest
  *pressure*: its decayed usage expressed as a rate (weighted vCPUs averaged over
  the decay window) plus weight × vCPUs it holds now, including what this cycle
  already gave it. The instantaneous term spreads one cycle's admissions across
  shares; the history term remembers who had the capacity before. When both shares
  are always busy they settle where weight × vCPUs is equal, i.e. vCPUs in
  proportion to 1/weight.
- Within a share: higher schedulingPriority first, then FIFO.
- computeReservation (0-99) keeps (computeReservation/100)^ActiveFairShares of each
  compute environment's maxvCpus free for share identifiers with no running job;
  only units of *active* shares (those with running jobs in the queue) are held back.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter

from .capacity import to_milli
from .ordering import fifo_order, sort_by_age
from .snapshot import (
    DEFAULT_SHARE_WEIGHT,
    AdmittedUnit,
    RunnableUnit,
    SchedulingPolicy,
    ShareKey,
    Snapshot,
)

NEGLIGIBLE_USAGE = 1e-3
"""Usage (weighted vCPU-seconds) below which a share with nothing running is forgotten."""


@dataclass(frozen=True, slots=True)
class FairShareStanding:
    """A share over its fair share: what it holds, the queue's total, and what its
    weight entitles it to, in milli-vCPUs."""

    share_identifier: str
    held_milli: int
    total_milli: int
    entitled_milli: int


class ShareWeights:
    """weightFactor lookup: exact identifier, else the longest matching `prefix*`,
    else AWS's default 1.0. Results are memoised: a cycle asks once per share."""

    def __init__(self, policy: SchedulingPolicy) -> None:
        self._exact: dict[str, float] = {}
        prefixes: list[tuple[str, float]] = []
        for entry in policy.share_distribution:
            if entry.share_identifier.endswith("*"):
                prefixes.append((entry.share_identifier[:-1], entry.weight_factor))
            else:
                self._exact[entry.share_identifier] = entry.weight_factor
        self._prefixes = sorted(prefixes, key=lambda item: (-len(item[0]), item[0]))
        self._resolved: dict[str, float] = {}

    def weight_of(self, share_identifier: str) -> float:
        weight = self._resolved.get(share_identifier)
        if weight is None:
            weight = self._exact.get(share_identifier)
            if weight is None:
                weight = next(
                    (w for prefix, w in self._prefixes if share_identifier.startswith(prefix)),
                    DEFAULT_SHARE_WEIGHT,
                )
            self._resolved[share_identifier] = weight
        return weight


@dataclass(frozen=True, slots=True)
class ComputeReservation:
    """AWS: (computeReservation/100)^ActiveFairShares of maxvCpus stays free for
    share identifiers that have no running job."""

    compute_reservation: int
    active_shares: int

    def reserved_milli(self, max_vcpus_milli: int) -> int:
        fraction = (self.compute_reservation / 100) ** self.active_shares
        return math.floor(max_vcpus_milli * fraction)


def decay_share_usage(*, usage: float, elapsed_seconds: float, share_decay_seconds: float) -> float:
    """Usage after `elapsed_seconds` with nothing running: halves every half-life."""
    return usage * 0.5 ** (elapsed_seconds / share_decay_seconds)


def accrued_share_usage(
    *, weighted_vcpus: float, running_seconds: float, share_decay_seconds: float
) -> float:
    """Decayed usage, at the end of the interval, of `weighted_vcpus` that ran for the
    last `running_seconds`: the integral of weighted_vcpus × 0.5^(age/half-life)."""
    mean_lifetime = share_decay_seconds / math.log(2)
    return weighted_vcpus * mean_lifetime * (1 - 0.5 ** (running_seconds / share_decay_seconds))


def usage_rate(*, usage: float, share_decay_seconds: float) -> float:
    """Usage as weighted vCPUs: a share that held v vCPUs forever has rate weight × v."""
    return usage * math.log(2) / share_decay_seconds


def advance_share_usage(*, snapshot: Snapshot, since: float) -> dict[ShareKey, float]:
    """The share usage at `snapshot.now`, from the usage at `since` (the snapshot's
    `share_usage`) and the units that ran in between (`snapshot.admitted`, each from
    the later of `since` and its `started_at`). Queues without a scheduling policy
    keep no usage; negligible entries of idle shares are dropped."""
    elapsed = max(snapshot.now - since, 0.0)
    policies = {policy.name: policy for policy in snapshot.scheduling_policies}
    fair_share_queues = {
        queue.name: policies[queue.scheduling_policy]
        for queue in snapshot.job_queues
        if queue.scheduling_policy in policies
    }
    weights = {name: ShareWeights(policy) for name, policy in fair_share_queues.items()}
    advanced: dict[ShareKey, float] = {}
    for (queue_name, share_identifier), usage in snapshot.share_usage.items():
        policy = fair_share_queues.get(queue_name)
        if policy is not None:
            advanced[(queue_name, share_identifier)] = decay_share_usage(
                usage=usage,
                elapsed_seconds=elapsed,
                share_decay_seconds=policy.effective_decay_seconds,
            )
    running: set[ShareKey] = set()
    for unit in snapshot.admitted:
        policy = fair_share_queues.get(unit.queue)
        if policy is None or unit.share_identifier is None:
            continue
        key = (unit.queue, unit.share_identifier)
        running.add(key)
        advanced[key] = advanced.get(key, 0.0) + accrued_share_usage(
            weighted_vcpus=unit.vcpus * weights[unit.queue].weight_of(unit.share_identifier),
            running_seconds=min(elapsed, max(snapshot.now - unit.started_at, 0.0)),
            share_decay_seconds=policy.effective_decay_seconds,
        )
    return {
        key: usage
        for key, usage in sorted(advanced.items())
        if usage >= NEGLIGIBLE_USAGE or key in running
    }


class _Share:
    """One share identifier's state during a cycle."""

    __slots__ = (
        "identifier",
        "weight",
        "history_rate",
        "held_milli",
        "running",
        "waiting",
        "units",
        "next",
    )

    def __init__(self, *, identifier: str, weight: float, history_rate: float) -> None:
        self.identifier = identifier
        self.weight = weight
        self.history_rate = history_rate
        self.held_milli = 0
        self.running = 0
        self.waiting = 0
        self.units: list[RunnableUnit] = []
        self.next = 0

    @property
    def pressure(self) -> float:
        return self.history_rate + self.weight * self.held_milli / 1000


_SCHEDULING_PRIORITY = attrgetter("scheduling_priority")


def _sort_within_share(units: list[RunnableUnit]) -> None:
    """Higher schedulingPriority first, then FIFO (a stable sort keeps FIFO order
    among units of equal priority)."""
    sort_by_age(units, key=fifo_order)
    units.sort(key=_SCHEDULING_PRIORITY, reverse=True)


class FairShareQueue:
    """The RUNNABLE units of one fair-share queue, handed out lowest pressure first.

    `peek()` is the next unit; `advance(admitted=...)` moves past it, charging its
    share when it was admitted (which may hand the turn to another share).
    """

    def __init__(
        self,
        *,
        queue_name: str,
        policy: SchedulingPolicy,
        units: Iterable[RunnableUnit],
        admitted: Iterable[AdmittedUnit],
        share_usage: Mapping[ShareKey, float],
    ) -> None:
        self.queue_name = queue_name
        self.policy = policy
        self._weights = ShareWeights(policy)
        self._shares: dict[str, _Share] = {}
        for unit in admitted:
            share = self._share(unit.share_identifier or "", share_usage)
            share.held_milli += to_milli(unit.vcpus)
            share.running += 1
        self.active_shares = sum(1 for share in self._shares.values() if share.running)
        self._reservations: dict[int, ComputeReservation] = {}
        for unit in units:
            self._share(unit.share_identifier or "", share_usage).units.append(unit)
        # (pressure, identifier, share): identifiers are unique, so the share itself
        # is never compared; carrying it saves a lookup per unit.
        self._heap: list[tuple[float, str, _Share]] = []
        for share in self._shares.values():
            if share.units:
                _sort_within_share(share.units)
                self._heap.append((share.pressure, share.identifier, share))
        heapq.heapify(self._heap)

    def _share(self, identifier: str, share_usage: Mapping[ShareKey, float]) -> _Share:
        share = self._shares.get(identifier)
        if share is None:
            share = _Share(
                identifier=identifier,
                weight=self._weights.weight_of(identifier),
                history_rate=usage_rate(
                    usage=share_usage.get((self.queue_name, identifier), 0.0),
                    share_decay_seconds=self.policy.effective_decay_seconds,
                ),
            )
            self._shares[identifier] = share
        return share

    def peek(self) -> RunnableUnit | None:
        if not self._heap:
            return None
        share = self._heap[0][2]
        return share.units[share.next]

    def advance(self, *, admitted: bool) -> None:
        share = self._heap[0][2]
        unit = share.units[share.next]
        share.next += 1
        if admitted:
            share.held_milli += to_milli(unit.vcpus)
            share.running += 1
            if share.running == 1:
                self.active_shares += 1
        else:
            share.waiting += 1
        if share.next == len(share.units):
            heapq.heappop(self._heap)
        elif admitted:
            heapq.heapreplace(self._heap, (share.pressure, share.identifier, share))

    def reservation_for(self, share_identifier: str) -> ComputeReservation | None:
        """The reservation a unit of this share must leave free, if any: only shares
        with running jobs are held back."""
        share = self._shares.get(share_identifier)
        if not self.policy.compute_reservation or share is None or not share.running:
            return None
        reservation = self._reservations.get(self.active_shares)
        if reservation is None:
            reservation = self._reservations[self.active_shares] = ComputeReservation(
                compute_reservation=self.policy.compute_reservation,
                active_shares=self.active_shares,
            )
        return reservation

    def shares_over_fair_share(self) -> dict[str, FairShareStanding]:
        """The shares holding more than their weight entitles them to, among the
        shares that hold or wait for capacity. Meaningful once every unit has been
        handed out."""
        contenders = [s for s in self._shares.values() if s.held_milli or s.waiting]
        if len(contenders) < 2:
            return {}
        total = sum(s.held_milli for s in contenders)
        inverse_weights = sum(1 / s.weight for s in contenders)
        over: dict[str, FairShareStanding] = {}
        for share in contenders:
            entitled = round(total / share.weight / inverse_weights)
            if share.held_milli > entitled:
                over[share.identifier] = FairShareStanding(
                    share_identifier=share.identifier,
                    held_milli=share.held_milli,
                    total_milli=total,
                    entitled_milli=entitled,
                )
        return over
