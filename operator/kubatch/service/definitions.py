"""RegisterJobDefinition, DescribeJobDefinitions, DeregisterJobDefinition.

A definition is one JobDefinition object per name; its revisions are kept in its
status (``kubatch.core.reconcile.definitions`` says how and why). As on AWS, every
RegisterJobDefinition is a new revision, even of an identical spec, and its answer
names the revision that holds the spec it registered: the spec and the revision are
written with the object's ``resourceVersion`` as a precondition, and a write that lost
a race (409) is redone from a fresh read, so two registrations racing never share a
number or answer with each other's.

Deregistering marks one revision INACTIVE (a bare name: every revision); the others
stay usable, a bare name then resolves to the latest ACTIVE one, and jobs already
submitted run on, having frozen their definition at submission.
"""

from __future__ import annotations

from typing import Any

from kubatch.api import JobDefinitionSpec
from kubatch.core.definition import DefinitionRef, InvalidJobError, parse_definition_ref
from kubatch.core.reconcile.definitions import (entry_status, is_numbered, precondition, resolve_revision,
                                                revisions, with_next_revision, with_revisions_inactive)
from kubatch.kube.client import ApiError, NotFound
from kubatch.service.arns import JOB_DEFINITION, name_of
from kubatch.service.context import Context
from kubatch.service.errors import ClientException, ServerException
from kubatch.service.fields import (
    IAM,
    INSTANCES,
    LOGGING,
    NETWORK,
    drop_aws_only,
    model_fields,
    object_name,
    pick,
    refuse,
    refuse_unknown,
    require,
    validated,
)
from kubatch.service.objects import CONFLICT, merge_patch, read
from kubatch.service.paging import page
from kubatch.service.port import Obj
from kubatch.service.shapes import definition_entry, present

KIND = "JobDefinition"
SPEC_FIELDS = model_fields(JobDefinitionSpec)
DESCRIBE_LIMIT = 100
STATUSES = ("ACTIVE", "INACTIVE")
_CONTAINER_AWS_ONLY = {
    "jobRoleArn": IAM,
    "executionRoleArn": IAM,
    "logConfiguration": LOGGING,
    "networkConfiguration": NETWORK,
    "fargatePlatformConfiguration": INSTANCES,
    "runtimePlatform": INSTANCES,
    "ephemeralStorage": INSTANCES,
    "instanceType": INSTANCES,
    "repositoryCredentials": "image pull secrets come from eksProperties.podProperties.imagePullSecrets",
}
AWS_ONLY = {
    **{f"containerProperties.{field}": why for field, why in _CONTAINER_AWS_ONLY.items()},
    **{f"nodeProperties.nodeRangeProperties[].container.{field}": why for field, why in _CONTAINER_AWS_ONLY.items()},
    "nodeProperties.nodeRangeProperties[].instanceTypes": INSTANCES,
    "consumableResourceProperties": "consumable resources are not modelled; use resourceRequirements",
}
UNSUPPORTED = {"ecsProperties": "use containerProperties or eksProperties"}


def reference(value: Any, *, field: str) -> DefinitionRef:
    """``name``, ``name:revision`` or a job-definition ARN."""
    try:
        return parse_definition_ref(name_of(value, resource=JOB_DEFINITION, field=field))
    except InvalidJobError:
        raise ClientException(f"{field}: {value!r} is not a job definition name, name:revision or ARN") from None


FORBIDDEN = 403
REGISTER_ATTEMPTS = 20
"""How often a registration is redone after losing a race (409) before it gives up."""


class _Raced(Exception):
    """Another writer changed the definition between our read and our write: read again and redo."""


async def _guarded(ctx: Context, definition: Obj, patch: dict[str, Any], *, status: bool) -> Obj:
    """``patch`` of the definition (or its status), refused if it changed since ``definition`` was read."""
    body = {"metadata": precondition(definition), **patch}
    try:
        return await ctx.kube.patch(KIND, definition["metadata"]["name"], body, namespace=ctx.namespace,
                                    status=status)
    except ApiError as error:
        if error.status == CONFLICT:
            raise _Raced from None
        raise


