"""Compute environments through the service layer, on the in-memory cluster."""

from __future__ import annotations

import pytest

from kubatch.service import ClientException, invoke
from tests.unit.fake_kube import FakeKube, changed, make_context, refusal

ARN = "arn:aws:batch:us-east-1:000000000000:compute-environment/"

# The seed's Fargate environment, as `aws batch create-compute-environment` sends it.
FARGATE = {
    "computeEnvironmentName": "my-fargate-env",
    "type": "MANAGED",
    "serviceRole": "arn:aws:iam::123456789012:role/AWSBatchServiceRole",
    "computeResources": {"type": "FARGATE", "maxvCpus": 256, "subnets": ["subnet-xxxxx", "subnet-yyyyy"],
                         "securityGroupIds": ["sg-xxxxx"]},
    "state": "ENABLED",
}
EC2 = {
    "computeEnvironmentName": "my-ec2-env",
    "type": "MANAGED",
    "computeResources": {"type": "EC2", "minvCpus": 0, "desiredvCpus": 0, "maxvCpus": 256,
                         "instanceTypes": ["m5", "m5d"], "subnets": ["subnet-xxxxx"],
                         "instanceRole": "arn:aws:iam::123456789012:instance-profile/batch-instance-role"},
    "state": "ENABLED",
    "tags": {"team": "data"},
}


@pytest.fixture
def kube() -> FakeKube:
    return FakeKube()


async def test_create_keeps_the_spec_and_warns_about_each_aws_only_field(kube: FakeKube) -> None:
    ctx, warnings = make_context(kube)
    response = await invoke(ctx, "CreateComputeEnvironment", FARGATE)
    assert response == {"computeEnvironmentName": "my-fargate-env", "computeEnvironmentArn": ARN + "my-fargate-env"}
    assert kube.stored("ComputeEnvironment", "my-fargate-env", None)["spec"] == {
        "type": "MANAGED", "state": "ENABLED", "computeResources": {"type": "FARGATE", "maxvCpus": 256},
        "serviceRole": "arn:aws:iam::123456789012:role/AWSBatchServiceRole"}  # kept: AWS returns it
    assert [w.split(" is ignored")[0] for w in warnings] == [
        "computeResources.subnets", "computeResources.securityGroupIds"]
    (described,) = (await invoke(ctx, "DescribeComputeEnvironments", {}))["computeEnvironments"]
    assert described["serviceRole"] == FARGATE["serviceRole"] and described["tags"] == {}


@pytest.mark.parametrize("kind", ["EC2", "SPOT"])
async def test_a_managed_ec2_environment_without_an_instance_role_is_refused_as_aws_refuses_it(
        kube: FakeKube, kind: str) -> None:
    request = changed(EC2, {"computeResources": {"type": kind, "maxvCpus": 4}})
    assert (await refusal(kube, "CreateComputeEnvironment", request)).startswith(
        "computeResources.instanceRole: This parameter is required for Amazon EC2 instances types.")
    assert not kube.objects
    ctx, _ = make_context(kube)
    await invoke(ctx, "CreateComputeEnvironment", changed(FARGATE, {"serviceRole": None}))  # Fargate needs none


@pytest.mark.parametrize(("change", "message"), [
    ({"computeResources": {"type": "EC2", "maxvCpus": 4, "minvCpus": 8}},
     "computeResources.minvCpus must not exceed computeResources.maxvCpus"),
    ({"computeResources": {"type": "GPU", "maxvCpus": 4}},
     "computeResources.type: must be one of 'EC2', 'SPOT', 'FARGATE' or 'FARGATE_SPOT'"),
    ({"computeResources": {"type": "EC2", "maxvCpus": -1}}, "computeResources.maxvCpus: must be at least 0"),
    ({"type": None}, "type: is required"),
    ({"computeEnvironmentName": "My_Env"}, "computeEnvironmentName: 'My_Env' is not a valid name here"),
    ({"color": "blue"}, "color: is not a known field of this operation"),
])
async def test_invalid_requests_name_the_field(kube: FakeKube, change: dict, message: str) -> None:
    assert (await refusal(kube, "CreateComputeEnvironment", changed(FARGATE, change))).startswith(message)
    assert not kube.objects


async def test_creating_twice_is_refused(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "CreateComputeEnvironment", FARGATE)
    with pytest.raises(ClientException, match="ComputeEnvironment 'my-fargate-env' already exists"):
        await invoke(ctx, "CreateComputeEnvironment", FARGATE)


