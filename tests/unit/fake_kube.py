"""An in-memory stand-in for ``kubatch.kube.client.Kube``: the service layer's unit-test cluster.

It behaves like the API server where the service depends on it: objects get a uid,
a generation that grows when the spec changes, a creation time; creating an existing
name fails with 409; a missing object raises ``NotFound``; patches are JSON merge
patches; lists filter by namespace and equality label selectors. Tests arrange what
the operator would have written with ``put`` and inject failures with ``fail``.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from kubatch.cli.runtime import Globals, Runtime
from kubatch.controller.store import merged
from kubatch.kube.client import KINDS, ApiError, NotFound
from kubatch.service import ClientException, Context, invoke
from kubatch.service.arns import Arns
from tests.unit.test_api_models import REGISTER_JOB_DEFINITION

Obj = dict[str, Any]
CREATED = "2024-05-01T12:00:00Z"
CREATED_MS = 1714564800000


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 as the API server applies it (the operator's own implementation), on copies."""
    return merged(copy.deepcopy(target), copy.deepcopy(patch))


def _matches(labels: dict[str, str], selector: str) -> bool:
    terms = [term.split("=", 1) for term in selector.split(",") if term]
    return all(labels.get(key) == value for key, value in terms)


class FakeKube:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str | None, str], Obj] = {}
        self.pods: dict[tuple[str, str], Obj] = {}
        self.logs: dict[tuple[str, str, str], str] = {}
        self.failures: dict[tuple[str, str], Exception] = {}
        self.calls: list[tuple[str, str]] = []
        self.writes = 0  # the source of resourceVersions
        self.interleave = False  # True: every call lets other coroutines run first, as a network round trip does

    # ----------------------------------------------------------- arranging the cluster

    def _key(self, kind: str, name: str, namespace: str | None) -> tuple[str, str | None, str]:
        return kind, namespace if KINDS[kind].namespaced else None, name

    def put(self, kind: str, body: Obj, *, namespace: str | None = None) -> Obj:
        """Store ``body`` as the API server would have it (metadata filled in), bypassing checks."""
        obj = copy.deepcopy(body)
        metadata = obj.setdefault("metadata", {})
        metadata.setdefault("uid", str(uuid.uuid4()))
        metadata.setdefault("generation", 1)
        metadata.setdefault("creationTimestamp", CREATED)
        self.writes += 1
        metadata["resourceVersion"] = str(self.writes)
        if KINDS[kind].namespaced:
            metadata["namespace"] = namespace or metadata.get("namespace") or "default"
        obj.update(apiVersion="kubatch.io/v1alpha1", kind=kind)
        self.objects[self._key(kind, metadata["name"], metadata.get("namespace"))] = obj
        return copy.deepcopy(obj)

    def put_pod(self, *, name: str, namespace: str = "default", labels: dict[str, str], phase: str = "Running",
                containers: tuple[str, ...] = ("main",), state: Obj | None = None, log: str = "") -> Obj:
        pod = {"metadata": {"name": name, "namespace": namespace, "labels": labels},
               "spec": {"nodeName": "node-1", "containers": [{"name": c} for c in containers]},
               "status": {"phase": phase, "containerStatuses": [{"state": state or {}}]}}
        self.pods[(namespace, name)] = pod
        for container in containers:
            self.logs[(namespace, name, container)] = log
        return pod

    def fail(self, method: str, kind: str, error: Exception) -> None:
        """Make every later ``method`` call on ``kind`` raise ``error``."""
        self.failures[(method, kind)] = error

    def stored(self, kind: str, name: str, namespace: str | None = "default") -> Obj:
        return self.objects[self._key(kind, name, namespace)]

    async def _turn(self) -> None:
        if self.interleave:
            await asyncio.sleep(0)

    def _enter(self, method: str, kind: str) -> None:
        self.calls.append((method, kind))
        if (method, kind) in self.failures:
            raise self.failures[(method, kind)]

    # ----------------------------------------------------------- the KubeApi protocol

    async def get(self, kind: str, name: str, *, namespace: str | None = None) -> Obj:
        await self._turn()
        self._enter("get", kind)
        try:
            return copy.deepcopy(self.objects[self._key(kind, name, namespace)])
        except KeyError:
            raise NotFound(f"{kind} {name!r} not found") from None

    async def list(self, kind: str, *, namespace: str | None = None, label_selector: str = "") -> list[Obj]:
        self._enter("list", kind)
        return [copy.deepcopy(obj) for (k, ns, _), obj in sorted(self.objects.items(), key=lambda item: item[0][2])
                if k == kind and (namespace is None or ns == namespace)
                and _matches(obj["metadata"].get("labels") or {}, label_selector)]

    async def create(self, kind: str, body: Obj, *, namespace: str | None = None) -> Obj:
        await self._turn()
        self._enter("create", kind)
        if self._key(kind, body["metadata"]["name"], namespace) in self.objects:
            raise ApiError(409, f"{kind} {body['metadata']['name']!r} already exists")
        return self.put(kind, body, namespace=namespace)

    async def patch(self, kind: str, name: str, patch: Obj, *, namespace: str | None = None,
                    status: bool = False) -> Obj:
        await self._turn()
        self._enter("patch", kind)
        key = self._key(kind, name, namespace)
        if key not in self.objects:
            raise NotFound(f"{kind} {name!r} not found")
        before = self.objects[key]
        expected = (patch.get("metadata") or {}).get("resourceVersion")
        if expected is not None and expected != before["metadata"]["resourceVersion"]:
            raise ApiError(409, f"{kind} {name!r}: the object has been modified")
        part = {"status": patch.get("status")} if status else {k: v for k, v in patch.items() if k != "status"}
        after = apply_merge_patch(before, part)
        if after.get("spec") != before.get("spec"):
            after["metadata"]["generation"] += 1
        self.writes += 1
        after["metadata"]["resourceVersion"] = str(self.writes)
        self.objects[key] = after
        return copy.deepcopy(after)

    async def delete(self, kind: str, name: str, *, namespace: str | None = None) -> None:
        self._enter("delete", kind)
        self.objects.pop(self._key(kind, name, namespace), None)

    async def list_pods(self, *, label_selector: str, namespace: str | None = None) -> list[Obj]:
        self._enter("list_pods", "Pod")
        return [copy.deepcopy(pod) for (ns, _), pod in self.pods.items()
                if (namespace is None or ns == namespace) and _matches(pod["metadata"]["labels"], label_selector)]

    async def read_pod_log(self, namespace: str, name: str, *, container: str = "main") -> str:
        self._enter("read_pod_log", "Pod")
        try:
            return self.logs[(namespace, name, container)]
        except KeyError:
            raise NotFound(f"pod {name!r} has no container {container!r}") from None


