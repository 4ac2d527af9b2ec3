"""Job definitions and their revisions through the service layer, on the in-memory cluster."""

from __future__ import annotations

import asyncio
import copy

import pytest

from kubatch.kube.client import ApiError
from kubatch.service import ClientException, invoke
from tests.unit.fake_kube import SEED_DEFINITION, FakeKube, changed, make_context, refusal

ARN = "arn:aws:batch:us-east-1:000000000000:job-definition/"

SEED = SEED_DEFINITION


def numbered(kube: FakeKube, name: str, *, revision: int, kept: list[dict] | None = None) -> None:
    """What the operator writes once it has numbered the current spec."""
    definition = kube.stored("JobDefinition", name)
    definition["status"] = {"revision": revision, "status": "ACTIVE",
                            "observedGeneration": definition["metadata"]["generation"], "revisions": kept or []}


@pytest.fixture
def kube() -> FakeKube:
    return FakeKube()


async def test_register_the_seed_definition(kube: FakeKube) -> None:
    ctx, warnings = make_context(kube)
    response = await invoke(ctx, "RegisterJobDefinition", SEED)
    assert response == {"jobDefinitionName": "my-batch-job", "jobDefinitionArn": ARN + "my-batch-job:1",
                        "revision": 1}
    expected = {key: value for key, value in SEED.items() if key != "jobDefinitionName"}
    assert kube.stored("JobDefinition", "my-batch-job")["spec"] == expected
    assert warnings == []


async def test_a_changed_spec_is_the_next_revision_and_replaces_the_old_one(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "RegisterJobDefinition", SEED)
    numbered(kube, "my-batch-job", revision=1)
    changed = copy.deepcopy(SEED)
    del changed["containerProperties"]["environment"]
    changed["containerProperties"]["vcpus"] = 4
    response = await invoke(ctx, "RegisterJobDefinition", changed)
    assert response["revision"] == 2
    assert response["jobDefinitionArn"] == ARN + "my-batch-job:2"
    stored = kube.stored("JobDefinition", "my-batch-job")["spec"]["containerProperties"]
    assert "environment" not in stored and stored["vcpus"] == 4


async def test_registering_the_same_spec_again_is_a_new_revision_as_on_aws(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "RegisterJobDefinition", SEED)
    numbered(kube, "my-batch-job", revision=7)
    response = await invoke(ctx, "RegisterJobDefinition", SEED)
    assert response["revision"] == 8
    stored = kube.stored("JobDefinition", "my-batch-job")
    assert stored["metadata"]["generation"] == 1
    described = await invoke(ctx, "DescribeJobDefinitions", {"jobDefinitionName": "my-batch-job"})
    assert [(d["revision"], d["containerProperties"]["command"]) for d in described["jobDefinitions"]] == [
        (8, SEED["containerProperties"]["command"]), (7, SEED["containerProperties"]["command"])]


async def test_a_spec_applied_with_kubectl_and_not_numbered_yet_is_numbered_before_it_is_replaced(
        kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "RegisterJobDefinition", SEED)
    applied = kube.stored("JobDefinition", "my-batch-job")
    applied["spec"] = {"type": "container", "containerProperties": {"image": "applied"}}
    applied["metadata"]["generation"] = 2
    response = await invoke(ctx, "RegisterJobDefinition", SEED)
    assert response["revision"] == 3
    described = await invoke(ctx, "DescribeJobDefinitions", {"jobDefinitionName": "my-batch-job"})
    seed_image = SEED["containerProperties"]["image"]
    assert [(d["revision"], d["containerProperties"]["image"]) for d in described["jobDefinitions"]] == [
        (3, seed_image), (2, "applied"), (1, seed_image)]


async def test_a_registration_that_loses_a_race_is_redone_and_names_its_own_revision(kube: FakeKube) -> None:
    """Two registrations interleaved on one event loop, 50 times: no number given twice, each holds its spec."""
    ctx, _ = make_context(kube)
    kube.interleave = True

    def spec(value: str) -> dict:
        return {"jobDefinitionName": "raced", "type": "container",
                "containerProperties": {"image": "busybox", "command": ["echo", value]}}

    answers = []
    for round_ in range(50):
        answers += zip(await asyncio.gather(*(invoke(ctx, "RegisterJobDefinition", spec(f"{round_}-{side}"))
                                              for side in ("a", "b"))), (f"{round_}-a", f"{round_}-b"))
    revisions = [answer["revision"] for answer, _ in answers]
    assert sorted(revisions) == list(range(1, 101))
    for answer, value in answers:
        (held,) = (await invoke(ctx, "DescribeJobDefinitions", {"jobDefinitions": [answer["jobDefinitionArn"]]})
                   )["jobDefinitions"]
        assert held["containerProperties"]["command"] == ["echo", value]


async def test_an_identity_that_may_not_write_the_status_leaves_the_numbering_to_the_operator(kube: FakeKube) -> None:
    ctx, warnings = make_context(kube)
    kube.fail("patch", "JobDefinition", ApiError(403, "jobdefinitions/status is forbidden"))
    response = await invoke(ctx, "RegisterJobDefinition", SEED)
    assert response["revision"] == 1 and "status" not in kube.stored("JobDefinition", "my-batch-job")
    assert warnings == ["this identity may not write jobdefinitions/status: the operator numbers the revision, which "
                        "may differ from the one answered if others register at the same time"]