async def test_update_merges_compute_resources_as_aws_does(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "CreateComputeEnvironment", EC2)
    response = await invoke(ctx, "UpdateComputeEnvironment", {
        "computeEnvironment": ARN + "my-ec2-env", "state": "DISABLED", "computeResources": {"maxvCpus": 64}})
    assert response["computeEnvironmentName"] == "my-ec2-env"
    spec = kube.stored("ComputeEnvironment", "my-ec2-env", None)["spec"]
    assert spec["state"] == "DISABLED"
    assert spec["computeResources"] == {"type": "EC2", "minvCpus": 0, "desiredvCpus": 0, "maxvCpus": 64,
                                        "instanceTypes": ["m5", "m5d"]}


async def test_update_is_validated_as_a_whole(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "CreateComputeEnvironment", EC2)
    with pytest.raises(ClientException, match="desiredvCpus must not exceed"):
        await invoke(ctx, "UpdateComputeEnvironment", {"computeEnvironment": "my-ec2-env",
                                                       "computeResources": {"desiredvCpus": 512}})


async def test_update_of_a_missing_environment(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    with pytest.raises(ClientException, match="computeEnvironment: ComputeEnvironment 'nope' does not exist"):
        await invoke(ctx, "UpdateComputeEnvironment", {"computeEnvironment": "nope", "state": "DISABLED"})


async def test_describe_has_aws_shape_with_the_operators_status(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "CreateComputeEnvironment", EC2)
    stored = kube.stored("ComputeEnvironment", "my-ec2-env", None)
    stored["status"] = {"status": "VALID", "usedvCpus": 6, "runningJobs": 3, "desiredvCpus": 6}
    response = await invoke(ctx, "DescribeComputeEnvironments", {"computeEnvironments": [ARN + "my-ec2-env"]})
    assert response == {"computeEnvironments": [{
        "computeEnvironmentName": "my-ec2-env",
        "computeEnvironmentArn": ARN + "my-ec2-env",
        "tags": {"team": "data"},
        "type": "MANAGED",
        "state": "ENABLED",
        "status": "VALID",
        "computeResources": {"type": "EC2", "minvCpus": 0, "desiredvCpus": 6, "maxvCpus": 256,
                             "instanceTypes": ["m5", "m5d"]},
        "uuid": stored["metadata"]["uid"],
        "usedvCpus": 6,
        "runningJobs": 3,
    }]}


async def test_describe_pages_and_leaves_unknown_names_out(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "CreateComputeEnvironment", EC2)
    await invoke(ctx, "CreateComputeEnvironment", FARGATE)
    first = await invoke(ctx, "DescribeComputeEnvironments", {"maxResults": 1})
    assert [e["computeEnvironmentName"] for e in first["computeEnvironments"]] == ["my-ec2-env"]
    second = await invoke(ctx, "DescribeComputeEnvironments", {"maxResults": 1, "nextToken": first["nextToken"]})
    assert [e["computeEnvironmentName"] for e in second["computeEnvironments"]] == ["my-fargate-env"]
    assert "nextToken" not in second
    named = await invoke(ctx, "DescribeComputeEnvironments", {"computeEnvironments": ["gone", "my-fargate-env"]})
    assert [e["computeEnvironmentName"] for e in named["computeEnvironments"]] == ["my-fargate-env"]


async def test_delete_is_refused_while_a_queue_uses_the_environment(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "CreateComputeEnvironment", FARGATE)
    await invoke(ctx, "CreateJobQueue", {"jobQueueName": "q", "priority": 1, "computeEnvironmentOrder": [
        {"order": 1, "computeEnvironment": "my-fargate-env"}]})
    with pytest.raises(ClientException, match="is used by job queue\\(s\\) q"):
        await invoke(ctx, "DeleteComputeEnvironment", {"computeEnvironment": "my-fargate-env"})
    await invoke(ctx, "DeleteJobQueue", {"jobQueue": "q"})
    assert await invoke(ctx, "DeleteComputeEnvironment", {"computeEnvironment": ARN + "my-fargate-env"}) == {}
    assert not kube.objects
    with pytest.raises(ClientException, match="does not exist"):
        await invoke(ctx, "DeleteComputeEnvironment", {"computeEnvironment": "my-fargate-env"})
