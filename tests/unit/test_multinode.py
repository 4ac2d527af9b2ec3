"""Multi-node parallel jobs: node ranges (overlaps, open ends, overrides) and the group's start/end rules."""

from __future__ import annotations

import pytest

from kubatch.core.actions import CreatePod, CreateService, DeletePod, PatchStatus
from kubatch.core.definition import InvalidJobError
from kubatch.core.multinode import check_nodes, node_container, num_nodes, target_range
from kubatch.core.reconcile import World, plan
from kubatch.core.reconcile.podspec import pod_demand

NOW_MS = 1_800_000_000_000


def container(image: str, vcpus: int = 1) -> dict:
    return {"image": image, "vcpus": vcpus, "memory": 512}


def resolved(*ranges: tuple[str, str], num: int = 4, main: int = 0, overrides: dict | None = None) -> dict:
    spec = {"nodeProperties": {"numNodes": num, "mainNode": main, "nodeRangeProperties": [
        {"targetNodes": target, "container": container(image)} for target, image in ranges]}}
    if overrides:
        spec["nodeOverrides"] = overrides
    return spec


@pytest.mark.parametrize("target, count, expected", [
    ("0:3", 4, [0, 1, 2, 3]),
    ("2:", 4, [2, 3]),
    (":1", 4, [0, 1]),
    ("5", 8, [5]),
    (":", 3, [0, 1, 2]),
    ("1:9", 4, [1, 2, 3]),  # clipped to the job's nodes
])
def test_target_nodes_syntax(target: str, count: int, expected: list[int]) -> None:
    assert list(target_range(target, count)) == expected


@pytest.mark.parametrize("ranges, images", [
    ((("0:3", "all"),), ["all"] * 4),
    ((("0:3", "wide"), ("0", "main")), ["main", "wide", "wide", "wide"]),  # the narrower range wins
    ((("1:", "workers"), (":0", "main")), ["main", "workers", "workers", "workers"]),
    ((("0:3", "wide"), ("2:3", "mid"), ("3", "narrow")), ["wide", "wide", "mid", "narrow"]),
])
def test_the_narrowest_range_decides_each_nodes_container(ranges, images) -> None:
    spec = resolved(*ranges)
    assert [node_container(spec, i)["image"] for i in range(4)] == images


def test_overrides_change_num_nodes_and_the_narrowest_matching_range() -> None:
    spec = resolved(("0:", "base"), num=2, overrides={
        "numNodes": 3,
        "nodePropertyOverrides": [{"targetNodes": "0:", "containerOverrides": {"command": ["all"]}},
                                  {"targetNodes": "2", "containerOverrides": {"command": ["last"], "vcpus": 4}}]})
    assert num_nodes(spec) == 3
    assert [node_container(spec, i)["command"] for i in range(3)] == [["all"], ["all"], ["last"]]
    assert pod_demand(spec).vcpus == 1 + 1 + 4  # the group is admitted whole


@pytest.mark.parametrize("spec, field", [
    (resolved(("0:1", "a")), "nodeRangeProperties"),  # nodes 2 and 3 have no container
    (resolved(("0:3", "a"), main=4), "mainNode"),
])
def test_incomplete_groups_are_refused_naming_the_field(spec: dict, field: str) -> None:
    with pytest.raises(InvalidJobError, match=field):
        check_nodes(spec)


# --------------------------------------------------------------------------- the group's life


