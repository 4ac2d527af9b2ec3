"""Submitting, describing, listing, cancelling and terminating jobs through the service layer."""

from __future__ import annotations

import copy

import pytest

from kubatch.core.targets import TargetError, check_queue
from kubatch.kube.client import ApiError
from kubatch.service import ClientException, invoke
from kubatch.service.shapes import JOB_NAME_ANNOTATION
from tests.unit.fake_kube import CREATED_MS, FakeKube, changed, make_context, provision, refusal
from tests.unit.test_http_server import shape_problems

PREFIX = "arn:aws:batch:us-east-1:000000000000:"
DEFINITION = {"jobDefinitionName": "my-batch-job", "type": "container",
              "containerProperties": {"image": "busybox", "command": ["echo", "Ref::input_file"]}}
SIMPLE = {"jobName": "my-analysis", "jobDefinition": "my-batch-job", "jobQueue": "my-queue"}


@pytest.fixture
async def kube() -> FakeKube:
    kube = FakeKube()
    await provision(kube, queues=("my-queue", "other-queue"), definition=DEFINITION)
    return kube


def job_spec(kube: FakeKube, name: str) -> dict:
    return kube.stored("BatchJob", name)["spec"]


async def test_submit_answers_like_aws_and_stores_the_request_as_the_spec(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    response = await invoke(ctx, "SubmitJob", {**SIMPLE, "parameters": {"input_file": "s3://b/new.csv"},
                                               "jobQueue": PREFIX + "job-queue/my-queue",
                                               "jobDefinition": PREFIX + "job-definition/my-batch-job:1",
                                               "timeout": {"attemptDurationSeconds": 120},
                                               "retryStrategy": {"attempts": 3}, "propagateTags": True})
    uid = kube.stored("BatchJob", "my-analysis")["metadata"]["uid"]
    assert response == {"jobArn": PREFIX + "job/" + uid, "jobName": "my-analysis", "jobId": uid}
    assert job_spec(kube, "my-analysis") == {
        "jobDefinition": "my-batch-job:1", "jobQueue": "my-queue", "parameters": {"input_file": "s3://b/new.csv"},
        "timeout": {"attemptDurationSeconds": 120}, "retryStrategy": {"attempts": 3}, "propagateTags": True}


async def test_arrays_and_dependencies(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    first = await invoke(ctx, "SubmitJob", SIMPLE)
    await invoke(ctx, "SubmitJob", {**SIMPLE, "jobName": "my-array", "arrayProperties": {"size": 100},
                                    "dependsOn": [{"jobId": first["jobArn"], "type": "N_TO_N"}]})
    assert job_spec(kube, "my-array")["arrayProperties"] == {"size": 100}
    assert job_spec(kube, "my-array")["dependsOn"] == [{"jobId": first["jobId"], "type": "N_TO_N"}]


async def test_aws_job_names_need_not_be_unique_or_lowercase(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    first = await invoke(ctx, "SubmitJob", {**SIMPLE, "jobName": "Nightly_Run"})
    second = await invoke(ctx, "SubmitJob", {**SIMPLE, "jobName": "Nightly_Run"})
    assert first["jobName"] == second["jobName"] == "Nightly_Run"
    names = sorted(job["metadata"]["name"] for job in await kube.list("BatchJob", namespace="default"))
    assert names[0] == "nightly-run"
    assert names[1].startswith("nightly-run-") and len(names[1]) == len("nightly-run-") + 5
    stored = kube.stored("BatchJob", "nightly-run")
    assert stored["metadata"]["annotations"] == {JOB_NAME_ANNOTATION: "Nightly_Run"}
    described = await invoke(ctx, "DescribeJobs", {"jobs": [second["jobId"]]})
    assert described["jobs"][0]["jobName"] == "Nightly_Run"


@pytest.mark.parametrize(("change", "message"), [
    ({"arrayProperties": {"size": 1}}, "arrayProperties.size: must be at least 2"),
    ({"arrayProperties": {"size": 10001}}, "arrayProperties.size: must be at most 10000"),
    ({"dependsOn": [{"jobId": "a", "type": "N_TO_N"}]},
     "spec.dependsOn[].type (N_TO_N, SEQUENTIAL) requires spec.arrayProperties"),
    ({"jobQueue": "missing"}, "jobQueue: JobQueue 'missing' does not exist"),
    ({"jobDefinition": "missing"}, "jobDefinition: JobDefinition 'missing' does not exist in namespace 'default'"),
    ({"jobDefinition": "my-batch-job:4"}, "jobDefinition: revision 4 of 'my-batch-job' does not exist (latest is 1)"),
    ({"jobDefinition": PREFIX + "job-queue/q"}, "jobDefinition: 'arn:aws:batch:us-east-1:000000000000:job-queue/q' is not"),
    ({"jobName": "bad name"}, "jobName: 'bad name' must be 1 to 128 letters"),
    ({"jobName": None}, "jobName: is required"),
    ({"containerOverrides": {"vcpus": "many"}}, "containerOverrides.vcpus: input should be a valid integer"),
    ({"cancelRequest": {"reason": "x"}}, "cancelRequest: is not a known field of this operation"),
    ({"ecsPropertiesOverride": {}}, "ecsPropertiesOverride: not supported by kubatch"),
])
async def test_invalid_submissions_name_the_field(kube: FakeKube, change: dict, message: str) -> None:
    assert (await refusal(kube, "SubmitJob", changed(SIMPLE, change))).startswith(message)
    assert ("create", "BatchJob") not in kube.calls


async def test_a_disabled_queue_accepts_no_jobs(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "UpdateJobQueue", {"jobQueue": "my-queue", "state": "DISABLED"})
    with pytest.raises(ClientException, match="jobQueue: JobQueue 'my-queue' is DISABLED"):
        await invoke(ctx, "SubmitJob", SIMPLE)


async def test_submit_job_and_the_planner_refuse_share_identifiers_with_the_same_words(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    with pytest.raises(ClientException) as refused:
        await invoke(ctx, "SubmitJob", {**SIMPLE, "shareIdentifier": "teamA"})
    with pytest.raises(TargetError) as planned:
        check_queue("my-queue", kube.stored("JobQueue", "my-queue", None), share_identifier="teamA")
    assert str(refused.value) == f"{planned.value.field}: {planned.value.detail}" == (
        "shareIdentifier: JobQueue 'my-queue' has no scheduling policy (FIFO); remove the share identifier")
    assert str(planned.value) == f"spec.{refused.value}"
    await invoke(ctx, "CreateSchedulingPolicy", {"name": "fair", "fairsharePolicy": {}})
    # the same queue, made fair-share (a FIFO queue cannot be given a policy later: AWS's rule, tested in
    # test_service_queues.test_a_queue_is_fifo_or_fair_share_for_life)
    fair = copy.deepcopy(kube.stored("JobQueue", "my-queue", None))
    fair["spec"]["schedulingPolicy"] = "fair"
    kube.put("JobQueue", fair)
    with pytest.raises(ClientException, match="^shareIdentifier: required on JobQueue 'my-queue', which has a sched"):
        await invoke(ctx, "SubmitJob", SIMPLE)
    await invoke(ctx, "SubmitJob", {**SIMPLE, "shareIdentifier": "teamA"})
    assert job_spec(kube, "my-analysis")["shareIdentifier"] == "teamA"


async def test_checks_are_skipped_where_rbac_forbids_reading(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    kube.fail("get", "JobQueue", ApiError(403, "forbidden"))
    await invoke(ctx, "SubmitJob", {**SIMPLE, "jobQueue": "not-visible"})
    assert job_spec(kube, "my-analysis")["jobQueue"] == "not-visible"


async def test_instance_types_are_ignored_with_a_warning(kube: FakeKube) -> None:
    ctx, warnings = make_context(kube)
    await invoke(ctx, "SubmitJob", {**SIMPLE, "containerOverrides": {"instanceType": "m5.large", "vcpus": 2}})
    assert job_spec(kube, "my-analysis")["containerOverrides"] == {"vcpus": 2}
    assert warnings == ["containerOverrides.instanceType is ignored: kubatch does not launch instances; "
                        "nodes come from the cluster"]


def finished(kube: FakeKube, name: str) -> dict:
    """The status the operator writes for a job that failed its only attempt."""
    job = kube.stored("BatchJob", name)
    container = {"exitCode": 1, "reason": "NonZeroExitCode", "podName": f"{name}-a1", "nodeName": "node-1"}
    job["status"] = {
        "jobId": job["metadata"]["uid"], "status": "FAILED", "statusReason": "TaskFailed",
        "statusMessage": "Essential container in task exited", "createdAt": CREATED_MS,
        "startedAt": CREATED_MS + 5000, "stoppedAt": CREATED_MS + 9000, "jobQueue": "my-queue",
        "computeEnvironment": "ce", "attemptCount": 1, "container": container, "observedGeneration": 1,
        "attempts": [{"container": container, "startedAt": CREATED_MS + 5000, "stoppedAt": CREATED_MS + 9000,
                      "statusReason": "TaskFailed"}],
        "resolvedDefinition": {"revision": 1, "type": "container", "parameters": {"input_file": "x"},
                               "retryStrategy": {"attempts": 1}, "timeout": {}, "tags": {}, "schedulingPriority": 0,
                               "platformCapabilities": ["EC2"],
                               "containerProperties": {"image": "busybox", "command": ["echo", "Ref::input_file"]}},
        "conditions": [{"type": "Failed", "status": "True"}],
    }
    return job


async def test_describe_has_the_shape_of_a_describe_jobs_entry(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    submitted = await invoke(ctx, "SubmitJob", {**SIMPLE, "parameters": {"input_file": "x"}})
    finished(kube, "my-analysis")
    uid = submitted["jobId"]
    response = await invoke(ctx, "DescribeJobs", {"jobs": [uid, "my-analysis", submitted["jobArn"], "unknown"]})
    expected = {
        "jobArn": PREFIX + "job/" + uid,
        "jobName": "my-analysis",
        "jobId": uid,
        "jobQueue": PREFIX + "job-queue/my-queue",
        "status": "FAILED",
        "statusReason": "Essential container in task exited",  # AWS's text; the CRD's code travels beside it
        "statusReasonCode": "TaskFailed",
        "statusMessage": "Essential container in task exited",
        "schedulingPriority": 0,
        "attempts": [{"container": {"exitCode": 1, "reason": "NonZeroExitCode", "podName": "my-analysis-a1",
                                    "nodeName": "node-1"},
                      "startedAt": CREATED_MS + 5000, "stoppedAt": CREATED_MS + 9000, "statusReason": "TaskFailed"}],
        "createdAt": CREATED_MS,
        "startedAt": CREATED_MS + 5000,
        "stoppedAt": CREATED_MS + 9000,
        "retryStrategy": {"attempts": 1},
        "dependsOn": [],
        "jobDefinition": PREFIX + "job-definition/my-batch-job:1",
        "parameters": {"input_file": "x"},
        "container": {"image": "busybox", "command": ["echo", "Ref::input_file"], "exitCode": 1,
                      "reason": "NonZeroExitCode", "podName": "my-analysis-a1", "nodeName": "node-1"},
        "platformCapabilities": ["EC2"],
        "tags": {},  # AWS answers an empty map, not nothing
        "computeEnvironment": "ce",
        "isCancelled": False,
        "isTerminated": False,
    }
    assert response == {"jobs": [expected, expected, expected]}


async def test_a_job_the_operator_has_not_seen_yet_is_submitted(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    submitted = await invoke(ctx, "SubmitJob", SIMPLE)
    (detail,) = (await invoke(ctx, "DescribeJobs", {"jobs": [submitted["jobId"]]}))["jobs"]
    assert detail["status"] == "SUBMITTED"
    assert detail["createdAt"] == CREATED_MS
    # answered at once, as AWS does: the revision and the container are resolved at submission
    assert detail["jobDefinition"] == PREFIX + "job-definition/my-batch-job:1"
    assert kube.stored("BatchJob", submitted["jobName"])["spec"]["jobDefinition"] == "my-batch-job:1"
    assert detail["container"]["image"] == "busybox" and detail["retryStrategy"] == {"attempts": 1}
    assert "resolvedDefinition" not in (kube.stored("BatchJob", submitted["jobName"]).get("status") or {})
    assert not shape_problems("DescribeJobs", {"jobs": [detail]})


async def test_describing_a_kubectl_job_whose_definition_is_not_numbered_yet_writes_nothing(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    kube.put("BatchJob", {"metadata": {"name": "applied"}, "spec": {"jobDefinition": "my-batch-job",
                                                                   "jobQueue": "my-queue"}})
    definition = kube.stored("JobDefinition", "my-batch-job")
    definition["spec"] = {"type": "container", "containerProperties": {"image": "edited"}}
    definition["metadata"]["generation"] = 2  # applied with kubectl, the operator has not numbered it
    kube.calls.clear()
    (detail,) = (await invoke(ctx, "DescribeJobs", {"jobs": ["applied"]}))["jobs"]
    assert "container" not in detail and ("patch", "JobDefinition") not in kube.calls


async def test_a_definition_registered_after_submission_does_not_change_the_job(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    submitted = await invoke(ctx, "SubmitJob", SIMPLE)
    await invoke(ctx, "RegisterJobDefinition", {"jobDefinitionName": "my-batch-job", "type": "container",
                                                "containerProperties": {"image": "newer"}})
    (detail,) = (await invoke(ctx, "DescribeJobs", {"jobs": [submitted["jobId"]]}))["jobs"]
    assert detail["jobDefinition"].endswith(":1") and detail["container"]["image"] == "busybox"


async def test_an_eks_override_without_a_name_is_accepted_and_checked_at_submission(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    for name, containers in (("one", ["app"]), ("two", ["app", "side"])):
        await invoke(ctx, "RegisterJobDefinition", {"jobDefinitionName": name, "type": "container", "eksProperties": {
            "podProperties": {"containers": [{"name": c, "image": "busybox"} for c in containers]}}})
    override = {"podProperties": {"containers": [{"command": ["echo", "hi"]}]}}
    submitted = await invoke(ctx, "SubmitJob", {"jobName": "j", "jobQueue": "my-queue", "jobDefinition": "one",
                                                "eksPropertiesOverride": override})
    assert submitted["jobName"] == "j"
    assert (await refusal(kube, "SubmitJob", {"jobName": "k", "jobQueue": "my-queue", "jobDefinition": "two",
                                               "eksPropertiesOverride": override})).startswith(
        "eksPropertiesOverride.podProperties.containers[0].name: required, as the definition's pod has 2 containers")


async def test_describe_refuses_more_than_100_ids(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    with pytest.raises(ClientException, match="jobs: must be a list of 1 to 100 job ids"):
        await invoke(ctx, "DescribeJobs", {"jobs": ["a"] * 101})


def set_status(kube: FakeKube, name: str, status: str, *, created: int = CREATED_MS) -> None:
    job = kube.stored("BatchJob", name)
    job["status"] = {"status": status, "createdAt": created}


async def test_list_follows_aws_rules(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    for index, (name, queue, status) in enumerate([("a-1", "my-queue", "RUNNING"), ("a-2", "my-queue", "RUNNABLE"),
                                                   ("b-1", "other-queue", "RUNNING")]):
        await invoke(ctx, "SubmitJob", {**SIMPLE, "jobName": name, "jobQueue": queue})
        set_status(kube, name, status, created=CREATED_MS + index)

    async def names(**request: object) -> list[str]:
        return [job["jobName"] for job in (await invoke(ctx, "ListJobs", request))["jobSummaryList"]]

    assert await names(jobQueue="my-queue") == ["a-1"]  # RUNNING only, by default
    assert await names(jobQueue="my-queue", jobStatus="RUNNABLE") == ["a-2"]
    assert await names() == ["b-1", "a-1"]  # newest first, every queue
    assert await names(filters=[{"name": "JOB_NAME", "values": ["A-*"]}]) == ["a-2", "a-1"]  # any status
    assert await names(filters=[{"name": "JOB_DEFINITION", "values": [PREFIX + "job-definition/my-batch-job"]}]) \
        == ["b-1", "a-2", "a-1"]
    assert await names(filters=[{"name": "AFTER_CREATED_AT", "values": [str(CREATED_MS)]}]) == ["b-1", "a-2"]
    assert await names(filters=[{"name": "BEFORE_CREATED_AT", "values": [str(CREATED_MS + 1)]}]) == ["a-1"]


@pytest.mark.parametrize(("request_", "message"), [
    ({"jobQueue": "q", "arrayJobId": "a"}, "give only one of jobQueue, arrayJobId and multiNodeJobId"),
    ({"jobStatus": "DONE"}, "jobStatus: must be one of SUBMITTED"),
    ({"filters": [{"name": "COLOR", "values": ["x"]}]}, "filters: unknown filter 'COLOR'"),
    ({"filters": [{"name": "JOB_NAME", "values": []}]}, "filters: each filter is {name, values} with exactly one"),
    ({"filters": [{"name": "AFTER_CREATED_AT", "values": ["yesterday"]}]}, "filters: AFTER_CREATED_AT takes epoch"),
    ({"maxResults": 0}, "maxResults: must be between 1 and 1000"),
    ({"nextToken": "garbage"}, "nextToken: is not a token returned by this operation"),
])
async def test_invalid_list_requests(kube: FakeKube, request_: dict, message: str) -> None:
    assert (await refusal(kube, "ListJobs", request_)).startswith(message)


async def test_list_pages_with_tokens_that_survive_new_submissions(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    for index in range(5):
        await invoke(ctx, "SubmitJob", {**SIMPLE, "jobName": f"j{index}"})
        set_status(kube, f"j{index}", "RUNNING", created=CREATED_MS + index)
    first = await invoke(ctx, "ListJobs", {"maxResults": 2})
    await invoke(ctx, "SubmitJob", {**SIMPLE, "jobName": "newest"})
    set_status(kube, "newest", "RUNNING", created=CREATED_MS + 99)
    second = await invoke(ctx, "ListJobs", {"maxResults": 2, "nextToken": first["nextToken"]})
    third = await invoke(ctx, "ListJobs", {"maxResults": 2, "nextToken": second["nextToken"]})
    pages = [[job["jobName"] for job in page["jobSummaryList"]] for page in (first, second, third)]
    assert pages == [["j4", "j3"], ["j2", "j1"], ["j0"]]
    assert "nextToken" not in third


async def test_cancel_and_terminate_write_requests_once(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    submitted = await invoke(ctx, "SubmitJob", SIMPLE)
    assert await invoke(ctx, "CancelJob", {"jobId": submitted["jobId"], "reason": "not needed"}) == {}
    assert await invoke(ctx, "CancelJob", {"jobId": "my-analysis", "reason": "again"}) == {}
    assert await invoke(ctx, "TerminateJob", {"jobId": submitted["jobArn"], "reason": "stop"}) == {}
    spec = job_spec(kube, "my-analysis")
    assert spec["cancelRequest"] == {"reason": "not needed"}
    assert spec["terminateRequest"] == {"reason": "stop"}


async def test_bulk_stops_report_each_job_and_skip_missing_ones_as_aws_does(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    first = await invoke(ctx, "SubmitJob", SIMPLE)
    await invoke(ctx, "SubmitJob", {**SIMPLE, "jobName": "second"})
    answer = await invoke(ctx, "CancelJobs", {"jobs": [first["jobId"], "second", "gone", "second:3"],
                                              "reason": "cleanup"})
    assert answer == {"successful": [first["jobId"], "second", "gone"], "errors": [
        {"job": "second:3", "code": "ClientException",
         "message": "jobId: kubatch stops array and multi-node jobs as a whole: name second"}]}
    assert job_spec(kube, "my-analysis")["cancelRequest"] == job_spec(kube, "second")["cancelRequest"] == {
        "reason": "cleanup"}
    assert await invoke(ctx, "TerminateJobs", {"jobs": ["second"], "reason": "stop"}) == {
        "successful": ["second"], "errors": []}
    assert job_spec(kube, "second")["terminateRequest"] == {"reason": "stop"}


@pytest.mark.parametrize("jobs", [["j"] * 51, "my-analysis", [3]])
async def test_bulk_stops_take_1_to_50_job_ids(kube: FakeKube, jobs) -> None:
    assert await refusal(kube, "TerminateJobs", {"jobs": jobs, "reason": "x"}) == \
        "jobs: must be a list of 1 to 50 job ids"


@pytest.mark.parametrize("operation", ["CancelJob", "TerminateJob"])
@pytest.mark.parametrize("job_id", ["nope", "6f1e2a43-1111-4222-8333-944455556666"])
async def test_stopping_a_job_nobody_has_succeeds_with_an_empty_answer_as_on_aws(kube: FakeKube, operation: str,
                                                                                 job_id: str) -> None:
    ctx, _ = make_context(kube)
    assert await invoke(ctx, operation, {"jobId": job_id, "reason": "x"}) == {}
    assert ("patch", "BatchJob") not in kube.calls and ("create", "BatchJob") not in kube.calls


@pytest.mark.parametrize(("request_", "message"), [
    ({"jobId": "my-analysis"}, "reason: is required"),
    ({"jobId": "my-analysis:3", "reason": "x"}, "jobId: kubatch stops array and multi-node jobs as a whole"),
    ({"jobId": "my-analysis", "reason": "x" * 1025}, "reason: string should have at most 1024 characters"),
])
async def test_invalid_stop_requests(kube: FakeKube, request_: dict, message: str) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "SubmitJob", SIMPLE)
    assert (await refusal(kube, "TerminateJob", request_)).startswith(message)
