"""A multi-node parallel job's attempt: main node first, the others once it runs, main's exit ends it.

AWS rules kept here: the group is admitted whole (its demand is every node's vCPUs);
the main node's pod starts first and the other nodes start when it is RUNNING, each
told the main node's address (``AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS``);
when the main node exits the job ends with its result and the other nodes are
stopped; a child node's failure alone ends nothing. A retry restarts the whole group.
A headless Service named after the job gives the main node a stable DNS name.

Why each node's attempt is recorded in the job's status (``status.nodes``) when an
attempt of the group ends: the pods go right after (the workers are stopped, the
main node's pod follows the retention policy), and ``describe-jobs JOB#N`` must still
say how every node ran, as AWS does for a finished job.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from typing import Any

from kubatch.core.actions import Action, CreatePod, CreateService, DeletePod, Step
from kubatch.core.lifecycle import ContainerStarted, JobState, TerminateRequested, Transition, transition
from kubatch.core.multinode import main_node, num_nodes
from kubatch.core.outcome import classify_pod
from kubatch.core.pods import LABEL_JOB_ID, LABEL_NODE_INDEX, ComputePlacement, pod_name
from kubatch.core.reconcile.attempts import (TERMINATE_GRACE_SECONDS, attempt_record, observe_attempt,
                                             started_if_unseen)
from kubatch.core.reconcile.jobstatus import job_patch, transition_event, transition_fields
from kubatch.core.reconcile.podspec import attempt_pod
from kubatch.core.reconcile.settings import Settings
from kubatch.core.reconcile.world import Obj, World, meta, spec, status
from kubatch.kinds import owner_reference

STOPPED_WITH_THE_JOB = "Stopped when the main node ended the job's attempt"
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")


def is_multinode(job: Obj) -> bool:
    return "nodeProperties" in (status(job).get("resolvedDefinition") or {})


def service_name(job: Obj) -> str:
    """The job's name when it is a valid Service name, else a stable hash of its uid."""
    name = meta(job)["name"]
    return name if _DNS_LABEL.match(name) else f"mnp-{hashlib.sha256(meta(job)['uid'].encode()).hexdigest()[:12]}"


def main_service(job: Obj) -> dict[str, Any]:
    """Headless Service resolving to the main node's pod: ``<service>.<namespace>.svc``."""
    resolved = status(job)["resolvedDefinition"]
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": service_name(job), "namespace": meta(job)["namespace"],
                     "labels": {LABEL_JOB_ID: meta(job)["uid"]},
                     "ownerReferences": [owner_reference(job)]},
        "spec": {"clusterIP": "None", "publishNotReadyAddresses": True,
                 "selector": {LABEL_JOB_ID: meta(job)["uid"], LABEL_NODE_INDEX: str(main_node(resolved))}},
    }


def node_pod_name(job: Obj, *, attempt: int, node: int) -> str:
    return pod_name(job_name=meta(job)["name"], attempt=attempt, node_index=node)


def first_pods(job: Obj, placement: ComputePlacement, *, attempt: int) -> tuple[Action, ...]:
    """What admitting the group creates: the Service and the main node's pod."""
    main = main_node(status(job)["resolvedDefinition"])
    return (CreateService(main_service(job)),
            CreatePod(attempt_pod(job, placement, attempt=attempt, node_index=main)))


