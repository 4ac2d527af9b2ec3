"""Job queues and scheduling policies through the service layer, on the in-memory cluster."""

from __future__ import annotations

import pytest

from kubatch.service import ClientException, invoke
from tests.unit.fake_kube import FakeKube, changed, make_context, refusal

PREFIX = "arn:aws:batch:us-east-1:000000000000:"
ENVIRONMENT = {"type": "MANAGED",
               "computeResources": {"type": "EC2", "maxvCpus": 16, "instanceRole": "ecsInstanceRole"}}
POLICY = {"name": "fair", "fairsharePolicy": {"shareDecaySeconds": 3600, "computeReservation": 10,
                                              "shareDistribution": [{"shareIdentifier": "teamA", "weightFactor": 0.5},
                                                                    {"shareIdentifier": "other*"}]},
          "tags": {"owner": "ops"}}
# The seed's production queue: two environments in order, named by ARN as AWS users often do.
PRODUCTION = {
    "jobQueueName": "production-queue",
    "priority": 10,
    "computeEnvironmentOrder": [{"computeEnvironment": PREFIX + "compute-environment/my-fargate-env", "order": 1},
                                {"computeEnvironment": "my-ec2-env", "order": 2}],
    "state": "ENABLED",
}


@pytest.fixture
async def kube() -> FakeKube:
    kube = FakeKube()
    ctx, _ = make_context(kube)
    for name in ("my-fargate-env", "my-ec2-env"):
        await invoke(ctx, "CreateComputeEnvironment", {"computeEnvironmentName": name, **ENVIRONMENT})
    return kube


async def test_create_stores_names_for_arns(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "CreateSchedulingPolicy", POLICY)
    response = await invoke(ctx, "CreateJobQueue", {**PRODUCTION, "tags": {"env": "prod"},
                                                    "schedulingPolicyArn": PREFIX + "scheduling-policy/fair"})
    assert response == {"jobQueueName": "production-queue", "jobQueueArn": PREFIX + "job-queue/production-queue"}
    queue = kube.stored("JobQueue", "production-queue", None)
    assert queue["spec"] == {"priority": 10, "state": "ENABLED", "schedulingPolicy": "fair",
                             "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "my-fargate-env"},
                                                         {"order": 2, "computeEnvironment": "my-ec2-env"}]}


@pytest.mark.parametrize(("change", "message"), [
    ({"computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "missing"}]},
     "computeEnvironmentOrder[0].computeEnvironment: ComputeEnvironment 'missing' does not exist"),
    ({"computeEnvironmentOrder": [{"order": 1, "computeEnvironment": PREFIX + "job-queue/x"}]},
     "computeEnvironmentOrder[0].computeEnvironment: 'arn:aws:batch:us-east-1:000000000000:job-queue/x' is not a "
     "compute-environment name or ARN"),
    ({"computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "my-ec2-env"},
                                  {"order": 1, "computeEnvironment": "my-fargate-env"}]},
     "computeEnvironmentOrder[].order values must be distinct"),
    ({"priority": 1001}, "priority: must be at most 1000"),
    ({"schedulingPolicyArn": "nope"}, "schedulingPolicyArn: SchedulingPolicy 'nope' does not exist"),
    ({"serviceEnvironmentOrder": []}, "serviceEnvironmentOrder: not supported by kubatch"),
    ({"priority": None}, "priority: is required"),
])
async def test_invalid_queues_are_refused_naming_the_field(kube: FakeKube, change: dict, message: str) -> None:
    assert (await refusal(kube, "CreateJobQueue", changed(PRODUCTION, change))).startswith(message)


