"""Array jobs and dependencies on the real control plane.

The 10,000-child run brings its own node pool (64 kwok nodes, 512 CPUs, selected by a
label only they carry) so that the CE's 500 vCPU quota, not the cluster, is the limit.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime
from typing import Iterator

import pytest

from kubatch.core.ranges import decode
from testkit.pools import NodePool, node_manifests
from tests.e2e.batch import batch_job, compute_environment, job_definition, job_queue, job_status, unique, \
    wait_for_state
from tests.e2e.kubectl import Kubectl

pytestmark = pytest.mark.usefixtures("operator")


@pytest.fixture(scope="module")
def queue(kubectl: Kubectl) -> Iterator[str]:
    ce, name = unique("arr-ce"), unique("q-arr")
    manifests = [compute_environment(ce, max_vcpus=16), job_queue(name, ce)]
    kubectl.apply(*manifests)
    yield name
    for manifest in reversed(manifests):
        kubectl.run("delete", manifest["kind"].lower(), manifest["metadata"]["name"], "--wait=false", check=False)


def pods_of(kubectl: Kubectl, namespace: str, job: str) -> list[dict]:
    return (kubectl.get("pods", namespace=namespace, selector=f"kubatch.io/job-name={job}") or {}).get("items", [])


def test_array_children_see_their_index_and_retry_on_their_own(kubectl: Kubectl, namespace: str, queue: str) -> None:
    kubectl.apply(job_definition("indexed", retryStrategy={"attempts": 2}),
                  batch_job("arr", definition="indexed", queue=queue, arrayProperties={"size": 100},
                            simulate={"exit-codes-odd-index": "1,0"}),
                  namespace=namespace)
    status = wait_for_state(kubectl, namespace, "arr", {"SUCCEEDED", "FAILED"}, timeout=180)
    array = status["arrayProperties"]

    assert status["status"] == "SUCCEEDED", status.get("statusMessage")
    assert decode(array["succeeded"]) == set(range(100))
    assert array["statusSummary"]["SUCCEEDED"] == 100
    assert decode(array["attempts"]["1"]) == set(range(0, 100, 2))
    assert decode(array["attempts"]["2"]) == set(range(1, 100, 2))
    pods = pods_of(kubectl, namespace, "arr")
    assert len(pods) == 100  # --pod-retention last: each child keeps its last attempt's pod
    for pod in pods:
        env = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}
        index = int(pod["metadata"]["labels"]["kubatch.io/array-index"])
        assert env["AWS_BATCH_JOB_ARRAY_INDEX"] == str(index)
        assert env["AWS_BATCH_JOB_ARRAY_SIZE"] == "100"
        assert env["AWS_BATCH_JOB_ID"] == f"{status['jobId']}:{index}"
        assert pod["metadata"]["labels"]["kubatch.io/attempt"] == ("2" if index % 2 else "1")


def started(pod: dict) -> float:
    return datetime.fromisoformat(pod["status"]["startTime"].replace("Z", "+00:00")).timestamp()


def finished(pod: dict) -> float:
    moment = pod["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"]
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()


def test_three_stage_pipeline_runs_in_dependency_order(kubectl: Kubectl, namespace: str, queue: str) -> None:
    kubectl.apply(
        job_definition("stage"),
        batch_job("a", definition="stage", queue=queue, arrayProperties={"size": 10},
                  simulate={"run-seconds": "1"}),
        batch_job("b", definition="stage", queue=queue, arrayProperties={"size": 10},
                  dependsOn=[{"jobId": "a", "type": "N_TO_N"}], simulate={"run-seconds": "1"}),
        batch_job("c", definition="stage", queue=queue, arrayProperties={"size": 5},
                  dependsOn=[{"jobId": "b"}, {"type": "SEQUENTIAL"}], simulate={"run-seconds": "1"}),
        namespace=namespace)
    for name in ("a", "b", "c"):
        assert wait_for_state(kubectl, namespace, name, {"SUCCEEDED", "FAILED"}, timeout=180)["status"] == "SUCCEEDED"

    by_job = {name: {int(p["metadata"]["labels"]["kubatch.io/array-index"]): p for p in pods_of(kubectl, namespace, name)}
              for name in ("a", "b", "c")}
    for index in range(10):  # N_TO_N: b[i] starts after a[i] finished
        assert started(by_job["b"][index]) >= finished(by_job["a"][index]) - 1
    last_b = max(finished(p) for p in by_job["b"].values())
    for index in range(5):  # c waits for all of b, then runs its children one after another
        assert started(by_job["c"][index]) >= last_b - 1
        if index:
            assert started(by_job["c"][index]) >= finished(by_job["c"][index - 1]) - 1


def test_a_failed_stage_fails_its_dependents(kubectl: Kubectl, namespace: str, queue: str) -> None:
    kubectl.apply(
        job_definition("stage"),
        batch_job("a", definition="stage", queue=queue, simulate={"exit-code": "2"}),
        batch_job("b", definition="stage", queue=queue, arrayProperties={"size": 3}, dependsOn=[{"jobId": "a"}]),
        batch_job("c", definition="stage", queue=queue, dependsOn=[{"jobId": "b"}]),
        namespace=namespace)
    assert wait_for_state(kubectl, namespace, "a", {"FAILED"})["statusReason"] == "TaskFailed"
    b = wait_for_state(kubectl, namespace, "b", {"FAILED", "SUCCEEDED"})
    assert (b["status"], b["statusReason"]) == ("FAILED", "DependencyFailed")
    c = wait_for_state(kubectl, namespace, "c", {"FAILED", "SUCCEEDED"})
    assert (c["status"], c["statusReason"]) == ("FAILED", "DependencyFailed")
    assert "b" in c["statusMessage"]
    assert pods_of(kubectl, namespace, "b") == [] and pods_of(kubectl, namespace, "c") == []


def test_dependency_on_a_missing_job_is_refused(kubectl: Kubectl, namespace: str, queue: str) -> None:
    kubectl.apply(job_definition("stage"),
                  batch_job("orphan", definition="stage", queue=queue, dependsOn=[{"jobId": "nobody"}]),
                  namespace=namespace)
    status = wait_for_state(kubectl, namespace, "orphan", {"FAILED"})
    assert status["statusReason"] == "InvalidJob" and "spec.dependsOn[0].jobId" in status["statusMessage"]


def test_cancelling_an_array_cancels_children_not_started(kubectl: Kubectl, namespace: str, queue: str) -> None:
    kubectl.apply(job_definition("stage"),
                  batch_job("gate", definition="stage", queue=queue, simulate={"run-seconds": "600"}),
                  batch_job("held", definition="stage", queue=queue, arrayProperties={"size": 4},
                            dependsOn=[{"jobId": "gate"}]),
                  namespace=namespace)
    assert wait_for_state(kubectl, namespace, "held", {"PENDING"})
    kubectl.run("patch", "bj", "held", "-n", namespace, "--type=merge",
                "-p", json.dumps({"spec": {"cancelRequest": {"reason": "changed my mind"}}}))
    status = wait_for_state(kubectl, namespace, "held", {"FAILED"})
    assert status["statusReason"] == "Cancelled"
    assert decode(status["arrayProperties"]["failed"]) == {0, 1, 2, 3}
    kubectl.run("patch", "bj", "gate", "-n", namespace, "--type=merge",
                "-p", json.dumps({"spec": {"terminateRequest": {"reason": "cleanup"}}}))


@pytest.fixture
def big_pool(kubectl: Kubectl) -> Iterator[str]:
    """64 extra on-demand nodes (512 CPUs) that only the big array's CE selects."""
    label = unique("bigpool")
    nodes = node_manifests([NodePool(name="on-demand", count=64, cpu=8, memory_gi=32, instance_type="m5.2xlarge")])
    for node in nodes:
        node["metadata"]["name"] = node["metadata"]["labels"]["kubernetes.io/hostname"] = \
            node["metadata"]["name"].replace("kwok-on-demand", label)
        node["metadata"]["labels"]["kubatch.io/test-pool"] = label
    kubectl.apply(*nodes)
    yield label
    kubectl.run("delete", "nodes", "-l", f"kubatch.io/test-pool={label}", "--wait=false", check=False)


