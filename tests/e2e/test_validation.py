"""Validation at the door: the real API server refuses bad kubatch objects and says which field.

Every case starts from a valid object of its kind, breaks exactly one thing (the CEL
rules only run once the OpenAPI checks pass) and is sent with `kubectl apply
--dry-run=server`, as a user would. The valid cases hold the other side of each
bound and AWS's own documented examples, so the rules cannot drift into refusing
what AWS Batch accepts. Transition rules need an object that exists: those tests
create a BatchJob in the test's namespace and try to change it.

No operator runs here: validation is the API server's alone.
"""

from __future__ import annotations

import copy
import json
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.batch import API_VERSION, batch_job, compute_environment, job_definition, job_queue, unique
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.kubectl import Kubectl
from tests.unit import test_api_models as aws_examples
from tests.unit.test_api_models import without_aws_only

REMOVE = object()


@pytest.fixture(scope="module", autouse=True)
def crds(kubectl: Kubectl) -> None:
    kubectl.run("apply", "--server-side", "--force-conflicts", "-f", str(REPO_ROOT / "crds"))
    kubectl.run("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")


def edited(manifest: dict, changes: dict[str, Any]) -> dict:
    """A copy of `manifest` with each dotted path set to its value (or deleted for REMOVE)."""
    result = copy.deepcopy(manifest)
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = result
        for key in parents:
            node = node.setdefault(key, {})
        if value is REMOVE:
            del node[leaf]
        else:
            node[leaf] = value
    return result


def dry_run(kubectl: Kubectl, manifest: dict, namespace: str) -> subprocess.CompletedProcess[str]:
    return kubectl.run("apply", "--dry-run=server", "-n", namespace, "-f", "-", stdin=json.dumps(manifest),
                       check=False)


# Valid objects of each kind; each case below breaks one thing in one of them.
CE = compute_environment(unique("val-ce"), max_vcpus=16)
QUEUE = job_queue(unique("val-jq"), "ce-a")
POLICY = {"apiVersion": API_VERSION, "kind": "SchedulingPolicy", "metadata": {"name": unique("val-sp")},
          "spec": {"fairsharePolicy": {"shareDecaySeconds": 3600, "computeReservation": 10,
                                       "shareDistribution": [{"shareIdentifier": "teamA", "weightFactor": 1}]}}}
DEFINITION = job_definition("val-jd")
JOB = batch_job("val-bj", definition="val-jd", queue="val-jq")


def multinode(num_nodes: int = 4, main_node: int = 0, *targets: str) -> dict:
    ranges = [{"targetNodes": t, "container": {"image": "busybox", "vcpus": 1, "memory": 512}}
              for t in targets or (f"0:{num_nodes - 1}",)]
    return edited(DEFINITION, {"spec.type": "multinode", "spec.containerProperties": REMOVE,
                               "spec.nodeProperties": {"numNodes": num_nodes, "mainNode": main_node,
                                                       "nodeRangeProperties": ranges}})


def on_fargate(definition: dict) -> dict:
    return edited(definition, {"spec.platformCapabilities": ["FARGATE"]})


def with_vcpus(vcpus: str) -> dict:
    return with_resources(("VCPU", vcpus))


def with_resources(*pairs: tuple[str, str]) -> dict:
    return edited(DEFINITION, {"spec.containerProperties.resourceRequirements": [
        {"type": kind, "value": value} for kind, value in pairs]})


def eks_override(*containers: dict) -> dict:
    return edited(JOB, {"spec.eksPropertiesOverride": {"podProperties": {"containers": list(containers)}}})


def retry(attempts: int = 3, *rules: dict) -> dict:
    return {"attempts": attempts, **({"evaluateOnExit": list(rules)} if rules else {})}


def job_with_rules(*rules: dict) -> dict:
    return edited(JOB, {"spec.retryStrategy": retry(3, *rules)})


def depends_on(count: int) -> list[dict]:
    return [{"jobId": f"before-{i}"} for i in range(count)]


def share(weight: float, identifier: str = "teamA") -> dict:
    return edited(POLICY, {"spec.fairsharePolicy.shareDistribution": [
        {"shareIdentifier": identifier, "weightFactor": weight}]})


def ces(*orders: int) -> dict:
    return edited(QUEUE, {"spec.computeEnvironmentOrder": [
        {"order": order, "computeEnvironment": f"ce-{i}"} for i, order in enumerate(orders)]})


