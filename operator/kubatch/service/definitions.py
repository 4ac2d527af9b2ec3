"""RegisterJobDefinition, DescribeJobDefinitions, DeregisterJobDefinition.

A definition is one JobDefinition object per name; every spec change is a new
revision, numbered by the operator (``status.revision``), which keeps recent older
revisions' specs in ``status.revisions``. Registering returns the revision the spec
gets (when the operator has not numbered it yet, the one it will give). Re-registering
an identical spec changes nothing and returns the current revision.

Deregistering deletes the JobDefinition object, with every revision (AWS marks one
revision INACTIVE instead); submitted jobs are unaffected, having frozen their
definition at submission. Only the latest revision can be named, so an older
revision is never deregistered by surprise together with the others.
"""

from __future__ import annotations

from typing import Any

from kubatch.api import JobDefinitionSpec
from kubatch.core.definition import DefinitionRef, InvalidJobError, parse_definition_ref
from kubatch.kube.client import NotFound
from kubatch.service.arns import JOB_DEFINITION, name_of
from kubatch.service.context import Context
from kubatch.service.errors import ClientException
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
from kubatch.service.objects import create, read, replace_spec
from kubatch.service.paging import page
from kubatch.service.port import Obj
from kubatch.service.shapes import current_revision, definition_entry, present

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


async def register_job_definition(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse(request, UNSUPPORTED)
    request = drop_aws_only(ctx, request, AWS_ONLY)
    refuse_unknown(request, {"jobDefinitionName", *SPEC_FIELDS})
    require(request, "jobDefinitionName", "type")
    name = object_name(request["jobDefinitionName"], field="jobDefinitionName")
    spec = validated(JobDefinitionSpec, pick(request, SPEC_FIELDS))
    try:
        existing = await ctx.kube.get(KIND, name, namespace=ctx.namespace)
    except NotFound:
        definition = await create(ctx, KIND, name=name, spec=spec)
    else:
        definition = await replace_spec(ctx, existing, spec=spec)
    revision = current_revision(definition)
    return {"jobDefinitionName": name, "jobDefinitionArn": ctx.arns.build(JOB_DEFINITION, f"{name}:{revision}"),
            "revision": revision}


def _revisions(definition: Obj) -> list[tuple[int, dict[str, Any]]]:
    """(revision, spec) of the current spec and of the older revisions the operator kept."""
    latest = current_revision(definition)
    kept = [(int(item["revision"]), item.get("spec") or {})
            for item in (definition.get("status") or {}).get("revisions") or []
            if item.get("revision") and int(item["revision"]) != latest]
    return [(latest, definition.get("spec") or {}), *kept]


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
    entries = [definition_entry(definition, revision=revision, spec=spec, arns=ctx.arns)
               for definition in await ctx.kube.list(KIND, namespace=ctx.namespace)
               for revision, spec in _revisions(definition)]
    chosen = [entry for entry in entries
              if (not refs or _wanted(entry, refs))
              and request.get("jobDefinitionName") in (None, entry["jobDefinitionName"])
              and status in (None, entry["status"])]
    page_entries, token = page(chosen, request=request, limit=DESCRIBE_LIMIT,
                               key=lambda entry: [entry["jobDefinitionName"], -entry["revision"]])
    return present({"jobDefinitions": page_entries, "nextToken": token})


async def deregister_job_definition(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse_unknown(request, {"jobDefinition"})
    require(request, "jobDefinition")
    ref = reference(request["jobDefinition"], field="jobDefinition")
    definition = await read(ctx, KIND, ref.name, field="jobDefinition")
    latest = current_revision(definition)
    if ref.revision not in (None, latest):
        raise ClientException(
            f"jobDefinition: {ref.name}:{ref.revision} is not the latest revision ({latest}); kubatch deregisters "
            f"a definition as a whole: name {ref.name} or {ref.name}:{latest}")
    await ctx.kube.delete(KIND, ref.name, namespace=ctx.namespace)
    return {}
