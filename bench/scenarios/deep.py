"""Scenario C, deep queue: many RUNNABLE jobs behind a full CE, then capacity freed.

A CE of 1 vCPU is filled by a one-vCPU blocker job that runs for a day. Then ``jobs``
BatchJobs of 0.05 vCPU (each also running for a day, so what starts stays) are
submitted; ``intake_s`` is submit -> all RUNNABLE. Then the CE's maxvCpus is raised by
``fill`` x 0.05 vCPU: ``fill`` of them can start, the rest stays RUNNABLE (the deep
queue the scheduler keeps carrying while it fills). Reported: time to fill (first pod,
all ``fill`` pods created, all ``fill`` jobs seen RUNNING), the operator's CPU seconds
for the intake and for the fill, its RSS once all were RUNNABLE and its peak RSS.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.scenarios.array import JobStates, job_definition, setup_queue
from bench.scenarios.common import Bench, OperatorSample, PodTracker, bounded, now, watching
from bench.scenarios.cost import proc_rss_mib
from bench.scenarios.many import _batch_job

VCPUS_MILLI = 50
DAY = "86400"


async def _wait(predicate, *, timeout: float, what: str, interval: float = 0.1) -> float:
    deadline = now() + timeout
    while not predicate():
        if now() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(interval)
    return now()


async def run_scenario(bench: Bench, jobs: int, fill: int) -> list[dict[str, Any]]:
    if fill * VCPUS_MILLI % 1000:
        raise ValueError(f"fill {fill} must be a multiple of {1000 // VCPUS_MILLI} (whole vCPUs)")
    rows = []
    for repeat in range(1, bench.repeat + 1):
        bench.log(f"C  jobs={jobs} fill={fill} run {repeat}/{bench.repeat} kubatch ...")
        row = await _run_once(bench, jobs, fill, label=f"deep-{jobs}-r{repeat}")
        rows.append(bench.record(row | {"repeat": repeat, "client_limits": bench.limits()}))
    return rows


async def _run_once(bench: Bench, jobs: int, fill: int, *, label: str) -> dict[str, Any]:
    ce, queue = bench.name(f"{label}-ce"), bench.name(f"{label}-q")
    try:
        async with bench.namespace(f"c-kubatch-{jobs}") as namespace, bench.kubatch_operator(label) as op:
            await setup_queue(bench, ce=ce, queue=queue, max_vcpus=1)
            await bench.api.create_cr("jobdefinitions", job_definition("tiny", vcpus="0.05"), namespace=namespace)
            await bench.api.create_cr("jobdefinitions", job_definition("blocker", vcpus="1"), namespace=namespace)
            states, pods = JobStates(jobs + 1), PodTracker(fill + 1)
            async with watching(bench.api.watch_crs("batchjobs", namespace), states), \
                    watching(bench.api.watch_pods(namespace), pods):
                await bench.api.create_cr("batchjobs", _batch_job("blocker", "blocker", queue, run_seconds=DAY),
                                          namespace=namespace)
                await _wait(lambda: "RUNNING" in states.seen.get("blocker", {}), timeout=60, what="the blocker")
                intake = OperatorSample.begin(op)
                reading = await bench.cost_begin()
                t0 = now()
                names = [f"d{i:05d}" for i in range(jobs)]
                await bounded(bench.write_concurrency, names, lambda name: bench.api.create_cr(
                    "batchjobs", _batch_job(name, "tiny", queue, run_seconds=DAY), namespace=namespace))
                submitted = now()
                bench.log(f"   {jobs} submitted in {submitted - t0:.0f}s")
                runnable = await _wait(lambda: sum(1 for n in names if "RUNNABLE" in states.seen.get(n, {})) >= jobs,
                                       timeout=600 + jobs * 0.1, what=f"{jobs} RUNNABLE", interval=0.5)
                intake.end()
                rss_runnable = proc_rss_mib(op.pid) if op.pid else None
                bench.log(f"   all RUNNABLE after {runnable - t0:.0f}s; freeing {fill} slots")
                started_before = len(pods.added)
                fill_sample = OperatorSample.begin(op)
                t1 = now()
                await bench.api.patch_cr("computeenvironments", ce, {
                    "spec": {"computeResources": {"maxvCpus": 1 + fill * VCPUS_MILLI // 1000}}})
                created = await _wait(lambda: len(pods.added) >= started_before + fill,
                                      timeout=600 + fill * 0.1, what=f"{fill} pods")
                running = await _wait(lambda: sum(1 for n in names if "RUNNING" in states.seen.get(n, {})) >= fill,
                                      timeout=600 + fill * 0.1, what=f"{fill} RUNNING", interval=0.2)
                fill_sample.end()
                cost = await bench.cost_end(reading)
                await asyncio.sleep(3)  # a few more cycles: nothing beyond the quota may start
                extra = len(pods.added) - started_before - fill
                first = min((t for name, t in pods.added.items() if name != "blocker-a1"), default=None)
            return {
                "scenario": "C", "contender": "kubatch", "jobs": jobs, "fill": fill,
                "submit_s": round(submitted - t0, 1),
                "intake_s": round(runnable - t0, 1),
                "fill_first_pod_s": round(first - t1, 2) if first else None,
                "fill_pods_s": round(created - t1, 2),
                "fill_running_s": round(running - t1, 2),
                "fill_pods_per_s": round(fill / (created - t1), 1),
                "over_quota_pods": extra,
                "operator_cpu_intake_s": intake.cpu_seconds,
                "operator_cpu_fill_s": fill_sample.cpu_seconds,
                "operator_rss_all_runnable_mib": round(rss_runnable, 1) if rss_runnable else None,
                "operator_peak_rss_mib": fill_sample.peak_rss_mib,
                "cost": cost,
            }
    finally:
        await bench.api.delete_cr("jobqueues", queue)
        await bench.api.delete_cr("computeenvironments", ce)
