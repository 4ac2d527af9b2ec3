"""A job's Events are sent after the state change they report, never in its way.

Why: every transition writes the job's status and an Event. Sent together, Events were
half of the operator's writes, and a job's STARTING waited behind other jobs' "Runnable"
Events. Kubernetes treats Events as best effort (client-go's recorder drops them when
its queue is full) and the job's status is the record. So the loop hands Events to this
recorder, which stamps them with the moment they happened and sends them in the
background, under the loop's write limiter and only while no cycle is applying its
writes (``WriteLimiter.acquire_when_idle``). A full queue drops its oldest Event and
counts it (``kubatch_events_dropped_total``).
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import logging
from typing import Protocol

from kubatch import metrics
from kubatch.controller.ratelimit import WriteLimiter
from kubatch.core.actions import Emit
from kubatch.kinds import API_VERSION

QUEUE_CAPACITY = 5000
SENDERS = 4


class EventSink(Protocol):
    async def emit_event(self, *, regarding: dict, reason: str, note: str, type_: str, event_time: str) -> None: ...


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")


class EventRecorder:
    def __init__(self, *, sink: EventSink, limiter: WriteLimiter, logger: logging.Logger,
                 capacity: int = QUEUE_CAPACITY, senders: int = SENDERS) -> None:
        self._sink = sink
        self._limiter = limiter
        self._logger = logger
        self._queue: collections.deque[tuple[Emit, str]] = collections.deque(maxlen=capacity)
        self._queued = asyncio.Event()
        self._senders = senders

    def record(self, event: Emit) -> None:
        """Queue ``event``, stamped now; never waits."""
        if len(self._queue) == self._queue.maxlen:
            metrics.EVENTS_DROPPED.inc()
        self._queue.append((event, _now()))
        self._queued.set()

    async def run(self) -> None:
        await asyncio.gather(*(self._send_forever() for _ in range(self._senders)))

    async def _send_forever(self) -> None:
        while True:
            while not self._queue:
                self._queued.clear()
                await self._queued.wait()
            event, happened_at = self._queue.popleft()
            await self._limiter.acquire_when_idle()
            try:
                await self._sink.emit_event(
                    regarding={"apiVersion": API_VERSION, "kind": event.kind,
                               "metadata": {"name": event.name, "namespace": event.namespace, "uid": event.uid}},
                    reason=event.reason, note=event.message, type_=event.type, event_time=happened_at)
            except Exception as error:  # noqa: BLE001 - a lost Event must not stop the next one
                self._logger.warning("sending the %s Event of %s/%s failed: %r",
                                     event.reason, event.namespace, event.name, error)
