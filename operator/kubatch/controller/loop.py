"""The one reconcile loop: snapshot the store, plan with the pure core, apply in batches.

Why one loop: capacity is shared, so admission must see all queues and CEs together
(Kueue's snapshot -> nominate -> admit cycle). The loop wakes on any change (after a
short debounce that turns a burst of watch events into one cycle) and on a slow tick
for time-based rules (timeouts, time limits, image-pull grace). The debounce is at least
as long as the last cycle's planning: with thousands of pods changing, cycles would
otherwise run back to back and take a whole core from the API server and kubelets.
Writes run with bounded concurrency; each write's result goes straight into the store
so the next cycle plans from it. Events go to the ``EventRecorder``, which sends them
later.
"""

from __future__ import annotations

import asyncio
import logging
import time
from kubatch import metrics
from kubatch.controller.events import EventRecorder
from kubatch.controller.ratelimit import WriteLimiter
from kubatch.controller.store import Store, merged
from kubatch.core.actions import Action, CreatePod, CreateService, DeletePod, Emit, PatchStatus, Step
from kubatch.controller.gauges import export_gauges
from kubatch.core.reconcile import Settings, plan
from kubatch.core.pods import LABEL_JOB_ID
from kubatch.kube.client import KINDS, ApiError, Kube, NotFound

DEBOUNCE_SECONDS = 0.05
TICK_SECONDS = 2.0
MAX_CONCURRENT_WRITES = 32
TOO_MANY_REQUESTS = 429


def refuses_the_pod_for_good(error: ApiError) -> bool:
    """The API server will never take this pod as it is: a name owned by another job (409), an
    invalid spec (422), or Pod Security admission in the job's namespace (403 "violates PodSecurity").
    Other refusals (RBAC, quota) may clear, so the job stays RUNNABLE and the write is retried."""
    return error.status in (409, 422) or (error.status == 403 and "violates PodSecurity" in error.message)


def plan_cycle(store: Store, *, settings: Settings, now_ms: int) -> list[Step]:
    """A cycle's thinking, before any write: snapshot the store, plan, export the gauges."""
    world = store.snapshot()
    steps = plan(world, now_ms=now_ms, settings=settings)
    export_gauges(world)
    return steps


