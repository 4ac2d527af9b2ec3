"""What finished jobs cost the operator: a cycle's time beside them, and the bytes the store keeps.

Issue 17's "History" target: a cycle over 100 RUNNABLE jobs beside 100,000 finished
ones must cost at most 1.2x the same cycle beside none, and a finished job kept by the
operator at most 1 KiB. This feeds a real ``Store`` with objects shaped as the API
server sends them (each one freshly decoded from JSON, as a watch event delivers it;
every finished job SUCCEEDED with its last pod kept, the default pod retention) and
times what the reconcile loop does each cycle before it writes: build the snapshot,
plan, export the gauges (``loop.plan_cycle``).

Run from the repository root with the project's interpreter:

    python bench/bench_history.py                  # 0, 10,000, 100,000 finished; 5 runs
    python bench/bench_history.py --runs 3 0 10000
    python bench/bench_history.py --rss 100000     # only: RSS growth per finished job

Prints the raw milliseconds of every run (the sizes interleaved run by run, so load
on the machine hits them alike), then median (min-max); then tracemalloc's bytes
per job the store keeps, by kind of job.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
import tracemalloc
from typing import Any

from kubatch.controller.loop import plan_cycle
from kubatch.controller.store import Store
from kubatch.core.definition import resolve_job
from kubatch.core.pods import ComputePlacement
from kubatch.core.reconcile import Settings
from kubatch.core.reconcile.podspec import attempt_pod

NOW_MS = 1_800_000_000_000
RUNNABLE = 100
CREATED = "2027-01-15T08:00:00Z"
DEFINITION_SPEC = {
    "type": "container", "parameters": {"greeting": "hello"}, "retryStrategy": {"attempts": 2},
    "timeout": {"attemptDurationSeconds": 3600}, "tags": {"team": "data"}, "schedulingPriority": 0,
    "platformCapabilities": ["EC2"], "propagateTags": False,
    "containerProperties": {
        "image": "registry.example.com/etl/worker:1.4.2", "command": ["python", "-m", "etl", "Ref::greeting"],
        "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}],
        "environment": [{"name": "STAGE", "value": "prod"}, {"name": "LOG_LEVEL", "value": "info"}],
        "jobRoleArn": "arn:aws:iam::123456789012:role/etl-worker",
    },
}
MANAGED_FIELDS = [
    {"manager": "kubatch-api", "operation": "Update", "apiVersion": "batch.kubatch.io/v1",
     "time": CREATED, "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {".": {}, "f:jobDefinition": {},
                                                                           "f:jobQueue": {}}}},
    {"manager": "kubatch-operator", "operation": "Update", "apiVersion": "batch.kubatch.io/v1",
     "time": CREATED, "fieldsType": "FieldsV1", "subresource": "status",
     "fieldsV1": {"f:status": {".": {}, "f:status": {}, "f:statusReason": {}, "f:attempts": {},
                               "f:resolvedDefinition": {}, "f:stoppedAt": {}, "f:startedAt": {}}}},
]


def cluster() -> list[tuple[str, dict[str, Any]]]:
    ce = {"metadata": {"name": "ce", "generation": 1, "uid": "ce-uid", "resourceVersion": "1"},
          "spec": {"state": "ENABLED", "computeResources": {"type": "EC2", "maxvCpus": 50}}, "status": {}}
    queue = {"metadata": {"name": "q", "generation": 1, "uid": "q-uid", "resourceVersion": "2"},
             "spec": {"priority": 1, "state": "ENABLED",
                      "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "ce"}]}, "status": {}}
    return [("ComputeEnvironment", ce), ("JobQueue", queue)]


def _job(name: str, uid: str, version: int, job_spec: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "batch.kubatch.io/v1", "kind": "BatchJob",
            "metadata": {"name": name, "namespace": "ns", "uid": uid, "resourceVersion": str(version),
                         "generation": 1, "creationTimestamp": CREATED, "managedFields": MANAGED_FIELDS},
            "spec": job_spec,
            "status": status}


def runnable_job(index: int, *, own_parameters: bool = False) -> dict[str, Any]:
    """A RUNNABLE job of definition ``etl``; with ``own_parameters``, a parameter of its own."""
    uid = f"00000000-0000-4000-8000-{index:012d}"
    job_spec = {"jobDefinition": "etl", "jobQueue": "q", "parameters": {"greeting": "hello"}}
    if own_parameters:
        job_spec["parameters"] = {"greeting": f"hello-{index}"}
    resolved = resolve_job(job_spec=job_spec, definition_spec=DEFINITION_SPEC, revision=3)
    return _job(f"etl-run-{index:06d}", uid, 2_000_000 + index, job_spec, {
        "jobId": uid, "jobQueue": "q", "status": "RUNNABLE", "statusReason": None,
        "statusMessage": "Waiting to be placed on a compute environment", "createdAt": NOW_MS - 60_000 + index,
        "runnableAt": NOW_MS - 30_000, "observedGeneration": 1, "attemptCount": 0, "attempts": [],
        "resolvedDefinition": resolved, "dependsOn": []})


def finished_job(index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A SUCCEEDED job and its last attempt's pod, as the API server returns them."""
    job = runnable_job(index)
    job["metadata"]["name"] = name = f"etl-done-{index:06d}"
    job["metadata"]["uid"] = uid = f"11111111-0000-4000-8000-{index:012d}"
    job["metadata"]["resourceVersion"] = str(1_000_000 + index)
    node = f"node-{index % 100:03d}"
    record = {"container": {"podName": f"{name}-1", "nodeName": node, "exitCode": 0, "reason": None},
              "startedAt": NOW_MS - 50_000, "stoppedAt": NOW_MS - 40_000, "statusReason": None}
    job["status"] |= {"jobId": uid, "status": "SUCCEEDED", "statusReason": "Essential container in task exited",
                      "statusMessage": None, "attemptCount": 1, "attempts": [record], "computeEnvironment": "ce",
                      "startedAt": NOW_MS - 50_000, "stoppedAt": NOW_MS - 40_000, "container": record["container"],
                      "conditions": [{"type": "Complete", "status": "True", "reason": "Succeeded", "message": "",
                                      "lastTransitionTime": CREATED}]}
    pod = attempt_pod(job, ComputePlacement(name="ce", type="EC2"), attempt=1)
    pod["metadata"] |= {"uid": f"22222222-0000-4000-8000-{index:012d}", "resourceVersion": str(3_000_000 + index),
                        "creationTimestamp": CREATED, "managedFields": MANAGED_FIELDS}
    pod["spec"] |= {"nodeName": node, "schedulerName": "default-scheduler", "dnsPolicy": "ClusterFirst",
                    "serviceAccountName": "default", "enableServiceLinks": True, "priority": 0,
                    "preemptionPolicy": "PreemptLowerPriority",
                    "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                                     "effect": "NoExecute", "tolerationSeconds": 300},
                                    {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                                     "effect": "NoExecute", "tolerationSeconds": 300}],
                    "volumes": [{"name": "kube-api-access-x1y2z", "projected": {"defaultMode": 420, "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                            "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}}]}
    condition = {"status": "False", "lastProbeTime": None, "lastTransitionTime": CREATED, "reason": "PodCompleted"}
    pod["status"] = {
        "phase": "Succeeded", "hostIP": "10.0.0.7", "podIP": f"10.244.{index % 250}.{index % 200}",
        "startTime": CREATED, "qosClass": "Guaranteed",
        "conditions": [{"type": kind, **condition} for kind in ("Initialized", "Ready", "ContainersReady")]
        + [{"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": CREATED}],
        "containerStatuses": [{"name": "main", "ready": False, "restartCount": 0, "started": False,
                               "image": "registry.example.com/etl/worker:1.4.2",
                               "imageID": "registry.example.com/etl/worker@sha256:" + "ab" * 32,
                               "containerID": "containerd://" + f"{index:064d}",
                               "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                                        "startedAt": CREATED, "finishedAt": CREATED,
                                                        "containerID": "containerd://" + f"{index:064d}"}},
                               "lastState": {}}],
    }
    return job, pod


