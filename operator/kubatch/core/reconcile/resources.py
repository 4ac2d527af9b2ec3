"""Status of compute environments and queues: VALID or why not, usage, job counts.

Why computed each cycle: these are views of the jobs (vCPUs in use, jobs per state),
so they are derived from the same snapshot the scheduler used and written only when
they change.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from kubatch.core.actions import PatchStatus, Step
from kubatch.core.lifecycle import JobState
from kubatch.core.reconcile.admission import Holding
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


def plan_queue_status(world: World) -> list[Step]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for job in world.jobs:
        counts[spec(job).get("jobQueue", "")][status(job).get("status") or JobState.SUBMITTED.value] += 1
    steps = []
    for name, queue in world.queues.items():
        missing = [entry["computeEnvironment"] for entry in spec(queue).get("computeEnvironmentOrder") or []
                   if entry["computeEnvironment"] not in world.compute_environments]
        fields = {
            "status": "INVALID" if missing else "VALID",
            "statusReason": f"ComputeEnvironment {', '.join(missing)} does not exist" if missing
            else "JobQueue Healthy",
            "jobCounts": {state.value: counts[name][state.value] for state in JobState},
            "observedGeneration": meta(queue).get("generation"),
        }
        if _changed(queue, fields):
            steps.append(Step((PatchStatus("JobQueue", "", name, fields),)))
    return steps
