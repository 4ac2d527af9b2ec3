"""Fair share: weights, order within and between shares, computeReservation,
usage decay, and convergence to the weighted split over a long simulated run."""

from __future__ import annotations

import math

import pytest
from kubatch.core.scheduling import (
    JobQueue,
    SchedulingPolicy,
    ShareWeight,
    WaitReason,
    accrued_share_usage,
    advance_share_usage,
    decay_share_usage,
    schedule,
    usage_rate,
)
from kubatch.core.scheduling.fairshare import ComputeReservation, ShareWeights

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


def policy(
    *weights: tuple[str, float], reservation: int = 0, decay: float = 600, name: str = "fair"
) -> SchedulingPolicy:
    return SchedulingPolicy(
        name=name,
        share_decay_seconds=decay,
        compute_reservation=reservation,
        share_distribution=tuple(
            ShareWeight(share_identifier=identifier, weight_factor=weight)
            for identifier, weight in weights
        ),
    )


def fair_queue(*ces: str, priority: int = 1) -> JobQueue:
    return queue("fq", *ces, priority=priority, policy="fair")


@pytest.mark.parametrize(
    ("identifier", "weight"),
    [
        ("blue", 0.5),
        ("team-a-1", 0.25),
        ("team-alpha", 2.0),
        ("team-b", 3.0),
        ("other", 1.0),
        ("team", 3.0),
    ],
)
def test_weight_lookup_exact_then_longest_prefix_then_default(
    identifier: str, weight: float
) -> None:
    weights = ShareWeights(
        policy(("blue", 0.5), ("team-a-*", 0.25), ("team-a*", 2.0), ("team*", 3.0))
    )
    assert weights.weight_of(identifier) == weight


def test_weight_must_be_positive_and_reservation_in_range() -> None:
    with pytest.raises(ValueError):
        ShareWeight(share_identifier="a", weight_factor=0)
    with pytest.raises(ValueError):
        policy(reservation=100)


@pytest.mark.parametrize(
    ("reservation", "active", "reserved_of_16"),
    [(50, 1, 8), (50, 2, 4), (50, 3, 2), (25, 1, 4), (25, 2, 1), (25, 3, 0.25), (0, 1, 0)],
)
def test_compute_reservation_is_aws_formula(
    reservation: int, active: int, reserved_of_16: float
) -> None:
    reserved = ComputeReservation(compute_reservation=reservation, active_shares=active)
    assert reserved.reserved_milli(16_000) == round(reserved_of_16 * 1000)


def test_lower_weight_gets_the_larger_share() -> None:
    jobs = [job(f"{share}{n}", "fq", share=share) for n in range(3) for share in ("A", "B")]
    decisions = schedule(
        snapshot(
            ces=[ce("od", 3)],
            queues=[fair_queue("od")],
            policies=[policy(("A", 1.0), ("B", 0.5))],
            jobs=jobs,
        )
    )
    assert sorted(placements(decisions)) == ["A0", "B0", "B1"]


def test_recent_usage_puts_a_share_behind() -> None:
    heavy_usage = 5 * 600 / math.log(2)  # as if it had held 5 vCPUs for a long time
    decisions = schedule(
        snapshot(
            ces=[ce("od", 2)],
            queues=[fair_queue("od")],
            policies=[policy()],
            jobs=[
                job("A0", "fq", share="A", age=100),
                job("A1", "fq", share="A", age=100),
                job("B0", "fq", share="B"),
                job("B1", "fq", share="B"),
            ],
            usage={("fq", "A"): heavy_usage},
        )
    )
    assert sorted(placements(decisions)) == ["B0", "B1"]


def test_running_jobs_count_towards_a_share() -> None:
    decisions = schedule(
        snapshot(
            ces=[ce("od", 8)],
            queues=[fair_queue("od")],
            policies=[policy()],
            jobs=[job(f"A{n}", "fq", share="A") for n in range(4)]
            + [job(f"B{n}", "fq", share="B") for n in range(4)],
            holding=[running("ra", "fq", "od", 4, share="A")],
        )
    )
    assert sorted(placements(decisions)) == ["B0", "B1", "B2", "B3"]