def time_limit(*, state: str = "RUNNABLE", seconds: int = 600, action: str = "CANCEL") -> dict:
    return edited(QUEUE, {"spec.jobStateTimeLimitActions": [
        {"reason": "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY", "state": state, "maxTimeSeconds": seconds,
         "action": action}]})


@dataclass(frozen=True)
class Invalid:
    id: str
    manifest: dict
    # The path stderr reports the error at (`path: Reason: detail`): the field itself, for CEL
    # rules too (their fieldPath), except the few rules about several fields at once.
    field: str
    says: str  # a fragment of the reason, so the right rule is known to have fired


def reported_at(stderr: str, field: str) -> bool:
    """Whether `field` is the path of an error in `stderr` (not merely a word of a message)."""
    return f"{field}: " in stderr or f'unknown field "{field}"' in stderr


INVALID = [
    # BatchJob
    Invalid("job-array-size-1", edited(JOB, {"spec.arrayProperties": {"size": 1}}),
            "spec.arrayProperties.size", "greater than or equal to 2"),
    Invalid("job-array-size-10001", edited(JOB, {"spec.arrayProperties": {"size": 10001}}),
            "spec.arrayProperties.size", "less than or equal to 10000"),
    Invalid("job-21-depends-on", edited(JOB, {"spec.dependsOn": depends_on(21)}),
            "spec.dependsOn", "at most 20 items"),
    Invalid("job-dependency-type-unknown",
            edited(JOB, {"spec.arrayProperties": {"size": 2}, "spec.dependsOn": [{"jobId": "a", "type": "ALL"}]}),
            "spec.dependsOn[0].type", '"N_TO_N", "SEQUENTIAL"'),
    Invalid("job-dependency-type-without-array", edited(JOB, {"spec.dependsOn": [{"jobId": "a", "type": "N_TO_N"}]}),
            "spec.dependsOn", "Invalid value: spec.dependsOn[].type (N_TO_N, SEQUENTIAL) requires"),
    Invalid("job-attempts-0", edited(JOB, {"spec.retryStrategy": retry(0)}),
            "spec.retryStrategy.attempts", "greater than or equal to 1"),
    Invalid("job-attempts-11", edited(JOB, {"spec.retryStrategy": retry(11)}),
            "spec.retryStrategy.attempts", "less than or equal to 10"),
    Invalid("job-6-evaluate-on-exit-rules",
            job_with_rules(*[{"action": "RETRY", "onExitCode": str(i)} for i in range(6)]),
            "spec.retryStrategy.evaluateOnExit", "at most 5 items"),
    Invalid("job-on-exit-code-abc", job_with_rules({"action": "EXIT", "onExitCode": "abc"}),
            "spec.retryStrategy.evaluateOnExit[0].onExitCode", "should match"),
    Invalid("job-on-status-reason-513-chars",
            job_with_rules({"action": "RETRY", "onStatusReason": "a" * 513}),
            "spec.retryStrategy.evaluateOnExit[0].onStatusReason", "may not be more than 512"),
    Invalid("job-on-reason-outside-aws-alphabet",
            job_with_rules({"action": "RETRY", "onReason": "Host/Error"}),
            "spec.retryStrategy.evaluateOnExit[0].onReason", "should match"),
    Invalid("job-retry-action-unknown", job_with_rules({"action": "RESTART"}),
            "spec.retryStrategy.evaluateOnExit[0].action", "should match"),
    Invalid("job-retry-rules-without-attempts",
            edited(JOB, {"spec.retryStrategy": {"evaluateOnExit": [{"action": "RETRY", "onExitCode": "1"}]}}),
            "spec.retryStrategy.attempts", "attempts is required when evaluateOnExit is given"),
    Invalid("job-attempt-duration-59", edited(JOB, {"spec.timeout": {"attemptDurationSeconds": 59}}),
            "spec.timeout.attemptDurationSeconds", "greater than or equal to 60"),
    Invalid("job-scheduling-priority-override-10000", edited(JOB, {"spec.schedulingPriorityOverride": 10000}),
            "spec.schedulingPriorityOverride", "less than or equal to 9999"),
    Invalid("job-share-identifier-with-dash", edited(JOB, {"spec.shareIdentifier": "team-a"}),
            "spec.shareIdentifier", "should match"),
    Invalid("job-dependency-without-job-id", edited(JOB, {"spec.dependsOn": [{}]}),
            "spec.dependsOn", "Required value: spec.dependsOn[].jobId is required unless type is SEQUENTIAL"),
    Invalid("job-definition-revision-0", edited(JOB, {"spec.jobDefinition": "val-jd:0"}),
            "spec.jobDefinition", "should match"),
    Invalid("job-without-job-queue", edited(JOB, {"spec.jobQueue": REMOVE}), "spec.jobQueue", "Required value"),
    Invalid("job-unknown-field-job-name", edited(JOB, {"spec.jobName": "my-analysis"}),
            "spec.jobName", "unknown field"),
    Invalid("job-override-vcpu-0",
            edited(JOB, {"spec.containerOverrides": {"resourceRequirements": [{"type": "VCPU", "value": "0"}]}}),
            "spec.containerOverrides.resourceRequirements[0].value", "must be greater than 0 for VCPU"),
    Invalid("job-override-legacy-vcpus-0", edited(JOB, {"spec.containerOverrides": {"vcpus": 0}}),
            "spec.containerOverrides.vcpus", "greater than or equal to 1"),
    Invalid("job-eks-overrides-both-without-name", eks_override({"image": "a"}, {"image": "b"}),
            "spec.eksPropertiesOverride.podProperties.containers", "must not name a container twice"),
    Invalid("job-eks-override-same-name-twice", eks_override({"name": "main", "image": "a"}, {"name": "main"}),
            "spec.eksPropertiesOverride.podProperties.containers", "must not name a container twice"),
    # JobDefinition
    Invalid("definition-without-image", edited(DEFINITION, {"spec.containerProperties.image": REMOVE}),
            "spec.containerProperties.image", "Required value"),
    Invalid("definition-type-unknown", edited(DEFINITION, {"spec.type": "batch"}),
            "spec.type", '"container", "multinode"'),
    Invalid("definition-resource-type-unknown",
            edited(DEFINITION, {"spec.containerProperties.resourceRequirements": [{"type": "DISK", "value": "10"}]}),
            "spec.containerProperties.resourceRequirements[0].type", '"VCPU", "MEMORY", "GPU"'),
    Invalid("definition-platform-unknown", edited(DEFINITION, {"spec.platformCapabilities": ["LAMBDA"]}),
            "spec.platformCapabilities[0]", '"EC2", "FARGATE"'),
    Invalid("definition-fargate-17-vcpu", on_fargate(with_vcpus("17")),
            "spec.containerProperties.resourceRequirements", "VCPU must not exceed 16 vCPU"),
    Invalid("definition-fargate-32-vcpus-legacy-field",
            on_fargate(edited(DEFINITION, {"spec.containerProperties.vcpus": 32})),
            "spec.containerProperties.vcpus", "must not exceed 16 vCPU"),
    Invalid("definition-fargate-memory-200000-mib", on_fargate(with_resources(("VCPU", "1"), ("MEMORY", "200000"))),
            "spec.containerProperties.resourceRequirements", "MEMORY must not exceed 122880 MiB (120 GiB)"),
    Invalid("definition-fargate-memory-122881-mib", on_fargate(with_resources(("MEMORY", "122881"))),
            "spec.containerProperties.resourceRequirements", "MEMORY must not exceed 122880 MiB"),
    Invalid("definition-fargate-memory-200000-legacy-field",
            on_fargate(edited(DEFINITION, {"spec.containerProperties.resourceRequirements": REMOVE,
                                           "spec.containerProperties.memory": 200000})),
            "spec.containerProperties.memory", "must not exceed 122880 MiB (120 GiB)"),
    Invalid("definition-vcpu-0", with_vcpus("0"),
            "spec.containerProperties.resourceRequirements[0].value", "must be greater than 0 for VCPU"),
    Invalid("definition-vcpu-0.0", with_vcpus("0.0"),
            "spec.containerProperties.resourceRequirements[0].value", "must be greater than 0 for VCPU"),
    Invalid("definition-memory-0", with_resources(("VCPU", "1"), ("MEMORY", "0")),
            "spec.containerProperties.resourceRequirements[1].value", "must be at least 4 (MiB) for MEMORY"),
    Invalid("definition-gpu-0", with_resources(("VCPU", "1"), ("GPU", "0")),
            "spec.containerProperties.resourceRequirements[1].value", "must be at least 1 for GPU"),
    Invalid("definition-memory-fraction", with_resources(("MEMORY", "512.5")),
            "spec.containerProperties.resourceRequirements[0].value", "whole number for MEMORY and GPU"),
    Invalid("definition-vcpu-twice", with_resources(("VCPU", "1"), ("VCPU", "2")),
            "spec.containerProperties.resourceRequirements", "may name each type (VCPU, MEMORY, GPU) at most once"),
    Invalid("definition-legacy-vcpus-0", edited(DEFINITION, {"spec.containerProperties.vcpus": 0}),
            "spec.containerProperties.vcpus", "greater than or equal to 1"),
    Invalid("definition-env-aws-batch",
            edited(DEFINITION, {"spec.containerProperties.environment": [{"name": "AWS_BATCH_JOB_ID", "value": "x"}]}),
            "spec.containerProperties.environment[0].name", "must not start with AWS_BATCH"),
    Invalid("definition-scheduling-priority-10000", edited(DEFINITION, {"spec.schedulingPriority": 10000}),
            "spec.schedulingPriority", "less than or equal to 9999"),
    Invalid("definition-attempts-11", edited(DEFINITION, {"spec.retryStrategy": retry(11)}),
            "spec.retryStrategy.attempts", "less than or equal to 10"),
    Invalid("definition-retry-rules-without-attempts",
            edited(DEFINITION, {"spec.retryStrategy": {"evaluateOnExit": [{"action": "EXIT", "onExitCode": "1"}]}}),
            "spec.retryStrategy.attempts", "attempts is required when evaluateOnExit is given"),
    Invalid("definition-main-node-equals-num-nodes", multinode(4, 4),
            "spec.nodeProperties.mainNode", "less than nodeProperties.numNodes"),
    Invalid("definition-target-nodes-dash-syntax", multinode(4, 0, "0-3"),
            "spec.nodeProperties.nodeRangeProperties[0].targetNodes", "should match"),
    Invalid("definition-target-nodes-past-last-node", multinode(4, 0, "0:4"),
            "spec.nodeProperties.nodeRangeProperties", "end < numNodes"),
    Invalid("definition-target-nodes-start-after-end", multinode(4, 0, "3:1"),
            "spec.nodeProperties.nodeRangeProperties", "start <= end"),
    Invalid("definition-node-ranges-miss-the-last-nodes", multinode(4, 0, "0:1"),
            "spec.nodeProperties.nodeRangeProperties", "must together cover every node from 0 to numNodes-1"),
    Invalid("definition-node-ranges-miss-node-0", multinode(4, 1, "1:"),
            "spec.nodeProperties.nodeRangeProperties", "must together cover every node"),
    Invalid("definition-node-ranges-leave-a-gap", multinode(8, 0, ":2", "3", "5:"),
            "spec.nodeProperties.nodeRangeProperties", "must together cover every node"),
    Invalid("definition-6-node-ranges", multinode(6, 0, *map(str, range(6))),
            "spec.nodeProperties.nodeRangeProperties", "at most 5 items"),
    Invalid("definition-multinode-on-fargate", on_fargate(multinode()),
            "spec.platformCapabilities", "multinode jobs cannot run on FARGATE"),
    # about three fields at once, so reported at spec
    Invalid("definition-container-and-eks-properties",
            edited(DEFINITION, {"spec.eksProperties": {"podProperties": {"containers": [{"image": "busybox"}]}}}),
            "spec", "exactly one of containerProperties or eksProperties"),
    # ComputeEnvironment
    Invalid("ce-min-vcpus-above-max", edited(CE, {"spec.computeResources.minvCpus": 32}),
            "spec.computeResources.minvCpus", "must not exceed computeResources.maxvCpus"),
    Invalid("ce-desired-vcpus-above-max", edited(CE, {"spec.computeResources.desiredvCpus": 32}),
            "spec.computeResources.desiredvCpus", "must not exceed computeResources.maxvCpus"),
    Invalid("ce-desired-vcpus-below-min",
            edited(CE, {"spec.computeResources.minvCpus": 8, "spec.computeResources.desiredvCpus": 4}),
            "spec.computeResources.desiredvCpus", "at least computeResources.minvCpus"),
    Invalid("ce-type-unknown", edited(CE, {"spec.type": "HYBRID"}), "spec.type", '"MANAGED", "UNMANAGED"'),
    Invalid("ce-state-unknown", edited(CE, {"spec.state": "PAUSED"}), "spec.state", '"ENABLED", "DISABLED"'),
    Invalid("ce-compute-type-unknown", edited(CE, {"spec.computeResources.type": "GPU"}),
            "spec.computeResources.type", '"EC2", "SPOT", "FARGATE", "FARGATE_SPOT"'),
    Invalid("ce-without-max-vcpus", edited(CE, {"spec.computeResources.maxvCpus": REMOVE}),
            "spec.computeResources.maxvCpus", "Required value"),
    Invalid("ce-bid-percentage-on-ec2", edited(CE, {"spec.computeResources.bidPercentage": 50}),
            "spec.computeResources.bidPercentage", "Forbidden: computeResources.bidPercentage applies only to type"),
    Invalid("ce-spot-strategy-on-ec2",
            edited(CE, {"spec.computeResources.allocationStrategy": "SPOT_PRICE_CAPACITY_OPTIMIZED"}),
            "spec.computeResources.allocationStrategy", "apply only to type SPOT"),
    Invalid("ce-bid-percentage-101",
            edited(CE, {"spec.computeResources.type": "SPOT", "spec.computeResources.bidPercentage": 101}),
            "spec.computeResources.bidPercentage", "less than or equal to 100"),
    Invalid("ce-fargate-with-min-vcpus", edited(CE, {"spec.computeResources.type": "FARGATE"}),
            "spec.computeResources.minvCpus", "Forbidden: computeResources.minvCpus does not apply to FARGATE"),
    Invalid("ce-fargate-spot-with-instance-types",
            edited(CE, {"spec.computeResources": {"type": "FARGATE_SPOT", "maxvCpus": 16, "instanceTypes": ["m5"]}}),
            "spec.computeResources.instanceTypes", "does not apply to FARGATE and FARGATE_SPOT"),
    Invalid("ce-unmanaged-with-compute-resources", edited(CE, {"spec.type": "UNMANAGED"}),
            "spec.computeResources", "Forbidden: computeResources must not be set when type is UNMANAGED"),
    Invalid("ce-managed-without-compute-resources", edited(CE, {"spec.computeResources": REMOVE}),
            "spec.computeResources", "Required value: computeResources is required when type is MANAGED"),
    Invalid("ce-aws-only-field-subnets", edited(CE, {"spec.computeResources.subnets": ["subnet-xxxxx"]}),
            "spec.computeResources.subnets", "unknown field"),
    # JobQueue
    Invalid("queue-priority-1001", edited(QUEUE, {"spec.priority": 1001}),
            "spec.priority", "less than or equal to 1000"),
    Invalid("queue-priority-minus-1", edited(QUEUE, {"spec.priority": -1}),
            "spec.priority", "greater than or equal to 0"),
    Invalid("queue-0-compute-environments", ces(), "spec.computeEnvironmentOrder", "at least 1 items"),
    Invalid("queue-4-compute-environments", ces(1, 2, 3, 4), "spec.computeEnvironmentOrder", "at most 3 items"),
    Invalid("queue-duplicate-orders", ces(1, 1), "spec.computeEnvironmentOrder", "order values must be distinct"),
    Invalid("queue-same-ce-twice",
            edited(QUEUE, {"spec.computeEnvironmentOrder": [{"order": i, "computeEnvironment": "ce-a"}
                                                            for i in (1, 2)]}),
            "spec.computeEnvironmentOrder", "must not name an environment twice"),
    Invalid("queue-state-unknown", edited(QUEUE, {"spec.state": "PAUSED"}), "spec.state", '"ENABLED", "DISABLED"'),
    Invalid("queue-time-limit-action-terminate", time_limit(action="TERMINATE"),
            "spec.jobStateTimeLimitActions[0].action", '"CANCEL"'),
    Invalid("queue-time-limit-state-running", time_limit(state="RUNNING"),
            "spec.jobStateTimeLimitActions[0].state", '"RUNNABLE"'),
    Invalid("queue-time-limit-10-seconds", time_limit(seconds=10),
            "spec.jobStateTimeLimitActions[0].maxTimeSeconds", "greater than or equal to 600"),
    # SchedulingPolicy
    Invalid("policy-weight-factor-1000", share(1000), "spec.fairsharePolicy.shareDistribution[0].weightFactor",
            "less than or equal to 999"),
    # a whole number is checked against the bounds truncated to integers (0 and 999): the CEL rule catches it
    Invalid("policy-weight-factor-0", share(0), "spec.fairsharePolicy.shareDistribution[0].weightFactor",
            "weightFactor must be between 0.0001 and 999.9999"),
    Invalid("policy-weight-factor-0.00001", share(0.00001), "spec.fairsharePolicy.shareDistribution[0].weightFactor",
            "greater than or equal to 0.0001"),
    Invalid("policy-compute-reservation-100", edited(POLICY, {"spec.fairsharePolicy.computeReservation": 100}),
            "spec.fairsharePolicy.computeReservation", "less than or equal to 99"),
    Invalid("policy-share-decay-over-a-week", edited(POLICY, {"spec.fairsharePolicy.shareDecaySeconds": 604801}),
            "spec.fairsharePolicy.shareDecaySeconds", "less than or equal to 604800"),
    Invalid("policy-share-identifier-star-inside", share(1, "team*A"),
            "spec.fairsharePolicy.shareDistribution[0].shareIdentifier", "should match"),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in INVALID])
