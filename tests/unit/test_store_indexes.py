"""The store keeps finished jobs as compact records, and planning from them decides as from whole jobs.

Issue 17: a cycle must cost what is live, not the history the operator keeps. The
store lets go of a finished job's body and pods and keeps a slim record; these tests
pin what the record keeps (the fields job retention reads too), that the indexes stay
consistent through every way a job comes and goes, and, over random mixes of jobs,
that ``plan()`` over the store's snapshot returns exactly what it returns when every
job is given whole.
"""

from __future__ import annotations

import copy
import gc
import json
import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubatch.controller.store import Store, merged
from kubatch.core.reconcile import plan
from kubatch.core.reconcile.dependencies import JobIndex, child_gate, job_gate
from kubatch.core.reconcile.finished import FinishedJob, FinishedJobs
from kubatch.core.reconcile.world import World

from .builders import NOW_MS, finished_job, healthy, job, pod, runnable_job, world
from .test_reconcile_plan import infrastructure, job_mixes


def store_of(*objects: dict, seed: int = 0) -> Store:
    """A store fed ``objects`` as watch events, in their order, except that each pod arrives at a
    random moment (before its job, or after it has finished)."""
    events = [copy.deepcopy(obj) for obj in objects if obj["kind"] != "Pod"]
    rng = random.Random(seed)
    for obj in objects:
        if obj["kind"] == "Pod":
            events.insert(rng.randint(0, len(events)), copy.deepcopy(obj))
    store = Store()
    for obj in events:
        store.record(obj["kind"], obj)
    return store


def whole(*objects: dict) -> World:
    """The planner's view with every job whole, finished ones among the live (as before issue 17)."""
    jobs = [copy.deepcopy(obj) for obj in objects if obj["kind"] == "BatchJob"]
    return replace(world(*copy.deepcopy(objects)), jobs=jobs, finished=FinishedJobs())


def with_retention_fields(built: dict) -> dict:
    built["metadata"] |= {"resourceVersion": "41", "labels": {"team": "data"},
                          "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"},
                          "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "o1"}]}
    built["status"]["statusReason"] = "Essential container in task exited"
    return built


def test_a_finished_job_is_held_as_a_compact_record_with_what_retention_and_the_planner_read() -> None:
    done = with_retention_fields(finished_job("done"))
    store = store_of(done)
    assert store.objects["BatchJob"] == {} and len(store.finished) == 1
    record = store.get("BatchJob", "default", "done")
    metadata = done["metadata"]
    assert record["metadata"] == {key: metadata[key] for key in ("name", "namespace", "uid", "resourceVersion",
                                                                 "creationTimestamp", "labels", "ownerReferences")}
    assert record["spec"] == {"jobQueue": "q"}
    assert record["status"] == {"status": "SUCCEEDED", "jobQueue": "q", "stoppedAt": NOW_MS - 1_000,
                                "statusReason": "Essential container in task exited"}
    assert store.snapshot().jobs == [] and store.snapshot().job_counts()[("q", "SUCCEEDED")] == 1


def test_a_finished_array_keeps_its_size_and_its_childrens_outcomes_for_n_to_n_dependents() -> None:
    parent = finished_job("parent", "FAILED", arrayProperties={"size": 4})
    parent["status"]["arrayProperties"] = {"size": 4, "succeeded": "0-1,3", "failed": "2", "children": {}}
    record = FinishedJob.of(parent)
    dependent = runnable_job("child", arrayProperties={"size": 4})
    dependent["status"] |= {"status": "PENDING", "dependsOn": [{"jobId": record.uid, "type": "N_TO_N"}]}
    jobs = JobIndex([dependent], FinishedJobs([record]))
    assert [child_gate(dependent, index, jobs).open for index in range(4)] == [True, True, False, True]
    assert child_gate(dependent, 2, jobs).failed_on == "parent:2"
    assert job_gate(dependent, jobs).open  # N_TO_N is per child
    assert jobs.find("default", "parent")["spec"]["arrayProperties"] == {"size": 4}


def test_a_finished_jobs_pods_are_let_go_and_later_events_of_them_are_not_held() -> None:
    running = finished_job("done")
    running["status"]["status"] = "RUNNING"
    its_pod = pod(running, "Running")
    store = store_of(running, its_pod)
    assert set(store.pods_by_job[running["metadata"]["uid"]]) == {its_pod["metadata"]["name"]}
    store.record("BatchJob", finished_job("done"))
    assert running["metadata"]["uid"] not in store.pods_by_job and store.objects["Pod"] == {}
    store.record("Pod", pod(running, "Succeeded"))
    assert running["metadata"]["uid"] not in store.pods_by_job and store.objects["Pod"] == {}


