"""STARTING and RUNNING jobs: the attempt's pod decides the next state (DESIGN §2).

A started container makes the job RUNNING; a finished pod ends the attempt (SUCCEEDED,
FAILED with AWS's reason, or back to RUNNABLE when retryStrategy says so); a vanished
pod is a host failure; TerminateJob deletes the pod and fails the job; CancelJob does
nothing to a started job. Cancel/terminate of jobs that have not started are here too.
"""

from __future__ import annotations

import pytest

from kubatch.core.actions import CreatePod, DeletePod, Emit
from kubatch.core.reconcile import PodRetention, Settings, plan

from .builders import (
    NOW_MS,
    active_job,
    definition_spec,
    finished_job,
    healthy,
    iso,
    job,
    of_type,
    only_step,
    patched,
    plan_of,
    pod,
    runnable_job,
    steps_for,
    world,
)

STARTED_MS = NOW_MS - 20_000
FINISHED_MS = NOW_MS - 5_000
RETRY_ON_3 = {"attempts": 2, "evaluateOnExit": [{"onExitCode": "3", "action": "RETRY"},
                                                {"onReason": "*", "action": "EXIT"}]}
EXIT_ON_3 = {"attempts": 3, "evaluateOnExit": [{"onExitCode": "3", "action": "EXIT"}]}


def with_retry(strategy: dict) -> dict:
    return definition_spec(retryStrategy=strategy)


def step_of(*objects: dict, name: str = "job", settings: Settings = Settings()):
    return only_step(plan(world(*objects, *healthy()), now_ms=NOW_MS, settings=settings), name)


# -- the container starts -------------------------------------------------------------------------


def test_a_started_container_makes_the_job_running() -> None:
    starting = active_job(status_message="Starting on compute environment ce")
    step = step_of(starting, pod(starting, "Running", started_ms=STARTED_MS))
    assert patched(step) == {"status": "RUNNING", "statusReason": None, "statusMessage": None,
                             "startedAt": STARTED_MS, "container": {"podName": "job-a1", "nodeName": "node-1"}}
    (event,) = of_type(step, Emit)
    assert (event.reason, event.type) == ("Running", "Normal")


def test_a_retried_job_keeps_its_first_start_time() -> None:
    starting = active_job(attempt=2)
    starting["status"]["startedAt"] = NOW_MS - 500_000
    assert patched(step_of(starting, pod(starting, "Running")))["startedAt"] == NOW_MS - 500_000


@pytest.mark.parametrize(
    ("state", "pod_fields"),
    [
        ("STARTING", {"phase": "Pending"}),
        ("STARTING", {"phase": "Pending", "waiting": "ContainerCreating"}),
        ("RUNNING", {"phase": "Running"}),
    ],
    ids=["pending", "container creating", "running"],
)
def test_nothing_is_written_while_the_attempt_goes_on(state: str, pod_fields: dict) -> None:
    going = active_job(state=state)
    assert steps_for(plan_of(going, pod(going, **pod_fields), *healthy()), "job") == []


@pytest.mark.parametrize(
    ("pod_fields", "message"),
    [
        ({"unschedulable": True},
         "Pod job-a1 is waiting for a node: 0/3 nodes are available: 3 Insufficient cpu."),
        ({"waiting": "ImagePullBackOff"}, "Pod job-a1 container main is waiting: ImagePullBackOff"),
    ],
    ids=["unschedulable", "image pull back-off (within grace)"],
)
def test_a_starting_pod_that_waits_says_why_once(pod_fields: dict, message: str) -> None:
    starting = active_job()
    step = step_of(starting, pod(starting, **pod_fields))
    assert len(step.actions) == 1
    assert patched(step) == {"statusMessage": message}
    told = active_job(status_message=message)
    assert steps_for(plan_of(told, pod(told, **pod_fields), *healthy()), "job") == []


def test_pods_of_earlier_attempts_are_ignored() -> None:
    second = active_job(attempt=2)
    objects = [second, pod(second, "Failed", attempt=1, exit_code=3), pod(second, "Pending", attempt=2), *healthy()]
    assert steps_for(plan_of(*objects), "job") == []


# -- the attempt ends -----------------------------------------------------------------------------------


def test_a_succeeded_pod_makes_the_job_succeeded_with_the_attempt_recorded() -> None:
    running = active_job(state="RUNNING", started_ms=STARTED_MS)
    step = step_of(running, pod(running, "Succeeded", started_ms=STARTED_MS, finished_ms=FINISHED_MS))
    status = patched(step)
    record = {"container": {"podName": "job-a1", "nodeName": "node-1", "exitCode": 0, "reason": None},
              "startedAt": STARTED_MS, "stoppedAt": FINISHED_MS,
              "statusReason": "Essential container in task exited"}
    assert (status["status"], status["statusReason"], status["stoppedAt"]) == ("SUCCEEDED", None, NOW_MS)
    assert status["attempts"] == [record]
    assert status["container"] == record["container"]
    assert status["conditions"][0] | {"lastTransitionTime": None} == {
        "type": "Complete", "status": "True", "reason": "Succeeded", "message": "Essential container in task exited",
        "lastTransitionTime": None}
    assert status["conditions"][0]["lastTransitionTime"] == iso(NOW_MS)
    assert of_type(step, DeletePod) == []
    assert [e.reason for e in of_type(step, Emit)] == ["Succeeded"]