async def _number(ctx: Context, definition: Obj) -> Obj:
    """Record the definition's current spec as its next revision."""
    return await _guarded(ctx, definition, {"status": with_next_revision(definition)}, status=True)


async def _with_spec(ctx: Context, name: str, spec: dict[str, Any]) -> tuple[Obj, bool]:
    """The definition holding ``spec`` as its spec, and whether this call wrote it.

    A spec someone else wrote and nobody numbered yet is numbered before it is replaced,
    so no registration's spec is lost.
    """
    try:
        definition = await ctx.kube.get(KIND, name, namespace=ctx.namespace)
    except NotFound:
        try:
            return await ctx.kube.create(KIND, {"metadata": {"name": name}, "spec": spec},
                                         namespace=ctx.namespace), True
        except ApiError as error:
            if error.status == CONFLICT:
                raise _Raced from None
            raise
    if (definition.get("spec") or {}) == spec:
        return definition, False
    if not is_numbered(definition):
        try:
            definition = await _number(ctx, definition)
        except ApiError as error:
            if error.status != FORBIDDEN:
                raise  # an identity without jobdefinitions/status leaves the numbering to the operator
    return await _guarded(ctx, definition, {"spec": merge_patch(definition.get("spec") or {}, spec)},
                          status=False), True


async def _register(ctx: Context, name: str, spec: dict[str, Any]) -> int:
    """One try: the revision that now holds ``spec``, made by this call (raises _Raced to try again)."""
    definition, wrote = await _with_spec(ctx, name, spec)
    generation = definition["metadata"].get("generation", 1)
    if not wrote or not is_numbered(definition):
        try:
            return int((await _number(ctx, definition))["status"]["revision"])
        except _Raced:
            if not wrote:
                raise
        except ApiError as error:
            if error.status != FORBIDDEN or not wrote:
                raise
            ctx.warn("this identity may not write jobdefinitions/status: the operator numbers the revision, "
                     "which may differ from the one answered if others register at the same time")
            return int((definition.get("status") or {}).get("revision") or 0) + 1
    # our spec write was numbered by someone else (the operator, another registration) meanwhile
    fresh = await ctx.kube.get(KIND, name, namespace=ctx.namespace)
    for entry in revisions(fresh):
        if entry.get("generation") == generation:
            return int(entry["revision"])
    raise _Raced


