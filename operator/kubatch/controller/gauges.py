"""Set the state gauges from the snapshot the planner just used.

Why from the snapshot: counting here, once per cycle, costs one pass over the live jobs
the loop already holds (finished ones are counted as the store keeps them); CE usage is
the planner's own count, as written to the CE's status.
"""

from __future__ import annotations

from kubatch import metrics
from kubatch.core.lifecycle import JobState
from kubatch.core.reconcile.world import World, spec, status


def export_gauges(world: World) -> None:
    jobs = world.job_counts()
    for gauge in (metrics.JOBS, metrics.CE_USED_VCPUS, metrics.CE_MAX_VCPUS):
        gauge.clear()  # queues and CEs deleted since the last cycle drop out
    for queue in world.queues:
        for state in JobState:
            metrics.JOBS.labels(queue=queue, state=state.value).set(jobs[(queue, state.value)])
    for name, ce in world.compute_environments.items():
        metrics.CE_USED_VCPUS.labels(compute_environment=name).set(status(ce).get("usedvCpus") or 0)
        metrics.CE_MAX_VCPUS.labels(compute_environment=name).set(
            (spec(ce).get("computeResources") or {}).get("maxvCpus", 0))
