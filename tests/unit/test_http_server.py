"""The HTTP front end on the in-memory cluster: signed requests, tenancy, AWS's error shapes, response shapes.

Requests are signed by botocore's own SigV4 signer and sent with aiohttp's test client,
so what the server verifies is what AWS clients send. Raw JSON answers are checked
against botocore's output shapes (kubatch's few extra fields aside).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from multidict import CIMultiDictProxy

import pytest
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from kubatch.http.credentials import AccessKey
from kubatch.http.server import Authenticator, BatchApi, NoAuth, SigV4Keys, build_app
from kubatch.service import Context, invoke
from kubatch.service.arns import Arns
from tests.unit.fake_kube import CREATED_MS, SEED_DEFINITION, FakeKube

botocore = pytest.importorskip("botocore", reason="botocore is a test dependency (.[test])")
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.session import get_session  # noqa: E402
from botocore.validate import ParamValidator  # noqa: E402

SECRET = "team-secret-0123456789abcdefghijklmnopqr"
KEYS = {
    "AKIATEAMA": AccessKey(accessKeyId="AKIATEAMA", secretAccessKey=SECRET, namespace="team-a"),
    "AKIATEAMB": AccessKey(accessKeyId="AKIATEAMB", secretAccessKey=SECRET, namespace="team-b"),
    "AKIAADMIN": AccessKey(accessKeyId="AKIAADMIN", secretAccessKey=SECRET, namespace="platform", admin=True),
}
PREFIX = "arn:aws:batch:us-east-1:000000000000:"
EXTENSIONS = {"statusMessage", "statusReasonCode", "computeEnvironment", "usedvCpus", "runningJobs", "namespaceSelector", "podName",
              "nodeName"}
"""Fields kubatch adds to AWS's answers (botocore drops them)."""
UNSET_UNTIL_KNOWN = {"startedAt"}
"""Required by botocore's JobDetail, yet AWS itself leaves it out until the job has started."""
MISMATCH = "The request signature we calculated does not match the signature you provided."