def test_invalid_object_is_rejected_naming_the_field(kubectl: Kubectl, namespace: str, case: Invalid) -> None:
    result = dry_run(kubectl, case.manifest, namespace)
    assert result.returncode != 0, f"accepted: {result.stdout}"
    assert reported_at(result.stderr, case.field) and case.says in result.stderr, result.stderr


# AWS's documented examples (../shared/seeds): the same request bodies the unit tests give
# the pydantic models, here sent to the API server. A spec is the AWS request without its
# name and the AWS-only networking and IAM fields.
AWS_QUEUE = {"priority": 10, "state": "ENABLED", "computeEnvironmentOrder": [
    {"computeEnvironment": "my-fargate-env", "order": 1}, {"computeEnvironment": "my-ec2-env", "order": 2}]}
AWS_RETRY_ON_REASON = {"attempts": 3, "evaluateOnExit": [
    {"action": "RETRY", "onReason": "HostUsageError"},
    {"action": "RETRY", "onReason": "NonZeroExitCode"},
    {"action": "EXIT", "onReason": "TaskFailed"},
]}


def aws_compute_environment(kind: str) -> dict:
    return edited(CE, {"metadata.name": unique(f"aws-{kind}"),
                       "spec": without_aws_only(aws_examples.COMPUTE_ENVIRONMENTS[kind])})


