"""Array children and multi-node nodes, described one by one without an object each.

Why from pods: a child is not an object of its own; its pods (labelled with the job's
uid, ``kubatch.io/array-index`` or ``kubatch.io/node-index``, and the attempt) are
what exists of it. A child's status is its latest pod's phase; a child without a pod
yet is RUNNABLE while its parent runs, or shares its parent's state otherwise. Each
finished pod is one attempt, with its exit code and reason.
"""

from __future__ import annotations

from typing import Any

from kubatch.core.kubetime import epoch_millis, parse_time
from kubatch.core.pods import LABEL_ARRAY_INDEX, LABEL_ATTEMPT, LABEL_JOB_ID, LABEL_NODE_INDEX
from kubatch.service.arns import JOB, Arns
from kubatch.service.context import Context
from kubatch.service.job_refs import JobRef
from kubatch.service.port import Obj
from kubatch.service.shapes import job_detail, job_id, present

POD_STATES = {"Pending": "STARTING", "Running": "RUNNING", "Succeeded": "SUCCEEDED", "Failed": "FAILED"}
SHARED_WITH_PARENT = frozenset({"SUBMITTED", "PENDING", "RUNNABLE", "SUCCEEDED", "FAILED"})
PER_UNIT = ("statusReason", "statusMessage", "attempts", "startedAt", "stoppedAt", "arrayProperties",
            "isCancelled", "isTerminated")
PER_ATTEMPT = ("exitCode", "reason", "podName", "nodeName")


def _labels(pod: Obj) -> dict[str, str]:
    return (pod.get("metadata") or {}).get("labels") or {}


def attempt_number(pod: Obj) -> int:
    return int(_labels(pod).get(LABEL_ATTEMPT) or 0)


def selector(job: Obj, ref: JobRef) -> str:
    """The label selector of the pods of ``ref`` (all the job's pods when ``ref`` names no child)."""
    terms = [f"{LABEL_JOB_ID}={job_id(job)}"]
    if ref.array_index is not None:
        terms.append(f"{LABEL_ARRAY_INDEX}={ref.array_index}")
    if ref.node_index is not None:
        terms.append(f"{LABEL_NODE_INDEX}={ref.node_index}")
    return ",".join(terms)


def _millis(value: str | None) -> int | None:
    moment = parse_time(value)
    return epoch_millis(moment) if moment else None


def _attempt(pod: Obj) -> dict[str, Any]:
    """An AttemptDetail (or the current attempt's) from the pod's first container."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or [{}]
    state = statuses[0].get("state") or {}
    ended = state.get("terminated") or {}
    running = state.get("running") or {}
    container = present({"exitCode": ended.get("exitCode"), "reason": ended.get("reason"),
                         "podName": pod["metadata"]["name"], "nodeName": (pod.get("spec") or {}).get("nodeName")})
    return present({"container": container, "startedAt": _millis(running.get("startedAt") or ended.get("startedAt")),
                    "stoppedAt": _millis(ended.get("finishedAt"))})


def unit_detail(parent: Obj, *, ref: JobRef, pods: list[Obj], arns: Arns) -> dict[str, Any]:
    """The DescribeJobs entry of one child (``ref`` names it) from its parent and its pods."""
    detail = job_detail(parent, arns=arns)
    ordered = sorted(pods, key=attempt_number)
    last = ordered[-1] if ordered else None
    if last is not None:
        status = POD_STATES.get((last.get("status") or {}).get("phase"), "STARTING")
    else:
        status = detail["status"] if detail["status"] in SHARED_WITH_PARENT else "RUNNABLE"
    attempts = [_attempt(pod) for pod in ordered]
    finished = [attempt for attempt, pod in zip(attempts, ordered)
                if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")]
    unit_id = f"{detail['jobId']}:{ref.array_index}" if ref.array_index is not None else \
        f"{detail['jobId']}#{ref.node_index}"
    container = {key: value for key, value in (detail.get("container") or {}).items() if key not in PER_ATTEMPT}
    unit = {key: value for key, value in detail.items() if key not in PER_UNIT}
    unit.update(present({
        "jobArn": arns.build(JOB, unit_id),
        "jobId": unit_id,
        "status": status,
        "attempts": finished,
        "startedAt": attempts[0].get("startedAt") if attempts else None,
        "stoppedAt": attempts[-1].get("stoppedAt") if status in ("SUCCEEDED", "FAILED") and attempts else None,
        "container": {**container, **(attempts[-1]["container"] if attempts else {})} or None,
    }))
    if ref.array_index is not None:
        unit["arrayProperties"] = {"index": ref.array_index}
    else:
        main = (detail.get("nodeProperties") or {}).get("mainNode", 0)
        unit["nodeDetails"] = {"nodeIndex": ref.node_index, "isMainNode": ref.node_index == main}
    return unit


def unit_count(job: Obj, *, nodes: bool) -> int:
    """How many array children (or nodes) the job has."""
    spec, status = job.get("spec") or {}, job.get("status") or {}
    if not nodes:
        return int((spec.get("arrayProperties") or {}).get("size") or 0)
    resolved = status.get("resolvedDefinition") or {}
    overridden = (resolved.get("nodeOverrides") or {}).get("numNodes")
    return int(overridden or (resolved.get("nodeProperties") or {}).get("numNodes") or 0)


async def unit_details(ctx: Context, job: Obj, *, nodes: bool) -> list[dict[str, Any]]:
    """Every child (or node) of the job, from one listing of its pods."""
    label = LABEL_NODE_INDEX if nodes else LABEL_ARRAY_INDEX
    by_index: dict[str, list[Obj]] = {}
    for pod in await ctx.kube.list_pods(label_selector=selector(job, JobRef(id=job_id(job))),
                                        namespace=ctx.namespace):
        by_index.setdefault(_labels(pod).get(label, ""), []).append(pod)
    refs = (JobRef(id=job_id(job), node_index=index) if nodes else JobRef(id=job_id(job), array_index=index)
            for index in range(unit_count(job, nodes=nodes)))
    return [unit_detail(job, ref=ref, pods=by_index.get(str(ref.node_index if nodes else ref.array_index), []),
                        arns=ctx.arns) for ref in refs]
