"""A catalogue of bad input the API server cannot refuse: the operator and the CLI must name the fault.

The API server's own refusals (schema and CEL, 83 cases) are ``test_validation.py``.
Here are the mistakes only kubatch can see. All the bad jobs are submitted at once to
the running operator; each must end FAILED ``InvalidJob`` with a message naming the
field or object, or, if it could run once something changes, wait with a reason that
says so. None may be left without one, and the operator must survive them all. Then
the CLI is misused: every misuse exits non-zero with one line naming the problem and
creates nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Iterator

import pytest

from tests.e2e.batch import (API_VERSION, batch_job, compute_environment, definition_with, job_definition,
                             job_queue, job_statuses, unique)
from tests.e2e.conftest import REPO_ROOT, OperatorProcess
from tests.e2e.kubectl import Kubectl

pytestmark = pytest.mark.usefixtures("operator")


@pytest.fixture(scope="module")
def env(kubectl: Kubectl) -> Iterator[dict[str, str]]:
    names = {"ce": unique("bad-ce"), "spot": unique("bad-spot"), "queue": unique("q-bad"),
             "off": unique("q-bad-off"), "fair": unique("q-bad-fair"), "spot_queue": unique("q-bad-spot"),
             "picky": unique("q-bad-picky"), "policy": unique("bad-sp"), "ghost": unique("q-bad-ghost")}
    policy = {"apiVersion": API_VERSION, "kind": "SchedulingPolicy", "metadata": {"name": names["policy"]},
              "spec": {"fairsharePolicy": {"shareDecaySeconds": 600}}}
    manifests = [compute_environment(names["ce"], max_vcpus=8), compute_environment(names["spot"], type_="SPOT"),
                 policy, job_queue(names["queue"], names["ce"]),
                 job_queue(names["off"], names["ce"]) | {"spec": {**job_queue(names["off"], names["ce"])["spec"],
                                                                  "state": "DISABLED"}},
                 job_queue(names["fair"], names["ce"], schedulingPolicy=names["policy"]),
                 job_queue(names["spot_queue"], names["spot"]),
                 job_queue(names["picky"], names["ce"], namespaceSelector={"matchLabels": {"team": "nobody"}}),
                 job_queue(names["ghost"], "no-such-ce")]
    kubectl.apply(*manifests)
    yield names
    for manifest in reversed(manifests):
        kubectl.run("delete", manifest["kind"].lower(), manifest["metadata"]["name"], "--wait=false", check=False)


def mpi(name: str) -> dict:
    return {"apiVersion": API_VERSION, "kind": "JobDefinition", "metadata": {"name": name}, "spec": {
        "type": "multinode", "nodeProperties": {"numNodes": 3, "mainNode": 2, "nodeRangeProperties": [
            {"targetNodes": "0:", "container": {"image": "busybox", "command": ["x"], "vcpus": 1, "memory": 128}}]}}}


def cases(env: dict[str, str]) -> dict[str, tuple[dict, str]]:
    """job name -> (the BatchJob, words its statusMessage must contain)."""
    q = env["queue"]
    return {
        "no-definition": (batch_job("no-definition", definition="missing", queue=q), "spec.jobDefinition"),
        "no-revision": (batch_job("no-revision", definition="plain:7", queue=q), "revision 7 of 'plain'"),
        "no-queue": (batch_job("no-queue", definition="plain", queue="no-such-queue"), "spec.jobQueue"),
        "ghost-ce": (batch_job("ghost-ce", definition="plain", queue=env["ghost"]), "no valid compute environment"),
        "disabled-queue": (batch_job("disabled-queue", definition="plain", queue=env["off"]), "DISABLED"),
        "not-my-queue": (batch_job("not-my-queue", definition="plain", queue=env["picky"]), "namespaceSelector"),
        "share-on-fifo": (batch_job("share-on-fifo", definition="plain", queue=q, shareIdentifier="a"),
                          "spec.shareIdentifier"),
        "no-share": (batch_job("no-share", definition="plain", queue=env["fair"]), "spec.shareIdentifier"),
        "self-dependent": (batch_job("self-dependent", definition="plain", queue=q,
                                     dependsOn=[{"jobId": "self-dependent"}]), "spec.dependsOn[0]"),
        "elsewhere-dependency": (batch_job("elsewhere-dependency", definition="plain", queue=q,
                                           dependsOn=[{"jobId": "lives-elsewhere"}]), "spec.dependsOn[0].jobId"),
        "privileged": (batch_job("privileged", definition="root-power", queue=q), "allowPrivileged"),
        "host-path": (batch_job("host-path", definition="host-etc", queue=q), "allowHostPath"),
        "mnp-on-spot": (batch_job("mnp-on-spot", definition="plain-mpi", queue=env["spot_queue"]), "SPOT"),
        "main-node-beyond": (batch_job("main-node-beyond", definition="bad-mpi", queue=q,
                                       nodeOverrides={"numNodes": 2}), "nodeProperties.mainNode"),
        "foreign-definition": (batch_job("foreign-definition", definition="only-elsewhere", queue=q),
                               "does not exist in namespace"),
        "eks-privileged": (batch_job("eks-privileged", definition="eks-root-power", queue=q), "allowPrivileged"),
        "never-was-dependency": (batch_job("never-was-dependency", definition="plain", queue=q,
                                           dependsOn=[{"jobId": "never-was"}]), "spec.dependsOn[0].jobId"),
    }


def test_semantic_errors_fail_the_job_naming_the_field(kubectl: Kubectl, operator: OperatorProcess, namespace: str,
                                                       env: dict[str, str]) -> None:
    other = unique("bad-other")
    kubectl.run("create", "namespace", other)
    try:
        kubectl.apply(job_definition("plain"), job_definition("only-elsewhere"),
                      batch_job("lives-elsewhere", definition="plain", queue=env["queue"]), namespace=other)
        eks_power = {"apiVersion": API_VERSION, "kind": "JobDefinition", "metadata": {"name": "eks-root-power"},
                     "spec": {"type": "container", "eksProperties": {"podProperties": {"containers": [
                         {"name": "main", "image": "busybox", "securityContext": {"privileged": True}}]}}}}
        plain_mpi = mpi("plain-mpi")
        plain_mpi["spec"]["nodeProperties"]["mainNode"] = 0
        kubectl.apply(job_definition("plain"), definition_with("root-power", privileged=True),
                      definition_with("host-etc", volumes=[{"name": "etc", "host": {"sourcePath": "/etc"}}]),
                      mpi("bad-mpi"), plain_mpi, eks_power, namespace=namespace)
        catalogue = cases(env)
        kubectl.apply(*(job for job, _ in catalogue.values()), namespace=namespace)
        statuses = kubectl.wait_for("every bad job to fail", lambda: (s := job_statuses(
            kubectl, namespace, list(catalogue))) and all(v.get("status") == "FAILED" for v in s.values()) and s,
            timeout=90)
        for name, (_, words) in catalogue.items():
            status = statuses[name]
            assert status["statusReason"] == "InvalidJob" and words in status["statusMessage"], (name, status)
        assert operator.is_running()
        print(f"\nbad input: {len(catalogue)} semantic cases, each FAILED InvalidJob naming its field")
    finally:
        kubectl.run("delete", "namespace", other, "--wait=false", check=False)


def test_a_job_too_big_for_its_queue_waits_with_a_reason(kubectl: Kubectl, namespace: str, env: dict[str, str]) -> None:
    kubectl.apply(job_definition("huge", vcpus="64"), batch_job("huge", definition="huge", queue=env["queue"]),
                  namespace=namespace)
    status = kubectl.wait_for("a reason", lambda: (s := job_statuses(kubectl, namespace, ["huge"])["huge"])
                              .get("statusReason", "").startswith("MISCONFIGURATION") and s)
    assert status["status"] == "RUNNABLE" and "64" in status["statusMessage"]


CLI_MISUSE = {
    "unknown verb": (["describe-everything"], "No such command"),
    "unknown flag": (["submit-job", "--job-name", "x", "--colour", "red"], "No such option '--colour'"),
    "bad JSON": (["register-job-definition", "--job-definition-name", "d", "--type", "container",
                  "--container-properties", '{"image": '], "--container-properties"),
    "bad shorthand": (["submit-job", "--job-name", "x", "--job-queue", "q", "--job-definition", "d",
                       "--array-properties", "size"], "--array-properties"),
    "missing queue flag": (["submit-job", "--job-name", "x", "--job-definition", "d"], "jobQueue"),
    "array of one": (["submit-job", "--job-name", "x", "--job-queue", "q", "--job-definition", "d",
                      "--array-properties", "size=1"], "arrayProperties.size"),
    "too many attempts": (["submit-job", "--job-name", "x", "--job-queue", "q", "--job-definition", "d",
                           "--retry-strategy", "attempts=11"], "retryStrategy.attempts"),
    "short timeout": (["submit-job", "--job-name", "x", "--job-queue", "q", "--job-definition", "d",
                       "--timeout", "attemptDurationSeconds=5"], "timeout.attemptDurationSeconds"),
    "bad dependency type": (["submit-job", "--job-name", "x", "--job-queue", "q", "--job-definition", "d",
                             "--depends-on", "jobId=a,type=SOMETIMES"], "dependsOn[0].type"),
    "integer flag": (["create-job-queue", "--job-queue-name", "q", "--priority", "high",
                      "--compute-environment-order", "order=1,computeEnvironment=c"], "priority"),
    "unknown output": (["describe-job-queues", "--output", "yaml"], "--output"),
    "101 job ids": (["describe-jobs", "--jobs", *[f"j{n}" for n in range(101)]], "jobs"),
    "bad cli-input-json": (["submit-job", "--cli-input-json", "[1, 2]"], "--cli-input-json"),
    "missing input file": (["submit-job", "--cli-input-json", "file:///no/such/file.json"], "no/such/file.json"),
    "unknown field in input": (["submit-job", "--cli-input-json", json.dumps({"jobName": "x", "jobQueue": "q",
                                                                            "jobDefinition": "d", "colour": 1})],
                               "colour"),
    "bad tag resource": (["tag-resource", "--resource-arn", "not-an-arn", "--tags", "a=b"], "resourceArn"),
    "logs of a missing child": (["logs", "nope:3"], "nope"),
    "wait for a bad state": (["wait", "x", "--for", "DONE"], "--for"),
    "unknown filter": (["list-jobs", "--job-queue", "q", "--filters", "name=COLOUR,values=red"], "filters"),
    "two list scopes": (["list-jobs", "--job-queue", "q", "--array-job-id", "a"], "give only one of"),
    "unknown job status": (["list-jobs", "--job-queue", "q", "--job-status", "DONE"], "jobStatus"),
    "stop one child": (["cancel-job", "--job-id", "arr:3", "--reason", "r"], "as a whole"),
    "untag without keys": (["untag-resource", "--resource-arn", "arn:aws:batch:us-east-1:0:job-queue/q"],
                           "tagKeys"),
    "snapshot of a missing queue": (["get-job-queue-snapshot", "--job-queue", "no-such-queue"], "jobQueue"),
    "fifty-one to cancel": (["cancel-jobs", "--reason", "r", "--jobs", *[f"j{n}" for n in range(51)]], "jobs"),
}


@pytest.mark.parametrize(("args", "words"), [pytest.param(*case, id=name) for name, case in CLI_MISUSE.items()])
def test_cli_misuse_is_one_line_and_a_non_zero_exit(kubectl: Kubectl, namespace: str, args: list[str],
                                                    words: str) -> None:
    result = subprocess.run([sys.executable, "-m", "kubatch.cli.main", *args, "--kubeconfig", str(kubectl.kubeconfig),
                             "-n", namespace], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert result.returncode != 0 and result.stdout == "", result
    message = result.stderr.strip()
    assert words in message, message
    assert "Traceback" not in message
    assert not (kubectl.get("bj", namespace=namespace) or {}).get("items")
