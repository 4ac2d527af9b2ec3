"""The scheduling-policy operations: Create, Update, Describe, List and Delete.

A SchedulingPolicy is cluster-scoped; AWS names it by ARN in every call after
creation, and kubatch accepts the name as well.
"""

from __future__ import annotations

from typing import Any

from kubatch.api import SchedulingPolicySpec
from kubatch.service import named
from kubatch.service.arns import SCHEDULING_POLICY, name_of
from kubatch.service.context import Context
from kubatch.service.fields import object_name, pick, refuse_unknown, require, validated
from kubatch.service.objects import create, read, replace_spec, tags_annotation
from kubatch.service.paging import page
from kubatch.service.shapes import present, scheduling_policy_detail

KIND = "SchedulingPolicy"
LIST_LIMIT = 1000


def _answer(ctx: Context, name: str) -> dict[str, str]:
    return named.arn_pair(ctx.arns, resource=SCHEDULING_POLICY, name=name, name_key="name", arn_key="arn")


async def create_scheduling_policy(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse_unknown(request, {"name", "fairsharePolicy", "tags"})
    require(request, "name")
    name = object_name(request["name"], field="name")
    spec = validated(SchedulingPolicySpec, pick(request, ["fairsharePolicy"]))
    await create(ctx, KIND, name=name, spec=spec, annotations=tags_annotation(request.get("tags")))
    return _answer(ctx, name)


async def update_scheduling_policy(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse_unknown(request, {"arn", "fairsharePolicy"})
    require(request, "arn")
    policy = await read(ctx, KIND, name_of(request["arn"], resource=SCHEDULING_POLICY, field="arn"), field="arn")
    spec = validated(SchedulingPolicySpec, {**(policy.get("spec") or {}), **pick(request, ["fairsharePolicy"])})
    await replace_spec(ctx, policy, spec=spec)
    return {}


async def describe_scheduling_policies(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse_unknown(request, {"arns"})
    require(request, "arns")
    names = named.names_in(request["arns"], resource=SCHEDULING_POLICY, field="arns")
    return await named.describe(ctx, {}, kind=KIND, names=names, list_key="schedulingPolicies",
                                shape=scheduling_policy_detail)


async def list_scheduling_policies(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse_unknown(request, {"maxResults", "nextToken"})
    policies = await ctx.kube.list(KIND)
    chosen, token = page(policies, request=request, key=lambda obj: [obj["metadata"]["name"]], limit=LIST_LIMIT)
    arns = [{"arn": ctx.arns.build(SCHEDULING_POLICY, obj["metadata"]["name"])} for obj in chosen]
    return present({"schedulingPolicies": arns, "nextToken": token})


async def delete_scheduling_policy(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse_unknown(request, {"arn"})
    require(request, "arn")
    name = name_of(request["arn"], resource=SCHEDULING_POLICY, field="arn")
    return await named.delete(ctx, kind=KIND, name=name, field="arn",
                              used_by_queue=lambda spec: spec.get("schedulingPolicy") == name)
