"""The service layer's building blocks: errors, ARNs, merge patches, pages, dispatch."""

from __future__ import annotations

import inspect

import pytest

from kubatch.kube.client import ApiError
from kubatch.service import OPERATIONS, ClientException, ServerException, invoke
from kubatch.service.arns import JOB_QUEUE, Arns, name_of
from kubatch.service.errors import field_path
from kubatch.service.objects import deep_merge, merge_patch
from kubatch.service.paging import page
from tests.unit.fake_kube import FakeKube, make_context


@pytest.mark.parametrize(("loc", "path"), [
    (("jobName",), "jobName"),
    (("dependsOn", 0, "type"), "dependsOn[0].type"),
    (("nodeProperties", "nodeRangeProperties", 2, "container", "vcpus"),
     "nodeProperties.nodeRangeProperties[2].container.vcpus"),
    ((), ""),
])
def test_field_paths(loc: tuple, path: str) -> None:
    assert field_path(loc) == path


@pytest.mark.parametrize(("value", "name"), [
    ("my-queue", "my-queue"),
    ("arn:aws:batch:us-east-1:123456789012:job-queue/my-queue", "my-queue"),
    ("arn:aws-cn:batch:cn-north-1:123456789012:job-queue/q2", "q2"),
])
def test_names_and_arns(value: str, name: str) -> None:
    assert name_of(value, resource=JOB_QUEUE, field="jobQueue") == name


@pytest.mark.parametrize("value", ["arn:aws:batch:us-east-1:1:compute-environment/c", "arn:aws:iam::1:role/r", ""])
def test_wrong_arns_are_refused(value: str) -> None:
    with pytest.raises(ClientException, match="^jobQueue: "):
        name_of(value, resource=JOB_QUEUE, field="jobQueue")


def test_arns_follow_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBATCH_REGION", "eu-west-1")
    monkeypatch.setenv("KUBATCH_ACCOUNT_ID", "123456789012")
    assert Arns.from_environment().build("job", "abc") == "arn:aws:batch:eu-west-1:123456789012:job/abc"


@pytest.mark.parametrize(("old", "new", "patch"), [
    ({"a": 1}, {"a": 1}, {}),
    ({"a": 1, "b": 2}, {"a": 1}, {"b": None}),
    ({"c": {"x": 1, "y": 2}}, {"c": {"x": 1}}, {"c": {"y": None}}),
    ({"c": {"x": 1}}, {"c": {"x": 1, "z": [1]}}, {"c": {"z": [1]}}),
    ({"l": [1, 2]}, {"l": [2]}, {"l": [2]}),
    ({"m": {"k": "v"}}, {"m": "scalar"}, {"m": "scalar"}),
])
def test_merge_patch_turns_old_into_new(old: dict, new: dict, patch: dict) -> None:
    assert merge_patch(old, new) == patch


def test_deep_merge_merges_objects_and_replaces_the_rest() -> None:
    base = {"state": "ENABLED", "computeResources": {"type": "EC2", "maxvCpus": 4, "instanceTypes": ["m5"]}}
    changes = {"computeResources": {"maxvCpus": 8, "instanceTypes": ["c5"]}}
    assert deep_merge(base, changes) == {"state": "ENABLED", "computeResources": {
        "type": "EC2", "maxvCpus": 8, "instanceTypes": ["c5"]}}


def test_pages_cover_everything_once() -> None:
    items = list(range(7))
    seen, token = [], None
    while True:
        chosen, token = page(items, request={"maxResults": 3, "nextToken": token}, key=lambda i: [i], limit=5)
        seen += chosen
        if token is None:
            break
    assert seen == items


def test_page_size_limits() -> None:
    assert page([1, 2, 3], request={}, key=lambda i: [i], limit=2)[0] == [1, 2]
    with pytest.raises(ClientException, match="maxResults: must be between 1 and 2"):
        page([1], request={"maxResults": 3}, key=lambda i: [i], limit=2)


async def test_unknown_operations_and_non_object_requests() -> None:
    ctx, _ = make_context(FakeKube())
    with pytest.raises(ClientException, match="^CreateQuotaShare is not an operation kubatch implements$"):
        await invoke(ctx, "CreateQuotaShare", {})
    with pytest.raises(ClientException, match="the request must be a JSON object"):
        await invoke(ctx, "ListJobs", ["x"])


@pytest.mark.parametrize(("error", "kind", "message"), [
    (ApiError(403, "jobqueues is forbidden"), ClientException, "Kubernetes API: jobqueues is forbidden"),
    (ApiError(500, "etcd is down"), ServerException, "Kubernetes API: etcd is down"),
    (ConnectionRefusedError("connection refused"), ServerException, "cannot reach the Kubernetes API server"),
])
async def test_cluster_failures_become_aws_errors(error: Exception, kind: type, message: str) -> None:
    kube = FakeKube()
    kube.fail("list", "JobQueue", error)
    ctx, _ = make_context(kube)
    with pytest.raises(kind, match=message):
        await invoke(ctx, "DescribeJobQueues", {})


def test_every_operation_is_async() -> None:
    assert all(inspect.iscoroutinefunction(operation) for operation in OPERATIONS.values())
