"""ComputeEnvironment and JobQueue status: usage, job counts and front of queue, written only when changed.

DescribeComputeEnvironments shows ``usedvCpus``/``runningJobs`` of the STARTING and
RUNNING jobs placed there; DescribeJobQueues a VALID/INVALID status and (kubatch) the
number of jobs in each state; GetJobQueueSnapshot the front of the queue in dispatch
order and the vCPUs in use.
"""

from __future__ import annotations

import pytest

from kubatch.core.actions import PatchStatus
from kubatch.core.lifecycle import JobState
from kubatch.core.reconcile.admission import single_job_holding
from kubatch.core.reconcile.resources import plan_compute_environment_status, plan_queue_status

from .builders import (
    NOW_MS,
    active_job,
    compute_environment,
    finished_job,
    job,
    plan_of,
    queue,
    runnable_job,
    sized,
    world,
)


def _patches(planner, *objects: dict) -> dict[str, dict]:
    """The status each object gets from ``planner``, by name (absent: not written)."""
    return {action.name: action.patch for step in planner(world(*objects)) for action in step.actions
            if isinstance(action, PatchStatus)}


def _holdings(the_world):
    """What holds capacity: here, the world's STARTING and RUNNING jobs."""
    return [single_job_holding(j, the_world) for j in the_world.jobs
            if (j.get("status") or {}).get("status") in ("STARTING", "RUNNING")]


def _with_holdings(the_world):
    return plan_compute_environment_status(the_world, _holdings(the_world))


def _queue_planner(the_world):
    return plan_queue_status(the_world, holdings=_holdings(the_world), front_of_queue={}, now_ms=NOW_MS)


def ce_status(*objects: dict) -> dict[str, dict]:
    return _patches(_with_holdings, *objects)


def queue_status(*objects: dict) -> dict[str, dict]:
    return _patches(_queue_planner, *objects)


def test_an_idle_ce_is_valid_and_unused() -> None:
    assert ce_status(compute_environment(min_vcpus=2, max_vcpus=16)) == {"ce": {
        "status": "VALID", "statusReason": "ComputeEnvironment Healthy", "usedvCpus": 0, "runningJobs": 0,
        "desiredvCpus": 2, "observedGeneration": 1}}


def test_used_vcpus_count_the_starting_and_running_jobs_of_that_ce_only() -> None:
    objects = [
        active_job("a", "STARTING", frozen=sized(2)),
        active_job("b", "RUNNING", frozen=sized(3)),
        active_job("elsewhere", "RUNNING", ce="other", frozen=sized(8)),
        runnable_job("waiting", frozen=sized(4)),
        finished_job("done", "SUCCEEDED", frozen=sized(4)),
        finished_job("failed", "FAILED", frozen=sized(4)),
        job("new"),
        compute_environment(max_vcpus=16), compute_environment("other", max_vcpus=16),
    ]
    statuses = ce_status(*objects)
    assert (statuses["ce"]["usedvCpus"], statuses["ce"]["runningJobs"]) == (5, 2)
    assert (statuses["other"]["usedvCpus"], statuses["other"]["runningJobs"]) == (8, 1)


@pytest.mark.parametrize(
    ("used", "min_vcpus", "max_vcpus", "desired"),
    [(0, 0, 16, 0), (3, 0, 16, 3), (3, 8, 16, 8), (16, 0, 16, 16)],
)
def test_desired_vcpus_follow_use_between_min_and_max(used: int, min_vcpus: int, max_vcpus: int,
                                                      desired: int) -> None:
    jobs = [active_job(f"j{n}", "RUNNING") for n in range(used)]
    status = ce_status(*jobs, compute_environment(min_vcpus=min_vcpus, max_vcpus=max_vcpus))["ce"]
    assert (status["usedvCpus"], status["desiredvCpus"]) == (used, desired)


def test_fractional_vcpus_are_summed_before_rounding() -> None:
    jobs = [active_job(f"j{n}", "RUNNING", frozen=sized(0.25)) for n in range(6)]
    assert ce_status(*jobs, compute_environment())["ce"]["usedvCpus"] == 2


def test_a_ce_status_already_up_to_date_is_not_written() -> None:
    written = ce_status(active_job("a", "RUNNING"), compute_environment())["ce"]
    assert ce_status(active_job("a", "RUNNING"), compute_environment(status=dict(written))) == {}
    stale = dict(written, runningJobs=7)
    assert ce_status(active_job("a", "RUNNING"), compute_environment(status=stale)) == {"ce": written}


ALL_ZERO = {state.value: 0 for state in JobState}


