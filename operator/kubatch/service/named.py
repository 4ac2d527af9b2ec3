"""What the describe and delete operations of queues, compute environments and policies share.

Why shared: the three cluster-scoped kinds are described and deleted the same AWS
way: an optional list of names or ARNs (unknown ones are left out of the answer, as
AWS does), pages sorted by name, and no deletion while a job queue still uses the
object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubatch.service.arns import Arns, name_of
from kubatch.service.context import Context
from kubatch.service.errors import ClientException
from kubatch.service.objects import read
from kubatch.service.paging import page
from kubatch.service.port import Obj
from kubatch.service.shapes import present

DESCRIBE_LIMIT = 100


def names_in(values: Any, *, resource: str, field: str) -> set[str] | None:
    """The names a list of names or ARNs stands for; None when the list is absent (everything)."""
    if values is None:
        return None
    if not isinstance(values, list):
        raise ClientException(f"{field}: must be a list of names or ARNs")
    return {name_of(value, resource=resource, field=field) for value in values}


async def describe(ctx: Context, request: dict[str, Any], *, kind: str, names: set[str] | None, list_key: str,
                   shape: Callable[..., dict[str, Any]], limit: int = DESCRIBE_LIMIT) -> dict[str, Any]:
    """A page of ``shape``d objects of ``kind`` (those in ``names`` when given), under ``list_key``."""
    objects = await ctx.kube.list(kind, namespace=ctx.scope(kind))
    if names is not None:
        objects = [obj for obj in objects if obj["metadata"]["name"] in names]
    chosen, token = page(objects, request=request, key=lambda obj: [obj["metadata"]["name"]], limit=limit)
    return present({list_key: [shape(obj, arns=ctx.arns) for obj in chosen], "nextToken": token})


async def delete(ctx: Context, *, kind: str, name: str, field: str,
                 used_by_queue: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
    """Delete the object, refusing while a job queue's spec uses it (``used_by_queue(spec)``)."""
    await read(ctx, kind, name, field=field)
    if used_by_queue is not None:
        users = sorted(queue["metadata"]["name"] for queue in await ctx.kube.list("JobQueue")
                       if used_by_queue(queue.get("spec") or {}))
        if users:
            raise ClientException(f"{field}: {kind} {name!r} is used by job queue(s) {', '.join(users)}; "
                                  "update or delete them first")
    await ctx.kube.delete(kind, name, namespace=ctx.scope(kind))
    return {}


def arn_pair(arns: Arns, *, resource: str, name: str, name_key: str, arn_key: str) -> dict[str, str]:
    """The ``{…Name, …Arn}`` answer of a create or update."""
    return {name_key: name, arn_key: arns.build(resource, name)}
