"""The Event recorder: Events leave in order, stamped when they happened, and never block or stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import REGISTRY

from kubatch.controller.events import EventRecorder
from kubatch.controller.ratelimit import WriteLimiter
from kubatch.core.actions import Emit


class RecordingSink:
    """Keeps what would have been sent; fails the sends named in ``failing``."""

    def __init__(self, *, failing: tuple[str, ...] = ()) -> None:
        self.sent: list[dict] = []
        self.failing = failing

    async def emit_event(self, *, regarding: dict, reason: str, note: str, type_: str, event_time: str) -> None:
        if regarding["metadata"]["name"] in self.failing:
            raise ConnectionResetError("the connection dropped")
        self.sent.append({"name": regarding["metadata"]["name"], "reason": reason, "note": note,
                          "type": type_, "at": event_time})


def event(name: str, reason: str = "Runnable") -> Emit:
    return Emit("BatchJob", "team-a", name, f"uid-{name}", reason, f"{name} is {reason}", "Normal")


def dropped() -> float:
    return REGISTRY.get_sample_value("kubatch_events_dropped_total") or 0.0


def recorder(sink: RecordingSink, *, capacity: int = 100, senders: int = 1) -> EventRecorder:
    return EventRecorder(sink=sink, limiter=WriteLimiter(rate=10_000, burst=10_000),
                         logger=logging.getLogger("test"), capacity=capacity, senders=senders)


async def sent_after(events: EventRecorder, sink: RecordingSink, *, count: int,
                     meanwhile: Callable[[], Awaitable[None]] | None = None) -> list[dict]:
    """What the senders sent once ``count`` Events left (or a second passed); ``meanwhile`` runs
    after the senders have started."""
    sending = asyncio.create_task(events.run())
    try:
        if meanwhile is not None:
            await meanwhile()
        for _ in range(200):
            if len(sink.sent) >= count:
                break
            await asyncio.sleep(0.005)
    finally:
        sending.cancel()
    return sink.sent


async def test_events_are_sent_in_order_with_the_time_they_were_recorded() -> None:
    sink = RecordingSink()
    events = recorder(sink)
    events.record(event("a", "Runnable"))
    events.record(event("a", "Starting"))
    await asyncio.sleep(0.02)  # recorded well before they are sent
    events.record(event("b", "Failed"))
    sent = await sent_after(events, sink, count=3)
    assert [(e["name"], e["reason"]) for e in sent] == [("a", "Runnable"), ("a", "Starting"), ("b", "Failed")]
    assert sent[0]["note"] == "a is Runnable" and sent[0]["type"] == "Normal"
    assert sent[0]["at"] <= sent[1]["at"] < sent[2]["at"]


async def test_a_full_queue_drops_the_oldest_event_and_counts_it() -> None:
    sink = RecordingSink()
    events = recorder(sink, capacity=2)
    dropped_before = dropped()
    for name in ("a", "b", "c"):
        events.record(event(name))
    sent = await sent_after(events, sink, count=2)
    assert [e["name"] for e in sent] == ["b", "c"]
    assert dropped() == dropped_before + 1


async def test_a_failed_send_does_not_stop_the_next_ones() -> None:
    sink = RecordingSink(failing=("a",))
    events = recorder(sink)
    events.record(event("a"))
    events.record(event("b"))
    sent = await sent_after(events, sink, count=1)
    assert [e["name"] for e in sent] == ["b"]


async def test_events_recorded_while_the_senders_wait_are_sent() -> None:
    sink = RecordingSink()
    events = recorder(sink, senders=2)

    async def record_late() -> None:
        await asyncio.sleep(0.01)  # both senders now wait on an empty queue
        events.record(event("late"))

    assert [e["name"] for e in await sent_after(events, sink, count=1, meanwhile=record_late)] == ["late"]


async def test_events_wait_while_a_cycle_applies_its_writes() -> None:
    sink = RecordingSink()
    limiter = WriteLimiter(rate=10_000, burst=10_000)
    events = EventRecorder(sink=sink, limiter=limiter, logger=logging.getLogger("test"))

    async def record_during_a_cycle() -> None:
        async with limiter.applying():
            events.record(event("a"))
            await asyncio.sleep(0.02)
            assert sink.sent == []

    assert [e["name"] for e in await sent_after(events, sink, count=1, meanwhile=record_during_a_cycle)] == ["a"]
