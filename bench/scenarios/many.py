"""Scenario B, many jobs: M independent BatchJobs over 3 queues and 2 CEs, mixed priorities.

Two parts, one operator:

1. **Throughput** (capacity free: each CE has room for all M): the M jobs are created as
   fast as the API takes them (the operator's write concurrency), spread at random over
   queue ``hi`` (priority 30, CEs a then b), ``mid`` (20, CE a) and ``lo`` (10, CE b).
   Reported: jobs/s to SUCCEEDED (M / (last SUCCEEDED - first submit)), p50/p99 of
   submit -> STARTING, where submit is the moment the create call returned and STARTING
   the first watch event showing the job STARTING, RUNNING or SUCCEEDED, and p50/p99 of
   submit -> pod Running, the first watch event showing the job's pod Running (or
   later) as kwok reports it: what a user watching pods would see.
2. **Priority order** (capacity scarce; once per M, after the first burst): the same queue layout over two DISABLED CEs of
   4 vCPUs each; 24 one-vCPU jobs of 1 s per queue are submitted interleaved, and once
   all are RUNNABLE both CEs are enabled. An inversion is a job that started on CE c while
   a job of a higher-priority queue that could use c started more than ``SLACK_S`` later
   (pods of one cycle are created concurrently, so their order within a cycle is noise).
   "held" means no inversion.
"""

from __future__ import annotations

import asyncio
import math
import random
import statistics
from typing import Any

from bench.scenarios.array import JobStates, finished, job_definition, setup_queue
from bench.scenarios.common import Bench, OperatorSample, PodTracker, bounded, now, watching

QUEUES = (("hi", 30, ("a", "b")), ("mid", 20, ("a",)), ("lo", 10, ("b",)))
VCPUS = "0.05"
SLACK_S = 0.5
PROBE_PER_QUEUE = 24
PROBE_CE_VCPUS = 4


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, math.ceil(q / 100 * len(ordered)) - 1)
    return ordered[rank]


def started_at(marks: dict[str, float]) -> float | None:
    times = [marks[s] for s in ("STARTING", "RUNNING", "SUCCEEDED") if s in marks]
    return min(times) if times else None


def running_latencies(submitted: dict[str, float], pods: PodTracker) -> list[float]:
    """Per job: submit -> the first of its pods seen Running (or later), for the jobs that got there."""
    first_running: dict[str, float] = {}
    for pod, at in pods.running.items():
        job = pods.labels.get(pod, {}).get("kubatch.io/job-name")
        if job in submitted:
            first_running[job] = min(at, first_running.get(job, at))
    return [at - submitted[job] for job, at in first_running.items()]


async def _layout(bench: Bench, prefix: str, *, max_vcpus: int, state: str) -> dict[str, tuple[str, int, tuple[str, ...]]]:
    """Two CEs and three queues named after ``prefix``; returns queue -> (name, priority, CE names)."""
    ces = {short: bench.name(f"{prefix}-ce-{short}") for short in ("a", "b")}
    for name in ces.values():
        await bench.api.create_cr("computeenvironments", {
            "kind": "ComputeEnvironment", "metadata": {"name": name},
            "spec": {"type": "MANAGED", "state": state,
                     "computeResources": {"type": "EC2", "minvCpus": 0, "maxvCpus": max_vcpus}}})
    queues = {}
    for short, priority, order in QUEUES:
        name = bench.name(f"{prefix}-q-{short}")
        await setup_queue(bench, ce="", queue=name, max_vcpus=0, priority=priority, ces=[ces[c] for c in order])
        queues[short] = (name, priority, tuple(ces[c] for c in order))
    return queues


async def _teardown(bench: Bench, queues: dict[str, tuple[str, int, tuple[str, ...]]]) -> None:
    ces = {ce for _, _, order in queues.values() for ce in order}
    for name, _, _ in queues.values():
        await bench.api.delete_cr("jobqueues", name)
    for ce in ces:
        await bench.api.delete_cr("computeenvironments", ce)


