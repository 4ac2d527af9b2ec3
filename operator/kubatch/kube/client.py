"""The only place that talks to the Kubernetes API: async, plain dicts in and out.

Why plain dicts: the core works on the API's JSON, and deserialising into the client's
generated model classes costs more than the rest of a reconcile. Every call here asks
for the raw response (``_preload_content=False``) and decodes the JSON itself.
Idempotence lives here too: creating what exists and deleting what is gone succeed.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any, Awaitable, Callable, TypeVar

from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

from kubatch.kinds import API_VERSION, GROUP, KINDS, VERSION  # noqa: F401  (GROUP, VERSION: the watches use them)

MERGE_PATCH = "application/merge-patch+json"
T = TypeVar("T")

class ApiError(Exception):
    """The API server refused a request; ``status`` is the HTTP code, ``message`` its reason."""

    def __init__(self, status: int, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.retry_after = retry_after  # seconds the server asked to wait (HTTP 429's Retry-After), if it said

    @classmethod
    def from_exception(cls, error: ApiException) -> "ApiError":
        """Raised by the client library itself, e.g. when the server cannot be reached."""
        return cls(error.status or 0, str(error.reason))


class NotFound(ApiError, LookupError):
    def __init__(self, message: str) -> None:
        super().__init__(404, message)


def _translated(method: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Callers above this layer see ApiError, never the client library's exceptions."""

    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return await method(*args, **kwargs)
        except ApiException as error:
            raise ApiError.from_exception(error) from None

    return wrapper


def _retry_after(response: Any) -> float | None:
    value = (getattr(response, "headers", None) or {}).get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:  # an HTTP date: rare from the API server; wait a second
        return 1.0


async def _json(response: Any) -> dict[str, Any]:
    """Decode a raw response; a non-2xx status becomes ApiError (NotFound for 404).

    With ``_preload_content=False`` the client library returns error responses
    instead of raising, so every call here goes through this check.
    """
    body = await response.read()
    if not 200 <= response.status <= 299:
        try:
            message = json.loads(body).get("message") or response.reason
        except ValueError:
            message = body.decode(errors="replace")[:500] or str(response.reason)
        if response.status == 404:
            raise NotFound(message)
        raise ApiError(response.status, message, retry_after=_retry_after(response))
    return json.loads(body) if body else {}


def ignore_environment(api_client: client.ApiClient) -> None:
    """Take the API server's address and proxy from the kubeconfig only, as kopf's watch streams do.

    kubernetes_asyncio's aiohttp session trusts the environment, so before every request aiohttp
    looks for ~/.netrc credentials in a worker thread: in the many-jobs benchmark that thread hop
    was a sixth of the operator's CPU. aiohttp has no setter for it; its ``trust_env`` property
    reads the attribute set here, and a unit test watches that it still does."""
    api_client.rest_client.pool_manager._trust_env = False