VALID = {
    # AWS's examples, unchanged but for the name and the AWS-only fields
    "aws-job-definition": edited(DEFINITION, {"spec": aws_examples.REGISTER_JOB_DEFINITION}),
    "aws-multinode-definition": edited(DEFINITION, {"spec": aws_examples.MPI_DEFINITION}),
    "aws-eks-definition": edited(DEFINITION, {"spec": aws_examples.EKS_DEFINITION}),
    **{f"aws-{kind}-ce": aws_compute_environment(kind) for kind in sorted(aws_examples.COMPUTE_ENVIRONMENTS)},
    "aws-queue-fargate-then-ec2": edited(QUEUE, {"spec": AWS_QUEUE}),
    "aws-retry-on-reason": edited(JOB, {"spec.retryStrategy": AWS_RETRY_ON_REASON}),
    "aws-array-job-size-100": edited(JOB, {"spec.arrayProperties": {"size": 100}}),
    "aws-n-to-n-dependency": edited(JOB, {"spec.arrayProperties": {"size": 100},
                                          "spec.dependsOn": [{"jobId": "xxxxx", "type": "N_TO_N"}]}),
    # the other side of each bound
    "job-array-size-2": edited(JOB, {"spec.arrayProperties": {"size": 2}}),
    "job-array-size-10000": edited(JOB, {"spec.arrayProperties": {"size": 10000}}),
    "job-20-depends-on": edited(JOB, {"spec.dependsOn": depends_on(20)}),
    "job-sequential-without-job-id": edited(JOB, {"spec.arrayProperties": {"size": 3},
                                                  "spec.dependsOn": [{"type": "SEQUENTIAL"}]}),
    "job-attempts-1": edited(JOB, {"spec.retryStrategy": retry(1)}),
    "job-attempts-10-with-5-rules": edited(JOB, {"spec.retryStrategy": retry(10, *[
        {"action": "retry", "onExitCode": f"{i}*"} for i in range(5)])}),
    "job-512-char-pattern": edited(JOB, {"spec.retryStrategy": retry(2, {"action": "EXIT",
                                                                         "onStatusReason": "a" * 511 + "*"})}),
    "job-attempt-duration-60": edited(JOB, {"spec.timeout": {"attemptDurationSeconds": 60}}),
    "job-sim-tags": edited(JOB, {"spec.propagateTags": True, "spec.tags": {"kubatch.io/sim-run-seconds": "5"}}),
    "definition-scheduling-priority-9999": edited(DEFINITION, {"spec.schedulingPriority": 9999}),
    "definition-fargate-16-vcpu": on_fargate(with_vcpus("16")),
    "definition-fargate-16-vcpu-120-gib": on_fargate(with_resources(("VCPU", "16"), ("MEMORY", "122880"))),
    "definition-fargate-quarter-vcpu": on_fargate(with_resources(("VCPU", "0.25"), ("MEMORY", "512"))),
    "definition-fargate-legacy-120-gib": on_fargate(edited(DEFINITION, {
        "spec.containerProperties.resourceRequirements": REMOVE, "spec.containerProperties.vcpus": 16,
        "spec.containerProperties.memory": 122880})),
    "definition-ec2-64-vcpu": with_vcpus("64"),
    "definition-ec2-200000-mib": with_resources(("VCPU", "1"), ("MEMORY", "200000")),
    "definition-smallest-amounts": with_resources(("VCPU", "0.01"), ("MEMORY", "4"), ("GPU", "1")),
    "definition-5-node-ranges": multinode(8, 7, "0", "1", "2:3", "4:", ":7"),
    "definition-node-ranges-in-pieces": multinode(8, 0, ":2", "3", "4:6", "7:"),
    "definition-1000-nodes-one-open-range": multinode(1000, 999, ":"),
    "definition-single-node": multinode(1, 0, "0"),
    "ce-unmanaged": edited(CE, {"spec.type": "UNMANAGED", "spec.computeResources": REMOVE}),
    "job-eks-override-without-name": eks_override({"image": "busybox:1.36"}),  # optional in AWS's model
    "job-eks-override-by-name": eks_override({"name": "main", "env": [{"name": "GREETING", "value": "bonjour"}]},
                                             {"name": "sidecar", "image": "busybox:1.36"}),
    "ce-min-desired-max-equal": edited(CE, {"spec.computeResources.minvCpus": 16,
                                            "spec.computeResources.desiredvCpus": 16}),
    "queue-priority-0": edited(QUEUE, {"spec.priority": 0}),
    "queue-time-limit-cancel-after-a-day": time_limit(seconds=86400),
    "queue-priority-1000-with-3-ces": edited(ces(3, 1, 2), {"spec.priority": 1000}),
    "policy-weight-factor-0.0001": share(0.0001),
    "policy-weight-factor-999.9999": share(999.9999),
    "policy-weight-factor-whole-999": share(999),
    "policy-compute-reservation-99": edited(POLICY, {"spec.fairsharePolicy.computeReservation": 99}),
    "policy-share-identifier-prefix": share(0.5, "team*"),
}