def test_a_job_whose_pod_ended_before_it_was_seen_running_still_has_a_start_time() -> None:
    starting = active_job(state="STARTING")  # a busy operator never saw the pod Running
    status = patched(step_of(starting, pod(starting, "Succeeded", started_ms=STARTED_MS, finished_ms=FINISHED_MS)))
    assert (status["status"], status["startedAt"]) == ("SUCCEEDED", STARTED_MS)
    running = active_job(state="RUNNING", started_ms=STARTED_MS - 1_000)
    status = patched(step_of(running, pod(running, "Succeeded", started_ms=STARTED_MS, finished_ms=FINISHED_MS)))
    assert "startedAt" not in status  # a start already recorded stays as it was


def test_exit_3_with_a_retry_rule_goes_back_to_runnable_with_the_attempt_recorded() -> None:
    running = active_job(state="RUNNING", frozen=with_retry(RETRY_ON_3))
    step = step_of(running, pod(running, "Failed", exit_code=3, started_ms=STARTED_MS, finished_ms=FINISHED_MS))
    status = patched(step)
    assert (status["status"], status["statusReason"], status["runnableAt"]) == ("RUNNABLE", "TaskFailed", NOW_MS)
    assert status["statusMessage"].startswith("Waiting to retry")
    assert status["computeEnvironment"] is None
    assert "stoppedAt" not in status
    assert status["attempts"] == [{
        "container": {"podName": "job-a1", "nodeName": "node-1", "exitCode": 3, "reason": None},
        "startedAt": STARTED_MS, "stoppedAt": FINISHED_MS, "statusReason": "Essential container in task exited"}]
    (event,) = of_type(step, Emit)
    assert (event.reason, event.type) == ("Retrying", "Warning")
    assert of_type(step, CreatePod) == []


def test_earlier_attempts_stay_recorded() -> None:
    earlier = {"container": {"podName": "job-a1", "exitCode": 3}, "statusReason": "x"}
    running = active_job(state="RUNNING", attempt=2, frozen=with_retry(RETRY_ON_3))
    running["status"]["attempts"] = [earlier]
    status = patched(step_of(running, pod(running, "Failed", exit_code=3)))
    assert status["status"] == "FAILED"
    assert [a["container"]["podName"] for a in status["attempts"]] == ["job-a1", "job-a2"]


@pytest.mark.parametrize(
    ("strategy", "attempt", "pod_fields", "reason", "container_reason", "exit_code"),
    [
        (EXIT_ON_3, 1, {"exit_code": 3}, "TaskFailed", None, 3),  # as AWS: a plain exit has no container reason
        (RETRY_ON_3, 2, {"exit_code": 3}, "TaskFailed", None, 3),
        ({"attempts": 1}, 1, {"exit_code": 1}, "TaskFailed", None, 1),
        ({"attempts": 1}, 1, {"exit_code": 137, "oom": True}, "OutOfMemoryError",
         "OutOfMemoryError: Container killed due to memory usage", 137),
    ],
    ids=["EXIT rule", "attempts exhausted", "no retry strategy", "OOM killed"],
)
def test_a_failed_pod_without_retries_left_fails_the_job(strategy: dict, attempt: int, pod_fields: dict,
                                                         reason: str, container_reason: str,
                                                         exit_code: int) -> None:
    running = active_job(state="RUNNING", attempt=attempt, frozen=with_retry(strategy))
    status = patched(step_of(running, pod(running, "Failed", **pod_fields)))
    assert (status["status"], status["statusReason"], status["stoppedAt"]) == ("FAILED", reason, NOW_MS)
    assert (status["container"]["exitCode"], status["container"]["reason"]) == (exit_code, container_reason)
    assert status["conditions"][0]["type"] == "Failed"


@pytest.mark.parametrize("state", ["STARTING", "RUNNING"])
def test_a_vanished_pod_is_a_host_failure(state: str) -> None:
    lost = active_job(state=state)
    step = step_of(lost)
    status = patched(step)
    assert (status["status"], status["statusReason"]) == ("FAILED", "HostUsageError")
    assert status["statusMessage"].startswith("Host EC2")
    assert status["attempts"][-1]["container"] == {"podName": "job-a1", "nodeName": None, "exitCode": None,
                                                   "reason": "HostUsageError"}
    assert status["attempts"][-1]["stoppedAt"] == NOW_MS
    assert of_type(step, DeletePod) == []


def test_a_vanished_pod_is_retried_by_a_host_rule() -> None:
    strategy = {"attempts": 3, "evaluateOnExit": [{"onStatusReason": "Host EC2*", "action": "RETRY"}]}
    status = patched(step_of(active_job(state="RUNNING", frozen=with_retry(strategy))))
    assert (status["status"], status["statusReason"]) == ("RUNNABLE", "HostUsageError")


