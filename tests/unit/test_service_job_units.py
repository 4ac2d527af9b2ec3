"""Multi-node nodes seen through their pods, job logs, and waiting for a job or an array child.

Array children are described from their parent's record: ``test_service_children.py``.
"""

from __future__ import annotations

import pytest

from kubatch.service import ClientException, invoke
from kubatch.service.logs import job_log
from kubatch.service.waiting import wait_for_job
from tests.unit.fake_kube import CREATED_MS, FakeKube, make_context, provision
from tests.unit.test_http_server import shape_problems



@pytest.fixture
async def kube() -> FakeKube:
    kube = FakeKube()
    await provision(kube, queues=("q",), definition={"jobDefinitionName": "d", "type": "container",
                                                     "containerProperties": {"image": "busybox"}})
    return kube


async def submit(kube: FakeKube, name: str, **fields: object) -> str:
    ctx, _ = make_context(kube)
    response = await invoke(ctx, "SubmitJob", {"jobName": name, "jobQueue": "q", "jobDefinition": "d", **fields})
    return response["jobId"]


def pod(kube: FakeKube, uid: str, name: str, *, attempt: int, log: str = "", index: int | None = None,
        node: int | None = None, **kwargs: object) -> None:
    labels = {"kubatch.io/job-id": uid, "kubatch.io/attempt": str(attempt)}
    if index is not None:
        labels["kubatch.io/array-index"] = str(index)
    if node is not None:
        labels["kubatch.io/node-index"] = str(node)
    kube.put_pod(name=name, labels=labels, log=log, **kwargs)