def _batch_job(name: str, definition: str, queue: str, run_seconds: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"jobDefinition": definition, "jobQueue": queue}
    if run_seconds is not None:
        spec |= {"propagateTags": True, "tags": {"kubatch.io/sim-run-seconds": run_seconds}}
    return {"kind": "BatchJob", "metadata": {"name": name}, "spec": spec}


async def _throughput(bench: Bench, namespace: str, m: int, operator, *, rate: float | None = None) -> dict[str, Any]:
    """M jobs as fast as the API takes them, or (``rate``) paced at that many per second."""
    queues = await _layout(bench, f"b{m}", max_vcpus=math.ceil(m * float(VCPUS)) + 1, state="ENABLED")
    try:
        await bench.api.create_cr("jobdefinitions", job_definition("tiny", vcpus=VCPUS), namespace=namespace)
        rng = random.Random(m)
        jobs = [(i, f"j{i:05d}", queues[rng.choice(("hi", "mid", "lo"))][0]) for i in range(m)]
        states, pods = JobStates(m), PodTracker(m)
        submitted: dict[str, float] = {}

        async def submit(job: tuple[int, str, str]) -> None:
            index, name, queue = job
            if rate is not None:
                await asyncio.sleep(max(0.0, t0 + index / rate - now()))
            await bench.api.create_cr("batchjobs", _batch_job(name, "tiny", queue), namespace=namespace)
            submitted[name] = now()

        async with watching(bench.api.watch_crs("batchjobs", namespace), states), \
                watching(bench.api.watch_pods(namespace), pods, label_selector="kubatch.io/job-name"):
            sample = OperatorSample.begin(operator)
            reading = await bench.cost_begin()
            t0 = now()
            await bounded(bench.write_concurrency, jobs, submit)
            submit_done = now()
            await finished(states.done, asyncio.Event(), timeout=300 + m * 0.3, what=f"{m} jobs")
            sample.end()
            cost = await bench.cost_end(reading)
        succeeded = [n for n, marks in states.seen.items() if "SUCCEEDED" in marks]
        last = max(states.seen[n]["SUCCEEDED"] for n in succeeded) if succeeded else None
        latencies = [started_at(states.seen[n]) - submitted[n] for n in submitted
                     if started_at(states.seen.get(n, {})) is not None]
        to_running = running_latencies(submitted, pods)
        return {
            "rate": rate, "completed": len(succeeded), "failed": len(states.failed),
            "submit_s": round(submit_done - t0, 2),
            "submit_per_s": round(m / (submit_done - t0), 1),
            "makespan_s": round(last - t0, 2) if last else None,
            "jobs_per_s": round(len(succeeded) / (last - t0), 1) if last else None,
            "p50_submit_to_starting_s": round(percentile(latencies, 50), 3) if latencies else None,
            "p99_submit_to_starting_s": round(percentile(latencies, 99), 3) if latencies else None,
            "max_submit_to_starting_s": round(max(latencies), 3) if latencies else None,
            "mean_submit_to_starting_s": round(statistics.fmean(latencies), 3) if latencies else None,
            "p50_submit_to_pod_running_s": round(percentile(to_running, 50), 3) if to_running else None,
            "p99_submit_to_pod_running_s": round(percentile(to_running, 99), 3) if to_running else None,
            "max_submit_to_pod_running_s": round(max(to_running), 3) if to_running else None,
            "operator_cpu_s": sample.cpu_seconds, "operator_peak_rss_mib": sample.peak_rss_mib,
            "cost": cost,
        }
    finally:
        await _teardown(bench, queues)


