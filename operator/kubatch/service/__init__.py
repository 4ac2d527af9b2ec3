"""AWS Batch's operations on kubatch's resources: one service layer for the CLI and the HTTP API.

Requests and responses are plain dicts in AWS's shapes (botocore's Batch model), so a
front end only moves JSON: the CLI builds a request from flags, the HTTP front end from
the body of ``POST /v1/<operation>``. Every operation is ``async (ctx, request) ->
response``; ``invoke`` runs one by its AWS name and turns every failure into a
``ClientException`` or ``ServerException``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from kubatch.archive import ArchiveError
from kubatch.kube.client import ApiError
from kubatch.service import compute_environments, definitions, jobs, queues, scheduling_policies, tags
from kubatch.service.context import Context
from kubatch.service.errors import BatchError, ClientException, ServerException

Operation = Callable[[Context, dict[str, Any]], Awaitable[dict[str, Any]]]

OPERATIONS: dict[str, Operation] = {
    "SubmitJob": jobs.submit_job,
    "DescribeJobs": jobs.describe_jobs,
    "ListJobs": jobs.list_jobs,
    "CancelJob": jobs.cancel_job,
    "TerminateJob": jobs.terminate_job,
    "CancelJobs": jobs.cancel_jobs,
    "TerminateJobs": jobs.terminate_jobs,
    "RegisterJobDefinition": definitions.register_job_definition,
    "DescribeJobDefinitions": definitions.describe_job_definitions,
    "DeregisterJobDefinition": definitions.deregister_job_definition,
    "CreateJobQueue": queues.create_job_queue,
    "UpdateJobQueue": queues.update_job_queue,
    "DescribeJobQueues": queues.describe_job_queues,
    "DeleteJobQueue": queues.delete_job_queue,
    "GetJobQueueSnapshot": queues.get_job_queue_snapshot,
    "CreateComputeEnvironment": compute_environments.create_compute_environment,
    "UpdateComputeEnvironment": compute_environments.update_compute_environment,
    "DescribeComputeEnvironments": compute_environments.describe_compute_environments,
    "DeleteComputeEnvironment": compute_environments.delete_compute_environment,
    "CreateSchedulingPolicy": scheduling_policies.create_scheduling_policy,
    "UpdateSchedulingPolicy": scheduling_policies.update_scheduling_policy,
    "DescribeSchedulingPolicies": scheduling_policies.describe_scheduling_policies,
    "ListSchedulingPolicies": scheduling_policies.list_scheduling_policies,
    "DeleteSchedulingPolicy": scheduling_policies.delete_scheduling_policy,
    "TagResource": tags.tag_resource,
    "UntagResource": tags.untag_resource,
    "ListTagsForResource": tags.list_tags_for_resource,
}

CLIENT_ERRORS = range(400, 500)


def translated(error: Exception) -> BatchError:
    """The AWS error for a failure below the service: the API server's refusal, or no API server at all."""
    if isinstance(error, BatchError):
        return error
    if isinstance(error, ArchiveError):
        return ServerException(f"cannot read the job archive: {error}")
    if isinstance(error, ApiError):
        kind = ClientException if error.status in CLIENT_ERRORS else ServerException
        return kind(f"Kubernetes API: {error.message}")
    return ServerException(f"cannot reach the Kubernetes API server: {error}")


async def invoke(ctx: Context, operation: str, request: Any) -> dict[str, Any]:
    """Run the AWS operation named ``operation`` (e.g. ``SubmitJob``) on ``request``."""
    if operation not in OPERATIONS:
        raise ClientException(f"{operation} is not an operation kubatch implements")
    if not isinstance(request, dict):
        raise ClientException(f"{operation}: the request must be a JSON object")
    try:
        return await OPERATIONS[operation](ctx, request)
    except (ApiError, ArchiveError, OSError, TimeoutError) as error:
        raise translated(error) from error


__all__ = ["OPERATIONS", "BatchError", "ClientException", "Context", "ServerException", "invoke", "translated"]
