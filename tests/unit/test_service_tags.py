"""TagResource, UntagResource and ListTagsForResource on every kind, through the service layer."""

from __future__ import annotations

import pytest

from kubatch.service import invoke
from kubatch.service.objects import TAGS_ANNOTATION
from tests.unit.fake_kube import FakeKube, make_context, provision, refusal

PREFIX = "arn:aws:batch:us-east-1:000000000000:"
DEFINITION = {"jobDefinitionName": "etl", "type": "container", "tags": {"team": "data"},
              "containerProperties": {"image": "busybox", "command": ["true"]}}


@pytest.fixture
async def kube() -> FakeKube:
    kube = FakeKube()
    await provision(kube, queues=("q",), definition=DEFINITION)
    return kube


async def tags(kube: FakeKube, arn: str, namespace: str = "default") -> dict[str, str]:
    ctx, _ = make_context(kube, namespace=namespace)
    return (await invoke(ctx, "ListTagsForResource", {"resourceArn": arn}))["tags"]


@pytest.mark.parametrize("arn", [PREFIX + "job-queue/q", PREFIX + "compute-environment/ce",
                                 PREFIX + "job-definition/etl:1"])
async def test_tags_are_added_changed_and_removed(kube: FakeKube, arn: str) -> None:
    ctx, _ = make_context(kube)
    before = await tags(kube, arn)
    assert await invoke(ctx, "TagResource", {"resourceArn": arn, "tags": {"env": "prod", "cost": "1"}}) == {}
    await invoke(ctx, "TagResource", {"resourceArn": arn, "tags": {"env": "dev"}})
    assert await tags(kube, arn) == {**before, "env": "dev", "cost": "1"}
    assert await invoke(ctx, "UntagResource", {"resourceArn": arn, "tagKeys": ["env", "absent"]}) == {}
    assert await tags(kube, arn) == {**before, "cost": "1"}
    await invoke(ctx, "UntagResource", {"resourceArn": arn, "tagKeys": ["cost"]})
    assert await tags(kube, arn) == before


async def test_a_jobs_tags_join_its_submitted_ones_and_show_in_describe_jobs(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    job = await invoke(ctx, "SubmitJob", {"jobName": "run", "jobQueue": "q", "jobDefinition": "etl",
                                          "tags": {"run": "7"}})
    await invoke(ctx, "TagResource", {"resourceArn": job["jobArn"], "tags": {"reviewed": "yes"}})
    assert await tags(kube, job["jobArn"]) == {"run": "7", "reviewed": "yes"}
    assert kube.stored("BatchJob", "run")["spec"]["tags"] == {"run": "7"}  # the submitted spec stays as it was
    (described,) = (await invoke(ctx, "DescribeJobs", {"jobs": [job["jobId"]]}))["jobs"]
    assert described["tags"] == {"run": "7", "reviewed": "yes"}


async def test_a_definitions_registered_tags_cannot_be_removed_and_its_revision_does_not_move(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    generation = kube.stored("JobDefinition", "etl")["metadata"]["generation"]
    await invoke(ctx, "TagResource", {"resourceArn": PREFIX + "job-definition/etl", "tags": {"tier": "gold"}})
    assert kube.stored("JobDefinition", "etl")["metadata"]["generation"] == generation
    assert await refusal(kube, "UntagResource", {"resourceArn": PREFIX + "job-definition/etl:1",
                                                 "tagKeys": ["team"]}) == (
        "tagKeys: team came with the JobDefinition's spec when it was created; kubatch keeps submitted and "
        "registered specs as they were")


async def test_another_namespaces_job_cannot_be_seen_or_tagged(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    job = await invoke(ctx, "SubmitJob", {"jobName": "run", "jobQueue": "q", "jobDefinition": "etl"})
    other, _ = make_context(kube, namespace="team-b")
    for operation, request in (("ListTagsForResource", {}), ("TagResource", {"tags": {"a": "b"}})):
        with pytest.raises(Exception, match="does not exist in namespace 'team-b'"):
            await invoke(other, operation, {"resourceArn": job["jobArn"], **request})


async def test_a_lost_race_is_retried_and_no_tag_is_lost(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    original = kube.patch
    raced = []

    async def racing_patch(kind, name, patch, **kwargs):
        if not raced:  # someone else tags in between our read and our write
            raced.append(True)
            await original(kind, name, {"metadata": {"annotations": {TAGS_ANNOTATION: '{"theirs": "1"}'}}}, **kwargs)
        return await original(kind, name, patch, **kwargs)

    kube.patch = racing_patch
    await invoke(ctx, "TagResource", {"resourceArn": PREFIX + "job-queue/q", "tags": {"ours": "2"}})
    assert await tags(kube, PREFIX + "job-queue/q") == {"theirs": "1", "ours": "2"}


@pytest.mark.parametrize(("operation", "request_", "message"), [
    ("TagResource", {"resourceArn": "q", "tags": {"a": "b"}}, "resourceArn: 'q' is not an AWS Batch ARN"),
    ("TagResource", {"resourceArn": PREFIX + "job-queue/q", "tags": ["a"]}, "tags: must be a non-empty map"),
    ("TagResource", {"resourceArn": PREFIX + "job-queue/q", "tags": {"a": 1}}, "tags.a: "),
    ("TagResource", {"resourceArn": PREFIX + "job-queue/missing", "tags": {"a": "b"}},
     "resourceArn: JobQueue 'missing' does not exist"),
    ("TagResource", {"resourceArn": PREFIX + "consumable-resource/x", "tags": {"a": "b"}},
     "resourceArn: 'consumable-resource' resources cannot be tagged"),
    ("TagResource", {"resourceArn": PREFIX + "job-queue/q", "tags": {f"k{n}": "v" for n in range(51)}},
     "tags: "),
    ("UntagResource", {"resourceArn": PREFIX + "job-queue/q", "tagKeys": "env"}, "tagKeys: must be a non-empty list"),
    ("UntagResource", {"resourceArn": PREFIX + "job-queue/q"}, "tagKeys: is required"),
    ("ListTagsForResource", {"resourceArn": PREFIX + "job/abc:1"}, "resourceArn: tags belong to the whole job; use the ARN of job abc"),
    ("ListTagsForResource", {"resourceArn": PREFIX + "job/abc"}, "resourceArn: BatchJob 'abc' does not exist"),
])
async def test_bad_tag_requests_name_the_field(kube: FakeKube, operation: str, request_: dict, message: str) -> None:
    assert (await refusal(kube, operation, request_)).startswith(message)
