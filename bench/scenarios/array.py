"""Scenario A, array burst: N near-zero pods by three contenders, each in its own namespace.

- ``raw``: the limit of a plain async client: the same N pods (built with
  ``kubatch.core.pods.build_container_pod``: same requests, env, nodeSelector and
  tolerations; only kubatch's labels are swapped for a bench label so the operator
  ignores them) created with the operator's write concurrency, then watched until all
  are Succeeded.
- ``job``: the built-in Job controller: one Indexed Job, completions = parallelism = N,
  the same pod spec as its template (less the per-child AWS_BATCH_JOB_ARRAY_* env,
  which a template cannot vary; the Job controller sets JOB_COMPLETION_INDEX instead).
- ``kubatch``: a CE with room for all N, a queue, a definition and one BatchJob with
  ``arrayProperties.size = N``; done when the parent is SUCCEEDED.

Every pod runs kwok's default simulated 0.2 s. Times are from the submit (first create
call) as the harness observes them: ``first_pod_s`` = first pod seen by the watch,
``pods_per_s`` = N / (last pod seen - submit), ``pods_done_s`` = every pod seen
Succeeded, ``makespan_s`` = the contender says it is done (all pods Succeeded for raw,
the Job's Complete condition, the parent BatchJob's SUCCEEDED).
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from bench.scenarios.common import (
    BENCH_LABEL,
    Bench,
    OperatorSample,
    PodTracker,
    _json,
    bounded,
    kubatch_like_pod,
    now,
    tiny_container,
    wait_for,
    watching,
)
from bench.scenarios.stats import rotations
from kubatch.controller.loop import MAX_CONCURRENT_WRITES
from kubatch.controller.ratelimit import WriteLimiter

CONTENDERS = ("raw", "job", "kubatch")
VCPUS = "0.05"  # 10,000 pods fit 100 nodes of 8 CPUs / 110 pods
MEMORY_MIB = "64"


def timeout_for(n: int) -> float:
    return 180 + 0.15 * n


async def finished(tracker_done: asyncio.Event, failure: asyncio.Event, *, timeout: float, what: str) -> None:
    waits = {asyncio.create_task(tracker_done.wait()), asyncio.create_task(failure.wait())}
    done, pending = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    if not done:
        raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
    if failure.is_set() and not tracker_done.is_set():
        raise RuntimeError(f"{what}: a pod or job failed")


def curve(times: list[float], t0: float, points: int = 60) -> list[list[float]]:
    """Cumulative count over time since t0, down-sampled for the chart."""
    times = sorted(t - t0 for t in times)
    if not times:
        return []
    step = max(1, len(times) // points)
    picked = [[round(times[i], 3), i + 1] for i in range(step - 1, len(times), step)]
    if picked[-1][1] != len(times):
        picked.append([round(times[-1], 3), len(times)])
    return [[0.0, 0], *picked]


def row(contender: str, n: int, t0: float, tracker: PodTracker, done_at: float, **extra: Any) -> dict[str, Any]:
    first, last = tracker.first_added(), tracker.last_added()
    return {
        "scenario": "A", "contender": contender, "n": n,
        "completed": len(tracker.succeeded),
        "makespan_s": round(done_at - t0, 2),
        "pods_done_s": round((tracker.last_succeeded() or done_at) - t0, 2),
        "first_pod_s": round(first - t0, 3) if first is not None else None,
        "last_pod_s": round(last - t0, 2) if last is not None else None,
        "pods_per_s": round(n / (last - t0), 1) if last is not None and last > t0 else None,
        "pods_bound_s": round(max(tracker.bound.values()) - t0, 2) if tracker.bound else None,
        "pods_running_s": round(max(tracker.running.values()) - t0, 2) if tracker.running else None,
        "created_curve": curve(list(tracker.added.values()), t0),
        "succeeded_curve": curve(list(tracker.succeeded.values()), t0),
        **extra,
    }


async def run_raw(bench: Bench, n: int) -> dict[str, Any]:
    async with bench.namespace(f"a-raw-{n}") as namespace:
        container = tiny_container(vcpus=VCPUS, memory_mib=MEMORY_MIB)
        pods = [kubatch_like_pod(namespace=namespace, job_name="burst", index=i, size=n, queue="raw",
                                 compute_environment="raw", container=container,
                                 labels={BENCH_LABEL: bench.run_id, "bench/contender": "raw"})
                for i in range(n)]
        tracker = PodTracker(n)
        core = bench.api.core
        limiter = WriteLimiter(rate=bench.api_qps, burst=bench.api_burst)

        async def create(pod: dict[str, Any]) -> None:
            await limiter.acquire()
            await _json(await core.create_namespaced_pod(namespace, pod, _preload_content=False))

        async with watching(bench.api.watch_pods(namespace), tracker):
            reading = await bench.cost_begin()
            t0 = now()
            await bounded(bench.write_concurrency, pods, create)
            created = now()
            await finished(tracker.all_succeeded, tracker.any_failed, timeout=timeout_for(n), what=f"raw {n} pods")
            done = now()
            cost = await bench.cost_end(reading)
        return row("raw", n, t0, tracker, done, create_calls_s=round(created - t0, 2), cost=cost,
                   limits=f"{bench.write_concurrency} concurrent creates, {bench.api_qps:g} QPS, burst {bench.api_burst}")


async def run_job(bench: Bench, n: int, *, kcm_limits: dict[str, str] | None = None) -> dict[str, Any]:
    async with bench.namespace(f"a-job-{n}") as namespace:
        pod = kubatch_like_pod(namespace=namespace, job_name="burst", index=0, size=n, queue="job",
                               compute_environment="job",
                               container=tiny_container(vcpus=VCPUS, memory_mib=MEMORY_MIB),
                               labels={BENCH_LABEL: bench.run_id, "bench/contender": "job"})
        container = pod["spec"]["containers"][0]
        container["env"] = [e for e in container["env"] if not e["name"].startswith("AWS_BATCH_JOB_ARRAY_")]
        job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "burst", "namespace": namespace},
               "spec": {"completionMode": "Indexed", "completions": n, "parallelism": n, "backoffLimit": 0,
                        "template": {"metadata": {"labels": pod["metadata"]["labels"],
                                                  "annotations": pod["metadata"]["annotations"]},
                                     "spec": pod["spec"]}}}
        tracker = PodTracker(n)
        complete, failed = asyncio.Event(), asyncio.Event()
        marks: dict[str, float] = {}

        def on_job(kind: str, obj: dict[str, Any], at: float) -> None:
            for condition in (obj.get("status") or {}).get("conditions") or []:
                if condition.get("status") == "True" and condition.get("type") in ("Complete", "Failed"):
                    marks.setdefault(condition["type"], at)
                    (complete if condition["type"] == "Complete" else failed).set()

        async with watching(bench.api.watch_pods(namespace), tracker), \
                watching(bench.api.watch_jobs(namespace), on_job):
            reading = await bench.cost_begin()
            t0 = now()
            await _json(await bench.api.batch.create_namespaced_job(namespace, job, _preload_content=False))
            await finished(complete, failed, timeout=timeout_for(n), what=f"Indexed Job of {n}")
            done = marks["Complete"]
            cost = await bench.cost_end(reading)
            await finished(tracker.all_succeeded, tracker.any_failed, timeout=60, what="the Job's pods")
        limits = "kube-controller-manager " + (
            " ".join(f"--{k} {v}" for k, v in kcm_limits.items()) if kcm_limits else "(limits unknown)")
        return row("job", n, t0, tracker, done, cost=cost, kcm_limits=kcm_limits,
                   limits=limits + "; Job controller: <= 500 pod creates per sync")


async def setup_queue(bench: Bench, *, ce: str, queue: str, max_vcpus: int, priority: int = 1,
                      state: str = "ENABLED", ces: list[str] | None = None) -> None:
    """A MANAGED EC2 CE (unless it exists) and a queue over ``ces`` (default: just ``ce``)."""
    api = bench.api
    if ce:
        await api.create_cr("computeenvironments", {
            "kind": "ComputeEnvironment", "metadata": {"name": ce, "labels": {BENCH_LABEL: bench.run_id}},
            "spec": {"type": "MANAGED", "state": state,
                     "computeResources": {"type": "EC2", "minvCpus": 0, "maxvCpus": max_vcpus}}})
    order = [{"order": i + 1, "computeEnvironment": name} for i, name in enumerate(ces or [ce])]
    await api.create_cr("jobqueues", {
        "kind": "JobQueue", "metadata": {"name": queue, "labels": {BENCH_LABEL: bench.run_id}},
        "spec": {"priority": priority, "state": "ENABLED", "computeEnvironmentOrder": order}})

    async def valid() -> bool:
        return ((await api.get_cr("jobqueues", queue)).get("status") or {}).get("status") == "VALID"

    await wait_for(valid, timeout=60, what=f"queue {queue} VALID", interval=0.2)


def job_definition(name: str, *, vcpus: str = VCPUS, memory_mib: str = MEMORY_MIB) -> dict[str, Any]:
    return {"kind": "JobDefinition", "metadata": {"name": name},
            "spec": {"type": "container", "containerProperties": tiny_container(vcpus=vcpus, memory_mib=memory_mib)}}


class JobStates:
    """Per BatchJob: when the harness first saw it in each state; ``done`` when all ``expected`` ended."""

    def __init__(self, expected: int, *, prefix: str = "") -> None:
        self.expected = expected
        self.prefix = prefix
        self.seen: dict[str, dict[str, float]] = {}
        self.objects: dict[str, dict[str, Any]] = {}
        self.ended = 0
        self.failed: list[str] = []
        self.done = asyncio.Event()
        self.any_failed = asyncio.Event()

    def __call__(self, kind: str, obj: dict[str, Any], at: float) -> None:
        name = obj["metadata"]["name"]
        if not name.startswith(self.prefix):
            return
        state = (obj.get("status") or {}).get("status") or "NEW"
        marks = self.seen.setdefault(name, {})
        self.objects[name] = {"spec": obj.get("spec") or {}, "status": {
            k: v for k, v in (obj.get("status") or {}).items() if k in ("status", "createdAt", "statusReason",
                                                                           "statusMessage")}}
        if state in marks:
            return
        marks[state] = at
        if state in ("SUCCEEDED", "FAILED"):
            self.ended += 1
            if state == "FAILED":
                self.failed.append(name)
                self.any_failed.set()
            if self.ended >= self.expected:
                self.done.set()

    def count(self, state: str) -> int:
        return sum(1 for o in self.objects.values() if o["status"].get("status") == state)


async def run_kubatch(bench: Bench, n: int) -> dict[str, Any]:
    ce, queue = bench.name(f"a{n}-ce"), bench.name(f"a{n}-q")
    max_vcpus = math.ceil(n * float(VCPUS)) + 1
    try:
        async with bench.namespace(f"a-kubatch-{n}") as namespace, bench.kubatch_operator(f"array-{n}") as operator:
            await setup_queue(bench, ce=ce, queue=queue, max_vcpus=max_vcpus)
            await bench.api.create_cr("jobdefinitions", job_definition("tiny"), namespace=namespace)
            tracker, parent = PodTracker(n), JobStates(1)
            async with watching(bench.api.watch_pods(namespace), tracker), \
                    watching(bench.api.watch_crs("batchjobs", namespace), parent):
                sample = OperatorSample.begin(operator)
                reading = await bench.cost_begin()
                t0 = now()
                await bench.api.create_cr("batchjobs", {
                    "kind": "BatchJob", "metadata": {"name": "burst"},
                    "spec": {"jobDefinition": "tiny", "jobQueue": queue, "arrayProperties": {"size": n}}},
                    namespace=namespace)
                await finished(parent.done, asyncio.Event(), timeout=timeout_for(n), what=f"array of {n}")
                sample.end()
                cost = await bench.cost_end(reading)
                marks = parent.seen["burst"]
                if "SUCCEEDED" not in marks:
                    raise RuntimeError(f"array of {n} ended {parent.objects['burst']['status']}")
                done = marks["SUCCEEDED"]
                await finished(tracker.all_succeeded, tracker.any_failed, timeout=30, what="the array's pods")
            return row("kubatch", n, t0, tracker, done,
                       parent_running_s=round(marks["RUNNING"] - t0, 2) if "RUNNING" in marks else None,
                       operator_cpu_s=sample.cpu_seconds, operator_peak_rss_mib=sample.peak_rss_mib, cost=cost,
                       limits=f"{MAX_CONCURRENT_WRITES} concurrent writes, --api-qps {bench.api_qps:g} "
                              f"--api-burst {bench.api_burst}")
    finally:
        await bench.api.delete_cr("jobqueues", queue)
        await bench.api.delete_cr("computeenvironments", ce)


RUNNERS = {"raw": run_raw, "job": run_job, "kubatch": run_kubatch}


async def run_scenario(bench: Bench, sizes: list[int], contenders: tuple[str, ...] = CONTENDERS,
                       kcm_limits: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Per N, ``bench.repeat`` rounds of every contender, in a rotating order (stats.rotations)."""
    rows = []
    for n in sizes:
        for repeat, order in enumerate(rotations(contenders, bench.repeat), start=1):
            for contender in order:
                bench.log(f"A  n={n:<6} run {repeat}/{bench.repeat} {contender} ...")
                extra = {"kcm_limits": kcm_limits} if contender == "job" else {}
                result = await RUNNERS[contender](bench, n, **extra)
                result |= {"repeat": repeat, "order": list(order), "client_limits": bench.limits()}
                bench.log(f"   makespan {result['makespan_s']}s, {result['pods_per_s']} pods/s, "
                          f"first pod {result['first_pod_s']}s")
                rows.append(bench.record(result))
    return rows
