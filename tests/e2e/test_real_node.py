"""Real containers on a real node: what kubatch puts in a pod works when a process runs.

The kwok tests prove scheduling and life cycle with simulated pods; these run busybox
on the real node (kubelet + containerd + runc, ``testkit.realnode``) and read
the process's own output with ``kubatch logs``. All jobs are submitted at once by one
module fixture, so the 60 s timeout runs beside the others, and each test then checks
one behaviour. The node is tainted: only this module's compute environment, which asks
for it with a node selector and a toleration, places pods there.

Skipped, with the reason, where the machine cannot run the local cluster's real node
(``hack/test.sh`` checks and sets ``KUBATCH_REAL_NODE``) or, on kind, where no Ready node
is labelled ``kubatch.io/real-node=true`` (docs/testing.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.e2e.batch import API_VERSION, batch_job, compute_environment, job_queue, unique, wait_for_state
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.kubectl import Kubectl

pytestmark = [pytest.mark.usefixtures("operator"), pytest.mark.real_node]

REAL_NODE_LABEL = "kubatch.io/real-node"
IMAGE = os.environ.get("KUBATCH_TEST_IMAGE", "kubatch.local/busybox:1")
TERMINAL = {"SUCCEEDED", "FAILED"}
# a timed-out attempt ends after the 60 s deadline plus the pod's 30 s termination grace
TIMEOUT_JOB_SECONDS = 60
SLOW_END = 240


def container(command: list[str], *, memory: int = 64, **extra: object) -> dict:
    return {"image": IMAGE, "command": command, **extra,
            "resourceRequirements": [{"type": "VCPU", "value": "0.25"}, {"type": "MEMORY", "value": str(memory)}]}


def definition(name: str, command: list[str], **extra: object) -> dict:
    spec_fields = {key: extra.pop(key) for key in ("parameters", "timeout") if key in extra}
    return {"apiVersion": API_VERSION, "kind": "JobDefinition", "metadata": {"name": name},
            "spec": {"type": "container", "containerProperties": container(command, **extra), **spec_fields}}


ECHO_ENVIRONMENT = ('echo "job=$AWS_BATCH_JOB_ID queue=$AWS_BATCH_JQ_NAME ce=$AWS_BATCH_CE_NAME '
                    'attempt=$AWS_BATCH_JOB_ATTEMPT index=${AWS_BATCH_JOB_ARRAY_INDEX:-none} greeting=$1"')
# the main node ends the job once a message arrives; the child keeps sending until then
MAIN_NODE = ('echo listening; until [ -s /tmp/received ]; do nc -l -p 7777 > /tmp/received; done; '
             'echo "main got: $(cat /tmp/received)"')
CHILD_NODE = ('for try in $(seq 120); do echo "hello from node $AWS_BATCH_JOB_NODE_INDEX" '
              '| nc "$AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS" 7777; sleep 1; done; exit 1')
TRAP_TERM = "trap 'echo got SIGTERM' TERM; echo started; while :; do sleep 1; done"

DEFINITIONS = [
    definition("env", ["sh", "-c", ECHO_ENVIRONMENT, "sh", "Ref::greeting"],
               parameters={"greeting": "from-definition"}),
    definition("exit3", ["sh", "-c", "echo failing; exit 3"]),
    definition("oom", ["sh", "-c", "head -c 400m /dev/zero | tail"], memory=32),
    definition("sleeper", ["sh", "-c", TRAP_TERM], timeout={"attemptDurationSeconds": TIMEOUT_JOB_SECONDS}),
    definition("readonly", ["sh", "-c", "touch /written"], readonlyRootFilesystem=True),
    definition("user", ["id", "-u"], user="65534"),
    {"apiVersion": API_VERSION, "kind": "JobDefinition", "metadata": {"name": "missing-image"},
     "spec": {"type": "container", "eksProperties": {"podProperties": {"containers": [{
         "name": "main", "image": "kubatch.local/missing:1", "imagePullPolicy": "Never", "command": ["true"],
         "resources": {"limits": {"cpu": "250m", "memory": "64Mi"}}}]}}}},
    {"apiVersion": API_VERSION, "kind": "JobDefinition", "metadata": {"name": "pair"},
     "spec": {"type": "multinode", "nodeProperties": {"numNodes": 2, "mainNode": 0, "nodeRangeProperties": [
         {"targetNodes": "0", "container": container(["sh", "-c", MAIN_NODE])},
         {"targetNodes": "1", "container": container(["sh", "-c", CHILD_NODE])}]}}},
]
JOBS = {
    "env": {"definition": "env", "parameters": {"greeting": "hello-from-the-job"}},
    "env-array": {"definition": "env", "arrayProperties": {"size": 2}},
    "exit3": {"definition": "exit3"},
    "oom": {"definition": "oom"},
    "sleeper": {"definition": "sleeper"},
    "readonly": {"definition": "readonly"},
    "user": {"definition": "user"},
    "missing-image": {"definition": "missing-image"},
    "pair": {"definition": "pair"},
}


@pytest.fixture(scope="module")
def real_node(kubectl: Kubectl, real_node_absent: str | None) -> str:
    if real_node_absent:
        pytest.skip(f"no real node: {real_node_absent}")
    nodes = (kubectl.get("nodes", selector=f"{REAL_NODE_LABEL}=true") or {"items": []})["items"]
    ready = [n["metadata"]["name"] for n in nodes
             if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))]
    if not ready:
        pytest.skip(f"no Ready node labelled {REAL_NODE_LABEL}=true in this cluster (docs/testing.md)")
    return ready[0]


@pytest.fixture(scope="module")
def jobs(kubectl: Kubectl, real_node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Every job of the module, submitted at once to a queue whose environment is the real node."""
    namespace = unique("real-node")
    kubectl.run("create", "namespace", namespace)
    environment, queue = unique("real-ce"), unique("q-real")
    made_environment = compute_environment(environment, max_vcpus=2)
    made_environment["spec"]["computeResources"].update({
        "nodeSelector": {REAL_NODE_LABEL: "true"},
        "tolerations": [{"key": REAL_NODE_LABEL, "operator": "Exists", "effect": "NoSchedule"}]})
    kubectl.apply(made_environment, job_queue(queue, environment))
    kubectl.apply(*DEFINITIONS, namespace=namespace)
    kubectl.apply(*(batch_job(name, queue=queue, **spec) for name, spec in JOBS.items()), namespace=namespace)
    yield {"namespace": namespace, "queue": queue, "environment": environment}
    kubectl.run("delete", "namespace", namespace, "--wait=false", check=False)
    for kind, name in (("jobqueue", queue), ("computeenvironment", environment)):
        kubectl.run("delete", kind, name, "--wait=false", check=False)


