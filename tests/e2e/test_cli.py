"""The kubatch CLI against a real API server: AWS Batch verbs that need no operator.

These run ``python -m kubatch.cli.main`` as a user would and read the result back with
kubectl, so they prove the CLI's requests pass the CRDs' validation and that its
output parses as AWS's shapes. The operator is not started: CRDs are applied here,
and jobs are only checked as submitted objects (whatever state an operator would
move them to). Cluster-scoped objects get unique names and are deleted at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO_ROOT
from tests.e2e.kubectl import Kubectl

PREFIX = "arn:aws:batch:us-east-1:000000000000:"
CLIENT_ERROR = 254
CONFIG_ERROR = 253
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def crds(kubectl: Kubectl) -> None:
    kubectl.run("apply", "--server-side", "--force-conflicts", "-f", str(REPO_ROOT / "crds"))
    kubectl.run("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")


@pytest.fixture
def kubatch(kubectl: Kubectl, namespace: str, crds: None) -> Run:
    """Run the CLI in the test's namespace; the result's ``json`` is its parsed stdout."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "kubatch.cli.main", *args, "--kubeconfig", str(kubectl.kubeconfig),
             "-n", namespace],
            capture_output=True, text=True, timeout=60, cwd=REPO_ROOT,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubatch {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
        return result

    return run


def output(result: subprocess.CompletedProcess[str]) -> dict:
    return json.loads(result.stdout)


@pytest.fixture
def names(kubectl: Kubectl) -> Iterator[Callable[[str], str]]:
    """Unique names for cluster-scoped objects, deleted after the test."""
    made: list[tuple[str, str]] = []
    suffix = uuid.uuid4().hex[:6]

    def name(kind: str) -> str:
        made.append((kind, f"{kind}-{suffix}"))
        return f"{kind}-{suffix}"

    yield name
    for kind, made_name in made:
        resource = {"ce": "computeenvironments.kubatch.io", "jq": "jobqueues.kubatch.io",
                    "sp": "schedulingpolicies.kubatch.io"}[kind]
        kubectl.run("delete", resource, made_name, "--ignore-not-found", "--wait=false", check=False)


@pytest.fixture
def queue(kubatch: Run, names: Callable[[str], str]) -> str:
    """A queue on a Fargate environment, made with the seed's commands, and the seed's job definition."""
    environment, queue_name = names("ce"), names("jq")
    kubatch("create-compute-environment", "--compute-environment-name", environment, "--type", "MANAGED",
            "--compute-resources", '{"type": "FARGATE", "maxvCpus": 256}', "--state", "ENABLED")
    kubatch("create-job-queue", "--job-queue-name", queue_name, "--priority", "1", "--compute-environment-order",
            f'[{{"computeEnvironment": "{environment}", "order": 1}}]', "--state", "ENABLED")
    kubatch("register-job-definition", "--job-definition-name", "my-batch-job", "--type", "container",
            "--container-properties", "image=busybox,vcpus=2,memory=4096,command=echo,Ref::input_file")
    return queue_name


def test_compute_environment_queue_and_policy_life_cycle(kubatch: Run, kubectl: Kubectl,
                                                         names: Callable[[str], str]) -> None:
    environment, policy, queue_name = names("ce"), names("sp"), names("jq")
    created = kubatch("create-compute-environment", "--compute-environment-name", environment, "--type", "MANAGED",
                      "--service-role", "arn:aws:iam::123456789012:role/AWSBatchServiceRole",
                      "--compute-resources",
                      "type=EC2,minvCpus=0,maxvCpus=16,instanceTypes=m5,subnets=subnet-x,instanceRole=ecsInstanceRole",
                      "--state", "ENABLED")
    assert output(created) == {"computeEnvironmentName": environment,
                               "computeEnvironmentArn": f"{PREFIX}compute-environment/{environment}"}
    assert "computeResources.subnets is ignored" in created.stderr and "serviceRole" not in created.stderr
    assert kubectl.get("ce", environment)["spec"]["computeResources"] == {
        "type": "EC2", "minvCpus": 0, "maxvCpus": 16, "instanceTypes": ["m5"]}
    (described,) = output(kubatch("describe-compute-environments", "--compute-environments", environment))[
        "computeEnvironments"]
    assert described["serviceRole"] == "arn:aws:iam::123456789012:role/AWSBatchServiceRole"  # kept, as AWS does
    refused = kubatch("create-compute-environment", "--compute-environment-name", names("ce"), "--type", "MANAGED",
                      "--compute-resources", "type=EC2,maxvCpus=4", check=False)
    assert refused.stderr.startswith("kubatch: ClientException: computeResources.instanceRole: This parameter is "
                                     "required for Amazon EC2 instances types.")

    kubatch("create-scheduling-policy", "--name", policy, "--fairshare-policy",
            "shareDecaySeconds=3600,shareDistribution=[{shareIdentifier=teamA,weightFactor=0.5}]")
    kubatch("create-job-queue", "--job-queue-name", queue_name, "--priority", "10",
            "--compute-environment-order", f"order=1,computeEnvironment={PREFIX}compute-environment/{environment}",
            "--scheduling-policy-arn", f"{PREFIX}scheduling-policy/{policy}", "--tags", "team=data")
    assert kubectl.get("jq", queue_name)["spec"] == {
        "priority": 10, "state": "ENABLED", "schedulingPolicy": policy,
        "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": environment}]}

    kubatch("update-compute-environment", "--compute-environment", environment, "--compute-resources",
            "maxvCpus=32")
    kubatch("update-job-queue", "--job-queue", queue_name, "--priority", "20", "--state", "DISABLED")
    (described_ce,) = output(kubatch("describe-compute-environments", "--compute-environments",
                                     environment))["computeEnvironments"]
    assert described_ce["computeResources"]["maxvCpus"] == 32
    assert described_ce["uuid"] == kubectl.get("ce", environment)["metadata"]["uid"]
    (described_queue,) = output(kubatch("describe-job-queues", "--job-queues", queue_name))["jobQueues"]
    assert {key: described_queue[key] for key in ("priority", "state", "schedulingPolicyArn", "tags")} == {
        "priority": 20, "state": "DISABLED", "schedulingPolicyArn": f"{PREFIX}scheduling-policy/{policy}",
        "tags": {"team": "data"}}
    (described_policy,) = output(kubatch("describe-scheduling-policies", "--arns", policy))["schedulingPolicies"]
    assert described_policy["fairsharePolicy"] == {
        "shareDecaySeconds": 3600, "shareDistribution": [{"shareIdentifier": "teamA", "weightFactor": 0.5}]}
    assert {"arn": f"{PREFIX}scheduling-policy/{policy}"} in output(
        kubatch("list-scheduling-policies"))["schedulingPolicies"]

    refused = kubatch("delete-compute-environment", "--compute-environment", environment, check=False)
    assert refused.returncode == CLIENT_ERROR
    assert refused.stderr == (f"kubatch: ClientException: computeEnvironment: ComputeEnvironment {environment!r} "
                              f"is used by job queue(s) {queue_name}; update or delete them first\n")
    kubatch("delete-job-queue", "--job-queue", queue_name)
    kubatch("delete-compute-environment", "--compute-environment", environment)
    kubatch("delete-scheduling-policy", "--arn", policy)
    assert output(kubatch("describe-job-queues", "--job-queues", queue_name)) == {"jobQueues": []}
    for kind, name in (("jq", queue_name), ("ce", environment), ("sp", policy)):
        assert kubectl.wait_for(f"{kind} {name} deleted", lambda: kubectl.get(kind, name) is None)


