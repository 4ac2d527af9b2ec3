"""Array children described and listed from their parent's record (``status.arrayProperties``).

The records are what the operator writes (``kubatch.core.reconcile.arrays``): ranges for
ended children, a record per active or retrying child, nothing for a child that waits.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from kubatch.cli.main import main
from kubatch.service import ClientException, invoke
from kubatch.service import children as children_module
from kubatch.service.array_record import ArrayRecord
from kubatch.service.child_logs import log
from kubatch.states import JOB_STATES
from tests.unit.fake_kube import CREATED_MS as T
from tests.unit.fake_kube import FakeKube, make_context, make_runtime

UID = "11111111-2222-4333-8444-555555555555"
DEP_UID = "99999999-2222-4333-8444-555555555555"
PREFIX = "arn:aws:batch:us-east-1:000000000000:"
RESOLVED = {"revision": 1, "containerProperties": {"image": "busybox", "command": ["work"]}}


def attempt(pod: str, *, exit_code: int, started: int, node: str = "node-7") -> dict[str, Any]:
    return {"container": {"exitCode": exit_code, "reason": "NonZeroExitCode", "podName": pod, "nodeName": node},
            "startedAt": started, "stoppedAt": started + 1000, "statusReason": "Essential container in task exited"}


A4 = attempt("arr-i4-a1", exit_code=1, started=T + 1000)
A9 = attempt("arr-i9-a1", exit_code=2, started=T + 1500)
MIXED = {
    "status": "RUNNING", "jobId": UID, "createdAt": T, "startedAt": T + 500,
    "statusMessage": "Compute environment ce is full", "resolvedDefinition": RESOLVED, "dependsOn": [],
    "arrayProperties": {
        "size": 12,
        "succeeded": "0-2,5", "failed": "6-8",
        "exitCodes": {"0": "0-2,5", "1": "6", "137": "7"},
        "attempts": {"1": "0-2,6", "2": "5,7", "0": "8"},
        "reasons": {"TaskFailed": "6", "JobTimeout": "7", "Cancelled": "8"},
        "children": {
            "3": {"status": "STARTING", "attemptCount": 1, "computeEnvironment": "ce", "attempts": []},
            "4": {"status": "RUNNING", "attemptCount": 2, "computeEnvironment": "ce", "startedAt": T + 3000,
                  "attempts": [A4]},
            "9": {"status": "RUNNABLE", "attemptCount": 1, "runnableAt": T + 2600, "statusReason": "TaskFailed",
                  "attempts": [A9]},
        },
        "statusSummary": {"SUBMITTED": 0, "PENDING": 0, "RUNNABLE": 3, "STARTING": 1, "RUNNING": 1,
                          "SUCCEEDED": 4, "FAILED": 3},
    },
}
"""Twelve children: 0-2 and 5 succeeded (5 on its second attempt), 6 failed, 7 timed out twice, 8 was
cancelled before it ran, 3 is starting, 4 runs its second attempt, 9 waits to retry, 10 and 11 wait."""


def array_job(status: dict[str, Any] | None, *, name: str = "arr", uid: str = UID, size: int = 12,
              **spec: Any) -> dict[str, Any]:
    job = {"metadata": {"name": name, "uid": uid, "namespace": "default"},
           "spec": {"jobQueue": "q", "jobDefinition": "d", "arrayProperties": {"size": size}, **spec}}
    if status is not None:
        job["status"] = status
    return job


def plain_job(name: str, state: str, *, uid: str = DEP_UID) -> dict[str, Any]:
    return {"metadata": {"name": name, "uid": uid, "namespace": "default"},
            "spec": {"jobQueue": "q", "jobDefinition": "d"}, "status": {"status": state}}


@pytest.fixture
def kube() -> FakeKube:
    return FakeKube()


def child_pod(kube: FakeKube, index: int, attempt_number: int, *, phase: str, state: dict | None = None) -> None:
    kube.put_pod(name=f"arr-i{index}-a{attempt_number}", phase=phase, state=state,
                 log=f"child {index}.{attempt_number}\n",
                 labels={"kubatch.io/job-id": UID, "kubatch.io/array-index": str(index),
                         "kubatch.io/attempt": str(attempt_number)})


async def describe(kube: FakeKube, *refs: str) -> list[dict[str, Any]]:
    ctx, _ = make_context(kube)
    return (await invoke(ctx, "DescribeJobs", {"jobs": list(refs)}))["jobs"]


async def listed(kube: FakeKube, **request: Any) -> dict[str, Any]:
    ctx, _ = make_context(kube)
    return await invoke(ctx, "ListJobs", {"arrayJobId": "arr", **request})


# ------------------------------------------------------------------ one child, each kind of record

@pytest.mark.parametrize(("index", "status", "reason", "attempt_pods", "exit_code", "pod"), [
    (0, "SUCCEEDED", None, ["arr-i0-a1"], 0, "arr-i0-a1"),
    (5, "SUCCEEDED", None, ["arr-i5-a1", "arr-i5-a2"], 0, "arr-i5-a2"),
    (6, "FAILED", "TaskFailed", ["arr-i6-a1"], 1, "arr-i6-a1"),
    (7, "FAILED", "JobTimeout", ["arr-i7-a1", "arr-i7-a2"], 137, "arr-i7-a2"),
    (8, "FAILED", "Cancelled", [], None, None),
    (3, "STARTING", None, [], None, "arr-i3-a1"),
    (4, "RUNNING", None, ["arr-i4-a1"], None, "arr-i4-a2"),
    (9, "RUNNABLE", "TaskFailed", ["arr-i9-a1"], 2, "arr-i9-a1"),
    (10, "RUNNABLE", None, [], None, None),
    (11, "RUNNABLE", None, [], None, None),
])
async def test_each_kind_of_child_record(kube: FakeKube, index: int, status: str, reason: str | None,
                                         attempt_pods: list[str], exit_code: int | None, pod: str | None) -> None:
    kube.put("BatchJob", array_job(MIXED))
    (child,) = await describe(kube, f"arr:{index}")
    assert child["jobId"] == f"{UID}:{index}"
    assert child["jobArn"] == f"{PREFIX}job/{UID}:{index}"
    assert child["jobName"] == "arr"
    assert child["arrayProperties"] == {"index": index}
    assert child["createdAt"] == T
    assert (child["status"], child.get("statusReason")) == (status, reason)
    assert [a["container"]["podName"] for a in child["attempts"]] == attempt_pods
    assert child["container"].get("exitCode") == exit_code
    assert child["container"].get("podName") == pod
    assert child["container"]["image"] == "busybox"
    assert child["isCancelled"] is (reason == "Cancelled")


async def test_a_running_child_shows_its_finished_attempts_and_its_current_pod(kube: FakeKube) -> None:
    kube.put("BatchJob", array_job(MIXED))
    child_pod(kube, 4, 2, phase="Running", state={"running": {"startedAt": "2024-05-01T12:00:03Z"}})
    (child,) = await describe(kube, "arr:4")
    assert child == {
        "jobArn": f"{PREFIX}job/{UID}:4", "jobName": "arr", "jobId": f"{UID}:4", "jobQueue": f"{PREFIX}job-queue/q",
        "status": "RUNNING", "attempts": [A4], "createdAt": T, "startedAt": T + 1000, "dependsOn": [],
        "jobDefinition": f"{PREFIX}job-definition/d:1", "parameters": {},
        "container": {"image": "busybox", "command": ["work"], "podName": "arr-i4-a2", "nodeName": "node-1"},
        "arrayProperties": {"index": 4}, "computeEnvironment": "ce", "isCancelled": False, "isTerminated": False,
        "tags": {},
    }


async def test_an_ended_child_takes_node_and_times_from_its_kept_pod(kube: FakeKube) -> None:
    kube.put("BatchJob", array_job(MIXED))
    child_pod(kube, 5, 2, phase="Succeeded", state={"terminated": {
        "exitCode": 0, "reason": "Completed",
        "startedAt": "2024-05-01T12:00:05Z", "finishedAt": "2024-05-01T12:00:09Z"}})
    (child,) = await describe(kube, "arr:5")
    assert child["attempts"] == [
        {"container": {"podName": "arr-i5-a1"}},
        {"container": {"exitCode": 0, "reason": "Completed", "podName": "arr-i5-a2", "nodeName": "node-1"},
         "startedAt": T + 5000, "stoppedAt": T + 9000},
    ]
    assert child["container"] == {"image": "busybox", "command": ["work"], "exitCode": 0, "reason": "Completed",
                                  "podName": "arr-i5-a2", "nodeName": "node-1"}
    assert (child["startedAt"], child["stoppedAt"]) == (T + 5000, T + 9000)


async def test_an_ended_child_without_pods_has_what_the_ranges_hold(kube: FakeKube) -> None:
    kube.put("BatchJob", array_job(MIXED))
    (child,) = await describe(kube, "arr:7")
    assert child["attempts"] == [{"container": {"podName": "arr-i7-a1"}},
                                 {"container": {"podName": "arr-i7-a2", "exitCode": 137}}]
    assert "startedAt" not in child and "stoppedAt" not in child
    assert kube.calls.count(("list_pods", "Pod")) == 1


async def test_a_waiting_child_reads_no_pods_and_says_why_it_waits(kube: FakeKube) -> None:
    kube.put("BatchJob", array_job(MIXED))
    (child,) = await describe(kube, "arr:10")
    assert child["statusMessage"] == "Compute environment ce is full"
    assert child["attempts"] == [] and "startedAt" not in child
    assert ("list_pods", "Pod") not in kube.calls


async def test_the_parent_shows_size_and_counts_only(kube: FakeKube) -> None:
    kube.put("BatchJob", array_job(MIXED))
    (parent,) = await describe(kube, "arr")
    assert parent["arrayProperties"] == {"size": 12, "statusSummary": MIXED["arrayProperties"]["statusSummary"]}
    assert parent["jobId"] == UID and parent["status"] == "RUNNING"


async def test_unknown_children_are_left_out_like_unknown_jobs(kube: FakeKube) -> None:
    kube.put("BatchJob", array_job(MIXED))
    kube.put("BatchJob", plain_job("single", "RUNNING"))
    found = await describe(kube, "arr:12", "arr:11", "single:0", "nope:1", f"{UID}:0")
    assert [child["jobId"] for child in found] == [f"{UID}:11", f"{UID}:0"]


def test_the_statuses_agree_with_the_operators_counts() -> None:
    record = ArrayRecord(array_job(MIXED))
    counts = Counter(record.status_of(index) for index in range(record.size))
    assert {state: counts[state] for state in JOB_STATES} == MIXED["arrayProperties"]["statusSummary"]


# ------------------------------------------------------------------ waiting children: PENDING or RUNNABLE

PLACING = "Waiting to be placed on a compute environment"


def waiting(state: str | None, **array: Any) -> dict[str, Any] | None:
    if state is None:
        return None
    return {"status": state, "createdAt": T, "resolvedDefinition": RESOLVED,
            "statusMessage": PLACING,
            "arrayProperties": {"size": 4, **array}}


DEPENDENCY_CASES = [
    # (the parent's status, its spec extras, its status.dependsOn, other jobs, index -> (status, message))
    ("a whole-job dependency still running", "PENDING", [{"jobId": DEP_UID}], [plain_job("first", "RUNNING")],
     {0: ("PENDING", "Waiting for dependency first"), 3: ("PENDING", "Waiting for dependency first")}),
    ("a whole-job dependency that succeeded", "PENDING", [{"jobId": DEP_UID}], [plain_job("first", "SUCCEEDED")],
     {0: ("RUNNABLE", PLACING)}),
    ("a whole-job dependency that failed", "PENDING", [{"jobId": DEP_UID}], [plain_job("first", "FAILED")],
     {2: ("PENDING", "Dependency first failed")}),
    ("SEQUENTIAL: each child waits for the one before", "RUNNING", [{"type": "SEQUENTIAL"}], [],
     {2: ("RUNNABLE", PLACING), 3: ("PENDING", "Waiting for dependency arr:2")}),
    ("N_TO_N: each child waits for its peer", "RUNNING", [{"jobId": DEP_UID, "type": "N_TO_N"}],
     [array_job({"status": "RUNNING", "arrayProperties": {"succeeded": "0,2"}}, name="other", uid=DEP_UID, size=4)],
     {2: ("RUNNABLE", PLACING), 3: ("PENDING", "Waiting for dependency other:3")}),
    ("a parent the operator has not seen", None, [], [], {0: ("SUBMITTED", None)}),
]


@pytest.mark.parametrize(("state", "depends_on", "others", "expected"),
                         [case[1:] for case in DEPENDENCY_CASES], ids=[case[0] for case in DEPENDENCY_CASES])
async def test_a_child_without_record_is_pending_while_a_dependency_holds_it(
        kube: FakeKube, state: str | None, depends_on: list[dict], others: list[dict],
        expected: dict[int, tuple[str, str | None]]) -> None:
    status = waiting(state, succeeded="0-1" if depends_on == [{"type": "SEQUENTIAL"}] else "")
    if status is not None:
        status["dependsOn"] = depends_on
    kube.put("BatchJob", array_job(status, size=4))
    for other in others:
        kube.put("BatchJob", other)
    found = await describe(kube, *(f"arr:{index}" for index in expected))
    assert {int(c["jobId"].rsplit(":", 1)[1]): (c["status"], c.get("statusMessage")) for c in found} == expected


async def test_a_child_of_a_parent_that_failed_before_any_child_ran(kube: FakeKube) -> None:
    kube.put("BatchJob", array_job({"status": "FAILED", "statusReason": "InvalidJob", "stoppedAt": T + 10,
                                    "statusMessage": "spec.jobDefinition: JobDefinition 'd' does not exist"}))
    (child,) = await describe(kube, "arr:3")
    assert (child["status"], child["statusReasonCode"], child["stoppedAt"]) == ("FAILED", "InvalidJob", T + 10)
    assert child["statusReason"] == "spec.jobDefinition: JobDefinition 'd' does not exist"  # AWS: the human text


async def test_a_refused_pod_fails_the_child_until_the_ranges_take_it(kube: FakeKube) -> None:
    status = waiting("RUNNING", children={"1": {"status": "FAILED", "attemptCount": 1, "statusReason": "InvalidJob",
                                                "stoppedAt": T + 99}})
    kube.put("BatchJob", array_job(status, size=4))
    (child,) = await describe(kube, "arr:1")
    assert (child["status"], child["statusReason"], child["stoppedAt"], child["attempts"]) == (
        "FAILED", "InvalidJob", T + 99, [])


async def test_a_bad_range_in_the_record_is_a_server_error(kube: FakeKube) -> None:
    kube.put("BatchJob", array_job(waiting("RUNNING", succeeded="0-x")))
    ctx, _ = make_context(kube)
    with pytest.raises(Exception, match=r"BatchJob arr: status.arrayProperties.succeeded: bad index range '0-x'"):
        await invoke(ctx, "DescribeJobs", {"jobs": ["arr:0"]})


# ------------------------------------------------------------------ listing children

async def test_list_children_by_status_in_index_order(kube: FakeKube) -> None:
    kube.put("BatchJob", array_job(MIXED))

    async def indexes(**request: Any) -> list[int]:
        return [summary["arrayProperties"]["index"] for summary in (await listed(kube, **request))["jobSummaryList"]]

    assert await indexes() == [4]  # AWS: RUNNING unless a status or filter is given
    assert await indexes(jobStatus="SUCCEEDED") == [0, 1, 2, 5]
    assert await indexes(jobStatus="FAILED") == [6, 7, 8]
    assert await indexes(jobStatus="RUNNABLE") == [9, 10, 11]
    assert await indexes(jobStatus="STARTING") == [3]
    assert await indexes(jobStatus="PENDING") == []
    assert await indexes(filters=[{"name": "JOB_NAME", "values": ["ar*"]}]) == list(range(12))
    assert await indexes(filters=[{"name": "JOB_NAME", "values": ["other"]}]) == []


async def test_list_summaries_have_the_aws_shape(kube: FakeKube) -> None:
    kube.put("BatchJob", array_job(MIXED))
    failed = (await listed(kube, jobStatus="FAILED"))["jobSummaryList"]
    shared = {"jobName": "arr", "createdAt": T, "status": "FAILED", "jobDefinition": f"{PREFIX}job-definition/d:1"}
    assert failed[0] == {"jobArn": f"{PREFIX}job/{UID}:6", "jobId": f"{UID}:6", **shared, "statusReason": "TaskFailed",
                         "statusReasonCode": "TaskFailed", "container": {"exitCode": 1}, "arrayProperties": {"index": 6}}
    assert failed[2] == {"jobArn": f"{PREFIX}job/{UID}:8", "jobId": f"{UID}:8", **shared, "statusReason": "Cancelled",
                         "statusReasonCode": "Cancelled", "arrayProperties": {"index": 8}}
    (running,) = (await listed(kube))["jobSummaryList"]
    assert running["startedAt"] == T + 1000 and running["status"] == "RUNNING"


async def test_ten_thousand_children_are_listed_a_page_at_a_time(kube: FakeKube,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    status = {"status": "RUNNING", "createdAt": T, "resolvedDefinition": RESOLVED, "arrayProperties": {
        "size": 10000, "succeeded": "0-4999,5001-9998", "failed": "5000", "exitCodes": {"0": "0-4999,5001-9998"},
        "attempts": {"1": "0-9998"}, "reasons": {"TaskFailed": "5000"},
        "children": {"9999": {"status": "RUNNING", "attemptCount": 1, "startedAt": T + 1}}}}
    kube.put("BatchJob", array_job(status, size=10000))
    built: list[int] = []
    real = children_module.child_detail
    def counted(parent: dict, record: ArrayRecord, child: Any, **kwargs: Any) -> dict:
        built.append(child.index)
        return real(parent, record, child, **kwargs)

    monkeypatch.setattr(children_module, "child_detail", counted)
    first = await listed(kube, jobStatus="SUCCEEDED", maxResults=100)
    assert [s["arrayProperties"]["index"] for s in first["jobSummaryList"]] == list(range(100))
    second = await listed(kube, jobStatus="SUCCEEDED", maxResults=100, nextToken=first["nextToken"])
    assert [s["arrayProperties"]["index"] for s in second["jobSummaryList"]] == list(range(100, 200))
    assert built == list(range(200))
    assert ("list_pods", "Pod") not in kube.calls
    ctx, _ = make_context(kube)
    seen, token = [], None
    while True:
        page = await invoke(ctx, "ListJobs", {"arrayJobId": UID, "jobStatus": "SUCCEEDED",
                                              **({"nextToken": token} if token else {})})
        seen += [s["arrayProperties"]["index"] for s in page["jobSummaryList"]]
        if not (token := page.get("nextToken")):
            break
    assert seen == [index for index in range(9999) if index != 5000]


async def test_listing_children_of_a_job_that_is_not_an_array(kube: FakeKube) -> None:
    kube.put("BatchJob", plain_job("single", "RUNNING"))
    ctx, _ = make_context(kube)
    with pytest.raises(ClientException, match="job single is not an array job"):
        await invoke(ctx, "ListJobs", {"arrayJobId": "single"})


# ------------------------------------------------------------------ logs and waiting

async def test_logs_of_a_child_read_its_latest_attempt_by_the_record(kube: FakeKube) -> None:
    kube.put("BatchJob", array_job(MIXED))
    ctx, _ = make_context(kube)
    child_pod(kube, 4, 2, phase="Running")
    assert await log(ctx, job="arr:4") == "child 4.2\n"
    child_pod(kube, 5, 1, phase="Failed")  # kept by --pod-retention all; attempt 2's pod is gone
    with pytest.raises(ClientException, match=r"job: the pod of attempt 2 of arr:5, arr-i5-a2, is gone \(the child is "
                                              r"SUCCEEDED; the operator's --pod-retention decides which pods stay\)"):
        await log(ctx, job="arr:5")
    assert await log(ctx, job="arr:5", attempt=1) == "child 5.1\n"
    with pytest.raises(ClientException, match=r"job: arr:5 has no attempt 3 \(its attempts are 1 to 2\)"):
        await log(ctx, job="arr:5", attempt=3)
    with pytest.raises(ClientException, match="job: arr:10 has not started an attempt yet \\(it is RUNNABLE\\)"):
        await log(ctx, job="arr:10")
    with pytest.raises(ClientException, match=r"job arr has no child 12 \(its array size is 12\)"):
        await log(ctx, job="arr:12")


async def test_a_pod_created_before_its_record_is_already_readable(kube: FakeKube) -> None:
    kube.put("BatchJob", array_job(MIXED))
    ctx, _ = make_context(kube)
    child_pod(kube, 10, 1, phase="Pending")
    assert await log(ctx, job=f"{UID}:10") == "child 10.1\n"


# ------------------------------------------------------------------ the CLI verbs

def test_the_cli_verbs_address_children(kube: FakeKube, capsys: pytest.CaptureFixture[str]) -> None:
    kube.put("BatchJob", array_job(MIXED))
    child_pod(kube, 4, 2, phase="Running")

    def kubatch(*args: str) -> str:
        capsys.readouterr()
        try:
            main(list(args), obj=make_runtime(kube))
        except SystemExit as exit_:
            assert not exit_.code, capsys.readouterr().err
        return capsys.readouterr().out

    assert kubatch("logs", "arr:4") == "child 4.2\n"
    (child,) = json.loads(kubatch("describe-jobs", "--jobs", f"{UID}:4"))["jobs"]
    assert (child["jobId"], child["status"], child["container"]["podName"]) == (f"{UID}:4", "RUNNING", "arr-i4-a2")
    page = json.loads(kubatch("list-jobs", "--array-job-id", "arr", "--job-status", "SUCCEEDED", "--max-results", "3"))
    assert [s["jobId"] for s in page["jobSummaryList"]] == [f"{UID}:0", f"{UID}:1", f"{UID}:2"]
    every = json.loads(kubatch("list-jobs", "--array-job-id", "arr", "--job-status", "SUCCEEDED"))
    assert [s["arrayProperties"]["index"] for s in every["jobSummaryList"]] == [0, 1, 2, 5]