async def test_aws_only_fields_are_dropped_with_a_warning_and_ecs_properties_refused(kube: FakeKube) -> None:
    ctx, warnings = make_context(kube)
    request = copy.deepcopy(SEED)
    request["containerProperties"]["jobRoleArn"] = "arn:aws:iam::1:role/r"
    request["containerProperties"]["logConfiguration"] = {"logDriver": "awslogs"}
    await invoke(ctx, "RegisterJobDefinition", request)
    assert "jobRoleArn" not in kube.stored("JobDefinition", "my-batch-job")["spec"]["containerProperties"]
    assert warnings == [
        "containerProperties.jobRoleArn is ignored: IAM has no meaning on Kubernetes (use RBAC and serviceAccountName)",
        "containerProperties.logConfiguration is ignored: logs are the pods' logs (kubatch logs)",
    ]
    with pytest.raises(ClientException, match="ecsProperties: not supported by kubatch"):
        await invoke(ctx, "RegisterJobDefinition", {**SEED, "ecsProperties": {"taskProperties": []}})


@pytest.mark.parametrize(("change", "message"), [
    ({"containerProperties": None}, "type container needs exactly one of containerProperties or eksProperties"),
    ({"containerProperties": {"image": "x", "vcpus": 0}}, "containerProperties.vcpus: must be at least 1"),
    ({"timeout": {"attemptDurationSeconds": 30}}, "timeout.attemptDurationSeconds: must be at least 60"),
    ({"retryStrategy": {"attempts": 11}}, "retryStrategy.attempts: must be at most 10"),
    ({"type": "batch"}, "type: must be one of 'container' or 'multinode'"),
    ({"jobDefinitionName": "My_Job"}, "jobDefinitionName: 'My_Job' is not a valid name here"),
    ({"containerProperties": {"image": "x", "environment": [{"name": "AWS_BATCH_X"}]}},
     "environment[].name must not start with AWS_BATCH"),
])
async def test_invalid_definitions_name_the_field(kube: FakeKube, change: dict, message: str) -> None:
    assert (await refusal(kube, "RegisterJobDefinition", changed(SEED, change))).startswith(message)


async def test_describe_lists_current_and_kept_revisions(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "RegisterJobDefinition", SEED)
    old_spec = {"type": "container", "containerProperties": {"image": "busybox"}}
    current = {k: v for k, v in SEED.items() if k != "jobDefinitionName"}
    numbered(kube, "my-batch-job", revision=2, kept=[{"revision": 1, "spec": old_spec},
                                                      {"revision": 2, "spec": current}])
    await invoke(ctx, "RegisterJobDefinition", {"jobDefinitionName": "other", "type": "container",
                                                "containerProperties": {"image": "busybox"}})
    everything = await invoke(ctx, "DescribeJobDefinitions", {})
    assert [(d["jobDefinitionName"], d["revision"]) for d in everything["jobDefinitions"]] == [
        ("my-batch-job", 2), ("my-batch-job", 1), ("other", 1)]
    latest = everything["jobDefinitions"][0]
    assert latest == {"jobDefinitionName": "my-batch-job", "jobDefinitionArn": ARN + "my-batch-job:2", "revision": 2,
                      "status": "ACTIVE", **{k: v for k, v in SEED.items() if k != "jobDefinitionName"},
                      "containerProperties": {**SEED["containerProperties"], "resourceRequirements": [], "secrets": []},
                      "tags": {}, "containerOrchestrationType": "ECS"}
    old = await invoke(ctx, "DescribeJobDefinitions", {"jobDefinitions": [ARN + "my-batch-job:1"]})
    assert old["jobDefinitions"][0]["containerProperties"] == {  # AWS's defaults where the definition says nothing
        "image": "busybox", "command": [], "resourceRequirements": [], "secrets": []}
    by_name = await invoke(ctx, "DescribeJobDefinitions", {"jobDefinitionName": "other", "status": "ACTIVE"})
    assert [d["jobDefinitionArn"] for d in by_name["jobDefinitions"]] == [ARN + "other:1"]
    inactive = await invoke(ctx, "DescribeJobDefinitions", {"status": "INACTIVE"})
    assert inactive == {"jobDefinitions": []}
    page = await invoke(ctx, "DescribeJobDefinitions", {"maxResults": 2})
    rest = await invoke(ctx, "DescribeJobDefinitions", {"maxResults": 2, "nextToken": page["nextToken"]})
    assert [d["revision"] for d in page["jobDefinitions"] + rest["jobDefinitions"]] == [2, 1, 1]