def test_within_a_share_scheduling_priority_then_fifo() -> None:
    decisions = schedule(
        snapshot(
            ces=[ce("od", 2)],
            queues=[fair_queue("od")],
            policies=[policy()],
            jobs=[
                job("old-low", "fq", share="A", priority=0, age=100),
                job("mid-high", "fq", share="A", priority=5, age=50),
                job("new-high", "fq", share="A", priority=5, age=10),
            ],
        )
    )
    assert [a.unit_id for a in decisions.admissions] == ["mid-high", "new-high"]


def test_share_over_its_fair_share_is_told_so() -> None:
    decisions = schedule(
        snapshot(
            ces=[ce("od", 8)],
            queues=[fair_queue("od")],
            policies=[policy()],
            jobs=[job("A0", "fq", share="A"), job("B0", "fq", share="B")],
            holding=[
                running("ra", "fq", "od", 6, share="A"),
                running("rb", "fq", "od", 2, share="B"),
            ],
        )
    )
    assert reasons(decisions) == {"A0": WaitReason.FAIR_SHARE, "B0": WaitReason.CAPACITY}
    assert decisions.waits["A0"].message.startswith(
        "FAIRSHARE: share 'A' is over its fair share in queue 'fq' "
        "(holds 6 of 8 vCPU, its weight entitles it to 4); job needs 1 vCPU: "
        "'od' has 8/8 vCPU in use"
    )


def test_compute_reservation_holds_back_an_active_share() -> None:
    decisions = schedule(
        snapshot(
            ces=[ce("od", 16)],
            queues=[fair_queue("od")],
            policies=[policy(reservation=50)],
            jobs=[job(f"A{n}", "fq", 2, share="A") for n in range(5)],
            holding=[running("ra", "fq", "od", 2, share="A")],
        )
    )
    assert sorted(placements(decisions)) == ["A0", "A1", "A2"]
    assert reasons(decisions) == {
        "A3": WaitReason.FAIR_SHARE_COMPUTE_RESERVATION,
        "A4": WaitReason.FAIR_SHARE_COMPUTE_RESERVATION,
    }
    assert (
        "'od' keeps 8 of 16 vCPU for share identifiers with no running job "
        "(computeReservation 50, 1 active share) and has 8 vCPU in use"
    ) in decisions.waits["A3"].message


def test_an_inactive_share_may_use_the_reserved_capacity() -> None:
    decisions = schedule(
        snapshot(
            ces=[ce("od", 16)],
            queues=[fair_queue("od")],
            policies=[policy(reservation=50)],
            jobs=[job(f"A{n}", "fq", 2, share="A") for n in range(5)]
            + [job("B0", "fq", 4, share="B")],
            holding=[running("ra", "fq", "od", 2, share="A")],
        )
    )
    # B starts first (no usage), which makes 2 active shares: 16 × 0.5² = 4 vCPU stay free.
    assert [a.unit_id for a in decisions.admissions] == ["B0", "A0", "A1", "A2"]
    assert decisions.compute_environments["od"].planned_vcpus == 16 - 4
    assert "(computeReservation 50, 2 active shares)" in decisions.waits["A3"].message


def test_a_fair_share_queue_needs_share_identifiers() -> None:
    decisions = schedule(
        snapshot(
            ces=[ce("od")],
            queues=[fair_queue("od")],
            policies=[policy()],
            jobs=[job("anonymous", "fq"), job("named", "fq", share="A")],
        )
    )
    assert placements(decisions) == {"named": "od"}
    wait = decisions.waits["anonymous"]
    assert wait.reason is WaitReason.SHARE_IDENTIFIER_MISSING
    assert wait.cannot_ever_run


def test_a_missing_policy_keeps_the_queue_waiting() -> None:
    decisions = schedule(
        snapshot(ces=[ce("od")], queues=[fair_queue("od")], jobs=[job("a", "fq", share="A")])
    )
    wait = decisions.waits["a"]
    assert wait.reason is WaitReason.SCHEDULING_POLICY_NOT_FOUND
    assert not wait.cannot_ever_run
    assert "scheduling policy 'fair' of queue 'fq' does not exist" in wait.message