def ended(kubectl: Kubectl, jobs: dict[str, str], name: str, *, timeout: float = 120) -> dict:
    return wait_for_state(kubectl, jobs["namespace"], name, TERMINAL, timeout=timeout)


def logs(kubectl: Kubectl, jobs: dict[str, str], job: str) -> str:
    """The process's output as a user reads it: ``kubatch logs``."""
    result = subprocess.run(
        [sys.executable, "-m", "kubatch.cli.main", "logs", job, "-n", jobs["namespace"],
         "--kubeconfig", str(kubectl.kubeconfig)],
        capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert result.returncode == 0, f"kubatch logs {job}: {result.stderr.strip()}"
    return result.stdout


def test_aws_batch_variables_and_ref_parameters_reach_the_process(kubectl: Kubectl, jobs: dict[str, str],
                                                                  real_node: str) -> None:
    status = ended(kubectl, jobs, "env")
    assert status["status"] == "SUCCEEDED", status
    assert status["container"]["nodeName"] == real_node
    expected = (f"job={status['jobId']} queue={jobs['queue']} ce={jobs['environment']} attempt=1 index=none "
                f"greeting=hello-from-the-job")
    assert logs(kubectl, jobs, "env").strip() == expected


def test_array_children_see_their_index(kubectl: Kubectl, jobs: dict[str, str]) -> None:
    status = ended(kubectl, jobs, "env-array")
    assert status["status"] == "SUCCEEDED", status
    for index in (0, 1):
        assert f"index={index} greeting=from-definition" in logs(kubectl, jobs, f"env-array:{index}")


def test_exit_code_3_is_a_task_failure(kubectl: Kubectl, jobs: dict[str, str]) -> None:
    status = ended(kubectl, jobs, "exit3")
    assert (status["status"], status["statusReason"]) == ("FAILED", "TaskFailed"), status
    assert (status["container"]["exitCode"], status["container"].get("reason")) == (3, None)
    assert logs(kubectl, jobs, "exit3") == "failing\n"


def test_exceeding_the_memory_limit_is_out_of_memory(kubectl: Kubectl, jobs: dict[str, str]) -> None:
    status = ended(kubectl, jobs, "oom")
    assert (status["status"], status["statusReason"]) == ("FAILED", "OutOfMemoryError"), status
    assert (status["container"]["exitCode"], status["container"]["reason"]) == (
        137, "OutOfMemoryError: Container killed due to memory usage")


def test_a_timeout_sends_sigterm_then_sigkill(kubectl: Kubectl, jobs: dict[str, str]) -> None:
    status = ended(kubectl, jobs, "sleeper", timeout=SLOW_END)
    assert (status["status"], status["statusReason"]) == ("FAILED", "JobTimeout"), status
    assert logs(kubectl, jobs, "sleeper") == "started\ngot SIGTERM\n"
    # the kubelet reports the pod Failed (DeadlineExceeded) at once, and its container when it is dead
    terminated = kubectl.wait_for("the timed-out container to be dead", lambda: (
        kubectl.get("pod", status["container"]["podName"], namespace=jobs["namespace"])
        ["status"]["containerStatuses"][0]["state"].get("terminated")), timeout=60)
    assert terminated["exitCode"] == 137, terminated  # it survived SIGTERM, so SIGKILL ended it
    ran = (status["stoppedAt"] - status["startedAt"]) / 1000
    assert ran >= TIMEOUT_JOB_SECONDS, ran


def test_a_read_only_root_filesystem_refuses_writes(kubectl: Kubectl, jobs: dict[str, str]) -> None:
    status = ended(kubectl, jobs, "readonly")
    assert (status["status"], status["container"]["exitCode"]) == ("FAILED", 1), status
    assert "Read-only file system" in logs(kubectl, jobs, "readonly")


def test_the_user_is_honoured(kubectl: Kubectl, jobs: dict[str, str]) -> None:
    status = ended(kubectl, jobs, "user")
    assert status["status"] == "SUCCEEDED", status
    assert logs(kubectl, jobs, "user") == "65534\n"


def test_a_missing_image_cannot_be_pulled(kubectl: Kubectl, jobs: dict[str, str]) -> None:
    status = ended(kubectl, jobs, "missing-image")
    assert (status["status"], status["statusReason"]) == ("FAILED", "CannotPullContainerError"), status
    assert status["statusMessage"].startswith("CannotPullContainerError:"), status


def test_a_multi_node_child_reaches_the_main_node_over_the_pod_network(kubectl: Kubectl,
                                                                        jobs: dict[str, str]) -> None:
    status = ended(kubectl, jobs, "pair")
    assert status["status"] == "SUCCEEDED", status
    assert logs(kubectl, jobs, "pair#0") == "listening\nmain got: hello from node 1\n"
