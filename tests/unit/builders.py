"""Literal API objects for the pod-builder and planner tests, so each test reads as a spec.

Every builder returns the plain dict the operator's cache holds (``kind``, ``metadata``,
``spec``, ``status``) with defaults that make a healthy setup: namespace ``default``,
queue ``q`` on compute environment ``ce`` (EC2, 16 vCPUs), definition ``def`` running
busybox with 1 vCPU and 2048 MiB. ``world(...)`` indexes any mix of them the way the
controller's store does. The step helpers at the end pick one object's actions out of
``plan()``'s answer.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from kubatch.core.actions import Action, Emit, PatchStatus, Step
from kubatch.core.definition import resolve_job
from kubatch.core.pods import LABEL_ATTEMPT, LABEL_CE, LABEL_JOB_ID, LABEL_JOB_NAME, pod_name
from kubatch.core.reconcile import World, plan
from kubatch.core.reconcile.finished import FinishedJob, FinishedJobs, is_finished

Obj = dict[str, Any]

NOW_MS = 1_700_000_000_000
"""The planner's clock in every test: 2023-11-14T22:13:20Z."""
NAMESPACE = "default"
GROUP_VERSION = "kubatch.io/v1alpha1"


def iso(ms: int) -> str:
    """The API server's RFC 3339 form of an epoch-milliseconds instant (whole seconds)."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _without_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


# -- definitions ----------------------------------------------------------------------------


def container(**fields: Any) -> dict[str, Any]:
    """``containerProperties``; pass ``vcpus=None`` / ``memory=None`` to leave them out."""
    return _without_none({"image": "busybox:1.36", "vcpus": 1, "memory": 2048} | fields)


def definition_spec(**fields: Any) -> dict[str, Any]:
    return _without_none({"type": "container", "containerProperties": container()} | fields)


def sized(vcpus: float, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A definition spec (``base`` or the default) whose container asks for ``vcpus``."""
    spec = copy.deepcopy(base) if base is not None else definition_spec()
    spec["containerProperties"] = container(vcpus=None, resourceRequirements=[{"type": "VCPU", "value": str(vcpus)}])
    return spec


def definition(
    name: str = "def",
    *,
    namespace: str = NAMESPACE,
    generation: int = 1,
    revision: int | None = 1,
    older: dict[int, dict[str, Any]] | None = None,
    state: str = "ACTIVE",
    **spec_fields: Any,
) -> Obj:
    """A JobDefinition whose current spec is revision ``revision`` (None: not numbered yet).

    ``older`` maps earlier revision numbers to the specs kept in ``status.revisions``.
    """
    spec = definition_spec(**spec_fields)
    obj: Obj = {
        "apiVersion": GROUP_VERSION,
        "kind": "JobDefinition",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-jd-{name}", "generation": generation},
        "spec": spec,
    }
    if revision is not None:
        kept = [{"revision": number, "spec": old} for number, old in sorted((older or {}).items())]
        entries = [*kept, {"revision": revision, "spec": copy.deepcopy(spec)}]
        obj["status"] = {
            "revision": revision,
            "status": state,
            "observedGeneration": generation,
            "revisions": [{**entry, "status": state} if state != "ACTIVE" else entry for entry in entries],
        }
    return obj


# -- cluster-scoped objects ----------------------------------------------------------------


def compute_environment(
    name: str = "ce",
    *,
    type: str = "EC2",
    max_vcpus: int = 16,
    min_vcpus: int = 0,
    state: str = "ENABLED",
    node_selector: dict[str, str] | None = None,
    tolerations: list[dict[str, Any]] | None = None,
    allow_privileged: bool = False,
    allow_host_path: bool = False,
    status: dict[str, Any] | None = None,
) -> Obj:
    resources = _without_none({
        "type": type, "minvCpus": min_vcpus, "maxvCpus": max_vcpus,
        "nodeSelector": node_selector, "tolerations": tolerations,
    })
    obj: Obj = {
        "apiVersion": GROUP_VERSION,
        "kind": "ComputeEnvironment",
        "metadata": {"name": name, "uid": f"uid-ce-{name}", "generation": 1},
        "spec": {"type": "MANAGED", "state": state, "computeResources": resources,
                 "allowPrivileged": allow_privileged, "allowHostPath": allow_host_path},
    }
    if status is not None:
        obj["status"] = status
    return obj


def queue(
    name: str = "q",
    *compute_environments: str,
    priority: int = 1,
    state: str = "ENABLED",
    namespace_selector: dict[str, Any] | None = None,
    time_limit_actions: list[dict[str, Any]] | None = None,
    scheduling_policy: str | None = None,
    status: dict[str, Any] | None = None,
) -> Obj:
    """A JobQueue over ``compute_environments`` in that order (default: just ``ce``)."""
    order = [{"order": index + 1, "computeEnvironment": ce}
             for index, ce in enumerate(compute_environments or ("ce",))]
    obj: Obj = {
        "apiVersion": GROUP_VERSION,
        "kind": "JobQueue",
        "metadata": {"name": name, "uid": f"uid-jq-{name}", "generation": 1},
        "spec": _without_none({
            "priority": priority, "state": state, "computeEnvironmentOrder": order,
            "namespaceSelector": namespace_selector, "jobStateTimeLimitActions": time_limit_actions,
            "schedulingPolicy": scheduling_policy,
        }),
    }
    if status is not None:
        obj["status"] = status
    return obj


