"""The job archive's cost: bytes per archived job, archive writes per second, a ListJobs page's query time.

For each back end (SQLite in a temporary file; PostgreSQL on a throwaway local server,
when ``testkit.postgres`` can start one), N typical finished jobs (the
DescribeJobs record of a one-attempt container job: image, command, 3 environment
variables, resource requirements, retry strategy, tags) are archived one job per
transaction, as the retention worker writes them; then the first page (100) of
``list-jobs --job-status SUCCEEDED`` in one of 10 queues, and a JOB_NAME prefix filter,
are queried. Each figure is the median of ``--runs`` runs with the min-max range.

Run: python bench/bench_archive.py [--jobs 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's testkit, beside operator/

from kubatch.archive import ListQuery, Record, open_archive  # noqa: E402
from kubatch.service.archived import STORED_ARNS  # noqa: E402
from kubatch.service.shapes import job_detail  # noqa: E402
from testkit import postgres  # noqa: E402

CREATED_MS = 1_800_000_000_000
QUEUES = 10
PAGE = 100


def finished_job(index: int) -> Record:
    """A typical finished job's archive row."""
    uid = str(uuid.UUID(int=index))
    created = CREATED_MS + index * 100
    container = {"image": "registry.example.com/genomics/align:2.4.1", "command": ["align", "--input",
                 f"s3://bucket/sample-{index}.fastq", "--threads", "4"],
                 "environment": [{"name": "STAGE", "value": "align"}, {"name": "REF", "value": "GRCh38"},
                                 {"name": "LOG_LEVEL", "value": "info"}],
                 "resourceRequirements": [{"type": "VCPU", "value": "4"}, {"type": "MEMORY", "value": "8192"}]}
    job = {"metadata": {"name": f"align-{index}", "namespace": "genomics", "uid": uid},
           "spec": {"jobQueue": f"queue-{index % QUEUES}", "jobDefinition": "align:3",
                    "tags": {"project": "cohort-7", "owner": "pipeline"}},
           "status": {"status": "SUCCEEDED", "jobId": uid, "createdAt": created, "startedAt": created + 4000,
                      "stoppedAt": created + 600_000, "statusReason": "Essential container in task exited",
                      "computeEnvironment": "spot-ce",
                      "container": {"exitCode": 0, "podName": f"align-{index}-a1", "nodeName": "node-17"},
                      "attempts": [{"container": {"exitCode": 0, "podName": f"align-{index}-a1",
                                                  "nodeName": "node-17"},
                                    "startedAt": created + 4000, "stoppedAt": created + 600_000,
                                    "statusReason": "Essential container in task exited"}],
                      "resolvedDefinition": {"revision": 3, "containerProperties": container,
                                             "retryStrategy": {"attempts": 3}, "timeout":
                                                 {"attemptDurationSeconds": 7200}}}}
    detail = job_detail(job, arns=STORED_ARNS)
    return Record(job_id=uid, namespace="genomics", name=job["metadata"]["name"], detail=detail,
                  job_queue=job["spec"]["jobQueue"], job_definition="align:3")


async def size_of(archive, url: str) -> int:
    if url.startswith("postgresql"):
        rows = await archive._fetch("SELECT pg_total_relation_size('kubatch_archived_jobs')", [])
        return int(rows[0][0])
    await archive._fetch("PRAGMA wal_checkpoint(TRUNCATE)", [])
    path = Path(url.removeprefix("sqlite://"))
    return sum(part.stat().st_size for part in path.parent.glob(path.name + "*"))


async def one_run(url: str, records: list[Record]) -> dict[str, float]:
    archive = open_archive(url, writer=True)
    try:
        started = time.perf_counter()
        for record in records:
            await archive.put([record])
        writes = len(records) / (time.perf_counter() - started)
        timings = {}
        for what, query in (("page by status ms", ListQuery(namespace="genomics", job_queue="queue-3",
                                                             status="SUCCEEDED", limit=PAGE + 1)),
                            ("page by name prefix ms", ListQuery(namespace="genomics", name="align-1*",
                                                                  limit=PAGE + 1))):
            samples = []
            for _ in range(5):
                started = time.perf_counter()
                found = await archive.list(query)
                samples.append((time.perf_counter() - started) * 1000)
            assert len(found) == PAGE + 1
            timings[what] = statistics.median(samples)
        return {"bytes per job": await size_of(archive, url) / len(records), "jobs archived per s": writes,
                **timings}
    finally:
        await archive.close()


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):,.1f} ({min(values):,.1f}-{max(values):,.1f})"


async def bench(jobs: int, runs: int) -> None:
    records = [finished_job(index) for index in range(jobs)]
    backends: list[tuple[str, object]] = [("sqlite", None)]
    reason = postgres.postgres_unavailable()
    if reason is None:
        backends.append(("postgresql", postgres.running_postgres()))
    else:
        print(f"PostgreSQL skipped: {reason}")
    print(f"{jobs:,} jobs, {runs} runs; median (min-max)")
    print("| back end | bytes per job | jobs archived per s | page by status ms | page by name prefix ms |")
    print("|---|---:|---:|---:|---:|")
    for name, server in backends:
        results = []
        dsn = server.__enter__() if server is not None else None
        try:
            for run in range(runs):
                with tempfile.TemporaryDirectory() as scratch:
                    url = (postgres.fresh_database(dsn, f"bench_{run}_{uuid.uuid4().hex[:6]}") if dsn
                           else f"sqlite://{scratch}/archive.sqlite")
                    results.append(await one_run(url, records))
        finally:
            if server is not None:
                server.__exit__(None, None, None)
        columns = ("bytes per job", "jobs archived per s", "page by status ms", "page by name prefix ms")
        print(f"| {name} | " + " | ".join(summary([r[c] for r in results]) for c in columns) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    asyncio.run(bench(options.jobs, options.runs))


if __name__ == "__main__":
    main()
