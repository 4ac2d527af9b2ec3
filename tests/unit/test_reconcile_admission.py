"""RUNNABLE jobs: admissions create the attempt's pod then record STARTING; the rest say why.

Rules (DESIGN §1–§2, admission.py): a CE's STARTING+RUNNING vCPUs never exceed its
maxvCpus; an admission is "create pod, patch STARTING, emit" in that order, so a crash
in between leaves a pod the next cycle adopts; a waiting job's statusReason (the wait
code) and statusMessage say why and are written only when they change; a job that can
never fit stays RUNNABLE as on AWS, with one Warning event; a queue's
jobStateTimeLimitActions cancel jobs RUNNABLE too long for a listed reason.
"""

from __future__ import annotations

import copy

import pytest

from kubatch.core.actions import CreatePod, Emit, PatchStatus
from kubatch.core.pods import CAPACITY_TYPE_LABEL, LABEL_ATTEMPT, LABEL_CE

from .builders import (
    NOW_MS,
    active_job,
    compute_environment,
    definition,
    node,
    of_type,
    only_step,
    patched,
    plan_of,
    pod,
    queue,
    runnable_job,
    sized,
    steps_for,
)


def admitted_names(steps: list) -> list[str]:
    return [action.manifest["metadata"]["name"] for step in steps for action in of_type(step, CreatePod)]


def setup(*, max_vcpus: int = 16, ce_type: str = "EC2", **queue_fields) -> list[dict]:
    return [definition(), queue(**queue_fields), compute_environment(max_vcpus=max_vcpus, type=ce_type), node()]


def waiting_status(steps: list, name: str = "job") -> dict:
    """The fields written for a job left RUNNABLE: its wait code and message only."""
    status = patched(only_step(steps, name))
    assert set(status) == {"statusReason", "statusMessage"}, status
    assert status["statusMessage"].startswith(status["statusReason"])
    return status


# -- admission ----------------------------------------------------------------------------------


def test_an_admission_creates_the_pod_then_records_starting_then_emits() -> None:
    step = only_step(plan_of(runnable_job(), *setup()), "job")
    create, record, event = step.actions
    assert isinstance(create, CreatePod) and isinstance(record, PatchStatus) and isinstance(event, Emit)
    assert create.manifest["metadata"]["name"] == "job-a1"
    assert create.manifest["metadata"]["labels"][LABEL_CE] == "ce"
    assert create.manifest["metadata"]["ownerReferences"][0]["uid"] == "uid-default-job"
    assert record.patch == {"status": "STARTING", "statusReason": None,
                            "statusMessage": "Starting on compute environment ce", "computeEnvironment": "ce",
                            "attemptCount": 1,
                            "container": {"podName": "job-a1", "nodeName": None, "exitCode": None, "reason": None}}
    assert (event.reason, event.type) == ("Starting", "Normal")


def test_a_pod_the_cluster_refuses_fails_the_job_as_invalid() -> None:
    (create,) = of_type(only_step(plan_of(runnable_job(), *setup()), "job"), CreatePod)
    assert create.on_invalid is not None
    assert (create.on_invalid.kind, create.on_invalid.name) == ("BatchJob", "job")
    assert (create.on_invalid.patch["status"], create.on_invalid.patch["statusReason"]) == ("FAILED", "InvalidJob")


def test_a_retried_job_gets_the_next_attempts_pod() -> None:
    retried = runnable_job(attempt_count=1)
    objects = [retried, pod(retried, "Failed", attempt=1, exit_code=3), *setup()]
    step = only_step(plan_of(*objects), "job")
    (create,) = of_type(step, CreatePod)
    env = {e["name"]: e["value"] for e in create.manifest["spec"]["containers"][0]["env"]}
    assert create.manifest["metadata"]["name"] == "job-a2"
    assert create.manifest["metadata"]["labels"][LABEL_ATTEMPT] == "2"
    assert env["AWS_BATCH_JOB_ATTEMPT"] == "2"
    assert patched(step)["attemptCount"] == 2


@pytest.mark.parametrize(("ce_type", "pool"), [("EC2", "on-demand"), ("SPOT", "spot"), ("FARGATE", "fargate"),
                                                ("FARGATE_SPOT", "fargate-spot")])
def test_the_pod_goes_to_the_pool_of_the_ce_it_was_admitted_to(ce_type: str, pool: str) -> None:
    (create,) = of_type(only_step(plan_of(runnable_job(), *setup(ce_type=ce_type)), "job"), CreatePod)
    assert create.manifest["spec"]["nodeSelector"] == {CAPACITY_TYPE_LABEL: pool}


def test_the_ces_own_node_selector_and_tolerations_reach_the_pod() -> None:
    karpenter = compute_environment(type="SPOT", node_selector={"karpenter.sh/capacity-type": "spot"},
                                    tolerations=[{"key": "k", "operator": "Exists"}])
    (create,) = of_type(only_step(plan_of(runnable_job(), definition(), queue(), karpenter), "job"), CreatePod)
    assert create.manifest["spec"]["nodeSelector"] == {"karpenter.sh/capacity-type": "spot"}
    assert create.manifest["spec"]["tolerations"] == [{"key": "k", "operator": "Exists"}]


