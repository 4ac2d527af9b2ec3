"""One job's whole life against the real control plane: states, pods, retries, timeouts, stops.

Each test gets its own namespace; the compute environments and queues (cluster-scoped)
are made once per module with unique names and removed afterwards.
"""

from __future__ import annotations

import json
from typing import Iterator

import pytest

from tests.e2e.batch import (
    batch_job,
    compute_environment,
    job_definition,
    job_queue,
    job_status,
    job_statuses,
    unique,
    wait_for_state,
)
from tests.e2e.kubectl import Kubectl

pytestmark = pytest.mark.usefixtures("operator")


class Env:
    def __init__(self) -> None:
        self.ondemand = unique("ondemand")
        self.spot = unique("spot")
        self.fargate = unique("fargate")
        self.disabled = unique("disabled")
        self.small = unique("small")
        self.queue = unique("q")
        self.spot_queue = unique("q-spot")
        self.fargate_queue = unique("q-fargate")
        self.stuck_queue = unique("q-stuck")
        self.small_queue = unique("q-small")
        self.disabled_queue = unique("q-off")

    def manifests(self) -> list[dict]:
        off_queue = job_queue(self.disabled_queue, self.ondemand)
        off_queue["spec"]["state"] = "DISABLED"
        return [
            compute_environment(self.ondemand, max_vcpus=16),
            compute_environment(self.spot, type_="SPOT", max_vcpus=16),
            compute_environment(self.fargate, type_="FARGATE", max_vcpus=32),
            compute_environment(self.disabled, max_vcpus=16, state="DISABLED"),
            compute_environment(self.small, max_vcpus=2),
            job_queue(self.queue, self.ondemand),
            job_queue(self.spot_queue, self.spot),
            job_queue(self.fargate_queue, self.fargate),
            job_queue(self.stuck_queue, self.disabled),
            job_queue(self.small_queue, self.small),
            off_queue,
        ]


@pytest.fixture(scope="module")
def env(kubectl: Kubectl) -> Iterator[Env]:
    environment = Env()
    manifests = environment.manifests()
    kubectl.apply(*manifests)
    yield environment
    for manifest in reversed(manifests):
        kubectl.run("delete", manifest["kind"].lower(), manifest["metadata"]["name"], "--wait=false", check=False)


def pod(kubectl: Kubectl, namespace: str, name: str) -> dict:
    found = kubectl.get("pod", name, namespace=namespace)
    assert found is not None, f"pod {name} not found"
    return found


def env_vars(pod_object: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in pod_object["spec"]["containers"][0].get("env", [])}


def pool_of(kubectl: Kubectl, node_name: str) -> str:
    return kubectl.get("node", node_name)["metadata"]["labels"]["kubatch.io/capacity-type"]


def test_container_job_succeeds_with_aws_status_and_environment(kubectl: Kubectl, namespace: str, env: Env) -> None:
    kubectl.apply(job_definition("hello", command=["echo", "Ref::greeting"], parameters={"greeting": "hi"}),
                  batch_job("hello-1", definition="hello", queue=env.queue, parameters={"greeting": "bonjour"}),
                  namespace=namespace)
    status = wait_for_state(kubectl, namespace, "hello-1", {"SUCCEEDED", "FAILED"})
    job = kubectl.get("batchjob", "hello-1", namespace=namespace)

    assert status["status"] == "SUCCEEDED"
    assert status["jobId"] == job["metadata"]["uid"]
    assert status["jobQueue"] == env.queue and status["computeEnvironment"] == env.ondemand
    assert status["createdAt"] <= status["startedAt"] <= status["stoppedAt"]
    assert [a["container"]["exitCode"] for a in status["attempts"]] == [0]
    assert status["resolvedDefinition"]["revision"] == 1

    the_pod = pod(kubectl, namespace, status["attempts"][0]["container"]["podName"])
    assert the_pod["metadata"]["name"] == "hello-1-a1"
    assert the_pod["spec"]["containers"][0]["command"] == ["echo", "bonjour"]
    variables = env_vars(the_pod)
    assert variables["AWS_BATCH_JOB_ID"] == status["jobId"]
    assert variables["AWS_BATCH_JOB_ATTEMPT"] == "1"
    assert variables["AWS_BATCH_JQ_NAME"] == env.queue
    assert variables["AWS_BATCH_CE_NAME"] == env.ondemand
    labels = the_pod["metadata"]["labels"]
    assert labels["kubatch.io/job-id"] == status["jobId"] and labels["kubatch.io/attempt"] == "1"
    assert labels["kubatch.io/queue"] == env.queue and labels["kubatch.io/compute-environment"] == env.ondemand
    assert pool_of(kubectl, the_pod["spec"]["nodeName"]) == "on-demand"
    assert the_pod["metadata"]["ownerReferences"][0]["uid"] == status["jobId"]

    printed = kubectl.run("get", "bj", "hello-1", "-n", namespace).stdout
    assert "SUCCEEDED" in printed and env.queue in printed and env.ondemand in printed


