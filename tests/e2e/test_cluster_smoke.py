"""Smoke tests of the test cluster itself: pools, simulated runs, node loss, up/down.

Every later e2e test leans on these behaviours, so they are proven here against the
real apiserver and scheduler first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from testkit import cluster as local_cluster
from testkit.pools import CAPACITY_TYPE_LABEL, NodePool, node_manifests
from tests.e2e.kubectl import Kubectl


def add_kwok_node(kubectl: Kubectl, name: str, *, pool: str = "spot", labels: dict[str, str] | None = None) -> str:
    """A node of ``pool`` (its label and taint) that only the caller uses; returns once it is Ready."""
    node = node_manifests([NodePool(name=pool, count=1, cpu=4, memory_gi=16, instance_type="m5.xlarge")])[0]
    node["metadata"]["name"] = node["metadata"]["labels"]["kubernetes.io/hostname"] = name
    node["metadata"]["labels"].update(labels or {})
    kubectl.apply(node)
    kubectl.wait_for(f"node {name} Ready", lambda: any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in (kubectl.get("node", name) or {}).get("status", {}).get("conditions", [])))
    return name


def pod_manifest(name: str, *, pool: str | None = None, annotations: dict[str, str] | None = None,
                 labels: dict[str, str] | None = None, deadline: int | None = None,
                 node_name: str | None = None) -> dict:
    spec: dict = {
        "restartPolicy": "Never",
        "containers": [{"name": "main", "image": "busybox", "command": ["true"],
                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}],
    }
    if pool:
        spec["nodeSelector"] = {CAPACITY_TYPE_LABEL: pool}
        spec["tolerations"] = [{"key": CAPACITY_TYPE_LABEL, "operator": "Equal", "value": pool, "effect": "NoSchedule"}]
    if deadline:
        spec["activeDeadlineSeconds"] = deadline
    if node_name:
        spec["nodeName"] = node_name
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "annotations": annotations or {}, "labels": labels or {}}, "spec": spec}


def evict(kubectl: Kubectl, namespace: str, pod: str) -> None:
    """Evict ``pod`` through the Eviction API, as a drain does (kubectl has no verb for it)."""
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod, "namespace": namespace}}
    kubectl.run("create", "--raw", f"/api/v1/namespaces/{namespace}/pods/{pod}/eviction", "-f", "-",
                stdin=json.dumps(eviction))


def wait_for_phase(kubectl: Kubectl, namespace: str, name: str, phases: set[str], timeout: float = 60) -> dict:
    return kubectl.wait_for(
        f"pod {name} in {sorted(phases)}",
        lambda: (pod := kubectl.get("pod", name, namespace=namespace))
        and pod.get("status", {}).get("phase") in phases and pod,
        timeout=timeout,
    )


def terminated_state(pod: dict) -> dict:
    return pod["status"]["containerStatuses"][0]["state"]["terminated"]


@pytest.mark.parametrize("pool", ["on-demand", "spot", "fargate"])
def test_pod_lands_only_on_its_pool(kubectl: Kubectl, namespace: str, pool: str) -> None:
    kubectl.apply(pod_manifest("p", pool=pool), namespace=namespace)
    pod = wait_for_phase(kubectl, namespace, "p", {"Succeeded"})
    node = kubectl.get("node", pod["spec"]["nodeName"])
    assert node["metadata"]["labels"][CAPACITY_TYPE_LABEL] == pool
    assert terminated_state(pod)["exitCode"] == 0


def test_tainted_pools_refuse_pods_without_toleration(kubectl: Kubectl, namespace: str) -> None:
    manifest = pod_manifest("no-toleration", pool="spot")
    del manifest["spec"]["tolerations"]
    kubectl.apply(manifest, namespace=namespace)
    pod = kubectl.wait_for(
        "scheduler to report the pod unschedulable",
        lambda: (p := kubectl.get("pod", "no-toleration", namespace=namespace)) and any(
            c["type"] == "PodScheduled" and c.get("reason") == "Unschedulable" for c in p["status"].get("conditions", [])
        ) and p,
    )
    assert "nodeName" not in pod["spec"]


def test_unpinned_pod_never_lands_on_a_tainted_pool(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(pod_manifest("anywhere"), namespace=namespace)
    pod = wait_for_phase(kubectl, namespace, "anywhere", {"Succeeded"})
    assert kubectl.get("node", pod["spec"]["nodeName"])["metadata"]["labels"][CAPACITY_TYPE_LABEL] == "on-demand"


def test_exit_code_is_simulated(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(pod_manifest("exit3", annotations={"kubatch.io/sim-exit-code": "3"}), namespace=namespace)
    pod = wait_for_phase(kubectl, namespace, "exit3", {"Failed", "Succeeded"})
    assert pod["status"]["phase"] == "Failed"
    assert terminated_state(pod)["exitCode"] == 3
    assert terminated_state(pod)["reason"] == "Error"


def test_exit_codes_are_simulated_per_attempt_and_array_index(kubectl: Kubectl, namespace: str) -> None:
    annotations = {"kubatch.io/sim-exit-code": "9", "kubatch.io/sim-exit-codes": "1,1,0",
                   "kubatch.io/sim-exit-codes-odd-index": "2,0"}
    expected = {  # pod: (its attempt and array index labels, the exit code it must end with)
        "first": ({"kubatch.io/attempt": "1"}, 1),
        "second": ({"kubatch.io/attempt": "2"}, 1),
        "third": ({"kubatch.io/attempt": "3"}, 0),
        "seventh": ({"kubatch.io/attempt": "7"}, 0),  # the last code repeats
        "unlabelled": ({}, 1),  # no attempt label: attempt 1
        "even-child": ({"kubatch.io/attempt": "1", "kubatch.io/array-index": "4"}, 1),
        "odd-child": ({"kubatch.io/attempt": "1", "kubatch.io/array-index": "3"}, 2),
        "odd-child-retried": ({"kubatch.io/attempt": "2", "kubatch.io/array-index": "3"}, 0),
    }
    kubectl.apply(*(pod_manifest(name, annotations=annotations, labels=labels)
                    for name, (labels, _) in expected.items()), namespace=namespace)
    ended = {name: wait_for_phase(kubectl, namespace, name, {"Failed", "Succeeded"}) for name in expected}

    assert {name: terminated_state(pod)["exitCode"] for name, pod in ended.items()} == {
        name: code for name, (_, code) in expected.items()}
    assert {name: pod["status"]["phase"] for name, pod in ended.items()} == {
        name: "Failed" if code else "Succeeded" for name, (_, code) in expected.items()}


def test_odd_index_exit_codes_leave_even_children_to_the_plain_exit_code(kubectl: Kubectl, namespace: str) -> None:
    annotations = {"kubatch.io/sim-exit-code": "4", "kubatch.io/sim-exit-codes-odd-index": "3"}
    kubectl.apply(pod_manifest("even", annotations=annotations, labels={"kubatch.io/array-index": "0"}),
                  pod_manifest("odd", annotations=annotations, labels={"kubatch.io/array-index": "1"}),
                  namespace=namespace)
    codes = {name: terminated_state(wait_for_phase(kubectl, namespace, name, {"Failed", "Succeeded"}))["exitCode"]
             for name in ("even", "odd")}
    assert codes == {"even": 4, "odd": 3}


def test_run_duration_is_simulated(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(pod_manifest("slow", annotations={"kubatch.io/sim-run-seconds": "3"}), namespace=namespace)
    running = wait_for_phase(kubectl, namespace, "slow", {"Running"})
    assert running["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
    done = wait_for_phase(kubectl, namespace, "slow", {"Succeeded"})
    state = terminated_state(done)
    assert state["startedAt"] < state["finishedAt"]


def test_run_duration_is_simulated_per_attempt(kubectl: Kubectl, namespace: str) -> None:
    annotations = {"kubatch.io/sim-run-seconds": "600, 0.2"}
    kubectl.apply(pod_manifest("first", annotations=annotations, labels={"kubatch.io/attempt": "1"}, deadline=2),
                  pod_manifest("third", annotations=annotations, labels={"kubatch.io/attempt": "3"}, deadline=2),
                  namespace=namespace)
    third = wait_for_phase(kubectl, namespace, "third", {"Failed", "Succeeded"})
    assert third["status"]["phase"] == "Succeeded"
    first = wait_for_phase(kubectl, namespace, "first", {"Failed", "Succeeded"})
    assert (first["status"]["phase"], first["status"].get("reason")) == ("Failed", "DeadlineExceeded")


def test_oom_kill_is_simulated(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(pod_manifest("oom", annotations={"kubatch.io/sim-oom": "true"}), namespace=namespace)
    pod = wait_for_phase(kubectl, namespace, "oom", {"Failed", "Succeeded"})
    assert pod["status"]["phase"] == "Failed"
    state = terminated_state(pod)
    assert (state["exitCode"], state["reason"]) == (137, "OOMKilled")


def test_active_deadline_ends_the_pod_as_the_kubelet_would(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(pod_manifest("late", deadline=1, annotations={"kubatch.io/sim-run-seconds": "60"}), namespace=namespace)
    pod = wait_for_phase(kubectl, namespace, "late", {"Failed", "Succeeded"}, timeout=30)
    assert pod["status"]["phase"] == "Failed"
    assert pod["status"]["reason"] == "DeadlineExceeded"


def test_image_pull_error_is_simulated(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(pod_manifest("badimage", annotations={"kubatch.io/sim-image-pull-error": "ErrImagePull"}),
                  namespace=namespace)
    waiting = kubectl.wait_for(
        "container waiting on ErrImagePull",
        lambda: (p := kubectl.get("pod", "badimage", namespace=namespace))
        and p["status"].get("containerStatuses")
        and p["status"]["containerStatuses"][0]["state"].get("waiting", {}).get("reason") == "ErrImagePull" and p,
    )
    assert waiting["status"]["phase"] == "Pending"


def test_evicted_pod_ends_failed_with_its_disruption_condition_before_it_goes(kubectl: Kubectl, namespace: str) -> None:
    manifest = pod_manifest("evicted", annotations={"kubatch.io/sim-run-seconds": "600"})
    manifest["metadata"]["finalizers"] = ["kubatch.io/test-hold"]  # keeps the stopped pod for inspection
    kubectl.apply(manifest, namespace=namespace)
    wait_for_phase(kubectl, namespace, "evicted", {"Running"})

    evict(kubectl, namespace, "evicted")

    stopped = wait_for_phase(kubectl, namespace, "evicted", {"Failed", "Succeeded"})
    assert stopped["status"]["phase"] == "Failed" and stopped["metadata"]["deletionTimestamp"]
    assert terminated_state(stopped)["exitCode"] == 143
    disruption = [c for c in stopped["status"]["conditions"] if c["type"] == "DisruptionTarget"]
    assert [(c["status"], c["reason"]) for c in disruption] == [("True", "EvictionByEvictionAPI")]
    kubectl.run("patch", "pod", "evicted", "-n", namespace, "--type=json",
                "-p", '[{"op": "remove", "path": "/metadata/finalizers"}]')
    kubectl.wait_for("the stopped pod to go", lambda: kubectl.get("pod", "evicted", namespace=namespace) is None)


def test_spot_node_loss_ends_its_pods(kubectl: Kubectl, namespace: str) -> None:
    node_name = add_kwok_node(kubectl, f"kwok-spot-doomed-{uuid.uuid4().hex[:6]}")
    manifest = pod_manifest("victim", pool="spot", node_name=node_name,
                            annotations={"kubatch.io/sim-run-seconds": "600"})
    kubectl.apply(manifest, namespace=namespace)
    wait_for_phase(kubectl, namespace, "victim", {"Running"})

    kubectl.run("delete", "node", node_name, "--wait=false")

    ended = kubectl.wait_for(
        "the pod of a deleted node to fail or vanish",
        lambda: "gone" if (p := kubectl.get("pod", "victim", namespace=namespace)) is None
        else (p["status"].get("phase") == "Failed" and p["status"]["phase"]),
        timeout=90,
    )
    assert ended in {"gone", "Failed"}


@pytest.mark.skipif(bool(os.environ.get("KUBECONFIG")), reason="exercises the local cluster script itself")
def test_down_leaves_no_process_and_up_works_again(tmp_path) -> None:
    # ports well away from the suite's own cluster, so a run beside it cannot pick the same block
    base = local_cluster.free_port_base(start=local_cluster.PORTS.base + 1000)
    env = os.environ | {"KUBATCH_CLUSTER_DIR": str(tmp_path / "cluster"), "KUBATCH_PORT_BASE": str(base),
                        "KUBATCH_BIN_DIR": str(local_cluster.build_binaries())}
    script = [sys.executable, "-m", "testkit.cluster"]
    small_pool = ["--pool", "on-demand=1x2x4"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*script, *args], env=env, capture_output=True, text=True, timeout=300,
                              cwd=local_cluster.REPO_ROOT)

    try:
        first = run("up", *small_pool)
        assert first.returncode == 0, first.stderr
        again = run("up", *small_pool)  # idempotent: already healthy
        assert again.returncode == 0 and again.stdout.strip() == first.stdout.strip()
        assert run("down").returncode == 0
        leftovers = subprocess.run(["pgrep", "-f", str(tmp_path / "cluster")], capture_output=True, text=True)
        assert leftovers.stdout.strip() == "", f"processes left behind: {leftovers.stdout}"
        assert run("status").returncode != 0
        second = run("up", *small_pool)
        assert second.returncode == 0, second.stderr
        assert run("status").returncode == 0
    finally:
        run("down")