async def provisioned() -> FakeKube:
    """An admin-made compute environment and queue, and the seed's definition in team-a and team-b."""
    kube = FakeKube()
    admin = Context(kube=kube, namespace="platform")
    await invoke(admin, "CreateComputeEnvironment", {"computeEnvironmentName": "ce", "type": "MANAGED",
                                                     "computeResources": {"type": "EC2", "maxvCpus": 8,
                                                                          "instanceRole": "ecsInstanceRole"}})
    await invoke(admin, "CreateJobQueue", {"jobQueueName": "q", "priority": 1,
                                           "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "ce"}]})
    for namespace in ("team-a", "team-b"):
        await invoke(Context(kube=kube, namespace=namespace), "RegisterJobDefinition", SEED_DEFINITION)
    return kube


@asynccontextmanager
async def served(kube: FakeKube, auth: Authenticator | None = None) -> AsyncIterator[TestClient]:
    api = BatchApi(kube=kube, arns=Arns(), auth=auth or SigV4Keys(KEYS))
    async with TestClient(TestServer(build_app(api))) as client:
        yield client


def signed_headers(client: TestClient, method: str, path: str, body: bytes, *, key: str,
                   secret: str = SECRET) -> dict[str, str]:
    request = AWSRequest(method=method, url=str(client.make_url(URL(path, encoded=True))), data=body,
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(key, secret), "batch", "us-east-1").add_auth(request)
    return dict(request.headers.items())


async def send(client: TestClient, operation_path: str, body: Any = None, *, method: str = "POST",
               key: str | None = "AKIATEAMA", secret: str = SECRET) -> tuple[int, CIMultiDictProxy[str], Any]:
    """Sign (unless ``key`` is None) and send; the status, headers and parsed JSON answer."""
    data = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
    headers = signed_headers(client, method, operation_path, data, key=key, secret=secret) if key else {}
    async with client.request(method, URL(operation_path, encoded=True), data=data, headers=headers) as response:
        return response.status, response.headers, await response.json(content_type=None)


async def ok(client: TestClient, operation: str, body: dict[str, Any], *, key: str = "AKIATEAMA") -> Any:
    status, _, answer = await send(client, f"/v1/{operation.lower()}", body, key=key)
    assert status == 200, answer
    problems = shape_problems(operation, answer)
    assert not problems, problems
    return answer


def shape_problems(operation: str, answer: dict[str, Any]) -> list[str]:
    """What botocore's output shape of ``operation`` says is wrong with ``answer`` (kubatch's extensions aside)."""
    shape = get_session().get_service_model("batch").operation_model(operation).output_shape
    report = ParamValidator().validate(answer, shape)
    return [report._format_error(error) for error in report._errors
            if not (error[0] == "unknown field" and error[2]["unknown_param"] in EXTENSIONS)
            and not (error[0] == "missing required field" and error[2]["required_name"] in UNSET_UNTIL_KNOWN)]


async def test_a_signed_request_works_in_the_namespace_of_its_key() -> None:
    kube = await provisioned()
    async with served(kube) as client:
        answer = await ok(client, "SubmitJob", {"jobName": "my-run", "jobQueue": PREFIX + "job-queue/q",
                                                "jobDefinition": "my-batch-job", "parameters": {"input_file": "x"}})
    job = kube.stored("BatchJob", "my-run", namespace="team-a")
    assert answer == {"jobArn": PREFIX + "job/" + job["metadata"]["uid"], "jobName": "my-run",
                      "jobId": job["metadata"]["uid"]}
    assert ("BatchJob", "team-b", "my-run") not in kube.objects


def operator_wrote(kube: FakeKube, name: str, *, namespace: str, array: int | None = None) -> None:
    """The status the operator would have written: a finished attempt, or an array's counts."""
    job = kube.stored("BatchJob", name, namespace=namespace)
    container = {"exitCode": 1, "reason": "NonZeroExitCode", "podName": f"{name}-a1", "nodeName": "node-1"}
    job["status"] = {
        "jobId": job["metadata"]["uid"], "status": "FAILED", "statusReason": "TaskFailed",
        "statusMessage": "Essential container in task exited", "createdAt": CREATED_MS,
        "startedAt": CREATED_MS + 5000, "stoppedAt": CREATED_MS + 9000, "jobQueue": "q", "computeEnvironment": "ce",
        "container": container, "attempts": [{"container": container, "startedAt": CREATED_MS + 5000,
                                              "stoppedAt": CREATED_MS + 9000, "statusReason": "TaskFailed"}],
        "resolvedDefinition": {**{k: v for k, v in SEED_DEFINITION.items() if k != "jobDefinitionName"},
                               "revision": 1, "platformCapabilities": ["EC2"]},
    }
    if array:
        job["status"]["arrayProperties"] = {"statusSummary": {"SUCCEEDED": array - 1, "FAILED": 1}}


async def test_answers_have_botocores_output_shapes() -> None:
    kube = await provisioned()
    async with served(kube) as client:
        first = await ok(client, "SubmitJob", {"jobName": "first", "jobQueue": "q", "jobDefinition": "my-batch-job"})
        await ok(client, "SubmitJob", {"jobName": "array", "jobQueue": "q", "jobDefinition": "my-batch-job:1",
                                       "arrayProperties": {"size": 3},
                                       "dependsOn": [{"jobId": first["jobArn"], "type": "N_TO_N"}]})
        operator_wrote(kube, "first", namespace="team-a")
        operator_wrote(kube, "array", namespace="team-a", array=3)
        described = await ok(client, "DescribeJobs", {"jobs": [first["jobId"], "array"]})
        assert [job["status"] for job in described["jobs"]] == ["FAILED", "FAILED"]
        listed = await ok(client, "ListJobs", {"jobQueue": "q", "jobStatus": "FAILED"})
        assert len(listed["jobSummaryList"]) == 2
        for operation in ("DescribeJobQueues", "DescribeComputeEnvironments", "DescribeJobDefinitions",
                          "ListSchedulingPolicies"):
            await ok(client, operation, {})
        await ok(client, "TerminateJob", {"jobId": first["jobArn"], "reason": "stop"})


@pytest.mark.parametrize(("change", "status", "code", "message"), [
    ({"key": None}, 403, "MissingAuthenticationTokenException", "Missing Authentication Token"),
    ({"key": "AKIANOBODY"}, 403, "UnrecognizedClientException", "The security token included in the request is "
                                                                 "invalid."),
    ({"secret": "not-the-right-secret-at-all"}, 403, "InvalidSignatureException", MISMATCH),
    ({"body": b'{"jobs": ['}, 400, "ClientException", "DescribeJobs: the request body is not valid JSON"),
    ({"body": b'["a"]'}, 400, "ClientException", "DescribeJobs: the request body must be a JSON object"),
    ({"body": b'{"jobs": [NaN]}'}, 400, "ClientException", "DescribeJobs: the request body is not valid JSON"),
    ({"body": b"\xff\xfe"}, 400, "ClientException", "DescribeJobs: the request body is not valid JSON"),
    ({"body": b"[" * 100000}, 400, "ClientException", "DescribeJobs: the request body is not valid JSON"),
    ({"body": b" " * (1024 * 1024 + 1)}, 400, "ClientException", "the request body is larger than 1048576 bytes"),
    ({"body": {"jobs": "x"}}, 400, "ClientException", "jobs: must be a list of 1 to 100 job ids"),
    ({"body": {"jobs": ["a"], "colour": "red"}}, 400, "ClientException", "colour: is not a known field"),
    ({"operation_path": "/v1/describeserviceenvironments", "body": {}}, 400, "ClientException",
     "DescribeServiceEnvironments is not an operation kubatch implements"),
    ({"operation_path": "/v1/nosuchthing"}, 400, "ClientException",
     "no AWS Batch operation is served at POST /v1/nosuchthing"),
    ({"operation_path": "/v1/tags/" + (PREFIX + "job-queue/nope").replace(":", "%3A").replace("/", "%2F"),
      "method": "GET", "body": b""}, 400, "ClientException",
     "resourceArn: JobQueue 'nope' does not exist"),
])
async def test_errors_have_aws_shape(change: dict[str, Any], status: int, code: str, message: str) -> None:
    arguments = {"operation_path": "/v1/describejobs", "body": {"jobs": ["a"]}, **change}
    async with served(await provisioned()) as client:
        got_status, headers, answer = await send(client, **arguments)
    assert (got_status, headers["x-amzn-ErrorType"], answer["__type"]) == (status, code, code)
    assert answer["message"].startswith(message), answer["message"]
    assert headers["x-amzn-RequestId"]


async def test_cluster_failures_are_server_exceptions_and_defects_keep_their_details_in_the_log(
        caplog: pytest.LogCaptureFixture) -> None:
    from kubatch.kube.client import ApiError

    kube = await provisioned()
    async with served(kube) as client:
        kube.fail("list", "BatchJob", ApiError(503, "etcd is sad"))
        status, headers, answer = await send(client, "/v1/describejobs", {"jobs": ["a"]})
        assert (status, answer) == (500, {"__type": "ServerException", "message": "Kubernetes API: etcd is sad"})
        kube.fail("list", "BatchJob", KeyError("a bug"))
        status, headers, answer = await send(client, "/v1/describejobs", {"jobs": ["a"]})
    assert (status, answer["__type"]) == (500, "ServerException")
    assert answer["message"] == f"internal error (request id {headers['x-amzn-RequestId']})"
    assert "KeyError: 'a bug'" in caplog.text


async def test_one_namespace_never_sees_or_touches_anothers_jobs() -> None:
    kube = await provisioned()
    async with served(kube) as client:
        mine = await ok(client, "SubmitJob", {"jobName": "secret-run", "jobQueue": "q",
                                              "jobDefinition": "my-batch-job"}, key="AKIATEAMA")
        for reference in (mine["jobId"], mine["jobArn"], "secret-run"):
            theirs = await ok(client, "DescribeJobs", {"jobs": [reference]}, key="AKIATEAMB")
            assert theirs == {"jobs": []}
            # as for an id nobody has: success with nothing to say (AWS), and nothing is touched
            assert await ok(client, "TerminateJob", {"jobId": reference, "reason": "x"}, key="AKIATEAMB") == {}
        listed = await ok(client, "ListJobs", {"jobStatus": "SUBMITTED"}, key="AKIATEAMB")
        assert listed["jobSummaryList"] == []
    assert not kube.stored("BatchJob", "secret-run", namespace="team-a")["spec"].get("terminateRequest")


async def test_only_admin_keys_change_shared_objects() -> None:
    async with served(await provisioned()) as client:
        status, headers, answer = await send(client, "/v1/deletejobqueue", {"jobQueue": "q"}, key="AKIATEAMA")
        assert (status, answer["__type"]) == (403, "AccessDeniedException")
        assert answer["message"].startswith("access key AKIATEAMA (namespace team-a) is not authorized to perform "
                                            "batch:DeleteJobQueue")
        assert [queue["jobQueueName"] for queue in (await ok(client, "DescribeJobQueues", {}))["jobQueues"]] == ["q"]
        await ok(client, "UpdateJobQueue", {"jobQueue": "q", "priority": 5}, key="AKIAADMIN")
        tag_path = "/v1/tags/" + (PREFIX + "job-queue/q").replace(":", "%3A").replace("/", "%2F")
        status, _, answer = await send(client, tag_path, {"tags": {"mine": "now"}}, key="AKIATEAMA")
        assert (status, answer["__type"]) == (403, "AccessDeniedException")
        assert "batch:TagResource" in answer["message"]
        status, _, answer = await send(client, tag_path, {"tags": {"owner": "platform"}}, key="AKIAADMIN")
        assert status == 200, answer


async def test_no_auth_serves_one_namespace_unsigned() -> None:
    kube = await provisioned()
    await invoke(Context(kube=kube, namespace="dev"), "RegisterJobDefinition", SEED_DEFINITION)
    async with served(kube, NoAuth("dev")) as client:
        status, _, answer = await send(client, "/v1/submitjob", {"jobName": "j", "jobQueue": "q",
                                                                 "jobDefinition": "my-batch-job"}, key=None)
        assert status == 200, answer
        status, _, answer = await send(client, "/v1/createjobqueue", {"jobQueueName": "q2", "priority": 1,
                                       "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "ce"}]},
                                       key=None)
        assert status == 200, answer
    assert kube.stored("BatchJob", "j", namespace="dev")


async def test_ignored_fields_come_back_as_warning_headers() -> None:
    async with served(FakeKube()) as client:
        status, headers, _ = await send(client, "/v1/createcomputeenvironment", {
            "computeEnvironmentName": "spot", "type": "MANAGED", "serviceRole": "arn:aws:iam::1:role/r",
            "computeResources": {"type": "SPOT", "maxvCpus": 4, "subnets": ["s"], "instanceRole": "r"}},
                                         key="AKIAADMIN")
    assert status == 200
    assert headers.getall("x-kubatch-warning") == [
        "computeResources.instanceRole is ignored: IAM has no meaning on Kubernetes (use RBAC and serviceAccountName)",
        "computeResources.subnets is ignored: networking is the cluster's own"]


async def test_an_empty_body_is_an_empty_request_and_health_needs_no_signature() -> None:
    async with served(await provisioned()) as client:
        status, _, answer = await send(client, "/v1/describecomputeenvironments", b"")
        assert (status, [ce["computeEnvironmentName"] for ce in answer["computeEnvironments"]]) == (200, ["ce"])
        async with client.get("/healthz") as response:
            assert (response.status, await response.json()) == (200, {"status": "ok"})