def test_job_definitions(kubatch: Run, kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    seed = {"jobDefinitionName": "my-batch-job", "type": "container",
            "containerProperties": {"image": "busybox", "vcpus": 2, "memory": 4096,
                                    "command": ["python", "process.py", "Ref::input_file"],
                                    "environment": [{"name": "BATCH_LOG_LEVEL", "value": "INFO"}],
                                    "readonlyRootFilesystem": True, "privileged": False,
                                    "jobRoleArn": "arn:aws:iam::123456789012:role/job"},
            "retryStrategy": {"attempts": 3, "evaluateOnExit": [
                {"action": "RETRY", "onStatusReason": "HostUsageError"},
                {"action": "EXIT", "onStatusReason": "TaskFailed"}]},
            "timeout": {"attemptDurationSeconds": 3600}}
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(seed))
    registered = kubatch("register-job-definition", "--cli-input-json", f"file://{path}")
    assert output(registered) == {"jobDefinitionName": "my-batch-job", "revision": 1,
                                  "jobDefinitionArn": f"{PREFIX}job-definition/my-batch-job:1"}
    assert "containerProperties.jobRoleArn is ignored" in registered.stderr
    stored = kubectl.get("jd", "my-batch-job", namespace=namespace)
    assert stored["spec"]["retryStrategy"] == seed["retryStrategy"]
    assert "jobRoleArn" not in stored["spec"]["containerProperties"]

    kubatch("register-job-definition", "--cli-input-json", f"file://{path}",
            "--container-properties", "image=busybox,vcpus=4")
    replaced = kubectl.get("jd", "my-batch-job", namespace=namespace)
    assert replaced["spec"]["containerProperties"] == {"image": "busybox", "vcpus": 4}
    assert replaced["metadata"]["generation"] == 2

    # every revision is kept: the latest comes first
    entry, older = output(kubatch("describe-job-definitions", "--job-definition-name", "my-batch-job",
                                  "--status", "ACTIVE"))["jobDefinitions"]
    assert entry["containerProperties"] == {"image": "busybox", "vcpus": 4,  # and AWS's defaults
                                            "command": [], "resourceRequirements": [], "secrets": []}
    assert (entry["revision"], older["revision"]) == (2, 1)
    assert entry["containerOrchestrationType"] == "ECS"
    # deregistering marks one revision INACTIVE (AWS); the other stays, listed with --status ACTIVE
    kubatch("deregister-job-definition", "--job-definition", "my-batch-job:2")
    inactive = output(kubatch("describe-job-definitions", "--status", "INACTIVE"))["jobDefinitions"]
    assert [(d["revision"], d["status"]) for d in inactive] == [(2, "INACTIVE")]
    assert [d["revision"] for d in output(kubatch("describe-job-definitions", "--status", "ACTIVE"))[
        "jobDefinitions"]] == [1]
    kubatch("deregister-job-definition", "--job-definition", "my-batch-job")  # a bare name: every revision
    assert output(kubatch("describe-job-definitions", "--status", "ACTIVE")) == {"jobDefinitions": []}
    assert kubectl.get("jd", "my-batch-job", namespace=namespace)["status"]["status"] == "INACTIVE"


