"""Crash safety: the operator SIGKILLed again and again, and the API server restarted, mid-run.

A mixed workload (an array whose odd children fail once, a dependency chain, a
multi-node job, a job that needs three attempts, one that fails) runs while the
operator is killed at random moments, at least ten times, and restarted, as a crashed
pod is. Every job must end as it would have without crashes, and the pods the
scheduler placed must be exactly one per (job, array index, node, attempt) that
should exist: none missing, none extra. The kube-scheduler's ``Scheduled`` events are
the witness, since with ``--pod-retention last`` earlier attempts' pods are gone.
"""

from __future__ import annotations

import os
import random
import signal
import time
from typing import Iterator

import pytest

from testkit import cluster as local_cluster
from tests.e2e.batch import (API_VERSION, batch_job, job_definition, job_statuses,
                             queue_on_new_environment)
from tests.e2e.conftest import OperatorProcess
from tests.e2e.kubectl import Kubectl

KILLS = 10
SEED = int(os.environ.get("KUBATCH_CHAOS_SEED", "20261122"))

EXPECTED = {
    # name: (final state, attempts, pod names that must have been scheduled)
    "arr": ("SUCCEEDED", None, {f"arr-i{i}-a{a}" for i in range(24) for a in ((1, 2) if i % 2 else (1,))}),
    "c1": ("SUCCEEDED", 1, {"c1-a1"}),
    "c2": ("SUCCEEDED", 1, {"c2-a1"}),
    "c3": ("SUCCEEDED", 1, {"c3-a1"}),
    "mnp": ("SUCCEEDED", 1, {"mnp-n0-a1", "mnp-n1-a1", "mnp-n2-a1"}),
    "thrice": ("SUCCEEDED", 3, {"thrice-a1", "thrice-a2", "thrice-a3"}),
    "broken": ("FAILED", 1, {"broken-a1"}),
}


@pytest.fixture
def queue(kubectl: Kubectl) -> Iterator[str]:
    yield from queue_on_new_environment(kubectl, "chaos", max_vcpus=12)


def workload(queue: str) -> list[dict]:
    mpi = {"apiVersion": API_VERSION, "kind": "JobDefinition", "metadata": {"name": "mpi"}, "spec": {
        "type": "multinode", "nodeProperties": {"numNodes": 3, "mainNode": 0, "nodeRangeProperties": [
            {"targetNodes": "0:", "container": {"image": "busybox", "command": ["mpirun"], "vcpus": 1,
                                                "memory": 256}}]}}}
    retrying = job_definition("retrying")
    retrying["spec"]["retryStrategy"] = {"attempts": 3}
    jobs = [
        batch_job("arr", definition="retrying", queue=queue, arrayProperties={"size": 24},
                  simulate={"run-seconds": "3", "exit-codes-odd-index": "1,0"}),
        batch_job("c1", definition="plain", queue=queue, simulate={"run-seconds": "3"}),
        batch_job("c2", definition="plain", queue=queue, simulate={"run-seconds": "3"}, dependsOn=[{"jobId": "c1"}]),
        batch_job("c3", definition="plain", queue=queue, simulate={"run-seconds": "3"}, dependsOn=[{"jobId": "c2"}]),
        batch_job("mnp", definition="mpi", queue=queue, simulate={"run-seconds": "6"}),
        batch_job("thrice", definition="retrying", queue=queue, simulate={"run-seconds": "3", "exit-codes": "1,1,0"}),
        batch_job("broken", definition="plain", queue=queue, simulate={"run-seconds": "2", "exit-code": "3"}),
    ]
    return [job_definition("plain"), retrying, mpi, *jobs]


def scheduled_pods(kubectl: Kubectl, namespace: str) -> list[str]:
    events = (kubectl.get("events", namespace=namespace) or {"items": []})["items"]
    return [e["involvedObject"]["name"] for e in events if e.get("reason") == "Scheduled"]


def check_outcome(kubectl: Kubectl, namespace: str) -> None:
    statuses = job_statuses(kubectl, namespace, list(EXPECTED))
    for name, (state, attempts, _) in EXPECTED.items():
        status = statuses[name]
        assert status.get("status") == state, (name, status.get("statusMessage"))
        if attempts is not None:
            assert status["attemptCount"] == attempts == len(status["attempts"]), (name, status["attempts"])
    children = statuses["arr"]["arrayProperties"]
    assert children["statusSummary"]["SUCCEEDED"] == 24
    expected_pods = set().union(*(pods for _, _, pods in EXPECTED.values()))
    placed = scheduled_pods(kubectl, namespace)
    assert sorted(placed) == sorted(expected_pods), {
        "missing": sorted(expected_pods - set(placed)), "extra": sorted(set(placed) - expected_pods),
        "twice": sorted({p for p in placed if placed.count(p) > 1})}


def test_nothing_is_lost_or_doubled_when_the_operator_is_killed_ten_times(
        kubectl: Kubectl, operator: OperatorProcess, namespace: str, queue: str) -> None:
    chance = random.Random(SEED)
    kubectl.apply(*workload(queue), namespace=namespace)
    kills = 0
    deadline = time.monotonic() + 300
    while kills < KILLS or not all(s.get("status") in ("SUCCEEDED", "FAILED")
                                   for s in job_statuses(kubectl, namespace, list(EXPECTED)).values()):
        assert time.monotonic() < deadline, job_statuses(kubectl, namespace, list(EXPECTED))
        time.sleep(chance.uniform(1.0, 4.0))
        if kills < KILLS:
            operator.kill_and_restart()
            kills += 1
    check_outcome(kubectl, namespace)
    print(f"\nchaos: {kills} SIGKILLs (seed {SEED}); {len(EXPECTED)} jobs, "
          f"{len(scheduled_pods(kubectl, namespace))} pods checked: 0 lost, 0 doubled")


@pytest.mark.skipif(bool(os.environ.get("KUBECONFIG")), reason="restarts the local cluster's kube-apiserver")
def test_the_operator_rides_out_an_api_server_restart(kubectl: Kubectl, operator: OperatorProcess,
                                                      namespace: str, queue: str) -> None:
    kubectl.apply(job_definition("plain"), *(batch_job(f"before-{n}", definition="plain", queue=queue,
                                                       simulate={"run-seconds": "4"}) for n in range(4)),
                  namespace=namespace)
    kubectl.wait_for("jobs to start", lambda: any(
        s.get("status") in ("STARTING", "RUNNING")
        for s in job_statuses(kubectl, namespace, [f"before-{n}" for n in range(4)]).values()))
    pid = int((local_cluster.STATE_DIR / "run" / "kube-apiserver.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    time.sleep(3)
    local_cluster.up(pools=list(local_cluster.DEFAULT_POOLS), bin_dir=local_cluster.build_binaries())
    kubectl.apply(*(batch_job(f"after-{n}", definition="plain", queue=queue, simulate={"run-seconds": "1"})
                    for n in range(3)), namespace=namespace)
    names = [f"before-{n}" for n in range(4)] + [f"after-{n}" for n in range(3)]
    kubectl.wait_for("every job to succeed after the restart", lambda: all(
        s.get("status") == "SUCCEEDED" for s in job_statuses(kubectl, namespace, names).values()), timeout=120)
    assert operator.is_running(), "the operator exited instead of reconnecting"
