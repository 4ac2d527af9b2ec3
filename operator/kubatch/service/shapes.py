"""Kubernetes objects in, AWS Batch response shapes out (plain dicts, as botocore models them).

Why one module: DescribeJobs, ListJobs, DescribeJobDefinitions and the describe
operations of queues, compute environments and policies print what the operator
wrote, renamed and reshaped the AWS way: names become ``…Name`` plus a synthetic
``…Arn``, references become ARNs, times are epoch milliseconds. A field that is unknown
is left out rather than printed as null, as AWS does; ``tags`` are ``{}`` when there are
none and a definition's containers get AWS's empty-list defaults, as AWS answers them. kubatch adds a few fields AWS
does not have (``statusMessage``, ``computeEnvironment`` of a job, ``usedvCpus``);
AWS clients ignore unknown fields.
"""

from __future__ import annotations

import copy
from typing import Any

from kubatch.core.definition import parse_definition_ref
from kubatch.core.kubetime import epoch_millis, parse_time
from kubatch.kinds import GROUP
from kubatch.service.arns import COMPUTE_ENVIRONMENT, JOB, JOB_DEFINITION, JOB_QUEUE, SCHEDULING_POLICY, Arns
from kubatch.service.objects import effective_tags, tags_of
from kubatch.service.port import Obj

JOB_NAME_ANNOTATION = f"{GROUP}/job-name"
"""The AWS jobName as submitted, when the object's name had to differ from it."""

SUMMARY_FIELDS = ("jobArn", "jobId", "jobName", "createdAt", "status", "statusReason", "statusReasonCode",
                  "startedAt", "stoppedAt", "jobDefinition")
ENDED = frozenset({"SUCCEEDED", "FAILED"})


def status_reason_fields(*, state: str | None, code: str | None, message: str | None,
                         attempts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``statusReason`` as AWS writes it, and kubatch's short code beside it (DESIGN §2).

    On the CRD a job's ``statusReason`` is a short code (``TaskFailed``, ``Cancelled`` …) and
    ``statusMessage`` the human text. AWS's clients read ``statusReason`` as that text ("Essential
    container in task exited", the user's cancel reason, "Dependent Job failed …"), so for an
    ended job the AWS front ends answer the text there and the code in ``statusReasonCode``.
    A waiting job's reason (``MISCONFIGURATION:…``, a retry's code) is left as the operator wrote it.
    """
    if state not in ENDED:
        return {"statusReason": code, "statusReasonCode": code}
    last_attempt = ((attempts or [])[-1:] or [{}])[0].get("statusReason")
    return {"statusReason": message or last_attempt or code, "statusReasonCode": code}


def present(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` without its None values (AWS leaves unknown fields out)."""
    return {key: value for key, value in document.items() if value is not None}


def _parts(obj: Obj) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    return obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}


def created_at(obj: Obj) -> int | None:
    metadata, _, status = _parts(obj)
    if status.get("createdAt") is not None:
        return status["createdAt"]
    moment = parse_time(metadata.get("creationTimestamp"))
    return epoch_millis(moment) if moment else None


def job_name(job: Obj) -> str:
    metadata = job.get("metadata") or {}
    return (metadata.get("annotations") or {}).get(JOB_NAME_ANNOTATION) or metadata["name"]


def job_id(job: Obj) -> str:
    metadata, _, status = _parts(job)
    return status.get("jobId") or metadata["uid"]


def current_revision(definition: Obj) -> int:
    """The revision of the definition's spec; while the operator has not numbered it, the one it will get."""
    metadata, _, status = _parts(definition)
    numbered = int(status.get("revision") or 0)
    if numbered and status.get("observedGeneration") == metadata.get("generation"):
        return numbered
    return numbered + 1


def _job_definition_arn(spec: dict[str, Any], resolved: dict[str, Any], arns: Arns) -> str | None:
    reference = spec.get("jobDefinition")
    if not reference:
        return None
    ref = parse_definition_ref(reference)
    revision = resolved.get("revision") or ref.revision
    return arns.build(JOB_DEFINITION, f"{ref.name}:{revision}" if revision else ref.name)