async def _priority_probe(bench: Bench, namespace: str, m: int) -> dict[str, Any]:
    queues = await _layout(bench, f"p{m}", max_vcpus=PROBE_CE_VCPUS, state="DISABLED")
    try:
        await bench.api.create_cr("jobdefinitions", job_definition("one", vcpus="1"), namespace=namespace)
        jobs = [(f"p-{short}-{i:02d}", queues[short][0]) for i in range(PROBE_PER_QUEUE) for short in ("lo", "mid", "hi")]
        states, pods = JobStates(len(jobs), prefix="p-"), PodTracker(len(jobs))
        async with watching(bench.api.watch_crs("batchjobs", namespace), states), \
                watching(bench.api.watch_pods(namespace), pods, label_selector="kubatch.io/job-name"):
            for name, queue in jobs:  # in order: lo, mid, hi, lo, mid, hi, ...
                await bench.api.create_cr("batchjobs", _batch_job(name, "one", queue, run_seconds="1"),
                                          namespace=namespace)

            async def all_runnable() -> bool:
                return sum(1 for n, _ in jobs if "RUNNABLE" in states.seen.get(n, {})) == len(jobs)

            deadline = now() + 120
            while not await all_runnable():
                if now() > deadline:
                    raise TimeoutError("priority probe: jobs did not all become RUNNABLE")
                await asyncio.sleep(0.2)
            for _, _, order in queues.values():
                for ce in order:
                    await bench.api.patch_cr("computeenvironments", ce, {"spec": {"state": "ENABLED"}})
            await finished(states.done, asyncio.Event(), timeout=300, what="priority probe")
        by_name = {short: queues[short] for short in queues}
        queue_of = {name: by_name[name.split("-")[1]] for name, _ in jobs}
        starts = []
        for pod, at in pods.added.items():
            labels = pods.labels[pod]
            job = labels.get("kubatch.io/job-name")
            if job in queue_of:
                starts.append((at, job, labels.get("kubatch.io/compute-environment")))
        inversions = 0
        for at_low, job_low, ce in starts:
            _, priority_low, _ = queue_of[job_low]
            for at_high, job_high, _ in starts:
                _, priority_high, ces_high = queue_of[job_high]
                if priority_high > priority_low and ce in ces_high and at_high > at_low + SLACK_S:
                    inversions += 1
        return {"probe_jobs": len(jobs), "probe_failed": len(states.failed), "priority_inversions": inversions,
                "priority_order_held": inversions == 0 and not states.failed}
    finally:
        await _teardown(bench, queues)


async def run_scenario(bench: Bench, sizes: list[int], rates: list[float] = (), *,
                       probe: bool = True) -> list[dict[str, Any]]:
    """Per M and repetition: a burst, then M jobs paced at each of ``rates``/s.

    The priority probe (``probe``) follows the first repetition's burst only: it is a
    check (held or not), not a measurement, and costs as much as a small burst.
    """
    rows = []
    for m in sizes:
        for repeat in range(1, bench.repeat + 1):
            common = {"scenario": "B", "contender": "kubatch", "m": m, "repeat": repeat,
                      "client_limits": bench.limits()}
            bench.log(f"B  m={m:<6} run {repeat}/{bench.repeat} kubatch ...")
            async with bench.namespace(f"b-kubatch-{m}") as namespace, \
                    bench.kubatch_operator(f"many-{m}-r{repeat}") as operator:
                result = {**common, **await _throughput(bench, namespace, m, operator)}
                if probe and repeat == 1:
                    result |= await _priority_probe(bench, namespace, m)
            bench.log(f"   {result['jobs_per_s']} jobs/s, p50/p99 submit->STARTING "
                      f"{result['p50_submit_to_starting_s']}/{result['p99_submit_to_starting_s']}s, "
                      f"->pod Running {result['p50_submit_to_pod_running_s']}/"
                      f"{result['p99_submit_to_pod_running_s']}s, priority order held: "
                      f"{result.get('priority_order_held')} ({result.get('priority_inversions')} inversions)")
            rows.append(bench.record(result))
            for rate in rates:
                bench.log(f"B  m={m:<6} run {repeat}/{bench.repeat} kubatch, paced at {rate:g} jobs/s ...")
                async with bench.namespace(f"b-paced-{m}") as namespace, \
                        bench.kubatch_operator(f"paced-{m}-r{repeat}") as operator:
                    result = {**common, **await _throughput(bench, namespace, m, operator, rate=rate)}
                bench.log(f"   p50/p99 submit->STARTING {result['p50_submit_to_starting_s']}/"
                          f"{result['p99_submit_to_starting_s']}s")
                rows.append(bench.record(result))
    return rows
