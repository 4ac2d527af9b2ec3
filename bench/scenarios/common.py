"""What every scenario needs: API clients, raw watches, the operator process, the machine.

Why raw JSON and raw watch streams: the harness must not be the bottleneck it measures.
Deserialising 10,000 pods into the client's model classes costs seconds of CPU on a
2-core machine, so every call asks for the raw response and watches are read line by
line (a parent BatchJob of a big array can be a line of megabytes, longer than
aiohttp's readline allows).

Times are ``time.monotonic()`` seconds as the harness observes them (watch event
received, create call returned); the same clock for every contender.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

from kubernetes_asyncio import client, config

from bench.scenarios.cost import Meter, Reading, proc_cpu_seconds, proc_peak_rss_mib
from bench.scenarios.localcluster import component_pids
from kubatch.core.pods import Attempt, ComputePlacement, build_container_pod

REPO_ROOT = Path(__file__).resolve().parents[2]
GROUP, VERSION = "kubatch.io", "v1alpha1"
MERGE_PATCH = "application/merge-patch+json"
BENCH_LABEL = "kubatch.io/bench"


def now() -> float:
    return time.monotonic()


# ----------------------------------------------------------------------------- API access


class ApiFailure(RuntimeError):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status


async def _json(response: Any) -> dict[str, Any]:
    body = await response.read()
    if not 200 <= response.status <= 299:
        raise ApiFailure(response.status, body.decode(errors="replace"))
    return json.loads(body) if body else {}


async def _configuration(kubeconfig: Path, pool: int) -> client.Configuration:
    configuration = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    configuration.connection_pool_maxsize = pool
    return configuration


@dataclass
class Api:
    """kubernetes_asyncio, raw: one client for writes (pooled), one for long-lived watches."""

    writes: client.ApiClient
    watches: client.ApiClient

    @classmethod
    async def connect(cls, kubeconfig: Path, *, pool: int = 64) -> "Api":
        return cls(client.ApiClient(await _configuration(kubeconfig, pool)),
                   client.ApiClient(await _configuration(kubeconfig, 16)))

    async def close(self) -> None:
        await self.writes.close()
        await self.watches.close()

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.writes)

    @property
    def batch(self) -> client.BatchV1Api:
        return client.BatchV1Api(self.writes)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.writes)

    def watch_pods(self, namespace: str) -> Callable[..., Awaitable[Any]]:
        return functools.partial(client.CoreV1Api(self.watches).list_namespaced_pod, namespace)

    def watch_jobs(self, namespace: str) -> Callable[..., Awaitable[Any]]:
        return functools.partial(client.BatchV1Api(self.watches).list_namespaced_job, namespace)

    def watch_crs(self, plural: str, namespace: str) -> Callable[..., Awaitable[Any]]:
        return functools.partial(client.CustomObjectsApi(self.watches).list_namespaced_custom_object,
                                 GROUP, VERSION, namespace, plural)

    async def metrics_text(self) -> str:
        """The API server's own /metrics (Prometheus text)."""
        response = await self.writes.call_api("/metrics", "GET", auth_settings=["BearerToken"],
                                              _preload_content=False)
        body = await response.read()
        if response.status != 200:
            raise ApiFailure(response.status, body.decode(errors="replace"))
        return body.decode()

    # kubatch objects ---------------------------------------------------------------

    async def create_cr(self, plural: str, body: dict[str, Any], *, namespace: str | None = None) -> dict:
        body = {"apiVersion": f"{GROUP}/{VERSION}", **body}
        if namespace:
            call = self.custom.create_namespaced_custom_object(GROUP, VERSION, namespace, plural, body,
                                                               _preload_content=False)
        else:
            call = self.custom.create_cluster_custom_object(GROUP, VERSION, plural, body, _preload_content=False)
        return await _json(await call)

    async def patch_cr(self, plural: str, name: str, patch: dict[str, Any], *, namespace: str | None = None) -> dict:
        if namespace:
            call = self.custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, plural, name, patch,
                                                              _content_type=MERGE_PATCH, _preload_content=False)
        else:
            call = self.custom.patch_cluster_custom_object(GROUP, VERSION, plural, name, patch,
                                                           _content_type=MERGE_PATCH, _preload_content=False)
        return await _json(await call)

    async def get_cr(self, plural: str, name: str, *, namespace: str | None = None) -> dict:
        if namespace:
            call = self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, plural, name,
                                                            _preload_content=False)
        else:
            call = self.custom.get_cluster_custom_object(GROUP, VERSION, plural, name, _preload_content=False)
        return await _json(await call)

    async def delete_cr(self, plural: str, name: str) -> None:
        try:
            await _json(await self.custom.delete_cluster_custom_object(GROUP, VERSION, plural, name,
                                                                       _preload_content=False))
        except ApiFailure as error:
            if error.status != 404:
                raise

    # namespaces ----------------------------------------------------------------------

    async def create_namespace(self, name: str, run_id: str) -> None:
        body = {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name, "labels": {BENCH_LABEL: run_id}}}
        await _json(await self.core.create_namespace(body, _preload_content=False))

    async def delete_namespace(self, name: str, *, wait: bool = True, timeout: float = 900) -> float:
        """Delete and (by default) wait until it is gone; returns the seconds it took."""
        began = now()
        try:
            # Pods first, without grace: they have all ended, and a graceful delete would wait
            # for kwok to remove each one (minutes for 10,000 on a loaded machine).
            await _json(await self.core.delete_collection_namespaced_pod(name, grace_period_seconds=0,
                                                                         _preload_content=False))
        except ApiFailure as error:
            if error.status != 404:
                raise
        try:
            await _json(await self.core.delete_namespace(name, _preload_content=False))
        except ApiFailure as error:
            if error.status != 404:
                raise
        while wait and now() - began < timeout:
            try:
                await _json(await self.core.read_namespace(name, _preload_content=False))
            except ApiFailure as error:
                if error.status == 404:
                    break
                raise
            await asyncio.sleep(1)
        return now() - began