def _container(resolved: dict[str, Any], status: dict[str, Any]) -> dict[str, Any] | None:
    container = {**(resolved.get("containerProperties") or {}), **(status.get("container") or {})}
    return container or None


def _array(spec: dict[str, Any], status: dict[str, Any]) -> dict[str, Any] | None:
    """An array parent's ``{size, statusSummary}``, as AWS prints it; the operator's per-child record stays out."""
    array = present({"size": (spec.get("arrayProperties") or {}).get("size"),
                     "statusSummary": (status.get("arrayProperties") or {}).get("statusSummary")})
    return array or None


def job_detail(job: Obj, *, arns: Arns) -> dict[str, Any]:
    """A DescribeJobs entry."""
    _, spec, status = _parts(job)
    resolved = status.get("resolvedDefinition") or {}
    uid = job_id(job)
    return present({
        "jobArn": arns.build(JOB, uid),
        "jobName": job_name(job),
        "jobId": uid,
        "jobQueue": arns.build(JOB_QUEUE, spec["jobQueue"]) if spec.get("jobQueue") else None,
        "status": status.get("status") or "SUBMITTED",
        **status_reason_fields(state=status.get("status"), code=status.get("statusReason"),
                               message=status.get("statusMessage"), attempts=status.get("attempts")),
        "statusMessage": status.get("statusMessage"),
        "shareIdentifier": spec.get("shareIdentifier"),
        "schedulingPriority": resolved.get("schedulingPriority", spec.get("schedulingPriorityOverride")),
        "attempts": status.get("attempts") or [],
        "createdAt": created_at(job),
        "startedAt": status.get("startedAt"),
        "stoppedAt": status.get("stoppedAt"),
        "retryStrategy": resolved.get("retryStrategy") or spec.get("retryStrategy"),
        "dependsOn": spec.get("dependsOn") or [],
        "jobDefinition": _job_definition_arn(spec, resolved, arns),
        "parameters": resolved.get("parameters") or spec.get("parameters") or {},
        "container": _container(resolved, status),
        "nodeProperties": resolved.get("nodeProperties"),
        "eksProperties": resolved.get("eksProperties"),
        "arrayProperties": _array(spec, status),
        "timeout": resolved.get("timeout") or spec.get("timeout"),
        "tags": effective_tags(job),  # the job's own, as ListTagsForResource says (not its definition's)
        "propagateTags": spec.get("propagateTags"),
        "platformCapabilities": resolved.get("platformCapabilities"),
        "computeEnvironment": status.get("computeEnvironment"),
        "isCancelled": status.get("statusReason") == "Cancelled",
        "isTerminated": status.get("statusReason") == "Terminated",
    })


def job_summary(detail: dict[str, Any]) -> dict[str, Any]:
    """The ListJobs entry of a DescribeJobs entry."""
    summary = {field: detail[field] for field in SUMMARY_FIELDS if field in detail}
    container = present({key: (detail.get("container") or {}).get(key) for key in ("exitCode", "reason")})
    if container:
        summary["container"] = container
    array = present({key: (detail.get("arrayProperties") or {}).get(key) for key in ("size", "index")})
    if array:
        summary["arrayProperties"] = array
    nodes = {**(detail.get("nodeProperties") or {}), **(detail.get("nodeDetails") or {})}
    nodes = present({key: nodes.get(key) for key in ("isMainNode", "numNodes", "nodeIndex")})
    if nodes:
        summary["nodeProperties"] = nodes
    return summary


def definition_entry(definition: Obj, *, revision: int, spec: dict[str, Any], status: str, arns: Arns
                     ) -> dict[str, Any]:
    """A DescribeJobDefinitions entry for one revision (ACTIVE or INACTIVE) of a definition."""
    metadata = definition.get("metadata") or {}
    name = metadata["name"]
    return {
        "jobDefinitionName": name,
        "jobDefinitionArn": arns.build(JOB_DEFINITION, f"{name}:{revision}"),
        "revision": revision,
        "status": status,
        **with_aws_defaults(spec),
        "tags": {**(spec.get("tags") or {}), **tags_of(definition)},
        "containerOrchestrationType": "EKS" if "eksProperties" in spec else "ECS",
    }


