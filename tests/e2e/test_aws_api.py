"""``kubatch api`` on the real control plane, driven by clients nobody here wrote: the AWS CLI and boto3.

The server runs as a subprocess (``python -m kubatch.cli.main api``) with a credentials
file mapping two access keys to two fresh namespaces; the operator runs too, so jobs
go through their whole life. Every raw answer boto3 receives is checked against
botocore's output shape. Cluster-scoped objects get unique names and are deleted at
the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.batch import unique
from tests.e2e.conftest import REPO_ROOT, _free_port
from tests.e2e.kubectl import Kubectl
from tests.unit.fake_kube import SEED_DEFINITION

boto3 = pytest.importorskip("boto3", reason="boto3 and awscli are test dependencies (.[test])")
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from tests.unit.test_http_server import shape_problems  # noqa: E402

pytestmark = pytest.mark.usefixtures("operator")

SECRET = "e2e-secret-" + uuid.uuid4().hex
PREFIX = "arn:aws:batch:us-east-1:000000000000:"
TERMINAL = {"SUCCEEDED", "FAILED"}
LONG_RUN = {"kubatch.io/sim-run-seconds": "600"}
"""Tags propagated to the pod: kwok keeps it running for 10 minutes."""


@dataclass
class Api:
    url: str
    namespace: str
    other_namespace: str
    log: Path
    kubectl: Kubectl
    names: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])

    def client(self, *, key: str = "AKIATEAM", secret: str = SECRET) -> Any:
        """A boto3 client whose every raw answer is checked against botocore's output shape."""
        batch = boto3.client("batch", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=key,
                             aws_secret_access_key=secret, config=Config(retries={"total_max_attempts": 1}))

        def check(http_response: Any, parsed: dict, model: Any, **_: Any) -> None:
            if http_response.status_code == 200:
                body = json.loads(http_response.content or b"{}")
                self.problems += [f"{model.name}: {problem}" for problem in shape_problems(model.name, body)]

        batch.meta.events.register("after-call.batch.*", check)
        return batch


def _start(command: list[str], *, log: Path, env: dict[str, str]) -> subprocess.Popen:
    with open(log, "ab") as sink:
        return subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT)


