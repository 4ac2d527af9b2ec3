"""Archived jobs answer DescribeJobs and ListJobs as they did live (service layer, both archive back ends).

The retention worker (``kubatch.controller.retention``) archives finished jobs of an
in-memory cluster (``FakeKube``) into a real archive and deletes them; the same
questions asked before and after must get the same answers. The e2e twin, on a real
control plane with the CLI and boto3, is tests/e2e/test_archive.py.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubatch.archive import open_archive
from kubatch.controller.retention import RetentionWorker
from kubatch.controller.store import Store
from kubatch.core.pods import LABEL_ARRAY_INDEX, LABEL_ATTEMPT, LABEL_JOB_ID, LABEL_NODE_INDEX
from kubatch.service import ClientException, Context, invoke
from kubatch.service.arns import Arns
from kubatch.service.logs import job_log
from tests.unit.fake_kube import CREATED_MS, SEED_DEFINITION, FakeKube, make_context, provision

STOPPED = CREATED_MS + 60_000
RETENTION_SECONDS = 600
DUE = STOPPED + RETENTION_SECONDS * 1000


@pytest.fixture
async def kube() -> FakeKube:
    kube = FakeKube()
    await provision(kube, queues=("q", "other"), definition=SEED_DEFINITION)
    return kube


@pytest.fixture
async def archive(archive_url: str) -> AsyncIterator[Any]:
    writer = open_archive(archive_url, writer=True)
    yield writer
    await writer.close()


async def submit(kube: FakeKube, name: str, *, status: str = "SUCCEEDED", queue: str = "q", **extra: Any) -> str:
    ctx, _ = make_context(kube)
    job_id = (await invoke(ctx, "SubmitJob", {"jobName": name, "jobQueue": queue, "jobDefinition": "my-batch-job",
                                             **extra}))["jobId"]
    finished = {"status": status, "jobId": job_id, "createdAt": CREATED_MS, "startedAt": CREATED_MS + 1000,
                "stoppedAt": STOPPED, "statusReason": "Essential container in task exited",
                "attempts": [{"container": {"exitCode": 0 if status == "SUCCEEDED" else 1, "podName": f"{name}-a1"},
                              "startedAt": CREATED_MS + 1000, "stoppedAt": STOPPED}],
                "resolvedDefinition": {"revision": 1, "containerProperties": {"image": "busybox"}}}
    if "arrayProperties" in extra:
        size = extra["arrayProperties"]["size"]
        finished["arrayProperties"] = {"size": size, "succeeded": f"0-{size - 1}", "exitCodes": {"0": f"0-{size - 1}"},
                                       "attempts": {"1": f"0-{size - 1}"},
                                       "statusSummary": {"SUCCEEDED": size, "FAILED": 0}}
        for index in range(size):
            kube.put_pod(name=f"{name}-{index}", labels={LABEL_JOB_ID: job_id, LABEL_ARRAY_INDEX: str(index),
                                                         LABEL_ATTEMPT: "1"}, phase="Succeeded",
                         state={"terminated": {"exitCode": 0, "startedAt": "2024-05-01T12:00:05Z",
                                               "finishedAt": "2024-05-01T12:00:09Z"}})
    await kube.patch("BatchJob", kube_name(kube, job_id), {"status": finished}, namespace="default", status=True)
    return job_id


def kube_name(kube: FakeKube, job_id: str) -> str:
    return next(obj["metadata"]["name"] for (kind, _, _), obj in kube.objects.items()
                if kind == "BatchJob" and obj["metadata"]["uid"] == job_id)


def retention_worker(kube: FakeKube, archive: Any) -> RetentionWorker:
    """The operator's worker, its store holding everything ``kube`` holds now."""
    store = Store()
    for (kind, _, _), obj in kube.objects.items():
        store.record(kind, obj)
    return RetentionWorker(store=store, kube=kube, archive=archive, default_seconds=RETENTION_SECONDS,
                           logger=logging.getLogger("test"))