CONTAINER_DEFAULTS = {"command": [], "resourceRequirements": [], "secrets": []}
"""What DescribeJobDefinitions prints for these container fields when the definition gives none (AWS's answer)."""


def with_aws_defaults(spec: dict[str, Any]) -> dict[str, Any]:
    """A definition's spec as AWS describes it: its containers' list defaults, Fargate's platform version."""
    spec = copy.deepcopy(spec)
    containers = [spec.get("containerProperties"),
                  *((item.get("container") for item in (spec.get("nodeProperties") or {}).get("nodeRangeProperties")
                     or []))]
    for container in filter(None, containers):
        for field, default in CONTAINER_DEFAULTS.items():
            container.setdefault(field, copy.deepcopy(default))
    if "FARGATE" in (spec.get("platformCapabilities") or []) and spec.get("containerProperties") is not None:
        spec["containerProperties"].setdefault("fargatePlatformConfiguration", {"platformVersion": "LATEST"})
    return spec


def queue_detail(queue: Obj, *, arns: Arns) -> dict[str, Any]:
    """A DescribeJobQueues entry."""
    metadata, spec, status = _parts(queue)
    policy = spec.get("schedulingPolicy")
    return present({
        "jobQueueName": metadata["name"],
        "jobQueueArn": arns.build(JOB_QUEUE, metadata["name"]),
        "state": spec.get("state") or "ENABLED",
        "schedulingPolicyArn": arns.build(SCHEDULING_POLICY, policy) if policy else None,
        "status": status.get("status") or "CREATING",
        "statusReason": status.get("statusReason"),
        "priority": spec.get("priority"),
        "computeEnvironmentOrder": [
            {"order": item["order"], "computeEnvironment": arns.build(COMPUTE_ENVIRONMENT, item["computeEnvironment"])}
            for item in spec.get("computeEnvironmentOrder") or []
        ],
        "tags": tags_of(queue),
        "jobStateTimeLimitActions": spec.get("jobStateTimeLimitActions"),
        "namespaceSelector": spec.get("namespaceSelector"),
        "finishedJobRetentionSeconds": spec.get("finishedJobRetentionSeconds"),
    })


def compute_environment_detail(environment: Obj, *, arns: Arns) -> dict[str, Any]:
    """A DescribeComputeEnvironments entry."""
    metadata, spec, status = _parts(environment)
    resources = spec.get("computeResources")
    if resources is not None and status.get("desiredvCpus") is not None:
        resources = {**resources, "desiredvCpus": status["desiredvCpus"]}
    return present({
        "computeEnvironmentName": metadata["name"],
        "computeEnvironmentArn": arns.build(COMPUTE_ENVIRONMENT, metadata["name"]),
        "tags": tags_of(environment),
        "type": spec.get("type"),
        "state": spec.get("state") or "ENABLED",
        "status": status.get("status") or "CREATING",
        "statusReason": status.get("statusReason"),
        "computeResources": resources,
        "serviceRole": spec.get("serviceRole"),
        "uuid": metadata.get("uid"),
        "allowPrivileged": spec.get("allowPrivileged"),
        "allowHostPath": spec.get("allowHostPath"),
        "usedvCpus": status.get("usedvCpus"),
        "runningJobs": status.get("runningJobs"),
    })


def scheduling_policy_detail(policy: Obj, *, arns: Arns) -> dict[str, Any]:
    """A DescribeSchedulingPolicies entry."""
    metadata, spec, _ = _parts(policy)
    return present({
        "name": metadata["name"],
        "arn": arns.build(SCHEDULING_POLICY, metadata["name"]),
        "fairsharePolicy": spec.get("fairsharePolicy"),
        "tags": tags_of(policy),
    })