async def bounded(concurrency: int, items: list[Any], work: Callable[[Any], Awaitable[None]]) -> None:
    """Run ``work`` over ``items`` with at most ``concurrency`` in flight (workers, not a task each)."""
    queue: asyncio.Queue = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def worker() -> None:
        while True:
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await work(item)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(items)) or 1)))


# ----------------------------------------------------------------------------- raw watches


async def _lines(response: Any) -> AsyncIterator[bytes]:
    parts: list[bytes] = []
    async for chunk in response.content.iter_any():
        start = 0
        while True:
            at = chunk.find(b"\n", start)
            if at < 0:
                parts.append(chunk[start:])
                break
            parts.append(chunk[start:at])
            line = b"".join(parts)
            parts = []
            start = at + 1
            if line.strip():
                yield line


Handler = Callable[[str, dict[str, Any], float], None]


async def watch(list_call: Callable[..., Awaitable[Any]], handler: Handler, *, ready: asyncio.Event | None = None,
                **params: Any) -> None:
    """List then watch (``list_call`` is a generated list method); every object goes to ``handler``.

    Runs until cancelled. Reconnects where it left off; after 410 Gone it lists again.
    """
    resource_version = None
    while True:
        if resource_version is None:
            listing = await _json(await list_call(_preload_content=False, **params))
            resource_version = listing["metadata"]["resourceVersion"]
            for item in listing.get("items", []):
                handler("ADDED", item, now())
            if ready is not None:
                ready.set()
        response = await list_call(watch=True, resource_version=resource_version, allow_watch_bookmarks=True,
                                   timeout_seconds=3600, _preload_content=False, _request_timeout=None, **params)
        try:
            async for line in _lines(response):
                received = now()
                event = json.loads(line)
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        resource_version = None
                        break
                    raise ApiFailure(obj.get("code") or 0, obj.get("message") or "watch error")
                resource_version = obj.get("metadata", {}).get("resourceVersion") or resource_version
                if kind != "BOOKMARK":
                    handler(kind, obj, received)
        finally:
            response.release()


@asynccontextmanager
async def watching(list_call: Callable[..., Awaitable[Any]], handler: Handler, **params: Any) -> AsyncIterator[None]:
    """A watch running in the background for the duration of the block (started before it)."""
    ready = asyncio.Event()
    task = asyncio.create_task(watch(list_call, handler, ready=ready, **params))
    waiter = asyncio.create_task(ready.wait())
    done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        waiter.cancel()
        task.result()  # raises what ended the watch
    try:
        yield
    finally:
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception):  # noqa: BLE001 - the block's own error matters
            pass


async def until(event: asyncio.Event, *, timeout: float, what: str) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout=timeout)
    except asyncio.TimeoutError:
        raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}") from None