async def answers(ctx: Context, ids: dict[str, str]) -> dict[str, Any]:
    single, array = ids["single"], ids["array"]

    async def ask(operation: str, request: dict[str, Any]) -> Any:
        return await invoke(ctx, operation, request)

    first = await ask("ListJobs", {"jobQueue": "q", "jobStatus": "SUCCEEDED", "maxResults": 1})
    return {
        "describe": await ask("DescribeJobs", {"jobs": [single, "failing", array, f"{array}:2", f"{array}:9"]}),
        "succeeded": await ask("ListJobs", {"jobQueue": "q", "jobStatus": "SUCCEEDED"}),
        "failed": await ask("ListJobs", {"jobQueue": "q", "jobStatus": "FAILED"}),
        "by name": await ask("ListJobs", {"jobQueue": "q", "filters": [{"name": "JOB_NAME", "values": ["sing*"]}]}),
        "by definition": await ask("ListJobs", {"jobQueue": "q", "filters": [
            {"name": "JOB_DEFINITION", "values": ["my-batch-job"]}]}),
        "after": await ask("ListJobs", {"filters": [{"name": "AFTER_CREATED_AT", "values": [str(CREATED_MS - 1)]}]}),
        "before": await ask("ListJobs", {"filters": [{"name": "BEFORE_CREATED_AT", "values": [str(CREATED_MS)]}]}),
        "children": await ask("ListJobs", {"arrayJobId": array, "jobStatus": "SUCCEEDED"}),
        "child page": await ask("ListJobs", {"arrayJobId": array, "jobStatus": "SUCCEEDED", "maxResults": 2}),
        "pages": [first, await ask("ListJobs", {"jobQueue": "q", "jobStatus": "SUCCEEDED", "maxResults": 1,
                                               "nextToken": first["nextToken"]})],
    }


async def test_jobs_past_their_retention_are_archived_deleted_and_answer_as_before(kube: FakeKube, archive) -> None:
    ids = {"single": await submit(kube, "single"), "failing": await submit(kube, "failing", status="FAILED"),
           "array": await submit(kube, "array", arrayProperties={"size": 3}),
           "elsewhere": await submit(kube, "elsewhere", queue="other")}
    live = Context(kube=kube, namespace="default", archive=archive)
    before = await answers(live, ids)
    assert len(before["describe"]["jobs"]) == 4 and len(before["children"]["jobSummaryList"]) == 3

    worker = retention_worker(kube, archive)
    assert await worker.run_once(now_ms=DUE - 1) == 0
    assert await worker.run_once(now_ms=DUE) == 4
    assert await kube.list("BatchJob", namespace="default") == []

    after = await answers(live, ids)
    assert with_pod_details_dropped(after) == with_pod_details_dropped(before)
    assert {key: value for key, value in after.items() if key not in ("children", "child page")} == \
        {key: value for key, value in before.items() if key not in ("children", "child page")}
    # a live listing of children reads no pods; the archive's rows were made with them, as describe-jobs reads them
    assert {child.get("startedAt") for child in after["children"]["jobSummaryList"]} == {CREATED_MS + 5000}
    # a reader of its own, as `kubatch api` in another pod is
    reader = open_archive(getattr(archive, "url", None) or archive.path, writer=False)
    try:
        assert await answers(Context(kube=kube, namespace="default", archive=reader), ids) == after
    finally:
        await reader.close()


def without_pod_details(listing: dict[str, Any]) -> dict[str, Any]:
    """A ListJobs answer of array children without what their pods tell (start and stop times, the container's
    reason): a live listing reads no pods, an archived one has it (its rows were made with the pods, as
    describe-jobs reads them)."""
    def summary(child: dict[str, Any]) -> dict[str, Any]:
        kept = {key: value for key, value in child.items() if key not in ("startedAt", "stoppedAt")}
        if "container" in kept:
            kept["container"] = {key: value for key, value in kept["container"].items() if key != "reason"}
        return kept

    return {**listing, "jobSummaryList": [summary(child) for child in listing["jobSummaryList"]]}


def with_pod_details_dropped(found: dict[str, Any]) -> dict[str, Any]:
    return {**found, "children": without_pod_details(found["children"]),
            "child page": without_pod_details(found["child page"])}


async def test_a_job_archived_but_not_yet_deleted_is_listed_once(kube: FakeKube, archive) -> None:
    job_id = await submit(kube, "single")
    kube.fail("delete", "BatchJob", OSError("the API server went away"))  # the crash window, as it is left
    worker = retention_worker(kube, archive)
    with pytest.raises(OSError):
        await worker.run_once(now_ms=DUE)
    assert len(await kube.list("BatchJob", namespace="default")) == 1
    ctx = Context(kube=kube, namespace="default", archive=archive)
    listed = await invoke(ctx, "ListJobs", {"jobQueue": "q", "jobStatus": "SUCCEEDED"})
    assert [job["jobId"] for job in listed["jobSummaryList"]] == [job_id]
    described = await invoke(ctx, "DescribeJobs", {"jobs": [job_id, "single"]})
    assert [job["jobId"] for job in described["jobs"]] == [job_id, job_id]


