"""Status of compute environments and queues: VALID or why not, usage, job counts, front of queue.

Why computed each cycle: these are views of the jobs (vCPUs in use, jobs per state),
so they are derived from the same snapshot the scheduler used and written only when
they change. A queue's status also answers AWS's GetJobQueueSnapshot: the units at its
front in the order the scheduler will dispatch them (each with the time it reached
its position) and the vCPUs its jobs use, in total and per fair-share identifier. Their
``lastUpdatedAt`` moves only when their content does, so an idle queue is not rewritten.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from kubatch.core.actions import PatchStatus, Step
from kubatch.core.lifecycle import JobState
from kubatch.core.reconcile.admission import Holding
from kubatch.core.reconcile.shareusage import ShareUsage
from kubatch.core.reconcile.world import Obj, World, meta, spec, status


def _changed(obj: Obj, fields: dict[str, Any]) -> bool:
    current = status(obj)
    return any(current.get(key) != value for key, value in fields.items())


def plan_compute_environment_status(world: World, holdings: list[Holding]) -> list[Step]:
    used: dict[str, float] = defaultdict(float)
    running: Counter[str] = Counter()
    for holding in holdings:
        used[holding.compute_environment] += holding.demand.vcpus
        running[holding.compute_environment] += 1
    steps = []
    for name, ce in world.compute_environments.items():
        resources = spec(ce).get("computeResources") or {}
        in_use = round(used[name])
        fields = {
            "status": "VALID",
            "statusReason": "ComputeEnvironment Healthy",
            "usedvCpus": in_use,
            "runningJobs": running[name],
            "desiredvCpus": min(max(in_use, int(resources.get("minvCpus", 0))), int(resources.get("maxvCpus", 0))),
            "observedGeneration": meta(ce).get("generation"),
        }
        if _changed(ce, fields):
            steps.append(Step((PatchStatus("ComputeEnvironment", "", name, fields),)))
    return steps


TOP_SHARES = 20
"""Fair-share identifiers listed in a queue's utilization, most vCPUs first."""


def _stamped(previous: dict[str, Any] | None, content: dict[str, Any], *, now_ms: int) -> dict[str, Any]:
    """``content`` with ``lastUpdatedAt``: the previous stamp while nothing else changed, else now."""
    if previous is not None and {k: v for k, v in previous.items() if k != "lastUpdatedAt"} == content:
        return previous
    return {**content, "lastUpdatedAt": now_ms}


def _front(queue: Obj, unit_ids: Sequence[str], *, now_ms: int) -> dict[str, Any]:
    before = (status(queue).get("frontOfQueue") or {}).get("jobs") or []
    reached = {(entry["jobId"], position): entry["earliestTimeAtPosition"] for position, entry in enumerate(before)}
    jobs = [{"jobId": unit_id, "earliestTimeAtPosition": reached.get((unit_id, position), now_ms)}
            for position, unit_id in enumerate(unit_ids)]
    return _stamped(status(queue).get("frontOfQueue"), {"jobs": jobs}, now_ms=now_ms)


def _vcpus(amount: float) -> list[dict[str, Any]]:
    return [{"capacityUnit": "VCPU", "quantity": round(amount, 3)}]


def _utilization(queue: Obj, holdings: list[Holding], *, now_ms: int) -> dict[str, Any]:
    by_share: dict[str, float] = defaultdict(float)
    for holding in holdings:
        by_share[spec(holding.job).get("shareIdentifier") or ""] += holding.demand.vcpus
    content: dict[str, Any] = {"totalCapacityUsage": _vcpus(sum(by_share.values()))}
    if spec(queue).get("schedulingPolicy"):
        top = sorted(((share, used) for share, used in by_share.items() if share), key=lambda item: (-item[1], item[0]))
        content["fairshareUtilization"] = {
            "activeShareCount": len(top),
            "topCapacityUtilization": [{"shareIdentifier": share, "capacityUsage": _vcpus(used)}
                                       for share, used in top[:TOP_SHARES]],
        }
    return _stamped(status(queue).get("queueUtilization"), content, now_ms=now_ms)


def plan_queue_status(world: World, *, holdings: list[Holding], front_of_queue: Mapping[str, Sequence[str]],
                      share_usage: ShareUsage = ShareUsage(by_queue={}), now_ms: int) -> list[Step]:
    counts = world.job_counts()
    held: dict[str, list[Holding]] = defaultdict(list)
    for holding in holdings:
        held[spec(holding.job).get("jobQueue", "")].append(holding)
    steps = []
    for name, queue in world.queues.items():
        missing = [entry["computeEnvironment"] for entry in spec(queue).get("computeEnvironmentOrder") or []
                   if entry["computeEnvironment"] not in world.compute_environments]
        fields = {
            "status": "INVALID" if missing else "VALID",
            "statusReason": f"ComputeEnvironment {', '.join(missing)} does not exist" if missing
            else "JobQueue Healthy",
            "jobCounts": {state.value: counts[(name, state.value)] for state in JobState},
            "frontOfQueue": _front(queue, front_of_queue.get(name, ()), now_ms=now_ms),
            "queueUtilization": _utilization(queue, held[name], now_ms=now_ms),
            "observedGeneration": meta(queue).get("generation"),
            **share_usage.status_fields(queue, now_ms=now_ms),
        }
        if _changed(queue, fields):
            steps.append(Step((PatchStatus("JobQueue", "", name, fields),)))
    return steps
