"""CreateComputeEnvironment, UpdateComputeEnvironment, DescribeComputeEnvironments, DeleteComputeEnvironment.

kubatch selects existing nodes instead of launching instances, so AWS's IAM,
networking and launch settings are accepted and ignored with a warning: a command
written for AWS works unchanged and says what it did not do. ``serviceRole`` is kept
(unused) because DescribeComputeEnvironments returns it on AWS. A MANAGED EC2 or SPOT
environment without ``computeResources.instanceRole`` is refused, as AWS refuses it, so
a script that works here works there. Updates merge into the
current spec as AWS's do (only the given ``computeResources`` fields change).
"""

from __future__ import annotations

from typing import Any

from kubatch.api import ComputeEnvironmentSpec
from kubatch.service import named
from kubatch.service.arns import COMPUTE_ENVIRONMENT, name_of
from kubatch.service.context import Context
from kubatch.service.errors import ClientException
from kubatch.service.fields import (
    IAM,
    INSTANCES,
    NETWORK,
    ORCHESTRATION,
    drop_aws_only,
    model_fields,
    object_name,
    pick,
    refuse_unknown,
    require,
    validated,
)
from kubatch.service.objects import create, deep_merge, read, replace_spec, tags_annotation
from kubatch.service.shapes import compute_environment_detail

KIND = "ComputeEnvironment"
SPEC_FIELDS = model_fields(ComputeEnvironmentSpec)
AWS_ONLY = {
    "computeResources.instanceRole": IAM,
    "computeResources.spotIamFleetRole": IAM,
    "computeResources.subnets": NETWORK,
    "computeResources.securityGroupIds": NETWORK,
    "computeResources.placementGroup": NETWORK,
    "computeResources.ec2KeyPair": INSTANCES,
    "computeResources.imageId": INSTANCES,
    "computeResources.launchTemplate": INSTANCES,
    "computeResources.ec2Configuration": INSTANCES,
    "computeResources.tags": INSTANCES,
    "computeResources.updateToLatestImageVersion": INSTANCES,
    "updatePolicy": INSTANCES,
    "unmanagedvCpus": "fair share counts the vCPUs of running jobs",
    "eksConfiguration": ORCHESTRATION,
    "context": ORCHESTRATION,
}


EC2_INSTANCES = ("EC2", "SPOT")
INSTANCE_ROLE_REQUIRED = ("computeResources.instanceRole: This parameter is required for Amazon EC2 instances types. "
                          "You can specify the short name or full Amazon Resource Name (ARN) of an instance profile "
                          "(kubatch keeps no instances, but refuses what AWS refuses)")
"""AWS's words (botocore's model of ComputeResource.instanceRole): AWS refuses such an environment."""


def _answer(ctx: Context, name: str) -> dict[str, str]:
    return named.arn_pair(ctx.arns, resource=COMPUTE_ENVIRONMENT, name=name, name_key="computeEnvironmentName",
                          arn_key="computeEnvironmentArn")


def _lacks_instance_role(request: dict[str, Any]) -> bool:
    """A MANAGED environment of EC2 instances (EC2, SPOT) without ``computeResources.instanceRole``."""
    resources = request.get("computeResources")
    return (request.get("type") == "MANAGED" and isinstance(resources, dict)
            and resources.get("type") in EC2_INSTANCES and not resources.get("instanceRole"))


async def create_compute_environment(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    lacks_instance_role = _lacks_instance_role(request)
    request = drop_aws_only(ctx, request, AWS_ONLY)
    refuse_unknown(request, {"computeEnvironmentName", "tags", *SPEC_FIELDS})
    require(request, "computeEnvironmentName", "type")
    name = object_name(request["computeEnvironmentName"], field="computeEnvironmentName")
    spec = validated(ComputeEnvironmentSpec, pick(request, SPEC_FIELDS))
    if lacks_instance_role:
        raise ClientException(INSTANCE_ROLE_REQUIRED)
    await create(ctx, KIND, name=name, spec=spec, annotations=tags_annotation(request.get("tags")))
    return _answer(ctx, name)


async def update_compute_environment(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    request = drop_aws_only(ctx, request, AWS_ONLY)
    refuse_unknown(request, {"computeEnvironment", *SPEC_FIELDS - {"type"}})
    require(request, "computeEnvironment")
    name = name_of(request["computeEnvironment"], resource=COMPUTE_ENVIRONMENT, field="computeEnvironment")
    environment = await read(ctx, KIND, name, field="computeEnvironment")
    spec = validated(ComputeEnvironmentSpec, deep_merge(environment.get("spec") or {}, pick(request, SPEC_FIELDS)))
    await replace_spec(ctx, environment, spec=spec)
    return _answer(ctx, name)


async def describe_compute_environments(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse_unknown(request, {"computeEnvironments", "maxResults", "nextToken"})
    names = named.names_in(request.get("computeEnvironments"), resource=COMPUTE_ENVIRONMENT,
                           field="computeEnvironments")
    return await named.describe(ctx, request, kind=KIND, names=names, list_key="computeEnvironments",
                                shape=compute_environment_detail)


async def delete_compute_environment(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse_unknown(request, {"computeEnvironment"})
    require(request, "computeEnvironment")
    name = name_of(request["computeEnvironment"], resource=COMPUTE_ENVIRONMENT, field="computeEnvironment")
    return await named.delete(
        ctx, kind=KIND, name=name, field="computeEnvironment",
        used_by_queue=lambda spec: any(item.get("computeEnvironment") == name
                                       for item in spec.get("computeEnvironmentOrder") or []))
