"""The operator's write budget: a token bucket, a pause when the API server says 429 Retry-After, and
writes that wait for the cycle's own."""

from __future__ import annotations

import asyncio

import pytest

from kubatch.controller.ratelimit import TokenBucket, WriteLimiter


def test_a_burst_goes_at_once_then_writes_are_spaced_at_the_rate() -> None:
    bucket = TokenBucket(rate=10, burst=3)
    assert [bucket.delay(0.0) for _ in range(3)] == [0, 0, 0]
    assert bucket.delay(0.0) == pytest.approx(0.1)
    assert bucket.delay(0.0) == pytest.approx(0.2)
    assert bucket.delay(1.0) == 0  # a second later the bucket has refilled


def test_the_bucket_never_holds_more_than_its_burst() -> None:
    bucket = TokenBucket(rate=10, burst=2)
    bucket.delay(0.0)
    assert [bucket.delay(3600.0) for _ in range(2)] == [0, 0]
    assert bucket.delay(3600.0) == pytest.approx(0.1)


def test_retry_after_holds_every_write_until_it_has_passed() -> None:
    bucket = TokenBucket(rate=100, burst=100)
    bucket.pause(10.0, 5.0)
    assert bucket.delay(11.0) == pytest.approx(4.0)
    bucket.pause(11.0, 1.0)  # a shorter answer does not cut the earlier pause
    assert bucket.delay(12.0) == pytest.approx(3.0)
    assert bucket.delay(15.0) == 0


async def test_writes_that_can_wait_go_only_while_no_cycle_applies_its_writes() -> None:
    limiter = WriteLimiter(rate=10_000, burst=10_000)
    waiting = None
    async with limiter.applying():
        waiting = asyncio.create_task(limiter.acquire_when_idle())
        await asyncio.sleep(0.02)
        assert not waiting.done()
        await limiter.acquire()  # the cycle's own writes are not held back
    await asyncio.wait_for(waiting, timeout=1)
