"""Leader election over a Lease: only the replica holding it runs the reconcile loop and writes.

Why here and not in kopf: kopf's peering picks a winner by priority, not by a lease
with expiry, and pauses every handler; kubatch wants every replica's watch cache warm
(so a follower takes over in seconds) and only the loop gated. The decisions are
``kubatch.core.leadership``'s; this module reads and writes the Lease, remembers when the
last successful renewal began, and fences: ``check_fresh`` runs before every write the
operator makes (the ``WriteLimiter`` calls it) and before every renewal, and stops the
process once that renewal is older than the renew deadline, so a leader that was frozen
or cut off never writes after a follower may have taken over.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time

from kubatch.core.leadership import RENEW_DEADLINE_SECONDS, RENEW_SECONDS, RETRY_SECONDS, Move, decide, \
    lease_spec, may_act, released_spec
from kubatch.kube.client import ApiError, Kube, NotFound

LEASE_NAME = "kubatch-operator"
LOST_EXIT_CODE = 71


def identity() -> str:
    """This replica's name in the Lease: the pod's name (its hostname) and the process id."""
    return f"{socket.gethostname()}_{os.getpid()}"


def _now_ms() -> int:
    return int(time.time() * 1000)


class LeaderElector:
    def __init__(self, *, kube: Kube, namespace: str, logger: logging.Logger, me: str | None = None) -> None:
        self._kube = kube
        self._namespace = namespace
        self._logger = logger
        self.me = me or identity()
        self._renewed_at: float | None = None  # monotonic start of the last successful take or renewal

    async def _read(self) -> dict | None:
        try:
            return await self._kube.get_lease(self._namespace, LEASE_NAME)
        except NotFound:
            return None

    async def _try(self) -> Move:
        """One attempt to take or keep the Lease; the move made (WAIT: someone else leads)."""
        started = time.monotonic()
        lease = await self._read()
        decision = decide(lease, me=self.me, now_ms=_now_ms())
        if decision.move is Move.WAIT:
            return Move.WAIT
        if self._renewed_at is not None:
            self.check_fresh()  # frozen while reading: the Lease may be someone else's by now
        spec = lease_spec(lease, move=decision.move, me=self.me, now_ms=_now_ms())
        if lease is None:
            await self._kube.create_lease(self._namespace, LEASE_NAME, spec)
        else:
            await self._kube.replace_lease(lease, spec)
        self._renewed_at = started
        if decision.move is Move.TAKE_OVER:
            self._logger.warning("took over Lease %s/%s from %s", self._namespace, LEASE_NAME, decision.holder)
        return decision.move

    async def acquire(self) -> None:
        """Return once this replica leads; until then, follow (the watch cache stays warm)."""
        waiting_logged = False
        while True:
            try:
                if await self._try() is not Move.WAIT:
                    self._logger.info("leading: Lease %s/%s is mine (%s)", self._namespace, LEASE_NAME, self.me)
                    return
                if not waiting_logged:
                    self._logger.info("following: another replica holds Lease %s/%s", self._namespace, LEASE_NAME)
                    waiting_logged = True
            except ApiError as error:  # 409: another replica moved first; anything else: try again
                self._logger.debug("lease attempt failed: %s", error)
            await asyncio.sleep(RETRY_SECONDS)

    async def keep(self) -> None:
        """Renew until leadership is lost; then exit the process rather than act as a follower."""
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            self.check_fresh()
            try:
                move = await self._try()
            except ApiError as error:
                self._logger.warning("renewing Lease %s/%s failed: %s", self._namespace, LEASE_NAME, error)
                move = None
            if move is Move.WAIT:
                self._lost("another replica holds the Lease")
            self.check_fresh()

    def check_fresh(self) -> None:
        """The fence, before every write: exit unless the last renewal began within the renew deadline."""
        if not may_act(renewed_at=self._renewed_at, now=time.monotonic()):
            age = "never" if self._renewed_at is None else f"{time.monotonic() - self._renewed_at:.1f} s ago"
            self._lost(f"the last renewal of the Lease began {age}, over the {RENEW_DEADLINE_SECONDS} s renew deadline")

    def _lost(self, why: str) -> None:
        self._logger.critical("leadership lost (%s); exiting so that only the new leader acts", why)
        os._exit(LOST_EXIT_CODE)

    async def release(self) -> None:
        """Give the Lease up on a clean shutdown, so a follower takes over at once."""
        lease = await self._read()
        if lease is not None and (lease.get("spec") or {}).get("holderIdentity") == self.me:
            await self._kube.replace_lease(lease, released_spec(lease))
