"""Bounded request rate towards the API server, and obedience to its 429 Retry-After.

Why: a burst of 10,000 array children must not turn into 10,000 writes in one second
(API Priority and Fairness would throttle everyone, other controllers included). Writes
take a token from a bucket refilled at ``rate`` per second up to ``burst`` (the operator's
``--api-qps`` and ``--api-burst``, 200 and 400 by default); when the
server answers 429 with ``Retry-After``, every write waits that long. The arithmetic is
``TokenBucket.delay``, a pure function of the time, so it is unit-tested without sleeping.

Writes that can wait (Events) take their token with ``acquire_when_idle``: only while no
cycle is applying its writes (``applying``), so that in a burst the API server spends
itself on moving jobs, and the Events follow when the burst is over.

Every write passes here last, after any wait, so this is also where leader fencing is
checked (``fence``: with leader election, ``LeaderElector.check_fresh``, which stops a
leader whose Lease renewal is stale before it writes).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

DEFAULT_WRITES_PER_SECOND = 200.0
DEFAULT_BURST = 400


@dataclass
class TokenBucket:
    rate: float
    burst: int
    tokens: float = field(init=False)
    updated: float = field(default=0.0)
    paused_until: float = 0.0

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def delay(self, now: float) -> float:
        """Take a token at ``now``; how long to wait before using it (0: at once)."""
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= 1
        wait = -self.tokens / self.rate if self.tokens < 0 else 0.0
        return max(wait, self.paused_until - now)

    def pause(self, now: float, seconds: float) -> None:
        """The server said 429, Retry-After ``seconds``: no write before then."""
        self.paused_until = max(self.paused_until, now + seconds)


class WriteLimiter:
    def __init__(self, *, rate: float = DEFAULT_WRITES_PER_SECOND, burst: int = DEFAULT_BURST) -> None:
        self._bucket = TokenBucket(rate=rate, burst=burst)
        self._applying = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._fence: Callable[[], None] = lambda: None

    def fence(self, check: Callable[[], None]) -> None:
        """Call ``check`` right before every write is let through (it stops what must not write)."""
        self._fence = check

    async def acquire(self) -> None:
        wait = self._bucket.delay(time.monotonic())
        if wait > 0:
            await asyncio.sleep(wait)
        self._fence()

    @contextlib.asynccontextmanager
    async def applying(self) -> AsyncIterator[None]:
        """Around a cycle's writes: writes that can wait hold back until it is over."""
        self._applying += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._applying -= 1
            if not self._applying:
                self._idle.set()

    async def acquire_when_idle(self) -> None:
        while self._applying:
            await self._idle.wait()
        await self.acquire()

    def retry_after(self, seconds: float) -> None:
        self._bucket.pause(time.monotonic(), seconds)