class ReconcileLoop:
    def __init__(self, *, store: Store, kube: Kube, logger: logging.Logger, settings: Settings,
                 limiter: WriteLimiter, events: EventRecorder, namespaces: tuple[str, ...] = ()) -> None:
        self._store = store
        self._namespaces = namespaces  # empty: every namespace
        self._settings = settings
        self._kube = kube
        self._logger = logger
        self._writes = asyncio.Semaphore(MAX_CONCURRENT_WRITES)
        self._limiter = limiter
        self._events = events
        self.primed = asyncio.Event()
        """Set once the store holds everything listed at start-up (the retention worker waits for it)."""

    async def run(self) -> None:
        await self._prime_with_retries()
        self.primed.set()
        planning_seconds = 0.0
        while True:
            try:
                await asyncio.wait_for(self._store.changed.wait(), timeout=TICK_SECONDS)
                await asyncio.sleep(max(DEBOUNCE_SECONDS, planning_seconds))
            except asyncio.TimeoutError:
                pass
            self._store.changed.clear()
            try:
                planning_seconds = await self.cycle()
            except Exception:  # noqa: BLE001 - one bad cycle must not stop the operator
                self._logger.exception("reconcile cycle failed; retrying on the next wake-up")
                metrics.CYCLE_ERRORS.inc()

    async def _prime_with_retries(self) -> None:
        """A just-started API server answers 429 ("storage is (re)initializing") for a while: retry."""
        delay = 0.5
        while True:
            try:
                await self._prime()
                return
            except ApiError as error:
                wait = error.retry_after if error.retry_after is not None else delay
                self._logger.warning("listing objects failed (%s); retrying in %.1fs", error, wait)
                await asyncio.sleep(wait)
                delay = min(delay * 2, 10)

    async def _prime(self) -> None:
        """List everything once before the first cycle.

        Watch streams start independently; without this, a restarted operator could see
        a RUNNING job before its pod and take the pod for vanished.
        """
        listings = {kind: self._each_namespace(lambda ns, kind=kind: self._kube.list(kind, namespace=ns))
                    if info.namespaced else self._kube.list(kind) for kind, info in KINDS.items()}
        listings["Pod"] = self._each_namespace(
            lambda ns: self._kube.list_pods(label_selector=LABEL_JOB_ID, namespace=ns))
        listings["Node"] = self._kube.list_nodes()
        listings["Namespace"] = self._kube.list_namespaces()
        results = await asyncio.gather(*listings.values())
        for kind, items in zip(listings, results):
            for item in items:
                item.setdefault("kind", kind)
                self._store.record(kind, item)
        self._logger.info("store primed: %s", {kind: len(items) for kind, items in zip(listings, results)})

    async def _each_namespace(self, list_in) -> list[dict]:
        """``list_in(namespace)`` over the watched namespaces (None: all), joined: an operator
        confined to some namespaces may not list the others (its RBAC says so)."""
        if not self._namespaces:
            return await list_in(None)
        listings = await asyncio.gather(*(list_in(namespace) for namespace in self._namespaces))
        return [item for listing in listings for item in listing]

    async def cycle(self) -> float:
        """One cycle; returns the seconds it spent planning."""
        started = time.perf_counter()
        steps = plan_cycle(self._store, settings=self._settings, now_ms=int(time.time() * 1000))
        planning_seconds = time.perf_counter() - started
        metrics.CYCLE_SECONDS.observe(planning_seconds)
        if steps:
            async with self._limiter.applying():
                await asyncio.gather(*(self._apply(step) for step in steps))
        return planning_seconds

    async def _apply(self, step: Step) -> None:
        async with self._writes:
            for action in step.actions:
                if isinstance(action, Emit):
                    self._events.record(action)
                    continue
                await self._limiter.acquire()
                try:
                    await self._perform(action)
                except NotFound:
                    return  # the object went away; the next cycle sees that
                except ApiError as error:
                    if error.status == TOO_MANY_REQUESTS:
                        self._limiter.retry_after(error.retry_after or 1.0)
                    self._logger.warning("%s failed: %s", type(action).__name__, error)
                    metrics.DISPATCH_ERRORS.labels(action=type(action).__name__).inc()
                    return

    async def _perform(self, action: Action) -> None:
        if isinstance(action, PatchStatus):
            held = self._store.get(action.kind, action.namespace, action.name)
            assumption = (self._store.assume(action.kind, merged(held, {"status": action.patch}))
                          if held is not None else None)
            try:
                body = {"status": action.patch, **({"metadata": action.metadata} if action.metadata else {})}
                updated = await self._kube.patch(action.kind, action.name, body,
                                                 namespace=action.namespace or None, status=True)
            except ApiError:
                if assumption is not None:
                    self._store.roll_back(assumption)
                raise
            self._store.record(action.kind, updated)
            if action.kind == "BatchJob" and action.patch.get("status") == "STARTING":
                created_ms = (updated.get("status") or {}).get("createdAt") or 0
                metrics.SUBMIT_TO_STARTING_SECONDS.observe(max(0.0, time.time() - created_ms / 1000))
        elif isinstance(action, CreatePod):
            assumption = self._store.assume("Pod", action.manifest)
            try:
                created = await self._kube.create_pod(action.manifest, owner_label=LABEL_JOB_ID)
            except ApiError as error:
                self._store.roll_back(assumption)
                if refuses_the_pod_for_good(error) and action.on_invalid is not None:
                    patch = dict(action.on_invalid.patch)
                    patch["statusMessage"] = f"{patch.get('statusMessage', '')}: {error.message}"
                    await self._limiter.acquire()  # a write of its own: rate-limited and fenced
                    await self._perform(PatchStatus(action.on_invalid.kind, action.on_invalid.namespace,
                                                    action.on_invalid.name, patch))
                raise
            self._store.record("Pod", created)
            metrics.PODS_CREATED.inc()
        elif isinstance(action, CreateService):
            await self._kube.create_service(action.manifest)
        elif isinstance(action, DeletePod):
            await self._kube.delete_pod(action.namespace, action.name, grace_seconds=action.grace_seconds)