def scheduling_policy(name: str = "fair", *, decay_seconds: int = 600, weights: dict[str, float] | None = None) -> Obj:
    """A fair-share SchedulingPolicy."""
    distribution = [{"shareIdentifier": share, "weightFactor": weight} for share, weight in (weights or {}).items()]
    return {"apiVersion": GROUP_VERSION, "kind": "SchedulingPolicy",
            "metadata": {"name": name, "uid": f"uid-sp-{name}", "generation": 1},
            "spec": {"fairsharePolicy": {"shareDecaySeconds": decay_seconds, "shareDistribution": distribution}}}


def namespace(name: str, **labels: str) -> Obj:
    return {"kind": "Namespace", "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name, **labels}}}


def node(name: str = "node-1", *, ready: bool = True, taints: list[dict[str, Any]] | None = None) -> Obj:
    return {
        "kind": "Node",
        "metadata": {"name": name},
        "spec": {"taints": taints or []},
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                   "lastTransitionTime": iso(NOW_MS - 3_600_000)}]},
    }


# -- jobs -----------------------------------------------------------------------------------


def job(
    name: str = "job",
    *,
    namespace: str = NAMESPACE,
    definition: str = "def",
    queue: str = "q",
    created_ms: int = NOW_MS - 60_000,
    status: dict[str, Any] | None = None,
    **spec_fields: Any,
) -> Obj:
    """A BatchJob as submitted (no status unless given)."""
    obj: Obj = {
        "apiVersion": GROUP_VERSION,
        "kind": "BatchJob",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{namespace}-{name}", "generation": 1,
                     "creationTimestamp": iso(created_ms)},
        "spec": {"jobDefinition": definition, "jobQueue": queue, **spec_fields},
    }
    if status is not None:
        obj["status"] = status
    return obj


def _frozen(frozen: dict[str, Any] | None, job_spec: dict[str, Any]) -> dict[str, Any]:
    return resolve_job(job_spec=job_spec, definition_spec=frozen or definition_spec(), revision=1)


def runnable_job(
    name: str = "job",
    *,
    frozen: dict[str, Any] | None = None,
    runnable_ms: int = NOW_MS - 30_000,
    attempt_count: int = 0,
    attempts: list[dict[str, Any]] | None = None,
    status_message: str = "Waiting to be placed on a compute environment",
    status_reason: str | None = None,
    **spec_fields: Any,
) -> Obj:
    """A job the planner already accepted: RUNNABLE with the definition spec ``frozen`` in."""
    built = job(name, **spec_fields)
    built["status"] = {
        "jobId": built["metadata"]["uid"], "jobQueue": built["spec"]["jobQueue"], "status": "RUNNABLE",
        "statusReason": status_reason, "statusMessage": status_message,
        "createdAt": NOW_MS - 60_000, "runnableAt": runnable_ms,
        "attemptCount": attempt_count, "attempts": list(attempts or []),
        "resolvedDefinition": _frozen(frozen, built["spec"]),
    }
    return built


def active_job(
    name: str = "job",
    state: str = "STARTING",
    *,
    ce: str = "ce",
    attempt: int = 1,
    frozen: dict[str, Any] | None = None,
    started_ms: int | None = None,
    status_message: str | None = None,
    **spec_fields: Any,
) -> Obj:
    """A STARTING or RUNNING job whose ``attempt``-th pod was created on ``ce``."""
    built = runnable_job(name, frozen=frozen, attempt_count=attempt, **spec_fields)
    built["status"] |= {
        "status": state, "statusMessage": status_message, "computeEnvironment": ce,
        "container": {"podName": pod_name(job_name=name, attempt=attempt)},
    }
    if state == "RUNNING":
        built["status"]["startedAt"] = started_ms if started_ms is not None else NOW_MS - 10_000
    return built


def finished_job(name: str = "job", state: str = "SUCCEEDED", **spec_fields: Any) -> Obj:
    built = active_job(name, "RUNNING", **spec_fields)
    built["status"] |= {"status": state, "stoppedAt": NOW_MS - 1_000, "computeEnvironment": "ce"}
    return built


# -- pods -----------------------------------------------------------------------------------


