"""TagResource, UntagResource, ListTagsForResource on any of the five resources, by ARN.

Why an annotation: a job's spec is frozen at submission and a job definition's spec is
its revision, so tags given afterwards cannot go into a spec. They live in the object's
``kubatch.io/tags`` annotation (where queues, compute environments and policies keep
all their tags) and are shown over the tags the spec was created with. A tag from the
spec is part of what was submitted or registered (``propagateTags`` copied it to pods),
so untagging it is refused with a message rather than pretended. A definition's tags
are the object's, whatever revision the ARN names. Writes carry the object's
``resourceVersion``: two callers tagging at once never lose each other's tags.
"""

from __future__ import annotations

from typing import Any

from kubatch import kinds
from kubatch.kube.client import ApiError
from kubatch.service.arns import COMPUTE_ENVIRONMENT, JOB, JOB_DEFINITION, JOB_QUEUE, SCHEDULING_POLICY, parse_arn
from kubatch.service.context import Context
from kubatch.service.errors import ClientException
from kubatch.service.fields import refuse_unknown, require
from kubatch.service.job_refs import find_job, parse_job_ref
from kubatch.service.objects import CONFLICT, TAGS_ANNOTATION, effective_tags, read, spec_tags, tags_annotation, tags_of
from kubatch.service.port import Obj

TAGGABLE: dict[str, kinds.Kind] = {
    JOB: kinds.BATCH_JOB, JOB_DEFINITION: kinds.JOB_DEFINITION, JOB_QUEUE: kinds.JOB_QUEUE,
    COMPUTE_ENVIRONMENT: kinds.COMPUTE_ENVIRONMENT, SCHEDULING_POLICY: kinds.SCHEDULING_POLICY,
}
"""The kind each ARN resource type names."""
SHARED_RESOURCES = frozenset(resource for resource, kind in TAGGABLE.items() if not kind.namespaced)
"""Cluster-scoped: every namespace sees them, so only admins may tag them (HTTP front end)."""
MAX_TAGS = 50
WRITE_ATTEMPTS = 20  # generous: every lost race means another writer succeeded


def _taggable(resource_arn: Any) -> tuple[str, str]:
    """``(resource type, name)`` of the ARN, refusing types that cannot be tagged."""
    resource, name = parse_arn(resource_arn, field="resourceArn")
    if resource not in TAGGABLE:
        raise ClientException(f"resourceArn: {resource!r} resources cannot be tagged (one of {', '.join(TAGGABLE)})")
    return resource, name


def resource_of(resource_arn: Any) -> str:
    """The resource type an ARN names (``job``, ``job-queue`` …), refusing types that cannot be tagged."""
    return _taggable(resource_arn)[0]


async def _target(ctx: Context, resource_arn: Any) -> Obj:
    resource, name = _taggable(resource_arn)
    if resource == JOB:
        ref = parse_job_ref(name, field="resourceArn")
        if ref.is_child:
            raise ClientException(f"resourceArn: tags belong to the whole job; use the ARN of job {ref.id}")
        return await find_job(ctx, ref, field="resourceArn")
    if resource == JOB_DEFINITION:
        name = name.split(":", 1)[0]
    return await read(ctx, TAGGABLE[resource].name, name, field="resourceArn")


async def _rewrite(ctx: Context, resource_arn: Any, change) -> None:
    """Apply ``change(obj) -> annotation tags`` with optimistic concurrency, retrying a lost race."""
    for _ in range(WRITE_ATTEMPTS):
        obj = await _target(ctx, resource_arn)
        added = change(obj)
        if len({**spec_tags(obj), **added}) > MAX_TAGS:
            raise ClientException(f"tags: a resource has at most {MAX_TAGS} tags")
        value = tags_annotation(added).get(TAGS_ANNOTATION)
        metadata = obj["metadata"]
        patch = {"metadata": {"resourceVersion": metadata["resourceVersion"], "annotations": {TAGS_ANNOTATION: value}}}
        try:
            await ctx.kube.patch(obj["kind"], metadata["name"], patch, namespace=ctx.scope(obj["kind"]))
            return
        except ApiError as error:
            if error.status != CONFLICT:
                raise
    raise ClientException(f"resourceArn: {resource_arn} kept changing; try again")


async def tag_resource(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse_unknown(request, {"resourceArn", "tags"})
    require(request, "resourceArn", "tags")
    given = request["tags"]
    if not isinstance(given, dict) or not given:
        raise ClientException("tags: must be a non-empty map of key to value")
    tags_annotation(given)  # validates keys and values, naming the field
    await _rewrite(ctx, request["resourceArn"], lambda obj: {**tags_of(obj), **given})
    return {}


async def untag_resource(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse_unknown(request, {"resourceArn", "tagKeys"})
    require(request, "resourceArn", "tagKeys")
    keys = request["tagKeys"]
    if not isinstance(keys, list) or not keys or not all(isinstance(key, str) for key in keys):
        raise ClientException("tagKeys: must be a non-empty list of tag keys")

    def without(obj: Obj) -> dict[str, str]:
        frozen = sorted(set(keys) & set(spec_tags(obj)))
        if frozen:
            raise ClientException(f"tagKeys: {', '.join(frozen)} came with the {obj['kind']}'s spec when it was "
                                  "created; kubatch keeps submitted and registered specs as they were")
        return {key: value for key, value in tags_of(obj).items() if key not in keys}

    await _rewrite(ctx, request["resourceArn"], without)
    return {}


async def list_tags_for_resource(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse_unknown(request, {"resourceArn"})
    require(request, "resourceArn")
    return {"tags": effective_tags(await _target(ctx, request["resourceArn"]))}
