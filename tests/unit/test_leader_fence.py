"""Leader fencing in the operator: no write without a fresh Lease renewal.

``LeaderElector`` against an in-memory Lease store, on a clock the test moves; the
``WriteLimiter`` asks the elector's fence after any wait, right before each write.
"""

from __future__ import annotations

import asyncio
import copy
import logging

import pytest

from kubatch.controller import leader
from kubatch.controller.leader import LOST_EXIT_CODE, LeaderElector
from kubatch.controller.ratelimit import WriteLimiter
from kubatch.core.leadership import RENEW_DEADLINE_SECONDS
from kubatch.kube.client import ApiError, NotFound


class Leases:
    """The Lease API: optimistic concurrency on resourceVersion, as the API server does it."""

    def __init__(self) -> None:
        self.lease: dict | None = None
        self.writes = 0

    async def get_lease(self, namespace: str, name: str) -> dict:
        if self.lease is None:
            raise NotFound(f"leases {name}")
        return copy.deepcopy(self.lease)

    async def create_lease(self, namespace: str, name: str, spec: dict) -> dict:
        self.writes += 1
        self.lease = {"metadata": {"name": name, "namespace": namespace, "resourceVersion": "1"}, "spec": spec}
        return copy.deepcopy(self.lease)

    async def replace_lease(self, lease: dict, spec: dict) -> dict:
        self.writes += 1
        if lease["metadata"]["resourceVersion"] != self.lease["metadata"]["resourceVersion"]:
            raise ApiError(409, "the object has been modified")
        version = str(int(self.lease["metadata"]["resourceVersion"]) + 1)
        self.lease = {"metadata": {**self.lease["metadata"], "resourceVersion": version}, "spec": spec}
        return copy.deepcopy(self.lease)


class Stopped(Exception):
    pass


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The elector's monotonic clock, set by the test; its os._exit raises Stopped instead."""
    now = [1000.0]
    monkeypatch.setattr(leader.time, "monotonic", lambda: now[0])

    def exit_(code: int) -> None:
        raise Stopped(code)
    monkeypatch.setattr(leader.os, "_exit", exit_)
    return now


def elector(leases: Leases) -> LeaderElector:
    return LeaderElector(kube=leases, namespace="ops", logger=logging.getLogger("test"), me="me")


async def test_a_leader_may_write_until_the_renew_deadline_then_stops(clock: list[float]) -> None:
    leases = Leases()
    me = elector(leases)
    with pytest.raises(Stopped):
        me.check_fresh()  # a replica that never led never writes
    await me.acquire()
    me.check_fresh()
    clock[0] += RENEW_DEADLINE_SECONDS - 0.5
    me.check_fresh()
    clock[0] += 0.5
    with pytest.raises(Stopped) as stopped:
        me.check_fresh()
    assert stopped.value.args == (LOST_EXIT_CODE,)


async def test_a_successful_renewal_counts_from_before_its_request(clock: list[float]) -> None:
    leases = Leases()
    me = elector(leases)
    await me.acquire()
    clock[0] += 5
    renewal_started = clock[0]
    original_get = leases.get_lease

    async def slow_get(namespace: str, name: str) -> dict:
        clock[0] += 3  # the read takes 3 s
        return await original_get(namespace, name)
    leases.get_lease = slow_get
    await me._try()
    clock[0] = renewal_started + RENEW_DEADLINE_SECONDS - 0.1
    me.check_fresh()
    clock[0] = renewal_started + RENEW_DEADLINE_SECONDS
    with pytest.raises(Stopped):
        me.check_fresh()


async def test_a_leader_thawed_past_its_deadline_does_not_even_renew(clock: list[float]) -> None:
    leases = Leases()
    me = elector(leases)
    await me.acquire()
    writes = leases.writes
    original_get = leases.get_lease

    async def frozen_during_the_read(namespace: str, name: str) -> dict:
        lease = await original_get(namespace, name)  # still names me
        clock[0] += 60
        return lease
    leases.get_lease = frozen_during_the_read
    with pytest.raises(Stopped):
        await me._try()
    assert leases.writes == writes


async def test_every_write_through_a_fenced_limiter_asks_the_fence_after_its_wait() -> None:
    limiter = WriteLimiter(rate=1000, burst=1)
    asked: list[str] = []
    limiter.fence(lambda: asked.append("fence"))
    await limiter.acquire()
    await limiter.acquire()  # this one waits for a token first
    await limiter.acquire_when_idle()
    assert asked == ["fence"] * 3

    def refuse() -> None:
        raise Stopped(LOST_EXIT_CODE)
    limiter.fence(refuse)
    with pytest.raises(Stopped):
        await limiter.acquire()


async def test_an_unfenced_limiter_lets_writes_through() -> None:
    limiter = WriteLimiter(rate=1000, burst=10)
    await asyncio.wait_for(limiter.acquire(), timeout=5)
