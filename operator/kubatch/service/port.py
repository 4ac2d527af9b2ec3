"""What the service layer needs from Kubernetes: the subset of ``kubatch.kube.client.Kube`` it calls.

Why a Protocol: the service is tested against an in-memory fake with the same methods,
and it stays independent of the client library (only ``kubatch.kube`` imports it). The
error contract is the access layer's too: a missing object raises
``kubatch.kube.client.NotFound``, any other refusal ``kubatch.kube.client.ApiError``.
"""

from __future__ import annotations

from typing import Any, Protocol

Obj = dict[str, Any]


class KubeApi(Protocol):
    async def get(self, kind: str, name: str, *, namespace: str | None = None) -> Obj: ...

    async def list(self, kind: str, *, namespace: str | None = None, label_selector: str = "") -> list[Obj]: ...

    async def create(self, kind: str, body: Obj, *, namespace: str | None = None) -> Obj: ...

    async def patch(self, kind: str, name: str, patch: Obj, *, namespace: str | None = None,
                    status: bool = False) -> Obj: ...

    async def delete(self, kind: str, name: str, *, namespace: str | None = None) -> None: ...

    async def list_pods(self, *, label_selector: str, namespace: str | None = None) -> list[Obj]: ...

    async def read_pod_log(self, namespace: str, name: str, *, container: str = "main") -> str: ...