@pytest.mark.parametrize("manifest", [pytest.param(m, id=name) for name, m in VALID.items()])
def test_valid_object_is_accepted(kubectl: Kubectl, namespace: str, manifest: dict) -> None:
    result = dry_run(kubectl, manifest, namespace)
    assert result.returncode == 0, result.stderr


# Transition rules: (created spec extras, merge patch of the spec, field, rest of the message)
IMMUTABLE, SET_ONCE = "is immutable", "cannot be changed or removed once set"
TRANSITIONS = {
    "job-queue-changed": ({}, {"jobQueue": "other-queue"}, "spec.jobQueue", IMMUTABLE),
    "job-definition-changed": ({}, {"jobDefinition": "val-jd:2"}, "spec.jobDefinition", IMMUTABLE),
    "array-size-changed": ({"arrayProperties": {"size": 2}}, {"arrayProperties": {"size": 3}},
                           "spec.arrayProperties", IMMUTABLE),
    "array-properties-added": ({}, {"arrayProperties": {"size": 2}}, "spec.arrayProperties", IMMUTABLE),
    "depends-on-changed": ({"dependsOn": [{"jobId": "first"}]}, {"dependsOn": [{"jobId": "second"}]},
                           "spec.dependsOn", IMMUTABLE),
    "depends-on-removed": ({"dependsOn": [{"jobId": "first"}]}, {"dependsOn": None}, "spec.dependsOn", IMMUTABLE),
    "retry-strategy-changed": ({"retryStrategy": {"attempts": 2}}, {"retryStrategy": {"attempts": 5}},
                               "spec.retryStrategy", IMMUTABLE),
    "cancel-request-removed": ({"cancelRequest": {"reason": "not needed"}}, {"cancelRequest": None},
                               "spec.cancelRequest", SET_ONCE),
    "cancel-request-reason-changed": ({"cancelRequest": {"reason": "not needed"}},
                                      {"cancelRequest": {"reason": "changed my mind"}},
                                      "spec.cancelRequest", SET_ONCE),
    "terminate-request-removed": ({"terminateRequest": {"reason": "stuck"}}, {"terminateRequest": None},
                                  "spec.terminateRequest", SET_ONCE),
}
ALLOWED_CHANGES = {
    "cancel-request-added": ({}, {"cancelRequest": {"reason": "not needed"}}),
    "terminate-request-added-after-cancel": ({"cancelRequest": {"reason": "a"}}, {"terminateRequest": {"reason": "b"}}),
    "tags-changed": ({"tags": {"team": "a"}}, {"tags": {"team": "b"}}),
}


