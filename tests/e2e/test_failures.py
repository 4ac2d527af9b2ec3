"""How attempts fail and are retried, on the real control plane (issue 7, DESIGN §2).

Each failure is produced the way a cluster produces it: a container's exit code (kwok's
simulated runs, per attempt), a spot node deleted or tainted by a termination handler
under a running job, an eviction through the Eviction API, an image that cannot be
pulled, and a storm that deletes half of a spot pool's nodes at once. The OOM case is ``test_job_lifecycle.py::test_oom_kill_is_reported_as_aws_does``;
how each signal is classified is unit-tested in ``tests/unit/test_outcome.py``.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.e2e.batch import (TERMINAL, batch_job, compute_environment, job_definition, job_queue, job_statuses, unique,
                             wait_for_state)
from tests.e2e.kubectl import Kubectl
from tests.e2e.test_cluster_smoke import add_kwok_node, evict

pytestmark = pytest.mark.usefixtures("operator")

SEED_RETRY = {"attempts": 3, "evaluateOnExit": [{"action": "RETRY", "onStatusReason": "HostUsageError"},
                                                {"action": "EXIT", "onStatusReason": "TaskFailed"}]}
"""The seed's job definition's retry strategy, verbatim."""

NODE_GROUP_LABEL = "kubatch.io/test-node-group"


@pytest.fixture(scope="module")
def queue(kubectl: Kubectl) -> Iterator[str]:
    """A queue on the on-demand pool."""
    environment, name = unique("failures"), unique("q-failures")
    kubectl.apply(compute_environment(environment), job_queue(name, environment))
    yield name
    kubectl.run("delete", "jobqueue", name, "--wait=false", check=False)
    kubectl.run("delete", "computeenvironment", environment, "--wait=false", check=False)


def run_job(kubectl: Kubectl, namespace: str, queue: str, *, retry: dict, simulate: dict[str, str]) -> dict:
    """Submit one job with ``retry`` and wait for its final status."""
    kubectl.apply(job_definition("job-def", retryStrategy=retry),
                  batch_job("job", definition="job-def", queue=queue, simulate=simulate), namespace=namespace)
    return wait_for_state(kubectl, namespace, "job", TERMINAL)


def start_interruptible_job(kubectl: Kubectl, namespace: str, queue: str) -> dict:
    """Submit a job with the seed's retry strategy whose first attempt would run for ten
    minutes and whose later ones end at once; return its status once attempt 1 runs."""
    kubectl.apply(job_definition("job-def", retryStrategy=SEED_RETRY),
                  batch_job("job", definition="job-def", queue=queue, simulate={"run-seconds": "600,0.2"}),
                  namespace=namespace)
    return wait_for_state(kubectl, namespace, "job", {"RUNNING"})


def exit_codes(status: dict) -> list[int | None]:
    return [attempt["container"].get("exitCode") for attempt in status["attempts"]]


def pods_of(kubectl: Kubectl, namespace: str, status: dict) -> list[str]:
    pods = kubectl.get("pods", namespace=namespace, selector=f"kubatch.io/job-id={status['jobId']}")
    return sorted(pod["metadata"]["name"] for pod in pods["items"])


def test_job_whose_first_two_runs_exit_1_succeeds_on_attempt_3_and_keeps_only_that_pod(
        kubectl: Kubectl, namespace: str, queue: str) -> None:
    status = run_job(kubectl, namespace, queue, retry={"attempts": 3}, simulate={"exit-codes": "1,1,0"})

    assert status["status"] == "SUCCEEDED"
    assert exit_codes(status) == [1, 1, 0]
    assert [a["container"].get("reason") for a in status["attempts"]] == [None, None, None]  # AWS: exit codes say it
    assert [a["container"]["podName"] for a in status["attempts"]] == ["job-a1", "job-a2", "job-a3"]
    # --pod-retention last (the operator's default): the records stay, only the last pod does
    kubectl.wait_for("the pods of earlier attempts to go",
                     lambda: pods_of(kubectl, namespace, status) == ["job-a3"], timeout=30)


def test_seed_exit_rule_does_not_retry_a_non_zero_exit(kubectl: Kubectl, namespace: str, queue: str) -> None:
    retry = {"attempts": 5, "evaluateOnExit": [{"action": "EXIT", "onStatusReason": "TaskFailed"}]}
    status = run_job(kubectl, namespace, queue, retry=retry, simulate={"exit-codes": "1,0"})

    assert (status["status"], status["statusReason"]) == ("FAILED", "TaskFailed")
    assert exit_codes(status) == [1]


def test_image_that_cannot_be_pulled_ends_cannot_pull_container_error(
        kubectl: Kubectl, namespace: str, queue: str) -> None:
    status = run_job(kubectl, namespace, queue, retry={"attempts": 1},
                     simulate={"image-pull-error": "ErrImagePull"})

    assert (status["status"], status["statusReason"]) == ("FAILED", "CannotPullContainerError")
    [attempt] = status["attempts"]
    assert attempt["container"]["reason"].startswith("CannotPullContainerError: ")  # AWS's `Code: detail`
    assert attempt["statusReason"].startswith("CannotPullContainerError: ")


def test_evicted_attempt_is_a_host_failure_and_is_retried(kubectl: Kubectl, namespace: str, queue: str) -> None:
    running = start_interruptible_job(kubectl, namespace, queue)

    evict(kubectl, namespace, running["container"]["podName"])

    status = wait_for_state(kubectl, namespace, "job", TERMINAL)
    assert status["status"] == "SUCCEEDED"
    evicted, retried = status["attempts"]
    assert evicted["container"]["reason"] == "HostUsageError" and evicted["container"].get("exitCode") is None
    assert evicted["statusReason"].startswith(f"Host EC2 (node {running['container']['nodeName']})")
    assert retried["container"]["exitCode"] == 0


@pytest.fixture
def spot_group(kubectl: Kubectl) -> Iterator[tuple[str, str]]:
    """A SPOT queue whose compute environment selects only the spot nodes this test adds.

    Yields ``(queue, group)``: nodes added with ``{NODE_GROUP_LABEL: group}`` are its nodes.
    """
    group, environment, queue_name = unique("spot-group"), unique("spot-own"), unique("q-spot-own")
    ce = compute_environment(environment, type_="SPOT")
    ce["spec"]["computeResources"]["nodeSelector"] = {NODE_GROUP_LABEL: group}
    kubectl.apply(ce, job_queue(queue_name, environment))
    yield queue_name, group
    kubectl.run("delete", "jobqueue", queue_name, "--wait=false", check=False)
    kubectl.run("delete", "computeenvironment", environment, "--wait=false", check=False)
    kubectl.run("delete", "node", "-l", f"{NODE_GROUP_LABEL}={group}", "--wait=false", check=False)


SPOT_INTERRUPTIONS = [
    # how the interruption reaches the cluster (kubectl arguments, given the node), and the attempt's statusReason
    pytest.param(lambda node: ["delete", "node", node, "--wait=false"], "terminated.",
                 id="node-deleted"),  # Karpenter, cluster autoscaler, the cloud node controller
    pytest.param(lambda node: ["taint", "node", node, "aws-node-termination-handler/spot-itn=true:NoSchedule"],
                 "terminated: interruption notice (aws-node-termination-handler/spot-itn).",
                 id="termination-handler-taint"),  # AWS Node Termination Handler, before it drains
]


@pytest.mark.parametrize("interrupt, detail", SPOT_INTERRUPTIONS)
def test_spot_interruption_mid_run_is_a_host_failure_and_the_job_succeeds_on_another_node(
        kubectl: Kubectl, namespace: str, spot_group: tuple[str, str], interrupt, detail: str) -> None:
    queue_name, group = spot_group
    doomed = add_kwok_node(kubectl, f"kwok-{group}-doomed", labels={NODE_GROUP_LABEL: group})
    running = start_interruptible_job(kubectl, namespace, queue_name)
    assert running["container"]["nodeName"] == doomed
    rescue = add_kwok_node(kubectl, f"kwok-{group}-rescue", labels={NODE_GROUP_LABEL: group})

    kubectl.run(*interrupt(doomed))

    status = wait_for_state(kubectl, namespace, "job", TERMINAL)
    assert status["status"] == "SUCCEEDED"
    interrupted, retried = status["attempts"]
    assert interrupted["container"]["reason"] == "HostUsageError"
    assert interrupted["statusReason"] == f"Host EC2 (node {doomed}) {detail}"
    assert (retried["container"]["nodeName"], retried["container"]["exitCode"]) == (rescue, 0)


def test_a_storm_that_takes_half_the_spot_nodes_retries_only_their_jobs_and_frees_their_quota(
        kubectl: Kubectl, namespace: str, spot_group: tuple[str, str]) -> None:
    queue_name, group = spot_group
    nodes = [add_kwok_node(kubectl, f"kwok-{group}-{n}", labels={NODE_GROUP_LABEL: group}) for n in range(4)]
    names = [f"storm-{n}" for n in range(8)]
    kubectl.apply(job_definition("storm-def", retryStrategy=SEED_RETRY),
                  *(batch_job(name, definition="storm-def", queue=queue_name, simulate={"run-seconds": "600,0.2"})
                    for name in names), namespace=namespace)
    running = kubectl.wait_for("all eight running", lambda: (s := job_statuses(kubectl, namespace, names))
                               and all(v.get("status") == "RUNNING" for v in s.values()) and s, timeout=90)
    lost = set(nodes[:2])
    for node in lost:
        kubectl.run("delete", "node", node, "--wait=false")
    hit = {name for name, status in running.items() if status["container"]["nodeName"] in lost}
    spared = set(names) - hit
    assert hit and spared

    kubectl.wait_for("the lost nodes' jobs to finish their retry", lambda: all(
        s.get("status") == "SUCCEEDED" for s in job_statuses(kubectl, namespace, sorted(hit)).values()), timeout=120)
    statuses = job_statuses(kubectl, namespace, names)
    for name in hit:
        interrupted, retried = statuses[name]["attempts"]
        assert interrupted["container"]["reason"] == "HostUsageError", (name, interrupted)
        assert retried["container"]["nodeName"] in set(nodes) - lost and retried["container"]["exitCode"] == 0
    for name in spared:  # untouched: still on their first attempt, on a surviving node
        assert statuses[name]["status"] == "RUNNING" and statuses[name]["attemptCount"] == 1, (name, statuses[name])
    environment = kubectl.get("jobqueue", queue_name)["spec"]["computeEnvironmentOrder"][0]["computeEnvironment"]
    kubectl.wait_for("the lost jobs' vCPUs to be freed", lambda: (kubectl.get("computeenvironment", environment)
                     .get("status") or {}).get("usedvCpus") == len(spared), timeout=30)
    for name in spared:
        kubectl.run("patch", "bj", name, "-n", namespace, "--type=merge",
                    "-p", '{"spec": {"terminateRequest": {"reason": "storm over"}}}')