def test_an_assumed_end_keeps_the_job_whole_with_its_pods_until_the_api_server_confirms_it() -> None:
    running = finished_job("done")
    running["status"]["status"] = "RUNNING"
    store = store_of(running, pod(running, "Succeeded"))
    held = store.get("BatchJob", "default", "done")
    assumption = store.assume("BatchJob", merged(held, {"status": {"status": "SUCCEEDED"}}))
    assert store.get("BatchJob", "default", "done")["status"]["status"] == "SUCCEEDED"
    assert len(store.finished) == 0 and running["metadata"]["uid"] in store.pods_by_job
    store.roll_back(assumption)
    assert store.get("BatchJob", "default", "done") is held and running["metadata"]["uid"] in store.pods_by_job


def test_deleting_or_recreating_a_finished_job_leaves_no_stale_record_or_count() -> None:
    store = store_of(finished_job("done"), finished_job("other", "FAILED"))
    store.observe("BatchJob", "DELETED", finished_job("other", "FAILED"))
    again = runnable_job("done")
    again["metadata"]["uid"] = "uid-new"
    store.record("BatchJob", again)
    assert len(store.finished) == 0 and store.finished.counts == {}
    assert store.snapshot().job_counts() == {("q", "RUNNABLE"): 1}
    assert store.finished.with_uid("uid-default-done") is None


def test_equal_resolved_definitions_are_held_once_and_unread_metadata_not_at_all() -> None:
    first, second = runnable_job("a"), runnable_job("b")
    first["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": "{...}"}
    store = store_of(first, second)
    held = [store.get("BatchJob", "default", name) for name in ("a", "b")]
    assert held[0]["status"]["resolvedDefinition"] is held[1]["status"]["resolvedDefinition"]
    assert held[0]["status"]["resolvedDefinition"] == first["status"]["resolvedDefinition"]
    assert "annotations" not in held[0]["metadata"]


def test_jobs_that_differ_in_one_parameter_still_share_the_rest_of_their_definition() -> None:
    store = store_of(runnable_job("a", parameters={"day": "mon"}), runnable_job("b", parameters={"day": "tue"}))
    first, second = (store.get("BatchJob", "default", name)["status"]["resolvedDefinition"] for name in "ab")
    assert first["parameters"] == {"day": "mon"} and second["parameters"] == {"day": "tue"}
    assert first["containerProperties"] is second["containerProperties"]


def test_a_shared_value_is_read_only_and_its_copies_are_plain() -> None:
    store = store_of(runnable_job("a"))
    definition = store.get("BatchJob", "default", "a")["status"]["resolvedDefinition"]
    with pytest.raises(TypeError, match="read-only"):
        definition["containerProperties"]["image"] = "other"
    with pytest.raises(TypeError, match="read-only"):
        store.get("BatchJob", "default", "a")["status"]["attempts"].append({})
    copied = copy.deepcopy(definition)
    copied["containerProperties"]["image"] = "other"
    assert type(copied) is dict and definition["containerProperties"]["image"] == "busybox:1.36"
    assert json.loads(json.dumps(definition)) == definition


def test_shared_values_go_when_no_job_holds_them() -> None:
    store = store_of(runnable_job("a"))
    assert len(store.shared) > 0
    store.observe("BatchJob", "DELETED", runnable_job("a"))
    gc.collect()
    assert len(store.shared) == 0


# -- planning from the store decides as planning from every job whole ------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> list[dict]:
    """A mix of jobs (finished ones among them) and jobs that depend on the finished ones: new jobs
    naming one by name or uid, PENDING jobs waiting on one."""
    objects = infrastructure() + draw(job_mixes())
    finished = [obj for obj in objects if obj["kind"] == "BatchJob"
                and (obj.get("status") or {}).get("status") in ("SUCCEEDED", "FAILED")]
    for index, target in enumerate(finished):
        how = draw(st.sampled_from(["new by name", "new by uid", "pending", "none"]))
        if how.startswith("new"):
            ref = target["metadata"]["name"] if how == "new by name" else target["metadata"]["uid"]
            objects.append(job(f"after{index}", dependsOn=[{"jobId": ref}]))
        elif how == "pending":
            waiting = runnable_job(f"after{index}")
            waiting["status"] |= {"status": "PENDING", "statusMessage": "Waiting for dependencies",
                                  "dependsOn": [{"jobId": target["metadata"]["uid"]}]}
            objects.append(waiting)
    return objects


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(objects=histories(), seed=st.integers(0, 1000))
def test_planning_from_the_stores_snapshot_decides_as_planning_from_every_job_whole(objects: list[dict],
                                                                                     seed: int) -> None:
    assert plan(store_of(*objects, seed=seed).snapshot(), now_ms=NOW_MS) == plan(whole(*objects), now_ms=NOW_MS)


def test_the_snapshot_lists_only_live_jobs_and_their_pods() -> None:
    live = runnable_job("live")
    done = finished_job("done")
    store = store_of(*healthy(), live, done, pod(done, "Succeeded"))
    snapshot = store.snapshot()
    assert [obj["metadata"]["name"] for obj in snapshot.jobs] == ["live"]
    assert dict(snapshot.pods_by_job) == {} and store.objects["Pod"] == {} and len(snapshot.finished) == 1
