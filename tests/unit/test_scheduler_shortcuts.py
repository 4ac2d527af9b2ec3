"""The cycle's shortcuts give the decisions the plain rules give.

A cycle sorts FIFO queues of one priority together, by numbers rather than tuples,
and remembers what a waiting unit of each size met until an admission or a hold
changes the CEs of its queue. These tests pin the cases where a shortcut taken too
far would show: ties on the sort keys, and CEs changed by another queue.
"""

from __future__ import annotations

from dataclasses import replace

from kubatch.core.scheduling import SchedulingPolicy, WaitReason, schedule

from .test_scheduler_builders import (
    NOW,
    ce,
    job,
    placements,
    queue,
    reasons,
    running,
    snapshot,
)


def test_units_sharing_a_sequence_number_are_ordered_by_id_then_queue() -> None:
    first = job("a", "q2", age=5)
    same_queue = replace(job("b", "q2"), created_at=first.created_at, sequence=first.sequence)
    other_queue = replace(job("c", "q1"), created_at=first.created_at, sequence=first.sequence)
    decisions = schedule(
        snapshot(
            ces=[ce("shared", 64)],
            queues=[queue("q2", "shared"), queue("q1", "shared")],
            jobs=[same_queue, first, other_queue],
        )
    )
    assert [a.unit_id for a in decisions.admissions] == ["c", "a", "b"]


def test_fifo_units_fall_between_the_fair_share_units_by_age() -> None:
    jobs = [
        job("fifo-old", "fifo", age=50),
        job("fair-mid", "fair", age=40, share="s"),
        job("fifo-new", "fifo", age=30),
        job("fair-new", "fair", age=20, share="s"),
    ]
    decisions = schedule(
        snapshot(
            ces=[ce("shared", 64)],
            queues=[queue("fifo", "shared"), queue("fair", "shared", policy="p")],
            jobs=jobs,
            policies=[SchedulingPolicy(name="p")],
        )
    )
    assert [a.unit_id for a in decisions.admissions] == [
        "fifo-old",
        "fair-mid",
        "fifo-new",
        "fair-new",
    ]


def test_a_hold_taken_by_another_queue_changes_what_later_units_meet() -> None:
    """q-first meets a full CE; p-old then holds it; q-second, the same size as
    q-first, must see the hold rather than what q-first met."""
    q_first = replace(job("q-first", "q", 4, age=2000), runnable_since=NOW - 1)
    decisions = schedule(
        snapshot(
            ces=[ce("shared", 8)],
            queues=[queue("q", "shared"), queue("p", "shared")],
            jobs=[q_first, job("p-old", "p", 4, age=1000), job("q-second", "q", 4, age=1)],
            holding=[running("r", "q", "shared", 6)],
        )
    )
    assert placements(decisions) == {}
    assert reasons(decisions) == {
        "q-first": WaitReason.CAPACITY,
        "p-old": WaitReason.CAPACITY,
        "q-second": WaitReason.HELD_FOR_WAITING_JOB,
    }
    assert decisions.compute_environments["shared"].held_for == "p-old"


def test_an_admission_by_another_queue_changes_what_later_units_meet() -> None:
    """fair-first finds room only in the computeReservation; fifo-mid then takes the
    room; fair-second, the same size and share as fair-first, finds the CE full."""
    decisions = schedule(
        snapshot(
            ces=[ce("shared", 10)],
            queues=[queue("fair", "shared", policy="p"), queue("fifo", "shared")],
            jobs=[
                job("fair-first", "fair", 4, age=30, share="s"),
                job("fifo-mid", "fifo", 6, age=20),
                job("fair-second", "fair", 4, age=10, share="s"),
            ],
            holding=[running("r", "fair", "shared", 2, share="s")],
            policies=[SchedulingPolicy(name="p", compute_reservation=50)],
        )
    )
    assert placements(decisions) == {"fifo-mid": "shared"}
    assert reasons(decisions) == {
        "fair-first": WaitReason.FAIR_SHARE_COMPUTE_RESERVATION,
        "fair-second": WaitReason.CAPACITY,
    }