def plan_group(job: Obj, world: World, *, placement: ComputePlacement, now_ms: int, settings: Settings
               ) -> Step | None:
    """A STARTING or RUNNING multi-node job."""
    resolved = status(job)["resolvedDefinition"]
    state = JobState(status(job)["status"])
    attempt = int(status(job).get("attemptCount") or 1)
    main = main_node(resolved)
    pods = world.pods_by_job.get(meta(job)["uid"], {})
    names = [node_pod_name(job, attempt=attempt, node=i) for i in range(num_nodes(resolved))]
    main_pod = pods.get(names[main])
    others = [DeletePod(meta(job)["namespace"], name, grace_seconds=TERMINATE_GRACE_SECONDS)
              for index, name in enumerate(names) if index != main and name in pods]

    if spec(job).get("terminateRequest"):
        ended = transition(state=state, event=TerminateRequested(reason=spec(job)["terminateRequest"].get("reason")))
        record = attempt_record(main_pod, pod_name_if_gone=names[main], outcome=None, reason=ended.status_message,
                                started_at=status(job).get("startedAt"), now_ms=now_ms)
        main_delete = [DeletePod(meta(job)["namespace"], names[main], grace_seconds=TERMINATE_GRACE_SECONDS)] \
            if main_pod else []
        nodes = node_records(job, names=names, pods=pods, main_record=record, ended=ended,
                             stopped_reason=ended.status_message, now_ms=now_ms)
        return Step((*main_delete, *others, _end_patch(job, ended, record, nodes=nodes, now_ms=now_ms),
                     transition_event(job, ended)))

    seen = observe_attempt(pod=main_pod, pod_name_if_gone=names[main], state=state, resolved=resolved,
                           attempts_made=attempt, started_at=status(job).get("startedAt"), world=world,
                           now_ms=now_ms, settings=settings)
    if seen.started_at is not None:
        address = (main_pod.get("status") or {}).get("podIP")
        if not address:
            return None  # the main node runs but has no address yet: children wait a cycle
        children = [CreatePod(attempt_pod(job, placement, attempt=attempt, node_index=i, main_node_ip=address))
                    for i in range(len(names)) if i != main]
        started = transition(state=state, event=ContainerStarted())
        fields = transition_fields(started, now_ms=seen.started_at) | {
            "startedAt": status(job).get("startedAt") or seen.started_at,
            "nodeProperties": {"numNodes": len(names), "mainNode": main, "mainNodeAddress": address}}
        return Step((*children, job_patch(job, fields), transition_event(job, started)))
    if seen.ended is None:
        if seen.pending_message and seen.pending_message != status(job).get("statusMessage"):
            return Step((job_patch(job, {"statusMessage": seen.pending_message}),))
        return None
    main_delete = [DeletePod(meta(job)["namespace"], names[main])] if seen.delete_pod else []
    nodes = node_records(job, names=names, pods=pods, main_record=seen.record, ended=seen.ended,
                         stopped_reason=STOPPED_WITH_THE_JOB, now_ms=now_ms)
    return Step((*others, *main_delete, _end_patch(job, seen.ended, seen.record, nodes=nodes, now_ms=now_ms),
                 transition_event(job, seen.ended)))


def node_records(job: Obj, *, names: list[str], pods: dict[str, Obj], main_record: dict[str, Any],
                 ended: Transition, stopped_reason: str | None, now_ms: int) -> list[dict[str, Any]]:
    """``status.nodes`` once this attempt of the group has ended: each node's attempts so far and its status.

    The main node's attempt is the job's; a worker that ended on its own keeps its exit
    code and reason, one still running is stopped with the job (its status is the
    job's); a node whose pod was never created adds no attempt.
    """
    earlier = {int(entry["nodeIndex"]): entry for entry in status(job).get("nodes") or []}
    main = main_node(status(job)["resolvedDefinition"])
    records = []
    for index, name in enumerate(names):
        entry = earlier.get(index) or {"nodeIndex": index, "attempts": []}
        pod = pods.get(name)
        if index == main:
            attempt, node_status = main_record, ended.state.value
        elif pod is None:
            records.append({**entry, "status": ended.state.value})
            continue
        else:
            attempt, node_status = _worker_attempt(pod, name=name, job_status=ended.state.value,
                                                   stopped_reason=stopped_reason, now_ms=now_ms)
        records.append({"nodeIndex": index, "status": node_status, "attempts": [*entry["attempts"], attempt]})
    return records


def _worker_attempt(pod: Obj, *, name: str, job_status: str, stopped_reason: str | None, now_ms: int
                    ) -> tuple[dict[str, Any], str]:
    """A worker's attempt record and status: its own end if it has one, else stopped with the job."""
    outcome = classify_pod(pod=pod, now=datetime.fromtimestamp(now_ms / 1000, tz=timezone.utc))
    if outcome is not None and not outcome.pod_active:
        record = attempt_record(pod, pod_name_if_gone=name, outcome=outcome, reason=outcome.status_message,
                                started_at=None, now_ms=now_ms)
        return record, JobState.SUCCEEDED.value if outcome.succeeded else JobState.FAILED.value
    record = attempt_record(pod, pod_name_if_gone=name, outcome=None, reason=stopped_reason, started_at=None,
                            now_ms=now_ms)
    return record, job_status


def _end_patch(job: Obj, ended, record: dict[str, Any], *, nodes: list[dict[str, Any]], now_ms: int):
    fields = transition_fields(ended, now_ms=now_ms) | {
        "attempts": [*(status(job).get("attempts") or []), record], "container": record["container"],
        "nodes": nodes,
        **started_if_unseen(job, record)}
    if ended.state is JobState.RUNNABLE:
        fields["computeEnvironment"] = None
    return job_patch(job, fields)