def test_submit_describe_list_cancel_terminate(kubatch: Run, kubectl: Kubectl, namespace: str, queue: str) -> None:
    submitted = output(kubatch("submit-job", "--job-name", "my-run", "--job-definition", "my-batch-job",
                               "--job-queue", queue, "--parameters", "input_file=s3://my-bucket/data/new-input.csv",
                               "--timeout", "attemptDurationSeconds=120", "--retry-strategy", "attempts=3"))
    job = kubectl.get("bj", "my-run", namespace=namespace)
    assert submitted == {"jobArn": f"{PREFIX}job/{job['metadata']['uid']}", "jobName": "my-run",
                         "jobId": job["metadata"]["uid"]}
    assert job["spec"] == {"jobDefinition": "my-batch-job:1", "jobQueue": queue,  # the revision, frozen
                           "parameters": {"input_file": "s3://my-bucket/data/new-input.csv"},
                           "timeout": {"attemptDurationSeconds": 120}, "retryStrategy": {"attempts": 3}}

    again = output(kubatch("submit-job", "--job-name", "my-run", "--job-definition", "my-batch-job",
                           "--job-queue", queue, "--array-properties", "size=100",
                           "--depends-on", f"jobId={submitted['jobId']}"))
    assert again["jobName"] == "my-run" and again["jobId"] != submitted["jobId"]
    jobs = kubectl.get("bj", namespace=namespace)["items"]
    second = next(item for item in jobs if item["metadata"]["uid"] == again["jobId"])
    assert second["metadata"]["name"].startswith("my-run-")
    assert second["spec"]["arrayProperties"] == {"size": 100}

    described = output(kubatch("describe-jobs", "--jobs", submitted["jobId"], again["jobArn"]))["jobs"]
    assert [d["jobId"] for d in described] == [submitted["jobId"], again["jobId"]]
    first = described[0]
    assert first["jobName"] == "my-run" and first["jobQueue"] == f"{PREFIX}job-queue/{queue}"
    assert first["status"] in ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
    assert isinstance(first["createdAt"], int) and first["createdAt"] > 1_600_000_000_000
    assert first["parameters"] == {"input_file": "s3://my-bucket/data/new-input.csv"}

    listed = output(kubatch("list-jobs", "--job-queue", queue, "--filters", "name=JOB_NAME,values=my-*"))
    assert {summary["jobId"] for summary in listed["jobSummaryList"]} == {submitted["jobId"], again["jobId"]}
    assert all(set(summary) >= {"jobArn", "jobId", "jobName", "createdAt", "status"}
               for summary in listed["jobSummaryList"])

    cancelled = kubatch("cancel-job", "--job-id", submitted["jobId"], "--reason", "not needed")
    assert cancelled.stdout == ""
    kubatch("terminate-job", "--job-id", again["jobArn"], "--reason", "stop")
    assert kubectl.get("bj", "my-run", namespace=namespace)["spec"]["cancelRequest"] == {"reason": "not needed"}
    assert kubectl.get("bj", second["metadata"]["name"], namespace=namespace)["spec"]["terminateRequest"] == {
        "reason": "stop"}