class PodTracker:
    """Per pod: when the harness first saw it, when it first saw it Succeeded (or Failed)."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.added: dict[str, float] = {}
        self.succeeded: dict[str, float] = {}
        self.failed: dict[str, float] = {}
        self.bound: dict[str, float] = {}  # spec.nodeName first seen (the scheduler's part done)
        self.running: dict[str, float] = {}  # Running (or later) first seen (kwok started it)
        self.labels: dict[str, dict[str, str]] = {}
        self.all_succeeded = asyncio.Event()
        self.any_failed = asyncio.Event()

    def __call__(self, kind: str, pod: dict[str, Any], at: float) -> None:
        name = pod["metadata"]["name"]
        if name not in self.added:
            self.added[name] = at
            self.labels[name] = pod["metadata"].get("labels") or {}
        phase = (pod.get("status") or {}).get("phase")
        if name not in self.bound and (pod.get("spec") or {}).get("nodeName"):
            self.bound[name] = at
        if name not in self.running and phase in ("Running", "Succeeded", "Failed"):
            self.running[name] = at
        if phase == "Succeeded" and name not in self.succeeded:
            self.succeeded[name] = at
            if len(self.succeeded) >= self.expected:
                self.all_succeeded.set()
        elif phase == "Failed" and name not in self.failed:
            self.failed[name] = at
            self.any_failed.set()

    def first_added(self) -> float | None:
        return min(self.added.values(), default=None)

    def last_added(self) -> float | None:
        return max(self.added.values(), default=None)

    def last_succeeded(self) -> float | None:
        return max(self.succeeded.values(), default=None)


# ----------------------------------------------------------------------------- pods as kubatch makes them


def tiny_container(*, vcpus: str, memory_mib: str) -> dict[str, Any]:
    return {"image": "busybox", "command": ["true"],
            "resourceRequirements": [{"type": "VCPU", "value": vcpus}, {"type": "MEMORY", "value": memory_mib}]}


def kubatch_like_pod(*, namespace: str, job_name: str, index: int | None, size: int | None, queue: str,
                     compute_environment: str, container: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    """The pod kubatch would create for child ``index`` (its spec: requests, env, nodeSelector,
    tolerations), with kubatch's own labels replaced by ``labels`` so the operator never
    mistakes it for one of its pods."""
    attempt = Attempt(namespace=namespace, job_name=job_name, job_uid=f"bench-{job_name}", queue=queue,
                      attempt=1, array_index=index, array_size=size)
    pod = build_container_pod(attempt=attempt, placement=ComputePlacement(name=compute_environment, type="EC2"),
                              container=container, parameters={}, attempt_duration_seconds=None)
    pod["metadata"]["labels"] = dict(labels)
    return pod


# ----------------------------------------------------------------------------- the operator


class OperatorHandle:
    """The kubatch operator a scenario runs against; ``pid`` None: not on this machine."""

    pid: int | None = None
    managed = False

    async def start(self, label: str) -> None:  # noqa: B027 - external operators are already running
        pass

    async def stop(self) -> None:  # noqa: B027
        pass

    def cpu_seconds(self) -> float | None:
        return proc_cpu_seconds(self.pid) if self.pid else None

    def peak_rss_mib(self) -> float | None:
        return proc_peak_rss_mib(self.pid) if self.pid else None


class ExternalOperator(OperatorHandle):
    """An operator someone else runs (the e2e session's fixture): measured if its pid is known."""

    def __init__(self, pid: int | None = None) -> None:
        self.pid = pid


PR_SET_PDEATHSIG = 1


def _die_with_the_benchmark() -> None:
    """Runs in the operator's process before exec: SIGTERM it when the benchmark process dies.

    An interrupted run (Ctrl-C, kill) otherwise leaves its operator running, and the next
    run's operator then shares the cluster with it: two operators without a leader Lease
    write the same parents, which corrupted an array's counts in one such run.
    """
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class ManagedOperator(OperatorHandle):
    """``kubatch operator`` as a subprocess, started fresh per scenario so peak RSS is that scenario's."""

    managed = True

    def __init__(self, *, kubeconfig: Path, log_dir: Path, api_qps: float, api_burst: int,
                 profiler: str | None = None) -> None:
        self.kubeconfig = kubeconfig
        self.api_qps, self.api_burst = api_qps, api_burst
        self.log_dir = log_dir
        self.profiler = profiler  # path of py-spy, or None
        self.process: subprocess.Popen | None = None
        self.spy: subprocess.Popen | None = None
        self.log: Path | None = None
        self.profile: Path | None = None

    async def start(self, label: str) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.log = self.log_dir / f"operator-{label}.log"
        env = os.environ | {"KUBECONFIG": str(self.kubeconfig)}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kubatch.cli.main", "operator", "--all-namespaces",
                 "--metrics-port", "0", "--health-port", "0",
                 "--api-qps", str(self.api_qps), "--api-burst", str(self.api_burst)],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT,
                preexec_fn=_die_with_the_benchmark)
        self.pid = self.process.pid
        deadline = now() + 60
        while "store primed" not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None:
                raise RuntimeError(f"operator exited ({self.process.returncode}); see {self.log}")
            if now() > deadline:
                raise TimeoutError(f"operator not ready after 60s; see {self.log}")
            await asyncio.sleep(0.2)
        if self.profiler:
            self.profile = self.log_dir / f"profile-{label}.txt"
            self.spy = subprocess.Popen([self.profiler, "record", "--pid", str(self.pid), "--rate", "50",
                                         "--format", "raw", "--nonblocking", "-o", str(self.profile)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def stop(self) -> None:
        if self.spy is not None:
            self.spy.send_signal(signal.SIGINT)
            try:
                self.spy.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.spy.kill()
            self.spy = None
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        self.pid = None


@dataclass
class OperatorSample:
    """CPU seconds used and peak RSS of the operator over one measured interval."""

    cpu_start: float | None
    handle: OperatorHandle
    cpu_seconds: float | None = None
    peak_rss_mib: float | None = None

    @classmethod
    def begin(cls, handle: OperatorHandle) -> "OperatorSample":
        return cls(cpu_start=handle.cpu_seconds(), handle=handle)

    def end(self) -> "OperatorSample":
        cpu = self.handle.cpu_seconds()
        if cpu is not None and self.cpu_start is not None:
            self.cpu_seconds = round(cpu - self.cpu_start, 2)
        rss = self.handle.peak_rss_mib()
        self.peak_rss_mib = round(rss, 1) if rss is not None else None
        return self


# ----------------------------------------------------------------------------- the bench


@dataclass
class Bench:
    """One benchmark run: the cluster, the clients, the operator, a run id for unique names."""

    kubeconfig: Path
    api: Api
    operator: OperatorHandle
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    write_concurrency: int = 32
    # every contender's client-side write limit: the operator's --api-qps/--api-burst, the raw
    # client's token bucket, kube-controller-manager's --kube-api-qps/--kube-api-burst
    api_qps: float = 500
    api_burst: int = 1000
    log: Callable[[str], None] = print
    # repetitions of every scenario x contender (contenders in a rotating order, see stats.rotations)
    repeat: int = 1
    # whole-cluster cost of each measured interval (None: not measured)
    meter: Meter | None = None
    # receives every finished row (run.py writes each to its own JSON file at once)
    sink: Callable[[dict[str, Any]], None] | None = None

    def limits(self) -> dict[str, Any]:
        return {"qps": self.api_qps, "burst": self.api_burst}

    async def cost_begin(self) -> Reading | None:
        return await self.meter.begin() if self.meter else None

    async def cost_end(self, reading: Reading | None) -> dict[str, Any] | None:
        return await self.meter.end(reading) if self.meter and reading is not None else None

    def record(self, row: dict[str, Any]) -> dict[str, Any]:
        if self.sink is not None:
            self.sink(row)
        return row

    def name(self, prefix: str) -> str:
        return f"{prefix}-{self.run_id}"

    @asynccontextmanager
    async def namespace(self, prefix: str) -> AsyncIterator[str]:
        """A namespace of the contender's own, deleted (and waited for) afterwards."""
        name = self.name(prefix)
        await self.api.create_namespace(name, self.run_id)
        try:
            yield name
        finally:
            seconds = await self.api.delete_namespace(name)
            self.log(f"   cleanup: namespace {name} deleted in {seconds:.0f}s")

    @asynccontextmanager
    async def kubatch_operator(self, label: str) -> AsyncIterator[OperatorHandle]:
        await self.operator.start(label)
        try:
            yield self.operator
        finally:
            await self.operator.stop()


async def wait_for(probe: Callable[[], Awaitable[Any]], *, timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = now() + timeout
    last = None
    while now() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")


# ----------------------------------------------------------------------------- the machine


def cluster_meter(api: Api, cluster_dir: Path | None, operator: OperatorHandle) -> Meter:
    """Every process of the local cluster, the operator of the moment, this harness; the API server's counts."""
    return Meter(processes=lambda: {**component_pids(cluster_dir), "operator": operator.pid, "harness": os.getpid()},
                 metrics=api.metrics_text)


def machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text()
    total_kib = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(total_kib / 1024**2, 1),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