async def test_update_changes_only_what_is_given(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "CreateJobQueue", PRODUCTION)
    await invoke(ctx, "UpdateJobQueue", {"jobQueue": PREFIX + "job-queue/production-queue", "state": "DISABLED",
                                         "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "my-ec2-env"}]})
    spec = kube.stored("JobQueue", "production-queue", None)["spec"]
    assert spec == {"priority": 10, "state": "DISABLED",
                    "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "my-ec2-env"}]}


async def test_describe_has_aws_shape(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "CreateSchedulingPolicy", POLICY)
    await invoke(ctx, "CreateJobQueue", {**PRODUCTION, "schedulingPolicyArn": "fair", "tags": {"env": "prod"}})
    kube.stored("JobQueue", "production-queue", None)["status"] = {"status": "VALID", "jobCounts": {"RUNNING": 2}}
    response = await invoke(ctx, "DescribeJobQueues", {"jobQueues": ["production-queue"]})
    assert response == {"jobQueues": [{
        "jobQueueName": "production-queue",
        "jobQueueArn": PREFIX + "job-queue/production-queue",
        "state": "ENABLED",
        "schedulingPolicyArn": PREFIX + "scheduling-policy/fair",
        "status": "VALID",
        "priority": 10,
        "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": PREFIX + "compute-environment/my-fargate-env"},
                                    {"order": 2, "computeEnvironment": PREFIX + "compute-environment/my-ec2-env"}],
        "tags": {"env": "prod"},
    }]}


async def test_delete_queue(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "CreateJobQueue", PRODUCTION)
    assert await invoke(ctx, "DeleteJobQueue", {"jobQueue": "production-queue"}) == {}
    assert (await invoke(ctx, "DescribeJobQueues", {})) == {"jobQueues": []}


async def test_scheduling_policy_life_cycle(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    arn = PREFIX + "scheduling-policy/fair"
    assert await invoke(ctx, "CreateSchedulingPolicy", POLICY) == {"name": "fair", "arn": arn}
    described = await invoke(ctx, "DescribeSchedulingPolicies", {"arns": [arn, PREFIX + "scheduling-policy/x"]})
    assert described == {"schedulingPolicies": [
        {"name": "fair", "arn": arn, "fairsharePolicy": POLICY["fairsharePolicy"], "tags": {"owner": "ops"}}]}
    await invoke(ctx, "UpdateSchedulingPolicy", {"arn": arn, "fairsharePolicy": {"shareDecaySeconds": 60}})
    assert kube.stored("SchedulingPolicy", "fair", None)["spec"] == {"fairsharePolicy": {"shareDecaySeconds": 60}}
    assert await invoke(ctx, "ListSchedulingPolicies", {}) == {"schedulingPolicies": [{"arn": arn}]}
    await invoke(ctx, "CreateJobQueue", {**PRODUCTION, "schedulingPolicyArn": arn})
    with pytest.raises(ClientException, match="used by job queue\\(s\\) production-queue"):
        await invoke(ctx, "DeleteSchedulingPolicy", {"arn": arn})
    await invoke(ctx, "DeleteJobQueue", {"jobQueue": "production-queue"})
    assert await invoke(ctx, "DeleteSchedulingPolicy", {"arn": arn}) == {}


@pytest.mark.parametrize(("policy", "message"), [
    ({"shareDistribution": [{"shareIdentifier": "a", "weightFactor": 1000}]},
     "fairsharePolicy.shareDistribution[0].weightFactor: must be at most 999.9999"),
    ({"computeReservation": 100}, "fairsharePolicy.computeReservation: must be at most 99"),
    ({"shareDistribution": [{"shareIdentifier": "a-b"}]},
     "fairsharePolicy.shareDistribution[0].shareIdentifier: 'a-b' does not match"),
    # AWS: "you can't have one that specifies UserA* and another that specifies UserA1"
    ({"shareDistribution": [{"shareIdentifier": "UserA*"}, {"shareIdentifier": "UserA1"}]},
     "fairsharePolicy.shareDistribution[1].shareIdentifier: 'UserA1' overlaps shareDistribution[0] 'UserA*'"),
    ({"shareDistribution": [{"shareIdentifier": "UserA1"}, {"shareIdentifier": "User*"}]},
     "fairsharePolicy.shareDistribution[1].shareIdentifier: 'User*' overlaps shareDistribution[0] 'UserA1'"),
    ({"shareDistribution": [{"shareIdentifier": "A*"}, {"shareIdentifier": "AB*"}]},
     "fairsharePolicy.shareDistribution[1].shareIdentifier: 'AB*' overlaps"),
    ({"shareDistribution": [{"shareIdentifier": "same"}, {"shareIdentifier": "same"}]},
     "fairsharePolicy.shareDistribution[1].shareIdentifier: 'same' overlaps"),
])
async def test_invalid_policies_name_the_field(kube: FakeKube, policy: dict, message: str) -> None:
    assert (await refusal(kube, "CreateSchedulingPolicy", {"name": "p", "fairsharePolicy": policy})).startswith(message)


async def test_list_policies_pages(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    for name in ("a", "b", "c"):
        await invoke(ctx, "CreateSchedulingPolicy", {"name": name})
    first = await invoke(ctx, "ListSchedulingPolicies", {"maxResults": 2})
    second = await invoke(ctx, "ListSchedulingPolicies", {"maxResults": 2, "nextToken": first["nextToken"]})
    assert [p["arn"][-1] for p in first["schedulingPolicies"] + second["schedulingPolicies"]] == ["a", "b", "c"]


@pytest.mark.parametrize("created_with_policy", [False, True])
async def test_a_queue_is_fifo_or_fair_share_for_life(kube: FakeKube, created_with_policy: bool) -> None:
    """AWS: a FIFO queue can't have a scheduling policy added; a fair-share queue's can be replaced, not removed."""
    ctx, _ = make_context(kube)
    await invoke(ctx, "CreateSchedulingPolicy", {"name": "fair"})
    await invoke(ctx, "CreateSchedulingPolicy", {"name": "other"})
    await invoke(ctx, "CreateJobQueue", {**PRODUCTION, **({"schedulingPolicyArn": "fair"} if created_with_policy else {})})
    if created_with_policy:
        await invoke(ctx, "UpdateJobQueue", {"jobQueue": "production-queue", "schedulingPolicyArn": "other"})
        assert kube.stored("JobQueue", "production-queue", None)["spec"]["schedulingPolicy"] == "other"
    else:
        message = await refusal(kube, "UpdateJobQueue", {"jobQueue": "production-queue", "schedulingPolicyArn": "fair"})
        assert message.startswith("schedulingPolicyArn: schedulingPolicy can be replaced, but not added")


async def test_a_queue_sets_its_finished_job_retention(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await invoke(ctx, "CreateJobQueue", {**PRODUCTION, "finishedJobRetentionSeconds": 3600})
    await invoke(ctx, "UpdateJobQueue", {"jobQueue": "production-queue", "finishedJobRetentionSeconds": 0})
    assert kube.stored("JobQueue", "production-queue", None)["spec"]["finishedJobRetentionSeconds"] == 0
    (queue,) = (await invoke(ctx, "DescribeJobQueues", {"jobQueues": ["production-queue"]}))["jobQueues"]
    assert queue["finishedJobRetentionSeconds"] == 0
    message = await refusal(kube, "UpdateJobQueue", {"jobQueue": "production-queue",
                                                     "finishedJobRetentionSeconds": -1})
    assert "finishedJobRetentionSeconds" in message