def world_with(job_status: dict, pods: dict[str, dict]) -> World:
    definition = resolved(("0", "main"), ("1:3", "worker")) | {
        "revision": 1, "type": "multinode", "retryStrategy": {"attempts": 1}, "timeout": {}, "parameters": {}}
    job = {"apiVersion": "kubatch.io/v1alpha1", "metadata": {"name": "mpi", "namespace": "ns", "uid": "u1"},
           "spec": {"jobDefinition": "d", "jobQueue": "q"},
           "status": {"resolvedDefinition": definition, "createdAt": NOW_MS, **job_status}}
    ce = {"metadata": {"name": "ce"}, "spec": {"state": "ENABLED", "computeResources": {"type": "EC2", "maxvCpus": 16}}}
    queue = {"metadata": {"name": "q"}, "spec": {"priority": 1, "state": "ENABLED",
                                                 "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "ce"}]}}
    node = {"metadata": {"name": "node-1"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    return World(jobs=[job], pods_by_job={"u1": pods}, compute_environments={"ce": ce}, queues={"q": queue},
                 nodes={"node-1": node})


def node_pod(index: int, phase: str, *, exit_code: int | None = None, attempt: int = 1) -> dict:
    state = {"running": {"startedAt": "2027-01-15T08:00:00Z"}} if phase == "Running" else {
        "terminated": {"exitCode": exit_code, "reason": "Error" if exit_code else "Completed",
                       "startedAt": "2027-01-15T08:00:00Z", "finishedAt": "2027-01-15T08:00:05Z"}}
    return {"metadata": {"name": f"mpi-n{index}-a{attempt}", "labels": {"kubatch.io/job-id": "u1"}},
            "spec": {"nodeName": "node-1"},
            "status": {"phase": phase, "podIP": f"10.0.0.{index + 1}", "startTime": "2027-01-15T08:00:00Z",
                       "containerStatuses": [{"name": "main", "state": state}]}}


def actions_for_job(world: World) -> list:
    """What the plan does to the job and its pods (CE and queue status writes and Events left out)."""
    return [action for step in plan(world, now_ms=NOW_MS) for action in step.actions
            if isinstance(action, (CreatePod, CreateService, DeletePod))
            or (isinstance(action, PatchStatus) and action.kind == "BatchJob")]


def test_admission_creates_the_service_and_only_the_main_nodes_pod() -> None:
    actions = actions_for_job(world_with({"status": "RUNNABLE", "attemptCount": 0, "runnableAt": NOW_MS}, {}))
    assert [type(a) for a in actions[:2]] == [CreateService, CreatePod]
    assert [a.manifest["metadata"]["name"] for a in actions if isinstance(a, CreatePod)] == ["mpi-n0-a1"]


def test_workers_start_once_the_main_node_runs_and_learn_its_address() -> None:
    world = world_with({"status": "STARTING", "attemptCount": 1, "computeEnvironment": "ce"},
                       {"mpi-n0-a1": node_pod(0, "Running")})
    creates = [a for a in actions_for_job(world) if isinstance(a, CreatePod)]
    assert [a.manifest["metadata"]["name"] for a in creates] == ["mpi-n1-a1", "mpi-n2-a1", "mpi-n3-a1"]
    for create in creates:
        env = {e["name"]: e["value"] for e in create.manifest["spec"]["containers"][0]["env"]}
        assert env["AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS"] == "10.0.0.1"


def test_a_worker_failing_alone_ends_nothing() -> None:
    world = world_with({"status": "RUNNING", "attemptCount": 1, "computeEnvironment": "ce"},
                       {"mpi-n0-a1": node_pod(0, "Running"), "mpi-n1-a1": node_pod(1, "Failed", exit_code=1)})
    assert actions_for_job(world) == []


@pytest.mark.parametrize("exit_code, state", [(0, "SUCCEEDED"), (2, "FAILED")])
def test_the_main_nodes_exit_ends_the_job_and_stops_the_workers(exit_code: int, state: str) -> None:
    pods = {"mpi-n0-a1": node_pod(0, "Succeeded" if exit_code == 0 else "Failed", exit_code=exit_code),
            **{f"mpi-n{i}-a1": node_pod(i, "Running") for i in (1, 2, 3)}}
    actions = actions_for_job(world_with({"status": "RUNNING", "attemptCount": 1, "computeEnvironment": "ce"}, pods))
    assert sorted(a.name for a in actions if isinstance(a, DeletePod)) == ["mpi-n1-a1", "mpi-n2-a1", "mpi-n3-a1"]
    patch = next(a.patch for a in actions if isinstance(a, PatchStatus))
    assert patch["status"] == state and patch["attempts"][0]["container"]["exitCode"] == exit_code


def test_the_end_of_the_group_records_every_nodes_attempt_before_its_pods_go() -> None:
    pods = {"mpi-n0-a1": node_pod(0, "Succeeded", exit_code=0), "mpi-n1-a1": node_pod(1, "Failed", exit_code=3),
            "mpi-n2-a1": node_pod(2, "Running")}  # node 3's pod was never created
    actions = actions_for_job(world_with({"status": "RUNNING", "attemptCount": 1, "computeEnvironment": "ce"}, pods))
    nodes = next(a.patch for a in actions if isinstance(a, PatchStatus))["nodes"]
    assert [(n["nodeIndex"], n["status"], len(n["attempts"])) for n in nodes] == [
        (0, "SUCCEEDED", 1), (1, "FAILED", 1), (2, "SUCCEEDED", 1), (3, "SUCCEEDED", 0)]
    main, failed, stopped = (nodes[i]["attempts"][0] for i in range(3))
    assert main["container"] == {"exitCode": 0, "reason": None, "podName": "mpi-n0-a1", "nodeName": "node-1"}
    assert failed["container"]["exitCode"] == 3 and failed["container"]["podName"] == "mpi-n1-a1"
    assert failed["stoppedAt"] - failed["startedAt"] == 5000
    assert "exitCode" not in stopped["container"] and stopped["stoppedAt"] == NOW_MS
    assert stopped["statusReason"] == "Stopped when the main node ended the job's attempt"


def test_a_retried_group_adds_to_each_nodes_attempts() -> None:
    earlier = [{"nodeIndex": i, "status": "RUNNABLE", "attempts": [{"container": {"podName": f"mpi-n{i}-a1"}}]}
               for i in range(4)]
    pods = {"mpi-n0-a2": node_pod(0, "Failed", exit_code=1, attempt=2),
            **{f"mpi-n{i}-a2": node_pod(i, "Running", attempt=2) for i in (1, 2, 3)}}
    job_status = {"status": "RUNNING", "attemptCount": 2, "computeEnvironment": "ce", "nodes": earlier}
    actions = actions_for_job(world_with(job_status, pods))
    nodes = next(a.patch for a in actions if isinstance(a, PatchStatus))["nodes"]
    assert [[a["container"]["podName"] for a in n["attempts"]] for n in nodes] == [
        [f"mpi-n{i}-a1", f"mpi-n{i}-a2"] for i in range(4)]
    assert {n["status"] for n in nodes} == {"FAILED"}


def test_a_terminated_group_records_its_nodes_too() -> None:
    pods = {f"mpi-n{i}-a1": node_pod(i, "Running") for i in range(4)}
    world = world_with({"status": "RUNNING", "attemptCount": 1, "computeEnvironment": "ce"}, pods)
    world.jobs[0]["spec"]["terminateRequest"] = {"reason": "enough"}
    nodes = next(a.patch for a in actions_for_job(world) if isinstance(a, PatchStatus))["nodes"]
    assert [(n["status"], n["attempts"][0]["container"]["podName"]) for n in nodes] == [
        ("FAILED", f"mpi-n{i}-a1") for i in range(4)]
