"""The whole planner against a tiny in-memory cluster: idempotence and its invariants.

``Cluster`` applies steps the way the controller does (JSON merge patches of status,
a create of an existing pod of the same job returns it, a pod of another job is a 409
that stops the step, deleting a missing pod is fine, a step stops at its first
failure). Pods never progress on their own, and the clock stands still, so repeated
cycles must settle: once every step was applied, ``plan()`` has nothing left to do.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubatch.core.actions import CreatePod, DeletePod, Emit, PatchStatus, Step
from kubatch.core.lifecycle import ACTIVE_STATES, TERMINAL_STATES
from kubatch.core.pods import LABEL_JOB_ID
from kubatch.core.reconcile import World, plan
from kubatch.core.reconcile.podspec import pod_demand

from .builders import (
    NOW_MS,
    active_job,
    compute_environment,
    definition,
    definition_spec,
    finished_job,
    job,
    node,
    pod,
    queue,
    runnable_job,
    sized,
    world,
)
from .fake_kube import apply_merge_patch  # RFC 7386, as the controller's status patches

MAX_ROUNDS = 12
RETRY_ON_3 = definition_spec(retryStrategy={"attempts": 2, "evaluateOnExit": [
    {"onExitCode": "3", "action": "RETRY"}, {"onReason": "*", "action": "EXIT"}]})


class Cluster:
    """Objects by kind and key; ``apply`` carries out steps, ``world`` snapshots them."""

    def __init__(self, *objects: dict) -> None:
        self.objects: dict[tuple[str, str, str], dict] = {}
        self.created: list[str] = []
        self.events: list[Emit] = []
        for obj in copy.deepcopy(objects):
            self.objects[self._key(obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"])] = obj

    @staticmethod
    def _key(kind: str, namespace: str, name: str) -> tuple[str, str, str]:
        return kind, namespace if kind in ("BatchJob", "JobDefinition", "Pod") else "", name

    def copy(self) -> Cluster:
        twin = Cluster()
        twin.objects, twin.created, twin.events = copy.deepcopy(self.objects), list(self.created), list(self.events)
        return twin

    def world(self) -> World:
        return world(*copy.deepcopy(list(self.objects.values())))

    def get(self, kind: str, name: str, namespace: str = "default") -> dict:
        return self.objects[self._key(kind, namespace, name)]

    def apply(self, steps: list[Step], *, cut: Callable[[Step], int] = lambda step: len(step.actions)) -> None:
        for step in steps:
            for action in step.actions[: cut(step)]:
                if not self._perform(action):
                    break

    def _perform(self, action: Any) -> bool:
        if isinstance(action, PatchStatus):
            key = self._key(action.kind, action.namespace, action.name)
            if key not in self.objects:
                return False
            self.objects[key]["status"] = apply_merge_patch(self.objects[key].get("status") or {}, action.patch)
        elif isinstance(action, CreatePod):
            metadata = action.manifest["metadata"]
            key = self._key("Pod", metadata["namespace"], metadata["name"])
            existing = self.objects.get(key)
            if existing is not None:
                return existing["metadata"]["labels"].get(LABEL_JOB_ID) == metadata["labels"].get(LABEL_JOB_ID)
            self.objects[key] = {**copy.deepcopy(action.manifest), "kind": "Pod", "status": {"phase": "Pending"}}
            self.created.append(metadata["name"])
        elif isinstance(action, DeletePod):
            self.objects.pop(self._key("Pod", action.namespace, action.name), None)
        elif isinstance(action, Emit):
            self.events.append(action)
        return True

    def jobs(self) -> list[dict]:
        return [obj for (kind, _, _), obj in self.objects.items() if kind == "BatchJob"]


def infrastructure() -> list[dict]:
    return [definition(), definition("fresh", revision=None), queue(), queue("off", state="DISABLED"),
            compute_environment(max_vcpus=4), node()]


# -- strategies --------------------------------------------------------------------------------------


NEW_JOBS = {
    "ok": lambda name, v: job(name, containerOverrides={"vcpus": v}),
    "missing definition": lambda name, v: job(name, definition="missing"),
    "unnumbered definition": lambda name, v: job(name, definition="fresh"),
    "disabled queue": lambda name, v: job(name, queue="off"),
    "cancelled": lambda name, v: job(name, cancelRequest={"reason": "no"}),
    "runnable": lambda name, v: runnable_job(name, frozen=sized(v, RETRY_ON_3)),
    "runnable retried": lambda name, v: runnable_job(name, frozen=sized(v, RETRY_ON_3), attempt_count=1),
    "runnable cancelled": lambda name, v: runnable_job(name, cancelRequest={"reason": "no"}),
    "succeeded": lambda name, v: finished_job(name, "SUCCEEDED"),
    "failed": lambda name, v: finished_job(name, "FAILED"),
}
POD_PHASES = [None, "Pending", "Running", "Succeeded", "Failed exit 3", "Failed exit 1", "Unschedulable"]


def _pod(owner: dict, phase: str | None) -> list[dict]:
    if phase is None:
        return []
    if phase.startswith("Failed"):
        return [pod(owner, "Failed", exit_code=int(phase[-1]))]
    if phase == "Unschedulable":
        return [pod(owner, unschedulable=True)]
    return [pod(owner, phase)]


@st.composite
def job_mixes(draw: st.DrawFn) -> list[dict]:
    """Up to 4 one-vCPU STARTING/RUNNING jobs (the CE's quota) with pods in any phase,
    and up to 8 jobs in any other situation."""
    objects: list[dict] = []
    for index in range(draw(st.integers(0, 4))):
        owner = active_job(f"active{index}", draw(st.sampled_from(["STARTING", "RUNNING"])),
                           attempt=draw(st.integers(1, 2)), frozen=RETRY_ON_3, created_ms=NOW_MS - 90_000 + index,
                           **({"terminateRequest": {"reason": "stop"}} if draw(st.booleans()) else {}))
        objects += [owner, *_pod(owner, draw(st.sampled_from(POD_PHASES)))]
    kinds = draw(st.lists(st.sampled_from(sorted(NEW_JOBS)), max_size=8))
    for index, kind in enumerate(kinds):
        built = NEW_JOBS[kind](f"job{index}", draw(st.integers(1, 3)))
        built["metadata"]["creationTimestamp"] = f"2023-11-14T22:1{index}:00Z"
        objects.append(built)
    return objects


# -- invariants ---------------------------------------------------------------------------------------


def job_names_in(step: Step) -> set[str]:
    names = {a.name for a in step.actions if isinstance(a, (PatchStatus, Emit)) and a.kind == "BatchJob"}
    names |= {a.manifest["metadata"]["ownerReferences"][0]["name"] for a in step.actions if isinstance(a, CreatePod)}
    return names


def check_cycle(cluster: Cluster, steps: list[Step]) -> None:
    """What must hold of one cycle's answer: one step per job, none for finished jobs, the
    same answer twice, and, once all of it is applied, no CE over its maxvCpus."""
    touched = [name for step in steps for name in job_names_in(step)]
    assert len(touched) == len(set(touched)), f"a job got two steps: {touched}"
    for name in touched:
        state = (cluster.get("BatchJob", name).get("status") or {}).get("status")
        assert state not in TERMINAL_STATES, f"{name} is {state} but got a step"
    assert plan(cluster.world(), now_ms=NOW_MS) == steps, "plan() is not a function of the world"
    applied = cluster.copy()
    applied.apply(steps)
    used: dict[str, float] = {}
    for obj in applied.jobs():
        status = obj.get("status") or {}
        if status.get("status") in ACTIVE_STATES:
            used[status["computeEnvironment"]] = (used.get(status["computeEnvironment"], 0)
                                                  + pod_demand(status["resolvedDefinition"]).vcpus)
    for ce, vcpus in used.items():
        assert vcpus <= applied.get("ComputeEnvironment", ce)["spec"]["computeResources"]["maxvCpus"], (ce, vcpus)


def check_state(cluster: Cluster) -> None:
    """What must hold of the cluster after a cycle was applied (perhaps only in part)."""
    for obj in cluster.jobs():
        status = obj.get("status") or {}
        attempts = (status.get("resolvedDefinition") or {}).get("retryStrategy", {}).get("attempts", 1)
        assert int(status.get("attemptCount") or 0) <= attempts, obj["metadata"]["name"]
    assert len(cluster.created) == len(set(cluster.created)), f"a pod was created twice: {cluster.created}"


def run_to_fixpoint(cluster: Cluster, *, cut_for_round: Callable[[int], Callable[[Step], int]] | None = None
                    ) -> int:
    for round_number in range(MAX_ROUNDS):
        steps = plan(cluster.world(), now_ms=NOW_MS)
        if not steps:
            return round_number
        check_cycle(cluster, steps)
        if cut_for_round is None:
            cluster.apply(steps)
        else:
            cluster.apply(steps, cut=cut_for_round(round_number))
        check_state(cluster)
    raise AssertionError(f"no fixpoint after {MAX_ROUNDS} cycles: still {plan(cluster.world(), now_ms=NOW_MS)}")


# -- properties -----------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mix=job_mixes())
def test_applying_every_step_reaches_a_world_with_nothing_left_to_do(mix: list[dict]) -> None:
    cluster = Cluster(*infrastructure(), *mix)
    rounds = run_to_fixpoint(cluster)
    assert rounds <= 6
    assert plan(cluster.world(), now_ms=NOW_MS) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mix=job_mixes(), data=st.data())
def test_an_operator_that_crashes_mid_step_still_settles_without_duplicates_or_overcommit(
    mix: list[dict], data: st.DataObject
) -> None:
    """In the first cycles every step may stop after any action (a crash, a lost write);
    the next cycles must repair it: no pod twice, no CE over its quota, a fixpoint."""
    crash_rounds = data.draw(st.integers(0, 3))

    def cut_for_round(round_number: int) -> Callable[[Step], int]:
        if round_number >= crash_rounds:
            return lambda step: len(step.actions)
        return lambda step: data.draw(st.integers(0, len(step.actions)))

    cluster = Cluster(*infrastructure(), *mix)
    run_to_fixpoint(cluster, cut_for_round=cut_for_round)
    assert plan(cluster.world(), now_ms=NOW_MS) == []


# -- examples through the cluster ------------------------------------------------------------------------


def test_a_job_goes_from_submitted_to_succeeded_through_the_cluster() -> None:
    cluster = Cluster(*infrastructure(), job(containerOverrides={"command": ["echo", "hi"]}))
    run_to_fixpoint(cluster)
    assert cluster.get("BatchJob", "job")["status"]["status"] == "STARTING"
    assert cluster.created == ["job-a1"]

    started = pod(cluster.get("BatchJob", "job"), "Running")
    cluster.objects[("Pod", "default", "job-a1")] = started
    run_to_fixpoint(cluster)
    assert cluster.get("BatchJob", "job")["status"]["status"] == "RUNNING"

    cluster.objects[("Pod", "default", "job-a1")] = pod(cluster.get("BatchJob", "job"), "Succeeded")
    run_to_fixpoint(cluster)
    status = cluster.get("BatchJob", "job")["status"]
    assert (status["status"], status["container"]["exitCode"], len(status["attempts"])) == ("SUCCEEDED", 0, 1)
    assert [event.reason for event in cluster.events] == ["Runnable", "Starting", "Running", "Succeeded"]
    assert cluster.get("ComputeEnvironment", "ce")["status"]["usedvCpus"] == 0
    assert cluster.get("JobQueue", "q")["status"]["jobCounts"]["SUCCEEDED"] == 1


def test_a_retried_attempt_does_not_show_the_previous_attempts_exit_code() -> None:
    """DescribeJobs ``container`` is the current attempt's: once attempt 2 is under way
    it has no exit code (attempt 1's stays in ``attempts[0]``)."""
    failing = active_job(state="RUNNING", frozen=RETRY_ON_3)
    cluster = Cluster(*infrastructure(), failing, pod(failing, "Failed", exit_code=3))
    run_to_fixpoint(cluster)
    status = cluster.get("BatchJob", "job")["status"]
    assert (status["status"], status["attemptCount"]) == ("STARTING", 2)
    assert status["attempts"][0]["container"]["exitCode"] == 3
    assert status["container"] == {"podName": "job-a2"}