async def register_job_definition(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    """Every registration is a new revision, even of an identical spec (AWS); the answer names the one holding it."""
    refuse(request, UNSUPPORTED)
    request = drop_aws_only(ctx, request, AWS_ONLY)
    refuse_unknown(request, {"jobDefinitionName", *SPEC_FIELDS})
    require(request, "jobDefinitionName", "type")
    name = object_name(request["jobDefinitionName"], field="jobDefinitionName")
    spec = validated(JobDefinitionSpec, pick(request, SPEC_FIELDS))
    for _ in range(REGISTER_ATTEMPTS):
        try:
            revision = await _register(ctx, name, spec)
        except _Raced:
            continue
        return {"jobDefinitionName": name, "jobDefinitionArn": ctx.arns.build(JOB_DEFINITION, f"{name}:{revision}"),
                "revision": revision}
    raise ServerException(f"jobDefinitionName: {name!r} kept changing under {REGISTER_ATTEMPTS} attempts to "
                          "register it; try again")


async def resolve_definition(ctx: Context, ref: DefinitionRef, *, field: str) -> tuple[dict[str, Any], int]:
    """(spec, revision) ``ref`` names now: SubmitJob freezes this (a bare name: the latest ACTIVE revision).

    A spec applied with kubectl and not numbered yet is numbered here first.
    """
    for _ in range(REGISTER_ATTEMPTS):
        definition = await read(ctx, KIND, ref.name, field=field)
        found = _resolved(definition, ref, field=field)
        if found is not None:
            return found
        try:
            await _number(ctx, definition)
        except _Raced:
            pass
    raise ServerException(f"{field}: {ref.name!r} kept changing; try again")


async def peek_definition(ctx: Context, ref: DefinitionRef, *, field: str) -> tuple[dict[str, Any], int] | None:
    """``resolve_definition`` for a reader: writes nothing, None while the revision is not numbered yet."""
    return _resolved(await read(ctx, KIND, ref.name, field=field), ref, field=field)


def _resolved(definition: Obj, ref: DefinitionRef, *, field: str) -> tuple[dict[str, Any], int] | None:
    try:
        return resolve_revision(definition, ref)
    except InvalidJobError as error:
        raise ClientException(str(error).replace("spec.jobDefinition", field, 1)) from None


def _wanted(entry: dict[str, Any], refs: list[DefinitionRef]) -> bool:
    return any(ref.name == entry["jobDefinitionName"] and ref.revision in (None, entry["revision"]) for ref in refs)


async def describe_job_definitions(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse_unknown(request, {"jobDefinitions", "maxResults", "jobDefinitionName", "status", "nextToken"})
    values = request.get("jobDefinitions")
    if values is not None and not isinstance(values, list):
        raise ClientException("jobDefinitions: must be a list of name:revision or ARNs")
    refs = [reference(value, field="jobDefinitions") for value in values or []]
    status = request.get("status")
    if status is not None and status not in STATUSES:
        raise ClientException(f"status: must be one of {', '.join(STATUSES)}")
    entries = [definition_entry(definition, revision=int(entry["revision"]), spec=entry.get("spec") or {},
                                status=entry_status(entry), arns=ctx.arns)
               for definition in await ctx.kube.list(KIND, namespace=ctx.namespace)
               for entry in _described(definition)]
    chosen = [entry for entry in entries
              if (not refs or _wanted(entry, refs))
              and request.get("jobDefinitionName") in (None, entry["jobDefinitionName"])
              and status in (None, entry["status"])]
    page_entries, token = page(chosen, request=request, limit=DESCRIBE_LIMIT,
                               key=lambda entry: [entry["jobDefinitionName"], -entry["revision"]])
    return present({"jobDefinitions": page_entries, "nextToken": token})


def _described(definition: Obj) -> list[dict[str, Any]]:
    """The kept revisions, and a spec nobody numbered yet as the revision it will be."""
    kept = revisions(definition)
    if is_numbered(definition):
        return kept
    upcoming = int((definition.get("status") or {}).get("revision") or 0) + 1
    return [*kept, {"revision": upcoming, "spec": definition.get("spec") or {}}]


async def deregister_job_definition(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    """Marks one revision INACTIVE, as AWS does (a bare name: every revision); jobs already submitted run on."""
    refuse_unknown(request, {"jobDefinition"})
    require(request, "jobDefinition")
    ref = reference(request["jobDefinition"], field="jobDefinition")
    for _ in range(REGISTER_ATTEMPTS):
        definition = await read(ctx, KIND, ref.name, field="jobDefinition")
        kept = {int(entry["revision"]) for entry in revisions(definition)}
        if ref.revision is not None and ref.revision not in kept:
            raise ClientException(f"jobDefinition: revision {ref.revision} of {ref.name!r} does not exist or is no "
                                  f"longer kept (kept: {_ranges(kept)})")
        chosen = kept if ref.revision is None else {ref.revision}
        try:
            await _guarded(ctx, definition, {"status": with_revisions_inactive(definition, chosen)}, status=True)
        except _Raced:
            continue
        return {}
    raise ServerException(f"jobDefinition: {ref.name!r} kept changing; try again")


def _ranges(numbers: set[int]) -> str:
    """``1-3, 7`` for {1, 2, 3, 7}."""
    spans: list[list[int]] = []
    for number in sorted(numbers):
        if spans and spans[-1][1] == number - 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in spans) or "none"