@pytest.mark.parametrize(("args", "message"), [
    (("submit-job", "--job-name", "x", "--job-definition", "my-batch-job", "--job-queue", "{queue}",
      "--array-properties", "size=1"), "kubatch: ClientException: arrayProperties.size: must be at least 2\n"),
    (("submit-job", "--job-name", "x", "--job-definition", "my-batch-job", "--job-queue", "missing-queue-x"),
     "kubatch: ClientException: jobQueue: JobQueue 'missing-queue-x' does not exist\n"),
    (("submit-job", "--job-name", "x", "--job-definition", "nope", "--job-queue", "{queue}"),
     "kubatch: ClientException: jobDefinition: JobDefinition 'nope' does not exist in namespace '{namespace}'\n"),
    (("register-job-definition", "--job-definition-name", "d", "--type", "container"),
     "kubatch: ClientException: type container needs exactly one of containerProperties or eksProperties; "
     "type multinode needs nodeProperties alone\n"),
    (("logs", "nope"), "kubatch: ClientException: job: BatchJob 'nope' does not exist in namespace '{namespace}'\n"),
])
def test_bad_input_is_one_line_and_a_non_zero_exit(kubatch: Run, kubectl: Kubectl, namespace: str, queue: str,
                                                   args: tuple[str, ...], message: str) -> None:
    result = kubatch(*(arg.format(queue=queue) for arg in args), check=False)
    assert (result.returncode, result.stdout, result.stderr) == (
        CLIENT_ERROR, "", message.format(namespace=namespace))
    assert not (kubectl.get("bj", namespace=namespace) or {}).get("items")


@pytest.mark.parametrize("verb", ["cancel-job", "terminate-job"])
def test_stopping_a_job_nobody_has_succeeds_and_prints_nothing_as_on_aws(kubatch: Run, verb: str) -> None:
    result = kubatch(verb, "--job-id", "nope", "--reason", "x")
    assert (result.returncode, result.stdout.strip()) == (0, "")


def test_logs_of_an_attempt_without_a_pod(kubatch: Run, queue: str) -> None:
    kubatch("submit-job", "--job-name", "j", "--job-definition", "my-batch-job", "--job-queue", queue)
    result = kubatch("logs", "j", "--attempt", "9", check=False)
    assert result.returncode == CLIENT_ERROR
    assert result.stderr.startswith("kubatch: ClientException: job: attempt 9 of j has no pod (the job is ")


def test_an_unreadable_kubeconfig_is_a_config_error(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "kubatch.cli.main", "describe-job-queues", "--kubeconfig",
                             str(tmp_path / "missing")], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert result.returncode == CONFIG_ERROR
    assert result.stderr.startswith("kubatch: cannot load the kubeconfig: ")
    assert len(result.stderr.splitlines()) == 1


def test_concurrent_cli_updates_lose_nothing(kubatch: Run, kubectl: Kubectl, namespace: str,
                                            names: Callable[[str], str]) -> None:
    environment = names("ce")
    kubatch("create-compute-environment", "--compute-environment-name", environment, "--type", "MANAGED",
            "--compute-resources", "type=EC2,minvCpus=0,maxvCpus=4,instanceRole=ecsInstanceRole")
    arn = f"{PREFIX}compute-environment/{environment}"
    writers = [subprocess.Popen([sys.executable, "-m", "kubatch.cli.main", "tag-resource", "--resource-arn", arn,
                                 "--tags", f"writer{n}=done", "--kubeconfig", str(kubectl.kubeconfig), "-n", namespace],
                                cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for n in range(8)]
    for writer in writers:
        _, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
    tags = output(kubatch("list-tags-for-resource", "--resource-arn", arn))["tags"]
    assert tags == {f"writer{n}": "done" for n in range(8)}  # each read-modify-write kept the others'
