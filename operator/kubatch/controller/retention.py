"""The retention worker: finished jobs past their retention go to the archive, then leave the cluster.

Why a worker beside the loop, not actions of the planner: archiving is I/O to a
database, slow next to a status patch, and nothing the scheduler decides depends on it.
Every ``PASS_SECONDS`` (and only on the leader: it starts after the Lease is ours)
the worker asks ``kubatch.core.retention`` which jobs of the store are due, then for
each one:

1. GETs the full BatchJob from the API server (the store keeps only a slim record of
   finished jobs) and checks it is still the same finished job (uid, status);
2. shapes its DescribeJobs records (``kubatch.service.archived.records_of``, with its
   children's and nodes' pods, which still exist) and writes them to the archive;
3. deletes the BatchJob; its pods go with it by their owner references.

Crash safety: the archive write comes first and is idempotent by job id, so a crash
between 2 and 3 leaves the job in both places, and the next pass archives it again
(same rows) and deletes it: no job is lost, none is listed twice (readers list a job
found in both places once). A job is never deleted unarchived. For the crash tests,
``KUBATCH_FAULT_AFTER_ARCHIVE=1`` makes the process SIGKILL itself right after a write.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time

from kubatch import metrics
from kubatch.archive import Archive
from kubatch.controller.ratelimit import WriteLimiter
from kubatch.controller.store import Store
from kubatch.core.retention import FINISHED, DueJob, due_for_archiving
from kubatch.kube.client import ApiError, Kube, NotFound
from kubatch.service.archived import STORED_ARNS, records_of
from kubatch.service.context import Context

PASS_SECONDS = 5.0
BATCH = 200
"""Jobs one pass archives at most (40 a second, 3.4 million a day); the rest wait for the next pass."""
FAULT_AFTER_ARCHIVE = "KUBATCH_FAULT_AFTER_ARCHIVE"


class RetentionWorker:
    def __init__(self, *, store: Store, kube: Kube, archive: Archive, default_seconds: int,
                 logger: logging.Logger, limiter: WriteLimiter | None = None) -> None:
        self._limiter = limiter  # deletes are writes: they share the operator's --api-qps budget
        self._store = store
        self._kube = kube
        self._archive = archive
        self._default_seconds = default_seconds
        self._logger = logger

    async def run(self) -> None:
        while True:
            try:
                await self.run_once(now_ms=int(time.time() * 1000))
            except Exception:  # noqa: BLE001 - the database or API server may be away for a while
                self._logger.exception("archiving finished jobs failed; retrying in %.0fs", PASS_SECONDS)
                metrics.ARCHIVE_ERRORS.inc()
            await asyncio.sleep(PASS_SECONDS)

    async def run_once(self, *, now_ms: int) -> int:
        """One pass; returns how many jobs it archived and deleted."""
        # live jobs are held whole; finished ones as compact records, shown in a BatchJob's shape
        jobs = [*self._store.objects.get("BatchJob", {}).values(), *(job.as_object() for job in self._store.finished)]
        queues = {name: queue for (_, name), queue in self._store.objects.get("JobQueue", {}).items()}
        due = due_for_archiving(jobs, queues, now_ms=now_ms, default_seconds=self._default_seconds, limit=BATCH)
        done = 0
        for job in due:
            if await self._archive_and_delete(job):
                done += 1
        return done

    async def _archive_and_delete(self, due: DueJob) -> bool:
        try:
            job = await self._kube.get("BatchJob", due.name, namespace=due.namespace)
        except NotFound:
            return False
        if job["metadata"].get("uid") != due.uid or (job.get("status") or {}).get("status") not in FINISHED:
            return False  # a namesake, or restarted: the store was behind; the next pass sees the truth
        records = await records_of(Context(kube=self._kube, namespace=due.namespace, arns=STORED_ARNS), job)
        await self._archive.put(records)
        if os.environ.get(FAULT_AFTER_ARCHIVE) == "1":
            os.kill(os.getpid(), signal.SIGKILL)
        if self._limiter is not None:
            await self._limiter.acquire()
        try:
            await self._kube.delete("BatchJob", due.name, namespace=due.namespace)
        except NotFound:
            pass
        except ApiError as error:
            self._logger.warning("archived %s/%s but could not delete it: %s", due.namespace, due.name, error)
            return False
        metrics.JOBS_ARCHIVED.inc()
        return True
