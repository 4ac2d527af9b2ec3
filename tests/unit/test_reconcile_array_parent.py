"""An array parent's own state, as AWS documents it: PENDING until every child has ended.

AWS keeps the parent of an array job PENDING while its children run and moves it to
SUCCEEDED or FAILED only when all of them have ended; pollers that wait for the parent
to leave RUNNING (or list RUNNING jobs) depend on it. The parent still records when its
first child started.
"""

from __future__ import annotations

from kubatch.core.reconcile import plan

from .builders import NOW_MS, compute_environment, definition, iso, job, node, queue
from .test_reconcile_plan import Cluster


def _settle(cluster: Cluster) -> None:
    for _ in range(6):
        steps = plan(cluster.world(), now_ms=NOW_MS)
        if not steps:
            return
        cluster.apply(steps)
    raise AssertionError("the planner did not settle")


def _pods(cluster: Cluster) -> list[dict]:
    return [obj for (kind, _, _), obj in cluster.objects.items() if kind == "Pod"]


def _run(pod: dict, phase: str, *, exit_code: int = 0) -> None:
    started = iso(NOW_MS - 10_000)
    if phase == "Running":
        state = {"running": {"startedAt": started}}
    else:
        state = {"terminated": {"exitCode": exit_code, "reason": "Completed" if exit_code == 0 else "Error",
                                "startedAt": started, "finishedAt": iso(NOW_MS - 1_000)}}
    pod["spec"]["nodeName"] = "node-1"
    pod["status"] = {"phase": phase, "startTime": started, "conditions": [],
                     "containerStatuses": [{"name": "main", "state": state}]}


def _array_cluster() -> Cluster:
    return Cluster(definition(), queue(), compute_environment(max_vcpus=4), node(),
                   job("arr", arrayProperties={"size": 2}))


def parent(cluster: Cluster) -> dict:
    return cluster.get("BatchJob", "arr")["status"]


def test_the_parent_stays_pending_while_its_children_run_and_records_the_first_start():
    cluster = _array_cluster()
    _settle(cluster)
    assert len(_pods(cluster)) == 2 and parent(cluster)["status"] == "PENDING"
    assert "startedAt" not in parent(cluster)
    for pod in _pods(cluster):
        _run(pod, "Running")
    _settle(cluster)
    assert parent(cluster)["status"] == "PENDING"
    assert parent(cluster)["arrayProperties"]["statusSummary"]["RUNNING"] == 2
    assert parent(cluster)["startedAt"] == NOW_MS
    assert not [event for event in cluster.events if event.name == "arr" and event.reason == "Running"]


def test_the_parent_ends_when_every_child_has_ended():
    cluster = _array_cluster()
    _settle(cluster)
    first, second = sorted(_pods(cluster), key=lambda pod: pod["metadata"]["name"])
    _run(first, "Succeeded")
    _run(second, "Running")
    _settle(cluster)
    assert parent(cluster)["status"] == "PENDING"
    _run(second, "Failed", exit_code=3)
    _settle(cluster)
    assert parent(cluster)["status"] == "FAILED"
    assert parent(cluster)["startedAt"] == NOW_MS and parent(cluster)["stoppedAt"] == NOW_MS


def test_children_that_all_end_before_one_is_seen_running_still_give_the_parent_a_start():
    cluster = _array_cluster()
    _settle(cluster)
    for pod in _pods(cluster):
        _run(pod, "Succeeded")
    _settle(cluster)
    assert parent(cluster)["status"] == "SUCCEEDED"
    assert parent(cluster)["startedAt"] == NOW_MS