async def test_fargate_definitions_get_the_latest_platform_version_and_multinode_containers_the_defaults(
        kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "RegisterJobDefinition", {
        "jobDefinitionName": "fg", "type": "container", "platformCapabilities": ["FARGATE"],
        "containerProperties": {"image": "busybox", "resourceRequirements": [{"type": "VCPU", "value": "1"},
                                                                            {"type": "MEMORY", "value": "2048"}]}})
    await invoke(ctx, "RegisterJobDefinition", {"jobDefinitionName": "mpi", "type": "multinode", "nodeProperties": {
        "numNodes": 2, "mainNode": 0, "nodeRangeProperties": [{"targetNodes": "0:", "container": {"image": "x"}}]}})
    fargate, mpi = (await invoke(ctx, "DescribeJobDefinitions", {"jobDefinitions": ["fg:1", "mpi:1"]}))[
        "jobDefinitions"]
    assert fargate["containerProperties"]["fargatePlatformConfiguration"] == {"platformVersion": "LATEST"}
    assert fargate["containerProperties"]["resourceRequirements"][1] == {"type": "MEMORY", "value": "2048"}
    assert mpi["nodeProperties"]["nodeRangeProperties"][0]["container"] == {
        "image": "x", "command": [], "resourceRequirements": [], "secrets": []}
    assert "fargatePlatformConfiguration" not in (await invoke(ctx, "DescribeJobDefinitions", {
        "jobDefinitions": ["mpi:1"]}))["jobDefinitions"][0]
    assert kube.stored("JobDefinition", "fg")["spec"]["containerProperties"].keys() == {
        "image", "resourceRequirements"}  # defaults are answers, not stored


async def test_eks_definitions_say_so(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "RegisterJobDefinition", {"jobDefinitionName": "pod", "type": "container", "eksProperties": {
        "podProperties": {"containers": [{"name": "main", "image": "busybox"}]}}})
    described = await invoke(ctx, "DescribeJobDefinitions", {"jobDefinitions": ["pod:1"]})
    assert described["jobDefinitions"][0]["containerOrchestrationType"] == "EKS"


async def test_deregister_marks_one_revision_inactive_and_the_others_stay_usable(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    for image in ("one", "two", "three"):
        await invoke(ctx, "RegisterJobDefinition", changed(SEED, {"containerProperties": {"image": image}}))
    assert await invoke(ctx, "DeregisterJobDefinition", {"jobDefinition": ARN + "my-batch-job:3"}) == {}
    inactive = await invoke(ctx, "DescribeJobDefinitions", {"status": "INACTIVE"})
    assert [(d["revision"], d["containerProperties"]["image"]) for d in inactive["jobDefinitions"]] == [(3, "three")]
    active = await invoke(ctx, "DescribeJobDefinitions", {"status": "ACTIVE"})
    assert [d["revision"] for d in active["jobDefinitions"]] == [2, 1]
    await invoke(ctx, "CreateComputeEnvironment", {"computeEnvironmentName": "ce", "type": "MANAGED",
                                                   "computeResources": {"type": "EC2", "maxvCpus": 8,
                                                                        "instanceRole": "ecsInstanceRole"}})
    await invoke(ctx, "CreateJobQueue", {"jobQueueName": "q", "priority": 1,
                                         "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "ce"}]})
    submitted = await invoke(ctx, "SubmitJob", {"jobName": "j", "jobQueue": "q", "jobDefinition": "my-batch-job"})
    assert kube.stored("BatchJob", "j")["spec"]["jobDefinition"] == "my-batch-job:2"  # the latest ACTIVE
    (job,) = (await invoke(ctx, "DescribeJobs", {"jobs": [submitted["jobId"]]}))["jobs"]
    assert job["jobDefinition"] == ARN + "my-batch-job:2" and job["container"]["image"] == "two"
    with pytest.raises(ClientException, match="jobDefinition: revision 3 of 'my-batch-job' is INACTIVE"):
        await invoke(ctx, "SubmitJob", {"jobName": "j", "jobQueue": "q", "jobDefinition": "my-batch-job:3"})

    assert await invoke(ctx, "DeregisterJobDefinition", {"jobDefinition": "my-batch-job"}) == {}  # every revision
    assert (await invoke(ctx, "DescribeJobDefinitions", {"status": "ACTIVE"})) == {"jobDefinitions": []}
    with pytest.raises(ClientException, match="jobDefinition: JobDefinition 'my-batch-job' is INACTIVE"):
        await invoke(ctx, "SubmitJob", {"jobName": "j", "jobQueue": "q", "jobDefinition": "my-batch-job"})
    again = await invoke(ctx, "RegisterJobDefinition", SEED)
    assert again["revision"] == 4
    with pytest.raises(ClientException, match="revision 9 of 'my-batch-job' does not exist or is no longer kept "
                                              "\\(kept: 1-4\\)"):
        await invoke(ctx, "DeregisterJobDefinition", {"jobDefinition": "my-batch-job:9"})
    with pytest.raises(ClientException, match="JobDefinition 'nope' does not exist in namespace 'default'"):
        await invoke(ctx, "DeregisterJobDefinition", {"jobDefinition": "nope:1"})
    with pytest.raises(ClientException, match="is not a job definition name, name:revision or ARN"):
        await invoke(ctx, "DeregisterJobDefinition", {"jobDefinition": "a:b:c"})
