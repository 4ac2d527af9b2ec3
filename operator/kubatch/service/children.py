"""Array children and multi-node nodes, described one by one without an object each.

Array children come from their parent's record (``kubatch.service.array_record``): the
status, reason, attempts and exit code the operator wrote there, in the DescribeJobs
shape AWS prints for a child (``jobId`` ``<parentId>:<index>``, the parent's
``jobName``, ``arrayProperties.index``). ``describe-jobs`` also reads the child's pods,
while they are kept, for what the record does not hold: the node, and the start and
stop times of ended attempts. A listing never reads pods: it scans index numbers
against the record and builds entries only for the page it returns, so listing a
10,000-child array one page at a time stays cheap.

Nodes of multi-node jobs come from the job's record of each node (``status.nodes``,
written by the operator when an attempt of the group ends, before its pods are
deleted) and, for the attempt under way, from its pods (labelled with the job's uid,
``kubatch.io/node-index`` and the attempt): a running node's status is its pod's
phase, an ended one's the record's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubatch.core.definition import InvalidJobError
from kubatch.core.kubetime import epoch_millis, parse_time
from kubatch.core.multinode import node_container
from kubatch.core.pods import LABEL_ARRAY_INDEX, LABEL_ATTEMPT, LABEL_JOB_ID, LABEL_NODE_INDEX
from kubatch.service.arns import JOB, Arns
from kubatch.service.array_record import ArrayRecord, Child, array_size, is_array, needs_other_jobs
from kubatch.service.context import Context
from kubatch.service.job_refs import JobRef
from kubatch.service.paging import page
from kubatch.service.port import Obj
from kubatch.service.shapes import job_detail, job_id, present, status_reason_fields

POD_STATES = {"Pending": "STARTING", "Running": "RUNNING", "Succeeded": "SUCCEEDED", "Failed": "FAILED"}
ENDED = frozenset({"SUCCEEDED", "FAILED"})
SHARED_WITH_PARENT = frozenset({"SUBMITTED", "PENDING", "RUNNABLE", "SUCCEEDED", "FAILED"})
PER_UNIT = ("statusReason", "statusMessage", "attempts", "startedAt", "stoppedAt", "arrayProperties",
            "isCancelled", "isTerminated", "computeEnvironment")
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


def _per_unit(detail: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parent's DescribeJobs entry without what each child or node has of its own, and its container so."""
    container = {key: value for key, value in (detail.get("container") or {}).items() if key not in PER_ATTEMPT}
    return {key: value for key, value in detail.items() if key not in PER_UNIT}, container


# ---------------------------------------------------------------------------- array children


def _merged(known: dict[str, Any], pod: Obj | None) -> dict[str, Any]:
    """An AttemptDetail from the record, completed by its pod where the record says nothing."""
    if pod is None:
        return known
    seen = _attempt(pod)
    return {**seen, **present(known),
            "container": {**seen.get("container", {}), **present(known.get("container") or {})}}


def child_detail(parent: dict[str, Any], record: ArrayRecord, child: Child, *, pods: Sequence[Obj] = (),
                 arns: Arns) -> dict[str, Any]:
    """The DescribeJobs entry of one child. ``parent``: the parent's entry; ``pods``: the child's pods, if read."""
    base, container = _per_unit(parent)
    by_attempt = {attempt_number(pod): pod for pod in pods}
    attempts = [_merged(attempt, by_attempt.get(number)) for number, attempt in enumerate(child.attempts, start=1)]
    if child.running:
        current = {"podName": record.pod_name(child.index, child.made)}
        pod = by_attempt.get(child.made)
        if pod is not None:
            current["nodeName"] = (pod.get("spec") or {}).get("nodeName")
    else:
        current = attempts[-1]["container"] if attempts else {}
    started = child.started_at or next((a["startedAt"] for a in attempts if a.get("startedAt")), None)
    stopped = child.stopped_at or (attempts[-1].get("stoppedAt") if attempts else None)
    unit_id = f"{parent['jobId']}:{child.index}"
    return present({**base, **{
        "jobArn": arns.build(JOB, unit_id),
        "jobId": unit_id,
        "status": child.status,
        **status_reason_fields(state=child.status, code=child.reason, message=child.message, attempts=attempts),
        "statusMessage": child.message,
        "attempts": attempts,
        "startedAt": started,
        "stoppedAt": stopped if child.status in ("SUCCEEDED", "FAILED") else None,
        "container": present({**container, **current}) or None,
        "arrayProperties": {"index": child.index},
        "computeEnvironment": child.compute_environment,
        "isCancelled": child.reason == "Cancelled",
        "isTerminated": child.reason == "Terminated",
    }})


def has_child(job: Obj, index: int) -> bool:
    return is_array(job) and 0 <= index < array_size(job)


async def array_record(ctx: Context, parent: Obj, *, jobs: list[Obj] | None = None) -> ArrayRecord:
    """The parent's record; ``jobs`` (the namespace's) are listed here if the record needs them and none are given."""
    if jobs is None and needs_other_jobs(parent):
        jobs = await ctx.kube.list("BatchJob", namespace=ctx.namespace)
    return ArrayRecord(parent, jobs=jobs or [])


