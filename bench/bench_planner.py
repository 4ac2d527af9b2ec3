"""How long one reconcile cycle's planning takes, for arrays and for many single jobs.

Prints a table: scenario, RUNNABLE units, held units, milliseconds per plan() call.
Run: python bench/bench_planner.py
"""

from __future__ import annotations

import time

from kubatch.core.pods import pod_name
from kubatch.core.reconcile import World, plan

NOW_MS = 1_800_000_000_000
DEFINITION = {"revision": 1, "type": "container", "parameters": {}, "retryStrategy": {"attempts": 1},
              "timeout": {}, "tags": {}, "schedulingPriority": 0, "platformCapabilities": ["EC2"],
              "containerProperties": {"image": "busybox", "vcpus": 1, "memory": 64}}


def cluster_objects() -> dict:
    ce = {"metadata": {"name": "ce", "generation": 1},
          "spec": {"state": "ENABLED", "computeResources": {"type": "EC2", "maxvCpus": 500}}, "status": {}}
    queue = {"metadata": {"name": "q", "generation": 1},
             "spec": {"priority": 1, "state": "ENABLED",
                      "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "ce"}]}, "status": {}}
    return {"compute_environments": {"ce": ce}, "queues": {"q": queue}}


def running_pod(job: str, uid: str, *, index: int | None) -> dict:
    labels = {"kubatch.io/job-id": uid, "kubatch.io/compute-environment": "ce"}
    return {"metadata": {"name": pod_name(job_name=job, attempt=1, array_index=index), "namespace": "ns",
                         "labels": labels},
            "spec": {"nodeName": "n1"},
            "status": {"phase": "Running", "startTime": "2027-01-15T08:00:00Z",
                       "containerStatuses": [{"name": "main", "state": {"running": {
                           "startedAt": "2027-01-15T08:00:00Z"}}}]}}


def array_world(size: int, active: int) -> World:
    uid = "uid-big"
    children = {str(i): {"status": "RUNNING", "attemptCount": 1, "computeEnvironment": "ce",
                         "startedAt": NOW_MS, "attempts": []} for i in range(active)}
    job = {"metadata": {"name": "big", "namespace": "ns", "uid": uid, "generation": 1},
           "spec": {"jobDefinition": "d", "jobQueue": "q", "arrayProperties": {"size": size}},
           "status": {"status": "RUNNING", "createdAt": NOW_MS, "resolvedDefinition": DEFINITION,
                      "arrayProperties": {"size": size, "children": children}}}
    pods = {uid: {pod_name(job_name="big", attempt=1, array_index=i): running_pod("big", uid, index=i)
                  for i in range(active)}}
    return World(jobs=[job], pods_by_job=pods, **cluster_objects())


def singles_world(runnable: int, active: int) -> World:
    jobs, pods = [], {}
    for i in range(runnable + active):
        uid = f"uid-{i}"
        state = "RUNNING" if i < active else "RUNNABLE"
        status = {"status": state, "createdAt": NOW_MS + i, "resolvedDefinition": DEFINITION,
                  "attemptCount": 1 if i < active else 0, "runnableAt": NOW_MS}
        if i < active:
            status |= {"computeEnvironment": "ce", "startedAt": NOW_MS}
            pods[uid] = {pod_name(job_name=f"j{i}", attempt=1): running_pod(f"j{i}", uid, index=None)}
        jobs.append({"metadata": {"name": f"j{i}", "namespace": "ns", "uid": uid, "generation": 1},
                     "spec": {"jobDefinition": "d", "jobQueue": "q"}, "status": status})
    return World(jobs=jobs, pods_by_job=pods, **cluster_objects())


def timed(world: World, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        plan(world, now_ms=NOW_MS + 1000)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> None:
    print(f"{'scenario':<34}{'runnable':>10}{'held':>8}{'ms/cycle':>10}")
    for size, active in ((1_000, 500), (10_000, 500)):
        print(f"{f'array of {size}':<34}{size - active:>10}{active:>8}{timed(array_world(size, active)):>10.1f}")
    for runnable, active in ((1_000, 500), (10_000, 500)):
        print(f"{'single jobs':<34}{runnable:>10}{active:>8}{timed(singles_world(runnable, active)):>10.1f}")


if __name__ == "__main__":
    main()