def patch_created_job(kubectl: Kubectl, namespace: str, created: dict,
                      patch: dict) -> subprocess.CompletedProcess[str]:
    name = unique("immutable")
    kubectl.apply(edited(batch_job(name, definition="val-jd", queue="val-jq"),
                         {f"spec.{k}": v for k, v in created.items()}), namespace=namespace)
    return kubectl.run("patch", "batchjob", name, "-n", namespace, "--type=merge", "--dry-run=server",
                       "-p", json.dumps({"spec": patch}), check=False)


@pytest.mark.parametrize(("created", "patch", "field", "says"),
                         [pytest.param(*case, id=name) for name, case in TRANSITIONS.items()])
def test_submitted_job_field_cannot_change(kubectl: Kubectl, namespace: str, created: dict, patch: dict,
                                           field: str, says: str) -> None:
    result = patch_created_job(kubectl, namespace, created, patch)
    assert result.returncode != 0, f"accepted: {result.stdout}"
    assert f"{field}: Invalid value: {field} {says}" in result.stderr, result.stderr


@pytest.mark.parametrize(("created", "patch"), [pytest.param(*case, id=name) for name, case in ALLOWED_CHANGES.items()])
def test_submitted_job_accepts_requests_and_tags(kubectl: Kubectl, namespace: str, created: dict,
                                                 patch: dict) -> None:
    result = patch_created_job(kubectl, namespace, created, patch)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("created_policy", "patched_policy", "refused"), [
    pytest.param(None, "val-sp", True, id="policy-added-to-a-fifo-queue"),
    pytest.param("val-sp", None, True, id="policy-removed-from-a-fair-share-queue"),
    pytest.param("val-sp", "other-sp", False, id="policy-replaced"),
])
def test_a_queue_is_fifo_or_fair_share_for_life(kubectl: Kubectl, created_policy: str | None,
                                                patched_policy: str | None, refused: bool) -> None:
    """AWS: a FIFO queue can't have a scheduling policy added; a fair-share queue's can be replaced, not removed."""
    name = unique("val-jq-life")
    queue = job_queue(name, "ce-a")
    if created_policy:
        queue["spec"]["schedulingPolicy"] = created_policy
    kubectl.apply(queue)
    try:
        result = kubectl.run("patch", "jobqueue", name, "--type=merge", "--dry-run=server",
                             "-p", json.dumps({"spec": {"schedulingPolicy": patched_policy}}), check=False)
    finally:
        kubectl.run("delete", "jobqueue", name, "--wait=false", check=False)
    if refused:
        assert result.returncode != 0, f"accepted: {result.stdout}"
        assert "spec.schedulingPolicy: Forbidden: schedulingPolicy can be replaced, but not added" in result.stderr, \
            result.stderr
    else:
        assert result.returncode == 0, result.stderr


EXPLAINED = {
    "batchjob.spec.retryStrategy": ("attempts", "evaluateOnExit", "1 to 10"),
    "computeenvironment.spec.computeResources.maxvCpus": ("quota", "vCPUs"),
    "jobqueue.spec.computeEnvironmentOrder": ("1 to 3", "ascending order"),
    "schedulingpolicy.spec.fairsharePolicy.shareDistribution.weightFactor": ("0.0001", "999.9999"),
    "jobdefinition.spec.timeout.attemptDurationSeconds": ("JobTimeout", "at least 60"),
}


@pytest.mark.parametrize(("field", "words"), [pytest.param(*item, id=item[0]) for item in EXPLAINED.items()])
def test_kubectl_explain_teaches_the_field(kubectl: Kubectl, field: str, words: tuple[str, ...]) -> None:
    out = kubectl.run("explain", field).stdout
    description = out.split("DESCRIPTION:", 1)[1].strip()
    assert description and all(word in out for word in words), out
