"""CreateJobQueue, UpdateJobQueue, DescribeJobQueues, DeleteJobQueue, GetJobQueueSnapshot.

AWS names a queue's compute environments and scheduling policy by ARN; the spec keeps
their names. The referenced objects must exist when the queue is created or
updated, as AWS checks them too. Deleting an ENABLED queue is allowed (AWS first
wants it DISABLED): Kubernetes users delete objects directly anyway, and jobs already
submitted keep their frozen spec.

GetJobQueueSnapshot reads what the operator's last scheduling cycle wrote into the
queue's status (its front in dispatch order, its utilization). A queue is shared by
every namespace, but a caller only ever sees job ids of its own namespace: the front
lists the caller's jobs in their order among all, utilization is given in totals.
"""

from __future__ import annotations

from typing import Any

from kubatch.api import JobQueueSpec
from kubatch.api.job_queue import FIFO_OR_FAIR_SHARE_FOR_LIFE
from kubatch.service import named
from kubatch.service.arns import COMPUTE_ENVIRONMENT, JOB, JOB_QUEUE, SCHEDULING_POLICY, name_of
from kubatch.service.context import Context
from kubatch.service.errors import ClientException
from kubatch.service.fields import model_fields, object_name, pick, refuse, refuse_unknown, require, validated
from kubatch.service.objects import create, read, replace_spec, tags_annotation
from kubatch.service.shapes import job_id, present, queue_detail

KIND = "JobQueue"
SPEC_FIELDS = model_fields(JobQueueSpec, excluding=["schedulingPolicy"])
UNSUPPORTED = {
    "serviceEnvironmentOrder": "SageMaker service environments do not exist here",
    "jobQueueType": "only compute-environment queues exist here",
}


def _answer(ctx: Context, name: str) -> dict[str, str]:
    return named.arn_pair(ctx.arns, resource=JOB_QUEUE, name=name, name_key="jobQueueName", arn_key="jobQueueArn")


def _spec_fields(request: dict[str, Any]) -> dict[str, Any]:
    """The request's spec fields, ARNs replaced by names."""
    fields = pick(request, SPEC_FIELDS)
    if request.get("schedulingPolicyArn") is not None:
        fields["schedulingPolicy"] = name_of(request["schedulingPolicyArn"], resource=SCHEDULING_POLICY,
                                             field="schedulingPolicyArn")
    order = fields.get("computeEnvironmentOrder")
    if isinstance(order, list):
        fields["computeEnvironmentOrder"] = [
            {**item, "computeEnvironment": name_of(item.get("computeEnvironment"), resource=COMPUTE_ENVIRONMENT,
                                                   field=f"computeEnvironmentOrder[{index}].computeEnvironment")}
            if isinstance(item, dict) else item
            for index, item in enumerate(order)
        ]
    return fields


async def _check_references(ctx: Context, spec: dict[str, Any]) -> None:
    for index, item in enumerate(spec["computeEnvironmentOrder"]):
        await read(ctx, "ComputeEnvironment", item["computeEnvironment"],
                   field=f"computeEnvironmentOrder[{index}].computeEnvironment")
    if spec.get("schedulingPolicy"):
        await read(ctx, "SchedulingPolicy", spec["schedulingPolicy"], field="schedulingPolicyArn")


async def create_job_queue(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse(request, UNSUPPORTED)
    refuse_unknown(request, {"jobQueueName", "schedulingPolicyArn", "tags", *SPEC_FIELDS})
    require(request, "jobQueueName", "priority", "computeEnvironmentOrder")
    name = object_name(request["jobQueueName"], field="jobQueueName")
    spec = validated(JobQueueSpec, _spec_fields(request))
    await _check_references(ctx, spec)
    await create(ctx, KIND, name=name, spec=spec, annotations=tags_annotation(request.get("tags")))
    return _answer(ctx, name)


async def update_job_queue(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse(request, UNSUPPORTED)
    refuse_unknown(request, {"jobQueue", "schedulingPolicyArn", *SPEC_FIELDS})
    require(request, "jobQueue")
    name = name_of(request["jobQueue"], resource=JOB_QUEUE, field="jobQueue")
    queue = await read(ctx, KIND, name, field="jobQueue")
    spec = validated(JobQueueSpec, {**(queue.get("spec") or {}), **_spec_fields(request)})
    if (spec.get("schedulingPolicy") is None) != ((queue.get("spec") or {}).get("schedulingPolicy") is None):
        raise ClientException(f"schedulingPolicyArn: {FIFO_OR_FAIR_SHARE_FOR_LIFE}")
    await _check_references(ctx, spec)
    await replace_spec(ctx, queue, spec=spec)
    return _answer(ctx, name)


async def describe_job_queues(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse_unknown(request, {"jobQueues", "maxResults", "nextToken"})
    names = named.names_in(request.get("jobQueues"), resource=JOB_QUEUE, field="jobQueues")
    return await named.describe(ctx, request, kind=KIND, names=names, list_key="jobQueues", shape=queue_detail)


async def delete_job_queue(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse_unknown(request, {"jobQueue"})
    require(request, "jobQueue")
    return await named.delete(ctx, kind=KIND, name=name_of(request["jobQueue"], resource=JOB_QUEUE, field="jobQueue"),
                              field="jobQueue")


async def get_job_queue_snapshot(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse_unknown(request, {"jobQueue"})
    require(request, "jobQueue")
    queue = await read(ctx, KIND, name_of(request["jobQueue"], resource=JOB_QUEUE, field="jobQueue"), field="jobQueue")
    status = queue.get("status") or {}
    front = status.get("frontOfQueue") or {}
    mine = {job_id(job) for job in await ctx.kube.list("BatchJob", namespace=ctx.namespace)}
    jobs = [{"jobArn": ctx.arns.build(JOB, entry["jobId"]), "earliestTimeAtPosition": entry["earliestTimeAtPosition"]}
            for entry in front.get("jobs") or [] if entry["jobId"].split(":", 1)[0] in mine]
    return present({
        "frontOfQueue": present({"jobs": jobs, "lastUpdatedAt": front.get("lastUpdatedAt")}),
        "queueUtilization": status.get("queueUtilization"),
    })