def _wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"kubatch api exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"kubatch api did not answer /healthz in 30s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def api(kubectl: Kubectl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """``kubatch api`` on a free loopback port: key AKIATEAM (admin) in one namespace, AKIAOTHER in another."""
    directory = tmp_path_factory.mktemp("kubatch-api")
    namespace, other = unique("aws"), unique("aws-other")
    for name in (namespace, other):
        kubectl.run("create", "namespace", name)
    credentials = directory / "credentials.yaml"
    credentials.write_text(json.dumps({"accessKeys": [
        {"accessKeyId": "AKIATEAM", "secretAccessKey": SECRET, "namespace": namespace, "admin": True},
        {"accessKeyId": "AKIAOTHER", "secretAccessKey": SECRET, "namespace": other}]}))
    port = _free_port()
    log = directory / "api.log"
    process = _start([sys.executable, "-m", "kubatch.cli.main", "api", "--port", str(port), "--kubeconfig",
                      str(kubectl.kubeconfig), "--credentials-file", str(credentials)], log=log, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield Api(url=url, namespace=namespace, other_namespace=other, log=log, kubectl=kubectl)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        for name in (namespace, other):
            kubectl.run("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def cluster_objects(kubectl: Kubectl) -> Iterator[Callable[[str, str], str]]:
    """Unique names for cluster-scoped objects (kind, prefix), deleted at the end of the module."""
    made: list[tuple[str, str]] = []

    def name(kind: str, prefix: str) -> str:
        made.append((kind, unique(prefix)))
        return made[-1][1]

    yield name
    for kind, made_name in reversed(made):
        kubectl.run("delete", kind, made_name, "--ignore-not-found", "--wait=false", check=False)


def aws_cli() -> str:
    found = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    if not found:
        pytest.skip("the AWS CLI (awscli) is a test dependency (.[test])")
    return found


@pytest.fixture(scope="module")
def aws(api: Api, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    """``aws batch VERB ARGS --endpoint-url …`` with the AKIATEAM key; its parsed JSON output."""
    binary, home = aws_cli(), tmp_path_factory.mktemp("aws-home")
    environment = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIATEAM", "AWS_SECRET_ACCESS_KEY": SECRET,
                   "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(home / "config"),
                   "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"), "AWS_PAGER": ""}

    def run(verb: str, *args: str) -> Any:
        result = subprocess.run([binary, "batch", verb, *args, "--endpoint-url", api.url, "--output", "json"],
                                capture_output=True, text=True, env=environment, timeout=120)
        if result.returncode != 0:
            raise AssertionError(f"aws batch {verb} {' '.join(args)} failed ({result.returncode}): {result.stderr}\n"
                                 f"kubatch api log:\n{api.log_tail()}")
        return json.loads(result.stdout) if result.stdout.strip() else {}

    return run


def wait_for(batch: Any, job_id: str, states: set[str], *, timeout: float = 120) -> dict:
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        (last,) = batch.describe_jobs(jobs=[job_id])["jobs"]
        if last["status"] in states:
            return last
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} not in {sorted(states)} after {timeout:.0f}s; last seen: {last}")


def seed_environments(aws: Callable[..., Any], names: Callable[[str, str], str]) -> str:
    """The seed's Fargate and EC2 compute environments (AWS-only settings included) and a queue on both."""
    fargate, ec2, queue = names("ce", "my-fargate-env"), names("ce", "my-ec2-env"), names("jq", "my-queue")
    aws("create-compute-environment", "--compute-environment-name", fargate, "--type", "MANAGED",
        "--service-role", "arn:aws:iam::123456789012:role/AWSBatchServiceRole", "--compute-resources",
        json.dumps({"type": "FARGATE", "maxvCpus": 256, "subnets": ["subnet-xxxxx", "subnet-yyyyy"],
                    "securityGroupIds": ["sg-xxxxx"]}), "--state", "ENABLED")
    created = aws("create-compute-environment", "--compute-environment-name", ec2, "--type", "MANAGED",
                  "--service-role", "arn:aws:iam::123456789012:role/AWSBatchServiceRole", "--compute-resources",
                  json.dumps({"type": "EC2", "minvCpus": 0, "desiredvCpus": 0, "maxvCpus": 256,
                              "instanceTypes": ["m5", "m5d"], "subnets": ["subnet-xxxxx"],
                              "securityGroupIds": ["sg-xxxxx"],
                              "instanceRole": "arn:aws:iam::123456789012:instance-profile/batch-instance-role"}),
                  "--state", "ENABLED")
    assert created == {"computeEnvironmentName": ec2, "computeEnvironmentArn": f"{PREFIX}compute-environment/{ec2}"}
    answer = aws("create-job-queue", "--job-queue-name", queue, "--priority", "10", "--compute-environment-order",
                 json.dumps([{"computeEnvironment": fargate, "order": 1},
                             {"computeEnvironment": created["computeEnvironmentArn"], "order": 2}]),
                 "--state", "ENABLED")
    assert answer == {"jobQueueName": queue, "jobQueueArn": f"{PREFIX}job-queue/{queue}"}
    return queue


def test_the_seed_commands_with_the_aws_cli(api: Api, aws: Callable[..., Any],
                                            cluster_objects: Callable[[str, str], str], tmp_path: Path) -> None:
    queue = seed_environments(aws, cluster_objects)
    definition_file = tmp_path / "my-batch-job.json"
    definition_file.write_text(json.dumps(SEED_DEFINITION))
    registered = aws("register-job-definition", "--cli-input-json", f"file://{definition_file}")
    assert registered == {"jobDefinitionName": "my-batch-job", "revision": 1,
                          "jobDefinitionArn": f"{PREFIX}job-definition/my-batch-job:1"}
    assert aws("describe-job-queues", "--job-queues", queue)["jobQueues"][0]["priority"] == 10

    simple = aws("submit-job", "--job-name", "my-analysis", "--job-definition", "my-batch-job", "--job-queue", queue)
    with_parameters = aws("submit-job", "--job-name", "my-run", "--job-definition", "my-batch-job", "--job-queue",
                          queue, "--parameters", "input_file=s3://my-bucket/data/new-input.csv")
    array = aws("submit-job", "--job-name", "my-array", "--job-definition", "my-batch-job", "--job-queue", queue,
                "--array-properties", "size=100",  # children of 5 s keep job2 PENDING while the CLI lists it
                "--propagate-tags", "--tags", "kubatch.io/sim-run-seconds=5")
    after = aws("submit-job", "--job-name", "job2", "--job-definition", "my-batch-job", "--job-queue", queue,
                "--depends-on", json.dumps([{"jobId": array["jobId"]}]))
    long_run = aws("submit-job", "--job-name", "long", "--job-definition", "my-batch-job", "--job-queue", queue,
                   "--propagate-tags", "--tags", ",".join(f"{key}={value}" for key, value in LONG_RUN.items()))
    assert simple["jobArn"] == f"{PREFIX}job/{simple['jobId']}" and simple["jobName"] == "my-analysis"

    batch = api.client()
    wait_for(batch, after["jobId"], {"PENDING"})
    pending = aws("list-jobs", "--job-queue", queue, "--job-status", "PENDING")["jobSummaryList"]
    assert after["jobId"] in {job["jobId"] for job in pending}
    wait_for(batch, long_run["jobId"], {"RUNNING"})
    assert aws("terminate-job", "--job-id", long_run["jobId"], "--reason", "no longer needed") == {}
    for job in (simple, with_parameters, array, after, long_run):
        wait_for(batch, job["jobId"], TERMINAL, timeout=240)

    described = aws("describe-jobs", "--jobs", simple["jobId"], with_parameters["jobArn"], array["jobId"],
                    after["jobId"], long_run["jobId"])["jobs"]
    by_name = {job["jobName"]: job for job in described}
    assert {name: job["status"] for name, job in by_name.items()} == {
        "my-analysis": "SUCCEEDED", "my-run": "SUCCEEDED", "my-array": "SUCCEEDED", "job2": "SUCCEEDED",
        "long": "FAILED"}
    assert by_name["long"]["statusReason"] == "no longer needed"  # AWS: the caller's reason, not a code
    assert by_name["my-analysis"]["statusReason"] == "Essential container in task exited"
    assert by_name["my-array"]["arrayProperties"]["statusSummary"]["SUCCEEDED"] == 100
    assert by_name["job2"]["dependsOn"] == [{"jobId": array["jobId"]}]
    assert by_name["job2"]["startedAt"] // 1000 >= by_name["my-array"]["stoppedAt"] // 1000  # startedAt: whole s
    assert by_name["my-run"]["parameters"] == {"input_file": "s3://my-bucket/data/new-input.csv"}
    (pod,) = api.kubectl.get("pod", namespace=api.namespace, selector=f"kubatch.io/job-id={with_parameters['jobId']}")[
        "items"]  # the AWS CLI prints only botocore's fields: kubatch's podName is not among them
    assert pod["spec"]["containers"][0]["command"] == ["python", "process.py", "s3://my-bucket/data/new-input.csv"]

    succeeded = aws("list-jobs", "--job-queue", queue, "--job-status", "SUCCEEDED")["jobSummaryList"]
    assert {job["jobName"] for job in succeeded} == {"my-analysis", "my-run", "my-array", "job2"}
    children = aws("list-jobs", "--array-job-id", array["jobId"], "--job-status", "SUCCEEDED")["jobSummaryList"]
    assert len(children) == 100  # the AWS CLI follows nextToken itself


def test_boto3_from_python_with_pagination(api: Api, cluster_objects: Callable[[str, str], str]) -> None:
    batch = api.client()
    environment = batch.create_compute_environment(
        computeEnvironmentName=cluster_objects("ce", "boto-ec2"), type="MANAGED",
        computeResources={"type": "EC2", "minvCpus": 0, "maxvCpus": 16, "instanceRole": "ecsInstanceRole"})
    stopped = batch.create_compute_environment(
        computeEnvironmentName=cluster_objects("ce", "boto-off"), type="MANAGED", state="DISABLED",
        computeResources={"type": "EC2", "maxvCpus": 16, "instanceRole": "ecsInstanceRole"})
    queue = batch.create_job_queue(jobQueueName=cluster_objects("jq", "boto-q"), priority=5, computeEnvironmentOrder=[
        {"order": 1, "computeEnvironment": environment["computeEnvironmentArn"]}])
    parked = batch.create_job_queue(jobQueueName=cluster_objects("jq", "boto-parked"), priority=1,
                                    computeEnvironmentOrder=[{"order": 1, "computeEnvironment": stopped[
                                        "computeEnvironmentName"]}])
    definition = batch.register_job_definition(jobDefinitionName="boto-def", type="container", containerProperties={
        "image": "busybox", "command": ["echo", "Ref::word"], "resourceRequirements": [
            {"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "512"}]}, parameters={"word": "hello"})

    first = batch.submit_job(jobName="first", jobQueue=queue["jobQueueArn"],
                             jobDefinition=definition["jobDefinitionArn"], parameters={"word": "bonjour"})
    array = batch.submit_job(jobName="array", jobQueue=queue["jobQueueName"], jobDefinition="boto-def",
                             arrayProperties={"size": 10}, dependsOn=[{"jobId": first["jobArn"]}])
    # answered at once, as AWS does, before the operator has looked at the jobs
    at_once = batch.describe_jobs(jobs=[first["jobId"], array["jobId"]])["jobs"]
    assert [job["jobDefinition"] for job in at_once] == [definition["jobDefinitionArn"]] * 2
    assert [job["container"]["image"] for job in at_once] == ["busybox"] * 2
    done = wait_for(batch, array["jobId"], TERMINAL, timeout=180)
    assert done["status"] == "SUCCEEDED" and done["arrayProperties"]["statusSummary"]["SUCCEEDED"] == 10
    child = batch.describe_jobs(jobs=[f"{array['jobId']}:3"])["jobs"][0]
    assert child["arrayProperties"]["index"] == 3 and child["status"] == "SUCCEEDED"
    assert batch.list_jobs(jobQueue=queue["jobQueueName"], jobStatus="SUCCEEDED")["jobSummaryList"]

    submitted = {batch.submit_job(jobName=f"page-{index}", jobQueue=parked["jobQueueArn"],
                                  jobDefinition="boto-def")["jobId"] for index in range(250)}
    pages = list(batch.get_paginator("list_jobs").paginate(
        jobQueue=parked["jobQueueName"], filters=[{"name": "JOB_NAME", "values": ["page-*"]}],
        PaginationConfig={"PageSize": 100}))
    assert [len(page["jobSummaryList"]) for page in pages] == [100, 100, 50]
    assert {job["jobId"] for page in pages for job in page["jobSummaryList"]} == submitted
    assert api.problems == []


def test_registrations_racing_each_other_each_name_the_revision_that_holds_their_spec(api: Api) -> None:
    """Two RegisterJobDefinition calls at once with different specs, 50 times, the operator numbering too:
    100 distinct revisions, and each answer's revision holds the spec that call registered."""
    clients = [api.client(), api.client()]
    answers: list[tuple[dict, str]] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for round_ in range(50):
            barrier = threading.Barrier(2)

            def register(side: int, round_: int = round_, barrier: threading.Barrier = barrier) -> tuple[dict, str]:
                word = f"{round_}-{side}"
                barrier.wait()
                return clients[side].register_job_definition(
                    jobDefinitionName="raced", type="container",
                    containerProperties={"image": "busybox", "command": ["echo", word]}), word

            answers += pool.map(register, (0, 1))
    assert sorted(answer["revision"] for answer, _ in answers) == list(range(1, 101))
    held = {entry["revision"]: entry["containerProperties"]["command"][1]
            for page in clients[0].get_paginator("describe_job_definitions").paginate(jobDefinitionName="raced")
            for entry in page["jobDefinitions"]}
    assert {answer["revision"]: word for answer, word in answers} == held
    assert all(answer["jobDefinitionArn"] == f"{PREFIX}job-definition/raced:{answer['revision']}"
               for answer, _ in answers)
    assert api.problems == []


def signed_request(api: Api, path: str, body: bytes, *, key: str = "AKIATEAM",
                   secret: str = SECRET) -> urllib.request.Request:
    request = AWSRequest(method="POST", url=f"{api.url}{path}", data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(key, secret), "batch", "us-east-1").add_auth(request)
    return urllib.request.Request(f"{api.url}{path}", data=body, method="POST", headers=dict(request.headers.items()))


def error_of(request: urllib.request.Request) -> tuple[int, str, dict]:
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=30)
    return raised.value.code, raised.value.headers["x-amzn-ErrorType"], json.loads(raised.value.read())


def test_errors_and_tenancy(api: Api, cluster_objects: Callable[[str, str], str]) -> None:
    batch, other = api.client(), api.client(key="AKIAOTHER")
    environment = batch.create_compute_environment(computeEnvironmentName=cluster_objects("ce", "errors"),
                                                   type="MANAGED", computeResources={"type": "EC2", "maxvCpus": 4,
                                                                                     "instanceRole": "ecsInstanceRole"})
    queue = batch.create_job_queue(jobQueueName=cluster_objects("jq", "errors"), priority=1, computeEnvironmentOrder=[
        {"order": 1, "computeEnvironment": environment["computeEnvironmentName"]}])
    batch.register_job_definition(jobDefinitionName="mine", type="container", containerProperties={
        "image": "busybox", "command": ["sleep", "1"], "vcpus": 1, "memory": 256})
    mine = batch.submit_job(jobName="private", jobQueue=queue["jobQueueName"], jobDefinition="mine")

    assert other.describe_jobs(jobs=[mine["jobId"], mine["jobArn"], "private"])["jobs"] == []
    # another namespace's job is as one nobody has: stopping it succeeds with nothing to say (AWS), touches nothing
    assert {k: v for k, v in other.terminate_job(jobId=mine["jobId"], reason="not yours").items()
            if k != "ResponseMetadata"} == {}
    assert other.cancel_job(jobId="no-such-job", reason="x")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "terminateRequest" not in api.kubectl.get("bj", "private", namespace=api.namespace)["spec"]
    with pytest.raises(ClientError) as raised:
        other.delete_job_queue(jobQueue=queue["jobQueueName"])
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    with pytest.raises(ClientError) as raised:
        api.client(secret="a-wrong-secret-that-is-long-enough").list_jobs(jobQueue=queue["jobQueueName"])
    assert (raised.value.response["Error"]["Code"], raised.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "InvalidSignatureException", 403)

    status, code, body = error_of(signed_request(api, "/v1/describejobs", b'{"jobs": ['))
    assert (status, code, body["__type"]) == (400, "ClientException", "ClientException")
    assert body["message"].startswith("DescribeJobs: the request body is not valid JSON")
    status, code, body = error_of(urllib.request.Request(f"{api.url}/v1/describejobs", data=b"{}", method="POST"))
    assert (status, code, body) == (403, "MissingAuthenticationTokenException",
                                    {"__type": code, "message": "Missing Authentication Token"})
    status, code, body = error_of(signed_request(api, "/v1/describeserviceenvironments", b'{}'))
    assert (status, code, body["message"]) == (400, "ClientException",
                                               "DescribeServiceEnvironments is not an operation kubatch implements")
    assert api.problems == []
