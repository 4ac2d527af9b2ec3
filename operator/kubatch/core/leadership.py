"""Who leads: the decision a replica takes from a coordination.k8s.io Lease, as a pure function.

Why a Lease: two operators must never schedule at once (each would count capacity
without the other's admissions), yet a second replica should take over quickly when
the first dies. The leader renews the Lease every ``RENEW_SECONDS``; a follower takes it
over once it has not been renewed for ``LEASE_SECONDS``. After a leader is killed its
Lease expires within ``LEASE_SECONDS`` and a follower notices within ``RETRY_SECONDS``, so
the handover takes at most ``LEASE_SECONDS + RETRY_SECONDS`` plus one cache priming.

Fencing: a leader must stop acting *before* anyone may take its Lease over, whether the
API server was unreachable or the process itself was frozen (a SIGSTOP, a stalled VM).
So a leader may write only while its last successful renewal began less than
``RENEW_DEADLINE_SECONDS`` ago (``may_act``), measured on its own monotonic clock from
*before* the renewal request, hence never later than the ``renewTime`` it wrote. The
deadline is ``LEASE_SECONDS - RENEW_DEADLINE_SECONDS`` short of the Lease's expiry: the
margin that covers a write already on the wire and clock drift between replicas. A
leader past the deadline, or finding another holder, stops (the process exits and its
supervisor restarts it as a follower).
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass
from typing import Any

from kubatch.core.kubetime import epoch_millis, parse_time

LEASE_SECONDS = 15
RENEW_DEADLINE_SECONDS = 10
RENEW_SECONDS = 2
RETRY_SECONDS = 2


class Move(enum.Enum):
    CREATE = "create"        # no Lease yet: make one naming me
    RENEW = "renew"          # it names me: bump renewTime
    TAKE_OVER = "take-over"  # it names someone whose renewal is overdue (or no one)
    WAIT = "wait"            # someone else leads


@dataclass(frozen=True)
class Decision:
    move: Move
    holder: str | None = None


def decide(lease: dict[str, Any] | None, *, me: str, now_ms: int) -> Decision:
    """What ``me`` does about ``lease`` (None: there is none) at ``now_ms``."""
    if lease is None:
        return Decision(Move.CREATE)
    spec = lease.get("spec") or {}
    holder = spec.get("holderIdentity") or None
    if holder == me:
        return Decision(Move.RENEW, holder)
    renewed = parse_time(spec.get("renewTime") or spec.get("acquireTime"))
    duration_ms = int(spec.get("leaseDurationSeconds") or LEASE_SECONDS) * 1000
    if holder is None or renewed is None or now_ms - epoch_millis(renewed) > duration_ms:
        return Decision(Move.TAKE_OVER, holder)
    return Decision(Move.WAIT, holder)


def _micro_time(now_ms: int) -> str:
    moment = datetime.datetime.fromtimestamp(now_ms / 1000, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def lease_spec(lease: dict[str, Any] | None, *, move: Move, me: str, now_ms: int) -> dict[str, Any]:
    """The Lease spec after ``move`` (CREATE, RENEW or TAKE_OVER) by ``me``."""
    spec = dict((lease or {}).get("spec") or {})
    now = _micro_time(now_ms)
    if move is not Move.RENEW:
        spec["acquireTime"] = now
        spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (move is Move.TAKE_OVER)
    return {**spec, "holderIdentity": me, "leaseDurationSeconds": LEASE_SECONDS, "renewTime": now}


def released_spec(lease: dict[str, Any]) -> dict[str, Any]:
    """The Lease spec a leader leaves behind when it stops on purpose: free at once."""
    return {**(lease.get("spec") or {}), "holderIdentity": None, "renewTime": None}


def may_act(*, renewed_at: float | None, now: float) -> bool:
    """Whether a leader may still write at ``now``, its last successful renewal having begun at
    ``renewed_at`` (None: never); both in seconds of the leader's monotonic clock."""
    return renewed_at is not None and now - renewed_at < RENEW_DEADLINE_SECONDS