def test_a_running_pod_on_a_node_that_is_gone_is_deleted_and_the_attempt_fails() -> None:
    running = active_job(state="RUNNING")
    step = only_step(plan_of(running, pod(running, "Running", node_name="gone"), *healthy()), "job")
    assert of_type(step, DeletePod) == [DeletePod("default", "job-a1")]
    assert patched(step)["statusReason"] == "HostUsageError"


def test_an_attempt_past_its_duration_is_stopped_by_the_operator_too() -> None:
    running = active_job(state="RUNNING", frozen=definition_spec(timeout={"attemptDurationSeconds": 60}))
    step = step_of(running, pod(running, "Running", started_ms=NOW_MS - 200_000))
    status = patched(step)
    assert (status["status"], status["statusReason"]) == ("FAILED", "JobTimeout")
    assert of_type(step, DeletePod) == [DeletePod("default", "job-a1")]


def test_a_pod_the_kubelet_stopped_at_its_deadline_is_a_timeout() -> None:
    running = active_job(state="RUNNING", frozen=definition_spec(timeout={"attemptDurationSeconds": 60}))
    deadline = pod(running, "Failed", exit_code=137)
    deadline["status"]["reason"] = "DeadlineExceeded"
    status = patched(step_of(running, deadline))
    assert (status["status"], status["statusReason"], status["container"]["exitCode"]) == ("FAILED", "JobTimeout",
                                                                                          None)


# -- pod retention after an attempt ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retention", "attempt", "deleted"),
    [
        (PodRetention.LAST, 1, True), (PodRetention.LAST, 2, False),
        (PodRetention.ALL, 1, False), (PodRetention.ALL, 2, False),
        (PodRetention.NONE, 1, True), (PodRetention.NONE, 2, True),
    ],
)
def test_finished_pods_are_kept_by_the_retention_policy(retention: PodRetention, attempt: int,
                                                        deleted: bool) -> None:
    """Attempt 1 of 2 is retried (its pod is not the last); attempt 2 ends the job."""
    running = active_job(state="RUNNING", attempt=attempt, frozen=with_retry(RETRY_ON_3))
    step = step_of(running, pod(running, "Failed", exit_code=3), settings=Settings(pod_retention=retention))
    assert of_type(step, DeletePod) == ([DeletePod("default", f"job-a{attempt}")] if deleted else [])


# -- cancel and terminate ---------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["STARTING", "RUNNING"])
@pytest.mark.parametrize("with_pod", [True, False])
def test_terminate_deletes_the_pod_and_fails_the_job(state: str, with_pod: bool) -> None:
    started = active_job(state=state, terminateRequest={"reason": "wrong input"})
    step = step_of(started, *([pod(started, "Running")] if with_pod else []))
    expected_delete = [DeletePod("default", "job-a1", grace_seconds=30)] if with_pod else []
    assert of_type(step, DeletePod) == expected_delete
    if with_pod:
        assert isinstance(step.actions[0], DeletePod)
    status = patched(step)
    assert (status["status"], status["statusReason"], status["statusMessage"], status["stoppedAt"]) == (
        "FAILED", "Terminated", "wrong input", NOW_MS)
    assert status["attempts"][-1]["statusReason"] == "wrong input"
    assert status["attempts"][-1]["container"]["podName"] == "job-a1"


@pytest.mark.parametrize("state", ["STARTING", "RUNNING"])
def test_cancel_does_nothing_to_a_started_job(state: str) -> None:
    started = active_job(state=state, cancelRequest={"reason": "changed my mind"})
    running_pod = pod(started, "Running")
    steps = steps_for(plan_of(started, running_pod, *healthy()), "job")
    assert all(patched(step).get("status") in (None, "RUNNING") for step in steps)
    assert all(not of_type(step, DeletePod) for step in steps)


@pytest.mark.parametrize(
    ("request_field", "reason"),
    [("cancelRequest", "Cancelled"), ("terminateRequest", "Cancelled")],
)
@pytest.mark.parametrize("before_start", ["new", "RUNNABLE"])
def test_a_job_that_has_not_started_is_cancelled_by_either_request(request_field: str, reason: str,
                                                                   before_start: str) -> None:
    fields = {request_field: {"reason": "not needed"}}
    stopped = job(**fields) if before_start == "new" else runnable_job(**fields)
    step = step_of(stopped)
    status = patched(step)
    assert (status["status"], status["statusReason"], status["statusMessage"], status["stoppedAt"]) == (
        "FAILED", reason, "not needed", NOW_MS)
    assert of_type(step, CreatePod) == [] and of_type(step, DeletePod) == []
    (event,) = of_type(step, Emit)
    assert (event.reason, event.type) == ("Failed", "Warning")


@pytest.mark.parametrize("state", ["SUCCEEDED", "FAILED"])
def test_finished_jobs_never_change(state: str) -> None:
    done = finished_job(state=state, terminateRequest={"reason": "late"}, cancelRequest={"reason": "late"})
    assert steps_for(plan_of(done, pod(done, "Running"), *healthy()), "job") == []
