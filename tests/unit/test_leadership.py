"""Who leads, from a Lease: create, renew, wait, take over once the holder's renewal is overdue; and a
leader acts only while its last renewal is fresh, so it has stopped before anyone may take over."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from kubatch.core.leadership import LEASE_SECONDS, RENEW_DEADLINE_SECONDS, RENEW_SECONDS, Move, decide, lease_spec, \
    may_act, released_spec
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


def test_the_renew_deadline_falls_before_the_lease_expires_and_leaves_room_for_retries() -> None:
    assert RENEW_DEADLINE_SECONDS < LEASE_SECONDS
    assert RENEW_DEADLINE_SECONDS >= 2 * RENEW_SECONDS  # one failed renewal does not cost the lead


@pytest.mark.parametrize(("renewed_at", "now", "acts"), [
    (None, 100.0, False),  # never took the Lease: never writes
    (100.0, 100.0, True),
    (100.0, 100.0 + RENEW_DEADLINE_SECONDS - 0.001, True),
    (100.0, 100.0 + RENEW_DEADLINE_SECONDS, False),  # at the deadline: stop
    (100.0, 100.0 + LEASE_SECONDS + 60, False),  # frozen for a minute, then thawed
])
def test_a_leader_acts_only_while_its_last_renewal_is_fresh(renewed_at: float | None, now: float, acts: bool) -> None:
    assert may_act(renewed_at=renewed_at, now=now) is acts


@given(renewal_started_ms=st.integers(0, 10**12), request_ms=st.integers(0, 5_000), later_ms=st.integers(0, 10**6),
       follower_ahead_ms=st.integers(0, (LEASE_SECONDS - RENEW_DEADLINE_SECONDS) * 1000 - 1))
def test_whenever_a_follower_may_take_over_the_old_leader_no_longer_acts(
        renewal_started_ms: int, request_ms: int, later_ms: int, follower_ahead_ms: int) -> None:
    """The leader counts from before its renewal request; the Lease says the (later) moment the spec was
    made; a follower reads it on a clock up to the margin ahead. Whenever the follower may take over,
    the leader's fence is already shut."""
    renew_time_ms = renewal_started_ms + request_ms
    written = {"spec": lease_spec(None, move=Move.CREATE, me="old", now_ms=renew_time_ms)}
    leader_now_ms = renew_time_ms + later_ms
    if decide(written, me="new", now_ms=leader_now_ms + follower_ahead_ms).move is Move.TAKE_OVER:
        assert not may_act(renewed_at=renewal_started_ms / 1000, now=leader_now_ms / 1000)
