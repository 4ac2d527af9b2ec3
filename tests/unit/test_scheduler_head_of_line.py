"""Head-of-line policy: small units pass a large one that does not fit, until the
large one has waited `backfill_patience_seconds`; then it holds its first CE and
runs as soon as the CE drains."""

from __future__ import annotations

from dataclasses import replace

from kubatch.core.scheduling import WaitReason, schedule

from .test_scheduler_builders import (
    NOW,
    Simulation,
    ce,
    job,
    placements,
    queue,
    reasons,
    running,
    snapshot,
)


def test_small_units_pass_a_large_one_that_does_not_fit() -> None:
    decisions = schedule(
        snapshot(
            ces=[ce("od", 16)],
            queues=[queue("q", "od")],
            jobs=[
                job("big", vcpus=8, age=100),
                job("s1", vcpus=2),
                job("s2", vcpus=2),
                job("s3", vcpus=2),
            ],
            holding=[running("r", "q", "od", 10)],
            patience=600,
        )
    )
    assert placements(decisions) == {"s1": "od", "s2": "od", "s3": "od"}
    assert reasons(decisions) == {"big": WaitReason.CAPACITY}
    assert decisions.compute_environments["od"].held_for is None


def test_a_unit_past_its_patience_holds_its_ce() -> None:
    decisions = schedule(
        snapshot(
            ces=[ce("od", 16)],
            queues=[queue("q", "od")],
            jobs=[job("big", vcpus=8, age=900), job("s1", vcpus=2), job("s2", vcpus=2)],
            holding=[running("r", "q", "od", 10)],
            patience=600,
        )
    )
    assert placements(decisions) == {}
    assert reasons(decisions) == {
        "big": WaitReason.CAPACITY,
        "s1": WaitReason.HELD_FOR_WAITING_JOB,
        "s2": WaitReason.HELD_FOR_WAITING_JOB,
    }
    assert decisions.compute_environments["od"].held_for == "big"
    assert "so 'od' is held for this job" in decisions.waits["big"].message
    assert (
        "'od' is held for job 'big' (queue 'q', RUNNABLE past its backfill patience)"
        in decisions.waits["s1"].message
    )


def test_a_hold_does_not_stop_higher_priority_queues() -> None:
    decisions = schedule(
        snapshot(
            ces=[ce("od", 16)],
            queues=[
                queue("high", "od", priority=10),
                queue("mid", "od", priority=5),
                queue("low", "od", priority=1),
            ],
            jobs=[
                job("big", "mid", vcpus=8, age=900),
                job("h", "high", vcpus=2),
                job("m", "mid", vcpus=2),
                job("l", "low", vcpus=2),
            ],
            holding=[running("r", "mid", "od", 10)],
        )
    )
    assert placements(decisions) == {"h": "od"}
    assert reasons(decisions) == {
        "big": WaitReason.CAPACITY,
        "m": WaitReason.HELD_FOR_WAITING_JOB,
        "l": WaitReason.HELD_FOR_WAITING_JOB,
    }


def test_a_hold_takes_only_the_first_usable_ce_others_keep_flowing() -> None:
    decisions = schedule(
        snapshot(
            ces=[ce("off", 64, disabled=True), ce("a", 8), ce("b", 8)],
            queues=[queue("q", "off", "a", "b")],
            jobs=[job("big", vcpus=8, age=900), job("s1", vcpus=2), job("s2", vcpus=2)],
            holding=[running("ra", "q", "a", 2), running("rb", "q", "b", 2)],
        )
    )
    assert decisions.compute_environments["a"].held_for == "big"
    assert decisions.compute_environments["b"].held_for is None
    assert placements(decisions) == {"s1": "b", "s2": "b"}


def test_a_unit_that_never_fits_holds_nothing() -> None:
    decisions = schedule(
        snapshot(
            ces=[ce("od", 16)],
            queues=[queue("q", "od")],
            jobs=[job("huge", vcpus=64, age=10_000), job("s")],
        )
    )
    assert placements(decisions) == {"s": "od"}
    assert reasons(decisions) == {"huge": WaitReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE}


def test_one_hold_per_ce_the_next_starving_unit_waits_behind_it() -> None:
    decisions = schedule(
        snapshot(
            ces=[ce("od", 16)],
            queues=[queue("q", "od")],
            jobs=[
                job("first", vcpus=12, age=2000),
                job("second", vcpus=12, age=1000),
                job("s", vcpus=1),
            ],
            holding=[running("r", "q", "od", 8)],
        )
    )
    assert decisions.compute_environments["od"].held_for == "first"
    assert reasons(decisions) == {
        "first": WaitReason.CAPACITY,
        "second": WaitReason.HELD_FOR_WAITING_JOB,
        "s": WaitReason.HELD_FOR_WAITING_JOB,
    }


def test_patience_counts_from_runnable_since_not_creation() -> None:
    retried = replace(job("big", vcpus=8, age=5000), runnable_since=NOW - 10)
    decisions = schedule(
        snapshot(
            ces=[ce("od", 16)],
            queues=[queue("q", "od")],
            jobs=[retried, job("s", vcpus=2)],
            holding=[running("r", "q", "od", 10)],
        )
    )
    assert placements(decisions) == {"s": "od"}
    assert decisions.compute_environments["od"].held_for is None


def _stream_of_small_jobs(*, patience: float) -> Simulation:
    """A 16-vCPU CE kept busy by a steady stream of 4-vCPU jobs (each runs 3 ticks),
    plus one 16-vCPU job that needs the whole CE."""
    simulation = Simulation(
        compute_environments=[ce("od", 16)],
        job_queues=[queue("q", "od")],
        tick=60,
        patience=patience,
    )
    simulation.submit([job("warmup-0", vcpus=4), job("warmup-1", vcpus=4)], duration=180)
    simulation.step()
    simulation.submit([job("big", vcpus=16)], duration=180)
    return simulation


def _run_with_stream(simulation: Simulation, *, ticks: int) -> None:
    for tick in range(ticks):
        simulation.submit([job(f"small-{tick}-{n}", vcpus=4) for n in range(2)], duration=180)
        simulation.step()


def test_without_holds_the_large_job_would_starve() -> None:
    simulation = _stream_of_small_jobs(patience=float("inf"))
    _run_with_stream(simulation, ticks=60)
    assert "big" not in simulation.started_at
    assert len(simulation.started_at) > 60


def test_the_large_job_runs_once_its_patience_is_over_and_small_ones_ran_meanwhile() -> None:
    simulation = _stream_of_small_jobs(patience=600)
    submitted_at = simulation.now
    _run_with_stream(simulation, ticks=60)
    started = simulation.started_at["big"]
    # The small jobs backfilled while the big one was patient ...
    assert sum(1 for t in simulation.started_at.values() if t < submitted_at + 600) >= 8
    # ... then the CE drained (at most one job duration) and the big one started.
    assert submitted_at + 600 <= started <= submitted_at + 600 + 180 + 60
    # And the stream resumed afterwards.
    assert any(t > started for t in simulation.started_at.values())
