"""boto3 and the AWS CLI, unchanged, against ``kubatch api`` on the in-memory cluster.

botocore validates every request against its Batch model before sending it and parses
every answer with it, so these prove the routes, bodies, errors and pagination are
what AWS clients expect. The server runs on its own event loop in a thread, as boto3
is synchronous.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from kubatch.http.server import BatchApi, SigV4Keys, build_app
from kubatch.service.arns import Arns
from tests.unit.fake_kube import SEED_DEFINITION, FakeKube
from tests.unit.test_http_server import KEYS, PREFIX, SECRET, provisioned

boto3 = pytest.importorskip("boto3", reason="boto3 is a test dependency (.[test])")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402


class ThreadedServer:
    """The aiohttp app on a loopback port, served by an event loop in a daemon thread."""

    def __init__(self, app: web.Application) -> None:
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(app)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.loop.run_until_complete(self.runner.setup())
        self.loop.run_until_complete(web.TCPSite(self.runner, "127.0.0.1", self.port).start())
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def kube() -> FakeKube:
    return asyncio.run(provisioned())


@pytest.fixture
def server(kube: FakeKube) -> Iterator[ThreadedServer]:
    running = ThreadedServer(build_app(BatchApi(kube=kube, arns=Arns(), auth=SigV4Keys(KEYS))))
    yield running
    running.close()


def client(server: ThreadedServer, *, key: str = "AKIATEAMA", secret: str = SECRET) -> Any:
    return boto3.client("batch", endpoint_url=server.url, region_name="eu-west-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, config=Config(retries={"total_max_attempts": 1}))


def test_the_seed_scenario_with_boto3(server: ThreadedServer, kube: FakeKube) -> None:
    admin, batch = client(server, key="AKIAADMIN"), client(server)
    environment = admin.create_compute_environment(
        computeEnvironmentName="my-fargate-env", type="MANAGED", state="ENABLED",
        serviceRole="arn:aws:iam::123456789012:role/AWSBatchServiceRole",
        computeResources={"type": "FARGATE", "maxvCpus": 256, "subnets": ["subnet-x"], "securityGroupIds": ["sg-x"]})
    queue = admin.create_job_queue(jobQueueName="my-queue", priority=1, state="ENABLED", computeEnvironmentOrder=[
        {"order": 1, "computeEnvironment": environment["computeEnvironmentArn"]}])
    definition = batch.register_job_definition(**{**SEED_DEFINITION, "jobDefinitionName": "seed"})
    assert definition["jobDefinitionArn"] == PREFIX + "job-definition/seed:1"

    first = batch.submit_job(jobName="my-run", jobQueue=queue["jobQueueArn"], jobDefinition="seed",
                             parameters={"input_file": "s3://my-bucket/data/new-input.csv"})
    array = batch.submit_job(jobName="my-array", jobQueue="my-queue", jobDefinition=definition["jobDefinitionArn"],
                             arrayProperties={"size": 100}, dependsOn=[{"jobId": first["jobId"]}])
    stored = kube.stored("BatchJob", "my-array", namespace="team-a")["spec"]
    assert stored["arrayProperties"] == {"size": 100} and stored["dependsOn"] == [{"jobId": first["jobId"]}]

    jobs = batch.describe_jobs(jobs=[first["jobArn"], array["jobId"]])["jobs"]
    assert [(job["jobName"], job["status"]) for job in jobs] == [("my-run", "SUBMITTED"), ("my-array", "SUBMITTED")]
    assert jobs[0]["parameters"] == {"input_file": "s3://my-bucket/data/new-input.csv"}
    listed = batch.list_jobs(jobQueue="my-queue", jobStatus="SUBMITTED")["jobSummaryList"]
    assert {job["jobName"] for job in listed} == {"my-run", "my-array"}
    batch.terminate_job(jobId=first["jobId"], reason="no longer needed")
    assert kube.stored("BatchJob", "my-run", namespace="team-a")["spec"]["terminateRequest"] == {
        "reason": "no longer needed"}
    queues = batch.describe_job_queues(jobQueues=[queue["jobQueueArn"]])["jobQueues"]
    assert queues[0]["computeEnvironmentOrder"] == [{"order": 1, "computeEnvironment": environment[
        "computeEnvironmentArn"]}]


def test_two_registrations_racing_50_times_each_name_the_revision_holding_their_spec(server: ThreadedServer,
                                                                                      kube: FakeKube) -> None:
    kube.interleave = True  # every call to the cluster lets the other request run in between
    clients = [client(server), client(server)]

    def register(side: int, round_: int) -> tuple[dict, str]:
        word = f"{round_}-{side}"
        return clients[side].register_job_definition(jobDefinitionName="raced", type="container", containerProperties={
            "image": "busybox", "command": ["echo", word]}), word

    answers: list[tuple[dict, str]] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for round_ in range(50):
            answers += pool.map(register, (0, 1), (round_, round_))
    assert sorted(answer["revision"] for answer, _ in answers) == list(range(1, 101))
    held = {entry["revision"]: entry["containerProperties"]["command"][1]
            for page in clients[0].get_paginator("describe_job_definitions").paginate(jobDefinitionName="raced")
            for entry in page["jobDefinitions"]}
    assert {answer["revision"]: word for answer, word in answers} == held


def test_paginated_list_jobs_over_250_jobs(server: ThreadedServer) -> None:
    batch = client(server)
    submitted = {batch.submit_job(jobName=f"job-{index}", jobQueue="q", jobDefinition="my-batch-job")["jobId"]
                 for index in range(250)}
    pages = list(batch.get_paginator("list_jobs").paginate(jobQueue="q", jobStatus="SUBMITTED",
                                                            PaginationConfig={"PageSize": 100}))
    assert [len(page["jobSummaryList"]) for page in pages] == [100, 100, 50]
    listed = [job["jobId"] for page in pages for job in page["jobSummaryList"]]
    assert len(listed) == 250 and set(listed) == submitted
    everything = batch.get_paginator("list_jobs").paginate(jobQueue="q", jobStatus="SUBMITTED").build_full_result()
    assert len(everything["jobSummaryList"]) == 250


def test_errors_are_botocores_modeled_exceptions(server: ThreadedServer) -> None:
    batch = client(server)
    with pytest.raises(batch.exceptions.ClientException) as raised:
        batch.submit_job(jobName="x", jobQueue="missing", jobDefinition="my-batch-job")
    assert raised.value.response["Error"] == {"Code": "ClientException",
                                              "Message": "jobQueue: JobQueue 'missing' does not exist"}
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(batch.exceptions.ClientException, match="DescribeServiceEnvironments is not an operation"):
        batch.describe_service_environments()


def test_tags_snapshot_and_bulk_stops_with_boto3(server: ThreadedServer, kube: FakeKube) -> None:
    admin, batch = client(server, key="AKIAADMIN"), client(server)
    admin.tag_resource(resourceArn=PREFIX + "job-queue/q", tags={"owner": "platform"})
    assert batch.list_tags_for_resource(resourceArn=PREFIX + "job-queue/q")["tags"] == {"owner": "platform"}
    job = batch.submit_job(jobName="tagged", jobQueue="q", jobDefinition="my-batch-job", tags={"run": "1"})
    batch.tag_resource(resourceArn=job["jobArn"], tags={"stage": "review"})
    batch.untag_resource(resourceArn=job["jobArn"], tagKeys=["stage"])
    batch.tag_resource(resourceArn=job["jobArn"], tags={"kept": "yes"})
    assert batch.list_tags_for_resource(resourceArn=job["jobArn"])["tags"] == {"run": "1", "kept": "yes"}

    # what the operator's last cycle wrote: the front of q (one of team-a's jobs, one of another namespace's)
    queue = kube.stored("JobQueue", "q", None)
    queue["status"] = {"frontOfQueue": {"jobs": [{"jobId": "0000-other", "earliestTimeAtPosition": 5},
                                                 {"jobId": job["jobId"], "earliestTimeAtPosition": 7}],
                                        "lastUpdatedAt": 9},
                       "queueUtilization": {"totalCapacityUsage": [{"capacityUnit": "VCPU", "quantity": 2.0}],
                                            "lastUpdatedAt": 9}}
    snapshot = batch.get_job_queue_snapshot(jobQueue=PREFIX + "job-queue/q")
    assert snapshot["frontOfQueue"] == {"jobs": [{"jobArn": job["jobArn"], "earliestTimeAtPosition": 7}],
                                        "lastUpdatedAt": 9}
    assert snapshot["queueUtilization"]["totalCapacityUsage"] == [{"capacityUnit": "VCPU", "quantity": 2.0}]

    stopped = batch.cancel_jobs(jobs=[job["jobId"], "never-submitted"], reason="cleanup")
    assert (stopped["successful"], stopped["errors"]) == ([job["jobId"], "never-submitted"], [])
    assert kube.stored("BatchJob", "tagged", namespace="team-a")["spec"]["cancelRequest"] == {"reason": "cleanup"}


@pytest.mark.parametrize(("key", "secret", "code"), [
    ("AKIATEAMA", "a-wrong-secret-of-enough-length", "InvalidSignatureException"),
    ("AKIANOBODY", SECRET, "UnrecognizedClientException"),
])
def test_signature_failures(server: ThreadedServer, key: str, secret: str, code: str) -> None:
    with pytest.raises(ClientError) as raised:
        client(server, key=key, secret=secret).describe_job_queues()
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def aws_cli() -> str:
    found = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    if not found:
        pytest.skip("the AWS CLI (awscli) is a test dependency (.[test])")
    return found


def test_the_aws_cli_shorthand_reaches_the_service(server: ThreadedServer, kube: FakeKube, tmp_path: Path) -> None:
    environment = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIATEAMA", "AWS_SECRET_ACCESS_KEY": SECRET,
                   "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "none"),
                   "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    result = subprocess.run([aws_cli(), "batch", "submit-job", "--endpoint-url", server.url, "--job-name", "cli-run",
                             "--job-queue", "q", "--job-definition", "my-batch-job", "--array-properties", "size=100",
                             "--parameters", "input_file=s3://b/k,other=x", "--timeout", "attemptDurationSeconds=120"],
                            capture_output=True, text=True, env=environment, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["jobName"] == "cli-run"
    spec = kube.stored("BatchJob", "cli-run", namespace="team-a")["spec"]
    assert spec["arrayProperties"] == {"size": 100}
    assert spec["parameters"] == {"input_file": "s3://b/k", "other": "x"}
    assert spec["timeout"] == {"attemptDurationSeconds": 120}