def make_context(kube: FakeKube, *, namespace: str = "default") -> tuple[Context, list[str]]:
    """A service Context on ``kube`` and the list its warnings go to."""
    warnings: list[str] = []
    return Context(kube=kube, namespace=namespace, warn=warnings.append), warnings


def make_runtime(kube: FakeKube, *, namespace: str = "default") -> Runtime:
    """A CLI Runtime whose connection is ``kube`` (the namespace when ``-n`` is not given)."""

    @asynccontextmanager
    async def connect(settings: Globals) -> AsyncIterator[tuple[FakeKube, str]]:
        yield kube, settings.namespace or namespace

    return Runtime(connect=connect, arns=Arns())


# ------------------------------------------------------------------ shared test material

SEED_DEFINITION = {"jobDefinitionName": "my-batch-job", **REGISTER_JOB_DEFINITION}
"""The seed's job definition, as `register-job-definition --cli-input-json` sends it."""


def changed(base: Obj, change: Obj) -> Obj:
    """``base`` with ``change`` over it; a None in ``change`` removes the field."""
    return {key: value for key, value in {**base, **change}.items() if value is not None}


async def refusal(kube: FakeKube, operation: str, request: Obj) -> str:
    """The message of the ClientException ``operation`` answers ``request`` with."""
    ctx, _ = make_context(kube)
    with pytest.raises(ClientException) as raised:
        await invoke(ctx, operation, request)
    assert "\n" not in raised.value.message
    return raised.value.message


async def provision(kube: FakeKube, *, queues: tuple[str, ...], definition: Obj) -> None:
    """A compute environment "ce", the queues on it, and a job definition."""
    ctx, _ = make_context(kube)
    await invoke(ctx, "CreateComputeEnvironment", {"computeEnvironmentName": "ce", "type": "MANAGED",
                                                   "computeResources": {"type": "EC2", "maxvCpus": 8,
                                                                        "instanceRole": "ecsInstanceRole"}})
    for queue in queues:
        await invoke(ctx, "CreateJobQueue", {"jobQueueName": queue, "priority": 1,
                                             "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "ce"}]})
    await invoke(ctx, "RegisterJobDefinition", definition)
