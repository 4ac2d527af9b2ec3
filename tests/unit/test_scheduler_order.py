"""Order rules: queue priority across shared CEs, FIFO within a queue, ties."""

from __future__ import annotations

import random
from dataclasses import replace

from kubatch.core.scheduling import WaitReason, schedule

from .test_scheduler_builders import ce, job, placements, queue, reasons, snapshot


def test_higher_priority_queue_is_served_first_on_a_shared_ce() -> None:
    early_low = [job("low-1", "low", 4, age=100), job("low-2", "low", 4, age=100)]
    late_high = [job("high-1", "high", 4, age=1), job("high-2", "high", 4, age=1)]
    decisions = schedule(
        snapshot(
            ces=[ce("shared", 8)],
            queues=[queue("low", "shared", priority=1), queue("high", "shared", priority=10)],
            jobs=early_low + late_high,
        )
    )
    assert [a.unit_id for a in decisions.admissions] == ["high-1", "high-2"]
    assert reasons(decisions) == {"low-1": WaitReason.CAPACITY, "low-2": WaitReason.CAPACITY}


def test_admissions_come_in_dispatch_order() -> None:
    decisions = schedule(
        snapshot(
            ces=[ce("shared", 64)],
            queues=[queue("low", "shared", priority=1), queue("high", "shared", priority=10)],
            jobs=[
                job("low-1", "low"),
                job("high-1", "high"),
                job("low-2", "low"),
                job("high-2", "high"),
            ],
        )
    )
    assert [a.unit_id for a in decisions.admissions] == ["high-1", "high-2", "low-1", "low-2"]


def test_lower_priority_backfills_what_higher_priority_leaves() -> None:
    decisions = schedule(
        snapshot(
            ces=[ce("shared", 8)],
            queues=[queue("high", "shared", priority=10), queue("low", "shared", priority=1)],
            jobs=[job("h", "high", 6), job("l-big", "low", 4), job("l-small", "low", 2)],
        )
    )
    assert placements(decisions) == {"h": "shared", "l-small": "shared"}
    assert reasons(decisions) == {"l-big": WaitReason.CAPACITY}


def test_priority_only_matters_between_queues_that_share_a_ce() -> None:
    decisions = schedule(
        snapshot(
            ces=[ce("a", 4), ce("b", 4)],
            queues=[queue("high", "a", priority=10), queue("low", "b", priority=1)],
            jobs=[job("h", "high", 4), job("l", "low", 4)],
        )
    )
    assert placements(decisions) == {"h": "a", "l": "b"}


def test_fifo_within_a_queue_by_creation_time_then_sequence() -> None:
    newest = job("newest", age=1)
    oldest = job("oldest", age=30)
    tie_first = job("tie-first", age=10)
    tie_second = job("tie-second", age=10)
    decisions = schedule(
        snapshot(
            ces=[ce("od", 3)],
            queues=[queue("q", "od")],
            jobs=[newest, tie_second, oldest, tie_first],
        )
    )
    assert [a.unit_id for a in decisions.admissions] == ["oldest", "tie-first", "tie-second"]
    assert reasons(decisions) == {"newest": WaitReason.CAPACITY}


def test_equal_priority_queues_interleave_by_age() -> None:
    jobs = [
        job("a-old", "a", age=50),
        job("b-old", "b", age=40),
        job("a-mid", "a", age=30),
        job("b-new", "b", age=20),
        job("a-new", "a", age=10),
    ]
    decisions = schedule(
        snapshot(
            ces=[ce("shared", 3)],
            queues=[queue("a", "shared", priority=5), queue("b", "shared", priority=5)],
            jobs=jobs,
        )
    )
    assert [a.unit_id for a in decisions.admissions] == ["a-old", "b-old", "a-mid"]


def test_equal_priority_and_age_break_ties_by_queue_name() -> None:
    same = job("x", "b")
    twin = replace(job("y", "a"), created_at=same.created_at, sequence=same.sequence)
    decisions = schedule(
        snapshot(
            ces=[ce("shared", 1)],
            queues=[queue("b", "shared"), queue("a", "shared")],
            jobs=[same, twin],
        )
    )
    assert [a.unit_id for a in decisions.admissions] == ["y"]


def test_queue_state_is_not_an_input_jobs_already_queued_still_run() -> None:
    """A DISABLED queue refuses new submissions (checked at submit time); the jobs
    already in it are scheduled like any other, so the snapshot has no queue state."""
    decisions = schedule(snapshot(ces=[ce("od")], queues=[queue("q", "od")], jobs=[job("a")]))
    assert placements(decisions) == {"a": "od"}


def test_input_order_does_not_change_the_decisions() -> None:
    jobs = [job(f"j{i}", f"q{i % 3}", vcpus=1 + i % 4, age=i % 7) for i in range(60)]
    queues = [queue(f"q{i}", "a", "b", priority=i % 2) for i in range(3)]
    ces = [ce("a", 20), ce("b", 12)]
    expected = schedule(snapshot(ces=ces, queues=queues, jobs=jobs))
    rng = random.Random(3)
    for _ in range(5):
        shuffled_jobs, shuffled_queues, shuffled_ces = list(jobs), list(queues), list(ces)
        for items in (shuffled_jobs, shuffled_queues, shuffled_ces):
            rng.shuffle(items)
        again = schedule(snapshot(ces=shuffled_ces, queues=shuffled_queues, jobs=shuffled_jobs))
        assert again == expected
    assert expected.admissions
