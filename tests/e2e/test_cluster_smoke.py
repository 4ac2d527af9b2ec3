"""Smoke tests of the test cluster itself: pools, simulated runs, node loss, up/down.

Every later e2e test leans on these behaviours, so they are proven here against the
real apiserver and scheduler first.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from kubatch.testing import cluster as local_cluster
from kubatch.testing.pools import CAPACITY_TYPE_LABEL
from tests.e2e.kubectl import Kubectl


def pod_manifest(name: str, *, pool: str | None = None, annotations: dict[str, str] | None = None,
                 deadline: int | None = None, node_name: str | None = None) -> dict:
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
            "metadata": {"name": name, "annotations": annotations or {}}, "spec": spec}


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


def test_run_duration_is_simulated(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(pod_manifest("slow", annotations={"kubatch.io/sim-run-seconds": "3"}), namespace=namespace)
    running = wait_for_phase(kubectl, namespace, "slow", {"Running"})
    assert running["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
    done = wait_for_phase(kubectl, namespace, "slow", {"Succeeded"})
    state = terminated_state(done)
    assert state["startedAt"] < state["finishedAt"]


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


def test_spot_node_loss_ends_its_pods(kubectl: Kubectl, namespace: str) -> None:
    node_name = f"kwok-spot-doomed-{uuid.uuid4().hex[:6]}"
    from kubatch.testing.pools import NodePool, node_manifests

    node = node_manifests([NodePool(name="spot", count=1, cpu=4, memory_gi=16, instance_type="m5.xlarge")])[0]
    node["metadata"]["name"] = node["metadata"]["labels"]["kubernetes.io/hostname"] = node_name
    kubectl.apply(node)
    kubectl.wait_for("doomed node Ready", lambda: any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in (kubectl.get("node", node_name) or {}).get("status", {}).get("conditions", [])))
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
    env = os.environ | {"KUBATCH_CLUSTER_DIR": str(tmp_path / "cluster"), "KUBATCH_PORT_BASE": "17440",
                        "KUBATCH_BIN_DIR": str(local_cluster.build_binaries())}
    script = [sys.executable, "-m", "kubatch.testing.cluster"]
    small_pool = ["--pool", "on-demand=1x2x4"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*script, *args], env=env, capture_output=True, text=True, timeout=300)

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