async def test_nodes_of_a_multi_node_job(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    uid = await submit(kube, "mnp")
    kube.stored("BatchJob", "mnp")["status"] = {"status": "RUNNING", "resolvedDefinition": {
        "revision": 1, "nodeProperties": {"numNodes": 2, "mainNode": 1, "nodeRangeProperties": []}}}
    pod(kube, uid, "mnp-n0-a1", attempt=1, node=0, log="worker\n")
    pod(kube, uid, "mnp-n1-a1", attempt=1, node=1, log="main\n")
    nodes = await invoke(ctx, "ListJobs", {"multiNodeJobId": uid})
    assert [n["nodeProperties"] for n in nodes["jobSummaryList"]] == [
        {"isMainNode": False, "numNodes": 2, "nodeIndex": 0}, {"isMainNode": True, "numNodes": 2, "nodeIndex": 1}]
    (node,) = (await invoke(ctx, "DescribeJobs", {"jobs": [f"{uid}#0"]}))["jobs"]
    assert node["nodeDetails"] == {"nodeIndex": 0, "isMainNode": False}
    assert await invoke(ctx, "DescribeJobs", {"jobs": [f"{uid}#2", "mnp#7"]}) == {"jobs": []}  # no such node
    assert await job_log(ctx, job="mnp") == "main\n"
    assert await job_log(ctx, job=f"{uid}#0") == "worker\n"


async def test_nodes_of_an_ended_multi_node_job_come_from_its_record_once_the_pods_are_gone(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    uid = await submit(kube, "mnp")

    def ran(node: int, *, exit_code: int | None, reason: str | None = None) -> dict:
        container = {"exitCode": exit_code, "podName": f"mnp-n{node}-a1", "nodeName": f"node-{node}"}
        return {"container": {k: v for k, v in container.items() if v is not None},
                "startedAt": CREATED_MS + 1000 * (node + 1), "stoppedAt": CREATED_MS + 9000,
                **({"statusReason": reason} if reason else {})}

    kube.stored("BatchJob", "mnp")["status"] = {
        "status": "SUCCEEDED", "createdAt": CREATED_MS, "startedAt": CREATED_MS + 1000, "stoppedAt": CREATED_MS + 9000,
        "resolvedDefinition": {"revision": 1, "nodeProperties": {"numNodes": 3, "mainNode": 0, "nodeRangeProperties": [
            {"targetNodes": "0:", "container": {"image": "busybox", "vcpus": 1, "memory": 64}}]}},
        "nodes": [{"nodeIndex": 0, "status": "SUCCEEDED", "attempts": [ran(0, exit_code=0)]},
                  {"nodeIndex": 1, "status": "FAILED", "attempts": [ran(1, exit_code=3)]},
                  {"nodeIndex": 2, "status": "SUCCEEDED",
                   "attempts": [ran(2, exit_code=None, reason="Stopped when the main node ended the job's attempt")]}]}
    answer = await invoke(ctx, "DescribeJobs", {"jobs": [f"{uid}#{node}" for node in range(3)]})
    assert not shape_problems("DescribeJobs", answer)
    main, failed, stopped = answer["jobs"]
    assert [(n["status"], n["startedAt"], n["stoppedAt"]) for n in answer["jobs"]] == [
        ("SUCCEEDED", CREATED_MS + 1000, CREATED_MS + 9000), ("FAILED", CREATED_MS + 2000, CREATED_MS + 9000),
        ("SUCCEEDED", CREATED_MS + 3000, CREATED_MS + 9000)]
    assert main["attempts"] == [ran(0, exit_code=0)]
    assert (main["container"]["exitCode"], main["container"]["podName"], main["container"]["image"]) == (
        0, "mnp-n0-a1", "busybox")
    assert failed["container"]["exitCode"] == 3 and failed["container"]["nodeName"] == "node-1"
    assert stopped["statusReason"] == "Stopped when the main node ended the job's attempt"
    assert "exitCode" not in stopped["container"]


async def test_a_running_node_adds_its_pod_to_the_attempts_recorded_before(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    uid = await submit(kube, "mnp")
    kube.stored("BatchJob", "mnp")["status"] = {
        "status": "RUNNING", "attemptCount": 2,
        "resolvedDefinition": {"revision": 1, "nodeProperties": {"numNodes": 1, "mainNode": 0,
                                                                  "nodeRangeProperties": []}},
        "nodes": [{"nodeIndex": 0, "status": "RUNNABLE", "attempts": [
            {"container": {"exitCode": 1, "podName": "mnp-n0-a1"}, "startedAt": CREATED_MS, "stoppedAt": CREATED_MS}]}]}
    pod(kube, uid, "mnp-n0-a1", attempt=1, node=0, phase="Failed")  # kept by the retention policy: recorded
    pod(kube, uid, "mnp-n0-a2", attempt=2, node=0)
    (node,) = (await invoke(ctx, "DescribeJobs", {"jobs": [f"{uid}#0"]}))["jobs"]
    assert node["status"] == "RUNNING"
    assert [a["container"]["podName"] for a in node["attempts"]] == ["mnp-n0-a1"]
    assert node["container"]["podName"] == "mnp-n0-a2" and node["startedAt"] == CREATED_MS


async def test_logs_of_the_latest_or_a_chosen_attempt(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    uid = await submit(kube, "j")
    pod(kube, uid, "j-a1", attempt=1, log="first\n")
    pod(kube, uid, "j-a2", attempt=2, log="second\n", containers=("sidecar", "main"))
    assert await job_log(ctx, job="j") == "second\n"
    assert await job_log(ctx, job=uid, attempt=1) == "first\n"
    assert await job_log(ctx, job="j", container="sidecar") == "second\n"
    with pytest.raises(ClientException, match="container: pod j-a2 has no container 'x' \\(it has sidecar, main\\)"):
        await job_log(ctx, job="j", container="x")
    with pytest.raises(ClientException, match="job: attempt 3 of j has no pod \\(the job is SUBMITTED\\)"):
        await job_log(ctx, job="j", attempt=3)


async def test_logs_of_eks_pods_default_to_the_first_container(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    uid = await submit(kube, "j")
    pod(kube, uid, "j-a1", attempt=1, log="app\n", containers=("app", "helper"))
    assert await job_log(ctx, job="j") == "app\n"


async def test_logs_of_an_array_need_a_child(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    uid = await submit(kube, "arr", arrayProperties={"size": 2})
    pod(kube, uid, "arr-i1-a1", attempt=1, index=1, log="child 1\n")
    with pytest.raises(ClientException, match="job: arr is an array job: name one child as arr:INDEX"):
        await job_log(ctx, job="arr")
    assert await job_log(ctx, job="arr:1") == "child 1\n"


async def test_wait_reports_each_change_until_the_job_ends(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await submit(kube, "j")
    steps = iter([{"status": "RUNNABLE", "statusMessage": "ce is full"}, {"status": "RUNNABLE",
                  "statusMessage": "ce is full"}, {"status": "RUNNING"}, {"status": "SUCCEEDED"}])

    async def operator_moves(seconds: float) -> None:
        kube.stored("BatchJob", "j")["status"] = next(steps)

    seen: list[tuple[str, str | None]] = []
    detail = await wait_for_job(ctx, job="j", until={"SUCCEEDED"}, timeout=None, interval=0,
                                progress=lambda d: seen.append((d["status"], d.get("statusMessage"))),
                                sleep=operator_moves)
    assert detail["status"] == "SUCCEEDED"
    assert seen == [("SUBMITTED", None), ("RUNNABLE", "ce is full"), ("RUNNING", None), ("SUCCEEDED", None)]


async def test_wait_stops_at_a_final_state_or_the_timeout(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await submit(kube, "j")
    kube.stored("BatchJob", "j")["status"] = {"status": "FAILED"}
    detail = await wait_for_job(ctx, job="j", until={"SUCCEEDED"}, timeout=None, progress=lambda d: None)
    assert detail["status"] == "FAILED"
    kube.stored("BatchJob", "j")["status"] = {"status": "RUNNABLE"}

    async def no_sleep(seconds: float) -> None:
        return None

    detail = await wait_for_job(ctx, job="j", until={"SUCCEEDED"}, timeout=0, progress=lambda d: None,
                                sleep=no_sleep)
    assert detail["status"] == "RUNNABLE"


async def test_wait_follows_one_array_child(kube: FakeKube) -> None:
    ctx, _ = make_context(kube)
    await submit(kube, "arr", arrayProperties={"size": 3})
    running = {"2": {"status": "RUNNING", "attemptCount": 1}}
    steps = iter([{"status": "RUNNING", "arrayProperties": {"children": running}},
                  {"status": "RUNNING", "arrayProperties": {"succeeded": "2", "attempts": {"1": "2"},
                                                            "exitCodes": {"0": "2"}}}])
    kube.stored("BatchJob", "arr")["status"] = {"status": "PENDING", "arrayProperties": {}}

    async def operator_moves(seconds: float) -> None:
        kube.stored("BatchJob", "arr")["status"] = next(steps)

    seen: list[str] = []
    detail = await wait_for_job(ctx, job="arr:2", until={"SUCCEEDED"}, timeout=None, interval=0,
                                progress=lambda d: seen.append(d["status"]), sleep=operator_moves)
    assert seen == ["RUNNABLE", "RUNNING", "SUCCEEDED"]
    assert detail["container"]["exitCode"] == 0 and detail["arrayProperties"] == {"index": 2}