def test_ten_thousand_children_respect_the_quota_and_survive_an_operator_crash(
        kubectl: Kubectl, namespace: str, big_pool: str, operator) -> None:
    ce, queue_name = unique("big-ce"), unique("q-big")
    big_ce = compute_environment(ce, max_vcpus=500)
    big_ce["spec"]["computeResources"]["nodeSelector"] = {"kubatch.io/test-pool": big_pool}
    kubectl.apply(big_ce, job_queue(queue_name, ce))
    kubectl.apply(job_definition("tiny", memory="64"),
                  batch_job("big", definition="tiny", queue=queue_name, arrayProperties={"size": 10_000}),
                  namespace=namespace)
    began = time.monotonic()
    kubectl.wait_for("a quarter of the children to finish", lambda: (job_status(kubectl, namespace, "big")
                     .get("arrayProperties") or {}).get("statusSummary", {}).get("SUCCEEDED", 0) >= 2500,
                     timeout=1200, interval=2)
    assert job_status(kubectl, namespace, "big")["status"] == "PENDING"  # as AWS: the parent waits for every child
    operator.kill_and_restart()
    # generous: on a loaded 2-core machine this run has taken 15 to 35 minutes
    status = wait_for_state(kubectl, namespace, "big", {"SUCCEEDED", "FAILED"}, timeout=2700)
    wall = time.monotonic() - began

    assert status["status"] == "SUCCEEDED", status.get("statusMessage")
    assert decode(status["arrayProperties"]["succeeded"]) == set(range(10_000))
    listing = kubectl.run("get", "pods", "-n", namespace, "-l", "kubatch.io/job-name=big", "-o", "json").stdout
    pods = json.loads(listing)["items"]
    names = Counter(p["metadata"]["name"] for p in pods)
    assert len(pods) == 10_000 and max(names.values()) == 1
    assert {p["metadata"]["labels"]["kubatch.io/attempt"] for p in pods} == {"1"}
    edges = sorted([(started(p), 1) for p in pods] + [(finished(p), -1) for p in pods])
    running = peak = 0
    for _, delta in edges:
        running += delta
        peak = max(peak, running)
    assert peak <= 500
    print(f"\n10,000-child array: {wall:.0f} s wall, peak {peak} pods running at once, "
          f"operator peak RSS {operator.peak_rss_mib():.0f} MiB (after restart)")
    # 10,000 pods would otherwise be garbage-collected while the next tests run, slowing them:
    # delete the job and wait until its pods are gone (foreground: dependents first).
    kubectl.run("delete", "batchjob", "big", "-n", namespace, "--cascade=foreground", "--timeout=600s", check=False)
    kubectl.wait_for("the 10,000 pods to be gone", lambda: not (kubectl.get(
        "pods", namespace=namespace, selector="kubatch.io/job-name=big") or {}).get("items"), timeout=600, interval=5)
    kubectl.run("delete", "jobqueue", queue_name, "--wait=false", check=False)
    kubectl.run("delete", "computeenvironment", ce, "--wait=false", check=False)
