"""ComputeEnvironment and JobQueue status: usage and job counts, written only when changed.

DescribeComputeEnvironments shows ``usedvCpus``/``runningJobs`` of the STARTING and
RUNNING jobs placed there; DescribeJobQueues a VALID/INVALID status and (kubatch) the
number of jobs in each state.
"""

from __future__ import annotations

import pytest

from kubatch.core.actions import PatchStatus
from kubatch.core.lifecycle import JobState
from kubatch.core.reconcile.admission import single_job_holding
from kubatch.core.reconcile.resources import plan_compute_environment_status, plan_queue_status

from .builders import (
    active_job,
    compute_environment,
    finished_job,
    job,
    queue,
    runnable_job,
    sized,
    world,
)


def _patches(planner, *objects: dict) -> dict[str, dict]:
    """The status each object gets from ``planner``, by name (absent: not written)."""
    return {action.name: action.patch for step in planner(world(*objects)) for action in step.actions
            if isinstance(action, PatchStatus)}


def _with_holdings(the_world):
    """CE status counts what holds capacity: here, the world's STARTING and RUNNING jobs."""
    holding = [single_job_holding(j, the_world) for j in the_world.jobs
               if (j.get("status") or {}).get("status") in ("STARTING", "RUNNING")]
    return plan_compute_environment_status(the_world, holding)


def ce_status(*objects: dict) -> dict[str, dict]:
    return _patches(_with_holdings, *objects)


def queue_status(*objects: dict) -> dict[str, dict]:
    return _patches(plan_queue_status, *objects)


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