class Kube:
    """An async client bound to one cluster (kubeconfig, context, or in-cluster)."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self._api = api_client
        self._custom = client.CustomObjectsApi(api_client)
        self._core = client.CoreV1Api(api_client)
        self._events = client.EventsV1Api(api_client)
        self._coordination = client.CoordinationV1Api(api_client)

    @classmethod
    async def connect(cls, *, kubeconfig: str | None = None, context: str | None = None) -> "Kube":
        configuration = client.Configuration()
        if kubeconfig or os.environ.get("KUBECONFIG") or not os.environ.get("KUBERNETES_SERVICE_HOST"):
            await config.load_kube_config(config_file=kubeconfig, context=context,
                                          client_configuration=configuration)
        else:
            config.load_incluster_config(client_configuration=configuration)
        configuration.connection_pool_maxsize = 64
        api_client = client.ApiClient(configuration)
        ignore_environment(api_client)
        return cls(api_client)

    async def close(self) -> None:
        await self._api.close()

    # ---------------------------------------------------------------- kubatch objects

    @_translated
    async def get(self, kind: str, name: str, *, namespace: str | None = None) -> dict[str, Any]:
        info = KINDS[kind]
        if info.namespaced:
            response = await self._custom.get_namespaced_custom_object(
                GROUP, VERSION, namespace, info.plural, name, _preload_content=False)
        else:
            response = await self._custom.get_cluster_custom_object(
                GROUP, VERSION, info.plural, name, _preload_content=False)
        return await _json(response)

    @_translated
    async def list(self, kind: str, *, namespace: str | None = None, label_selector: str = "") -> list[dict[str, Any]]:
        info = KINDS[kind]
        if info.namespaced and namespace:
            response = await self._custom.list_namespaced_custom_object(
                GROUP, VERSION, namespace, info.plural, label_selector=label_selector, _preload_content=False)
        else:
            response = await self._custom.list_cluster_custom_object(
                GROUP, VERSION, info.plural, label_selector=label_selector, _preload_content=False)
        return (await _json(response)).get("items", [])

    @_translated
    async def create(self, kind: str, body: dict[str, Any], *, namespace: str | None = None) -> dict[str, Any]:
        info = KINDS[kind]
        body = {"apiVersion": API_VERSION, "kind": kind, **body}
        if info.namespaced:
            response = await self._custom.create_namespaced_custom_object(
                GROUP, VERSION, namespace, info.plural, body, _preload_content=False)
        else:
            response = await self._custom.create_cluster_custom_object(
                GROUP, VERSION, info.plural, body, _preload_content=False)
        return await _json(response)

    @_translated
    async def patch(self, kind: str, name: str, patch: dict[str, Any], *, namespace: str | None = None,
                    status: bool = False) -> dict[str, Any]:
        """JSON merge patch of the object, or of its status subresource."""
        info = KINDS[kind]
        if info.namespaced:
            method = (self._custom.patch_namespaced_custom_object_status if status
                      else self._custom.patch_namespaced_custom_object)
            call = method(GROUP, VERSION, namespace, info.plural, name, patch,
                          _content_type=MERGE_PATCH, _preload_content=False)
        else:
            method = (self._custom.patch_cluster_custom_object_status if status
                      else self._custom.patch_cluster_custom_object)
            call = method(GROUP, VERSION, info.plural, name, patch,
                          _content_type=MERGE_PATCH, _preload_content=False)
        return await _json(await call)

    @_translated
    async def delete(self, kind: str, name: str, *, namespace: str | None = None) -> None:
        info = KINDS[kind]
        if info.namespaced:
            response = await self._custom.delete_namespaced_custom_object(
                GROUP, VERSION, namespace, info.plural, name, _preload_content=False)
        else:
            response = await self._custom.delete_cluster_custom_object(
                GROUP, VERSION, info.plural, name, _preload_content=False)
        try:
            await _json(response)
        except NotFound:
            pass

    # ---------------------------------------------------------------- pods and events

    @_translated
    async def create_pod(self, manifest: dict[str, Any], *, owner_label: str) -> dict[str, Any]:
        """Create the pod; if this same pod exists already (a retried create), return it.

        A pod of that name that carries another value of ``owner_label`` belongs to
        someone else: that is a 409 error, never an adoption.
        """
        namespace = manifest["metadata"]["namespace"]
        try:
            return await _json(await self._core.create_namespaced_pod(namespace, manifest, _preload_content=False))
        except ApiError as error:
            if error.status != 409:
                raise
        existing = await _json(await self._core.read_namespaced_pod(
            manifest["metadata"]["name"], namespace, _preload_content=False))
        ours = manifest["metadata"]["labels"].get(owner_label)
        if (existing["metadata"].get("labels") or {}).get(owner_label) != ours:
            raise ApiError(409, f"pod {manifest['metadata']['name']!r} already exists and belongs to another job")
        return existing

    @_translated
    async def create_service(self, manifest: dict[str, Any]) -> None:
        """Create the Service unless one of that name exists already."""
        try:
            await _json(await self._core.create_namespaced_service(
                manifest["metadata"]["namespace"], manifest, _preload_content=False))
        except ApiError as error:
            if error.status != 409:
                raise

    @_translated
    async def delete_pod(self, namespace: str, name: str, *, grace_seconds: int | None = None) -> None:
        try:
            await _json(await self._core.delete_namespaced_pod(
                name, namespace, grace_period_seconds=grace_seconds, _preload_content=False))
        except NotFound:
            pass

    @_translated
    async def list_pods(self, *, label_selector: str, namespace: str | None = None) -> list[dict[str, Any]]:
        if namespace:
            response = await self._core.list_namespaced_pod(namespace, label_selector=label_selector,
                                                            _preload_content=False)
        else:
            response = await self._core.list_pod_for_all_namespaces(label_selector=label_selector,
                                                                    _preload_content=False)
        return (await _json(response)).get("items", [])

    @_translated
    async def read_pod_log(self, namespace: str, name: str, *, container: str = "main") -> str:
        response = await self._core.read_namespaced_pod_log(name, namespace, container=container,
                                                            _preload_content=False)
        if not 200 <= response.status <= 299:
            await _json(response)  # raises the API's error
        return (await response.read()).decode(errors="replace")

    # ---------------------------------------------------------------- leader election

    @_translated
    async def get_lease(self, namespace: str, name: str) -> dict[str, Any]:
        return await _json(await self._coordination.read_namespaced_lease(name, namespace, _preload_content=False))

    @_translated
    async def create_lease(self, namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": name, "namespace": namespace}, "spec": spec}
        return await _json(await self._coordination.create_namespaced_lease(namespace, body, _preload_content=False))

    @_translated
    async def replace_lease(self, lease: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
        """Replace the Lease's spec; 409 if it changed since ``lease`` was read (its resourceVersion)."""
        metadata = lease["metadata"]
        body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "spec": spec,
                "metadata": {"name": metadata["name"], "namespace": metadata["namespace"],
                             "resourceVersion": metadata["resourceVersion"]}}
        return await _json(await self._coordination.replace_namespaced_lease(
            metadata["name"], metadata["namespace"], body, _preload_content=False))

    @_translated
    async def list_nodes(self) -> list[dict[str, Any]]:
        return (await _json(await self._core.list_node(_preload_content=False))).get("items", [])

    @_translated
    async def list_namespaces(self) -> list[dict[str, Any]]:
        return (await _json(await self._core.list_namespace(_preload_content=False))).get("items", [])

    @_translated
    async def emit_event(self, *, regarding: dict[str, Any], reason: str, note: str, type_: str = "Normal",
                         event_time: str) -> None:
        """An events.k8s.io/v1 Event about a kubatch object (best effort: never blocks a job)."""
        metadata = regarding["metadata"]
        namespace = metadata.get("namespace") or "default"
        body = {
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"generateName": f"{metadata['name'][:200]}-", "namespace": namespace},
            "regarding": {"apiVersion": regarding.get("apiVersion"), "kind": regarding.get("kind"),
                          "name": metadata["name"], "namespace": metadata.get("namespace"),
                          "uid": metadata.get("uid")},
            "reason": reason, "note": note[:1024], "type": type_, "action": reason,
            "eventTime": event_time, "reportingController": f"{GROUP}/operator",
            "reportingInstance": os.environ.get("HOSTNAME", "kubatch-operator"),
        }
        try:
            await _json(await self._events.create_namespaced_event(namespace, body, _preload_content=False))
        except ApiError:
            pass  # an Event is a courtesy; the job's status is the record
