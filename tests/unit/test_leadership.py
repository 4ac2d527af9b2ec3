"""Who leads, from a Lease: create, renew, wait, take over once the holder's renewal is overdue."""

from __future__ import annotations

import pytest

from kubatch.core.leadership import LEASE_SECONDS, Move, decide, lease_spec, released_spec
from kubatch.core.kubetime import epoch_millis, parse_time

NOW_MS = 1_700_000_000_000


def lease(holder: str | None, *, renewed_ms_ago: int | None, transitions: int = 0) -> dict:
    spec = {"holderIdentity": holder, "leaseDurationSeconds": LEASE_SECONDS, "leaseTransitions": transitions}
    if renewed_ms_ago is not None:
        spec["renewTime"] = lease_spec(None, move=Move.CREATE, me="x", now_ms=NOW_MS - renewed_ms_ago)["renewTime"]
    return {"metadata": {"name": "kubatch-operator", "namespace": "ops", "resourceVersion": "7"}, "spec": spec}


@pytest.mark.parametrize(("current", "move"), [
    (None, Move.CREATE),
    (lease("me", renewed_ms_ago=1_000), Move.RENEW),
    (lease("me", renewed_ms_ago=60_000), Move.RENEW),  # still mine: renew, whatever the time
    (lease("other", renewed_ms_ago=1_000), Move.WAIT),
    (lease("other", renewed_ms_ago=LEASE_SECONDS * 1000), Move.WAIT),  # exactly at expiry: not yet
    (lease("other", renewed_ms_ago=LEASE_SECONDS * 1000 + 1), Move.TAKE_OVER),
    (lease(None, renewed_ms_ago=None), Move.TAKE_OVER),  # released on a clean shutdown
    (lease("other", renewed_ms_ago=None), Move.TAKE_OVER),  # never renewed: nothing to honour
])
def test_the_move_of_a_replica(current: dict | None, move: Move) -> None:
    assert decide(current, me="me", now_ms=NOW_MS).move is move


def test_taking_over_counts_a_transition_and_renewing_keeps_the_acquire_time() -> None:
    taken = lease_spec(lease("other", renewed_ms_ago=99_000, transitions=2), move=Move.TAKE_OVER, me="me",
                       now_ms=NOW_MS)
    assert (taken["holderIdentity"], taken["leaseTransitions"], taken["leaseDurationSeconds"]) == ("me", 3,
                                                                                                   LEASE_SECONDS)
    assert epoch_millis(parse_time(taken["renewTime"])) == NOW_MS == epoch_millis(parse_time(taken["acquireTime"]))
    renewed = lease_spec({"spec": taken}, move=Move.RENEW, me="me", now_ms=NOW_MS + 5_000)
    assert (renewed["acquireTime"], renewed["leaseTransitions"]) == (taken["acquireTime"], 3)
    assert epoch_millis(parse_time(renewed["renewTime"])) == NOW_MS + 5_000
    assert lease_spec(None, move=Move.CREATE, me="me", now_ms=NOW_MS)["leaseTransitions"] == 0


def test_a_released_lease_is_free_at_once() -> None:
    mine = {"metadata": {}, "spec": lease_spec(None, move=Move.CREATE, me="me", now_ms=NOW_MS)}
    freed = {"spec": released_spec(mine)}
    assert decide(freed, me="other", now_ms=NOW_MS + 1).move is Move.TAKE_OVER