async def test_a_job_an_undecided_job_depends_on_stays(kube: FakeKube, archive) -> None:
    job_id = await submit(kube, "single")
    ctx, _ = make_context(kube)
    await invoke(ctx, "SubmitJob", {"jobName": "after", "jobQueue": "q", "jobDefinition": "my-batch-job",
                                    "dependsOn": [{"jobId": job_id}]})
    worker = retention_worker(kube, archive)
    assert await worker.run_once(now_ms=DUE) == 0
    assert kube_name(kube, job_id) == "single"


async def test_archived_arns_follow_the_readers_region_and_account(kube: FakeKube, archive) -> None:
    job_id = await submit(kube, "single")
    elsewhere = Arns(region="eu-west-1", account="123456789012")
    live = await invoke(Context(kube=kube, namespace="default", arns=elsewhere), "DescribeJobs", {"jobs": [job_id]})
    worker = retention_worker(kube, archive)
    await worker.run_once(now_ms=DUE)
    archived = await invoke(Context(kube=kube, namespace="default", arns=elsewhere, archive=archive),
                            "DescribeJobs", {"jobs": [job_id]})
    assert archived == live and archived["jobs"][0]["jobArn"].startswith("arn:aws:batch:eu-west-1:123456789012:")


async def test_jobs_in_neither_place_are_left_out_or_refused_as_before(kube: FakeKube, archive) -> None:
    ctx = Context(kube=kube, namespace="default", archive=archive)
    assert await invoke(ctx, "DescribeJobs", {"jobs": ["nope", "11111111-2222-4333-8444-555555555555:3"]}) == \
        {"jobs": []}
    with pytest.raises(ClientException, match="does not exist"):
        await invoke(ctx, "ListJobs", {"arrayJobId": "11111111-2222-4333-8444-555555555555"})
    with pytest.raises(ClientException, match="nextToken"):
        await invoke(ctx, "ListJobs", {"jobQueue": "q", "jobStatus": "SUCCEEDED", "nextToken": "WyJ4Il0="})


async def test_the_log_of_an_archived_job_is_gone_and_the_answer_says_so(kube: FakeKube, archive) -> None:
    job_id = await submit(kube, "single")
    await retention_worker(kube, archive).run_once(now_ms=DUE)
    ctx = Context(kube=kube, namespace="default", archive=archive)
    for name in (job_id, "single"):
        with pytest.raises(ClientException, match="was archived \\(SUCCEEDED\\) after its retention: its pods and"):
            await job_log(ctx, job=name)
    with pytest.raises(ClientException, match="does not exist"):
        await job_log(ctx, job="never-was")


async def test_the_nodes_of_an_archived_multi_node_job_answer_as_before(kube: FakeKube, archive) -> None:
    job_id = await submit(kube, "mnp")
    stored = kube.stored("BatchJob", "mnp")
    stored["status"]["resolvedDefinition"]["nodeProperties"] = {"numNodes": 2, "mainNode": 1,
                                                                "nodeRangeProperties": []}
    for node in (0, 1):
        kube.put_pod(name=f"mnp-n{node}-a1", labels={LABEL_JOB_ID: job_id, LABEL_NODE_INDEX: str(node),
                                                    LABEL_ATTEMPT: "1"}, phase="Succeeded",
                     state={"terminated": {"exitCode": 0, "startedAt": "2024-05-01T12:00:05Z",
                                           "finishedAt": "2024-05-01T12:00:09Z"}})
    ctx = Context(kube=kube, namespace="default", archive=archive)
    questions = [("ListJobs", {"multiNodeJobId": job_id, "jobStatus": "SUCCEEDED"}),
                 ("DescribeJobs", {"jobs": [f"{job_id}#0", f"{job_id}#1", "mnp#1", f"{job_id}#2"]})]
    before = [await invoke(ctx, operation, request) for operation, request in questions]
    assert len(before[0]["jobSummaryList"]) == 2 and len(before[1]["jobs"]) == 3
    assert await retention_worker(kube, archive).run_once(now_ms=DUE) == 1
    kube.pods.clear()  # gone with their job (owner references)
    assert [await invoke(ctx, operation, request) for operation, request in questions] == before
