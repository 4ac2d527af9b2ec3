"""Set the state gauges from the snapshot the planner just used.

Why from the snapshot: counting here, once per cycle, costs one pass over jobs the
loop already holds, and the numbers match what the scheduler decided on.
"""

from __future__ import annotations

from collections import Counter

from kubatch import metrics
from kubatch.core.lifecycle import ACTIVE_STATES, JobState
from kubatch.core.reconcile.podspec import pod_demand
from kubatch.core.reconcile.world import World, spec, status


def export_gauges(world: World) -> None:
    jobs: Counter[tuple[str, str]] = Counter()
    used: Counter[str] = Counter()
    for job in world.jobs:
        state = status(job).get("status") or JobState.SUBMITTED.value
        jobs[(spec(job).get("jobQueue", ""), state)] += 1
        if state in ACTIVE_STATES and status(job).get("computeEnvironment"):
            used[status(job)["computeEnvironment"]] += pod_demand(status(job).get("resolvedDefinition") or {}).vcpus
    for gauge in (metrics.JOBS, metrics.CE_USED_VCPUS, metrics.CE_MAX_VCPUS):
        gauge.clear()  # queues and CEs deleted since the last cycle drop out
    for queue in world.queues:
        for state in JobState:
            metrics.JOBS.labels(queue=queue, state=state.value).set(jobs[(queue, state.value)])
    for name, ce in world.compute_environments.items():
        metrics.CE_USED_VCPUS.labels(compute_environment=name).set(used[name])
        metrics.CE_MAX_VCPUS.labels(compute_environment=name).set(
            (spec(ce).get("computeResources") or {}).get("maxvCpus", 0))