def test_a_job_goes_to_the_first_ce_of_its_queue_with_room() -> None:
    objects = [runnable_job("a", frozen=sized(2)), runnable_job("b", frozen=sized(2)), definition(),
               queue("q", "small", "big"), compute_environment("small", max_vcpus=2),
               compute_environment("big", max_vcpus=8)]
    steps = plan_of(*objects)
    assert (patched(only_step(steps, "a"))["computeEnvironment"],
            patched(only_step(steps, "b"))["computeEnvironment"]) == ("small", "big")


# -- capacity ---------------------------------------------------------------------------------------


def test_a_ce_never_takes_more_vcpus_than_its_max() -> None:
    jobs = [runnable_job(f"j{n}", frozen=sized(1)) for n in range(3)]
    steps = plan_of(*jobs, *setup(max_vcpus=2))
    assert admitted_names(steps) == ["j0-a1", "j1-a1"]
    waiting = waiting_status(steps, "j2")
    assert waiting["statusReason"] == "CAPACITY"
    assert "'ce'" in waiting["statusMessage"]


@pytest.mark.parametrize("state", ["STARTING", "RUNNING"])
def test_starting_and_running_jobs_hold_their_ces_capacity(state: str) -> None:
    holder = active_job("holder", state, frozen=sized(2))
    steps = plan_of(holder, pod(holder, "Running" if state == "RUNNING" else "Pending"),
                    runnable_job(frozen=sized(1)), *setup(max_vcpus=2))
    assert admitted_names(steps) == []
    assert waiting_status(steps)["statusReason"] == "CAPACITY"


def test_capacity_freed_by_an_attempt_that_ends_in_this_cycle_is_used_at_once() -> None:
    done = active_job("done", "RUNNING", frozen=sized(2))
    steps = plan_of(done, pod(done, "Succeeded"), runnable_job(frozen=sized(2)), *setup(max_vcpus=2))
    assert patched(only_step(steps, "done"))["status"] == "SUCCEEDED"
    assert admitted_names(steps) == ["job-a1"]


def test_a_wait_already_explained_writes_nothing() -> None:
    holder = active_job("holder", "RUNNING", frozen=sized(2))
    first = plan_of(holder, pod(holder, "Running"), runnable_job(frozen=sized(1)), *setup(max_vcpus=2))
    said = waiting_status(first)
    again = plan_of(holder, pod(holder, "Running"),
                    runnable_job(frozen=sized(1), status_message=said["statusMessage"],
                                 status_reason=said["statusReason"]), *setup(max_vcpus=2))
    assert steps_for(again, "job") == []


def test_a_higher_priority_queue_is_served_first() -> None:
    objects = [runnable_job("low-job", queue="low"), runnable_job("high-job", queue="high"), definition(),
               queue("low", priority=1), queue("high", priority=10), compute_environment(max_vcpus=1)]
    steps = plan_of(*objects)
    assert admitted_names(steps) == ["high-job-a1"]


# -- never able to run ---------------------------------------------------------------------------------


FAIR_POLICY = {"kind": "SchedulingPolicy", "metadata": {"name": "fair"}, "spec": {"fairsharePolicy": {}}}
NEVER_FITS = [
    pytest.param([runnable_job(frozen=sized(32)), *setup(max_vcpus=16)],
                 "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE", id="larger than every CE"),
    pytest.param([runnable_job(frozen=sized(32)), *setup(max_vcpus=64, ce_type="FARGATE")],
                 "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT", id="larger than fargate allows"),
    pytest.param([runnable_job(), definition(), compute_environment(), queue(scheduling_policy="fair"), FAIR_POLICY],
                 "MISCONFIGURATION:SHARE_IDENTIFIER", id="fair-share queue, no share identifier"),
]


@pytest.mark.parametrize(("objects", "code"), NEVER_FITS)
def test_a_job_that_can_never_fit_stays_runnable_with_the_reason_and_one_warning(objects: list, code: str) -> None:
    step = only_step(plan_of(*objects), "job")
    assert of_type(step, CreatePod) == []
    assert patched(step)["statusReason"] == code
    assert waiting_status([step])["statusMessage"].startswith(code)
    (event,) = of_type(step, Emit)
    assert (event.reason, event.type) == ("CannotRun", "Warning")

    told = copy.deepcopy(objects[0])
    told["status"] |= patched(step)
    assert steps_for(plan_of(told, *objects[1:]), "job") == []


def test_a_job_that_can_never_fit_is_cancelled_by_a_matching_time_limit_action() -> None:
    action = {"reason": "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE", "state": "RUNNABLE",
              "maxTimeSeconds": 600, "action": "CANCEL"}
    objects = [runnable_job(frozen=sized(32), runnable_ms=NOW_MS - 600_000),
               *setup(max_vcpus=16, time_limit_actions=[action])]
    status = patched(only_step(plan_of(*objects), "job"))
    assert (status["status"], status["statusReason"]) == ("FAILED", "JobStateTimeLimit")