def test_failed_attempts_are_retried_by_rule_then_fail(kubectl: Kubectl, namespace: str, env: Env) -> None:
    retry = {"attempts": 3, "evaluateOnExit": [{"onExitCode": "3", "action": "RETRY"},
                                               {"onExitCode": "*", "action": "EXIT"}]}
    kubectl.apply(job_definition("flaky"),
                  batch_job("flaky-1", definition="flaky", queue=env.queue, retryStrategy=retry,
                            simulate={"exit-code": "3"}),
                  namespace=namespace)
    status = wait_for_state(kubectl, namespace, "flaky-1", {"SUCCEEDED", "FAILED"})

    assert (status["status"], status["statusReason"]) == ("FAILED", "TaskFailed")
    assert [a["container"]["exitCode"] for a in status["attempts"]] == [3, 3, 3]
    assert [a["container"].get("reason") for a in status["attempts"]] == [None] * 3  # AWS: the exit code says it
    names = [a["container"]["podName"] for a in status["attempts"]]
    assert names == ["flaky-1-a1", "flaky-1-a2", "flaky-1-a3"]
    assert env_vars(pod(kubectl, namespace, names[-1]))["AWS_BATCH_JOB_ATTEMPT"] == "3"
    # --pod-retention last (the default): earlier attempts' pods go, their records stay
    kubectl.wait_for("earlier attempts' pods to be removed",
                     lambda: all(kubectl.get("pod", n, namespace=namespace) is None for n in names[:-1]))


def test_exit_rule_stops_retries_at_once(kubectl: Kubectl, namespace: str, env: Env) -> None:
    retry = {"attempts": 5, "evaluateOnExit": [{"onExitCode": "7", "action": "exit"}]}
    kubectl.apply(job_definition("quits"),
                  batch_job("quits-1", definition="quits", queue=env.queue, retryStrategy=retry,
                            simulate={"exit-code": "7"}),
                  namespace=namespace)
    status = wait_for_state(kubectl, namespace, "quits-1", {"SUCCEEDED", "FAILED"})
    assert status["status"] == "FAILED" and len(status["attempts"]) == 1


def test_oom_kill_is_reported_as_aws_does(kubectl: Kubectl, namespace: str, env: Env) -> None:
    kubectl.apply(job_definition("hungry"),
                  batch_job("hungry-1", definition="hungry", queue=env.queue, simulate={"oom": "true"}),
                  namespace=namespace)
    status = wait_for_state(kubectl, namespace, "hungry-1", {"SUCCEEDED", "FAILED"})
    assert (status["status"], status["statusReason"]) == ("FAILED", "OutOfMemoryError")
    container = status["attempts"][0]["container"]
    assert (container["reason"], container["exitCode"]) == ("OutOfMemoryError: Container killed due to memory usage", 137)


def test_attempt_timeout_ends_the_job_and_is_not_retried(kubectl: Kubectl, namespace: str, env: Env) -> None:
    kubectl.apply(job_definition("slow", timeout={"attemptDurationSeconds": 60}, retryStrategy={"attempts": 2}),
                  batch_job("slow-1", definition="slow", queue=env.queue, simulate={"run-seconds": "600"}),
                  namespace=namespace)
    running = wait_for_state(kubectl, namespace, "slow-1", {"RUNNING"})
    assert pod(kubectl, namespace, running["container"]["podName"])["spec"]["activeDeadlineSeconds"] == 60
    status = wait_for_state(kubectl, namespace, "slow-1", {"SUCCEEDED", "FAILED"}, timeout=120)
    assert (status["status"], status["statusReason"]) == ("FAILED", "JobTimeout")
    assert len(status["attempts"]) == 1 and status["attempts"][0]["container"]["reason"] == "JobTimeout"


def test_runnable_job_says_why_it_waits_and_can_be_cancelled(kubectl: Kubectl, namespace: str, env: Env) -> None:
    kubectl.apply(job_definition("waits"), batch_job("waits-1", definition="waits", queue=env.stuck_queue),
                  namespace=namespace)
    waiting = kubectl.wait_for("a RUNNABLE job's reason", lambda: (s := job_status(kubectl, namespace, "waits-1"))
                               .get("status") == "RUNNABLE" and env.disabled in (s.get("statusMessage") or "") and s)
    assert "DISABLED" in waiting["statusMessage"]

    kubectl.run("patch", "bj", "waits-1", "-n", namespace, "--type=merge",
                "-p", json.dumps({"spec": {"cancelRequest": {"reason": "not needed"}}}))
    status = wait_for_state(kubectl, namespace, "waits-1", {"FAILED"})
    assert status["statusReason"] == "Cancelled" and "not needed" in status["statusMessage"]


def test_terminate_stops_a_running_job(kubectl: Kubectl, namespace: str, env: Env) -> None:
    kubectl.apply(job_definition("long"),
                  batch_job("long-1", definition="long", queue=env.queue, simulate={"run-seconds": "600"}),
                  namespace=namespace)
    running = wait_for_state(kubectl, namespace, "long-1", {"RUNNING"})
    kubectl.run("patch", "bj", "long-1", "-n", namespace, "--type=merge",
                "-p", json.dumps({"spec": {"terminateRequest": {"reason": "operator says stop"}}}))
    status = wait_for_state(kubectl, namespace, "long-1", {"FAILED"})
    assert status["statusReason"] == "Terminated"
    kubectl.wait_for("the terminated job's pod to go",
                     lambda: kubectl.get("pod", running["container"]["podName"], namespace=namespace) is None)


