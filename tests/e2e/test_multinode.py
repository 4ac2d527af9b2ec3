"""Multi-node parallel jobs on the real control plane: gang admission, main node first, main's exit ends all."""

from __future__ import annotations

from datetime import datetime
from typing import Iterator

import pytest

from tests.e2e.batch import API_VERSION, batch_job, compute_environment, job_queue, job_status, unique, \
    wait_for_state
from tests.e2e.kubectl import Kubectl

pytestmark = pytest.mark.usefixtures("operator")


def mpi_definition(name: str) -> dict:
    """Two node groups, as AWS writes them: a main node and three workers with another image and size."""
    def container(image: str, vcpus: int) -> dict:
        return {"image": image, "command": ["mpirun"], "vcpus": vcpus, "memory": 1024}
    return {"apiVersion": API_VERSION, "kind": "JobDefinition", "metadata": {"name": name},
            "spec": {"type": "multinode", "nodeProperties": {"numNodes": 4, "mainNode": 0, "nodeRangeProperties": [
                {"targetNodes": "0", "container": container("mpi-main", 2)},
                {"targetNodes": "1:3", "container": container("mpi-worker", 1)}]}}}


@pytest.fixture(scope="module")
def queues(kubectl: Kubectl) -> Iterator[dict[str, str]]:
    names = {"ce": unique("mnp-ce"), "small": unique("mnp-small"), "spot": unique("mnp-spot"),
             "queue": unique("q-mnp"), "small_queue": unique("q-mnp-small"), "spot_queue": unique("q-mnp-spot")}
    manifests = [compute_environment(names["ce"], max_vcpus=16), compute_environment(names["small"], max_vcpus=6),
                 compute_environment(names["spot"], type_="SPOT", max_vcpus=16),
                 job_queue(names["queue"], names["ce"]), job_queue(names["small_queue"], names["small"]),
                 job_queue(names["spot_queue"], names["spot"])]
    kubectl.apply(*manifests)
    yield names
    for manifest in reversed(manifests):
        kubectl.run("delete", manifest["kind"].lower(), manifest["metadata"]["name"], "--wait=false", check=False)


def node_pods(kubectl: Kubectl, namespace: str, job: str) -> dict[int, dict]:
    listing = kubectl.get("pods", namespace=namespace, selector=f"kubatch.io/job-name={job}") or {"items": []}
    return {int(p["metadata"]["labels"]["kubatch.io/node-index"]): p for p in listing["items"]}


def moment(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_main_node_starts_first_and_its_exit_ends_the_job(kubectl: Kubectl, namespace: str, queues) -> None:
    kubectl.apply(mpi_definition("mpi"),
                  batch_job("mpi-1", definition="mpi", queue=queues["queue"], simulate={"run-seconds": "4"}),
                  namespace=namespace)
    pods = kubectl.wait_for("all four nodes", lambda: len(found := node_pods(kubectl, namespace, "mpi-1")) == 4
                            and all(p["status"].get("phase") in ("Running", "Succeeded") for p in found.values())
                            and found, timeout=60)
    main = pods[0]
    main_started = moment(main["status"]["containerStatuses"][0]["state"].get("running", {}).get("startedAt")
                          or main["status"]["startTime"])
    for index in (1, 2, 3):
        env = {e["name"]: e["value"] for e in pods[index]["spec"]["containers"][0]["env"]}
        assert env["AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS"] == main["status"]["podIP"]
        assert (env["AWS_BATCH_JOB_NODE_INDEX"], env["AWS_BATCH_JOB_NUM_NODES"],
                env["AWS_BATCH_JOB_MAIN_NODE_INDEX"]) == (str(index), "4", "0")
        assert pods[index]["spec"]["containers"][0]["image"] == "mpi-worker"
        assert moment(pods[index]["metadata"]["creationTimestamp"]) >= main_started - 1
    assert main["spec"]["containers"][0]["image"] == "mpi-main"

    status = wait_for_state(kubectl, namespace, "mpi-1", {"SUCCEEDED", "FAILED"})
    assert status["status"] == "SUCCEEDED"
    assert status["nodeProperties"]["mainNodeAddress"] == main["status"]["podIP"]
    service = kubectl.get("service", "mpi-1", namespace=namespace)
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["selector"]["kubatch.io/node-index"] == "0"


def test_main_node_failure_fails_the_job(kubectl: Kubectl, namespace: str, queues) -> None:
    kubectl.apply(mpi_definition("mpi"),
                  batch_job("mpi-2", definition="mpi", queue=queues["queue"], simulate={"exit-code": "2"}),
                  namespace=namespace)
    status = wait_for_state(kubectl, namespace, "mpi-2", {"SUCCEEDED", "FAILED"})
    assert (status["status"], status["statusReason"]) == ("FAILED", "TaskFailed")
    assert status["attempts"][0]["container"]["exitCode"] == 2


def test_the_group_waits_until_all_its_nodes_fit(kubectl: Kubectl, namespace: str, queues) -> None:
    blocker = {"apiVersion": API_VERSION, "kind": "JobDefinition", "metadata": {"name": "two-cpu"},
               "spec": {"type": "container", "containerProperties": {"image": "busybox", "vcpus": 2, "memory": 512}}}
    kubectl.apply(blocker, mpi_definition("mpi"),
                  batch_job("hog", definition="two-cpu", queue=queues["small_queue"], simulate={"run-seconds": "6"}),
                  namespace=namespace)
    wait_for_state(kubectl, namespace, "hog", {"RUNNING"})
    kubectl.apply(batch_job("mpi-3", definition="mpi", queue=queues["small_queue"]), namespace=namespace)
    waiting = kubectl.wait_for("the group to wait for room", lambda: (s := job_status(kubectl, namespace, "mpi-3"))
                               .get("statusReason", "").startswith("CAPACITY") and s)
    assert waiting["status"] == "RUNNABLE" and node_pods(kubectl, namespace, "mpi-3") == {}
    assert wait_for_state(kubectl, namespace, "mpi-3", {"SUCCEEDED", "FAILED"}, timeout=90)["status"] == "SUCCEEDED"


def test_multinode_on_spot_is_refused(kubectl: Kubectl, namespace: str, queues) -> None:
    kubectl.apply(mpi_definition("mpi"), batch_job("mpi-4", definition="mpi", queue=queues["spot_queue"]),
                  namespace=namespace)
    status = wait_for_state(kubectl, namespace, "mpi-4", {"FAILED"})
    assert status["statusReason"] == "InvalidJob" and "SPOT" in status["statusMessage"]