def as_watched(obj: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy, as a watch event decodes it: nothing shared with any other object."""
    return json.loads(json.dumps(obj))


def store_beside(finished: int) -> Store:
    store = Store()
    for kind, obj in cluster():
        store.record(kind, as_watched(obj))
    for index in range(finished):
        job, pod = finished_job(index)
        store.record("BatchJob", as_watched(job))
        store.record("Pod", as_watched(pod))
    for index in range(RUNNABLE):
        store.record("BatchJob", as_watched(runnable_job(index)))
    return store


def one_cycle_ms(store: Store) -> float:
    gc.collect()
    started = time.perf_counter()
    plan_cycle(store, settings=Settings(), now_ms=NOW_MS)
    return (time.perf_counter() - started) * 1000


def bytes_kept(make, count: int = 2_000) -> float:
    """Bytes the store keeps per object ``make(index)`` returns (a job, or a job and its pod)."""
    store = store_beside(0)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for index in range(count):
        made = make(index)
        for kind, obj in made:
            store.record(kind, as_watched(obj))
    del made, obj
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / count


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rss_growth_per_finished_job(count: int) -> float:
    """In this (fresh) process: how much the resident set grows per finished job fed to a store."""
    gc.collect()
    before = resident_bytes()
    store = store_beside(count)
    gc.collect()
    grown = resident_bytes() - before
    del store
    return grown / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("finished", nargs="*", type=int, default=[0, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rss", type=int, metavar="N", help="only: RSS growth per finished job, N of them")
    args = parser.parse_args()
    if args.rss:
        print(f"RSS growth per finished job ({args.rss:,} of them, fresh process): "
              f"{rss_growth_per_finished_job(args.rss):.0f} bytes")
        return
    stores = {}
    for count in args.finished:
        started = time.perf_counter()
        stores[count] = store_beside(count)
        print(f"store beside {count:,} finished jobs built in {time.perf_counter() - started:.1f} s")
    timings: dict[int, list[float]] = {count: [] for count in args.finished}
    for run in range(args.runs):
        for count in args.finished:
            timings[count].append(one_cycle_ms(stores[count]))
        print(f"run {run + 1}: " + ", ".join(f"{count:,}: {timings[count][-1]:.1f} ms" for count in args.finished))
    base = statistics.median(timings[args.finished[0]])
    print(f"\n{'finished jobs':>14}{'RUNNABLE':>10}  cycle ms, median (min-max) of {args.runs} runs   x first row")
    for count in args.finished:
        values = timings[count]
        median = statistics.median(values)
        print(f"{count:>14,}{RUNNABLE:>10}  {median:8.1f} ({min(values):.1f}-{max(values):.1f})"
              f"{'':>20}{median / base:6.2f}")
    del stores
    gc.collect()
    print("\nbytes kept in the store per job (tracemalloc, 2,000 jobs)")
    print(f"  RUNNABLE job:                 {bytes_kept(lambda i: [('BatchJob', runnable_job(10_000 + i))]):8.0f}")
    print(f"  RUNNABLE job, own parameter:  "
          f"{bytes_kept(lambda i: [('BatchJob', runnable_job(10_000 + i, own_parameters=True))]):8.0f}")
    print(f"  SUCCEEDED job:                {bytes_kept(lambda i: [('BatchJob', finished_job(i)[0])]):8.0f}")
    print(f"  SUCCEEDED job and its pod:    {bytes_kept(lambda i: list(zip(('BatchJob', 'Pod'), finished_job(i)))):8.0f}")


if __name__ == "__main__":
    main()
