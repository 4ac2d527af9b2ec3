"""kopf handlers: they only feed the store and wake the loop; decisions happen in the loop.

Why so thin: one scheduling loop over a snapshot sees every queue and CE at once and
can batch its writes; per-object handlers with their own timers would not scale to
thousands of jobs and would race each other for the same quota. Raw watch-event
handlers also mean kopf keeps no progress annotations and adds no finalizers.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import kopf

from kubatch.controller.events import EventRecorder
from kubatch.controller.leader import LeaderElector
from kubatch.controller.loop import ReconcileLoop
from kubatch.controller.retention import RetentionWorker
from kubatch.controller.store import Store
from kubatch.core.pods import LABEL_JOB_ID
from kubatch.kube.client import GROUP, KINDS, VERSION, ApiError, Kube


class NoDiffBase(kopf.DiffBaseStorage):
    """No "last handled" essence: kopf builds one per watch event (a deep copy of the object) for
    change-detecting handlers (on.create, on.update, on.field). We register only raw event
    handlers, so nothing reads it; building it was a fifth of the operator's CPU in the
    10,000-child array benchmark."""

    def build(self, *, body: kopf.Body, extra_fields: Any = None) -> kopf.BodyEssence:
        return kopf.BodyEssence()

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        return None


@kopf.on.startup()
async def start(settings: kopf.OperatorSettings, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    settings.posting.enabled = False  # our own Events say what happened to a job
    settings.watching.server_timeout = 300
    settings.persistence.diffbase_storage = NoDiffBase()
    memo.store = Store()
    memo.kube = await Kube.connect()
    memo.events = EventRecorder(sink=memo.kube, limiter=memo.write_limiter, logger=logger)
    memo.loop = ReconcileLoop(store=memo.store, kube=memo.kube, logger=logger, settings=memo.settings,
                              namespaces=memo.namespaces, limiter=memo.write_limiter, events=memo.events)
    memo.elector = (LeaderElector(kube=memo.kube, namespace=memo.leader_namespace, logger=logger)
                    if memo.leader_namespace else None)
    if memo.elector is not None:  # no write without a fresh Lease renewal
        memo.write_limiter.fence(memo.elector.check_fresh)
    memo.retention = (RetentionWorker(store=memo.store, kube=memo.kube, archive=memo.archive,
                                      default_seconds=memo.retention_seconds, logger=logger,
                                      limiter=memo.write_limiter)
                      if memo.get("archive") is not None else None)
    memo.loop_task = asyncio.create_task(_lead_then_reconcile(memo), name="kubatch-reconcile-loop")
    memo.loop_task.add_done_callback(_stop_if_task_died)
    memo.events_task = asyncio.create_task(memo.events.run(), name="kubatch-event-sender")
    memo.events_task.add_done_callback(_stop_if_task_died)


async def _lead_then_reconcile(memo: kopf.Memo) -> None:
    """With leader election, follow until the Lease is ours (the watch cache fills meanwhile), then act."""
    if memo.elector is not None:
        await memo.elector.acquire()
        memo.keep_task = asyncio.create_task(memo.elector.keep(), name="kubatch-lease-renewal")
        memo.keep_task.add_done_callback(_stop_if_task_died)
    if memo.retention is not None:
        memo.retention_task = asyncio.create_task(_retain_once_primed(memo), name="kubatch-retention")
        memo.retention_task.add_done_callback(_stop_if_task_died)
    await memo.loop.run()


async def _retain_once_primed(memo: kopf.Memo) -> None:
    """Archive finished jobs, but only once the store holds every job: a dependent not yet seen must still
    hold its dependency in the cluster."""
    await memo.loop.primed.wait()
    await memo.retention.run()


def _stop_if_task_died(task: asyncio.Task) -> None:
    """The loop (and its Lease renewal and Event sender) is the operator: if one ever dies, say why
    and exit so a supervisor restarts us."""
    if task.cancelled():
        return
    error = task.exception()
    logging.getLogger("kubatch").critical("%s stopped: %r; exiting", task.get_name(), error, exc_info=error)
    os._exit(70)


@kopf.on.cleanup()
async def stop(memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    for task in (memo.get("keep_task"), memo.get("retention_task"), memo.loop_task, memo.events_task):
        if task is None:
            continue
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
    if memo.get("keep_task") is not None:
        try:
            await memo.elector.release()
        except ApiError as error:
            logger.warning("could not release the Lease: %s", error)
    await memo.kube.close()
    if memo.get("archive") is not None:
        await memo.archive.close()


def _feed(kind: str):
    async def observe(event: dict[str, Any], body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
        memo.store.observe(kind, event.get("type"), dict(body))
    return observe


for _kind, _info in KINDS.items():
    kopf.on.event(GROUP, VERSION, _info.plural, id=f"observe-{_kind}")(_feed(_kind))
kopf.on.event("", "v1", "pods", labels={LABEL_JOB_ID: kopf.PRESENT}, id="observe-Pod")(_feed("Pod"))
kopf.on.event("", "v1", "nodes", id="observe-Node")(_feed("Node"))
kopf.on.event("", "v1", "namespaces", id="observe-Namespace")(_feed("Namespace"))
