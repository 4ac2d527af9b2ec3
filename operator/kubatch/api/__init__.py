"""The five kubatch kinds as pydantic models: the one source of truth for the CRDs.

Parse an object from the API server with `BatchJob.model_validate(body)` (likewise for
the other kinds), or just its spec with `BatchJobSpec.model_validate(body["spec"])`;
`model_dump(exclude_none=True)` gives back the AWS-shaped JSON. `render_crds()` and
`write_crds()` (in `crdgen`) produce `crds/`.
"""

from kubatch.api.base import API_VERSION, GROUP, VERSION, ObjectMeta, Resource, Rule
from kubatch.api.batch_job import (
    ArrayProperties,
    AttemptDetail,
    BatchJob,
    BatchJobSpec,
    BatchJobStatus,
    ContainerDetail,
    JobDependency,
    StopRequest,
)
from kubatch.api.common import Condition, JobStatus, KeyValuePair, StatusSummary
from kubatch.api.compute_environment import (
    ComputeEnvironment,
    ComputeEnvironmentSpec,
    ComputeEnvironmentStatus,
    ComputeResources,
)
from kubatch.api.container import ContainerOverrides, ContainerProperties, ResourceRequirement
from kubatch.api.eks import EksProperties, EksPropertiesOverride
from kubatch.api.job_definition import JobDefinition, JobDefinitionSpec, JobDefinitionStatus
from kubatch.api.job_queue import ComputeEnvironmentOrder, JobQueue, JobQueueSpec, JobQueueStatus
from kubatch.api.multinode import NodeOverrides, NodeProperties, node_range
from kubatch.api.retry import EvaluateOnExit, JobTimeout, RetryStrategy
from kubatch.api.scheduling_policy import SchedulingPolicy, SchedulingPolicySpec, SchedulingPolicyStatus

__all__ = [
    "API_VERSION",
    "GROUP",
    "VERSION",
    "ArrayProperties",
    "AttemptDetail",
    "BatchJob",
    "BatchJobSpec",
    "BatchJobStatus",
    "ComputeEnvironment",
    "ComputeEnvironmentOrder",
    "ComputeEnvironmentSpec",
    "ComputeEnvironmentStatus",
    "ComputeResources",
    "Condition",
    "ContainerDetail",
    "ContainerOverrides",
    "ContainerProperties",
    "EksProperties",
    "EksPropertiesOverride",
    "EvaluateOnExit",
    "JobDefinition",
    "JobDefinitionSpec",
    "JobDefinitionStatus",
    "JobDependency",
    "JobQueue",
    "JobQueueSpec",
    "JobQueueStatus",
    "JobStatus",
    "JobTimeout",
    "KeyValuePair",
    "NodeOverrides",
    "NodeProperties",
    "ObjectMeta",
    "Resource",
    "ResourceRequirement",
    "RetryStrategy",
    "Rule",
    "SchedulingPolicy",
    "SchedulingPolicySpec",
    "SchedulingPolicyStatus",
    "StatusSummary",
    "StopRequest",
    "node_range",
]