def test_a_fifo_queue_ignores_share_identifiers_and_usage() -> None:
    decisions = schedule(
        snapshot(
            ces=[ce("od", 2)],
            queues=[queue("q", "od")],
            jobs=[job("A0", share="A"), job("A1", share="A"), job("B0", share="B")],
            usage={("q", "A"): 1e9},
        )
    )
    assert [a.unit_id for a in decisions.admissions] == ["A0", "A1"]


def test_usage_halves_every_share_decay_seconds() -> None:
    assert decay_share_usage(usage=100.0, elapsed_seconds=600, share_decay_seconds=600) == 50.0
    assert decay_share_usage(usage=100.0, elapsed_seconds=1200, share_decay_seconds=600) == 25.0


def test_accrued_usage_is_vcpu_seconds_for_short_runs_and_bounded_for_long_ones() -> None:
    short = accrued_share_usage(weighted_vcpus=2.0, running_seconds=1.0, share_decay_seconds=600)
    assert short == pytest.approx(2.0, rel=1e-3)
    forever = accrued_share_usage(weighted_vcpus=2.0, running_seconds=1e9, share_decay_seconds=600)
    assert forever == pytest.approx(2.0 * 600 / math.log(2))
    assert usage_rate(usage=forever, share_decay_seconds=600) == pytest.approx(2.0)


def test_advance_share_usage_decays_adds_running_and_forgets() -> None:
    current = snapshot(
        ces=[ce("od")],
        queues=[fair_queue("od"), queue("fifo", "od")],
        policies=[policy(("B", 0.5), decay=0)],  # 0 means AWS's minimum, 600 s
        holding=[
            running("b", "fq", "od", 4, share="B"),  # started NOW - 60
            running("f", "fifo", "od", 4, share="X"),
        ],
        usage={("fq", "A"): 100.0, ("fq", "gone"): 1e-9, ("fifo", "X"): 5.0},
    )
    since = NOW - 600
    advanced = advance_share_usage(snapshot=current, since=since)
    assert set(advanced) == {("fq", "A"), ("fq", "B")}
    assert advanced[("fq", "A")] == pytest.approx(50.0)
    assert advanced[("fq", "B")] == pytest.approx(
        accrued_share_usage(weighted_vcpus=4 * 0.5, running_seconds=60, share_decay_seconds=600)
    )


def _fair_share_run(*, weights: tuple[tuple[str, float], ...], hours: float) -> dict[str, float]:
    simulation = Simulation(
        compute_environments=[ce("od", 30)],
        job_queues=[fair_queue("od")],
        policies=[policy(*weights, decay=600)],
        tick=30,
    )
    backlog = {identifier: 0 for identifier, _ in weights}
    for _ in range(int(hours * 3600 / simulation.tick)):
        waiting = {identifier: 0 for identifier in backlog}
        for unit in simulation.runnable:
            waiting[unit.share_identifier or ""] += 1
        for identifier in backlog:
            fresh = []
            for _ in range(40 - waiting[identifier]):
                backlog[identifier] += 1
                fresh.append(job(f"{identifier}-{backlog[identifier]}", "fq", share=identifier))
            simulation.submit(fresh, duration=120)
        simulation.step()
    return simulation.vcpu_seconds


def test_weights_one_and_a_half_converge_to_a_one_to_two_split() -> None:
    """Both shares always have work; over 6 simulated hours the share with weight
    0.5 gets twice the vCPU-seconds of the share with weight 1, within 5%."""
    used = _fair_share_run(weights=(("A", 1.0), ("B", 0.5)), hours=6)
    assert used["B"] / used["A"] == pytest.approx(2.0, rel=0.05)
    assert used["A"] + used["B"] == pytest.approx(30 * 6 * 3600, rel=0.02)


def test_equal_weights_split_evenly() -> None:
    used = _fair_share_run(weights=(("A", 1.0), ("B", 1.0), ("C", 1.0)), hours=2)
    assert max(used.values()) / min(used.values()) == pytest.approx(1.0, rel=0.05)