def test_a_runnable_job_whose_queue_was_deleted_fails_as_invalid() -> None:
    """AWS terminates the jobs of a deleted queue; DESIGN §2: a missing queue is
    InvalidJob. Without its queue no jobStateTimeLimitAction can ever end the wait."""
    status = patched(only_step(plan_of(runnable_job(), definition(), compute_environment(), node()), "job"))
    assert (status.get("status"), status.get("statusReason")) == ("FAILED", "InvalidJob")
    assert "'q'" in status["statusMessage"]


def test_a_disabled_ce_makes_jobs_wait_not_fail() -> None:
    steps = plan_of(runnable_job(), definition(), queue(), compute_environment(state="DISABLED"))
    assert waiting_status(steps)["statusReason"] == "COMPUTE_ENVIRONMENT_DISABLED"


# -- jobStateTimeLimitActions ------------------------------------------------------------------------------


STALL_ACTION = {"reason": "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY", "state": "RUNNABLE", "maxTimeSeconds": 600,
                "action": "CANCEL"}


def stalled_ce_world(*, runnable_for_s: int, actions: list[dict]) -> list[dict]:
    """A CE whose STARTING pod has waited 300 s for a node (it takes no new jobs) and a
    job RUNNABLE for ``runnable_for_s`` seconds behind it."""
    stuck = active_job("stuck", "STARTING")
    return [stuck, pod(stuck, unschedulable=True), runnable_job(runnable_ms=NOW_MS - runnable_for_s * 1000),
            *setup(time_limit_actions=actions)]


def test_a_job_runnable_too_long_for_a_listed_reason_is_cancelled() -> None:
    step = only_step(plan_of(*stalled_ce_world(runnable_for_s=601, actions=[STALL_ACTION])), "job")
    status = patched(step)
    assert (status["status"], status["statusReason"], status["stoppedAt"]) == ("FAILED", "JobStateTimeLimit", NOW_MS)
    assert status["statusMessage"] == (
        "Canceled by JobStateTimeLimit action due to reason: CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY")


@pytest.mark.parametrize(
    ("runnable_for_s", "actions"),
    [
        (599, [STALL_ACTION]),
        (10_000, []),
        (10_000, [{**STALL_ACTION, "reason": "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT"}]),
        (10_000, [{**STALL_ACTION, "state": "STARTING"}]),
    ],
    ids=["not long enough", "no action", "other reason", "other state"],
)
def test_a_job_waiting_without_a_matching_time_limit_only_says_why(runnable_for_s: int, actions: list) -> None:
    steps = plan_of(*stalled_ce_world(runnable_for_s=runnable_for_s, actions=actions))
    assert waiting_status(steps)["statusReason"] == "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"


def test_a_full_ce_is_not_insufficient_instance_capacity() -> None:
    holder = active_job("holder", "RUNNING", frozen=sized(2))
    objects = [holder, pod(holder, "Running"), runnable_job(runnable_ms=NOW_MS - 10_000_000),
               *setup(max_vcpus=2, time_limit_actions=[STALL_ACTION])]
    assert waiting_status(plan_of(*objects))["statusReason"] == "CAPACITY"


# -- adoption ------------------------------------------------------------------------------------------------


def test_a_runnable_job_whose_next_pod_exists_adopts_it_instead_of_creating_another() -> None:
    crashed = runnable_job()
    step = only_step(plan_of(crashed, pod(crashed, attempt=1, ce="spot-ce"), *setup()), "job")
    assert of_type(step, CreatePod) == []
    status = patched(step)
    assert (status["status"], status["computeEnvironment"], status["attemptCount"], status["container"]) == (
        "STARTING", "spot-ce", 1, {"podName": "job-a1", "nodeName": None, "exitCode": None, "reason": None})


def test_a_pod_of_an_earlier_attempt_is_not_adopted() -> None:
    retried = runnable_job(attempt_count=1)
    step = only_step(plan_of(retried, pod(retried, "Failed", attempt=1, exit_code=3), *setup()), "job")
    assert [c.manifest["metadata"]["name"] for c in of_type(step, CreatePod)] == ["job-a2"]


def test_an_adopted_pod_counts_against_its_ces_capacity_in_the_same_cycle() -> None:
    """The adopted job is STARTING on the CE from this cycle on: no other job may take
    the vCPUs its pod already uses (maxvCpus is never exceeded)."""
    crashed = runnable_job("crashed", created_ms=0)
    objects = [crashed, pod(crashed, attempt=1), runnable_job("other"), *setup(max_vcpus=1)]
    steps = plan_of(*objects)
    assert patched(only_step(steps, "crashed"))["status"] == "STARTING"
    assert admitted_names(steps) == []


def test_adoption_records_the_real_ce_name_even_when_the_label_is_shortened() -> None:
    long_ce = "c" * 80
    objects = [runnable_job(), definition(), queue("q", long_ce), compute_environment(long_ce)]
    (create,) = of_type(only_step(plan_of(*objects), "job"), CreatePod)
    created = {**create.manifest, "kind": "Pod", "status": {"phase": "Pending"}}
    adopted = patched(only_step(plan_of(*objects, created), "job"))
    assert adopted["computeEnvironment"] == long_ce
