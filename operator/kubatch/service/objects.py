"""Reading and writing kubatch objects on behalf of an operation, with AWS-style errors.

Why one place: "does not exist" and "already exists" must read the same for every
kind, and updates must replace a spec exactly (AWS semantics) although the access
layer only offers JSON merge patch: ``merge_patch`` computes the patch that turns
the old spec into the new one, nulling what was removed.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter, ValidationError

from kubatch.api.job_definition import Tags
from kubatch.kinds import GROUP
from kubatch.kube.client import ApiError, NotFound
from kubatch.service.context import Context
from kubatch.service.errors import ClientException, NoSuchObject, invalid
from kubatch.service.port import Obj

TAGS_ANNOTATION = f"{GROUP}/tags"
"""Tags of cluster-scoped kinds, whose specs have no ``tags`` field (JSON object)."""

_TAGS = TypeAdapter(Tags)
CONFLICT = 409


async def read(ctx: Context, kind: str, name: str, *, field: str) -> Obj:
    """The object, or a ClientException saying that ``field``'s value does not exist."""
    try:
        return await ctx.kube.get(kind, name, namespace=ctx.scope(kind))
    except NotFound:
        where = f" in namespace {ctx.namespace!r}" if ctx.scope(kind) else ""
        raise NoSuchObject(f"{field}: {kind} {name!r} does not exist{where}") from None


async def create(ctx: Context, kind: str, *, name: str, spec: dict[str, Any],
                 annotations: dict[str, str] | None = None) -> Obj:
    metadata: dict[str, Any] = {"name": name}
    if annotations:
        metadata["annotations"] = annotations
    try:
        return await ctx.kube.create(kind, {"metadata": metadata, "spec": spec}, namespace=ctx.scope(kind))
    except ApiError as error:
        if error.status == CONFLICT:
            raise ClientException(f"{kind} {name!r} already exists") from None
        raise


async def replace_spec(ctx: Context, obj: Obj, *, spec: dict[str, Any]) -> Obj:
    """Make ``spec`` the object's whole spec; the object as it is afterwards (unchanged: no write)."""
    patch = merge_patch(obj.get("spec") or {}, spec)
    if not patch:
        return obj
    return await ctx.kube.patch(obj["kind"], obj["metadata"]["name"], {"spec": patch},
                                namespace=ctx.scope(obj["kind"]))


def merge_patch(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The JSON merge patch (RFC 7386) that turns ``old`` into ``new``."""
    patch: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, dict) and isinstance(before, dict):
            if nested := merge_patch(before, value):
                patch[key] = nested
        elif value != before:
            patch[key] = value
    return patch


def deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` over ``base``: objects merge key by key, anything else is replaced (AWS update semantics)."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = deep_merge(base[key], value)
        else:
            merged[key] = value
    return merged


def tags_annotation(tags: Any) -> dict[str, str]:
    """The annotation that keeps a cluster-scoped object's tags (none for no tags)."""
    if not tags:
        return {}
    try:
        return {TAGS_ANNOTATION: json.dumps(_TAGS.validate_python(tags), sort_keys=True)}
    except ValidationError as error:
        raise invalid(error, prefix="tags") from None


def tags_of(obj: Obj) -> dict[str, str]:
    """The tags kept in the annotation: all of a cluster-scoped object's, those added later to a job or definition."""
    text = ((obj.get("metadata") or {}).get("annotations") or {}).get(TAGS_ANNOTATION)
    return json.loads(text) if text else {}


def spec_tags(obj: Obj) -> dict[str, str]:
    """The tags a job or job definition was submitted or registered with."""
    return dict((obj.get("spec") or {}).get("tags") or {})


def effective_tags(obj: Obj) -> dict[str, str]:
    """The tags the object was created with, under those added since."""
    return {**spec_tags(obj), **tags_of(obj)}