async def describe_child(ctx: Context, parent: Obj, index: int, *, jobs: list[Obj] | None = None) -> dict[str, Any]:
    """The DescribeJobs entry of child ``index``, with what its pods add."""
    record = await array_record(ctx, parent, jobs=jobs)
    child = record.child(index)
    pods: list[Obj] = []
    if child.made:
        ref = JobRef(id=job_id(parent), array_index=index)
        pods = await ctx.kube.list_pods(label_selector=selector(parent, ref), namespace=ctx.namespace)
    return child_detail(job_detail(parent, arns=ctx.arns), record, child, pods=pods, arns=ctx.arns)


async def page_children(ctx: Context, parent: Obj, *, request: Mapping[str, Any], status: str | None,
                        keep: Callable[[dict[str, Any]], bool], limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """One ListJobs page of the children in ``status`` (all when None) that ``keep`` keeps, and the next token.

    The filters ``keep`` applies (name, definition, creation time) are the same for every
    child, so they are tried once; the page is chosen among index numbers and only its
    children become entries.
    """
    record = await array_record(ctx, parent)
    detail = job_detail(parent, arns=ctx.arns)
    created, uid = detail.get("createdAt") or 0, detail["jobId"]
    indexes = record.indexes(status) if keep(detail) else []
    chosen, token = page(indexes, request=request, key=lambda index: [-created, index, f"{uid}:{index}"], limit=limit)
    return [child_detail(detail, record, record.child(index), arns=ctx.arns) for index in chosen], token


# ---------------------------------------------------------------------------- multi-node nodes


def _node_record(job: Obj, node: int) -> dict[str, Any]:
    """What the operator recorded of ``node`` when the group's attempts ended (empty before any ended)."""
    for entry in (job.get("status") or {}).get("nodes") or []:
        if int(entry.get("nodeIndex", -1)) == node:
            return entry
    return {}


def _phase(pod: Obj) -> str | None:
    return (pod.get("status") or {}).get("phase")


def node_detail(job: Obj, *, node: int, pods: list[Obj], arns: Arns) -> dict[str, Any]:
    """The DescribeJobs entry of one node of a multi-node job.

    Attempts of the group that ended come from the job's record (``status.nodes``), so
    they outlive the pods; a pod the record does not hold yet is the running attempt's.
    """
    detail = job_detail(job, arns=arns)
    record = _node_record(job, node)
    recorded = list(record.get("attempts") or [])
    known = {(attempt.get("container") or {}).get("podName") for attempt in recorded}
    live = [pod for pod in sorted(pods, key=attempt_number) if pod["metadata"]["name"] not in known]
    attempts = recorded + [_attempt(pod) for pod in live if _phase(pod) in ("Succeeded", "Failed")]
    current = live[-1] if live else None
    if detail["status"] in ENDED and record.get("status"):
        status = record["status"]
    elif current is not None:
        status = POD_STATES.get(_phase(current) or "", "STARTING")
    else:
        status = detail["status"] if detail["status"] in SHARED_WITH_PARENT else "RUNNABLE"
    latest = _attempt(current) if current is not None else (attempts[-1] if attempts else {})
    started = next((attempt["startedAt"] for attempt in attempts if attempt.get("startedAt")),
                   latest.get("startedAt"))
    ended = status in ENDED and attempts
    unit_id = f"{detail['jobId']}#{node}"
    base, _ = _per_unit(detail)
    container = _node_container(job, node)
    main = (detail.get("nodeProperties") or {}).get("mainNode", 0)
    return present({**base, **{
        "jobArn": arns.build(JOB, unit_id),
        "jobId": unit_id,
        "status": status,
        "statusReason": attempts[-1].get("statusReason") if ended else None,
        "attempts": attempts,
        "startedAt": started,
        "stoppedAt": attempts[-1].get("stoppedAt") if ended else None,
        "container": {**container, **(latest.get("container") or {})} or None,
        "nodeDetails": {"nodeIndex": node, "isMainNode": node == main},
    }})


def _node_container(job: Obj, node: int) -> dict[str, Any]:
    """The container node ``node`` runs (its range's, with the job's overrides), as AWS prints it per node."""
    resolved = (job.get("status") or {}).get("resolvedDefinition") or {}
    try:
        return node_container(resolved, node)
    except (InvalidJobError, KeyError):
        return {}


def node_count(job: Obj) -> int:
    """How many nodes the multi-node job has."""
    resolved = (job.get("status") or {}).get("resolvedDefinition") or {}
    overridden = (resolved.get("nodeOverrides") or {}).get("numNodes")
    return int(overridden or (resolved.get("nodeProperties") or {}).get("numNodes") or 0)


async def node_details(ctx: Context, job: Obj) -> list[dict[str, Any]]:
    """Every node of the multi-node job, from one listing of its pods."""
    by_node: dict[str, list[Obj]] = {}
    for pod in await ctx.kube.list_pods(label_selector=selector(job, JobRef(id=job_id(job))),
                                        namespace=ctx.namespace):
        by_node.setdefault(_labels(pod).get(LABEL_NODE_INDEX, ""), []).append(pod)
    return [node_detail(job, node=node, pods=by_node.get(str(node), []), arns=ctx.arns)
            for node in range(node_count(job))]