@pytest.mark.parametrize("pool, queue_attr", [("spot", "spot_queue"), ("fargate", "fargate_queue")])
def test_jobs_run_on_their_compute_environments_pool(kubectl: Kubectl, namespace: str, env: Env, pool: str,
                                                     queue_attr: str) -> None:
    kubectl.apply(job_definition("pooled", vcpus="2", memory="1024"),
                  batch_job("pooled-1", definition="pooled", queue=getattr(env, queue_attr)), namespace=namespace)
    status = wait_for_state(kubectl, namespace, "pooled-1", {"SUCCEEDED", "FAILED"})
    assert status["status"] == "SUCCEEDED"
    the_pod = pod(kubectl, namespace, status["attempts"][0]["container"]["podName"])
    assert pool_of(kubectl, the_pod["spec"]["nodeName"]) == pool
    resources = the_pod["spec"]["containers"][0]["resources"]
    if pool == "fargate":
        assert resources["requests"] == resources["limits"] == {"cpu": "2", "memory": "1Gi"}


def test_capacity_is_never_exceeded(kubectl: Kubectl, namespace: str, env: Env) -> None:
    kubectl.apply(job_definition("one-cpu"), namespace=namespace)
    names = [f"cap-{i}" for i in range(4)]
    kubectl.apply(*(batch_job(n, definition="one-cpu", queue=env.small_queue, simulate={"run-seconds": "3"})
                    for n in names), namespace=namespace)
    peak, messages = 0, set()

    def all_done() -> bool:
        nonlocal peak
        states = list(job_statuses(kubectl, namespace, names).values())
        peak = max(peak, sum(s.get("status") in ("STARTING", "RUNNING") for s in states))
        messages.update(s.get("statusMessage") or "" for s in states if s.get("status") == "RUNNABLE")
        return all(s.get("status") == "SUCCEEDED" for s in states)

    kubectl.wait_for("all capacity-limited jobs to succeed", all_done, timeout=90, interval=0.1)
    assert peak == 2
    assert any(env.small in m and "CAPACITY" in m for m in messages), messages


def test_invalid_jobs_fail_with_a_reason_naming_the_field(kubectl: Kubectl, namespace: str, env: Env) -> None:
    kubectl.apply(job_definition("exists"),
                  batch_job("no-def", definition="missing", queue=env.queue),
                  batch_job("no-queue", definition="exists", queue="no-such-queue"),
                  batch_job("off-queue", definition="exists", queue=env.disabled_queue),
                  namespace=namespace)
    for name, field in (("no-def", "spec.jobDefinition"), ("no-queue", "spec.jobQueue"), ("off-queue", "spec.jobQueue")):
        status = wait_for_state(kubectl, namespace, name, {"FAILED"})
        assert status["statusReason"] == "InvalidJob" and field in status["statusMessage"], status


def test_definition_revisions_are_frozen_into_jobs(kubectl: Kubectl, namespace: str, env: Env) -> None:
    kubectl.apply(job_definition("evolving", command=["echo", "one"]), namespace=namespace)
    kubectl.wait_for("revision 1", lambda: (kubectl.get("jd", "evolving", namespace=namespace) or {})
                     .get("status", {}).get("revision") == 1)
    kubectl.apply(job_definition("evolving", command=["echo", "two"]), namespace=namespace)
    kubectl.wait_for("revision 2", lambda: (kubectl.get("jd", "evolving", namespace=namespace) or {})
                     .get("status", {}).get("revision") == 2)
    kubectl.apply(batch_job("old", definition="evolving:1", queue=env.queue),
                  batch_job("new", definition="evolving", queue=env.queue), namespace=namespace)
    for name, word, revision in (("old", "one", 1), ("new", "two", 2)):
        status = wait_for_state(kubectl, namespace, name, {"SUCCEEDED", "FAILED"})
        assert status["resolvedDefinition"]["revision"] == revision
        assert pod(kubectl, namespace, f"{name}-a1")["spec"]["containers"][0]["command"] == ["echo", word]


def test_bad_input_is_rejected_at_the_door(kubectl: Kubectl, namespace: str, env: Env) -> None:
    bad = batch_job("bad", definition="x", queue=env.queue, arrayProperties={"size": 1})
    result = kubectl.run("apply", "-n", namespace, "-f", "-", stdin=json.dumps(bad), check=False)
    assert result.returncode != 0 and "spec.arrayProperties.size" in result.stderr

    kubectl.apply(job_definition("fixed"), batch_job("fixed-1", definition="fixed", queue=env.queue),
                  namespace=namespace)
    moved = kubectl.run("patch", "bj", "fixed-1", "-n", namespace, "--type=merge",
                        "-p", json.dumps({"spec": {"jobQueue": env.spot_queue}}), check=False)
    assert moved.returncode != 0 and "immutable" in moved.stderr
