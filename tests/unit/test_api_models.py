"""The models take AWS Batch's own JSON and whole Kubernetes objects.

DESIGN §1: an AWS JSON document is usable as a `spec` after dropping the name and
the AWS-only fields. The documents below are the reference texts' examples.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from kubatch.api import (
    BatchJob,
    BatchJobSpec,
    ComputeEnvironment,
    ComputeEnvironmentSpec,
    JobDefinition,
    JobDefinitionSpec,
    JobQueueSpec,
    SchedulingPolicySpec,
    node_range,
)

# RegisterJobDefinition body of the guide, minus jobDefinitionName.
REGISTER_JOB_DEFINITION = {
    "type": "container",
    "containerProperties": {
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-batch:latest",
        "vcpus": 2,
        "memory": 4096,
        "command": ["python", "process.py", "Ref::input_file"],
        "environment": [{"name": "BATCH_LOG_LEVEL", "value": "INFO"}],
        "readonlyRootFilesystem": True,
        "privileged": False,
    },
    "retryStrategy": {
        "attempts": 3,
        "evaluateOnExit": [
            {"action": "RETRY", "onStatusReason": "HostUsageError"},
            {"action": "EXIT", "onStatusReason": "TaskFailed"},
        ],
    },
    "timeout": {"attemptDurationSeconds": 3600},
    "parameters": {"input_file": "s3://my-bucket/data/input.csv"},
}

MPI_DEFINITION = {
    "type": "multinode",
    "nodeProperties": {
        "numNodes": 4,
        "mainNode": 0,
        "nodeRangeProperties": [
            {"targetNodes": "0:3", "container": {"image": "my-mpi-image", "vcpus": 8, "memory": 16384}}
        ],
    },
}

EKS_DEFINITION = {
    "type": "container",
    "eksProperties": {
        "podProperties": {
            "hostNetwork": False,
            "serviceAccountName": "batch-runner",
            "containers": [
                {
                    "name": "main",
                    "image": "public.ecr.aws/amazonlinux/amazonlinux:2",
                    "command": ["sleep", "60"],
                    "resources": {"limits": {"cpu": "1", "memory": "1024Mi"}},
                }
            ],
            "volumes": [{"name": "scratch", "emptyDir": {}}],
            "metadata": {"labels": {"team": "genomics"}},
        }
    },
}

AWS_ONLY = ("serviceRole", "subnets", "securityGroupIds", "instanceRole")

# create-compute-environment examples of the guide, as JSON.
COMPUTE_ENVIRONMENTS = {
    "fargate": {
        "type": "MANAGED",
        "serviceRole": "arn:aws:iam::123456789012:role/AWSBatchServiceRole",
        "computeResources": {"type": "FARGATE", "maxvCpus": 256, "subnets": ["subnet-x"], "securityGroupIds": ["sg-x"]},
        "state": "ENABLED",
    },
    "ec2": {
        "type": "MANAGED",
        "computeResources": {
            "type": "EC2",
            "minvCpus": 0,
            "desiredvCpus": 0,
            "maxvCpus": 256,
            "instanceTypes": ["m5", "m5d"],
            "instanceRole": "arn:aws:iam::123456789012:instance-profile/batch-instance-role",
        },
        "state": "ENABLED",
    },
    "spot": {
        "type": "MANAGED",
        "computeResources": {
            "type": "SPOT",
            "allocationStrategy": "BEST_FIT_PROGRESSIVE",
            "minvCpus": 0,
            "maxvCpus": 256,
            "instanceTypes": ["m5", "c5"],
            "bidPercentage": 50,
        },
        "state": "ENABLED",
    },
}


def without_aws_only(document: dict[str, Any]) -> dict[str, Any]:
    return {
        key: without_aws_only(value) if isinstance(value, dict) else value
        for key, value in document.items()
        if key not in AWS_ONLY
    }


@pytest.mark.parametrize(
    "body", [REGISTER_JOB_DEFINITION, MPI_DEFINITION, EKS_DEFINITION], ids=["container", "multinode", "eks"]
)
def test_job_definition_takes_aws_json_unchanged(body: dict[str, Any]) -> None:
    spec = JobDefinitionSpec.model_validate(body)
    assert spec.model_dump(exclude_none=True) == body


@pytest.mark.parametrize("name", sorted(COMPUTE_ENVIRONMENTS))
def test_compute_environment_takes_aws_json_minus_aws_only_fields(name: str) -> None:
    spec = ComputeEnvironmentSpec.model_validate(without_aws_only(COMPUTE_ENVIRONMENTS[name]))
    assert spec.computeResources is not None
    assert spec.computeResources.maxvCpus == 256
    assert spec.allowPrivileged is False


def test_aws_only_fields_are_refused_by_name() -> None:
    with pytest.raises(ValidationError) as caught:
        ComputeEnvironmentSpec.model_validate(COMPUTE_ENVIRONMENTS["fargate"])
    fields = {".".join(map(str, e["loc"])) for e in caught.value.errors()}
    assert fields == {"computeResources.subnets", "computeResources.securityGroupIds"}  # serviceRole is kept


def test_job_queue_takes_aws_json() -> None:
    body = {
        "priority": 10,
        "computeEnvironmentOrder": [
            {"computeEnvironment": "my-fargate-env", "order": 1},
            {"computeEnvironment": "my-ec2-env", "order": 2},
        ],
        "state": "ENABLED",
    }
    assert JobQueueSpec.model_validate(body).model_dump(exclude_none=True) == body


def test_scheduling_policy_takes_aws_json() -> None:
    body = {
        "fairsharePolicy": {
            "shareDecaySeconds": 3600,
            "computeReservation": 1,
            "shareDistribution": [
                {"shareIdentifier": "A1*", "weightFactor": 0.1},
                {"shareIdentifier": "A2", "weightFactor": 0.2},
            ],
        }
    }
    assert SchedulingPolicySpec.model_validate(body).model_dump(exclude_none=True) == body


def test_submit_job_body_is_a_batch_job_spec() -> None:
    body = {
        "jobDefinition": "my-batch-job",
        "jobQueue": "my-queue",
        "parameters": {"input_file": "s3://my-bucket/data/new-input.csv"},
        "arrayProperties": {"size": 100},
        "dependsOn": [{"jobId": "prepare", "type": "N_TO_N"}],
        "retryStrategy": {"attempts": 3, "evaluateOnExit": [{"action": "RETRY", "onReason": "HostUsageError"}]},
        "timeout": {"attemptDurationSeconds": 120},
        "containerOverrides": {"command": ["echo", "hi"], "resourceRequirements": [{"type": "VCPU", "value": "0.5"}]},
    }
    assert BatchJobSpec.model_validate(body).model_dump(exclude_none=True) == body


def test_retry_action_is_case_insensitive_and_normalised() -> None:
    spec = BatchJobSpec.model_validate(
        {
            "jobDefinition": "d",
            "jobQueue": "q",
            "retryStrategy": {"attempts": 2, "evaluateOnExit": [{"action": "retry", "onExitCode": "1*"}]},
        }
    )
    assert spec.retryStrategy is not None and spec.retryStrategy.evaluateOnExit is not None
    assert spec.retryStrategy.evaluateOnExit[0].action == "RETRY"


def test_whole_batch_job_object_parses_and_keeps_status_bookkeeping() -> None:
    body = {
        "apiVersion": "kubatch.io/v1alpha1",
        "kind": "BatchJob",
        "metadata": {"name": "run-1", "namespace": "team-a", "uid": "0b5c", "generation": 1, "finalizers": ["x"]},
        "spec": {"jobDefinition": "sleep:2", "jobQueue": "default"},
        "status": {
            "jobId": "0b5c",
            "status": "FAILED",
            "statusReason": "TaskFailed",
            "createdAt": 1700000000000,
            "attemptCount": 1,
            "attempts": [{"container": {"exitCode": 3, "reason": "NonZeroExitCode", "podName": "p", "nodeName": "n"}}],
            "conditions": [{"type": "Failed", "status": "True"}],
            "resolvedDefinition": {"name": "sleep", "revision": 2, "spec": {"type": "container"}},
            "kopf": {"progress": {}},
        },
    }
    job = BatchJob.model_validate(body)
    assert job.metadata.namespace == "team-a"
    assert job.spec.jobDefinition == "sleep:2"
    assert job.status.attempts is not None and job.status.attempts[0].container is not None
    assert job.status.attempts[0].container.exitCode == 3
    assert job.status.model_extra == {"kopf": {"progress": {}}}
    assert job.model_dump(exclude_none=True)["status"]["kopf"] == {"progress": {}}


def test_new_objects_default_kind_version_and_empty_status() -> None:
    definition = JobDefinition(spec=JobDefinitionSpec.model_validate(REGISTER_JOB_DEFINITION))
    dumped = definition.model_dump(exclude_none=True)
    assert dumped["apiVersion"] == "kubatch.io/v1alpha1"
    assert dumped["kind"] == "JobDefinition"
    assert dumped["status"] == {}
    assert (
        ComputeEnvironment.model_validate(
            {"kind": "ComputeEnvironment", "spec": without_aws_only(COMPUTE_ENVIRONMENTS["ec2"])}
        ).spec.state
        == "ENABLED"
    )


def test_wrong_kind_is_rejected() -> None:
    with pytest.raises(ValidationError, match="kind"):
        BatchJob.model_validate({"kind": "JobQueue", "spec": {"jobDefinition": "d", "jobQueue": "q"}})


@pytest.mark.parametrize(
    ("target", "num_nodes", "indexes"),
    [
        ("0:3", 4, [0, 1, 2, 3]),
        ("2", 4, [2]),
        (":1", 4, [0, 1]),
        ("2:", 4, [2, 3]),
        (":", 3, [0, 1, 2]),
        ("3:1", 4, []),
    ],
)
def test_node_range(target: str, num_nodes: int, indexes: list[int]) -> None:
    assert list(node_range(target, num_nodes)) == indexes


@pytest.mark.parametrize("model", [BatchJobSpec, JobDefinitionSpec])
def test_retry_rules_need_attempts_as_aws_requires(model) -> None:
    base = ({"jobDefinition": "d", "jobQueue": "q"} if model is BatchJobSpec
            else {"type": "container", "containerProperties": {"image": "busybox"}})
    rules = [{"action": "RETRY", "onStatusReason": "Host*"}]
    with pytest.raises(ValidationError, match="attempts is required when evaluateOnExit is given"):
        model.model_validate(base | {"retryStrategy": {"evaluateOnExit": rules}})
    assert model.model_validate(base | {"retryStrategy": {"attempts": 2, "evaluateOnExit": rules}})
    assert model.model_validate(base | {"retryStrategy": {"attempts": 2}})
