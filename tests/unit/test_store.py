"""The operator's cache: a write shows at once, and a refused write leaves no trace.

Kueue's rule: the cache is updated before the API write and rolled back if it fails,
so a cycle never plans from a state that only existed in a refused request, and a
watch event that arrived meanwhile is never undone.
"""

from __future__ import annotations

from kubatch.controller.store import Store, merged
from kubatch.core.pods import LABEL_JOB_ID


def job(status: dict, version: str = "10") -> dict:
    return {"metadata": {"name": "j", "namespace": "ns", "uid": "u1", "resourceVersion": version},
            "spec": {}, "status": status}


def pod(name: str = "j-a1", uid: str | None = None) -> dict:
    metadata = {"name": name, "namespace": "ns", "labels": {LABEL_JOB_ID: "u1"}}
    if uid:
        metadata |= {"uid": uid, "resourceVersion": "20"}
    return {"metadata": metadata, "spec": {}}


def test_merge_patch_merges_objects_and_removes_nulls() -> None:
    assert merged({"a": {"b": 1, "c": 2}, "d": 3}, {"a": {"c": None, "e": 4}, "d": None, "f": [1]}) == {
        "a": {"b": 1, "e": 4}, "f": [1]}


def test_an_assumed_status_shows_at_once_and_a_refused_one_is_rolled_back() -> None:
    store = Store()
    store.record("BatchJob", job({"status": "RUNNABLE"}))
    before = store.get("BatchJob", "ns", "j")
    assumption = store.assume("BatchJob", merged(before, {"status": {"status": "STARTING"}}))
    assert store.get("BatchJob", "ns", "j")["status"] == {"status": "STARTING"}
    store.roll_back(assumption)
    assert store.get("BatchJob", "ns", "j") is before


def test_a_watch_event_that_arrived_meanwhile_is_not_rolled_back() -> None:
    store = Store()
    store.record("BatchJob", job({"status": "RUNNABLE"}))
    assumption = store.assume("BatchJob", job({"status": "STARTING"}))
    store.record("BatchJob", job({"status": "RUNNABLE", "statusMessage": "someone else"}, version="11"))
    store.roll_back(assumption)
    assert store.get("BatchJob", "ns", "j")["status"]["statusMessage"] == "someone else"


def test_an_assumed_pod_counts_for_its_job_until_its_create_fails() -> None:
    store = Store()
    assumption = store.assume("Pod", pod())
    assert set(store.pods_by_job["u1"]) == {"j-a1"}
    store.roll_back(assumption)
    assert "u1" not in store.pods_by_job and store.get("Pod", "ns", "j-a1") is None


def test_the_created_pod_replaces_its_assumption() -> None:
    store = Store()
    store.assume("Pod", pod())
    store.record("Pod", pod(uid="p1"))
    assert store.get("Pod", "ns", "j-a1")["metadata"]["uid"] == "p1"
    assert store.pods_by_job["u1"]["j-a1"]["metadata"]["uid"] == "p1"


def test_managed_fields_are_not_held() -> None:
    store = Store()
    pod = {"metadata": {"name": "p", "namespace": "n", "resourceVersion": "3",
                        "managedFields": [{"manager": "kubatch", "fieldsV1": {"f:spec": {}}}]}, "spec": {}}
    store.record("Pod", pod)
    held = store.get("Pod", "n", "p")
    assert "managedFields" not in held["metadata"] and held["metadata"]["resourceVersion"] == "3"
    assert "managedFields" in pod["metadata"]  # the event's object is left as it came