def pod(
    owner: Obj,
    phase: str = "Pending",
    *,
    attempt: int | None = None,
    exit_code: int | None = None,
    oom: bool = False,
    started_ms: int | None = None,
    finished_ms: int | None = None,
    node_name: str | None = "node-1",
    unschedulable: bool = False,
    waiting: str | None = None,
    ce: str | None = None,
) -> Obj:
    """The pod of ``owner``'s attempt (default: its current one) in ``phase``.

    Running pods have a started main container; Succeeded/Failed ones a terminated one
    (exit 0 / ``exit_code``, OOMKilled if ``oom``); ``unschedulable`` adds the
    scheduler's PodScheduled=False condition; ``waiting`` a container waiting reason.
    """
    metadata = owner["metadata"]
    number = attempt if attempt is not None else int((owner.get("status") or {}).get("attemptCount") or 1)
    started = started_ms if started_ms is not None else NOW_MS - 20_000
    finished = finished_ms if finished_ms is not None else NOW_MS - 5_000
    status: dict[str, Any] = {"phase": phase, "startTime": iso(NOW_MS - 25_000), "conditions": []}
    if unschedulable:
        status["conditions"].append({"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                     "message": "0/3 nodes are available: 3 Insufficient cpu.",
                                     "lastTransitionTime": iso(NOW_MS - 300_000)})
        node_name = None
    if phase == "Running":
        status["containerStatuses"] = [{"name": "main", "state": {"running": {"startedAt": iso(started)}}}]
    elif phase in ("Succeeded", "Failed"):
        code = 0 if phase == "Succeeded" else (exit_code if exit_code is not None else 1)
        status["containerStatuses"] = [{"name": "main", "state": {"terminated": {
            "exitCode": code, "reason": "OOMKilled" if oom else ("Completed" if code == 0 else "Error"),
            "startedAt": iso(started), "finishedAt": iso(finished)}}}]
    elif waiting:
        status["containerStatuses"] = [{"name": "main", "state": {"waiting": {"reason": waiting}}}]
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": "busybox:1.36"}]}
    if node_name:
        spec["nodeName"] = node_name
    return {
        "kind": "Pod",
        "metadata": {
            "name": pod_name(job_name=metadata["name"], attempt=number),
            "namespace": metadata["namespace"],
            "labels": {LABEL_JOB_NAME: metadata["name"], LABEL_JOB_ID: metadata["uid"],
                       LABEL_CE: ce or (owner.get("status") or {}).get("computeEnvironment") or "ce",
                       LABEL_ATTEMPT: str(number)},
            "ownerReferences": [{"apiVersion": GROUP_VERSION, "kind": "BatchJob", "name": metadata["name"],
                                 "uid": metadata["uid"], "controller": True}],
        },
        "spec": spec,
        "status": status,
    }


# -- the world ------------------------------------------------------------------------------


def healthy() -> list[Obj]:
    """The default setup: definition ``def``, queue ``q`` on CE ``ce``, a ready ``node-1``."""
    return [definition(), queue(), compute_environment(), node()]


def world(*objects: Obj) -> World:
    """Index objects (any kind, pods included) as the controller's store does: finished jobs as their
    compact records."""
    jobs: list[Obj] = []
    finished = FinishedJobs()
    pods: dict[str, dict[str, Obj]] = defaultdict(dict)
    definitions: dict[tuple[str, str], Obj] = {}
    by_kind: dict[str, dict[str, Obj]] = defaultdict(dict)
    for obj in objects:
        kind, metadata = obj["kind"], obj["metadata"]
        if kind == "BatchJob" and is_finished(obj):
            finished.put(FinishedJob.of(obj))
        elif kind == "BatchJob":
            jobs.append(obj)
        elif kind == "Pod":
            pods[metadata["ownerReferences"][0]["uid"]][metadata["name"]] = obj
        elif kind == "JobDefinition":
            definitions[(metadata["namespace"], metadata["name"])] = obj
        else:
            by_kind[kind][metadata["name"]] = obj
    return World(
        jobs=jobs, finished=finished, pods_by_job=dict(pods), definitions=definitions,
        queues=by_kind["JobQueue"], compute_environments=by_kind["ComputeEnvironment"],
        scheduling_policies=by_kind["SchedulingPolicy"], nodes=by_kind["Node"], namespaces=by_kind["Namespace"],
    )


# -- reading plan()'s answer ------------------------------------------------------------------


def plan_of(*objects: Obj, now_ms: int = NOW_MS) -> list[Step]:
    """``plan()`` over a world of ``objects``, at ``now_ms``."""
    return plan(world(*objects), now_ms=now_ms)


def _touches(action: Action, kind: str, name: str) -> bool:
    if isinstance(action, (PatchStatus, Emit)):
        return action.kind == kind and action.name == name
    manifest_owner = getattr(action, "manifest", {}).get("metadata", {}).get("ownerReferences") or [{}]
    return kind == "BatchJob" and manifest_owner[0].get("name") == name


def steps_for(steps: Iterable[Step], name: str, kind: str = "BatchJob") -> list[Step]:
    """The steps with an action about object ``name`` of ``kind``."""
    return [step for step in steps if any(_touches(action, kind, name) for action in step.actions)]


def only_step(steps: Iterable[Step], name: str, kind: str = "BatchJob") -> Step:
    found = steps_for(steps, name, kind)
    assert len(found) == 1, f"expected one step for {kind} {name}, got {found}"
    return found[0]


def of_type(step: Step, action_type: type) -> list[Any]:
    return [action for action in step.actions if isinstance(action, action_type)]


def patched(step: Step) -> dict[str, Any]:
    """The status fields a step writes, its patches merged in order (top level)."""
    fields: dict[str, Any] = {}
    for action in of_type(step, PatchStatus):
        fields |= action.patch
    return fields