def test_queue_counts_its_jobs_by_state() -> None:
    objects = [
        job("new"), runnable_job("r1"), runnable_job("r2"), active_job("s", "STARTING"), active_job("run", "RUNNING"),
        finished_job("ok", "SUCCEEDED"), finished_job("ko", "FAILED"), job("other-queue", queue="other"),
        queue(), compute_environment(),
    ]
    assert queue_status(*objects) == {"q": {
        "status": "VALID", "statusReason": "JobQueue Healthy",
        "jobCounts": ALL_ZERO | {"SUBMITTED": 1, "RUNNABLE": 2, "STARTING": 1, "RUNNING": 1, "SUCCEEDED": 1,
                                 "FAILED": 1},
        "frontOfQueue": {"jobs": [], "lastUpdatedAt": NOW_MS},
        "queueUtilization": {"totalCapacityUsage": [{"capacityUnit": "VCPU", "quantity": 2.0}],
                             "lastUpdatedAt": NOW_MS},
        "observedGeneration": 1}}


@pytest.mark.parametrize(
    ("order", "reason"),
    [(("ce", "gone"), "ComputeEnvironment gone does not exist"),
     (("gone", "lost"), "ComputeEnvironment gone, lost does not exist")],
)
def test_a_queue_naming_a_missing_ce_is_invalid(order: tuple[str, ...], reason: str) -> None:
    status = queue_status(queue("q", *order), compute_environment())["q"]
    assert (status["status"], status["statusReason"]) == ("INVALID", reason)


def test_a_queue_status_already_up_to_date_is_not_written() -> None:
    written = queue_status(runnable_job(), queue(), compute_environment())["q"]
    assert queue_status(runnable_job(), queue(status=dict(written)), compute_environment()) == {}
    moved = queue_status(active_job(), queue(status=dict(written)), compute_environment())["q"]
    assert moved["jobCounts"] == ALL_ZERO | {"STARTING": 1}


# ------------------------------------------------------------------ GetJobQueueSnapshot


def _queue_patch(steps) -> dict:
    (patch,) = [action.patch for step in steps for action in step.actions
                if isinstance(action, PatchStatus) and action.kind == "JobQueue"]
    return patch


def test_the_front_of_the_queue_lists_who_still_waits_in_dispatch_order() -> None:
    waiting = [runnable_job(name, frozen=sized(2)) for name in ("a", "b", "c", "d")]
    patch = _queue_patch(plan_of(*waiting, queue(), compute_environment(max_vcpus=4)))
    ids = {j["metadata"]["name"]: j["metadata"]["uid"] for j in waiting}
    assert patch["frontOfQueue"] == {"jobs": [{"jobId": ids["c"], "earliestTimeAtPosition": NOW_MS},
                                              {"jobId": ids["d"], "earliestTimeAtPosition": NOW_MS}],
                                     "lastUpdatedAt": NOW_MS}


def test_a_job_keeps_the_time_it_reached_its_position_and_moves_on_when_the_front_moves() -> None:
    waiting = [runnable_job(name, frozen=sized(2)) for name in ("c", "d")]
    ids = [j["metadata"]["uid"] for j in waiting]
    earlier = NOW_MS - 5_000
    before = {"jobs": [{"jobId": ids[0], "earliestTimeAtPosition": earlier},
                       {"jobId": ids[1], "earliestTimeAtPosition": earlier}], "lastUpdatedAt": earlier}
    closed = compute_environment(state="DISABLED")
    written = _queue_patch(plan_of(*waiting, queue(status={"frontOfQueue": before}), closed))
    assert written["frontOfQueue"] == before  # nothing moved: same times, same stamp
    moved = _queue_patch(plan_of(*waiting[1:], queue(status={"frontOfQueue": before}), closed))
    assert moved["frontOfQueue"] == {"jobs": [{"jobId": ids[1], "earliestTimeAtPosition": NOW_MS}],
                                     "lastUpdatedAt": NOW_MS}


def test_a_fair_share_queue_reports_the_vcpus_of_its_busiest_shares() -> None:
    running = [active_job("a1", "RUNNING", frozen=sized(2), shareIdentifier="teamA"),
               active_job("a2", "RUNNING", frozen=sized(2), shareIdentifier="teamA"),
               active_job("b1", "RUNNING", frozen=sized(1), shareIdentifier="teamB")]
    status = queue_status(*running, queue(scheduling_policy="fair"), compute_environment(max_vcpus=16))["q"]
    assert status["queueUtilization"] == {
        "totalCapacityUsage": [{"capacityUnit": "VCPU", "quantity": 5.0}],
        "fairshareUtilization": {"activeShareCount": 2, "topCapacityUtilization": [
            {"shareIdentifier": "teamA", "capacityUsage": [{"capacityUnit": "VCPU", "quantity": 4.0}]},
            {"shareIdentifier": "teamB", "capacityUsage": [{"capacityUnit": "VCPU", "quantity": 1.0}]}]},
        "lastUpdatedAt": NOW_MS}
