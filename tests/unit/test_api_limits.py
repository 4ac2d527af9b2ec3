"""Every limit checked at the door, table by table, on the Python side.

The same bounds and rules are in the CRDs (OpenAPI + CEL); here the pydantic models,
which the CLI uses before anything reaches the API server, must accept each value on
the edge and reject each value past it, with an error that names the field.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from kubatch.api import (
    BatchJobSpec,
    ComputeEnvironmentSpec,
    JobDefinitionSpec,
    JobQueueSpec,
    SchedulingPolicySpec,
)
from kubatch.controller.store import merged

JOB = {"jobDefinition": "sleep", "jobQueue": "default"}
DEFINITION = {"type": "container", "containerProperties": {"image": "busybox"}}
MULTINODE = {
    "type": "multinode",
    "nodeProperties": {
        "numNodes": 4,
        "mainNode": 0,
        "nodeRangeProperties": [{"targetNodes": "0:3", "container": {"image": "mpi"}}],
    },
}
ENVIRONMENT = {"type": "MANAGED", "computeResources": {"type": "EC2", "maxvCpus": 16}}
QUEUE = {"priority": 1, "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "ce"}]}
POLICY = {"fairsharePolicy": {"shareDecaySeconds": 0}}
ZERO_VCPU = {"image": "mpi", "resourceRequirements": [{"type": "VCPU", "value": "0"}]}


def rules(*patterns: str) -> dict[str, Any]:
    return {"retryStrategy": {"attempts": 2, "evaluateOnExit": [{"action": "RETRY", **p} for p in patterns]}}


def on_reason(value: str) -> dict[str, Any]:
    return rules({"onReason": value})


def ranges(*targets: str, num_nodes: int = 4, main_node: int = 0) -> dict[str, Any]:
    return {
        "nodeProperties": {
            "numNodes": num_nodes,
            "mainNode": main_node,
            "nodeRangeProperties": [{"targetNodes": t, "container": {"image": "mpi"}} for t in targets],
        }
    }


def cr(**fields: Any) -> dict[str, Any]:
    return {"computeResources": fields}


def resources(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"containerProperties": {"resourceRequirements": [{"type": t, "value": v} for t, v in pairs]}}


def overrides(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"containerOverrides": {"resourceRequirements": [{"type": t, "value": v} for t, v in pairs]}}


def fargate(container: dict[str, Any]) -> dict[str, Any]:
    return {"platformCapabilities": ["FARGATE"], "containerProperties": container}


def eks_override(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"eksPropertiesOverride": {"podProperties": {"containers": list(containers)}}}


def shares(*weights: float) -> dict[str, Any]:
    return {
        "fairsharePolicy": {
            "shareDistribution": [{"shareIdentifier": f"t{i}", "weightFactor": w} for i, w in enumerate(weights)]
        }
    }


def ce_order(*orders: tuple[int, str]) -> dict[str, Any]:
    return {"computeEnvironmentOrder": [{"order": o, "computeEnvironment": c} for o, c in orders]}


def deps(n: int, **extra: Any) -> dict[str, Any]:
    return {"dependsOn": [{"jobId": f"job-{i}", **extra} for i in range(n)]}


# (id, model, base spec, patch, None if accepted, else text of the error's "field.path: message")
CASES: list[tuple[str, type[BaseModel], dict[str, Any], dict[str, Any], str | None]] = [
    # BatchJob
    ("array size 2", BatchJobSpec, JOB, {"arrayProperties": {"size": 2}}, None),
    ("array size 10000", BatchJobSpec, JOB, {"arrayProperties": {"size": 10000}}, None),
    ("array size 1", BatchJobSpec, JOB, {"arrayProperties": {"size": 1}}, "arrayProperties.size"),
    ("array size 10001", BatchJobSpec, JOB, {"arrayProperties": {"size": 10001}}, "arrayProperties.size"),
    ("20 dependsOn", BatchJobSpec, JOB, deps(20), None),
    ("21 dependsOn", BatchJobSpec, JOB, deps(21), "dependsOn"),
    ("dependsOn child", BatchJobSpec, JOB, {"dependsOn": [{"jobId": "prep:7"}]}, None),
    ("dependsOn bad id", BatchJobSpec, JOB, {"dependsOn": [{"jobId": "Prep"}]}, "dependsOn.0.jobId"),
    ("dependsOn bad type", BatchJobSpec, JOB, {"dependsOn": [{"jobId": "a", "type": "ALL"}]}, "dependsOn.0.type"),
    ("N_TO_N needs array", BatchJobSpec, JOB, deps(1, type="N_TO_N"), "arrayProperties"),
    ("N_TO_N array", BatchJobSpec, JOB, {**deps(1, type="N_TO_N"), "arrayProperties": {"size": 3}}, None),
    (
        "SEQUENTIAL without jobId",
        BatchJobSpec,
        JOB,
        {"dependsOn": [{"type": "SEQUENTIAL"}], "arrayProperties": {"size": 3}},
        None,
    ),
    ("jobId missing", BatchJobSpec, JOB, {"dependsOn": [{}]}, "dependsOn[].jobId"),
    ("definition revision", BatchJobSpec, JOB, {"jobDefinition": "sleep:3"}, None),
    ("definition revision 0", BatchJobSpec, JOB, {"jobDefinition": "sleep:0"}, "jobDefinition"),
    ("definition arn", BatchJobSpec, JOB, {"jobDefinition": "arn:aws:batch:x"}, "jobDefinition"),
    ("queue name", BatchJobSpec, JOB, {"jobQueue": "My_Queue"}, "jobQueue"),
    ("priority override 9999", BatchJobSpec, JOB, {"schedulingPriorityOverride": 9999}, None),
    ("priority override 10000", BatchJobSpec, JOB, {"schedulingPriorityOverride": 10000}, "schedulingPriorityOverride"),
    ("priority override -1", BatchJobSpec, JOB, {"schedulingPriorityOverride": -1}, "schedulingPriorityOverride"),
    ("share identifier", BatchJobSpec, JOB, {"shareIdentifier": "team_a"}, None),
    ("share identifier star", BatchJobSpec, JOB, {"shareIdentifier": "team*"}, "shareIdentifier"),
    ("timeout 60", BatchJobSpec, JOB, {"timeout": {"attemptDurationSeconds": 60}}, None),
    ("timeout 59", BatchJobSpec, JOB, {"timeout": {"attemptDurationSeconds": 59}}, "timeout.attemptDurationSeconds"),
    ("attempts 1", BatchJobSpec, JOB, {"retryStrategy": {"attempts": 1}}, None),
    ("attempts 10", BatchJobSpec, JOB, {"retryStrategy": {"attempts": 10}}, None),
    ("attempts 0", BatchJobSpec, JOB, {"retryStrategy": {"attempts": 0}}, "retryStrategy.attempts"),
    ("attempts 11", BatchJobSpec, JOB, {"retryStrategy": {"attempts": 11}}, "retryStrategy.attempts"),
    ("cancel request", BatchJobSpec, JOB, {"cancelRequest": {"reason": "not needed"}}, None),
    ("cancel without reason", BatchJobSpec, JOB, {"cancelRequest": {}}, "cancelRequest.reason"),
    (
        "override AWS_BATCH env",
        BatchJobSpec,
        JOB,
        {"containerOverrides": {"environment": [{"name": "AWS_BATCH_X"}]}},
        "AWS_BATCH",
    ),
    (
        "override node range",
        BatchJobSpec,
        JOB,
        {"nodeOverrides": {"nodePropertyOverrides": [{"targetNodes": "1-2"}]}},
        "targetNodes",
    ),
    ("unknown field", BatchJobSpec, JOB, {"jobName": "x"}, "jobName"),
    ("override vcpu 0.5", BatchJobSpec, JOB, overrides(("VCPU", "0.5")), None),
    ("override vcpu 0", BatchJobSpec, JOB, overrides(("VCPU", "0")), "must be greater than 0 for VCPU"),
    ("override vcpu 0.0", BatchJobSpec, JOB, overrides(("VCPU", "0.0")), "must be greater than 0 for VCPU"),
    ("override memory 0", BatchJobSpec, JOB, overrides(("MEMORY", "0")), "at least 4 (MiB) for MEMORY"),
    ("override gpu 0", BatchJobSpec, JOB, overrides(("GPU", "0")), "at least 1 for GPU"),
    ("override vcpus 0", BatchJobSpec, JOB, {"containerOverrides": {"vcpus": 0}}, "containerOverrides.vcpus"),
    ("eks override by name", BatchJobSpec, JOB, eks_override({"name": "main", "command": ["x"]}), None),
    # AWS's model leaves the name optional: it then changes the pod's only container (core.definition)
    ("eks override without name", BatchJobSpec, JOB, eks_override({"command": ["x"]}), None),
    (
        "eks init override without name",
        BatchJobSpec,
        JOB,
        {"eksPropertiesOverride": {"podProperties": {"initContainers": [{"image": "x"}]}}},
        None,
    ),
    (
        "two eks overrides without name",
        BatchJobSpec,
        JOB,
        eks_override({"image": "a"}, {"image": "b"}),
        "containers[].name must not name a container twice",
    ),
    (
        "eks override same name twice",
        BatchJobSpec,
        JOB,
        eks_override({"name": "main", "image": "a"}, {"name": "main", "image": "b"}),
        "containers[].name must not name a container twice",
    ),
    # retry rules (same model in definitions and jobs)
    ("5 evaluateOnExit", BatchJobSpec, JOB, rules(*[{"onExitCode": "1"}] * 5), None),
    ("6 evaluateOnExit", BatchJobSpec, JOB, rules(*[{"onExitCode": "1"}] * 6), "evaluateOnExit"),
    ("onExitCode digits", BatchJobSpec, JOB, rules({"onExitCode": "137"}), None),
    ("onExitCode prefix", BatchJobSpec, JOB, rules({"onExitCode": "13*"}), None),
    ("onExitCode star", BatchJobSpec, JOB, rules({"onExitCode": "*"}), None),
    ("onExitCode letters", BatchJobSpec, JOB, rules({"onExitCode": "1a"}), "onExitCode"),
    ("onExitCode inner star", BatchJobSpec, JOB, rules({"onExitCode": "1*3"}), "onExitCode"),
    ("onExitCode 512", BatchJobSpec, JOB, rules({"onExitCode": "1" * 512}), None),
    ("onExitCode 513", BatchJobSpec, JOB, rules({"onExitCode": "1" * 513}), "onExitCode"),
    ("onReason text", BatchJobSpec, JOB, on_reason("Host EC2 (i-1) terminated."), "onReason"),
    ("onReason alphabet", BatchJobSpec, JOB, on_reason("CannotPull: image_x-1.2 failed*"), None),
    ("onReason 512", BatchJobSpec, JOB, on_reason("a" * 511 + "*"), None),
    ("onReason 513", BatchJobSpec, JOB, on_reason("a" * 513), "onReason"),
    ("onStatusReason star inside", BatchJobSpec, JOB, rules({"onStatusReason": "Host*Error"}), "onStatusReason"),
    ("action lower case", BatchJobSpec, JOB, rules({"onStatusReason": "TaskFailed", "action": "exit"}), None),
    ("action unknown", BatchJobSpec, JOB, rules({"onStatusReason": "TaskFailed", "action": "IGNORE"}), "action"),
    # JobDefinition
    (
        "no container",
        JobDefinitionSpec,
        DEFINITION,
        {"containerProperties": None},
        "containerProperties or eksProperties",
    ),
    (
        "container and eks",
        JobDefinitionSpec,
        DEFINITION,
        {"eksProperties": {"podProperties": {"containers": [{"image": "x"}]}}},
        "exactly one",
    ),
    (
        "eks only",
        JobDefinitionSpec,
        DEFINITION,
        {"containerProperties": None, "eksProperties": {"podProperties": {"containers": [{"image": "x"}]}}},
        None,
    ),
    ("scheduling priority 9999", JobDefinitionSpec, DEFINITION, {"schedulingPriority": 9999}, None),
    ("scheduling priority 10000", JobDefinitionSpec, DEFINITION, {"schedulingPriority": 10000}, "schedulingPriority"),
    ("definition type unknown", JobDefinitionSpec, DEFINITION, {"type": "batch"}, "type: Input should be"),
    ("memory 3", JobDefinitionSpec, DEFINITION, {"containerProperties": {"memory": 3}}, "containerProperties.memory"),
    ("vcpus 0", JobDefinitionSpec, DEFINITION, {"containerProperties": {"vcpus": 0}}, "containerProperties.vcpus"),
    (
        "resource types",
        JobDefinitionSpec,
        DEFINITION,
        resources(("VCPU", "0.25"), ("MEMORY", "512"), ("GPU", "1")),
        None,
    ),
    ("resource type twice", JobDefinitionSpec, DEFINITION, resources(("VCPU", "1"), ("VCPU", "2")), "at most once"),
    ("vcpu 0", JobDefinitionSpec, DEFINITION, resources(("VCPU", "0")), "must be greater than 0 for VCPU"),
    ("vcpu 0.00", JobDefinitionSpec, DEFINITION, resources(("VCPU", "0.00")), "must be greater than 0 for VCPU"),
    ("vcpu 0.01", JobDefinitionSpec, DEFINITION, resources(("VCPU", "0.01")), None),
    ("memory requirement 3", JobDefinitionSpec, DEFINITION, resources(("MEMORY", "3")), "at least 4 (MiB) for MEMORY"),
    ("memory requirement 4", JobDefinitionSpec, DEFINITION, resources(("MEMORY", "4")), None),
    ("gpu 0", JobDefinitionSpec, DEFINITION, resources(("GPU", "0")), "at least 1 for GPU"),
    (
        "node range vcpu 0",
        JobDefinitionSpec,
        MULTINODE,
        {"nodeProperties": {"nodeRangeProperties": [{"targetNodes": "0:3", "container": ZERO_VCPU}]}},
        "greater than 0 for VCPU",
    ),
    (
        "resource type unknown",
        JobDefinitionSpec,
        DEFINITION,
        resources(
            ("CPU", "1"),
        ),
        "resourceRequirements.0.type",
    ),
    (
        "memory fraction",
        JobDefinitionSpec,
        DEFINITION,
        resources(
            ("MEMORY", "1.5"),
        ),
        "whole number",
    ),
    (
        "resource not a number",
        JobDefinitionSpec,
        DEFINITION,
        resources(
            ("VCPU", "two"),
        ),
        "resourceRequirements.0.value",
    ),
    (
        "env AWS_BATCH",
        JobDefinitionSpec,
        DEFINITION,
        {"containerProperties": {"environment": [{"name": "AWS_BATCH_JOB_ID", "value": "x"}]}},
        "AWS_BATCH",
    ),
    (
        "secret ref",
        JobDefinitionSpec,
        DEFINITION,
        {"containerProperties": {"secrets": [{"name": "PW", "valueFrom": "db:password"}]}},
        None,
    ),
    (
        "secret arn",
        JobDefinitionSpec,
        DEFINITION,
        {"containerProperties": {"secrets": [{"name": "PW", "valueFrom": "arn:aws:ssm:x"}]}},
        "valueFrom",
    ),
    (
        "fargate 16 vcpu",
        JobDefinitionSpec,
        DEFINITION,
        {
            "platformCapabilities": ["FARGATE"],
            **resources(
                ("VCPU", "16"),
            ),
        },
        None,
    ),
    (
        "fargate 32 vcpu",
        JobDefinitionSpec,
        DEFINITION,
        {
            "platformCapabilities": ["FARGATE"],
            **resources(
                ("VCPU", "32"),
            ),
        },
        "16 vCPU",
    ),
    (
        "fargate vcpus 17",
        JobDefinitionSpec,
        DEFINITION,
        {"platformCapabilities": ["FARGATE"], "containerProperties": {"vcpus": 17}},
        "16 vCPU",
    ),
    (
        "ec2 32 vcpu",
        JobDefinitionSpec,
        DEFINITION,
        {
            "platformCapabilities": ["EC2"],
            **resources(
                ("VCPU", "32"),
            ),
        },
        None,
    ),
    ("platform unknown", JobDefinitionSpec, DEFINITION, {"platformCapabilities": ["LAMBDA"]}, "platformCapabilities"),
    (
        "fargate 120 GiB",
        JobDefinitionSpec,
        DEFINITION,
        fargate({"image": "x", "resourceRequirements": [{"type": "MEMORY", "value": "122880"}]}),
        None,
    ),
    (
        "fargate MEMORY 200000",
        JobDefinitionSpec,
        DEFINITION,
        fargate({"image": "x", "resourceRequirements": [{"type": "MEMORY", "value": "200000"}]}),
        "resourceRequirements MEMORY must not exceed 122880 MiB",
    ),
    (
        "fargate MEMORY 122881",
        JobDefinitionSpec,
        DEFINITION,
        fargate({"image": "x", "resourceRequirements": [{"type": "MEMORY", "value": "122881"}]}),
        "122880 MiB",
    ),
    ("fargate memory 122880", JobDefinitionSpec, DEFINITION, fargate({"image": "x", "memory": 122880}), None),
    (
        "fargate memory 200000",
        JobDefinitionSpec,
        DEFINITION,
        fargate({"image": "x", "memory": 200000}),
        "containerProperties.memory must not exceed 122880 MiB",
    ),
    (
        "ec2 memory 200000",
        JobDefinitionSpec,
        DEFINITION,
        {"platformCapabilities": ["EC2"], "containerProperties": {"image": "x", "memory": 200000}},
        None,
    ),
    # multi-node
    ("multinode", JobDefinitionSpec, MULTINODE, {}, None),
    (
        "multinode without nodes",
        JobDefinitionSpec,
        MULTINODE,
        {"nodeProperties": None},
        "multinode needs nodeProperties",
    ),
    ("nodes on container type", JobDefinitionSpec, MULTINODE, {"type": "container"}, "exactly one"),
    ("multinode on fargate", JobDefinitionSpec, MULTINODE, {"platformCapabilities": ["FARGATE"]}, "FARGATE"),
    ("main node last", JobDefinitionSpec, MULTINODE, ranges("0:3", main_node=3), None),
    ("main node past end", JobDefinitionSpec, MULTINODE, ranges("0:3", main_node=4), "mainNode"),
    ("nested ranges", JobDefinitionSpec, MULTINODE, ranges("0:3", "1:2", ":0", "3:", "2"), None),
    ("open range", JobDefinitionSpec, MULTINODE, ranges(":"), None),
    ("5 ranges", JobDefinitionSpec, MULTINODE, ranges(*["0:3"] * 5), None),
    ("6 ranges", JobDefinitionSpec, MULTINODE, ranges(*["0:3"] * 6), "nodeRangeProperties"),
    ("no ranges", JobDefinitionSpec, MULTINODE, ranges(), "nodeRangeProperties"),
    ("range end past nodes", JobDefinitionSpec, MULTINODE, ranges("0:4"), "targetNodes"),
    ("range start past nodes", JobDefinitionSpec, MULTINODE, ranges("4:"), "targetNodes"),
    ("range backwards", JobDefinitionSpec, MULTINODE, ranges("3:1"), "targetNodes"),
    ("single node past end", JobDefinitionSpec, MULTINODE, ranges("4"), "targetNodes"),
    ("range syntax", JobDefinitionSpec, MULTINODE, ranges("0-3"), "targetNodes"),
    ("ranges cover with pieces", JobDefinitionSpec, MULTINODE, ranges("0:1", "2", "3:"), None),
    ("ranges overlap and cover", JobDefinitionSpec, MULTINODE, ranges("2:3", "0:2"), None),
    ("ranges miss the end", JobDefinitionSpec, MULTINODE, ranges("0:1"), "cover every node from 0 to numNodes-1"),
    ("ranges miss node 0", JobDefinitionSpec, MULTINODE, ranges("1:"), "cover every node"),
    ("ranges leave a gap", JobDefinitionSpec, MULTINODE, ranges("0:1", "3"), "cover every node"),
    ("one node one range", JobDefinitionSpec, MULTINODE, ranges("0", num_nodes=1), None),
    ("numNodes 0", JobDefinitionSpec, MULTINODE, {"nodeProperties": {"numNodes": 0}}, "numNodes"),
    # ComputeEnvironment
    ("min <= desired <= max", ComputeEnvironmentSpec, ENVIRONMENT, cr(minvCpus=2, desiredvCpus=4, maxvCpus=8), None),
    ("desired above max", ComputeEnvironmentSpec, ENVIRONMENT, cr(desiredvCpus=32), "desiredvCpus"),
    ("min above max", ComputeEnvironmentSpec, ENVIRONMENT, cr(minvCpus=32), "minvCpus"),
    ("desired below min", ComputeEnvironmentSpec, ENVIRONMENT, cr(minvCpus=4, desiredvCpus=2), "desiredvCpus"),
    ("negative max", ComputeEnvironmentSpec, ENVIRONMENT, cr(maxvCpus=-1), "maxvCpus"),
    ("compute type unknown", ComputeEnvironmentSpec, ENVIRONMENT, cr(type="GPU"), "computeResources.type"),
    ("state unknown", ComputeEnvironmentSpec, ENVIRONMENT, {"state": "ON"}, "state: Input should be"),
    ("managed without resources", ComputeEnvironmentSpec, ENVIRONMENT, {"computeResources": None}, "computeResources"),
    ("unmanaged", ComputeEnvironmentSpec, ENVIRONMENT, {"type": "UNMANAGED", "computeResources": None}, None),
    (
        "unmanaged with resources",
        ComputeEnvironmentSpec,
        ENVIRONMENT,
        {"type": "UNMANAGED"},
        "computeResources must not be set when type is UNMANAGED",
    ),
    ("fargate", ComputeEnvironmentSpec, ENVIRONMENT, cr(type="FARGATE_SPOT"), None),
    (
        "fargate instance types",
        ComputeEnvironmentSpec,
        ENVIRONMENT,
        cr(type="FARGATE", instanceTypes=["m5"]),
        "FARGATE",
    ),
    ("fargate minvCpus", ComputeEnvironmentSpec, ENVIRONMENT, cr(type="FARGATE", minvCpus=0), "FARGATE"),
    (
        "fargate strategy",
        ComputeEnvironmentSpec,
        ENVIRONMENT,
        cr(type="FARGATE_SPOT", allocationStrategy="BEST_FIT"),
        "computeResources.allocationStrategy does not apply to FARGATE",
    ),
    ("spot bid", ComputeEnvironmentSpec, ENVIRONMENT, cr(type="SPOT", bidPercentage=100), None),
    ("spot bid 101", ComputeEnvironmentSpec, ENVIRONMENT, cr(type="SPOT", bidPercentage=101), "bidPercentage"),
    ("bid on EC2", ComputeEnvironmentSpec, ENVIRONMENT, cr(bidPercentage=50), "bidPercentage"),
    (
        "spot strategy on EC2",
        ComputeEnvironmentSpec,
        ENVIRONMENT,
        cr(allocationStrategy="SPOT_CAPACITY_OPTIMIZED"),
        "SPOT",
    ),
    ("strategy unknown", ComputeEnvironmentSpec, ENVIRONMENT, cr(allocationStrategy="CHEAPEST"), "allocationStrategy"),
    (
        "karpenter pool",
        ComputeEnvironmentSpec,
        ENVIRONMENT,
        cr(nodeSelector={"karpenter.sh/capacity-type": "spot"}, tolerations=[{"key": "spot", "operator": "Exists"}]),
        None,
    ),
    ("toleration effect", ComputeEnvironmentSpec, ENVIRONMENT, cr(tolerations=[{"effect": "Never"}]), "effect"),
    # JobQueue
    ("priority 0", JobQueueSpec, QUEUE, {"priority": 0}, None),
    ("priority 1000", JobQueueSpec, QUEUE, {"priority": 1000}, None),
    ("priority 1001", JobQueueSpec, QUEUE, {"priority": 1001}, "priority: Input should be"),
    ("priority -1", JobQueueSpec, QUEUE, {"priority": -1}, "priority: Input should be"),
    ("3 environments", JobQueueSpec, QUEUE, ce_order((1, "a"), (2, "b"), (3, "c")), None),
    (
        "4 environments",
        JobQueueSpec,
        QUEUE,
        ce_order((1, "a"), (2, "b"), (3, "c"), (4, "d")),
        "computeEnvironmentOrder",
    ),
    ("no environment", JobQueueSpec, QUEUE, ce_order(), "computeEnvironmentOrder"),
    ("same order twice", JobQueueSpec, QUEUE, ce_order((1, "a"), (1, "b")), "order values must be distinct"),
    ("same environment twice", JobQueueSpec, QUEUE, ce_order((1, "a"), (2, "a")), "computeEnvironment must not"),
    ("state disabled", JobQueueSpec, QUEUE, {"state": "DISABLED"}, None),
    (
        "time limit",
        JobQueueSpec,
        QUEUE,
        {
            "jobStateTimeLimitActions": [
                {
                    "reason": "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
                    "state": "RUNNABLE",
                    "maxTimeSeconds": 600,
                    "action": "CANCEL",
                }
            ]
        },
        None,
    ),
    (
        "time limit too short",
        JobQueueSpec,
        QUEUE,
        {"jobStateTimeLimitActions": [{"reason": "x", "state": "RUNNABLE", "maxTimeSeconds": 599, "action": "CANCEL"}]},
        "maxTimeSeconds",
    ),
    (
        "time limit state",
        JobQueueSpec,
        QUEUE,
        {"jobStateTimeLimitActions": [{"reason": "x", "state": "RUNNING", "maxTimeSeconds": 600, "action": "CANCEL"}]},
        "jobStateTimeLimitActions.0.state",
    ),
    ("namespace selector", JobQueueSpec, QUEUE, {"namespaceSelector": {"matchLabels": {"team": "a"}}}, None),
    (
        "namespace selector operator",
        JobQueueSpec,
        QUEUE,
        {"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "Is"}]}},
        "operator",
    ),
    # SchedulingPolicy
    ("weight bounds", SchedulingPolicySpec, POLICY, shares(0.0001, 999.9999), None),
    ("weight too small", SchedulingPolicySpec, POLICY, shares(0.00009), "weightFactor"),
    ("weight too large", SchedulingPolicySpec, POLICY, shares(1000), "weightFactor"),
    ("weight 0", SchedulingPolicySpec, POLICY, shares(0), "weightFactor"),
    ("weight whole number", SchedulingPolicySpec, POLICY, shares(999), None),
    ("reservation 99", SchedulingPolicySpec, POLICY, {"fairsharePolicy": {"computeReservation": 99}}, None),
    (
        "reservation 100",
        SchedulingPolicySpec,
        POLICY,
        {"fairsharePolicy": {"computeReservation": 100}},
        "computeReservation",
    ),
    (
        "reservation -1",
        SchedulingPolicySpec,
        POLICY,
        {"fairsharePolicy": {"computeReservation": -1}},
        "computeReservation",
    ),
    ("decay -1", SchedulingPolicySpec, POLICY, {"fairsharePolicy": {"shareDecaySeconds": -1}}, "shareDecaySeconds"),
    ("decay one week", SchedulingPolicySpec, POLICY, {"fairsharePolicy": {"shareDecaySeconds": 604800}}, None),
    (
        "share prefix",
        SchedulingPolicySpec,
        POLICY,
        {"fairsharePolicy": {"shareDistribution": [{"shareIdentifier": "team_*"}]}},
        None,
    ),
    (
        "share identifier syntax",
        SchedulingPolicySpec,
        POLICY,
        {"fairsharePolicy": {"shareDistribution": [{"shareIdentifier": "team-a"}]}},
        "shareIdentifier",
    ),
]


@pytest.mark.parametrize(("model", "base", "patch", "error"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_limit(model: type[BaseModel], base: dict[str, Any], patch: dict[str, Any], error: str | None) -> None:
    spec = merged(base, patch)
    if error is None:
        model.model_validate(spec)
        return
    with pytest.raises(ValidationError) as caught:
        model.model_validate(spec)
    problems = [".".join(map(str, e["loc"])) + ": " + e["msg"] for e in caught.value.errors()]
    assert any(error in problem for problem in problems), problems


def test_case_ids_are_unique() -> None:
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))
