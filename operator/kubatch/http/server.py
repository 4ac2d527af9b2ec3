"""The HTTP front end: AWS Batch's rest-json API on aiohttp, over the service layer.

One handler serves every operation: it checks the SigV4 signature (the access key
gives the namespace), finds the operation from the method and path
(``kubatch.http.routing`` over botocore's model), reads the JSON body, adds the
members the URL carries, and calls ``kubatch.service.invoke``. The answer is the
operation's response as JSON, or AWS's error shape: the code in the
``x-amzn-ErrorType`` header and ``{"__type": code, "message": …}`` in the body, 400 for
``ClientException``, 500 for ``ServerException``, 403 for signature failures. Nothing
here knows an operation's fields: the service layer does.

Warnings (AWS-only fields that were ignored) have no place in AWS's responses; each
is logged and sent in an ``x-kubatch-warning`` header, which AWS clients ignore.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from aiohttp import web

from kubatch.archive import Archive
from kubatch.http.credentials import AccessKey, KeyFile
from kubatch.http.model import ROUTES
from kubatch.http.routing import NoRoute, Router
from kubatch.http.sigv4 import AuthError, SignedRequest, parse_authorization, verify
from kubatch.service import BatchError, ClientException, Context, ServerException, invoke
from kubatch.service.arns import Arns
from kubatch.service.tags import SHARED_RESOURCES, resource_of
from kubatch.service.port import KubeApi

log = logging.getLogger("kubatch.http")

MAX_BODY = 1024 * 1024
HEALTH_PATH = "/healthz"
CLUSTER_OPERATIONS = frozenset(f"{verb}{kind}" for verb in ("Create", "Update", "Delete")
                               for kind in ("ComputeEnvironment", "JobQueue", "SchedulingPolicy"))
"""Operations that change the cluster-scoped objects every namespace shares: admin keys only."""
TAGGING_OPERATIONS = frozenset({"TagResource", "UntagResource"})


def changes_shared_objects(operation: str, document: dict[str, object]) -> bool:
    """Whether the request changes an object every namespace shares (tagging one counts)."""
    if operation in TAGGING_OPERATIONS:
        return resource_of(document.get("resourceArn")) in SHARED_RESOURCES
    return operation in CLUSTER_OPERATIONS


@dataclass(frozen=True, kw_only=True)
class Caller:
    """Who sent a request: the namespace it works in, and whether it may change shared objects."""

    namespace: str
    admin: bool
    access_key_id: str | None = None


class Authenticator(Protocol):
    def authenticate(self, request: SignedRequest) -> Caller: ...


@dataclass(frozen=True)
class NoAuth:
    """``--no-auth``: every request, signed or not, works in one namespace, as an admin (local development)."""

    namespace: str

    def authenticate(self, request: SignedRequest) -> Caller:
        del request
        return Caller(namespace=self.namespace, admin=True)


class SigV4Keys:
    """SigV4 verification against the access keys of a credentials file."""

    def __init__(self, keys: KeyFile | dict[str, AccessKey], *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._keys = keys
        self._clock = clock

    def _lookup(self, access_key_id: str) -> AccessKey | None:
        if isinstance(self._keys, dict):
            return self._keys.get(access_key_id)
        return self._keys.lookup(access_key_id)

    def authenticate(self, request: SignedRequest) -> Caller:
        auth = parse_authorization(request)
        key = self._lookup(auth.access_key_id)
        if key is None:
            raise AuthError("UnrecognizedClientException", "The security token included in the request is invalid.")
        verify(request, auth, key.secretAccessKey, now=self._clock())
        return Caller(namespace=key.namespace, admin=key.admin, access_key_id=key.accessKeyId)


def error_response(code: str, message: str, *, status: int, request_id: str) -> web.Response:
    """AWS's rest-json error: the code in ``x-amzn-ErrorType`` and in the body's ``__type``."""
    return web.json_response({"__type": code, "message": message}, status=status,
                             headers={"x-amzn-ErrorType": code, "x-amzn-RequestId": request_id})


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def request_document(body: bytes, operation: str) -> dict[str, Any]:
    """The JSON object of a request body (empty: ``{}``); a ClientException for anything else."""
    if not body.strip():
        return {}
    try:
        document = json.loads(body, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ClientException(f"{operation}: the request body is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise ClientException(f"{operation}: the request body must be a JSON object")
    return document


def _header_safe(text: str) -> str:
    return text.encode("ascii", "replace").decode().replace("\r", " ").replace("\n", " ")


@dataclass
class _Call:
    """What the access log says of a request, filled in as the request is understood."""

    request_id: str
    operation: str = "-"
    caller: Caller | None = None
    error: str = ""


@dataclass(frozen=True, kw_only=True)
class BatchApi:
    """The request handler's dependencies: the cluster, ARN settings, who may call."""

    kube: KubeApi
    arns: Arns
    auth: Authenticator
    archive: Archive | None = None
    router: Router = Router(ROUTES)

    async def _call(self, request: web.Request, body: bytes, call: _Call) -> web.Response:
        target = request.raw_path  # exactly as sent: the signature covers the percent-encoded path
        if not target.startswith("/"):  # absolute-form (through a proxy)
            target = urlsplit(target).path or "/"
        signed = SignedRequest(method=request.method, path=target.split("?", 1)[0],
                               query=request.rel_url.raw_query_string, headers=list(request.headers.items()),
                               body=body)
        caller = call.caller = self.auth.authenticate(signed)
        try:
            operation, members = self.router.resolve(request.method, signed.path, signed.query)
        except NoRoute as error:
            raise ClientException(str(error)) from None
        call.operation = operation
        document = {**request_document(body, operation), **members}
        if not caller.admin and changes_shared_objects(operation, document):
            raise AuthError("AccessDeniedException",
                            f"access key {caller.access_key_id} (namespace {caller.namespace}) is not authorized to "
                            f"perform batch:{operation}: compute environments, job queues and scheduling policies are "
                            "shared by every namespace; only admin keys may change them")
        warnings: list[str] = []
        ctx = Context(kube=self.kube, namespace=caller.namespace, arns=self.arns, warn=warnings.append,
                      archive=self.archive)
        result = await invoke(ctx, operation, document)
        response = web.json_response(result, headers={"x-amzn-RequestId": call.request_id})
        for warning in warnings:
            log.info("%s %s: warning: %s", call.request_id, operation, warning)
            response.headers.add("x-kubatch-warning", _header_safe(warning))
        return response

    async def handle(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        call = _Call(request_id=str(uuid.uuid4()))
        response = await self._respond(request, call)
        caller = call.caller
        log.info("%s %s %s -> %d%s %s namespace=%s key=%s %.1fms", call.request_id, request.method,
                 request.rel_url.path, response.status, f" {call.error}" if call.error else "", call.operation,
                 caller.namespace if caller else "-", (caller.access_key_id or "-") if caller else "-",
                 (time.monotonic() - started) * 1000)
        return response

    async def _respond(self, request: web.Request, call: _Call) -> web.Response:
        response = await self._answer(request, call)
        call.error = response.headers.get("x-amzn-ErrorType", "")
        return response

    async def _answer(self, request: web.Request, call: _Call) -> web.Response:
        request_id = call.request_id
        try:
            body = await request.read()
            return await self._call(request, body, call)
        except web.HTTPRequestEntityTooLarge:
            return error_response("ClientException", f"the request body is larger than {MAX_BODY} bytes",
                                  status=ClientException.http_status, request_id=request_id)
        except AuthError as error:
            return error_response(error.code, error.message, status=error.status, request_id=request_id)
        except BatchError as error:
            return error_response(error.code, error.message, status=error.http_status, request_id=request_id)
        except Exception:  # a defect: answer as AWS does, keep the details in the log
            log.exception("%s: internal error", request_id)
            return error_response(ServerException.code, f"internal error (request id {request_id})",
                                  status=ServerException.http_status, request_id=request_id)


async def _health(request: web.Request) -> web.Response:
    del request
    return web.json_response({"status": "ok"})


def build_app(api: BatchApi) -> web.Application:
    """The aiohttp application: ``/healthz`` (unauthenticated) and every AWS Batch route."""
    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_get(HEALTH_PATH, _health)
    app.router.add_route("*", "/{tail:.*}", api.handle)
    return app
